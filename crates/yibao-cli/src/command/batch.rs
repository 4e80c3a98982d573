use std::collections::BTreeMap;
use std::io::{BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};

use comfy_table::{presets, Table};
use yibao_batch::arrow::{IpcSink, ParquetSink};
use yibao_batch::{
    BatchError, CsvRows, Format, JsonlRows, Options, Progress, RejectSink, Rows, Summary, Target,
};

use crate::Exit;

#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  yibao gen --persons 100000 --output claims.csv\n  yibao batch --input claims.csv --output settled.csv\n  yibao batch --input claims.jsonl --output settled.jsonl --skip-invalid --summary-json summary.json\n  yibao batch --input claims.csv --output reform.csv --set basic.ratio=80%   # a drafter's what-if\n\nInput: CSV with a header (columns: id, person, region, scheme, date, group, categories\n(separated by ;), care, level, place, referral, disease, case_code, stay_days, total,\nout_of_list, pre_self_pay, over_limit, special_drugs — the platform names psn_no, setl_time, med_type,\nact_ipt_days, medfee_sumamt, fulamt_ownpay_amt, preselfpay_amt, overlmt_selfpay also work), or JSON Lines with one claim\nobject per line (the `estimate` claim format). A month of long-term care (a `<region>.ltc`\npolicy) adds the columns of its `month`: days, hospital_days, visits, hours, age, months_used,\nand one per cost kind: personal_care, nursing, supplies, equipment, assessment, family_care;\nits total may be left empty (the sum of its costs).\n\nA person's claims must be together and in date order (each person's year folds one state);\notherwise the run stops at the first row out of order, unless --sort is given (which reads the\nwhole input into memory). A person whose claims come back after other persons is caught at the\nrow when they were among the last 131,072 persons, otherwise at the end of the input (earlier\npersons are kept in temporary files, so memory does not grow with the input); either way the\nerror names both lines and nothing is moved into place. A person with very many claims is\nsettled in several chunks, one after another. A row that cannot be settled stops the run with\nits line number, or with --skip-invalid is written with the reason to the reject file. The\noutput is written to a temporary file and moved into place only when the run succeeds."
)]
pub struct Args {
    /// Claims: a .csv, .jsonl, .parquet or .arrow file, or `-` for standard input (CSV, JSON
    /// Lines).
    #[arg(long, short)]
    input: PathBuf,
    /// Results: a .csv, .jsonl, .parquet or .arrow file, or `-` for standard output.
    #[arg(long, short)]
    output: PathBuf,
    /// Input format (csv, jsonl, parquet, arrow); by default from the input's extension.
    #[arg(long)]
    input_format: Option<String>,
    /// Output format (csv, jsonl, parquet, arrow); by default from the output's extension.
    #[arg(long)]
    output_format: Option<String>,
    /// Also one output column per layer id (`layer_<id>`: what each layer of the row's policy
    /// paid; empty where the policy has no such layer).
    #[arg(long)]
    layer_columns: bool,
    /// The policy (`region.scheme`) for rows that do not give region and scheme.
    #[arg(long)]
    policy: Option<String>,
    /// Replace a policy figure for the whole run: `--set basic.ratio=80%`.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    overrides: Vec<String>,
    /// Extra policy files or folders, loaded over the bundled ones.
    #[arg(long = "policies", value_name = "PATH")]
    policies: Vec<PathBuf>,
    /// Write invalid rows to the reject file (with the reason) and go on.
    #[arg(long)]
    skip_invalid: bool,
    /// The reject file (default: beside the output, `<output>.rejects.<ext>`).
    #[arg(long, value_name = "PATH")]
    rejects: Option<PathBuf>,
    /// Sort by person and date first (reads the whole input into memory).
    #[arg(long)]
    sort: bool,
    /// Worker threads (default: every core).
    #[arg(long)]
    threads: Option<usize>,
    /// Also write the summary as JSON to this file.
    #[arg(long, value_name = "PATH")]
    summary_json: Option<PathBuf>,
    /// Also time the settling alone (not reading, ordering or writing), summed over the
    /// threads: in the summary and as `settle_ns` in --summary-json (two clock reads a claim).
    #[arg(long)]
    time_settle: bool,
    /// No progress bar and no summary table.
    #[arg(long, short)]
    quiet: bool,
}

