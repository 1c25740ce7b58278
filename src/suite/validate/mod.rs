//! Validation: the raw serde mirror of one file turned into the [`Suite`] model.
//!
//! Everything a later stage would otherwise trip over is checked here, once, with the position
//! in the file: durations, statuses, `${…}` references, regexes, `run` quoting, fixture paths,
//! names. Output checks on one stream are kept in a fixed order: every `contains`, then every
//! `not_contains`, then `equals`, then every `matches`, so reports read the same whatever the
//! order of keys in the file. This module never touches the file system.

use std::ops::Range;
use std::path::{Component, Path};
use std::sync::Arc;
use std::time::Duration;

use regex::bytes::Regex;
use toml::Spanned;

mod pty;
mod services;

use crate::config::{duration_from_secs, parse_duration};

use super::command_line::split_arguments;
use super::error::{Excerpt, LoadError, LoadErrorKind, MAX_ERRORS_PER_FILE};
use super::expand::{Template, TemplateError};
use super::model::{
    Action, Budgets, ExpectedStatus, FileCheck, Location, OnFailure, OutputCheck, Retry, Service,
    Shell, Step, Suite,
};
use super::names::{TestNames, slug};
use super::pacing::{Backoff, MAX_ATTEMPTS, Pacing};
use super::position::LineIndex;
use super::raw::{
    RawDuration, RawEnv, RawFileCheck, RawOnFailure, RawRetry, RawRun, RawService, RawStatus,
    RawStep, RawStreamChecks, RawSuite, RawTexts,
};

/// `retry.interval` when not given.
const DEFAULT_RETRY_INTERVAL: Duration = Duration::from_secs(1);
/// `healthcheck.interval` when not given.
const DEFAULT_HEALTH_INTERVAL: Duration = Duration::from_secs(1);
/// `healthcheck.timeout` when not given.
const DEFAULT_HEALTH_TIMEOUT: Duration = Duration::from_secs(5);
/// `healthcheck.retries` when not given.
const DEFAULT_HEALTH_RETRIES: u32 = 30;

/// A validated suite, with what the loader needs to report a duplicate name.
pub(crate) struct Validated {
    pub(crate) suite: Suite,
    /// Where the `name` key's value is, when the name was not taken from the file stem.
    pub(crate) name_excerpt: Option<Excerpt>,
    /// Where each of `suite.fixtures` is written, in the same order.
    pub(crate) fixture_excerpts: Vec<Excerpt>,
}

/// Validates the suite read from `source` (the text of the file at `path`).
pub(crate) fn validate(
    raw: RawSuite,
    source: &str,
    path: &Path,
) -> Result<Validated, Vec<LoadError>> {
    Validator {
        path,
        source,
        lines: LineIndex::new(source),
    }
    .suite(raw)
}

struct Validator<'a> {
    path: &'a Path,
    source: &'a str,
    lines: LineIndex<'a>,
}

