//! The yibao HTTP API.
//!
//! Thin axum handlers over the `yibao` facade — the same functions the command line and the
//! WebAssembly module call — so an estimate is the same bytes everywhere. HTTP status says whose
//! problem it is: 400 unreadable JSON, 422 a wrong field or a claim the policy cannot take, 404 no
//! such policy or no version on that date, 413 a body over 1 MiB, 408 a request that took too
//! long. A policy that does not compile is an answer (`/v1/check`), not an error.
//!
//! Logs (tracing) carry a request id, the method, path, status and latency — never a claim's
//! amounts or personal fields.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
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
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use yibao::{ApiError, BatchRequest, CheckAnswer, ErrorKind, EstimateRequest, Registry};

/// The largest request body accepted.
pub const MAX_BODY: usize = 1 << 20;

/// Shared by every handler: the compiled policies.
#[derive(Clone)]
pub struct AppState {
    registry: Arc<Registry>,
}

/// How the server is set up.
#[derive(Debug, Clone)]
pub struct Config {
    /// A folder of static files (the web page) served at `/`; without it `/` links to the docs.
    pub www: Option<PathBuf>,
    /// The longest a request may take.
    pub timeout: Duration,
    /// Requests handled at once; more wait their turn.
    pub concurrency: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            www: None,
            timeout: Duration::from_secs(10),
            concurrency: 256,
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "yibao 医保 API",
        description = "Settle Chinese medical-insurance claims under versioned policy files. Money is a string with two decimals; no floats anywhere."
    ),
    paths(
        healthz,
        estimate,
        estimate_batch,
        check,
        policies,
        policy_versions,
        policy_source
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
        Health,
        CheckRequest
    ))
)]
pub struct ApiDoc;

/// Builds the router.
pub fn app(registry: Arc<Registry>, config: &Config) -> Router {
    let state = AppState { registry };
    let api = Router::new()
        .route("/healthz", get(healthz))
        .route("/openapi.json", get(openapi_json))
        .route("/docs", get(docs))
        .route("/v1/estimate", post(estimate))
        .route("/v1/estimate/batch", post(estimate_batch))
        .route("/v1/check", post(check))
        .route("/v1/policies", get(policies))
        .route("/v1/policies/{region}/{scheme}", get(policy_versions))
        .route(
            "/v1/policies/{region}/{scheme}/{version}/source",
            get(policy_source),
        )
        .with_state(state);
    let router = match &config.www {
        Some(dir) => {
            api.fallback_service(tower_http::services::ServeDir::new(dir).fallback(get(not_found)))
        }
        None => api.route("/", get(index)).fallback(not_found),
    };
    router
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
            error(StatusCode::INTERNAL_SERVER_ERROR, ErrorKind::Policy, None, "internal error; please report it")
        }))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, config.timeout))
        .layer(tower::limit::ConcurrencyLimitLayer::new(config.concurrency.max(1)))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<Body>| {
                    let id = req.extensions().get::<RequestId>().and_then(|r| r.header_value().to_str().ok()).unwrap_or("-").to_string();
                    tracing::info_span!("request", id = %id, method = %req.method(), path = %req.uri().path())
                })
                .on_response(|res: &Response, latency: Duration, _: &tracing::Span| {
                    tracing::info!(status = res.status().as_u16(), latency_us = latency.as_micros() as u64, "response");
                }),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(Counter::default()))
}

/// Request ids: a per-process counter (no randomness needed for correlation in logs).
#[derive(Clone, Default)]
struct Counter(Arc<AtomicU64>);

impl MakeRequestId for Counter {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let n = self.0.fetch_add(1, Ordering::Relaxed);
        HeaderValue::from_str(&format!("req-{n}"))
            .ok()
            .map(RequestId::new)
    }
}

/// Serves until `shutdown` resolves, then finishes the requests under way.
pub async fn serve(
    listener: tokio::net::TcpListener,
    registry: Arc<Registry>,
    config: Config,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(registry, &config))
        .with_graceful_shutdown(shutdown)
        .await
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
    tracing::info!("shutting down: finishing requests under way");
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
    }
}

