//! The suite an import builds, before it is written out: `translate` fills it in script
//! order, `emit` turns it into commented TOML.

/// The suite being built.
#[derive(Debug, Default)]
pub(crate) struct Draft {
    pub(crate) name: String,
    pub(crate) script_name: String,
    pub(crate) uses_plandex: bool,
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
    pub(crate) status: Option<&'static str>,
    pub(crate) output_contains: Option<String>,
    pub(crate) timeout: Option<String>,
    pub(crate) capture: Option<String>,
    /// The original first line, when the `sh` text starts with definitions instead.
    pub(crate) origin: Option<String>,
}
