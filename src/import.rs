//! `shopcrew import products|orders FILE.csv`: a merchant's own data in, in one transaction.
//!
//! Headers are the canonical ones of DESIGN.md (Import and export) unless `--map
//! field=Header,…` names others. Every row is read and checked before anything is written: a
//! file with a bad row imports nothing and the report lists every bad line. Importing the same
//! file again changes nothing (products are matched by SKU, orders by number, customers by
//! code). Orders whose lines add up below zero (returns, "C" cancellation invoices) become
//! refunded orders. Naive times are in the shop's time zone. Unit prices finer than the fen
//! are rounded to it and counted in the report.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Instant;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::Serialize;

use crate::clock::{local_midnight, stamp};
use crate::crew::Crew;
use crate::error::{Error, Result};
use crate::money::{Money, Pct};
use crate::store;
use crate::worklog::{self, Actor, Kind, NewEntry};

/// How to read a file.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Canonical field → the file's header.
    pub map: BTreeMap<String, String>,
    /// A strftime format for times, e.g. `%m/%d/%y %H:%M`; ISO 8601 otherwise.
    pub date_format: Option<String>,
    /// The file's currency; must be the shop's (a shop without orders takes it).
    pub currency: Option<String>,
    /// Margin over cost assumed where a cost is missing: cost = price / (1 + margin).
    pub default_margin: Option<Pct>,
}

impl ImportOptions {
    /// Reads `field=Header,field=Header`.
    pub fn parse_map(text: &str) -> Result<BTreeMap<String, String>> {
        text.split(',')
            .filter(|p| !p.trim().is_empty())
            .map(|pair| {
                let (field, header) = pair.split_once('=').ok_or_else(|| {
                    Error::Invalid(format!("--map `{pair}` is not field=Header (e.g. order_id=InvoiceNo)"))
                })?;
                Ok((field.trim().to_string(), header.trim().to_string()))
            })
            .collect()
    }
}

/// What an import did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    pub rows: usize,
    pub products_created: usize,
    pub products_updated: usize,
    pub customers_created: usize,
    pub orders_created: usize,
    /// Orders already in the shop, left as they were.
    pub orders_skipped: usize,
    /// Orders imported as refunded (returns and cancellations).
    pub refunds: usize,
    /// Products whose cost was taken from `--default-margin`.
    pub default_margin_used: usize,
    /// Unit prices finer than the fen (e.g. 0.001), rounded half up to it.
    pub prices_rounded: usize,
    pub millis: u64,
}

const PRODUCT_FIELDS: [&str; 7] = ["sku", "title", "category", "price", "cost", "stock", "listed"];
const ORDER_FIELDS: [&str; 9] =
    ["order_id", "ordered_at", "customer_id", "sku", "title", "quantity", "unit_price", "unit_cost", "status"];

/// The rows of a file with the columns of the canonical fields, and the file's line numbers.
struct Table {
    columns: HashMap<&'static str, usize>,
    rows: Vec<(usize, csv::StringRecord)>,
}

impl Table {
    fn read(path: &Path, fields: &[&'static str], required: &[&str], opts: &ImportOptions) -> Result<Table> {
        for field in opts.map.keys() {
            if !fields.contains(&field.as_str()) {
                return Err(Error::Invalid(format!(
                    "--map names `{field}`, which is not one of {}",
                    fields.join(", ")
                )));
            }
        }
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .from_path(path)
            .map_err(|e| Error::Invalid(format!("cannot read {}: {e}", path.display())))?;
        let headers = reader.headers().map_err(|e| Error::Invalid(format!("{}: {e}", path.display())))?.clone();
        let mut columns = HashMap::new();
        for field in fields {
            let header = opts.map.get(*field).map_or(*field, String::as_str);
            if let Some(i) = headers.iter().position(|h| h.trim() == header) {
                columns.insert(*field, i);
            } else if required.contains(field) {
                let found: Vec<&str> = headers.iter().collect();
                return Err(Error::Invalid(format!(
                    "{}: no column `{header}` for {field} (the file has: {}); map it with --map {field}=Header",
                    path.display(),
                    found.join(", ")
                )));
            }
        }
        let mut rows = Vec::new();
        for (i, record) in reader.records().enumerate() {
            let record = record.map_err(|e| Error::Invalid(format!("{}: line {}: {e}", path.display(), i + 2)))?;
            rows.push((i + 2, record));
        }
        Ok(Table { columns, rows })
    }

    fn get<'r>(&self, row: &'r csv::StringRecord, field: &str) -> Option<&'r str> {
        self.columns.get(field).and_then(|i| row.get(*i)).map(str::trim).filter(|v| !v.is_empty())
    }
}

