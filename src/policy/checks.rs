//! The rules a policy file's knobs stand for, one value per rule: its id, the Cedar condition
//! that must hold, and how to word it for the owner (a reason when it decides, a line of
//! `explain` otherwise).
//!
//! Nothing here decides anything: `cedar.rs` puts the conditions into Cedar policies and
//! Cedar evaluates them. The wording reads the intent only to say what was asked for.

use crate::lang::{Lang, Text};
use crate::money::{Money, Pct, margin_floor_price, meets_margin_floor};

use super::Intent;

/// A condition every action must meet. Caps deny; approval thresholds stage the action for
/// the owner, and the owner's approval of that exact action lifts them.
#[derive(Debug, Clone)]
pub(crate) enum Check {
    /// The employee's allow-list; `skills` are the catalog skill ids it matches.
    Skills {
        employee: String,
        patterns: Vec<String>,
        skills: Vec<String>,
    },
    MaxDiscount {
        employee: String,
        max: Option<Pct>,
    },
    MinMargin {
        min: Pct,
    },
    /// No refund above what is left to refund on its order.
    Refundable,
    /// No absolute claims the advertising law bans (最, 第一, 国家级 …) in text the shop shows.
    BannedWords,
    MaxCoupon {
        employee: String,
        max: Option<Money>,
    },
    MaxRefund {
        employee: String,
        max: Option<Money>,
    },
    MaxRefundPerDay {
        employee: String,
        max: Money,
    },
    DailyBudget {
        daily: Money,
    },
    /// No ad campaign with a total budget above this.
    CampaignBudget {
        max: Money,
    },
    EmployeeDailyBudget {
        employee: String,
        max: Money,
    },
    PriceChangesPerDay {
        employee: String,
        max: u32,
    },
    ApproveDiscount {
        employee: String,
        above: Pct,
    },
    ApprovePriceChange {
        employee: String,
        max: Pct,
    },
    ApproveSpend {
        above: Money,
    },
    ApproveMode {
        employee: String,
        skill: String,
    },
}

/// A rule that denies outright when it matches.
#[derive(Debug, Clone)]
pub(crate) enum Forbid {
    /// The owner paused one employee, or everyone (`None`).
    Pause { employee: Option<String> },
    /// The owner revoked a skill or pattern; `skills` are the catalog ids it matches.
    Revoked { employee: String, pattern: String, skills: Vec<String> },
    /// A skill whose mode is `never`.
    Never { employee: String, skill: String },
    /// An integrator's rule from a `.cedar` file.
    Integrator { id: String, reason: Option<Text> },
}

impl Check {
    pub fn rule(&self) -> String {
        match self {
            Check::Skills { employee, .. } => format!("employee.{employee}.skills"),
            Check::MaxDiscount { employee, .. } => format!("employee.{employee}.max_discount_pct"),
            Check::MinMargin { .. } => "shop.min_margin_pct".into(),
            Check::Refundable => "order.refundable".into(),
            Check::BannedWords => "shop.banned_words".into(),
            Check::MaxCoupon { employee, .. } => format!("employee.{employee}.max_coupon"),
            Check::MaxRefund { employee, .. } => format!("employee.{employee}.max_refund"),
            Check::MaxRefundPerDay { employee, .. } => format!("employee.{employee}.max_refund_per_day"),
            Check::DailyBudget { .. } => "budget.daily".into(),
            Check::CampaignBudget { .. } => "budget.max_campaign".into(),
            Check::EmployeeDailyBudget { employee, .. } => format!("employee.{employee}.daily_budget"),
            Check::PriceChangesPerDay { employee, .. } => {
                format!("employee.{employee}.max_price_changes_per_product_per_day")
            }
            Check::ApproveDiscount { employee, .. } => format!("employee.{employee}.approval_above_discount_pct"),
            Check::ApprovePriceChange { employee, .. } => format!("employee.{employee}.max_price_change_pct"),
            Check::ApproveSpend { .. } => "budget.approval_above".into(),
            Check::ApproveMode { employee, skill } => format!("employee.{employee}.modes.{skill}"),
        }
    }

