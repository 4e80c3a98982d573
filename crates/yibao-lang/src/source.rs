//! Source files and spans.

use std::sync::Arc;

/// Where a node was written: a file of the [`SourceMap`] and a byte range in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// The file's index in its source map.
    pub file: u32,
    /// The byte offset where it starts.
    pub start: u32,
    /// The byte offset where it ends.
    pub end: u32,
}

impl Span {
    /// A span of `file` from `start` to `end`.
    pub fn new(file: u32, start: usize, end: usize) -> Span {
        let c = |x: usize| u32::try_from(x).unwrap_or(u32::MAX);
        Span {
            file,
            start: c(start),
            end: c(end),
        }
    }
    /// Its length in bytes.
    pub fn len(&self) -> usize {
        self.end.saturating_sub(self.start) as usize
    }
    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Its byte range.
    pub fn range(&self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// One policy text and the name it is reported under.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The file's name.
    pub name: String,
    /// Its text.
    pub text: Arc<str>,
    /// Where each line starts, built on the first position asked for: every lookup after that is
    /// a binary search, so reporting many positions stays linear in the text overall.
    lines: Arc<std::sync::OnceLock<LineIndex>>,
}

impl PartialEq for SourceFile {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.text == other.text
    }
}

impl Eq for SourceFile {}

/// Line starts, and whether each line is ASCII (its columns are then byte differences).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct LineIndex {
    starts: Vec<u32>,
    ascii: Vec<bool>,
}

/// A location in human terms: 1-based line and column (columns count characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineCol {
    /// The line (1-based).
    pub line: u32,
    /// The column in characters (1-based).
    pub column: u32,
}

impl SourceFile {
    /// A file named `name` with `text`.
    pub fn new(name: impl Into<String>, text: impl Into<Arc<str>>) -> SourceFile {
        SourceFile {
            name: name.into(),
            text: text.into(),
            lines: Arc::default(),
        }
    }

    fn index(&self) -> &LineIndex {
        self.lines.get_or_init(|| {
            let mut ix = LineIndex {
                starts: vec![0],
                ascii: vec![],
            };
            let mut ascii = true;
            for (i, b) in self.text.bytes().enumerate() {
                if b == b'\n' {
                    ix.ascii.push(ascii);
                    ascii = true;
                    ix.starts.push(u32::try_from(i + 1).unwrap_or(u32::MAX));
                } else if !b.is_ascii() {
                    ascii = false;
                }
            }
            ix.ascii.push(ascii);
            ix
        })
    }

    /// Byte offsets where lines start (the first is 0).
    fn line_starts(&self) -> &[u32] {
        &self.index().starts
    }

    /// The 0-based line holding byte `offset` and the byte offset where that line starts.
    pub fn line_start(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let starts = self.line_starts();
        let at = u32::try_from(offset).unwrap_or(u32::MAX);
        let line = starts.partition_point(|s| *s <= at).saturating_sub(1);
        let start = starts.get(line).map_or(0, |s| *s as usize);
        (line, start)
    }

    /// The byte range of 0-based line `line`, without its newline.
    pub fn line_range(&self, line: usize) -> std::ops::Range<usize> {
        let starts = self.line_starts();
        let start = starts.get(line).map_or(self.text.len(), |s| *s as usize);
        let end = starts
            .get(line + 1)
            .map_or(self.text.len(), |s| (*s as usize).saturating_sub(1));
        start..end.max(start)
    }

    /// The number of lines (a text ending in a newline has an empty last line).
    pub fn line_count(&self) -> usize {
        self.line_starts().len()
    }

    /// The line and column of a byte offset.
    pub fn line_col(&self, offset: usize) -> LineCol {
        let offset = offset.min(self.text.len());
        let (line, line_start) = self.line_start(offset);
        let ascii = self.index().ascii.get(line).copied().unwrap_or(false);
        let column = if ascii {
            offset - line_start
        } else {
            self.text
                .get(line_start..offset)
                .map(|s| s.chars().count())
                .unwrap_or(0)
        } + 1;
        LineCol {
            line: u32::try_from(line + 1).unwrap_or(u32::MAX),
            column: u32::try_from(column).unwrap_or(u32::MAX),
        }
    }

    /// The text under a span.
    pub fn slice(&self, span: Span) -> &str {
        self.text.get(span.range()).unwrap_or("")
    }

    /// The first line of the text under `span`, trimmed: how a trace cites a clause.
    pub fn first_line(&self, span: Span) -> String {
        self.slice(span)
            .lines()
            .next()
            .unwrap_or("")
            .trim()
            .to_string()
    }
}

/// All files a compilation read, so any span can be rendered.
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    /// An empty map.
    pub fn new() -> Self {
        SourceMap::default()
    }
    /// Adds a file; returns its index.
    pub fn add(&mut self, name: impl Into<String>, text: impl Into<Arc<str>>) -> u32 {
        self.files.push(SourceFile::new(name, text));
        u32::try_from(self.files.len() - 1).unwrap_or(u32::MAX)
    }
    /// A file by index.
    pub fn get(&self, file: u32) -> Option<&SourceFile> {
        self.files.get(file as usize)
    }
    /// Every file.
    pub fn files(&self) -> &[SourceFile] {
        &self.files
    }
}
