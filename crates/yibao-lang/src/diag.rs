//! Diagnostics: what the parser and checker report, with spans, renderable by miette and as JSON.

use std::fmt;

use miette::{LabeledSpan, MietteError, MietteSpanContents, NamedSource, SourceSpan, SpanContents};
use serde::Serialize;

use crate::source::{SourceFile, SourceMap, Span};

/// How bad a diagnostic is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Severity {
    /// The policy is wrong: no compiled policy is produced.
    Error,
    /// Probably a mistake (a figure without provenance, say); the policy still compiles.
    Warning,
}

/// One finding about a policy text. `code` is stable (`yibao::unknown-name`); `message` is one
/// lowercase line with user text in backticks; `label` says what is wrong at `span`; `help`
/// offers the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// How bad.
    pub severity: Severity,
    /// A stable code (`yibao::unknown-override`).
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
    /// Where (none for a diagnostic about the whole request).
    pub span: Option<Span>,
    /// A label for the span.
    pub label: Option<String>,
    /// How to fix it.
    pub help: Option<String>,
    /// Other places that explain this one ("first declared here").
    pub related: Vec<(Span, String)>,
}

impl Diagnostic {
    /// An error.
    pub fn error(code: &'static str, message: impl Into<String>, span: Span) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            span: Some(span),
            label: None,
            help: None,
            related: vec![],
        }
    }
    /// A warning.
    pub fn warning(code: &'static str, message: impl Into<String>, span: Span) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message, span)
        }
    }
    /// With a label on the span.
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }
    /// With help on how to fix it.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
    /// With help, when there is some.
    pub fn with_help_opt(mut self, help: Option<String>) -> Self {
        self.help = help;
        self
    }
    /// With a related span and its label.
    pub fn with_related(mut self, span: Span, label: impl Into<String>) -> Self {
        self.related.push((span, label.into()));
        self
    }
    /// Whether it is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The JSON form, for front ends that draw their own underlines (the web playground).
    pub fn to_json(&self, map: &SourceMap) -> DiagnosticJson {
        let file = self.span.and_then(|s| map.get(s.file));
        let (start, end) = match (self.span, file) {
            (Some(s), Some(f)) => (
                Some(f.line_col(s.start as usize)),
                Some(f.line_col(s.end as usize)),
            ),
            _ => (None, None),
        };
        DiagnosticJson {
            severity: self.severity,
            code: self.code.to_string(),
            message: self.message.clone(),
            file: file.map(|f| f.name.clone()),
            line: start.map(|p| p.line),
            column: start.map(|p| p.column),
            end_line: end.map(|p| p.line),
            end_column: end.map(|p| p.column),
            start: self.span.map(|s| s.start),
            end: self.span.map(|s| s.end),
            text: match (self.span, file) {
                (Some(s), Some(f)) => Some(f.slice(s).to_string()),
                _ => None,
            },
            label: self.label.clone(),
            help: self.help.clone(),
        }
    }

    /// A miette report that renders the file, line, column and the underlined span.
    pub fn to_report(&self, map: &SourceMap) -> miette::Report {
        let file = self.span.and_then(|s| map.get(s.file));
        let mut labels = vec![];
        if let Some(s) = self.span {
            labels.push(LabeledSpan::new_primary_with_span(
                self.label.clone(),
                to_source_span(s),
            ));
        }
        for (s, l) in &self.related {
            if Some(s.file) == self.span.map(|x| x.file) {
                labels.push(LabeledSpan::new_with_span(
                    Some(l.clone()),
                    to_source_span(*s),
                ));
            }
        }
        let rendered = Rendered {
            message: self.message.clone(),
            code: self.code,
            help: self.help.clone(),
            severity: match self.severity {
                Severity::Error => miette::Severity::Error,
                Severity::Warning => miette::Severity::Warning,
            },
            labels,
            src: file.map(|f| {
                NamedSource::new(f.name.clone(), Indexed(f.clone())).with_language("yibao")
            }),
        };
        miette::Report::new(rendered)
    }
}

