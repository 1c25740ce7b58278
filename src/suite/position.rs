//! Positions in a suite file: byte offsets turned into 1-based lines and character columns, and
//! the excerpt (a line and what to underline) shown under an error.

use std::ops::Range;

use super::error::Excerpt;

/// Characters shown before the caret at most; a line cut there starts with `…`.
const CHARS_BEFORE: usize = 60;
/// Characters shown from the caret on at most; a line cut there ends with `…`.
const CHARS_FROM: usize = 80;
/// Bytes per block of [`LineIndex::chars_before_block`].
const BLOCK: usize = 512;

/// Where each line of a source text starts, to turn byte offsets into lines and columns.
///
/// Every lookup costs at most a block of the text, however long its lines are, so that a file
/// of one 8 MiB line with thousands of errors is still reported in an instant.
pub(crate) struct LineIndex<'a> {
    source: &'a str,
    line_starts: Vec<usize>,
    /// How many characters come before each block of [`BLOCK`] bytes, and one more entry: all
    /// of them, for the end of the text.
    chars_before_block: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub(crate) fn new(source: &'a str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(memchr::memchr_iter(b'\n', source.as_bytes()).map(|at| at + 1));
        let mut chars_before_block = Vec::with_capacity(source.len() / BLOCK + 1);
        let mut chars = 0;
        for block in source.as_bytes().chunks(BLOCK) {
            chars_before_block.push(chars);
            chars += count_chars(block);
        }
        // The end of a text whose length is a whole number of blocks starts a block of its own.
        chars_before_block.push(chars);
        Self {
            source,
            line_starts,
            chars_before_block,
        }
    }

    /// The 1-based line and character column of `offset` (clamped into the text).
    pub(crate) fn line_column(&self, offset: usize) -> (usize, usize) {
        let offset = self.char_boundary(offset);
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let start = self.line_starts[line - 1];
        // Within a block of its line's start (every step header), count the characters between
        // them; past that, two block lookups bound the work however long the line is.
        let column = if offset - start <= BLOCK {
            count_chars(&self.source.as_bytes()[start..offset])
        } else {
            self.chars_before(offset) - self.chars_before(start)
        };
        (line, column + 1)
    }

    /// The excerpt for `span`: its first line (the part of it around the span when the line
    /// is long), underlined from the start of the span to its end or the end of that line,
    /// whichever comes first (at least one character).
    pub(crate) fn excerpt(&self, span: Range<usize>) -> Excerpt {
        let start = self.char_boundary(span.start);
        let (line, column) = self.line_column(start);
        let line_start = self.line_starts[line - 1];
        let line_end = self
            .line_starts
            .get(line)
            .map_or(self.source.len(), |next| next - 1);
        let line_text = trim_line_ending(&self.source[line_start..line_end]);
        let caret = (start - line_start).min(line_text.len());
        let end = span
            .end
            .saturating_sub(line_start)
            .clamp(caret, line_text.len());
        let (text, indent, width) = cut_around(line_text, caret, end);
        Excerpt {
            line,
            column,
            text,
            indent,
            width,
        }
    }

    fn chars_before(&self, offset: usize) -> usize {
        let block = offset / BLOCK;
        self.chars_before_block[block] + count_chars(&self.source.as_bytes()[block * BLOCK..offset])
    }

    fn char_boundary(&self, offset: usize) -> usize {
        let mut offset = offset.min(self.source.len());
        while !self.source.is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    }
}

/// The characters in a piece of UTF-8, cut anywhere: every byte but continuation bytes.
fn count_chars(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&byte| byte & 0xC0 != 0x80).count()
}

/// The part of `line` shown for a caret at byte `caret` underlining up to byte `end`: at most
/// [`CHARS_BEFORE`] characters before the caret and [`CHARS_FROM`] from it, with `…` where the
/// line is cut. Returns the text, the characters before the caret in it, and the underline's
/// width (at least 1). Costs only what it shows, however long the line.
fn cut_around(line: &str, caret: usize, end: usize) -> (String, usize, usize) {
    let before: Vec<(usize, char)> = line[..caret]
        .char_indices()
        .rev()
        .take(CHARS_BEFORE + 1)
        .collect();
    let (from, cut_start) = match before.get(CHARS_BEFORE) {
        // One character more than shown is there: cut before the last one shown.
        Some(_) => (before[CHARS_BEFORE - 1].0, true),
        None => (0, false),
    };
    let mut shown_after = line[caret..].char_indices().take(CHARS_FROM + 1);
    let to = match shown_after.nth(CHARS_FROM) {
        Some((at, _)) => caret + at,
        None => line.len(),
    };
    let cut_end = to < line.len();
    let mut text = String::with_capacity(to - from + 8);
    if cut_start {
        text.push('…');
    }
    text.push_str(&line[from..to]);
    if cut_end {
        text.push('…');
    }
    let indent = usize::from(cut_start) + line[from..caret].chars().count();
    let mut end = end.clamp(caret, to);
    while !line.is_char_boundary(end) {
        end += 1;
    }
    let width = line[caret..end].chars().count().max(1);
    (text, indent, width)
}

