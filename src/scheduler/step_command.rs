//! Turning a step into an [`ExecRequest`]: expansion, splitting, environment, deadline.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;
use std::time::Duration;

use crate::config::Settings;
use crate::exec::{Environment, ExecRequest, Stdin};
use crate::suite::{Action, Shell, Step, Suite, Template};

/// A step ready to run, or the reason it cannot be.
#[derive(Debug)]
pub struct PreparedStep {
    /// What the executor runs.
    pub request: ExecRequest,
    /// The command as shown to users.
    pub command_line: String,
}

/// The environment every step of `suite` starts from: settings' env (relative `PATH` entries
/// made absolute), `TEST_DIR`, the suite's env.
pub fn suite_environment(
    suite: &Suite,
    settings: &Settings,
    test_dir: &Path,
) -> Result<Environment, String> {
    let mut env = settings.env.clone();
    if let Some(path) = env.get("PATH")
        && let Ok(here) = std::env::current_dir()
        && let Some(absolute) = absolute_search_path(path, &here)
    {
        env.set("PATH", absolute);
    }
    env.set("TEST_DIR", test_dir);
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

/// Sets `vars` in order; each value may refer to variables set before it.
fn apply(env: &mut Environment, vars: &[(String, Template)]) -> Result<(), String> {
    for (key, template) in vars {
        let value = expand(template, env)?;
        env.set(key, value);
    }
    Ok(())
}

fn expand(template: &Template, env: &Environment) -> Result<String, String> {
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
            for arg in args {
                argv.push(expand(arg, &env)?);
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
    };
    let Some((program, args)) = argv.split_first() else {
        return Err("nothing to run: the command and the step's `run` are both empty".to_owned());
    };
    let stdin = match &step.stdin {
        Some(template) => Stdin::Bytes(expand(template, &env)?.into_bytes()),
        None => Stdin::Null,
    };
    let request = ExecRequest::new(program)
        .args(args)
        .cwd(test_dir)
        .env(env)
        .stdin(stdin)
        .timeout(step_timeout(suite, step, settings))
        .kill_grace(settings.kill_grace);
    Ok(PreparedStep {
        request,
        command_line,
    })
}

/// The step's deadline: the step's, else the suite's, else the settings'.
pub fn step_timeout(suite: &Suite, step: &Step, settings: &Settings) -> Duration {
    step.timeout.or(suite.timeout).unwrap_or(settings.timeout)
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
