//! Skills: what employees can do, each a Rust type with typed arguments, run through one
//! pipeline that owns the invariants.
//!
//! [`run_step`] opens a write transaction, lets the skill read the store and state its
//! [`Intent`], passes the intent through the policy gate and the ledger ([`Cx::authorize`]),
//! lets the skill write, appends the work-log entry and records the ledger lines, and commits
//! all of it together. A denial, a pending approval or a failure rolls the effect back and is
//! logged on its own. A skill never opens a transaction, never writes before `authorize`, and
//! never decides a permission itself.
//!
//! The [`Registry`] pairs each `skills/*.toml` description with its implementation and
//! refuses to start when one lacks the other.

mod analyst;
mod cs;
mod design;
mod ops;
mod promo;
pub mod scope;
pub mod stack;
pub mod words;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use sqlx::SqliteConnection;

pub use scope::Scope;

use crate::catalog::Catalog;
use crate::clock::stamp;
use crate::error::{Error, Result};
use crate::lang::{Lang, Text};
use crate::ledger::{self, Caps, Spender};
use crate::money::Money;
use crate::perms::Perms;
use crate::policy::{Decision, Intent, Policy, Spend, Verdict};
use crate::store::{self, Db, Shop};
use crate::worklog::{self, Actor, Kind, NewEntry};

/// What a finished skill reports: a one-line summary for the owner, structured details, and
/// the files it produced (relative to the home).
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub summary: Text,
    pub details: serde_json::Value,
    pub files: Vec<String>,
}

impl Outcome {
    pub fn new(summary: Text, details: impl Serialize) -> Outcome {
        Outcome { summary, details: serde_json::to_value(details).unwrap_or_default(), files: Vec::new() }
    }
}

/// Why a skill stopped before its effect.
#[derive(Debug)]
pub enum Halt {
    Denied(Verdict),
    NeedsApproval(Verdict),
    Failed(Error),
}

impl From<Error> for Halt {
    fn from(e: Error) -> Halt {
        Halt::Failed(e)
    }
}

impl From<sqlx::Error> for Halt {
    fn from(e: sqlx::Error) -> Halt {
        Halt::Failed(e.into())
    }
}

/// A skill with typed arguments; its JSON schema comes from `Args`.
#[async_trait]
pub trait TypedSkill: Send + Sync + 'static {
    const ID: &'static str;
    type Args: DeserializeOwned + JsonSchema + Send + Sync;

    /// Reads what it needs, calls [`Cx::authorize`] with its intent, then writes.
    async fn run(&self, cx: &mut Cx<'_>, args: Self::Args) -> Result<Outcome, Halt>;
}

/// The object-safe face of a skill the registry holds.
#[async_trait]
pub trait Skill: Send + Sync {
    fn id(&self) -> &'static str;
    fn schema(&self) -> serde_json::Value;
    /// Checks arguments against the skill's type without running it.
    fn check_args(&self, args: &serde_json::Value) -> Result<()>;
    async fn run_json(&self, cx: &mut Cx<'_>, args: serde_json::Value) -> Result<Outcome, Halt>;
}

fn parse_args<T: DeserializeOwned>(skill: &str, args: &serde_json::Value) -> Result<T> {
    let args = if args.is_null() { serde_json::json!({}) } else { args.clone() };
    serde_json::from_value(args).map_err(|e| Error::BadArgs { skill: skill.to_string(), message: e.to_string() })
}

#[async_trait]
impl<T: TypedSkill> Skill for T {
    fn id(&self) -> &'static str {
        T::ID
    }

    fn schema(&self) -> serde_json::Value {
        serde_json::to_value(schemars::schema_for!(T::Args)).unwrap_or_default()
    }

    fn check_args(&self, args: &serde_json::Value) -> Result<()> {
        parse_args::<T::Args>(T::ID, args).map(|_| ())
    }

    async fn run_json(&self, cx: &mut Cx<'_>, args: serde_json::Value) -> Result<Outcome, Halt> {
        let args = parse_args::<T::Args>(T::ID, &args)?;
        self.run(cx, args).await
    }
}

