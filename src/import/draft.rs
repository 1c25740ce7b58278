//! The suite an import builds, before it is written out: `translate` fills it in script
//! order, `emit` turns it into commented TOML.

/// The suite being built.
#[derive(Debug, Default)]
pub(crate) struct Draft {
    pub(crate) name: String,
    pub(crate) script_name: String,
    pub(crate) uses_plandex: bool,
    /// How `sh` steps run: the script's own `set -e` / `-o pipefail` / `-u`, for scripts that
    /// are not `test_utils.sh` ones (`None`: smoke-runner's strict bash).
    pub(crate) shell: Option<String>,
    /// The script goes on after a failed check (its helpers count failures).
    pub(crate) keep_going: bool,
    /// The folder steps start in, relative to the suite file (the folder the script was
    /// imported from).
    pub(crate) workdir: Option<String>,
    /// Suite variables: name, template, script line.
    pub(crate) env: Vec<(String, String, usize)>,
    pub(crate) items: Vec<Item>,
}

/// One entry of the suite, in script order.
#[derive(Debug)]
pub(crate) enum Item {
    Step(Box<Step>),
    /// A note-only step.
    Note {
        section: Option<String>,
        text: String,
        comments: Vec<String>,
    },
    /// A comment line in the output (script comments, dropped lines).
    Comment(String),
}

/// A step of the draft.
#[derive(Debug, Default)]
pub(crate) struct Step {
    pub(crate) comments: Vec<String>,
    pub(crate) section: Option<String>,
    pub(crate) name: Option<String>,
    pub(crate) run: Option<String>,
    pub(crate) sh: Option<String>,
    pub(crate) stdin: Option<String>,
    pub(crate) env: Vec<(String, String)>,
    pub(crate) env_remove: Vec<String>,
    pub(crate) status: Option<String>,
    pub(crate) output_contains: Option<String>,
    pub(crate) stdout_contains: Option<String>,
    pub(crate) stdout_equals: Option<String>,
    /// The folder the step starts in (a template), after a `cd` in the script.
    pub(crate) workdir: Option<String>,
    /// Runs even after a failure (a `trap … EXIT` command).
    pub(crate) always: bool,
    /// The step is one of the script's checks (not written out: it decides the status).
    pub(crate) check: bool,
    pub(crate) timeout: Option<String>,
    pub(crate) capture: Option<String>,
    /// The original first line, when the `sh` text starts with definitions instead.
    pub(crate) origin: Option<String>,
}
