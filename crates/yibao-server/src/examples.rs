//! The OpenAPI document with an example request and answer for each operation, and the `/docs`
//! page rendered from it: field lists, examples, statuses. The answers are computed by the
//! evaluator itself when the document is first asked for, so they cannot drift from the code.

use std::sync::OnceLock;

use serde_json::{json, Value};
use utoipa::OpenApi;
use yibao::{EstimateRequest, Registry};

use crate::ApiDoc;

/// A request a reader can paste: one Tianjin resident admission.
fn estimate_request() -> Value {
    json!({
        "policy": "tianjin.resident",
        "claim": {
            "date": "2024-05-01",
            "care": "inpatient",
            "level": "3",
            "amounts": { "total": "30000.00", "out_of_list": "2000.00" }
        },
        "trace": false
    })
}

fn batch_request() -> Value {
    json!({
        "policy": "tianjin.resident",
        "claims": [
            { "id": "a1", "person": "p1", "date": "2024-03-01", "care": "inpatient",
              "amounts": { "total": "12000.00" } },
            { "id": "a2", "person": "p1", "date": "2024-08-01", "care": "inpatient",
              "amounts": { "total": "8000.00" } }
        ]
    })
}

const CHECK_TEXT: &str = "policy demo.resident \"示例\" \"example\"\neffective 2024-01-01 [official SRC]\nconfirmed 2024-12-31 [official SRC]\nsource SRC \"an example\"\ncare [inpatient]\nlayer basic \"统筹基金\" \"basic fund\" {\n  base in_scope\n  deductible per_admission 800 [official SRC]\n  ratio 70% [official SRC]\n}\n";

/// The examples as (path, method, request, answer), the answers computed now.
fn examples(reg: &Registry) -> Vec<(&'static str, &'static str, Value, Value)> {
    let mut out = vec![];
    let est = estimate_request();
    if let Ok(req) = serde_json::from_value::<EstimateRequest>(est.clone()) {
        if let Ok(ans) = yibao::estimate(reg, &req) {
            out.push((
                "/v1/estimate",
                "post",
                est,
                serde_json::to_value(ans).unwrap_or_default(),
            ));
        }
    }
    let batch = batch_request();
    if let Ok(req) = serde_json::from_value::<yibao::BatchRequest>(batch.clone()) {
        if let Ok(ans) = yibao::estimate_batch(reg, &req) {
            out.push((
                "/v1/estimate/batch",
                "post",
                batch,
                serde_json::to_value(ans).unwrap_or_default(),
            ));
        }
    }
    out.push((
        "/v1/check",
        "post",
        Value::String(CHECK_TEXT.into()),
        serde_json::to_value(yibao::check_json("draft.policy", CHECK_TEXT)).unwrap_or_default(),
    ));
    out
}

/// The national platform's field names the claim reader takes as aliases (`#[serde(alias)]` in
/// `yibao_engine::claim`): `(schema, field, alias)`. A test sends each alias to the server.
pub const ALIASES: [(&str, &str, &str); 8] = [
    ("Claim", "person", "psn_no"),
    ("Claim", "stay_days", "act_ipt_days"),
    ("Claim", "date", "setl_time"),
    ("Claim", "care", "med_type"),
    ("Amounts", "total", "medfee_sumamt"),
    ("Amounts", "out_of_list", "fulamt_ownpay_amt"),
    ("Amounts", "pre_self_pay", "preselfpay_amt"),
    ("Amounts", "over_limit", "overlmt_selfpay"),
];

/// What the derived schemas cannot say: the aliases the reader takes (each declared as a
/// property; a field and its alias together are refused as a duplicate), and `claim` xor
/// `claims` in an estimate request.
fn declare_reader_rules(doc: &mut Value) {
    for (schema, field, alias) in ALIASES {
        let Some(s) = doc.pointer_mut(&format!("/components/schemas/{schema}")) else {
            continue;
        };
        let Some(mut prop) = s.pointer(&format!("/properties/{field}")).cloned() else {
            continue;
        };
        if let Some(p) = prop.as_object_mut() {
            p.insert(
                "description".into(),
                Value::String(format!(
                    "`{field}` under the national platform's name; give one of the two, not both"
                )),
            );
        }
        if let Some(props) = s.get_mut("properties").and_then(Value::as_object_mut) {
            props.insert(alias.into(), prop);
        }
        let required = s
            .get_mut("required")
            .and_then(Value::as_array_mut)
            .is_some_and(|r| {
                let before = r.len();
                r.retain(|x| x != field);
                r.len() != before
            });
        let rule = if required {
            json!({"oneOf": [{"required": [field]}, {"required": [alias]}]})
        } else {
            json!({"not": {"required": [field, alias]}})
        };
        if let Some(o) = s.as_object_mut() {
            if let Some(all) = o.entry("allOf").or_insert_with(|| json!([])).as_array_mut() {
                all.push(rule);
            }
        }
    }
    if let Some(s) = doc
        .pointer_mut("/components/schemas/EstimateRequest")
        .and_then(Value::as_object_mut)
    {
        // Inside `allOf`, as the aliases' rules are: a top-level `oneOf` makes generators
        // (openapi-python-client) read the request as a union of two untyped schemas, with
        // no model for it.
        if let Some(all) = s.entry("allOf").or_insert_with(|| json!([])).as_array_mut() {
            all.push(json!({"oneOf": [{"required": ["claim"]}, {"required": ["claims"]}]}));
        }
        if let Some(c) = s
            .get_mut("properties")
            .and_then(|p| p.get_mut("claims"))
            .and_then(Value::as_object_mut)
        {
            c.insert("minItems".into(), json!(1));
        }
    }
}

