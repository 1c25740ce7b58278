//! A bash script as a list of statements: comments, simple command lines, here-documents,
//! compound blocks (`if`, loops, `case`, `{ … }`) and function definitions, each with its lines.
//!
//! This is not a bash parser. It finds where statements start and end (continuation lines,
//! open quotes, here-document bodies, keyword nesting), which is all the translation needs:
//! what it cannot translate is kept as the statement's original lines.

/// One statement of the script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Statement {
    /// First line, from 1.
    pub(crate) line: usize,
    /// The statement's lines as written, joined with `\n`.
    pub(crate) text: String,
    pub(crate) kind: Kind,
}

/// What a statement is, as far as splitting can tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A `#` comment line (text after `#`, trimmed).
    Comment(String),
    /// An empty line.
    Blank,
    /// One command line (continuations joined).
    Simple,
    /// A command with a here-document.
    HereDoc,
    /// `if`, `for`, `while`, `until`, `case`, `{ … }`, `( … )`.
    Block,
    /// `name() { … }`: the name and the body's text.
    Function {
        name: String,
        body: String,
        body_line: usize,
    },
}

/// Splits `source` into statements.
/// `name()`, `function name`, `function name()` alone: a function whose body follows.
fn is_function_header(text: &str) -> bool {
    let text = text.trim();
    let (rest, keyword) = match text.strip_prefix("function ") {
        Some(rest) => (rest.trim(), true),
        None => (text, false),
    };
    let (name, parens) = match rest.split_once('(') {
        Some((name, after)) => (name.trim_end(), after.trim() == ")"),
        None => (rest, false),
    };
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_:.-".contains(c))
        && !name.starts_with('-');
    valid && (parens || keyword)
}

pub(crate) fn statements(source: &str, first_line: usize) -> Vec<Statement> {
    let lines: Vec<&str> = source.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line_no = first_line + i;
        let trimmed = lines[i].trim();
        if trimmed.is_empty() {
            out.push(Statement {
                line: line_no,
                text: String::new(),
                kind: Kind::Blank,
            });
            i += 1;
            continue;
        }
        if let Some(comment) = trimmed.strip_prefix('#') {
            out.push(Statement {
                line: line_no,
                text: lines[i].to_owned(),
                kind: Kind::Comment(comment.trim().to_owned()),
            });
            i += 1;
            continue;
        }
        let start = i;
        let mut scan = Scan::default();
        let mut heredoc = false;
        loop {
            let pending = scan.line(lines[i]);
            i += 1;
            for (delimiter, strip_tabs) in pending {
                heredoc = true;
                while i < lines.len() {
                    let body = if strip_tabs {
                        lines[i].trim_start_matches('\t')
                    } else {
                        lines[i]
                    };
                    i += 1;
                    if body == delimiter {
                        break;
                    }
                }
            }
            let open = scan.quote.is_some() || scan.depth > 0 || scan.continued;
            // `name()` with its body's brace on the next line (`name()\n{`).
            let header = !open
                && i < lines.len()
                && lines[i].trim_start().starts_with(['{', '('])
                && is_function_header(&lines[start..i].join("\n"));
            if (!open && !header) || i >= lines.len() {
                break;
            }
        }
        let text = lines[start..i].join("\n");
        let kind = if let Some((name, body, offset)) = function_definition(&text) {
            Kind::Function {
                name,
                body,
                body_line: first_line + start + offset,
            }
        } else if scan.block_start {
            Kind::Block
        } else if heredoc {
            Kind::HereDoc
        } else {
            Kind::Simple
        };
        out.push(Statement {
            line: first_line + start,
            text,
            kind,
        });
    }
    out
}

/// Scanner state carried across the lines of one statement.
#[derive(Default)]
struct Scan {
    quote: Option<char>,
    depth: i32,
    continued: bool,
    /// The statement starts with a compound keyword.
    block_start: bool,
    words_seen: bool,
    /// The last word was `function`.
    after_function: bool,
    /// What each open level is: `true` for a parenthesis, so that a `)` right after a word
    /// (`(eval $1 <<< ${3:-})`) closes it, while in a `case` it ends a pattern.
    open: Vec<bool>,
}

