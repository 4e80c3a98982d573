//! Reading claims from CSV or JSON Lines, one row at a time.

use std::io::BufRead;

use yibao::engine::claim::parse_stay_days;
use yibao::engine::ir::CostKind;
use yibao::engine::CareMonth;
use yibao::{Claim, Date, Money};

use crate::{BatchError, RowError};

/// A file format, chosen by the file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Jsonl,
}

impl Format {
    /// `.csv` → CSV; `.jsonl`, `.ndjson` → JSON Lines.
    pub fn from_path(path: &std::path::Path) -> Option<Format> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "csv" => Some(Format::Csv),
            "jsonl" | "ndjson" => Some(Format::Jsonl),
            _ => None,
        }
    }
}

/// One input row: its line number, the claim or what was wrong with it, and the original row
/// (kept only when rejected rows are written out). The claim is boxed: a row is moved several
/// times between the reader and a worker, and moving the claim itself (several hundred bytes)
/// each time was a tenth of the reading thread's time.
#[derive(Debug)]
pub struct Row {
    pub line: u64,
    pub claim: Result<Box<Claim>, RowError>,
    pub raw: Option<Raw>,
}

/// A row as it was read.
#[derive(Debug, Clone)]
pub enum Raw {
    Csv(csv::StringRecord),
    Line(String),
}

/// A source of rows.
pub trait Rows: Send {
    /// The next row; `None` at the end; an error for input that cannot be read at all.
    fn next_row(&mut self) -> Option<Result<Row, BatchError>>;
    /// Bytes consumed so far, for progress.
    fn bytes_read(&self) -> u64;
    /// The CSV header, when the input is CSV (the reject file repeats it).
    fn header(&self) -> Option<&csv::StringRecord> {
        None
    }
}

/// The CSV columns a claim can have. Aliases are the national platform's names.
pub(crate) const COLUMNS: &[(&str, Col)] = &[
    ("id", Col::Id),
    ("person", Col::Person),
    ("psn_no", Col::Person),
    ("region", Col::Region),
    ("scheme", Col::Scheme),
    ("date", Col::Date),
    ("setl_time", Col::Date),
    ("group", Col::Group),
    ("categories", Col::Categories),
    ("care", Col::Care),
    ("med_type", Col::Care),
    ("level", Col::Level),
    ("place", Col::Place),
    ("referral", Col::Referral),
    ("disease", Col::Disease),
    ("case_code", Col::CaseCode),
    ("stay_days", Col::StayDays),
    ("act_ipt_days", Col::StayDays),
    ("total", Col::Total),
    ("medfee_sumamt", Col::Total),
    ("out_of_list", Col::OutOfList),
    ("fulamt_ownpay_amt", Col::OutOfList),
    ("pre_self_pay", Col::PreSelfPay),
    ("preselfpay_amt", Col::PreSelfPay),
    ("over_limit", Col::OverLimit),
    ("overlmt_selfpay", Col::OverLimit),
    ("special_drugs", Col::SpecialDrugs),
    // A month of long-term care (`claim.month`): its facts and its costs by kind, named as in
    // the claim format.
    ("days", Col::Month(MonthCol::Days)),
    ("hospital_days", Col::Month(MonthCol::HospitalDays)),
    ("visits", Col::Month(MonthCol::Visits)),
    ("hours", Col::Month(MonthCol::Hours)),
    ("age", Col::Month(MonthCol::Age)),
    ("months_used", Col::Month(MonthCol::MonthsUsed)),
    (
        "personal_care",
        Col::Month(MonthCol::Cost(CostKind::PersonalCare)),
    ),
    ("nursing", Col::Month(MonthCol::Cost(CostKind::Nursing))),
    ("supplies", Col::Month(MonthCol::Cost(CostKind::Supplies))),
    ("equipment", Col::Month(MonthCol::Cost(CostKind::Equipment))),
    (
        "assessment",
        Col::Month(MonthCol::Cost(CostKind::Assessment)),
    ),
    (
        "family_care",
        Col::Month(MonthCol::Cost(CostKind::FamilyCare)),
    ),
];

