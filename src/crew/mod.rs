//! The crew: the one library API every face (CLI today, HTTP and scheduler later) calls.
//!
//! [`Crew::open`] resolves a home into a validated catalog, skill registry, policy and shop;
//! the methods then plan, run, list and decide. It holds no permission logic of its own: every
//! action goes through `skills::run_step`, and every step lands in the work log.

mod approvals;
mod assets;
mod autopilot;
mod notify;
mod spend;

pub use approvals::{Approval, Approved};
pub use assets::Asset;
pub use autopilot::{GRACE, ReportFiles, RunReport};
pub use notify::{Delivery, Webhook, event_of};
pub use spend::{AiSpend, CampaignSpend, EmployeeSpend, LedgerReport};

use std::path::PathBuf;
use std::sync::Arc;

use chrono::NaiveDate;
use serde::Serialize;

use crate::catalog::{Catalog, Employee};
use crate::checkpoint::{LogKey, SignedCheckpoint};
use crate::clock::{SharedClock, local_date, stamp};
use crate::config::ModelConfig;
use crate::demo::{self, DemoSummary};
use crate::error::{Error, Result};
use crate::executor::{self, Progress, TaskOutcome};
use crate::home::Home;
use crate::lang::Lang;
use crate::llm_planner;
use crate::merkle;
use crate::model::{CallRecord, ModelClient};
use crate::perms::{self, ChangeRow, Effective, OwnerChange, Perms};
use crate::plan::{Plan, ProductRef, ShopContext, Task};
use crate::planner::{self, Planned};
use crate::policy::Policy;
use crate::skills::{self, Env, Registry, Skill, StepReport};
use crate::store::{self, Db, Shop};
use crate::worker;
use crate::worklog::{self, Actor, Entry, Filter, Kind, NewEntry, Verification};

/// The shop a zero-config run creates, and its seed.
pub const DEMO_SHOP: &str = "demo";
pub const DEMO_TITLE: &str = "源头工厂店(演示)";
pub const DEMO_SEED: u64 = 42;

/// How to open a home.
#[derive(Clone)]
pub struct Options {
    pub home: PathBuf,
    /// The shop to work on; the only one when absent.
    pub shop: Option<String>,
    /// The language of summaries; from the request (or Chinese) when absent.
    pub lang: Option<Lang>,
    pub clock: SharedClock,
    /// An integrator's own skills, beside the built-in ones; each needs its `skills/<id>.toml`.
    pub extra_skills: Vec<Arc<dyn Skill>>,
    /// The model to plan with; the offline planner when `None`.
    pub model: Option<ModelConfig>,
    /// The time zone of a shop made now (schedules and reports run on its clock); Asia/Shanghai
    /// when `None`.
    pub timezone: Option<chrono_tz::Tz>,
}

impl Options {
    pub fn new(home: impl Into<PathBuf>, clock: SharedClock) -> Options {
        Options {
            home: home.into(),
            shop: None,
            lang: None,
            clock,
            extra_skills: Vec::new(),
            model: None,
            timezone: None,
        }
    }
}

/// Where a plan came from, for the log and the owner.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PlanSource {
    /// `model` or `offline`.
    pub source: String,
    /// The model calls it took, with their tokens and cost.
    pub calls: Vec<CallRecord>,
    /// Why the model's plan was not used, when the offline planner stood in.
    pub fallback: Option<String>,
}

#[derive(Clone)]
pub struct Crew {
    inner: Arc<Inner>,
}

struct Inner {
    home: Home,
    db: Db,
    catalog: Arc<Catalog>,
    registry: Arc<Registry>,
    shop: Shop,
    perms: Arc<Perms>,
    /// Signs the work log's checkpoints.
    log_key: Arc<LogKey>,
    model: Option<ModelClient>,
    clock: SharedClock,
    lang: Lang,
}

/// What setting up a shop did.
#[derive(Debug, Clone, Serialize)]
pub struct Setup {
    pub shop: String,
    pub seed: Option<u64>,
    pub demo: Option<DemoSummary>,
}

impl Setup {
    pub fn describe(&self, lang: Lang) -> String {
        match (&self.demo, lang) {
            (Some(d), Lang::Zh) => format!(
                "已创建演示店铺「{}」(种子 {}):{} 个商品,{} 位顾客,{} 笔订单(退款 {}),{} 条买家消息,{} 个推广计划",
                self.shop,
                self.seed.unwrap_or_default(),
                d.products,
                d.customers,
                d.orders,
                d.refunded_orders,
                d.messages,
                d.campaigns
            ),
            (Some(d), Lang::En) => format!(
                "created the demo shop \"{}\" (seed {}): {} products, {} customers, {} orders ({} refunded), {} inbox messages, {} ad campaigns",
                self.shop,
                self.seed.unwrap_or_default(),
                d.products,
                d.customers,
                d.orders,
                d.refunded_orders,
                d.messages,
                d.campaigns
            ),
            (None, Lang::Zh) => format!("已创建空店铺「{}」", self.shop),
            (None, Lang::En) => format!("created the empty shop \"{}\"", self.shop),
        }
    }
}

