//! `cargo xtask mutants`: mutation testing of the money code with cargo-mutants.
//!
//! The money code is `crates/yibao-engine/src/money.rs`, `settle.rs` and every file under
//! `settle/`. Each mutant is built and tested in the engine alone, with the `tests/money` binary
//! in the fast `mutants` profile, so a mutant rebuilds only the engine and that binary.
//! Not part of `cargo xtask test`: a full run takes hours on two cores. The results go to
//! `target/mutants/mutants.out/` (never committed); the summary per file is printed at the end
//! and recorded by hand in `crates/yibao-engine/MUTANTS.md`.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// The cargo-mutants release the counts in MUTANTS.md were measured with.
const VERSION: &str = "27.1.0";

const USAGE: &str =
    "usage: cargo xtask mutants [--file PATH]… [--jobs N] [--minutes M] [--shard K/N] [--list]
  --file PATH   mutate only this file (repeatable; default: money.rs, settle.rs, settle/*.rs)
  --jobs N      mutants built and tested at once (default 1; the machine is shared)
  --minutes M   stop after M minutes, keeping the results so far (default 240)
  --shard K/N   run the K-th of N disjoint parts of the mutants
  --list        list the mutants and stop";

/// The money code, relative to the workspace root.
pub(crate) fn money_files() -> Result<Vec<String>, String> {
    let mut files = vec![
        "crates/yibao-engine/src/money.rs".to_string(),
        "crates/yibao-engine/src/settle.rs".to_string(),
    ];
    let dir = Path::new("crates/yibao-engine/src/settle");
    let mut more: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    more.sort();
    files.extend(more);
    Ok(files)
}

fn ensure_cargo_mutants() -> Result<(), String> {
    let have = Command::new("cargo")
        .args(["mutants", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        crate::step(
            "installing cargo-mutants from crates.io",
            "cargo",
            &["install", "--locked", "cargo-mutants", "--version", VERSION],
        )?;
    }
    Ok(())
}

pub(crate) fn mutants(args: &[String]) -> Result<(), String> {
    let mut files: Vec<String> = Vec::new();
    let mut jobs = "1".to_string();
    let mut minutes: u64 = 240;
    let mut shard: Option<String> = None;
    let mut list = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{a} needs a value\n{USAGE}"))
        };
        match a.as_str() {
            "--file" => files.push(value()?),
            "--jobs" | "-j" => jobs = value()?,
            "--minutes" => {
                minutes = value()?
                    .parse()
                    .map_err(|_| format!("--minutes takes a whole number\n{USAGE}"))?
            }
            "--shard" => shard = Some(value()?),
            "--list" => list = true,
            _ => return Err(format!("unknown argument `{a}`\n{USAGE}")),
        }
    }
    if files.is_empty() {
        files = money_files()?;
    }
    ensure_cargo_mutants()?;
    let out = crate::target_dir().join("mutants");
    let out_s = out.to_string_lossy().into_owned();
    let mut cmd: Vec<String> = ["mutants", "--package", "yibao-engine"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for f in &files {
        cmd.extend(["--file".into(), f.clone()]);
    }
    if list {
        cmd.push("--list".into());
        let refs: Vec<&str> = cmd.iter().map(String::as_str).collect();
        return crate::step("listing the mutants", "cargo", &refs);
    }
    cmd.extend(
        [
            "--test-package",
            "yibao-engine",
            "--profile",
            "mutants",
            // Build and run the money test binary only: one engine build and one small test
            // crate per mutant (`-- ARGS` would go to the test binary as a name filter).
            "--cargo-arg=--test=money",
            // The OpenAPI schema impls compile only with the `openapi` feature: without it a
            // mutant there changes nothing that is built (the server's tests validate answers
            // against the OpenAPI document).
            "--exclude-re",
            "utoipa",
            "--jobs",
            &jobs,
            "--timeout",
            "300",
            "--build-timeout",
            "900",
            "--output",
            &out_s,
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    if let Some(s) = &shard {
        cmd.extend(["--shard".into(), s.clone()]);
    }
    eprintln!(
        "==> mutation testing, at most {minutes} minutes: cargo {}",
        cmd.join(" ")
    );
    let t0 = Instant::now();
    let mut child = Command::new("cargo")
        .args(&cmd)
        .spawn()
        .map_err(|e| format!("cannot run cargo mutants: {e}"))?;
    let deadline = Duration::from_secs(minutes * 60);
    let status = loop {
        if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
            break Some(s);
        }
        if t0.elapsed() > deadline {
            // cargo-mutants stops on an interrupt and keeps what it measured.
            eprintln!("==> {minutes} minutes are up: interrupting cargo-mutants");
            let _ = Command::new("kill")
                .args(["-INT", &child.id().to_string()])
                .status();
            let stop = Instant::now();
            while stop.elapsed() < Duration::from_secs(120) {
                if child.try_wait().map_err(|e| e.to_string())?.is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_secs(1));
            }
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_secs(2));
    };
    crate::record("mutants", t0.elapsed(), status.is_some());
    let report = summarize(&out.join("mutants.out"))?;
    eprintln!("{report}");
    match status {
        // cargo-mutants exits 2 when some mutants were missed, 3 on timeouts: the report says.
        Some(s) if matches!(s.code(), Some(0 | 2 | 3)) => Ok(()),
        Some(s) => Err(format!("cargo mutants failed ({s})")),
        None => Err(format!(
            "stopped after {minutes} minutes: the counts above are partial"
        )),
    }
}

/// Caught, missed, unviable and timed-out mutants per file, from cargo-mutants' lists.
pub(crate) fn summarize(dir: &Path) -> Result<String, String> {
    let mut per: BTreeMap<String, [u32; 4]> = BTreeMap::new();
    for (i, name) in ["caught.txt", "missed.txt", "unviable.txt", "timeout.txt"]
        .iter()
        .enumerate()
    {
        let text = std::fs::read_to_string(dir.join(name)).unwrap_or_default();
        count_lines(&text, i, &mut per);
    }
    Ok(table(&per))
}

fn count_lines(text: &str, i: usize, per: &mut BTreeMap<String, [u32; 4]>) {
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let file = line.split(':').next().unwrap_or(line).to_string();
        per.entry(file).or_default()[i] += 1;
    }
}

fn table(per: &BTreeMap<String, [u32; 4]>) -> String {
    let mut out = String::from("file | caught | missed | unviable | timeouts | caught of viable\n");
    let mut total = [0u32; 4];
    let row = |name: &str, c: &[u32; 4]| {
        let viable = c[0] + c[1] + c[3];
        let pct = if viable == 0 {
            "-".to_string()
        } else {
            // Tenths of a percent, rounded down (integers: the workspace denies float arithmetic).
            let tenths = u64::from(c[0]) * 1000 / u64::from(viable);
            format!("{}.{}%", tenths / 10, tenths % 10)
        };
        format!(
            "{name} | {} | {} | {} | {} | {pct}\n",
            c[0], c[1], c[2], c[3]
        )
    };
    for (f, c) in per {
        out += &row(f, c);
        for (t, x) in total.iter_mut().zip(c) {
            *t += x;
        }
    }
    out += &row("all", &total);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_file_and_the_share_caught_of_viable_mutants() {
        let mut per = BTreeMap::new();
        count_lines(
            "a.rs:1:2: replace x with y\na.rs:3:1: b\nb.rs:9:9: c\n",
            0,
            &mut per,
        );
        count_lines("a.rs:5:5: d\n\n", 1, &mut per);
        count_lines("b.rs:7:7: e\n", 2, &mut per);
        let t = table(&per);
        assert!(t.contains("a.rs | 2 | 1 | 0 | 0 | 66.6%"), "{t}");
        assert!(t.contains("b.rs | 1 | 0 | 1 | 0 | 100.0%"), "{t}");
        assert!(t.contains("all | 3 | 1 | 1 | 0 | 75.0%"), "{t}");
    }
}
