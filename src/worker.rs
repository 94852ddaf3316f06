//! Employee workers: with a model configured, each task of a plan is done by its employee in
//! a tool-calling loop. The tools are the employee's skills (argument schemas from their Rust
//! types) and read-only lookups of the store. Every skill call goes through the same gated
//! step as anywhere else; a refusal goes back to the model as the tool's result, with the
//! rule and the reason. Store content reaches the model only inside `<data>` blocks.
//!
//! The loop ends when the model answers in words (its summary of the task), when an action
//! waits for the owner, or after `max_steps` model turns. Malformed arguments, unknown tools
//! and wrong types go back to the model as errors and are counted.

use serde::Serialize;
use sqlx::Row;

use crate::crew::Crew;
use crate::error::{Error, Result};
use crate::lang::Text;
use crate::model::{CallRecord, Message, ModelClient, ToolCall, ToolSpec, Turn};
use crate::plan::Task;
use crate::skills::{StepReport, StepRequest, StepStatus};
use crate::worklog::Actor;

/// The read-only lookups every employee has, beside its skills.
const LOOKUPS: [(&str, &str); 5] = [
    (
        "lookup_products",
        "Products: SKU, title, category, price, cost, stock. Optional: category, query (part of a title or SKU).",
    ),
    ("lookup_orders", "Recent orders with their status and refunds. Optional: order (number), customer (code), limit."),
    ("lookup_customers", "Customers with their order count and spend. Optional: customer (code), limit."),
    ("lookup_inbox", "Customer messages. Optional: status (open, answered, escalated), limit."),
    ("lookup_log", "The most recent work-log entries. Optional: limit."),
];

/// How a worker's task went, for the owner and the log.
#[derive(Debug, Clone, Serialize)]
pub struct WorkerRun {
    /// The last skill call's report (its status decides the task's), or a report of its own
    /// when the employee called no skill.
    pub report: StepReport,
    pub calls: Vec<CallRecord>,
    pub steps: u32,
    /// Tool calls that could not be run: unknown tools, unreadable or wrong arguments.
    pub tool_errors: u32,
    /// Why the model stopped answering, when it did; the calls before it are still listed.
    pub model_error: Option<String>,
}

/// A skill's tool name: the id with `.` as `__` (tool names allow no dots).
pub fn tool_name(skill: &str) -> String {
    skill.replace('.', "__")
}

