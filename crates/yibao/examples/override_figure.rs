//! Override a figure: list a version's figures (the paths an override may name), then settle a
//! claim with the deductible and the ratio replaced. The answer says which figures were
//! replaced and by what.
//!
//! `cargo run -p yibao --example override_figure` (also run by `cargo test --examples`).

use yibao::{estimate, list_versions, params, Claim, EstimateRequest, Registry};

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let reg = Registry::bundled();
    let claim: Claim = serde_json::from_str(
        r#"{"date":"2024-05-01","care":"inpatient","level":"3","amounts":{"total":"30000"}}"#,
    )?;
    // The version in force on the claim's date, and its figures.
    let version = list_versions(&reg)
        .into_iter()
        .filter(|v| v.id == "tianjin.resident" && v.effective <= claim.date)
        .max_by_key(|v| v.effective)
        .ok_or("no tianjin.resident version")?;
    let figures = params(&reg, &version.id, version.effective)?;
    let ratio = figures
        .params
        .iter()
        .find(|p| p.path.starts_with("basic.") && p.path.contains("ratio"))
        .ok_or("no basic ratio")?;
    println!(
        "{} = {} ({}, {})",
        ratio.path,
        ratio.text,
        ratio.provenance.name(),
        ratio.source.as_deref().unwrap_or("no source")
    );
    let plain = EstimateRequest::for_claims("tianjin.resident", vec![claim.clone()]);
    let changed = plain.clone().with_override(ratio.path.clone(), "95%");
    let before = estimate(&reg, &plain)?;
    let after = estimate(&reg, &changed)?;
    let (b, a) = (&before.settlements[0], &after.settlements[0]);
    println!("fund {} -> {}", b.fund_total, a.fund_total);
    // The answer lists the override with the value used, as an exact decimal.
    let used = a
        .overrides
        .iter()
        .find(|o| o.path() == ratio.path)
        .ok_or("the override is not listed")?;
    assert_eq!(
        used.overridden_with().map(|m| m.0),
        Some(yibao::Decimal::new(95, 2))
    );
    assert!(a.fund_total >= b.fund_total);
    assert!(b.overrides.is_empty());
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    run()
}

#[test]
fn overrides_a_figure() -> Result<(), Box<dyn std::error::Error>> {
    run()
}
