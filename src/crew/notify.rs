//! Telling the owner: webhooks for reports, approvals waiting and denials.
//!
//! The work log is the outbox. Each hook remembers the last entry it was sent
//! (`delivered_seq`); [`Crew::notify_pending`] sends what came after, in order, with retries.
//! A hook that keeps failing is logged and moved past, so it never holds anything up, and
//! nothing is lost across a restart: what was not yet sent is sent at the next pass.

use serde::Serialize;
use sqlx::Row;

use super::Crew;
use crate::clock::stamp;
use crate::error::{Error, Result};
use crate::lang::Lang;
use crate::store;
use crate::webhook::{self, Event, Format, Hook, Message, Retry};
use crate::worklog::{self, Actor, Entry, Filter, Kind, NewEntry};

/// A stored webhook, as the owner sees it (the URL without its query, which holds tokens).
#[derive(Debug, Clone, Serialize)]
pub struct Webhook {
    pub id: i64,
    pub url: String,
    pub format: Format,
    pub events: Vec<Event>,
    pub signed: bool,
    pub enabled: bool,
    pub delivered_seq: i64,
}

/// What one pass over a hook did.
#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    pub webhook: i64,
    pub log_seq: i64,
    pub event: Event,
    /// Attempts made; `error` is set when all failed.
    pub attempts: u32,
    pub error: Option<String>,
}

struct Stored {
    id: i64,
    hook: Hook,
    events: Vec<Event>,
    delivered_seq: i64,
}

/// The URL as it may be shown: scheme, host and path, no query.
fn shown_url(url: &str) -> String {
    match url.split_once('?') {
        Some((base, _)) => format!("{base}?…"),
        None => url.to_string(),
    }
}

/// The event a log entry is, for the owner's hooks.
pub fn event_of(entry: &Entry) -> Option<Event> {
    match entry.kind.as_str() {
        "report" => Some(Event::Report),
        "approval" if entry.details["decision"] == "needs_approval" => Some(Event::Approval),
        "decision" if entry.details["decision"] == "deny" => Some(Event::Denial),
        _ => None,
    }
}

impl Crew {
    /// `shopcrew notify add`: a hook that gets the events named from now on.
    pub async fn add_webhook(
        &self,
        url: &str,
        format: Format,
        events: &[Event],
        secret: Option<String>,
    ) -> Result<Webhook> {
        let url = url.trim();
        let parsed = reqwest::Url::parse(url).map_err(|e| {
            Error::Invalid(format!("webhook URL `{}`: {e}; give a full http(s):// address", shown_url(url)))
        })?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(Error::Invalid(format!(
                "webhook URL `{}` must be http:// or https:// with a host",
                shown_url(url)
            )));
        }
        if events.is_empty() {
            return Err(Error::Invalid("a webhook needs at least one event: report, approval or denial".into()));
        }
        let shop_id = self.inner.shop.id;
        let mut tx = store::begin(&self.inner.db).await?;
        let tail: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM work_log WHERE shop_id = $1")
            .bind(shop_id)
            .fetch_one(&mut *tx)
            .await?;
        let names: Vec<&str> = events.iter().map(|e| e.as_str()).collect();
        // The hook starts after the entry that records it: history is not replayed.
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO webhooks (shop_id, url, format, events, secret, delivered_seq, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(shop_id)
        .bind(url)
        .bind(format.as_str())
        .bind(names.join(","))
        .bind(&secret)
        .bind(tail + 1)
        .bind(stamp(self.now()))
        .fetch_one(&mut *tx)
        .await?;
        let summary = match self.inner.lang {
            Lang::Zh => format!("店主添加通知 #{id}:{}({},{})", shown_url(url), format, names.join(",")),
            Lang::En => format!("owner added webhook #{id}: {} ({}, {})", shown_url(url), format, names.join(",")),
        };
        let mut entry = NewEntry::new(Actor::Owner, Kind::Setup, summary);
        entry.details = serde_json::json!({"webhook": id, "url": shown_url(url), "format": format, "events": names});
        worklog::append(&mut tx, shop_id, &stamp(self.now()), &entry).await?;
        tx.commit().await?;
        self.webhooks().await?.into_iter().find(|w| w.id == id).ok_or(Error::Invalid("webhook vanished".into()))
    }

    pub async fn webhooks(&self) -> Result<Vec<Webhook>> {
        Ok(self
            .stored_hooks(true)
            .await?
            .into_iter()
            .map(|s| Webhook {
                id: s.id,
                url: shown_url(&s.hook.url),
                format: s.hook.format,
                events: s.events,
                signed: s.hook.secret.is_some(),
                enabled: true,
                delivered_seq: s.delivered_seq,
            })
            .collect())
    }

