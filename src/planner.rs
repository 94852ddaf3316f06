//! The offline planner: a deterministic reader of the request families the crew knows, in
//! Chinese and English, that turns one request into a [`Plan`].
//!
//! It works clause by clause. A request is split at punctuation and connectives ("然后",
//! "then"); each clause is either context (a festival theme, a start date, a duration), an
//! action for one skill, a scope for the action before it, filler ("谢谢"), or something it
//! does not understand. One clause it does not understand is enough to plan nothing: the owner
//! gets [`NotUnderstood`], naming what was understood and what was not, and nothing runs.
//!
//! Chinese discount words are exact: "8折" means the customer pays 80%, so `discount_pct` is
//! 20; "75折" is 25, "九五折" 5, "半价" 50. Numbers stay decimal all the way to the JSON
//! arguments, where whole values are written as integers.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, Days, NaiveDate, Weekday};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{Value, json};

use crate::lang::{Lang, is_cjk};
use crate::plan::{Plan, ShopContext, Task};
use crate::skills::scope::category_label_zh;

/// What the planner made of a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Planned {
    Plan(Plan),
    NotUnderstood(NotUnderstood),
}

/// A request the planner could not fully read. Nothing of it runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NotUnderstood {
    /// What it did understand, in the request's language.
    pub understood: Vec<String>,
    /// The clauses it did not understand, each with a hint where it has one.
    pub unclear: Vec<String>,
    pub lang: Lang,
}

impl NotUnderstood {
    /// The model's account of what it could not map; nothing was understood well enough to run.
    pub fn from_model(request: &str, unclear: Vec<String>) -> NotUnderstood {
        NotUnderstood { understood: Vec::new(), unclear, lang: Lang::detect(request) }
    }
}

const EXAMPLES_ZH: [&str; 6] = [
    "下周中秋大促:月饼8折,做一张海报,推广预算500元",
    "满200减20,发100张",
    "看看上周的销售",
    "预测一下库存,补货周期7天",
    "回复客户消息",
    "把 MC-001 改价到 88 元",
];

const EXAMPLES_EN: [&str; 6] = [
    "Mid-Autumn sale next week: 20% off mooncakes, make a banner, ad budget 500",
    "coupon 20 off orders over 200, 100 coupons",
    "sales report for last week",
    "inventory forecast, lead time 7 days",
    "reply to customer messages",
    "set the price of MC-001 to 88",
];

impl fmt::Display for NotUnderstood {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (head, got, missed, none, tip, examples) = match self.lang {
            Lang::Zh => (
                "没能完全理解这个请求,所以什么都没有执行。",
                "听懂了:",
                "没听懂:",
                "(没有)",
                "可以换个说法,或者一件一件地说,例如:",
                EXAMPLES_ZH,
            ),
            Lang::En => (
                "I could not fully understand this request, so nothing was run.",
                "Understood:",
                "Not understood:",
                "(nothing)",
                "Try other words, or one thing at a time, for example:",
                EXAMPLES_EN,
            ),
        };
        writeln!(f, "{head}")?;
        writeln!(f, "{got}")?;
        if self.understood.is_empty() {
            writeln!(f, "  {none}")?;
        }
        for line in &self.understood {
            writeln!(f, "  · {line}")?;
        }
        writeln!(f, "{missed}")?;
        for line in &self.unclear {
            writeln!(f, "  · {line}")?;
        }
        writeln!(f, "{tip}")?;
        for example in examples {
            writeln!(f, "  · {example}")?;
        }
        Ok(())
    }
}

/// Plans a request without a model. Deterministic: the same request and shop give the same plan.
pub fn plan_offline(request: &str, ctx: &ShopContext) -> Planned {
    let lang = Lang::detect(request);
    let (text, texts) = take_free_texts(request);
    let words = Vocabulary::new(ctx);
    let cased = ascii_words(request);
    let mut setting = Setting { texts, cased, lang, ..Setting::default() };
    let mut readings = Vec::new();
    for clause in split_clauses(&text) {
        let reading = read_clause(&clause, &words, ctx, &mut setting);
        readings.push((clause, reading));
    }

    let mut understood = Vec::new();
    let mut unclear = Vec::new();
    let mut actions: Vec<Action> = Vec::new();
    for (clause, reading) in readings {
        match reading {
            Reading::Actions(found) => actions.extend(found),
            Reading::Scope(scope) => match actions.iter_mut().rev().find(|a| a.takes_scope()) {
                Some(action) => action.widen_scope(scope, ctx),
                None => setting.scope = Some(setting.scope.take().map_or(scope.clone(), |s| s.union(scope, ctx))),
            },
            Reading::Context | Reading::Filler => {}
            Reading::Unclear(hint) => unclear.push(match hint {
                Some(hint) => format!("{clause}({})", lang.pick(hint.0, hint.1)),
                None => clause,
            }),
        }
    }
    if let Err(hint) = join_details(&mut actions) {
        unclear.push(lang.pick(hint.0, hint.1).to_string());
    }
    // An action that names no products covers the ones the request is about.
    if setting.scope.is_none() {
        setting.scope = actions.iter().find_map(Action::own_scope).cloned();
    }
    // A festival without a date is the next one.
    if setting.starts.is_none()
        && let Some(theme) = setting.theme
        && let Some((start, days)) = theme.when.next_window(ctx.today, setting.days.or_else(|| asked_days(&actions)))
    {
        setting.starts = Some(start);
        setting.days = Some(days);
    }
    // A banner shows the discount it advertises.
    let discount = actions.iter().find_map(|a| match a {
        Action::Discount { pct, .. } => Some(*pct),
        _ => None,
    });
    for action in &mut actions {
        if let Action::Banner { discount: shown @ None, .. } = action {
            *shown = discount;
        }
    }
    if let Some(line) = setting.describe(lang) {
        understood.push(line);
    }
    understood.extend(actions.iter().map(|a| crate::money::in_currency(&a.describe(lang, &setting), &ctx.currency)));
    if actions.is_empty() && unclear.is_empty() {
        unclear.push(request.trim().to_string());
    }
    if !unclear.is_empty() {
        return Planned::NotUnderstood(NotUnderstood { understood, unclear, lang });
    }
    Planned::Plan(Plan { request: request.trim().to_string(), tasks: build_tasks(&actions, &setting, lang) })
}

