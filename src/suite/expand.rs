//! `${VAR}` and `${VAR:-default}` templates.
//!
//! Parsed once when a suite is loaded (so a malformed `${` is a load error with a position) and
//! expanded at run time against each step's environment (so `${TEST_DIR}` works). `$${` writes a
//! literal `${`; a lone `$` is left as it is, so `sh` lines keep their own `$VAR` for bash.
//! In shell lines ([`Template::parse_shell`]) every other bash expansion (`${X:0:3}`, `${#X}`,
//! `${P%/*}`, `${A[@]}`, `${!R}`) is left to bash as written: smoke-runner's own two forms
//! mean what bash would make of them too, since every variable a step sees is in its
//! environment.
//! Defaults may themselves hold references (`${A:-${B:-none}}`), up to 16 deep. An expanded
//! value is at most [`MAX_EXPANDED_VALUE`] (1 MiB).

use std::borrow::Cow;

use crate::config::MAX_EXPANDED_VALUE;
use crate::regular_file::human_size;

/// A string with `${VAR}` / `${VAR:-default}` references, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Var {
        name: String,
        /// `${NAME:-default}`: the default is a template itself (`${A:-${B}}`).
        default: Option<Vec<Part>>,
    },
}

/// How deeply defaults may nest (`${A:-${B:-${C}}}` is 3): enough for any real suite, and a
/// bound on the recursion of parsing and expanding.
const MAX_NESTING: usize = 16;

/// Why a template could not be parsed; `offset` is the byte offset in the source string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TemplateError {
    /// Byte offset of the problem within the template text.
    pub offset: usize,
    /// What is wrong, lowercase.
    pub message: String,
}

/// Why a template could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExpandError {
    /// A reference to a variable that is not set and has no default.
    #[error(
        "`${{{name}}}` is not set (give it a default with `${{{name}:-value}}`, or write `$${{{name}}}` for a literal)"
    )]
    Unset {
        /// The variable's name.
        name: String,
    },
    /// The result would be larger than [`MAX_EXPANDED_VALUE`].
    #[error(
        "`{}` expands to more than the limit of {}",
        .template,
        human_size(MAX_EXPANDED_VALUE as u64)
    )]
    TooLarge {
        /// The template as written (cut to a readable length).
        template: String,
    },
}

impl Template {
    /// Parses `source`.
    pub fn parse(source: &str) -> Result<Self, TemplateError> {
        Self::parse_as(source, Syntax::Template)
    }

    /// Parses a bash line: `${NAME}` and `${NAME:-default}` are smoke-runner's, any other
    /// `${…}` is bash's own expansion and stays in the line as written.
    pub fn parse_shell(source: &str) -> Result<Self, TemplateError> {
        Self::parse_as(source, Syntax::Shell)
    }

    fn parse_as(source: &str, syntax: Syntax) -> Result<Self, TemplateError> {
        let (parts, _) = parse_parts(source, 0, None, 0, syntax)?;
        Ok(Self {
            source: source.to_owned(),
            parts,
        })
    }

    /// A template with no references: `text` is used as it is (no `$` processing).
    pub fn literal(text: impl Into<String>) -> Self {
        let text = text.into();
        let parts = if text.is_empty() {
            Vec::new()
        } else {
            vec![Part::Literal(text.clone())]
        };
        Self {
            source: text,
            parts,
        }
    }

    /// The text as written in the suite.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether the template refers to any variable.
    pub fn has_variables(&self) -> bool {
        self.parts
            .iter()
            .any(|part| matches!(part, Part::Var { .. }))
    }

    /// Expands references with `lookup`; an unset variable without a default is an error, and
    /// so is a result larger than [`MAX_EXPANDED_VALUE`].
    pub fn expand<'v, F>(&self, lookup: F) -> Result<Cow<'_, str>, ExpandError>
    where
        F: Fn(&str) -> Option<&'v str>,
    {
        match self.parts.as_slice() {
            [] => return Ok(Cow::Borrowed("")),
            [Part::Literal(text)] => return Ok(Cow::Borrowed(text)),
            _ => {}
        }
        let mut out = String::with_capacity(self.source.len().min(MAX_EXPANDED_VALUE));
        expand_parts(&self.parts, &lookup, &mut out).map_err(|error| match error {
            ExpandError::TooLarge { .. } => ExpandError::TooLarge {
                template: cut(&self.source),
            },
            unset => unset,
        })?;
        Ok(Cow::Owned(out))
    }
}

fn expand_parts<'v, F>(parts: &[Part], lookup: &F, out: &mut String) -> Result<(), ExpandError>
where
    F: Fn(&str) -> Option<&'v str>,
{
    let push = |out: &mut String, text: &str| {
        if out.len() + text.len() > MAX_EXPANDED_VALUE {
            return Err(ExpandError::TooLarge {
                template: String::new(),
            });
        }
        out.push_str(text);
        Ok(())
    };
    for part in parts {
        match part {
            Part::Literal(text) => push(out, text)?,
            Part::Var { name, default } => match (lookup(name), default) {
                (Some(value), _) => push(out, value)?,
                (None, Some(default)) => expand_parts(default, lookup, out)?,
                (None, None) => return Err(ExpandError::Unset { name: name.clone() }),
            },
        }
    }
    Ok(())
}

