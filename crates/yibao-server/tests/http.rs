#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]
//! The real server on an ephemeral 127.0.0.1 port, called over HTTP.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{json, Value};
use yibao::Registry;

fn files(dir: &Path, ext: &str, out: &mut Vec<(String, String)>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p: PathBuf = e.unwrap().path();
        if p.is_dir() {
            files(&p, ext, out);
        } else if p.extension().is_some_and(|x| x == ext) {
            out.push((
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            ));
        }
    }
}

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors")
}

/// Bundled policies plus the test fixtures, as the vectors need.
fn registry() -> Arc<Registry> {
    let mut all = yibao::policies::bundled_files();
    files(&vectors_dir(), "policy", &mut all);
    Arc::new(Registry::from_files(all))
}

struct Server {
    base: String,
    client: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start() -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let done = tokio::spawn(yibao_server::serve(
        listener,
        registry(),
        yibao_server::Config::default(),
        async {
            let _ = rx.await;
        },
    ));
    Server {
        base,
        client: reqwest::Client::new(),
        stop: Some(tx),
        done,
    }
}

impl Server {
    async fn get(&self, path: &str) -> (u16, String) {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }
    async fn post(&self, path: &str, body: impl Into<reqwest::Body>) -> (u16, String) {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }
    async fn shutdown(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        self.done.await.unwrap().unwrap();
    }
}

/// Validates `body` against a component schema of the live `/openapi.json`.
fn validate(doc: &Value, schema: &str, body: &str) {
    let root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": format!("#/components/schemas/{schema}"),
        "components": doc["components"],
    });
    let v = jsonschema::validator_for(&root).unwrap_or_else(|e| panic!("schema {schema}: {e}"));
    let instance: Value = serde_json::from_str(body).unwrap();
    let errors: Vec<String> = v
        .iter_errors(&instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .take(5)
        .collect();
    assert!(
        errors.is_empty(),
        "{schema} does not match its schema: {errors:#?}\n{}",
        &body[..body.len().min(400)]
    );
}

const ONE: &str = r#"{"policy":"tianjin.resident","claim":{"date":"2024-05-01","care":"inpatient","level":"3","categories":["min_allowance"],"amounts":{"total":"300000","out_of_list":"2000"}}}"#;

