//! `SuiteTable`: what a report gathers per suite, found by the suite's id.
//!
//! Reports that collect a whole run before writing (JUnit, the history's record) keep one value
//! per suite. Events name their suite by [`SuiteId`] (its file and name); this table is the one
//! place that turns an id into that suite's value, in the order suites first appeared, with a
//! hash lookup rather than a scan per event.

use std::collections::HashMap;
use std::path::PathBuf;

use super::SuiteId;
use crate::suite::Suite;

/// One `T` per suite, in the order of each suite's first event.
#[derive(Debug)]
pub struct SuiteTable<T> {
    index: HashMap<(Option<PathBuf>, String), usize>,
    values: Vec<T>,
}

impl<T> Default for SuiteTable<T> {
    fn default() -> Self {
        Self {
            index: HashMap::new(),
            values: Vec::new(),
        }
    }
}

impl<T> SuiteTable<T> {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// `suite`'s value, made by `first` when the suite is new to the table.
    pub fn entry(&mut self, suite: &Suite, first: impl FnOnce(&Suite) -> T) -> &mut T {
        let id = SuiteId::of(suite);
        let key = (id.file.map(ToOwned::to_owned), id.name.to_owned());
        let position = *self.index.entry(key).or_insert_with(|| {
            self.values.push(first(suite));
            self.values.len() - 1
        });
        &mut self.values[position]
    }

    /// Takes every value out, in first-appearance order, leaving the table empty.
    pub fn take(&mut self) -> Vec<T> {
        self.index.clear();
        std::mem::take(&mut self.values)
    }

    /// How many suites the table holds.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether no suite has been seen.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suite(file: Option<&str>, name: &str) -> Suite {
        let text = format!("name = \"{name}\"\n[[step]]\nname = \"s\"\nrun = \"true\"\n");
        let mut suite = crate::suite::parse_suite(&text, std::path::Path::new("x.toml"))
            .expect("a valid suite");
        suite.source = file.map(PathBuf::from);
        suite
    }

    #[test]
    fn suites_are_told_apart_by_file_and_name_and_kept_in_first_seen_order() {
        let mut table = SuiteTable::new();
        let a = suite(Some("suites/a.toml"), "web");
        let b = suite(Some("suites/b.toml"), "web");
        let unnamed_file = suite(None, "web");
        *table.entry(&a, |_| 0) += 1;
        *table.entry(&b, |_| 10) += 1;
        *table.entry(&a, |_| unreachable!("a is known")) += 1;
        *table.entry(&unnamed_file, |s| s.name.len()) += 1;
        assert_eq!(table.len(), 3);
        assert_eq!(table.take(), vec![2, 11, 4]);
        assert!(table.is_empty());
    }
}
