//! Filter expressions (`-E 'tag(slow) and not suite(git)'`), following nextest's filtersets.
//!
//! Predicates: `test(m)` (the test name, `suite::section::step`), `suite(m)` (the suite's name
//! or its slug), `tag(m)` (any of the step's tags, its suite's included), `file(m)` (the suite
//! file as given), `all()`, `none()`. Operators, from tightest to loosest: `not`/`!`, then
//! `and`/`&`/`-` (`a - b` is `a and not b`), then `or`/`|`/`+`, left to right; parentheses
//! group. Matchers: `=text` equal, `~text` contains, `#glob` the whole name matches the glob,
//! `/regex/` a part matches the regex; with no prefix, `test()` means contains and the others
//! glob. Escapes in matchers: `\)`, `\,`, `\\`, `\/`, `\n`, `\r`, `\t`, `\u{…}`.
//!
//! Parsing only: [`Selection`](super::Selection) applies the expressions with the libtest
//! filters. A bad expression is a [`FilterError`] that points at the character with a caret.

use std::fmt;
use std::ops::Range;

use globset::{Glob, GlobMatcher};
use regex::Regex;

use crate::suite::{Step, Suite};

/// A parsed filter expression.
#[derive(Debug, Clone)]
pub struct Filterset {
    text: String,
    root: Expr,
}

#[derive(Debug, Clone)]
enum Expr {
    All,
    None,
    Test(Matcher),
    Suite(Matcher),
    Tag(Matcher),
    File(Matcher),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
}

#[derive(Debug, Clone)]
enum Matcher {
    Equal(String),
    Contains(String),
    Glob(GlobMatcher),
    Regex(Regex),
}

impl Matcher {
    fn matches(&self, name: &str) -> bool {
        match self {
            Self::Equal(text) => name == text,
            Self::Contains(text) => name.contains(text.as_str()),
            Self::Glob(glob) => glob.is_match(name),
            Self::Regex(regex) => regex.is_match(name),
        }
    }
}

impl Filterset {
    /// Parses `text`.
    pub fn parse(text: &str) -> Result<Self, FilterError> {
        let mut parser = Parser { text, at: 0 };
        let root = parser.or_expr()?;
        parser.skip_spaces();
        if parser.at < text.len() {
            return Err(parser.error(
                parser.at..parser.at + parser.peek_len(),
                "expected `and`, `or` or the end of the expression",
            ));
        }
        Ok(Self {
            text: text.to_owned(),
            root,
        })
    }

    /// The expression as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether `step` of `suite` is in the set.
    pub fn matches(&self, suite: &Suite, step: &Step) -> bool {
        eval(&self.root, suite, step)
    }
}

fn eval(expr: &Expr, suite: &Suite, step: &Step) -> bool {
    match expr {
        Expr::All => true,
        Expr::None => false,
        Expr::Test(m) => m.matches(&step.test_name),
        Expr::Suite(m) => m.matches(&suite.name) || m.matches(&suite.slug),
        Expr::Tag(m) => step.tags.iter().any(|tag| m.matches(tag)),
        Expr::File(m) => (suite.source.as_ref()).is_some_and(|f| m.matches(&f.to_string_lossy())),
        Expr::Not(inner) => !eval(inner, suite, step),
        Expr::And(a, b) => eval(a, suite, step) && eval(b, suite, step),
        Expr::Or(a, b) => eval(a, suite, step) || eval(b, suite, step),
    }
}

/// A filter expression that cannot be parsed: where, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    /// The expression.
    pub text: String,
    /// The bytes at fault.
    pub span: Range<usize>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for FilterError {
    /// `error: …` is the caller's; this is the message, the expression and a caret under the
    /// fault, and a hint.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let line: String = (self.text.chars())
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let start = self.text[..self.span.start].chars().count();
        let width = self.text[self.span.clone()].chars().count().max(1);
        writeln!(f, "invalid filter expression: {}", self.message)?;
        writeln!(f, "  |")?;
        writeln!(f, "  | {line}")?;
        writeln!(f, "  | {}{}", " ".repeat(start), "^".repeat(width))?;
        write!(
            f,
            "  = help: predicates are test(), suite(), tag(), file(), all(), none(); combine them \
             with and, or, not, -, and parentheses; matchers are =exact, ~contains, #glob, /regex/"
        )
    }
}

impl std::error::Error for FilterError {}

struct Parser<'t> {
    text: &'t str,
    at: usize,
}

