//! Autopilot for one shop: its schedules, running what is due, taking up runs a stopped
//! process left behind, and the owner report.
//!
//! A due time is claimed by inserting its `schedule_runs` row (unique per schedule and due
//! time) in the same transaction that moves the schedule on, so a restarted or second
//! scheduler never runs it twice. Skill calls run under the key `schedule/<id>/<due>` and
//! requests under their plan's keys, so taking up a run that was cut off repeats no effect.
//! The policy is read at every step as always: a pause or revocation applies to the next step.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::{Crew, Recorded};
use crate::analytics::{self, Period};
use crate::clock::{local_midnight, stamp};
use crate::error::{Error, Result};
use crate::executor::{self, Quiet, TaskOutcome};
use crate::lang::Lang;
use crate::money::Money;
use crate::report::{Line, OwnerReport, Pending, Spend};
use crate::schedule::{self, Action, CatchUp, NewSchedule, ReportPeriod, Run, Schedule};
use crate::skills::{self, StepStatus};
use crate::store;
use crate::worklog::{self, Actor, Kind, NewEntry};

/// How many of the period's actions a report lists (the newest); the log has them all.
const MAX_EFFECTS: usize = 20;

/// A due time later than this when first seen counts as missed (the process was down).
pub const GRACE: Duration = Duration::minutes(15);

/// How one run of a schedule ended.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub schedule: String,
    pub due_at: String,
    /// done, pending (something waits for the owner), denied, failed or skipped.
    pub status: String,
    pub summary: String,
    pub plan_id: Option<i64>,
    pub files: Vec<String>,
    pub log_seq: i64,
}

/// A written owner report.
#[derive(Debug, Clone, Serialize)]
pub struct ReportFiles {
    pub title: String,
    pub markdown: String,
    pub html: String,
    pub log_seq: i64,
    #[serde(skip)]
    pub report: Box<OwnerReport>,
}

/// What a run did, before it is recorded.
struct Ran {
    status: &'static str,
    summary: String,
    plan_id: Option<i64>,
    files: Vec<String>,
}

