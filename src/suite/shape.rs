//! The shape check: every key of a suite file held against the file format, in TOML's own
//! words, before serde reads the file.
//!
//! serde reports a wrong type in its own vocabulary ("invalid type: map, expected a
//! sequence", "`$__toml_private_datetime`, expected a spanned value"), without the key, and
//! stops at the first one. This check walks the parsed TOML tree with [`SUITE`], a table of
//! every key and the shape it takes, and reports each unknown key, missing key and value of
//! the wrong type, naming the key, the shape it takes and what was written instead. serde
//! then only sees files of the right shape; `raw.rs` stays the one place values are read.
//!
//! [`SUITE`] mirrors the structs of `raw.rs` key for key; a test holds the two together.

use std::borrow::Cow;
use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// What a key holds.
#[derive(Debug)]
pub(crate) enum Shape {
    /// A string.
    String,
    /// `true` or `false`.
    Bool,
    /// An integer.
    Integer,
    /// A duration string (`"30s"`) or a number of seconds.
    Duration,
    /// A string or an array of strings.
    Texts,
    /// A command line (a string) or its arguments (an array of strings).
    Run,
    /// An exit code or a keyword (which ones is checked later).
    Status,
    /// One of these strings.
    Keyword(&'static [&'static str]),
    /// An array of strings.
    Strings,
    /// A table whose values are strings (`env`, `headers`).
    Vars,
    /// A table with these keys.
    Table(&'static TableShape),
    /// An array of tables with these keys.
    Tables(&'static TableShape),
    /// A table of any values (`json`).
    AnyTable,
}

/// The keys of one kind of table.
#[derive(Debug)]
pub(crate) struct TableShape {
    /// How messages name this table: "`[[step]]`", "`retry`"; empty for the file itself.
    pub(crate) what: &'static str,
    /// Every key, with its shape.
    pub(crate) keys: &'static [(&'static str, Shape)],
    /// The keys that must be there.
    pub(crate) required: &'static [&'static str],
    /// A short example of the table, written inline.
    pub(crate) example: &'static str,
}

/// The whole suite file.
pub(crate) const SUITE: TableShape = TableShape {
    what: "",
    keys: &[
        ("name", Shape::String),
        ("description", Shape::String),
        ("command", Shape::String),
        ("timeout", Shape::Duration),
        ("fixtures", Shape::Strings),
        ("env", Shape::Vars),
        ("requires", Shape::Strings),
        ("redact", Shape::Strings),
        ("on_failure", Shape::Keyword(&["stop", "continue"])),
        ("shell", Shape::String),
        ("exclusive", Shape::String),
        ("step", Shape::Tables(&STEP)),
        ("service", Shape::Tables(&SERVICE)),
    ],
    required: &[],
    example: "",
};

/// One `[[step]]`.
pub(crate) const STEP: TableShape = TableShape {
    what: "`[[step]]`",
    keys: &[
        ("section", Shape::String),
        ("name", Shape::String),
        ("run", Shape::Run),
        ("sh", Shape::String),
        ("shell", Shape::String),
        ("capture", Shape::String),
        ("note", Shape::String),
        ("http", Shape::Table(&HTTP)),
        ("stdout", Shape::Table(&STREAM_CHECKS)),
        ("stderr", Shape::Table(&STREAM_CHECKS)),
        ("output", Shape::Table(&STREAM_CHECKS)),
        ("stdin", Shape::String),
        ("env", Shape::Vars),
        ("env_remove", Shape::Strings),
        ("status", Shape::Status),
        ("files", Shape::Tables(&FILE_CHECK)),
        ("timeout", Shape::Duration),
        ("retry", Shape::Table(&RETRY)),
        ("ignore", Shape::String),
        ("always", Shape::Bool),
    ],
    required: &[],
    example: "",
};

/// One `[[service]]`.
pub(crate) const SERVICE: TableShape = TableShape {
    what: "`[[service]]`",
    keys: &[
        ("name", Shape::String),
        ("run", Shape::Run),
        ("sh", Shape::String),
        ("port", Shape::String),
        ("env", Shape::Vars),
        ("healthcheck", Shape::Table(&HEALTHCHECK)),
    ],
    required: &["name"],
    example: "",
};

