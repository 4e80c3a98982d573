//! Step one: text → syntax tree. The only module that touches pest.

use pest::iterators::Pair;
use pest::Parser as _;
use rust_decimal::Decimal;
use yibao_engine::ir::{CareFact, CmpOp, Component, CostKind, Dim, LimitPer, Provenance};
use yibao_engine::Date;

use crate::ast::*;
use crate::diag::Diagnostic;
use crate::source::Span;

#[derive(pest_derive::Parser)]
#[grammar = "../../grammar/policy.pest"]
struct PolicyParser;

/// The largest policy text accepted (1 MiB); real policies are a few KiB.
pub const MAX_SOURCE_LEN: usize = 1 << 20;
/// How deeply brackets may nest. Real policies nest three or four levels.
pub const MAX_NESTING: usize = 48;

/// Parses one policy file. `file` is the span's file id in the caller's [`SourceMap`].
///
/// [`SourceMap`]: crate::source::SourceMap
pub fn parse(file: u32, text: &str) -> Result<PolicyFile, Vec<Diagnostic>> {
    if text.len() > MAX_SOURCE_LEN {
        return Err(vec![Diagnostic::error(
            "yibao::too-large",
            format!(
                "policy text is {} bytes; the limit is {MAX_SOURCE_LEN}",
                text.len()
            ),
            Span::new(file, 0, 0),
        )]);
    }
    if let Some(at) = too_deep(text) {
        return Err(vec![Diagnostic::error(
            "yibao::too-deep",
            format!("brackets nest more than {MAX_NESTING} levels deep"),
            Span::new(file, at, at + 1),
        )
        .with_label("too deep here")]);
    }
    // Bound the parser's work on adversarial input, whatever its shape.
    pest::set_call_limit(std::num::NonZeroUsize::new(5_000_000));
    let mut pairs = match PolicyParser::parse(Rule::file, text) {
        Ok(p) => p,
        Err(e) => return Err(vec![pest_error(file, text, e)]),
    };
    let Some(root) = pairs.next() else {
        return Err(vec![Diagnostic::error(
            "yibao::syntax",
            "empty policy",
            Span::new(file, 0, 0),
        )]);
    };
    let mut b = Builder {
        file,
        text,
        errors: vec![],
    };
    let ast = b.file(root);
    match ast {
        Some(ast) if b.errors.is_empty() => Ok(ast),
        _ => {
            if b.errors.is_empty() {
                b.errors.push(Diagnostic::error(
                    "yibao::internal",
                    "internal error: the parser lost its way; please file an issue",
                    Span::new(file, 0, 0),
                ));
            }
            Err(b.errors)
        }
    }
}

