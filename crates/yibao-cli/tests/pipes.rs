#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]
//! The command as a Unix tool: a closed pipe ends it quietly, and the files it writes follow the
//! umask (issue 16).

use std::process::{Command, Stdio};

fn bin() -> std::path::PathBuf {
    assert_cmd::cargo::cargo_bin("yibao")
}

const ESTIMATE: [&str; 9] = [
    "estimate",
    "--policy",
    "tianjin.resident",
    "--date",
    "2024-05-01",
    "--level",
    "3",
    "--total",
    "300000",
];

#[test]
fn estimate_into_a_closed_pipe_exits_quietly() {
    for json in [false, true] {
        let mut c = Command::new(bin());
        c.current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
            .args(ESTIMATE)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if json {
            c.arg("--json");
        }
        let mut child = c.spawn().unwrap();
        // The reader goes away before the first line is written (`yibao estimate … | head -0`).
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{err}");
        assert_eq!(out.status.code(), Some(0), "{err}");
    }
}

#[cfg(unix)]
#[test]
fn batch_output_follows_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let claims = dir.path().join("claims.csv");
    let ok = Command::new(bin())
        .args(["gen", "--persons", "5", "--seed", "1", "--output"])
        .arg(&claims)
        .output()
        .unwrap();
    assert!(ok.status.success());
    for (umask, want) in [("022", 0o644), ("077", 0o600), ("002", 0o664)] {
        let out = dir.path().join(format!("out-{umask}.jsonl"));
        let script =
            format!("umask {umask} && exec \"$0\" batch --quiet --input \"$1\" --output \"$2\"",);
        let r = Command::new("sh")
            .args(["-c", &script])
            .arg(bin())
            .arg(&claims)
            .arg(&out)
            .output()
            .unwrap();
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, want, "umask {umask}: mode {mode:o}");
    }
}
