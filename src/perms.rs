//! The owner's grants, revocations and pauses: versioned rows on top of the policy file.
//!
//! Every change is one row of `policy_changes`, written with its work-log entry in one
//! transaction; its id is the policy version it starts. The effective policy is the file's
//! policy with the changes still in force folded over it ([`Policy::with_changes`]), read inside
//! the step's own transaction at every gate check, so a revocation stops the very next action,
//! also in plans already running. Compiled policies are cached by the set of changes in force.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::SqliteConnection;

use crate::clock::stamp;
use crate::error::{Error, Result};
use crate::policy::{Change, Policy};

/// What the owner changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OwnerChange {
    /// Sets a knob of one employee (`max_discount_pct=30`), until a time or for good. A grant
    /// of `skills=<pattern>` adds to the allow-list and gives back a revoked skill.
    Grant { employee: String, knob: String, value: String, until: Option<String> },
    /// Takes a skill or a pattern (`promo.*`) away from an employee.
    Revoke { employee: String, pattern: String },
    /// Stops one employee, or all of them (`None`): the kill switch.
    Pause { employee: Option<String> },
    /// Lifts a pause of one employee, or every pause (`None`).
    Resume { employee: Option<String> },
}

impl OwnerChange {
    /// A grant from the owner's words: `max_discount_pct=30`, until a shop-local date
    /// (through that day) or an RFC 3339 time.
    pub fn grant(employee: String, setting: &str, until: Option<&str>, tz: chrono_tz::Tz) -> Result<OwnerChange> {
        let (knob, value) = setting.split_once('=').ok_or_else(|| {
            Error::Invalid(format!("`{setting}` is not knob=value; write it like max_discount_pct=30"))
        })?;
        let until = match until.map(str::trim).filter(|t| !t.is_empty()) {
            None => None,
            Some(text) => Some(crate::worklog::until_stamp(text, tz).ok_or_else(|| {
                Error::Invalid(format!("until `{text}` is not a date (2026-11-29) or an RFC 3339 time"))
            })?),
        };
        Ok(OwnerChange::Grant { employee, knob: knob.trim().to_string(), value: value.trim().to_string(), until })
    }

    /// `all` or an employee, for pause and resume.
    pub fn who(who: &str) -> Option<String> {
        let who = who.trim();
        (who != "all" && !who.is_empty()).then(|| who.to_string())
    }
}

/// One stored change, as `perms history` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeRow {
    /// The policy version this change started.
    pub version: i64,
    pub at: String,
    #[serde(flatten)]
    pub change: OwnerChange,
    pub log_seq: i64,
}

/// The policy in force at one moment, and the version it carries.
#[derive(Debug, Clone)]
pub struct Effective {
    /// The id of the newest change (0 when the owner changed nothing).
    pub version: i64,
    pub policy: Arc<Policy>,
    /// The changes in force, oldest first.
    pub changes: Vec<ChangeRow>,
}

/// The file's policy plus a cache of the effective policies built from it.
pub struct Perms {
    base: Arc<Policy>,
    cache: Mutex<Option<(Vec<Change>, Arc<Policy>)>>,
}

impl Perms {
    pub fn new(base: Policy) -> Perms {
        Perms { base: Arc::new(base), cache: Mutex::new(None) }
    }

    /// The policy file's own rules, without the owner's changes.
    pub fn base(&self) -> &Policy {
        &self.base
    }

    /// The policy in force at `now`, read through `conn` (the caller's transaction).
    pub async fn effective(&self, conn: &mut SqliteConnection, shop_id: i64, now: DateTime<Utc>) -> Result<Effective> {
        let rows = history(conn, shop_id).await?;
        let version = rows.last().map_or(0, |r| r.version);
        let in_force = in_force(&rows, &stamp(now));
        let changes: Vec<Change> = in_force.iter().filter_map(|r| as_change(&r.change)).collect();
        if changes.is_empty() {
            return Ok(Effective { version, policy: self.base.clone(), changes: in_force });
        }
        let cached =
            self.cache.lock().ok().and_then(|c| c.as_ref().filter(|(key, _)| *key == changes).map(|(_, p)| p.clone()));
        let policy = match cached {
            Some(p) => p,
            None => {
                let p = Arc::new(self.base.with_changes(&changes)?);
                if let Ok(mut cache) = self.cache.lock() {
                    *cache = Some((changes, p.clone()));
                }
                p
            }
        };
        Ok(Effective { version, policy, changes: in_force })
    }