const OPENERS: &[&str] = &["if", "case", "for", "while", "until", "{", "("];
const CLOSERS: &[&str] = &["fi", "esac", "done", "}"];
/// Words after which a command starts.
const LEADERS: &[&str] = &[
    "then", "do", "else", "elif", "if", "while", "until", "!", "{", "(",
];

impl Scan {
    /// Scans one line; returns the here-documents it opens (delimiter, strip tabs).
    fn line(&mut self, line: &str) -> Vec<(String, bool)> {
        let chars: Vec<char> = line.chars().collect();
        let mut heredocs = Vec::new();
        let mut command_position = self.quote.is_none() && !self.continued;
        self.continued = false;
        // Only word boundaries and keywords matter here, so every quoted or escaped character
        // stands as an `x` in `word`: it makes the word non-empty without looking like a keyword.
        let mut word = String::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if self.quote.is_some() {
                i += self.quoted_char(&chars[i..]);
                word.push('x');
                continue;
            }
            match c {
                '\'' | '"' => {
                    self.quote = Some(c);
                    word.push('x');
                }
                '$' if chars.get(i + 1) == Some(&'(') => {
                    // A command substitution is part of the word, whatever it holds.
                    i = command_substitution_end(&chars, i);
                    word.push('x');
                }
                '`' => {
                    i = backquote_end(&chars, i);
                    word.push('x');
                }
                '\\' if i + 1 == chars.len() => {
                    self.continued = true;
                }
                '\\' => {
                    word.push('x');
                    i += 1;
                }
                '#' if word.is_empty() => break,
                ' ' | '\t' => self.end_word(&mut word, &mut command_position),
                ';' | '|' | '&' => {
                    self.end_word(&mut word, &mut command_position);
                    command_position = true;
                }
                '(' if word.is_empty() && chars.get(i + 1) == Some(&')') => {
                    // `name () {`: the function's parentheses.
                    command_position = true;
                    i += 2;
                    continue;
                }
                '(' if word.is_empty() => {
                    word.push(c);
                    self.end_word(&mut word, &mut command_position);
                    command_position = true;
                }
                ')' if word.is_empty() => {
                    if self.depth > 0 {
                        self.depth -= 1;
                        self.open.pop();
                    }
                    command_position = true;
                }
                ')' if self.open.last() == Some(&true) => {
                    self.end_word(&mut word, &mut command_position);
                    self.depth -= 1;
                    self.open.pop();
                    command_position = true;
                }
                '<' if chars.get(i + 1) == Some(&'<') => {
                    self.end_word(&mut word, &mut command_position);
                    i = here_operator(&chars, i, &mut heredocs);
                    continue;
                }
                _ => word.push(c),
            }
            i += 1;
        }
        if self.quote.is_none() {
            self.end_word(&mut word, &mut command_position);
        }
        heredocs
    }

    /// Reads one character of the open quote at the start of `rest`; returns how many
    /// characters it took (two for a backslash escape inside double quotes).
    fn quoted_char(&mut self, rest: &[char]) -> usize {
        let c = rest[0];
        if Some(c) == self.quote {
            self.quote = None;
        } else if c == '\\' && self.quote == Some('"') {
            return 2;
        }
        1
    }

    /// Ends the word being read (if any): a compound keyword in command position opens or
    /// closes a level of nesting, and the word decides whether the next one is a command.
    fn end_word(&mut self, word: &mut String, command_position: &mut bool) {
        if word.is_empty() {
            return;
        }
        if *command_position {
            if OPENERS.contains(&word.as_str()) {
                if !self.words_seen {
                    self.block_start = true;
                }
                self.depth += 1;
                self.open.push(word == "(");
            } else if CLOSERS.contains(&word.as_str()) {
                self.depth -= 1;
                self.open.pop();
            }
            *command_position = LEADERS.contains(&word.as_str()) || word.ends_with("()");
            self.after_function = word == "function";
        } else if std::mem::take(&mut self.after_function) {
            // `function name {`: the body's brace comes next.
            *command_position = true;
        }
        self.words_seen = true;
        word.clear();
    }
}