#[tokio::test]
async fn every_endpoint_answers_and_matches_the_openapi_description() {
    let s = start().await;
    let (code, doc) = s.get("/openapi.json").await;
    assert_eq!(code, 200);
    let doc: Value = serde_json::from_str(&doc).unwrap();
    for p in [
        "/healthz",
        "/v1/estimate",
        "/v1/estimate/batch",
        "/v1/check",
        "/v1/policies",
        "/v1/policies/{region}/{scheme}",
    ] {
        assert!(
            doc["paths"].get(p).is_some(),
            "{p} missing from openapi.json"
        );
    }

    let (code, body) = s.get("/healthz").await;
    assert_eq!(code, 200);
    validate(&doc, "Health", &body);

    let (code, body) = s.post("/v1/estimate", ONE).await;
    assert_eq!(code, 200);
    validate(&doc, "EstimateAnswer", &body);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["settlements"][0]["out_of_pocket"]["total"], "13871.11");

    let batch = json!({"policy":"beijing.resident","claims":[
        {"person":"a","date":"2018-03-01","care":"general_outpatient","level":1,"amounts":{"total":"2000"}},
        {"person":"b","date":"2018-03-01","care":"dental","amounts":{"total":"10"}},
        {"person":"a","date":"2018-06-01","care":"general_outpatient","level":1,"amounts":{"total":"2000"}}
    ]});
    let (code, body) = s.post("/v1/estimate/batch", batch.to_string()).await;
    assert_eq!(code, 200, "{body}");
    validate(&doc, "BatchAnswer", &body);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (
            v["persons"].as_u64(),
            v["settled"].as_u64(),
            v["failed"].as_u64()
        ),
        (Some(2), Some(2), Some(1))
    );
    // Person a's year continues: the 100 deductible was paid by the first claim.
    let outpatient = v["results"][0]["settlement"]["layers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == "outpatient")
        .unwrap();
    assert_eq!(outpatient["payment"], "1045.00");
    let outpatient = v["results"][2]["settlement"]["layers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == "outpatient")
        .unwrap();
    assert_eq!(outpatient["payment"], "1100.00");
    assert_eq!(v["results"][1]["error"]["path"], "claims[1].care");

    let (code, body) = s.get("/v1/policies").await;
    assert_eq!(code, 200);
    let list: Value = serde_json::from_str(&body).unwrap();
    assert!(list.as_array().unwrap().len() >= 19);
    for item in list.as_array().unwrap() {
        validate(&doc, "VersionInfo", &item.to_string());
    }
    let (code, body) = s.get("/v1/policies/beijing/resident").await;
    assert_eq!(code, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&body)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        5
    );
    let (code, body) = s
        .get("/v1/policies/beijing/resident/2019-01-01/source")
        .await;
    assert_eq!(code, 200);
    assert!(body.contains("extends beijing.resident@2018-01-01"));

    let r = s.client.post(format!("{}/v1/check", s.base)).header("content-type", "text/plain").body("policy x.y \"t\"\neffective 2024-01-01 confirmed 2024-12-31\ncare [inpatient]\nlayer basic \"b\" { base in_scope ratio 120% [placeholder] }\n").send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let body = r.text().await.unwrap();
    validate(&doc, "CheckAnswer", &body);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["diagnostics"][0]["text"], "120%");
    let (code, body) = s.post("/v1/check", json!({"name":"a.policy","text":"policy x.y \"t\"\neffective 2024-01-01\ncare [inpatient]\nlayer basic \"b\" { base in_scope ratio 80% [placeholder] }\n"}).to_string()).await;
    assert_eq!(code, 200);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["ok"], true);

    let (code, body) = s.get("/docs").await;
    assert_eq!(code, 200);
    assert!(body.contains("/v1/estimate/batch"));
    // How to call each endpoint: its fields, an example request and the answer it gets.
    assert!(body.contains("example request:"), "{body}");
    assert!(body.contains("its answer (computed by the evaluator):"));
    assert!(
        body.contains("<td><code>claims</code>"),
        "the request's field list"
    );
    for (path, schema) in [
        ("/v1/estimate", "EstimateAnswer"),
        ("/v1/estimate/batch", "BatchAnswer"),
    ] {
        let op = &doc["paths"][path]["post"];
        let example = &op["responses"]["200"]["content"]["application/json"]["example"];
        assert!(example.is_object(), "{path}: no example answer");
        validate(&doc, schema, &example.to_string());
        let request = &op["requestBody"]["content"]["application/json"]["example"];
        let (code, live) = s.post(path, request.to_string()).await;
        assert_eq!(code, 200, "{path}: {live}");
        assert_eq!(
            &serde_json::from_str::<Value>(&live).unwrap(),
            example,
            "{path}: the documented answer is the server's answer"
        );
    }
    s.shutdown().await;
}

