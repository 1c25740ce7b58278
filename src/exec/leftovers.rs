//! Finding processes a command left behind, including those that left its process group.
//!
//! Every command starts with a unique `SMOKE_RUNNER_TAG=<runner pid>-<n>` in its environment,
//! which its descendants inherit. After the command, the runner looks through `/proc` for live
//! processes that are in the command's process group or carry its tag. Only processes created
//! after the command are candidates (pids grow until they wrap), which keeps the scan to a
//! directory read on a quiet machine.
//!
//! A process that is already exiting is not a leftover: zombies, processes the kernel marks as
//! exiting, and (in the executor) processes gone within a short grace, such as the child of a
//! bash process substitution (`done < <(tac "$file")`) still finishing when the script ends on
//! a busy machine.

use std::fs;
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::sync::OnceLock;

/// The environment variable that marks every process a command starts.
pub const TAG_VARIABLE: &str = "SMOKE_RUNNER_TAG";

/// Live processes (not zombies) in process group `pgid` or carrying `tag_entry`
/// (`b"SMOKE_RUNNER_TAG=…"`), created at or after `first_pid`.
pub fn find(pgid: i32, tag_entry: &[u8], first_pid: i32) -> Vec<i32> {
    let last = last_pid();
    // Fast path: no process at all was created on this machine since the command, so it has
    // no descendants. Saves reading /proc for the many commands that start nothing.
    if last == Some(first_pid) {
        return Vec::new();
    }
    // When pids wrapped around since the command started, newer processes can have lower pids.
    let wrapped = last.is_some_and(|last| last < first_pid);
    let own = std::process::id() as i32;
    let mut found = Vec::new();
    let mut environ = Vec::new();
    for pid in proc_pids() {
        if pid == own || (!wrapped && pid < first_pid) {
            continue;
        }
        let Some(stat) = Stat::read(pid) else {
            continue;
        };
        if stat.is_exiting() {
            continue;
        }
        let group = stat.group;
        if group == pgid || environ_has(pid, &mut environ, |entry| entry == tag_entry) {
            found.push(pid);
        }
    }
    found
}

/// Whether `pid` is still running (gone, zombie and exiting all count as not running).
pub fn is_running(pid: i32) -> bool {
    Stat::read(pid).is_some_and(|stat| !stat.is_exiting())
}

/// The last pid handed out on this machine (in the runner's pid namespace). Read after every
/// command, so the file stays open and is read in place with one `pread`.
fn last_pid() -> Option<i32> {
    static FILE: OnceLock<Option<fs::File>> = OnceLock::new();
    let file = FILE
        .get_or_init(|| fs::File::open("/proc/sys/kernel/ns_last_pid").ok())
        .as_ref()?;
    let mut buffer = [0u8; 32];
    let count = file.read_at(&mut buffer, 0).ok()?;
    std::str::from_utf8(&buffer[..count])
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// The kernel's flag for a process that has begun to exit (`PF_EXITING`, include/linux/sched.h).
const PF_EXITING: u64 = 0x4;

/// What `/proc/<pid>/stat` says that matters here.
struct Stat {
    state: u8,
    group: i32,
    flags: u64,
}

impl Stat {
    fn read(pid: i32) -> Option<Self> {
        let stat = fs::read(format!("/proc/{pid}/stat")).ok()?;
        // The command name may contain anything, including ')', so parse after the last one.
        let after_name = &stat[stat.iter().rposition(|&b| b == b')')? + 1..];
        let mut fields = after_name.split(|&b| b == b' ').filter(|f| !f.is_empty());
        let state = *fields.next()?.first()?;
        let _parent = fields.next()?;
        let group = std::str::from_utf8(fields.next()?).ok()?.parse().ok()?;
        // session, tty_nr, tpgid, then flags.
        let flags = std::str::from_utf8(fields.nth(3)?).ok()?.parse().ok()?;
        Some(Self {
            state,
            group,
            flags,
        })
    }

    /// A zombie, dead, or on its way out.
    fn is_exiting(&self) -> bool {
        self.state == b'Z' || self.state == b'X' || self.flags & PF_EXITING != 0
    }
}

/// Whether an entry of `pid`'s environment (read into `buffer`) is one `matches` accepts.
fn environ_has(pid: i32, buffer: &mut Vec<u8>, matches: impl Fn(&[u8]) -> bool) -> bool {
    buffer.clear();
    let Ok(mut file) = fs::File::open(format!("/proc/{pid}/environ")) else {
        return false;
    };
    if file.read_to_end(buffer).is_err() {
        return false;
    }
    buffer.split(|&b| b == 0).any(matches)
}

/// Live processes whose environment has a [`TAG_VARIABLE`] entry starting with `tag_prefix`
/// (`b"SMOKE_RUNNER_TAG=4242-"`: every command a runner with pid 4242 started, and their
/// descendants). `serve` uses it after a crash, for the commands of the runner that crashed.
pub fn find_tag_prefix(tag_prefix: &[u8]) -> Vec<i32> {
    let own = std::process::id() as i32;
    let mut environ = Vec::new();
    proc_pids()
        .filter(|&pid| pid != own && is_running(pid))
        .filter(|&pid| environ_has(pid, &mut environ, |entry| entry.starts_with(tag_prefix)))
        .collect()
}

/// The pids listed in `/proc` (none when it cannot be read).
fn proc_pids() -> impl Iterator<Item = i32> {
    fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
}
