use std::collections::BTreeMap;
use std::sync::Arc;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use yibao_engine::{
    settle_in_place, Claim, ClaimError, Date, Policy, SettleError, SettleOptions, Settlement,
    YtdState,
};
use yibao_lang::{Diagnostic, DiagnosticJson, Overrides};
use yibao_policies::{Registry, SelectError};

/// Settle one claim, or one person's claims of a year in date order.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EstimateRequest {
    /// `region.scheme`; when absent, taken from the first claim's `region` and `scheme`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// Pin a version by its effective date; by default each claim's date picks the version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<Date>,
    /// Values for named parameters, e.g. `{"basic.deductible": "800"}` (`85%` for ratios).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub overrides: BTreeMap<String, String>,
    /// The year so far, before the first claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<YtdState>,
    /// Build the step-by-step explanation (default: yes).
    #[serde(default = "yes")]
    pub trace: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<Claim>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub claims: Vec<Claim>,
}

fn yes() -> bool {
    true
}

impl EstimateRequest {
    fn all_claims(&self) -> impl Iterator<Item = &Claim> {
        self.claim.iter().chain(self.claims.iter())
    }
}

/// The settlements, in order, and the state after the last claim.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EstimateAnswer {
    pub settlements: Vec<Settlement>,
    pub state: YtdState,
    /// Rules known only up to a date before a claim, rules past their stated validity, known
    /// deviations that touch a claim (each also a warning of its settlement).
    pub notices: Vec<crate::Notice>,
}

/// Why a request could not be answered. `kind` says whose mistake it is.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[error("{}{message}", path.as_ref().map(|p| format!("{p}: ")).unwrap_or_default())]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiError {
    pub kind: ErrorKind,
    /// A stable name of the mistake, for front ends that word it in their own language:
    /// `amount_syntax`, `amount_precision`, `amount_negative`, `amount_too_large`,
    /// `parts_above_total`, `date_order`, `not_a_date`, `unknown_choice`, `unknown_policy`,
    /// `no_version`, `override_value`, `unknown_override`; otherwise the kind's name.
    pub code: ErrorCode,
    /// The field at fault, e.g. `claims[1].amounts.total`.
    pub path: Option<String>,
    pub message: String,
    /// The facts the code's words need, by name (`value`, `parts`, `total`, `date`, `policy`).
    #[serde(skip_serializing_if = "no_fields")]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub fields: Box<BTreeMap<String, String>>,
    /// Values the field may take, where it is a choice.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allowed: Vec<String>,
    /// Policy diagnostics, for a policy that does not compile.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub diagnostics: Vec<DiagnosticJson>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ErrorKind {
    /// The request is not valid JSON/YAML or has a wrong field.
    Request,
    /// A claim's content is wrong (unknown care type, parts above the total …).
    Claim,
    /// No policy or version applies.
    NotFound,
    /// The policy cannot be evaluated (a policy error, not the caller's).
    Policy,
    /// A fault in the service itself (HTTP 500): please report it.
    Internal,
    /// The service is at capacity or shutting down (HTTP 503): try again shortly.
    Unavailable,
}

/// The stable name of a mistake (see [`ApiError::code`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ErrorCode {
    Request,
    Claim,
    NotFound,
    Policy,
    NotJson,
    AmountSyntax,
    AmountPrecision,
    AmountNegative,
    AmountTooLarge,
    PartsAboveTotal,
    DateOrder,
    NotADate,
    UnknownChoice,
    UnknownPolicy,
    NoVersion,
    OverrideValue,
    UnknownOverride,
    Internal,
    Unavailable,
}

fn no_fields(f: &BTreeMap<String, String>) -> bool {
    f.is_empty()
}

impl ErrorKind {
    fn code(self) -> ErrorCode {
        match self {
            ErrorKind::Request => ErrorCode::Request,
            ErrorKind::Claim => ErrorCode::Claim,
            ErrorKind::NotFound => ErrorCode::NotFound,
            ErrorKind::Policy => ErrorCode::Policy,
            ErrorKind::Internal => ErrorCode::Internal,
            ErrorKind::Unavailable => ErrorCode::Unavailable,
        }
    }
}

impl ApiError {
    pub fn new(kind: ErrorKind, path: Option<String>, message: impl Into<String>) -> Self {
        ApiError {
            kind,
            code: kind.code(),
            path,
            message: message.into(),
            fields: Box::default(),
            allowed: vec![],
            diagnostics: vec![],
        }
    }

    /// The same error with a specific code and the facts its words need.
    pub fn with_code(mut self, code: ErrorCode, fields: &[(&str, String)]) -> Self {
        self.code = code;
        self.fields = Box::new(
            fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        );
        self
    }

    /// A claim the evaluator refused, coded from the field it names and the claim's own values.
    /// `previous`: the date of the claim before, where known (for `date_order`).
    fn claim_of(
        i: usize,
        many: bool,
        e: ClaimError,
        claim: &Claim,
        previous: Option<Date>,
    ) -> Self {
        let field = e.path.clone();
        let err = Self::claim(i, many, e);
        let a = &claim.amounts;
        let choice = |v: Option<&str>| match v {
            Some(v) => err
                .clone()
                .with_code(ErrorCode::UnknownChoice, &[("value", v.to_string())]),
            None => err.clone().with_code(ErrorCode::UnknownChoice, &[]),
        };
        match field.as_str() {
            "amounts" => {
                let parts = a.out_of_list.0 + a.pre_self_pay.0 + a.over_limit.0;
                err.clone().with_code(
                    ErrorCode::PartsAboveTotal,
                    &[
                        ("parts", yibao_engine::money::fmt_money(parts)),
                        ("total", a.total.to_string()),
                    ],
                )
            }
            "date" => {
                let mut fields = vec![("date", claim.date.to_string())];
                fields.extend(previous.map(|p| ("after", p.to_string())));
                err.clone().with_code(ErrorCode::DateOrder, &fields)
            }
            "group" => choice(claim.group.as_deref()),
            "care" => choice(Some(&claim.care)),
            "level" => choice(claim.level.as_deref()),
            "place" => choice(claim.place.as_deref()),
            "disease" => choice(claim.disease.as_deref()),
            "case_code" => choice(claim.case_code.as_deref()),
            f if f.starts_with("categories[") => {
                let k: Option<usize> = f
                    .trim_start_matches("categories[")
                    .trim_end_matches(']')
                    .parse()
                    .ok();
                choice(k.and_then(|k| claim.categories.get(k)).map(String::as_str))
            }
            _ => err,
        }
    }

