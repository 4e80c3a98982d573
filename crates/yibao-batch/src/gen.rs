//! `yibao gen`: the seeded synthetic sample of [`yibao::sample`] written as CSV or JSON Lines,
//! grouped by person and in date order, ready for `yibao batch`.

use std::io::Write;

use yibao::sample::{sample, SampleOptions};
use yibao::{Money, Registry};

use crate::Format;

pub use yibao::sample::SampleOptions as GenOptions;

fn csv_money(m: Money) -> String {
    format!("{:.2}", m.get())
}

/// Writes `opts.persons` persons' claims to `out` (CSV with a header, or JSON Lines). Returns the
/// number of claims written.
pub fn generate(
    reg: &Registry,
    opts: &SampleOptions,
    format: Format,
    out: &mut dyn Write,
) -> Result<u64, crate::BatchError> {
    let claims = sample(reg, opts).map_err(crate::BatchError::Request)?;
    if format == Format::Csv {
        writeln!(
            out,
            "id,person,region,scheme,date,group,categories,care,level,place,referral,total,out_of_list,pre_self_pay,over_limit"
        )?;
    }
    let mut n = 0u64;
    let mut buf = String::with_capacity(256);
    for c in claims {
        buf.clear();
        match format {
            Format::Csv => {
                use std::fmt::Write as _;
                let o = |s: &Option<String>| s.clone().unwrap_or_default();
                let _ = writeln!(
                    buf,
                    "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
                    o(&c.id),
                    o(&c.person),
                    o(&c.region),
                    o(&c.scheme),
                    c.date,
                    o(&c.group),
                    c.categories.join(";"),
                    c.care,
                    o(&c.level),
                    o(&c.place),
                    c.referral,
                    csv_money(c.amounts.total),
                    csv_money(c.amounts.out_of_list),
                    csv_money(c.amounts.pre_self_pay),
                    csv_money(c.amounts.over_limit),
                );
            }
            Format::Jsonl => {
                buf.push_str(
                    &serde_json::to_string(&c)
                        .map_err(|e| crate::BatchError::Output(std::io::Error::other(e)))?,
                );
                buf.push('\n');
            }
        }
        out.write_all(buf.as_bytes())?;
        n += 1;
    }
    out.flush()?;
    Ok(n)
}
