//! Fidelity: how sure each version's figures are (provenance counts, placeholders, validity).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use yibao_engine::{Date, Policy};
use yibao_policies::Registry;

/// How sure a version's figures are: counts by provenance, and the placeholders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Fidelity {
    /// `region.scheme`.
    pub id: String,
    /// The version's effective date.
    pub effective: Date,
    /// The provenance of the effective date itself.
    pub date_provenance: String,
    /// How many figures have each provenance.
    pub counts: BTreeMap<String, usize>,
    /// `(path, as written, note)` of every placeholder figure.
    pub placeholders: Vec<(String, String, Option<String>)>,
    /// The whole version's validity: `(valid_until or confirmed, date)`.
    pub known_until: Vec<(String, Date)>,
    /// Statements about some layers: `(valid_until or confirmed, date, layers)`.
    pub layers_known_until: Vec<(String, Date, Vec<String>)>,
    /// Figures beyond their known validity: for the newest version, those whose validity (stated
    /// end or last confirmation) is before [`FIDELITY_AS_OF`]; for an older one, those whose
    /// stated end came before the next version took effect.
    pub beyond_validity: usize,
}

/// The date the fidelity report counts validity against: the last review of the facts
/// (`../shared/docs/policy-facts.md` §7, 2026-11-30). Move it when the facts are reviewed again.
pub const FIDELITY_AS_OF: (i32, u8, u8) = (2026, 11, 30);

fn as_of() -> Date {
    let (y, m, d) = FIDELITY_AS_OF;
    Date::new(y, m, d).unwrap_or(Date::MIN)
}

/// The day before `d` (or `d` itself at the start of the calendar).
fn day_before(d: Date) -> Date {
    let (y, m, day) = (d.year(), d.month(), d.day());
    if day > 1 {
        return Date::new(y, m, day - 1).unwrap_or(d);
    }
    let (y, m) = if m > 1 { (y, m - 1) } else { (y - 1, 12) };
    (28..=31)
        .rev()
        .find_map(|dd| Date::new(y, m, dd))
        .unwrap_or(d)
}

/// How many of `p`'s figures are beyond their known validity at `end` (the last day the version
/// was or is applied); `newest` counts confirmations too, an older version only stated ends.
fn beyond_validity(p: &Policy, end: Date, newest: bool) -> usize {
    use yibao_engine::ir::ValidityKind;
    let counts = |v: &yibao_engine::ir::Validity| newest || v.kind == ValidityKind::ValidUntil;
    p.params
        .iter()
        .filter(|param| {
            let layer = param.path.split('.').next().unwrap_or("");
            let scoped: Vec<_> = p
                .validity
                .iter()
                .filter(|v| v.layers.iter().any(|l| &**l == layer))
                .collect();
            let applicable: Vec<_> = if scoped.is_empty() {
                p.validity.iter().filter(|v| v.layers.is_empty()).collect()
            } else {
                scoped
            };
            applicable.iter().any(|v| counts(v) && v.until < end)
        })
        .count()
}

/// The fidelity of every compiled version, ordered by policy and date.
pub fn fidelity(reg: &Registry) -> Vec<Fidelity> {
    reg.versions()
        .iter()
        .filter_map(|v| v.policy.as_ref().map(|p| (v, p)))
        .map(|(v, p)| {
            let mut counts: BTreeMap<String, usize> = yibao_engine::ir::Provenance::ALL
                .iter()
                .map(|k| (k.name().to_string(), 0))
                .collect();
            let mut placeholders = vec![];
            for param in &p.params {
                *counts
                    .entry(param.provenance.name().to_string())
                    .or_insert(0) += 1;
                if param.provenance.is_unverified() {
                    placeholders.push((param.path.clone(), param.text.clone(), param.note.clone()));
                }
            }
            let next = reg
                .versions()
                .iter()
                .filter(|w| w.id == v.id && w.effective > v.effective)
                .map(|w| w.effective)
                .min();
            let beyond = match next {
                Some(n) => beyond_validity(p, day_before(n), false),
                None => beyond_validity(p, as_of(), true),
            };
            Fidelity {
                id: v.id.clone(),
                effective: v.effective,
                date_provenance: p.effective_provenance.provenance.name().to_string(),
                counts,
                placeholders,
                known_until: p
                    .validity
                    .iter()
                    .filter(|x| x.layers.is_empty())
                    .map(|x| (x.kind.keyword().to_string(), x.until))
                    .collect(),
                layers_known_until: p
                    .validity
                    .iter()
                    .filter(|x| !x.layers.is_empty())
                    .map(|x| {
                        (
                            x.kind.keyword().to_string(),
                            x.until,
                            x.layers.iter().map(|l| l.to_string()).collect(),
                        )
                    })
                    .collect(),
                beyond_validity: beyond,
            }
        })
        .collect()
}

