//! Promotions: discounts and threshold coupons.

use async_trait::async_trait;
use chrono::{Days, NaiveDate};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Cx, Halt, Outcome, Scope, TypedSkill, bad_args, check_days, stack};
use crate::clock::{local_midnight, stamp};
use crate::lang::Text;
use crate::money::{Money, Pct};
use crate::policy::{Intent, PriceLine, Spend};
use crate::store;

const MAX_DAYS: u32 = 90;

fn default_days() -> u32 {
    7
}

/// The window a promotion runs: from `starts` (default today) for `days` days.
pub(super) struct Window {
    pub start: NaiveDate,
    pub days: u32,
    pub starts_at: String,
    pub ends_at: String,
    pub status: &'static str,
}

pub(super) fn window(cx: &Cx<'_>, skill: &str, starts: Option<NaiveDate>, days: u32) -> Result<Window, Halt> {
    let days = check_days(skill, days, MAX_DAYS)?;
    let start = starts.unwrap_or(cx.today);
    if start < cx.today {
        return Err(bad_args(skill, format!("starts {start} is in the past (today is {})", cx.today)));
    }
    let end = start + Days::new(u64::from(days));
    let tz = cx.shop.timezone;
    Ok(Window {
        start,
        days,
        starts_at: stamp(local_midnight(tz, start)),
        ends_at: stamp(local_midnight(tz, end)),
        status: if start > cx.today { "scheduled" } else { "active" },
    })
}

