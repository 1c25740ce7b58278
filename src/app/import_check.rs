//! `smoke-runner import --check SCRIPT [-- ARGS]`: runs the script (instrumented, see
//! [`crate::import::check`]) and its imported suite side by side, and prints, check by check,
//! where their verdicts differ. Exits 0 only when they agree.
//!
//! The script runs with bash (a bats file with `bats --tap`) from the current folder, as the
//! import expects, with `TMPDIR` in a folder of its own that is removed afterwards, under a
//! deadline, in its own process group (the executor's). The suite runs through the engine.
//! Everything printed goes through the masker of the env file's secrets.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::{ImportArgs, RunArgs, Settings};
use crate::engine::{self, RunPlan};
use crate::exec::{ExecRequest, Executor, Interrupts, Stdin, Termination};
use crate::import::check::{
    INSTRUMENT, Row, ScriptVerdicts, SuiteCheck, Verdict, bats_verdicts, compare, line_of_step,
    script_verdicts,
};
use crate::import::{WatchedHelpers, bats_test_lines, is_bats, watched_helpers};
use crate::report::{Event, Verdict as StepVerdict};
use crate::scheduler::{Fanout, Filter, Selection, Subscriber};
use crate::suite::{ExpectedStatus, LoadErrors, Step, Suite, load_file};

use super::exit::{EXIT_FAILED, EXIT_OK, EXIT_USAGE};

/// Most bytes of the script's output kept in memory (the rest spills to a file).
const OUTPUT_MEMORY: usize = 4 * 1024 * 1024;

/// Runs `import --check` and returns the exit status.
pub fn check_main(args: &ImportArgs) -> i32 {
    let settings = match settings(args) {
        Ok(settings) => settings,
        Err(message) => {
            stderr_line!("error: {message}");
            return EXIT_USAGE;
        }
    };
    let masker = settings.masker.clone();
    match check(args, settings) {
        Ok(rows) => {
            let mut out = String::new();
            render(&rows, &args.script, &mut out);
            use std::io::Write as _;
            let _ = std::io::stdout().write_all(masker.mask(&out).as_bytes());
            if rows.iter().any(Row::differs) {
                EXIT_FAILED
            } else {
                EXIT_OK
            }
        }
        Err(CheckError::Message(message)) => {
            stderr_line!("error: {}", masker.mask(&message));
            EXIT_USAGE
        }
        Err(CheckError::Suite(errors)) => {
            stderr_line!("{}", masker.mask(&errors.to_string()));
            EXIT_USAGE
        }
    }
}

/// Why the script and the suite could not be compared.
enum CheckError {
    /// What went wrong, said after `error: `.
    Message(String),
    /// The suite `--suite` names does not load: its errors, each at `file:line:col`, as a run
    /// prints them.
    Suite(LoadErrors),
}

impl From<String> for CheckError {
    fn from(message: String) -> Self {
        Self::Message(message)
    }
}

/// The run settings: the env file (for its secrets and both runs' environment) and the
/// deadline.
fn settings(args: &ImportArgs) -> Result<Settings, String> {
    let run = RunArgs {
        timeout: args.timeout.clone(),
        env_file: args.env_file.clone(),
        kill_after: "5s".to_owned(),
        ..RunArgs::default()
    };
    let mut settings = Settings::from_args(&run).map_err(|e| e.to_string())?;
    for warning in &settings.warnings {
        stderr_line!("warning: {}", settings.masker.mask(warning));
    }
    settings.log_dir = None;
    Ok(settings)
}

/// Both runs, compared. The script is read once; it is translated only when `--suite` does not
/// give the suite (the script's run needs only its helpers, read without translating).
fn check(args: &ImportArgs, settings: Settings) -> Result<Vec<Row>, CheckError> {
    let script = super::import::read(args)?;
    let helpers = watched_helpers(&script.source, &script.options);
    let suite = match &args.suite {
        Some(path) => load_file(path).map_err(CheckError::Suite)?,
        None => {
            let (imported, suite) = super::import::translate(args, &script)?;
            if let Some(path) = &args.output {
                std::fs::write(path, &imported.toml)
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            }
            suite
        }
    };
    let verdicts = run_script(args, &script.source, &helpers, &settings)?;
    let checks = run_suite(suite, settings)?;
    Ok(compare(&verdicts, &checks))
}

/// Runs the script, instrumented, and reads its verdicts.
fn run_script(
    args: &ImportArgs,
    source: &str,
    helpers: &WatchedHelpers,
    settings: &Settings,
) -> Result<ScriptVerdicts, String> {
    let scratch = tempfile::Builder::new()
        .prefix("smoke-import-check-")
        .tempdir_in(&settings.temp_root)
        .map_err(|e| format!("cannot make a temp dir for the script: {e}"))?;
    let bats = is_bats(source);
    let request = script_request(args, bats, scratch.path(), &helpers.reporters, settings)?;
    let program = request.program.to_string_lossy().into_owned();
    let outcome = Executor::new()
        .run(&request)
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    match &outcome.termination {
        failed @ Termination::FailedToStart(_) => {
            let hint = if bats {
                " (install bats to check a bats file)"
            } else {
                ""
            };
            return Err(format!(
                "cannot run {program} {}: {failed}{hint}",
                args.script.display()
            ));
        }
        Termination::TimedOut { .. } => stderr_line!(
            "warning: {}",
            settings.masker.mask(&format!(
                "{} did not finish within {}: the checks it had not reached count as not run",
                args.script.display(),
                humantime::format_duration(settings.timeout)
            ))
        ),
        _ => {}
    }
    let output = outcome
        .output
        .text_lossy(crate::exec::StreamSelector::Stdout)
        .map_err(|e| format!("cannot read the script's output: {e}"))?;
    Ok(if bats {
        bats_verdicts(&output, &bats_test_lines(source))
    } else {
        script_verdicts(&output).by_statement(source, &helpers.status_checkers)
    })
}

