//! Each step's whole output, masked, in a file under the run's log folder:
//! `<log dir>/<suite>/<nn>-<step>.log`, kept after the test dir is gone.
//!
//! The per-step path is hot (see `benches/`), and creating a file is among the dearest things
//! a step does besides spawning. So a log is masked and assembled in memory on the suite's
//! thread, and a writer thread of the suite's own creates the folder once and writes each
//! file with one `write` while the next step runs. Logs longer than [`IN_MEMORY_LIMIT`] are
//! streamed from the capture instead, once the writer has caught up. Nothing is synced: a log
//! is as durable as any file the test wrote. The suite's logs are all on disk when
//! [`StepLogs::finish`] returns, before the suite is reported finished.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::JoinHandle;

use crate::exec::{Outcome, StreamSelector};
use crate::mask::{Masker, MaskingWriter};

/// Logs up to this size are assembled in memory and handed to the writer thread; longer ones
/// are streamed to their file from the suite's thread.
const IN_MEMORY_LIMIT: u64 = 1024 * 1024;
/// Logs waiting for the writer at most: a slow disk holds the steps back, not memory.
const QUEUE: usize = 32;
/// Room for the command line, the attempt marker and the closing status line.
const FRAME_BYTES: usize = 512;

/// The step logs of one suite.
pub(super) struct StepLogs<'a> {
    /// `<log dir>/<suite>`; `None` when logs are off.
    dir: Option<PathBuf>,
    masker: &'a Masker,
    /// Started with the first log.
    writer: Option<Writer>,
    /// The first log that could not be written from this thread.
    failure: Option<io::Error>,
}

struct Writer {
    jobs: SyncSender<Job>,
    thread: JoinHandle<io::Result<()>>,
}

enum Job {
    /// Write `bytes` to `path`, after what it holds when `append`.
    Write {
        path: PathBuf,
        bytes: Vec<u8>,
        append: bool,
    },
    /// Answer once every earlier job is done.
    Flush(SyncSender<()>),
}

impl<'a> StepLogs<'a> {
    /// The logs of the suite `suite_slug` under `log_dir` (none when `log_dir` is `None`).
    pub(super) fn new(log_dir: Option<&Path>, suite_slug: &str, masker: &'a Masker) -> Self {
        Self {
            dir: log_dir.map(|dir| dir.join(suite_slug)),
            masker,
            writer: None,
            failure: None,
        }
    }

    /// Saves an attempt's whole output, masked, as `<nn>-<name>.log` (`nn` from `index`, the
    /// step's position from 0), after the earlier attempts' output. Returns the log's path;
    /// `None` when logs are off.
    pub(super) fn write(
        &mut self,
        index: usize,
        name: &str,
        attempt: u32,
        command_line: &str,
        outcome: &Outcome,
    ) -> Option<PathBuf> {
        let dir = self.dir.clone()?;
        let path = dir.join(format!("{:02}-{name}.log", index + 1));
        let append = attempt > 1;
        let length = outcome.output.len(StreamSelector::Combined);
        if length <= IN_MEMORY_LIMIT {
            let capacity = length as usize + command_line.len() + FRAME_BYTES;
            let mut bytes = Vec::with_capacity(capacity);
            let assembled = self.fill(&mut bytes, attempt, command_line, outcome);
            match assembled {
                Ok(()) => {
                    let job = Job::Write {
                        path: path.clone(),
                        bytes,
                        append,
                    };
                    // Given back when there is no writer thread: written here.
                    if let Some(Job::Write {
                        path,
                        bytes,
                        append,
                    }) = self.send(job)
                    {
                        self.note(write_file(&dir, &path, &bytes, append));
                    }
                }
                Err(error) => self.note(Err(error)),
            }
        } else {
            // Earlier attempts' logs first, then this one streamed from the capture.
            self.flush();
            let written = open(&dir, &path, append).and_then(|file| {
                let mut out = BufWriter::with_capacity(64 * 1024, file);
                self.fill(&mut out, attempt, command_line, outcome)?;
                out.into_inner().map_err(|error| error.into_error())?;
                Ok(())
            });
            self.note(written);
        }
        Some(path)
    }

    /// Waits until every log is written; the first error, if one could not be.
    pub(super) fn finish(mut self) -> Option<io::Error> {
        if let Some(writer) = self.writer.take() {
            drop(writer.jobs);
            let result = writer
                .thread
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("the log writer stopped")));
            if let Err(error) = result {
                self.failure.get_or_insert(error);
            }
        }
        self.failure
    }

    /// The folder of this suite's logs.
    pub(super) fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// The log text, masked: the attempt marker, the command line, the output, how it ended.
    fn fill(
        &self,
        out: impl Write,
        attempt: u32,
        command_line: &str,
        outcome: &Outcome,
    ) -> io::Result<()> {
        let mut out = MaskingWriter::new(self.masker, out);
        if attempt > 1 {
            writeln!(out, "\n--- attempt {attempt} ---")?;
        }
        writeln!(out, "$ {command_line}")?;
        let mut failed = None;
        outcome
            .output
            .for_each_chunk(StreamSelector::Combined, |chunk| {
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
        writeln!(
            out,
            "\n[{} after {:.3}s]",
            outcome.termination,
            outcome.duration.as_secs_f64()
        )?;
        out.finish()?;
        Ok(())
    }

    /// Hands `job` to the writer thread, started on first use; gives it back when there is no
    /// writer thread (it could not be started, or it stopped).
    fn send(&mut self, job: Job) -> Option<Job> {
        if self.writer.is_none() {
            let dir = self.dir.clone()?;
            let (jobs, queue) = mpsc::sync_channel(QUEUE);
            let thread = std::thread::Builder::new()
                .name("step-logs".into())
                .spawn(move || write_queue(&dir, &queue));
            match thread {
                Ok(thread) => self.writer = Some(Writer { jobs, thread }),
                Err(_) => return Some(job),
            }
        }
        let writer = self.writer.as_ref()?;
        writer.jobs.send(job).err().map(|error| error.0)
    }

    /// Waits until the writer thread has written every log handed to it.
    fn flush(&mut self) {
        let Some(writer) = &self.writer else {
            return;
        };
        let (done, wait) = mpsc::sync_channel(1);
        if writer.jobs.send(Job::Flush(done)).is_ok() {
            let _ = wait.recv();
        }
    }

    fn note(&mut self, result: io::Result<()>) {
        if let Err(error) = result {
            self.failure.get_or_insert(error);
        }
    }
}

/// The writer thread: every job in order; the first error.
fn write_queue(dir: &Path, queue: &Receiver<Job>) -> io::Result<()> {
    let mut failure = None;
    for job in queue {
        match job {
            Job::Write {
                path,
                bytes,
                append,
            } => {
                if let Err(error) = write_file(dir, &path, &bytes, append) {
                    failure.get_or_insert(error);
                }
            }
            Job::Flush(done) => {
                let _ = done.send(());
            }
        }
    }
    failure.map_or(Ok(()), Err)
}

fn write_file(dir: &Path, path: &Path, bytes: &[u8], append: bool) -> io::Result<()> {
    open(dir, path, append)?.write_all(bytes)
}

/// Opens a log for writing, making its folder when missing (at the first log, or when a step
/// removed it).
fn open(dir: &Path, path: &Path, append: bool) -> io::Result<File> {
    let open = || {
        OpenOptions::new()
            .create(true)
            .write(true)
            .append(append)
            .truncate(!append)
            .open(path)
    };
    match open() {
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir)?;
            open()
        }
        opened => opened,
    }
}
