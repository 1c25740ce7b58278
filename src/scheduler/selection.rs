//! Which steps are tests: libtest's filter rules applied to step test names.
//!
//! A selection says which steps are *reported*. Steps of a suite are sequential, so the
//! scheduler also runs the unselected steps before a selected one, as setup (see
//! `suite_run.rs`): filtering never changes what a step sees.

use super::filterset::Filterset;
use crate::suite::{Step, Suite};

/// libtest-style selection: FILTER, `--exact`, `--skip`, `--ignored`, `--include-ignored`; and
/// filter expressions (`-E`).
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Keep names containing any of these (equal to one with `exact`); none keeps every name.
    pub filters: Vec<String>,
    /// Match whole names.
    pub exact: bool,
    /// Drop names containing any of these (equal with `exact`).
    pub skip: Vec<String>,
    /// Only steps marked `ignore`, and run them.
    pub ignored: bool,
    /// Run steps marked `ignore` too.
    pub include_ignored: bool,
    /// `-E`: keep steps in any of these sets (none keeps every step). Applied with the filters
    /// above: a step must pass both, as with nextest.
    pub expressions: Vec<Filterset>,
}

impl Filter {
    /// Whether the step named `name` (with its `ignore` mark) is selected.
    pub fn selects(&self, name: &str, is_ignored: bool) -> bool {
        let matches = |pattern: &str| {
            if self.exact {
                name == pattern
            } else {
                name.contains(pattern)
            }
        };
        if !self.filters.is_empty() && !self.filters.iter().any(|filter| matches(filter)) {
            return false;
        }
        if self.skip.iter().any(|pattern| matches(pattern)) {
            return false;
        }
        !self.ignored || is_ignored
    }

    /// Whether `step` of `suite` is selected: [`Filter::selects`] and the expressions.
    pub fn selects_step(&self, suite: &Suite, step: &Step) -> bool {
        self.selects(&step.test_name, step.ignore.is_some())
            && (self.expressions.is_empty()
                || self.expressions.iter().any(|set| set.matches(suite, step)))
    }

    /// Whether steps marked `ignore` are run rather than reported as ignored.
    pub fn runs_ignored(&self) -> bool {
        self.ignored || self.include_ignored
    }
}

/// The selected steps of every suite: `steps[s][i]` is true when step `i` of suite `s` is a
/// test of this run (earlier steps of its suite run as setup).
#[derive(Debug, Clone)]
pub struct Selection {
    /// Per suite, per step.
    pub steps: Vec<Vec<bool>>,
    /// Run steps marked `ignore` instead of reporting them as ignored.
    pub run_ignored: bool,
    /// The share of the suites this run is, when it is one (`--shard 2/3`: `2/3`;
    /// `--partition count:2/3`: `count:2/3`), for the reports and the history.
    pub shard: Option<String>,
}

impl Selection {
    /// Selects with `filter`.
    pub fn new(suites: &[Suite], filter: &Filter) -> Self {
        let steps = suites
            .iter()
            .map(|suite| {
                suite
                    .steps
                    .iter()
                    .map(|step| filter.selects_step(suite, step))
                    .collect()
            })
            .collect();
        Self {
            steps,
            run_ignored: filter.runs_ignored(),
            shard: None,
        }
    }

    /// Every step of every suite.
    pub fn all(suites: &[Suite]) -> Self {
        Self::new(suites, &Filter::default())
    }

    /// Number of selected steps.
    pub fn count(&self) -> usize {
        self.steps
            .iter()
            .flatten()
            .filter(|selected| **selected)
            .count()
    }

    /// Keeps partition `index` (from 1) of `count` (`--partition count:K/N`): the suites with a
    /// selected step, sorted by name (then file), are dealt out in turn, the first to
    /// partition 1, the Nth to partition N, the N+1th to partition 1 again. Every suite is in
    /// exactly one partition, and their sizes differ by one at most.
    pub fn keep_count_partition(&mut self, suites: &[Suite], index: u32, count: u32) {
        let mut order: Vec<usize> = (0..suites.len().min(self.steps.len()))
            .filter(|&s| self.steps[s].iter().any(|on| *on))
            .collect();
        order.sort_by(|&a, &b| {
            (&suites[a].name, &suites[a].source).cmp(&(&suites[b].name, &suites[b].source))
        });
        let count = usize::try_from(count.max(1)).unwrap_or(usize::MAX);
        let index = usize::try_from(index).unwrap_or(usize::MAX);
        for (position, s) in order.into_iter().enumerate() {
            if position % count + 1 != index {
                self.steps[s].iter_mut().for_each(|on| *on = false);
            }
        }
    }

    /// Number of suites with at least one selected step.
    pub fn suite_count(&self) -> usize {
        self.steps
            .iter()
            .filter(|steps| steps.iter().any(|s| *s))
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_rules_follow_libtest() {
        let name = "demo::plan_management::create_named_plan";
        let filter = |f: Filter| f.selects(name, false);
        assert!(filter(Filter::default()));
        assert!(filter(Filter {
            filters: vec!["plan_man".into()],
            ..Filter::default()
        }));
        assert!(!filter(Filter {
            filters: vec!["plan_man".into()],
            exact: true,
            ..Filter::default()
        }));
        assert!(filter(Filter {
            filters: vec![name.into()],
            exact: true,
            ..Filter::default()
        }));
        assert!(!filter(Filter {
            skip: vec!["create".into()],
            ..Filter::default()
        }));
        assert!(filter(Filter {
            skip: vec!["create".into()],
            exact: true,
            ..Filter::default()
        }));
        assert!(!filter(Filter {
            ignored: true,
            ..Filter::default()
        }));
        // Several filters: any one of them selects.
        assert!(filter(Filter {
            filters: vec!["nothing".into(), "create".into()],
            ..Filter::default()
        }));
        assert!(!filter(Filter {
            filters: vec!["nothing".into(), "else".into()],
            ..Filter::default()
        }));
        assert!(
            Filter {
                ignored: true,
                ..Filter::default()
            }
            .selects(name, true)
        );
    }
}
