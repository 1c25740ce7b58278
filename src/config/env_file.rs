//! The env file: dotenv syntax, read safely.
//!
//! Syntax (as dotenv tools read it): `KEY=value` lines, optionally prefixed with `export `;
//! blank lines and `#` comments are skipped; values are unquoted (ending at a space or the end
//! of the line, a later ` #` starts a comment), `'single quoted'` (literal) or `"double
//! quoted"` (escapes `\n \\ \" \' \$`); quoted values may span lines. `$NAME` and `${NAME}` in
//! unquoted and double-quoted values take the value of NAME from the process environment, else
//! from an earlier line of the file, else nothing. A UTF-8 byte order mark is skipped.
//!
//! Safety: the file must be a regular file of at most [`MAX_ENV_FILE_SIZE`], owned by the user
//! running smoke-runner (or root) and writable by no one else, since whoever can write it can
//! run code in every step (`BASH_ENV`, `PATH`). Each value is at most [`MAX_EXPANDED_VALUE`]
//! after `$NAME` expansion, and all of them together at most [`MAX_ENV_FILE_VALUES`]. Errors
//! give `line:column` and the variable, and never quote the file (it holds secrets).

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use crate::regular_file::{self, ReadError, human_size};

/// The largest env file read: 1 MiB.
pub const MAX_ENV_FILE_SIZE: u64 = 1024 * 1024;
/// The largest value after `$NAME` / `${NAME}` expansion, in env files and suites: 1 MiB.
pub const MAX_EXPANDED_VALUE: usize = 1024 * 1024;
/// The largest total of all values of one env file after expansion: 8 MiB.
pub const MAX_ENV_FILE_VALUES: usize = 8 * 1024 * 1024;

/// An env file, read and parsed.
#[derive(Debug, Default)]
pub struct EnvFile {
    /// The variables in file order (a name given twice keeps its first value).
    pub vars: Vec<(String, String)>,
    /// Said about the file's permissions without refusing it.
    pub warning: Option<String>,
}

/// Why an env file was refused.
#[derive(Debug, thiserror::Error)]
pub enum EnvFileError {
    /// It could not be opened or read.
    #[error("{0}")]
    Read(#[from] ReadError),
    /// It is owned by another user.
    #[error(
        "it is owned by user id {owner}, not by you (user id {me}) or root: whoever can write it \
         runs code in every step. Use a file of your own (`chown`), or pass --no-env-file"
    )]
    NotYours {
        /// The file's owner.
        owner: u32,
        /// Who runs smoke-runner.
        me: u32,
    },
    /// Group or others may write it.
    #[error(
        "it is writable by {who} (mode {mode:04o}): whoever can write it runs code in every \
         step. Fix it with `chmod go-w {path}`, or pass --no-env-file"
    )]
    Writable {
        /// "its group", "others" or "its group and others".
        who: &'static str,
        /// The permission bits.
        mode: u32,
        /// The path, as given.
        path: String,
    },
    /// A syntax error, a NUL byte, or a value too large.
    #[error("line {line}, column {column}: {message}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// 1-based column, in characters.
        column: usize,
        /// What is wrong, naming the variable when there is one.
        message: String,
    },
}

