//! Claims from Arrow record batches (Arrow IPC, Parquet, a Python table) and results as Arrow
//! record batches: the same columns, ordering rules and errors as CSV, without text in between.
//!
//! Input columns are the CSV names (national-platform aliases accepted). Text columns may be
//! `utf8`, `large_utf8` or `utf8_view` (`id` and `person` also integers); `date` is `date32` or
//! text; `referral` is `bool` or text; money is `decimal128` (any scale, at most two decimals
//! used) or text as in CSV — never floating point; a month of long-term care's counts (`days`,
//! `hospital_days`, `visits`, `age`, `months_used`) and `stay_days` are `int32`, `int64` or
//! text, a care month's `hours` and costs are money. A row's `line` is its row number in the input
//! (the first row is 1). Output money is `decimal128(18, 2)`, dates are `date32`.

use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Decimal128Builder, Int64Builder, StringBuilder,
};
use arrow_array::{
    Array, ArrayRef, BooleanArray, Date32Array, Decimal128Array, Int32Array, Int64Array,
    LargeStringArray, RecordBatch, StringArray, StringViewArray,
};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};
use rust_decimal::Decimal;
use yibao::engine::claim::parse_stay_days;
use yibao::engine::CareMonth;
use yibao::{Claim, Date, Money};

use crate::input::{finish, Col, COLUMNS};
use crate::{BatchError, Row, RowError, Rows};

/// The largest amount a claim may carry, in fen (1,000,000,000,000 yuan, as for text input).
const MAX_FEN: i128 = 100_000_000_000_000;

/// Days since 1970-01-01 of a date (proleptic Gregorian).
pub fn days_from_date(d: Date) -> i32 {
    let (y, m, day) = (
        i64::from(d.year()),
        i64::from(d.month()),
        i64::from(d.day()),
    );
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    // Dates are within years 1..=9999: the day count fits easily.
    i32::try_from(era * 146_097 + doe - 719_468).unwrap_or(i32::MAX)
}

/// The date `days` after 1970-01-01, if it is within years 1..=9999.
pub fn date_from_days(days: i32) -> Option<Date> {
    let z = i64::from(days) + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    Date::new(
        i32::try_from(y).ok()?,
        u8::try_from(m).ok()?,
        u8::try_from(d).ok()?,
    )
}

/// A text column of any of Arrow's string layouts (or integers, for ids).
#[derive(Clone)]
enum Text {
    Utf8(StringArray),
    Large(LargeStringArray),
    View(StringViewArray),
    I64(Int64Array),
    I32(Int32Array),
}

impl Text {
    fn of(a: &ArrayRef, ints: bool) -> Option<Text> {
        let any = a.as_any();
        match a.data_type() {
            DataType::Utf8 => any.downcast_ref::<StringArray>().cloned().map(Text::Utf8),
            DataType::LargeUtf8 => any
                .downcast_ref::<LargeStringArray>()
                .cloned()
                .map(Text::Large),
            DataType::Utf8View => any
                .downcast_ref::<StringViewArray>()
                .cloned()
                .map(Text::View),
            DataType::Int64 if ints => any.downcast_ref::<Int64Array>().cloned().map(Text::I64),
            DataType::Int32 if ints => any.downcast_ref::<Int32Array>().cloned().map(Text::I32),
            _ => None,
        }
    }

    /// The value at `i`; `None` for null.
    fn get(&self, i: usize) -> Option<std::borrow::Cow<'_, str>> {
        use std::borrow::Cow;
        match self {
            Text::Utf8(a) => a.is_valid(i).then(|| Cow::Borrowed(a.value(i))),
            Text::Large(a) => a.is_valid(i).then(|| Cow::Borrowed(a.value(i))),
            Text::View(a) => a.is_valid(i).then(|| Cow::Borrowed(a.value(i))),
            Text::I64(a) => a.is_valid(i).then(|| Cow::Owned(a.value(i).to_string())),
            Text::I32(a) => a.is_valid(i).then(|| Cow::Owned(a.value(i).to_string())),
        }
    }
}

#[derive(Clone)]
enum Value {
    Text(Text),
    Date(Date32Array),
    Bool(BooleanArray),
    /// Decimal values and their scale.
    Money(Decimal128Array, i8),
}

