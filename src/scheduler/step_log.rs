//! Each step's whole output, masked, in one log per suite under the run's log folder:
//! `<log dir>/<suite>.log`, the steps one after another, each under a heading line, kept after
//! the test dir is gone. `<suite>` is the suite's name masked and slugged, unique in the run
//! ([`file_names`]). Beside it, `<suite>.log.index` says where each step's part is (one
//! JSON line per attempt: step number, test name, line, byte offset and length), for
//! `smoke-runner log`; each step's result carries the same place ([`LogSpan`]).
//!
//! The per-step path is hot (see `benches/`). Creating and deleting files is dear, above all
//! on a journal-less ext4 right after a mass deletion (benches/README.md): one file per step
//! meant 200 creations per run of 200 steps, and as many deletions when retention dropped the
//! run. So a suite's log and its index are created once, at its first step, and each step's
//! part is assembled in memory (masked) on the suite's own thread: no thread to hand it to, no
//! file to create. Parts and index lines gather in a buffer written with one `write` each when
//! it holds [`FLUSH_AT`] bytes, before a step that did not pass is reported
//! ([`StepLogs::flush`]), and at the suite's end: a run of 200 passing steps writes each file
//! once instead of 200 times. Parts longer than [`IN_MEMORY_LIMIT`] are streamed from the
//! capture. Nothing is synced: a log is as durable as any file the test wrote. A failing
//! step's part is in the file when its result is reported; a passing step's by its suite's
//! end.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::ops::ControlFlow;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::exec::{Outcome, StreamSelector};
use crate::mask::{Masker, MaskingWriter};
use crate::report::{LogSpan, PlannedSuite};
use crate::suite::slug;

/// Parts up to this size are assembled in memory and written at once; longer ones are
/// streamed to the log from the capture.
const IN_MEMORY_LIMIT: u64 = 1024 * 1024;
/// Room for the heading, the command line, the attempt marker and the closing status line.
const FRAME_BYTES: usize = 512;
/// Buffered parts and index lines are written once they hold this many bytes.
const FLUSH_AT: usize = 64 * 1024;
/// The index of a suite's log is `<log>` with this added.
pub const INDEX_SUFFIX: &str = ".index";

/// One line of a suite log's index: where one step's part is, as of one attempt (a step
/// retried has a line per attempt; the last one covers them all).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexEntry {
    /// The step's position in its suite, from 1.
    pub step: usize,
    /// Its test name (`suite::step`), masked.
    pub name: String,
    /// The attempt this line was written after.
    pub attempt: u32,
    /// The line of the step's heading, from 1.
    pub line: u64,
    /// The byte offset of the heading.
    pub offset: u64,
    /// The bytes of the step's part so far.
    pub length: u64,
}

/// The name of each suite's files in a run (its log and index, its services' log folder, its
/// test dir), in the order of `suites`: its name masked, then made a slug, since file names
/// reach every report and a secret in a suite's name must not become one. Suites whose names
/// come out alike (one suite planned twice, names that differ only where the slug drops
/// characters) get `-2`, `-3`, … in run order, so that no two write one log. A slug holds no
/// `-`, so a suffixed name is never another suite's own.
pub(super) fn file_names(suites: &[PlannedSuite], masker: &Masker) -> Vec<String> {
    let mut seen: HashMap<String, u32> = HashMap::with_capacity(suites.len());
    suites
        .iter()
        .map(|suite| {
            let name = slug(&masker.mask(&suite.name));
            let count = seen.entry(name.clone()).or_insert(0);
            *count += 1;
            match *count {
                1 => name,
                count => format!("{name}-{count}"),
            }
        })
        .collect()
}

/// The step logs of one suite.
pub(super) struct StepLogs<'a> {
    /// The run's log folder; `None` when logs are off.
    run_dir: Option<PathBuf>,
    /// The suite's file name in the run ([`file_names`]).
    file_name: &'a str,
    masker: &'a Masker,
    /// Opened at the first step.
    open: Option<OpenLog>,
    /// The step whose part was written last, to which a retry appends.
    current: Option<Part>,
    /// The first log that could not be written.
    failure: Option<io::Error>,
    /// Whether the run was interrupted: a part being written is then cut short, so that a
    /// step's gigabytes of output do not hold up the exit.
    interrupted: &'a (dyn Fn() -> bool + Sync),
}