/// Runs one task with the model. `key` is the task's idempotency key; each skill call runs
/// under `key#n`.
pub async fn run(crew: &Crew, model: &ModelClient, plan_id: i64, task: &Task, key: &str) -> Result<WorkerRun> {
    let catalog = crew.catalog();
    let employee = catalog.employee(&task.employee).ok_or_else(|| Error::UnknownEmployee(task.employee.clone()))?;
    let skills: Vec<&crate::catalog::SkillDoc> = catalog.skills.iter().filter(|s| employee.can(&s.id)).collect();
    let mut tools: Vec<ToolSpec> = skills
        .iter()
        .filter_map(|s| {
            let schema = crew.registry().get(&s.id)?.schema();
            Some(ToolSpec {
                name: tool_name(&s.id),
                description: format!("{} ({}): {}", s.id, s.name.en, s.description.en),
                parameters: schema,
            })
        })
        .collect();
    for (name, description) in LOOKUPS {
        tools.push(ToolSpec { name: name.into(), description: description.into(), parameters: lookup_schema(name) });
    }
    let mut messages = vec![Message::System(prompt(crew, task)?), Message::User(task_text(task))];
    let (mut calls, mut steps, mut tool_errors, mut n) = (Vec::new(), 0u32, 0u32, 0u32);
    let mut last: Option<StepReport> = None;
    let max_steps = model.config().max_steps.max(1);
    while steps < max_steps {
        steps += 1;
        let (turn, record) = match model.chat_tools(Some(&task.employee), &messages, &tools).await {
            Ok(answer) => answer,
            Err(e) => {
                let report = no_action(task, "");
                let model_error = Some(e.to_string());
                return Ok(WorkerRun { report, calls, steps, tool_errors, model_error });
            }
        };
        calls.push(record);
        let requested = match turn {
            Turn::Text(summary) => {
                let report = last.unwrap_or_else(|| no_action(task, &summary));
                let report = with_summary(report, &summary);
                return Ok(WorkerRun { report, calls, steps, tool_errors, model_error: None });
            }
            Turn::ToolCalls(requested) => requested,
        };
        messages.push(Message::ToolCalls(requested.clone()));
        for call in &requested {
            let (content, report) = match answer(crew, plan_id, task, key, &skills, call, &mut n).await? {
                Answer::Data(content) => (content, None),
                Answer::Error(content) => {
                    tool_errors += 1;
                    (content, None)
                }
                Answer::Step(report) => (step_result(&report), Some(*report)),
            };
            messages.push(Message::Tool { call_id: call.id.clone(), content });
            if let Some(report) = report {
                let waiting = report.status == StepStatus::Pending;
                last = Some(report);
                if waiting {
                    // The owner decides now; the employee stops here.
                    let report = last.unwrap_or_else(|| no_action(task, ""));
                    return Ok(WorkerRun { report, calls, steps, tool_errors, model_error: None });
                }
            }
        }
    }
    let report = last.unwrap_or_else(|| no_action(task, ""));
    let report =
        if report.status == StepStatus::Done { report } else { StepReport { status: StepStatus::Failed, ..report } };
    let note = crew
        .lang()
        .pick(&format!("{} 步内没有完成任务", max_steps), &format!("did not finish within {max_steps} steps"))
        .to_string();
    Ok(WorkerRun { report: with_summary(report, &note), calls, steps, tool_errors, model_error: None })
}

enum Answer {
    Data(String),
    Error(String),
    Step(Box<StepReport>),
}

async fn answer(
    crew: &Crew,
    plan_id: i64,
    task: &Task,
    key: &str,
    skills: &[&crate::catalog::SkillDoc],
    call: &ToolCall,
    n: &mut u32,
) -> Result<Answer> {
    let args: serde_json::Value =
        match serde_json::from_str(if call.arguments.trim().is_empty() { "{}" } else { &call.arguments }) {
            Ok(v) => v,
            Err(e) => {
                return Ok(Answer::Error(format!("error: the arguments of {} are not valid JSON ({e})", call.name)));
            }
        };
    if call.name.starts_with("lookup_") {
        return Ok(match lookup(crew, &call.name, &args).await? {
            Some(data) => Answer::Data(format!("<data>\n{data}\n</data>")),
            None => Answer::Error(format!("error: there is no tool `{}`", call.name)),
        });
    }
    let Some(skill) = skills.iter().find(|s| tool_name(&s.id) == call.name) else {
        let names: Vec<String> = skills.iter().map(|s| tool_name(&s.id)).collect();
        return Ok(Answer::Error(format!(
            "error: there is no tool `{}`; yours are {} and the lookups",
            call.name,
            names.join(", ")
        )));
    };
    if let Some(implementation) = crew.registry().get(&skill.id)
        && let Err(e) = implementation.check_args(&args)
    {
        return Ok(Answer::Error(format!("error: {e}")));
    }
    *n += 1;
    let request = StepRequest {
        employee: task.employee.clone(),
        skill: skill.id.clone(),
        args,
        actor: Actor::Employee,
        plan_id: Some(plan_id),
        task_id: Some(task.id.clone()),
        approval: None,
        key: Some(format!("{key}#{n}")),
    };
    Ok(Answer::Step(Box::new(crew.run_step(&request).await?)))
}

/// What a skill call tells the model: done, denied (with the rule), waiting or failed.
fn step_result(r: &StepReport) -> String {
    let rule = r.rule.as_deref().unwrap_or("-");
    match r.status {
        StepStatus::Done => format!("done: {}\n<data>\n{}\n</data>", r.summary, r.details),
        StepStatus::Denied => format!("DENIED by the owner's rule {rule}: {}. Do not try to get around it.", r.summary),
        StepStatus::Pending => format!("waiting for the owner's approval (rule {rule}): {}", r.summary),
        StepStatus::Failed => format!("failed: {}", r.summary),
    }
}

