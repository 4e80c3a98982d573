//! `extends`: a version states only what changed; merging applies it onto its parent.
//!
//! Statements replace their namesakes (`effective`, a `source` or `indicator` of the same id, a
//! dimension declaration, `cases`); `layer` adds a new layer at the end; `amend layer x { … }`
//! replaces clauses of `x` by kind (and adds new kinds); `remove layer x` drops it. Amending or
//! removing a layer the parent does not have is an error.

use crate::ast::*;
use crate::diag::{did_you_mean, Diagnostic};

/// Applies `child` onto `parent` (itself already merged). The result has the child's header.
pub fn merge(parent: &PolicyFile, child: &PolicyFile) -> Result<PolicyFile, Vec<Diagnostic>> {
    let mut items: Vec<Spanned<Item>> = parent
        .items
        .iter()
        // The version's own date and validity are the child's; statements about named layers
        // carry over with the layers.
        .filter(|i| {
            !matches!(&i.node, Item::Effective(..) | Item::Extends { .. })
                && !matches!(&i.node, Item::Validity(v) if v.layers.is_none())
        })
        .cloned()
        .collect();
    let mut errors = vec![];
    if child.header.id.node != parent.header.id.node {
        errors.push(
            Diagnostic::error(
                "yibao::extends-mismatch",
                format!(
                    "`{}` cannot extend a version of `{}`",
                    child.header.id.node, parent.header.id.node
                ),
                child.header.id.span,
            )
            .with_help("a version extends an earlier version of the same policy"),
        );
    }
    let layer_ids = |items: &[Spanned<Item>]| -> Vec<String> {
        items
            .iter()
            .filter_map(|i| match &i.node {
                Item::Layer(l) => Some(l.id.node.clone()),
                _ => None,
            })
            .collect()
    };
    for it in &child.items {
        match &it.node {
            Item::Extends { .. } => {}
            Item::Effective(..) => items.insert(0, it.clone()),
            Item::Validity(v) => {
                let pos = items
                    .iter()
                    .position(|x| !matches!(x.node, Item::Effective(..) | Item::Validity(_)))
                    .unwrap_or(items.len());
                match items
                    .iter_mut()
                    .find(|x| matches!(&x.node, Item::Validity(p) if p.same_scope(v)))
                {
                    Some(slot) => *slot = it.clone(),
                    None => items.insert(pos, it.clone()),
                }
            }
            Item::Source(s) => replace_or_push(
                &mut items,
                it,
                |x| matches!(x, Item::Source(p) if p.id.node == s.id.node),
            ),
            Item::Indicator { name, .. } => replace_or_push(
                &mut items,
                it,
                |x| matches!(x, Item::Indicator { name: n, .. } if n.node == name.node),
            ),
            Item::Dims(d) => replace_or_push(
                &mut items,
                it,
                |x| matches!(x, Item::Dims(p) if p.kw.node == d.kw.node),
            ),
            Item::Cases(_) => replace_or_push(&mut items, it, |x| matches!(x, Item::Cases(_))),
            Item::Layer(l) => {
                if layer_ids(&items).contains(&l.id.node) {
                    errors.push(
                        Diagnostic::error(
                            "yibao::duplicate",
                            format!(
                                "layer `{}` already exists in the version this one extends",
                                l.id.node
                            ),
                            l.id.span,
                        )
                        .with_help(format!(
                            "change it with `amend layer {} {{ … }}`",
                            l.id.node
                        )),
                    );
                } else {
                    items.push(it.clone());
                }
            }
            Item::Amend { id, clauses } => {
                let target = items.iter_mut().find_map(|x| match &mut x.node {
                    Item::Layer(l) if l.id.node == id.node => Some(l),
                    _ => None,
                });
                match target {
                    Some(layer) => {
                        for c in clauses {
                            let key = c.node.key();
                            match layer.clauses.iter_mut().find(|x| x.node.key() == key) {
                                Some(slot) => *slot = c.clone(),
                                None => layer.clauses.push(c.clone()),
                            }
                        }
                    }
                    None => errors.push(missing_layer(id, &layer_ids(&items), "amend")),
                }
            }
            Item::Remove(id) => {
                let before = items.len();
                items.retain(|x| !matches!(&x.node, Item::Layer(l) if l.id.node == id.node));
                if items.len() == before {
                    errors.push(missing_layer(id, &layer_ids(&items), "remove"));
                }
                // A removed layer leaves the validity statements about it.
                for x in items.iter_mut() {
                    if let Item::Validity(ValidityDecl {
                        layers: Some(ls), ..
                    }) = &mut x.node
                    {
                        ls.retain(|l| l.node != id.node);
                    }
                }
                items.retain(|x| {
                    !matches!(&x.node, Item::Validity(ValidityDecl { layers: Some(ls), .. }) if ls.is_empty())
                });
            }
        }
    }
    if errors.is_empty() {
        Ok(PolicyFile {
            header: child.header.clone(),
            items,
        })
    } else {
        Err(errors)
    }
}

fn replace_or_push(
    items: &mut Vec<Spanned<Item>>,
    it: &Spanned<Item>,
    same: impl Fn(&Item) -> bool,
) {
    match items.iter_mut().find(|x| same(&x.node)) {
        Some(slot) => *slot = it.clone(),
        None => items.push(it.clone()),
    }
}

fn missing_layer(id: &Spanned<String>, existing: &[String], verb: &str) -> Diagnostic {
    let help = did_you_mean(&id.node, existing.iter().map(String::as_str)).unwrap_or_else(|| {
        format!(
            "the parent version has: {}",
            if existing.is_empty() {
                "no layers".into()
            } else {
                existing.join(", ")
            }
        )
    });
    Diagnostic::error(
        "yibao::extends-missing",
        format!(
            "cannot {verb} layer `{}`: the version this one extends has no such layer",
            id.node
        ),
        id.span,
    )
    .with_label("not in the parent version")
    .with_help(help)
}
