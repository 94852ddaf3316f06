//! The analyst: sales reports (with a chart) and inventory forecasts. Read-only on the store;
//! the chart is the only thing written, as an asset.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Cx, Halt, Outcome, Scope, TypedSkill, bad_args};
use crate::analytics::{self, Period, Risk, change_text};
use crate::lang::Text;
use crate::money::Money;
use crate::policy::Intent;
use crate::svg;

fn default_period() -> Period {
    Period::Last7Days
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SalesReportArgs {
    /// "yesterday", "last_7_days", "last_week", "last_30_days", "last_month" or {"from", "to"}.
    #[serde(default = "default_period")]
    pub period: Period,
}

pub struct SalesReport;

#[async_trait]
impl TypedSkill for SalesReport {
    const ID: &'static str = "analyst.sales_report";
    type Args = SalesReportArgs;

    async fn run(&self, cx: &mut Cx<'_>, args: SalesReportArgs) -> Result<Outcome, Halt> {
        let shop = cx.shop;
        let (shop_id, tz, today) = (shop.id, cx.shop.timezone, cx.today);
        let report =
            analytics::sales_report(cx.read(), shop_id, tz, &args.period, today).await.map_err(|e| match e {
                analytics::AnalyticsError::Db(e) => Halt::from(e),
                analytics::AnalyticsError::BadPeriod(m) => bad_args(Self::ID, m),
            })?;
        let c = &report.current;
        let bars: Vec<(String, i64)> = c.daily.iter().map(|(d, m)| (d.format("%m-%d").to_string(), m.fen())).collect();
        let chart = svg::bar_chart(
            &format!("GMV {} – {}", c.from, c.to),
            &bars,
            |fen| format!("{}{}", crate::money::currency_sign(&cx.shop.currency), Money::from_fen(fen).short_text()),
            960,
            360,
        );
        cx.authorize(Intent::default()).await?;
        let file_name = format!("sales-{}-{}.svg", c.from, c.to);
        let path = cx.save_asset("chart", &format!("GMV {} – {}", c.from, c.to), &file_name, chart.as_bytes()).await?;
        let change = change_text(report.gmv_change_bp);
        let refund_rate = crate::money::Pct::from_bp(c.refund_rate_bp);
        let summary = Text::new(
            format!(
                "{}至{}:GMV ¥{}(较上期 {change}),订单 {},买家 {},客单价 ¥{},退款率 {refund_rate};图表 {path}",
                c.from,
                c.to,
                c.gmv.yuan_text(),
                c.orders,
                c.buyers,
                c.aov.yuan_text()
            ),
            format!(
                "{} to {}: GMV ¥{} ({change} vs previous), {} orders, {} buyers, AOV ¥{}, refund rate {refund_rate}; chart {path}",
                c.from,
                c.to,
                c.gmv.yuan_text(),
                c.orders,
                c.buyers,
                c.aov.yuan_text()
            ),
        );
        let mut outcome = Outcome::new(summary, &report);
        outcome.files.push(path);
        Ok(outcome)
    }
}

fn default_window() -> i64 {
    30
}

fn default_lead_time() -> i64 {
    7
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InventoryArgs {
    /// "all", a category, one SKU, or a list of SKUs.
    #[serde(default)]
    pub scope: Scope,
    /// Days of sales the velocity is measured over.
    #[serde(default = "default_window")]
    pub window_days: i64,
    /// Days a reorder takes to arrive.
    #[serde(default = "default_lead_time")]
    pub lead_time_days: i64,
}

pub struct InventoryForecast;

#[async_trait]
impl TypedSkill for InventoryForecast {
    const ID: &'static str = "analyst.inventory_forecast";
    type Args = InventoryArgs;

    async fn run(&self, cx: &mut Cx<'_>, args: InventoryArgs) -> Result<Outcome, Halt> {
        let shop = cx.shop;
        if !(1..=365).contains(&args.window_days) || !(0..=180).contains(&args.lead_time_days) {
            return Err(bad_args(Self::ID, "window_days must be 1–365 and lead_time_days 0–180"));
        }
        let (shop_id, tz, today) = (shop.id, cx.shop.timezone, cx.today);
        let scope = args.scope.resolve(cx.read(), shop_id, Self::ID).await?;
        let skus: Vec<String> = scope.products.iter().map(|p| p.sku.clone()).collect();
        let covers = analytics::inventory_cover(
            cx.read(),
            shop_id,
            tz,
            today,
            args.window_days,
            args.lead_time_days,
            Some(&skus),
        )
        .await?;
        cx.authorize(Intent::default()).await?;
        let at_risk: Vec<_> = covers.iter().filter(|c| matches!(c.risk, Risk::StockOut)).collect();
        let low = covers.iter().filter(|c| matches!(c.risk, Risk::Low)).count();
        let names = |lang_zh: bool| -> String {
            at_risk
                .iter()
                .take(5)
                .map(|c| match (c.days_of_cover, lang_zh) {
                    (Some(d), true) => format!("{} 剩 {} 件约 {d} 天", c.sku, c.stock),
                    (Some(d), false) => format!("{} {} left, ~{d} days", c.sku, c.stock),
                    (None, _) => c.sku.clone(),
                })
                .collect::<Vec<_>>()
                .join(if lang_zh { "、" } else { "; " })
        };
        let summary = if at_risk.is_empty() {
            Text::new(
                format!("{} 个商品库存可覆盖补货周期 {} 天以上,{low} 个偏低", covers.len(), args.lead_time_days),
                format!("{} products cover the {}-day lead time; {low} running low", covers.len(), args.lead_time_days),
            )
        } else {
            Text::new(
                format!("{} 个商品有断货风险({}),{low} 个偏低", at_risk.len(), names(true)),
                format!("{} products at stock-out risk ({}), {low} running low", at_risk.len(), names(false)),
            )
        };
        Ok(Outcome::new(summary, serde_json::json!({"products": covers, "lead_time_days": args.lead_time_days})))
    }
}

#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AdRoiArgs {
    /// Only this campaign id; every campaign when absent.
    #[serde(default)]
    pub campaign: Option<i64>,
}

pub struct AdRoi;

#[async_trait]
impl TypedSkill for AdRoi {
    const ID: &'static str = "analyst.ad_roi";
    type Args = AdRoiArgs;

    async fn run(&self, cx: &mut Cx<'_>, args: AdRoiArgs) -> Result<Outcome, Halt> {
        let shop_id = cx.shop.id;
        let rows = analytics::campaign_roi(cx.read(), shop_id, args.campaign).await?;
        if let (true, Some(id)) = (rows.is_empty(), args.campaign) {
            return Err(bad_args(Self::ID, format!("no ad campaign #{id} in this shop")));
        }
        cx.authorize(Intent::default()).await?;
        if rows.is_empty() {
            let summary = Text::new(
                "还没有推广计划,没有投产比可算;可以让运营建一个,例如 推广预算500元",
                "no ad campaigns yet, so no ROI to report; ask operations for one, e.g. ad budget 500",
            );
            return Ok(Outcome::new(summary, serde_json::json!({"campaigns": []})));
        }
        let lines_zh: Vec<String> = rows
            .iter()
            .map(|r| {
                let (spend, gmv) = (r.spend.short_text(), r.attributed_gmv.short_text());
                format!("#{} {} 花费 ¥{spend} 带来 ¥{gmv},投产比 {}", r.campaign, r.name, r.roi_text)
            })
            .collect();
        let lines_en: Vec<String> = rows
            .iter()
            .map(|r| {
                let (spend, gmv) = (r.spend.short_text(), r.attributed_gmv.short_text());
                format!("#{} {}: ¥{spend} spent, ¥{gmv} attributed, ROI {}", r.campaign, r.name, r.roi_text)
            })
            .collect();
        let items = &rows;
        let summary = Text::new(lines_zh.join(";"), lines_en.join("; "));
        Ok(Outcome::new(summary, serde_json::json!({"campaigns": items})))
    }
}

#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RankBy {
    #[default]
    Gmv,
    Units,
    Margin,
}

