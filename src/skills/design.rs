//! Design: campaign banners drawn as SVG into the shop's assets.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::{Cx, Halt, Outcome, Scope, TypedSkill, bad_args};
use crate::clock::{local_date, parse_stamp, stamp};
use crate::lang::Text;
use crate::money::Pct;
use crate::policy::Intent;
use crate::svg;

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BannerArgs {
    /// The campaign theme: "中秋", "国庆", "双11", "618" …
    pub theme: String,
    /// The main line; built from the discount when absent.
    #[serde(default)]
    pub headline: Option<String>,
    /// The discount to show; the newest discount promotion's when absent.
    #[serde(default)]
    pub discount_pct: Option<Pct>,
    /// The products the banner is for.
    #[serde(default)]
    pub scope: Option<Scope>,
}

pub struct Banner;

#[async_trait]
impl TypedSkill for Banner {
    const ID: &'static str = "design.banner";
    type Args = BannerArgs;

    async fn run(&self, cx: &mut Cx<'_>, args: BannerArgs) -> Result<Outcome, Halt> {
        let (shop, now) = (cx.shop, stamp(cx.now));
        let theme = args.theme.trim();
        if theme.is_empty() || theme.chars().count() > 20 {
            return Err(bad_args(Self::ID, "theme must be 1 to 20 characters"));
        }
        let label = match &args.scope {
            Some(scope) => Some(scope.resolve(cx.read(), shop.id, Self::ID).await?.label_zh),
            None => None,
        };
        // The promotion the banner advertises: the newest live or upcoming discount.
        let promo = sqlx::query(
            "SELECT name, discount_bp, starts_at, ends_at FROM promotions WHERE shop_id = $1 AND kind = 'discount' \
             AND status IN ('scheduled', 'active') AND ends_at > $2 ORDER BY id DESC LIMIT 1",
        )
        .bind(shop.id)
        .bind(&now)
        .fetch_optional(cx.read())
        .await?;
        let discount = args.discount_pct.or_else(|| promo.as_ref().map(|r| Pct::from_bp(r.get("discount_bp"))));
        let window = promo.as_ref().and_then(|r| {
            let tz = cx.shop.timezone;
            let start = parse_stamp(&r.get::<String, _>("starts_at")).map(|t| local_date(tz, t))?;
            let end = parse_stamp(&r.get::<String, _>("ends_at")).map(|t| local_date(tz, t))?;
            Some(format!("{}–{}", start.format("%m月%d日"), end.pred_opt()?.format("%m月%d日")))
        });
        let headline = args.headline.clone().unwrap_or_else(|| {
            let what = label.clone().unwrap_or_else(|| "全店".to_string());
            match discount {
                Some(d) => format!("{what} {}", d.zhe_text()),
                None => format!("{what} 好物上新"),
            }
        });
        let subline = match &window {
            Some(w) => format!("{w} · {}", cx.shop.title),
            None => cx.shop.title.clone(),
        };
        let badge = discount.map(|d| d.zhe_text());
        let art = svg::banner(&svg::Banner { theme, headline: &headline, subline: &subline, badge: badge.as_deref() });
        let digest = hex::encode(Sha256::digest(art.as_bytes()));
        let file_name = format!("banner-{}-{}.svg", cx.today, &digest[..8]);
        cx.authorize(Intent::default()).await?;
        let title = format!("{theme} {headline}");
        let path = cx.save_asset("banner", &title, &file_name, art.as_bytes()).await?;
        let png = save_png(cx, "banner", &title, &file_name, &art).await?;
        let summary = Text::new(
            format!("已生成「{theme}」海报:{headline} → {path}"),
            format!("drew the {theme} banner \"{headline}\" → {path}"),
        );
        let mut outcome = Outcome::new(
            summary,
            serde_json::json!({"theme": theme, "headline": headline, "subline": subline, "badge": badge, "path": path, "sha256": digest, "png": png}),
        );
        outcome.files.push(path);
        outcome.files.extend(png);
        Ok(outcome)
    }
}

#[derive(Debug, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditArgs {
    /// Only these products; every listed product when absent.
    #[serde(default)]
    pub scope: Option<Scope>,
}

pub struct ListingAudit;

