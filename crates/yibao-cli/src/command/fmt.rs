use std::path::PathBuf;

use crate::Exit;

#[derive(clap::Args)]
pub struct Args {
    /// Policy files or folders.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Do not print; exit with 1 if a file is not in canonical form.
    #[arg(long)]
    check: bool,
    /// Rewrite the files in place.
    #[arg(long, conflicts_with = "check")]
    write: bool,
}

pub fn run(a: Args) -> Exit {
    let files = match crate::files::read_tree(&a.paths, &["policy"]) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::Usage;
        }
    };
    let mut exit = Exit::Ok;
    for (name, text) in files {
        match yibao::lang::fmt::format(&text) {
            Err(diags) => {
                let mut map = yibao::lang::SourceMap::new();
                map.add(name.clone(), text.as_str());
                super::print_diagnostics(&map, &diags);
                exit = Exit::Findings;
            }
            Ok(out) if a.check => {
                if out != text {
                    eprintln!("{name}: not in canonical form (run `yibao fmt --write {name}`)");
                    exit = Exit::Findings;
                }
            }
            Ok(out) if a.write => {
                if out != text {
                    if let Err(e) = std::fs::write(&name, out) {
                        eprintln!("error: cannot write {name}: {e}");
                        return Exit::Usage;
                    }
                    eprintln!("formatted {name}");
                }
            }
            Ok(out) => print!("{out}"),
        }
    }
    exit
}
