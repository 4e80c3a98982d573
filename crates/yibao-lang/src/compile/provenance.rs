//! Provenance: every figure becomes a named parameter (its path, provenance, source, cite and
//! any override); a cited source must be declared; a figure without provenance is warned; a date
//! keeps the provenance written beside it.

use super::*;

impl Compiler<'_> {
    pub(super) fn check_source(&mut self, p: &Prov) {
        if let Some(s) = &p.source {
            if !self.sources.contains_key(&s.node) {
                let names: Vec<String> = self.sources.keys().cloned().collect();
                let help = did_you_mean(&s.node, names.iter().map(String::as_str))
                    .unwrap_or_else(|| "declare it with `source <id> \"title\"`".into());
                self.error(
                    Diagnostic::error(
                        "yibao::unknown-source",
                        format!("unknown source `{}`", s.node),
                        s.span,
                    )
                    .with_label("no `source` declares this id")
                    .with_help(help),
                );
            }
        }
    }

    pub(super) fn new_param(
        &mut self,
        path: String,
        n: &Spanned<Number>,
        inherited: Option<&Prov>,
    ) -> ParamId {
        let prov = n.node.prov.as_ref().or(inherited);
        let (provenance, source, note) = match prov {
            Some(p) => {
                if p.source.is_some() {
                    self.check_source(p);
                } else if matches!(
                    p.kind,
                    Provenance::Official | Provenance::Secondary | Provenance::Seed
                ) {
                    self.error(
                        Diagnostic::warning(
                            "yibao::provenance",
                            format!("`{}` figure without a source id", p.kind.name()),
                            p.span.0,
                        )
                        .with_help(format!("write `[{} <source-id>]`", p.kind.name())),
                    );
                }
                (
                    p.kind,
                    p.source.as_ref().map(|s| s.node.clone()),
                    p.note.clone(),
                )
            }
            None => {
                self.error(
                    Diagnostic::warning("yibao::provenance", format!("number `{}` has no provenance", n.node.text), n.span)
                        .with_label("where does this come from?")
                        .with_help("add `[official <source>]`, `[secondary <source>]`, `[seed <source>]`, `[derived \"…\"]` or `[placeholder]`"),
                );
                (Provenance::Unspecified, None, None)
            }
        };
        let id = ParamId::try_from(self.params.len()).unwrap_or(ParamId::MAX);
        let overridden = self.overrides.values.get(&path).copied();
        self.params.push(ir::ParamInfo {
            path,
            text: n.node.text.clone(),
            value: overridden.unwrap_or(n.node.value),
            provenance,
            source,
            note,
            cite: self.cite(n.span),
            overridden: overridden.map(|_| n.node.value),
        });
        id
    }
}

/// A date's provenance as written (or `Unspecified`).
pub(super) fn date_provenance(p: Option<&Prov>) -> ir::DateProvenance {
    match p {
        Some(p) => ir::DateProvenance {
            provenance: p.kind,
            source: p.source.as_ref().map(|s| s.node.clone()),
            note: p.note.clone(),
        },
        None => ir::DateProvenance {
            provenance: ir::Provenance::Unspecified,
            source: None,
            note: None,
        },
    }
}