    /// The employee the rule is about; `None` for the shop's rules, which bind everyone.
    pub fn employee(&self) -> Option<&str> {
        match self {
            Check::MinMargin { .. }
            | Check::Refundable
            | Check::BannedWords
            | Check::DailyBudget { .. }
            | Check::CampaignBudget { .. }
            | Check::ApproveSpend { .. } => None,
            Check::Skills { employee, .. }
            | Check::MaxDiscount { employee, .. }
            | Check::MaxCoupon { employee, .. }
            | Check::MaxRefund { employee, .. }
            | Check::MaxRefundPerDay { employee, .. }
            | Check::EmployeeDailyBudget { employee, .. }
            | Check::PriceChangesPerDay { employee, .. }
            | Check::ApproveDiscount { employee, .. }
            | Check::ApprovePriceChange { employee, .. }
            | Check::ApproveMode { employee, .. } => Some(employee),
        }
    }

    /// Which rule names a decision when several fail: the allow-list, then caps in the order
    /// the owner reads them, then approval thresholds.
    pub fn rank(&self) -> u8 {
        match self {
            Check::Skills { .. } => 0,
            Check::MaxDiscount { .. } => 1,
            Check::MinMargin { .. } => 2,
            Check::MaxCoupon { .. } => 3,
            Check::Refundable => 4,
            Check::BannedWords => 11,
            Check::MaxRefund { .. } => 5,
            Check::MaxRefundPerDay { .. } => 6,
            Check::DailyBudget { .. } => 7,
            Check::EmployeeDailyBudget { .. } => 8,
            Check::PriceChangesPerDay { .. } => 9,
            Check::CampaignBudget { .. } => 10,
            Check::ApproveDiscount { .. } => 20,
            Check::ApprovePriceChange { .. } => 21,
            Check::ApproveSpend { .. } => 22,
            Check::ApproveMode { .. } => 23,
        }
    }

    /// True for thresholds the owner's approval lifts; false for caps.
    pub fn needs_approval(&self) -> bool {
        self.rank() >= 20
    }

    /// The Cedar condition that must hold for the action to go ahead.
    pub fn holds(&self) -> String {
        match self {
            Check::Skills { skills, .. } => {
                if skills.is_empty() {
                    "false".into()
                } else {
                    format!("action in {}", action_list(skills))
                }
            }
            Check::MaxDiscount { max: None, .. } => "!context.has_discount".into(),
            Check::MaxDiscount { max: Some(max), .. } => {
                format!("!context.has_discount || context.discount_bp <= {}", max.bp())
            }
            Check::MinMargin { min } => format!(
                "!context.has_prices || (context.lowest_price_fen > 0 && context.lowest_margin_bp >= {})",
                min.bp()
            ),
            Check::MaxCoupon { max: None, .. } => "!context.has_coupon".into(),
            Check::MaxCoupon { max: Some(max), .. } => {
                format!("!context.has_coupon || context.coupon_fen <= {}", max.fen())
            }
            Check::Refundable => {
                "!context.has_refund || !context.has_refundable || context.refund_fen <= context.refundable_fen".into()
            }
            Check::BannedWords => "context.banned_words == 0".into(),
            Check::MaxRefund { max: None, .. } => "!context.has_refund".into(),
            Check::MaxRefund { max: Some(max), .. } => {
                format!("!context.has_refund || context.refund_fen <= {}", max.fen())
            }
            Check::MaxRefundPerDay { max, .. } => {
                format!("!context.has_refund || context.refunded_today_fen + context.refund_fen <= {}", max.fen())
            }
            Check::DailyBudget { daily: max } | Check::EmployeeDailyBudget { max, .. } => {
                format!("!context.has_spend || context.spend_max_day_fen <= {}", max.fen())
            }
            Check::CampaignBudget { max } => format!("!context.has_campaign || context.campaign_fen <= {}", max.fen()),
            Check::PriceChangesPerDay { max, .. } => format!(
                "!context.has_price_change || (context.has_price_changes_today && context.price_changes_today < {max})"
            ),
            Check::ApproveDiscount { above, .. } => {
                format!("context.approved || !context.has_discount || context.discount_bp <= {}", above.bp())
            }
            Check::ApprovePriceChange { max, .. } => {
                format!("context.approved || !context.has_price_change || context.price_change_bp <= {}", max.bp())
            }
            Check::ApproveSpend { above } => {
                format!("context.approved || !context.has_spend || context.spend_total_fen <= {}", above.fen())
            }
            Check::ApproveMode { skill, .. } => format!("context.approved || action != Action::{}", quote(skill)),
        }
    }