    /// Checks a change against the policy in force (an unknown employee or knob, a bad value)
    /// before it is stored, so a stored change always applies.
    pub fn check(&self, current: &Policy, change: &OwnerChange) -> Result<()> {
        if let Some(change) = as_change(change) {
            current.with_changes(std::slice::from_ref(&change))?;
        }
        Ok(())
    }
}

/// Stores a change; its id is the new policy version.
pub async fn record(
    conn: &mut SqliteConnection,
    shop_id: i64,
    change: &OwnerChange,
    at: &str,
    log_seq: i64,
) -> Result<i64> {
    let (kind, employee, knob, value, until) = match change {
        OwnerChange::Grant { employee, knob, value, until } => {
            ("grant", Some(employee.as_str()), Some(knob.as_str()), Some(value.as_str()), until.as_deref())
        }
        OwnerChange::Revoke { employee, pattern } => {
            ("revoke", Some(employee.as_str()), None, Some(pattern.as_str()), None)
        }
        OwnerChange::Pause { employee } => ("pause", employee.as_deref(), None, None, None),
        OwnerChange::Resume { employee } => ("resume", employee.as_deref(), None, None, None),
    };
    Ok(sqlx::query_scalar(
        "INSERT INTO policy_changes (shop_id, at, kind, employee, knob, value, until, log_seq) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(shop_id)
    .bind(at)
    .bind(kind)
    .bind(employee)
    .bind(knob)
    .bind(value)
    .bind(until)
    .bind(log_seq)
    .fetch_one(&mut *conn)
    .await?)
}

/// Every change of a shop, oldest first.
pub async fn history(conn: &mut SqliteConnection, shop_id: i64) -> Result<Vec<ChangeRow>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: i64,
        at: String,
        kind: String,
        employee: Option<String>,
        knob: Option<String>,
        value: Option<String>,
        until: Option<String>,
        log_seq: i64,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, at, kind, employee, knob, value, until, log_seq FROM policy_changes WHERE shop_id = $1 ORDER BY id",
    )
    .bind(shop_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(|r| {
            let change = match (r.kind.as_str(), r.employee, r.knob, r.value) {
                ("grant", Some(employee), Some(knob), Some(value)) => {
                    OwnerChange::Grant { employee, knob, value, until: r.until }
                }
                ("revoke", Some(employee), _, Some(pattern)) => OwnerChange::Revoke { employee, pattern },
                ("pause", employee, _, _) => OwnerChange::Pause { employee },
                ("resume", employee, _, _) => OwnerChange::Resume { employee },
                (kind, ..) => return Err(Error::Invalid(format!("policy change #{} has a bad kind `{kind}`", r.id))),
            };
            Ok(ChangeRow { version: r.id, at: r.at, change, log_seq: r.log_seq })
        })
        .collect()
}

/// Folds the history into the changes still in force at `now`, oldest first: a grant until
/// its expiry (a later grant of the same knob replaces it; `skills` grants add up), every
/// revocation (a later `skills` grant of the same pattern undoes it when the policy applies
/// them in order), a pause until a resume.
pub fn in_force(rows: &[ChangeRow], now: &str) -> Vec<ChangeRow> {
    let mut kept: Vec<ChangeRow> = Vec::new();
    for row in rows {
        match &row.change {
            OwnerChange::Grant { employee, knob, until, .. } => {
                if knob != "skills" {
                    kept.retain(|k| {
                        !matches!(&k.change, OwnerChange::Grant { employee: e, knob: n, .. } if e == employee && n == knob)
                    });
                }
                if until.as_deref().is_none_or(|u| u > now) {
                    kept.push(row.clone());
                }
            }
            OwnerChange::Revoke { .. } | OwnerChange::Pause { .. } => kept.push(row.clone()),
            OwnerChange::Resume { employee } => kept.retain(|k| match &k.change {
                OwnerChange::Pause { employee: e } => employee.is_some() && e != employee,
                _ => true,
            }),
        }
    }
    kept
}

