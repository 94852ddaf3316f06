//! The owner's rules and the gate that applies them.
//!
//! A policy file (`policies/default.toml`, or `policies/<shop>.toml` when present) holds
//! merchant-readable knobs. It is parsed once into a validated [`Policy`]; a file that does
//! not validate never gets past [`Policy::load`], and its error names file and line. The
//! knobs are then compiled into Cedar policies (`cedar.rs`), together with the integrator's
//! own `policies/*.cedar` rules, and validated against a schema generated from the catalog.
//!
//! [`Policy::decide`] evaluates the typed facts of one action (an [`Intent`]: percent off,
//! final prices, money to spend) with the Cedar authorizer. It never sees prompt or customer
//! text, so no text can widen a permission; it does not reserve money either: the ledger's
//! atomic update does that. [`Policy::with_changes`] applies the owner's grants, revocations
//! and pauses to produce a new, recompiled policy; it never edits the file.

mod cedar;
mod checks;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono_tz::Tz;
use serde::{Deserialize, Serialize, Serializer};
use toml::Spanned;

use crate::catalog::{Catalog, EffectClass, SkillPattern};
use crate::error::{Error, FileError, Result, line_of};
use crate::lang::{Lang, Text};
use crate::money::{Money, Pct};

use cedar::{CedarFile, Engine, Knobs};

pub use cedar::FACTS;

/// The default minimum margin over cost when a policy file does not set one.
pub const DEFAULT_MIN_MARGIN: Pct = Pct::whole(10);

/// The shop's time zone when a policy file does not set one.
pub const DEFAULT_TIMEZONE: Tz = chrono_tz::Asia::Shanghai;

/// Every per-employee knob, by its TOML name (and the name a grant uses).
pub const KNOBS: &[&str] = &[
    "skills",
    "modes.<skill>",
    "max_discount_pct",
    "approval_above_discount_pct",
    "max_coupon",
    "max_refund",
    "max_refund_per_day",
    "max_price_change_pct",
    "max_price_changes_per_product_per_day",
    "daily_budget",
    "monthly_budget",
];

#[derive(Debug, Clone, Serialize)]
pub struct Policy {
    /// The file it was read from.
    pub file: PathBuf,
    /// The shop it applies to: Cedar sees it as the resource `Shop::"<shop>"`.
    pub shop: String,
    /// The shop's time zone, where its days begin and end (the ledger's days).
    #[serde(serialize_with = "tz_name")]
    pub timezone: Tz,
    /// No selling price below `cost × (1 + min_margin)`.
    pub min_margin: Pct,
    pub budget: Budget,
    pub employees: BTreeMap<String, EmployeeRules>,
    /// The owner paused the whole crew.
    pub paused: bool,
    /// The integrator's rule files merged into this policy.
    pub rule_files: Vec<PathBuf>,
    /// The owner's changes applied on top of the file, in order.
    pub changes: Vec<Change>,
    #[serde(skip)]
    extra: Vec<CedarFile>,
    /// Every skill id in the catalog.
    #[serde(skip)]
    skills: Vec<String>,
    /// Every employee id in the catalog.
    #[serde(skip)]
    known: Vec<String>,
    #[serde(skip)]
    engine: Arc<Engine>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Budget {
    pub daily: Money,
    pub monthly: Money,
    /// A single spend above this waits for the owner.
    pub approval_above: Option<Money>,
    /// No one ad campaign may have a total budget above this.
    pub max_campaign: Option<Money>,
    /// How long a staged action waits for the owner before it expires.
    pub approval_expiry_hours: u32,
}

/// How long a staged action waits for the owner when the policy does not say.
pub const DEFAULT_APPROVAL_EXPIRY_HOURS: u32 = 72;

/// How an employee may use one skill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Within the caps, without asking.
    Auto,
    /// Every use waits for the owner's approval.
    Approve,
    /// Never, whatever the allow-list says.
    Never,
}

