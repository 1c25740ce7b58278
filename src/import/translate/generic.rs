//! Scripts of any project (not `test_utils.sh` ones): their own helper libraries, read rather
//! than assumed; their checks (assertion helpers, `$?` checkers, TAP blocks, `|| fail`) as
//! steps named after the script's line; their state (arguments, `mktemp -d`, `cd`, `trap …
//! EXIT`, `set -e`) carried into the suite.

use super::super::draft::{Item, Step};
use super::super::library::{Family, Style, family, is_check, style, unescape};
use super::super::script::{Kind, Statement};
use super::super::words::{OUTER, Part, Token, Word, protect};
use super::{Form, Translator, shell_quote};

/// A failure helper redefined inside a kept block, so that the block's step fails where the
/// script would count a failed check.
const FAIL_NOW: &str = "() { printf '%s\\n' \"$*\" >&2; exit 1; }";

impl Translator {
    /// Reads what the script's `set` lines and functions say before translating: the shell
    /// options, and the families of the script's own functions.
    pub(super) fn survey(&mut self, all: &[Statement]) {
        let mut options = Vec::new();
        for statement in all.iter().filter(|s| s.kind == Kind::Simple) {
            let text = statement.text.trim();
            let Some(rest) = text.strip_prefix("set ") else {
                continue;
            };
            let words: Vec<&str> = rest.split_whitespace().collect();
            for (i, word) in words.iter().enumerate() {
                let long = (i > 0 && words[i - 1].ends_with('o')).then_some(*word);
                if let Some(flags) = word.strip_prefix('-').filter(|w| !w.starts_with('-')) {
                    for (flag, name) in [('e', "-e"), ('u', "-u")] {
                        if flags.contains(flag) && !options.contains(&name) {
                            options.push(name);
                        }
                    }
                }
                match long {
                    Some("errexit") if !options.contains(&"-e") => options.push("-e"),
                    Some("nounset") if !options.contains(&"-u") => options.push("-u"),
                    Some("pipefail") if !options.contains(&"-o pipefail") => {
                        options.push("-o pipefail");
                    }
                    _ => {}
                }
            }
        }
        self.errexit = options.contains(&"-e");
        let mut shell = "bash --noprofile --norc".to_owned();
        for option in &options {
            shell.push(' ');
            shell.push_str(option);
        }
        shell.push_str(" -c");
        self.draft.shell = Some(shell);
        self.draft.keep_going = !self.errexit;
        let families: Vec<(String, Family)> = self
            .functions
            .iter()
            .filter_map(|f| family(&f.name, &f.body).map(|k| (f.name.clone(), k)))
            .collect();
        self.families.extend(families);
    }

    /// A script whose failure helper or `$?` checker exits stops at its first failed check,
    /// as a `set -e` script does: so does the suite (its other commands still cannot fail).
    pub(super) fn settle(&mut self) {
        let stops = self.families.iter().any(|(name, kind)| {
            matches!(kind, Family::StatusChecker | Family::Failure)
                && self
                    .functions
                    .iter()
                    .find(|f| &f.name == name)
                    .is_some_and(|f| calls_exit(&f.body))
        });
        if stops {
            self.draft.keep_going = false;
        }
    }

    /// `source LIB` / `. LIB` of a library the caller read: its functions become known, and
    /// shell steps that call them source it.
    pub(super) fn source_library(&mut self, line: usize, written: &str, text: &str) {
        let Some((_, library)) = self.libraries.iter().find(|(w, _)| w == written).cloned() else {
            self.warn(
                line,
                format!(
                    "`{}`: the library could not be read: steps that call its functions will fail",
                    text.trim()
                ),
            );
            self.comment(format!(
                "line {line}: `{}`: not found when imported",
                text.trim()
            ));
            return;
        };
        // What it sources is read first: its own definitions come after (and win).
        let texts = library.included.iter().chain([&library.text]);
        let mut defined: Vec<String> = Vec::new();
        for statement in texts.flat_map(|text| super::statements(text, 1)) {
            let defined_at = statement.line;
            if let Kind::Function {
                name,
                body,
                body_line,
            } = statement.kind
            {
                self.functions.retain(|f| f.name != name);
                defined.retain(|n| n != &name);
                defined.push(name.clone());
                self.functions.push(super::Function {
                    name,
                    line: defined_at,
                    text: statement.text,
                    body,
                    body_line,
                    library: Some(library.path_for_steps.clone()),
                });
            }
        }
        let mut names = Vec::new();
        for function in self.functions.iter().filter(|f| defined.contains(&f.name)) {
            if let Some(kind) = family(&function.name, &function.body) {
                self.families.retain(|(n, _)| n != &function.name);
                self.families.push((function.name.clone(), kind));
                names.push(function.name.clone());
            }
        }
        self.comment(format!(
            "line {line}: `{}`: the library {} is sourced by the shell steps that call its functions; checks translated: {}",
            text.trim(),
            library.path_for_steps,
            if names.is_empty() { "none".to_owned() } else { names.join(", ") }
        ));
    }

