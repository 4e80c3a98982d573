//! yibao as WebAssembly: a thin layer over the `yibao` facade, which the command line and the
//! HTTP server call too — no rule logic here. Strings in, JSON strings out; failures are data:
//! every answer is `{"ok":true,"answer":…}` or `{"ok":false,"error":…}`, where `answer` is the
//! exact canonical JSON the CLI prints for the same request.

use std::cell::OnceCell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use yibao::Registry;

#[cfg(all(not(target_feature = "atomics"), target_family = "wasm"))]
#[global_allocator]
static TALC: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

thread_local! {
    static BUNDLED: OnceCell<Rc<Registry>> = const { OnceCell::new() };
}

fn bundled() -> Rc<Registry> {
    BUNDLED.with(|c| c.get_or_init(|| Rc::new(Registry::bundled())).clone())
}

fn ok(answer: &str) -> String {
    format!("{{\"ok\":true,\"answer\":{answer}}}")
}

fn fail(e: &yibao::ApiError) -> String {
    format!(
        "{{\"ok\":false,\"error\":{}}}",
        serde_json::to_string(e).unwrap_or_else(|_| "{}".into())
    )
}

fn estimate_in(reg: &Registry, request: &str) -> String {
    match yibao::estimate_json(reg, request) {
        Ok(a) => ok(&a),
        Err(e) => fail(&e),
    }
}

/// Settles a request (`{policy, claim | claims, state, overrides, trace}`) under the bundled
/// policies.
#[wasm_bindgen]
pub fn estimate(request: &str) -> String {
    estimate_in(&bundled(), request)
}

fn estimate_batch_in(reg: &Registry, request: &str) -> String {
    let req: yibao::BatchRequest = match yibao::from_json(request.as_bytes()) {
        Ok(r) => r,
        Err(e) => return fail(&e.error),
    };
    match yibao::estimate_batch(reg, &req).and_then(|a| yibao::to_json(&a)) {
        Ok(a) => ok(&a),
        Err(e) => fail(&e),
    }
}

/// Settles a batch (`{policy, version, overrides, trace, claims}`: many persons' claims, each
/// person's in the order given) under the bundled policies; a claim's own error is in its item.
#[wasm_bindgen]
pub fn estimate_batch(request: &str) -> String {
    estimate_batch_in(&bundled(), request)
}

/// The figures of the bundled version of `policy` taking effect on `version` (`YYYY-MM-DD`):
/// paths an override may name, values, provenance, sources.
#[wasm_bindgen]
pub fn params(policy: &str, version: &str) -> String {
    let Ok(date) = version.parse::<yibao::Date>() else {
        return fail(
            &yibao::ApiError::new(
                yibao::ErrorKind::Request,
                Some("version".into()),
                format!("`{version}` is not a date (YYYY-MM-DD)"),
            )
            .with_code(
                yibao::ErrorCode::NotADate,
                &[("value", version.to_string())],
            ),
        );
    };
    match yibao::params(&bundled(), policy, date) {
        Ok(p) => ok(&serde_json::to_string(&p).unwrap_or_default()),
        Err(e) => fail(&e),
    }
}

/// One person's year, settled a claim at a time (`yibao::Year`): each claim sees what the ones
/// before used, as `estimate` with all the claims at once.
#[wasm_bindgen]
pub struct Year {
    registry: Rc<Registry>,
    year: yibao::Year,
}

/// A year under `request` (`{policy, version, overrides, state, trace}`, no claims); a refusal is
/// thrown as the framed error text.
fn start_year(registry: Rc<Registry>, request: &str) -> Result<Year, JsValue> {
    let year = yibao::parse_request_json(request)
        .and_then(|req| yibao::Year::new(&req))
        .map_err(|e| JsValue::from_str(&fail(&e)))?;
    Ok(Year { registry, year })
}

#[wasm_bindgen]
impl Year {
    /// A year under the bundled policies; `request` as for `estimate`, without claims.
    #[wasm_bindgen(constructor)]
    pub fn new(request: &str) -> Result<Year, JsValue> {
        start_year(bundled(), request)
    }

