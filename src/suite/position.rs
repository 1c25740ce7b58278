//! Positions in a suite file: byte offsets turned into 1-based lines and character columns, and
//! the excerpt (a line and what to underline) shown under an error.

use std::ops::Range;

use super::error::Excerpt;

/// Where each line of a source text starts, to turn byte offsets into lines and columns.
pub(crate) struct LineIndex<'a> {
    source: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub(crate) fn new(source: &'a str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(
            source
                .bytes()
                .enumerate()
                .filter(|&(_, byte)| byte == b'\n')
                .map(|(at, _)| at + 1),
        );
        Self {
            source,
            line_starts,
        }
    }

    /// The 1-based line and character column of `offset` (clamped into the text).
    pub(crate) fn line_column(&self, offset: usize) -> (usize, usize) {
        let offset = self.char_boundary(offset);
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let start = self.line_starts[line - 1];
        (line, self.source[start..offset].chars().count() + 1)
    }

    /// The excerpt for `span`: its first line, underlined from the start of the span to its end
    /// or the end of that line, whichever comes first (at least one character).
    pub(crate) fn excerpt(&self, span: Range<usize>) -> Excerpt {
        let start = self.char_boundary(span.start);
        let (line, column) = self.line_column(start);
        let line_start = self.line_starts[line - 1];
        let line_end = self
            .line_starts
            .get(line)
            .map_or(self.source.len(), |next| next - 1);
        let end = self.char_boundary(span.end.clamp(start, line_end));
        Excerpt {
            line,
            column,
            text: trim_line_ending(&self.source[line_start..line_end]).to_owned(),
            width: self.source[start..end].chars().count().max(1),
        }
    }

    fn char_boundary(&self, offset: usize) -> usize {
        let mut offset = offset.min(self.source.len());
        while !self.source.is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    }
}

/// The excerpt pointing at the first invalid byte of a text that is valid UTF-8 up to
/// `valid_up_to`; the line is shown with invalid bytes replaced by `�`.
pub(crate) fn excerpt_at_invalid_byte(bytes: &[u8], valid_up_to: usize) -> Excerpt {
    let valid = std::str::from_utf8(&bytes[..valid_up_to]).unwrap_or_default();
    let line_start = valid.rfind('\n').map_or(0, |at| at + 1);
    let line_end = bytes[valid_up_to..]
        .iter()
        .position(|&byte| byte == b'\n')
        .map_or(bytes.len(), |at| valid_up_to + at);
    Excerpt {
        line: valid.matches('\n').count() + 1,
        column: valid[line_start..].chars().count() + 1,
        text: trim_line_ending(&String::from_utf8_lossy(&bytes[line_start..line_end])).to_owned(),
        width: 1,
    }
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
    fn invalid_bytes_are_located_and_replaced() {
        let excerpt = excerpt_at_invalid_byte(b"a = 1\nb = \"\xff\"\nc", 11);
        assert_eq!((excerpt.line, excerpt.column), (2, 6));
        assert_eq!(excerpt.text, "b = \"\u{fffd}\"");
    }
}