impl Validator<'_> {
    /// Validates the whole suite, collecting one error per key of the suite and per step (the
    /// first problem found in each), in file order.
    fn suite(&self, raw: RawSuite) -> Result<Validated, Vec<LoadError>> {
        let mut errors = Collected::default();
        let (name, name_excerpt) = self.suite_name(raw.name, &mut errors);
        let command = raw
            .command
            .and_then(|command| errors.keep(self.template(&command)));
        let timeout = raw
            .timeout
            .and_then(|timeout| errors.keep(self.duration(timeout)));
        let budgets = errors
            .keep(self.budgets(raw.max_duration, raw.warn_duration, Budgets::default()))
            .unwrap_or_default();
        let fixture_excerpts = raw
            .fixtures
            .iter()
            .map(|fixture| self.lines.excerpt(fixture.span()))
            .collect();
        let fixtures = raw
            .fixtures
            .into_iter()
            .filter_map(|fixture| errors.keep(self.fixture(fixture)))
            .collect();
        let env = errors.keep(self.env(raw.env)).unwrap_or_default();
        let requires = raw
            .requires
            .into_iter()
            .filter_map(|requirement| errors.keep(self.requirement(requirement)))
            .collect();
        let shell = raw.shell.and_then(|shell| errors.keep(self.shell(shell)));
        let workdir = raw.workdir.and_then(|dir| errors.keep(self.template(&dir)));
        let exclusive = raw
            .exclusive
            .and_then(|resource| errors.keep(self.name(resource, "exclusive resource")));

        let suite_tags = errors.keep(self.tags(raw.tags)).unwrap_or_default();
        let suite_slug = slug(&name);
        let (steps, closing_notes) = self.steps(
            raw.step.0,
            SuiteDefaults {
                name: &name,
                slug: &suite_slug,
                tags: &suite_tags,
                budgets,
            },
            &mut errors,
        );
        let services = self.services(raw.service, &mut errors);
        if !errors.kept.is_empty() {
            return Err(errors.into_sorted(self.path));
        }
        let suite = Suite {
            tags: suite_tags,
            services,
            slug: suite_slug,
            description: raw.description,
            source: Some(self.path.to_owned()),
            command,
            timeout,
            budgets,
            fixtures,
            env,
            requires,
            redact: raw.redact,
            on_failure: match raw.on_failure {
                RawOnFailure::Stop => OnFailure::Stop,
                RawOnFailure::Continue => OnFailure::Continue,
            },
            shell,
            exclusive,
            workdir,
            steps,
            closing_notes,
            fixtures_root: None,
            name,
        };
        Ok(Validated {
            suite,
            name_excerpt,
            fixture_excerpts,
        })
    }

    /// The suite's name (its `name`, else the file stem) and where the `name` is written.
    fn suite_name(
        &self,
        raw: Option<Spanned<String>>,
        errors: &mut Collected,
    ) -> (String, Option<Excerpt>) {
        match raw {
            Some(name) => {
                let span = name.span();
                let name = errors.keep(self.name(name, "suite")).unwrap_or_default();
                (name, Some(self.lines.excerpt(span)))
            }
            None => (
                self.path
                    .file_stem()
                    .map(|stem| stem.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                None,
            ),
        }
    }

    /// The steps, each with the notes of the note-only entries just before it and its suite's
    /// tags; the notes after the last step. A file without steps (and no step errors) is an
    /// error.
    fn steps(
        &self,
        raw: Vec<Spanned<RawStep>>,
        suite: SuiteDefaults<'_>,
        errors: &mut Collected,
    ) -> (Vec<Step>, Vec<Template>) {
        let mut names = TestNames::new(suite.slug);
        let mut steps = Vec::with_capacity(raw.len());
        let mut pending_notes = Vec::new();
        let mut step_errors = false;
        for raw_step in raw {
            match errors.keep(self.step(raw_step, &mut names, suite.budgets)) {
                Some(Entry::Note(note)) => pending_notes.push(note),
                Some(Entry::Step(mut step)) => {
                    pending_notes.append(&mut step.notes);
                    step.notes = std::mem::take(&mut pending_notes);
                    step.tags = inherit_tags(suite.tags, std::mem::take(&mut step.tags));
                    steps.push(*step);
                }
                None => step_errors = true,
            }
        }
        if steps.is_empty() && !step_errors {
            errors.push(LoadError::new(
                self.path,
                LoadErrorKind::NoSteps {
                    suite: suite.name.to_owned(),
                },
            ));
        }
        (steps, pending_notes)
    }

    /// The `[[service]]` tables; two with the same port variable are an error.
    fn services(&self, raw: Vec<Spanned<RawService>>, errors: &mut Collected) -> Vec<Service> {
        let mut services: Vec<Service> = Vec::with_capacity(raw.len());
        for service in raw {
            let span = service.get_ref().name.span();
            let Some(service) = errors.keep(self.service(service)) else {
                continue;
            };
            if services
                .iter()
                .any(|other| other.port_variable == service.port_variable)
            {
                errors.push(self.invalid(
                    span,
                    format!(
                        "two services are named `{}` (or have the same `${{{}}}`)",
                        service.name, service.port_variable
                    ),
                    "give every `[[service]]` its own name",
                ));
                continue;
            }
            services.push(service);
        }
        services
    }

    /// One `[[step]]`; `suite_budgets` are the suite's, which its own must agree with.
    fn step(
        &self,
        raw: Spanned<RawStep>,
        names: &mut TestNames,
        suite_budgets: Budgets,
    ) -> Result<Entry, LoadError> {
        let header = raw.span();
        let mut raw = raw.into_inner();
        let note = raw
            .note
            .as_ref()
            .map(|note| self.template(note))
            .transpose()?;
        if raw.run.is_none() && raw.sh.is_none() && raw.http.is_none() {
            if let Some(note) = note
                && !has_command_keys(&raw)
            {
                return Ok(Entry::Note(note));
            }
            let step = raw.name.map_or_else(String::new, Spanned::into_inner);
            return Err(self.error(header, LoadErrorKind::NoAction { step }));
        }
        let name = match raw.name.take() {
            Some(name) => self.name(name, "step")?,
            None => match &raw.http {
                Some(http) => http.get_ref().url.get_ref().clone(),
                None => default_name(raw.run.as_ref(), raw.sh.as_ref()),
            },
        };
        let section = raw
            .section
            .take()
            .map(|section| self.name(section, "section"))
            .transpose()?;
        let action = self.action(&mut raw, &name)?;
        let pty_keys = pty::PtyKeys {
            pty: raw.pty.take(),
            window: raw.window.take(),
            interact: raw.interact.take(),
            stdin: raw.stdin.as_ref().map(Spanned::span),
            checks_stderr: raw.stderr.is_some(),
        };
        let pty = self.pty(pty_keys, &action, &name)?;
        let (line, column) = self.lines.line_column(header.start);
        let location = Location {
            file: self.path.to_owned(),
            line,
            column,
        };
        let test_name = names.next(section.as_deref(), &name);
        let step = Step {
            name,
            section,
            test_name,
            action,
            pty,
            location: Some(location),
            notes: note.into_iter().collect(),
            ..self.step_keys(raw, suite_budgets)?
        };
        Ok(Entry::Step(Box::new(step)))
    }

    /// What a step does: its `run`, `sh` or `http` (taken from `raw`), with the keys that
    /// cannot go with it.
    fn action(&self, raw: &mut RawStep, name: &str) -> Result<Action, LoadError> {
        let name = name.to_owned();
        Ok(match (raw.run.take(), raw.sh.take(), raw.http.take()) {
            (Some(run), None, None) => {
                if let Some(shell) = &raw.shell {
                    return Err(self.error(shell.span(), LoadErrorKind::ShellOnRun { step: name }));
                }
                self.run(run)?
            }
            (None, Some(sh), None) => Action::Shell(self.shell_line(&sh)?),
            (None, None, Some(http)) => {
                if let Some(shell) = &raw.shell {
                    return Err(self.invalid(
                        shell.span(),
                        format!("step `{name}` has `shell` but sends an `http` request"),
                        "`shell` says how an `sh` line runs; remove it from this step",
                    ));
                }
                if let Some(status) = &raw.status {
                    return Err(self.invalid(
                        status.span(),
                        format!("step `{name}` is an `http` step: it has no exit status"),
                        "check the HTTP status inside the request: `http = { url = \"…\", status = 404 }`",
                    ));
                }
                Action::Http(self.http(http)?)
            }
            (Some(_), Some(sh), _) => {
                return Err(self.error(sh.span(), LoadErrorKind::RunAndShell { step: name }));
            }
            (Some(_), None, Some(http)) | (None, Some(_), Some(http)) => {
                return Err(self.invalid(
                    http.span(),
                    format!("step `{name}` has `http` and a command"),
                    "keep one: a step runs a command (`run` or `sh`) or sends a request (`http`)",
                ));
            }
            (None, None, None) => {
                unreachable!("a step without `run`, `sh` or `http` returned above")
            }
        })
    }

    /// The rest of a step's keys, as the model has them; its name, section, test name,
    /// action, terminal, location and notes are filled in by [`Validator::step`].
    fn step_keys(&self, raw: RawStep, suite_budgets: Budgets) -> Result<Step, LoadError> {
        Ok(Step {
            name: String::new(),
            section: None,
            test_name: String::new(),
            action: Action::Shell(Template::literal("")),
            pty: None,
            location: None,
            notes: Vec::new(),
            timeout: raw
                .timeout
                .map(|timeout| self.duration(timeout))
                .transpose()?,
            budgets: self.budgets(raw.max_duration, raw.warn_duration, suite_budgets)?,
            env: self.env(raw.env)?,
            env_remove: raw
                .env_remove
                .into_iter()
                .map(|name| self.env_name(name))
                .collect::<Result<_, _>>()?,
            stdin: raw.stdin.map(|stdin| self.template(&stdin)).transpose()?,
            status: raw
                .status
                .map(|status| self.status(status))
                .transpose()?
                .unwrap_or_default(),
            stdout: self.stream(raw.stdout)?,
            stderr: self.stream(raw.stderr)?,
            output: self.stream(raw.output)?,
            files: raw
                .files
                .into_iter()
                .map(|file| self.file(file))
                .collect::<Result<_, _>>()?,
            retry: raw.retry.map(|retry| self.retry(retry)).transpose()?,
            tags: self.tags(raw.tags)?,
            always: raw.always,
            ignore: raw.ignore,
            shell: raw.shell.map(|shell| self.shell(shell)).transpose()?,
            capture: raw
                .capture
                .map(|capture| self.capture(capture))
                .transpose()?,
            workdir: raw.workdir.map(|dir| self.template(&dir)).transpose()?,
        })
    }

    fn shell(&self, shell: Spanned<String>) -> Result<Shell, LoadError> {
        Shell::from_line(shell.get_ref()).ok_or_else(|| {
            self.error(
                shell.span(),
                LoadErrorKind::ShellLine {
                    line: shell.get_ref().clone(),
                },
            )
        })
    }

    fn capture(&self, capture: Spanned<String>) -> Result<String, LoadError> {
        if !is_variable_name(capture.get_ref()) {
            return Err(self.error(
                capture.span(),
                LoadErrorKind::CaptureName {
                    name: capture.into_inner(),
                },
            ));
        }
        Ok(capture.into_inner())
    }

    fn name(&self, name: Spanned<String>, what: &'static str) -> Result<String, LoadError> {
        if name.get_ref().trim().is_empty() {
            return Err(self.error(name.span(), LoadErrorKind::EmptyName { what }));
        }
        Ok(name.into_inner())
    }

    fn run(&self, run: Spanned<RawRun>) -> Result<Action, LoadError> {
        let span = run.span();
        let args = match run.into_inner() {
            RawRun::Args(args) => args
                .iter()
                .map(|arg| self.template(arg))
                .collect::<Result<_, _>>()?,
            RawRun::Line(line) => {
                let words = split_arguments(&line).map_err(|unclosed| {
                    let at = self.offset_in_string(&span, unclosed.offset);
                    self.error(at..at + 1, LoadErrorKind::UnclosedQuote)
                })?;
                let mut args = Vec::with_capacity(words.len());
                for word in words {
                    match Template::parse(&word) {
                        Ok(arg) => args.push(arg),
                        Err(error) => {
                            return Err(self.run_template_error(&line, &span, &word, error));
                        }
                    }
                }
                args
            }
        };
        Ok(Action::Run(args))
    }

    /// The error for a word of a `run` line that is not a valid template. Offsets within a word
    /// do not map back to the line (quotes are gone), so the line itself is parsed for a
    /// position; if it parses, the shell split cut a reference like `${A:-two words}` in two.
    fn run_template_error(
        &self,
        line: &str,
        span: &Range<usize>,
        word: &str,
        error: TemplateError,
    ) -> LoadError {
        if let Err(error) = Template::parse(line) {
            return self.template_error(line, span, error);
        }
        let broken = word.get(error.offset..).unwrap_or(word);
        match line.find(broken) {
            Some(at) => {
                let space = self.offset_in_string(span, at + broken.len());
                self.error(space..space + 1, LoadErrorKind::SplitReference)
            }
            None => self.error(span.clone(), LoadErrorKind::Template(error)),
        }
    }

    /// A bash line: bash's own `${…}` expansions stay as written (see `expand.rs`).
    pub(super) fn shell_line(&self, text: &Spanned<String>) -> Result<Template, LoadError> {
        Template::parse_shell(text.get_ref())
            .map_err(|error| self.template_error(text.get_ref(), &text.span(), error))
    }

    fn template(&self, text: &Spanned<String>) -> Result<Template, LoadError> {
        self.template_in(text.get_ref(), text.span())
    }

    fn template_in(&self, text: &str, span: Range<usize>) -> Result<Template, LoadError> {
        Template::parse(text).map_err(|error| self.template_error(text, &span, error))
    }

    fn template_error(&self, text: &str, span: &Range<usize>, error: TemplateError) -> LoadError {
        // Underline the reference, up to its `}` or the end of the string.
        let length = text
            .get(error.offset..)
            .map_or(1, |rest| rest.find('}').map_or(rest.len(), |end| end + 1));
        let start = self.offset_in_string(span, error.offset);
        self.error(start..start + length, LoadErrorKind::Template(error))
    }

    /// The file offset of byte `offset` of the string value at `span`. Only the opening quotes
    /// are accounted for: escapes (`\n`, `\u00e9`) and line-ending backslashes before the
    /// offset make the result drift, so it is approximate, which is fine for a caret.
    fn offset_in_string(&self, span: &Range<usize>, offset: usize) -> usize {
        let value = self.source.get(span.clone()).unwrap_or_default();
        let opening = if value.starts_with("\"\"\"") || value.starts_with("'''") {
            // A newline right after the opening quotes is not part of the string.
            let after = &value[3..];
            3 + if after.starts_with("\r\n") {
                2
            } else {
                usize::from(after.starts_with('\n'))
            }
        } else {
            usize::from(value.starts_with(['"', '\'']))
        };
        (span.start + opening + offset).min(span.end)
    }

    fn stream(&self, raw: Option<RawStreamChecks>) -> Result<Vec<OutputCheck>, LoadError> {
        let Some(raw) = raw else {
            return Ok(Vec::new());
        };
        let mut checks = Vec::new();
        for text in each_text(raw.contains) {
            checks.push(OutputCheck::Contains(self.template(&text)?));
        }
        for text in each_text(raw.not_contains) {
            checks.push(OutputCheck::NotContains(self.template(&text)?));
        }
        if let Some(text) = raw.equals {
            checks.push(OutputCheck::Equals(self.template(&text)?));
        }
        if let Some(file) = raw.equals_file {
            checks.push(self.golden_file(file)?);
        }
        for pattern in each_text(raw.matches) {
            let regex = Regex::new(pattern.get_ref())
                .map_err(|error| self.error(pattern.span(), LoadErrorKind::Regex(error)))?;
            checks.push(OutputCheck::Matches(Arc::new(regex)));
        }
        if let Some(json) = raw.json {
            let span = json.span();
            for (pointer, value) in json.into_inner() {
                if !(pointer.is_empty() || pointer.starts_with('/')) {
                    return Err(self.invalid(
                        span,
                        format!("`{pointer}` is not a JSON pointer"),
                        "JSON pointers start with `/`: `\"/status\" = \"ok\"`, `\"/items/0/id\" = 1`",
                    ));
                }
                if let Some(what) = without_json_form(&value) {
                    return Err(self.invalid(
                        span,
                        format!("the value for `{pointer}` holds {what}, which JSON does not have"),
                        "write it as JSON has it: a date-time as a string (`\"/at\" = \"2026-01-01T00:00:00Z\"`), a number as a finite number",
                    ));
                }
                let expected = serde_json::to_value(&value).map_err(|error| {
                    self.invalid(
                        span.clone(),
                        format!("the value for `{pointer}` has no JSON form: {error}"),
                        "compare with a string, number, boolean, array or table",
                    )
                })?;
                checks.push(OutputCheck::Json { pointer, expected });
            }
        }
        Ok(checks)
    }

    fn invalid(&self, span: Range<usize>, message: String, help: &'static str) -> LoadError {
        self.error(span, LoadErrorKind::Invalid { message, help })
    }

    fn file(&self, raw: RawFileCheck) -> Result<FileCheck, LoadError> {
        let templates = |texts| {
            each_text(texts)
                .iter()
                .map(|text| self.template(text))
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(FileCheck {
            path: self.template(&raw.path)?,
            exists: raw.exists,
            contains: templates(raw.contains)?,
            not_contains: templates(raw.not_contains)?,
        })
    }

    fn status(&self, status: Spanned<RawStatus>) -> Result<ExpectedStatus, LoadError> {
        let span = status.span();
        let found = match status.into_inner() {
            RawStatus::Code(code) => match u8::try_from(code) {
                Ok(code) => return Ok(ExpectedStatus::Code(i32::from(code))),
                Err(_) => code.to_string(),
            },
            RawStatus::Keyword(keyword) => match keyword.as_str() {
                "success" => return Ok(ExpectedStatus::Code(0)),
                "failure" => return Ok(ExpectedStatus::Failure),
                "timeout" => return Ok(ExpectedStatus::Timeout),
                "any" => return Ok(ExpectedStatus::Any),
                _ => format!("{keyword:?}"),
            },
        };
        Err(self.error(span, LoadErrorKind::Status { found }))
    }

    fn duration(&self, duration: Spanned<RawDuration>) -> Result<Duration, LoadError> {
        let span = duration.span();
        match duration.into_inner() {
            RawDuration::Text(text) => parse_duration(&text),
            RawDuration::Seconds(seconds) => duration_from_secs(seconds),
        }
        .map_err(|error| self.error(span, LoadErrorKind::Duration(error)))
    }

    /// `max_duration` and `warn_duration` of a suite, or of a step beside its suite's
    /// (`inherited`): each more than zero, and the warning below the limit that holds with it
    /// (a step over its limit fails, so a warning at or above it could never show).
    fn budgets(
        &self,
        max: Option<Spanned<RawDuration>>,
        warn: Option<Spanned<RawDuration>>,
        inherited: Budgets,
    ) -> Result<Budgets, LoadError> {
        // The span of the table's own key that makes a conflict, the warning's first.
        let blamed = (warn.as_ref().or(max.as_ref())).map(Spanned::span);
        let own = Budgets {
            max: max
                .map(|max| self.budget(max, "max_duration"))
                .transpose()?,
            warn: warn
                .map(|warn| self.budget(warn, "warn_duration"))
                .transpose()?,
        };
        let (Some(span), Some(limit), Some(warning)) = (
            blamed,
            own.max.or(inherited.max),
            own.warn.or(inherited.warn),
        ) else {
            return Ok(own);
        };
        if warning < limit {
            return Ok(own);
        }
        let whose = |own: Option<Duration>| if own.is_some() { "" } else { ", the suite's" };
        Err(self.invalid(
            span,
            format!(
                "`warn_duration` ({warning:?}{}) is not below `max_duration` ({limit:?}{})",
                whose(own.warn),
                whose(own.max)
            ),
            "a step over `max_duration` fails, so a warning at or above it never shows: make `warn_duration` the smaller",
        ))
    }

    /// One budget: a duration of more than zero.
    fn budget(&self, raw: Spanned<RawDuration>, key: &str) -> Result<Duration, LoadError> {
        let span = raw.span();
        let budget = self.duration(raw)?;
        if budget.is_zero() {
            return Err(self.invalid(
                span,
                format!("`{key}` is 0: every step would be over it"),
                "give a duration like \"300ms\" or \"2s\", or leave the key out for no budget",
            ));
        }
        Ok(budget)
    }

    fn retry(&self, raw: RawRetry) -> Result<Retry, LoadError> {
        let attempts = match u32::try_from(*raw.attempts.get_ref()) {
            Ok(attempts) if (1..=MAX_ATTEMPTS).contains(&attempts) => attempts,
            _ => {
                return Err(self.error(
                    raw.attempts.span(),
                    LoadErrorKind::RetryAttempts {
                        found: *raw.attempts.get_ref(),
                    },
                ));
            }
        };
        let interval = match raw.interval {
            Some(interval) => self.duration(interval)?,
            None => DEFAULT_RETRY_INTERVAL,
        };
        let pacing = self.pacing(interval, raw.backoff, raw.max_interval, raw.jitter)?;
        Ok(Retry { attempts, pacing })
    }

    /// The pauses of a `retry` or a health check, from its first pause and its `backoff`,
    /// `max_interval` and `jitter` keys.
    pub(super) fn pacing(
        &self,
        interval: Duration,
        backoff: Option<Spanned<String>>,
        max_interval: Option<Spanned<RawDuration>>,
        jitter: Option<bool>,
    ) -> Result<Pacing, LoadError> {
        let backoff = match backoff {
            None => Backoff::Fixed,
            Some(word) => Backoff::from_keyword(word.get_ref()).ok_or_else(|| {
                self.invalid(
                    word.span(),
                    format!("unknown back-off `{}`", word.get_ref()),
                    "write \"fixed\", \"linear\" or \"exponential\"",
                )
            })?,
        };
        let max_interval = match max_interval {
            None => None,
            Some(raw) => {
                let span = raw.span();
                let max = self.duration(raw)?;
                if max < interval {
                    return Err(self.invalid(
                        span,
                        format!(
                            "max_interval ({}) is shorter than the first pause, interval ({})",
                            humantime::format_duration(max),
                            humantime::format_duration(interval)
                        ),
                        "`max_interval` caps the pauses that grow from `interval`: make it longer, or `interval` shorter",
                    ));
                }
                Some(max)
            }
        };
        Ok(Pacing {
            interval,
            backoff,
            max_interval,
            jitter: jitter.unwrap_or(false),
        })
    }

    fn fixture(&self, fixture: Spanned<String>) -> Result<String, LoadError> {
        let mut components = Path::new(fixture.get_ref()).components();
        let plain = components
            .clone()
            .all(|part| matches!(part, Component::Normal(_) | Component::CurDir))
            && components.any(|part| matches!(part, Component::Normal(_)));
        if !plain {
            return Err(self.error(
                fixture.span(),
                LoadErrorKind::FixturePath {
                    fixture: fixture.into_inner(),
                },
            ));
        }
        Ok(fixture.into_inner())
    }

    fn env(&self, raw: RawEnv) -> Result<Vec<(String, Template)>, LoadError> {
        raw.0
            .into_iter()
            .map(|(name, value)| Ok((self.env_name(name)?, self.template(&value)?)))
            .collect()
    }

    /// `equals_file`: a relative path inside the suite's folder.
    fn golden_file(&self, raw: Spanned<String>) -> Result<OutputCheck, LoadError> {
        let path = Path::new(raw.get_ref());
        let inside = !raw.get_ref().is_empty()
            && path
                .components()
                .all(|part| matches!(part, Component::Normal(_) | Component::CurDir));
        if !inside {
            return Err(self.invalid(
                raw.span(),
                format!("`{}` is not a path inside the suite's folder", raw.get_ref()),
                "write a path relative to the suite file's folder, without `..`: `equals_file = \"expected/help.txt\"`",
            ));
        }
        let root = self.path.parent().unwrap_or(Path::new("")).to_owned();
        Ok(OutputCheck::EqualsFile {
            path: root.join(path),
            shown: raw.into_inner(),
            root,
        })
    }

    /// `tags`: words that filter expressions can name without escapes.
    fn tags(&self, raw: Vec<Spanned<String>>) -> Result<Vec<String>, LoadError> {
        let mut tags: Vec<String> = Vec::with_capacity(raw.len());
        for tag in raw {
            let text = tag.get_ref();
            let valid = !text.is_empty()
                && text
                    .chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'));
            if !valid {
                return Err(self.invalid(
                    tag.span(),
                    format!("invalid tag {text:?}"),
                    "a tag is a word of letters, digits, `_`, `-`, `.` and `:`, such as \"slow\" or \"needs-network\"",
                ));
            }
            if !tags.contains(text) {
                tags.push(tag.into_inner());
            }
        }
        Ok(tags)
    }

    fn env_name(&self, name: Spanned<String>) -> Result<String, LoadError> {
        if name.get_ref().is_empty() || name.get_ref().contains(['=', '\0']) {
            return Err(self.error(
                name.span(),
                LoadErrorKind::EnvName {
                    name: name.into_inner(),
                },
            ));
        }
        Ok(name.into_inner())
    }

    fn error(&self, span: Range<usize>, kind: LoadErrorKind) -> LoadError {
        LoadError::at(self.path, self.lines.excerpt(span), kind)
    }
}

/// A step's tags: its suite's, then its own that the suite does not have.
fn inherit_tags(suite: &[String], own: Vec<String>) -> Vec<String> {
    let mut tags = suite.to_vec();
    tags.extend(own.into_iter().filter(|tag| !suite.contains(tag)));
    tags
}

/// What in a TOML value has no JSON form (serde would turn a date-time into an internal table
/// and a NaN into `null`, and the check would compare against those).
fn without_json_form(value: &toml::Value) -> Option<&'static str> {
    match value {
        toml::Value::Datetime(_) => Some("a TOML date-time"),
        toml::Value::Float(float) if !float.is_finite() => Some("`nan` or `inf`"),
        toml::Value::Array(items) => items.iter().find_map(without_json_form),
        toml::Value::Table(table) => table.values().find_map(without_json_form),
        _ => None,
    }
}

