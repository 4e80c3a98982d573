//! Settle a year of claims — millions of rows — from CSV or JSON Lines, streaming.
//!
//! Rows are read in order and cut into chunks at person boundaries; worker threads settle whole
//! persons (each person's claims fold one year-to-date state) with the same evaluator as every
//! other front end, on its numbers-only path; one writer puts the results back in input order, so
//! the output is the same bytes whatever the number of threads. Memory is bounded by the chunks in
//! flight and a fixed number of recent persons, not by the input: persons seen earlier, kept to
//! notice one whose claims are not together, go to temporary files (see `persons`).
//!
//! A row that cannot be read or settled stops the run with its line number, or with
//! `skip_invalid` goes to the reject file with the reason — nothing is dropped silently.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rust_decimal::Decimal;
use serde::Serialize;
use yibao::engine::ir::{Component, LayerKind};
use yibao::engine::{Outcome, SettleError, Settler};
use yibao::{Claim, Date, Money, Policy, PolicyCache, Registry, YtdState};

pub mod arrow;
pub mod gen;
mod input;
mod persons;

use persons::{PersonLog, Repeat};

pub use input::{csv_columns, CsvRows, Format, JsonlRows, Raw, Row, Rows};

/// What stops a batch run.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// The input cannot be read at all (unreadable file, bad header).
    #[error("{0}")]
    Input(String),
    /// A row is invalid and rows are not being skipped.
    #[error("{0}")]
    Row(RowError),
    /// Claims out of person or date order (and the input is not being sorted).
    #[error("{0}")]
    Order(String),
    /// A table's column is unknown, repeated or missing (Arrow and Parquet input).
    #[error("column `{column}`: {message}")]
    Column { column: String, message: String },
    #[error("cannot write the output: {0}")]
    Output(#[from] std::io::Error),
    /// The temporary files that hold the persons seen cannot be written or read.
    #[error("cannot use a temporary file to check that each person's claims are together: {0}")]
    Temp(std::io::Error),
    /// A request-level problem: an unknown policy override, a bad option.
    #[error("{0}")]
    Request(String),
}

/// A row that was not settled: where, which field, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    pub line: u64,
    pub field: Option<String>,
    pub message: String,
}

impl RowError {
    pub fn new(line: u64, field: Option<&str>, message: String) -> Self {
        RowError {
            line,
            field: field.map(str::to_string),
            message,
        }
    }
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.field {
            Some(field) => write!(f, "line {}: {field}: {}", self.line, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

/// How to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// `region.scheme` for rows that do not name their region and scheme.
    pub policy: Option<String>,
    /// Replaced policy figures, as for `estimate --set` (a drafter's "what if").
    pub overrides: BTreeMap<String, String>,
    /// Write invalid rows to the reject output and go on, instead of stopping at the first.
    pub skip_invalid: bool,
    /// Read the whole input and sort it by person and date first (memory grows with the input).
    pub sort: bool,
    /// Worker threads (at least 1).
    pub threads: usize,
    /// Rows per chunk handed to a worker (a chunk is cut only between persons).
    pub chunk_rows: usize,
    /// Persons kept in memory to notice one whose claims are not together; earlier ones go to
    /// temporary files and are compared at the end of the input.
    pub persons_in_memory: usize,
    /// The most rows a chunk holds: a person with more claims is cut into chunks settled one
    /// after another (the state passed on), so memory stays bounded even then.
    pub max_chunk_rows: usize,
    /// Also one output column per layer id (`layer_<id>`), after the columns by kind of layer.
    pub layer_columns: bool,
    /// Time each claim's settling apart from reading and writing ([`Summary::settle_ns`]): two
    /// clock reads a claim.
    pub time_settle: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            policy: None,
            overrides: BTreeMap::new(),
            skip_invalid: false,
            sort: false,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            chunk_rows: 4096,
            persons_in_memory: PersonLog::DEFAULT_LIMIT,
            max_chunk_rows: 8_192,
            layer_columns: false,
            time_settle: false,
        }
    }
}

/// Progress, reported by the reader as it goes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Progress {
    pub rows: u64,
    pub bytes: u64,
}

/// Out-of-pocket ranges of the distribution, in yuan (upper edges; the last is open).
const OOP_EDGES: [i64; 8] = [0, 100, 500, 1_000, 5_000, 10_000, 50_000, 100_000];

