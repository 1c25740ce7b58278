//! Turning a step into an [`ExecRequest`]: expansion, splitting, environment, deadline.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::config::Settings;
use crate::exec::{Environment, ExecRequest, Interaction, Stdin, Terminal};
use crate::http::HttpCall;
use crate::suite::{Action, Command, HttpCheck, InteractEntry, Pty, Shell, Step, Suite, Template};

/// A step ready to run, or the reason it cannot be.
#[derive(Debug)]
pub struct PreparedStep {
    /// What the executor runs.
    pub request: ExecRequest,
    /// The command as shown to users.
    pub command_line: String,
}

/// The environment every step of `suite` starts from: settings' env (relative `PATH` entries
/// made absolute), `TEST_DIR`, `preset` (the services' ports), the suite's env.
pub fn suite_environment(
    suite: &Suite,
    settings: &Settings,
    test_dir: &Path,
    preset: &[(String, String)],
) -> Result<Environment, String> {
    let mut env = settings.env.clone();
    if let Some(path) = env.get("PATH")
        && let Ok(here) = std::env::current_dir()
        && let Some(absolute) = absolute_search_path(path, &here)
    {
        env.set("PATH", absolute);
    }
    env.set("TEST_DIR", test_dir);
    for (key, value) in preset {
        env.set(key, value);
    }
    apply(&mut env, &suite.env)?;
    Ok(env)
}

/// `path` (a `PATH` value) with its relative entries, the empty one (the current directory)
/// included, made absolute against `base`; `None` when every entry is absolute already.
///
/// Steps run in the test dir, so a relative entry would name another folder there than where
/// smoke-runner was started, where the user wrote it and where `requires` used to look.
fn absolute_search_path(path: &OsStr, base: &Path) -> Option<OsString> {
    let entries: Vec<&[u8]> = path.as_bytes().split(|&b| b == b':').collect();
    let relative = |entry: &[u8]| entry.first() != Some(&b'/');
    if !entries.iter().any(|entry| relative(entry)) {
        return None;
    }
    let mut absolute = Vec::with_capacity(path.len() + base.as_os_str().len());
    for (i, entry) in entries.into_iter().enumerate() {
        if i > 0 {
            absolute.push(b':');
        }
        if relative(entry) {
            let dir = if entry.is_empty() {
                base.to_path_buf()
            } else {
                base.join(OsStr::from_bytes(entry))
            };
            absolute.extend_from_slice(dir.as_os_str().as_bytes());
        } else {
            absolute.extend_from_slice(entry);
        }
    }
    Some(OsString::from_vec(absolute))
}

/// The most an `env` table may add to an environment after expansion: 8 MiB (each value is at
/// most 1 MiB; this bounds a table of many large values).
pub const MAX_EXPANDED_ENV: usize = 8 * 1024 * 1024;

/// Sets `vars` in order; each value may refer to variables set before it.
pub(super) fn apply(env: &mut Environment, vars: &[(String, Template)]) -> Result<(), String> {
    let mut total = 0usize;
    for (key, template) in vars {
        let value = expand(template, env).map_err(|e| format!("env `{key}`: {e}"))?;
        total += key.len() + value.len();
        if total > MAX_EXPANDED_ENV {
            return Err(format!(
                "env `{key}`: the `env` values up to this one add up to more than the limit of \
                 8 MiB after expansion"
            ));
        }
        env.set(key, value);
    }
    Ok(())
}

pub(super) fn expand(template: &Template, env: &Environment) -> Result<String, String> {
    template
        .expand(|name| env.get_str(name))
        .map(|v| v.into_owned())
        .map_err(|e| e.to_string())
}

/// Builds the request for `step`. `Err` is a message for the step's failure (for example an
/// unset variable).
pub fn prepare(
    suite: &Suite,
    step: &Step,
    suite_env: &Environment,
    settings: &Settings,
    test_dir: &Path,
) -> Result<PreparedStep, String> {
    let mut env = suite_env.clone();
    apply(&mut env, &step.env)?;
    for key in &step.env_remove {
        env.remove(key);
    }
    let (argv, command_line) = match &step.action {
        Action::Run(args) => {
            let base = match &suite.command {
                Some(template) => expand(template, &env)?,
                None => settings.command.clone(),
            };
            let mut argv = shell_words::split(&base)
                .map_err(|e| format!("cannot split command {base:?}: {e}"))?;
            let mut total = base.len();
            for arg in args {
                let arg = expand(arg, &env)?;
                total += arg.len();
                if total > MAX_EXPANDED_ENV {
                    return Err(
                        "the command's arguments add up to more than the limit of 8 MiB after \
                         expansion"
                            .to_owned(),
                    );
                }
                argv.push(arg);
            }
            let line = shell_words::join(&argv);
            (argv, line)
        }
        Action::Shell(line) => {
            let line = expand(line, &env)?;
            let mut argv = match step.shell.as_ref().or(suite.shell.as_ref()) {
                Some(shell) => shell.argv.clone(),
                None => Shell::strict().argv,
            };
            argv.push(line.clone());
            (argv, line)
        }
        Action::Http(_) => return Err("an `http` step has no command to run".to_owned()),
    };
    let Some((program, args)) = argv.split_first() else {
        return Err("nothing to run: the command and the step's `run` are both empty".to_owned());
    };
    let stdin = match &step.stdin {
        Some(template) => Stdin::Bytes(expand(template, &env)?.into_bytes()),
        None => Stdin::Null,
    };
    let cwd = start_dir(suite, step, &env, test_dir)?;
    let terminal = step
        .pty
        .as_ref()
        .map(|pty| terminal(pty, &env))
        .transpose()?;
    let mut request = ExecRequest::with_env(program, env)
        .args(args)
        .cwd(&cwd)
        .stdin(stdin)
        .timeout(step_timeout(suite, step, settings))
        .kill_grace(settings.kill_grace);
    request.terminal = terminal;
    Ok(PreparedStep {
        request,
        command_line,
    })
}

