//! Project tasks: `cargo xtask serve` builds and serves the page and the API; `cargo xtask test`
//! runs every check CI runs; `cargo xtask demo` runs an example estimate. Each step says what it
//! does and shows the tools' own output (cargo's progress too); the first failure stops the run.
//! Build outputs go to `$CARGO_TARGET_DIR` (default `target/`).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::Mutex;
use std::time::{Duration, Instant};

mod mutants;
mod npm;
mod peers;
mod pyclient;
mod python;
mod soak;

fn main() -> ExitCode {
    if let Err(e) = at_workspace_root() {
        eprintln!("xtask: {e}");
        return ExitCode::FAILURE;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("demo") => demo(),
        Some("serve") => serve(&args[1..]),
        Some("wasm") => wasm().map(|_| ()),
        Some("conformance") => conformance(),
        Some("browser") => conformance().and_then(|_| browser()),
        Some("bench-server") => bench_server(),
        Some("bench-batch") => bench_batch(&args[1..]),
        Some("fuzz") => fuzz(&args[1..]),
        Some("bench-wasm") => bench_wasm(),
        Some("bench-page") => bench_page(),
        Some("bench-peers") => peers::bench(&args[1..]),
        Some("soak") => soak::soak(&args[1..]),
        Some("python") => python::python(),
        Some("pyclient") => pyclient::pyclient(),
        Some("bench-python") => python::bench(&args[1..]),
        Some("npm") => npm::npm(),
        Some("mutants") => mutants::mutants(&args[1..]),
        _ => {
            eprintln!("usage: cargo xtask <serve|test|demo|…>\n  serve [--addr A] [--debug]  build the wasm module and the (release) server, then serve the page and the API on http://127.0.0.1:8080\n  wasm          build the WebAssembly module (www/pkg for the page, target/wasm/node for Node)\n  conformance   every vector and 10,000 random requests: native vs wasm in Node, byte for byte\n  browser       the page in headless Chromium (installed from Debian if missing): form, errors, no requests, screenshots\n  test          formatting, lints, unit/property/robustness tests, policy checks, vectors, conformance, npm, Python clients and package, browser\n  demo          an example estimate with its explanation\n  bench-server  load the release server on 127.0.0.1 with wrk for 10 s; throughput, latency, peak RSS\n  bench-batch [CLAIMS…]  generate synthetic claim files (default 1,000,000 and 10,000,000) and time `yibao batch`: wall, claims/s, peak RSS\n  bench-wasm    the same estimates natively and through the wasm module in Node: throughput ratio\n  bench-page    the page in Chromium: load to first result, one estimate (median of 200)\n  bench-peers [CLAIMS] [REPS]  ../shared/bench-peers' workload: yibao batch beside the hand-written peers, checked claim by claim (default 1,000,000 claims, 3 runs)\n  soak [SECONDS]  the release server on 127.0.0.1 under load: estimates at c=1/16/64, 10,000 idle/slow connections, explained batches, SIGTERM with a stuck client (default 10 s a phase)\n  mutants [--file F]… [--jobs N] [--minutes M] [--shard K/N] [--list]  cargo-mutants on the money code (engine's money.rs, settle.rs, settle/*.rs) with the engine's tests; per-file counts (see crates/yibao-engine/MUTANTS.md)\n  python        the Python package: wheel, fresh-venv install, pytest against the CLI (Spark local[2], DuckDB, Polars)\n  bench-python [PERSONS]  settle_table and the PySpark recipe beside yibao batch on the same claims (default 154,000 persons ≈ 1,000,000 claims)\n  fuzz [N]      run N generated and mutated inputs (default 10,000,000) through the policy parser/checker, the claim decoder and settle, in release mode\n  pyclient      a Python client generated from /openapi.json (openapi-python-client, pinned): every vector through it\n  npm           the npm package @yibao/engine (packages/npm): built, packed, installed into a fresh project and tested (every vector, ESM and CommonJS, tsc)");
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

/// Runs from the workspace root whatever the caller's directory; a relative `CARGO_TARGET_DIR`
/// keeps meaning what it meant there.
fn at_workspace_root() -> Result<(), String> {
    let here = std::env::current_dir().map_err(|e| e.to_string())?;
    if let Some(t) = std::env::var_os("CARGO_TARGET_DIR").filter(|t| !t.is_empty()) {
        std::env::set_var("CARGO_TARGET_DIR", here.join(t));
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("xtask is not inside a workspace")?;
    std::env::set_current_dir(root).map_err(|e| format!("cannot enter {}: {e}", root.display()))
}

/// Where cargo puts build outputs: `$CARGO_TARGET_DIR`, else `target/`.
pub(crate) fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .filter(|t| !t.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target"))
}

/// A path under the target directory.
fn target(rel: &str) -> PathBuf {
    target_dir().join(rel)
}

/// Every step run, how long it took and whether it passed: `cargo xtask test`'s summary.
static STEPS: Mutex<Vec<(String, Duration, bool)>> = Mutex::new(Vec::new());

fn record(what: &str, took: Duration, ok: bool) {
    if let Ok(mut s) = STEPS.lock() {
        s.push((what.to_string(), took, ok));
    }
}

fn step(what: &str, program: &str, args: &[&str]) -> Result<(), String> {
    eprintln!("==> {what}: {program} {}", args.join(" "));
    let t0 = Instant::now();
    let status = Command::new(program)
        .args(args)
        .status()
        .map_err(|e| format!("cannot run {program}: {e}"));
    let ok = status.as_ref().is_ok_and(|s| s.success());
    record(what, t0.elapsed(), ok);
    match status? {
        s if s.success() => Ok(()),
        s => Err(format!("{what} failed ({s})")),
    }
}

fn took(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{}.{}s", s, d.subsec_millis() / 100)
    }
}

/// One line for everything a run did: each step with its time, and the outcome.
fn summary(result: &Result<(), String>, t0: Instant) -> String {
    let steps = STEPS.lock().map(|s| s.clone()).unwrap_or_default();
    let passed = steps.iter().filter(|s| s.2).count();
    let list: Vec<String> = steps
        .iter()
        .map(|(w, d, ok)| format!("{}{w} {}", if *ok { "" } else { "FAILED " }, took(*d)))
        .collect();
    let outcome = match result {
        Ok(()) => format!("all {} steps passed", steps.len()),
        Err(_) => format!("FAILED: {passed} of {} steps passed", steps.len()),
    };
    format!(
        "xtask test: {outcome} in {} — {}",
        took(t0.elapsed()),
        list.join("; ")
    )
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

/// Installs Debian packages with apt-get: said before it runs, apt's own output shown. Where it
/// cannot (not root, no apt-get, the apt lock held), the error says what to install by hand.
fn apt_install(packages: &[&str], why: &str) -> Result<(), String> {
    let names = packages.join(" ");
    let by_hand = format!("install by hand: sudo apt-get install {names}");
    if !installed_at("apt-get", "--version") {
        return Err(format!(
            "{names} missing and no apt-get here; {by_hand} (or your system's equivalent)"
        ));
    }
    if !is_root() {
        return Err(format!(
            "{names} missing and not root, so not installing; {by_hand}"
        ));
    }
    eprintln!("==> installing {names} with apt-get ({why}); apt's output follows");
    std::env::set_var("DEBIAN_FRONTEND", "noninteractive");
    let mut install = vec!["install", "-y", "--no-install-recommends"];
    install.extend(packages);
    step("updating the package lists", "apt-get", &["update"])
        .and_then(|_| step(&format!("installing {names}"), "apt-get", &install))
        .map_err(|e| format!("{e} (is another apt-get running?); {by_hand}"))
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
    let t0 = Instant::now();
    let result = test_steps();
    eprintln!("{}", summary(&result, t0));
    result
}

fn test_steps() -> Result<(), String> {
    ensure_component("rustfmt", &["fmt", "--version"])?;
    ensure_component("clippy", &["clippy", "--version"])?;
    no_conflict_markers()?;
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
        "the benchmark policy checks clean",
        &["check", "bench/policies"],
    )?;
    step_yibao(
        "policies are in canonical form",
        &[
            "fmt",
            "--check",
            "policies",
            "tests/vectors",
            "bench/policies",
        ],
    )?;
    step_yibao("shared test vectors", &["vectors", "tests/vectors"])?;
    step(
        "the published crates list their files (cargo package --list)",
        "cargo",
        &[
            "package",
            "--list",
            "--allow-dirty",
            "--quiet",
            "-p",
            "yibao-engine",
            "-p",
            "yibao-lang",
            "-p",
            "yibao-policies",
            "-p",
            "yibao-compliance",
            "-p",
            "yibao",
        ],
    )?;
    // A Python client generated from /openapi.json, every vector through it (about 1.5 minutes
    // with a fresh venv).
    pyclient::pyclient()?;
    let t0 = Instant::now();
    let peers = peers::verify(20_000);
    record(
        "benchmark policy equals the hand-written peer claim by claim",
        t0.elapsed(),
        peers.is_ok(),
    );
    peers?;
    conformance()?;
    // The npm package: the wasm module conformance just built, packed and tested (about 25 s).
    npm::npm()?;
    browser()?;
    // The Python package: wheel, fresh-venv install, pytest with Spark local[2], DuckDB, Polars.
    python::python()?;
    Ok(())
}

/// A merge left half done shows as conflict markers at the start of a line; rustfmt catches them
/// in Rust files only. Any tracked file with one fails the run, naming the place.
fn no_conflict_markers() -> Result<(), String> {
    eprintln!("==> no merge conflict markers: git grep");
    let t0 = Instant::now();
    let out = Command::new("git")
        .args([
            "grep",
            "-n",
            "-I",
            "-E",
            "^(<{7}|>{7})( |$)|^={7}$",
            "--",
            ".",
            ":!*.snap",
        ])
        .output()
        .map_err(|e| format!("cannot run git grep: {e}"))?;
    // git grep exits 1 when nothing matches, 0 when something does, 128 outside a repository.
    let found = out.status.code() == Some(0);
    record("no merge conflict markers", t0.elapsed(), !found);
    if found {
        return Err(format!(
            "merge conflict markers left in:\n{}",
            String::from_utf8_lossy(&out.stdout)
        ));
    }
    if out.status.code() != Some(1) {
        eprintln!("    (not a git checkout: skipped)");
    }
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
        apt_install(&["wrk"], "the HTTP load generator")?;
    }
    step(
        "building the release binary",
        "cargo",
        &["build", "--release", "-p", "yibao-cli"],
    )?;
    let port = "18571";
    let binary = target("release/yibao");
    let (mut server, ready) = start_server(&binary, port, false)?;
    let pid = server.id();
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

/// `cargo xtask serve [--addr A] [--debug]`: everything the page needs, then the page and the
/// API until Ctrl-C. The server is the release build (the one `cargo xtask test` builds and
/// tests, so a test run leaves it ready); `--debug` serves the dev build instead. Each step is named and shows cargo's own progress; a second run with nothing
/// changed skips the wasm post-processing (cargo's own no-op does the rest).
fn serve(args: &[String]) -> Result<(), String> {
    let mut addr = "127.0.0.1:8080".to_string();
    let mut release = true;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--addr" => addr = it.next().ok_or("--addr needs host:port")?.clone(),
            // The default; still accepted from earlier instructions.
            "--release" => release = true,
            "--debug" => release = false,
            _ => {
                return Err(format!(
                    "serve: unknown argument `{a}` (--addr HOST:PORT, --debug)"
                ))
            }
        }
    }
    let t0 = Instant::now();
    let profile = if release { "release" } else { "debug" };
    eprintln!(
        "==> cargo xtask serve: [1/3] the page's WebAssembly module and JS glue (www/pkg), \
         [2/3] the yibao server ({profile} build), [3/3] serve page and API on http://{addr}/\n    \
         A first build compiles the project twice (for the browser and for this machine); \
         cargo shows its progress below."
    );
    eprintln!("==> [1/3] the page's WebAssembly module");
    wasm()?;
    eprintln!("==> [2/3] the yibao server ({profile} build)");
    let mut build = vec!["build", "-p", "yibao-cli"];
    if release {
        build.push("--release");
    }
    step("[2/3] compiling yibao-cli", "cargo", &build)?;
    eprintln!("==> [3/3] starting the server on {addr}");
    let binary = target(&format!("{profile}/yibao"));
    let mut server = Command::new(&binary)
        .args(["serve", "--addr", &addr, "--www", "www"])
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(Some(status)) = server.try_wait() {
            return Err(format!(
                "the server stopped ({status}); see its message above"
            ));
        }
        if std::net::TcpStream::connect(&addr).is_ok() {
            break;
        }
        if Instant::now() > deadline {
            let _ = server.kill();
            return Err(format!(
                "the server did not accept connections on {addr} within 30 s"
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!(
        "==> ready after {}: open http://{addr}/ in a browser (the API's documentation: \
         http://{addr}/docs). Ctrl-C stops the server.",
        took(t0.elapsed())
    );
    let status = server.wait().map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("the server stopped ({status})"))
    }
}

/// A change detector for built files (not cryptographic): std's SipHash with fixed keys.
fn fingerprint(bytes: &[u8]) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    bytes.hash(&mut h);
    format!("{:016x}", h.finish())
}

/// Builds the wasm module: `www/pkg/` (for the page) and `$CARGO_TARGET_DIR/wasm/node/` (for
/// Node), using wasm-bindgen as a library (no separate CLI to install), then wasm-opt when it is
/// installed. When rustc's module is the one the outputs were made from, and they are all there,
/// wasm-opt and wasm-bindgen are skipped.
fn wasm() -> Result<PathBuf, String> {
    let has_target = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("wasm32-unknown-unknown"))
        .unwrap_or(false);
    if !has_target {
        step(
            "installing the wasm32 target",
            "rustup",
            &["target", "add", "wasm32-unknown-unknown"],
        )?;
    }
    if !installed("wasm-opt") {
        // binaryen's wasm-opt makes the page's module smaller; without it the build still works.
        if let Err(e) = apt_install(&["binaryen"], "wasm-opt makes the page's module smaller") {
            eprintln!("    {e}\n    going on without wasm-opt: the module works, only larger");
        }
    }
    let opt = installed("wasm-opt");
    let input = target("wasm32-unknown-unknown/wasm/yibao_wasm.wasm");
    let node = target("wasm/node");
    let node_out = node.display().to_string();
    // The citizen page's lean module (and the Node copy for conformance), then the playground's
    // module with the drafter tools.
    for (features, outs) in [
        ("", vec![("www/pkg", true), (node_out.as_str(), false)]),
        ("drafter", vec![("www/pkg-drafter", true)]),
    ] {
        let mut args = vec![
            "build",
            "-p",
            "yibao-wasm",
            "--target",
            "wasm32-unknown-unknown",
            "--profile",
            "wasm",
        ];
        if !features.is_empty() {
            args.extend(["--features", features]);
        }
        step(
            &format!(
                "compiling yibao-wasm for wasm32{}",
                if features.is_empty() {
                    String::new()
                } else {
                    format!(" (features: {features})")
                }
            ),
            "cargo",
            &args,
        )?;
        let built =
            std::fs::read(&input).map_err(|e| format!("cannot read {}: {e}", input.display()))?;
        let key = format!("{} wasm-opt={opt}", fingerprint(&built));
        let stamp = target(&format!(
            "wasm/stamp-{}",
            if features.is_empty() {
                "page"
            } else {
                features
            }
        ));
        let complete = outs.iter().all(|(out, _)| {
            Path::new(out).join("yibao_wasm.js").is_file()
                && Path::new(out).join("yibao_wasm_bg.wasm").is_file()
        });
        if complete && std::fs::read_to_string(&stamp).is_ok_and(|s| s == key) {
            let names: Vec<&str> = outs.iter().map(|o| o.0).collect();
            eprintln!(
                "    {}: up to date (the module did not change)",
                names.join(", ")
            );
            continue;
        }
        let _ = std::fs::remove_file(&stamp);
        // wasm-opt runs on rustc's output, before wasm-bindgen: run after it, Debian's binaryen
        // breaks the externref table wasm-bindgen adds ("Table.grow failed").
        let optimized = target("wasm/opt/yibao_wasm.wasm");
        let module = if opt {
            std::fs::create_dir_all(target("wasm/opt")).map_err(|e| e.to_string())?;
            let (i, o) = (input.display().to_string(), optimized.display().to_string());
            step(
                "wasm-opt -Os",
                "wasm-opt",
                &[
                    "-Os",
                    "--enable-bulk-memory",
                    "--enable-nontrapping-float-to-int",
                    "--enable-sign-ext",
                    "--enable-mutable-globals",
                    "--enable-reference-types",
                    "--enable-multivalue",
                    &i,
                    "-o",
                    &o,
                ],
            )?;
            optimized.clone()
        } else {
            input.clone()
        };
        for (out, web) in &outs {
            bindgen(&module, out, *web)?;
        }
        std::fs::create_dir_all(target("wasm")).map_err(|e| e.to_string())?;
        std::fs::write(&stamp, key).map_err(|e| e.to_string())?;
    }
    copy_vectors("www/pkg-drafter/vectors")?;
    Ok(node)
}