impl Mode {
    fn parse(text: &str) -> Option<Mode> {
        match text {
            "auto" => Some(Mode::Auto),
            "approve" => Some(Mode::Approve),
            "never" => Some(Mode::Never),
            _ => None,
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::Auto => "auto",
            Mode::Approve => "approve",
            Mode::Never => "never",
        })
    }
}

/// One employee's permissions. A cap that is not set forbids the effect it would bound:
/// an employee without `max_discount_pct` may not discount at all. The knobs added later
/// (`max_refund_per_day`, `max_price_changes_per_product_per_day`, the employee budgets)
/// only narrow: unset, they add no limit.
#[derive(Debug, Clone, Serialize, Default)]
pub struct EmployeeRules {
    pub skills: Vec<SkillPattern>,
    /// Per-skill modes; a skill without one is `auto`. A mode never grants a skill.
    pub modes: BTreeMap<String, Mode>,
    pub max_discount: Option<Pct>,
    pub approval_above_discount: Option<Pct>,
    pub max_coupon: Option<Money>,
    pub max_refund: Option<Money>,
    /// Refunds by this employee in one shop-local day, this one included.
    pub max_refund_per_day: Option<Money>,
    /// A bigger change of a list price waits for the owner.
    pub max_price_change: Option<Pct>,
    /// Price changes of one product in one shop-local day.
    pub max_price_changes_per_product_per_day: Option<u32>,
    /// This employee's share of the daily budget. The gate checks one action's largest day
    /// against it; the ledger holds the running total.
    pub daily_budget: Option<Money>,
    /// This employee's share of the monthly budget, held by the ledger.
    pub monthly_budget: Option<Money>,
    /// Skills the owner revoked; denied even where `skills` allows them.
    pub revoked: Vec<SkillPattern>,
    /// The owner paused this employee.
    pub paused: bool,
}

/// An owner's change to the policy, stored and versioned elsewhere; [`Policy::with_changes`]
/// applies a list of them in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    /// Sets one knob of one employee, by its TOML name: `max_discount_pct` = `30`,
    /// `skills` = `ops.set_price` (added to the allow-list), `modes.ops.set_price` = `approve`.
    Grant { employee: String, knob: String, value: String },
    /// Takes a skill or pattern away from an employee.
    Revoke { employee: String, pattern: String },
    /// Stops one employee, or everyone (`None`).
    Pause { employee: Option<String> },
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Grant { employee, knob, value } => write!(f, "grant {employee} {knob}={value}"),
            Change::Revoke { employee, pattern } => write!(f, "revoke {employee} {pattern}"),
            Change::Pause { employee: Some(e) } => write!(f, "pause {e}"),
            Change::Pause { employee: None } => write!(f, "pause everyone"),
        }
    }
}