/// Every skill implementation, by id.
#[derive(Clone)]
pub struct Registry {
    skills: BTreeMap<&'static str, Arc<dyn Skill>>,
}

impl Registry {
    /// The built-in skills.
    pub fn builtin() -> Registry {
        let all: Vec<Arc<dyn Skill>> = vec![
            Arc::new(promo::CreateDiscount),
            Arc::new(promo::CreateCoupon),
            Arc::new(ops::CreateAdCampaign),
            Arc::new(ops::SetPrice),
            Arc::new(design::Banner),
            Arc::new(cs::Reply),
            Arc::new(cs::Refund),
            Arc::new(cs::TagCustomer),
            Arc::new(cs::Compensate),
            Arc::new(promo::FlashSale),
            Arc::new(promo::End),
            Arc::new(promo::JoinCampaign),
            Arc::new(ops::SetListed),
            Arc::new(ops::UpdateListing),
            Arc::new(ops::RestockPlan),
            Arc::new(ops::AdjustAdCampaign),
            Arc::new(design::ListingAudit),
            Arc::new(design::MainImage),
            Arc::new(design::DetailCopy),
            Arc::new(analyst::SalesReport),
            Arc::new(analyst::InventoryForecast),
            Arc::new(analyst::AdRoi),
            Arc::new(analyst::ProductRanking),
            Arc::new(analyst::CustomerSegments),
            Arc::new(analyst::GrowthScore),
            Arc::new(analyst::BusinessPlan),
            Arc::new(cs::Escalate),
        ];
        Registry { skills: all.into_iter().map(|s| (s.id(), s)).collect() }
    }

    /// Adds or replaces a skill (an integrator's own).
    pub fn register(&mut self, skill: Arc<dyn Skill>) {
        self.skills.insert(skill.id(), skill);
    }

    pub fn get(&self, id: &str) -> Option<&Arc<dyn Skill>> {
        self.skills.get(id)
    }

    pub fn ids(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.skills.keys().copied()
    }

    /// Every described skill has an implementation and every implementation a description.
    pub fn check_against(&self, catalog: &Catalog) -> Result<()> {
        for doc in &catalog.skills {
            if !self.skills.contains_key(doc.id.as_str()) {
                return Err(crate::error::FileError::new(
                    &doc.file,
                    None,
                    format!("skill `{}` has no implementation in this build", doc.id),
                )
                .into());
            }
        }
        for id in self.ids() {
            if catalog.skill(id).is_none() {
                return Err(Error::Invalid(format!(
                    "skill `{id}` is implemented but has no description file skills/{id}.toml"
                )));
            }
        }
        Ok(())
    }
}

/// What a running skill may use: the shop, the time, read access to the store, and the gate.
pub struct Cx<'a> {
    pub shop: &'a Shop,
    pub now: DateTime<Utc>,
    /// Today in the shop's time zone.
    pub today: NaiveDate,
    pub lang: Lang,
    pub employee: &'a str,
    /// The home directory; produced files go under `assets/<shop>/` and are named relative to it.
    pub home: &'a Path,
    conn: &'a mut SqliteConnection,
    policy: &'a Policy,
    skill: &'a str,
    /// The action's idempotency key; its ledger lines carry it.
    key: &'a str,
    at: &'a str,
    approved: bool,
    authorized: bool,
    spend: Option<Spend>,
}

impl<'a> Cx<'a> {
    /// The store, to read. Writes go through the handle [`Cx::authorize`] returns.
    pub fn read(&mut self) -> &mut SqliteConnection {
        self.conn
    }

