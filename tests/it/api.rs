//! The HTTP API over real loopback HTTP, in process: tokens and roles, the owner's whole
//! review-and-control loop, bad input, cross-site requests, and the OpenAPI document.

use std::sync::Arc;

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use shopcrew::clock::{FixedClock, SharedClock, parse_stamp};
use shopcrew::crew::{Crew, Options};
use shopcrew::http::ApiState;
use shopcrew::tokens::{self, Role};

use crate::common::{Home, MID_AUTUMN, NOW};

struct Server {
    base: String,
    owner: String,
    viewer: String,
    home: Home,
    client: Client,
}

impl Server {
    async fn start() -> Server {
        let home = Home::new();
        let clock: SharedClock = Arc::new(FixedClock(parse_stamp(NOW).unwrap()));
        let (crews, _) = Crew::open_all(Options::new(home.path(), clock.clone())).await.unwrap();
        let db = crews[0].db().clone();
        let owner = tokens::ensure_owner(&db, clock.now()).await.unwrap().unwrap();
        let (_, viewer) = tokens::create(&db, Role::Viewer, "phone", clock.now()).await.unwrap();
        let state = Arc::new(ApiState::new(crews).unwrap());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(shopcrew::http::serve(listener, state, std::future::pending()));
        Server { base, owner, viewer, home, client: Client::new() }
    }

    async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> (StatusCode, Value) {
        let mut req = self.client.request(method, format!("{}/api/v1{path}", self.base));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.header("content-type", "application/json").body(body.to_string());
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    async fn get(&self, path: &str) -> Value {
        let (status, body) = self.call(Method::GET, path, Some(&self.owner), None).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        body
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(&self.owner), Some(body)).await
    }

    /// Runs a request and returns its NDJSON lines.
    async fn chat(&self, request: &str) -> Vec<Value> {
        let res = self
            .client
            .post(format!("{}/api/v1/chat?lang=en", self.base))
            .bearer_auth(&self.owner)
            .header("content-type", "application/json")
            .body(json!({"request": request}).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["content-type"], "application/x-ndjson");
        let text = res.text().await.unwrap();
        text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    }
}

/// Every documented operation, with its path's placeholders filled in.
fn operations() -> Vec<(Method, String)> {
    let doc = shopcrew::http::openapi_document();
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            ops.push((method, path.replace("{id}", "999").replace("{name}", "nope")));
        }
    }
    ops
}

