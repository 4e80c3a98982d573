#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]
//! The server facing untrusted clients: timeouts, connection limits, bounded work, strict input,
//! security headers and one error shape. Each test reproduces a defect of the review (issue 16).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use yibao::Registry;
use yibao_server::Config;

fn registry() -> Arc<Registry> {
    static REG: std::sync::OnceLock<Arc<Registry>> = std::sync::OnceLock::new();
    REG.get_or_init(|| Arc::new(Registry::bundled())).clone()
}

struct Server {
    addr: std::net::SocketAddr,
    base: String,
    client: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start(config: Config) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let done = tokio::spawn(yibao_server::serve(listener, registry(), config, async {
        let _ = rx.await;
    }));
    Server {
        addr,
        base: format!("http://{addr}"),
        client: reqwest::Client::new(),
        stop: Some(tx),
        done,
    }
}

impl Server {
    async fn post(&self, path: &str, body: impl Into<reqwest::Body>) -> (u16, String) {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }
    async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }
    /// Stops the server and says how long it took to return.
    async fn shutdown(mut self) -> Duration {
        let t = Instant::now();
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        tokio::time::timeout(Duration::from_secs(30), self.done)
            .await
            .expect("serve did not return")
            .unwrap()
            .unwrap();
        t.elapsed()
    }
}

const ONE: &str = r#"{"policy":"tianjin.resident","claim":{"date":"2024-05-01","care":"inpatient","level":"3","amounts":{"total":"300000","out_of_list":"2000"}}}"#;

fn claim_n(n: usize, trace: Option<bool>) -> String {
    let c = json!({"person":"p","date":"2024-05-01","care":"inpatient","level":"3","amounts":{"total":"3000"}});
    let mut v = json!({"policy":"tianjin.resident","claims": vec![c; n]});
    if let Some(t) = trace {
        v["trace"] = json!(t);
    }
    v.to_string()
}

