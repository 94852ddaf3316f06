//! The executor: runs a plan's tasks as a DAG. Ready tasks run concurrently; a task starts
//! only when everything it depends on is done; a task whose dependency was denied, is waiting
//! for approval, failed or was skipped is skipped too, with the reason, and logged.
//!
//! It knows nothing of permissions or money: every task goes through [`Crew::run_task`], the
//! same gated pipeline a one-click skill uses.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::Serialize;
use tokio::task::JoinSet;

use crate::crew::{Crew, PlanSource};
use crate::error::{Error, Result};
use crate::plan::{Plan, Task};
use crate::skills::{StepReport, StepStatus};

/// How one task of a plan ended.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum TaskOutcome {
    Ran(StepReport),
    Skipped { task_id: String, because_of: String, summary: String, log_seq: i64 },
}

impl TaskOutcome {
    pub fn task_id(&self) -> &str {
        match self {
            TaskOutcome::Ran(r) => r.task_id.as_deref().unwrap_or_default(),
            TaskOutcome::Skipped { task_id, .. } => task_id,
        }
    }

    pub fn is_done(&self) -> bool {
        matches!(self, TaskOutcome::Ran(r) if r.status == StepStatus::Done)
    }
}

/// Live progress, for a terminal line or a JSON stream.
pub trait Progress: Send + Sync {
    /// The plan about to run, and where it came from.
    fn planned(&self, _plan: &Plan, _source: &PlanSource) {}
    fn started(&self, task: &Task);
    fn finished(&self, task: &Task, outcome: &TaskOutcome);
}

/// A progress sink that shows nothing.
pub struct Quiet;

impl Progress for Quiet {
    fn started(&self, _: &Task) {}
    fn finished(&self, _: &Task, _: &TaskOutcome) {}
}

/// Runs every task of a validated plan; returns the outcomes in plan order.
pub async fn execute(crew: &Crew, plan: &Plan, plan_id: i64, progress: Arc<dyn Progress>) -> Result<Vec<TaskOutcome>> {
    plan.order()?;
    let tasks: BTreeMap<&str, &Task> = plan.tasks.iter().map(|t| (t.id.as_str(), t)).collect();
    let mut outcomes: BTreeMap<String, TaskOutcome> = BTreeMap::new();
    let mut started: BTreeSet<String> = BTreeSet::new();
    let mut running = JoinSet::new();
    loop {
        // Settle every task whose fate is known without running it, then start the ready ones.
        let mut changed = true;
        while changed {
            changed = false;
            for task in &plan.tasks {
                if started.contains(&task.id) {
                    continue;
                }
                let blocker = task.depends_on.iter().find(|d| outcomes.get(*d).is_some_and(|o| !o.is_done()));
                if let Some(blocker) = blocker {
                    let outcome = crew.skip_task(plan_id, task, blocker, &outcomes[blocker]).await?;
                    progress.finished(task, &outcome);
                    started.insert(task.id.clone());
                    outcomes.insert(task.id.clone(), outcome);
                    changed = true;
                }
            }
        }
        for task in &plan.tasks {
            let ready = !started.contains(&task.id)
                && task.depends_on.iter().all(|d| outcomes.get(d).is_some_and(|o| o.is_done()));
            if ready {
                started.insert(task.id.clone());
                progress.started(task);
                let (crew, task) = (crew.clone(), task.clone());
                running.spawn(async move {
                    let report = crew.run_task(plan_id, &task).await;
                    (task, report)
                });
            }
        }
        let Some(joined) = running.join_next().await else { break };
        let (task, report) = joined.map_err(|e| Error::Invalid(format!("a task panicked or was cancelled: {e}")))?;
        let outcome = TaskOutcome::Ran(report?);
        progress.finished(&task, &outcome);
        outcomes.insert(task.id.clone(), outcome);
    }
    Ok(plan.tasks.iter().filter_map(|t| outcomes.remove(&t.id)).collect::<Vec<_>>()).and_then(|v| {
        if v.len() == tasks.len() { Ok(v) } else { Err(Error::InvalidPlan("some tasks never became ready".into())) }
    })
}