    /// Settles the next claim, given as `{"claim": …}` (so that a mistake's path reads
    /// `claim.…`, as in `estimate`); the answer holds its settlement, the state after it and its
    /// notices. A refused claim leaves the year as it was.
    pub fn settle(&mut self, request: &str) -> String {
        let req = match yibao::parse_request_json(request) {
            Ok(r) => r,
            Err(e) => return fail(&e),
        };
        let only_claim = req.policy.is_none()
            && req.version.is_none()
            && req.overrides.is_empty()
            && req.state.is_none()
            && req.claims.is_empty();
        let Some(claim) = req.claim.filter(|_| only_claim) else {
            return fail(&yibao::ApiError::new(
                yibao::ErrorKind::Request,
                Some("claim".into()),
                "a year settles `{\"claim\": …}`; its policy, version, overrides and state were given when it started",
            ));
        };
        match self
            .year
            .settle(&self.registry, &claim)
            .and_then(|a| yibao::to_json(&a))
        {
            Ok(a) => ok(&a),
            Err(e) => fail(&e),
        }
    }

    /// The year so far, as JSON (a request's `state`).
    pub fn state(&self) -> String {
        serde_json::to_string(self.year.state()).unwrap_or_else(|_| "{}".into())
    }

    /// How many claims have been settled.
    pub fn settled(&self) -> u32 {
        u32::try_from(self.year.settled()).unwrap_or(u32::MAX)
    }
}

/// Every bundled policy version.
#[wasm_bindgen]
pub fn policies() -> String {
    ok(&serde_json::to_string(&yibao::list_versions(&bundled())).unwrap_or_else(|_| "[]".into()))
}

/// The version of `policy` in force on `date` (its labels and dimensions drive the form), or
/// the error listing the versions that exist.
#[wasm_bindgen]
pub fn version_for(policy: &str, date: &str) -> String {
    let reg = bundled();
    let Ok(date) = date.parse::<yibao::Date>() else {
        return fail(
            &yibao::ApiError::new(
                yibao::ErrorKind::Request,
                Some("date".into()),
                format!("`{date}` is not a date (YYYY-MM-DD)"),
            )
            .with_code(yibao::ErrorCode::NotADate, &[("value", date.to_string())]),
        );
    };
    match reg.select(policy, date) {
        Ok(v) => {
            let info = yibao::list_versions(&reg)
                .into_iter()
                .find(|i| i.id == v.id && i.effective == v.effective);
            ok(&serde_json::to_string(&info).unwrap_or_default())
        }
        Err(e) => {
            let mut err = yibao::ApiError::new(
                yibao::ErrorKind::NotFound,
                Some("date".into()),
                e.to_string(),
            );
            match &e {
                yibao::policies::SelectError::NoVersion { id, date, versions } => {
                    err.allowed = versions.iter().map(|d| d.to_string()).collect();
                    err = err.with_code(
                        yibao::ErrorCode::NoVersion,
                        &[("policy", id.clone()), ("date", date.to_string())],
                    );
                }
                yibao::policies::SelectError::UnknownPolicy { id, .. } => {
                    err = err.with_code(yibao::ErrorCode::UnknownPolicy, &[("policy", id.clone())]);
                }
                yibao::policies::SelectError::Broken { .. } => {}
            }
            fail(&err)
        }
    }
}

/// Diagnostics for a policy text.
#[wasm_bindgen]
pub fn check(name: &str, text: &str) -> String {
    ok(&serde_json::to_string(&yibao::check_json(name, text)).unwrap_or_else(|_| "{}".into()))
}

/// The canonical form of a policy text, or its diagnostics.
#[wasm_bindgen]
pub fn format(text: &str) -> String {
    match yibao::lang::fmt::format(text) {
        Ok(t) => ok(&serde_json::to_string(&t).unwrap_or_default()),
        Err(ds) => {
            let mut map = yibao::lang::SourceMap::new();
            map.add("draft.policy", text);
            let diags: Vec<_> = ds.iter().map(|d| d.to_json(&map)).collect();
            format!(
                "{{\"ok\":false,\"diagnostics\":{}}}",
                serde_json::to_string(&diags).unwrap_or_default()
            )
        }
    }
}

