//! Where `source FILE` / `. FILE` finds its file, worked out from text as bash would expand
//! the path: the script's folder (`$(dirname "$0")`, `${0%/*}`), the sourcing file's own
//! folder (`${BASH_SOURCE%/*}`, `$(dirname "${BASH_SOURCE[0]}")`, `$(cd … && pwd)`), the
//! current folder (`$(pwd)`, `$PWD`), and variables set literally in the script or the
//! libraries that source one another (`NAME=value`, `: "${NAME:=value}"`, `${NAME:-value}`),
//! the environment's value first where bash keeps a set variable.
//!
//! This module never reads files: it hands back the candidate paths, and the caller (which
//! reads files) takes the first that exists and follows the libraries it sources in turn.

use std::path::{Component, Path, PathBuf};
use std::sync::LazyLock;

use regex::{Captures, Regex};

use super::script::{Kind, statements};
use super::words::{Token, tokenize};

/// A `source`/`.` line of a script or library, at its top level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sourced {
    /// Its line in the file, from 1.
    pub line: usize,
    /// The path as written (quotes removed, expansions kept).
    pub written: String,
    /// The whole line, for messages.
    pub text: String,
}

/// The `source`/`.` lines at the top level of `text`.
pub fn sourced(text: &str) -> Vec<Sourced> {
    statements(text, 1)
        .iter()
        .filter(|s| s.kind == Kind::Simple)
        .filter_map(|s| {
            let (tokens, _) = tokenize(&s.text).ok()?;
            match tokens.as_slice() {
                [Token::Word(head), Token::Word(path), ..]
                    if matches!(head.plain().as_deref(), Some("source" | ".")) =>
                {
                    Some(Sourced {
                        line: s.line,
                        written: path.eval_text(),
                        text: s.text.trim().to_owned(),
                    })
                }
                _ => None,
            }
        })
        .collect()
}

/// What a path written in a file can refer to.
#[derive(Clone)]
pub struct Places<'a> {
    /// The folder bash runs in (where the import was run from), absolute.
    pub cwd: &'a Path,
    /// The script's folder (`$0`), absolute.
    pub script_dir: &'a Path,
    /// The folder of the file holding the `source` line (`$BASH_SOURCE`), absolute.
    pub this_dir: &'a Path,
    /// The texts whose literal settings are known when the line runs, each with its folder
    /// (its `$BASH_SOURCE`): the script, then each library down to the one holding the line.
    pub texts: &'a [(&'a str, &'a Path)],
    /// The environment's value of a name (bash keeps a set variable's value).
    pub env: &'a dyn Fn(&str) -> Option<String>,
}

/// Why a path cannot be worked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unresolved {
    /// What is left unknown (`$X`, `$(…)`).
    pub unknown: String,
}

/// The files `written` may be, in the order bash would try them: an absolute path is itself;
/// a name without a slash is looked up on `PATH` first (`. shunit2`); a relative path from the
/// current folder, then (as the script may expect to be run from its own folder) from the
/// script's folder.
pub fn candidates(written: &str, places: &Places<'_>) -> Result<Vec<PathBuf>, Unresolved> {
    let expanded = expand(written, places)?;
    let path = Path::new(&expanded);
    if path.is_absolute() {
        return Ok(vec![normalize(path)]);
    }
    let mut out = Vec::new();
    if !expanded.contains('/') {
        let search = (places.env)("PATH").unwrap_or_default();
        for dir in search.split(':').filter(|d| d.starts_with('/')) {
            out.push(normalize(&Path::new(dir).join(path)));
        }
    }
    out.push(normalize(&places.cwd.join(path)));
    let from_script = normalize(&places.script_dir.join(path));
    if !out.contains(&from_script) {
        out.push(from_script);
    }
    Ok(out)
}

/// `written` with every expansion replaced by its value, or what stays unknown.
fn expand(written: &str, places: &Places<'_>) -> Result<String, Unresolved> {
    let text = folders(written, places, places.this_dir);
    let known = known_settings(places);
    let mut unknown: Option<String> = None;
    let expanded = REFERENCE.replace_all(&text, |found: &Captures<'_>| {
        let name = found
            .name("braced")
            .or_else(|| found.name("bare"))
            .map_or("", |m| m.as_str());
        let value = known
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .or_else(|| (places.env)(name).filter(|v| !v.is_empty()))
            .or_else(|| found.name("default").map(|d| d.as_str().to_owned()));
        value.unwrap_or_else(|| {
            unknown.get_or_insert_with(|| found[0].to_owned());
            String::new()
        })
    });
    if let Some(unknown) = unknown {
        return Err(Unresolved { unknown });
    }
    if let Some(at) = expanded.find(['$', '`']) {
        return Err(Unresolved {
            unknown: expanded[at..].to_owned(),
        });
    }
    Ok(expanded.into_owned())
}

