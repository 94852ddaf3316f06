//! The model planner: the owner's request, the employees, the skills with their argument
//! schemas and the shop's context go to the model (prompt `prompts/planner.j2`), which answers
//! with a plan as JSON following a schema generated from the plan type. The plan is checked
//! like any other (employees, skills, arguments, no cycle); the errors go back to the model
//! for `plan_retries` more tries, and then the caller falls back to the offline planner.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::model::{CallRecord, Message, ModelClient, ModelError};
use crate::plan::{Plan, ShopContext, Task};
use crate::planner::{NotUnderstood, Planned};
use crate::skills::Registry;

/// What the model must answer with.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelPlan {
    /// The tasks; empty when none of the skills can do anything of the request.
    pub tasks: Vec<Task>,
    /// The parts of the request no skill can do, in the owner's words.
    #[serde(default)]
    pub not_understood: Vec<String>,
}

/// How the model planner ended.
#[derive(Debug)]
pub struct ModelPlanning {
    /// The plan, or `None` when the model gave no usable plan (see `failure`).
    pub planned: Option<Planned>,
    pub calls: Vec<CallRecord>,
    /// Why there is no plan: the last invalid answer's errors, or the call error.
    pub failure: Option<String>,
}

/// Plans `request` with the model. `check` validates a plan exactly as the crew will.
pub async fn plan(
    client: &ModelClient,
    catalog: &Catalog,
    registry: &Registry,
    context: &ShopContext,
    timezone: &str,
    request: &str,
    check: &(dyn Fn(&Plan) -> Result<()> + Sync),
) -> Result<ModelPlanning> {
    let system = prompt(catalog, registry, context, timezone)?;
    let mut messages = vec![Message::System(system), Message::User(request.to_string())];
    let schema = serde_json::to_value(schemars::schema_for!(ModelPlan)).unwrap_or_default();
    let mut calls = Vec::new();
    for _ in 0..=client.config().plan_retries {
        let (text, record) = match client.chat_json(None, &messages, "plan", schema.clone()).await {
            Ok(answer) => answer,
            Err(e @ (ModelError::Unreachable { .. } | ModelError::Status { .. } | ModelError::Request(_))) => {
                return Ok(ModelPlanning { planned: None, calls, failure: Some(e.to_string()) });
            }
            Err(ModelError::Garbled(e)) => {
                messages.push(Message::User(format!(
                    "Your answer could not be read ({e}). Answer with the JSON plan only."
                )));
                continue;
            }
        };
        calls.push(record);
        match read(&text, request, check) {
            Ok(planned) => return Ok(ModelPlanning { planned: Some(planned), calls, failure: None }),
            Err(problem) => {
                tracing::info!("model plan rejected: {problem}");
                messages.push(Message::Assistant(text));
                messages.push(Message::User(format!(
                    "That plan cannot be used: {problem}. Answer again with a corrected JSON plan."
                )));
            }
        }
    }
    let failure = messages
        .iter()
        .rev()
        .find_map(|m| match m {
            Message::User(text) if !text.is_empty() => Some(text.clone()),
            _ => None,
        })
        .unwrap_or_default();
    Ok(ModelPlanning { planned: None, calls, failure: Some(failure) })
}

/// Reads and checks an answer; the error says what to fix.
fn read(text: &str, request: &str, check: &dyn Fn(&Plan) -> Result<()>) -> std::result::Result<Planned, String> {
    let answer: ModelPlan =
        serde_json::from_str(text.trim()).map_err(|e| format!("it is not the JSON asked for ({e})"))?;
    if answer.tasks.is_empty() {
        if answer.not_understood.is_empty() {
            return Err("it has no task and says nothing was unclear".into());
        }
        return Ok(Planned::NotUnderstood(NotUnderstood::from_model(request, answer.not_understood)));
    }
    let plan = Plan { request: request.to_string(), tasks: answer.tasks };
    check(&plan).map_err(|e| e.to_string())?;
    Ok(Planned::Plan(plan))
}

fn prompt(catalog: &Catalog, registry: &Registry, context: &ShopContext, timezone: &str) -> Result<String> {
    let template = catalog
        .prompts
        .get("planner")
        .ok_or_else(|| Error::Invalid("prompts/planner.j2 is missing from the home".into()))?;
    let skills: Vec<serde_json::Value> = catalog
        .skills
        .iter()
        .map(|s| {
            let schema = registry.get(&s.id).map(|k| k.schema()).unwrap_or_default();
            serde_json::json!({
                "id": s.id, "employee": s.employee, "description": s.description,
                "schema": serde_json::to_string(&schema).unwrap_or_default(),
            })
        })
        .collect();
    let data = serde_json::json!({"categories": context.categories, "products": context.products});
    let mut env = minijinja::Environment::new();
    env.add_template("planner", template).map_err(|e| Error::Invalid(format!("prompts/planner.j2: {e}")))?;
    let rendered = env
        .get_template("planner")
        .and_then(|t| {
            t.render(minijinja::context! {
                shop => serde_json::json!({"title": context.title, "currency": context.currency, "timezone": timezone}),
                employees => catalog.workers().collect::<Vec<_>>(),
                skills => skills,
                today => context.today.to_string(),
                catalog => serde_json::to_string(&data).unwrap_or_default(),
            })
        })
        .map_err(|e| Error::Invalid(format!("prompts/planner.j2: {e}")))?;
    Ok(rendered)
}
