//! `smoke-runner exec`: one command through the executor, exiting like GNU `timeout`.

use std::time::Duration;

use crate::config::{ExecArgs, parse_duration, timeout_from_env};
use crate::exec::{ExecRequest, Executor, Interrupts, Stdin, Termination, signal_name};

use super::exit::EXEC_RUNNER_FAILED as RUNNER_FAILED;

/// A timeout the executor reads as "no deadline": it lies beyond the clock's range.
const NO_LIMIT: Duration = Duration::MAX;

/// Runs `smoke-runner exec` and returns the process exit status.
pub fn exec_main(args: &ExecArgs) -> i32 {
    match exec(args) {
        Ok(code) => code,
        Err(message) => {
            stderr_line!("smoke-runner: {message}");
            RUNNER_FAILED
        }
    }
}

fn exec(args: &ExecArgs) -> Result<i32, String> {
    let timeout = match &args.timeout {
        Some(text) => parse_duration(text).map_err(|e| format!("--timeout: {e}"))?,
        None => default_timeout()?,
    };
    // As with GNU `timeout`, a zero duration disables the deadline.
    let timeout = if timeout.is_zero() { NO_LIMIT } else { timeout };
    let kill_after = parse_duration(&args.kill_after).map_err(|e| format!("--kill-after: {e}"))?;
    let (program, rest) = args.command.split_first().ok_or("missing CMD")?;
    let request = ExecRequest::new(program)
        .args(rest.iter().cloned())
        .stdin(Stdin::InheritUnlessTerminal)
        .timeout(timeout)
        .kill_grace(kill_after)
        .capture(false)
        .forward(true);
    let signal_error = |e: std::io::Error| format!("cannot install signal handlers: {e}");
    let interrupts = Interrupts::new().map_err(signal_error)?;
    let _signals = interrupts.cancel_on_signals().map_err(signal_error)?;
    let outcome = Executor::with_interrupts(interrupts)
        .run(&request)
        .map_err(|e| format!("failed to run command: {e}"))?;
    let shown = program.to_string_lossy();
    match outcome.termination {
        Termination::TimedOut { signal } => stderr_line!(
            "smoke-runner: `{shown}` timed out after {}; stopped its process group with {}",
            humantime::format_duration(round_ms(timeout)),
            signal_name(signal)
        ),
        Termination::FailedToStart(failure) => {
            stderr_line!(
                "smoke-runner: failed to run command `{shown}`: {}",
                Termination::FailedToStart(failure)
            );
        }
        _ => {}
    }
    if outcome.leaked_processes > 0 {
        stderr_line!(
            "smoke-runner: killed {} leftover process(es) of `{shown}` after it ended",
            outcome.leaked_processes
        );
    }
    if let Termination::Signaled(signal) = outcome.termination {
        reraise(signal);
    }
    Ok(outcome.termination.timeout_compatible_code())
}

fn default_timeout() -> Result<Duration, String> {
    let value = match std::env::var("PLANDEX_TIMEOUT") {
        Ok(value) => Some(value),
        Err(std::env::VarError::NotPresent) => None,
        Err(std::env::VarError::NotUnicode(_)) => {
            return Err(
                "PLANDEX_TIMEOUT is not valid UTF-8: set it to a UTF-8 value, or unset it".into(),
            );
        }
    };
    timeout_from_env(value.as_deref()).map_err(|e| e.to_string())
}

fn round_ms(duration: Duration) -> Duration {
    Duration::from_millis(duration.as_millis() as u64)
}

/// Dies of the same signal as the command, as `timeout` does, so a calling shell sees it.
fn reraise(signal: i32) {
    // SAFETY: restoring the default disposition and raising a signal on ourselves; if the
    // signal does not terminate us, the caller exits with 128+N.
    unsafe {
        libc::signal(signal, libc::SIG_DFL);
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, signal);
        libc::sigprocmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        // No core file for a crash that was the command's, not ours.
        let no_core = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        libc::setrlimit(libc::RLIMIT_CORE, &no_core);
        libc::raise(signal);
    }
}
