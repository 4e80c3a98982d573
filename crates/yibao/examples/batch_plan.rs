//! The plan fast path for batches: resolve each claim's policy once through a `PolicyCache`,
//! then settle with one `Settler` per policy version (it compiles a plan per situation and
//! reuses it), folding each person's year. The numbers are `estimate`'s, without building a
//! full `Settlement` per claim.
//!
//! `cargo run -p yibao --example batch_plan` (also run by `cargo test --examples`).

use std::collections::HashMap;
use std::sync::Arc;

use yibao::engine::Settler;
use yibao::{estimate, Claim, EstimateRequest, Overrides, PolicyCache, Registry, YtdState};

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let reg = Registry::bundled();
    // Three persons, two claims each, across two cities.
    let claims: Vec<Claim> = serde_json::from_str(
        r#"[
      {"person":"p1","region":"tianjin","scheme":"resident","date":"2024-02-01","care":"inpatient","level":"3","amounts":{"total":"30000"}},
      {"person":"p1","region":"tianjin","scheme":"resident","date":"2024-09-01","care":"inpatient","level":"3","amounts":{"total":"50000"}},
      {"person":"p2","region":"beijing","scheme":"resident","date":"2024-03-01","care":"inpatient","level":"3","amounts":{"total":"20000"}},
      {"person":"p2","region":"beijing","scheme":"resident","date":"2024-04-01","care":"inpatient","level":"3","amounts":{"total":"9000"}},
      {"person":"p3","region":"tianjin","scheme":"resident","date":"2024-05-01","care":"inpatient","level":"2","amounts":{"total":"8000"}},
      {"person":"p3","region":"tianjin","scheme":"resident","date":"2024-07-01","care":"inpatient","level":"2","amounts":{"total":"8000"}}
    ]"#,
    )?;
    let mut cache = PolicyCache::new(&reg, Overrides::default());
    let mut settlers: Vec<Settler> = vec![];
    let mut years: HashMap<&str, YtdState> = HashMap::new();
    let mut fund = vec![];
    for (i, c) in claims.iter().enumerate() {
        let policy = cache.for_claim(None, None, c, &format!("claims[{i}]"))?;
        let k = match settlers
            .iter()
            .position(|s| Arc::ptr_eq(s.policy(), &policy))
        {
            Some(k) => k,
            None => {
                settlers.push(Settler::new(policy.clone()));
                settlers.len() - 1
            }
        };
        let state = years.entry(c.person.as_deref().unwrap_or("")).or_default();
        let out = settlers[k].settle_outcome(c, state)?;
        fund.push(out.fund_total());
    }
    // The same numbers as `estimate`, person by person.
    for person in ["p1", "p2", "p3"] {
        let own: Vec<(usize, Claim)> = claims
            .iter()
            .cloned()
            .enumerate()
            .filter(|(_, c)| c.person.as_deref() == Some(person))
            .collect();
        let req = EstimateRequest {
            claims: own.iter().map(|(_, c)| c.clone()).collect(),
            ..EstimateRequest::default()
        }
        .without_trace();
        let answer = estimate(&reg, &req)?;
        for ((i, _), s) in own.iter().zip(&answer.settlements) {
            assert_eq!(fund[*i], s.fund_total, "claim {i}");
            println!("{person} claim {i}: fund {}", s.fund_total);
        }
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    run()
}

#[test]
fn settles_a_batch_on_the_plan_path() -> Result<(), Box<dyn std::error::Error>> {
    run()
}