/// The excerpt pointing at the first invalid byte of a text that is valid UTF-8 up to
/// `valid_up_to`; the line is shown with invalid bytes replaced by `�`.
pub(crate) fn excerpt_at_invalid_byte(bytes: &[u8], valid_up_to: usize) -> Excerpt {
    let valid = std::str::from_utf8(&bytes[..valid_up_to]).unwrap_or_default();
    let line_start = valid.rfind('\n').map_or(0, |at| at + 1);
    let line_end =
        memchr::memchr(b'\n', &bytes[valid_up_to..]).map_or(bytes.len(), |at| valid_up_to + at);
    // Only the part that can be shown is decoded, so that a huge line costs nothing.
    let shown_end = line_end.min(valid_up_to + 4 * (CHARS_FROM + 1));
    let tail = String::from_utf8_lossy(&bytes[valid_up_to..shown_end]);
    let line_text = format!("{}{}", &valid[line_start..], trim_line_ending(&tail));
    let caret = valid_up_to - line_start;
    let (mut text, indent, _) = cut_around(&line_text, caret, caret + 1);
    if shown_end < line_end && !text.ends_with('…') {
        text.push('…');
    }
    Excerpt {
        line: bytecount_lines(valid),
        column: valid[line_start..].chars().count() + 1,
        text,
        indent,
        width: 1,
    }
}

fn bytecount_lines(text: &str) -> usize {
    memchr::memchr_iter(b'\n', text.as_bytes()).count() + 1
}

fn trim_line_ending(line: &str) -> &str {
    line.strip_suffix('\r').unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_are_one_based_and_count_characters() {
        let index = LineIndex::new("ab\nçé = 1\r\nlast");
        assert_eq!(index.line_column(0), (1, 1));
        assert_eq!(index.line_column(2), (1, 3));
        assert_eq!(index.line_column(3), (2, 1));
        // `ç` and `é` are two bytes each.
        assert_eq!(index.line_column(7), (2, 3));
        assert_eq!(index.line_column(13), (3, 1));
        assert_eq!(index.line_column(999), (3, 5));
    }

    #[test]
    fn excerpts_underline_within_one_line() {
        let index = LineIndex::new("x = 1\nname = \"a\nb\"\r\n");
        let excerpt = index.excerpt(6..10);
        assert_eq!((excerpt.line, excerpt.column), (2, 1));
        assert_eq!(excerpt.text, "name = \"a");
        assert_eq!(excerpt.width, 4);
        // A span running past the line end stops there; an empty span still gets a caret.
        assert_eq!(index.excerpt(13..22).width, 2);
        assert_eq!(index.excerpt(13..13).width, 1);
        assert_eq!(index.excerpt(16..18).text, "b\"");
    }

    #[test]
    fn long_lines_are_cut_around_the_column() {
        let line = format!("{} = 1 {}", "a".repeat(500), "b".repeat(500));
        let index = LineIndex::new(&line);
        let excerpt = index.excerpt(501..502);
        assert_eq!((excerpt.line, excerpt.column), (1, 502));
        assert_eq!(
            excerpt.text,
            format!("…{} = 1 {}…", "a".repeat(59), "b".repeat(76))
        );
        assert_eq!(excerpt.text.chars().nth(excerpt.indent), Some('='));
        // Near the start: cut only at the end; a span longer than what is shown stops there.
        let excerpt = index.excerpt(0..1000);
        assert_eq!((excerpt.indent, excerpt.width), (0, CHARS_FROM));
        assert!(excerpt.text.starts_with("aaa") && excerpt.text.ends_with('…'));
    }

    #[test]
    fn columns_are_counted_across_blocks_of_multibyte_characters() {
        let line = format!("{}x", "é".repeat(3 * BLOCK));
        let index = LineIndex::new(&line);
        assert_eq!(index.line_column(line.len() - 1), (1, 3 * BLOCK + 1));
        let excerpt = index.excerpt(line.len() - 1..line.len());
        assert_eq!(excerpt.text.chars().nth(excerpt.indent), Some('x'));
    }

    /// An error at the very end of a file whose length was a multiple of 512 bytes panicked
    /// ("attempt to subtract with overflow"): the end counted as 0 characters in.
    #[test]
    fn the_end_of_a_text_of_whole_blocks_has_a_column() {
        for len in [BLOCK, 2 * BLOCK, 3 * BLOCK] {
            let source = format!("{}\n{}", "a".repeat(9), "b".repeat(len - 10));
            assert_eq!(source.len(), len);
            let index = LineIndex::new(&source);
            assert_eq!(index.line_column(len), (2, len - 10 + 1), "{len}");
            assert_eq!(index.excerpt(len..len).line, 2);
        }
    }

    #[test]
    fn invalid_bytes_are_located_and_replaced() {
        let excerpt = excerpt_at_invalid_byte(b"a = 1\nb = \"\xff\"\nc", 11);
        assert_eq!((excerpt.line, excerpt.column), (2, 6));
        assert_eq!(excerpt.text, "b = \"\u{fffd}\"");
    }
}
