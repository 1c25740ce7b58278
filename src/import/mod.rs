//! `smoke-runner import`: a bash test script written with `test_utils.sh`-style helpers,
//! turned into a suite file.
//!
//! `script` splits the script into statements, `words` splits command lines into shell words
//! and converts them to templates, `translate` maps helpers and shell constructs to steps, and
//! `emit` writes the resulting `draft` as commented TOML. What cannot be translated is kept as an `sh` step
//! holding the original lines, with a warning naming the line. This module never runs
//! anything and never reads files: the caller hands it the script's text. `check` reads the
//! verdicts of an instrumented run of the script and compares them with the suite's.
//! `status_read` is the one rule saying which statement reads the `$?` another left: the
//! translation and `check` both pair a command with its `$?` checker through it.

mod bats;
pub mod check;
mod draft;
mod emit;
mod helpers;
mod library;
mod script;
pub mod sources;
mod status_read;
mod translate;
mod words;

pub use bats::{bats_test_lines, is_bats};
pub use library::Library;
pub use translate::{
    ImportOptions, Imported, Warning, WatchedHelpers, import_script, watched_helpers,
};