/// Reads the env file at `path` with the checks above; `lookup` gives the process environment
/// for `$NAME` expansion.
pub fn read_env_file(
    path: &Path,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<EnvFile, EnvFileError> {
    if is_dev_null(path) {
        // `PLANDEX_ENV_FILE=/dev/null` is the usual way to say "no file".
        return Ok(EnvFile::default());
    }
    let file = regular_file::open(path)?;
    let metadata = file.metadata().map_err(ReadError::Io)?;
    let warning = check_permissions(path, &metadata)?;
    let bytes = regular_file::read_open(file, MAX_ENV_FILE_SIZE)?;
    let vars = parse_env(&bytes, lookup)?;
    Ok(EnvFile { vars, warning })
}

fn is_dev_null(path: &Path) -> bool {
    match (std::fs::metadata(path), std::fs::metadata("/dev/null")) {
        (Ok(file), Ok(null)) => {
            use std::os::unix::fs::FileTypeExt;
            file.file_type().is_char_device() && file.rdev() == null.rdev()
        }
        _ => false,
    }
}

fn check_permissions(
    path: &Path,
    metadata: &std::fs::Metadata,
) -> Result<Option<String>, EnvFileError> {
    let me = rustix::process::geteuid().as_raw();
    let owner = metadata.uid();
    if owner != me && owner != 0 {
        return Err(EnvFileError::NotYours { owner, me });
    }
    let mode = metadata.mode() & 0o7777;
    let who = match (mode & 0o020 != 0, mode & 0o002 != 0) {
        (true, true) => Some("its group and others"),
        (true, false) => Some("its group"),
        (false, true) => Some("others"),
        (false, false) => None,
    };
    if let Some(who) = who {
        return Err(EnvFileError::Writable {
            who,
            mode,
            path: path.display().to_string(),
        });
    }
    Ok((mode & 0o004 != 0).then(|| {
        format!(
            "environment file {} is readable by others (mode {mode:04o}); it usually holds \
             secrets: `chmod go-r {}`",
            path.display(),
            path.display()
        )
    }))
}

/// Parses env-file bytes (see the module docs).
pub fn parse_env(
    bytes: &[u8],
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<(String, String)>, EnvFileError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|error| {
        let (line, column) = position(bytes, error.valid_up_to());
        EnvFileError::Syntax {
            line,
            column,
            message: "the file is not valid UTF-8 (save it as UTF-8)".into(),
        }
    })?;
    Parser {
        text,
        pos: 0,
        vars: Vec::new(),
        total: 0,
        lookup,
    }
    .parse()
}

/// Line and column (1-based, in characters) of byte `offset`.
fn position(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = &bytes[..offset.min(bytes.len())];
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (line, column)
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
    vars: Vec<(String, String)>,
    total: usize,
    lookup: &'a dyn Fn(&str) -> Option<String>,
}

fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.'
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