fn bindgen(input: &std::path::Path, out: &str, web: bool) -> Result<(), String> {
    eprintln!("==> wasm-bindgen → {out}");
    // Start clean: nothing stale from an earlier build is served.
    let _ = std::fs::remove_dir_all(out);
    let mut b = wasm_bindgen_cli_support::Bindgen::new();
    b.input_path(input).typescript(true);
    if web {
        b.web(true).map_err(|e| e.to_string())?;
    } else {
        b.nodejs(true).map_err(|e| e.to_string())?;
    }
    b.generate(out).map_err(|e| format!("wasm-bindgen: {e}"))?;
    let wasm = format!("{out}/yibao_wasm_bg.wasm");
    let size = std::fs::metadata(&wasm).map(|m| m.len()).unwrap_or(0);
    eprintln!("    {wasm}: {size} bytes");
    Ok(())
}

/// The shared vectors, for the playground to run in the browser: `<dir>/<region>/<file>.yaml`
/// and `<dir>/index.json` (`{region: [file, …]}`).
fn copy_vectors(dir: &str) -> Result<(), String> {
    let mut files = vec![];
    walk(std::path::Path::new("tests/vectors"), "yaml", &mut files)?;
    let mut index: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (name, text) in files {
        let rel = name.trim_start_matches("tests/vectors/").to_string();
        let (region, file) = rel.split_once('/').unwrap_or(("", &rel));
        if region.is_empty() || region == "fixture" {
            continue;
        }
        let target = std::path::Path::new(dir).join(&rel);
        if let Some(p) = target.parent() {
            std::fs::create_dir_all(p).map_err(|e| e.to_string())?;
        }
        std::fs::write(&target, text).map_err(|e| e.to_string())?;
        index
            .entry(region.to_string())
            .or_default()
            .push(file.to_string());
    }
    std::fs::write(
        std::path::Path::new(dir).join("index.json"),
        serde_json::to_string(&index).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())
}

