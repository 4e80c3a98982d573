//! The yibao HTTP API.
//!
//! Thin axum handlers over the `yibao` facade — the same functions the command line and the
//! WebAssembly module call — so an estimate is the same bytes everywhere. HTTP status says whose
//! problem it is: 400 unreadable JSON, 422 a wrong field or a claim the policy cannot take, 404 no
//! such policy or no version on that date, 413 a body over 1 MiB (4 MiB for a batch), 408 a request that took too
//! long. A policy that does not compile is an answer (`/v1/check`), not an error.
//!
//! Logs (tracing) carry a request id, the method, path, status and latency — never a claim's
//! amounts or personal fields.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderValue, Request, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Serialize;
use tower_http::request_id::{
    MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use yibao::{ApiError, BatchRequest, CheckAnswer, ErrorKind, EstimateRequest, Registry};

mod examples;
mod layers;
mod net;

pub use layers::{cache_control, is_safe_request_id, is_versioned, CSP, MAX_HEADERS, MAX_URI};
pub use net::serve;
use net::Load;

/// The largest request body accepted (other than a batch).
pub const MAX_BODY: usize = 1 << 20;
/// The largest body `/v1/estimate/batch` accepts: room for [`yibao::MAX_BATCH`] claims of about
/// 400 bytes each (a claim with an id, a person, a date, care, level and three amounts is about
/// 250); a test sends 10,000 such claims.
pub const MAX_BATCH_BODY: usize = 4 << 20;
/// The largest answer body by default ([`Config::max_response`]): room for a full batch of
/// [`yibao::MAX_BATCH`] claims without explanations; a test sends one.
pub const MAX_RESPONSE: usize = 128 << 20;
/// hyper's read buffer: a request head larger than this is refused by hyper itself.
pub const MAX_HEAD_BUF: usize = 64 * 1024;

/// Shared by every handler: the compiled policies and the load.
#[derive(Clone)]
pub struct AppState {
    registry: Arc<Registry>,
    load: Arc<Load>,
    max_traced_claims: usize,
    max_response: usize,
}

/// How the server is set up. The defaults suit a public service on a small machine.
#[derive(Debug, Clone)]
pub struct Config {
    /// A folder of static files (the web page) served at `/`; without it `/` links to the docs.
    pub www: Option<PathBuf>,
    /// The longest a request may take, from its head: waiting for a computing slot, reading the
    /// body and computing all count (408 beyond; the computation is stopped between claims).
    pub timeout: Duration,
    /// Requests computed at once (settling, checking); default: the number of cores.
    pub concurrency: usize,
    /// Requests that may wait for a computing slot; more are refused at once with 503.
    pub queue: usize,
    /// Open connections at most; at the cap new connections wait until one closes.
    pub max_connections: usize,
    /// How long a connection may take to send a request head, counted from its start and again
    /// while a keep-alive connection is idle between requests.
    pub header_timeout: Duration,
    /// After a shutdown signal, how long requests under way may finish before the connections
    /// still open are closed.
    pub shutdown_grace: Duration,
    /// Claims one request may ask explanations (`trace`) for (422 beyond).
    pub max_traced_claims: usize,
    /// The largest answer body (422 beyond).
    pub max_response: usize,
}

/// Open files this process may hold (Linux: the soft limit in `/proc/self/limits`).
fn open_files_limit() -> Option<usize> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

impl Default for Config {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        // Leave room for the listener, policy files and logs below the file limit.
        let max_connections = open_files_limit()
            .map_or(1024, |n| n.saturating_sub(128))
            .clamp(64, 16_384);
        Config {
            www: None,
            timeout: Duration::from_secs(10),
            concurrency: cores,
            queue: 1024,
            max_connections,
            header_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(10),
            max_traced_claims: 100,
            // A full batch of 10,000 claims without explanations answers up to about 82 MB
            // (a settlement is 7–8 KB: its layers, the platform's fields and the unverified
            // figures it used; measured over the bundled policies' care types).
            max_response: MAX_RESPONSE,
        }
    }
}

