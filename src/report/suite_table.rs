//! `SuiteTable`: what a report gathers per suite, found by the suite's id.
//!
//! Reports that collect a whole run before writing (JUnit, the history's record) keep one value
//! per suite. Events name their suite by its [`SuiteId`] in the run (never by its name or file:
//! two suites of a run may share both); this table is the one place that turns an id into that
//! suite's value, in the order suites first appeared.

use std::collections::HashMap;

use super::{PlannedSuite, SuiteId};

/// One `T` per suite, in the order of each suite's first event.
#[derive(Debug)]
pub struct SuiteTable<T> {
    index: HashMap<SuiteId, usize>,
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
    pub fn entry(
        &mut self,
        suite: &PlannedSuite,
        first: impl FnOnce(&PlannedSuite) -> T,
    ) -> &mut T {
        let position = *self.index.entry(suite.id()).or_insert_with(|| {
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
    use std::path::PathBuf;
    use std::sync::Arc;

    use super::*;

    fn suite(id: usize, file: &str, name: &str) -> PlannedSuite {
        let text = format!("name = \"{name}\"\n[[step]]\nname = \"s\"\nrun = \"true\"\n");
        let mut suite = crate::suite::parse_suite(&text, std::path::Path::new("x.toml"))
            .expect("a valid suite");
        suite.source = Some(PathBuf::from(file));
        PlannedSuite::new(SuiteId(id), Arc::new(suite))
    }

    #[test]
    fn suites_are_told_apart_by_their_id_in_the_run_and_kept_in_first_seen_order() {
        let mut table = SuiteTable::new();
        let a = suite(0, "suites/a.toml", "web");
        let b = suite(1, "suites/b.toml", "web");
        // The same file asked for twice in one run: two suites, one file, one name.
        let a_again = suite(2, "suites/a.toml", "web");
        *table.entry(&b, |_| 10) += 1;
        *table.entry(&a, |_| 0) += 1;
        *table.entry(&b, |_| unreachable!("b is known")) += 1;
        *table.entry(&a_again, |s| s.name.len() * 100) += 1;
        *table.entry(&a, |_| unreachable!("a is known")) += 1;
        assert_eq!(table.len(), 3);
        assert_eq!(table.take(), vec![12, 2, 301]);
        assert!(table.is_empty());
    }
}
