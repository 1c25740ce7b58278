//! Whether to colour the report: the one colour model, from the `--color` flag to the bool
//! each report is given.
//!
//! `auto` follows <https://no-color.org> first (a non-empty `NO_COLOR` turns colour off), then
//! the detection owo-colors uses (the `supports-color` crate: `FORCE_COLOR`, `CLICOLOR_FORCE`,
//! whether standard output is a terminal, `TERM`, CI services). `supports-color` alone would
//! colour with `NO_COLOR=0` or with `CLICOLOR_FORCE` beside `NO_COLOR`, which no-color.org
//! rules out. This module only decides; it never writes escape codes itself.

use std::ffi::OsString;

/// When to colour output (`--color`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    /// When writing to a terminal and `NO_COLOR` is not set.
    #[default]
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

impl ColorChoice {
    /// Whether to colour what is written to standard output, reading the process environment.
    ///
    /// See [`ColorChoice::resolve_with`] for the rules.
    pub fn resolve_for_stdout(self) -> bool {
        self.resolve_with(
            |name| std::env::var_os(name),
            || supports_color::on(supports_color::Stream::Stdout).is_some(),
        )
    }

    /// Resolves the choice given a way to read environment variables and the stream's
    /// detection (`detect`, asked only when it decides).
    ///
    /// `Always` and `Never` mean what they say. `Auto` colours unless `NO_COLOR` is set to
    /// something other than empty, and then only when `detect` says the stream takes colour.
    pub fn resolve_with(
        self,
        env: impl Fn(&str) -> Option<OsString>,
        detect: impl FnOnce() -> bool,
    ) -> bool {
        match self {
            Self::Always => true,
            Self::Never => false,
            Self::Auto => env("NO_COLOR").is_none_or(|value| value.is_empty()) && detect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An environment holding exactly `vars`.
    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> + use<> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| {
            vars.iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn auto_follows_the_detection_when_no_color_is_unset() {
        assert!(ColorChoice::Auto.resolve_with(env(&[]), || true));
        assert!(!ColorChoice::Auto.resolve_with(env(&[]), || false));
    }

    #[test]
    fn no_color_with_any_value_turns_colour_off_whatever_the_detection_says() {
        for value in ["1", "0", "false"] {
            let no_color = env(&[("NO_COLOR", value)]);
            assert!(
                !ColorChoice::Auto.resolve_with(no_color, || true),
                "{value}"
            );
        }
    }

    #[test]
    fn empty_no_color_is_ignored() {
        assert!(ColorChoice::Auto.resolve_with(env(&[("NO_COLOR", "")]), || true));
    }

    #[test]
    fn always_and_never_ignore_the_environment_and_the_detection() {
        let hostile = env(&[("NO_COLOR", "1"), ("TERM", "dumb")]);
        assert!(ColorChoice::Always.resolve_with(&hostile, || false));
        assert!(!ColorChoice::Never.resolve_with(env(&[]), || true));
    }
}
