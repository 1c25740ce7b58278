//! `smoke-runner import SCRIPT.sh [-o FILE]`: read the script (bounded, text only), translate
//! it, check that the suite loads, write it; warnings on stderr name the script's lines.

use std::path::Path;

use crate::config::ImportArgs;
use crate::import::import_script;
use crate::regular_file;
use crate::suite::parse_suite;

use super::exit::{EXIT_OK, EXIT_USAGE, RunEnd};

/// Scripts larger than this are refused: a test script is a few hundred lines.
const MAX_SCRIPT_BYTES: u64 = 1024 * 1024;

/// Runs `smoke-runner import` and returns the process exit status.
pub fn import_main(args: &ImportArgs) -> i32 {
    let toml = match import(args) {
        Ok(Some(toml)) => toml,
        Ok(None) => return EXIT_OK,
        Err(message) => {
            stderr_line!("error: {message}");
            return EXIT_USAGE;
        }
    };
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(toml.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => EXIT_OK,
        Err(error) => {
            if error.kind() != std::io::ErrorKind::BrokenPipe {
                stderr_line!("error: cannot write the suite to standard output: {error}");
            }
            RunEnd::ReportFailed(error.kind()).code()
        }
    }
}

/// Imports the script: writes the suite to `--output` and returns `None`, or returns the
/// suite's text for standard output.
fn import(args: &ImportArgs) -> Result<Option<String>, String> {
    let shown = args.script.display();
    let source = read_script(&args.script)?;
    let script_name = args
        .script
        .file_name()
        .map_or_else(|| shown.to_string(), |n| n.to_string_lossy().into_owned());
    let imported = import_script(&source, &script_name);
    for warning in &imported.warnings {
        stderr_line!("warning: {shown}:{}: {}", warning.line, warning.message);
    }
    if imported.steps == 0 {
        return Err(format!(
            "{shown} has no commands to turn into steps: give a test script"
        ));
    }
    let target = args
        .output
        .clone()
        .unwrap_or_else(|| Path::new(&format!("{script_name}.toml")).to_path_buf());
    // The promise is a suite that loads without edits: check it before handing it over.
    parse_suite(&imported.toml, &target).map_err(|e| {
        format!("the suite translated from {shown} does not load, please report this:\n{e}")
    })?;
    match &args.output {
        Some(path) => {
            std::fs::write(path, &imported.toml)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            stderr_line!(
                "imported {} step(s) from {shown} into {} ({} warning(s))",
                imported.steps,
                path.display(),
                imported.warnings.len()
            );
            Ok(None)
        }
        None => Ok(Some(imported.toml)),
    }
}

/// The script's text: a regular file (never a FIFO or device, which could block or never end),
/// at most [`MAX_SCRIPT_BYTES`], UTF-8 without NUL bytes.
fn read_script(path: &Path) -> Result<String, String> {
    let shown = path.display();
    let bytes = regular_file::read(path, MAX_SCRIPT_BYTES).map_err(|e| match e {
        regular_file::ReadError::TooLarge { .. } => format!(
            "{shown} is larger than {} KiB: not a test script this import can translate",
            MAX_SCRIPT_BYTES / 1024
        ),
        other => format!("cannot read {shown}: {other}"),
    })?;
    if let Some(at) = bytes.iter().position(|&b| b == 0) {
        return Err(format!(
            "{shown} is not a text file (a NUL byte at offset {at}): give a bash script"
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "{shown} is not UTF-8 text (invalid byte at offset {}): give a bash script",
            e.utf8_error().valid_up_to()
        )
    })
}
