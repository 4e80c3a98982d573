#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]
//! The OpenAPI document says what the server does: its title and servers, the reader's aliases and
//! `claim` xor `claims`, every status of every route; the params route; the batch limits agree.

use std::sync::Arc;

use serde_json::{json, Value};
use yibao::Registry;

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
    let config = yibao_server::Config {
        timeout: std::time::Duration::from_secs(120),
        ..Default::default()
    };
    let done = tokio::spawn(yibao_server::serve(
        listener,
        Arc::new(Registry::bundled()),
        config,
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
    async fn doc(&self) -> Value {
        let (code, doc) = self.get("/openapi.json").await;
        assert_eq!(code, 200);
        serde_json::from_str(&doc).unwrap()
    }
    async fn shutdown(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        self.done.await.unwrap().unwrap();
    }
}

fn validator(doc: &Value, schema: &str) -> jsonschema::Validator {
    let root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": format!("#/components/schemas/{schema}"),
        "components": doc["components"],
    });
    jsonschema::validator_for(&root).unwrap_or_else(|e| panic!("schema {schema}: {e}"))
}

#[tokio::test]
async fn the_document_names_itself_in_ascii_and_lists_a_server_and_every_status() {
    let s = start().await;
    let doc = s.doc().await;
    let title = doc["info"]["title"].as_str().unwrap();
    assert!(title.is_ascii(), "{title}");
    assert!(doc["info"]["description"]
        .as_str()
        .unwrap()
        .contains("医保"));
    assert!(doc["servers"][0]["url"]
        .as_str()
        .unwrap()
        .starts_with("http://"));
    // Descriptions are for API readers: no Rust code examples or intra-doc links.
    let text = doc.to_string();
    assert!(!text.contains("```"), "a code example in a description");
    assert!(!text.contains("[`"), "an intra-doc link in a description");
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            let mut want = vec!["200", "405", "408", "500"];
            if method == "post" {
                want.extend(["400", "413", "415", "422", "503"]);
            }
            if path.contains('{') {
                want.push("404");
            }
            for code in want {
                let r = responses
                    .get(code)
                    .unwrap_or_else(|| panic!("{method} {path}: no {code}"));
                if code != "200" {
                    assert_eq!(
                        r["content"]["application/json"]["schema"]["$ref"],
                        "#/components/schemas/ApiError",
                        "{method} {path} {code}"
                    );
                }
            }
            // An example answer per operation (the source route's is its text).
            let ok = &responses["200"]["content"];
            let example = ok["application/json"]["example"]
                .as_object()
                .map(|_| ())
                .or(ok["application/json"]["example"].as_array().map(|_| ()))
                .or(ok["text/plain"]["example"].as_str().map(|_| ()));
            assert!(example.is_some(), "{method} {path}: no example answer");
        }
    }
    // The examples of the GET routes are the server's own answers (the lists cut to a policy).
    for (path, route, schema) in [
        ("/healthz", "/healthz", "Health"),
        (
            "/v1/policies/tianjin/resident",
            "/v1/policies/{region}/{scheme}",
            "VersionInfo",
        ),
    ] {
        let (code, live) = s.get(path).await;
        assert_eq!(code, 200);
        let live: Value = serde_json::from_str(&live).unwrap();
        let example = &doc["paths"][route]["get"]["responses"]["200"]["content"]
            ["application/json"]["example"];
        assert_eq!(&live, example, "{path}");
        let v = validator(&doc, schema);
        for item in live
            .as_array()
            .cloned()
            .unwrap_or_else(|| vec![live.clone()])
        {
            assert!(v.is_valid(&item), "{path}");
        }
    }
    s.shutdown().await;
}

const CLAIM: &str =
    r#"{"date":"2024-05-01","care":"inpatient","level":"3","amounts":{"total":"30000"}}"#;