/// A service's `healthcheck`.
pub(crate) const HEALTHCHECK: TableShape = TableShape {
    what: "`healthcheck`",
    keys: &[
        ("run", Shape::Run),
        ("sh", Shape::String),
        ("http", Shape::Table(&HTTP)),
        ("tcp", Shape::String),
        ("interval", Shape::Duration),
        ("timeout", Shape::Duration),
        ("retries", Shape::Integer),
        ("start_period", Shape::Duration),
    ],
    required: &[],
    example: "{ sh = \"pg_isready\", interval = \"1s\" }",
};

/// `http`, in a step or a health check.
pub(crate) const HTTP: TableShape = TableShape {
    what: "`http`",
    keys: &[
        ("url", Shape::String),
        ("method", Shape::String),
        ("status", Shape::Integer),
        ("headers", Shape::Vars),
        ("body", Shape::String),
    ],
    required: &["url"],
    example: "{ url = \"http://127.0.0.1:${PORT}/health\", status = 200 }",
};

/// `stdout`, `stderr` and `output`.
pub(crate) const STREAM_CHECKS: TableShape = TableShape {
    what: "",
    keys: &[
        ("contains", Shape::Texts),
        ("not_contains", Shape::Texts),
        ("equals", Shape::String),
        ("matches", Shape::Texts),
        ("json", Shape::AnyTable),
    ],
    required: &[],
    example: "{ contains = \"created\" }",
};

/// One entry of `files`.
pub(crate) const FILE_CHECK: TableShape = TableShape {
    what: "a `files` entry",
    keys: &[
        ("path", Shape::String),
        ("exists", Shape::Bool),
        ("contains", Shape::Texts),
        ("not_contains", Shape::Texts),
    ],
    required: &["path"],
    example: "{ path = \"main.go\", exists = true }",
};

/// `retry`.
pub(crate) const RETRY: TableShape = TableShape {
    what: "`retry`",
    keys: &[("attempts", Shape::Integer), ("interval", Shape::Duration)],
    required: &["attempts"],
    example: "{ attempts = 3, interval = \"2s\" }",
};

/// One key or value that does not fit the format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Misfit {
    /// What to underline: the value, or the key when it is unknown.
    pub(crate) span: Range<usize>,
    /// What is wrong, naming the key.
    pub(crate) message: String,
    /// What to write instead.
    pub(crate) help: String,
}

/// The misfits of one file: the first `limit` found, and how many more.
#[derive(Debug, Default)]
pub(crate) struct Misfits {
    /// The misfits kept, in no particular order.
    pub(crate) kept: Vec<Misfit>,
    /// How many more were found.
    pub(crate) more: usize,
    limit: usize,
}

impl Misfits {
    fn push(&mut self, misfit: Misfit) {
        if self.kept.len() < self.limit {
            self.kept.push(misfit);
        } else {
            self.more += 1;
        }
    }
}

/// The misfits of `root` (a whole suite file) against [`SUITE`], at most `limit` of them kept.
pub(crate) fn check(root: &Spanned<DeTable<'_>>, limit: usize) -> Misfits {
    let mut misfits = Misfits {
        limit,
        ..Misfits::default()
    };
    check_table(root.get_ref(), root.span(), &SUITE, "", &mut misfits);
    misfits
}

