//! Shell words of one command line, and their conversion to suite templates.
//!
//! A word keeps which parts were quoted how: single-quoted text and backslash escapes are
//! literal; unquoted and double-quoted text still holds `$NAME`, `${NAME}` and `$(…)` for the
//! shell to expand. Templates (`${NAME}`) are what suites expand, so converting a word means
//! rewriting its expandable references as templates and protecting literal `${` as `$${`.

/// A piece of a word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Part {
    /// Text the shell takes as is (single quotes, backslash escapes).
    Literal(String),
    /// Text the shell expands (`$NAME`, `$(…)`): unquoted or in double quotes.
    Expandable(String),
}

/// One shell word.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Word {
    pub(crate) parts: Vec<Part>,
}

/// A token of a command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Token {
    Word(Word),
    /// `|`, `||`, `&&`, `;`, `&`, `<<<`, `<`, `>`, `>>`, `2>&1`…
    Op(String),
}

/// Why a piece of shell cannot become a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NotTemplate(pub(crate) String);

impl Word {
    /// The word as the shell's quote removal leaves it, before expansion: what `eval` sees when
    /// the word is a command string given to a helper.
    pub(crate) fn eval_text(&self) -> String {
        self.parts
            .iter()
            .map(|p| match p {
                Part::Literal(t) | Part::Expandable(t) => t.as_str(),
            })
            .collect()
    }

    /// [`Word::eval_text`] with the `$` of the word's own expandable parts replaced by
    /// [`OUTER`]: those references are expanded before `eval` sees the text, even where the
    /// text then puts them in single quotes (`"tell '$PROMPT'"`).
    pub(crate) fn eval_text_marked(&self) -> String {
        self.parts
            .iter()
            .map(|p| match p {
                Part::Literal(t) => t.clone(),
                Part::Expandable(t) => t.replace('$', &OUTER.to_string()),
            })
            .collect()
    }

    /// The word as a template: expandable references become `${NAME}`.
    pub(crate) fn template(&self) -> Result<String, NotTemplate> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.push_str(&protect(text)),
                Part::Expandable(text) => out.push_str(&expandable_to_template(text)?),
            }
        }
        Ok(out)
    }

    /// The word when it is plain text with no expansion at all.
    pub(crate) fn plain(&self) -> Option<String> {
        let text = self.eval_text();
        let expands = self
            .parts
            .iter()
            .any(|p| matches!(p, Part::Expandable(t) if t.contains(['$', '`'])));
        (!expands).then_some(text)
    }

    /// `NAME=VALUE`: the name and the value's parts.
    pub(crate) fn assignment(&self) -> Option<(String, Word)> {
        let Some(Part::Expandable(first)) = self.parts.first() else {
            return None;
        };
        let (name, rest) = first.split_once('=')?;
        if !is_name(name) {
            return None;
        }
        let mut value = Word::default();
        if !rest.is_empty() {
            value.parts.push(Part::Expandable(rest.to_owned()));
        }
        value.parts.extend(self.parts[1..].iter().cloned());
        Some((name.to_owned(), value))
    }
}

/// `NAME` is a shell variable name.
pub(crate) fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Literal text inside a template: `${` must not start a reference.
pub(crate) fn protect(text: &str) -> String {
    text.replace("${", "$${")
}