/// `$NAME`, `${NAME}`, `${NAME:-default}`, `${NAME-default}`, `${NAME:=default}`.
static REFERENCE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"\$\{(?P<braced>[A-Za-z_]\w*)(?::?[-=](?P<default>[^}$`]*))?\}|\$(?P<bare>[A-Za-z_]\w*)",
    )
    .expect("valid pattern")
});

/// `$(cd "$(dirname "$0")/.." && pwd)`: a folder, with what follows `dirname …` inside.
static CD_PWD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"\$\(\s*cd\s+(?:--\s+)?"?\$\(\s*dirname\s+(?:--\s+)?"?(?P<of>\$0|\$\{0\}|\$BASH_SOURCE|\$\{BASH_SOURCE(?:\[0\])?\})"?\s*\)(?P<rest>[^"&;)]*)"?\s*(?:&&|;)\s*(?:builtin\s+)?pwd(?:\s+-[PL])?\s*\)"#,
    )
    .expect("valid pattern")
});

/// `$(dirname "$0")`, `$(dirname "${BASH_SOURCE[0]}")`, `${0%/*}`, `${BASH_SOURCE%/*}`.
static DIRNAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"\$\(\s*dirname\s+(?:--\s+)?"?(?P<of>\$0|\$\{0\}|\$BASH_SOURCE|\$\{BASH_SOURCE(?:\[0\])?\})"?\s*\)|\$\{(?P<strip>0|BASH_SOURCE(?:\[0\])?)%/\*\}"#,
    )
    .expect("valid pattern")
});

/// `$(pwd)`, `$PWD`, `${PWD}`.
static PWD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\$\(\s*pwd(?:\s+-[PL])?\s*\)|\$\{PWD\}|\$PWD\b").expect("valid pattern")
});

/// The folder forms replaced by the folders they stand for, in a file of `this_dir`.
fn folders(text: &str, places: &Places<'_>, this_dir: &Path) -> String {
    let folder_of = |of: &str| {
        if of.contains("BASH_SOURCE") {
            this_dir
        } else {
            places.script_dir
        }
    };
    let text = CD_PWD.replace_all(text, |found: &Captures<'_>| {
        let rest = found["rest"].trim_start_matches('/');
        normalize(&folder_of(&found["of"]).join(rest))
            .display()
            .to_string()
    });
    let text = DIRNAME.replace_all(&text, |found: &Captures<'_>| {
        let of = found
            .name("of")
            .or_else(|| found.name("strip"))
            .map_or("", |m| m.as_str());
        folder_of(of).display().to_string()
    });
    PWD.replace_all(&text, places.cwd.display().to_string().as_str())
        .into_owned()
}

/// Literal settings of the texts, in order: `NAME=value` (folder forms allowed), `: "${NAME:=
/// value}"` and `NAME=${NAME:-value}` (the environment's value first).
fn known_settings(places: &Places<'_>) -> Vec<(String, String)> {
    static ASSIGNMENT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"^\s*(?:export\s+)?(?P<name>[A-Za-z_]\w*)=(?P<value>\$\(.*\)|"\$\(.*\)"|"[^"`]*"|'[^']*'|[^"'`\s;]*)\s*(?:;\s*export\s+[A-Za-z_]\w*\s*)?$"#)
            .expect("valid pattern")
    });
    static DEFAULT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"^\s*:\s+"?\$\{(?P<name>[A-Za-z_]\w*):?=(?P<value>[^}$`"]*)\}"?\s*$"#)
            .expect("valid pattern")
    });
    let mut known: Vec<(String, String)> = Vec::new();
    for (line, this_dir) in places
        .texts
        .iter()
        .flat_map(|(text, dir)| text.lines().map(move |line| (line, *dir)))
    {
        if let Some(found) = DEFAULT.captures(line) {
            let value = (places.env)(&found["name"])
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| found["value"].to_owned());
            known.push((found["name"].to_owned(), value));
            continue;
        }
        let Some(found) = ASSIGNMENT.captures(line) else {
            continue;
        };
        let value = &found["value"];
        let value = if value.starts_with("$(") {
            value
        } else if value.starts_with("\"$(") {
            &value[1..value.len() - 1]
        } else {
            value.trim_matches(['"', '\''])
        };
        let value = folders(value, places, this_dir);
        let mut unknown = false;
        let expanded = REFERENCE.replace_all(&value, |r: &Captures<'_>| {
            let name = r
                .name("braced")
                .or_else(|| r.name("bare"))
                .map_or("", |m| m.as_str());
            known
                .iter()
                .rev()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
                .or_else(|| (places.env)(name).filter(|v| !v.is_empty()))
                .or_else(|| r.name("default").map(|d| d.as_str().to_owned()))
                .unwrap_or_else(|| {
                    unknown = true;
                    String::new()
                })
        });
        if !unknown && !expanded.contains(['$', '`']) {
            known.push((found["name"].to_owned(), expanded.into_owned()));
        }
    }
    known
}