/// The transport errors every operation can answer, added to each in the OpenAPI document.
struct TransportErrors;

impl utoipa::Modify for TransportErrors {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let r = |d: &str| {
            ResponseBuilder::new()
                .description(d)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ApiError")))
                        .build(),
                )
                .build()
        };
        let all = [
            ("405", "the path does not take this method; the `Allow` header lists those it takes"),
            ("408", "the request took longer than the time limit (10 s by default), counting the wait for a computing slot and reading the body"),
            ("414", "the URI is longer than 8 KiB"),
            ("431", "more than 64 header fields or 16 KiB of headers (beyond 64 KiB the connection's parser answers 431 without a body)"),
            ("500", "a fault in the service (`kind: internal`); please report it"),
        ];
        let posts = [
            ("413", "body over 1 MiB (4 MiB for `/v1/estimate/batch`)"),
            ("415", "the body is not sent as `Content-Type: application/json`"),
            ("503", "too many requests are waiting for a computing slot, or the service is shutting down (`kind: unavailable`); try again"),
        ];
        for item in doc.paths.paths.values_mut() {
            for (op, is_post) in [(&mut item.get, false), (&mut item.post, true)] {
                let Some(op) = op.as_mut() else { continue };
                let extra = all
                    .iter()
                    .chain(if is_post { posts.iter() } else { [].iter() });
                for (code, d) in extra {
                    op.responses
                        .responses
                        .entry((*code).to_string())
                        .or_insert_with(|| r(d).into());
                }
            }
        }
    }
}
#[derive(OpenApi)]
#[openapi(
    modifiers(&TransportErrors),
    info(
        title = "yibao medical-insurance API",
        description = "yibao 医保 API — 医保报销计算. Settle Chinese medical-insurance claims under versioned policy files. Money is a string with at most two decimals (or a whole number of yuan in requests); ratios are exact decimal strings; no floats anywhere."
    ),
    servers((url = "http://127.0.0.1:8080", description = "`yibao serve` on this machine (its default address)")),
    paths(
        healthz,
        readyz,
        estimate,
        estimate_batch,
        check,
        policies,
        policy_versions,
        policy_source,
        policy_params
    ),
    components(schemas(
        yibao::EstimateRequest,
        yibao::EstimateAnswer,
        yibao::BatchRequest,
        yibao::BatchAnswer,
        yibao::BatchItem,
        yibao::ApiError,
        yibao::CheckAnswer,
        yibao::VersionInfo,
        yibao::VersionParams,
        yibao::ParamInfo,
        Health,
        Ready,
        CheckRequest
    ))
)]
pub struct ApiDoc;

/// Builds the router (with its own load accounting; [`serve`] shares it with the connections).
pub fn app(registry: Arc<Registry>, config: &Config) -> Router {
    router(registry, config, Load::new(config))
}

