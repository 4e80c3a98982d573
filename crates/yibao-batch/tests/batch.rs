#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]
//! The batch run: numbers, order, errors, rejects, determinism, and the generator.

use std::collections::BTreeMap;
use std::io::Cursor;

use yibao::{EstimateRequest, Registry};
use yibao_batch::gen::{generate, GenOptions};
use yibao_batch::{
    run, BatchError, CsvRows, Format, JsonlRows, Options, RejectSink, Rows, Summary,
};

const HEADER: &str = "id,person,region,scheme,date,group,categories,care,level,place,referral,total,out_of_list,pre_self_pay,over_limit";

fn csv(rows: &[&str]) -> String {
    let mut s = HEADER.to_string() + "\n";
    for r in rows {
        s.push_str(r);
        s.push('\n');
    }
    s
}

struct Ran {
    out: String,
    rejects: String,
    result: Result<Summary, BatchError>,
}

fn run_with(reg: &Registry, input: &str, fin: Format, fout: Format, opts: &Options) -> Ran {
    let mut rows: Box<dyn Rows> = match fin {
        Format::Csv => {
            Box::new(CsvRows::new(Cursor::new(input.to_string()), opts.skip_invalid).unwrap())
        }
        Format::Jsonl => Box::new(JsonlRows::new(
            Cursor::new(input.to_string()),
            opts.skip_invalid,
        )),
    };
    let mut out: Vec<u8> = Vec::new();
    let mut rej: Vec<u8> = Vec::new();
    let sink = opts.skip_invalid.then_some(RejectSink {
        writer: &mut rej,
        format: fin,
    });
    let result = run(reg, rows.as_mut(), &mut out, fout, sink, opts, &|_| {});
    Ran {
        out: String::from_utf8(out).unwrap(),
        rejects: String::from_utf8(rej).unwrap(),
        result,
    }
}

/// A synthetic claim file: (claims, text).
fn sample(reg: &Registry, persons: u64, seed: u64, format: Format) -> (u64, String) {
    let mut out = Vec::new();
    let opts = GenOptions {
        persons,
        seed,
        year: 2024,
        policy: None,
    };
    let n = generate(reg, &opts, format, &mut out).unwrap();
    (n, String::from_utf8(out).unwrap())
}

/// CSV in, CSV out.
fn csv_run(reg: &Registry, input: &str, opts: &Options) -> Ran {
    run_with(reg, input, Format::Csv, Format::Csv, opts)
}

/// The test options, invalid rows going to the reject file.
fn skipping() -> Options {
    Options {
        skip_invalid: true,
        ..opts()
    }
}

fn opts() -> Options {
    Options {
        threads: 2,
        chunk_rows: 2,
        ..Options::default()
    }
}

/// The output rows as maps column → value.
fn table(out: &str) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_reader(out.as_bytes());
    let h = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            h.iter()
                .zip(rec.iter())
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

#[test]
fn reproduces_the_hand_worked_tianjin_cascade() {
    // tests/vectors/tianjin/cascade-min-allowance.yaml, worked by hand: in scope 298,000;
    // basic 75% = 223,500; 大病 (74,500 − 20,000) × 50% = 27,250; aid 47,250 × 70% = 33,075.
    let reg = Registry::bundled();
    let input = csv(&[
        "c1,p1,tianjin,resident,2019-05-01,,min_allowance,inpatient,3,,false,300000,2000,0,0",
    ]);
    let ran = csv_run(&reg, &input, &opts());
    let s = ran.result.unwrap();
    let rows = table(&ran.out);
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    assert_eq!(r["line"], "2");
    assert_eq!(r["policy"], "tianjin.resident");
    assert_eq!(r["in_scope"], "298000.00");
    assert_eq!(r["basic"], "223500.00");
    assert_eq!(r["serious_illness"], "27250.00");
    assert_eq!(r["medical_aid"], "33075.00");
    assert_eq!(r["fund_total"], "283825.00");
    assert_eq!(r["out_of_pocket"], "16175.00");
    assert_eq!(r["co_pay"], "14175.00");
    assert_eq!(r["out_of_list"], "2000.00");
    assert_eq!(r["unverified"], "true");
    assert_eq!((s.claims, s.settled, s.rejected, s.persons), (1, 1, 0, 1));
    assert_eq!(s.fund_total.to_string(), "283825.00");
    // All layers paid 298,000 − 14,175 of the policy-scope amount: 283,825 / 298,000.
    assert_eq!(s.policy_scope_ratio.unwrap().to_string(), "0.9524");
    // The basic fund alone: 223,500 / 298,000 = 0.75.
    assert_eq!(s.basic_policy_scope_ratio.unwrap().to_string(), "0.75");
    assert_eq!(s.claims_on_unverified_figures, 1);
}