/// The terminal of a `pty` step, its script's texts expanded.
fn terminal(pty: &Pty, env: &Environment) -> Result<Terminal, String> {
    let mut total = 0usize;
    let mut expanded = |template: &Template| -> Result<Vec<u8>, String> {
        let text = expand(template, env).map_err(|e| format!("interact: {e}"))?;
        total += text.len();
        if total > MAX_EXPANDED_ENV {
            return Err(
                "interact: the texts add up to more than the limit of 8 MiB after expansion"
                    .to_owned(),
            );
        }
        Ok(text.into_bytes())
    };
    let script = pty
        .interact
        .iter()
        .map(|entry| {
            Ok(match entry {
                InteractEntry::Expect(text) => Interaction::Expect(expanded(text)?),
                InteractEntry::ExpectRegex(regex) => Interaction::ExpectRegex(Arc::clone(regex)),
                InteractEntry::Send(text) => Interaction::Send(expanded(text)?),
            })
        })
        .collect::<Result<_, String>>()?;
    Ok(Terminal {
        rows: pty.rows,
        cols: pty.cols,
        script,
    })
}

/// The directory a step starts in: the step's `workdir` (relative to the suite's), the suite's
/// `workdir` (relative to the suite file's folder), else the test dir. It must be a directory
/// when the step starts.
fn start_dir(
    suite: &Suite,
    step: &Step,
    env: &Environment,
    test_dir: &Path,
) -> Result<PathBuf, String> {
    let suite_dir = match &suite.workdir {
        Some(template) => {
            let folder = suite
                .source
                .as_deref()
                .and_then(Path::parent)
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            folder.join(expand(template, env)?)
        }
        None => test_dir.to_path_buf(),
    };
    let dir = match &step.workdir {
        Some(template) => suite_dir.join(expand(template, env)?),
        None if suite.workdir.is_none() => return Ok(suite_dir),
        None => suite_dir,
    };
    match std::fs::metadata(&dir) {
        Ok(meta) if meta.is_dir() => Ok(dir),
        Ok(_) => Err(format!(
            "workdir {} is not a directory: give a folder for the step to start in",
            dir.display()
        )),
        Err(e) => Err(format!(
            "workdir {}: {e}: give a folder for the step to start in",
            dir.display()
        )),
    }
}

/// The step's deadline: the step's, else the suite's, else the settings'.
pub fn step_timeout(suite: &Suite, step: &Step, settings: &Settings) -> Duration {
    step.timeout.or(suite.timeout).unwrap_or(settings.timeout)
}

/// The request and display line of a whole command (services, health checks), run in
/// `test_dir` with `env`.
pub(super) fn command_request(
    command: &Command,
    shell: Option<&Shell>,
    env: &Environment,
    test_dir: &Path,
) -> Result<(ExecRequest, String), String> {
    let (argv, line) = match command {
        Command::Argv(args) => {
            let argv = args
                .iter()
                .map(|arg| expand(arg, env))
                .collect::<Result<Vec<_>, _>>()?;
            let line = shell_words::join(&argv);
            (argv, line)
        }
        Command::Shell(line) => {
            let line = expand(line, env)?;
            let mut argv = shell.map_or_else(|| Shell::strict().argv, |s| s.argv.clone());
            argv.push(line.clone());
            (argv, line)
        }
    };
    let Some((program, args)) = argv.split_first() else {
        return Err("nothing to run: `run` is empty".to_owned());
    };
    let request = ExecRequest::with_env(program, env.clone())
        .args(args)
        .cwd(test_dir);
    Ok((request, line))
}

/// An HTTP request with its templates expanded, and the line users see (`GET http://…`).
pub(super) fn http_call(
    check: &HttpCheck,
    env: &Environment,
    timeout: Duration,
) -> Result<(HttpCall, String), String> {
    let url = expand(&check.url, env)?;
    let headers = check
        .headers
        .iter()
        .map(|(name, value)| Ok((name.clone(), expand(value, env)?)))
        .collect::<Result<Vec<_>, String>>()?;
    let body = check.body.as_ref().map(|b| expand(b, env)).transpose()?;
    let line = format!("{} {url}", check.method);
    Ok((
        HttpCall {
            method: check.method.clone(),
            url,
            headers,
            body,
            timeout,
        },
        line,
    ))
}

/// The environment of one step: the suite's, then the step's own `env` and `env_remove`.
pub(super) fn step_environment(
    step: &Step,
    suite_env: &Environment,
) -> Result<Environment, String> {
    let mut env = suite_env.clone();
    apply(&mut env, &step.env)?;
    for key in &step.env_remove {
        env.remove(key);
    }
    Ok(env)
}

#[cfg(test)]
mod tests {
    use std::ffi::OsStr;
    use std::path::Path;

    use super::absolute_search_path;

    #[test]
    fn relative_path_entries_are_made_absolute() {
        let base = Path::new("/work/project");
        assert_eq!(
            absolute_search_path(OsStr::new("bin::/usr/bin:../tools/bin"), base),
            Some("/work/project/bin:/work/project:/usr/bin:/work/project/../tools/bin".into())
        );
        assert_eq!(
            absolute_search_path(OsStr::new("/usr/bin:/bin"), base),
            None
        );
    }
}
