//! `MaskSecrets`: the one walk that masks every text an event carries, before any report sees
//! it.
//!
//! Every struct and enum variant is taken apart by a pattern without `..`, so a field added to
//! an event type does not compile until this walk says what happens to it: masked, or passed
//! on with the reason it cannot hold a secret. Texts that may hold one are those expanded from
//! the environment or produced by the commands (command lines, output, check values, messages,
//! names of programs and services); the rest are numbers, flags, times, paths smoke-runner made
//! itself, and names written in the suite files.

use crate::mask::Masker;

use super::{
    Actual, BrokenRule, CheckFailure, CheckSubject, Event, GateReport, RunStart, SkipReason,
    StepResult, SuiteResult, Summary, Verdict,
};

/// A value whose secrets can be masked in place.
pub trait MaskSecrets {
    /// Replaces every secret `masker` knows in the value's texts.
    fn mask_secrets(&mut self, masker: &Masker);
}

impl MaskSecrets for String {
    fn mask_secrets(&mut self, masker: &Masker) {
        masker.mask_in_place(self);
    }
}

impl<T: MaskSecrets> MaskSecrets for Option<T> {
    fn mask_secrets(&mut self, masker: &Masker) {
        if let Some(value) = self {
            value.mask_secrets(masker);
        }
    }
}

impl<T: MaskSecrets> MaskSecrets for Vec<T> {
    fn mask_secrets(&mut self, masker: &Masker) {
        self.iter_mut().for_each(|value| value.mask_secrets(masker));
    }
}

impl<T: MaskSecrets + ?Sized> MaskSecrets for Box<T> {
    fn mask_secrets(&mut self, masker: &Masker) {
        (**self).mask_secrets(masker);
    }
}

impl MaskSecrets for Event {
    fn mask_secrets(&mut self, masker: &Masker) {
        // `suite` and `step` are the suite file's own, shared by every event and report; a
        // suite file holds `${NAME}` templates, not their values.
        match self {
            Event::RunStarted(start) => start.mask_secrets(masker),
            Event::SuiteStarted {
                suite: _,
                test_dir: _,
            } => {}
            Event::RequirementChecked {
                suite: _,
                requirement,
                command: _,
                met: _,
                reason,
                duration: _,
            } => {
                requirement.mask_secrets(masker);
                reason.mask_secrets(masker);
            }
            Event::ServiceStarted {
                suite: _,
                service,
                command,
                port: _,
            } => {
                service.mask_secrets(masker);
                command.mask_secrets(masker);
            }
            Event::ServiceHealthy {
                suite: _,
                service,
                after: _,
            } => service.mask_secrets(masker),
            Event::ServiceFailed {
                suite: _,
                service,
                after: _,
                message,
            } => {
                service.mask_secrets(masker);
                message.mask_secrets(masker);
            }
            Event::ServiceStopped {
                suite: _,
                service,
                ran_for: _,
                status,
            } => {
                service.mask_secrets(masker);
                status.mask_secrets(masker);
            }
            Event::SectionStarted { suite: _, section } => section.mask_secrets(masker),
            Event::Note { suite: _, text } => text.mask_secrets(masker),
            Event::StepStarted {
                suite: _,
                id: _,
                step: _,
                setup: _,
                command_line,
                timeout: _,
                attempt: _,
            } => command_line.mask_secrets(masker),
            Event::StepFinished {
                suite: _,
                id: _,
                step: _,
                setup: _,
                result,
            } => result.mask_secrets(masker),
            Event::SuiteFinished { suite: _, result } => result.mask_secrets(masker),
            Event::RunFinished(summary) => summary.mask_secrets(masker),
        }
    }
}