/// Every output row equals what `estimate` gives for the same person's year (the full
/// settlement path), and the summary is the sum of the rows.
#[test]
fn agrees_with_estimate_and_sums_exactly() {
    let reg = Registry::bundled();
    let (_, input) = sample(&reg, 300, 11, Format::Jsonl);
    let ran = run_with(&reg, &input, Format::Jsonl, Format::Csv, &opts());
    let s = ran.result.unwrap();
    let rows = table(&ran.out);
    assert_eq!(rows.len() as u64, s.settled);
    assert_eq!(s.claims, s.settled);
    assert_eq!(s.persons, 300);

    // Group the input by person and settle each year with `estimate`.
    let claims: Vec<yibao::Claim> = input
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut i = 0;
    let mut fund = rust_decimal::Decimal::ZERO;
    while i < claims.len() {
        let person = claims[i].person.clone();
        let mut j = i;
        while j < claims.len() && claims[j].person == person {
            j += 1;
        }
        let req = EstimateRequest {
            claims: claims[i..j].to_vec(),
            trace: false,
            ..EstimateRequest::default()
        };
        let answer = yibao::estimate(&reg, &req).unwrap();
        for (k, st) in answer.settlements.iter().enumerate() {
            let r = &rows[i + k];
            assert_eq!(r["id"], *claims[i + k].id.as_ref().unwrap());
            assert_eq!(r["fund_total"], st.fund_total.to_string(), "row {}", i + k);
            assert_eq!(r["out_of_pocket"], st.out_of_pocket.total.to_string());
            assert_eq!(r["deductible"], st.out_of_pocket.deductible.to_string());
            assert_eq!(r["in_scope"], st.amounts.in_scope.to_string());
            let basic: rust_decimal::Decimal = st
                .layers
                .iter()
                .filter(|l| l.kind == yibao::engine::ir::LayerKind::Basic)
                .map(|l| l.payment.get())
                .sum();
            assert_eq!(r["basic"], format!("{basic:.2}"));
            fund += st.fund_total.get();
        }
        i = j;
    }
    assert_eq!(s.fund_total.get(), fund);
    let oop: rust_decimal::Decimal = rows
        .iter()
        .map(|r| r["out_of_pocket"].parse::<rust_decimal::Decimal>().unwrap())
        .sum();
    assert_eq!(s.out_of_pocket.get(), oop);
    assert_eq!(s.total.get(), s.fund_total.get() + s.out_of_pocket.get());
    let buckets: u64 = s.out_of_pocket_distribution.iter().map(|b| b.claims).sum();
    assert_eq!(buckets, s.settled);
}

#[test]
fn output_is_the_same_bytes_whatever_the_threads_and_chunks() {
    let reg = Registry::bundled();
    let (_, input) = sample(&reg, 500, 3, Format::Csv);
    let base = run_with(
        &reg,
        &input,
        Format::Csv,
        Format::Jsonl,
        &Options {
            threads: 1,
            chunk_rows: 100_000,
            ..Options::default()
        },
    );
    let base_summary = base.result.unwrap();
    // Then: persons written out to temporary files every 3 persons (500 persons, all grouped:
    // nothing to report at the end); chunks of at most 1, 2 or 5 rows, so most persons are cut
    // across chunks and their state handed from one worker to the next.
    let many = 1 << 17;
    for (threads, chunk, persons_in_memory, max_chunk_rows) in [
        (2, 1, many, 65_536),
        (2, 7, many, 65_536),
        (4, 64, many, 65_536),
        (3, 4096, many, 65_536),
        (2, 64, 3, 65_536),
        (1, 64, many, 1),
        (2, 64, many, 2),
        (4, 8, many, 5),
    ] {
        let r = run_with(
            &reg,
            &input,
            Format::Csv,
            Format::Jsonl,
            &Options {
                threads,
                chunk_rows: chunk,
                persons_in_memory,
                max_chunk_rows,
                ..Options::default()
            },
        );
        assert_eq!(r.result.unwrap(), base_summary);
        assert!(
            r.out == base.out,
            "threads {threads}, chunk {chunk}, max {max_chunk_rows}: output differs"
        );
    }
}

