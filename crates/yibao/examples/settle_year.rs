//! Settle one person's year: three claims in date order, each seeing what the ones before used
//! of the deductible and caps; then carry the year on with the answer's `state`.
//!
//! `cargo run -p yibao --example settle_year` (also run by `cargo test --examples`).

use yibao::{estimate, Claim, EstimateRequest, Registry};

fn claim(json: &str) -> Result<Claim, serde_json::Error> {
    serde_json::from_str(json)
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let reg = Registry::bundled();
    let claims = vec![
        claim(
            r#"{"id":"c1","date":"2024-03-02","care":"inpatient","level":"3","amounts":{"total":"30000","out_of_list":"2000"}}"#,
        )?,
        claim(
            r#"{"id":"c2","date":"2024-06-15","care":"inpatient","level":"2","amounts":{"total":"12000"}}"#,
        )?,
        claim(
            r#"{"id":"c3","date":"2024-11-20","care":"inpatient","level":"3","amounts":{"total":"80000","out_of_list":"5000"}}"#,
        )?,
    ];
    let req = EstimateRequest::for_claims("tianjin.resident", claims).without_trace();
    let answer = estimate(&reg, &req)?;
    for s in &answer.settlements {
        println!(
            "{} {}: fund {} / patient {}",
            s.claim_id.as_deref().unwrap_or("-"),
            s.date,
            s.fund_total,
            s.out_of_pocket.total
        );
        // Each layer's payment, fund and patient add up to the bill exactly.
        assert_eq!(s.fund_total.0 + s.out_of_pocket.total.0, s.amounts.total.0);
    }
    // The next claim of the same year starts from the answer's state: the same result as
    // settling all four at once.
    let fourth = claim(
        r#"{"id":"c4","date":"2024-12-01","care":"inpatient","level":"3","amounts":{"total":"5000"}}"#,
    )?;
    let later = EstimateRequest::for_claims("tianjin.resident", vec![fourth.clone()])
        .with_state(answer.state.clone())
        .without_trace();
    let one_more = estimate(&reg, &later)?;
    let mut all = req.claims.clone();
    all.push(fourth);
    let at_once = estimate(
        &reg,
        &EstimateRequest::for_claims("tianjin.resident", all).without_trace(),
    )?;
    assert_eq!(one_more.settlements[0], at_once.settlements[3]);
    assert_eq!(one_more.state, at_once.state);
    println!(
        "c4 after the state: patient {}",
        one_more.settlements[0].out_of_pocket.total
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    run()
}

#[test]
fn settles_the_year() -> Result<(), Box<dyn std::error::Error>> {
    run()
}