/// Turns the actions into tasks `t1`, `t2`, … in the order the owner said them. A banner
/// waits for the promotion it advertises.
fn build_tasks(actions: &[Action], setting: &Setting, lang: Lang) -> Vec<Task> {
    let promo_index = actions.iter().position(|a| matches!(a, Action::Discount { .. } | Action::Coupon { .. }));
    actions
        .iter()
        .enumerate()
        .map(|(i, action)| {
            let depends_on = match (action, promo_index) {
                (Action::Banner { .. }, Some(p)) if p != i => vec![format!("t{}", p + 1)],
                _ => Vec::new(),
            };
            let (employee, skill, args) = action.to_call(setting, lang);
            Task { id: format!("t{}", i + 1), employee: employee.into(), skill: skill.into(), args, depends_on }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Context shared by the whole request.

/// What the request says about all of its actions: the occasion, when, for how long, and for
/// which products when an action does not say.
#[derive(Debug, Default)]
struct Setting {
    theme: Option<Theme>,
    starts: Option<NaiveDate>,
    days: Option<u32>,
    scope: Option<ScopeArg>,
    lead_time: Option<u32>,
    quantity: Option<u32>,
    limit: Option<u32>,
    /// "2小时", "for 2 hours": how long a flash sale runs.
    hours: Option<u32>,
    /// "限50件", "50 units": how many units a flash sale offers.
    units: Option<u32>,
    /// Text the owner dictated (a new title …), cut out before the request was split.
    texts: Vec<String>,
    /// The request's words as written, by their lower-case form, to give ids back their case.
    cased: Vec<(String, String)>,
    lang: Lang,
}

impl Setting {
    fn describe(&self, lang: Lang) -> Option<String> {
        if self.theme.is_none() && self.starts.is_none() && self.days.is_none() {
            return None;
        }
        let mut parts = Vec::new();
        if let Some(theme) = &self.theme {
            parts.push(lang.pick(theme.zh, theme.en).to_string());
        }
        if let Some(start) = self.starts {
            parts.push(match lang {
                Lang::Zh => format!("{}起", start.format("%m月%d日")),
                Lang::En => format!("from {start}"),
            });
        }
        if let Some(days) = self.days {
            parts.push(match lang {
                Lang::Zh => format!("{days}天"),
                Lang::En => format!("{days} days"),
            });
        }
        Some(match lang {
            Lang::Zh => format!("活动背景:{}", parts.join(",")),
            Lang::En => format!("occasion: {}", parts.join(", ")),
        })
    }

    fn theme_name(&self, lang: Lang) -> String {
        match &self.theme {
            Some(theme) => lang.pick(theme.zh, theme.en).to_string(),
            None => lang.pick("优惠活动", "Sale").to_string(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Theme {
    zh: &'static str,
    en: &'static str,
    when: When,
}

/// When a festival's sale runs, for a request that names the festival and no date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum When {
    /// A day of the solar calendar: the sale starts `before` days ahead of it and lasts `days`.
    Solar { month: u32, day: u32, before: u32, days: u32 },
    /// A day of the lunar calendar, from a table of its Gregorian dates.
    Lunar { dates: &'static [(i32, u32, u32)], before: u32, days: u32 },
    /// The day after the fourth Thursday of November, through Cyber Monday.
    BlackFriday,
}

/// 中秋 (the 15th day of the 8th lunar month), 2025–2035.
const MID_AUTUMN: &[(i32, u32, u32)] = &[
    (2025, 10, 6),
    (2026, 9, 25),
    (2027, 9, 15),
    (2028, 10, 3),
    (2029, 9, 22),
    (2030, 9, 12),
    (2031, 10, 1),
    (2032, 9, 19),
    (2033, 9, 8),
    (2034, 9, 27),
    (2035, 9, 16),
];

/// 春节 (the first day of the lunar year), 2025–2035.
const SPRING_FESTIVAL: &[(i32, u32, u32)] = &[
    (2025, 1, 29),
    (2026, 2, 17),
    (2027, 2, 6),
    (2028, 1, 26),
    (2029, 2, 13),
    (2030, 2, 3),
    (2031, 1, 23),
    (2032, 2, 11),
    (2033, 1, 31),
    (2034, 2, 19),
    (2035, 2, 8),
];

impl When {
    /// The first day and length of the next sale for the festival that has not ended by
    /// `today`; a sale already under way starts today with the days it has left. A length the
    /// owner asked for ends a gift festival's sale on the day itself.
    fn next_window(self, today: NaiveDate, asked: Option<u32>) -> Option<(NaiveDate, u32)> {
        for year in [today.year(), today.year() + 1] {
            let (day, before, days) = match self {
                When::Solar { month, day, before, days } => (NaiveDate::from_ymd_opt(year, month, day)?, before, days),
                When::Lunar { dates, before, days } => {
                    let Some(&(_, m, d)) = dates.iter().find(|(y, _, _)| *y == year) else { continue };
                    (NaiveDate::from_ymd_opt(year, m, d)?, before, days)
                }
                When::BlackFriday => {
                    let first = NaiveDate::from_ymd_opt(year, 11, 1)?;
                    (coming(first, Weekday::Thu) + Days::new(22), 0, 4)
                }
            };
            let (before, days) = match asked {
                Some(asked) if before > 0 => (asked.max(1) - 1, asked.max(1)),
                Some(asked) => (0, asked.max(1)),
                None => (before, days),
            };
            let start = day - Days::new(u64::from(before));
            let end = start + Days::new(u64::from(days) - 1);
            if end >= today {
                let start = start.max(today);
                let left = u32::try_from((end - start).num_days() + 1).ok()?;
                return Some((start, left));
            }
        }
        None
    }
}

const fn solar(month: u32, day: u32, before: u32, days: u32) -> When {
    When::Solar { month, day, before, days }
}

/// Festivals and shopping days, the words that name them (longest first where one contains
/// another), and when their sale runs: gift festivals in the week before, holidays and
/// shopping days on the days themselves.
const THEMES: &[(&str, &str, &[&str], When)] = &[
    (
        "中秋",
        "Mid-Autumn",
        &["中秋节", "中秋", "mid-autumn", "mid autumn", "midautumn", "mooncake festival", "moon festival"],
        When::Lunar { dates: MID_AUTUMN, before: 6, days: 7 },
    ),
    ("国庆", "National Day", &["国庆节", "国庆", "十一黄金周", "national day", "golden week"], solar(10, 1, 0, 7)),
    (
        "双11",
        "Double 11",
        &["双十一", "双11", "double eleven", "double 11", "singles' day", "singles day", "11.11"],
        solar(11, 11, 0, 1),
    ),
    ("双12", "Double 12", &["双十二", "双12", "double twelve", "double 12", "12.12"], solar(12, 12, 0, 1)),
    ("618", "618", &["618"], solar(6, 18, 0, 1)),
    (
        "春节",
        "Spring Festival",
        &["春节", "过年", "年货节", "spring festival", "chinese new year", "lunar new year"],
        When::Lunar { dates: SPRING_FESTIVAL, before: 13, days: 14 },
    ),
    ("元旦", "New Year", &["元旦", "new year's day", "new year"], solar(1, 1, 0, 3)),
    ("圣诞", "Christmas", &["圣诞节", "圣诞", "christmas", "xmas"], solar(12, 25, 6, 7)),
    ("黑五", "Black Friday", &["黑色星期五", "黑五", "black friday"], When::BlackFriday),
    ("情人节", "Valentine's Day", &["情人节", "valentine's day", "valentines day", "valentine"], solar(2, 14, 6, 7)),
    ("开学季", "Back to School", &["开学季", "开学", "back to school", "back-to-school"], solar(9, 1, 6, 14)),
];

// ---------------------------------------------------------------------------------------------
// Actions.

/// Which products an action covers, as the skills take it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ScopeArg {
    All,
    Category(String),
    Skus(Vec<String>),
}

impl ScopeArg {
    fn to_json(&self) -> Value {
        match self {
            ScopeArg::All => json!("all"),
            ScopeArg::Category(c) => json!(c),
            ScopeArg::Skus(skus) => json!(skus),
        }
    }

    fn label(&self, lang: Lang) -> String {
        match (self, lang) {
            (ScopeArg::All, Lang::Zh) => "全店".into(),
            (ScopeArg::All, Lang::En) => "all products".into(),
            (ScopeArg::Category(c), Lang::Zh) => category_label_zh(c).to_string(),
            (ScopeArg::Category(c), Lang::En) => c.replace('_', " "),
            (ScopeArg::Skus(skus), _) => skus.join(","),
        }
    }

    fn skus(&self, ctx: &ShopContext) -> Vec<String> {
        match self {
            ScopeArg::All => ctx.products.iter().map(|p| p.sku.clone()).collect(),
            ScopeArg::Category(c) => ctx.products.iter().filter(|p| &p.category == c).map(|p| p.sku.clone()).collect(),
            ScopeArg::Skus(skus) => skus.clone(),
        }
    }

    /// Both scopes together: "月饼和拖鞋" becomes the SKUs of both categories.
    fn union(self, other: ScopeArg, ctx: &ShopContext) -> ScopeArg {
        if self == other {
            return self;
        }
        if self == ScopeArg::All || other == ScopeArg::All {
            return ScopeArg::All;
        }
        let mut skus = self.skus(ctx);
        for sku in other.skus(ctx) {
            if !skus.contains(&sku) {
                skus.push(sku);
            }
        }
        ScopeArg::Skus(skus)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Action {
    Discount {
        pct: Decimal,
        scope: Option<ScopeArg>,
        days: Option<u32>,
    },
    Coupon {
        threshold: Decimal,
        value: Decimal,
        quantity: Option<u32>,
        days: Option<u32>,
    },
    Campaign {
        total: Option<Decimal>,
        daily: Option<Decimal>,
        scope: Option<ScopeArg>,
        days: Option<u32>,
    },
    Banner {
        scope: Option<ScopeArg>,
        discount: Option<Decimal>,
    },
    Reply {
        limit: Option<u32>,
        /// One message ("回复消息 12").
        message: Option<i64>,
    },
    /// A flash sale. A clause that only prices it ("秒杀价 12 元") has no scope and joins the
    /// flash sale said before it.
    FlashSale {
        scope: Option<ScopeArg>,
        hours: Option<u32>,
        units: Option<u32>,
        pricing: Option<Pricing>,
    },
    /// An amount on its own ("每天100元"): the budget of the ad campaign before it.
    Budget {
        amount: Decimal,
        daily: bool,
    },
    /// Enrolment in a platform campaign at the discount it requires.
    JoinCampaign {
        scope: Option<ScopeArg>,
        pct: Option<Decimal>,
        days: Option<u32>,
    },
    Report {
        period: Value,
    },
    Inventory {
        scope: Option<ScopeArg>,
        lead_time: Option<u32>,
    },
    SetPrice {
        product: String,
        price: Decimal,
    },
    /// One of the simpler skill families: its call and how to say it.
    Skill {
        employee: &'static str,
        skill: &'static str,
        args: Value,
        zh: String,
        en: String,
    },
}

impl Action {
    fn takes_scope(&self) -> bool {
        matches!(
            self,
            Action::Discount { .. }
                | Action::Campaign { .. }
                | Action::Banner { .. }
                | Action::Inventory { .. }
                | Action::FlashSale { .. }
                | Action::JoinCampaign { .. }
        )
    }

    fn widen_scope(&mut self, more: ScopeArg, ctx: &ShopContext) {
        if let Action::Discount { scope, .. }
        | Action::Campaign { scope, .. }
        | Action::Banner { scope, .. }
        | Action::Inventory { scope, .. }
        | Action::FlashSale { scope, .. }
        | Action::JoinCampaign { scope, .. } = self
        {
            *scope = Some(match scope.take() {
                Some(s) => s.union(more, ctx),
                None => more,
            });
        }
    }

    fn own_scope(&self) -> Option<&ScopeArg> {
        match self {
            Action::Discount { scope, .. }
            | Action::Campaign { scope, .. }
            | Action::Banner { scope, .. }
            | Action::Inventory { scope, .. }
            | Action::FlashSale { scope, .. }
            | Action::JoinCampaign { scope, .. } => scope.as_ref(),
            _ => None,
        }
    }

    fn scope_or<'a>(&'a self, setting: &'a Setting) -> Option<&'a ScopeArg> {
        match self {
            Action::Discount { scope, .. }
            | Action::Campaign { scope, .. }
            | Action::Banner { scope, .. }
            | Action::Inventory { scope, .. }
            | Action::FlashSale { scope, .. }
            | Action::JoinCampaign { scope, .. } => scope.as_ref().or(setting.scope.as_ref()),
            _ => None,
        }
    }

    /// The employee, skill and arguments that carry the action out.
    fn to_call(&self, setting: &Setting, lang: Lang) -> (&'static str, &'static str, Value) {
        let scope = self.scope_or(setting).cloned().unwrap_or(ScopeArg::All);
        let mut args = serde_json::Map::new();
        let timed = |args: &mut serde_json::Map<String, Value>, days: &Option<u32>| {
            args.insert("days".into(), json!(days.or(setting.days).unwrap_or(7)));
            if let Some(start) = setting.starts {
                args.insert("starts".into(), json!(start.to_string()));
            }
        };
        match self {
            Action::Discount { pct, days, .. } => {
                args.insert("discount_pct".into(), number(*pct));
                args.insert("scope".into(), scope.to_json());
                timed(&mut args, days);
                if let Some(theme) = &setting.theme {
                    let name = match lang {
                        Lang::Zh => format!("{}{} {}", theme.zh, scope.label(lang), zhe(*pct)),
                        Lang::En => format!("{} {} {}% off", theme.en, scope.label(lang), pct.normalize()),
                    };
                    args.insert("name".into(), json!(name));
                }
                ("promotions", "promo.create_discount", Value::Object(args))
            }
            Action::Coupon { threshold, value, quantity, days } => {
                args.insert("threshold".into(), number(*threshold));
                args.insert("value".into(), number(*value));
                args.insert("quantity".into(), json!(quantity.or(setting.quantity).unwrap_or(100)));
                timed(&mut args, days);
                ("promotions", "promo.create_coupon", Value::Object(args))
            }
            Action::Campaign { total, daily, days, .. } => {
                if let Some(total) = total {
                    args.insert("total_budget".into(), number(*total));
                }
                if let Some(daily) = daily {
                    args.insert("daily_budget".into(), number(*daily));
                }
                timed(&mut args, days);
                args.insert("products".into(), scope.to_json());
                if let Some(theme) = &setting.theme {
                    let name = match lang {
                        Lang::Zh => format!("{}{}推广", theme.zh, scope.label(lang)),
                        Lang::En => format!("{} {} ads", theme.en, scope.label(lang)),
                    };
                    args.insert("name".into(), json!(name));
                }
                ("ops", "ops.create_ad_campaign", Value::Object(args))
            }
            Action::Banner { discount, .. } => {
                args.insert("theme".into(), json!(setting.theme_name(lang)));
                if let Some(pct) = discount {
                    args.insert("discount_pct".into(), number(*pct));
                }
                args.insert("scope".into(), scope.to_json());
                ("design", "design.banner", Value::Object(args))
            }
            Action::Reply { limit, message } => {
                match message {
                    Some(id) => args.insert("message".into(), json!(id)),
                    None => args.insert("limit".into(), json!(limit.or(setting.limit).unwrap_or(20))),
                };
                ("customer_service", "cs.reply", Value::Object(args))
            }
            // A lone amount is joined to its campaign first; on its own it would be one.
            Action::Budget { amount, daily } => {
                let key = if *daily { "daily_budget" } else { "total_budget" };
                args.insert(key.into(), number(*amount));
                timed(&mut args, &None);
                args.insert("products".into(), scope.to_json());
                ("ops", "ops.create_ad_campaign", Value::Object(args))
            }
            Action::FlashSale { hours, units, pricing, .. } => {
                args.insert("scope".into(), scope.to_json());
                args.insert("hours".into(), json!(hours.or(setting.hours).unwrap_or(24)));
                args.insert("quantity".into(), json!(units.or(setting.units).unwrap_or(100)));
                match pricing {
                    Some(Pricing::Off(pct)) => args.insert("discount_pct".into(), number(*pct)),
                    Some(Pricing::At(price)) => args.insert("price".into(), number(*price)),
                    None => None,
                };
                ("promotions", "promo.flash_sale", Value::Object(args))
            }
            Action::JoinCampaign { pct, days, .. } => {
                args.insert("campaign".into(), json!(platform_campaign(setting, lang)));
                args.insert("discount_pct".into(), json!(pct.map(number)));
                args.insert("scope".into(), scope.to_json());
                timed(&mut args, days);
                ("promotions", "promo.join_campaign", Value::Object(args))
            }
            Action::Report { period } => {
                args.insert("period".into(), period.clone());
                ("analyst", "analyst.sales_report", Value::Object(args))
            }
            Action::Inventory { lead_time, .. } => {
                args.insert("scope".into(), scope.to_json());
                args.insert("lead_time_days".into(), json!(lead_time.or(setting.lead_time).unwrap_or(7)));
                ("analyst", "analyst.inventory_forecast", Value::Object(args))
            }
            Action::Skill { employee, skill, args, .. } => {
                let mut args = args.clone();
                if *skill == "ops.restock_plan" && args.get("lead_time_days").is_none() {
                    args["lead_time_days"] = json!(setting.lead_time.unwrap_or(7));
                }
                (*employee, *skill, args)
            }
            Action::SetPrice { product, price } => {
                args.insert("product".into(), json!(product));
                args.insert("price".into(), number(*price));
                ("ops", "ops.set_price", Value::Object(args))
            }
        }
    }

    /// One line for the owner on what the planner understood.
    fn describe(&self, lang: Lang, setting: &Setting) -> String {
        let scope = self.scope_or(setting).map(|s| s.label(lang)).unwrap_or_else(|| ScopeArg::All.label(lang));
        match (self, lang) {
            (Action::Discount { pct, .. }, Lang::Zh) => format!("{scope}打{}(减 {}%)", zhe(*pct), pct.normalize()),
            (Action::Discount { pct, .. }, Lang::En) => format!("{}% off {scope}", pct.normalize()),
            (Action::Coupon { threshold, value, quantity, .. }, Lang::Zh) => format!(
                "优惠券 满{}减{} × {} 张",
                threshold.normalize(),
                value.normalize(),
                quantity.or(setting.quantity).unwrap_or(100)
            ),
            (Action::Coupon { threshold, value, quantity, .. }, Lang::En) => format!(
                "coupon ¥{} off orders over ¥{} × {}",
                value.normalize(),
                threshold.normalize(),
                quantity.or(setting.quantity).unwrap_or(100)
            ),
            (Action::Campaign { total, daily, .. }, _) => {
                let budget = match (total, daily, lang) {
                    (Some(t), _, Lang::Zh) => format!("总预算 ¥{}", t.normalize()),
                    (None, Some(d), Lang::Zh) => format!("每天 ¥{}", d.normalize()),
                    (Some(t), _, Lang::En) => format!("total budget ¥{}", t.normalize()),
                    (None, Some(d), Lang::En) => format!("¥{} a day", d.normalize()),
                    (None, None, _) => String::new(),
                };
                match lang {
                    Lang::Zh => format!("推广{scope},{budget}"),
                    Lang::En => format!("ads for {scope}, {budget}"),
                }
            }
            (Action::Banner { .. }, Lang::Zh) => format!("做一张「{}」海报({scope})", setting.theme_name(lang)),
            (Action::Banner { .. }, Lang::En) => format!("a {} banner for {scope}", setting.theme_name(lang)),
            (Action::Reply { message: Some(id), .. }, Lang::Zh) => format!("回复消息 #{id}"),
            (Action::Reply { message: Some(id), .. }, Lang::En) => format!("reply to message #{id}"),
            (Action::Reply { limit, .. }, Lang::Zh) => {
                format!("回复客户消息(最多 {} 条)", limit.or(setting.limit).unwrap_or(20))
            }
            (Action::Reply { limit, .. }, Lang::En) => {
                format!("reply to customer messages (up to {})", limit.or(setting.limit).unwrap_or(20))
            }
            (Action::Budget { amount, daily: true }, Lang::Zh) => format!("每天 ¥{}", amount.normalize()),
            (Action::Budget { amount, daily: true }, Lang::En) => format!("¥{} a day", amount.normalize()),
            (Action::Budget { amount, .. }, _) => format!("¥{}", amount.normalize()),
            (Action::FlashSale { hours, units, pricing, .. }, _) => {
                let (hours, units) = (hours.or(setting.hours).unwrap_or(24), units.or(setting.units).unwrap_or(100));
                let price = match (pricing, lang) {
                    (Some(Pricing::Off(pct)), Lang::Zh) => zhe(*pct),
                    (Some(Pricing::Off(pct)), Lang::En) => format!("{}% off", pct.normalize()),
                    (Some(Pricing::At(price)), _) => format!("¥{}", price.normalize()),
                    (None, _) => "?".into(),
                };
                match lang {
                    Lang::Zh => format!("{scope} 限时秒杀 {hours} 小时,{price},限 {units} 件"),
                    Lang::En => format!("a {hours}-hour flash sale on {scope} at {price}, {units} units"),
                }
            }
            (Action::JoinCampaign { pct, .. }, _) => {
                let name = platform_campaign(setting, lang);
                let pct = pct.unwrap_or_default();
                match lang {
                    Lang::Zh => format!("{scope}报名「{name}」,{}", zhe(pct)),
                    Lang::En => format!("enrol {scope} in \"{name}\" at {}% off", pct.normalize()),
                }
            }
            (Action::Report { period }, Lang::Zh) => format!("销售报告({})", period_text(period)),
            (Action::Report { period }, Lang::En) => format!("sales report ({})", period_text(period)),
            (Action::Inventory { lead_time, .. }, Lang::Zh) => {
                format!("{scope}库存预测(补货周期 {} 天)", lead_time.or(setting.lead_time).unwrap_or(7))
            }
            (Action::Inventory { lead_time, .. }, Lang::En) => {
                format!(
                    "inventory forecast for {scope} ({}-day lead time)",
                    lead_time.or(setting.lead_time).unwrap_or(7)
                )
            }
            (Action::Skill { zh, .. }, Lang::Zh) => zh.clone(),
            (Action::Skill { en, .. }, Lang::En) => en.clone(),
            (Action::SetPrice { product, price }, Lang::Zh) => format!("{product} 改价为 ¥{}", price.normalize()),
            (Action::SetPrice { product, price }, Lang::En) => format!("set {product} to ¥{}", price.normalize()),
        }
    }
}

/// The length the first timed action asks for ("月饼8折3天").
fn asked_days(actions: &[Action]) -> Option<u32> {
    actions.iter().find_map(|a| match a {
        Action::Discount { days, .. }
        | Action::Coupon { days, .. }
        | Action::Campaign { days, .. }
        | Action::JoinCampaign { days, .. } => *days,
        _ => None,
    })
}

/// The price of a flash sale.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Pricing {
    /// Percent off the list price.
    Off(Decimal),
    /// One sale price.
    At(Decimal),
}

/// A platform campaign's name: the festival's, or a plain "platform campaign".
fn platform_campaign(setting: &Setting, lang: Lang) -> String {
    match (&setting.theme, lang) {
        (Some(theme), Lang::Zh) => format!("{}平台活动", theme.zh),
        (Some(theme), Lang::En) => format!("{} platform campaign", theme.en),
        (None, Lang::Zh) => "平台活动".into(),
        (None, Lang::En) => "platform campaign".into(),
    }
}

/// Joins what later clauses add to a flash sale or a platform campaign: a clause that only
/// prices a flash sale ("秒杀价 12 元") completes the one before it, and a discount that names
/// no products ("要求85折") is the one the sale or campaign before it still needs.
fn join_details(actions: &mut Vec<Action>) -> Result<(), Hint> {
    let mut i = 0;
    while i < actions.len() {
        let joined = match actions[i].clone() {
            Action::FlashSale { scope: None, hours, units, pricing } => {
                let earlier = actions[..i].iter_mut().rev().find(|a| matches!(a, Action::FlashSale { .. }));
                let Some(Action::FlashSale { hours: h, units: u, pricing: p, .. }) = earlier else {
                    return Err(("秒杀哪些商品?例如 SL-001 限时秒杀", "on which products? e.g. flash sale on SL-001"));
                };
                (*h, *u, *p) = (h.or(hours), u.or(units), p.or(pricing));
                true
            }
            Action::Discount { pct, scope: None, days: None } => {
                let wanting = actions[..i].iter_mut().rev().find(|a| {
                    matches!(a, Action::FlashSale { pricing: None, .. } | Action::JoinCampaign { pct: None, .. })
                });
                match wanting {
                    Some(Action::FlashSale { pricing, .. }) => {
                        *pricing = Some(Pricing::Off(pct));
                        true
                    }
                    Some(Action::JoinCampaign { pct: slot, .. }) => {
                        *slot = Some(pct);
                        true
                    }
                    _ => false,
                }
            }
            Action::Budget { amount, daily } => {
                let wanting = actions[..i]
                    .iter_mut()
                    .rev()
                    .find(|a| matches!(a, Action::Campaign { total: None, daily: None, .. }));
                let Some(Action::Campaign { total, daily: per_day, .. }) = wanting else {
                    return Err(("这笔钱做什么用?例如 推广预算500元", "what is the amount for? e.g. ad budget 500"));
                };
                *(if daily { per_day } else { total }) = Some(amount);
                true
            }
            _ => false,
        };
        if joined {
            actions.remove(i);
        } else {
            i += 1;
        }
    }
    for action in actions.iter() {
        match action {
            Action::FlashSale { pricing: None, .. } => {
                return Err(("秒杀价多少?例如 秒杀价 12 元", "at what price? e.g. at 12 yuan"));
            }
            Action::Campaign { total: None, daily: None, .. } => {
                return Err(("推广预算是多少?例如 推广预算500元", "what budget? e.g. ad budget 500"));
            }
            Action::JoinCampaign { pct: None, .. } => {
                return Err(("平台活动要求几折?例如 要求85折", "at what discount? e.g. at 15% off"));
            }
            _ => {}
        }
    }
    Ok(())
}

fn period_text(period: &Value) -> String {
    match period {
        Value::String(s) => s.clone(),
        other => format!("{}–{}", other["from"].as_str().unwrap_or("?"), other["to"].as_str().unwrap_or("?")),
    }
}

/// "8折" for 20% off, "8.5折" for 15% off.
fn zhe(pct: Decimal) -> String {
    let tenths = (Decimal::from(100) - pct) / Decimal::from(10);
    format!("{}折", tenths.normalize())
}

/// A JSON number from a decimal, written as an integer when it is whole (20, not 20.0).
fn number(d: Decimal) -> Value {
    let d = d.normalize();
    if d.scale() == 0
        && let Ok(n) = i64::try_from(d)
    {
        return json!(n);
    }
    serde_json::Number::from_str(&d.to_string()).map(Value::Number).unwrap_or_else(|_| json!(d.to_string()))
}

// ---------------------------------------------------------------------------------------------
// Reading one clause.

/// A hint for the owner, in Chinese and English.
type Hint = (&'static str, &'static str);

#[derive(Debug)]
enum Reading {
    Actions(Vec<Action>),
    /// Only names products: they belong to the action before.
    Scope(ScopeArg),
    /// Theme, dates or duration for the whole request.
    Context,
    /// Politeness and connectives.
    Filler,
    Unclear(Option<Hint>),
}

/// The product words a shop's requests may use: its categories (by key, English words and
/// Chinese label), its SKUs, and the words for "everything".
struct Vocabulary {
    /// (word, category), longest word first.
    categories: Vec<(String, String)>,
    skus: Vec<String>,
}

const ALL_WORDS: &[&str] = &[
    "全店",
    "全场",
    "所有商品",
    "全部商品",
    "所有产品",
    "全部",
    "all products",
    "all items",
    "everything",
    "storewide",
    "store-wide",
    "sitewide",
    "site-wide",
];

/// Everyday words for the demo's and most factories' categories, used when the shop has them.
const CATEGORY_SYNONYMS: &[(&str, &str)] = &[
    ("收纳", "storage_boxes"),
    ("storage", "storage_boxes"),
    ("水杯", "cups"),
    ("杯", "cups"),
    ("mug", "cups"),
    ("浴巾", "towels"),
    ("mooncake", "mooncakes"),
];

impl Vocabulary {
    fn new(ctx: &ShopContext) -> Vocabulary {
        let mut categories = Vec::new();
        for (category, _) in &ctx.categories {
            let spaced = category.replace('_', " ");
            let mut words =
                vec![category.to_lowercase(), spaced.to_lowercase(), category_label_zh(category).to_string()];
            if let Some(one) = spaced.strip_suffix("es").filter(|s| s.ends_with('x')) {
                words.push(one.to_string());
            } else if let Some(one) = spaced.strip_suffix('s') {
                words.push(one.to_string());
            }
            if let Some(short) = category_label_zh(category).strip_suffix('子') {
                words.push(short.to_string());
            }
            for word in words {
                if !word.is_empty() && !categories.iter().any(|(w, _)| *w == word) {
                    categories.push((word, category.clone()));
                }
            }
        }
        for (word, category) in CATEGORY_SYNONYMS {
            if ctx.categories.iter().any(|(c, _)| c == category) && !categories.iter().any(|(w, _)| w == word) {
                categories.push((word.to_string(), category.to_string()));
            }
        }
        categories.sort_by(|a, b| b.0.chars().count().cmp(&a.0.chars().count()).then(a.0.cmp(&b.0)));
        Vocabulary { categories, skus: ctx.products.iter().map(|p| p.sku.clone()).collect() }
    }

    /// The scope a clause names, blanking the words it used.
    fn take_scope(&self, clause: &mut String, ctx: &ShopContext) -> Option<ScopeArg> {
        let mut found: Option<ScopeArg> = None;
        let mut add = |s: ScopeArg| found = Some(found.take().map_or(s.clone(), |f| f.union(s, ctx)));
        let mut skus = Vec::new();
        for sku in &self.skus {
            if blank_word(clause, &sku.to_lowercase()) {
                skus.push(sku.clone());
            }
        }
        if !skus.is_empty() {
            add(ScopeArg::Skus(skus));
        }
        for word in ALL_WORDS {
            if blank_word(clause, word) {
                add(ScopeArg::All);
            }
        }
        for (word, category) in &self.categories {
            if blank_word(clause, word) {
                add(ScopeArg::Category(category.clone()));
            }
        }
        found
    }
}

fn has(text: &str, words: &[&str]) -> bool {
    words.iter().any(|w| contains_word(text, w))
}

const BANNER_WORDS: &[&str] = &["海报", "横幅", "宣传图", "banner", "poster", "artwork", "graphic"];
const PRICE_WORDS: &[&str] = &[
    "改价",
    "调价",
    "价格改",
    "价格调",
    "价格设",
    "定价",
    "售价改",
    "set price",
    "set the price",
    "change the price",
    "change price",
    "reprice",
    "price of",
    "price to",
];
const CAMPAIGN_WORDS: &[&str] = &[
    "推广",
    "投放",
    "广告",
    "直通车",
    "引流",
    "投流",
    "预算",
    "ads",
    "ad",
    "advert",
    "advertise",
    "advertising",
    "promote",
    "budget",
    "traffic",
];
const DAILY_WORDS: &[&str] = &["每天", "每日", "一天", "日预算", "per day", "a day", "daily", "each day"];
const STOCK_WORDS: &[&str] = &[
    "库存",
    "断货",
    "缺货",
    "补货",
    "备货",
    "进货",
    "卖断",
    "够卖",
    "stock",
    "inventory",
    "restock",
    "run out",
    "runs out",
    "reorder",
    "sell out",
];
const SALES_WORDS: &[&str] = &[
    "销售",
    "销量",
    "卖得",
    "营业额",
    "业绩",
    "流水",
    "gmv",
    "报表",
    "报告",
    "复盘",
    "经营数据",
    "数据",
    "sales report",
    "sales figures",
    "revenue",
    "report",
    "how did we do",
    "performance",
];
const REPLY_WORDS: &[&str] = &[
    "回复",
    "答复",
    "回一下",
    "客服",
    "留言",
    "买家消息",
    "顾客消息",
    "客户消息",
    "咨询",
    "私信",
    "reply",
    "answer",
    "respond",
    "inbox",
    "customer messages",
];

fn read_clause(clause: &str, words: &Vocabulary, ctx: &ShopContext, setting: &mut Setting) -> Reading {
    let today = ctx.today;
    let mut rest = clause.to_string();
    let mut context = false;
    let dictated = take_dictated(&mut rest, &setting.texts);
    let refs = Refs::take(&mut rest, &setting.cased);

    for (zh, en, names, when) in THEMES {
        for name in *names {
            if blank_word(&mut rest, name) {
                setting.theme.get_or_insert(Theme { zh, en, when: *when });
                context = true;
            }
        }
    }
    let period = take_period(&mut rest, today);
    if let Some((start, implied_days)) = take_start(&mut rest, today) {
        setting.starts.get_or_insert(start);
        if let Some(days) = implied_days {
            setting.days.get_or_insert(days);
        }
        context = true;
    }
    let lead_time = take_lead_time(&mut rest);
    let quantity = take_count(&mut rest, &["张", "份", "coupons"]);
    let limit = take_count(&mut rest, &["条", "messages"]);
    let hours = take_count(&mut rest, &["小时", "hours", "hour", "h"]);
    let units = take_count(&mut rest, &["件", "units", "pcs", "pieces"]);
    let days = take_days(&mut rest);
    let scope = words.take_scope(&mut rest, ctx);

    let mut actions = Vec::new();
    let clues =
        Clues { scope: &scope, period: &period, lead_time, hours, units, refs: &refs, dictated, lang: setting.lang };
    let family = take_family(&mut rest, &clues);
    // A family reads the clause's period itself (a ranking) or has none: no extra report.
    let period_used = family.is_some();
    match family {
        Some(Ok(action)) => actions.push(action),
        Some(Err(hint)) => return Reading::Unclear(Some(hint)),
        None => {}
    }
    let banner = has(&rest, BANNER_WORDS);
    let price_words = has(&rest, PRICE_WORDS);
    let coupon = take_coupon(&mut rest);
    let discount = take_discount(&mut rest);

    if banner {
        let pct = match &discount {
            Some(Ok(pct)) => Some(*pct),
            _ => None,
        };
        actions.push(Action::Banner { scope: scope.clone(), discount: pct });
    } else {
        match discount {
            Some(Ok(pct)) => actions.push(Action::Discount { pct, scope: scope.clone(), days }),
            Some(Err(hint)) => return Reading::Unclear(Some(hint)),
            None => {}
        }
        match coupon {
            Some(Ok((threshold, value))) => actions.push(Action::Coupon { threshold, value, quantity, days }),
            Some(Err(hint)) => return Reading::Unclear(Some(hint)),
            None => {}
        }
    }

    if !banner && !price_words && has(&rest, CAMPAIGN_WORDS) {
        let daily = has(&rest, DAILY_WORDS);
        // Without an amount here, the budget may come in the next clause ("…,每天100元").
        let amount = take_money(&mut rest).filter(|a| *a > Decimal::ZERO);
        actions.push(Action::Campaign {
            total: amount.filter(|_| !daily),
            daily: amount.filter(|_| daily),
            scope: scope.clone(),
            days,
        });
    }

    if price_words {
        let sku = match &scope {
            Some(ScopeArg::Skus(skus)) if skus.len() == 1 => skus[0].clone(),
            _ => {
                return Reading::Unclear(Some((
                    "改哪个商品?请写商品编号,例如 MC-001",
                    "which product? give its SKU, e.g. MC-001",
                )));
            }
        };
        match take_money(&mut rest) {
            Some(price) if price > Decimal::ZERO => actions.push(Action::SetPrice { product: sku, price }),
            _ => {
                return Reading::Unclear(Some((
                    "改成多少钱?例如 改价到88元",
                    "what price? e.g. set the price of MC-001 to 88",
                )));
            }
        }
    }

    if has(&rest, STOCK_WORDS) {
        actions.push(Action::Inventory { scope: scope.clone(), lead_time });
    } else if has(&rest, SALES_WORDS) || (period.is_some() && !period_used) {
        actions.push(Action::Report { period: period.unwrap_or_else(|| json!("last_7_days")) });
    }

    if has(&rest, REPLY_WORDS) {
        actions.push(Action::Reply { limit, message: refs.message });
    }

    if actions.is_empty() && (has(&rest, DAILY_WORDS) || has(&rest, &["元", "块", "yuan", "¥"])) {
        let daily = has(&rest, DAILY_WORDS);
        if let Some(amount) = take_money(&mut rest).filter(|a| *a > Decimal::ZERO) {
            actions.push(Action::Budget { amount, daily });
        }
    }
    if !actions.is_empty() {
        return Reading::Actions(actions);
    }
    if has(&rest, &["打折", "折扣", "优惠", "discount", "off"]) {
        return Reading::Unclear(Some(("打几折?例如 8折", "how much off? e.g. 20% off")));
    }
    if !leftover(&rest).is_empty() {
        if has(&rest, &["活动", "促销", "做个", "搞个", "sale", "promotion", "deal"]) {
            return Reading::Unclear(Some((
                "做什么活动?例如 月饼8折,或 满200减20",
                "what kind of offer? e.g. 20% off mooncakes, or 20 off orders over 200",
            )));
        }
        return Reading::Unclear(None);
    }
    if let Some(scope) = scope {
        return Reading::Scope(scope);
    }
    // What is left are details for the whole request.
    for (found, slot) in [
        (days, &mut setting.days),
        (lead_time, &mut setting.lead_time),
        (quantity, &mut setting.quantity),
        (limit, &mut setting.limit),
        (hours, &mut setting.hours),
        (units, &mut setting.units),
    ] {
        if let Some(n) = found {
            slot.get_or_insert(n);
            context = true;
        }
    }
    if context { Reading::Context } else { Reading::Filler }
}

// ---------------------------------------------------------------------------------------------
// The simpler skill families: a phrase names the skill, the clause's scope, period, lead time
// and references fill its arguments. Longer phrases come first, so "推广投产比" is not read as
// "推广".

type Family = (&'static str, &'static str, &'static [&'static str]);

const FAMILIES: &[Family] = &[
    ("analyst", "analyst.ad_roi", &["推广投产比", "推广效果", "投产比", "how are the ads doing", "ad roi", "roi"]),
    (
        "analyst",
        "analyst.customer_segments",
        &["客户分层", "客户分群", "复购率", "customer segments", "repeat rate", "rfm"],
    ),
    ("analyst", "analyst.growth_score", &["经营分", "成长分", "growth score"]),
    ("analyst", "analyst.business_plan", &["经营计划", "business plan"]),
    (
        "analyst",
        "analyst.product_ranking",
        &[
            "商品排行",
            "商品排名",
            "卖得最好",
            "畅销",
            "排行",
            "排名",
            "排一下",
            "排个序",
            "best sellers",
            "best-selling",
            "rank products",
            "ranking",
        ],
    ),
    (
        "design",
        "design.listing_audit",
        &[
            "检查商品信息",
            "商品信息检查",
            "检查一下商品",
            "极限词",
            "audit the listings",
            "audit listings",
            "listing audit",
        ],
    ),
    ("design", "design.main_image", &["主图", "main image"]),
    ("design", "design.detail_copy", &["详情页文案", "详情页", "detail copy", "product description"]),
    ("ops", "ops.restock_plan", &["补货计划", "进货计划", "restock plan", "plan the restock", "restock"]),
    (
        "ops",
        "ops.set_listed",
        &["重新上架", "上架", "下架", "relist", "delist", "take off sale", "off sale", "put on sale", "list"],
    ),
    ("promotions", "promo.flash_sale", &["限时秒杀", "秒杀价", "秒杀", "flash sale"]),
    ("promotions", "promo.end", &["结束促销", "结束活动", "停止促销", "end promotion", "stop promotion"]),
    (
        "promotions",
        "promo.join_campaign",
        &["参加平台活动", "参加官方活动", "报名参加", "报名", "enrol", "enroll", "sign up for", "sign up"],
    ),
    (
        "customer_service",
        "cs.tag_customer",
        &["标记为", "标记成", "标为", "打上", "打标签", "加标签", "标记", "tag", "label"],
    ),
    ("customer_service", "cs.refund", &["退款", "退钱", "退给", "refund"]),
    ("customer_service", "cs.compensate", &["补偿", "赔偿", "compensate", "store credit"]),
    (
        "customer_service",
        "cs.escalate",
        &[
            "转给店主",
            "转交店主",
            "交给店主",
            "转给老板",
            "交给老板",
            "escalate",
            "hand over to the owner",
            "to the owner",
        ],
    ),
];

/// What a clause says besides its action words, for the family that acts on it.
struct Clues<'a> {
    scope: &'a Option<ScopeArg>,
    period: &'a Option<Value>,
    lead_time: Option<u32>,
    hours: Option<u32>,
    units: Option<u32>,
    refs: &'a Refs,
    /// A new title, keywords or description the owner dictated.
    dictated: Option<String>,
    lang: Lang,
}

fn take_family(text: &mut String, clues: &Clues) -> Option<Result<Action, Hint>> {
    if let Some(new_text) = &clues.dictated {
        return Some(update_listing(text, clues.scope, new_text));
    }
    if let Some(id) = clues.refs.campaign {
        return Some(adjust_campaign(text, id));
    }
    let rates = ["退款率", "refund rate"].iter().any(|w| contains_word(text, w));
    let (employee, skill, words) =
        FAMILIES.iter().find(|(_, skill, words)| has(text, words) && !(*skill == "cs.refund" && rates))?;
    let delisting = ["下架", "delist", "off sale"].iter().any(|w| contains_word(text, w));
    let tag_at =
        (*skill == "cs.tag_customer").then(|| words.iter().find_map(|w| find_word(text, w, 0).map(|at| at + w.len())));
    let tag = tag_at.flatten().and_then(|at| take_tag(text, at));
    for word in *words {
        while blank_word(text, word) {}
    }
    let scope = clues.scope;
    let one_sku = match scope {
        Some(ScopeArg::Skus(skus)) if skus.len() == 1 => Some(skus[0].clone()),
        _ => None,
    };
    let need_sku: Hint = ("哪个商品?请写商品编号,例如 MC-001", "which product? give its SKU, e.g. MC-001");
    let need_customer: Hint = ("哪位顾客?请写顾客编号,例如 顾客 C0012", "which customer? e.g. customer C0012");
    let (args, zh, en) = match *skill {
        "analyst.product_ranking" => {
            let by = if blank_word(text, "毛利") || blank_word(text, "margin") {
                "margin"
            } else if blank_word(text, "销量") || blank_word(text, "units") {
                "units"
            } else {
                "gmv"
            };
            let period = clues.period.clone().unwrap_or_else(|| json!("last_30_days"));
            let shown = period_text(&period);
            (json!({"period": period, "by": by}), format!("商品排行({shown})"), format!("product ranking ({shown})"))
        }
        "ops.restock_plan" => match clues.lead_time {
            // Without one here, the lead time may come from another clause ("…,到货要10天").
            Some(lead) => (
                json!({"lead_time_days": lead}),
                format!("补货计划(到货 {lead} 天)"),
                format!("restock plan ({lead}-day lead time)"),
            ),
            None => (json!({}), "补货计划".to_string(), "a restock plan".to_string()),
        },
        "design.main_image" => {
            let Some(sku) = one_sku else { return Some(Err(need_sku)) };
            (json!({"product": sku}), format!("{sku} 的主图"), format!("a main image for {sku}"))
        }
        "design.detail_copy" => {
            let Some(sku) = one_sku else { return Some(Err(need_sku)) };
            (json!({"product": sku}), format!("{sku} 的详情页文案"), format!("detail copy for {sku}"))
        }
        "ops.set_listed" => {
            let Some(sku) = one_sku else { return Some(Err(need_sku)) };
            let (zh, en) = if delisting {
                (format!("下架 {sku}"), format!("take {sku} off sale"))
            } else {
                (format!("上架 {sku}"), format!("list {sku}"))
            };
            (json!({"product": sku, "listed": !delisting}), zh, en)
        }
        "promo.flash_sale" => {
            let pricing = match take_discount(text) {
                Some(Ok(pct)) => Some(Pricing::Off(pct)),
                Some(Err(hint)) => return Some(Err(hint)),
                None => take_money(text).filter(|p| *p > Decimal::ZERO).map(Pricing::At),
            };
            return Some(Ok(Action::FlashSale {
                scope: scope.clone(),
                hours: clues.hours,
                units: clues.units,
                pricing,
            }));
        }
        "promo.join_campaign" => {
            let pct = match take_discount(text) {
                Some(Ok(pct)) => Some(pct),
                Some(Err(hint)) => return Some(Err(hint)),
                None => None,
            };
            for word in ["官方大促", "官方活动", "平台活动", "官方", "平台", "campaign", "platform"] {
                blank_word(text, word);
            }
            return Some(Ok(Action::JoinCampaign { scope: scope.clone(), pct, days: None }));
        }
        "promo.end" => {
            let found = numbers(text).into_iter().find(|n| !n.fractional && !n.chinese);
            let Some((num, id)) = found.and_then(|n| i64::try_from(n.value).ok().map(|id| (n, id))) else {
                return Some(Err(("结束哪个促销?例如 结束促销 #3", "which promotion? e.g. end promotion 3")));
            };
            blank(text, num.start, num.end);
            while blank_word(text, "#") {}
            (json!({"promotion": id}), format!("结束促销 #{id}"), format!("end promotion #{id}"))
        }
        "cs.refund" => {
            let Some(order) = &clues.refs.order else {
                return Some(Err((
                    "给哪个订单退款?请写订单号,例如 订单 D20261120-0012",
                    "which order? e.g. refund 30 on order D20261120-0012",
                )));
            };
            let Some(amount) = take_money(text).filter(|a| *a > Decimal::ZERO) else {
                return Some(Err(("退多少钱?例如 退款 30 元", "how much? e.g. refund 30 yuan")));
            };
            let shown = amount.normalize();
            (
                json!({"order": order, "amount": number(amount)}),
                format!("订单 {order} 退款 ¥{shown}"),
                format!("refund ¥{shown} on order {order}"),
            )
        }
        "cs.compensate" => {
            let Some(customer) = &clues.refs.customer else { return Some(Err(need_customer)) };
            let Some(value) = take_money(text).filter(|a| *a > Decimal::ZERO) else {
                return Some(Err(("补偿多少钱?例如 补偿 10 元", "how much? e.g. compensate with 10 yuan")));
            };
            let shown = value.normalize();
            (
                json!({"customer": customer, "value": number(value)}),
                format!("补偿顾客 {customer} ¥{shown} 店铺余额"),
                format!("¥{shown} store credit for customer {customer}"),
            )
        }
        "cs.tag_customer" => {
            let Some(customer) = &clues.refs.customer else { return Some(Err(need_customer)) };
            let Some(tag) = tag else {
                return Some(Err(("标记成什么?例如 标记为 vip", "which tag? e.g. tag customer C0012 as vip")));
            };
            (
                json!({"customer": customer, "tag": tag}),
                format!("把顾客 {customer} 标记为 {tag}"),
                format!("tag customer {customer} as {tag}"),
            )
        }
        "cs.escalate" => {
            let (args, zh, en) = match (clues.refs.message, &clues.refs.customer) {
                (Some(id), _) => (json!({"message": id}), format!("消息 #{id}"), format!("message #{id}")),
                (None, Some(code)) => (json!({"customer": code}), format!("顾客 {code}"), format!("customer {code}")),
                (None, None) => {
                    return Some(Err((
                        "转交哪条消息?例如 把消息 12 转给店主",
                        "which message? e.g. escalate message 12 to the owner",
                    )));
                }
            };
            let mut args = args;
            args["summary"] = json!(match clues.lang {
                Lang::Zh => format!("店主要求亲自处理{zh}"),
                Lang::En => format!("the owner handles {en} in person"),
            });
            (args, format!("把{zh}转交店主"), format!("hand {en} to the owner"))
        }
        other => {
            if other == "analyst.ad_roi" {
                for word in CAMPAIGN_WORDS {
                    blank_word(text, word);
                }
            }
            let (zh, en) = match other {
                "analyst.ad_roi" => ("推广投产比", "ad ROI"),
                "analyst.customer_segments" => ("客户分层和复购率", "customer segments and repeat rate"),
                "analyst.growth_score" => ("近 30 天经营分", "the 30-day growth score"),
                "analyst.business_plan" => ("本周经营计划", "this week's business plan"),
                _ => ("商品信息检查", "a listing audit"),
            };
            (json!({}), zh.to_string(), en.to_string())
        }
    };
    Some(Ok(Action::Skill { employee, skill, args, zh, en }))
}

/// The words that name a listing's fields, and the field each one sets.
const LISTING_FIELDS: &[(&str, &str)] = &[
    ("标题", "title"),
    ("关键词", "keywords"),
    ("描述", "description"),
    ("卖点", "description"),
    ("retitle", "title"),
    ("rename", "title"),
    ("title", "title"),
    ("keywords", "keywords"),
    ("description", "description"),
];

/// "把 CP-001 的标题改成 …", "retitle CP-001 as …": the listing edit of a dictated text.
fn update_listing(text: &str, scope: &Option<ScopeArg>, new_text: &str) -> Result<Action, Hint> {
    let Some((_, field)) = LISTING_FIELDS.iter().find(|(word, _)| contains_word(text, word)) else {
        return Err(("改商品的哪一项?标题、关键词还是描述", "which field? the title, keywords or description"));
    };
    let product = match scope {
        Some(ScopeArg::Skus(skus)) if skus.len() == 1 => skus[0].clone(),
        _ => {
            return Err((
                "改哪个商品?请写商品编号,例如 把 CP-001 的标题改成 …",
                "which product? e.g. retitle CP-001 as …",
            ));
        }
    };
    let (zh_field, en_field) = match *field {
        "title" => ("标题", "title"),
        "keywords" => ("关键词", "keywords"),
        _ => ("描述", "description"),
    };
    Ok(Action::Skill {
        employee: "ops",
        skill: "ops.update_listing",
        args: json!({"product": product, *field: new_text}),
        zh: format!("把 {product} 的{zh_field}改为「{new_text}」"),
        en: format!("set the {en_field} of {product} to \"{new_text}\""),
    })
}

/// "暂停推广 #2", "推广 #3 总预算加到 800", "pause campaign 2", "set the bid of campaign 2 to 1.5".
fn adjust_campaign(text: &mut String, campaign: i64) -> Result<Action, Hint> {
    let blank_any = |text: &mut String, words: &[&str]| words.iter().filter(|w| blank_word(text, w)).count() > 0;
    let mut args = json!({"campaign": campaign});
    let (mut zh, mut en) = (Vec::new(), Vec::new());
    if blank_any(text, &["暂停", "停掉", "停止", "关掉", "先停", "pause", "stop"]) {
        args["action"] = json!("pause");
        zh.push("暂停".to_string());
        en.push("pause".to_string());
    } else if blank_any(text, &["恢复", "重新开", "继续", "重启", "resume", "restart", "unpause"]) {
        args["action"] = json!("resume");
        zh.push("恢复".to_string());
        en.push("resume".to_string());
    }
    if blank_any(text, &["出价", "每次点击", "bid", "cpc"]) {
        let Some(bid) = take_money(text).filter(|b| *b > Decimal::ZERO) else {
            return Err(("出价多少?例如 推广 #2 出价改成 1.5", "what bid? e.g. set the bid of campaign 2 to 1.5"));
        };
        args["bid"] = number(bid);
        zh.push(format!("出价 ¥{}", bid.normalize()));
        en.push(format!("bid ¥{}", bid.normalize()));
    }
    let budget_words = blank_any(text, &["总预算", "预算", "budget", "raise", "increase", "加到", "提高到", "提到"]);
    if budget_words || args.get("action").is_none() && args.get("bid").is_none() {
        match take_money(text).filter(|b| *b > Decimal::ZERO) {
            Some(total) => {
                args["total_budget"] = number(total);
                zh.push(format!("总预算改为 ¥{}", total.normalize()));
                en.push(format!("total budget ¥{}", total.normalize()));
            }
            None if budget_words => {
                return Err((
                    "总预算改成多少?例如 推广 #3 总预算加到 800",
                    "to what total? e.g. raise campaign 3 to 800",
                ));
            }
            None => {}
        }
    }
    if zh.is_empty() {
        return Err((
            "推广要怎么调?例如 暂停推广 #2,或 推广 #3 总预算加到 800",
            "what should change? e.g. pause campaign 2, or raise campaign 3 to 800",
        ));
    }
    blank_any(text, &["改成", "改为", "调到", "到", "the", "to", "of", "set", "change"]);
    Ok(Action::Skill {
        employee: "ops",
        skill: "ops.adjust_ad_campaign",
        args,
        zh: format!("推广 #{campaign}:{}", zh.join(",")),
        en: format!("campaign #{campaign}: {}", en.join(", ")),
    })
}

/// The tag written right after a tagging word ("标记为 vip", "tag … as vip"), blanked.
fn take_tag(text: &mut String, from: usize) -> Option<String> {
    let mut at = from;
    loop {
        let rest = after(text, at);
        at = text.len() - rest.len();
        let Some(joiner) = ["as", "with", "为", "成", ":", "\""].iter().find(|w| rest.starts_with(**w)) else {
            break;
        };
        at += joiner.len();
    }
    let tag: String = text[at..].chars().take_while(|c| c.is_alphanumeric() || *c == '-' || *c == '_').collect();
    if tag.is_empty() || FILLER_ZH.split_whitespace().chain(FILLER_EN.split_whitespace()).any(|w| w == tag) {
        return None;
    }
    blank(text, at, at + tag.len());
    Some(tag)
}

/// The things a clause names by id: an order, a customer, an inbox message, an ad campaign.
#[derive(Debug, Default)]
struct Refs {
    order: Option<String>,
    customer: Option<String>,
    message: Option<i64>,
    campaign: Option<i64>,
}

impl Refs {
    /// Reads and blanks every reference: "订单 D20261120-0012", "order #536365", "顾客 C0012",
    /// "消息 12", "推广 #3", "campaign 3". Chinese campaign words need the `#`, so "推广 500 元"
    /// stays a budget.
    fn take(text: &mut String, cased: &[(String, String)]) -> Refs {
        let id = |found: Option<String>| {
            found
                .map(|id| cased.iter().find(|(lower, _)| *lower == id).map_or(id, |(_, as_written)| as_written.clone()))
        };
        let order = id(take_ref(text, &["订单号", "订单编号", "订单", "order number", "order no", "order"], false));
        let customer = id(take_ref(text, &["顾客", "客户", "买家", "会员", "customer", "buyer"], false));
        let number = |text: &mut String, markers: &[&str], hash: bool| {
            let mut probe = text.clone();
            let found = take_ref(&mut probe, markers, hash)?.parse::<i64>().ok()?;
            *text = probe;
            Some(found)
        };
        let message = number(text, &["消息", "留言", "message", "msg"], false);
        let campaign = number(text, &["推广计划", "推广", "广告计划", "广告"], true)
            .or_else(|| number(text, &["campaign", "ad campaign"], false));
        Refs { order, customer, message, campaign }
    }
}

/// An id written after one of `markers` ("#" and "号" allowed between), holding a digit;
/// the marker and the id are blanked. With `hash`, the id must follow a `#`.
fn take_ref(text: &mut String, markers: &[&str], hash: bool) -> Option<String> {
    for marker in markers {
        let mut from = 0;
        while let Some(at) = find_word(text, marker, from) {
            let tail = &text[at + marker.len()..];
            let mut rest = tail.trim_start();
            let hashed = rest.starts_with('#');
            rest = rest.trim_start_matches(['#', '.', ':']).trim_start();
            let id: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect();
            let money = ["元", "块", "yuan"].iter().any(|u| rest[id.len()..].trim_start().starts_with(u));
            if id.chars().any(|c| c.is_ascii_digit()) && (hashed || !hash) && !money {
                let end = text.len() - rest.len() + id.len();
                blank(text, at, end);
                return Some(id);
            }
            from = at + marker.len();
        }
    }
    None
}

/// Cuts dictated text out of a request before it is split at its commas and lower-cased:
/// whatever follows "标题改成", "retitle … as" and the like, to the end of the sentence (or
/// the quoted part), becomes a placeholder `⟦n⟧` in the normalized request.
fn take_free_texts(request: &str) -> (String, Vec<String>) {
    let mut original: Vec<char> = request.trim().chars().collect();
    let mut norm: Vec<char> = normalize(request).chars().collect();
    let mut texts = Vec::new();
    let mut from = 0;
    while original.len() == norm.len()
        && let Some((cut, text)) = dictated_span(&norm, &original, from)
    {
        let text: String = original[text].iter().collect();
        let text = text.trim().trim_end_matches([',', '，', '、', ' ', '。']).trim().to_string();
        let placeholder: Vec<char> = format!(" ⟦{}⟧ ", texts.len()).chars().collect();
        from = cut.start + placeholder.len();
        original.splice(cut.clone(), placeholder.iter().copied());
        norm.splice(cut, placeholder);
        if !text.is_empty() {
            texts.push(text);
        }
    }
    (norm.into_iter().collect(), texts)
}

const SETTERS: &[&str] = &["改写成", "设置为", "改成", "改为", "换成", "设为", "写成", "为", " to ", " as ", ":"];

/// Where dictated text is in a request (char ranges): the part to cut, and the text itself.
fn dictated_span(
    norm: &[char],
    original: &[char],
    from: usize,
) -> Option<(std::ops::Range<usize>, std::ops::Range<usize>)> {
    let mut fields: Vec<(usize, usize)> = LISTING_FIELDS
        .iter()
        .filter_map(|(word, _)| find_chars(norm, word, from).map(|at| (at, word.chars().count())))
        .collect();
    fields.sort_unstable();
    for (at, len) in fields {
        let window = &norm[..(at + len + 16).min(norm.len())];
        let Some((set_at, set_len)) =
            SETTERS.iter().filter_map(|s| find_chars(window, s, at + len).map(|p| (p, s.chars().count()))).min()
        else {
            continue;
        };
        let mut start = set_at + set_len;
        while norm.get(start).is_some_and(|c| c.is_whitespace()) {
            start += 1;
        }
        let Some(&first) = original.get(start) else { continue };
        let closing = match first {
            '"' => Some('"'),
            '“' => Some('”'),
            '「' => Some('」'),
            '『' => Some('』'),
            '\'' => Some('\''),
            '‘' => Some('’'),
            _ => None,
        };
        if let Some(close) = closing {
            let end = start + 1 + original[start + 1..].iter().position(|c| *c == close)?;
            return Some((set_at..end + 1, start + 1..end));
        }
        let mut end = norm.len();
        for (i, c) in norm.iter().enumerate().skip(start) {
            let full_stop = original[i] == '。' || (*c == '.' && norm.get(i + 1).is_none_or(|n| n.is_whitespace()));
            if matches!(c, ';' | '!' | '?' | '\n') || full_stop {
                end = i;
                break;
            }
        }
        for connective in ["然后", "并且", "另外", "同时", " and then ", " then ", " also "] {
            if let Some(at) = find_chars(&norm[..end], connective, start) {
                end = at;
            }
        }
        return Some((set_at..end, start..end));
    }
    None
}

/// Where `needle` occurs in `hay` at or after `from`, as a char index; an ASCII word must
/// stand alone.
fn find_chars(hay: &[char], needle: &str, from: usize) -> Option<usize> {
    let needle: Vec<char> = needle.chars().collect();
    let word = needle.first().is_some_and(|c| c.is_ascii_alphanumeric());
    (from..=hay.len().checked_sub(needle.len())?).find(|&at| {
        hay[at..at + needle.len()] == needle[..]
            && (!word
                || (!at.checked_sub(1).is_some_and(|b| hay[b].is_ascii_alphanumeric())
                    && !hay.get(at + needle.len()).is_some_and(|c| c.is_ascii_alphanumeric())))
    })
}

/// Placeholders `⟦n⟧` in a clause, replaced by the dictated text they stand for.
fn take_dictated(clause: &mut String, texts: &[String]) -> Option<String> {
    let start = clause.find('⟦')?;
    let end = start + clause[start..].find('⟧')? + '⟧'.len_utf8();
    let index: usize = clause[start + '⟦'.len_utf8()..end - '⟧'.len_utf8()].parse().ok()?;
    blank(clause, start, end);
    texts.get(index).cloned()
}

/// The ASCII words of a request as written, keyed by their lower-case form.
fn ascii_words(request: &str) -> Vec<(String, String)> {
    let mut words: Vec<(String, String)> = Vec::new();
    for word in request.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_')) {
        let lower = word.to_ascii_lowercase();
        if !word.is_empty() && !words.iter().any(|(l, _)| *l == lower) {
            words.push((lower, word.to_string()));
        }
    }
    words
}

// ---------------------------------------------------------------------------------------------
// Text.

/// Full-width forms to ASCII, ASCII letters to lower case.
fn normalize(text: &str) -> String {
    text.trim()
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            'Ａ'..='Ｚ' => char::from_u32(c as u32 - 'Ａ' as u32 + 'a' as u32).unwrap_or(c),
            'ａ'..='ｚ' => char::from_u32(c as u32 - 'ａ' as u32 + 'a' as u32).unwrap_or(c),
            '％' => '%',
            '，' | '、' => ',',
            '：' => ':',
            '；' => ';',
            '。' => '.',
            '！' => '!',
            '？' => '?',
            '（' => '(',
            '）' => ')',
            '￥' => '¥',
            '　' => ' ',
            '．' => '.',
            '－' => '-',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

const CONNECTIVES: &[&str] = &[
    "然后",
    "并且",
    "同时",
    "另外",
    "顺便",
    "以及",
    "还要",
    "接着",
    "再帮我",
    " and then ",
    " then ",
    " also ",
    " plus ",
];

const LEADING_FILLER: &[&str] = &["然后", "再", "请", "帮我", "帮忙", "麻烦", "and", "then", "also", "please"];

/// Splits at punctuation (a '.' only when it is not inside a number) and at connectives.
fn split_clauses(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut pieces = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let decimal_point =
            c == '.' && i > 0 && chars[i - 1].is_ascii_digit() && chars.get(i + 1).is_some_and(|n| n.is_ascii_digit());
        if matches!(c, ',' | ';' | ':' | '!' | '?' | '\n' | '\r' | '~') || (c == '.' && !decimal_point) {
            pieces.push(std::mem::take(&mut current));
        } else {
            current.push(c);
        }
    }
    pieces.push(current);
    let mut clauses = Vec::new();
    for piece in pieces {
        let mut parts = vec![piece];
        for connective in CONNECTIVES {
            parts =
                parts.into_iter().flat_map(|p| p.split(connective).map(str::to_string).collect::<Vec<_>>()).collect();
        }
        for part in parts {
            let clause = trim_filler(&part);
            if !clause.is_empty() {
                clauses.push(clause);
            }
        }
    }
    clauses
}

fn trim_filler(text: &str) -> String {
    let mut s = text.trim();
    loop {
        let before = s;
        for word in LEADING_FILLER {
            if let Some(rest) = s.strip_prefix(word)
                && (word.chars().all(is_cjk) || rest.is_empty() || rest.starts_with(' '))
            {
                s = rest.trim_start();
            }
        }
        if s == before {
            return s.trim().to_string();
        }
    }
}

/// Whether `word` occurs in `text`; an ASCII word must stand alone (not inside another word).
fn contains_word(text: &str, word: &str) -> bool {
    find_word(text, word, 0).is_some()
}

fn find_word(text: &str, word: &str, from: usize) -> Option<usize> {
    let ascii = word.starts_with(|c: char| c.is_ascii_alphanumeric());
    let mut start = from;
    while let Some(pos) = text.get(start..)?.find(word) {
        let at = start + pos;
        let end = at + word.len();
        let before_ok = !ascii || !text[..at].chars().next_back().is_some_and(|c| c.is_ascii_alphanumeric());
        let after_ok = !word.ends_with(|c: char| c.is_ascii_alphanumeric())
            || !text[end..].chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
        if before_ok && after_ok {
            return Some(at);
        }
        start = at + word.len();
    }
    None
}

/// Replaces every standalone occurrence of `word` with a space; true when there was one.
fn blank_word(text: &mut String, word: &str) -> bool {
    let mut found = false;
    while let Some(at) = find_word(text, word, 0) {
        text.replace_range(at..at + word.len(), " ");
        found = true;
    }
    found
}

/// Words that carry no request of their own.
const FILLER_ZH: &str = "\
    大促 促销 活动 大活动 搞 做 办 要 我们 我 的 一个 一次 一波 准备 打算 开始 期间 帮我 帮忙 请 一下 吧 了 啊 呢 在 从 起 开 场 节 时候 好 哦 嗯 \
    限量 限 要求 官方 平台 谢谢 麻烦 你 店铺 店里 和 与 跟 还有 都 也 就 这 那 商品 产品 系列 类 全部 最多 至多 发 发放 送 持续 快到了 要到了 到了 快到 马上 就要";

const FILLER_EN: &str = "\
    we we're are is have has a an the big sale sales promo event coming for let's lets run do \
    please starting start from on our shop store thanks thank you i want to hi hello it this \
    that festival up holiday and of with in products items range all day days s at most give \
    issue out soon near here";

/// What is left of a clause once every recognised and filler word is gone.
fn leftover(text: &str) -> String {
    let mut rest = text.to_string();
    for word in FILLER_ZH.split(' ') {
        rest = rest.replace(word, " ");
    }
    rest.split(|c: char| !(c.is_ascii_alphanumeric() || c == '\'' || is_cjk(c)))
        .filter(|w| !w.is_empty() && !FILLER_EN.split(' ').any(|f| f == *w))
        .collect::<Vec<_>>()
        .join(" ")
}

// ---------------------------------------------------------------------------------------------
// Numbers.

#[derive(Debug, Clone, Copy)]
struct Num {
    start: usize,
    end: usize,
    value: Decimal,
    /// Written with a decimal point ("8.5").
    fractional: bool,
    /// Written in Chinese numerals ("五百"); a lone "一" is more often a word ("一下") than a number.
    chinese: bool,
}

const CN_DIGITS: &[(char, u32)] = &[
    ('零', 0),
    ('〇', 0),
    ('一', 1),
    ('二', 2),
    ('两', 2),
    ('三', 3),
    ('四', 4),
    ('五', 5),
    ('六', 6),
    ('七', 7),
    ('八', 8),
    ('九', 9),
];

fn cn_digit(c: char) -> Option<u32> {
    CN_DIGITS.iter().find(|(d, _)| *d == c).map(|(_, v)| *v)
}

fn cn_unit(c: char) -> Option<u32> {
    match c {
        '十' => Some(10),
        '百' => Some(100),
        '千' => Some(1000),
        _ => None,
    }
}

/// Every number in the text: ASCII ("500", "8.5", "1.5万", "2k") and Chinese ("八五", "五百",
/// "八点五"). A Chinese run without units reads digit by digit, as 折 counts do ("八五" = 85).
fn numbers(text: &str) -> Vec<Num> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let end_of = |i: usize| chars.get(i).map_or(text.len(), |(b, _)| *b);
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (start, c) = chars[i];
        if c.is_ascii_digit() {
            let mut j = i;
            let mut digits = String::new();
            while j < chars.len()
                && (chars[j].1.is_ascii_digit()
                    || (chars[j].1 == '.'
                        && chars.get(j + 1).is_some_and(|n| n.1.is_ascii_digit())
                        && !digits.contains('.')))
            {
                digits.push(chars[j].1);
                j += 1;
            }
            let mut value = Decimal::from_str(&digits).unwrap_or_default();
            match chars.get(j).map(|c| c.1) {
                Some('万' | 'w') => {
                    value *= Decimal::from(10_000);
                    j += 1;
                }
                Some('千' | 'k') if !chars.get(j + 1).is_some_and(|n| n.1.is_ascii_alphabetic()) => {
                    value *= Decimal::from(1_000);
                    j += 1;
                }
                _ => {}
            }
            found.push(Num { start, end: end_of(j), value, fractional: digits.contains('.'), chinese: false });
            i = j;
        } else if cn_digit(c).is_some() || c == '十' {
            let mut j = i;
            let mut run = String::new();
            while j < chars.len() {
                let ch = chars[j].1;
                let point = ch == '点' && chars.get(j + 1).is_some_and(|n| cn_digit(n.1).is_some());
                if cn_digit(ch).is_some() || cn_unit(ch).is_some() || ch == '万' || point {
                    run.push(ch);
                    j += 1;
                } else {
                    break;
                }
            }
            if let Some((value, fractional)) = chinese_number(&run) {
                found.push(Num { start, end: end_of(j), value, fractional, chinese: true });
            }
            i = j;
        } else {
            i += 1;
        }
    }
    found
}

fn chinese_number(run: &str) -> Option<(Decimal, bool)> {
    if let Some((whole, frac)) = run.split_once('点') {
        let whole = chinese_number(whole)?.0;
        let digits: String = frac
            .chars()
            .map(|c| cn_digit(c).map(|d| char::from_digit(d, 10)))
            .collect::<Option<Option<String>>>()??;
        let value = Decimal::from_str(&format!("{whole}.{digits}")).ok()?;
        return Some((value, true));
    }
    if !run.chars().any(|c| cn_unit(c).is_some() || c == '万') {
        let digits: String = run.chars().filter_map(cn_digit).filter_map(|d| char::from_digit(d, 10)).collect();
        return Decimal::from_str(&digits).ok().map(|v| (v, false));
    }
    let (mut total, mut section, mut digit) = (0u64, 0u64, None::<u64>);
    for c in run.chars() {
        if let Some(d) = cn_digit(c) {
            digit = Some(u64::from(d));
        } else if let Some(unit) = cn_unit(c) {
            section += digit.unwrap_or(1) * u64::from(unit);
            digit = None;
        } else if c == '万' {
            total += (section + digit.unwrap_or(0)) * 10_000;
            section = 0;
            digit = None;
        }
    }
    Some((Decimal::from(total + section + digit.unwrap_or(0)), false))
}

/// The text right after a byte offset, without leading spaces.
fn after(text: &str, at: usize) -> &str {
    text[at..].trim_start()
}

/// The text right before a byte offset, without trailing spaces.
fn before(text: &str, at: usize) -> &str {
    text[..at].trim_end()
}

fn blank(text: &mut String, from: usize, to: usize) {
    let spaces = " ".repeat(text[from..to].chars().count());
    text.replace_range(from..to, &spaces);
}

/// Removes `from..to` plus a following `suffix` (after spaces) when present.
fn blank_with_suffix(text: &mut String, from: usize, to: usize, suffix: &str) {
    let gap = text[to..].len() - after(text, to).len();
    let end = if after(text, to).starts_with(suffix) { to + gap + suffix.len() } else { to };
    blank(text, from, end);
}

// ---------------------------------------------------------------------------------------------
// The things a clause can say.

/// A discount: "8折", "八五折", "打7.5折", "半价", "20% off", "half price". `Err` when the
/// words say "discount" but the number is impossible.
fn take_discount(text: &mut String) -> Option<Result<Decimal, Hint>> {
    let impossible = ("折扣必须在 0 和 100% 之间,例如 8折", "a discount must be between 0 and 100%, e.g. 20% off");
    for word in ["半价", "half price", "half off", "half-price"] {
        if blank_word(text, word) {
            return Some(Ok(Decimal::from(50)));
        }
    }
    for num in numbers(text) {
        let next = after(text, num.end);
        if next.starts_with('折') {
            // "8折" and "8.5折" count tenths, "85折" hundredths; "10折" is full price.
            let pay_pct =
                if num.fractional || num.value <= Decimal::TEN { num.value * Decimal::TEN } else { num.value };
            let start = if before(text, num.start).ends_with('打') {
                before(text, num.start).len() - '打'.len_utf8()
            } else {
                num.start
            };
            blank_with_suffix(text, start, num.end, "折");
            if pay_pct <= Decimal::ZERO || pay_pct >= Decimal::ONE_HUNDRED {
                return Some(Err(impossible));
            }
            return Some(Ok(Decimal::ONE_HUNDRED - pay_pct));
        }
        let percent = next.strip_prefix('%').or_else(|| next.strip_prefix("percent"));
        if let Some(tail) = percent {
            let tail = tail.trim_start();
            let says_off = ["off", "discount", "折扣", "优惠"].iter().any(|w| tail.starts_with(w))
                || ["优惠", "降价", "便宜", "discount of", "折扣"].iter().any(|w| before(text, num.start).ends_with(w));
            if says_off {
                let end = text.len() - tail.len();
                blank(text, num.start, end);
                for w in ["off", "discount", "折扣"] {
                    blank_word(text, w);
                }
                if num.value <= Decimal::ZERO || num.value >= Decimal::ONE_HUNDRED {
                    return Some(Err(impossible));
                }
                return Some(Ok(num.value));
            }
        }
    }
    None
}

/// A threshold coupon: "满200减20", "满199元减30元", "20 off orders over 200", "spend 200 save 20".
fn take_coupon(text: &mut String) -> Option<Result<(Decimal, Decimal), Hint>> {
    let nums = numbers(text);
    for (i, num) in nums.iter().enumerate() {
        if before(text, num.start).ends_with('满') {
            let Some(next) = nums.get(i + 1) else { continue };
            let between = text[num.end..next.start].trim().trim_start_matches('元').trim_start_matches('块').trim();
            if between == "减" || between == "立减" || between == "送" {
                let start = before(text, num.start).len() - '满'.len_utf8();
                let (threshold, value) = (num.value, next.value);
                blank_with_suffix(text, start, next.end, "元");
                blank_word(text, "优惠券");
                return Some(check_coupon(threshold, value));
            }
        }
    }
    // English: a value "off" and a threshold after "over"/"above"/"spend".
    let threshold = nums.iter().find(|n| {
        let b = before(text, n.start).trim_end_matches(['$', '¥']).trim_end();
        ["over", "above", "spend", "orders over", "minimum"].iter().any(|w| b.ends_with(w))
    });
    let value = nums.iter().find(|n| {
        let a = after(text, n.end);
        let a = a.trim_start_matches("yuan").trim_start();
        a.starts_with("off") || before(text, n.start).ends_with("save") || before(text, n.start).ends_with("get")
    });
    match (threshold, value) {
        (Some(t), Some(v)) if t.start != v.start => {
            let pair = (t.value, v.value);
            let (from, to) = (t.start.min(v.start), t.end.max(v.end));
            blank(text, from, to);
            blank_word(text, "coupon");
            Some(check_coupon(pair.0, pair.1))
        }
        _ if ["优惠券", "满减", "coupon"].iter().any(|w| contains_word(text, w)) => Some(Err((
            "优惠券要写门槛和面额,例如 满200减20",
            "say the threshold and value, e.g. 20 off orders over 200",
        ))),
        _ => None,
    }
}

fn check_coupon(threshold: Decimal, value: Decimal) -> Result<(Decimal, Decimal), Hint> {
    if value > Decimal::ZERO && value < threshold {
        Ok((threshold, value))
    } else {
        Err(("优惠券面额要大于 0 且小于门槛,例如 满200减20", "the value must be above 0 and below the threshold"))
    }
}

/// An amount of money: "500元", "¥500", "500块", "500 yuan", or the number after "预算"/"budget".
fn take_money(text: &mut String) -> Option<Decimal> {
    let nums = numbers(text);
    let pick = nums
        .iter()
        .find(|n| {
            let a = after(text, n.end);
            let b = before(text, n.start);
            ["元", "块", "yuan", "rmb", "cny"].iter().any(|w| a.starts_with(w)) || b.ends_with(['¥', '$'])
        })
        .or_else(|| {
            nums.iter().find(|n| {
                let b = before(text, n.start);
                ["预算", "budget", "到", "为", "成", "to", "是"].iter().any(|w| b.ends_with(w))
            })
        })
        .or_else(|| match &nums[..] {
            [only] if !only.chinese => Some(only),
            _ => None,
        })?;
    let value = pick.value;
    blank(text, pick.start, pick.end);
    Some(value)
}

/// A count of things: "100张", "10条", "200 coupons".
fn take_count(text: &mut String, units: &[&str]) -> Option<u32> {
    for num in numbers(text) {
        let a = after(text, num.end);
        if let Some(unit) = units.iter().find(|u| a.starts_with(**u))
            && !num.fractional
        {
            let end = text.len() - a.len() + unit.len();
            blank(text, num.start, end);
            return u32::try_from(num.value).ok();
        }
    }
    None
}

/// A duration: "3天", "7日", "一周", "两周", "for 3 days", "a week". The lead time and the
/// report windows are taken out before this runs.
fn take_days(text: &mut String) -> Option<u32> {
    for (word, days) in [
        ("一周", 7),
        ("一个星期", 7),
        ("一星期", 7),
        ("两周", 14),
        ("两个星期", 14),
        ("半个月", 15),
        ("一个月", 30),
        ("a week", 7),
        ("one week", 7),
        ("two weeks", 14),
        ("a month", 30),
    ] {
        if blank_word(text, word) {
            return Some(days);
        }
    }
    for num in numbers(text) {
        let a = after(text, num.end);
        let unit = ["天", "日", "days", "day", "-day"].iter().find(|u| a.starts_with(**u));
        if let Some(unit) = unit
            && !num.fractional
        {
            let end = text.len() - a.len() + unit.len();
            blank(text, num.start, end);
            blank_word(text, "持续");
            blank_word(text, "for");
            return u32::try_from(num.value).ok();
        }
    }
    None
}

/// The days a reorder takes: "补货周期15天", "到货要10天", "lead time 10 days".
fn take_lead_time(text: &mut String) -> Option<u32> {
    for key in ["补货周期", "到货周期", "进货周期", "周期", "到货要", "到货", "lead time of", "lead time"]
    {
        if let Some(at) = find_word(text, key, 0) {
            let tail_start = at + key.len();
            let num = numbers(&text[tail_start..]).into_iter().next()?;
            let (s, e) = (tail_start + num.start, tail_start + num.end);
            if text[tail_start..s].trim().is_empty() || text[tail_start..s].trim() == "是" {
                let rest = after(text, e);
                let unit = ["天", "days", "day"].iter().find(|u| rest.starts_with(**u)).map_or(0, |u| u.len());
                let end = text.len() - rest.len() + unit;
                blank(text, at, end);
                return u32::try_from(num.value).ok();
            }
        }
    }
    None
}

/// A report window: "昨天", "上周", "最近7天", "上个月", "last week", "past 30 days".
fn take_period(text: &mut String, today: NaiveDate) -> Option<Value> {
    let fixed: &[(&[&str], &str)] = &[
        (&["昨天", "昨日", "yesterday"], "yesterday"),
        (&["上周", "上星期", "上个星期", "last week"], "last_week"),
        (&["上个月", "上月", "last month"], "last_month"),
        (
            &[
                "最近7天",
                "近7天",
                "过去7天",
                "最近一周",
                "近一周",
                "过去一周",
                "last 7 days",
                "past 7 days",
                "past week",
            ],
            "last_7_days",
        ),
        (
            &[
                "最近30天",
                "近30天",
                "过去30天",
                "最近一个月",
                "近一个月",
                "过去一个月",
                "last 30 days",
                "past 30 days",
                "past month",
            ],
            "last_30_days",
        ),
    ];
    for (words, period) in fixed {
        for word in *words {
            if blank_word(text, word) {
                return Some(json!(period));
            }
        }
    }
    for word in ["本月", "这个月", "this month", "month to date"] {
        if blank_word(text, word) {
            let first = today.with_day(1)?;
            let yesterday = today.pred_opt()?;
            return Some(if first <= yesterday {
                json!({"from": first.to_string(), "to": yesterday.to_string()})
            } else {
                json!("last_month")
            });
        }
    }
    None
}

const WEEKDAYS_ZH: [(char, Weekday); 8] = [
    ('一', Weekday::Mon),
    ('二', Weekday::Tue),
    ('三', Weekday::Wed),
    ('四', Weekday::Thu),
    ('五', Weekday::Fri),
    ('六', Weekday::Sat),
    ('日', Weekday::Sun),
    ('天', Weekday::Sun),
];

const WEEKDAYS_EN: [(&str, Weekday); 7] = [
    ("monday", Weekday::Mon),
    ("tuesday", Weekday::Tue),
    ("wednesday", Weekday::Wed),
    ("thursday", Weekday::Thu),
    ("friday", Weekday::Fri),
    ("saturday", Weekday::Sat),
    ("sunday", Weekday::Sun),
];

const MONTHS_EN: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

fn next_monday(today: NaiveDate) -> NaiveDate {
    today + Days::new(7 - u64::from(today.weekday().num_days_from_monday()))
}

/// The first day on or after `today` that falls on `day`.
fn coming(today: NaiveDate, day: Weekday) -> NaiveDate {
    let ahead = (7 + day.num_days_from_monday() - today.weekday().num_days_from_monday()) % 7;
    today + Days::new(u64::from(ahead))
}

/// When the actions start, and the length the words imply ("下周" is a week, "周末" two days).
fn take_start(text: &mut String, today: NaiveDate) -> Option<(NaiveDate, Option<u32>)> {
    // Explicit dates first: "2026-12-01", "12月1日", "12月1号", "dec 1".
    for num in numbers(text) {
        let a = after(text, num.end);
        if let Some(rest) = a.strip_prefix('月') {
            let Some(day) = numbers(rest).into_iter().next() else { continue };
            let gap = &rest[..day.start];
            let tail = after(rest, day.end);
            if gap.trim().is_empty() && (tail.starts_with('日') || tail.starts_with('号')) {
                let (month, dom) = (u32::try_from(num.value).ok()?, u32::try_from(day.value).ok()?);
                let mut date = NaiveDate::from_ymd_opt(today.year(), month, dom)?;
                if date < today {
                    date = NaiveDate::from_ymd_opt(today.year() + 1, month, dom)?;
                }
                let end = text.len() - tail.len() + '日'.len_utf8();
                blank(text, num.start, end);
                blank_word(text, "开始");
                return Some((date, None));
            }
        }
    }
    for num in numbers(text) {
        let candidate: String = text[num.start..].chars().take(10).collect();
        if let Ok(date) = NaiveDate::parse_from_str(&candidate, "%Y-%m-%d") {
            blank(text, num.start, num.start + candidate.len());
            return Some((date, None));
        }
    }
    for (i, month) in MONTHS_EN.iter().enumerate() {
        if let Some(at) = find_month(text, month) {
            let word_end = at + text[at..].find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(text.len() - at);
            if let Some(day) = numbers(&text[word_end..]).into_iter().next()
                && text[word_end..word_end + day.start].trim().is_empty()
            {
                let month = u32::try_from(i + 1).ok()?;
                let dom = u32::try_from(day.value).ok()?;
                let mut date = NaiveDate::from_ymd_opt(today.year(), month, dom)?;
                if date < today {
                    date = NaiveDate::from_ymd_opt(today.year() + 1, month, dom)?;
                }
                let mut end = word_end + day.end;
                for suffix in ["st", "nd", "rd", "th"] {
                    if text[end..].starts_with(suffix) {
                        end += suffix.len();
                    }
                }
                blank(text, at, end);
                return Some((date, None));
            }
        }
    }
    // "下周三", "下周末", "下周".
    if let Some(at) = text.find("下周").or_else(|| text.find("下星期")) {
        let key = if text[at..].starts_with("下周") { "下周" } else { "下星期" };
        let tail = &text[at + key.len()..];
        let monday = next_monday(today);
        if let Some(rest) = tail.strip_prefix('末') {
            let len = text.len() - rest.len() - at;
            blank(text, at, at + len);
            return Some((monday + Days::new(5), Some(2)));
        }
        if let Some((c, day)) = WEEKDAYS_ZH.iter().find(|(c, _)| tail.starts_with(*c)) {
            blank(text, at, at + key.len() + c.len_utf8());
            return Some((monday + Days::new(u64::from(day.num_days_from_monday())), None));
        }
        blank(text, at, at + key.len());
        return Some((monday, Some(7)));
    }
    for (word, offset) in
        [("大后天", 3), ("后天", 2), ("明天", 1), ("明日", 1), ("tomorrow", 1), ("今天", 0), ("today", 0)]
    {
        if blank_word(text, word) {
            return Some((today + Days::new(offset), None));
        }
    }
    for word in ["本周末", "这周末", "周末", "this weekend", "weekend"] {
        if blank_word(text, word) {
            return Some((coming(today, Weekday::Sat), Some(2)));
        }
    }
    for prefix in ["周", "星期", "礼拜"] {
        if let Some(at) = text.find(prefix) {
            let tail = &text[at + prefix.len()..];
            if let Some((c, day)) = WEEKDAYS_ZH.iter().find(|(c, _)| tail.starts_with(*c)) {
                blank(text, at, at + prefix.len() + c.len_utf8());
                return Some((coming(today, *day), None));
            }
        }
    }
    if blank_word(text, "next week") {
        return Some((next_monday(today), Some(7)));
    }
    for (name, day) in WEEKDAYS_EN {
        if let Some(at) = find_word(text, &format!("next {name}"), 0) {
            blank(text, at, at + "next ".len() + name.len());
            return Some((next_monday(today) + Days::new(u64::from(day.num_days_from_monday())), None));
        }
        if blank_word(text, name) {
            return Some((coming(today, day), None));
        }
    }
    None
}

/// A month name ("dec", "december") as a word of its own.
fn find_month(text: &str, short: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(pos) = text.get(from..)?.find(short) {
        let at = from + pos;
        let word: String = text[at..].chars().take_while(|c| c.is_ascii_alphabetic()).collect();
        let starts_word = !text[..at].chars().next_back().is_some_and(|c| c.is_ascii_alphabetic());
        let full = chrono::Month::from_str(&word).is_ok();
        if starts_word && (word == short || full) {
            return Some(at);
        }
        from = at + short.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::ProductRef;

    fn ctx() -> ShopContext {
        let mut products = Vec::new();
        for (prefix, category, title) in [
            ("MC", "mooncakes", "广式月饼礼盒"),
            ("SL", "slippers", "防滑拖鞋"),
            ("SB", "storage_boxes", "透明收纳盒"),
            ("CP", "cups", "玻璃水杯"),
            ("TW", "towels", "纯棉毛巾"),
        ] {
            for n in 1..=3 {
                products.push(ProductRef {
                    sku: format!("{prefix}-{n:03}"),
                    title: format!("{title}{n}"),
                    category: category.into(),
                });
            }
        }
        ShopContext {
            title: "测试店".into(),
            currency: "CNY".into(),
            today: NaiveDate::from_ymd_opt(2026, 11, 24).unwrap(),
            categories: ["cups", "mooncakes", "slippers", "storage_boxes", "towels"]
                .map(|c| (c.to_string(), 3))
                .to_vec(),
            products,
        }
    }

    fn plan(request: &str) -> Plan {
        match plan_offline(request, &ctx()) {
            Planned::Plan(plan) => plan,
            Planned::NotUnderstood(nu) => panic!("not understood: {request}\n{nu}"),
        }
    }

    fn one(request: &str) -> Task {
        let mut plan = plan(request);
        assert_eq!(plan.tasks.len(), 1, "{request}: {:#?}", plan.tasks);
        plan.tasks.remove(0)
    }

    fn unclear(request: &str) -> NotUnderstood {
        match plan_offline(request, &ctx()) {
            Planned::NotUnderstood(nu) => nu,
            Planned::Plan(plan) => panic!("planned {request}: {plan:#?}"),
        }
    }

    #[test]
    fn chinese_discount_words_are_exact() {
        for (words, pct) in [
            ("月饼8折", json!(20)),
            ("月饼打8折", json!(20)),
            ("月饼85折", json!(15)),
            ("月饼8.5折", json!(15)),
            ("月饼75折", json!(25)),
            ("月饼九五折", json!(5)),
            ("月饼八折", json!(20)),
            ("月饼八五折", json!(15)),
            ("月饼七点五折", json!(25)),
            ("月饼半价", json!(50)),
            ("月饼8.8折", json!(12)),
            ("月饼8.85折", json!(11.5)),
            ("月饼优惠15%", json!(15)),
            ("１５% off mooncakes", json!(15)),
            ("half price on mooncakes", json!(50)),
        ] {
            let task = one(words);
            assert_eq!(task.skill, "promo.create_discount", "{words}");
            assert_eq!(task.args["discount_pct"], pct, "{words}");
            assert_eq!(task.args["scope"], "mooncakes", "{words}");
        }
        assert!(unclear("月饼0折").unclear[0].contains("0 和 100%"));
        assert!(unclear("月饼10折").unclear[0].contains("0 和 100%"));
        assert!(unclear("月饼打折").unclear[0].contains("打几折"));
    }

    #[test]
    fn the_mid_autumn_request_becomes_three_tasks() {
        let plan = plan("下周中秋大促:月饼8折,做一张海报,推广预算500元");
        let [discount, banner, ads] = &plan.tasks[..] else { panic!("{plan:#?}") };
        assert_eq!((discount.id.as_str(), discount.employee.as_str()), ("t1", "promotions"));
        assert_eq!(
            discount.args,
            json!({"discount_pct": 20, "scope": "mooncakes", "days": 7, "starts": "2026-11-30", "name": "中秋月饼 8折"})
        );
        assert_eq!((banner.skill.as_str(), banner.depends_on.clone()), ("design.banner", vec!["t1".to_string()]));
        assert_eq!(banner.args, json!({"theme": "中秋", "discount_pct": 20, "scope": "mooncakes"}));
        assert_eq!(ads.skill, "ops.create_ad_campaign");
        assert!(ads.depends_on.is_empty());
        assert_eq!(
            ads.args,
            json!({"total_budget": 500, "days": 7, "starts": "2026-11-30", "products": "mooncakes", "name": "中秋月饼推广"})
        );
    }

    #[test]
    fn the_english_request_plans_the_same() {
        let plan = plan("Mid-Autumn sale next week: 20% off mooncakes, make a banner, ad budget 500");
        let skills: Vec<&str> = plan.tasks.iter().map(|t| t.skill.as_str()).collect();
        assert_eq!(skills, ["promo.create_discount", "design.banner", "ops.create_ad_campaign"]);
        assert_eq!(plan.tasks[0].args["discount_pct"], 20);
        assert_eq!(plan.tasks[0].args["starts"], "2026-11-30");
        assert_eq!(plan.tasks[1].args["theme"], "Mid-Autumn");
        assert_eq!(plan.tasks[1].depends_on, ["t1"]);
        assert_eq!(plan.tasks[2].args["total_budget"], 500);
        assert_eq!(plan.tasks[2].args["products"], "mooncakes");

        let task = one("15% off towels for 3 days");
        assert_eq!(task.args, json!({"discount_pct": 15, "scope": "towels", "days": 3}));
    }

    #[test]
    fn coupons_read_threshold_value_and_quantity() {
        let task = one("满200减20,发100张");
        assert_eq!(task.skill, "promo.create_coupon");
        assert_eq!(
            (&task.args["threshold"], &task.args["value"], &task.args["quantity"]),
            (&json!(200), &json!(20), &json!(100))
        );
        let task = one("全店满199元减30元优惠券500张,持续5天");
        assert_eq!(task.args, json!({"threshold": 199, "value": 30, "quantity": 500, "days": 5}));
        let task = one("coupon 20 off orders over 200, 50 coupons");
        assert_eq!(
            (&task.args["threshold"], &task.args["value"], &task.args["quantity"]),
            (&json!(200), &json!(20), &json!(50))
        );
        assert!(unclear("满20减200").unclear[0].contains("小于门槛"));
    }

    #[test]
    fn reports_forecasts_replies_and_prices() {
        let task = one("看看上周卖得怎么样");
        assert_eq!((task.skill.as_str(), &task.args), ("analyst.sales_report", &json!({"period": "last_week"})));
        assert_eq!(one("最近30天的销售报告").args["period"], "last_30_days");
        assert_eq!(one("sales report for yesterday").args["period"], "yesterday");
        assert_eq!(one("本月业绩").args["period"], json!({"from": "2026-11-01", "to": "2026-11-23"}));

        let task = one("预测一下拖鞋库存,补货周期15天");
        assert_eq!(task.args, json!({"scope": "slippers", "lead_time_days": 15}));
        assert_eq!(one("will anything run out of stock? lead time 10 days").args["lead_time_days"], 10);

        let task = one("回复客户消息,最多10条");
        assert_eq!(task.args, json!({"limit": 10}));
        assert_eq!(one("reply to customer messages").employee, "customer_service");

        let task = one("把 MC-001 改价到 88 元");
        assert_eq!(task.args, json!({"product": "MC-001", "price": 88}));
        assert_eq!(one("set the price of sl-002 to 39.9").args, json!({"product": "SL-002", "price": 39.9}));
        assert!(unclear("把月饼改价到 88 元").unclear[0].contains("商品编号"));
    }

    #[test]
    fn dates_and_scopes() {
        assert_eq!(one("明天开始全场9折").args["starts"], "2026-11-25");
        assert_eq!(one("12月1日起拖鞋8折").args["starts"], "2026-12-01");
        assert_eq!(one("下周三月饼8折").args["starts"], "2026-12-02");
        let weekend = one("周末水杯7折");
        assert_eq!(
            (&weekend.args["starts"], &weekend.args["days"], &weekend.args["scope"]),
            (&json!("2026-11-28"), &json!(2), &json!("cups"))
        );
        assert_eq!(one("20% off everything from 2026-12-05").args["starts"], "2026-12-05");
        assert_eq!(one("20% off slippers from dec 3rd").args["starts"], "2026-12-03");
        let both = one("月饼和拖鞋8折");
        assert_eq!(both.args["scope"].as_array().map(Vec::len), Some(6));
        let tail = one("15% off towels, slippers");
        assert_eq!(tail.args["scope"].as_array().map(Vec::len), Some(6));
        assert_eq!(one("MC-001 打9折").args["scope"], json!(["MC-001"]));
        assert_eq!(one("8折").args["scope"], "all");
    }

    #[test]
    fn it_says_what_it_did_not_understand_and_plans_nothing() {
        let nu = unclear("月饼8折,然后帮我把仓库搬到杭州");
        assert_eq!(nu.unclear, ["把仓库搬到杭州"]);
        assert_eq!(nu.understood, ["月饼打8折(减 20%)"]);
        let text = nu.to_string();
        assert!(text.contains("没听懂") && text.contains("仓库搬到杭州") && text.contains("什么都没有执行"), "{text}");

        let nu = unclear("paint the warehouse blue");
        assert_eq!(nu.lang, Lang::En);
        assert!(nu.understood.is_empty());
        assert!(nu.to_string().contains("nothing was run"));
        assert_eq!(unclear("谢谢").unclear, ["谢谢"]);
        assert!(unclear("推广一下月饼").unclear[0].contains("预算"));
        let nu = unclear("中秋节快到了,月饼做个活动");
        assert_eq!(nu.understood, ["活动背景:中秋,09月09日起,7天"]);
        assert!(nu.unclear[0].starts_with("月饼做个活动(做什么活动"), "{nu:?}");
    }

    #[test]
    fn plans_are_deterministic_and_context_only_clauses_are_understood() {
        let a = plan("国庆节:拖鞋7折,海报");
        assert_eq!(a, plan("国庆节:拖鞋7折,海报"));
        assert_eq!(a.tasks[1].args["theme"], "国庆");
        let b = plan("双11活动,全场9折");
        assert_eq!(b.tasks.len(), 1);
        assert_eq!(b.tasks[0].args["discount_pct"], 10);
        assert_eq!(b.tasks[0].args["name"], "双11全店 9折");
    }

    #[test]
    fn festivals_without_a_date_are_the_next_one() {
        // Today is 2026-11-24: this year's Mid-Autumn and National Day are past, Double 12 is not.
        let mid_autumn = one("中秋大促:月饼8折");
        assert_eq!((&mid_autumn.args["starts"], &mid_autumn.args["days"]), (&json!("2027-09-09"), &json!(7)));
        let national = one("国庆节拖鞋7折");
        assert_eq!((&national.args["starts"], &national.args["days"]), (&json!("2027-10-01"), &json!(7)));
        let double12 = one("双12全场9折");
        assert_eq!((&double12.args["starts"], &double12.args["days"]), (&json!("2026-12-12"), &json!(1)));
        assert_eq!(one("双十一全场9折").args["starts"], "2027-11-11");
        let black_friday = one("black friday: 20% off everything");
        assert_eq!((&black_friday.args["starts"], &black_friday.args["days"]), (&json!("2026-11-27"), &json!(4)));
        let new_year = one("春节年货节月饼9折");
        assert_eq!((&new_year.args["starts"], &new_year.args["days"]), (&json!("2027-01-24"), &json!(14)));
        // A length the owner gives ends a gift festival's sale on the day; a date they give wins.
        let three = one("圣诞节水杯8折3天");
        assert_eq!((&three.args["starts"], &three.args["days"]), (&json!("2026-12-23"), &json!(3)));
        assert_eq!(one("下周中秋大促:月饼8折").args["starts"], "2026-11-30");
        // A sale already under way starts today with the days it has left.
        let when = When::Solar { month: 11, day: 20, before: 0, days: 7 };
        assert_eq!(when.next_window(ctx().today, None), Some((ctx().today, 3)));
    }

    #[test]
    fn details_in_later_clauses_complete_the_action_before() {
        let sale = one("SL-001 限时秒杀 2 小时,秒杀价 12 元,限 50 件");
        assert_eq!(sale.args, json!({"scope": ["SL-001"], "hours": 2, "quantity": 50, "price": 12}));
        let sale = one("拖鞋限时秒杀,9折,3小时");
        assert_eq!(sale.args, json!({"scope": "slippers", "hours": 3, "quantity": 100, "discount_pct": 10}));
        let join = one("月饼报名双11官方大促,要求85折");
        assert_eq!((&join.skill[..], &join.args["discount_pct"]), ("promo.join_campaign", &json!(15)));
        let ads = one("给拖鞋投7天广告,每天100元");
        assert_eq!(ads.args, json!({"daily_budget": 100, "days": 7, "products": "slippers"}));
        assert!(unclear("SL-001 限时秒杀 2 小时").unclear[0].contains("秒杀价多少"));
        assert!(unclear("秒杀价 12 元").unclear[0].contains("秒杀哪些商品"));
        assert!(unclear("月饼报名双11").unclear[0].contains("要求几折"));
        assert!(unclear("每天100元").unclear[0].contains("做什么用"));
        // A discount that names its own products stays a discount of its own.
        assert_eq!(plan("SL-001 限时秒杀 2 小时 12 元,月饼9折").tasks.len(), 2);
    }

    #[test]
    fn orders_customers_messages_and_campaigns_are_read_by_id_as_written() {
        let refund = one("给订单 D20261120-0012 退款 30 元");
        assert_eq!(refund.args, json!({"order": "D20261120-0012", "amount": 30}));
        assert_eq!(one("refund 12.5 on order #536365").args, json!({"order": "536365", "amount": 12.5}));
        assert_eq!(one("给顾客 C0012 补偿 10 元").args, json!({"customer": "C0012", "value": 10}));
        assert_eq!(one("tag customer 17850 as refund-risk").args, json!({"customer": "17850", "tag": "refund-risk"}));
        assert_eq!(one("把消息 12 转给店主").args["message"], 12);
        assert_eq!(one("回复消息 7").args, json!({"message": 7}));
        assert_eq!(one("推广 #2 出价改成 1.5 元").args, json!({"campaign": 2, "bid": 1.5}));
        assert_eq!(one("resume campaign 4").args, json!({"campaign": 4, "action": "resume"}));
        // "推广 500 元" is a budget, not campaign #500.
        assert_eq!(one("推广月饼 500 元").skill, "ops.create_ad_campaign");
        // Refund rates are figures, not refunds.
        assert_eq!(one("看看上周的退款率").skill, "analyst.sales_report");
        assert!(unclear("退款 30 元").unclear[0].contains("哪个订单"));
        assert!(unclear("给订单 D20261120-0012 退款").unclear[0].contains("退多少"));
        assert!(unclear("把顾客 C0012 标记一下").unclear[0].contains("标记成什么"));
    }

    #[test]
    fn dictated_listing_text_keeps_its_case_and_commas() {
        let title = one("retitle CP-001 as Ceramic Mug, Large. Thanks");
        assert_eq!(title.args, json!({"product": "CP-001", "title": "Ceramic Mug, Large"}));
        let quoted = plan("把 CP-001 的标题改成「陶瓷马克杯,大容量」,然后做一张海报");
        assert_eq!(quoted.tasks[0].args["title"], "陶瓷马克杯,大容量");
        assert_eq!(quoted.tasks[1].skill, "design.banner");
        let keywords = one("把 MC-001 的关键词改为 月饼,广式,礼盒");
        assert_eq!(keywords.args, json!({"product": "MC-001", "keywords": "月饼,广式,礼盒"}));
        assert!(unclear("标题改成 好杯子").unclear[0].contains("改哪个商品"));
    }

    #[test]
    fn chinese_numbers() {
        let read = |s: &str| numbers(s).iter().map(|n| n.value).collect::<Vec<_>>();
        assert_eq!(read("五百"), [Decimal::from(500)]);
        assert_eq!(read("一千二百"), [Decimal::from(1200)]);
        assert_eq!(read("两万"), [Decimal::from(20_000)]);
        assert_eq!(read("十五"), [Decimal::from(15)]);
        assert_eq!(read("1.5万"), [Decimal::from(15_000)]);
        assert_eq!(read("预算2k"), [Decimal::from(2000)]);
    }
}
