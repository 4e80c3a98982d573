//! `base`: what a layer pays from — the policy-scope amount, or what earlier layers left
//! (`remaining [components] after <layer>`), checked to build on an earlier layer.

use super::*;

impl Compiler<'_> {
    pub(super) fn base(
        &mut self,
        l: &LayerDecl,
        lid: &str,
        earlier: &[&str],
        later: &[&str],
    ) -> ir::Base {
        let find = |pred: &dyn Fn(&Clause) -> bool| l.clauses.iter().find(|c| pred(&c.node));
        match find(&|c| matches!(c, Clause::Base(_))) {
            Some(Spanned {
                node: Clause::Base(b),
                ..
            }) => match b {
                // A care layer's costs are lowered by `care_rule` (compile/care.rs).
                BaseSpec::InScope | BaseSpec::Cost(_) => ir::Base::InScope,
                BaseSpec::Remaining {
                    components,
                    after,
                    special_drugs,
                } => {
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
                    if let Some(sp) = special_drugs {
                        if comps.contains(&ir::Component::OutOfList) {
                            self.error(
                                Diagnostic::error(
                                    "yibao::conflict",
                                    "`plus special_drugs` with `out_of_list` counts the special drugs twice",
                                    sp.span,
                                )
                                .with_help("the special drugs are a part of `out_of_list`: name one or the other"),
                            );
                        }
                    }
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
        }
    }
}
