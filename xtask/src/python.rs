//! `cargo xtask python`: the Python package built, installed into a fresh virtual environment,
//! and tested against the CLI (pytest: estimate on every vector, settle_table = `yibao batch`,
//! Parquet and Arrow round trips, Spark local[2], DuckDB, Polars, bad input, the README section).
//!
//! Installs what is missing: `python3-venv` and a Java runtime (`default-jre-headless`, for
//! Spark) from Debian; maturin, pyarrow, pyspark, pytest, polars and duckdb, pinned in
//! crates/yibao-py/requirements.txt, into a venv under the target directory. Every path handed
//! to a tool is absolute (pyo3's build script and Spark's workers run in other directories).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::{apt_install, installed_at, record, target};

fn abs(p: PathBuf) -> Result<PathBuf, String> {
    if p.is_absolute() {
        return Ok(p);
    }
    let here = std::env::current_dir().map_err(|e| e.to_string())?;
    Ok(here.join(p))
}

fn text(p: &Path) -> Result<&str, String> {
    p.to_str()
        .ok_or_else(|| format!("{} is not UTF-8", p.display()))
}

/// Runs `program args` with `env`, recorded as a step.
fn run(
    what: &str,
    program: &Path,
    args: &[&str],
    env: &[(&str, &std::ffi::OsStr)],
) -> Result<(), String> {
    eprintln!("==> {what}: {} {}", program.display(), args.join(" "));
    let t0 = Instant::now();
    let status = Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .status()
        .map_err(|e| format!("cannot run {}: {e}", program.display()));
    let ok = status.as_ref().is_ok_and(|s| s.success());
    record(what, t0.elapsed(), ok);
    match status? {
        s if s.success() => Ok(()),
        s => Err(format!("{what} failed ({s})")),
    }
}

/// A venv at `dir` made by `python3`, if it is not there yet; its Python.
fn venv(dir: &Path, fresh: bool) -> Result<PathBuf, String> {
    let py = dir.join("bin/python");
    if fresh && dir.exists() {
        std::fs::remove_dir_all(dir)
            .map_err(|e| format!("cannot remove {}: {e}", dir.display()))?;
    }
    if !py.exists() {
        run(
            &format!("creating the virtual environment {}", dir.display()),
            Path::new("python3"),
            &["-m", "venv", text(dir)?],
            &[],
        )?;
    }
    Ok(py)
}

pub fn python() -> Result<(), String> {
    let (py, bin) = prepare()?;
    let here = std::env::current_dir().map_err(|e| e.to_string())?;
    run(
        "pytest: the Python package against the CLI, Spark, DuckDB, Polars",
        &py,
        &[
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            text(&abs(PathBuf::from("crates/yibao-py/tests"))?)?,
        ],
        &[
            ("YIBAO_BIN", bin.as_os_str()),
            ("YIBAO_ROOT", here.as_os_str()),
            ("PYSPARK_PYTHON", py.as_os_str()),
            ("PYSPARK_DRIVER_PYTHON", py.as_os_str()),
        ],
    )
}

/// `cargo xtask bench-python [PERSONS]`: `settle_table` (every core and one thread) and the
/// PySpark recipe beside `yibao batch` on the same generated claims (default 154,000 persons,
/// about 1,000,000 claims); a Markdown table for BENCHMARKS.md.
pub fn bench(args: &[String]) -> Result<(), String> {
    let persons = match args.first() {
        Some(n) => n
            .replace(['_', ','], "")
            .parse::<u64>()
            .map_err(|_| format!("bench-python: `{n}` is not a number of persons"))?,
        None => 154_000,
    };
    let (py, bin) = prepare()?;
    let script = abs(PathBuf::from("crates/yibao-py/bench/bench_tables.py"))?;
    let dir = abs(target("bench/python"))?;
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    run(
        "the Python table path beside yibao batch",
        &py,
        &[text(&script)?, &persons.to_string()],
        &[
            ("YIBAO_BIN", bin.as_os_str()),
            ("YIBAO_BENCH_DIR", dir.as_os_str()),
        ],
    )
}

