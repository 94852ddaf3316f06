//! Property tests: the Cedar-backed gate agrees with a plain reference check on random policies
//! and random actions, and money arithmetic is exact or refused, never wrapped.

use std::cell::Cell;
use std::path::Path;

use chrono::NaiveDate;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use shopcrew::catalog::Catalog;
use shopcrew::money::{Money, Pct};
use shopcrew::policy::{Decision, Intent, Policy, PriceChange, PriceLine, Spend};

const EMPLOYEES: [&str; 5] = ["promotions", "customer_service", "ops", "design", "analyst"];
const SKILLS: [&str; 9] = [
    "promo.create_discount",
    "promo.create_coupon",
    "ops.create_ad_campaign",
    "ops.set_price",
    "design.banner",
    "cs.reply",
    "cs.refund",
    "analyst.sales_report",
    "analyst.inventory_forecast",
];
const PATTERNS: [&str; 9] =
    ["promo.*", "ops.*", "cs.*", "design.*", "analyst.*", "*", "ops.set_price", "cs.refund", "promo.create_coupon"];

/// The knobs of one random policy, in whole units so the TOML text is simple.
#[derive(Debug, Clone)]
struct Knobs {
    min_margin_bp: i64,
    daily: i64,
    monthly_extra: i64,
    approval_above: Option<i64>,
    max_campaign: Option<i64>,
    employees: Vec<(usize, EmployeeKnobs)>,
}

#[derive(Debug, Clone)]
struct EmployeeKnobs {
    patterns: Vec<usize>,
    max_discount: Option<i64>,
    approval_above_discount: Option<i64>,
    max_coupon: Option<i64>,
    max_refund: Option<i64>,
    max_refund_per_day: Option<i64>,
    max_price_change: Option<i64>,
    price_changes_per_day: Option<u32>,
    daily_budget_share: Option<i64>,
}

fn employee_knobs() -> impl Strategy<Value = EmployeeKnobs> {
    (
        proptest::collection::vec(0..PATTERNS.len(), 0..3),
        proptest::option::of(0i64..=100),
        proptest::option::of(0i64..=100),
        proptest::option::of(0i64..=200),
        proptest::option::of(0i64..=500),
        proptest::option::of(0i64..=1000),
        proptest::option::of(0i64..=100),
        proptest::option::of(1u32..=5),
        proptest::option::of(0i64..=100),
    )
        .prop_map(|(patterns, md, ad, mc, mr, mrd, mpc, pcd, dbs)| EmployeeKnobs {
            patterns,
            max_discount: md,
            approval_above_discount: ad,
            max_coupon: mc,
            max_refund: mr,
            max_refund_per_day: mrd,
            max_price_change: mpc,
            price_changes_per_day: pcd,
            daily_budget_share: dbs,
        })
}

fn knobs() -> impl Strategy<Value = Knobs> {
    (
        0i64..=5000,
        1i64..=2000,
        0i64..=20_000,
        proptest::option::of(0i64..=1500),
        proptest::option::of(0i64..=3000),
        proptest::collection::vec((0..EMPLOYEES.len(), employee_knobs()), 0..5),
    )
        .prop_map(|(min_margin_bp, daily, monthly_extra, approval_above, max_campaign, mut employees)| {
            employees.sort_by_key(|(e, _)| *e);
            employees.dedup_by_key(|(e, _)| *e);
            Knobs { min_margin_bp, daily, monthly_extra, approval_above, max_campaign, employees }
        })
}

impl Knobs {
    fn employee(&self, name: &str) -> Option<&EmployeeKnobs> {
        self.employees.iter().find(|(e, _)| EMPLOYEES[*e] == name).map(|(_, k)| k)
    }

    /// An employee's daily budget, a share (in percent) of the shop's.
    fn daily_budget(&self, k: &EmployeeKnobs) -> Option<i64> {
        k.daily_budget_share.map(|s| self.daily * 100 * s / 100)
    }

