//! The owner's HTTP face: a JSON API over [`Crew`] and the web console, served by
//! `shopcrew serve` beside the scheduler.
//!
//! Every `/api/v1` call but the OpenAPI document needs `Authorization: Bearer <token>` (401
//! without); only the owner's token may change anything (403 for a viewer). Browsers never
//! send that header on their own, so another site cannot make a request in the owner's name;
//! on top of that a state-changing request must be JSON and, when it carries an `Origin`,
//! come from this server's own. Bodies are capped, input errors are 400 with what to fix,
//! and internal errors reach the client only as "internal error" (the detail goes to the
//! server log).

mod api;
mod openapi;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::crew::Crew;
use crate::error::Error;
use crate::lang::Lang;
use crate::store::Db;
use crate::tokens::{self, Role};

pub use openapi::document as openapi_document;

/// The largest request body accepted.
pub const MAX_BODY: usize = 64 * 1024;

/// What the handlers share: every shop's crew, by name.
pub struct ApiState {
    shops: BTreeMap<String, Crew>,
    db: Db,
}

impl ApiState {
    /// Serves these crews (one per shop, all of one home).
    pub fn new(crews: Vec<Crew>) -> Option<ApiState> {
        let db = crews.first()?.db().clone();
        let shops = crews.into_iter().map(|c| (c.shop().name.clone(), c)).collect();
        Some(ApiState { shops, db })
    }

    /// The crew of `shop` (the first shop when `None`), speaking `lang`.
    fn crew(&self, shop: Option<&str>, lang: Option<Lang>) -> Result<Crew, ApiError> {
        let crew = match shop.filter(|s| !s.is_empty()) {
            Some(name) => self.shops.get(name).ok_or_else(|| {
                let known: Vec<&str> = self.shops.keys().map(String::as_str).collect();
                ApiError::new(StatusCode::NOT_FOUND, format!("no shop `{name}`; shops: {}", known.join(", ")))
            })?,
            None => self.shops.values().next().ok_or_else(|| ApiError::internal("no shop is served"))?,
        };
        Ok(match lang {
            Some(lang) => crew.with_lang(lang),
            None => crew.clone(),
        })
    }
}

/// The router: the API under `/api/v1`, the console at `/`.
pub fn router(state: Arc<ApiState>) -> Router {
    let api = api::routes()
        .layer(middleware::from_fn_with_state(state.clone(), authenticate))
        .route("/openapi.json", axum::routing::get(openapi::serve));
    Router::new()
        .nest("/api/v1", api)
        .route("/", axum::routing::get(console_index))
        .route("/app.js", axum::routing::get(console_js))
        .route("/app.css", axum::routing::get(console_css))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(middleware::from_fn(security_headers))
        .with_state(state)
}

/// An error as the client sees it: a status and `{"error": "…"}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError { status, message: message.into() }
    }

    fn bad(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    fn internal(detail: &str) -> ApiError {
        tracing::error!("http: {detail}");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error; the server log has the detail")
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> ApiError {
        let status = match &e {
            Error::Db(_) | Error::Migrate(_) | Error::Io { .. } | Error::Home { .. } | Error::File(_) => {
                return ApiError::internal(&e.to_string());
            }
            Error::NoSuchShop(..)
            | Error::NoSuchApproval(_)
            | Error::NoSuchPlan(_)
            | Error::NoSuchAsset(_)
            | Error::NoSuchSchedule(..) => StatusCode::NOT_FOUND,
            Error::ApprovalNotPending { .. } => StatusCode::CONFLICT,
            _ => StatusCode::BAD_REQUEST,
        };
        ApiError::new(status, e.to_string())
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(ErrorBody { error: &self.message })).into_response()
    }
}

/// A JSON body whose rejections (not JSON, wrong shape, too big) are `ApiError`s.
pub struct Body<T>(pub T);

impl<S, T> FromRequest<S> for Body<T>
where
    axum::Json<T>: FromRequest<S, Rejection = axum::extract::rejection::JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Body(value)),
            Err(rejection) => Err(ApiError::new(rejection.status(), rejection.body_text())),
        }
    }
}

/// Who is calling, put in the request by [`authenticate`].
#[derive(Debug, Clone, Copy)]
pub struct Caller(pub Role);

/// Requests that only read, whatever their method (a plan preview runs nothing).
fn reads_only(method: &Method, path: &str) -> bool {
    method == Method::GET || method == Method::HEAD || (method == Method::POST && path.ends_with("/plan"))
}

async fn authenticate(State(state): State<Arc<ApiState>>, mut req: Request, next: Next) -> Response {
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or_default()
        .to_string();
    if token.is_empty() {
        return ApiError::new(StatusCode::UNAUTHORIZED, "sign in: send Authorization: Bearer <token>").into_response();
    }
    let role = match tokens::check(&state.db, &token).await {
        Ok(Some(role)) => role,
        Ok(None) => {
            return ApiError::new(StatusCode::UNAUTHORIZED, "this token is not valid (or was revoked)").into_response();
        }
        Err(e) => return ApiError::from(e).into_response(),
    };
    let path = req.uri().path().to_string();
    if !reads_only(req.method(), &path) {
        if role != Role::Owner {
            return ApiError::new(
                StatusCode::FORBIDDEN,
                "a viewer token can only read; the owner's token can change things",
            )
            .into_response();
        }
        if let Some(refusal) = cross_site(&req) {
            return refusal.into_response();
        }
    }
    req.extensions_mut().insert(Caller(role));
    next.run(req).await
}

/// A state-changing request must be JSON, and from this origin when the browser says where
/// it comes from.
fn cross_site(req: &Request) -> Option<ApiError> {
    let headers = req.headers();
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
        let same = origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://")) == Some(host);
        if !same {
            return Some(ApiError::new(StatusCode::FORBIDDEN, "cross-origin requests may not change anything"));
        }
    }
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let has_body = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).is_some_and(|v| v != "0");
    if has_body && !json {
        return Some(ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "send the body as application/json"));
    }
    None
}

/// The console's policy: its own script and stylesheet only, plus the owner report's one
/// inline style by hash (reports are shown in blob: frames, which inherit this policy).
fn csp() -> &'static HeaderValue {
    static CSP: std::sync::OnceLock<HeaderValue> = std::sync::OnceLock::new();
    CSP.get_or_init(|| {
        let policy = format!(
            "default-src 'none'; script-src 'self'; style-src 'self' {}; img-src 'self' data: blob:; \
             frame-src blob:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
            crate::report::style_source()
        );
        HeaderValue::from_str(&policy).unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"))
    })
}

async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    // A response that set its own (stricter) policy keeps it.
    h.entry(header::CONTENT_SECURITY_POLICY).or_insert_with(|| csp().clone());
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no such page; the API is under /api/v1 (see /api/v1/openapi.json)")
}

const INDEX: &str = include_str!("../../web/index.html");
const APP_JS: &str = include_str!("../../web/app.js");
const APP_CSS: &str = include_str!("../../web/app.css");

async fn console_index() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], INDEX)
}

async fn console_js() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], APP_JS)
}

async fn console_css() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], APP_CSS)
}

/// Serves until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<ApiState>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state)).with_graceful_shutdown(shutdown).await
}
