//! Webhook delivery of owner notifications: a report, an approval waiting, a denial.
//!
//! This module owns the wire formats (a generic JSON body, the DingTalk and WeCom group
//! robots' markdown messages), DingTalk's "加签" URL signing, and delivery with bounded
//! retries. It never panics, and it never writes a hook's secret, its query string (which
//! holds a robot's access token) or the full URL into an error or a `Debug` line: errors
//! name the host only.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::Sha256;

/// WeCom refuses markdown content longer than this many bytes.
const WECOM_MAX_BYTES: usize = 4096;
/// DingTalk's limit is close to WeCom's; staying under 4000 bytes keeps well clear of it.
const DINGTALK_MAX_BYTES: usize = 4000;
/// Appended to text that was cut to fit a robot's limit.
const ELLIPSIS: &str = "…";
/// How much of a reply is read: robot replies are tiny, and an error page needs only a glance.
const REPLY_READ_LIMIT: usize = 64 * 1024;
/// How many characters of a reply an error quotes.
const EXCERPT_CHARS: usize = 200;

/// The shape of the body sent to a hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// A generic JSON object with the event, shop, title, markdown text and details.
    Json,
    /// A DingTalk group robot (钉钉自定义机器人) markdown message.
    Dingtalk,
    /// A WeCom group robot (企业微信群机器人) markdown message.
    Wecom,
}

impl Format {
    /// The name used in configuration and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Dingtalk => "dingtalk",
            Format::Wecom => "wecom",
        }
    }

    /// Whether replies are a robot's `{"errcode": …}` JSON rather than a bare HTTP status.
    fn is_robot(self) -> bool {
        matches!(self, Format::Dingtalk | Format::Wecom)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = String;

    /// Reads `json` (or `generic`), `dingtalk` or `wecom`, ignoring case and surrounding space.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "json" | "generic" => Ok(Format::Json),
            "dingtalk" => Ok(Format::Dingtalk),
            "wecom" => Ok(Format::Wecom),
            _ => Err(format!("unknown webhook format {:?}: choose json (also called generic), dingtalk or wecom", s)),
        }
    }
}

/// What happened that the owner is told about; a hook subscribes to a list of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// A periodic or requested report is ready.
    Report,
    /// An action waits for the owner's approval.
    Approval,
    /// The policy gate denied an action.
    Denial,
}

impl Event {
    /// Every event, in the order they are listed to the user.
    pub const ALL: [Event; 3] = [Event::Report, Event::Approval, Event::Denial];

    /// The name used in configuration, on the command line and in the generic JSON body.
    pub fn as_str(self) -> &'static str {
        match self {
            Event::Report => "report",
            Event::Approval => "approval",
            Event::Denial => "denial",
        }
    }

    /// Reads a comma-separated list such as `"report,approval"`. Spaces around names are
    /// ignored and repeats are kept once, in first-seen order; an empty list is an error.
    pub fn parse_list(list: &str) -> Result<Vec<Event>, String> {
        let mut events = Vec::new();
        for name in list.split(',').map(str::trim).filter(|name| !name.is_empty()) {
            let event = name.parse::<Event>()?;
            if !events.contains(&event) {
                events.push(event);
            }
        }
        if events.is_empty() {
            return Err(format!("no events given: list one or more of {}, separated by commas", choices()));
        }
        Ok(events)
    }
}

/// The event names as the user types them, for error messages.
fn choices() -> String {
    Event::ALL.map(Event::as_str).join(", ")
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Event {
    type Err = String;

    /// Reads `report`, `approval` or `denial`, ignoring case and surrounding space.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        Event::ALL
            .into_iter()
            .find(|event| event.as_str().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| format!("unknown event {:?}: choose from {}", s, choices()))
    }
}

/// Where and how to deliver notifications.
#[derive(Clone, PartialEq, Eq, Deserialize)]
pub struct Hook {
    /// The full http(s) URL, including a robot's `access_token` query.
    pub url: String,
    pub format: Format,
    /// A DingTalk robot's "加签" secret (`SEC…`); the URL is then signed on every attempt.
    /// Other formats ignore it.
    pub secret: Option<String>,
}