/// The errors found so far in one file: the first [`MAX_ERRORS_PER_FILE`], and how many more.
#[derive(Default)]
struct Collected {
    kept: Vec<LoadError>,
    more: usize,
}

impl Collected {
    /// The value, or `None` with the error kept.
    fn keep<T>(&mut self, result: Result<T, LoadError>) -> Option<T> {
        result.map_err(|error| self.push(error)).ok()
    }

    fn push(&mut self, error: LoadError) {
        if self.kept.len() < MAX_ERRORS_PER_FILE {
            self.kept.push(error);
        } else {
            self.more += 1;
        }
    }

    /// The errors kept, in file order, and one saying how many more there are.
    fn into_sorted(self, path: &Path) -> Vec<LoadError> {
        let mut errors = self.kept;
        errors.sort_by_key(|error| {
            error
                .location()
                .map(|location| (location.line, location.column))
        });
        if self.more > 0 {
            errors.push(LoadError::new(
                path,
                LoadErrorKind::MoreErrors { count: self.more },
            ));
        }
        errors
    }
}

/// What every step of a suite gets from it.
#[derive(Clone, Copy)]
struct SuiteDefaults<'a> {
    name: &'a str,
    slug: &'a str,
    tags: &'a [String],
    budgets: Budgets,
}