/// Shell text with `$` references as a template, refusing what a template cannot say.
pub(crate) fn expandable_to_template(text: &str) -> Result<String, NotTemplate> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(['$', '`']) {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if tail.starts_with('`') || tail.starts_with("$(") {
            return Err(NotTemplate("command substitution".to_owned()));
        }
        let after = &tail[1..];
        if let Some(inner) = after.strip_prefix('{') {
            let end = inner
                .find('}')
                .ok_or_else(|| NotTemplate("unclosed `${`".to_owned()))?;
            let body = &inner[..end];
            let (name, default) = match body.split_once(":-") {
                Some((name, default)) => (name, Some(default)),
                None => (body, None),
            };
            if !is_name(name) || default.is_some_and(|d| d.contains(['$', '`', '{'])) {
                return Err(NotTemplate(format!(
                    "`${{{body}}}` is not a plain variable"
                )));
            }
            out.push_str("${");
            out.push_str(body);
            out.push('}');
            rest = &inner[end + 1..];
            continue;
        }
        let name_len = after
            .char_indices()
            .find(|(i, c)| {
                !(c.is_ascii_alphanumeric() || *c == '_') || (*i == 0 && c.is_ascii_digit())
            })
            .map_or(after.len(), |(i, _)| i);
        if name_len == 0 {
            match after.chars().next() {
                None => out.push('$'),
                Some(c) if c.is_ascii_digit() || "@*#?$!-".contains(c) => {
                    return Err(NotTemplate(format!("`${c}` is a shell special variable")));
                }
                Some(_) => out.push('$'),
            }
            rest = after;
            continue;
        }
        out.push_str("${");
        out.push_str(&after[..name_len]);
        out.push('}');
        rest = &after[name_len..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Splits one command line into words and operators, shell-style. A `#` starting a word
/// begins a comment, returned apart. Fails on an unclosed quote.
pub(crate) fn tokenize(line: &str) -> Result<(Vec<Token>, Option<String>), NotTemplate> {
    let chars: Vec<char> = line.chars().collect();
    let mut out = Tokens::default();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' | '\n' => {
                out.flush();
                i += 1;
            }
            '#' if !out.in_word => {
                out.flush();
                let comment: String = chars[i + 1..].iter().collect();
                return Ok((out.tokens, Some(comment.trim().to_owned())));
            }
            '|' | '&' | ';' | '<' | '>' => i = out.operator(&chars, i),
            '\'' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|&c| c == '\'')
                    .ok_or_else(|| NotTemplate("unclosed single quote".to_owned()))?;
                out.push(Part::Literal(chars[i + 1..i + 1 + end].iter().collect()));
                i += end + 2;
            }
            '"' => {
                i = double_quoted(&chars, i, &mut out.word)?;
                out.in_word = true;
            }
            '\\' => {
                // A backslash quotes the next character; before a newline it joins the lines.
                match chars.get(i + 1) {
                    Some('\n') | None => {}
                    Some(&next) => out.push(Part::Literal(next.to_string())),
                }
                i += 2;
            }
            '$' | '`' if c == '`' || matches!(chars.get(i + 1), Some('(' | '{')) => {
                // Substitutions and `${…}` stay whole: the shell expands them when the step runs.
                let end = expansion_end(&chars, i)?;
                out.push(Part::Expandable(chars[i..end].iter().collect()));
                i = end;
            }
            _ => {
                out.push(Part::Expandable(c.to_string()));
                i += 1;
            }
        }
    }
    out.flush();
    Ok((out.tokens, None))
}

/// The tokens of a line so far, and the word being read.
#[derive(Default)]
struct Tokens {
    tokens: Vec<Token>,
    word: Word,
    in_word: bool,
}

impl Tokens {
    /// Ends the word being read, if any.
    fn flush(&mut self) {
        if self.in_word {
            self.tokens
                .push(Token::Word(std::mem::take(&mut self.word)));
            self.in_word = false;
        }
    }

    /// Adds a part to the word being read.
    fn push(&mut self, part: Part) {
        push(&mut self.word, part);
        self.in_word = true;
    }

    /// The operator at `chars[at]` (`|`, `&&`, `;`, `>`…); a digit word glued to a
    /// redirection (`2>&1`, `2>`) is part of it. Returns where reading goes on.
    fn operator(&mut self, chars: &[char], at: usize) -> usize {
        let mut op = String::new();
        let glued_digits = self.in_word
            && matches!(chars[at], '>' | '<')
            && self.word.parts.len() == 1
            && matches!(&self.word.parts[0], Part::Expandable(t) if t.chars().all(|d| d.is_ascii_digit()));
        if glued_digits {
            op.push_str(&self.word.eval_text());
            self.word = Word::default();
            self.in_word = false;
        }
        self.flush();
        let next = operator(chars, at, &mut op);
        self.tokens.push(Token::Op(op));
        next
    }
}

/// Index just past the `$(…)`, `${…}` or `` `…` `` starting at `chars[start]`.
fn expansion_end(chars: &[char], start: usize) -> Result<usize, NotTemplate> {
    if chars[start] == '`' {
        return chars[start + 1..]
            .iter()
            .position(|&c| c == '`')
            .map(|p| start + p + 2)
            .ok_or_else(|| NotTemplate("unclosed backquote".to_owned()));
    }
    if chars.get(start + 1) == Some(&'(') {
        return substitution_end(chars, start + 1);
    }
    chars[start..]
        .iter()
        .position(|&c| c == '}')
        .map(|p| start + p + 1)
        .ok_or_else(|| NotTemplate("unclosed `${`".to_owned()))
}

/// Reads the operator starting at `chars[start]` onto `op` (which may hold a file-descriptor
/// number already): up to three of `|&<>`, and the digit of a `>&N` or `<&N` duplication.
/// Returns the index just past it.
fn operator(chars: &[char], start: usize, op: &mut String) -> usize {
    op.push(chars[start]);
    let mut i = start + 1;
    while i < chars.len() && "|&<>".contains(chars[i]) && op.len() < 3 {
        op.push(chars[i]);
        i += 1;
    }
    if (op.ends_with(">&") || op.ends_with("<&")) && i < chars.len() && chars[i].is_ascii_digit() {
        op.push(chars[i]);
        i += 1;
    }
    i
}

