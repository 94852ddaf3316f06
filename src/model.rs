//! One OpenAI-compatible chat model, called through `async-openai`, with bounded retries.
//!
//! `async-openai`'s own retry layer retries 429, 5xx and refused connections three times with
//! exponential backoff, honouring `Retry-After`; on top of that a call that times out is tried
//! again, at most `retries` times. Anything else fails at once. Errors carry the status and
//! the server's message, never the key. Every call reports its token usage so the caller can
//! log and price it.

use std::time::{Duration, Instant};

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::types::chat::{
    ChatCompletionMessageToolCall, ChatCompletionMessageToolCalls, ChatCompletionRequestAssistantMessage,
    ChatCompletionRequestMessage, ChatCompletionRequestSystemMessage, ChatCompletionRequestToolMessage,
    ChatCompletionRequestUserMessage, ChatCompletionTool, ChatCompletionTools, CreateChatCompletionRequest,
    FunctionCall, FunctionObject, ResponseFormat, ResponseFormatJsonSchema,
};
use serde::Serialize;

use crate::config::ModelConfig;

/// Why a model call gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("the model at {url} could not be reached ({reason}); check OPENAI_BASE_URL or run `shopcrew doctor`")]
    Unreachable { url: String, reason: String },
    #[error("the model answered {status}: {message}")]
    Status { status: u16, message: String },
    #[error("the model's answer could not be read: {0}")]
    Garbled(String),
    #[error("the model request could not be built: {0}")]
    Request(String),
}

/// One message of a conversation with the model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "role", content = "content", rename_all = "snake_case")]
pub enum Message {
    System(String),
    User(String),
    Assistant(String),
    /// The model asked for these tool calls.
    ToolCalls(Vec<ToolCall>),
    /// The result of one tool call.
    Tool {
        call_id: String,
        content: String,
    },
}

/// A tool the model may call: a name (letters, digits, `_`, `-`), what it does, and the JSON
/// schema of its arguments.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolSpec {
    pub name: String,
    pub description: String,
    pub parameters: serde_json::Value,
}

/// A call the model asked for; `arguments` is the model's text, to be parsed by the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    pub arguments: String,
}

/// What the model did on its turn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Turn {
    Text(String),
    ToolCalls(Vec<ToolCall>),
}

/// What one call cost and how it went, for the work log.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CallRecord {
    pub model: String,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// HTTP attempts, 1 when the first one answered.
    pub attempts: u32,
    pub millis: u64,
    /// Yuan, when the price table knows the model.
    pub cost_yuan: Option<f64>,
}

#[derive(Clone)]
pub struct ModelClient {
    client: Client<OpenAIConfig>,
    config: ModelConfig,
}

impl std::fmt::Debug for ModelClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelClient").field("config", &self.config).finish_non_exhaustive()
    }
}

impl ModelClient {
    pub fn new(config: ModelConfig) -> Result<ModelClient, ModelError> {
        let mut openai = OpenAIConfig::new().with_api_base(&config.base_url);
        if let Some(key) = &config.api_key {
            openai = openai.with_api_key(key.expose());
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(config.timeout_secs))
            .connect_timeout(Duration::from_secs(config.timeout_secs.min(10)))
            .build()
            .map_err(|e| ModelError::Request(e.to_string()))?;
        Ok(ModelClient { client: Client::with_config(openai).with_http_client(http), config })
    }

    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// The model an employee talks to (its override, or the default).
    pub fn model_for(&self, employee: Option<&str>) -> &str {
        employee.and_then(|e| self.config.employee_models.get(e)).unwrap_or(&self.config.model)
    }

    /// Asks for a JSON answer following `schema` (named `name`); returns the answer's text.
    pub async fn chat_json(
        &self,
        employee: Option<&str>,
        messages: &[Message],
        name: &str,
        schema: serde_json::Value,
    ) -> Result<(String, CallRecord), ModelError> {
        let format = ResponseFormat::JsonSchema {
            json_schema: ResponseFormatJsonSchema {
                description: None,
                name: name.to_string(),
                schema,
                strict: Some(false),
            },
        };
        let (turn, record) = self.call(employee, messages, Some(format), &[]).await?;
        match turn {
            Turn::Text(text) => Ok((text, record)),
            Turn::ToolCalls(_) => Err(ModelError::Garbled("it called a tool where a JSON answer was asked for".into())),
        }
    }

    /// One turn of a tool-calling conversation: the model answers in text or asks for calls.
    pub async fn chat_tools(
        &self,
        employee: Option<&str>,
        messages: &[Message],
        tools: &[ToolSpec],
    ) -> Result<(Turn, CallRecord), ModelError> {
        self.call(employee, messages, None, tools).await
    }