#[test]
fn csv_and_jsonl_inputs_give_the_same_numbers() {
    let reg = Registry::bundled();
    let gen = |f| sample(&reg, 200, 5, f).1;
    let a = csv_run(&reg, &gen(Format::Csv), &opts());
    let b = run_with(
        &reg,
        &gen(Format::Jsonl),
        Format::Jsonl,
        Format::Csv,
        &opts(),
    );
    let strip = |out: &str| -> Vec<String> {
        // The line column differs (CSV has a header line); the rest must agree.
        table(out)
            .into_iter()
            .map(|mut r| {
                r.remove("line");
                format!("{r:?}")
            })
            .collect()
    };
    assert_eq!(a.result.unwrap(), b.result.unwrap());
    assert_eq!(strip(&a.out), strip(&b.out));
}

#[test]
fn a_claim_out_of_date_order_stops_the_run_naming_the_row() {
    let reg = Registry::bundled();
    let input = csv(&[
        "a1,pA,tianjin,resident,2024-05-01,,,inpatient,3,,false,1000,0,0,0",
        "a2,pA,tianjin,resident,2024-03-01,,,inpatient,3,,false,1000,0,0,0",
    ]);
    let r = csv_run(&reg, &input, &opts());
    let e = r.result.unwrap_err();
    assert!(matches!(e, BatchError::Order(_)), "{e}");
    let msg = e.to_string();
    assert!(msg.starts_with("line 3: person `pA`"), "{msg}");
    assert!(msg.contains("(line 2)") && msg.contains("--sort"), "{msg}");
}

#[test]
fn a_person_split_across_the_file_is_an_error_unless_sorted() {
    let reg = Registry::bundled();
    let rows = [
        "a1,pA,tianjin,resident,2024-02-01,,,inpatient,3,,false,30000,1000,0,0",
        "b1,pB,tianjin,resident,2024-02-02,,,inpatient,2,,false,20000,0,0,0",
        "a2,pA,tianjin,resident,2024-06-01,,,inpatient,3,,false,40000,0,0,0",
    ];
    let r = csv_run(&reg, &csv(&rows), &opts());
    let msg = r.result.unwrap_err().to_string();
    assert!(
        msg.starts_with("line 4: person `pA` appears again"),
        "{msg}"
    );
    assert!(msg.contains("began at line 2"), "{msg}");

    // With one person in memory, earlier persons go to temporary files: the split is caught at
    // the end of the input, naming the same rows, and nothing is written.
    let r = run_with(
        &reg,
        &csv(&rows),
        Format::Csv,
        Format::Csv,
        &Options {
            persons_in_memory: 1,
            ..opts()
        },
    );
    let e = r.result.unwrap_err();
    assert!(matches!(e, BatchError::Order(_)), "{e}");
    assert_eq!(e.to_string(), msg);

    // Sorted, the same claims settle as if given in order: pA's second admission sees the first.
    let sorted = run_with(
        &reg,
        &csv(&rows),
        Format::Csv,
        Format::Csv,
        &Options {
            sort: true,
            ..opts()
        },
    );
    let in_order = csv_run(&reg, &csv(&[rows[0], rows[2], rows[1]]), &opts());
    assert_eq!(sorted.result.unwrap(), in_order.result.unwrap());
    let ids = |out: &str| {
        table(out)
            .into_iter()
            .map(|r| (r["id"].clone(), r["fund_total"].clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&sorted.out), ids(&in_order.out));
    assert_eq!(ids(&sorted.out)[0].0, "a1");
    assert_eq!(ids(&sorted.out)[1].0, "a2");
}

#[test]
fn an_invalid_row_stops_the_run_or_goes_to_the_rejects() {
    let reg = Registry::bundled();
    let rows = [
        "a1,pA,tianjin,resident,2024-02-01,,,inpatient,3,,false,30000,1000,0,0",
        "b1,pB,tianjin,resident,2024-02-02,,,inpatient,9,,false,20000,0,0,0",
        "c1,pC,tianjin,resident,2024-02-03,,,inpatient,3,,false,-5,0,0,0",
        "d1,pD,tianjin,resident,2024-02-30,,,inpatient,3,,false,100,0,0,0",
        "e1,pE,tianjin,resident,2024-02-04,,,inpatient,3,,false,5000,0,0,0",
    ];
    let r = csv_run(&reg, &csv(&rows), &opts());
    let e = r.result.unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.starts_with("line 3: level: unknown hospital level `9`"),
        "{msg}"
    );
    assert!(matches!(e, BatchError::Row(_)));
    // Nothing after the failing row was written.
    assert!(!r.out.contains("e1"), "{}", r.out);

    let r = csv_run(&reg, &csv(&rows), &skipping());
    let s = r.result.unwrap();
    assert_eq!((s.claims, s.settled, s.rejected), (5, 2, 3));
    let ids: Vec<String> = table(&r.out).into_iter().map(|r| r["id"].clone()).collect();
    assert_eq!(ids, ["a1", "e1"]);
    let rej = table(&r.rejects);
    assert_eq!(rej.len(), 3);
    assert_eq!(rej[0]["line"], "3");
    assert!(
        rej[0]["error"].contains("unknown hospital level `9`"),
        "{:?}",
        rej[0]
    );
    assert_eq!(rej[0]["id"], "b1", "the original row is kept");
    assert_eq!(rej[1]["line"], "4");
    assert!(
        rej[1]["error"].contains("total") && rej[1]["error"].contains("negative"),
        "{:?}",
        rej[1]
    );
    assert_eq!(rej[2]["line"], "5");
    assert!(rej[2]["error"].contains("2024-02-30"), "{:?}", rej[2]);
}

