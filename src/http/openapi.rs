//! The OpenAPI 3.1 document of `/api/v1`, built from one table of operations; request body
//! schemas come from the same Rust types the handlers parse (schemars).

use axum::response::IntoResponse;
use schemars::{JsonSchema, schema_for};
use serde_json::{Value, json};

use super::api::{
    AcceptBody, GrantBody, RejectBody, ReportBody, RequestBody, RevokeBody, ScheduleBody, WebhookBody, WhoBody,
};

/// One operation: method, path, who may call it, what it does, its body type's schema.
pub(super) struct Op {
    pub method: &'static str,
    pub path: &'static str,
    pub owner_only: bool,
    pub summary: &'static str,
    pub body: Option<fn() -> Value>,
}

fn schema<T: JsonSchema>() -> Value {
    serde_json::to_value(schema_for!(T)).unwrap_or_default()
}

const fn op(method: &'static str, path: &'static str, owner_only: bool, summary: &'static str) -> Op {
    Op { method, path, owner_only, summary, body: None }
}

const fn with(
    method: &'static str,
    path: &'static str,
    owner_only: bool,
    summary: &'static str,
    body: fn() -> Value,
) -> Op {
    Op { method, path, owner_only, summary, body: Some(body) }
}

/// Every operation the router serves under `/api/v1`.
pub(super) fn operations() -> Vec<Op> {
    vec![
        op("get", "/me", false, "Who the token is (owner or viewer), the shop, the shops served"),
        op("get", "/employees", false, "The digital employees and the skills each may use"),
        with("post", "/plan", false, "Plan a request without running anything", schema::<RequestBody>),
        with(
            "post",
            "/chat",
            true,
            "Plan and run a request; streams application/x-ndjson progress (planned, started, finished) and then the result",
            schema::<RequestBody>,
        ),
        op("get", "/plans", false, "The newest plans, proposals of the analyst's business plan among them"),
        with(
            "post",
            "/plans/{id}/accept",
            true,
            "Accept a proposed business plan, whole or some tasks; it runs through the gate",
            schema::<AcceptBody>,
        ),
        op("post", "/plans/{id}/resume", true, "Run a stored plan again; what took effect is not repeated"),
        op("get", "/log", false, "The work log, newest first (filters: employee, kind, since, limit)"),
        op("get", "/log/verify", false, "Check every hash, the chain and every signed checkpoint"),
        op("get", "/log/checkpoint", false, "The newest signed checkpoint, to keep outside the shop"),
        op("get", "/approvals", false, "Actions waiting for the owner (all of them with all=true)"),
        op(
            "post",
            "/approvals/{id}/approve",
            true,
            "Approve: the gate checks again, the action runs, then what waited on it",
        ),
        with("post", "/approvals/{id}/reject", true, "Reject a staged action", schema::<RejectBody>),
        op("get", "/perms", false, "The policy in force: caps, skills, pauses, the owner's changes"),
        op("get", "/perms/history", false, "Every change the owner made, oldest first"),
        op("get", "/perms/explain", false, "The rules in force in words, and as Cedar policies (filter: employee)"),
        with("post", "/perms/grant", true, "Set a knob of an employee, for good or until a date", schema::<GrantBody>),
        with("post", "/perms/revoke", true, "Take a skill or pattern away from an employee", schema::<RevokeBody>),
        with("post", "/perms/pause", true, "Stop an employee, or all of them (the kill switch)", schema::<WhoBody>),
        with("post", "/perms/resume", true, "Lift a pause", schema::<WhoBody>),
        op("get", "/ledger", false, "Money spent against every cap, per employee and campaign"),
        op("get", "/schedules", false, "The autopilot schedules with their next due times"),
        with("post", "/schedules", true, "Add a schedule", schema::<ScheduleBody>),
        op("get", "/schedules/runs", false, "The latest scheduled runs and how they ended"),
        op("delete", "/schedules/{name}", true, "Remove a schedule"),
        op("post", "/schedules/{name}/pause", true, "Pause a schedule"),
        op("post", "/schedules/{name}/resume", true, "Resume a schedule from its next due time"),
        op("post", "/schedules/{name}/run", true, "Run a schedule now"),
        op("get", "/reports", false, "The owner reports written so far"),
        with("post", "/reports", true, "Write the owner report for a day or a week", schema::<ReportBody>),
        op("get", "/webhooks", false, "Webhooks for reports, approvals waiting and denials (URLs without their query)"),
        with("post", "/webhooks", true, "Add a webhook: generic JSON, DingTalk or WeCom", schema::<WebhookBody>),
        op("delete", "/webhooks/{id}", true, "Remove a webhook"),
        op("get", "/assets", false, "Files the crew made: banners, images, charts, reports (filter: kind)"),
        op("get", "/assets/{id}/file", false, "An asset's bytes, checked against its recorded hash"),
    ]
}

/// The whole document.
pub fn document() -> Value {
    let mut paths = serde_json::Map::new();
    for op in operations() {
        let mut operation = json!({
            "summary": op.summary,
            "security": [{"bearer": []}],
            "parameters": params(op.path),
            "responses": responses(op.owner_only),
        });
        if let Some(body) = op.body {
            operation["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": body()}}});
        }
        let item = paths.entry(op.path.to_string()).or_insert_with(|| json!({}));
        item[op.method] = operation;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "shopcrew owner API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The owner's review and control of the crew: chat, work log, approvals, permissions, ledger, schedules, reports and assets. Every call needs a bearer token; only the owner's may change anything.",
        },
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}},
        },
        "paths": paths,
    })
}

fn params(path: &str) -> Value {
    let mut list = vec![
        json!({"name": "shop", "in": "query", "required": false, "schema": {"type": "string"}, "description": "The shop (the first one when absent)"}),
        json!({"name": "lang", "in": "query", "required": false, "schema": {"type": "string", "enum": ["zh", "en"]}, "description": "The language the crew writes new text in"}),
    ];
    for name in ["id", "name"] {
        if path.contains(&format!("{{{name}}}")) {
            let kind = if name == "id" { "integer" } else { "string" };
            list.push(json!({"name": name, "in": "path", "required": true, "schema": {"type": kind}}));
        }
    }
    Value::Array(list)
}

fn responses(owner_only: bool) -> Value {
    let error = json!({"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    let mut r = json!({
        "200": {"description": "Done", "content": {"application/json": {"schema": {"type": "object"}}}},
        "400": {"description": "The input is wrong; the message says what to fix", "content": error["content"]},
        "401": {"description": "No token, or not a valid one", "content": error["content"]},
        "404": {"description": "No such shop, approval, schedule or asset", "content": error["content"]},
        "500": {"description": "Internal error (the detail is in the server log)", "content": error["content"]},
    });
    if owner_only {
        r["403"] = json!({"description": "A viewer token, or a cross-site request", "content": error["content"]});
        r["413"] = json!({"description": "The body is larger than 64 KiB", "content": error["content"]});
    }
    r
}

pub(super) async fn serve() -> impl IntoResponse {
    axum::Json(document())
}
