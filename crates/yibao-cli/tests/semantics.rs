#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]
//! The settlement rules as the command shows them: overrides into `for` blocks, and the
//! warnings that say which way an estimate on unknown figures may be off.
use assert_cmd::Command;

fn yibao() -> Command {
    let mut c = Command::cargo_bin("yibao").unwrap();
    c.current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    c
}

fn json(args: &[&str]) -> serde_json::Value {
    let o = yibao().args(args).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn set_reaches_a_figure_inside_a_for_block() {
    // Beijing's retiree rule: ratio = 1 − 60% × (1 − ratio); the 60% set to 50%:
    // 1 − 50% × (1 − 85%) = 92.5%; (11,300 − 1,300) × 92.5% = 9,250.
    let v = json(&[
        "estimate",
        "--policy",
        "beijing.employee",
        "--date",
        "2015-03-01",
        "--group",
        "retired",
        "--level",
        "3",
        "--total",
        "11300",
        "--set",
        "basic.for[group=retired|retired_70].ratio=50%",
        "--json",
        "--brief",
    ]);
    let s = &v["settlements"][0];
    let basic = s["layers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == "basic")
        .unwrap();
    assert_eq!(basic["payment"], "9250.00", "{s}");
    let paths: Vec<&str> = s["overrides"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["path"].as_str().unwrap())
        .collect();
    assert!(
        paths.contains(&"basic.for[group=retired|retired_70].ratio"),
        "{paths:?}"
    );
}

#[test]
fn the_formula_constant_is_not_a_figure() {
    // The `1` of `1 - 60% × (1 - ratio)` is arithmetic: it has no path to override.
    let o = yibao()
        .args(["check", "--params", "policies/beijing/employee"])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("basic.for[group=retired|retired_70].ratio "));
    assert!(!out.contains("ratio#"), "{out}");
}

#[test]
fn unknown_figures_say_which_way_the_estimate_may_be_off() {
    let v = json(&[
        "estimate",
        "--policies",
        "tests/vectors/semantics",
        "--policy",
        "semantics.resident",
        "--date",
        "2024-03-01",
        "--total",
        "10000",
        "--json",
        "--brief",
    ]);
    let w = v["settlements"][0]["warnings"].as_array().unwrap();
    let find = |code: &str| w.iter().find(|x| x["code"] == code).cloned();
    let ded = find("unknown_deductible").expect("unknown deductible said");
    assert_eq!(ded["layer"], "basic");
    assert_eq!(ded["effect"], "fund_overstated");
    let ratio = find("unknown_ratio").expect("unknown ratio said");
    assert_eq!(ratio["layer"], "extra");
    assert_eq!(ratio["effect"], "fund_understated");
    assert!(ratio["message"].as_str().unwrap().contains("本层未计算"));
    assert_eq!(find("unknown_cap").unwrap()["effect"], "fund_overstated");
}