/// The answer as the wasm module frames it: `{"ok":true,"answer":…}` or `{"ok":false,"error":…}`.
fn framed(reg: &yibao::Registry, request: &str) -> String {
    match yibao::estimate_json(reg, request) {
        Ok(a) => format!("{{\"ok\":true,\"answer\":{a}}}"),
        Err(e) => format!(
            "{{\"ok\":false,\"error\":{}}}",
            serde_json::to_string(&e).unwrap_or_default()
        ),
    }
}

fn walk(dir: &std::path::Path, ext: &str, out: &mut Vec<(String, String)>) -> Result<(), String> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| e.to_string())?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, ext, out)?;
        } else if p.extension().is_some_and(|x| x == ext) {
            out.push((
                p.display().to_string(),
                std::fs::read_to_string(&p).map_err(|e| e.to_string())?,
            ));
        }
    }
    Ok(())
}

/// xorshift64, seeded: the same 10,000 requests every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> Option<&'a T> {
        if v.is_empty() {
            None
        } else {
            v.get((self.next() % v.len() as u64) as usize)
        }
    }
}

/// Writes every vector's request and 10,000 seeded random requests with their native answers,
/// then replays them through the wasm module in Node and compares the bytes.
fn conformance() -> Result<(), String> {
    let node_pkg = wasm()?;
    if Command::new("node").arg("--version").output().is_err() {
        return Err("node is not installed (Debian: apt-get install nodejs)".into());
    }
    let mut policies = vec![];
    let mut vectors = vec![];
    walk(
        std::path::Path::new("tests/vectors"),
        "policy",
        &mut policies,
    )?;
    walk(std::path::Path::new("tests/vectors"), "yaml", &mut vectors)?;
    let mut all = yibao::policies::bundled_files();
    all.extend(policies.clone());
    let with_fixtures = yibao::Registry::from_files(all);
    let bundled = yibao::Registry::bundled();
    let mut cases = vec![];
    for (name, text) in &vectors {
        for v in yibao::vectors::parse_vectors(text).map_err(|e| format!("{name}: {e}"))? {
            let request = serde_json::to_string(&yibao::vectors::request_of(&v))
                .map_err(|e| e.to_string())?;
            let native = framed(&with_fixtures, &request);
            cases.push(serde_json::json!({"id": v.id, "fixtures": true, "request": request, "native": native}));
        }
    }
    // Random requests over the bundled policies: single claims and years of claims.
    let versions = yibao::list_versions(&bundled);
    let mut rng = Rng(0x00C0_FFEE);
    for i in 0..10_000u32 {
        let Some(v) = rng.pick(&versions) else { break };
        let dims = v.dims.clone().unwrap_or_default();
        let n = if rng.next() % 10 < 7 {
            1
        } else {
            2 + rng.next() % 4
        };
        // Care policies are recent: their months fall in the years they are in force.
        let year = match v.care {
            Some(_) => v.effective.year() + (rng.next() % 3) as i32,
            None => 2008 + (rng.next() % 18) as i32,
        };
        let mut claims = vec![];
        for k in 0..n {
            let total = (rng.next() % 40_000_000) as i64 + 1;
            let ool = total * (rng.next() % 30) as i64 / 100;
            let mut c = serde_json::json!({
                "person": format!("p{i}"),
                "date": format!("{year}-{:02}-{:02}", 1 + (k * 2) % 12, 1 + rng.next() % 28),
                "care": rng.pick(&dims.care).map(|d| d.id.to_string()).unwrap_or_default(),
                "level": rng.pick(&dims.levels).map(|d| d.id.to_string()),
                "group": rng.pick(&dims.groups).map(|d| d.id.to_string()),
                "referral": rng.next().is_multiple_of(5),
                "amounts": {"total": format!("{}.{:02}", total / 100, total % 100), "out_of_list": format!("{}.{:02}", ool / 100, ool % 100)},
            });
            if rng.next().is_multiple_of(3) {
                if let Some(cat) = rng.pick(&dims.categories) {
                    c["categories"] = serde_json::json!([cat.id.to_string()]);
                }
            }
            if rng.next().is_multiple_of(3) {
                if let Some(d) = rng.pick(&dims.diseases) {
                    c["disease"] = serde_json::json!(d.id.to_string());
                }
            }
            // A care policy settles a month of care: some of the facts it reads and of its cost
            // kinds, the total their sum (in place of the bill above).
            if let Some(care) = &v.care {
                let days = 1 + rng.next() % 31;
                let mut month = serde_json::json!({"costs": {}});
                for f in &care.facts {
                    if rng.next().is_multiple_of(5) {
                        continue;
                    }
                    month[f.as_str()] = match f.as_str() {
                        "days" => days,
                        "hospital_days" => rng.next() % (days / 4 + 1),
                        "age" => 10 + rng.next() % 90,
                        "hours" => rng.next() % 60,
                        _ => rng.next() % 30,
                    }
                    .into();
                }
                let mut sum = 0;
                for k in &care.costs {
                    if !rng.next().is_multiple_of(3) {
                        let fen = rng.next() % 500_000;
                        sum += fen;
                        month["costs"][k.as_str()] =
                            format!("{}.{:02}", fen / 100, fen % 100).into();
                    }
                }
                c["amounts"] =
                    serde_json::json!({"total": format!("{}.{:02}", sum / 100, sum % 100)});
                c["month"] = month;
            }
            claims.push(c);
        }
        let request =
            serde_json::json!({"policy": v.id, "trace": i.is_multiple_of(10), "claims": claims})
                .to_string();
        let native = framed(&bundled, &request);
        cases.push(serde_json::json!({"id": format!("random-{i}"), "fixtures": false, "request": request, "native": native}));
    }
    std::fs::create_dir_all(target("conformance")).map_err(|e| e.to_string())?;
    let cases_path = target("conformance/cases.json");
    let cases_file = cases_path
        .to_str()
        .ok_or("the target directory's path is not UTF-8")?;
    std::fs::write(
        cases_file,
        serde_json::to_string(&serde_json::json!({"fixtures": policies, "cases": cases}))
            .map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let module = node_pkg.join("yibao_wasm.js");
    step(
        "native vs wasm in Node, byte for byte",
        "node",
        &[
            "tests/node/conformance.mjs",
            cases_file,
            &module.display().to_string(),
        ],
    )
}

fn installed(cmd: &str) -> bool {
    installed_at(cmd, "--version")
}

fn installed_at(cmd: &str, probe: &str) -> bool {
    Command::new(cmd)
        .arg(probe)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The page in a real browser: the system Chromium (Debian's package; Playwright's own download
/// cannot work here) driven by playwright-core from npm. Screenshots go to artifacts/.
fn browser() -> Result<(), String> {
    let font = Path::new("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc").exists();
    if !installed("chromium") || !font {
        apt_install(
            &["chromium", "fonts-wqy-microhei"],
            "the browser tests drive Debian's Chromium; the font draws Chinese",
        )?;
    }
    npm_ci()?;
    // The release build: `cargo xtask serve` serves it, and `cargo xtask test` has built it.
    step(
        "building the release yibao binary",
        "cargo",
        &["build", "--release", "-q", "-p", "yibao-cli"],
    )?;
    let artifacts = std::env::current_dir()
        .map_err(|e| e.to_string())?
        .join("artifacts");
    // First, as a new user: no page build output, then `cargo xtask serve`, then the page.
    node_tests(
        "`cargo xtask serve` from a clean www/ build output shows the citizen page",
        &["serve.test.mjs"],
        &[("YIBAO_ARTIFACTS", artifacts.as_os_str())],
    )?;
    let port = "18570";
    let (mut server, ready) = start_server(&target("release/yibao"), port, true)?;
    let cases =
        std::fs::canonicalize(target("conformance/cases.json")).map_err(|e| e.to_string())?;
    let url = format!("http://127.0.0.1:{port}");
    let result = if ready {
        node_tests(
            "the page and the playground in headless Chromium",
            &["page.test.mjs", "citizen.test.mjs", "playground.test.mjs"],
            &[
                ("YIBAO_URL", url.as_ref()),
                ("YIBAO_CASES", cases.as_os_str()),
                ("YIBAO_ARTIFACTS", artifacts.as_os_str()),
            ],
        )
    } else {
        Err("the server did not start".to_string())
    };
    let _ = server.kill();
    let _ = server.wait();
    result
}

/// `node --test FILES…` in tests/browser, with the environment given.
fn node_tests(what: &str, files: &[&str], env: &[(&str, &std::ffi::OsStr)]) -> Result<(), String> {
    eprintln!("==> {what}: node --test {}", files.join(" "));
    let t0 = Instant::now();
    let status = Command::new("node")
        .arg("--test")
        .args(files)
        .current_dir("tests/browser")
        .envs(env.iter().copied())
        .status()
        .map_err(|e| format!("cannot run node: {e}"));
    let ok = status.as_ref().is_ok_and(|s| s.success());
    record(what, t0.elapsed(), ok);
    match status? {
        s if s.success() => Ok(()),
        s => Err(format!("{what}: failed ({s})")),
    }
}

/// `cargo xtask bench-batch [CLAIMS…]`: synthetic files of about CLAIMS claims each (6.5 claims
/// per person on average), then `yibao batch` over each with the elapsed time and peak memory it
/// reports. Files go to target/bench/ and are reused.
fn bench_batch(args: &[String]) -> Result<(), String> {
    let sizes: Vec<u64> = if args.is_empty() {
        vec![1_000_000, 10_000_000]
    } else {
        args.iter()
            .map(|a| {
                a.replace(['_', ','], "")
                    .parse()
                    .map_err(|_| format!("`{a}` is not a number of claims"))
            })
            .collect::<Result<_, _>>()?
    };
    step(
        "building the release binary",
        "cargo",
        &["build", "--release", "-p", "yibao-cli"],
    )?;
    std::fs::create_dir_all(target("bench")).map_err(|e| e.to_string())?;
    let yibao = target("release/yibao");
    let yibao = yibao
        .to_str()
        .ok_or("the target directory's path is not UTF-8")?;
    let bench = target("bench").display().to_string();
    for n in sizes {
        let persons = (n * 2 / 13).max(1).to_string();
        let input = format!("{bench}/claims-{n}.csv");
        if !std::path::Path::new(&input).exists() {
            step(
                &format!("generating about {n} claims ({persons} persons)"),
                yibao,
                &[
                    "gen",
                    "--persons",
                    &persons,
                    "--seed",
                    "2024",
                    "--output",
                    &input,
                ],
            )?;
        }
        let output = format!("{bench}/settled-{n}.csv");
        eprintln!("==> yibao batch over {input}");
        let out = Command::new(yibao)
            .args(["batch", "--input", &input, "--output", &output])
            .output()
            .map_err(|e| format!("cannot run yibao batch: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "yibao batch failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let text = String::from_utf8_lossy(&out.stdout);
        println!("{}", text.lines().next().unwrap_or(""));
        println!("{}", text.lines().nth(1).unwrap_or(""));
        let _ = std::fs::remove_file(&output);
    }
    Ok(())
}

/// `cargo xtask fuzz [N]`: the bounded generator-based fuzz run (stable Rust; no nightly needed).
fn fuzz(args: &[String]) -> Result<(), String> {
    let n = args
        .first()
        .map(|a| a.replace(['_', ','], ""))
        .unwrap_or_else(|| "10000000".into());
    n.parse::<u64>()
        .map_err(|_| format!("`{n}` is not a number of inputs"))?;
    step(
        &format!("fuzzing with {n} inputs (release mode)"),
        "cargo",
        &[
            "run",
            "--release",
            "-q",
            "-p",
            "yibao-fuzz",
            "--",
            "--inputs",
            &n,
        ],
    )
}

/// `cargo xtask bench-wasm`: estimates for a seeded sample (one request per person's year, no
/// trace), timed natively (release build) and through the wasm module in Node; the fastest of 5
/// rounds each.
fn bench_wasm() -> Result<(), String> {
    let node_pkg = wasm()?;
    let reg = yibao::Registry::bundled();
    let opts = yibao::sample::SampleOptions {
        persons: 2000,
        seed: 7,
        year: 2024,
        policy: None,
    };
    let mut requests: Vec<String> = vec![];
    let mut claims = 0u128;
    let mut current: Vec<yibao::Claim> = vec![];
    let flush = |current: &mut Vec<yibao::Claim>, requests: &mut Vec<String>| {
        if current.is_empty() {
            return;
        }
        let req = yibao::EstimateRequest {
            claims: std::mem::take(current),
            trace: false,
            ..yibao::EstimateRequest::default()
        };
        requests.push(serde_json::to_string(&req).unwrap_or_default());
    };
    for c in yibao::sample::sample(&reg, &opts)? {
        claims += 1;
        if current.last().is_some_and(|l| l.person != c.person) {
            flush(&mut current, &mut requests);
        }
        current.push(c);
    }
    flush(&mut current, &mut requests);
    std::fs::create_dir_all(target("bench")).map_err(|e| e.to_string())?;
    let file_path = target("bench/requests.json");
    let file = file_path
        .to_str()
        .ok_or("the target directory's path is not UTF-8")?;
    let rounds = 20u32;
    std::fs::write(
        file,
        serde_json::json!({"requests": requests, "claims": claims as u64, "rounds": rounds})
            .to_string(),
    )
    .map_err(|e| e.to_string())?;
    let timed = |program: &str, args: &[&str]| -> Result<(u128, u128), String> {
        eprintln!("==> {program} {}", args.join(" "));
        let out = Command::new(program)
            .args(args)
            .output()
            .map_err(|e| format!("cannot run {program}: {e}"))?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).to_string());
        }
        let v: serde_json::Value =
            serde_json::from_slice(&out.stdout).map_err(|e| format!("{program} said: {e}"))?;
        let us = |k: &str| u128::from(v[k].as_u64().unwrap_or(0)).max(1);
        Ok((us("settle_us"), us("estimate_us")))
    };
    // Native (release build) and wasm in Node: the same requests, the same facade calls.
    let native = timed(
        "cargo",
        &[
            "run",
            "--release",
            "-q",
            "-p",
            "yibao",
            "--example",
            "throughput",
            "--",
            file,
        ],
    )?;
    let module = node_pkg.join("yibao_wasm.js").display().to_string();
    let wasm = timed("node", &["tests/node/throughput.mjs", file, &module])?;
    let claims = claims.max(1);
    // Nanoseconds per claim and the ratio ×100, in integers.
    let report = |what: &str, n_us: u128, w_us: u128, per: u128| {
        let (n, w) = (n_us * 1000 / per, w_us * 1000 / per);
        let ratio = n_us * 100 / w_us;
        println!(
            "{what}: native {}.{:03} µs/claim, wasm in Node {}.{:03} µs/claim; wasm throughput = {}.{:02} × native",
            n / 1000,
            n % 1000,
            w / 1000,
            w % 1000,
            ratio / 100,
            ratio % 100
        );
    };
    println!("{} requests, {claims} claims", requests.len());
    report(
        "settle (no trace, parsed once)",
        native.0,
        wasm.0,
        claims * u128::from(rounds),
    );
    report(
        "estimate (JSON in and out, no trace)",
        native.1,
        wasm.1,
        claims,
    );
    Ok(())
}

/// `cargo xtask bench-page`: the page budgets in Chromium against the release server.
fn bench_page() -> Result<(), String> {
    wasm()?;
    step(
        "building the release binary",
        "cargo",
        &["build", "--release", "-p", "yibao-cli"],
    )?;
    let port = "18572";
    let (mut server, ready) = start_server(&target("release/yibao"), port, true)?;
    let result = if ready {
        npm_ci().and_then(|_| {
            let out = Command::new("node")
                .arg("bench.mjs")
                .current_dir("tests/browser")
                .env("YIBAO_URL", format!("http://127.0.0.1:{port}"))
                .output()
                .map_err(|e| format!("cannot run node: {e}"))?;
            if out.status.success() {
                print!("{}", String::from_utf8_lossy(&out.stdout));
                Ok(())
            } else {
                Err(String::from_utf8_lossy(&out.stderr).to_string())
            }
        })
    } else {
        Err("the server did not start".into())
    };
    let _ = server.kill();
    let _ = server.wait();
    result
}

/// Starts `yibao serve` on 127.0.0.1:`port` (with the page when `www`) and waits up to 10 s
/// for it to accept connections; the child and whether it did.
fn start_server(
    binary: &Path,
    port: &str,
    www: bool,
) -> Result<(std::process::Child, bool), String> {
    let addr = format!("127.0.0.1:{port}");
    let mut args = vec!["serve", "--addr", &addr];
    if www {
        args.extend(["--www", "www"]);
    }
    let server = Command::new(binary)
        .args(&args)
        .env("RUST_LOG", "warn")
        .spawn()
        .map_err(|e| format!("cannot start the server: {e}"))?;
    let ready = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        std::net::TcpStream::connect(&addr).is_ok()
    });
    Ok((server, ready))
}