fn tz_name<S: Serializer>(tz: &Tz, serializer: S) -> std::result::Result<S::Ok, S::Error> {
    serializer.serialize_str(tz.name())
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
    timezone: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBudget {
    daily: Spanned<Money>,
    monthly: Spanned<Money>,
    approval_above: Option<Spanned<Money>>,
    max_campaign: Option<Spanned<Money>>,
    approval_expiry_hours: Option<Spanned<u32>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEmployee {
    #[serde(default)]
    skills: Vec<Spanned<String>>,
    /// `[employee.<e>.modes]` with quoted skill ids as keys; unquoted dotted keys nest, and
    /// are joined back.
    #[serde(default)]
    modes: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
    max_discount_pct: Option<Spanned<Pct>>,
    approval_above_discount_pct: Option<Spanned<Pct>>,
    max_coupon: Option<Spanned<Money>>,
    max_refund: Option<Spanned<Money>>,
    max_refund_per_day: Option<Spanned<Money>>,
    max_price_change_pct: Option<Spanned<Pct>>,
    max_price_changes_per_product_per_day: Option<Spanned<u32>>,
    daily_budget: Option<Spanned<Money>>,
    monthly_budget: Option<Spanned<Money>>,
}

/// A policy before it is compiled: what [`Policy::with_changes`] edits.
struct Parts {
    file: PathBuf,
    shop: String,
    timezone: Tz,
    min_margin: Pct,
    budget: Budget,
    employees: BTreeMap<String, EmployeeRules>,
    paused: bool,
    changes: Vec<Change>,
    extra: Vec<CedarFile>,
    skills: Vec<String>,
    known: Vec<String>,
}

impl Parts {
    fn compile(self) -> Result<Policy> {
        let engine = Engine::compile(&Knobs {
            file: &self.file,
            shop: &self.shop,
            min_margin: self.min_margin,
            budget: &self.budget,
            employees: &self.employees,
            paused: self.paused,
            skills: &self.skills,
            extra: &self.extra,
        })?;
        Ok(Policy {
            rule_files: self.extra.iter().map(|f| f.path.clone()).collect(),
            file: self.file,
            shop: self.shop,
            timezone: self.timezone,
            min_margin: self.min_margin,
            budget: self.budget,
            employees: self.employees,
            paused: self.paused,
            changes: self.changes,
            extra: self.extra,
            skills: self.skills,
            known: self.known,
            engine: Arc::new(engine),
        })
    }

    fn known_employee(&self, employee: &str) -> std::result::Result<(), String> {
        if self.known.iter().any(|k| k == employee) {
            Ok(())
        } else {
            Err(format!("no such employee `{employee}` (known: {})", self.known.join(", ")))
        }
    }

    fn apply(&mut self, change: &Change) -> std::result::Result<(), String> {
        match change {
            Change::Grant { employee, knob, value } => {
                self.known_employee(employee)?;
                let rules = self.employees.entry(employee.clone()).or_default();
                grant(rules, knob, value.trim(), &self.skills)?;
                check_employee(employee, rules, &self.budget, &self.skills).map_err(|(_, m)| m)
            }
            Change::Revoke { employee, pattern } => {
                self.known_employee(employee)?;
                let p = SkillPattern::parse(pattern.trim())
                    .ok_or_else(|| format!("`{pattern}` is not a skill id, `prefix.*` or `*`"))?;
                if !self.skills.iter().any(|s| p.matches(s)) {
                    return Err(format!("`{pattern}` matches no skill"));
                }
                let rules = self.employees.entry(employee.clone()).or_default();
                if !rules.revoked.contains(&p) {
                    rules.revoked.push(p);
                }
                Ok(())
            }
            Change::Pause { employee: None } => {
                self.paused = true;
                Ok(())
            }
            Change::Pause { employee: Some(employee) } => {
                self.known_employee(employee)?;
                self.employees.entry(employee.clone()).or_default().paused = true;
                Ok(())
            }
        }
    }
}

fn pct_knob(knob: &str, p: Pct) -> std::result::Result<Pct, String> {
    if p > Pct::whole(100) {
        return Err(format!("{knob} = {} is above 100", p.to_string().trim_end_matches('%')));
    }
    Ok(p)
}

/// Is `skill` a catalog skill this employee's allow-list holds? Modes name exact skills.
fn check_mode(
    employee: &str,
    allow: &[SkillPattern],
    skill: &str,
    skills: &[String],
) -> std::result::Result<(), String> {
    if !skills.iter().any(|s| s == skill) {
        return Err(format!("modes: `{skill}` is not a skill (known: {})", skills.join(", ")));
    }
    if !allow.iter().any(|p| p.matches(skill)) {
        return Err(format!(
            "modes: {employee} may not use `{skill}`; a mode never grants a skill, add it to skills first"
        ));
    }
    Ok(())
}

/// The checks between knobs, shared by the file and the owner's grants: the knob at fault
/// and what is wrong.
fn check_employee(
    employee: &str,
    rules: &EmployeeRules,
    budget: &Budget,
    skills: &[String],
) -> std::result::Result<(), (&'static str, String)> {
    for skill in rules.modes.keys() {
        check_mode(employee, &rules.skills, skill, skills).map_err(|m| ("modes", m))?;
    }
    if rules.max_price_changes_per_product_per_day == Some(0) {
        return Err((
            "max_price_changes_per_product_per_day",
            "max_price_changes_per_product_per_day must be at least 1 (to stop price changes, set the skill's mode to never)"
                .into(),
        ));
    }
    if let Some(daily) = rules.daily_budget {
        if daily > budget.daily {
            return Err((
                "daily_budget",
                format!("daily_budget {} is above budget.daily {}", daily.short_text(), budget.daily.short_text()),
            ));
        }
        if let Some(monthly) = rules.monthly_budget
            && monthly < daily
        {
            return Err(("monthly_budget", "monthly_budget is below daily_budget".into()));
        }
    }
    if let Some(monthly) = rules.monthly_budget
        && monthly > budget.monthly
    {
        return Err((
            "monthly_budget",
            format!("monthly_budget {} is above budget.monthly {}", monthly.short_text(), budget.monthly.short_text()),
        ));
    }
    Ok(())
}

/// Sets one knob from the text of an owner's grant.
fn grant(rules: &mut EmployeeRules, knob: &str, value: &str, skills: &[String]) -> std::result::Result<(), String> {
    let pct = |v: &str| -> std::result::Result<Pct, String> {
        let p = Pct::parse(v).map_err(|e| format!("{knob}: {e}"))?;
        pct_knob(knob, p)
    };
    let money = |v: &str| Money::parse(v).map_err(|e| format!("{knob}: {e}"));
    match knob {
        "skills" => {
            let p = SkillPattern::parse(value)
                .ok_or_else(|| format!("skills: `{value}` is not a skill id, `prefix.*` or `*`"))?;
            if !skills.iter().any(|s| p.matches(s)) {
                return Err(format!("skills: `{value}` matches no skill"));
            }
            // A grant undoes earlier revocations of what it covers; a revocation of a wider
            // pattern keeps the skills the grant does not cover.
            let mut revoked = Vec::new();
            for r in std::mem::take(&mut rules.revoked) {
                let matched: Vec<&String> = skills.iter().filter(|s| r.matches(s)).collect();
                let left: Vec<&String> = matched.iter().copied().filter(|s| !p.matches(s)).collect();
                if left.len() == matched.len() {
                    revoked.push(r);
                } else {
                    revoked.extend(left.into_iter().filter_map(|s| SkillPattern::parse(s)));
                }
            }
            rules.revoked = revoked;
            if !rules.skills.contains(&p) {
                rules.skills.push(p);
            }
        }
        "max_discount_pct" => rules.max_discount = Some(pct(value)?),
        "approval_above_discount_pct" => rules.approval_above_discount = Some(pct(value)?),
        "max_price_change_pct" => rules.max_price_change = Some(pct(value)?),
        "max_coupon" => rules.max_coupon = Some(money(value)?),
        "max_refund" => rules.max_refund = Some(money(value)?),
        "max_refund_per_day" => rules.max_refund_per_day = Some(money(value)?),
        "daily_budget" => rules.daily_budget = Some(money(value)?),
        "monthly_budget" => rules.monthly_budget = Some(money(value)?),
        "max_price_changes_per_product_per_day" => {
            let n = value.parse::<u32>().map_err(|_| format!("{knob}: `{value}` is not a whole number"))?;
            rules.max_price_changes_per_product_per_day = Some(n);
        }
        _ => match knob.strip_prefix("modes.") {
            Some(skill) => {
                let mode =
                    Mode::parse(value).ok_or_else(|| format!("{knob} = `{value}`: expected auto, approve or never"))?;
                rules.modes.insert(skill.to_string(), mode);
            }
            None => return Err(format!("unknown knob `{knob}`; valid knobs: {}", KNOBS.join(", "))),
        },
    }
    Ok(())
}

/// Flattens `modes`: `"ops.set_price" = "approve"` and the nested form TOML makes of an
/// unquoted `ops.set_price = "approve"` both give `ops.set_price`.
fn flatten_modes(
    prefix: &str,
    value: &toml::Value,
    out: &mut Vec<(String, String)>,
) -> std::result::Result<(), String> {
    match value {
        toml::Value::String(s) => {
            out.push((prefix.to_string(), s.clone()));
            Ok(())
        }
        toml::Value::Table(t) => {
            for (k, v) in t {
                flatten_modes(&format!("{prefix}.{k}"), v, out)?;
            }
            Ok(())
        }
        _ => Err(format!("modes.{prefix}: expected \"auto\", \"approve\" or \"never\"")),
    }
}

/// The integrator's rule files in `dir`, by name.
fn read_rule_files(dir: &Path) -> Result<Vec<CedarFile>> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let entries = std::fs::read_dir(dir).map_err(|source| Error::Io { path: dir.to_path_buf(), source })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "cedar") && p.is_file())
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let source = std::fs::read_to_string(&path)
                .map_err(|e| FileError::new(&path, None, format!("cannot read the rules file: {e}")))?;
            Ok(CedarFile { path, source })
        })
        .collect()
}

