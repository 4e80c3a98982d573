//! Project tasks: `cargo xtask test` runs every check CI runs; `cargo xtask demo` runs an
//! example estimate. Each step says what it does; the first failure stops the run.

use std::process::{Command, ExitCode};

mod soak;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("demo") => demo(),
        Some("serve") => serve(),
        Some("wasm") => wasm().map(|_| ()),
        Some("conformance") => conformance(),
        Some("browser") => conformance().and_then(|_| browser()),
        Some("bench-server") => bench_server(),
        Some("bench-batch") => bench_batch(&args[1..]),
        Some("fuzz") => fuzz(&args[1..]),
        Some("bench-wasm") => bench_wasm(),
        Some("bench-page") => bench_page(),
        Some("soak") => soak::soak(&args[1..]),
        _ => {
            eprintln!("usage: cargo xtask <serve|test|demo|bench-server>\n  serve         build and serve the web page and the API on http://127.0.0.1:8080\n  wasm          build the WebAssembly module (www/pkg for the page, target/wasm/node for Node)\n  conformance   every vector and 10,000 random requests: native vs wasm in Node, byte for byte\n  browser       the page in headless Chromium (installed from Debian if missing): form, errors, no requests, screenshots\n  test          formatting, lints, unit/property/robustness tests, policy checks and vectors\n  demo          an example estimate with its explanation\n  bench-server  load the release server on 127.0.0.1 with wrk for 10 s; throughput, latency, peak RSS\n  bench-batch [CLAIMS…]  generate synthetic claim files (default 1,000,000 and 10,000,000) and time `yibao batch`: wall, claims/s, peak RSS\n  bench-wasm    the same estimates natively and through the wasm module in Node: throughput ratio\n  bench-page    the page in Chromium: load to first result, one estimate (median of 200)\n  soak [SECONDS]  the release server on 127.0.0.1 under load: estimates at c=1/16/64, 10,000 idle/slow connections, explained batches, SIGTERM with a stuck client (default 10 s a phase)\n  fuzz [N]      run N generated and mutated inputs (default 10,000,000) through the policy parser/checker, the claim decoder and settle, in release mode");
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
    conformance()?;
    browser()?;
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
    let (mut server, ready) = start_server("target/release/yibao", port, false)?;
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

/// Builds the wasm module and the release binary, and serves the page and the API on
/// 127.0.0.1:8080 until Ctrl-C.
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

/// Builds the wasm module: `www/pkg/` (for the page) and `target/wasm/node/` (for Node), using
/// wasm-bindgen as a library (no separate CLI to install), then wasm-opt when it is installed.
fn wasm() -> Result<std::path::PathBuf, String> {
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
        std::env::set_var("DEBIAN_FRONTEND", "noninteractive");
        let got =
            step("updating the package lists", "apt-get", &["update", "-qq"]).and_then(|_| {
                step(
                    "installing binaryen (wasm-opt)",
                    "apt-get",
                    &["install", "-y", "-qq", "binaryen"],
                )
            });
        if let Err(e) = got {
            eprintln!("    (could not install binaryen: {e}; going on without wasm-opt)");
        }
    }
    let input = std::path::PathBuf::from("target/wasm32-unknown-unknown/wasm/yibao_wasm.wasm");
    // The citizen page's lean module (and the Node copy for conformance), then the playground's
    // module with the drafter tools.
    for (features, outs) in [
        ("", &[("www/pkg", true), ("target/wasm/node", false)][..]),
        ("drafter", &[("www/pkg-drafter", true)][..]),
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
        // wasm-opt runs on rustc's output, before wasm-bindgen: run after it, Debian's binaryen
        // breaks the externref table wasm-bindgen adds ("Table.grow failed").
        let optimized = std::path::PathBuf::from("target/wasm/opt/yibao_wasm.wasm");
        let module = if installed("wasm-opt") {
            std::fs::create_dir_all("target/wasm/opt").map_err(|e| e.to_string())?;
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
            eprintln!(
                "    (wasm-opt not installed: `apt-get install binaryen` makes the module smaller)"
            );
            input.clone()
        };
        for (out, web) in outs {
            bindgen(&module, out, *web)?;
        }
    }
    copy_vectors("www/pkg-drafter/vectors")?;
    Ok(std::path::PathBuf::from("target/wasm/node"))
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
        let year = 2008 + (rng.next() % 18) as i32;
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
            claims.push(c);
        }
        let request =
            serde_json::json!({"policy": v.id, "trace": i.is_multiple_of(10), "claims": claims})
                .to_string();
        let native = framed(&bundled, &request);
        cases.push(serde_json::json!({"id": format!("random-{i}"), "fixtures": false, "request": request, "native": native}));
    }
    std::fs::create_dir_all("target/conformance").map_err(|e| e.to_string())?;
    let cases_file = "target/conformance/cases.json";
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
    Command::new(cmd)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The page in a real browser: the system Chromium (Debian's package; Playwright's own download
/// cannot work here) driven by playwright-core from npm. Screenshots go to artifacts/.
fn browser() -> Result<(), String> {
    let font = std::path::Path::new("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc").exists();
    if !installed("chromium") || !font {
        std::env::set_var("DEBIAN_FRONTEND", "noninteractive");
        step("updating the package lists", "apt-get", &["update", "-qq"])?;
        step(
            "installing Chromium and a CJK font",
            "apt-get",
            &["install", "-y", "-qq", "chromium", "fonts-wqy-microhei"],
        )?;
    }
    npm_ci()?;
    step(
        "building the yibao binary",
        "cargo",
        &["build", "-q", "-p", "yibao-cli"],
    )?;
    let port = "18570";
    let (mut server, ready) = start_server("target/debug/yibao", port, true)?;
    let cases =
        std::fs::canonicalize("target/conformance/cases.json").map_err(|e| e.to_string())?;
    let artifacts = std::env::current_dir()
        .map_err(|e| e.to_string())?
        .join("artifacts");
    let result = if ready {
        eprintln!("==> the page in headless Chromium: node --test (tests/browser)");
        Command::new("node")
            .arg("--test")
            .current_dir("tests/browser")
            .env("YIBAO_URL", format!("http://127.0.0.1:{port}"))
            .env("YIBAO_CASES", &cases)
            .env("YIBAO_ARTIFACTS", &artifacts)
            .status()
            .map_err(|e| format!("cannot run node: {e}"))
            .and_then(|s| {
                if s.success() {
                    Ok(())
                } else {
                    Err(format!("browser tests failed ({s})"))
                }
            })
    } else {
        Err("the server did not start".to_string())
    };
    let _ = server.kill();
    let _ = server.wait();
    result
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
    std::fs::create_dir_all("target/bench").map_err(|e| e.to_string())?;
    for n in sizes {
        let persons = (n * 2 / 13).max(1).to_string();
        let input = format!("target/bench/claims-{n}.csv");
        if !std::path::Path::new(&input).exists() {
            step(
                &format!("generating about {n} claims ({persons} persons)"),
                "target/release/yibao",
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
        let output = format!("target/bench/settled-{n}.csv");
        eprintln!("==> yibao batch over {input}");
        let out = Command::new("target/release/yibao")
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
    std::fs::create_dir_all("target/bench").map_err(|e| e.to_string())?;
    let file = "target/bench/requests.json";
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
    let (mut server, ready) = start_server("target/release/yibao", port, true)?;
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
    binary: &str,
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
