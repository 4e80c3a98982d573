//! `cargo xtask bench-peers`: the project's rows beside the hand-written peers of
//! `../shared/bench-peers` (workload/POLICY.md), on the same generated claims; and
//! `verify_peers`, the short check `cargo xtask test` runs: `yibao batch` under
//! `bench/policies/bench.policy` gives, claim by claim, the bytes the hand-written i64 peer gives.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::target_dir;

/// Where the peers live: `../shared/bench-peers` beside the project.
fn peers_dir() -> Option<PathBuf> {
    let d = Path::new("..").join("shared").join("bench-peers");
    d.join("Cargo.toml").is_file().then_some(d)
}

/// Where the peers are built and their data and results written: `<target>/bench-peers`, as an
/// absolute path (the peers' build runs in their own folder).
fn work_dir() -> Result<PathBuf, String> {
    let here = std::env::current_dir().map_err(|e| e.to_string())?;
    Ok(here.join(target_dir()).join("bench-peers"))
}

/// Runs a command, saying what it is; its output goes to the terminal.
fn run(what: &str, cmd: &mut Command) -> Result<(), String> {
    eprintln!("==> {what}");
    let status = cmd
        .status()
        .map_err(|e| format!("{what}: cannot start: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed ({status})"))
    }
}

/// Builds the peers asked for (release, their own target folder) and the `yibao` binary.
fn build(peers: &Path, work: &Path, which: &[&str]) -> Result<(), String> {
    let mut c = Command::new("cargo");
    c.args(["build", "--release"])
        .current_dir(peers)
        .env("CARGO_TARGET_DIR", work.join("target"));
    for p in which {
        c.args(["-p", p]);
    }
    run(
        &format!("building the peers ({})", which.join(", ")),
        &mut c,
    )?;
    run(
        "building yibao (release)",
        Command::new("cargo").args(["build", "--release", "-p", "yibao-cli"]),
    )
}

/// Generates `claims` claims for `persons` persons with the peers' generator (seeded, normative).
fn generate(work: &Path, persons: u64, claims: u64) -> Result<PathBuf, String> {
    let data = work.join("data");
    std::fs::create_dir_all(&data).map_err(|e| format!("{}: {e}", data.display()))?;
    let csv = data.join(format!("claims-{claims}.csv"));
    if !csv.is_file() {
        let jsonl = data.join(format!("claims-{claims}.jsonl"));
        run(
            &format!("generating {claims} claims for {persons} persons"),
            Command::new(work.join("target/release/gen")).args([
                persons.to_string(),
                claims.to_string(),
                csv.display().to_string(),
                jsonl.display().to_string(),
            ]),
        )?;
    }
    Ok(csv)
}

