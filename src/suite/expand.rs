//! `${VAR}` and `${VAR:-default}` templates.
//!
//! Parsed once when a suite is loaded (so a malformed `${` is a load error with a position) and
//! expanded at run time against each step's environment (so `${TEST_DIR}` works). `$${` writes a
//! literal `${`; a lone `$` is left as it is, so `sh` lines keep their own `$VAR` for bash.

use std::borrow::Cow;

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
        default: Option<String>,
    },
}

/// Why a template could not be parsed; `offset` is the byte offset in the source string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TemplateError {
    /// Byte offset of the problem within the template text.
    pub offset: usize,
    /// What is wrong, lowercase.
    pub message: String,
}

/// A reference to a variable that is not set and has no default.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`${{{name}}}` is not set (give it a default with `${{{name}:-value}}`, or write `$${{{name}}}` for a literal)"
)]
pub struct UnsetVariable {
    /// The variable's name.
    pub name: String,
}

impl Template {
    /// Parses `source`.
    pub fn parse(source: &str) -> Result<Self, TemplateError> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut rest = source;
        let mut offset = 0;
        while let Some(pos) = rest.find('$') {
            literal.push_str(&rest[..pos]);
            let after = &rest[pos..];
            if let Some(escaped) = after.strip_prefix("$${") {
                literal.push_str("${");
                rest = escaped;
                offset += pos + 3;
            } else if let Some(body) = after.strip_prefix("${") {
                let Some(end) = body.find('}') else {
                    return Err(TemplateError {
                        offset: offset + pos,
                        message:
                            "unterminated `${`: add the closing `}` (or write `$${` for a literal)"
                                .into(),
                    });
                };
                let inner = &body[..end];
                let (name, default) = match inner.split_once(":-") {
                    Some((name, default)) => (name, Some(default.to_owned())),
                    None => (inner, None),
                };
                if !is_variable_name(name) {
                    return Err(TemplateError {
                        offset: offset + pos,
                        message: format!(
                            "`${{{inner}}}` is not a variable reference: names are letters, digits and `_`, not starting with a digit"
                        ),
                    });
                }
                if !literal.is_empty() {
                    parts.push(Part::Literal(std::mem::take(&mut literal)));
                }
                parts.push(Part::Var {
                    name: name.to_owned(),
                    default,
                });
                rest = &body[end + 1..];
                offset += pos + 2 + end + 1;
            } else {
                literal.push('$');
                rest = &after[1..];
                offset += pos + 1;
            }
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            parts.push(Part::Literal(literal));
        }
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

    /// Expands references with `lookup`; an unset variable without a default is an error.
    pub fn expand<'a, F>(&'a self, lookup: F) -> Result<Cow<'a, str>, UnsetVariable>
    where
        F: Fn(&str) -> Option<&'a str>,
    {
        match self.parts.as_slice() {
            [] => return Ok(Cow::Borrowed("")),
            [Part::Literal(text)] => return Ok(Cow::Borrowed(text)),
            _ => {}
        }
        let mut out = String::with_capacity(self.source.len());
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Var { name, default } => match (lookup(name), default) {
                    (Some(value), _) => out.push_str(value),
                    (None, Some(default)) => out.push_str(default),
                    (None, None) => return Err(UnsetVariable { name: name.clone() }),
                },
            }
        }
        Ok(Cow::Owned(out))
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

    fn expand(
        source: &str,
        vars: &[(&'static str, &'static str)],
    ) -> Result<String, UnsetVariable> {
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
        assert_eq!(err.name, "NOPE");
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
}
