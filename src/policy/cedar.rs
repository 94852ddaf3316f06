//! The owner's knobs as Cedar policies, and the evaluation of one action against them.
//!
//! [`Engine::compile`] turns validated knobs into Cedar text, adds the integrator's
//! `policies/*.cedar` rules, validates everything against a schema generated from the
//! catalog, and keeps the compiled sets; it runs once per [`super::Policy`] value, never per
//! decision. Two sets are kept:
//!
//! - the **main set** decides. Each employee has one `permit` whose scope is its skill
//!   allow-list and whose `when` holds every cap and approval threshold, so a cap that cannot
//!   be evaluated (an overflow, say) makes the permit fail: the gate fails closed. Owner
//!   pauses, revocations, `never` modes and integrator rules are `forbid`s.
//! - the **check set** only explains. It holds, per rule, a `permit` of the negated condition
//!   under the rule's `@id`, so after a denial one more evaluation names the rules that
//!   failed. The verdict itself always comes from the main set.
//!
//! Any evaluation error, in any policy, denies. Nothing here reads the store or prompt text.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use cedar_policy::{
    Authorizer, Context, Decision as CedarDecision, Effect, Entities, EntityId, EntityTypeName, EntityUid,
    Policy as CedarPolicy, PolicyId, PolicySet, Request, RestrictedExpression, Schema, ValidationMode, Validator,
};
use miette::Diagnostic;

use crate::error::{FileError, Result, line_of};
use crate::lang::Text;
use crate::money::{Money, Pct};

use super::checks::{Check, Forbid, action_list, quote, skills_reason};
use super::{Budget, Decision, EmployeeRules, Intent, Mode, Verdict};

/// An integrator's rules file, kept as text so a changed policy can be compiled again.
#[derive(Debug, Clone)]
pub(crate) struct CedarFile {
    pub path: PathBuf,
    pub source: String,
}

/// What a policy is compiled from.
pub(crate) struct Knobs<'a> {
    pub file: &'a Path,
    pub shop: &'a str,
    pub min_margin: Pct,
    pub budget: &'a Budget,
    pub employees: &'a BTreeMap<String, EmployeeRules>,
    pub paused: bool,
    /// Every skill id in the catalog.
    pub skills: &'a [String],
    pub extra: &'a [CedarFile],
}

/// The facts of an intent as the context record Cedar sees: name, Cedar type, meaning.
/// The schema's `Facts` type is generated from this list, and `decide` fills every entry.
pub const FACTS: &[(&str, &str, &str)] = &[
    ("approved", "Bool", "the owner approved this exact action"),
    ("has_discount", "Bool", "the action takes a percentage off"),
    ("discount_bp", "Long", "percent off, in basis points (20% = 2000)"),
    ("has_prices", "Bool", "the action sets selling prices"),
    ("lowest_price_fen", "Long", "the lowest final selling price, in fen"),
    ("lowest_margin_bp", "Long", "the lowest margin over cost among those prices, in basis points, rounded down"),
    ("has_price_change", "Bool", "the action changes a list price"),
    ("price_change_bp", "Long", "the size of that change, in basis points of the old price"),
    ("has_price_changes_today", "Bool", "the skill counted today's price changes of the product"),
    ("price_changes_today", "Long", "price changes of the product already made today"),
    ("has_coupon", "Bool", "the action issues a coupon"),
    ("coupon_fen", "Long", "its face value, in fen"),
    ("banned_words", "Long", "how many banned absolute words the shop text of the action uses"),
    ("has_campaign", "Bool", "the action creates an ad campaign"),
    ("campaign_fen", "Long", "that campaign's total budget, in fen"),
    ("has_refund", "Bool", "the action pays money back to a customer"),
    ("refund_fen", "Long", "the refund, in fen"),
    ("has_refundable", "Bool", "the skill read what is left to refund on the order"),
    ("refundable_fen", "Long", "what is left to refund on the order, in fen"),
    ("refunded_today_fen", "Long", "what this employee already refunded today, in fen"),
    ("has_spend", "Bool", "the action commits budget money"),
    ("spend_total_fen", "Long", "the whole spend, in fen"),
    ("spend_max_day_fen", "Long", "the largest share of the spend on one day, in fen"),
];

