#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]
use assert_cmd::Command;

fn yibao() -> Command {
    let mut c = Command::cargo_bin("yibao").unwrap();
    c.current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    c
}

fn stdout(c: &mut Command) -> (i32, String, String) {
    let o = c.output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn estimate_from_flags_explains_and_warns() {
    let (code, out, _) = stdout(yibao().args([
        "estimate",
        "--policy",
        "tianjin.resident",
        "--date",
        "2019-05-01",
        "--level",
        "3",
        "--total",
        "300000",
        "--out-of-list",
        "2000",
        "--category",
        "min_allowance",
    ]));
    assert_eq!(code, 0);
    assert!(out.contains("223500.00"), "{out}");
    assert!(out.contains("16175.00"));
    assert!(out.contains("计算过程"));
    assert!(
        out.contains("deductible per_year 20000 [official TJ-a]"),
        "cites the clause: {out}"
    );
    assert!(out.contains("未核实"), "names unverified figures");
    // In words: what an unverified figure means and what was assumed, not a pointer to JSON.
    assert!(!out.contains("see `unverified`"), "{out}");
    assert!(
        out.contains("not yet verified against an official text"),
        "{out}"
    );
    assert!(
        out.contains("basic.deductible = none: no official figure found; counted as 0, so the estimate may be too generous"),
        "{out}"
    );
    assert!(out.contains("--set PATH=VALUE"), "{out}");
}

#[test]
fn estimate_json_is_the_api_answer() {
    let (code, out, _) = stdout(yibao().args([
        "estimate",
        "--policy",
        "tianjin.resident",
        "--date",
        "2024-05-01",
        "--total",
        "1000",
        "--json",
        "--brief",
    ]));
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["settlements"][0]["amounts"]["total"], "1000.00");
    assert_eq!(v["settlements"][0]["trace"].as_array().unwrap().len(), 0);
}

#[test]
fn estimate_from_a_year_file_with_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("year.yaml");
    std::fs::write(&f, "policy: tianjin.resident\noverrides: { basic.ratio: \"0%\" }\nclaims:\n  - {date: '2015-03-01', care: inpatient, amounts: {total: '60000'}}\n  - {date: '2015-06-01', care: inpatient, amounts: {total: '90000'}}\n").unwrap();
    let (code, out, err) = stdout(yibao().args(["estimate", f.to_str().unwrap(), "--json"]));
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["settlements"][1]["layers"][1]["payment"], "50000.00");
    assert_eq!(v["state"]["layers"]["serious_illness"]["paid"], "70000.00");
}

#[test]
fn a_bad_claim_exits_1_with_the_field() {
    let (code, _, err) = stdout(yibao().args([
        "estimate",
        "--policy",
        "tianjin.resident",
        "--date",
        "2024-05-01",
        "--total",
        "10",
        "--care",
        "dental",
    ]));
    assert_eq!(code, 1);
    assert!(
        err.contains("claim.care: unknown care type `dental`"),
        "{err}"
    );
    assert!(
        err.contains("allowed: inpatient, outpatient_special"),
        "{err}"
    );
}

#[test]
fn bad_flags_exit_2() {
    let (code, _, err) = stdout(yibao().args([
        "estimate",
        "--policy",
        "tianjin.resident",
        "--date",
        "2024-13-01",
        "--total",
        "1",
    ]));
    assert_eq!(code, 2, "{err}");
}

#[test]
fn check_reports_errors_with_location_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("draft.policy");
    std::fs::write(&f, "policy x.y \"d\"\neffective 2024-01-01 confirmed 2024-12-31\ncare [inpatient]\nlayer basic \"b\" {\n  base in_scope\n  ratio 185% [placeholder]\n}\n").unwrap();
    let (code, _, err) = stdout(yibao().args(["check", f.to_str().unwrap()]));
    assert_eq!(code, 1);
    assert!(err.contains("ratio `185%` is outside 0–100%"), "{err}");
    assert!(err.contains("draft.policy:6:9"), "{err}");
    let (code, out, _) = stdout(yibao().args(["check", "--json", f.to_str().unwrap()]));
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["line"], 6);
    let (code, _, err) = stdout(yibao().args(["check"]));
    assert_eq!(code, 0, "bundled policies check clean: {err}");
}

#[test]
fn fmt_check_flags_unformatted_files() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("a.policy");
    std::fs::write(
        &f,
        "policy x.y \"d\"   effective 2024-01-01 care [inpatient]",
    )
    .unwrap();
    let (code, _, _) = stdout(yibao().args(["fmt", "--check", f.to_str().unwrap()]));
    assert_eq!(code, 1);
    let (code, out, _) = stdout(yibao().args(["fmt", f.to_str().unwrap()]));
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "policy x.y \"d\"\neffective 2024-01-01\n\ncare [inpatient]\n"
    );
    let (code, _, _) = stdout(yibao().args(["fmt", "--check", "policies"]));
    assert_eq!(code, 0);
}

