//! The one rule for "this statement reads the exit status that one left": a `$?` checker
//! (`[ $? -eq 0 ] || fail`, `if [ "$?" == 1 ]; then …`, `status=$?`, `pass_check $? NAME`) and
//! the command before it are one check. The translation merges them into one step and
//! `import --check` judges them as one; both ask this module, so they cannot disagree on
//! which statements pair up.
//!
//! A `$?` checker helper (`check NAME`, whose body starts by reading `$?`) reads it too: its
//! call is the reader. The rule is bash's: blank lines and comments run nothing, so a reader after them still
//! reads the command before them; a function definition leaves status 0, so a reader after one
//! reads no command. What a pair becomes in the suite is the translation's to decide.

use super::script::{Kind, Statement};

/// Whether a statement starts by reading `$?` (`if [ "$?" == 0 ]`, `[ $? -eq 1 ] && …`,
/// `status=$?`): before its first `;`, `&` or `|`, so a later command of the line does not.
pub(crate) fn reads_status_first(text: &str) -> bool {
    let first = text.trim_start().lines().next().unwrap_or_default();
    let first = first.split([';', '&', '|']).next().unwrap_or_default();
    first.contains("$?") || first.contains("${?}")
}

/// Whether a statement runs commands, so it leaves a status of its own: a command line, a
/// command with a here-document, a block.
fn runs(statement: &Statement) -> bool {
    matches!(statement.kind, Kind::Simple | Kind::HereDoc | Kind::Block)
}

/// Whether bash runs nothing for it: a blank line or a comment.
fn runs_nothing(statement: &Statement) -> bool {
    matches!(statement.kind, Kind::Blank | Kind::Comment(_))
}

/// Whether a statement reads `$?` first: itself (above), or by calling a `$?` checker, a
/// function whose body starts by reading it (`check NAME`; `checkers` names them).
fn reads_status(reader: &Statement, checkers: &[String]) -> bool {
    let head = reader.text.split_whitespace().next().unwrap_or_default();
    runs(reader) && (reads_status_first(&reader.text) || checkers.iter().any(|c| c == head))
}

/// The statement of `list` that reads the status `list[command]` leaves, if any: the next
/// statement that runs, when it reads `$?` first (`checkers`: the `$?` checkers' names).
pub(crate) fn reader_of(list: &[Statement], command: usize, checkers: &[String]) -> Option<usize> {
    if !list.get(command).is_some_and(runs) {
        return None;
    }
    let next = command
        + 1
        + list
            .get(command + 1..)?
            .iter()
            .position(|s| !runs_nothing(s))?;
    reads_status(&list[next], checkers).then_some(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::script::statements;

    /// The line each line's status is read by, for every pair in `source`, with `check` a
    /// `$?` checker.
    fn pairs(source: &str) -> Vec<(usize, usize)> {
        let list = statements(source, 1);
        let checkers = ["check".to_owned()];
        (0..list.len())
            .filter_map(|i| reader_of(&list, i, &checkers).map(|r| (list[i].line, list[r].line)))
            .collect()
    }

    #[test]
    fn a_reader_right_after_a_command_reads_its_status() {
        assert_eq!(pairs("grep -q b f\n[ $? -eq 0 ] || fail b\n"), [(1, 2)]);
        assert_eq!(
            pairs("false\nif [ \"$?\" == 1 ]; then\n  ok\nfi\n"),
            [(1, 2)]
        );
        assert_eq!(pairs("false\nstatus=${?}\n"), [(1, 2)]);
        assert_eq!(pairs("false\npass_check $? NAME\n"), [(1, 2)]);
        // A `$?` checker reads it in its body: its call is the reader.
        assert_eq!(pairs("false\ncheck \"it fails\"\n"), [(1, 2)]);
        assert_eq!(pairs("false\nchecked \"it fails\"\n"), []);
    }

    /// Bash runs nothing for them, so `$?` is still the command's.
    #[test]
    fn blank_lines_and_comments_between_do_not_part_them() {
        assert_eq!(
            pairs("grep -q b f\n\n# the file holds b\n\n[ $? -eq 0 ] || fail b\n"),
            [(1, 5)]
        );
    }

    #[test]
    fn blocks_and_here_documents_leave_a_status_too() {
        assert_eq!(
            pairs("if [ -f f ]; then\n  grep -q b f\nfi\n[ $? -eq 0 ] || fail b\n"),
            [(1, 4)]
        );
        assert_eq!(
            pairs("grep -q b <<TXT\nb\nTXT\n[ $? -eq 0 ] || fail b\n"),
            [(1, 4)]
        );
    }

    /// Each reads the status the one before it left: a chain, judged at its last line.
    #[test]
    fn a_reader_s_own_status_can_be_read_in_turn() {
        assert_eq!(
            pairs("false\n[ $? -eq 1 ] || fail a\n[ $? -eq 0 ] || fail b\n"),
            [(1, 2), (2, 3)]
        );
    }

    #[test]
    fn what_reads_no_command_s_status_pairs_with_nothing() {
        // A function definition leaves 0; the script's first statement reads bash's start.
        assert_eq!(pairs("f() { :; }\n[ $? -eq 0 ] || fail\n"), []);
        assert_eq!(pairs("[ $? -eq 0 ] || fail\n"), []);
        // `$?` read by a later command of the line, or not read at all.
        assert_eq!(pairs("false\ntrue; [ $? -eq 0 ]\n"), []);
        assert_eq!(pairs("false\necho done\n"), []);
        // A comment mentioning `$?` runs nothing.
        assert_eq!(pairs("false\n# [ $? -eq 0 ]\n"), []);
    }
}
