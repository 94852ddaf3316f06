//! Read-only analysis of the shop's sales and stock: sales reports over a period of
//! shop-local days (with the previous period of equal length for comparison) and
//! days-of-cover forecasts for inventory.
//!
//! This module only reads the store; it never writes. Its SQL stays portable to PostgreSQL:
//! `$n` parameters, no date functions in SQL (days are bucketed in Rust from the UTC
//! `ordered_at` text, which sorts as text), money as BIGINT fen. All money and percentage
//! arithmetic is integer (fen, basis points, thousandths of a unit), never `f64`.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;

use chrono::{Datelike, Days, NaiveDate};
use chrono_tz::Tz;
use schemars::JsonSchema;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use sqlx::SqliteConnection;

use crate::clock::{local_date, local_midnight, parse_stamp, stamp};
use crate::money::Money;

/// The longest window a report may cover, in days.
pub const MAX_PERIOD_DAYS: i64 = 366;

/// How many best-selling products a summary lists.
const TOP_PRODUCTS: usize = 5;

/// Days of stock a reorder should cover beyond the lead time.
const SAFETY_DAYS: i64 = 14;

/// A reporting window of whole shop-local days. Named windows always end yesterday, so a
/// report never includes the day that is still in progress.
///
/// JSON form: one of the strings `"yesterday"`, `"last_7_days"`, `"last_week"` (the previous
/// Monday to Sunday), `"last_30_days"`, `"last_month"` (the previous calendar month), or an
/// object `{"from": "YYYY-MM-DD", "to": "YYYY-MM-DD"}` with both ends included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Period {
    /// The day before today.
    Yesterday,
    /// The seven days ending yesterday.
    #[serde(rename = "last_7_days")]
    Last7Days,
    /// The previous Monday to Sunday.
    LastWeek,
    /// The thirty days ending yesterday.
    #[serde(rename = "last_30_days")]
    Last30Days,
    /// The previous calendar month.
    LastMonth,
    /// Shop-local dates, both ends included; must end before today.
    #[serde(untagged)]
    Range { from: NaiveDate, to: NaiveDate },
}

const PERIOD_NAMES: &[&str] = &["yesterday", "last_7_days", "last_week", "last_30_days", "last_month"];

// Hand-written so that a wrong name or a malformed range gets an error that says what is
// accepted, rather than serde's "data did not match any variant of untagged enum".
impl<'de> Deserialize<'de> for Period {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Range {
            from: String,
            to: String,
        }

        fn date<E: de::Error>(field: &str, text: &str) -> Result<NaiveDate, E> {
            NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
                .map_err(|_| E::custom(format_args!("\"{field}\": \"{text}\" is not a date; write it as YYYY-MM-DD")))
        }

        struct PeriodVisitor;

        impl<'de> Visitor<'de> for PeriodVisitor {
            type Value = Period;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "one of \"yesterday\", \"last_7_days\", \"last_week\", \"last_30_days\", \"last_month\" \
                     or {\"from\": \"YYYY-MM-DD\", \"to\": \"YYYY-MM-DD\"}",
                )
            }

            fn visit_str<E: de::Error>(self, name: &str) -> Result<Period, E> {
                match name {
                    "yesterday" => Ok(Period::Yesterday),
                    "last_7_days" => Ok(Period::Last7Days),
                    "last_week" => Ok(Period::LastWeek),
                    "last_30_days" => Ok(Period::Last30Days),
                    "last_month" => Ok(Period::LastMonth),
                    other => Err(E::custom(format_args!(
                        "unknown period `{other}`: use one of {}, or {{\"from\": \"YYYY-MM-DD\", \"to\": \"YYYY-MM-DD\"}}",
                        PERIOD_NAMES.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(", ")
                    ))),
                }
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Period, A::Error> {
                let range = Range::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(Period::Range { from: date("from", &range.from)?, to: date("to", &range.to)? })
            }
        }

        deserializer.deserialize_any(PeriodVisitor)
    }
}

fn days_before(date: NaiveDate, n: u64) -> Result<NaiveDate, String> {
    date.checked_sub_days(Days::new(n)).ok_or_else(|| format!("{date} minus {n} days is out of range"))
}

impl Period {
    /// The inclusive shop-local date range this period covers when today is `today`.
    pub fn resolve(&self, today: NaiveDate) -> Result<(NaiveDate, NaiveDate), String> {
        let yesterday = days_before(today, 1)?;
        match self {
            Period::Yesterday => Ok((yesterday, yesterday)),
            Period::Last7Days => Ok((days_before(today, 7)?, yesterday)),
            Period::Last30Days => Ok((days_before(today, 30)?, yesterday)),
            Period::LastWeek => {
                let this_monday = days_before(today, u64::from(today.weekday().num_days_from_monday()))?;
                Ok((days_before(this_monday, 7)?, days_before(this_monday, 1)?))
            }
            Period::LastMonth => {
                let first_of_this = today.with_day(1).ok_or("no first day of this month")?;
                let last_of_previous = days_before(first_of_this, 1)?;
                let first_of_previous = last_of_previous.with_day(1).ok_or("no first day of last month")?;
                Ok((first_of_previous, last_of_previous))
            }
            Period::Range { from, to } => {
                let (from, to) = (*from, *to);
                if from > to {
                    return Err(format!("the period starts ({from}) after it ends ({to}); swap \"from\" and \"to\""));
                }
                if to >= today {
                    return Err(format!(
                        "the period must end before today ({today}), whose sales are still coming in; \
                         use \"to\": \"{yesterday}\" or earlier"
                    ));
                }
                let days = (to - from).num_days() + 1;
                if days > MAX_PERIOD_DAYS {
                    return Err(format!(
                        "the period {from} to {to} is {days} days; reports cover at most {MAX_PERIOD_DAYS} days, \
                         so split it into shorter periods"
                    ));
                }
                Ok((from, to))
            }
        }
    }
}

