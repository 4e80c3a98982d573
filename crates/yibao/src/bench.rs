//! A benchmark entry: `settle` itself, natively and in wasm alike.

use yibao_engine::{settle_in_place, Claim, SettleOptions};
use yibao_policies::Registry;

use crate::cache::PolicyCache;
use crate::error::{ApiError, ErrorKind};
use crate::input::parse_request_json;
use crate::overrides::parse_overrides;

/// For benchmarks: settles the request's claims `rounds` times (no trace, no JSON out), each
/// round folding a fresh year; returns how many settlements were made. The request is parsed and
/// its policies resolved once, so the loop measures `settle` itself — natively and in wasm alike.
pub fn settle_rounds(reg: &Registry, request: &str, rounds: u32) -> Result<u64, ApiError> {
    let req = parse_request_json(request)?;
    let mut cache = PolicyCache::new(reg, parse_overrides(&req.overrides)?);
    let claims: Vec<&Claim> = req.all_claims().collect();
    let mut policies = Vec::with_capacity(claims.len());
    for (i, c) in claims.iter().enumerate() {
        policies.push(cache.for_claim(
            req.policy.as_deref(),
            req.version,
            c,
            &format!("claims[{i}]"),
        )?);
    }
    let opts = SettleOptions { trace: false };
    let mut n = 0u64;
    for _ in 0..rounds {
        let mut state = req.state.clone().unwrap_or_default();
        for (c, p) in claims.iter().zip(&policies) {
            let s = settle_in_place(p, c, &mut state, &opts)
                .map_err(|e| ApiError::new(ErrorKind::Claim, None, e.to_string()))?;
            std::hint::black_box(&s);
            n += 1;
        }
    }
    Ok(n)
}
