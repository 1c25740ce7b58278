//! `run` command lines split into arguments the way a POSIX shell would (quotes, backslashes,
//! `#` comments), without any expansion: `shell-words` does the splitting, this module adds
//! where an unclosed quote starts, which `shell-words` does not say.

/// A command line whose quote at byte `offset` is never closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UnclosedQuote {
    pub(crate) offset: usize,
}

/// Splits `line` into arguments.
pub(crate) fn split_arguments(line: &str) -> Result<Vec<String>, UnclosedQuote> {
    shell_words::split(line).map_err(|_| UnclosedQuote {
        offset: unclosed_quote(line).unwrap_or(0),
    })
}

/// The offset of the quote left open at the end of `line`, following the same rules as
/// `shell_words::split` (only called once that has failed).
fn unclosed_quote(line: &str) -> Option<usize> {
    #[derive(Clone, Copy)]
    enum State {
        Delimiter,
        Word,
        Comment,
        Single(usize),
        Double(usize),
    }

    let mut state = State::Delimiter;
    let mut chars = line.char_indices();
    while let Some((at, c)) = chars.next() {
        state = match (state, c) {
            (State::Comment, '\n') => State::Delimiter,
            (State::Comment, _) => State::Comment,
            (State::Delimiter, '#') => State::Comment,
            (State::Delimiter | State::Word, ' ' | '\t' | '\n') => State::Delimiter,
            (State::Delimiter | State::Word, '\'') => State::Single(at),
            (State::Delimiter | State::Word, '"') => State::Double(at),
            (State::Delimiter | State::Word, '\\') => {
                chars.next();
                State::Word
            }
            (State::Delimiter | State::Word, _) => State::Word,
            (State::Single(_), '\'') | (State::Double(_), '"') => State::Word,
            (State::Double(_), '\\') => {
                chars.next();
                state
            }
            (State::Single(_) | State::Double(_), _) => state,
        };
    }
    match state {
        State::Single(at) | State::Double(at) => Some(at),
        State::Delimiter | State::Word | State::Comment => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_a_shell() {
        assert_eq!(
            split_arguments(r#"new -n "my plan" it\'s 'a b'c # note"#).unwrap(),
            ["new", "-n", "my plan", "it's", "a bc"]
        );
        assert_eq!(split_arguments("  ").unwrap(), Vec::<String>::new());
    }

    #[test]
    fn finds_the_quote_left_open() {
        assert_eq!(split_arguments("say 'hi").unwrap_err().offset, 4);
        assert_eq!(split_arguments(r#"a "b \" c"#).unwrap_err().offset, 2);
        assert_eq!(split_arguments(r#"a "b" 'c"#).unwrap_err().offset, 6);
        assert_eq!(split_arguments("a\\' \"x").unwrap_err().offset, 4);
        assert_eq!(split_arguments("# it's\n'x").unwrap_err().offset, 7);
        assert_eq!(split_arguments("a#b 'c").unwrap_err().offset, 4);
    }
}