    fn claim(i: usize, many: bool, e: ClaimError) -> Self {
        let prefix = if many {
            format!("claims[{i}]")
        } else {
            "claim".to_string()
        };
        let path = if e.path.starts_with("state.") {
            e.path.clone()
        } else {
            format!("{prefix}.{}", e.path)
        };
        ApiError {
            allowed: e.allowed,
            ..ApiError::new(ErrorKind::Claim, Some(path), e.message)
        }
    }

    fn select(e: SelectError, path: &str) -> Self {
        let allowed = match &e {
            SelectError::UnknownPolicy { known, .. } => known.clone(),
            SelectError::NoVersion { versions, .. } => {
                versions.iter().map(Date::to_string).collect()
            }
            SelectError::Broken { .. } => vec![],
        };
        let kind = if matches!(e, SelectError::Broken { .. }) {
            ErrorKind::Policy
        } else {
            ErrorKind::NotFound
        };
        let err = ApiError {
            allowed,
            ..ApiError::new(kind, Some(path.to_string()), e.to_string())
        };
        match &e {
            SelectError::UnknownPolicy { id, .. } => {
                err.with_code(ErrorCode::UnknownPolicy, &[("policy", id.clone())])
            }
            SelectError::NoVersion { id, date, .. } => err.with_code(
                ErrorCode::NoVersion,
                &[("policy", id.clone()), ("date", date.to_string())],
            ),
            SelectError::Broken { .. } => err,
        }
    }
}

/// Parses an override value: `800`, `30万`, `85%` or `0.85`.
pub fn parse_override(text: &str) -> Option<Decimal> {
    let t = text.trim();
    let (digits, scale) = if let Some(d) = t.strip_suffix('%') {
        (d, Decimal::new(1, 2))
    } else if let Some(d) = t.strip_suffix('万') {
        (d, Decimal::from(10_000))
    } else {
        (t.strip_suffix('元').unwrap_or(t), Decimal::ONE)
    };
    let d = Decimal::from_str_exact(digits.trim()).ok()?;
    if d.is_sign_negative() {
        return None;
    }
    d.checked_mul(scale)
}

fn overrides_of(req: &EstimateRequest) -> Result<Overrides, ApiError> {
    parse_overrides(&req.overrides)
}

/// Parses `{"basic.deductible": "800", "basic.ratio": "85%"}` into compiler overrides.
pub fn parse_overrides(map: &BTreeMap<String, String>) -> Result<Overrides, ApiError> {
    let mut o = Overrides::default();
    for (k, v) in map {
        let Some(d) = parse_override(v) else {
            return Err(ApiError::new(
                ErrorKind::Request,
                Some(format!("overrides.{k}")),
                format!("`{v}` is not an amount (`800`) or a ratio (`85%`)"),
            )
            .with_code(ErrorCode::OverrideValue, &[("value", v.clone())]));
        };
        o.values.insert(k.clone(), d);
    }
    Ok(o)
}

/// The compiled policies a request has used, by id and version, with the request's overrides.
/// `estimate`, `estimate_batch` and the batch command resolve each claim's policy through it.
pub struct PolicyCache<'r> {
    reg: &'r Registry,
    overrides: Overrides,
    compiled: Vec<(String, Date, Arc<Policy>)>,
    /// The last answer and the dates it holds for, so a run of claims under the same policy
    /// skips the registry lookup.
    last: Option<Memo>,
}

struct Memo {
    policy: Option<String>,
    region: Option<String>,
    scheme: Option<String>,
    from: Date,
    until: Option<Date>,
    compiled: Arc<Policy>,
}

impl<'r> PolicyCache<'r> {
    pub fn new(reg: &'r Registry, overrides: Overrides) -> Self {
        PolicyCache {
            reg,
            overrides,
            compiled: Vec::new(),
            last: None,
        }
    }