#[tokio::test]
async fn every_call_needs_a_token_and_a_viewer_changes_nothing() {
    let s = Server::start().await;
    let ops = operations();
    assert!(ops.len() >= 25, "{ops:?}");
    for (method, path) in &ops {
        let (status, body) = s.call(method.clone(), path, None, Some(json!({}))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}: {body}");
        assert!(body["error"].as_str().unwrap().contains("Bearer"), "{body}");
        let (status, _) = s.call(method.clone(), path, Some("sc_not-a-token"), None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}");
    }
    let log_before = s.home.count("SELECT COUNT(*) FROM work_log").await;
    for (method, path) in ops.iter().filter(|(m, p)| *m != Method::GET && !p.ends_with("/plan")) {
        let (status, body) = s.call(method.clone(), path, Some(&s.viewer), Some(json!({"who": "all"}))).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "viewer {method} {path}: {body}");
    }
    assert_eq!(s.home.count("SELECT COUNT(*) FROM work_log").await, log_before, "a viewer changed nothing");
    // A viewer reads everything.
    let (status, me) = s.call(Method::GET, "/me", Some(&s.viewer), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["role"], "viewer");
    for path in ["/log", "/approvals", "/perms", "/ledger", "/schedules", "/reports", "/assets", "/employees"] {
        let (status, body) = s.call(Method::GET, path, Some(&s.viewer), None).await;
        assert_eq!(status, StatusCode::OK, "viewer GET {path}: {body}");
    }
    // A revoked token is refused at once.
    let db = sqlx::SqlitePool::connect_with(sqlx::sqlite::SqliteConnectOptions::new().filename(s.home.db_path()))
        .await
        .unwrap();
    let id: i64 = sqlx::query_scalar("SELECT id FROM api_tokens WHERE role = 'viewer'").fetch_one(&db).await.unwrap();
    tokens::revoke(&db, id, parse_stamp(NOW).unwrap()).await.unwrap();
    let (status, _) = s.call(Method::GET, "/me", Some(&s.viewer), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_owner_chats_approves_revokes_and_finds_it_all_in_the_log() {
    let s = Server::start().await;
    let (status, preview) = s.post("/plan", json!({"request": MID_AUTUMN})).await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(preview["plan"]["tasks"].as_array().unwrap().len(), 3);
    assert_eq!(s.home.count("SELECT COUNT(*) FROM plans").await, 0, "a preview runs nothing");

    let lines = s.chat(MID_AUTUMN).await;
    let events: Vec<&str> = lines.iter().map(|l| l["event"].as_str().unwrap()).collect();
    assert_eq!(events.first(), Some(&"planned"), "{lines:#?}");
    assert_eq!(events.iter().filter(|e| **e == "started").count(), 3);
    assert_eq!(events.iter().filter(|e| **e == "finished").count(), 3);
    let result = &lines.last().unwrap()["result"];
    assert_eq!(result["result"], "ran", "{lines:#?}");
    let campaign = result["tasks"].as_array().unwrap().iter().find(|t| t["skill"] == "ops.create_ad_campaign").unwrap();
    assert_eq!(campaign["status"], "pending", "{campaign}");
    let approval = campaign["approval_id"].as_i64().unwrap();

    let pending = s.get("/approvals").await;
    assert_eq!(pending["approvals"][0]["id"], approval);
    assert_eq!(pending["approvals"][0]["args"]["total_budget"], 500, "the exact action: {pending}");
    let (status, approved) = s.post(&format!("/approvals/{approval}/approve"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{approved}");
    assert_eq!(approved["status"], "done", "{approved}");
    let (status, again) = s.post(&format!("/approvals/{approval}/approve"), json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");

    let (status, revoked) =
        s.post("/perms/revoke?lang=en", json!({"employee": "promotions", "pattern": "promo.create_discount"})).await;
    assert_eq!(status, StatusCode::OK, "{revoked}");
    let perms = s.get("/perms").await;
    assert_eq!(perms["policy"]["employees"]["promotions"]["revoked"][0], "promo.create_discount");
    assert!(perms["policy"].get("file").is_none(), "no server paths: {perms}");
    let lines = s.chat("月饼9折").await;
    let result = &lines.last().unwrap()["result"];
    assert_eq!(result["tasks"][0]["status"], "denied", "{result}");

    let log = s.get("/log?limit=500").await;
    let kinds: Vec<&str> = log["entries"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    for kind in ["request", "plan", "effect", "approval", "permission", "decision"] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    let seqs: Vec<i64> = log["entries"].as_array().unwrap().iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] > w[1]), "newest first");
    let only = s.get("/log?employee=promotions&kind=decision").await;
    assert!(
        only["entries"].as_array().unwrap().iter().all(|e| e["employee"] == "promotions" && e["kind"] == "decision")
    );
    assert_eq!(s.get("/log/verify").await["status"], "ok");
    let history = s.get("/perms/history").await;
    assert_eq!(history["changes"].as_array().unwrap().len(), 1);

    // The banner the crew drew is served, checked against its hash.
    let assets = s.get("/assets?kind=banner").await;
    let banner = assets["assets"].as_array().unwrap().iter().find(|a| a["media_type"] == "image/svg+xml").unwrap();
    let res = s
        .client
        .get(format!("{}/api/v1/assets/{}/file", s.base, banner["id"]))
        .bearer_auth(&s.owner)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-security-policy"].to_str().unwrap().starts_with("sandbox"));
    assert!(res.text().await.unwrap().starts_with("<svg"));

    // Reports and schedules from the API.
    let (status, report) = s.post("/reports", json!({"period": "week"})).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(s.get("/reports").await["reports"].as_array().unwrap().len(), 2);
    let (status, run) = s.post("/schedules/inbox-sweep/run", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{run}");
    let (status, paused) = s.post("/schedules/inbox-sweep/pause", json!({})).await;
    assert_eq!((status, paused["enabled"].clone()), (StatusCode::OK, json!(false)));
}

#[tokio::test]
async fn bad_input_gets_a_clear_4xx_and_internal_errors_say_nothing_inside() {
    let s = Server::start().await;
    let send = |body: &'static str, content_type: &'static str, origin: Option<&'static str>| {
        let mut req = s
            .client
            .post(format!("{}/api/v1/perms/pause", s.base))
            .bearer_auth(&s.owner)
            .header("content-type", content_type)
            .body(body);
        if let Some(origin) = origin {
            req = req.header("origin", origin);
        }
        async move {
            let res = req.send().await.unwrap();
            let status = res.status();
            (status, res.json::<Value>().await.unwrap())
        }
    };
    let (status, body) = send("{not json", "application/json", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["error"].is_string());
    let (status, body) = send(r#"{"who": "all", "extra": 1}"#, "application/json", None).await;
    assert!(status.is_client_error(), "{status} {body}");
    assert!(body["error"].as_str().unwrap().contains("extra"), "{body}");
    let (status, _) = send(r#"{"who": "all"}"#, "text/plain", None).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (status, body) = send(r#"{"who": "all"}"#, "application/json", Some("https://evil.example")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(s.home.count("SELECT COUNT(*) FROM policy_changes").await, 0, "nothing changed");

    let big = json!({"request": "x".repeat(shopcrew::http::MAX_BODY + 1)});
    let (status, _) = s.post("/plan", big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let (status, body) = s.post("/perms/grant", json!({"employee": "promotions", "setting": "max_discount_pct"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"].as_str().unwrap().contains("knob=value"), "{body}");
    let (status, body) = s.post("/perms/revoke", json!({"employee": "nobody", "pattern": "promo.*"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = s.call(Method::GET, "/me?shop=elsewhere", Some(&s.owner), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = s.call(Method::GET, "/log?lang=fr", Some(&s.owner), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // A file gone from disk is the server's problem: the client learns nothing of paths.
    let (_, report) = s.post("/reports", json!({"period": "day"})).await;
    std::fs::remove_file(s.home.path().join(report["html"].as_str().unwrap())).unwrap();
    let reports = s.get("/reports").await;
    let html = reports["reports"].as_array().unwrap().iter().find(|r| r["media_type"] == "text/html").unwrap();
    let (status, body) = s.call(Method::GET, &format!("/assets/{}/file", html["id"]), Some(&s.owner), None).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    let text = body["error"].as_str().unwrap();
    assert!(!text.contains('/') && !text.contains("report-"), "no internals: {text}");
}

#[tokio::test]
async fn the_openapi_document_matches_the_router_and_the_console_is_served_locked_down() {
    let s = Server::start().await;
    let res = s.client.get(format!("{}/api/v1/openapi.json", s.base)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let doc: Value = res.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/perms/grant"]["post"]["requestBody"]["content"]["application/json"]["schema"].is_object());
    // Every documented operation reaches a handler (never the router's 404 or 405). GETs only,
    // plus mutations on things that do not exist, so nothing changes.
    for (method, path) in operations() {
        if method != Method::GET && !path.contains("999") && !path.contains("nope") {
            continue;
        }
        let (status, body) = s.call(method.clone(), &path, Some(&s.owner), Some(json!({}))).await;
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        let text = body["error"].as_str().unwrap_or_default();
        assert!(!text.contains("no such page"), "{method} {path} is not routed: {body}");
    }
    let res = s.client.get(format!("{}/", s.base)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let csp = res.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.contains("default-src 'none'") && csp.contains("script-src 'self'"), "{csp}");
    assert_eq!(res.headers()["x-frame-options"], "DENY");
    let html = res.text().await.unwrap();
    assert!(!html.contains("http://") && !html.contains("https://"), "the console loads nothing from elsewhere");
    for asset in ["/app.js", "/app.css"] {
        let res = s.client.get(format!("{}{asset}", s.base)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{asset}");
    }
    let (status, body) = s.call(Method::GET, "/nothing-here", None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}

#[tokio::test]
async fn proposals_webhooks_rules_and_checkpoints_from_the_api() {
    let s = Server::start().await;
    // The analyst proposes; the owner accepts part of it.
    let (status, run) = s.post("/schedules/business-plan/run", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{run}");
    let plans = s.get("/plans").await;
    let proposal = plans["plans"].as_array().unwrap().iter().find(|p| p["source"] == "business_plan").unwrap().clone();
    let first = proposal["plan"]["tasks"][0]["id"].as_str().unwrap().to_string();
    let (status, bad) = s.post(&format!("/plans/{}/accept", proposal["id"]), json!({"tasks": ["t99"]})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    let (status, accepted) = s.post(&format!("/plans/{}/accept", proposal["id"]), json!({"tasks": [first]})).await;
    assert_eq!(status, StatusCode::OK, "{accepted}");
    assert_eq!(accepted["result"], "ran");
    assert_eq!(accepted["tasks"].as_array().unwrap().len(), 1);
    let (status, _) = s.post("/plans/999/resume", json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Webhooks: the robot's token stays on the server.
    let url = "http://127.0.0.1:9/robot/send?access_token=very-secret";
    let (status, hook) = s.post("/webhooks", json!({"url": url, "format": "dingtalk", "events": ["report"]})).await;
    assert_eq!(status, StatusCode::CREATED, "{hook}");
    let listed = s.get("/webhooks").await;
    assert!(!listed.to_string().contains("very-secret"), "{listed}");
    let (status, body) = s.post("/webhooks", json!({"url": "ftp://x", "format": "json"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = s.post("/webhooks", json!({"url": url, "format": "telegram"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"].as_str().unwrap().contains("dingtalk"), "{body}");
    let (status, _) = s.call(Method::DELETE, &format!("/webhooks/{}", hook["id"]), Some(&s.owner), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(s.get("/webhooks").await["webhooks"].as_array().unwrap().is_empty());

    // The rules in words, and a checkpoint to keep.
    let rules = s.get("/perms/explain?employee=promotions&lang=en").await;
    assert!(rules["text"].as_str().unwrap().contains("promotions"), "{rules}");
    let home = s.home.path().display().to_string();
    assert!(!rules["text"].as_str().unwrap().contains(&home), "no server paths: {rules}");
    let (status, _) = s.call(Method::DELETE, "/schedules/nope", Some(&s.owner), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let checkpoint = s.get("/log/checkpoint").await;
    assert!(checkpoint["text"].as_str().unwrap().contains("shopcrew/demo"), "{checkpoint}");
}