    /// Why this rule stopped the action, in both languages.
    pub fn reason(&self, employee: &str, skill: &str, intent: &Intent) -> Text {
        match self {
            Check::Skills { .. } => skills_reason(employee, skill),
            Check::MaxDiscount { max: None, .. } => Text::new(
                format!("{employee} 没有折扣额度(未设置 max_discount_pct)"),
                format!("{employee} has no discount allowance (max_discount_pct is not set)"),
            ),
            Check::MaxDiscount { max: Some(max), .. } => {
                let pct = intent.discount.unwrap_or_default();
                Text::new(format!("折扣 {pct} 超过上限 {max}"), format!("discount {pct} is above the {max} cap"))
            }
            Check::MinMargin { min } => margin_reason(*min, intent),
            Check::MaxCoupon { max: None, .. } => Text::new(
                format!("{employee} 没有发券额度(未设置 max_coupon)"),
                format!("{employee} may not issue coupons (max_coupon is not set)"),
            ),
            Check::MaxCoupon { max: Some(max), .. } => {
                let value = intent.coupon_value.unwrap_or_default();
                Text::new(
                    format!("优惠券面额 ¥{} 超过上限 ¥{}", value.short_text(), max.short_text()),
                    format!("coupon value ¥{} is above the ¥{} cap", value.short_text(), max.short_text()),
                )
            }
            Check::BannedWords => {
                let words = intent.banned_words.join("、");
                Text::new(
                    format!("文案含有广告法禁用的极限词:{words}"),
                    format!("the text uses absolute claims the advertising law bans: {words}"),
                )
            }
            Check::Refundable => {
                let amount = intent.refund.unwrap_or_default();
                let left = intent.refundable.unwrap_or_default();
                Text::new(
                    format!("退款 ¥{} 超过该订单剩余可退金额 ¥{}", amount.short_text(), left.short_text()),
                    format!(
                        "refund ¥{} is more than the ¥{} left to refund on the order",
                        amount.short_text(),
                        left.short_text()
                    ),
                )
            }
            Check::MaxRefund { max, .. } => {
                let amount = intent.refund.unwrap_or_default();
                let max = max.unwrap_or(Money::ZERO);
                Text::new(
                    format!("退款 ¥{} 超过上限 ¥{}", amount.short_text(), max.short_text()),
                    format!("refund ¥{} is above the ¥{} cap", amount.short_text(), max.short_text()),
                )
            }
            Check::MaxRefundPerDay { max, .. } => {
                let amount = intent.refund.unwrap_or_default();
                let done = intent.refunded_today;
                Text::new(
                    format!(
                        "今天已退款 ¥{},再退 ¥{} 将超过每日退款上限 ¥{}",
                        done.short_text(),
                        amount.short_text(),
                        max.short_text()
                    ),
                    format!(
                        "¥{} already refunded today; ¥{} more would be above the daily refund cap ¥{}",
                        done.short_text(),
                        amount.short_text(),
                        max.short_text()
                    ),
                )
            }
            Check::DailyBudget { daily } => {
                let biggest = biggest_day(intent);
                Text::new(
                    format!("单日花费 ¥{} 超过每日预算 ¥{}", biggest.short_text(), daily.short_text()),
                    format!(
                        "spending ¥{} in one day is above the daily budget ¥{}",
                        biggest.short_text(),
                        daily.short_text()
                    ),
                )
            }
            Check::EmployeeDailyBudget { employee, max } => {
                let biggest = biggest_day(intent);
                Text::new(
                    format!("单日花费 ¥{} 超过 {employee} 的每日预算 ¥{}", biggest.short_text(), max.short_text()),
                    format!(
                        "spending ¥{} in one day is above {employee}'s daily budget ¥{}",
                        biggest.short_text(),
                        max.short_text()
                    ),
                )
            }
            Check::CampaignBudget { max } => {
                let budget = intent.campaign_budget.unwrap_or_default();
                Text::new(
                    format!("推广总预算 ¥{} 超过单个推广上限 ¥{}", budget.short_text(), max.short_text()),
                    format!(
                        "a campaign budget of ¥{} is above the ¥{} cap per campaign",
                        budget.short_text(),
                        max.short_text()
                    ),
                )
            }
            Check::PriceChangesPerDay { max, .. } => {
                let sku = intent.price_change.as_ref().map(|c| c.sku.as_str()).unwrap_or("?");
                match intent.price_changes_today {
                    Some(n) => Text::new(
                        format!("{sku} 今天已改价 {n} 次,达到每日上限 {max} 次"),
                        format!("{sku} has had {n} price changes today; the limit is {max} a day"),
                    ),
                    None => Text::new(
                        format!("无法确认 {sku} 今天的改价次数(每日上限 {max} 次),按拒绝处理"),
                        format!("today's number of price changes of {sku} is unknown (the limit is {max} a day)"),
                    ),
                }
            }
            Check::ApproveDiscount { above, .. } => {
                let pct = intent.discount.unwrap_or_default();
                Text::new(
                    format!("折扣 {pct} 超过 {above},需要店主批准"),
                    format!("discount {pct} is above {above}: the owner approves it"),
                )
            }
            Check::ApprovePriceChange { max, .. } => match &intent.price_change {
                Some(change) => {
                    let moved = Pct::from_bp(change.change_bp());
                    Text::new(
                        format!("{} 改价幅度 {moved} 超过 {max},需要店主批准", change.sku),
                        format!("{}: a price change of {moved} is above {max}: the owner approves it", change.sku),
                    )
                }
                None => Text::new(
                    format!("改价幅度超过 {max},需要店主批准"),
                    format!("a price change above {max}: the owner approves it"),
                ),
            },
            Check::ApproveSpend { above } => {
                let total = intent.spend.as_ref().map(|s| s.total()).unwrap_or_default();
                Text::new(
                    format!("花费 ¥{} 超过 ¥{},需要店主批准", total.short_text(), above.short_text()),
                    format!("spending ¥{} is above ¥{}: the owner approves it", total.short_text(), above.short_text()),
                )
            }
            Check::ApproveMode { employee, skill } => Text::new(
                format!("{employee} 每次使用 {skill} 都需要店主批准(模式为 approve)"),
                format!("{skill} by {employee} always waits for the owner's approval (its mode is approve)"),
            ),
        }
    }

