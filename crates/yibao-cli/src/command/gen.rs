use std::io::Write;
use std::path::PathBuf;

use yibao_batch::gen::{generate, GenOptions};

use crate::Exit;

#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  yibao gen --persons 1000 --seed 7 --output claims.csv\n  yibao gen --persons 10 --format jsonl --policy ziyang.resident\n\nThe claims are synthetic (a plausible mix of care types, hospital levels, amounts and special\ncategories over every bundled city and scheme), grouped by person and in date order, ready for\n`yibao batch`. The same seed gives the same file."
)]
pub struct Args {
    /// How many persons (each has 1–12 claims in the year).
    #[arg(long, default_value_t = 1000)]
    persons: u64,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The year of the claims.
    #[arg(long, default_value_t = 2024)]
    year: i32,
    /// Only this policy (`region.scheme`); by default every bundled city and scheme.
    #[arg(long)]
    policy: Option<String>,
    /// Where to write; standard output by default.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// csv or jsonl; by default from the output's extension, else csv.
    #[arg(long)]
    format: Option<String>,
}

pub fn run(a: Args) -> Exit {
    let format = match super::batch::format_of(a.format.as_deref(), a.output.as_deref()) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::Usage;
        }
    };
    let reg = yibao::Registry::bundled();
    let opts = GenOptions {
        persons: a.persons,
        seed: a.seed,
        year: a.year,
        policy: a.policy,
    };
    let result = match &a.output {
        Some(p) => match std::fs::File::create(p) {
            Ok(f) => {
                let mut w = std::io::BufWriter::new(f);
                generate(&reg, &opts, format, &mut w).and_then(|n| {
                    w.flush()?;
                    Ok(n)
                })
            }
            Err(e) => {
                eprintln!("error: cannot create {}: {e}", p.display());
                return Exit::Usage;
            }
        },
        None => {
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::new(stdout.lock());
            generate(&reg, &opts, format, &mut w)
        }
    };
    match result {
        Ok(n) => {
            if let Some(p) = &a.output {
                eprintln!("{n} claims of {} persons → {}", a.persons, p.display());
            }
            Exit::Ok
        }
        Err(e) => {
            eprintln!("error: {e}");
            Exit::Usage
        }
    }
}
