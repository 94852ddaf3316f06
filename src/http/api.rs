//! The `/api/v1` handlers: each one parses, calls [`Crew`], and answers JSON. Writing calls
//! end with a signed checkpoint of the log, as the CLI's do.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::{ApiError, ApiState, Body, Caller};
use crate::crew::Crew;
use crate::executor::{Progress, TaskOutcome};
use crate::lang::Lang;
use crate::perms::OwnerChange;
use crate::plan::{Plan, Task};
use crate::planner::Planned;
use crate::schedule::{Action, CatchUp, NewSchedule};
use crate::worklog::{Actor, Filter};

type Shared = State<Arc<ApiState>>;
type Answer = Result<Response, ApiError>;

pub(super) fn routes() -> Router<Arc<ApiState>> {
    Router::new()
        .route("/me", get(me))
        .route("/employees", get(employees))
        .route("/plan", post(plan))
        .route("/chat", post(chat))
        .route("/plans", get(plans))
        .route("/plans/{id}/accept", post(accept_plan))
        .route("/plans/{id}/resume", post(resume_plan))
        .route("/log", get(log))
        .route("/log/verify", get(verify))
        .route("/log/checkpoint", get(checkpoint))
        .route("/approvals", get(approvals))
        .route("/approvals/{id}/approve", post(approve))
        .route("/approvals/{id}/reject", post(reject))
        .route("/perms", get(perms))
        .route("/perms/history", get(perms_history))
        .route("/perms/explain", get(explain))
        .route("/perms/grant", post(grant))
        .route("/perms/revoke", post(revoke))
        .route("/perms/pause", post(pause))
        .route("/perms/resume", post(resume))
        .route("/ledger", get(ledger))
        .route("/schedules", get(schedules).post(add_schedule))
        .route("/schedules/runs", get(schedule_runs))
        .route("/schedules/{name}", delete(remove_schedule))
        .route("/schedules/{name}/pause", post(pause_schedule))
        .route("/schedules/{name}/resume", post(resume_schedule))
        .route("/schedules/{name}/run", post(run_schedule))
        .route("/reports", get(reports).post(write_report))
        .route("/webhooks", get(webhooks).post(add_webhook))
        .route("/webhooks/{id}", delete(remove_webhook))
        .route("/assets", get(assets))
        .route("/assets/{id}/file", get(asset_file))
}

/// Every call may name the shop (`?shop=`, the first one otherwise) and the language the
/// crew writes new text in (`?lang=zh|en`).
#[derive(Debug, Deserialize, Default)]
pub(super) struct At {
    shop: Option<String>,
    lang: Option<String>,
}

fn crew(state: &ApiState, at: &At) -> Result<Crew, ApiError> {
    let lang = match at.lang.as_deref().map(str::trim) {
        None | Some("") => None,
        Some("zh") => Some(Lang::Zh),
        Some("en") => Some(Lang::En),
        Some(other) => return Err(ApiError::bad(format!("lang `{other}`: use zh or en"))),
    };
    state.crew(at.shop.as_deref(), lang)
}

fn ok(value: impl serde::Serialize) -> Answer {
    Ok(axum::Json(value).into_response())
}

/// Answers after sealing a checkpoint of what the call appended to the log.
async fn sealed(crew: &Crew, value: impl serde::Serialize) -> Answer {
    crew.checkpoint().await?;
    ok(value)
}

async fn me(State(state): Shared, Query(at): Query<At>, Extension(Caller(role)): Extension<Caller>) -> Answer {
    let crew = crew(&state, &at)?;
    let shops: Vec<&String> = state.shops.keys().collect();
    ok(json!({"role": role, "shop": {
        "name": crew.shop().name, "title": crew.shop().title, "currency": crew.shop().currency,
        "timezone": crew.shop().timezone.name()}, "shops": shops, "lang": crew.lang()}))
}

