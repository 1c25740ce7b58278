//! Turning a step into an [`ExecRequest`]: expansion, splitting, environment, deadline.

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

/// The environment every step of `suite` starts from: settings' env, `TEST_DIR`, the suite's env.
pub fn suite_environment(
    suite: &Suite,
    settings: &Settings,
    test_dir: &Path,
) -> Result<Environment, String> {
    let mut env = settings.env.clone();
    env.set("TEST_DIR", test_dir);
    apply(&mut env, &suite.env)?;
    Ok(env)
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
