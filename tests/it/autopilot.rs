//! Autopilot: schedules on an injected clock (a simulated week in seconds, two time zones),
//! restarts that neither lose nor repeat runs, pauses and revocations, catch-up after
//! downtime, the owner report, webhooks to a receiver on loopback, and `shopcrew serve`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::StatusCode;
use axum::routing::post;
use chrono::{DateTime, Duration, Timelike, Utc};
use serde_json::Value;
use shopcrew::clock::{ManualClock, SharedClock, parse_stamp};
use shopcrew::crew::{Crew, Options, RunReport};
use shopcrew::perms::OwnerChange;
use shopcrew::schedule::{Action, CatchUp, NewSchedule, ReportPeriod};
use shopcrew::serve::{Autopilot, Settings};
use shopcrew::webhook::{Event, Format, Retry};

use crate::common::Home;

fn at(text: &str) -> DateTime<Utc> {
    parse_stamp(text).unwrap()
}

/// A home with one demo shop per (name, time zone), made at `start`.
async fn shops(home: &Home, clock: &Arc<ManualClock>, zones: &[(&str, chrono_tz::Tz)]) {
    for (name, tz) in zones {
        let shared: SharedClock = clock.clone();
        let opts = Options { shop: Some(name.to_string()), timezone: Some(*tz), ..Options::new(home.path(), shared) };
        Crew::init(opts, true, 42).await.unwrap();
    }
}

async fn open(home: &Home, clock: &Arc<ManualClock>, shop: &str) -> Crew {
    let shared: SharedClock = clock.clone();
    let opts = Options { shop: Some(shop.into()), ..Options::new(home.path(), shared) };
    Crew::open(opts).await.unwrap().0
}

fn quick_retry() -> Retry {
    Retry {
        attempts: 2,
        first_delay: std::time::Duration::from_millis(10),
        max_delay: std::time::Duration::from_millis(20),
        timeout: std::time::Duration::from_secs(5),
    }
}

/// What the receiver got: (path with query, JSON body), in order.
type Received = Arc<Mutex<Vec<(String, Value)>>>;

/// A webhook receiver on loopback that records (path with query, body) and answers like a
/// robot (`{"errcode":0}`), which the generic format also accepts.
struct Receiver {
    url: String,
    got: Received,
}