pub(crate) fn router(registry: Arc<Registry>, config: &Config, load: Arc<Load>) -> Router {
    let state = AppState {
        registry,
        load,
        max_traced_claims: config.max_traced_claims,
        max_response: config.max_response,
    };
    let posts = Router::new()
        .route("/v1/estimate", post(estimate))
        .route(
            "/v1/estimate/batch",
            post(estimate_batch).layer(DefaultBodyLimit::max(MAX_BATCH_BODY)),
        )
        .route("/v1/check", post(check))
        .route_layer(axum::middleware::from_fn(layers::require_json));
    let api = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/openapi.json", get(openapi_json))
        .route("/docs", get(docs))
        .route("/v1/policies", get(policies))
        .route("/v1/policies/{region}/{scheme}", get(policy_versions))
        .route(
            "/v1/policies/{region}/{scheme}/{version}/source",
            get(policy_source),
        )
        .route(
            "/v1/policies/{region}/{scheme}/{version}/params",
            get(policy_params),
        )
        .merge(posts)
        .with_state(state);
    let router = match &config.www {
        Some(dir) => {
            api.fallback_service(tower_http::services::ServeDir::new(dir).fallback(get(not_found)))
        }
        None => api.route("/", get(index)).fallback(not_found),
    };
    // Outermost last. The time limit wraps everything a request waits for: the computing slot
    // is taken inside the handlers, after the body is read, so slow uploads hold no slot.
    router
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            config.timeout,
        ))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            layers::panic_response,
        ))
        .layer(axum::middleware::from_fn(layers::limit_head))
        .layer(axum::middleware::from_fn(layers::json_errors))
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(axum::middleware::from_fn(layers::headers))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<Body>| {
                    // The id is checked to be short and safe; the path is escaped by `?`.
                    let id = req
                        .extensions()
                        .get::<RequestId>()
                        .and_then(|r| r.header_value().to_str().ok())
                        .unwrap_or("-")
                        .to_string();
                    tracing::info_span!("request", id = %id, method = %req.method(), path = ?req.uri().path())
                })
                .on_response(|res: &Response, latency: Duration, _: &tracing::Span| {
                    tracing::info!(
                        status = res.status().as_u16(),
                        latency_us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX),
                        "response"
                    );
                }),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(axum::middleware::from_fn(layers::sanitize_request_id))
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
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
        _ = ctrl_c => {},
        _ = term => {},
    }
}

fn json_response(status: StatusCode, body: String) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

fn error(status: StatusCode, kind: ErrorKind, path: Option<String>, message: &str) -> Response {
    api_error(status, &ApiError::new(kind, path, message))
}

fn api_error(status: StatusCode, e: &ApiError) -> Response {
    json_response(
        status,
        serde_json::to_string(e).unwrap_or_else(|_| "{}".into()),
    )
}

/// The status an `ApiError` from the facade deserves.
fn status_of(e: &ApiError) -> StatusCode {
    match e.kind {
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Request | ErrorKind::Claim | ErrorKind::Policy => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// A body, or the JSON error for a body that is too large (over `limit`) or unreadable.
fn body_or_error(
    body: Result<Bytes, BytesRejection>,
    limit: usize,
) -> Result<Bytes, Box<Response>> {
    match body {
        Ok(b) => Ok(b),
        Err(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            let msg = format!(
                "request body is larger than {limit} bytes; split a batch into smaller ones"
            );
            Err(Box::new(error(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorKind::Request,
                None,
                &msg,
            )))
        }
        Err(r) => Err(Box::new(error(
            StatusCode::BAD_REQUEST,
            ErrorKind::Request,
            None,
            &r.body_text(),
        ))),
    }
}

/// Parses JSON with the facade's one reader: 400 when it is not one JSON value, 422 with the
/// field path when a field is wrong.
fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, (StatusCode, ApiError)> {
    yibao::from_json(bytes).map_err(|e| {
        let status = if e.syntax {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        (status, e.error)
    })
}

#[derive(Serialize, utoipa::ToSchema)]
struct Health {
    status: &'static str,
    policies: usize,
    versions: usize,
}

/// Liveness and what is loaded.
#[utoipa::path(get, path = "/healthz", responses((status = 200, body = Health, description = "the server is up; what it has loaded")))]
async fn healthz(State(s): State<AppState>) -> Response {
    let h = Health {
        status: "ok",
        policies: s.registry.policy_ids().len(),
        versions: s.registry.versions().len(),
    };
    json_response(
        StatusCode::OK,
        serde_json::to_string(&h).unwrap_or_default(),
    )
}

#[derive(Serialize, utoipa::ToSchema)]
struct Ready {
    status: &'static str,
    connections: usize,
    max_connections: usize,
    /// Requests waiting for a computing slot.
    waiting: usize,
    queue: usize,
}

/// Readiness: 200 while the server takes more work; 503 when its connections are near the cap,
/// its queue for computing slots is half full, or it is shutting down.
#[utoipa::path(
    get,
    path = "/readyz",
    responses(
        (status = 200, body = Ready, description = "ready for more work"),
        (status = 503, body = ApiError, description = "saturated or shutting down (`kind: unavailable`); the message says which")
    )
)]
async fn readyz(State(s): State<AppState>) -> Response {
    if let Some(why) = s.load.saturated() {
        let mut r = error(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::Unavailable,
            None,
            &format!("not ready: {why}"),
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return r;
    }
    let r = Ready {
        status: "ready",
        connections: s.load.connections.load(Ordering::Relaxed),
        max_connections: s.load.max_connections,
        waiting: s.load.waiting.load(Ordering::Relaxed),
        queue: s.load.queue,
    };
    json_response(
        StatusCode::OK,
        serde_json::to_string(&r).unwrap_or_default(),
    )
}

async fn openapi_json() -> Response {
    json_response(StatusCode::OK, openapi_document())
}

/// The OpenAPI document `/openapi.json` serves, as JSON text (`yibao serve --openapi` prints it;
/// the npm package's TypeScript types are generated from it).
pub fn openapi_document() -> String {
    serde_json::to_string(examples::document()).unwrap_or_default()
}

/// Settle one claim (`claim`) or one person's claims of a year in date order (`claims`).
#[utoipa::path(
    post,
    path = "/v1/estimate",
    request_body = EstimateRequest,
    responses(
        (status = 200, body = yibao::EstimateAnswer, description = "settlements and the state after the last claim"),
        (status = 400, body = ApiError, description = "not one JSON object (bad syntax, or data after it)"),
        (status = 404, body = ApiError, description = "no such policy, or no version in force on the date; `allowed` lists what exists"),
        (status = 413, body = ApiError, description = "body over 1 MiB"),
        (status = 415, body = ApiError, description = "the body is not sent as `Content-Type: application/json`"),
        (status = 422, body = ApiError, description = "a wrong field or a claim the policy cannot take (`path` names the field); explanations (`trace`, on by default) asked for more than 100 claims; or an answer over 128 MiB")
    )
)]
async fn estimate(State(s): State<AppState>, body: Result<Bytes, BytesRejection>) -> Response {
    settle_endpoint(
        s,
        body,
        MAX_BODY,
        |req: &EstimateRequest| (req.trace, req.claim.iter().count() + req.claims.len()),
        |reg, req, _stop| yibao::estimate(reg, &req),
    )
    .await
}