/// Totals of a run. Money sums are exact.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Rows read (claims), settled and rejected.
    pub claims: u64,
    pub settled: u64,
    pub rejected: u64,
    /// Distinct persons among settled and rejected rows (a row without `person` counts as one).
    pub persons: u64,
    pub total: Money,
    /// The policy-scope amount (政策范围内费用) of all settled claims.
    pub in_scope: Money,
    /// What each kind of layer paid (basic, serious_illness, supplementary, medical_aid,
    /// commercial).
    pub by_layer_kind: BTreeMap<&'static str, Money>,
    pub fund_total: Money,
    pub out_of_pocket: Money,
    /// The out-of-pocket total by where it comes from.
    pub out_of_pocket_parts: BTreeMap<&'static str, Money>,
    /// How many claims fall in each out-of-pocket range.
    pub out_of_pocket_distribution: Vec<Bucket>,
    /// Policy-scope reimbursement ratio (政策范围内报销比例): what all layers paid of the
    /// policy-scope amount ÷ the policy-scope amount; 4 decimals.
    pub policy_scope_ratio: Option<Decimal>,
    /// The same for the basic fund alone (统筹基金 ÷ 政策范围内费用).
    pub basic_policy_scope_ratio: Option<Decimal>,
    /// Claims whose result relies on a placeholder (unverified) or overridden figure.
    pub claims_on_unverified_figures: u64,
    /// With [`Options::time_settle`]: nanoseconds spent settling claims (choosing the policy
    /// version and settling, not reading, checking the order, tallying or writing), summed over
    /// the worker threads.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settle_ns: Option<u64>,
}

/// One range of the out-of-pocket distribution: claims with `from < out_of_pocket ≤ to`
/// (the first range is exactly 0; the last has no upper edge).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bucket {
    pub from: Option<Money>,
    pub to: Option<Money>,
    pub claims: u64,
}

/// Running totals in exact fen.
#[derive(Debug, Clone, Default)]
struct Tally {
    claims: u64,
    settled: u64,
    rejected: u64,
    persons: u64,
    total: i128,
    in_scope: i128,
    kinds: [i128; 5],
    fund: i128,
    oop: i128,
    parts: [i128; 7],
    buckets: [u64; OOP_EDGES.len() + 1],
    flagged: u64,
    settle_ns: Option<u64>,
}

fn fen(m: Money) -> i128 {
    let d = m.get();
    if d.scale() == 2 {
        return d.mantissa();
    }
    // Every amount here has at most two decimals: scale to exactly two.
    let mut x = d;
    x.rescale(2);
    x.mantissa()
}

fn money(f: i128) -> Money {
    Money::new(Decimal::from_i128_with_scale(f, 2))
}

fn kind_index(k: LayerKind) -> usize {
    LayerKind::ALL.iter().position(|x| *x == k).unwrap_or(0)
}

/// One settled claim's amounts in fen, in `OUTPUT_COLUMNS` order from `total` to `not_covered`.
struct Numbers([i128; 16]);

impl Numbers {
    fn of(policy: &Policy, claim: &Claim, o: &Outcome) -> Numbers {
        let mut n = [0i128; 16];
        n[0] = fen(claim.amounts.total);
        n[1] = fen(o.in_scope());
        for (i, l) in policy.layers.iter().enumerate() {
            n[2 + kind_index(l.kind)] += fen(o.payment(i));
        }
        n[7] = fen(o.fund_total());
        n[8] = fen(o.out_of_pocket());
        for c in Component::ALL {
            n[9 + c.index()] = fen(o.out_of_pocket_part(c));
        }
        Numbers(n)
    }
}

impl Tally {
    fn add(&mut self, n: &Numbers, flagged: bool) {
        let n = &n.0;
        self.settled += 1;
        self.total += n[0];
        self.in_scope += n[1];
        for k in 0..5 {
            self.kinds[k] += n[2 + k];
        }
        self.fund += n[7];
        self.oop += n[8];
        for c in 0..7 {
            self.parts[c] += n[9 + c];
        }
        let oop = n[8];
        let b = OOP_EDGES
            .iter()
            .position(|e| oop <= i128::from(*e) * 100)
            .unwrap_or(OOP_EDGES.len());
        self.buckets[b] += 1;
        if flagged {
            self.flagged += 1;
        }
    }

    fn merge(&mut self, o: &Tally) {
        self.claims += o.claims;
        self.settled += o.settled;
        self.rejected += o.rejected;
        self.persons += o.persons;
        self.total += o.total;
        self.in_scope += o.in_scope;
        for i in 0..self.kinds.len() {
            self.kinds[i] += o.kinds[i];
        }
        self.fund += o.fund;
        self.oop += o.oop;
        for i in 0..self.parts.len() {
            self.parts[i] += o.parts[i];
        }
        for i in 0..self.buckets.len() {
            self.buckets[i] += o.buckets[i];
        }
        self.flagged += o.flagged;
        self.settle_ns = match (self.settle_ns, o.settle_ns) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(0).saturating_add(b.unwrap_or(0))),
        };
    }

    fn summary(&self) -> Summary {
        let ratio = |num: i128| {
            (self.in_scope > 0).then(|| {
                (Decimal::from_i128_with_scale(num, 0)
                    / Decimal::from_i128_with_scale(self.in_scope, 0))
                .round_dp(4)
            })
        };
        let in_scope_left: i128 = Component::IN_SCOPE
            .iter()
            .map(|c| self.parts[c.index()])
            .sum();
        let mut buckets = Vec::new();
        for i in 0..=OOP_EDGES.len() {
            let from = i
                .checked_sub(1)
                .map(|j| money(i128::from(OOP_EDGES[j]) * 100));
            let to = OOP_EDGES.get(i).map(|e| money(i128::from(*e) * 100));
            buckets.push(Bucket {
                from,
                to,
                claims: self.buckets[i],
            });
        }
        Summary {
            claims: self.claims,
            settled: self.settled,
            rejected: self.rejected,
            persons: self.persons,
            total: money(self.total),
            in_scope: money(self.in_scope),
            by_layer_kind: LayerKind::ALL
                .iter()
                .map(|k| (k.name(), money(self.kinds[kind_index(*k)])))
                .collect(),
            fund_total: money(self.fund),
            out_of_pocket: money(self.oop),
            out_of_pocket_parts: Component::ALL
                .iter()
                .map(|c| (c.name(), money(self.parts[c.index()])))
                .collect(),
            out_of_pocket_distribution: buckets,
            policy_scope_ratio: ratio(self.in_scope - in_scope_left),
            basic_policy_scope_ratio: ratio(self.kinds[kind_index(LayerKind::Basic)]),
            claims_on_unverified_figures: self.flagged,
            settle_ns: self.settle_ns,
        }
    }
}