async fn employees(State(state): Shared, Query(at): Query<At>) -> Answer {
    let crew = crew(&state, &at)?;
    let catalog = crew.catalog();
    let list: Vec<Value> = crew
        .employees()
        .into_iter()
        .filter(|e| e.id != "planner")
        .map(|e| {
            let skills: Vec<&str> = catalog.skills.iter().filter(|s| e.can(&s.id)).map(|s| s.id.as_str()).collect();
            json!({"id": e.id, "name": e.name, "role": e.role, "skills": skills})
        })
        .collect();
    let skills: Vec<Value> = catalog
        .skills
        .iter()
        .map(|s| json!({"id": s.id, "employee": s.employee, "name": s.name, "description": s.description}))
        .collect();
    ok(json!({"employees": list, "skills": skills}))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RequestBody {
    /// The request in plain words, Chinese or English.
    pub request: String,
}

async fn plan(State(state): Shared, Query(at): Query<At>, Body(body): Body<RequestBody>) -> Answer {
    let crew = crew(&state, &at)?;
    let (planned, source) = crew.plan(&body.request).await?;
    match planned {
        Planned::Plan(plan) => ok(json!({"result": "plan", "plan": plan, "source": source.source,
            "fallback": source.fallback})),
        Planned::NotUnderstood(nu) => ok(json!({"result": "not_understood", "answer": nu.to_string(),
            "understood": nu.understood, "unclear": nu.unclear})),
    }
}

/// Progress as JSON lines into the response.
struct Lines(mpsc::UnboundedSender<String>);

impl Lines {
    fn send(&self, value: Value) {
        let _ = self.0.send(format!("{value}\n"));
    }
}

impl Progress for Lines {
    fn planned(&self, plan: &Plan, source: &crate::crew::PlanSource) {
        self.send(json!({"event": "planned", "plan": plan, "source": source.source}));
    }

    fn started(&self, task: &Task) {
        self.send(json!({"event": "started", "task": task.id, "employee": task.employee, "skill": task.skill}));
    }

    fn finished(&self, task: &Task, outcome: &TaskOutcome) {
        self.send(json!({"event": "finished", "task": task.id, "outcome": outcome}));
    }
}

/// Runs a request and streams its progress as `application/x-ndjson`. The work goes on to
/// the end even if the client goes away, so nothing is left half done.
async fn chat(State(state): Shared, Query(at): Query<At>, Body(body): Body<RequestBody>) -> Answer {
    let crew = crew(&state, &at)?;
    if body.request.trim().is_empty() {
        return Err(ApiError::bad("the request is empty; say what the crew should do"));
    }
    let (tx, rx) = mpsc::unbounded_channel();
    let lines = Arc::new(Lines(tx));
    tokio::spawn(async move {
        let last = match crew.chat(&body.request, lines.clone()).await {
            Ok(result) => json!({"event": "result", "result": result}),
            Err(e) => {
                let e = ApiError::from(e);
                json!({"event": "error", "error": e.message, "status": e.status.as_u16()})
            }
        };
        if let Err(e) = crew.checkpoint().await {
            tracing::error!("checkpoint after chat: {e}");
        }
        lines.send(last);
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|line| (Ok::<_, std::convert::Infallible>(line), rx))
    });
    Ok(([(header::CONTENT_TYPE, "application/x-ndjson")], axum::body::Body::from_stream(stream)).into_response())
}

async fn plans(State(state): Shared, Query(at): Query<At>) -> Answer {
    ok(json!({"plans": crew(&state, &at)?.plans(50).await?}))
}

#[derive(Debug, Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct AcceptBody {
    /// Only these tasks (with what they depend on); the whole proposal when absent.
    #[serde(default)]
    pub tasks: Option<Vec<String>>,
}

/// Accepts the analyst's proposed business plan, whole or in part; it runs through the gate.
async fn accept_plan(
    State(state): Shared,
    Query(at): Query<At>,
    Path(id): Path<i64>,
    bytes: axum::body::Bytes,
) -> Answer {
    let crew = crew(&state, &at)?;
    let body: AcceptBody = optional_body(&bytes)?;
    let result = crew.accept_plan(id, body.tasks.as_deref(), Arc::new(crate::executor::Quiet)).await?;
    sealed(&crew, result).await
}

/// Runs a stored plan again (after a crash, say); what took effect is not repeated.
async fn resume_plan(State(state): Shared, Query(at): Query<At>, Path(id): Path<i64>) -> Answer {
    let crew = crew(&state, &at)?;
    let result = crew.resume(id, Arc::new(crate::executor::Quiet)).await?;
    sealed(&crew, result).await
}

/// A body that may be empty (then the type's default).
fn optional_body<T: serde::de::DeserializeOwned + Default>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(bytes).map_err(|e| ApiError::bad(format!("the body cannot be read: {e}")))
}