/// Settle up to 10,000 claims of many persons (a body of at most 4 MiB); each person's claims in
/// the order given.
#[utoipa::path(
    post,
    path = "/v1/estimate/batch",
    request_body = BatchRequest,
    responses(
        (status = 200, body = yibao::BatchAnswer, description = "one item per claim, in input order; a claim's own error is in its item"),
        (status = 400, body = ApiError, description = "not one JSON object"),
        (status = 413, body = ApiError, description = "body over 4 MiB (10,000 claims of about 400 bytes each fit)"),
        (status = 415, body = ApiError, description = "the body is not sent as `Content-Type: application/json`"),
        (status = 422, body = ApiError, description = "more than 10,000 claims, explanations (`trace`) for more than 100 claims, a bad override, a wrong field, or an answer over 128 MiB")
    )
)]
async fn estimate_batch(
    State(s): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    settle_endpoint(
        s,
        body,
        MAX_BATCH_BODY,
        |req: &BatchRequest| (req.trace, req.claims.len()),
        |reg, req, stop| yibao::estimate_batch_until(reg, &req, &|| stop.load(Ordering::Relaxed)),
    )
    .await
}

/// Sets the flag when dropped: a handler whose request timed out (or whose client went away) is
/// dropped, and the computation it started sees the flag between claims and stops.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Counts a request waiting for a computing slot.
struct Waiting(Arc<Load>);

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.waiting.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Runs CPU work on the blocking pool once a computing slot is free (the slot is held until the
/// work ends, even if the request timed out meanwhile). 503 when too many already wait.
async fn compute<T: Send + 'static>(
    s: &AppState,
    f: impl FnOnce(Arc<AtomicBool>) -> T + Send + 'static,
) -> Result<T, Response> {
    let busy = || {
        let mut r = error(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::Unavailable,
            None,
            "too many requests are waiting; try again shortly",
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        r
    };
    let before = s.load.waiting.fetch_add(1, Ordering::Relaxed);
    let waiting = Waiting(s.load.clone());
    if before >= s.load.queue {
        return Err(busy());
    }
    let permit = match s.load.slots.clone().acquire_owned().await {
        Ok(p) => p,
        Err(_) => return Err(busy()),
    };
    drop(waiting);
    let stop = Arc::new(AtomicBool::new(false));
    let _cancel = CancelOnDrop(stop.clone());
    match tokio::task::spawn_blocking(move || {
        let _permit = permit;
        f(stop)
    })
    .await
    {
        Ok(v) => Ok(v),
        Err(_) => Err(error(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorKind::Internal,
            None,
            "internal error; please report it",
        )),
    }
}

/// Reads and parses a JSON request, refuses explanations for too many claims, runs the work in a
/// computing slot and answers with its JSON or its error. `traced` says whether explanations
/// were asked and for how many claims; `run` computes, stopping early once its flag is set (the
/// answer is then not serialised either).
async fn settle_endpoint<R, A>(
    s: AppState,
    body: Result<Bytes, BytesRejection>,
    limit: usize,
    traced: fn(&R) -> (bool, usize),
    run: fn(&Registry, R, &AtomicBool) -> Result<A, ApiError>,
) -> Response
where
    R: serde::de::DeserializeOwned + Send + 'static,
    A: Serialize + 'static,
{
    let bytes = match body_or_error(body, limit) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let reg = s.registry.clone();
    let (max_traced, max_response) = (s.max_traced_claims, s.max_response);
    let answer = compute(&s, move |stop| -> Result<String, (StatusCode, ApiError)> {
        let req: R = parse_json(&bytes)?;
        drop(bytes);
        let (trace, claims) = traced(&req);
        if trace && claims > max_traced {
            return Err((
                StatusCode::UNPROCESSABLE_ENTITY,
                ApiError::new(
                    ErrorKind::Request,
                    Some("trace".into()),
                    format!(
                        "explanations were asked for {claims} claims; at most {max_traced} per request. Send \"trace\": false, or split the claims"
                    ),
                ),
            ));
        }
        let answer = run(&reg, req, &stop).map_err(|e| (status_of(&e), e))?;
        // The same bytes as `yibao::to_json`, written through a bound: serialising a large
        // answer is itself long work, so it too stops at the deadline or at the size limit.
        let mut out = Bounded {
            buf: Vec::new(),
            limit: max_response,
            stop: &stop,
        };
        match serde_json::to_writer(&mut out, &answer) {
            Ok(()) => String::from_utf8(out.buf).map_err(|_| {
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ApiError::new(ErrorKind::Internal, None, "internal error: answer not UTF-8"),
                )
            }),
            Err(_) if stop.load(Ordering::Relaxed) => Err((
                StatusCode::SERVICE_UNAVAILABLE,
                ApiError::new(ErrorKind::Unavailable, None, "the request's time ran out"),
            )),
            Err(_) => Err((
                StatusCode::UNPROCESSABLE_ENTITY,
                ApiError::new(
                    ErrorKind::Request,
                    None,
                    format!(
                        "the answer would be over the limit of {max_response} bytes; split the claims or send \"trace\": false"
                    ),
                ),
            )),
        }
    })
    .await;
    match answer {
        Ok(Ok(json)) => json_response(StatusCode::OK, json),
        Ok(Err((status, e))) => api_error(status, &e),
        Err(r) => r,
    }
}

