//! Importing a merchant's own data: the real UCI Online Retail sample, idempotent re-imports,
//! all-or-nothing on a bad row, and the analyst's figures against an independent count.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use crate::common::Home;

const MAP: &str = "order_id=InvoiceNo,sku=StockCode,title=Description,quantity=Quantity,ordered_at=InvoiceDate,unit_price=UnitPrice,customer_id=CustomerID";

fn sample() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/uci/online_retail_sample_5k.csv")
}

fn import(home: &Home, file: &std::path::Path) -> (i32, String, String) {
    home.run(&[
        "import",
        "orders",
        file.to_str().unwrap(),
        "--map",
        MAP,
        "--date-format",
        "%m/%d/%y %H:%M",
        "--default-margin",
        "40",
        "--currency",
        "GBP",
        "--json",
    ])
}

fn empty_shop() -> Home {
    let home = Home::new();
    let (code, out, err) = home.run(&["init"]);
    assert_eq!(code, 0, "{out}{err}");
    home
}

#[tokio::test]
async fn the_uci_sample_imports_once_and_the_analyst_agrees_with_an_independent_count() {
    let home = empty_shop();
    let (code, out, err) = import(&home, &sample());
    assert_eq!(code, 0, "{out}{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["rows"], 5000);
    assert!(report["default_margin_used"].as_u64().unwrap() > 0, "the import says it assumed costs");

    // Independently, from the CSV text: per invoice, the sum of quantity × price in pence.
    let mut reader = csv::Reader::from_path(sample()).unwrap();
    let mut totals: BTreeMap<String, i64> = BTreeMap::new();
    let mut buyers = BTreeSet::new();
    for row in reader.records() {
        let row = row.unwrap();
        let quantity: i64 = row[3].parse().unwrap();
        let (pounds, pence) = row[5].split_once('.').unwrap_or((&row[5], "0"));
        let price = pounds.parse::<i64>().unwrap() * 100 + format!("{pence:0<2}").parse::<i64>().unwrap();
        *totals.entry(row[0].to_string()).or_default() += quantity * price;
        buyers.insert(if row[6].is_empty() { "guest".to_string() } else { row[6].to_string() });
    }
    let gmv: i64 = totals.values().map(|t| t.abs()).sum();
    let refunded: i64 = totals.values().filter(|t| **t < 0).map(|t| -t).sum();
    let refund_orders = totals.values().filter(|t| **t < 0).count();

    let report = home.json(&[
        "do",
        "analyst.sales_report",
        "--args",
        r#"{"period": {"from": "2010-12-01", "to": "2010-12-31"}}"#,
        "--json",
    ]);
    let current = &report["details"]["current"];
    assert_eq!(current["orders"], totals.len());
    assert_eq!(current["buyers"], buyers.len());
    assert_eq!((current["gmv"].as_f64().unwrap() * 100.0).round() as i64, gmv);
    assert_eq!((current["refunded"].as_f64().unwrap() * 100.0).round() as i64, refunded);
    assert_eq!(current["refund_orders"], refund_orders);

    // Again: nothing changes.
    let before = home.count("SELECT COUNT(*) FROM order_items").await;
    let (code, out, _) = import(&home, &sample());
    assert_eq!(code, 0, "{out}");
    let again: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (again["orders_created"].as_u64(), again["orders_skipped"].as_u64()),
        (Some(0), Some(totals.len() as u64))
    );
    assert_eq!(home.count("SELECT COUNT(*) FROM order_items").await, before);
    let (code, out, _) = home.run(&["log", "verify"]);
    assert_eq!(code, 0, "{out}");
}