#[test]
fn vectors_pass_and_a_failure_shows_the_diff() {
    let (code, out, _) = stdout(yibao().args(["vectors", "tests/vectors"]));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("0 failed"));
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bad.yaml");
    std::fs::write(&f, "id: X\ntitle: wrong on purpose\nprovenance: derived\npolicy: tianjin.resident\noverrides: {basic.ratio: '0%'}\nclaims:\n  - claim: {date: '2015-01-01', care: inpatient, amounts: {total: '150000'}}\n    expect: {layers: {serious_illness: '1.00'}}\n").unwrap();
    let (code, out, _) = stdout(yibao().args(["vectors", f.to_str().unwrap()]));
    assert_eq!(code, 1);
    assert!(
        out.contains("claims[0].layers.serious_illness: expected 1.00, got 70000.00"),
        "{out}"
    );
}

#[test]
fn every_city_and_scheme_gives_an_explained_estimate() {
    let policies = [
        "tianjin.resident",
        "tianjin.employee",
        "beijing.resident",
        "beijing.employee",
        "guangzhou.resident",
        "guangzhou.employee",
        "huzhou.resident",
        "huzhou.employee",
        "ziyang.resident",
        "ziyang.employee",
    ];
    for p in policies {
        let (code, out, err) = stdout(yibao().args([
            "estimate",
            "--policy",
            p,
            "--date",
            "2024-06-01",
            "--level",
            "2",
            "--total",
            "20000",
        ]));
        assert_eq!(code, 0, "{p}: {err}");
        assert!(
            out.contains("计算过程") && out.contains("how it was computed"),
            "{p}: no explanation\n{out}"
        );
        assert!(out.contains("total 合计"), "{p}");
        // Every estimate says how sure it is: it names the unverified figures it relied on, or
        // says that the rules are known only up to an earlier date.
        assert!(
            out.contains("未核实") || out.contains("此后的调整未收录"),
            "{p}: neither unverified figures nor staleness named\n{out}"
        );
    }
}

/// Every vector through the `yibao` binary gives the same bytes as the library (and so as the
/// HTTP API, whose test compares it with the library too).
#[test]
fn every_vector_through_the_cli_matches_the_library_byte_for_byte() {
    // Names as the CLI sees them (relative to the repository), since citations carry them.
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap();
    let mut policies = vec![];
    let mut vectors = vec![];
    fn walk(
        repo: &std::path::Path,
        p: &std::path::Path,
        policies: &mut Vec<(String, String)>,
        vectors: &mut Vec<(String, String)>,
    ) {
        for e in std::fs::read_dir(p).unwrap() {
            let p = e.unwrap().path();
            let name = p.strip_prefix(repo).unwrap().display().to_string();
            if p.is_dir() {
                walk(repo, &p, policies, vectors);
            } else if p.extension().is_some_and(|x| x == "policy") {
                policies.push((name, std::fs::read_to_string(&p).unwrap()));
            } else if p.extension().is_some_and(|x| x == "yaml") {
                vectors.push((name, std::fs::read_to_string(&p).unwrap()));
            }
        }
    }
    walk(
        &repo,
        &repo.join("tests/vectors"),
        &mut policies,
        &mut vectors,
    );
    policies.sort();
    let (reg, results) = yibao::vectors::run_all(policies, &vectors);
    assert!(!reg.has_errors());
    let dir = tempfile::tempdir().unwrap();
    let mut n = 0;
    for (name, text) in &vectors {
        for v in yibao::vectors::parse_vectors(text).unwrap() {
            let lib = results
                .iter()
                .find(|r| r.id == v.id && r.file == *name)
                .unwrap();
            let f = dir.path().join(format!("{}.json", v.id));
            std::fs::write(
                &f,
                serde_json::to_string(&yibao::vectors::request_of(&v)).unwrap(),
            )
            .unwrap();
            let (code, out, err) = stdout(yibao().args([
                "estimate",
                f.to_str().unwrap(),
                "--json",
                "--policies",
                "tests/vectors",
            ]));
            assert_eq!(code, 0, "{}: {err}", v.id);
            let out = out.trim_end();
            if out != lib.json {
                let at = out
                    .bytes()
                    .zip(lib.json.bytes())
                    .position(|(a, b)| a != b)
                    .unwrap_or(0);
                panic!(
                    "{}: CLI and library differ at byte {at}: CLI `{}` vs library `{}`",
                    v.id,
                    &out[at.saturating_sub(60)..(at + 60).min(out.len())],
                    &lib.json[at.saturating_sub(60)..(at + 60).min(lib.json.len())]
                );
            }
            n += 1;
        }
    }
    let written: usize = vectors
        .iter()
        .map(|(_, t)| yibao::vectors::count_written(t))
        .sum();
    assert_eq!(n, written, "every vector written ran through the CLI");
}

