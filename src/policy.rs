//! The owner's rules and the gate that applies them.
//!
//! A policy file (`policies/default.toml`, or `policies/<shop>.toml` when present) is parsed
//! once into a validated [`Policy`]; a file that does not validate never gets past
//! [`Policy::load`], and its error names file and line. [`Policy::decide`] is a pure function
//! of the policy and an [`Intent`]: the typed facts of one action (percent off, resulting
//! prices, money to spend). It never sees prompt or customer text, so no text can widen a
//! permission. It does not reserve money either: the ledger's atomic update does that.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::catalog::{Catalog, SkillPattern};
use crate::error::{FileError, Result, line_of};
use crate::lang::Text;
use crate::money::{Money, Pct, margin_floor_price, meets_margin_floor};

/// The default minimum margin over cost when a policy file does not set one.
pub const DEFAULT_MIN_MARGIN: Pct = Pct::whole(10);

#[derive(Debug, Clone, Serialize)]
pub struct Policy {
    /// The file it was read from.
    pub file: PathBuf,
    /// No selling price below `cost × (1 + min_margin)`.
    pub min_margin: Pct,
    pub budget: Budget,
    pub employees: BTreeMap<String, EmployeeRules>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Budget {
    pub daily: Money,
    pub monthly: Money,
    /// A single spend above this waits for the owner.
    pub approval_above: Option<Money>,
}

/// One employee's permissions. A cap that is not set forbids the effect it would bound:
/// an employee without `max_discount_pct` may not discount at all.
#[derive(Debug, Clone, Serialize, Default)]
pub struct EmployeeRules {
    pub skills: Vec<SkillPattern>,
    pub max_discount: Option<Pct>,
    pub approval_above_discount: Option<Pct>,
    pub max_coupon: Option<Money>,
    pub max_refund: Option<Money>,
    pub max_price_change: Option<Pct>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    #[serde(default)]
    shop: RawShop,
    budget: RawBudget,
    #[serde(default)]
    employee: BTreeMap<Spanned<String>, RawEmployee>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawShop {
    min_margin_pct: Option<Spanned<Pct>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBudget {
    daily: Spanned<Money>,
    monthly: Spanned<Money>,
    approval_above: Option<Spanned<Money>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEmployee {
    #[serde(default)]
    skills: Vec<Spanned<String>>,
    max_discount_pct: Option<Spanned<Pct>>,
    approval_above_discount_pct: Option<Spanned<Pct>>,
    max_coupon: Option<Money>,
    max_refund: Option<Money>,
    max_price_change_pct: Option<Spanned<Pct>>,
}

impl Policy {
    /// The policy for a shop: `policies/<shop>.toml` when it exists, else `policies/default.toml`.
    pub fn load_for_shop(dir: &Path, shop: &str, catalog: &Catalog) -> Result<Policy> {
        let own = dir.join(format!("{shop}.toml"));
        let file = if own.exists() { own } else { dir.join("default.toml") };
        Policy::load(&file, catalog)
    }

    pub fn load(file: &Path, catalog: &Catalog) -> Result<Policy> {
        let source = std::fs::read_to_string(file)
            .map_err(|e| FileError::new(file, None, format!("cannot read the policy file: {e}")))?;
        Policy::parse(file, &source, catalog)
    }

    /// Parses and validates policy text; `file` names it in errors.
    pub fn parse(file: &Path, source: &str, catalog: &Catalog) -> Result<Policy> {
        let raw: RawPolicy = toml::from_str(source).map_err(|e| FileError::from_toml(file, source, &e))?;
        let err = |span: std::ops::Range<usize>, message: String| -> crate::Error {
            FileError::new(file, Some(line_of(source, span.start)), message).into()
        };
        let pct = |field: &str, value: &Spanned<Pct>| -> Result<Pct> {
            let p = *value.get_ref();
            if p > Pct::whole(100) {
                return Err(err(
                    value.span(),
                    format!("{field} = {} is above 100", p.to_string().trim_end_matches('%')),
                ));
            }
            Ok(p)
        };
        let min_margin = match &raw.shop.min_margin_pct {
            Some(v) => *v.get_ref(),
            None => DEFAULT_MIN_MARGIN,
        };
        let budget = Budget {
            daily: *raw.budget.daily.get_ref(),
            monthly: *raw.budget.monthly.get_ref(),
            approval_above: raw.budget.approval_above.as_ref().map(|v| *v.get_ref()),
        };
        if budget.monthly < budget.daily {
            return Err(err(raw.budget.monthly.span(), "budget.monthly is below budget.daily".into()));
        }
        let mut employees = BTreeMap::new();
        for (name, e) in raw.employee {
            if catalog.employee(name.get_ref()).is_none() {
                let known: Vec<&str> = catalog.workers().map(|e| e.id.as_str()).collect();
                let message = format!("[employee.{}]: no such employee (known: {})", name.get_ref(), known.join(", "));
                return Err(err(name.span(), message));
            }
            let mut skills = Vec::new();
            for s in &e.skills {
                let pattern = SkillPattern::parse(s.get_ref()).ok_or_else(|| {
                    err(s.span(), format!("skills: `{}` is not a skill id, `prefix.*` or `*`", s.get_ref()))
                })?;
                skills.push(pattern);
            }
            let max_discount = e.max_discount_pct.as_ref().map(|v| pct("max_discount_pct", v)).transpose()?;
            let approval_above_discount =
                e.approval_above_discount_pct.as_ref().map(|v| pct("approval_above_discount_pct", v)).transpose()?;
            let max_price_change =
                e.max_price_change_pct.as_ref().map(|v| pct("max_price_change_pct", v)).transpose()?;
            let rules = EmployeeRules {
                skills,
                max_discount,
                approval_above_discount,
                max_coupon: e.max_coupon,
                max_refund: e.max_refund,
                max_price_change,
            };
            employees.insert(name.into_inner(), rules);
        }
        Ok(Policy { file: file.to_path_buf(), min_margin, budget, employees })
    }

    /// The gate. Deny rules are checked before approval rules, so an action that breaks a cap
    /// is denied outright instead of being staged for the owner. `approved` is true when the
    /// owner approved this exact action: it lifts approval thresholds, never caps.
    pub fn decide(&self, employee: &str, skill: &str, intent: &Intent, approved: bool) -> Decision {
        let rules = self.employees.get(employee);
        let allowed = rules.is_some_and(|r| r.skills.iter().any(|p| p.matches(skill)));
        if !allowed {
            return Decision::deny(
                format!("employee.{employee}.skills"),
                format!("{employee} 没有使用技能 {skill} 的权限"),
                format!("{employee} is not allowed to use {skill}"),
            );
        }
        let rules = rules.cloned().unwrap_or_default();
        match self.check_caps(employee, &rules, intent) {
            Decision::Allow => {}
            denied => return denied,
        }
        if approved {
            return Decision::Allow;
        }
        self.check_approvals(employee, &rules, intent)
    }

    fn check_caps(&self, employee: &str, rules: &EmployeeRules, intent: &Intent) -> Decision {
        if let Some(pct) = intent.discount {
            let rule = format!("employee.{employee}.max_discount_pct");
            match rules.max_discount {
                None => {
                    return Decision::deny(
                        rule,
                        format!("{employee} 没有折扣额度(未设置 max_discount_pct)"),
                        format!("{employee} has no discount allowance (max_discount_pct is not set)"),
                    );
                }
                Some(max) if pct > max => {
                    return Decision::deny(
                        rule,
                        format!("折扣 {pct} 超过上限 {max}"),
                        format!("discount {pct} is above the {max} cap"),
                    );
                }
                Some(_) => {}
            }
        }
        for line in &intent.prices {
            if line.price <= Money::ZERO {
                return Decision::deny(
                    "shop.min_margin_pct",
                    format!("{} 的价格 ¥{} 必须大于 0", line.sku, line.price.yuan_text()),
                    format!("the price of {} (¥{}) must be above zero", line.sku, line.price.yuan_text()),
                );
            }
            if !meets_margin_floor(line.price, line.cost, self.min_margin) {
                let floor = margin_floor_price(line.cost, self.min_margin);
                return Decision::deny(
                    "shop.min_margin_pct",
                    format!(
                        "{} 的价格 ¥{} 低于成本 ¥{} 加 {} 的底线 ¥{}",
                        line.sku,
                        line.price.yuan_text(),
                        line.cost.yuan_text(),
                        self.min_margin,
                        floor.yuan_text()
                    ),
                    format!(
                        "{}: price ¥{} is below the floor ¥{} (cost ¥{} + {})",
                        line.sku,
                        line.price.yuan_text(),
                        floor.yuan_text(),
                        line.cost.yuan_text(),
                        self.min_margin
                    ),
                );
            }
        }
        if let Some(value) = intent.coupon_value {
            let rule = format!("employee.{employee}.max_coupon");
            match rules.max_coupon {
                Some(max) if value <= max => {}
                Some(max) => {
                    return Decision::deny(
                        rule,
                        format!("优惠券面额 ¥{} 超过上限 ¥{}", value.short_text(), max.short_text()),
                        format!("coupon value ¥{} is above the ¥{} cap", value.short_text(), max.short_text()),
                    );
                }
                None => {
                    return Decision::deny(
                        rule,
                        format!("{employee} 没有发券额度(未设置 max_coupon)"),
                        format!("{employee} may not issue coupons (max_coupon is not set)"),
                    );
                }
            }
        }
        if let (Some(amount), Some(left)) = (intent.refund, intent.refundable)
            && amount > left
        {
            return Decision::deny(
                "order.refundable",
                format!("退款 ¥{} 超过该订单剩余可退金额 ¥{}", amount.short_text(), left.short_text()),
                format!(
                    "refund ¥{} is more than the ¥{} left to refund on the order",
                    amount.short_text(),
                    left.short_text()
                ),
            );
        }
        if let Some(amount) = intent.refund {
            let rule = format!("employee.{employee}.max_refund");
            match rules.max_refund {
                Some(max) if amount <= max => {}
                _ => {
                    let max = rules.max_refund.unwrap_or(Money::ZERO);
                    return Decision::deny(
                        rule,
                        format!("退款 ¥{} 超过上限 ¥{}", amount.short_text(), max.short_text()),
                        format!("refund ¥{} is above the ¥{} cap", amount.short_text(), max.short_text()),
                    );
                }
            }
        }
        if let Some(spend) = &intent.spend {
            // The ledger decides exactly, atomically; this fast check gives the owner a clearer
            // reason when one day's share alone is above the cap.
            if let Some(biggest) = spend.days.iter().map(|(_, m)| *m).max()
                && biggest > self.budget.daily
            {
                return Decision::deny(
                    "budget.daily",
                    format!("单日花费 ¥{} 超过每日预算 ¥{}", biggest.short_text(), self.budget.daily.short_text()),
                    format!(
                        "spending ¥{} in one day is above the daily budget ¥{}",
                        biggest.short_text(),
                        self.budget.daily.short_text()
                    ),
                );
            }
        }
        Decision::Allow
    }

    fn check_approvals(&self, employee: &str, rules: &EmployeeRules, intent: &Intent) -> Decision {
        if let (Some(pct), Some(above)) = (intent.discount, rules.approval_above_discount)
            && pct > above
        {
            return Decision::approval(
                format!("employee.{employee}.approval_above_discount_pct"),
                format!("折扣 {pct} 超过 {above},需要店主批准"),
                format!("discount {pct} is above {above}: the owner approves it"),
            );
        }
        if let (Some(change), Some(max)) = (&intent.price_change, rules.max_price_change) {
            let moved = change.change_bp();
            if moved > max.bp() {
                let moved = Pct::from_bp(moved);
                return Decision::approval(
                    format!("employee.{employee}.max_price_change_pct"),
                    format!("{} 改价幅度 {moved} 超过 {max},需要店主批准", change.sku),
                    format!("{}: a price change of {moved} is above {max}: the owner approves it", change.sku),
                );
            }
        }
        if let (Some(spend), Some(above)) = (&intent.spend, self.budget.approval_above)
            && spend.total() > above
        {
            return Decision::approval(
                "budget.approval_above",
                format!("花费 ¥{} 超过 ¥{},需要店主批准", spend.total().short_text(), above.short_text()),
                format!(
                    "spending ¥{} is above ¥{}: the owner approves it",
                    spend.total().short_text(),
                    above.short_text()
                ),
            );
        }
        Decision::Allow
    }
}

/// The typed facts of one action that the gate judges. Skills fill it from parsed arguments
/// and store reads; a field left empty means the action has no such effect.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Intent {
    /// Percent off a price.
    pub discount: Option<Pct>,
    /// Every selling price the action would set, with the product's cost.
    pub prices: Vec<PriceLine>,
    /// A change of a list price.
    pub price_change: Option<PriceChange>,
    /// The face value of a coupon.
    pub coupon_value: Option<Money>,
    /// Money paid back to a customer.
    pub refund: Option<Money>,
    /// What is left to refund on the order a refund is for.
    pub refundable: Option<Money>,
    /// What this employee already refunded today (shop-local).
    pub refunded_today: Money,
    /// Budget money the action commits, by shop-local day.
    pub spend: Option<Spend>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PriceLine {
    pub sku: String,
    pub cost: Money,
    pub price: Money,
}

#[derive(Debug, Clone, Serialize)]
pub struct PriceChange {
    pub sku: String,
    pub from: Money,
    pub to: Money,
}

impl PriceChange {
    /// The size of the change in basis points of the old price (rounded up).
    pub fn change_bp(&self) -> i64 {
        if self.from <= Money::ZERO {
            return i64::MAX;
        }
        let diff = i128::from((self.to.fen() - self.from.fen()).abs()) * 10_000;
        let from = i128::from(self.from.fen());
        i64::try_from((diff + from - 1) / from).unwrap_or(i64::MAX)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Spend {
    pub purpose: String,
    /// The amount charged to each shop-local day's budget.
    pub days: Vec<(chrono::NaiveDate, Money)>,
}

impl Spend {
    /// Spreads `total` over `days` days from `start`, the remainder on the first day.
    pub fn spread(purpose: impl Into<String>, total: Money, start: chrono::NaiveDate, days: u32) -> Spend {
        let days = days.max(1);
        let share = total.fen() / i64::from(days);
        let rest = total.fen() - share * i64::from(days);
        let days = (0..days)
            .map(|i| {
                let extra = if i == 0 { rest } else { 0 };
                (start + chrono::Days::new(u64::from(i)), Money::from_fen(share + extra))
            })
            .filter(|(_, m)| *m > Money::ZERO)
            .collect();
        Spend { purpose: purpose.into(), days }
    }

    pub fn total(&self) -> Money {
        Money::from_fen(self.days.iter().map(|(_, m)| m.fen()).sum())
    }
}

/// What the gate decided, naming the rule and a reason in both languages.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    Allow,
    Deny(Verdict),
    NeedsApproval(Verdict),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub rule: String,
    pub reason: Text,
}

impl Decision {
    pub fn deny(rule: impl Into<String>, zh: impl Into<String>, en: impl Into<String>) -> Decision {
        Decision::Deny(Verdict { rule: rule.into(), reason: Text::new(zh, en) })
    }

    pub fn approval(rule: impl Into<String>, zh: impl Into<String>, en: impl Into<String>) -> Decision {
        Decision::NeedsApproval(Verdict { rule: rule.into(), reason: Text::new(zh, en) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        Catalog::load(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    fn default_policy() -> Policy {
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/default.toml");
        Policy::load(&file, &catalog()).unwrap()
    }

    #[test]
    fn discount_above_cap_is_denied_naming_the_rule() {
        let intent = Intent { discount: Some(Pct::whole(30)), ..Intent::default() };
        let Decision::Deny(v) = default_policy().decide("promotions", "promo.create_discount", &intent, false) else {
            panic!("expected a denial");
        };
        assert_eq!(v.rule, "employee.promotions.max_discount_pct");
        assert_eq!(v.reason.zh, "折扣 30% 超过上限 20%");
    }

    #[test]
    fn approval_lifts_thresholds_but_never_caps() {
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/default.toml");
        let text = std::fs::read_to_string(&file).unwrap();
        let strict = text.replace("# approval_above_discount_pct = 15", "approval_above_discount_pct = 15");
        assert_ne!(strict, text, "the default policy shows the stricter knob, commented out");
        let p = Policy::parse(&file, &strict, &catalog()).unwrap();
        let allowed = Intent { discount: Some(Pct::whole(18)), ..Intent::default() };
        assert_eq!(default_policy().decide("promotions", "promo.create_discount", &allowed, false), Decision::Allow);
        let big = Intent { discount: Some(Pct::whole(18)), ..Intent::default() };
        assert!(matches!(p.decide("promotions", "promo.create_discount", &big, false), Decision::NeedsApproval(_)));
        assert_eq!(p.decide("promotions", "promo.create_discount", &big, true), Decision::Allow);
        let over = Intent { discount: Some(Pct::whole(25)), ..Intent::default() };
        assert!(matches!(p.decide("promotions", "promo.create_discount", &over, true), Decision::Deny(_)));
    }

    #[test]
    fn skill_outside_the_allow_list_is_denied() {
        let d = default_policy().decide("customer_service", "promo.create_discount", &Intent::default(), true);
        assert!(matches!(d, Decision::Deny(v) if v.rule == "employee.customer_service.skills"));
    }

    #[test]
    fn price_below_cost_plus_margin_is_denied() {
        let line = PriceLine { sku: "MC-001".into(), cost: Money::from_yuan(100), price: Money::from_fen(10_999) };
        let intent = Intent { prices: vec![line], ..Intent::default() };
        let d = default_policy().decide("ops", "ops.set_price", &intent, false);
        assert!(matches!(d, Decision::Deny(v) if v.rule == "shop.min_margin_pct" && v.reason.en.contains("¥110.00")));
    }

    #[test]
    fn spend_over_threshold_waits_and_over_daily_is_denied() {
        let p = default_policy();
        let start = chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let waits = Intent { spend: Some(Spend::spread("ads", Money::from_yuan(500), start, 7)), ..Intent::default() };
        assert!(
            matches!(p.decide("ops", "ops.create_ad_campaign", &waits, false), Decision::NeedsApproval(v) if v.rule == "budget.approval_above")
        );
        let too_much =
            Intent { spend: Some(Spend::spread("ads", Money::from_yuan(600), start, 1)), ..Intent::default() };
        assert!(
            matches!(p.decide("ops", "ops.create_ad_campaign", &too_much, true), Decision::Deny(v) if v.rule == "budget.daily")
        );
    }

    #[test]
    fn spread_keeps_every_fen() {
        let start = chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let s = Spend::spread("ads", Money::from_yuan(500), start, 7);
        assert_eq!(s.total(), Money::from_yuan(500));
        assert_eq!(s.days.len(), 7);
        assert_eq!(s.days[0].1.fen(), 7148);
        assert_eq!(s.days[1].1.fen(), 7142);
    }

    #[test]
    fn a_broken_policy_names_file_and_line() {
        let text = "[budget]\ndaily = 500\nmonthly = 8000\n\n[employee.promotions]\nskills = [\"promo.*\"]\nmax_discount_pct = 120\n";
        let err = Policy::parse(Path::new("policies/shop.toml"), text, &catalog()).unwrap_err().to_string();
        assert_eq!(err, "policies/shop.toml:7: max_discount_pct = 120 is above 100");
        let unknown = "[budget]\ndaily = 500\nmonthly = 8000\nweekly = 3\n";
        let err = Policy::parse(Path::new("p.toml"), unknown, &catalog()).unwrap_err().to_string();
        assert!(err.starts_with("p.toml:4:"), "{err}");
        let who = "[budget]\ndaily = 500\nmonthly = 8000\n[employee.intern]\nskills = []\n";
        let err = Policy::parse(Path::new("p.toml"), who, &catalog()).unwrap_err().to_string();
        assert!(err.starts_with("p.toml:4:") && err.contains("intern"), "{err}");
    }
}
