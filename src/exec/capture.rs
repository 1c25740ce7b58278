//! Captured output with bounded memory.
//!
//! stdout and stderr are stored once, as the combined stream in arrival order plus a list of
//! runs saying which stream each byte came from. The first `memory_cap` bytes stay in memory;
//! the rest is written to an unnamed temp file, so a command printing 1 GiB costs the runner
//! no more than the cap, and checks can still read every byte.

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, Write};
use std::ops::ControlFlow;
use std::os::unix::fs::FileExt;

/// Which output stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// Which view of the output: one stream, or both in arrival order (what `2>&1` gives).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StreamSelector {
    /// stdout only.
    Stdout,
    /// stderr only.
    Stderr,
    /// stdout and stderr interleaved in the order the runner read them.
    Combined,
}

impl StreamSelector {
    fn includes(self, stream: Stream) -> bool {
        match self {
            Self::Combined => true,
            Self::Stdout => stream == Stream::Stdout,
            Self::Stderr => stream == Stream::Stderr,
        }
    }
}

/// A run of consecutive bytes from one stream.
#[derive(Debug, Clone, Copy)]
struct Run {
    stream: Stream,
    len: u64,
}

/// How many bytes are read from the spill file at a time.
const SPILL_BLOCK: usize = 1024 * 1024;

/// Everything a command wrote, kept in memory up to a cap and spilled to a temp file after it.
#[derive(Debug, Default)]
pub struct CapturedOutput {
    head: Vec<u8>,
    memory_cap: usize,
    spill: Option<File>,
    runs: Vec<Run>,
    stdout_len: u64,
    stderr_len: u64,
}

impl CapturedOutput {
    /// An empty capture keeping at most `memory_cap` bytes in memory.
    pub fn new(memory_cap: usize) -> Self {
        Self {
            memory_cap,
            ..Self::default()
        }
    }

    /// Builds a capture from whole streams (stdout first), for tests and Rust-built checks.
    pub fn from_parts(stdout: &[u8], stderr: &[u8]) -> io::Result<Self> {
        let mut capture = Self::new(usize::MAX);
        capture.push(Stream::Stdout, stdout)?;
        capture.push(Stream::Stderr, stderr)?;
        Ok(capture)
    }

