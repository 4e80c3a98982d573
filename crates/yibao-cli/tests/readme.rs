//! The README's command list runs as written: every `cargo run … -p yibao-cli -- ARGS` line of
//! "Using the `yibao` command" is run (as `yibao ARGS`, in order, from a directory that sees the
//! repository's files) and must exit 0.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]
use std::path::Path;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// The commands of the first `sh` block after `heading`: continuation lines joined, comments
/// dropped, `cargo run … --` removed; each as its arguments.
fn commands(readme: &str, heading: &str) -> Vec<Vec<String>> {
    let section = readme
        .split_once(heading)
        .unwrap_or_else(|| panic!("README has no `{heading}`"))
        .1;
    let block = section
        .split_once("```sh\n")
        .and_then(|(_, b)| b.split_once("```"))
        .expect("a ```sh block")
        .0;
    let joined = block.replace("\\\n", " ");
    joined
        .lines()
        .map(|l| l.split_once(" #").map_or(l, |(cmd, _)| cmd).trim())
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (_, args) = l
                .split_once("-p yibao-cli -- ")
                .unwrap_or_else(|| panic!("not a `cargo run -p yibao-cli --` line: {l}"));
            args.split_whitespace().map(str::to_string).collect()
        })
        .collect()
}

#[test]
fn every_readme_command_exits_zero() {
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap();
    let cmds = commands(&readme, "## Using the `yibao` command");
    assert!(cmds.len() >= 10, "{cmds:?}");
    // Files the commands write (claims.csv, settled.csv) go to a scratch directory that links
    // the repository's inputs.
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(ROOT).canonicalize().unwrap();
    for name in ["policies", "tests", "examples"] {
        std::os::unix::fs::symlink(root.join(name), dir.path().join(name)).unwrap();
    }
    for args in &cmds {
        // The shipped example files exist: the README names no file a reader does not have.
        for a in args
            .iter()
            .filter(|a| a.ends_with(".yaml") || a.ends_with(".json"))
        {
            assert!(
                dir.path().join(a).is_file(),
                "README names `{a}`, which is not shipped"
            );
        }
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_yibao"))
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "`yibao {}` exited {:?}:\n{}\n{}",
            args.join(" "),
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(
        dir.path().join("settled.csv").is_file(),
        "batch wrote its output"
    );
}

#[test]
fn the_extraction_sees_continuations_and_comments() {
    let text = "## Using the `yibao` command\n\n```sh\ncargo run -p yibao-cli -- a --b \\\n    c   # note\ncargo run --release -p yibao-cli -- d\n```\n";
    assert_eq!(
        commands(text, "## Using the `yibao` command"),
        vec![vec!["a", "--b", "c"], vec!["d"]]
    );
}

/// The long-term care section's commands estimate a Guangzhou home-care month, from the example
/// file and from flags, with the same answer (GZ-LTC-HOME-B-EMPLOYEE: the fund pays 1,255.00).
#[test]
fn the_long_term_care_commands_estimate_the_same_month() {
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap();
    let cmds = commands(&readme, "## Long-term care (长期护理保险)");
    assert_eq!(cmds.len(), 2, "{cmds:?}");
    let mut outs = vec![];
    for args in &cmds {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_yibao"))
            .args(args)
            .arg("--json")
            .current_dir(ROOT)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["settlements"][0]["fund_total"], "1255.00", "{args:?}");
        outs.push(v["settlements"][0]["layers"].clone());
    }
    assert_eq!(outs[0], outs[1]);
}
