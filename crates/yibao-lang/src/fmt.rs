//! The canonical form of a policy text. Comments are kept; the result is checked by parsing it
//! again and comparing the trees before it is returned, so formatting never changes meaning.

use crate::ast::*;
use crate::diag::Diagnostic;
use crate::parse::parse;
use crate::source::Span;

const WIDTH: usize = 100;

/// Formats a policy text. Errors are the parse errors of `text`.
pub fn format(text: &str) -> Result<String, Vec<Diagnostic>> {
    let ast = parse(0, text)?;
    let comments = comments(text);
    let mut p = Printer {
        out: String::new(),
        indent: 0,
        comments,
        next: 0,
        text,
    };
    p.file(&ast);
    let out = p.out;
    // Soundness: the output must say exactly what the input said.
    match parse(0, &out) {
        Ok(again) if again == ast => Ok(out),
        other => {
            if std::env::var_os("YIBAO_FMT_DEBUG").is_some() {
                eprintln!("{out}\n---\n{:?}", other.as_ref().err());
            }
            Err(vec![Diagnostic::error(
            "yibao::internal",
            "internal error: the formatter would change this policy's meaning; please file an issue",
            Span::new(0, 0, 0),
        )])
        }
    }
}

struct Comment {
    start: usize,
    text: String,
}

/// Every `#` comment outside strings, in order.
fn comments(text: &str) -> Vec<Comment> {
    let mut out = vec![];
    let mut in_str = false;
    let mut escaped = false;
    let mut it = text.char_indices().peekable();
    while let Some((i, c)) = it.next() {
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
        if c == '"' {
            in_str = true;
        } else if c == '#' {
            let end = text[i..].find('\n').map(|n| i + n).unwrap_or(text.len());
            out.push(Comment {
                start: i,
                text: text[i..end].trim_end().to_string(),
            });
            while it.peek().is_some_and(|(j, _)| *j < end) {
                it.next();
            }
        }
    }
    out
}

struct Printer<'a> {
    out: String,
    indent: usize,
    comments: Vec<Comment>,
    next: usize,
    text: &'a str,
}