impl Receiver {
    async fn start() -> Receiver {
        let got: Received = Arc::default();
        let app = Router::new().fallback(post(record)).with_state(got.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver { url, got }
    }

    fn bodies(&self, path: &str) -> Vec<Value> {
        let got = self.got.lock().unwrap();
        got.iter().filter(|(p, _)| p.split('?').next() == Some(path)).map(|(_, b)| b.clone()).collect()
    }
}

async fn record(State(got): State<Received>, OriginalUri(uri): OriginalUri, body: Bytes) -> (StatusCode, &'static str) {
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    got.lock().unwrap().push((uri.to_string(), body));
    (StatusCode::OK, r#"{"errcode":0,"errmsg":"ok"}"#)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_simulated_week_runs_every_schedule_at_shop_local_times_and_reports_reach_the_webhook() {
    let home = Home::new();
    // Sunday 23:30 UTC is Monday 07:30 in Shanghai; the week runs to the same time next week.
    let start = at("2026-11-22T23:30:00Z");
    let end = start + Duration::days(7);
    let clock = Arc::new(ManualClock::new(start));
    shops(&home, &clock, &[("cn", chrono_tz::Asia::Shanghai), ("uk", chrono_tz::UTC)]).await;
    let shared: SharedClock = clock.clone();
    let (crews, _) = Crew::open_all(Options::new(home.path(), shared)).await.unwrap();
    assert_eq!(crews.len(), 2);
    let receiver = Receiver::start().await;
    let cn = crews.iter().find(|c| c.shop().name == "cn").unwrap().clone();
    cn.add_webhook(&format!("{}/hook", receiver.url), Format::Json, &[Event::Report], None).await.unwrap();
    let autopilot = Autopilot::new(crews, Settings { retry: quick_retry(), ..Settings::default() });

    let mut runs: Vec<(String, RunReport)> = Vec::new();
    loop {
        let next = autopilot.next_due().await.unwrap().expect("schedules are due");
        if next > end {
            break;
        }
        clock.set(next);
        for crew in autopilot.crews() {
            for run in crew.run_due().await.unwrap() {
                runs.push((crew.shop().name.clone(), run));
            }
        }
    }
    let mut counts: BTreeMap<(String, String), usize> = BTreeMap::new();
    for (shop, run) in &runs {
        *counts.entry((shop.clone(), run.schedule.clone())).or_default() += 1;
        assert!(["done", "pending"].contains(&run.status.as_str()), "{shop}: {run:?}");
    }
    for shop in ["cn", "uk"] {
        let n = |s: &str| counts.get(&(shop.to_string(), s.to_string())).copied().unwrap_or(0);
        assert_eq!(n("inbox-sweep"), 168, "{shop}: hourly for a week");
        assert_eq!(n("sales-report"), 7, "{shop}: daily");
        assert_eq!(n("inventory-check"), 7, "{shop}: daily");
        assert_eq!(n("business-plan"), 1, "{shop}: Mondays only");
        assert_eq!(n("weekly-report"), 1, "{shop}: Mondays only");
    }
    // 09:00 is shop-local: 01:00 UTC in Shanghai, 09:00 UTC in the UTC shop.
    for (shop, run) in runs.iter().filter(|(_, r)| r.schedule == "sales-report") {
        let hour = at(&run.due_at).hour();
        assert_eq!(hour, if shop == "cn" { 1 } else { 9 }, "{shop}: {run:?}");
    }
    let monday = runs.iter().find(|(s, r)| s == "uk" && r.schedule == "business-plan").unwrap();
    assert_eq!(monday.1.due_at, "2026-11-23T08:30:00Z");
    let monday = runs.iter().find(|(s, r)| s == "cn" && r.schedule == "business-plan").unwrap();
    assert_eq!(monday.1.due_at, "2026-11-23T00:30:00Z");

    // Each report is two files, recorded as assets; the log still verifies.
    let reports = home.count("SELECT COUNT(*) FROM assets WHERE kind = 'report'").await;
    assert_eq!(reports, 2 * 2 * 8, "day and week reports, Markdown and HTML, two shops");
    for crew in autopilot.crews() {
        assert!(matches!(crew.verify().await.unwrap(), shopcrew::worklog::Verification::Ok { .. }));
    }
    // A day's report counts what autopilot did that day, per schedule.
    let md = std::fs::read_to_string(home.path().join("assets/cn/reports/report-day-2026-11-28.md")).unwrap();
    assert!(md.contains("- inbox-sweep ×24(done 24)"), "{md}");
    assert!(md.contains("- inventory-check ×1(pending 1)"), "{md}");
    // The restock plans wait for the owner: autopilot staged them and went on.
    let pending =
        home.count("SELECT COUNT(*) FROM approvals WHERE status = 'pending' AND skill = 'ops.restock_plan'").await;
    assert_eq!(pending, 2, "each shop's newest restock plan waits for approval");
    let superseded = home.count("SELECT COUNT(*) FROM approvals WHERE note LIKE 'superseded by #%'").await;
    assert_eq!(superseded, 2 * 6, "the six earlier ones gave way to the newest");

    // The Shanghai shop's webhook gets its eight reports, in order, and nothing else.
    let sent = autopilot.notify().await.unwrap();
    assert!(sent.iter().all(|d| d.error.is_none()), "{sent:?}");
    let bodies = receiver.bodies("/hook");
    assert_eq!(bodies.len(), 8, "{bodies:#?}");
    assert!(bodies.iter().all(|b| b["event"] == "report" && b["shop"] == "cn"), "{bodies:#?}");
    assert!(bodies[0]["text"].as_str().unwrap().contains("GMV"), "{:#}", bodies[0]);
    assert!(bodies.iter().any(|b| b["title"].as_str().unwrap().contains("周报")), "a weekly report too");
    // Sending again sends nothing twice.
    assert!(autopilot.notify().await.unwrap().is_empty());
    assert_eq!(receiver.bodies("/hook").len(), 8);
}

#[tokio::test]
async fn restarts_neither_lose_nor_repeat_runs() {
    let home = Home::new();
    let clock = Arc::new(ManualClock::new(at("2026-11-24T00:50:00Z")));
    shops(&home, &clock, &[("demo", chrono_tz::Asia::Shanghai)]).await;
    let first = open(&home, &clock, "demo").await;
    clock.set(at("2026-11-24T01:00:00Z"));
    let ran: Vec<String> = first.run_due().await.unwrap().into_iter().map(|r| r.schedule).collect();
    assert_eq!(ran, vec!["inbox-sweep", "sales-report"], "09:00 in Shanghai");
    let answered = home.count("SELECT COUNT(*) FROM messages WHERE status != 'open'").await;
    assert!(answered > 0);

    // A second process at the same moment finds nothing due.
    let second = open(&home, &clock, "demo").await;
    assert!(second.run_due().await.unwrap().is_empty());
    assert!(second.recover_runs().await.unwrap().is_empty());

    // A process that died after the sweep took effect but before it recorded the run: the
    // next start takes the run up, and the sweep's key keeps it from answering again.
    let pool = home.pool().await;
    sqlx::query(
        "UPDATE schedule_runs SET status = 'running', finished_at = NULL WHERE due_at = '2026-11-24T01:00:00Z'",
    )
    .execute(&pool)
    .await
    .unwrap();
    let third = open(&home, &clock, "demo").await;
    let taken_up = third.recover_runs().await.unwrap();
    assert_eq!(taken_up.len(), 2, "{taken_up:?}");
    let sweep = taken_up.iter().find(|r| r.schedule == "inbox-sweep").unwrap();
    assert!(sweep.summary.contains("不再重复执行"), "{sweep:?}");
    assert_eq!(home.count("SELECT COUNT(*) FROM messages WHERE status != 'open'").await, answered);
    assert_eq!(home.count("SELECT COUNT(*) FROM schedule_runs").await, 2, "one row per due time");
    assert_eq!(home.count("SELECT COUNT(*) FROM schedule_runs WHERE status = 'running'").await, 0);

    // A plan that was cut off is resumed under its own keys: no second plan, no second approval.
    clock.set(at("2026-11-25T00:00:00Z"));
    let runs = third.run_due().await.unwrap();
    let check = runs.iter().find(|r| r.schedule == "inventory-check").expect("08:00 inventory check");
    let plan_id = check.plan_id.expect("a plan");
    let (plans, approvals) =
        (home.count("SELECT COUNT(*) FROM plans").await, home.count("SELECT COUNT(*) FROM approvals").await);
    sqlx::query("UPDATE schedule_runs SET status = 'abandoned' WHERE plan_id = $1")
        .bind(plan_id)
        .execute(&pool)
        .await
        .unwrap();
    let fourth = open(&home, &clock, "demo").await;
    let resumed = fourth.recover_runs().await.unwrap();
    assert_eq!(resumed.len(), 1);
    assert_eq!(resumed[0].plan_id, Some(plan_id));
    assert_eq!(home.count("SELECT COUNT(*) FROM plans").await, plans);
    assert_eq!(home.count("SELECT COUNT(*) FROM approvals").await, approvals);
    pool.close().await;
}

#[tokio::test]
async fn a_paused_employee_runs_nothing_and_a_revocation_applies_to_the_next_run() {
    let home = Home::new();
    let clock = Arc::new(ManualClock::new(at("2026-11-24T02:00:00Z")));
    shops(&home, &clock, &[("demo", chrono_tz::Asia::Shanghai)]).await;
    let crew = open(&home, &clock, "demo").await;
    let open_messages = home.count("SELECT COUNT(*) FROM messages WHERE status = 'open'").await;

    crew.change_perms(OwnerChange::Pause { employee: Some("customer_service".into()) }).await.unwrap();
    clock.set(at("2026-11-24T03:00:00Z"));
    let runs = crew.run_due().await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status, "skipped");
    assert!(runs[0].summary.contains("暂停"), "{:?}", runs[0]);
    assert_eq!(home.count("SELECT COUNT(*) FROM messages WHERE status = 'open'").await, open_messages);
    let logged = home
        .count(
            "SELECT COUNT(*) FROM work_log WHERE kind = 'schedule' AND actor = 'scheduler' AND summary LIKE '%暂停%'",
        )
        .await;
    assert_eq!(logged, 1, "the skip is in the log");

    // Resumed, but cs.reply revoked: the next run goes to the gate and is denied.
    crew.change_perms(OwnerChange::Resume { employee: None }).await.unwrap();
    let revoke = OwnerChange::Revoke { employee: "customer_service".into(), pattern: "cs.reply".into() };
    crew.change_perms(revoke).await.unwrap();
    clock.set(at("2026-11-24T04:00:00Z"));
    let runs = crew.run_due().await.unwrap();
    assert_eq!(runs[0].status, "denied", "{runs:?}");
    assert_eq!(home.count("SELECT COUNT(*) FROM messages WHERE status = 'open'").await, open_messages);

    // A paused schedule does not run at all.
    crew.change_perms(OwnerChange::Grant {
        employee: "customer_service".into(),
        knob: "skills".into(),
        value: "cs.reply".into(),
        until: None,
    })
    .await
    .unwrap();
    crew.set_schedule_enabled("inbox-sweep", false).await.unwrap();
    clock.set(at("2026-11-24T05:00:00Z"));
    assert!(crew.run_due().await.unwrap().is_empty());
    let resumed = crew.set_schedule_enabled("inbox-sweep", true).await.unwrap();
    assert_eq!(resumed.next_run_at.as_deref(), Some("2026-11-24T06:00:00Z"), "from the next due time");
}

#[tokio::test]
async fn downtime_is_caught_up_once_or_skipped_as_each_schedule_says() {
    let home = Home::new();
    let clock = Arc::new(ManualClock::new(at("2026-11-24T02:10:00Z")));
    shops(&home, &clock, &[("demo", chrono_tz::Asia::Shanghai)]).await;
    let crew = open(&home, &clock, "demo").await;
    let skip = NewSchedule {
        name: "ranking".into(),
        cron: "15 * * * *".into(),
        employee: String::new(),
        action: Action::Skill { skill: "analyst.product_ranking".into(), args: serde_json::json!({}) },
        catch_up: CatchUp::Skip,
    };
    crew.add_schedule(skip).await.unwrap();
    // Down for three days.
    clock.set(at("2026-11-27T02:20:00Z"));
    let runs = crew.run_due().await.unwrap();
    let sweep = runs.iter().find(|r| r.schedule == "inbox-sweep").unwrap();
    assert_eq!(sweep.status, "done");
    assert!(sweep.summary.contains("错过 72 次"), "{sweep:?}");
    assert_eq!(sweep.due_at, "2026-11-27T02:00:00Z", "the latest missed time, once");
    let ranking = runs.iter().find(|r| r.schedule == "ranking").unwrap();
    assert_eq!(ranking.status, "skipped", "{ranking:?}");
    let sweeps = home.count("SELECT COUNT(*) FROM schedule_runs r JOIN schedules s ON s.id = r.schedule_id WHERE s.name = 'inbox-sweep'").await;
    assert_eq!(sweeps, 1);
    // Each schedule moved on to its next time after now.
    let next: BTreeMap<String, Option<String>> =
        crew.schedules().await.unwrap().into_iter().map(|s| (s.name, s.next_run_at)).collect();
    assert_eq!(next["inbox-sweep"].as_deref(), Some("2026-11-27T03:00:00Z"));
    assert_eq!(next["ranking"].as_deref(), Some("2026-11-27T03:15:00Z"));
}

#[tokio::test]
async fn webhooks_get_reports_approvals_and_denials_in_each_format_and_a_dead_one_blocks_nothing() {
    let home = Home::new();
    let clock = Arc::new(ManualClock::new(at("2026-11-24T02:00:00Z")));
    shops(&home, &clock, &[("demo", chrono_tz::Asia::Shanghai)]).await;
    let crew = open(&home, &clock, "demo").await;
    let receiver = Receiver::start().await;
    let all = [Event::Report, Event::Approval, Event::Denial];
    crew.add_webhook(&format!("{}/json", receiver.url), Format::Json, &all, None).await.unwrap();
    let ding = format!("{}/ding?access_token=tok", receiver.url);
    crew.add_webhook(&ding, Format::Dingtalk, &[Event::Report], Some("SECabc".into())).await.unwrap();
    crew.add_webhook(&format!("{}/wecom", receiver.url), Format::Wecom, &[Event::Approval], None).await.unwrap();
    let dead = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead_url = format!("http://{}/gone", dead.local_addr().unwrap());
    drop(dead);
    crew.add_webhook(&dead_url, Format::Json, &all, None).await.unwrap();
    let hooks = crew.webhooks().await.unwrap();
    assert!(hooks.iter().all(|h| !h.url.contains("tok")), "tokens are never shown: {hooks:?}");

    let report = crew.write_report(ReportPeriod::Day, shopcrew::worklog::Actor::Owner).await.unwrap();
    let html = std::fs::read_to_string(home.path().join(&report.html)).unwrap();
    assert!(html.contains("<svg") && !html.contains("<script") && !html.contains("https://"), "offline HTML");
    let md = std::fs::read_to_string(home.path().join(&report.markdown)).unwrap();
    assert!(md.contains("## 等待批准") && md.contains("## 推广投产比"), "{md}");
    crew.run_schedule_now("inventory-check").await.unwrap();
    let denied = crew
        .do_skill("promo.create_discount", serde_json::json!({"discount_pct": 90, "scope": "all"}), None, None)
        .await
        .unwrap();
    assert_eq!(format!("{:?}", denied.status), "Denied");

    let sent = crew.notify_pending(&reqwest::Client::new(), &quick_retry()).await.unwrap();
    let json = receiver.bodies("/json");
    let events: Vec<&str> = json.iter().map(|b| b["event"].as_str().unwrap()).collect();
    assert_eq!(events, vec!["report", "approval", "denial"], "{json:#?}");
    assert!(json[1]["text"].as_str().unwrap().contains("shopcrew approvals approve"), "{:#}", json[1]);
    let ding_bodies = receiver.bodies("/ding");
    assert_eq!(ding_bodies.len(), 1);
    assert_eq!(ding_bodies[0]["msgtype"], "markdown");
    assert!(ding_bodies[0]["markdown"]["text"].as_str().unwrap().contains("GMV"));
    let ding_uri = receiver.got.lock().unwrap().iter().find(|(p, _)| p.starts_with("/ding")).unwrap().0.clone();
    assert!(ding_uri.contains("timestamp=") && ding_uri.contains("sign="), "{ding_uri}");
    let wecom = receiver.bodies("/wecom");
    assert_eq!(wecom.len(), 1);
    assert!(wecom[0]["markdown"]["content"].as_str().unwrap().contains("#"), "{:#}", wecom[0]);

    // The dead hook failed each of its three events, each logged; the others were not held up.
    let failed: Vec<_> = sent.iter().filter(|d| d.error.is_some()).collect();
    assert_eq!(failed.len(), 3, "{sent:?}");
    assert!(failed.iter().all(|d| d.attempts == 2));
    let logged = home.count("SELECT COUNT(*) FROM work_log WHERE kind = 'error' AND summary LIKE '%webhook%'").await;
    assert_eq!(logged, 3);
    // Nothing is sent twice, and the failures are not retried forever.
    assert!(crew.notify_pending(&reqwest::Client::new(), &quick_retry()).await.unwrap().is_empty());
}

#[test]
fn schedules_from_the_command_line() {
    let home = Home::with_demo();
    let list = home.json(&["schedule", "--json"]);
    let names: Vec<&str> = list.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["business-plan", "inbox-sweep", "inventory-check", "sales-report", "weekly-report"]);