fn no_action(task: &Task, summary: &str) -> StepReport {
    StepReport {
        employee: task.employee.clone(),
        skill: task.skill.clone(),
        task_id: Some(task.id.clone()),
        status: StepStatus::Failed,
        summary: summary.to_string(),
        rule: None,
        details: serde_json::Value::Null,
        files: Vec::new(),
        amount: None,
        approval_id: None,
        log_seq: 0,
    }
}

fn with_summary(mut report: StepReport, summary: &str) -> StepReport {
    if !summary.trim().is_empty() && report.status == StepStatus::Failed && report.summary.is_empty() {
        report.summary = summary.trim().to_string();
    }
    report
}

fn task_text(task: &Task) -> String {
    format!("Do this task now: {} with arguments {}. Then say in one line what you did.", task.skill, task.args)
}

fn prompt(crew: &Crew, task: &Task) -> Result<String> {
    let catalog = crew.catalog();
    let template = catalog
        .employee(&task.employee)
        .and_then(|e| catalog.prompts.get(&e.prompt))
        .ok_or_else(|| Error::Invalid(format!("no prompt template for employee {}", task.employee)))?;
    let mut env = minijinja::Environment::new();
    env.add_template("employee", template).map_err(|e| Error::Invalid(format!("employee prompt: {e}")))?;
    env.get_template("employee")
        .and_then(|t| {
            t.render(minijinja::context! {
                employee => catalog.employee(&task.employee),
                shop => serde_json::json!({"title": crew.shop().title}),
                task => serde_json::json!({"skill": task.skill, "args": task.args.to_string()}),
            })
        })
        .map_err(|e| Error::Invalid(format!("employee prompt: {e}")))
}

fn lookup_schema(name: &str) -> serde_json::Value {
    let text = |d: &str| serde_json::json!({"type": "string", "description": d});
    let limit = serde_json::json!({"type": "integer", "minimum": 1, "maximum": 100});
    let properties = match name {
        "lookup_products" => {
            serde_json::json!({"category": text("a category"), "query": text("part of a title or SKU")})
        }
        "lookup_orders" => {
            serde_json::json!({"order": text("an order number"), "customer": text("a customer code"), "limit": limit})
        }
        "lookup_customers" => serde_json::json!({"customer": text("a customer code"), "limit": limit}),
        "lookup_inbox" => serde_json::json!({"status": text("open, answered or escalated"), "limit": limit}),
        _ => serde_json::json!({"limit": limit}),
    };
    serde_json::json!({"type": "object", "properties": properties, "additionalProperties": false})
}

