//! The shop's data in SQLite through sqlx: connection, migrations, and the typed reads the
//! skills and planner share.
//!
//! Writes happen inside the transactions the skill pipeline opens ([`begin`]), never here
//! on their own. SQL stays portable to PostgreSQL: `$n` parameters, `ON CONFLICT`,
//! `RETURNING`, money as BIGINT fen, times as RFC 3339 UTC text.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use chrono_tz::Tz;
use serde::Serialize;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqliteConnection, SqlitePool};

use crate::error::{Error, Result};
use crate::money::Money;

pub type Db = SqlitePool;
pub type Tx = sqlx::Transaction<'static, sqlx::Sqlite>;

/// Opens the database file (creating it) and applies the migrations.
pub async fn connect(path: &Path) -> Result<Db> {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        // Writers from other processes queue instead of failing at once.
        .busy_timeout(Duration::from_secs(30));
    let pool = SqlitePoolOptions::new().max_connections(4).connect_with(options).await?;
    sqlx::migrate!("./migrations").run(&pool).await?;
    Ok(pool)
}

/// Starts a write transaction that takes the write lock at once, so a read inside it is
/// still true at commit (SQLite's `BEGIN IMMEDIATE`; PostgreSQL would use SERIALIZABLE).
pub async fn begin(db: &Db) -> Result<Tx> {
    Ok(db.begin_with("BEGIN IMMEDIATE").await?)
}

#[derive(Debug, Clone, Serialize)]
pub struct Shop {
    pub id: i64,
    pub name: String,
    pub title: String,
    pub currency: String,
    #[serde(serialize_with = "ser_tz")]
    pub timezone: Tz,
    pub ship_within_hours: i64,
    pub return_days: i64,
}

fn ser_tz<S: serde::Serializer>(tz: &Tz, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(tz.name())
}

pub async fn shops(db: &Db) -> Result<Vec<Shop>> {
    let rows = sqlx::query(
        "SELECT id, name, title, currency, timezone, ship_within_hours, return_days FROM shops ORDER BY id",
    )
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|r| {
            let tz_name: String = r.get("timezone");
            let timezone = Tz::from_str(&tz_name)
                .map_err(|_| Error::Invalid(format!("shop has an unknown time zone `{tz_name}`")))?;
            Ok(Shop {
                id: r.get("id"),
                name: r.get("name"),
                title: r.get("title"),
                currency: r.get("currency"),
                timezone,
                ship_within_hours: r.get("ship_within_hours"),
                return_days: r.get("return_days"),
            })
        })
        .collect()
}

#[derive(Debug, Clone, Serialize)]
pub struct Product {
    pub id: i64,
    pub sku: String,
    pub title: String,
    pub category: String,
    pub cost: Money,
    pub price: Money,
    pub stock: i64,
    pub listed: bool,
}

const PRODUCT_COLUMNS: &str = "id, sku, title, category, cost_fen, price_fen, stock, listed";

fn product_from(r: &sqlx::sqlite::SqliteRow) -> Product {
    Product {
        id: r.get("id"),
        sku: r.get("sku"),
        title: r.get("title"),
        category: r.get("category"),
        cost: Money::from_fen(r.get("cost_fen")),
        price: Money::from_fen(r.get("price_fen")),
        stock: r.get("stock"),
        listed: r.get("listed"),
    }
}

pub async fn products(conn: &mut SqliteConnection, shop_id: i64) -> Result<Vec<Product>> {
    let sql = format!("SELECT {PRODUCT_COLUMNS} FROM products WHERE shop_id = $1 ORDER BY sku");
    let rows = sqlx::query(&sql).bind(shop_id).fetch_all(conn).await?;
    Ok(rows.iter().map(product_from).collect())
}

/// A product by SKU (exact, case-insensitive) or by a unique part of its title.
pub async fn find_product(conn: &mut SqliteConnection, shop_id: i64, key: &str) -> Result<Option<Product>> {
    let all = products(conn, shop_id).await?;
    if let Some(p) = all.iter().find(|p| p.sku.eq_ignore_ascii_case(key.trim())) {
        return Ok(Some(p.clone()));
    }
    let mut by_title = all.into_iter().filter(|p| p.title.contains(key.trim()));
    match (by_title.next(), by_title.next()) {
        (Some(p), None) => Ok(Some(p)),
        _ => Ok(None),
    }
}

/// The distinct categories, with how many products each holds.
pub async fn categories(conn: &mut SqliteConnection, shop_id: i64) -> Result<Vec<(String, i64)>> {
    let rows = sqlx::query(
        "SELECT category, COUNT(*) AS n FROM products WHERE shop_id = $1 GROUP BY category ORDER BY category",
    )
    .bind(shop_id)
    .fetch_all(conn)
    .await?;
    Ok(rows.iter().map(|r| (r.get("category"), r.get("n"))).collect())
}
