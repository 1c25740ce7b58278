//! `fake-program`: the process every executor test drives.
//!
//! It runs a tiny command language given as arguments, left to right, so that each executor
//! case is one line:
//!
//! ```text
//! fake-program out:hello err:oops sleep:0.2 exit:3
//! ```
//!
//! Every argument is one action, `NAME` or `NAME:ARG` (the argument is everything after the
//! first `:`). All actions are parsed before the first one runs, so a typo fails fast with a
//! usage error (exit 2) instead of running half a program. Both streams are flushed after every
//! action, so the order of writes across stdout and stderr is the order of the actions.
//!
//! Output:
//! - `out:TEXT`: write TEXT and a newline to stdout. `marker:TEXT` is the same, and reads
//!   better after `print-bytes:`.
//! - `err:TEXT`: write TEXT and a newline to stderr.
//! - `out-raw:HEX`, `err-raw:HEX`: write raw bytes, e.g. `out-raw:fffe` (spaces are allowed).
//! - `print-bytes:N`: write exactly N bytes of `xxx…x` lines to stdout, in 1 MiB writes. N may
//!   end in `K`, `M` or `G` (binary: `1G` is 1 GiB).
//! - `interleave:N`: write `out-1` to stdout, `err-1` to stderr, `out-2`, … N lines to each.
//! - `read-stdin`: copy stdin to stdout until end of file.
//! - `env:NAME`: write `NAME=value`, or `NAME unset`, to stdout.
//! - `cwd`: write the current directory to stdout.
//! - `pid`: write `pid:N`, the process's own id, to stdout.
//! - `stamp:PATH`: write the wall-clock time (nanoseconds since the Unix epoch) to the file PATH.
//!
//! Questions (for steps run on a terminal):
//! - `ask:PROMPT`: write PROMPT (no newline), then read one line from stdin as the answer; no
//!   line (end of file) is a failure.
//! - `answers`: write `answers: A, B` (every answer so far, in order) to stdout.
//! - `terminal`: write `terminal: rows=R cols=C controlling=yes|no` about stdin: its window
//!   size (`rows=? cols=?` when it is no terminal), and whether it is the controlling terminal
//!   of the session this process leads (`/dev/tty` opens and the terminal's session is ours).
//!
//! Time, exit and signals:
//! - `sleep:SECS`: sleep SECS seconds (fractional).
//! - `exit:CODE`: exit now with CODE (0–255).
//! - `kill-self:SIG`: restore SIG's default action and raise it (`9`, `KILL` or `SIGKILL`).
//! - `ignore-term`: ignore SIGTERM from now on (grandchildren started later inherit it).
//!
//! Processes left behind (each is `fake-program sleep:SECS`, not waited for):
//! - `spawn-grandchild:SECS`: start one that shares our stdout and stderr, so the pipes stay
//!   open after we exit; write `grandchild-pid:N`.
//! - `daemonize:SECS`: start one in a new session (`setsid`) with its stdio on /dev/null, so it
//!   escapes our process group and holds none of our stdio; write `daemon-pid:N`.
//!
//! With no action it exits 0 at once, and `--help` prints a short usage. When all actions have
//! run it exits 0. An action that fails (a write to a closed pipe, a failed spawn) exits 1 with
//! a message on stderr.

use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Duration;

const USAGE: &str = "\
usage: fake-program ACTION...

Actions run left to right:
  out:TEXT  marker:TEXT  err:TEXT  out-raw:HEX  err-raw:HEX  print-bytes:N[K|M|G]
  interleave:N  read-stdin  env:NAME  cwd  pid  stamp:PATH  sleep:SECS  exit:CODE  kill-self:SIG
  ignore-term  spawn-grandchild:SECS  daemonize:SECS  ask:PROMPT  answers  terminal";

