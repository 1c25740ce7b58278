//! The API's bearer token: from `SMOKE_SERVE_TOKEN` or a `0600` file, compared in constant
//! time. The token never appears in any output (it is also given to the masker).

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use subtle::ConstantTimeEq;

/// The variable the token is read from when no file is named.
pub const TOKEN_ENV: &str = "SMOKE_SERVE_TOKEN";

/// The shortest token accepted.
pub const MIN_TOKEN_LEN: usize = 16;

/// The largest token file read.
const MAX_TOKEN_FILE: u64 = 4096;

/// The token requests must carry to trigger or cancel runs.
#[derive(Clone)]
pub struct Token(String);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token([redacted])")
    }
}

impl Token {
    /// Reads the token: from `file` when given, else from [`TOKEN_ENV`]; `None` when neither
    /// is set.
    pub fn load(file: Option<&Path>, env: Option<String>) -> Result<Option<Self>, String> {
        let (text, source) = match file {
            Some(path) => (read_private_file(path)?, path.display().to_string()),
            None => match env {
                Some(text) => (text, TOKEN_ENV.to_owned()),
                None => return Ok(None),
            },
        };
        let token = text.trim();
        if token.chars().count() < MIN_TOKEN_LEN {
            return Err(format!(
                "the token in {source} is shorter than {MIN_TOKEN_LEN} characters; use a long random value (e.g. `openssl rand -hex 32`)"
            ));
        }
        if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!(
                "the token in {source} contains spaces or control characters; it must fit in one `Authorization: Bearer` header"
            ));
        }
        Ok(Some(Self(token.to_owned())))
    }

    /// The token's value, for the masker.
    pub fn secret(&self) -> &str {
        &self.0
    }

    /// Whether an `Authorization` header value carries this token (constant time in the
    /// token's content).
    pub fn accepts(&self, header: Option<&[u8]>) -> bool {
        let Some(given) = header.and_then(|value| value.strip_prefix(b"Bearer ")) else {
            return false;
        };
        given.ct_eq(self.0.as_bytes()).into()
    }
}

/// The token file: a regular file owned by this user that nobody else may read or write.
fn read_private_file(path: &Path) -> Result<String, String> {
    let file = crate::regular_file::open(path)
        .map_err(|error| format!("cannot read the token file {}: {error}", path.display()))?;
    let meta = file
        .metadata()
        .map_err(|error| format!("cannot read the token file {}: {error}", path.display()))?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    if meta.uid() != euid {
        return Err(format!(
            "the token file {} belongs to another user; it must be yours",
            path.display()
        ));
    }
    if meta.mode() & 0o077 != 0 {
        return Err(format!(
            "the token file {} may be read by others (mode {:o}); run `chmod 600 {}`",
            path.display(),
            meta.mode() & 0o777,
            path.display()
        ));
    }
    let bytes = crate::regular_file::read_open(file, MAX_TOKEN_FILE)
        .map_err(|error| format!("cannot read the token file {}: {error}", path.display()))?;
    String::from_utf8(bytes).map_err(|_| format!("the token file {} is not text", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_only_the_exact_bearer_token() {
        let token = Token::load(None, Some("0123456789abcdef0123".into()))
            .unwrap()
            .unwrap();
        assert!(token.accepts(Some(b"Bearer 0123456789abcdef0123")));
        assert!(!token.accepts(Some(b"Bearer 0123456789abcdef012")));
        assert!(!token.accepts(Some(b"Bearer 0123456789abcdef01234")));
        assert!(!token.accepts(Some(b"0123456789abcdef0123")));
        assert!(!token.accepts(None));
    }

    #[test]
    fn refuses_short_tokens_and_files_others_can_read() {
        assert!(Token::load(None, Some("short".into())).is_err());
        assert!(Token::load(None, None).unwrap().is_none());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "0123456789abcdef0123\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let error = Token::load(Some(&path), None).unwrap_err();
        assert!(error.contains("chmod 600"), "{error}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(Token::load(Some(&path), None).unwrap().is_some());
    }
}