/// A plan as stored: run, or proposed (`business_plan`) and waiting to be accepted.
#[derive(Debug, Clone, Serialize)]
pub struct StoredPlan {
    pub id: i64,
    /// `offline`, `model` or `business_plan`.
    pub source: String,
    pub request: String,
    pub plan: serde_json::Value,
    pub created_at: String,
}

/// A request planned and logged, not yet run.
enum Recorded {
    NotUnderstood(ChatResult),
    Planned { plan_id: i64, plan: Plan, source: PlanSource },
}

/// The result of a chat request.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum ChatResult {
    /// The planner could not map the request; nothing ran.
    NotUnderstood {
        answer: String,
        understood: Vec<String>,
        unclear: Vec<String>,
    },
    Ran {
        plan_id: i64,
        plan: Plan,
        tasks: Vec<TaskOutcome>,
    },
}

impl Crew {
    /// Opens a home; on a home without any shop, sets up the demo shop first and returns
    /// what it did so the caller can say so.
    pub async fn open(opts: Options) -> Result<(Crew, Option<Setup>)> {
        let (base, setup) = Base::load(&opts).await?;
        let shop = pick_shop(&base.db, opts.shop.as_deref()).await?;
        let crew = base.crew(shop, &opts)?;
        crew.install_default_schedules().await?;
        Ok((crew, setup))
    }

    /// Opens every shop of a home (the demo shop on an empty one), sharing one database
    /// pool, catalog and log key: what `shopcrew serve` runs.
    pub async fn open_all(opts: Options) -> Result<(Vec<Crew>, Option<Setup>)> {
        let (base, setup) = Base::load(&opts).await?;
        let mut crews = Vec::new();
        for shop in store::shops(&base.db).await? {
            if opts.shop.as_ref().is_some_and(|wanted| wanted != &shop.name) {
                continue;
            }
            let crew = base.crew(shop, &opts)?;
            crew.install_default_schedules().await?;
            crews.push(crew);
        }
        if crews.is_empty() {
            pick_shop(&base.db, opts.shop.as_deref()).await?;
        }
        Ok((crews, setup))
    }

    /// `shopcrew init`: makes the home and a shop (the demo shop with `demo`).
    pub async fn init(opts: Options, demo: bool, seed: u64) -> Result<Setup> {
        let home = Home::open(&opts.home)?;
        let catalog = Catalog::load(home.root())?;
        registry_for(&opts, &catalog)?;
        let db = store::connect(&home.db_path()).await?;
        let name = opts.shop.clone().unwrap_or_else(|| if demo { DEMO_SHOP.into() } else { "shop".into() });
        Policy::load_for_shop(&home.policies_dir(), &name, &catalog)?;
        // The key that signs the work log's checkpoints is made with the home.
        LogKey::load_or_create(&home.root().join("keys"))?;
        let lang = opts.lang.unwrap_or_default();
        create_shop(&db, &name, demo.then_some(seed), &opts, lang).await
    }

    pub fn shop(&self) -> &Shop {
        &self.inner.shop
    }

    /// The same crew writing its summaries in `lang` (for a face serving owners of both).
    pub fn with_lang(&self, lang: Lang) -> Crew {
        if lang == self.inner.lang {
            return self.clone();
        }
        let i = &self.inner;
        let inner = Inner {
            home: i.home.clone(),
            db: i.db.clone(),
            catalog: i.catalog.clone(),
            registry: i.registry.clone(),
            shop: i.shop.clone(),
            perms: i.perms.clone(),
            log_key: i.log_key.clone(),
            model: i.model.clone(),
            clock: i.clock.clone(),
            lang,
        };
        Crew { inner: Arc::new(inner) }
    }

    pub fn home(&self) -> &Home {
        &self.inner.home
    }

    pub fn catalog(&self) -> &Catalog {
        &self.inner.catalog
    }

    pub fn registry(&self) -> &Registry {
        &self.inner.registry
    }

    /// The policy file's rules, without the owner's grants and revocations.
    pub fn policy(&self) -> &Policy {
        self.inner.perms.base()
    }

    /// The policy in force now: the file's rules with the owner's changes folded in.
    pub async fn effective_policy(&self) -> Result<Effective> {
        let mut conn = self.inner.db.acquire().await?;
        self.inner.perms.effective(&mut conn, self.inner.shop.id, self.inner.clock.now()).await
    }

    /// `shopcrew perms grant|revoke|pause|resume`: checks the change against the policy in
    /// force, then stores it with its log entry. Takes effect at the next gate check.
    pub async fn change_perms(&self, change: OwnerChange) -> Result<i64> {
        if let Some(employee) = change_employee(&change)
            && self.inner.catalog.employee(employee).is_none_or(|e| e.id == "planner")
        {
            return Err(Error::UnknownEmployee(employee.to_string()));
        }
        let at = stamp(self.inner.clock.now());
        let shop_id = self.inner.shop.id;
        let mut tx = store::begin(&self.inner.db).await?;
        let current = self.inner.perms.effective(&mut tx, shop_id, self.inner.clock.now()).await?;
        self.inner.perms.check(&current.policy, &change)?;
        let summary = describe_change(&change, self.inner.lang);
        let mut entry = NewEntry::new(Actor::Owner, Kind::Permission, summary);
        entry.employee = change_employee(&change).map(str::to_string);
        entry.details = serde_json::json!({"change": change, "version": current.version + 1});
        let seq = worklog::append(&mut tx, shop_id, &at, &entry).await?;
        let version = perms::record(&mut tx, shop_id, &change, &at, seq).await?;
        tx.commit().await?;
        Ok(version)
    }

