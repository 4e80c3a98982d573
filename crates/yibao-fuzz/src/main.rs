//! `yibao-fuzz --inputs N [--seed S] [--threads T]`: N inputs spread over the three targets, on
//! every core; reports counts, rate, the slowest input and peak memory. A panic prints the
//! target, seed and index (the input is reproducible from them) and writes the input to a file.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use yibao_fuzz::{input, run_one, Fixtures, Outcome, Target};

fn arg(args: &[String], name: &str) -> Option<u64> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.replace(['_', ','], "").parse().ok())
}

fn peak_rss_mb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace()
        .nth(1)?
        .parse::<u64>()
        .ok()
        .map(|k| k / 1024)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("yibao-fuzz --inputs N [--seed S] [--threads T]");
        return ExitCode::SUCCESS;
    }
    let total = arg(&args, "--inputs").unwrap_or(1_000_000);
    let seed = arg(&args, "--seed").unwrap_or(0x5EED);
    let threads = arg(&args, "--threads")
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get() as u64))
        .max(1);
    // Policy text is the richest target; claims and CSV files share the rest.
    let targets = [(Target::Policy, 5u64), (Target::Claim, 3), (Target::Csv, 2)];
    // Panics are caught and reported below; keep the default hook from printing each one.
    std::panic::set_hook(Box::new(|_| {}));
    let done = AtomicU64::new(0);
    let failed = AtomicBool::new(false);
    let slowest = std::sync::Mutex::new((Duration::ZERO, String::new()));
    let counts: Vec<(AtomicU64, AtomicU64)> = targets
        .iter()
        .map(|_| (AtomicU64::new(0), AtomicU64::new(0)))
        .collect();
    let started = Instant::now();
    std::thread::scope(|s| {
        for t in 0..threads {
            let (done, failed, slowest, counts) = (&done, &failed, &slowest, &counts);
            s.spawn(move || {
                let Some(fx) = Fixtures::new() else { return };
                let mut i = t;
                while i < total && !failed.load(Ordering::Relaxed) {
                    let k = i % 10;
                    let (ti, target) = if k < targets[0].1 {
                        (0, targets[0].0)
                    } else if k < targets[0].1 + targets[1].1 {
                        (1, targets[1].0)
                    } else {
                        (2, targets[2].0)
                    };
                    let text = input(target, &fx, seed, i);
                    let t0 = Instant::now();
                    match catch_unwind(AssertUnwindSafe(|| run_one(target, &fx, &text))) {
                        Ok(o) => {
                            counts[ti].0.fetch_add(1, Ordering::Relaxed);
                            if o == Outcome::Accepted {
                                counts[ti].1.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        Err(_) => {
                            failed.store(true, Ordering::Relaxed);
                            let file = format!("fuzz-crash-{target:?}-{seed}-{i}.txt");
                            let _ = std::fs::write(&file, &text);
                            eprintln!("PANIC on {target:?} input #{i} (seed {seed}); input written to {file}");
                            return;
                        }
                    }
                    let dt = t0.elapsed();
                    if let Ok(mut s) = slowest.lock() {
                        if dt > s.0 {
                            *s = (dt, format!("{target:?} #{i}"));
                        }
                    }
                    let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                    if n % 1_000_000 == 0 {
                        eprintln!("  {n} inputs, {} s", started.elapsed().as_secs());
                    }
                    i += threads;
                }
            });
        }
    });
    if failed.load(Ordering::Relaxed) {
        return ExitCode::FAILURE;
    }
    let ms = started.elapsed().as_millis().max(1);
    let n = done.load(Ordering::Relaxed);
    println!(
        "{n} inputs in {}.{} s ({}/s, {threads} threads), no panic",
        ms / 1000,
        ms % 1000 / 100,
        u128::from(n) * 1000 / ms
    );
    for ((target, _), (c, a)) in targets.iter().zip(&counts) {
        println!(
            "  {target:?}: {} inputs, {} accepted",
            c.load(Ordering::Relaxed),
            a.load(Ordering::Relaxed)
        );
    }
    if let Ok(s) = slowest.lock() {
        println!("  slowest input: {} ms ({})", s.0.as_millis(), s.1);
    }
    if let Some(mb) = peak_rss_mb() {
        println!("  peak memory: {mb} MB");
    }
    ExitCode::SUCCESS
}
