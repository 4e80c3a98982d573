//! The yibao policy language.
//!
//! The pipeline, one module a step:
//! - [`parse`]: text → syntax tree ([`ast`]), with spans; malformed text gives diagnostics.
//! - [`merge`]: applies a version that `extends` another onto its parent.
//! - [`compile`](mod@compile): checks the tree and lowers it to the engine's IR ([`yibao_engine::Policy`]).
//! - [`fmt`]: the canonical text of a policy.
//!
//! Diagnostics ([`Diagnostic`]) carry spans into a [`SourceMap`]; they render with miette
//! (file, line, column, the span underlined) or as JSON.
//!
//! ```
//! let text = r#"
//! policy demo.resident "示例" "demo"
//! effective 2024-01-01
//! care [inpatient]
//! layer basic "统筹基金" {
//!   base in_scope
//!   deductible per_admission 800 [placeholder]
//!   ratio by level { 1: 80%  2: 75%  3: 70% } [placeholder]
//! }
//! "#;
//! let out = yibao_lang::compile_text("demo.policy", text);
//! assert!(out.diagnostics.iter().all(|d| !d.is_error()));
//! assert_eq!(out.policy.unwrap().layers.len(), 1);
//! ```

#![warn(missing_docs)]

/// The syntax tree.
pub mod ast;
/// Checking and lowering to the engine's IR.
pub mod compile;
/// Diagnostics.
pub mod diag;
/// The canonical text of a policy.
pub mod fmt;
/// `extends`: a version over its parent.
pub mod merge;
/// The parser.
pub mod parse;
/// Source files and spans.
pub mod source;
/// The vocabulary of known dimension values.
pub mod vocab;

pub use compile::{compile, compile_with, Compiled, Overrides};
pub use diag::{Diagnostic, DiagnosticJson, Severity};
pub use source::{SourceFile, SourceMap, Span};

/// The result of checking a standalone text: the compiled policy (if no error), every
/// diagnostic, and the source map to render them with.
#[derive(Debug)]
pub struct TextResult {
    /// The compiled policy, when there was no error.
    pub policy: Option<yibao_engine::Policy>,
    /// Every diagnostic.
    pub diagnostics: Vec<Diagnostic>,
    /// The source, for rendering the diagnostics.
    pub map: SourceMap,
}

/// Parses, checks and compiles one text that does not `extends` another.
pub fn compile_text(name: &str, text: &str) -> TextResult {
    let mut map = SourceMap::new();
    let file = map.add(name, text);
    match parse::parse(file, text) {
        Err(diagnostics) => TextResult {
            policy: None,
            diagnostics,
            map,
        },
        Ok(ast) => {
            let c = compile(&ast, &map, String::new());
            TextResult {
                policy: c.policy,
                diagnostics: c.diagnostics,
                map,
            }
        }
    }
}
