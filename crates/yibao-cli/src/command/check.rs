use std::path::PathBuf;

use yibao::lang::Severity;
use yibao::Registry;

use crate::Exit;

#[derive(clap::Args)]
pub struct Args {
    /// Policy files or folders (default: the bundled policies).
    paths: Vec<PathBuf>,
    /// Print diagnostics as JSON.
    #[arg(long)]
    json: bool,
    /// Also list every parameter with its path, value and provenance.
    #[arg(long)]
    params: bool,
    /// Print the fidelity report (Markdown): figures by provenance per version, and the
    /// placeholders of each policy's latest version.
    #[arg(long)]
    provenance: bool,
}

pub fn run(a: Args) -> Exit {
    let reg = if a.paths.is_empty() {
        Registry::bundled()
    } else {
        match crate::files::read_tree(&a.paths, &["policy"]) {
            Ok(f) => Registry::from_files(f),
            Err(e) => {
                eprintln!("error: {e}");
                return Exit::Usage;
            }
        }
    };
    if a.provenance {
        print!("{}", yibao::fidelity_markdown(&reg));
        return if reg.has_errors() {
            Exit::Findings
        } else {
            Exit::Ok
        };
    }
    let all: Vec<&yibao::Diagnostic> = reg.diagnostics.iter().flat_map(|(_, d)| d.iter()).collect();
    let errors = all.iter().filter(|d| d.severity == Severity::Error).count();
    let warnings = all.len() - errors;
    if a.json {
        let out: Vec<_> = all.iter().map(|d| d.to_json(&reg.map)).collect();
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    } else {
        let owned: Vec<yibao::Diagnostic> = all.iter().map(|d| (*d).clone()).collect();
        super::print_diagnostics(&reg.map, &owned);
        if a.params {
            for v in reg.versions() {
                if let Some(p) = &v.policy {
                    println!("{}@{} ({})", v.id, v.effective, v.file);
                    for param in &p.params {
                        println!(
                            "  {:<48} {:>12}  {:<11} {}",
                            param.path,
                            param.text,
                            param.provenance.name(),
                            param.source.clone().unwrap_or_default()
                        );
                    }
                }
            }
        }
        eprintln!(
            "checked {} version(s) in {} file(s): {errors} error(s), {warnings} warning(s)",
            reg.versions().len(),
            reg.map.files().len()
        );
    }
    if errors > 0 {
        Exit::Findings
    } else {
        Exit::Ok
    }
}