#[async_trait]
impl TypedSkill for ListingAudit {
    const ID: &'static str = "design.listing_audit";
    type Args = AuditArgs;

    async fn run(&self, cx: &mut Cx<'_>, args: AuditArgs) -> Result<Outcome, Halt> {
        let shop_id = cx.shop.id;
        let scope = args.scope.unwrap_or_default();
        let products = scope.resolve(cx.read(), shop_id, Self::ID).await?.products;
        let with_image: Vec<String> =
            sqlx::query_scalar("SELECT DISTINCT title FROM assets WHERE shop_id = $1 AND kind = 'main_image'")
                .bind(shop_id)
                .fetch_all(cx.read())
                .await?;
        let mut findings = Vec::new();
        for p in &products {
            let row = sqlx::query("SELECT keywords, description FROM products WHERE id = $1")
                .bind(p.id)
                .fetch_one(cx.read())
                .await?;
            let (keywords, description): (String, String) = (row.get("keywords"), row.get("description"));
            let mut problems = Vec::new();
            if !with_image.contains(&p.sku) {
                problems.push(serde_json::json!({"problem": "missing_main_image"}));
            }
            let width = super::words::title_width(&p.title);
            if width > super::words::MAX_TITLE_WIDTH {
                problems.push(serde_json::json!({"problem": "title_too_long", "width": width, "max": super::words::MAX_TITLE_WIDTH}));
            }
            let banned = super::words::banned_in(&format!("{}\n{keywords}\n{description}", p.title));
            if !banned.is_empty() {
                problems.push(serde_json::json!({"problem": "banned_words", "words": banned}));
            }
            if !problems.is_empty() {
                findings.push(serde_json::json!({"sku": p.sku, "title": p.title, "problems": problems}));
            }
        }
        cx.authorize(Intent::default()).await?;
        let count = |name: &str| {
            findings
                .iter()
                .filter(|f| f["problems"].as_array().is_some_and(|ps| ps.iter().any(|p| p["problem"] == name)))
                .count()
        };
        let (images, long, banned) = (count("missing_main_image"), count("title_too_long"), count("banned_words"));
        let summary = Text::new(
            format!("检查了 {} 个商品:{images} 个缺主图,{long} 个标题过长,{banned} 个含极限词", products.len()),
            format!(
                "audited {} listings: {images} without a main image, {long} with an over-long title, {banned} with banned words",
                products.len()
            ),
        );
        Ok(Outcome::new(summary, serde_json::json!({"audited": products.len(), "findings": findings})))
    }
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MainImageArgs {
    /// The product's SKU (or a unique part of its title).
    pub product: String,
}

pub struct MainImage;

#[async_trait]
impl TypedSkill for MainImage {
    const ID: &'static str = "design.main_image";
    type Args = MainImageArgs;

