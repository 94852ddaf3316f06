//! The gate's unit tests: the knobs, the Cedar compilation, integrator rules and owner changes.

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
    let too_much = Intent { spend: Some(Spend::spread("ads", Money::from_yuan(600), start, 1)), ..Intent::default() };
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

const BASE: &str = "[budget]\ndaily = 500\nmonthly = 8000\napproval_above = 200\n";

fn policy(text: &str) -> Policy {
    Policy::parse(Path::new("policies/shop.toml"), text, &catalog()).unwrap()
}

fn parse_err(text: &str) -> String {
    Policy::parse(Path::new("policies/shop.toml"), text, &catalog()).unwrap_err().to_string()
}

fn with_rules(toml: &str, cedar: &str) -> Result<Policy> {
    let rules = vec![(PathBuf::from("policies/house.cedar"), cedar.to_string())];
    Policy::parse_with_rules(Path::new("policies/default.toml"), toml, &catalog(), "demo", &rules)
}

fn denied(d: Decision) -> Verdict {
    match d {
        Decision::Deny(v) => v,
        other => panic!("expected a denial, got {other:?}"),
    }
}

fn waits(d: Decision) -> Verdict {
    match d {
        Decision::NeedsApproval(v) => v,
        other => panic!("expected an approval, got {other:?}"),
    }
}

fn price_change(from: i64, to: i64) -> Intent {
    Intent {
        prices: vec![PriceLine { sku: "MC-001".into(), cost: Money::from_yuan(10), price: Money::from_yuan(to) }],
        price_change: Some(PriceChange {
            sku: "MC-001".into(),
            from: Money::from_yuan(from),
            to: Money::from_yuan(to),
        }),
        ..Intent::default()
    }
}

#[test]
fn modes_never_denies_and_approve_always_waits_for_the_owner() {
    let text = format!(
        "{BASE}[employee.ops]\nskills = [\"ops.*\"]\n[employee.ops.modes]\n\"ops.set_price\" = \"approve\"\n\"ops.create_ad_campaign\" = \"never\"\n"
    );
    let p = policy(&text);
    assert_eq!(p.employees["ops"].modes["ops.set_price"], Mode::Approve);
    let v = waits(p.decide("ops", "ops.set_price", &price_change(100, 101), false));
    assert_eq!(v.rule, "employee.ops.modes.ops.set_price");
    assert!(v.reason.zh.contains("需要店主批准"), "{v:?}");
    assert_eq!(p.decide("ops", "ops.set_price", &price_change(100, 101), true), Decision::Allow);
    let v = denied(p.decide("ops", "ops.create_ad_campaign", &Intent::default(), true));
    assert_eq!(v.rule, "employee.ops.modes.ops.create_ad_campaign");
    assert!(v.reason.en.contains("never"), "{v:?}");

    // The inline form and an unquoted (nested) key read the same.
    let inline = format!("{BASE}[employee.ops]\nskills = [\"ops.*\"]\nmodes = {{ \"ops.set_price\" = \"never\" }}\n");
    assert_eq!(policy(&inline).employees["ops"].modes["ops.set_price"], Mode::Never);
    let nested =
        format!("{BASE}[employee.ops]\nskills = [\"ops.*\"]\n[employee.ops.modes]\nops.set_price = \"auto\"\n");
    assert_eq!(policy(&nested).employees["ops"].modes["ops.set_price"], Mode::Auto);
}

#[test]
fn a_bad_mode_names_file_and_line() {
    let value = format!(
        "{BASE}[employee.ops]\nskills = [\"ops.*\"]\n[employee.ops.modes]\n\"ops.set_price\" = \"sometimes\"\n"
    );
    let err = parse_err(&value);
    assert!(err.starts_with("policies/shop.toml:8:") && err.contains("auto, approve or never"), "{err}");
    let unknown = format!("{BASE}[employee.ops]\nskills = [\"ops.*\"]\nmodes = {{ \"ops.fly\" = \"auto\" }}\n");
    let err = parse_err(&unknown);
    assert!(err.starts_with("policies/shop.toml:7:") && err.contains("`ops.fly` is not a skill"), "{err}");
    let not_granted = format!(
        "{BASE}[employee.ops]\nskills = [\"ops.set_price\"]\n[employee.ops.modes]\n\"ops.create_ad_campaign\" = \"approve\"\n"
    );
    let err = parse_err(&not_granted);
    assert!(err.starts_with("policies/shop.toml:8:") && err.contains("never grants a skill"), "{err}");
}

