//! `cargo xtask pyclient`: generates a Python client from the server's `/openapi.json` with
//! openapi-python-client (pinned, in a venv under the target directory), installs it, and sends
//! every vector through it to a loopback server: each answer must match its schema and be the
//! bytes the evaluator gives natively. A document a generator cannot use fails here.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The generator and the validator, pinned.
const REQUIREMENTS: [&str; 2] = ["openapi-python-client==0.29.1", "jsonschema==4.26.0"];
const PORT: &str = "18573";

fn absolute(p: PathBuf) -> Result<PathBuf, String> {
    if p.is_absolute() {
        return Ok(p);
    }
    std::env::current_dir()
        .map(|d| d.join(p))
        .map_err(|e| e.to_string())
}

fn path_str(p: &Path) -> Result<&str, String> {
    p.to_str()
        .ok_or_else(|| format!("{} is not UTF-8", p.display()))
}

/// A venv under the target directory with the pinned requirements; `python3-venv` from Debian's
/// packages when `python3 -m venv` is missing.
fn venv(dir: &Path) -> Result<PathBuf, String> {
    let python = dir.join("venv/bin/python");
    if !python.is_file() {
        let probe = Command::new("python3")
            .args(["-m", "venv", "--help"])
            .output();
        if !probe.is_ok_and(|o| o.status.success()) {
            super::apt_install(&["python3-venv"], "Python virtual environments")?;
        }
        let v = dir.join("venv");
        super::step(
            "creating a Python venv",
            "python3",
            &["-m", "venv", path_str(&v)?],
        )?;
    }
    let mut args = vec!["-m", "pip", "install", "--quiet"];
    args.extend(REQUIREMENTS);
    super::step(
        "installing openapi-python-client (pinned)",
        path_str(&python)?,
        &args,
    )?;
    Ok(python)
}

/// Every vector's request and the native answer: `[{id, request, answer}]`.
fn vector_cases() -> Result<serde_json::Value, String> {
    let mut policies = vec![];
    let mut files = vec![];
    super::walk(Path::new("tests/vectors"), "policy", &mut policies)?;
    super::walk(Path::new("tests/vectors"), "yaml", &mut files)?;
    let reg = yibao::with_drafts(policies);
    let mut cases = vec![];
    for (file, text) in &files {
        let vectors = yibao::vectors::parse_vectors(text).map_err(|e| format!("{file}: {e}"))?;
        for v in &vectors {
            let req = yibao::vectors::request_of(v);
            let answer = yibao::estimate(&reg, &req).map_err(|e| format!("{}: {e}", v.id))?;
            cases.push(serde_json::json!({
                "id": v.id,
                "request": req,
                "answer": answer,
            }));
        }
    }
    Ok(serde_json::Value::Array(cases))
}

pub fn pyclient() -> Result<(), String> {
    let dir = absolute(super::target("pyclient"))?;
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let python = venv(&dir)?;
    super::step(
        "building the release binary",
        "cargo",
        &["build", "--release", "-p", "yibao-cli"],
    )?;
    let binary = absolute(super::target("release/yibao"))?;
    let cases = dir.join("vectors.json");
    std::fs::write(
        &cases,
        serde_json::to_string(&vector_cases()?).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let addr = format!("127.0.0.1:{PORT}");
    let mut server = Command::new(&binary)
        .args(["serve", "--addr", &addr, "--policies", "tests/vectors"])
        .env("RUST_LOG", "warn")
        .spawn()
        .map_err(|e| format!("cannot start the server: {e}"))?;
    let ready = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        std::net::TcpStream::connect(&addr).is_ok()
    });
    let t0 = Instant::now();
    let result = if ready {
        super::step(
            "Python client generated from /openapi.json: every vector through it",
            path_str(&python)?,
            &[
                "xtask/pyclient/run.py",
                &format!("http://{addr}"),
                path_str(&dir)?,
                path_str(&cases)?,
            ],
        )
    } else {
        super::record("Python client: server start", t0.elapsed(), false);
        Err("the server did not start".into())
    };
    let _ = server.kill();
    let _ = server.wait();
    result
}
