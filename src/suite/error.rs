//! Errors from loading suites, and how they are shown to the user.
//!
//! A [`LoadError`] says which file (or folder), where in it, what is wrong and, when we know,
//! what to do about it. Its `Display` is the whole message users read, rustc style:
//!
//! ```text
//! error: unknown field `stdot`, expected one of `section`, `name`, …
//!   --> suites/demo.toml:12:1
//!    |
//! 12 | stdot.contains = "x"
//!    | ^^^^^
//!    = help: see the suite reference in docs/suites.md
//! ```
//!
//! This module owns the wording; it never reads files.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use crate::config::DurationError;
use crate::regular_file::{ReadError, describe_io};

use super::expand::TemplateError;
use super::model::Location;

const REFERENCE_HELP: &str = "see the suite reference in docs/suites.md";

/// The most errors reported for one file; one more line says how many were left out.
pub const MAX_ERRORS_PER_FILE: usize = 20;

/// The longest message shown, in characters, before it is cut with `…`: values quoted in a
/// message (names, command lines) can be as long as the file.
const MAX_MESSAGE_CHARS: usize = 500;

/// A suite file (or folder of suite files) that could not be loaded.
#[derive(Debug)]
pub struct LoadError {
    /// The file or folder the error is about.
    pub path: PathBuf,
    /// The part of the file the error is about, when it is about a part (boxed to keep
    /// `Result<_, LoadError>` small on the paths that succeed).
    pub excerpt: Option<Box<Excerpt>>,
    /// What is wrong.
    pub kind: LoadErrorKind,
}

/// A line of a suite file and the part of it to underline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Excerpt {
    /// Line, from 1.
    pub line: usize,
    /// Column of the first underlined character, from 1, in characters.
    pub column: usize,
    /// The line without its line ending or, when it is long, the part of it around the
    /// column, with `…` where it is cut.
    pub text: String,
    /// How many characters of `text` come before the first underlined one.
    pub indent: usize,
    /// How many characters to underline, at least 1.
    pub width: usize,
}

