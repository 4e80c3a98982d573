use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::Exit;

#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on. Loopback by default; anything else exposes the API to the network.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Folder of the web page to serve at `/` (default: `www/` once `cargo xtask wasm` built it).
    #[arg(long)]
    www: Option<PathBuf>,
    /// Log format.
    #[arg(long, value_parser = ["text", "json"], default_value = "text")]
    log: String,
    /// Longest a request may take, in seconds.
    #[arg(long, default_value_t = 10)]
    timeout: u64,
    /// Policy files or folders loaded over the bundled policies (a file replaces the bundled
    /// version with the same id and effective date).
    #[arg(long, value_name = "PATH")]
    policies: Vec<PathBuf>,
    /// Print the OpenAPI document (what `/openapi.json` serves) and exit.
    #[arg(long)]
    openapi: bool,
}

pub fn run(a: Args) -> Exit {
    if a.openapi {
        println!("{}", yibao_server::openapi_document());
        return Exit::Ok;
    }
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    if a.log == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
    let www = a
        .www
        .or_else(|| Some(PathBuf::from("www")).filter(|p| p.join("pkg/yibao_wasm.js").is_file()));
    let config = yibao_server::Config {
        www,
        timeout: Duration::from_secs(a.timeout.max(1)),
        ..Default::default()
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return Exit::Usage;
        }
    };
    let extra = match crate::files::read_tree(&a.policies, &["policy"]) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::Usage;
        }
    };
    let exit = rt.block_on(async move {
        let registry = Arc::new(if extra.is_empty() {
            yibao::Registry::bundled()
        } else {
            yibao::with_drafts(extra)
        });
        if registry.has_errors() {
            eprintln!("error: the policies have errors; run `yibao check` on them");
            return Exit::Findings;
        }
        let listener = match tokio::net::TcpListener::bind(a.addr).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("error: cannot listen on {}: {e}", a.addr);
                return Exit::Usage;
            }
        };
        let shown = listener
            .local_addr()
            .map(|x| x.to_string())
            .unwrap_or_else(|_| a.addr.to_string());
        eprintln!(
            "yibao: serving on http://{shown}  (API docs: http://{shown}/docs; Ctrl-C to stop)"
        );
        match yibao_server::serve(listener, registry, config, yibao_server::shutdown_signal()).await
        {
            Ok(()) => Exit::Ok,
            Err(e) => {
                eprintln!("error: {e}");
                Exit::Findings
            }
        }
    });
    // Computations of requests cut off at the shutdown deadline stop between claims; do not wait
    // long for one that is mid-claim.
    rt.shutdown_timeout(Duration::from_secs(1));
    exit
}