/// The CSV column names `yibao batch` reads.
pub fn csv_columns() -> Vec<&'static str> {
    COLUMNS.iter().map(|(n, _)| *n).collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Col {
    Id,
    Person,
    Region,
    Scheme,
    Date,
    Group,
    Categories,
    Care,
    Level,
    Place,
    Referral,
    Disease,
    CaseCode,
    StayDays,
    Total,
    OutOfList,
    PreSelfPay,
    OverLimit,
    SpecialDrugs,
    Month(MonthCol),
}

/// A column of a month of long-term care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MonthCol {
    Days,
    HospitalDays,
    Visits,
    Hours,
    Age,
    MonthsUsed,
    Cost(CostKind),
}

impl MonthCol {
    /// Whether the column is an amount (a cost, or hours with at most two decimals) rather than a
    /// whole number.
    pub(crate) fn is_amount(self) -> bool {
        matches!(self, MonthCol::Hours | MonthCol::Cost(_))
    }

    /// Sets an amount column's value on the month.
    pub(crate) fn set_amount(self, m: &mut CareMonth, v: Money) {
        let c = &mut m.costs;
        match self {
            MonthCol::Hours => m.hours = Some(v),
            MonthCol::Cost(CostKind::PersonalCare) => c.personal_care = v,
            MonthCol::Cost(CostKind::Nursing) => c.nursing = v,
            MonthCol::Cost(CostKind::Supplies) => c.supplies = v,
            MonthCol::Cost(CostKind::Equipment) => c.equipment = v,
            MonthCol::Cost(CostKind::Assessment) => c.assessment = v,
            MonthCol::Cost(CostKind::FamilyCare) => c.family_care = v,
            _ => {}
        }
    }

    /// Sets a whole-number column's value on the month.
    pub(crate) fn set_count(self, m: &mut CareMonth, n: u32) {
        match self {
            MonthCol::Days => m.days = Some(n),
            MonthCol::HospitalDays => m.hospital_days = n,
            MonthCol::Visits => m.visits = Some(n),
            MonthCol::Age => m.age = Some(n),
            MonthCol::MonthsUsed => m.months_used = n,
            _ => {}
        }
    }

    /// Sets the column from its text (trimmed, not empty); the error says what is wrong.
    pub(crate) fn set_text(self, m: &mut CareMonth, f: &str) -> Result<(), String> {
        if self.is_amount() {
            self.set_amount(m, f.parse::<Money>().map_err(|e| e.to_string())?);
        } else {
            let n = f
                .parse::<u32>()
                .map_err(|_| format!("`{f}` is not a whole number of 0 or more"))?;
            self.set_count(m, n);
        }
        Ok(())
    }
}

/// The total of a care month whose `total` was left empty: the sum of its costs. `None` when
/// the sum passes the largest amount (the row's total is then reported missing).
pub(crate) fn care_total(m: &CareMonth) -> Option<Money> {
    let sum: rust_decimal::Decimal = m.costs.by_kind().iter().map(|c| c.get()).sum();
    (sum <= yibao::engine::money::MAX_AMOUNT).then(|| Money::new(sum))
}

/// Claims from CSV with a header row naming the columns.
pub struct CsvRows<R: std::io::Read> {
    reader: csv::Reader<R>,
    header: csv::StringRecord,
    cols: Vec<Col>,
    record: csv::StringRecord,
    keep_raw: bool,
    done: bool,
}

