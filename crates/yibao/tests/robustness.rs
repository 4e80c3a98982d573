#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]
//! Malformed input of any kind gives diagnostics or errors, never a panic: 100,000+ mutated and
//! random policy texts and claim documents per run (seeded, so a failure reproduces).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use yibao::engine::{settle, SettleOptions};
use yibao::{Claim, Registry, YtdState};

/// xorshift64*: small, seeded, reproducible.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const TOKENS: &[&str] = &[
    "layer",
    "amend layer basic {",
    "remove layer basic",
    "}",
    "{",
    "[",
    "]",
    "(",
    ")",
    ":",
    ",",
    "%",
    "万",
    "元",
    "×",
    "*",
    "/",
    "+",
    "-",
    "=",
    "\"",
    "#",
    "\n",
    " ",
    "by level {",
    "by category {",
    "else:",
    "none",
    "[placeholder]",
    "[official TJ-a]",
    "[official NOPE]",
    "deductible per_year",
    "deductible per_admission",
    "deductible from_admission 0",
    "ratio",
    "bands relative {",
    "to 0:",
    "above:",
    "cap per_year",
    "cap per_claim",
    "pool",
    "for category in [destitute] {",
    "no cap",
    "ratio + 500%",
    "base remaining [co_pay]",
    "base in_scope",
    "measure year",
    "when care in [inpatient]",
    "per_case share",
    "cases { X \"x\" 1 }",
    "extends tianjin.resident@2014-07-01",
    "effective 2024-02-30",
    "effective 2024-01-01",
    "99999999999999999999999999999999",
    "0.000000001",
    "1e9",
    "-5",
    "日",
    "\u{0}",
    "\u{FEFF}",
    "\u{3000}",
    "：",
    "“",
    "indicator x = x",
    "indicator y = 1 / 0",
    "min(1, 2%)",
    "field nope",
    "kind weird",
    "1 - ratio",
];

fn mutate(rng: &mut Rng, base: &str) -> String {
    let mut s: Vec<char> = base.chars().collect();
    for _ in 0..1 + rng.below(4) {
        let n = s.len();
        match rng.below(7) {
            0 if n > 0 => {
                let a = rng.below(n);
                let b = (a + rng.below(40)).min(n);
                s.drain(a..b);
            }
            1 => {
                let at = rng.below(n + 1);
                let t = TOKENS[rng.below(TOKENS.len())];
                for (i, c) in t.chars().enumerate() {
                    s.insert(at + i, c);
                }
            }
            2 if n > 0 => {
                let a = rng.below(n);
                let b = (a + rng.below(60)).min(n);
                let chunk: Vec<char> = s[a..b].to_vec();
                let at = rng.below(s.len() + 1);
                for (i, c) in chunk.into_iter().enumerate() {
                    s.insert(at + i, c);
                }
            }
            3 if n > 0 => {
                let at = rng.below(n);
                s[at] = char::from_u32((rng.next() % 0x3000) as u32).unwrap_or('?');
            }
            4 if n > 0 => s.truncate(rng.below(n)),
            5 if n > 0 => {
                // Change a digit: the values, not the shape.
                let at = rng.below(n);
                if s[at].is_ascii_digit() {
                    s[at] = char::from(b'0' + (rng.next() % 10) as u8);
                }
            }
            _ => {
                let at = rng.below(n + 1);
                s.insert(at, char::from(b' ' + (rng.next() % 95) as u8));
            }
        }
    }
    s.into_iter().collect()
}

fn seeds() -> Vec<String> {
    let mut out: Vec<String> = yibao::policies::bundled_files()
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors/fixture");
    for f in ["2024-01-01.policy", "2025-01-01.policy"] {
        out.push(std::fs::read_to_string(dir.join(f)).unwrap());
    }
    out
}

#[test]
fn mutated_policies_never_panic() {
    let seeds = seeds();
    let mut rng = Rng(0x5EED_0001);
    let claim: Claim = serde_json::from_str(r#"{"date":"2024-06-01","care":"inpatient","level":"3","categories":["min_allowance"],"amounts":{"total":"123456.78","out_of_list":"100"}}"#).unwrap();
    let (mut n, mut compiled, mut settled) = (0usize, 0usize, 0usize);
    for i in 0..60_000 {
        let base = &seeds[i % seeds.len()];
        let text = if i % 10 == 0 {
            // Pure noise from the token list.
            (0..rng.below(60))
                .map(|_| TOKENS[rng.below(TOKENS.len())])
                .collect::<Vec<_>>()
                .join(" ")
        } else {
            mutate(&mut rng, base)
        };
        let r = catch_unwind(AssertUnwindSafe(|| {
            let out = yibao::lang::compile_text("fuzz.policy", &text);
            for d in &out.diagnostics {
                let j = d.to_json(&out.map);
                assert!(!j.message.is_empty());
            }
            let _ = yibao::lang::fmt::format(&text);
            let mut s = 0;
            if let Some(p) = &out.policy {
                let _ = settle(
                    p,
                    &claim,
                    &YtdState::default(),
                    &SettleOptions { trace: true },
                );
                s = 1;
            }
            (out.policy.is_some(), s)
        }));
        match r {
            Ok((c, s)) => {
                compiled += usize::from(c);
                settled += s;
            }
            Err(_) => panic!("panic on policy input #{i}:\n{text}"),
        }
        n += 1;
    }
    eprintln!("policy inputs: {n}, compiled: {compiled}, settled: {settled}");
    assert!(
        compiled > 1_000,
        "mutations should often leave a valid policy ({compiled})"
    );
}

#[test]
fn mutated_claim_documents_never_panic() {
    let reg = Registry::bundled();
    let base = r#"{"policy":"tianjin.resident","overrides":{"basic.ratio":"80%"},"state":{"year":2024,"layers":{"serious_illness":{"claims":1,"base":"5000"}}},"claims":[{"id":"a","date":"2024-06-01","care":"inpatient","level":"3","group":"insured","categories":["destitute","min_allowance"],"place":"local","referral":true,"amounts":{"total":"123456.78","out_of_list":"100","pre_self_pay":"50","over_limit":"1"}},{"date":"2024-07-01","care":"outpatient_special","amounts":{"total":"5000"}}]}"#;
    let mut rng = Rng(0x5EED_0002);
    let (mut n, mut ok) = (0usize, 0usize);
    for i in 0..50_000 {
        let text = mutate(&mut rng, base);
        let r = catch_unwind(AssertUnwindSafe(|| {
            yibao::estimate_json(&reg, &text).is_ok()
        }));
        match r {
            Ok(true) => ok += 1,
            Ok(false) => {}
            Err(_) => panic!("panic on claim input #{i}:\n{text}"),
        }
        n += 1;
    }
    eprintln!("claim inputs: {n}, settled: {ok}");
    assert!(
        ok > 500,
        "mutations should often leave a valid request ({ok})"
    );
}