    let (code, _, err) = home.run(&["schedule", "add", "x", "--cron", "0 9 * *", "--report", "day"]);
    assert_eq!(code, 1);
    assert!(err.contains("minute hour day-of-month month day-of-week"), "{err}");
    let (code, _, err) = home.run(&["schedule", "add", "x", "--cron", "0 9 * * *", "--skill", "promo.nope"]);
    assert_eq!(code, 1);
    assert!(err.contains("unknown skill"), "{err}");
    let (code, _, err) = home.run(&["schedule", "add", "x", "--cron", "0 9 * * *"]);
    assert_eq!(code, 1);
    assert!(err.contains("--request"), "{err}");
    let (code, _, err) = home.run(&["schedule", "add", "inbox-sweep", "--cron", "0 9 * * *", "--report", "day"]);
    assert_eq!(code, 1);
    assert!(err.contains("exists"), "{err}");

    let added = home.json(&[
        "schedule",
        "add",
        "evening",
        "--cron",
        "0 21 * * *",
        "--request",
        "answer the customer messages",
        "--json",
    ]);
    assert_eq!(added["next_run_at"], "2026-11-24T13:00:00Z", "21:00 in Shanghai");
    let paused = home.json(&["schedule", "pause", "evening", "--json"]);
    assert_eq!(paused["enabled"], false);
    let run = home.json(&["schedule", "run-now", "inbox-sweep", "--json"]);
    assert_eq!(run["status"], "done", "{run:#}");
    let runs = home.json(&["schedule", "runs", "--json"]);
    assert_eq!(runs.as_array().unwrap().len(), 1);
    let (code, out, _) = home.run(&["schedule", "remove", "evening"]);
    assert_eq!(code, 0, "{out}");
    let (code, _, err) = home.run(&["schedule", "remove", "evening"]);
    assert_eq!(code, 1);
    assert!(err.contains("no schedule named `evening`"), "{err}");
    let (code, _, err) = home.run(&["init", "--shop", "far", "--timezone", "Mars/Olympus"]);
    assert_eq!(code, 2, "clap refuses it");
    assert!(err.contains("IANA"), "{err}");
}

