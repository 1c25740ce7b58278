//! Bats files: each `@test "name" { … }` block is one check of the suite, named
//! `name (line N)` after its `@test` line.
//!
//! A test written as `run CMD…` followed by checks of `$status` and `$output`
//! (`[ "$status" -eq 0 ]`, `[ "$output" = "…" ]`, `[[ "$output" == *…* ]]`, bats-assert's
//! `assert_success`, `assert_failure`, `assert_output [--partial] …`) becomes one step per
//! `run`, with `status` and `stdout` checks (the command's standard error joined to its
//! standard output, as `run` joins them). Any other test, and every test of a file with code
//! outside its tests (`setup`, `load`, helper functions), is kept as a shell step that does
//! what bats does: the file's other code, `setup`, the body with `set -e`, `teardown`, and a
//! `run` of our own that sets `status`, `output` and `lines`.

use super::draft::{Draft, Item, Step};
use super::emit;
use super::script::{Kind, statements};
use super::translate::{ImportOptions, Imported, Warning, requote};
use super::words::{Token, Word, tokenize};

/// Whether `source` is a bats file: a line starts with `@test`.
pub fn is_bats(source: &str) -> bool {
    source.lines().any(|line| test_header(line).is_some())
}

/// The line (from 1) of each `@test`, in file order: bats numbers its tests in this order.
pub fn bats_test_lines(source: &str) -> Vec<usize> {
    (source.lines().enumerate())
        .filter(|(_, line)| test_header(line).is_some())
        .map(|(i, _)| i + 1)
        .collect()
}

/// `@test "name" {` → the name, as bats reads it (quotes removed).
fn test_header(line: &str) -> Option<String> {
    let rest = line.trim_start().strip_prefix("@test")?;
    let rest = rest
        .strip_prefix([' ', '\t'])?
        .trim_end()
        .strip_suffix('{')?;
    let name = rest.trim();
    let unquoted = (name.strip_prefix('"').and_then(|n| n.strip_suffix('"')))
        .or_else(|| name.strip_prefix('\'').and_then(|n| n.strip_suffix('\'')))
        .unwrap_or(name);
    Some(unquoted.to_owned())
}

/// `run` as bats documents it: standard output and error in `output` (trailing newlines
/// removed), its lines in `lines`, the exit status in `status`; `run -N` and `run !` also
/// check the status. Never fails by itself otherwise.
const RUN_FUNCTION: &str = r#"run() {
    local expect= errexit=${-//[^e]/}
    case ${1-} in -[0-9]*) expect=${1#-}; shift ;; !) expect=nonzero; shift ;; --) shift ;; esac
    set +e
    output=$("$@" 2>&1)
    status=$?
    lines=()
    [ -n "$output" ] && mapfile -t lines <<<"$output"
    [ -n "$errexit" ] && set -e
    case $expect in
    '') return 0 ;;
    nonzero) [ "$status" -ne 0 ] ;;
    *) [ "$status" -eq "$expect" ] ;;
    esac
}"#;

/// One `@test` block.
struct Test {
    line: usize,
    name: String,
    body: String,
    body_line: usize,
}

/// Translates a bats file.
pub(crate) fn import_bats(source: &str, script_name: &str, options: &ImportOptions) -> Imported {
    let (tests, rest) = split(source);
    let stem = script_name.rsplit('/').next().unwrap_or(script_name);
    let mut draft = Draft {
        name: stem.trim_end_matches(".bats").to_owned(),
        script_name: script_name.to_owned(),
        shell: Some("bash --noprofile --norc -c".to_owned()),
        keep_going: true,
        workdir: options.workdir.clone(),
        ..Draft::default()
    };
    let dir = if options.script_dir.is_empty() {
        "."
    } else {
        &options.script_dir
    };
    draft
        .env
        .push(("BATS_TEST_DIRNAME".to_owned(), dir.to_owned(), 1));
    draft
        .env
        .push(("BATS_TEST_TMPDIR".to_owned(), "${TEST_DIR}".to_owned(), 1));
    let prelude = prelude(&rest);
    let mut warnings = Vec::new();
    for test in &tests {
        let steps = match prelude.is_none().then(|| structured(test)).flatten() {
            Some(steps) => steps,
            None => {
                let why = if prelude.is_some() {
                    "the file has code outside its tests (setup, load, functions)"
                } else {
                    "not only `run` and checks of its status and output"
                };
                warnings.push(Warning {
                    line: test.line,
                    message: format!("`{}`: {why}: kept as an sh step", test.name),
                });
                vec![kept(test, prelude.as_deref())]
            }
        };
        draft
            .items
            .extend(steps.into_iter().map(|s| Item::Step(Box::new(s))));
    }
    let steps = draft.items.len();
    Imported {
        toml: emit::suite(&draft),
        warnings,
        steps,
    }
}