    /// The policy `claim` is settled under: the one the request names, or the claim's region and
    /// scheme; the version pinned by the request or in force on the claim's date. `path` is the
    /// claim's place in the request, for errors.
    pub fn for_claim(
        &mut self,
        policy: Option<&str>,
        version: Option<Date>,
        claim: &Claim,
        path: &str,
    ) -> Result<Arc<Policy>, ApiError> {
        if version.is_none() {
            if let Some(m) = &self.last {
                let same = match policy {
                    Some(p) => m.policy.as_deref() == Some(p),
                    None => {
                        m.policy.is_none() && m.region == claim.region && m.scheme == claim.scheme
                    }
                };
                if same && claim.date >= m.from && m.until.is_none_or(|u| claim.date < u) {
                    return Ok(m.compiled.clone());
                }
            }
        }
        let reg = self.reg;
        let id = match (policy, &claim.region, &claim.scheme) {
            (Some(p), _, _) => p.to_string(),
            (None, Some(r), Some(s)) => format!("{r}.{s}"),
            _ => {
                return Err(ApiError {
                    allowed: reg.policy_ids(),
                    ..ApiError::new(
                        ErrorKind::Request,
                        Some(format!("{path}.region")),
                        "name the policy (`policy`), or give the claim's `region` and `scheme`",
                    )
                })
            }
        };
        let v = reg
            .select(&id, version.unwrap_or(claim.date))
            .map_err(|e| ApiError::select(e, if version.is_some() { "version" } else { path }))?;
        let (from, until) = (
            v.effective,
            reg.versions()
                .iter()
                .filter(|x| x.id == id && x.effective > v.effective)
                .map(|x| x.effective)
                .min(),
        );
        let memo = |compiled: Arc<Policy>| Memo {
            policy: policy.map(str::to_string),
            region: claim.region.clone(),
            scheme: claim.scheme.clone(),
            from,
            until,
            compiled,
        };
        if let Some((_, _, p)) = self
            .compiled
            .iter()
            .find(|(c, e, _)| *c == id && *e == v.effective)
        {
            if version.is_none() {
                self.last = Some(memo(p.clone()));
            }
            return Ok(p.clone());
        }
        let p = reg.with_overrides(v, &self.overrides).map_err(|ds| {
            let unknown = ds.iter().any(|d| d.code == "yibao::unknown-override");
            let err = ApiError {
                diagnostics: ds.iter().map(|d| d.to_json(&reg.map)).collect(),
                ..ApiError::new(
                    if unknown {
                        ErrorKind::Request
                    } else {
                        ErrorKind::Policy
                    },
                    Some("overrides".into()),
                    ds.first()
                        .map(|d| {
                            format!(
                                "{}{}",
                                d.message,
                                d.help
                                    .as_ref()
                                    .map(|h| format!(" ({h})"))
                                    .unwrap_or_default()
                            )
                        })
                        .unwrap_or_default(),
                )
            };
            if unknown {
                err.with_code(ErrorCode::UnknownOverride, &[])
            } else {
                err
            }
        })?;
        self.compiled.push((id, v.effective, p.clone()));
        if version.is_none() {
            self.last = Some(memo(p.clone()));
        }
        Ok(p)
    }
}

/// Settles the request's claims in order, folding the year-to-date state.
pub fn estimate(reg: &Registry, req: &EstimateRequest) -> Result<EstimateAnswer, ApiError> {
    let many = req.claim.is_none() || !req.claims.is_empty();
    if req.claim.is_some() && !req.claims.is_empty() {
        return Err(ApiError::new(
            ErrorKind::Request,
            Some("claim".into()),
            "give either `claim` or `claims`, not both",
        ));
    }
    let claims: Vec<&Claim> = req.all_claims().collect();
    if claims.is_empty() {
        return Err(ApiError::new(
            ErrorKind::Request,
            Some("claims".into()),
            "no claim to settle",
        ));
    }
    let mut policies = PolicyCache::new(reg, overrides_of(req)?);
    let opts = SettleOptions { trace: req.trace };
    let mut state = req.state.clone().unwrap_or_default();
    let mut out = Vec::with_capacity(claims.len());
    let mut notices = vec![];
    let mut current: Option<Arc<Policy>> = None;
    for (i, claim) in claims.iter().enumerate() {
        let cpath = if many {
            format!("claims[{i}]")
        } else {
            "claim".into()
        };
        let policy = policies.for_claim(req.policy.as_deref(), req.version, claim, &cpath)?;
        // A year may cross into another version: carry the state over to its layers.
        if current.as_ref().is_some_and(|c| !Arc::ptr_eq(c, &policy)) {
            state = state.carry_to(&policy);
        }
        current = Some(policy.clone());
        let mut s = settle_in_place(&policy, claim, &mut state, &opts).map_err(|e| match e {
            SettleError::Claim(c) => {
                let previous = i.checked_sub(1).and_then(|j| claims.get(j)).map(|p| p.date);
                ApiError::claim_of(i, many, c, claim, previous)
            }
            SettleError::Eval(ev) => {
                ApiError::new(ErrorKind::Policy, Some(cpath.clone()), ev.to_string())
            }
        })?;
        notices.extend(crate::notice::annotate(reg, &policy, i, &mut s));
        out.push(s);
    }
    Ok(EstimateAnswer {
        settlements: out,
        state,
        notices,
    })
}

/// Parses a request from JSON, reporting the field path of a mistake.
pub fn parse_request_json(text: &str) -> Result<EstimateRequest, ApiError> {
    from_json(text.as_bytes()).map_err(|e| {
        if e.syntax {
            return e.error.with_code(ErrorCode::NotJson, &[]);
        }
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(v) => coded(e.error, &v),
            Err(_) => e.error.with_code(ErrorCode::NotJson, &[]),
        }
    })
}

/// Why a JSON text could not be read as a request.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonError {
    pub error: ApiError,
    /// The text is not one JSON value (bad syntax, cut short, or more after the value), as
    /// opposed to JSON with a wrong field.
    pub syntax: bool,
}

/// The one JSON reader for requests (server, command line, WebAssembly): exactly one JSON value
/// with nothing but whitespace after it, structs written as objects (never arrays read by
/// position), unknown fields refused, and the field path of a mistake reported.
pub fn from_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, JsonError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T =
        serde_path_to_error::deserialize(crate::strict::Strict(&mut de)).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            JsonError {
                syntax: !inner.is_data(),
                error: path_error(path, inner.to_string()),
            }
        })?;
    de.end().map_err(|e| JsonError {
        syntax: true,
        error: ApiError::new(
            ErrorKind::Request,
            None,
            format!("{e}: a request is one JSON object with nothing after it"),
        ),
    })?;
    Ok(value)
}