    /// `. shunit2` at the end of a script: shUnit2 runs the script's `test…` functions, each
    /// between `setUp` and `tearDown`. Each becomes a step named after its function's line that
    /// runs shUnit2 on that test alone (a `suite` adding it), with the script's functions.
    pub(super) fn shunit2_tests(&mut self, line: usize, written: &str, text: &str) {
        let path = self
            .libraries
            .iter()
            .find(|(w, _)| w == written)
            .map_or_else(|| written.to_owned(), |(_, l)| l.path_for_steps.clone());
        let own: Vec<super::Function> = (self.functions.iter())
            .filter(|f| f.library.is_none())
            .cloned()
            .collect();
        let tests: Vec<&super::Function> =
            own.iter().filter(|f| f.name.starts_with("test")).collect();
        self.comment(format!(
            "line {line}: `{}`: shUnit2 runs the test functions; each is a step running shUnit2 on it alone",
            text.trim()
        ));
        if tests.is_empty() {
            self.warn(
                line,
                format!("`{}`: no test functions (`test…`) before it", text.trim()),
            );
        }
        let definitions: String = own.iter().map(|f| format!("{}\n", f.text)).collect();
        for test in tests {
            let mut step = self.step();
            let defined_at = test.line;
            step.name = Some(format!("{} (line {defined_at})", test.name));
            step.comments
                .push(format!("line {defined_at}: shUnit2 test `{}`", test.name));
            let run = format!(
                "{definitions}suite() {{ suite_addTest {}; }}\n. {}",
                test.name,
                shell_quote(&path)
            );
            step.sh = Some(protect(&run));
            step.check = true;
            self.push(step);
        }
    }

    /// Every step of a generic script is named after its line; in a script without `set -e`,
    /// a command that is not a check cannot fail the script, so it cannot fail its step.
    pub(super) fn generic_step(&self, step: &mut Step) {
        let line = step.comments.iter().find_map(|c| {
            c.strip_prefix("line ")?
                .split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse::<usize>()
                .ok()
        });
        let named = step.name.as_deref().is_some_and(|n| n.contains("(line "));
        if let (Some(line), false) = (line, named) {
            let base = step.name.clone().unwrap_or_else(|| {
                let sh = step.sh.as_deref().unwrap_or_default();
                let first = sh
                    .lines()
                    .rev()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or_default();
                super::shorten(first)
            });
            step.name = Some(format!("{base} (line {line})"));
        }
        let check = step.check
            || step.status.is_some()
            || step.sh.as_deref().is_some_and(|sh| self.holds_check(sh));
        if !self.errexit && !check {
            step.status = Some("any".to_owned());
        }
    }

