//! Turns `policies/known-deviations.yaml` and `policies/indicators.yaml` into JSON at build time, so the crate reads it with
//! serde_json: the citizen page's WebAssembly module reports known deviations without carrying a
//! YAML parser (about 90 KB gzipped).

use std::path::PathBuf;

fn run() -> Result<(), String> {
    convert(
        "../../policies/known-deviations.yaml",
        "known-deviations.json",
    )?;
    convert("../../policies/indicators.yaml", "indicators.json")
}

fn convert(src: &str, name: &str) -> Result<(), String> {
    println!("cargo:rerun-if-changed={src}");
    let text = std::fs::read_to_string(src).map_err(|e| format!("{src}: {e}"))?;
    let value: serde_norway::Value =
        serde_norway::from_str(&text).map_err(|e| format!("{src}: {e}"))?;
    let json = serde_json::to_string(&value).map_err(|e| format!("{src}: {e}"))?;
    let out = PathBuf::from(std::env::var("OUT_DIR").map_err(|e| e.to_string())?).join(name);
    std::fs::write(&out, json).map_err(|e| format!("{}: {e}", out.display()))
}

fn main() {
    if let Err(e) = run() {
        eprintln!("yibao-compliance build: {e}");
        std::process::exit(1);
    }
}