enum Meaning {
    Permit { employee: String },
    Forbid(Forbid),
    Check(Check),
}

struct Entry {
    meaning: Meaning,
    /// The Cedar text, as generated or as the integrator wrote it.
    text: String,
    /// Where an integrator's rule came from: file and 1-based line.
    origin: Option<(PathBuf, usize)>,
}

impl Entry {
    fn rule(&self) -> String {
        match &self.meaning {
            Meaning::Permit { employee } => format!("employee.{employee}"),
            Meaning::Forbid(f) => f.rule(),
            Meaning::Check(c) => c.rule(),
        }
    }
}

/// A compiled policy: the Cedar sets and what each of their policies stands for.
pub(crate) struct Engine {
    main: PolicySet,
    checks: PolicySet,
    entries: HashMap<PolicyId, usize>,
    listing: Vec<Entry>,
    schema: String,
    authorizer: Authorizer,
    entities: Entities,
    employee_type: EntityTypeName,
    action_type: EntityTypeName,
    shop: EntityUid,
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("policies", &self.main.num_of_policies())
            .field("checks", &self.checks.num_of_policies())
            .finish_non_exhaustive()
    }
}

/// A rule that stopped an action, before one is picked to name the decision.
struct Cause {
    order: (u8, usize),
    deny: bool,
    rule: String,
    reason: Text,
}

/// The conditions every employee's actions meet, whoever acts.
pub(crate) fn shop_checks(min_margin: Pct, budget: &Budget) -> Vec<Check> {
    let mut checks = vec![
        Check::MinMargin { min: min_margin },
        Check::Refundable,
        Check::BannedWords,
        Check::DailyBudget { daily: budget.daily },
    ];
    if let Some(max) = budget.max_campaign {
        checks.push(Check::CampaignBudget { max });
    }
    if let Some(above) = budget.approval_above {
        checks.push(Check::ApproveSpend { above });
    }
    checks
}

/// One employee's rules, the allow-list first. `skills` is every skill id in the catalog.
pub(crate) fn employee_checks(employee: &str, rules: &EmployeeRules, skills: &[String]) -> Vec<Check> {
    let e = employee.to_string();
    let mut checks = vec![
        Check::Skills {
            employee: e.clone(),
            patterns: rules.skills.iter().map(|p| p.as_str().to_string()).collect(),
            skills: allowed_skills(rules, skills),
        },
        Check::MaxDiscount { employee: e.clone(), max: rules.max_discount },
        Check::MaxCoupon { employee: e.clone(), max: rules.max_coupon },
        Check::MaxRefund { employee: e.clone(), max: rules.max_refund },
    ];
    if let Some(max) = rules.max_refund_per_day {
        checks.push(Check::MaxRefundPerDay { employee: e.clone(), max });
    }
    if let Some(max) = rules.daily_budget {
        checks.push(Check::EmployeeDailyBudget { employee: e.clone(), max });
    }
    if let Some(max) = rules.max_price_changes_per_product_per_day {
        checks.push(Check::PriceChangesPerDay { employee: e.clone(), max });
    }
    if let Some(above) = rules.approval_above_discount {
        checks.push(Check::ApproveDiscount { employee: e.clone(), above });
    }
    if let Some(max) = rules.max_price_change {
        checks.push(Check::ApprovePriceChange { employee: e.clone(), max });
    }
    for (skill, mode) in &rules.modes {
        if *mode == Mode::Approve {
            checks.push(Check::ApproveMode { employee: e.clone(), skill: skill.clone() });
        }
    }
    checks
}

/// The owner's forbids for one employee, in the order they name a decision.
pub(crate) fn employee_forbids(employee: &str, rules: &EmployeeRules, skills: &[String]) -> Vec<Forbid> {
    let mut forbids = Vec::new();
    if rules.paused {
        forbids.push(Forbid::Pause { employee: Some(employee.to_string()) });
    }
    for pattern in &rules.revoked {
        let matched: Vec<String> = skills.iter().filter(|s| pattern.matches(s)).cloned().collect();
        forbids.push(Forbid::Revoked {
            employee: employee.to_string(),
            pattern: pattern.as_str().to_string(),
            skills: matched,
        });
    }
    for (skill, mode) in &rules.modes {
        if *mode == Mode::Never {
            forbids.push(Forbid::Never { employee: employee.to_string(), skill: skill.clone() });
        }
    }
    forbids
}

