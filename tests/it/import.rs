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
