//! The work log: one entry per step, append-only and hash-chained per shop.
//!
//! Each entry's leaf hash is SHA-256 over a 0x00 byte and the entry's canonical JSON (every
//! column but the hashes, sequence number included); its chain hash is SHA-256 over the
//! previous chain hash (32 zero bytes before the first) and the leaf. [`append`] runs inside
//! the caller's transaction, so an effect and its entry commit together or not at all.
//! [`verify`] recomputes everything from the rows and names the first entry that does not
//! hold. Nothing here ever updates or deletes an entry (triggers forbid it too).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::{Row, SqliteConnection};

use ed25519_dalek::VerifyingKey;

use crate::checkpoint::{Checkpoint, LogKey, SignedCheckpoint};
use crate::error::Result;
use crate::merkle::{self, Builder, Hash};
use crate::money::Money;

/// Who acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    Owner,
    Planner,
    Employee,
    Scheduler,
    System,
}

impl Actor {
    pub fn as_str(self) -> &'static str {
        match self {
            Actor::Owner => "owner",
            Actor::Planner => "planner",
            Actor::Employee => "employee",
            Actor::Scheduler => "scheduler",
            Actor::System => "system",
        }
    }
}

/// What kind of step an entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Request,
    Plan,
    Effect,
    Decision,
    Approval,
    Error,
    Setup,
    /// The owner granted, revoked, paused or resumed.
    Permission,
    /// A call to the model, with its tokens and cost.
    ModelCall,
    /// How an employee's task ended, in one line.
    Summary,
    /// A schedule changed by the owner, or run, skipped or abandoned by the scheduler.
    Schedule,
    /// An owner report was written.
    Report,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Request => "request",
            Kind::Plan => "plan",
            Kind::Effect => "effect",
            Kind::Decision => "decision",
            Kind::Approval => "approval",
            Kind::Error => "error",
            Kind::Setup => "setup",
            Kind::Permission => "permission",
            Kind::ModelCall => "model_call",
            Kind::Summary => "summary",
            Kind::Schedule => "schedule",
            Kind::Report => "report",
        }
    }
}

/// An entry to append.
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub actor: Actor,
    pub kind: Kind,
    pub plan_id: Option<i64>,
    pub task_id: Option<String>,
    pub employee: Option<String>,
    pub skill: Option<String>,
    pub summary: String,
    pub details: serde_json::Value,
    pub amount: Option<Money>,
}

impl NewEntry {
    pub fn new(actor: Actor, kind: Kind, summary: impl Into<String>) -> NewEntry {
        NewEntry {
            actor,
            kind,
            plan_id: None,
            task_id: None,
            employee: None,
            skill: None,
            summary: summary.into(),
            details: serde_json::Value::Null,
            amount: None,
        }
    }
}

/// A stored entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub kind: String,
    pub plan_id: Option<i64>,
    pub task_id: Option<String>,
    pub employee: Option<String>,
    pub skill: Option<String>,
    pub summary: String,
    pub details: serde_json::Value,
    pub amount: Option<Money>,
    pub leaf_hash: String,
    pub chain_hash: String,
}

/// The bytes an entry's leaf hash covers. Field order is fixed by this struct.
#[derive(Serialize)]
struct Canonical<'a> {
    seq: i64,
    at: &'a str,
    actor: &'a str,
    kind: &'a str,
    plan_id: Option<i64>,
    task_id: Option<&'a str>,
    employee: Option<&'a str>,
    skill: Option<&'a str>,
    summary: &'a str,
    details: &'a str,
    amount_fen: Option<i64>,
}

fn leaf_hash(c: &Canonical<'_>) -> [u8; 32] {
    let bytes = serde_json::to_vec(c).unwrap_or_default();
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(&bytes);
    h.finalize().into()
}

fn chain_hash(prev: &[u8; 32], leaf: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(leaf);
    h.finalize().into()
}