impl<R: std::io::Read + Send> CsvRows<R> {
    /// Reads the header; an unknown or repeated column, or a missing required one, is an error.
    pub fn new(input: R, keep_raw: bool) -> Result<Self, BatchError> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(input);
        let header = reader
            .headers()
            .map_err(|e| BatchError::Input(format!("line 1: cannot read the CSV header: {e}")))?
            .clone();
        let mut cols = Vec::with_capacity(header.len());
        for name in &header {
            let n = name.trim();
            let Some((_, c)) = COLUMNS.iter().find(|(k, _)| k.eq_ignore_ascii_case(n)) else {
                return Err(BatchError::Input(format!(
                    "line 1: unknown column `{n}`; the columns are: {}",
                    csv_columns().join(", ")
                )));
            };
            if cols.contains(c) {
                return Err(BatchError::Input(format!(
                    "line 1: column `{n}` repeats a column already given"
                )));
            }
            cols.push(*c);
        }
        for (need, name) in [
            (Col::Date, "date"),
            (Col::Care, "care"),
            (Col::Total, "total"),
        ] {
            if !cols.contains(&need) {
                return Err(BatchError::Input(format!(
                    "line 1: the header has no `{name}` column (required: date, care, total)"
                )));
            }
        }
        Ok(CsvRows {
            reader,
            header,
            cols,
            record: csv::StringRecord::new(),
            keep_raw,
            done: false,
        })
    }

    fn claim(&self, line: u64) -> Result<Claim, RowError> {
        let mut c = Claim::simple(Date::MIN, "", Money::ZERO);
        let (mut date, mut total) = (None, None);
        let mut month: Option<CareMonth> = None;
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
        for ((col, field), name) in self.cols.iter().zip(self.record.iter()).zip(&self.header) {
            let f = field.trim();
            let bad = |name: &str, msg: String| RowError::new(line, Some(name), msg);
            let money = |name: &str| -> Result<Money, RowError> {
                if f.is_empty() {
                    return Ok(Money::ZERO);
                }
                f.parse::<Money>().map_err(|e| bad(name, e.to_string()))
            };
            match col {
                Col::Id => c.id = opt(f),
                Col::Person => c.person = opt(f),
                Col::Region => c.region = opt(f),
                Col::Scheme => c.scheme = opt(f),
                Col::Date => {
                    date = Some(f.parse::<Date>().map_err(|e| bad("date", e.to_string()))?);
                }
                Col::Group => c.group = opt(f),
                Col::Categories => {
                    c.categories = f
                        .split([';', '|'])
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect();
                }
                Col::Care => c.care = f.to_string(),
                Col::Level => c.level = opt(f),
                Col::Place => c.place = opt(f),
                Col::Referral => {
                    c.referral = match f.to_ascii_lowercase().as_str() {
                        "" | "0" | "false" | "no" | "n" => false,
                        "1" | "true" | "yes" | "y" => true,
                        _ => {
                            return Err(bad(
                                "referral",
                                format!("`{f}` is not true/false (also 1/0, yes/no)"),
                            ))
                        }
                    }
                }
                Col::Disease => c.disease = opt(f),
                Col::CaseCode => c.case_code = opt(f),
                Col::StayDays => {
                    if !f.is_empty() {
                        c.stay_days = Some(parse_stay_days(f).map_err(|e| bad("stay_days", e))?);
                    }
                }
                Col::Total => {
                    if !f.is_empty() {
                        total = Some(money("total")?);
                    }
                }
                Col::OutOfList => c.amounts.out_of_list = money("out_of_list")?,
                Col::PreSelfPay => c.amounts.pre_self_pay = money("pre_self_pay")?,
                Col::OverLimit => c.amounts.over_limit = money("over_limit")?,
                Col::SpecialDrugs => c.amounts.special_drugs = money("special_drugs")?,
                Col::Month(m) => {
                    if !f.is_empty() {
                        m.set_text(month.get_or_insert_with(CareMonth::default), f)
                            .map_err(|e| bad(name.trim(), e))?;
                    }
                }
            }
        }
        finish(c, line, date, total, month, "empty")
    }
}

