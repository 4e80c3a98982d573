//! Middleware: request ids, security and cache headers, limits on the request head, and the one
//! JSON error shape for answers the routes did not write themselves (405, 408, 413, …).

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use yibao::ErrorKind;

use crate::error;

/// The longest request id taken from a client.
pub const MAX_REQUEST_ID: usize = 64;

const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A client's `X-Request-Id` is kept only when short and made of safe characters (letters,
/// digits, `-`, `_`, `.`, `:`); anything else is dropped and a random id is made in its place, so
/// a log never carries a client's arbitrary text.
pub fn is_safe_request_id(v: &[u8]) -> bool {
    !v.is_empty()
        && v.len() <= MAX_REQUEST_ID
        && v.iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

pub async fn sanitize_request_id(mut req: Request, next: Next) -> Response {
    let ids = req.headers().get_all(&X_REQUEST_ID);
    let mut it = ids.iter();
    let keep = match (it.next(), it.next()) {
        (Some(v), None) => is_safe_request_id(v.as_bytes()),
        (None, _) => true,
        _ => false,
    };
    if !keep {
        req.headers_mut().remove(&X_REQUEST_ID);
    }
    next.run(req).await
}

/// The page's policy: its own scripts and WebAssembly, no framing, no plugins, no foreign
/// origins. Sent on every answer (a script's own policy governs a service worker).
pub const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
    connect-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; \
    base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// `/docs` carries its stylesheet inline and runs no script.
pub const DOCS_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; \
    base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Whether a static file's URL names one version of it: a `v=` query or a content hash in the
/// file name (`app.3f9a1c2e.js`). Such a URL never changes content, so it may be cached long.
pub fn is_versioned(path: &str, query: Option<&str>) -> bool {
    let by_query = query.is_some_and(|q| q.split('&').any(|kv| kv.starts_with("v=")));
    let name = path.rsplit('/').next().unwrap_or("");
    let parts: Vec<&str> = name.split('.').collect();
    let by_hash = parts.len() >= 3
        && parts[1..parts.len() - 1]
            .iter()
            .any(|p| p.len() >= 8 && p.bytes().all(|b| b.is_ascii_hexdigit()));
    by_query || by_hash
}

/// `Cache-Control` by what is asked: answers about claims are never stored; the page, its
/// scripts and the documents are revalidated on each visit (`no-cache`: a 304 when unchanged);
/// versioned or hashed files are kept for a year.
pub fn cache_control(path: &str, query: Option<&str>) -> &'static str {
    if path.starts_with("/v1/") || path == "/healthz" || path == "/readyz" {
        "no-store"
    } else if path == "/openapi.json" || path == "/docs" || path == "/" || path.ends_with(".html") {
        "no-cache"
    } else if path.ends_with("/sw.js") {
        // The service worker must always be checked for a new version.
        "no-cache"
    } else if is_versioned(path, query) {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    }
}

pub async fn headers(req: Request, next: Next) -> Response {
    let cache = cache_control(req.uri().path(), req.uri().query());
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, name: HeaderName, value: &'static str| {
        if !h.contains_key(&name) {
            h.insert(name, HeaderValue::from_static(value));
        }
    };
    set(h, header::CONTENT_SECURITY_POLICY, CSP);
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::REFERRER_POLICY, "no-referrer");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::CACHE_CONTROL, cache);
    res
}

/// The longest URI accepted (414 beyond).
pub const MAX_URI: usize = 8 * 1024;
/// The most header fields accepted (431 beyond).
pub const MAX_HEADERS: usize = 64;
/// The most bytes of header names and values accepted (431 beyond).
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

pub async fn limit_head(req: Request, next: Next) -> Response {
    let uri_len = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if uri_len > MAX_URI {
        return error(
            StatusCode::URI_TOO_LONG,
            ErrorKind::Request,
            None,
            &format!("the URI is {uri_len} bytes; at most {MAX_URI} are accepted"),
        );
    }
    let count = req.headers().len();
    let bytes: usize = req
        .headers()
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len())
        .sum();
    if count > MAX_HEADERS || bytes > MAX_HEADER_BYTES {
        return error(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ErrorKind::Request,
            None,
            &format!(
                "{count} header fields, {bytes} bytes; at most {MAX_HEADERS} fields and {MAX_HEADER_BYTES} bytes are accepted"
            ),
        );
    }
    next.run(req).await
}

/// POST bodies must say they are JSON (`application/json`): a foreign page cannot then make a
/// visitor's browser post an estimate as a simple, preflight-free request. `/v1/check` also
/// takes the policy text itself as `text/plain` (it reads nothing private and stores nothing).
pub async fn require_json(req: Request, next: Next) -> Response {
    if req.method() == Method::POST {
        let ct = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let essence = ct
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let text_ok = req.uri().path() == "/v1/check" && essence == "text/plain";
        if essence != "application/json" && !text_ok {
            let shown: String = ct
                .chars()
                .take(60)
                .map(|c| {
                    if c.is_ascii_graphic() || c == ' ' {
                        c
                    } else {
                        '?'
                    }
                })
                .collect();
            return error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorKind::Request,
                Some("content-type".into()),
                &format!(
                    "the body must be sent as `Content-Type: application/json`{}, not `{shown}`",
                    if req.uri().path() == "/v1/check" {
                        " (or text/plain for a policy text)"
                    } else {
                        ""
                    }
                ),
            );
        }
    }
    next.run(req).await
}

fn is_json(res: &Response) -> bool {
    res.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// Gives an error status the routes did not write (axum's 405, the timeout's 408, a body
/// limit's 413, …) the same JSON body as every other error.
pub async fn json_errors(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let limit = if req.uri().path() == "/v1/estimate/batch" {
        crate::MAX_BATCH_BODY
    } else {
        crate::MAX_BODY
    };
    let res = next.run(req).await;
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) || is_json(&res) {
        return res;
    }
    let (kind, message) = match status {
        StatusCode::METHOD_NOT_ALLOWED => {
            let allow = res
                .headers()
                .get(header::ALLOW)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            (
                ErrorKind::Request,
                format!("{method} is not allowed here; this path takes: {allow}"),
            )
        }
        StatusCode::REQUEST_TIMEOUT => (
            ErrorKind::Request,
            "the request took too long (waiting, reading its body and computing all count); send smaller requests or try again".to_string(),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            ErrorKind::Request,
            format!("request body is larger than {limit} bytes; split a batch into smaller ones"),
        ),
        s if s.is_server_error() && s != StatusCode::INTERNAL_SERVER_ERROR => (
            ErrorKind::Unavailable,
            "the service is busy or shutting down; try again shortly".to_string(),
        ),
        StatusCode::INTERNAL_SERVER_ERROR => (
            ErrorKind::Internal,
            "internal error; please report it".to_string(),
        ),
        s => (
            ErrorKind::Request,
            s.canonical_reason().unwrap_or("bad request").to_string(),
        ),
    };
    let mut out = error(status, kind, None, &message);
    for name in [header::ALLOW, header::RETRY_AFTER] {
        if let Some(v) = res.headers().get(&name) {
            out.headers_mut().insert(name, v.clone());
        }
    }
    out
}

/// The answer for a panic in a handler: a JSON 500 labelled `internal`.
pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response<Body> {
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        ErrorKind::Internal,
        None,
        "internal error; please report it",
    )
    .into_response()
}