impl fmt::Debug for Hook {
    /// Shows the URL without its query (robots keep their token there) and hides the secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = match self.url.split_once('?') {
            Some((base, _)) => format!("{base}?…"),
            None => self.url.clone(),
        };
        f.debug_struct("Hook")
            .field("url", &url)
            .field("format", &self.format)
            .field("secret", &self.secret.as_ref().map(|_| "…"))
            .finish()
    }
}

/// One notification, written once and rendered into each hook's format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub event: Event,
    pub shop: String,
    /// A one-line summary; robots show it in the chat list.
    pub title: String,
    /// The body as markdown.
    pub markdown: String,
    /// Structured facts for machine receivers; only the generic JSON format carries them.
    pub details: Value,
    /// When it happened, as RFC 3339 text.
    pub at: String,
}

/// How hard to try before giving up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Attempts in all, the first included; 0 is read as 1.
    pub attempts: u32,
    /// The wait after the first failure; it doubles after each further one.
    pub first_delay: Duration,
    /// The longest wait between two attempts.
    pub max_delay: Duration,
    /// The time one attempt may take, from connecting to reading the reply.
    pub timeout: Duration,
}

impl Default for Retry {
    /// 4 attempts, waiting 0.5 s, 1 s, 2 s between them (never more than 8 s), 10 s each.
    fn default() -> Self {
        Retry {
            attempts: 4,
            first_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
            timeout: Duration::from_secs(10),
        }
    }
}

impl Retry {
    /// The wait after `delay`: doubled, but no longer than `max_delay`.
    fn next_delay(&self, delay: Duration) -> Duration {
        delay.saturating_mul(2).min(self.max_delay)
    }
}

/// Why one attempt failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Cause {
    /// The receiver answered with an HTTP status other than 2xx.
    #[error("HTTP {status}{}", excerpt_suffix(excerpt))]
    Status { status: u16, excerpt: String },
    /// A robot answered HTTP 200 with a non-zero `errcode` (a bad token, a failed signature,
    /// or a rate limit such as DingTalk's 130101 "send too fast").
    #[error("the robot answered errcode {errcode}: {errmsg}")]
    Robot { errcode: i64, errmsg: String },
    /// A robot hook was answered with something that is not a robot's `{"errcode": …}` JSON,
    /// which means the URL does not point at a robot of that format.
    #[error("the answer is not a robot reply with an errcode{}", excerpt_suffix(excerpt))]
    NotRobotReply { excerpt: String },
    /// The attempt took longer than `Retry::timeout`.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// Connecting, sending or reading failed.
    #[error("{0}")]
    Network(String),
}

fn excerpt_suffix(excerpt: &str) -> String {
    if excerpt.is_empty() { " (empty body)".to_string() } else { format!(": {excerpt}") }
}

/// Why a notification was not delivered. Errors name the URL's host only.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The hook's URL is not an http(s) URL with a host. Not retryable: fix the hook.
    #[error("webhook URL is not usable ({reason}): give a full http(s) URL such as https://example.com/hook")]
    InvalidUrl { reason: String },
    /// The receiver refused the message in a way that another attempt would not change (an
    /// HTTP 4xx other than 429, or a reply that is not a robot's). Not retryable: fix the hook.
    #[error(
        "webhook delivery to {host} failed after {attempts} attempt(s), not retried because another attempt would \
         fail the same way: {cause}. Check the hook's URL, token and format"
    )]
    Refused { host: String, attempts: u32, cause: Cause },
    /// Every attempt failed for a reason that may pass (network, timeout, 429, 5xx, robot
    /// errcode). Retryable later.
    #[error("webhook delivery to {host} failed after {attempts} attempt(s); the last one: {cause}")]
    Exhausted { host: String, attempts: u32, cause: Cause },
}

impl DeliveryError {
    /// The attempts made before giving up (0 when the URL was unusable).
    pub fn attempts(&self) -> u32 {
        match self {
            DeliveryError::InvalidUrl { .. } => 0,
            DeliveryError::Refused { attempts, .. } | DeliveryError::Exhausted { attempts, .. } => *attempts,
        }
    }

    /// Whether delivering the same message later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, DeliveryError::Exhausted { .. })
    }
}