fn file_stem(path: &Path) -> String {
    path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
}

impl Policy {
    /// The policy for a shop: `policies/<shop>.toml` when it exists, else `policies/default.toml`,
    /// with every `policies/*.cedar` rules file merged in.
    pub fn load_for_shop(dir: &Path, shop: &str, catalog: &Catalog) -> Result<Policy> {
        let own = dir.join(format!("{shop}.toml"));
        let file = if own.exists() { own } else { dir.join("default.toml") };
        let source = std::fs::read_to_string(&file)
            .map_err(|e| FileError::new(&file, None, format!("cannot read the policy file: {e}")))?;
        Policy::build(&file, &source, catalog, shop, read_rule_files(dir)?)
    }

    /// The policy in `file`, with the `*.cedar` rules files beside it. The shop is named
    /// after the file (`default` for `default.toml`); prefer [`Policy::load_for_shop`].
    pub fn load(file: &Path, catalog: &Catalog) -> Result<Policy> {
        let source = std::fs::read_to_string(file)
            .map_err(|e| FileError::new(file, None, format!("cannot read the policy file: {e}")))?;
        let extra = match file.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => read_rule_files(dir)?,
            _ => Vec::new(),
        };
        Policy::build(file, &source, catalog, &file_stem(file), extra)
    }

    /// Parses and validates policy text, without rules files; `file` names it in errors.
    pub fn parse(file: &Path, source: &str, catalog: &Catalog) -> Result<Policy> {
        Policy::build(file, source, catalog, &file_stem(file), Vec::new())
    }

    /// Like [`Policy::parse`], for `shop`, with rules files given as (path, Cedar text).
    pub fn parse_with_rules(
        file: &Path,
        source: &str,
        catalog: &Catalog,
        shop: &str,
        rules: &[(PathBuf, String)],
    ) -> Result<Policy> {
        let extra =
            rules.iter().map(|(path, source)| CedarFile { path: path.clone(), source: source.clone() }).collect();
        Policy::build(file, source, catalog, shop, extra)
    }

    fn build(file: &Path, source: &str, catalog: &Catalog, shop: &str, extra: Vec<CedarFile>) -> Result<Policy> {
        let raw: RawPolicy = toml::from_str(source).map_err(|e| FileError::from_toml(file, source, &e))?;
        let err = |span: Range<usize>, message: String| -> Error {
            FileError::new(file, Some(line_of(source, span.start)), message).into()
        };
        let pct = |field: &str, value: &Spanned<Pct>| -> Result<Pct> {
            pct_knob(field, *value.get_ref()).map_err(|m| err(value.span(), m))
        };
        let skills: Vec<String> = catalog.skills.iter().map(|s| s.id.clone()).collect();
        let min_margin = match &raw.shop.min_margin_pct {
            Some(v) => *v.get_ref(),
            None => DEFAULT_MIN_MARGIN,
        };
        let timezone = match &raw.shop.timezone {
            Some(tz) => tz.get_ref().trim().parse::<Tz>().map_err(|_| {
                err(tz.span(), format!("timezone `{}` is not an IANA time zone such as Asia/Shanghai", tz.get_ref()))
            })?,
            None => DEFAULT_TIMEZONE,
        };
        let budget = Budget {
            daily: *raw.budget.daily.get_ref(),
            monthly: *raw.budget.monthly.get_ref(),
            approval_above: raw.budget.approval_above.as_ref().map(|v| *v.get_ref()),
            max_campaign: raw.budget.max_campaign.as_ref().map(|v| *v.get_ref()),
            approval_expiry_hours: match &raw.budget.approval_expiry_hours {
                Some(h) if *h.get_ref() == 0 || *h.get_ref() > 24 * 90 => {
                    return Err(err(h.span(), "approval_expiry_hours must be between 1 and 2160 (90 days)".into()));
                }
                Some(h) => *h.get_ref(),
                None => DEFAULT_APPROVAL_EXPIRY_HOURS,
            },
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
            let employee = name.get_ref().as_str();
            let mut spans: BTreeMap<&'static str, Range<usize>> = BTreeMap::new();
            let mut allow = Vec::new();
            for s in &e.skills {
                let pattern = SkillPattern::parse(s.get_ref()).ok_or_else(|| {
                    err(s.span(), format!("skills: `{}` is not a skill id, `prefix.*` or `*`", s.get_ref()))
                })?;
                allow.push(pattern);
            }
            let mut modes = BTreeMap::new();
            for (key, value) in &e.modes {
                let mut flat = Vec::new();
                flatten_modes(key.get_ref(), value.get_ref(), &mut flat).map_err(|m| err(key.span(), m))?;
                for (skill, text) in flat {
                    let mode = Mode::parse(&text).ok_or_else(|| {
                        err(value.span(), format!("modes.\"{skill}\" = \"{text}\": expected auto, approve or never"))
                    })?;
                    check_mode(employee, &allow, &skill, &skills).map_err(|m| err(key.span(), m))?;
                    if mode == Mode::Auto && catalog.skill(&skill).is_some_and(|d| d.effect == EffectClass::Draft) {
                        let message = format!(
                            "modes.\"{skill}\" = \"auto\": {skill} drafts a purchase and always waits for the owner"
                        );
                        return Err(err(value.span(), message));
                    }
                    modes.insert(skill, mode);
                }
            }
            // A draft (a purchase order, say) always waits for the owner, unless it is `never`.
            for doc in catalog.skills.iter().filter(|d| d.effect == EffectClass::Draft) {
                if allow.iter().any(|p| p.matches(&doc.id)) {
                    modes.entry(doc.id.clone()).or_insert(Mode::Approve);
                }
            }
            let money = |field: &'static str, v: &Option<Spanned<Money>>, spans: &mut BTreeMap<_, _>| {
                v.as_ref().map(|v| {
                    spans.insert(field, v.span());
                    *v.get_ref()
                })
            };
            let mut pct_opt = |field: &'static str, v: &Option<Spanned<Pct>>| -> Result<Option<Pct>> {
                v.as_ref()
                    .map(|v| {
                        spans.insert(field, v.span());
                        pct(field, v)
                    })
                    .transpose()
            };
            let max_discount = pct_opt("max_discount_pct", &e.max_discount_pct)?;
            let approval_above_discount = pct_opt("approval_above_discount_pct", &e.approval_above_discount_pct)?;
            let max_price_change = pct_opt("max_price_change_pct", &e.max_price_change_pct)?;
            if let Some(v) = &e.max_price_changes_per_product_per_day {
                spans.insert("max_price_changes_per_product_per_day", v.span());
            }
            let rules = EmployeeRules {
                skills: allow,
                modes,
                max_discount,
                approval_above_discount,
                max_coupon: money("max_coupon", &e.max_coupon, &mut spans),
                max_refund: money("max_refund", &e.max_refund, &mut spans),
                max_refund_per_day: money("max_refund_per_day", &e.max_refund_per_day, &mut spans),
                max_price_change,
                max_price_changes_per_product_per_day: e
                    .max_price_changes_per_product_per_day
                    .as_ref()
                    .map(|v| *v.get_ref()),
                daily_budget: money("daily_budget", &e.daily_budget, &mut spans),
                monthly_budget: money("monthly_budget", &e.monthly_budget, &mut spans),
                revoked: Vec::new(),
                paused: false,
            };
            if let Err((knob, message)) = check_employee(employee, &rules, &budget, &skills) {
                let span = spans.get(knob).cloned().unwrap_or_else(|| name.span());
                return Err(err(span, message));
            }
            employees.insert(name.into_inner(), rules);
        }
        Parts {
            file: file.to_path_buf(),
            shop: shop.to_string(),
            timezone,
            min_margin,
            budget,
            employees,
            paused: false,
            changes: Vec::new(),
            extra,
            skills,
            known: catalog.employees.iter().map(|e| e.id.clone()).collect(),
        }
        .compile()
    }

    fn parts(&self) -> Parts {
        Parts {
            file: self.file.clone(),
            shop: self.shop.clone(),
            timezone: self.timezone,
            min_margin: self.min_margin,
            budget: self.budget.clone(),
            employees: self.employees.clone(),
            paused: self.paused,
            changes: self.changes.clone(),
            extra: self.extra.clone(),
            skills: self.skills.clone(),
            known: self.known.clone(),
        }
    }

    /// This policy with the owner's changes applied in order, validated and compiled again.
    /// An unknown employee or knob, or a value a knob does not take, is an error naming the
    /// change; nothing is applied then.
    pub fn with_changes(&self, changes: &[Change]) -> Result<Policy> {
        let mut parts = self.parts();
        for change in changes {
            parts.apply(change).map_err(|m| Error::Invalid(format!("{change}: {m}")))?;
            parts.changes.push(change.clone());
        }
        parts.compile()
    }

    /// The gate. Any rule that denies (a cap, a revocation, a pause, an integrator's
    /// `forbid`, an evaluation error) wins over approval thresholds, so an action that breaks
    /// a cap is denied outright instead of being staged for the owner. `approved` is true when
    /// the owner approved this exact action: it lifts approval thresholds, never caps.
    pub fn decide(&self, employee: &str, skill: &str, intent: &Intent, approved: bool) -> Decision {
        let decision = self.engine.decide(employee, skill, intent, approved);
        if self.employees.contains_key(employee) {
            return decision;
        }
        // An employee the policy does not name has no permit at all: Cedar denies, and the
        // owner reads why as the missing allow-list, not as whichever shop rule also failed.
        let reason = checks::skills_reason(employee, skill);
        Decision::Deny(Verdict { rule: format!("employee.{employee}.skills"), reason })
    }

    /// The Cedar schema the policies are validated against, generated from the catalog.
    /// Integrators write their `.cedar` rules against it.
    pub fn cedar_schema(&self) -> &str {
        self.engine.schema()
    }

    /// The rules in effect, in words (for one employee, or everyone), each with its rule id,
    /// followed by the Cedar text of the policies that decide.
    pub fn explain(&self, employee: Option<&str>, lang: Lang) -> String {
        let t = |zh: &str, en: &str| lang.pick(zh, en).to_string();
        let mut out = String::new();
        let mut line = |text: String, rule: &str| out.push_str(&format!("  - {text}  [{rule}]\n"));
        let mut head = format!(
            "{} {}{} {}{} {}\n",
            t("策略", "Policy"),
            self.file.display(),
            t(",店铺", ", shop"),
            self.shop,
            t(",时区", ", time zone"),
            self.timezone.name()
        );
        head.push_str(&t("店铺规则(约束所有员工):\n", "Shop rules (bind everyone):\n"));
        let mut lines = Vec::new();
        if self.paused {
            lines.push((checks::Forbid::Pause { employee: None }.describe(lang), "owner.pause".to_string()));
        }
        for c in cedar::shop_checks(self.min_margin, &self.budget) {
            lines.push((c.describe(lang), c.rule()));
        }
        lines.push((
            Text::new(
                format!("每月预算 ¥{}(由账本执行)", self.budget.monthly.short_text()),
                format!("monthly budget ¥{} (held by the ledger)", self.budget.monthly.short_text()),
            )
            .get(lang)
            .to_string(),
            "budget.monthly".into(),
        ));
        for (text, rule) in lines {
            line(text, &rule);
        }
        let chosen: Vec<(&String, &EmployeeRules)> = match employee {
            Some(e) => self.employees.iter().filter(|(id, _)| id.as_str() == e).collect(),
            None => self.employees.iter().collect(),
        };
        if let Some(e) = employee
            && chosen.is_empty()
        {
            line(
                Text::new(
                    format!("{e} 在此策略中没有任何规则:所有操作都会被拒绝"),
                    format!("{e} has no rules in this policy: every action is denied"),
                )
                .get(lang)
                .to_string(),
                &format!("employee.{e}.skills"),
            );
        }
        for (id, rules) in chosen {
            out.push_str(&format!("{} {id}:\n", t("员工", "Employee")));
            let mut line = |text: String, rule: String| out.push_str(&format!("  - {text}  [{rule}]\n"));
            for f in cedar::employee_forbids(id, rules, &self.skills) {
                line(f.describe(lang), f.rule());
            }
            for c in cedar::employee_checks(id, rules, &self.skills) {
                line(c.describe(lang), c.rule());
            }
            if let Some(m) = rules.monthly_budget {
                line(
                    Text::new(
                        format!("本人每月花费不超过 ¥{}(由账本执行)", m.short_text()),
                        format!("own spending up to ¥{} a month (held by the ledger)", m.short_text()),
                    )
                    .get(lang)
                    .to_string(),
                    format!("employee.{id}.monthly_budget"),
                );
            }
        }
        let own = self.engine.integrator_rules();
        if !own.is_empty() {
            out.push_str(&t("自定义规则(policies/*.cedar):\n", "Own rules (policies/*.cedar):\n"));
            for (f, path, at) in own {
                out.push_str(&format!("  - {} ({}:{at})  [{}]\n", f.describe(lang), path.display(), f.rule()));
            }
        }
        if !self.changes.is_empty() {
            out.push_str(&t("店主的调整:\n", "Owner's changes:\n"));
            for c in &self.changes {
                out.push_str(&format!("  - {c}\n"));
            }
        }
        out.push_str(&t("Cedar 规则:\n", "Cedar policies:\n"));
        for (_, text) in self.engine.policies_for(employee) {
            out.push_str(text);
            out.push_str("\n\n");
        }
        head.push_str(&out);
        head
    }
}

