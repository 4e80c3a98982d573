//! Step two: check a (merged) syntax tree and lower it to the engine's IR.
//!
//! Checking and lowering are one walk: every problem is reported (not only the first), and an IR
//! is produced only when there is no error. What is checked: unknown names (with "did you mean"),
//! units (money vs ratio vs count), ratios outside 0–100%, band edges that do not increase, tables
//! that miss a value the policy declares, a base that builds on a later layer, clause conflicts,
//! and provenance (unknown sources are errors, numbers without provenance warnings).
//!
//! This file holds the entry points, the compiler's shared state and the walk's order
//! (`Compiler::run`); each rule lives in its own file under `compile/`, in the order the walk
//! reaches it (which is also the order of the diagnostics):
//!
//! | file | what it checks and lowers |
//! |---|---|
//! | `header.rs` | the one `effective` date, an unresolved `extends`, `source` declarations |
//! | `dims.rs` | dimension declarations, conditions (`when`, `for`) as indices, what reaches a layer |
//! | `indicators.rs` | `indicator` constants |
//! | `per_case.rs` | the `cases` list (按病种) and a layer's `per_case share` |
//! | `layer.rs` | layers in order, one clause of each kind, `kind`, `when`, `measure`, `field` |
//! | `base.rs` | `base` and `after` |
//! | `deductible.rs` | deductibles (`per_admission`, `per_year`, `from_admission N`), `referral` |
//! | `rates.rs` | `ratio`, `bands` |
//! | `caps.rs` | `cap per_claim`, `per_month`, `per_year` in pools |
//! | `modifiers.rs` | `for` blocks |
//! | `care.rs` | long-term care layers |
//! | `validity.rs` | `valid_until`, `confirmed` |
//! | `values.rs` | values at a unit: numbers, `none`, tables, unit and range checks |
//! | `expr.rs` | formulas: names, arithmetic with units, `min`/`max`, folding |
//! | `provenance.rs` | every figure as a named parameter, its provenance and override |

use std::collections::{BTreeMap, HashMap, HashSet};

use rust_decimal::Decimal;
use yibao_engine::ir::{self, Dim, ParamId, Provenance};
use yibao_engine::settlement::Platform;

use crate::ast::*;
use crate::diag::{did_you_mean, Diagnostic};
use crate::source::{SourceMap, Span};
use crate::vocab;

mod base;
mod caps;
mod care;
mod deductible;
mod dims;
mod expr;
mod header;
mod indicators;
mod layer;
mod modifiers;
mod per_case;
mod provenance;
mod rates;
mod validity;
mod values;

use dims::{dim_values, Restrict};
use expr::{expr_span, fold};
use provenance::date_provenance;
use values::{fmt_num, value_span};

/// What a compilation produced: the policy when there was no error, and every diagnostic.
#[derive(Debug)]
pub struct Compiled {
    /// The compiled policy; `None` when any diagnostic is an error.
    pub policy: Option<ir::Policy>,
    /// Every error and warning the checker found.
    pub diagnostics: Vec<Diagnostic>,
}

impl Compiled {
    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Checks and compiles `file`, which must already have its `extends` resolved (see
/// [`crate::merge`]); `content_hash` identifies the source texts.
pub fn compile(file: &PolicyFile, map: &SourceMap, content_hash: String) -> Compiled {
    compile_with(file, map, content_hash, &Overrides::default())
}

/// Values given for named parameters (paths as in [`ir::ParamInfo::path`]), replacing the
/// policy's own: a citizen typing the figure from the city's notice, or a drafter trying a value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    /// Parameter path → the value to use instead (yuan, or a fraction for a ratio).
    pub values: BTreeMap<String, Decimal>,
}

/// Like [`compile`], with `overrides` applied; an override naming no parameter is an error.
pub fn compile_with(
    file: &PolicyFile,
    map: &SourceMap,
    content_hash: String,
    overrides: &Overrides,
) -> Compiled {
    let mut c = Compiler {
        compound: false,
        map,
        diags: vec![],
        params: vec![],
        sources: HashMap::new(),
        indicators: HashMap::new(),
        dims: ir::Dims::default(),
        overrides,
    };
    let policy = c.run(file, content_hash);
    if let Some(p) = &policy {
        let known: HashSet<&str> = p.params.iter().map(|p| p.path.as_str()).collect();
        let unknown: Vec<String> = overrides
            .values
            .keys()
            .filter(|k| !known.contains(k.as_str()))
            .cloned()
            .collect();
        for path in unknown {
            let help = did_you_mean(&path, p.params.iter().map(|x| x.path.as_str()))
                .unwrap_or_else(|| "see `yibao check --params` for the parameter paths".into());
            c.diags.push(
                Diagnostic::error(
                    "yibao::unknown-override",
                    format!("no parameter `{path}` to override"),
                    Span::new(0, 0, 0),
                )
                .with_help(help),
            );
        }
    }
    let has_errors = c.diags.iter().any(Diagnostic::is_error);
    Compiled {
        policy: if has_errors { None } else { policy },
        diagnostics: c.diags,
    }
}

/// The unit of a value, as far as the checker can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Money,
    Ratio,
    /// A bare number: takes the unit its context needs.
    Scalar,
}

