//! Finding processes a command left behind, including those that left its process group.
//!
//! Every command starts with a unique `SMOKE_RUNNER_TAG=<runner pid>-<n>` in its environment,
//! which its descendants inherit. After the command, the runner looks through `/proc` for live
//! processes that are in the command's process group or carry its tag. Only processes created
//! after the command are candidates (pids grow until they wrap): on a quiet machine that is
//! one read of `ns_last_pid`, and on a busy one the few pids handed out meanwhile, each looked
//! at by its `/proc` entry, rather than a listing of every process (see [`find`]).
//!
//! A process that is already exiting is not a leftover: zombies, processes the kernel marks as
//! exiting, and (in the executor) processes gone within a short grace, such as the child of a
//! bash process substitution (`done < <(tac "$file")`) still finishing when the script ends on
//! a busy machine.

use std::fs;
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::sync::OnceLock;

use rustix::fs::{Mode, OFlags};

/// The environment variable that marks every process a command starts.
pub const TAG_VARIABLE: &str = "SMOKE_RUNNER_TAG";

/// Live processes (not zombies) in process group `pgid` or carrying `tag_entry`
/// (`b"SMOKE_RUNNER_TAG=…"`), created at or after `first_pid`.
pub fn find(pgid: i32, tag_entry: &[u8], first_pid: i32) -> Vec<i32> {
    let target = Target { pgid, tag_entry };
    let Some(last) = last_pid() else {
        return target.list(first_pid, false);
    };
    // Fast path: no process at all was created on this machine since the command, so it has
    // no descendants. Saves reading /proc for the many commands that start nothing.
    if last == first_pid {
        return Vec::new();
    }
    // When pids wrapped around since the command started, newer processes can have lower pids.
    if last < first_pid {
        return target.list(first_pid, true);
    }
    target.probe(first_pid, last)
}

/// At most this many pids handed out since a command started are looked at one by one
/// ([`Target::probe`]); beyond that `/proc` is listed instead.
const PROBE_LIMIT: i32 = 64;

/// What makes a process one of a command's: its group, or its tag in the environment.
struct Target<'a> {
    pgid: i32,
    tag_entry: &'a [u8],
}

impl Target<'_> {
    /// The command's processes among the pids `first_pid..=last`, the pids handed out since
    /// the command started (pids grow until they wrap). The kernel hands them out in order
    /// (`ns_last_pid` is the latest), so every process the command started has one of them;
    /// reading `ns_last_pid` again until it stands still takes in those created meanwhile, as
    /// listing `/proc` would. A range that wrapped or grew past [`PROBE_LIMIT`] (a busy
    /// machine) is listed instead.
    fn probe(&self, first_pid: i32, mut last: i32) -> Vec<i32> {
        let own = std::process::id() as i32;
        let mut found = Vec::new();
        let mut environ = Vec::new();
        let mut next = first_pid;
        loop {
            if last - first_pid >= PROBE_LIMIT {
                return self.list(first_pid, false);
            }
            for pid in next..=last {
                // A thread's id has a /proc entry too, not listed: only thread-group leaders
                // are processes, as in the listing.
                if pid != own && self.matches(pid, &mut environ) && leads_its_threads(pid) {
                    found.push(pid);
                }
            }
            next = last + 1;
            match last_pid() {
                Some(now) if now == last => return found,
                Some(now) if now > last => last = now,
                // Wrapped around meanwhile (or unreadable now): list them all.
                now => return self.list(first_pid, now.is_some()),
            }
        }
    }

    /// Every process listed in `/proc` that is the command's: those at or after `first_pid`,
    /// or any pid when they `wrapped`.
    fn list(&self, first_pid: i32, wrapped: bool) -> Vec<i32> {
        let own = std::process::id() as i32;
        let mut environ = Vec::new();
        proc_pids()
            .filter(|&pid| pid != own && (wrapped || pid >= first_pid))
            .filter(|&pid| self.matches(pid, &mut environ))
            .collect()
    }

    /// Whether `pid` is alive and in the command's group or carries its tag.
    fn matches(&self, pid: i32, environ: &mut Vec<u8>) -> bool {
        let Some(stat) = Stat::read(pid) else {
            return false;
        };
        !stat.is_exiting()
            && (stat.group == self.pgid || environ_has(pid, environ, |e| e == self.tag_entry))
    }
}

