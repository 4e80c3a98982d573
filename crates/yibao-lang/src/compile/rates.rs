//! A layer's rates: one `ratio`, or `bands` (edges that increase, nothing after `above:`,
//! `relative` edges from the deductible).

use super::*;

impl Compiler<'_> {
    pub(super) fn rates(
        &mut self,
        l: &LayerDecl,
        lid: &str,
        restrict: &Restrict,
    ) -> Option<ir::Bands> {
        let find = |pred: &dyn Fn(&Clause) -> bool| l.clauses.iter().find(|c| pred(&c.node));
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
                    restrict,
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
                                restrict,
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
                        restrict,
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
        bands
    }
}