/// Collects the bad lines of a file, to report them all at once.
#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    fn add(&mut self, line: usize, message: impl Into<String>) {
        self.0.push(format!("line {line}: {}", message.into()));
    }

    fn check(self, path: &Path) -> Result<()> {
        if self.0.is_empty() {
            return Ok(());
        }
        let shown: Vec<&str> = self.0.iter().take(50).map(String::as_str).collect();
        let more = if self.0.len() > 50 { format!("\n… and {} more", self.0.len() - 50) } else { String::new() };
        Err(Error::Invalid(format!(
            "{}: {} bad rows, nothing was imported; fix them and import again:\n{}{more}",
            path.display(),
            self.0.len(),
            shown.join("\n")
        )))
    }
}

fn cost_for(price: Money, cost: Option<Money>, margin: Option<Pct>) -> Option<(Money, bool)> {
    match (cost, margin) {
        (Some(c), _) => Some((c, false)),
        (None, Some(m)) => {
            let fen = i128::from(price.fen()) * 10_000 / (10_000 + i128::from(m.bp()));
            Some((Money::from_fen(i64::try_from(fen).ok()?), true))
        }
        (None, None) => None,
    }
}

async fn check_currency(crew: &Crew, tx: &mut store::Tx, opts: &ImportOptions) -> Result<()> {
    let Some(currency) = opts.currency.as_deref().map(str::to_uppercase) else { return Ok(()) };
    let shop = crew.shop();
    if currency == shop.currency {
        return Ok(());
    }
    let orders: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM orders WHERE shop_id = $1").bind(shop.id).fetch_one(&mut **tx).await?;
    if orders > 0 {
        return Err(Error::Invalid(format!(
            "the file is in {currency} but the shop keeps {} and has orders; convert the file first",
            shop.currency
        )));
    }
    sqlx::query("UPDATE shops SET currency = $1 WHERE id = $2")
        .bind(&currency)
        .bind(shop.id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// `shopcrew import products`.
pub async fn import_products(crew: &Crew, path: &Path, opts: &ImportOptions) -> Result<ImportReport> {
    let started = Instant::now();
    let table = Table::read(path, &PRODUCT_FIELDS, &["sku", "title", "price"], opts)?;
    let mut problems = Problems::default();
    let mut products = Vec::new();
    for (line, row) in &table.rows {
        let (Some(sku), Some(title)) = (table.get(row, "sku"), table.get(row, "title")) else {
            problems.add(*line, "sku and title are required");
            continue;
        };
        let money = |field: &str, problems: &mut Problems| match table.get(row, field).map(Money::parse) {
            Some(Ok(m)) => Some(m),
            Some(Err(e)) => {
                problems.add(*line, format!("{field}: {e}"));
                None
            }
            None => None,
        };
        let Some(price) = money("price", &mut problems) else {
            problems.add(*line, "price is required");
            continue;
        };
        let cost = money("cost", &mut problems);
        let Some((cost, assumed)) = cost_for(price, cost, opts.default_margin) else {
            problems.add(*line, "no cost: add a cost column or give --default-margin");
            continue;
        };
        let stock = match table.get(row, "stock").map(str::parse::<i64>) {
            Some(Ok(n)) if n >= 0 => n,
            Some(_) => {
                problems.add(*line, "stock must be a whole number, 0 or more");
                continue;
            }
            None => 0,
        };
        let listed = match table.get(row, "listed").map(str::to_lowercase).as_deref() {
            None | Some("true" | "1" | "yes" | "y") => true,
            Some("false" | "0" | "no" | "n") => false,
            Some(other) => {
                problems.add(*line, format!("listed `{other}` is not true or false"));
                continue;
            }
        };
        let category = table.get(row, "category").unwrap_or("imported").to_string();
        products.push((sku.to_string(), title.to_string(), category, price, cost, stock, listed, assumed));
    }
    problems.check(path)?;
    let shop_id = crew.shop().id;
    let mut report = ImportReport { rows: table.rows.len(), ..ImportReport::default() };
    let mut tx = store::begin(crew.db()).await?;
    check_currency(crew, &mut tx, opts).await?;
    for (sku, title, category, price, cost, stock, listed, assumed) in &products {
        let existing: Option<i64> = sqlx::query_scalar("SELECT id FROM products WHERE shop_id = $1 AND sku = $2")
            .bind(shop_id)
            .bind(sku)
            .fetch_optional(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO products (shop_id, sku, title, category, cost_fen, price_fen, stock, listed) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (shop_id, sku) DO UPDATE SET \
             title = excluded.title, category = excluded.category, cost_fen = excluded.cost_fen, \
             price_fen = excluded.price_fen, stock = excluded.stock, listed = excluded.listed",
        )
        .bind(shop_id)
        .bind(sku)
        .bind(title)
        .bind(category)
        .bind(cost.fen())
        .bind(price.fen())
        .bind(stock)
        .bind(listed)
        .execute(&mut *tx)
        .await?;
        if existing.is_some() {
            report.products_updated += 1;
        } else {
            report.products_created += 1;
        }
        report.default_margin_used += usize::from(*assumed);
    }
    report.millis = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    log(crew, &mut tx, path, "products", &report).await?;
    tx.commit().await?;
    Ok(report)
}

/// One order line as read.
struct Line {
    line: usize,
    order: String,
    at: DateTime<Utc>,
    customer: String,
    sku: String,
    title: String,
    quantity: i64,
    price: Money,
    cost: Option<Money>,
    status: Option<String>,
}

fn read_time(text: &str, format: Option<&str>, tz: chrono_tz::Tz) -> Option<DateTime<Utc>> {
    let local = |naive: NaiveDateTime| naive.and_local_timezone(tz).earliest().map(|t| t.with_timezone(&Utc));
    if let Some(format) = format {
        return NaiveDateTime::parse_from_str(text, format).ok().and_then(local);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    for f in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(text, f) {
            return local(naive);
        }
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok().map(|d| local_midnight(tz, d))
}

/// `shopcrew import orders`.
pub async fn import_orders(crew: &Crew, path: &Path, opts: &ImportOptions) -> Result<ImportReport> {
    let started = Instant::now();
    let required = ["order_id", "ordered_at", "sku", "quantity", "unit_price"];
    let table = Table::read(path, &ORDER_FIELDS, &required, opts)?;
    let tz = crew.shop().timezone;
    let mut problems = Problems::default();
    let mut lines = Vec::new();
    let mut rounded_prices = 0;
    for (line, row) in &table.rows {
        let get = |f: &str| table.get(row, f);
        let missing: Vec<&str> = required.iter().copied().filter(|f| get(f).is_none()).collect();
        if !missing.is_empty() {
            problems.add(*line, format!("missing {}", missing.join(", ")));
            continue;
        }
        let at_text = get("ordered_at").unwrap_or_default();
        let Some(at) = read_time(at_text, opts.date_format.as_deref(), tz) else {
            let hint = opts
                .date_format
                .as_deref()
                .map_or("ISO 8601 (or give --date-format)".to_string(), |f| format!("`{f}`"));
            problems.add(*line, format!("ordered_at `{at_text}` is not a time in {hint}"));
            continue;
        };
        let quantity = match get("quantity").unwrap_or_default().parse::<i64>() {
            Ok(q) if q != 0 => q,
            _ => {
                problems.add(
                    *line,
                    format!("quantity `{}` is not a whole number other than 0", get("quantity").unwrap_or_default()),
                );
                continue;
            }
        };
        let price = match Money::parse_rounding(get("unit_price").unwrap_or_default()) {
            Ok((p, rounded)) => {
                rounded_prices += usize::from(rounded);
                p
            }
            Err(e) => {
                problems.add(*line, format!("unit_price: {e}"));
                continue;
            }
        };
        let cost = match get("unit_cost").map(Money::parse) {
            Some(Ok(c)) => Some(c),
            Some(Err(e)) => {
                problems.add(*line, format!("unit_cost: {e}"));
                continue;
            }
            None => None,
        };
        let status = get("status").map(str::to_lowercase);
        if let Some(s) = &status
            && !["paid", "shipped", "completed", "refunded", "partially_refunded"].contains(&s.as_str())
        {
            problems
                .add(*line, format!("status `{s}` is not paid, shipped, completed, refunded or partially_refunded"));
            continue;
        }
        let sku = get("sku").unwrap_or_default().to_string();
        lines.push(Line {
            line: *line,
            order: get("order_id").unwrap_or_default().to_string(),
            at,
            // Orders without a customer (guest checkouts) share one "guest" customer.
            customer: get("customer_id").unwrap_or("guest").to_string(),
            title: get("title").unwrap_or(&sku).to_string(),
            sku,
            quantity,
            price,
            cost,
            status,
        });
    }
    // A product the shop does not have yet needs a cost from somewhere.
    let shop_id = crew.shop().id;
    let known: Vec<String> =
        sqlx::query_scalar("SELECT sku FROM products WHERE shop_id = $1").bind(shop_id).fetch_all(crew.db()).await?;
    if opts.default_margin.is_none() {
        for l in &lines {
            if l.cost.is_none() && !known.contains(&l.sku) {
                problems
                    .add(l.line, format!("new product {} has no unit_cost: add one or give --default-margin", l.sku));
            }
        }
    }
    problems.check(path)?;

    let mut report = ImportReport { rows: table.rows.len(), prices_rounded: rounded_prices, ..ImportReport::default() };
    let mut tx = store::begin(crew.db()).await?;
    check_currency(crew, &mut tx, opts).await?;
    let mut products: HashMap<String, i64> = sqlx::query_as("SELECT sku, id FROM products WHERE shop_id = $1")
        .bind(shop_id)
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .collect();
    let mut customers: HashMap<String, i64> = sqlx::query_as("SELECT code, id FROM customers WHERE shop_id = $1")
        .bind(shop_id)
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .collect();
    let existing: std::collections::HashSet<String> =
        sqlx::query_scalar::<_, String>("SELECT order_no FROM orders WHERE shop_id = $1")
            .bind(shop_id)
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .collect();
    let mut orders: Vec<(String, Vec<&Line>)> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for l in &lines {
        let i = *index.entry(l.order.as_str()).or_insert_with(|| {
            orders.push((l.order.clone(), Vec::new()));
            orders.len() - 1
        });
        orders[i].1.push(l);
    }
    for (number, order_lines) in &orders {
        if existing.contains(number) {
            report.orders_skipped += 1;
            continue;
        }
        let first = order_lines[0];
        let customer_id = match customers.get(&first.customer) {
            Some(id) => *id,
            None => {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO customers (shop_id, code, name, created_at) VALUES ($1, $2, $2, $3) RETURNING id",
                )
                .bind(shop_id)
                .bind(&first.customer)
                .bind(stamp(first.at))
                .fetch_one(&mut *tx)
                .await?;
                customers.insert(first.customer.clone(), id);
                report.customers_created += 1;
                id
            }
        };
        let mut total: i64 = 0;
        for l in order_lines {
            total = total
                .checked_add(l.price.fen().checked_mul(l.quantity).ok_or_else(|| overflow(path, l.line))?)
                .ok_or_else(|| overflow(path, l.line))?;
        }
        let refund = total < 0;
        let status =
            if refund { "refunded".to_string() } else { first.status.clone().unwrap_or_else(|| "completed".into()) };
        let order_id: i64 = sqlx::query_scalar(
            "INSERT INTO orders (shop_id, order_no, customer_id, ordered_at, status, total_fen, refunded_fen) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(shop_id)
        .bind(number)
        .bind(customer_id)
        .bind(stamp(first.at))
        .bind(&status)
        .bind(total.abs())
        .bind(if refund { total.abs() } else { 0 })
        .fetch_one(&mut *tx)
        .await?;
        report.orders_created += 1;
        report.refunds += usize::from(refund);
        for l in order_lines {
            let product_id = match products.get(&l.sku) {
                Some(id) => *id,
                None => {
                    let Some((cost, assumed)) = cost_for(l.price, l.cost, opts.default_margin) else {
                        return Err(Error::Invalid(format!(
                            "{}: line {}: no cost for {}",
                            path.display(),
                            l.line,
                            l.sku
                        )));
                    };
                    let id: i64 = sqlx::query_scalar(
                        "INSERT INTO products (shop_id, sku, title, category, cost_fen, price_fen, stock) \
                         VALUES ($1, $2, $3, 'imported', $4, $5, 0) RETURNING id",
                    )
                    .bind(shop_id)
                    .bind(&l.sku)
                    .bind(&l.title)
                    .bind(cost.fen())
                    .bind(l.price.fen())
                    .fetch_one(&mut *tx)
                    .await?;
                    products.insert(l.sku.clone(), id);
                    report.products_created += 1;
                    report.default_margin_used += usize::from(assumed);
                    id
                }
            };
            let cost =
                l.cost.or_else(|| cost_for(l.price, None, opts.default_margin).map(|(c, _)| c)).unwrap_or(Money::ZERO);
            // A refunded order keeps its lines as the goods that came back.
            let quantity = if refund { l.quantity.abs() } else { l.quantity };
            sqlx::query(
                "INSERT INTO order_items (order_id, product_id, quantity, unit_price_fen, unit_cost_fen) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(order_id)
            .bind(product_id)
            .bind(quantity)
            .bind(l.price.fen())
            .bind(cost.fen())
            .execute(&mut *tx)
            .await?;
        }
    }
    report.millis = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    log(crew, &mut tx, path, "orders", &report).await?;
    tx.commit().await?;
    Ok(report)
}

fn overflow(path: &Path, line: usize) -> Error {
    Error::Invalid(format!("{}: line {line}: the order total is too large", path.display()))
}

async fn log(crew: &Crew, tx: &mut store::Tx, path: &Path, what: &str, r: &ImportReport) -> Result<()> {
    let file = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
    let summary = crew.lang().pick(
        &format!(
            "导入 {file}({what}):{} 行,新建商品 {}、更新 {},新建顾客 {},新建订单 {}(退款 {}),跳过已有订单 {},按默认利润率估算成本 {},价格舍入到分 {}",
            r.rows, r.products_created, r.products_updated, r.customers_created, r.orders_created, r.refunds, r.orders_skipped, r.default_margin_used, r.prices_rounded
        ),
        &format!(
            "imported {file} ({what}): {} rows, {} products created and {} updated, {} customers, {} orders ({} refunds), {} orders already there, {} costs from the default margin, {} prices rounded to the fen",
            r.rows, r.products_created, r.products_updated, r.customers_created, r.orders_created, r.refunds, r.orders_skipped, r.default_margin_used, r.prices_rounded
        ),
    ).to_string();
    let mut entry = NewEntry::new(Actor::Owner, Kind::Setup, summary);
    entry.details = serde_json::json!({"import": what, "file": file, "report": r});
    worklog::append(tx, crew.shop().id, &stamp(crew.now()), &entry).await?;
    Ok(())
}