    /// Every change the owner made, oldest first.
    pub async fn perms_history(&self) -> Result<Vec<ChangeRow>> {
        let mut conn = self.inner.db.acquire().await?;
        perms::history(&mut conn, self.inner.shop.id).await
    }

    /// The crew's clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.inner.clock.now()
    }

    pub fn lang(&self) -> Lang {
        self.inner.lang
    }

    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    /// Today in the shop's time zone.
    pub fn today(&self) -> NaiveDate {
        local_date(self.inner.shop.timezone, self.inner.clock.now())
    }

    /// What the planner may know of the shop.
    pub async fn context(&self) -> Result<ShopContext> {
        let mut conn = self.inner.db.acquire().await?;
        let products = store::products(&mut conn, self.inner.shop.id).await?;
        let categories = store::categories(&mut conn, self.inner.shop.id).await?;
        Ok(ShopContext {
            title: self.inner.shop.title.clone(),
            currency: self.inner.shop.currency.clone(),
            today: self.today(),
            categories,
            products: products
                .into_iter()
                .map(|p| ProductRef { sku: p.sku, title: p.title, category: p.category })
                .collect(),
        })
    }

    /// Plans a request without running anything. The plan is validated against the catalog
    /// and every task's arguments against its skill's type.
    ///
    /// With a model configured, the model plans; when it cannot be reached or gives no valid
    /// plan after its retries, the offline planner stands in and the source says why.
    pub async fn plan(&self, request: &str) -> Result<(Planned, PlanSource)> {
        let request = request.trim();
        if request.is_empty() {
            return Err(Error::Invalid("the request is empty; say what the crew should do".into()));
        }
        let context = self.context().await?;
        let mut source = PlanSource { source: "offline".into(), ..PlanSource::default() };
        let model = match &self.inner.model {
            Some(_) => match self.ai_spend().await?.stop {
                Some(stop) => {
                    source.fallback = Some(stop);
                    None
                }
                None => self.inner.model.as_ref(),
            },
            None => None,
        };
        if let Some(model) = model {
            let check = |plan: &Plan| self.check_plan(plan);
            let tz = self.inner.shop.timezone.name();
            let i = &self.inner;
            let outcome = llm_planner::plan(model, &i.catalog, &i.registry, &context, tz, request, &check).await?;
            source.calls = outcome.calls;
            match outcome.planned {
                Some(planned) => {
                    source.source = "model".into();
                    return Ok((planned, source));
                }
                None => source.fallback = outcome.failure,
            }
        }
        let planned = planner::plan_offline(request, &context);
        if let Planned::Plan(plan) = &planned {
            self.check_plan(plan)?;
        }
        Ok((planned, source))
    }

    /// The configured model, if any.
    pub fn model(&self) -> Option<&ModelClient> {
        self.inner.model.as_ref()
    }

    /// Checks a plan from any source: structure, employees, skills and arguments.
    pub fn check_plan(&self, plan: &Plan) -> Result<()> {
        plan.validate(&self.inner.catalog)?;
        for task in &plan.tasks {
            let skill = self.inner.registry.get(&task.skill).ok_or_else(|| Error::UnknownSkill(task.skill.clone()))?;
            skill.check_args(&task.args).map_err(|e| Error::InvalidPlan(format!("task {}: {e}", task.id)))?;
        }
        Ok(())
    }

    /// Plans and runs a request: logs the request and the plan, then executes it.
    pub async fn chat(&self, request: &str, progress: Arc<dyn Progress>) -> Result<ChatResult> {
        match self.plan_and_record(request, Actor::Owner).await? {
            Recorded::NotUnderstood(result) => Ok(result),
            Recorded::Planned { plan_id, plan, source } => {
                progress.planned(&plan, &source);
                let tasks = executor::execute(self, &plan, plan_id, progress).await?;
                Ok(ChatResult::Ran { plan_id, plan, tasks })
            }
        }
    }

    /// Plans a request and logs it (as said by `actor`) with its plan, which is stored to run.
    async fn plan_and_record(&self, request: &str, actor: Actor) -> Result<Recorded> {
        let (planned, source) = self.plan(request).await?;
        let at = stamp(self.inner.clock.now());
        let shop_id = self.inner.shop.id;
        let mut tx = store::begin(&self.inner.db).await?;
        let mut entry = NewEntry::new(actor, Kind::Request, request.trim());
        entry.details = serde_json::json!({"request": request.trim()});
        worklog::append(&mut tx, shop_id, &at, &entry).await?;
        for call in &source.calls {
            let entry = NewEntry::new(Actor::Planner, Kind::ModelCall, String::new());
            self.log_call(&mut tx, &at, call, entry).await?;
        }
        if let Some(why) = &source.fallback {
            let summary = match self.inner.lang {
                Lang::Zh => format!("模型没有给出可用的计划,改用离线规划:{why}"),
                Lang::En => format!("the model gave no usable plan; the offline planner stood in: {why}"),
            };
            let mut entry = NewEntry::new(Actor::Planner, Kind::Error, summary);
            entry.details = serde_json::json!({"fallback": "offline", "reason": why});
            worklog::append(&mut tx, shop_id, &at, &entry).await?;
        }
        let plan = match planned {
            Planned::NotUnderstood(nu) => {
                let answer = nu.to_string();
                let summary = match self.inner.lang {
                    Lang::Zh => format!("未能理解的请求,未执行任何操作:{}", nu.unclear.join(";")),
                    Lang::En => format!("request not understood, nothing was run: {}", nu.unclear.join("; ")),
                };
                let mut entry = NewEntry::new(Actor::Planner, Kind::Plan, summary);
                entry.details = serde_json::json!({"understood": nu.understood, "unclear": nu.unclear});
                worklog::append(&mut tx, shop_id, &at, &entry).await?;
                tx.commit().await?;
                let (understood, unclear) = (nu.understood, nu.unclear);
                return Ok(Recorded::NotUnderstood(ChatResult::NotUnderstood { answer, understood, unclear }));
            }
            Planned::Plan(plan) => plan,
        };
        let plan_json = serde_json::to_string(&plan).unwrap_or_default();
        let version = self.inner.perms.effective(&mut tx, shop_id, self.inner.clock.now()).await?.version;
        let plan_id: i64 = sqlx::query_scalar(
            "INSERT INTO plans (shop_id, source, request, plan_json, policy_version, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(shop_id)
        .bind(&source.source)
        .bind(&plan.request)
        .bind(&plan_json)
        .bind(version)
        .bind(&at)
        .fetch_one(&mut *tx)
        .await?;
        let steps: Vec<String> = plan.tasks.iter().map(|t| format!("{} {}", t.id, t.skill)).collect();
        let summary = match self.inner.lang {
            Lang::Zh => format!("计划 #{plan_id}:{} 个任务({})", plan.tasks.len(), steps.join(", ")),
            Lang::En => format!("plan #{plan_id}: {} tasks ({})", plan.tasks.len(), steps.join(", ")),
        };
        let mut entry = NewEntry::new(Actor::Planner, Kind::Plan, summary);
        entry.plan_id = Some(plan_id);
        entry.details = serde_json::json!({"source": source.source, "plan": plan, "policy_version": version});
        worklog::append(&mut tx, shop_id, &at, &entry).await?;
        tx.commit().await?;
        Ok(Recorded::Planned { plan_id, plan, source })
    }

    /// Runs a stored plan again, for instance after a crash or once a cause of failure is
    /// fixed. Every task runs under its plan key, so a task that already took effect is
    /// reported as done and not repeated; the rest go through the gate as new.
    pub async fn resume(&self, plan_id: i64, progress: Arc<dyn Progress>) -> Result<ChatResult> {
        let plan = self.stored_plan(plan_id).await?;
        let summary = match self.inner.lang {
            Lang::Zh => format!("重新运行计划 #{plan_id}(已完成的任务不会重复)"),
            Lang::En => format!("running plan #{plan_id} again (tasks already done are not repeated)"),
        };
        let mut entry = NewEntry::new(Actor::Owner, Kind::Plan, summary);
        entry.plan_id = Some(plan_id);
        entry.details = serde_json::json!({"resume": plan_id});
        let mut tx = store::begin(&self.inner.db).await?;
        worklog::append(&mut tx, self.inner.shop.id, &stamp(self.inner.clock.now()), &entry).await?;
        tx.commit().await?;
        let tasks = executor::execute(self, &plan, plan_id, progress).await?;
        Ok(ChatResult::Ran { plan_id, plan, tasks })
    }

    /// The owner accepts a proposed plan (the analyst's business plan), whole or the tasks
    /// named; they run now, each through the gate, under the plan's keys (accepting twice
    /// repeats nothing).
    pub async fn accept_plan(
        &self,
        plan_id: i64,
        tasks: Option<&[String]>,
        progress: Arc<dyn Progress>,
    ) -> Result<ChatResult> {
        let source: Option<String> = sqlx::query_scalar("SELECT source FROM plans WHERE shop_id = $1 AND id = $2")
            .bind(self.inner.shop.id)
            .bind(plan_id)
            .fetch_optional(&self.inner.db)
            .await?;
        match source.as_deref() {
            None => return Err(Error::NoSuchPlan(plan_id)),
            Some("business_plan") => {}
            Some(_) => {
                return Err(Error::Invalid(format!(
                    "plan #{plan_id} is not a proposal waiting for acceptance; `shopcrew resume {plan_id}` runs it again"
                )));
            }
        }
        let plan = self.stored_plan(plan_id).await?;
        let chosen: Vec<Task> = match tasks {
            None => plan.tasks.clone(),
            Some(ids) => {
                for id in ids {
                    if !plan.tasks.iter().any(|t| &t.id == id) {
                        let known: Vec<&str> = plan.tasks.iter().map(|t| t.id.as_str()).collect();
                        return Err(Error::Invalid(format!(
                            "plan #{plan_id} has no task {id} (it has {})",
                            known.join(", ")
                        )));
                    }
                }
                let chosen: Vec<Task> = plan.tasks.iter().filter(|t| ids.contains(&t.id)).cloned().collect();
                for t in &chosen {
                    if let Some(d) = t.depends_on.iter().find(|d| !ids.contains(d)) {
                        return Err(Error::Invalid(format!("task {} depends on {d}; accept {d} too", t.id)));
                    }
                }
                chosen
            }
        };
        let accepted = Plan { request: plan.request, tasks: chosen };
        self.check_plan(&accepted)?;
        let ids: Vec<&str> = accepted.tasks.iter().map(|t| t.id.as_str()).collect();
        let summary = match self.inner.lang {
            Lang::Zh => format!("店主接受经营计划 #{plan_id} 的任务 {}", ids.join(", ")),
            Lang::En => format!("owner accepted tasks {} of business plan #{plan_id}", ids.join(", ")),
        };
        let mut entry = NewEntry::new(Actor::Owner, Kind::Plan, summary);
        entry.plan_id = Some(plan_id);
        entry.details = serde_json::json!({"accepted": ids});
        let mut tx = store::begin(&self.inner.db).await?;
        worklog::append(&mut tx, self.inner.shop.id, &stamp(self.inner.clock.now()), &entry).await?;
        tx.commit().await?;
        let outcomes = executor::execute(self, &accepted, plan_id, progress).await?;
        Ok(ChatResult::Ran { plan_id, plan: accepted, tasks: outcomes })
    }

    /// The newest plans (proposals among them), with where each came from.
    pub async fn plans(&self, limit: i64) -> Result<Vec<StoredPlan>> {
        let rows: Vec<(i64, String, String, String, String)> = sqlx::query_as(
            "SELECT id, source, request, plan_json, created_at FROM plans WHERE shop_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(self.inner.shop.id)
        .bind(limit)
        .fetch_all(&self.inner.db)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, source, request, plan_json, created_at)| StoredPlan {
                id,
                source,
                request,
                plan: serde_json::from_str(&plan_json).unwrap_or(serde_json::Value::Null),
                created_at,
            })
            .collect())
    }

    async fn stored_plan(&self, plan_id: i64) -> Result<Plan> {
        let plan_json: Option<String> =
            sqlx::query_scalar("SELECT plan_json FROM plans WHERE shop_id = $1 AND id = $2")
                .bind(self.inner.shop.id)
                .bind(plan_id)
                .fetch_optional(&self.inner.db)
                .await?;
        let plan_json = plan_json.ok_or(Error::NoSuchPlan(plan_id))?;
        serde_json::from_str(&plan_json)
            .map_err(|e| Error::InvalidPlan(format!("stored plan #{plan_id} cannot be read: {e}")))
    }

    fn env(&self) -> Env<'_> {
        Env {
            db: &self.inner.db,
            shop: &self.inner.shop,
            perms: &self.inner.perms,
            registry: &self.inner.registry,
            home: self.inner.home.root(),
            now: self.inner.clock.now(),
            lang: self.inner.lang,
        }
    }

    /// Runs one task of a plan through the gated pipeline: directly, or, with a model
    /// configured, by its employee in a tool-calling loop whose every action is gated the same.
    pub async fn run_task(&self, plan_id: i64, task: &Task) -> Result<StepReport> {
        let key = skills::StepRequest::plan_key(plan_id, &task.id);
        let mut req = skills::StepRequest {
            employee: task.employee.clone(),
            skill: task.skill.clone(),
            args: task.args.clone(),
            actor: Actor::Employee,
            plan_id: Some(plan_id),
            task_id: Some(task.id.clone()),
            approval: None,
            key: Some(key.clone()),
        };
        // Plans the model made are worked by the employees with the model; offline plans
        // (also when the model could not plan) run their steps directly.
        let Some(model) = &self.inner.model else { return self.run_step(&req).await };
        let source: Option<String> = sqlx::query_scalar("SELECT source FROM plans WHERE shop_id = $1 AND id = $2")
            .bind(self.inner.shop.id)
            .bind(plan_id)
            .fetch_optional(&self.inner.db)
            .await?;
        if source.as_deref() != Some("model") {
            return self.run_step(&req).await;
        }
        if let Some(stop) = self.ai_spend().await?.stop {
            // The planned step still runs, through the gate, without the model.
            let mut entry = NewEntry::new(Actor::System, Kind::Decision, stop);
            entry.plan_id = Some(plan_id);
            entry.task_id = Some(task.id.clone());
            entry.employee = Some(task.employee.clone());
            entry.details = serde_json::json!({"ai_budget": "reached"});
            let mut tx = store::begin(&self.inner.db).await?;
            worklog::append(&mut tx, self.inner.shop.id, &stamp(self.inner.clock.now()), &entry).await?;
            tx.commit().await?;
            return self.run_step(&req).await;
        }
        // A task that already took effect (in any of its steps) is reported, not redone.
        if let Some(done) = skills::done_under(self.db(), self.inner.shop.id, &key).await? {
            req.key = Some(done);
            return self.run_step(&req).await;
        }
        let run = worker::run(self, model, plan_id, task, &key).await;
        let at = stamp(self.inner.clock.now());
        let mut tx = store::begin(&self.inner.db).await?;
        let base = |kind: Kind, summary: String| {
            let mut entry = NewEntry::new(Actor::Employee, kind, summary);
            entry.plan_id = Some(plan_id);
            entry.task_id = Some(task.id.clone());
            entry.employee = Some(task.employee.clone());
            entry.skill = Some(task.skill.clone());
            entry
        };
        let report = match run {
            Ok(run) if run.model_error.is_some() => {
                for call in &run.calls {
                    self.log_call(&mut tx, &at, call, base(Kind::ModelCall, String::new())).await?;
                }
                let message = run.model_error.unwrap_or_default();
                let summary = match self.inner.lang {
                    Lang::Zh => format!("模型出错,任务 {} 未完成:{message}", task.id),
                    Lang::En => format!("the model failed, task {} was not done: {message}", task.id),
                };
                let mut entry = base(Kind::Error, summary.clone());
                entry.details = serde_json::json!({"error": message, "steps": run.steps});
                let seq = worklog::append(&mut tx, self.inner.shop.id, &at, &entry).await?;
                // An action already taken in this task stands (it is logged); the task failed.
                StepReport { status: skills::StepStatus::Failed, summary, log_seq: seq, ..run.report }
            }
            Ok(run) => {
                for call in &run.calls {
                    self.log_call(&mut tx, &at, call, base(Kind::ModelCall, String::new())).await?;
                }
                let line = worker::summary_line(task, &run);
                let mut entry = base(Kind::Summary, line.get(self.inner.lang).to_string());
                entry.details = serde_json::json!({"status": run.report.status, "steps": run.steps, "tool_errors": run.tool_errors});
                let seq = worklog::append(&mut tx, self.inner.shop.id, &at, &entry).await?;
                let mut report = run.report;
                if report.log_seq == 0 {
                    report.log_seq = seq;
                }
                report
            }
            Err(e) => return Err(e),
        };
        tx.commit().await?;
        Ok(report)
    }

    /// One gated step (see `skills::run_step`).
    pub(crate) async fn run_step(&self, req: &skills::StepRequest) -> Result<StepReport> {
        skills::run_step(&self.env(), req).await
    }

    /// Records that a task was skipped because a dependency did not get done.
    pub async fn skip_task(&self, plan_id: i64, task: &Task, blocker: &str, why: &TaskOutcome) -> Result<TaskOutcome> {
        let cause = match why {
            TaskOutcome::Ran(r) => format!("{:?}", r.status).to_lowercase(),
            TaskOutcome::Skipped { .. } => "skipped".to_string(),
        };
        let summary = match self.inner.lang {
            Lang::Zh => format!("已跳过:依赖的任务 {blocker} 未完成({})", cause_zh(&cause)),
            Lang::En => format!("skipped: task {blocker} it depends on was {cause}"),
        };
        let mut entry = NewEntry::new(Actor::System, Kind::Decision, summary.clone());
        entry.plan_id = Some(plan_id);
        entry.task_id = Some(task.id.clone());
        entry.employee = Some(task.employee.clone());
        entry.skill = Some(task.skill.clone());
        entry.details = serde_json::json!({"skipped": true, "because_of": blocker, "cause": cause});
        let mut tx = store::begin(&self.inner.db).await?;
        let seq = worklog::append(&mut tx, self.inner.shop.id, &stamp(self.inner.clock.now()), &entry).await?;
        tx.commit().await?;
        Ok(TaskOutcome::Skipped { task_id: task.id.clone(), because_of: blocker.to_string(), summary, log_seq: seq })
    }

    /// `shopcrew do`: one skill call by one employee (the skill's own employee by default).
    ///
    /// With a `key`, the call is idempotent: once an action with that key took effect, calling
    /// again reports the earlier effect and runs nothing.
    pub async fn do_skill(
        &self,
        skill: &str,
        args: serde_json::Value,
        employee: Option<&str>,
        key: Option<&str>,
    ) -> Result<StepReport> {
        let doc = self.inner.catalog.skill(skill).ok_or_else(|| Error::UnknownSkill(skill.to_string()))?;
        let employee = employee.unwrap_or(&doc.employee).to_string();
        if self.inner.catalog.employee(&employee).is_none() {
            return Err(Error::UnknownEmployee(employee));
        }
        let impl_ = self.inner.registry.get(skill).ok_or_else(|| Error::UnknownSkill(skill.to_string()))?;
        impl_.check_args(&args)?;
        let req = skills::StepRequest {
            employee,
            skill: skill.to_string(),
            args,
            actor: Actor::Owner,
            plan_id: None,
            task_id: None,
            approval: None,
            key: key.map(|k| format!("key/{k}")),
        };
        skills::run_step(&self.env(), &req).await
    }

    pub async fn log(&self, filter: &Filter) -> Result<Vec<Entry>> {
        let mut conn = self.inner.db.acquire().await?;
        worklog::read(&mut conn, self.inner.shop.id, filter).await
    }

    /// Checks every entry, the chain and every stored checkpoint.
    pub async fn verify(&self) -> Result<Verification> {
        let mut conn = self.inner.db.acquire().await?;
        worklog::verify(&mut conn, self.inner.shop.id, &self.inner.log_key.public(), &mut Vec::new()).await
    }

    /// Checks the log as [`Crew::verify`] does, then proves that it extends a checkpoint the
    /// owner saved earlier (its text): same key, not shorter, and a consistency proof from its
    /// root to today's. Catches a log cut short or rewritten even if the stored checkpoints
    /// were removed with it.
    pub async fn verify_against(&self, saved: &str) -> Result<Verification> {
        let saved = SignedCheckpoint::parse(saved)?;
        saved.verify(&self.inner.log_key.public())?;
        let origin = self.origin();
        if saved.checkpoint.origin != origin {
            return Err(Error::Checkpoint(format!(
                "that checkpoint is of `{}`, not of this shop's log `{origin}`",
                saved.checkpoint.origin
            )));
        }
        let mut leaves = Vec::new();
        let mut conn = self.inner.db.acquire().await?;
        let result = worklog::verify(&mut conn, self.inner.shop.id, &self.inner.log_key.public(), &mut leaves).await?;
        let Verification::Ok { .. } = result else { return Ok(result) };
        let (old, new) = (saved.checkpoint.size, leaves.len() as u64);
        let at = &saved.checkpoint.at;
        if old > new {
            let problem =
                format!("the log has {new} entries but your checkpoint of {at} has {old}: entries were removed");
            return Ok(Verification::Broken { seq: new as i64 + 1, problem });
        }
        let proof = merkle::consistency_proof(&leaves, old).map_err(|e| Error::Checkpoint(e.to_string()))?;
        let today = merkle::root(&leaves);
        let holds = old == 0 || merkle::verify_consistency(old, new, &saved.checkpoint.root, &today, &proof).is_ok();
        if !holds {
            let problem =
                format!("the log no longer extends your checkpoint of {at} ({old} entries): it was rewritten");
            return Ok(Verification::Broken { seq: old as i64, problem });
        }
        Ok(result)
    }

    /// The newest signed checkpoint, made now if the log grew since the last one.
    pub async fn checkpoint(&self) -> Result<Option<SignedCheckpoint>> {
        let mut tx = store::begin(&self.inner.db).await?;
        let at = stamp(self.inner.clock.now());
        let signed = worklog::seal(&mut tx, self.inner.shop.id, &self.origin(), &self.inner.log_key, &at).await?;
        tx.commit().await?;
        Ok(signed)
    }

    /// The public half of the log key, for verifying checkpoints elsewhere.
    pub fn log_public_key(&self) -> String {
        self.inner.log_key.public_hex()
    }

    fn origin(&self) -> String {
        format!("shopcrew/{}", self.inner.shop.name)
    }

    pub fn employees(&self) -> Vec<&Employee> {
        self.inner.catalog.employees.iter().collect()
    }
}