/// Appends an entry in the caller's transaction and returns its sequence number. The caller's
/// transaction must hold the write lock (`store::begin`), so the tail read here stays the tail.
pub async fn append(conn: &mut SqliteConnection, shop_id: i64, at: &str, entry: &NewEntry) -> Result<i64> {
    let tail = sqlx::query("SELECT seq, chain_hash FROM work_log WHERE shop_id = $1 ORDER BY seq DESC LIMIT 1")
        .bind(shop_id)
        .fetch_optional(&mut *conn)
        .await?;
    let (seq, prev) = match tail {
        Some(row) => {
            let seq: i64 = row.get("seq");
            let hash: String = row.get("chain_hash");
            (seq + 1, decode(&hash).unwrap_or([0; 32]))
        }
        None => (1, [0; 32]),
    };
    let details = entry.details.to_string();
    let canonical = Canonical {
        seq,
        at,
        actor: entry.actor.as_str(),
        kind: entry.kind.as_str(),
        plan_id: entry.plan_id,
        task_id: entry.task_id.as_deref(),
        employee: entry.employee.as_deref(),
        skill: entry.skill.as_deref(),
        summary: &entry.summary,
        details: &details,
        amount_fen: entry.amount.map(Money::fen),
    };
    let leaf = leaf_hash(&canonical);
    let chain = chain_hash(&prev, &leaf);
    sqlx::query(
        "INSERT INTO work_log (shop_id, seq, at, actor, kind, plan_id, task_id, employee, skill, summary, details, \
         amount_fen, leaf_hash, chain_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(shop_id)
    .bind(seq)
    .bind(at)
    .bind(canonical.actor)
    .bind(canonical.kind)
    .bind(entry.plan_id)
    .bind(&entry.task_id)
    .bind(&entry.employee)
    .bind(&entry.skill)
    .bind(&entry.summary)
    .bind(&details)
    .bind(canonical.amount_fen)
    .bind(hex::encode(leaf))
    .bind(hex::encode(chain))
    .execute(&mut *conn)
    .await?;
    Ok(seq)
}

fn decode(text: &str) -> Option<[u8; 32]> {
    hex::decode(text).ok()?.try_into().ok()
}

/// Which entries to read.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub employee: Option<String>,
    /// Entries at or after this UTC instant.
    pub since: Option<String>,
    pub plan_id: Option<i64>,
    /// Entries after this sequence number.
    pub after_seq: Option<i64>,
}

struct RawRow {
    seq: i64,
    at: String,
    actor: String,
    kind: String,
    plan_id: Option<i64>,
    task_id: Option<String>,
    employee: Option<String>,
    skill: Option<String>,
    summary: String,
    details: String,
    amount_fen: Option<i64>,
    leaf_hash: String,
    chain_hash: String,
}

async fn raw_rows(conn: &mut SqliteConnection, shop_id: i64, filter: &Filter) -> Result<Vec<RawRow>> {
    let rows = sqlx::query(
        "SELECT seq, at, actor, kind, plan_id, task_id, employee, skill, summary, details, amount_fen, leaf_hash, \
         chain_hash FROM work_log WHERE shop_id = $1 AND ($2 IS NULL OR employee = $2) AND ($3 IS NULL OR at >= $3) \
         AND ($4 IS NULL OR plan_id = $4) AND ($5 IS NULL OR seq > $5) ORDER BY seq",
    )
    .bind(shop_id)
    .bind(&filter.employee)
    .bind(&filter.since)
    .bind(filter.plan_id)
    .bind(filter.after_seq)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .iter()
        .map(|r| RawRow {
            seq: r.get("seq"),
            at: r.get("at"),
            actor: r.get("actor"),
            kind: r.get("kind"),
            plan_id: r.get("plan_id"),
            task_id: r.get("task_id"),
            employee: r.get("employee"),
            skill: r.get("skill"),
            summary: r.get("summary"),
            details: r.get("details"),
            amount_fen: r.get("amount_fen"),
            leaf_hash: r.get("leaf_hash"),
            chain_hash: r.get("chain_hash"),
        })
        .collect())
}