    /// The product's main image (SVG): its title, its price, and the running promotion's price
    /// and badge when there is one. Recorded as the product's `main_image` asset.
    async fn run(&self, cx: &mut Cx<'_>, args: MainImageArgs) -> Result<Outcome, Halt> {
        let (shop_id, now) = (cx.shop.id, stamp(cx.now));
        let product = crate::store::find_product(cx.read(), shop_id, &args.product)
            .await?
            .ok_or_else(|| bad_args(Self::ID, format!("no product with SKU or unique title `{}`", args.product)))?;
        let promo: Option<(i64, i64)> = sqlx::query_as(
            "SELECT pp.promo_price_fen, p.discount_bp FROM promotion_products pp JOIN promotions p ON p.id = pp.promotion_id \
             WHERE pp.product_id = $1 AND p.status IN ('scheduled', 'active') AND p.ends_at > $2 ORDER BY p.id DESC LIMIT 1",
        )
        .bind(product.id)
        .bind(&now)
        .fetch_optional(cx.read())
        .await?;
        let sign = crate::money::currency_sign(&cx.shop.currency);
        let price_line = match promo {
            Some((price, _)) => format!(
                "到手价 {sign}{} · 原价 {sign}{}",
                crate::money::Money::from_fen(price).short_text(),
                product.price.short_text()
            ),
            None => format!("{sign}{}", product.price.short_text()),
        };
        let badge = promo.map(|(_, bp)| Pct::from_bp(bp).zhe_text());
        let art = svg::banner(&svg::Banner {
            theme: &product.category,
            headline: &product.title,
            subline: &price_line,
            badge: badge.as_deref(),
        });
        let digest = hex::encode(Sha256::digest(art.as_bytes()));
        let file_name = format!("main-{}-{}.svg", product.sku, &digest[..8]);
        cx.authorize(Intent::default()).await?;
        let path = cx.save_asset("main_image", &product.sku, &file_name, art.as_bytes()).await?;
        let png = save_png(cx, "main_image", &product.sku, &file_name, &art).await?;
        let summary = Text::new(
            format!("已生成 {} 的主图:{price_line} → {path}", product.sku),
            format!("drew the main image of {}: {price_line} → {path}", product.sku),
        );
        let mut outcome =
            Outcome::new(summary, serde_json::json!({"sku": product.sku, "path": path, "badge": badge, "png": png}));
        outcome.files.push(path);
        outcome.files.extend(png);
        Ok(outcome)
    }
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DetailCopyArgs {
    /// The product's SKU (or a unique part of its title).
    pub product: String,
    /// Extra selling points to include, one line each.
    #[serde(default)]
    pub points: Vec<String>,
}

pub struct DetailCopy;

#[async_trait]
impl TypedSkill for DetailCopy {
    const ID: &'static str = "design.detail_copy";
    type Args = DetailCopyArgs;

    /// Detail-page copy from the product's facts (title, category, price, stock, shipping and
    /// returns promise) plus the given points, checked for banned absolute words, written as
    /// a Markdown asset.
    async fn run(&self, cx: &mut Cx<'_>, args: DetailCopyArgs) -> Result<Outcome, Halt> {
        let shop = cx.shop;
        if args.points.len() > 10 || args.points.iter().any(|p| p.chars().count() > 80) {
            return Err(bad_args(Self::ID, "at most 10 points of at most 80 characters each"));
        }
        let product = crate::store::find_product(cx.read(), shop.id, &args.product)
            .await?
            .ok_or_else(|| bad_args(Self::ID, format!("no product with SKU or unique title `{}`", args.product)))?;
        let mut lines = vec![
            format!("# {}", product.title),
            String::new(),
            format!("- 类目:{}", product.category),
            format!("- 价格:{}{}", crate::money::currency_sign(&shop.currency), product.price.short_text()),
            format!("- {} 小时内发货,{} 天无理由退换", shop.ship_within_hours, shop.return_days),
        ];
        if product.stock > 0 {
            lines.push(format!("- 现货 {} 件", product.stock));
        }
        lines.extend(args.points.iter().map(|p| format!("- {}", p.trim())));
        let copy = lines.join("\n") + "\n";
        let intent = Intent { banned_words: super::words::banned_in(&copy), ..Intent::default() };
        cx.authorize(intent).await?;
        let digest = hex::encode(Sha256::digest(copy.as_bytes()));
        let file_name = format!("detail-{}-{}.md", product.sku, &digest[..8]);
        let path = cx.save_asset("detail_copy", &product.sku, &file_name, copy.as_bytes()).await?;
        let summary = Text::new(
            format!("已写好 {} 的详情页文案({} 条卖点)→ {path}", product.sku, lines.len() - 2),
            format!("wrote the detail copy of {} ({} points) → {path}", product.sku, lines.len() - 2),
        );
        let mut outcome = Outcome::new(summary, serde_json::json!({"sku": product.sku, "path": path, "copy": copy}));
        outcome.files.push(path);
        Ok(outcome)
    }
}

/// A PNG copy of the art beside its SVG, where a font here draws Chinese; its path, or `None`.
async fn save_png(cx: &mut Cx<'_>, kind: &str, title: &str, svg_name: &str, art: &str) -> Result<Option<String>, Halt> {
    let Some(png) = crate::png::render(art)? else {
        tracing::info!("no installed font draws Chinese; {svg_name} has no PNG copy");
        return Ok(None);
    };
    let name = format!("{}.png", svg_name.trim_end_matches(".svg"));
    Ok(Some(cx.save_asset(kind, title, &name, &png).await?))
}
