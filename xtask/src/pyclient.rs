//! `cargo xtask pyclient`: generates a Python client from the server's `/openapi.json` with
//! openapi-python-client (pinned, in a venv under the target directory), installs it, and sends
//! every vector through it to a loopback server: each answer must match its schema and be the
//! bytes the evaluator gives natively. A document a generator cannot use fails here.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The generator and the validator, pinned.
const REQUIREMENTS: [&str; 2] = ["openapi-python-client==0.29.1", "jsonschema==4.26.0"];

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

/// A venv under the target directory with the pinned requirements (installed again only when
/// they change); Debian's `python3-venv` first when `python3` cannot make one.
fn venv(dir: &Path) -> Result<PathBuf, String> {
    let v = dir.join("venv");
    let python = v.join("bin/python");
    let stamp = v.join("requirements.installed");
    let wanted = REQUIREMENTS.join("\n");
    let usable = python.is_file()
        && Command::new(&python)
            .args(["-m", "pip", "--version"])
            .output()
            .is_ok_and(|o| o.status.success());
    if !usable {
        // `venv` and `ensurepip` are split out of Debian's python3 (python3-venv).
        let can = Command::new("python3")
            .args(["-c", "import venv, ensurepip"])
            .output()
            .is_ok_and(|o| o.status.success());
        if !can {
            super::apt_install(
                &["python3", "python3-venv"],
                "the Python client is generated and run in a virtual environment",
            )?;
        }
        if v.exists() {
            std::fs::remove_dir_all(&v)
                .map_err(|e| format!("cannot remove {}: {e}", v.display()))?;
        }
        super::step(
            "creating a Python venv",
            "python3",
            &["-m", "venv", path_str(&v)?],
        )?;
    }
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(wanted.as_str()) {
        let mut args = vec![
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-input",
        ];
        args.extend(REQUIREMENTS);
        super::step(
            "installing openapi-python-client and jsonschema (pinned)",
            path_str(&python)?,
            &args,
        )?;
        std::fs::write(&stamp, &wanted).map_err(|e| e.to_string())?;
    }
    Ok(python)
}

/// A port on loopback nobody listens on now.
fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port on 127.0.0.1: {e}"))
}

/// Every vector's request and the native answer's JSON text: `[{id, request, answer}]`.
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
            let answer = yibao::estimate(&reg, &req)
                .and_then(|a| yibao::to_json(&a))
                .map_err(|e| format!("{}: {e}", v.id))?;
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
    // The release binary, which `cargo xtask test` has built for its earlier steps.
    super::step(
        "building the release yibao binary",
        "cargo",
        &["build", "--release", "--quiet", "-p", "yibao-cli"],
    )?;
    let binary = absolute(super::target("release/yibao"))?;
    let cases = dir.join("vectors.json");
    std::fs::write(
        &cases,
        serde_json::to_string(&vector_cases()?).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let addr = format!("127.0.0.1:{}", free_port()?);
    let mut server = Command::new(&binary)
        .args(["serve", "--addr", &addr, "--policies", "tests/vectors"])
        .env("RUST_LOG", "warn")
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
    let t0 = Instant::now();
    let mut ready = false;
    while t0.elapsed() < std::time::Duration::from_secs(30) {
        if let Ok(Some(status)) = server.try_wait() {
            return Err(format!(
                "the server stopped ({status}); see its message above"
            ));
        }
        if std::net::TcpStream::connect(&addr).is_ok() {
            ready = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
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
        Err(format!(
            "the server did not accept connections on {addr} within 30 s"
        ))
    };
    let _ = server.kill();
    let _ = server.wait();
    result
}