/// The typed facts of one action that the gate judges. Skills fill it from parsed arguments
/// and store reads; a field left empty means the action has no such effect.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Intent {
    /// Percent off a price.
    pub discount: Option<Pct>,
    /// Every selling price the action would set, with the product's cost. The margin floor
    /// applies to each of these prices as the customer will pay it.
    pub prices: Vec<PriceLine>,
    /// A change of a list price.
    pub price_change: Option<PriceChange>,
    /// The face value of a coupon.
    pub coupon_value: Option<Money>,
    /// The total budget of an ad campaign the action creates.
    pub campaign_budget: Option<Money>,
    /// Banned absolute words found in text the action would show to customers.
    pub banned_words: Vec<String>,
    /// Money paid back to a customer.
    pub refund: Option<Money>,
    /// What is left to refund on the order a refund is for.
    pub refundable: Option<Money>,
    /// What this employee already refunded today (shop-local day), for
    /// `max_refund_per_day`. The skill reads it from the store.
    pub refunded_today: Money,
    /// Price changes already made today (shop-local day) to the product of `price_change`,
    /// for `max_price_changes_per_product_per_day`. When that knob is set, a price change
    /// without this count is denied: the gate cannot tell the limit holds.
    pub price_changes_today: Option<u32>,
    /// Budget money the action commits, by shop-local day.
    pub spend: Option<Spend>,
}

/// One product's selling price after the action. `price` is the **final** unit price, after
/// everything that stacks on it (the list price, running discounts, this action's discount):
/// skills must pass the stacked price, since the margin floor is checked on it alone.
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