/// Whether `pid` is a process (a thread-group leader) rather than one of its other threads.
fn leads_its_threads(pid: i32) -> bool {
    let Ok(status) = fs::read_to_string(format!("/proc/{pid}/status")) else {
        return false;
    };
    status
        .lines()
        .find_map(|line| line.strip_prefix("Tgid:"))
        .and_then(|tgid| tgid.trim().parse::<i32>().ok())
        == Some(pid)
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
        // The fields needed come right after the name (at most 64 bytes): the start of the
        // file is enough, read once into the stack, with no allocation per process.
        let mut path = [0u8; 32];
        let mut buffer = [0u8; 512];
        let path = proc_path(&mut path, pid, "stat")?;
        let file = rustix::fs::open(path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty()).ok()?;
        let count = rustix::io::read(&file, &mut buffer[..]).ok()?;
        let stat = &buffer[..count];
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

/// `/proc/<pid>/<file>`, written into `buffer`.
fn proc_path<'b>(buffer: &'b mut [u8; 32], pid: i32, file: &str) -> Option<&'b str> {
    use std::io::Write;
    let mut cursor = std::io::Cursor::new(&mut buffer[..]);
    write!(cursor, "/proc/{pid}/{file}").ok()?;
    let length = cursor.position() as usize;
    std::str::from_utf8(&buffer[..length]).ok()
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt;
    use std::process::{Child, Command};

    /// `sleep 30` in a group of its own, carrying `tag`.
    fn sleeper(tag: &str) -> Child {
        Command::new("sleep")
            .arg("30")
            .env(TAG_VARIABLE, tag)
            .process_group(0)
            .spawn()
            .unwrap()
    }

    #[test]
    fn probing_the_new_pids_finds_the_group_and_the_tag_as_listing_does() {
        let before = last_pid().unwrap();
        let mut grouped = sleeper("probe-test-a");
        let mut tagged = sleeper("probe-test-b");
        let (group, tag) = (grouped.id() as i32, tagged.id() as i32);
        // The parent may go on before the child's new environment is in place: wait for it.
        let mut environ = Vec::new();
        for _ in 0..500 {
            if environ_has(tag, &mut environ, |e| e == b"SMOKE_RUNNER_TAG=probe-test-b") {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let last = last_pid().unwrap();
        let target = Target {
            pgid: group,
            tag_entry: b"SMOKE_RUNNER_TAG=probe-test-b",
        };
        let probed = target.probe(before + 1, last);
        let mut listed = target.list(before + 1, last < before);
        listed.sort_unstable();
        let _ = (grouped.kill(), tagged.kill());
        let _ = (grouped.wait(), tagged.wait());
        if last - before <= PROBE_LIMIT {
            assert_eq!(probed, [group, tag]);
        }
        assert_eq!(listed, [group, tag]);
    }

    #[test]
    fn only_thread_group_leaders_count_as_processes() {
        assert!(leads_its_threads(std::process::id() as i32));
        let (sender, receiver) = std::sync::mpsc::channel();
        let (done, wait) = std::sync::mpsc::channel::<()>();
        let live = std::thread::spawn(move || {
            // SAFETY: gettid has no preconditions.
            sender.send(unsafe { libc::gettid() }).unwrap();
            let _ = wait.recv();
        });
        let tid = receiver.recv().unwrap();
        assert!(
            Stat::read(tid).is_some(),
            "a thread has a /proc entry of its own"
        );
        assert!(!leads_its_threads(tid));
        done.send(()).unwrap();
        live.join().unwrap();
    }
}