/// A buffer that refuses to grow past `limit` or once `stop` is set.
struct Bounded<'a> {
    buf: Vec<u8>,
    limit: usize,
    stop: &'a AtomicBool,
}

impl std::io::Write for Bounded<'_> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if self.buf.len() + data.len() > self.limit {
            return Err(std::io::Error::other("answer too large"));
        }
        // Checked about every 64 KiB: cheap, and often enough to stop within milliseconds.
        if (self.buf.len() >> 16) != ((self.buf.len() + data.len()) >> 16)
            && self.stop.load(Ordering::Relaxed)
        {
            return Err(std::io::Error::other("stopped"));
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A policy text to check.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CheckRequest {
    /// The file name diagnostics are reported under.
    #[serde(default)]
    name: Option<String>,
    text: String,
}

/// Check a policy text: diagnostics with lines, columns and byte offsets. A text that `extends` a
/// bundled version is checked against it. The answer is 200 whatever the policy says.
#[utoipa::path(
    post,
    path = "/v1/check",
    request_body(content = CheckRequest, description = "JSON `{name, text}`, or the policy text itself as text/plain"),
    responses(
        (status = 200, body = CheckAnswer, description = "the diagnostics, whatever the policy says"),
        (status = 400, body = ApiError, description = "not one JSON object, or a text that is not UTF-8"),
        (status = 413, body = ApiError, description = "body over 1 MiB"),
        (status = 415, body = ApiError, description = "the body is neither `application/json` nor `text/plain`"),
        (status = 422, body = ApiError, description = "a wrong field (`text` missing, an unknown field)")
    )
)]
async fn check(
    State(s): State<AppState>,
    headers: axum::http::HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let bytes = match body_or_error(body, MAX_BODY) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("application/json"));
    let (name, text) = if is_json {
        match parse_json::<CheckRequest>(&bytes) {
            Ok(r) => (r.name.unwrap_or_else(|| "draft.policy".into()), r.text),
            Err((status, e)) => return api_error(status, &e),
        }
    } else {
        match String::from_utf8(bytes.to_vec()) {
            Ok(t) => ("draft.policy".to_string(), t),
            Err(_) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    ErrorKind::Request,
                    None,
                    "the policy text is not UTF-8",
                )
            }
        }
    };
    match compute(&s, move |_| yibao::check_json(&name, &text)).await {
        Ok(a) => json_response(
            StatusCode::OK,
            serde_json::to_string(&a).unwrap_or_default(),
        ),
        Err(r) => r,
    }
}