/// The window of equal length that ends the day before `from` (the comparison period).
/// Last month (31 days of October) is compared with the 31 days before it.
pub fn previous(from: NaiveDate, to: NaiveDate) -> (NaiveDate, NaiveDate) {
    let days = u64::try_from((to - from).num_days().saturating_add(1)).unwrap_or(1).max(1);
    let prev_to = from.pred_opt().unwrap_or(NaiveDate::MIN);
    let prev_from = from.checked_sub_days(Days::new(days)).unwrap_or(NaiveDate::MIN);
    (prev_from, prev_to)
}

/// One of the best-selling products of a window, by item value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TopProduct {
    pub sku: String,
    pub title: String,
    pub units: i64,
    /// Sum of quantity × unit price over the window's order items.
    pub gmv: Money,
}

/// Sales over one window of shop-local days. Orders of every status count towards GMV;
/// refunds are reported beside it and taken off in `net`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SalesSummary {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Sum of order totals.
    pub gmv: Money,
    pub orders: i64,
    /// Distinct customers who ordered.
    pub buyers: i64,
    /// GMV per order, truncated to the fen; zero without orders.
    pub aov: Money,
    pub refunded: Money,
    /// Orders with any amount refunded.
    pub refund_orders: i64,
    /// `refund_orders` per order in basis points (truncated); zero without orders.
    pub refund_rate_bp: i64,
    /// GMV less refunds.
    pub net: Money,
    /// Items ordered.
    pub units: i64,
    /// GMV per shop-local day, one entry for every day of the window.
    pub daily: Vec<(NaiveDate, Money)>,
    /// Up to five products with the highest item value.
    pub top_products: Vec<TopProduct>,
}

/// A window's sales beside those of the window of equal length before it.
#[derive(Debug, Clone, Serialize)]
pub struct SalesReport {
    pub current: SalesSummary,
    pub previous: SalesSummary,
    /// GMV change in basis points; `None` when the previous GMV was zero.
    pub gmv_change_bp: Option<i64>,
    /// Order-count change in basis points; `None` when there were no previous orders.
    pub orders_change_bp: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum AnalyticsError {
    /// The store could not be read; retryable if the database was busy.
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// The period asked for cannot be reported on; the message says what to ask instead.
    #[error("{0}")]
    BadPeriod(String),
}

/// Change from `previous` to `current` in basis points, rounded half away from zero.
fn change_bp(current: i64, previous: i64) -> Option<i64> {
    if previous <= 0 {
        return None;
    }
    let diff = i128::from(current) - i128::from(previous);
    let den = i128::from(previous);
    let num = diff * 10_000;
    let rounded = if num >= 0 { (2 * num + den) / (2 * den) } else { (2 * num - den) / (2 * den) };
    Some(i64::try_from(rounded).unwrap_or(if rounded > 0 { i64::MAX } else { i64::MIN }))
}

/// The UTC text bounds `[start, end)` of the shop-local days `from..=to`.
fn utc_bounds(tz: Tz, from: NaiveDate, to: NaiveDate) -> (String, String) {
    let end_day = to.succ_opt().unwrap_or(to);
    (stamp(local_midnight(tz, from)), stamp(local_midnight(tz, end_day)))
}

fn bad_stamp(text: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("orders.ordered_at `{text}` is not an RFC 3339 time").into())
}