/// The offset of the first bracket nested deeper than [`MAX_NESTING`], outside strings and comments.
fn too_deep(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_str = false;
    let mut in_comment = false;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if in_comment {
            in_comment = c != '\n';
            continue;
        }
        if in_str {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' || c == '\n' {
                in_str = false;
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '#' => in_comment = true,
            '(' | '[' | '{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(i);
                }
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

fn rule_name(r: &Rule) -> String {
    match r {
        Rule::EOI => "end of file".into(),
        Rule::header => "`policy <region>.<scheme> \"name\"`".into(),
        Rule::policy_id => "a policy id like `tianjin.resident`".into(),
        Rule::string => "a quoted string".into(),
        Rule::ident | Rule::name => "a name".into(),
        Rule::key => "a key".into(),
        Rule::date => "a date (YYYY-MM-DD)".into(),
        Rule::number => "a number".into(),
        Rule::integer => "a whole number".into(),
        Rule::value | Rule::expr | Rule::term | Rule::factor => "a value".into(),
        Rule::table => "`by <dimension> { … }`".into(),
        Rule::prov => "a provenance like `[official TJ-a]`".into(),
        Rule::prov_kind => "one of `official`, `secondary`, `seed`, `derived`, `placeholder`".into(),
        Rule::source_id => "a source id".into(),
        Rule::dim_name => "a dimension (`group`, `category`, `care`, `level`, `place`, `disease`)".into(),
        Rule::dim_kw => "a declaration (`groups`, `categories`, `care`, `levels`, `places`, `diseases`)".into(),
        Rule::key_list => "a list like `[a, b]`".into(),
        Rule::referred | Rule::not_kw | Rule::referred_kw => "`referred`/`not referred`".into(),
        Rule::component => "a bill component (`deductible`, `co_pay`, `above_cap`, …)".into(),
        Rule::component_list => "a list of bill components".into(),
        Rule::when_c | Rule::base_c | Rule::measure_c | Rule::deductible_c | Rule::later_c | Rule::referral_c
        | Rule::ratio_c | Rule::bands_c | Rule::cap_c | Rule::for_c | Rule::per_case_c | Rule::field_c
        | Rule::limit_c | Rule::require_c => {
            "a clause (`when`, `base`, `measure`, `deductible`, `referral`, `ratio`, `bands`, `cap`, `for`, `per_case`, `field`, `limit`, `require`)".into()
        }
        Rule::base_cost | Rule::cost_kind => "a list of care cost kinds (`personal_care`, `nursing`, `supplies`, `equipment`, `assessment`, `family_care`)".into(),
        Rule::limit_per => "`per_day` or `per_month`".into(),
        Rule::care_fact => "a fact of the month of care (`days`, `visits`, `hours`, `age`, `months_used`)".into(),
        Rule::cmp_op => "a comparison (`>=`, `>`, `<=`, `<`)".into(),
        Rule::validity_kw => "`valid_until` or `confirmed`".into(),
        Rule::layer_scope => "`layers [a, b]`".into(),
        Rule::effective | Rule::validity | Rule::extends | Rule::source | Rule::indicator | Rule::dims_decl | Rule::cases_decl
        | Rule::layer | Rule::amend | Rule::remove => {
            "a statement (`effective`, `valid_until`, `confirmed`, `extends`, `source`, `indicator`, `layer`, `amend`, `remove`, `cases`, or a dimension declaration)".into()
        }
        Rule::band | Rule::band_to | Rule::band_above => "a band (`to <edge>: <ratio>` or `above: <ratio>`)".into(),
        Rule::mod_op | Rule::mod_target | Rule::no_cap => "a modification (`deductible × 50%`, `ratio + 5%`, `no cap`)".into(),
        Rule::mod_operator => "one of `=`, `×`, `+`, `-`".into(),
        Rule::table_entry => "a table entry `<key>: <value>`".into(),
        Rule::deductible_per => "`per_admission` or `per_year`".into(),
        Rule::measure_kind => "`claim` or `year`".into(),
        Rule::referral_kind => "`continuous` or `separate`".into(),
        Rule::add_op | Rule::mul_op => "an operator".into(),
        other => format!("`{other:?}`"),
    }
}

fn pest_error(file: u32, text: &str, e: pest::error::Error<Rule>) -> Diagnostic {
    let (start, end) = match e.location {
        pest::error::InputLocation::Pos(p) => (p, p),
        pest::error::InputLocation::Span((a, b)) => (a, b),
    };
    // Underline the offending token (up to the next space), or one character at the end.
    let tail = text.get(start..).unwrap_or("");
    let tok_len = tail
        .char_indices()
        .find(|(_, c)| c.is_whitespace())
        .map(|(i, _)| i)
        .unwrap_or(tail.len());
    let end = if end > start {
        end
    } else {
        start + tok_len.clamp(0, 40)
    };
    let end = if end == start {
        start + tail.chars().next().map(char::len_utf8).unwrap_or(0)
    } else {
        end
    };
    let found = text
        .get(start..end)
        .filter(|s| !s.is_empty())
        .map(|s| format!("`{s}`"))
        .unwrap_or_else(|| "end of file".into());
    let (message, label) = match &e.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => {
            let mut names: Vec<String> = positives.iter().map(rule_name).collect();
            names.sort();
            names.dedup();
            let expected = match names.len() {
                0 => "something else".to_string(),
                1 => names.remove(0),
                _ => {
                    let last = names.pop().unwrap_or_default();
                    format!("{} or {last}", names.join(", "))
                }
            };
            (
                format!("expected {expected}, found {found}"),
                "not expected here".to_string(),
            )
        }
        pest::error::ErrorVariant::CustomError { message } => (message.clone(), "here".to_string()),
    };
    let help = if tail.starts_with('“') || tail.starts_with('”') {
        Some("strings use straight quotes `\"…\"`".to_string())
    } else if tail.starts_with('：') {
        Some("use an ASCII colon `:`".to_string())
    } else if tail.starts_with('，') {
        Some("use an ASCII comma `,`".to_string())
    } else if tail.starts_with('％') {
        Some("use an ASCII percent sign `%`".to_string())
    } else {
        None
    };
    Diagnostic::error("yibao::syntax", message, Span::new(file, start, end))
        .with_label(label)
        .with_help_opt(help)
}