/// What kinds of Arrow column each claim column accepts, in words for the error.
fn accepted(col: Col) -> &'static str {
    match col {
        Col::Id | Col::Person => "text or integer",
        Col::Date => "date32 or text (YYYY-MM-DD)",
        Col::Referral => "bool or text",
        Col::Total | Col::OutOfList | Col::PreSelfPay | Col::OverLimit | Col::SpecialDrugs => {
            "decimal128 (e.g. decimal128(18, 2)) or text such as \"1234.50\" — money is never a float"
        }
        Col::Month(m) if m.is_amount() => {
            "decimal128 (e.g. decimal128(18, 2)) or text such as \"1234.50\" — never a float"
        }
        Col::Month(_) | Col::StayDays => "int32, int64 or text (a whole number)",
        _ => "text",
    }
}

fn value_of(col: Col, a: &ArrayRef) -> Option<Value> {
    let any = a.as_any();
    match (col, a.data_type()) {
        (Col::Id | Col::Person, _) => Text::of(a, true).map(Value::Text),
        (Col::Date, DataType::Date32) => {
            any.downcast_ref::<Date32Array>().cloned().map(Value::Date)
        }
        (Col::Referral, DataType::Boolean) => {
            any.downcast_ref::<BooleanArray>().cloned().map(Value::Bool)
        }
        (
            Col::Total | Col::OutOfList | Col::PreSelfPay | Col::OverLimit | Col::SpecialDrugs,
            DataType::Decimal128(_, s),
        ) => any
            .downcast_ref::<Decimal128Array>()
            .cloned()
            .map(|d| Value::Money(d, *s)),
        (Col::Month(m), DataType::Decimal128(_, s)) if m.is_amount() => any
            .downcast_ref::<Decimal128Array>()
            .cloned()
            .map(|d| Value::Money(d, *s)),
        (Col::Month(m), _) if !m.is_amount() => Text::of(a, true).map(Value::Text),
        (Col::StayDays, _) => Text::of(a, true).map(Value::Text),
        _ => Text::of(a, false).map(Value::Text),
    }
}

fn col_name(col: Col) -> &'static str {
    // The first (canonical) name of the column.
    COLUMNS
        .iter()
        .find(|(_, c)| *c == col)
        .map_or("?", |(n, _)| *n)
}

/// Maps a schema's fields to claim columns: unknown, repeated or missing required columns are
/// errors, as for a CSV header.
fn columns_of(schema: &Schema) -> Result<Vec<Col>, BatchError> {
    let mut cols = Vec::with_capacity(schema.fields().len());
    for f in schema.fields() {
        let n = f.name().trim();
        let Some((_, c)) = COLUMNS.iter().find(|(k, _)| k.eq_ignore_ascii_case(n)) else {
            return Err(BatchError::Column {
                column: n.to_string(),
                message: format!(
                    "unknown column; the columns are: {}",
                    crate::csv_columns().join(", ")
                ),
            });
        };
        if cols.contains(c) {
            return Err(BatchError::Column {
                column: n.to_string(),
                message: "repeats a column already given".into(),
            });
        }
        cols.push(*c);
    }
    for need in [Col::Date, Col::Care, Col::Total] {
        if !cols.contains(&need) {
            return Err(BatchError::Column {
                column: col_name(need).to_string(),
                message: "the table has no such column (required: date, care, total)".into(),
            });
        }
    }
    Ok(cols)
}

/// A source of record batches.
pub type Batches = Box<dyn Iterator<Item = Result<RecordBatch, ArrowError>> + Send>;

/// Claims from Arrow record batches.
pub struct ArrowRows {
    batches: Batches,
    names: Vec<String>,
    cols: Vec<Col>,
    /// The current batch's columns.
    values: Vec<Value>,
    len: usize,
    at: usize,
    /// Rows before the current batch.
    before: u64,
    done: bool,
}