#[test]
fn jsonl_rejects_keep_the_line_and_the_field() {
    let reg = Registry::bundled();
    let input = "{\"person\":\"p\",\"region\":\"tianjin\",\"scheme\":\"resident\",\"date\":\"2024-01-02\",\"care\":\"inpatient\",\"amounts\":{\"total\":\"100\"}}\n\n{\"person\":\"q\",\"date\":\"2024-01-02\",\"care\":\"inpatient\",\"amounts\":{\"total\":\"1x\"}}\nnot json\n";
    let r = run_with(&reg, input, Format::Jsonl, Format::Jsonl, &skipping());
    let s = r.result.unwrap();
    assert_eq!((s.claims, s.settled, s.rejected), (3, 1, 2));
    let rej: Vec<serde_json::Value> = r
        .rejects
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rej[0]["line"], 3);
    assert_eq!(rej[0]["field"], "amounts.total");
    assert_eq!(rej[1]["line"], 4);
    assert_eq!(rej[1]["row"], "not json");
    let out: serde_json::Value = serde_json::from_str(r.out.lines().next().unwrap()).unwrap();
    assert_eq!(out["line"], 1);
    assert_eq!(out["total"], "100.00");
}

#[test]
fn a_bad_header_or_policy_is_refused_before_any_row() {
    let e = CsvRows::new(Cursor::new("date,care,total,colour\n"), false)
        .err()
        .unwrap();
    assert!(e.to_string().contains("unknown column `colour`"), "{e}");
    let e = CsvRows::new(Cursor::new("date,total\n"), false)
        .err()
        .unwrap();
    assert!(e.to_string().contains("no `care` column"), "{e}");
    let reg = Registry::bundled();
    let r = run_with(
        &reg,
        &csv(&[]),
        Format::Csv,
        Format::Csv,
        &Options {
            policy: Some("atlantis.resident".into()),
            ..opts()
        },
    );
    assert!(r
        .result
        .unwrap_err()
        .to_string()
        .contains("no policy `atlantis.resident`"));
    let r = run_with(
        &reg,
        &csv(&[]),
        Format::Csv,
        Format::Csv,
        &Options {
            overrides: [("basic.ratio".to_string(), "lots".to_string())].into(),
            ..opts()
        },
    );
    assert!(r.result.is_err());
}

