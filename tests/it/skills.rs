//! The skills beyond the first eight, each run through `shopcrew do` on the demo shop.

use crate::common::Home;

fn ok(home: &Home, skill: &str, args: &str) -> serde_json::Value {
    let report = home.json(&["do", skill, "--args", args, "--json"]);
    assert_eq!(report["status"], "done", "{skill} {args}: {report:#}");
    report
}

fn refused(home: &Home, skill: &str, args: &str, expect: &str) {
    let (code, out, err) = home.run(&["do", skill, "--args", args]);
    assert!(code == 1 || code == 3, "{skill} {args} was not refused:\n{out}{err}");
    assert!(format!("{out}{err}").contains(expect), "{skill} {args}: expected `{expect}` in\n{out}{err}");
}

#[tokio::test]
async fn flash_sales_respect_the_discount_cap_and_the_stacked_margin_floor_and_can_be_ended() {
    let home = Home::with_demo();
    // SL-001 lists at ¥15.90: ¥13 is about 18% off, within the 20% cap.
    let sale = ok(&home, "promo.flash_sale", r#"{"scope": "SL-001", "price": 13, "quantity": 50, "hours": 2}"#);
    let id = sale["details"]["promotion_id"].as_i64().unwrap();
    assert_eq!(home.count("SELECT COUNT(*) FROM promotions WHERE kind = 'flash_sale' AND quantity = 50").await, 1);
    assert_eq!(
        home.count("SELECT ends_at = '2026-11-24T04:00:00Z' FROM promotions WHERE kind = 'flash_sale'").await,
        1
    );
    refused(&home, "promo.flash_sale", r#"{"scope": "SL-001", "price": 10.5}"#, "employee.promotions.max_discount_pct");
    refused(&home, "promo.flash_sale", r#"{"scope": "SL-001"}"#, "either discount_pct or price");

    // TW-001 (cost ¥15, list ¥22, floor ¥16.50): 20% off, then a 10% flash sale on top is ¥15.84.
    let discount = ok(&home, "promo.create_discount", r#"{"discount_pct": 20, "scope": "TW-001"}"#);
    refused(&home, "promo.flash_sale", r#"{"scope": "TW-001", "discount_pct": 10}"#, "shop.min_margin_pct");
    // Ended, the discount no longer stacks, and ending twice is refused.
    let discount_id = discount["details"]["promotion_id"].as_i64().unwrap();
    ok(&home, "promo.end", &format!(r#"{{"promotion": {discount_id}}}"#));
    refused(&home, "promo.end", &format!(r#"{{"promotion": {discount_id}}}"#), "already ended");
    ok(&home, "promo.flash_sale", r#"{"scope": "TW-001", "discount_pct": 10}"#);
    ok(&home, "promo.end", &format!(r#"{{"promotion": {id}}}"#));
    refused(&home, "promo.end", r#"{"promotion": 999}"#, "no promotion #999");
}

#[tokio::test]
async fn listing_tagging_and_compensating() {
    let home = Home::with_demo();
    ok(&home, "ops.set_listed", r#"{"product": "SL-007", "listed": true}"#);
    assert_eq!(home.count("SELECT listed FROM products WHERE sku = 'SL-007'").await, 1);
    ok(&home, "ops.set_listed", r#"{"product": "SL-007", "listed": false}"#);
    assert_eq!(home.count("SELECT listed FROM products WHERE sku = 'SL-007'").await, 0);
    refused(&home, "ops.set_listed", r#"{"product": "NOPE-1", "listed": true}"#, "NOPE-1");

    let tagged = ok(&home, "cs.tag_customer", r#"{"customer": "C0001", "tag": "VIP"}"#);
    assert_eq!(tagged["details"]["added"], true);
    let again = ok(&home, "cs.tag_customer", r#"{"customer": "C0001", "tag": "vip"}"#);
    assert_eq!(again["details"]["added"], false, "a tag is kept once");
    assert_eq!(home.count("SELECT COUNT(*) FROM customers WHERE code = 'C0001' AND tags LIKE '%vip%'").await, 1);
    refused(&home, "cs.tag_customer", r#"{"customer": "C0001", "tag": "v i p"}"#, "a tag is");

    // Store credit is capped like a coupon (¥20 for customer service) and paid from the budget.
    ok(&home, "cs.compensate", r#"{"customer": "C0002", "value": 15, "reason": "late parcel"}"#);
    assert_eq!(home.count("SELECT COALESCE(SUM(value_fen), 0) FROM credits").await, 1500);
    assert_eq!(home.count("SELECT COALESCE(SUM(amount_fen), 0) FROM ledger WHERE skill = 'cs.compensate'").await, 1500);
    refused(&home, "cs.compensate", r#"{"customer": "C0002", "value": 30}"#, "employee.customer_service.max_coupon");
    refused(&home, "cs.compensate", r#"{"customer": "C9999", "value": 5}"#, "no customer `C9999`");
    // Only customer service may give credit.
    let (code, out, _) =
        home.run(&["do", "cs.compensate", "--as", "promotions", "--args", r#"{"customer": "C0002", "value": 5}"#]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("employee.promotions.skills"), "{out}");
}

#[tokio::test]
async fn ad_roi_and_product_ranking_match_the_store() {
    let home = Home::with_demo();
    let roi = ok(&home, "analyst.ad_roi", "{}");
    let campaigns = roi["details"]["campaigns"].as_array().unwrap();
    assert_eq!(campaigns.len(), 2);
    for c in campaigns {
        let id = c["campaign"].as_i64().unwrap();
        let spend = home.count(&format!("SELECT spend_fen FROM ad_campaigns WHERE id = {id}")).await;
        let gmv = home.count(&format!("SELECT attributed_gmv_fen FROM ad_campaigns WHERE id = {id}")).await;
        let tenths = gmv * 10 / spend;
        let want = if tenths % 10 == 0 {
            format!("1 : {}", tenths / 10)
        } else {
            format!("1 : {}.{}", tenths / 10, tenths % 10)
        };
        assert_eq!(c["roi_text"], want, "{c:#}");
    }
    refused(&home, "analyst.ad_roi", r#"{"campaign": 99}"#, "no ad campaign #99");

    // The best seller of a fixed window, counted here from the order lines directly.
    let period = r#"{"period": {"from": "2026-11-01", "to": "2026-11-15"}, "by": "units", "top": 3}"#;
    let ranking = ok(&home, "analyst.product_ranking", period);
    let pool = home.pool().await;
    let (sku, units): (String, i64) = sqlx::query_as(
        "SELECT p.sku, SUM(oi.quantity) AS units FROM order_items oi JOIN orders o ON o.id = oi.order_id \
         JOIN products p ON p.id = oi.product_id \
         WHERE o.ordered_at >= '2026-10-31T16:00:00Z' AND o.ordered_at < '2026-11-15T16:00:00Z' AND p.listed \
         GROUP BY p.id ORDER BY units DESC, p.sku LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(ranking["details"]["top"][0]["sku"], sku.as_str(), "{ranking:#}");
    assert_eq!(ranking["details"]["top"][0]["units"], units);
    assert_eq!(ranking["details"]["bottom"].as_array().unwrap().len(), 3);
    refused(&home, "analyst.product_ranking", r#"{"top": 0}"#, "top must be");
}

#[tokio::test]
async fn listings_are_kept_free_of_banned_words_and_the_audit_finds_what_slipped_in() {
    let home = Home::with_demo();
    refused(
        &home,
        "ops.update_listing",
        r#"{"product": "CP-001", "title": "全网最低价 销量第一的马克杯"}"#,
        "shop.banned_words",
    );
    refused(&home, "ops.update_listing", r#"{"product": "CP-001"}"#, "give a title");
    let long = "超".repeat(31);
    refused(
        &home,
        "ops.update_listing",
        &format!(r#"{{"product": "CP-001", "title": "{long}"}}"#),
        "30 Chinese characters, or 60 letters",
    );
    ok(
        &home,
        "ops.update_listing",
        r#"{"product": "CP-001", "title": "陶瓷马克杯 大容量", "keywords": "马克杯,办公"}"#,
    );
    assert_eq!(
        home.count("SELECT COUNT(*) FROM products WHERE sku = 'CP-001' AND title = '陶瓷马克杯 大容量'").await,
        1
    );

    // What came in some other way (an import, an old listing) is what the audit is for.
    let pool = home.pool().await;
    sqlx::query("UPDATE products SET description = '国家级工艺,100%好评' WHERE sku = 'TW-001'")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query(&format!("UPDATE products SET title = '{long}' WHERE sku = 'SL-001'")).execute(&pool).await.unwrap();
    pool.close().await;
    let audit = ok(&home, "design.listing_audit", "{}");
    let findings = audit["details"]["findings"].as_array().unwrap();
    let of =
        |sku: &str| findings.iter().find(|f| f["sku"] == sku).map(|f| f["problems"].to_string()).unwrap_or_default();
    assert!(of("TW-001").contains("国家级") && of("TW-001").contains("100%"), "{}", of("TW-001"));
    assert!(of("SL-001").contains("title_too_long"), "{}", of("SL-001"));
    let listed = home.count("SELECT COUNT(*) FROM products WHERE listed").await;
    assert_eq!(audit["details"]["audited"], listed);
    assert_eq!(findings.len() as i64, listed, "no product has a main image yet");
}

#[tokio::test]
async fn segments_growth_score_and_escalation() {
    let home = Home::with_demo();
    let seg = ok(&home, "analyst.customer_segments", "{}");
    let buyers = home.count("SELECT COUNT(DISTINCT customer_id) FROM orders").await;
    assert_eq!(seg["details"]["buyers"], buyers);
    let total: i64 =
        seg["details"]["segments"].as_array().unwrap().iter().map(|s| s["customers"].as_i64().unwrap()).sum();
    assert_eq!(total, buyers, "every buyer is in exactly one segment");
    let repeaters = home
        .count("SELECT COUNT(*) FROM (SELECT customer_id FROM orders GROUP BY customer_id HAVING COUNT(*) >= 2)")
        .await;
    assert_eq!(seg["details"]["repeat_rate_bp"], repeaters * 10_000 / buyers);

    // Growth points for the last 30 whole days (2026-10-25 .. 2026-11-23, Shanghai time).
    let score = ok(&home, "analyst.growth_score", "{}");
    let pool = home.pool().await;
    let (b, gmv, refunded): (i64, i64, i64) = sqlx::query_as(
        "SELECT COUNT(DISTINCT customer_id), SUM(total_fen), SUM(refunded_fen) FROM orders \
         WHERE ordered_at >= '2026-10-24T16:00:00Z' AND ordered_at < '2026-11-23T16:00:00Z'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    pool.close().await;
    assert_eq!(score["details"]["current"]["points"], b * 10 + gmv / 1000 - refunded / 500, "{score:#}");

    let message = home.count("SELECT MIN(id) FROM messages WHERE status = 'open'").await;
    ok(&home, "cs.escalate", &format!(r#"{{"message": {message}, "summary": "refund above the cap"}}"#));
    assert_eq!(
        home.count(&format!("SELECT COUNT(*) FROM messages WHERE id = {message} AND status = 'escalated'")).await,
        1
    );
    assert_eq!(home.count("SELECT COUNT(*) FROM escalations WHERE status = 'open'").await, 1);
    refused(&home, "cs.escalate", r#"{"message": 99999, "summary": "x"}"#, "no message #99999");
    refused(&home, "cs.escalate", r#"{"summary": ""}"#, "1 to 1000 characters");
}

#[tokio::test]
async fn joining_a_platform_campaign_is_a_discount_under_the_same_rules() {
    let home = Home::with_demo();
    let joined =
        ok(&home, "promo.join_campaign", r#"{"campaign": "双11官方大促", "discount_pct": 15, "scope": "mooncakes"}"#);
    assert!(joined["summary"].as_str().unwrap().contains("双11官方大促"), "{joined:#}");
    assert_eq!(
        home.count("SELECT COUNT(*) FROM promotions WHERE name = '双11官方大促' AND discount_bp = 1500").await,
        1
    );
    refused(
        &home,
        "promo.join_campaign",
        r#"{"campaign": "清仓", "discount_pct": 40, "scope": "mooncakes"}"#,
        "employee.promotions.max_discount_pct",
    );
}

#[tokio::test]
async fn main_images_and_detail_copy_are_assets_and_satisfy_the_audit() {
    let home = Home::with_demo();
    ok(&home, "promo.create_discount", r#"{"discount_pct": 20, "scope": "MC-001"}"#);
    let image = ok(&home, "design.main_image", r#"{"product": "MC-001"}"#);
    let path = image["files"][0].as_str().unwrap();
    let svg = std::fs::read_to_string(home.path().join(path)).unwrap();
    assert!(svg.contains("8折") && svg.contains("到手价 ¥60"), "the promotion shows on the image");
    // A PNG copy beside it where a font here draws Chinese (CI installs one).
    match image["details"]["png"].as_str() {
        Some(png) => {
            assert_eq!(image["files"][1], png);
            assert!(std::fs::read(home.path().join(png)).unwrap().starts_with(b"\x89PNG"), "{png} is a PNG");
        }
        None if shopcrew::png::chinese_font().is_none() => {
            eprintln!(
                "SKIPPED: no installed font draws Chinese, so the main image has no PNG (install fonts-wqy-zenhei)"
            );
        }
        None => panic!("a Chinese font is installed but no PNG was drawn: {image:#}"),
    }
    let audit = ok(&home, "design.listing_audit", r#"{"scope": "MC-001"}"#);
    assert_eq!(audit["details"]["findings"], serde_json::json!([]), "MC-001 has its main image now");

    let copy = ok(&home, "design.detail_copy", r#"{"product": "TW-001", "points": ["纯棉面料,吸水快干"]}"#);
    let text = std::fs::read_to_string(home.path().join(copy["files"][0].as_str().unwrap())).unwrap();
    assert!(text.contains("纯棉面料") && text.contains("天无理由退换"), "{text}");
    refused(&home, "design.detail_copy", r#"{"product": "TW-001", "points": ["全网最好的毛巾"]}"#, "shop.banned_words");
    assert_eq!(home.count("SELECT COUNT(*) FROM assets WHERE kind = 'detail_copy'").await, 1);
}

#[tokio::test]
async fn a_restock_plan_is_a_draft_that_always_waits_for_the_owner() {
    let home = Home::with_demo();
    let staged = home.json(&["do", "ops.restock_plan", "--args", r#"{"lead_time_days": 10}"#, "--json"]);
    assert_eq!(staged["status"], "pending", "{staged:#}");
    assert_eq!(staged["rule"], "employee.ops.modes.ops.restock_plan");
    assert_eq!(home.count("SELECT COUNT(*) FROM purchase_drafts").await, 0);
    let id = staged["approval_id"].as_i64().unwrap().to_string();
    let approved = home.json(&["approvals", "approve", &id, "--json"]);
    assert_eq!(approved["status"], "done", "{approved:#}");
    assert_eq!(home.count("SELECT COUNT(*) FROM purchase_drafts").await, 1);
    let lines = approved["details"]["lines"].as_array().unwrap();
    assert!(!lines.is_empty(), "the fast sellers need restocking: {approved:#}");
    assert!(lines.iter().all(|l| l["order"].as_i64().unwrap() > 0));

    // The owner cannot make a draft skip approval.
    let policy = home.path().join("policies/default.toml");
    let text = std::fs::read_to_string(&policy).unwrap();
    std::fs::write(&policy, format!("{text}\n[employee.ops.modes]\n\"ops.restock_plan\" = \"auto\"\n")).unwrap();
    let (code, _, err) = home.run(&["do", "ops.restock_plan"]);
    assert_eq!(code, 1);
    assert!(err.contains("always waits for the owner"), "{err}");
}

#[tokio::test]
async fn adjusting_a_campaign_spends_a_raise_through_the_ledger() {
    let home = Home::with_demo();
    let created = ok(&home, "ops.create_ad_campaign", r#"{"total_budget": 150, "days": 3, "products": "cups"}"#);
    let id = created["details"]["campaign_id"].as_i64().unwrap();
    ok(&home, "ops.adjust_ad_campaign", &format!(r#"{{"campaign": {id}, "action": "pause"}}"#));
    assert_eq!(
        home.count(&format!("SELECT COUNT(*) FROM ad_campaigns WHERE id = {id} AND status = 'paused'")).await,
        1
    );
    ok(&home, "ops.adjust_ad_campaign", &format!(r#"{{"campaign": {id}, "action": "resume", "bid": 1.2}}"#));
    // +¥150 over the 3 days left: ¥50 a day more, within the approval threshold.
    ok(&home, "ops.adjust_ad_campaign", &format!(r#"{{"campaign": {id}, "total_budget": 300}}"#));
    assert_eq!(home.count("SELECT COALESCE(SUM(amount_fen), 0) FROM ledger").await, 30_000);
    // A raise above the approval threshold waits for the owner.
    let staged = home.json(&[
        "do",
        "ops.adjust_ad_campaign",
        "--args",
        &format!(r#"{{"campaign": {id}, "total_budget": 600}}"#),
        "--json",
    ]);
    assert_eq!(staged["status"], "pending", "{staged:#}");
    refused(&home, "ops.adjust_ad_campaign", &format!(r#"{{"campaign": {id}}}"#), "give an action");
    refused(&home, "ops.adjust_ad_campaign", r#"{"campaign": 999, "action": "pause"}"#, "no ad campaign #999");
    let ledger = home.json(&["ledger", "--json"]);
    assert_eq!(ledger["reconciled"], true);
}

#[tokio::test]
async fn a_business_plan_is_proposed_and_accepted_in_part() {
    let home = Home::with_demo();
    let proposal = ok(&home, "analyst.business_plan", "{}");
    let plan_id = proposal["details"]["plan_id"].as_i64().unwrap().to_string();
    let tasks = proposal["details"]["plan"]["tasks"].as_array().unwrap().clone();
    assert!(!tasks.is_empty(), "{proposal:#}");
    assert_eq!(
        home.count("SELECT COUNT(*) FROM work_log WHERE kind = 'effect' AND plan_id IS NOT NULL").await,
        0,
        "nothing ran"
    );

    // Accept only the inbox task.
    let reply = tasks.iter().find(|t| t["skill"] == "cs.reply").expect("open messages give a reply task");
    let id = reply["id"].as_str().unwrap();
    let (code, out, err) = home.run(&["plan", "accept", &plan_id, "--tasks", id]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(home.count("SELECT COUNT(*) FROM messages WHERE status = 'open'").await, 0);
    let ran = home
        .count(&format!("SELECT COUNT(DISTINCT task_id) FROM work_log WHERE kind = 'effect' AND plan_id = {plan_id}"))
        .await;
    assert_eq!(ran, 1, "only the accepted task ran");
    // Accepting it again repeats nothing; unknown tasks and ordinary plans are refused.
    let (code, out, _) = home.run(&["plan", "accept", &plan_id, "--tasks", id]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("不再重复执行"), "{out}");
    let (code, _, err) = home.run(&["plan", "accept", &plan_id, "--tasks", "t99"]);
    assert_eq!(code, 1);
    assert!(err.contains("no task t99"), "{err}");
    home.run(&["chat", "月饼8折"]);
    let chat_plan = home.count("SELECT MAX(id) FROM plans").await.to_string();
    let (code, _, err) = home.run(&["plan", "accept", &chat_plan]);
    assert_eq!(code, 1);
    assert!(err.contains("not a proposal"), "{err}");
}

#[tokio::test]
async fn a_repeat_refunder_is_handed_to_the_owner_not_paid() {
    let home = Home::with_demo();
    // The demo shop has customers who keep asking for money back; take the most frequent one.
    let pool = home.pool().await;
    let (customer, order): (i64, String) = sqlx::query_as(
        "SELECT o.customer_id, (SELECT order_no FROM orders WHERE customer_id = o.customer_id AND refunded_fen = 0 \
         ORDER BY id DESC LIMIT 1) FROM orders o WHERE o.refunded_fen > 0 \
         AND o.ordered_at >= '2026-08-26T02:00:00Z' GROUP BY o.customer_id HAVING COUNT(*) >= 3 ORDER BY COUNT(*) DESC LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    pool.close().await;
    let report = ok(&home, "cs.refund", &format!(r#"{{"order": "{order}", "amount": 5}}"#));
    assert_eq!(report["details"]["refunded"], false, "{report:#}");
    assert_eq!(home.count("SELECT COUNT(*) FROM refunds").await, 0);
    assert_eq!(home.count("SELECT COUNT(*) FROM escalations").await, 1);
    let tagged = home
        .count(&format!("SELECT COUNT(*) FROM customers WHERE id = {customer} AND tags LIKE '%refund-risk%'"))
        .await;
    assert_eq!(tagged, 1);
}