/// Every bundled policy version, with its effective date, content hash and provenance counts.
#[utoipa::path(get, path = "/v1/policies", responses((status = 200, body = Vec<yibao::VersionInfo>, description = "every version, by policy and date")))]
async fn policies(State(s): State<AppState>) -> Response {
    json_response(
        StatusCode::OK,
        serde_json::to_string(&yibao::list_versions(&s.registry)).unwrap_or_default(),
    )
}

/// The versions of one policy.
#[utoipa::path(
    get,
    path = "/v1/policies/{region}/{scheme}",
    params(("region" = String, Path), ("scheme" = String, Path)),
    responses(
        (status = 200, body = Vec<yibao::VersionInfo>, description = "its versions, oldest first"),
        (status = 404, body = ApiError, description = "no such policy; `allowed` lists the policies")
    )
)]
async fn policy_versions(
    State(s): State<AppState>,
    Path((region, scheme)): Path<(String, String)>,
) -> Response {
    let id = format!("{region}.{scheme}");
    let list: Vec<_> = yibao::list_versions(&s.registry)
        .into_iter()
        .filter(|v| v.id == id)
        .collect();
    if list.is_empty() {
        let e = ApiError {
            allowed: s.registry.policy_ids(),
            ..ApiError::new(
                ErrorKind::NotFound,
                Some("policy".into()),
                format!("no policy `{id}`"),
            )
        };
        return api_error(StatusCode::NOT_FOUND, &e);
    }
    json_response(
        StatusCode::OK,
        serde_json::to_string(&list).unwrap_or_default(),
    )
}