impl MaskSecrets for RunStart {
    fn mask_secrets(&mut self, masker: &Masker) {
        // Numbers, a time, the env file's path as given on the command line, and the shard (two
        // numbers from a flag); the label and branch are the user's words, which may happen to
        // be a secret's value.
        let RunStart {
            started_at: _,
            env_file: _,
            suites: _,
            steps: _,
            filtered_out: _,
            longest_name: _,
            jobs: _,
            shard: _,
            label,
            git_branch,
        } = self;
        for text in [label, git_branch].into_iter().flatten() {
            text.mask_secrets(masker);
        }
    }
}

impl MaskSecrets for StepResult {
    fn mask_secrets(&mut self, masker: &Masker) {
        let StepResult {
            verdict,
            command_line,
            // How the command ended: numbers and a fixed set of start failures.
            status: _,
            duration: _,
            attempts: _,
            failures,
            output_tail,
            leaked_processes: _,
            // Paths smoke-runner made under its temp root and log dir.
            test_dir: _,
            log_path: _,
            log_span: _,
        } = self;
        verdict.mask_secrets(masker);
        command_line.mask_secrets(masker);
        failures.mask_secrets(masker);
        output_tail.mask_secrets(masker);
    }
}

impl MaskSecrets for Verdict {
    fn mask_secrets(&mut self, masker: &Masker) {
        match self {
            Verdict::Skipped(reason) => reason.mask_secrets(masker),
            Verdict::Passed
            | Verdict::Flaky
            | Verdict::Degraded
            | Verdict::Failed
            | Verdict::TimedOut => {}
        }
    }
}

impl MaskSecrets for CheckFailure {
    fn mask_secrets(&mut self, masker: &Masker) {
        let CheckFailure {
            subject,
            kind: _,
            expected,
            actual,
        } = self;
        subject.mask_secrets(masker);
        expected.mask_secrets(masker);
        actual.mask_secrets(masker);
    }
}

impl MaskSecrets for CheckSubject {
    fn mask_secrets(&mut self, masker: &Masker) {
        match self {
            CheckSubject::File(path) => path.mask_secrets(masker),
            CheckSubject::Status
            | CheckSubject::Stdout
            | CheckSubject::Stderr
            | CheckSubject::Output
            | CheckSubject::Step => {}
        }
    }
}

impl MaskSecrets for Actual {
    fn mask_secrets(&mut self, masker: &Masker) {
        match self {
            Actual::Text(text) => text.mask_secrets(masker),
            Actual::Unknown | Actual::Size(_) => {}
        }
    }
}

impl MaskSecrets for SkipReason {
    fn mask_secrets(&mut self, masker: &Masker) {
        match self {
            SkipReason::Ignored(text)
            | SkipReason::MissingRequirement(text)
            | SkipReason::SetupFailed(text) => text.mask_secrets(masker),
            SkipReason::EarlierFailure { step } => step.mask_secrets(masker),
            SkipReason::RequirementNotMet { check, reason } => {
                check.mask_secrets(masker);
                reason.mask_secrets(masker);
            }
            SkipReason::Interrupted => {}
        }
    }
}

impl MaskSecrets for SuiteResult {
    fn mask_secrets(&mut self, masker: &Masker) {
        let SuiteResult {
            counts: _,
            kept_test_dir: _,
            duration: _,
            leaked_processes: _,
            skipped_because,
        } = self;
        skipped_because.mask_secrets(masker);
    }
}

impl MaskSecrets for Summary {
    fn mask_secrets(&mut self, masker: &Masker) {
        let Summary {
            counts: _,
            duration: _,
            finished_at: _,
            interrupted: _,
            kept_test_dirs: _,
            filtered_out: _,
            leaked_processes: _,
            skipped_suites,
            broken_rules,
            gates,
        } = self;
        for (suite, reason) in skipped_suites {
            suite.mask_secrets(masker);
            reason.mask_secrets(masker);
        }
        broken_rules.mask_secrets(masker);
        gates.mask_secrets(masker);
    }
}