/// How the script runs: `bats --tap FILE`, or `bash FILE ARGS` with the instrument loaded
/// (written to `scratch`, told the script's path and the failure reporters to watch), from
/// the current folder, with `TMPDIR` in `scratch`.
fn script_request(
    args: &ImportArgs,
    bats: bool,
    scratch: &Path,
    reporters: &[String],
    settings: &Settings,
) -> Result<ExecRequest, String> {
    let mut env = settings.env.clone();
    env.set("TMPDIR", scratch.join("tmp"));
    std::fs::create_dir(scratch.join("tmp"))
        .map_err(|e| format!("cannot make a temp dir for the script: {e}"))?;
    let (program, mut argv): (&str, Vec<OsString>) = if bats {
        ("bats", vec!["--tap".into(), args.script.clone().into()])
    } else {
        let instrument = scratch.join("instrument.bash");
        std::fs::write(&instrument, INSTRUMENT)
            .map_err(|e| format!("cannot write {}: {e}", instrument.display()))?;
        env.set("BASH_ENV", &instrument);
        env.set("__SMOKE_SCRIPT", &args.script);
        env.set("__SMOKE_REPORTERS", reporters.join(" "));
        let bash = ["--noprofile", "--norc"].map(OsString::from);
        (
            "bash",
            [bash.to_vec(), vec![args.script.clone().into()]].concat(),
        )
    };
    if !bats {
        argv.extend(args.args.iter().map(OsString::from));
    }
    Ok(ExecRequest::with_env(program, env)
        .args(argv)
        .cwd(std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")))
        .stdin(Stdin::Null)
        .timeout(settings.timeout)
        .kill_grace(settings.kill_grace)
        .memory_cap(OUTPUT_MEMORY))
}

/// Runs the suite through the engine; its checks (steps named `… (line N)` that judge
/// something) and how each went.
fn run_suite(suite: Suite, settings: Settings) -> Result<Vec<SuiteCheck>, String> {
    let suites = vec![suite];
    let selection = Selection::new(&suites, &Filter::default());
    let plan = RunPlan::new(suites, selection, settings);
    let (subscriber, events) = Subscriber::channel();
    let mut reports = Fanout::new();
    reports.add("the comparison", subscriber);
    let interrupts = Interrupts::new().map_err(|e| format!("cannot start the suite: {e}"))?;
    let _signals = interrupts.cancel_on_signals();
    let handle = engine::start(plan, reports, Arc::clone(&interrupts))
        .map_err(|e| format!("cannot start the suite: {e}"))?;
    let outcome = handle.wait();
    if let Some(signal) = outcome.cancelled {
        return Err(format!("interrupted by signal {signal}"));
    }
    let mut checks = Vec::new();
    for event in events.try_iter() {
        let Event::StepFinished {
            step,
            setup: false,
            result,
            ..
        } = event
        else {
            continue;
        };
        let Some(line) = line_of_step(&step.name).filter(|_| judges(&step)) else {
            continue;
        };
        let verdict = match result.verdict {
            StepVerdict::Passed | StepVerdict::Flaky | StepVerdict::Degraded => Verdict::Pass,
            StepVerdict::Failed | StepVerdict::TimedOut => Verdict::Fail,
            StepVerdict::Skipped(_) => Verdict::NotRun,
        };
        checks.push(SuiteCheck {
            line,
            name: step.name.clone(),
            verdict,
        });
    }
    Ok(checks)
}

/// Whether a step judges something (a status, an output, a file): a check, not a command run
/// for its effect (`status = "any"` and nothing else).
fn judges(step: &Step) -> bool {
    step.status != ExpectedStatus::Any
        || !step.stdout.is_empty()
        || !step.stderr.is_empty()
        || !step.output.is_empty()
        || !step.files.is_empty()
}

/// The comparison as text: every check with both verdicts, differences marked, a count.
fn render(rows: &[Row], script: &Path, out: &mut String) {
    use std::fmt::Write as _;
    let differences = rows.iter().filter(|r| r.differs()).count();
    let _ = writeln!(
        out,
        "{}: the script and its suite, check by check",
        script.display()
    );
    for row in rows {
        let suite = row
            .suite
            .map_or_else(|| "no check".to_owned(), |v| v.to_string());
        let mark = if row.differs() { "≠" } else { "=" };
        let _ = writeln!(
            out,
            "{mark} line {:<4} script {:<7}  suite {:<8}  {}",
            row.line,
            row.script.to_string(),
            suite,
            row.name
        );
        if let (true, Some(why)) = (row.differs(), &row.why) {
            let _ = writeln!(out, "      the script: {why}");
        }
    }
    let _ = writeln!(out, "{} check(s), {differences} difference(s)", rows.len());
}