#[test]
fn serve_once_runs_what_is_due_and_report_writes_its_files() {
    let home = Home::new();
    // Made at 08:59 Shanghai time; served at 09:00.
    let out = home.cmd().env("SHOPCREW_NOW", "2026-11-24T00:59:00Z").args(["schedule"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = home.cmd().env("SHOPCREW_NOW", "2026-11-24T01:00:00Z").args(["serve", "--once"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("inbox-sweep") && stdout.contains("sales-report"), "{stdout}");
    // Again at the same time: nothing is due.
    let out = home.cmd().env("SHOPCREW_NOW", "2026-11-24T01:00:00Z").args(["serve", "--once"]).output().unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "");

    let report = home.json(&["--lang", "en", "report", "--period", "week", "--json"]);
    let html = std::fs::read_to_string(home.path().join(report["html"].as_str().unwrap())).unwrap();
    assert!(html.contains("weekly report") && html.contains("<svg"), "{html}");
    let (code, out, _) = home.run(&["log", "verify"]);
    assert_eq!(code, 0, "{out}");
}

#[cfg(unix)]
#[test]
fn serve_stops_cleanly_on_sigterm_and_logs_it() {
    let home = Home::with_demo();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("shopcrew"))
        .env("SHOPCREW_HOME", home.path())
        .env("SHOPCREW_NOW", crate::common::NOW)
        .env_remove("OPENAI_BASE_URL")
        .env_remove("OPENAI_API_KEY")
        .args(["--lang", "en", "serve", "--grace", "5"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let started = (0..200).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        runtime.block_on(home.count("SELECT COUNT(*) FROM work_log WHERE summary = 'autopilot started'")) == 1
    });
    assert!(started, "serve logged its start");
    let kill = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let stopped = runtime.block_on(home.count("SELECT COUNT(*) FROM work_log WHERE summary LIKE 'autopilot stopped%'"));
    assert_eq!(stopped, 1);
    let (code, out, _) = home.run(&["log", "verify"]);
    assert_eq!(code, 0, "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_signal_abandons_a_slow_run_between_steps_and_the_next_start_takes_it_up() {
    use crate::fake_model::{FakeModel, Reply};
    // The model takes ten seconds to plan; the stop comes after one, with a grace of 200 ms.
    let plan = serde_json::json!({"tasks": [
        {"id": "t1", "employee": "analyst", "skill": "analyst.inventory_forecast", "args": {}, "depends_on": []}
    ], "not_understood": []});
    let slow = Reply::Slow(std::time::Duration::from_secs(10), Box::new(Reply::Content(plan.to_string())));
    let model = FakeModel::start(vec![slow]);
    let home = Home::new();
    let clock = Arc::new(ManualClock::new(at("2026-11-23T23:59:00Z")));
    shops(&home, &clock, &[("demo", chrono_tz::Asia::Shanghai)]).await;
    let config = model.config();
    let shared: SharedClock = clock.clone();
    let (crews, _) =
        Crew::open_all(Options { model: Some(config), ..Options::new(home.path(), shared) }).await.unwrap();
    // 08:00 in Shanghai: the inbox sweep and the inventory check are due.
    clock.set(at("2026-11-24T00:00:00Z"));
    let grace = std::time::Duration::from_millis(200);
    let autopilot = Autopilot::new(crews, Settings { grace, ..Settings::default() });
    let stop = tokio::time::sleep(std::time::Duration::from_secs(1));
    let shared: SharedClock = clock.clone();
    autopilot.run(shared, stop, &|_| {}).await.unwrap();

    let status = |name: &'static str| {
        let home = &home;
        async move {
            let pool = home.pool().await;
            let s: String = sqlx::query_scalar(
                "SELECT r.status FROM schedule_runs r JOIN schedules s ON s.id = r.schedule_id WHERE s.name = $1",
            )
            .bind(name)
            .fetch_one(&pool)
            .await
            .unwrap();
            pool.close().await;
            s
        }
    };
    assert_eq!(status("inventory-check").await, "abandoned");
    let logged = home.count("SELECT COUNT(*) FROM work_log WHERE summary LIKE '%inventory-check%中断%'").await;
    assert_eq!(logged, 1, "the abandoned run is logged");
    assert_eq!(home.count("SELECT COUNT(*) FROM work_log WHERE summary LIKE '自动运行已停止%'").await, 1);

    // The next start (offline this time) takes the run up and finishes it, once.
    let shared: SharedClock = clock.clone();
    let (crews, _) = Crew::open_all(Options::new(home.path(), shared)).await.unwrap();
    let again = Autopilot::new(crews, Settings::default());
    let taken_up = again.recover().await.unwrap();
    assert_eq!(taken_up.len(), 1, "{taken_up:?}");
    assert_eq!(taken_up[0].schedule, "inventory-check");
    assert_ne!(status("inventory-check").await, "abandoned");
    assert!(again.recover().await.unwrap().is_empty());
    assert!(again.tick().await.unwrap().is_empty(), "nothing else is due at 08:00");
}
