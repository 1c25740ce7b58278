//! What a run says about where it ran, beyond its commit: `--label NAME` (`SMOKE_LABEL`), a
//! name of the user's for a kind of run (`staging`, `prod-eu`), and `--branch NAME`
//! (`SMOKE_BRANCH`), the git branch when the checkout cannot say it (a detached `HEAD`).
//! Both are recorded with the run, and a gate's baseline may ask for runs of one of them.

use crate::history::is_branch_name;

/// The longest label.
pub const MAX_LABEL_LEN: usize = 64;

/// Checks a run's label: 1 to 64 ASCII letters, digits, `.`, `_` or `-`, starting with a
/// letter or a digit (so it can be written in `--baseline label:NAME` and in a shell as it is).
pub fn parse_label(text: &str) -> Result<String, String> {
    let bad = |what: &str| {
        format!(
            "`{text}` is not a run label: {what}; a label is 1 to {MAX_LABEL_LEN} letters, \
             digits, `.`, `_` or `-`, starting with a letter or a digit (for example staging \
             or prod-eu)"
        )
    };
    let Some(first) = text.chars().next() else {
        return Err(bad("it is empty"));
    };
    if text.chars().count() > MAX_LABEL_LEN {
        return Err(bad(&format!("it has {} characters", text.chars().count())));
    }
    if !first.is_ascii_alphanumeric() {
        return Err(bad(&format!("it starts with `{first}`")));
    }
    if let Some(other) = text
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(bad(&format!("it holds `{}`", other.escape_default())));
    }
    Ok(text.to_owned())
}

/// Checks a branch name given by hand: one git accepts, without a `,` (which separates the
/// parts of `--baseline`).
pub fn parse_branch(text: &str) -> Result<String, String> {
    if is_branch_name(text) && !text.contains(',') {
        return Ok(text.to_owned());
    }
    Err(format!(
        "`{}` is not a branch name git accepts (no spaces, `~^:?*[\\`, `..`, `@{{`, `,` or \
         control characters, no part starting with `.` or ending in `.lock`; for example main \
         or release/2.1)",
        text.escape_default()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_a_user_would_write_are_taken() {
        for good in ["staging", "prod-eu", "Prod_EU.2", "7", &"x".repeat(64)] {
            assert_eq!(parse_label(good).as_deref(), Ok(good));
        }
    }

    #[test]
    fn bad_labels_say_what_is_wrong_and_show_an_example() {
        for (text, says) in [
            ("", "it is empty"),
            ("-staging", "starts with `-`"),
            ("prod eu", "holds ` `"),
            ("prod:eu", "holds `:`"),
            ("a,b", "holds `,`"),
            ("stäging", "holds `\\u{e4}`"),
            ("tab\there", "holds `\\t`"),
        ] {
            let error = parse_label(text).unwrap_err();
            assert!(error.contains(says), "{text:?}: {error}");
            assert!(error.contains("for example staging"), "{error}");
        }
        let error = parse_label(&"x".repeat(65)).unwrap_err();
        assert!(error.contains("it has 65 characters"), "{error}");
    }

    #[test]
    fn branches_follow_git_and_keep_commas_out() {
        assert_eq!(parse_branch("release/2.1").as_deref(), Ok("release/2.1"));
        for bad in ["a b", "a,b", "a..b", ""] {
            let error = parse_branch(bad).unwrap_err();
            assert!(error.contains("for example main"), "{error}");
        }
    }
}