/// The format named by `flag`, or by the path's extension, else CSV.
pub fn format_of(flag: Option<&str>, path: Option<&Path>) -> Result<Format, String> {
    match flag {
        Some("csv") => Ok(Format::Csv),
        Some("jsonl") | Some("ndjson") => Ok(Format::Jsonl),
        Some(other) => Err(format!("unknown format `{other}` (csv or jsonl)")),
        None => Ok(path
            .filter(|p| p.as_os_str() != "-")
            .and_then(Format::from_path)
            .unwrap_or(Format::Csv)),
    }
}

/// A batch file format: text, or Arrow's columnar ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Io {
    Text(Format),
    Parquet,
    Arrow,
}

/// The batch format named by `flag`, or by the path's extension (`.parquet`, `.arrow`, `.ipc`,
/// `.feather`), else as [`format_of`].
fn io_of(flag: Option<&str>, path: &Path) -> Result<Io, String> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match (flag, ext.as_deref()) {
        (Some("parquet"), _) | (None, Some("parquet")) => Ok(Io::Parquet),
        (Some("arrow"), _) | (None, Some("arrow" | "arrows" | "ipc" | "feather")) => Ok(Io::Arrow),
        (Some(f), _) if !matches!(f, "csv" | "jsonl" | "ndjson") => Err(format!(
            "unknown format `{f}` (csv, jsonl, parquet or arrow)"
        )),
        _ => format_of(flag, Some(path)).map(Io::Text),
    }
}

fn ext(f: Format) -> &'static str {
    match f {
        Format::Csv => "csv",
        Format::Jsonl => "jsonl",
    }
}

/// The format of the reject file: the input's, CSV for Parquet and Arrow input.
fn text_of(io: Io) -> Format {
    match io {
        Io::Text(f) => f,
        Io::Parquet | Io::Arrow => Format::Csv,
    }
}

pub fn run(a: Args) -> Exit {
    match run_inner(a) {
        Ok(exit) => exit,
        Err((exit, msg)) => {
            eprintln!("error: {msg}");
            exit
        }
    }
}

type Failure = (Exit, String);

fn usage(msg: impl Into<String>) -> Failure {
    (Exit::Usage, msg.into())
}