/// What every shop of a home shares: files, catalog, skills, database and log key.
struct Base {
    home: Home,
    catalog: Arc<Catalog>,
    registry: Arc<Registry>,
    db: Db,
    log_key: Arc<LogKey>,
    model: Option<ModelClient>,
}

impl Base {
    /// Loads a home; on a home without any shop, sets up the demo shop and says so.
    async fn load(opts: &Options) -> Result<(Base, Option<Setup>)> {
        let home = Home::open(&opts.home)?;
        let catalog = Catalog::load(home.root())?;
        let registry = registry_for(opts, &catalog)?;
        let db = store::connect(&home.db_path()).await?;
        let mut setup = None;
        if store::shops(&db).await?.is_empty() {
            let name = opts.shop.clone().unwrap_or_else(|| DEMO_SHOP.to_string());
            let lang = opts.lang.unwrap_or_default();
            setup = Some(create_shop(&db, &name, Some(DEMO_SEED), opts, lang).await?);
        }
        let log_key = Arc::new(LogKey::load_or_create(&home.root().join("keys"))?);
        let model = opts.model.clone().map(ModelClient::new).transpose().map_err(|e| Error::Invalid(e.to_string()))?;
        let base = Base { home, catalog: Arc::new(catalog), registry: Arc::new(registry), db, log_key, model };
        Ok((base, setup))
    }