/// Reads the double-quoted string opening at `chars[open]` into `word`: its text stays
/// expandable, except a `\$` that bash leaves literal. Returns the index past the closing quote.
fn double_quoted(chars: &[char], open: usize, word: &mut Word) -> Result<usize, NotTemplate> {
    let mut i = open + 1;
    let mut text = String::new();
    loop {
        let Some(&c) = chars.get(i) else {
            return Err(NotTemplate("unclosed double quote".to_owned()));
        };
        match c {
            '"' => break,
            '\\' if matches!(chars.get(i + 1), Some('"' | '\\' | '`')) => {
                text.push(chars[i + 1]);
                i += 2;
            }
            '\\' if chars.get(i + 1) == Some(&'$') => {
                push(word, Part::Expandable(std::mem::take(&mut text)));
                push(word, Part::Literal("$".to_owned()));
                i += 2;
            }
            '$' if chars.get(i + 1) == Some(&'(') => {
                let end = substitution_end(chars, i + 1)?;
                text.extend(&chars[i..end]);
                i = end;
            }
            _ => {
                text.push(c);
                i += 1;
            }
        }
    }
    push(word, Part::Expandable(text));
    Ok(i + 1)
}

/// Index just past the `)` closing the `(` at `open`, minding nesting and quotes.
fn substitution_end(chars: &[char], open: usize) -> Result<usize, NotTemplate> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut i = open;
    while i < chars.len() {
        let c = chars[i];
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') => i += 1,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '\\') => i += 1,
            (None, '(') => depth += 1,
            (None, ')') => {
                depth -= 1;
                if depth == 0 {
                    return Ok(i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
    Err(NotTemplate("unclosed `$(`".to_owned()))
}

/// Appends a part, merging with the previous one of the same kind.
fn push(word: &mut Word, part: Part) {
    match (word.parts.last_mut(), &part) {
        (Some(Part::Literal(a)), Part::Literal(b))
        | (Some(Part::Expandable(a)), Part::Expandable(b)) => a.push_str(b),
        _ => word.parts.push(part),
    }
}

/// Marks a `$` the calling shell expands (see [`Word::eval_text_marked`]).
pub(crate) const OUTER: char = '\u{E000}';

/// Reads the reference after an [`OUTER`] `$` as a template.
fn outer_reference(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
) -> Result<String, NotTemplate> {
    let mut text = String::from("$");
    match chars.peek() {
        Some('{') => {
            for c in chars.by_ref() {
                text.push(c);
                if c == '}' {
                    break;
                }
            }
        }
        Some('(') | Some('`') => return Err(NotTemplate("command substitution".to_owned())),
        _ => {
            while let Some(&c) = chars.peek() {
                if !(c.is_ascii_alphanumeric() || c == '_') {
                    break;
                }
                text.push(c);
                chars.next();
            }
        }
    }
    expandable_to_template(&text)
}

/// A command string that a helper runs with `eval` (`run_plandex_cmd "tell '…'" …`), as a
/// `run` line: references outside single quotes become templates, `${` inside them is
/// protected. Refuses pipelines, redirections, command substitution and unbalanced quotes.
pub(crate) fn eval_text_to_run(text: &str) -> Result<String, NotTemplate> {
    let mut out = String::new();
    let mut quote: Option<char> = None;
    let mut chunk = String::new();
    let flush = |chunk: &mut String, out: &mut String| -> Result<(), NotTemplate> {
        out.push_str(&expandable_to_template(&chunk.replace(OUTER, "$"))?);
        chunk.clear();
        Ok(())
    };
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some('\''), OUTER) => out.push_str(&outer_reference(&mut chars)?),
            (Some('\''), '\'') => {
                quote = None;
                out.push(c);
            }
            (Some('\''), _) => {
                out.push(c);
                if c == '$' && chars.peek() == Some(&'{') {
                    out.push('$');
                }
            }
            (None, '\'') => {
                flush(&mut chunk, &mut out)?;
                quote = Some('\'');
                out.push(c);
            }
            (None, '"') | (Some('"'), '"') => {
                quote = if quote.is_some() { None } else { Some('"') };
                chunk.push(c);
            }
            (None, '|' | '&' | ';' | '<' | '>' | '\n') => {
                return Err(NotTemplate("a pipeline or redirection".to_owned()));
            }
            (_, '\\') => {
                chunk.push(c);
                if let Some(next) = chars.next() {
                    chunk.push(next);
                }
            }
            _ => chunk.push(c),
        }
    }
    if quote.is_some() {
        return Err(NotTemplate("unbalanced quotes".to_owned()));
    }
    flush(&mut chunk, &mut out)?;
    shell_words::split(&out).map_err(|_| NotTemplate("unbalanced quotes".to_owned()))?;
    Ok(out.trim().to_owned())
}

