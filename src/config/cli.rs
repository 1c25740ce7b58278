//! The command line, as clap parses it. Each flag is documented where it is defined; `--help`
//! is generated from these comments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::report::ColorChoice;

/// Declarative smoke and integration tests for command-line programs.
///
/// Runs every suite (`suites/*.toml`) in a fresh test dir, step after step, each command in its
/// own session under a deadline, and reports like a shell test script would, or like
/// `cargo test` with `--format`.
///
/// Environment: PLANDEX_ENV_FILE (env file, default ../.env.client-keys), PLANDEX_CMD (the
/// command `run` steps invoke, default plandex-dev), PLANDEX_TIMEOUT (seconds per step, default
/// 300), NO_COLOR.
#[derive(Debug, Parser)]
#[command(name = "smoke-runner", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// Run one command under a deadline (a safer `timeout`), or import a test script.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Options for running suites (the default action).
    #[command(flatten)]
    pub run: RunArgs,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run CMD under a deadline, like `timeout(1)`, but in its own session: no process is left
    /// running afterwards and leaked pipes never make it hang.
    ///
    /// Exits with CMD's status; 124 when it timed out; 125 when smoke-runner itself failed; 126
    /// when CMD cannot be executed; 127 when it is not found; 128+N when it died of signal N.
    Exec(ExecArgs),

    /// What the run history says: the last runs, flaky steps, slow steps, one step over time;
    /// and importing the JSON event files of CI shards as one run.
    History(HistoryArgs),

    /// Write a report from the run history.
    Report(ReportArgs),

    /// Translate a bash test script written with `test_utils.sh`-style helpers into a suite.
    ///
    /// Helper calls become steps (with their checks), `log "=== Testing X ==="` a section,
    /// assignments `env`, `unset`/`export` around steps `env_remove`/`env`, `echo y | …` and
    /// `… <<< y` `stdin`, `|| true` `status = "any"`. Here-documents, blocks and anything else
    /// are kept as `sh` steps, with the script's functions they call; what cannot be translated
    /// is kept the same way with a warning naming its line. Exits 2 on unreadable input.
    Import(ImportArgs),

    /// Watch suites: run them on a schedule and on request, over an HTTP API with health,
    /// metrics and a status page (see README "Monitor").
    ///
    /// Triggering and cancelling runs need a bearer token, from SMOKE_SERVE_TOKEN or
    /// --token-file; without one the API only reads. Stops on SIGTERM or SIGINT after the
    /// running runs end (at most --drain-timeout); SIGHUP reloads --config and the suites.
    Serve(Box<ServeArgs>),

    /// Print one step's whole output, masked, from a run's step logs: every attempt, as the
    /// run saved it in its suite's log (`<log dir>/<run>/<suite>.log`).
    Log(LogArgs),
}

/// `smoke-runner log`.
#[derive(Debug, Args)]
pub struct LogArgs {
    /// The run: its id (the folder's name under the log folder) or `last`.
    #[arg(value_name = "RUN|last")]
    pub run: String,
    /// The step: its test name (`suite::step`, as reports show it), or part of one that
    /// matches only one step of the run.
    #[arg(value_name = "STEP")]
    pub step: String,
    /// The step-log folder (as `--log-dir` of a run).
    #[arg(long, value_name = "DIR", default_value = "target/smoke-logs")]
    pub log_dir: PathBuf,
}

/// `smoke-runner serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on. Anything but loopback needs a token.
    /// [default: 127.0.0.1:8080, or `listen` in --config]
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<String>,

    /// Run every watched suite this often (`30s`, `5m`); suites start at a random offset
    /// within the first interval so that they do not all start at once.
    /// [default: `every` in --config, else 5m]
    #[arg(long, value_name = "DUR")]
    pub every: Option<String>,

    /// A TOML file with the monitor's settings and each suite's interval (see README
    /// "Monitor"); its values apply where no flag is given.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Read the API token from FILE (owned by you, mode 0600). [default: SMOKE_SERVE_TOKEN]
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,

    /// How many runs go at once. [default: 1, or `concurrency` in --config]
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,

    /// How many runs may wait; a trigger beyond that is answered 429.
    /// [default: 16, or `queue` in --config]
    #[arg(long, value_name = "N")]
    pub queue: Option<usize>,

    /// On SIGTERM, how long running runs get to finish before they are cancelled.
    /// [default: 30s, or `drain_timeout` in --config]
    #[arg(long, value_name = "DUR")]
    pub drain_timeout: Option<String>,

    /// A SQLite file for the monitor's own tables: the runs it queued (the queue included), the
    /// audit log, and its processes and test dirs, to clean up after a crash. They belong to
    /// this machine, so beside a PostgreSQL --history (shared by many) they are kept here.
    /// [default: the --history file, or target/smoke-serve-state.sqlite beside PostgreSQL]
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,

    /// Settings for the runs: the same as running suites from the command line.
    #[command(flatten)]
    pub run: RunArgs,
}