/// Example answers of the GET operations, computed from the registry: `(path, answer)`.
fn get_examples(reg: &Registry) -> Vec<(&'static str, Value)> {
    let versions = yibao::list_versions(reg);
    let tianjin: Vec<_> = versions
        .iter()
        .filter(|v| v.id == "tianjin.resident")
        .cloned()
        .collect();
    let mut out = vec![
        (
            "/healthz",
            json!({"status": "ok", "policies": reg.policy_ids().len(), "versions": versions.len()}),
        ),
        (
            "/readyz",
            json!({"status": "ready", "connections": 1, "max_connections": 1024, "waiting": 0, "queue": 1024}),
        ),
        (
            "/v1/policies",
            serde_json::to_value(&tianjin).unwrap_or_default(),
        ),
        (
            "/v1/policies/{region}/{scheme}",
            serde_json::to_value(&tianjin).unwrap_or_default(),
        ),
    ];
    if let Some(v) = tianjin.first() {
        if let Ok(mut p) = yibao::params(reg, &v.id, v.effective) {
            p.params.truncate(3);
            out.push((
                "/v1/policies/{region}/{scheme}/{version}/params",
                serde_json::to_value(p).unwrap_or_default(),
            ));
        }
    }
    out
}

/// A description as an API reader sees it: the Rust doc comment it came from without its code
/// examples (fenced blocks) and with intra-doc links (`` [`X`](path) ``, `` [`X`] ``) as plain
/// code spans.
fn plain(text: &str) -> String {
    let mut lines = vec![];
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced {
            lines.push(line);
        }
    }
    let text = lines.join("\n");
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(at) = rest.find("[`") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let Some(end) = after.find("`]") else {
            out.push_str(&rest[at..]);
            rest = "";
            break;
        };
        out.push_str(&after[..end + 1]);
        rest = &after[end + 2..];
        if rest.starts_with('(') {
            if let Some(close) = rest.find(')') {
                rest = &rest[close + 1..];
            }
        }
    }
    out.push_str(rest);
    out.trim().to_string()
}

/// Every `description` of the document made [`plain`].
fn plain_descriptions(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                match x {
                    Value::String(s) if k == "description" => *s = plain(s),
                    _ => plain_descriptions(x),
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(plain_descriptions),
        _ => {}
    }
}

/// The OpenAPI document with its examples, built once.
pub(crate) fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
        declare_reader_rules(&mut doc);
        plain_descriptions(&mut doc);
        let reg = Registry::bundled();
        for (path, answer) in get_examples(&reg) {
            if let Some(c) = doc
                .get_mut("paths")
                .and_then(|p| p.get_mut(path))
                .and_then(|p| p.pointer_mut("/get/responses/200/content/application~1json"))
                .and_then(Value::as_object_mut)
            {
                c.insert("example".into(), answer);
            }
        }
        if let Some(c) = doc
            .pointer_mut("/paths/~1v1~1policies~1{region}~1{scheme}~1{version}~1source/get/responses/200/content/text~1plain")
            .and_then(Value::as_object_mut)
        {
            let first = reg.versions().iter().find(|v| v.id == "tianjin.resident");
            if let Some(text) = first.and_then(|v| reg.source_text(v)) {
                c.insert("example".into(), Value::String(text.into()));
            }
        }
        if let Some(c) = doc
            .pointer_mut("/paths/~1v1~1check/post/requestBody/content")
            .and_then(Value::as_object_mut)
        {
            c.insert("text/plain".into(), json!({"schema": {"type": "string"}}));
        }
        let first = reg
            .versions()
            .iter()
            .find(|v| v.id == "tianjin.resident")
            .map(|v| v.effective.to_string())
            .unwrap_or_default();
        for (name, example) in [("region", "tianjin"), ("scheme", "resident"), ("version", &first)] {
            for p in doc
                .get_mut("paths")
                .and_then(Value::as_object_mut)
                .into_iter()
                .flat_map(|m| m.values_mut())
                .filter_map(|item| item.pointer_mut("/get/parameters"))
                .filter_map(Value::as_array_mut)
                .flatten()
            {
                if p.get("name").and_then(Value::as_str) == Some(name) {
                    if let Some(o) = p.as_object_mut() {
                        o.insert("example".into(), json!(example));
                    }
                }
            }
        }
        for (path, method, request, answer) in examples(&reg) {
            let Some(op) = doc
                .get_mut("paths")
                .and_then(|p| p.get_mut(path))
                .and_then(|p| p.get_mut(method))
            else {
                continue;
            };
            if let Some(content) = op
                .pointer_mut("/requestBody/content")
                .and_then(Value::as_object_mut)
            {
                for (ct, c) in content.iter_mut() {
                    // A text example (`/v1/check`) goes as itself in text/plain, and as the
                    // `text` of a JSON request.
                    let example = match (&request, ct.as_str()) {
                        (Value::String(t), "application/json") => {
                            json!({"name": "draft.policy", "text": t})
                        }
                        _ => request.clone(),
                    };
                    if let Some(c) = c.as_object_mut() {
                        c.insert("example".into(), example);
                    }
                }
            }
            if let Some(c) = op
                .pointer_mut("/responses/200/content/application~1json")
                .and_then(Value::as_object_mut)
            {
                c.insert("example".into(), answer);
            }
        }
        doc
    })
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Escaped text with `code` spans for backticks.
fn prose(s: &str) -> String {
    esc(s)
        .split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                format!("<code>{part}</code>")
            } else {
                part.to_string()
            }
        })
        .collect()
}