/// The output columns, in order (CSV header; JSON Lines keys).
pub const OUTPUT_COLUMNS: [&str; 23] = [
    "line",
    "id",
    "person",
    "policy",
    "version",
    "date",
    "total",
    "in_scope",
    "basic",
    "serious_illness",
    "supplementary",
    "medical_aid",
    "commercial",
    "fund_total",
    "out_of_pocket",
    "out_of_list",
    "pre_self_pay",
    "over_limit",
    "deductible",
    "co_pay",
    "above_cap",
    "not_covered",
    "unverified",
];

/// Appends `f` fen as yuan with two decimals (`1234.05`), without going through `fmt`.
fn push_fen(out: &mut Vec<u8>, f: i128) {
    if f < 0 {
        out.push(b'-');
    }
    let a = f.unsigned_abs();
    let mut b = itoa::Buffer::new();
    // Every amount yibao settles fits 64 bits; 128-bit division and formatting are several
    // times slower, and this runs some twenty times per row.
    let c = match u64::try_from(a) {
        Ok(a) => {
            out.extend_from_slice(b.format(a / 100).as_bytes());
            (a % 100) as u8
        }
        Err(_) => {
            out.extend_from_slice(b.format(a / 100).as_bytes());
            (a % 100) as u8
        }
    };
    out.extend_from_slice(&[b'.', b'0' + c / 10, b'0' + c % 10]);
}

/// `date` as `yyyy-mm-dd`, as its `Display` writes it, without the formatting machinery.
fn push_date(out: &mut Vec<u8>, date: Date) {
    let (y, m, d) = (date.year(), date.month(), date.day());
    match u16::try_from(y) {
        Ok(y @ 1000..=9999) => {
            let mut b = itoa::Buffer::new();
            out.extend_from_slice(b.format(y).as_bytes());
            out.extend_from_slice(&[
                b'-',
                b'0' + m / 10,
                b'0' + m % 10,
                b'-',
                b'0' + d / 10,
                b'0' + d % 10,
            ]);
        }
        _ => {
            let _ = write!(out, "{date}");
        }
    }
}

/// Writes one settled row.
#[allow(clippy::too_many_arguments)]
fn write_row(
    out: &mut Vec<u8>,
    format: Format,
    line: u64,
    claim: &Claim,
    p: &Policy,
    n: &Numbers,
    flagged: bool,
    layers: &[Arc<str>],
    layer_values: &[Option<i128>],
) {
    let texts = [
        claim.id.as_deref().unwrap_or(""),
        claim.person.as_deref().unwrap_or(""),
        &p.id,
    ];
    let mut b = itoa::Buffer::new();
    // `write!` into a Vec<u8> cannot fail.
    match format {
        Format::Csv => {
            out.extend_from_slice(b.format(line).as_bytes());
            for t in texts {
                out.push(b',');
                csv_field(out, t);
            }
            out.push(b',');
            push_date(out, p.effective);
            out.push(b',');
            push_date(out, claim.date);
            for f in n.0 {
                out.push(b',');
                push_fen(out, f);
            }
            out.extend_from_slice(if flagged { b",true" } else { b",false" });
            for v in layer_values {
                out.push(b',');
                if let Some(f) = v {
                    push_fen(out, *f);
                }
            }
            out.push(b'\n');
        }
        Format::Jsonl => {
            out.extend_from_slice(b"{\"line\":");
            out.extend_from_slice(b.format(line).as_bytes());
            for (k, t) in OUTPUT_COLUMNS[1..4].iter().zip(texts) {
                let _ = write!(out, ",\"{k}\":");
                let _ = serde_json::to_writer(&mut *out, t);
            }
            let _ = write!(
                out,
                ",\"version\":\"{}\",\"date\":\"{}\"",
                p.effective, claim.date
            );
            for (k, f) in OUTPUT_COLUMNS[6..22].iter().zip(n.0) {
                let _ = write!(out, ",\"{k}\":\"");
                push_fen(out, f);
                out.push(b'"');
            }
            let _ = write!(out, ",\"unverified\":{flagged}");
            for (id, v) in layers.iter().zip(layer_values) {
                let _ = write!(out, ",\"layer_{id}\":");
                match v {
                    Some(f) => {
                        out.push(b'"');
                        push_fen(out, *f);
                        out.push(b'"');
                    }
                    None => out.extend_from_slice(b"null"),
                }
            }
            out.extend_from_slice(b"}\n");
        }
    }
}

