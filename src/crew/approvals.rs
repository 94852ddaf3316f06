//! Staged actions: listing, approving (with a fresh gate check, then the plan tasks that
//! waited on it), rejecting, and expiry.

use std::sync::Arc;

use serde::Serialize;
use sqlx::Row;

use super::Crew;
use crate::clock::stamp;
use crate::error::{Error, Result};
use crate::executor::{self, Progress, TaskOutcome};
use crate::lang::{Lang, Text};
use crate::plan::{Plan, Task};
use crate::skills::{self, StepReport};
use crate::store;
use crate::worklog::{self, Actor, Kind, NewEntry};

/// A staged action waiting for (or decided by) the owner.
#[derive(Debug, Clone, Serialize)]
pub struct Approval {
    pub id: i64,
    pub created_at: String,
    pub employee: String,
    pub skill: String,
    pub args: serde_json::Value,
    pub digest: String,
    pub rule: String,
    pub reason: Text,
    pub plan_id: Option<i64>,
    pub task_id: Option<String>,
    pub status: String,
    /// After this time the approval can no longer be given; the crew must be asked again.
    pub expires_at: String,
    pub decided_at: Option<String>,
    pub note: Option<String>,
}

/// What approving a staged action did: the action itself, then any plan tasks that waited on it.
#[derive(Debug, Clone, Serialize)]
pub struct Approved {
    #[serde(flatten)]
    pub step: StepReport,
    pub resumed: Vec<TaskOutcome>,
}

impl Crew {
    /// Approvals, newest first; only pending ones unless `all`.
    pub async fn approvals(&self, all: bool) -> Result<Vec<Approval>> {
        self.expire_stale().await?;
        let rows = sqlx::query(
            "SELECT id, created_at, employee, skill, args, digest, rule, reason, plan_id, task_id, status, expires_at, decided_at, note \
             FROM approvals WHERE shop_id = $1 AND ($2 OR status = 'pending') ORDER BY id DESC",
        )
        .bind(self.inner.shop.id)
        .bind(all)
        .fetch_all(&self.inner.db)
        .await?;
        Ok(rows.iter().map(approval_from).collect())
    }

    pub async fn approval(&self, id: i64) -> Result<Approval> {
        let row = sqlx::query(
            "SELECT id, created_at, employee, skill, args, digest, rule, reason, plan_id, task_id, status, expires_at, decided_at, note \
             FROM approvals WHERE shop_id = $1 AND id = $2",
        )
        .bind(self.inner.shop.id)
        .bind(id)
        .fetch_optional(&self.inner.db)
        .await?;
        row.as_ref().map(approval_from).ok_or(Error::NoSuchApproval(id))
    }

    /// The owner approves a staged action: it runs now, with a fresh gate check (caps still
    /// apply, and the budget must still have room).
    ///
    /// When the action was a task of a plan, the tasks that were skipped only because they
    /// waited on it run now too (the banner after its discount), each through the gate.
    /// `progress` hears of the approved action first, then of every resumed task.
    pub async fn approve(&self, id: i64, progress: Arc<dyn Progress>) -> Result<Approved> {
        let a = self.pending(id).await?;
        if skills::action_digest(&a.employee, &a.skill, &a.args) != a.digest {
            return Err(Error::ApprovalTampered(id));
        }
        self.owner_entry(&a, "approve", None).await?;
        let req = skills::StepRequest {
            employee: a.employee.clone(),
            skill: a.skill.clone(),
            args: a.args.clone(),
            actor: Actor::Employee,
            plan_id: a.plan_id,
            task_id: a.task_id.clone(),
            approval: Some(id),
            key: Some(match (a.plan_id, a.task_id.as_deref()) {
                (Some(plan_id), Some(task_id)) => skills::StepRequest::plan_key(plan_id, task_id),
                _ => format!("approval/{id}"),
            }),
        };
        let step = skills::run_step(&self.env(), &req).await?;
        let task = Task {
            id: a.task_id.clone().unwrap_or_else(|| format!("#{id}")),
            employee: a.employee.clone(),
            skill: a.skill.clone(),
            args: a.args.clone(),
            depends_on: Vec::new(),
        };
        progress.finished(&task, &TaskOutcome::Ran(step.clone()));
        let resumed = match (&step.status, a.plan_id, a.task_id.as_deref()) {
            (skills::StepStatus::Done, Some(plan_id), Some(task_id)) => {
                self.resume_dependents(plan_id, task_id, progress).await?
            }
            _ => Vec::new(),
        };
        Ok(Approved { step, resumed })
    }

