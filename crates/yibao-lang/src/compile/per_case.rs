//! 按病种: the `cases { … }` list of case codes and standard fees, and a layer's
//! `per_case share V`.

use super::*;

impl Compiler<'_> {
    /// The `cases` list, and the span of the (last) declaration.
    pub(super) fn cases(&mut self, file: &PolicyFile) -> (Vec<ir::Case>, Option<Span>) {
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
        (cases, case_decl_span)
    }

    /// A layer's `per_case` clause (or the warning that a layer without rates pays nothing).
    pub(super) fn per_case(
        &mut self,
        l: &LayerDecl,
        lid: &str,
        restrict: &Restrict,
        has_cases: bool,
        bands: &Option<ir::Bands>,
    ) -> Option<ir::PerCase> {
        let find = |pred: &dyn Fn(&Clause) -> bool| l.clauses.iter().find(|c| pred(&c.node));
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
                restrict,
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
        per_case
    }
}