    /// Passes the intent through the gate and reserves its spend in the ledger. On success the
    /// skill may write through the returned connection, in the step's transaction.
    pub async fn authorize(&mut self, intent: Intent) -> Result<&mut SqliteConnection, Halt> {
        match self.policy.decide(self.employee, self.skill, &intent, self.approved) {
            Decision::Allow => {}
            Decision::Deny(v) => return Err(Halt::Denied(v)),
            Decision::NeedsApproval(v) => return Err(Halt::NeedsApproval(v)),
        }
        if let Some(spend) = intent.spend {
            let mut caps = Caps::shop(&self.policy.budget);
            if let Some(rules) = self.policy.employees.get(self.employee) {
                caps.employee_daily = rules.daily_budget;
                caps.employee_monthly = rules.monthly_budget;
            }
            let who = Spender { employee: self.employee, skill: self.skill, key: self.key };
            if let Some(verdict) = ledger::reserve(self.conn, self.shop.id, &caps, &spend, &who, self.at).await? {
                return Err(Halt::Denied(verdict));
            }
            self.spend = Some(spend);
        }
        self.authorized = true;
        Ok(self.conn)
    }

    /// Writes a produced file under `assets/<shop>/` and records it; returns its path relative
    /// to the home. Call only after [`Cx::authorize`].
    pub async fn save_asset(&mut self, kind: &str, title: &str, file_name: &str, bytes: &[u8]) -> Result<String, Halt> {
        if !self.authorized {
            return Err(Halt::Failed(Error::Invalid(format!("{}: asset written before the gate", self.skill))));
        }
        let dir = self.home.join("assets").join(&self.shop.name);
        std::fs::create_dir_all(&dir).map_err(|source| Error::Io { path: dir.clone(), source })?;
        let path = dir.join(file_name);
        std::fs::write(&path, bytes).map_err(|source| Error::Io { path: path.clone(), source })?;
        let relative = PathBuf::from("assets").join(&self.shop.name).join(file_name).to_string_lossy().into_owned();
        let sha = hex::encode(Sha256::digest(bytes));
        sqlx::query(
            "INSERT INTO assets (shop_id, kind, title, path, sha256, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(self.shop.id)
        .bind(kind)
        .bind(title)
        .bind(&relative)
        .bind(&sha)
        .bind(stamp(self.now))
        .execute(&mut *self.conn)
        .await?;
        Ok(relative)
    }
}

/// One skill call to run.
#[derive(Debug, Clone, Serialize)]
pub struct StepRequest {
    pub employee: String,
    pub skill: String,
    pub args: serde_json::Value,
    pub actor: Actor,
    pub plan_id: Option<i64>,
    pub task_id: Option<String>,
    /// Set when the owner approved this exact action.
    pub approval: Option<i64>,
    /// The idempotency key: an action whose key already took effect is not run again.
    /// `None` for a one-off action.
    pub key: Option<String>,
}

impl StepRequest {
    /// The key a plan's task runs under, whether it runs in the plan or after an approval.
    pub fn plan_key(plan_id: i64, task_id: &str) -> String {
        format!("plan/{plan_id}/{task_id}")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Done,
    Denied,
    Pending,
    Failed,
}

/// How a step ended, as the owner sees it.
#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    pub employee: String,
    pub skill: String,
    pub task_id: Option<String>,
    pub status: StepStatus,
    pub summary: String,
    /// The rule that decided, for denials and pending approvals.
    pub rule: Option<String>,
    pub details: serde_json::Value,
    pub files: Vec<String>,
    pub amount: Option<Money>,
    pub approval_id: Option<i64>,
    pub log_seq: i64,
}

/// The shared things a step needs.
pub struct Env<'a> {
    pub db: &'a Db,
    pub shop: &'a Shop,
    /// The policy file plus the owner's changes, read afresh at every step.
    pub perms: &'a Perms,
    pub registry: &'a Registry,
    pub home: &'a Path,
    pub now: DateTime<Utc>,
    pub lang: Lang,
}

/// The digest an approval is bound to: employee, skill and canonical arguments.
/// The same arguments written with their keys in another order have the same digest.
pub fn action_digest(employee: &str, skill: &str, args: &serde_json::Value) -> String {
    let mut h = Sha256::new();
    h.update(employee.as_bytes());
    h.update([0]);
    h.update(skill.as_bytes());
    h.update([0]);
    h.update(sorted_keys(args).to_string().as_bytes());
    hex::encode(h.finalize())
}