/// One parsed argument.
#[derive(Debug)]
enum Action {
    Out(Vec<u8>),
    Err(Vec<u8>),
    PrintBytes(u64),
    Interleave(u64),
    ReadStdin,
    Env(String),
    Cwd,
    Pid,
    Stamp(std::path::PathBuf),
    Sleep(Duration),
    Exit(i32),
    KillSelf(libc::c_int),
    IgnoreTerm,
    SpawnGrandchild(Duration),
    Daemonize(Duration),
    Ask(String),
    Answers,
    Terminal,
}

/// The answers read by `ask:`, in order.
static ANSWERS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|arg| arg == "--help" || arg == "-h") {
        println!("{USAGE}");
        return;
    }
    let actions = match args
        .iter()
        .map(|arg| parse(arg))
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(actions) => actions,
        Err(message) => {
            eprintln!("fake-program: {message}\n\n{USAGE}");
            std::process::exit(2);
        }
    };
    for (action, arg) in actions.iter().zip(&args) {
        let result = run(action).and_then(|()| io::stdout().flush());
        if let Err(error) = result {
            eprintln!("fake-program: {arg}: {error}");
            std::process::exit(1);
        }
    }
}

fn parse(arg: &str) -> Result<Action, String> {
    let (name, value) = match arg.split_once(':') {
        Some((name, value)) => (name, Some(value)),
        None => (arg, None),
    };
    let needs_value = || value.ok_or_else(|| format!("`{name}` needs a value: `{name}:…`"));
    let action = match name {
        "out" | "marker" => Action::Out(line(needs_value()?)),
        "err" => Action::Err(line(needs_value()?)),
        "out-raw" => Action::Out(hex(needs_value()?)?),
        "err-raw" => Action::Err(hex(needs_value()?)?),
        "print-bytes" => Action::PrintBytes(byte_count(needs_value()?)?),
        "interleave" => Action::Interleave(number(needs_value()?)?),
        "env" => Action::Env(needs_value()?.to_owned()),
        "stamp" => Action::Stamp(needs_value()?.into()),
        "sleep" => Action::Sleep(seconds(needs_value()?)?),
        "exit" => Action::Exit(exit_code(needs_value()?)?),
        "kill-self" => Action::KillSelf(signal(needs_value()?)?),
        "spawn-grandchild" => Action::SpawnGrandchild(seconds(needs_value()?)?),
        "daemonize" => Action::Daemonize(seconds(needs_value()?)?),
        "ask" => Action::Ask(needs_value()?.to_owned()),
        "read-stdin" | "cwd" | "pid" | "ignore-term" | "answers" | "terminal"
            if value.is_some() =>
        {
            return Err(format!("`{name}` takes no value, got `{arg}`"));
        }
        "read-stdin" => Action::ReadStdin,
        "cwd" => Action::Cwd,
        "pid" => Action::Pid,
        "ignore-term" => Action::IgnoreTerm,
        "answers" => Action::Answers,
        "terminal" => Action::Terminal,
        _ => return Err(format!("unknown action `{arg}`")),
    };
    Ok(action)
}

fn line(text: &str) -> Vec<u8> {
    format!("{text}\n").into_bytes()
}

fn hex(text: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if !digits.len().is_multiple_of(2) {
        return Err(format!("odd number of hex digits in `{text}`"));
    }
    digits
        .chunks(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or_else(|| format!("not hex: `{text}`"))
        })
        .collect()
}

fn number(text: &str) -> Result<u64, String> {
    text.parse()
        .map_err(|_| format!("not a whole number: `{text}`"))
}

/// `N`, `NK`, `NM` or `NG` (binary multiples: `1G` is 1 GiB).
fn byte_count(text: &str) -> Result<u64, String> {
    let (digits, shift) = match text.as_bytes().last() {
        Some(b'K' | b'k') => (&text[..text.len() - 1], 10),
        Some(b'M' | b'm') => (&text[..text.len() - 1], 20),
        Some(b'G' | b'g') => (&text[..text.len() - 1], 30),
        _ => (text, 0),
    };
    number(digits)?
        .checked_mul(1 << shift)
        .ok_or_else(|| format!("too many bytes: `{text}`"))
}