#[test]
fn the_timezone_defaults_to_shanghai_and_is_validated() {
    assert_eq!(policy(BASE).timezone, chrono_tz::Asia::Shanghai);
    assert_eq!(policy(&format!("[shop]\ntimezone = \"Europe/Berlin\"\n{BASE}")).timezone, chrono_tz::Europe::Berlin);
    let err = parse_err(&format!("[shop]\nmin_margin_pct = 10\ntimezone = \"Mars/Olympus\"\n{BASE}"));
    assert!(err.starts_with("policies/shop.toml:3:") && err.contains("Mars/Olympus"), "{err}");
}

#[test]
fn employee_budgets_are_validated_exposed_and_checked_per_day() {
    let text = format!("{BASE}[employee.ops]\nskills = [\"ops.*\"]\ndaily_budget = 300\nmonthly_budget = 5000\n");
    let p = policy(&text);
    assert_eq!(p.employees["ops"].daily_budget, Some(Money::from_yuan(300)));
    assert_eq!(p.employees["ops"].monthly_budget, Some(Money::from_yuan(5000)));
    let start = chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
    let day =
        |yuan| Intent { spend: Some(Spend::spread("ads", Money::from_yuan(yuan), start, 1)), ..Intent::default() };
    assert_eq!(p.decide("ops", "ops.create_ad_campaign", &day(150), false), Decision::Allow);
    let v = denied(p.decide("ops", "ops.create_ad_campaign", &day(350), true));
    assert_eq!(v.rule, "employee.ops.daily_budget");
    assert_eq!(v.reason.zh, "单日花费 ¥350 超过 ops 的每日预算 ¥300");

    let above = format!("{BASE}[employee.ops]\nskills = [\"ops.*\"]\ndaily_budget = 600\n");
    let err = parse_err(&above);
    assert!(err.starts_with("policies/shop.toml:7:") && err.contains("above budget.daily"), "{err}");
    let below = format!("{BASE}[employee.ops]\nskills = [\"ops.*\"]\ndaily_budget = 300\nmonthly_budget = 200\n");
    let err = parse_err(&below);
    assert!(err.starts_with("policies/shop.toml:8:") && err.contains("below daily_budget"), "{err}");
}

#[test]
fn refunds_in_one_day_add_up_to_the_daily_cap() {
    let text =
        format!("{BASE}[employee.customer_service]\nskills = [\"cs.*\"]\nmax_refund = 100\nmax_refund_per_day = 300\n");
    let p = policy(&text);
    let refund = |today: i64, amount: i64| Intent {
        refund: Some(Money::from_yuan(amount)),
        refunded_today: Money::from_yuan(today),
        ..Intent::default()
    };
    assert_eq!(p.decide("customer_service", "cs.reply", &refund(200, 100), false), Decision::Allow);
    let v = denied(p.decide("customer_service", "cs.reply", &refund(250, 60), true));
    assert_eq!(v.rule, "employee.customer_service.max_refund_per_day");
    assert_eq!(v.reason.zh, "今天已退款 ¥250,再退 ¥60 将超过每日退款上限 ¥300");
    let v = denied(p.decide("customer_service", "cs.reply", &refund(0, 120), false));
    assert_eq!(v.rule, "employee.customer_service.max_refund");
    assert_eq!(v.reason.en, "refund ¥120 is above the ¥100 cap");
}