/// The JSON body sent to a hook of `format`. Robot text is cut to the robot's size limit.
pub fn body(format: Format, msg: &Message) -> Value {
    match format {
        Format::Json => json!({
            "event": msg.event.as_str(),
            "shop": msg.shop,
            "title": msg.title,
            "text": msg.markdown,
            "details": msg.details,
            "at": msg.at,
        }),
        Format::Dingtalk => json!({
            "msgtype": "markdown",
            "markdown": {
                "title": msg.title,
                "text": truncate(&msg.markdown, DINGTALK_MAX_BYTES),
            },
        }),
        Format::Wecom => {
            let content = format!("## {}\n\n{}", msg.title, msg.markdown);
            json!({
                "msgtype": "markdown",
                "markdown": { "content": truncate(&content, WECOM_MAX_BYTES) },
            })
        }
    }
}

/// `text` if it fits in `max_bytes`; otherwise its longest prefix ending on a character
/// boundary that, with "…" appended, fits.
fn truncate(text: &str, max_bytes: usize) -> String {
    if text.len() <= max_bytes {
        return text.to_string();
    }
    let mut end = max_bytes.saturating_sub(ELLIPSIS.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{ELLIPSIS}", &text[..end])
}

/// `url` with DingTalk's signature appended: `timestamp` (milliseconds since the epoch) and
/// `sign`, the URL-encoded base64 of HMAC-SHA256 over `"{timestamp_ms}\n{secret}"` keyed by
/// the secret. DingTalk refuses a timestamp more than an hour away from its clock.
pub fn signed_url(url: &str, secret: &str, timestamp_ms: i64) -> String {
    let separator = match url.find('?') {
        None => "?",
        Some(_) if url.ends_with(['?', '&']) => "",
        Some(_) => "&",
    };
    format!("{url}{separator}timestamp={timestamp_ms}&sign={}", sign(secret, timestamp_ms))
}

/// The percent-encoded base64 signature of DingTalk's string to sign.
fn sign(secret: &str, timestamp_ms: i64) -> String {
    // HMAC takes a key of any length, so `new_from_slice` cannot fail; an empty signature
    // would only make DingTalk refuse the message with an errcode that the error reports.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(format!("{timestamp_ms}\n{secret}").as_bytes());
    let encoded = BASE64.encode(mac.finalize().into_bytes());
    // Standard base64 needs only these three characters escaped in a query.
    encoded.replace('+', "%2B").replace('/', "%2F").replace('=', "%3D")
}

/// Sends `msg` to `hook`, retrying what may pass, and returns the attempts it took.
///
/// Connection errors, timeouts, HTTP 429 and 5xx, and robot replies with a non-zero
/// `errcode` are retried with a doubling wait; any other failure ends delivery at once.
pub async fn deliver(
    client: &reqwest::Client,
    hook: &Hook,
    msg: &Message,
    retry: &Retry,
) -> Result<u32, DeliveryError> {
    let target = Target::new(hook)?;
    let payload = body(hook.format, msg).to_string();
    let attempts = retry.attempts.max(1);
    let mut delay = retry.first_delay.min(retry.max_delay);
    let mut attempt = 0;
    loop {
        attempt += 1;
        // A signature is only valid for an hour, so each attempt signs afresh.
        let url = match (&hook.format, &hook.secret) {
            (Format::Dingtalk, Some(secret)) => signed_url(&hook.url, secret, now_ms()),
            _ => hook.url.clone(),
        };
        let outcome = tokio::time::timeout(retry.timeout, attempt_once(client, &url, &payload, hook.format))
            .await
            .unwrap_or(Err(Failure::retry(Cause::Timeout(retry.timeout))));
        let failure = match outcome {
            Ok(()) => return Ok(attempt),
            Err(failure) => failure,
        };
        let cause = target.redact(failure.cause);
        if !failure.retryable {
            return Err(DeliveryError::Refused { host: target.host, attempts: attempt, cause });
        }
        if attempt >= attempts {
            return Err(DeliveryError::Exhausted { host: target.host, attempts: attempt, cause });
        }
        tokio::time::sleep(delay).await;
        delay = retry.next_delay(delay);
    }
}

/// Milliseconds since the Unix epoch by the system clock (DingTalk checks against real time).
fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// What errors may say about a hook: its host, and the strings they must never show.
struct Target {
    /// `host` or `host:port`.
    host: String,
    /// The query, its values and the secret, blanked out of any text quoted in an error.
    hidden: Vec<String>,
}

impl Target {
    fn new(hook: &Hook) -> Result<Target, DeliveryError> {
        let url = reqwest::Url::parse(&hook.url).map_err(|e| DeliveryError::InvalidUrl { reason: e.to_string() })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(DeliveryError::InvalidUrl {
                reason: format!("the scheme is {:?}, not http or https", url.scheme()),
            });
        }
        let host = match (url.host_str(), url.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_string(),
            (None, _) => return Err(DeliveryError::InvalidUrl { reason: "it has no host".to_string() }),
        };
        let mut hidden: Vec<String> = url.query().into_iter().map(str::to_string).collect();
        hidden.extend(url.query_pairs().map(|(_, value)| value.into_owned()));
        hidden.extend(hook.secret.clone());
        // Short values (a flag, a number) would blank innocent words; tokens are long.
        hidden.retain(|s| s.len() >= 8);
        hidden.sort_by_key(|s| std::cmp::Reverse(s.len()));
        Ok(Target { host, hidden })
    }

    /// `cause` with every hidden string replaced by "…".
    fn redact(&self, cause: Cause) -> Cause {
        let clean =
            |text: String| self.hidden.iter().fold(text, |text, hidden| text.replace(hidden.as_str(), ELLIPSIS));
        match cause {
            Cause::Status { status, excerpt } => Cause::Status { status, excerpt: clean(excerpt) },
            Cause::Robot { errcode, errmsg } => Cause::Robot { errcode, errmsg: clean(errmsg) },
            Cause::NotRobotReply { excerpt } => Cause::NotRobotReply { excerpt: clean(excerpt) },
            Cause::Network(reason) => Cause::Network(clean(reason)),
            timeout @ Cause::Timeout(_) => timeout,
        }
    }
}