/// The catalog skills an employee's allow-list matches.
pub(crate) fn allowed_skills(rules: &EmployeeRules, skills: &[String]) -> Vec<String> {
    skills.iter().filter(|s| rules.skills.iter().any(|p| p.matches(s))).cloned().collect()
}

/// The Cedar schema of the gate: who acts, on what, with which facts.
pub(crate) fn schema_text(skills: &[String]) -> String {
    let mut out =
        String::from("// Generated from the catalog: one action per skill.\nentity Employee;\nentity Shop;\n");
    out.push_str("type Facts = {\n");
    for (name, ty, meaning) in FACTS {
        out.push_str(&format!("  {name}: {ty}, // {meaning}\n"));
    }
    out.push_str("};\n");
    for skill in skills {
        out.push_str(&format!(
            "action {} appliesTo {{ principal: [Employee], resource: [Shop], context: Facts }};\n",
            quote(skill)
        ));
    }
    out
}

fn principal_scope(employee: Option<&str>) -> String {
    match employee {
        Some(e) => format!("principal == Employee::{}", quote(e)),
        None => "principal".into(),
    }
}

fn forbid_text(forbid: &Forbid) -> String {
    let action = match forbid {
        Forbid::Revoked { skills, .. } if !skills.is_empty() => format!("action in {}", action_list(skills)),
        Forbid::Never { skill, .. } => format!("action == Action::{}", quote(skill)),
        _ => "action".into(),
    };
    format!("@id({})\nforbid ({}, {action}, resource);", quote(&forbid.rule()), principal_scope(forbid.employee()))
}

fn permit_text(employee: &str, skills: &[String], checks: &[&Check]) -> String {
    let mut text = format!(
        "@id({})\npermit (\n  {},\n  action in {},\n  resource\n)",
        quote(&format!("employee.{employee}")),
        principal_scope(Some(employee)),
        action_list(skills)
    );
    let conditions: Vec<String> = checks.iter().map(|c| format!("  // {}\n  ({})", c.rule(), c.holds())).collect();
    if !conditions.is_empty() {
        text.push_str(&format!("\nwhen {{\n{}\n}}", conditions.join(" &&\n")));
    }
    text.push(';');
    text
}

fn check_text(check: &Check) -> String {
    format!(
        "@id({})\npermit ({}, action, resource)\nwhen {{ !({}) }};",
        quote(&check.rule()),
        principal_scope(check.employee()),
        check.holds()
    )
}

/// The message of a Cedar diagnostic, with its help when it has one, without Cedar's
/// internal policy id.
fn message_of(err: &dyn Diagnostic, policy: Option<&PolicyId>) -> String {
    let mut message = err.to_string();
    if let Some(id) = policy {
        message = message.replace(&format!("for policy `{id}`, "), "");
    }
    if let Some(help) = err.help() {
        message = format!("{message} ({help})");
    }
    message
}

fn first_label(err: &dyn Diagnostic) -> Option<usize> {
    err.labels().and_then(|mut labels| labels.next()).map(|l| l.offset())
}

