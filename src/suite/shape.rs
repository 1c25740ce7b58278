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
use toml::de::{DeArray, DeTable, DeValue};

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
    /// An array whose items are strings or tables with these keys (`requires`).
    StringsOrTables(&'static TableShape),
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
        ("max_duration", Shape::Duration),
        ("warn_duration", Shape::Duration),
        ("fixtures", Shape::Strings),
        ("env", Shape::Vars),
        ("requires", Shape::StringsOrTables(&REQUIREMENT_CHECK)),
        ("redact", Shape::Strings),
        ("on_failure", Shape::Keyword(&["stop", "continue"])),
        ("shell", Shape::String),
        ("exclusive", Shape::String),
        ("workdir", Shape::String),
        ("tags", Shape::Strings),
        ("step", Shape::Tables(&STEP)),
        ("service", Shape::Tables(&SERVICE)),
    ],
    required: &[],
    example: "",
};

/// A check in `requires`.
pub(crate) const REQUIREMENT_CHECK: TableShape = TableShape {
    what: "a `requires` check",
    keys: &[("run", Shape::Run), ("sh", Shape::String)],
    required: &[],
    example: "{ sh = \"id postgres\" }",
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
        ("workdir", Shape::String),
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
        ("max_duration", Shape::Duration),
        ("warn_duration", Shape::Duration),
        ("retry", Shape::Table(&RETRY)),
        ("ignore", Shape::String),
        ("tags", Shape::Strings),
        ("always", Shape::Bool),
        ("pty", Shape::Bool),
        ("window", Shape::String),
        ("interact", Shape::Tables(&INTERACTION)),
    ],
    required: &[],
    example: "",
};

/// One entry of a step's `interact`.
pub(crate) const INTERACTION: TableShape = TableShape {
    what: "an `interact` entry",
    keys: &[
        ("expect", Shape::String),
        ("expect_regex", Shape::String),
        ("send", Shape::String),
    ],
    required: &[],
    example: "{ expect = \"Continue? (y/n)\" }",
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
        ("backoff", Shape::Keyword(BACKOFFS)),
        ("max_interval", Shape::Duration),
        ("jitter", Shape::Bool),
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
        ("equals_file", Shape::String),
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
    keys: &[
        ("attempts", Shape::Integer),
        ("interval", Shape::Duration),
        ("backoff", Shape::Keyword(BACKOFFS)),
        ("max_interval", Shape::Duration),
        ("jitter", Shape::Bool),
    ],
    required: &["attempts"],
    example: "{ attempts = 3, interval = \"2s\" }",
};

