//! `smoke-runner import`: scripts written with the `test_utils.sh` helpers (our own, in
//! `tests/import_scripts/`) become suites that load without edits and run green against the
//! Plandex stand-in; bad input is refused with a clear message.

use std::path::PathBuf;
use std::process::Output;

use crate::support::{TestEnv, plandex_standin, repo_root, stderr, stdout};

fn script(name: &str) -> PathBuf {
    repo_root().join("tests/import_scripts").join(name)
}

/// Imports `script` into `suites/<stem>.toml` of a scratch folder.
fn import_into(env: &TestEnv, name: &str) -> Output {
    let target = env.path().join("suites").join(name.replace(".sh", ".toml"));
    env.run(&[
        "import",
        script(name).to_str().unwrap(),
        "-o",
        target.to_str().unwrap(),
    ])
}

/// A scratch folder set up to run imported suites against the stand-in.
fn standin_env() -> TestEnv {
    TestEnv::new()
        .env("PLANDEX_CMD", &plandex_standin().display().to_string())
        .env("OPENROUTER_API_KEY", "sk-or-import-test-key")
        .env("OPENAI_API_KEY", "sk-openai-import-test-key")
}

/// Imports and runs one script, returning the import's and the run's output.
fn import_and_run(name: &str) -> (Output, Output) {
    let env = standin_env();
    let imported = import_into(&env, name);
    assert_eq!(imported.status.code(), Some(0), "{}", stderr(&imported));
    let run = env.run(&["--color", "never"]);
    (imported, run)
}

fn assert_all_passed(run: &Output, steps: usize) {
    let report = stdout(run);
    assert_eq!(run.status.code(), Some(0), "{report}\n{}", stderr(run));
    assert!(
        report.contains(&format!("{steps} passed, 0 failed, 0 skipped")),
        "{report}"
    );
}

#[test]
fn script_with_every_helper_and_construct_runs_green_against_the_standin() {
    let (imported, run) = import_and_run("plandex_flow.sh");
    assert_all_passed(&run, 29);
    assert!(
        stderr(&imported).contains("imported 29 step(s) from"),
        "{}",
        stderr(&imported)
    );
}

#[test]
fn smoke_test_style_script_runs_green_against_the_standin() {
    let (imported, run) = import_and_run("smoke_flow.sh");
    assert_all_passed(&run, 38);
    assert!(
        stderr(&imported).contains("(0 warning(s))"),
        "{}",
        stderr(&imported)
    );
    // Sections come from the functions' `log "=== Testing X ==="` lines, in order.
    let report = stdout(&run);
    let sections: Vec<&str> = report
        .lines()
        .filter(|l| l.starts_with("=== Testing"))
        .collect();
    assert_eq!(
        sections,
        [
            "=== Testing Setup ===",
            "=== Testing Plan Management ===",
            "=== Testing Context Management ===",
            "=== Testing Task Execution ===",
            "=== Testing Chat ===",
            "=== Testing Continue and Build ===",
            "=== Testing Branches ===",
            "=== Testing Version Control ===",
            "=== Testing Context Updates ===",
            "=== Testing Archive ===",
        ]
    );
    // `REWIND_STEPS=2` between steps: an env for the later steps, its value in the note.
    assert!(report.contains("ℹ Will rewind 2 steps"), "{report}");
    assert!(report.contains("rewind 2 --revert"), "{report}");
}

#[test]
fn custom_models_style_script_runs_green_against_the_standin() {
    let (imported, run) = import_and_run("custom_models_flow.sh");
    assert_all_passed(&run, 12);
    // The script echoes the key; the suite checks it is set instead, and never prints it.
    assert!(
        stderr(&imported).contains(
            "custom_models_flow.sh:43: prints the secret OPENROUTER_API_KEY: replaced by a check that it is set"
        ),
        "{}",
        stderr(&imported)
    );
    assert!(stdout(&run).contains("✓ OPENROUTER_API_KEY is set"));
    assert!(!stdout(&run).contains("sk-or-import-test-key"));
}

#[test]
fn imported_suite_goes_red_when_a_translated_check_fails() {
    // The stand-in's `apply` does nothing: the kept shell check on main.go must catch it.
    let env = standin_env().env("PLANDEX_STANDIN_BREAK", "apply=noop");
    import_into(&env, "smoke_flow.sh");
    let run = env.run(&["--color", "never"]);
    assert_eq!(run.status.code(), Some(1));
    assert!(
        stdout(&run).contains("✗ if ! grep -q \"func helloWorld\" main.go; then (line 50)"),
        "{}",
        stdout(&run)
    );
}