impl Engine {
    pub fn compile(k: &Knobs<'_>) -> Result<Engine> {
        let internal = |message: String| -> crate::Error {
            FileError::new(k.file, None, format!("internal error in the generated Cedar rules: {message}")).into()
        };
        let schema = schema_text(k.skills);
        let (cedar_schema, _warnings) = Schema::from_cedarschema_str(&schema).map_err(|e| internal(e.to_string()))?;

        let mut engine = Engine {
            main: PolicySet::new(),
            checks: PolicySet::new(),
            entries: HashMap::new(),
            listing: Vec::new(),
            schema,
            authorizer: Authorizer::new(),
            entities: Entities::empty(),
            employee_type: EntityTypeName::from_str("Employee").map_err(|e| internal(e.to_string()))?,
            action_type: EntityTypeName::from_str("Action").map_err(|e| internal(e.to_string()))?,
            shop: EntityUid::from_type_name_and_id(
                EntityTypeName::from_str("Shop").map_err(|e| internal(e.to_string()))?,
                EntityId::new(k.shop),
            ),
        };

        // Forbids first: their order in the listing is the order in which they name a denial.
        if k.paused {
            engine.add_generated(Meaning::Forbid(Forbid::Pause { employee: None }), true, k.file)?;
        }
        for (employee, rules) in k.employees {
            for forbid in employee_forbids(employee, rules, k.skills) {
                if matches!(&forbid, Forbid::Revoked { skills, .. } if skills.is_empty()) {
                    continue; // It matches no skill, so there is nothing to forbid.
                }
                engine.add_generated(Meaning::Forbid(forbid), true, k.file)?;
            }
        }
        let shop = shop_checks(k.min_margin, k.budget);
        for (employee, rules) in k.employees {
            let own = employee_checks(employee, rules, k.skills);
            let allowed = allowed_skills(rules, k.skills);
            if !allowed.is_empty() {
                let mut conditions: Vec<&Check> =
                    shop.iter().chain(own.iter()).filter(|c| !matches!(c, Check::Skills { .. })).collect();
                conditions.sort_by_key(|c| c.rank());
                let text = permit_text(employee, &allowed, &conditions);
                engine.add_text(Meaning::Permit { employee: employee.clone() }, text, true, k.file)?;
            }
            for check in own {
                engine.add_generated(Meaning::Check(check), false, k.file)?;
            }
        }
        for check in shop {
            engine.add_generated(Meaning::Check(check), false, k.file)?;
        }
        for file in k.extra {
            engine.add_file(file)?;
        }
        engine.validate(cedar_schema, k)?;
        Ok(engine)
    }

    fn add_generated(&mut self, meaning: Meaning, main: bool, file: &Path) -> Result<()> {
        let text = match &meaning {
            Meaning::Forbid(f) => forbid_text(f),
            Meaning::Check(c) => check_text(c),
            Meaning::Permit { .. } => String::new(),
        };
        self.add_text(meaning, text, main, file)
    }

    fn add_text(&mut self, meaning: Meaning, text: String, main: bool, file: &Path) -> Result<()> {
        let id = PolicyId::new(format!("g{}", self.listing.len()));
        let policy = CedarPolicy::parse(Some(id.clone()), &text).map_err(|e| {
            FileError::new(file, None, format!("internal error in the generated Cedar rule: {e}\n{text}"))
        })?;
        let set = if main { &mut self.main } else { &mut self.checks };
        set.add(policy).map_err(|e| FileError::new(file, None, format!("internal error: {e}")))?;
        self.entries.insert(id, self.listing.len());
        self.listing.push(Entry { meaning, text, origin: None });
        Ok(())
    }

    /// Adds an integrator's rules: static `forbid` rules, each named by `@id`.
    fn add_file(&mut self, file: &CedarFile) -> Result<()> {
        let at = |offset: usize, message: String| -> crate::Error {
            FileError::new(&file.path, Some(line_of(&file.source, offset)), message).into()
        };
        let parsed = PolicySet::from_str(&file.source).map_err(|errs| {
            let first = errs.iter().next();
            let offset = first.and_then(|e| first_label(e)).unwrap_or(0);
            let message = first.map(|e| message_of(e, None)).unwrap_or_else(|| errs.to_string());
            at(offset, format!("Cedar syntax error: {message}"))
        })?;
        if let Some(template) = parsed.templates().next() {
            let offset = file.source.find(&template.to_string()).unwrap_or(0);
            return Err(at(
                offset,
                "templates (`?principal`, `?resource`) are not supported here; write a plain `forbid` rule".into(),
            ));
        }
        for policy in parsed.policies() {
            let text = policy.to_string();
            let offset = file.source.find(&text).unwrap_or(0);
            if policy.effect() != Effect::Forbid {
                return Err(at(
                    offset,
                    "only `forbid` rules may be added here: a `permit` would go around the owner's caps (grant skills in the policy TOML instead)".into(),
                ));
            }
            let Some(rule) = policy.annotation("id").map(str::to_string) else {
                return Err(at(offset, "this rule needs an @id(\"...\") annotation: a denial names it".into()));
            };
            let reason =
                match (policy.annotation("reason"), policy.annotation("reason_zh"), policy.annotation("reason_en")) {
                    (None, None, None) => None,
                    (both, zh, en) => {
                        let fallback = both.or(en).or(zh).unwrap_or_default();
                        Some(Text::new(zh.unwrap_or(fallback), en.unwrap_or(fallback)))
                    }
                };
            let id = PolicyId::new(format!("x{}", self.listing.len()));
            self.main.add(policy.new_id(id.clone())).map_err(|e| at(offset, e.to_string()))?;
            self.entries.insert(id, self.listing.len());
            self.listing.push(Entry {
                meaning: Meaning::Forbid(Forbid::Integrator { id: rule, reason }),
                text,
                origin: Some((file.path.clone(), line_of(&file.source, offset))),
            });
        }
        Ok(())
    }