/// Installs the browser tests' npm packages (playwright-core) from the lock file.
fn npm_ci() -> Result<(), String> {
    step(
        "installing the browser-test packages",
        "npm",
        &[
            "ci",
            "--prefix",
            "tests/browser",
            "--no-audit",
            "--no-fund",
            "--silent",
        ],
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]
    use super::*;

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(took(Duration::from_millis(2_340)), "2.3s");
        assert_eq!(took(Duration::from_secs(125)), "2m05s");
    }

    #[test]
    fn the_summary_is_one_line_naming_every_step_and_the_outcome() {
        record("formatting", Duration::from_secs(3), true);
        record("lints", Duration::from_secs(61), false);
        let line = summary(&Err("lints failed".into()), Instant::now());
        assert!(!line.contains('\n'), "{line}");
        assert!(line.starts_with("xtask test: FAILED: "), "{line}");
        assert!(line.contains("formatting 3.0s"), "{line}");
        assert!(line.contains("FAILED lints 1m01s"), "{line}");
    }

    #[test]
    fn fingerprints_change_with_the_bytes() {
        assert_eq!(fingerprint(b"abc"), fingerprint(b"abc"));
        assert_ne!(fingerprint(b"abc"), fingerprint(b"abd"));
    }

    #[test]
    fn the_target_directory_follows_cargo_target_dir() {
        // Set by `cargo test`'s caller or not: the path is either it or `target`.
        let expected = std::env::var_os("CARGO_TARGET_DIR")
            .filter(|t| !t.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("target"));
        assert_eq!(target("wasm/node"), expected.join("wasm/node"));
    }
}
