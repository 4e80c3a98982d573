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
    /// Check the policies against the national rules (the files given, loaded over the bundled
    /// policies so `extends` works; by default each bundled policy's current version). Exit 1
    /// on a violation that is not a known, explained deviation.
    #[arg(long)]
    compliance: bool,
    /// Indicators (YAML list, as policies/indicators.yaml) for the rules that need them.
    #[arg(long, value_name = "FILE", requires = "compliance")]
    indicators: Option<PathBuf>,
}

pub fn run(a: Args) -> Exit {
    if a.compliance {
        return compliance(&a);
    }
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

fn compliance(a: &Args) -> Exit {
    use yibao::compliance::{Indicators, Severity};
    let indicators = match &a.indicators {
        None => Indicators::bundled(),
        Some(p) => match std::fs::read_to_string(p)
            .map_err(|e| format!("cannot read {}: {e}", p.display()))
            .and_then(|t| Indicators::from_yaml(&t))
        {
            Ok(i) => i,
            Err(e) => {
                eprintln!("error: {e}");
                return Exit::Usage;
            }
        },
    };
    let (reg, only): (Registry, Option<Vec<String>>) = if a.paths.is_empty() {
        (Registry::bundled(), None)
    } else {
        match crate::files::read_tree(&a.paths, &["policy"]) {
            Ok(extra) => {
                let names = extra.iter().map(|(n, _)| n.clone()).collect();
                (yibao::with_drafts(extra), Some(names))
            }
            Err(e) => {
                eprintln!("error: {e}");
                return Exit::Usage;
            }
        }
    };
    if reg.has_errors() {
        super::print_registry_errors(&reg);
        return Exit::Findings;
    }
    let report = yibao::compliance_report(&reg, only.as_deref(), &indicators);
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
    } else {
        for v in &report {
            println!("{}@{}  ({})", v.policy, v.version, v.file);
            if v.findings.is_empty() {
                println!("  no findings");
            }
            for f in &v.findings {
                let sev = match f.finding.severity {
                    Severity::Violation => "violation",
                    Severity::Warning => "warning (verify)",
                    Severity::Info => "info",
                };
                println!(
                    "  {sev} [{}] {}:{}:{}\n    {}\n    {}\n    rests on: {} ({:?})",
                    f.finding.rule,
                    f.finding.file,
                    f.finding.line,
                    f.finding.column,
                    f.finding.message_zh,
                    f.finding.message_en,
                    f.finding.document,
                    f.finding.confidence
                );
                if let Some(k) = &f.known {
                    println!("    known deviation: {k}");
                }
            }
        }
    }
    let unexplained = report
        .iter()
        .flat_map(|v| &v.findings)
        .filter(|f| f.finding.severity == Severity::Violation && f.known.is_none())
        .count();
    if !a.json {
        let all: Vec<_> = report.iter().flat_map(|v| &v.findings).collect();
        let count = |s: Severity| all.iter().filter(|f| f.finding.severity == s).count();
        println!(
            "{} version(s) checked: {} violation(s) ({} explained as known deviations, {} not), \
             {} warning(s) to verify, {} info",
            report.len(),
            count(Severity::Violation),
            count(Severity::Violation) - unexplained,
            unexplained,
            count(Severity::Warning),
            count(Severity::Info)
        );
    }
    if unexplained > 0 {
        eprintln!("{unexplained} violation(s) of national rules");
        Exit::Findings
    } else {
        Exit::Ok
    }
}
