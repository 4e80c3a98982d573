//! Layers: each declared once, in order, none building on a later one; one clause of each kind
//! per layer; a layer's kind, `when`, `measure` and `field`. The clauses with rules of their own
//! are lowered in their files (base, deductible, rates, per_case, caps, modifiers, care), in the
//! order below, which is the order of their diagnostics.

use super::*;

impl Compiler<'_> {
    /// Every layer, in order, and the year-cap pools they name.
    pub(super) fn layers(
        &mut self,
        file: &PolicyFile,
        has_cases: bool,
        case_decl_span: Option<Span>,
    ) -> (Vec<ir::Layer>, Vec<String>) {
        let id = &file.header.id;
        let layer_decls: Vec<(&LayerDecl, Span)> = file
            .items
            .iter()
            .filter_map(|it| match &it.node {
                Item::Layer(l) => Some((l, it.span)),
                _ => None,
            })
            .collect();
        for it in &file.items {
            match &it.node {
                Item::Amend { id, .. } | Item::Remove(id) => {
                    self.error(
                        Diagnostic::error(
                            "yibao::unresolved-extends",
                            format!("`{}` needs a parent version (`extends`)", id.node),
                            it.span,
                        )
                        .with_help(
                            "`amend` and `remove` change a layer of the version named by `extends`",
                        ),
                    );
                }
                _ => {}
            }
        }
        let mut layers = vec![];
        let mut pools: Vec<String> = vec![];
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for (i, (l, span)) in layer_decls.iter().enumerate() {
            if let Some(prev) = seen.get(l.id.node.as_str()) {
                self.error(
                    Diagnostic::error(
                        "yibao::duplicate",
                        format!("layer `{}` is declared twice", l.id.node),
                        l.id.span,
                    )
                    .with_related(*prev, "first declared here"),
                );
                continue;
            }
            seen.insert(&l.id.node, l.id.span);
            let earlier: Vec<&str> = layer_decls[..i]
                .iter()
                .map(|(x, _)| x.id.node.as_str())
                .collect();
            let later: Vec<&str> = layer_decls[i + 1..]
                .iter()
                .map(|(x, _)| x.id.node.as_str())
                .collect();
            if let Some(layer) = self.layer(
                l,
                *span,
                &earlier,
                &later,
                &mut pools,
                has_cases,
                case_decl_span,
            ) {
                layers.push(layer);
            }
        }
        self.check_care_mix(&layer_decls);
        if layers.is_empty() && !layer_decls.is_empty() {
            // errors already reported
        } else if layer_decls.is_empty() {
            self.error(
                Diagnostic::error(
                    "yibao::no-layers",
                    format!("policy `{}` has no layers", id.node),
                    id.span,
                )
                .with_help("add `layer basic \"统筹基金\" { … }`"),
            );
        }
        if layers
            .iter()
            .all(|l: &ir::Layer| l.base != ir::Base::InScope)
            && !layers.is_empty()
        {
            self.error(
                Diagnostic::warning("yibao::no-in-scope-layer", "no layer takes the policy-scope amount (`base in_scope`)", id.span)
                    .with_help("the basic fund usually has `base in_scope`; without it every policy-scope cost is `not_covered`"),
            );
        }
        (layers, pools)
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn layer(
        &mut self,
        l: &LayerDecl,
        span: Span,
        earlier: &[&str],
        later: &[&str],
        pools: &mut Vec<String>,
        has_cases: bool,
        case_decl: Option<Span>,
    ) -> Option<ir::Layer> {
        let lid = l.id.node.clone();
        let kind_name = l
            .kind
            .as_ref()
            .map(|k| k.node.as_str())
            .unwrap_or(lid.as_str());
        let kind = ir::LayerKind::ALL
            .into_iter()
            .find(|k| k.name() == kind_name);
        if kind.is_none() {
            let span = l.kind.as_ref().map(|k| k.span).unwrap_or(l.id.span);
            let names = ir::LayerKind::ALL.map(|k| k.name());
            let help = did_you_mean(kind_name, names).unwrap_or_else(|| {
                format!(
                    "a layer's kind is one of: {}; write `kind <kind>` after the labels",
                    names.join(", ")
                )
            });
            self.error(
                Diagnostic::error(
                    "yibao::unknown-layer-kind",
                    format!("unknown layer kind `{kind_name}`"),
                    span,
                )
                .with_label("not a kind of fund the national list allows")
                .with_help(help),
            );
        }

        // One clause per key.
        let mut keys: HashMap<String, Span> = HashMap::new();
        for c in &l.clauses {
            let k = c.node.key();
            if let Some(prev) = keys.get(&k) {
                let what = if k == "rates" {
                    "`ratio` or `bands`".to_string()
                } else {
                    format!("`{k}`")
                };
                self.error(
                    Diagnostic::error(
                        "yibao::duplicate",
                        format!("layer `{lid}` has {what} twice"),
                        c.span,
                    )
                    .with_label("second clause")
                    .with_related(*prev, "first here"),
                );
            } else {
                keys.insert(k, c.span);
            }
        }
        let find = |pred: &dyn Fn(&Clause) -> bool| l.clauses.iter().find(|c| pred(&c.node));

        let when_conds: Vec<Cond> = match find(&|c| matches!(c, Clause::When(_))) {
            Some(Spanned {
                node: Clause::When(c),
                ..
            }) => c.clone(),
            _ => vec![],
        };
        let when = self.selector(&when_conds);
        let restrict = Restrict::from_conds(&when_conds);

        let base = self.base(l, &lid, earlier, later);
        let plus_special_drugs = l.clauses.iter().any(|c| {
            matches!(
                &c.node,
                Clause::Base(BaseSpec::Remaining {
                    special_drugs: Some(_),
                    ..
                })
            )
        });
        let measure = match find(&|c| matches!(c, Clause::Measure(_))) {
            Some(Spanned {
                node: Clause::Measure(m),
                ..
            }) => match m {
                MeasureKw::Year => ir::Measure::Year,
                MeasureKw::YearCovered => ir::Measure::YearCovered,
                MeasureKw::Claim => ir::Measure::Claim,
            },
            _ => ir::Measure::Claim,
        };
        let deductible = self.deductible(l, &lid, &restrict);
        let referral = self.referral(l, &deductible);
        let bands = self.rates(l, &lid, &restrict);
        let per_case = self.per_case(l, &lid, &restrict, has_cases, &bands);
        let _ = case_decl;
        let caps = self.caps(l, &lid, &restrict, pools);
        let modifiers = self.modifiers(l, &lid, &deductible, &caps);

        let platform_field = match find(&|c| matches!(c, Clause::Field(_))) {
            Some(Spanned {
                node: Clause::Field(f),
                ..
            }) => {
                if !Platform::FUND_FIELDS.contains(&f.node.as_str()) {
                    let help = did_you_mean(&f.node, Platform::FUND_FIELDS).unwrap_or_else(|| {
                        format!("fund fields: {}", Platform::FUND_FIELDS.join(", "))
                    });
                    self.error(
                        Diagnostic::error(
                            "yibao::unknown-name",
                            format!("unknown national platform fund field `{}`", f.node),
                            f.span,
                        )
                        .with_help(help),
                    );
                }
                f.node.clone()
            }
            _ => kind
                .map(|k| k.default_platform_field())
                .unwrap_or("oth_pay")
                .to_string(),
        };

        let ratio_may_be_unknown = bands
            .as_ref()
            .is_some_and(|b: &ir::Bands| b.bands.iter().any(|x| x.ratio.may_be_unknown()));
        let care = self.care_rule(l, &lid, &restrict);
        Some(ir::Layer {
            care,
            ratio_may_be_unknown,
            id: lid.into(),
            kind: kind?,
            label: l.label.as_str().into(),
            label_en: l.label_en.as_deref().map(Into::into),
            platform_field: platform_field.into(),
            when,
            base,
            plus_special_drugs,
            measure,
            deductible,
            bands,
            caps,
            modifiers,
            per_case,
            referral,
            cite: self.cite(Span {
                end: l.id.span.end,
                ..span
            }),
        })
    }
}