    /// The family of a call to `name`, when it is a known helper of the script or a library.
    pub(super) fn family_of(&self, name: &str) -> Option<Family> {
        self.families
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, k)| *k)
    }

    /// A call to a check helper: one step, or a change to the step before it.
    pub(super) fn family_call(&mut self, kind: Family, words: &[Word], form: Form<'_>) {
        let line = form.line;
        match kind {
            Family::StatusChecker => return self.status_checker(words, form),
            Family::BeginTest => {
                self.pending_test = words.get(1).map(Word::eval_text);
                self.comment(format!(
                    "line {line}: `{}`: names the block that follows",
                    form.text.trim()
                ));
                return;
            }
            Family::OutputIsHereDoc | Family::Summary => {
                self.comment(format!(
                    "line {line}: `{}` dropped: each check is a step with its own verdict",
                    form.text.trim()
                ));
                return;
            }
            Family::Describe | Family::Example | Family::End => {
                return self.spec_block(kind, words, line, form.text);
            }
            Family::TapReport => {
                let mut step = self.step();
                step.check = true;
                step.comments.push(format!(
                    "line {line}: {}: a TAP report, failed when it prints `not ok`",
                    words[0].eval_text()
                ));
                let text = self.shell_text(form.text);
                step.origin = self.origin(form.text);
                step.sh = Some(judged_as_tap(&text));
                return self.push(step);
            }
            _ => {}
        }
        let mut step = self.step();
        step.check = is_check(kind);
        step.comments
            .push(format!("line {line}: {}", words[0].eval_text()));
        let style = self
            .functions
            .iter()
            .find(|f| f.name == words[0].eval_text())
            .map(|f| style(&f.body))
            .unwrap_or_default();
        let script = match self.script_dir.as_str() {
            "" | "." => self.draft.script_name.clone(),
            dir => format!("{dir}/{}", self.draft.script_name),
        };
        let Some(text) = check_command(kind, words, style, &script, &mut step) else {
            self.shell_step(line, form.text, Some("a check without its command"), "");
            return;
        };
        let label = match (kind, &self.pending_test) {
            (Family::Expect, Some(example)) => example.clone(),
            (Family::EvalSecond | Family::KnownBreakage, _) if words.len() >= 3 => {
                words[words.len() - 2].eval_text()
            }
            _ => form.text.replace('\n', " "),
        };
        step.name = Some(format!("{} (line {line})", super::shorten(&label)));
        step.sh = Some(self.shell_text(&text));
        self.finish(step, form);
    }

    /// `describe`/`it`/`end`: sections named after the open `describe`s, and the name of the
    /// expectations inside an `it`.
    fn spec_block(&mut self, kind: Family, words: &[Word], line: usize, text: &str) {
        let what = words.get(1).map(Word::eval_text).unwrap_or_default();
        match kind {
            Family::Describe => {
                self.spec_open.push(true);
                self.contexts.push(what);
            }
            Family::Example => {
                self.spec_open.push(false);
                self.pending_test = Some(what);
            }
            _ => match self.spec_open.pop() {
                Some(true) => {
                    self.contexts.pop();
                }
                Some(false) => self.pending_test = None,
                None => {}
            },
        }
        self.section = (!self.contexts.is_empty()).then(|| self.contexts.join(" "));
        self.comment(format!("line {line}: `{}`", text.trim()));
    }

    /// `pass_check $? NAME`: a call given the last status judges the command before it.
    pub(super) fn status_argument(&mut self, words: &[Word], form: &Form<'_>) -> bool {
        let is_status = |w: &Word| matches!(w.eval_text().as_str(), "$?" | "${?}");
        if !words[1..].iter().any(is_status) {
            return false;
        }
        let label: Vec<Word> = words[1..]
            .iter()
            .filter(|w| !is_status(w) && !w.eval_text().chars().all(|c| c.is_ascii_digit()))
            .take(1)
            .cloned()
            .collect();
        let head = words[0].eval_text();
        if self
            .functions
            .iter()
            .any(|f| f.name == head && calls_exit(&f.body))
        {
            self.draft.keep_going = false;
        }
        let mut call = vec![words[0].clone()];
        call.extend(label);
        self.status_checker(&call, form.clone());
        true
    }

    /// `check NAME` / `end_test` after a command: the command before it is the check.
    fn status_checker(&mut self, words: &[Word], form: Form<'_>) {
        let line = form.line;
        let label = self
            .pending_test
            .take()
            .or_else(|| words.get(1).map(Word::eval_text))
            .unwrap_or_else(|| words[0].eval_text());
        match self
            .draft
            .items
            .iter_mut()
            .rev()
            .find(|i| !matches!(i, Item::Comment(_)))
        {
            Some(Item::Step(step)) => {
                step.name = Some(format!("{} (line {line})", super::shorten(&label)));
                step.status = None;
                step.check = true;
                step.comments.push(format!(
                    "line {line}: `{}` judges this step's exit status",
                    form.text.trim()
                ));
            }
            _ => {
                self.warn(
                    line,
                    format!(
                        "`{}` reads the status of nothing translated before it: kept as shell",
                        form.text.trim()
                    ),
                );
                self.shell_step(line, form.text, None, "a status check");
            }
        }
    }

    /// `check_output <<EOF`: the here-document is what the step before it printed.
    pub(super) fn heredoc_check(&mut self, statement: &Statement) -> bool {
        let first = statement.text.lines().next().unwrap_or_default();
        let Some(head) = first.split_whitespace().next() else {
            return false;
        };
        if self.family_of(head) != Some(Family::OutputIsHereDoc) {
            return false;
        }
        let quoted = first.contains("<<'") || first.contains("<<\"") || first.contains("<<\\");
        let body: Vec<&str> = statement.text.lines().skip(1).collect();
        let body = body[..body.len().saturating_sub(1)].join("\n");
        let line = statement.line;
        let Some(Item::Step(step)) = self
            .draft
            .items
            .iter_mut()
            .rev()
            .find(|i| !matches!(i, Item::Comment(_)))
        else {
            return false;
        };
        if !quoted && body.contains(['$', '`']) {
            return false;
        }
        step.stdout_equals = Some(protect(&body));
        step.check = true;
        let name = step.name.take().unwrap_or_default();
        let name = name
            .rsplit_once(" (line")
            .map_or(name.as_str(), |(n, _)| n)
            .to_owned();
        step.name = Some(format!("{name} (line {line})"));
        step.comments.push(format!(
            "line {line}: {head}: the output, as the here-document says"
        ));
        true
    }

    /// `CMD || fail …`, `CMD || exit 1`, `CMD && pass … || fail …`: CMD is a check.
    pub(super) fn guarded_check(&mut self, tokens: &[Token], statement: &Statement) -> bool {
        let Some(at) = tokens
            .iter()
            .rposition(|t| matches!(t, Token::Op(op) if op == "||"))
        else {
            return false;
        };
        let Some(Token::Word(head)) = tokens.get(at + 1) else {
            return false;
        };
        let head = head.eval_text();
        let fails = head == "exit" || self.family_of(&head) == Some(Family::Failure);
        if !fails || tokens[at + 2..].iter().any(|t| matches!(t, Token::Op(_))) {
            return false;
        }
        let text = statement.text.trim();
        let Some(cut) = text.rfind("||") else {
            return false;
        };
        let mut condition = text[..cut].trim_end();
        // `… && pass "x"`: the pass helper only reports.
        if let Some(and) = condition.rfind("&&") {
            let after = condition[and + 2..].trim_start();
            let name = after.split_whitespace().next().unwrap_or_default();
            if self.functions.iter().any(|f| f.name == name) && self.family_of(name).is_none() {
                condition = condition[..and].trim_end();
            }
        }
        let message: Vec<String> = tokens[at + 2..]
            .iter()
            .filter_map(|t| match t {
                Token::Word(w) => Some(w.eval_text()),
                Token::Op(_) => None,
            })
            .filter(|w| !w.chars().all(|c| c.is_ascii_digit()) && w != "$LINENO")
            .collect();
        let line = statement.line;
        let mut step = self.step();
        step.check = true;
        let label = if message.is_empty() {
            condition.to_owned()
        } else {
            message.join(" ")
        };
        step.name = Some(format!("{} (line {line})", super::shorten(&label)));
        step.comments
            .push(format!("line {line}: a check (`|| {head}`)"));
        step.sh = Some(self.shell_text(condition));
        self.push(step);
        true
    }

    /// `NAME=$1`, `NAME=$(mktemp -d)`, `NAME=$(dirname "$0")`: values the import knows.
    pub(super) fn known_value(
        &mut self,
        line: usize,
        name: &str,
        value: &Word,
        text: &str,
    ) -> bool {
        let raw = value.eval_text();
        let raw = raw.trim();
        let value = if let Some(n) = positional(raw) {
            let (index, default) = n;
            match (self.args.get(index - 1), default) {
                (Some(arg), _) => protect(arg),
                (None, Some(default)) => protect(default),
                (None, None) => {
                    self.warn(line, format!("`{}`: no argument {index} given: pass it as `smoke-runner import SCRIPT -- ARGS`", text.trim()));
                    String::new()
                }
            }
        } else if is_mktemp(raw) && raw.contains("-d") {
            "${TEST_DIR}".to_owned()
        } else if is_mktemp(raw) {
            format!("${{TEST_DIR}}/.tmp-{name}")
        } else if (raw.contains("$0") || raw.contains("BASH_SOURCE"))
            && (raw.contains("dirname") || raw.contains("%/*"))
        {
            protect(&self.script_dir)
        } else {
            return false;
        };
        self.comment(format!("line {line}: `{}`: {name} = {value}", text.trim()));
        self.draft.env.retain(|(n, _, _)| n != name);
        self.draft.env.push((name.to_owned(), value, line));
        true
    }

    /// `cd DIR`, `pushd DIR`, `popd`: where the steps that follow start.
    pub(super) fn change_dir(&mut self, words: &[Word], line: usize, text: &str) {
        let head = words[0].eval_text();
        if head == "popd" || words.get(1).is_some_and(|w| w.eval_text() == "-") {
            self.cwd = self.dir_stack.pop().flatten();
        } else {
            let target = words
                .get(1)
                .map(|w| w.template().unwrap_or_else(|_| protect(&w.eval_text())));
            let Some(target) = target else {
                self.shell_step(line, text, Some("`cd` to the home folder"), "");
                return;
            };
            self.dir_stack.push(self.cwd.clone());
            self.cwd = Some(match &self.cwd {
                Some(current) if !target.starts_with('/') && !target.starts_with("${") => {
                    format!("{current}/{target}")
                }
                _ => target,
            });
        }
        self.comment(format!(
            "line {line}: `{}`: the steps that follow start in {}",
            text.trim(),
            self.cwd.as_deref().unwrap_or("the suite's workdir")
        ));
    }

    /// `trap 'CMD' EXIT`: an `always` step at the end.
    pub(super) fn exit_trap(&mut self, words: &[Word], line: usize, text: &str) -> bool {
        let on_exit = words[1..]
            .iter()
            .skip(1)
            .any(|w| matches!(w.eval_text().as_str(), "EXIT" | "0"));
        let Some(command) = words.get(1).map(Word::eval_text).filter(|_| on_exit) else {
            return false;
        };
        let removes_test_dir = command.trim_start().starts_with("rm ")
            && self
                .draft
                .env
                .iter()
                .any(|(n, v, _)| v.starts_with("${TEST_DIR}") && command.contains(n.as_str()));
        if removes_test_dir {
            self.comment(format!(
                "line {line}: `{}` dropped: smoke-runner removes the test dir itself",
                text.trim()
            ));
            return true;
        }
        let mut step = Step {
            always: true,
            name: Some(format!(
                "on exit: {} (line {line})",
                super::shorten(&command)
            )),
            status: Some("any".to_owned()),
            ..Step::default()
        };
        step.comments.push(format!(
            "line {line}: `{}`: runs at the end, whatever happened",
            text.trim()
        ));
        step.sh = Some(self.shell_text(&command));
        self.exit_steps.push(step);
        true
    }

    /// Lines that source the libraries a kept shell text calls, and the failure helpers it
    /// calls redefined to fail the step.
    pub(super) fn library_prelude(&self, text: &str) -> (String, String) {
        let mut out = String::new();
        let mut sourced: Vec<&str> = Vec::new();
        for function in &self.functions {
            if let Some(path) = &function.library
                && !sourced.contains(&path.as_str())
                && super::calls(text, &function.name)
            {
                sourced.push(path);
                out.push_str(&format!(". {}\n", shell_quote(path)));
            }
        }
        let mut overrides = String::new();
        let reached = self.reached(text);
        for (name, kind) in &self.families {
            // A reporter called by a helper the text calls (`tap_cmp_str` calls `tap_fail`)
            // is redefined too: functions are looked up when called.
            if *kind == Family::Failure && reached.contains(&name.as_str()) {
                overrides.push_str(&format!("{name}{FAIL_NOW}\n"));
            }
        }
        (out, overrides)
    }

    /// Whether a kept shell text holds a check (a failure helper, an assertion helper), or
    /// calls a function that does.
    pub(super) fn holds_check(&self, text: &str) -> bool {
        let reached = self.reached(text);
        self.families
            .iter()
            .any(|(name, kind)| is_check(*kind) && reached.contains(&name.as_str()))
    }

    /// The functions `text` calls, and those they call in turn.
    fn reached(&self, text: &str) -> Vec<&str> {
        let mut reached: Vec<&str> = Vec::new();
        let mut queue: Vec<&str> = vec![text];
        while let Some(body) = queue.pop() {
            for function in &self.functions {
                if !reached.contains(&function.name.as_str()) && super::calls(body, &function.name)
                {
                    reached.push(&function.name);
                    queue.push(&function.body);
                }
            }
        }
        reached
    }
}

