//! `shopcrew export orders|products|log --format csv|jsonl`: the shop's data in the
//! canonical shapes of the import (DESIGN.md, Import and export), and the work log.
//!
//! Orders are one row per order line: `order_id,ordered_at,customer_id,sku,title,quantity,
//! unit_price,unit_cost,status`; products `sku,title,category,price,cost,stock,listed`. Money
//! is written as decimal yuan, times as RFC 3339 UTC.

use std::io::Write;

use serde::Serialize;
use sqlx::Row;

use crate::crew::Crew;
use crate::error::{Error, Result};
use crate::money::Money;
use crate::worklog::Filter;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum What {
    Orders,
    Products,
    Log,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Csv,
    Jsonl,
}

#[derive(Serialize)]
struct OrderLine {
    order_id: String,
    ordered_at: String,
    customer_id: String,
    sku: String,
    title: String,
    quantity: i64,
    unit_price: String,
    unit_cost: String,
    status: String,
}

#[derive(Serialize)]
struct ProductRow {
    sku: String,
    title: String,
    category: String,
    price: String,
    cost: String,
    stock: i64,
    listed: bool,
}

/// Writes the export to `out`; returns the number of rows written.
pub async fn export(crew: &Crew, what: What, format: Format, out: &mut dyn Write) -> Result<usize> {
    let shop = crew.shop().id;
    let yuan = |fen: i64| Money::from_fen(fen).yuan_text();
    match what {
        What::Orders => {
            let rows = sqlx::query(
                "SELECT o.order_no, o.ordered_at, c.code, p.sku, p.title, oi.quantity, oi.unit_price_fen, \
                 oi.unit_cost_fen, o.status FROM order_items oi JOIN orders o ON o.id = oi.order_id \
                 JOIN customers c ON c.id = o.customer_id JOIN products p ON p.id = oi.product_id \
                 WHERE o.shop_id = $1 ORDER BY o.ordered_at, o.order_no, oi.id",
            )
            .bind(shop)
            .fetch_all(crew.db())
            .await?;
            let lines = rows.iter().map(|r| OrderLine {
                order_id: r.get(0),
                ordered_at: r.get(1),
                customer_id: r.get(2),
                sku: r.get(3),
                title: r.get(4),
                quantity: r.get(5),
                unit_price: yuan(r.get(6)),
                unit_cost: yuan(r.get(7)),
                status: r.get(8),
            });
            write_all(lines, format, out)
        }
        What::Products => {
            let rows = sqlx::query(
                "SELECT sku, title, category, price_fen, cost_fen, stock, listed FROM products WHERE shop_id = $1 ORDER BY sku",
            )
            .bind(shop)
            .fetch_all(crew.db())
            .await?;
            let products = rows.iter().map(|r| ProductRow {
                sku: r.get(0),
                title: r.get(1),
                category: r.get(2),
                price: yuan(r.get(3)),
                cost: yuan(r.get(4)),
                stock: r.get(5),
                listed: r.get(6),
            });
            write_all(products, format, out)
        }
        What::Log => {
            let entries = crew.log(&Filter::default()).await?;
            match format {
                Format::Jsonl => write_all(entries.into_iter(), format, out),
                // The details are JSON; in CSV they are one column of JSON text.
                Format::Csv => {
                    let rows = entries.into_iter().map(|e| {
                        serde_json::json!({
                            "seq": e.seq, "at": e.at, "actor": e.actor, "kind": e.kind, "plan_id": e.plan_id,
                            "task_id": e.task_id, "employee": e.employee, "skill": e.skill, "summary": e.summary,
                            "amount": e.amount.map(|m| m.yuan_text()), "details": e.details.to_string(),
                            "leaf_hash": e.leaf_hash,
                        })
                    });
                    write_csv_values(rows, out)
                }
            }
        }
    }
}

fn write_all<T: Serialize>(rows: impl Iterator<Item = T>, format: Format, out: &mut dyn Write) -> Result<usize> {
    let io = |e: std::io::Error| Error::Invalid(format!("cannot write the export: {e}"));
    let mut n = 0;
    match format {
        Format::Jsonl => {
            for row in rows {
                let line = serde_json::to_string(&row).map_err(|e| Error::Invalid(e.to_string()))?;
                writeln!(out, "{line}").map_err(io)?;
                n += 1;
            }
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(out);
            for row in rows {
                w.serialize(row).map_err(|e| Error::Invalid(format!("cannot write the export: {e}")))?;
                n += 1;
            }
            w.flush().map_err(io)?;
        }
    }
    Ok(n)
}

/// CSV of JSON objects that all have the same keys, in the first one's order.
fn write_csv_values(rows: impl Iterator<Item = serde_json::Value>, out: &mut dyn Write) -> Result<usize> {
    let fail = |e: csv::Error| Error::Invalid(format!("cannot write the export: {e}"));
    let mut w = csv::Writer::from_writer(out);
    let mut header: Option<Vec<String>> = None;
    let mut n = 0;
    for row in rows {
        let Some(map) = row.as_object() else { continue };
        let keys = header.get_or_insert_with(|| {
            let keys: Vec<String> = map.keys().cloned().collect();
            keys
        });
        if n == 0 {
            w.write_record(keys.iter()).map_err(fail)?;
        }
        let cells: Vec<String> = keys
            .iter()
            .map(|k| match &map[k] {
                serde_json::Value::Null => String::new(),
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect();
        w.write_record(&cells).map_err(fail)?;
        n += 1;
    }
    w.flush().map_err(|e| Error::Invalid(format!("cannot write the export: {e}")))?;
    Ok(n)
}