/// The newest signed checkpoint, for the owner to keep outside the shop.
async fn checkpoint(State(state): Shared, Query(at): Query<At>) -> Answer {
    let crew = crew(&state, &at)?;
    match crew.checkpoint().await? {
        Some(signed) => ok(json!({"checkpoint": signed.checkpoint, "text": signed.to_text(),
            "public_key": crew.log_public_key()})),
        None => Err(ApiError::bad("the work log is empty; there is nothing to checkpoint yet")),
    }
}

#[derive(Debug, Deserialize, Default)]
pub(super) struct LogQuery {
    employee: Option<String>,
    kind: Option<String>,
    since: Option<String>,
    limit: Option<usize>,
    #[serde(flatten)]
    at: At,
}

async fn log(State(state): Shared, Query(q): Query<LogQuery>) -> Answer {
    let crew = crew(&state, &q.at)?;
    let since =
        match q.since.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(text) => Some(crate::worklog::since_stamp(text, crew.shop().timezone).ok_or_else(|| {
                ApiError::bad(format!("since `{text}` is not a date (2026-11-24) or an RFC 3339 time"))
            })?),
        };
    let employee = q.employee.filter(|e| !e.is_empty());
    let mut entries = crew.log(&Filter { employee, since, ..Filter::default() }).await?;
    if let Some(kind) = q.kind.filter(|k| !k.is_empty()) {
        entries.retain(|e| e.kind == kind);
    }
    entries.reverse();
    entries.truncate(q.limit.unwrap_or(200).clamp(1, 2000));
    ok(json!({"entries": entries}))
}

async fn verify(State(state): Shared, Query(at): Query<At>) -> Answer {
    ok(crew(&state, &at)?.verify().await?)
}

#[derive(Debug, Deserialize, Default)]
pub(super) struct All {
    #[serde(default)]
    all: bool,
    #[serde(flatten)]
    at: At,
}

async fn approvals(State(state): Shared, Query(q): Query<All>) -> Answer {
    let crew = crew(&state, &q.at)?;
    let list = crew.approvals(q.all).await?;
    sealed(&crew, json!({"approvals": list})).await
}

async fn approve(State(state): Shared, Query(at): Query<At>, Path(id): Path<i64>) -> Answer {
    let crew = crew(&state, &at)?;
    let approved = crew.approve(id, Arc::new(crate::executor::Quiet)).await?;
    sealed(&crew, approved).await
}

#[derive(Debug, Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RejectBody {
    /// Why, for the log.
    #[serde(default)]
    pub reason: Option<String>,
}

/// The body is optional: an empty one rejects without a reason.
async fn reject(State(state): Shared, Query(at): Query<At>, Path(id): Path<i64>, bytes: axum::body::Bytes) -> Answer {
    let crew = crew(&state, &at)?;
    let body: RejectBody = optional_body(&bytes)?;
    let reason = body.reason.filter(|r| !r.trim().is_empty());
    crew.reject(id, reason.as_deref()).await?;
    sealed(&crew, json!({"ok": true})).await
}

async fn perms(State(state): Shared, Query(at): Query<At>) -> Answer {
    let crew = crew(&state, &at)?;
    let effective = crew.effective_policy().await?;
    let mut policy = serde_json::to_value(&*effective.policy).map_err(|e| ApiError::internal(&e.to_string()))?;
    // Where the file lives on the server is none of the client's business.
    if let Some(obj) = policy.as_object_mut() {
        obj.remove("file");
        obj.remove("rule_files");
    }
    ok(json!({"version": effective.version, "policy": policy, "changes": effective.changes}))
}