/// The tests, and the rest of the file (with the tests' lines blanked, so line numbers hold).
fn split(source: &str) -> (Vec<Test>, String) {
    // Each `@test` line becomes a function definition, which bash (and our reader) can parse.
    let mut names = Vec::new();
    let rewritten: Vec<String> = source
        .lines()
        .map(|line| match test_header(line) {
            Some(name) => {
                names.push(name);
                format!("bats_test_{}() {{", names.len())
            }
            None => line.to_owned(),
        })
        .collect();
    let lines: Vec<&str> = source.lines().collect();
    let mut tests = Vec::new();
    let mut rest: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
    for statement in statements(&rewritten.join("\n"), 1) {
        let Kind::Function {
            name,
            body,
            body_line,
        } = &statement.kind
        else {
            continue;
        };
        let Some(index) = (name.strip_prefix("bats_test_")).and_then(|n| n.parse::<usize>().ok())
        else {
            continue;
        };
        let end = statement.line + statement.text.lines().count();
        for line in rest.iter_mut().take(end - 1).skip(statement.line - 1) {
            line.clear();
        }
        tests.push(Test {
            line: statement.line,
            name: names[index - 1].clone(),
            body: body.clone(),
            body_line: *body_line,
        });
    }
    (tests, rest.join("\n"))
}

/// The file's code outside its tests, for the kept steps; `None` when there is none (only
/// comments and blank lines), so that tests can be translated to steps.
fn prelude(rest: &str) -> Option<String> {
    let code = statements(rest, 1)
        .iter()
        .any(|s| !matches!(s.kind, Kind::Blank | Kind::Comment(_)));
    code.then(|| {
        // `load NAME` sources NAME.bash beside the file.
        let lines: Vec<String> = rest
            .lines()
            .map(|line| match line.trim().strip_prefix("load ") {
                Some(name) => {
                    let name = name.trim().trim_matches(['"', '\'']);
                    let file = if name.ends_with(".bash") {
                        name.to_owned()
                    } else {
                        format!("{name}.bash")
                    };
                    format!("source \"$BATS_TEST_DIRNAME/{file}\"")
                }
                None => line.to_owned(),
            })
            .collect();
        lines.join("\n").trim().to_owned()
    })
}

/// A test kept as shell: as bats runs it.
fn kept(test: &Test, prelude: Option<&str>) -> Step {
    // Bats gives tests a descriptor 3 for lines meant for its own output.
    let mut sh = String::from("exec 3>&1\n");
    sh.push_str(RUN_FUNCTION);
    sh.push('\n');
    if let Some(prelude) = prelude {
        sh.push_str(prelude);
        sh.push('\n');
    }
    sh.push_str("declare -F setup >/dev/null && setup\n(\nset -eE\n");
    sh.push_str(test.body.trim_end());
    sh.push_str(
        "\n)\nbats_status=$?\ndeclare -F teardown >/dev/null && teardown\nexit $bats_status",
    );
    Step {
        comments: vec![format!(
            "line {}: @test \"{}\", kept as shell (body from line {})",
            test.line, test.name, test.body_line
        )],
        name: Some(format!("{} (line {})", test.name, test.line)),
        sh: Some(sh),
        check: true,
        ..Step::default()
    }
}

/// A test of `run` lines and checks as steps; `None` when it has anything else.
fn structured(test: &Test) -> Option<Vec<Step>> {
    let mut steps: Vec<Step> = Vec::new();
    for statement in statements(&test.body, test.body_line) {
        match statement.kind {
            Kind::Blank | Kind::Comment(_) => continue,
            Kind::Simple => {}
            _ => return None,
        }
        let (tokens, _) = tokenize(statement.text.trim()).ok()?;
        let words: Vec<Word> = tokens
            .iter()
            .map(|t| match t {
                Token::Word(w) => Some(w.clone()),
                Token::Op(_) => None,
            })
            .collect::<Option<_>>()?;
        let head = words.first()?.plain()?;
        if head == "run" {
            let command = &words[1..];
            if command.is_empty()
                || command[0]
                    .plain()
                    .is_some_and(|w| w.starts_with(['-', '!']))
            {
                return None;
            }
            let number = steps.len() + 1;
            steps.push(Step {
                comments: vec![format!(
                    "line {}: {}",
                    statement.line,
                    statement.text.trim()
                )],
                name: Some(if number == 1 {
                    format!("{} (line {})", test.name, test.line)
                } else {
                    format!("{}: run {number} (line {})", test.name, test.line)
                }),
                sh: Some(format!("{} 2>&1", requote(command))),
                status: Some("any".to_owned()),
                check: true,
                ..Step::default()
            });
            continue;
        }
        let step = steps.last_mut()?;
        apply_check(&words, step)?;
    }
    (!steps.is_empty()).then_some(steps)
}

