//! Autopilot schedules: what the crew does on its own and when, stored per shop.
//!
//! A schedule's `cron` (five fields: minute hour day month weekday) is read in the shop's time
//! zone, so "0 9 * * *" is nine in the morning where the shop is, daylight saving included.
//! This module holds the types, the cron arithmetic and the rows; running them is
//! `crew::autopilot`.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};
use serde::{Deserialize, Serialize};
use sqlx::{Row, SqliteConnection};

use crate::clock::{parse_stamp, stamp};
use crate::error::{Error, Result};
use crate::lang::Lang;

/// A parsed cron expression, kept with its text.
#[derive(Clone)]
pub struct Timing {
    text: String,
    cron: Cron,
}

impl fmt::Debug for Timing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timing({:?})", self.text)
    }
}

impl FromStr for Timing {
    type Err = Error;

    fn from_str(text: &str) -> Result<Timing> {
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let fields = text.split(' ').filter(|f| !f.is_empty()).count();
        if fields != 5 && !text.starts_with('@') {
            return Err(Error::Invalid(format!(
                "cron `{text}` has {fields} fields; write five: minute hour day-of-month month day-of-week, \
                 e.g. \"0 9 * * *\" for 09:00 daily or \"30 8 * * 1\" for Mondays 08:30"
            )));
        }
        let parser = CronParser::builder().seconds(Seconds::Disallowed).year(Year::Disallowed).build();
        let cron = parser.parse(&text).map_err(|e| {
            Error::Invalid(format!(
                "cron `{text}` cannot be read ({e}); write five fields: minute hour day-of-month month \
                 day-of-week, e.g. \"0 9 * * *\""
            ))
        })?;
        Ok(Timing { text, cron })
    }
}

impl Timing {
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The first time strictly after `after`, on the shop's local clock.
    pub fn next_after(&self, tz: Tz, after: DateTime<Utc>) -> Result<DateTime<Utc>> {
        let local = after.with_timezone(&tz);
        self.cron
            .find_next_occurrence(&local, false)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| Error::Invalid(format!("cron `{}` has no next time: {e}", self.text)))
    }

    /// The due times in `(after, until]`, at most `limit` of them (oldest first), and how many
    /// there were in all.
    pub fn due_between(
        &self,
        tz: Tz,
        after: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: usize,
    ) -> Result<(Vec<DateTime<Utc>>, usize)> {
        let mut times = Vec::new();
        let mut count = 0;
        let mut t = after;
        loop {
            let next = self.next_after(tz, t)?;
            if next > until {
                break;
            }
            count += 1;
            if times.len() < limit {
                times.push(next);
            } else {
                times.remove(0);
                times.push(next);
            }
            t = next;
            // A minutely schedule down for years would loop long; the count is enough.
            if count >= 100_000 {
                break;
            }
        }
        Ok((times, count))
    }
}

/// What a schedule does when it is due.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Plans a request in plain words and runs the plan.
    Request { request: String },
    /// Calls one skill with these arguments.
    Skill { skill: String, args: serde_json::Value },
    /// Writes the owner report for a day or a week.
    Report { period: ReportPeriod },
}

impl Action {
    pub fn describe(&self) -> String {
        match self {
            Action::Request { request } => format!("\"{request}\""),
            Action::Skill { skill, args } => format!("{skill} {args}"),
            Action::Report { period } => format!("report {}", period.as_str()),
        }
    }
}

/// The span an owner report covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportPeriod {
    Day,
    Week,
}

impl ReportPeriod {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportPeriod::Day => "day",
            ReportPeriod::Week => "week",
        }
    }
}

impl FromStr for ReportPeriod {
    type Err = Error;
    fn from_str(s: &str) -> Result<ReportPeriod> {
        match s.trim() {
            "day" | "daily" => Ok(ReportPeriod::Day),
            "week" | "weekly" => Ok(ReportPeriod::Week),
            other => Err(Error::Invalid(format!("period `{other}`: use day or week"))),
        }
    }
}

/// What to do about due times missed while nothing was running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CatchUp {
    /// Run the latest missed time once.
    #[default]
    Once,
    /// Skip what was missed; run at the next due time.
    Skip,
}

impl CatchUp {
    pub fn as_str(self) -> &'static str {
        match self {
            CatchUp::Once => "once",
            CatchUp::Skip => "skip",
        }
    }
}

impl FromStr for CatchUp {
    type Err = Error;
    fn from_str(s: &str) -> Result<CatchUp> {
        match s.trim() {
            "once" => Ok(CatchUp::Once),
            "skip" => Ok(CatchUp::Skip),
            other => Err(Error::Invalid(format!("catch-up `{other}`: use once or skip"))),
        }
    }
}

/// A stored schedule.
#[derive(Debug, Clone, Serialize)]
pub struct Schedule {
    pub id: i64,
    pub name: String,
    pub cron: String,
    pub employee: String,
    #[serde(flatten)]
    pub action: Action,
    pub enabled: bool,
    pub catch_up: CatchUp,
    pub next_run_at: Option<String>,
    pub last_run_at: Option<String>,
}