#[test]
fn price_changes_per_product_are_limited_per_day_and_an_unknown_count_is_denied() {
    let text = format!("{BASE}[employee.ops]\nskills = [\"ops.*\"]\nmax_price_changes_per_product_per_day = 3\n");
    let p = policy(&text);
    let counted = |n| Intent { price_changes_today: n, ..price_change(100, 101) };
    assert_eq!(p.decide("ops", "ops.set_price", &counted(Some(2)), false), Decision::Allow);
    let v = denied(p.decide("ops", "ops.set_price", &counted(Some(3)), true));
    assert_eq!(v.rule, "employee.ops.max_price_changes_per_product_per_day");
    assert_eq!(v.reason.zh, "MC-001 今天已改价 3 次,达到每日上限 3 次");
    let v = denied(p.decide("ops", "ops.set_price", &counted(None), false));
    assert!(v.reason.en.contains("unknown"), "{v:?}");
    let zero = format!("{BASE}[employee.ops]\nskills = [\"ops.*\"]\nmax_price_changes_per_product_per_day = 0\n");
    assert!(parse_err(&zero).starts_with("policies/shop.toml:7:"));
}

#[test]
fn a_large_price_change_waits_and_coupons_above_the_cap_are_denied() {
    let p = default_policy();
    let v = waits(p.decide("ops", "ops.set_price", &price_change(100, 140), false));
    assert_eq!(v.rule, "employee.ops.max_price_change_pct");
    assert_eq!(v.reason.en, "MC-001: a price change of 40% is above 30%: the owner approves it");
    assert_eq!(p.decide("ops", "ops.set_price", &price_change(100, 140), true), Decision::Allow);
    let coupon = Intent { coupon_value: Some(Money::from_yuan(60)), ..Intent::default() };
    let v = denied(p.decide("promotions", "promo.create_coupon", &coupon, true));
    assert_eq!(v.rule, "employee.promotions.max_coupon");
    assert_eq!(v.reason.zh, "优惠券面额 ¥60 超过上限 ¥50");
    let v = denied(p.decide("design", "design.banner", &coupon, true));
    assert_eq!(v.rule, "employee.design.max_coupon");
}

#[test]
fn the_margin_floor_judges_the_stacked_price() {
    // List price ¥130 and cost ¥100: a 20% discount is within the cap, but the price the
    // customer pays, ¥104, is below cost + 10%.
    let stacked = Money::from_yuan(130).less_pct(Pct::whole(20)).unwrap();
    let line = PriceLine { sku: "MC-001".into(), cost: Money::from_yuan(100), price: stacked };
    let intent = Intent { discount: Some(Pct::whole(20)), prices: vec![line], ..Intent::default() };
    let v = denied(default_policy().decide("promotions", "promo.create_discount", &intent, true));
    assert_eq!(v.rule, "shop.min_margin_pct");
    assert!(v.reason.zh.contains("¥104.00") && v.reason.zh.contains("¥110.00"), "{v:?}");
}

#[test]
fn several_broken_rules_name_the_first_and_mention_the_others() {
    let line = PriceLine { sku: "MC-001".into(), cost: Money::from_yuan(100), price: Money::from_yuan(70) };
    let intent = Intent { discount: Some(Pct::whole(30)), prices: vec![line], ..Intent::default() };
    let v = denied(default_policy().decide("promotions", "promo.create_discount", &intent, false));
    assert_eq!(v.rule, "employee.promotions.max_discount_pct");
    assert!(v.reason.zh.starts_with("折扣 30% 超过上限 20%") && v.reason.zh.contains("shop.min_margin_pct"), "{v:?}");
}

#[test]
fn unknown_employees_and_skills_are_denied_by_the_allow_list() {
    let p = default_policy();
    let v = denied(p.decide("intern", "promo.create_discount", &Intent::default(), true));
    assert_eq!(v.rule, "employee.intern.skills");
    let v = denied(p.decide("promotions", "promo.launch_rocket", &Intent::default(), true));
    assert_eq!(v.rule, "employee.promotions.skills");
    assert_eq!(v.reason.en, "promotions is not allowed to use promo.launch_rocket");
}