fn run_inner(a: Args) -> Result<Exit, Failure> {
    let in_io = io_of(a.input_format.as_deref(), &a.input).map_err(usage)?;
    let out_io = io_of(a.output_format.as_deref(), &a.output).map_err(usage)?;
    let in_format = text_of(in_io);
    let mut overrides = BTreeMap::new();
    for s in &a.overrides {
        let Some((k, v)) = super::split_override(s) else {
            return Err(usage(format!(
                "--set `{s}`: expected PATH=VALUE, e.g. basic.ratio=80%"
            )));
        };
        overrides.insert(k.trim().to_string(), v.trim().to_string());
    }
    let reg = super::registry(&a.policies)
        .map_err(|e| (e, "the extra policy files have errors".to_string()))?;
    let opts = Options {
        policy: a.policy.clone(),
        overrides,
        skip_invalid: a.skip_invalid,
        sort: a.sort,
        threads: a.threads.unwrap_or_else(|| Options::default().threads),
        layer_columns: a.layer_columns,
        time_settle: a.time_settle,
        ..Options::default()
    };

    // Input.
    let stdin_input = a.input.as_os_str() == "-";
    if stdin_input && !matches!(in_io, Io::Text(_)) {
        return Err(usage(
            "Parquet and Arrow input must be a file (it is read by row group), not `-`",
        ));
    }
    let size = if stdin_input {
        None
    } else {
        std::fs::metadata(&a.input).ok().map(|m| m.len())
    };
    let reader: Box<dyn std::io::Read + Send> = if stdin_input {
        Box::new(std::io::stdin())
    } else {
        Box::new(
            std::fs::File::open(&a.input)
                .map_err(|e| usage(format!("cannot read {}: {e}", a.input.display())))?,
        )
    };
    let keep_raw = a.skip_invalid;
    let findings = |e: BatchError| (Exit::Findings, e.to_string());
    let mut rows: Box<dyn Rows> = match in_io {
        Io::Text(Format::Csv) => Box::new(
            CsvRows::new(BufReader::with_capacity(1 << 20, reader), keep_raw).map_err(findings)?,
        ),
        Io::Text(Format::Jsonl) => Box::new(JsonlRows::new(
            BufReader::with_capacity(1 << 20, reader),
            keep_raw,
        )),
        Io::Parquet | Io::Arrow => {
            drop(reader);
            let file = std::fs::File::open(&a.input)
                .map_err(|e| usage(format!("cannot read {}: {e}", a.input.display())))?;
            if in_io == Io::Parquet {
                Box::new(yibao_batch::arrow::parquet_rows(file, 8_192).map_err(findings)?)
            } else {
                Box::new(yibao_batch::arrow::ipc_rows(file).map_err(findings)?)
            }
        }
    };

    // Output: a temporary file beside the target, moved into place on success.
    let to_stdout = a.output.as_os_str() == "-";
    let dir = a
        .output
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp_out = if to_stdout {
        None
    } else {
        Some(
            output_file(dir)
                .map_err(|e| usage(format!("cannot write in {}: {e}", dir.display())))?,
        )
    };
    let reject_path = a.rejects.clone().unwrap_or_else(|| {
        let name = a
            .output
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .filter(|s| s != "-")
            .unwrap_or_else(|| "batch".into());
        dir.join(format!("{name}.rejects.{}", ext(in_format)))
    });
    let mut tmp_rejects = if a.skip_invalid {
        Some(
            output_file(
                reject_path
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(Path::new(".")),
            )
            .map_err(|e| usage(format!("cannot write the reject file: {e}")))?,
        )
    } else {
        None
    };

    let show = !a.quiet && std::io::stderr().is_terminal();
    let bar = if show {
        let b = match size {
            Some(n) => indicatif::ProgressBar::new(n).with_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({eta}) {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            ),
            None => indicatif::ProgressBar::new_spinner(),
        };
        Some(b)
    } else {
        None
    };
    let progress = |p: Progress| {
        if let Some(b) = &bar {
            b.set_position(p.bytes);
            b.set_message(format!("{} claims", p.rows));
        }
    };

    let started = std::time::Instant::now();
    let result = {
        let mut out_w: Box<dyn Write + Send> = match &mut tmp_out {
            Some(t) => Box::new(std::io::BufWriter::with_capacity(1 << 20, t.as_file_mut())),
            None => Box::new(std::io::BufWriter::with_capacity(
                1 << 16,
                std::io::stdout(),
            )),
        };
        let mut rej_w = tmp_rejects
            .as_mut()
            .map(|t| std::io::BufWriter::new(t.as_file_mut()));
        let sink = rej_w.as_mut().map(|w| RejectSink {
            writer: w as &mut (dyn Write + Send),
            format: in_format,
        });
        let r = match out_io {
            Io::Text(f) => {
                yibao_batch::run(&reg, rows.as_mut(), &mut out_w, f, sink, &opts, &progress)
            }
            Io::Parquet => {
                let schema = yibao_batch::output_schema(&reg, &opts);
                ParquetSink::new(&mut out_w, schema).and_then(|mut p| {
                    let r = yibao_batch::run_to(
                        &reg,
                        rows.as_mut(),
                        Target::Arrow(&mut p),
                        sink,
                        &opts,
                        &progress,
                    );
                    r.and_then(|s| p.finish().map(|_| s))
                })
            }
            Io::Arrow => {
                let schema = yibao_batch::output_schema(&reg, &opts);
                IpcSink::file(&mut out_w, &schema).and_then(|mut p| {
                    let r = yibao_batch::run_to(
                        &reg,
                        rows.as_mut(),
                        Target::Arrow(&mut p),
                        sink,
                        &opts,
                        &progress,
                    );
                    r.and_then(|s| p.finish().map(|_| s))
                })
            }
        };
        let flushed = out_w.flush().and_then(|_| match &mut rej_w {
            Some(w) => w.flush(),
            None => Ok(()),
        });
        r.and_then(|s| flushed.map(|_| s).map_err(BatchError::Output))
    };
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let summary = match result {
        Ok(s) => s,
        Err(e) => {
            let exit = match e {
                BatchError::Row(_)
                | BatchError::Order(_)
                | BatchError::Input(_)
                | BatchError::Column { .. } => Exit::Findings,
                _ => Exit::Usage,
            };
            let mut msg = e.to_string();
            if matches!(e, BatchError::Row(_)) {
                msg.push_str(
                    "\n  (pass --skip-invalid to write such rows to a reject file and go on)",
                );
            }
            if !to_stdout {
                msg.push_str(&format!("\n  no output written to {}", a.output.display()));
            }
            return Err((exit, msg));
        }
    };
    if let Some(t) = tmp_out {
        t.persist(&a.output)
            .map_err(|e| usage(format!("cannot write {}: {e}", a.output.display())))?;
    }
    if let Some(t) = tmp_rejects {
        if summary.rejected > 0 {
            t.persist(&reject_path)
                .map_err(|e| usage(format!("cannot write {}: {e}", reject_path.display())))?;
        }
    }
    if let Some(p) = &a.summary_json {
        let text = serde_json::to_string_pretty(&summary).unwrap_or_default();
        std::fs::write(p, text + "\n")
            .map_err(|e| usage(format!("cannot write {}: {e}", p.display())))?;
    }
    if !a.quiet {
        let secs = started.elapsed().as_millis();
        let rate = u128::from(summary.claims) * 1000 / secs.max(1);
        let mut text = format!(
            "{} claims in {}.{:02} s ({rate} claims/s, {} threads)",
            summary.claims,
            secs / 1000,
            secs % 1000 / 10,
            opts.threads
        );
        if let Some(kb) = peak_rss_kb() {
            text.push_str(&format!("; peak memory {} MB", kb / 1024));
        }
        if let Some(ns) = summary.settle_ns {
            let per = u128::from(ns) / u128::from(summary.claims.max(1));
            text.push_str(&format!(
                "\nsettling alone: {}.{:03} s over all threads ({per} ns a claim)",
                ns / 1_000_000_000,
                ns % 1_000_000_000 / 1_000_000
            ));
        }
        text.push('\n');
        text.push_str(&render(&summary));
        if to_stdout {
            eprint!("{text}");
        } else {
            print!("{text}");
        }
        if summary.rejected > 0 {
            eprintln!(
                "warning: {} rows rejected → {}",
                summary.rejected,
                reject_path.display()
            );
        }
    }
    Ok(Exit::Ok)
}