/// A failed attempt and whether another one may succeed.
struct Failure {
    cause: Cause,
    retryable: bool,
}

impl Failure {
    fn retry(cause: Cause) -> Failure {
        Failure { cause, retryable: true }
    }

    fn refuse(cause: Cause) -> Failure {
        Failure { cause, retryable: false }
    }
}

/// One POST of `payload` to `url`, with the reply judged by the rules of `format`.
async fn attempt_once(client: &reqwest::Client, url: &str, payload: &str, format: Format) -> Result<(), Failure> {
    let mut response = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(payload.to_string())
        .send()
        .await
        .map_err(network_failure)?;
    let status = response.status();
    if status.is_success() && !format.is_robot() {
        return Ok(());
    }
    let reply = read_reply(&mut response).await.map_err(network_failure)?;
    if !status.is_success() {
        let cause = Cause::Status { status: status.as_u16(), excerpt: excerpt(&reply) };
        let retryable = status == reqwest::StatusCode::TOO_MANY_REQUESTS || status.is_server_error();
        return Err(Failure { cause, retryable });
    }
    match serde_json::from_slice::<RobotReply>(&reply) {
        Ok(RobotReply { errcode: Some(0), .. }) => Ok(()),
        Ok(RobotReply { errcode: Some(errcode), errmsg }) => {
            Err(Failure::retry(Cause::Robot { errcode, errmsg: errmsg.unwrap_or_default() }))
        }
        Ok(RobotReply { errcode: None, .. }) | Err(_) => {
            Err(Failure::refuse(Cause::NotRobotReply { excerpt: excerpt(&reply) }))
        }
    }
}

/// The part of a DingTalk or WeCom reply that tells success from failure.
#[derive(Deserialize)]
struct RobotReply {
    errcode: Option<i64>,
    errmsg: Option<String>,
}

/// The start of a reply's body, at most `REPLY_READ_LIMIT` bytes.
async fn read_reply(response: &mut reqwest::Response) -> Result<Vec<u8>, reqwest::Error> {
    let mut reply = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        reply.extend_from_slice(&chunk);
        if reply.len() >= REPLY_READ_LIMIT {
            reply.truncate(REPLY_READ_LIMIT);
            break;
        }
    }
    Ok(reply)
}

