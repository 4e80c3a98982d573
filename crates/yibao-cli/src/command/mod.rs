pub mod batch;
pub mod check;
pub mod diff;
pub mod estimate;
pub mod fmt;
pub mod gen;
pub mod policies;
pub mod serve;
pub mod vectors;

/// Prints a miette report for each diagnostic to stderr.
pub fn print_diagnostics(map: &yibao::lang::SourceMap, diags: &[yibao::Diagnostic]) {
    for d in diags {
        eprintln!("{:?}", d.to_report(map));
    }
}

/// Prints the errors (not the warnings) of every file of a registry.
pub fn print_registry_errors(reg: &yibao::Registry) {
    for (_, ds) in &reg.diagnostics {
        print_diagnostics(
            &reg.map,
            &ds.iter()
                .filter(|d| d.is_error())
                .cloned()
                .collect::<Vec<_>>(),
        );
    }
}

/// The bundled policies, with extra policy files or folders loaded over them (a draft, fixtures).
/// Errors in the extra files are printed; the caller exits with the code returned.
pub fn registry(extra: &[std::path::PathBuf]) -> Result<yibao::Registry, crate::Exit> {
    if extra.is_empty() {
        return Ok(yibao::Registry::bundled());
    }
    match crate::files::read_tree(extra, &["policy"]) {
        Ok(more) => {
            let reg = yibao::with_drafts(
                more.into_iter()
                    .filter(|(n, _)| n.ends_with(".policy"))
                    .collect(),
            );
            if reg.has_errors() {
                print_registry_errors(&reg);
                return Err(crate::Exit::Findings);
            }
            Ok(reg)
        }
        Err(e) => {
            eprintln!("error: {e}");
            Err(crate::Exit::Usage)
        }
    }
}

/// A ratio as a percentage with two decimals (`58.99%`), or `–` when there is none.
/// Splits `--set PATH=VALUE` at the first `=` outside brackets, so a path into a `for` block
/// (`basic.for[group=retired].ratio=50%`) keeps its own `=`.
pub fn split_override(s: &str) -> Option<(&str, &str)> {
    let mut depth = 0i32;
    for (i, c) in s.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            '=' if depth == 0 => return Some((&s[..i], &s[i + 1..])),
            _ => {}
        }
    }
    None
}

pub fn percent(r: Option<rust_decimal::Decimal>) -> String {
    r.map(|x| format!("{}%", (x * rust_decimal::Decimal::ONE_HUNDRED).round_dp(2)))
        .unwrap_or_else(|| "–".into())
}