impl Parser<'_> {
    fn parse(mut self) -> Result<Vec<(String, String)>, EnvFileError> {
        loop {
            self.skip(|c| c.is_whitespace());
            match self.peek() {
                None => return Ok(self.vars),
                Some('#') => self.skip(|c| c != '\n'),
                Some(_) => self.entry()?,
            }
        }
    }

    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn skip(&mut self, keep_going: impl Fn(char) -> bool) {
        while self.peek().is_some_and(&keep_going) {
            self.bump();
        }
    }

    fn error_at(&self, at: usize, message: String) -> EnvFileError {
        let (line, column) = position(self.text.as_bytes(), at);
        EnvFileError::Syntax {
            line,
            column,
            message,
        }
    }

    fn entry(&mut self) -> Result<(), EnvFileError> {
        let rest = &self.text[self.pos..];
        if let Some(after) = rest.strip_prefix("export")
            && after.starts_with([' ', '\t'])
        {
            self.pos += "export".len();
            self.skip(|c| c == ' ' || c == '\t');
        }
        let key_start = self.pos;
        self.skip(is_key_char);
        let key = self.text[key_start..self.pos].to_owned();
        if key.is_empty() {
            return Err(self.error_at(
                self.pos,
                "expected a variable name (letters, digits, `_`, `.`) followed by `=`".into(),
            ));
        }
        self.skip(|c| c == ' ' || c == '\t');
        if self.bump() != Some('=') {
            return Err(self.error_at(
                key_start,
                format!("expected `=` after `{}`", shown_key(&key)),
            ));
        }
        self.skip(|c| c == ' ' || c == '\t');
        let value_start = self.pos;
        let value = self.value(&key)?;
        if value.contains('\0') {
            return Err(self.error_at(
                value_start,
                format!(
                    "the value of `{}` holds a NUL byte, which no environment variable can hold",
                    shown_key(&key)
                ),
            ));
        }
        self.total += value.len();
        if self.total > MAX_ENV_FILE_VALUES {
            return Err(self.error_at(
                value_start,
                format!(
                    "the values up to `{}` add up to more than the limit of {} after expansion",
                    shown_key(&key),
                    human_size(MAX_ENV_FILE_VALUES as u64)
                ),
            ));
        }
        if !self.vars.iter().any(|(k, _)| *k == key) {
            self.vars.push((key, value));
        }
        Ok(())
    }

    fn value(&mut self, key: &str) -> Result<String, EnvFileError> {
        let mut value = String::new();
        loop {
            let at = self.pos;
            match self.peek() {
                None | Some('\n') => return Ok(value),
                Some('\r') if self.text[self.pos..].starts_with("\r\n") => return Ok(value),
                Some(' ' | '\t') => {
                    self.skip(|c| c == ' ' || c == '\t' || c == '\r');
                    return match self.peek() {
                        None | Some('\n') => Ok(value),
                        Some('#') => {
                            self.skip(|c| c != '\n');
                            Ok(value)
                        }
                        Some(_) => Err(self.error_at(
                            self.pos,
                            format!(
                                "unexpected text after the value of `{}` (quote a value that \
                                 holds spaces)",
                                shown_key(key)
                            ),
                        )),
                    };
                }
                Some('\'') => {
                    self.bump();
                    let start = self.pos;
                    let Some(len) = self.text[start..].find('\'') else {
                        return Err(self.unterminated(at, "single", key));
                    };
                    self.push(&mut value, &self.text[start..start + len], key, at)?;
                    self.pos = start + len + 1;
                }
                Some('"') => {
                    self.bump();
                    loop {
                        let inner = self.pos;
                        match self.bump() {
                            None => return Err(self.unterminated(at, "double", key)),
                            Some('"') => break,
                            Some('\\') => self.escape(&mut value, key, inner)?,
                            Some('$') => self.substitute(&mut value, key, inner)?,
                            Some(c) => {
                                self.push(&mut value, c.encode_utf8(&mut [0; 4]), key, at)?
                            }
                        }
                    }
                }
                Some('\\') => {
                    self.bump();
                    self.escape(&mut value, key, at)?;
                }
                Some('$') => {
                    self.bump();
                    self.substitute(&mut value, key, at)?;
                }
                Some(c) => {
                    self.bump();
                    self.push(&mut value, c.encode_utf8(&mut [0; 4]), key, at)?;
                }
            }
        }
    }

    fn unterminated(&self, at: usize, which: &str, key: &str) -> EnvFileError {
        self.error_at(
            at,
            format!(
                "the {which} quote that starts the value of `{}` is never closed",
                shown_key(key)
            ),
        )
    }

    fn escape(&mut self, value: &mut String, key: &str, at: usize) -> Result<(), EnvFileError> {
        let decoded = match self.bump() {
            Some(c @ ('\\' | '\'' | '"' | '$' | ' ')) => c,
            Some('n') => '\n',
            other => {
                let shown = match other {
                    None => "the end of the file".into(),
                    Some('\n' | '\r') => "`\\` at the end of a line".into(),
                    // Control characters are shown escaped: the message stays one line.
                    Some(c) => format!("`\\{}`", c.escape_debug()),
                };
                return Err(self.error_at(
                    at,
                    format!(
                        "unknown escape {shown} in the value of `{}` (known: \\n \\\\ \\\" \\' \\$)",
                        shown_key(key)
                    ),
                ));
            }
        };
        self.push(value, decoded.encode_utf8(&mut [0; 4]), key, at)
    }

    /// After a `$`: `${NAME}`, `$NAME`, or a lone `$`.
    fn substitute(&mut self, value: &mut String, key: &str, at: usize) -> Result<(), EnvFileError> {
        let name = if self.peek() == Some('{') {
            self.bump();
            let start = self.pos;
            self.skip(|c| c != '}' && c != '\n' && c != '"');
            if self.peek() != Some('}') {
                return Err(self.error_at(
                    at,
                    format!(
                        "`${{` in the value of `{}` is never closed by `}}`",
                        shown_key(key)
                    ),
                ));
            }
            let name = &self.text[start..self.pos];
            self.bump();
            name
        } else {
            let start = self.pos;
            self.skip(is_name_char);
            if start == self.pos {
                return self.push(value, "$", key, at);
            }
            &self.text[start..self.pos]
        };
        let found = (self.lookup)(name).or_else(|| {
            self.vars
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        });
        match found {
            Some(text) => self.push(value, &text, key, at),
            None => Ok(()),
        }
    }

    fn push(
        &self,
        value: &mut String,
        piece: &str,
        key: &str,
        at: usize,
    ) -> Result<(), EnvFileError> {
        if value.len() + piece.len() > MAX_EXPANDED_VALUE {
            return Err(self.error_at(
                at,
                format!(
                    "the value of `{}` is larger than the limit of {} after expansion",
                    shown_key(key),
                    human_size(MAX_EXPANDED_VALUE as u64)
                ),
            ));
        }
        value.push_str(piece);
        Ok(())
    }
}

