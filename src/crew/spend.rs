//! Money and model use against the caps: the ledger report and the AI-spend accounting.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use sqlx::Row;

use super::Crew;
use crate::clock::{local_date, parse_stamp};
use crate::error::Result;
use crate::lang::Lang;
use crate::model::CallRecord;
use crate::money::Money;
use crate::store;
use crate::worklog::{self, NewEntry};

/// Spend against the caps, as `shopcrew ledger` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct LedgerReport {
    /// Today in the shop's time zone.
    pub today: NaiveDate,
    pub daily_cap: Money,
    pub spent_today: Money,
    pub monthly_cap: Money,
    pub spent_month: Money,
    pub approval_above: Option<Money>,
    pub employees: Vec<EmployeeSpend>,
    pub campaigns: Vec<CampaignSpend>,
    /// Committed ledger money, all time.
    pub ledger_total: Money,
    /// Money reserved by a step that has not committed yet (zero when nothing is running).
    pub reserved: Money,
    /// Money the work log's effect entries record, all time.
    pub log_total: Money,
    /// The ledger and the work log agree, and nothing is left reserved.
    pub reconciled: bool,
    /// Today's model calls, apart from the business budget.
    pub ai: AiSpend,
}

#[derive(Debug, Clone, Serialize)]
pub struct EmployeeSpend {
    pub employee: String,
    pub today: Money,
    pub month: Money,
    /// The employee's own caps in the policy in force, when the owner set them.
    pub daily_cap: Option<Money>,
    pub monthly_cap: Option<Money>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CampaignSpend {
    pub id: i64,
    pub name: String,
    pub status: String,
    pub total_budget: Money,
    pub spent: Money,
    /// First and last day it runs, shop-local.
    pub first_day: Option<NaiveDate>,
    pub last_day: Option<NaiveDate>,
}

/// Today's model use.
#[derive(Debug, Clone, Serialize)]
pub struct AiSpend {
    pub spent_yuan: f64,
    pub budget_yuan: Option<f64>,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub calls: i64,
    /// Why no new model call may start today, when the budget is spent.
    pub stop: Option<String>,
}

impl Crew {
    /// Spend against every cap, the campaigns, and whether the ledger agrees with the log.
    pub async fn ledger(&self) -> Result<LedgerReport> {
        let shop_id = self.inner.shop.id;
        let today = self.today();
        let month_start = today.with_day(1).unwrap_or(today);
        let next_month = month_start.checked_add_months(chrono::Months::new(1)).unwrap_or(month_start);
        let (m0, m1, d) = (month_start.to_string(), next_month.to_string(), today.to_string());
        let db = &self.inner.db;
        let (spent_today, spent_month): (i64, i64) = sqlx::query_as(
            "SELECT COALESCE(SUM(CASE WHEN day = $2 THEN amount_fen ELSE 0 END), 0), \
                    COALESCE(SUM(CASE WHEN day >= $3 AND day < $4 THEN amount_fen ELSE 0 END), 0) \
             FROM ledger WHERE shop_id = $1",
        )
        .bind(shop_id)
        .bind(&d)
        .bind(&m0)
        .bind(&m1)
        .fetch_one(db)
        .await?;
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT employee, COALESCE(SUM(CASE WHEN day = $2 THEN amount_fen ELSE 0 END), 0), \
                    COALESCE(SUM(CASE WHEN day >= $3 AND day < $4 THEN amount_fen ELSE 0 END), 0) \
             FROM ledger WHERE shop_id = $1 GROUP BY employee ORDER BY employee",
        )
        .bind(shop_id)
        .bind(&d)
        .bind(&m0)
        .bind(&m1)
        .fetch_all(db)
        .await?;
        let policy = self.effective_policy().await?.policy;
        let mut employees: Vec<EmployeeSpend> = rows
            .into_iter()
            .map(|(employee, today, month)| EmployeeSpend {
                daily_cap: policy.employees.get(&employee).and_then(|r| r.daily_budget),
                monthly_cap: policy.employees.get(&employee).and_then(|r| r.monthly_budget),
                employee,
                today: Money::from_fen(today),
                month: Money::from_fen(month),
            })
            .collect();
        // Employees with caps of their own are listed even before they spend.
        for (employee, rules) in &policy.employees {
            if (rules.daily_budget.is_some() || rules.monthly_budget.is_some())
                && !employees.iter().any(|e| &e.employee == employee)
            {
                employees.push(EmployeeSpend {
                    employee: employee.clone(),
                    today: Money::ZERO,
                    month: Money::ZERO,
                    daily_cap: rules.daily_budget,
                    monthly_cap: rules.monthly_budget,
                });
            }
        }
        let tz = self.inner.shop.timezone;
        let campaigns = sqlx::query(
            "SELECT id, name, status, total_budget_fen, spend_fen, starts_at, ends_at FROM ad_campaigns \
             WHERE shop_id = $1 ORDER BY id",
        )
        .bind(shop_id)
        .fetch_all(db)
        .await?
        .iter()
        .map(|r| CampaignSpend {
            id: r.get("id"),
            name: r.get("name"),
            status: r.get("status"),
            total_budget: Money::from_fen(r.get("total_budget_fen")),
            spent: Money::from_fen(r.get("spend_fen")),
            first_day: parse_stamp(r.get("starts_at")).map(|t| local_date(tz, t)),
            last_day: parse_stamp(r.get("ends_at")).and_then(|t| local_date(tz, t).pred_opt()),
        })
        .collect();
        let (ledger_total, reserved): (i64, i64) = sqlx::query_as(
            "SELECT COALESCE(SUM(CASE WHEN status = 'committed' THEN amount_fen ELSE 0 END), 0), \
                    COALESCE(SUM(CASE WHEN status = 'reserved' THEN amount_fen ELSE 0 END), 0) \
             FROM ledger WHERE shop_id = $1",
        )
        .bind(shop_id)
        .fetch_one(db)
        .await?;
        let log_total: i64 = sqlx::query_scalar(
            "SELECT COALESCE(SUM(amount_fen), 0) FROM work_log WHERE shop_id = $1 AND kind = 'effect'",
        )
        .bind(shop_id)
        .fetch_one(db)
        .await?;
        let budget = &self.inner.perms.base().budget;
        Ok(LedgerReport {
            today,
            daily_cap: budget.daily,
            spent_today: Money::from_fen(spent_today),
            monthly_cap: budget.monthly,
            spent_month: Money::from_fen(spent_month),
            approval_above: budget.approval_above,
            employees,
            campaigns,
            ledger_total: Money::from_fen(ledger_total),
            reserved: Money::from_fen(reserved),
            log_total: Money::from_fen(log_total),
            reconciled: ledger_total == log_total && reserved == 0,
            ai: self.ai_spend().await?,
        })
    }