/// A short one-line quote of a reply, for an error message.
fn excerpt(reply: &[u8]) -> String {
    let text = String::from_utf8_lossy(reply);
    let mut words = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if let Some((cut, _)) = words.char_indices().nth(EXCERPT_CHARS) {
        words.truncate(cut);
        words.push_str(ELLIPSIS);
    }
    words
}

/// A reqwest error as a failed attempt. The URL is dropped from the text, since it holds the
/// robot's token and signature; the innermost cause says what actually went wrong.
fn network_failure(err: reqwest::Error) -> Failure {
    let retryable = !(err.is_builder() || err.is_redirect());
    let kind = if err.is_connect() {
        "cannot connect"
    } else if err.is_timeout() {
        "timed out"
    } else if err.is_redirect() {
        "too many redirects"
    } else if err.is_builder() {
        "cannot build the request"
    } else {
        "the request failed"
    };
    let err = err.without_url();
    let mut detail = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(inner) = source {
        detail = inner.to_string();
        source = inner.source();
    }
    let reason = format!("{kind}: {detail}");
    Failure { cause: Cause::Network(reason), retryable }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::{Arc, Mutex};

    use axum::Router;
    use axum::extract::State;
    use axum::http::{HeaderMap, StatusCode, Uri};

    use super::*;

    /// One scripted answer: status, body, and how long to wait before answering.
    type Answer = (u16, &'static str, Duration);

    /// What the loopback receiver saw, and what it still has to answer.
    #[derive(Default)]
    struct Receiver {
        /// Path and query, content type, and body of every request, in order.
        requests: Vec<(String, String, Value)>,
        script: VecDeque<Answer>,
    }

    type Shared = Arc<Mutex<Receiver>>;

    async fn receive(State(shared): State<Shared>, uri: Uri, headers: HeaderMap, body: String) -> (StatusCode, String) {
        let (status, reply, wait) = {
            let mut receiver = shared.lock().unwrap();
            let content_type = headers.get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
            let json = serde_json::from_str(&body).unwrap_or(Value::Null);
            receiver.requests.push((uri.to_string(), content_type, json));
            receiver.script.pop_front().unwrap_or((200, r#"{"errcode":0,"errmsg":"ok"}"#, Duration::ZERO))
        };
        tokio::time::sleep(wait).await;
        (StatusCode::from_u16(status).unwrap(), reply.to_string())
    }

    /// A receiver on a free loopback port that answers `script` in order, then
    /// `{"errcode":0}`; returns its base URL.
    async fn serve(script: &[Answer]) -> (String, Shared) {
        let shared = Shared::default();
        shared.lock().unwrap().script.extend(script.iter().copied());
        let app = Router::new().fallback(receive).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (format!("http://{addr}"), shared)
    }

    fn fail(status: u16, body: &'static str) -> Answer {
        (status, body, Duration::ZERO)
    }

    fn fast() -> Retry {
        Retry {
            attempts: 3,
            first_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(10),
            timeout: Duration::from_secs(5),
        }
    }

    fn message() -> Message {
        Message {
            event: Event::Approval,
            shop: "demo".to_string(),
            title: "待审批：满减活动".to_string(),
            markdown: "**预算** ¥500 超出上限".to_string(),
            details: json!({"approval": "a-1", "skill": "promo.create"}),
            at: "2025-06-01T08:00:00Z".to_string(),
        }
    }

    fn hook(url: String, format: Format) -> Hook {
        Hook { url, format, secret: None }
    }

    #[test]
    fn generic_body_carries_event_shop_title_text_details_and_time() {
        let body = body(Format::Json, &message());
        assert_eq!(
            body,
            json!({
                "event": "approval",
                "shop": "demo",
                "title": "待审批：满减活动",
                "text": "**预算** ¥500 超出上限",
                "details": {"approval": "a-1", "skill": "promo.create"},
                "at": "2025-06-01T08:00:00Z",
            })
        );
    }

    #[test]
    fn dingtalk_body_is_a_markdown_message_with_title_and_text() {
        let body = body(Format::Dingtalk, &message());
        assert_eq!(
            body,
            json!({"msgtype": "markdown", "markdown": {"title": "待审批：满减活动", "text": "**预算** ¥500 超出上限"}})
        );
    }

    #[test]
    fn wecom_body_puts_the_title_as_a_heading_above_the_text() {
        let body = body(Format::Wecom, &message());
        assert_eq!(
            body,
            json!({"msgtype": "markdown", "markdown": {"content": "## 待审批：满减活动\n\n**预算** ¥500 超出上限"}})
        );
    }

    #[test]
    fn long_chinese_text_is_cut_on_a_char_boundary_with_an_ellipsis() {
        let mut msg = message();
        // 3-byte characters with a 1-byte offset, so no limit falls on a boundary by luck.
        msg.markdown = format!("a{}", "库存不足".repeat(2000));
        let wecom = body(Format::Wecom, &msg)["markdown"]["content"].as_str().unwrap().to_string();
        assert!(wecom.len() <= WECOM_MAX_BYTES && wecom.len() > WECOM_MAX_BYTES - 6, "{}", wecom.len());
        let kept = wecom.strip_suffix(ELLIPSIS).expect("a cut text ends with …");
        assert!(format!("## {}\n\n{}", msg.title, msg.markdown).starts_with(kept));
        let dingtalk = body(Format::Dingtalk, &msg)["markdown"]["text"].as_str().unwrap().to_string();
        assert!(dingtalk.len() <= DINGTALK_MAX_BYTES && dingtalk.ends_with(ELLIPSIS));
        assert!(msg.markdown.starts_with(dingtalk.strip_suffix(ELLIPSIS).unwrap()));
        // A text that fits exactly is left alone.
        let exact = "好".repeat(DINGTALK_MAX_BYTES / 3);
        assert_eq!(truncate(&exact, exact.len()), exact);
        assert_eq!(truncate("好好好", 5), "…");
    }

    /// The query parameter `name` of `url`, percent-decoded.
    fn query_param(url: &str, name: &str) -> String {
        let url = reqwest::Url::parse(url).unwrap();
        url.query_pairs().find(|(key, _)| key == name).map(|(_, value)| value.into_owned()).unwrap()
    }

    #[test]
    fn signed_url_carries_a_timestamp_and_a_sign_that_verifies() {
        let secret = "SEC0123456789abcdef";
        let url = signed_url("https://oapi.dingtalk.com/robot/send?access_token=tok", secret, 1_700_000_000_123);
        assert!(url.starts_with("https://oapi.dingtalk.com/robot/send?access_token=tok&timestamp=1700000000123&sign="));
        assert!(!url.rsplit("sign=").next().unwrap().contains(['+', '/', '=']), "{url}");
        assert_eq!(query_param(&url, "timestamp"), "1700000000123");
        let sign = BASE64.decode(query_param(&url, "sign")).unwrap();
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(b"1700000000123\nSEC0123456789abcdef");
        mac.verify_slice(&sign).expect("the sign is HMAC-SHA256 of timestamp and secret");

        assert!(
            signed_url("https://example.com/hook", secret, 1).starts_with("https://example.com/hook?timestamp=1&sign=")
        );
    }

    #[tokio::test]
    async fn generic_delivery_posts_json_with_its_content_type() {
        let (base, receiver) = serve(&[]).await;
        let msg = message();
        let attempts = deliver(&reqwest::Client::new(), &hook(format!("{base}/notify"), Format::Json), &msg, &fast())
            .await
            .unwrap();
        assert_eq!(attempts, 1);
        let requests = &receiver.lock().unwrap().requests;
        assert_eq!(requests.len(), 1);
        assert_eq!(requests[0].0, "/notify");
        assert_eq!(requests[0].1, "application/json");
        assert_eq!(requests[0].2, body(Format::Json, &msg));
    }

    #[tokio::test]
    async fn signed_dingtalk_delivery_adds_timestamp_and_sign_to_the_query() {
        let (base, receiver) = serve(&[]).await;
        let secret = "SECabcdefghijklmnop";
        let hook = Hook {
            url: format!("{base}/robot/send?access_token=t0k"),
            format: Format::Dingtalk,
            secret: Some(secret.into()),
        };
        assert_eq!(deliver(&reqwest::Client::new(), &hook, &message(), &fast()).await.unwrap(), 1);
        let (uri, _, body) = receiver.lock().unwrap().requests[0].clone();
        let url = format!("{base}{uri}");
        assert_eq!(query_param(&url, "access_token"), "t0k");
        let timestamp: i64 = query_param(&url, "timestamp").parse().unwrap();
        assert!((now_ms() - timestamp).abs() < 60_000);
        assert_eq!(url, signed_url(&hook.url, secret, timestamp));
        assert_eq!(body["msgtype"], "markdown");
    }

    #[tokio::test]
    async fn server_errors_are_retried_until_the_receiver_accepts() {
        let (base, receiver) = serve(&[fail(500, "boom"), fail(503, "busy")]).await;
        let hook = hook(format!("{base}/notify"), Format::Json);
        assert_eq!(deliver(&reqwest::Client::new(), &hook, &message(), &fast()).await.unwrap(), 3);
        assert_eq!(receiver.lock().unwrap().requests.len(), 3);
    }

    #[tokio::test]
    async fn robot_rate_limit_errcode_is_retried_until_errcode_zero() {
        let (base, receiver) = serve(&[fail(200, r#"{"errcode":130101,"errmsg":"send too fast"}"#)]).await;
        let hook = hook(format!("{base}/robot/send?access_token=t"), Format::Dingtalk);
        assert_eq!(deliver(&reqwest::Client::new(), &hook, &message(), &fast()).await.unwrap(), 2);
        assert_eq!(receiver.lock().unwrap().requests.len(), 2);
    }

    #[tokio::test]
    async fn too_many_requests_is_retried() {
        let (base, _) = serve(&[fail(429, "slow down")]).await;
        let hook = hook(format!("{base}/cgi-bin/webhook/send?key=k"), Format::Wecom);
        assert_eq!(deliver(&reqwest::Client::new(), &hook, &message(), &fast()).await.unwrap(), 2);
    }

    #[tokio::test]
    async fn a_slow_answer_times_out_and_is_retried() {
        let (base, _) = serve(&[(200, "late", Duration::from_secs(2))]).await;
        let retry = Retry { timeout: Duration::from_millis(200), ..fast() };
        let hook = hook(format!("{base}/notify"), Format::Json);
        assert_eq!(deliver(&reqwest::Client::new(), &hook, &message(), &retry).await.unwrap(), 2);
    }

    #[tokio::test]
    async fn not_found_fails_after_one_attempt_and_says_it_was_not_retried() {
        let (base, receiver) = serve(&[fail(404, "<html>\n  no such   hook\n</html>")]).await;
        let hook = hook(format!("{base}/missing"), Format::Json);
        let err = deliver(&reqwest::Client::new(), &hook, &message(), &fast()).await.unwrap_err();
        assert_eq!(err.attempts(), 1);
        assert!(!err.is_retryable());
        assert_eq!(receiver.lock().unwrap().requests.len(), 1);
        let text = err.to_string();
        let host = base.trim_start_matches("http://");
        assert!(text.contains(host), "{text}");
        assert!(text.contains("1 attempt") && text.contains("not retried"), "{text}");
        assert!(text.contains("HTTP 404: <html> no such hook </html>"), "{text}");
    }

    #[tokio::test]
    async fn robot_errcode_that_persists_exhausts_the_attempts_and_is_reported() {
        let busy = fail(200, r#"{"errcode":130101,"errmsg":"send too fast"}"#);
        let (base, _) = serve(&[busy, busy, busy]).await;
        let hook = hook(format!("{base}/robot/send?access_token=t"), Format::Dingtalk);
        let err = deliver(&reqwest::Client::new(), &hook, &message(), &fast()).await.unwrap_err();
        assert!(err.is_retryable());
        assert!(
            err.to_string().contains("3 attempt(s); the last one: the robot answered errcode 130101: send too fast")
        );
    }

    #[tokio::test]
    async fn a_robot_hook_answered_without_errcode_is_refused() {
        let (base, _) = serve(&[fail(200, "ok")]).await;
        let hook = hook(format!("{base}/notify"), Format::Wecom);
        let err = deliver(&reqwest::Client::new(), &hook, &message(), &fast()).await.unwrap_err();
        assert_eq!(err.attempts(), 1);
        assert!(err.to_string().contains("not a robot reply with an errcode: ok"), "{err}");
    }

    /// A loopback port that nothing listens on.
    async fn closed_port() -> u16 {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap().port()
    }

    #[tokio::test]
    async fn an_unreachable_receiver_fails_after_every_attempt() {
        let port = closed_port().await;
        let secret = "SECsupersecretvalue";
        let hook = Hook {
            url: format!("http://127.0.0.1:{port}/robot/send?access_token=verysecrettoken"),
            format: Format::Dingtalk,
            secret: Some(secret.to_string()),
        };
        let err = deliver(&reqwest::Client::new(), &hook, &message(), &fast()).await.unwrap_err();
        assert!(matches!(err, DeliveryError::Exhausted { attempts: 3, cause: Cause::Network(_), .. }), "{err:?}");
        let text = err.to_string();
        assert!(text.contains(&format!("127.0.0.1:{port}")) && text.contains("3 attempt(s)"), "{text}");
        assert!(text.contains("cannot connect"), "{text}");
        for hidden in ["verysecrettoken", secret, "sign=", "timestamp="] {
            assert!(!text.contains(hidden) && !format!("{err:?}").contains(hidden), "{hidden} in {text}");
        }
    }

    #[tokio::test]
    async fn a_url_that_is_not_http_fails_before_any_attempt() {
        for url in ["not a url", "ftp://example.com/hook", "file:///tmp/x"] {
            let err = deliver(&reqwest::Client::new(), &hook(url.to_string(), Format::Json), &message(), &fast())
                .await
                .unwrap_err();
            assert!(matches!(err, DeliveryError::InvalidUrl { .. }), "{url}: {err:?}");
            assert_eq!(err.attempts(), 0);
        }
    }

    #[test]
    fn backoff_doubles_up_to_the_maximum() {
        let retry = Retry::default();
        let mut delay = retry.first_delay;
        let mut waits = vec![delay];
        for _ in 0..6 {
            delay = retry.next_delay(delay);
            waits.push(delay);
        }
        let millis: Vec<u128> = waits.iter().map(Duration::as_millis).collect();
        assert_eq!(millis, [500, 1000, 2000, 4000, 8000, 8000, 8000]);
        assert_eq!(Retry { max_delay: Duration::MAX, ..retry }.next_delay(Duration::MAX), Duration::MAX);
    }

    #[test]
    fn formats_and_events_parse_with_errors_listing_the_choices() {
        assert_eq!("generic".parse::<Format>(), Ok(Format::Json));
        assert_eq!(" DingTalk ".parse::<Format>(), Ok(Format::Dingtalk));
        assert_eq!("wecom".parse::<Format>().map(Format::as_str), Ok("wecom"));
        let err = "slack".parse::<Format>().unwrap_err();
        assert!(err.contains("\"slack\"") && err.contains("json") && err.contains("dingtalk") && err.contains("wecom"));

        assert_eq!(Event::parse_list("report,approval"), Ok(vec![Event::Report, Event::Approval]));
        assert_eq!(Event::parse_list(" denial , report,denial,"), Ok(vec![Event::Denial, Event::Report]));
        let err = Event::parse_list("report,refund").unwrap_err();
        assert_eq!(err, "unknown event \"refund\": choose from report, approval, denial");
        assert!(Event::parse_list(" , ").unwrap_err().contains("report, approval, denial"));
        assert_eq!(serde_json::to_value(Event::Approval).unwrap(), json!("approval"));
        assert_eq!(serde_json::from_value::<Format>(json!("dingtalk")).unwrap(), Format::Dingtalk);
    }

    #[test]
    fn hook_debug_hides_the_token_and_the_secret() {
        let hook = Hook {
            url: "https://oapi.dingtalk.com/robot/send?access_token=abcdef123456".to_string(),
            format: Format::Dingtalk,
            secret: Some("SECxyz".to_string()),
        };
        let debug = format!("{hook:?}");
        assert!(debug.contains("oapi.dingtalk.com/robot/send?…"), "{debug}");
        assert!(!debug.contains("abcdef123456") && !debug.contains("SECxyz"), "{debug}");
    }
}