impl Ty {
    fn describe(self) -> &'static str {
        match self {
            Ty::Money => "an amount of money",
            Ty::Ratio => "a ratio",
            Ty::Scalar => "a plain number",
        }
    }
}

/// A lowered expression with its unit, and whether it could be folded to a constant.
struct Lowered {
    expr: ir::Expr,
    ty: Ty,
}

struct Indicator {
    value: Decimal,
    ty: Ty,
    params: Vec<ParamId>,
}

/// What the enclosing clause allows a bare name to mean.
#[derive(Clone, Copy)]
struct NameScope {
    /// `ratio`, `deductible` or `cap` may stand for the value being modified.
    current: Option<(&'static str, Ty)>,
}

struct Compiler<'a> {
    /// Lowering a formula (an expression with an operator), where a bare `1` or `0` is a
    /// structural constant rather than a policy figure.
    compound: bool,
    map: &'a SourceMap,
    diags: Vec<Diagnostic>,
    params: Vec<ir::ParamInfo>,
    sources: HashMap<String, Span>,
    indicators: HashMap<String, Indicator>,
    dims: ir::Dims,
    overrides: &'a Overrides,
}

impl Compiler<'_> {
    fn error(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    fn cite(&self, span: Span) -> ir::Cite {
        match self.map.get(span.file) {
            Some(f) => {
                let lc = f.line_col(span.start as usize);
                ir::Cite {
                    file: f.name.clone(),
                    line: lc.line,
                    column: lc.column,
                    text: f.first_line(span),
                }
            }
            None => ir::Cite::default(),
        }
    }

    /// The walk: header, sources, dimensions, indicators, cases, layers (each clause in the
    /// order of `layer.rs`), validity; then the policy.
    fn run(&mut self, file: &PolicyFile, content_hash: String) -> Option<ir::Policy> {
        let id = &file.header.id;
        let (region, scheme) = match id.node.split_once('.') {
            Some((r, s)) => (r.to_string(), s.to_string()),
            None => (id.node.clone(), String::new()),
        };

        let (effective, effective_prov) = self.effective(file);
        let sources = self.sources(file);
        self.declare_dims(file);
        self.indicators(file);
        let (cases, case_decl_span) = self.cases(file);
        let (layers, pools) = self.layers(file, !cases.is_empty(), case_decl_span);

        let validity = self.validity(file, effective, &layers);

        Some(ir::Policy {
            id: id.node.as_str().into(),
            region,
            scheme,
            name: file.header.name.node.as_str().into(),
            name_en: file.header.name_en.as_ref().map(|s| s.node.clone()),
            effective: effective.map(|d| d.node).unwrap_or(yibao_engine::Date::MIN),
            effective_provenance: {
                if let Some(p) = effective_prov {
                    self.check_source(p);
                }
                date_provenance(effective_prov)
            },
            validity,
            content_hash: content_hash.into(),
            dims: self.dims.clone(),
            layers,
            pools: pools.into_iter().map(std::sync::Arc::from).collect(),
            params: std::mem::take(&mut self.params)
                .into_iter()
                .map(std::sync::Arc::new)
                .collect(),
            sources,
            cases,
        })
    }
}