fn render(s: &Summary) -> String {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED);
    t.set_header(["", "amount (yuan)"]);
    t.add_row(["医疗费总额 total billed".to_string(), s.total.to_string()]);
    t.add_row([
        "政策范围内费用 policy-scope amount".to_string(),
        s.in_scope.to_string(),
    ]);
    for (k, v) in &s.by_layer_kind {
        t.add_row([format!("  paid by {k}"), v.to_string()]);
    }
    t.add_row([
        "基金支付 funds in all".to_string(),
        s.fund_total.to_string(),
    ]);
    t.add_row([
        "个人负担 patients in all".to_string(),
        s.out_of_pocket.to_string(),
    ]);
    for (k, v) in &s.out_of_pocket_parts {
        t.add_row([format!("  of which {k}"), v.to_string()]);
    }
    let mut d = Table::new();
    d.load_preset(presets::UTF8_FULL_CONDENSED);
    d.set_header(["out of pocket (yuan)", "claims"]);
    for b in &s.out_of_pocket_distribution {
        let range = match (&b.from, &b.to) {
            (None, Some(to)) => format!("= {to}"),
            (Some(f), Some(to)) => format!("{f} – {to}"),
            (Some(f), None) => format!("> {f}"),
            (None, None) => "all".into(),
        };
        d.add_row([range, b.claims.to_string()]);
    }
    format!(
        "{} claims of {} persons: {} settled, {} rejected; {} relied on unverified or overridden figures\n{t}\n政策范围内报销比例 policy-scope reimbursement ratio: {} (all layers), {} (basic fund)\n{d}\n",
        s.claims,
        s.persons,
        s.settled,
        s.rejected,
        s.claims_on_unverified_figures,
        super::percent(s.policy_scope_ratio),
        super::percent(s.basic_policy_scope_ratio),
    )
}

/// The process's peak resident memory (Linux `VmHWM`), in KiB.
fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A temporary file beside the target, created with mode 0666 so the umask decides its final
/// permissions like any file the user creates (tempfile's default, 0600, survives the rename).
fn output_file(dir: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    let mut b = tempfile::Builder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        b.permissions(std::fs::Permissions::from_mode(0o666));
    }
    b.tempfile_in(dir)
}
