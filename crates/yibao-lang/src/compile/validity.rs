//! Validity (`valid_until` / `confirmed`, optionally `layers [..]`): how long a version's
//! figures are known to hold.

use super::*;

impl Compiler<'_> {
    /// The version's validity statements: at most one of each kind for the whole version, one
    /// of which every version needs; layer-scoped ones name existing layers; a stated end is not
    /// before the version takes effect.
    pub(super) fn validity(
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
}
