//! The version's header: its one effective date (an `extends` left unresolved is an error here),
//! and the sources its figures cite.

use super::*;

impl Compiler<'_> {
    /// The effective date, exactly one, with its provenance.
    pub(super) fn effective<'f>(
        &mut self,
        file: &'f PolicyFile,
    ) -> (Option<&'f Spanned<yibao_engine::Date>>, Option<&'f Prov>) {
        let id = &file.header.id;
        // Effective date: exactly one.
        let mut effective: Option<&Spanned<yibao_engine::Date>> = None;
        let mut effective_prov: Option<&Prov> = None;
        for it in &file.items {
            match &it.node {
                Item::Effective(d, prov) => {
                    if effective.is_none() {
                        effective_prov = prov.as_ref();
                    }
                    if let Some(first) = effective {
                        self.error(
                            Diagnostic::error(
                                "yibao::duplicate",
                                "`effective` is given twice",
                                d.span,
                            )
                            .with_label("second date")
                            .with_related(first.span, "first given here"),
                        );
                    } else {
                        effective = Some(d);
                    }
                }
                Item::Extends { id: pid, .. } => {
                    self.error(
                        Diagnostic::error("yibao::unresolved-extends", format!("`extends {}` was not resolved", pid.node), it.span)
                            .with_help("check the policy inside its policies/ tree (`yibao check policies/`), where the parent version can be found"),
                    );
                }
                _ => {}
            }
        }
        if effective.is_none() {
            self.error(
                Diagnostic::error(
                    "yibao::missing-effective",
                    format!("policy `{}` has no effective date", id.node),
                    id.span,
                )
                .with_help("add `effective YYYY-MM-DD` after the `policy` line"),
            );
        }
        (effective, effective_prov)
    }

    /// The `source` declarations, each id once.
    pub(super) fn sources(&mut self, file: &PolicyFile) -> Vec<ir::Source> {
        let mut sources = vec![];
        for it in &file.items {
            if let Item::Source(s) = &it.node {
                if let Some(prev) = self.sources.get(&s.id.node) {
                    let prev = *prev;
                    self.error(
                        Diagnostic::error(
                            "yibao::duplicate",
                            format!("source `{}` is declared twice", s.id.node),
                            s.id.span,
                        )
                        .with_related(prev, "first declared here"),
                    );
                    continue;
                }
                self.sources.insert(s.id.node.clone(), s.id.span);
                sources.push(ir::Source {
                    id: s.id.node.clone(),
                    title: s.title.clone(),
                    url: s.url.clone(),
                });
            }
        }
        sources
    }
}
