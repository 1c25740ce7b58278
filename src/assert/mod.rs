//! Assertions: the checks a step makes on its command's outcome and on files.
//!
//! Pure functions from (step, outcome, environment) to failure messages. Never runs processes,
//! never prints.

mod files;
mod golden;
mod output;
mod status;

pub use files::check_files;
pub use golden::{MAX_GOLDEN_SIZE, Mismatch, compare, normalize_actual, write_golden};
pub use output::check_output;
pub use status::check_status;
