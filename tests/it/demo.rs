//! The demo shop is deterministic: the same seed gives the same shop.

use crate::common::Home;

async fn dump(home: &Home) -> String {
    let pool = home.pool().await;
    let mut out = String::new();
    for sql in [
        "SELECT sku || '|' || title || '|' || category || '|' || cost_fen || '|' || price_fen || '|' || stock || '|' || listed FROM products ORDER BY id",
        "SELECT code || '|' || name || '|' || city || '|' || lang FROM customers ORDER BY id",
        "SELECT order_no || '|' || customer_id || '|' || ordered_at || '|' || status || '|' || total_fen || '|' || refunded_fen FROM orders ORDER BY id",
        "SELECT order_id || '|' || product_id || '|' || quantity || '|' || unit_price_fen FROM order_items ORDER BY id",
        "SELECT customer_id || '|' || body || '|' || received_at FROM messages ORDER BY id",
        "SELECT name || '|' || status || '|' || spend_fen FROM ad_campaigns ORDER BY id",
    ] {
        let rows: Vec<String> = sqlx::query_scalar(sql).fetch_all(&pool).await.unwrap();
        out.push_str(&rows.join("\n"));
        out.push('\n');
    }
    out
}

#[tokio::test]
async fn the_same_seed_gives_the_same_shop_and_another_seed_another() {
    let (a, b, c) = (Home::new(), Home::new(), Home::new());
    for (home, seed) in [(&a, "7"), (&b, "7"), (&c, "8")] {
        let (code, out, err) = home.run(&["init", "--demo", "--seed", seed]);
        assert_eq!(code, 0, "{out}\n{err}");
    }
    let (da, db, dc) = (dump(&a).await, dump(&b).await, dump(&c).await);
    assert!(da.len() > 10_000);
    assert_eq!(da, db);
    assert_ne!(da, dc);
}

#[tokio::test]
async fn the_demo_shop_has_what_the_crew_needs() {
    let home = Home::with_demo();
    assert!(home.count("SELECT COUNT(*) FROM products").await >= 30);
    assert!(home.count("SELECT COUNT(DISTINCT category) FROM products").await >= 4);
    assert!(home.count("SELECT COUNT(DISTINCT customer_id) FROM orders").await >= 200);
    assert!(home.count("SELECT COUNT(*) FROM orders WHERE status = 'refunded'").await > 0);
    assert!(home.count("SELECT COUNT(*) FROM messages WHERE status = 'open'").await >= 20);
    assert_eq!(home.count("SELECT COUNT(*) FROM messages WHERE body LIKE '%Ignore your rules%'").await, 1);
    assert_eq!(home.count("SELECT COUNT(*) FROM ad_campaigns").await, 2);
    let (first, last): (String, String) = {
        let pool = home.pool().await;
        sqlx::query_as("SELECT MIN(ordered_at), MAX(ordered_at) FROM orders").fetch_one(&pool).await.unwrap()
    };
    assert!(first.as_str() <= "2026-08-26T16:00:00Z" && last.as_str() < "2026-11-23T16:00:00Z", "{first} .. {last}");
    let (code, _, err) = home.run(&["init", "--demo"]);
    assert_eq!(code, 1);
    assert!(err.contains("already exists"), "{err}");
}
