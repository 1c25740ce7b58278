//! Test names: slugs of suite, section and step names, made unique within a suite.
//!
//! A test name is what users type to filter tests and what reporters print, so the rules are
//! simple and stable: `suite::section::step` (or `suite::step`), each part slugged. This module
//! only computes names; it never decides what runs.

use std::collections::{HashMap, HashSet};

/// Slugs `text`: ASCII lowercase, and every run of characters other than `[a-z0-9]` becomes one
/// `_` (nothing is trimmed, so `"Create named plan!"` becomes `create_named_plan_`).
pub fn slug(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    push_slug(&mut out, text);
    out
}

/// Appends the slug of `text` to `out`.
fn push_slug(out: &mut String, text: &str) {
    let mut in_gap = false;
    for c in text.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
            in_gap = false;
        } else if !in_gap {
            out.push('_');
            in_gap = true;
        }
    }
}

/// Hands out the test names of one suite's steps, unique within the suite.
///
/// On a collision the step part gets `_2`, `_3`, … appended, in step order, so the first step
/// keeps the plain name and renaming a later step never renames an earlier one.
#[derive(Debug, Clone)]
pub struct TestNames {
    suite_slug: String,
    taken: HashSet<String>,
    /// For each plain name that collided, the last suffix tried: the next collision resumes
    /// there, so naming n steps alike stays linear instead of trying 2, 3, … for each.
    last_suffix: HashMap<String, u64>,
}

impl TestNames {
    /// Starts naming the steps of the suite whose slug is `suite_slug`.
    pub fn new(suite_slug: &str) -> Self {
        Self {
            suite_slug: suite_slug.to_owned(),
            taken: HashSet::new(),
            last_suffix: HashMap::new(),
        }
    }

    /// The test name of the next step, `suite::section::step` or `suite::step`.
    pub fn next(&mut self, section: Option<&str>, step: &str) -> String {
        let mut plain = String::with_capacity(
            self.suite_slug.len() + section.map_or(0, |s| s.len() + 2) + step.len() + 2,
        );
        plain.push_str(&self.suite_slug);
        plain.push_str("::");
        if let Some(section) = section {
            push_slug(&mut plain, section);
            plain.push_str("::");
        }
        push_slug(&mut plain, step);
        if self.taken.insert(plain.clone()) {
            return plain;
        }
        let counter = self.last_suffix.entry(plain.clone()).or_insert(1);
        loop {
            *counter += 1;
            let name = format!("{plain}_{counter}");
            if self.taken.insert(name.clone()) {
                return name;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slug_lowercases_and_squeezes_other_characters_without_trimming() {
        assert_eq!(slug("Create named plan!"), "create_named_plan_");
        assert_eq!(slug("Plan Management"), "plan_management");
        assert_eq!(slug("  a--b  "), "_a_b_");
        assert_eq!(slug("Déjà vu 2"), "d_j_vu_2");
        assert_eq!(slug("snake_case"), "snake_case");
        assert_eq!(slug("x__y"), "x_y");
        assert_eq!(slug(""), "");
    }

    #[test]
    fn names_have_two_or_three_parts() {
        let mut names = TestNames::new("demo");
        assert_eq!(names.next(None, "Say hi"), "demo::say_hi");
        assert_eq!(
            names.next(Some("Plan Management"), "Create named plan!"),
            "demo::plan_management::create_named_plan_"
        );
    }

    #[test]
    fn collisions_get_numbered_suffixes_in_step_order() {
        let mut names = TestNames::new("demo");
        assert_eq!(names.next(None, "build"), "demo::build");
        assert_eq!(names.next(None, "Build!"), "demo::build_");
        assert_eq!(names.next(None, "Build"), "demo::build_2");
        assert_eq!(names.next(None, "build"), "demo::build_3");
        // A step literally named like a suffixed one does not steal or reuse a name.
        assert_eq!(names.next(None, "build 2"), "demo::build_2_2");
        // The same step name in another section is a different test name.
        assert_eq!(names.next(Some("Other"), "build"), "demo::other::build");
    }

    /// 20,000 steps with the same name took over 20 s to list: each restarted the count at 2.
    /// Counted, not timed: the suffixes tried grow linearly with the steps.
    #[test]
    fn naming_many_steps_alike_is_linear() {
        let mut names = TestNames::new("demo");
        for n in 1..=100_000u64 {
            let name = names.next(None, "same");
            if n == 1 {
                assert_eq!(name, "demo::same");
            } else {
                assert_eq!(name, format!("demo::same_{n}"));
            }
        }
        assert_eq!(names.last_suffix["demo::same"], 100_000);
    }
}
