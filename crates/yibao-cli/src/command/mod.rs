pub mod check;
pub mod estimate;
pub mod fmt;
pub mod policies;
pub mod serve;
pub mod vectors;

/// Prints a miette report for each diagnostic to stderr.
pub fn print_diagnostics(map: &yibao::lang::SourceMap, diags: &[yibao::Diagnostic]) {
    for d in diags {
        eprintln!("{:?}", d.to_report(map));
    }
}
