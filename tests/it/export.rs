//! `shopcrew export`: the canonical CSV shapes of the import, JSON lines, and the log.

use crate::common::Home;

#[tokio::test]
async fn exports_use_the_canonical_headers_and_hold_every_row() {
    let home = Home::with_demo();
    let (code, out, err) = home.run(&["export", "products"]);
    assert_eq!(code, 0, "{err}");
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("sku,title,category,price,cost,stock,listed"));
    assert_eq!(lines.count() as i64, home.count("SELECT COUNT(*) FROM products").await);
    assert!(out.contains("CP-001,"), "{out}");

    let (code, out, _) = home.run(&["export", "orders", "--format", "jsonl"]);
    assert_eq!(code, 0);
    let rows: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows.len() as i64, home.count("SELECT COUNT(*) FROM order_items").await);
    let fields: Vec<&str> = rows[0].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        fields,
        ["order_id", "ordered_at", "customer_id", "sku", "title", "quantity", "unit_price", "unit_cost", "status"]
    );

    let file = home.path().join("log.csv");
    let (code, _, err) = home.run(&["export", "log", "--out", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("log.csv"), "{err}");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.starts_with("seq,at,actor,kind,"), "{text}");
    let entries = home.count("SELECT COUNT(*) FROM work_log").await;
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(reader.records().count() as i64, entries);

    let (code, _, err) = home.run(&["export", "customers"]);
    assert_eq!(code, 2, "clap refuses an unknown kind: {err}");
    assert!(err.contains("orders") && err.contains("products"), "{err}");
}