const HOUSE: &str = r#"// House rules.
@id("house.no_big_refunds")
@reason_zh("退款超过 50 元要先打电话")
@reason_en("call before refunding more than ¥50")
forbid (principal == Employee::"customer_service", action, resource)
when { context.has_refund && context.refund_fen > 5000 };

@id("house.closed_shop")
forbid (principal, action, resource == Shop::"closed");
"#;

#[test]
fn an_integrator_forbid_denies_and_is_named_with_its_reason() {
    let toml = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/default.toml")).unwrap();
    let p = with_rules(&toml, HOUSE).unwrap();
    assert_eq!(p.rule_files, vec![PathBuf::from("policies/house.cedar")]);
    let refund = |yuan| Intent { refund: Some(Money::from_yuan(yuan)), ..Intent::default() };
    assert_eq!(p.decide("customer_service", "cs.reply", &refund(40), false), Decision::Allow);
    let v = denied(p.decide("customer_service", "cs.reply", &refund(80), true));
    assert_eq!(v.rule, "house.no_big_refunds");
    assert_eq!(v.reason.zh, "退款超过 50 元要先打电话");
    assert_eq!(v.reason.en, "call before refunding more than ¥50");
    // The shop is the resource: the second rule binds only the shop named "closed".
    assert_eq!(p.decide("analyst", "analyst.sales_report", &Intent::default(), false), Decision::Allow);
    let rules = vec![(PathBuf::from("policies/house.cedar"), HOUSE.to_string())];
    let closed =
        Policy::parse_with_rules(Path::new("policies/default.toml"), &toml, &catalog(), "closed", &rules).unwrap();
    let v = denied(closed.decide("analyst", "analyst.sales_report", &Intent::default(), false));
    assert_eq!(v.rule, "house.closed_shop");
    assert_eq!(v.reason.en, "forbidden by rule house.closed_shop");
}

#[test]
fn rule_files_beside_the_policy_are_merged_when_loading_a_shop() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(root.join("policies/default.toml"), dir.path().join("default.toml")).unwrap();
    std::fs::write(dir.path().join("house.cedar"), HOUSE).unwrap();
    let p = Policy::load_for_shop(dir.path(), "closed", &catalog()).unwrap();
    assert_eq!(p.shop, "closed");
    assert_eq!(p.rule_files, vec![dir.path().join("house.cedar")]);
    let v = denied(p.decide("ops", "ops.set_price", &price_change(100, 101), false));
    assert_eq!(v.rule, "house.closed_shop");

    std::fs::write(
        dir.path().join("broken.cedar"),
        "@id(\"x\")\nforbid (principal, action, resource)\nwhen { context. };\n",
    )
    .unwrap();
    let err = Policy::load_for_shop(dir.path(), "demo", &catalog()).unwrap_err().to_string();
    let expected = format!("{}:3:", dir.path().join("broken.cedar").display());
    assert!(err.starts_with(&expected), "{err}");
}

#[test]
fn a_cedar_syntax_error_names_file_and_line() {
    let text =
        "// fine so far\n\n@id(\"house.x\")\nforbid (principal, action, resource)\nwhen { context.refund_fen > };\n";
    let err = with_rules(BASE, text).unwrap_err().to_string();
    assert!(err.starts_with("policies/house.cedar:5: Cedar syntax error"), "{err}");
}

#[test]
fn a_rule_that_breaks_the_schema_names_file_line_and_rule() {
    let text = "@id(\"house.ok\")\nforbid (principal, action, resource);\n\n@id(\"house.typo\")\nforbid (principal, action, resource)\nwhen { context.refund_yuan > 10 };\n";
    let err = with_rules(BASE, text).unwrap_err().to_string();
    assert!(err.starts_with("policies/house.cedar:6: rule house.typo:"), "{err}");
    assert!(err.contains("refund_yuan"), "{err}");
    let action = "@id(\"house.fly\")\nforbid (principal, action == Action::\"ops.fly\", resource);\n";
    let err = with_rules(BASE, action).unwrap_err().to_string();
    assert!(err.starts_with("policies/house.cedar:2: rule house.fly:"), "{err}");
}