#[test]
fn an_override_changes_the_cost() {
    // A drafter's what-if: the 2014 Tianjin basic ratio (a placeholder, 70%) set to 80%.
    let reg = Registry::bundled();
    let input = csv(&["c1,p1,tianjin,resident,2024-05-01,,,inpatient,3,,false,10000,0,0,0"]);
    let base = csv_run(&reg, &input, &opts()).result.unwrap();
    let what_if = run_with(
        &reg,
        &input,
        Format::Csv,
        Format::Csv,
        &Options {
            overrides: [("basic.ratio".to_string(), "80%".to_string())].into(),
            ..opts()
        },
    )
    .result
    .unwrap();
    assert_eq!(base.by_layer_kind["basic"].to_string(), "7000.00");
    assert_eq!(what_if.by_layer_kind["basic"].to_string(), "8000.00");
}

#[test]
fn the_generator_is_deterministic_and_its_claims_all_settle() {
    let reg = Registry::bundled();
    let g = |seed| sample(&reg, 400, seed, Format::Csv);
    let (n1, a) = g(9);
    let (_, b) = g(9);
    let (_, c) = g(10);
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!(a.lines().count() as u64, n1 + 1);
    let s = csv_run(&reg, &a, &opts()).result.unwrap();
    assert_eq!((s.settled, s.rejected), (n1, 0));
    // A mix: several cities and every care type the policies know appear.
    for city in ["tianjin", "beijing", "guangzhou", "huzhou", "ziyang"] {
        assert!(a.contains(&format!(",{city},")), "no {city}");
    }
    for care in ["inpatient", "general_outpatient", "outpatient_special"] {
        assert!(a.contains(&format!(",{care},")), "no {care}");
    }
}

/// One person's year of trillion-yuan admissions once overflowed a worker's sums (a panic); now
/// the claim that would take the year beyond the supported range is refused with its line and the
/// state's path, and with `--skip-invalid` the run goes on.
#[test]
fn a_year_beyond_the_supported_range_stops_at_its_row_not_a_panic() {
    let reg = Registry::bundled();
    let rows: Vec<String> = (0..102)
        .map(|i| {
            format!("c{i},pA,tianjin,resident,2024-03-14,,,inpatient,3,,false,1000000000000,0,0,0")
        })
        .collect();
    let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
    let r = csv_run(&reg, &csv(&rows), &opts());
    let msg = r.result.unwrap_err().to_string();
    assert_eq!(
        msg,
        "line 103: state.layers.basic.base: the year so far has accumulated more than 100,000,000,000,000 yuan: beyond what yibao settles"
    );
    let r = csv_run(&reg, &csv(&rows), &skipping());
    let summary = r.result.unwrap();
    assert_eq!((summary.claims, summary.rejected), (102, 1));
}