#[test]
fn gen_then_batch_writes_results_and_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let claims = dir.path().join("claims.csv");
    let out = dir.path().join("settled.jsonl");
    let summary = dir.path().join("summary.json");
    let (code, _, err) = stdout(
        yibao()
            .args(["gen", "--persons", "50", "--seed", "4", "--output"])
            .arg(&claims),
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("claims of 50 persons"), "{err}");
    // A batch run with `extra` flags: what it printed and the summary JSON it wrote.
    let batch = |extra: &[&str]| {
        let (code, text, err) = stdout(
            yibao()
                .arg("batch")
                .args(extra)
                .arg("--input")
                .arg(&claims)
                .arg("--output")
                .arg(&out)
                .arg("--summary-json")
                .arg(&summary),
        );
        assert_eq!(code, 0, "{err}");
        let s: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap();
        (text, s)
    };
    let (text, s) = batch(&[]);
    assert!(text.contains("政策范围内报销比例"), "{text}");
    let rows = std::fs::read_to_string(&out).unwrap();
    assert_eq!(
        s["settled"].as_u64().unwrap() as usize,
        rows.lines().count()
    );
    assert_eq!(s["persons"], 50);
    let first: serde_json::Value = serde_json::from_str(rows.lines().next().unwrap()).unwrap();
    assert_eq!(first["line"], 2);
    // No temporary file is left beside the output.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(s.get("settle_ns").is_none(), "timed without --time-settle");

    // --time-settle: the settling alone, in the summary table and its JSON.
    let (text, s) = batch(&["--time-settle"]);
    assert!(text.contains("settling alone: "), "{text}");
    assert!(s["settle_ns"].as_u64().unwrap() > 0, "{s}");
}

#[test]
fn batch_stops_at_a_bad_row_and_leaves_no_output_unless_skipping() {
    let dir = tempfile::tempdir().unwrap();
    let claims = dir.path().join("claims.csv");
    std::fs::write(
        &claims,
        "person,region,scheme,date,care,level,total\np1,tianjin,resident,2024-01-05,inpatient,3,5000\np2,tianjin,resident,2024-01-06,inpatient,7,5000\np3,tianjin,resident,2024-01-07,inpatient,3,8000\n",
    )
    .unwrap();
    let out = dir.path().join("out.csv");
    let (code, _, err) = stdout(
        yibao()
            .args(["batch", "-i"])
            .arg(&claims)
            .arg("-o")
            .arg(&out),
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("line 3: level: unknown hospital level `7`"),
        "{err}"
    );
    assert!(
        err.contains("--skip-invalid") && err.contains("no output written"),
        "{err}"
    );
    assert!(!out.exists());

    let (code, _, err) = stdout(
        yibao()
            .args(["batch", "--skip-invalid", "-i"])
            .arg(&claims)
            .arg("-o")
            .arg(&out),
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("1 rows rejected"), "{err}");
    let rejects = std::fs::read_to_string(dir.path().join("out.rejects.csv")).unwrap();
    assert!(rejects.starts_with("line,error,person,"), "{rejects}");
    assert!(
        rejects.contains("3,") && rejects.contains("p2"),
        "{rejects}"
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 3);
}

