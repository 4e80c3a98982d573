//! The persons a run has seen, to notice one whose claims are not together — in bounded memory.
//!
//! The persons of the last [`PersonLog::limit`] groups are kept in memory, so a person who comes
//! back soon is caught at the row. Older ones are written out, sorted by name, to anonymous
//! temporary files; at the end of the input those runs are merged and a person found in two of
//! them is reported with the line where their claims appear again. Memory does not grow with the
//! number of persons; disk use is a few bytes per person, for the length of the run.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, Write};

/// A person appearing again after other persons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Repeat {
    pub person: String,
    /// Where their claims first began.
    pub first_line: u64,
    /// Where they begin again.
    pub line: u64,
}

pub(crate) struct PersonLog {
    limit: usize,
    /// Person → the line their claims began on.
    recent: HashMap<Box<str>, u64>,
    runs: Vec<File>,
}

impl PersonLog {
    /// Persons kept in memory before they are written out (about 60 bytes each).
    pub const DEFAULT_LIMIT: usize = 1 << 17;

    pub fn new(limit: usize) -> PersonLog {
        PersonLog {
            limit: limit.max(1),
            recent: HashMap::new(),
            runs: Vec::new(),
        }
    }

    /// Records that `person`'s claims begin at `line`; their earlier start if they were seen
    /// among the recent persons.
    pub fn begin(&mut self, person: &str, line: u64) -> io::Result<Option<Repeat>> {
        if let Some(first) = self.recent.get(person) {
            return Ok(Some(Repeat {
                person: person.to_string(),
                first_line: *first,
                line,
            }));
        }
        if self.recent.len() >= self.limit {
            self.spill()?;
        }
        self.recent.insert(person.into(), line);
        Ok(None)
    }

    /// Writes the recent persons out as one sorted run.
    fn spill(&mut self) -> io::Result<()> {
        let mut all: Vec<(Box<str>, u64)> = self.recent.drain().collect();
        all.sort_unstable();
        let mut w = BufWriter::new(tempfile::tempfile()?);
        for (name, line) in &all {
            let len = u32::try_from(name.len())
                .map_err(|_| io::Error::other("a person id longer than 4 GiB"))?;
            w.write_all(&line.to_le_bytes())?;
            w.write_all(&len.to_le_bytes())?;
            w.write_all(name.as_bytes())?;
        }
        let mut f = w.into_inner().map_err(|e| e.into_error())?;
        f.rewind()?;
        self.runs.push(f);
        Ok(())
    }

    /// At the end of the input: the first repeat (by the line where it appears again) among
    /// persons that were written out, if any.
    pub fn finish(mut self) -> io::Result<Option<Repeat>> {
        if self.runs.is_empty() {
            return Ok(None);
        }
        self.spill()?;
        let mut readers: Vec<BufReader<File>> = self.runs.into_iter().map(BufReader::new).collect();
        let mut heap = BinaryHeap::new();
        for (i, r) in readers.iter_mut().enumerate() {
            if let Some((name, line)) = read_entry(r)? {
                heap.push(Reverse((name, line, i)));
            }
        }
        let mut best: Option<Repeat> = None;
        // Entries come out by name, then line: a name's first entry is where it began.
        let mut prev: Option<(String, u64)> = None;
        while let Some(Reverse((name, line, i))) = heap.pop() {
            if let Some(r) = readers.get_mut(i) {
                if let Some((n, l)) = read_entry(r)? {
                    heap.push(Reverse((n, l, i)));
                }
            }
            match &prev {
                Some((p, first)) if *p == name => {
                    if best.as_ref().is_none_or(|b| line < b.line) {
                        best = Some(Repeat {
                            person: name,
                            first_line: *first,
                            line,
                        });
                    }
                }
                _ => prev = Some((name, line)),
            }
        }
        Ok(best)
    }
}

fn read_entry(r: &mut impl Read) -> io::Result<Option<(String, u64)>> {
    let mut line = [0u8; 8];
    match r.read_exact(&mut line) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let mut len = [0u8; 4];
    r.read_exact(&mut len)?;
    let mut name = vec![0u8; u32::from_le_bytes(len) as usize];
    r.read_exact(&mut name)?;
    let name = String::from_utf8(name).map_err(io::Error::other)?;
    Ok(Some((name, u64::from_le_bytes(line))))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]
    use super::*;

    fn run(persons: &[(&str, u64)], limit: usize) -> Option<Repeat> {
        let mut log = PersonLog::new(limit);
        for (p, line) in persons {
            if let Some(r) = log.begin(p, *line).unwrap() {
                return Some(r);
            }
        }
        log.finish().unwrap()
    }

    #[test]
    fn a_recent_repeat_is_caught_at_the_row() {
        let r = run(&[("a", 2), ("b", 3), ("a", 4)], 10).unwrap();
        assert_eq!((r.person.as_str(), r.first_line, r.line), ("a", 2, 4));
    }

    #[test]
    fn an_old_repeat_is_caught_at_the_end_with_the_earliest_line() {
        // Limit 2: each pair is written out when a third person comes, so `b` and `a` are no
        // longer in memory when they come back; `b` comes back first (line 7).
        let persons = [
            ("a", 2),
            ("b", 3),
            ("c", 4),
            ("d", 5),
            ("e", 6),
            ("b", 7),
            ("a", 8),
        ];
        let mut log = PersonLog::new(2);
        for (p, line) in persons {
            assert_eq!(log.begin(p, line).unwrap(), None, "{p} at {line}");
        }
        let r = log.finish().unwrap().unwrap();
        assert_eq!((r.person.as_str(), r.first_line, r.line), ("b", 3, 7));
    }

    #[test]
    fn distinct_persons_pass_whatever_the_limit() {
        let names: Vec<String> = (0..1000).map(|i| format!("p{i:04}")).collect();
        for limit in [1, 7, 100, 5000] {
            let persons: Vec<(&str, u64)> = names
                .iter()
                .enumerate()
                .map(|(i, n)| (n.as_str(), i as u64 + 2))
                .collect();
            assert_eq!(run(&persons, limit), None, "limit {limit}");
        }
    }
}
