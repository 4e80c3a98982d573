#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]
//! A short soak (seconds) for every test run; `cargo xtask soak` is the long one on the release
//! binary. Many idle and slow connections must not slow a normal client; concurrent estimates
//! must all succeed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use yibao_server::Config;

const ONE: &str = r#"{"policy":"tianjin.resident","trace":false,"claim":{"date":"2024-05-01","care":"inpatient","level":"3","amounts":{"total":"300000","out_of_list":"2000"}}}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_slow_connections_do_not_slow_a_normal_client() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(yibao_server::serve(
        listener,
        Arc::new(yibao::Registry::bundled()),
        Config {
            header_timeout: Duration::from_secs(5),
            ..Config::default()
        },
        async {
            let _ = rx.await;
        },
    ));
    // 1,500 connections: a third silent, a third with half a head, a third with a stalled body.
    let mut held = vec![];
    for i in 0..1_500 {
        let mut c = TcpStream::connect(addr).await.unwrap();
        match i % 3 {
            0 => {}
            1 => c.write_all(b"POST /v1/estimate HTTP/1.1\r\nHo").await.unwrap(),
            _ => c
                .write_all(b"POST /v1/estimate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 900\r\n\r\n{\"po")
                .await
                .unwrap(),
        }
        held.push(c);
    }
    let client = reqwest::Client::new();
    let url = format!("http://{addr}/v1/estimate");
    let mut micros = vec![];
    let until = Instant::now() + Duration::from_secs(2);
    while Instant::now() < until {
        let t = Instant::now();
        let r = client
            .post(&url)
            .header("content-type", "application/json")
            .body(ONE)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        r.bytes().await.unwrap();
        micros.push(t.elapsed().as_micros());
    }
    micros.sort_unstable();
    let p99 = micros[(micros.len() - 1) * 99 / 100];
    eprintln!(
        "{} estimates beside 1,500 idle/slow connections: p50 {} µs, p99 {p99} µs",
        micros.len(),
        micros[micros.len() / 2]
    );
    assert!(micros.len() >= 50, "only {} estimates in 2 s", micros.len());
    assert!(p99 <= 100_000, "p99 {p99} µs");

    // 16 clients at once for a second: every estimate answered.
    let until = Instant::now() + Duration::from_secs(1);
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let (client, url) = (client.clone(), url.clone());
            tokio::spawn(async move {
                let (mut ok, mut failed) = (0u32, 0u32);
                while Instant::now() < until {
                    match client
                        .post(&url)
                        .header("content-type", "application/json")
                        .body(ONE)
                        .send()
                        .await
                    {
                        Ok(r) if r.status().as_u16() == 200 => ok += 1,
                        _ => failed += 1,
                    }
                }
                (ok, failed)
            })
        })
        .collect();
    let (mut ok, mut failed) = (0, 0);
    for t in tasks {
        let (o, f) = t.await.unwrap();
        ok += o;
        failed += f;
    }
    eprintln!("c=16 for 1 s: {ok} answered, {failed} failed");
    assert_eq!(failed, 0);
    assert!(ok > 100, "{ok}");
    drop(held);
    let _ = tx.send(());
    tokio::time::timeout(Duration::from_secs(15), server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}