    /// The rule in words, for `explain`.
    pub fn describe(&self, lang: Lang) -> String {
        let text = match self {
            Check::Skills { patterns, .. } => {
                let list = if patterns.is_empty() { "-".to_string() } else { patterns.join(", ") };
                Text::new(format!("可用技能:{list}"), format!("may use: {list}"))
            }
            Check::MaxDiscount { max: None, .. } => {
                Text::new("不得打折(未设置折扣上限)", "may not discount (no cap set)")
            }
            Check::MaxDiscount { max: Some(max), .. } => {
                Text::new(format!("折扣不超过 {max}"), format!("discounts up to {max}"))
            }
            Check::MinMargin { min } => Text::new(
                format!("任何售价(叠加所有优惠后)不低于成本加 {min}"),
                format!("no selling price (after everything that stacks) below cost + {min}"),
            ),
            Check::MaxCoupon { max: None, .. } => {
                Text::new("不得发券(未设置面额上限)", "may not issue coupons (no cap set)")
            }
            Check::MaxCoupon { max: Some(max), .. } => Text::new(
                format!("优惠券面额不超过 ¥{}", max.short_text()),
                format!("coupons worth up to ¥{}", max.short_text()),
            ),
            Check::BannedWords => Text::new(
                "店铺展示的文案不得含广告法禁用的极限词(最、第一、国家级……)",
                "no absolute claims the advertising law bans (最, 第一, 国家级 …) in shop text",
            ),
            Check::Refundable => {
                Text::new("退款不超过订单剩余可退金额", "no refund above what is left to refund on its order")
            }
            Check::MaxRefund { max: None, .. } => Text::new("不得退款(未设置退款上限)", "may not refund (no cap set)"),
            Check::MaxRefund { max: Some(max), .. } => Text::new(
                format!("单笔退款不超过 ¥{}", max.short_text()),
                format!("refunds up to ¥{} each", max.short_text()),
            ),
            Check::MaxRefundPerDay { max, .. } => Text::new(
                format!("每天退款合计不超过 ¥{}", max.short_text()),
                format!("refunds up to ¥{} a day in all", max.short_text()),
            ),
            Check::DailyBudget { daily } => Text::new(
                format!("单日花费不超过每日预算 ¥{}", daily.short_text()),
                format!("no day's spending above the daily budget ¥{}", daily.short_text()),
            ),
            Check::CampaignBudget { max } => Text::new(
                format!("单个推广总预算不超过 ¥{}", max.short_text()),
                format!("no ad campaign with a total budget above ¥{}", max.short_text()),
            ),
            Check::EmployeeDailyBudget { max, .. } => Text::new(
                format!("本人单日花费不超过 ¥{}", max.short_text()),
                format!("own spending up to ¥{} a day", max.short_text()),
            ),
            Check::PriceChangesPerDay { max, .. } => Text::new(
                format!("同一商品每天最多改价 {max} 次"),
                format!("at most {max} price changes per product a day"),
            ),
            Check::ApproveDiscount { above, .. } => Text::new(
                format!("折扣超过 {above} 需要店主批准"),
                format!("a discount above {above} waits for the owner"),
            ),
            Check::ApprovePriceChange { max, .. } => Text::new(
                format!("改价幅度超过 {max} 需要店主批准"),
                format!("a price change above {max} waits for the owner"),
            ),
            Check::ApproveSpend { above } => Text::new(
                format!("单笔花费超过 ¥{} 需要店主批准", above.short_text()),
                format!("a single spend above ¥{} waits for the owner", above.short_text()),
            ),
            Check::ApproveMode { skill, .. } => {
                Text::new(format!("{skill}:每次都需要店主批准"), format!("{skill}: always waits for the owner"))
            }
        };
        text.get(lang).to_string()
    }
}