    /// Every policy, generated or written by an integrator, must type-check against the
    /// schema; an integrator's error names its file and line.
    fn validate(&self, schema: Schema, k: &Knobs<'_>) -> Result<()> {
        let validator = Validator::new(schema);
        for set in [&self.main, &self.checks] {
            let result = validator.validate(set, ValidationMode::Strict);
            let Some(err) = result.validation_errors().next() else { continue };
            let entry = self.entries.get(err.policy_id()).and_then(|i| self.listing.get(*i));
            let message = message_of(err, Some(err.policy_id()));
            let Some(entry) = entry else {
                return Err(FileError::new(k.file, None, message).into());
            };
            let Some((path, line)) = &entry.origin else {
                return Err(FileError::new(
                    k.file,
                    None,
                    format!("internal error: the generated rule {} does not validate: {message}", entry.rule()),
                )
                .into());
            };
            let source = k.extra.iter().find(|f| &f.path == path).map(|f| f.source.as_str()).unwrap_or_default();
            let line = first_label(err).map(|offset| line_of(source, offset)).unwrap_or(*line);
            return Err(FileError::new(path, Some(line), format!("rule {}: {message}", entry.rule())).into());
        }
        Ok(())
    }

    /// The generated Cedar schema.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// The deciding policies that concern `employee` (all of them for `None`): rule id and
    /// Cedar text, in the order they are listed.
    pub fn policies_for(&self, employee: Option<&str>) -> Vec<(String, &str)> {
        self.listing
            .iter()
            .filter(|e| match (&e.meaning, employee) {
                (Meaning::Check(_), _) => false,
                (_, None) => true,
                (Meaning::Permit { employee: owner }, Some(who)) => owner == who,
                (Meaning::Forbid(f), Some(who)) => f.employee().is_none_or(|e| e == who),
            })
            .map(|e| (e.rule(), e.text.as_str()))
            .collect()
    }

    /// The integrators' rules, with file and line.
    pub fn integrator_rules(&self) -> Vec<(&Forbid, &Path, usize)> {
        self.listing
            .iter()
            .filter_map(|e| match (&e.meaning, &e.origin) {
                (Meaning::Forbid(f), Some((path, line))) => Some((f, path.as_path(), *line)),
                _ => None,
            })
            .collect()
    }

    fn request(&self, employee: &str, skill: &str, intent: &Intent, approved: bool) -> Option<Request> {
        let context = Context::from_pairs(facts(intent, approved)).ok()?;
        let principal = EntityUid::from_type_name_and_id(self.employee_type.clone(), EntityId::new(employee));
        let action = EntityUid::from_type_name_and_id(self.action_type.clone(), EntityId::new(skill));
        // No request validation against the schema: a skill the catalog does not know simply
        // matches no permit, and is denied like any skill outside the allow-list.
        Request::new(principal, action, self.shop.clone(), context, None).ok()
    }

    fn entry(&self, id: &PolicyId) -> Option<(usize, &Entry)> {
        self.entries.get(id).and_then(|i| self.listing.get(*i).map(|e| (*i, e)))
    }

