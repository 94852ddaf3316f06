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
        let path = cx.save_asset("banner", &format!("{theme} {headline}"), &file_name, art.as_bytes()).await?;
        let summary = Text::new(
            format!("已生成「{theme}」海报:{headline} → {path}"),
            format!("drew the {theme} banner \"{headline}\" → {path}"),
        );
        let mut outcome = Outcome::new(
            summary,
            serde_json::json!({"theme": theme, "headline": headline, "subline": subline, "badge": badge, "path": path, "sha256": digest}),
        );
        outcome.files.push(path);
        Ok(outcome)
    }
}
