//! The helpers an imported script may call, and how an `sh` step that still calls them gets
//! a definition: small bash functions with the helpers' meaning (run, check, fail with a
//! message), written for smoke-runner, prepended to the step's line.

/// A helper of `test_utils.sh` or of the extended set (§3.3 of Plandex's design document).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Helper {
    RunCmd,
    RunPlandexCmd,
    CheckPlandexContains,
    ExpectFailure,
    ExpectPlandexFailure,
    CheckFile,
    SetupTestDir,
    CleanupTestDir,
    RunCmdWithTimeout,
    RunPlandexCmdWithTimeout,
    RunPlandexCmdOutput,
    Log,
    Info,
    Success,
    Warn,
    Error,
}

impl Helper {
    /// The helper a command word names.
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "run_cmd" => Self::RunCmd,
            "run_plandex_cmd" => Self::RunPlandexCmd,
            "check_plandex_contains" => Self::CheckPlandexContains,
            "expect_failure" => Self::ExpectFailure,
            "expect_plandex_failure" => Self::ExpectPlandexFailure,
            "check_file" => Self::CheckFile,
            "setup_test_dir" => Self::SetupTestDir,
            "cleanup_test_dir" => Self::CleanupTestDir,
            "run_cmd_with_timeout" => Self::RunCmdWithTimeout,
            "run_plandex_cmd_with_timeout" => Self::RunPlandexCmdWithTimeout,
            "run_plandex_cmd_output" => Self::RunPlandexCmdOutput,
            "log" => Self::Log,
            "info" => Self::Info,
            "success" => Self::Success,
            "warn" | "warning" => Self::Warn,
            "error" => Self::Error,
            _ => return None,
        })
    }
}

/// Bash definitions, by name, for helpers called from kept shell lines.
const DEFINITIONS: &[(&str, &str)] = &[
    ("log", "log() { printf '→ %s\\n' \"$*\"; }"),
    ("info", "info() { printf '→ %s\\n' \"$*\"; }"),
    ("success", "success() { printf '✓ %s\\n' \"$*\"; }"),
    ("warn", "warn() { printf '! %s\\n' \"$*\" >&2; }"),
    ("error", "error() { printf '✗ %s\\n' \"$*\" >&2; exit 1; }"),
    (
        "run_cmd",
        "run_cmd() { eval \"$1\" || { printf '✗ %s\\n' \"${2:-$1}\" >&2; exit 1; }; }",
    ),
    (
        "run_plandex_cmd",
        "run_plandex_cmd() { run_cmd \"$PLANDEX_CMD $1\" \"${2:-$1}\"; }",
    ),
    (
        "run_cmd_with_timeout",
        "run_cmd_with_timeout() { timeout \"${3:-${PLANDEX_TIMEOUT:-300}}\" bash -c \"$1\" || { printf '✗ %s\\n' \"${2:-$1}\" >&2; exit 1; }; }",
    ),
    (
        "run_plandex_cmd_with_timeout",
        "run_plandex_cmd_with_timeout() { run_cmd_with_timeout \"$PLANDEX_CMD $1\" \"${2:-$1}\" \"$3\"; }",
    ),
    (
        "run_plandex_cmd_output",
        "run_plandex_cmd_output() { eval \"$PLANDEX_CMD $1\" 2>&1; }",
    ),
    (
        "check_plandex_contains",
        "check_plandex_contains() { eval \"$PLANDEX_CMD $1\" 2>&1 | grep -qF -- \"$2\" || { printf '✗ %s\\n' \"${3:-$1}\" >&2; exit 1; }; }",
    ),
    (
        "expect_failure",
        "expect_failure() { if eval \"$1\"; then printf '✗ %s: expected a failure\\n' \"${2:-$1}\" >&2; exit 1; fi; }",
    ),
    (
        "expect_plandex_failure",
        "expect_plandex_failure() { expect_failure \"$PLANDEX_CMD $1\" \"${2:-$1}\"; }",
    ),
    (
        "check_file",
        "check_file() { [ -f \"$1\" ] || { printf '✗ missing file %s\\n' \"$1\" >&2; exit 1; }; }",
    ),
];

/// Helpers whose definitions call another helper.
const USES: &[(&str, &[&str])] = &[
    ("run_plandex_cmd", &["run_cmd"]),
    ("run_plandex_cmd_with_timeout", &["run_cmd_with_timeout"]),
    ("expect_plandex_failure", &["expect_failure"]),
];

/// The definition of a helper by name, and the helpers it needs.
pub(crate) fn definition(name: &str) -> Option<(&'static str, &'static [&'static str])> {
    let (_, text) = DEFINITIONS.iter().find(|(n, _)| *n == name)?;
    let uses = USES
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(&[][..], |(_, u)| u);
    Some((text, uses))
}

/// Every helper name with a definition.
pub(crate) fn names() -> impl Iterator<Item = &'static str> {
    DEFINITIONS.iter().map(|(n, _)| *n)
}