    pub fn decide(&self, employee: &str, skill: &str, intent: &Intent, approved: bool) -> Decision {
        let Some(request) = self.request(employee, skill, intent, approved) else {
            return Decision::deny(
                "policy.error",
                "无法构造权限检查请求,为安全起见拒绝",
                "the permission check could not be set up; denied to be safe",
            );
        };
        let main = self.authorizer.is_authorized(&request, &self.main, &self.entities);
        let errors: Vec<_> = main.diagnostics().errors().collect();
        if main.decision() == CedarDecision::Allow && errors.is_empty() {
            return Decision::Allow;
        }
        let errored = |rule: String, message: String| -> Text {
            Text::new(
                format!("规则 {rule} 无法求值({message}),为安全起见拒绝"),
                format!("rule {rule} could not be evaluated ({message}); denied to be safe"),
            )
        };

        let mut causes = Vec::new();
        for id in main.diagnostics().reason() {
            if let Some((index, Entry { meaning: Meaning::Forbid(f), .. })) = self.entry(id) {
                causes.push(Cause { order: (0, index), deny: true, rule: f.rule(), reason: f.reason(employee, skill) });
            }
        }
        let mut permit_error = None;
        for err in &errors {
            let cedar_policy::AuthorizationError::PolicyEvaluationError(err) = err;
            let message = err.inner().to_string();
            match self.entry(err.policy_id()) {
                Some((index, entry @ Entry { meaning: Meaning::Forbid(_), .. })) => {
                    let rule = entry.rule();
                    causes.push(Cause { order: (0, index), deny: true, reason: errored(rule.clone(), message), rule });
                }
                Some((_, entry)) => permit_error = Some((entry.rule(), message)),
                None => permit_error = Some(("policy.error".into(), message)),
            }
        }

        // Which of the owner's rules failed: one evaluation of the check set.
        let checks = self.authorizer.is_authorized(&request, &self.checks, &self.entities);
        for id in checks.diagnostics().reason() {
            if let Some((_, Entry { meaning: Meaning::Check(c), .. })) = self.entry(id) {
                causes.push(Cause {
                    order: (1, usize::from(c.rank())),
                    deny: !c.needs_approval(),
                    rule: c.rule(),
                    reason: c.reason(employee, skill, intent),
                });
            }
        }
        for err in checks.diagnostics().errors() {
            let cedar_policy::AuthorizationError::PolicyEvaluationError(err) = err;
            if let Some((_, Entry { meaning: Meaning::Check(c), .. })) = self.entry(err.policy_id()) {
                let rule = c.rule();
                causes.push(Cause {
                    order: (1, usize::from(c.rank())),
                    deny: true,
                    reason: errored(rule.clone(), err.inner().to_string()),
                    rule,
                });
            }
        }

        // Deny beats approval; the other rules of the same kind are mentioned after the reason.
        causes.sort_by_key(|c| (!c.deny, c.order));
        let deny = causes.first().is_some_and(|c| c.deny);
        let mut rules: Vec<String> = Vec::new();
        for c in causes.iter().filter(|c| c.deny == deny) {
            if !rules.contains(&c.rule) {
                rules.push(c.rule.clone());
            }
        }
        let Some(first) = causes.into_iter().next() else {
            return match permit_error {
                Some((rule, message)) => Decision::Deny(Verdict { reason: errored(rule.clone(), message), rule }),
                None => {
                    let reason = skills_reason(employee, skill);
                    Decision::Deny(Verdict { rule: format!("employee.{employee}.skills"), reason })
                }
            };
        };
        let mut reason = first.reason;
        let others: Vec<&str> = rules.iter().filter(|r| **r != first.rule).map(String::as_str).collect();
        if !others.is_empty() {
            reason.zh.push_str(&format!("(另涉及:{})", others.join(", ")));
            reason.en.push_str(&format!(" (also: {})", others.join(", ")));
        }
        let verdict = Verdict { rule: first.rule, reason };
        if first.deny { Decision::Deny(verdict) } else { Decision::NeedsApproval(verdict) }
    }
}