/// What a `${…}` that is not `${NAME}` or `${NAME:-default}` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Syntax {
    /// An error: templates have only the two forms.
    Template,
    /// Bash's own expansion, kept for bash.
    Shell,
}

/// The length of the bash expansion `${…}` at the start of `text`, up to its closing brace
/// (braces nest, quoted ones and escaped ones do not count); `None` when it is not closed.
fn bash_expansion_len(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote = None;
    let mut chars = text.char_indices();
    while let Some((at, c)) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"') | None, '\\') => {
                chars.next();
            }
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '{') => depth += 1,
            (None, '}') => {
                depth -= 1;
                if depth == 0 {
                    return Some(at + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// Parses `text` (at byte `base` of the template) into parts. Inside a default (`open` is the
/// offset of its `${`), stops after the `}` that closes it and returns how many bytes it used.
fn parse_parts(
    text: &str,
    base: usize,
    open: Option<usize>,
    depth: usize,
    syntax: Syntax,
) -> Result<(Vec<Part>, usize), TemplateError> {
    let mut parts = Vec::new();
    let mut literal = String::new();
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        if open.is_some() && rest.starts_with('}') {
            if !literal.is_empty() {
                parts.push(Part::Literal(literal));
            }
            return Ok((parts, i + 1));
        }
        if rest.starts_with("$${") {
            literal.push_str("${");
            i += 3;
        } else if rest.starts_with("${") {
            match parse_reference(text, i, base, depth, syntax)? {
                Reference::Shell(length) => {
                    literal.push_str(&rest[..length]);
                    i += length;
                }
                Reference::Var(var, used) => {
                    if !literal.is_empty() {
                        parts.push(Part::Literal(std::mem::take(&mut literal)));
                    }
                    parts.push(var);
                    i += used;
                }
            }
        } else {
            let c = rest.chars().next().expect("not at the end");
            literal.push(c);
            i += c.len_utf8();
        }
    }
    if let Some(open) = open {
        return Err(unterminated(open));
    }
    if !literal.is_empty() {
        parts.push(Part::Literal(literal));
    }
    Ok((parts, i))
}

/// What a `${` in a template turns out to be.
enum Reference {
    /// A bash expansion left for the shell (in `sh` steps only): its length in bytes.
    Shell(usize),
    /// One of ours, `${NAME}` or `${NAME:-default}`: the part and the bytes it used.
    Var(Part, usize),
}

/// Reads the reference whose `${` is at `text[i..]` (byte `base + i` of the template).
fn parse_reference(
    text: &str,
    i: usize,
    base: usize,
    depth: usize,
    syntax: Syntax,
) -> Result<Reference, TemplateError> {
    let rest = &text[i..];
    let body = &rest[2..];
    let name_len = body
        .find(|c: char| !(c == '_' || c.is_ascii_alphanumeric()))
        .unwrap_or(body.len());
    let name = &body[..name_len];
    let after = &body[name_len..];
    let ours = is_variable_name(name) && (after.starts_with('}') || after.starts_with(":-"));
    if syntax == Syntax::Shell && !ours {
        let length = bash_expansion_len(rest).ok_or_else(|| unterminated(base + i))?;
        return Ok(Reference::Shell(length));
    }
    if !ours {
        return Err(match body.find('}') {
            Some(end) => TemplateError {
                offset: base + i,
                message: format!(
                    "`${{{}}}` is not a variable reference: names are letters, digits and `_`, not starting with a digit",
                    cut(&body[..end])
                ),
            },
            None => unterminated(base + i),
        });
    }
    if after.starts_with('}') {
        let var = Part::Var {
            name: name.to_owned(),
            default: None,
        };
        return Ok(Reference::Var(var, 2 + name_len + 1));
    }
    if depth >= MAX_NESTING {
        return Err(TemplateError {
            offset: base + i,
            message: format!("defaults nest more than {MAX_NESTING} deep: simplify the template"),
        });
    }
    // The default is a template of its own, parsed up to the `}` that closes this reference.
    let start = i + 2 + name_len + 2;
    let (default, used) = parse_parts(
        &text[start..],
        base + start,
        Some(base + i),
        depth + 1,
        syntax,
    )?;
    let var = Part::Var {
        name: name.to_owned(),
        default: Some(default),
    };
    Ok(Reference::Var(var, start + used - i))
}

/// The error for a `${` that is never closed, at byte `offset` of the template.
fn unterminated(offset: usize) -> TemplateError {
    TemplateError {
        offset,
        message: "unterminated `${`: add the closing `}` (or write `$${` for a literal)".into(),
    }
}

/// Text quoted in an error, cut to a readable length.
fn cut(text: &str) -> String {
    const MAX_CHARS: usize = 60;
    match text.char_indices().nth(MAX_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand(source: &str, vars: &[(&'static str, &'static str)]) -> Result<String, ExpandError> {
        let template = Template::parse(source).expect("valid template");
        let vars = vars.to_vec();
        template
            .expand(move |name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| *v))
            .map(Cow::into_owned)
    }

    #[test]
    fn expands_set_variables_and_defaults() {
        assert_eq!(expand("${A}-${B:-dflt}", &[("A", "x")]).unwrap(), "x-dflt");
        assert_eq!(expand("${B:-dflt}", &[("B", "set")]).unwrap(), "set");
        assert_eq!(expand("${B:-}", &[]).unwrap(), "");
    }

    #[test]
    fn leaves_shell_dollars_and_unescapes_double_dollar() {
        assert_eq!(expand("echo $HOME $1 $", &[]).unwrap(), "echo $HOME $1 $");
        assert_eq!(expand("$${A}", &[("A", "x")]).unwrap(), "${A}");
    }

    #[test]
    fn unset_without_default_is_an_error_naming_the_variable() {
        let err = expand("go ${NOPE}", &[]).unwrap_err();
        assert_eq!(
            err,
            ExpandError::Unset {
                name: "NOPE".into()
            }
        );
        assert!(err.to_string().contains("${NOPE:-value}"), "{err}");
    }

    #[test]
    fn malformed_references_report_their_offset() {
        let err = Template::parse("ab ${OPEN").unwrap_err();
        assert_eq!(err.offset, 3);
        let err = Template::parse("x${1A}").unwrap_err();
        assert_eq!(err.offset, 1);
        assert!(
            err.message.contains("not a variable reference"),
            "{}",
            err.message
        );
    }

    /// `${A:-${B}}` expanded to the literal text `${B}`.
    #[test]
    fn nested_defaults_are_expanded() {
        assert_eq!(expand("${A:-${B}}", &[("B", "b")]).unwrap(), "b");
        assert_eq!(expand("${A:-x${B:-${C:-c}}y}", &[]).unwrap(), "xcy");
        assert_eq!(expand("${A:-${B}}", &[("A", "a")]).unwrap(), "a");
        assert_eq!(expand("${A:-$${B}}", &[]).unwrap(), "${B}");
        assert_eq!(expand("${A:-}", &[]).unwrap(), "");
        let err = Template::parse("${A:-${B}").unwrap_err();
        assert_eq!(err.offset, 0);
        assert!(err.message.starts_with("unterminated"), "{}", err.message);
        let deep = format!("{}x{}", "${A:-".repeat(17), "}".repeat(17));
        let err = Template::parse(&deep).unwrap_err();
        assert!(err.message.contains("nest more than 16"), "{}", err.message);
        let deep = "${A:-".repeat(100_000);
        assert!(Template::parse(&deep).is_err());
    }

    fn expand_shell(source: &str, vars: &[(&'static str, &'static str)]) -> String {
        let template = Template::parse_shell(source).expect("valid shell line");
        let vars = vars.to_vec();
        template
            .expand(move |name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| *v))
            .expect("expands")
            .into_owned()
    }

    /// `sh` lines refused bash's own expansions unless written `$${…}`.
    #[test]
    fn shell_lines_keep_bash_expansions_for_bash() {
        let line =
            "echo ${KEY:0:3} ${#KEY} ${P%/*} ${A[@]} ${!R} ${X:=1} ${Y:+y} ${1} ${Z:-${W%%.*}}";
        assert_eq!(
            expand_shell(line, &[("W", "a.b.c")]),
            "echo ${KEY:0:3} ${#KEY} ${P%/*} ${A[@]} ${!R} ${X:=1} ${Y:+y} ${1} ${W%%.*}"
        );
        assert_eq!(
            expand_shell("${K}-${U:-d}-$${K}", &[("K", "k")]),
            "k-d-${K}"
        );
        assert_eq!(
            expand_shell("${P//\\}/x} ${P/'}'/y}", &[]),
            "${P//\\}/x} ${P/'}'/y}"
        );
        let err = Template::parse_shell("echo ${X:0:3").unwrap_err();
        assert_eq!(err.offset, 5);
        assert!(err.message.starts_with("unterminated"), "{}", err.message);
        // Everywhere else the two forms are all there is.
        assert!(Template::parse("${KEY:0:3}").is_err());
    }

    /// A suite `env` table of 41 lines `Vn=${Vn-1}${Vn-1}` ran out of memory.
    #[test]
    fn expansion_stops_at_the_limit() {
        let big = "x".repeat(MAX_EXPANDED_VALUE / 2 + 1);
        let template = Template::parse("${V}${V}").unwrap();
        let err = template
            .expand(|name| (name == "V").then_some(big.as_str()))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "`${V}${V}` expands to more than the limit of 1 MiB"
        );
    }
}