/// A kept text whose verdict is the TAP lines it prints: run as written (its output shown),
/// failed when a line starts `not ok` (not a `# TODO` or `# SKIP` one).
fn judged_as_tap(text: &str) -> String {
    format!(
        "__tap=$(\n{text}\n)\nprintf '%s\\n' \"$__tap\"\n! printf '%s\\n' \"$__tap\" | grep '^not ok' | grep -qv '# \\(TODO\\|SKIP\\)'"
    )
}

/// The command a check helper's call runs, with the step's expected status and output set.
/// `None` when the call lacks its command.
/// `script` is the script's path from the suite's `workdir`: what the caller's `$0` is.
fn check_command(
    kind: Family,
    words: &[Word],
    style: Style,
    script: &str,
    step: &mut Step,
) -> Option<String> {
    let text = match kind {
        Family::OutputEquals
        | Family::OutputContains
        | Family::StatusIs
        | Family::Fails
        | Family::EvalFirst
        | Family::EvalSecond
        | Family::KnownBreakage => command_string_check(kind, words, style, script, step)?,
        _ => argument_check(kind, words, step)?,
    };
    (!text.trim().is_empty()).then_some(text)
}

/// A word as a template, or as literal text when it cannot be one.
fn text_arg(words: &[Word], i: usize) -> Option<String> {
    words
        .get(i)
        .map(|w| w.template().unwrap_or_else(|_| protect(&w.eval_text())))
}