#[tokio::test]
async fn aliases_integers_and_claim_xor_claims_are_declared_as_the_reader_takes_them() {
    let s = start().await;
    let doc = s.doc().await;
    let request = validator(&doc, "EstimateRequest");
    let claim: Value = serde_json::from_str(CLAIM).unwrap();
    let cases = [
        // (request, accepted by the server)
        (json!({"policy": "tianjin.resident", "claim": claim}), true),
        (
            json!({"policy": "tianjin.resident", "claims": [claim]}),
            true,
        ),
        (
            json!({"policy": "tianjin.resident", "claim": claim, "claims": [claim]}),
            false,
        ),
        (json!({"policy": "tianjin.resident"}), false),
        (
            json!({"policy": "tianjin.resident", "claim": {"setl_time": "2024-05-01", "med_type": "inpatient",
                "psn_no": "p1", "amounts": {"medfee_sumamt": 30000, "fulamt_ownpay_amt": "100",
                "preselfpay_amt": 0, "overlmt_selfpay": "1.5"}}}),
            true,
        ),
        (
            json!({"policy": "tianjin.resident", "claim": {"date": "2024-05-01", "setl_time": "2024-05-01",
                "care": "inpatient", "amounts": {"total": "1"}}}),
            false,
        ),
        (
            json!({"policy": "tianjin.resident", "claim": {"date": "2024-05-01", "care": "inpatient",
                "amounts": {"total": "1", "medfee_sumamt": "1"}}}),
            false,
        ),
        (
            json!({"policy": "tianjin.resident", "claim": {"date": "2024-05-01", "care": "inpatient",
                "amounts": {"total": 12.5}}}),
            false,
        ),
        // The stay's length: a whole number of days, 0 to 36,525, or under the platform's name.
        (
            json!({"policy": "guangzhou.employee", "claim": {"date": "2023-03-01", "care": "inpatient",
                "stay_days": 200, "amounts": {"total": "50000"}}}),
            true,
        ),
        (
            json!({"policy": "guangzhou.employee", "claim": {"date": "2023-03-01", "care": "inpatient",
                "act_ipt_days": 200, "amounts": {"total": "50000"}}}),
            true,
        ),
        (
            json!({"policy": "guangzhou.employee", "claim": {"date": "2023-03-01", "care": "inpatient",
                "stay_days": 200, "act_ipt_days": 200, "amounts": {"total": "50000"}}}),
            false,
        ),
        (
            json!({"policy": "guangzhou.employee", "claim": {"date": "2023-03-01", "care": "inpatient",
                "stay_days": -1, "amounts": {"total": "50000"}}}),
            false,
        ),
        (
            json!({"policy": "guangzhou.employee", "claim": {"date": "2023-03-01", "care": "inpatient",
                "stay_days": 1.5, "amounts": {"total": "50000"}}}),
            false,
        ),
        (
            json!({"policy": "guangzhou.employee", "claim": {"date": "2023-03-01", "care": "inpatient",
                "stay_days": 36526, "amounts": {"total": "50000"}}}),
            false,
        ),
    ];
    for (req, accepted) in cases {
        let (code, body) = s.post("/v1/estimate", req.to_string()).await;
        assert_eq!(code == 200, accepted, "{req}: {code} {body}");
        assert_eq!(
            request.is_valid(&req),
            accepted,
            "the schema and the server disagree on {req}"
        );
    }
    // Each alias the document declares is one the reader takes.
    let claim_schema = &doc["components"]["schemas"]["Claim"]["properties"];
    let amounts_schema = &doc["components"]["schemas"]["Amounts"]["properties"];
    for alias in ["psn_no", "setl_time", "med_type", "act_ipt_days"] {
        assert!(claim_schema.get(alias).is_some(), "{alias}");
    }
    for alias in [
        "medfee_sumamt",
        "fulamt_ownpay_amt",
        "preselfpay_amt",
        "overlmt_selfpay",
    ] {
        assert!(amounts_schema.get(alias).is_some(), "{alias}");
    }
    // A ratio override is an exact decimal, not money: find a ratio's path in the version's
    // figures, override it with 85.5%, read `overridden_with: "0.855"` back.
    let (_, list) = s.get("/v1/policies/tianjin/resident").await;
    let list: Value = serde_json::from_str(&list).unwrap();
    let date = list
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v["effective"].as_str())
        .filter(|d| *d <= "2024-05-01")
        .max()
        .unwrap();
    let (_, params) = s
        .get(&format!("/v1/policies/tianjin/resident/{date}/params"))
        .await;
    let params: Value = serde_json::from_str(&params).unwrap();
    let ratio = params["params"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["path"].as_str())
        .find(|p| p.starts_with("basic.") && p.contains("ratio"))
        .unwrap();
    let (code, body) = s
        .post(
            "/v1/estimate",
            json!({"policy": "tianjin.resident", "overrides": {ratio: "85.5%"}, "claim": claim})
                .to_string(),
        )
        .await;
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("\"overridden_with\":\"0.855\""), "{body}");
    assert!(validator(&doc, "EstimateAnswer").is_valid(&serde_json::from_str(&body).unwrap()));
    // An unknown override names the requested policy's file.
    let (code, body) = s
        .post(
            "/v1/estimate",
            json!({"policy": "tianjin.resident", "overrides": {"basic.ratoi": "1%"}, "claim": claim})
                .to_string(),
        )
        .await;
    assert_eq!(code, 422);
    let e: Value = serde_json::from_str(&body).unwrap();
    assert!(
        e["diagnostics"][0]["file"]
            .as_str()
            .unwrap()
            .starts_with("tianjin/"),
        "{body}"
    );
    s.shutdown().await;
}

