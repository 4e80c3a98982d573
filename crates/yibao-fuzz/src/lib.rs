//! Bounded, generator-based fuzzing on stable Rust (no nightly toolchain needed).
//!
//! Three targets, each fed seeded random and mutated inputs: policy text through the parser,
//! checker, compiler, formatter and `settle` (with its explanation); claim documents through the
//! JSON request decoder and `estimate`; CSV claim files through the batch reader and settlement.
//! A target "fails" only by panicking; every input is reproducible from its seed and index.
//! `cargo test` runs a short run (tests/robustness.rs); `cargo xtask fuzz N` runs N inputs.

use std::io::Cursor;
use std::path::Path;

use yibao::engine::{settle, SettleOptions};
use yibao::{Claim, Registry, YtdState};

/// xorshift64*: small, seeded, reproducible.
pub struct Rng(pub u64);
impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }
}

pub const TOKENS: &[&str] = &[
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
    "for referred {",
    "for not referred and level in [3] {",
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

pub fn mutate(rng: &mut Rng, base: &str) -> String {
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
                s[at] = char::from_u32((rng.next_u64() % 0x3000) as u32).unwrap_or('?');
            }
            4 if n > 0 => s.truncate(rng.below(n)),
            5 if n > 0 => {
                // Change a digit: the values, not the shape.
                let at = rng.below(n);
                if s[at].is_ascii_digit() {
                    s[at] = char::from(b'0' + (rng.next_u64() % 10) as u8);
                }
            }
            _ => {
                let at = rng.below(n + 1);
                s.insert(at, char::from(b' ' + (rng.next_u64() % 95) as u8));
            }
        }
    }
    s.into_iter().collect()
}

pub fn seeds() -> Vec<String> {
    let mut out: Vec<String> = yibao::policies::bundled_files()
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    // The fixture policy uses every construct of the language.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors/fixture");
    for f in ["2024-01-01.policy", "2025-01-01.policy"] {
        if let Ok(t) = std::fs::read_to_string(dir.join(f)) {
            out.push(t);
        }
    }
    out
}

/// The fuzz targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Policy,
    Claim,
    Csv,
}

/// What one target needs, built once.
pub struct Fixtures {
    pub seeds: Vec<String>,
    pub claim: Claim,
    pub reg: Registry,
}

impl Fixtures {
    pub fn new() -> Option<Fixtures> {
        Some(Fixtures {
            seeds: seeds(),
            claim: serde_json::from_str(r#"{"date":"2024-06-01","care":"inpatient","level":"3","categories":["min_allowance"],"amounts":{"total":"123456.78","out_of_list":"100"}}"#).ok()?,
            reg: Registry::bundled(),
        })
    }
}

/// A claim request exercising every field.
pub const CLAIM_BASE: &str = r#"{"policy":"tianjin.resident","overrides":{"basic.ratio":"80%"},"state":{"year":2024,"layers":{"serious_illness":{"claims":1,"base":"5000"}}},"claims":[{"id":"a","date":"2024-06-01","care":"inpatient","level":"3","group":"insured","categories":["destitute","min_allowance"],"place":"local","referral":true,"amounts":{"total":"123456.78","out_of_list":"100","pre_self_pay":"50","over_limit":"1"}},{"date":"2024-07-01","care":"outpatient_special","amounts":{"total":"5000"}}]}"#;

/// A small claim file exercising every CSV column.
pub const CSV_BASE: &str = "id,person,region,scheme,date,group,categories,care,level,place,referral,disease,case_code,total,out_of_list,pre_self_pay,over_limit\nc1,p1,tianjin,resident,2024-02-01,insured,min_allowance;destitute,inpatient,3,local,false,,,30000,1000,200,0\nc2,p1,tianjin,resident,2024-03-01,insured,,inpatient,2,local,true,,,45000.50,0,0,10\nc3,p2,ziyang,employee,2024-04-01,in_service,,inpatient,1,local,false,,,8000,0,0,0\n";

/// The input number `i` of `target` for a run seeded with `seed`.
pub fn input(target: Target, fx: &Fixtures, seed: u64, i: u64) -> String {
    let mut rng = Rng(seed ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    match target {
        Target::Policy => {
            let base = &fx.seeds[(i as usize) % fx.seeds.len().max(1)];
            if i % 10 == 0 {
                // Pure noise from the token list.
                (0..rng.below(60))
                    .map(|_| TOKENS[rng.below(TOKENS.len())])
                    .collect::<Vec<_>>()
                    .join(" ")
            } else {
                mutate(&mut rng, base)
            }
        }
        Target::Claim => mutate(&mut rng, CLAIM_BASE),
        Target::Csv => mutate(&mut rng, CSV_BASE),
    }
}

/// What happened to one input (a panic escapes: the caller catches it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The input was refused with an error or diagnostics.
    Refused,
    /// The input was accepted (compiled, or settled).
    Accepted,
}

/// Runs one input through `target`.
pub fn run_one(target: Target, fx: &Fixtures, text: &str) -> Outcome {
    match target {
        Target::Policy => {
            let out = yibao::lang::compile_text("fuzz.policy", text);
            for d in &out.diagnostics {
                let j = d.to_json(&out.map);
                // Every diagnostic has a message (an empty one would be a bug).
                if j.message.is_empty() {
                    return Outcome::Refused;
                }
            }
            let _ = yibao::lang::fmt::format(text);
            match &out.policy {
                Some(p) => {
                    let _ = settle(
                        p,
                        &fx.claim,
                        &YtdState::default(),
                        &SettleOptions { trace: true },
                    );
                    Outcome::Accepted
                }
                None => Outcome::Refused,
            }
        }
        Target::Claim => {
            if yibao::estimate_json(&fx.reg, text).is_ok() {
                Outcome::Accepted
            } else {
                Outcome::Refused
            }
        }
        Target::Csv => {
            let Ok(mut rows) = yibao_batch::CsvRows::new(Cursor::new(text.as_bytes()), true) else {
                return Outcome::Refused;
            };
            let mut out = Vec::new();
            let mut rej = Vec::new();
            let opts = yibao_batch::Options {
                skip_invalid: true,
                threads: 1,
                chunk_rows: 2,
                ..yibao_batch::Options::default()
            };
            let sink = yibao_batch::RejectSink {
                writer: &mut rej,
                format: yibao_batch::Format::Csv,
            };
            match yibao_batch::run(
                &fx.reg,
                &mut rows,
                &mut out,
                yibao_batch::Format::Csv,
                Some(sink),
                &opts,
                &|_| {},
            ) {
                Ok(s) if s.settled > 0 => Outcome::Accepted,
                _ => Outcome::Refused,
            }
        }
    }
}