/// The context record of one request. Every attribute of [`FACTS`] is present.
fn facts(intent: &Intent, approved: bool) -> Vec<(String, RestrictedExpression)> {
    let clamp = |v: i128| i64::try_from(v.clamp(i128::from(i64::MIN), i128::from(i64::MAX))).unwrap_or(i64::MAX);
    let lowest_price = intent.prices.iter().map(|l| l.price.fen()).min().unwrap_or(0);
    let lowest_margin = intent.prices.iter().map(|l| margin_bp(l.price, l.cost)).min().unwrap_or(i64::MAX);
    let (spend_total, spend_max_day) = match &intent.spend {
        Some(s) => (
            clamp(s.days.iter().map(|(_, m)| i128::from(m.fen())).sum()),
            s.days.iter().map(|(_, m)| m.fen()).max().unwrap_or(0),
        ),
        None => (0, 0),
    };
    let fen = |m: Option<Money>| m.map(Money::fen).unwrap_or(0);
    let pairs: [(&str, RestrictedExpression); 23] = [
        ("approved", RestrictedExpression::new_bool(approved)),
        ("has_discount", RestrictedExpression::new_bool(intent.discount.is_some())),
        ("discount_bp", RestrictedExpression::new_long(intent.discount.map(Pct::bp).unwrap_or(0))),
        ("has_prices", RestrictedExpression::new_bool(!intent.prices.is_empty())),
        ("lowest_price_fen", RestrictedExpression::new_long(lowest_price)),
        ("lowest_margin_bp", RestrictedExpression::new_long(lowest_margin)),
        ("has_price_change", RestrictedExpression::new_bool(intent.price_change.is_some())),
        (
            "price_change_bp",
            RestrictedExpression::new_long(intent.price_change.as_ref().map(|c| c.change_bp()).unwrap_or(0)),
        ),
        ("has_price_changes_today", RestrictedExpression::new_bool(intent.price_changes_today.is_some())),
        ("price_changes_today", RestrictedExpression::new_long(intent.price_changes_today.map(i64::from).unwrap_or(0))),
        ("has_coupon", RestrictedExpression::new_bool(intent.coupon_value.is_some())),
        ("coupon_fen", RestrictedExpression::new_long(fen(intent.coupon_value))),
        ("banned_words", RestrictedExpression::new_long(i64::try_from(intent.banned_words.len()).unwrap_or(i64::MAX))),
        ("has_campaign", RestrictedExpression::new_bool(intent.campaign_budget.is_some())),
        ("campaign_fen", RestrictedExpression::new_long(fen(intent.campaign_budget))),
        ("has_refund", RestrictedExpression::new_bool(intent.refund.is_some())),
        ("refund_fen", RestrictedExpression::new_long(fen(intent.refund))),
        ("has_refundable", RestrictedExpression::new_bool(intent.refundable.is_some())),
        ("refundable_fen", RestrictedExpression::new_long(fen(intent.refundable))),
        ("refunded_today_fen", RestrictedExpression::new_long(intent.refunded_today.fen())),
        ("has_spend", RestrictedExpression::new_bool(intent.spend.is_some())),
        ("spend_total_fen", RestrictedExpression::new_long(spend_total)),
        ("spend_max_day_fen", RestrictedExpression::new_long(spend_max_day)),
    ];
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// The margin of `price` over `cost` in basis points of the cost, rounded down, so that
/// `margin_bp(p, c) >= m` exactly when `p >= c × (1 + m)` for a whole number `m` of basis
/// points. A cost of zero or less leaves any price above the floor.
fn margin_bp(price: Money, cost: Money) -> i64 {
    if cost.fen() <= 0 {
        return i64::MAX;
    }
    let over = (i128::from(price.fen()) - i128::from(cost.fen())) * 10_000;
    let bp = over.div_euclid(i128::from(cost.fen()));
    i64::try_from(bp.clamp(i128::from(i64::MIN), i128::from(i64::MAX))).unwrap_or(i64::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::meets_margin_floor;

    #[test]
    fn margin_in_basis_points_agrees_with_the_exact_floor() {
        for cost in [1, 3, 7, 99, 3333, 10_000, 123_457] {
            for price in [0, 1, cost - 1, cost, cost + 1, cost * 11 / 10, cost * 11 / 10 + 1, cost * 2] {
                for min in [0, 1, 999, 1000, 1001, 2500] {
                    let (p, c, m) = (Money::from_fen(price), Money::from_fen(cost), Pct::from_bp(min));
                    assert_eq!(margin_bp(p, c) >= min, meets_margin_floor(p, c, m), "{price} {cost} {min}");
                }
            }
        }
    }

    #[test]
    fn every_fact_is_in_the_context() {
        let names: Vec<String> = facts(&Intent::default(), false).into_iter().map(|(k, _)| k).collect();
        let declared: Vec<&str> = FACTS.iter().map(|(n, _, _)| *n).collect();
        assert_eq!(names, declared);
    }
}
