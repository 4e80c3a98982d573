//! Values at a position that expects a unit: numbers, formulas folded to constants, `none`
//! (absent, or unknown with `[placeholder]`), tables `by <dimension>` (exhaustive over what can
//! reach the layer); unit checks and ranges (ratios 0–100%, money whole cents).

use super::*;

impl Compiler<'_> {
    pub(super) fn expect_ty(&mut self, got: Ty, want: Ty, span: Span, expr: &Expr) {
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
    pub(super) fn lower_value(
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
    pub(super) fn flagged(&self, ids: &[ParamId]) -> bool {
        ids.iter().any(|i| {
            self.params
                .get(*i as usize)
                .is_some_and(|p| p.provenance.is_unverified() || p.overridden.is_some())
        })
    }
}

pub(super) fn value_span(v: &Value) -> Option<Span> {
    match v {
        Value::Expr(e) => expr_span(e),
        Value::None { span, .. } => Some(span.0),
        Value::Table(t) => Some(t.dim.span),
    }
}

pub(super) fn fmt_num(d: Decimal) -> String {
    yibao_engine::money::fmt_decimal(d)
}

pub(super) fn fmt_pct(d: Decimal) -> String {
    format!("{}%", fmt_num(d * Decimal::ONE_HUNDRED))
}