/// `smoke-runner import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The bash script to translate.
    #[arg(value_name = "SCRIPT")]
    pub script: PathBuf,

    /// Write the suite to FILE instead of standard output. Its `workdir` is the folder the
    /// import runs in, so run the suite from there, as the script is run.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// The script's arguments (`$1`, `${2:-default}`…), after `--`: `import t.sh -- ./prog`.
    #[arg(last = true, value_name = "ARGS")]
    pub args: Vec<String>,

    /// Run the script (bash, or `bats` for a `.bats` file) and its imported suite side by side
    /// and print, check by check, where their verdicts differ. Exits 0 only when they agree.
    #[arg(long)]
    pub check: bool,

    /// With `--check`: compare with this suite (an imported one, edited) instead of a fresh
    /// import. Its steps name the script lines they stand for: `… (line N)`.
    #[arg(long, value_name = "FILE", requires = "check")]
    pub suite: Option<PathBuf>,

    /// With `--check`: the deadline of the script's run and of each step.
    /// [default: PLANDEX_TIMEOUT seconds, else 300]
    #[arg(long, value_name = "DUR", requires = "check")]
    pub timeout: Option<String>,

    /// With `--check`: the environment file whose secrets are masked in the output (and set
    /// for both runs). [default: PLANDEX_ENV_FILE, else ../.env.client-keys]
    #[arg(long, value_name = "PATH", requires = "check")]
    pub env_file: Option<PathBuf>,
}

/// Where the history is, for the commands that read it.
#[derive(Debug, Args, Clone, Default)]
pub struct HistoryFileArgs {
    /// The history database: a SQLite file (PATH or sqlite:PATH), or a PostgreSQL database
    /// shared by many machines (postgres://USER:PASSWORD@HOST:PORT/DB; the password is never
    /// shown). [default: SMOKE_HISTORY, else target/smoke-history.sqlite]
    #[arg(
        id = "history_file",
        long = "history",
        value_name = "PATH|URL",
        global = true
    )]
    pub history: Option<PathBuf>,
}

/// `smoke-runner history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// What to show.
    #[command(subcommand)]
    pub command: HistoryCommand,

    /// Where the history is.
    #[command(flatten)]
    pub file: HistoryFileArgs,

    /// Output: `text` for people, `json` for programs.
    #[arg(
        id = "history_format",
        long = "format",
        value_enum,
        default_value_t = HistoryFormat::Text,
        value_name = "FORMAT",
        global = true
    )]
    pub format: HistoryFormat,
}

/// `smoke-runner history` subcommands.
#[derive(Debug, Subcommand)]
pub enum HistoryCommand {
    /// The last runs: when, how long, step counts, exit status.
    Runs {
        /// How many runs.
        #[arg(long, short = 'n', default_value_t = 20, value_name = "N")]
        last: usize,
    },
    /// The setup of the last runs: each requirement looked at, each service started, healthy,
    /// failed and stopped, with its time.
    Setup {
        /// How many of the last runs.
        #[arg(long, short = 'n', default_value_t = 5, value_name = "N")]
        runs: usize,
    },
    /// Steps whose outcome changed across the last runs, by flip rate (changes / (runs − 1)).
    Flaky {
        /// How many of the last runs to look at.
        #[arg(long, short = 'n', default_value_t = 20, value_name = "N")]
        runs: usize,
    },
    /// Steps by median duration over the last runs, with p95 and trend.
    Slow {
        /// How many of the last runs to look at.
        #[arg(long, short = 'n', default_value_t = 20, value_name = "N")]
        runs: usize,
    },
    /// One step's outcomes and durations over the last runs.
    Step {
        /// The step's test name, or part of it matching only one step.
        #[arg(value_name = "NAME")]
        name: String,
        /// How many of its last runs.
        #[arg(long, short = 'n', default_value_t = 20, value_name = "N")]
        runs: usize,
    },
    /// Delete the runs beyond the limits from the history and the step-log folder now, and
    /// give the history's free space back to the file system.
    Prune {
        /// The step-log folder (as `--log-dir` of a run).
        #[arg(long, value_name = "DIR", default_value = "target/smoke-logs")]
        log_dir: PathBuf,
        /// The limits.
        #[command(flatten)]
        retention: RetentionArgs,
    },
    /// Record the JSON event files of one run's shards (written with `--json`) as one run.
    /// Importing the same files again records nothing.
    Import {
        /// The event files, one per shard.
        #[arg(required = true, value_name = "EVENTS.jsonl")]
        files: Vec<PathBuf>,
    },
}

