//! `shopcrew serve`: autopilot for every shop of a home, as one long-running process.
//!
//! The loop: take up runs a stopped process left behind, then run what is due, sleep until
//! the next due time (or a minute), and again. Webhooks are sent by their own task, so a
//! slow or failing receiver never holds the crew up. On SIGINT or SIGTERM no new run
//! starts; the runs in progress get a grace period to finish, and what is still going after
//! it is abandoned (each step is one transaction, so nothing is half-applied), logged, and
//! taken up again at the next start.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::clock::SharedClock;
use crate::crew::{Crew, Delivery, RunReport};
use crate::error::Result;
use crate::lang::Lang;
use crate::store;
use crate::webhook::Retry;
use crate::worklog::{self, Actor, Kind, NewEntry};

/// How the scheduler behaves.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How long runs in progress may take to finish after a shutdown signal.
    pub grace: Duration,
    /// How often webhooks are sent what is new in the log.
    pub notify_every: Duration,
    /// The longest sleep between two looks at the schedules.
    pub max_sleep: Duration,
    /// Shops worked on at once.
    pub concurrency: usize,
    pub retry: Retry,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            grace: Duration::from_secs(30),
            notify_every: Duration::from_secs(5),
            max_sleep: Duration::from_secs(60),
            concurrency: 16,
            retry: Retry::default(),
        }
    }
}

/// Every shop's crew, and the scheduler's settings.
pub struct Autopilot {
    crews: Vec<Crew>,
    settings: Settings,
    client: reqwest::Client,
}

impl Autopilot {
    pub fn new(crews: Vec<Crew>, settings: Settings) -> Autopilot {
        Autopilot { crews, settings, client: reqwest::Client::new() }
    }

    pub fn crews(&self) -> &[Crew] {
        &self.crews
    }

    /// Takes up runs left `running` or `abandoned` by a process that stopped.
    pub async fn recover(&self) -> Result<Vec<RunReport>> {
        self.each(|crew| async move { crew.recover_runs().await }).await
    }

    /// Runs what is due now in every shop (a few shops at once, each shop's schedules one
    /// after another), then seals a checkpoint of each log that grew.
    pub async fn tick(&self) -> Result<Vec<RunReport>> {
        self.each(|crew| async move {
            let runs = crew.run_due().await?;
            if !runs.is_empty() {
                crew.checkpoint().await?;
            }
            Ok(runs)
        })
        .await
    }

    /// Sends every shop's webhooks what is new for them.
    pub async fn notify(&self) -> Result<Vec<Delivery>> {
        notify_all(&self.crews, &self.client, &self.settings.retry).await
    }

    /// Marks the runs still going as abandoned, in every shop.
    pub async fn abandon(&self) -> Result<usize> {
        let mut n = 0;
        for crew in &self.crews {
            n += crew.abandon_running().await?;
        }
        Ok(n)
    }

    /// The earliest due time of any shop served, in one query over the shared database.
    pub async fn next_due(&self) -> Result<Option<chrono::DateTime<Utc>>> {
        let Some(first) = self.crews.first() else { return Ok(None) };
        let rows: Vec<(i64, Option<String>)> = sqlx::query_as(
            "SELECT shop_id, MIN(next_run_at) FROM schedules WHERE enabled AND next_run_at IS NOT NULL GROUP BY shop_id",
        )
        .fetch_all(first.db())
        .await?;
        let served: std::collections::HashSet<i64> = self.crews.iter().map(|c| c.shop().id).collect();
        Ok(rows
            .into_iter()
            .filter(|(shop, _)| served.contains(shop))
            .filter_map(|(_, next)| next.as_deref().and_then(crate::clock::parse_stamp))
            .min())
    }

