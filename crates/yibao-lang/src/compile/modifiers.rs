//! `for <conditions> { … }` blocks: what they select (dimension values, and `referred` /
//! `not referred`: whether the claim was referred), and their changes to the deductible, the
//! ratio or the cap (`=`, `×`, `+`, `-`, `no cap`), with `ratio`/`deductible`/`cap` naming the
//! value being changed.

use super::*;

impl Compiler<'_> {
    pub(super) fn modifiers(
        &mut self,
        l: &LayerDecl,
        lid: &str,
        deductible: &Option<ir::Deductible>,
        caps: &[ir::Cap],
    ) -> Vec<ir::Modifier> {
        // Modifiers.
        let mut modifiers = vec![];
        for c in &l.clauses {
            let Clause::For {
                referred,
                conds,
                ops,
            } = &c.node
            else {
                continue;
            };
            let mut selector = self.selector(conds);
            selector.referral = self.referral_condition(referred);
            let referral_path = selector
                .referral
                .map(|r| if r { "referred" } else { "not_referred" }.to_string());
            let sel_path = referral_path
                .into_iter()
                .chain(conds.iter().map(|c| {
                    format!(
                        "{}={}",
                        c.dim.node.name(),
                        c.keys
                            .iter()
                            .map(|k| k.node.as_str())
                            .collect::<Vec<_>>()
                            .join("|")
                    )
                }))
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
        modifiers
    }

    /// `referred` or `not referred`, at most once in a block: the selector's referral.
    fn referral_condition(&mut self, referred: &[Spanned<bool>]) -> Option<bool> {
        let first = referred.first()?;
        for again in referred.iter().skip(1) {
            let d = if again.node == first.node {
                Diagnostic::error(
                    "yibao::duplicate",
                    "the referral is restricted twice",
                    again.span,
                )
                .with_help("write `referred` or `not referred` once")
            } else {
                Diagnostic::error(
                    "yibao::conflict",
                    "`referred and not referred` selects no claim",
                    again.span,
                )
                .with_label("contradicts the first condition")
                .with_help("a claim was referred or it was not: keep one of the two")
            };
            self.error(d.with_related(first.span, "first here"));
        }
        Some(first.node)
    }
}
