//! `cargo xtask soak`: the release server under load on 127.0.0.1, with a load generator written
//! here (std threads and keep-alive HTTP/1.1 over loopback, nothing to install). Bounded in time
//! and connections. Prints the figures BENCHMARKS.md records.
//!
//! 1. `/v1/estimate`, one claim, at concurrency 1, 16 and 64: requests/s, p50/p99, server RSS.
//! 2. 16 clients posting explained batches (100 claims, `trace: true`) and 100-claim batches
//!    without: the server's peak RSS.
//! 3. 10,000 idle or slow connections held open (re-opened within 0.2 s when the server closes
//!    them after its 10 s header timeout) while one normal client measures estimate latency.
//! 4. SIGTERM while a client holds a half-sent request: time until the server exits.

#![allow(
    clippy::float_arithmetic,
    reason = "rates and percentiles for display, no money"
)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ONE: &str = r#"{"policy":"tianjin.resident","trace":false,"claim":{"date":"2024-05-01","care":"inpatient","level":"3","categories":["min_allowance"],"amounts":{"total":"300000","out_of_list":"2000"}}}"#;

pub fn soak(args: &[String]) -> Result<(), String> {
    let seconds: u64 = args.first().and_then(|s| s.parse().ok()).unwrap_or(10);
    crate::step(
        "building the release binary",
        "cargo",
        &["build", "--release", "-p", "yibao-cli"],
    )?;
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
    let bin = format!("{target}/release/yibao");
    let port = 18_611;
    let addr: SocketAddr = format!("127.0.0.1:{port}")
        .parse()
        .map_err(|e| format!("{e}"))?;

    let mut server = start(&bin, port)?;
    let result = (|| {
        for c in [1usize, 16, 64] {
            let r = load(addr, c, Duration::from_secs(seconds), &request(ONE))?;
            println!(
                "estimate c={c:<3} {:>7.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  failed {}  server RSS {} MB (peak {} MB)",
                r.per_second(),
                r.p(50),
                r.p(99),
                r.failed,
                rss(server.id()).0 / 1024,
                rss(server.id()).1 / 1024
            );
            if r.failed > 0 {
                return Err(format!("{} estimates failed at c={c}", r.failed));
            }
        }
        let batch = |trace: bool| {
            let claim = r#"{"person":"p","date":"2024-05-01","care":"inpatient","level":"3","amounts":{"total":"300000"}}"#;
            let claims = vec![claim; 100].join(",");
            request(&format!(
                r#"{{"policy":"tianjin.resident","trace":{trace},"claims":[{claims}]}}"#
            ))
            .replace("/v1/estimate ", "/v1/estimate/batch ")
        };
        for trace in [true, false] {
            let r = load(addr, 16, Duration::from_secs(seconds), &batch(trace))?;
            println!(
                "100-claim batches, trace {trace}, c=16: {:.0} req/s  p99 {:.1} ms  failed {}  server peak RSS {} MB",
                r.per_second(),
                r.p(99),
                r.failed,
                rss(server.id()).1 / 1024
            );
        }
        let held = hold(addr, 10_000, Duration::from_secs(seconds.max(15)))?;
        println!(
            "10,000 idle/slow connections: estimate p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms  ({} requests, failed {}); held {} at the peak, {} re-opened",
            held.normal.p(50),
            held.normal.p(99),
            held.normal.p(100),
            held.normal.ok,
            held.normal.failed,
            held.peak,
            held.reopened
        );
        println!(
            "server peak RSS with 10,000 connections: {} MB",
            rss(server.id()).1 / 1024
        );
        Ok(())
    })();
    stop(&mut server);
    result?;

    // SIGTERM with a stuck client.
    let mut server = start(&bin, port)?;
    let mut stuck = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    stuck
        .write_all(b"POST /v1/estimate HTTP/1.1\r\nHost: x\r\nContent-Len")
        .map_err(|e| e.to_string())?;
    std::thread::sleep(Duration::from_millis(200));
    let t = Instant::now();
    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let limit = Duration::from_secs(15);
    loop {
        if let Ok(Some(status)) = server.try_wait() {
            println!(
                "SIGTERM with a half-sent request held open: exited in {:.2} s ({status})",
                t.elapsed().as_secs_f64()
            );
            break;
        }
        if t.elapsed() > limit {
            stop(&mut server);
            return Err("the server did not exit within 15 s of SIGTERM".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(stuck);
    Ok(())
}

fn start(bin: &str, port: u16) -> Result<Child, String> {
    let child = Command::new(bin)
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {bin}: {e}"))?;
    for _ in 0..200 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(child);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err("the server did not start".into())
}

fn stop(server: &mut Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let _ = server.wait();
}

/// (resident, peak resident) in KiB.
fn rss(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    (kib("VmRSS:"), kib("VmHWM:"))
}

fn request(body: &str) -> String {
    format!(
        "POST /v1/estimate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// Sends one request on a kept-alive connection and reads the answer; its status.
fn exchange(s: &mut TcpStream, req: &[u8], buf: &mut Vec<u8>) -> std::io::Result<u16> {
    s.write_all(req)?;
    buf.clear();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let n = s.read(&mut chunk)?;
        if n == 0 {
            return Err(std::io::Error::other("closed"));
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = find(buf, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let status: u16 = head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = s.read(&mut chunk)?;
                if n == 0 {
                    return Err(std::io::Error::other("closed"));
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return Ok(status);
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[derive(Default)]
struct Run {
    micros: Vec<u64>,
    ok: u64,
    failed: u64,
    took: Duration,
}

impl Run {
    fn per_second(&self) -> f64 {
        self.ok as f64 / self.took.as_secs_f64().max(1e-9)
    }
    /// The p-th percentile latency in ms.
    fn p(&self, p: usize) -> f64 {
        if self.micros.is_empty() {
            return f64::NAN;
        }
        let mut v = self.micros.clone();
        v.sort_unstable();
        let i = ((v.len() - 1) * p) / 100;
        v[i] as f64 / 1000.0
    }
}

/// `c` clients, each on its own kept-alive connection, for `d`.
fn load(addr: SocketAddr, c: usize, d: Duration, req: &str) -> Result<Run, String> {
    let all = Arc::new(Mutex::new(Run::default()));
    let start = Instant::now();
    let threads: Vec<_> = (0..c)
        .map(|_| {
            let all = all.clone();
            let req = req.as_bytes().to_vec();
            std::thread::spawn(move || {
                let mut mine = Run::default();
                let mut buf = Vec::new();
                let mut conn: Option<TcpStream> = None;
                while start.elapsed() < d {
                    let s = match conn.as_mut() {
                        Some(s) => s,
                        None => match TcpStream::connect(addr) {
                            Ok(s) => {
                                let _ = s.set_nodelay(true);
                                let _ = s.set_read_timeout(Some(Duration::from_secs(15)));
                                conn.insert(s)
                            }
                            Err(_) => {
                                mine.failed += 1;
                                std::thread::sleep(Duration::from_millis(10));
                                continue;
                            }
                        },
                    };
                    let t = Instant::now();
                    match exchange(s, &req, &mut buf) {
                        Ok(200) => {
                            mine.ok += 1;
                            mine.micros
                                .push(u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX));
                        }
                        Ok(_) => mine.failed += 1,
                        Err(_) => {
                            mine.failed += 1;
                            conn = None;
                        }
                    }
                }
                if let Ok(mut a) = all.lock() {
                    a.ok += mine.ok;
                    a.failed += mine.failed;
                    a.micros.extend(mine.micros);
                }
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
    let mut r = std::mem::take(&mut *all.lock().map_err(|_| "poisoned")?);
    r.took = start.elapsed();
    Ok(r)
}

struct Held {
    normal: Run,
    peak: u64,
    reopened: u64,
}

/// Holds `n` connections open — half silent, half trickling a request head a byte a second —
/// re-opening those the server closes, while one client measures estimates.
fn hold(addr: SocketAddr, n: usize, d: Duration) -> Result<Held, String> {
    let done = Arc::new(AtomicBool::new(false));
    let open = Arc::new(AtomicU64::new(0));
    let peak = Arc::new(AtomicU64::new(0));
    let reopened = Arc::new(AtomicU64::new(0));
    let holders: Vec<_> = (0..4)
        .map(|k| {
            let (done, open, peak, reopened) =
                (done.clone(), open.clone(), peak.clone(), reopened.clone());
            std::thread::spawn(move || {
                let mut conns: Vec<Option<TcpStream>> = (0..n / 4).map(|_| None).collect();
                let head =
                    b"POST /v1/estimate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n";
                let mut tick = 0usize;
                let mut first = true;
                while !done.load(Ordering::Relaxed) {
                    for (i, slot) in conns.iter_mut().enumerate() {
                        if done.load(Ordering::Relaxed) {
                            break;
                        }
                        let alive = match slot.as_mut() {
                            None => false,
                            Some(s) if (i + k) % 2 == 1 => {
                                // Slow: one more byte of the head about once a second.
                                let at = (tick / 5) % head.len();
                                !tick.is_multiple_of(5) || s.write_all(&head[at..at + 1]).is_ok()
                            }
                            Some(s) => {
                                // Silent: closed by the server when it reads 0 bytes.
                                let _ = s.set_nonblocking(true);
                                let mut b = [0u8; 512];
                                !matches!(s.read(&mut b), Ok(0))
                            }
                        };
                        if !alive {
                            if slot.take().is_some() {
                                open.fetch_sub(1, Ordering::Relaxed);
                            }
                            if let Ok(s) = TcpStream::connect_timeout(&addr, Duration::from_secs(2))
                            {
                                *slot = Some(s);
                                let now = open.fetch_add(1, Ordering::Relaxed) + 1;
                                peak.fetch_max(now, Ordering::Relaxed);
                                if !first {
                                    reopened.fetch_add(1, Ordering::Relaxed);
                                }
                            }
                        }
                    }
                    first = false;
                    tick += 1;
                    std::thread::sleep(Duration::from_millis(200));
                }
            })
        })
        .collect();
    // Let the connections open, then measure for `d`.
    let t = Instant::now();
    while (open.load(Ordering::Relaxed) as usize) < n * 9 / 10 && t.elapsed() < d {
        std::thread::sleep(Duration::from_millis(100));
    }
    let normal = load(addr, 1, d, &request(ONE))?;
    done.store(true, Ordering::Relaxed);
    for h in holders {
        let _ = h.join();
    }
    Ok(Held {
        normal,
        peak: peak.load(Ordering::Relaxed),
        reopened: reopened.load(Ordering::Relaxed),
    })
}