/// The source text of one version (its own file; a version that `extends` another states only
/// its changes).
#[utoipa::path(
    get,
    path = "/v1/policies/{region}/{scheme}/{version}/source",
    params(("region" = String, Path), ("scheme" = String, Path), ("version" = String, Path, description = "the effective date, YYYY-MM-DD")),
    responses(
        (status = 200, content_type = "text/plain", body = String, description = "the policy text"),
        (status = 404, body = ApiError, description = "no such policy or version; `allowed` lists the policies or the versions")
    )
)]
async fn policy_source(
    State(s): State<AppState>,
    Path((region, scheme, version)): Path<(String, String, String)>,
) -> Response {
    let id = format!("{region}.{scheme}");
    let versions: Vec<&yibao::policies::Version> = s
        .registry
        .versions()
        .iter()
        .filter(|v| v.id == id)
        .collect();
    let found = version
        .parse::<yibao::Date>()
        .ok()
        .and_then(|d| versions.iter().find(|v| v.effective == d));
    match found.and_then(|v| s.registry.source_text(v)) {
        Some(text) => (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            )],
            text.to_string(),
        )
            .into_response(),
        None => {
            let allowed = if versions.is_empty() {
                s.registry.policy_ids()
            } else {
                versions.iter().map(|v| v.effective.to_string()).collect()
            };
            let e = ApiError {
                allowed,
                ..ApiError::new(
                    ErrorKind::NotFound,
                    Some("version".into()),
                    format!("no version `{version}` of `{id}`"),
                )
            };
            api_error(StatusCode::NOT_FOUND, &e)
        }
    }
}

/// The figures of one version — paths (what `overrides` may name), values, provenance, sources
/// and the clause each is written in: what `yibao check --params` lists.
#[utoipa::path(
    get,
    path = "/v1/policies/{region}/{scheme}/{version}/params",
    params(("region" = String, Path), ("scheme" = String, Path), ("version" = String, Path, description = "the effective date, YYYY-MM-DD")),
    responses(
        (status = 200, body = yibao::VersionParams, description = "every figure of the version"),
        (status = 404, body = ApiError, description = "no such policy or version; `allowed` lists the policies or the versions")
    )
)]
async fn policy_params(
    State(s): State<AppState>,
    Path((region, scheme, version)): Path<(String, String, String)>,
) -> Response {
    let id = format!("{region}.{scheme}");
    let Ok(date) = version.parse::<yibao::Date>() else {
        let known: Vec<String> = s
            .registry
            .versions()
            .iter()
            .filter(|v| v.id == id)
            .map(|v| v.effective.to_string())
            .collect();
        let e = ApiError {
            allowed: if known.is_empty() {
                s.registry.policy_ids()
            } else {
                known
            },
            ..ApiError::new(
                ErrorKind::NotFound,
                Some("version".into()),
                format!(
                    "no version `{version}` of `{id}`: a version is its effective date, YYYY-MM-DD"
                ),
            )
        };
        return api_error(StatusCode::NOT_FOUND, &e);
    };
    match yibao::params(&s.registry, &id, date) {
        Ok(p) => json_response(
            StatusCode::OK,
            serde_json::to_string(&p).unwrap_or_default(),
        ),
        Err(e) => api_error(status_of(&e), &e),
    }
}

async fn not_found(req: Request<Body>) -> Response {
    error(
        StatusCode::NOT_FOUND,
        ErrorKind::NotFound,
        None,
        &format!(
            "no route for {} {}; see /docs",
            req.method(),
            req.uri().path()
        ),
    )
}

async fn index() -> Html<&'static str> {
    Html(
        "<!doctype html><html lang=\"zh\"><meta charset=\"utf-8\"><title>yibao 医保</title>\
         <body><h1>yibao 医保</h1><p>医保报销计算 API — a medical-insurance reimbursement calculator.</p>\
         <p><a href=\"/docs\">API 文档 / API docs</a> · <a href=\"/openapi.json\">openapi.json</a> · \
         <a href=\"/v1/policies\">policies</a></p></body></html>",
    )
}

/// A readable page of the API, rendered from the OpenAPI document (no scripts, no CDN).
async fn docs() -> Response {
    let html = examples::page();
    (
        [(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(layers::DOCS_CSP),
        )],
        Html(html),
    )
        .into_response()
}