    /// Runs the tasks of a plan that were skipped while waiting on `task_id` and whose
    /// dependencies are all done now. A task that already has a record of its own (it ran,
    /// was denied, failed or waits for approval) is left alone, so nothing runs twice.
    async fn resume_dependents(
        &self,
        plan_id: i64,
        task_id: &str,
        progress: Arc<dyn Progress>,
    ) -> Result<Vec<TaskOutcome>> {
        let shop_id = self.inner.shop.id;
        let plan = self.stored_plan(plan_id).await?;
        let rows = sqlx::query(
            "SELECT task_id, kind, details FROM work_log WHERE shop_id = $1 AND plan_id = $2 AND task_id IS NOT NULL",
        )
        .bind(shop_id)
        .bind(plan_id)
        .fetch_all(&self.inner.db)
        .await?;
        let mut done = std::collections::BTreeSet::new();
        let mut touched = std::collections::BTreeSet::new();
        for row in &rows {
            let (task, kind, details): (String, String, String) = (row.get(0), row.get(1), row.get(2));
            let skipped = kind == "decision"
                && serde_json::from_str::<serde_json::Value>(&details).is_ok_and(|d| d["skipped"] == true);
            if kind == "effect" {
                done.insert(task.clone());
            }
            if !skipped {
                touched.insert(task);
            }
        }
        let mut resumable = std::collections::BTreeSet::new();
        for task in plan.order()? {
            if touched.contains(&task.id) {
                continue;
            }
            let waited = task.depends_on.iter().any(|d| d == task_id || resumable.contains(d));
            let ready = task.depends_on.iter().all(|d| done.contains(d) || resumable.contains(d));
            if waited && ready {
                resumable.insert(task.id.clone());
            }
        }
        if resumable.is_empty() {
            return Ok(Vec::new());
        }
        let tasks = plan
            .tasks
            .iter()
            .filter(|t| resumable.contains(&t.id))
            .map(|t| Task {
                depends_on: t.depends_on.iter().filter(|d| resumable.contains(*d)).cloned().collect(),
                ..t.clone()
            })
            .collect();
        let rest = Plan { tasks, ..plan };
        executor::execute(self, &rest, plan_id, progress).await
    }