/// The translation of each helper and construct, as a reader sees it in the file.
#[test]
fn every_helper_and_construct_has_its_translation() {
    let output = TestEnv::new().run(&["import", script("plandex_flow.sh").to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let toml = stdout(&output);
    let expected = [
        // setup_test_dir NAME: the suite's name; setup's own lines are Setup steps.
        "name = \"imported-flow\"",
        "section = \"Setup\"\nname = \"make_project\"",
        "section = \"Setup\"\nsh = \"echo \\\"# Flow project\\\" > README.md\"",
        // Plandex command: requires, one account, the command for shell steps.
        "requires = [\"${PLANDEX_CMD:-plandex-dev}\"]",
        "exclusive = \"plandex-account\"",
        "PLANDEX_CMD = \"${PLANDEX_CMD:-plandex-dev}\"",
        // source test_utils.sh: its PLANDEX_ENV for every command.
        "PLANDEX_ENV = \"development\"   # line 5",
        // Assignments → suite env.
        "PROMPT_HELLO = \"add a hello world function to main.go\"",
        "PLAN_NAME = \"flow-plan\"",
        // set -e, source, PLANDEX_* defaults, trap, cleanup, exit 0: commented, not lost.
        "# line 4: `set -e` dropped",
        "# line 5: `source \"$(dirname \"$0\")/test_utils.sh\"` dropped",
        "# line 7: `PLANDEX_CMD=\"${PLANDEX_CMD:-plandex-dev}\"` dropped",
        "# line 8: `PLANDEX_TIMEOUT=${PLANDEX_TIMEOUT:-300}` dropped",
        "# line 9: `PLANDEX_ENV_FILE=${PLANDEX_ENV_FILE:-../.env.client-keys}` dropped",
        "# line 39: `trap cleanup_test_dir EXIT` dropped",
        "# line 91: `exit 0` dropped",
        // log "=== Testing X ===" → section; info/success → notes.
        "# line 41: section \"Plan Management\" starts",
        "section = \"Plan Management\"\nnote = \"plans listed\"",
        "section = \"Cleanup\"\nnote = \"All flow checks passed\"",
        // run_plandex_cmd
        "name = \"Create the plan\"\nrun = \"new -n ${PLAN_NAME}\"",
        "name = \"Ask for a hello function\"\nrun = \"tell \\\"${PROMPT_HELLO}\\\"\"",
        // check_plandex_contains: combined output, exit status ignored.
        "name = \"The plan is current\"\nrun = \"current\"\nstatus = \"any\"\noutput.contains = \"${PLAN_NAME}\"",
        // alias of the command
        "# line 14: `pdxd` is an alias of the Plandex command",
        "section = \"Plan Management\"\nrun = \"plans\"",
        // run_plandex_cmd_output in $(…) → capture
        "name = \"Capture PLAN_LIST\"\nrun = \"plans\"\ncapture = \"PLAN_LIST\"",
        // run_plandex_cmd_with_timeout, numeric and PLANDEX_TIMEOUT
        "name = \"Load main.go\"\nrun = \"load main.go\"\ntimeout = \"30\"",
        "name = \"Load a note\"\nrun = \"load -n 'prefer small functions'\"\n\n",
        // check_file: a regular file
        "name = \"File main.go exists\"\nsh = \"test -f 'main.go'\"",
        // run_cmd with the command → run; with a plain command → sh
        "name = \"Show the diff\"\nrun = \"diff --git\"",
        "name = \"Count functions\"\nsh = \"grep -c func main.go\"",
        // run_cmd_with_timeout
        "name = \"Apply the change\"\nrun = \"apply --auto-exec --skip-commit\"\ntimeout = \"60\"",
        // a script function with arguments, kept with its definition (and `error`'s)
        "error() { printf '✗ %s\\n' \"$*\" >&2; exit 1; }\nhas_text() {\n    grep -q \"$1\" \"$2\" || error \"$2 does not contain $1\"\n}\nhas_text helloWorld main.go",
        // blocks and here-documents: sh steps
        "# line 59: a shell block, kept as shell",
        "check_file() { [ -f \"$1\" ] || {",
        "# line 79: a here-document, kept as shell",
        "cat > notes.txt <<EOF\nplan: $PLAN_NAME\nEOF",
        // a captured plain command, and a list using it
        "name = \"Capture FUNC_COUNT\"\nsh = \"grep -c '^func ' main.go\"\ncapture = \"FUNC_COUNT\"",
        "[ \"$FUNC_COUNT\" -ge 2 ] || error \"expected at least two functions\"",
        // expect_plandex_failure / expect_failure
        "name = \"Unknown plan fails\"\nrun = \"cd no-such-plan\"\nstatus = \"failure\"",
        "name = \"Nothing to apply fails\"\nrun = \"apply\"\nstatus = \"failure\"",
        // PREV=$VAR; unset; step; export VAR=$PREV
        "run = \"tell 'add a goodbye function'\"\nenv_remove = [\"OPENROUTER_API_KEY\", \"OPENAI_API_KEY\"]\nstatus = \"failure\"",
        "name = \"Tell with the key works\"\nrun = \"tell 'add a goodbye function'\"\nenv_remove = [\"OPENAI_API_KEY\"]\n",
        // || true
        "run = \"archive no-such-plan\"\nenv_remove = [\"OPENAI_API_KEY\"]\nstatus = \"any\"",
        // cd: kept, marked
        "# line 82: not translated (`cd` only lasts for its own step",
        // export after steps → env on later steps; echo y | … and … <<< y → stdin
        "name = \"Delete the plan\"\nrun = \"dp ${PLAN_NAME}\"\nstdin = \"y\\n\"\nenv = { FLOW_STAGE = \"cleanup\" }",
        "run = \"dp throwaway\"\nstdin = \"y\\n\"",
    ];
    for fragment in expected {
        assert!(
            toml.contains(fragment),
            "missing:\n{fragment}\n\nin:\n{toml}"
        );
    }
    assert!(
        stderr(&output).contains(
            "plandex_flow.sh:82: `cd` only lasts for its own step; every step starts in the test dir: kept as an sh step: cd \"$TEST_DIR\""
        ),
        "{}",
        stderr(&output)
    );
}

/// Nothing from the script is silently dropped: every statement's line is in the output.
#[test]
fn every_statement_line_is_accounted_for() {
    for name in ["plandex_flow.sh", "smoke_flow.sh", "custom_models_flow.sh"] {
        let source = std::fs::read_to_string(script(name)).unwrap();
        let output = TestEnv::new().run(&["import", script(name).to_str().unwrap()]);
        let toml = stdout(&output);
        let mut depth = 0i32;
        let mut in_heredoc = false;
        for (index, line) in source.lines().enumerate() {
            let trimmed = line.trim();
            if in_heredoc {
                in_heredoc = trimmed != "EOF";
                continue;
            }
            let opens_heredoc = trimmed.contains("<<'EOF'") || trimmed.contains("<<EOF");
            // Top-level statements only: function bodies are accounted for by their calls.
            if trimmed.ends_with("() {") {
                depth += 1;
                continue;
            }
            if trimmed == "}" {
                depth -= 1;
                continue;
            }
            let starts_statement = depth == 0
                && !trimmed.is_empty()
                && !trimmed.starts_with('#')
                && !line.starts_with(' ')
                && !["fi", "done"].contains(&trimmed);
            in_heredoc = opens_heredoc;
            if starts_statement {
                let number = index + 1;
                assert!(
                    toml.contains(&format!("line {number}:"))
                        || toml.contains(&format!("line {number}\n"))
                        || toml.contains(&format!("(line {number})")),
                    "{name}:{number} `{trimmed}` is not in the output:\n{toml}"
                );
            }
        }
    }
}

#[test]
fn untranslatable_timeout_is_kept_with_a_warning() {
    let env = TestEnv::new().file(
        "odd.sh",
        "run_plandex_cmd_with_timeout \"plans\" \"List\" \"$SLOW\"\nrun_plandex_cmd \"tell $(cat prompt.txt)\" \"Tell from a file\"\n",
    );
    let output = env.run(&["import", "odd.sh"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output)
            .contains("odd.sh:1: timeout `$SLOW` is not a number: the step uses PLANDEX_TIMEOUT"),
        "{}",
        stderr(&output)
    );
    // A command substitution cannot be a `run` line: bash runs it.
    assert!(
        stdout(&output).contains("$PLANDEX_CMD tell $(cat prompt.txt)"),
        "{}",
        stdout(&output)
    );
}

mod bad_input {
    use super::*;

    fn import_error(env: &TestEnv, path: &str) -> String {
        let output = env.run(&["import", path]);
        assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
        let message = stderr(&output);
        assert!(!message.contains("panicked"), "{message}");
        assert!(stdout(&output).is_empty());
        message
    }

    #[test]
    fn missing_file() {
        let message = import_error(&TestEnv::new(), "nope.sh");
        assert!(
            message.starts_with("error: cannot read nope.sh: "),
            "{message}"
        );
    }

    #[test]
    fn directory() {
        let message = import_error(&TestEnv::new(), "suites");
        assert_eq!(
            message,
            "error: cannot read suites: it is a folder, not a regular file\n"
        );
    }

    #[test]
    fn fifo_is_refused_without_blocking() {
        let env = TestEnv::new();
        let fifo = env.path().join("pipe.sh");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        let message = import_error(&env, "pipe.sh");
        assert!(
            message.starts_with("error: cannot read pipe.sh: it is a"),
            "{message}"
        );
    }

    #[test]
    fn binary_garbage() {
        let env = TestEnv::new();
        let garbage: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect();
        std::fs::write(env.path().join("garbage.sh"), garbage).unwrap();
        let message = import_error(&env, "garbage.sh");
        assert_eq!(
            message,
            "error: garbage.sh is not a text file (a NUL byte at offset 0): give a bash script\n"
        );
    }

    #[test]
    fn invalid_utf8() {
        let env = TestEnv::new();
        std::fs::write(env.path().join("latin1.sh"), b"log \"caf\xe9\"\n").unwrap();
        let message = import_error(&env, "latin1.sh");
        assert_eq!(
            message,
            "error: latin1.sh is not UTF-8 text (invalid byte at offset 8): give a bash script\n"
        );
    }

    #[test]
    fn huge_file() {
        let env = TestEnv::new();
        let line = "run_plandex_cmd \"plans\" \"List plans\"\n";
        std::fs::write(env.path().join("huge.sh"), line.repeat(40_000)).unwrap();
        let message = import_error(&env, "huge.sh");
        assert_eq!(
            message,
            "error: huge.sh is larger than 1024 KiB: not a test script this import can translate\n"
        );
    }

    #[test]
    fn script_without_commands() {
        let env = TestEnv::new().file("empty.sh", "#!/bin/bash\n# nothing yet\nset -e\n");
        let message = import_error(&env, "empty.sh");
        assert_eq!(
            message,
            "error: empty.sh has no commands to turn into steps: give a test script\n"
        );
    }

    #[test]
    fn unwritable_output() {
        let env = TestEnv::new().file("ok.sh", "run_plandex_cmd \"plans\" \"List\"\n");
        let output = env.run(&["import", "ok.sh", "-o", "no-such-dir/ok.toml"]);
        assert_eq!(output.status.code(), Some(2));
        assert!(
            stderr(&output).starts_with("error: cannot write no-such-dir/ok.toml: "),
            "{}",
            stderr(&output)
        );
    }
}

/// `run_plandex_cmd "tell '$PROMPT'"`: the calling shell expands `$PROMPT` before `eval` sees
/// the single quotes, so the suite must pass the prompt's value, not the text `$PROMPT`.
#[test]
fn regression_prompt_in_single_quotes_inside_a_helper_command_is_expanded() {
    let output = TestEnv::new().run(&["import", script("smoke_flow.sh").to_str().unwrap()]);
    let toml = stdout(&output);
    assert!(
        toml.contains("name = \"Execute tell command\"\nrun = \"tell '${PROMPT_HELLO}'\""),
        "{toml}"
    );
    assert!(toml.contains("run = \"load -n 'keep it short'\""), "{toml}");
}

/// Scripts in the styles other projects write their shell tests in (our own, with their own
/// helper libraries, in `tests/import_corpus/`), each testing a real program (expr, seq,
/// cut, sed, head, python3, grep, wc, tr, basename, sort, git): each script run by bash and
/// its imported suite run by smoke-runner give the same verdict on every check, against the
/// working program and against one broken on purpose by a shim of `broken/` put first on PATH.
mod corpus {
    use std::collections::BTreeMap;
    use std::path::{Path, PathBuf};

    use crate::support::{TestEnv, repo_root, smoke_runner, stderr, stdout};

    /// One script of the corpus: how many checks it has, and what breaking its program does.
    struct Case {
        script: &'static str,
        /// A `set -e` script: no helper prints verdicts; bash's traps say which line failed.
        errexit: bool,
        /// How many checks the script has: against the working program, the broken one (a
        /// check that prints only when it fails is seen then).
        checks: (usize, usize),
        /// The shim's variable and value for the broken run, and how many checks then fail.
        broken: Broken,
        failing: usize,
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Verdict {
        Pass,
        Fail,
        Skip,
    }

    fn corpus() -> PathBuf {
        repo_root().join("tests/import_corpus")
    }

    /// A shim's variable and the value that breaks its program, e.g. `("SED_BREAK", "inplace")`.
    type Broken = (&'static str, &'static str);

    /// `PATH` with the shims of `broken/` first.
    fn broken_path() -> String {
        format!(
            "{}:{}",
            corpus().join("broken").display(),
            std::env::var("PATH").unwrap_or_default()
        )
    }

    /// The environment of a run: nothing more for the working program; the shims first on
    /// PATH and the variable that breaks one of them for the broken program.
    fn break_env(command: &mut std::process::Command, broken: Option<Broken>) {
        if let Some((key, value)) = broken {
            command.env("PATH", broken_path()).env(key, value);
        }
    }

    /// `(line N)` at the end of a report line or step name.
    fn line_of(text: &str) -> Option<usize> {
        let start = text.rfind("(line ")? + "(line ".len();
        text[start..].strip_suffix(')')?.parse().ok()
    }

    /// The script's verdicts by line: from the PASS/FAIL (`ok`/`not ok`) lines its helpers
    /// print, or for a `set -e` script from bash's DEBUG and ERR traps (lines reached, the
    /// line that failed; set in the script only, not in the bash shims it runs).
    fn script_verdicts(
        env: &TestEnv,
        case: &Case,
        broken: Option<Broken>,
    ) -> BTreeMap<usize, Verdict> {
        let log = env.path().join("trap.log");
        let traps = env.path().join("traps.bash");
        std::fs::write(
            &traps,
            "unset BASH_ENV\n\
             trap 'echo \"reached $LINENO\" >> \"$VERDICT_LOG\"' DEBUG\n\
             trap 'echo \"failed $LINENO\" >> \"$VERDICT_LOG\"' ERR\n",
        )
        .unwrap();
        let _ = std::fs::remove_file(&log);
        let mut bash = env.std_command("bash");
        bash.current_dir(corpus())
            .arg(corpus().join(case.script))
            .env("VERDICT_LOG", &log);
        break_env(&mut bash, broken);
        if case.errexit {
            bash.env("BASH_ENV", &traps);
        }
        let output = bash.output().expect("run bash");
        let mut verdicts = BTreeMap::new();
        if case.errexit {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            for entry in text.lines() {
                let (what, line) = entry.split_once(' ').expect("trap line");
                let line: usize = line.parse().expect("line number");
                let verdict = if what == "failed" {
                    Verdict::Fail
                } else {
                    Verdict::Pass
                };
                if verdict == Verdict::Fail || !verdicts.contains_key(&line) {
                    verdicts.insert(line, verdict);
                }
            }
            return verdicts;
        }
        for report in stdout(&output).lines() {
            let verdict = if report.starts_with("PASS ") || report.starts_with("ok ") {
                Verdict::Pass
            } else if report.starts_with("FAIL ") || report.starts_with("not ok ") {
                Verdict::Fail
            } else {
                continue;
            };
            if let Some(line) = line_of(report) {
                verdicts.insert(line, verdict);
            }
        }
        verdicts
    }

    /// Imports the script (from the corpus folder, as its project root), once.
    fn import(env: &TestEnv, case: &Case) -> PathBuf {
        let suite = env
            .path()
            .join("suites")
            .join(case.script.replace(".sh", ".toml"));
        let output = env
            .std_command(smoke_runner())
            .current_dir(corpus())
            .args(["import", case.script, "-o"])
            .arg(&suite)
            .output()
            .expect("run import");
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        suite
    }

    /// The suite's verdicts by the script line each step names.
    fn suite_verdicts(
        env: &TestEnv,
        suite: &Path,
        broken: Option<Broken>,
    ) -> BTreeMap<usize, Verdict> {
        let json = env.path().join("events.jsonl");
        let mut command = env.std_command(smoke_runner());
        command
            .args(["--no-history", "--color", "never", "--suites"])
            .arg(suite)
            .arg("--json")
            .arg(&json);
        break_env(&mut command, broken);
        let output = command.output().expect("run smoke-runner");
        let events = std::fs::read_to_string(&json)
            .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(&output), stderr(&output)));
        let mut verdicts = BTreeMap::new();
        for event in events.lines() {
            let event: serde_json::Value = serde_json::from_str(event).expect("JSON event");
            if event["event"] != "step_finished" {
                continue;
            }
            let name = event["step"]["name"].as_str().expect("step name");
            let line = line_of(name).unwrap_or_else(|| panic!("step `{name}` names no line"));
            let verdict = match event["outcome"].as_str() {
                Some("passed") => Verdict::Pass,
                Some("skipped") => Verdict::Skip,
                _ => Verdict::Fail,
            };
            verdicts.insert(line, verdict);
        }
        verdicts
    }

    /// Compares check by check; returns how many checks failed.
    fn compare(case: &Case, broken: Option<Broken>) -> usize {
        let env = TestEnv::new();
        let suite = import(&env, case);
        let toml = std::fs::read_to_string(&suite).unwrap();
        let script = script_verdicts(&env, case, broken);
        let imported = suite_verdicts(&env, &suite, broken);
        // A `set -e` script's checks are its commands: the lines the suite has steps for.
        // Otherwise they are the lines its helpers report on, in this run or (for a script
        // that stops at its first failure) in the run against the working program.
        let mut checks: Vec<usize> = if case.errexit {
            imported.keys().copied().collect()
        } else {
            script.keys().copied().collect()
        };
        if !case.errexit && broken.is_some() {
            checks.extend(script_verdicts(&env, case, None).into_keys());
            checks.sort_unstable();
            checks.dedup();
        }
        let context = format!(
            "{} broken by {broken:?}\nscript: {script:?}\nsuite: {imported:?}\n{toml}",
            case.script
        );
        let expected = if broken.is_some() {
            case.checks.1
        } else {
            case.checks.0
        };
        assert_eq!(checks.len(), expected, "checks of {context}");
        for line in &checks {
            let expected = script.get(line).copied().unwrap_or(Verdict::Skip);
            assert_eq!(
                imported.get(line).copied(),
                Some(expected),
                "line {line} of {context}"
            );
        }
        for (line, verdict) in &imported {
            if *verdict == Verdict::Fail {
                assert_eq!(
                    script.get(line),
                    Some(&Verdict::Fail),
                    "line {line} of {context}"
                );
            }
        }
        checks
            .iter()
            .filter(|l| script.get(l) == Some(&Verdict::Fail))
            .count()
    }

    fn same_verdicts(case: &Case) {
        assert_eq!(
            compare(case, None),
            0,
            "{} fails against the working program",
            case.script
        );
        assert_eq!(
            compare(case, Some(case.broken)),
            case.failing,
            "{} against a broken program",
            case.script
        );
        import_check_agrees(case.script, &[], 0);
        let (key, value) = case.broken;
        import_check_agrees(
            case.script,
            &[("PATH", &broken_path()), (key, value)],
            case.failing,
        );
    }

    /// `smoke-runner import --check SCRIPT` run from the corpus folder with `env`.
    fn import_check(script: &str, env: &[(&str, &str)], extra: &[&str]) -> std::process::Output {
        let scratch = TestEnv::new();
        let mut command = scratch.std_command(smoke_runner());
        command
            .current_dir(corpus())
            .args(["import", "--check", script])
            .args(extra);
        for (key, value) in env {
            command.env(key, value);
        }
        command.output().expect("run import --check")
    }

    /// `import --check` finds no difference, and the script fails `failing` checks.
    fn import_check_agrees(script: &str, env: &[(&str, &str)], failing: usize) {
        let output = import_check(script, env, &[]);
        let report = stdout(&output);
        let context = format!("{script} with {env:?}:\n{report}{}", stderr(&output));
        assert_eq!(output.status.code(), Some(0), "{context}");
        assert!(report.contains(", 0 difference(s)\n"), "{context}");
        let failed = report
            .lines()
            .filter(|l| l.contains("script fail     suite fail"))
            .count();
        assert_eq!(failed, failing, "{context}");
    }

    /// A bats file testing git: `run` and its checks become steps; a test that does more is
    /// kept as bats runs it. Broken on purpose by a `git` first on PATH.
    #[test]
    fn bats_tests_against_git_agree_with_bats() {
        let broken_path = broken_path();
        import_check_agrees("git.bats", &[], 0);
        for (break_what, failing) in [("hash", 1), ("config", 1)] {
            import_check_agrees(
                "git.bats",
                &[("PATH", &broken_path), ("GIT_BREAK", break_what)],
                failing,
            );
        }
    }

    /// Tests named first, with a body the library evaluates (git's test-suite style), testing
    /// sort; the library is found through `: "${CORPUS_LIB:=lib}"`. Broken on purpose by a
    /// `sort` first on PATH that ignores `-n`.
    #[test]
    fn named_test_bodies_against_sort_agree_with_bash() {
        let broken_path = broken_path();
        import_check_agrees("expect_success.sh", &[], 0);
        import_check_agrees(
            "expect_success.sh",
            &[("PATH", &broken_path), ("SORT_BREAK", "numeric")],
            1,
        );
    }

    /// A sharness-style script testing jq: the script sources `$TEST_DIRECTORY/test-lib.sh`,
    /// which sources its helpers through the same variable, and they source `test_cmp` from
    /// their own folder (`${BASH_SOURCE%/*}`). Steps that call the nested helpers source the
    /// library the script sourced. Broken on purpose by a `jq` first on PATH that ignores `-r`.
    #[test]
    fn libraries_sourced_by_libraries_against_jq_agree_with_bash() {
        let env = TestEnv::new();
        let output = env
            .std_command(smoke_runner())
            .current_dir(corpus())
            .args(["import", "sharness_style.sh"])
            .output()
            .expect("run import");
        let toml = stdout(&output);
        assert_eq!(stderr(&output), "", "{toml}");
        // test_cmp (two libraries down) and test_must_fail (one down) are known as library
        // functions: the steps calling them source test-lib.sh, which reads them.
        assert!(
            toml.contains("sh = \'\'\'\n. 'lib/sharness/test-lib.sh'\necho \"{\\\"name\\\":\\\"smoke\\\"}\" | jq .name >actual &&"),
            "{toml}"
        );
        assert!(
            toml.contains(". 'lib/sharness/test-lib.sh'\necho \"{\\\"ok\\\":false}\" | test_must_fail jq -e .ok"),
            "{toml}"
        );
        import_check_agrees("sharness_style.sh", &[], 0);
        import_check_agrees(
            "sharness_style.sh",
            &[("PATH", &broken_path()), ("JQ_BREAK", "raw")],
            1,
        );
    }

    /// Checks inside test functions, each a command followed by an `if [ $? … ]` block that
    /// reports a coloured ✔ or ✖ on standard error through a helper, with arrays set before
    /// (testing comm). The script's side is observed: its lines inside functions, the
    /// reporter's calls. Broken on purpose by a `comm` first on PATH whose `-12` is wrong.
    #[test]
    fn status_blocks_inside_test_functions_against_comm_agree_with_bash() {
        import_check_agrees("function_checks.sh", &[], 0);
        import_check_agrees(
            "function_checks.sh",
            &[("PATH", &broken_path()), ("COMM_BREAK", "common")],
            1,
        );
    }

    /// shUnit2's style, testing base64: test functions with assertions between `setUp` and
    /// `tearDown`, shUnit2 sourced last from PATH. Each test is a step running shUnit2 on it
    /// alone; the script's side judges each test by the lines inside it. Broken on purpose
    /// by a `base64` first on PATH whose `-d` does not decode.
    #[test]
    fn shunit2_tests_against_base64_agree_with_bash() {
        let env = TestEnv::new();
        let output = env
            .std_command(smoke_runner())
            .current_dir(corpus())
            .args(["import", "shunit2_style.sh"])
            .output()
            .expect("run import");
        let toml = stdout(&output);
        assert!(
            toml.contains("name = \"testDecodesWhatItEncoded (line 18)\""),
            "{toml}{}",
            stderr(&output)
        );
        assert!(
            toml.contains("suite() { suite_addTest testDecodesWhatItEncoded; }\\n. 'shunit2'\""),
            "{toml}"
        );
        import_check_agrees("shunit2_style.sh", &[], 0);
        import_check_agrees(
            "shunit2_style.sh",
            &[("PATH", &broken_path()), ("BASE64_BREAK", "decode")],
            2,
        );
    }

    /// A library's `source` line that cannot be followed is named with the library's file and
    /// line: a variable nobody sets, a file that is not there, a library sourcing itself back.
    #[test]
    fn library_source_lines_that_cannot_be_followed_are_named() {
        let env = TestEnv::new()
            .file(
                "t/check.sh",
                ". \"$(dirname \"$0\")/lib/main.sh\"\nsay_ok hello\n",
            )
            .file(
                "t/lib/main.sh",
                "# helpers\n. \"$HELPERS_HOME/extra.sh\"\n. \"${BASH_SOURCE%/*}/missing.sh\"\n. \"${BASH_SOURCE%/*}/more.sh\"\nsay_ok() { echo \"ok $1\"; }\n",
            )
            .file(
                "t/lib/more.sh",
                ". \"$(dirname \"${BASH_SOURCE[0]}\")/main.sh\"\nmore() { :; }\n",
            );
        let output = env
            .command()
            .env_remove("HELPERS_HOME")
            .args(["import", "t/check.sh"])
            .output()
            .expect("run import");
        let text = stderr(&output);
        assert_eq!(output.status.code(), Some(0), "{text}");
        assert_eq!(
            text,
            "warning: t/lib/main.sh:2: `. \"$HELPERS_HOME/extra.sh\"`: the import cannot tell what `$HELPERS_HOME` is (set it in the environment of `smoke-runner import`); the functions it defines are unknown to the import\n\
             warning: t/lib/main.sh:3: `. \"${BASH_SOURCE%/*}/missing.sh\"`: no such file: t/lib/missing.sh; the functions it defines are unknown to the import\n\
             warning: t/lib/more.sh:1: `. \"$(dirname \"${BASH_SOURCE[0]}\")/main.sh\"`: sources t/lib/main.sh again while it is being read (a cycle): not followed\n"
        );
        // Set where bash would find it, the variable is followed.
        let output = env
            .command()
            .env("HELPERS_HOME", env.path().join("t/lib"))
            .args(["import", "t/check.sh"])
            .output()
            .expect("run import");
        assert!(
            stderr(&output).starts_with("warning: t/lib/main.sh:2: `. \"$HELPERS_HOME/extra.sh\"`: no such file: t/lib/extra.sh;"),
            "{}",
            stderr(&output)
        );
    }

    /// Regression: a library sourced from several places was read again each time, so seven
    /// levels of libraries each sourcing the next ten times meant 10^7 reads (a hang).
    #[test]
    fn a_library_sourced_many_times_over_is_read_once() {
        let mut env = TestEnv::new().file(
            "t/check.sh",
            ". \"$(dirname \"$0\")/lib/l0.sh\"\nsay_ok hi\n",
        );
        for level in 0..7 {
            let next = format!(". \"${{BASH_SOURCE%/*}}/l{}.sh\"\n", level + 1).repeat(10);
            env = env.file(&format!("t/lib/l{level}.sh"), &next);
        }
        let env = env.file("t/lib/l7.sh", "say_ok() { echo \"ok $1\"; }\n");
        let output = env.run(&["import", "t/check.sh"]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        assert!(stderr(&output).is_empty(), "{}", stderr(&output));
    }

    /// A library path built from a secret-looking variable is not followed: its value would
    /// reach the warnings (a file not found) and the suite file.
    #[test]
    fn a_secret_looking_variable_never_names_a_library() {
        let secret = "tok-0123456789-not-a-folder";
        let env = TestEnv::new()
            .file("t/check.sh", ". \"$API_TOKEN/lib.sh\"\nsay_ok hi\n")
            .file("t/lib.sh", "say_ok() { echo \"ok $1\"; }\n");
        let output = env
            .command()
            .env("API_TOKEN", secret)
            .args(["import", "t/check.sh"])
            .output()
            .expect("run import");
        assert!(!stdout(&output).contains(secret), "{}", stdout(&output));
        assert!(!stderr(&output).contains(secret), "{}", stderr(&output));
        assert!(
            stderr(&output).contains("t/check.sh:1:"),
            "{}",
            stderr(&output)
        );
    }

    /// A suite edited by hand (an expected value changed, a check deleted) no longer says
    /// what the script says: `--check` names the checks and fails.
    #[test]
    fn import_check_names_the_checks_a_hand_edited_suite_gets_wrong() {
        let env = TestEnv::new();
        let suite = env.path().join("suites/assert_lib.toml");
        let imported = env
            .std_command(smoke_runner())
            .current_dir(corpus())
            .args(["import", "assert_lib.sh", "-o"])
            .arg(&suite)
            .output()
            .expect("run import");
        assert_eq!(imported.status.code(), Some(0), "{}", stderr(&imported));
        let toml = std::fs::read_to_string(&suite).unwrap();
        let edited = toml
            .replace("stdout.equals = \"5\"", "stdout.equals = \"6\"")
            .replace("status = \"failure\"", "status = \"any\"");
        assert_ne!(edited, toml);
        std::fs::write(&suite, edited).unwrap();
        let output = import_check("assert_lib.sh", &[], &["--suite", suite.to_str().unwrap()]);
        let report = stdout(&output);
        assert_eq!(output.status.code(), Some(1), "{report}{}", stderr(&output));
        assert!(
            report.contains(
                "≠ line 9    script pass     suite fail      assert \"expr 2 + 3\" \"5\" (line 9)"
            ),
            "{report}"
        );
        // `assert_fail` lost its only check: the suite no longer judges line 15.
        assert!(
            report.contains("≠ line 15   script pass     suite no check  (no step of the suite stands for this line)"),
            "{report}"
        );
        assert!(
            report.ends_with("11 check(s), 2 difference(s)\n"),
            "{report}"
        );
    }

    /// What the script printed about a failed check is shown only masked.
    #[test]
    fn import_check_masks_the_env_file_s_secrets() {
        let secret = "tok-import-check-secret-4711";
        let env = TestEnv::new()
            .file("keys.env", &format!("API_TOKEN={secret}\n"))
            .file(
                "token.sh",
                "fail() { echo \"FAIL $*\"; }\n[ \"$API_TOKEN\" = nope ] || fail \"token $API_TOKEN\"\n",
            )
            .suite(
                "token",
                "name = \"token\"\n[[step]]\nname = \"token check (line 2)\"\nsh = \"true\"\n",
            );
        let output = env
            .command()
            .args([
                "import",
                "--check",
                "token.sh",
                "--env-file",
                "keys.env",
                "--suite",
            ])
            .arg(env.path().join("suites/token.toml"))
            .output()
            .expect("run import --check");
        let report = stdout(&output);
        assert_eq!(output.status.code(), Some(1), "{report}{}", stderr(&output));
        assert!(
            report.contains("≠ line 2    script fail     suite pass"),
            "{report}"
        );
        assert!(
            report.contains(
                "the script: called the failure reporter `fail`; line 1 inside: printed `FAIL token "
            ),
            "{report}"
        );
        assert!(!report.contains(secret), "{report}");
    }

    #[test]
    fn command_string_assertions_from_a_sourced_library() {
        same_verdicts(&Case {
            script: "assert_lib.sh",
            errexit: false,
            checks: (11, 11),
            broken: ("EXPR_BREAK", "mul"),
            failing: 2,
        });
    }

    #[test]
    fn argument_list_expectations() {
        same_verdicts(&Case {
            script: "expect_style.sh",
            errexit: false,
            checks: (9, 9),
            broken: ("SEQ_BREAK", "width"),
            failing: 1,
        });
    }

    #[test]
    fn status_checkers_after_each_command() {
        same_verdicts(&Case {
            script: "status_checks.sh",
            errexit: false,
            checks: (6, 6),
            broken: ("CUT_BREAK", "chars"),
            failing: 1,
        });
    }

    #[test]
    fn tap_blocks() {
        same_verdicts(&Case {
            script: "tap_blocks.sh",
            errexit: false,
            checks: (4, 4),
            broken: ("SED_BREAK", "inplace"),
            failing: 1,
        });
    }

    #[test]
    fn here_document_golden_output() {
        same_verdicts(&Case {
            script: "golden.sh",
            errexit: false,
            checks: (3, 3),
            broken: ("HEAD_BREAK", "bytes"),
            failing: 1,
        });
    }

    #[test]
    fn set_e_script_with_bare_checks() {
        same_verdicts(&Case {
            script: "set_e.sh",
            errexit: true,
            checks: (7, 7),
            broken: ("PYTHON3_BREAK", "version"),
            failing: 1,
        });
    }

    #[test]
    fn posix_sh_with_or_fail_checks() {
        same_verdicts(&Case {
            script: "posix.sh",
            errexit: false,
            checks: (4, 6),
            broken: ("GREP_BREAK", "missing"),
            failing: 2,
        });
    }

    #[test]
    fn nested_describe_and_it_blocks() {
        same_verdicts(&Case {
            script: "bdd.sh",
            errexit: false,
            checks: (5, 5),
            broken: ("WC_BREAK", "words"),
            failing: 2,
        });
    }

    #[test]
    fn status_checkers_that_stop_the_script() {
        same_verdicts(&Case {
            script: "driver.sh",
            errexit: false,
            checks: (6, 6),
            broken: ("TR_BREAK", "delete"),
            failing: 1,
        });
    }

    #[test]
    fn checks_named_first_and_statuses_handed_over() {
        same_verdicts(&Case {
            script: "named_checks.sh",
            errexit: false,
            checks: (5, 5),
            broken: ("BASENAME_BREAK", "suffix"),
            failing: 1,
        });
    }

    /// Lines reading `$?` past a comment and a blank line, after a block and after a
    /// here-document, and a `check NAME` helper after a command that prints a line like a
    /// passed check's report: each pairs with the command before it in the suite and in
    /// `import --check` alike (they disagreed: a lone reader's step that could not fail, a
    /// line the suite had no step for). Broken on purpose by a `sort` that ignores `-n`.
    #[test]
    fn status_readers_past_comments_after_blocks_and_checker_helpers() {
        same_verdicts(&Case {
            script: "status_readers.sh",
            errexit: false,
            checks: (5, 5),
            broken: ("SORT_BREAK", "numeric"),
            failing: 4,
        });
    }

    /// Given the suite, `import --check` reads the script for its helpers and does not
    /// translate it (no translation warnings); a suite that does not load is named at
    /// `file:line:col`.
    #[test]
    fn import_check_with_a_suite_leaves_the_script_untranslated() {
        let env = TestEnv::new()
            .file("data.txt", "a\nb\n")
            .file(
                "holds.sh",
                "fail() { echo \"FAIL $*\"; }\ngrep -q b data.txt\nstatus=$?\n[ \"$status\" -eq 0 ] || fail \"holds b\"\n",
            )
            .suite(
                "holds",
                "name = \"holds\"\nworkdir = \"..\"\n[[step]]\nname = \"holds b (line 4)\"\nsh = \"grep -q b data.txt\"\n",
            )
            .suite("bad", "name = \"bad\"\n[[step]]\nnme = \"x\"\n");
        let translated = env.run(&["import", "holds.sh"]);
        assert!(
            stderr(&translated).contains("warning: holds.sh:3: "),
            "{}",
            stderr(&translated)
        );
        for (data, verdict) in [("a\nb\n", "pass"), ("a\n", "fail")] {
            std::fs::write(env.path().join("data.txt"), data).unwrap();
            let output = env.run(&[
                "import",
                "--check",
                "holds.sh",
                "--suite",
                "suites/holds.toml",
            ]);
            let report = stdout(&output);
            assert_eq!(stderr(&output), "", "{report}");
            assert_eq!(output.status.code(), Some(0), "{report}");
            assert!(
                report.contains(&format!(
                    "= line 4    script {verdict:<7}  suite {verdict:<8}  holds b (line 4)\n"
                )),
                "{report}"
            );
            assert!(
                report.ends_with("1 check(s), 0 difference(s)\n"),
                "{report}"
            );
        }
        let output = env.run(&[
            "import",
            "--check",
            "holds.sh",
            "--suite",
            "suites/bad.toml",
        ]);
        let text = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{text}");
        assert!(text.starts_with("error: unknown key `nme`"), "{text}");
        assert!(text.contains("--> suites/bad.toml:3:1\n"), "{text}");
        assert_eq!(stdout(&output), "");
    }

    /// A script bash cannot parse was imported without a word.
    #[test]
    fn a_script_bash_cannot_parse_is_imported_with_bash_s_message() {
        let env = TestEnv::new();
        let output = env
            .std_command(smoke_runner())
            .current_dir(corpus())
            .args(["import", "bad_syntax.sh", "-o"])
            .arg(env.path().join("suites/bad.toml"))
            .output()
            .expect("run import");
        let text = stderr(&output);
        assert!(
            text.contains("warning: bad_syntax.sh: bash cannot parse it: bad_syntax.sh: line 5: syntax error: unexpected end of file"),
            "{text}"
        );
    }
}