fn city_zh(region: &str) -> &str {
    match region {
        "beijing" => "北京",
        "tianjin" => "天津",
        "guangzhou" => "广州",
        "huzhou" => "湖州",
        "ziyang" => "资阳",
        other => other,
    }
}

/// The fidelity report as Markdown: a summary per city a citizen can read, a table of every
/// version, then the placeholders of each policy's latest version.
pub fn fidelity_markdown(reg: &Registry) -> String {
    let rows = fidelity(reg);
    let kinds = [
        "official",
        "secondary",
        "seed",
        "derived",
        "placeholder",
        "unspecified",
    ];
    let mut out = format!(
        "# Fidelity of the bundled policies\n\nGenerated by `yibao check --provenance` (a test keeps this file current). Each number in a\npolicy carries its provenance; a result that relies on a `placeholder` says so. Validity is\ncounted as of {} (the last review of the facts).\n\n",
        as_of()
    );
    let mut latest: BTreeMap<&str, &Fidelity> = BTreeMap::new();
    for r in &rows {
        latest.insert(&r.id, r);
    }
    // Per city: the versions in force now (each scheme's newest).
    out.push_str("## In short: the rules in force now, per city\n\n");
    let mut cities: BTreeMap<&str, Vec<&Fidelity>> = BTreeMap::new();
    for r in latest.values() {
        let region = r.id.split('.').next().unwrap_or(&r.id);
        if region == "fixture" {
            continue;
        }
        cities.entry(region).or_default().push(r);
    }
    for (city, rs) in &cities {
        let n = |k: &str| {
            rs.iter()
                .map(|r| r.counts.get(k).copied().unwrap_or(0))
                .sum::<usize>()
        };
        let (o, s, sd, d) = (n("official"), n("secondary"), n("seed"), n("derived"));
        let unverified = n("placeholder") + n("unspecified");
        let beyond: usize = rs.iter().map(|r| r.beyond_validity).sum();
        let known: Vec<String> = rs
            .iter()
            .map(|r| {
                let scheme = r.id.split('.').nth(1).unwrap_or("");
                let until = r
                    .known_until
                    .iter()
                    .map(|(k, d)| {
                        format!(
                            "{} {d}",
                            if k == "valid_until" {
                                "有效至"
                            } else {
                                "核实至"
                            }
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("，");
                let layers = r
                    .layers_known_until
                    .iter()
                    .map(|(k, d, ls)| {
                        format!(
                            "，其中 {} {}{d}",
                            ls.join("、"),
                            if k == "valid_until" {
                                "有效至 "
                            } else {
                                "核实至 "
                            }
                        )
                    })
                    .collect::<String>();
                format!("{scheme} {} 版{until}{layers}", r.effective)
            })
            .collect();
        out.push_str(&format!(
            "- {}：{} 个数字已核实（官方 {o}，转述 {s}，规划 {sd}，推算 {d}），{unverified} 个为占位（未核实）；{beyond} 个已超出已知有效期（{}）。\n  {city}: {} figures sourced (official {o}, secondary {s}, seed {sd}, derived {d}), {unverified} placeholders (unverified); {beyond} beyond their known validity.\n",
            city_zh(city),
            o + s + sd + d,
            known.join("；"),
            o + s + sd + d,
        ));
    }
    out.push_str("\n## Every version\n\n");
    out.push_str("| policy | version | date is | known until | ");
    out.push_str(&kinds.join(" | "));
    out.push_str(" | beyond validity |\n|---|---|---|---|");
    out.push_str(&"---:|".repeat(kinds.len() + 1));
    out.push('\n');
    for r in &rows {
        let known = r
            .known_until
            .iter()
            .map(|(k, d)| format!("{k} {d}"))
            .collect::<Vec<_>>()
            .join(", ");
        out.push_str(&format!(
            "| {} | {} | {} | {} |",
            r.id,
            r.effective,
            r.date_provenance,
            {
                let mut k = known;
                for (kind, d, ls) in &r.layers_known_until {
                    if !k.is_empty() {
                        k.push_str("; ");
                    }
                    k.push_str(&format!("{kind} {d} ({})", ls.join(", ")));
                }
                if k.is_empty() {
                    "—".to_string()
                } else {
                    k
                }
            }
        ));
        for k in kinds {
            out.push_str(&format!(" {} |", r.counts.get(k).copied().unwrap_or(0)));
        }
        out.push_str(&format!(" {} |\n", r.beyond_validity));
    }
    out.push_str("\n## Placeholders in each policy's latest version\n");
    for (id, r) in latest {
        out.push_str(&format!("\n### {id} ({})\n\n", r.effective));
        if r.placeholders.is_empty() {
            out.push_str("none\n");
        }
        for (path, text, note) in &r.placeholders {
            let note = note
                .as_deref()
                .map(|n| format!(" — {n}"))
                .unwrap_or_default();
            out.push_str(&format!("- `{path}` = `{text}`{note}\n"));
        }
    }
    out
}