impl Forbid {
    pub fn rule(&self) -> String {
        match self {
            Forbid::Pause { .. } => "owner.pause".into(),
            Forbid::Revoked { employee, .. } => format!("employee.{employee}.revoked"),
            Forbid::Never { employee, skill } => format!("employee.{employee}.modes.{skill}"),
            Forbid::Integrator { id, .. } => id.clone(),
        }
    }

    /// The employee it binds; `None` for everyone.
    pub fn employee(&self) -> Option<&str> {
        match self {
            Forbid::Pause { employee } => employee.as_deref(),
            Forbid::Revoked { employee, .. } | Forbid::Never { employee, .. } => Some(employee),
            Forbid::Integrator { .. } => None,
        }
    }

    pub fn reason(&self, employee: &str, skill: &str) -> Text {
        match self {
            Forbid::Pause { employee: Some(e) } => {
                Text::new(format!("店主已暂停 {e} 的所有操作"), format!("paused by the owner: {e} may not act"))
            }
            Forbid::Pause { employee: None } => Text::new(
                format!("店主已暂停全体员工,{employee} 不能使用 {skill}"),
                format!("paused by the owner: the whole crew is paused, so {employee} may not use {skill}"),
            ),
            Forbid::Revoked { employee, pattern, .. } => Text::new(
                format!("店主已收回 {employee} 使用 {pattern} 的权限"),
                format!("the owner revoked {employee}'s use of {pattern}"),
            ),
            Forbid::Never { employee, skill } => Text::new(
                format!("店主已设置 {employee} 不得使用 {skill}(模式为 never)"),
                format!("the owner set {skill} to never for {employee}"),
            ),
            Forbid::Integrator { reason: Some(reason), .. } => reason.clone(),
            Forbid::Integrator { id, reason: None } => {
                Text::new(format!("规则 {id} 禁止此操作"), format!("forbidden by rule {id}"))
            }
        }
    }

