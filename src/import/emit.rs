//! The draft as a suite file: TOML written by hand, so it reads like one written by a person
//! (comments, one key per line, shell lines as multi-line strings).

use std::fmt::Write as _;

use super::draft::{Draft, Item, Step};

/// Writes the suite file.
pub(crate) fn suite(draft: &Draft) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Imported from {} by `smoke-runner import`.",
        draft.script_name.replace('\n', " ")
    );
    out.push_str(
        "# Each helper call is a step; lines marked \"kept as shell\" run with bash as written.\n",
    );
    let _ = writeln!(out, "name = {}", string(&draft.name));
    if draft.uses_plandex {
        out.push_str("requires = [\"${PLANDEX_CMD:-plandex-dev}\"]   # skipped, with the reason, without it\n");
        out.push_str(
            "exclusive = \"plandex-account\"   # suites on one Plandex account never overlap\n",
        );
    }
    if let Some(shell) = &draft.shell {
        let _ = writeln!(
            out,
            "shell = {}   # the script's own `set` options",
            string(shell)
        );
    }
    if draft.keep_going {
        out.push_str("on_failure = \"continue\"   # the script goes on after a failed check\n");
    }
    if let Some(dir) = &draft.workdir {
        let _ = writeln!(
            out,
            "workdir = {}   # steps start where the script was run from",
            string(dir)
        );
    }
    if draft.uses_plandex || !draft.env.is_empty() {
        out.push_str("\n[env]\n");
        if draft.uses_plandex {
            out.push_str(
                "PLANDEX_CMD = \"${PLANDEX_CMD:-plandex-dev}\"   # for the shell steps, as for run steps\n",
            );
        }
        for (name, value, line) in &draft.env {
            let _ = writeln!(out, "{name} = {}   # line {line}", string(value));
        }
    }
    let mut previous_comment = false;
    for item in &draft.items {
        let is_comment = matches!(item, Item::Comment(_));
        if !(is_comment && previous_comment) {
            out.push('\n');
        }
        previous_comment = is_comment;
        match item {
            Item::Comment(text) => comment(&mut out, text),
            Item::Note {
                section,
                text,
                comments,
            } => {
                for text in comments {
                    comment(&mut out, text);
                }
                out.push_str("[[step]]\n");
                if let Some(section) = section {
                    let _ = writeln!(out, "section = {}", string(section));
                }
                let _ = writeln!(out, "note = {}", string(text));
            }
            Item::Step(step) => write_step(&mut out, step),
        }
    }
    out
}

fn write_step(out: &mut String, step: &Step) {
    for text in &step.comments {
        comment(out, text);
    }
    out.push_str("[[step]]\n");
    if let Some(section) = &step.section {
        let _ = writeln!(out, "section = {}", string(section));
    }
    if let Some(name) = &step.name {
        let _ = writeln!(out, "name = {}", string(name));
    }
    if let Some(run) = &step.run {
        let _ = writeln!(out, "run = {}", string(run));
    }
    if let Some(sh) = &step.sh {
        let _ = writeln!(out, "sh = {}", multiline(sh));
    }
    if let Some(stdin) = &step.stdin {
        let _ = writeln!(out, "stdin = {}", string(stdin));
    }
    if !step.env.is_empty() {
        let pairs: Vec<String> = step
            .env
            .iter()
            .map(|(k, v)| format!("{k} = {}", string(v)))
            .collect();
        let _ = writeln!(out, "env = {{ {} }}", pairs.join(", "));
    }
    if !step.env_remove.is_empty() {
        let names: Vec<String> = step.env_remove.iter().map(|n| string(n)).collect();
        let _ = writeln!(out, "env_remove = [{}]", names.join(", "));
    }
    if let Some(status) = &step.status {
        match status.parse::<u8>() {
            Ok(code) => {
                let _ = writeln!(out, "status = {code}");
            }
            Err(_) => {
                let _ = writeln!(out, "status = {}", string(status));
            }
        }
    }
    if let Some(text) = &step.output_contains {
        let _ = writeln!(out, "output.contains = {}", string(text));
    }
    if let Some(text) = &step.stdout_contains {
        let _ = writeln!(out, "stdout.contains = {}", string(text));
    }
    if let Some(text) = &step.stdout_equals {
        let _ = writeln!(out, "stdout.equals = {}", string(text));
    }
    if let Some(dir) = &step.workdir {
        let _ = writeln!(out, "workdir = {}", string(dir));
    }
    if step.always {
        out.push_str("always = true\n");
    }
    if let Some(timeout) = &step.timeout {
        let _ = writeln!(out, "timeout = {}", string(timeout));
    }
    if let Some(capture) = &step.capture {
        let _ = writeln!(out, "capture = {}", string(capture));
    }
}

fn comment(out: &mut String, text: &str) {
    for line in text.lines() {
        let _ = writeln!(out, "# {line}");
    }
    if text.is_empty() {
        out.push_str("#\n");
    }
}

/// A TOML basic string.
pub(crate) fn string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A shell line: a literal multi-line string when it has several lines and can be one.
fn multiline(text: &str) -> String {
    let literal_ok = !text.contains("'''")
        && !text.ends_with('\'')
        && text
            .chars()
            .all(|c| c == '\n' || c == '\t' || !c.is_control());
    if text.contains('\n') && literal_ok {
        format!("'''\n{text}\n'''")
    } else {
        string(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_escape_what_toml_needs() {
        assert_eq!(
            string("a \"b\" \\ \n\u{1}"),
            "\"a \\\"b\\\" \\\\ \\n\\u0001\""
        );
        assert_eq!(multiline("one\ntwo"), "'''\none\ntwo\n'''");
        assert_eq!(multiline("it's '''"), "\"it's '''\"");
    }
}