/// `value` with the keys of every object in sorted order, whatever order it was built in.
fn sorted_keys(value: &serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            let sorted: BTreeMap<&String, serde_json::Value> = map.iter().map(|(k, v)| (k, sorted_keys(v))).collect();
            serde_json::Value::Object(sorted.into_iter().map(|(k, v)| (k.clone(), v)).collect())
        }
        serde_json::Value::Array(items) => serde_json::Value::Array(items.iter().map(sorted_keys).collect()),
        other => other.clone(),
    }
}

/// Runs one skill call through gate, ledger, effect and log; see the module docs.
pub async fn run_step(env: &Env<'_>, req: &StepRequest) -> Result<StepReport> {
    let skill = env.registry.get(&req.skill).ok_or_else(|| Error::UnknownSkill(req.skill.clone()))?;
    let at = stamp(env.now);
    let key = req.key.clone().unwrap_or_else(|| one_off_key(&at, req));
    let mut tx = store::begin(env.db).await?;
    // The policy in force now, read under the write lock: a revocation made a moment ago
    // applies to this step, even inside a plan that started before it.
    let effective = env.perms.effective(&mut tx, env.shop.id, env.now).await?;
    if req.key.is_some()
        && let Some(done) = already_done(&mut tx, env.shop.id, &key).await?
    {
        tx.rollback().await?;
        return replayed(env, req, &key, done).await;
    }
    let mut cx = Cx {
        shop: env.shop,
        now: env.now,
        today: crate::clock::local_date(env.shop.timezone, env.now),
        lang: env.lang,
        employee: &req.employee,
        home: env.home,
        conn: &mut tx,
        policy: &effective.policy,
        skill: &req.skill,
        key: &key,
        at: &at,
        approved: req.approval.is_some(),
        authorized: false,
        spend: None,
    };
    // The crew writes money with ¥; the owner reads it in the shop's currency.
    let result = match skill.run_json(&mut cx, req.args.clone()).await {
        Ok(outcome) => Ok(Outcome { summary: outcome.summary.in_currency(&env.shop.currency), ..outcome }),
        Err(Halt::Denied(v)) => Err(Halt::Denied(Verdict { reason: v.reason.in_currency(&env.shop.currency), ..v })),
        Err(Halt::NeedsApproval(v)) => {
            Err(Halt::NeedsApproval(Verdict { reason: v.reason.in_currency(&env.shop.currency), ..v }))
        }
        Err(halt) => Err(halt),
    };
    let (authorized, spend) = (cx.authorized, cx.spend.take());
    let base = |kind: Kind, summary: String| NewEntry {
        actor: req.actor,
        kind,
        plan_id: req.plan_id,
        task_id: req.task_id.clone(),
        employee: Some(req.employee.clone()),
        skill: Some(req.skill.clone()),
        summary,
        details: serde_json::Value::Null,
        amount: None,
    };
    let mut report = StepReport {
        employee: req.employee.clone(),
        skill: req.skill.clone(),
        task_id: req.task_id.clone(),
        status: StepStatus::Done,
        summary: String::new(),
        rule: None,
        details: serde_json::Value::Null,
        files: Vec::new(),
        amount: None,
        approval_id: req.approval,
        log_seq: 0,
    };
    match result {
        Ok(outcome) if authorized => {
            let amount = spend.as_ref().map(Spend::total);
            let mut entry = base(Kind::Effect, outcome.summary.get(env.lang).to_string());
            entry.details = serde_json::json!({
                "args": req.args, "result": outcome.details, "files": outcome.files, "approval": req.approval,
            });
            entry.amount = amount;
            entry.details["key"] = serde_json::json!(req.key);
            entry.details["policy_version"] = serde_json::json!(effective.version);
            let seq = worklog::append(&mut tx, env.shop.id, &at, &entry).await?;
            if spend.is_some() {
                ledger::commit(&mut tx, env.shop.id, &key, seq).await?;
            }
            if req.key.is_some() {
                sqlx::query(
                    "INSERT INTO actions (shop_id, idem_key, log_seq, summary, created_at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(env.shop.id)
                .bind(&key)
                .bind(seq)
                .bind(&entry.summary)
                .bind(&at)
                .execute(&mut *tx)
                .await?;
            }
            if let Some(id) = req.approval {
                close_approval(&mut tx, id, "approved", None, &at).await?;
            }
            hold_before_commit().await;
            tx.commit().await?;
            report.summary = entry.summary;
            report.details = outcome.details;
            report.files = outcome.files;
            report.amount = amount;
            report.log_seq = seq;
            return Ok(report);
        }
        Ok(_) => {
            tx.rollback().await?;
            let e = Error::Invalid(format!("skill {} finished without passing the gate; nothing was kept", req.skill));
            return fail(env, req, base(Kind::Error, String::new()), report, e).await;
        }
        Err(halt) => {
            tx.rollback().await?;
            match halt {
                Halt::Failed(e) => return fail(env, req, base(Kind::Error, String::new()), report, e).await,
                Halt::Denied(v) => {
                    let mut tx = store::begin(env.db).await?;
                    let summary = match env.lang {
                        Lang::Zh => format!("已拒绝:{}(规则 {})", v.reason.zh, v.rule),
                        Lang::En => format!("denied: {} (rule {})", v.reason.en, v.rule),
                    };
                    let mut entry = base(Kind::Decision, summary);
                    entry.details = serde_json::json!({"decision": "deny", "rule": v.rule, "reason": v.reason, "args": req.args, "policy_version": effective.version});
                    let seq = worklog::append(&mut tx, env.shop.id, &at, &entry).await?;
                    if let Some(id) = req.approval {
                        close_approval(&mut tx, id, "failed", Some(v.reason.get(env.lang)), &at).await?;
                    }
                    tx.commit().await?;
                    report.status = StepStatus::Denied;
                    report.summary = entry.summary;
                    report.rule = Some(v.rule);
                    report.log_seq = seq;
                }
                Halt::NeedsApproval(v) => {
                    let mut tx = store::begin(env.db).await?;
                    let digest = action_digest(&req.employee, &req.skill, &req.args);
                    let hours = i64::from(effective.policy.budget.approval_expiry_hours);
                    let expires = stamp(env.now + chrono::Duration::hours(hours));
                    // The same action already waiting (a plan run again) keeps its one approval.
                    let waiting: Option<i64> = sqlx::query_scalar(
                        "SELECT id FROM approvals WHERE shop_id = $1 AND digest = $2 AND status = 'pending' \
                         AND (plan_id = $3 OR (plan_id IS NULL AND $3 IS NULL)) \
                         AND (task_id = $4 OR (task_id IS NULL AND $4 IS NULL)) AND expires_at > $5",
                    )
                    .bind(env.shop.id)
                    .bind(&digest)
                    .bind(req.plan_id)
                    .bind(&req.task_id)
                    .bind(&at)
                    .fetch_optional(&mut *tx)
                    .await?;
                    let id: i64 = match waiting {
                        Some(id) => id,
                        None => sqlx::query_scalar(
                        "INSERT INTO approvals (shop_id, created_at, employee, skill, args, digest, rule, reason, plan_id, task_id, expires_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
                    )
                    .bind(env.shop.id)
                    .bind(&at)
                    .bind(&req.employee)
                    .bind(&req.skill)
                    .bind(req.args.to_string())
                    .bind(&digest)
                    .bind(&v.rule)
                    .bind(serde_json::to_string(&v.reason).unwrap_or_default())
                    .bind(req.plan_id)
                    .bind(&req.task_id)
                    .bind(&expires)
                    .fetch_one(&mut *tx)
                    .await?,
                    };
                    // The same action staged earlier by another plan (yesterday's scheduled
                    // restock, say) gives way to this one: the owner decides on the newest.
                    sqlx::query(
                        "UPDATE approvals SET status = 'expired', decided_at = $1, note = $2 \
                         WHERE shop_id = $3 AND digest = $4 AND status = 'pending' AND id <> $5",
                    )
                    .bind(&at)
                    .bind(format!("superseded by #{id}"))
                    .bind(env.shop.id)
                    .bind(&digest)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                    let summary = match env.lang {
                        Lang::Zh => format!("等待店主批准 #{id}:{}(规则 {})", v.reason.zh, v.rule),
                        Lang::En => format!("waiting for owner approval #{id}: {} (rule {})", v.reason.en, v.rule),
                    };
                    let mut entry = base(Kind::Approval, summary);
                    entry.details = serde_json::json!({"decision": "needs_approval", "approval": id, "digest": digest, "rule": v.rule, "reason": v.reason, "args": req.args});
                    let seq = worklog::append(&mut tx, env.shop.id, &at, &entry).await?;
                    tx.commit().await?;
                    report.status = StepStatus::Pending;
                    report.summary = entry.summary;
                    report.rule = Some(v.rule);
                    report.approval_id = Some(id);
                    report.log_seq = seq;
                }
            }
        }
    }
    Ok(report)
}

/// Crash tests widen the window between an effect's writes and its commit with
/// `SHOPCREW_HOLD_BEFORE_COMMIT_MS`, so a kill lands inside the transaction. Unset, it costs
/// one environment read per process.
async fn hold_before_commit() {
    static HOLD: std::sync::OnceLock<Option<u64>> = std::sync::OnceLock::new();
    let hold = HOLD.get_or_init(|| std::env::var("SHOPCREW_HOLD_BEFORE_COMMIT_MS").ok().and_then(|v| v.parse().ok()));
    if let Some(ms) = *hold {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
}

/// A key no other action shares, for actions that are not retried under a key of their own.
fn one_off_key(at: &str, req: &StepRequest) -> String {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let mut h = Sha256::new();
    h.update(format!("{at}\0{}\0{nanos}\0{n}\0{}", std::process::id(), req.skill).as_bytes());
    format!("once/{}", &hex::encode(h.finalize())[..32])
}

/// The key under which a task took effect: the task's own key, or one of its steps'
/// (`key#n`), if any did.
pub async fn done_under(db: &Db, shop_id: i64, key: &str) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT idem_key FROM actions WHERE shop_id = $1 AND (idem_key = $2 OR idem_key LIKE $3) \
         ORDER BY log_seq DESC LIMIT 1",
    )
    .bind(shop_id)
    .bind(key)
    .bind(format!("{key}#%"))
    .fetch_optional(db)
    .await?)
}