fn seconds(text: &str) -> Result<Duration, String> {
    text.parse::<f64>()
        .ok()
        .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
        .ok_or_else(|| format!("not a number of seconds: `{text}`"))
}

fn exit_code(text: &str) -> Result<i32, String> {
    text.parse::<u8>()
        .map(i32::from)
        .map_err(|_| format!("exit code must be 0-255: `{text}`"))
}

fn signal(text: &str) -> Result<libc::c_int, String> {
    if let Ok(number) = text.parse::<libc::c_int>() {
        return Ok(number);
    }
    let name = text.strip_prefix("SIG").unwrap_or(text);
    let number = match name.to_ascii_uppercase().as_str() {
        "HUP" => libc::SIGHUP,
        "INT" => libc::SIGINT,
        "QUIT" => libc::SIGQUIT,
        "ABRT" => libc::SIGABRT,
        "KILL" => libc::SIGKILL,
        "SEGV" => libc::SIGSEGV,
        "PIPE" => libc::SIGPIPE,
        "ALRM" => libc::SIGALRM,
        "TERM" => libc::SIGTERM,
        "USR1" => libc::SIGUSR1,
        "USR2" => libc::SIGUSR2,
        _ => return Err(format!("unknown signal `{text}`")),
    };
    Ok(number)
}

