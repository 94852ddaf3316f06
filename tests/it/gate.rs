//! The owner's policy holds at the gate: caps deny, thresholds stage approvals, budgets hold
//! under concurrency, and nothing is written when an action is refused.

use std::sync::Arc;

use shopcrew::clock::FixedClock;
use shopcrew::crew::{Crew, Options};
use shopcrew::skills::StepStatus;

use crate::common::{Home, NOW};

#[tokio::test]
async fn discount_above_the_cap_is_denied_naming_the_rule_and_changes_nothing() {
    let home = Home::with_demo();
    let (code, out, _) =
        home.run(&["do", "promo.create_discount", "--args", r#"{"discount_pct": 30, "scope": "mooncakes"}"#]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("employee.promotions.max_discount_pct"), "{out}");
    assert!(out.contains("折扣 30% 超过上限 20%"), "{out}");
    assert_eq!(home.count("SELECT COUNT(*) FROM promotions").await, 0);
    let log = home.json(&["log", "--json"]);
    let last = log.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["kind"], "decision");
    assert_eq!(last["details"]["rule"], "employee.promotions.max_discount_pct");
}

#[tokio::test]
async fn price_below_cost_plus_ten_percent_is_denied() {
    let home = Home::with_demo();
    let (sku, cost, price): (String, i64, i64) = {
        let pool = home.pool().await;
        sqlx::query_as("SELECT sku, cost_fen, price_fen FROM products WHERE listed ORDER BY sku LIMIT 1")
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    // cost + 5%: above cost, below the cost + 10% floor.
    let low = cost * 105 / 100;
    let args = format!(r#"{{"product": "{sku}", "price": {}.{:02}}}"#, low / 100, low % 100);
    let (code, out, _) = home.run(&["--lang", "en", "do", "ops.set_price", "--args", &args]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("shop.min_margin_pct") && out.contains("below the floor"), "{out}");
    let now: i64 = home.count(&format!("SELECT price_fen FROM products WHERE sku = '{sku}'")).await;
    assert_eq!(now, price, "the price is unchanged");

    // At the floor itself the change goes through.
    let floor = (cost * 110 + 99) / 100;
    if floor.abs_diff(price) * 100 <= (price as u64) * 30 {
        let args = format!(r#"{{"product": "{sku}", "price": {}.{:02}}}"#, floor / 100, floor % 100);
        let (code, out, _) = home.run(&["do", "ops.set_price", "--args", &args]);
        assert_eq!(code, 0, "{out}");
    }
}

#[tokio::test]
async fn spend_above_the_approval_threshold_waits_for_the_owner() {
    let home = Home::with_demo();
    let args = r#"{"total_budget": 300, "days": 3, "products": "slippers"}"#;
    let report = home.json(&["do", "ops.create_ad_campaign", "--args", args, "--json"]);
    assert_eq!(report["status"], "pending");
    assert_eq!(report["rule"], "budget.approval_above");
    let id = report["approval_id"].as_i64().unwrap();
    let listed = home.json(&["approvals", "list", "--json"]);
    assert_eq!(listed[0]["id"], id);
    assert_eq!(listed[0]["args"], serde_json::from_str::<serde_json::Value>(args).unwrap());
    assert_eq!(home.count("SELECT COUNT(*) FROM ledger").await, 0);
    assert_eq!(home.count("SELECT COUNT(*) FROM budget_days").await, 0);

    let (code, out, _) = home.run(&["approvals", "reject", &id.to_string(), "--reason", "too early"]);
    assert_eq!(code, 0, "{out}");
    let all = home.json(&["approvals", "list", "--all", "--json"]);
    assert_eq!(all[0]["status"], "rejected");
    assert_eq!(home.count("SELECT COUNT(*) FROM ad_campaigns WHERE total_budget_fen = 30000").await, 0);
}

#[tokio::test]
async fn a_tampered_approval_is_not_executed() {
    let home = Home::with_demo();
    let report =
        home.json(&["do", "ops.create_ad_campaign", "--args", r#"{"total_budget": 300, "days": 3}"#, "--json"]);
    let id = report["approval_id"].as_i64().unwrap();
    {
        let pool = home.pool().await;
        sqlx::query("UPDATE approvals SET args = $1 WHERE id = $2")
            .bind(r#"{"days":3,"total_budget":3000}"#)
            .bind(id)
            .execute(&pool)
            .await
            .unwrap();
    }
    let (code, _, err) = home.run(&["approvals", "approve", &id.to_string()]);
    assert_eq!(code, 1);
    assert!(err.contains("does not match"), "{err}");
    assert_eq!(home.count("SELECT COUNT(*) FROM ledger").await, 0);
}

#[tokio::test]
async fn concurrent_spends_never_exceed_the_daily_budget() {
    let home = Home::with_demo();
    let clock = Arc::new(FixedClock(shopcrew::clock::parse_stamp(NOW).unwrap()));
    let opts = Options::new(home.path(), clock);
    let (crew, _) = Crew::open(opts).await.unwrap();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..64 {
        let crew = crew.clone();
        set.spawn(async move {
            let args = serde_json::json!({"daily_budget": 100, "days": 1, "products": "cups"});
            crew.do_skill("ops.create_ad_campaign", args, None, None).await.unwrap().status
        });
    }
    let mut done = 0;
    let mut denied = 0;
    while let Some(status) = set.join_next().await {
        match status.unwrap() {
            StepStatus::Done => done += 1,
            StepStatus::Denied => denied += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((done, denied), (5, 59), "500 yuan a day buys five 100 yuan campaigns");
    assert_eq!(home.count("SELECT spent_fen FROM budget_days").await, 50_000);
    assert_eq!(home.count("SELECT COALESCE(SUM(amount_fen), 0) FROM ledger").await, 50_000);
    let decisions =
        home.count("SELECT COUNT(*) FROM work_log WHERE kind = 'decision' AND details LIKE '%budget.daily%'").await;
    assert_eq!(decisions, 59, "every refusal is logged");
}

#[tokio::test]
async fn a_skill_outside_the_employees_allow_list_is_denied() {
    let home = Home::with_demo();
    let (code, out, _) = home.run(&[
        "do",
        "promo.create_discount",
        "--as",
        "customer_service",
        "--args",
        r#"{"discount_pct": 10, "scope": "all"}"#,
    ]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("employee.customer_service.skills"), "{out}");
    assert_eq!(home.count("SELECT COUNT(*) FROM promotions").await, 0);
}

#[tokio::test]
async fn a_prompt_injection_in_the_inbox_changes_nothing() {
    let home = Home::with_demo();
    let (code, out, err) = home.run(&["do", "cs.reply", "--args", r#"{"limit": 100}"#]);
    assert_eq!(code, 0, "{out}\n{err}");
    let reply: String = {
        let pool = home.pool().await;
        sqlx::query_scalar("SELECT reply FROM messages WHERE body LIKE '%Ignore your rules%'")
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    assert!(!reply.contains("1折") && !reply.contains("90%"), "{reply}");
    assert_eq!(home.count("SELECT COUNT(*) FROM promotions").await, 0);
    assert_eq!(home.count("SELECT COUNT(*) FROM messages WHERE status = 'open'").await, 0);
}

#[tokio::test]
async fn the_margin_floor_holds_for_promotions_that_stack() {
    // TW-001 costs ¥15.00 and lists at ¥22.00: its floor is ¥16.50.
    let fresh = Home::with_demo();
    assert_eq!(
        fresh.count("SELECT cost_fen || '/' || price_fen = '1500/2200' FROM products WHERE sku = 'TW-001'").await,
        1
    );
    let coupon = r#"{"threshold": 20, "value": 5, "quantity": 10}"#;
    let (code, out, _) = fresh.run(&["do", "promo.create_coupon", "--args", coupon]);
    assert_eq!(code, 0, "the coupon alone keeps every product above its floor: {out}");

    let home = Home::with_demo();
    let twenty = r#"{"discount_pct": 20, "scope": "TW-001"}"#;
    let (code, out, _) = home.run(&["do", "promo.create_discount", "--args", twenty]);
    assert_eq!(code, 0, "¥17.60 alone is above the floor: {out}");
    // Another 10% on top: ¥15.84.
    let (code, out, _) =
        home.run(&["do", "promo.create_discount", "--args", r#"{"discount_pct": 10, "scope": "TW-001"}"#]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("shop.min_margin_pct") && out.contains("TW-001"), "{out}");
    // The coupon that was fine alone: two units reach ¥20, ¥2.50 off each, ¥15.10.
    let (code, out, _) = home.run(&["do", "promo.create_coupon", "--args", coupon]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("shop.min_margin_pct") && out.contains("TW-001"), "{out}");
    // A new list price of ¥20: fine alone (floor ¥16.50), ¥16.00 under the running 20% off.
    let (code, out, _) = home.run(&["do", "ops.set_price", "--args", r#"{"product": "TW-001", "price": 20}"#]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("shop.min_margin_pct"), "{out}");
    let (code, out, _) = fresh.run(&["do", "ops.set_price", "--args", r#"{"product": "TW-001", "price": 20}"#]);
    assert_eq!(code, 3, "with the coupon running, ¥20 − ¥5 = ¥15 is below the floor too: {out}");
    let other = Home::with_demo();
    let (code, out, _) = other.run(&["do", "ops.set_price", "--args", r#"{"product": "TW-001", "price": 20}"#]);
    assert_eq!(code, 0, "alone it is fine: {out}");
    assert_eq!(home.count("SELECT COUNT(*) FROM promotions").await, 1);
}

#[tokio::test]
async fn price_changes_per_product_per_day_are_limited_when_the_owner_says_so() {
    let home = Home::with_demo();
    let (code, out, err) = home.run(&["perms", "grant", "ops", "max_price_changes_per_product_per_day=2"]);
    assert_eq!(code, 0, "{out}{err}");
    for price in ["35", "34"] {
        let args = format!(r#"{{"product": "CP-001", "price": {price}}}"#);
        let (code, out, _) = home.run(&["do", "ops.set_price", "--args", &args]);
        assert_eq!(code, 0, "{out}");
    }
    let (code, out, _) = home.run(&["do", "ops.set_price", "--args", r#"{"product": "CP-001", "price": 33}"#]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("max_price_changes_per_product_per_day"), "{out}");
    // Another product, or the next shop-local day, is fine.
    let (code, out, _) = home.run(&["do", "ops.set_price", "--args", r#"{"product": "CP-002", "price": 18}"#]);
    assert_eq!(code, 0, "{out}");
    let out = home
        .cmd()
        .env("SHOPCREW_NOW", "2026-11-24T16:00:00Z")
        .args(["do", "ops.set_price", "--args", r#"{"product": "CP-001", "price": 33}"#])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
}

#[tokio::test]
async fn a_campaign_above_the_per_campaign_cap_is_denied_and_approvals_expire_when_the_owner_says() {
    let home = Home::with_demo();
    let policy = home.path().join("policies/default.toml");
    let text = std::fs::read_to_string(&policy).unwrap();
    let text = text
        .replace("# max_campaign = 1000", "max_campaign = 400")
        .replace("# approval_expiry_hours = 72", "approval_expiry_hours = 24");
    std::fs::write(&policy, text).unwrap();

    let (code, out, _) = home.run(&["do", "ops.create_ad_campaign", "--args", r#"{"total_budget": 450, "days": 5}"#]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("budget.max_campaign") && out.contains("¥400"), "{out}");
    assert_eq!(home.count("SELECT COUNT(*) FROM ledger").await, 0);

    let staged =
        home.json(&["do", "ops.create_ad_campaign", "--args", r#"{"total_budget": 300, "days": 3}"#, "--json"]);
    assert_eq!(staged["status"], "pending", "{staged:#}");
    let id = staged["approval_id"].as_i64().unwrap().to_string();
    let shown = home.json(&["approvals", "show", &id, "--json"]);
    assert_eq!(shown["expires_at"], "2026-11-25T02:00:00Z");
}