/// Output formats of `smoke-runner history`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum HistoryFormat {
    /// Aligned columns.
    #[default]
    Text,
    /// One JSON document.
    Json,
}

/// `smoke-runner report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Write one self-contained HTML file (no network needed to view it): the last run with its
    /// failures first, an outcome grid of steps × runs, and duration trends.
    #[arg(long, value_name = "FILE", required = true)]
    pub html: PathBuf,

    /// How many of the last runs the grid and trends cover.
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub runs: usize,

    /// Where the history is.
    #[command(flatten)]
    pub file: HistoryFileArgs,
}

/// `smoke-runner exec`.
#[derive(Debug, Args)]
pub struct ExecArgs {
    /// Stop CMD after this long: `120` (seconds), `1.5s`, `500ms`, `2m`; `0` means no limit
    /// (as with `timeout(1)`). At most 365 days. [default: PLANDEX_TIMEOUT seconds, else 300]
    #[arg(short = 't', long, value_name = "DUR")]
    pub timeout: Option<String>,

    /// After the timeout's SIGTERM, send SIGKILL to the whole group after this long.
    #[arg(short = 'k', long, value_name = "DUR", default_value = "5s")]
    pub kill_after: String,

    /// The command and its arguments.
    #[arg(required = true, trailing_var_arg = true, value_name = "CMD")]
    pub command: Vec<std::ffi::OsString>,
}

/// Options for running suites.
#[derive(Debug, Args, Default)]
pub struct RunArgs {
    /// Report only steps whose test name (`suite::section::step`) contains a FILTER; several
    /// are allowed, as in libtest. The earlier steps of the same suite still run first, as
    /// setup (shown, not counted), so a step runs with the state it expects.
    #[arg(value_name = "FILTER")]
    pub filter: Vec<String>,

    /// A suite file, or a folder whose `*.toml` files are suites. Repeatable.
    #[arg(long = "suites", value_name = "PATH", default_value = "suites")]
    pub suites: Vec<PathBuf>,

    /// Folder holding the fixtures that suites copy into their test dirs.
    /// [default: the `fixtures` folder nearest above each suite file]
    #[arg(long, value_name = "DIR")]
    pub fixtures: Option<PathBuf>,

    /// The command `run` steps invoke. [default: PLANDEX_CMD, else plandex-dev]
    #[arg(long = "cmd", value_name = "CMD")]
    pub cmd: Option<String>,

    /// Default timeout per step. [default: PLANDEX_TIMEOUT seconds, else 300]
    #[arg(long, value_name = "DUR")]
    pub timeout: Option<String>,

    /// After a timeout's SIGTERM, wait this long before SIGKILL.
    #[arg(long, value_name = "DUR", default_value = "5s")]
    pub kill_after: String,

    /// Environment file to load (the process environment wins over it).
    /// [default: PLANDEX_ENV_FILE, else ../.env.client-keys]
    #[arg(long, value_name = "PATH", conflicts_with = "no_env_file")]
    pub env_file: Option<PathBuf>,

    /// Do not load any environment file.
    #[arg(long)]
    pub no_env_file: bool,

    /// Keep every test dir, not only those of failing suites.
    #[arg(long)]
    pub keep_temp: bool,

    /// How many suites run at once. [default: number of CPUs]
    #[arg(short = 'j', long, visible_alias = "test-threads", value_name = "N")]
    pub jobs: Option<usize>,

    /// Report format: `human` (default), libtest's `pretty`, `terse`, `json`, or `tap` (TAP
    /// version 14, as `prove` reads it, with YAML diagnostics for failures).
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,

    /// Colors: `auto` (when writing to a terminal and NO_COLOR is unset), `always`, `never`.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    /// List the steps (libtest format) instead of running them.
    #[arg(long)]
    pub list: bool,

