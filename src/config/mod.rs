//! Settings: command-line flags, environment variables and the env file, resolved once.
//!
//! This module owns turning what the user typed into a [`Settings`] value. It never runs
//! processes and never prints.

mod duration;

pub use duration::{DurationError, parse_duration};