impl Printer<'_> {
    fn line(&mut self, s: &str) {
        for _ in 0..self.indent {
            self.out.push_str("  ");
        }
        self.out.push_str(s);
        self.out.push('\n');
    }

    /// Own-line comments that stand before `offset`.
    fn comments_before(&mut self, offset: u32) {
        while let Some(c) = self.comments.get(self.next) {
            if c.start >= offset as usize {
                break;
            }
            let t = c.text.clone();
            self.line(&t);
            self.next += 1;
        }
    }

    /// A comment on the same line after `end` goes at the end of the line just printed.
    fn trailing(&mut self, end: u32) {
        let Some(c) = self.comments.get(self.next) else {
            return;
        };
        let between = self.text.get(end as usize..c.start).unwrap_or("\n");
        if c.start >= end as usize && !between.contains('\n') {
            let t = c.text.clone();
            if self.out.ends_with('\n') {
                self.out.pop();
            }
            self.out.push_str("  ");
            self.out.push_str(&t);
            self.out.push('\n');
            self.next += 1;
        }
    }

    fn has_comment_in(&self, span: Span) -> bool {
        self.comments[self.next..]
            .iter()
            .any(|c| c.start >= span.start as usize && c.start < span.end as usize)
    }

    fn file(&mut self, f: &PolicyFile) {
        self.comments_before(f.header.id.span.start);
        let mut h = format!("policy {} {}", f.header.id.node, quote(&f.header.name.node));
        if let Some(en) = &f.header.name_en {
            h.push(' ');
            h.push_str(&quote(&en.node));
        }
        self.line(&h);
        self.trailing(f.header.name_en.as_ref().unwrap_or(&f.header.name).span.end);
        let mut prev: Option<u8> = Some(0);
        for it in &f.items {
            let group = item_group(&it.node);
            if prev != Some(group) || group >= 4 {
                // The blank line first: comments standing before an item belong to it.
                if !self.out.ends_with("\n\n") {
                    self.out.push('\n');
                }
                self.comments_before(it.span.start);
            }
            prev = Some(group);
            self.item(it);
        }
        while let Some(c) = self.comments.get(self.next) {
            let t = c.text.clone();
            self.line(&t);
            self.next += 1;
        }
    }

    fn item(&mut self, it: &Spanned<Item>) {
        self.comments_before(it.span.start);
        match &it.node {
            Item::Effective(d, prov) => {
                self.line(&format!("effective {}{}", d.node, prov_suffix(prov)))
            }
            Item::Validity(v) => {
                let layers = v
                    .layers
                    .as_ref()
                    .map(|ls| {
                        format!(
                            " layers [{}]",
                            ls.iter()
                                .map(|l| l.node.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    })
                    .unwrap_or_default();
                self.line(&format!(
                    "{} {}{layers}{}",
                    v.kind.node.keyword(),
                    v.date.node,
                    prov_suffix(&v.prov)
                ))
            }
            Item::Extends { id, date } => self.line(&format!("extends {}@{}", id.node, date.node)),
            Item::Source(s) => {
                let mut l = format!("source {} {}", s.id.node, quote(&s.title));
                if let Some(u) = &s.url {
                    l.push_str(" url ");
                    l.push_str(&quote(u));
                }
                self.line(&l);
            }
            Item::Indicator { name, value, prov } => {
                let l = format!(
                    "indicator {} = {}{}",
                    name.node,
                    expr(value),
                    prov_suffix(prov)
                );
                self.line(&l);
            }
            Item::Dims(d) => {
                if d.list_form {
                    let keys: Vec<&str> =
                        d.entries.iter().map(|e| e.node.key.node.as_str()).collect();
                    self.line(&format!("{} [{}]", d.kw.node.keyword(), keys.join(", ")));
                } else {
                    self.line(&format!("{} {{", d.kw.node.keyword()));
                    self.indent += 1;
                    for e in &d.entries {
                        self.comments_before(e.span.start);
                        let mut l = e.node.key.node.clone();
                        if let Some(zh) = &e.node.zh {
                            l.push(' ');
                            l.push_str(&quote(zh));
                        }
                        if let Some(en) = &e.node.en {
                            l.push(' ');
                            l.push_str(&quote(en));
                        }
                        self.line(&l);
                        self.trailing(e.span.end);
                    }
                    self.comments_before(it.span.end);
                    self.indent -= 1;
                    self.line("}");
                }
            }
            Item::Cases(entries) => {
                self.line("cases {");
                self.indent += 1;
                for e in entries {
                    self.comments_before(e.span.start);
                    let head = format!("{} {} ", e.node.code.node, quote(&e.node.name));
                    self.value_line(&head, &e.node.standard, &prov_suffix(&e.node.prov), e.span);
                    self.trailing(e.span.end);
                }
                self.comments_before(it.span.end);
                self.indent -= 1;
                self.line("}");
            }
            Item::Layer(l) => {
                let mut h = format!("layer {} {}", l.id.node, quote(&l.label));
                if let Some(en) = &l.label_en {
                    h.push(' ');
                    h.push_str(&quote(en));
                }
                if let Some(k) = &l.kind {
                    h.push_str(" kind ");
                    h.push_str(&k.node);
                }
                h.push_str(" {");
                self.line(&h);
                self.clauses(&l.clauses, it.span);
                self.line("}");
            }
            Item::Amend { id, clauses } => {
                self.line(&format!("amend layer {} {{", id.node));
                self.clauses(clauses, it.span);
                self.line("}");
            }
            Item::Remove(id) => self.line(&format!("remove layer {}", id.node)),
        }
        self.trailing(it.span.end);
    }

    fn clauses(&mut self, clauses: &[Spanned<Clause>], block: Span) {
        self.indent += 1;
        for c in clauses {
            self.comments_before(c.span.start);
            self.clause(c);
            self.trailing(c.span.end);
        }
        self.comments_before(block.end);
        self.indent -= 1;
    }

    fn clause(&mut self, c: &Spanned<Clause>) {
        match &c.node {
            Clause::When(conds) => self.line(&format!("when {}", conds_str(conds))),
            Clause::Base(BaseSpec::InScope) => self.line("base in_scope"),
            Clause::Base(BaseSpec::Cost(kinds)) => self.line(&format!(
                "base cost [{}]",
                kinds
                    .iter()
                    .map(|k| k.node.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            Clause::Base(BaseSpec::Remaining {
                components,
                after,
                special_drugs,
            }) => {
                let mut l = String::from("base remaining ");
                match components {
                    None => l.push_str("in_scope"),
                    Some(cs) => {
                        l.push('[');
                        l.push_str(
                            &cs.iter()
                                .map(|c| c.node.name())
                                .collect::<Vec<_>>()
                                .join(", "),
                        );
                        l.push(']');
                    }
                }
                if let Some(a) = after {
                    l.push_str(" after ");
                    l.push_str(&a.node);
                }
                if special_drugs.is_some() {
                    l.push_str(" plus special_drugs");
                }
                self.line(&l);
            }
            Clause::Measure(m) => self.line(&format!("measure {}", m.keyword())),
            Clause::Deductible { per, value, prov } => {
                let head = format!(
                    "deductible {} ",
                    if *per == DeductiblePerKw::Year {
                        "per_year"
                    } else {
                        "per_admission"
                    }
                );
                self.value_line(&head, value, &prov_suffix(prov), c.span);
            }
            Clause::Later { from, value, prov } => {
                let head = format!("deductible from_admission {} ", from.node);
                self.value_line(&head, value, &prov_suffix(prov), c.span);
            }
            Clause::Every { value, prov } => {
                self.value_line(
                    "deductible every ",
                    value,
                    &format!(" days{}", prov_suffix(prov)),
                    c.span,
                );
            }
            Clause::Referral(r) => self.line(&format!("referral {}", r.keyword())),
            Clause::Ratio { value, prov } => {
                self.value_line("ratio ", value, &prov_suffix(prov), c.span)
            }
            Clause::Bands { relative, bands } => {
                self.line(if *relative {
                    "bands relative {"
                } else {
                    "bands {"
                });
                self.indent += 1;
                for b in bands {
                    self.comments_before(b.span.start);
                    let head = match &b.node.upto {
                        Some(u) => format!("to {}: ", inline_value(u)),
                        None => "above: ".to_string(),
                    };
                    self.value_line(&head, &b.node.ratio, &prov_suffix(&b.node.prov), b.span);
                    self.trailing(b.span.end);
                }
                self.comments_before(c.span.end);
                self.indent -= 1;
                self.line("}");
            }
            Clause::Cap { per, prov } => match per {
                CapPerDecl::Year { value, pool } => {
                    let tail = match pool {
                        Some(p) => format!(" pool {}{}", p.node, prov_suffix(prov)),
                        None => prov_suffix(prov),
                    };
                    self.value_line("cap per_year ", value, &tail, c.span);
                }
                CapPerDecl::Claim { value } => {
                    self.value_line("cap per_claim ", value, &prov_suffix(prov), c.span)
                }
                CapPerDecl::Month { value, pool } => {
                    let tail = match pool {
                        Some(p) => format!(" pool {}{}", p.node, prov_suffix(prov)),
                        None => prov_suffix(prov),
                    };
                    self.value_line("cap per_month ", value, &tail, c.span)
                }
            },
            Clause::For {
                referred,
                conds,
                ops,
            } => {
                self.line(&format!("for {} {{", for_conds_str(referred, conds)));
                self.indent += 1;
                for op in ops {
                    self.comments_before(op.span.start);
                    match &op.node {
                        ModOpDecl::NoCap => self.line("no cap"),
                        ModOpDecl::Op {
                            target,
                            op: o,
                            expr: e,
                            prov,
                        } => {
                            self.line(&format!(
                                "{} {} {}{}",
                                target.name(),
                                o.symbol(),
                                expr(e),
                                prov_suffix(prov)
                            ));
                        }
                    }
                    self.trailing(op.span.end);
                }
                self.comments_before(c.span.end);
                self.indent -= 1;
                self.line("}");
            }
            Clause::PerCase { share, prov } => {
                self.value_line("per_case share ", share, &prov_suffix(prov), c.span)
            }
            Clause::Field(f) => self.line(&format!("field {}", f.node)),
            Clause::Limit { per, value, prov } => {
                let head = match per {
                    yibao_engine::ir::LimitPer::Day => "limit per_day ",
                    yibao_engine::ir::LimitPer::Month => "limit per_month ",
                };
                self.value_line(head, value, &prov_suffix(prov), c.span)
            }
            Clause::Require {
                fact,
                op,
                value,
                prov,
            } => {
                let head = format!("require {} {} ", fact.node.name(), op.symbol());
                self.value_line(&head, value, &prov_suffix(prov), c.span)
            }
        }
    }

    /// `head value tail`, with a table inline when it fits and holds no comment.
    fn value_line(&mut self, head: &str, v: &Value, tail: &str, span: Span) {
        match v {
            Value::Expr(_) | Value::None { .. } => {
                self.line(&format!("{head}{}{tail}", inline_value(v)))
            }
            Value::Table(t) => {
                let inline = format!("{head}{}{tail}", inline_value(v));
                let simple = t
                    .entries
                    .iter()
                    .all(|e| !matches!(e.node.value, Value::Table(_)));
                if simple
                    && !self.has_comment_in(span)
                    && inline.chars().count() + self.indent * 2 <= WIDTH
                {
                    self.line(&inline);
                } else {
                    self.line(&format!("{head}by {} {{", t.dim.node.name()));
                    self.indent += 1;
                    for e in &t.entries {
                        self.comments_before(e.span.start);
                        let key = entry_key(&e.node);
                        self.value_line(
                            &format!("{key}: "),
                            &e.node.value,
                            &prov_suffix(&e.node.prov),
                            e.span,
                        );
                        self.trailing(e.span.end);
                    }
                    let end = span.end;
                    self.comments_before(end);
                    self.indent -= 1;
                    self.line(&format!("}}{}{tail}", prov_suffix(&t.prov)));
                }
            }
        }
    }
}

/// Statements of a group stay together; groups are separated by a blank line.
fn item_group(i: &Item) -> u8 {
    match i {
        Item::Effective(..) | Item::Validity(_) | Item::Extends { .. } => 0,
        Item::Source(_) => 1,
        Item::Dims(_) => 2,
        Item::Indicator { .. } => 3,
        Item::Cases(_) => 4,
        Item::Layer(_) | Item::Amend { .. } | Item::Remove(_) => 5,
    }
}

/// A `for` block's conditions: the referral first (`referred`, `not referred`), then the
/// dimensions.
fn for_conds_str(referred: &[Spanned<bool>], conds: &[Cond]) -> String {
    let mut parts: Vec<String> = referred
        .iter()
        .map(|r| if r.node { "referred" } else { "not referred" }.to_string())
        .collect();
    if !conds.is_empty() {
        parts.push(conds_str(conds));
    }
    parts.join(" and ")
}

fn conds_str(conds: &[Cond]) -> String {
    conds
        .iter()
        .map(|c| {
            format!(
                "{} in [{}]",
                c.dim.node.name(),
                c.keys
                    .iter()
                    .map(|k| k.node.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join(" and ")
}

fn inline_value(v: &Value) -> String {
    match v {
        Value::Expr(e) => expr(e),
        Value::None { prov, .. } => format!("none{}", prov_suffix(prov)),
        Value::Table(t) => {
            let entries: Vec<String> = t
                .entries
                .iter()
                .map(|e| {
                    let key = entry_key(&e.node);
                    format!(
                        "{key}: {}{}",
                        inline_value(&e.node.value),
                        prov_suffix(&e.node.prov)
                    )
                })
                .collect();
            format!(
                "by {} {{ {} }}{}",
                t.dim.node.name(),
                entries.join("  "),
                prov_suffix(&t.prov)
            )
        }
    }
}

fn expr(e: &Expr) -> String {
    match e {
        Expr::Num(n) => format!("{}{}", n.node.text, prov_suffix(&n.node.prov)),
        Expr::Name(n) => n.node.clone(),
        Expr::Paren(inner) => format!("({})", expr(&inner.node)),
        Expr::Bin(op, a, b) => format!("{} {} {}", expr(&a.node), op.symbol(), expr(&b.node)),
        Expr::Call(f, a, b) => format!(
            "{}({}, {})",
            if *f == Func::Min { "min" } else { "max" },
            expr(&a.node),
            expr(&b.node)
        ),
    }
}

fn prov_suffix(p: &Option<Prov>) -> String {
    match p {
        None => String::new(),
        Some(p) => {
            let mut s = format!(" [{}", p.kind.name());
            if let Some(src) = &p.source {
                s.push(' ');
                s.push_str(&src.node);
            }
            if let Some(n) = &p.note {
                s.push(' ');
                s.push_str(&quote(n));
            }
            s.push(']');
            s
        }
    }
}

fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A table entry's key as written (`else` for the default).
fn entry_key(e: &TableEntry) -> &str {
    e.key.as_ref().map(|k| k.node.as_str()).unwrap_or("else")
}
