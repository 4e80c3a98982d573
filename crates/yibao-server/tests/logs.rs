#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]
//! What the server logs. Alone in its binary: a thread-scoped log subscriber misses events when
//! other tests hit the same call sites on other threads at the same time.

use std::sync::Arc;

use serde_json::json;

struct Server {
    base: String,
    client: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start() -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let done = tokio::spawn(yibao_server::serve(
        listener,
        Arc::new(yibao::Registry::bundled()),
        yibao_server::Config::default(),
        async {
            let _ = rx.await;
        },
    ));
    Server {
        base,
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
    async fn shutdown(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        self.done.await.unwrap().unwrap();
    }
}

/// A writer the log subscriber appends to, to read what was logged.
#[derive(Clone, Default)]
struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn logs_carry_the_request_but_never_the_amounts() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let s = start().await;
        let body = json!({"policy":"tianjin.resident","claim":{"id":"A-77","person":"张三","date":"2024-05-01","care":"inpatient","amounts":{"total":"123456.78"}}});
        let (code, answer) = s.post("/v1/estimate", body.to_string()).await;
        assert_eq!(code, 200);
        assert!(answer.contains("123456.78"));
        // A client's id is logged only when short and safe.
        for id in ["trace-me-42", "forged\" status=999 x=\"", "张三"] {
            let r = s
                .client
                .get(format!("{}/healthz", s.base))
                .header("x-request-id", id.as_bytes())
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 200);
        }
        s.shutdown().await;
    });
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        log.contains("/v1/estimate") && log.contains("status=200") && log.contains("latency_us="),
        "{log}"
    );
    assert!(log.contains("id="), "request id missing: {log}");
    assert!(
        log.contains("id=trace-me-42"),
        "a safe client id is logged: {log}"
    );
    for secret in ["123456.78", "张三", "A-77", "forged", "status=999"] {
        assert!(!log.contains(secret), "`{secret}` leaked into the logs");
    }
}
