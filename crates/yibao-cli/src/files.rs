//! Reading the files and folders named on the command line.

use std::path::{Path, PathBuf};

/// Every file under `paths` with the given extension (a file given directly is taken as is),
/// sorted, as `(display name, text)`.
pub fn read_tree(paths: &[PathBuf], exts: &[&str]) -> Result<Vec<(String, String)>, String> {
    let mut found = vec![];
    for p in paths {
        walk(p, exts, &mut found, true)?;
    }
    found.sort();
    let mut out = vec![];
    for f in found {
        let text =
            std::fs::read_to_string(&f).map_err(|e| format!("cannot read {}: {e}", f.display()))?;
        out.push((f.display().to_string(), text));
    }
    Ok(out)
}

fn walk(p: &Path, exts: &[&str], out: &mut Vec<PathBuf>, top: bool) -> Result<(), String> {
    let meta = std::fs::metadata(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
    if meta.is_dir() {
        let entries =
            std::fs::read_dir(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
        for e in entries {
            let e = e.map_err(|e| format!("cannot read {}: {e}", p.display()))?;
            walk(&e.path(), exts, out, false)?;
        }
    } else if top
        || p.extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| exts.contains(&e))
    {
        out.push(p.to_path_buf());
    }
    Ok(())
}