/// Reads entries in sequence order.
pub async fn read(conn: &mut SqliteConnection, shop_id: i64, filter: &Filter) -> Result<Vec<Entry>> {
    Ok(raw_rows(conn, shop_id, filter)
        .await?
        .into_iter()
        .map(|r| Entry {
            seq: r.seq,
            at: r.at,
            actor: r.actor,
            kind: r.kind,
            plan_id: r.plan_id,
            task_id: r.task_id,
            employee: r.employee,
            skill: r.skill,
            summary: r.summary,
            details: serde_json::from_str(&r.details).unwrap_or(serde_json::Value::Null),
            amount: r.amount_fen.map(Money::from_fen),
            leaf_hash: r.leaf_hash,
            chain_hash: r.chain_hash,
        })
        .collect())
}

/// The result of checking a shop's whole log.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Verification {
    /// Every entry, the chain and every stored checkpoint hold. `root` is the Merkle root of
    /// the whole log.
    Ok {
        entries: i64,
        head: String,
        root: String,
        checkpoints: i64,
    },
    Broken {
        seq: i64,
        problem: String,
    },
}

/// Recomputes every leaf and chain hash, checks the sequence has no gap, and checks every
/// stored checkpoint: its signature (with `key`) and that the log's first `size` entries still
/// have its root. `leaves` receives the recomputed leaf hashes.
pub async fn verify(
    conn: &mut SqliteConnection,
    shop_id: i64,
    key: &VerifyingKey,
    leaves: &mut Vec<Hash>,
) -> Result<Verification> {
    let rows = raw_rows(conn, shop_id, &Filter::default()).await?;
    leaves.clear();
    let mut prev = [0u8; 32];
    for (i, r) in rows.iter().enumerate() {
        let expected = i as i64 + 1;
        if r.seq != expected {
            let problem = if r.seq > expected {
                format!("entries {expected}..{} are missing (deleted)", r.seq - 1)
            } else {
                format!("sequence out of order: found {} after {}", r.seq, expected - 1)
            };
            return Ok(Verification::Broken { seq: expected, problem });
        }
        let canonical = Canonical {
            seq: r.seq,
            at: &r.at,
            actor: &r.actor,
            kind: &r.kind,
            plan_id: r.plan_id,
            task_id: r.task_id.as_deref(),
            employee: r.employee.as_deref(),
            skill: r.skill.as_deref(),
            summary: &r.summary,
            details: &r.details,
            amount_fen: r.amount_fen,
        };
        let leaf = leaf_hash(&canonical);
        if hex::encode(leaf) != r.leaf_hash {
            return Ok(Verification::Broken {
                seq: r.seq,
                problem: "its content does not match its hash (the entry was edited or moved)".into(),
            });
        }
        let chain = chain_hash(&prev, &leaf);
        if hex::encode(chain) != r.chain_hash {
            return Ok(Verification::Broken {
                seq: r.seq,
                problem: "the hash chain is broken here (an entry before it was replaced or reordered)".into(),
            });
        }
        prev = chain;
        leaves.push(leaf);
    }
    let checkpoints = stored_checkpoints(conn, shop_id).await?;
    let mut tree = Builder::default();
    let mut leaf_iter = leaves.iter();
    for cp in &checkpoints {
        let at = &cp.checkpoint.at;
        if let Err(e) = cp.verify(key) {
            let problem = format!("the checkpoint of {at} ({} entries) is not genuine: {e}", cp.checkpoint.size);
            return Ok(Verification::Broken { seq: cp.checkpoint.size as i64, problem });
        }
        if cp.checkpoint.size > leaves.len() as u64 {
            let problem = format!(
                "the log ends at entry {} but the checkpoint of {at} covers {}: entries were cut from the end",
                leaves.len(),
                cp.checkpoint.size
            );
            return Ok(Verification::Broken { seq: leaves.len() as i64 + 1, problem });
        }
        while tree.size() < cp.checkpoint.size {
            if let Some(leaf) = leaf_iter.next() {
                tree.push(*leaf);
            }
        }
        if tree.root() != cp.checkpoint.root {
            let problem = format!(
                "the first {} entries no longer have the root signed at {at}: the log was rewritten",
                cp.checkpoint.size
            );
            return Ok(Verification::Broken { seq: cp.checkpoint.size as i64, problem });
        }
    }
    Ok(Verification::Ok {
        entries: rows.len() as i64,
        head: hex::encode(prev),
        root: hex::encode(merkle::root(leaves)),
        checkpoints: checkpoints.len() as i64,
    })
}