/// The value at an error path (`claims[0].amounts.total`) of a request.
fn value_at<'v>(root: &'v serde_json::Value, path: &str) -> Option<&'v serde_json::Value> {
    let mut v = root;
    for seg in path.split('.') {
        let (name, rest) = seg.split_once('[').unwrap_or((seg, ""));
        if !name.is_empty() {
            v = v.get(name)?;
        }
        for idx in rest.split('[') {
            if let Ok(i) = idx.trim_end_matches(']').parse::<usize>() {
                v = v.get(i)?;
            }
        }
    }
    Some(v)
}

/// A request field's error coded from the value given: an amount's mistake by the money parser's
/// own verdict, a date that is not one.
fn coded(err: ApiError, request: &serde_json::Value) -> ApiError {
    let Some(path) = err.path.clone() else {
        return err;
    };
    let Some(value) = value_at(request, &path) else {
        return err;
    };
    let text = match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let field = path.rsplit('.').next().unwrap_or_default();
    if path.contains("amounts.") {
        use yibao_engine::money::MoneyError;
        let code = match text.parse::<yibao_engine::Money>() {
            Err(MoneyError::Precision(_)) => ErrorCode::AmountPrecision,
            Err(MoneyError::Negative(_)) => ErrorCode::AmountNegative,
            Err(MoneyError::TooLarge(_)) => ErrorCode::AmountTooLarge,
            // Parsed as text but refused as JSON (a float), or not a number at all.
            _ => ErrorCode::AmountSyntax,
        };
        return err.with_code(code, &[("value", text)]);
    }
    if field == "date" || field == "version" || field == "last_date" {
        return err.with_code(ErrorCode::NotADate, &[("value", text)]);
    }
    err
}

/// Parses a request from YAML or JSON text as a user writes it in a file: a full request, one
/// claim, or a list of claims.
pub fn parse_request_yaml(text: &str) -> Result<EstimateRequest, ApiError> {
    let value: serde_norway::Value = serde_norway::from_str(text)
        .map_err(|e| ApiError::new(ErrorKind::Request, None, e.to_string()))?;
    let is_request = value.as_mapping().is_some_and(|m| {
        m.keys().any(|k| {
            matches!(
                k.as_str(),
                Some("claims" | "claim" | "policy" | "state" | "overrides")
            )
        })
    });
    let json = serde_json::to_value(&value).unwrap_or_default();
    if is_request {
        return serde_path_to_error::deserialize(crate::strict::Strict(value)).map_err(|e| {
            coded(
                path_error(e.path().to_string(), e.inner().to_string()),
                &json,
            )
        });
    }
    if value.is_sequence() {
        let claims: Vec<Claim> = serde_path_to_error::deserialize(crate::strict::Strict(value))
            .map_err(|e| {
                let err = path_error(
                    format!("claims{}", bracket(e.path().to_string())),
                    e.inner().to_string(),
                );
                coded(err, &serde_json::json!({ "claims": json }))
            })?;
        return Ok(EstimateRequest {
            claims,
            trace: true,
            ..EstimateRequest::default()
        });
    }
    let claim: Claim =
        serde_path_to_error::deserialize(crate::strict::Strict(value)).map_err(|e| {
            let err = path_error(format!("claim.{}", e.path()), e.inner().to_string());
            coded(err, &serde_json::json!({ "claim": json }))
        })?;
    Ok(EstimateRequest {
        claim: Some(claim),
        trace: true,
        ..EstimateRequest::default()
    })
}

fn bracket(p: String) -> String {
    if p.starts_with('[') {
        p
    } else {
        format!(".{p}")
    }
}

fn path_error(path: String, message: String) -> ApiError {
    let path = if path == "." || path.is_empty() {
        None
    } else {
        Some(path.trim_end_matches(".?").to_string())
    };
    ApiError::new(ErrorKind::Request, path, message)
}

/// `estimate` from JSON text to canonical JSON text: the function the wasm module and the
/// server expose.
pub fn estimate_json(reg: &Registry, request: &str) -> Result<String, ApiError> {
    let req = parse_request_json(request)?;
    let answer = estimate(reg, &req)?;
    to_json(&answer)
}

/// Canonical JSON of any answer.
pub fn to_json<T: Serialize>(v: &T) -> Result<String, ApiError> {
    serde_json::to_string(v)
        .map_err(|e| ApiError::new(ErrorKind::Policy, None, format!("internal error: {e}")))
}

/// What `check` found in a text.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CheckAnswer {
    pub ok: bool,
    pub errors: usize,
    pub warnings: usize,
    pub diagnostics: Vec<DiagnosticJson>,
}

/// Checks a policy text. A text that `extends` a bundled version is checked against it.
pub fn check_text(name: &str, text: &str) -> (Registry, Vec<Diagnostic>) {
    let reg = with_drafts(vec![(name.to_string(), text.to_string())]);
    let diags: Vec<Diagnostic> = reg
        .diagnostics
        .iter()
        .filter(|(f, _)| f == name)
        .flat_map(|(_, ds)| ds.iter().cloned())
        .collect();
    (reg, diags)
}