    pub fn describe(&self, lang: Lang) -> String {
        let text = match self {
            Forbid::Pause { employee: Some(_) } => Text::new("已被店主暂停", "paused by the owner"),
            Forbid::Pause { employee: None } => Text::new("店主已暂停全体员工", "the owner paused the whole crew"),
            Forbid::Revoked { pattern, .. } => {
                Text::new(format!("店主已收回:{pattern}"), format!("revoked by the owner: {pattern}"))
            }
            Forbid::Never { skill, .. } => Text::new(format!("{skill}:不得使用"), format!("{skill}: never")),
            Forbid::Integrator { id, reason } => {
                let why = reason.as_ref().map(|r| format!(" — {}", r.get(lang))).unwrap_or_default();
                Text::new(format!("自定义规则 {id}{why}"), format!("own rule {id}{why}"))
            }
        };
        text.get(lang).to_string()
    }
}

pub(crate) fn skills_reason(employee: &str, skill: &str) -> Text {
    Text::new(format!("{employee} 没有使用技能 {skill} 的权限"), format!("{employee} is not allowed to use {skill}"))
}

/// A Cedar string literal.
pub(crate) fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `[Action::"a", Action::"b"]`.
pub(crate) fn action_list(skills: &[String]) -> String {
    let items: Vec<String> = skills.iter().map(|s| format!("Action::{}", quote(s))).collect();
    format!("[{}]", items.join(", "))
}

fn biggest_day(intent: &Intent) -> Money {
    intent.spend.as_ref().and_then(|s| s.days.iter().map(|(_, m)| *m).max()).unwrap_or_default()
}

/// Names the first price line below the floor, the way the owner reads it.
fn margin_reason(min: Pct, intent: &Intent) -> Text {
    for line in &intent.prices {
        if line.price <= Money::ZERO {
            return Text::new(
                format!("{} 的价格 ¥{} 必须大于 0", line.sku, line.price.yuan_text()),
                format!("the price of {} (¥{}) must be above zero", line.sku, line.price.yuan_text()),
            );
        }
        if !meets_margin_floor(line.price, line.cost, min) {
            let floor = margin_floor_price(line.cost, min);
            return Text::new(
                format!(
                    "{} 的价格 ¥{} 低于成本 ¥{} 加 {} 的底线 ¥{}",
                    line.sku,
                    line.price.yuan_text(),
                    line.cost.yuan_text(),
                    min,
                    floor.yuan_text()
                ),
                format!(
                    "{}: price ¥{} is below the floor ¥{} (cost ¥{} + {})",
                    line.sku,
                    line.price.yuan_text(),
                    floor.yuan_text(),
                    line.cost.yuan_text(),
                    min
                ),
            );
        }
    }
    Text::new(format!("价格低于成本加 {min} 的底线"), format!("a price is below cost + {min}"))
}
