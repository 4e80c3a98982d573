//! The claim dimensions a policy declares (groups, categories, care, levels, places, diseases),
//! `when`/`for` conditions resolved to indices, and which values can reach a layer.

use super::*;

pub(super) fn dim_values(d: &ir::Dims, dim: Dim) -> &[ir::DimValue] {
    d.get(dim)
}

impl Compiler<'_> {
    pub(super) fn declare_dims(&mut self, file: &PolicyFile) {
        let mut declared: HashMap<DimKw, Span> = HashMap::new();
        for it in &file.items {
            let Item::Dims(d) = &it.node else { continue };
            if let Some(prev) = declared.get(&d.kw.node) {
                let prev = *prev;
                self.error(
                    Diagnostic::error(
                        "yibao::duplicate",
                        format!("`{}` is declared twice", d.kw.node.keyword()),
                        d.kw.span,
                    )
                    .with_related(prev, "first declared here"),
                );
                continue;
            }
            declared.insert(d.kw.node, d.kw.span);
            let dim = d.kw.node.dim();
            let mut values: Vec<ir::DimValue> = vec![];
            for e in &d.entries {
                let key = &e.node.key.node;
                if values.iter().any(|v| *v.id == **key) {
                    self.error(Diagnostic::error(
                        "yibao::duplicate",
                        format!("`{key}` is listed twice"),
                        e.node.key.span,
                    ));
                    continue;
                }
                let known = vocab::lookup(dim, key);
                let (zh, en) = match (&e.node.zh, known) {
                    (Some(zh), _) => (
                        zh.clone(),
                        e.node
                            .en
                            .clone()
                            .or(known.map(|k| k.1.to_string()))
                            .unwrap_or_else(|| key.clone()),
                    ),
                    (None, Some((zh, en))) => (zh.to_string(), en.to_string()),
                    (None, None) => {
                        let names = vocab::known(dim).iter().map(|k| k.0);
                        self.error(
                            Diagnostic::error(
                                "yibao::unknown-name",
                                format!("unknown {} `{key}`", dim.name()),
                                e.node.key.span,
                            )
                            .with_label("not in the national vocabulary")
                            .with_help(
                                did_you_mean(key, names).unwrap_or_else(|| {
                                    format!(
                                    "declare it with labels: `{} {{ {key} \"中文\" \"English\" }}`",
                                    d.kw.node.keyword()
                                )
                                }),
                            ),
                        );
                        continue;
                    }
                };
                values.push(ir::DimValue {
                    id: key.as_str().into(),
                    zh,
                    en,
                });
            }
            if values.len() > 64 {
                self.error(Diagnostic::error(
                    "yibao::too-many",
                    format!("`{}` declares more than 64 values", d.kw.node.keyword()),
                    d.kw.span,
                ));
                values.truncate(64);
            }
            *self.dims_mut(dim) = values;
        }
        for dim in Dim::ALL {
            if !declared.keys().any(|k| k.dim() == dim) {
                let defaults = vocab::defaults(dim);
                *self.dims_mut(dim) = defaults
                    .iter()
                    .filter_map(|k| {
                        vocab::lookup(dim, k).map(|(zh, en)| ir::DimValue {
                            id: (*k).into(),
                            zh: zh.into(),
                            en: en.into(),
                        })
                    })
                    .collect();
            }
        }
        if self.dims.care.is_empty() {
            self.error(
                Diagnostic::error(
                    "yibao::missing-care",
                    format!("policy `{}` declares no care types", file.header.id.node),
                    file.header.id.span,
                )
                .with_help("add e.g. `care [inpatient, outpatient_special]`"),
            );
        }
    }

    fn dims_mut(&mut self, dim: Dim) -> &mut Vec<ir::DimValue> {
        match dim {
            Dim::Group => &mut self.dims.groups,
            Dim::Category => &mut self.dims.categories,
            Dim::Care => &mut self.dims.care,
            Dim::Level => &mut self.dims.levels,
            Dim::Place => &mut self.dims.places,
            Dim::Disease => &mut self.dims.diseases,
        }
    }

    /// Resolves condition keys to indices, reporting unknown ones.
    pub(super) fn selector(&mut self, conds: &[Cond]) -> ir::Selector {
        let mut s = ir::Selector::default();
        for c in conds {
            let mut idx = vec![];
            for k in &c.keys {
                match dim_values(&self.dims, c.dim.node)
                    .iter()
                    .position(|v| *v.id == *k.node)
                {
                    Some(i) => idx.push(u16::try_from(i).unwrap_or(u16::MAX)),
                    None => self.unknown_key(c.dim.node, k),
                }
            }
            let slot = match c.dim.node {
                Dim::Group => &mut s.groups,
                Dim::Category => &mut s.categories,
                Dim::Care => &mut s.care,
                Dim::Level => &mut s.levels,
                Dim::Place => &mut s.places,
                Dim::Disease => &mut s.diseases,
            };
            if !slot.is_empty() {
                self.error(
                    Diagnostic::error(
                        "yibao::duplicate",
                        format!("`{}` is restricted twice", c.dim.node.name()),
                        c.dim.span,
                    )
                    .with_help("list all values in one condition"),
                );
            }
            *slot = idx;
        }
        s
    }

    pub(super) fn unknown_key(&mut self, dim: Dim, k: &Spanned<String>) {
        let values: Vec<String> = dim_values(&self.dims, dim)
            .iter()
            .map(|v| v.id.to_string())
            .collect();
        let help = did_you_mean(&k.node, values.iter().map(String::as_str)).unwrap_or_else(|| {
            if values.is_empty() {
                format!("this policy declares no {} values", dim.name())
            } else {
                format!("this policy declares: {}", values.join(", "))
            }
        });
        self.error(
            Diagnostic::error(
                "yibao::unknown-name",
                format!("unknown {} `{}`", dim.name(), k.node),
                k.span,
            )
            .with_label(format!("not a declared {}", dim.name()))
            .with_help(help),
        );
    }
}

/// Which values of each dimension can reach a layer (from its `when`), so a table need only
/// cover those.
pub(super) struct Restrict {
    only: BTreeMap<&'static str, HashSet<String>>,
}

impl Restrict {
    pub(super) fn none() -> Restrict {
        Restrict {
            only: BTreeMap::new(),
        }
    }
    pub(super) fn from_conds(conds: &[Cond]) -> Restrict {
        let mut only = BTreeMap::new();
        for c in conds {
            only.insert(
                c.dim.node.name(),
                c.keys.iter().map(|k| k.node.clone()).collect(),
            );
        }
        Restrict { only }
    }
    pub(super) fn allows(&self, dim: Dim, v: &str) -> bool {
        self.only.get(dim.name()).is_none_or(|s| s.contains(v))
    }
}