impl ArrowRows {
    /// Checks the schema (column names and types) and reads `batches` lazily.
    pub fn new(schema: &Schema, batches: Batches) -> Result<ArrowRows, BatchError> {
        let cols = columns_of(schema)?;
        for (f, c) in schema.fields().iter().zip(&cols) {
            let ok = match (c, f.data_type()) {
                (Col::Id | Col::Person, DataType::Int64 | DataType::Int32) => true,
                (Col::Date, DataType::Date32) => true,
                (Col::Referral, DataType::Boolean) => true,
                (
                    Col::Total
                    | Col::OutOfList
                    | Col::PreSelfPay
                    | Col::OverLimit
                    | Col::SpecialDrugs,
                    DataType::Decimal128(_, s),
                ) => *s >= 0,
                (Col::Month(m), DataType::Decimal128(_, s)) => m.is_amount() && *s >= 0,
                (Col::Month(m), DataType::Int64 | DataType::Int32) => !m.is_amount(),
                (Col::StayDays, DataType::Int64 | DataType::Int32) => true,
                (_, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View) => true,
                _ => false,
            };
            if !ok {
                return Err(wrong_type(f.name(), *c, f.data_type(), 1));
            }
        }
        Ok(ArrowRows {
            batches,
            names: schema.fields().iter().map(|f| f.name().clone()).collect(),
            cols,
            values: Vec::new(),
            len: 0,
            at: 0,
            before: 0,
            done: false,
        })
    }

    fn load(&mut self, batch: &RecordBatch) -> Result<(), BatchError> {
        let line = self.before + 1;
        let mut values = Vec::with_capacity(self.cols.len());
        for (i, c) in self.cols.iter().enumerate() {
            let name = self.names.get(i).map_or("?", String::as_str);
            let Some(a) = batch.columns().get(i) else {
                return Err(BatchError::Column {
                    column: name.to_string(),
                    message: format!("missing from the record batch at row {line}"),
                });
            };
            match value_of(*c, a) {
                Some(v) => values.push(v),
                None => return Err(wrong_type(name, *c, a.data_type(), line)),
            }
        }
        self.values = values;
        self.len = batch.num_rows();
        self.at = 0;
        Ok(())
    }

    fn claim(&self, i: usize, line: u64) -> Result<Claim, RowError> {
        let mut c = Claim::simple(Date::MIN, "", Money::ZERO);
        let (mut date, mut total) = (None, None);
        let mut month: Option<CareMonth> = None;
        for ((col, v), name) in self.cols.iter().zip(&self.values).zip(&self.names) {
            let bad = |msg: String| RowError::new(line, Some(name), msg);
            let text = |v: &Value| -> Option<String> {
                match v {
                    Value::Text(t) => t
                        .get(i)
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty()),
                    _ => None,
                }
            };
            match col {
                Col::Id => c.id = text(v),
                Col::Person => c.person = text(v),
                Col::Region => c.region = text(v),
                Col::Scheme => c.scheme = text(v),
                Col::Group => c.group = text(v),
                Col::Level => c.level = text(v),
                Col::Place => c.place = text(v),
                Col::Disease => c.disease = text(v),
                Col::CaseCode => c.case_code = text(v),
                Col::StayDays => {
                    if let Some(s) = text(v) {
                        c.stay_days = Some(parse_stay_days(&s).map_err(bad)?);
                    }
                }
                Col::Care => c.care = text(v).unwrap_or_default(),
                Col::Categories => {
                    c.categories = text(v)
                        .map(|s| {
                            s.split([';', '|'])
                                .map(str::trim)
                                .filter(|s| !s.is_empty())
                                .map(str::to_string)
                                .collect()
                        })
                        .unwrap_or_default();
                }
                Col::Date => {
                    date = Some(match v {
                        Value::Date(a) => {
                            if a.is_null(i) {
                                return Err(bad("the date is null".into()));
                            }
                            date_from_days(a.value(i)).ok_or_else(|| {
                                bad(format!("day {} is outside years 1 to 9999", a.value(i)))
                            })?
                        }
                        _ => match text(v) {
                            None => return Err(bad("the date is null or empty".into())),
                            Some(s) => s.parse::<Date>().map_err(|e| bad(e.to_string()))?,
                        },
                    });
                }
                Col::Referral => {
                    c.referral = match v {
                        Value::Bool(a) => a.is_valid(i) && a.value(i),
                        _ => {
                            let s = text(v).unwrap_or_default().to_ascii_lowercase();
                            match s.as_str() {
                                "" | "0" | "false" | "no" | "n" => false,
                                "1" | "true" | "yes" | "y" => true,
                                _ => {
                                    return Err(bad(format!(
                                        "`{s}` is not true/false (also 1/0, yes/no)"
                                    )))
                                }
                            }
                        }
                    };
                }
                Col::Month(mc) => match v {
                    Value::Money(a, scale) => {
                        if a.is_valid(i) {
                            let m = money_of(a.value(i), *scale).map_err(bad)?;
                            mc.set_amount(month.get_or_insert_with(CareMonth::default), m);
                        }
                    }
                    _ => {
                        if let Some(s) = text(v) {
                            mc.set_text(month.get_or_insert_with(CareMonth::default), &s)
                                .map_err(bad)?;
                        }
                    }
                },
                Col::Total
                | Col::OutOfList
                | Col::PreSelfPay
                | Col::OverLimit
                | Col::SpecialDrugs => {
                    let m = match v {
                        Value::Money(a, scale) => {
                            if a.is_null(i) {
                                None
                            } else {
                                Some(money_of(a.value(i), *scale).map_err(bad)?)
                            }
                        }
                        _ => match text(v) {
                            None => None,
                            Some(s) => Some(s.parse::<Money>().map_err(|e| bad(e.to_string()))?),
                        },
                    };
                    match col {
                        Col::Total => total = m,
                        Col::OutOfList => c.amounts.out_of_list = m.unwrap_or(Money::ZERO),
                        Col::PreSelfPay => c.amounts.pre_self_pay = m.unwrap_or(Money::ZERO),
                        Col::SpecialDrugs => c.amounts.special_drugs = m.unwrap_or(Money::ZERO),
                        _ => c.amounts.over_limit = m.unwrap_or(Money::ZERO),
                    }
                }
            }
        }
        finish(c, line, date, total, month, "null or empty")
    }
}

