//! `cargo xtask bench-peers`: the project's rows beside the hand-written peers of
//! `../shared/bench-peers` (workload/POLICY.md), on the same generated claims; and
//! `verify_peers`, the short check `cargo xtask test` runs: `yibao batch` under
//! `bench/policies/bench.policy` gives, claim by claim, the bytes the hand-written i64 peer gives.

use std::path::{Path, PathBuf};
use std::process::Command;
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

/// One timed run: wall time and the RESULT line it printed.
fn timed(name: &str, cmd: &mut Command) -> Result<(Duration, String), String> {
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

/// `cargo xtask bench-peers [CLAIMS] [REPS]`: the table of wall times beside the peers, after
/// the per-claim check (default 1,000,000 claims of 100,000 persons, 3 runs each, median).
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
        None => 3,
    };
    let peers = peers_dir().ok_or("../shared/bench-peers is not beside the project")?;
    let work = work_dir()?;
    build(&peers, &work, &["peer-gen", "peer-i64", "peer-decimal"])?;
    let csv = generate(&work, (claims / 10).max(1), claims)?;
    let (_, line) = compare(&work, &csv)?;
    eprintln!("==> per-claim results byte-identical to rust-i64\n    {line}");
    let csv_s = csv.display().to_string();
    let rows: Vec<(&str, Command)> = vec![
        ("rust-i64", {
            let mut c = Command::new(work.join("target/release/peer-i64"));
            c.arg(&csv_s);
            c
        }),
        ("rust-decimal", {
            let mut c = Command::new(work.join("target/release/peer-decimal"));
            c.arg(&csv_s);
            c
        }),
        ("yibao batch", {
            let mut c = Command::new("bench/peers-row.sh");
            c.arg(&csv_s);
            c
        }),
    ];
    println!("| row | claims | wall (median of {reps}) | ns/claim |\n|---|---|---|---|");
    for (name, mut cmd) in rows {
        let mut walls = vec![];
        for _ in 0..reps.max(1) {
            walls.push(timed(name, &mut cmd)?.0);
        }
        walls.sort();
        let median = walls.get(walls.len() / 2).copied().unwrap_or_default();
        println!(
            "| {name} | {claims} | {} ms | {} |",
            median.as_millis(),
            median.as_nanos() / u128::from(claims.max(1))
        );
    }
    println!("(the yibao row's wall time includes renaming the peers' CSV columns with awk and the exact sums in Python)");
    Ok(())
}