#[test]
fn integrators_may_only_forbid_and_must_name_their_rules() {
    let permit = "// widen\n@id(\"house.all\")\npermit (principal, action, resource);\n";
    let err = with_rules(BASE, permit).unwrap_err().to_string();
    assert!(err.starts_with("policies/house.cedar:2:") && err.contains("only `forbid`"), "{err}");
    let nameless = "forbid (principal, action, resource);\n";
    let err = with_rules(BASE, nameless).unwrap_err().to_string();
    assert!(err.starts_with("policies/house.cedar:1:") && err.contains("@id"), "{err}");
    let template = "@id(\"t\")\nforbid (principal == ?principal, action, resource);\n";
    let err = with_rules(BASE, template).unwrap_err().to_string();
    assert!(err.contains("templates"), "{err}");
}

#[test]
fn an_evaluation_error_denies() {
    // In a generated permit: the daily refund sum overflows.
    let text =
        format!("{BASE}[employee.customer_service]\nskills = [\"cs.*\"]\nmax_refund = 100\nmax_refund_per_day = 300\n");
    let p = policy(&text);
    let intent =
        Intent { refund: Some(Money::from_yuan(1)), refunded_today: Money::from_fen(i64::MAX), ..Intent::default() };
    let v = denied(p.decide("customer_service", "cs.reply", &intent, true));
    assert_eq!(v.rule, "employee.customer_service.max_refund_per_day");
    assert!(v.reason.en.contains("could not be evaluated") && v.reason.en.contains("overflow"), "{v:?}");

    // In an integrator's forbid that would not match: its error still denies.
    let rule = "@id(\"house.overflow\")\nforbid (principal, action, resource)\nwhen { context.refund_fen * 1000000000000000 < 0 };\n";
    let p = with_rules(&text, rule).unwrap();
    let small = Intent { refund: Some(Money::from_yuan(10)), ..Intent::default() };
    assert_eq!(p.decide("customer_service", "cs.reply", &small, false), Decision::Allow);
    let big = Intent { refund: Some(Money::from_yuan(100)), ..Intent::default() };
    let v = denied(p.decide("customer_service", "cs.reply", &big, false));
    assert_eq!(v.rule, "house.overflow");
    assert!(v.reason.zh.contains("无法求值"), "{v:?}");
}

#[test]
fn grants_change_one_knob_and_leave_the_original_alone() {
    let p = default_policy();
    let deep = Intent { discount: Some(Pct::whole(25)), ..Intent::default() };
    assert!(matches!(p.decide("promotions", "promo.create_discount", &deep, false), Decision::Deny(_)));
    let grant = |knob: &str, value: &str| Change::Grant {
        employee: "promotions".into(),
        knob: knob.into(),
        value: value.into(),
    };
    let wider = p.with_changes(&[grant("max_discount_pct", "30")]).unwrap();
    assert_eq!(wider.decide("promotions", "promo.create_discount", &deep, false), Decision::Allow);
    assert_eq!(wider.changes.len(), 1);
    assert!(matches!(p.decide("promotions", "promo.create_discount", &deep, false), Decision::Deny(_)));

    let staged = p
        .with_changes(&[grant("approval_above_discount_pct", "10"), grant("modes.promo.create_coupon", "never")])
        .unwrap();
    let small = Intent { discount: Some(Pct::whole(12)), ..Intent::default() };
    let v = waits(staged.decide("promotions", "promo.create_discount", &small, false));
    assert_eq!(v.rule, "employee.promotions.approval_above_discount_pct");
    let v = denied(staged.decide("promotions", "promo.create_coupon", &Intent::default(), true));
    assert_eq!(v.rule, "employee.promotions.modes.promo.create_coupon");

    let refunds = p
        .with_changes(&[Change::Grant {
            employee: "customer_service".into(),
            knob: "max_refund".into(),
            value: "200".into(),
        }])
        .unwrap();
    let refund = Intent { refund: Some(Money::from_yuan(150)), ..Intent::default() };
    assert_eq!(refunds.decide("customer_service", "cs.reply", &refund, false), Decision::Allow);

    let err = p.with_changes(&[grant("max_fun", "3")]).unwrap_err().to_string();
    assert!(err.contains("unknown knob `max_fun`") && err.contains("max_refund_per_day"), "{err}");
    let err = p.with_changes(&[grant("max_discount_pct", "120")]).unwrap_err().to_string();
    assert!(err.contains("max_discount_pct = 120 is above 100"), "{err}");
    let err = p.with_changes(&[grant("max_coupon", "lots")]).unwrap_err().to_string();
    assert!(err.contains("is not a number"), "{err}");
    let err = p.with_changes(&[grant("modes.promo.create_coupon", "maybe")]).unwrap_err().to_string();
    assert!(err.contains("auto, approve or never"), "{err}");
    let err = p.with_changes(&[grant("daily_budget", "900")]).unwrap_err().to_string();
    assert!(err.contains("above budget.daily"), "{err}");
    let err = p.with_changes(&[grant("skills", "promo.fly")]).unwrap_err().to_string();
    assert!(err.contains("matches no skill"), "{err}");
    let nobody = Change::Grant { employee: "intern".into(), knob: "max_coupon".into(), value: "1".into() };
    let err = p.with_changes(&[nobody]).unwrap_err().to_string();
    assert!(err.contains("no such employee `intern`"), "{err}");
}

