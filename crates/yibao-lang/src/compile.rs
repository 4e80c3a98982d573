//! Step two: check a (merged) syntax tree and lower it to the engine's IR.
//!
//! Checking and lowering are one walk: every problem is reported (not only the first), and an IR
//! is produced only when there is no error. What is checked: unknown names (with "did you mean"),
//! units (money vs ratio vs count), ratios outside 0–100%, band edges that do not increase, tables
//! that miss a value the policy declares, a base that builds on a later layer, clause conflicts,
//! and provenance (unknown sources are errors, numbers without provenance warnings).

use std::collections::{BTreeMap, HashMap, HashSet};

use rust_decimal::Decimal;
use yibao_engine::ir::{self, Dim, ParamId, Provenance};
use yibao_engine::settlement::Platform;

use crate::ast::*;
use crate::diag::{did_you_mean, Diagnostic};
use crate::source::{SourceMap, Span};
use crate::vocab;

mod care;

/// What a compilation produced: the policy when there was no error, and every diagnostic.
#[derive(Debug)]
pub struct Compiled {
    pub policy: Option<ir::Policy>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Compiled {
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

fn dim_values(d: &ir::Dims, dim: Dim) -> &[ir::DimValue] {
    d.get(dim)
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

    fn run(&mut self, file: &PolicyFile, content_hash: String) -> Option<ir::Policy> {
        let id = &file.header.id;
        let (region, scheme) = match id.node.split_once('.') {
            Some((r, s)) => (r.to_string(), s.to_string()),
            None => (id.node.clone(), String::new()),
        };

        // Effective date: exactly one.
        let mut effective: Option<&Spanned<yibao_engine::Date>> = None;
        let mut effective_prov: Option<&Prov> = None;
        for it in &file.items {
            match &it.node {
                Item::Effective(d, prov) => {
                    if effective.is_none() {
                        effective_prov = prov.as_ref();
                    }
                    if let Some(first) = effective {
                        self.error(
                            Diagnostic::error(
                                "yibao::duplicate",
                                "`effective` is given twice",
                                d.span,
                            )
                            .with_label("second date")
                            .with_related(first.span, "first given here"),
                        );
                    } else {
                        effective = Some(d);
                    }
                }
                Item::Extends { id: pid, .. } => {
                    self.error(
                        Diagnostic::error("yibao::unresolved-extends", format!("`extends {}` was not resolved", pid.node), it.span)
                            .with_help("check the policy inside its policies/ tree (`yibao check policies/`), where the parent version can be found"),
                    );
                }
                _ => {}
            }
        }
        if effective.is_none() {
            self.error(
                Diagnostic::error(
                    "yibao::missing-effective",
                    format!("policy `{}` has no effective date", id.node),
                    id.span,
                )
                .with_help("add `effective YYYY-MM-DD` after the `policy` line"),
            );
        }

        // Sources.
        let mut sources = vec![];
        for it in &file.items {
            if let Item::Source(s) = &it.node {
                if let Some(prev) = self.sources.get(&s.id.node) {
                    let prev = *prev;
                    self.error(
                        Diagnostic::error(
                            "yibao::duplicate",
                            format!("source `{}` is declared twice", s.id.node),
                            s.id.span,
                        )
                        .with_related(prev, "first declared here"),
                    );
                    continue;
                }
                self.sources.insert(s.id.node.clone(), s.id.span);
                sources.push(ir::Source {
                    id: s.id.node.clone(),
                    title: s.title.clone(),
                    url: s.url.clone(),
                });
            }
        }

        self.declare_dims(file);

        // Indicators, in order; each may use the ones before it.
        for it in &file.items {
            if let Item::Indicator { name, value, prov } = &it.node {
                if self.indicators.contains_key(&name.node) {
                    self.error(Diagnostic::error(
                        "yibao::duplicate",
                        format!("indicator `{}` is defined twice", name.node),
                        name.span,
                    ));
                    continue;
                }
                if ["ratio", "deductible", "cap"].contains(&name.node.as_str()) {
                    self.error(Diagnostic::error(
                        "yibao::reserved-name",
                        format!(
                            "`{}` is reserved for the value a modifier changes",
                            name.node
                        ),
                        name.span,
                    ));
                    continue;
                }
                let path = format!("indicator.{}", name.node);
                let mut counter = 0;
                self.compound = !matches!(value, Expr::Num(_));
                let Some(l) = self.lower_expr(
                    value,
                    &path,
                    &mut counter,
                    prov.as_ref(),
                    NameScope { current: None },
                ) else {
                    continue;
                };
                match fold(&l.expr) {
                    Some((v, params)) => {
                        // A bare number in an indicator is money (a wage, an income).
                        let ty = if l.ty == Ty::Scalar { Ty::Money } else { l.ty };
                        self.indicators.insert(
                            name.node.clone(),
                            Indicator {
                                value: v,
                                ty,
                                params,
                            },
                        );
                    }
                    None => self.error(Diagnostic::error(
                        "yibao::not-constant",
                        format!("indicator `{}` must be a constant", name.node),
                        name.span,
                    )),
                }
            }
        }

        // Cases.
        let mut cases = vec![];
        let mut case_decl_span = None;
        for it in &file.items {
            if let Item::Cases(entries) = &it.node {
                case_decl_span = Some(it.span);
                for e in entries {
                    if cases.iter().any(|c: &ir::Case| c.code == e.node.code.node) {
                        self.error(Diagnostic::error(
                            "yibao::duplicate",
                            format!("case `{}` is listed twice", e.node.code.node),
                            e.node.code.span,
                        ));
                        continue;
                    }
                    let path = format!("cases.{}", e.node.code.node);
                    if let Some(v) = self.lower_value(
                        &e.node.standard,
                        &path,
                        e.node.prov.as_ref(),
                        Ty::Money,
                        &Restrict::none(),
                        NameScope { current: None },
                    ) {
                        cases.push(ir::Case {
                            code: e.node.code.node.clone(),
                            name: e.node.name.clone(),
                            standard: v,
                        });
                    }
                }
            }
        }

        // Layers.
        let layer_decls: Vec<(&LayerDecl, Span)> = file
            .items
            .iter()
            .filter_map(|it| match &it.node {
                Item::Layer(l) => Some((l, it.span)),
                _ => None,
            })
            .collect();
        for it in &file.items {
            match &it.node {
                Item::Amend { id, .. } | Item::Remove(id) => {
                    self.error(
                        Diagnostic::error(
                            "yibao::unresolved-extends",
                            format!("`{}` needs a parent version (`extends`)", id.node),
                            it.span,
                        )
                        .with_help(
                            "`amend` and `remove` change a layer of the version named by `extends`",
                        ),
                    );
                }
                _ => {}
            }
        }
        let mut layers = vec![];
        let mut pools: Vec<String> = vec![];
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for (i, (l, span)) in layer_decls.iter().enumerate() {
            if let Some(prev) = seen.get(l.id.node.as_str()) {
                self.error(
                    Diagnostic::error(
                        "yibao::duplicate",
                        format!("layer `{}` is declared twice", l.id.node),
                        l.id.span,
                    )
                    .with_related(*prev, "first declared here"),
                );
                continue;
            }
            seen.insert(&l.id.node, l.id.span);
            let earlier: Vec<&str> = layer_decls[..i]
                .iter()
                .map(|(x, _)| x.id.node.as_str())
                .collect();
            let later: Vec<&str> = layer_decls[i + 1..]
                .iter()
                .map(|(x, _)| x.id.node.as_str())
                .collect();
            if let Some(layer) = self.layer(
                l,
                *span,
                &earlier,
                &later,
                &mut pools,
                !cases.is_empty(),
                case_decl_span,
            ) {
                layers.push(layer);
            }
        }
        self.check_care_mix(&layer_decls);
        if layers.is_empty() && !layer_decls.is_empty() {
            // errors already reported
        } else if layer_decls.is_empty() {
            self.error(
                Diagnostic::error(
                    "yibao::no-layers",
                    format!("policy `{}` has no layers", id.node),
                    id.span,
                )
                .with_help("add `layer basic \"统筹基金\" { … }`"),
            );
        }
        if layers
            .iter()
            .all(|l: &ir::Layer| l.base != ir::Base::InScope)
            && !layers.is_empty()
        {
            self.error(
                Diagnostic::warning("yibao::no-in-scope-layer", "no layer takes the policy-scope amount (`base in_scope`)", id.span)
                    .with_help("the basic fund usually has `base in_scope`; without it every policy-scope cost is `not_covered`"),
            );
        }

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

    fn declare_dims(&mut self, file: &PolicyFile) {
        let mut declared: HashMap<DimKw, Span> = HashMap::new();
        for it in &file.items {
            let Item::Dims(d) = &it.node else { continue };
            if let Some(prev) = declared.get(&d.kw.node) {
                let prev = *prev;
                self.error(
                    Diagnostic::error(
                        "yibao::duplicate",
                        format!("`{}` is declared twice", d.kw.node.keyword()),
                        d.kw.span,
                    )
                    .with_related(prev, "first declared here"),
                );
                continue;
            }
            declared.insert(d.kw.node, d.kw.span);
            let dim = d.kw.node.dim();
            let mut values: Vec<ir::DimValue> = vec![];
            for e in &d.entries {
                let key = &e.node.key.node;
                if values.iter().any(|v| *v.id == **key) {
                    self.error(Diagnostic::error(
                        "yibao::duplicate",
                        format!("`{key}` is listed twice"),
                        e.node.key.span,
                    ));
                    continue;
                }
                let known = vocab::lookup(dim, key);
                let (zh, en) = match (&e.node.zh, known) {
                    (Some(zh), _) => (
                        zh.clone(),
                        e.node
                            .en
                            .clone()
                            .or(known.map(|k| k.1.to_string()))
                            .unwrap_or_else(|| key.clone()),
                    ),
                    (None, Some((zh, en))) => (zh.to_string(), en.to_string()),
                    (None, None) => {
                        let names = vocab::known(dim).iter().map(|k| k.0);
                        self.error(
                            Diagnostic::error(
                                "yibao::unknown-name",
                                format!("unknown {} `{key}`", dim.name()),
                                e.node.key.span,
                            )
                            .with_label("not in the national vocabulary")
                            .with_help(
                                did_you_mean(key, names).unwrap_or_else(|| {
                                    format!(
                                    "declare it with labels: `{} {{ {key} \"中文\" \"English\" }}`",
                                    d.kw.node.keyword()
                                )
                                }),
                            ),
                        );
                        continue;
                    }
                };
                values.push(ir::DimValue {
                    id: key.as_str().into(),
                    zh,
                    en,
                });
            }
            if values.len() > 64 {
                self.error(Diagnostic::error(
                    "yibao::too-many",
                    format!("`{}` declares more than 64 values", d.kw.node.keyword()),
                    d.kw.span,
                ));
                values.truncate(64);
            }
            *self.dims_mut(dim) = values;
        }
        for dim in Dim::ALL {
            if !declared.keys().any(|k| k.dim() == dim) {
                let defaults = vocab::defaults(dim);
                *self.dims_mut(dim) = defaults
                    .iter()
                    .filter_map(|k| {
                        vocab::lookup(dim, k).map(|(zh, en)| ir::DimValue {
                            id: (*k).into(),
                            zh: zh.into(),
                            en: en.into(),
                        })
                    })
                    .collect();
            }
        }
        if self.dims.care.is_empty() {
            self.error(
                Diagnostic::error(
                    "yibao::missing-care",
                    format!("policy `{}` declares no care types", file.header.id.node),
                    file.header.id.span,
                )
                .with_help("add e.g. `care [inpatient, outpatient_special]`"),
            );
        }
    }

    fn dims_mut(&mut self, dim: Dim) -> &mut Vec<ir::DimValue> {
        match dim {
            Dim::Group => &mut self.dims.groups,
            Dim::Category => &mut self.dims.categories,
            Dim::Care => &mut self.dims.care,
            Dim::Level => &mut self.dims.levels,
            Dim::Place => &mut self.dims.places,
            Dim::Disease => &mut self.dims.diseases,
        }
    }

    /// Resolves condition keys to indices, reporting unknown ones.
    fn selector(&mut self, conds: &[Cond]) -> ir::Selector {
        let mut s = ir::Selector::default();
        for c in conds {
            let mut idx = vec![];
            for k in &c.keys {
                match dim_values(&self.dims, c.dim.node)
                    .iter()
                    .position(|v| *v.id == *k.node)
                {
                    Some(i) => idx.push(u16::try_from(i).unwrap_or(u16::MAX)),
                    None => self.unknown_key(c.dim.node, k),
                }
            }
            let slot = match c.dim.node {
                Dim::Group => &mut s.groups,
                Dim::Category => &mut s.categories,
                Dim::Care => &mut s.care,
                Dim::Level => &mut s.levels,
                Dim::Place => &mut s.places,
                Dim::Disease => &mut s.diseases,
            };
            if !slot.is_empty() {
                self.error(
                    Diagnostic::error(
                        "yibao::duplicate",
                        format!("`{}` is restricted twice", c.dim.node.name()),
                        c.dim.span,
                    )
                    .with_help("list all values in one condition"),
                );
            }
            *slot = idx;
        }
        s
    }

    fn unknown_key(&mut self, dim: Dim, k: &Spanned<String>) {
        let values: Vec<String> = dim_values(&self.dims, dim)
            .iter()
            .map(|v| v.id.to_string())
            .collect();
        let help = did_you_mean(&k.node, values.iter().map(String::as_str)).unwrap_or_else(|| {
            if values.is_empty() {
                format!("this policy declares no {} values", dim.name())
            } else {
                format!("this policy declares: {}", values.join(", "))
            }
        });
        self.error(
            Diagnostic::error(
                "yibao::unknown-name",
                format!("unknown {} `{}`", dim.name(), k.node),
                k.span,
            )
            .with_label(format!("not a declared {}", dim.name()))
            .with_help(help),
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn layer(
        &mut self,
        l: &LayerDecl,
        span: Span,
        earlier: &[&str],
        later: &[&str],
        pools: &mut Vec<String>,
        has_cases: bool,
        case_decl: Option<Span>,
    ) -> Option<ir::Layer> {
        let lid = l.id.node.clone();
        let kind_name = l
            .kind
            .as_ref()
            .map(|k| k.node.as_str())
            .unwrap_or(lid.as_str());
        let kind = ir::LayerKind::ALL
            .into_iter()
            .find(|k| k.name() == kind_name);
        if kind.is_none() {
            let span = l.kind.as_ref().map(|k| k.span).unwrap_or(l.id.span);
            let names = ir::LayerKind::ALL.map(|k| k.name());
            let help = did_you_mean(kind_name, names).unwrap_or_else(|| {
                format!(
                    "a layer's kind is one of: {}; write `kind <kind>` after the labels",
                    names.join(", ")
                )
            });
            self.error(
                Diagnostic::error(
                    "yibao::unknown-layer-kind",
                    format!("unknown layer kind `{kind_name}`"),
                    span,
                )
                .with_label("not a kind of fund the national list allows")
                .with_help(help),
            );
        }

        // One clause per key.
        let mut keys: HashMap<String, Span> = HashMap::new();
        for c in &l.clauses {
            let k = c.node.key();
            if let Some(prev) = keys.get(&k) {
                let what = if k == "rates" {
                    "`ratio` or `bands`".to_string()
                } else {
                    format!("`{k}`")
                };
                self.error(
                    Diagnostic::error(
                        "yibao::duplicate",
                        format!("layer `{lid}` has {what} twice"),
                        c.span,
                    )
                    .with_label("second clause")
                    .with_related(*prev, "first here"),
                );
            } else {
                keys.insert(k, c.span);
            }
        }
        let find = |pred: &dyn Fn(&Clause) -> bool| l.clauses.iter().find(|c| pred(&c.node));

        let when_conds: Vec<Cond> = match find(&|c| matches!(c, Clause::When(_))) {
            Some(Spanned {
                node: Clause::When(c),
                ..
            }) => c.clone(),
            _ => vec![],
        };
        let when = self.selector(&when_conds);
        let restrict = Restrict::from_conds(&when_conds);

        let base = match find(&|c| matches!(c, Clause::Base(_))) {
            Some(Spanned {
                node: Clause::Base(b),
                ..
            }) => match b {
                // A care layer's costs are lowered by `care_rule` (compile/care.rs).
                BaseSpec::InScope | BaseSpec::Cost(_) => ir::Base::InScope,
                BaseSpec::Remaining { components, after } => {
                    if let Some(a) = after {
                        if a.node == lid {
                            self.error(Diagnostic::error(
                                "yibao::base-order",
                                format!("layer `{lid}` cannot build on itself"),
                                a.span,
                            ));
                        } else if later.contains(&a.node.as_str()) {
                            self.error(
                                Diagnostic::error("yibao::base-order", format!("layer `{lid}` builds on `{}`, which comes after it", a.node), a.span)
                                    .with_label("a later layer")
                                    .with_help("layers run in the order they are written: move this layer below the one it builds on"),
                            );
                        } else if !earlier.contains(&a.node.as_str()) {
                            let help = did_you_mean(&a.node, earlier.iter().copied())
                                .unwrap_or_else(|| {
                                    format!(
                                        "earlier layers: {}",
                                        if earlier.is_empty() {
                                            "none".into()
                                        } else {
                                            earlier.join(", ")
                                        }
                                    )
                                });
                            self.error(
                                Diagnostic::error(
                                    "yibao::unknown-name",
                                    format!("unknown layer `{}`", a.node),
                                    a.span,
                                )
                                .with_help(help),
                            );
                        }
                    } else if earlier.is_empty() {
                        self.error(Diagnostic::warning("yibao::base-order", format!("layer `{lid}` takes what earlier layers left, but it is the first layer"), l.id.span));
                    }
                    let comps = match components {
                        Some(cs) => {
                            let mut v: Vec<ir::Component> = vec![];
                            for c in cs {
                                if v.contains(&c.node) {
                                    self.error(Diagnostic::error(
                                        "yibao::duplicate",
                                        format!("component `{}` is listed twice", c.node.name()),
                                        c.span,
                                    ));
                                } else {
                                    v.push(c.node);
                                }
                            }
                            v
                        }
                        None => ir::Component::IN_SCOPE.to_vec(),
                    };
                    ir::Base::Remaining(comps)
                }
            },
            _ => {
                self.error(
                    Diagnostic::error("yibao::missing-base", format!("layer `{lid}` has no `base`"), l.id.span)
                        .with_help("add `base in_scope` for the fund that pays first, or `base remaining in_scope after <layer>` for a later layer"),
                );
                ir::Base::InScope
            }
        };
        let measure = match find(&|c| matches!(c, Clause::Measure(_))) {
            Some(Spanned {
                node: Clause::Measure(m),
                ..
            }) => match m {
                MeasureKw::Year => ir::Measure::Year,
                MeasureKw::YearCovered => ir::Measure::YearCovered,
                MeasureKw::Claim => ir::Measure::Claim,
            },
            _ => ir::Measure::Claim,
        };
        let referral_clause = find(&|c| matches!(c, Clause::Referral(_)));
        let referral = match referral_clause {
            Some(Spanned {
                node: Clause::Referral(k),
                ..
            }) => match k {
                ReferralKw::Continuous => ir::Referral::Continuous,
                ReferralKw::Difference => ir::Referral::Difference,
                ReferralKw::Separate => ir::Referral::Separate,
            },
            _ => ir::Referral::Separate,
        };

        // Deductible.
        let mut deductible = None;
        let ded_clause = find(&|c| matches!(c, Clause::Deductible { .. }));
        if let Some(Spanned {
            node: Clause::Deductible { per, value, prov },
            span: dspan,
        }) = ded_clause
        {
            let path = format!("{lid}.deductible");
            let v = self.lower_value(
                value,
                &path,
                prov.as_ref(),
                Ty::Money,
                &restrict,
                NameScope { current: None },
            );
            let later = match find(&|c| matches!(c, Clause::Later { .. })) {
                Some(Spanned {
                    node: Clause::Later { from, value, prov },
                    span: lspan,
                }) => {
                    if *per == DeductiblePerKw::Year {
                        self.error(Diagnostic::error("yibao::conflict", "`deductible from_admission` needs a `per_admission` deductible", *lspan).with_help("a per-year deductible is paid once a year; it has no n-th admission"));
                    }
                    if from.node < 2 {
                        self.error(Diagnostic::error(
                            "yibao::out-of-range",
                            format!("admission number must be 2 or more, found {}", from.node),
                            from.span,
                        ));
                    }
                    let path = format!("{lid}.deductible_from_{}", from.node);
                    self.lower_value(
                        value,
                        &path,
                        prov.as_ref(),
                        Ty::Money,
                        &restrict,
                        NameScope {
                            current: Some(("deductible", Ty::Money)),
                        },
                    )
                    .map(|v| (from.node, v, self.cite(*lspan)))
                }
                _ => None,
            };
            if let Some(v) = v {
                deductible = Some(ir::Deductible {
                    per: if *per == DeductiblePerKw::Year {
                        ir::DeductiblePer::Year
                    } else {
                        ir::DeductiblePer::Admission
                    },
                    value: v,
                    later,
                    cite: self.cite(*dspan),
                });
            }
        } else if let Some(lc) = find(&|c| matches!(c, Clause::Later { .. })) {
            self.error(
                Diagnostic::error(
                    "yibao::conflict",
                    "`deductible from_admission` without a first deductible",
                    lc.span,
                )
                .with_help("add `deductible per_admission <amount>` first"),
            );
        }
        if referral != ir::Referral::Separate
            && !deductible
                .as_ref()
                .is_some_and(|d: &ir::Deductible| d.per == ir::DeductiblePer::Admission)
        {
            if let Some(rc) = referral_clause {
                self.error(Diagnostic::error(
                    "yibao::conflict",
                    format!(
                        "`referral {}` needs a `per_admission` deductible",
                        if referral == ir::Referral::Continuous {
                            "continuous"
                        } else {
                            "difference"
                        }
                    ),
                    rc.span,
                ));
            }
        }

        // Rates.
        let mut bands = None;
        match find(&|c| matches!(c, Clause::Ratio { .. } | Clause::Bands { .. })) {
            Some(Spanned {
                node: Clause::Ratio { value, prov },
                span: rspan,
            }) => {
                let path = format!("{lid}.ratio");
                if let Some(v) = self.lower_value(
                    value,
                    &path,
                    prov.as_ref(),
                    Ty::Ratio,
                    &restrict,
                    NameScope { current: None },
                ) {
                    bands = Some(ir::Bands {
                        relative: false,
                        bands: vec![ir::Band {
                            upto: None,
                            ratio: v,
                            cite: self.cite(*rspan),
                        }],
                    });
                }
            }
            Some(Spanned {
                node:
                    Clause::Bands {
                        relative,
                        bands: bs,
                    },
                span: bspan,
            }) => {
                if bs.is_empty() {
                    self.error(Diagnostic::error(
                        "yibao::empty",
                        "`bands` has no bands",
                        *bspan,
                    ));
                }
                let mut out = vec![];
                let mut prev_edge: Option<(Decimal, Span)> = None;
                let mut open_seen: Option<Span> = None;
                for (i, b) in bs.iter().enumerate() {
                    if let Some(open) = open_seen {
                        self.error(
                            Diagnostic::error(
                                "yibao::band-order",
                                "a band after `above:` can never be reached",
                                b.span,
                            )
                            .with_related(open, "`above:` covers everything beyond here"),
                        );
                    }
                    let path = format!("{lid}.bands.{}", i + 1);
                    // A provenance at the end of a band line covers the whole line, edge included.
                    let line_prov = b.node.prov.as_ref().or(match &b.node.ratio {
                        Value::Expr(Expr::Num(n)) => n.node.prov.as_ref(),
                        Value::Table(t) => t.prov.as_ref(),
                        _ => None,
                    });
                    let upto = match &b.node.upto {
                        Some(u) => {
                            let v = self.lower_value(
                                u,
                                &format!("{path}.to"),
                                line_prov,
                                Ty::Money,
                                &restrict,
                                NameScope { current: None },
                            );
                            if let Some(ir::Value::Const { value, .. }) = &v {
                                let span = value_span(u).unwrap_or(b.span);
                                if let Some((p, pspan)) = prev_edge {
                                    if *value <= p {
                                        self.error(
                                            Diagnostic::error("yibao::band-order", format!("band edges must increase: `{}` is not above `{}`", fmt_num(*value), fmt_num(p)), span)
                                                .with_label("not above the previous edge")
                                                .with_related(pspan, "previous edge"),
                                        );
                                    }
                                }
                                if value.is_zero() && !*relative {
                                    self.error(Diagnostic::error(
                                        "yibao::band-order",
                                        "a band edge of 0 leaves the band empty",
                                        span,
                                    ));
                                }
                                prev_edge = Some((*value, span));
                            }
                            v
                        }
                        None => {
                            open_seen = Some(b.span);
                            None
                        }
                    };
                    let ratio = self.lower_value(
                        &b.node.ratio,
                        &format!("{path}.ratio"),
                        b.node.prov.as_ref(),
                        Ty::Ratio,
                        &restrict,
                        NameScope { current: None },
                    );
                    if let Some(ratio) = ratio {
                        if b.node.upto.is_some() && upto.is_none() {
                            continue;
                        }
                        out.push(ir::Band {
                            upto,
                            ratio,
                            cite: self.cite(b.span),
                        });
                    }
                }
                bands = Some(ir::Bands {
                    relative: *relative,
                    bands: out,
                });
            }
            _ => {}
        }

        // Per case.
        let mut per_case = None;
        if let Some(Spanned {
            node: Clause::PerCase { share, prov },
            span: pspan,
        }) = find(&|c| matches!(c, Clause::PerCase { .. }))
        {
            if !has_cases {
                self.error(Diagnostic::error(
                    "yibao::missing-cases",
                    "`per_case` needs a `cases { … }` list of case codes and standard fees",
                    *pspan,
                ));
            }
            if bands.is_some() {
                self.error(Diagnostic::error(
                    "yibao::conflict",
                    "`per_case` decides the payment itself; remove `ratio`/`bands` from this layer",
                    *pspan,
                ));
            }
            let path = format!("{lid}.per_case.share");
            if let Some(v) = self.lower_value(
                share,
                &path,
                prov.as_ref(),
                Ty::Ratio,
                &restrict,
                NameScope { current: None },
            ) {
                per_case = Some(ir::PerCase {
                    share: v,
                    cite: self.cite(*pspan),
                });
            }
        } else if bands.is_none() {
            self.error(Diagnostic::warning(
                "yibao::pays-nothing",
                format!("layer `{lid}` has no `ratio`, `bands` or `per_case`: it pays nothing"),
                l.id.span,
            ));
        }
        let _ = case_decl;

        // Caps. A layer with several year caps (one per pool) names each figure by its pool.
        let mut caps = vec![];
        let year_caps = l
            .clauses
            .iter()
            .filter(|c| {
                matches!(
                    c.node,
                    Clause::Cap {
                        per: CapPerDecl::Year { .. },
                        ..
                    }
                )
            })
            .count();
        for c in &l.clauses {
            if let Clause::Cap { per, prov } = &c.node {
                if care::is_care_layer(l) {
                    continue; // lowered by `care_rule`
                }
                match per {
                    CapPerDecl::Year { value, pool } => {
                        let pool_name = pool
                            .as_ref()
                            .map(|p| p.node.clone())
                            .unwrap_or_else(|| lid.clone());
                        let idx = match pools.iter().position(|p| *p == pool_name) {
                            Some(i) => i,
                            None => {
                                pools.push(pool_name.clone());
                                pools.len() - 1
                            }
                        };
                        let path = if year_caps > 1 {
                            format!("{lid}.cap_year.{pool_name}")
                        } else {
                            format!("{lid}.cap_year")
                        };
                        if let Some(v) = self.lower_value(
                            value,
                            &path,
                            prov.as_ref(),
                            Ty::Money,
                            &restrict,
                            NameScope { current: None },
                        ) {
                            caps.push(ir::Cap {
                                per: ir::CapPer::Year {
                                    pool: u32::try_from(idx).unwrap_or(u32::MAX),
                                },
                                value: v,
                                cite: self.cite(c.span),
                            });
                        }
                    }
                    CapPerDecl::Claim { value } | CapPerDecl::Month { value, .. } => {
                        let (path, per) = match per {
                            CapPerDecl::Month { .. } => ("cap_month", ir::CapPer::Month),
                            _ => ("cap_claim", ir::CapPer::Claim),
                        };
                        if let Some(v) = self.lower_value(
                            value,
                            &format!("{lid}.{path}"),
                            prov.as_ref(),
                            Ty::Money,
                            &restrict,
                            NameScope { current: None },
                        ) {
                            caps.push(ir::Cap {
                                per,
                                value: v,
                                cite: self.cite(c.span),
                            });
                        }
                    }
                }
            }
        }

        // Modifiers.
        let mut modifiers = vec![];
        for c in &l.clauses {
            let Clause::For { conds, ops } = &c.node else {
                continue;
            };
            let selector = self.selector(conds);
            let sel_path = conds
                .iter()
                .map(|c| {
                    format!(
                        "{}={}",
                        c.dim.node.name(),
                        c.keys
                            .iter()
                            .map(|k| k.node.as_str())
                            .collect::<Vec<_>>()
                            .join("|")
                    )
                })
                .collect::<Vec<_>>()
                .join(",");
            let mut out = vec![];
            let mut texts = vec![];
            for op in ops {
                match &op.node {
                    ModOpDecl::NoCap => {
                        if caps.is_empty() {
                            self.error(Diagnostic::warning(
                                "yibao::no-effect",
                                format!("`no cap`, but layer `{lid}` has no cap"),
                                op.span,
                            ));
                        }
                        out.push(ir::ModOp::Cap { expr: None });
                        texts.push(self.cite(op.span).text);
                    }
                    ModOpDecl::Op {
                        target,
                        op: mop,
                        expr,
                        prov,
                    } => {
                        let (name, ty) = match target {
                            ModTarget::Deductible => ("deductible", Ty::Money),
                            ModTarget::Ratio => ("ratio", Ty::Ratio),
                            ModTarget::Cap => ("cap", Ty::Money),
                        };
                        match target {
                            ModTarget::Deductible if deductible.is_none() => {
                                self.error(Diagnostic::warning(
                                    "yibao::no-effect",
                                    format!("layer `{lid}` has no deductible to modify"),
                                    op.span,
                                ))
                            }
                            ModTarget::Cap if caps.is_empty() => self.error(Diagnostic::warning(
                                "yibao::no-effect",
                                format!("layer `{lid}` has no cap to modify"),
                                op.span,
                            )),
                            _ => {}
                        }
                        let path = format!("{lid}.for[{sel_path}].{name}");
                        let mut counter = 0;
                        self.compound = !matches!(expr, Expr::Num(_));
                        let Some(low) = self.lower_expr(
                            expr,
                            &path,
                            &mut counter,
                            prov.as_ref(),
                            NameScope {
                                current: Some((name, ty)),
                            },
                        ) else {
                            continue;
                        };
                        let expected = match mop {
                            ModOperator::Mul => Ty::Ratio,
                            _ => ty,
                        };
                        self.expect_ty(low.ty, expected, expr_span(expr).unwrap_or(op.span), expr);
                        if *mop != ModOperator::Set && ty == Ty::Ratio {
                            if let Some((v, _)) = fold(&low.expr) {
                                if v > Decimal::ONE {
                                    self.error(Diagnostic::error(
                                        "yibao::out-of-range",
                                        format!("ratio change `{}` is above 100%", fmt_num(v)),
                                        expr_span(expr).unwrap_or(op.span),
                                    ));
                                }
                            }
                        }
                        let e = low.expr;
                        let cur = Box::new(ir::Expr::Current);
                        let full = match mop {
                            ModOperator::Set => e,
                            ModOperator::Mul => ir::Expr::Mul(cur, Box::new(e)),
                            ModOperator::Add => ir::Expr::Add(cur, Box::new(e)),
                            ModOperator::Sub => ir::Expr::Sub(cur, Box::new(e)),
                        };
                        out.push(match target {
                            ModTarget::Deductible => ir::ModOp::Deductible { expr: full },
                            ModTarget::Ratio => ir::ModOp::Ratio { expr: full },
                            ModTarget::Cap => ir::ModOp::Cap { expr: Some(full) },
                        });
                        texts.push(self.cite(op.span).text);
                    }
                }
            }
            modifiers.push(ir::Modifier {
                selector,
                ops: out,
                op_texts: texts,
                cite: self.cite(c.span),
            });
        }

        let platform_field = match find(&|c| matches!(c, Clause::Field(_))) {
            Some(Spanned {
                node: Clause::Field(f),
                ..
            }) => {
                if !Platform::FUND_FIELDS.contains(&f.node.as_str()) {
                    let help = did_you_mean(&f.node, Platform::FUND_FIELDS).unwrap_or_else(|| {
                        format!("fund fields: {}", Platform::FUND_FIELDS.join(", "))
                    });
                    self.error(
                        Diagnostic::error(
                            "yibao::unknown-name",
                            format!("unknown national platform fund field `{}`", f.node),
                            f.span,
                        )
                        .with_help(help),
                    );
                }
                f.node.clone()
            }
            _ => kind
                .map(|k| k.default_platform_field())
                .unwrap_or("oth_pay")
                .to_string(),
        };

        let ratio_may_be_unknown = bands
            .as_ref()
            .is_some_and(|b: &ir::Bands| b.bands.iter().any(|x| x.ratio.may_be_unknown()));
        let care = self.care_rule(l, &lid, &restrict);
        Some(ir::Layer {
            care,
            ratio_may_be_unknown,
            id: lid.into(),
            kind: kind?,
            label: l.label.as_str().into(),
            label_en: l.label_en.as_deref().map(Into::into),
            platform_field: platform_field.into(),
            when,
            base,
            measure,
            deductible,
            bands,
            caps,
            modifiers,
            per_case,
            referral,
            cite: self.cite(Span {
                end: l.id.span.end,
                ..span
            }),
        })
    }

    fn expect_ty(&mut self, got: Ty, want: Ty, span: Span, expr: &Expr) {
        let ok = match (want, got) {
            (Ty::Money, Ty::Money | Ty::Scalar) => true,
            (Ty::Ratio, Ty::Ratio) => true,
            (Ty::Ratio, Ty::Scalar) => false,
            (Ty::Scalar, _) => true,
            _ => false,
        };
        if ok {
            return;
        }
        let mut d = Diagnostic::error(
            "yibao::unit",
            format!("expected {}, found {}", want.describe(), got.describe()),
            span,
        )
        .with_label(format!("this is {}", got.describe()));
        if want == Ty::Ratio && got == Ty::Scalar {
            if let Expr::Num(n) = expr {
                let pct = n.node.value * Decimal::ONE_HUNDRED;
                d = d.with_help(format!(
                    "write a ratio with `%`, e.g. `{}%`",
                    fmt_num(if n.node.value <= Decimal::ONE {
                        pct
                    } else {
                        n.node.value
                    })
                ));
            } else {
                d = d.with_help("write a ratio with `%`, e.g. `85%`");
            }
        } else if want == Ty::Money && got == Ty::Ratio {
            d = d.with_help("an amount of money is written without `%`, e.g. `800`");
        }
        self.error(d);
    }

    /// Lowers a value at a position that expects `want`.
    fn lower_value(
        &mut self,
        v: &Value,
        path: &str,
        inherited: Option<&Prov>,
        want: Ty,
        restrict: &Restrict,
        scope: NameScope,
    ) -> Option<ir::Value> {
        match v {
            Value::None { span, prov } => {
                let n = Spanned::new(
                    Number {
                        text: "none".into(),
                        value: Decimal::ZERO,
                        unit: Unit::None,
                        prov: prov.clone(),
                    },
                    span.0,
                );
                let id = self.new_param(path.to_string(), &n, inherited);
                // An override gives the figure the policy does not have.
                match self
                    .params
                    .get(id as usize)
                    .and_then(|p| p.overridden.map(|_| p.value))
                {
                    Some(value) => Some(ir::Value::Const {
                        value,
                        params: vec![id],
                        flagged: true,
                    }),
                    None => Some(ir::Value::None {
                        params: vec![id],
                        unknown: self.params.get(id as usize).is_some_and(|p| {
                            p.provenance == Provenance::Placeholder && p.overridden.is_none()
                        }),
                    }),
                }
            }
            Value::Expr(e) => {
                let mut counter = 0;
                self.compound = !matches!(e, Expr::Num(_));
                let low = self.lower_expr(e, path, &mut counter, inherited, scope)?;
                self.expect_ty(low.ty, want, expr_span(e).unwrap_or_default(), e);
                let out = match fold(&low.expr) {
                    Some((value, params)) => {
                        if want == Ty::Ratio && (value < Decimal::ZERO || value > Decimal::ONE) {
                            self.error(
                                Diagnostic::error(
                                    "yibao::out-of-range",
                                    format!("ratio `{}` is outside 0–100%", fmt_pct(value)),
                                    expr_span(e).unwrap_or_default(),
                                )
                                .with_label("not between 0% and 100%")
                                .with_help("a ratio is the fund's share, e.g. `85%`"),
                            );
                        }
                        if want == Ty::Money {
                            if value < Decimal::ZERO {
                                self.error(Diagnostic::error(
                                    "yibao::out-of-range",
                                    format!("amount `{}` is negative", fmt_num(value)),
                                    expr_span(e).unwrap_or_default(),
                                ));
                            } else if value.normalize().scale() > 2 {
                                self.error(
                                    Diagnostic::error(
                                        "yibao::precision",
                                        format!(
                                            "amount `{}` has more than two decimal places",
                                            fmt_num(value)
                                        ),
                                        expr_span(e).unwrap_or_default(),
                                    )
                                    .with_help("money is settled to 0.01 yuan"),
                                );
                            }
                        }
                        let flagged = self.flagged(&params);
                        ir::Value::Const {
                            value,
                            params,
                            flagged,
                        }
                    }
                    None => ir::Value::Expr(Box::new(low.expr)),
                };
                Some(out)
            }
            Value::Table(t) => {
                let dim = t.dim.node;
                let values: Vec<String> = dim_values(&self.dims, dim)
                    .iter()
                    .map(|v| v.id.to_string())
                    .collect();
                let mut entries: Vec<Option<ir::Value>> = vec![None; values.len()];
                let mut default = None;
                let mut seen: HashMap<String, Span> = HashMap::new();
                let mut else_span = None;
                let inh = t.prov.as_ref().or(inherited);
                for e in &t.entries {
                    let eprov = e.node.prov.as_ref().or(inh);
                    match &e.node.key {
                        None => {
                            if else_span.is_some() {
                                self.error(Diagnostic::error(
                                    "yibao::duplicate",
                                    "`else` is given twice",
                                    e.span,
                                ));
                            }
                            else_span = Some(e.span);
                            default = self
                                .lower_value(
                                    &e.node.value,
                                    &format!("{path}.{}.else", dim.name()),
                                    eprov,
                                    want,
                                    restrict,
                                    scope,
                                )
                                .map(Box::new);
                        }
                        Some(k) => {
                            if let Some(prev) = seen.get(&k.node) {
                                let prev = *prev;
                                self.error(
                                    Diagnostic::error(
                                        "yibao::duplicate",
                                        format!("`{}` appears twice in this table", k.node),
                                        k.span,
                                    )
                                    .with_related(prev, "first here"),
                                );
                                continue;
                            }
                            seen.insert(k.node.clone(), k.span);
                            match values.iter().position(|v| *v == k.node) {
                                Some(i) => {
                                    let low = self.lower_value(
                                        &e.node.value,
                                        &format!("{path}.{}.{}", dim.name(), k.node),
                                        eprov,
                                        want,
                                        restrict,
                                        scope,
                                    );
                                    if let Some(slot) = entries.get_mut(i) {
                                        *slot = low;
                                    }
                                }
                                None => self.unknown_key(dim, k),
                            }
                        }
                    }
                }
                if default.is_none() && else_span.is_none() {
                    let required: Vec<&String> =
                        values.iter().filter(|v| restrict.allows(dim, v)).collect();
                    let missing: Vec<&str> = required
                        .iter()
                        .filter(|v| !seen.contains_key(v.as_str()))
                        .map(|v| v.as_str())
                        .collect();
                    if !missing.is_empty() {
                        let list = missing
                            .iter()
                            .map(|m| format!("`{m}`"))
                            .collect::<Vec<_>>()
                            .join(", ");
                        self.error(
                            Diagnostic::error(
                                "yibao::not-exhaustive",
                                format!("table by {} has no entry for {list}", dim.name()),
                                t.dim.span,
                            )
                            .with_label(format!(
                                "the policy declares {} {}",
                                if missing.len() == 1 { "this" } else { "these" },
                                dim.name()
                            ))
                            .with_help(format!(
                                "add `{}: …` or an `else: …` entry",
                                missing.first().copied().unwrap_or("?")
                            )),
                        );
                    }
                }
                Some(ir::Value::Table {
                    dim,
                    entries,
                    default,
                })
            }
        }
    }

    /// Whether a result that uses these parameters must name them (placeholder or overridden).
    fn flagged(&self, ids: &[ParamId]) -> bool {
        ids.iter().any(|i| {
            self.params
                .get(*i as usize)
                .is_some_and(|p| p.provenance.is_unverified() || p.overridden.is_some())
        })
    }

    /// The version's validity statements: at most one of each kind for the whole version, one
    /// of which every version needs; layer-scoped ones name existing layers; a stated end is not
    /// before the version takes effect.
    fn validity(
        &mut self,
        file: &PolicyFile,
        effective: Option<&Spanned<yibao_engine::Date>>,
        layers: &[ir::Layer],
    ) -> Vec<ir::Validity> {
        let mut out: Vec<ir::Validity> = vec![];
        let mut whole: Vec<(ir::ValidityKind, Span)> = vec![];
        for it in &file.items {
            let Item::Validity(v) = &it.node else {
                continue;
            };
            if let Some(p) = &v.prov {
                self.check_source(p);
            }
            if let Some(eff) = effective {
                if v.kind.node == ir::ValidityKind::ValidUntil && v.date.node < eff.node {
                    self.error(
                        Diagnostic::error(
                            "yibao::validity-before-effective",
                            format!(
                                "`valid_until {}` ends before the version takes effect ({})",
                                v.date.node, eff.node
                            ),
                            v.date.span,
                        )
                        .with_related(eff.span, "the version takes effect here"),
                    );
                    continue;
                }
            }
            let mut names: Vec<std::sync::Arc<str>> = vec![];
            if let Some(ls) = &v.layers {
                for l in ls {
                    if layers.iter().any(|x| *x.id == *l.node) {
                        names.push(l.node.as_str().into());
                    } else {
                        let known: Vec<&str> = layers.iter().map(|x| &*x.id).collect();
                        self.error(
                            Diagnostic::error(
                                "yibao::unknown-name",
                                format!("unknown layer `{}`", l.node),
                                l.span,
                            )
                            .with_help_opt(did_you_mean(&l.node, known.iter().copied())),
                        );
                    }
                }
                if names.is_empty() {
                    continue;
                }
            } else if let Some((_, first)) = whole.iter().find(|(k, _)| *k == v.kind.node) {
                let first = *first;
                self.error(
                    Diagnostic::error(
                        "yibao::duplicate",
                        format!(
                            "`{}` is given twice for the whole version",
                            v.kind.node.keyword()
                        ),
                        v.kind.span,
                    )
                    .with_related(first, "first given here"),
                );
                continue;
            } else {
                whole.push((v.kind.node, v.kind.span));
            }
            out.push(ir::Validity {
                kind: v.kind.node,
                until: v.date.node,
                provenance: date_provenance(v.prov.as_ref()),
                layers: names,
            });
        }
        if whole.is_empty() {
            let span = effective.map(|e| e.span).unwrap_or(file.header.id.span);
            self.error(
                Diagnostic::warning(
                    "yibao::missing-validity",
                    format!(
                        "version of `{}` does not say how long its figures are known to hold",
                        file.header.id.node
                    ),
                    span,
                )
                .with_label("this version")
                .with_help("add `valid_until YYYY-MM-DD [prov]` (the end the document states) or `confirmed YYYY-MM-DD [prov]` (the last date a source confirmed the figures)"),
            );
        }
        // Whole-version statements first.
        out.sort_by_key(|v| !v.layers.is_empty());
        out
    }

    fn check_source(&mut self, p: &Prov) {
        if let Some(s) = &p.source {
            if !self.sources.contains_key(&s.node) {
                let names: Vec<String> = self.sources.keys().cloned().collect();
                let help = did_you_mean(&s.node, names.iter().map(String::as_str))
                    .unwrap_or_else(|| "declare it with `source <id> \"title\"`".into());
                self.error(
                    Diagnostic::error(
                        "yibao::unknown-source",
                        format!("unknown source `{}`", s.node),
                        s.span,
                    )
                    .with_label("no `source` declares this id")
                    .with_help(help),
                );
            }
        }
    }

    fn new_param(
        &mut self,
        path: String,
        n: &Spanned<Number>,
        inherited: Option<&Prov>,
    ) -> ParamId {
        let prov = n.node.prov.as_ref().or(inherited);
        let (provenance, source, note) = match prov {
            Some(p) => {
                if p.source.is_some() {
                    self.check_source(p);
                } else if matches!(
                    p.kind,
                    Provenance::Official | Provenance::Secondary | Provenance::Seed
                ) {
                    self.error(
                        Diagnostic::warning(
                            "yibao::provenance",
                            format!("`{}` figure without a source id", p.kind.name()),
                            p.span.0,
                        )
                        .with_help(format!("write `[{} <source-id>]`", p.kind.name())),
                    );
                }
                (
                    p.kind,
                    p.source.as_ref().map(|s| s.node.clone()),
                    p.note.clone(),
                )
            }
            None => {
                self.error(
                    Diagnostic::warning("yibao::provenance", format!("number `{}` has no provenance", n.node.text), n.span)
                        .with_label("where does this come from?")
                        .with_help("add `[official <source>]`, `[secondary <source>]`, `[seed <source>]`, `[derived \"…\"]` or `[placeholder]`"),
                );
                (Provenance::Unspecified, None, None)
            }
        };
        let id = ParamId::try_from(self.params.len()).unwrap_or(ParamId::MAX);
        let overridden = self.overrides.values.get(&path).copied();
        self.params.push(ir::ParamInfo {
            path,
            text: n.node.text.clone(),
            value: overridden.unwrap_or(n.node.value),
            provenance,
            source,
            note,
            cite: self.cite(n.span),
            overridden: overridden.map(|_| n.node.value),
        });
        id
    }

    fn lower_expr(
        &mut self,
        e: &Expr,
        path: &str,
        counter: &mut usize,
        inherited: Option<&Prov>,
        scope: NameScope,
    ) -> Option<Lowered> {
        Some(match e {
            // In a formula, a bare `1` or `0` without provenance of its own is arithmetic (the
            // `1` of `1 - 60% × (1 - ratio)`), not a figure: no parameter, no provenance needed,
            // nothing to override.
            Expr::Num(n)
                if self.compound
                    && n.node.unit == Unit::None
                    && n.node.prov.is_none()
                    && (n.node.value == Decimal::ONE || n.node.value.is_zero()) =>
            {
                Lowered {
                    expr: ir::Expr::Value(ir::Value::Const {
                        value: n.node.value,
                        params: vec![],
                        flagged: false,
                    }),
                    ty: Ty::Scalar,
                }
            }
            Expr::Num(n) => {
                *counter += 1;
                let p = if *counter == 1 {
                    path.to_string()
                } else {
                    format!("{path}#{counter}")
                };
                let id = self.new_param(p, n, inherited);
                let value = self
                    .params
                    .get(id as usize)
                    .map(|p| p.value)
                    .unwrap_or(n.node.value);
                let ty = match n.node.unit {
                    Unit::Percent => Ty::Ratio,
                    Unit::Wan | Unit::Yuan => Ty::Money,
                    Unit::None => Ty::Scalar,
                };
                Lowered {
                    expr: ir::Expr::Value(ir::Value::Const {
                        value,
                        flagged: self.flagged(&[id]),
                        params: vec![id],
                    }),
                    ty,
                }
            }
            Expr::Name(name) => {
                if let Some((cur, ty)) = scope.current {
                    if name.node == cur {
                        return Some(Lowered {
                            expr: ir::Expr::Current,
                            ty,
                        });
                    }
                }
                if let Some(ind) = self.indicators.get(&name.node) {
                    let flagged = self.flagged(&ind.params);
                    return Some(Lowered {
                        expr: ir::Expr::Value(ir::Value::Const {
                            value: ind.value,
                            params: ind.params.clone(),
                            flagged,
                        }),
                        ty: ind.ty,
                    });
                }
                let mut names: Vec<String> = self.indicators.keys().cloned().collect();
                if let Some((cur, _)) = scope.current {
                    names.push(cur.to_string());
                }
                let help = did_you_mean(&name.node, names.iter().map(String::as_str))
                    .unwrap_or_else(|| {
                        if ["ratio", "deductible", "cap"].contains(&name.node.as_str()) {
                            format!(
                                "`{}` can only be used inside a `for` modifier of the same value",
                                name.node
                            )
                        } else {
                            "declare it with `indicator <name> = <value> [provenance]`".into()
                        }
                    });
                self.error(
                    Diagnostic::error(
                        "yibao::unknown-name",
                        format!("unknown name `{}`", name.node),
                        name.span,
                    )
                    .with_label("not an indicator")
                    .with_help(help),
                );
                return None;
            }
            Expr::Paren(inner) => {
                return self.lower_expr(&inner.node, path, counter, inherited, scope)
            }
            Expr::Bin(op, a, b) => {
                let la = self.lower_expr(&a.node, path, counter, inherited, scope);
                let lb = self.lower_expr(&b.node, path, counter, inherited, scope);
                let (la, lb) = (la?, lb?);
                let span = Span {
                    end: b.span.end,
                    ..a.span
                };
                let ty = match (op, la.ty, lb.ty) {
                    (BinOp::Add | BinOp::Sub, x, y) if x == y => x,
                    (BinOp::Add | BinOp::Sub, Ty::Scalar, y) => y,
                    (BinOp::Add | BinOp::Sub, x, Ty::Scalar) => x,
                    (BinOp::Mul, Ty::Money, Ty::Ratio | Ty::Scalar)
                    | (BinOp::Mul, Ty::Ratio | Ty::Scalar, Ty::Money) => Ty::Money,
                    (BinOp::Mul, Ty::Ratio, Ty::Ratio | Ty::Scalar)
                    | (BinOp::Mul, Ty::Scalar, Ty::Ratio) => Ty::Ratio,
                    (BinOp::Mul, Ty::Scalar, Ty::Scalar) => Ty::Scalar,
                    (BinOp::Div, Ty::Money, Ty::Money) => Ty::Ratio,
                    (BinOp::Div, x, Ty::Scalar | Ty::Ratio)
                        if x != Ty::Money || lb.ty == Ty::Scalar =>
                    {
                        x
                    }
                    (BinOp::Div, Ty::Ratio, Ty::Ratio) => Ty::Ratio,
                    _ => {
                        self.error(
                            Diagnostic::error(
                                "yibao::unit",
                                format!(
                                    "cannot {} {} and {}",
                                    match op {
                                        BinOp::Add => "add",
                                        BinOp::Sub => "subtract",
                                        BinOp::Mul => "multiply",
                                        BinOp::Div => "divide",
                                    },
                                    la.ty.describe(),
                                    lb.ty.describe()
                                ),
                                span,
                            )
                            .with_label("units do not match"),
                        );
                        return None;
                    }
                };
                let (x, y) = (Box::new(la.expr), Box::new(lb.expr));
                let expr = match op {
                    BinOp::Add => ir::Expr::Add(x, y),
                    BinOp::Sub => ir::Expr::Sub(x, y),
                    BinOp::Mul => ir::Expr::Mul(x, y),
                    BinOp::Div => ir::Expr::Div(x, y),
                };
                if let ir::Expr::Div(_, d) = &expr {
                    if fold(d).is_some_and(|(v, _)| v.is_zero()) {
                        self.error(Diagnostic::error(
                            "yibao::division-by-zero",
                            "division by zero",
                            b.span,
                        ));
                        return None;
                    }
                }
                Lowered { expr, ty }
            }
            Expr::Call(f, a, b) => {
                let la = self.lower_expr(&a.node, path, counter, inherited, scope);
                let lb = self.lower_expr(&b.node, path, counter, inherited, scope);
                let (la, lb) = (la?, lb?);
                let ty = match (la.ty, lb.ty) {
                    (x, y) if x == y => x,
                    (Ty::Scalar, y) => y,
                    (x, Ty::Scalar) => x,
                    _ => {
                        self.error(Diagnostic::error(
                            "yibao::unit",
                            format!(
                                "`min`/`max` of {} and {}",
                                la.ty.describe(),
                                lb.ty.describe()
                            ),
                            Span {
                                end: b.span.end,
                                ..a.span
                            },
                        ));
                        return None;
                    }
                };
                let (x, y) = (Box::new(la.expr), Box::new(lb.expr));
                Lowered {
                    expr: if *f == Func::Min {
                        ir::Expr::Min(x, y)
                    } else {
                        ir::Expr::Max(x, y)
                    },
                    ty,
                }
            }
        })
    }
}

/// Which values of each dimension can reach a layer (from its `when`), so a table need only
/// cover those.
struct Restrict {
    only: BTreeMap<&'static str, HashSet<String>>,
}

impl Restrict {
    fn none() -> Restrict {
        Restrict {
            only: BTreeMap::new(),
        }
    }
    fn from_conds(conds: &[Cond]) -> Restrict {
        let mut only = BTreeMap::new();
        for c in conds {
            only.insert(
                c.dim.node.name(),
                c.keys.iter().map(|k| k.node.clone()).collect(),
            );
        }
        Restrict { only }
    }
    fn allows(&self, dim: Dim, v: &str) -> bool {
        self.only.get(dim.name()).is_none_or(|s| s.contains(v))
    }
}

/// Folds an expression without `current` to a constant, with the parameters it used.
/// A date's provenance as written (or `Unspecified`).
fn date_provenance(p: Option<&Prov>) -> ir::DateProvenance {
    match p {
        Some(p) => ir::DateProvenance {
            provenance: p.kind,
            source: p.source.as_ref().map(|s| s.node.clone()),
            note: p.note.clone(),
        },
        None => ir::DateProvenance {
            provenance: ir::Provenance::Unspecified,
            source: None,
            note: None,
        },
    }
}

pub(crate) fn fold(e: &ir::Expr) -> Option<(Decimal, Vec<ParamId>)> {
    match e {
        ir::Expr::Value(ir::Value::Const { value, params, .. }) => Some((*value, params.clone())),
        ir::Expr::Value(_) | ir::Expr::Current => None,
        ir::Expr::Add(a, b)
        | ir::Expr::Sub(a, b)
        | ir::Expr::Mul(a, b)
        | ir::Expr::Div(a, b)
        | ir::Expr::Min(a, b)
        | ir::Expr::Max(a, b) => {
            let (x, mut px) = fold(a)?;
            let (y, py) = fold(b)?;
            px.extend(py);
            let v = match e {
                ir::Expr::Add(..) => x.checked_add(y)?,
                ir::Expr::Sub(..) => x.checked_sub(y)?,
                ir::Expr::Mul(..) => x.checked_mul(y)?,
                ir::Expr::Div(..) => x.checked_div(y)?,
                ir::Expr::Min(..) => x.min(y),
                _ => x.max(y),
            };
            Some((v, px))
        }
    }
}

fn value_span(v: &Value) -> Option<Span> {
    match v {
        Value::Expr(e) => expr_span(e),
        Value::None { span, .. } => Some(span.0),
        Value::Table(t) => Some(t.dim.span),
    }
}

pub(crate) fn expr_span(e: &Expr) -> Option<Span> {
    match e {
        Expr::Num(n) => Some(n.span),
        Expr::Name(n) => Some(n.span),
        Expr::Paren(p) => Some(p.span),
        Expr::Bin(_, a, b) | Expr::Call(_, a, b) => Some(Span {
            end: b.span.end,
            ..a.span
        }),
    }
}

fn fmt_num(d: Decimal) -> String {
    yibao_engine::money::fmt_decimal(d)
}

fn fmt_pct(d: Decimal) -> String {
    format!("{}%", fmt_num(d * Decimal::ONE_HUNDRED))
}