/// Months of long-term care for two persons (one Guangzhou, one Tianjin), as CSV with one
/// column per fact and per cost: each row settles to what `estimate` gives for the same person's
/// months written in the claim format, and the hand-worked vectors' numbers come out.
#[test]
fn months_of_long_term_care_settle_as_estimate_does() {
    use serde_json::json;
    let reg = Registry::bundled();
    // The claim format (what `yibao estimate` reads), one person after the other.
    let months = [
        // GZ-LTC-INST-L3-EMPLOYEE: fund 3,960.00, you pay 1,640.00.
        json!({"id":"g1","person":"g","region":"guangzhou","scheme":"ltc","date":"2024-03-31","group":"employee","care":"institution","level":"3",
               "amounts":{"total":"5600"},"month":{"days":31,"age":81,"costs":{"personal_care":"4000","nursing":"1000","supplies":"200","equipment":"400"}}}),
        json!({"id":"g2","person":"g","region":"guangzhou","scheme":"ltc","date":"2024-04-30","group":"employee","care":"institution","level":"3",
               "amounts":{"total":"4300.50"},"month":{"days":30,"hospital_days":4,"age":81,"costs":{"personal_care":"3000","nursing":"1200.50","supplies":"100"}}}),
        // GZ-LTC-HOME-B-EMPLOYEE's month, then one below the visit minimum.
        json!({"id":"g3","person":"g","region":"guangzhou","scheme":"ltc","date":"2024-09-30","group":"employee","care":"home_b","level":"2",
               "amounts":{"total":"1500"},"month":{"days":30,"visits":12,"hours":"28","age":81,"costs":{"personal_care":"1000","nursing":"400","equipment":"100"}}}),
        json!({"id":"g4","person":"g","region":"guangzhou","scheme":"ltc","date":"2024-10-31","group":"employee","care":"home_b","level":"2",
               "amounts":{"total":"1400"},"month":{"days":31,"visits":10,"hours":"30.5","months_used":3,"costs":{"personal_care":"1000","nursing":"400"}}}),
        // TJ-LTC-INSTITUTION-OVER-LIMIT: fund 1,470.00; then home care and a family carer.
        json!({"id":"t1","person":"t","region":"tianjin","scheme":"ltc","date":"2021-04-30","care":"institution",
               "amounts":{"total":"3000"},"month":{"days":30,"costs":{"personal_care":"2000","nursing":"1000"}}}),
        json!({"id":"t2","person":"t","region":"tianjin","scheme":"ltc","date":"2021-05-31","care":"home",
               "amounts":{"total":"1000"},"month":{"costs":{"personal_care":"1000"}}}),
        json!({"id":"t3","person":"t","region":"tianjin","scheme":"ltc","date":"2021-08-31","care":"family",
               "amounts":{"total":"2250"},"month":{"costs":{"family_care":"750","personal_care":"1500"}}}),
    ];
    // The same months as CSV rows; g2's total is left empty (the sum of its costs).
    let facts = [
        "days",
        "hospital_days",
        "visits",
        "hours",
        "age",
        "months_used",
    ];
    let costs = [
        "personal_care",
        "nursing",
        "supplies",
        "equipment",
        "assessment",
        "family_care",
    ];
    let mut input = format!(
        "id,person,region,scheme,date,group,care,level,total,{},{}\n",
        facts.join(","),
        costs.join(",")
    );
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    };
    for m in &months {
        let mut row: Vec<String> = [
            "id", "person", "region", "scheme", "date", "group", "care", "level",
        ]
        .iter()
        .map(|k| text(&m[k]))
        .collect();
        row.push(if m["id"] == "g2" {
            String::new()
        } else {
            text(&m["amounts"]["total"])
        });
        row.extend(facts.iter().map(|k| text(&m["month"][k])));
        row.extend(costs.iter().map(|k| text(&m["month"]["costs"][k])));
        input.push_str(&row.join(","));
        input.push('\n');
    }
    let ran = csv_run(&reg, &input, &opts());
    let s = ran.result.unwrap();
    let rows = table(&ran.out);
    assert_eq!((s.claims, s.settled, s.persons), (7, 7, 2));

    // Each person's months through the facade, as `yibao estimate` settles them.
    let claims: Vec<yibao::Claim> = months
        .iter()
        .map(|m| serde_json::from_value(m.clone()).unwrap())
        .collect();
    let mut settled = vec![];
    for person in ["g", "t"] {
        let req = EstimateRequest {
            policy: Some(format!(
                "{}.ltc",
                if person == "g" {
                    "guangzhou"
                } else {
                    "tianjin"
                }
            )),
            claims: claims
                .iter()
                .filter(|c| c.person.as_deref() == Some(person))
                .cloned()
                .collect(),
            ..EstimateRequest::default()
        };
        settled.extend(yibao::estimate(&reg, &req).unwrap().settlements);
    }
    assert_eq!(settled.len(), rows.len());
    for (r, st) in rows.iter().zip(&settled) {
        let id = &r["id"];
        assert_eq!(r["policy"], *st.policy.id, "{id}");
        assert_eq!(r["total"], st.amounts.total.to_string(), "{id}");
        assert_eq!(r["fund_total"], st.fund_total.to_string(), "{id}");
        assert_eq!(
            r["basic"],
            st.fund_total.to_string(),
            "{id}: care layers are kind basic"
        );
        assert_eq!(
            r["out_of_pocket"],
            st.out_of_pocket.total.to_string(),
            "{id}"
        );
        assert_eq!(r["co_pay"], st.out_of_pocket.co_pay.to_string(), "{id}");
        assert_eq!(
            r["above_cap"],
            st.out_of_pocket.above_cap.to_string(),
            "{id}"
        );
        assert_eq!(
            r["not_covered"],
            st.out_of_pocket.not_covered.to_string(),
            "{id}"
        );
    }
    // The hand-worked vectors' numbers.
    assert_eq!(
        (
            rows[0]["fund_total"].as_str(),
            rows[0]["out_of_pocket"].as_str()
        ),
        ("3960.00", "1640.00")
    );
    assert_eq!(
        rows[1]["total"], "4300.50",
        "the empty total is the sum of the costs"
    );
    assert_eq!(
        (
            rows[2]["fund_total"].as_str(),
            rows[2]["out_of_pocket"].as_str()
        ),
        ("1255.00", "245.00")
    );
    assert_eq!(
        (
            rows[3]["fund_total"].as_str(),
            rows[3]["not_covered"].as_str()
        ),
        ("0.00", "1400.00")
    );
    assert_eq!(rows[4]["fund_total"], "1470.00");
    assert_eq!(rows[5]["fund_total"], "750.00");
    assert_eq!(rows[6]["fund_total"], "1575.00");

    // JSON Lines of the claim format give the same rows.
    let jsonl: String = months.iter().map(|m| format!("{m}\n")).collect();
    let j = run_with(&reg, &jsonl, Format::Jsonl, Format::Csv, &opts());
    assert_eq!(j.result.unwrap(), s);
    let strip = |out: &str| -> Vec<String> {
        table(out)
            .into_iter()
            .map(|mut r| {
                r.remove("line");
                format!("{r:?}")
            })
            .collect()
    };
    assert_eq!(strip(&j.out), strip(&ran.out));
}