#[test]
fn a_revocation_denies_naming_the_owner_and_a_later_grant_restores_it() {
    let p = default_policy();
    let revoke = Change::Revoke { employee: "promotions".into(), pattern: "promo.create_coupon".into() };
    let r = p.with_changes(std::slice::from_ref(&revoke)).unwrap();
    let coupon = Intent { coupon_value: Some(Money::from_yuan(10)), ..Intent::default() };
    let v = denied(r.decide("promotions", "promo.create_coupon", &coupon, true));
    assert_eq!(v.rule, "employee.promotions.revoked");
    assert_eq!(v.reason.zh, "店主已收回 promotions 使用 promo.create_coupon 的权限");
    assert!(v.reason.en.contains("the owner revoked"), "{v:?}");
    let discount = Intent { discount: Some(Pct::whole(10)), ..Intent::default() };
    assert_eq!(r.decide("promotions", "promo.create_discount", &discount, false), Decision::Allow);

    // Revoking the whole family, then granting one skill back, leaves the rest revoked.
    let all = Change::Revoke { employee: "promotions".into(), pattern: "promo.*".into() };
    let back =
        Change::Grant { employee: "promotions".into(), knob: "skills".into(), value: "promo.create_coupon".into() };
    let r = p.with_changes(&[all, back]).unwrap();
    assert_eq!(r.decide("promotions", "promo.create_coupon", &coupon, false), Decision::Allow);
    let v = denied(r.decide("promotions", "promo.create_discount", &discount, false));
    assert_eq!(v.rule, "employee.promotions.revoked");

    let err = p.with_changes(&[Change::Revoke { employee: "ops".into(), pattern: "nothing.*".into() }]).unwrap_err();
    assert!(err.to_string().contains("matches no skill"), "{err}");
}

#[test]
fn a_pause_denies_one_employee_or_everyone() {
    let p = default_policy();
    let paused = p.with_changes(&[Change::Pause { employee: Some("ops".into()) }]).unwrap();
    let v = denied(paused.decide("ops", "ops.set_price", &price_change(100, 101), true));
    assert_eq!(v.rule, "owner.pause");
    assert_eq!(v.reason.zh, "店主已暂停 ops 的所有操作");
    assert_eq!(paused.decide("analyst", "analyst.sales_report", &Intent::default(), false), Decision::Allow);

    let all = p.with_changes(&[Change::Pause { employee: None }]).unwrap();
    let v = denied(all.decide("analyst", "analyst.sales_report", &Intent::default(), true));
    assert_eq!(v.rule, "owner.pause");
    assert!(v.reason.en.starts_with("paused by the owner"), "{v:?}");
}

