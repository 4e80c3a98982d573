use crate::Exit;

#[derive(clap::Args)]
pub struct Args {
    /// Print as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(a: Args) -> Exit {
    let reg = yibao::Registry::bundled();
    let list = yibao::list_versions(&reg);
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&list).unwrap_or_default()
        );
        return Exit::Ok;
    }
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    t.set_header([
        "policy",
        "version (effective)",
        "name",
        "official",
        "secondary",
        "seed",
        "derived",
        "placeholder",
    ]);
    for v in list {
        let n = |k: &str| v.provenance.get(k).copied().unwrap_or(0).to_string();
        t.add_row([
            v.id.clone(),
            v.effective.to_string(),
            v.name.clone(),
            n("official"),
            n("secondary"),
            n("seed"),
            n("derived"),
            n("placeholder"),
        ]);
    }
    println!("{t}");
    Exit::Ok
}
