//! `shopcrew schedule`, `report`, `notify` and `serve`: the autopilot's commands.

use std::process::ExitCode;
use std::time::Duration;

use clap::Subcommand;

use super::print_json;
use crate::clock::{SharedClock, parse_stamp};
use crate::crew::{Crew, Options, RunReport};
use crate::error::{Error, Result};
use crate::lang::Lang;
use crate::schedule::{Action, CatchUp, NewSchedule, ReportPeriod, Schedule};
use crate::serve::{Autopilot, Settings, shutdown_signal};
use crate::tokens::Role;
use crate::webhook::{Event, Format, Retry};

#[derive(Subcommand, Debug)]
pub enum ScheduleAction {
    /// Every schedule with its next due time (shop-local).
    List,
    /// Add a schedule: `schedule add evening-report --cron "0 21 * * *" --report day`.
    Add {
        name: String,
        /// Five fields in the shop's time zone: minute hour day-of-month month day-of-week.
        #[arg(long)]
        cron: String,
        /// A request in plain words, planned and run each time.
        #[arg(long, conflicts_with_all = ["skill", "report"])]
        request: Option<String>,
        /// One skill to call each time, with --args.
        #[arg(long, conflicts_with = "report")]
        skill: Option<String>,
        #[arg(long, default_value = "{}", requires = "skill")]
        args: String,
        /// Write the owner report for a day or a week.
        #[arg(long)]
        report: Option<String>,
        /// The employee in charge (default: the skill's; the analyst for reports).
        #[arg(long = "as")]
        employee: Option<String>,
        /// After downtime: `once` runs the latest missed time, `skip` waits for the next.
        #[arg(long, default_value = "once")]
        catch_up: String,
    },
    /// Delete a schedule (its runs stay in the work log).
    Remove { name: String },
    /// Stop a schedule until it is resumed.
    Pause { name: String },
    /// Start a paused schedule again from its next due time.
    Resume { name: String },
    /// Run a schedule now, under the same rules as a due run.
    RunNow { name: String },
    /// The latest runs and how they ended.
    Runs {
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
}

#[derive(Subcommand, Debug)]
pub enum NotifyAction {
    /// The webhooks (URLs shown without their query, which holds tokens).
    List,
    /// Add a webhook: `notify add https://oapi.dingtalk.com/robot/send?access_token=… --format dingtalk`.
    Add {
        url: String,
        /// json (generic POST), dingtalk or wecom.
        #[arg(long, default_value = "json")]
        format: String,
        /// Which events: report, approval, denial (comma-separated).
        #[arg(long, default_value = "report,approval,denial")]
        events: String,
        /// A DingTalk robot's signing secret (加签).
        #[arg(long, env = "SHOPCREW_WEBHOOK_SECRET", hide_env_values = true)]
        secret: Option<String>,
    },
    Remove {
        id: i64,
    },
    /// Send every webhook what is new now, instead of waiting for `serve`.
    Send,
}

pub async fn schedule(crew: &Crew, action: ScheduleAction, json: bool) -> Result<ExitCode> {
    let lang = crew.lang();
    match action {
        ScheduleAction::List => {
            let list = crew.schedules().await?;
            if json {
                print_json(&list)?;
            } else if list.is_empty() {
                println!(
                    "{}",
                    lang.pick(
                        "没有自动任务;添加:shopcrew schedule add",
                        "no schedules; add one with: shopcrew schedule add"
                    )
                );
            } else {
                for s in &list {
                    println!("{}", schedule_line(crew, s));
                }
            }
        }
        ScheduleAction::Add { name, cron, request, skill, args, report, employee, catch_up } => {
            let action = match (request, skill, report) {
                (Some(request), None, None) => Action::Request { request },
                (None, Some(skill), None) => {
                    let args = serde_json::from_str(&args).map_err(|e| Error::BadArgs {
                        skill: skill.clone(),
                        message: format!("--args is not valid JSON ({e})"),
                    })?;
                    Action::Skill { skill, args }
                }
                (None, None, Some(period)) => Action::Report { period: period.parse()? },
                _ => {
                    return Err(Error::Invalid(
                        "say what the schedule does: --request \"…\", --skill ID [--args JSON], or --report day|week"
                            .into(),
                    ));
                }
            };
            let new = NewSchedule {
                name,
                cron,
                employee: employee.unwrap_or_default(),
                action,
                catch_up: catch_up.parse::<CatchUp>()?,
            };
            let s = crew.add_schedule(new).await?;
            if json {
                print_json(&s)?;
            } else {
                println!("{}", schedule_line(crew, &s));
            }
        }
        ScheduleAction::Remove { name } => {
            let s = crew.remove_schedule(&name).await?;
            if json {
                print_json(&s)?;
            } else {
                println!("{}", lang.pick(&format!("已删除 {}", s.name), &format!("removed {}", s.name)));
            }
        }
        ScheduleAction::Pause { name } => {
            let s = crew.set_schedule_enabled(&name, false).await?;
            if json {
                print_json(&s)?;
            } else {
                println!("{}", schedule_line(crew, &s));
            }
        }
        ScheduleAction::Resume { name } => {
            let s = crew.set_schedule_enabled(&name, true).await?;
            if json {
                print_json(&s)?;
            } else {
                println!("{}", schedule_line(crew, &s));
            }
        }
        ScheduleAction::RunNow { name } => {
            let run = crew.run_schedule_now(&name).await?;
            if json {
                print_json(&run)?;
            } else {
                println!("{}", run_line(&run));
            }
            return Ok(run_code(&run));
        }
        ScheduleAction::Runs { limit } => {
            let runs = crew.schedule_runs(limit.clamp(1, 1000)).await?;
            if json {
                print_json(&runs)?;
            }
            for r in runs.iter().filter(|_| !json) {
                println!("{} {:<16} {:<9} {}", local(crew, &r.due_at), r.schedule, r.status, r.summary);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn schedule_line(crew: &Crew, s: &Schedule) -> String {
    let lang = crew.lang();
    let next = match (&s.next_run_at, s.enabled) {
        (_, false) => lang.pick("已暂停", "paused").to_string(),
        (Some(t), true) => format!("{} {}", lang.pick("下次", "next"), local(crew, t)),
        (None, true) => "-".to_string(),
    };
    format!("{:<16} {:<12} {:<16} {:<18} {}", s.name, s.cron, s.employee, next, s.action.describe())
}

/// A stored UTC time in the shop's time zone.
fn local(crew: &Crew, text: &str) -> String {
    parse_stamp(text)
        .map(|t| t.with_timezone(&crew.shop().timezone).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| text.to_string())
}

fn run_line(run: &RunReport) -> String {
    let files = if run.files.is_empty() { String::new() } else { format!(" [{}]", run.files.join(", ")) };
    format!("[{}] {}{files}", run.status, run.summary)
}

fn run_code(run: &RunReport) -> ExitCode {
    match run.status.as_str() {
        "failed" => ExitCode::FAILURE,
        "denied" => ExitCode::from(3),
        _ => ExitCode::SUCCESS,
    }
}

pub async fn report(crew: &Crew, period: &str, json: bool) -> Result<ExitCode> {
    let period: ReportPeriod = period.parse()?;
    let files = crew.write_report(period, crate::worklog::Actor::Owner).await?;
    if json {
        print_json(&files)?;
    } else {
        println!("{}\n", files.title);
        print!("{}", files.report.brief());
        println!("\nMarkdown: {}\nHTML:     {}", files.markdown, files.html);
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn notify(crew: &Crew, action: NotifyAction, json: bool) -> Result<ExitCode> {
    let lang = crew.lang();
    match action {
        NotifyAction::List => {
            let hooks = crew.webhooks().await?;
            if json {
                print_json(&hooks)?;
            } else if hooks.is_empty() {
                println!(
                    "{}",
                    lang.pick(
                        "没有通知渠道;添加:shopcrew notify add URL",
                        "no webhooks; add one with: shopcrew notify add URL"
                    )
                );
            }
            for h in hooks.iter().filter(|_| !json) {
                let events: Vec<&str> = h.events.iter().map(|e| e.as_str()).collect();
                println!(
                    "#{} {} {} {}{}",
                    h.id,
                    h.format,
                    events.join(","),
                    h.url,
                    if h.signed { " (signed)" } else { "" }
                );
            }
        }
        NotifyAction::Add { url, format, events, secret } => {
            let format: Format = format.parse().map_err(Error::Invalid)?;
            let events = Event::parse_list(&events).map_err(Error::Invalid)?;
            let hook = crew.add_webhook(&url, format, &events, secret).await?;
            if json {
                print_json(&hook)?;
            } else {
                println!("#{} {} {}", hook.id, hook.format, hook.url);
            }
        }
        NotifyAction::Remove { id } => {
            crew.remove_webhook(id).await?;
            if !json {
                println!("{}", lang.pick(&format!("已删除通知 #{id}"), &format!("removed webhook #{id}")));
            }
        }
        NotifyAction::Send => {
            let sent = crew.notify_pending(&reqwest::Client::new(), &Retry::default()).await?;
            if json {
                print_json(&sent)?;
            }
            for d in sent.iter().filter(|_| !json) {
                match &d.error {
                    None => println!("#{} {} (log #{}) sent", d.webhook, d.event, d.log_seq),
                    Some(e) => println!("#{} {} (log #{}) failed: {e}", d.webhook, d.event, d.log_seq),
                }
            }
            if sent.iter().any(|d| d.error.is_some()) {
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Subcommand, Debug)]
pub enum TokenAction {
    /// The tokens (never their secrets).
    List,
    /// Make a token; it is shown once. A viewer token only reads.
    Create {
        #[arg(long)]
        viewer: bool,
        /// A name to tell it apart, e.g. "phone".
        #[arg(long, default_value = "")]
        name: String,
    },
    /// Revoke a token: its next request is refused.
    Revoke { id: i64 },
}

pub async fn token(
    home: &std::path::Path,
    now: chrono::DateTime<chrono::Utc>,
    action: TokenAction,
    json: bool,
) -> Result<ExitCode> {
    let db = crate::store::connect(&crate::home::Home::open(home)?.db_path()).await?;
    match action {
        TokenAction::List => {
            let list = crate::tokens::list(&db).await?;
            if json {
                print_json(&list)?;
            }
            for t in list.iter().filter(|_| !json) {
                let state = t.revoked_at.as_deref().map_or("live".to_string(), |at| format!("revoked {at}"));
                println!("#{} {:<6} {:<12} {} {state}", t.id, t.role.as_str(), t.name, t.created_at);
            }
        }
        TokenAction::Create { viewer, name } => {
            let role = if viewer { Role::Viewer } else { Role::Owner };
            let (id, token) = crate::tokens::create(&db, role, &name, now).await?;
            if json {
                print_json(&serde_json::json!({"id": id, "role": role, "token": token}))?;
            } else {
                println!("#{id} {} {token}", role.as_str());
                eprintln!("(shown only now; the home keeps only its hash)");
            }
        }
        TokenAction::Revoke { id } => {
            crate::tokens::revoke(&db, id, now).await?;
            if !json {
                println!("revoked #{id}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// How `serve` was asked to run.
pub struct ServeArgs {
    pub once: bool,
    pub grace: u64,
    pub notify_every: u64,
    /// Where the API and console listen; none with `--no-http` or `--once`.
    pub http: Option<std::net::SocketAddr>,
}

/// `shopcrew serve`: every shop of the home (or the one `--shop` names) on autopilot, with
/// the API and the web console beside it.
pub async fn serve(opts: Options, clock: SharedClock, args: ServeArgs) -> Result<ExitCode> {
    let ServeArgs { once, grace, notify_every, http } = args;
    let lang = opts.lang.unwrap_or_default();
    let (crews, setup) = Crew::open_all(opts).await?;
    if let Some(setup) = &setup {
        eprintln!("{}", setup.describe(lang));
    }
    let db = crews.first().map(|c| c.db().clone());
    if let (Some(db), false) = (&db, once)
        && let Some(token) = crate::tokens::ensure_owner(db, clock.now()).await?
    {
        eprintln!("{}", super::owner_token_line(&token, lang));
    }
    let settings = Settings {
        grace: Duration::from_secs(grace),
        notify_every: Duration::from_secs(notify_every.max(1)),
        ..Settings::default()
    };
    let autopilot = Autopilot::new(crews, settings);
    let print = |run: &RunReport| println!("{}", run_line(run));
    if once {
        // One pass, for a cron job or a test: take up, run what is due, notify, seal.
        for run in autopilot.recover().await?.iter().chain(autopilot.tick().await?.iter()) {
            print(run);
        }
        let failed = autopilot.notify().await?.iter().filter(|d| d.error.is_some()).count();
        for crew in autopilot.crews() {
            crew.checkpoint().await?;
        }
        if failed > 0 {
            eprintln!(
                "{}",
                lang.pick(
                    &format!("{failed} 条通知发送失败(见工作日志)"),
                    &format!("{failed} notifications failed (see the work log)")
                )
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let shops: Vec<String> = autopilot.crews().iter().map(|c| c.shop().name.clone()).collect();
    // One stop signal for the scheduler and the HTTP server.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop_tx.send(true);
    });
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let server = match http {
        Some(addr) => {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| Error::Invalid(format!("cannot listen on {addr}: {e}; pick another with --listen")))?;
            let bound = listener.local_addr().map_err(|e| Error::Invalid(e.to_string()))?;
            if !bound.ip().is_loopback() {
                eprintln!(
                    "{}",
                    lang.pick(
                        "注意:控制台对本机以外开放;请在前面加 HTTPS,并只把令牌交给信任的人",
                        "note: the console is reachable beyond this machine; put HTTPS in front and share tokens with care"
                    )
                );
            }
            eprintln!("{} http://{bound}/", lang.pick("控制台:", "console:"));
            let state = crate::http::ApiState::new(autopilot.crews().to_vec())
                .ok_or_else(|| Error::Invalid("no shop to serve".into()))?;
            let shutdown = stopped(stop_rx.clone());
            Some(tokio::spawn(crate::http::serve(listener, std::sync::Arc::new(state), shutdown)))
        }
        None => None,
    };
    eprintln!(
        "{}",
        match lang {
            Lang::Zh => format!("自动运行中:{}(Ctrl-C 停止)", shops.join(", ")),
            Lang::En => format!("autopilot running for {} (Ctrl-C stops)", shops.join(", ")),
        }
    );
    autopilot.run(clock, stopped(stop_rx), &print).await?;
    if let Some(server) = server {
        match server.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!("http server: {e}"),
            Err(e) => tracing::error!("http server task: {e}"),
        }
    }
    eprintln!("{}", lang.pick("已停止", "stopped"));
    Ok(ExitCode::SUCCESS)
}