    fn toml(&self) -> String {
        let pct = |bp: i64| format!("{}.{:02}", bp / 100, bp % 100);
        let mut t = format!(
            "[shop]\nmin_margin_pct = {}\n\n[budget]\ndaily = {}\nmonthly = {}\n",
            pct(self.min_margin_bp),
            self.daily,
            self.daily + self.monthly_extra
        );
        if let Some(a) = self.approval_above {
            t.push_str(&format!("approval_above = {a}\n"));
        }
        if let Some(m) = self.max_campaign {
            t.push_str(&format!("max_campaign = {m}\n"));
        }
        for (e, k) in &self.employees {
            t.push_str(&format!("\n[employee.{}]\n", EMPLOYEES[*e]));
            let patterns: Vec<String> = k.patterns.iter().map(|p| format!("\"{}\"", PATTERNS[*p])).collect();
            t.push_str(&format!("skills = [{}]\n", patterns.join(", ")));
            let mut line = |name: &str, v: Option<String>| {
                if let Some(v) = v {
                    t.push_str(&format!("{name} = {v}\n"));
                }
            };
            line("max_discount_pct", k.max_discount.map(|v| v.to_string()));
            line("approval_above_discount_pct", k.approval_above_discount.map(|v| v.to_string()));
            line("max_coupon", k.max_coupon.map(|v| v.to_string()));
            line("max_refund", k.max_refund.map(|v| v.to_string()));
            line("max_refund_per_day", k.max_refund_per_day.map(|v| v.to_string()));
            line("max_price_change_pct", k.max_price_change.map(|v| v.to_string()));
            line("max_price_changes_per_product_per_day", k.price_changes_per_day.map(|v| v.to_string()));
            line("daily_budget", self.daily_budget(k).map(|v| format!("{}.{:02}", v / 100, v % 100)));
        }
        t
    }
}

fn allowed(pattern: &str, skill: &str) -> bool {
    pattern == "*"
        || pattern == skill
        || pattern.strip_suffix(".*").is_some_and(|p| skill.starts_with(&format!("{p}.")))
}

/// The rules as the owner reads them, checked one by one in the documented order: the
/// allow-list, then caps (deny), then — unless the owner approved this action — thresholds.
fn reference(k: &Knobs, employee: &str, skill: &str, i: &Intent, approved: bool) -> (&'static str, String) {
    let deny = |rule: String| ("deny", rule);
    let Some(e) = k.employee(employee) else { return deny(format!("employee.{employee}.skills")) };
    if !e.patterns.iter().any(|p| allowed(PATTERNS[*p], skill)) {
        return deny(format!("employee.{employee}.skills"));
    }
    let rule = |name: &str| format!("employee.{employee}.{name}");
    if let Some(d) = i.discount
        && e.max_discount.is_none_or(|max| d.bp() > max * 100)
    {
        return deny(rule("max_discount_pct"));
    }
    let below_floor = i.prices.iter().any(|l| {
        let (p, c) = (i128::from(l.price.fen()), i128::from(l.cost.fen()));
        p <= 0 || (c > 0 && p * 10_000 < c * (10_000 + i128::from(k.min_margin_bp)))
    });
    if below_floor {
        return deny("shop.min_margin_pct".into());
    }
    if let Some(v) = i.coupon_value
        && e.max_coupon.is_none_or(|max| v.fen() > max * 100)
    {
        return deny(rule("max_coupon"));
    }
    if let Some(r) = i.refund {
        if i.refundable.is_some_and(|left| r > left) {
            return deny("order.refundable".into());
        }
        if e.max_refund.is_none_or(|max| r.fen() > max * 100) {
            return deny(rule("max_refund"));
        }
        if e.max_refund_per_day.is_some_and(|max| i.refunded_today.fen() + r.fen() > max * 100) {
            return deny(rule("max_refund_per_day"));
        }
    }
    let max_day = i.spend.as_ref().map(|s| s.days.iter().map(|(_, m)| m.fen()).max().unwrap_or(0));
    if let Some(day) = max_day {
        if day > k.daily * 100 {
            return deny("budget.daily".into());
        }
        if k.daily_budget(e).is_some_and(|max| day > max) {
            return deny(rule("daily_budget"));
        }
    }
    if let (Some(_), Some(max)) = (&i.price_change, e.price_changes_per_day)
        && i.price_changes_today.is_none_or(|n| n >= max)
    {
        return deny(rule("max_price_changes_per_product_per_day"));
    }
    if let (Some(budget), Some(max)) = (i.campaign_budget, k.max_campaign)
        && budget.fen() > max * 100
    {
        return deny("budget.max_campaign".into());
    }
    if approved {
        return ("allow", String::new());
    }
    if let (Some(d), Some(above)) = (i.discount, e.approval_above_discount)
        && d.bp() > above * 100
    {
        return ("approve", rule("approval_above_discount_pct"));
    }
    if let (Some(c), Some(max)) = (&i.price_change, e.max_price_change) {
        let (from, to) = (i128::from(c.from.fen()), i128::from(c.to.fen()));
        let moved = if from <= 0 { i128::MAX } else { ((to - from).abs() * 10_000 + from - 1) / from };
        if moved > i128::from(max * 100) {
            return ("approve", rule("max_price_change_pct"));
        }
    }
    if let (Some(s), Some(above)) = (&i.spend, k.approval_above) {
        let total: i64 = s.days.iter().map(|(_, m)| m.fen()).sum();
        if total > above * 100 {
            return ("approve", "budget.approval_above".into());
        }
    }
    ("allow", String::new())
}