/// Helpers given the command as one string, which they `eval`. The caller's `$0` (expanded
/// before `eval` sees the string) is the script's path.
fn command_string_check(
    kind: Family,
    words: &[Word],
    style: Style,
    script: &str,
    step: &mut Step,
) -> Option<String> {
    let caller_zero = [format!("{OUTER}{{0}}"), format!("{OUTER}0")];
    let command = |i: usize| {
        words.get(i).map(|w| {
            let marked = caller_zero.iter().fold(w.eval_text_marked(), |text, zero| {
                text.replace(zero.as_str(), &shell_words::quote(script))
            });
            marked.replace(OUTER, "$")
        })
    };
    if style.stdin_third && matches!(kind, Family::OutputEquals | Family::StatusIs) {
        step.stdin = Some(format!("{}\n", text_arg(words, 3).unwrap_or_default()));
    }
    match kind {
        Family::OutputEquals => {
            step.status = Some("any".to_owned());
            let expected = text_arg(words, 2).unwrap_or_default();
            step.stdout_equals = Some(if style.escapes {
                unescape(&expected)
            } else {
                expected
            });
        }
        Family::OutputContains => {
            step.status = Some("any".to_owned());
            step.stdout_contains = Some(text_arg(words, 2).unwrap_or_default());
        }
        Family::StatusIs => {
            step.status = Some(words.get(2).map_or("0".to_owned(), Word::eval_text));
        }
        Family::Fails => step.status = Some("failure".to_owned()),
        Family::KnownBreakage => step.status = Some("any".to_owned()),
        _ => {}
    }
    match kind {
        // `NAME CMD`, or `PREREQ NAME CMD`: the command is the last argument.
        // A body written over several lines inside quotes: its own lines, dedented.
        Family::EvalSecond | Family::KnownBreakage if words.len() >= 3 => {
            command(words.len() - 1).map(|body| super::dedent(body.trim_matches('\n')))
        }
        _ => command(1),
    }
}

