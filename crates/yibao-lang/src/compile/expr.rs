//! Expressions: names (indicators, and `ratio`/`deductible`/`cap` inside a `for` block),
//! arithmetic with unit inference, `min`/`max`, and folding to constants.

use super::*;

impl Compiler<'_> {
    pub(super) fn lower_expr(
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

/// Folds an expression without `current` to a constant, with the parameters it used.
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