fn check_table(
    table: &DeTable<'_>,
    span: Range<usize>,
    shape: &TableShape,
    path: &str,
    misfits: &mut Misfits,
) {
    for (key, value) in table {
        let name: &str = key.get_ref();
        match shape.keys.iter().find(|(known, _)| *known == name) {
            Some((_, key_shape)) => check_value(value, key_shape, &join(path, name), misfits),
            None => misfits.push(Misfit {
                span: key.span(),
                message: format!(
                    "unknown key `{}`{}, expected one of {}",
                    shown_key(name),
                    match (shape.what, path) {
                        ("", "") => String::new(),
                        ("", path) => format!(" in `{path}`"),
                        (what, _) => format!(" in {what}"),
                    },
                    shape
                        .keys
                        .iter()
                        .map(|(known, _)| format!("`{known}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                help: "see the suite reference in docs/suites.md".into(),
            }),
        }
    }
    for required in shape.required {
        if !table.keys().any(|key| key.get_ref() == required) {
            let what = match shape.what {
                "" => format!("`{path}`"),
                what => what.to_owned(),
            };
            misfits.push(Misfit {
                span: span.clone(),
                message: format!("{what} has no `{required}`"),
                help: if shape.example.is_empty() {
                    format!("add `{required} = \"…\"`")
                } else {
                    format!(
                        "`{required}` is required: write it like `{}`",
                        shape.example
                    )
                },
            });
        }
    }
}

fn check_value(value: &Spanned<DeValue<'_>>, shape: &Shape, path: &str, misfits: &mut Misfits) {
    let leaf = path.rsplit('.').next().unwrap_or(path);
    let wrong = |expected: Cow<'static, str>, help: String| Some((expected, help));
    let wrong = match (shape, value.get_ref()) {
        (Shape::String, DeValue::String(_))
        | (Shape::Bool, DeValue::Boolean(_))
        | (Shape::Integer, DeValue::Integer(_))
        | (Shape::Duration, DeValue::String(_) | DeValue::Integer(_) | DeValue::Float(_))
        | (Shape::Status, DeValue::String(_) | DeValue::Integer(_))
        | (Shape::Texts | Shape::Run, DeValue::String(_))
        | (Shape::AnyTable, DeValue::Table(_)) => None,
        (Shape::Texts | Shape::Run | Shape::Strings, DeValue::Array(items)) => {
            for item in items.iter() {
                if !matches!(item.get_ref(), DeValue::String(_)) {
                    misfits.push(Misfit {
                        span: item.span(),
                        message: format!(
                            "an item of `{}` must be a string, not {}",
                            shown_key(path),
                            describe(item.get_ref())
                        ),
                        help: format!("quote it: `{leaf} = [\"…\", \"…\"]`"),
                    });
                }
            }
            None
        }
        (Shape::Keyword(words), DeValue::String(word)) => {
            if words.contains(&word.as_ref()) {
                None
            } else {
                wrong(one_of(words).into(), keyword_help(leaf, words))
            }
        }
        (Shape::Vars, DeValue::Table(vars)) => {
            for (name, var) in vars {
                if !matches!(var.get_ref(), DeValue::String(_)) {
                    let name: &str = name.get_ref();
                    misfits.push(Misfit {
                        span: var.span(),
                        message: format!(
                            "`{}.{}` must be a string, not {}",
                            shown_key(path),
                            shown_key(name),
                            describe(var.get_ref())
                        ),
                        help: format!(
                            "values in `{leaf}` are strings: write `{} = \"…\"`",
                            shown_key(name)
                        ),
                    });
                }
            }
            None
        }
        (Shape::Table(table), DeValue::Table(inner)) => {
            check_table(inner, value.span(), table, path, misfits);
            None
        }
        (Shape::Tables(table), DeValue::Array(items)) => {
            for item in items.iter() {
                // Keys of a `[[step]]` or `[[service]]` are named as written under its header.
                let inner_path = if table.what.starts_with("`[[") {
                    ""
                } else {
                    path
                };
                match item.get_ref() {
                    DeValue::Table(inner) => {
                        check_table(inner, item.span(), table, inner_path, misfits);
                    }
                    other => misfits.push(Misfit {
                        span: item.span(),
                        message: format!(
                            "an item of `{}` must be a table, not {}",
                            shown_key(path),
                            describe(other)
                        ),
                        help: tables_help(leaf, table),
                    }),
                }
            }
            None
        }
        (Shape::String, _) => wrong("a string".into(), format!("quote it: `{leaf} = \"…\"`")),
        (Shape::Bool, _) => wrong(
            "`true` or `false`".into(),
            format!("write `{leaf} = true` or `{leaf} = false`, without quotes"),
        ),
        (Shape::Integer, _) => wrong(
            "an integer".into(),
            format!("write a whole number without quotes, like `{leaf} = 3`"),
        ),
        (Shape::Duration, _) => wrong(
            "a duration: a string like \"30s\" or a number of seconds".into(),
            format!("write `{leaf} = \"30s\"`, `\"500ms\"`, `\"2m\"`, or seconds: `{leaf} = 120`"),
        ),
        (Shape::Status, _) => wrong(
            "an exit code or one of \"success\", \"failure\", \"timeout\", \"any\"".into(),
            format!("write `{leaf} = 1` or `{leaf} = \"failure\"`"),
        ),
        (Shape::Texts, _) => wrong(
            "a string or an array of strings".into(),
            format!("write `{leaf} = \"…\"` or `{leaf} = [\"…\", \"…\"]`"),
        ),
        (Shape::Run, _) => wrong(
            "a command line (a string) or its arguments (an array of strings)".into(),
            format!(
                "write `{leaf} = \"new --name demo\"` or `{leaf} = [\"new\", \"--name\", \"demo\"]`"
            ),
        ),
        (Shape::Keyword(words), _) => wrong(one_of(words).into(), keyword_help(leaf, words)),
        (Shape::Strings, _) => wrong(
            "an array of strings".into(),
            format!("write `{leaf} = [\"…\"]`, even for one"),
        ),
        (Shape::Vars, _) => wrong(
            "a table of strings like `{ NAME = \"value\" }`".into(),
            format!("write `{leaf} = {{ NAME = \"value\" }}`"),
        ),
        (Shape::Table(table), _) => wrong(
            format!("a table like `{}`", table.example).into(),
            format!("write `{leaf} = {}`", table.example),
        ),
        (Shape::Tables(table), _) => wrong("an array of tables".into(), tables_help(leaf, table)),
        (Shape::AnyTable, _) => wrong(
            "a table".into(),
            format!("write `{leaf} = {{ key = \"value\" }}`"),
        ),
    };
    if let Some((expected, help)) = wrong {
        misfits.push(Misfit {
            span: value.span(),
            message: format!(
                "`{}` must be {expected}, not {}",
                shown_key(path),
                describe(value.get_ref())
            ),
            help,
        });
    }
}

fn tables_help(leaf: &str, table: &TableShape) -> String {
    if table.example.is_empty() {
        format!("write each one as a `[[{leaf}]]` table, with double brackets")
    } else {
        format!("`{leaf}` is a list: write `{leaf} = [{{ … }}]`")
    }
}

fn keyword_help(leaf: &str, words: &[&str]) -> String {
    let forms: Vec<String> = words
        .iter()
        .map(|word| format!("`{leaf} = \"{word}\"`"))
        .collect();
    format!("write {}", forms.join(" or "))
}

/// `"a" or "b"`, `"a", "b" or "c"`.
fn one_of(words: &[&str]) -> String {
    let quoted: Vec<String> = words.iter().map(|word| format!("\"{word}\"")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => quoted.concat(),
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// Longest value or key quoted in a message, in characters, before it is cut with `…`.
const QUOTED_CHARS: usize = 40;

/// A key as a message names it: cut to a readable length.
fn shown_key(key: &str) -> Cow<'_, str> {
    cut(key)
}

fn cut(text: &str) -> Cow<'_, str> {
    match text.char_indices().nth(QUOTED_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]).into(),
        None => text.into(),
    }
}

/// What was written, in TOML's words: its type and, for a scalar, its value (cut).
fn describe(value: &DeValue<'_>) -> String {
    match value {
        DeValue::String(text) => format!("the string {:?}", cut(text)),
        DeValue::Integer(integer) => format!("the integer {}", cut(integer.as_str())),
        DeValue::Float(float) => format!("the float {}", cut(float.as_str())),
        DeValue::Boolean(flag) => format!("the boolean {flag}"),
        DeValue::Datetime(datetime) => format!("the date-time {datetime}"),
        DeValue::Array(_) => "an array".into(),
        DeValue::Table(_) => "a table".into(),
    }
}