impl MaskSecrets for BrokenRule {
    fn mask_secrets(&mut self, masker: &Masker) {
        match self {
            BrokenRule::SkippedForMissingProgram { suite, program } => {
                suite.mask_secrets(masker);
                program.mask_secrets(masker);
            }
            BrokenRule::SkippedForUnmetRequirement { suite, reason } => {
                suite.mask_secrets(masker);
                reason.mask_secrets(masker);
            }
            BrokenRule::FlakySteps(_) | BrokenRule::DegradedSteps(_) => {}
            BrokenRule::Gate { gate, steps } => {
                gate.mask_secrets(masker);
                steps.mask_secrets(masker);
            }
            BrokenRule::FailureRate { description, steps } => {
                description.mask_secrets(masker);
                steps.mask_secrets(masker);
            }
        }
    }
}

impl MaskSecrets for GateReport {
    fn mask_secrets(&mut self, _: &Masker) {
        // The gates as given on the command line, step names from the suite files, durations
        // and counts.
        let GateReport {
            tables: _,
            failure_rate: _,
        } = self;
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;
    use crate::report::{CheckKind, Counts, ExitStatus};

    const SECRET: &str = "sk-live-0123456789abcdef";

    fn masker() -> Masker {
        Masker::new([("API_KEY", SECRET)])
    }

    fn with_secret(what: &str) -> String {
        format!("{what} {SECRET}")
    }

    /// Every text of the value, as `Debug` shows it, is free of the secret.
    fn assert_masked(value: &impl std::fmt::Debug) {
        let shown = format!("{value:?}");
        assert!(!shown.contains(SECRET), "{shown}");
        assert!(shown.contains("[redacted:API_KEY]"), "{shown}");
    }

    #[test]
    fn every_text_of_a_step_result_is_masked() {
        let mut result = StepResult {
            verdict: Verdict::Skipped(SkipReason::RequirementNotMet {
                check: with_secret("check"),
                reason: with_secret("reason"),
            }),
            command_line: with_secret("curl -H"),
            status: ExitStatus::Exited(1),
            duration: Duration::from_millis(5),
            attempts: 1,
            failures: vec![CheckFailure {
                subject: CheckSubject::File(with_secret("out")),
                kind: CheckKind::Contains,
                expected: with_secret("expected"),
                actual: Actual::Text(with_secret("actual")),
            }],
            output_tail: with_secret("output"),
            leaked_processes: 0,
            test_dir: None,
            log_path: None,
            log_span: None,
        };
        result.mask_secrets(&masker());
        assert_masked(&result);
    }

    #[test]
    fn every_text_of_a_summary_is_masked() {
        let mut summary = Summary {
            counts: Counts::default(),
            duration: Duration::ZERO,
            finished_at: SystemTime::UNIX_EPOCH,
            interrupted: false,
            kept_test_dirs: Vec::new(),
            filtered_out: 0,
            leaked_processes: 0,
            skipped_suites: vec![(
                with_secret("suite"),
                SkipReason::MissingRequirement(with_secret("program")),
            )],
            broken_rules: vec![
                BrokenRule::SkippedForMissingProgram {
                    suite: with_secret("suite"),
                    program: with_secret("program"),
                },
                BrokenRule::SkippedForUnmetRequirement {
                    suite: with_secret("suite"),
                    reason: with_secret("reason"),
                },
                BrokenRule::Gate {
                    gate: with_secret("gate"),
                    steps: vec![with_secret("step")],
                },
                BrokenRule::FailureRate {
                    description: with_secret("rate"),
                    steps: with_secret("steps"),
                },
            ],
            gates: None,
        };
        summary.mask_secrets(&masker());
        assert_masked(&summary);
    }

    #[test]
    fn every_text_of_a_suite_result_is_masked() {
        let mut result = SuiteResult {
            counts: Counts::default(),
            kept_test_dir: None,
            duration: Duration::ZERO,
            leaked_processes: 0,
            skipped_because: Some(SkipReason::SetupFailed(with_secret("setup"))),
        };
        result.mask_secrets(&masker());
        assert_masked(&result);
    }
}