/// Runs a read-only lookup; `None` for an unknown lookup name.
async fn lookup(crew: &Crew, name: &str, args: &serde_json::Value) -> Result<Option<String>> {
    let shop = crew.shop().id;
    let text = |k: &str| args.get(k).and_then(|v| v.as_str()).map(str::to_string);
    let limit = args.get("limit").and_then(|v| v.as_i64()).unwrap_or(20).clamp(1, 100);
    let db = crew.db();
    let rows: Vec<serde_json::Value> = match name {
        "lookup_products" => {
            let like = text("query").map(|q| format!("%{q}%"));
            sqlx::query(
                "SELECT sku, title, category, price_fen, cost_fen, stock, listed FROM products WHERE shop_id = $1 \
                 AND ($2 IS NULL OR category = $2) AND ($3 IS NULL OR title LIKE $3 OR sku LIKE $3) ORDER BY sku LIMIT 100",
            )
            .bind(shop)
            .bind(text("category"))
            .bind(like)
            .fetch_all(db)
            .await?
            .iter()
            .map(|r| {
                serde_json::json!({"sku": r.get::<String, _>("sku"), "title": r.get::<String, _>("title"),
                    "category": r.get::<String, _>("category"), "price_fen": r.get::<i64, _>("price_fen"),
                    "cost_fen": r.get::<i64, _>("cost_fen"), "stock": r.get::<i64, _>("stock"), "listed": r.get::<bool, _>("listed")})
            })
            .collect()
        }
        "lookup_orders" => sqlx::query(
            "SELECT o.order_no, c.code, o.ordered_at, o.status, o.total_fen, o.refunded_fen FROM orders o \
             JOIN customers c ON c.id = o.customer_id WHERE o.shop_id = $1 AND ($2 IS NULL OR o.order_no = $2) \
             AND ($3 IS NULL OR c.code = $3) ORDER BY o.ordered_at DESC LIMIT $4",
        )
        .bind(shop)
        .bind(text("order"))
        .bind(text("customer"))
        .bind(limit)
        .fetch_all(db)
        .await?
        .iter()
        .map(|r| {
            serde_json::json!({"order": r.get::<String, _>(0), "customer": r.get::<String, _>(1), "at": r.get::<String, _>(2),
                "status": r.get::<String, _>(3), "total_fen": r.get::<i64, _>(4), "refunded_fen": r.get::<i64, _>(5)})
        })
        .collect(),
        "lookup_customers" => sqlx::query(
            "SELECT c.code, c.name, c.city, c.lang, COUNT(o.id), COALESCE(SUM(o.total_fen), 0) FROM customers c \
             LEFT JOIN orders o ON o.customer_id = c.id WHERE c.shop_id = $1 AND ($2 IS NULL OR c.code = $2) \
             GROUP BY c.id ORDER BY c.code LIMIT $3",
        )
        .bind(shop)
        .bind(text("customer"))
        .bind(limit)
        .fetch_all(db)
        .await?
        .iter()
        .map(|r| {
            serde_json::json!({"customer": r.get::<String, _>(0), "name": r.get::<String, _>(1), "city": r.get::<String, _>(2),
                "lang": r.get::<String, _>(3), "orders": r.get::<i64, _>(4), "spent_fen": r.get::<i64, _>(5)})
        })
        .collect(),
        "lookup_inbox" => sqlx::query(
            "SELECT m.id, c.code, m.received_at, m.status, m.body FROM messages m JOIN customers c ON c.id = m.customer_id \
             WHERE m.shop_id = $1 AND ($2 IS NULL OR m.status = $2) ORDER BY m.received_at LIMIT $3",
        )
        .bind(shop)
        .bind(text("status"))
        .bind(limit)
        .fetch_all(db)
        .await?
        .iter()
        .map(|r| {
            serde_json::json!({"message": r.get::<i64, _>(0), "customer": r.get::<String, _>(1), "at": r.get::<String, _>(2),
                "status": r.get::<String, _>(3), "text": r.get::<String, _>(4)})
        })
        .collect(),
        "lookup_log" => sqlx::query(
            "SELECT seq, at, kind, employee, summary FROM work_log WHERE shop_id = $1 ORDER BY seq DESC LIMIT $2",
        )
        .bind(shop)
        .bind(limit)
        .fetch_all(db)
        .await?
        .iter()
        .map(|r| {
            serde_json::json!({"seq": r.get::<i64, _>(0), "at": r.get::<String, _>(1), "kind": r.get::<String, _>(2),
                "employee": r.get::<Option<String>, _>(3), "summary": r.get::<String, _>(4)})
        })
        .collect(),
        _ => return Ok(None),
    };
    Ok(Some(serde_json::to_string(&rows).unwrap_or_default()))
}

/// The one-line end of a task, in the owner's language.
pub fn summary_line(task: &Task, run: &WorkerRun) -> Text {
    let tokens: u64 = run.calls.iter().map(|c| c.prompt_tokens + c.completion_tokens).sum();
    Text::new(
        format!(
            "{} 完成任务 {}:{}({} 步,{} 次工具错误,{tokens} tokens)",
            task.employee, task.id, run.report.summary, run.steps, run.tool_errors
        ),
        format!(
            "{} finished task {}: {} ({} steps, {} tool errors, {tokens} tokens)",
            task.employee, task.id, run.report.summary, run.steps, run.tool_errors
        ),
    )
}
