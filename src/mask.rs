//! Secret masking: every secret value becomes `[redacted:NAME]` before any report sees it.
//!
//! One [`Masker`] per run, built once from the secrets' names and values; masking is a single
//! pass of a precompiled multi-pattern search (Aho-Corasick) over the text, and costs nothing
//! when there are no secrets. Values shorter than [`MIN_SECRET_LEN`] are not masked (they would
//! match everywhere and hide the report); they are listed so that the report can say so.

use std::borrow::Cow;
use std::io::{self, Write};

use aho_corasick::{AhoCorasick, MatchKind};

/// Secret values shorter than this many bytes are listed in a note instead of masked.
pub const MIN_SECRET_LEN: usize = 6;

/// Whether a variable's name says it holds a secret: `*_KEY`, `*_TOKEN`, `*_SECRET`,
/// `*PASSWORD*`, `*_PAT` (in any case). The one rule: settings mark secrets by it, and the
/// script import uses it to tell which variables it must not write into a suite file.
pub fn looks_secret(name: &str) -> bool {
    let name = name.to_ascii_uppercase();
    ["_KEY", "_TOKEN", "_SECRET", "_PAT"]
        .iter()
        .any(|suffix| name.ends_with(suffix))
        || name.contains("PASSWORD")
}

/// A secret too short to mask wherever it appears (it would hide every word that holds it),
/// masked where what surrounds it says what it is: a URL's `user:PASSWORD@`, a
/// `password=PASSWORD` parameter. The frame stays: `:[redacted:NAME]@`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FramedSecret {
    /// The secret's name, shown in its place.
    pub name: String,
    /// What comes before the value.
    pub before: &'static str,
    /// The value.
    pub value: String,
    /// What comes after it.
    pub after: &'static str,
}

/// Replaces secret values with `[redacted:NAME]`.
#[derive(Debug, Clone, Default)]
pub struct Masker {
    searcher: Option<AhoCorasick>,
    /// The replacement of each pattern, in pattern order.
    replacements: Vec<String>,
    /// The longest secret value, in bytes.
    longest: usize,
    /// Names of secrets whose values are too short to mask.
    too_short: Vec<String>,
}

impl Masker {
    /// A masker that masks nothing.
    pub fn none() -> Self {
        Self::default()
    }

    /// A masker for these `(name, value)` secrets. Empty values are ignored; values shorter
    /// than [`MIN_SECRET_LEN`] are not masked and are listed by [`Masker::too_short`].
    pub fn new<'a>(secrets: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self::with_framed(secrets, &[])
    }

    /// [`Masker::new`], and `framed` secrets masked within their frames whatever their length.
    pub fn with_framed<'a>(
        secrets: impl IntoIterator<Item = (&'a str, &'a str)>,
        framed: &[FramedSecret],
    ) -> Self {
        let mut patterns: Vec<String> = Vec::new();
        let mut replacements = Vec::new();
        let mut too_short: Vec<String> = Vec::new();
        for (name, value) in secrets {
            if value.is_empty() {
                continue;
            }
            if value.len() < MIN_SECRET_LEN {
                if !too_short.iter().any(|n| n == name) {
                    too_short.push(name.to_owned());
                }
                continue;
            }
            if patterns.iter().any(|p| p == value) {
                continue;
            }
            patterns.push(value.to_owned());
            replacements.push(format!("[redacted:{name}]"));
        }
        for secret in framed.iter().filter(|secret| !secret.value.is_empty()) {
            let FramedSecret {
                name,
                before,
                value,
                after,
            } = secret;
            let pattern = format!("{before}{value}{after}");
            if patterns.contains(&pattern) {
                continue;
            }
            patterns.push(pattern);
            replacements.push(format!("{before}[redacted:{name}]{after}"));
        }
        let longest = patterns.iter().map(|p| p.len()).max().unwrap_or(0);
        let searcher = (!patterns.is_empty()).then(|| {
            AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .build(&patterns)
                .expect("a handful of literal patterns always builds")
        });
        Self {
            searcher,
            replacements,
            longest,
            too_short,
        }
    }

    /// Whether there is nothing to mask.
    pub fn is_empty(&self) -> bool {
        self.searcher.is_none()
    }

    /// Names of secrets whose values were too short to mask.
    pub fn too_short(&self) -> &[String] {
        &self.too_short
    }

    /// The longest secret value in bytes (0 without secrets): a stream must hold back one byte
    /// less than this to catch a secret split across two writes.
    pub fn longest(&self) -> usize {
        self.longest
    }

    /// `text` with every secret replaced; borrowed when there was none.
    pub fn mask<'t>(&self, text: &'t str) -> Cow<'t, str> {
        match &self.searcher {
            Some(searcher) if searcher.is_match(text) => {
                Cow::Owned(searcher.replace_all(text, &self.replacements))
            }
            _ => Cow::Borrowed(text),
        }
    }

    /// `bytes` with every secret replaced; borrowed when there was none.
    pub fn mask_bytes<'t>(&self, bytes: &'t [u8]) -> Cow<'t, [u8]> {
        match &self.searcher {
            Some(searcher) if searcher.is_match(bytes) => {
                Cow::Owned(searcher.replace_all_bytes(bytes, &self.replacements))
            }
            _ => Cow::Borrowed(bytes),
        }
    }

    /// Masks `text` in place when it holds a secret.
    pub fn mask_in_place(&self, text: &mut String) {
        if let Cow::Owned(masked) = self.mask(text) {
            *text = masked;
        }
    }
}