/// A bad month in CSV names its line and column and says what is wrong.
#[test]
fn a_bad_care_month_names_its_line_and_column() {
    let reg = Registry::bundled();
    let header =
        "person,region,scheme,date,group,care,level,total,days,visits,hours,nursing,family_care\n";
    let rows = [
        "g,guangzhou,ltc,2024-09-30,employee,home_b,2,,30,twelve,28,400,",
        "h,guangzhou,ltc,2024-09-30,employee,home_b,2,,30,12,28.125,400,",
        "i,guangzhou,ltc,2024-09-30,employee,home_b,2,,30,12,28,4OO,",
        "j,guangzhou,ltc,2024-09-30,employee,home_b,2,,-3,12,28,400,",
        "k,guangzhou,ltc,2024-09-30,employee,home_b,2,,,,,,",
        "l,guangzhou,ltc,2024-09-30,employee,home_b,2,500,30,12,28,400,",
        "m,guangzhou,ltc,2024-09-30,employee,home_b,2,,30,12,28,400,",
    ];
    let input = format!("{header}{}\n", rows.join("\n"));
    let r = csv_run(&reg, &input, &opts());
    assert_eq!(
        r.result.unwrap_err().to_string(),
        "line 2: visits: `twelve` is not a whole number of 0 or more"
    );
    let r = csv_run(&reg, &input, &skipping());
    let s = r.result.unwrap();
    assert_eq!((s.claims, s.settled, s.rejected), (7, 1, 6));
    let rej = table(&r.rejects);
    let errors: Vec<&str> = rej.iter().map(|r| r["error"].as_str()).collect();
    assert_eq!(
        rej.iter().map(|r| r["line"].as_str()).collect::<Vec<_>>(),
        ["2", "3", "4", "5", "6", "7"]
    );
    assert_eq!(
        errors[0],
        "line 2: visits: `twelve` is not a whole number of 0 or more"
    );
    assert!(
        errors[1].starts_with("line 3: hours: ") && errors[1].contains("28.125"),
        "{}",
        errors[1]
    );
    assert!(
        errors[2].starts_with("line 4: nursing: ") && errors[2].contains("4OO"),
        "{}",
        errors[2]
    );
    assert_eq!(
        errors[3],
        "line 5: days: `-3` is not a whole number of 0 or more"
    );
    assert!(
        errors[4].starts_with("line 6: total: the total bill is empty"),
        "{}",
        errors[4]
    );
    // A total given is checked against the costs by the evaluator, which names the field.
    assert!(
        errors[5].starts_with("line 7: amounts.total: ") && errors[5].contains("not the sum"),
        "{}",
        errors[5]
    );
    assert_eq!(table(&r.out)[0]["fund_total"], "360.00");
}