/// A schema's fields as a list: name, type and description, one level deep.
fn fields(doc: &Value, schema: &Value) -> String {
    let schema = match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => doc.pointer(r.trim_start_matches('#')).unwrap_or(schema),
        None => schema,
    };
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return String::new();
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let mut html = String::from("<table><tr><th>field</th><th>type</th><th>meaning</th></tr>");
    for (name, p) in props {
        let ty = p
            .get("type")
            .map(|t| match t {
                Value::Array(a) => a
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(" | "),
                other => other.as_str().unwrap_or("").to_string(),
            })
            .filter(|t| !t.is_empty())
            .or_else(|| {
                p.get("$ref")
                    .and_then(Value::as_str)
                    .map(|r| r.rsplit('/').next().unwrap_or("").to_string())
            })
            .unwrap_or_else(|| "object".into());
        let desc = p.get("description").and_then(Value::as_str).unwrap_or("");
        html.push_str(&format!(
            "<tr><td><code>{}</code>{}</td><td>{}</td><td>{}</td></tr>",
            esc(name),
            if required.contains(&name.as_str()) {
                " (required)"
            } else {
                ""
            },
            esc(&ty),
            prose(desc)
        ));
    }
    html.push_str("</table>");
    html
}

fn pretty(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    }
}

/// The `/docs` page: every operation with what it does, its request's fields, an example
/// request and answer, and every status it can answer.
pub(crate) fn page() -> String {
    let doc = document();
    let mut html = String::from(
        "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>yibao API</title>\
         <style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.5}\
         code{background:#f3f3f3;padding:0 .2em}section{border-top:1px solid #ddd;padding:.5rem 0}\
         pre{background:#f6f6f6;padding:.5rem;overflow:auto;max-height:24rem}table{border-collapse:collapse}\
         td,th{border-bottom:1px solid #eee;padding:.2rem .5rem;text-align:left;vertical-align:top}\
         .m{font-weight:bold;text-transform:uppercase;margin-right:.5em}</style><body><h1>yibao 医保 API</h1>",
    );
    if let Some(d) = doc.pointer("/info/description").and_then(Value::as_str) {
        html.push_str(&format!("<p>{}</p>", prose(d)));
    }
    html.push_str(
        "<p>The machine-readable description: <a href=\"/openapi.json\">/openapi.json</a>.</p>",
    );
    for (path, ops) in doc
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        for (method, op) in ops.as_object().into_iter().flatten() {
            html.push_str(&format!(
                "<section><h2><span class=\"m\">{}</span><code>{}</code></h2>",
                esc(method),
                esc(path)
            ));
            if let Some(d) = op
                .get("description")
                .or_else(|| op.get("summary"))
                .and_then(Value::as_str)
            {
                html.push_str(&format!("<p>{}</p>", prose(d)));
            }
            for (ct, c) in op
                .pointer("/requestBody/content")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                html.push_str(&format!("<p>request body: <code>{}</code></p>", esc(ct)));
                if let Some(s) = c.get("schema") {
                    html.push_str(&fields(doc, s));
                }
                if let Some(e) = c.get("example") {
                    html.push_str(&format!(
                        "<p>example request:</p><pre>{}</pre>",
                        esc(&pretty(e))
                    ));
                }
            }
            if let Some(e) = op.pointer("/responses/200/content/application~1json/example") {
                html.push_str(&format!(
                    "<p>its answer (computed by the evaluator):</p><pre>{}</pre>",
                    esc(&pretty(e))
                ));
            }
            html.push_str("<p>statuses:</p><ul>");
            for (status, resp) in op
                .get("responses")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                let d = resp
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                html.push_str(&format!(
                    "<li><code>{}</code> {}</li>",
                    esc(status),
                    prose(d)
                ));
            }
            html.push_str("</ul></section>");
        }
    }
    html.push_str("</body></html>");
    html
}