    /// Appends bytes read from `stream`.
    pub fn push(&mut self, stream: Stream, bytes: &[u8]) -> io::Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        let room = self.memory_cap.saturating_sub(self.head.len());
        let (in_memory, spilled) = bytes.split_at(room.min(bytes.len()));
        self.head.extend_from_slice(in_memory);
        if !spilled.is_empty() {
            let file = match &mut self.spill {
                Some(file) => file,
                spill => spill.insert(tempfile::tempfile()?),
            };
            file.write_all(spilled)?;
        }
        let len = bytes.len() as u64;
        match self.runs.last_mut() {
            Some(run) if run.stream == stream => run.len += len,
            _ => self.runs.push(Run { stream, len }),
        }
        match stream {
            Stream::Stdout => self.stdout_len += len,
            Stream::Stderr => self.stderr_len += len,
        }
        Ok(())
    }

    /// Number of bytes in the selected view.
    pub fn len(&self, which: StreamSelector) -> u64 {
        match which {
            StreamSelector::Stdout => self.stdout_len,
            StreamSelector::Stderr => self.stderr_len,
            StreamSelector::Combined => self.stdout_len + self.stderr_len,
        }
    }

    /// Whether nothing was written at all.
    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    /// Whether part of the output lives in the spill file.
    pub fn is_spilled(&self) -> bool {
        self.spill.is_some()
    }

    /// Calls `visit` with consecutive pieces of the selected view, in order, until it breaks.
    ///
    /// Pieces from memory are borrowed; spilled bytes are read in blocks of at most 1 MiB.
    pub fn for_each_chunk<F>(&self, which: StreamSelector, visit: F) -> io::Result<()>
    where
        F: FnMut(&[u8]) -> ControlFlow<()>,
    {
        self.for_each_chunk_unless(which, &|| false, visit)
    }

    /// [`CapturedOutput::for_each_chunk`], but before each block read from disk `stop` is
    /// asked, and when it says so the walk ends with an [`io::ErrorKind::Interrupted`] error:
    /// a check over gigabytes of output must not hold Ctrl-C up.
    pub fn for_each_chunk_unless<F>(
        &self,
        which: StreamSelector,
        stop: &dyn Fn() -> bool,
        mut visit: F,
    ) -> io::Result<()>
    where
        F: FnMut(&[u8]) -> ControlFlow<()>,
    {
        let head_len = self.head.len() as u64;
        let mut block = Vec::new();
        let mut offset = 0u64;
        for run in &self.runs {
            let (start, end) = (offset, offset + run.len);
            offset = end;
            if !which.includes(run.stream) {
                continue;
            }
            if start < head_len {
                let piece = &self.head[start as usize..end.min(head_len) as usize];
                if visit(piece).is_break() {
                    return Ok(());
                }
            }
            let mut position = start.max(head_len);
            while position < end {
                if stop() {
                    return Err(io::Error::new(
                        io::ErrorKind::Interrupted,
                        "the run was interrupted",
                    ));
                }
                let file = self
                    .spill
                    .as_ref()
                    .expect("bytes beyond the memory cap are spilled");
                let size = (end - position).min(SPILL_BLOCK as u64) as usize;
                block.resize(size, 0);
                file.read_exact_at(&mut block, position - head_len)?;
                if visit(&block).is_break() {
                    return Ok(());
                }
                position += size as u64;
            }
        }
        Ok(())
    }

    /// The selected view as one contiguous buffer, borrowed when possible.
    ///
    /// This reads spilled output back into memory: meant for outputs known to be small.
    pub fn bytes(&self, which: StreamSelector) -> io::Result<Cow<'_, [u8]>> {
        if !self.is_spilled() && self.runs.iter().all(|run| which.includes(run.stream)) {
            return Ok(Cow::Borrowed(&self.head));
        }
        let mut all = Vec::with_capacity(self.len(which) as usize);
        self.for_each_chunk(which, |piece| {
            all.extend_from_slice(piece);
            ControlFlow::Continue(())
        })?;
        Ok(Cow::Owned(all))
    }

    /// The selected view decoded lossily (invalid UTF-8 becomes U+FFFD).
    pub fn text_lossy(&self, which: StreamSelector) -> io::Result<String> {
        Ok(String::from_utf8_lossy(&self.bytes(which)?).into_owned())
    }

    /// Whether the selected view contains `needle`, scanning spilled output in blocks.
    pub fn contains(&self, which: StreamSelector, needle: &[u8]) -> io::Result<bool> {
        self.contains_unless(which, needle, &|| false)
    }

    /// [`CapturedOutput::contains`], stopped like [`CapturedOutput::for_each_chunk_unless`].
    pub fn contains_unless(
        &self,
        which: StreamSelector,
        needle: &[u8],
        stop: &dyn Fn() -> bool,
    ) -> io::Result<bool> {
        if needle.is_empty() {
            return Ok(true);
        }
        let finder = memchr::memmem::Finder::new(needle);
        let keep = needle.len() - 1;
        let mut carry: Vec<u8> = Vec::new();
        let mut found = false;
        self.for_each_chunk_unless(which, stop, |piece| {
            // A match may straddle the previous piece and this one.
            if !carry.is_empty() {
                let take = piece.len().min(keep);
                carry.extend_from_slice(&piece[..take]);
                if finder.find(&carry).is_some() {
                    found = true;
                    return ControlFlow::Break(());
                }
                carry.truncate(carry.len() - take);
            }
            if finder.find(piece).is_some() {
                found = true;
                return ControlFlow::Break(());
            }
            carry.extend_from_slice(piece);
            if carry.len() > keep {
                carry.drain(..carry.len() - keep);
            }
            ControlFlow::Continue(())
        })?;
        Ok(found)
    }

    /// The last `lines` lines of the selected view (at most `max_bytes` of them), lossily decoded.
    pub fn tail_lines(
        &self,
        which: StreamSelector,
        lines: usize,
        max_bytes: usize,
    ) -> io::Result<String> {
        let total = self.len(which);
        let skip = total.saturating_sub(max_bytes as u64);
        let mut tail = Vec::with_capacity(total.min(max_bytes as u64) as usize);
        let mut seen = 0u64;
        self.for_each_chunk(which, |piece| {
            let piece_end = seen + piece.len() as u64;
            if piece_end > skip {
                let from = skip.saturating_sub(seen) as usize;
                tail.extend_from_slice(&piece[from..]);
            }
            seen = piece_end;
            ControlFlow::Continue(())
        })?;
        let text = String::from_utf8_lossy(&tail);
        let text = text.strip_suffix('\n').unwrap_or(&text);
        let start = text
            .rmatch_indices('\n')
            .nth(lines.saturating_sub(1))
            .map_or(0, |(i, _)| i + 1);
        Ok(text[start..].to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn capture_with_cap(cap: usize, pieces: &[(Stream, &str)]) -> CapturedOutput {
        let mut capture = CapturedOutput::new(cap);
        for (stream, text) in pieces {
            capture.push(*stream, text.as_bytes()).unwrap();
        }
        capture
    }

    #[test]
    fn streams_and_combined_view_keep_arrival_order() {
        for cap in [usize::MAX, 5, 0] {
            let capture = capture_with_cap(
                cap,
                &[
                    (Stream::Stdout, "a1\n"),
                    (Stream::Stderr, "b1\n"),
                    (Stream::Stdout, "a2\n"),
                ],
            );
            assert_eq!(
                capture.text_lossy(StreamSelector::Stdout).unwrap(),
                "a1\na2\n",
                "cap {cap}"
            );
            assert_eq!(
                capture.text_lossy(StreamSelector::Stderr).unwrap(),
                "b1\n",
                "cap {cap}"
            );
            assert_eq!(
                capture.text_lossy(StreamSelector::Combined).unwrap(),
                "a1\nb1\na2\n"
            );
            assert_eq!(capture.is_spilled(), cap < 9, "cap {cap}");
        }
    }

    #[test]
    fn contains_finds_needles_across_memory_and_spill_boundaries() {
        let capture = capture_with_cap(4, &[(Stream::Stdout, "abcdefgh")]);
        for needle in ["abcd", "cdef", "gh", "abcdefgh"] {
            assert!(
                capture
                    .contains(StreamSelector::Stdout, needle.as_bytes())
                    .unwrap(),
                "{needle}"
            );
        }
        assert!(!capture.contains(StreamSelector::Stdout, b"hx").unwrap());
        assert!(!capture.contains(StreamSelector::Stderr, b"a").unwrap());
    }

    #[test]
    fn tail_lines_returns_the_last_lines_lossily() {
        let mut capture = capture_with_cap(3, &[(Stream::Stdout, "one\ntwo\nthree\n")]);
        capture.push(Stream::Stderr, b"\xff\n").unwrap();
        assert_eq!(
            capture
                .tail_lines(StreamSelector::Combined, 2, 1024)
                .unwrap(),
            "three\n\u{fffd}"
        );
        assert_eq!(
            capture
                .tail_lines(StreamSelector::Stdout, 10, 1024)
                .unwrap(),
            "one\ntwo\nthree"
        );
        assert_eq!(
            capture.tail_lines(StreamSelector::Stdout, 10, 6).unwrap(),
            "three"
        );
    }
}
