//! Connections: accepting under a cap, hyper's header-read timeout (which also closes idle
//! keep-alive connections), and a graceful shutdown with a deadline after which the connections
//! still open are closed.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use yibao::Registry;

use crate::Config;

/// How loaded the server is, shared by the accept loop, the handlers and `/readyz`.
#[derive(Debug)]
pub(crate) struct Load {
    /// Open connections.
    pub connections: AtomicUsize,
    pub max_connections: usize,
    /// Requests waiting for a computing slot.
    pub waiting: AtomicUsize,
    pub queue: usize,
    /// Computing slots (settling, checking): the CPU work at once.
    pub slots: Arc<Semaphore>,
    pub concurrency: usize,
    /// Set when shutdown began.
    pub draining: AtomicBool,
}

impl Load {
    pub fn new(c: &Config) -> Arc<Load> {
        let concurrency = c.concurrency.max(1);
        Arc::new(Load {
            connections: AtomicUsize::new(0),
            max_connections: c.max_connections.max(1),
            waiting: AtomicUsize::new(0),
            queue: c.queue.max(1),
            slots: Arc::new(Semaphore::new(concurrency)),
            concurrency,
            draining: AtomicBool::new(false),
        })
    }

    /// Why the server should not be sent more work now, if it should not.
    pub fn saturated(&self) -> Option<String> {
        let open = self.connections.load(Ordering::Relaxed);
        let waiting = self.waiting.load(Ordering::Relaxed);
        if self.draining.load(Ordering::Relaxed) {
            Some("shutting down".into())
        } else if open.saturating_mul(10) >= self.max_connections.saturating_mul(9) {
            Some(format!(
                "{open} of at most {} connections are open",
                self.max_connections
            ))
        } else if waiting.saturating_mul(2) >= self.queue {
            Some(format!(
                "{waiting} requests are waiting for one of {} computing slots (at most {} may wait)",
                self.concurrency, self.queue
            ))
        } else {
            None
        }
    }
}

/// Counts a connection while it is open.
struct Open(Arc<Load>);

impl Open {
    fn new(load: &Arc<Load>) -> Open {
        load.connections.fetch_add(1, Ordering::Relaxed);
        Open(load.clone())
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        self.0.connections.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Serves until `shutdown` resolves; then stops accepting, lets the requests under way finish
/// for at most `config.shutdown_grace`, and closes whatever is still open.
pub async fn serve(
    listener: tokio::net::TcpListener,
    registry: Arc<Registry>,
    config: Config,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let load = Load::new(&config);
    let app = crate::router(registry, &config, load.clone());
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        // From the connection's start, and again while a keep-alive connection waits for its next
        // request: a client that sends no complete head in time is closed.
        .header_read_timeout(config.header_timeout)
        .keep_alive(true)
        .max_buf_size(crate::MAX_HEAD_BUF)
        .max_headers(crate::MAX_HEADERS * 2);
    let slots = Arc::new(Semaphore::new(load.max_connections));
    let graceful = GracefulShutdown::new();
    let mut conns = JoinSet::new();
    let shutdown = std::pin::pin!(shutdown);
    let mut shutdown = shutdown;
    loop {
        while conns.try_join_next().is_some() {}
        // At the cap, stop accepting until a connection closes (new ones wait in the backlog).
        let permit = tokio::select! {
            _ = &mut shutdown => break,
            p = slots.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let stream = tokio::select! {
            _ = &mut shutdown => break,
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                Err(e) => {
                    // Out of file descriptors or a connection reset before accept: wait a moment
                    // instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let open = Open::new(&load);
        let conn =
            http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone()));
        let conn = graceful.watch(conn);
        conns.spawn(async move {
            let _permit = permit;
            let _open = open;
            let _ = conn.await;
        });
    }
    drop(listener);
    load.draining.store(true, Ordering::Relaxed);
    tracing::info!(
        open = load.connections.load(Ordering::Relaxed),
        "shutting down: finishing requests under way"
    );
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(config.shutdown_grace) => {
            tracing::warn!(
                open = load.connections.load(Ordering::Relaxed),
                "shutdown deadline reached: closing the connections still open"
            );
            conns.abort_all();
        }
    }
    while conns.join_next().await.is_some() {}
    Ok(())
}