fn default_top() -> u32 {
    5
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RankingArgs {
    /// "yesterday", "last_7_days", "last_week", "last_30_days", "last_month" or {"from", "to"}.
    #[serde(default = "default_period")]
    pub period: Period,
    /// gmv, units or margin (gross profit: sales less cost).
    #[serde(default)]
    pub by: RankBy,
    /// How many from the top, and from the bottom.
    #[serde(default = "default_top")]
    pub top: u32,
}

pub struct ProductRanking;

#[async_trait]
impl TypedSkill for ProductRanking {
    const ID: &'static str = "analyst.product_ranking";
    type Args = RankingArgs;

    async fn run(&self, cx: &mut Cx<'_>, args: RankingArgs) -> Result<Outcome, Halt> {
        if args.top == 0 || args.top > 50 {
            return Err(bad_args(Self::ID, "top must be between 1 and 50"));
        }
        let (from, to) = args.period.resolve(cx.today).map_err(|m| bad_args(Self::ID, m))?;
        let tz = cx.shop.timezone;
        let start = crate::clock::stamp(crate::clock::local_midnight(tz, from));
        let end = crate::clock::stamp(crate::clock::local_midnight(tz, to.succ_opt().unwrap_or(to)));
        // Every listed product, sold or not, so the bottom of the ranking shows the slow ones.
        let rows: Vec<(String, String, i64, i64, i64)> = sqlx::query_as(
            "SELECT p.sku, p.title, \
                    CAST(COALESCE(SUM(oi.quantity), 0) AS BIGINT), \
                    CAST(COALESCE(SUM(oi.quantity * oi.unit_price_fen), 0) AS BIGINT), \
                    CAST(COALESCE(SUM(oi.quantity * (oi.unit_price_fen - oi.unit_cost_fen)), 0) AS BIGINT) \
             FROM products p \
             LEFT JOIN order_items oi ON oi.product_id = p.id \
                 AND oi.order_id IN (SELECT id FROM orders WHERE shop_id = $1 AND ordered_at >= $2 AND ordered_at < $3) \
             WHERE p.shop_id = $1 AND p.listed GROUP BY p.id, p.sku, p.title",
        )
        .bind(cx.shop.id)
        .bind(&start)
        .bind(&end)
        .fetch_all(cx.read())
        .await?;
        cx.authorize(Intent::default()).await?;
        let key = |r: &(String, String, i64, i64, i64)| match args.by {
            RankBy::Gmv => r.3,
            RankBy::Units => r.2,
            RankBy::Margin => r.4,
        };
        let mut ranked = rows;
        ranked.sort_by(|a, b| key(b).cmp(&key(a)).then_with(|| a.0.cmp(&b.0)));
        let n = (args.top as usize).min(ranked.len());
        let item = |r: &(String, String, i64, i64, i64)| serde_json::json!({"sku": r.0, "title": r.1, "units": r.2, "gmv": Money::from_fen(r.3), "margin": Money::from_fen(r.4)});
        let top: Vec<_> = ranked.iter().take(n).map(item).collect();
        let bottom: Vec<_> = ranked.iter().rev().take(n).map(item).collect();
        let value = |r: &(String, String, i64, i64, i64)| match args.by {
            RankBy::Units => format!("{}", r.2),
            _ => format!("¥{}", Money::from_fen(key(r)).short_text()),
        };
        let best: Vec<String> = ranked.iter().take(n).map(|r| format!("{} {}", r.0, value(r))).collect();
        let by_zh = match args.by {
            RankBy::Gmv => "销售额",
            RankBy::Units => "销量",
            RankBy::Margin => "毛利",
        };
        let by_en = match args.by {
            RankBy::Gmv => "GMV",
            RankBy::Units => "units",
            RankBy::Margin => "margin",
        };
        let summary = Text::new(
            format!("{from}至{to} 按{by_zh}排名前 {n}:{}", best.join("、")),
            format!("{from} to {to}, top {n} by {by_en}: {}", best.join(", ")),
        );
        Ok(Outcome::new(
            summary,
            serde_json::json!({"from": from, "to": to, "by": args.by, "top": top, "bottom": bottom}),
        ))
    }
}

#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SegmentsArgs {}

/// One customer's recency, frequency and money.
struct Rfm {
    code: String,
    orders: i64,
    spent: i64,
    days_since_last: i64,
    days_since_first: i64,
}

pub struct CustomerSegments;

#[async_trait]
impl TypedSkill for CustomerSegments {
    const ID: &'static str = "analyst.customer_segments";
    type Args = SegmentsArgs;

    /// RFM segments: `vip` (the top tenth by spend, at least two orders), `at_risk` (repeat
    /// buyers silent for 60 days), `repeat` (two or more orders), `new` (one order, within 30
    /// days), `one_time` (one order, longer ago). Refunds are deducted from spend.
    async fn run(&self, cx: &mut Cx<'_>, _args: SegmentsArgs) -> Result<Outcome, Halt> {
        let rows: Vec<(String, i64, i64, String, String)> = sqlx::query_as(
            "SELECT c.code, COUNT(o.id), CAST(SUM(o.total_fen - o.refunded_fen) AS BIGINT), MAX(o.ordered_at), MIN(o.ordered_at) \
             FROM customers c JOIN orders o ON o.customer_id = c.id WHERE c.shop_id = $1 GROUP BY c.id, c.code",
        )
        .bind(cx.shop.id)
        .fetch_all(cx.read())
        .await?;
        cx.authorize(Intent::default()).await?;
        let (tz, today) = (cx.shop.timezone, cx.today);
        let age = |stamp: &str| {
            crate::clock::parse_stamp(stamp).map_or(0, |t| (today - crate::clock::local_date(tz, t)).num_days())
        };
        let customers: Vec<Rfm> = rows
            .iter()
            .map(|(code, orders, spent, last, first)| Rfm {
                code: code.clone(),
                orders: *orders,
                spent: *spent,
                days_since_last: age(last),
                days_since_first: age(first),
            })
            .collect();
        let mut by_spend: Vec<i64> = customers.iter().map(|c| c.spent).collect();
        by_spend.sort_unstable_by(|a, b| b.cmp(a));
        let vip_floor = by_spend.get(by_spend.len() / 10).copied().unwrap_or(i64::MAX);
        let segment = |c: &Rfm| {
            if c.orders >= 2 && c.spent >= vip_floor {
                "vip"
            } else if c.orders >= 2 && c.days_since_last > 60 {
                "at_risk"
            } else if c.orders >= 2 {
                "repeat"
            } else if c.days_since_first <= 30 {
                "new"
            } else {
                "one_time"
            }
        };
        let names = ["vip", "repeat", "at_risk", "new", "one_time"];
        let counts: Vec<(&str, usize)> =
            names.iter().map(|n| (*n, customers.iter().filter(|c| segment(c) == *n).count())).collect();
        let buyers = customers.len();
        let repeaters = customers.iter().filter(|c| c.orders >= 2).count();
        let repeat_bp = (repeaters * 10_000).checked_div(buyers).unwrap_or(0);
        let rate = format!("{}.{:02}%", repeat_bp / 100, repeat_bp % 100);
        let list = |zh: bool| {
            counts
                .iter()
                .map(|(n, k)| {
                    let label = if zh {
                        match *n {
                            "vip" => "VIP",
                            "repeat" => "复购",
                            "at_risk" => "流失风险",
                            "new" => "新客",
                            _ => "一次性",
                        }
                    } else {
                        n
                    };
                    format!("{label} {k}")
                })
                .collect::<Vec<_>>()
                .join(if zh { "、" } else { ", " })
        };
        let summary = Text::new(
            format!("{buyers} 位买家:{};复购率 {rate}", list(true)),
            format!("{buyers} buyers: {}; repeat-purchase rate {rate}", list(false)),
        );
        let examples: serde_json::Map<String, serde_json::Value> = names
            .iter()
            .map(|n| {
                let codes: Vec<&str> =
                    customers.iter().filter(|c| segment(c) == *n).take(10).map(|c| c.code.as_str()).collect();
                (n.to_string(), serde_json::json!(codes))
            })
            .collect();
        Ok(Outcome::new(
            summary,
            serde_json::json!({"buyers": buyers, "segments": counts.iter().map(|(n, k)| serde_json::json!({"segment": n, "customers": k})).collect::<Vec<_>>(),
                "repeat_rate_bp": repeat_bp, "examples": examples}),
        ))
    }
}

#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GrowthArgs {}

pub struct GrowthScore;

#[async_trait]
impl TypedSkill for GrowthScore {
    const ID: &'static str = "analyst.growth_score";
    type Args = GrowthArgs;

    /// Business points over the last 30 whole days: 10 per buyer plus 1 per ¥10 of GMV, less
    /// 1 per ¥5 refunded; compared with the 30 days before.
    async fn run(&self, cx: &mut Cx<'_>, _args: GrowthArgs) -> Result<Outcome, Halt> {
        let (tz, today) = (cx.shop.timezone, cx.today);
        let window = |back: u64| {
            let to = today - chrono::Days::new(1 + back);
            let from = to - chrono::Days::new(29);
            (from, to)
        };
        let mut scores = Vec::new();
        for (from, to) in [window(0), window(30)] {
            let start = crate::clock::stamp(crate::clock::local_midnight(tz, from));
            let end = crate::clock::stamp(crate::clock::local_midnight(tz, to + chrono::Days::new(1)));
            let (buyers, gmv, refunded): (i64, i64, i64) = sqlx::query_as(
                "SELECT COUNT(DISTINCT customer_id), CAST(COALESCE(SUM(total_fen), 0) AS BIGINT), \
                 CAST(COALESCE(SUM(refunded_fen), 0) AS BIGINT) FROM orders \
                 WHERE shop_id = $1 AND ordered_at >= $2 AND ordered_at < $3",
            )
            .bind(cx.shop.id)
            .bind(&start)
            .bind(&end)
            .fetch_one(cx.read())
            .await?;
            let points = buyers * 10 + gmv / 1_000 - refunded / 500;
            scores.push(serde_json::json!({"from": from, "to": to, "buyers": buyers, "gmv": Money::from_fen(gmv),
                "refunded": Money::from_fen(refunded), "points": points}));
        }
        cx.authorize(Intent::default()).await?;
        let (now, before) = (scores[0]["points"].as_i64().unwrap_or(0), scores[1]["points"].as_i64().unwrap_or(0));
        let change = if before == 0 { None } else { Some((now - before) * 10_000 / before.abs()) };
        let summary = Text::new(
            format!("近 30 天经营分 {now}(前 30 天 {before},{})", change_text(change)),
            format!("30-day growth score {now} (previous 30 days {before}, {})", change_text(change)),
        );
        Ok(Outcome::new(summary, serde_json::json!({"current": scores[0], "previous": scores[1], "change_bp": change})))
    }
}

#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BusinessPlanArgs {}

pub struct BusinessPlan;

#[async_trait]
impl TypedSkill for BusinessPlan {
    const ID: &'static str = "analyst.business_plan";
    type Args = BusinessPlanArgs;

    /// The week's 经营计划: a diagnosis from the store (sales against the week before, stock
    /// running out, open customer messages, slow sellers, weak campaigns), then the tasks it
    /// proposes, stored as a plan the owner accepts whole or in part (`shopcrew plan accept`).
    /// Nothing of it runs until then.
    async fn run(&self, cx: &mut Cx<'_>, _args: BusinessPlanArgs) -> Result<Outcome, Halt> {
        let (shop_id, tz, today) = (cx.shop.id, cx.shop.timezone, cx.today);
        let analytics::Diagnosis { zh: diagnosis_zh, en: diagnosis_en, tasks, .. } =
            analytics::diagnose(cx.read(), shop_id, tz, today).await.map_err(|e| bad_args(Self::ID, e.to_string()))?;
        let plan = serde_json::json!({"request": format!("经营计划 {today}"), "tasks": tasks});
        let at = crate::clock::stamp(cx.now);
        let conn = cx.authorize(Intent::default()).await?;
        let plan_id: i64 = sqlx::query_scalar(
            "INSERT INTO plans (shop_id, source, request, plan_json, created_at) VALUES ($1, 'business_plan', $2, $3, $4) RETURNING id",
        )
        .bind(shop_id)
        .bind(format!("经营计划 {today}"))
        .bind(plan.to_string())
        .bind(&at)
        .fetch_one(&mut *conn)
        .await?;
        let count = plan["tasks"].as_array().map_or(0, Vec::len);
        let summary = Text::new(
            format!(
                "本周经营计划 #{plan_id}:{};建议 {count} 项任务,接受:shopcrew plan accept {plan_id}",
                diagnosis_zh.join(";")
            ),
            format!(
                "business plan #{plan_id}: {}; {count} proposed tasks, accept with: shopcrew plan accept {plan_id}",
                diagnosis_en.join("; ")
            ),
        );
        Ok(Outcome::new(
            summary,
            serde_json::json!({"plan_id": plan_id, "diagnosis": {"zh": diagnosis_zh, "en": diagnosis_en}, "plan": plan}),
        ))
    }
}