    /// A FILTER must match a whole test name: `--exact NAME` re-runs exactly that step, after
    /// its suite's earlier steps as setup.
    #[arg(long)]
    pub exact: bool,

    /// Run only the steps in this set, a filter expression as nextest writes them:
    /// `tag(slow) and not suite(git)`. Predicates `test()`, `suite()`, `tag()`, `file()`,
    /// `all()`, `none()`; operators `and` (`&`), `or` (`|`, `+`), `not` (`!`), `-` (and not),
    /// parentheses; matchers `=exact`, `~contains`, `#glob`, `/regex/` (by default `test()`
    /// contains, the others glob). Repeatable: a step in any of the sets is kept; FILTERs
    /// apply too.
    #[arg(
        short = 'E',
        long = "filterset",
        visible_alias = "filter-expr",
        value_name = "EXPR"
    )]
    pub filterset: Vec<String>,

    /// Skip steps whose name contains PATTERN (whole name with --exact). Repeatable.
    #[arg(long, value_name = "PATTERN")]
    pub skip: Vec<String>,

    /// Run only ignored steps.
    #[arg(long)]
    pub ignored: bool,

    /// Run ignored steps too.
    #[arg(long)]
    pub include_ignored: bool,

    /// Short libtest output (same as --format terse).
    #[arg(short, long)]
    pub quiet: bool,

    /// Show the output of passing steps too (same as --show-output; output is always captured
    /// per step, so that parallel suites never interleave).
    #[arg(long)]
    pub nocapture: bool,

    /// Show the output of passing steps too, not only of failing ones.
    #[arg(long)]
    pub show_output: bool,

    /// Also write a JUnit XML report to PATH (one testsuite per suite, one testcase per step).
    #[arg(long, value_name = "PATH")]
    pub junit: Option<PathBuf>,

    /// Also write a TAP version 14 report to PATH (one test point per step, YAML diagnostics
    /// for failures).
    #[arg(long, value_name = "PATH")]
    pub tap: Option<PathBuf>,

    /// Also write the run's events to PATH as JSON lines (schema: docs/events.md).
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,

    /// Save every step's full output (secrets masked) in one log per suite,
    /// DIR/<run-id>/<suite>.log (`smoke-runner log RUN STEP` prints one step's part).
    #[arg(long, value_name = "DIR", default_value = "target/smoke-logs")]
    pub log_dir: PathBuf,

    /// Do not save step logs.
    #[arg(long, conflicts_with = "log_dir")]
    pub no_log_dir: bool,

    /// Mask the value of environment variable NAME as `[redacted:NAME]` in everything written.
    /// Repeatable. Env-file variables named like secrets (`*_KEY`, `*_TOKEN`, `*_SECRET`,
    /// `*PASSWORD*`, `*_PAT`) are masked without it.
    #[arg(long, value_name = "NAME")]
    pub redact: Vec<String>,

    /// Fail the run when a step is skipped for a missing requirement (a program not on PATH, a
    /// `requires` check that failed).
    #[arg(long, env = "SMOKE_FAIL_ON_SKIP", value_parser = clap::builder::FalseyValueParser::new())]
    pub fail_on_skip: bool,

    /// Rewrite the golden files (`equals_file`) of failing checks from the actual output,
    /// keeping the placeholders that still match; create missing ones. Secrets are masked
    /// first; files are written only inside the suite's folder, never through a link. The
    /// checks still fail this run, each naming the file it wrote.
    #[arg(long, env = "SMOKE_BLESS", value_parser = clap::builder::FalseyValueParser::new())]
    pub bless: bool,

    /// Fail the run when a step passed only on a retry (flaky).
    #[arg(long)]
    pub flaky_fails: bool,

    /// Fail the run when a step passed but took longer than its `warn_duration` (degraded).
    #[arg(long, env = "SMOKE_DEGRADED_FAILS", value_parser = clap::builder::FalseyValueParser::new())]
    pub degraded_fails: bool,

    /// Run only shard K of N (`--shard 2/3`): suites are split by a hash of their name, so
    /// every suite runs in exactly one shard and adding a suite moves no other.
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    pub shard: Option<Shard>,

    /// Run only partition K of N, as nextest names them: `count:K/N` deals the suites out in
    /// turn, sorted by name (the 1st, N+1th… to partition 1), so the N parts are as even as can
    /// be, but adding a suite may move others; `hash:K/N` is `--shard K/N`. Suites with no
    /// selected step (after the filters) are not counted.
    #[arg(
        long,
        value_name = "count:K/N",
        value_parser = parse_partition,
        conflicts_with = "shard"
    )]
    pub partition: Option<Partition>,

    /// Re-run only the suites that failed in the previous run (recorded under target/).
    #[arg(long)]
    pub rerun_failed: bool,

    /// Record the run in this history database (read for the report's hints, and by
    /// `smoke-runner history`): a SQLite file (PATH or sqlite:PATH), or a PostgreSQL database
    /// shared by many machines (postgres://USER:PASSWORD@HOST:PORT/DB; the password is never
    /// shown, and masked in every report). [default: SMOKE_HISTORY, else
    /// target/smoke-history.sqlite]
    #[arg(long, value_name = "PATH|URL")]
    pub history: Option<PathBuf>,

    /// Neither record the run nor read the history (wins over --history).
    #[arg(long)]
    pub no_history: bool,

    /// Record the run under this label, a name for a kind of run (`staging`, `prod-eu`): shown
    /// by `history runs`, in the HTML report and in `--json`'s `run_started`, and what
    /// `--baseline label:NAME` compares with. 1 to 64 letters, digits, `.`, `_` or `-`.
    /// [default: SMOKE_LABEL; none when it is unset or empty]
    #[arg(long, value_name = "NAME", value_parser = super::run_label::parse_label)]
    pub label: Option<String>,

    /// Record the run as one of this git branch, instead of the branch the checkout is on (read
    /// from its `HEAD`). For CI checkouts with a detached `HEAD`, which name no branch:
    /// `SMOKE_BRANCH=$CI_COMMIT_REF_NAME`. [default: SMOKE_BRANCH, else the checkout's]
    #[arg(long, value_name = "NAME", value_parser = super::run_label::parse_branch)]
    pub branch: Option<String>,

    /// What the step logs and the history keep: older runs are deleted after the report.
    #[command(flatten)]
    pub retention: RetentionArgs,

    /// Fail the run when a step is slower than its baseline allows: `STAT <= FACTORx baseline`,
    /// STAT `p50`, `p95` or `max` (`--gate "p95 <= 2x baseline"`). Each step's STAT in this run
    /// (over its repetitions with --repeat) is compared with the same step's STAT over the
    /// newest passing runs in the history (--baseline). A table (step, baseline, now, ratio,
    /// verdict) is in every report. Repeatable.
    #[arg(long, value_name = "GATE", value_parser = crate::gate::parse_gate)]
    pub gate: Vec<crate::gate::Gate>,

    /// The runs a --gate compares with: `last:K` (K up to 100), each step's newest K runs in
    /// which it and the whole run passed (exit 0), among the history's newest 10·K passing runs
    /// (200 to 500); a run that broke a gate is never a baseline. Add `branch:NAME` and/or
    /// `label:NAME`, comma-separated, to count only runs of that git branch or --label:
    /// `last:20,label:staging`, `branch:main` (K is then 20). A step with fewer than 5 (or K,
    /// when smaller) has too little baseline: it is shown, and does not fail the run without
    /// --require-baseline.
    /// [default: last:20]
    #[arg(long, value_name = "last:K,branch:NAME,label:NAME", value_parser = crate::gate::parse_baseline)]
    pub baseline: Option<crate::gate::BaselineSpec>,

    /// A step with too little baseline breaks the --gate.
    #[arg(long)]
    pub require_baseline: bool,

    /// Run the selected suites N times, as one run (one report, one history record).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub repeat: Option<u32>,

    /// Run the selected suites again and again within DURATION (at least once), as one run:
    /// `60s`, `5m`. A pass starts only if one as long as the average so far ends in time.
    #[arg(long = "for", value_name = "DURATION", conflicts_with = "repeat")]
    pub repeat_for: Option<String>,

    /// Judge step failures by their share of all step runs instead of one by one: the run fails
    /// when more than RATE of them failed (`5%` or `0.05`), naming the steps and their counts.
    /// Made for --repeat against a live service.
    #[arg(long, value_name = "RATE", value_parser = crate::gate::parse_rate)]
    pub max_failure_rate: Option<f64>,
}