    async fn call(
        &self,
        employee: Option<&str>,
        messages: &[Message],
        format: Option<ResponseFormat>,
        tools: &[ToolSpec],
    ) -> Result<(Turn, CallRecord), ModelError> {
        let model = self.model_for(employee).to_string();
        let request = CreateChatCompletionRequest {
            model: model.clone(),
            messages: messages.iter().map(to_request_message).collect(),
            response_format: format,
            tools: (!tools.is_empty()).then(|| tools.iter().map(to_tool).collect()),
            temperature: Some(0.0),
            ..Default::default()
        };
        let started = Instant::now();
        let mut attempts = 0;
        loop {
            attempts += 1;
            match self.client.chat().create(request.clone()).await {
                Ok(response) => {
                    let usage = response.usage.as_ref();
                    let mut record = CallRecord {
                        model: model.clone(),
                        prompt_tokens: usage.map_or(0, |u| u64::from(u.prompt_tokens)),
                        completion_tokens: usage.map_or(0, |u| u64::from(u.completion_tokens)),
                        attempts,
                        millis: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                        cost_yuan: None,
                    };
                    record.cost_yuan = self.config.prices.get(&model).map(|p| {
                        (record.prompt_tokens as f64 * p.prompt_per_million
                            + record.completion_tokens as f64 * p.completion_per_million)
                            / 1_000_000.0
                    });
                    let message = response
                        .choices
                        .into_iter()
                        .next()
                        .map(|c| c.message)
                        .ok_or_else(|| ModelError::Garbled("the answer has no choices".into()))?;
                    let calls: Vec<ToolCall> = message
                        .tool_calls
                        .unwrap_or_default()
                        .into_iter()
                        .filter_map(|c| match c {
                            ChatCompletionMessageToolCalls::Function(f) => {
                                Some(ToolCall { id: f.id, name: f.function.name, arguments: f.function.arguments })
                            }
                            ChatCompletionMessageToolCalls::Custom(_) => None,
                        })
                        .collect();
                    if !calls.is_empty() {
                        return Ok((Turn::ToolCalls(calls), record));
                    }
                    let text = message
                        .content
                        .ok_or_else(|| ModelError::Garbled("the answer has neither text nor tool calls".into()))?;
                    return Ok((Turn::Text(text), record));
                }
                Err(e) => {
                    let (retry, error) = self.classify(e);
                    if !retry || attempts > self.config.retries {
                        return Err(error);
                    }
                    let wait = Duration::from_millis(200u64.saturating_mul(1 << attempts.min(6)));
                    tracing::warn!(attempt = attempts, wait_ms = wait.as_millis() as u64, "model call failed: {error}");
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    /// Whether an error is worth another attempt, and what to tell the owner.
    fn classify(&self, e: OpenAIError) -> (bool, ModelError) {
        match e {
            OpenAIError::ApiError(api) => {
                let status = api.status_code.as_u16();
                (false, ModelError::Status { status, message: api.api_error.message })
            }
            OpenAIError::Reqwest(err) => {
                // Statuses and refused connections were retried below us already.
                let retry = err.is_timeout();
                let reason = if err.is_timeout() {
                    format!("no answer within {} s", self.config.timeout_secs)
                } else if err.is_connect() {
                    "connection refused or unreachable".to_string()
                } else {
                    // reqwest's text can hold the URL but never the key (it is a header).
                    err.without_url().to_string()
                };
                (retry, ModelError::Unreachable { url: self.config.base_url.clone(), reason })
            }
            OpenAIError::JSONDeserialize(err, _) => (false, ModelError::Garbled(err.to_string())),
            other => (false, ModelError::Garbled(other.to_string())),
        }
    }
}

fn to_request_message(m: &Message) -> ChatCompletionRequestMessage {
    match m {
        Message::System(text) => ChatCompletionRequestSystemMessage::from(text.as_str()).into(),
        Message::User(text) => ChatCompletionRequestUserMessage::from(text.as_str()).into(),
        Message::Assistant(text) => ChatCompletionRequestAssistantMessage::from(text.as_str()).into(),
        Message::ToolCalls(calls) => ChatCompletionRequestAssistantMessage {
            tool_calls: Some(
                calls
                    .iter()
                    .map(|c| {
                        ChatCompletionMessageToolCalls::Function(ChatCompletionMessageToolCall {
                            id: c.id.clone(),
                            function: FunctionCall { name: c.name.clone(), arguments: c.arguments.clone() },
                        })
                    })
                    .collect(),
            ),
            ..Default::default()
        }
        .into(),
        Message::Tool { call_id, content } => {
            ChatCompletionRequestToolMessage { content: content.as_str().into(), tool_call_id: call_id.clone() }.into()
        }
    }
}

fn to_tool(t: &ToolSpec) -> ChatCompletionTools {
    ChatCompletionTools::Function(ChatCompletionTool {
        function: FunctionObject {
            name: t.name.clone(),
            description: Some(t.description.clone()),
            parameters: Some(t.parameters.clone()),
            strict: None,
        },
    })
}
