//! A step's terminal: `pty`, `window` and the `interact` script, with the keys they do not go
//! with (`stdin`, `stderr` checks, `http`).

use std::ops::Range;
use std::sync::Arc;

use regex::bytes::Regex;
use toml::Spanned;

use super::super::error::{LoadError, LoadErrorKind};
use super::super::model::{Action, InteractEntry, Pty};
use super::super::raw::RawInteraction;
use super::Validator;

/// The widest and tallest window `window` may ask for.
const MAX_WINDOW_SIDE: u16 = 1000;

/// A step's terminal keys as written, and the keys that cannot go with a terminal.
pub(super) struct PtyKeys {
    pub(super) pty: Option<Spanned<bool>>,
    pub(super) window: Option<Spanned<String>>,
    pub(super) interact: Option<Spanned<Vec<Spanned<RawInteraction>>>>,
    /// Where the step's `stdin` is, if it has one.
    pub(super) stdin: Option<Range<usize>>,
    /// Whether the step checks `stderr`.
    pub(super) checks_stderr: bool,
}

impl Validator<'_> {
    /// The step's terminal: `None` without `pty = true`.
    pub(super) fn pty(
        &self,
        keys: PtyKeys,
        action: &Action,
        step: &str,
    ) -> Result<Option<Pty>, LoadError> {
        let pty_span = match &keys.pty {
            Some(pty) if *pty.get_ref() => pty.span(),
            _ => return self.no_pty(&keys, step).map(|()| None),
        };
        if matches!(action, Action::Http(_)) {
            return Err(self.invalid(
                pty_span,
                format!("step `{step}` sends an `http` request: it has no terminal"),
                "`pty` runs a command (`run` or `sh`) on a terminal; remove it from this step",
            ));
        }
        if let Some(stdin) = keys.stdin {
            return Err(self.invalid(
                stdin,
                format!("step `{step}` runs on a terminal (`pty = true`) and has `stdin`"),
                "type the input on the terminal instead: `interact = [{ send = \"…\\n\" }]`",
            ));
        }
        if keys.checks_stderr {
            return Err(self.invalid(
                pty_span,
                format!("step `{step}` runs on a terminal and checks `stderr`"),
                "a terminal has one stream: check `stdout` (or `output`) instead",
            ));
        }
        let (cols, rows) = match keys.window {
            Some(window) => self.window(&window)?,
            None => (Pty::default().cols, Pty::default().rows),
        };
        let interact = match keys.interact {
            Some(entries) => entries
                .into_inner()
                .into_iter()
                .map(|entry| self.interaction(entry))
                .collect::<Result<_, _>>()?,
            None => Vec::new(),
        };
        Ok(Some(Pty {
            rows,
            cols,
            interact,
        }))
    }

    /// `window` and `interact` need `pty = true`.
    fn no_pty(&self, keys: &PtyKeys, step: &str) -> Result<(), LoadError> {
        let help = "add `pty = true` to run the step on a terminal";
        if let Some(interact) = &keys.interact {
            return Err(self.invalid(
                interact.span(),
                format!("step `{step}` has `interact` but does not run on a terminal"),
                help,
            ));
        }
        if let Some(window) = &keys.window {
            return Err(self.invalid(
                window.span(),
                format!("step `{step}` has `window` but does not run on a terminal"),
                help,
            ));
        }
        Ok(())
    }

    /// `"COLSxROWS"`, each from 1 to [`MAX_WINDOW_SIDE`].
    fn window(&self, window: &Spanned<String>) -> Result<(u16, u16), LoadError> {
        let side = |text: &str| {
            text.trim()
                .parse::<u16>()
                .ok()
                .filter(|side| (1..=MAX_WINDOW_SIDE).contains(side))
        };
        let parsed = window
            .get_ref()
            .split_once(['x', 'X'])
            .and_then(|(cols, rows)| Some((side(cols)?, side(rows)?)));
        parsed.ok_or_else(|| {
            self.invalid(
                window.span(),
                format!("invalid window {:?}", window.get_ref()),
                "write columns x rows, each from 1 to 1000: `window = \"80x24\"`",
            )
        })
    }

    /// One entry: exactly one of `expect`, `expect_regex`, `send`.
    fn interaction(&self, entry: Spanned<RawInteraction>) -> Result<InteractEntry, LoadError> {
        let span = entry.span();
        let raw = entry.into_inner();
        let given = [
            raw.expect.is_some(),
            raw.expect_regex.is_some(),
            raw.send.is_some(),
        ];
        let count = given.iter().filter(|&&given| given).count();
        if count != 1 {
            let message = if count == 0 {
                "an `interact` entry has none of `expect`, `expect_regex`, `send`"
            } else {
                "an `interact` entry has more than one of `expect`, `expect_regex`, `send`"
            };
            return Err(self.invalid(
                span,
                message.to_owned(),
                "write one per entry: `[{ expect = \"Continue? (y/n)\" }, { send = \"y\\n\" }]`",
            ));
        }
        if let Some(text) = raw.expect {
            if text.get_ref().is_empty() {
                return Err(self.invalid(
                    text.span(),
                    "`expect` is empty: it would match at once".to_owned(),
                    "write the text the terminal shows: `expect = \"Continue? (y/n)\"`",
                ));
            }
            return self.template(&text).map(InteractEntry::Expect);
        }
        if let Some(pattern) = raw.expect_regex {
            let regex = Regex::new(pattern.get_ref())
                .map_err(|error| self.error(pattern.span(), LoadErrorKind::Regex(error)))?;
            return Ok(InteractEntry::ExpectRegex(Arc::new(regex)));
        }
        let text = raw.send.expect("one of the three keys is given");
        self.template(&text).map(InteractEntry::Send)
    }
}