/// Where the command substitution starting at `chars[start]` (`$(`) ends: the index of its
/// closing parenthesis, or the line's length when it goes on past the line. Parentheses
/// inside quotes do not count.
fn command_substitution_end(chars: &[char], start: usize) -> usize {
    let mut i = start;
    let mut depth = 0;
    let mut quote = None;
    while let Some(&d) = chars.get(i) {
        match (quote, d) {
            (Some(q), d) if d == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(d),
            (None, '(') => depth += 1,
            (None, ')') => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            _ => {}
        }
        i += 1;
    }
    i
}

/// The index of the backquote closing the one at `chars[start]` (the line's length if none).
fn backquote_end(chars: &[char], start: usize) -> usize {
    let mut i = start + 1;
    while chars.get(i).is_some_and(|&d| d != '`') {
        i += 1;
    }
    i
}

/// At `chars[at..]` = `<<`: records a here-document's delimiter in `heredocs`, or skips a
/// here-string's `<<<` (its word is an ordinary argument); returns where scanning goes on.
fn here_operator(chars: &[char], at: usize, heredocs: &mut Vec<(String, bool)>) -> usize {
    if chars.get(at + 2) == Some(&'<') {
        return at + 3;
    }
    let (heredoc, next) = heredoc_delimiter(chars, at + 2);
    heredocs.extend(heredoc);
    next
}

/// Reads a here-document's delimiter from `chars[after..]` (just past `<<`): the delimiter
/// with its quotes removed and whether `<<-` strips leading tabs (`None` when no delimiter
/// follows), and the index where scanning goes on.
fn heredoc_delimiter(chars: &[char], after: usize) -> (Option<(String, bool)>, usize) {
    let mut j = after;
    let strip_tabs = chars.get(j) == Some(&'-');
    if strip_tabs {
        j += 1;
    }
    while chars.get(j) == Some(&' ') {
        j += 1;
    }
    let mut delimiter = String::new();
    while let Some(&d) = chars.get(j) {
        if d.is_whitespace() || ";|&<>)".contains(d) {
            break;
        }
        if d != '\'' && d != '"' && d != '\\' {
            delimiter.push(d);
        }
        j += 1;
    }
    let heredoc = (!delimiter.is_empty()).then_some((delimiter, strip_tabs));
    (heredoc, j)
}

