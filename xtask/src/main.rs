//! Project tasks: `cargo xtask test` runs every check CI runs; `cargo xtask demo` runs an
//! example estimate. Each step says what it does; the first failure stops the run.

use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("demo") => demo(),
        Some("serve") => serve(),
        Some("bench-server") => bench_server(),
        _ => {
            eprintln!("usage: cargo xtask <serve|test|demo|bench-server>\n  serve         build and run the API (and the page, once built) on http://127.0.0.1:8080\n  test          formatting, lints, unit/property/robustness tests, policy checks and vectors\n  demo          an example estimate with its explanation\n  bench-server  load the release server on 127.0.0.1 with wrk for 10 s; throughput, latency, peak RSS");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

fn step(what: &str, program: &str, args: &[&str]) -> Result<(), String> {
    eprintln!("==> {what}: {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .status()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed ({status})"))
    }
}

/// Installs a rustup component if this machine lacks it.
fn ensure_component(name: &str, probe: &[&str]) -> Result<(), String> {
    let ok = Command::new("cargo")
        .args(probe)
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        step(
            &format!("installing the {name} component"),
            "rustup",
            &["component", "add", name],
        )?;
    }
    Ok(())
}

fn yibao(args: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = ["run", "--quiet", "--release", "-p", "yibao-cli", "--"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    v.extend(args.iter().map(|s| s.to_string()));
    v
}

fn step_yibao(what: &str, args: &[&str]) -> Result<(), String> {
    let v = yibao(args);
    let refs: Vec<&str> = v.iter().map(String::as_str).collect();
    step(what, "cargo", &refs)
}

fn test() -> Result<(), String> {
    ensure_component("rustfmt", &["fmt", "--version"])?;
    ensure_component("clippy", &["clippy", "--version"])?;
    step("formatting", "cargo", &["fmt", "--all", "--", "--check"])?;
    step(
        "lints",
        "cargo",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    )?;
    step(
        "tests (unit, snapshot, property, robustness, CLI)",
        "cargo",
        &["test", "--workspace"],
    )?;
    step_yibao("bundled policies check clean", &["check"])?;
    step_yibao(
        "policies are in canonical form",
        &["fmt", "--check", "policies", "tests/vectors"],
    )?;
    step_yibao("shared test vectors", &["vectors", "tests/vectors"])?;
    Ok(())
}

fn demo() -> Result<(), String> {
    step_yibao(
        "example estimate (Tianjin resident, 低保, 300,000 inpatient bill)",
        &[
            "estimate",
            "--policy",
            "tianjin.resident",
            "--date",
            "2024-05-01",
            "--care",
            "inpatient",
            "--level",
            "3",
            "--total",
            "300000",
            "--out-of-list",
            "2000",
            "--category",
            "min_allowance",
        ],
    )
}

/// Loads the release server on loopback with wrk (installed from Debian's packages if missing):
/// single-claim estimates without trace, 10 seconds, then reports throughput, latency
/// percentiles and the server's peak resident memory.
fn bench_server() -> Result<(), String> {
    if Command::new("wrk").arg("--version").output().is_err() {
        step(
            "installing wrk",
            "apt-get",
            &["install", "-y", "-qq", "wrk"],
        )?;
    }
    step(
        "building the release binary",
        "cargo",
        &["build", "--release", "-p", "yibao-cli"],
    )?;
    let port = "18571";
    let mut server = Command::new("target/release/yibao")
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .env("RUST_LOG", "warn")
        .spawn()
        .map_err(|e| format!("cannot start the server: {e}"))?;
    let pid = server.id();
    let ready = (0..50).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        std::net::TcpStream::connect(format!("127.0.0.1:{port}")).is_ok()
    });
    let result = (|| {
        if !ready {
            return Err("the server did not start".to_string());
        }
        let script = std::env::temp_dir().join("yibao-wrk.lua");
        std::fs::write(
            &script,
            r#"wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"policy":"tianjin.resident","trace":false,"claim":{"date":"2024-05-01","care":"inpatient","level":"3","categories":["min_allowance"],"amounts":{"total":"300000","out_of_list":"2000"}}}'
"#,
        )
        .map_err(|e| e.to_string())?;
        let script = script.display().to_string();
        let url = format!("http://127.0.0.1:{port}/v1/estimate");
        eprintln!("==> wrk: 1 thread, 16 connections, 10 s, loopback only");
        let out = Command::new("wrk")
            .args(["-t1", "-c16", "-d10s", "--latency", "-s", &script, &url])
            .output()
            .map_err(|e| format!("cannot run wrk: {e}"))?;
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        print!("{text}");
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let hwm = status
            .lines()
            .find(|l| l.starts_with("VmHWM"))
            .unwrap_or("VmHWM: unknown")
            .to_string();
        println!("server peak resident memory ({hwm})");
        if text.contains("Non-2xx") {
            return Err("some responses were not 2xx".to_string());
        }
        Ok(())
    })();
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let _ = server.wait();
    result
}

/// Builds the release binary and serves on 127.0.0.1:8080 until Ctrl-C.
fn serve() -> Result<(), String> {
    step(
        "building the release binary",
        "cargo",
        &["build", "--release", "-p", "yibao-cli"],
    )?;
    step(
        "serving on http://127.0.0.1:8080 (Ctrl-C to stop)",
        "target/release/yibao",
        &["serve", "--addr", "127.0.0.1:8080"],
    )
}
