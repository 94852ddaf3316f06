//! The command-line contract: the Mid-Autumn request end to end, listings, and clear errors.

use crate::common::{Home, MID_AUTUMN};

#[test]
fn mid_autumn_request_plans_three_tasks_with_the_banner_after_the_discount() {
    let home = Home::with_demo();
    let plan = home.json(&["plan", MID_AUTUMN, "--json"]);
    assert_eq!(plan["request"], MID_AUTUMN);
    let tasks = plan["tasks"].as_array().expect("tasks");
    assert_eq!(tasks.len(), 3, "{plan:#}");

    let discount = &tasks[0];
    assert_eq!(discount["employee"], "promotions");
    assert_eq!(discount["skill"], "promo.create_discount");
    assert_eq!(discount["args"]["discount_pct"], 20);
    assert_eq!(discount["args"]["scope"], "mooncakes");

    let banner = &tasks[1];
    assert_eq!(banner["employee"], "design");
    assert_eq!(banner["skill"], "design.banner");
    assert_eq!(banner["depends_on"], serde_json::json!([discount["id"]]));

    let ads = &tasks[2];
    assert_eq!(ads["employee"], "ops");
    assert_eq!(ads["skill"], "ops.create_ad_campaign");
    assert_eq!(ads["args"]["total_budget"], 500);
}

#[tokio::test]
async fn mid_autumn_chat_creates_the_discount_and_banner_and_stages_the_campaign() {
    let home = Home::with_demo();
    let (code, out, err) = home.run(&["chat", MID_AUTUMN]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("已创建折扣"), "{out}");
    assert!(out.contains("等待店主批准"), "{out}");

    // The banner is a real SVG file in the home's assets, recorded with its hash.
    let path: String = {
        let pool = home.pool().await;
        sqlx::query_scalar("SELECT path FROM assets WHERE kind = 'banner' AND path LIKE '%.svg'")
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    assert!(out.contains(&path), "the banner path is shown to the owner:\n{out}");
    let svg = std::fs::read_to_string(home.path().join(&path)).unwrap();
    assert!(svg.starts_with("<svg") || svg.starts_with("<?xml"), "{svg}");
    assert!(svg.contains("8折"), "the banner shows the discount");

    // The discount is stored with a promotion price for every mooncake product.
    assert_eq!(home.count("SELECT COUNT(*) FROM promotions WHERE kind = 'discount' AND discount_bp = 2000").await, 1);
    let mooncakes = home.count("SELECT COUNT(*) FROM products WHERE category = 'mooncakes' AND listed").await;
    assert_eq!(home.count("SELECT COUNT(*) FROM promotion_products").await, mooncakes);

    // The 500 yuan campaign waits for the owner, and nothing was spent yet.
    let pending = home.json(&["approvals", "--json"]);
    let pending = pending.as_array().unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0]["skill"], "ops.create_ad_campaign");
    assert_eq!(pending[0]["rule"], "budget.approval_above");
    assert_eq!(
        home.count("SELECT COUNT(*) FROM ad_campaigns WHERE name LIKE '%推广' AND created_at = '2026-11-24T02:00:00Z'")
            .await,
        0
    );

    // The log shows every step and verifies.
    let log = home.json(&["log", "--json"]);
    let kinds: Vec<&str> = log.as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    for kind in ["setup", "request", "plan", "effect", "approval"] {
        assert!(kinds.contains(&kind), "no {kind} entry in {kinds:?}");
    }
    let (code, out, _) = home.run(&["log", "verify"]);
    assert_eq!(code, 0);
    assert!(out.contains("完好"), "{out}");

    // Approving runs the campaign now, with a fresh gate check, and spends the budget.
    let id = pending[0]["id"].as_i64().unwrap().to_string();
    let (code, out, err) = home.run(&["approvals", "approve", &id]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("已创建推广"), "{out}");
    assert_eq!(home.count("SELECT COALESCE(SUM(amount_fen), 0) FROM ledger").await, 50_000);
    let (code, _, err) = home.run(&["approvals", "approve", &id]);
    assert_ne!(code, 0, "an approval runs once");
    assert!(err.contains("not pending"), "{err}");
}

