//! `yibao`: estimate a reimbursement, settle claim files, check and format policies, run test
//! vectors, serve the API.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// `println!` that ends the program quietly when standard output is closed early
/// (`yibao estimate … | head`), instead of panicking on the broken pipe.
macro_rules! outln {
    () => {
        $crate::print_or_exit(format_args!("\n"))
    };
    ($($t:tt)*) => {
        $crate::print_or_exit(format_args!("{}\n", format_args!($($t)*)))
    };
}

mod command;
mod files;

// The batch command allocates claims on the reader thread and frees them on the workers;
// mimalloc handles that cross-thread pattern far better than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "yibao",
    version,
    about = "医保 — settle Chinese medical-insurance claims under versioned policy files"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Estimate what each fund pays and what you pay for a claim (or a year of claims).
    Estimate(Box<command::estimate::Args>),
    /// Check policy files: syntax, names, units, ranges, bands, provenance.
    Check(command::check::Args),
    /// Print policy files in canonical form (or check that they are).
    Fmt(command::fmt::Args),
    /// Run test vectors (YAML) and show what differed.
    Vectors(command::vectors::Args),
    /// List the bundled policies and their versions.
    Policies(command::policies::Args),
    /// Compare two policy versions: changed parameters and the impact on a set of claims.
    Diff(command::diff::Args),
    /// Settle a file of claims (CSV or JSON Lines), streaming, on every core; print a summary.
    Batch(Box<command::batch::Args>),
    /// Generate synthetic claims (CSV or JSON Lines) for benchmarks and demos.
    Gen(command::gen::Args),
    /// Serve the HTTP API (and the web page, when built) on 127.0.0.1.
    Serve(command::serve::Args),
}

/// How the command ended: 0 success, 1 a finding (errors in a policy, a failed vector, a
/// rejected claim), 2 a usage problem (bad flags or unreadable files).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Ok,
    Findings,
    Usage,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        match e {
            Exit::Ok => ExitCode::SUCCESS,
            Exit::Findings => ExitCode::from(1),
            Exit::Usage => ExitCode::from(2),
        }
    }
}

/// Writes to standard output; a reader that went away ends the program with success (there is
/// no one left to tell), any other write error with the usage code.
pub fn print_or_exit(args: std::fmt::Arguments) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write the output: {e}");
        std::process::exit(2);
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let exit = match cli.command {
        Command::Estimate(a) => command::estimate::run(*a),
        Command::Check(a) => command::check::run(a),
        Command::Fmt(a) => command::fmt::run(a),
        Command::Vectors(a) => command::vectors::run(a),
        Command::Policies(a) => command::policies::run(a),
        Command::Batch(a) => command::batch::run(*a),
        Command::Diff(a) => command::diff::run(a),
        Command::Gen(a) => command::gen::run(a),
        Command::Serve(a) => command::serve::run(a),
    };
    exit.into()
}
