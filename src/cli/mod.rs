//! The command line: parses arguments, calls [`Crew`], prints for a person or as JSON.
//!
//! No business logic lives here: every command is one or two library calls and a printer.
//! Exit codes: 0 done (or staged for approval), 1 error, 2 the work log failed verification,
//! 3 an action was denied by the owner's policy.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

mod autopilot;

use clap::{Parser, Subcommand};
use serde::Serialize;

use crate::clock::{FixedClock, SharedClock, SystemClock, parse_stamp};
use crate::crew::{ChatResult, Crew, Options, PlanSource};
use crate::error::{Error, Result};
use crate::executor::{Progress, TaskOutcome};
use crate::home::DEFAULT_HOME;
use crate::lang::Lang;
use crate::money::Money;
use crate::perms::OwnerChange;
use crate::plan::{Plan, Task};
use crate::planner::Planned;
use crate::skills::{StepReport, StepStatus};
use crate::worklog::{Filter, Verification, since_stamp};

#[derive(Parser, Debug)]
#[command(name = "shopcrew", version, about = "A crew of digital employees that runs your shop under your rules")]
pub struct Cli {
    /// Data directory (database, policies, assets).
    #[arg(long, global = true, env = "SHOPCREW_HOME", default_value = DEFAULT_HOME)]
    pub home: PathBuf,
    /// The shop to work on when the home holds several.
    #[arg(long, global = true, env = "SHOPCREW_SHOP")]
    pub shop: Option<String>,
    /// Language of summaries: zh or en (default: the request's language, else zh).
    #[arg(long, global = true, env = "SHOPCREW_LANG")]
    pub lang: Option<Lang>,
    /// Plan with the offline planner even when a model is configured.
    #[arg(long, global = true)]
    pub offline: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create the home and a shop (the demo shop with --demo).
    Init {
        #[arg(long)]
        demo: bool,
        /// Seed of the demo shop; the same seed gives the same shop.
        #[arg(long, default_value_t = crate::crew::DEMO_SEED)]
        seed: u64,
        /// The shop's time zone (IANA name, e.g. Asia/Shanghai, Europe/London, UTC): schedules
        /// and reports follow its clock.
        #[arg(long, value_parser = parse_tz)]
        timezone: Option<chrono_tz::Tz>,
        #[arg(long)]
        json: bool,
    },
    /// Ask the crew to do something, in plain words; interactive without a request.
    Chat {
        request: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Show the plan for a request without running anything.
    ///
    /// `shopcrew plan accept ID [--tasks t1,t3]` accepts a proposed business plan instead.
    Plan {
        #[arg(required = true, num_args = 1..)]
        request: Vec<String>,
        /// With `accept`: only these tasks, comma-separated.
        #[arg(long)]
        tasks: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Run one skill directly, through the owner's policy.
    Do {
        skill: String,
        /// The skill's arguments as JSON, e.g. '{"discount_pct": 20, "scope": "mooncakes"}'.
        #[arg(long, default_value = "{}")]
        args: String,
        /// The employee who acts (default: the skill's own employee).
        #[arg(long = "as")]
        employee: Option<String>,
        /// An idempotency key: a second call with the same key runs nothing and reports the first.
        #[arg(long)]
        key: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Run a stored plan again; tasks that already took effect are not repeated.
    Resume {
        plan: i64,
        #[arg(long)]
        json: bool,
    },
    /// The owner's grants, revocations and pauses (effective at the next action).
    Perms {
        #[command(subcommand)]
        action: Option<PermsAction>,
        #[arg(long, global = true)]
        json: bool,
    },
    /// The rules in force, in words and in Cedar.
    Policy {
        #[command(subcommand)]
        action: PolicyAction,
    },
    /// Money spent against every cap, the campaigns, and whether the ledger matches the log.
    Ledger {
        #[arg(long)]
        json: bool,
    },
    /// Read the work log, or verify it.
    Log {
        #[command(subcommand)]
        action: Option<LogAction>,
        #[arg(long)]
        employee: Option<String>,
        /// A shop-local date (2026-11-24) or an RFC 3339 time.
        #[arg(long)]
        since: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Actions waiting for the owner.
    Approvals {
        #[command(subcommand)]
        action: Option<ApprovalAction>,
        #[arg(long, global = true)]
        json: bool,
    },
    /// What the crew does on its own, and when (cron in the shop's time zone).
    Schedule {
        #[command(subcommand)]
        action: Option<autopilot::ScheduleAction>,
        #[arg(long, global = true)]
        json: bool,
    },
    /// Write the owner report (Markdown and a standalone HTML file) for yesterday or the last week.
    Report {
        /// day or week.
        #[arg(long, default_value = "day")]
        period: String,
        #[arg(long)]
        json: bool,
    },
    /// Webhooks that tell the owner of reports, approvals waiting and denials.
    Notify {
        #[command(subcommand)]
        action: Option<autopilot::NotifyAction>,
        #[arg(long, global = true)]
        json: bool,
    },
    /// Run the schedules of every shop until stopped (Ctrl-C or SIGTERM).
    Serve {
        /// One pass: take up interrupted runs, run what is due, send notifications, exit.
        #[arg(long)]
        once: bool,
        /// Seconds runs in progress may take to finish after a stop signal.
        #[arg(long, default_value_t = 30)]
        grace: u64,
        /// Seconds between two webhook passes.
        #[arg(long, default_value_t = 5)]
        notify_every: u64,
        /// Where the API and the web console listen (port 0 picks a free one).
        #[arg(long, default_value = "127.0.0.1:8787")]
        listen: std::net::SocketAddr,
        /// No API or console, only the schedules.
        #[arg(long)]
        no_http: bool,
    },
    /// Tokens for the API and the web console: the owner's, and read-only viewer tokens.
    Token {
        #[command(subcommand)]
        action: Option<autopilot::TokenAction>,
        #[arg(long, global = true)]
        json: bool,
    },
    /// Read products or orders from a CSV file, all or nothing.
    Import {
        #[arg(value_enum)]
        what: ImportKind,
        file: PathBuf,
        /// Other headers for the canonical fields: `order_id=InvoiceNo,sku=StockCode`.
        #[arg(long)]
        map: Option<String>,
        /// How times are written, e.g. '%m/%d/%y %H:%M'; ISO 8601 otherwise.
        #[arg(long)]
        date_format: Option<String>,
        /// The file's currency (a shop without orders takes it; otherwise it must match).
        #[arg(long)]
        currency: Option<String>,
        /// Margin over cost to assume where a cost is missing, e.g. 40.
        #[arg(long, value_parser = parse_pct)]
        default_margin: Option<crate::money::Pct>,
        #[arg(long)]
        json: bool,
    },
    /// Write the shop's orders, products or work log as CSV or JSON lines.
    Export {
        #[arg(value_enum)]
        what: crate::export::What,
        #[arg(long, value_enum, default_value = "csv")]
        format: crate::export::Format,
        /// A file to write; standard output when absent.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Which model is configured, and whether it answers.
    Doctor {
        #[arg(long)]
        json: bool,
    },
    /// The digital employees.
    Employees {
        #[arg(long)]
        json: bool,
    },
    /// The skills, with their argument schemas in --json.
    Skills {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum LogAction {
    /// Recompute every hash, check every signed checkpoint, and report the first bad entry.
    Verify {
        /// A checkpoint saved earlier (`shopcrew log checkpoint > FILE`): prove the log extends it.
        #[arg(long)]
        against: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Print the newest signed checkpoint, for the owner to keep outside the shop.
    Checkpoint {
        #[arg(long)]
        json: bool,
    },
}

/// The owner token, said once.
pub(crate) fn owner_token_line(token: &str, lang: Lang) -> String {
    match lang {
        Lang::Zh => format!("店主令牌(只显示这一次,请妥善保存,用于网页控制台和 API):{token}"),
        Lang::En => {
            format!("owner token (shown only now; keep it safe; it signs you in to the console and the API): {token}")
        }
    }
}

fn parse_tz(text: &str) -> std::result::Result<chrono_tz::Tz, String> {
    text.trim().parse::<chrono_tz::Tz>().map_err(|_| {
        format!("`{text}` is not a time zone; use an IANA name such as Asia/Shanghai, Europe/London or UTC")
    })
}

fn parse_pct(text: &str) -> std::result::Result<crate::money::Pct, String> {
    crate::money::Pct::parse(text).map_err(|e| e.to_string())
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ImportKind {
    Products,
    Orders,
}

#[derive(Subcommand, Debug)]
pub enum PermsAction {
    /// The rules in force now (one employee with --employee).
    Show {
        #[arg(long)]
        employee: Option<String>,
    },
    /// Set a knob of an employee: `perms grant promotions max_discount_pct=30 --until 2026-11-29`.
    Grant {
        employee: String,
        /// `knob=value`; `skills=<pattern>` adds a skill back.
        setting: String,
        /// A shop-local date (the grant lasts through that day) or an RFC 3339 time.
        #[arg(long)]
        until: Option<String>,
    },
    /// Take a skill or pattern away: `perms revoke promotions promo.create_discount`.
    Revoke { employee: String, pattern: String },
    /// Stop one employee, or `all` (the kill switch).
    Pause { who: String },
    /// Lift a pause of one employee, or of everyone (`all`, the default).
    Resume { who: Option<String> },
    /// Every change, oldest first, with the policy version it started.
    History,
}

#[derive(Subcommand, Debug)]
pub enum PolicyAction {
    /// The effective rules in words and in Cedar.
    Explain {
        #[arg(long)]
        employee: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum ApprovalAction {
    /// List pending approvals (all with --all).
    List {
        #[arg(long)]
        all: bool,
    },
    Show {
        id: i64,
    },
    /// Approve and run the action now (the policy is checked again).
    Approve {
        id: i64,
    },
    Reject {
        id: i64,
        #[arg(long)]
        reason: Option<String>,
    },
}

/// Runs the command line; the binary's whole `main`.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    };
    // Everything the command did is committed by now. Background tasks (the database pool's
    // upkeep among them) get a moment to stop, and never keep the process alive.
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    code
}

/// The clock: the machine's, unless `SHOPCREW_NOW` fixes it (reproducible demos and tests).
fn clock() -> Result<SharedClock> {
    match std::env::var("SHOPCREW_NOW") {
        Ok(text) => {
            let t = parse_stamp(&text).ok_or_else(|| {
                Error::Invalid(format!("SHOPCREW_NOW=`{text}` is not an RFC 3339 time like 2026-11-24T08:00:00Z"))
            })?;
            Ok(Arc::new(FixedClock(t)))
        }
        Err(_) => Ok(Arc::new(SystemClock)),
    }
}

pub async fn run(cli: Cli) -> Result<ExitCode> {
    let request_lang = match &cli.command {
        Command::Chat { request: Some(r), .. } => Some(Lang::detect(r)),
        Command::Plan { request, .. } if request.first().is_some_and(|w| w != "accept") => {
            Some(Lang::detect(&request.join(" ")))
        }
        _ => None,
    };
    let lang = cli.lang.or(request_lang).unwrap_or_default();
    let model = if cli.offline { None } else { crate::config::load(&cli.home, &|k| std::env::var(k).ok())? };
    let opts = Options { shop: cli.shop.clone(), lang: Some(lang), model, ..Options::new(cli.home.clone(), clock()?) };
    if let Command::Init { demo, seed, timezone, json } = cli.command {
        let now = opts.clock.now();
        let setup = Crew::init(Options { timezone, ..opts }, demo, seed).await?;
        let db = crate::store::connect(&crate::home::Home::open(&cli.home)?.db_path()).await?;
        // The owner's token for the console and the API, made with the home and shown once.
        let token = crate::tokens::ensure_owner(&db, now).await?;
        if json {
            let mut value = serde_json::to_value(&setup).unwrap_or_default();
            value["owner_token"] = serde_json::json!(token);
            print_json(&value)?;
        } else {
            println!("{}", setup.describe(lang));
            if let Some(token) = &token {
                println!("{}", owner_token_line(token, lang));
            }
            println!(
                "{}",
                lang.pick(
                    "试试:shopcrew chat \"下周中秋大促:月饼8折,做一张海报,推广预算500元\"",
                    "try: shopcrew chat \"20% off mooncakes next week, make a banner, ad budget 500\""
                )
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    if let Command::Serve { once, grace, notify_every, listen, no_http } = cli.command {
        let clock = opts.clock.clone();
        let http = (!no_http && !once).then_some(listen);
        return autopilot::serve(opts, clock, autopilot::ServeArgs { once, grace, notify_every, http }).await;
    }
    if let Command::Token { action, json } = cli.command {
        return autopilot::token(&cli.home, opts.clock.now(), action.unwrap_or(autopilot::TokenAction::List), json)
            .await;
    }
    let (crew, setup) = Crew::open(opts).await?;
    if let Some(setup) = &setup {
        // Zero-config: say what was set up, on stderr so JSON output stays clean.
        eprintln!(
            "{} {}",
            setup.describe(lang),
            lang.pick(&format!("(数据目录 {})", cli.home.display()), &format!("(home {})", cli.home.display()))
        );
    }
    // Commands that may append to the work log end with a signed checkpoint of it, so a log
    // cut short afterwards no longer matches the checkpoints.
    let writes = match &cli.command {
        Command::Chat { .. } | Command::Do { .. } | Command::Resume { .. } | Command::Import { .. } => true,
        Command::Plan { request, .. } => request.first().is_some_and(|w| w == "accept"),
        // Listing expires stale approvals, which is logged.
        Command::Approvals { .. } => true,
        Command::Schedule { .. } | Command::Report { .. } | Command::Notify { .. } => true,
        Command::Perms { action, .. } => {
            !matches!(action, None | Some(PermsAction::Show { .. } | PermsAction::History))
        }
        _ => setup.is_some(),
    };
    let code = dispatch(&crew, cli.command).await;
    if writes {
        crew.checkpoint().await?;
    }
    crew.db().close().await;
    code
}

async fn dispatch(crew: &Crew, command: Command) -> Result<ExitCode> {
    match command {
        Command::Init { .. } => Ok(ExitCode::SUCCESS),
        Command::Chat { request: Some(request), json } => chat(crew, &request, json).await,
        Command::Chat { request: None, json } => interactive(crew, json).await,
        Command::Plan { request, tasks, json } => match request.as_slice() {
            [word, id] if word == "accept" => {
                let id: i64 = id.parse().map_err(|_| Error::Invalid(format!("`{id}` is not a plan number")))?;
                let tasks: Option<Vec<String>> =
                    tasks.map(|t| t.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect());
                let result = crew.accept_plan(id, tasks.as_deref(), progress(crew, json)).await?;
                ran(crew, &result, json)
            }
            words => plan(crew, &words.join(" "), json).await,
        },
        Command::Do { skill, args, employee, key, json } => {
            let args: serde_json::Value = serde_json::from_str(&args).map_err(|e| Error::BadArgs {
                skill: skill.clone(),
                message: format!("--args is not valid JSON ({e}); write it like '{{\"discount_pct\": 20}}'"),
            })?;
            let report = crew.do_skill(&skill, args, employee.as_deref(), key.as_deref()).await?;
            if json {
                print_json(&report)?;
            } else {
                println!("{}", step_line(crew, None, &report));
            }
            Ok(step_code(&report))
        }
        Command::Log { action: Some(LogAction::Verify { json, against }), .. } => {
            verify(crew, against.as_deref(), json).await
        }
        Command::Log { action: Some(LogAction::Checkpoint { json }), .. } => checkpoint(crew, json).await,
        Command::Log { action: None, employee, since, json } => log(crew, employee, since, json).await,
        Command::Approvals { action, json } => approvals(crew, action, json).await,
        Command::Resume { plan, json } => {
            let result = crew.resume(plan, progress(crew, json)).await?;
            ran(crew, &result, json)
        }
        Command::Ledger { json } => ledger(crew, json).await,
        Command::Schedule { action, json } => {
            autopilot::schedule(crew, action.unwrap_or(autopilot::ScheduleAction::List), json).await
        }
        Command::Report { period, json } => autopilot::report(crew, &period, json).await,
        Command::Notify { action, json } => {
            autopilot::notify(crew, action.unwrap_or(autopilot::NotifyAction::List), json).await
        }
        Command::Serve { .. } | Command::Token { .. } => Ok(ExitCode::SUCCESS),
        Command::Perms { action, json } => {
            perms(crew, action.unwrap_or(PermsAction::Show { employee: None }), json).await
        }
        Command::Policy { action: PolicyAction::Explain { employee } } => {
            let effective = crew.effective_policy().await?;
            println!("{}", effective.policy.explain(employee.as_deref(), crew.lang()));
            Ok(ExitCode::SUCCESS)
        }
        Command::Employees { json } => employees(crew, json),
        Command::Doctor { json } => doctor(crew, json).await,
        Command::Import { what, file, map, date_format, currency, default_margin, json } => {
            let opts = crate::import::ImportOptions {
                map: map.as_deref().map(crate::import::ImportOptions::parse_map).transpose()?.unwrap_or_default(),
                date_format,
                currency,
                default_margin,
            };
            let report = match what {
                ImportKind::Products => crate::import::import_products(crew, &file, &opts).await?,
                ImportKind::Orders => crate::import::import_orders(crew, &file, &opts).await?,
            };
            if json {
                print_json(&report)?;
            } else {
                let r = &report;
                println!(
                    "{}",
                    crew.lang().pick(
                        &format!(
                            "已导入 {} 行:新建商品 {},更新 {},新建顾客 {},新建订单 {}(其中退款 {}),已有订单 {} 笔未重复导入,{} 个商品按默认利润率估算成本,{} 个价格舍入到分;用时 {} ms",
                            r.rows, r.products_created, r.products_updated, r.customers_created, r.orders_created, r.refunds, r.orders_skipped, r.default_margin_used, r.prices_rounded, r.millis
                        ),
                        &format!(
                            "imported {} rows: {} products created, {} updated, {} customers, {} orders ({} refunds), {} orders already there, {} costs from the default margin, {} prices rounded to the fen; {} ms",
                            r.rows, r.products_created, r.products_updated, r.customers_created, r.orders_created, r.refunds, r.orders_skipped, r.default_margin_used, r.prices_rounded, r.millis
                        ),
                    )
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Export { what, format, out } => {
            let rows = match &out {
                Some(path) => {
                    let file =
                        std::fs::File::create(path).map_err(|source| Error::Io { path: path.clone(), source })?;
                    let mut writer = std::io::BufWriter::new(file);
                    let rows = crate::export::export(crew, what, format, &mut writer).await?;
                    writer.flush().map_err(|source| Error::Io { path: path.clone(), source })?;
                    rows
                }
                None => crate::export::export(crew, what, format, &mut std::io::stdout().lock()).await?,
            };
            if let Some(path) = out {
                eprintln!(
                    "{}",
                    crew.lang().pick(
                        &format!("已导出 {rows} 行到 {}", path.display()),
                        &format!("wrote {rows} rows to {}", path.display())
                    )
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Skills { json } => skills(crew, json),
    }
}

pub(crate) fn print_json(value: &impl Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Error::Invalid(format!("cannot encode output: {e}")))?;
    println!("{text}");
    Ok(())
}

fn step_code(report: &StepReport) -> ExitCode {
    match report.status {
        StepStatus::Done | StepStatus::Pending => ExitCode::SUCCESS,
        StepStatus::Denied => ExitCode::from(3),
        StepStatus::Failed => ExitCode::FAILURE,
    }
}

fn employee_name(crew: &Crew, id: &str) -> String {
    crew.catalog().employee(id).map(|e| e.name.get(crew.lang()).to_string()).unwrap_or_else(|| id.to_string())
}

fn step_line(crew: &Crew, task: Option<&str>, r: &StepReport) -> String {
    let mark = match r.status {
        StepStatus::Done => "✓",
        StepStatus::Denied => "✗",
        StepStatus::Pending => "⏸",
        StepStatus::Failed => "!",
    };
    let who = employee_name(crew, &r.employee);
    let task = task.map(|t| format!("{t} ")).unwrap_or_default();
    let mut line = format!("{mark} {task}{who} · {}", r.summary);
    if let (StepStatus::Pending, Some(id)) = (r.status, r.approval_id) {
        line.push_str(crew.lang().pick(
            &format!("\n    → 批准:shopcrew approvals approve {id}    拒绝:shopcrew approvals reject {id}"),
            &format!("\n    → approve: shopcrew approvals approve {id}    reject: shopcrew approvals reject {id}"),
        ));
    }
    line
}

fn outcome_line(crew: &Crew, task: &Task, outcome: &TaskOutcome) -> String {
    match outcome {
        TaskOutcome::Ran(r) => step_line(crew, Some(&task.id), r),
        TaskOutcome::Skipped { summary, .. } => {
            format!("↷ {} {} · {summary}", task.id, employee_name(crew, &task.employee))
        }
    }
}

fn print_plan(crew: &Crew, plan: &Plan, id: Option<i64>) {
    let n = plan.tasks.len();
    let head = match id {
        Some(id) => {
            crew.lang().pick(&format!("计划 #{id}({n} 个任务)"), &format!("plan #{id} ({n} tasks)")).to_string()
        }
        None => {
            crew.lang().pick(&format!("计划({n} 个任务,未执行)"), &format!("plan ({n} tasks, not run)")).to_string()
        }
    };
    println!("{head}");
    for t in &plan.tasks {
        let after = if t.depends_on.is_empty() {
            String::new()
        } else {
            crew.lang()
                .pick(&format!("  (等 {})", t.depends_on.join(", ")), &format!("  (after {})", t.depends_on.join(", ")))
                .to_string()
        };
        println!("  {} {} · {} {}{after}", t.id, employee_name(crew, &t.employee), t.skill, t.args);
    }
}

/// Progress for a person. In a terminal, finished tasks print a line each and one live line
/// below them shows who is doing what right now; piped, every start and end is a plain line.
struct Lines {
    crew: Crew,
    live: bool,
    /// The tasks running now, as shown on the live line.
    running: Mutex<Vec<(String, String)>>,
}

impl Lines {
    /// Clears the live line, prints `text` (if any), and redraws the live line.
    fn show(&self, running: &[(String, String)], text: Option<&str>) {
        let mut out = std::io::stdout().lock();
        if self.live {
            let _ = write!(out, "\r\x1b[2K");
        }
        if let Some(text) = text {
            let _ = writeln!(out, "{text}");
        }
        if self.live && !running.is_empty() {
            let now: Vec<&str> = running.iter().map(|(_, label)| label.as_str()).collect();
            let _ = write!(out, "⏳ {}", now.join(" · "));
        }
        let _ = out.flush();
    }
}

impl Progress for Lines {
    /// The plan before it runs, so the owner sees what is about to happen.
    fn planned(&self, plan: &Plan, source: &PlanSource) {
        let _guard = self.running.lock();
        print_plan(&self.crew, plan, None);
        print_source(&self.crew, source);
        let _ = std::io::stdout().flush();
    }

    fn started(&self, task: &Task) {
        let Ok(mut running) = self.running.lock() else { return };
        let who = employee_name(&self.crew, &task.employee);
        let label = self
            .crew
            .lang()
            .pick(&format!("{} {who} 正在 {}", task.id, task.skill), &format!("{} {who} doing {}", task.id, task.skill))
            .to_string();
        running.push((task.id.clone(), label));
        let line = self
            .crew
            .lang()
            .pick(
                &format!("… {} {who} 开始 {}", task.id, task.skill),
                &format!("… {} {who} starts {}", task.id, task.skill),
            )
            .to_string();
        self.show(&running, (!self.live).then_some(line.as_str()));
    }

    fn finished(&self, task: &Task, outcome: &TaskOutcome) {
        let Ok(mut running) = self.running.lock() else { return };
        running.retain(|(id, _)| *id != task.id);
        self.show(&running, Some(&outcome_line(&self.crew, task, outcome)));
    }
}

/// Progress as JSON lines on stderr, one event each, so stdout stays one JSON document.
struct JsonLines;

impl Progress for JsonLines {
    fn planned(&self, plan: &Plan, source: &PlanSource) {
        eprintln!("{}", serde_json::json!({"event": "planned", "plan": plan, "source": source.source}));
    }

    fn started(&self, task: &Task) {
        eprintln!(
            "{}",
            serde_json::json!({"event": "started", "task": task.id, "employee": task.employee, "skill": task.skill})
        );
    }

    fn finished(&self, task: &Task, outcome: &TaskOutcome) {
        eprintln!("{}", serde_json::json!({"event": "finished", "task": task.id, "outcome": outcome}));
    }
}

/// Live task lines for a person; JSON events on stderr when the output is JSON.
fn progress(crew: &Crew, json: bool) -> Arc<dyn Progress> {
    if json {
        return Arc::new(JsonLines);
    }
    Arc::new(Lines { crew: crew.clone(), live: std::io::stdout().is_terminal(), running: Mutex::new(Vec::new()) })
}

async fn chat(crew: &Crew, request: &str, json: bool) -> Result<ExitCode> {
    let result = crew.chat(request, progress(crew, json)).await?;
    ran(crew, &result, json)
}

/// Prints how a plan run ended (the task lines were printed live) and picks the exit code.
fn ran(crew: &Crew, result: &ChatResult, json: bool) -> Result<ExitCode> {
    if json {
        print_json(result)?;
    }
    match result {
        ChatResult::NotUnderstood { answer, .. } => {
            if !json {
                println!("{answer}");
            }
            Ok(ExitCode::FAILURE)
        }
        ChatResult::Ran { plan_id, tasks, .. } => {
            if !json {
                let done = tasks.iter().filter(|t| t.is_done()).count();
                let pending = tasks
                    .iter()
                    .filter(|t| matches!(t, TaskOutcome::Ran(r) if r.status == StepStatus::Pending))
                    .count();
                println!(
                    "{}",
                    crew.lang().pick(
                        &format!("计划 #{plan_id}:完成 {done}/{},待批准 {pending}。查看记录:shopcrew log", tasks.len()),
                        &format!(
                            "plan #{plan_id}: {done}/{} done, {pending} waiting for approval. See: shopcrew log",
                            tasks.len()
                        )
                    )
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn perms(crew: &Crew, action: PermsAction, json: bool) -> Result<ExitCode> {
    let lang = crew.lang();
    let who = |w: String| if w == "all" { None } else { Some(w) };
    let change = match action {
        PermsAction::Show { employee } => {
            let effective = crew.effective_policy().await?;
            if json {
                print_json(&serde_json::json!({
                    "version": effective.version,
                    "changes": effective.changes,
                    "policy": &*effective.policy,
                }))?;
            } else {
                println!(
                    "{}",
                    lang.pick(
                        &format!("策略版本 {}(店主改动 {} 条生效中)", effective.version, effective.changes.len()),
                        &format!(
                            "policy version {} ({} owner changes in force)",
                            effective.version,
                            effective.changes.len()
                        )
                    )
                );
                for c in &effective.changes {
                    println!("  v{} {}", c.version, crate::crew::describe_change(&c.change, lang));
                }
                println!("{}", effective.policy.explain(employee.as_deref(), lang));
            }
            return Ok(ExitCode::SUCCESS);
        }
        PermsAction::History => {
            let rows = crew.perms_history().await?;
            if json {
                print_json(&rows)?;
            } else if rows.is_empty() {
                println!("{}", lang.pick("店主还没有改动过权限", "the owner has not changed any permission"));
            }
            if !json {
                for r in &rows {
                    println!(
                        "v{} {} {}  (#{})",
                        r.version,
                        r.at,
                        crate::crew::describe_change(&r.change, lang),
                        r.log_seq
                    );
                }
            }
            return Ok(ExitCode::SUCCESS);
        }
        PermsAction::Grant { employee, setting, until } => {
            OwnerChange::grant(employee, &setting, until.as_deref(), crew.shop().timezone)?
        }
        PermsAction::Revoke { employee, pattern } => OwnerChange::Revoke { employee, pattern },
        PermsAction::Pause { who: w } => OwnerChange::Pause { employee: who(w) },
        PermsAction::Resume { who: w } => OwnerChange::Resume { employee: w.and_then(who) },
    };
    let line = crate::crew::describe_change(&change, lang);
    let version = crew.change_perms(change).await?;
    if json {
        print_json(&serde_json::json!({"version": version}))?;
    } else {
        println!(
            "{}",
            lang.pick(
                &format!("{line}(策略版本 {version},下一个操作起生效)"),
                &format!("{line} (policy version {version}, in force from the next action)")
            )
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn ledger(crew: &Crew, json: bool) -> Result<ExitCode> {
    let r = crew.ledger().await?;
    if json {
        print_json(&r)?;
        return Ok(ExitCode::SUCCESS);
    }
    let lang = crew.lang();
    let sign = crate::money::currency_sign(&crew.shop().currency);
    let money = |m: Money| format!("{sign}{}", m.short_text());
    println!(
        "{}",
        lang.pick(
            &format!("今天 {}:已花 {} / 每日预算 {}", r.today, money(r.spent_today), money(r.daily_cap)),
            &format!("today {}: {} spent of the daily budget {}", r.today, money(r.spent_today), money(r.daily_cap)),
        )
    );
    println!(
        "{}",
        lang.pick(
            &format!("本月:已花 {} / 月度预算 {}", money(r.spent_month), money(r.monthly_cap)),
            &format!("this month: {} spent of the monthly budget {}", money(r.spent_month), money(r.monthly_cap)),
        )
    );
    if let Some(above) = r.approval_above {
        println!(
            "{}",
            lang.pick(
                &format!("单笔超过 {} 需店主批准", money(above)),
                &format!("a single spend above {} waits for the owner", money(above))
            )
        );
    }
    for e in &r.employees {
        let cap = |m: Option<Money>| m.map(|m| format!(" / {}", money(m))).unwrap_or_default();
        println!(
            "  {:<12} {}",
            employee_name(crew, &e.employee),
            lang.pick(
                &format!("今天 {}{},本月 {}{}", money(e.today), cap(e.daily_cap), money(e.month), cap(e.monthly_cap)),
                &format!(
                    "today {}{}, this month {}{}",
                    money(e.today),
                    cap(e.daily_cap),
                    money(e.month),
                    cap(e.monthly_cap)
                )
            )
        );
    }
    if !r.campaigns.is_empty() {
        println!("{}", lang.pick("推广计划:", "campaigns:"));
    }
    for c in &r.campaigns {
        let day = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_else(|| "?".into());
        println!(
            "  #{} {} [{}] {}–{}  {}",
            c.id,
            c.name,
            c.status,
            day(c.first_day),
            day(c.last_day),
            lang.pick(
                &format!("总预算 {},已消耗 {}", money(c.total_budget), money(c.spent)),
                &format!("budget {}, spent {}", money(c.total_budget), money(c.spent))
            )
        );
    }
    if r.ai.calls > 0 || r.ai.budget_yuan.is_some() {
        let cap = r.ai.budget_yuan.map(|b| format!(" / ¥{b:.2}")).unwrap_or_default();
        let tokens = r.ai.prompt_tokens + r.ai.completion_tokens;
        println!(
            "{}",
            lang.pick(
                &format!("今天 AI:{} 次调用,{tokens} tokens,¥{:.4}{cap}", r.ai.calls, r.ai.spent_yuan),
                &format!("AI today: {} calls, {tokens} tokens, ¥{:.4}{cap}", r.ai.calls, r.ai.spent_yuan)
            )
        );
    }
    let check = if r.reconciled {
        lang.pick(
            &format!("账本与工作日志一致:{}", money(r.ledger_total)),
            &format!("the ledger matches the work log: {}", money(r.ledger_total)),
        )
        .to_string()
    } else {
        lang.pick(
            &format!(
                "账本与工作日志不一致:账本 {},日志 {},预留未结 {}",
                money(r.ledger_total),
                money(r.log_total),
                money(r.reserved)
            ),
            &format!(
                "the ledger does not match the work log: ledger {}, log {}, reserved {}",
                money(r.ledger_total),
                money(r.log_total),
                money(r.reserved)
            ),
        )
        .to_string()
    };
    println!("{check}");
    Ok(if r.reconciled { ExitCode::SUCCESS } else { ExitCode::from(2) })
}

async fn interactive(crew: &Crew, json: bool) -> Result<ExitCode> {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let tty = std::io::stdin().is_terminal();
    if tty {
        println!("{}", crew.lang().pick("请说要做什么(exit 退出):", "What should the crew do? (exit to quit)"));
    }
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    loop {
        if tty {
            print!("> ");
            let _ = std::io::stdout().flush();
        }
        let Some(line) = lines.next_line().await.map_err(|source| Error::Io { path: "stdin".into(), source })? else {
            break;
        };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if matches!(line, "exit" | "quit" | "退出") {
            break;
        }
        if let Err(e) = chat(crew, line, json).await {
            eprintln!("error: {e}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Says which model planned, or why the offline planner did.
fn print_source(crew: &Crew, source: &PlanSource) {
    let lang = crew.lang();
    if let Some(why) = &source.fallback {
        println!(
            "{}",
            lang.pick(
                &format!("(模型未给出可用计划,已改用离线规划:{why})"),
                &format!("(the model gave no usable plan, so the offline planner did: {why})")
            )
        );
    } else if let Some(call) = source.calls.last() {
        let tokens: u64 = source.calls.iter().map(|c| c.prompt_tokens + c.completion_tokens).sum();
        println!(
            "{}",
            lang.pick(
                &format!("(由模型 {} 规划,{} 次调用,{tokens} tokens)", call.model, source.calls.len()),
                &format!("(planned by {}, {} calls, {tokens} tokens)", call.model, source.calls.len())
            )
        );
    }
}

async fn plan(crew: &Crew, request: &str, json: bool) -> Result<ExitCode> {
    let (planned, source) = crew.plan(request).await?;
    match planned {
        Planned::Plan(plan) => {
            if json {
                print_json(&plan)?;
            } else {
                print_plan(crew, &plan, None);
                print_source(crew, &source);
            }
            Ok(ExitCode::SUCCESS)
        }
        Planned::NotUnderstood(nu) => {
            if json {
                print_json(&nu)?;
            } else {
                println!("{nu}");
            }
            Ok(ExitCode::FAILURE)
        }
    }
}

async fn verify(crew: &Crew, against: Option<&std::path::Path>, json: bool) -> Result<ExitCode> {
    let result = match against {
        None => crew.verify().await?,
        Some(path) => {
            let text =
                std::fs::read_to_string(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
            crew.verify_against(&text).await?
        }
    };
    if json {
        print_json(&result)?;
    }
    let lang = crew.lang();
    match result {
        Verification::Ok { entries, head, root, checkpoints } => {
            if !json {
                println!(
                    "{}",
                    lang.pick(
                        &format!(
                            "工作日志完好:{entries} 条记录,链头 {},Merkle 根 {},{checkpoints} 个签名检查点均吻合",
                            &head[..16],
                            &root[..16]
                        ),
                        &format!(
                            "work log OK: {entries} entries, head {}, Merkle root {}, all {checkpoints} signed checkpoints match",
                            &head[..16],
                            &root[..16]
                        )
                    )
                );
                if against.is_some() {
                    println!("{}", lang.pick("并且它延续了你保存的检查点", "and it extends the checkpoint you kept"));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Verification::Broken { seq, problem } => {
            eprintln!(
                "{}",
                lang.pick(
                    &format!("工作日志校验失败:第 {seq} 条:{problem}"),
                    &format!("work log verification FAILED at entry {seq}: {problem}")
                )
            );
            Ok(ExitCode::from(2))
        }
    }
}

async fn checkpoint(crew: &Crew, json: bool) -> Result<ExitCode> {
    let Some(signed) = crew.checkpoint().await? else {
        return Err(Error::Checkpoint("the work log is empty; there is nothing to checkpoint yet".into()));
    };
    if json {
        print_json(&serde_json::json!({
            "checkpoint": signed.checkpoint,
            "text": signed.to_text(),
            "public_key": crew.log_public_key(),
        }))?;
    } else {
        print!("{}", signed.to_text());
        eprintln!(
            "{}",
            crew.lang().pick(
                "保存这段文字;以后用 shopcrew log verify --against 文件 证明日志没有被截断或改写",
                "keep this text; later, shopcrew log verify --against FILE proves the log was not cut or rewritten"
            )
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn log(crew: &Crew, employee: Option<String>, since: Option<String>, json: bool) -> Result<ExitCode> {
    let tz = crew.shop().timezone;
    let since = match since {
        Some(text) => Some(since_stamp(&text, tz).ok_or_else(|| {
            Error::Invalid(format!(
                "--since `{text}` is not a date like 2026-11-24 or a time like 2026-11-24T08:00:00Z"
            ))
        })?),
        None => None,
    };
    if let Some(e) = &employee
        && crew.catalog().employee(e).is_none()
    {
        return Err(Error::UnknownEmployee(e.clone()));
    }
    let entries = crew.log(&Filter { employee, since, ..Filter::default() }).await?;
    if json {
        print_json(&entries)?;
        return Ok(ExitCode::SUCCESS);
    }
    if entries.is_empty() {
        println!("{}", crew.lang().pick("没有符合条件的记录", "no entries match"));
    }
    for e in &entries {
        let when = crate::clock::parse_stamp(&e.at)
            .map(|t| t.with_timezone(&tz).format("%m-%d %H:%M").to_string())
            .unwrap_or_else(|| e.at.clone());
        let who = match (&e.employee, e.actor.as_str()) {
            (Some(id), _) => employee_name(crew, id),
            (None, "owner") => crew.lang().pick("店主", "owner").to_string(),
            (None, "planner") => employee_name(crew, "planner"),
            (None, other) => crew.lang().pick("系统", other).to_string(),
        };
        let task = match (&e.plan_id, &e.task_id) {
            (Some(p), Some(t)) => format!(" [#{p}/{t}]"),
            (Some(p), None) => format!(" [#{p}]"),
            _ => String::new(),
        };
        let sign = crate::money::currency_sign(&crew.shop().currency);
        let money = e.amount.map(|m| format!("  {sign}{}", m.short_text())).unwrap_or_default();
        println!("{:>4} {when} {who}{task} · {}{money}", e.seq, e.summary);
    }
    Ok(ExitCode::SUCCESS)
}

async fn approvals(crew: &Crew, action: Option<ApprovalAction>, json: bool) -> Result<ExitCode> {
    let lang = crew.lang();
    match action.unwrap_or(ApprovalAction::List { all: false }) {
        ApprovalAction::List { all } => {
            let list = crew.approvals(all).await?;
            if json {
                print_json(&list)?;
                return Ok(ExitCode::SUCCESS);
            }
            if list.is_empty() {
                println!("{}", lang.pick("没有待批准的操作", "nothing waits for approval"));
            }
            for a in &list {
                println!("#{} [{}] {} · {} {}", a.id, a.status, employee_name(crew, &a.employee), a.skill, a.args);
                println!("    {}({})", a.reason.get(lang), a.rule);
            }
            Ok(ExitCode::SUCCESS)
        }
        ApprovalAction::Show { id } => {
            let a = crew.approval(id).await?;
            if json {
                print_json(&a)?;
            } else {
                println!("#{} [{}] {} · {}", a.id, a.status, employee_name(crew, &a.employee), a.skill);
                println!("  args:   {}", a.args);
                println!("  rule:   {}", a.rule);
                println!("  reason: {}", a.reason.get(lang));
                println!("  digest: {}", a.digest);
            }
            Ok(ExitCode::SUCCESS)
        }
        ApprovalAction::Approve { id } => {
            let approved = crew.approve(id, progress(crew, json)).await?;
            if json {
                print_json(&approved)?;
            } else {
                if !approved.resumed.is_empty() {
                    let done = approved.resumed.iter().filter(|t| t.is_done()).count();
                    let n = approved.resumed.len();
                    println!(
                        "{}",
                        lang.pick(
                            &format!("等待它的任务已继续:完成 {done}/{n}"),
                            &format!("tasks that waited on it went on: {done}/{n} done")
                        )
                    );
                }
            }
            Ok(step_code(&approved.step))
        }
        ApprovalAction::Reject { id, reason } => {
            crew.reject(id, reason.as_deref()).await?;
            if json {
                print_json(&serde_json::json!({"rejected": id}))?;
            } else {
                println!("{}", lang.pick(&format!("已拒绝 #{id},未执行"), &format!("rejected #{id}; nothing was run")));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn doctor(crew: &Crew, json: bool) -> Result<ExitCode> {
    let lang = crew.lang();
    let Some(model) = crew.model() else {
        if json {
            print_json(&serde_json::json!({"model": null, "planner": "offline"}))?;
        } else {
            println!(
                "{}",
                lang.pick(
                    "未配置模型:使用离线规划。设置 OPENAI_BASE_URL(和 OPENAI_API_KEY)或在数据目录的 shopcrew.toml 中配置 [model]。",
                    "no model configured: the offline planner serves. Set OPENAI_BASE_URL (and OPENAI_API_KEY) or a [model] section in shopcrew.toml in the home."
                )
            );
        }
        return Ok(ExitCode::SUCCESS);
    };
    let cfg = model.config();
    let probe = model
        .chat_json(
            None,
            &[crate::model::Message::User("Answer with {\"ok\": true}.".into())],
            "probe",
            serde_json::json!({"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}),
        )
        .await;
    let answered = probe.as_ref().map(|(_, call)| call.clone());
    if json {
        print_json(&serde_json::json!({
            "model": cfg.model, "base_url": cfg.base_url, "key_from": cfg.key_source,
            "answers": answered.is_ok(), "call": answered.as_ref().ok(),
            "error": probe.as_ref().err().map(|e| e.to_string()),
        }))?;
    } else {
        let key = cfg
            .key_source
            .clone()
            .unwrap_or_else(|| lang.pick("无(本地模型可不需要)", "none (a local model may need none)").to_string());
        println!(
            "{}",
            lang.pick(
                &format!("模型 {},地址 {},密钥来自 {key}", cfg.model, cfg.base_url),
                &format!("model {} at {}, key from {key}", cfg.model, cfg.base_url)
            )
        );
        match &probe {
            Ok((_, call)) => println!(
                "{}",
                lang.pick(
                    &format!("✓ 模型已应答({} ms)", call.millis),
                    &format!("✓ the model answers ({} ms)", call.millis)
                )
            ),
            Err(e) => {
                println!("{}", lang.pick(&format!("✗ 模型没有应答:{e}"), &format!("✗ the model does not answer: {e}")))
            }
        }
    }
    Ok(if probe.is_ok() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn employees(crew: &Crew, json: bool) -> Result<ExitCode> {
    let list = crew.employees();
    if json {
        print_json(&list)?;
        return Ok(ExitCode::SUCCESS);
    }
    for e in list {
        let skills: Vec<&str> = e.skills.iter().map(|s| s.as_str()).collect();
        println!("{:<17} {} / {} — {}  [{}]", e.id, e.name.zh, e.name.en, e.role.get(crew.lang()), skills.join(", "));
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Serialize)]
struct SkillInfo<'a> {
    id: &'a str,
    employee: &'a str,
    effect: crate::catalog::EffectClass,
    name: &'a crate::lang::Text,
    description: &'a crate::lang::Text,
    schema: serde_json::Value,
}

fn skills(crew: &Crew, json: bool) -> Result<ExitCode> {
    let list: Vec<SkillInfo> = crew
        .catalog()
        .skills
        .iter()
        .map(|s| SkillInfo {
            id: &s.id,
            employee: &s.employee,
            effect: s.effect,
            name: &s.name,
            description: &s.description,
            schema: crew.registry().get(&s.id).map(|i| i.schema()).unwrap_or_default(),
        })
        .collect();
    if json {
        print_json(&list)?;
        return Ok(ExitCode::SUCCESS);
    }
    for s in list {
        println!("{:<28} {:<17} {}: {}", s.id, s.employee, s.name.get(crew.lang()), s.description.get(crew.lang()));
    }
    Ok(ExitCode::SUCCESS)
}