fn money(max: i64) -> impl Strategy<Value = Money> {
    prop_oneof![3 => (0..=max).prop_map(Money::from_fen), 1 => Just(Money::ZERO), 1 => Just(Money::from_fen(max))]
}

fn intent() -> impl Strategy<Value = Intent> {
    let day = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap_or_default();
    (
        proptest::option::of((0i64..=10_000).prop_map(Pct::from_bp)),
        proptest::collection::vec((money(20_000), money(30_000)), 0..3),
        proptest::option::of((money(20_000), money(20_000), proptest::option::of(0u32..=6))),
        proptest::option::of(money(30_000)),
        proptest::option::of((money(60_000), proptest::option::of(money(60_000)), money(100_000))),
        proptest::option::of(proptest::collection::vec(money(250_000), 0..4)),
        proptest::option::of(money(400_000)),
    )
        .prop_map(move |(discount, prices, change, coupon, refund, spend, campaign)| {
            let mut i = Intent { discount, coupon_value: coupon, campaign_budget: campaign, ..Intent::default() };
            i.prices = prices
                .into_iter()
                .enumerate()
                .map(|(n, (cost, price))| PriceLine { sku: format!("SKU-{n}"), cost, price })
                .collect();
            if let Some((from, to, count)) = change {
                i.price_change = Some(PriceChange { sku: "SKU-0".into(), from, to });
                i.price_changes_today = count;
            }
            if let Some((amount, left, today)) = refund {
                i.refund = Some(amount);
                i.refundable = left;
                i.refunded_today = today;
            }
            i.spend = spend.map(|amounts| Spend {
                purpose: "test".into(),
                days: amounts.into_iter().enumerate().map(|(n, m)| (day + chrono::Days::new(n as u64), m)).collect(),
            });
            i
        })
}

fn kind(d: &Decision) -> (&'static str, String) {
    match d {
        Decision::Allow => ("allow", String::new()),
        Decision::Deny(v) => ("deny", v.rule.clone()),
        Decision::NeedsApproval(v) => ("approve", v.rule.clone()),
    }
}