/// What the step logs and the history keep. After a run's report, at most a few of the oldest
/// surplus runs are deleted (so a backlog shrinks over the next runs); `history prune` deletes
/// them all at once.
#[derive(Debug, Args, Clone, Copy, PartialEq, Eq)]
pub struct RetentionArgs {
    /// Keep the step logs of the newest N runs (at least 1).
    #[arg(
        long,
        value_name = "N",
        env = "SMOKE_KEEP_LOGS",
        default_value_t = DEFAULT_KEEP_LOGS,
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub keep_logs: u32,

    /// Keep at most SIZE of step logs (`512M`, `2G`, `800K`, bytes without a unit); older
    /// runs go first, the run that just ended is always kept.
    #[arg(
        long,
        value_name = "SIZE",
        env = "SMOKE_MAX_LOG_SIZE",
        default_value = "512M",
        value_parser = parse_size
    )]
    pub max_log_size: u64,

    /// Keep the newest N runs in the history (at least 1).
    #[arg(
        long,
        value_name = "N",
        env = "SMOKE_KEEP_HISTORY",
        default_value_t = DEFAULT_KEEP_HISTORY,
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub keep_history: u32,

    /// Delete history runs older than DAYS days.
    #[arg(
        long,
        value_name = "DAYS",
        env = "SMOKE_KEEP_HISTORY_DAYS",
        default_value_t = DEFAULT_KEEP_HISTORY_DAYS,
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub keep_history_days: u32,
}