fn csv_field(out: &mut Vec<u8>, t: &str) {
    // Bytewise: the four are ASCII, and a char pattern decodes every character first.
    if t.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        out.push(b'"');
        out.extend_from_slice(t.replace('"', "\"\"").as_bytes());
        out.push(b'"');
    } else {
        out.extend_from_slice(t.as_bytes());
    }
}

/// The output's first line (CSV header), if the format has one.
pub fn output_header(format: Format) -> Option<String> {
    (format == Format::Csv).then(|| OUTPUT_COLUMNS.join(",") + "\n")
}

/// Every layer id of the registry's policies, in the order met (policies by id, versions by
/// date, layers in policy order): the per-layer output columns are `layer_<id>`. A row whose
/// policy has no such layer leaves the column empty (null).
pub fn layer_ids(reg: &Registry) -> Vec<Arc<str>> {
    let mut ids: Vec<Arc<str>> = Vec::new();
    for v in reg.versions() {
        if let Some(p) = &v.policy {
            for l in &p.layers {
                if !ids.contains(&l.id) {
                    ids.push(Arc::clone(&l.id));
                }
            }
        }
    }
    ids
}

/// The output columns of a run with `opts` (the CSV header's names, in order).
pub fn output_columns(reg: &Registry, opts: &Options) -> Vec<String> {
    let mut cols: Vec<String> = OUTPUT_COLUMNS.iter().map(|c| c.to_string()).collect();
    if opts.layer_columns {
        cols.extend(layer_ids(reg).iter().map(|l| format!("layer_{l}")));
    }
    cols
}

/// The Arrow schema of a run's results (`arrow::schema` with this registry's layer ids when
/// `opts.layer_columns`).
pub fn output_schema(reg: &Registry, opts: &Options) -> arrow_schema::SchemaRef {
    if opts.layer_columns {
        arrow::schema(&layer_ids(reg))
    } else {
        arrow::schema(&[])
    }
}

/// Where a run's results go.
pub enum Target<'a> {
    /// CSV or JSON Lines bytes.
    Text(&'a mut (dyn Write + Send), Format),
    /// Arrow record batches, one per chunk, in input order.
    Arrow(&'a mut dyn arrow::BatchSink),
}

/// What every worker needs to shape a chunk's results.
struct Shape {
    format: Option<Format>,
    layers: Vec<Arc<str>>,
    schema: Option<arrow_schema::SchemaRef>,
}

/// A rejected row: the original row and why.
#[derive(Debug)]
struct Reject {
    error: RowError,
    raw: Option<Raw>,
}

enum Work {
    Rows(Chunk),
    /// The reader stopped here (order error, unreadable input).
    Fail(BatchError),
}

/// Rows for one worker. A chunk is cut between persons, except inside a person with more than
/// `Options::max_chunk_rows` claims: then the chunk hands its last person's state to the next one
/// (`to_next` → `from_previous`), which waits for it, so that person's year is still one fold.
struct Chunk {
    rows: Vec<Row>,
    from_previous: Option<mpsc::Receiver<Carry>>,
    to_next: Option<mpsc::SyncSender<Carry>>,
}

/// The person a chunk ended inside, and their state so far.
type Carry = (Option<String>, YtdState);

struct Done {
    out: Vec<u8>,
    batch: Option<arrow_array::RecordBatch>,
    rejects: Vec<Reject>,
    tally: Tally,
    fatal: Option<BatchError>,
}

impl Done {
    /// A chunk that settled nothing: the reader's error, or a run that is stopping.
    fn empty(fatal: Option<BatchError>) -> Done {
        Done {
            out: Vec::new(),
            batch: None,
            rejects: Vec::new(),
            tally: Tally::default(),
            fatal,
        }
    }
}

/// Where rejected rows go.
pub struct RejectSink<'a> {
    pub writer: &'a mut (dyn Write + Send),
    pub format: Format,
}