fn to_source_span(s: Span) -> SourceSpan {
    SourceSpan::new((s.start as usize).into(), s.len())
}

/// A diagnostic as stable JSON (lines and columns 1-based; `start`/`end` are byte offsets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DiagnosticJson {
    /// How bad.
    pub severity: Severity,
    /// A stable code.
    pub code: String,
    /// What is wrong.
    pub message: String,
    /// The file.
    pub file: Option<String>,
    /// The line where the span starts (1-based).
    pub line: Option<u32>,
    /// The column where it starts (1-based).
    pub column: Option<u32>,
    /// The line where it ends.
    pub end_line: Option<u32>,
    /// The column where it ends.
    pub end_column: Option<u32>,
    /// The byte offset where it starts.
    pub start: Option<u32>,
    /// The byte offset where it ends.
    pub end: Option<u32>,
    /// The source text under the span.
    pub text: Option<String>,
    /// A label for the span.
    pub label: Option<String>,
    /// How to fix it.
    pub help: Option<String>,
}

#[derive(Debug)]
struct Rendered {
    message: String,
    code: &'static str,
    help: Option<String>,
    severity: miette::Severity,
    labels: Vec<LabeledSpan>,
    src: Option<NamedSource<Indexed>>,
}

/// A source file miette reads through the file's line index: it hands miette's own reader only
/// the lines around a span, so rendering a report costs the lines shown, not the text before them
/// (many reports on a long text would otherwise take time quadratic in its length).
#[derive(Debug, Clone)]
struct Indexed(SourceFile);

impl miette::SourceCode for Indexed {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let f = &self.0;
        let text: &str = &f.text;
        let (first, _) = f.line_start(span.offset());
        let (last, _) = f.line_start(span.offset() + span.len());
        let from = first.saturating_sub(context_lines_before);
        let to = (last + context_lines_after + 1).min(f.line_count().saturating_sub(1));
        let start = f.line_range(from).start;
        // Through the end of line `to`, with its newline.
        let end = (f.line_range(to).end + 1).min(text.len());
        let window = text
            .as_bytes()
            .get(start..end)
            .ok_or(MietteError::OutOfBounds)?;
        let local = SourceSpan::new(span.offset().saturating_sub(start).into(), span.len());
        let c = <[u8] as miette::SourceCode>::read_span(
            window,
            &local,
            context_lines_before,
            context_lines_after,
        )?;
        let data = text
            .as_bytes()
            .get(start + c.span().offset()..start + c.span().offset() + c.span().len())
            .ok_or(MietteError::OutOfBounds)?;
        Ok(Box::new(MietteSpanContents::new(
            data,
            SourceSpan::new((start + c.span().offset()).into(), c.span().len()),
            from + c.line(),
            c.column(),
            from + c.line_count(),
        )))
    }
}

impl fmt::Display for Rendered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Rendered {}

impl miette::Diagnostic for Rendered {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h.as_str()) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.src.as_ref().map(|s| s as &dyn miette::SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            None
        } else {
            Some(Box::new(self.labels.iter().cloned()))
        }
    }
}

/// Suggests the closest of `candidates` to `name`, for "did you mean" help.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let mut best: Option<(f64_free::Score, &str)> = None;
    for c in candidates {
        let d = strsim::damerau_levenshtein(name, c);
        let limit = (name.chars().count().max(c.chars().count()) / 3).max(1);
        if d <= limit && best.is_none_or(|(b, _)| d < b.0) {
            best = Some((f64_free::Score(d), c));
        }
    }
    best.map(|(_, c)| format!("did you mean `{c}`?"))
}

mod f64_free {
    /// An edit distance (kept as an integer: no floats anywhere in the library).
    #[derive(Clone, Copy)]
    pub struct Score(pub usize);
}