impl Crew {
    /// Gives the shop the default schedules, once in its life (removed ones do not return).
    pub(crate) async fn install_default_schedules(&self) -> Result<()> {
        let shop = &self.inner.shop;
        let installed: bool = sqlx::query_scalar("SELECT default_schedules FROM shops WHERE id = $1")
            .bind(shop.id)
            .fetch_one(&self.inner.db)
            .await?;
        if installed {
            return Ok(());
        }
        let now = self.now();
        let mut tx = store::begin(&self.inner.db).await?;
        let claimed = sqlx::query("UPDATE shops SET default_schedules = TRUE WHERE id = $1 AND NOT default_schedules")
            .bind(shop.id)
            .execute(&mut *tx)
            .await?;
        if claimed.rows_affected() == 0 {
            return Ok(());
        }
        let mut names = Vec::new();
        for new in schedule::defaults(self.inner.lang) {
            let s = schedule::insert(&mut tx, shop.id, shop.timezone, &new, now).await?;
            names.push(format!("{} ({})", s.name, s.cron));
        }
        let summary = match self.inner.lang {
            Lang::Zh => format!("已设置默认自动任务:{}", names.join(", ")),
            Lang::En => format!("default autopilot schedules set: {}", names.join(", ")),
        };
        let mut entry = NewEntry::new(Actor::System, Kind::Schedule, summary);
        entry.details = serde_json::json!({"defaults": names});
        worklog::append(&mut tx, shop.id, &stamp(now), &entry).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn schedules(&self) -> Result<Vec<Schedule>> {
        let mut conn = self.inner.db.acquire().await?;
        schedule::list(&mut conn, self.inner.shop.id).await
    }

    /// The latest runs, newest first.
    pub async fn schedule_runs(&self, limit: i64) -> Result<Vec<Run>> {
        let mut conn = self.inner.db.acquire().await?;
        schedule::runs(&mut conn, self.inner.shop.id, limit).await
    }

    /// `shopcrew schedule add`: checks the employee, the skill and its arguments (or the
    /// request, planned now to show it is understood), stores the schedule and logs it.
    pub async fn add_schedule(&self, mut new: NewSchedule) -> Result<Schedule> {
        match &new.action {
            Action::Skill { skill, args } => {
                let doc = self.inner.catalog.skill(skill).ok_or_else(|| Error::UnknownSkill(skill.clone()))?;
                if new.employee.is_empty() {
                    new.employee = doc.employee.clone();
                }
                let imp = self.inner.registry.get(skill).ok_or_else(|| Error::UnknownSkill(skill.clone()))?;
                imp.check_args(args)?;
            }
            Action::Request { request } => {
                if let (crate::planner::Planned::NotUnderstood(nu), _) = self.plan(request).await? {
                    return Err(Error::Invalid(format!(
                        "the crew would not understand \"{request}\" when it runs: {nu}; reword it (try `shopcrew plan \"…\"`)"
                    )));
                }
                if new.employee.is_empty() {
                    new.employee = "planner".into();
                }
            }
            Action::Report { .. } => {
                if new.employee.is_empty() {
                    new.employee = "analyst".into();
                }
            }
        }
        if self.inner.catalog.employee(&new.employee).is_none() {
            return Err(Error::UnknownEmployee(new.employee));
        }
        let now = self.now();
        let shop = &self.inner.shop;
        let mut tx = store::begin(&self.inner.db).await?;
        let s = schedule::insert(&mut tx, shop.id, shop.timezone, &new, now).await?;
        let summary = match self.inner.lang {
            Lang::Zh => format!("店主添加自动任务 {}({}):{}", s.name, s.cron, s.action.describe()),
            Lang::En => format!("owner added schedule {} ({}): {}", s.name, s.cron, s.action.describe()),
        };
        let mut entry = NewEntry::new(Actor::Owner, Kind::Schedule, summary);
        entry.employee = Some(s.employee.clone());
        entry.details = serde_json::json!({"added": s});
        worklog::append(&mut tx, shop.id, &stamp(now), &entry).await?;
        tx.commit().await?;
        Ok(s)
    }

    /// `shopcrew schedule remove`: the schedule and its run history go; the log keeps both.
    pub async fn remove_schedule(&self, name: &str) -> Result<Schedule> {
        let shop_id = self.inner.shop.id;
        let mut tx = store::begin(&self.inner.db).await?;
        let s = schedule::get(&mut tx, shop_id, name).await?;
        sqlx::query("DELETE FROM schedule_runs WHERE schedule_id = $1").bind(s.id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM schedules WHERE id = $1").bind(s.id).execute(&mut *tx).await?;
        let summary = match self.inner.lang {
            Lang::Zh => format!("店主删除自动任务 {}", s.name),
            Lang::En => format!("owner removed schedule {}", s.name),
        };
        let mut entry = NewEntry::new(Actor::Owner, Kind::Schedule, summary);
        entry.details = serde_json::json!({"removed": s});
        worklog::append(&mut tx, shop_id, &stamp(self.now()), &entry).await?;
        tx.commit().await?;
        Ok(s)
    }

    /// `shopcrew schedule pause|resume`. Resuming starts from the next due time after now:
    /// what fell due while paused is not made up.
    pub async fn set_schedule_enabled(&self, name: &str, enabled: bool) -> Result<Schedule> {
        let shop = &self.inner.shop;
        let now = self.now();
        let mut tx = store::begin(&self.inner.db).await?;
        let s = schedule::get(&mut tx, shop.id, name).await?;
        let next = stamp(s.timing()?.next_after(shop.timezone, now)?);
        sqlx::query("UPDATE schedules SET enabled = $1, next_run_at = $2 WHERE id = $3")
            .bind(enabled)
            .bind(&next)
            .bind(s.id)
            .execute(&mut *tx)
            .await?;
        let summary = match (self.inner.lang, enabled) {
            (Lang::Zh, true) => format!("店主恢复自动任务 {}(下次 {})", s.name, self.local_time(&next)),
            (Lang::Zh, false) => format!("店主暂停自动任务 {}", s.name),
            (Lang::En, true) => format!("owner resumed schedule {} (next {})", s.name, self.local_time(&next)),
            (Lang::En, false) => format!("owner paused schedule {}", s.name),
        };
        let mut entry = NewEntry::new(Actor::Owner, Kind::Schedule, summary);
        entry.details = serde_json::json!({"schedule": s.name, "enabled": enabled});
        worklog::append(&mut tx, shop.id, &stamp(now), &entry).await?;
        let s = schedule::get(&mut tx, shop.id, name).await?;
        tx.commit().await?;
        Ok(s)
    }

    /// `shopcrew schedule run-now`: one run at this moment, under the same rules as a due one.
    pub async fn run_schedule_now(&self, name: &str) -> Result<RunReport> {
        let s = {
            let mut conn = self.inner.db.acquire().await?;
            schedule::get(&mut conn, self.inner.shop.id, name).await?
        };
        let due = stamp(self.now());
        match self.claim(&s, &due, None).await? {
            Some(run_id) => self.run_claimed(&s, run_id, &due, None, None).await,
            None => Err(Error::Invalid(format!(
                "schedule {name} is running now (or already ran this second); wait for it to finish"
            ))),
        }
    }

    /// The earliest time any enabled schedule is due, for the scheduler's sleep.
    pub async fn next_due(&self) -> Result<Option<DateTime<Utc>>> {
        let next: Option<String> = sqlx::query_scalar(
            "SELECT MIN(next_run_at) FROM schedules WHERE shop_id = $1 AND enabled AND next_run_at IS NOT NULL",
        )
        .bind(self.inner.shop.id)
        .fetch_one(&self.inner.db)
        .await?;
        Ok(next.and_then(|t| crate::clock::parse_stamp(&t)))
    }

    /// Runs every schedule due at the crew's clock's now, one after another, and moves each on
    /// to its next due time. A schedule that missed due times while nothing ran does what its
    /// catch-up says: run once for the latest, or skip to the next.
    pub async fn run_due(&self) -> Result<Vec<RunReport>> {
        let now = self.now();
        let tz = self.inner.shop.timezone;
        let mut reports = Vec::new();
        for s in self.schedules().await? {
            if !s.enabled {
                continue;
            }
            let stored = s.next_run_at.as_deref().map(|t| schedule::read_time(&s.name, t)).transpose()?;
            if stored.is_some_and(|next| next > now) {
                continue;
            }
            let timing = match s.timing() {
                Ok(t) => t,
                Err(e) => {
                    tracing::warn!(shop = %self.inner.shop.name, schedule = %s.name, "not run: {e}");
                    continue;
                }
            };
            let next_after_now = stamp(timing.next_after(tz, now)?);
            let Some(next) = stored else {
                self.move_on(&s, &next_after_now).await?;
                continue;
            };
            let (times, count) = timing.due_between(tz, next - Duration::seconds(1), now, 1)?;
            let Some(latest) = times.last().copied() else {
                // The cron changed under a stored due time: start again from now.
                self.move_on(&s, &next_after_now).await?;
                continue;
            };
            let due = stamp(latest);
            let missed = count > 1 || now - latest > GRACE;
            let Some(run_id) = self.claim(&s, &due, Some(&next_after_now)).await? else { continue };
            let note = missed.then(|| match self.inner.lang {
                Lang::Zh => format!("停机期间错过 {count} 次"),
                Lang::En => format!("missed {count} due time(s) while not running"),
            });
            let report = if missed && s.catch_up == CatchUp::Skip {
                let summary = match self.inner.lang {
                    Lang::Zh => {
                        format!("{};按设置跳过,下次 {}", note.unwrap_or_default(), self.local_time(&next_after_now))
                    }
                    Lang::En => format!(
                        "{}; skipped as set (catch-up: skip), next at {}",
                        note.unwrap_or_default(),
                        self.local_time(&next_after_now)
                    ),
                };
                let ran = Ran { status: "skipped", summary, plan_id: None, files: Vec::new() };
                self.finish(&s, run_id, &due, ran).await?
            } else {
                self.run_claimed(&s, run_id, &due, None, note).await?
            };
            reports.push(report);
        }
        Ok(reports)
    }

    /// Takes up the runs a stopped process left `running` or `abandoned`: skill calls again
    /// under their keys, plans through their stored plan, so nothing is done twice.
    pub async fn recover_runs(&self) -> Result<Vec<RunReport>> {
        let rows = sqlx::query(
            "SELECT r.id, r.due_at, r.plan_id, s.name FROM schedule_runs r JOIN schedules s ON s.id = r.schedule_id \
             WHERE s.shop_id = $1 AND r.status IN ('running', 'abandoned') ORDER BY r.due_at, r.id",
        )
        .bind(self.inner.shop.id)
        .fetch_all(&self.inner.db)
        .await?;
        let mut reports = Vec::new();
        for row in rows {
            let (run_id, due, plan_id, name): (i64, String, Option<i64>, String) =
                (row.get("id"), row.get("due_at"), row.get("plan_id"), row.get("name"));
            let s = {
                let mut conn = self.inner.db.acquire().await?;
                schedule::get(&mut conn, self.inner.shop.id, &name).await?
            };
            sqlx::query("UPDATE schedule_runs SET status = 'running' WHERE id = $1")
                .bind(run_id)
                .execute(&self.inner.db)
                .await?;
            let note = Some(match self.inner.lang {
                Lang::Zh => "上次运行被中断,继续完成(已生效的不重复)".to_string(),
                Lang::En => "taken up after an interrupted run (nothing already done is repeated)".to_string(),
            });
            reports.push(self.run_claimed(&s, run_id, &due, plan_id, note).await?);
        }
        Ok(reports)
    }

    /// Marks this shop's running runs abandoned (the process is stopping before they ended)
    /// and logs each; the next start takes them up.
    pub async fn abandon_running(&self) -> Result<usize> {
        let shop_id = self.inner.shop.id;
        let mut tx = store::begin(&self.inner.db).await?;
        let rows = sqlx::query(
            "SELECT r.id, r.due_at, s.name FROM schedule_runs r JOIN schedules s ON s.id = r.schedule_id \
             WHERE s.shop_id = $1 AND r.status = 'running'",
        )
        .bind(shop_id)
        .fetch_all(&mut *tx)
        .await?;
        let at = stamp(self.now());
        for row in &rows {
            let (id, due, name): (i64, String, String) = (row.get("id"), row.get("due_at"), row.get("name"));
            sqlx::query("UPDATE schedule_runs SET status = 'abandoned', finished_at = $1 WHERE id = $2")
                .bind(&at)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let summary = match self.inner.lang {
                Lang::Zh => format!("自动任务 {name}({})因停止服务而中断;下次启动时继续", self.local_time(&due)),
                Lang::En => format!(
                    "schedule {name} ({}) abandoned at shutdown; it is taken up at the next start",
                    self.local_time(&due)
                ),
            };
            let mut entry = NewEntry::new(Actor::Scheduler, Kind::Schedule, summary);
            entry.details = serde_json::json!({"schedule": name, "due_at": due, "status": "abandoned"});
            worklog::append(&mut tx, shop_id, &at, &entry).await?;
        }
        tx.commit().await?;
        Ok(rows.len())
    }

    /// Claims a due time: inserts its run row and moves the schedule on, in one transaction.
    /// `None` when that due time is already taken, or another run of it is still going.
    async fn claim(&self, s: &Schedule, due: &str, next: Option<&str>) -> Result<Option<i64>> {
        let mut tx = store::begin(&self.inner.db).await?;
        let busy: Option<i64> =
            sqlx::query_scalar("SELECT id FROM schedule_runs WHERE schedule_id = $1 AND status = 'running' LIMIT 1")
                .bind(s.id)
                .fetch_optional(&mut *tx)
                .await?;
        if let Some(next) = next {
            sqlx::query("UPDATE schedules SET next_run_at = $1 WHERE id = $2")
                .bind(next)
                .bind(s.id)
                .execute(&mut *tx)
                .await?;
        }
        if busy.is_some() {
            // No overlapping runs: this due time goes by (logged) while the last run works.
            let summary = match self.inner.lang {
                Lang::Zh => format!("自动任务 {} 上一次运行尚未结束,本次({})跳过", s.name, self.local_time(due)),
                Lang::En => format!(
                    "schedule {} still running from before; the run due {} is skipped",
                    s.name,
                    self.local_time(due)
                ),
            };
            let mut entry = NewEntry::new(Actor::Scheduler, Kind::Schedule, summary);
            entry.details =
                serde_json::json!({"schedule": s.name, "due_at": due, "status": "skipped", "overlap": true});
            worklog::append(&mut tx, self.inner.shop.id, &stamp(self.now()), &entry).await?;
            tx.commit().await?;
            return Ok(None);
        }
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO schedule_runs (schedule_id, due_at, started_at, status) VALUES ($1, $2, $3, 'running') \
             ON CONFLICT (schedule_id, due_at) DO NOTHING RETURNING id",
        )
        .bind(s.id)
        .bind(due)
        .bind(stamp(self.now()))
        .fetch_optional(&mut *tx)
        .await?;
        if id.is_some() {
            sqlx::query("UPDATE schedules SET last_run_at = $1 WHERE id = $2")
                .bind(due)
                .bind(s.id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    async fn move_on(&self, s: &Schedule, next: &str) -> Result<()> {
        sqlx::query("UPDATE schedules SET next_run_at = $1 WHERE id = $2")
            .bind(next)
            .bind(s.id)
            .execute(&self.inner.db)
            .await?;
        Ok(())
    }

    /// Runs a claimed due time (or takes one up again with its plan) and records how it ended.
    async fn run_claimed(
        &self,
        s: &Schedule,
        run_id: i64,
        due: &str,
        plan_id: Option<i64>,
        note: Option<String>,
    ) -> Result<RunReport> {
        let mut ran = match self.paused_reason(&s.employee).await? {
            Some(why) => Ran { status: "skipped", summary: why, plan_id: None, files: Vec::new() },
            None => match self.run_action(s, run_id, due, plan_id).await {
                Ok(ran) => ran,
                Err(e) => Ran { status: "failed", summary: e.to_string(), plan_id, files: Vec::new() },
            },
        };
        if let Some(note) = note {
            ran.summary = format!("{note}; {}", ran.summary);
        }
        self.finish(s, run_id, due, ran).await
    }

    /// Why nothing may run for `employee` now: the whole crew or the employee is paused.
    async fn paused_reason(&self, employee: &str) -> Result<Option<String>> {
        let policy = self.effective_policy().await?.policy;
        let employee_paused = policy.employees.get(employee).is_some_and(|e| e.paused);
        Ok(match (policy.paused, employee_paused, self.inner.lang) {
            (true, _, Lang::Zh) => Some("店主已暂停整个团队,本次未运行".into()),
            (true, _, Lang::En) => Some("the owner paused the whole crew; nothing was run".into()),
            (_, true, Lang::Zh) => Some(format!("店主已暂停 {employee},本次未运行")),
            (_, true, Lang::En) => Some(format!("the owner paused {employee}; nothing was run")),
            _ => None,
        })
    }

    async fn run_action(&self, s: &Schedule, run_id: i64, due: &str, plan_id: Option<i64>) -> Result<Ran> {
        match &s.action {
            Action::Skill { skill, args } => {
                let req = skills::StepRequest {
                    employee: s.employee.clone(),
                    skill: skill.clone(),
                    args: args.clone(),
                    actor: Actor::Scheduler,
                    plan_id: None,
                    task_id: None,
                    approval: None,
                    key: Some(format!("schedule/{}/{due}", s.id)),
                };
                let step = self.run_step(&req).await?;
                let status = match step.status {
                    StepStatus::Done => "done",
                    StepStatus::Pending => "pending",
                    StepStatus::Denied => "denied",
                    StepStatus::Failed => "failed",
                };
                Ok(Ran { status, summary: step.summary, plan_id: None, files: step.files })
            }
            Action::Request { request } => {
                let (plan_id, plan) = match plan_id {
                    Some(id) => (id, self.stored_plan(id).await?),
                    None => match self.plan_and_record(request, Actor::Scheduler).await? {
                        Recorded::NotUnderstood(result) => {
                            let summary = match result {
                                super::ChatResult::NotUnderstood { answer, .. } => answer,
                                super::ChatResult::Ran { .. } => String::new(),
                            };
                            return Ok(Ran { status: "failed", summary, plan_id: None, files: Vec::new() });
                        }
                        Recorded::Planned { plan_id, plan, .. } => {
                            sqlx::query("UPDATE schedule_runs SET plan_id = $1 WHERE id = $2")
                                .bind(plan_id)
                                .bind(run_id)
                                .execute(&self.inner.db)
                                .await?;
                            (plan_id, plan)
                        }
                    },
                };
                let outcomes = executor::execute(self, &plan, plan_id, Arc::new(Quiet)).await?;
                Ok(plan_outcome(plan_id, &outcomes, self.inner.lang))
            }
            Action::Report { period } => {
                let files = self.write_report(*period, Actor::Scheduler).await?;
                let summary = match self.inner.lang {
                    Lang::Zh => format!("已生成 {}:{}", files.title, files.html),
                    Lang::En => format!("wrote {}: {}", files.title, files.html),
                };
                Ok(Ran { status: "done", summary, plan_id: None, files: vec![files.markdown, files.html] })
            }
        }
    }

    /// Records how a run ended, in its row and in the log.
    async fn finish(&self, s: &Schedule, run_id: i64, due: &str, ran: Ran) -> Result<RunReport> {
        let at = stamp(self.now());
        let summary = match self.inner.lang {
            Lang::Zh => format!("自动任务 {}({}):{}", s.name, self.local_time(due), ran.summary),
            Lang::En => format!("schedule {} ({}): {}", s.name, self.local_time(due), ran.summary),
        };
        let mut tx = store::begin(&self.inner.db).await?;
        let mut entry = NewEntry::new(Actor::Scheduler, Kind::Schedule, summary.clone());
        entry.employee = Some(s.employee.clone());
        entry.plan_id = ran.plan_id;
        entry.details =
            serde_json::json!({"schedule": s.name, "due_at": due, "status": ran.status, "files": ran.files});
        let seq = worklog::append(&mut tx, self.inner.shop.id, &at, &entry).await?;
        sqlx::query(
            "UPDATE schedule_runs SET status = $1, finished_at = $2, summary = $3, plan_id = COALESCE($4, plan_id), \
             log_seq = $5 WHERE id = $6",
        )
        .bind(ran.status)
        .bind(&at)
        .bind(&ran.summary)
        .bind(ran.plan_id)
        .bind(seq)
        .bind(run_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(RunReport {
            schedule: s.name.clone(),
            due_at: due.to_string(),
            status: ran.status.to_string(),
            summary,
            plan_id: ran.plan_id,
            files: ran.files,
            log_seq: seq,
        })
    }

    /// A stored UTC time as the shop's local `MM-DD HH:MM`.
    fn local_time(&self, text: &str) -> String {
        crate::clock::parse_stamp(text)
            .map(|t| t.with_timezone(&self.inner.shop.timezone).format("%m-%d %H:%M").to_string())
            .unwrap_or_else(|| text.to_string())
    }

    /// Gathers the owner report for the day (yesterday) or week (the seven days to yesterday).
    pub async fn owner_report(&self, period: ReportPeriod) -> Result<OwnerReport> {
        let shop = &self.inner.shop;
        let (tz, today, lang) = (shop.timezone, self.today(), self.inner.lang);
        let window = match period {
            ReportPeriod::Day => Period::Yesterday,
            ReportPeriod::Week => Period::Last7Days,
        };
        let mut conn = self.inner.db.acquire().await?;
        let bad = |e: analytics::AnalyticsError| match e {
            analytics::AnalyticsError::Db(e) => Error::Db(e),
            analytics::AnalyticsError::BadPeriod(m) => Error::Invalid(m),
        };
        let sales = analytics::sales_report(&mut conn, shop.id, tz, &window, today).await.map_err(bad)?;
        let daily = match period {
            ReportPeriod::Day => {
                analytics::sales_report(&mut conn, shop.id, tz, &Period::Last7Days, today)
                    .await
                    .map_err(bad)?
                    .current
                    .daily
            }
            ReportPeriod::Week => sales.current.daily.clone(),
        };
        let diagnosis = analytics::diagnose(&mut conn, shop.id, tz, today).await.map_err(bad)?;
        let roi = analytics::campaign_roi(&mut conn, shop.id, None).await?;
        let (from, to) = (sales.current.from, sales.current.to);
        let (start, end) = (stamp(local_midnight(tz, from)), stamp(local_midnight(tz, to.succ_opt().unwrap_or(to))));
        let rows = sqlx::query(
            "SELECT at, actor, kind, employee, summary, amount_fen, details FROM work_log \
             WHERE shop_id = $1 AND at >= $2 AND at < $3 AND kind IN ('schedule', 'effect', 'decision') ORDER BY seq",
        )
        .bind(shop.id)
        .bind(&start)
        .bind(&end)
        .fetch_all(&mut *conn)
        .await?;
        drop(conn);
        let (mut runs, mut effects, mut denials, mut spent) = (BTreeMap::new(), Vec::new(), 0, Money::ZERO);
        for r in &rows {
            let (at, actor, kind): (String, String, String) = (r.get("at"), r.get("actor"), r.get("kind"));
            let summary: String = r.get("summary");
            let employee: Option<String> = r.get("employee");
            let details: serde_json::Value = serde_json::from_str(&r.get::<String, _>("details")).unwrap_or_default();
            match kind.as_str() {
                "schedule" if actor == "scheduler" => {
                    let (Some(name), Some(status)) = (details["schedule"].as_str(), details["status"].as_str()) else {
                        continue;
                    };
                    let entry = runs.entry(name.to_string()).or_insert_with(|| (BTreeMap::new(), String::new()));
                    *entry.0.entry(status.to_string()).or_insert(0_usize) += 1;
                    entry.1 = summary;
                }
                "effect" => {
                    if let Some(fen) = r.get::<Option<i64>, _>("amount_fen") {
                        spent = spent.checked_add(Money::from_fen(fen)).unwrap_or(spent);
                    }
                    // Scheduled skill calls are counted with their schedule above.
                    if actor != "scheduler" {
                        effects.push(Line {
                            at: self.local_time(&at),
                            employee: employee.unwrap_or_default(),
                            summary,
                        });
                    }
                }
                "decision" if details["decision"] == "deny" => denials += 1,
                _ => {}
            }
        }
        // One line per schedule: how often it ran, how, and what the latest run said.
        let autopilot: Vec<String> = runs
            .into_iter()
            .map(|(name, (statuses, latest))| {
                let total: usize = statuses.values().sum();
                let how: Vec<String> = statuses.iter().map(|(s, n)| format!("{s} {n}")).collect();
                match lang {
                    Lang::Zh => format!("{name} ×{total}({});最近一次:{latest}", how.join(",")),
                    Lang::En => format!("{name} ×{total} ({}); latest: {latest}", how.join(", ")),
                }
            })
            .collect();
        let more_effects = effects.len().saturating_sub(MAX_EFFECTS);
        let effects = effects.split_off(more_effects);
        let ledger = self.ledger().await?;
        let approvals = self
            .approvals(false)
            .await?
            .into_iter()
            .map(|a| Pending {
                id: a.id,
                employee: a.employee,
                skill: a.skill,
                reason: crate::money::in_currency(a.reason.get(lang), &shop.currency),
                expires_at: self.local_time(&a.expires_at),
            })
            .collect();
        let in_currency = |lines: &[String]| -> Vec<String> {
            lines.iter().map(|l| crate::money::in_currency(l, &shop.currency)).collect()
        };
        let catalog = &self.inner.catalog;
        let proposals = diagnosis
            .tasks
            .iter()
            .map(|t| {
                let (employee, skill) = (t["employee"].as_str().unwrap_or(""), t["skill"].as_str().unwrap_or(""));
                let who = catalog.employee(employee).map_or(employee.to_string(), |e| e.name.get(lang).to_string());
                let what = catalog.skill(skill).map_or(skill.to_string(), |s| s.name.get(lang).to_string());
                format!("{who} · {what} ({skill} {})", t["args"])
            })
            .collect();
        Ok(OwnerReport {
            shop: shop.title.clone(),
            currency: shop.currency.clone(),
            lang,
            period,
            from,
            to,
            written_at: stamp(self.now()),
            daily,
            diagnosis: in_currency(match lang {
                Lang::Zh => &diagnosis.zh,
                Lang::En => &diagnosis.en,
            }),
            sales,
            proposals,
            autopilot: in_currency(&autopilot),
            effects: effects
                .into_iter()
                .map(|l| Line { summary: crate::money::in_currency(&l.summary, &shop.currency), ..l })
                .collect(),
            more_effects,
            denials,
            spend: Spend {
                period: spent,
                today: ledger.spent_today,
                daily_cap: ledger.daily_cap,
                month: ledger.spent_month,
                monthly_cap: ledger.monthly_cap,
                ai_today: ledger.ai.spent_yuan,
                ai_cap: ledger.ai.budget_yuan,
            },
            roi,
            approvals,
        })
    }

    /// `shopcrew report`: writes the owner report as Markdown and standalone HTML under
    /// `assets/<shop>/reports/`, records both as assets and logs it (by `actor`).
    pub async fn write_report(&self, period: ReportPeriod, actor: Actor) -> Result<ReportFiles> {
        let report = self.owner_report(period).await?;
        let shop = &self.inner.shop;
        let dir_rel = std::path::PathBuf::from("assets").join(&shop.name).join("reports");
        let dir = self.inner.home.root().join(&dir_rel);
        std::fs::create_dir_all(&dir).map_err(|source| Error::Io { path: dir.clone(), source })?;
        let stem = format!("report-{}-{}", period.as_str(), report.to);
        let title = report.title();
        let (markdown, html) = (report.markdown(), report.html());
        let mut paths = Vec::new();
        let at = stamp(self.now());
        let mut tx = store::begin(&self.inner.db).await?;
        for (ext, body) in [("md", &markdown), ("html", &html)] {
            let name = format!("{stem}.{ext}");
            let path = dir.join(&name);
            std::fs::write(&path, body.as_bytes()).map_err(|source| Error::Io { path: path.clone(), source })?;
            let relative = dir_rel.join(&name).to_string_lossy().into_owned();
            sqlx::query(
                "INSERT INTO assets (shop_id, kind, title, path, sha256, created_at) VALUES ($1, 'report', $2, $3, $4, $5)",
            )
            .bind(shop.id)
            .bind(&title)
            .bind(&relative)
            .bind(hex::encode(Sha256::digest(body.as_bytes())))
            .bind(&at)
            .execute(&mut *tx)
            .await?;
            paths.push(relative);
        }
        let mut entry = NewEntry::new(actor, Kind::Report, format!("{title}: {}", paths.join(", ")));
        entry.employee = Some("analyst".into());
        entry.details = serde_json::json!({
            "period": period, "from": report.from, "to": report.to, "files": paths, "title": title,
            "brief": report.brief(), "pending_approvals": report.approvals.len(),
        });
        let seq = worklog::append(&mut tx, shop.id, &at, &entry).await?;
        tx.commit().await?;
        let html_path = paths.pop().unwrap_or_default();
        let md_path = paths.pop().unwrap_or_default();
        Ok(ReportFiles { title, markdown: md_path, html: html_path, log_seq: seq, report: Box::new(report) })
    }
}

/// One line for a plan run on autopilot: how many tasks ended how.
fn plan_outcome(plan_id: i64, outcomes: &[TaskOutcome], lang: Lang) -> Ran {
    let (mut done, mut pending, mut denied, mut failed, mut skipped) = (0, 0, 0, 0, 0);
    for o in outcomes {
        match o {
            TaskOutcome::Ran(r) => match r.status {
                StepStatus::Done => done += 1,
                StepStatus::Pending => pending += 1,
                StepStatus::Denied => denied += 1,
                StepStatus::Failed => failed += 1,
            },
            TaskOutcome::Skipped { .. } => skipped += 1,
        }
    }
    let status = if failed > 0 {
        "failed"
    } else if denied > 0 {
        "denied"
    } else if pending > 0 {
        "pending"
    } else {
        "done"
    };
    let summary = match lang {
        Lang::Zh => format!("计划 #{plan_id}:完成 {done},待批准 {pending},被拒 {denied},失败 {failed},跳过 {skipped}"),
        Lang::En => format!(
            "plan #{plan_id}: {done} done, {pending} waiting for approval, {denied} denied, {failed} failed, {skipped} skipped"
        ),
    };
    Ran { status, summary, plan_id: Some(plan_id), files: Vec::new() }
}