    /// `shopcrew notify remove`.
    pub async fn remove_webhook(&self, id: i64) -> Result<()> {
        let shop_id = self.inner.shop.id;
        let mut tx = store::begin(&self.inner.db).await?;
        let url: Option<String> = sqlx::query_scalar("SELECT url FROM webhooks WHERE shop_id = $1 AND id = $2")
            .bind(shop_id)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(url) = url else {
            return Err(Error::Invalid(format!("no webhook #{id}; `shopcrew notify list` shows them")));
        };
        sqlx::query("DELETE FROM webhooks WHERE id = $1").bind(id).execute(&mut *tx).await?;
        let summary = match self.inner.lang {
            Lang::Zh => format!("店主删除通知 #{id}:{}", shown_url(&url)),
            Lang::En => format!("owner removed webhook #{id}: {}", shown_url(&url)),
        };
        let mut entry = NewEntry::new(Actor::Owner, Kind::Setup, summary);
        entry.details = serde_json::json!({"webhook_removed": id});
        worklog::append(&mut tx, shop_id, &stamp(self.now()), &entry).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn stored_hooks(&self, all: bool) -> Result<Vec<Stored>> {
        let rows = sqlx::query(
            "SELECT id, url, format, events, secret, delivered_seq FROM webhooks \
             WHERE shop_id = $1 AND ($2 OR enabled) ORDER BY id",
        )
        .bind(self.inner.shop.id)
        .bind(all)
        .fetch_all(&self.inner.db)
        .await?;
        rows.iter()
            .map(|r| {
                let format: String = r.get("format");
                let events: String = r.get("events");
                Ok(Stored {
                    id: r.get("id"),
                    hook: Hook {
                        url: r.get("url"),
                        format: format.parse().map_err(Error::Invalid)?,
                        secret: r.get("secret"),
                    },
                    events: Event::parse_list(&events).map_err(Error::Invalid)?,
                    delivered_seq: r.get("delivered_seq"),
                })
            })
            .collect()
    }

    /// Sends every hook what the log holds for it since its last delivery, oldest first.
    /// A delivery that fails after its retries is logged and passed over. Never fails for a
    /// hook's sake; errors are the store's.
    pub async fn notify_pending(&self, client: &reqwest::Client, retry: &Retry) -> Result<Vec<Delivery>> {
        let mut done = Vec::new();
        for stored in self.stored_hooks(false).await? {
            let entries = {
                let mut conn = self.inner.db.acquire().await?;
                let filter = Filter { after_seq: Some(stored.delivered_seq - 1), ..Filter::default() };
                worklog::read(&mut conn, self.inner.shop.id, &filter).await?
            };
            for entry in &entries {
                let event = match event_of(entry) {
                    Some(event) if stored.events.contains(&event) => event,
                    _ => continue,
                };
                let message = self.message(event, entry);
                let (attempts, error) = match webhook::deliver(client, &stored.hook, &message, retry).await {
                    Ok(n) => (n, None),
                    Err(e) => (e.attempts(), Some(e.to_string())),
                };
                if let Some(error) = &error {
                    self.log_failed_delivery(stored.id, entry.seq, event, error).await?;
                }
                self.mark_delivered(stored.id, entry.seq).await?;
                done.push(Delivery { webhook: stored.id, log_seq: entry.seq, event, attempts, error });
            }
            if let Some(last) = entries.last() {
                self.mark_delivered(stored.id, last.seq).await?;
            }
        }
        Ok(done)
    }

    async fn mark_delivered(&self, hook: i64, seq: i64) -> Result<()> {
        sqlx::query("UPDATE webhooks SET delivered_seq = $1 WHERE id = $2 AND delivered_seq <= $1")
            .bind(seq + 1)
            .bind(hook)
            .execute(&self.inner.db)
            .await?;
        Ok(())
    }

    async fn log_failed_delivery(&self, hook: i64, seq: i64, event: Event, error: &str) -> Result<()> {
        let summary = match self.inner.lang {
            Lang::Zh => format!("通知 #{hook} 发送失败(记录 #{seq} 的{}):{error}", event_zh(event)),
            Lang::En => format!("webhook #{hook} failed to deliver the {} of entry #{seq}: {error}", event.as_str()),
        };
        let mut entry = NewEntry::new(Actor::System, Kind::Error, summary);
        entry.details = serde_json::json!({"webhook": hook, "log_seq": seq, "event": event, "error": error});
        let mut tx = store::begin(&self.inner.db).await?;
        worklog::append(&mut tx, self.inner.shop.id, &stamp(self.now()), &entry).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The notification for one log entry.
    fn message(&self, event: Event, entry: &Entry) -> Message {
        let shop = &self.inner.shop;
        let lang = self.inner.lang;
        let (title, markdown) = match event {
            Event::Report => {
                let title = entry.details["title"].as_str().unwrap_or(&entry.summary).to_string();
                let files: Vec<&str> = entry.details["files"]
                    .as_array()
                    .map(|f| f.iter().filter_map(|v| v.as_str()).collect())
                    .unwrap_or_default();
                let brief = entry.details["brief"].as_str().unwrap_or_default();
                let md = format!("### {title}\n\n{brief}\n{}: {}", lang.pick("文件", "files"), files.join(", "));
                (title, md)
            }
            Event::Approval => {
                let id = entry.details["approval"].as_i64().unwrap_or_default();
                let title = match lang {
                    Lang::Zh => format!("{}:等待您批准 #{id}", shop.title),
                    Lang::En => format!("{}: approval #{id} is waiting for you", shop.title),
                };
                let how = lang.pick("批准", "approve");
                let md = format!("### {title}\n\n{}\n\n{how}: `shopcrew approvals approve {id}`", entry.summary);
                (title, md)
            }
            Event::Denial => {
                let title = match lang {
                    Lang::Zh => format!("{}:一项操作被规则拒绝", shop.title),
                    Lang::En => format!("{}: your rules denied an action", shop.title),
                };
                let who = entry.employee.as_deref().unwrap_or_default();
                let md = format!("### {title}\n\n{who}: {}", entry.summary);
                (title, md)
            }
        };
        Message {
            event,
            shop: shop.name.clone(),
            title,
            markdown,
            details: serde_json::json!({"log_seq": entry.seq, "kind": entry.kind, "employee": entry.employee,
                "skill": entry.skill, "summary": entry.summary, "details": entry.details}),
            at: entry.at.clone(),
        }
    }
}

fn event_zh(event: Event) -> &'static str {
    match event {
        Event::Report => "报告",
        Event::Approval => "批准请求",
        Event::Denial => "拒绝通知",
    }
}