    /// The owner rejects a staged action; nothing runs.
    pub async fn reject(&self, id: i64, reason: Option<&str>) -> Result<()> {
        let a = self.pending(id).await?;
        let at = stamp(self.inner.clock.now());
        let mut tx = store::begin(&self.inner.db).await?;
        let changed = sqlx::query(
            "UPDATE approvals SET status = 'rejected', decided_at = $1, note = $2 WHERE id = $3 AND status = 'pending'",
        )
        .bind(&at)
        .bind(reason)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            return Err(Error::ApprovalNotPending { id, status: "already decided".into() });
        }
        let entry = self.owner_entry_value(&a, "reject", reason);
        worklog::append(&mut tx, self.inner.shop.id, &at, &entry).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Marks pending approvals past their expiry as expired, logging each.
    async fn expire_stale(&self) -> Result<()> {
        let at = stamp(self.inner.clock.now());
        let mut tx = store::begin(&self.inner.db).await?;
        #[derive(sqlx::FromRow)]
        struct Expired {
            id: i64,
            employee: String,
            skill: String,
            plan_id: Option<i64>,
            task_id: Option<String>,
        }
        let expired: Vec<Expired> = sqlx::query_as(
            "UPDATE approvals SET status = 'expired', decided_at = $2 \
             WHERE shop_id = $1 AND status = 'pending' AND expires_at <= $2 \
             RETURNING id, employee, skill, plan_id, task_id",
        )
        .bind(self.inner.shop.id)
        .bind(&at)
        .fetch_all(&mut *tx)
        .await?;
        for Expired { id, employee, skill, plan_id, task_id } in expired {
            let summary = match self.inner.lang {
                Lang::Zh => format!("审批 #{id} 已过期({skill}),未执行;需要时请重新提出"),
                Lang::En => format!("approval #{id} expired ({skill}); nothing was run, ask again if still wanted"),
            };
            let mut entry = NewEntry::new(Actor::System, Kind::Approval, summary);
            entry.plan_id = plan_id;
            entry.task_id = task_id;
            entry.employee = Some(employee);
            entry.skill = Some(skill);
            entry.details = serde_json::json!({"approval": id, "decision": "expired"});
            worklog::append(&mut tx, self.inner.shop.id, &at, &entry).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn pending(&self, id: i64) -> Result<Approval> {
        self.expire_stale().await?;
        let a = self.approval(id).await?;
        if a.status != "pending" {
            return Err(Error::ApprovalNotPending { id, status: a.status });
        }
        Ok(a)
    }

    fn owner_entry_value(&self, a: &Approval, decision: &str, reason: Option<&str>) -> NewEntry {
        let summary = match (self.inner.lang, decision) {
            (Lang::Zh, "approve") => format!("店主批准 #{}:{}", a.id, a.skill),
            (Lang::Zh, _) => {
                format!("店主拒绝 #{}:{}{}", a.id, a.skill, reason.map(|r| format!("(原因:{r})")).unwrap_or_default())
            }
            (Lang::En, "approve") => format!("owner approved #{}: {}", a.id, a.skill),
            (Lang::En, _) => format!(
                "owner rejected #{}: {}{}",
                a.id,
                a.skill,
                reason.map(|r| format!(" ({r})")).unwrap_or_default()
            ),
        };
        let mut entry = NewEntry::new(Actor::Owner, Kind::Approval, summary);
        entry.plan_id = a.plan_id;
        entry.task_id = a.task_id.clone();
        entry.employee = Some(a.employee.clone());
        entry.skill = Some(a.skill.clone());
        entry.details =
            serde_json::json!({"approval": a.id, "decision": decision, "digest": a.digest, "reason": reason});
        entry
    }

    async fn owner_entry(&self, a: &Approval, decision: &str, reason: Option<&str>) -> Result<i64> {
        let entry = self.owner_entry_value(a, decision, reason);
        let mut tx = store::begin(&self.inner.db).await?;
        let seq = worklog::append(&mut tx, self.inner.shop.id, &stamp(self.inner.clock.now()), &entry).await?;
        tx.commit().await?;
        Ok(seq)
    }
}

fn approval_from(r: &sqlx::sqlite::SqliteRow) -> Approval {
    let args: String = r.get("args");
    let reason: String = r.get("reason");
    Approval {
        id: r.get("id"),
        created_at: r.get("created_at"),
        employee: r.get("employee"),
        skill: r.get("skill"),
        args: serde_json::from_str(&args).unwrap_or(serde_json::Value::Null),
        digest: r.get("digest"),
        rule: r.get("rule"),
        reason: serde_json::from_str(&reason).unwrap_or_else(|_| Text::new(reason.clone(), reason)),
        plan_id: r.get("plan_id"),
        task_id: r.get("task_id"),
        status: r.get("status"),
        expires_at: r.get("expires_at"),
        decided_at: r.get("decided_at"),
        note: r.get("note"),
    }
}