#[tokio::test]
async fn a_bad_row_imports_nothing_and_names_its_line() {
    let home = empty_shop();
    let text = std::fs::read_to_string(sample()).unwrap();
    // Line 101 of the file (the header is line 1) gets a quantity that is not a number.
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let broken = home.path().join("broken.csv");
    let mut writer = csv::Writer::from_path(&broken).unwrap();
    writer.write_record(&headers).unwrap();
    for (i, row) in reader.records().enumerate() {
        let mut row: Vec<String> = row.unwrap().iter().map(str::to_string).collect();
        if i + 2 == 101 {
            row[3] = "lots".into();
        }
        writer.write_record(&row).unwrap();
    }
    writer.flush().unwrap();
    let (code, out, err) = import(&home, &broken);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("line 101") && err.contains("nothing was imported"), "{err}");
    assert_eq!(home.count("SELECT COUNT(*) FROM orders").await, 0);
    assert_eq!(home.count("SELECT COUNT(*) FROM products").await, 0);

    // Without a cost and without --default-margin, new products are refused by line.
    let (code, _, err) = home.run(&[
        "import",
        "orders",
        sample().to_str().unwrap(),
        "--map",
        MAP,
        "--date-format",
        "%m/%d/%y %H:%M",
        "--currency",
        "GBP",
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("line 2") && err.contains("--default-margin"), "{err}");
    let (code, _, err) = home.run(&["import", "orders", sample().to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("no column `order_id`") && err.contains("--map"), "{err}");
}

#[tokio::test]
async fn products_import_with_canonical_headers_and_updates_in_place() {
    let home = Home::with_demo();
    let file = home.path().join("products.csv");
    std::fs::write(&file, "sku,title,category,price,cost,stock,listed\nNEW-1,新款保温杯,cups,59.9,30,12,true\nCP-001,马克杯 大号,cups,38,22,5,yes\n").unwrap();
    let report = home.json(&["import", "products", file.to_str().unwrap(), "--json"]);
    assert_eq!((report["products_created"].as_u64(), report["products_updated"].as_u64()), (Some(1), Some(1)));
    assert_eq!(home.count("SELECT price_fen FROM products WHERE sku = 'CP-001'").await, 3800);

    let missing = home.path().join("missing.csv");
    std::fs::write(&missing, "sku,title,price\nNEW-2,杯垫,9.9\n").unwrap();
    let (code, _, err) = home.run(&["import", "products", missing.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("line 2") && err.contains("--default-margin"), "{err}");
    let report = home.json(&["import", "products", missing.to_str().unwrap(), "--default-margin", "50", "--json"]);
    assert_eq!(report["default_margin_used"], 1);
    assert_eq!(home.count("SELECT cost_fen FROM products WHERE sku = 'NEW-2'").await, 660, "¥9.90 / 1.5");
}

/// Every skill on the imported real data (a UK shop, in pounds), the day after its last
/// order: each is done, waits for the owner or is refused by a rule, and money reads in £.
#[test]
fn every_skill_works_on_the_imported_shop_in_its_currency() {
    let home = empty_shop();
    let (code, out, err) = import(&home, &sample());
    assert_eq!(code, 0, "{out}{err}");
    let calls: &[(&str, &str, &str)] = &[
        ("analyst.sales_report", r#"{"period": "yesterday"}"#, "done"),
        ("analyst.product_ranking", r#"{"period": "last_7_days", "by": "gmv"}"#, "done"),
        ("analyst.ad_roi", "{}", "done"),
        ("analyst.inventory_forecast", r#"{"scope": "all"}"#, "done"),
        ("analyst.customer_segments", "{}", "done"),
        ("analyst.growth_score", "{}", "done"),
        ("analyst.business_plan", "{}", "done"),
        ("design.banner", r#"{"theme": "Christmas", "discount_pct": 10, "scope": "85123A"}"#, "done"),
        ("design.main_image", r#"{"product": "85123A"}"#, "done"),
        ("design.detail_copy", r#"{"product": "85123A"}"#, "done"),
        ("design.listing_audit", "{}", "done"),
        ("cs.reply", r#"{"limit": 5}"#, "done"),
        ("cs.refund", r#"{"order": "536365", "amount": 2, "reason": "one holder arrived broken"}"#, "done"),
        ("cs.compensate", r#"{"customer": "17850", "value": 2}"#, "done"),
        ("cs.tag_customer", r#"{"customer": "17850", "tag": "wholesale"}"#, "done"),
        ("cs.escalate", r#"{"customer": "17850", "summary": "asks for trade prices"}"#, "done"),
        ("ops.set_price", r#"{"product": "85123A", "price": 2.65}"#, "done"),
        ("ops.set_listed", r#"{"product": "71053", "listed": false}"#, "done"),
        ("ops.update_listing", r#"{"product": "85123A", "title": "White hanging heart T-light holder"}"#, "done"),
        ("ops.restock_plan", r#"{"lead_time_days": 14}"#, "pending"),
        ("ops.create_ad_campaign", r#"{"total_budget": 50, "days": 5, "products": "85123A"}"#, "done"),
        ("ops.adjust_ad_campaign", r#"{"campaign": 1, "bid": 0.5}"#, "done"),
        ("promo.create_discount", r#"{"discount_pct": 10, "scope": "85123A"}"#, "done"),
        // Products priced at zero in the data (free items) do not block a coupon.
        ("promo.create_coupon", r#"{"threshold": 50, "value": 5, "quantity": 10}"#, "done"),
        ("promo.flash_sale", r#"{"scope": "22632", "discount_pct": 10, "quantity": 20, "hours": 2}"#, "done"),
        ("promo.join_campaign", r#"{"campaign": "Boxing Day", "discount_pct": 10, "scope": "22633"}"#, "done"),
        ("promo.end", r#"{"promotion": 1}"#, "done"),
    ];
    assert_eq!(calls.len(), 27);
    for (skill, args, expected) in calls {
        let out = home
            .cmd()
            .env("SHOPCREW_NOW", "2010-12-03T10:00:00Z")
            .args(["--lang", "en", "do", skill, "--args", args, "--json"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let report: serde_json::Value = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("{skill}: {text}{}", String::from_utf8_lossy(&out.stderr)));
        assert_eq!(report["status"], *expected, "{skill}: {report:#}");
        let summary = report["summary"].as_str().unwrap();
        assert!(!summary.contains('¥'), "{skill} speaks pounds: {summary}");
    }
    // The offline planner reads the imported shop's own SKUs, orders and customers.
    for (request, skill) in [
        ("85123A 9折", "promo.create_discount"),
        ("给订单 536366 退款 1 元", "cs.refund"),
        ("tag customer 17850 as repeat-buyer", "cs.tag_customer"),
        ("make a main image for 85123A", "design.main_image"),
    ] {
        let plan = home.json(&["plan", request, "--json"]);
        assert_eq!(plan["tasks"][0]["skill"], skill, "{request}: {plan:#}");
    }
    let report = home.json(&["--lang", "en", "chat", "refund 1 on order 536366", "--json"]);
    assert_eq!(report["tasks"][0]["status"], "done", "{report:#}");
    assert!(report["tasks"][0]["summary"].as_str().unwrap().contains("£1"), "{report:#}");
    // The figures name the currency where they show money.
    let report = home.json(&[
        "--lang",
        "en",
        "do",
        "analyst.sales_report",
        "--args",
        r#"{"period": {"from": "2010-12-01", "to": "2010-12-02"}}"#,
        "--json",
    ]);
    assert!(report["summary"].as_str().unwrap().contains("GMV £"), "{report:#}");
    let chart = std::fs::read_to_string(home.path().join(report["files"][0].as_str().unwrap())).unwrap();
    assert!(chart.contains('£') && !chart.contains('¥'), "the chart's labels are in pounds");
}