fn wrong_type(name: &str, col: Col, t: &DataType, line: u64) -> BatchError {
    let what = match t {
        DataType::Float16 | DataType::Float32 | DataType::Float64 => {
            format!(
                "is a floating-point column ({t}); expected {}",
                accepted(col)
            )
        }
        _ => format!("has type {t}; expected {}", accepted(col)),
    };
    BatchError::Row(RowError::new(line, Some(name), what))
}

/// A decimal amount as money: the same rules as text (not negative, at most two decimals, not
/// above the largest amount).
fn money_of(v: i128, scale: i8) -> Result<Money, String> {
    let shown = || {
        Decimal::try_from_i128_with_scale(v, u32::try_from(scale).unwrap_or(0))
            .map_or_else(|_| v.to_string(), |d| d.to_string())
    };
    if v < 0 {
        return Err(yibao::engine::money::MoneyError::Negative(shown()).to_string());
    }
    let fen = match scale {
        0 => v.checked_mul(100),
        1 => v.checked_mul(10),
        2 => Some(v),
        s => {
            let div = 10i128.checked_pow(u32::try_from(s - 2).unwrap_or(u32::MAX));
            match div {
                Some(d) if v % d == 0 => Some(v / d),
                Some(_) => {
                    return Err(yibao::engine::money::MoneyError::Precision(shown()).to_string())
                }
                None => Some(0),
            }
        }
    };
    match fen {
        Some(f) if f <= MAX_FEN => Ok(Money::new(Decimal::from_i128_with_scale(f, 2))),
        _ => Err(yibao::engine::money::MoneyError::TooLarge(shown()).to_string()),
    }
}

impl Rows for ArrowRows {
    fn next_row(&mut self) -> Option<Result<Row, BatchError>> {
        while self.at >= self.len {
            if self.done {
                return None;
            }
            self.before += self.len as u64;
            self.len = 0;
            self.at = 0;
            match self.batches.next() {
                None => {
                    self.done = true;
                    return None;
                }
                Some(Err(e)) => {
                    self.done = true;
                    return Some(Err(BatchError::Input(format!(
                        "row {}: cannot read the input: {e}",
                        self.before + 1
                    ))));
                }
                Some(Ok(b)) => {
                    if let Err(e) = self.load(&b) {
                        self.done = true;
                        return Some(Err(e));
                    }
                }
            }
        }
        let i = self.at;
        self.at += 1;
        let line = self.before + i as u64 + 1;
        let claim = self.claim(i, line).map(Box::new);
        Some(Ok(Row {
            line,
            claim,
            raw: None,
        }))
    }

    fn bytes_read(&self) -> u64 {
        0
    }
}