pub(super) fn date_range_text(start: NaiveDate, days: u32) -> String {
    let last = start + Days::new(u64::from(days.saturating_sub(1)));
    format!("{}–{}", start.format("%m-%d"), last.format("%m-%d"))
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DiscountArgs {
    /// Percent off: 20 means customers pay 80% (八折, "8折").
    pub discount_pct: Pct,
    /// "all", a category, one SKU, or a list of SKUs.
    #[serde(default)]
    pub scope: Scope,
    /// How many days it runs.
    #[serde(default = "default_days")]
    pub days: u32,
    /// First day (shop-local, YYYY-MM-DD); today when absent.
    #[serde(default)]
    pub starts: Option<NaiveDate>,
    /// A name for the promotion, e.g. "中秋大促".
    #[serde(default)]
    pub name: Option<String>,
}

pub struct CreateDiscount;

#[async_trait]
impl TypedSkill for CreateDiscount {
    const ID: &'static str = "promo.create_discount";
    type Args = DiscountArgs;

    async fn run(&self, cx: &mut Cx<'_>, args: DiscountArgs) -> Result<Outcome, Halt> {
        discount(cx, Self::ID, args).await
    }
}

/// A percent-off promotion over a window: the gate sees the discount and the lowest prices it
/// stacks to. Shared by discounts and platform campaigns.
async fn discount(cx: &mut Cx<'_>, skill: &str, args: DiscountArgs) -> Result<Outcome, Halt> {
    let (shop, now) = (cx.shop, stamp(cx.now));
    if args.discount_pct <= Pct::from_bp(0) || args.discount_pct >= Pct::whole(100) {
        return Err(bad_args(skill, "discount_pct must be above 0 and below 100"));
    }
    let w = window(cx, skill, args.starts, args.days)?;
    let mut scope = args.scope.resolve(cx.read(), shop.id, skill).await?;
    // Free items (a price of zero) have nothing to take off.
    scope.products.retain(|p| p.price > Money::ZERO);
    if scope.products.is_empty() {
        return Err(bad_args(skill, "the scope holds no listed product with a price above zero"));
    }
    // The promotion price of each product, and the lowest price once it stacks with the
    // promotions overlapping its window: the margin floor is checked on the latter.
    let mut promo_prices = Vec::with_capacity(scope.products.len());
    let mut lines = Vec::with_capacity(scope.products.len());
    for p in &scope.products {
        let price = p.price.less_pct(args.discount_pct).ok_or_else(|| bad_args(skill, "price overflow"))?;
        promo_prices.push(price);
        let mut stack = stack::overlapping(cx.read(), shop.id, p.id, &w.starts_at, &w.ends_at).await?;
        stack.percents.push(args.discount_pct);
        lines.push(PriceLine { sku: p.sku.clone(), cost: p.cost, price: stack.lowest(p.price) });
    }
    let intent = Intent { discount: Some(args.discount_pct), prices: lines.clone(), ..Intent::default() };
    let name = args.name.clone().unwrap_or_else(|| format!("{} {}", scope.label_zh, args.discount_pct.zhe_text()));
    let conn = cx.authorize(intent).await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO promotions (shop_id, kind, name, scope, discount_bp, starts_at, ends_at, status, created_at) \
         VALUES ($1, 'discount', $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(shop.id)
    .bind(&name)
    .bind(serde_json::to_string(&args.scope).unwrap_or_default())
    .bind(args.discount_pct.bp())
    .bind(&w.starts_at)
    .bind(&w.ends_at)
    .bind(w.status)
    .bind(&now)
    .fetch_one(&mut *conn)
    .await?;
    for (p, price) in scope.products.iter().zip(&promo_prices) {
        sqlx::query("INSERT INTO promotion_products (promotion_id, product_id, promo_price_fen) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(p.id)
            .bind(price.fen())
            .execute(&mut *conn)
            .await?;
    }
    let range = date_range_text(w.start, w.days);
    let summary = Text::new(
        format!(
            "已创建折扣「{name}」#{id}:{} {} 件商品 {}(减 {}),{range} 共 {} 天",
            scope.label_zh,
            lines.len(),
            args.discount_pct.zhe_text(),
            args.discount_pct,
            w.days
        ),
        format!(
            "created discount \"{name}\" #{id}: {} off {} ({} products), {range}, {} days",
            args.discount_pct,
            scope.label_en,
            lines.len(),
            w.days
        ),
    );
    let prices: Vec<_> = lines
        .iter()
        .zip(&scope.products)
        .zip(&promo_prices)
        .map(|((l, p), promo)| {
            serde_json::json!({"sku": l.sku, "price": p.price, "promo_price": promo, "lowest_stacked": l.price})
        })
        .collect();
    Ok(Outcome::new(
        summary,
        serde_json::json!({"promotion_id": id, "name": name, "status": w.status, "starts": w.start, "days": w.days, "prices": prices}),
    ))
}

fn default_quantity() -> u32 {
    100
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CouponArgs {
    /// Order total the coupon needs ("满200" → 200).
    pub threshold: Money,
    /// Money off ("减20" → 20).
    pub value: Money,
    /// How many coupons to issue.
    #[serde(default = "default_quantity")]
    pub quantity: u32,
    #[serde(default = "default_days")]
    pub days: u32,
    #[serde(default)]
    pub starts: Option<NaiveDate>,
    #[serde(default)]
    pub name: Option<String>,
}

pub struct CreateCoupon;

#[async_trait]
impl TypedSkill for CreateCoupon {
    const ID: &'static str = "promo.create_coupon";
    type Args = CouponArgs;

    async fn run(&self, cx: &mut Cx<'_>, args: CouponArgs) -> Result<Outcome, Halt> {
        let (shop, now) = (cx.shop, stamp(cx.now));
        if args.value <= Money::ZERO || args.value >= args.threshold {
            return Err(bad_args(Self::ID, "value must be above 0 and below threshold"));
        }
        if args.quantity == 0 || args.quantity > 100_000 {
            return Err(bad_args(Self::ID, "quantity must be between 1 and 100000"));
        }
        let w = window(cx, Self::ID, args.starts, args.days)?;
        let total = args
            .value
            .checked_mul(i64::from(args.quantity))
            .ok_or_else(|| bad_args(Self::ID, "value × quantity is too large"))?;
        let name = args
            .name
            .clone()
            .unwrap_or_else(|| format!("满{}减{}", args.threshold.short_text(), args.value.short_text()));
        // Coupons are redeemed over their window, so their face value is budgeted the same way.
        let spend = Spend::spread(format!("coupon {name} × {}", args.quantity), total, w.start, w.days);
        // A coupon applies to every listed product, on top of whatever else runs in its window.
        let mut lines = Vec::new();
        for p in store::products(cx.read(), shop.id).await?.into_iter().filter(|p| p.listed && p.price > Money::ZERO) {
            let mut stack = stack::overlapping(cx.read(), shop.id, p.id, &w.starts_at, &w.ends_at).await?;
            stack.coupons.push((args.threshold, args.value));
            lines.push(PriceLine { sku: p.sku, cost: p.cost, price: stack.lowest(p.price) });
        }
        let intent = Intent { coupon_value: Some(args.value), spend: Some(spend), prices: lines, ..Intent::default() };
        let conn = cx.authorize(intent).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO promotions (shop_id, kind, name, scope, threshold_fen, value_fen, quantity, starts_at, ends_at, \
             status, created_at) VALUES ($1, 'coupon', $2, '\"all\"', $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(shop.id)
        .bind(&name)
        .bind(args.threshold.fen())
        .bind(args.value.fen())
        .bind(i64::from(args.quantity))
        .bind(&w.starts_at)
        .bind(&w.ends_at)
        .bind(w.status)
        .bind(&now)
        .fetch_one(&mut *conn)
        .await?;
        let range = date_range_text(w.start, w.days);
        let summary = Text::new(
            format!("已创建优惠券「{name}」#{id} × {} 张,{range},预算占用 ¥{}", args.quantity, total.short_text()),
            format!(
                "created coupon \"¥{} off ¥{}\" #{id} × {}, {range}, budget ¥{}",
                args.value.short_text(),
                args.threshold.short_text(),
                args.quantity,
                total.short_text()
            ),
        );
        Ok(Outcome::new(
            summary,
            serde_json::json!({"promotion_id": id, "name": name, "status": w.status, "budget": total, "starts": w.start, "days": w.days}),
        ))
    }
}

fn default_hours() -> u32 {
    24
}

fn default_flash_quantity() -> u32 {
    100
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FlashSaleArgs {
    /// The products: a SKU, a list of SKUs, or a category.
    pub scope: Scope,
    /// Percent off the list price; give this or `price`.
    #[serde(default)]
    pub discount_pct: Option<Pct>,
    /// A sale price for every product of the scope; give this or `discount_pct`.
    #[serde(default)]
    pub price: Option<Money>,
    /// Units sold at the sale price.
    #[serde(default = "default_flash_quantity")]
    pub quantity: u32,
    /// How long it runs, from now.
    #[serde(default = "default_hours")]
    pub hours: u32,
    #[serde(default)]
    pub name: Option<String>,
}

pub struct FlashSale;

#[async_trait]
impl TypedSkill for FlashSale {
    const ID: &'static str = "promo.flash_sale";
    type Args = FlashSaleArgs;

    async fn run(&self, cx: &mut Cx<'_>, args: FlashSaleArgs) -> Result<Outcome, Halt> {
        let shop = cx.shop;
        if args.hours == 0 || args.hours > 72 {
            return Err(bad_args(Self::ID, "hours must be between 1 and 72"));
        }
        if args.quantity == 0 || args.quantity > 100_000 {
            return Err(bad_args(Self::ID, "quantity must be between 1 and 100000"));
        }
        let mut scope = args.scope.resolve(cx.read(), shop.id, Self::ID).await?;
        scope.products.retain(|p| p.price > Money::ZERO);
        if scope.products.is_empty() {
            return Err(bad_args(Self::ID, "the scope holds no listed product with a price above zero"));
        }
        let starts = cx.now;
        let ends = cx.now + chrono::Duration::hours(i64::from(args.hours));
        let (from, to) = (stamp(starts), stamp(ends));
        // The sale price of each product, and the discount it amounts to.
        let mut sale = Vec::with_capacity(scope.products.len());
        for p in &scope.products {
            let (price, pct) = match (args.discount_pct, args.price) {
                (Some(pct), None) => {
                    if pct <= Pct::from_bp(0) || pct >= Pct::whole(100) {
                        return Err(bad_args(Self::ID, "discount_pct must be above 0 and below 100"));
                    }
                    (p.price.less_pct(pct).ok_or_else(|| bad_args(Self::ID, "price overflow"))?, pct)
                }
                (None, Some(price)) => {
                    if price <= Money::ZERO || price >= p.price {
                        return Err(bad_args(
                            Self::ID,
                            format!("price must be above 0 and below {}'s list price ¥{}", p.sku, p.price.yuan_text()),
                        ));
                    }
                    // Rounded up, so the gate sees at least the real discount.
                    let off = i128::from(p.price.fen() - price.fen()) * 10_000;
                    let bp = (off + i128::from(p.price.fen()) - 1) / i128::from(p.price.fen());
                    (price, Pct::from_bp(i64::try_from(bp).unwrap_or(10_000)))
                }
                _ => return Err(bad_args(Self::ID, "give either discount_pct or price")),
            };
            sale.push((p, price, pct));
        }
        let deepest = sale.iter().map(|(_, _, pct)| *pct).max().unwrap_or_default();
        let mut lines = Vec::with_capacity(sale.len());
        for (p, _, pct) in &sale {
            let mut stack = stack::overlapping(cx.read(), shop.id, p.id, &from, &to).await?;
            stack.percents.push(*pct);
            lines.push(PriceLine { sku: p.sku.clone(), cost: p.cost, price: stack.lowest(p.price) });
        }
        let intent = Intent { discount: Some(deepest), prices: lines, ..Intent::default() };
        let name = args.name.clone().unwrap_or_else(|| format!("{} 限时秒杀", scope.label_zh));
        let conn = cx.authorize(intent).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO promotions (shop_id, kind, name, scope, discount_bp, quantity, starts_at, ends_at, status, created_at) \
             VALUES ($1, 'flash_sale', $2, $3, $4, $5, $6, $7, 'active', $6) RETURNING id",
        )
        .bind(shop.id)
        .bind(&name)
        .bind(serde_json::to_string(&args.scope).unwrap_or_default())
        .bind(deepest.bp())
        .bind(i64::from(args.quantity))
        .bind(&from)
        .bind(&to)
        .fetch_one(&mut *conn)
        .await?;
        for (p, price, _) in &sale {
            sqlx::query(
                "INSERT INTO promotion_products (promotion_id, product_id, promo_price_fen) VALUES ($1, $2, $3)",
            )
            .bind(id)
            .bind(p.id)
            .bind(price.fen())
            .execute(&mut *conn)
            .await?;
        }
        let summary = Text::new(
            format!(
                "已创建限时秒杀「{name}」#{id}:{} {} 件商品,{} 小时,限 {} 件",
                scope.label_zh,
                sale.len(),
                args.hours,
                args.quantity
            ),
            format!(
                "created flash sale \"{name}\" #{id}: {} ({} products), {} hours, {} units",
                scope.label_en,
                sale.len(),
                args.hours,
                args.quantity
            ),
        );
        let prices: Vec<_> = sale
            .iter()
            .map(|(p, price, _)| serde_json::json!({"sku": p.sku, "price": p.price, "sale_price": price}))
            .collect();
        Ok(Outcome::new(summary, serde_json::json!({"promotion_id": id, "name": name, "ends": to, "prices": prices})))
    }
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EndArgs {
    /// The promotion's id, as its creation reported it.
    pub promotion: i64,
}

pub struct End;

#[async_trait]
impl TypedSkill for End {
    const ID: &'static str = "promo.end";
    type Args = EndArgs;

    async fn run(&self, cx: &mut Cx<'_>, args: EndArgs) -> Result<Outcome, Halt> {
        let (shop_id, now) = (cx.shop.id, stamp(cx.now));
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT name, status FROM promotions WHERE shop_id = $1 AND id = $2")
                .bind(shop_id)
                .bind(args.promotion)
                .fetch_optional(cx.read())
                .await?;
        let Some((name, status)) = row else {
            return Err(bad_args(Self::ID, format!("no promotion #{} in this shop", args.promotion)));
        };
        if status == "ended" {
            return Err(bad_args(Self::ID, format!("promotion #{} has already ended", args.promotion)));
        }
        let conn = cx.authorize(Intent::default()).await?;
        sqlx::query("UPDATE promotions SET status = 'ended', ends_at = $1 WHERE id = $2 AND status <> 'ended'")
            .bind(&now)
            .bind(args.promotion)
            .execute(&mut *conn)
            .await?;
        let summary = Text::new(
            format!("已结束促销「{name}」#{}", args.promotion),
            format!("ended promotion \"{name}\" #{}", args.promotion),
        );
        Ok(Outcome::new(summary, serde_json::json!({"promotion_id": args.promotion, "name": name, "was": status})))
    }
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinCampaignArgs {
    /// The platform campaign, e.g. "双11官方大促".
    pub campaign: String,
    /// The discount the platform requires, in percent off.
    pub discount_pct: Pct,
    /// The products to enrol: a category, one SKU or a list of SKUs.
    pub scope: Scope,
    #[serde(default = "default_days")]
    pub days: u32,
    #[serde(default)]
    pub starts: Option<NaiveDate>,
}

pub struct JoinCampaign;

#[async_trait]
impl TypedSkill for JoinCampaign {
    const ID: &'static str = "promo.join_campaign";
    type Args = JoinCampaignArgs;

    /// Enrolling is a discount under the platform campaign's name: the same cap, floor and
    /// approval threshold hold.
    async fn run(&self, cx: &mut Cx<'_>, args: JoinCampaignArgs) -> Result<Outcome, Halt> {
        let name = args.campaign.trim().to_string();
        if name.is_empty() || name.chars().count() > 40 {
            return Err(bad_args(Self::ID, "the campaign name has 1 to 40 characters"));
        }
        let discount_args = DiscountArgs {
            discount_pct: args.discount_pct,
            scope: args.scope,
            days: args.days,
            starts: args.starts,
            name: Some(name.clone()),
        };
        let mut outcome = discount(cx, Self::ID, discount_args).await?;
        outcome.summary = Text::new(
            format!("已报名平台活动「{name}」:{}", outcome.summary.zh),
            format!("joined the platform campaign \"{name}\": {}", outcome.summary.en),
        );
        Ok(outcome)
    }
}
