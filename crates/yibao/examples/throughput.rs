//! Times the native side of `cargo xtask bench-wasm` on the requests it wrote: `settle` alone
//! (`settle_rounds`, the call the wasm module exports) and whole estimates (`estimate_json`, JSON
//! in and out); the fastest of 5 runs each. Prints `{"settle_us":…,"estimate_us":…}`.
//!
//! `cargo run --release -p yibao --example throughput -- target/bench/requests.json`

use std::process::ExitCode;
use std::time::{Duration, Instant};

fn best(mut f: impl FnMut() -> bool) -> Option<u128> {
    if !f() {
        return None;
    }
    let mut b = Duration::MAX;
    for _ in 0..5 {
        let t0 = Instant::now();
        if !f() {
            return None;
        }
        b = b.min(t0.elapsed());
    }
    Some(b.as_micros())
}

fn main() -> ExitCode {
    let Some(file) = std::env::args().nth(1) else {
        eprintln!("usage: throughput REQUESTS.json");
        return ExitCode::from(2);
    };
    let v: serde_json::Value = match std::fs::read_to_string(&file)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
    {
        Ok(v) => v,
        Err(e) => {
            eprintln!("{file}: {e}");
            return ExitCode::from(2);
        }
    };
    let requests: Vec<&str> = v["requests"]
        .as_array()
        .map(|a| a.iter().filter_map(|r| r.as_str()).collect())
        .unwrap_or_default();
    let rounds = v["rounds"]
        .as_u64()
        .and_then(|r| u32::try_from(r).ok())
        .unwrap_or(1);
    let reg = yibao::Registry::bundled();
    let settle = best(|| {
        requests
            .iter()
            .all(|r| std::hint::black_box(yibao::settle_rounds(&reg, r, rounds)).is_ok())
    });
    let estimate = best(|| {
        requests
            .iter()
            .all(|r| std::hint::black_box(yibao::estimate_json(&reg, r)).is_ok())
    });
    match (settle, estimate) {
        (Some(s), Some(e)) => {
            println!("{{\"settle_us\":{s},\"estimate_us\":{e}}}");
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("a request failed");
            ExitCode::FAILURE
        }
    }
}
