//! Project tasks: `cargo xtask test` runs every check CI runs; `cargo xtask demo` runs an
//! example estimate. Each step says what it does; the first failure stops the run.

use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("demo") => demo(),
        _ => {
            eprintln!("usage: cargo xtask <test|demo>\n  test  formatting, lints, unit/property/robustness tests, policy checks and vectors\n  demo  an example estimate with its explanation");
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