/// What is wrong with a suite file.
///
/// Each message is one lowercase line; where there is an underlying error it is both part of
/// the message (users read only the message) and the `source()`.
#[derive(Debug, thiserror::Error)]
pub enum LoadErrorKind {
    /// The file could not be read (missing, unreadable, not a regular file, too large, a loop).
    #[error("cannot read suite file: {0}")]
    Read(#[source] ReadError),
    /// The folder could not be listed.
    #[error("cannot list suite folder: {}", describe_io(.0))]
    ReadFolder(#[source] io::Error),
    /// A folder given as a suite path has no `*.toml` file directly inside.
    #[error("no suite files (`*.toml`) in this folder")]
    EmptyFolder,
    /// The file is not UTF-8.
    #[error("suite file is not valid UTF-8")]
    NotUtf8(#[source] std::str::Utf8Error),
    /// The file is not TOML.
    #[error("invalid TOML: {}", .0.message())]
    Syntax(#[source] Box<toml::de::Error>),
    /// A key the format does not have, a key it needs that is missing, or a value of the wrong
    /// TOML type: named, with what to write instead.
    #[error("{message}")]
    Shape {
        /// What is wrong, naming the key.
        message: String,
        /// What to write instead.
        help: String,
    },
    /// The file is TOML of the right shape that serde still refused (an integer too large for
    /// its key, for one).
    #[error("{}", .0.message())]
    Schema(#[source] Box<toml::de::Error>),
    /// The suite has no `[[step]]`.
    #[error("suite `{suite}` has no steps")]
    NoSteps {
        /// The suite's name.
        suite: String,
    },
    /// A suite, section or step name is empty.
    #[error("{what} name is empty")]
    EmptyName {
        /// `suite`, `section` or `step`.
        what: &'static str,
    },
    /// A step has both `run` and `sh`.
    #[error("step `{step}` has both `run` and `sh`")]
    RunAndShell {
        /// The step's name.
        step: String,
    },
    /// A step has neither `run` nor `sh`.
    #[error(
        "{} has neither `run` nor `sh`",
        if step.is_empty() { "step".to_owned() } else { format!("step `{step}`") }
    )]
    NoAction {
        /// The step's name.
        step: String,
    },
    /// A `shell` line is empty or has an unclosed quote.
    #[error("invalid `shell` {line:?}: expected a program and its first arguments")]
    ShellLine {
        /// What was written.
        line: String,
    },
    /// A `run` step has `shell`, which only applies to `sh` steps.
    #[error("step `{step}` has `shell` but runs with `run`")]
    ShellOnRun {
        /// The step's name.
        step: String,
    },
    /// A `capture` name cannot be written as `${NAME}`.
    #[error("invalid `capture` name `{name}`")]
    CaptureName {
        /// What was written.
        name: String,
    },
    /// A `run` command line has a quote that is never closed.
    #[error("unclosed quote in `run`")]
    UnclosedQuote,
    /// A `${…}` reference is malformed.
    #[error("{0}")]
    Template(#[source] TemplateError),
    /// A `run` command line splits a `${…}` reference at a space (`${A:-two words}` unquoted).
    #[error("this space splits a `${{…}}` reference into two arguments")]
    SplitReference,
    /// A `matches` pattern is not a valid regular expression.
    #[error("invalid regular expression: {}", describe_regex(.0))]
    Regex(#[source] regex::Error),
    /// A `timeout` or `interval` is not a duration.
    #[error("invalid duration `{}`: {}", .0.input, .0.reason)]
    Duration(#[source] DurationError),
    /// A `status` is neither an exit code nor a keyword.
    #[error("invalid status {found}")]
    Status {
        /// What was written, as it was written (`"fail"` or `300`).
        found: String,
    },
    /// `retry.attempts` is below 1 or too large.
    #[error(
        "retry attempts must be from 1 to {}, not {found}",
        super::pacing::MAX_ATTEMPTS
    )]
    RetryAttempts {
        /// What was written.
        found: i64,
    },
    /// A fixture is not a plain relative folder name.
    #[error("fixture `{fixture}` is not a folder under the fixtures root")]
    FixturePath {
        /// What was written.
        fixture: String,
    },
    /// A fixture names no folder under the fixtures root.
    #[error("fixture `{fixture}` not found: {} is not a folder", path.display())]
    MissingFixture {
        /// What was written.
        fixture: String,
        /// Where it was looked for.
        path: PathBuf,
    },
    /// A fixture's name goes through a symbolic link that leads out of the fixtures root.
    #[error(
        "fixture `{fixture}` leads outside the fixtures root: {} goes through a symbolic link to {}",
        path.display(),
        target.display()
    )]
    FixtureOutsideRoot {
        /// What was written.
        fixture: String,
        /// The fixture's folder as written under the root.
        path: PathBuf,
        /// Where the links lead.
        target: PathBuf,
    },
    /// A suite has fixtures but no `fixtures/` folder beside or above it, and none was given.
    #[error(
        "fixture `{fixture}` not found: no `fixtures` folder beside the suite file or above it"
    )]
    NoFixturesRoot {
        /// What was written.
        fixture: String,
    },
    /// An environment variable name cannot be set.
    #[error("invalid environment variable name `{name}`")]
    EnvName {
        /// What was written.
        name: String,
    },
    /// A `[[service]]`, `healthcheck`, `http` or `json` value that cannot work.
    #[error("{message}")]
    Invalid {
        /// What is wrong.
        message: String,
        /// What to write instead.
        help: &'static str,
    },
    /// More errors than [`MAX_ERRORS_PER_FILE`] in one file: the ones left out.
    #[error("{count} more error{} in this file", if *count == 1 { "" } else { "s" })]
    MoreErrors {
        /// How many errors were not shown.
        count: usize,
    },
    /// Two suites have the same name, or names with the same slug.
    #[error(
        "{}",
        if name == other_name {
            format!("duplicate suite name `{name}`, also used by {}", other_path.display())
        } else {
            format!(
                "suite name `{name}` gives the same test names (`{}::…`) as suite `{other_name}` in {}",
                super::names::slug(name),
                other_path.display()
            )
        }
    )]
    DuplicateSuite {
        /// This suite's name.
        name: String,
        /// The other suite's name.
        other_name: String,
        /// The file the other suite comes from (loaded earlier).
        other_path: PathBuf,
    },
}