/// Writes through to `W` with every secret masked, even a secret split across two writes: up to
/// one byte less than the longest secret is held back until the next write or
/// [`MaskingWriter::finish`].
pub struct MaskingWriter<'m, W: Write> {
    masker: &'m Masker,
    out: W,
    pending: Vec<u8>,
}

impl<'m, W: Write> MaskingWriter<'m, W> {
    /// A writer masking with `masker` into `out`.
    pub fn new(masker: &'m Masker, out: W) -> Self {
        Self {
            masker,
            out,
            pending: Vec::new(),
        }
    }

    /// Writes what is held back and returns the inner writer, flushed.
    pub fn finish(mut self) -> io::Result<W> {
        let rest = std::mem::take(&mut self.pending);
        self.out.write_all(&self.masker.mask_bytes(&rest))?;
        self.out.flush()?;
        Ok(self.out)
    }

    /// Writes out everything that can no longer be the start of a secret.
    fn drain(&mut self) -> io::Result<()> {
        let Some(searcher) = &self.masker.searcher else {
            self.out.write_all(&self.pending)?;
            self.pending.clear();
            return Ok(());
        };
        // A secret starting before `cut` ends within `pending`, so it is found whole here.
        let cut = self.pending.len().saturating_sub(self.masker.longest - 1);
        let mut written = 0;
        for found in searcher.find_iter(&self.pending) {
            if found.start() >= cut {
                break;
            }
            self.out.write_all(&self.pending[written..found.start()])?;
            self.out
                .write_all(self.masker.replacements[found.pattern().as_usize()].as_bytes())?;
            written = found.end();
        }
        if written < cut {
            self.out.write_all(&self.pending[written..cut])?;
            written = cut;
        }
        self.pending.drain(..written);
        Ok(())
    }
}

impl<W: Write> Write for MaskingWriter<'_, W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(bytes);
        self.drain()?;
        Ok(bytes.len())
    }

    /// Flushes what is certainly not part of a secret; the rest waits for more bytes or
    /// [`MaskingWriter::finish`].
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_framed_secret_is_masked_within_its_frame_whatever_its_length() {
        let framed = |before, after| FramedSecret {
            name: "PW".into(),
            before,
            value: "pw".into(),
            after,
        };
        let masker = Masker::with_framed([], &[framed(":", "@"), framed("password=", "")]);
        assert_eq!(
            masker.mask("u:pw@h password=pw pw upwards"),
            "u:[redacted:PW]@h password=[redacted:PW] pw upwards"
        );
        assert!(masker.too_short().is_empty());
        // Across writes, as step output arrives.
        let mut out = Vec::new();
        let mut writer = MaskingWriter::new(&masker, &mut out);
        writer.write_all(b"u:p").unwrap();
        writer.write_all(b"w@h").unwrap();
        writer.finish().unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "u:[redacted:PW]@h");
    }

    #[test]
    fn secrets_are_replaced_by_their_names_and_short_ones_are_listed() {
        let masker = Masker::new([
            ("OPENAI_API_KEY", "sk-abcdef123"),
            ("PIN", "1234"),
            ("EMPTY", ""),
        ]);
        assert_eq!(
            masker.mask("key=sk-abcdef123, again sk-abcdef123; pin 1234"),
            "key=[redacted:OPENAI_API_KEY], again [redacted:OPENAI_API_KEY]; pin 1234"
        );
        assert_eq!(masker.too_short(), ["PIN"]);
        assert!(matches!(masker.mask("nothing here"), Cow::Borrowed(_)));
    }

    #[test]
    fn the_longest_of_overlapping_secrets_wins() {
        let masker = Masker::new([("SHORT", "secret"), ("LONG", "secret-and-more")]);
        assert_eq!(masker.mask("a secret-and-more b"), "a [redacted:LONG] b");
    }

    #[test]
    fn a_secret_split_across_writes_is_masked() {
        let masker = Masker::new([("API_TOKEN", "tok-123456789")]);
        let text = b"one tok-123456789 two tok-123456789 end tok-1234";
        for split in 0..text.len() {
            let mut writer = MaskingWriter::new(&masker, Vec::new());
            writer.write_all(&text[..split]).unwrap();
            writer.write_all(&text[split..]).unwrap();
            let out = String::from_utf8(writer.finish().unwrap()).unwrap();
            assert_eq!(
                out, "one [redacted:API_TOKEN] two [redacted:API_TOKEN] end tok-1234",
                "split at {split}"
            );
        }
    }

    #[test]
    fn secret_looking_names() {
        for name in [
            "OPENAI_API_KEY",
            "GH_TOKEN",
            "app_secret",
            "DB_PASSWORD_X",
            "GH_PAT",
        ] {
            assert!(looks_secret(name), "{name}");
        }
        for name in ["HOME", "KEYBOARD", "PATH", "TOKENIZER"] {
            assert!(!looks_secret(name), "{name}");
        }
    }

    #[test]
    fn no_secrets_masks_nothing() {
        let masker = Masker::none();
        assert!(masker.is_empty());
        assert!(matches!(masker.mask("sk-abcdef123"), Cow::Borrowed(_)));
    }
}