#[tokio::test]
async fn every_error_class_has_its_status_and_a_json_body() {
    let s = start().await;
    let (_, doc) = s.get("/openapi.json").await;
    let doc: Value = serde_json::from_str(&doc).unwrap();
    let cases: Vec<(&str, String, u16, Option<&str>)> = vec![
        ("/v1/estimate", "{\"policy\":".into(), 400, None),
        ("/v1/estimate", "not json".into(), 400, None),
        ("/v1/estimate", r#"{"policy":"tianjin.resident","claim":{"date":"2024-05-01","care":"inpatient","amounts":{"total":12.5}}}"#.into(), 422, Some("claim.amounts.total")),
        ("/v1/estimate", r#"{"policy":"tianjin.resident","claim":{"date":"2024-02-30","care":"inpatient","amounts":{"total":"1"}}}"#.into(), 422, Some("claim.date")),
        ("/v1/estimate", r#"{"policy":"tianjin.resident","claims":[{"date":"2024-05-01","care":"dental","amounts":{"total":"1"}}]}"#.into(), 422, Some("claims[0].care")),
        ("/v1/estimate", r#"{"policy":"tianjin.resident","colour":"red"}"#.into(), 422, None),
        ("/v1/estimate", r#"{"policy":"atlantis.resident","claim":{"date":"2024-05-01","care":"inpatient","amounts":{"total":"1"}}}"#.into(), 404, Some("claim")),
        ("/v1/estimate", r#"{"policy":"tianjin.resident","claim":{"date":"2001-05-01","care":"inpatient","amounts":{"total":"1"}}}"#.into(), 404, Some("claim")),
        ("/v1/estimate", r#"{"policy":"tianjin.resident","overrides":{"basic.ratoi":"1%"},"claim":{"date":"2024-05-01","care":"inpatient","amounts":{"total":"1"}}}"#.into(), 422, Some("overrides")),
        ("/v1/estimate", "x".repeat(2 << 20), 413, None),
        ("/v1/estimate/batch", r#"{"claims":[]}"#.into(), 200, None),
    ];
    for (path, body, want, field) in cases {
        let (code, text) = s.post(path, body.clone()).await;
        assert_eq!(
            code,
            want,
            "{path} {}: {text}",
            &body[..body.len().min(120)]
        );
        if code != 200 {
            validate(&doc, "ApiError", &text);
            let v: Value = serde_json::from_str(&text).unwrap();
            if let Some(f) = field {
                assert_eq!(v["path"], f, "{text}");
            }
            if want == 404 {
                assert!(
                    !v["allowed"].as_array().unwrap().is_empty(),
                    "404 lists what exists: {text}"
                );
            }
        }
    }
    let too_many = json!({"policy":"tianjin.resident","claims": vec![json!({"date":"2024-05-01","care":"inpatient","amounts":{"total":"1"}}); 10_001]});
    let (code, text) = s.post("/v1/estimate/batch", too_many.to_string()).await;
    assert_eq!(code, 422, "{text}");
    let (code, text) = s.get("/v2/nothing").await;
    assert_eq!(code, 404);
    assert!(text.contains("no route"));
    let r = s
        .client
        .get(format!("{}/v1/estimate", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 405);
    let (code, _) = s
        .get("/v1/policies/tianjin/resident/1999-01-01/source")
        .await;
    assert_eq!(code, 404);
    s.shutdown().await;
}

/// xorshift, seeded: reproducible mutations.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[tokio::test]
async fn ten_thousand_malformed_bodies_get_no_5xx_and_the_server_keeps_serving() {
    let s = start().await;
    let seeds = [
        ONE.to_string(),
        json!({"policy":"beijing.resident","claims":[{"person":"a","date":"2019-03-01","care":"inpatient","level":3,"categories":["min_allowance"],"amounts":{"total":"100000","pre_self_pay":"10"}}]}).to_string(),
        json!({"policy":"guangzhou.employee","overrides":{"basic.cap_year":"100"},"claim":{"date":"2020-03-31","care":"outpatient_special","disease":"hypertension","level":"designated","amounts":{"total":"300"}}}).to_string(),
    ];
    let paths = ["/v1/estimate", "/v1/estimate/batch", "/v1/check"];
    let tokens = [
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        "\"",
        "null",
        "-1",
        "1e999",
        "\"9999999999999999999\"",
        "true",
        "\"\u{0}\"",
        "\\u0000",
        "claims",
        "\"2024-13-01\"",
    ];
    let mut rng = Rng(0x5EED_F00D);
    let mut counts = [0usize; 6];
    for i in 0..10_000 {
        let mut b: Vec<char> = seeds[i % seeds.len()].chars().collect();
        for _ in 0..1 + rng.next() % 3 {
            let n = b.len().max(1);
            let at = (rng.next() as usize) % n;
            match rng.next() % 4 {
                0 => {
                    let end = (at + (rng.next() % 12) as usize).min(b.len());
                    b.drain(at..end);
                }
                1 => {
                    let t = tokens[(rng.next() as usize) % tokens.len()];
                    for (k, c) in t.chars().enumerate() {
                        b.insert((at + k).min(b.len()), c);
                    }
                }
                2 => {
                    if at < b.len() {
                        b[at] = char::from(b' ' + (rng.next() % 95) as u8);
                    }
                }
                _ => b.truncate(at),
            }
        }
        let body: String = b.into_iter().collect();
        let (code, text) = s.post(paths[i % paths.len()], body.clone()).await;
        assert!(code < 500, "{code} for {body}: {text}");
        counts[(code / 100) as usize] += 1;
    }
    eprintln!("fuzz statuses: 2xx {} 4xx {}", counts[2], counts[4]);
    assert!(
        counts[2] > 100 && counts[4] > 100,
        "mutations should give both answers and errors: {counts:?}"
    );
    let (code, _) = s.get("/healthz").await;
    assert_eq!(code, 200);
    s.shutdown().await;
}

#[tokio::test]
async fn every_vector_through_the_api_is_byte_identical_to_the_library_and_cli() {
    let s = start().await;
    let reg = registry();
    let mut vfiles = vec![];
    files(&vectors_dir(), "yaml", &mut vfiles);
    let mut n = 0;
    for (name, text) in &vfiles {
        for v in yibao::vectors::parse_vectors(text).unwrap() {
            let local = yibao::vectors::run_vector(&reg, name, &v);
            assert!(local.passed, "{}", v.id);
            let req = serde_json::to_string(&yibao::vectors::request_of(&v)).unwrap();
            let (code, body) = s.post("/v1/estimate", req).await;
            assert_eq!(code, 200, "{}: {body}", v.id);
            assert_eq!(body, local.json, "{}: API and library differ", v.id);
            n += 1;
        }
    }
    assert!(n >= 69, "{n} vectors");
    s.shutdown().await;
}

#[tokio::test]
async fn a_request_over_the_time_limit_gets_408() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let config = yibao_server::Config {
        timeout: std::time::Duration::from_millis(1),
        ..Default::default()
    };
    let server = tokio::spawn(yibao_server::serve(
        listener,
        registry(),
        config,
        std::future::pending(),
    ));
    // 10,000 claims take well over a millisecond.
    let claim = json!({"person":"p","date":"2024-05-01","care":"inpatient","level":"3","amounts":{"total":"300000"}});
    let body = json!({"policy":"tianjin.resident","claims": vec![claim; 10_000]}).to_string();
    let r = reqwest::Client::new()
        .post(format!("{base}/v1/estimate/batch"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 408);
    server.abort();
}

#[tokio::test]
async fn shutdown_finishes_and_stops_listening() {
    let s = start().await;
    let base = s.base.clone();
    let (code, _) = s.post("/v1/estimate", ONE).await;
    assert_eq!(code, 200);
    s.shutdown().await;
    assert!(
        reqwest::Client::new()
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_err(),
        "still listening after shutdown"
    );
}

#[tokio::test]
async fn serves_the_static_page_from_www() {
    let dir = std::env::temp_dir().join(format!("yibao-www-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("index.html"), "<!doctype html><title>估算</title>").unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let config = yibao_server::Config {
        www: Some(dir.clone()),
        ..Default::default()
    };
    let server = tokio::spawn(yibao_server::serve(
        listener,
        registry(),
        config,
        std::future::pending(),
    ));
    let c = reqwest::Client::new();
    let page = c.get(format!("{base}/")).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.text().await.unwrap().contains("估算"));
    // The API still answers next to the page, and a missing file is a JSON 404.
    assert_eq!(
        c.get(format!("{base}/healthz"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    let missing = c.get(format!("{base}/nope.js")).send().await.unwrap();
    assert_eq!(missing.status().as_u16(), 404);
    server.abort();
    let _ = std::fs::remove_dir_all(dir);
}

/// A month of long-term care through `/v1/estimate`: the request and the answer match the
/// OpenAPI description, and a month with a wrong total is a 4xx naming the field.
#[tokio::test]
async fn a_month_of_long_term_care_is_estimated() {
    let s = start().await;
    let (_, doc) = s.get("/openapi.json").await;
    let doc: Value = serde_json::from_str(&doc).unwrap();
    let req = json!({"policy":"guangzhou.ltc","claim":{"date":"2024-09-30","group":"employee",
        "care":"home_b","level":2,"amounts":{"total":"1500"},
        "month":{"days":30,"visits":12,"hours":28,"costs":{"personal_care":"1000","nursing":"400","equipment":"100"}}}});
    validate(&doc, "EstimateRequest", &req.to_string());
    let (code, body) = s.post("/v1/estimate", req.to_string()).await;
    assert_eq!(code, 200, "{body}");
    validate(&doc, "EstimateAnswer", &body);
    let v: Value = serde_json::from_str(&body).unwrap();
    // 900 × 90% + 400 × 90% + 100 × 85% = 810 + 360 + 85 (GZ-LTC-HOME-B-EMPLOYEE)
    assert_eq!(v["settlements"][0]["fund_total"], "1255.00");
    assert_eq!(v["settlements"][0]["out_of_pocket"]["total"], "245.00");

    let wrong = req.to_string().replace("\"1500\"", "\"1600\"");
    let (code, body) = s.post("/v1/estimate", wrong).await;
    assert!((400..500).contains(&code), "{code} {body}");
    assert!(body.contains("amounts.total"), "{body}");
}