/// The output's schema: the CSV output columns, then one column per layer id (`layer_<id>`,
/// null where the row's policy has no such layer).
pub fn schema(layers: &[Arc<str>]) -> SchemaRef {
    let money = || DataType::Decimal128(18, 2);
    let mut fields = vec![
        Field::new("line", DataType::Int64, false),
        Field::new("id", DataType::Utf8, true),
        Field::new("person", DataType::Utf8, true),
        Field::new("policy", DataType::Utf8, false),
        Field::new("version", DataType::Date32, false),
        Field::new("date", DataType::Date32, false),
    ];
    for name in &crate::OUTPUT_COLUMNS[6..22] {
        fields.push(Field::new(*name, money(), false));
    }
    fields.push(Field::new("unverified", DataType::Boolean, false));
    for l in layers {
        fields.push(Field::new(format!("layer_{l}"), money(), true));
    }
    Arc::new(Schema::new(fields))
}

/// Builds one record batch of results (a chunk's rows).
pub(crate) struct BatchBuilder {
    schema: SchemaRef,
    line: Int64Builder,
    id: StringBuilder,
    person: StringBuilder,
    policy: StringBuilder,
    version: Date32Builder,
    date: Date32Builder,
    money: Vec<Vec<i128>>,
    unverified: BooleanBuilder,
    /// Builders, not `Vec<Option<i128>>`: an `Option<i128>` takes 32 bytes and was copied into
    /// the array at the end; a builder writes the 16-byte values and the validity bits in place.
    layers: Vec<Decimal128Builder>,
}

impl BatchBuilder {
    pub fn new(schema: SchemaRef, layers: usize, rows: usize) -> BatchBuilder {
        BatchBuilder {
            schema,
            line: Int64Builder::with_capacity(rows),
            id: StringBuilder::with_capacity(rows, rows * 8),
            person: StringBuilder::with_capacity(rows, rows * 8),
            policy: StringBuilder::with_capacity(rows, rows * 16),
            version: Date32Builder::with_capacity(rows),
            date: Date32Builder::with_capacity(rows),
            money: (0..16).map(|_| Vec::with_capacity(rows)).collect(),
            unverified: BooleanBuilder::with_capacity(rows),
            layers: (0..layers)
                .map(|_| Decimal128Builder::with_capacity(rows))
                .collect(),
        }
    }

    /// Appends one settled row: `numbers` in output order (`total` … `not_covered`, fen) and the
    /// payment of each layer column (fen; `None` where the policy has no such layer).
    #[allow(clippy::too_many_arguments)]
    pub fn push(
        &mut self,
        line: u64,
        claim: &Claim,
        policy: &str,
        version: Date,
        numbers: &[i128; 16],
        unverified: bool,
        layers: impl Iterator<Item = Option<i128>>,
    ) {
        self.line
            .append_value(i64::try_from(line).unwrap_or(i64::MAX));
        self.id.append_option(claim.id.as_deref());
        self.person.append_option(claim.person.as_deref());
        self.policy.append_value(policy);
        self.version.append_value(days_from_date(version));
        self.date.append_value(days_from_date(claim.date));
        for (col, v) in self.money.iter_mut().zip(numbers) {
            col.push(*v);
        }
        self.unverified.append_value(unverified);
        for (col, v) in self.layers.iter_mut().zip(layers) {
            col.append_option(v);
        }
    }

    pub fn finish(mut self) -> Result<RecordBatch, BatchError> {
        let dec = |a: Decimal128Array| {
            a.with_precision_and_scale(18, 2)
                .map(|a| Arc::new(a) as ArrayRef)
        };
        let mut cols: Vec<ArrayRef> = vec![
            Arc::new(self.line.finish()) as ArrayRef,
            Arc::new(self.id.finish()),
            Arc::new(self.person.finish()),
            Arc::new(self.policy.finish()),
            Arc::new(self.version.finish()),
            Arc::new(self.date.finish()),
        ];
        let out = |e: ArrowError| BatchError::Output(std::io::Error::other(e));
        for m in std::mem::take(&mut self.money) {
            cols.push(dec(Decimal128Array::from(m)).map_err(out)?);
        }
        cols.push(Arc::new(self.unverified.finish()));
        for mut l in std::mem::take(&mut self.layers) {
            cols.push(dec(l.finish()).map_err(out)?);
        }
        RecordBatch::try_new(self.schema, cols).map_err(out)
    }
}