#[test]
fn check_compliance_passes_bundled_and_flags_a_violating_draft() {
    let (code, out, err) = stdout(yibao().args(["check", "--compliance"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("known deviation: Suisuikang"), "{out}");
    assert!(out.contains("guangzhou.resident@2022-12-01"), "{out}");
    // It ends with the counts.
    let last = out.lines().last().unwrap_or_default();
    assert!(
        last.contains("version(s) checked:")
            && last.contains(", 0 not)")
            && last.contains("warning(s) to verify"),
        "{last}"
    );

    // A draft of Ziyang's resident policy whose medical aid has no annual limit at all.
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string("../../policies/ziyang/resident/2018-03-27.policy")
        .or_else(|_| std::fs::read_to_string("policies/ziyang/resident/2018-03-27.policy"))
        .unwrap();
    let draft = text.replace(
        "  cap per_year none [placeholder \"annual aid cap not found\"]\n",
        "",
    );
    assert_ne!(draft, text);
    let path = dir.path().join("draft.policy");
    std::fs::write(&path, &draft).unwrap();
    let (code, out, err) = stdout(yibao().args(["check", "--compliance"]).arg(&path));
    assert_eq!(code, 1, "{out}{err}");
    let line = draft
        .lines()
        .position(|l| l.starts_with("layer medical_aid"))
        .unwrap()
        + 1;
    assert!(
        out.contains(&format!(
            "violation [NAT-MA-LIMIT] {}:{line}:1",
            path.display()
        )),
        "{out}"
    );
    assert!(out.contains("国办发〔2021〕42号"), "{out}");
    assert!(err.contains("1 violation(s) of national rules"), "{err}");
}

#[test]
fn diff_shows_parameters_and_impact() {
    let (code, out, err) = stdout(yibao().args([
        "diff",
        "beijing.resident@2018-01-01",
        "beijing.resident@2019-01-01",
        "--persons",
        "200",
        "--json",
    ]));
    assert_eq!(code, 0, "{err}");
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["old"]["version"], "2018-01-01");
    assert!(!r["params"].as_array().unwrap().is_empty());
    assert!(r["impact"]["claims"].as_u64().unwrap() > 200);
    let (code, out, _) = stdout(yibao().args([
        "diff",
        "beijing.resident@2018-01-01",
        "beijing.resident@2019-01-01",
        "--persons",
        "50",
    ]));
    assert_eq!(code, 0);
    assert!(
        out.contains("政策范围内报销比例") && out.contains("parameter(s) changed"),
        "{out}"
    );
    // The claims were a synthetic sample, and it says so.
    assert!(
        out.contains("claims: a synthetic sample (50 persons, seed 1"),
        "{out}"
    );
    let (code, _, err) =
        stdout(yibao().args(["diff", "beijing.resident@2011-01-01", "beijing.resident"]));
    assert_eq!(code, 2);
    assert!(
        err.contains("no version taking effect on 2011-01-01") && err.contains("2018-01-01"),
        "{err}"
    );
}

/// A 2026 Beijing employee admission, a 2025 Guangzhou 门特 month and a 2024 Tianjin 大病 case each
/// say that their rules are known only up to an earlier date, have expired, or deviate — in the
/// table (Chinese and English) and as structured notices in the JSON.
#[test]
fn estimates_beyond_the_known_rules_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("gz.yaml");
    std::fs::write(
        &gz,
        "policy: guangzhou.employee\nclaim: {date: '2025-03-31', care: outpatient_special, disease: hypertension, level: designated, amounts: {total: '300'}}\n",
    )
    .unwrap();
    let gz = gz.to_str().unwrap();
    let cases: &[(&[&str], &[&str], &str)] = &[
        (
            &[
                "--policy",
                "beijing.employee",
                "--date",
                "2026-03-01",
                "--care",
                "inpatient",
                "--level",
                "3",
                "--total",
                "20000",
            ],
            &[
                "北京市职工基本医疗保险：本工具已知的最新规定为 2010-05-01 版",
                "此后的调整未收录",
                "the newest rules known here are from 2010-05-01",
            ],
            "rules_stale",
        ),
        (
            &[gz],
            &["有效期至 2024-06-30", "were valid until 2024-06-30"],
            "rules_expired",
        ),
        (
            &[
                "--policy",
                "tianjin.resident",
                "--date",
                "2024-05-01",
                "--care",
                "inpatient",
                "--level",
                "3",
                "--total",
                "200000",
            ],
            &[
                "已知与国家规则（NAT-SI-RATIO-60）的偏差",
                "a known deviation from the national rule NAT-SI-RATIO-60",
                "此后的调整未收录",
            ],
            "known_deviation",
        ),
    ];
    for (args, texts, code) in cases {
        let (status, out, err) = stdout(yibao().arg("estimate").args(*args));
        assert_eq!(status, 0, "{err}");
        for t in *texts {
            assert!(out.contains(t), "missing `{t}` in\n{out}");
        }
        let (status, out, err) = stdout(yibao().arg("estimate").args(*args).arg("--json"));
        assert_eq!(status, 0, "{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let notices = v["notices"].as_array().unwrap();
        let n = notices
            .iter()
            .find(|n| n["code"] == *code)
            .unwrap_or_else(|| panic!("no {code} in {out}"));
        assert_eq!(n["claim"], 0);
        assert!(n["zh"].as_str().unwrap().len() > 10 && n["en"].as_str().unwrap().len() > 10);
        let warnings = v["settlements"][0]["warnings"].as_array().unwrap();
        assert!(warnings.iter().any(|w| w["code"] == *code), "{out}");
    }
}

#[test]
fn serve_openapi_prints_the_document_and_exits() {
    let (code, out, err) = stdout(yibao().args(["serve", "--openapi"]));
    assert_eq!(code, 0, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["openapi"].as_str().map(|v| &v[..2]), Some("3."));
    assert!(doc["paths"]["/v1/estimate"]["post"].is_object());
    assert!(doc["components"]["schemas"]["EstimateRequest"].is_object());
    assert_eq!(out.trim_end(), yibao_server::openapi_document());
}
