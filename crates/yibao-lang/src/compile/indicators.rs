//! `indicator <name> = <value>`: published indicators (an average wage, an income) that formulas
//! use, folded to constants in order, each may use the ones before it.

use super::*;

impl Compiler<'_> {
    /// Indicators, in order; each may use the ones before it.
    pub(super) fn indicators(&mut self, file: &PolicyFile) {
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
    }
}