/// Rows read from Parquet, `batch_rows` at a time (row group by row group).
pub fn parquet_rows(file: std::fs::File, batch_rows: usize) -> Result<ArrowRows, BatchError> {
    let b = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| BatchError::Input(format!("cannot read the Parquet file: {e}")))?;
    let schema = b.schema().clone();
    let reader = b
        .with_batch_size(batch_rows)
        .build()
        .map_err(|e| BatchError::Input(format!("cannot read the Parquet file: {e}")))?;
    ArrowRows::new(&schema, Box::new(reader))
}

/// Rows read from Arrow IPC: the file format (`ARROW1` magic) or a stream.
pub fn ipc_rows<R: std::io::Read + std::io::Seek + Send + 'static>(
    mut input: R,
) -> Result<ArrowRows, BatchError> {
    let err =
        |e: &dyn std::fmt::Display| BatchError::Input(format!("cannot read the Arrow input: {e}"));
    let mut magic = [0u8; 6];
    let n = input.read(&mut magic).map_err(|e| err(&e))?;
    input.rewind().map_err(|e| err(&e))?;
    if n == 6 && &magic == b"ARROW1" {
        let r = arrow_ipc::reader::FileReader::try_new(input, None).map_err(|e| err(&e))?;
        let schema = r.schema();
        ArrowRows::new(&schema, Box::new(r))
    } else {
        let r = arrow_ipc::reader::StreamReader::try_new(std::io::BufReader::new(input), None)
            .map_err(|e| err(&e))?;
        let schema = r.schema();
        ArrowRows::new(&schema, Box::new(r))
    }
}

/// Where result batches go.
pub trait BatchSink: Send {
    fn write(&mut self, batch: &RecordBatch) -> Result<(), BatchError>;
}

/// Result batches collected in memory (for a Python table).
#[derive(Default)]
pub struct Collect(pub Vec<RecordBatch>);

impl BatchSink for Collect {
    fn write(&mut self, batch: &RecordBatch) -> Result<(), BatchError> {
        self.0.push(batch.clone());
        Ok(())
    }
}

/// Result batches written as an Arrow IPC stream or file.
pub enum IpcSink<W: std::io::Write + Send> {
    Stream(arrow_ipc::writer::StreamWriter<W>),
    File(arrow_ipc::writer::FileWriter<W>),
}

impl<W: std::io::Write + Send> IpcSink<W> {
    pub fn stream(w: W, schema: &Schema) -> Result<Self, BatchError> {
        arrow_ipc::writer::StreamWriter::try_new(w, schema)
            .map(IpcSink::Stream)
            .map_err(output)
    }

    pub fn file(w: W, schema: &Schema) -> Result<Self, BatchError> {
        arrow_ipc::writer::FileWriter::try_new(w, schema)
            .map(IpcSink::File)
            .map_err(output)
    }

    /// Writes the end of the stream or file and returns the writer.
    pub fn finish(self) -> Result<W, BatchError> {
        match self {
            IpcSink::Stream(mut s) => {
                s.finish().map_err(output)?;
                s.into_inner().map_err(output)
            }
            IpcSink::File(mut f) => {
                f.finish().map_err(output)?;
                f.into_inner().map_err(output)
            }
        }
    }
}

impl<W: std::io::Write + Send> BatchSink for IpcSink<W> {
    fn write(&mut self, batch: &RecordBatch) -> Result<(), BatchError> {
        match self {
            IpcSink::Stream(s) => s.write(batch),
            IpcSink::File(f) => f.write(batch),
        }
        .map_err(output)
    }
}

/// Result batches written as Parquet (Snappy), in row groups of 65,536 rows.
pub struct ParquetSink<W: std::io::Write + Send>(parquet::arrow::ArrowWriter<W>);

impl<W: std::io::Write + Send> ParquetSink<W> {
    pub fn new(w: W, schema: SchemaRef) -> Result<Self, BatchError> {
        let props = parquet::file::properties::WriterProperties::builder()
            .set_compression(parquet::basic::Compression::SNAPPY)
            .set_max_row_group_row_count(Some(65_536))
            .build();
        parquet::arrow::ArrowWriter::try_new(w, schema, Some(props))
            .map(ParquetSink)
            .map_err(|e| BatchError::Output(std::io::Error::other(e)))
    }

    pub fn finish(self) -> Result<W, BatchError> {
        self.0
            .into_inner()
            .map_err(|e| BatchError::Output(std::io::Error::other(e)))
    }
}