/// `backoff` in `retry` and `healthcheck`.
const BACKOFFS: &[&str] = &["fixed", "linear", "exponential"];

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
                    match table_name(shape, path) {
                        name if name.is_empty() => name,
                        name => format!(" in {name}"),
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
            let what = table_name(shape, path);
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
    let fits = match (shape, value.get_ref()) {
        (Shape::String, DeValue::String(_))
        | (Shape::Bool, DeValue::Boolean(_))
        | (Shape::Integer, DeValue::Integer(_))
        | (Shape::Duration, DeValue::String(_) | DeValue::Integer(_) | DeValue::Float(_))
        | (Shape::Status, DeValue::String(_) | DeValue::Integer(_))
        | (Shape::Texts | Shape::Run, DeValue::String(_))
        | (Shape::AnyTable, DeValue::Table(_)) => true,
        (Shape::Texts | Shape::Run | Shape::Strings, DeValue::Array(items)) => {
            check_string_items(items, path, leaf, misfits);
            true
        }
        (Shape::Keyword(words), DeValue::String(word)) => words.contains(&word.as_ref()),
        (Shape::Vars, DeValue::Table(vars)) => {
            check_vars(vars, path, leaf, misfits);
            true
        }
        (Shape::StringsOrTables(table), DeValue::Array(items)) => {
            check_strings_or_tables(items, table, path, leaf, misfits);
            true
        }
        (Shape::Table(table), DeValue::Table(inner)) => {
            check_table(inner, value.span(), table, path, misfits);
            true
        }
        (Shape::Tables(table), DeValue::Array(items)) => {
            check_tables(items, table, path, leaf, misfits);
            true
        }
        _ => false,
    };
    if fits {
        check_range(value, path, misfits);
        return;
    }
    let (expected, help) = expected_shape(shape, leaf);
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

/// Each item of an array of strings that is not a string.
fn check_string_items(items: &DeArray<'_>, path: &str, leaf: &str, misfits: &mut Misfits) {
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
}

/// Each value of a table of strings (`env`, `headers`) that is not a string.
fn check_vars(vars: &DeTable<'_>, path: &str, leaf: &str, misfits: &mut Misfits) {
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
}

/// Each item of `requires`: a program name, or a check table.
fn check_strings_or_tables(
    items: &DeArray<'_>,
    table: &TableShape,
    path: &str,
    leaf: &str,
    misfits: &mut Misfits,
) {
    for item in items.iter() {
        match item.get_ref() {
            DeValue::String(_) => {}
            DeValue::Table(inner) => {
                check_table(inner, item.span(), table, path, misfits);
            }
            other => misfits.push(Misfit {
                span: item.span(),
                message: format!(
                    "an item of `{}` must be a program name or a check like `{}`, not {}",
                    shown_key(path),
                    table.example,
                    describe(other)
                ),
                help: format!("write `{leaf} = [\"psql\", {}]`", table.example),
            }),
        }
    }
}

/// Each item of an array of tables (`[[step]]`, `files`, `interact`).
fn check_tables(
    items: &DeArray<'_>,
    table: &TableShape,
    path: &str,
    leaf: &str,
    misfits: &mut Misfits,
) {
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
}

/// What a key of `shape` takes, in TOML's words, and how to write it: for a value of the
/// wrong type.
fn expected_shape(shape: &Shape, leaf: &str) -> (Cow<'static, str>, String) {
    match shape {
        Shape::String => ("a string".into(), format!("quote it: `{leaf} = \"…\"`")),
        Shape::Bool => (
            "`true` or `false`".into(),
            format!("write `{leaf} = true` or `{leaf} = false`, without quotes"),
        ),
        Shape::Integer => (
            "an integer".into(),
            format!("write a whole number without quotes, like `{leaf} = 3`"),
        ),
        Shape::Duration => (
            "a duration: a string like \"30s\" or a number of seconds".into(),
            format!("write `{leaf} = \"30s\"`, `\"500ms\"`, `\"2m\"`, or seconds: `{leaf} = 120`"),
        ),
        Shape::Status => (
            "an exit code or one of \"success\", \"failure\", \"timeout\", \"any\"".into(),
            format!("write `{leaf} = 1` or `{leaf} = \"failure\"`"),
        ),
        Shape::Texts => (
            "a string or an array of strings".into(),
            format!("write `{leaf} = \"…\"` or `{leaf} = [\"…\", \"…\"]`"),
        ),
        Shape::Run => (
            "a command line (a string) or its arguments (an array of strings)".into(),
            format!(
                "write `{leaf} = \"new --name demo\"` or `{leaf} = [\"new\", \"--name\", \"demo\"]`"
            ),
        ),
        Shape::Keyword(words) => (one_of(words).into(), keyword_help(leaf, words)),
        Shape::Strings => (
            "an array of strings".into(),
            format!("write `{leaf} = [\"…\"]`, even for one"),
        ),
        Shape::Vars => (
            "a table of strings like `{ NAME = \"value\" }`".into(),
            format!("write `{leaf} = {{ NAME = \"value\" }}`"),
        ),
        Shape::Table(table) => (
            format!("a table like `{}`", table.example).into(),
            format!("write `{leaf} = {}`", table.example),
        ),
        Shape::Tables(table) => ("an array of tables".into(), tables_help(leaf, table)),
        Shape::StringsOrTables(table) => (
            format!(
                "an array of program names and checks like `{}`",
                table.example
            )
            .into(),
            format!("write `{leaf} = [\"psql\", {}]`", table.example),
        ),
        Shape::AnyTable => (
            "a table".into(),
            format!("write `{leaf} = {{ key = \"value\" }}`"),
        ),
    }
}

/// How messages name a table: by its path (`healthcheck.http`) when it has one, else by what
/// it is (`[[step]]`, a `files` entry); empty for the file itself.
fn table_name(shape: &TableShape, path: &str) -> String {
    if shape.what.starts_with('`') && !shape.what.starts_with("`[[") || shape.what.is_empty() {
        if path.is_empty() {
            String::new()
        } else {
            format!("`{}`", shown_key(path))
        }
    } else {
        shape.what.to_owned()
    }
}

/// A number of the right type that TOML cannot hold: an integer outside 64 bits, a float
/// that overflows to infinity.
fn check_range(value: &Spanned<DeValue<'_>>, path: &str, misfits: &mut Misfits) {
    let (fits, limit) = match value.get_ref() {
        DeValue::Integer(integer) => (
            i64::from_str_radix(integer.as_str(), integer.radix()).is_ok(),
            "TOML integers are from -9223372036854775808 to 9223372036854775807",
        ),
        // Only a finite literal that overflowed is out of range: `inf` and `nan` are values of
        // their own, for the key's own check to judge.
        DeValue::Float(float) => (
            float.as_str().contains("inf")
                || !float.as_str().parse::<f64>().is_ok_and(f64::is_infinite),
            "TOML floats go up to about 1.8e308",
        ),
        _ => return,
    };
    if !fits {
        misfits.push(Misfit {
            span: value.span(),
            message: format!(
                "`{}` is out of range: {limit}, not {}",
                shown_key(path),
                describe(value.get_ref())
            ),
            help: "write a smaller number".into(),
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
        DeValue::Integer(integer) => format!("the integer {}", cut(&integer.to_string())),
        DeValue::Float(float) => format!("the float {}", cut(float.as_str())),
        DeValue::Boolean(flag) => format!("the boolean {flag}"),
        DeValue::Datetime(datetime) => format!("the date-time {datetime}"),
        DeValue::Array(_) => "an array".into(),
        DeValue::Table(_) => "a table".into(),
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde::de::{self, Visitor};

    use super::super::raw::{
        RawFileCheck, RawHealthcheck, RawHttp, RawInteraction, RawRequirementCheck, RawRetry,
        RawService, RawStep, RawStreamChecks, RawSuite,
    };
    use super::*;

    /// A deserializer that only records the keys a derived struct asks for.
    struct FieldsOf(std::cell::Cell<&'static [&'static str]>);

    impl<'de> de::Deserializer<'de> for &FieldsOf {
        type Error = de::value::Error;

        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("not a struct"))
        }

        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            self.0.set(fields);
            Err(de::Error::custom("recorded"))
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }

    fn fields<T: for<'de> Deserialize<'de>>() -> Vec<&'static str> {
        let recorder = FieldsOf(std::cell::Cell::new(&[]));
        let _ = T::deserialize(&recorder);
        recorder.0.get().to_vec()
    }

    fn keys(table: &TableShape) -> Vec<&'static str> {
        table.keys.iter().map(|(key, _)| *key).collect()
    }

    #[test]
    fn every_table_has_the_keys_of_its_raw_struct() {
        assert_eq!(keys(&SUITE), fields::<RawSuite>());
        assert_eq!(keys(&STEP), fields::<RawStep>());
        assert_eq!(keys(&SERVICE), fields::<RawService>());
        assert_eq!(keys(&HEALTHCHECK), fields::<RawHealthcheck>());
        assert_eq!(keys(&HTTP), fields::<RawHttp>());
        assert_eq!(keys(&STREAM_CHECKS), fields::<RawStreamChecks>());
        assert_eq!(keys(&FILE_CHECK), fields::<RawFileCheck>());
        assert_eq!(keys(&RETRY), fields::<RawRetry>());
        assert_eq!(keys(&REQUIREMENT_CHECK), fields::<RawRequirementCheck>());
        assert_eq!(keys(&INTERACTION), fields::<RawInteraction>());
    }

    /// A value of each TOML type, and how a message names it.
    const VALUES: [(&str, &str); 7] = [
        ("\"text\"", "the string \"text\""),
        ("42", "the integer 42"),
        ("1.5", "the float 1.5"),
        ("true", "the boolean true"),
        ("1979-05-27T07:32:00Z", "the date-time 1979-05-27T07:32:00Z"),
        ("[1]", "an array"),
        ("{ x = 1 }", "a table"),
    ];

    fn accepts(shape: &Shape, value: &str) -> bool {
        let string = value.starts_with('"');
        match shape {
            Shape::String | Shape::Keyword(_) => string,
            Shape::Bool => value == "true",
            Shape::Integer => value == "42",
            Shape::Duration => string || value == "42" || value == "1.5",
            Shape::Status => string || value == "42",
            // Arrays have the right shape; their items are checked one by one (see below).
            Shape::Texts | Shape::Run => string || value.starts_with('['),
            Shape::Strings | Shape::Tables(_) | Shape::StringsOrTables(_) => value.starts_with('['),
            Shape::Vars | Shape::AnyTable | Shape::Table(_) => value.starts_with('{'),
        }
    }

    /// A suite file with `key = value` in the table at `path` (`""`, `step`, `step.http`, …),
    /// the rest of it valid.
    /// `path` holds each table's key and whether it is a list of tables.
    fn suite_with(path: &[(&str, bool)], key: &str, value: &str) -> String {
        let line =
            path.iter()
                .skip(1)
                .rev()
                .fold(format!("{key} = {value}"), |inner, (outer, list)| {
                    if *list {
                        format!("{outer} = [{{ {inner} }}]")
                    } else {
                        format!("{outer} = {{ {inner} }}")
                    }
                });
        // The key itself is never written twice (TOML refuses that).
        let own = path.len() == 1;
        match path.first() {
            None if key == "step" => format!("{line}\n"),
            None => format!("{line}\n[[step]]\nsh = \"true\"\n"),
            Some(("step", _)) if own && key == "sh" => format!("[[step]]\nrun = \"x\"\n{line}\n"),
            Some(("step", _)) => format!("[[step]]\nsh = \"true\"\n{line}\n"),
            Some(_) if own && key == "name" => {
                format!("[[service]]\n{line}\n[[step]]\nsh = \"true\"\n")
            }
            Some(_) => format!("[[service]]\nname = \"db\"\n{line}\n[[step]]\nsh = \"true\"\n"),
        }
    }

    fn sweep(table: &TableShape, path: &mut Vec<(&'static str, bool)>, checked: &mut usize) {
        for (key, shape) in table.keys {
            if let Shape::Table(inner) | Shape::Tables(inner) | Shape::StringsOrTables(inner) =
                shape
            {
                path.push((key, !matches!(shape, Shape::Table(_))));
                sweep(inner, path, checked);
                path.pop();
            }
            for (value, described) in VALUES {
                if accepts(shape, value) {
                    continue;
                }
                let source = suite_with(path, key, value);
                let table = DeTable::parse(&source).expect("valid TOML");
                let misfits = check(&table, 100).kept;
                let named = path
                    .iter()
                    .skip(1)
                    .map(|(outer, _)| *outer)
                    .chain(std::iter::once(*key))
                    .collect::<Vec<_>>()
                    .join(".");
                let expected = format!("`{named}` must be ");
                let found = misfits.iter().find(|misfit| {
                    misfit.message.starts_with(&expected)
                        && misfit.message.ends_with(&format!(", not {described}"))
                });
                let Some(found) = found else {
                    panic!("{source}: {expected}… {described}: got {misfits:#?}");
                };
                assert_eq!(&source[found.span.clone()], value, "{source}");
                assert!(!found.help.is_empty());
                *checked += 1;
            }
            if let Shape::Texts
            | Shape::Run
            | Shape::Strings
            | Shape::Tables(_)
            | Shape::StringsOrTables(_) = shape
            {
                let source = suite_with(path, key, "[1]");
                let table = DeTable::parse(&source).expect("valid TOML");
                let misfits = check(&table, 100).kept;
                assert!(
                    misfits
                        .iter()
                        .any(|misfit| misfit.message.starts_with("an item of `")
                            && misfit.message.ends_with(", not the integer 1")
                            && &source[misfit.span.clone()] == "1"),
                    "{source}: {misfits:#?}"
                );
            }
        }
    }

    #[test]
    fn every_key_given_every_wrong_type_is_named_with_what_it_takes() {
        let mut checked = 0;
        sweep(&SUITE, &mut Vec::new(), &mut checked);
        assert!(checked > 300, "{checked}");
    }

    #[test]
    fn a_list_given_a_table_says_how_to_write_a_list() {
        let table = DeTable::parse("[[step]]\nsh = \"x\"\nfiles = { path = \"x\" }\n").unwrap();
        let misfits = check(&table, 10).kept;
        assert_eq!(misfits.len(), 1);
        assert_eq!(
            misfits[0].message,
            "`files` must be an array of tables, not a table"
        );
        assert_eq!(
            misfits[0].help,
            "`files` is a list: write `files = [{ … }]`"
        );
    }

    #[test]
    fn long_values_and_keys_are_cut_in_messages() {
        let long = "9".repeat(300);
        let source = format!("name = {long}.5\n\"{long}\" = 1\n");
        let table = DeTable::parse(&source).unwrap();
        for misfit in check(&table, 10).kept {
            assert!(misfit.message.len() < 400, "{}", misfit.message);
            assert!(misfit.message.contains('…'), "{}", misfit.message);
        }
    }

    #[test]
    fn numbers_toml_cannot_hold_are_out_of_range() {
        let source = "[[step]]\nsh = \"x\"\ntimeout = 1e999\nstatus = -99999999999999999999\n\
                      retry = { attempts = 0x7fffffffffffffff1 }\n";
        let table = DeTable::parse(source).unwrap();
        let mut messages: Vec<String> = check(&table, 10)
            .kept
            .into_iter()
            .map(|misfit| misfit.message)
            .collect();
        messages.sort();
        assert_eq!(
            messages,
            [
                "`retry.attempts` is out of range: TOML integers are from -9223372036854775808 to 9223372036854775807, not the integer 0x7fffffffffffffff1",
                "`status` is out of range: TOML integers are from -9223372036854775808 to 9223372036854775807, not the integer -99999999999999999999",
                "`timeout` is out of range: TOML floats go up to about 1.8e308, not the float 1e999",
            ]
        );
        let fine = DeTable::parse("[[step]]\nsh = \"x\"\ntimeout = inf\nstatus = 0xff\n").unwrap();
        assert!(check(&fine, 10).kept.is_empty());
        // `nan` is not out of range: the duration check says what is wrong with it.
        let fine = DeTable::parse(
            "[[step]]\nsh = \"x\"\ntimeout = nan\n[[step]]\nsh = \"y\"\ntimeout = -nan\n",
        )
        .unwrap();
        assert!(check(&fine, 10).kept.is_empty());
    }

    #[test]
    fn only_the_first_misfits_are_kept() {
        let source = "step = [".to_owned() + &"{ name = 1 },".repeat(1000) + "]\n";
        let table = DeTable::parse(&source).unwrap();
        let misfits = check(&table, 20);
        assert_eq!((misfits.kept.len(), misfits.more), (20, 980));
    }
}
