use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use comfy_table::{presets, Table};
use yibao::diff::{diff, DiffReport};
use yibao::sample::{sample, SampleOptions};
use yibao::{Claim, Policy};
use yibao_batch::{CsvRows, Format, JsonlRows, Rows};

use crate::Exit;

#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  yibao diff tianjin.resident@2014-07-01 tianjin.resident@2020-03-01\n  yibao diff tianjin.resident draft.policy --claims claims.csv\n  yibao diff beijing.resident@2018-01-01 beijing.resident@2019-01-01 --json\n\nA version is `region.scheme@YYYY-MM-DD`, `region.scheme` (its latest version), or a policy file\n(a draft, loaded over the bundled policies; it may `extends` one of them). Without --claims the\nimpact is measured on a seeded synthetic sample of the new policy's claims (yibao gen)."
)]
pub struct Args {
    /// The old version.
    old: String,
    /// The new version.
    new: String,
    /// Claims to measure the impact on (CSV or JSON Lines, as for `yibao batch`).
    #[arg(long)]
    claims: Option<PathBuf>,
    /// Persons in the synthetic sample when no --claims file is given.
    #[arg(long, default_value_t = 2000)]
    persons: u64,
    /// Seed of the synthetic sample.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

fn read_claims(path: &Path) -> Result<Vec<Claim>, String> {
    let f =
        std::fs::File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let r = BufReader::new(f);
    let mut rows: Box<dyn Rows> = match Format::from_path(path) {
        Some(Format::Jsonl) => Box::new(JsonlRows::new(r, false)),
        _ => Box::new(CsvRows::new(r, false).map_err(|e| e.to_string())?),
    };
    let mut out = vec![];
    while let Some(row) = rows.next_row() {
        let row = row.map_err(|e| e.to_string())?;
        out.push(*row.claim.map_err(|e| format!("{}: {e}", path.display()))?);
    }
    Ok(out)
}

pub fn run(a: Args) -> Exit {
    match run_inner(&a) {
        Ok(report) => {
            if a.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&report).unwrap_or_default()
                );
            } else {
                print!("{}", render(&report));
                match &a.claims {
                    Some(p) => println!("claims: {}", p.display()),
                    None => println!(
                        "claims: a synthetic sample ({} persons, seed {}; `yibao gen`), plausible \
                         but not calibrated to real statistics: read the impact as an \
                         illustration, or measure it on real claims with --claims FILE",
                        a.persons, a.seed
                    ),
                }
            }
            Exit::Ok
        }
        Err(e) => {
            eprintln!("error: {e}");
            Exit::Usage
        }
    }
}

fn run_inner(a: &Args) -> Result<DiffReport, String> {
    // Files named on the command line are drafts loaded over the bundled policies.
    let is_file = |s: &str| s.ends_with(".policy") || Path::new(s).is_file();
    let drafts: Vec<(String, String)> = [&a.old, &a.new]
        .iter()
        .filter(|s| is_file(s))
        .map(|s| {
            std::fs::read_to_string(s.as_str())
                .map(|t| (s.to_string(), t))
                .map_err(|e| format!("cannot read {s}: {e}"))
        })
        .collect::<Result<_, _>>()?;
    let reg = yibao::with_drafts(drafts);
    let resolve = |s: &str| -> Result<Arc<Policy>, String> {
        if is_file(s) {
            let v = reg
                .versions()
                .iter()
                .find(|v| v.file == s)
                .ok_or_else(|| format!("{s} holds no policy version"))?;
            if let Some(p) = &v.policy {
                return Ok(p.clone());
            }
            let errors: Vec<String> = reg
                .diagnostics
                .iter()
                .filter(|(f, _)| f == s)
                .flat_map(|(_, ds)| ds.iter().filter(|d| d.is_error()))
                .map(|d| d.message.clone())
                .collect();
            return Err(format!("{s} has errors: {}", errors.join("; ")));
        }
        yibao::version_ref(&reg, s)
    };
    let (old, new) = (resolve(&a.old)?, resolve(&a.new)?);
    let claims = match &a.claims {
        Some(p) => read_claims(p)?,
        None => sample(
            &reg,
            &SampleOptions {
                persons: a.persons,
                seed: a.seed,
                year: new.effective.year().max(2000),
                policy: Some(new.id.to_string()),
            },
        )
        .or_else(|_| {
            // The new version's id may not be in force mid-year (a version dated late in the year):
            // sample the next year.
            sample(
                &reg,
                &SampleOptions {
                    persons: a.persons,
                    seed: a.seed,
                    year: new.effective.year() + 1,
                    policy: Some(new.id.to_string()),
                },
            )
        })?
        .collect(),
    };
    Ok(diff(&old, &new, &claims))
}

fn render(r: &DiffReport) -> String {
    let mut p = Table::new();
    p.load_preset(presets::UTF8_FULL_CONDENSED);
    p.set_header(["parameter", "old", "new"]);
    let side = |s: &Option<yibao::diff::ParamSide>| match s {
        Some(s) => format!(
            "{} [{}{}]",
            s.text,
            s.provenance,
            s.source
                .as_ref()
                .map(|x| format!(" {x}"))
                .unwrap_or_default()
        ),
        None => "—".into(),
    };
    for c in &r.params {
        p.add_row([c.path.clone(), side(&c.old), side(&c.new)]);
    }
    let i = &r.impact;
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED);
    t.set_header(["impact", "before", "after"]);
    t.add_row([
        "基金支付 fund cost".to_string(),
        i.fund_before.to_string(),
        i.fund_after.to_string(),
    ]);
    t.add_row([
        "个人负担 out of pocket".to_string(),
        i.out_of_pocket_before.to_string(),
        i.out_of_pocket_after.to_string(),
    ]);
    t.add_row([
        "政策范围内报销比例 policy-scope ratio".to_string(),
        super::percent(i.policy_scope_ratio_before),
        super::percent(i.policy_scope_ratio_after),
    ]);
    let mut out = format!(
        "{}@{} → {}@{}\n{} parameter(s) changed\n{p}\n",
        r.old.id,
        r.old.version,
        r.new.id,
        r.new.version,
        r.params.len()
    );
    out.push_str(&format!(
        "{} claims of {} persons; {} settled under both; out-of-pocket changed for {}\n",
        i.claims, i.persons, i.settled, i.changed
    ));
    out.push_str(&format!(
        "change per claim (new − old): mean {}, min {}, p10 {}, median {}, p90 {}, max {}\n{t}\n",
        i.mean_change, i.min_change, i.p10_change, i.p50_change, i.p90_change, i.max_change
    ));
    if !i.unsettled.is_empty() {
        out.push_str(&format!(
            "{} claim(s) not settled under both versions, e.g. {}\n",
            i.unsettled.len(),
            i.unsettled[0]
        ));
    }
    out
}