impl Schedule {
    pub fn timing(&self) -> Result<Timing> {
        self.cron.parse()
    }
}

/// A schedule to add.
#[derive(Debug, Clone)]
pub struct NewSchedule {
    pub name: String,
    pub cron: String,
    pub employee: String,
    pub action: Action,
    pub catch_up: CatchUp,
}

/// The schedules every new shop starts with; the owner edits or removes them like any other.
pub fn defaults(lang: Lang) -> Vec<NewSchedule> {
    let new = |name: &str, cron: &str, employee: &str, action: Action| NewSchedule {
        name: name.into(),
        cron: cron.into(),
        employee: employee.into(),
        action,
        catch_up: CatchUp::Once,
    };
    let inventory = match lang {
        Lang::Zh => "检查库存并做补货计划",
        Lang::En => "check stock and make a restock plan",
    };
    vec![
        new("sales-report", "0 9 * * *", "analyst", Action::Report { period: ReportPeriod::Day }),
        new(
            "inbox-sweep",
            "0 * * * *",
            "customer_service",
            Action::Skill { skill: "cs.reply".into(), args: serde_json::json!({}) },
        ),
        new("inventory-check", "0 8 * * *", "analyst", Action::Request { request: inventory.into() }),
        new(
            "business-plan",
            "30 8 * * 1",
            "analyst",
            Action::Skill { skill: "analyst.business_plan".into(), args: serde_json::json!({}) },
        ),
        new("weekly-report", "0 9 * * 1", "analyst", Action::Report { period: ReportPeriod::Week }),
    ]
}

/// Checks a schedule's name: letters, digits, `-` and `_`, so it is easy to type.
pub fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || name.len() > 64 || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(Error::Invalid(format!(
            "schedule name `{name}`: use up to 64 letters, digits, `-` or `_` (e.g. evening-report)"
        )));
    }
    Ok(())
}

const COLUMNS: &str =
    "id, name, cron, employee, action, request, skill, args, period, enabled, catch_up, next_run_at, last_run_at";

fn from_row(r: &sqlx::sqlite::SqliteRow) -> Result<Schedule> {
    let action: String = r.get("action");
    let name: String = r.get("name");
    let broken = |what: &str| Error::Invalid(format!("stored schedule `{name}` is broken: {what}"));
    let action = match action.as_str() {
        "request" => Action::Request { request: r.get::<Option<String>, _>("request").unwrap_or_default() },
        "skill" => {
            let args: String = r.get::<Option<String>, _>("args").unwrap_or_else(|| "{}".into());
            Action::Skill {
                skill: r.get::<Option<String>, _>("skill").unwrap_or_default(),
                args: serde_json::from_str(&args).map_err(|e| broken(&e.to_string()))?,
            }
        }
        "report" => Action::Report { period: r.get::<Option<String>, _>("period").unwrap_or_default().parse()? },
        other => return Err(broken(&format!("action `{other}`"))),
    };
    let catch_up: String = r.get("catch_up");
    Ok(Schedule {
        id: r.get("id"),
        name: name.clone(),
        cron: r.get("cron"),
        employee: r.get("employee"),
        action,
        enabled: r.get("enabled"),
        catch_up: catch_up.parse()?,
        next_run_at: r.get("next_run_at"),
        last_run_at: r.get("last_run_at"),
    })
}

pub async fn list(conn: &mut SqliteConnection, shop_id: i64) -> Result<Vec<Schedule>> {
    let sql = format!("SELECT {COLUMNS} FROM schedules WHERE shop_id = $1 ORDER BY name");
    let rows = sqlx::query(&sql).bind(shop_id).fetch_all(conn).await?;
    rows.iter().map(from_row).collect()
}

pub async fn get(conn: &mut SqliteConnection, shop_id: i64, name: &str) -> Result<Schedule> {
    let sql = format!("SELECT {COLUMNS} FROM schedules WHERE shop_id = $1 AND name = $2");
    match sqlx::query(&sql).bind(shop_id).bind(name).fetch_optional(&mut *conn).await? {
        Some(row) => from_row(&row),
        None => {
            let known: Vec<String> = list(conn, shop_id).await?.into_iter().map(|s| s.name).collect();
            let known = if known.is_empty() { "none".to_string() } else { known.join(", ") };
            Err(Error::NoSuchSchedule(name.to_string(), known))
        }
    }
}