/// Runs a command to its end: its wall time and output, or why it failed (with its stderr).
fn finished(name: &str, cmd: &mut Command) -> Result<(Duration, Output), String> {
    let t = Instant::now();
    let out = cmd
        .output()
        .map_err(|e| format!("{name}: cannot start: {e}"))?;
    let wall = t.elapsed();
    if !out.status.success() {
        return Err(format!(
            "{name} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok((wall, out))
}

/// One timed run: wall time and the RESULT line it printed.
fn timed(name: &str, cmd: &mut Command) -> Result<(Duration, String), String> {
    let (wall, out) = finished(name, cmd)?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("RESULT"))
        .ok_or_else(|| format!("{name} printed no RESULT line"))?
        .to_string();
    Ok((wall, line))
}

/// The checksum part of a RESULT line (claims and sums), without the peer name and timings.
fn checksum(line: &str) -> String {
    line.split_whitespace()
        .filter(|w| {
            ["claims=", "fund=", "si=", "aid=", "oop=", "total="]
                .iter()
                .any(|k| w.starts_with(k))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Settles the claims with the i64 peer and with `yibao batch`; the per-claim files must be
/// the same bytes.
fn compare(work: &Path, csv: &Path) -> Result<(String, String), String> {
    let out = work.join("results");
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let (reference, mine) = (out.join("rust-i64.csv"), out.join("yibao.csv"));
    let (_, ref_line) = timed(
        "rust-i64",
        Command::new(work.join("target/release/peer-i64")).args([
            csv.display().to_string(),
            "--out".into(),
            reference.display().to_string(),
        ]),
    )?;
    let (_, my_line) = timed(
        "yibao",
        Command::new("bench/peers-row.sh").args([
            csv.display().to_string(),
            "--out".into(),
            mine.display().to_string(),
        ]),
    )?;
    let a = std::fs::read(&reference).map_err(|e| format!("{}: {e}", reference.display()))?;
    let b = std::fs::read(&mine).map_err(|e| format!("{}: {e}", mine.display()))?;
    if a != b {
        let (la, lb) = (String::from_utf8_lossy(&a), String::from_utf8_lossy(&b));
        let first = la
            .lines()
            .zip(lb.lines())
            .find(|(x, y)| x != y)
            .map(|(x, y)| format!("rust-i64 `{x}`, yibao `{y}`"))
            .unwrap_or_else(|| "the files differ in length".into());
        return Err(format!("per-claim results differ: {first}"));
    }
    if checksum(&ref_line) != checksum(&my_line) {
        return Err(format!("checksums differ:\n  {ref_line}\n  {my_line}"));
    }
    Ok((ref_line, my_line))
}

/// The short version for `cargo xtask test`: a small generated workload, byte-identical to the
/// hand-written i64 peer claim by claim.
pub fn verify(claims: u64) -> Result<(), String> {
    let Some(peers) = peers_dir() else {
        eprintln!("==> bench-peers check skipped: ../shared/bench-peers is not beside the project");
        return Ok(());
    };
    let work = work_dir()?;
    build(&peers, &work, &["peer-gen", "peer-i64"])?;
    let csv = generate(&work, (claims / 10).max(1), claims)?;
    let (_, mine) = compare(&work, &csv)?;
    eprintln!(
        "==> bench policy: {claims} claims byte-identical to the hand-written i64 peer\n    {mine}"
    );
    Ok(())
}

/// The peers' claims in `yibao batch`'s columns (the conversion `bench/peers-row.sh` does with
/// awk), written once beside them so the timed runs read a file as a user's would.
fn converted(csv: &Path) -> Result<PathBuf, String> {
    let out = csv.with_extension("yibao.csv");
    if out.is_file() {
        return Ok(out);
    }
    let text = std::fs::read_to_string(csv).map_err(|e| format!("{}: {e}", csv.display()))?;
    let mut w = String::with_capacity(text.len() * 3 / 2);
    w.push_str("id,person,date,care,level,categories,total,out_of_list,pre_self_pay,over_limit\n");
    for (n, line) in text.lines().enumerate().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let [id, person, date, care, level, cat, total, ool, pre, over] = f[..] else {
            return Err(format!("{}:{}: not 10 fields", csv.display(), n + 1));
        };
        let care = if care == "I" {
            "inpatient"
        } else {
            "general_outpatient"
        };
        let cat = match cat {
            "L" => "low_income",
            "D" => "destitute",
            _ => "",
        };
        w.push_str(&format!(
            "{id},{person},{date},{care},{level},{cat},{total},{ool},{pre},{over}\n"
        ));
    }
    std::fs::write(&out, w).map_err(|e| format!("{}: {e}", out.display()))?;
    Ok(out)
}

/// One run's wall time, CPU time (user + system) and peak RSS, through GNU time (`/usr/bin/time`,
/// Debian's `time` package) when it is there; wall time only otherwise.
struct Measured {
    wall: Duration,
    cpu: Option<Duration>,
    rss_kb: Option<u64>,
}

fn measured(name: &str, program: &Path, args: &[String]) -> Result<Measured, String> {
    let gnu_time = Path::new("/usr/bin/time");
    let mut cmd = if gnu_time.is_file() {
        let mut c = Command::new(gnu_time);
        c.args(["-f", "TIME %U %S %M"]).arg(program);
        c
    } else {
        Command::new(program)
    };
    cmd.args(args);
    let (wall, out) = finished(name, &mut cmd)?;
    let err = String::from_utf8_lossy(&out.stderr);
    let fields: Vec<&str> = err
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("TIME "))
        .map(|l| l.split_whitespace().collect())
        .unwrap_or_default();
    let secs = |s: &str| {
        let (whole, frac) = s.split_once('.').unwrap_or((s, "0"));
        let ms = whole.parse::<u64>().ok()? * 1000
            + format!("{frac:0<3}").get(..3)?.parse::<u64>().ok()?;
        Some(Duration::from_millis(ms))
    };
    let cpu = match fields[..] {
        [u, s, _] => secs(u).zip(secs(s)).map(|(u, s)| u + s),
        _ => None,
    };
    let rss_kb = fields.get(2).and_then(|k| k.parse().ok());
    Ok(Measured { wall, cpu, rss_kb })
}

fn median<T: Ord + Copy>(mut v: Vec<T>) -> Option<T> {
    v.sort();
    v.get(v.len() / 2).copied()
}

/// `cargo xtask bench-peers [CLAIMS] [REPS]`: after the per-claim check, the hand-written peers
/// and `yibao batch` in alternating rounds on the same claims (a round runs each row once, so a
/// load change on the shared machine hits every row of a round): medians of wall and CPU time,
/// peak RSS, and the median of each round's yibao ÷ rust-decimal ratio (default 1,000,000 claims
/// of 100,000 persons, 5 rounds).
pub fn bench(args: &[String]) -> Result<(), String> {
    let claims: u64 = match args.first() {
        Some(a) => a
            .parse()
            .map_err(|_| format!("`{a}` is not a claim count"))?,
        None => 1_000_000,
    };
    let reps: usize = match args.get(1) {
        Some(a) => a
            .parse()
            .map_err(|_| format!("`{a}` is not a count of runs"))?,
        None => 5,
    };
    let peers = peers_dir().ok_or("../shared/bench-peers is not beside the project")?;
    let work = work_dir()?;
    build(&peers, &work, &["peer-gen", "peer-i64", "peer-decimal"])?;
    let csv = generate(&work, (claims / 10).max(1), claims)?;
    let (_, line) = compare(&work, &csv)?;
    eprintln!("==> per-claim results byte-identical to rust-i64\n    {line}");
    let input = converted(&csv)?;
    let sink = work.join("results").join("yibao-timed.csv");
    let yibao = std::env::current_dir()
        .map_err(|e| e.to_string())?
        .join(target_dir())
        .join("release")
        .join("yibao");
    let rows: Vec<(&str, PathBuf, Vec<String>)> = vec![
        (
            "rust-i64",
            work.join("target/release/peer-i64"),
            vec![csv.display().to_string()],
        ),
        (
            "rust-decimal",
            work.join("target/release/peer-decimal"),
            vec![csv.display().to_string()],
        ),
        (
            "yibao batch",
            yibao,
            [
                "batch",
                "--quiet",
                "--input",
                &input.display().to_string(),
                "--output",
                &sink.display().to_string(),
                "--policy",
                "bench.resident",
                "--policies",
                "bench/policies/bench.policy",
            ]
            .map(String::from)
            .to_vec(),
        ),
    ];
    let mut runs: Vec<Vec<Measured>> = rows.iter().map(|_| Vec::new()).collect();
    for round in 0..reps.max(1) {
        eprintln!("==> round {} of {}", round + 1, reps.max(1));
        for ((name, program, args), out) in rows.iter().zip(&mut runs) {
            out.push(measured(name, program, args)?);
        }
    }
    let ms = |d: Duration| format!("{}", d.as_millis());
    println!(
        "| row | claims | wall ms | CPU ms (user+sys) | ns/claim (CPU) | peak RSS MB |\n|---|---|---|---|---|---|"
    );
    for ((name, ..), m) in rows.iter().zip(&runs) {
        let wall = median(m.iter().map(|x| x.wall).collect()).unwrap_or_default();
        let cpu = median(m.iter().filter_map(|x| x.cpu).collect());
        let rss = median(m.iter().filter_map(|x| x.rss_kb).collect());
        println!(
            "| {name} | {claims} | {} | {} | {} | {} |",
            ms(wall),
            cpu.map_or("—".into(), ms),
            cpu.map_or("—".into(), |c| (c.as_nanos() / u128::from(claims.max(1)))
                .to_string()),
            rss.map_or("—".into(), |k| (k / 1024).to_string()),
        );
    }
    // Per round, yibao ÷ each peer (in hundredths); the median over rounds.
    let ratio = |a: Duration, b: Duration| a.as_nanos() * 100 / b.as_nanos().max(1);
    for (peer, pi) in [("rust-decimal", 1usize), ("rust-i64", 0)] {
        let (mut w, mut c) = (vec![], vec![]);
        for (y, p) in runs[2].iter().zip(&runs[pi]) {
            w.push(ratio(y.wall, p.wall));
            // GNU time counts CPU in hundredths of a second: a shorter run has no ratio.
            if let (Some(yc), Some(pc)) = (y.cpu, p.cpu) {
                if pc >= Duration::from_millis(100) {
                    c.push(ratio(yc, pc));
                }
            }
        }
        let n = w.len();
        let mid = |v: Vec<u128>| {
            median(v).map_or("—".into(), |x| format!("{}.{:02}×", x / 100, x % 100))
        };
        println!(
            "yibao batch ÷ {peer}, median of {n} paired rounds: wall {}, CPU {}",
            mid(w),
            mid(c)
        );
    }
    // Settling alone: the peers' own eval_s, and yibao batch --time-settle with one worker (so
    // the worker has a core to itself beside the reading thread).
    let per_claim = |secs: &str| {
        let (whole, frac) = secs.split_once('.').unwrap_or((secs, ""));
        let ns: u128 = format!("{whole}{frac:0<9}")
            .get(..whole.len() + 9)?
            .parse()
            .ok()?;
        Some(ns / u128::from(claims.max(1)))
    };
    let mut settle_only = vec![];
    for (name, program, args) in &rows[..2] {
        let (_, line) = timed(name, Command::new(program).args(args))?;
        let eval = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("eval_s="))
            .and_then(per_claim);
        settle_only.push(format!(
            "{name} {} ns",
            eval.map_or("—".into(), |n| n.to_string())
        ));
    }
    let summary = work.join("results").join("yibao-summary.json");
    let (program, args) = (&rows[2].1, &rows[2].2);
    finished(
        "yibao batch --time-settle",
        Command::new(program)
            .args(args)
            .args(["--threads", "1", "--time-settle", "--summary-json"])
            .arg(&summary),
    )?;
    let text =
        std::fs::read_to_string(&summary).map_err(|e| format!("{}: {e}", summary.display()))?;
    let ns = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v.get("settle_ns").and_then(serde_json::Value::as_u64));
    settle_only.push(format!(
        "yibao batch (one worker) {} ns",
        ns.map_or("—".into(), |n| (n / claims.max(1)).to_string())
    ));
    println!("settle only, per claim: {}", settle_only.join(", "));
    println!("(yibao batch reads the peers' claims renamed into its columns beforehand and writes its full 23-column output; the peers write nothing in timed runs)");
    Ok(())
}
