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
            |fen| format!("¥{}", Money::from_fen(fen).short_text()),
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
