//! What the gate flags say, parsed: `--gate "p95 <= 2x baseline"`, `--baseline
//! last:20,branch:main`, `--max-failure-rate 5%`. Text in, values out; nothing here reads the history or a clock.

use std::fmt;

use crate::config::{parse_branch, parse_label};
use crate::history::RunFilter;

/// The statistic a gate compares, on both sides: this run's samples of a step and its
/// baseline's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stat {
    /// The median (`p50`, `median`).
    P50,
    /// The nearest-rank 95th percentile.
    P95,
    /// The largest sample.
    Max,
}

impl Stat {
    /// The name the gate was written with, canonical.
    pub fn as_str(self) -> &'static str {
        match self {
            Stat::P50 => "p50",
            Stat::P95 => "p95",
            Stat::Max => "max",
        }
    }
}

/// `<=` or `<`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    /// Now may equal the limit.
    AtMost,
    /// Now must stay under it.
    Below,
}

/// One `--gate`: `STAT OP FACTORx baseline`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gate {
    /// What is compared.
    pub stat: Stat,
    /// How.
    pub comparison: Comparison,
    /// The baseline's statistic is multiplied by this.
    pub factor: f64,
}

impl Gate {
    /// Whether `now` keeps the gate against a `baseline` statistic.
    pub fn holds(&self, now: f64, baseline: f64) -> bool {
        let limit = self.factor * baseline;
        match self.comparison {
            Comparison::AtMost => now <= limit,
            Comparison::Below => now < limit,
        }
    }
}

impl fmt::Display for Gate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = match self.comparison {
            Comparison::AtMost => "<=",
            Comparison::Below => "<",
        };
        write!(f, "{} {op} {}x baseline", self.stat.as_str(), self.factor)
    }
}

/// What `--gate` accepts, for its error messages.
const GATE_FORM: &str = "STAT <= FACTORx baseline, STAT one of p50, p95, max (for example \
                         \"p95 <= 2x baseline\")";

/// Parses `p95 <= 2x baseline` (also `p50 < 1.5 * baseline`, `max <= 3×baseline`).
pub fn parse_gate(text: &str) -> Result<Gate, String> {
    let bad = |what: &str| format!("`{text}`: {what}; a gate reads {GATE_FORM}");
    let spaced = text.replace(['×', '*'], " x ");
    let lowered = spaced.trim().to_ascii_lowercase();
    let (stat, rest) = lowered
        .split_once(['<', ' '])
        .map(|(stat, _)| (stat.trim(), &lowered[stat.len()..]))
        .ok_or_else(|| bad("no comparison"))?;
    let stat = match stat {
        "p50" | "median" => Stat::P50,
        "p95" => Stat::P95,
        "max" => Stat::Max,
        other => return Err(bad(&format!("unknown statistic `{other}`"))),
    };
    let rest = rest.trim_start();
    let (comparison, rest) = if let Some(rest) = rest.strip_prefix("<=") {
        (Comparison::AtMost, rest)
    } else if let Some(rest) = rest.strip_prefix('<') {
        (Comparison::Below, rest)
    } else {
        return Err(bad("the comparison must be `<=` or `<`"));
    };
    let rest = rest.trim();
    let Some(factor_text) = rest.strip_suffix("baseline") else {
        return Err(bad("the right side must end with `baseline`"));
    };
    let factor_text = factor_text.trim();
    let factor_text = factor_text.strip_suffix('x').unwrap_or(factor_text).trim();
    let factor: f64 = factor_text
        .parse()
        .map_err(|_| bad(&format!("`{factor_text}` is not a number")))?;
    if !factor.is_finite() || factor <= 0.0 || factor > 1000.0 {
        return Err(bad("the factor must be above 0 and at most 1000"));
    }
    Ok(Gate {
        stat,
        comparison,
        factor,
    })
}

/// Which past runs make the baseline: `--baseline last:K,branch:NAME,label:NAME`, each step's
/// newest K passing runs, of one git branch and/or label when named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaselineSpec {
    /// How many passing runs of each step.
    pub runs: usize,
    /// Only runs recorded on this git branch.
    pub branch: Option<String>,
    /// Only runs recorded with this `--label`.
    pub label: Option<String>,
}

