//! Operations: paid traffic campaigns and list prices.

use async_trait::async_trait;
use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::promo::{date_range_text, window};
use super::{Cx, Halt, Outcome, Scope, TypedSkill, bad_args, stack};
use crate::clock::{local_midnight, stamp};
use crate::lang::Text;
use crate::money::Money;
use crate::policy::{Intent, PriceChange, PriceLine, Spend};
use crate::store;

/// The end of "every promotion from now on", for overlap queries.
const FOREVER: &str = "9999-12-31T00:00:00Z";

fn default_days() -> u32 {
    7
}

fn default_bid() -> Money {
    Money::from_fen(50)
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AdCampaignArgs {
    /// Budget per day; derived from `total_budget` / `days` when absent.
    #[serde(default)]
    pub daily_budget: Option<Money>,
    /// Budget for the whole campaign; `daily_budget` × `days` when absent.
    #[serde(default)]
    pub total_budget: Option<Money>,
    #[serde(default = "default_days")]
    pub days: u32,
    /// "all", a category, one SKU, or a list of SKUs to promote.
    #[serde(default)]
    pub products: Scope,
    /// Cost per click bid.
    #[serde(default = "default_bid")]
    pub bid: Money,
    #[serde(default)]
    pub starts: Option<NaiveDate>,
    #[serde(default)]
    pub name: Option<String>,
}

pub struct CreateAdCampaign;

#[async_trait]
impl TypedSkill for CreateAdCampaign {
    const ID: &'static str = "ops.create_ad_campaign";
    type Args = AdCampaignArgs;

    async fn run(&self, cx: &mut Cx<'_>, args: AdCampaignArgs) -> Result<Outcome, Halt> {
        let (shop, now) = (cx.shop, stamp(cx.now));
        let w = window(cx, Self::ID, args.starts, args.days)?;
        let days = i64::from(w.days);
        let (daily, total) = match (args.daily_budget, args.total_budget) {
            (None, None) => return Err(bad_args(Self::ID, "give daily_budget or total_budget")),
            (Some(d), None) => (d, d.checked_mul(days).ok_or_else(|| bad_args(Self::ID, "budget too large"))?),
            (None, Some(t)) => (Money::from_fen((t.fen() + days - 1) / days), t),
            (Some(d), Some(t)) => {
                if d.checked_mul(days).is_none_or(|all| all < t) {
                    return Err(bad_args(
                        Self::ID,
                        format!("total_budget {} cannot be spent at daily_budget {d} over {days} days", t.short_text()),
                    ));
                }
                (d, t)
            }
        };
        if total <= Money::ZERO || args.bid <= Money::ZERO {
            return Err(bad_args(Self::ID, "budgets and bid must be above zero"));
        }
        let scope = args.products.resolve(cx.read(), shop.id, Self::ID).await?;
        let name = args.name.clone().unwrap_or_else(|| format!("{}推广", scope.label_zh));
        let spend = Spend::spread(format!("ad campaign {name}"), total, w.start, w.days);
        let intent = Intent { spend: Some(spend), campaign_budget: Some(total), ..Intent::default() };
        let conn = cx.authorize(intent).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO ad_campaigns (shop_id, name, scope, daily_budget_fen, total_budget_fen, bid_fen, starts_at, \
             ends_at, status, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(shop.id)
        .bind(&name)
        .bind(serde_json::to_string(&args.products).unwrap_or_default())
        .bind(daily.fen())
        .bind(total.fen())
        .bind(args.bid.fen())
        .bind(&w.starts_at)
        .bind(&w.ends_at)
        .bind(w.status)
        .bind(&now)
        .fetch_one(&mut *conn)
        .await?;
        let range = date_range_text(w.start, w.days);
        let summary = Text::new(
            format!(
                "已创建推广「{name}」#{id}:{},总预算 ¥{}(每天最多 ¥{}),{range}",
                scope.label_zh,
                total.short_text(),
                daily.short_text()
            ),
            format!(
                "created ad campaign \"{name}\" #{id} for {}: total ¥{} (up to ¥{} a day), {range}",
                scope.label_en,
                total.short_text(),
                daily.short_text()
            ),
        );
        Ok(Outcome::new(
            summary,
            serde_json::json!({"campaign_id": id, "name": name, "status": w.status, "daily_budget": daily, "total_budget": total, "products": scope.products.len()}),
        ))
    }
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPriceArgs {
    /// The product's SKU (or a unique part of its title).
    pub product: String,
    /// The new list price.
    pub price: Money,
}

pub struct SetPrice;

#[async_trait]
impl TypedSkill for SetPrice {
    const ID: &'static str = "ops.set_price";
    type Args = SetPriceArgs;

    async fn run(&self, cx: &mut Cx<'_>, args: SetPriceArgs) -> Result<Outcome, Halt> {
        let shop = cx.shop;
        let product = store::find_product(cx.read(), shop.id, &args.product)
            .await?
            .ok_or_else(|| bad_args(Self::ID, format!("no product with SKU or unique title `{}`", args.product)))?;
        // Promotions are rules on the list price: every one scheduled or running applies to the
        // new price too, and the floor holds for the lowest price they stack to.
        let now = stamp(cx.now);
        let stack = stack::overlapping(cx.read(), shop.id, product.id, &now, FOREVER).await?;
        let day_start = stamp(local_midnight(shop.timezone, cx.today));
        let changes_today: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM price_changes WHERE shop_id = $1 AND product_id = $2 AND at >= $3",
        )
        .bind(shop.id)
        .bind(product.id)
        .bind(&day_start)
        .fetch_one(cx.read())
        .await?;
        let intent = Intent {
            prices: vec![PriceLine { sku: product.sku.clone(), cost: product.cost, price: stack.lowest(args.price) }],
            price_change: Some(PriceChange { sku: product.sku.clone(), from: product.price, to: args.price }),
            price_changes_today: Some(u32::try_from(changes_today).unwrap_or(u32::MAX)),
            ..Intent::default()
        };
        let conn = cx.authorize(intent).await?;
        sqlx::query(
            "INSERT INTO price_changes (shop_id, product_id, from_fen, to_fen, at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(shop.id)
        .bind(product.id)
        .bind(product.price.fen())
        .bind(args.price.fen())
        .bind(&now)
        .execute(&mut *conn)
        .await?;
        sqlx::query("UPDATE products SET price_fen = $1 WHERE id = $2")
            .bind(args.price.fen())
            .bind(product.id)
            .execute(&mut *conn)
            .await?;
        let summary = Text::new(
            format!(
                "{} {} 改价 ¥{} → ¥{}",
                product.sku,
                product.title,
                product.price.yuan_text(),
                args.price.yuan_text()
            ),
            format!("{} price ¥{} → ¥{}", product.sku, product.price.yuan_text(), args.price.yuan_text()),
        );
        Ok(Outcome::new(
            summary,
            serde_json::json!({"sku": product.sku, "from": product.price, "to": args.price, "cost": product.cost}),
        ))
    }
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetListedArgs {
    /// The product's SKU (or a unique part of its title).
    pub product: String,
    /// true to list it (上架), false to take it off sale (下架).
    pub listed: bool,
}

pub struct SetListed;

#[async_trait]
impl TypedSkill for SetListed {
    const ID: &'static str = "ops.set_listed";
    type Args = SetListedArgs;

    async fn run(&self, cx: &mut Cx<'_>, args: SetListedArgs) -> Result<Outcome, Halt> {
        let shop = cx.shop;
        let product = store::find_product(cx.read(), shop.id, &args.product)
            .await?
            .ok_or_else(|| bad_args(Self::ID, format!("no product with SKU or unique title `{}`", args.product)))?;
        let conn = cx.authorize(Intent::default()).await?;
        sqlx::query("UPDATE products SET listed = $1 WHERE id = $2")
            .bind(args.listed)
            .bind(product.id)
            .execute(&mut *conn)
            .await?;
        let summary = if args.listed {
            Text::new(format!("{} {} 已上架", product.sku, product.title), format!("{} is listed", product.sku))
        } else {
            Text::new(format!("{} {} 已下架", product.sku, product.title), format!("{} is off sale", product.sku))
        };
        Ok(Outcome::new(summary, serde_json::json!({"sku": product.sku, "listed": args.listed, "was": product.listed})))
    }
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateListingArgs {
    /// The product's SKU (or a unique part of its title).
    pub product: String,
    /// A new title: at most 30 Chinese characters or 60 letters (a Chinese character counts two).
    #[serde(default)]
    pub title: Option<String>,
    /// Search keywords, comma-separated.
    #[serde(default)]
    pub keywords: Option<String>,
    /// A new description.
    #[serde(default)]
    pub description: Option<String>,
}

pub struct UpdateListing;

#[async_trait]
impl TypedSkill for UpdateListing {
    const ID: &'static str = "ops.update_listing";
    type Args = UpdateListingArgs;

    async fn run(&self, cx: &mut Cx<'_>, args: UpdateListingArgs) -> Result<Outcome, Halt> {
        let shop = cx.shop;
        if args.title.is_none() && args.keywords.is_none() && args.description.is_none() {
            return Err(bad_args(Self::ID, "give a title, keywords or a description to change"));
        }
        if let Some(title) = &args.title
            && (title.trim().is_empty() || super::words::title_width(title) > super::words::MAX_TITLE_WIDTH)
        {
            return Err(bad_args(
                Self::ID,
                format!(
                    "a title is 1 to {} wide: 30 Chinese characters, or 60 letters (a Chinese character counts two)",
                    super::words::MAX_TITLE_WIDTH
                ),
            ));
        }
        let product = store::find_product(cx.read(), shop.id, &args.product)
            .await?
            .ok_or_else(|| bad_args(Self::ID, format!("no product with SKU or unique title `{}`", args.product)))?;
        let text = [&args.title, &args.keywords, &args.description]
            .iter()
            .filter_map(|t| t.as_deref())
            .collect::<Vec<_>>()
            .join("\n");
        let intent = Intent { banned_words: super::words::banned_in(&text), ..Intent::default() };
        let conn = cx.authorize(intent).await?;
        sqlx::query(
            "UPDATE products SET title = COALESCE($1, title), keywords = COALESCE($2, keywords), \
             description = COALESCE($3, description) WHERE id = $4",
        )
        .bind(args.title.as_deref().map(str::trim))
        .bind(args.keywords.as_deref().map(str::trim))
        .bind(args.description.as_deref().map(str::trim))
        .bind(product.id)
        .execute(&mut *conn)
        .await?;
        let title = args.title.as_deref().unwrap_or(&product.title);
        let summary = Text::new(
            format!("已更新 {} 的商品信息:{title}", product.sku),
            format!("updated the listing of {}: {title}", product.sku),
        );
        Ok(Outcome::new(
            summary,
            serde_json::json!({"sku": product.sku, "title": args.title, "keywords": args.keywords, "description": args.description}),
        ))
    }
}

fn default_lead_time() -> i64 {
    7
}

fn default_window() -> i64 {
    30
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RestockArgs {
    /// Days from ordering to the goods arriving.
    #[serde(default = "default_lead_time")]
    pub lead_time_days: i64,
    /// Days of past sales the velocity is measured over.
    #[serde(default = "default_window")]
    pub window_days: i64,
    /// Which products; every listed one when absent.
    #[serde(default)]
    pub scope: Scope,
}

pub struct RestockPlan;

#[async_trait]
impl TypedSkill for RestockPlan {
    const ID: &'static str = "ops.restock_plan";
    type Args = RestockArgs;

    /// A purchase draft: for each product, the units to order now to cover the lead time plus
    /// 14 days at its recent sales velocity. A draft always waits for the owner (its effect
    /// class makes its mode `approve`); once approved it is stored as a purchase draft.
    async fn run(&self, cx: &mut Cx<'_>, args: RestockArgs) -> Result<Outcome, Halt> {
        if !(1..=365).contains(&args.window_days) || !(0..=180).contains(&args.lead_time_days) {
            return Err(bad_args(Self::ID, "window_days must be 1–365 and lead_time_days 0–180"));
        }
        let (shop_id, tz, today) = (cx.shop.id, cx.shop.timezone, cx.today);
        let scope = args.scope.resolve(cx.read(), shop_id, Self::ID).await?;
        let skus: Vec<String> = scope.products.iter().map(|p| p.sku.clone()).collect();
        let covers = crate::analytics::inventory_cover(
            cx.read(),
            shop_id,
            tz,
            today,
            args.window_days,
            args.lead_time_days,
            Some(&skus),
        )
        .await?;
        let mut lines = Vec::new();
        let mut total = 0i64;
        for c in covers.iter().filter(|c| c.suggested_reorder > 0) {
            let cost = scope.products.iter().find(|p| p.sku == c.sku).map_or(0, |p| p.cost.fen());
            let line_cost = cost.saturating_mul(c.suggested_reorder);
            total = total.saturating_add(line_cost);
            lines.push(serde_json::json!({"sku": c.sku, "title": c.title, "stock": c.stock, "order": c.suggested_reorder,
                "days_of_cover": c.days_of_cover, "unit_cost": Money::from_fen(cost), "cost": Money::from_fen(line_cost)}));
        }
        let at = stamp(cx.now);
        let conn = cx.authorize(Intent::default()).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO purchase_drafts (shop_id, lines, total_cost_fen, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(shop_id)
        .bind(serde_json::to_string(&lines).unwrap_or_default())
        .bind(total)
        .bind(&at)
        .fetch_one(&mut *conn)
        .await?;
        let total = Money::from_fen(total).short_text();
        let summary = Text::new(
            format!("补货草稿 #{id}:{} 个商品,预计进货成本 ¥{total}", lines.len()),
            format!("restock draft #{id}: {} products, about ¥{total} at cost", lines.len()),
        );
        Ok(Outcome::new(
            summary,
            serde_json::json!({"draft": id, "lines": lines, "lead_time_days": args.lead_time_days}),
        ))
    }
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CampaignAction {
    Pause,
    Resume,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AdjustArgs {
    /// The campaign's id.
    pub campaign: i64,
    /// Pause or resume it.
    #[serde(default)]
    pub action: Option<CampaignAction>,
    /// A new bid per click.
    #[serde(default)]
    pub bid: Option<Money>,
    /// A new total budget; a raise is spent from the budget over the days left.
    #[serde(default)]
    pub total_budget: Option<Money>,
}

pub struct AdjustAdCampaign;

#[async_trait]
impl TypedSkill for AdjustAdCampaign {
    const ID: &'static str = "ops.adjust_ad_campaign";
    type Args = AdjustArgs;

    /// Pauses, resumes, re-bids or re-budgets a campaign. Raising the total budget commits the
    /// difference through the ledger over the days the campaign has left (budget caps and the
    /// approval threshold apply); lowering it caps future spend but returns nothing already
    /// committed.
    async fn run(&self, cx: &mut Cx<'_>, args: AdjustArgs) -> Result<Outcome, Halt> {
        if args.action.is_none() && args.bid.is_none() && args.total_budget.is_none() {
            return Err(bad_args(Self::ID, "give an action (pause, resume), a bid or a total_budget"));
        }
        if args.bid.is_some_and(|b| b <= Money::ZERO) || args.total_budget.is_some_and(|b| b <= Money::ZERO) {
            return Err(bad_args(Self::ID, "bid and total_budget must be above zero"));
        }
        let (shop_id, tz, today) = (cx.shop.id, cx.shop.timezone, cx.today);
        let row: Option<(String, String, i64, i64, String)> = sqlx::query_as(
            "SELECT name, status, total_budget_fen, spend_fen, ends_at FROM ad_campaigns WHERE shop_id = $1 AND id = $2",
        )
        .bind(shop_id)
        .bind(args.campaign)
        .fetch_optional(cx.read())
        .await?;
        let Some((name, status, total, spent, ends_at)) = row else {
            return Err(bad_args(Self::ID, format!("no ad campaign #{} in this shop", args.campaign)));
        };
        if status == "ended" {
            return Err(bad_args(Self::ID, format!("campaign #{} has ended", args.campaign)));
        }
        let last_day = crate::clock::parse_stamp(&ends_at)
            .map(|t| crate::clock::local_date(tz, t))
            .and_then(|d| d.pred_opt())
            .unwrap_or(today);
        let mut intent = Intent::default();
        if let Some(new_total) = args.total_budget {
            if new_total.fen() < spent {
                return Err(bad_args(
                    Self::ID,
                    format!("campaign #{} has already spent ¥{}", args.campaign, Money::from_fen(spent).short_text()),
                ));
            }
            let raise = new_total.fen() - total;
            if raise > 0 {
                let days = u32::try_from((last_day - today).num_days() + 1).unwrap_or(1).max(1);
                intent.spend =
                    Some(Spend::spread(format!("ad campaign {name} raise"), Money::from_fen(raise), today, days));
                intent.campaign_budget = Some(new_total);
            }
        }
        let new_status = match args.action {
            Some(CampaignAction::Pause) => "paused",
            Some(CampaignAction::Resume) => "active",
            None => status.as_str(),
        };
        let conn = cx.authorize(intent).await?;
        sqlx::query(
            "UPDATE ad_campaigns SET status = $1, bid_fen = COALESCE($2, bid_fen), \
             total_budget_fen = COALESCE($3, total_budget_fen) WHERE id = $4",
        )
        .bind(new_status)
        .bind(args.bid.map(Money::fen))
        .bind(args.total_budget.map(Money::fen))
        .bind(args.campaign)
        .execute(&mut *conn)
        .await?;
        let mut zh = vec![format!("推广「{name}」#{}", args.campaign)];
        let mut en = vec![format!("campaign \"{name}\" #{}", args.campaign)];
        match (args.action, new_status != status) {
            (Some(CampaignAction::Pause), true) => (zh.push("已暂停".into()), en.push("paused".into())),
            (Some(CampaignAction::Resume), true) => (zh.push("已恢复".into()), en.push("resumed".into())),
            (Some(CampaignAction::Pause), false) => {
                (zh.push("本来就已暂停".into()), en.push("was already paused".into()))
            }
            (Some(CampaignAction::Resume), false) => {
                (zh.push("本来就在投放".into()), en.push("was already running".into()))
            }
            (None, _) => ((), ()),
        };
        if let Some(bid) = args.bid {
            zh.push(format!("出价 ¥{}", bid.short_text()));
            en.push(format!("bid ¥{}", bid.short_text()));
        }
        if let Some(t) = args.total_budget {
            zh.push(format!("总预算 ¥{}", t.short_text()));
            en.push(format!("total budget ¥{}", t.short_text()));
        }
        let summary = Text::new(zh.join(","), en.join(", "));
        Ok(Outcome::new(
            summary,
            serde_json::json!({"campaign": args.campaign, "status": new_status, "bid": args.bid, "total_budget": args.total_budget}),
        ))
    }
}