/// A suite's log and index, open for appending.
struct OpenLog {
    path: PathBuf,
    log: File,
    index: File,
    /// Bytes in the log, the buffered ones included.
    offset: u64,
    /// Lines in the log (newlines), the buffered ones included.
    lines: u64,
    /// Parts not yet written to `log`.
    pending: Vec<u8>,
    /// Index lines not yet written to `index`.
    pending_index: Vec<u8>,
}

/// Where the current step's part began.
struct Part {
    step: usize,
    line: u64,
    offset: u64,
}

impl<'a> StepLogs<'a> {
    /// The logs of the suite whose file name is `file_name` in the run folder `run_dir` (none
    /// when `None`).
    pub(super) fn new(
        run_dir: Option<&Path>,
        file_name: &'a str,
        masker: &'a Masker,
        interrupted: &'a (dyn Fn() -> bool + Sync),
    ) -> Self {
        Self {
            run_dir: run_dir.map(Path::to_owned),
            file_name,
            masker,
            open: None,
            current: None,
            failure: None,
            interrupted,
        }
    }

    /// Appends an attempt's whole output, masked, to the suite's log: under a heading for the
    /// first attempt of the step at `index` (its position from 0) named `test_name`, after
    /// the earlier attempts' output for a retry. Returns the log's path and the step's place
    /// in it; `None` when logs are off or the log cannot be written (the error is kept for
    /// [`StepLogs::finish`]).
    pub(super) fn write(
        &mut self,
        index: usize,
        test_name: &str,
        attempt: u32,
        command_line: &str,
        outcome: &Outcome,
    ) -> Option<(PathBuf, LogSpan)> {
        self.open()?;
        let log = self.open.as_mut()?;
        let retry = self.current.as_ref().is_some_and(|part| part.step == index);
        if !retry {
            self.current = Some(Part {
                step: index,
                line: log.lines + 1,
                offset: log.offset,
            });
        }
        let frame = Frame {
            heading: (!retry).then_some((index + 1, test_name)),
            attempt,
            command_line,
            outcome,
        };
        let written = append(log, self.masker, &frame, self.interrupted);
        let part = self.current.as_ref()?;
        let span = LogSpan {
            line: part.line,
            offset: part.offset,
            length: log.offset - part.offset,
        };
        let entry = IndexEntry {
            step: index + 1,
            name: self.masker.mask(test_name).into_owned(),
            attempt,
            line: span.line,
            offset: span.offset,
            length: span.length,
        };
        let indexed = written.and_then(|()| log.add_entry(&entry));
        let path = log.path.clone();
        match indexed {
            Ok(()) => Some((path, span)),
            Err(error) => {
                self.failure.get_or_insert(error);
                None
            }
        }
    }

    /// Writes the buffered parts and index lines, so that every place handed out so far is
    /// in the files: before a step that did not pass is reported. `false` when they could not
    /// be written (the error is kept for [`StepLogs::finish`]).
    pub(super) fn flush(&mut self) -> bool {
        let Some(log) = self.open.as_mut() else {
            return true;
        };
        match log.flush() {
            Ok(()) => true,
            Err(error) => {
                self.failure.get_or_insert(error);
                false
            }
        }
    }

    /// Writes what is buffered; the first error, if a log could not be written.
    pub(super) fn finish(mut self) -> Option<io::Error> {
        self.flush();
        self.failure.take()
    }

    /// Where the suite's log goes: `<run dir>/<file name>.log`.
    pub(super) fn path(&self) -> Option<PathBuf> {
        let dir = self.run_dir.as_ref()?;
        Some(dir.join(format!("{}.log", self.file_name)))
    }

