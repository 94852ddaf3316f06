//! A scripted OpenAI-compatible server on loopback, over real HTTP. Each request to
//! `/v1/chat/completions` gets the next reply of its script (the last one repeats) and is
//! recorded with its Authorization header, so tests can check what the crew sent. Requests
//! that offer tools (employees at work) and those that do not (the planner, `doctor`) follow
//! separate scripts.
//!
//! It runs on its own thread and runtime, so tests may block on the real binary meanwhile.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

#[derive(Debug, Clone)]
pub enum Reply {
    /// 200 with a chat completion whose message content is this text.
    Content(String),
    /// 200 with a chat completion that calls these tools: (name, arguments text).
    Tools(Vec<(&'static str, String)>),
    /// Another status with an OpenAI-style error body.
    Status(u16, &'static str),
    /// 200 with a body that is not JSON.
    Garbage(&'static str),
    /// The reply, after a pause.
    Slow(Duration, Box<Reply>),
    /// An employee that does the task it was given: it calls the task's skill with the task's
    /// arguments, and once that tool's result is back, says it is done.
    DoTheTask,
}

#[derive(Debug, Clone)]
pub struct Recorded {
    pub body: Value,
    pub authorization: Option<String>,
}

#[derive(Clone)]
struct Shared {
    plain: Arc<Vec<Reply>>,
    tools: Arc<Vec<Reply>>,
    requests: Arc<Mutex<Vec<Recorded>>>,
    /// Requests so far without tools and with them: each one's place in its script.
    counts: Arc<Mutex<(usize, usize)>>,
}

pub struct FakeModel {
    /// The base URL to give as OPENAI_BASE_URL (ends in `/v1`).
    pub url: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

impl FakeModel {
    /// A model configuration pointing at this server: no retries, four steps per task.
    pub fn config(&self) -> shopcrew::config::ModelConfig {
        shopcrew::config::ModelConfig {
            timeout_secs: 30,
            retries: 0,
            plan_retries: 0,
            max_steps: 4,
            ..shopcrew::config::ModelConfig::new(self.url.clone(), "fake")
        }
    }

    /// One script for every request.
    pub fn start(script: Vec<Reply>) -> FakeModel {
        FakeModel::with(script.clone(), script)
    }

    /// `plain` answers requests without tools (planning), `tools` those with tools (work).
    pub fn with(plain: Vec<Reply>, tools: Vec<Reply>) -> FakeModel {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let shared = Shared {
            plain: Arc::new(plain),
            tools: Arc::new(tools),
            requests: requests.clone(),
            counts: Arc::default(),
        };
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
                tx.send(listener.local_addr().expect("address")).expect("report address");
                let app = Router::new().route("/v1/chat/completions", post(answer)).with_state(shared);
                axum::serve(listener, app).await.expect("serve");
            });
        });
        let addr = rx.recv().expect("server address");
        FakeModel { url: format!("http://{addr}/v1"), requests }
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().expect("requests").clone()
    }
}

async fn answer(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let authorization = headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_string);
    let with_tools = body.get("tools").is_some_and(|t| t.is_array());
    let n = {
        let mut counts = shared.counts.lock().expect("counts");
        let n = if with_tools { &mut counts.1 } else { &mut counts.0 };
        *n += 1;
        *n
    };
    shared.requests.lock().expect("requests").push(Recorded { body: body.clone(), authorization });
    let script = if with_tools { &shared.tools } else { &shared.plain };
    let reply = script.get(n - 1).or(script.last()).cloned().unwrap_or(Reply::Status(500, "empty script"));
    respond(reply, &body).await
}

/// The tool call for the task in the conversation, or "done" after its result.
fn do_the_task(body: &Value) -> Reply {
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    if messages.last().is_some_and(|m| m["role"] == "tool") {
        return Reply::Content("done".into());
    }
    let task =
        messages.iter().find_map(|m| m["content"].as_str()?.strip_prefix("Do this task now: ").map(str::to_string));
    let Some((skill, rest)) = task.as_deref().and_then(|t| t.split_once(" with arguments ")) else {
        return Reply::Status(500, "no task in the conversation");
    };
    let args = rest.rsplit_once(". Then").map_or(rest, |(args, _)| args);
    Reply::Tools(vec![(Box::leak(skill.replace('.', "__").into_boxed_str()), args.to_string())])
}

async fn respond(reply: Reply, request: &Value) -> Response {
    let mut reply = reply;
    while let Reply::Slow(pause, inner) = reply {
        tokio::time::sleep(pause).await;
        reply = *inner;
    }
    if let Reply::DoTheTask = reply {
        reply = do_the_task(request);
    }
    match reply {
        Reply::Content(text) => axum::Json(completion(&text)).into_response(),
        Reply::Tools(calls) => axum::Json(tool_calls(&calls)).into_response(),
        Reply::Status(code, message) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let body = json!({"error": {"message": message, "type": "fake_error", "param": null, "code": null}});
            (status, axum::Json(body)).into_response()
        }
        Reply::Garbage(text) => (StatusCode::OK, text).into_response(),
        Reply::Slow(..) | Reply::DoTheTask => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// An OpenAI chat completion body.
pub fn completion(content: &str) -> Value {
    json!({
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 1_790_000_000u32,
        "model": "fake-model",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content},
            "finish_reason": "stop"
        }],
        "usage": {"prompt_tokens": 1200, "completion_tokens": 80, "total_tokens": 1280}
    })
}

/// A chat completion that asks for tool calls.
pub fn tool_calls(calls: &[(&str, String)]) -> Value {
    let calls: Vec<Value> = calls
        .iter()
        .enumerate()
        .map(|(i, (name, args))| json!({"id": format!("call_{i}"), "type": "function", "function": {"name": name, "arguments": args}}))
        .collect();
    json!({
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 1_790_000_000u32,
        "model": "fake-model",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": null, "tool_calls": calls},
            "finish_reason": "tool_calls"
        }],
        "usage": {"prompt_tokens": 900, "completion_tokens": 40, "total_tokens": 940}
    })
}