async fn summarize(
    conn: &mut SqliteConnection,
    shop_id: i64,
    tz: Tz,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<SalesSummary, sqlx::Error> {
    let (start, end) = utc_bounds(tz, from, to);
    let rows: Vec<(String, i64, i64, i64)> = sqlx::query_as(
        "SELECT ordered_at, customer_id, total_fen, refunded_fen FROM orders \
         WHERE shop_id = $1 AND ordered_at >= $2 AND ordered_at < $3",
    )
    .bind(shop_id)
    .bind(&start)
    .bind(&end)
    .fetch_all(&mut *conn)
    .await?;

    let days = usize::try_from((to - from).num_days() + 1).unwrap_or(0);
    let mut daily_fen = vec![0_i64; days];
    let (mut gmv, mut refunded, mut refund_orders) = (0_i64, 0_i64, 0_i64);
    let mut buyers = BTreeSet::new();
    for (ordered_at, customer_id, total, refund) in &rows {
        let day = local_date(tz, parse_stamp(ordered_at).ok_or_else(|| bad_stamp(ordered_at))?);
        if let Some(slot) = usize::try_from((day - from).num_days()).ok().and_then(|i| daily_fen.get_mut(i)) {
            *slot = slot.saturating_add(*total);
        }
        gmv = gmv.saturating_add(*total);
        refunded = refunded.saturating_add(*refund);
        if *refund > 0 {
            refund_orders += 1;
        }
        buyers.insert(*customer_id);
    }
    let orders = i64::try_from(rows.len()).unwrap_or(i64::MAX);

    let products: Vec<(String, String, i64, i64)> = sqlx::query_as(
        "SELECT p.sku, p.title, CAST(SUM(oi.quantity) AS BIGINT) AS units, \
                CAST(SUM(oi.quantity * oi.unit_price_fen) AS BIGINT) AS gmv_fen \
         FROM order_items oi \
         JOIN orders o ON o.id = oi.order_id \
         JOIN products p ON p.id = oi.product_id \
         WHERE o.shop_id = $1 AND o.ordered_at >= $2 AND o.ordered_at < $3 \
         GROUP BY p.id, p.sku, p.title",
    )
    .bind(shop_id)
    .bind(&start)
    .bind(&end)
    .fetch_all(&mut *conn)
    .await?;
    let units = products.iter().fold(0_i64, |acc, p| acc.saturating_add(p.2));
    let mut top: Vec<TopProduct> = products
        .into_iter()
        .map(|(sku, title, units, gmv)| TopProduct { sku, title, units, gmv: Money::from_fen(gmv) })
        .collect();
    top.sort_by(|a, b| b.gmv.cmp(&a.gmv).then_with(|| b.units.cmp(&a.units)).then_with(|| a.sku.cmp(&b.sku)));
    top.truncate(TOP_PRODUCTS);

    let daily = from.iter_days().zip(daily_fen).map(|(d, fen)| (d, Money::from_fen(fen))).collect();
    Ok(SalesSummary {
        from,
        to,
        gmv: Money::from_fen(gmv),
        orders,
        buyers: i64::try_from(buyers.len()).unwrap_or(i64::MAX),
        aov: Money::from_fen(gmv.checked_div(orders).unwrap_or(0)),
        refunded: Money::from_fen(refunded),
        refund_orders,
        refund_rate_bp: refund_orders.saturating_mul(10_000).checked_div(orders).unwrap_or(0),
        net: Money::from_fen(gmv.saturating_sub(refunded)),
        units,
        daily,
        top_products: top,
    })
}

/// Sales over `period` (shop-local days in `tz`, today being `today`) and over the window of
/// equal length before it.
pub async fn sales_report(
    conn: &mut SqliteConnection,
    shop_id: i64,
    tz: Tz,
    period: &Period,
    today: NaiveDate,
) -> Result<SalesReport, AnalyticsError> {
    let (from, to) = period.resolve(today).map_err(AnalyticsError::BadPeriod)?;
    let (prev_from, prev_to) = previous(from, to);
    let current = summarize(conn, shop_id, tz, from, to).await?;
    let previous = summarize(conn, shop_id, tz, prev_from, prev_to).await?;
    Ok(SalesReport {
        gmv_change_bp: change_bp(current.gmv.fen(), previous.gmv.fen()),
        orders_change_bp: change_bp(current.orders, previous.orders),
        current,
        previous,
    })
}

/// How urgently a product needs restocking, most urgent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Risk {
    /// Out of stock, or the stock runs out before a reorder placed today would arrive.
    StockOut,
    /// The stock lasts less than twice the lead time.
    Low,
    Ok,
    /// Nothing sold in the window, so there is no velocity to forecast from.
    NoSales,
}

/// One product's stock against its recent sales.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cover {
    pub sku: String,
    pub title: String,
    pub category: String,
    pub stock: i64,
    /// Units sold in the window, not counting fully refunded orders.
    pub units_sold: i64,
    /// Units sold per day, in thousandths of a unit (truncated).
    pub daily_velocity_milli: i64,
    /// Whole days the stock lasts at that velocity; `None` without sales.
    pub days_of_cover: Option<i64>,
    pub risk: Risk,
    /// Units to order now to cover the lead time plus 14 days, rounded up; never negative.
    pub suggested_reorder: i64,
}

/// Stock cover per product from sales over the `window_days` full shop-local days before
/// `today`. Listed products only, unless `skus` names the products to look at (listed or
/// not). Sorted by risk, then by days of cover (fewest first), then by SKU.
///
/// Cover and reorder are computed from the exact rate `units_sold / window_days`, so the
/// truncation in `daily_velocity_milli` does not compound. A `window_days` below 1 is read as 1
/// and a negative `lead_time_days` as 0.
pub async fn inventory_cover(
    conn: &mut SqliteConnection,
    shop_id: i64,
    tz: Tz,
    today: NaiveDate,
    window_days: i64,
    lead_time_days: i64,
    skus: Option<&[String]>,
) -> Result<Vec<Cover>, sqlx::Error> {
    let window = window_days.clamp(1, MAX_PERIOD_DAYS * 10);
    let lead = lead_time_days.max(0);
    let from = today.checked_sub_days(Days::new(window.unsigned_abs())).unwrap_or(NaiveDate::MIN);
    let (start, end) = (stamp(local_midnight(tz, from)), stamp(local_midnight(tz, today)));

    let sold: BTreeMap<i64, i64> = sqlx::query_as::<_, (i64, i64)>(
        "SELECT oi.product_id, CAST(SUM(oi.quantity) AS BIGINT) AS units \
         FROM order_items oi JOIN orders o ON o.id = oi.order_id \
         WHERE o.shop_id = $1 AND o.status <> 'refunded' AND o.ordered_at >= $2 AND o.ordered_at < $3 \
         GROUP BY oi.product_id",
    )
    .bind(shop_id)
    .bind(&start)
    .bind(&end)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .collect();

    let products: Vec<(i64, String, String, String, i64, bool)> =
        sqlx::query_as("SELECT id, sku, title, category, stock, listed FROM products WHERE shop_id = $1")
            .bind(shop_id)
            .fetch_all(&mut *conn)
            .await?;
    let wanted: Option<HashSet<&str>> = skus.map(|s| s.iter().map(String::as_str).collect());

    let mut covers: Vec<Cover> = products
        .into_iter()
        .filter(|(_, sku, .., listed)| match &wanted {
            Some(set) => set.contains(sku.as_str()),
            None => *listed,
        })
        .map(|(id, sku, title, category, stock, _)| {
            let units_sold = sold.get(&id).copied().unwrap_or(0).max(0);
            cover(sku, title, category, stock, units_sold, window, lead)
        })
        .collect();
    covers.sort_by(|a, b| {
        a.risk
            .cmp(&b.risk)
            .then_with(|| a.days_of_cover.unwrap_or(i64::MAX).cmp(&b.days_of_cover.unwrap_or(i64::MAX)))
            .then_with(|| a.sku.cmp(&b.sku))
    });
    Ok(covers)
}