/// One `[[step]]` table: a step, or a note-only entry.
enum Entry {
    Step(Box<Step>),
    Note(Template),
}

/// Whether a step without `run` or `sh` has keys that only make sense with a command, so it
/// cannot be a note-only step.
fn has_command_keys(raw: &RawStep) -> bool {
    raw.name.is_some()
        || raw.shell.is_some()
        || raw.capture.is_some()
        || raw.stdout.is_some()
        || raw.stderr.is_some()
        || raw.output.is_some()
        || raw.stdin.is_some()
        || !raw.env.0.is_empty()
        || !raw.env_remove.is_empty()
        || raw.status.is_some()
        || !raw.files.is_empty()
        || raw.timeout.is_some()
        || raw.max_duration.is_some()
        || raw.warn_duration.is_some()
        || raw.retry.is_some()
        || raw.ignore.is_some()
        || raw.always
        || raw.pty.is_some()
        || raw.window.is_some()
        || raw.interact.is_some()
}

/// Longest default step name, in characters, before it is cut with `…`.
const DEFAULT_NAME_CHARS: usize = 60;

/// The name of a step without `name`: its command as written (the first non-empty line of an
/// `sh` block, whitespace runs shown as one space), cut to a readable length.
fn default_name(run: Option<&Spanned<RawRun>>, sh: Option<&Spanned<String>>) -> String {
    let written = match (run.map(Spanned::get_ref), sh) {
        (Some(RawRun::Line(line)), _) => line.clone(),
        (Some(RawRun::Args(args)), _) => shell_words::join(args.iter().map(Spanned::get_ref)),
        (None, Some(sh)) => sh
            .get_ref()
            .lines()
            .find(|line| !line.trim().is_empty())
            .unwrap_or_default()
            .to_owned(),
        (None, None) => String::new(),
    };
    let words = written.split_whitespace().collect::<Vec<_>>().join(" ");
    let name = if words.chars().count() > DEFAULT_NAME_CHARS {
        let cut: String = words.chars().take(DEFAULT_NAME_CHARS - 1).collect();
        format!("{}…", cut.trim_end())
    } else {
        words
    };
    if name.is_empty() {
        "(empty command)".to_owned()
    } else {
        name
    }
}

/// Whether `name` can be written as `${name}`: letters, digits and `_`, not starting with a
/// digit.
fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The strings of a "string or list" value, each with its own position.
fn each_text(texts: Option<Spanned<RawTexts>>) -> Vec<Spanned<String>> {
    let Some(texts) = texts else {
        return Vec::new();
    };
    let span = texts.span();
    match texts.into_inner() {
        RawTexts::One(text) => vec![Spanned::new(span, text)],
        RawTexts::Many(texts) => texts,
    }
}

#[cfg(test)]
mod tests;