/// `name() { … }`, `name () { … }`, `function name { … }`: name, body text, body's line offset.
fn function_definition(text: &str) -> Option<(String, String, usize)> {
    let trimmed = text.trim_start();
    let (name, rest) = if let Some(rest) = trimmed.strip_prefix("function ") {
        let rest = rest.trim_start();
        let end = rest.find(|c: char| c.is_whitespace() || c == '(' || c == '{')?;
        let name = &rest[..end];
        let rest = rest[end..].trim_start();
        (name, rest.strip_prefix("()").unwrap_or(rest))
    } else {
        let open = trimmed.find('(')?;
        let name = trimmed[..open].trim_end();
        let rest = trimmed[open..].strip_prefix("()")?;
        (name, rest)
    };
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == ':');
    if !valid {
        return None;
    }
    let rest = rest.trim_start();
    let body = rest.strip_prefix('{')?;
    let body = body.trim_end().strip_suffix('}')?;
    let offset = text[..text.len() - rest.len()].matches('\n').count();
    let (body, offset) = match body.strip_prefix('\n') {
        Some(body) => (body, offset + 1),
        None => (body, offset),
    };
    Some((name.to_owned(), body.trim_end().to_owned(), offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(source: &str) -> Vec<(usize, Kind)> {
        statements(source, 1)
            .into_iter()
            .map(|s| (s.line, s.kind))
            .collect()
    }

    #[test]
    fn blocks_heredocs_and_continuations_are_one_statement() {
        let source = "set -e\nif true; then\n  echo 'a\nb'\nfi\ncat > f <<'EOF'\nif x\nEOF\nrun_cmd a \\\n  b\n# done\n";
        let got = kinds(source);
        assert_eq!(got[0], (1, Kind::Simple));
        assert_eq!(got[1], (2, Kind::Block));
        assert_eq!(got[2], (6, Kind::HereDoc));
        assert_eq!(got[3], (9, Kind::Simple));
        assert_eq!(got[4], (11, Kind::Comment("done".to_owned())));
        assert_eq!(got.len(), 5);
    }

    /// `name()` on a line of its own, `{` on the next: the definition was cut at the header,
    /// so the function was unknown and steps calling it did not source its library.
    #[test]
    fn regression_a_function_s_brace_on_the_next_line_belongs_to_it() {
        let got = statements(
            "greet()\n{\n  echo hi\n}\nfunction other\n{\n  :\n}\nx\n",
            1,
        );
        assert_eq!(got.len(), 3, "{got:?}");
        assert!(
            matches!(&got[0].kind, Kind::Function { name, body_line: 3, .. } if name == "greet")
        );
        assert!(matches!(&got[1].kind, Kind::Function { name, .. } if name == "other"));
        assert_eq!(got[2].line, 9);
        assert!(!is_function_header("echo hi") && !is_function_header("run (x)"));
    }

    #[test]
    fn functions_keep_their_body() {
        let source =
            "setup() {\n    mkdir -p cmd\n    echo hi\n}\nfunction two {\n  x\n}\none() { y; }\n";
        let got = statements(source, 1);
        assert_eq!(
            got[0].kind,
            Kind::Function {
                name: "setup".to_owned(),
                body: "    mkdir -p cmd\n    echo hi".to_owned(),
                body_line: 2
            }
        );
        assert!(matches!(&got[1].kind, Kind::Function { name, .. } if name == "two"));
        assert!(
            matches!(&got[2].kind, Kind::Function { name, body, .. } if name == "one" && body.trim() == "y;")
        );
        assert_eq!(got.len(), 3);
    }

    #[test]
    fn heredoc_delimiter_drops_quotes_and_notes_tab_stripping() {
        let chars: Vec<char> = "cat <<-'EOF' > f".chars().collect();
        let (heredoc, next) = heredoc_delimiter(&chars, 6);
        assert_eq!(heredoc, Some(("EOF".to_owned(), true)));
        assert_eq!(chars[next], ' ');
        let chars: Vec<char> = "x <<;".chars().collect();
        assert_eq!(heredoc_delimiter(&chars, 4), (None, 4));
    }

    #[test]
    fn command_substitution_ends_at_its_own_parenthesis() {
        let chars: Vec<char> = r#"$(a ")" (b)) c"#.chars().collect();
        assert_eq!(command_substitution_end(&chars, 0), 11);
        assert_eq!(chars[11], ')');
        let open: Vec<char> = "$(a (b)".chars().collect();
        assert_eq!(command_substitution_end(&open, 0), open.len());
    }

    /// `(eval $1 <<< ${3:-}) > /dev/null` in a function left its level open: the function ran
    /// to the end of the file, and no function after it was found.
    #[test]
    fn regression_a_parenthesis_closed_right_after_a_word_closes_its_level() {
        let got = kinds(
            "f() {\n  (eval $1 <<< ${3:-}) > /dev/null\n}\ng() {\n  case $1 in a) x ;; esac\n}\nreset\n",
        );
        assert!(
            matches!(&got[0].1, Kind::Function { name, .. } if name == "f"),
            "{got:?}"
        );
        assert!(
            matches!(&got[1].1, Kind::Function { name, .. } if name == "g"),
            "{got:?}"
        );
        assert_eq!(got[2], (7, Kind::Simple));
        assert_eq!(got.len(), 3);
    }

    #[test]
    fn one_line_if_is_closed() {
        let got = kinds("if [ -f x ]; then echo y; fi\necho z\n");
        assert_eq!(got, [(1, Kind::Block), (2, Kind::Simple)]);
    }
}
