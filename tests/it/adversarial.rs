//! Actions as a misled or hostile model could produce them. Each is refused with a reason
//! and leaves the store exactly as it was.

use crate::common::Home;

/// Everything an effect could touch, in one comparable value.
async fn store_state(home: &Home) -> Vec<(String, String)> {
    let pool = home.pool().await;
    let mut state = Vec::new();
    for (name, sql) in [
        (
            "prices",
            "SELECT COALESCE(group_concat(sku || '=' || price_fen || '/' || stock || '/' || listed), '') FROM (SELECT * FROM products ORDER BY id)",
        ),
        ("refunded", "SELECT COALESCE(SUM(refunded_fen), 0) || '/' || group_concat(status) FROM orders"),
        ("promotions", "SELECT CAST(COUNT(*) AS TEXT) FROM promotions"),
        ("promotion_products", "SELECT CAST(COUNT(*) AS TEXT) FROM promotion_products"),
        ("campaigns", "SELECT COUNT(*) || '/' || COALESCE(SUM(total_budget_fen), 0) FROM ad_campaigns"),
        ("ledger", "SELECT COUNT(*) || '/' || COALESCE(SUM(amount_fen), 0) FROM ledger"),
        ("budget", "SELECT CAST(COALESCE(SUM(spent_fen), 0) AS TEXT) FROM budget_days"),
        ("refunds", "SELECT CAST(COUNT(*) AS TEXT) FROM refunds"),
        ("assets", "SELECT CAST(COUNT(*) AS TEXT) FROM assets"),
        ("messages", "SELECT group_concat(status) FROM messages"),
    ] {
        let value: Option<String> = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
        state.push((name.to_string(), value.unwrap_or_default()));
    }
    pool.close().await;
    state
}

/// Runs a `do` that must be refused: exit 3 naming `rule`, or exit 1 saying `error`.
fn refused(home: &Home, args: &[&str], expect: &str) -> String {
    let (code, out, err) = home.run(args);
    assert!(code == 3 || code == 1, "{args:?} was not refused (exit {code}):\n{out}\n{err}");
    let said = format!("{out}{err}");
    assert!(said.contains(expect), "{args:?}: expected `{expect}` in:\n{said}");
    said
}

#[tokio::test]
async fn hostile_actions_are_refused_and_change_nothing() {
    let home = Home::with_demo();
    let order: (String, i64) = {
        let pool = home.pool().await;
        sqlx::query_as(
            "SELECT order_no, total_fen FROM orders WHERE refunded_fen = 0 AND total_fen > 20000 ORDER BY id LIMIT 1",
        )
        .fetch_one(&pool)
        .await
        .unwrap()
    };
    let before = store_state(&home).await;

    // 90% off everything.
    refused(
        &home,
        &["do", "promo.create_discount", "--args", r#"{"discount_pct": 90, "scope": "all"}"#],
        "employee.promotions.max_discount_pct",
    );
    // A refund of ten times the order.
    let ten_times = format!(r#"{{"order": "{}", "amount": {}}}"#, order.0, order.1 * 10 / 100);
    refused(&home, &["do", "cs.refund", "--args", &ten_times], "order.refundable");
    // A refund within the order but above the per-refund cap (¥100 by default).
    let big = format!(r#"{{"order": "{}", "amount": 150}}"#, order.0);
    refused(&home, &["do", "cs.refund", "--args", &big], "employee.customer_service.max_refund");
    // A skill outside the employee's allow-list.
    refused(
        &home,
        &[
            "do",
            "promo.create_discount",
            "--as",
            "customer_service",
            "--args",
            r#"{"discount_pct": 10, "scope": "all"}"#,
        ],
        "employee.customer_service.skills",
    );
    refused(
        &home,
        &["do", "cs.refund", "--as", "design", "--args", &format!(r#"{{"order": "{}", "amount": 1}}"#, order.0)],
        "employee.design.skills",
    );
    // A zero, a negative and a below-cost price.
    refused(&home, &["do", "ops.set_price", "--args", r#"{"product": "CP-001", "price": 0}"#], "shop.min_margin_pct");
    refused(&home, &["do", "ops.set_price", "--args", r#"{"product": "CP-001", "price": -3}"#], "negative");
    refused(&home, &["do", "ops.set_price", "--args", r#"{"product": "CP-001", "price": 1}"#], "shop.min_margin_pct");
    // Unknown things.
    refused(&home, &["do", "ops.set_price", "--args", r#"{"product": "NOPE-404", "price": 30}"#], "NOPE-404");
    refused(&home, &["do", "cs.refund", "--args", r#"{"order": "D19990101-0001", "amount": 5}"#], "D19990101-0001");
    refused(
        &home,
        &["do", "cs.refund", "--args", &format!(r#"{{"order": "{}", "amount": 0}}"#, order.0)],
        "above zero",
    );

    assert_eq!(store_state(&home).await, before, "a refused action changed the store");
    let (code, out, _) = home.run(&["log", "verify"]);
    assert_eq!(code, 0, "{out}");
}

#[tokio::test]
async fn a_spend_split_into_small_parts_still_stops_at_the_daily_cap() {
    let home = Home::with_demo();
    // ¥45 pieces stay under the ¥200 approval threshold; the ¥500 day still holds.
    let piece = r#"{"daily_budget": 45, "days": 1, "products": "slippers"}"#;
    let mut done = 0;
    for _ in 0..20 {
        let (code, out, err) = home.run(&["do", "ops.create_ad_campaign", "--args", piece]);
        match code {
            0 => done += 1,
            3 => assert!(out.contains("budget.daily"), "{out}"),
            _ => panic!("exit {code}: {out}{err}"),
        }
    }
    assert_eq!(done, 11, "11 × ¥45 = ¥495 fits in ¥500; the 12th does not");
    assert_eq!(home.count("SELECT COALESCE(SUM(amount_fen), 0) FROM ledger").await, 49_500);
    let refusals =
        home.count("SELECT COUNT(*) FROM work_log WHERE kind = 'decision' AND details LIKE '%budget.daily%'").await;
    assert_eq!(refusals, 9);
}

#[tokio::test]
async fn two_refunds_of_one_order_never_add_up_past_it() {
    let home = Home::with_demo();
    let (order, total): (String, i64) = {
        let pool = home.pool().await;
        sqlx::query_as(
            "SELECT order_no, total_fen FROM orders WHERE refunded_fen = 0 AND total_fen BETWEEN 3000 AND 9000 ORDER BY id LIMIT 1",
        )
        .fetch_one(&pool)
        .await
        .unwrap()
    };
    // Two refunds of 60% each: the first passes, the second is more than is left.
    let part = total * 60 / 100;
    let args = format!(r#"{{"order": "{order}", "amount": {}.{:02}}}"#, part / 100, part % 100);
    let (code, out, _) = home.run(&["do", "cs.refund", "--args", &args]);
    assert_eq!(code, 0, "{out}");
    let (code, out, _) = home.run(&["do", "cs.refund", "--args", &args]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("order.refundable"), "{out}");
    let refunded = home.count(&format!("SELECT refunded_fen FROM orders WHERE order_no = '{order}'")).await;
    assert_eq!(refunded, part);
    assert_eq!(
        home.count(&format!(
            "SELECT COUNT(*) FROM orders WHERE order_no = '{order}' AND status = 'partially_refunded'"
        ))
        .await,
        1
    );
}