    fn crew(&self, shop: Shop, opts: &Options) -> Result<Crew> {
        let policy = Policy::load_for_shop(&self.home.policies_dir(), &shop.name, &self.catalog)?;
        let inner = Inner {
            home: self.home.clone(),
            db: self.db.clone(),
            catalog: self.catalog.clone(),
            registry: self.registry.clone(),
            shop,
            perms: Arc::new(Perms::new(policy)),
            log_key: self.log_key.clone(),
            model: self.model.clone(),
            clock: opts.clock.clone(),
            lang: opts.lang.unwrap_or_default(),
        };
        Ok(Crew { inner: Arc::new(inner) })
    }
}

/// The built-in skills plus the integrator's, checked against the skill files.
fn registry_for(opts: &Options, catalog: &Catalog) -> Result<Registry> {
    let mut registry = Registry::builtin();
    for skill in &opts.extra_skills {
        registry.register(skill.clone());
    }
    registry.check_against(catalog)?;
    Ok(registry)
}

fn cause_zh(cause: &str) -> &str {
    match cause {
        "denied" => "被拒绝",
        "pending" => "等待批准",
        "failed" => "失败",
        _ => "已跳过",
    }
}

async fn pick_shop(db: &Db, wanted: Option<&str>) -> Result<Shop> {
    let shops = store::shops(db).await?;
    let names = || shops.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ");
    match wanted {
        Some(name) => {
            shops.iter().find(|s| s.name == name).cloned().ok_or_else(|| Error::NoSuchShop(name.into(), names()))
        }
        None if shops.len() == 1 => Ok(shops[0].clone()),
        None => Err(Error::WhichShop(names())),
    }
}