/// Runs whose step logs are kept by default.
pub const DEFAULT_KEEP_LOGS: u32 = 20;
/// Step-log bytes kept by default: 512 MiB.
pub const DEFAULT_MAX_LOG_SIZE: u64 = 512 << 20;
/// Runs the history keeps by default.
pub const DEFAULT_KEEP_HISTORY: u32 = 500;
/// Days the history keeps a run by default.
pub const DEFAULT_KEEP_HISTORY_DAYS: u32 = 90;

impl Default for RetentionArgs {
    fn default() -> Self {
        Self {
            keep_logs: DEFAULT_KEEP_LOGS,
            max_log_size: DEFAULT_MAX_LOG_SIZE,
            keep_history: DEFAULT_KEEP_HISTORY,
            keep_history_days: DEFAULT_KEEP_HISTORY_DAYS,
        }
    }
}

/// `512M`, `2G`, `800K`, `1048576`: a size in bytes (units are powers of 1024; `MiB` and `MB`
/// mean the same).
fn parse_size(text: &str) -> Result<u64, String> {
    let usage = || format!("`{text}` is not a size such as 512M, 2G, 800K or 1048576");
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let number: u64 = number.parse().map_err(|_| usage())?;
    let shift = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        "T" | "TB" | "TIB" => 40,
        _ => return Err(usage()),
    };
    number
        .checked_mul(1 << shift)
        .ok_or_else(|| format!("`{text}` is too large"))
}

/// `--shard K/N`: shard K (from 1) of N.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This shard, from 1.
    pub index: u32,
    /// How many shards.
    pub count: u32,
}

fn parse_shard(text: &str) -> Result<Shard, String> {
    let usage = || format!("`{text}` is not K/N with 1 <= K <= N (for example 2/3)");
    let (k, n) = text.split_once('/').ok_or_else(usage)?;
    let index: u32 = k.trim().parse().map_err(|_| usage())?;
    let count: u32 = n.trim().parse().map_err(|_| usage())?;
    if index == 0 || index > count {
        return Err(usage());
    }
    Ok(Shard { index, count })
}

/// `--partition count:K/N` or `hash:K/N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Partition {
    /// `count:K/N`: the suites dealt out in turn, in sorted order.
    Count(Shard),
    /// `hash:K/N`: the same as `--shard K/N`.
    Hash(Shard),
}

impl std::fmt::Display for Partition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (kind, Shard { index, count }) = match self {
            Self::Count(shard) => ("count", shard),
            Self::Hash(shard) => ("hash", shard),
        };
        write!(f, "{kind}:{index}/{count}")
    }
}

fn parse_partition(text: &str) -> Result<Partition, String> {
    let partition = match text.split_once(':') {
        Some(("count", shard)) => parse_shard(shard).ok().map(Partition::Count),
        Some(("hash", shard)) => parse_shard(shard).ok().map(Partition::Hash),
        _ => None,
    };
    partition.ok_or_else(|| {
        format!("`{text}` is not count:K/N or hash:K/N with 1 <= K <= N (for example count:2/3)")
    })
}

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// The human report: headings, ✓ / ✗ lines, failure details, a summary.
    Human,
    /// libtest's one line per test.
    Pretty,
    /// libtest's one character per test.
    Terse,
    /// libtest's JSON lines.
    Json,
    /// TAP version 14: one test point per step, YAML diagnostics for failures.
    Tap,
}
