//! yibao as WebAssembly: a thin layer over the `yibao` facade, which the command line and the
//! HTTP server call too — no rule logic here. Strings in, JSON strings out; failures are data:
//! every answer is `{"ok":true,"answer":…}` or `{"ok":false,"error":…}`, where `answer` is the
//! exact canonical JSON the CLI prints for the same request.

use std::cell::OnceCell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use yibao::Registry;

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
        return fail(&yibao::ApiError::new(
            yibao::ErrorKind::Request,
            Some("date".into()),
            format!("`{date}` is not a date (YYYY-MM-DD)"),
        ));
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
            if let yibao::policies::SelectError::NoVersion { versions, .. } = &e {
                err.allowed = versions.iter().map(|d| d.to_string()).collect();
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
    registry: Registry,
}

#[wasm_bindgen]
impl Engine {
    /// `files`: a JSON array of `[name, text]` pairs.
    #[wasm_bindgen(constructor)]
    pub fn new(files: &str) -> Result<Engine, JsValue> {
        let extra: Vec<(String, String)> =
            serde_json::from_str(files).map_err(|e| JsValue::from_str(&e.to_string()))?;
        let mut all = yibao::policies::bundled_files();
        all.extend(extra);
        Ok(Engine {
            registry: Registry::from_files(all),
        })
    }

    pub fn estimate(&self, request: &str) -> String {
        estimate_in(&self.registry, request)
    }
}