/// A claim's last checks, shared by CSV and Arrow: date and total are there (an empty total of a
/// care month is the sum of its costs) and the care type is not `empty` (or null).
pub(crate) fn finish(
    mut c: Claim,
    line: u64,
    date: Option<Date>,
    mut total: Option<Money>,
    month: Option<CareMonth>,
    empty: &str,
) -> Result<Claim, RowError> {
    if let (None, Some(m)) = (total, &month) {
        total = Some(care_total(m).ok_or_else(|| {
            RowError::new(
                line,
                Some("total"),
                "the total is empty and the month's costs add up to more than 1,000,000,000,000"
                    .into(),
            )
        })?);
    }
    c.month = month;
    match (date, total) {
            (Some(d), Some(t)) => {
                c.date = d;
                c.amounts.total = t;
            }
        (None, _) => {
            return Err(RowError::new(
                line,
                Some("date"),
                format!("the date is {empty}"),
            ))
        }
        (_, None) => {
            return Err(RowError::new(
                line,
                Some("total"),
                format!("the total bill is {empty} (it may be left empty only for a month of long-term care, whose costs are then added up)"),
            ))
        }
    }
    if c.care.is_empty() {
        return Err(RowError::new(
            line,
            Some("care"),
            format!("the care type is {empty}"),
        ));
    }
    Ok(c)
}

impl<R: std::io::Read + Send> Rows for CsvRows<R> {
    fn next_row(&mut self) -> Option<Result<Row, BatchError>> {
        if self.done {
            return None;
        }
        match self.reader.read_record(&mut self.record) {
            Ok(false) => {
                self.done = true;
                None
            }
            Ok(true) => {
                let line = self.record.position().map_or(0, |p| p.line());
                let claim = self.claim(line).map(Box::new);
                let raw = (self.keep_raw || claim.is_err()).then(|| Raw::Csv(self.record.clone()));
                Some(Ok(Row { line, claim, raw }))
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                match e.kind() {
                    // A row with the wrong number of fields is that row's problem.
                    csv::ErrorKind::UnequalLengths { .. } => Some(Ok(Row {
                        line,
                        claim: Err(RowError::new(
                            line,
                            None,
                            format!(
                                "the row has a different number of fields from the header ({} columns)",
                                self.header.len()
                            ),
                        )),
                        raw: Some(Raw::Csv(self.record.clone())),
                    })),
                    _ => {
                        self.done = true;
                        Some(Err(BatchError::Input(format!("line {line}: {e}"))))
                    }
                }
            }
        }
    }

    fn bytes_read(&self) -> u64 {
        self.reader.position().byte()
    }

    fn header(&self) -> Option<&csv::StringRecord> {
        Some(&self.header)
    }
}

/// Claims from JSON Lines: one claim object per line (the `estimate` claim format); blank lines
/// are skipped.
pub struct JsonlRows<R: BufRead> {
    input: R,
    line: u64,
    bytes: u64,
    buf: String,
    keep_raw: bool,
    done: bool,
}

impl<R: BufRead + Send> JsonlRows<R> {
    pub fn new(input: R, keep_raw: bool) -> Self {
        JsonlRows {
            input,
            line: 0,
            bytes: 0,
            buf: String::new(),
            keep_raw,
            done: false,
        }
    }
}

impl<R: BufRead + Send> Rows for JsonlRows<R> {
    fn next_row(&mut self) -> Option<Result<Row, BatchError>> {
        loop {
            if self.done {
                return None;
            }
            self.buf.clear();
            match self.input.read_line(&mut self.buf) {
                Ok(0) => {
                    self.done = true;
                    return None;
                }
                Ok(n) => {
                    self.line += 1;
                    self.bytes += n as u64;
                    let text = self.buf.trim();
                    if text.is_empty() {
                        continue;
                    }
                    let line = self.line;
                    let claim: Result<Box<Claim>, RowError> = yibao::from_json(text.as_bytes())
                        .map(Box::new)
                        .map_err(|e: yibao::JsonError| {
                            RowError::new(line, e.error.path.as_deref(), e.error.message)
                        });
                    let raw =
                        (self.keep_raw || claim.is_err()).then(|| Raw::Line(text.to_string()));
                    return Some(Ok(Row { line, claim, raw }));
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(BatchError::Input(format!(
                        "line {}: cannot read the input: {e}",
                        self.line + 1
                    ))));
                }
            }
        }
    }

    fn bytes_read(&self) -> u64 {
        self.bytes
    }
}