/// The most runs a baseline may ask for: enough for a p95, few enough that reading the history
/// stays within the gates' budget (benches/gate.rs).
pub const MAX_BASELINE_RUNS: usize = 100;

/// The baseline when `--baseline` is not given.
pub const DEFAULT_BASELINE_RUNS: usize = 20;

impl Default for BaselineSpec {
    fn default() -> Self {
        Self {
            runs: DEFAULT_BASELINE_RUNS,
            branch: None,
            label: None,
        }
    }
}

impl BaselineSpec {
    /// The runs it reads besides passing ones, as the history asks.
    pub fn filter(&self) -> RunFilter {
        RunFilter {
            branch: self.branch.clone(),
            label: self.label.clone(),
        }
    }
}

impl fmt::Display for BaselineSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "last:{}", self.runs)?;
        if let Some(branch) = &self.branch {
            write!(f, ",branch:{branch}")?;
        }
        if let Some(label) = &self.label {
            write!(f, ",label:{label}")?;
        }
        Ok(())
    }
}

/// What `--baseline` accepts, for its error messages.
const BASELINE_FORM: &str = "a baseline is `last:K` (1 <= K <= 100), `branch:NAME` and \
                             `label:NAME`, one or more joined by commas (for example last:20, \
                             last:20,branch:main or label:staging)";

/// Parses `last:20`, `branch:main`, `label:staging`, or several of them joined by commas
/// (`last:20,label:staging`), each at most once; K is 20 when not given.
pub fn parse_baseline(text: &str) -> Result<BaselineSpec, String> {
    let bad = |what: String| format!("`{text}`: {what}; {BASELINE_FORM}");
    let mut spec = BaselineSpec::default();
    let (mut runs, mut branch, mut label) = (None, None, None);
    for part in text.split(',') {
        let part = part.trim();
        let Some((kind, value)) = part.split_once(':') else {
            return Err(bad(match part {
                "" => "an empty part".to_owned(),
                _ => format!("`{part}` has no `:`"),
            }));
        };
        let value = value.trim();
        let (seen, parsed) = match kind.trim() {
            "last" => {
                let count = value.parse::<usize>().ok();
                let count = count.filter(|runs| (1..=MAX_BASELINE_RUNS).contains(runs));
                let count =
                    count.ok_or_else(|| bad(format!("`{value}` is not a K from 1 to 100")))?;
                (runs.replace(count).is_some(), "last")
            }
            "branch" => {
                let name = parse_branch(value).map_err(bad)?;
                (branch.replace(name).is_some(), "branch")
            }
            "label" => {
                let name = parse_label(value).map_err(bad)?;
                (label.replace(name).is_some(), "label")
            }
            other => return Err(bad(format!("unknown part `{other}:`"))),
        };
        if seen {
            return Err(bad(format!("`{parsed}:` is given twice")));
        }
    }
    spec.runs = runs.unwrap_or(spec.runs);
    spec.branch = branch;
    spec.label = label;
    Ok(spec)
}