/// The bundled policies with draft files loaded over them: a draft replaces the bundled version
/// with the same id and effective date, and may `extends` any bundled version.
pub fn with_drafts(drafts: Vec<(String, String)>) -> Registry {
    let mut files: Vec<(String, String)> = yibao_policies::bundled_files();
    let bundled = Registry::bundled();
    for (name, text) in &drafts {
        let probe = Registry::from_files(vec![(name.clone(), text.clone())]);
        for v in probe.versions() {
            if let Some(b) = bundled.version(&v.id, v.effective) {
                let f = b.file.clone();
                files.retain(|(n, _)| *n != f);
            }
        }
    }
    files.extend(drafts);
    Registry::from_files(files)
}

/// `check` as JSON, for the playground and the server.
pub fn check_json(name: &str, text: &str) -> CheckAnswer {
    let (reg, diags) = check_text(name, text);
    let errors = diags.iter().filter(|d| d.is_error()).count();
    CheckAnswer {
        ok: errors == 0,
        errors,
        warnings: diags.len() - errors,
        diagnostics: diags.iter().map(|d| d.to_json(&reg.map)).collect(),
    }
}

/// One version in the list of policies.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VersionInfo {
    pub id: String,
    pub region: String,
    pub scheme: String,
    pub name: String,
    pub name_en: Option<String>,
    pub effective: Date,
    pub content_hash: String,
    pub file: String,
    pub ok: bool,
    /// How many of the version's numbers have each provenance.
    pub provenance: BTreeMap<String, usize>,
    pub dims: Option<yibao_engine::ir::Dims>,
}

/// Every bundled version, for pickers and the API.
pub fn list_versions(reg: &Registry) -> Vec<VersionInfo> {
    reg.versions()
        .iter()
        .map(|v| {
            let (region, scheme) = v.id.split_once('.').unwrap_or((&v.id, ""));
            let mut provenance = BTreeMap::new();
            if let Some(p) = &v.policy {
                for param in &p.params {
                    *provenance
                        .entry(param.provenance.name().to_string())
                        .or_insert(0) += 1;
                }
            }
            VersionInfo {
                id: v.id.clone(),
                region: region.to_string(),
                scheme: scheme.to_string(),
                name: v
                    .policy
                    .as_ref()
                    .map(|p| p.name.to_string())
                    .unwrap_or_default(),
                name_en: v.policy.as_ref().and_then(|p| p.name_en.clone()),
                effective: v.effective,
                content_hash: v.content_hash.clone(),
                file: v.file.clone(),
                ok: v.policy.is_some(),
                provenance,
                dims: v.policy.as_ref().map(|p| p.dims.clone()),
            }
        })
        .collect()
}

/// How sure a version's figures are: counts by provenance, and the placeholders.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Fidelity {
    pub id: String,
    pub effective: Date,
    /// The provenance of the effective date itself.
    pub date_provenance: String,
    pub counts: BTreeMap<String, usize>,
    /// `(path, as written, note)` of every placeholder figure.
    pub placeholders: Vec<(String, String, Option<String>)>,
    /// The whole version's validity: `(valid_until or confirmed, date)`.
    pub known_until: Vec<(String, Date)>,
    /// Statements about some layers: `(valid_until or confirmed, date, layers)`.
    pub layers_known_until: Vec<(String, Date, Vec<String>)>,
    /// Figures beyond their known validity: for the newest version, those whose validity (stated
    /// end or last confirmation) is before [`FIDELITY_AS_OF`]; for an older one, those whose
    /// stated end came before the next version took effect.
    pub beyond_validity: usize,
}

/// The date the fidelity report counts validity against: the last review of the facts
/// (`../shared/docs/policy-facts.md` §7, 2026-11-30). Move it when the facts are reviewed again.
pub const FIDELITY_AS_OF: (i32, u8, u8) = (2026, 11, 30);

fn as_of() -> Date {
    let (y, m, d) = FIDELITY_AS_OF;
    Date::new(y, m, d).unwrap_or(Date::MIN)
}

/// The day before `d` (or `d` itself at the start of the calendar).
fn day_before(d: Date) -> Date {
    let (y, m, day) = (d.year(), d.month(), d.day());
    if day > 1 {
        return Date::new(y, m, day - 1).unwrap_or(d);
    }
    let (y, m) = if m > 1 { (y, m - 1) } else { (y - 1, 12) };
    (28..=31)
        .rev()
        .find_map(|dd| Date::new(y, m, dd))
        .unwrap_or(d)
}

/// How many of `p`'s figures are beyond their known validity at `end` (the last day the version
/// was or is applied); `newest` counts confirmations too, an older version only stated ends.
fn beyond_validity(p: &Policy, end: Date, newest: bool) -> usize {
    use yibao_engine::ir::ValidityKind;
    let counts = |v: &yibao_engine::ir::Validity| newest || v.kind == ValidityKind::ValidUntil;
    p.params
        .iter()
        .filter(|param| {
            let layer = param.path.split('.').next().unwrap_or("");
            let scoped: Vec<_> = p
                .validity
                .iter()
                .filter(|v| v.layers.iter().any(|l| &**l == layer))
                .collect();
            let applicable: Vec<_> = if scoped.is_empty() {
                p.validity.iter().filter(|v| v.layers.is_empty()).collect()
            } else {
                scoped
            };
            applicable.iter().any(|v| counts(v) && v.until < end)
        })
        .count()
}

