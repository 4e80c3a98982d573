//! Long-term care layers (长期护理保险): `base cost [..]`, `limit per_day|per_month`,
//! `require <fact> <op> V` and `cap per_month V [pool P]`, checked and lowered to
//! [`ir::CareRule`]. A care layer settles a month of care (`settle/care.rs`): it takes no
//! deductible, bands, measure, referral, per-case share or `for` block, and a policy's layers
//! are either all care layers or none.

use super::*;

/// Whether the layer is a care layer: its base names care costs.
pub(super) fn is_care_layer(l: &LayerDecl) -> bool {
    l.clauses
        .iter()
        .any(|c| matches!(c.node, Clause::Base(BaseSpec::Cost(_))))
}

/// The first number in a value written with a unit (`%`, `元`, `万`), for counts.
fn unit_span(v: &Value) -> Option<Span> {
    fn expr(e: &Expr) -> Option<Span> {
        match e {
            Expr::Num(n) if n.node.unit != Unit::None => Some(n.span),
            Expr::Num(_) | Expr::Name(_) => None,
            Expr::Paren(x) => expr(&x.node),
            Expr::Bin(_, a, b) | Expr::Call(_, a, b) => expr(&a.node).or_else(|| expr(&b.node)),
        }
    }
    match v {
        Value::Expr(e) => expr(e),
        Value::Table(t) => t.entries.iter().find_map(|e| unit_span(&e.node.value)),
        Value::None { .. } => None,
    }
}

impl Compiler<'_> {
    /// A policy's layers are all care layers or none: a month of care and a hospital bill are
    /// different claims.
    pub(super) fn check_care_mix(&mut self, layers: &[(&LayerDecl, Span)]) {
        let care = layers.iter().find(|(l, _)| is_care_layer(l));
        let medical = layers.iter().find(|(l, _)| !is_care_layer(l));
        if let (Some((c, _)), Some((m, _))) = (care, medical) {
            self.error(
                Diagnostic::error(
                    "yibao::mixed-benefits",
                    format!(
                        "layer `{}` is a long-term care layer (`base cost [..]`) but `{}` is a medical layer",
                        c.id.node, m.id.node
                    ),
                    m.id.span,
                )
                .with_label("a medical layer")
                .with_related(c.id.span, "a care layer")
                .with_help("write long-term care as its own policy (`policy <region>.ltc …`): a month of care and a hospital bill are settled differently"),
            );
        }
    }

    /// Checks a layer's care clauses and lowers them; `None` for a medical layer (whose care
    /// clauses are errors).
    pub(super) fn care_rule(
        &mut self,
        l: &LayerDecl,
        lid: &str,
        restrict: &Restrict,
    ) -> Option<Box<ir::CareRule>> {
        if !is_care_layer(l) {
            for c in &l.clauses {
                let what = match &c.node {
                    Clause::Limit { .. } => "`limit`",
                    Clause::Require { .. } => "`require`",
                    Clause::Cap {
                        per: CapPerDecl::Month { pool: Some(_), .. },
                        ..
                    } => "a monthly cap in a pool",
                    _ => continue,
                };
                self.error(
                    Diagnostic::error(
                        "yibao::care-clause",
                        format!("{what} belongs to a long-term care layer, and layer `{lid}` is a medical layer"),
                        c.span,
                    )
                    .with_help("a care layer names the costs it pays from: `base cost [personal_care]`"),
                );
            }
            return None;
        }
        let mut rule = ir::CareRule {
            costs: vec![],
            limit: None,
            requires: vec![],
            caps: vec![],
        };
        for c in &l.clauses {
            match &c.node {
                Clause::Base(BaseSpec::Cost(kinds)) => {
                    for k in kinds {
                        if rule.costs.contains(&k.node) {
                            self.error(Diagnostic::error(
                                "yibao::duplicate",
                                format!("cost `{}` is listed twice", k.node.name()),
                                k.span,
                            ));
                        } else {
                            rule.costs.push(k.node);
                        }
                    }
                }
                Clause::Limit { per, value, prov } => {
                    let path = format!(
                        "{lid}.limit_{}",
                        match per {
                            ir::LimitPer::Day => "day",
                            ir::LimitPer::Month => "month",
                        }
                    );
                    if let Some(v) = self.lower_value(
                        value,
                        &path,
                        prov.as_ref(),
                        Ty::Money,
                        restrict,
                        NameScope { current: None },
                    ) {
                        rule.limit = Some(ir::Limit {
                            per: *per,
                            value: v,
                            cite: self.cite(c.span),
                        });
                    }
                }
                Clause::Require {
                    fact,
                    op,
                    value,
                    prov,
                } => {
                    if let Some(span) = unit_span(value) {
                        self.error(
                            Diagnostic::error(
                                "yibao::unit",
                                format!("`{}` is a count, not money or a ratio", fact.node.name()),
                                span,
                            )
                            .with_label("a number with a unit")
                            .with_help("write counts, hours and ages as plain numbers, e.g. `require visits >= 12`"),
                        );
                        continue;
                    }
                    let path = format!("{lid}.require.{}", fact.node.name());
                    if let Some(v) = self.lower_value(
                        value,
                        &path,
                        prov.as_ref(),
                        Ty::Scalar,
                        restrict,
                        NameScope { current: None },
                    ) {
                        rule.requires.push(ir::Require {
                            fact: fact.node,
                            op: *op,
                            value: v,
                            cite: self.cite(c.span),
                        });
                    }
                }
                Clause::Cap { per, prov } => match per {
                    CapPerDecl::Month { value, pool } => {
                        let path = match pool {
                            Some(p) => format!("{lid}.cap_month.{}", p.node),
                            None => format!("{lid}.cap_month"),
                        };
                        if let Some(v) = self.lower_value(
                            value,
                            &path,
                            prov.as_ref(),
                            Ty::Money,
                            restrict,
                            NameScope { current: None },
                        ) {
                            rule.caps.push(ir::CareCap {
                                pool: pool.as_ref().map(|p| p.node.as_str().into()),
                                value: v,
                                cite: self.cite(c.span),
                            });
                        }
                    }
                    _ => self.error(
                        Diagnostic::error(
                            "yibao::care-clause",
                            format!("care layer `{lid}` settles one month: its fund caps are `cap per_month`"),
                            c.span,
                        )
                        .with_help("write `cap per_month <amount>`, with `pool <name>` for a cap shared by several layers"),
                    ),
                },
                Clause::Deductible { .. }
                | Clause::Later { .. }
                | Clause::Every { .. }
                | Clause::Measure(_)
                | Clause::Referral(_)
                | Clause::Bands { .. }
                | Clause::For { .. }
                | Clause::PerCase { .. } => {
                    let name = match &c.node {
                        Clause::Deductible { .. } | Clause::Later { .. } | Clause::Every { .. } => {
                            "deductible"
                        }
                        Clause::Measure(_) => "measure",
                        Clause::Referral(_) => "referral",
                        Clause::Bands { .. } => "bands",
                        Clause::For { .. } => "for",
                        _ => "per_case",
                    };
                    self.error(
                        Diagnostic::error(
                            "yibao::care-clause",
                            format!("care layer `{lid}` cannot have `{name}`"),
                            c.span,
                        )
                        .with_label("a medical-layer clause")
                        .with_help("a care layer has `base cost [..]`, `ratio`, and optionally `limit`, `require`, `cap per_month` and `when`"),
                    );
                }
                _ => {}
            }
        }
        Some(Box::new(rule))
    }
}