/// 1,000 random policies × 100 random actions each: 100,000 decisions, all compared.
#[test]
fn the_gate_agrees_with_the_reference_on_100_000_decisions() {
    const POLICIES: u32 = 1_000;
    const ACTIONS: usize = 100;
    let catalog = Catalog::load(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap();
    let file = Path::new("random.toml");
    let decisions = Cell::new(0usize);
    let actions =
        proptest::collection::vec((0..EMPLOYEES.len(), 0..SKILLS.len(), any::<bool>(), intent()), ACTIONS..=ACTIONS);
    let mut runner = TestRunner::new(Config { cases: POLICIES, failure_persistence: None, ..Config::default() });
    let result = runner.run(&(knobs(), actions), |(k, actions)| {
        let text = k.toml();
        let policy = Policy::parse(file, &text, &catalog).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        for (e, s, approved, i) in &actions {
            let (employee, skill) = (EMPLOYEES[*e], SKILLS[*s]);
            let got = kind(&policy.decide(employee, skill, i, *approved));
            let want = reference(&k, employee, skill, i, *approved);
            prop_assert_eq!(
                (got.0, got.1.as_str()),
                (want.0, want.1.as_str()),
                "{} {} approved={} {:?}\n{}",
                employee,
                skill,
                approved,
                i,
                text
            );
            decisions.set(decisions.get() + 1);
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    assert!(decisions.get() >= 100_000, "only {} decisions were checked", decisions.get());
}

proptest! {
    #![proptest_config(Config { cases: 20_000, failure_persistence: None, ..Config::default() })]

    /// Sums, differences and products are exact or `None`, never wrapped.
    #[test]
    fn money_arithmetic_is_exact_or_refused(a in any::<i64>(), b in any::<i64>(), n in any::<i64>()) {
        let (x, y) = (Money::from_fen(a), Money::from_fen(b));
        let exact = |v: i128| i64::try_from(v).ok().map(Money::from_fen);
        prop_assert_eq!(x.checked_add(y), exact(i128::from(a) + i128::from(b)));
        prop_assert_eq!(x.checked_sub(y), exact(i128::from(a) - i128::from(b)));
        prop_assert_eq!(x.checked_mul(n), exact(i128::from(a) * i128::from(n)));
    }

    /// Taking a percentage off rounds half up to the fen, or is refused; never wraps.
    #[test]
    fn less_pct_is_exact_or_refused(a in any::<i64>(), bp in 0i64..=10_000) {
        let got = Money::from_fen(a).less_pct(Pct::from_bp(bp));
        let scaled = i128::from(a) * i128::from(10_000 - bp);
        let want = i64::try_from((scaled + 5_000).div_euclid(10_000)).ok();
        if a >= 0 {
            prop_assert_eq!(got.map(Money::fen), want);
        } else {
            // Negative amounts are not prices; whatever comes back must not have wrapped.
            prop_assert!(got.is_none_or(|m| m.fen() <= 0));
        }
    }

    /// Amounts from text are exact to the fen; more decimals, negatives and overflow are errors.
    #[test]
    fn amounts_parse_exactly_or_not_at_all(whole in 0u64..=u64::MAX, frac in 0u32..1000, digits in 0usize..=3) {
        let text = match digits {
            0 => whole.to_string(),
            1 => format!("{whole}.{}", frac % 10),
            2 => format!("{whole}.{:02}", frac % 100),
            _ => format!("{whole}.{:03}", frac),
        };
        let fen = i128::from(whole) * 100 + match digits {
            0 => 0,
            1 => i128::from(frac % 10) * 10,
            2 => i128::from(frac % 100),
            _ => i128::from(frac) / 10,
        };
        let parsed = Money::parse(&text);
        let too_precise = digits == 3 && frac % 10 != 0;
        match parsed {
            Ok(m) => {
                prop_assert!(!too_precise, "{} was rounded", text);
                prop_assert_eq!(i128::from(m.fen()), fen);
            }
            Err(_) => prop_assert!(too_precise || fen > i128::from(i64::MAX), "{} refused", text),
        }
        let negative = format!("-{text}");
        prop_assert!(fen == 0 || Money::parse(&negative).is_err(), "{} accepted", negative);
    }
}