/// The fidelity of every compiled version, ordered by policy and date.
pub fn fidelity(reg: &Registry) -> Vec<Fidelity> {
    reg.versions()
        .iter()
        .filter_map(|v| v.policy.as_ref().map(|p| (v, p)))
        .map(|(v, p)| {
            let mut counts: BTreeMap<String, usize> = yibao_engine::ir::Provenance::ALL
                .iter()
                .map(|k| (k.name().to_string(), 0))
                .collect();
            let mut placeholders = vec![];
            for param in &p.params {
                *counts
                    .entry(param.provenance.name().to_string())
                    .or_insert(0) += 1;
                if param.provenance.is_unverified() {
                    placeholders.push((param.path.clone(), param.text.clone(), param.note.clone()));
                }
            }
            let next = reg
                .versions()
                .iter()
                .filter(|w| w.id == v.id && w.effective > v.effective)
                .map(|w| w.effective)
                .min();
            let beyond = match next {
                Some(n) => beyond_validity(p, day_before(n), false),
                None => beyond_validity(p, as_of(), true),
            };
            Fidelity {
                id: v.id.clone(),
                effective: v.effective,
                date_provenance: p.effective_provenance.provenance.name().to_string(),
                counts,
                placeholders,
                known_until: p
                    .validity
                    .iter()
                    .filter(|x| x.layers.is_empty())
                    .map(|x| (x.kind.keyword().to_string(), x.until))
                    .collect(),
                layers_known_until: p
                    .validity
                    .iter()
                    .filter(|x| !x.layers.is_empty())
                    .map(|x| {
                        (
                            x.kind.keyword().to_string(),
                            x.until,
                            x.layers.iter().map(|l| l.to_string()).collect(),
                        )
                    })
                    .collect(),
                beyond_validity: beyond,
            }
        })
        .collect()
}

fn city_zh(region: &str) -> &str {
    match region {
        "beijing" => "北京",
        "tianjin" => "天津",
        "guangzhou" => "广州",
        "huzhou" => "湖州",
        "ziyang" => "资阳",
        other => other,
    }
}