#[tokio::test]
async fn approving_a_staged_task_runs_the_tasks_that_waited_on_it_once() {
    let home = Home::with_demo();
    let policy = home.path().join("policies/default.toml");
    let text = std::fs::read_to_string(&policy).unwrap();
    let text = text.replace("# approval_above_discount_pct = 15", "approval_above_discount_pct = 15");
    std::fs::write(&policy, text).unwrap();

    // The owner now stages discounts above 15%: the 8折 discount waits, and so does its banner.
    let (code, out, err) = home.run(&["chat", MID_AUTUMN]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(out.matches("等待店主批准").count(), 2, "{out}");
    assert!(out.contains("已跳过:依赖的任务 t1 未完成(等待批准)"), "{out}");
    assert_eq!(home.count("SELECT COUNT(*) FROM promotions").await, 0);
    assert_eq!(home.count("SELECT COUNT(*) FROM assets").await, 0);
    let pending = home.json(&["approvals", "list", "--json"]);
    let discount = pending.as_array().unwrap().iter().find(|a| a["skill"] == "promo.create_discount").unwrap();
    assert_eq!(discount["rule"], "employee.promotions.approval_above_discount_pct");
    let id = discount["id"].as_i64().unwrap().to_string();

    // Approving creates the discount, then the banner that waited on it; the campaign still waits.
    let approved = home.json(&["approvals", "approve", &id, "--json"]);
    assert_eq!(approved["status"], "done", "{approved:#}");
    let resumed = approved["resumed"].as_array().unwrap();
    assert_eq!(resumed.len(), 1, "{approved:#}");
    assert_eq!((resumed[0]["task_id"].as_str(), resumed[0]["status"].as_str()), (Some("t2"), Some("done")));
    assert_eq!(home.count("SELECT COUNT(*) FROM promotions WHERE discount_bp = 2000").await, 1);
    assert_eq!(home.count("SELECT COUNT(*) FROM assets WHERE kind = 'banner' AND path LIKE '%.svg'").await, 1);
    assert_eq!(home.count("SELECT COUNT(*) FROM approvals WHERE status = 'pending'").await, 1);

    // Approving the campaign resumes nothing more: the banner is made once.
    let campaign = home.json(&["approvals", "list", "--json"])[0]["id"].as_i64().unwrap().to_string();
    let approved = home.json(&["approvals", "approve", &campaign, "--json"]);
    assert_eq!(approved["status"], "done", "{approved:#}");
    assert_eq!(approved["resumed"], serde_json::json!([]));
    assert_eq!(home.count("SELECT COUNT(*) FROM assets WHERE kind = 'banner' AND path LIKE '%.svg'").await, 1);
    let (code, _, _) = home.run(&["log", "verify"]);
    assert_eq!(code, 0);
}

#[test]
fn chat_json_keeps_stdout_one_document_and_streams_progress_on_stderr() {
    let home = Home::with_demo();
    let (code, out, err) = home.run(&["chat", MID_AUTUMN, "--json"]);
    assert_eq!(code, 0, "{out}{err}");
    let result: serde_json::Value = serde_json::from_str(&out).expect("stdout is one JSON document");
    assert_eq!(result["result"], "ran");
    let events: Vec<serde_json::Value> =
        err.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect();
    assert_eq!(events[0]["event"], "planned");
    assert_eq!(events.iter().filter(|e| e["event"] == "started").count(), 3);
    assert_eq!(events.iter().filter(|e| e["event"] == "finished").count(), 3);
}

#[test]
fn a_request_it_cannot_understand_runs_nothing_and_says_why() {
    let home = Home::with_demo();
    let (code, out, _) = home.run(&["chat", "月饼8折,然后帮我把仓库搬到杭州"]);
    assert_ne!(code, 0);
    assert!(out.contains("仓库搬到杭州"), "names what it did not understand:\n{out}");
    let log = home.json(&["log", "--json"]);
    assert!(log.as_array().unwrap().iter().all(|e| e["kind"] != "effect"), "nothing ran");
}

#[test]
fn an_empty_home_sets_up_the_demo_shop_and_says_so() {
    let home = Home::new();
    let (code, out, err) = home.run(&["employees"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("演示店铺"), "announces the demo shop on stderr: {err}");
    for id in ["ops", "design", "customer_service", "promotions", "analyst", "planner"] {
        assert!(out.contains(id), "{id} missing from:\n{out}");
    }
    // The second command finds the shop and says nothing more.
    let (_, _, err) = home.run(&["employees"]);
    assert!(!err.contains("演示店铺"), "{err}");
}

#[test]
fn skills_list_their_argument_schemas() {
    let home = Home::with_demo();
    let skills = home.json(&["skills", "--json"]);
    let skills = skills.as_array().unwrap();
    assert_eq!(skills.len(), 27);
    let coupon = skills.iter().find(|s| s["id"] == "promo.create_coupon").unwrap();
    for arg in ["threshold", "value", "quantity"] {
        assert!(coupon["schema"]["properties"].get(arg).is_some(), "{arg}: {coupon:#}");
    }
    let employees = home.json(&["employees", "--json"]);
    assert_eq!(employees.as_array().unwrap().len(), 6);
}

#[test]
fn errors_are_clear_and_exit_non_zero() {
    let home = Home::with_demo();

    let (code, _, err) = home.run(&["do", "promo.make_it_rain", "--args", "{}"]);
    assert_eq!(code, 1);
    assert!(err.contains("unknown skill `promo.make_it_rain`") && err.contains("shopcrew skills"), "{err}");

    let (code, _, err) = home.run(&["do", "promo.create_discount", "--args", "{discount: 20"]);
    assert_eq!(code, 1);
    assert!(err.contains("not valid JSON"), "{err}");

    let (code, _, err) = home.run(&["do", "promo.create_discount", "--args", r#"{"discount_pct": "lots"}"#]);
    assert_eq!(code, 1);
    assert!(err.contains("invalid arguments for promo.create_discount"), "{err}");

    let file = home.path().join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    let (code, _, err) = home.run(&["--home", file.to_str().unwrap(), "employees"]);
    assert_eq!(code, 1);
    assert!(err.contains("cannot use home directory") && err.contains("--home"), "{err}");

    let policy = home.path().join("policies/default.toml");
    let text = std::fs::read_to_string(&policy).unwrap().replace("max_discount_pct = 20", "max_discount_pct = 120");
    std::fs::write(&policy, text.as_bytes()).unwrap();
    let line = text.lines().position(|l| l.starts_with("max_discount_pct")).unwrap() + 1;
    let (code, _, err) = home.run(&["log"]);
    assert_eq!(code, 1);
    assert!(err.contains(&format!("default.toml:{line}: max_discount_pct = 120 is above 100")), "{err}");
}

#[test]
fn the_offline_planner_reads_the_newer_skill_families_in_chinese_and_english() {
    let home = Home::with_demo();
    let cases: &[(&str, &str, serde_json::Value)] = &[
        ("看看推广投产比", "analyst.ad_roi", serde_json::json!({})),
        ("how are the ads doing", "analyst.ad_roi", serde_json::json!({})),
        ("上个月哪些商品卖得最好", "analyst.product_ranking", serde_json::json!({"period": "last_month", "by": "gmv"})),
        ("按毛利排一下商品", "analyst.product_ranking", serde_json::json!({"period": "last_30_days", "by": "margin"})),
        ("客户分层和复购率", "analyst.customer_segments", serde_json::json!({})),
        ("这个月经营分多少", "analyst.growth_score", serde_json::json!({})),
        ("出一份本周经营计划", "analyst.business_plan", serde_json::json!({})),
        ("make this week's business plan", "analyst.business_plan", serde_json::json!({})),
        ("检查一下商品信息", "design.listing_audit", serde_json::json!({})),
        ("给 MC-001 做一张主图", "design.main_image", serde_json::json!({"product": "MC-001"})),
        ("write the detail copy for TW-001", "design.detail_copy", serde_json::json!({"product": "TW-001"})),
        ("做个补货计划,到货要10天", "ops.restock_plan", serde_json::json!({"lead_time_days": 10})),
        ("restock plan, lead time 10 days", "ops.restock_plan", serde_json::json!({"lead_time_days": 10})),
        ("把 SL-007 上架", "ops.set_listed", serde_json::json!({"product": "SL-007", "listed": true})),
        ("delist CP-006", "ops.set_listed", serde_json::json!({"product": "CP-006", "listed": false})),
        (
            "拖鞋限时秒杀9折",
            "promo.flash_sale",
            serde_json::json!({"scope": "slippers", "hours": 24, "quantity": 100, "discount_pct": 10}),
        ),
        (
            "flash sale on SL-001 for 2 hours at 12 yuan",
            "promo.flash_sale",
            serde_json::json!({"scope": ["SL-001"], "hours": 2, "quantity": 100, "price": 12}),
        ),
        ("结束促销 #3", "promo.end", serde_json::json!({"promotion": 3})),
        ("end promotion 3", "promo.end", serde_json::json!({"promotion": 3})),
    ];
    for (request, skill, args) in cases {
        let plan = home.json(&["plan", request, "--json"]);
        let tasks = plan["tasks"].as_array().unwrap();
        assert_eq!(tasks.len(), 1, "{request}: {plan:#}");
        assert_eq!(tasks[0]["skill"], *skill, "{request}");
        assert_eq!(&tasks[0]["args"], args, "{request}");
    }
    let (code, out, _) = home.run(&["plan", "做一张主图"]);
    assert_ne!(code, 0);
    assert!(out.contains("哪个商品"), "a main image needs its product: {out}");
}

/// Every phrasing a skill file gives, in Chinese and English, is planned offline to that skill
/// and runs through the gate on the demo shop: done, waiting for the owner or refused by a
/// rule, never failed on its arguments.
#[test]
fn every_skill_phrasing_plans_offline_to_its_skill_and_runs() {
    let home = Home::with_demo();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("skills");
    let mut phrasings = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let file: toml::Table = toml::from_str(&text).unwrap();
        let id = file["id"].as_str().unwrap().to_string();
        for lang in ["zh", "en"] {
            let said = file["phrasings"][lang].as_array().unwrap_or_else(|| panic!("{id} has {lang} phrasings"));
            assert!(!said.is_empty(), "{id} has {lang} phrasings");
            phrasings.extend(said.iter().map(|p| (id.clone(), p.as_str().unwrap().to_string())));
        }
    }
    let skills: std::collections::BTreeSet<_> = phrasings.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(skills.len(), 27);
    // Ending a promotion needs promotions to end: a shop of its own with three of them.
    let ending = Home::with_demo();
    for scope in ["towels", "cups", "storage_boxes"] {
        let args = format!(r#"{{"discount_pct": 5, "scope": "{scope}"}}"#);
        let (code, out, err) = ending.run(&["do", "promo.create_discount", "--args", &args]);
        assert_eq!(code, 0, "{out}{err}");
    }
    for (skill, request) in &phrasings {
        let home = if skill == "promo.end" { &ending } else { &home };
        let report = home.json(&["chat", request, "--json"]);
        let tasks = report["tasks"].as_array().unwrap_or_else(|| panic!("{request}: {report:#}"));
        let task = tasks.iter().find(|t| t["skill"] == *skill).unwrap_or_else(|| panic!("{request}: {report:#}"));
        let status = task["status"].as_str().unwrap();
        assert!(["done", "pending", "denied"].contains(&status), "{request}: {task:#}");
    }
}