/// `a/./b/../c` ──► `a/c`, without asking the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn places<'a>(
        texts: &'a [(&'a str, &'a Path)],
        env: &'a dyn Fn(&str) -> Option<String>,
    ) -> Places<'a> {
        Places {
            cwd: Path::new("/project"),
            script_dir: Path::new("/project/t"),
            this_dir: Path::new("/project/t/lib"),
            texts,
            env,
        }
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    /// The first candidate, the texts being the script's and then a library's.
    fn first(written: &str, texts: &[&str]) -> Result<PathBuf, Unresolved> {
        let dirs = [Path::new("/project/t"), Path::new("/project/t/lib")];
        let texts: Vec<(&str, &Path)> = texts.iter().copied().zip(dirs).collect();
        candidates(written, &places(&texts, &no_env)).map(|c| c[0].clone())
    }

    #[test]
    fn the_script_s_folder_and_the_library_s_own_folder() {
        let p = |s: &str| Ok(PathBuf::from(s));
        assert_eq!(
            first(r#"$(dirname "$0")/lib/a.sh"#, &[]),
            p("/project/t/lib/a.sh")
        );
        assert_eq!(first("${0%/*}/a.sh", &[]), p("/project/t/a.sh"));
        assert_eq!(
            first(r#"${BASH_SOURCE%/*}/functions.sh"#, &[]),
            p("/project/t/lib/functions.sh")
        );
        assert_eq!(
            first(r#"$(dirname "${BASH_SOURCE[0]}")/f.sh"#, &[]),
            p("/project/t/lib/f.sh")
        );
        assert_eq!(
            first(r#"$(cd "$(dirname "$BASH_SOURCE")/.." && pwd)/x.sh"#, &[]),
            p("/project/t/x.sh")
        );
        assert_eq!(first("$(pwd)/x.sh", &[]), p("/project/x.sh"));
        assert_eq!(first("helpers/x.sh", &[]), p("/project/helpers/x.sh"));
        assert_eq!(
            candidates("x.sh", &places(&[], &no_env)).unwrap(),
            vec![
                PathBuf::from("/project/x.sh"),
                PathBuf::from("/project/t/x.sh")
            ]
        );
    }

    #[test]
    fn variables_set_in_the_script_or_a_library_above() {
        let script = "TEST_DIRECTORY=$(pwd)\n. ./test-lib.sh\n";
        let own = "DIR=$( cd \"$( dirname \"${BASH_SOURCE[0]}\" )\" && pwd )\n";
        let up = "SRC=\"$( cd \"$( dirname \"${0}\" )/../\" && pwd )\"\n";
        assert_eq!(
            first("$SRC/tap.sh", &[up]),
            Ok(PathBuf::from("/project/tap.sh"))
        );
        assert_eq!(
            first("$DIR/assert.sh", &[own]),
            Ok(PathBuf::from("/project/t/assert.sh"))
        );
        let library = "SRC=\"$TEST_DIRECTORY/lib\"\n";
        assert_eq!(
            first("$SRC/test-lib-functions.sh", &[script, library]),
            Ok(PathBuf::from("/project/lib/test-lib-functions.sh"))
        );
        assert_eq!(
            first("${HELPERS:-lib}/h.sh", &[script]),
            Ok(PathBuf::from("/project/lib/h.sh"))
        );
        let env = |name: &str| (name == "LIBDIR").then(|| "/opt/lib".to_owned());
        let texts = [(": \"${LIBDIR:=lib}\"\n", Path::new("/project/t"))];
        let with_env = places(&texts, &env);
        assert_eq!(
            candidates("$LIBDIR/a.sh", &with_env).unwrap()[0],
            PathBuf::from("/opt/lib/a.sh")
        );
    }

    #[test]
    fn what_stays_unknown_is_named() {
        assert_eq!(
            first("$NOWHERE/a.sh", &[]),
            Err(Unresolved {
                unknown: "$NOWHERE".to_owned()
            })
        );
        assert_eq!(
            first("$(git rev-parse --show-toplevel)/a.sh", &[]),
            Err(Unresolved {
                unknown: "$(git rev-parse --show-toplevel)/a.sh".to_owned()
            })
        );
    }

    #[test]
    fn source_lines_with_their_line_numbers() {
        let text = "x=1\n. \"$X/a.sh\"\nf() {\n  . inner.sh\n}\nsource b.sh arg\n";
        let found = sourced(text);
        assert_eq!(
            found
                .iter()
                .map(|s| (s.line, s.written.as_str()))
                .collect::<Vec<_>>(),
            vec![(2, "$X/a.sh"), (6, "b.sh")]
        );
    }
}
