//! The model planner against a fake OpenAI-compatible server on loopback: what is sent, what
//! comes back, faults, and the offline planner standing in.

use serde_json::json;

use crate::common::{Home, MID_AUTUMN};
use crate::fake_model::{FakeModel, Reply};

const KEY: &str = "sk-test-secret-4242";

/// A plan the model might give for "cups 10% off this week".
fn cups_plan() -> String {
    json!({"tasks": [{"id": "t1", "employee": "promotions", "skill": "promo.create_discount",
                      "args": {"discount_pct": 10, "scope": "cups", "days": 3}, "depends_on": []}],
           "not_understood": []})
    .to_string()
}

/// The employee's side of "cups 10% off": it calls the discount skill, then reports.
fn cups_work() -> Vec<Reply> {
    vec![
        Reply::Tools(vec![("promo__create_discount", r#"{"discount_pct": 10, "scope": "cups", "days": 3}"#.into())]),
        Reply::Content("杯子打九折,三天。".into()),
    ]
}

/// Runs the binary against the fake model.
fn run(home: &Home, model: &FakeModel, args: &[&str]) -> (i32, String, String) {
    let out = home
        .cmd()
        .env("OPENAI_BASE_URL", &model.url)
        .env("OPENAI_API_KEY", KEY)
        .args(args)
        .output()
        .expect("run shopcrew");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn fast_retries(home: &Home) {
    let config = "[model]\nretries = 1\nplan_retries = 2\ntimeout_secs = 1\n";
    std::fs::write(home.path().join("shopcrew.toml"), config).unwrap();
}

#[tokio::test]
async fn the_model_plans_a_free_form_request_and_the_crew_runs_it_through_the_gate() {
    let home = Home::with_demo();
    let model = FakeModel::with(vec![Reply::Content(cups_plan())], cups_work());
    let (code, out, err) = run(&home, &model, &["chat", "杯子这周便宜点卖,打个九折吧"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("由模型 gpt-4o-mini 规划"), "{out}");
    assert!(out.contains("已创建折扣"), "{out}");
    assert_eq!(home.count("SELECT COUNT(*) FROM promotions WHERE discount_bp = 1000").await, 1);

    // What was sent: the plan schema, the skills with their schemas, store data fenced off.
    let sent = model.requests();
    assert_eq!(sent.len(), 3, "one plan, two turns of work");
    let body = &sent[0].body;
    assert_eq!(body["model"], "gpt-4o-mini");
    assert_eq!(body["response_format"]["type"], "json_schema");
    let schema = &body["response_format"]["json_schema"]["schema"];
    assert!(schema["properties"]["tasks"].is_object(), "{schema:#}");
    let system = body["messages"][0]["content"].as_str().unwrap();
    for skill in ["promo.create_discount", "ops.create_ad_campaign", "cs.refund"] {
        assert!(system.contains(skill), "{skill} not offered");
    }
    assert!(system.contains("discount_pct"), "argument schemas are in the prompt");
    let data = &system[system.rfind("<data>").unwrap()..system.rfind("</data>").unwrap()];
    assert!(data.contains("MC-001"), "products are inside the data block");
    assert_eq!(body["messages"][1]["content"], "杯子这周便宜点卖,打个九折吧");
    assert_eq!(sent[0].authorization.as_deref(), Some(format!("Bearer {KEY}").as_str()));
    for request in &sent {
        assert!(!request.body.to_string().contains(KEY), "the key is only ever in the Authorization header");
    }

    // Every model call is in the log with its tokens; the key is nowhere in the home.
    let log = home.json(&["log", "--json"]);
    let call = log.as_array().unwrap().iter().find(|e| e["kind"] == "model_call").expect("a model_call entry");
    assert_eq!(call["details"]["prompt_tokens"], 1200);
    assert_eq!(call["details"]["completion_tokens"], 80);
    let db = std::fs::read(home.db_path()).unwrap();
    let wal = std::fs::read(home.path().join("shopcrew.db-wal")).unwrap_or_default();
    for bytes in [&db, &wal] {
        assert!(!bytes.windows(KEY.len()).any(|w| w == KEY.as_bytes()), "the key leaked into the database");
    }
    assert!(!out.contains(KEY) && !err.contains(KEY));
}

#[tokio::test]
async fn an_invalid_plan_goes_back_to_the_model_with_the_errors() {
    let home = Home::with_demo();
    let bad = json!({"tasks": [{"id": "t1", "employee": "promotions", "skill": "promo.make_it_rain",
                                "args": {}, "depends_on": []}], "not_understood": []})
    .to_string();
    let model = FakeModel::with(vec![Reply::Content(bad), Reply::Content(cups_plan())], cups_work());
    let (code, out, err) = run(&home, &model, &["chat", "cups ten percent off"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("created discount"), "{out}");
    let sent = model.requests();
    assert_eq!(sent.len(), 4, "two plans, two turns of work");
    let messages = sent[1].body["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 4, "system, request, the bad answer, the errors");
    assert_eq!(messages[2]["role"], "assistant");
    let feedback = messages[3]["content"].as_str().unwrap();
    assert!(feedback.contains("promo.make_it_rain"), "{feedback}");
}

#[tokio::test]
async fn a_model_that_keeps_failing_leaves_the_request_to_the_offline_planner_and_the_log_says_so() {
    let home = Home::with_demo();
    fast_retries(&home);
    let model = FakeModel::start(vec![Reply::Garbage("<html>oops</html>")]);
    let (code, out, err) = run(&home, &model, &["chat", MID_AUTUMN]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("已改用离线规划"), "{out}");
    assert!(out.contains("已创建折扣"), "the offline plan ran: {out}");
    assert_eq!(model.requests().len(), 3, "the first answer and plan_retries = 2 more");
    let fallbacks = home
        .count("SELECT COUNT(*) FROM work_log WHERE kind = 'error' AND details LIKE '%\"fallback\":\"offline\"%'")
        .await;
    assert_eq!(fallbacks, 1);
    assert_eq!(home.count("SELECT COUNT(*) FROM plans WHERE source = 'offline'").await, 1);
}

#[tokio::test]
async fn rate_limits_and_slow_answers_are_retried() {
    let home = Home::with_demo();
    fast_retries(&home);
    let model = FakeModel::with(
        vec![
            Reply::Status(429, "slow down"),
            Reply::Slow(std::time::Duration::from_millis(2500), Box::new(Reply::Content(cups_plan()))),
            Reply::Content(cups_plan()),
        ],
        cups_work(),
    );
    // The 429 is retried by the client library; that answer is slower than the 1 s timeout,
    // so the call is tried again (retries = 1) and gets the plan.
    let (code, out, err) = run(&home, &model, &["chat", "cups ten percent off"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("planned by gpt-4o-mini"), "{out}");
    assert_eq!(model.requests().len(), 5, "three for the plan, two turns of work");
    let log = home.json(&["log", "--json"]);
    let call = log.as_array().unwrap().iter().find(|e| e["kind"] == "model_call").unwrap();
    assert_eq!(call["details"]["attempts"], 2, "{call:#}");
}

#[tokio::test]
async fn repeated_server_errors_end_in_the_offline_planner() {
    let home = Home::with_demo();
    fast_retries(&home);
    let model = FakeModel::start(vec![Reply::Status(500, "upstream is down")]);
    let (code, out, err) = run(&home, &model, &["--lang", "en", "chat", MID_AUTUMN]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("500") && out.contains("offline planner"), "{out}");
    assert_eq!(model.requests().len(), 4, "the first try and three retries");
}

#[tokio::test]
async fn an_unreachable_model_ends_in_a_clear_message_and_the_offline_planner() {
    let home = Home::with_demo();
    fast_retries(&home);
    let out = home
        .cmd()
        .env("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
        .env("OPENAI_API_KEY", KEY)
        .args(["--lang", "en", "chat", "下周中秋大促:月饼8折,做一张海报,推广预算500元"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("could not be reached"), "{stdout}");
    assert!(!stdout.contains(KEY));
}

#[tokio::test]
async fn offline_forces_the_offline_planner_and_doctor_reports_the_model() {
    let home = Home::with_demo();
    let model = FakeModel::start(vec![Reply::Content(r#"{"ok": true}"#.into())]);
    let (code, out, _) = run(&home, &model, &["--offline", "plan", MID_AUTUMN]);
    assert_eq!(code, 0, "{out}");
    assert!(model.requests().is_empty(), "--offline sends nothing");

    let (code, out, err) = run(&home, &model, &["doctor"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("gpt-4o-mini") && out.contains("OPENAI_API_KEY") && out.contains("✓"), "{out}");
    assert!(!out.contains(KEY), "{out}");

    let down = Home::with_demo();
    let out =
        down.cmd().env("OPENAI_BASE_URL", "http://127.0.0.1:9/v1").args(["--lang", "en", "doctor"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("does not answer"));
    let (code, out, _) = Home::with_demo().run(&["doctor"]);
    assert_eq!(code, 0);
    assert!(out.contains("未配置模型"), "{out}");
}

#[tokio::test]
async fn the_model_can_say_what_it_did_not_understand() {
    let home = Home::with_demo();
    let answer = json!({"tasks": [], "not_understood": ["把仓库搬到杭州"]}).to_string();
    let model = FakeModel::start(vec![Reply::Content(answer)]);
    let (code, out, _) = run(&home, &model, &["chat", "把仓库搬到杭州"]);
    assert_ne!(code, 0);
    assert!(out.contains("把仓库搬到杭州"), "{out}");
    assert_eq!(home.count("SELECT COUNT(*) FROM work_log WHERE kind = 'effect'").await, 0);
}

#[tokio::test]
async fn the_daily_ai_budget_stops_new_model_calls_and_says_so() {
    let home = Home::with_demo();
    // 1,280 tokens at ¥1,000 per million prompt and completion tokens: ¥1.28 a plan.
    let config = "[model]\ndaily_ai_budget = 1.0\n\n[model.prices.\"gpt-4o-mini\"]\nprompt_per_million = 1000.0\ncompletion_per_million = 1000.0\n";
    std::fs::write(home.path().join("shopcrew.toml"), config).unwrap();
    let model = FakeModel::with(vec![Reply::Content(cups_plan())], cups_work());
    let (code, out, err) = run(&home, &model, &["chat", "cups ten percent off"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("planned by gpt-4o-mini"), "{out}");
    // The plan alone spent ¥1.28: the employee did the planned step without the model.
    assert!(out.contains("created discount") || out.contains("已创建折扣"), "{out}");
    let before = model.requests().len();
    assert_eq!(before, 1, "only the planning call");
    let stopped = home.count("SELECT COUNT(*) FROM work_log WHERE details LIKE '%\"ai_budget\":\"reached\"%'").await;
    assert_eq!(stopped, 1);

    let (code, out, _) = run(&home, &model, &["ledger", "--json"]);
    assert_eq!(code, 0, "{out}");
    let ledger: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(ledger["ai"]["calls"], 1, "{ledger:#}");
    assert_eq!(ledger["ai"]["spent_yuan"], 1.28, "{ledger:#}");
    assert!(ledger["ai"]["stop"].is_string(), "{ledger:#}");

    let (code, out, err) = run(&home, &model, &["--lang", "en", "chat", MID_AUTUMN]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("reached the ¥1.00 cap"), "{out}");
    assert_eq!(model.requests().len(), before, "no new model call once the budget is spent");
    assert!(out.contains("created discount"), "the offline planner still serves: {out}");
}