/// The stored checkpoints of a shop, smallest first.
pub async fn stored_checkpoints(conn: &mut SqliteConnection, shop_id: i64) -> Result<Vec<SignedCheckpoint>> {
    let texts: Vec<String> = sqlx::query_scalar("SELECT signed FROM checkpoints WHERE shop_id = $1 ORDER BY size")
        .bind(shop_id)
        .fetch_all(&mut *conn)
        .await?;
    texts.iter().map(|t| SignedCheckpoint::parse(t)).collect()
}

/// Signs and stores a checkpoint of the log as it is, unless the newest one already covers
/// it; returns the newest checkpoint. Runs in the caller's transaction (which holds the write
/// lock), so the log cannot grow between reading its leaves and storing the root.
pub async fn seal(
    conn: &mut SqliteConnection,
    shop_id: i64,
    origin: &str,
    key: &LogKey,
    at: &str,
) -> Result<Option<SignedCheckpoint>> {
    let hashes: Vec<String> = sqlx::query_scalar("SELECT leaf_hash FROM work_log WHERE shop_id = $1 ORDER BY seq")
        .bind(shop_id)
        .fetch_all(&mut *conn)
        .await?;
    let newest: Option<String> =
        sqlx::query_scalar("SELECT signed FROM checkpoints WHERE shop_id = $1 ORDER BY size DESC LIMIT 1")
            .bind(shop_id)
            .fetch_optional(&mut *conn)
            .await?;
    let newest = newest.map(|t| SignedCheckpoint::parse(&t)).transpose()?;
    if hashes.is_empty() || newest.as_ref().is_some_and(|c| c.checkpoint.size == hashes.len() as u64) {
        return Ok(newest);
    }
    let mut tree = Builder::default();
    for h in &hashes {
        let leaf: Hash = hex::decode(h)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| crate::Error::Checkpoint(format!("a stored leaf hash is not 32 bytes of hex: {h}")))?;
        tree.push(leaf);
    }
    let checkpoint =
        Checkpoint { origin: origin.to_string(), size: tree.size(), root: tree.root(), at: at.to_string() };
    let signed = key.sign(checkpoint);
    sqlx::query("INSERT INTO checkpoints (shop_id, size, root, at, signed) VALUES ($1, $2, $3, $4, $5)")
        .bind(shop_id)
        .bind(signed.checkpoint.size as i64)
        .bind(hex::encode(signed.checkpoint.root))
        .bind(at)
        .bind(signed.to_text())
        .execute(&mut *conn)
        .await?;
    Ok(Some(signed))
}

/// Reads a `--since` value: a shop-local date (from its midnight) or an RFC 3339 instant.
pub fn since_stamp(text: &str, tz: chrono_tz::Tz) -> Option<String> {
    if let Ok(date) = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d") {
        return Some(crate::clock::stamp(crate::clock::local_midnight(tz, date)));
    }
    crate::clock::parse_stamp(text.trim()).map(crate::clock::stamp)
}

/// The end of a grant: through the whole of a shop-local date (so "until Sunday" includes
/// Sunday), or an exact RFC 3339 time.
pub fn until_stamp(text: &str, tz: chrono_tz::Tz) -> Option<String> {
    if let Ok(date) = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d") {
        return Some(crate::clock::stamp(crate::clock::local_midnight(tz, date.succ_opt()?)));
    }
    crate::clock::parse_stamp(text.trim()).map(crate::clock::stamp)
}