/// The fidelity report as Markdown: a summary per city a citizen can read, a table of every
/// version, then the placeholders of each policy's latest version.
pub fn fidelity_markdown(reg: &Registry) -> String {
    let rows = fidelity(reg);
    let kinds = [
        "official",
        "secondary",
        "seed",
        "derived",
        "placeholder",
        "unspecified",
    ];
    let mut out = format!(
        "# Fidelity of the bundled policies\n\nGenerated by `yibao check --provenance` (a test keeps this file current). Each number in a\npolicy carries its provenance; a result that relies on a `placeholder` says so. Validity is\ncounted as of {} (the last review of the facts).\n\n",
        as_of()
    );
    let mut latest: BTreeMap<&str, &Fidelity> = BTreeMap::new();
    for r in &rows {
        latest.insert(&r.id, r);
    }
    // Per city: the versions in force now (each scheme's newest).
    out.push_str("## In short: the rules in force now, per city\n\n");
    let mut cities: BTreeMap<&str, Vec<&Fidelity>> = BTreeMap::new();
    for r in latest.values() {
        let region = r.id.split('.').next().unwrap_or(&r.id);
        if region == "fixture" {
            continue;
        }
        cities.entry(region).or_default().push(r);
    }
    for (city, rs) in &cities {
        let n = |k: &str| {
            rs.iter()
                .map(|r| r.counts.get(k).copied().unwrap_or(0))
                .sum::<usize>()
        };
        let (o, s, sd, d) = (n("official"), n("secondary"), n("seed"), n("derived"));
        let unverified = n("placeholder") + n("unspecified");
        let beyond: usize = rs.iter().map(|r| r.beyond_validity).sum();
        let known: Vec<String> = rs
            .iter()
            .map(|r| {
                let scheme = r.id.split('.').nth(1).unwrap_or("");
                let until = r
                    .known_until
                    .iter()
                    .map(|(k, d)| {
                        format!(
                            "{} {d}",
                            if k == "valid_until" {
                                "有效至"
                            } else {
                                "核实至"
                            }
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("，");
                let layers = r
                    .layers_known_until
                    .iter()
                    .map(|(k, d, ls)| {
                        format!(
                            "，其中 {} {}{d}",
                            ls.join("、"),
                            if k == "valid_until" {
                                "有效至 "
                            } else {
                                "核实至 "
                            }
                        )
                    })
                    .collect::<String>();
                format!("{scheme} {} 版{until}{layers}", r.effective)
            })
            .collect();
        out.push_str(&format!(
            "- {}：{} 个数字已核实（官方 {o}，转述 {s}，规划 {sd}，推算 {d}），{unverified} 个为占位（未核实）；{beyond} 个已超出已知有效期（{}）。\n  {city}: {} figures sourced (official {o}, secondary {s}, seed {sd}, derived {d}), {unverified} placeholders (unverified); {beyond} beyond their known validity.\n",
            city_zh(city),
            o + s + sd + d,
            known.join("；"),
            o + s + sd + d,
        ));
    }
    out.push_str("\n## Every version\n\n");
    out.push_str("| policy | version | date is | known until | ");
    out.push_str(&kinds.join(" | "));
    out.push_str(" | beyond validity |\n|---|---|---|---|");
    out.push_str(&"---:|".repeat(kinds.len() + 1));
    out.push('\n');
    for r in &rows {
        let known = r
            .known_until
            .iter()
            .map(|(k, d)| format!("{k} {d}"))
            .collect::<Vec<_>>()
            .join(", ");
        out.push_str(&format!(
            "| {} | {} | {} | {} |",
            r.id,
            r.effective,
            r.date_provenance,
            {
                let mut k = known;
                for (kind, d, ls) in &r.layers_known_until {
                    if !k.is_empty() {
                        k.push_str("; ");
                    }
                    k.push_str(&format!("{kind} {d} ({})", ls.join(", ")));
                }
                if k.is_empty() {
                    "—".to_string()
                } else {
                    k
                }
            }
        ));
        for k in kinds {
            out.push_str(&format!(" {} |", r.counts.get(k).copied().unwrap_or(0)));
        }
        out.push_str(&format!(" {} |\n", r.beyond_validity));
    }
    out.push_str("\n## Placeholders in each policy's latest version\n");
    for (id, r) in latest {
        out.push_str(&format!("\n### {id} ({})\n\n", r.effective));
        if r.placeholders.is_empty() {
            out.push_str("none\n");
        }
        for (path, text, note) in &r.placeholders {
            let note = note
                .as_deref()
                .map(|n| format!(" — {n}"))
                .unwrap_or_default();
            out.push_str(&format!("- `{path}` = `{text}`{note}\n"));
        }
    }
    out
}

/// The most claims one batch request may carry.
pub const MAX_BATCH: usize = 10_000;

/// Many persons' claims at once. Claims of one person (same `person`) are settled in the order
/// given, as that person's year; a claim without `person` is a person of its own.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<Date>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub overrides: BTreeMap<String, String>,
    /// Build explanations (default: no; they make answers about ten times larger).
    #[serde(default)]
    pub trace: bool,
    pub claims: Vec<Claim>,
}

/// One claim's outcome, in input order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BatchItem {
    pub index: usize,
    pub person: Option<String>,
    pub settlement: Option<Settlement>,
    pub error: Option<ApiError>,
    /// As `EstimateAnswer::notices`, for this claim (`claim` is its index in the batch).
    pub notices: Vec<crate::Notice>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BatchAnswer {
    pub persons: usize,
    pub settled: usize,
    pub failed: usize,
    pub results: Vec<BatchItem>,
}

/// Settles a batch. A request-level problem (too many claims, a bad override) is an error; a
/// claim's own problem is reported in its item and leaves that person's year as it was.
pub fn estimate_batch(reg: &Registry, req: &BatchRequest) -> Result<BatchAnswer, ApiError> {
    estimate_batch_until(reg, req, &|| false)
}

/// [`estimate_batch`] that gives up between claims once `stop` says so (a service whose caller
/// went away or whose deadline passed), answering an `unavailable` error instead of finishing.
pub fn estimate_batch_until(
    reg: &Registry,
    req: &BatchRequest,
    stop: &dyn Fn() -> bool,
) -> Result<BatchAnswer, ApiError> {
    if req.claims.len() > MAX_BATCH {
        return Err(ApiError::new(
            ErrorKind::Request,
            Some("claims".into()),
            format!(
                "{} claims; a batch takes at most {MAX_BATCH}",
                req.claims.len()
            ),
        ));
    }
    let overrides = overrides_of(&EstimateRequest {
        overrides: req.overrides.clone(),
        ..EstimateRequest::default()
    })?;
    let mut policies = PolicyCache::new(reg, overrides);
    let opts = SettleOptions { trace: req.trace };
    let mut states: BTreeMap<&str, YtdState> = BTreeMap::new();
    let mut results = Vec::with_capacity(req.claims.len());
    let mut persons = 0usize;
    for (i, claim) in req.claims.iter().enumerate() {
        if stop() {
            return Err(ApiError::new(
                ErrorKind::Unavailable,
                None,
                format!("stopped after {i} claims: the request's time ran out"),
            ));
        }
        let path = format!("claims[{i}]");
        let policy = match policies.for_claim(req.policy.as_deref(), req.version, claim, &path) {
            Ok(p) => p,
            // A bad override spoils the whole request; anything else is this claim's own error.
            Err(e) if e.path.as_deref() == Some("overrides") => return Err(e),
            Err(e) => {
                results.push(BatchItem {
                    index: i,
                    person: claim.person.clone(),
                    settlement: None,
                    error: Some(e),
                    notices: vec![],
                });
                continue;
            }
        };
        let key: &str = claim.person.as_deref().unwrap_or("");
        let state = if claim.person.is_none() {
            persons += 1;
            None
        } else {
            if !states.contains_key(key) {
                persons += 1;
            }
            Some(states.entry(key).or_default())
        };
        let mut scratch = YtdState::default();
        let state = match state {
            Some(s) => {
                // A person's year may cross into a version with other layers.
                s.carry_if_foreign(&policy);
                s
            }
            None => &mut scratch,
        };
        match settle_in_place(&policy, claim, state, &opts) {
            Ok(mut s) => {
                let notices = crate::notice::annotate(reg, &policy, i, &mut s);
                results.push(BatchItem {
                    index: i,
                    person: claim.person.clone(),
                    settlement: Some(s),
                    error: None,
                    notices,
                })
            }
            Err(SettleError::Claim(c)) => results.push(BatchItem {
                index: i,
                person: claim.person.clone(),
                settlement: None,
                error: Some(ApiError::claim_of(i, true, c, claim, None)),
                notices: vec![],
            }),
            Err(SettleError::Eval(ev)) => results.push(BatchItem {
                index: i,
                person: claim.person.clone(),
                settlement: None,
                error: Some(ApiError::new(ErrorKind::Policy, Some(path), ev.to_string())),
                notices: vec![],
            }),
        }
    }
    let settled = results.iter().filter(|r| r.settlement.is_some()).count();
    Ok(BatchAnswer {
        persons,
        settled,
        failed: results.len() - settled,
        results,
    })
}

/// One finding of the national compliance checks, with the known-deviation note if any.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComplianceFinding {
    #[serde(flatten)]
    pub finding: yibao_compliance::Finding,
    /// Why this finding on a bundled policy is accepted (policies/known-deviations.yaml).
    pub known: Option<String>,
}

/// The compliance findings of one policy version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComplianceReport {
    pub policy: String,
    pub version: Date,
    pub file: String,
    pub findings: Vec<ComplianceFinding>,
}