struct Builder<'t> {
    file: u32,
    text: &'t str,
    errors: Vec<Diagnostic>,
}

/// The end of `text[start..end]` without trailing whitespace and comments. A rule that ends in an
/// optional element (`effective 2024-01-01 [prov]?`) also spans the whitespace and comment pest
/// skipped while looking for it; nodes must end at their last token.
fn trim_trivia(text: &str, start: usize, end: usize) -> usize {
    let mut end = end;
    loop {
        let Some(head) = text.get(start..end) else {
            return end;
        };
        let trimmed = head.trim_end();
        end = start + trimmed.len();
        let line_start = trimmed.rfind('\n').map(|i| i + 1).unwrap_or(0);
        let line = &trimmed[line_start..];
        let mut in_str = false;
        let mut escaped = false;
        let mut hash = None;
        for (i, c) in line.char_indices() {
            if in_str {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == '"' {
                    in_str = false;
                }
            } else if c == '"' {
                in_str = true;
            } else if c == '#' {
                hash = Some(i);
                break;
            }
        }
        match hash {
            Some(i) => end = start + line_start + i,
            None => return end,
        }
    }
}

impl Builder<'_> {
    fn span(&self, p: &Pair<Rule>) -> Span {
        let s = p.as_span();
        Span::new(
            self.file,
            s.start(),
            trim_trivia(self.text, s.start(), s.end()),
        )
    }

    fn err(&mut self, p: &Pair<Rule>, msg: impl Into<String>) {
        let span = self.span(p);
        self.errors
            .push(Diagnostic::error("yibao::syntax", msg, span));
    }

    fn spanned_str(&self, p: &Pair<Rule>) -> Spanned<String> {
        Spanned::new(p.as_str().to_string(), self.span(p))
    }

    fn file(&mut self, root: Pair<Rule>) -> Option<PolicyFile> {
        let mut header = None;
        let mut items = vec![];
        for p in root.into_inner() {
            match p.as_rule() {
                Rule::header => header = self.header(p),
                Rule::EOI => {}
                _ => {
                    let span = self.span(&p);
                    if let Some(item) = self.item(p) {
                        items.push(Spanned::new(item, span));
                    }
                }
            }
        }
        Some(PolicyFile {
            header: header?,
            items,
        })
    }

    fn header(&mut self, p: Pair<Rule>) -> Option<Header> {
        let mut it = p.into_inner();
        let id = self.spanned_str(&it.next()?);
        let name = self.string(it.next()?);
        let name_en = it.next().map(|s| self.string(s));
        Some(Header { id, name, name_en })
    }

    fn string(&mut self, p: Pair<Rule>) -> Spanned<String> {
        let span = self.span(&p);
        let inner = p.into_inner().next().map(|i| i.as_str()).unwrap_or("");
        let mut out = String::with_capacity(inner.len());
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                match chars.next() {
                    Some('n') => out.push('\n'),
                    Some(x) => out.push(x),
                    None => {}
                }
            } else {
                out.push(c);
            }
        }
        Spanned::new(out, span)
    }

    fn date(&mut self, p: Pair<Rule>) -> Option<Spanned<Date>> {
        match p.as_str().parse::<Date>() {
            Ok(d) => Some(Spanned::new(d, self.span(&p))),
            Err(e) => {
                self.err(&p, e.to_string());
                None
            }
        }
    }

    fn item(&mut self, p: Pair<Rule>) -> Option<Item> {
        let rule = p.as_rule();
        let mut it = p.into_inner();
        Some(match rule {
            Rule::effective => {
                let d = self.date(it.next()?)?;
                let prov = it.next().and_then(|p| self.prov(p));
                Item::Effective(d, prov)
            }
            Rule::validity => {
                let k = it.next()?;
                let kind = Spanned::new(
                    if k.as_str() == "valid_until" {
                        ValidityKind::ValidUntil
                    } else {
                        ValidityKind::Confirmed
                    },
                    self.span(&k),
                );
                let date = self.date(it.next()?)?;
                let mut layers = None;
                let mut prov = None;
                for x in it {
                    match x.as_rule() {
                        Rule::layer_scope => {
                            layers = Some(
                                x.into_inner()
                                    .map(|l| self.spanned_str(&l))
                                    .collect::<Vec<_>>(),
                            )
                        }
                        _ => prov = self.prov(x),
                    }
                }
                Item::Validity(ValidityDecl {
                    kind,
                    date,
                    layers,
                    prov,
                })
            }
            Rule::extends => {
                let r = it.next()?;
                let mut ri = r.into_inner();
                let id = self.spanned_str(&ri.next()?);
                let date = self.date(ri.next()?)?;
                Item::Extends { id, date }
            }
            Rule::source => {
                let id = self.spanned_str(&it.next()?);
                let title = self.string(it.next()?).node;
                let url = it.next().map(|u| self.string(u).node);
                Item::Source(SourceDecl { id, title, url })
            }
            Rule::indicator => {
                let name = self.spanned_str(&it.next()?);
                let value = self.expr(it.next()?)?.node;
                let prov = it.next().and_then(|p| self.prov(p));
                Item::Indicator { name, value, prov }
            }
            Rule::dims_decl => {
                let kw_pair = it.next()?;
                let kw = match kw_pair.as_str() {
                    "groups" => DimKw::Groups,
                    "categories" => DimKw::Categories,
                    "care" => DimKw::Care,
                    "levels" => DimKw::Levels,
                    "places" => DimKw::Places,
                    _ => DimKw::Diseases,
                };
                let kw = Spanned::new(kw, self.span(&kw_pair));
                let body = it.next()?;
                let list_form = body.as_rule() == Rule::key_list;
                let mut entries = vec![];
                for e in body.into_inner() {
                    let span = self.span(&e);
                    if list_form {
                        entries.push(Spanned::new(
                            DimEntry {
                                key: self.spanned_str(&e),
                                zh: None,
                                en: None,
                            },
                            span,
                        ));
                    } else {
                        let mut ei = e.into_inner();
                        let key = self.spanned_str(&ei.next()?);
                        let zh = ei.next().map(|s| self.string(s).node);
                        let en = ei.next().map(|s| self.string(s).node);
                        entries.push(Spanned::new(DimEntry { key, zh, en }, span));
                    }
                }
                Item::Dims(DimsDecl {
                    kw,
                    list_form,
                    entries,
                })
            }
            Rule::cases_decl => {
                let mut out = vec![];
                for e in it {
                    let span = self.span(&e);
                    let mut ei = e.into_inner();
                    let code = self.spanned_str(&ei.next()?);
                    let name = self.string(ei.next()?).node;
                    let standard = self.value(ei.next()?)?;
                    let prov = ei.next().and_then(|p| self.prov(p));
                    out.push(Spanned::new(
                        CaseEntry {
                            code,
                            name,
                            standard,
                            prov,
                        },
                        span,
                    ));
                }
                Item::Cases(out)
            }
            Rule::layer => {
                let id = self.spanned_str(&it.next()?);
                let label = self.string(it.next()?).node;
                let mut label_en = None;
                let mut kind = None;
                let mut clauses = vec![];
                for c in it {
                    match c.as_rule() {
                        Rule::string => label_en = Some(self.string(c).node),
                        Rule::layer_kind => {
                            let k = c.into_inner().next()?;
                            kind = Some(self.spanned_str(&k));
                        }
                        _ => {
                            let span = self.span(&c);
                            if let Some(cl) = self.clause(c) {
                                clauses.push(Spanned::new(cl, span));
                            }
                        }
                    }
                }
                Item::Layer(LayerDecl {
                    id,
                    label,
                    label_en,
                    kind,
                    clauses,
                })
            }
            Rule::amend => {
                let id = self.spanned_str(&it.next()?);
                let mut clauses = vec![];
                for c in it {
                    let span = self.span(&c);
                    if let Some(cl) = self.clause(c) {
                        clauses.push(Spanned::new(cl, span));
                    }
                }
                Item::Amend { id, clauses }
            }
            Rule::remove => Item::Remove(self.spanned_str(&it.next()?)),
            _ => {
                return None;
            }
        })
    }

    fn cond(&mut self, p: Pair<Rule>) -> Option<Cond> {
        let mut it = p.into_inner();
        let dim = self.dim_name(it.next()?);
        let keys = it
            .next()?
            .into_inner()
            .map(|k| self.spanned_str(&k))
            .collect();
        Some(Cond { dim, keys })
    }

    fn dim_name(&mut self, p: Pair<Rule>) -> Spanned<Dim> {
        let d = match p.as_str() {
            "group" => Dim::Group,
            "category" => Dim::Category,
            "care" => Dim::Care,
            "level" => Dim::Level,
            "place" => Dim::Place,
            _ => Dim::Disease,
        };
        Spanned::new(d, self.span(&p))
    }

    fn clause(&mut self, p: Pair<Rule>) -> Option<Clause> {
        let rule = p.as_rule();
        let mut it = p.into_inner();
        Some(match rule {
            Rule::when_c => Clause::When(it.filter_map(|c| self.cond(c)).collect()),
            Rule::base_c => {
                let b = it.next()?;
                match b.as_rule() {
                    Rule::base_in_scope => Clause::Base(BaseSpec::InScope),
                    Rule::base_cost => {
                        let mut v = vec![];
                        for k in b.into_inner() {
                            let kind = CostKind::ALL
                                .into_iter()
                                .find(|c| c.name() == k.as_str())
                                .unwrap_or(CostKind::FamilyCare);
                            v.push(Spanned::new(kind, self.span(&k)));
                        }
                        Clause::Base(BaseSpec::Cost(v))
                    }
                    _ => {
                        let mut bi = b.into_inner();
                        let what = bi.next()?;
                        let components = if what.as_rule() == Rule::component_list {
                            let mut v = vec![];
                            for c in what.into_inner() {
                                let comp = match c.as_str() {
                                    "out_of_list" => Component::OutOfList,
                                    "pre_self_pay" => Component::PreSelfPay,
                                    "over_limit" => Component::OverLimit,
                                    "deductible" => Component::Deductible,
                                    "co_pay" => Component::CoPay,
                                    "above_cap" => Component::AboveCap,
                                    _ => Component::NotCovered,
                                };
                                v.push(Spanned::new(comp, self.span(&c)));
                            }
                            Some(v)
                        } else {
                            None
                        };
                        let after = bi.next().map(|a| self.spanned_str(&a));
                        Clause::Base(BaseSpec::Remaining { components, after })
                    }
                }
            }
            Rule::measure_c => Clause::Measure(match it.next()?.as_str() {
                "year" => MeasureKw::Year,
                "year_covered" => MeasureKw::YearCovered,
                _ => MeasureKw::Claim,
            }),
            Rule::deductible_c => {
                let per = if it.next()?.as_str() == "per_year" {
                    DeductiblePerKw::Year
                } else {
                    DeductiblePerKw::Admission
                };
                let value = self.value(it.next()?)?;
                let prov = it.next().and_then(|p| self.prov(p));
                Clause::Deductible { per, value, prov }
            }
            Rule::later_c => {
                let n = it.next()?;
                let from = match n.as_str().parse::<u32>() {
                    Ok(v) => Spanned::new(v, self.span(&n)),
                    Err(_) => {
                        self.err(
                            &n,
                            format!("`{}` is not a usable admission number", n.as_str()),
                        );
                        return None;
                    }
                };
                let value = self.value(it.next()?)?;
                let prov = it.next().and_then(|p| self.prov(p));
                Clause::Later { from, value, prov }
            }
            Rule::referral_c => Clause::Referral(match it.next()?.as_str() {
                "continuous" => ReferralKw::Continuous,
                "difference" => ReferralKw::Difference,
                _ => ReferralKw::Separate,
            }),
            Rule::ratio_c => {
                let value = self.value(it.next()?)?;
                let prov = it.next().and_then(|p| self.prov(p));
                Clause::Ratio { value, prov }
            }
            Rule::bands_c => {
                let mut relative = false;
                let mut bands = vec![];
                for b in it {
                    if b.as_rule() == Rule::relative {
                        relative = true;
                        continue;
                    }
                    let span = self.span(&b);
                    let mut bi = b.into_inner();
                    let head = bi.next()?;
                    let upto = if head.as_rule() == Rule::band_to {
                        Some(self.value(head.into_inner().next()?)?)
                    } else {
                        None
                    };
                    let ratio = self.value(bi.next()?)?;
                    let prov = bi.next().and_then(|p| self.prov(p));
                    bands.push(Spanned::new(BandDecl { upto, ratio, prov }, span));
                }
                Clause::Bands { relative, bands }
            }
            Rule::cap_c => {
                let per = it.next()?;
                let prov = it.next().and_then(|p| self.prov(p));
                let rule = per.as_rule();
                let mut pi = per.into_inner();
                let value = self.value(pi.next()?)?;
                let per = if rule == Rule::cap_year {
                    CapPerDecl::Year {
                        value,
                        pool: pi.next().map(|p| self.spanned_str(&p)),
                    }
                } else if rule == Rule::cap_month {
                    CapPerDecl::Month {
                        value,
                        pool: pi.next().map(|p| self.spanned_str(&p)),
                    }
                } else {
                    CapPerDecl::Claim { value }
                };
                Clause::Cap { per, prov }
            }
            Rule::for_c => {
                let mut referred = vec![];
                let mut conds = vec![];
                let mut ops = vec![];
                for x in it {
                    match x.as_rule() {
                        Rule::cond => conds.extend(self.cond(x)),
                        Rule::referred => {
                            let span = self.span(&x);
                            let negated = x.into_inner().any(|p| p.as_rule() == Rule::not_kw);
                            referred.push(Spanned::new(!negated, span));
                        }
                        _ => {
                            let span = self.span(&x);
                            let mut oi = x.into_inner();
                            let first = oi.next()?;
                            if first.as_rule() == Rule::no_cap {
                                ops.push(Spanned::new(ModOpDecl::NoCap, span));
                                continue;
                            }
                            let target = match first.as_str() {
                                "deductible" => ModTarget::Deductible,
                                "ratio" => ModTarget::Ratio,
                                _ => ModTarget::Cap,
                            };
                            let op = match oi.next()?.as_str() {
                                "=" => ModOperator::Set,
                                "+" => ModOperator::Add,
                                "-" => ModOperator::Sub,
                                _ => ModOperator::Mul,
                            };
                            let expr = self.expr(oi.next()?)?.node;
                            let prov = oi.next().and_then(|p| self.prov(p));
                            ops.push(Spanned::new(
                                ModOpDecl::Op {
                                    target,
                                    op,
                                    expr,
                                    prov,
                                },
                                span,
                            ));
                        }
                    }
                }
                Clause::For {
                    referred,
                    conds,
                    ops,
                }
            }
            Rule::per_case_c => {
                let share = self.value(it.next()?)?;
                let prov = it.next().and_then(|p| self.prov(p));
                Clause::PerCase { share, prov }
            }
            Rule::field_c => Clause::Field(self.spanned_str(&it.next()?)),
            Rule::limit_c => {
                let per = if it.next()?.as_str() == "per_day" {
                    LimitPer::Day
                } else {
                    LimitPer::Month
                };
                let value = self.value(it.next()?)?;
                let prov = it.next().and_then(|p| self.prov(p));
                Clause::Limit { per, value, prov }
            }
            Rule::require_c => {
                let f = it.next()?;
                let fact = CareFact::ALL
                    .into_iter()
                    .find(|c| c.name() == f.as_str())
                    .unwrap_or(CareFact::Days);
                let fact = Spanned::new(fact, self.span(&f));
                let op = match it.next()?.as_str() {
                    ">=" => CmpOp::Ge,
                    ">" => CmpOp::Gt,
                    "<=" => CmpOp::Le,
                    _ => CmpOp::Lt,
                };
                let value = self.value(it.next()?)?;
                let prov = it.next().and_then(|p| self.prov(p));
                Clause::Require {
                    fact,
                    op,
                    value,
                    prov,
                }
            }
            _ => return None,
        })
    }

    fn value(&mut self, p: Pair<Rule>) -> Option<Value> {
        let inner = p.into_inner().next()?;
        match inner.as_rule() {
            Rule::table => {
                let mut it = inner.into_inner();
                let dim = self.dim_name(it.next()?);
                let mut entries = vec![];
                let mut prov = None;
                for e in it {
                    if e.as_rule() == Rule::prov {
                        prov = self.prov(e);
                        continue;
                    }
                    let span = self.span(&e);
                    let mut ei = e.into_inner();
                    let k = ei.next()?;
                    let key = if k.as_rule() == Rule::else_key {
                        None
                    } else {
                        Some(self.spanned_str(&k))
                    };
                    let value = self.value(ei.next()?)?;
                    let eprov = ei.next().and_then(|p| self.prov(p));
                    entries.push(Spanned::new(
                        TableEntry {
                            key,
                            value,
                            prov: eprov,
                        },
                        span,
                    ));
                }
                Some(Value::Table(Table { dim, entries, prov }))
            }
            Rule::none_value => {
                let span = self.span(&inner);
                let prov = inner.into_inner().nth(1).and_then(|p| self.prov(p));
                Some(Value::None {
                    span: Loc(span),
                    prov,
                })
            }
            _ => Some(Value::Expr(self.expr(inner)?.node)),
        }
    }

    fn expr(&mut self, p: Pair<Rule>) -> Option<Spanned<Expr>> {
        let span = self.span(&p);
        match p.as_rule() {
            Rule::expr | Rule::term => {
                let mut it = p.into_inner();
                let mut acc = self.expr(it.next()?)?;
                while let Some(op) = it.next() {
                    let rhs = self.expr(it.next()?)?;
                    let bop = match op.as_str() {
                        "+" => BinOp::Add,
                        "-" => BinOp::Sub,
                        "/" | "÷" => BinOp::Div,
                        _ => BinOp::Mul,
                    };
                    let s = Span {
                        end: rhs.span.end,
                        ..acc.span
                    };
                    acc = Spanned::new(Expr::Bin(bop, Box::new(acc), Box::new(rhs)), s);
                }
                Some(acc)
            }
            Rule::factor => {
                let mut it = p.into_inner();
                let first = it.next()?;
                match first.as_rule() {
                    Rule::number => {
                        let mut n = self.number(first)?;
                        if let Some(pp) = it.next() {
                            n.node.prov = self.prov(pp);
                        }
                        let s = n.span;
                        Some(Spanned::new(Expr::Num(n), s))
                    }
                    Rule::expr => {
                        let inner = self.expr(first)?;
                        Some(Spanned::new(Expr::Paren(Box::new(inner)), span))
                    }
                    Rule::call => {
                        let mut ci = first.into_inner();
                        let f = if ci.next()?.as_str() == "min" {
                            Func::Min
                        } else {
                            Func::Max
                        };
                        let a = self.expr(ci.next()?)?;
                        let b = self.expr(ci.next()?)?;
                        Some(Spanned::new(Expr::Call(f, Box::new(a), Box::new(b)), span))
                    }
                    _ => Some(Spanned::new(Expr::Name(self.spanned_str(&first)), span)),
                }
            }
            _ => None,
        }
    }

    fn number(&mut self, p: Pair<Rule>) -> Option<Spanned<Number>> {
        let text = p.as_str().to_string();
        let span = self.span(&p);
        let (digits, unit) = if let Some(d) = text.strip_suffix('%') {
            (d, Unit::Percent)
        } else if let Some(d) = text.strip_suffix('万') {
            (d, Unit::Wan)
        } else if let Some(d) = text.strip_suffix('元') {
            (d, Unit::Yuan)
        } else {
            (text.as_str(), Unit::None)
        };
        let Ok(raw) = Decimal::from_str_exact(digits) else {
            self.err(&p, format!("`{text}` is too long or too large a number"));
            return None;
        };
        let value = match unit {
            Unit::Percent => raw.checked_div(Decimal::ONE_HUNDRED),
            Unit::Wan => raw.checked_mul(Decimal::from(10_000)),
            _ => Some(raw),
        };
        let Some(value) = value else {
            self.err(&p, format!("`{text}` is too large a number"));
            return None;
        };
        Some(Spanned::new(
            Number {
                text,
                value,
                unit,
                prov: None,
            },
            span,
        ))
    }

    fn prov(&mut self, p: Pair<Rule>) -> Option<Prov> {
        let span = self.span(&p);
        let mut it = p.into_inner();
        let kind = match it.next()?.as_str() {
            "official" => Provenance::Official,
            "secondary" => Provenance::Secondary,
            "seed" => Provenance::Seed,
            "derived" => Provenance::Derived,
            _ => Provenance::Placeholder,
        };
        let mut source = None;
        let mut note = None;
        for x in it {
            match x.as_rule() {
                Rule::source_id => source = Some(self.spanned_str(&x)),
                _ => note = Some(self.string(x).node),
            }
        }
        Some(Prov {
            kind,
            source,
            note,
            span: Loc(span),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = format!(
            "policy a.b \"x\" indicator x = {}1{}",
            "(".repeat(10_000),
            ")".repeat(10_000)
        );
        let e = parse(0, &text).unwrap_err();
        assert_eq!(e[0].code, "yibao::too-deep");
    }

    #[test]
    fn parses_a_minimal_policy() {
        let f = parse(0, "policy a.b \"名\" effective 2024-01-01 care [inpatient]").unwrap();
        assert_eq!(f.header.id.node, "a.b");
        assert_eq!(f.items.len(), 2);
    }
}