/// Creates a shop (filled with the demo data when a seed is given) and logs it, in one
/// transaction: a half-made shop never exists.
async fn create_shop(db: &Db, name: &str, seed: Option<u64>, opts: &Options, lang: Lang) -> Result<Setup> {
    let clock = opts.clock.as_ref();
    let tz = opts.timezone.unwrap_or(chrono_tz::Asia::Shanghai);
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(Error::Invalid(format!("shop name `{name}` must be letters, digits, `-` or `_`")));
    }
    let now = clock.now();
    let at = stamp(now);
    let mut tx = store::begin(db).await?;
    let exists: Option<i64> =
        sqlx::query_scalar("SELECT id FROM shops WHERE name = $1").bind(name).fetch_optional(&mut *tx).await?;
    if exists.is_some() {
        return Err(Error::ShopExists(name.into()));
    }
    let title = if seed.is_some() { DEMO_TITLE } else { name };
    let shop_id: i64 = sqlx::query_scalar(
        "INSERT INTO shops (name, title, timezone, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(name)
    .bind(title)
    .bind(tz.name())
    .bind(&at)
    .fetch_one(&mut *tx)
    .await?;
    let today = local_date(tz, now);
    let summary = match seed {
        Some(seed) => Some(demo::populate(&mut tx, shop_id, seed, today).await?),
        None => None,
    };
    let setup = Setup { shop: name.to_string(), seed, demo: summary };
    let mut entry = NewEntry::new(Actor::System, Kind::Setup, setup.describe(lang));
    entry.details = serde_json::to_value(&setup).unwrap_or_default();
    worklog::append(&mut tx, shop_id, &at, &entry).await?;
    tx.commit().await?;
    Ok(setup)
}