/// Checks policy versions against the national rules: the versions read from `files` (names as
/// in the registry), or by default each policy's current version (the latest).
pub fn compliance_report(
    reg: &Registry,
    files: Option<&[String]>,
    indicators: &yibao_compliance::Indicators,
) -> Vec<ComplianceReport> {
    let known = yibao_compliance::known_deviations();
    let versions = reg.versions();
    versions
        .iter()
        .filter(|v| match files {
            Some(fs) => fs.contains(&v.file),
            None => !versions
                .iter()
                .any(|w| w.id == v.id && w.effective > v.effective),
        })
        .filter(|v| !v.id.starts_with("fixture."))
        .filter_map(|v| {
            let p = v.policy.as_ref()?;
            let until = versions
                .iter()
                .filter(|w| w.id == v.id && w.effective > v.effective)
                .map(|w| w.effective)
                .min();
            let findings = yibao_compliance::check(p, until, indicators)
                .into_iter()
                .map(|f| ComplianceFinding {
                    known: yibao_compliance::known(&known, p, &f).map(str::to_string),
                    finding: f,
                })
                .collect();
            Some(ComplianceReport {
                policy: v.id.clone(),
                version: v.effective,
                file: v.file.clone(),
                findings,
            })
        })
        .collect()
}

/// A version named `region.scheme@YYYY-MM-DD`, or `region.scheme` for its latest version.
pub fn version_ref(reg: &Registry, name: &str) -> Result<Arc<Policy>, String> {
    let (id, date) = match name.split_once('@') {
        Some((id, d)) => (
            id,
            Some(d.parse::<Date>().map_err(|e| format!("`{name}`: {e}"))?),
        ),
        None => (name, None),
    };
    let versions: Vec<_> = reg.versions().iter().filter(|v| v.id == id).collect();
    if versions.is_empty() {
        return Err(format!(
            "no policy `{id}`; the policies are: {}",
            reg.policy_ids().join(", ")
        ));
    }
    let v = match date {
        Some(d) => versions.iter().find(|v| v.effective == d).ok_or_else(|| {
            format!(
                "`{id}` has no version taking effect on {d}; its versions: {}",
                versions
                    .iter()
                    .map(|v| v.effective.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?,
        None => versions
            .iter()
            .max_by_key(|v| v.effective)
            .ok_or_else(|| format!("no policy `{id}`"))?,
    };
    v.policy
        .clone()
        .ok_or_else(|| format!("`{}@{}` has errors ({})", v.id, v.effective, v.file))
}

/// A draft's version in a registry it was loaded into, or its errors.
fn draft_version(reg: &Registry, name: &str) -> Result<Arc<Policy>, ApiError> {
    let v = reg
        .versions()
        .iter()
        .find(|v| v.file == name)
        .ok_or_else(|| {
            ApiError::new(
                ErrorKind::Policy,
                None,
                format!("{name} holds no policy version"),
            )
        })?;
    v.policy.clone().ok_or_else(|| {
        let diags: Vec<DiagnosticJson> = reg
            .diagnostics
            .iter()
            .filter(|(f, _)| f == name)
            .flat_map(|(_, ds)| ds.iter().filter(|d| d.is_error()))
            .map(|d| d.to_json(&reg.map))
            .collect();
        ApiError {
            diagnostics: diags,
            ..ApiError::new(ErrorKind::Policy, None, format!("{name} has errors"))
        }
    })
}

/// The national compliance findings of a draft policy text (loaded over the bundled policies).
pub fn draft_compliance(name: &str, text: &str) -> Result<ComplianceReport, ApiError> {
    let reg = with_drafts(vec![(name.to_string(), text.to_string())]);
    draft_version(&reg, name)?;
    compliance_report(
        &reg,
        Some(&[name.to_string()]),
        &yibao_compliance::Indicators::bundled(),
    )
    .into_iter()
    .next()
    .ok_or_else(|| {
        ApiError::new(
            ErrorKind::Policy,
            None,
            format!("{name} holds no policy version"),
        )
    })
}

/// A draft against the bundled version in force on the draft's effective date (the version it
/// replaces, or the one before it): changed parameters and the impact on a seeded sample of
/// `persons` persons' claims.
pub fn draft_diff(
    name: &str,
    text: &str,
    persons: u64,
) -> Result<crate::diff::DiffReport, ApiError> {
    let reg = with_drafts(vec![(name.to_string(), text.to_string())]);
    let draft = draft_version(&reg, name)?;
    let bundled = Registry::bundled();
    let base = bundled
        .policy(&draft.id, draft.effective)
        .map_err(|e| ApiError::select(e, "effective"))?;
    let opts = |year| crate::sample::SampleOptions {
        persons,
        seed: 1,
        year,
        policy: Some(draft.id.to_string()),
    };
    let claims: Vec<Claim> = crate::sample::sample(&bundled, &opts(draft.effective.year()))
        .or_else(|_| crate::sample::sample(&bundled, &opts(draft.effective.year() + 1)))
        .map_err(|e| ApiError::new(ErrorKind::Policy, None, e))?
        .collect();
    Ok(crate::diff::diff(&base, &draft, &claims))
}

/// For benchmarks: settles the request's claims `rounds` times (no trace, no JSON out), each
/// round folding a fresh year; returns how many settlements were made. The request is parsed and
/// its policies resolved once, so the loop measures `settle` itself — natively and in wasm alike.
pub fn settle_rounds(reg: &Registry, request: &str, rounds: u32) -> Result<u64, ApiError> {
    let req = parse_request_json(request)?;
    let mut cache = PolicyCache::new(reg, overrides_of(&req)?);
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
