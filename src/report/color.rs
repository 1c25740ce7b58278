//! Whether to colour the report: the user's `--color` choice, resolved against the output stream
//! and the conventional environment variables.
//!
//! This module only decides; it never writes escape codes itself.

use std::ffi::OsString;
use std::io::IsTerminal;

/// When to colour output, as chosen by the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColorChoice {
    /// Colour when the stream is a terminal, unless `NO_COLOR` says otherwise (the default).
    #[default]
    Auto,
    /// Always colour, even into a pipe or a file.
    Always,
    /// Never colour.
    Never,
}

impl ColorChoice {
    /// Resolves the choice for `stream`, reading `NO_COLOR`, `CLICOLOR_FORCE` and `TERM` from the
    /// process environment.
    ///
    /// See [`ColorChoice::resolve_with`] for the rules.
    pub fn resolve(self, stream: &impl IsTerminal) -> bool {
        self.resolve_with(stream.is_terminal(), |name| std::env::var_os(name))
    }

    /// Resolves the choice given whether the stream is a terminal and a way to read environment
    /// variables.
    ///
    /// `Always` and `Never` mean what they say. `Auto` colours when, in this order:
    /// - `NO_COLOR` is unset or empty (<https://no-color.org>); a non-empty value turns colour off;
    /// - else `CLICOLOR_FORCE` is set to something other than empty or `0`, which turns colour on
    ///   even into a pipe;
    /// - else the stream is a terminal whose `TERM` is not `dumb`.
    pub fn resolve_with(self, is_terminal: bool, env: impl Fn(&str) -> Option<OsString>) -> bool {
        match self {
            Self::Always => true,
            Self::Never => false,
            Self::Auto => {
                let set_and_not = |name: &str, off: &str| {
                    env(name).is_some_and(|value| !value.is_empty() && value != off)
                };
                if set_and_not("NO_COLOR", "") {
                    false
                } else if set_and_not("CLICOLOR_FORCE", "0") {
                    true
                } else {
                    is_terminal && env("TERM").is_none_or(|term| term != "dumb")
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An environment holding exactly `vars`.
    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
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
    fn auto_follows_the_terminal_when_nothing_is_set() {
        assert!(ColorChoice::Auto.resolve_with(true, env(&[])));
        assert!(!ColorChoice::Auto.resolve_with(false, env(&[])));
    }

    #[test]
    fn no_color_with_a_value_turns_colour_off() {
        assert!(!ColorChoice::Auto.resolve_with(true, env(&[("NO_COLOR", "1")])));
        assert!(!ColorChoice::Auto.resolve_with(true, env(&[("NO_COLOR", "0")])));
    }

    #[test]
    fn empty_no_color_is_ignored() {
        assert!(ColorChoice::Auto.resolve_with(true, env(&[("NO_COLOR", "")])));
    }

    #[test]
    fn clicolor_force_colours_a_pipe_unless_no_color_is_set() {
        assert!(ColorChoice::Auto.resolve_with(false, env(&[("CLICOLOR_FORCE", "1")])));
        assert!(!ColorChoice::Auto.resolve_with(false, env(&[("CLICOLOR_FORCE", "0")])));
        assert!(!ColorChoice::Auto.resolve_with(false, env(&[("CLICOLOR_FORCE", "")])));
        assert!(
            !ColorChoice::Auto
                .resolve_with(false, env(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]))
        );
    }

    #[test]
    fn dumb_terminal_gets_no_colour() {
        assert!(!ColorChoice::Auto.resolve_with(true, env(&[("TERM", "dumb")])));
        assert!(ColorChoice::Auto.resolve_with(true, env(&[("TERM", "xterm-256color")])));
    }

    #[test]
    fn always_and_never_ignore_the_environment() {
        let hostile = env(&[("NO_COLOR", "1"), ("TERM", "dumb")]);
        assert!(ColorChoice::Always.resolve_with(false, &hostile));
        assert!(!ColorChoice::Never.resolve_with(true, env(&[("CLICOLOR_FORCE", "1")])));
    }
}