/// The tools, the wheel built and installed into a fresh venv (checked there) and into the test
/// venv, and the release CLI: the test venv's Python and the binary.
fn prepare() -> Result<(PathBuf, PathBuf), String> {
    // The tools first: Python's venv module (Debian splits it out) and Java for Spark.
    let venv_ok = Command::new("python3")
        .args(["-c", "import venv, ensurepip"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !venv_ok {
        apt_install(
            &["python3", "python3-venv"],
            "the Python package is built and tested in virtual environments",
        )?;
    }
    if !installed_at("java", "-version") {
        apt_install(&["default-jre-headless"], "PySpark runs on a Java runtime")?;
    }

    let root = abs(target("python"))?;
    std::fs::create_dir_all(&root).map_err(|e| e.to_string())?;
    let requirements = abs(PathBuf::from("crates/yibao-py/requirements.txt"))?;
    let wanted = std::fs::read_to_string(&requirements).map_err(|e| e.to_string())?;

    // The build and test venv, reinstalled only when the pinned requirements change.
    let tools = root.join("venv");
    let py = venv(&tools, false)?;
    let stamp = tools.join("requirements.installed");
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(wanted.as_str()) {
        run(
            "installing the pinned Python requirements",
            &py,
            &["-m", "pip", "install", "-q", "-r", text(&requirements)?],
            &[],
        )?;
        std::fs::write(&stamp, &wanted).map_err(|e| e.to_string())?;
    }
    let pyo3 = [("PYO3_PYTHON", py.as_os_str())];

    run(
        "lints of the Python binding",
        Path::new("cargo"),
        &[
            "clippy",
            "-p",
            "yibao-py",
            "--features",
            "python",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
        &pyo3,
    )?;

    // The wheel (one abi3 wheel for CPython ≥ 3.9).
    let wheels = root.join("wheels");
    if wheels.exists() {
        std::fs::remove_dir_all(&wheels).map_err(|e| e.to_string())?;
    }
    let maturin = tools.join("bin/maturin");
    run(
        "building the wheel",
        &maturin,
        &[
            "build",
            "--release",
            "-m",
            text(&abs(PathBuf::from("crates/yibao-py/Cargo.toml"))?)?,
            "-i",
            text(&py)?,
            "--out",
            text(&wheels)?,
        ],
        &pyo3,
    )?;
    let wheel = std::fs::read_dir(&wheels)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .ok_or("maturin made no wheel")?;

    // `pip install` of the wheel into a fresh venv, as a user would (pyarrow comes with it).
    let fresh = root.join("fresh");
    let fresh_py = venv(&fresh, true)?;
    run(
        "pip install of the wheel into a fresh virtual environment",
        &fresh_py,
        &["-m", "pip", "install", "-q", text(&wheel)?],
        &[],
    )?;
    run(
        "the installed package estimates and settles a table",
        &fresh_py,
        &[
            "-c",
            "import yibao, pyarrow as pa\n\
             a = yibao.estimate({'policy': 'tianjin.resident', 'claim': {'date': '2024-05-01', 'care': 'inpatient', 'amounts': {'total': '30000'}}})\n\
             s = a['settlements'][0]\n\
             assert s['amounts']['total'] == '30000.00' and s['fund_total'] != '0.00', a\n\
             t = yibao.settle_table(pa.table({'person': ['p'], 'region': ['tianjin'], 'scheme': ['resident'], 'date': ['2024-05-01'], 'care': ['inpatient'], 'total': ['30000']}))\n\
             assert t.num_rows == 1 and str(t['total'][0]) == '30000.00', t\n\
             assert str(t['fund_total'][0]) == s['fund_total'], (t, s)\n\
             print('installed yibao works')",
        ],
        &[],
    )?;

    // The tests, in the tools venv with the same wheel.
    run(
        "installing the wheel into the test environment",
        &py,
        &[
            "-m",
            "pip",
            "install",
            "-q",
            "--force-reinstall",
            "--no-deps",
            text(&wheel)?,
        ],
        &[],
    )?;
    run(
        "building the release yibao binary",
        Path::new("cargo"),
        &["build", "--release", "-q", "-p", "yibao-cli"],
        &[],
    )?;
    let bin = abs(target("release/yibao"))?;
    Ok((py, bin))
}