/// A body, or the JSON error for a body that is too large or unreadable.
fn body_or_error(body: Result<Bytes, BytesRejection>) -> Result<Bytes, Box<Response>> {
    match body {
        Ok(b) => Ok(b),
        Err(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            let msg = format!(
                "request body is larger than {MAX_BODY} bytes; split a batch into smaller ones"
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

/// Parses JSON: 400 when it is not JSON, 422 with the field path when a field is wrong.
fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, Box<Response>> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(de) {
        Ok(v) => Ok(v),
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let status = if inner.is_data() {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                StatusCode::BAD_REQUEST
            };
            let path = if path == "." || path.is_empty() {
                None
            } else {
                Some(path)
            };
            Err(Box::new(error(
                status,
                ErrorKind::Request,
                path,
                &inner.to_string(),
            )))
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
struct Health {
    status: &'static str,
    policies: usize,
    versions: usize,
}

/// Liveness and what is loaded.
#[utoipa::path(get, path = "/healthz", responses((status = 200, body = Health)))]
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

async fn openapi_json() -> Response {
    json_response(
        StatusCode::OK,
        ApiDoc::openapi().to_json().unwrap_or_default(),
    )
}

/// Settle one claim (`claim`) or one person's claims of a year in date order (`claims`).
#[utoipa::path(
    post,
    path = "/v1/estimate",
    request_body = EstimateRequest,
    responses(
        (status = 200, body = yibao::EstimateAnswer, description = "settlements and the state after the last claim"),
        (status = 400, body = ApiError, description = "not JSON"),
        (status = 404, body = ApiError, description = "no such policy, or no version in force on the date; `allowed` lists what exists"),
        (status = 413, body = ApiError, description = "body over 1 MiB"),
        (status = 422, body = ApiError, description = "a wrong field or a claim the policy cannot take; `path` names the field")
    )
)]
async fn estimate(State(s): State<AppState>, body: Result<Bytes, BytesRejection>) -> Response {
    settle_endpoint(s, body, |reg, req: &EstimateRequest| {
        yibao::estimate(reg, req).and_then(|a| yibao::to_json(&a))
    })
    .await
}

/// Settle up to 10,000 claims of many persons; each person's claims in the order given.
#[utoipa::path(
    post,
    path = "/v1/estimate/batch",
    request_body = BatchRequest,
    responses(
        (status = 200, body = yibao::BatchAnswer, description = "one item per claim, in input order; a claim's own error is in its item"),
        (status = 400, body = ApiError),
        (status = 413, body = ApiError),
        (status = 422, body = ApiError, description = "more than 10,000 claims, a bad override, or a wrong field")
    )
)]
async fn estimate_batch(
    State(s): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    settle_endpoint(s, body, |reg, req: &BatchRequest| {
        yibao::estimate_batch(reg, req).and_then(|a| yibao::to_json(&a))
    })
    .await
}

/// Parses a JSON request, runs `f` on the blocking pool (settling is CPU work; the I/O threads
/// stay free) and answers with its JSON or its error.
async fn settle_endpoint<R: serde::de::DeserializeOwned + Send + 'static>(
    s: AppState,
    body: Result<Bytes, BytesRejection>,
    f: fn(&Registry, &R) -> Result<String, ApiError>,
) -> Response {
    let bytes = match body_or_error(body) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let req: R = match parse_json(&bytes) {
        Ok(r) => r,
        Err(r) => return *r,
    };
    let reg = s.registry.clone();
    match tokio::task::spawn_blocking(move || f(&reg, &req)).await {
        Ok(Ok(json)) => json_response(StatusCode::OK, json),
        Ok(Err(e)) => api_error(status_of(&e), &e),
        Err(_) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorKind::Policy,
            None,
            "internal error; please report it",
        ),
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
    responses((status = 200, body = CheckAnswer), (status = 400, body = ApiError), (status = 413, body = ApiError), (status = 422, body = ApiError))
)]
async fn check(headers: axum::http::HeaderMap, body: Result<Bytes, BytesRejection>) -> Response {
    let bytes = match body_or_error(body) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let (name, text) = if is_json {
        match parse_json::<CheckRequest>(&bytes) {
            Ok(r) => (r.name.unwrap_or_else(|| "draft.policy".into()), r.text),
            Err(r) => return *r,
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
    let answer = tokio::task::spawn_blocking(move || yibao::check_json(&name, &text)).await;
    match answer {
        Ok(a) => json_response(
            StatusCode::OK,
            serde_json::to_string(&a).unwrap_or_default(),
        ),
        Err(_) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorKind::Policy,
            None,
            "internal error; please report it",
        ),
    }
}

/// Every bundled policy version, with its effective date, content hash and provenance counts.
#[utoipa::path(get, path = "/v1/policies", responses((status = 200, body = Vec<yibao::VersionInfo>)))]
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
    responses((status = 200, body = Vec<yibao::VersionInfo>), (status = 404, body = ApiError))
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
    responses((status = 200, content_type = "text/plain", body = String), (status = 404, body = ApiError))
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
async fn docs() -> Html<String> {
    let doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let mut html = String::from(
        "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>yibao API</title>\
         <style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.5}\
         code{background:#f3f3f3;padding:0 .2em}section{border-top:1px solid #ddd;padding:.5rem 0}\
         .m{font-weight:bold;text-transform:uppercase;margin-right:.5em}</style><body><h1>yibao 医保 API</h1>",
    );
    if let Some(d) = doc.pointer("/info/description").and_then(|v| v.as_str()) {
        html.push_str(&format!("<p>{}</p>", esc(d)));
    }
    html.push_str(
        "<p>The machine-readable description: <a href=\"/openapi.json\">/openapi.json</a>.</p>",
    );
    if let Some(paths) = doc.get("paths").and_then(|p| p.as_object()) {
        for (path, ops) in paths {
            for (method, op) in ops.as_object().into_iter().flatten() {
                html.push_str(&format!(
                    "<section><p><span class=\"m\">{}</span><code>{}</code></p>",
                    esc(method),
                    esc(path)
                ));
                if let Some(d) = op
                    .get("description")
                    .or_else(|| op.get("summary"))
                    .and_then(|v| v.as_str())
                {
                    html.push_str(&format!("<p>{}</p>", esc(d)));
                }
                if let Some(r) = op
                    .pointer("/requestBody/content")
                    .and_then(|c| c.as_object())
                {
                    for (ct, c) in r {
                        let schema = c
                            .pointer("/schema/$ref")
                            .and_then(|v| v.as_str())
                            .unwrap_or("")
                            .rsplit('/')
                            .next()
                            .unwrap_or("");
                        html.push_str(&format!(
                            "<p>request: <code>{}</code> {}</p>",
                            esc(ct),
                            esc(schema)
                        ));
                    }
                }
                html.push_str("<ul>");
                for (status, resp) in op
                    .get("responses")
                    .and_then(|r| r.as_object())
                    .into_iter()
                    .flatten()
                {
                    let d = resp
                        .get("description")
                        .and_then(|v| v.as_str())
                        .unwrap_or("");
                    html.push_str(&format!("<li><code>{}</code> {}</li>", esc(status), esc(d)));
                }
                html.push_str("</ul></section>");
            }
        }
    }
    html.push_str("</body></html>");
    Html(html)
}
