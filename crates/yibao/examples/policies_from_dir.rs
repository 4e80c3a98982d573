//! Load policies from a folder instead of the bundled ones (a service with its own policy
//! files), report their diagnostics, and settle under them.
//!
//! `cargo run -p yibao --example policies_from_dir -- [FOLDER]` (default: a demo policy written
//! to a temporary folder; also run by `cargo test --examples`).

use std::path::PathBuf;

use yibao::{estimate_json, Registry};

const DEMO: &str = "policy demo.resident \"示例\" \"example\"
effective 2024-01-01 [official SRC]
confirmed 2024-12-31 [official SRC]
source SRC \"an example\"
care [inpatient]
layer basic \"统筹基金\" \"basic fund\" {
  base in_scope
  deductible per_admission 800 [official SRC]
  ratio 70% [official SRC]
}
";

fn run(dir: Option<PathBuf>) -> Result<(), Box<dyn std::error::Error>> {
    let dir = match dir {
        Some(d) => d,
        None => {
            let d = std::env::temp_dir().join(format!("yibao-example-{}", std::process::id()));
            std::fs::create_dir_all(d.join("demo/resident"))?;
            std::fs::write(d.join("demo/resident/2024-01-01.policy"), DEMO)?;
            d
        }
    };
    let reg = Registry::from_dir(&dir)?;
    for (file, diags) in &reg.diagnostics {
        for d in diags {
            eprintln!("{file}: {}", d.message);
        }
    }
    if reg.has_errors() {
        return Err(format!("{} has policy errors", dir.display()).into());
    }
    for v in reg.versions() {
        println!("{}@{} ({})", v.id, v.effective, v.file);
    }
    if reg.policy_ids().iter().any(|id| id == "demo.resident") {
        // 10,800 in scope: 800 deductible, 70% of the 10,000 above it = 7,000.00.
        let answer = estimate_json(
            &reg,
            r#"{"policy":"demo.resident","trace":false,"claim":{"date":"2024-03-01","care":"inpatient","amounts":{"total":"10800"}}}"#,
        )?;
        let v: serde_json::Value = serde_json::from_str(&answer)?;
        println!("fund pays {}", v["settlements"][0]["fund_total"]);
        assert_eq!(v["settlements"][0]["fund_total"], "7000.00");
        std::fs::remove_dir_all(&dir)?;
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    run(std::env::args().nth(1).map(PathBuf::from))
}

#[test]
fn loads_a_folder() -> Result<(), Box<dyn std::error::Error>> {
    run(None)
}