fn cover(sku: String, title: String, category: String, stock: i64, units_sold: i64, window: i64, lead: i64) -> Cover {
    let on_hand = stock.max(0);
    let daily_velocity_milli = units_sold.saturating_mul(1000) / window;
    let (days_of_cover, risk, suggested_reorder) = if units_sold == 0 {
        (None, Risk::NoSales, 0)
    } else {
        // stock / (units_sold / window), truncated to whole days.
        let days = on_hand.saturating_mul(window) / units_sold;
        let risk = if on_hand == 0 || days < lead {
            Risk::StockOut
        } else if days < lead.saturating_mul(2) {
            Risk::Low
        } else {
            Risk::Ok
        };
        // ceil(units_sold × (lead + safety) / window) − stock, at least 0.
        let need = units_sold.saturating_mul(lead.saturating_add(SAFETY_DAYS));
        let need = need.saturating_add(window - 1) / window;
        (Some(days), risk, need.saturating_sub(on_hand).max(0))
    };
    Cover { sku, title, category, stock, units_sold, daily_velocity_milli, days_of_cover, risk, suggested_reorder }
}

/// What the analyst sees when looking the shop over: the week's sales against the week
/// before, stock running out, open customer messages, slow sellers and weak campaigns, in
/// both languages, with the tasks that would address each (plan JSON tasks).
#[derive(Debug, Clone, Serialize)]
pub struct Diagnosis {
    pub sales: SalesReport,
    pub zh: Vec<String>,
    pub en: Vec<String>,
    pub tasks: Vec<serde_json::Value>,
}

/// Looks the shop over as of `today` (the business plan and the owner report both start here).
pub async fn diagnose(
    conn: &mut SqliteConnection,
    shop_id: i64,
    tz: Tz,
    today: NaiveDate,
) -> Result<Diagnosis, AnalyticsError> {
    let sales = sales_report(conn, shop_id, tz, &Period::Last7Days, today).await?;
    let covers = inventory_cover(conn, shop_id, tz, today, 30, 7, None).await?;
    let open: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE shop_id = $1 AND status = 'open'")
        .bind(shop_id)
        .fetch_one(&mut *conn)
        .await?;
    let weak: Vec<(i64, String)> = sqlx::query_as(
        "SELECT id, name FROM ad_campaigns WHERE shop_id = $1 AND status = 'active' AND spend_fen > 0 \
         AND attributed_gmv_fen < 3 * spend_fen ORDER BY id",
    )
    .bind(shop_id)
    .fetch_all(&mut *conn)
    .await?;
    let stock_out: Vec<&Cover> = covers.iter().filter(|c| matches!(c.risk, Risk::StockOut)).collect();
    let mut slow: Vec<&Cover> = covers.iter().filter(|c| c.stock > 0 && c.units_sold <= 2).collect();
    slow.sort_by(|a, b| a.units_sold.cmp(&b.units_sold).then_with(|| b.stock.cmp(&a.stock)));

    let mut zh = vec![format!(
        "近 7 天 GMV ¥{}({}),订单 {}",
        sales.current.gmv.short_text(),
        change_text(sales.gmv_change_bp),
        sales.current.orders
    )];
    let mut en = vec![format!(
        "last 7 days GMV ¥{} ({}), {} orders",
        sales.current.gmv.short_text(),
        change_text(sales.gmv_change_bp),
        sales.current.orders
    )];
    let mut tasks = Vec::new();
    let mut add = |employee: &str, skill: &str, args: serde_json::Value| {
        let id = format!("t{}", tasks.len() + 1);
        tasks.push(serde_json::json!({"id": id, "employee": employee, "skill": skill, "args": args, "depends_on": []}));
    };
    if !stock_out.is_empty() {
        zh.push(format!("{} 个商品快断货", stock_out.len()));
        en.push(format!("{} products about to run out", stock_out.len()));
        add("ops", "ops.restock_plan", serde_json::json!({"lead_time_days": 7}));
    }
    if open > 0 {
        zh.push(format!("{open} 条买家消息未回复"));
        en.push(format!("{open} customer messages unanswered"));
        add("customer_service", "cs.reply", serde_json::json!({"limit": open.min(50)}));
    }
    if !slow.is_empty() {
        let skus: Vec<String> = slow.iter().take(3).map(|c| c.sku.clone()).collect();
        zh.push(format!("滞销:{}", skus.join("、")));
        en.push(format!("slow sellers: {}", skus.join(", ")));
        add("promotions", "promo.create_discount", serde_json::json!({"discount_pct": 10, "scope": skus, "days": 7}));
    }
    for (id, name) in &weak {
        zh.push(format!("推广「{name}」投产比低于 1 : 3"));
        en.push(format!("campaign \"{name}\" returns less than 1 : 3"));
        add("ops", "ops.adjust_ad_campaign", serde_json::json!({"campaign": id, "action": "pause"}));
    }
    Ok(Diagnosis { sales, zh, en, tasks })
}