/// Helpers given the command as words, values to compare, or a message.
fn argument_check(kind: Family, words: &[Word], step: &mut Step) -> Option<String> {
    let rest = |from: usize| requote(words.get(from..).unwrap_or_default());
    let compare = |a: usize, b: usize| {
        format!(
            "test {} = {}",
            requote(words.get(a..=a).unwrap_or_default()),
            requote(words.get(b..=b).unwrap_or_default())
        )
    };
    Some(match kind {
        Family::ArgsSucceed => rest(1),
        Family::ArgsFail => {
            step.status = Some("failure".to_owned());
            rest(1)
        }
        Family::ArgsContain => {
            step.status = Some("any".to_owned());
            step.stdout_contains = text_arg(words, 1);
            rest(2)
        }
        Family::ArgsExit => {
            step.status = Some(words.get(1).map_or("0".to_owned(), Word::eval_text));
            rest(2)
        }
        Family::Expect => {
            let matcher = words.get(2).map(Word::eval_text).unwrap_or_default();
            if !matches!(matcher.as_str(), "to_be" | "to_equal" | "to_eq") {
                return None;
            }
            compare(1, 3)
        }
        Family::ValuesEqual => compare(1, 2),
        Family::RunForOutput => {
            step.status = Some("any".to_owned());
            rest(1)
        }
        Family::Failure => {
            let message: Vec<String> = words[1..].iter().map(Word::eval_text).collect();
            format!("echo {} >&2; exit 1", shell_quote(&message.join(" ")))
        }
        _ => return None,
    })
}