fn change_employee(change: &OwnerChange) -> Option<&str> {
    match change {
        OwnerChange::Grant { employee, .. } | OwnerChange::Revoke { employee, .. } => Some(employee),
        OwnerChange::Pause { employee } | OwnerChange::Resume { employee } => employee.as_deref(),
    }
}

/// One line for the owner, in the log and in `perms history`.
pub fn describe_change(change: &OwnerChange, lang: Lang) -> String {
    match (change, lang) {
        (OwnerChange::Grant { employee, knob, value, until }, Lang::Zh) => format!(
            "店主授权 {employee}:{knob} = {value}{}",
            until.as_deref().map(|u| format!(",到 {u} 为止")).unwrap_or_default()
        ),
        (OwnerChange::Grant { employee, knob, value, until }, Lang::En) => format!(
            "owner granted {employee}: {knob} = {value}{}",
            until.as_deref().map(|u| format!(" until {u}")).unwrap_or_default()
        ),
        (OwnerChange::Revoke { employee, pattern }, Lang::Zh) => format!("店主收回 {employee} 的技能 {pattern}"),
        (OwnerChange::Revoke { employee, pattern }, Lang::En) => format!("owner revoked {pattern} from {employee}"),
        (OwnerChange::Pause { employee: Some(e) }, Lang::Zh) => format!("店主暂停了 {e}"),
        (OwnerChange::Pause { employee: Some(e) }, Lang::En) => format!("owner paused {e}"),
        (OwnerChange::Pause { employee: None }, Lang::Zh) => "店主暂停了全部员工".to_string(),
        (OwnerChange::Pause { employee: None }, Lang::En) => "owner paused every employee".to_string(),
        (OwnerChange::Resume { employee: Some(e) }, Lang::Zh) => format!("店主恢复了 {e}"),
        (OwnerChange::Resume { employee: Some(e) }, Lang::En) => format!("owner resumed {e}"),
        (OwnerChange::Resume { employee: None }, Lang::Zh) => "店主恢复了全部员工".to_string(),
        (OwnerChange::Resume { employee: None }, Lang::En) => "owner resumed every employee".to_string(),
    }
}