#[tokio::test]
async fn params_lists_a_versions_figures_and_404s_list_what_exists() {
    let s = start().await;
    let doc = s.doc().await;
    let (code, body) = s.get("/v1/policies/tianjin/resident").await;
    assert_eq!(code, 200);
    let versions: Value = serde_json::from_str(&body).unwrap();
    let v = &versions[0];
    let date = v["effective"].as_str().unwrap();
    let (code, body) = s
        .get(&format!("/v1/policies/tianjin/resident/{date}/params"))
        .await;
    assert_eq!(code, 200, "{body}");
    let listed: Value = serde_json::from_str(&body).unwrap();
    assert!(validator(&doc, "VersionParams").is_valid(&listed));
    let params = listed["params"].as_array().unwrap();
    // As many figures as the version list counts by provenance, each with its clause.
    let counted: u64 = v["provenance"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(params.len() as u64, counted);
    assert!(params
        .iter()
        .all(|p| p["cite"]["line"].as_u64().unwrap() > 0));
    // A listed path is one an override may name.
    let path = params[0]["path"].as_str().unwrap();
    let req = json!({"policy": "tianjin.resident", "version": date, "overrides": {path: "1"},
        "claim": {"date": date, "care": "inpatient", "amounts": {"total": "1"}}});
    let (code, body) = s.post("/v1/estimate", req.to_string()).await;
    assert_eq!(code, 200, "{body}");
    for (path, field) in [
        ("/v1/policies/atlantis/resident/2024-01-01/params", "policy"),
        ("/v1/policies/tianjin/resident/2001-01-01/params", "version"),
        ("/v1/policies/tianjin/resident/someday/params", "version"),
    ] {
        let (code, body) = s.get(path).await;
        assert_eq!(code, 404, "{path}");
        let e: Value = serde_json::from_str(&body).unwrap();
        assert!(validator(&doc, "ApiError").is_valid(&e));
        assert_eq!(e["path"], field, "{path}");
        assert!(!e["allowed"].as_array().unwrap().is_empty(), "{path}");
    }
    s.shutdown().await;
}

/// A claim of 400 bytes (the size the batch limit is documented for).
fn claim_of(i: usize) -> Value {
    json!({"id": format!("{i:0>215}"), "person": format!("person-{:06}", i / 3),
        "date": "2024-05-01", "care": "inpatient", "level": "3",
        "amounts": {"total": "12345.67", "out_of_list": "1234.56", "pre_self_pay": "123.45", "over_limit": "12.34"}})
}

#[tokio::test]
async fn a_batch_of_10000_claims_of_400_bytes_fits_the_body_limit() {
    let s = start().await;
    assert_eq!(claim_of(0).to_string().len(), 400);
    let claims: Vec<Value> = (0..yibao::MAX_BATCH).map(claim_of).collect();
    let body = json!({"policy": "tianjin.resident", "claims": claims}).to_string();
    assert!(
        body.len() > 3_900_000 && body.len() <= yibao_server::MAX_BATCH_BODY,
        "{} bytes",
        body.len()
    );
    assert!(body.len() > yibao_server::MAX_BODY);
    let (code, answer) = s.post("/v1/estimate/batch", body).await;
    assert_eq!(code, 200, "{}", &answer[..answer.len().min(300)]);
    let v: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(v["settled"], yibao::MAX_BATCH);
    // One more claim: refused by count, not by size.
    let claims: Vec<Value> = (0..=yibao::MAX_BATCH)
        .map(|i| json!({"date": "2024-05-01", "care": "inpatient", "amounts": {"total": "1"}, "person": i.to_string()}))
        .collect();
    let (code, body) = s
        .post(
            "/v1/estimate/batch",
            json!({"policy": "tianjin.resident", "claims": claims}).to_string(),
        )
        .await;
    assert_eq!(code, 422, "{body}");
    assert!(body.contains("at most 10000"), "{body}");
    // Over the batch body limit: 413 naming the batch limit; the estimate route keeps 1 MiB.
    let big = format!(
        "{{\"claims\":[{}]}}",
        vec![claim_of(0).to_string(); 11_000].join(",")
    );
    assert!(big.len() > yibao_server::MAX_BATCH_BODY);
    let (code, body) = s.post("/v1/estimate/batch", big).await;
    assert_eq!(code, 413);
    assert!(
        body.contains(&yibao_server::MAX_BATCH_BODY.to_string()),
        "{body}"
    );
    let (code, _) = s
        .post("/v1/estimate", "x".repeat(yibao_server::MAX_BODY + 1))
        .await;
    assert_eq!(code, 413);
    s.shutdown().await;
}