/// `$(mktemp …)` or `` `mktemp …` ``.
fn is_mktemp(raw: &str) -> bool {
    raw.starts_with("$(mktemp") || raw.starts_with("`mktemp")
}

/// Whether a function body runs `exit` (a failure there ends the script).
fn calls_exit(body: &str) -> bool {
    super::calls(body, "exit")
}

/// `$1`, `"${2}"`, `${1:-default}`: the argument's index and default.
fn positional(raw: &str) -> Option<(usize, Option<&str>)> {
    let inner = raw
        .strip_prefix("${")
        .and_then(|r| r.strip_suffix('}'))
        .or_else(|| raw.strip_prefix('$'))?;
    let (index, default) = match inner.split_once(":-").or_else(|| inner.split_once('-')) {
        Some((i, d)) => (i, Some(d)),
        None => (inner, None),
    };
    let index: usize = index.parse().ok().filter(|i| (1..=9).contains(i))?;
    Some((index, default))
}

/// Words written back as shell words: literal parts single-quoted, expandable ones
/// double-quoted (so `$X` still expands, as one word).
pub(crate) fn requote(words: &[Word]) -> String {
    words
        .iter()
        .map(|word| {
            word.parts
                .iter()
                .map(|part| match part {
                    Part::Literal(text) => shell_quote(text),
                    Part::Expandable(text) if is_bare(text) => text.clone(),
                    Part::Expandable(text) => format!("\"{}\"", escape_for_double_quotes(text)),
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn is_bare(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
}

/// Expandable text for the inside of double quotes: `"` and `\` escaped, except inside a
/// command substitution, which bash reads afresh.
fn escape_for_double_quotes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut depth = 0usize;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '$' if chars.peek() == Some(&'(') => {
                depth += 1;
                out.push('$');
                out.push(chars.next().expect("peeked"));
            }
            '(' if depth > 0 => {
                depth += 1;
                out.push(c);
            }
            ')' if depth > 0 => {
                depth -= 1;
                out.push(c);
            }
            '"' | '\\' if depth == 0 => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positional_arguments_and_their_defaults() {
        assert_eq!(positional("$1"), Some((1, None)));
        // The program under test as an argument, the one on PATH by default.
        assert_eq!(positional("${2:-sqlite3}"), Some((2, Some("sqlite3"))));
        assert_eq!(positional("${1-git}"), Some((1, Some("git"))));
        assert_eq!(positional("$HOME"), None);
        assert_eq!(positional("$0"), None);
    }

    #[test]
    fn words_are_quoted_back_for_bash() {
        assert_eq!(
            escape_for_double_quotes(r#"say "hi" $(printf "%s" "x") \ "#),
            r#"say \"hi\" $(printf "%s" "x") \\ "#
        );
    }
}