/// `stay_days` (or the platform's `act_ipt_days`) and `special_drugs` are columns read as the
/// claim format reads them: a whole number of days; money within 全自费.
#[test]
fn stay_days_and_special_drugs_columns() {
    let reg = Registry::bundled();
    let head =
        "id,person,region,scheme,date,group,care,level,stay_days,total,out_of_list,special_drugs\n";
    let input = head.to_string()
        + "g1,p1,guangzhou,employee,2023-03-01,in_service,inpatient,3,200,50000,0,0\n"
        + "g2,p2,guangzhou,employee,2023-03-01,in_service,inpatient,3,,50000,0,0\n"
        + "g3,p3,guangzhou,employee,2023-03-01,in_service,inpatient,3,1.5,50000,0,0\n"
        + "g4,p4,guangzhou,employee,2023-03-01,in_service,inpatient,3,-3,50000,0,0\n"
        + "h1,p5,huzhou,resident,2022-04-01,,inpatient,2,,50000,20000,15000\n"
        + "h2,p6,huzhou,resident,2022-04-01,,inpatient,2,,50000,20000,25000\n";
    let r = csv_run(&reg, &input, &skipping());
    let s = r.result.unwrap();
    assert_eq!((s.claims, s.settled, s.rejected), (6, 3, 3));
    let rows = table(&r.out);
    // GZ-STAY-REPEAT-200-DAYS: 3 × 1,000 deductible; (50,000 − 3,000) × 80% = 37,600.
    assert_eq!(rows[0]["basic"], "37600.00");
    assert_eq!(rows[0]["deductible"], "3000.00");
    // Without the stay's length: once, (50,000 − 1,000) × 80% = 39,200.
    assert_eq!(rows[1]["basic"], "39200.00");
    assert_eq!(rows[2]["id"], "h1");
    let rej = table(&r.rejects);
    assert!(
        rej[0]["error"].contains("stay_days") && rej[0]["error"].contains("1.5"),
        "{:?}",
        rej[0]
    );
    assert!(
        rej[1]["error"].contains("`-3` is not a whole number of days"),
        "{:?}",
        rej[1]
    );
    assert!(
        rej[2]["error"].contains("special_drugs 25000.00 is more than out_of_list"),
        "{:?}",
        rej[2]
    );
    // The platform's name for the column.
    let input =
        "date,care,level,group,act_ipt_days,total\n2023-03-01,inpatient,3,in_service,200,50000\n";
    let o = Options {
        policy: Some("guangzhou.employee".into()),
        ..opts()
    };
    let r = csv_run(&reg, input, &o);
    r.result.unwrap();
    assert_eq!(table(&r.out)[0]["basic"], "37600.00");
}

#[test]
fn settling_is_timed_apart_only_when_asked_and_changes_nothing_else() {
    let reg = Registry::bundled();
    let (claims, input) = sample(&reg, 200, 5, Format::Csv);
    let plain = csv_run(&reg, &input, &opts());
    let timed = csv_run(
        &reg,
        &input,
        &Options {
            time_settle: true,
            ..opts()
        },
    );
    let (plain_summary, timed_summary) = (plain.result.unwrap(), timed.result.unwrap());
    assert_eq!(plain_summary.settle_ns, None);
    let ns = timed_summary.settle_ns.expect("asked for");
    assert!(ns > 0, "{claims} claims settled in no time");
    // Everything else is as without the timer, and the summary's JSON names the timer only
    // when it ran.
    assert_eq!(
        Summary {
            settle_ns: None,
            ..timed_summary.clone()
        },
        plain_summary
    );
    assert_eq!(timed.out, plain.out);
    let json = |s: &Summary| serde_json::to_value(s).unwrap();
    assert!(json(&plain_summary).get("settle_ns").is_none());
    assert_eq!(json(&timed_summary)["settle_ns"], ns);
}