/// Quotes one template argument for a `run` line (single quotes when needed).
pub(crate) fn quote_arg(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=,+@%^${}*".contains(c));
    if plain && !arg.starts_with('#') {
        arg.to_owned()
    } else if !arg.contains('\'') {
        format!("'{arg}'")
    } else {
        format!("\"{}\"", arg.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<Word> {
        tokenize(line)
            .unwrap()
            .0
            .into_iter()
            .filter_map(|t| match t {
                Token::Word(w) => Some(w),
                Token::Op(_) => None,
            })
            .collect()
    }

    #[test]
    fn operators_take_a_duplicated_descriptor_and_stop_at_three_characters() {
        let chars: Vec<char> = "2>&1 x".chars().collect();
        let mut op = "2".to_owned();
        assert_eq!(operator(&chars, 1, &mut op), 4);
        assert_eq!(op, "2>&1");
        let chars: Vec<char> = "a ||&& b".chars().collect();
        let mut op = String::new();
        assert_eq!(operator(&chars, 2, &mut op), 5);
        assert_eq!(op, "||&");
    }

    #[test]
    fn expansions_end_past_their_closer_or_fail_unclosed() {
        let chars: Vec<char> = "$(a (b)) ${X} `c` $(d".chars().collect();
        assert_eq!(expansion_end(&chars, 0), Ok(8));
        assert_eq!(expansion_end(&chars, 9), Ok(13));
        assert_eq!(expansion_end(&chars, 14), Ok(17));
        assert!(expansion_end(&chars, 18).is_err());
    }

    #[test]
    fn quoted_parts_keep_their_kind() {
        let w = words(r#"run "tell '$X'" 'lit $Y' a\ b"#);
        assert_eq!(w[1].eval_text(), "tell '$X'");
        assert_eq!(w[1].template().unwrap(), "tell '${X}'");
        assert_eq!(w[2].template().unwrap(), "lit $Y");
        assert_eq!(w[3].eval_text(), "a b");
    }

    #[test]
    fn operators_and_comments_are_tokens() {
        let (tokens, comment) = tokenize("echo y | cmd dp --all 2>&1 || true # tidy").unwrap();
        let ops: Vec<_> = tokens
            .iter()
            .filter_map(|t| match t {
                Token::Op(o) => Some(o.as_str()),
                Token::Word(_) => None,
            })
            .collect();
        assert_eq!(ops, ["|", "2>&1", "||"]);
        assert_eq!(comment.as_deref(), Some("tidy"));
    }

    #[test]
    fn substitutions_stay_one_word() {
        let w = words(r#"X=$(plandex plans | grep -c "a b")"#);
        assert_eq!(w.len(), 1);
        let (name, value) = w[0].assignment().unwrap();
        assert_eq!(name, "X");
        assert!(value.template().is_err());
    }

    #[test]
    fn eval_text_becomes_a_run_line() {
        assert_eq!(
            eval_text_to_run("tell \"$P\" --no-build").unwrap(),
            "tell \"${P}\" --no-build"
        );
        assert_eq!(
            eval_text_to_run("load -n '${NOTE}'").unwrap(),
            "load -n '$${NOTE}'"
        );
        assert!(eval_text_to_run("plans | grep x").is_err());
        assert!(eval_text_to_run("tell $(cat f)").is_err());
        assert!(eval_text_to_run("tell 'open").is_err());
        // `"tell '$P'"`: the caller's shell expands $P before eval sees the quotes.
        let marked = words(r#"run "tell '$P' '$Q'$R""#)[1].eval_text_marked();
        assert_eq!(eval_text_to_run(&marked).unwrap(), "tell '${P}' '${Q}'${R}");
        // A `$` the caller quoted is eval's to expand, except in eval's own single quotes.
        let quoted = Word {
            parts: vec![
                Part::Expandable("tell '".to_owned()),
                Part::Literal("$P".to_owned()),
                Part::Expandable("' $Q".to_owned()),
                Part::Literal(" $R".to_owned()),
            ],
        };
        assert_eq!(
            eval_text_to_run(&quoted.eval_text_marked()).unwrap(),
            "tell '$P' ${Q} ${R}"
        );
    }

    #[test]
    fn special_variables_are_not_templates() {
        assert!(expandable_to_template("/tmp/x-$$").is_err());
        assert!(expandable_to_template("$1").is_err());
        assert!(expandable_to_template("${#X}").is_err());
        assert_eq!(
            expandable_to_template("$A-${B:-c} $").unwrap(),
            "${A}-${B:-c} $"
        );
    }
}