/// One ad campaign's return: attributed GMV against spend.
#[derive(Debug, Clone, Serialize)]
pub struct CampaignRoi {
    pub campaign: i64,
    pub name: String,
    pub status: String,
    pub spend: Money,
    pub attributed_gmv: Money,
    /// Attributed GMV per unit spent, to one decimal; `None` before any spend.
    pub roi: Option<f64>,
    /// As the owner reads it: "1 : 43", or "—".
    pub roi_text: String,
}

/// Every ad campaign's return (one campaign's with `campaign`), oldest first.
pub async fn campaign_roi(
    conn: &mut SqliteConnection,
    shop_id: i64,
    campaign: Option<i64>,
) -> Result<Vec<CampaignRoi>, sqlx::Error> {
    let rows: Vec<(i64, String, String, i64, i64)> = sqlx::query_as(
        "SELECT id, name, status, spend_fen, attributed_gmv_fen FROM ad_campaigns \
         WHERE shop_id = $1 AND ($2 IS NULL OR id = $2) ORDER BY id",
    )
    .bind(shop_id)
    .bind(campaign)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(campaign, name, status, spend, gmv)| {
            // Integer tenths, shown as a decimal: "1 : 43.5".
            let roi = (spend > 0).then(|| (i128::from(gmv) * 10 / i128::from(spend)) as f64 / 10.0);
            let roi_text = roi.map_or_else(|| "—".to_string(), |r| format!("1 : {r}"));
            CampaignRoi {
                campaign,
                name,
                status,
                spend: Money::from_fen(spend),
                attributed_gmv: Money::from_fen(gmv),
                roi,
                roi_text,
            }
        })
        .collect())
}