/// A variable name as errors show it: cut to a readable length.
fn shown_key(key: &str) -> String {
    const MAX: usize = 60;
    if key.len() > MAX {
        format!("{}…", &key[..MAX])
    } else {
        key.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<(String, String)>, String> {
        parse_env(text.as_bytes(), &|name| {
            (name == "HOME").then(|| "/home/me".to_owned())
        })
        .map_err(|e| e.to_string())
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn reads_the_dotenv_forms() {
        let text = "\
# a comment
A=plain
export B = 'single $HOME \\n'
C=\"double $HOME ${A} \\\"q\\\" \\n\"
D=with # a comment
E=
F=\"multi
line\"
A=second
G=a\\ b$
";
        assert_eq!(
            parse(text).unwrap(),
            pairs(&[
                ("A", "plain"),
                ("B", "single $HOME \\n"),
                ("C", "double /home/me plain \"q\" \n"),
                ("D", "with"),
                ("E", ""),
                ("F", "multi\nline"),
                ("G", "a b$"),
            ])
        );
    }

    #[test]
    fn a_byte_order_mark_is_skipped() {
        let parsed = parse_env(b"\xEF\xBB\xBFKEY=v\r\n", &|_| None).unwrap();
        assert_eq!(parsed, pairs(&[("KEY", "v")]));
    }

    #[test]
    fn an_unterminated_quote_gives_its_line_and_never_the_rest_of_the_file() {
        let error = parse("A=1\nTOKEN=\"abc\nSECRET=hunter2\n").unwrap_err();
        assert_eq!(
            error,
            "line 2, column 7: the double quote that starts the value of `TOKEN` is never closed"
        );
        assert!(!error.contains("hunter2"));
    }

    #[test]
    fn a_nul_byte_names_the_variable() {
        let error = parse("OK=1\nBAD=a\0b\n").unwrap_err();
        assert_eq!(
            error,
            "line 2, column 5: the value of `BAD` holds a NUL byte, which no environment variable can hold"
        );
    }

    #[test]
    fn errors_give_lines_and_columns() {
        assert_eq!(
            parse("A=1\n\n  B C=2\n").unwrap_err(),
            "line 3, column 3: expected `=` after `B`"
        );
        assert_eq!(
            parse("A=one two\n").unwrap_err(),
            "line 1, column 7: unexpected text after the value of `A` (quote a value that holds spaces)"
        );
        assert_eq!(
            parse("=x\n").unwrap_err(),
            "line 1, column 1: expected a variable name (letters, digits, `_`, `.`) followed by `=`"
        );
        assert_eq!(
            parse("A=\"\\q\"\n").unwrap_err(),
            "line 1, column 4: unknown escape `\\q` in the value of `A` (known: \\n \\\\ \\\" \\' \\$)"
        );
        // A backslash before a line break or a control character: the message stays one line.
        assert_eq!(
            parse("A=\"x\\\ny\"\n").unwrap_err(),
            "line 1, column 5: unknown escape `\\` at the end of a line in the value of `A` (known: \\n \\\\ \\\" \\' \\$)"
        );
        assert_eq!(
            parse("A=\"\\\t\"\n").unwrap_err(),
            "line 1, column 4: unknown escape `\\\\t` in the value of `A` (known: \\n \\\\ \\\" \\' \\$)"
        );
        let error = parse_env(b"A=1\nB=caf\xe9\n", &|_| None).unwrap_err();
        assert_eq!(
            error.to_string(),
            "line 2, column 6: the file is not valid UTF-8 (save it as UTF-8)"
        );
    }

    /// 41 lines `Vn=${Vn-1}${Vn-1}` ran out of memory.
    #[test]
    fn an_expansion_bomb_stops_at_the_limit_naming_the_variable() {
        let mut text = "V0=xxxxxxxxxxxxxxxx\n".to_owned();
        for n in 1..=41 {
            text.push_str(&format!("V{n}=${{V{}}}${{V{}}}\n", n - 1, n - 1));
        }
        let error = parse(&text).unwrap_err();
        assert!(
            error.ends_with("the value of `V17` is larger than the limit of 1 MiB after expansion"),
            "{error}"
        );
    }

    #[test]
    fn many_large_values_stop_at_the_total_limit() {
        let mut text = format!("BIG={}\n", "x".repeat(MAX_EXPANDED_VALUE));
        for n in 0..20 {
            text.push_str(&format!("C{n}=$BIG\n"));
        }
        let error = parse(&text).unwrap_err();
        assert!(
            error.contains("add up to more than the limit of 8 MiB"),
            "{error}"
        );
    }
}