impl Parser<'_> {
    fn error(&self, span: Range<usize>, message: impl Into<String>) -> FilterError {
        FilterError {
            text: self.text.to_owned(),
            span,
            message: message.into(),
        }
    }

    fn rest(&self) -> &str {
        &self.text[self.at..]
    }

    fn peek_len(&self) -> usize {
        self.rest().chars().next().map_or(0, char::len_utf8)
    }

    fn skip_spaces(&mut self) {
        let rest = self.rest();
        self.at += rest.len() - rest.trim_start().len();
    }

    /// The word (letters, digits, `_`) at the cursor, not consumed.
    fn word(&self) -> &str {
        let rest = self.rest();
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        &rest[..end]
    }

    /// Consumes one of `symbols` or `words` (a word must end there), returning whether it did.
    fn eat(&mut self, symbols: &[char], words: &[&str]) -> bool {
        self.skip_spaces();
        if let Some(c) = self.rest().chars().next()
            && symbols.contains(&c)
        {
            self.at += c.len_utf8();
            return true;
        }
        let word = self.word();
        let after = &self.text[self.at + word.len()..];
        if words.contains(&word)
            && (after.is_empty()
                || after.starts_with(char::is_whitespace)
                || after.starts_with(['(', '!']))
        {
            self.at += word.len();
            return true;
        }
        false
    }

    fn or_expr(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.and_expr()?;
        while self.eat(&['|', '+'], &["or"]) {
            left = Expr::Or(Box::new(left), Box::new(self.and_expr()?));
        }
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.unary()?;
        loop {
            if self.eat(&['&'], &["and"]) {
                left = Expr::And(Box::new(left), Box::new(self.unary()?));
            } else if self.eat(&['-'], &[]) {
                let right = Expr::Not(Box::new(self.unary()?));
                left = Expr::And(Box::new(left), Box::new(right));
            } else {
                return Ok(left);
            }
        }
    }

    fn unary(&mut self) -> Result<Expr, FilterError> {
        if self.eat(&['!'], &["not"]) {
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, FilterError> {
        self.skip_spaces();
        let start = self.at;
        if self.rest().starts_with('(') {
            self.at += 1;
            let inner = self.or_expr()?;
            self.skip_spaces();
            if !self.rest().starts_with(')') {
                return Err(self.error(
                    self.at..self.at + self.peek_len(),
                    format!(
                        "expected `)` to close the `(` at column {}",
                        self.text[..start].chars().count() + 1
                    ),
                ));
            }
            self.at += 1;
            return Ok(inner);
        }
        let name = self.word().to_owned();
        let known = ["all", "none", "test", "suite", "tag", "file"];
        if !known.contains(&name.as_str()) {
            let span = start..start + name.len().max(self.peek_len());
            let found = if name.is_empty() {
                self.rest()
                    .chars()
                    .next()
                    .map_or("the end".to_owned(), |c| format!("`{c}`"))
            } else {
                format!("`{name}`")
            };
            return Err(self.error(
                span,
                format!("expected a predicate such as `test(…)` or `tag(…)`, found {found}"),
            ));
        }
        self.at += name.len();
        if !self.rest().starts_with('(') {
            return Err(self.error(
                self.at..self.at + self.peek_len(),
                format!("expected `(` after `{name}`"),
            ));
        }
        self.at += 1;
        let (raw, span) = self.matcher_text(&name)?;
        let contains_by_default = name == "test";
        let matcher = || self.matcher(&raw, span.clone(), contains_by_default);
        Ok(match name.as_str() {
            "all" | "none" if !matcher_is_empty(&raw) => {
                return Err(self.error(span, format!("`{name}()` takes no matcher")));
            }
            "all" => Expr::All,
            "none" => Expr::None,
            "test" => Expr::Test(matcher()?),
            "suite" => Expr::Suite(matcher()?),
            "tag" => Expr::Tag(matcher()?),
            _ => Expr::File(matcher()?),
        })
    }

    /// The raw matcher up to its closing `)` (consumed), escapes resolved except in a regex,
    /// with its span.
    fn matcher_text(&mut self, name: &str) -> Result<(RawMatcher, Range<usize>), FilterError> {
        self.skip_spaces();
        let start = self.at;
        if self.rest().starts_with('/') {
            return self.regex_text(name);
        }
        let mut text = String::new();
        let mut chars = self.rest().char_indices();
        while let Some((offset, c)) = chars.next() {
            match c {
                ')' => {
                    let end = start + offset;
                    self.at = end + 1;
                    let trimmed = text.trim_end().to_owned();
                    return Ok((RawMatcher::Text(trimmed), start..end));
                }
                '\\' => {
                    let at = start + offset;
                    text.push(self.escape(&mut chars, at)?);
                }
                c => text.push(c),
            }
        }
        Err(self.error(
            self.text.len()..self.text.len(),
            format!("expected `)` to close `{name}(`"),
        ))
    }

    fn regex_text(&mut self, name: &str) -> Result<(RawMatcher, Range<usize>), FilterError> {
        let start = self.at;
        let body = &self.text[start + 1..];
        let mut pattern = String::new();
        let mut chars = body.char_indices();
        while let Some((offset, c)) = chars.next() {
            match c {
                '/' => {
                    self.at = start + 1 + offset + 1;
                    let span = start..self.at;
                    self.skip_spaces();
                    if !self.rest().starts_with(')') {
                        return Err(self.error(
                            self.at..self.at + self.peek_len(),
                            format!("expected `)` after the regex of `{name}(`"),
                        ));
                    }
                    self.at += 1;
                    return Ok((RawMatcher::Regex(pattern), span));
                }
                '\\' => match chars.next() {
                    Some((_, '/')) => pattern.push('/'),
                    Some((_, other)) => {
                        pattern.push('\\');
                        pattern.push(other);
                    }
                    None => pattern.push('\\'),
                },
                c => pattern.push(c),
            }
        }
        Err(self.error(start..self.text.len(), "the regex has no closing `/`"))
    }

    fn escape(
        &self,
        chars: &mut std::str::CharIndices<'_>,
        at: usize,
    ) -> Result<char, FilterError> {
        let bad = |len: usize| {
            self.error(at..at + len, "unknown escape: write `\\)`, `\\,`, `\\\\`, `\\/`, `\\n`, `\\r`, `\\t` or `\\u{…}`")
        };
        let Some((_, c)) = chars.next() else {
            return Err(bad(1));
        };
        Ok(match c {
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            '\\' | '/' | ')' | ',' => c,
            'u' => {
                let rest = chars.as_str();
                let code = rest
                    .strip_prefix('{')
                    .and_then(|r| r.split_once('}'))
                    .filter(|(hex, _)| (1..=6).contains(&hex.len()))
                    .and_then(|(hex, _)| u32::from_str_radix(hex, 16).ok())
                    .and_then(char::from_u32);
                let Some(code) = code else {
                    return Err(bad(2));
                };
                let used = rest.find('}').map_or(0, |i| i + 1);
                for _ in 0..rest[..used].chars().count() {
                    chars.next();
                }
                code
            }
            other => return Err(bad(1 + other.len_utf8())),
        })
    }

    fn matcher(
        &self,
        raw: &RawMatcher,
        span: Range<usize>,
        contains_by_default: bool,
    ) -> Result<Matcher, FilterError> {
        let text = match raw {
            RawMatcher::Regex(pattern) => {
                return Regex::new(pattern).map(Matcher::Regex).map_err(|error| {
                    let detail = error.to_string();
                    let last = detail.lines().last().unwrap_or("").trim();
                    let last = last.trim_start_matches("error: ").to_owned();
                    self.error(span, format!("invalid regex: {last}"))
                });
            }
            RawMatcher::Text(text) => text,
        };
        let glob = |pattern: &str| {
            Glob::new(pattern)
                .map(|glob| Matcher::Glob(glob.compile_matcher()))
                .map_err(|error| {
                    self.error(span.clone(), format!("invalid glob: {}", error.kind()))
                })
        };
        let matcher = if let Some(exact) = text.strip_prefix('=') {
            Matcher::Equal(exact.to_owned())
        } else if let Some(part) = text.strip_prefix('~') {
            Matcher::Contains(part.to_owned())
        } else if let Some(pattern) = text.strip_prefix('#') {
            glob(pattern)?
        } else if contains_by_default {
            Matcher::Contains(text.clone())
        } else {
            glob(text)?
        };
        if text.trim_start_matches(['=', '~', '#']).is_empty() {
            return Err(self.error(span, "empty matcher: write the name to match, or use all()"));
        }
        Ok(matcher)
    }
}

enum RawMatcher {
    Text(String),
    Regex(String),
}

fn matcher_is_empty(raw: &RawMatcher) -> bool {
    matches!(raw, RawMatcher::Text(text) if text.is_empty())
}

#[cfg(test)]
mod tests;
