//! The budget ledger: money the crew commits, per shop-local day, never above the caps.
//!
//! A reservation is one conditional `UPDATE` per day: it adds the amount only where the day's
//! total and the month's total stay within their caps, and reports whether it did. No code
//! here reads a total and then writes it back, so concurrent writers (tasks, processes)
//! cannot overspend. Reservations run inside the caller's transaction: if the action fails or
//! another day's reservation is refused, the caller rolls the whole transaction back.

use chrono::{Datelike, NaiveDate};
use sqlx::SqliteConnection;

use crate::error::Result;
use crate::lang::Text;
use crate::money::Money;
use crate::policy::{Budget, Spend, Verdict};

/// Reserves every day of `spend` against the daily and monthly caps. `Ok(Some(verdict))`
/// means a cap would be exceeded: nothing usable was reserved and the caller must roll back.
pub async fn reserve(
    conn: &mut SqliteConnection,
    shop_id: i64,
    budget: &Budget,
    spend: &Spend,
) -> Result<Option<Verdict>> {
    for (day, amount) in &spend.days {
        let day_text = day.to_string();
        sqlx::query("INSERT INTO budget_days (shop_id, day, spent_fen) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING")
            .bind(shop_id)
            .bind(&day_text)
            .execute(&mut *conn)
            .await?;
        let (month_start, next_month) = month_bounds(*day);
        let updated = sqlx::query(
            "UPDATE budget_days SET spent_fen = spent_fen + $3 \
             WHERE shop_id = $1 AND day = $2 AND spent_fen + $3 <= $4 \
               AND (SELECT COALESCE(SUM(spent_fen), 0) FROM budget_days \
                    WHERE shop_id = $1 AND day >= $5 AND day < $6) + $3 <= $7",
        )
        .bind(shop_id)
        .bind(&day_text)
        .bind(amount.fen())
        .bind(budget.daily.fen())
        .bind(month_start.to_string())
        .bind(next_month.to_string())
        .bind(budget.monthly.fen())
        .execute(&mut *conn)
        .await?
        .rows_affected();
        if updated == 0 {
            return Ok(Some(refusal(conn, shop_id, budget, *day, *amount).await?));
        }
    }
    Ok(None)
}

/// Explains a refused reservation. Read after the refusal only to word the reason; the
/// decision itself was the conditional update's.
async fn refusal(
    conn: &mut SqliteConnection,
    shop_id: i64,
    budget: &Budget,
    day: NaiveDate,
    amount: Money,
) -> Result<Verdict> {
    let spent = spent_on(conn, shop_id, day).await?;
    if spent.fen() + amount.fen() > budget.daily.fen() {
        let left = Money::from_fen((budget.daily.fen() - spent.fen()).max(0));
        return Ok(Verdict {
            rule: "budget.daily".into(),
            reason: Text::new(
                format!(
                    "{day} 已花 ¥{},再花 ¥{} 将超过每日预算 ¥{}(剩余 ¥{})",
                    spent.short_text(),
                    amount.short_text(),
                    budget.daily.short_text(),
                    left.short_text()
                ),
                format!(
                    "{day}: ¥{} already spent; ¥{} more would exceed the daily budget ¥{} (¥{} left)",
                    spent.short_text(),
                    amount.short_text(),
                    budget.daily.short_text(),
                    left.short_text()
                ),
            ),
        });
    }
    Ok(Verdict {
        rule: "budget.monthly".into(),
        reason: Text::new(
            format!(
                "再花 ¥{} 将超过 {}月的月度预算 ¥{}",
                amount.short_text(),
                day.month(),
                budget.monthly.short_text()
            ),
            format!("¥{} more would exceed the monthly budget ¥{}", amount.short_text(), budget.monthly.short_text()),
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

/// Records the reserved days against the work-log entry of the action that spent them.
pub async fn record(
    conn: &mut SqliteConnection,
    shop_id: i64,
    spend: &Spend,
    skill: &str,
    log_seq: i64,
    at: &str,
) -> Result<()> {
    for (day, amount) in &spend.days {
        sqlx::query(
            "INSERT INTO ledger (shop_id, day, amount_fen, purpose, skill, log_seq, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(shop_id)
        .bind(day.to_string())
        .bind(amount.fen())
        .bind(&spend.purpose)
        .bind(skill)
        .bind(log_seq)
        .bind(at)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

fn month_bounds(day: NaiveDate) -> (NaiveDate, NaiveDate) {
    let start = day.with_day(1).unwrap_or(day);
    let next = start.checked_add_months(chrono::Months::new(1)).unwrap_or(start);
    (start, next)
}