/// The earlier effect of an action key, if it took effect.
async fn already_done(conn: &mut SqliteConnection, shop_id: i64, key: &str) -> Result<Option<(i64, String)>> {
    Ok(sqlx::query_as("SELECT log_seq, summary FROM actions WHERE shop_id = $1 AND idem_key = $2")
        .bind(shop_id)
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?)
}

/// Reports (and logs) an action that already took effect under its key; nothing runs again.
async fn replayed(env: &Env<'_>, req: &StepRequest, key: &str, (seq, summary): (i64, String)) -> Result<StepReport> {
    let note = match env.lang {
        Lang::Zh => format!("已于记录 #{seq} 完成,不再重复执行:{summary}"),
        Lang::En => format!("already done in log entry #{seq}, not run again: {summary}"),
    };
    let mut entry = NewEntry::new(req.actor, Kind::Decision, note.clone());
    entry.plan_id = req.plan_id;
    entry.task_id = req.task_id.clone();
    entry.employee = Some(req.employee.clone());
    entry.skill = Some(req.skill.clone());
    entry.details = serde_json::json!({"duplicate_of": seq, "key": key});
    let mut tx = store::begin(env.db).await?;
    worklog::append(&mut tx, env.shop.id, &stamp(env.now), &entry).await?;
    if let Some(id) = req.approval {
        close_approval(&mut tx, id, "approved", Some(note.as_str()), &stamp(env.now)).await?;
    }
    tx.commit().await?;
    Ok(StepReport {
        employee: req.employee.clone(),
        skill: req.skill.clone(),
        task_id: req.task_id.clone(),
        status: StepStatus::Done,
        summary: note,
        rule: None,
        details: serde_json::json!({"duplicate_of": seq}),
        files: Vec::new(),
        amount: None,
        approval_id: req.approval,
        log_seq: seq,
    })
}

