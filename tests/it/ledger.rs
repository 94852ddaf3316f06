//! Money and retries: idempotency keys, resumed plans, the ledger report, approval expiry.

use crate::common::{Home, MID_AUTUMN};

const CAMPAIGN: &str = r#"{"total_budget": 150, "days": 3, "products": "slippers"}"#;

#[tokio::test]
async fn a_retried_action_with_the_same_key_spends_once() {
    let home = Home::with_demo();
    let first = home.json(&["do", "ops.create_ad_campaign", "--args", CAMPAIGN, "--key", "slippers-1", "--json"]);
    assert_eq!(first["status"], "done", "{first:#}");
    let again = home.json(&["do", "ops.create_ad_campaign", "--args", CAMPAIGN, "--key", "slippers-1", "--json"]);
    assert_eq!(again["status"], "done", "{again:#}");
    assert_eq!(again["details"]["duplicate_of"], first["log_seq"], "reports the first effect");
    assert_eq!(home.count("SELECT COUNT(*) FROM ad_campaigns WHERE total_budget_fen = 15000").await, 1);
    assert_eq!(home.count("SELECT COALESCE(SUM(amount_fen), 0) FROM ledger").await, 15_000);
    assert_eq!(home.count("SELECT COUNT(*) FROM work_log WHERE details LIKE '%duplicate_of%'").await, 1);

    // Another key is another action.
    let other = home.json(&["do", "ops.create_ad_campaign", "--args", CAMPAIGN, "--key", "slippers-2", "--json"]);
    assert_eq!(other["status"], "done", "{other:#}");
    assert_eq!(home.count("SELECT COALESCE(SUM(amount_fen), 0) FROM ledger").await, 30_000);
    assert_eq!(home.count("SELECT COUNT(*) FROM ledger WHERE status <> 'committed'").await, 0);
}

#[tokio::test]
async fn running_a_plan_again_does_not_repeat_what_took_effect() {
    let home = Home::with_demo();
    let (code, out, err) = home.run(&["chat", MID_AUTUMN]);
    assert_eq!(code, 0, "{out}\n{err}");
    let effects = home.count("SELECT COUNT(*) FROM work_log WHERE kind = 'effect'").await;
    assert_eq!(effects, 2, "discount and banner; the campaign waits:\n{out}");

    let (code, out, err) = home.run(&["resume", "1"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("不再重复执行"), "{out}");
    assert_eq!(home.count("SELECT COUNT(*) FROM work_log WHERE kind = 'effect'").await, 2, "nothing new took effect");
    assert_eq!(home.count("SELECT COUNT(*) FROM promotions").await, 1);
    assert_eq!(home.count("SELECT COUNT(*) FROM assets WHERE path LIKE '%.svg'").await, 1);
    // The campaign is still above the approval threshold: still waiting, under its one approval.
    assert_eq!(home.count("SELECT COUNT(*) FROM ad_campaigns WHERE name = '中秋月饼推广'").await, 0);
    assert_eq!(home.count("SELECT COUNT(*) FROM approvals").await, 1);

    // Once the owner approves it, a later resume does not run it a second time either.
    let pending = home.json(&["approvals", "--json"]);
    let id = pending[0]["id"].as_i64().unwrap().to_string();
    let approved = home.json(&["approvals", "approve", &id, "--json"]);
    assert_eq!(approved["status"], "done", "{approved:#}");
    let (code, _, _) = home.run(&["resume", "1"]);
    assert_eq!(code, 0);
    assert_eq!(home.count("SELECT COUNT(*) FROM ad_campaigns WHERE name = '中秋月饼推广'").await, 1);
    assert_eq!(home.count("SELECT COALESCE(SUM(amount_fen), 0) FROM ledger").await, 50_000);

    let (code, _, err) = home.run(&["resume", "99"]);
    assert_eq!(code, 1);
    assert!(err.contains("no plan #99"), "{err}");
}

#[tokio::test]
async fn the_ledger_shows_spend_against_the_caps_and_matches_the_log() {
    let home = Home::with_demo();
    home.json(&["do", "ops.create_ad_campaign", "--args", CAMPAIGN, "--json"]);
    let report = home.json(&["ledger", "--json"]);
    assert_eq!(report["today"], "2026-11-24");
    assert_eq!(report["spent_today"], 50.0, "150 yuan over 3 days, from today: {report:#}");
    assert_eq!(report["spent_month"], 150.0);
    assert_eq!(report["daily_cap"], 500.0);
    assert_eq!(report["employees"][0]["employee"], "ops");
    assert_eq!(report["reconciled"], true);
    let (code, out, _) = home.run(&["ledger"]);
    assert_eq!(code, 0);
    assert!(out.contains("已花 ¥50 / 每日预算 ¥500"), "{out}");
    assert!(out.contains("账本与工作日志一致"), "{out}");

    // An employee's own cap is shown next to its spend once the owner sets one.
    home.json(&["perms", "grant", "ops", "daily_budget=200", "--json"]);
    let report = home.json(&["ledger", "--json"]);
    assert_eq!(report["employees"][0]["daily_cap"], 200.0, "{report:#}");
    let (_, out, _) = home.run(&["ledger"]);
    assert!(out.contains("今天 ¥50 / ¥200"), "{out}");
}

#[tokio::test]
async fn an_approval_expires_after_72_hours_and_then_runs_nothing() {
    let home = Home::with_demo();
    let args = r#"{"total_budget": 300, "days": 3}"#;
    let staged = home.json(&["do", "ops.create_ad_campaign", "--args", args, "--json"]);
    let id = staged["approval_id"].as_i64().unwrap().to_string();
    let listed = home.json(&["approvals", "show", &id, "--json"]);
    assert_eq!(listed["expires_at"], "2026-11-27T02:00:00Z");

    let out =
        home.cmd().env("SHOPCREW_NOW", "2026-11-27T02:00:01Z").args(["approvals", "approve", &id]).output().unwrap();
    assert_ne!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("expired"), "{err}");
    assert_eq!(home.count("SELECT COUNT(*) FROM ad_campaigns WHERE total_budget_fen = 30000").await, 0);
    assert_eq!(home.count("SELECT COUNT(*) FROM work_log WHERE details LIKE '%\"decision\":\"expired\"%'").await, 1);
    let all = home.json(&["approvals", "list", "--all", "--json"]);
    assert_eq!(all[0]["status"], "expired");
}

#[tokio::test]
async fn an_employees_own_daily_budget_holds_across_actions() {
    let home = Home::with_demo();
    home.json(&["perms", "grant", "ops", "daily_budget=100", "--json"]);
    let piece = r#"{"daily_budget": 60, "days": 1, "products": "cups"}"#;
    let (code, out, _) = home.run(&["do", "ops.create_ad_campaign", "--args", piece]);
    assert_eq!(code, 0, "{out}");
    // ¥60 + ¥60 is within the shop's ¥500 but above ops's own ¥100.
    let (code, out, _) = home.run(&["do", "ops.create_ad_campaign", "--args", piece]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("employee.ops.daily_budget"), "{out}");
    assert_eq!(home.count("SELECT COALESCE(SUM(amount_fen), 0) FROM ledger").await, 6_000);
    // Another employee's spending is not ops's.
    let coupon = r#"{"threshold": 100, "value": 5, "quantity": 10, "days": 1}"#;
    let (code, out, _) = home.run(&["do", "promo.create_coupon", "--args", coupon]);
    assert_eq!(code, 0, "{out}");
}