/// Inserts a schedule (its `next_run_at` from `now`); the name must be new in the shop.
pub async fn insert(
    conn: &mut SqliteConnection,
    shop_id: i64,
    tz: Tz,
    new: &NewSchedule,
    now: DateTime<Utc>,
) -> Result<Schedule> {
    check_name(&new.name)?;
    let timing: Timing = new.cron.parse()?;
    let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM schedules WHERE shop_id = $1 AND name = $2")
        .bind(shop_id)
        .bind(&new.name)
        .fetch_optional(&mut *conn)
        .await?;
    if taken.is_some() {
        return Err(Error::Invalid(format!(
            "a schedule named `{}` exists; remove it first or pick another name",
            new.name
        )));
    }
    let (request, skill, args, period) = match &new.action {
        Action::Request { request } => (Some(request.clone()), None, None, None),
        Action::Skill { skill, args } => (None, Some(skill.clone()), Some(args.to_string()), None),
        Action::Report { period } => (None, None, None, Some(period.as_str())),
    };
    let action = match new.action {
        Action::Request { .. } => "request",
        Action::Skill { .. } => "skill",
        Action::Report { .. } => "report",
    };
    let next = stamp(timing.next_after(tz, now)?);
    sqlx::query(
        "INSERT INTO schedules (shop_id, name, cron, employee, action, request, skill, args, period, catch_up, \
         next_run_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(shop_id)
    .bind(&new.name)
    .bind(timing.as_str())
    .bind(&new.employee)
    .bind(action)
    .bind(request)
    .bind(skill)
    .bind(args)
    .bind(period)
    .bind(new.catch_up.as_str())
    .bind(&next)
    .bind(stamp(now))
    .execute(&mut *conn)
    .await?;
    get(conn, shop_id, &new.name).await
}

/// A run of a schedule at one due time.
#[derive(Debug, Clone, Serialize)]
pub struct Run {
    pub id: i64,
    pub schedule: String,
    pub due_at: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub status: String,
    pub plan_id: Option<i64>,
    pub summary: String,
}

/// The runs of a shop's schedules, newest first.
pub async fn runs(conn: &mut SqliteConnection, shop_id: i64, limit: i64) -> Result<Vec<Run>> {
    let rows = sqlx::query(
        "SELECT r.id, s.name, r.due_at, r.started_at, r.finished_at, r.status, r.plan_id, r.summary \
         FROM schedule_runs r JOIN schedules s ON s.id = r.schedule_id WHERE s.shop_id = $1 \
         ORDER BY r.due_at DESC, r.id DESC LIMIT $2",
    )
    .bind(shop_id)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .iter()
        .map(|r| Run {
            id: r.get("id"),
            schedule: r.get("name"),
            due_at: r.get("due_at"),
            started_at: r.get("started_at"),
            finished_at: r.get("finished_at"),
            status: r.get("status"),
            plan_id: r.get("plan_id"),
            summary: r.get("summary"),
        })
        .collect())
}

/// Reads a stored time, or says which schedule holds a broken one.
pub fn read_time(name: &str, text: &str) -> Result<DateTime<Utc>> {
    parse_stamp(text).ok_or_else(|| Error::Invalid(format!("schedule `{name}` has an unreadable time `{text}`")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    #[test]
    fn nine_in_the_morning_is_shop_local() {
        let t: Timing = "0 9 * * *".parse().unwrap();
        let after = utc(2026, 11, 24, 2, 0);
        // 09:00 in Shanghai is 01:00 UTC; at 02:00 UTC the next one is tomorrow's.
        assert_eq!(t.next_after(chrono_tz::Asia::Shanghai, after).unwrap(), utc(2026, 11, 25, 1, 0));
        assert_eq!(t.next_after(chrono_tz::UTC, after).unwrap(), utc(2026, 11, 24, 9, 0));
        // Across a daylight-saving change the local hour holds (London: BST ends 25 Oct 2026).
        let london = chrono_tz::Europe::London;
        assert_eq!(t.next_after(london, utc(2026, 10, 24, 9, 0)).unwrap(), utc(2026, 10, 25, 9, 0));
        assert_eq!(t.next_after(london, utc(2026, 10, 23, 9, 0)).unwrap(), utc(2026, 10, 24, 8, 0));
    }

    #[test]
    fn mondays_and_missed_times() {
        let t: Timing = "30 8 * * 1".parse().unwrap();
        // 2026-11-30 is a Monday.
        let next = t.next_after(chrono_tz::UTC, utc(2026, 11, 24, 0, 0)).unwrap();
        assert_eq!(next, utc(2026, 11, 30, 8, 30));
        let hourly: Timing = "0 * * * *".parse().unwrap();
        let (times, count) =
            hourly.due_between(chrono_tz::UTC, utc(2026, 11, 24, 0, 0), utc(2026, 11, 25, 0, 0), 2).unwrap();
        assert_eq!(count, 24);
        assert_eq!(times, vec![utc(2026, 11, 24, 23, 0), utc(2026, 11, 25, 0, 0)]);
    }

    #[test]
    fn bad_cron_says_how_to_write_one() {
        for bad in ["", "0 9 * *", "0 0 9 * * *", "61 * * * *", "every day"] {
            let err = bad.parse::<Timing>().unwrap_err().to_string();
            assert!(err.contains("minute hour day-of-month month day-of-week"), "{bad}: {err}");
        }
        assert!(check_name("evening report").is_err());
        assert!(check_name("evening-report").is_ok());
    }
}