/// A change in basis points as a signed percentage with one decimal: "+12.5%", "-3.0%",
/// "0.0%", or "n/a" when there is nothing to compare with. Rounded half away from zero.
pub fn change_text(bp: Option<i64>) -> String {
    let Some(bp) = bp else {
        return "n/a".to_string();
    };
    let tenths = (bp.unsigned_abs().saturating_add(5)) / 10;
    let sign = match (tenths, bp < 0) {
        (0, _) => "",
        (_, true) => "-",
        (_, false) => "+",
    };
    format!("{sign}{}.{}%", tenths / 10, tenths % 10)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use sqlx::SqlitePool;
    use sqlx::sqlite::SqlitePoolOptions;

    fn d(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    const TODAY: &str = "2026-11-24"; // a Tuesday

    #[test]
    fn named_periods_resolve_to_whole_days_ending_yesterday() {
        let today = d(TODAY);
        assert_eq!(Period::Yesterday.resolve(today).unwrap(), (d("2026-11-23"), d("2026-11-23")));
        assert_eq!(Period::Last7Days.resolve(today).unwrap(), (d("2026-11-17"), d("2026-11-23")));
        assert_eq!(Period::LastWeek.resolve(today).unwrap(), (d("2026-11-16"), d("2026-11-22")));
        assert_eq!(Period::Last30Days.resolve(today).unwrap(), (d("2026-10-25"), d("2026-11-23")));
        assert_eq!(Period::LastMonth.resolve(today).unwrap(), (d("2026-10-01"), d("2026-10-31")));
        // On a Monday last week is the week that ended yesterday; in January last month is December.
        assert_eq!(Period::LastWeek.resolve(d("2026-11-23")).unwrap(), (d("2026-11-16"), d("2026-11-22")));
        assert_eq!(Period::LastMonth.resolve(d("2027-01-01")).unwrap(), (d("2026-12-01"), d("2026-12-31")));
        assert_eq!(Period::LastMonth.resolve(d("2028-03-15")).unwrap(), (d("2028-02-01"), d("2028-02-29")));
    }

    #[test]
    fn ranges_that_are_reversed_unfinished_or_too_long_are_refused_with_advice() {
        let today = d(TODAY);
        let range = |from: &str, to: &str| Period::Range { from: d(from), to: d(to) };
        assert_eq!(range("2026-11-01", "2026-11-07").resolve(today).unwrap(), (d("2026-11-01"), d("2026-11-07")));
        assert_eq!(range("2026-11-23", "2026-11-23").resolve(today).unwrap(), (d("2026-11-23"), d("2026-11-23")));
        let reversed = range("2026-11-07", "2026-11-01").resolve(today).unwrap_err();
        assert!(reversed.contains("swap"), "{reversed}");
        let unfinished = range("2026-11-20", "2026-11-24").resolve(today).unwrap_err();
        assert!(unfinished.contains("\"to\": \"2026-11-23\""), "{unfinished}");
        assert!(range("2026-11-20", "2026-12-01").resolve(today).is_err());
        assert!(range("2025-11-22", "2026-11-23").resolve(today).unwrap_err().contains("367 days"));
        assert!(range("2025-11-23", "2026-11-23").resolve(today).is_ok()); // 366 days
    }

    #[test]
    fn the_previous_window_has_equal_length_and_ends_the_day_before() {
        assert_eq!(previous(d("2026-11-17"), d("2026-11-23")), (d("2026-11-10"), d("2026-11-16")));
        assert_eq!(previous(d("2026-11-23"), d("2026-11-23")), (d("2026-11-22"), d("2026-11-22")));
        assert_eq!(previous(d("2026-10-01"), d("2026-10-31")), (d("2026-08-31"), d("2026-09-30")));
    }

    #[test]
    fn periods_read_from_names_and_ranges_and_reject_unknown_names_readably() {
        let p: Period = serde_json::from_value(json!("last_7_days")).unwrap();
        assert_eq!(p, Period::Last7Days);
        let p: Period = serde_json::from_value(json!("last_month")).unwrap();
        assert_eq!(p, Period::LastMonth);
        let p: Period = serde_json::from_value(json!({"from": "2026-11-01", "to": "2026-11-07"})).unwrap();
        assert_eq!(p, Period::Range { from: d("2026-11-01"), to: d("2026-11-07") });

        let err = serde_json::from_value::<Period>(json!("last_year")).unwrap_err().to_string();
        assert!(err.contains("unknown period `last_year`") && err.contains("\"last_7_days\""), "{err}");
        let err = serde_json::from_value::<Period>(json!({"from": "2026-11-01"})).unwrap_err().to_string();
        assert!(err.contains("missing field `to`"), "{err}");
        let err = serde_json::from_value::<Period>(json!({"from": "2026-11-01", "to": "11/07"})).unwrap_err();
        assert!(err.to_string().contains("\"to\": \"11/07\" is not a date; write it as YYYY-MM-DD"), "{err}");
        let err = serde_json::from_value::<Period>(json!({"from": "2026-11-01", "to": "2026-11-07", "tz": "UTC"}));
        assert!(err.unwrap_err().to_string().contains("unknown field `tz`"));
        assert!(serde_json::from_value::<Period>(json!(7)).is_err());

        // Round trip: serialisation uses the same forms.
        assert_eq!(serde_json::to_value(Period::Last30Days).unwrap(), json!("last_30_days"));
        assert_eq!(serde_json::to_value(Period::LastWeek).unwrap(), json!("last_week"));
        let range = Period::Range { from: d("2026-11-01"), to: d("2026-11-07") };
        assert_eq!(serde_json::to_value(&range).unwrap(), json!({"from": "2026-11-01", "to": "2026-11-07"}));
    }

    #[test]
    fn the_period_schema_offers_the_names_and_the_range_object() {
        let schema = serde_json::to_string(&schemars::schema_for!(Period)).unwrap();
        for name in PERIOD_NAMES {
            assert!(schema.contains(&format!("\"{name}\"")), "{name} missing from {schema}");
        }
        assert!(schema.contains("\"from\"") && schema.contains("\"to\"") && schema.contains("\"date\""), "{schema}");
        assert!(!schema.contains("\"Range\""), "{schema}");
        assert!(schema.contains("\"additionalProperties\":false"), "{schema}");
    }

    #[test]
    fn change_text_is_a_signed_percentage_with_one_decimal() {
        assert_eq!(change_text(Some(1250)), "+12.5%");
        assert_eq!(change_text(Some(-300)), "-3.0%");
        assert_eq!(change_text(Some(13125)), "+131.3%");
        assert_eq!(change_text(Some(-1255)), "-12.6%");
        assert_eq!(change_text(Some(0)), "0.0%");
        assert_eq!(change_text(Some(-4)), "0.0%");
        assert_eq!(change_text(Some(-10_000)), "-100.0%");
        assert_eq!(change_text(None), "n/a");
        assert!(change_text(Some(i64::MIN)).starts_with('-'));
        assert_eq!(change_bp(37_000, 16_000), Some(13_125));
        assert_eq!(change_bp(1, 3), Some(-6_667));
        assert_eq!(change_bp(5, 0), None);
    }

    async fn pool() -> SqlitePool {
        // One connection: every new connection to `sqlite::memory:` is a new, empty database.
        let pool = SqlitePoolOptions::new().max_connections(1).connect("sqlite::memory:").await.unwrap();
        sqlx::migrate!("./migrations").run(&pool).await.unwrap();
        pool
    }

    async fn exec(pool: &SqlitePool, sql: &str) {
        sqlx::query(sql).execute(pool).await.unwrap();
    }

    /// Shop 1 in Asia/Shanghai (UTC+8). "Today" is 2026-11-24; last_7_days is 11-17..11-23,
    /// i.e. 2026-11-16T16:00:00Z up to 2026-11-23T16:00:00Z.
    async fn fixture() -> SqlitePool {
        let pool = pool().await;
        exec(
            &pool,
            "INSERT INTO shops (id, name, title, timezone, created_at) VALUES \
             (1, 'tea', '茶铺', 'Asia/Shanghai', '2026-01-01T00:00:00Z'), \
             (2, 'other', '别家', 'Asia/Shanghai', '2026-01-01T00:00:00Z')",
        )
        .await;
        exec(
            &pool,
            "INSERT INTO products (id, shop_id, sku, title, category, cost_fen, price_fen, stock, listed) VALUES \
             (1, 1, 'MOON-01', '月饼礼盒', '月饼', 5000, 10000, 3, TRUE), \
             (2, 1, 'TEA-01', '普洱茶', '茶叶', 2000, 5000, 200, TRUE), \
             (3, 1, 'CUP-01', '茶杯', '茶具', 800, 2000, 0, TRUE), \
             (4, 1, 'OLD-01', '旧款茶壶', '茶具', 500, 1000, 10, FALSE), \
             (5, 1, 'DUST-01', '茶盘', '茶具', 1000, 3000, 30, TRUE), \
             (6, 1, 'BOWL-01', '茶碗', '茶具', 400, 1000, 100, TRUE), \
             (7, 2, 'X-01', '别家货', '杂货', 100, 77700, 5, TRUE)",
        )
        .await;
        exec(
            &pool,
            "INSERT INTO customers (id, shop_id, code, name, created_at) VALUES \
             (1, 1, 'c1', '张三', '2026-01-01T00:00:00Z'), (2, 1, 'c2', '李四', '2026-01-01T00:00:00Z'), \
             (3, 1, 'c3', '王五', '2026-01-01T00:00:00Z'), (4, 2, 'x1', '赵六', '2026-01-01T00:00:00Z')",
        )
        .await;
        exec(
            &pool,
            "INSERT INTO orders (id, shop_id, order_no, customer_id, ordered_at, status, total_fen, refunded_fen) VALUES \
             (1, 1, 'o1', 1, '2026-11-16T16:30:00Z', 'completed', 20000, 0), \
             (2, 1, 'o2', 2, '2026-11-20T03:00:00Z', 'refunded', 5000, 5000), \
             (3, 1, 'o3', 1, '2026-11-23T15:30:00Z', 'partially_refunded', 12000, 2000), \
             (4, 1, 'o4', 3, '2026-11-23T16:30:00Z', 'paid', 10000, 0), \
             (5, 1, 'o5', 3, '2026-11-16T15:30:00Z', 'completed', 16000, 0), \
             (6, 2, 'x1', 4, '2026-11-20T03:00:00Z', 'completed', 77700, 0)",
        )
        .await;
        exec(
            &pool,
            "INSERT INTO order_items (order_id, product_id, quantity, unit_price_fen, unit_cost_fen) VALUES \
             (1, 1, 1, 10000, 5000), (1, 6, 10, 1000, 400), \
             (2, 2, 1, 5000, 2000), \
             (3, 1, 1, 10000, 5000), (3, 3, 1, 2000, 800), \
             (4, 2, 2, 5000, 2000), \
             (5, 2, 2, 5000, 2000), (5, 3, 3, 2000, 800), \
             (6, 7, 1, 77700, 100)",
        )
        .await;
        pool
    }

    fn tz() -> Tz {
        "Asia/Shanghai".parse().unwrap()
    }

    fn top(sku: &str, title: &str, units: i64, fen: i64) -> TopProduct {
        TopProduct { sku: sku.into(), title: title.into(), units, gmv: Money::from_fen(fen) }
    }

    fn days(from: &str, fen: &[i64]) -> Vec<(NaiveDate, Money)> {
        d(from).iter_days().zip(fen).map(|(day, f)| (day, Money::from_fen(*f))).collect()
    }

    #[tokio::test]
    async fn sales_report_buckets_by_shop_local_day_and_compares_with_the_previous_week() {
        let pool = fixture().await;
        let mut conn = pool.acquire().await.unwrap();
        let report = sales_report(&mut conn, 1, tz(), &Period::Last7Days, d(TODAY)).await.unwrap();

        // o1 at 16:30Z on the 16th is 00:30 on the 17th in Shanghai: the first day of the window.
        // o3 at 15:30Z on the 23rd is 23:30 local: the last day. o4 at 16:30Z is already today.
        assert_eq!(
            report.current,
            SalesSummary {
                from: d("2026-11-17"),
                to: d("2026-11-23"),
                gmv: Money::from_fen(37_000),
                orders: 3,
                buyers: 2,
                aov: Money::from_fen(12_333),
                refunded: Money::from_fen(7_000),
                refund_orders: 2,
                refund_rate_bp: 6_666,
                net: Money::from_fen(30_000),
                units: 14,
                daily: days("2026-11-17", &[20_000, 0, 0, 5_000, 0, 0, 12_000]),
                top_products: vec![
                    top("MOON-01", "月饼礼盒", 2, 20_000),
                    top("BOWL-01", "茶碗", 10, 10_000),
                    top("TEA-01", "普洱茶", 1, 5_000),
                    top("CUP-01", "茶杯", 1, 2_000),
                ],
            }
        );
        // o5 at 15:30Z on the 16th is 23:30 local on the 16th: the previous window's last day.
        assert_eq!(
            report.previous,
            SalesSummary {
                from: d("2026-11-10"),
                to: d("2026-11-16"),
                gmv: Money::from_fen(16_000),
                orders: 1,
                buyers: 1,
                aov: Money::from_fen(16_000),
                refunded: Money::ZERO,
                refund_orders: 0,
                refund_rate_bp: 0,
                net: Money::from_fen(16_000),
                units: 5,
                daily: days("2026-11-10", &[0, 0, 0, 0, 0, 0, 16_000]),
                top_products: vec![top("TEA-01", "普洱茶", 2, 10_000), top("CUP-01", "茶杯", 3, 6_000)],
            }
        );
        assert_eq!(report.gmv_change_bp, Some(13_125));
        assert_eq!(report.orders_change_bp, Some(20_000));
        assert_eq!(change_text(report.gmv_change_bp), "+131.3%");

        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["current"]["gmv"], json!(370.0));
        assert_eq!(json["current"]["daily"][0], json!(["2026-11-17", 200.0]));
    }

    #[tokio::test]
    async fn an_empty_window_reports_zeros_and_no_change() {
        let pool = fixture().await;
        let mut conn = pool.acquire().await.unwrap();
        let period = Period::Range { from: d("2026-01-01"), to: d("2026-01-03") };
        let report = sales_report(&mut conn, 1, tz(), &period, d(TODAY)).await.unwrap();
        let c = &report.current;
        assert_eq!(
            (c.gmv, c.orders, c.buyers, c.aov, c.refund_rate_bp, c.units),
            (Money::ZERO, 0, 0, Money::ZERO, 0, 0)
        );
        assert_eq!(c.daily, days("2026-01-01", &[0, 0, 0]));
        assert!(c.top_products.is_empty());
        assert_eq!((report.gmv_change_bp, report.orders_change_bp), (None, None));
        assert_eq!(change_text(report.gmv_change_bp), "n/a");
    }

    #[tokio::test]
    async fn a_bad_period_is_reported_as_such() {
        let pool = fixture().await;
        let mut conn = pool.acquire().await.unwrap();
        let period = Period::Range { from: d("2026-11-20"), to: d(TODAY) };
        let err = sales_report(&mut conn, 1, tz(), &period, d(TODAY)).await.unwrap_err();
        assert!(matches!(&err, AnalyticsError::BadPeriod(m) if m.contains("before today")), "{err}");
    }

    #[tokio::test]
    async fn inventory_cover_ranks_stock_outs_first_and_ignores_refunded_and_todays_orders() {
        let pool = fixture().await;
        let mut conn = pool.acquire().await.unwrap();
        let covers = inventory_cover(&mut conn, 1, tz(), d(TODAY), 7, 7, None).await.unwrap();
        let view: Vec<_> = covers
            .iter()
            .map(|c| {
                (
                    c.sku.as_str(),
                    c.stock,
                    c.units_sold,
                    c.daily_velocity_milli,
                    c.days_of_cover,
                    c.risk,
                    c.suggested_reorder,
                )
            })
            .collect();
        assert_eq!(
            view,
            vec![
                // Sold out with sales: stock-out, reorder ceil(1 × 21 / 7) = 3.
                ("CUP-01", 0, 1, 142, Some(0), Risk::StockOut, 3),
                // 3 in stock at 2 a week: 10 days, under twice the lead time; ceil(2 × 21 / 7) − 3 = 3.
                ("MOON-01", 3, 2, 285, Some(10), Risk::Low, 3),
                ("BOWL-01", 100, 10, 1428, Some(70), Risk::Ok, 0),
                ("DUST-01", 30, 0, 0, None, Risk::NoSales, 0),
                // Its only sales were refunded (o2) or fall on today (o4).
                ("TEA-01", 200, 0, 0, None, Risk::NoSales, 0),
            ]
        );
        assert_eq!(covers[0].title, "茶杯");
        assert_eq!(covers[0].category, "茶具");
        assert_eq!(serde_json::to_value(covers[0].risk).unwrap(), json!("stock_out"));
        assert_eq!(serde_json::to_value(Risk::NoSales).unwrap(), json!("no_sales"));

        // A SKU list picks exactly those products, listed or not.
        let skus = vec!["OLD-01".to_string(), "TEA-01".to_string(), "NOPE".to_string()];
        let covers = inventory_cover(&mut conn, 1, tz(), d(TODAY), 30, 7, Some(&skus)).await.unwrap();
        let picked: Vec<_> = covers.iter().map(|c| c.sku.as_str()).collect();
        assert_eq!(picked, ["TEA-01", "OLD-01"]);
        // Over 30 days TEA-01 has o5 (2 units, 23:30 local on the 16th), still not the refunded o2.
        assert_eq!((covers[0].units_sold, covers[0].risk), (2, Risk::Ok));
        assert_eq!(covers[1].risk, Risk::NoSales);
    }

    #[tokio::test]
    async fn a_zero_lead_time_flags_only_empty_shelves() {
        let pool = fixture().await;
        let mut conn = pool.acquire().await.unwrap();
        let covers = inventory_cover(&mut conn, 1, tz(), d(TODAY), 7, 0, None).await.unwrap();
        let risks: Vec<_> = covers.iter().map(|c| (c.sku.as_str(), c.risk)).collect();
        assert_eq!(risks[0], ("CUP-01", Risk::StockOut));
        assert_eq!(risks[1], ("MOON-01", Risk::Ok));
    }
}