/// Reads until the peer closes; true if it closed within `within`.
async fn closed_within(s: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

fn quick() -> Config {
    Config {
        header_timeout: Duration::from_millis(300),
        ..Config::default()
    }
}

#[tokio::test]
async fn silent_half_sent_and_idle_keep_alive_connections_are_closed() {
    let s = start(quick()).await;
    // Connected, sends nothing.
    let mut silent = TcpStream::connect(s.addr).await.unwrap();
    // Half a request head.
    let mut half = TcpStream::connect(s.addr).await.unwrap();
    half.write_all(b"POST /v1/estimate HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // One full request, then idle on the kept-alive connection.
    let mut idle = TcpStream::connect(s.addr).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    let n = idle.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    for (name, c) in [
        ("silent", &mut silent),
        ("half-sent head", &mut half),
        ("idle keep-alive", &mut idle),
    ] {
        assert!(
            closed_within(c, Duration::from_secs(3)).await,
            "{name} connection still open"
        );
    }
    s.shutdown().await;
}

#[tokio::test]
async fn open_connections_are_capped_and_readyz_reports_it() {
    let s = start(Config {
        max_connections: 4,
        header_timeout: Duration::from_secs(30),
        ..Config::default()
    })
    .await;
    // A client that keeps no connection open after its request.
    let once = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let r = once.get(format!("{}/readyz", s.base)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    drop(r);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut held = vec![];
    for _ in 0..4 {
        held.push(TcpStream::connect(s.addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    // A fifth connection waits in the backlog: no answer while four are held.
    let mut fifth = TcpStream::connect(s.addr).await.unwrap();
    fifth
        .write_all(b"GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 2048];
    assert!(
        tokio::time::timeout(Duration::from_millis(400), fifth.read(&mut buf))
            .await
            .is_err(),
        "a fifth connection was served beyond the cap"
    );
    // One closes: the fifth is served, and readiness says the server is saturated (4 of 4).
    held.pop();
    let n = tokio::time::timeout(Duration::from_secs(3), fifth.read(&mut buf))
        .await
        .expect("not served after a slot freed")
        .unwrap();
    let text = String::from_utf8_lossy(&buf[..n]).to_string();
    assert!(text.starts_with("HTTP/1.1 503"), "{text}");
    assert!(text.contains("\"kind\":\"unavailable\""), "{text}");
    drop(held);
    drop(fifth);
    s.shutdown().await;
}

#[tokio::test]
async fn shutdown_with_a_stuck_client_ends_at_the_deadline() {
    let s = start(Config {
        header_timeout: Duration::from_secs(60),
        shutdown_grace: Duration::from_millis(500),
        ..Config::default()
    })
    .await;
    let mut stuck = TcpStream::connect(s.addr).await.unwrap();
    stuck
        .write_all(b"POST /v1/estimate HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        .await
        .unwrap();
    let mut half = TcpStream::connect(s.addr).await.unwrap();
    half.write_all(b"GET /healthz HTTP/1.1\r\nHo")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let took = s.shutdown().await;
    assert!(took < Duration::from_secs(3), "shutdown took {took:?}");
    assert!(closed_within(&mut half, Duration::from_secs(1)).await);
    assert!(closed_within(&mut stuck, Duration::from_secs(1)).await);
}

#[tokio::test]
async fn slow_uploads_do_not_starve_estimates_and_time_out() {
    let s = start(Config {
        concurrency: 1,
        timeout: Duration::from_millis(1500),
        ..Config::default()
    })
    .await;
    // 30 uploads that send their head and a little of the body, then stall.
    let mut slow = vec![];
    for _ in 0..30 {
        let mut c = TcpStream::connect(s.addr).await.unwrap();
        c.write_all(b"POST /v1/estimate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"policy\":")
            .await
            .unwrap();
        slow.push(c);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    for _ in 0..5 {
        let t = Instant::now();
        let (code, body) = s.post("/v1/estimate", ONE).await;
        assert_eq!(code, 200, "{body}");
        assert!(
            t.elapsed() < Duration::from_millis(1000),
            "an estimate took {:?} behind slow uploads",
            t.elapsed()
        );
    }
    // The stalled uploads get a JSON 408 at the deadline.
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), slow[0].read(&mut buf))
        .await
        .expect("no answer to a stalled upload")
        .unwrap();
    let text = String::from_utf8_lossy(&buf[..n]).to_string();
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("application/json"), "{text}");
    drop(slow);
    s.shutdown().await;
}

#[tokio::test]
async fn waiting_for_a_slot_counts_toward_the_time_limit_and_timed_out_work_stops() {
    let s = start(Config {
        concurrency: 1,
        timeout: Duration::from_millis(100),
        ..Config::default()
    })
    .await;
    // Warm up (the first settlement of a version plans it).
    let (code, _) = s.post("/v1/estimate", ONE).await;
    assert_eq!(code, 200);
    // A batch that takes well over the limit holds the only slot, then is cut off.
    let big = claim_n(10_000, Some(false));
    let t = Instant::now();
    let (code, body) = s.post("/v1/estimate/batch", big.clone()).await;
    assert_eq!(code, 408, "{body}");
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["kind"], "request");
    // The cut-off batch stops between claims, so the slot is soon free again for small work.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let t = Instant::now();
    let (code, body) = s.post("/v1/estimate", ONE).await;
    assert_eq!(code, 200, "{body}");
    assert!(
        t.elapsed() < Duration::from_millis(100),
        "{:?}",
        t.elapsed()
    );
    // Two big batches at once: the second waits for the slot and times out there too.
    let (a, b) = tokio::join!(
        s.post("/v1/estimate/batch", big.clone()),
        s.post("/v1/estimate/batch", big)
    );
    assert_eq!((a.0, b.0), (408, 408));
    s.shutdown().await;
}

#[tokio::test]
async fn explanations_for_many_claims_are_refused_with_422() {
    let s = start(Config::default()).await;
    let (code, body) = s.post("/v1/estimate/batch", claim_n(101, Some(true))).await;
    assert_eq!(code, 422, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["path"], "trace");
    assert!(v["message"].as_str().unwrap().contains("at most 100"));
    // Estimates explain by default.
    let (code, _) = s.post("/v1/estimate", claim_n(101, None)).await;
    assert_eq!(code, 422);
    let (code, _) = s.post("/v1/estimate", claim_n(101, Some(false))).await;
    assert_eq!(code, 200);
    let (code, _) = s.post("/v1/estimate/batch", claim_n(100, Some(true))).await;
    assert_eq!(code, 200);
    s.shutdown().await;
}

#[tokio::test]
async fn answers_over_the_size_limit_are_refused() {
    let s = start(Config {
        max_response: 10_000,
        ..Config::default()
    })
    .await;
    let (code, body) = s.post("/v1/estimate/batch", claim_n(50, Some(false))).await;
    assert_eq!(code, 422, "{body}");
    assert!(body.contains("over the limit of 10000 bytes"), "{body}");
    s.shutdown().await;
}

#[tokio::test]
async fn json_is_read_strictly() {
    let s = start(Config::default()).await;
    let claim = |total: Value| {
        json!({"policy":"tianjin.resident","claim":{"date":"2024-05-01","care":"inpatient","amounts":{"total":total}}}).to_string()
    };
    let cases: Vec<(String, u16, Option<&str>)> = vec![
        (format!("{ONE}xyz"), 400, None),
        (format!("{ONE}{ONE}"), 400, None),
        (format!("{ONE} \n"), 200, None),
        // A claim written as an array is not read by position.
        (
            r#"{"policy":"tianjin.resident","claim":["x","y","z","w","2024-05-01"]}"#.into(),
            422,
            Some("claim"),
        ),
        (
            r#"{"policy":"tianjin.resident","claim":{"date":"2024-05-01","care":"inpatient","amounts":["300000"]}}"#.into(),
            422,
            Some("claim.amounts"),
        ),
        (r#"["tianjin.resident"]"#.into(), 422, None),
        (claim(json!(300000)), 200, None),
        (claim(json!("300000")), 200, None),
        (claim(json!("0.5")), 200, None),
    ];
    for bad in [
        " 100 ", "+100", "30000.", ".5", "-0", "00030000", "1.500", "-5",
    ] {
        let (code, body) = s.post("/v1/estimate", claim(json!(bad))).await;
        assert_eq!(code, 422, "`{bad}`: {body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["path"], "claim.amounts.total", "`{bad}`: {body}");
    }
    for (body, want, path) in cases {
        let (code, text) = s.post("/v1/estimate", body.clone()).await;
        assert_eq!(code, want, "{body}: {text}");
        if let Some(p) = path {
            let v: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(v["path"], p, "{text}");
        }
    }
    // The batch endpoint reads the same way.
    let (code, _) = s
        .post("/v1/estimate/batch", format!("{}x", claim_n(1, None)))
        .await;
    assert_eq!(code, 400);
    s.shutdown().await;
}

#[tokio::test]
async fn posts_must_say_they_are_json() {
    let s = start(Config::default()).await;
    for ct in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        Some("application/jsonx"),
    ] {
        for path in ["/v1/estimate", "/v1/estimate/batch"] {
            let mut r = s.client.post(format!("{}{path}", s.base)).body(ONE);
            if let Some(ct) = ct {
                r = r.header("content-type", ct);
            }
            let r = r.send().await.unwrap();
            assert_eq!(r.status().as_u16(), 415, "{path} {ct:?}");
            let v: Value = r.json().await.unwrap();
            assert_eq!(v["kind"], "request");
        }
    }
    for ct in ["application/json; charset=utf-8", "Application/JSON"] {
        let r = s
            .client
            .post(format!("{}/v1/estimate", s.base))
            .header("content-type", ct)
            .body(ONE)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "{ct}");
    }
    s.shutdown().await;
}

#[tokio::test]
async fn security_headers_on_the_page_the_docs_and_the_api() {
    let dir = std::env::temp_dir().join(format!("yibao-www-h-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("index.html"), "<!doctype html><title>估算</title>").unwrap();
    let s = start(Config {
        www: Some(dir.clone()),
        ..Config::default()
    })
    .await;
    for path in [
        "/",
        "/index.html",
        "/docs",
        "/healthz",
        "/v1/policies",
        "/nope",
    ] {
        let r = s.get(path).await;
        let h = r.headers();
        let csp = h
            .get("content-security-policy")
            .unwrap_or_else(|| panic!("{path}: no CSP"))
            .to_str()
            .unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
    }
    let _ = std::fs::remove_dir_all(dir);
    s.shutdown().await;
}

#[tokio::test]
async fn compression_and_cache_control() {
    let dir = std::env::temp_dir().join(format!("yibao-www-c-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("pkg")).unwrap();
    let big_js = "export function f() { return 'yibao'; }\n".repeat(500);
    std::fs::write(dir.join("index.html"), "<!doctype html>".repeat(100)).unwrap();
    std::fs::write(dir.join("app.js"), &big_js).unwrap();
    std::fs::write(dir.join("sw.js"), &big_js).unwrap();
    std::fs::write(dir.join("app.3f9a1c2e.js"), &big_js).unwrap();
    std::fs::write(dir.join("style.css"), "body{margin:0}\n".repeat(200)).unwrap();
    std::fs::write(dir.join("pkg/yibao_wasm_bg.wasm"), vec![0u8; 20_000]).unwrap();
    let s = start(Config {
        www: Some(dir.clone()),
        ..Config::default()
    })
    .await;
    let cases = [
        ("/", "gzip", "no-cache"),
        ("/app.js", "br", "no-cache"),
        ("/sw.js", "gzip", "no-cache"),
        (
            "/app.js?v=20240501",
            "br",
            "public, max-age=31536000, immutable",
        ),
        (
            "/app.3f9a1c2e.js",
            "gzip",
            "public, max-age=31536000, immutable",
        ),
        ("/style.css", "gzip", "no-cache"),
        ("/pkg/yibao_wasm_bg.wasm", "br", "no-cache"),
        ("/openapi.json", "gzip", "no-cache"),
        ("/v1/policies", "br", "no-store"),
    ];
    for (path, enc, cache) in cases {
        let r = s
            .client
            .get(format!("{}{path}", s.base))
            .header("accept-encoding", enc)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "{path}");
        let h = r.headers().clone();
        assert_eq!(
            h.get("content-encoding").map(|v| v.to_str().unwrap()),
            Some(enc),
            "{path}"
        );
        assert_eq!(h["cache-control"], cache, "{path}");
        let body = r.bytes().await.unwrap();
        let plain = s.get(path).await.bytes().await.unwrap();
        assert!(
            body.len() * 3 < plain.len(),
            "{path}: {} bytes compressed from {}",
            body.len(),
            plain.len()
        );
    }
    // Estimates are compressed on request too, and never cached.
    let r = s
        .client
        .post(format!("{}/v1/estimate", s.base))
        .header("content-type", "application/json")
        .header("accept-encoding", "gzip")
        .body(ONE)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-encoding"], "gzip");
    assert_eq!(r.headers()["cache-control"], "no-store");
    // Without Accept-Encoding nothing is compressed.
    let r = s.get("/app.js").await;
    assert!(r.headers().get("content-encoding").is_none());
    assert_eq!(r.text().await.unwrap(), big_js);
    let _ = std::fs::remove_dir_all(dir);
    s.shutdown().await;
}

#[tokio::test]
async fn request_ids_are_taken_only_when_safe_and_made_random() {
    let s = start(Config::default()).await;
    let id_of = |r: &reqwest::Response| r.headers()["x-request-id"].to_str().unwrap().to_string();
    let r = s
        .client
        .get(format!("{}/healthz", s.base))
        .header("x-request-id", "abc-123_x.y:z")
        .send()
        .await
        .unwrap();
    assert_eq!(id_of(&r), "abc-123_x.y:z");
    let long = "a".repeat(65);
    for bad in [long.as_str(), "a b", "a\"b", "<script>", "é"] {
        let r = s
            .client
            .get(format!("{}/healthz", s.base))
            .header("x-request-id", bad)
            .send()
            .await
            .unwrap();
        let id = id_of(&r);
        assert_ne!(id, bad);
        assert!(yibao_server::is_safe_request_id(id.as_bytes()), "{id}");
    }
    let a = id_of(&s.get("/healthz").await);
    let b = id_of(&s.get("/healthz").await);
    assert_ne!(a, b);
    // Random (a UUID), not a counter.
    for id in [&a, &b] {
        assert_eq!(id.len(), 36, "{id}");
        assert!(!id.starts_with("req-"), "{id}");
    }
    s.shutdown().await;
}

/// Validates `body` against the ApiError schema of the live `/openapi.json`.
fn validate_error(doc: &Value, body: &str) {
    let root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": "#/components/schemas/ApiError",
        "components": doc["components"],
    });
    let v = jsonschema::validator_for(&root).unwrap();
    let instance: Value =
        serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"));
    assert!(v.is_valid(&instance), "not an ApiError: {body}");
}

#[tokio::test]
async fn transport_errors_answer_the_json_error_shape_and_are_documented() {
    let s = start(Config {
        timeout: Duration::from_millis(300),
        ..Config::default()
    })
    .await;
    let doc: Value = s.get("/openapi.json").await.json().await.unwrap();
    // 405, with the methods the path takes.
    let r = s.get("/v1/estimate").await;
    assert_eq!(r.status().as_u16(), 405);
    assert!(r.headers().get("allow").is_some());
    validate_error(&doc, &r.text().await.unwrap());
    // 408: a body that never completes.
    let mut c = TcpStream::connect(s.addr).await.unwrap();
    c.write_all(b"POST /v1/estimate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), c.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&buf[..n]).to_string();
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    validate_error(&doc, text.split("\r\n\r\n").nth(1).unwrap_or(""));
    // 413.
    let (code, body) = s.post("/v1/estimate", "x".repeat(2 << 20)).await;
    assert_eq!(code, 413);
    validate_error(&doc, &body);
    // 414.
    let r = s.get(&format!("/v1/policies?{}", "q".repeat(9000))).await;
    assert_eq!(r.status().as_u16(), 414);
    validate_error(&doc, &r.text().await.unwrap());
    // 415.
    let r = s
        .client
        .post(format!("{}/v1/estimate", s.base))
        .body(ONE)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 415);
    validate_error(&doc, &r.text().await.unwrap());
    // 431.
    let mut req = s.client.get(format!("{}/healthz", s.base));
    for i in 0..70 {
        req = req.header(format!("x-h{i}"), "v");
    }
    let r = req.send().await.unwrap();
    assert_eq!(r.status().as_u16(), 431);
    validate_error(&doc, &r.text().await.unwrap());
    // Each is in the document, for every operation it can come from.
    for (path, method, codes) in [
        (
            "/v1/estimate",
            "post",
            &[
                "400", "404", "405", "408", "413", "414", "415", "422", "431", "500", "503",
            ][..],
        ),
        (
            "/v1/estimate/batch",
            "post",
            &["400", "405", "408", "413", "415", "422", "503"][..],
        ),
        (
            "/v1/check",
            "post",
            &["405", "408", "413", "415", "503"][..],
        ),
        ("/v1/policies", "get", &["405", "408", "414", "431"][..]),
        ("/readyz", "get", &["503"][..]),
    ] {
        for code in codes {
            assert!(
                doc["paths"][path][method]["responses"].get(code).is_some(),
                "{method} {path} does not document {code}"
            );
        }
    }
    s.shutdown().await;
}

#[tokio::test]
async fn a_full_queue_answers_503_and_readyz_turns_red() {
    let s = start(Config {
        concurrency: 1,
        queue: 2,
        timeout: Duration::from_secs(10),
        ..Config::default()
    })
    .await;
    let doc: Value = s.get("/openapi.json").await.json().await.unwrap();
    let big = claim_n(5_000, Some(false));
    let mut all = vec![];
    for _ in 0..6 {
        let c = s.client.clone();
        let url = format!("{}/v1/estimate/batch", s.base);
        let body = big.clone();
        all.push(tokio::spawn(async move {
            let r = c
                .post(url)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }));
    }
    let mut saw_red = false;
    for _ in 0..50 {
        let r = s.get("/readyz").await;
        if r.status().as_u16() == 503 {
            validate_error(&doc, &r.text().await.unwrap());
            saw_red = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut codes = vec![];
    for h in all {
        let (code, body) = h.await.unwrap();
        if code == 503 {
            validate_error(&doc, &body);
            assert!(body.contains("\"kind\":\"unavailable\""), "{body}");
        }
        codes.push(code);
    }
    assert!(codes.contains(&503), "{codes:?}");
    assert!(codes.contains(&200), "{codes:?}");
    assert!(saw_red, "readyz stayed green with a full queue");
    s.shutdown().await;
}

/// A request head is read into a 64 KiB buffer. Below that size the application sees the head and
/// answers 431 with the JSON error shape (more than 16 KiB of headers, or more than 64 fields);
/// beyond it hyper answers 431 itself, without a body, before any handler runs. Either way the
/// server keeps serving the next client.
#[tokio::test]
async fn oversized_heads_get_431_on_both_sides_of_the_read_buffer() {
    let s = start(quick()).await;
    let doc: Value = s.get("/openapi.json").await.json().await.unwrap();
    // 40 KiB of headers in ten fields: inside the read buffer, over the 16 KiB the handler allows.
    let mut req = s.client.get(format!("{}/healthz", s.base));
    for i in 0..10 {
        req = req.header(format!("x-big{i}"), "v".repeat(4096));
    }
    let r = req.send().await.unwrap();
    assert_eq!(r.status().as_u16(), 431);
    let body = r.text().await.unwrap();
    validate_error(&doc, &body);
    assert!(body.contains("16384 bytes"), "{body}");
    // 100 KiB in one head, over the read buffer: hyper's own 431, no JSON body.
    let mut raw = TcpStream::connect(s.addr).await.unwrap();
    let head = format!(
        "GET /healthz HTTP/1.1\r\nhost: x\r\nx-huge: {}\r\n\r\n",
        "v".repeat(100 * 1024)
    );
    // The server may answer and close before it has read all of it.
    let _ = raw.write_all(head.as_bytes()).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), raw.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 431"),
        "hyper's answer: {answer:?}"
    );
    // The next client is served.
    let r = s.get("/healthz").await;
    assert_eq!(r.status().as_u16(), 200);
    s.shutdown().await;
}