async fn perms_history(State(state): Shared, Query(at): Query<At>) -> Answer {
    ok(json!({"changes": crew(&state, &at)?.perms_history().await?}))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct GrantBody {
    pub employee: String,
    /// `knob=value`, e.g. `max_discount_pct=30`, or `skills=<pattern>` to give a skill back.
    pub setting: String,
    /// A shop-local date (the grant lasts through it) or an RFC 3339 time; for good when absent.
    #[serde(default)]
    pub until: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RevokeBody {
    pub employee: String,
    /// A skill or pattern: `promo.create_discount`, `promo.*`.
    pub pattern: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct WhoBody {
    /// An employee, or `all`.
    pub who: String,
}

async fn change(state: &ApiState, at: &At, change: OwnerChange) -> Answer {
    let crew = crew(state, at)?;
    let version = crew.change_perms(change).await?;
    sealed(&crew, json!({"version": version})).await
}

async fn grant(State(state): Shared, Query(at): Query<At>, Body(b): Body<GrantBody>) -> Answer {
    let tz = crew(&state, &at)?.shop().timezone;
    let grant = OwnerChange::grant(b.employee, &b.setting, b.until.as_deref(), tz)?;
    change(&state, &at, grant).await
}

async fn revoke(State(state): Shared, Query(at): Query<At>, Body(b): Body<RevokeBody>) -> Answer {
    change(&state, &at, OwnerChange::Revoke { employee: b.employee, pattern: b.pattern }).await
}

async fn pause(State(state): Shared, Query(at): Query<At>, Body(b): Body<WhoBody>) -> Answer {
    change(&state, &at, OwnerChange::Pause { employee: OwnerChange::who(&b.who) }).await
}

async fn resume(State(state): Shared, Query(at): Query<At>, Body(b): Body<WhoBody>) -> Answer {
    change(&state, &at, OwnerChange::Resume { employee: OwnerChange::who(&b.who) }).await
}

#[derive(Debug, Deserialize, Default)]
pub(super) struct ExplainQuery {
    employee: Option<String>,
    #[serde(flatten)]
    at: At,
}

/// The rules in force in words, and the Cedar policies the gate evaluates.
async fn explain(State(state): Shared, Query(q): Query<ExplainQuery>) -> Answer {
    let crew = crew(&state, &q.at)?;
    let effective = crew.effective_policy().await?;
    let employee = q.employee.filter(|e| !e.is_empty());
    // Files are named from the home, not by where the server keeps it.
    let home = crew.home().root().display().to_string();
    let text = effective.policy.explain(employee.as_deref(), crew.lang()).replace(&home, "<home>");
    ok(json!({"version": effective.version, "text": text}))
}

async fn webhooks(State(state): Shared, Query(at): Query<At>) -> Answer {
    ok(json!({"webhooks": crew(&state, &at)?.webhooks().await?}))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct WebhookBody {
    /// The full http(s) URL (a robot's token in its query stays on the server).
    pub url: String,
    /// `json` (default), `dingtalk` or `wecom`.
    #[serde(default)]
    pub format: Option<String>,
    /// Any of `report`, `approval`, `denial`; all three when absent.
    #[serde(default)]
    pub events: Option<Vec<String>>,
    /// A DingTalk robot's signing secret.
    #[serde(default)]
    pub secret: Option<String>,
}

async fn add_webhook(State(state): Shared, Query(at): Query<At>, Body(b): Body<WebhookBody>) -> Answer {
    use crate::webhook::{Event, Format};
    let crew = crew(&state, &at)?;
    let format: Format = b.format.as_deref().unwrap_or("json").parse().map_err(ApiError::bad)?;
    let events = match b.events {
        None => Event::ALL.to_vec(),
        Some(list) => Event::parse_list(&list.join(",")).map_err(ApiError::bad)?,
    };
    let secret = b.secret.filter(|s| !s.trim().is_empty());
    let hook = crew.add_webhook(&b.url, format, &events, secret).await?;
    crew.checkpoint().await?;
    Ok((StatusCode::CREATED, axum::Json(hook)).into_response())
}

async fn remove_webhook(State(state): Shared, Query(at): Query<At>, Path(id): Path<i64>) -> Answer {
    let crew = crew(&state, &at)?;
    crew.remove_webhook(id).await?;
    sealed(&crew, json!({"ok": true})).await
}

async fn ledger(State(state): Shared, Query(at): Query<At>) -> Answer {
    ok(crew(&state, &at)?.ledger().await?)
}

async fn schedules(State(state): Shared, Query(at): Query<At>) -> Answer {
    ok(json!({"schedules": crew(&state, &at)?.schedules().await?}))
}

async fn schedule_runs(State(state): Shared, Query(at): Query<At>) -> Answer {
    ok(json!({"runs": crew(&state, &at)?.schedule_runs(100).await?}))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ScheduleBody {
    pub name: String,
    /// Five fields in the shop's time zone: minute hour day-of-month month day-of-week.
    pub cron: String,
    /// A request in plain words (or `skill`, or `report`).
    #[serde(default)]
    pub request: Option<String>,
    #[serde(default)]
    pub skill: Option<String>,
    #[serde(default)]
    pub args: Option<Value>,
    /// `day` or `week`: the owner report.
    #[serde(default)]
    pub report: Option<String>,
    #[serde(default)]
    pub employee: Option<String>,
    /// `once` (default) or `skip`.
    #[serde(default)]
    pub catch_up: Option<String>,
}

async fn add_schedule(State(state): Shared, Query(at): Query<At>, Body(b): Body<ScheduleBody>) -> Answer {
    let crew = crew(&state, &at)?;
    let action = match (b.request, b.skill, b.report) {
        (Some(request), None, None) => Action::Request { request },
        (None, Some(skill), None) => Action::Skill { skill, args: b.args.unwrap_or_else(|| json!({})) },
        (None, None, Some(period)) => Action::Report { period: period.parse()? },
        _ => return Err(ApiError::bad("give exactly one of request, skill (with args) or report")),
    };
    let catch_up = match b.catch_up.as_deref() {
        None => CatchUp::Once,
        Some(text) => text.parse()?,
    };
    let new = NewSchedule { name: b.name, cron: b.cron, employee: b.employee.unwrap_or_default(), action, catch_up };
    let schedule = crew.add_schedule(new).await?;
    crew.checkpoint().await?;
    Ok((StatusCode::CREATED, axum::Json(schedule)).into_response())
}

async fn remove_schedule(State(state): Shared, Query(at): Query<At>, Path(name): Path<String>) -> Answer {
    let crew = crew(&state, &at)?;
    let removed = crew.remove_schedule(&name).await?;
    sealed(&crew, removed).await
}

async fn pause_schedule(State(state): Shared, Query(at): Query<At>, Path(name): Path<String>) -> Answer {
    let crew = crew(&state, &at)?;
    let s = crew.set_schedule_enabled(&name, false).await?;
    sealed(&crew, s).await
}

async fn resume_schedule(State(state): Shared, Query(at): Query<At>, Path(name): Path<String>) -> Answer {
    let crew = crew(&state, &at)?;
    let s = crew.set_schedule_enabled(&name, true).await?;
    sealed(&crew, s).await
}

async fn run_schedule(State(state): Shared, Query(at): Query<At>, Path(name): Path<String>) -> Answer {
    let crew = crew(&state, &at)?;
    let run = crew.run_schedule_now(&name).await?;
    sealed(&crew, run).await
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ReportBody {
    /// `day` (yesterday) or `week` (the seven days to yesterday).
    pub period: String,
}

async fn write_report(State(state): Shared, Query(at): Query<At>, Body(b): Body<ReportBody>) -> Answer {
    let crew = crew(&state, &at)?;
    let files = crew.write_report(b.period.parse()?, Actor::Owner).await?;
    sealed(&crew, files).await
}

async fn reports(State(state): Shared, Query(at): Query<At>) -> Answer {
    let crew = crew(&state, &at)?;
    let list: Vec<Value> = crew.assets(Some("report")).await?.into_iter().map(asset_json).collect();
    ok(json!({"reports": list}))
}

#[derive(Debug, Deserialize, Default)]
pub(super) struct AssetQuery {
    kind: Option<String>,
    #[serde(flatten)]
    at: At,
}

async fn assets(State(state): Shared, Query(q): Query<AssetQuery>) -> Answer {
    let crew = crew(&state, &q.at)?;
    let kind = q.kind.filter(|k| !k.is_empty());
    let list: Vec<Value> = crew.assets(kind.as_deref()).await?.into_iter().map(asset_json).collect();
    ok(json!({"assets": list}))
}

fn media_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "html" => "text/html; charset=utf-8",
        "md" => "text/markdown; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn asset_json(a: crate::crew::Asset) -> Value {
    json!({"id": a.id, "kind": a.kind, "title": a.title, "path": a.path, "created_at": a.created_at,
        "sha256": a.sha256, "media_type": media_type(&a.path).split(';').next().unwrap_or_default()})
}

/// An asset's bytes, checked against the hash recorded when it was made. Served with a
/// sandboxing CSP, so an HTML report or an SVG opened from here can run nothing.
async fn asset_file(State(state): Shared, Query(at): Query<At>, Path(id): Path<i64>) -> Answer {
    let crew = crew(&state, &at)?;
    let (asset, bytes) = crew.asset_bytes(id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, media_type(&asset.path)),
            (header::CONTENT_SECURITY_POLICY, "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'"),
        ],
        bytes,
    )
        .into_response())
}