    /// Runs `work` for every crew, `concurrency` at a time. A shop whose work fails is
    /// reported in the server log and does not stop the others.
    async fn each<F, Fut>(&self, work: F) -> Result<Vec<RunReport>>
    where
        F: Fn(Crew) -> Fut,
        Fut: Future<Output = Result<Vec<RunReport>>> + Send + 'static,
    {
        let permits = Arc::new(Semaphore::new(self.settings.concurrency.max(1)));
        let mut set = JoinSet::new();
        for crew in &self.crews {
            let permits = permits.clone();
            let name = crew.shop().name.clone();
            let fut = work(crew.clone());
            set.spawn(async move {
                let _permit = permits.acquire_owned().await;
                (name, fut.await)
            });
        }
        let mut all = Vec::new();
        while let Some(joined) = set.join_next().await {
            match joined {
                Ok((_, Ok(runs))) => all.extend(runs),
                Ok((shop, Err(e))) => tracing::error!(%shop, "autopilot: {e}"),
                Err(e) => tracing::error!("autopilot task ended abnormally: {e}"),
            }
        }
        all.sort_by(|a, b| a.due_at.cmp(&b.due_at).then_with(|| a.schedule.cmp(&b.schedule)));
        Ok(all)
    }

    /// Logs in every shop that the scheduler started or stopped.
    async fn log_all(&self, started: bool, abandoned: usize) -> Result<()> {
        for crew in &self.crews {
            let summary = match (crew.lang(), started) {
                (Lang::Zh, true) => "自动运行已启动".to_string(),
                (Lang::En, true) => "autopilot started".to_string(),
                (Lang::Zh, false) => format!("自动运行已停止(中断的运行 {abandoned} 个,下次启动时继续)"),
                (Lang::En, false) => {
                    format!("autopilot stopped ({abandoned} runs abandoned, taken up at the next start)")
                }
            };
            let mut entry = NewEntry::new(Actor::Scheduler, Kind::Schedule, summary);
            entry.details = serde_json::json!({"serve": if started { "started" } else { "stopped" }});
            let mut tx = store::begin(crew.db()).await?;
            worklog::append(&mut tx, crew.shop().id, &crate::clock::stamp(crew.now()), &entry).await?;
            tx.commit().await?;
            crew.checkpoint().await?;
        }
        Ok(())
    }

    /// The long-running loop, until `shutdown` completes. `on_run` hears of every run.
    pub async fn run(
        &self,
        clock: SharedClock,
        shutdown: impl Future<Output = ()>,
        on_run: &(dyn Fn(&RunReport) + Sync),
    ) -> Result<()> {
        tokio::pin!(shutdown);
        self.log_all(true, 0).await?;
        let notifier = {
            let (crews, client, retry, every) =
                (self.crews.clone(), self.client.clone(), self.settings.retry, self.settings.notify_every);
            tokio::spawn(async move {
                loop {
                    if let Err(e) = notify_all(&crews, &client, &retry).await {
                        tracing::error!("notifications: {e}");
                    }
                    tokio::time::sleep(every).await;
                }
            })
        };
        let mut abandoned = 0;
        let mut first = true;
        loop {
            let recover = first;
            first = false;
            let work = async move {
                let mut runs = if recover { self.recover().await? } else { Vec::new() };
                runs.extend(self.tick().await?);
                Ok::<_, crate::error::Error>(runs)
            };
            tokio::pin!(work);
            let finished = tokio::select! {
                r = &mut work => Some(r),
                () = &mut shutdown => None,
            };
            match finished {
                Some(runs) => runs?.iter().for_each(on_run),
                None => {
                    tracing::info!("stopping: waiting up to {:?} for runs in progress", self.settings.grace);
                    match tokio::time::timeout(self.settings.grace, &mut work).await {
                        Ok(runs) => runs?.iter().for_each(on_run),
                        Err(_) => abandoned = self.abandon().await?,
                    }
                    break;
                }
            }
            let now = clock.now();
            let wait = match self.next_due().await? {
                Some(next) if next > now => (next - now).to_std().unwrap_or_default(),
                Some(_) => Duration::from_secs(1),
                None => self.settings.max_sleep,
            };
            tokio::select! {
                () = tokio::time::sleep(wait.min(self.settings.max_sleep)) => {}
                () = &mut shutdown => break,
            }
        }
        notifier.abort();
        // What is new gets one last, bounded chance to go out; the rest goes at the next start.
        let _ = tokio::time::timeout(Duration::from_secs(5), self.notify()).await;
        self.log_all(false, abandoned).await
    }
}

async fn notify_all(crews: &[Crew], client: &reqwest::Client, retry: &Retry) -> Result<Vec<Delivery>> {
    let mut all = Vec::new();
    for crew in crews {
        all.extend(crew.notify_pending(client, retry).await?);
    }
    Ok(all)
}

/// Completes on SIGINT (Ctrl-C) or, on Unix, SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