/// The bundled policies plus extra policy files (`[[name, text], …]`), e.g. test fixtures or a
/// draft being tried.
#[wasm_bindgen]
pub struct Engine {
    registry: Rc<Registry>,
}

#[wasm_bindgen]
impl Engine {
    /// `files`: a JSON array of `[name, text]` pairs.
    #[wasm_bindgen(constructor)]
    pub fn new(files: &str) -> Result<Engine, JsValue> {
        let extra: Vec<(String, String)> =
            serde_json::from_str(files).map_err(|e| JsValue::from_str(&e.to_string()))?;
        Ok(Engine {
            registry: Rc::new(yibao::with_drafts(extra)),
        })
    }

    /// As the module's `estimate`, with these policies.
    pub fn estimate(&self, request: &str) -> String {
        estimate_in(&self.registry, request)
    }

    /// As the module's `estimate_batch`, with these policies.
    pub fn estimate_batch(&self, request: &str) -> String {
        estimate_batch_in(&self.registry, request)
    }

    /// As `new Year(request)`, with these policies.
    pub fn year(&self, request: &str) -> Result<Year, JsValue> {
        start_year(self.registry.clone(), request)
    }
}

#[cfg(feature = "drafter")]
fn answer<T: serde::Serialize>(r: Result<T, yibao::ApiError>) -> String {
    match r {
        Ok(a) => ok(&serde_json::to_string(&a).unwrap_or_else(|_| "null".into())),
        Err(e) => fail(&e),
    }
}

#[cfg(feature = "drafter")]
/// National compliance findings for a draft policy text (`{policy, version, file, findings}`).
#[wasm_bindgen]
pub fn compliance(name: &str, text: &str) -> String {
    answer(yibao::draft_compliance(name, text))
}

#[cfg(feature = "drafter")]
/// A draft against the bundled version in force on its effective date: changed parameters and
/// the impact on a seeded sample of `persons` persons' claims.
#[wasm_bindgen]
pub fn diff(name: &str, text: &str, persons: u32) -> String {
    answer(yibao::draft_diff(name, text, u64::from(persons)))
}

#[cfg(feature = "drafter")]
/// Runs vector files (`[[name, yaml], …]`) with a draft loaded over the bundled policies.
#[wasm_bindgen]
pub fn vectors(name: &str, text: &str, files: &str) -> String {
    let files: Vec<(String, String)> = match serde_json::from_str(files) {
        Ok(f) => f,
        Err(e) => {
            return fail(&yibao::ApiError::new(
                yibao::ErrorKind::Request,
                Some("files".into()),
                e.to_string(),
            ))
        }
    };
    let (_, results) = yibao::vectors::run_all(vec![(name.to_string(), text.to_string())], &files);
    ok(&serde_json::to_string(&results).unwrap_or_else(|_| "[]".into()))
}

/// The source text of a bundled policy version (`id`, `YYYY-MM-DD`), for the playground's editor.
#[cfg(feature = "drafter")]
#[wasm_bindgen]
pub fn source(id: &str, version: &str) -> String {
    let reg = bundled();
    let found = version
        .parse::<yibao::Date>()
        .ok()
        .and_then(|d| reg.version(id, d))
        .and_then(|v| {
            yibao::policies::bundled_files()
                .into_iter()
                .find(|(n, _)| *n == v.file)
        });
    match found {
        Some((name, text)) => ok(&serde_json::json!({"file": name, "text": text}).to_string()),
        None => fail(&yibao::ApiError::new(
            yibao::ErrorKind::NotFound,
            Some("version".into()),
            format!("no bundled version {id}@{version}"),
        )),
    }
}

/// For benchmarks: settles the request's claims `rounds` times under the bundled policies (no
/// trace, no JSON out) and returns the number of settlements (saturating at `u32::MAX`); a bad
/// request throws its error.
#[wasm_bindgen]
pub fn settle_rounds(request: &str, rounds: u32) -> Result<u32, JsValue> {
    yibao::settle_rounds(&bundled(), request, rounds)
        .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
        .map_err(|e| JsValue::from_str(&e.to_string()))
}
