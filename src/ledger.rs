//! The budget ledger: money the crew commits, per shop-local day, never above the caps.
//!
//! Money moves in two steps. [`reserve`] is one conditional `UPDATE` per day: it adds the
//! amount only where the shop's day and month and the employee's own day and month stay within
//! their caps, reports whether it did, and writes `reserved` lines under the action's
//! idempotency key. [`commit`] turns them `committed` and points them at the effect's work-log
//! entry. No code here reads a total and then writes it back, so concurrent writers (tasks,
//! processes) cannot overspend. Both run inside the step's transaction: a failed or refused
//! step rolls back, which releases its reservation with it.

use chrono::{Datelike, NaiveDate};
use sqlx::SqliteConnection;

use crate::error::Result;
use crate::lang::Text;
use crate::money::Money;
use crate::policy::{Budget, Spend, Verdict};

/// The caps one reservation must stay within.
#[derive(Debug, Clone, Copy)]
pub struct Caps {
    pub daily: Money,
    pub monthly: Money,
    /// The spending employee's own caps, when the owner set them.
    pub employee_daily: Option<Money>,
    pub employee_monthly: Option<Money>,
}

impl Caps {
    pub fn shop(budget: &Budget) -> Caps {
        Caps { daily: budget.daily, monthly: budget.monthly, employee_daily: None, employee_monthly: None }
    }
}

/// Who spends, and under which idempotency key.
#[derive(Debug, Clone, Copy)]
pub struct Spender<'a> {
    pub employee: &'a str,
    pub skill: &'a str,
    pub key: &'a str,
}

/// Reserves every day of `spend` against the shop's and the employee's daily and monthly caps,
/// writing `reserved` ledger lines. `Ok(Some(verdict))` means a cap would be exceeded: the
/// caller must roll the transaction back, which drops whatever this call reserved.
pub async fn reserve(
    conn: &mut SqliteConnection,
    shop_id: i64,
    caps: &Caps,
    spend: &Spend,
    who: &Spender<'_>,
    at: &str,
) -> Result<Option<Verdict>> {
    for (day, amount) in &spend.days {
        let day_text = day.to_string();
        sqlx::query("INSERT INTO budget_days (shop_id, day, spent_fen) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING")
            .bind(shop_id)
            .bind(&day_text)
            .execute(&mut *conn)
            .await?;
        let (month_start, next_month) = month_bounds(*day);
        // One statement decides: the day, the month, and the employee's own day and month.
        let updated = sqlx::query(
            "UPDATE budget_days SET spent_fen = spent_fen + $3 \
             WHERE shop_id = $1 AND day = $2 AND spent_fen + $3 <= $4 \
               AND (SELECT COALESCE(SUM(spent_fen), 0) FROM budget_days \
                    WHERE shop_id = $1 AND day >= $5 AND day < $6) + $3 <= $7 \
               AND ($8 IS NULL OR (SELECT COALESCE(SUM(amount_fen), 0) FROM ledger \
                    WHERE shop_id = $1 AND day = $2 AND employee = $10) + $3 <= $8) \
               AND ($9 IS NULL OR (SELECT COALESCE(SUM(amount_fen), 0) FROM ledger \
                    WHERE shop_id = $1 AND day >= $5 AND day < $6 AND employee = $10) + $3 <= $9)",
        )
        .bind(shop_id)
        .bind(&day_text)
        .bind(amount.fen())
        .bind(caps.daily.fen())
        .bind(month_start.to_string())
        .bind(next_month.to_string())
        .bind(caps.monthly.fen())
        .bind(caps.employee_daily.map(Money::fen))
        .bind(caps.employee_monthly.map(Money::fen))
        .bind(who.employee)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        if updated == 0 {
            return Ok(Some(refusal(conn, shop_id, caps, who.employee, *day, *amount).await?));
        }
        sqlx::query(
            "INSERT INTO ledger (shop_id, day, amount_fen, purpose, skill, employee, idem_key, status, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'reserved', $8)",
        )
        .bind(shop_id)
        .bind(&day_text)
        .bind(amount.fen())
        .bind(&spend.purpose)
        .bind(who.skill)
        .bind(who.employee)
        .bind(who.key)
        .bind(at)
        .execute(&mut *conn)
        .await?;
    }
    Ok(None)
}