    /// Logs a model call (the entry carries plan, task and employee) and records it for the
    /// token and AI-spend accounting, in the caller's transaction.
    pub(super) async fn log_call(
        &self,
        tx: &mut store::Tx,
        at: &str,
        call: &CallRecord,
        mut entry: NewEntry,
    ) -> Result<()> {
        entry.summary = model_call_line(self.inner.lang, call);
        entry.details = serde_json::to_value(call).unwrap_or_default();
        let shop_id = self.inner.shop.id;
        let seq = worklog::append(tx, shop_id, at, &entry).await?;
        sqlx::query(
            "INSERT INTO model_calls (shop_id, day, at, employee, plan_id, task_id, model, prompt_tokens, \
             completion_tokens, cost_micro, log_seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(shop_id)
        .bind(self.today().to_string())
        .bind(at)
        .bind(&entry.employee)
        .bind(entry.plan_id)
        .bind(&entry.task_id)
        .bind(&call.model)
        .bind(i64::try_from(call.prompt_tokens).unwrap_or(i64::MAX))
        .bind(i64::try_from(call.completion_tokens).unwrap_or(i64::MAX))
        .bind(call.cost_yuan.map(|y| (y * 1_000_000.0).round() as i64))
        .bind(seq)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Today's model spend and tokens, and why no new model call may start, if the daily AI
    /// budget is spent.
    pub async fn ai_spend(&self) -> Result<AiSpend> {
        let (cost, prompt, completion, calls): (i64, i64, i64, i64) = sqlx::query_as(
            "SELECT COALESCE(SUM(cost_micro), 0), COALESCE(SUM(prompt_tokens), 0), \
             COALESCE(SUM(completion_tokens), 0), COUNT(*) FROM model_calls WHERE shop_id = $1 AND day = $2",
        )
        .bind(self.inner.shop.id)
        .bind(self.today().to_string())
        .fetch_one(&self.inner.db)
        .await?;
        let budget = self.inner.model.as_ref().and_then(|m| m.config().daily_ai_budget);
        let spent = cost as f64 / 1_000_000.0;
        let stop = budget.filter(|b| spent >= *b).map(|b| match self.inner.lang {
            Lang::Zh => format!("今天的 AI 花费 ¥{spent:.4} 已达上限 ¥{b:.2},不再调用模型"),
            Lang::En => format!("today's AI spend ¥{spent:.4} reached the ¥{b:.2} cap; no more model calls today"),
        });
        Ok(AiSpend {
            spent_yuan: spent,
            budget_yuan: budget,
            prompt_tokens: prompt,
            completion_tokens: completion,
            calls,
            stop,
        })
    }
}

/// One line for a model call: the model, its tokens, and its price when known.
fn model_call_line(lang: Lang, call: &CallRecord) -> String {
    match lang {
        Lang::Zh => format!(
            "调用模型 {}:输入 {} / 输出 {} tokens{}",
            call.model,
            call.prompt_tokens,
            call.completion_tokens,
            call.cost_yuan.map(|y| format!(",约 ¥{y:.4}")).unwrap_or_default()
        ),
        Lang::En => format!(
            "model call {}: {} prompt / {} completion tokens{}",
            call.model,
            call.prompt_tokens,
            call.completion_tokens,
            call.cost_yuan.map(|y| format!(", about ¥{y:.4}")).unwrap_or_default()
        ),
    }
}
