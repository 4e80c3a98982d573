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