/// The policy engine's view of a change in force (a resume has none: it only ends pauses).
fn as_change(change: &OwnerChange) -> Option<Change> {
    match change {
        OwnerChange::Grant { employee, knob, value, .. } => {
            Some(Change::Grant { employee: employee.clone(), knob: knob.clone(), value: value.clone() })
        }
        OwnerChange::Revoke { employee, pattern } => {
            Some(Change::Revoke { employee: employee.clone(), pattern: pattern.clone() })
        }
        OwnerChange::Pause { employee } => Some(Change::Pause { employee: employee.clone() }),
        OwnerChange::Resume { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(version: i64, change: OwnerChange) -> ChangeRow {
        ChangeRow { version, at: "2026-11-24T02:00:00Z".into(), change, log_seq: version }
    }

    fn grant(employee: &str, knob: &str, value: &str, until: Option<&str>) -> OwnerChange {
        OwnerChange::Grant {
            employee: employee.into(),
            knob: knob.into(),
            value: value.into(),
            until: until.map(str::to_string),
        }
    }

    #[test]
    fn a_grant_lasts_until_its_expiry_and_a_later_grant_replaces_it() {
        let rows = vec![
            row(1, grant("promotions", "max_discount_pct", "30", Some("2026-11-29T16:00:00Z"))),
            row(2, grant("customer_service", "max_refund", "200", None)),
        ];
        assert_eq!(in_force(&rows, "2026-11-25T00:00:00Z").len(), 2);
        let later = in_force(&rows, "2026-11-29T16:00:00Z");
        assert_eq!(later.iter().map(|r| r.version).collect::<Vec<_>>(), vec![2]);

        let mut rows = rows;
        rows.push(row(3, grant("promotions", "max_discount_pct", "25", None)));
        let now = in_force(&rows, "2026-11-25T00:00:00Z");
        assert_eq!(now.iter().map(|r| r.version).collect::<Vec<_>>(), vec![2, 3]);
    }

    #[test]
    fn a_resume_ends_pauses_and_revocations_stay_in_order_with_skill_grants() {
        let rows = vec![
            row(1, OwnerChange::Revoke { employee: "promotions".into(), pattern: "promo.create_discount".into() }),
            row(2, OwnerChange::Pause { employee: Some("ops".into()) }),
            row(3, OwnerChange::Pause { employee: None }),
        ];
        assert_eq!(in_force(&rows, "2026-11-25T00:00:00Z").len(), 3);

        let mut more = rows.clone();
        more.push(row(4, OwnerChange::Resume { employee: Some("ops".into()) }));
        let kept: Vec<i64> = in_force(&more, "2026-11-25T00:00:00Z").iter().map(|r| r.version).collect();
        assert_eq!(kept, vec![1, 3], "resuming ops lifts its own pause, not the pause of all");

        more.push(row(5, OwnerChange::Resume { employee: None }));
        more.push(row(6, grant("promotions", "skills", "promo.create_discount", None)));
        let kept: Vec<i64> = in_force(&more, "2026-11-25T00:00:00Z").iter().map(|r| r.version).collect();
        assert_eq!(kept, vec![1, 6], "the revocation, then the grant that undoes it");
    }

    #[test]
    fn the_engine_applies_the_folded_changes() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let catalog = crate::catalog::Catalog::load(root).unwrap();
        let base = Policy::load(&root.join("policies/default.toml"), &catalog).unwrap();
        let perms = Perms::new(base);
        let discount = crate::policy::Intent { discount: Some(crate::money::Pct::whole(10)), ..Default::default() };
        let revoke = OwnerChange::Revoke { employee: "promotions".into(), pattern: "promo.create_discount".into() };
        let rows = vec![row(1, revoke.clone())];
        let changes: Vec<Change> =
            in_force(&rows, "2026-11-25T00:00:00Z").iter().filter_map(|r| as_change(&r.change)).collect();
        let revoked = perms.base().with_changes(&changes).unwrap();
        assert!(matches!(
            revoked.decide("promotions", "promo.create_discount", &discount, false),
            crate::policy::Decision::Deny(_)
        ));
        let rows = vec![row(1, revoke), row(2, grant("promotions", "skills", "promo.create_discount", None))];
        let changes: Vec<Change> =
            in_force(&rows, "2026-11-25T00:00:00Z").iter().filter_map(|r| as_change(&r.change)).collect();
        let back = perms.base().with_changes(&changes).unwrap();
        assert_eq!(
            back.decide("promotions", "promo.create_discount", &discount, false),
            crate::policy::Decision::Allow
        );
    }
}