fn run(action: &Action) -> io::Result<()> {
    match action {
        Action::Out(bytes) => io::stdout().write_all(bytes),
        Action::Err(bytes) => io::stderr().write_all(bytes),
        Action::PrintBytes(count) => print_bytes(*count),
        Action::Interleave(count) => {
            for i in 1..=*count {
                let mut stdout = io::stdout();
                writeln!(stdout, "out-{i}")?;
                stdout.flush()?;
                io::stderr().write_all(format!("err-{i}\n").as_bytes())?;
            }
            Ok(())
        }
        Action::ReadStdin => io::copy(&mut io::stdin().lock(), &mut io::stdout()).map(drop),
        Action::Env(name) => {
            let mut stdout = io::stdout();
            match std::env::var_os(name) {
                Some(value) => {
                    write!(stdout, "{name}=")?;
                    stdout.write_all(value.as_bytes())?;
                    writeln!(stdout)
                }
                None => writeln!(stdout, "{name} unset"),
            }
        }
        Action::Cwd => {
            let mut stdout = io::stdout();
            stdout.write_all(std::env::current_dir()?.as_os_str().as_bytes())?;
            writeln!(stdout)
        }
        Action::Pid => writeln!(io::stdout(), "pid:{}", std::process::id()),
        Action::Stamp(path) => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_err(io::Error::other)?;
            std::fs::write(path, now.as_nanos().to_string())
        }
        Action::Sleep(duration) => {
            std::thread::sleep(*duration);
            Ok(())
        }
        Action::Exit(code) => {
            io::stdout().flush()?;
            std::process::exit(*code)
        }
        Action::KillSelf(signal) => {
            io::stdout().flush()?;
            // The runtime installs its own handlers (SIGSEGV) and ignores SIGPIPE; restoring the
            // default makes the process die of the signal, as the action promises.
            // SAFETY: signal() and raise() are plain libc calls with no memory arguments.
            let raised = unsafe {
                libc::signal(*signal, libc::SIG_DFL);
                libc::raise(*signal)
            };
            if raised == 0 {
                Ok(())
            } else {
                Err(io::Error::last_os_error())
            }
        }
        Action::IgnoreTerm => {
            // SAFETY: installs SIG_IGN, no handler code runs.
            let previous = unsafe { libc::signal(libc::SIGTERM, libc::SIG_IGN) };
            if previous == libc::SIG_ERR {
                Err(io::Error::last_os_error())
            } else {
                Ok(())
            }
        }
        Action::SpawnGrandchild(duration) => {
            let child = sleeper(*duration)?.stdin(Stdio::null()).spawn()?;
            writeln!(io::stdout(), "grandchild-pid:{}", child.id())
        }
        Action::Ask(prompt) => ask(prompt),
        Action::Answers => {
            let answers = ANSWERS.lock().map_err(|_| io::Error::other("poisoned"))?;
            writeln!(io::stdout(), "answers: {}", answers.join(", "))
        }
        Action::Terminal => describe_terminal(),
        Action::Daemonize(duration) => {
            let mut command = sleeper(*duration)?;
            command
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            // SAFETY: setsid() is async-signal-safe and touches no memory of ours.
            unsafe {
                command.pre_exec(|| {
                    if libc::setsid() == -1 {
                        return Err(io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
            let child = command.spawn()?;
            writeln!(io::stdout(), "daemon-pid:{}", child.id())
        }
    }
}

/// Writes `prompt`, reads one line from stdin into [`ANSWERS`].
fn ask(prompt: &str) -> io::Result<()> {
    let mut stdout = io::stdout();
    stdout.write_all(prompt.as_bytes())?;
    stdout.flush()?;
    let mut answer = String::new();
    if io::stdin().read_line(&mut answer)? == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "no answer: end of file",
        ));
    }
    let answer = answer.trim_end_matches(['\n', '\r']).to_owned();
    ANSWERS
        .lock()
        .map_err(|_| io::Error::other("poisoned"))?
        .push(answer);
    Ok(())
}

/// `terminal: rows=R cols=C controlling=yes|no`, about stdin.
fn describe_terminal() -> io::Result<()> {
    // SAFETY: winsize is plain data; ioctl writes it for TIOCGWINSZ and nothing else.
    let mut size: libc::winsize = unsafe { std::mem::zeroed() };
    let (rows, cols) = if unsafe { libc::ioctl(0, libc::TIOCGWINSZ, &mut size) } == 0 {
        (size.ws_row.to_string(), size.ws_col.to_string())
    } else {
        ("?".to_owned(), "?".to_owned())
    };
    let opens = std::fs::File::open("/dev/tty").is_ok();
    // SAFETY: plain libc calls without memory arguments.
    let ours = unsafe { libc::tcgetsid(0) == libc::getsid(0) && libc::getsid(0) == libc::getpid() };
    let controlling = if opens && ours { "yes" } else { "no" };
    writeln!(
        io::stdout(),
        "terminal: rows={rows} cols={cols} controlling={controlling}"
    )
}

/// `fake-program sleep:SECS`, the body of every process we leave behind.
fn sleeper(duration: Duration) -> io::Result<Command> {
    let mut command = Command::new(std::env::current_exe()?);
    command.arg(format!("sleep:{}", duration.as_secs_f64()));
    Ok(command)
}

/// Writes `count` bytes of 63 `x` and a newline per line, in 1 MiB writes. The last byte is a
/// newline whenever `count > 0`, so a following `marker:` starts its own line.
fn print_bytes(count: u64) -> io::Result<()> {
    const LINE: usize = 64;
    const CHUNK: usize = 1 << 20;
    let chunk: Vec<u8> = (0..CHUNK)
        .map(|i| if i % LINE == LINE - 1 { b'\n' } else { b'x' })
        .collect();
    // Whole lines end in a newline, so the line-buffered stdout hands each write straight to
    // the descriptor instead of copying it.
    let mut stdout = io::stdout().lock();
    let mut left = count;
    while left >= CHUNK as u64 {
        stdout.write_all(&chunk)?;
        left -= CHUNK as u64;
    }
    if left > 0 {
        // `left < CHUNK`, so it fits in usize.
        let tail = left as usize;
        stdout.write_all(&chunk[..tail - 1])?;
        stdout.write_all(b"\n")?;
    }
    stdout.flush()
}
