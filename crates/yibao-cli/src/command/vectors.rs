use std::path::PathBuf;

use crate::Exit;

#[derive(clap::Args)]
pub struct Args {
    /// Folders (or files) of vectors; `*.policy` files found there are loaded as fixtures.
    #[arg(default_value = "tests/vectors")]
    paths: Vec<PathBuf>,
    /// Print results as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(a: Args) -> Exit {
    let (policies, vectors) = match (
        crate::files::read_tree(&a.paths, &["policy"]),
        crate::files::read_tree(&a.paths, &["yaml", "yml"]),
    ) {
        (Ok(p), Ok(v)) => (
            p.into_iter()
                .filter(|(n, _)| n.ends_with(".policy"))
                .collect(),
            v.into_iter()
                .filter(|(n, _)| n.ends_with(".yaml") || n.ends_with(".yml"))
                .collect::<Vec<_>>(),
        ),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("error: {e}");
            return Exit::Usage;
        }
    };
    let (reg, results) = yibao::vectors::run_all(policies, &vectors);
    if reg.has_errors() {
        super::print_registry_errors(&reg);
    }
    let failed = results.iter().filter(|r| !r.passed).count();
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&results).unwrap_or_default()
        );
    } else {
        for r in &results {
            println!(
                "{} {:<14} {}  ({})",
                if r.passed { "PASS" } else { "FAIL" },
                r.id,
                r.title,
                r.file
            );
            for d in &r.diffs {
                println!("       {d}");
            }
        }
        println!("{} passed, {} failed", results.len() - failed, failed);
    }
    if failed > 0 || results.is_empty() {
        Exit::Findings
    } else {
        Exit::Ok
    }
}