/// Parses `5%` or `0.05` into a fraction in [0, 1].
pub fn parse_rate(text: &str) -> Result<f64, String> {
    let bad = || format!("`{text}` is not a rate: write a percentage such as 5% (or 0.05)");
    let trimmed = text.trim();
    let fraction = match trimmed.strip_suffix('%') {
        Some(percent) => percent.trim().parse::<f64>().map_err(|_| bad())? / 100.0,
        None => trimmed.parse::<f64>().map_err(|_| bad())?,
    };
    if !(0.0..=1.0).contains(&fraction) {
        return Err(bad());
    }
    Ok(fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gates_in_every_accepted_spelling() {
        let gate = parse_gate("p95 <= 2x baseline").unwrap();
        assert_eq!(
            gate,
            Gate {
                stat: Stat::P95,
                comparison: Comparison::AtMost,
                factor: 2.0
            }
        );
        assert_eq!(gate.to_string(), "p95 <= 2x baseline");
        let gate = parse_gate("  P50<1.5 * baseline").unwrap();
        assert_eq!((gate.stat, gate.comparison), (Stat::P50, Comparison::Below));
        assert_eq!(gate.factor, 1.5);
        assert_eq!(parse_gate("max <= 3×baseline").unwrap().stat, Stat::Max);
        assert_eq!(parse_gate("median <= 1.2 baseline").unwrap().factor, 1.2);
    }

    #[test]
    fn bad_gates_say_what_is_wrong_and_show_the_form() {
        for (text, says) in [
            ("p99 <= 2x baseline", "unknown statistic `p99`"),
            ("p95 >= 2x baseline", "`<=` or `<`"),
            ("p95 <= 2x", "end with `baseline`"),
            ("p95 <= twox baseline", "`two` is not a number"),
            ("p95 <= 0x baseline", "above 0"),
            ("p95 <= NaNx baseline", "above 0"),
            ("p95", "no comparison"),
        ] {
            let error = parse_gate(text).unwrap_err();
            assert!(error.contains(says), "{text}: {error}");
            assert!(error.contains("p95 <= 2x baseline"), "{error}");
        }
    }

    #[test]
    fn gate_comparisons() {
        let at_most = parse_gate("p95 <= 1.5x baseline").unwrap();
        assert!(at_most.holds(150.0, 100.0));
        assert!(!at_most.holds(151.0, 100.0));
        let below = parse_gate("p95 < 1.5x baseline").unwrap();
        assert!(!below.holds(150.0, 100.0));
    }

    #[test]
    fn baselines() {
        assert_eq!(parse_baseline("last:10").unwrap().runs, 10);
        assert_eq!(parse_baseline(" last: 3 ").unwrap().to_string(), "last:3");
        for bad in ["last:0", "last:x", "last:101"] {
            let error = parse_baseline(bad).unwrap_err();
            assert!(error.contains("is not a K from 1 to 100"), "{error}");
            assert!(error.contains("for example last:20"), "{error}");
        }
    }

    #[test]
    fn baselines_of_a_branch_or_a_label() {
        let spec = parse_baseline("last:20,branch:main").unwrap();
        assert_eq!(
            (spec.runs, spec.branch.as_deref(), spec.label.as_deref()),
            (20, Some("main"), None)
        );
        let spec = parse_baseline("label:staging").unwrap();
        assert_eq!((spec.runs, spec.label.as_deref()), (20, Some("staging")));
        assert_eq!(spec.to_string(), "last:20,label:staging");
        let spec = parse_baseline(" label:prod-eu , branch:release/2.1, last:5").unwrap();
        assert_eq!(spec.to_string(), "last:5,branch:release/2.1,label:prod-eu");
        assert_eq!(
            spec.filter(),
            RunFilter {
                branch: Some("release/2.1".into()),
                label: Some("prod-eu".into())
            }
        );
    }

    #[test]
    fn bad_baselines_say_what_is_wrong_and_show_examples() {
        for (text, says) in [
            ("20", "`20` has no `:`"),
            ("tag:x", "unknown part `tag:`"),
            ("last:20,", "an empty part"),
            ("last:5,last:6", "`last:` is given twice"),
            ("branch:a,branch:b", "`branch:` is given twice"),
            ("branch:a b", "not a branch name"),
            ("branch:", "not a branch name"),
            ("label:prod eu", "not a run label"),
            ("label:", "it is empty"),
        ] {
            let error = parse_baseline(text).unwrap_err();
            assert!(error.contains(says), "{text}: {error}");
            assert!(
                error.contains("last:20,branch:main or label:staging"),
                "{error}"
            );
        }
    }

    #[test]
    fn rates() {
        assert_eq!(parse_rate("5%").unwrap(), 0.05);
        assert_eq!(parse_rate("0.1").unwrap(), 0.1);
        assert!(parse_rate("120%").is_err());
        assert!(parse_rate("-1").is_err());
        assert!(parse_rate("five").is_err());
    }
}