async fn fail(
    env: &Env<'_>,
    req: &StepRequest,
    mut entry: NewEntry,
    mut report: StepReport,
    e: Error,
) -> Result<StepReport> {
    // A database failure is the machine's problem, not the action's: surface it as an error.
    if matches!(e, Error::Db(_) | Error::Migrate(_)) {
        return Err(e);
    }
    let message = e.to_string();
    let mut tx = store::begin(env.db).await?;
    entry.summary = match env.lang {
        Lang::Zh => format!("失败:{message}"),
        Lang::En => format!("failed: {message}"),
    };
    entry.details = serde_json::json!({"error": message, "args": req.args});
    let seq = worklog::append(&mut tx, env.shop.id, &stamp(env.now), &entry).await?;
    tx.commit().await?;
    report.status = StepStatus::Failed;
    report.summary = entry.summary;
    report.log_seq = seq;
    Ok(report)
}

async fn close_approval(
    conn: &mut SqliteConnection,
    id: i64,
    status: &str,
    note: Option<&str>,
    at: &str,
) -> Result<()> {
    let done = sqlx::query(
        "UPDATE approvals SET status = $1, decided_at = $2, note = $3 WHERE id = $4 AND status = 'pending'",
    )
    .bind(status)
    .bind(at)
    .bind(note)
    .bind(id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if done == 0 {
        return Err(Error::ApprovalNotPending { id, status: "already decided".into() });
    }
    Ok(())
}

/// Shared helpers for skills.
pub(crate) fn bad_args(skill: &str, message: impl Into<String>) -> Halt {
    Halt::Failed(Error::BadArgs { skill: skill.to_string(), message: message.into() })
}

/// The number of days a window runs, checked.
pub(crate) fn check_days(skill: &str, days: u32, max: u32) -> Result<u32, Halt> {
    if days == 0 || days > max {
        return Err(bad_args(skill, format!("days must be between 1 and {max}, got {days}")));
    }
    Ok(days)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_action_digest_ignores_key_order_but_not_values() {
        let a: serde_json::Value =
            serde_json::from_str(r#"{"scope": "cups", "discount_pct": 10, "x": {"b": 1, "a": 2}}"#).unwrap();
        let b: serde_json::Value =
            serde_json::from_str(r#"{"x": {"a": 2, "b": 1}, "discount_pct": 10, "scope": "cups"}"#).unwrap();
        let c: serde_json::Value =
            serde_json::from_str(r#"{"x": {"a": 2, "b": 1}, "discount_pct": 11, "scope": "cups"}"#).unwrap();
        assert_eq!(action_digest("p", "s", &a), action_digest("p", "s", &b));
        assert_ne!(action_digest("p", "s", &a), action_digest("p", "s", &c));
        assert_ne!(action_digest("p", "s", &a), action_digest("q", "s", &a));
    }

    #[test]
    fn every_skill_file_has_an_implementation_and_back() {
        let catalog = Catalog::load(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap();
        let registry = Registry::builtin();
        registry.check_against(&catalog).unwrap();
        let mut partial = registry.clone();
        partial.skills.remove("cs.reply");
        let err = partial.check_against(&catalog).unwrap_err().to_string();
        assert!(err.contains("cs.reply") && err.contains("no implementation"), "{err}");
        let mut fewer = catalog.clone();
        fewer.skills.retain(|s| s.id != "ops.set_price");
        let err = registry.check_against(&fewer).unwrap_err().to_string();
        assert!(err.contains("skills/ops.set_price.toml"), "{err}");
    }

    #[test]
    fn schemas_come_from_the_argument_types() {
        let registry = Registry::builtin();
        let schema = registry.get("promo.create_discount").unwrap().schema();
        let props = &schema["properties"];
        assert!(props.get("discount_pct").is_some() && props.get("scope").is_some() && props.get("days").is_some());
    }
}