/// Settles every row of `rows`, writing one result row per settled claim to `out` in input order.
/// Returns the summary; on an error nothing after the failing row is written.
pub fn run(
    reg: &Registry,
    rows: &mut dyn Rows,
    out: &mut (dyn Write + Send),
    out_format: Format,
    rejects: Option<RejectSink<'_>>,
    opts: &Options,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Summary, BatchError> {
    run_to(
        reg,
        rows,
        Target::Text(out, out_format),
        rejects,
        opts,
        progress,
    )
}

/// [`run`] with results as text or as Arrow record batches (schema: [`output_schema`]).
pub fn run_to(
    reg: &Registry,
    rows: &mut dyn Rows,
    target: Target<'_>,
    rejects: Option<RejectSink<'_>>,
    opts: &Options,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Summary, BatchError> {
    let overrides =
        yibao::parse_overrides(&opts.overrides).map_err(|e| BatchError::Request(e.to_string()))?;
    if let Some(id) = &opts.policy {
        let ids = reg.policy_ids();
        if !ids.contains(id) {
            return Err(BatchError::Request(format!(
                "no policy `{id}`; the policies are: {}",
                ids.join(", ")
            )));
        }
    }
    let threads = opts.threads.max(1);
    let header = rows.header().cloned();
    let stop = AtomicBool::new(false);
    let (work_tx, work_rx) = mpsc::sync_channel::<(u64, Work)>(threads * 2);
    let work_rx = Arc::new(Mutex::new(work_rx));
    let (done_tx, done_rx) = mpsc::sync_channel::<(u64, Done)>(threads * 2);

    let layers = if opts.layer_columns {
        layer_ids(reg)
    } else {
        Vec::new()
    };
    let (mut text_out, mut arrow_out, shape) = match target {
        Target::Text(w, f) => (
            Some(w),
            None,
            Shape {
                format: Some(f),
                layers,
                schema: None,
            },
        ),
        Target::Arrow(sink) => {
            let schema = arrow::schema(&layers);
            (
                None,
                Some(sink),
                Shape {
                    format: None,
                    layers,
                    schema: Some(schema),
                },
            )
        }
    };
    if let (Some(w), Some(Format::Csv)) = (&mut text_out, shape.format) {
        let mut cols = OUTPUT_COLUMNS.join(",");
        for l in &shape.layers {
            cols.push_str(",layer_");
            cols.push_str(l);
        }
        cols.push('\n');
        w.write_all(cols.as_bytes())?;
    }
    let shape = &shape;
    let mut rejects = rejects;
    if let Some(r) = &mut rejects {
        if let (Format::Csv, Some(h)) = (r.format, &header) {
            let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
            let mut rec: Vec<&str> = vec!["line", "error"];
            rec.extend(h.iter());
            w.write_record(&rec)
                .map_err(|e| BatchError::Output(std::io::Error::other(e)))?;
            r.writer.write_all(
                &w.into_inner()
                    .map_err(|e| BatchError::Output(e.into_error()))?,
            )?;
        }
    }

    std::thread::scope(|s| {
        // Workers: whole persons per chunk.
        for _ in 0..threads {
            let rx = Arc::clone(&work_rx);
            let tx = done_tx.clone();
            let overrides = overrides.clone();
            let stop = &stop;
            s.spawn(move || {
                let mut cache = PolicyCache::new(reg, overrides);
                let mut settlers = Settlers::default();
                loop {
                    let next = match rx.lock() {
                        Ok(r) => r.recv(),
                        Err(_) => return,
                    };
                    let Ok((seq, work)) = next else { return };
                    let done = match work {
                        Work::Fail(e) => Done::empty(Some(e)),
                        Work::Rows(chunk) if stop.load(Ordering::Relaxed) => {
                            drop(chunk);
                            Done::empty(None)
                        }
                        Work::Rows(chunk) => {
                            settle_chunk(&mut cache, &mut settlers, chunk, shape, opts)
                        }
                    };
                    if tx.send((seq, done)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(done_tx);

        // The writer: results back in input order.
        let stop_w = &stop;
        let writer = s.spawn(move || -> Result<Tally, BatchError> {
            let mut pending: BTreeMap<u64, Done> = BTreeMap::new();
            let mut next = 0u64;
            let mut tally = Tally::default();
            let mut failed: Option<BatchError> = None;
            for (seq, done) in done_rx.iter() {
                pending.insert(seq, done);
                while let Some(d) = pending.remove(&next) {
                    next += 1;
                    if failed.is_some() {
                        continue;
                    }
                    let written = (|| -> Result<(), BatchError> {
                        if let Some(w) = &mut text_out {
                            w.write_all(&d.out)?;
                        }
                        if let (Some(sink), Some(b)) = (&mut arrow_out, &d.batch) {
                            sink.write(b)?;
                        }
                        if let Some(r) = &mut rejects {
                            write_rejects(r, &d.rejects)?;
                        }
                        Ok(())
                    })();
                    tally.merge(&d.tally);
                    if let Err(e) = written {
                        failed = Some(e);
                    } else if let Some(e) = d.fatal {
                        failed = Some(e);
                    }
                    if failed.is_some() {
                        stop_w.store(true, Ordering::Relaxed);
                    }
                }
            }
            if let Some(w) = &mut text_out {
                w.flush()?;
            }
            if let Some(r) = &mut rejects {
                r.writer.flush()?;
            }
            match failed {
                Some(e) => Err(e),
                None => Ok(tally),
            }
        });

        // The reader, on this thread.
        read_rows(rows, opts, &work_tx, &stop, progress);
        drop(work_tx);
        match writer.join() {
            Ok(r) => r.map(|t| t.summary()),
            Err(_) => Err(BatchError::Request(
                "internal error: the writer stopped".into(),
            )),
        }
    })
}

fn write_rejects(r: &mut RejectSink<'_>, rejects: &[Reject]) -> Result<(), BatchError> {
    for rej in rejects {
        let msg = rej.error.to_string();
        match (r.format, &rej.raw) {
            (Format::Csv, raw) => {
                let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
                let line = rej.error.line.to_string();
                let mut rec: Vec<String> = vec![line, msg];
                match raw {
                    Some(Raw::Csv(fields)) => rec.extend(fields.iter().map(str::to_string)),
                    Some(Raw::Line(l)) => rec.push(l.clone()),
                    None => {}
                }
                w.write_record(&rec)
                    .map_err(|e| BatchError::Output(std::io::Error::other(e)))?;
                r.writer.write_all(
                    &w.into_inner()
                        .map_err(|e| BatchError::Output(e.into_error()))?,
                )?;
            }
            (Format::Jsonl, raw) => {
                let row = match raw {
                    Some(Raw::Line(l)) => serde_json::Value::String(l.clone()),
                    Some(Raw::Csv(f)) => serde_json::Value::Array(
                        f.iter()
                            .map(|x| serde_json::Value::String(x.to_string()))
                            .collect(),
                    ),
                    None => serde_json::Value::Null,
                };
                let v = serde_json::json!({
                    "line": rej.error.line,
                    "field": rej.error.field,
                    "error": rej.error.message,
                    "row": row,
                });
                serde_json::to_writer(&mut *r.writer, &v)
                    .map_err(|e| BatchError::Output(std::io::Error::other(e)))?;
                r.writer.write_all(b"\n")?;
            }
        }
    }
    Ok(())
}

/// The reader's side of the work channel: numbered chunks, in input order.
struct Out<'a> {
    tx: &'a mpsc::SyncSender<(u64, Work)>,
    seq: u64,
    /// Where the next chunk receives the state of a person the last chunk ended inside.
    pending: Option<mpsc::Receiver<Carry>>,
}

impl Out<'_> {
    fn send(&mut self, w: Work) -> bool {
        let ok = self.tx.send((self.seq, w)).is_ok();
        self.seq += 1;
        ok
    }

    /// Sends the chunk (if any rows) and leaves it empty; false when the workers are gone.
    fn rows(&mut self, chunk: &mut Vec<Row>) -> bool {
        chunk.is_empty() || self.chunk(chunk, None)
    }

    /// Sends the chunk, cut inside a person: the next chunk continues from its last state.
    fn rows_continued(&mut self, chunk: &mut Vec<Row>) -> bool {
        let (tx, rx) = mpsc::sync_channel(1);
        let ok = self.chunk(chunk, Some(tx));
        self.pending = Some(rx);
        ok
    }

    fn chunk(&mut self, rows: &mut Vec<Row>, to_next: Option<mpsc::SyncSender<Carry>>) -> bool {
        let chunk = Chunk {
            rows: std::mem::take(rows),
            from_previous: self.pending.take(),
            to_next,
        };
        self.send(Work::Rows(chunk))
    }

    /// Sends the rows read so far, then the error that stops the run.
    fn fail(&mut self, chunk: &mut Vec<Row>, e: BatchError) {
        self.rows(chunk);
        self.send(Work::Fail(e));
    }
}

/// The error for a person whose claims are not together.
fn not_grouped(r: &Repeat) -> BatchError {
    BatchError::Order(format!(
        "line {}: person `{}` appears again after other persons (their claims began at line {}); a person's claims must be together (grouped) and in date order — sort the input or pass --sort",
        r.line, r.person, r.first_line
    ))
}

/// Reads rows, checks person and date order (or sorts), and hands out chunks cut between persons.
fn read_rows(
    rows: &mut dyn Rows,
    opts: &Options,
    tx: &mpsc::SyncSender<(u64, Work)>,
    stop: &AtomicBool,
    progress: &(dyn Fn(Progress) + Sync),
) {
    let mut out = Out {
        tx,
        seq: 0,
        pending: None,
    };
    let mut count = 0u64;
    let report = |n: u64, rows: &dyn Rows| {
        if n % 65_536 == 0 {
            progress(Progress {
                rows: n,
                bytes: rows.bytes_read(),
            });
        }
    };

    if opts.sort {
        let mut all = Vec::new();
        while let Some(r) = rows.next_row() {
            match r {
                Ok(row) => all.push(row),
                Err(e) => {
                    out.fail(&mut Vec::new(), e);
                    return;
                }
            }
            count += 1;
            report(count, rows);
        }
        // Stable: equal keys keep input order. Rows that could not be read go last.
        all.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
        let mut chunk = Vec::with_capacity(opts.chunk_rows);
        let mut last: Option<Option<String>> = None;
        for row in all {
            let person = person_of(&row);
            if chunk.len() >= opts.chunk_rows
                && last.as_ref() != Some(&person)
                && !out.rows(&mut chunk)
            {
                return;
            }
            last = Some(person);
            chunk.push(row);
        }
        out.rows(&mut chunk);
        progress(Progress {
            rows: count,
            bytes: rows.bytes_read(),
        });
        return;
    }

    let mut seen = PersonLog::new(opts.persons_in_memory);
    // The current person: id, last date and its line.
    let mut cur: Option<(String, Date, u64)> = None;
    let mut chunk: Vec<Row> = Vec::with_capacity(opts.chunk_rows);
    while let Some(r) = rows.next_row() {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let row = match r {
            Ok(row) => row,
            Err(e) => {
                out.fail(&mut chunk, e);
                return;
            }
        };
        count += 1;
        report(count, rows);
        let mut boundary = true;
        if let Ok(claim) = &row.claim {
            match (&mut cur, &claim.person) {
                (Some((p, last, last_line)), Some(q)) if p == q => {
                    if claim.date < *last {
                        let e = BatchError::Order(format!(
                            "line {}: person `{q}` has a claim on {} after their claim on {} (line {last_line}); a person's claims must be in date order — sort the input or pass --sort",
                            row.line, claim.date, last
                        ));
                        out.fail(&mut chunk, e);
                        return;
                    }
                    *last = claim.date;
                    *last_line = row.line;
                    boundary = false;
                }
                (_, Some(q)) => {
                    match seen.begin(q, row.line) {
                        Ok(None) => {}
                        Ok(Some(r)) => {
                            out.fail(&mut chunk, not_grouped(&r));
                            return;
                        }
                        Err(e) => {
                            out.fail(&mut chunk, BatchError::Temp(e));
                            return;
                        }
                    }
                    cur = Some((q.clone(), claim.date, row.line));
                }
                (_, None) => cur = None,
            }
        } else {
            // An unreadable row belongs to no person; it does not end the current one.
            boundary = false;
        }
        if boundary && chunk.len() >= opts.chunk_rows {
            if !out.rows(&mut chunk) {
                return;
            }
            chunk.reserve(opts.chunk_rows);
        } else if chunk.len() >= opts.max_chunk_rows.max(1) {
            // One person with a great many claims: memory stays bounded; their state goes on.
            if !out.rows_continued(&mut chunk) {
                return;
            }
            chunk.reserve(opts.chunk_rows);
        }
        chunk.push(row);
    }
    // Persons written out earlier are compared only now, before the last chunk goes.
    match seen.finish() {
        Ok(None) => {}
        Ok(Some(r)) => return out.fail(&mut chunk, not_grouped(&r)),
        Err(e) => return out.fail(&mut chunk, BatchError::Temp(e)),
    }
    out.rows(&mut chunk);
    progress(Progress {
        rows: count,
        bytes: rows.bytes_read(),
    });
}

fn person_of(row: &Row) -> Option<String> {
    row.claim.as_ref().ok().and_then(|c| c.person.clone())
}

fn sort_key(row: &Row) -> (bool, Option<&str>, Option<Date>, u64) {
    match &row.claim {
        Ok(c) => (
            c.person.is_none(),
            c.person.as_deref(),
            Some(c.date),
            row.line,
        ),
        Err(_) => (true, None, None, row.line),
    }
}

/// Settles one chunk: whole persons, in order.
fn settle_chunk(
    cache: &mut PolicyCache<'_>,
    settlers: &mut Settlers,
    chunk: Chunk,
    shape: &Shape,
    opts: &Options,
) -> Done {
    let Chunk {
        mut rows,
        from_previous,
        to_next,
    } = chunk;
    let mut out = Vec::with_capacity(if shape.format.is_some() {
        rows.len() * 200
    } else {
        0
    });
    let mut batch = shape
        .schema
        .as_ref()
        .map(|s| arrow::BatchBuilder::new(Arc::clone(s), shape.layers.len(), rows.len()));
    // Each policy's layer for each layer column, for the policies this chunk met.
    let mut maps: Vec<(Arc<Policy>, Vec<Option<usize>>)> = Vec::new();
    // What each layer column gets for the row (the ids are `shape.layers`'s, in order).
    let mut layer_values: Vec<Option<i128>> = Vec::new();
    let mut rejects = Vec::new();
    let mut tally = Tally {
        settle_ns: opts.time_settle.then_some(0),
        ..Tally::default()
    };
    // A chunk cut inside a person starts from the state the previous chunk left; when that chunk
    // did not finish (the run is failing), this one has nothing to add.
    let (mut person, mut state) = match from_previous.map(|rx| rx.recv()) {
        None => (None, YtdState::default()),
        Some(Ok(carry)) => carry,
        Some(Err(_)) => return Done::empty(None),
    };
    let mut fatal = None;
    // By reference: a row is several hundred bytes, and moving each out of the chunk was a
    // measurable share of a batch's time.
    for row in &mut rows {
        tally.claims += 1;
        let line = row.line;
        let result = match &row.claim {
            Err(e) => Err(e.clone()),
            Ok(claim) => {
                if claim.person.is_none() || claim.person != person {
                    tally.persons += 1;
                    state = YtdState::default();
                    person.clone_from(&claim.person);
                }
                let started = opts.time_settle.then(Instant::now);
                let settled = settle_row(cache, settlers, claim, line, &mut state, opts);
                if let (Some(t), Some(ns)) = (started, &mut tally.settle_ns) {
                    let spent = u64::try_from(t.elapsed().as_nanos()).unwrap_or(u64::MAX);
                    *ns = ns.saturating_add(spent);
                }
                settled.map(|(p, o)| {
                    let n = Numbers::of(&p, claim, &o);
                    let flagged = o.relies_on_flagged();
                    layer_values.clear();
                    if !shape.layers.is_empty() {
                        let map = match maps.iter().position(|(q, _)| Arc::ptr_eq(q, &p)) {
                            Some(i) => &maps[i].1,
                            None => {
                                let m = shape
                                    .layers
                                    .iter()
                                    .map(|id| p.layers.iter().position(|l| l.id == *id))
                                    .collect();
                                maps.push((Arc::clone(&p), m));
                                &maps[maps.len() - 1].1
                            }
                        };
                        layer_values.extend(map.iter().map(|i| i.map(|i| fen(o.payment(i)))));
                    }
                    if let Some(format) = shape.format {
                        write_row(
                            &mut out,
                            format,
                            line,
                            claim,
                            &p,
                            &n,
                            flagged,
                            &shape.layers,
                            &layer_values,
                        );
                    }
                    if let Some(b) = &mut batch {
                        b.push(
                            line,
                            claim,
                            &p.id,
                            p.effective,
                            &n.0,
                            flagged,
                            layer_values.iter().copied(),
                        );
                    }
                    tally.add(&n, flagged);
                })
            }
        };
        if let Err(error) = result {
            if opts.skip_invalid {
                tally.rejected += 1;
                rejects.push(Reject {
                    error,
                    raw: row.raw.take(),
                });
            } else {
                fatal = Some(BatchError::Row(error));
                break;
            }
        }
    }
    if let (Some(tx), None) = (to_next, &fatal) {
        // The next chunk may be gone already (the run is stopping): nothing to hand over then.
        let _ = tx.send((person, state));
    }
    let batch = match batch.map(arrow::BatchBuilder::finish) {
        None => None,
        Some(Ok(b)) => Some(b),
        Some(Err(e)) => {
            fatal = fatal.or(Some(e));
            None
        }
    };
    Done {
        out,
        batch,
        rejects,
        tally,
        fatal,
    }
}

/// A worker's settlers, one per policy version it has met (each plans its claim situations
/// once).
#[derive(Default)]
struct Settlers(Vec<Settler>);

impl Settlers {
    /// At most this many versions are kept (a run meets a handful).
    const MAX: usize = 64;

    fn for_policy(&mut self, policy: &Arc<Policy>) -> &mut Settler {
        // Each settler holds its policy, so a matching address is that very policy.
        let i = match self.0.iter().position(|s| Arc::ptr_eq(s.policy(), policy)) {
            Some(i) => i,
            None => {
                if self.0.len() >= Self::MAX {
                    self.0.clear();
                }
                self.0.push(Settler::new(Arc::clone(policy)));
                self.0.len() - 1
            }
        };
        &mut self.0[i]
    }
}

fn settle_row(
    cache: &mut PolicyCache<'_>,
    settlers: &mut Settlers,
    claim: &Claim,
    line: u64,
    state: &mut YtdState,
    opts: &Options,
) -> Result<(Arc<Policy>, Outcome), RowError> {
    let policy = cache
        .for_claim(opts.policy.as_deref(), None, claim, "")
        .map_err(|e| {
            let field = e
                .path
                .as_deref()
                .map(|p| p.trim_start_matches('.').to_string())
                .filter(|p| !p.is_empty());
            let mut msg = e.message.clone();
            if !e.allowed.is_empty() {
                msg.push_str(&format!(" (one of: {})", e.allowed.join(", ")));
            }
            RowError {
                line,
                field,
                message: msg,
            }
        })?;
    // A person's year may cross into a version with other layers.
    state.carry_if_foreign(&policy);
    match settlers.for_policy(&policy).settle_outcome(claim, state) {
        Ok(o) => Ok((policy, o)),
        Err(SettleError::Claim(c)) => {
            let mut msg = c.message.clone();
            if !c.allowed.is_empty() {
                msg.push_str(&format!(" (one of: {})", c.allowed.join(", ")));
            }
            Err(RowError {
                line,
                field: Some(c.path.clone()),
                message: msg,
            })
        }
        Err(SettleError::Eval(e)) => Err(RowError::new(line, None, e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]
    use super::*;

    #[test]
    fn amounts_are_written_as_their_display_in_yuan() {
        for f in [
            0i128,
            5,
            -5,
            100,
            123_456,
            -123_456,
            i128::from(i64::MAX),
            i128::from(u64::MAX) + 1,
            -i128::from(u64::MAX) - 7,
        ] {
            let mut out = Vec::new();
            push_fen(&mut out, f);
            let want = Decimal::from_i128_with_scale(f, 2).to_string();
            assert_eq!(String::from_utf8(out).unwrap(), want, "{f}");
        }
    }

    #[test]
    fn dates_are_written_as_their_display() {
        for (y, m, d) in [(2024, 1, 9), (1999, 12, 31), (2000, 2, 29), (1000, 10, 10)] {
            let date = Date::new(y, m, d).unwrap();
            let mut out = Vec::new();
            push_date(&mut out, date);
            assert_eq!(String::from_utf8(out).unwrap(), date.to_string());
        }
        if let Some(early) = Date::new(999, 5, 1) {
            let mut out = Vec::new();
            push_date(&mut out, early);
            assert_eq!(String::from_utf8(out).unwrap(), early.to_string());
        }
    }
}