    /// Opens the log and its index at the first step; `None` when logs are off or they
    /// cannot be opened (the error kept; no later step tries again).
    fn open(&mut self) -> Option<()> {
        if self.open.is_some() {
            return Some(());
        }
        if self.failure.is_some() {
            return None;
        }
        let dir = self.run_dir.clone()?;
        let path = self.path()?;
        match OpenLog::open(&dir, path) {
            Ok(open) => {
                self.open = Some(open);
                Some(())
            }
            Err(error) => {
                self.failure = Some(error);
                None
            }
        }
    }
}

impl OpenLog {
    /// Opens `path` and its index in `dir` (made when missing) for appending. Normally both
    /// are new; a suite run again in the same run (a repeated gate) appends after itself.
    fn open(dir: &Path, path: PathBuf) -> io::Result<Self> {
        let log = match open_append(&path) {
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                std::fs::create_dir_all(dir)?;
                open_append(&path)?
            }
            opened => opened?,
        };
        let mut index_path = path.clone().into_os_string();
        index_path.push(INDEX_SUFFIX);
        let index = open_append(Path::new(&index_path))?;
        let offset = log.metadata()?.len();
        let lines = if offset == 0 {
            0
        } else {
            count_lines(File::open(&path)?)?
        };
        Ok(Self {
            path,
            log,
            index,
            offset,
            lines,
            pending: Vec::with_capacity(FLUSH_AT + FRAME_BYTES),
            pending_index: Vec::new(),
        })
    }

    /// Buffers an index line (written with the parts, see [`OpenLog::flush`]).
    fn add_entry(&mut self, entry: &IndexEntry) -> io::Result<()> {
        serde_json::to_writer(&mut self.pending_index, entry).map_err(io::Error::other)?;
        self.pending_index.push(b'\n');
        if self.pending.len() >= FLUSH_AT || self.pending_index.len() >= FLUSH_AT {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes the buffered parts, then their index lines (so that a line never points past
    /// the log's end). On an error the buffers are dropped and the offset follows the file.
    fn flush(&mut self) -> io::Result<()> {
        let written = write_buffered(&self.log, &mut self.pending)
            .and_then(|()| write_buffered(&self.index, &mut self.pending_index));
        if written.is_err() {
            self.pending.clear();
            self.pending_index.clear();
            if let Ok(metadata) = self.log.metadata() {
                self.offset = metadata.len();
            }
        }
        written
    }
}

impl Drop for OpenLog {
    /// A suite that ends without [`StepLogs::finish`] (a panic) still leaves its parts.
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// Writes `buffer` to `file` and empties it; memory a long part took is given back.
fn write_buffered(mut file: &File, buffer: &mut Vec<u8>) -> io::Result<()> {
    if buffer.is_empty() {
        return Ok(());
    }
    let written = file.write_all(buffer);
    buffer.clear();
    if buffer.capacity() > 4 * FLUSH_AT {
        buffer.shrink_to(FLUSH_AT + FRAME_BYTES);
    }
    written
}

/// What one attempt adds to the log.
struct Frame<'a> {
    /// The step's number (from 1) and test name, for its heading before its first attempt.
    heading: Option<(usize, &'a str)>,
    attempt: u32,
    command_line: &'a str,
    outcome: &'a Outcome,
}

/// Appends `frame`, masked, to `log`, counting its bytes and lines.
fn append(
    log: &mut OpenLog,
    masker: &Masker,
    frame: &Frame<'_>,
    interrupted: &dyn Fn() -> bool,
) -> io::Result<()> {
    let length = frame.outcome.output.len(StreamSelector::Combined);
    let (bytes, lines) = if length <= IN_MEMORY_LIMIT {
        buffer_part(log, masker, frame, interrupted)?
    } else {
        stream_part(log, masker, frame, interrupted)?
    };
    log.offset += bytes;
    log.lines += lines;
    Ok(())
}

/// Streams a part too long for memory to the log, after what is buffered; its bytes and lines.
fn stream_part(
    log: &mut OpenLog,
    masker: &Masker,
    frame: &Frame<'_>,
    interrupted: &dyn Fn() -> bool,
) -> io::Result<(u64, u64)> {
    log.flush()?;
    let mut out = Counting {
        out: BufWriter::with_capacity(64 * 1024, &log.log),
        bytes: 0,
        lines: 0,
    };
    let streamed = fill(&mut out, masker, frame, interrupted).and_then(|()| out.out.flush());
    let counted = (out.bytes, out.lines);
    drop(out);
    if let Err(error) = streamed {
        // Whatever reached the file still counts, so that later offsets stay right.
        if let Ok(metadata) = log.log.metadata() {
            log.offset = metadata.len();
        }
        return Err(error);
    }
    Ok(counted)
}

/// Adds the part to the log's buffer (dropped again when it cannot be assembled); its bytes
/// and lines.
fn buffer_part(
    log: &mut OpenLog,
    masker: &Masker,
    frame: &Frame<'_>,
    interrupted: &dyn Fn() -> bool,
) -> io::Result<(u64, u64)> {
    let start = log.pending.len();
    let length = frame.outcome.output.len(StreamSelector::Combined) as usize;
    log.pending
        .reserve(length + frame.command_line.len() + FRAME_BYTES);
    if let Err(error) = fill(&mut log.pending, masker, frame, interrupted) {
        log.pending.truncate(start);
        return Err(error);
    }
    let part = &log.pending[start..];
    Ok((part.len() as u64, newlines(part)))
}

/// The part's text, masked: the heading, the attempt marker, the command line, the output,
/// how it ended. After an interrupt the output stops at the next chunk, with a line saying so.
fn fill(
    out: impl Write,
    masker: &Masker,
    frame: &Frame<'_>,
    interrupted: &dyn Fn() -> bool,
) -> io::Result<()> {
    let mut out = MaskingWriter::new(masker, out);
    if let Some((number, test_name)) = frame.heading {
        writeln!(out, "=== step {number}: {test_name} ===")?;
    } else {
        writeln!(out, "\n--- attempt {} ---", frame.attempt)?;
    }
    writeln!(out, "$ {}", frame.command_line)?;
    let mut failed = None;
    let mut cut_short = false;
    frame
        .outcome
        .output
        .for_each_chunk(StreamSelector::Combined, |chunk| {
            if interrupted() {
                cut_short = true;
                return ControlFlow::Break(());
            }
            match out.write_all(chunk) {
                Ok(()) => ControlFlow::Continue(()),
                Err(error) => {
                    failed = Some(error);
                    ControlFlow::Break(())
                }
            }
        })?;
    if let Some(error) = failed {
        return Err(error);
    }
    if cut_short {
        write!(
            out,
            "\n[the rest of the output is not logged: the run was interrupted]"
        )?;
    }
    writeln!(
        out,
        "\n[{} after {:.3}s]",
        frame.outcome.termination,
        frame.outcome.duration.as_secs_f64()
    )?;
    out.finish()?;
    Ok(())
}

/// A writer that counts the bytes and lines that pass through it.
struct Counting<W> {
    out: W,
    bytes: u64,
    lines: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = self.out.write(buf)?;
        self.bytes += written as u64;
        self.lines += newlines(&buf[..written]);
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

fn newlines(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&byte| byte == b'\n').count() as u64
}

fn count_lines(file: File) -> io::Result<u64> {
    let mut reader = BufReader::with_capacity(64 * 1024, file);
    let mut lines = 0;
    loop {
        let chunk = reader.fill_buf()?;
        if chunk.is_empty() {
            return Ok(lines);
        }
        lines += newlines(chunk);
        let length = chunk.len();
        reader.consume(length);
    }
}

/// Opens `path` for appending, creating it; never through a link, never a FIFO's reader wait.
fn open_append(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::other(format!(
            "{} is not a regular file",
            path.display()
        )));
    }
    Ok(file)
}

/// The index entries of the suite log at `log`, in the order written; lines that cannot be
/// read as entries are skipped. At most `limit` bytes of index are read.
pub fn read_index(
    log: &Path,
    limit: u64,
) -> Result<Vec<IndexEntry>, crate::regular_file::ReadError> {
    let mut path = log.to_owned().into_os_string();
    path.push(INDEX_SUFFIX);
    let bytes = crate::regular_file::read(Path::new(&path), limit)?;
    Ok(bytes
        .split(|&byte| byte == b'\n')
        .filter_map(|line| serde_json::from_slice(line).ok())
        .collect())
}

/// The bytes `span` covers in the log file `log` (fewer when the file is shorter).
pub fn read_part(log: &Path, offset: u64, length: u64) -> io::Result<Vec<u8>> {
    use std::io::{Seek, SeekFrom};
    let mut file = crate::regular_file::open(log).map_err(io::Error::other)?;
    file.seek(SeekFrom::Start(offset))?;
    let mut bytes = Vec::new();
    file.take(length).read_to_end(&mut bytes)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_counted_across_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.log");
        std::fs::write(&path, "one\ntwo\n\nfour").unwrap();
        assert_eq!(count_lines(File::open(&path).unwrap()).unwrap(), 3);
    }

    fn outcome(text: &str) -> Outcome {
        let mut output = crate::exec::CapturedOutput::new(1024);
        output
            .push(crate::exec::Stream::Stdout, text.as_bytes())
            .unwrap();
        Outcome {
            termination: crate::exec::Termination::Exited(0),
            duration: std::time::Duration::from_millis(1),
            output,
            leaked_processes: 0,
            script: None,
        }
    }

    #[test]
    fn parts_reach_the_file_when_flushed_and_at_the_suites_end() {
        let dir = tempfile::tempdir().unwrap();
        let masker = Masker::none();
        let never = || false;
        let mut logs = StepLogs::new(Some(dir.path()), "s", &masker, &never);
        let (path, first) = logs.write(0, "s::a", 1, "echo a", &outcome("a\n")).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"", "buffered, not written");
        let (_, second) = logs.write(1, "s::b", 1, "echo b", &outcome("b\n")).unwrap();
        assert!(logs.flush());
        let part = read_part(&path, second.offset, second.length).unwrap();
        assert!(
            part.starts_with(b"=== step 2: s::b ===\n$ echo b\nb\n"),
            "{part:?}"
        );
        assert_eq!(
            read_part(&path, first.offset, first.length).unwrap(),
            b"=== step 1: s::a ===\n$ echo a\na\n\n[exit status 0 after 0.001s]\n"
        );
        let (_, third) = logs.write(2, "s::c", 1, "echo c", &outcome("c\n")).unwrap();
        assert!(logs.finish().is_none());
        let part = read_part(&path, third.offset, third.length).unwrap();
        assert!(part.starts_with(b"=== step 3: s::c ===\n"), "{part:?}");
        let names: Vec<String> = read_index(&path, 1 << 20)
            .unwrap()
            .into_iter()
            .map(|entry| entry.name)
            .collect();
        assert_eq!(names, ["s::a", "s::b", "s::c"]);
    }

    #[test]
    fn file_names_are_masked_slugs_numbered_in_run_order_when_alike() {
        let planned: Vec<PlannedSuite> = ["a b", "a/b", "Deploy s3cret-value", "a b", "a_b_2"]
            .iter()
            .map(|name| {
                let text = format!("name = \"{name}\"\n[[step]]\nname = \"s\"\nrun = \"true\"\n");
                crate::suite::parse_suite(&text, Path::new("x.toml")).expect("a valid suite")
            })
            .enumerate()
            .map(|(id, suite)| PlannedSuite::new(crate::report::SuiteId(id), suite.into()))
            .collect();
        let masker = Masker::new([("DEPLOY_TOKEN", "s3cret-value")]);
        assert_eq!(
            file_names(&planned, &masker),
            [
                "a_b",
                "a_b-2",
                "deploy_redacted_deploy_token_",
                "a_b-3",
                "a_b_2"
            ]
        );
    }

    #[test]
    fn the_index_skips_lines_it_cannot_read() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("s.log");
        let entry = IndexEntry {
            step: 2,
            name: "s::b".into(),
            attempt: 1,
            line: 5,
            offset: 40,
            length: 12,
        };
        let mut text = serde_json::to_string(&entry).unwrap();
        text.push_str("\nnot json\n");
        std::fs::write(dir.path().join("s.log.index"), text).unwrap();
        assert_eq!(read_index(&log, 1024).unwrap(), [entry]);
    }
}