/// A check of the last `run`'s status or output, set on its step; `None` when `words` is
/// not one (or the step already has that check).
fn apply_check(words: &[Word], step: &mut Step) -> Option<()> {
    let plain: Vec<Option<String>> = words.iter().map(Word::plain).collect();
    let texts: Vec<String> = words.iter().map(Word::eval_text).collect();
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    let value = |i: usize| words.get(i).and_then(|w| w.template().ok());
    match texts.as_slice() {
        ["assert_success"] => set(&mut step.status, "0".to_owned()),
        ["assert_failure"] => set(&mut step.status, "failure".to_owned()),
        ["assert_failure", code] if code.parse::<u8>().is_ok() => {
            set(&mut step.status, (*code).to_owned())
        }
        ["assert_output", "--partial", _] => set(&mut step.stdout_contains, value(2)?),
        ["assert_output", _] if plain[1].as_deref().is_some_and(|t| !t.starts_with('-')) => {
            set(&mut step.stdout_equals, value(1)?)
        }
        ["[" | "[[", "$status", "-eq" | "=" | "==", code, "]" | "]]"]
            if code.parse::<u8>().is_ok() =>
        {
            set(&mut step.status, (*code).to_owned())
        }
        ["[" | "[[", "$status", "-ne" | "!=", "0", "]" | "]]"] => {
            set(&mut step.status, "failure".to_owned())
        }
        ["[" | "[[", "$output", "=" | "==", _, "]" | "]]"] => {
            let expected = &words[3];
            // In `[[ … == PATTERN ]]` an unquoted `*` is a pattern: `*text*` is "contains".
            if texts[0] == "[[" && expected.plain().is_none() {
                return None;
            }
            match contained(texts[0], expected) {
                Some(inner) => set(&mut step.stdout_contains, inner),
                None if !(texts[0] == "[[" && texts[3].contains(['*', '?', '['])) => {
                    set(&mut step.stdout_equals, value(3)?)
                }
                None => None,
            }
        }
        _ => None,
    }
}

/// `*"text"*` in `[[ … == … ]]`: the text, when the stars are the pattern's only parts.
fn contained(bracket: &str, word: &Word) -> Option<String> {
    use super::words::Part;
    if bracket != "[[" {
        return None;
    }
    match word.parts.as_slice() {
        [
            Part::Expandable(star1),
            Part::Literal(text),
            Part::Expandable(star2),
        ] if star1 == "*" && star2 == "*" && !text.contains('\n') => {
            Some(super::words::protect(text))
        }
        [Part::Expandable(all)] => {
            let inner = all.strip_prefix('*')?.strip_suffix('*')?;
            (!inner.is_empty() && !inner.contains(['*', '?', '[', '$', '\\', '`']))
                .then(|| inner.to_owned())
        }
        _ => None,
    }
}

/// Sets a check the step does not have yet.
fn set(slot: &mut Option<String>, value: String) -> Option<()> {
    match slot.as_deref() {
        None | Some("any") => {
            *slot = Some(value);
            Some(())
        }
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn import(source: &str) -> Imported {
        import_bats(source, "t.bats", &ImportOptions::default())
    }

    #[test]
    fn run_and_its_checks_become_a_step() {
        let imported = import(
            "#!/usr/bin/env bats\n\n@test \"prints its version\" {\n  run git --version\n  [ \"$status\" -eq 0 ]\n  [[ \"$output\" == *\"git version\"* ]]\n}\n",
        );
        assert!(imported.warnings.is_empty(), "{:?}", imported.warnings);
        let toml = &imported.toml;
        assert!(
            toml.contains("name = \"prints its version (line 3)\""),
            "{toml}"
        );
        assert!(toml.contains("sh = \"git --version 2>&1\""), "{toml}");
        assert!(toml.contains("status = 0\n"), "{toml}");
        assert!(toml.contains("stdout.contains = \"git version\""), "{toml}");
    }

    #[test]
    fn other_tests_are_kept_as_bats_runs_them() {
        let imported = import(
            "setup() { cd \"$BATS_TEST_TMPDIR\"; }\n\n@test 'inits' {\n  git init -q .\n  [ -d .git ]\n}\n",
        );
        assert_eq!(imported.warnings.len(), 1);
        assert_eq!(imported.warnings[0].line, 3);
        assert!(
            (imported.warnings[0].message).contains("the file has code outside its tests"),
            "{:?}",
            imported.warnings
        );
        let toml = &imported.toml;
        assert!(toml.contains("name = \"inits (line 3)\""), "{toml}");
        assert!(
            toml.contains("declare -F setup >/dev/null && setup"),
            "{toml}"
        );
        assert!(toml.contains("setup() { cd"), "{toml}");
        assert!(!toml.contains("@test 'inits' {"), "{toml}");
    }

    #[test]
    fn tests_are_numbered_in_file_order() {
        let source = "@test \"a\" {\n true\n}\n# @test in a comment\n@test b {\n true\n}\n";
        assert!(is_bats(source));
        assert_eq!(bats_test_lines(source), [1, 5]);
        assert!(!is_bats("echo '@test'\n"));
    }
}
