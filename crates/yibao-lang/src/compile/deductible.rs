//! A layer's deductible: per admission or per year, the n-th admission's
//! (`deductible from_admission N`), and the referral mode it needs (`referral continuous |
//! difference` count a referred admission's deductible along the chain: per admission only).

use super::*;

impl Compiler<'_> {
    pub(super) fn deductible(
        &mut self,
        l: &LayerDecl,
        lid: &str,
        restrict: &Restrict,
    ) -> Option<ir::Deductible> {
        let find = |pred: &dyn Fn(&Clause) -> bool| l.clauses.iter().find(|c| pred(&c.node));
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
                restrict,
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
                        restrict,
                        NameScope {
                            current: Some(("deductible", Ty::Money)),
                        },
                    )
                    .map(|v| (from.node, v, self.cite(*lspan)))
                }
                _ => None,
            };
            let every = match find(&|c| matches!(c, Clause::Every { .. })) {
                Some(Spanned {
                    node: Clause::Every { value, prov },
                    span: espan,
                }) => {
                    if *per == DeductiblePerKw::Year {
                        self.error(
                            Diagnostic::error(
                                "yibao::conflict",
                                "`deductible every` needs a `per_admission` deductible",
                                *espan,
                            )
                            .with_help(
                                "a per-year deductible is paid once a year, however long the stay",
                            ),
                        );
                    }
                    let path = format!("{lid}.deductible_every");
                    let ev = self.lower_value(
                        value,
                        &path,
                        prov.as_ref(),
                        Ty::Scalar,
                        restrict,
                        NameScope { current: None },
                    );
                    // A constant, or each constant entry of a table (`by disease { tb: 180 … }`):
                    // a bad one is an error here, not at the first claim that meets it.
                    let mut figures = Vec::new();
                    if let Some(v) = &ev {
                        constants(v, &mut figures);
                    }
                    if let Some(n) = figures
                        .into_iter()
                        .find(|n| **n < Decimal::ONE || !n.fract().is_zero())
                    {
                        self.error(Diagnostic::error(
                            "yibao::out-of-range",
                            format!(
                                "a deductible period must be a whole number of days, 1 or more, found {n}"
                            ),
                            *espan,
                        ));
                    }
                    ev.map(|v| (v, self.cite(*espan)))
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
                    every,
                    cite: self.cite(*dspan),
                });
            }
        } else if let Some(lc) = find(&|c| matches!(c, Clause::Later { .. } | Clause::Every { .. }))
        {
            self.error(
                Diagnostic::error(
                    "yibao::conflict",
                    format!("`{}` without a first deductible", lc.node.key()),
                    lc.span,
                )
                .with_help("add `deductible per_admission <amount>` first"),
            );
        }
        deductible
    }

    /// `referral separate | continuous | difference`; the last two need a per-admission
    /// deductible.
    pub(super) fn referral(
        &mut self,
        l: &LayerDecl,
        deductible: &Option<ir::Deductible>,
    ) -> ir::Referral {
        let find = |pred: &dyn Fn(&Clause) -> bool| l.clauses.iter().find(|c| pred(&c.node));
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
        referral
    }
}

/// The constants of a value: itself, or its table's entries and `else:`, in order.
fn constants<'a>(v: &'a ir::Value, out: &mut Vec<&'a Decimal>) {
    match v {
        ir::Value::Const { value, .. } => out.push(value),
        ir::Value::Table {
            entries, default, ..
        } => {
            for e in entries.iter().flatten().chain(default.as_deref()) {
                constants(e, out);
            }
        }
        ir::Value::Expr(_) | ir::Value::None { .. } => {}
    }
}