/// Commits the lines reserved under `key`, pointing them at the work-log entry of the effect.
/// Returns how many lines it committed.
pub async fn commit(conn: &mut SqliteConnection, shop_id: i64, key: &str, log_seq: i64) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE ledger SET status = 'committed', log_seq = $3 WHERE shop_id = $1 AND idem_key = $2 AND status = 'reserved'",
    )
    .bind(shop_id)
    .bind(key)
    .bind(log_seq)
    .execute(&mut *conn)
    .await?
    .rows_affected())
}

/// Explains a refused reservation. Read after the refusal only to word the reason; the
/// decision itself was the conditional update's.
async fn refusal(
    conn: &mut SqliteConnection,
    shop_id: i64,
    caps: &Caps,
    employee: &str,
    day: NaiveDate,
    amount: Money,
) -> Result<Verdict> {
    let spent = spent_on(conn, shop_id, day).await?;
    let short = |m: Money| m.short_text();
    if spent.fen() + amount.fen() > caps.daily.fen() {
        let left = Money::from_fen((caps.daily.fen() - spent.fen()).max(0));
        return Ok(Verdict {
            rule: "budget.daily".into(),
            reason: Text::new(
                format!(
                    "{day} 已花 ¥{},再花 ¥{} 将超过每日预算 ¥{}(剩余 ¥{})",
                    short(spent),
                    short(amount),
                    short(caps.daily),
                    short(left)
                ),
                format!(
                    "{day}: ¥{} already spent; ¥{} more would exceed the daily budget ¥{} (¥{} left)",
                    short(spent),
                    short(amount),
                    short(caps.daily),
                    short(left)
                ),
            ),
        });
    }
    let (month_start, next_month) = month_bounds(day);
    let month_total = |employee: Option<&str>| {
        sqlx::query_scalar::<_, i64>(
            "SELECT COALESCE(SUM(amount_fen), 0) FROM ledger \
             WHERE shop_id = $1 AND day >= $2 AND day < $3 AND ($4 IS NULL OR employee = $4)",
        )
        .bind(shop_id)
        .bind(month_start.to_string())
        .bind(next_month.to_string())
        .bind(employee.map(str::to_string))
    };
    let month = Money::from_fen(month_total(None).fetch_one(&mut *conn).await?);
    if month.fen() + amount.fen() > caps.monthly.fen() {
        return Ok(Verdict {
            rule: "budget.monthly".into(),
            reason: Text::new(
                format!(
                    "{}月已花 ¥{},再花 ¥{} 将超过月度预算 ¥{}",
                    day.month(),
                    short(month),
                    short(amount),
                    short(caps.monthly)
                ),
                format!(
                    "¥{} spent this month; ¥{} more would exceed the monthly budget ¥{}",
                    short(month),
                    short(amount),
                    short(caps.monthly)
                ),
            ),
        });
    }
    let mine_today: i64 = sqlx::query_scalar(
        "SELECT COALESCE(SUM(amount_fen), 0) FROM ledger WHERE shop_id = $1 AND day = $2 AND employee = $3",
    )
    .bind(shop_id)
    .bind(day.to_string())
    .bind(employee)
    .fetch_one(&mut *conn)
    .await?;
    if let Some(cap) = caps.employee_daily
        && mine_today + amount.fen() > cap.fen()
    {
        return Ok(Verdict {
            rule: format!("employee.{employee}.daily_budget"),
            reason: Text::new(
                format!("{employee} 在 {day} 的花费将超过其每日预算 ¥{}", short(cap)),
                format!("{employee} would spend more than its daily budget ¥{} on {day}", short(cap)),
            ),
        });
    }
    let cap = caps.employee_monthly.unwrap_or(caps.monthly);
    Ok(Verdict {
        rule: format!("employee.{employee}.monthly_budget"),
        reason: Text::new(
            format!("{employee} 本月的花费将超过其月度预算 ¥{}", short(cap)),
            format!("{employee} would spend more than its monthly budget ¥{} this month", short(cap)),
        ),
    })
}

/// Money committed on one shop-local day.
pub async fn spent_on(conn: &mut SqliteConnection, shop_id: i64, day: NaiveDate) -> Result<Money> {
    let fen: Option<i64> = sqlx::query_scalar("SELECT spent_fen FROM budget_days WHERE shop_id = $1 AND day = $2")
        .bind(shop_id)
        .bind(day.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(Money::from_fen(fen.unwrap_or(0)))
}

fn month_bounds(day: NaiveDate) -> (NaiveDate, NaiveDate) {
    let start = day.with_day(1).unwrap_or(day);
    let next = start.checked_add_months(chrono::Months::new(1)).unwrap_or(start);
    (start, next)
}