#[test]
fn explain_lists_rules_by_id_with_their_cedar_text() {
    let toml = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/default.toml")).unwrap();
    let p = with_rules(&toml, HOUSE)
        .unwrap()
        .with_changes(&[Change::Revoke { employee: "promotions".into(), pattern: "promo.create_coupon".into() }])
        .unwrap();
    let en = p.explain(Some("promotions"), Lang::En);
    for needle in [
        "shop.min_margin_pct",
        "budget.daily",
        "employee.promotions.skills",
        "employee.promotions.max_discount_pct",
        "discounts up to 20%",
        "employee.promotions.revoked",
        "house.no_big_refunds",
        "revoke promotions promo.create_coupon",
        "@id(\"employee.promotions\")",
        "permit (",
        "principal == Employee::\"promotions\"",
        "context.discount_bp <= 2000",
        "forbid (principal == Employee::\"customer_service\", action, resource)",
    ] {
        assert!(en.contains(needle), "missing {needle}:\n{en}");
    }
    assert!(!en.contains("@id(\"employee.ops\")"), "{en}");
    let zh = p.explain(None, Lang::Zh);
    assert!(zh.contains("折扣不超过 20%") && zh.contains("@id(\"employee.ops\")"), "{zh}");
    let nobody = p.explain(Some("intern"), Lang::En);
    assert!(nobody.contains("intern has no rules"), "{nobody}");
}

#[test]
fn the_default_files_validate_with_every_example_switched_on() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let toml = std::fs::read_to_string(root.join("policies/default.toml")).unwrap();
    let on: Vec<String> = toml
        .lines()
        .map(|l| match l.strip_prefix("# ") {
            Some(rest) if rest.contains(" = ") || rest.starts_with("[employee") => rest.to_string(),
            _ => l.to_string(),
        })
        .collect();
    let toml = on.join("\n");
    let cedar = std::fs::read_to_string(root.join("policies/own.cedar")).unwrap();
    let cedar: String = cedar
        .lines()
        .map(|l| match l.strip_prefix("// ") {
            Some(rest) if rest.starts_with('@') || rest.starts_with("forbid") || rest.starts_with("when") => rest,
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let p = with_rules(&toml, &cedar).unwrap();
    assert_eq!(p.employees["ops"].max_price_changes_per_product_per_day, Some(3));
    assert_eq!(p.employees["promotions"].modes["promo.create_coupon"], Mode::Approve);
    assert_eq!(p.timezone, chrono_tz::Asia::Shanghai);
    let v = denied(p.decide(
        "ops",
        "ops.set_price",
        &Intent { price_changes_today: Some(0), ..price_change(100, 160) },
        false,
    ));
    assert_eq!(v.rule, "house.no_deep_cuts_on_ops");
    assert_eq!(v.reason.en, "ops may not move a price by more than 50%");
    // As shipped, the example rules file holds no rule.
    assert!(default_policy().rule_files.iter().any(|f| f.ends_with("own.cedar")));
}

#[test]
fn the_cedar_set_is_compiled_once_and_decisions_are_cheap() {
    let p = default_policy();
    let allow = Intent { discount: Some(Pct::whole(10)), ..Intent::default() };
    let deny = Intent { discount: Some(Pct::whole(30)), ..Intent::default() };
    let n = 10_000;
    let started = std::time::Instant::now();
    for _ in 0..n {
        assert_eq!(p.decide("promotions", "promo.create_discount", &allow, false), Decision::Allow);
    }
    let allowed = started.elapsed();
    let started = std::time::Instant::now();
    for _ in 0..n {
        assert!(matches!(p.decide("promotions", "promo.create_discount", &deny, false), Decision::Deny(_)));
    }
    let denied = started.elapsed();
    println!(
        "{n} decisions: allowed {:?} ({:?} each), denied and explained {:?} ({:?} each)",
        allowed,
        allowed / n,
        denied,
        denied / n
    );
}