impl<W: std::io::Write + Send> BatchSink for ParquetSink<W> {
    fn write(&mut self, batch: &RecordBatch) -> Result<(), BatchError> {
        self.0
            .write(batch)
            .map_err(|e| BatchError::Output(std::io::Error::other(e)))
    }
}

fn output(e: ArrowError) -> BatchError {
    BatchError::Output(std::io::Error::other(e))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]
    use super::*;

    #[test]
    fn days_and_dates_round_trip() {
        // 1970-01-01 is day 0; 2000-03-01 is day 11,017 (30 years of 365 days + 7 leap days =
        // 10,957, plus 31 + 29 days of January and February 2000 = 11,017).
        assert_eq!(days_from_date(Date::new(1970, 1, 1).unwrap()), 0);
        assert_eq!(days_from_date(Date::new(2000, 3, 1).unwrap()), 11_017);
        assert_eq!(date_from_days(11_016), Date::new(2000, 2, 29));
        assert_eq!(date_from_days(-1), Date::new(1969, 12, 31));
        for d in (-719_162..2_932_896).step_by(97) {
            let date = date_from_days(d).unwrap();
            assert_eq!(days_from_date(date), d, "{date}");
        }
        assert_eq!(date_from_days(-719_163), None, "year 0");
    }

    #[test]
    fn decimal_money_follows_the_text_rules() {
        assert_eq!(money_of(123_450, 2).unwrap().to_string(), "1234.50");
        assert_eq!(money_of(12, 0).unwrap().to_string(), "12.00");
        assert_eq!(money_of(1_234_500, 3).unwrap().to_string(), "1234.50");
        assert!(money_of(1_234_501, 3).unwrap_err().contains("1234.501"));
        assert!(money_of(-1, 2).is_err());
        assert!(money_of(MAX_FEN + 1, 2).is_err());
    }

    /// A month of long-term care from Arrow: counts as integers, costs as decimals, the total
    /// null (the sum of the costs); a negative count names its row and column.
    #[test]
    fn a_care_month_reads_from_integer_and_decimal_columns() {
        let text = |v: &[Option<&str>]| Arc::new(StringArray::from(v.to_vec())) as ArrayRef;
        let cents = |v: &[Option<i128>]| {
            Arc::new(
                Decimal128Array::from(v.to_vec())
                    .with_precision_and_scale(18, 2)
                    .unwrap(),
            ) as ArrayRef
        };
        let int = |v: &[Option<i32>]| Arc::new(Int32Array::from(v.to_vec())) as ArrayRef;
        let columns = [
            ("date", text(&[Some("2024-09-30"), Some("2024-10-31")])),
            ("care", text(&[Some("home_b"), Some("home_b")])),
            ("total", cents(&[None, Some(40_000)])),
            ("visits", int(&[Some(12), Some(-1)])),
            ("hours", text(&[Some("28"), Some("30")])),
            ("personal_care", cents(&[Some(100_000), None])),
            ("nursing", cents(&[Some(40_050), Some(40_000)])),
        ];
        let schema = Arc::new(Schema::new(
            columns
                .iter()
                .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
                .collect::<Vec<_>>(),
        ));
        let batch = RecordBatch::try_new(
            schema.clone(),
            columns.iter().map(|c| c.1.clone()).collect(),
        )
        .unwrap();
        let mut rows = ArrowRows::new(&schema, Box::new(std::iter::once(Ok(batch)))).unwrap();
        let c = rows.next_row().unwrap().unwrap().claim.unwrap();
        let m = c.month.unwrap();
        assert_eq!(c.amounts.total.to_string(), "1400.50");
        assert_eq!(
            (m.visits, m.hours.map(|h| h.to_string())),
            (Some(12), Some("28.00".into()))
        );
        assert_eq!(m.costs.nursing.to_string(), "400.50");
        let e = rows.next_row().unwrap().unwrap().claim.unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 2: visits: `-1` is not a whole number of 0 or more"
        );
        // A float column for a count is refused before any row.
        let floats = Schema::new(vec![
            Field::new("date", DataType::Utf8, true),
            Field::new("care", DataType::Utf8, true),
            Field::new("total", DataType::Utf8, true),
            Field::new("days", DataType::Float64, true),
        ]);
        let e = ArrowRows::new(&floats, Box::new(std::iter::empty()))
            .err()
            .unwrap();
        assert!(
            e.to_string().contains("days") && e.to_string().contains("floating-point"),
            "{e}"
        );
    }
}
