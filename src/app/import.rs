//! `smoke-runner import SCRIPT.sh [-o FILE]`: read the script (bounded, text only), translate
//! it, check that the suite loads, write it; warnings on stderr name the script's lines.

use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};

use crate::config::ImportArgs;
use crate::import::{ImportOptions, Imported, Library, import_script, is_bats, sourced_paths};
use crate::regular_file;
use crate::suite::{Suite, parse_suite};

use super::exit::{EXIT_OK, EXIT_USAGE, RunEnd};

/// Scripts larger than this are refused: a test script is a few hundred lines.
const MAX_SCRIPT_BYTES: u64 = 1024 * 1024;

/// Runs `smoke-runner import` and returns the process exit status.
pub fn import_main(args: &ImportArgs) -> i32 {
    if args.check {
        return super::import_check::check_main(args);
    }
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
    let (imported, _) = translate(args)?;
    let shown = args.script.display();
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

/// Reads and translates the script (warnings on stderr) and checks that the suite loads; the
/// suite's text and the suite, as if read from `--output` (or `SCRIPT.toml` here).
pub(super) fn translate(args: &ImportArgs) -> Result<(Imported, Suite), String> {
    let shown = args.script.display();
    let source = read_script(&args.script)?;
    let script_name = args
        .script
        .file_name()
        .map_or_else(|| shown.to_string(), |n| n.to_string_lossy().into_owned());
    for message in bash_syntax_errors(&args.script, &source) {
        stderr_line!("warning: {shown}: bash cannot parse it: {message}");
    }
    let target = args
        .output
        .clone()
        .unwrap_or_else(|| Path::new(&format!("{script_name}.toml")).to_path_buf());
    let options = options(args, &source, &target);
    let imported = import_script(&source, &script_name, &options);
    for warning in &imported.warnings {
        stderr_line!("warning: {shown}:{}: {}", warning.line, warning.message);
    }
    if imported.steps == 0 {
        return Err(format!(
            "{shown} has no commands to turn into steps: give a test script"
        ));
    }
    // The promise is a suite that loads without edits: check it before handing it over.
    let suite = parse_suite(&imported.toml, &target).map_err(|e| {
        format!("the suite translated from {shown} does not load, please report this:\n{e}")
    })?;
    Ok((imported, suite))
}

/// The script's text: a regular file (never a FIFO or device, which could block or never end),
/// at most [`MAX_SCRIPT_BYTES`], UTF-8 without NUL bytes.
pub(super) fn read_script(path: &Path) -> Result<String, String> {
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

/// `bash -n SCRIPT`: bash's own messages when it cannot parse the script (nothing runs). An
/// empty list when it parses, or when bash is not there to ask (said in the list). A bats file
/// is not bash until bats rewrites its `@test` lines: it is not asked.
fn bash_syntax_errors(script: &Path, source: &str) -> Vec<String> {
    if is_bats(source) {
        return Vec::new();
    }
    let output = Command::new("bash")
        .arg("--noprofile")
        .arg("--norc")
        .arg("-n")
        .arg(script)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output();
    match output {
        Ok(output) if output.status.success() => Vec::new(),
        Ok(output) => {
            let text = String::from_utf8_lossy(&output.stderr);
            let lines: Vec<String> = text.lines().take(5).map(str::to_owned).collect();
            if lines.is_empty() {
                vec![format!("bash -n exited with {}", output.status)]
            } else {
                lines
            }
        }
        Err(error) => vec![format!(
            "bash -n could not run ({error}): the script was not checked"
        )],
    }
}

/// What the import needs beyond the script's text: its arguments, the libraries it sources
/// (read here, bounded), where its folder and the current folder are from the suite file.
fn options(args: &ImportArgs, source: &str, target: &Path) -> ImportOptions {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let script_dir = absolute(&cwd, args.script.parent().unwrap_or(Path::new(".")));
    let suite_dir = absolute(&cwd, target.parent().unwrap_or(Path::new(".")));
    let libraries = sourced_paths(source)
        .into_iter()
        .filter_map(|written| {
            let path = library_path(&written, &script_dir, &cwd, source)?;
            let bytes = regular_file::read(&path, MAX_SCRIPT_BYTES).ok()?;
            let text = String::from_utf8(bytes).ok()?;
            let path_for_steps = relative(&cwd, &path).display().to_string();
            Some((
                written,
                Library {
                    text,
                    path_for_steps,
                },
            ))
        })
        .collect();
    ImportOptions {
        args: args.args.clone(),
        libraries,
        script_dir: relative(&cwd, &script_dir).display().to_string(),
        workdir: Some(relative(&suite_dir, &cwd).display().to_string()),
    }
}

/// Where `source WRITTEN` finds its file: after the script's own folder (`$(dirname "$0")/`,
/// `${BASH_SOURCE%/*}/`) it is in the script's folder; a relative path is looked up from the
/// current folder, as bash does, then from the script's.
fn library_path(written: &str, script_dir: &Path, cwd: &Path, source: &str) -> Option<PathBuf> {
    if let Some(expanded) = expand_known(written, source).filter(|e| !e.contains('$')) {
        return [cwd.join(&expanded), script_dir.join(&expanded)]
            .into_iter()
            .find(|p| p.is_file());
    }
    let after_expansion = written
        .rfind([')', '}'])
        .filter(|_| written.contains('$'))
        .map(|at| written[at + 1..].trim_start_matches(['"', '/']));
    if let Some(rest) = after_expansion {
        return Some(script_dir.join(rest)).filter(|p| p.is_file());
    }
    if written.contains('$') {
        return None;
    }
    [cwd.join(written), script_dir.join(written)]
        .into_iter()
        .find(|p| p.is_file())
}

/// `$NAME` and `${NAME}` in a sourced path, from the script's own literal settings before it:
/// `NAME=value`, or `: "${NAME:=value}"` (where the environment's value comes first, as bash
/// keeps a set variable). `None` when a name stays unknown.
fn expand_known(written: &str, source: &str) -> Option<String> {
    let assignment =
        regex::Regex::new(r#"^\s*(?:export\s+)?([A-Za-z_]\w*)=["']?([^"'$`\s;]*)["']?\s*$"#)
            .ok()?;
    let default = regex::Regex::new(r#"^\s*:\s+"?\$\{([A-Za-z_]\w*):?=([^}$`"]*)\}"?\s*$"#).ok()?;
    let mut known: Vec<(String, String)> = Vec::new();
    for line in source.lines() {
        if let Some(found) = assignment.captures(line) {
            known.push((found[1].to_owned(), found[2].to_owned()));
        } else if let Some(found) = default.captures(line) {
            let value = std::env::var(&found[1])
                .ok()
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| found[2].to_owned());
            known.push((found[1].to_owned(), value));
        }
    }
    let reference = regex::Regex::new(r"\$\{([A-Za-z_]\w*)\}|\$([A-Za-z_]\w*)").ok()?;
    let mut unknown = false;
    let expanded = reference.replace_all(written, |found: &regex::Captures<'_>| {
        let name = found
            .get(1)
            .or_else(|| found.get(2))
            .map_or("", |m| m.as_str());
        match known.iter().rev().find(|(n, _)| n == name) {
            Some((_, value)) => value.clone(),
            None => {
                unknown = true;
                String::new()
            }
        }
    });
    (!unknown).then(|| expanded.into_owned())
}

fn absolute(cwd: &Path, path: &Path) -> PathBuf {
    let joined = if path.as_os_str().is_empty() {
        cwd.to_path_buf()
    } else {
        cwd.join(path)
    };
    joined.canonicalize().unwrap_or(joined)
}

/// `to` as a path relative to the folder `from` (both absolute).
fn relative(from: &Path, to: &Path) -> PathBuf {
    let from: Vec<Component> = from.components().collect();
    let to_parts: Vec<Component> = to.components().collect();
    let common = from
        .iter()
        .zip(&to_parts)
        .take_while(|(a, b)| a == b)
        .count();
    let mut out = PathBuf::new();
    for _ in common..from.len() {
        out.push("..");
    }
    for part in &to_parts[common..] {
        out.push(part);
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}
