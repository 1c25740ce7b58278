//! `smoke-runner import SCRIPT.sh [-o FILE]`: read the script (bounded, text only), translate
//! it, check that the suite loads, write it; warnings on stderr name the script's lines.

use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};

use crate::config::ImportArgs;
use crate::import::sources::{self, Places, Sourced};
use crate::import::{ImportOptions, Imported, Library, import_script, is_bats};
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
    let (imported, _) = translate(args, &read(args)?)?;
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

/// The script, read once: its text, its file name, and what the import knows beyond the text
/// (the libraries it sources, read; its folder and the suite's from the current one).
pub(super) struct Script {
    pub(super) source: String,
    /// The file's name, for the suite's default name and for messages.
    pub(super) name: String,
    pub(super) options: ImportOptions,
}

/// Reads the script and the libraries it sources (warnings about those on stderr).
pub(super) fn read(args: &ImportArgs) -> Result<Script, String> {
    let source = read_script(&args.script)?;
    let name = args.script.file_name().map_or_else(
        || args.script.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let options = options(args, &source, &target(args, &name));
    Ok(Script {
        source,
        name,
        options,
    })
}

/// Where the suite goes: `--output`, or `SCRIPT.toml` here.
fn target(args: &ImportArgs, script_name: &str) -> PathBuf {
    args.output
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{script_name}.toml")))
}

/// Translates the script (warnings on stderr) and checks that the suite loads; the suite's
/// text and the suite, as if read from `--output` (or `SCRIPT.toml` here).
pub(super) fn translate(args: &ImportArgs, script: &Script) -> Result<(Imported, Suite), String> {
    let shown = args.script.display();
    for message in bash_syntax_errors(&args.script, &script.source) {
        stderr_line!("warning: {shown}: bash cannot parse it: {message}");
    }
    let imported = import_script(&script.source, &script.name, &script.options);
    for warning in &imported.warnings {
        stderr_line!("warning: {shown}:{}: {}", warning.line, warning.message);
    }
    if imported.steps == 0 {
        return Err(format!(
            "{shown} has no commands to turn into steps: give a test script"
        ));
    }
    // The promise is a suite that loads without edits: check it before handing it over.
    let suite = parse_suite(&imported.toml, &target(args, &script.name)).map_err(|e| {
        format!("the suite translated from {shown} does not load, please report this:\n{e}")
    })?;
    Ok((imported, suite))
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
/// (read here, bounded, with the libraries they source in turn), where its folder and the
/// current folder are from the suite file.
fn options(args: &ImportArgs, source: &str, target: &Path) -> ImportOptions {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let script_dir = absolute(&cwd, args.script.parent().unwrap_or(Path::new(".")));
    let suite_dir = absolute(&cwd, target.parent().unwrap_or(Path::new(".")));
    let mut reader = LibraryReader {
        cwd: &cwd,
        script_dir: &script_dir,
        warnings: Vec::new(),
        read: HashSet::new(),
    };
    let mut libraries = Vec::new();
    for line in sources::sourced(source) {
        let texts = [(source, script_dir.as_path())];
        // What cannot be found here is named by the translation, at the script's line.
        let Some(path) = reader.find(&line, &script_dir, &texts).ok() else {
            continue;
        };
        let Ok(text) = read_library(&path) else {
            continue;
        };
        let mut included = Vec::new();
        let mut chain = vec![canonical(&path)];
        reader.read = chain.iter().cloned().collect();
        let lib_dir = path.parent().unwrap_or(Path::new("/")).to_path_buf();
        let texts = [
            (source, script_dir.as_path()),
            (text.as_str(), lib_dir.as_path()),
        ];
        reader.follow(&path, &text, &texts, &mut chain, &mut included);
        // Found on PATH (`. shunit2`): steps find it there too, as the script does.
        let on_path = !line.written.contains('/')
            && !cwd.join(&line.written).is_file()
            && !script_dir.join(&line.written).is_file();
        let path_for_steps = if on_path {
            line.written.clone()
        } else {
            relative(&cwd, &path).display().to_string()
        };
        libraries.push((
            line.written,
            Library {
                text,
                path_for_steps,
                included,
            },
        ));
    }
    for warning in &reader.warnings {
        stderr_line!("warning: {warning}");
    }
    ImportOptions {
        args: args.args.clone(),
        libraries,
        script_dir: relative(&cwd, &script_dir).display().to_string(),
        workdir: Some(relative(&suite_dir, &cwd).display().to_string()),
    }
}

/// How deep libraries that source libraries are followed: a test library nests two or three
/// deep; past this, a loop bash would also never finish is likelier.
const MAX_LIBRARY_DEPTH: usize = 8;

/// Follows `source` lines through libraries, as bash reads them when the script sources the
/// first one.
struct LibraryReader<'a> {
    cwd: &'a Path,
    script_dir: &'a Path,
    /// What could not be followed, each naming the library's line.
    warnings: Vec<String>,
    /// The libraries already read under the current top-level one: one sourced from several
    /// places is read once (its functions are known), so fan-out cannot multiply the reads.
    read: HashSet<PathBuf>,
}

impl LibraryReader<'_> {
    /// The file a `source` line in a file of `this_dir` reads, given what `texts` set before.
    fn find(
        &self,
        line: &Sourced,
        this_dir: &Path,
        texts: &[(&str, &Path)],
    ) -> Result<PathBuf, String> {
        // A secret-looking variable's value never reaches the suite (a library path) or a warning.
        let env = |name: &str| {
            (!crate::mask::looks_secret(name))
                .then(|| std::env::var(name).ok())
                .flatten()
        };
        let places = Places {
            cwd: self.cwd,
            script_dir: self.script_dir,
            this_dir,
            texts,
            env: &env,
        };
        let candidates = sources::candidates(&line.written, &places).map_err(|unresolved| {
            format!(
                "the import cannot tell what `{}` is (set it in the environment of `smoke-runner import`)",
                unresolved.unknown
            )
        })?;
        candidates
            .iter()
            .find(|path| path.is_file())
            .cloned()
            .ok_or_else(|| format!("no such file: {}", self.shown(&candidates[0])))
    }

    /// The libraries `text` (the file at `path`) sources, and what they source in turn, added
    /// to `included` in the order bash reads them. `chain` holds the files being read, for
    /// cycles; `texts` what they set.
    fn follow(
        &mut self,
        path: &Path,
        text: &str,
        texts: &[(&str, &Path)],
        chain: &mut Vec<PathBuf>,
        included: &mut Vec<String>,
    ) {
        let this_dir = path.parent().unwrap_or(Path::new("/")).to_path_buf();
        for line in sources::sourced(text) {
            let at = format!("{}:{}: `{}`", self.shown(path), line.line, line.text);
            let found = match self.find(&line, &this_dir, texts) {
                Ok(found) => found,
                Err(why) => {
                    self.warnings.push(format!(
                        "{at}: {why}; the functions it defines are unknown to the import"
                    ));
                    continue;
                }
            };
            let key = canonical(&found);
            if chain.contains(&key) {
                self.warnings.push(format!(
                    "{at}: sources {} again while it is being read (a cycle): not followed",
                    self.shown(&found)
                ));
                continue;
            }
            if chain.len() >= MAX_LIBRARY_DEPTH {
                self.warnings.push(format!(
                    "{at}: libraries nested more than {MAX_LIBRARY_DEPTH} deep: not followed"
                ));
                continue;
            }
            if !self.read.insert(key.clone()) {
                continue;
            }
            let child = match read_library(&found) {
                Ok(child) => child,
                Err(why) => {
                    self.warnings.push(format!("{at}: {why}"));
                    continue;
                }
            };
            chain.push(key);
            let child_dir = found.parent().unwrap_or(Path::new("/")).to_path_buf();
            let mut deeper: Vec<(&str, &Path)> = texts.to_vec();
            deeper.push((&child, &child_dir));
            self.follow(&found, &child, &deeper, chain, included);
            chain.pop();
            included.push(child);
        }
    }

    /// A path as the user wrote it: from the current folder.
    fn shown(&self, path: &Path) -> String {
        relative(self.cwd, path).display().to_string()
    }
}

/// A library's text: a regular file, bounded, UTF-8.
fn read_library(path: &Path) -> Result<String, String> {
    let bytes = regular_file::read(path, MAX_SCRIPT_BYTES)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    String::from_utf8(bytes).map_err(|_| format!("{} is not UTF-8 text", path.display()))
}

fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
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