impl LoadErrorKind {
    /// What the user can do about it, when we can say.
    pub fn help(&self) -> Option<&str> {
        Some(match self {
            Self::Read(error) if error.is_not_found() => {
                "check the path; suite paths are files or folders of `*.toml` files"
            }
            Self::Read(ReadError::TooLarge { .. }) => {
                "split it into several suite files (a folder of them is one `--suites` path)"
            }
            Self::Read(ReadError::NotRegular(_)) => {
                "suite paths are regular files or folders of `*.toml` files"
            }
            Self::Read(ReadError::Loop) => "fix or remove the symbolic link",
            Self::Read(_) | Self::ReadFolder(_) => return None,
            Self::Schema(_) => REFERENCE_HELP,
            Self::Shape { help, .. } => help,
            Self::EmptyFolder => "add suite files ending in `.toml`, or pass the files themselves",
            Self::NotUtf8(_) => "save the file as UTF-8",
            Self::Syntax(_) => "suite files are TOML: see https://toml.io",
            Self::NoSteps { .. } => "add a `[[step]]` table with a `name` and a `run` or `sh` key",
            Self::EmptyName { .. } => "names make test names: give it at least one character",
            Self::RunAndShell { .. } => {
                "keep one: `run` gives arguments to the suite's `command`, `sh` is a bash line"
            }
            Self::NoAction { .. } => {
                "add `run = \"…\"` (arguments to the suite's `command`) or `sh = \"…\"` (a bash line); a note-only step has `note` and at most a `section`"
            }
            Self::ShellLine { .. } => {
                "write an interpreter such as `\"bash\"` (run as `bash -c LINE`) or `\"python3 -c\"`"
            }
            Self::ShellOnRun { .. } => {
                "`shell` says how an `sh` line runs; `run` steps invoke the suite's `command`"
            }
            Self::CaptureName { .. } => {
                "use letters, digits and `_`, not starting with a digit, so that `${NAME}` can refer to it"
            }
            Self::UnclosedQuote => {
                "close the quote, or write the arguments as an array: `run = [\"say\", \"it's\"]`"
            }
            Self::Template(_) => "write `${NAME}` or `${NAME:-default}`; `$${` is a literal `${`",
            Self::SplitReference => {
                "quote the reference (`\"${NAME:-two words}\"`), or write `run` as an array of arguments"
            }
            Self::Regex(_) => "see https://docs.rs/regex/latest/regex/#syntax",
            Self::Duration(_) => {
                "write seconds like `120` or `1.5`, or with a unit: `500ms`, `30s`, `2m`"
            }
            Self::Status { .. } => {
                "write an exit code from 0 to 255, or one of \"success\", \"failure\", \"timeout\", \"any\""
            }
            Self::RetryAttempts { .. } => "`attempts` counts every run, the first one included",
            Self::FixturePath { .. } => {
                "name a folder under the fixtures root, without `..` or a leading `/`"
            }
            Self::FixtureOutsideRoot { .. } => {
                "a fixture is copied from inside the fixtures root only: move the folder there, or link within it"
            }
            Self::MissingFixture { .. } | Self::NoFixturesRoot { .. } => {
                "fixtures are folders in the `fixtures` folder nearest above the suite file, or in the one `--fixtures` names"
            }
            Self::EnvName { .. } => "variable names are not empty and have no `=` or NUL",
            Self::Invalid { help, .. } => help,
            Self::MoreErrors { .. } => "fix the errors above and load the file again",
            Self::DuplicateSuite { .. } => {
                "give one of them another `name`: test names must be unique"
            }
        })
    }
}

impl LoadError {
    /// An error about the whole of `path`.
    pub fn new(path: &Path, kind: LoadErrorKind) -> Self {
        Self {
            path: path.to_owned(),
            excerpt: None,
            kind,
        }
    }

    /// An error about one part of the file at `path`.
    pub fn at(path: &Path, excerpt: Excerpt, kind: LoadErrorKind) -> Self {
        Self {
            path: path.to_owned(),
            excerpt: Some(Box::new(excerpt)),
            kind,
        }
    }

    /// Where the error is, when it is about a part of a file.
    pub fn location(&self) -> Option<Location> {
        self.excerpt.as_ref().map(|excerpt| Location {
            file: self.path.clone(),
            line: excerpt.line,
            column: excerpt.column,
        })
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let message = self.kind.to_string();
        match message.char_indices().nth(MAX_MESSAGE_CHARS) {
            Some((end, _)) => write!(f, "error: {}…", &message[..end])?,
            None => write!(f, "error: {message}")?,
        }
        let gutter = self
            .excerpt
            .as_ref()
            .map_or(1, |excerpt| excerpt.line.to_string().len());
        let pad = " ".repeat(gutter);
        match &self.excerpt {
            None => write!(f, "\n{pad}--> {}", self.path.display())?,
            Some(excerpt) => {
                write!(
                    f,
                    "\n{pad}--> {}:{}:{}",
                    self.path.display(),
                    excerpt.line,
                    excerpt.column
                )?;
                // Tabs before the caret are kept so that it lines up however tabs are shown.
                let indent: String = excerpt
                    .text
                    .chars()
                    .take(excerpt.indent)
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect();
                write!(
                    f,
                    "\n{pad} |\n{} | {}\n{pad} | {indent}{}",
                    excerpt.line,
                    excerpt.text,
                    "^".repeat(excerpt.width)
                )?;
            }
        }
        if let Some(help) = self.kind.help() {
            write!(f, "\n{pad} = help: {help}")?;
        }
        Ok(())
    }
}

impl std::error::Error for LoadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.kind)
    }
}

/// Every error from loading a set of suite paths, in the order of the paths.
#[derive(Debug)]
pub struct LoadErrors {
    errors: Vec<LoadError>,
}

impl LoadErrors {
    /// Wraps a list of errors; it should not be empty.
    pub fn new(errors: Vec<LoadError>) -> Self {
        Self { errors }
    }

    /// The errors, in the order of the paths they come from.
    pub fn errors(&self) -> &[LoadError] {
        &self.errors
    }

    /// The errors, owned.
    pub fn into_errors(self) -> Vec<LoadError> {
        self.errors
    }
}

impl From<LoadError> for LoadErrors {
    fn from(error: LoadError) -> Self {
        Self {
            errors: vec![error],
        }
    }
}

impl fmt::Display for LoadErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("\n\n")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for LoadErrors {}

/// The regex crate's message without its own rendering of the pattern: just the reason.
fn describe_regex(error: &regex::Error) -> String {
    let text = error.to_string();
    let reason = text
        .lines()
        .rev()
        .find_map(|line| line.strip_prefix("error: "))
        .unwrap_or(&text);
    lowercase_first(reason.trim_end_matches('.'))
}

fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}
