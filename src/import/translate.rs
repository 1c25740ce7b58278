//! Statements ──► a suite draft: helpers become steps with checks, sections and notes come
//! from `log` lines, assignments become `env`, `unset`/`export` around steps become
//! `env_remove`/`env`, piped or here-string answers become `stdin`, and the rest is kept as
//! `sh` steps holding the original lines.

mod generic;

pub(crate) use generic::requote;

use super::draft::{Draft, Item, Step};
use super::emit;
use super::helpers::{self, Helper};
use super::library::{Family, Library, family};
use super::script::{Kind, Statement, statements};
use super::status_read;
use super::words::{
    OUTER, Part, Token, Word, eval_text_to_run, is_name, protect, quote_arg, tokenize,
};
use crate::mask::looks_secret;

/// The result of an import: the suite file's text, and what the reader should look at.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The suite, as TOML.
    pub toml: String,
    /// Lines kept as shell (or dropped) with a reason, in script order.
    pub warnings: Vec<Warning>,
    /// How many steps the suite has.
    pub steps: usize,
}

/// A line the import could not translate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// Line in the script, from 1.
    pub line: usize,
    /// What happened to it.
    pub message: String,
}

/// A script function: its text (for kept shell lines) and body (for inlining).
#[derive(Debug, Clone)]
struct Function {
    name: String,
    /// The line of its definition.
    line: usize,
    text: String,
    body: String,
    body_line: usize,
    /// The library it comes from, as steps source it (`None`: the script's own).
    library: Option<String>,
}

/// What the caller knows about the script beyond its text.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// The script's arguments (`smoke-runner import SCRIPT -- ARGS`): `$1`…
    pub args: Vec<String>,
    /// The libraries the script sources, read by the caller: as written in the script, and
    /// what was read.
    pub libraries: Vec<(String, Library)>,
    /// The script's folder, as steps started in `workdir` reach it (`$(dirname "$0")`).
    pub script_dir: String,
    /// The suite's `workdir`: the folder the import was run from, relative to the suite file.
    pub workdir: Option<String>,
}

/// Whether a script is written for `test_utils.sh` and the Plandex command (the import's
/// first vocabulary) rather than with helpers of its own.
fn is_plandex_script(source: &str) -> bool {
    source.contains("test_utils.sh") || source.to_ascii_lowercase().contains("plandex")
}

/// Translates a bash test script. `script_name` is the file's name, for the suite's default
/// name and for messages.
pub fn import_script(source: &str, script_name: &str, options: &ImportOptions) -> Imported {
    if super::bats::is_bats(source) {
        return super::bats::import_bats(source, script_name, options);
    }
    let stem = script_name
        .rsplit('/')
        .next()
        .unwrap_or(script_name)
        .trim_end_matches(".sh");
    let mut translator = Translator {
        draft: Draft {
            name: stem.to_owned(),
            script_name: script_name.to_owned(),
            ..Draft::default()
        },
        // The usual shell aliases of `plandex` and `plandex-dev`: shell steps get a definition.
        aliases: vec!["pdx".to_owned(), "pdxd".to_owned()],
        generic: !is_plandex_script(source),
        libraries: options.libraries.clone(),
        args: options.args.clone(),
        script_dir: options.script_dir.clone(),
        ..Translator::default()
    };
    let all = statements(source, 1);
    // Functions are known before any call, as bash knows them by the time they are called.
    for statement in &all {
        if let Kind::Function {
            name,
            body,
            body_line,
        } = &statement.kind
        {
            translator.functions.push(Function {
                name: name.clone(),
                line: statement.line,
                text: statement.text.clone(),
                body: body.clone(),
                body_line: *body_line,
                library: None,
            });
        }
    }
    if translator.generic {
        translator.draft.workdir = options.workdir.clone();
        translator.survey(&all);
    }
    translator.statements(&all, 0);
    if translator.generic {
        translator.settle();
    }
    translator.flush_comments();
    for step in std::mem::take(&mut translator.exit_steps) {
        translator.push(step);
    }
    let steps = translator
        .draft
        .items
        .iter()
        .filter(|i| matches!(i, Item::Step(_)))
        .count();
    Imported {
        toml: emit::suite(&translator.draft),
        warnings: translator.warnings,
        steps,
    }
}

/// The script's helpers `import --check` needs to know of when it runs the script.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WatchedHelpers {
    /// The functions that report a failed check whenever they are called (`tap_fail`,
    /// `log_failure`): their calls are watched for.
    pub reporters: Vec<String>,
    /// The `$?` checkers (`check NAME`): a call of one and the command before it are one check.
    pub status_checkers: Vec<String>,
}

/// The helpers of a script written with its own (not a bats file, not a `test_utils.sh` one),
/// read from its functions and the libraries it sources, by the families the translation
/// gives them ([`library::family`](super::library)): each name as bash last defines it at the
/// script's top level. It does not translate the script.
pub fn watched_helpers(source: &str, options: &ImportOptions) -> WatchedHelpers {
    if super::bats::is_bats(source) || is_plandex_script(source) {
        return WatchedHelpers::default();
    }
    let sourced = super::sources::sourced(source);
    let mut families: Vec<(String, Option<Family>)> = Vec::new();
    let mut define = |statement: &Statement| {
        if let Kind::Function { name, body, .. } = &statement.kind {
            families.retain(|(n, _)| n != name);
            families.push((name.clone(), family(name, body)));
        }
    };
    for statement in statements(source, 1) {
        define(&statement);
        let library = (sourced.iter())
            .find(|s| s.line == statement.line)
            .filter(|s| !is_shunit2(&s.written) && !s.written.ends_with("test_utils.sh"))
            .and_then(|s| options.libraries.iter().find(|(w, _)| *w == s.written));
        let texts = library.map(|(_, l)| l.included.iter().chain([&l.text]));
        for text in texts.into_iter().flatten() {
            statements(text, 1).iter().for_each(&mut define);
        }
    }
    let named = |wanted: Family| {
        (families.iter())
            .filter(|(_, kind)| *kind == Some(wanted))
            .map(|(name, _)| name.clone())
            .collect()
    };
    WatchedHelpers {
        reporters: named(Family::Failure),
        status_checkers: named(Family::StatusChecker),
    }
}

/// `. shunit2`: shUnit2 itself, which runs the script's tests rather than lending helpers.
fn is_shunit2(written: &str) -> bool {
    written == "shunit2" || written.ends_with("/shunit2")
}

#[derive(Debug, Default)]
struct Translator {
    draft: Draft,
    warnings: Vec<Warning>,
    functions: Vec<Function>,
    /// Names that stand for the Plandex command (`alias pdxd=…`).
    aliases: Vec<String>,
    /// Other aliases: name and value, kept as functions for shell lines.
    other_aliases: Vec<(String, String)>,
    section: Option<String>,
    /// Script comments waiting for the next step.
    comments: Vec<String>,
    /// Variables set for the steps from here on (`export X=…` after the first step).
    overlay: Vec<(String, String)>,
    /// Variables removed for the steps from here on (`unset X`).
    removed: Vec<String>,
    /// `PREV=$VAR`: PREV saves VAR, so `export VAR=$PREV` restores it.
    saved: Vec<(String, String)>,
    any_step: bool,
    /// The last `shell_text` added definitions before the line.
    prelude: bool,
    /// A script with its own helpers (not `test_utils.sh`): see `generic.rs`.
    generic: bool,
    /// The script runs with `set -e`: every command is a check.
    errexit: bool,
    /// Check helpers of the script and its libraries, by name.
    families: Vec<(String, Family)>,
    libraries: Vec<(String, Library)>,
    args: Vec<String>,
    script_dir: String,
    /// Arrays the script set (`NAME=(…)`): name and the assignment, the latest last.
    arrays: Vec<(String, String)>,
    /// `begin_test NAME`: the name of the block that follows.
    pending_test: Option<String>,
    /// Where steps start after a `cd` (a template, relative to the suite's workdir).
    cwd: Option<String>,
    dir_stack: Vec<Option<String>>,
    /// `trap … EXIT` commands, as `always` steps at the end.
    exit_steps: Vec<Step>,
    /// The open `describe`s (their texts) and what each open block is (`true`: a describe).
    contexts: Vec<String>,
    spec_open: Vec<bool>,
}

/// How deep function calls are inlined.
const MAX_INLINE_DEPTH: usize = 8;

impl Translator {
    fn statements(&mut self, list: &[Statement], depth: usize) {
        let mut next = 0;
        for (index, statement) in list.iter().enumerate() {
            if index < next {
                continue;
            }
            if let Some(last) = self.status_readers(list, index) {
                // `cmd` then `if [ "$?" == 1 ]; then …`: one check, judged by the reader (the
                // lines between, blank or comments, kept as written).
                let text: Vec<&str> = list[index..=last].iter().map(|s| s.text.as_str()).collect();
                self.shell_step(
                    list[last].line,
                    &text.join("\n"),
                    None,
                    &format!("line {}, whose `$?` this reads", statement.line),
                );
                next = last + 1;
                continue;
            }
            match &statement.kind {
                Kind::Blank => self.flush_comments(),
                Kind::Comment(text) => {
                    if statement.line == 1 && statement.text.starts_with("#!") {
                        continue;
                    }
                    self.comments.push(text.clone());
                }
                Kind::Function { name, .. } => {
                    self.comment(format!(
                        "line {}: function `{name}`, defined here for the steps that call it",
                        statement.line
                    ));
                }
                Kind::Block => {
                    self.shell_step(statement.line, &statement.text, None, "a shell block");
                }
                Kind::HereDoc if self.generic && self.heredoc_check(statement) => {}
                Kind::HereDoc => {
                    self.shell_step(statement.line, &statement.text, None, "a here-document");
                }
                Kind::Simple => self.simple(statement, depth),
            }
        }
    }

    /// `NAME=(a "b c")`: an array, defined again in every `sh` step that uses it (a step of
    /// its own would lose it with its shell).
    fn array(&mut self, statement: &Statement) -> bool {
        let text = statement.text.trim();
        let Some((name, rest)) = text.split_once("=(") else {
            return false;
        };
        if !is_name(name) || !rest.ends_with(')') || text.contains('\n') || rest.contains("$(") {
            return false;
        }
        self.arrays.retain(|(n, _)| n != name);
        self.arrays.push((name.to_owned(), text.to_owned()));
        self.comment(format!(
            "line {}: `{}`: the array is defined in the steps that use it",
            statement.line,
            shorten(text)
        ));
        true
    }

    /// The last of the statements that read, one after the other, the status `list[command]`
    /// leaves ([`status_read::reader_of`]), when the translation makes them one step with it.
    /// A reader that keeps the status (`status=$?`) or hands it to a helper (`pass_check $?
    /// NAME`) is translated on its own; a command that changes what later steps see (`cd`,
    /// `export`, an assignment) keeps that effect as its own line, and a warning says that
    /// the check reading its status cannot fail in the suite.
    fn status_readers(&mut self, list: &[Statement], command: usize) -> Option<usize> {
        let checkers: Vec<String> = (self.families.iter())
            .filter(|(_, kind)| *kind == Family::StatusChecker)
            .map(|(name, _)| name.clone())
            .collect();
        let mut last = None;
        let mut at = command;
        while let Some(reader) = status_read::reader_of(list, at, &checkers) {
            if !self.generic || !self.judges_alone(&list[reader]) {
                break;
            }
            if let Some(effect) = lasting_effect(&list[at]) {
                let message = format!(
                    "`{}` reads the status of line {} (`{effect}`), which the suite keeps as state for the steps after it, not as a step: this check cannot fail in the suite",
                    shorten(list[reader].text.trim().lines().next().unwrap_or_default()),
                    list[at].line
                );
                self.warn(list[reader].line, message);
                break;
            }
            last = Some(reader);
            at = reader;
        }
        last
    }

    /// Whether a statement reading `$?` is a check of its own: not an assignment keeping the
    /// status, nor a call of a helper or script function handed it.
    fn judges_alone(&self, reader: &Statement) -> bool {
        let head = reader.text.split_whitespace().next().unwrap_or_default();
        let assignment = head.split_once('=').is_some_and(|(name, _)| is_name(name));
        let helper =
            self.family_of(head).is_some() || self.functions.iter().any(|f| f.name == head);
        !assignment && !helper
    }

    fn flush_comments(&mut self) {
        for comment in std::mem::take(&mut self.comments) {
            self.draft.items.push(Item::Comment(comment));
        }
    }

    fn comment(&mut self, text: String) {
        self.flush_comments();
        self.draft.items.push(Item::Comment(text));
    }

    fn warn(&mut self, line: usize, message: String) {
        self.warnings.push(Warning { line, message });
    }

    /// A new step at `line` with the pending comments, the section and the env overlay.
    fn step(&mut self) -> Step {
        Step {
            comments: std::mem::take(&mut self.comments),
            section: self.section.clone(),
            env: self.overlay.clone(),
            env_remove: self.removed.clone(),
            workdir: self.cwd.clone(),
            ..Step::default()
        }
    }

    fn push(&mut self, mut step: Step) {
        // A shell step with definitions before its line is named after its own first line.
        if step.name.is_none()
            && let Some(line) = step.origin.take()
        {
            step.name = Some(shorten(&line));
        }
        if self.generic {
            self.generic_step(&mut step);
        }
        self.any_step = true;
        self.draft.items.push(Item::Step(Box::new(step)));
    }

    /// Lines kept as an `sh` step: with the script functions, aliases and helpers they call.
    /// `untranslated` is `Some(reason)` when the lines could not be translated.
    fn shell_step(&mut self, line: usize, text: &str, untranslated: Option<&str>, what: &str) {
        let mut step = self.step();
        step.sh = Some(self.shell_text(text));
        let first = text.lines().next().unwrap_or_default().trim().to_owned();
        match untranslated {
            Some(reason) => {
                step.comments.push(format!(
                    "line {line}: not translated ({reason}): kept as shell"
                ));
                self.warn(line, format!("{reason}: kept as an sh step: {first}"));
            }
            None => step
                .comments
                .push(format!("line {line}: {what}, kept as shell")),
        }
        if text.lines().count() > 1 {
            step.name = Some(format!("{} (line {line})", shorten(&first)));
        }
        self.push(step);
    }

    /// The first line of `text` when the last `shell_text` put definitions before it.
    fn origin(&self, text: &str) -> Option<String> {
        self.prelude.then(|| {
            strip_forms(text)
                .lines()
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned()
        })
    }

    /// The text of an `sh` step: definitions of what it calls, then the lines, as a template.
    fn shell_text(&mut self, text: &str) -> String {
        if mentions_plandex(text, &self.aliases) {
            self.draft.uses_plandex = true;
        }
        let mut needed: Vec<String> = Vec::new();
        let mut queue = vec![text.to_owned()];
        while let Some(body) = queue.pop() {
            for function in &self.functions {
                if !needed.contains(&function.name) && calls(&body, &function.name) {
                    needed.push(function.name.clone());
                    queue.push(function.text.clone());
                }
            }
            for alias in &self.aliases {
                if !needed.contains(alias) && calls(&body, alias) {
                    needed.push(alias.clone());
                }
            }
            for (alias, value) in &self.other_aliases {
                if !needed.contains(alias) && calls(&body, alias) {
                    needed.push(alias.clone());
                    queue.push(value.clone());
                }
            }
            for name in helpers::names().filter(|_| !self.generic) {
                let defined = self.functions.iter().any(|f| f.name == name);
                if !defined && !needed.iter().any(|n| n == name) && calls(&body, name) {
                    needed.push(name.to_owned());
                    let (text, uses) = helpers::definition(name).expect("known helper");
                    queue.push(text.to_owned());
                    for used in uses {
                        queue.push((*used).to_owned());
                    }
                }
            }
        }
        let mut out = String::new();
        for name in needed.iter().rev() {
            if let Some(function) = self.functions.iter().find(|f| &f.name == name) {
                if function.library.is_some() {
                    continue;
                }
                out.push_str(&function.text);
            } else if self.aliases.contains(name) {
                self.draft.uses_plandex = true;
                out.push_str(&format!("{name}() {{ $PLANDEX_CMD \"$@\"; }}"));
            } else if let Some((_, value)) = self.other_aliases.iter().find(|(n, _)| n == name) {
                out.push_str(&format!("{name}() {{ {value} \"$@\"; }}"));
            } else if let Some((definition, _)) = helpers::definition(name) {
                if definition.contains("PLANDEX_CMD") {
                    self.draft.uses_plandex = true;
                }
                out.push_str(definition);
            }
            out.push('\n');
        }
        if self.generic {
            let (sources, overrides) = self.library_prelude(&format!("{out}\n{text}"));
            out = format!("{sources}{out}{overrides}");
            for (name, assignment) in &self.arrays {
                if uses_array(text, name) {
                    out.push_str(assignment);
                    out.push('\n');
                }
            }
        }
        self.prelude = !out.is_empty();
        out.push_str(text.trim_end());
        protect(&out)
    }

    fn simple(&mut self, statement: &Statement, depth: usize) {
        let line = statement.line;
        if self.generic && self.array(statement) {
            return;
        }
        let (mut tokens, trailing) = match tokenize(&statement.text) {
            Ok(parsed) => parsed,
            Err(reason) => {
                self.shell_step(line, &statement.text, Some(&reason.0), "");
                return;
            }
        };
        if let Some(comment) = trailing {
            self.comments.push(comment);
        }
        if self.generic && self.guarded_check(&tokens, statement) {
            return;
        }
        let mut status_any = false;
        let mut stdin = None;
        // `… || true`
        if let [.., Token::Op(op), Token::Word(last)] = &tokens[..]
            && op == "||"
            && matches!(last.plain().as_deref(), Some("true" | ":"))
        {
            tokens.truncate(tokens.len() - 2);
            status_any = true;
        }
        // `echo y | …`, `printf 'y\n' | …`
        if let [Token::Word(first), Token::Word(answer), Token::Op(op), ..] = &tokens[..]
            && op == "|"
            && matches!(first.plain().as_deref(), Some("echo" | "printf"))
            && let Ok(text) = answer.template()
        {
            let text = if first.plain().as_deref() == Some("echo") {
                format!("{text}\n")
            } else {
                text.replace("\\n", "\n")
            };
            stdin = Some(text);
            tokens.drain(..3);
        }
        // `… <<< y`
        if let [.., Token::Op(op), Token::Word(answer)] = &tokens[..]
            && op == "<<<"
            && let Ok(text) = answer.template()
        {
            stdin = Some(format!("{text}\n"));
            tokens.truncate(tokens.len() - 2);
        }
        let words: Option<Vec<Word>> = tokens
            .iter()
            .map(|t| match t {
                Token::Word(w) => Some(w.clone()),
                Token::Op(_) => None,
            })
            .collect();
        let Some(words) = words.filter(|w| !w.is_empty()) else {
            // A pipeline, list or redirection: bash runs it as written.
            let mut step = self.step();
            step.sh = Some(self.shell_text(&statement.text));
            step.origin = self.origin(&statement.text);
            step.comments.push(format!("line {line}"));
            self.push(step);
            return;
        };
        let form = Form {
            line,
            text: &statement.text,
            stdin,
            status_any,
        };
        self.command(&words, form, depth);
    }

    /// One command line: assignments and builtins change the state; helpers, checks and the
    /// Plandex command become steps; function calls are inlined; the rest stays shell.
    fn command(&mut self, words: &[Word], form: Form<'_>, depth: usize) {
        if self.assignments(words, &form) || self.builtin(words, &form) {
            return;
        }
        let head = words[0].plain().unwrap_or_default();
        if self.generic
            && let Some(kind) = self.family_of(&head)
        {
            self.family_call(kind, words, form);
            return;
        }
        if self.generic
            && self.functions.iter().any(|f| f.name == head)
            && self.status_argument(words, &form)
        {
            return;
        }
        if let Some(helper) = Helper::from_name(&head)
            && !self.functions.iter().any(|f| f.name == head)
        {
            self.helper(helper, words, form);
            return;
        }
        if is_plandex_command(&words[0].eval_text(), &self.aliases) {
            self.plandex_run(words, form);
            return;
        }
        if self.inline_function(&head, &form, depth)
            || self.secret_echo(&head, words, &form)
            || self.echo_note(&head, words, &form)
        {
            return;
        }
        // Any other command: bash runs it as written.
        let mut step = self.step();
        step.sh = Some(self.shell_text(strip_forms(form.text)));
        step.origin = self.origin(form.text);
        step.comments.push(format!("line {}", form.line));
        self.finish(step, form);
    }

    /// `X=…`, `local X=…`: returns whether the line was assignments only.
    fn assignments(&mut self, words: &[Word], form: &Form<'_>) -> bool {
        let head = words[0].plain().unwrap_or_default();
        let values: Vec<&Word> = if words.iter().all(|w| w.assignment().is_some()) {
            words.iter().collect()
        } else if matches!(head.as_str(), "local" | "declare" | "readonly") {
            words[1..].iter().collect()
        } else {
            return false;
        };
        for word in values {
            if let Some((name, value)) = word.assignment() {
                self.assign(form.line, &name, &value, form.text);
            }
        }
        true
    }

    /// Shell builtins that change what later steps see; returns whether `words` was one.
    fn builtin(&mut self, words: &[Word], form: &Form<'_>) -> bool {
        let line = form.line;
        let text = form.text.trim();
        match words[0].plain().unwrap_or_default().as_str() {
            "export" => self.export(words, form),
            "unset" => self.unset(words, form),
            "alias" => self.alias(words, line),
            "source" | "." => self.source(words, form),
            "set" => self.comment(format!(
                "line {line}: `{text}` dropped: {}",
                if self.generic {
                    "the suite's `shell` has the script's options"
                } else {
                    "each step must pass, and sh steps run with bash -eo pipefail"
                }
            )),
            "trap" if self.generic && self.exit_trap(words, line, form.text) => {}
            "trap" => self.comment(format!(
                "line {line}: `{text}` dropped: smoke-runner removes the test dir itself"
            )),
            "exit"
                if words.len() <= 2
                    && (self.generic
                        || words.get(1).and_then(Word::plain).is_none_or(|c| c == "0")) =>
            {
                self.comment(format!(
                    "line {line}: `{text}` dropped: the run ends after the last step, its verdict is the steps'"
                ));
            }
            ":" if self.generic && self.default_value(words, form) => {}
            "cd" | "pushd" | "popd" if self.generic => self.change_dir(words, line, form.text),
            "cd" => self.shell_step(
                line,
                form.text,
                Some("`cd` only lasts for its own step; every step starts in the test dir"),
                "",
            ),
            _ => return false,
        }
        true
    }

    /// `: "${NAME:=VALUE}"`: NAME is VALUE unless the environment sets it. Returns whether
    /// `words` was that.
    fn default_value(&mut self, words: &[Word], form: &Form<'_>) -> bool {
        let [_, word] = words else {
            return false;
        };
        let text = word.eval_text();
        let Some((name, value)) = (text.strip_prefix("${"))
            .and_then(|t| t.strip_suffix('}'))
            .and_then(|t| t.split_once(":=").or_else(|| t.split_once('=')))
        else {
            return false;
        };
        if !is_name(name) || value.contains(['$', '`', '}']) {
            return false;
        }
        let default = Word {
            parts: vec![Part::Expandable(format!("${{{name}:-{value}}}"))],
        };
        self.assign(form.line, name, &default, form.text);
        true
    }

    fn export(&mut self, words: &[Word], form: &Form<'_>) {
        for word in &words[1..] {
            match word.assignment() {
                Some((name, value)) => self.assign(form.line, &name, &value, form.text),
                None => self.comment(format!(
                    "line {}: `export {}` needs nothing: steps inherit the environment",
                    form.line,
                    word.eval_text()
                )),
            }
        }
    }

    fn unset(&mut self, words: &[Word], form: &Form<'_>) {
        for word in &words[1..] {
            let name = word.eval_text();
            if is_name(&name) {
                self.overlay.retain(|(n, _)| n != &name);
                if !self.removed.contains(&name) {
                    self.removed.push(name);
                }
            }
        }
        self.comment(format!(
            "line {}: `{}`: env_remove on the steps that follow",
            form.line,
            form.text.trim()
        ));
    }

    fn alias(&mut self, words: &[Word], line: usize) {
        for word in &words[1..] {
            let text = word.eval_text();
            let Some((name, value)) = text.split_once('=') else {
                continue;
            };
            if is_plandex_command(value.split_whitespace().next().unwrap_or(""), &[]) {
                self.aliases.push(name.to_owned());
                self.draft.uses_plandex = true;
                self.comment(format!(
                    "line {line}: `{name}` is an alias of the Plandex command"
                ));
            } else {
                self.other_aliases.push((name.to_owned(), value.to_owned()));
                self.comment(format!(
                    "line {line}: alias `{name}` is kept for the shell steps that use it"
                ));
            }
        }
    }

    fn source(&mut self, words: &[Word], form: &Form<'_>) {
        let line = form.line;
        let written = words.get(1).map(Word::eval_text).unwrap_or_default();
        if self.generic && is_shunit2(&written) {
            self.shunit2_tests(line, &written, form.text);
            return;
        }
        if self.generic && !written.ends_with("test_utils.sh") {
            self.source_library(line, &written, form.text);
            return;
        }
        if written.ends_with("test_utils.sh")
            && !self.draft.env.iter().any(|(n, _, _)| n == "PLANDEX_ENV")
        {
            // test_utils.sh exports it for every command of the script.
            self.draft
                .env
                .push(("PLANDEX_ENV".to_owned(), "development".to_owned(), line));
        }
        self.comment(format!(
            "line {line}: `{}` dropped: smoke-runner provides the helpers and loads the env file (PLANDEX_ENV_FILE)",
            form.text.trim()
        ));
    }

    /// `$PLANDEX_CMD ARGS…`, `pdxd ARGS…`: a `run` step.
    fn plandex_run(&mut self, words: &[Word], form: Form<'_>) {
        self.draft.uses_plandex = true;
        let args: Result<Vec<String>, _> = words[1..].iter().map(Word::template).collect();
        match args {
            Ok(args) => {
                let mut step = self.step();
                step.run = Some(join_args(&args));
                self.finish(step, form);
            }
            Err(reason) => self.shell_step(form.line, form.text, Some(&reason.0), ""),
        }
    }

    /// A call to a script function written with helpers or checks (`setup`, `main`): its
    /// lines become steps. Returns whether the call was inlined.
    fn inline_function(&mut self, head: &str, form: &Form<'_>, depth: usize) -> bool {
        let Some(function) = self.functions.iter().find(|f| f.name == head).cloned() else {
            return false;
        };
        let with_steps = uses_helpers(&function.body)
            || (self.generic && function.library.is_none() && self.holds_check(&function.body));
        if depth >= MAX_INLINE_DEPTH
            || !with_steps
            || uses_positional(&function.body)
            || form.stdin.is_some()
            || form.status_any
        {
            return false;
        }
        self.comment(format!(
            "line {}: `{}`: the steps of function `{}` (line {})",
            form.line,
            form.text.trim(),
            function.name,
            function.body_line
        ));
        let inner = statements(&dedent(&function.body), function.body_line);
        let section = self.section.clone();
        if function.name == "setup" && self.section.is_none() {
            self.section = Some("Setup".to_owned());
        }
        self.statements(&inner, depth + 1);
        if function.name == "setup" && section.is_none() {
            self.section = section;
        }
        true
    }

    /// `echo "KEY: $OPENROUTER_API_KEY"`: the check stays, the secret is not printed.
    fn secret_echo(&mut self, head: &str, words: &[Word], form: &Form<'_>) -> bool {
        if !matches!(head, "echo" | "printf") {
            return false;
        }
        let Some(secret) = words[1..]
            .iter()
            .flat_map(|w| referenced_names(&w.eval_text()))
            .find(|n| looks_secret(n))
        else {
            return false;
        };
        let line = form.line;
        let mut step = self.step();
        step.name = Some(format!("{secret} is set"));
        step.sh = Some(format!("test -n \"$${{{secret}:-}}\""));
        step.comments.push(format!(
            "line {line}: `{}` would print a secret: checks that it is set instead",
            form.text.trim()
        ));
        self.warn(
            line,
            format!("prints the secret {secret}: replaced by a check that it is set"),
        );
        self.finish(step, form.clone());
        true
    }

    /// `echo "Creating plans..."`: a line in the report, which a note is.
    fn echo_note(&mut self, head: &str, words: &[Word], form: &Form<'_>) -> bool {
        if head != "echo" || form.status_any || form.stdin.is_some() {
            return false;
        }
        let Ok(parts) = words[1..]
            .iter()
            .filter(|w| !matches!(w.plain().as_deref(), Some("-e" | "-n" | "-en" | "-ne")))
            .map(Word::template)
            .collect::<Result<Vec<_>, _>>()
        else {
            return false;
        };
        if parts.is_empty() {
            return false;
        }
        let mut comments = std::mem::take(&mut self.comments);
        comments.push(format!("line {}: echo", form.line));
        self.draft.items.push(Item::Note {
            section: self.section.clone(),
            text: parts.join(" "),
            comments,
        });
        true
    }

    /// Adds the stdin / status the line's form gave, and pushes the step.
    fn finish(&mut self, mut step: Step, form: Form<'_>) {
        if !step.comments.iter().any(|c| c.starts_with("line ")) {
            step.comments.push(format!("line {}", form.line));
        }
        if form.stdin.is_some() {
            step.stdin = form.stdin;
        }
        if form.status_any {
            step.status = Some("any".to_owned());
        }
        self.push(step);
    }

    fn assign(&mut self, line: usize, name: &str, value: &Word, text: &str) {
        if self.generic && self.known_value(line, name, value, text) {
            return;
        }
        if matches!(name, "PLANDEX_CMD" | "PLANDEX_TIMEOUT" | "PLANDEX_ENV_FILE") {
            self.comment(format!(
                "line {line}: `{}` dropped: smoke-runner reads {name} itself (see README, Settings)",
                text.trim()
            ));
            if name == "PLANDEX_CMD" {
                self.draft.uses_plandex = true;
            }
            return;
        }
        let raw = value.eval_text();
        // `X=$(…)`: the command's output, captured.
        if let Some(inner) = raw.strip_prefix("$(").and_then(|r| r.strip_suffix(')'))
            && value.parts.len() == 1
        {
            self.capture(line, name, inner.trim(), text);
            return;
        }
        // `PREV=$VAR`: remembered, so that `export VAR=$PREV` means "restore VAR".
        let reference = raw
            .strip_prefix("${")
            .and_then(|r| r.strip_suffix('}'))
            .or_else(|| raw.strip_prefix('$'));
        if let Some(saved) = reference.filter(|r| is_name(r)) {
            if !self.saved.iter().any(|(n, _)| n == saved) {
                // Taking a copy of a variable: the steps keep the original anyway.
                self.saved.push((name.to_owned(), saved.to_owned()));
                self.comment(format!(
                    "line {line}: `{}`: {name} saves {saved}, restored by `export {saved}=${name}`",
                    text.trim()
                ));
                return;
            }
            {
                let original = self
                    .saved
                    .iter()
                    .find(|(n, _)| n == saved)
                    .map(|(_, o)| o.clone())
                    .expect("found");
                if original == name {
                    self.overlay.retain(|(n, _)| n != name);
                    self.removed.retain(|n| n != name);
                    self.comment(format!(
                        "line {line}: `{}`: {name} is back to its value for the steps that follow",
                        text.trim()
                    ));
                    return;
                }
            }
        }
        let template = match value.template() {
            Ok(template) => template,
            Err(reason) => {
                self.shell_step(line, text, Some(&reason.0), "");
                return;
            }
        };
        self.removed.retain(|n| n != name);
        if self.any_step {
            self.overlay.retain(|(n, _)| n != name);
            self.overlay.push((name.to_owned(), template));
            self.comment(format!(
                "line {line}: `{}`: env on the steps that follow",
                text.trim()
            ));
        } else {
            self.draft.env.retain(|(n, _, _)| n != name);
            self.draft.env.push((name.to_owned(), template, line));
        }
    }

    /// `NAME=$(CMD)`: a step whose trimmed output becomes `${NAME}`.
    fn capture(&mut self, line: usize, name: &str, inner: &str, text: &str) {
        let mut step = self.step();
        step.capture = Some(name.to_owned());
        step.name = Some(format!("Capture {name}"));
        let (tokens, _) = tokenize(inner).unwrap_or_default();
        let words: Vec<Word> = tokens
            .iter()
            .map_while(|t| match t {
                Token::Word(w) => Some(w.clone()),
                Token::Op(_) => None,
            })
            .collect();
        let only_words = words.len() == tokens.len() && !words.is_empty();
        let head = words.first().and_then(Word::plain).unwrap_or_default();
        if only_words
            && head == "run_plandex_cmd_output"
            && words.len() >= 2
            && let Ok(run) = eval_text_to_run(&words[1].eval_text_marked())
        {
            self.draft.uses_plandex = true;
            step.run = Some(run);
            step.comments
                .push(format!("line {line}: run_plandex_cmd_output, captured"));
            self.push(step);
            return;
        }
        if only_words && is_plandex_command(&words[0].eval_text(), &self.aliases) {
            let args: Result<Vec<String>, _> = words[1..].iter().map(Word::template).collect();
            if let Ok(args) = args {
                self.draft.uses_plandex = true;
                step.run = Some(join_args(&args));
                step.comments.push(format!("line {line}: output captured"));
                self.push(step);
                return;
            }
        }
        // `$(… | grep -c …)` and the like: bash runs the inner command.
        step.sh = Some(self.shell_text(inner));
        step.comments
            .push(format!("line {line}: `{}`, output captured", text.trim()));
        self.push(step);
    }

    fn helper(&mut self, helper: Helper, words: &[Word], form: Form<'_>) {
        let line = form.line;
        let arg = |i: usize| words.get(i);
        let text_arg = |i: usize| arg(i).map(|w| w.template().unwrap_or_else(|_| w.eval_text()));
        match helper {
            Helper::Log | Helper::Info | Helper::Success | Helper::Warn => self.note(words, line),
            Helper::Error => {
                let message = words[1..]
                    .iter()
                    .map(Word::eval_text)
                    .collect::<Vec<_>>()
                    .join(" ");
                let mut step = self.step();
                step.name = Some(if message.is_empty() {
                    "error".to_owned()
                } else {
                    message.clone()
                });
                step.sh = Some(protect(&format!(
                    "echo {} >&2; exit 1",
                    shell_quote(&message)
                )));
                step.comments
                    .push(format!("line {line}: `error` always fails the run"));
                self.push(step);
            }
            Helper::SetupTestDir => {
                if let Some(name) = arg(1)
                    .and_then(Word::plain)
                    .filter(|n| !n.trim().is_empty())
                {
                    self.draft.name = name;
                }
                self.comment(format!(
                    "line {line}: `{}`: the suite's name; smoke-runner makes a fresh test dir",
                    form.text.trim()
                ));
            }
            Helper::CleanupTestDir => self.comment(format!(
                "line {line}: `{}` dropped: smoke-runner removes the test dir itself",
                form.text.trim()
            )),
            Helper::CheckFile => {
                let Some(path) = text_arg(1) else {
                    self.shell_step(line, form.text, Some("check_file without a path"), "");
                    return;
                };
                let mut step = self.step();
                step.name = Some(format!("File {path} exists"));
                step.sh = Some(format!("test -f {}", shell_quote_template(&path)));
                step.comments
                    .push(format!("line {line}: check_file (a regular file)"));
                self.finish(step, form);
            }
            Helper::RunCmd
            | Helper::ExpectFailure
            | Helper::RunCmdWithTimeout
            | Helper::RunPlandexCmd
            | Helper::ExpectPlandexFailure
            | Helper::RunPlandexCmdWithTimeout
            | Helper::CheckPlandexContains
            | Helper::RunPlandexCmdOutput => self.command_helper(helper, words, form),
        }
    }

    /// `log`, `info`, `success`, `warn`: a note in the suite, or the start of a section when
    /// the message reads as a heading.
    fn note(&mut self, words: &[Word], line: usize) {
        let text: Vec<String> = words[1..]
            .iter()
            .map(|w| w.template().unwrap_or_else(|_| protect(&w.eval_text())))
            .collect();
        let text = text.join(" ");
        if let Some(section) = section_heading(&text) {
            self.comment(format!("line {line}: section \"{section}\" starts"));
            self.section = Some(section);
            return;
        }
        // echo -e's `\n` around a message is layout.
        let text = text
            .trim_start_matches("\\n")
            .trim_end_matches("\\n")
            .to_owned();
        if text.trim().is_empty() {
            self.comment(format!(
                "line {line}: an empty `{}` dropped",
                words[0].eval_text()
            ));
            return;
        }
        // A note has no environment of its own: values set between steps go in as text.
        let mut text = text;
        for (name, value) in &self.overlay {
            text = text.replace(&format!("${{{name}}}"), value);
        }
        let mut comments = std::mem::take(&mut self.comments);
        comments.push(format!("line {line}"));
        self.draft.items.push(Item::Note {
            section: self.section.clone(),
            text,
            comments,
        });
    }

    /// The helpers that run a command: one step each.
    fn command_helper(&mut self, helper: Helper, words: &[Word], form: Form<'_>) {
        let line = form.line;
        let Some(marked) = words.get(1).map(Word::eval_text_marked) else {
            self.shell_step(
                line,
                form.text,
                Some("a helper call without its command"),
                "",
            );
            return;
        };
        let (description, expected, seconds) = match helper {
            Helper::CheckPlandexContains => (words.get(3), words.get(2), None),
            Helper::RunCmdWithTimeout | Helper::RunPlandexCmdWithTimeout => {
                (words.get(2), None, words.get(3))
            }
            Helper::RunPlandexCmdOutput => (None, None, None),
            _ => (words.get(2), None, None),
        };
        let mut step = self.step();
        step.comments
            .push(format!("line {line}: {}", words[0].eval_text()));
        step.name = description
            .map(|d| d.eval_text())
            .filter(|d| !d.trim().is_empty());
        self.helper_command(helper, &marked, &mut step);
        if !self.helper_expectation(helper, expected, &mut step) {
            self.shell_step(
                line,
                form.text,
                Some("the expected text is not a plain string"),
                "",
            );
            return;
        }
        if let Some(seconds) = seconds {
            self.helper_timeout(line, seconds, &mut step);
        }
        self.finish(step, form);
    }

    /// How a helper's command runs: `run` for the Plandex command (given to a Plandex helper,
    /// or named first), else `sh`.
    fn helper_command(&mut self, helper: Helper, marked: &str, step: &mut Step) {
        let plandex = matches!(
            helper,
            Helper::RunPlandexCmd
                | Helper::ExpectPlandexFailure
                | Helper::RunPlandexCmdWithTimeout
                | Helper::CheckPlandexContains
                | Helper::RunPlandexCmdOutput
        );
        let command = marked.replace(OUTER, "$");
        if plandex {
            self.draft.uses_plandex = true;
            match eval_text_to_run(marked) {
                Ok(run) => step.run = Some(run),
                Err(_) => step.sh = Some(self.shell_text(&format!("$PLANDEX_CMD {command}"))),
            }
            return;
        }
        let via_plandex = command
            .split_whitespace()
            .next()
            .is_some_and(|w| is_plandex_command(w, &self.aliases));
        let rest = marked
            .trim_start()
            .split_once(char::is_whitespace)
            .map_or("", |(_, rest)| rest);
        match eval_text_to_run(rest) {
            Ok(run) if via_plandex => {
                self.draft.uses_plandex = true;
                step.run = Some(run);
            }
            _ => step.sh = Some(self.shell_text(&command)),
        }
    }

    /// What a helper expects of its command: a failure, or a text in its output. `false` when
    /// the expected text cannot be a check (not a plain string).
    fn helper_expectation(&self, helper: Helper, expected: Option<&Word>, step: &mut Step) -> bool {
        match helper {
            Helper::ExpectFailure | Helper::ExpectPlandexFailure => {
                step.status = Some("failure".to_owned());
            }
            Helper::CheckPlandexContains => {
                step.status = Some("any".to_owned());
                match expected.map(Word::template) {
                    Some(Ok(text)) => step.output_contains = Some(text),
                    _ => return false,
                }
            }
            _ => {}
        }
        true
    }

    /// A `*_with_timeout` helper's seconds as the step's `timeout`; a value that is not a
    /// number leaves the default, with a warning.
    fn helper_timeout(&mut self, line: usize, seconds: &Word, step: &mut Step) {
        let text = seconds.eval_text();
        let text = text.trim();
        if text.parse::<f64>().is_ok_and(|s| s > 0.0) {
            step.timeout = Some(text.to_owned());
        } else if !matches!(text, "$PLANDEX_TIMEOUT" | "${PLANDEX_TIMEOUT}") {
            let message =
                format!("timeout `{text}` is not a number: the step uses PLANDEX_TIMEOUT");
            step.comments.push(message.clone());
            self.warn(line, message);
        }
    }
}

/// What a command line adds around its command.
#[derive(Clone)]
struct Form<'a> {
    line: usize,
    text: &'a str,
    stdin: Option<String>,
    status_any: bool,
}

/// `=== Testing X ===` (or `=== X ===` naming a test section) → `X`.
fn section_heading(text: &str) -> Option<String> {
    // `log "\n=== Testing X ==="`: echo -e's escapes around the heading are layout.
    let text = text.replace("\\n", " ").replace("\\t", " ");
    let inner = text.trim().strip_prefix("===")?.strip_suffix("===")?.trim();
    let name = inner.strip_prefix("Testing ")?.trim();
    (!name.is_empty()).then(|| name.to_owned())
}

/// Whether `word` is the Plandex command or an alias of it.
fn is_plandex_command(word: &str, aliases: &[String]) -> bool {
    let word = word.trim_matches('"');
    matches!(
        word,
        "$PLANDEX_CMD" | "${PLANDEX_CMD}" | "plandex" | "plandex-dev" | "pdx" | "pdxd"
    ) || aliases.iter().any(|a| a == word)
}

fn mentions_plandex(text: &str, aliases: &[String]) -> bool {
    text.contains("PLANDEX_CMD") || aliases.iter().any(|a| calls(text, a))
}

/// Variable names referenced with `$NAME` or `${NAME…}` in shell text.
fn referenced_names(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        let after = rest[at + 1..].trim_start_matches('{');
        let name: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if is_name(&name) {
            names.push(name);
        }
        rest = &rest[at + 1..];
    }
    names
}

/// Whether `text` runs `name` as a command: a word where a command starts, outside
/// here-document bodies.
fn calls(text: &str, name: &str) -> bool {
    code_lines(text).iter().any(|line| {
        let bytes = line.as_bytes();
        line.match_indices(name).any(|(at, _)| {
            let after = bytes.get(at + name.len()).copied();
            let before = line[..at].trim_end();
            let last_word = before.rsplit(char::is_whitespace).next().unwrap_or("");
            let starts_command = before.is_empty()
                || before.ends_with([';', '|', '&', '(', '{', '!', '`'])
                || matches!(
                    last_word,
                    "then" | "do" | "else" | "elif" | "if" | "while" | "until"
                );
            starts_command && after.is_none_or(|b| b" \t;|&)}`".contains(&b))
        })
    })
}

/// Whether `text` reads the array `name` (`${name[@]}`, `name[@]` handed to a helper,
/// `${#name[@]}`, `$name`).
fn uses_array(text: &str, name: &str) -> bool {
    [
        format!("${{{name}["),
        format!("${{#{name}["),
        format!("{name}[@]"),
        format!("{name}[*]"),
        format!("${name}"),
    ]
    .iter()
    .any(|form| text.contains(form.as_str()))
}

/// The lines of `text` that are code: here-document bodies left out.
fn code_lines(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut delimiter: Option<String> = None;
    for line in text.lines() {
        if let Some(end) = &delimiter {
            if line.trim() == end {
                delimiter = None;
            }
            continue;
        }
        out.push(line);
        if let Some(at) = line.find("<<")
            && !line[at..].starts_with("<<<")
        {
            let word: String = line[at + 2..]
                .trim_start_matches('-')
                .trim_start()
                .chars()
                .take_while(|c| !c.is_whitespace() && !";|&<>)".contains(*c))
                .filter(|c| !"'\"\\".contains(*c))
                .collect();
            if !word.is_empty() {
                delimiter = Some(word);
            }
        }
    }
    out
}

/// Whether a function body is written with the helpers (so its lines become steps).
fn uses_helpers(body: &str) -> bool {
    statements(body, 1).iter().any(|s| {
        s.kind == Kind::Simple
            && s.text
                .split_whitespace()
                .next()
                .and_then(Helper::from_name)
                .is_some()
    })
}

/// Whether a function body reads its arguments (then it cannot be inlined as steps).
fn uses_positional(body: &str) -> bool {
    ["$1", "$2", "$3", "${1", "${2", "$@", "$*", "$#"]
        .iter()
        .any(|p| body.contains(p))
}

/// Removes the common indentation of a function body.
pub(super) fn dedent(body: &str) -> String {
    let indent = code_lines(body)
        .into_iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    body.lines()
        .map(|l| l.get(indent..).unwrap_or(l.trim_start()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// What a command line changes for the steps after it (`cd DIR`, `export X=…`, `x=$(…)`): the
/// translation keeps that as state, so the line cannot also be one step with the check reading
/// its status. `None` for a line that changes nothing after it, or that stays shell anyway (a
/// list, a pipeline).
fn lasting_effect(statement: &Statement) -> Option<String> {
    if statement.kind != Kind::Simple {
        return None;
    }
    let text = statement.text.trim();
    let (tokens, _) = tokenize(text).ok()?;
    let words: Vec<&Word> = (tokens.iter())
        .map(|t| match t {
            Token::Word(word) => Some(word),
            Token::Op(_) => None,
        })
        .collect::<Option<_>>()?;
    let head = words.first()?.plain().unwrap_or_default();
    let builtin = matches!(
        head.as_str(),
        "source"
            | "."
            | "cd"
            | "pushd"
            | "popd"
            | "export"
            | "unset"
            | "local"
            | "declare"
            | "readonly"
            | "set"
            | "alias"
    );
    let assignments = words.iter().all(|w| w.assignment().is_some());
    (builtin || assignments).then(|| shorten(text))
}

/// The command without a `|| true` (given as `status`) — other forms stay in the shell line.
fn strip_forms(text: &str) -> &str {
    let trimmed = text.trim_end();
    trimmed
        .strip_suffix("|| true")
        .or_else(|| trimmed.strip_suffix("|| :"))
        .map_or(trimmed, str::trim_end)
}

/// Arguments as a `run` line.
fn join_args(args: &[String]) -> String {
    args.iter()
        .map(|a| quote_arg(a))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A literal string quoted for bash.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// A template quoted for bash (the template's own `${…}` left to smoke-runner).
fn shell_quote_template(text: &str) -> String {
    if text.contains('\'') {
        format!("\"{}\"", text.replace('"', "\\\""))
    } else {
        format!("'{text}'")
    }
}

/// A long first line, cut for a step name.
fn shorten(text: &str) -> String {
    let text: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() > 50 {
        format!("{}…", text.chars().take(50).collect::<String>())
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::parse_suite;

    /// Odd and broken scripts: the import never panics, and what it writes always loads.
    #[test]
    fn odd_scripts_give_loadable_suites() {
        let scripts = [
            "",
            "#!/bin/bash\n",
            "echo 'unclosed\n",
            "run_plandex_cmd \"tell 'open\" \"x\"\n",
            "}\n)\nfi\ndone\n",
            "f() {\n  echo never closed\n",
            "cat <<EOF\nno end\n",
            "run_plandex_cmd\nrun_cmd\ncheck_file\nerror\nlog\n",
            "X=$(\nY=`\n",
            "log \"=== Testing ===\"\nlog \"=== Testing  ===\"\n",
            "run_plandex_cmd \"new -n ${X%%.go}\" \"strip\"\n",
            "run_plandex_cmd \"new -n $1\" \"$@\"\n",
            "echo y | \n<<< y\n|| true\n",
            "A=1 B=2\nexport C=\"$A\" D\nunset\nunset 1BAD\n",
            "alias =x\nalias pdxd=\"$PLANDEX_CMD\"\npdxd '\n",
            "run_cmd_with_timeout \"sleep 1\" \"Sleep\" -5\n",
            "check_plandex_contains \"plans\" \"$(date)\" \"Dated\"\n",
            "setup_test_dir \"\"\nsetup_test_dir \"a \\\"quoted\\\" name\"\n",
            "main() { main; }\nmain\n",
            "\u{0}\u{1}\u{7f}'''\n",
            "log \"'''\"\nrun_cmd \"echo '''\" \"triple\"\n",
        ];
        for script in scripts {
            let imported = import_script(script, "odd.sh", &ImportOptions::default());
            if imported.steps == 0 {
                continue; // refused by `smoke-runner import`, see app/import.rs
            }
            if let Err(error) = parse_suite(&imported.toml, std::path::Path::new("odd.toml")) {
                panic!(
                    "{script:?} gave a suite that does not load:\n{error}\n{}",
                    imported.toml
                );
            }
        }
    }

    /// A command and the statements reading its `$?` (the rule of `status_read`, which
    /// `import --check` judges by too) are one step, named after the last reader's line.
    #[test]
    fn a_command_and_the_lines_reading_its_status_are_one_step() {
        let script = "fail() { echo \"FAIL $*\"; }\n\
                      grep -q b f\n# the file holds b\n\n[ $? -eq 0 ] || fail \"holds b\"\n\
                      if [ -f f ]; then grep -q a f; fi\n[ $? -eq 0 ] || fail \"holds a\"\n\
                      sort -c <<TXT\na\nTXT\nif [ $? -ne 0 ]; then fail sorted; fi\n\
                      false\n[ $? -eq 1 ] || fail \"false fails\"\n[ $? -eq 0 ] || fail again\n\
                      cd sub\n[ $? -eq 0 ] || fail \"cd sub\"\n";
        let imported = import_script(script, "t.sh", &ImportOptions::default());
        let toml = &imported.toml;
        let definitions =
            "fail() { echo \"FAIL $*\"; }\nfail() { printf '%s\\n' \"$*\" >&2; exit 1; }\n";
        let step = |name: &str, lines: &str| {
            let expected = format!("name = \"{name}\"\nsh = '''\n{definitions}{lines}\n'''");
            assert!(toml.contains(&expected), "{expected}\n---\n{toml}");
        };
        // Past a comment and a blank line, which run nothing.
        step(
            "grep -q b f (line 5)",
            "grep -q b f\n# the file holds b\n\n[ $? -eq 0 ] || fail \"holds b\"",
        );
        // After a block, or a command with a here-document.
        step(
            "if [ -f f ]; then grep -q a f; fi (line 7)",
            "if [ -f f ]; then grep -q a f; fi\n[ $? -eq 0 ] || fail \"holds a\"",
        );
        step(
            "sort -c <<TXT (line 11)",
            "sort -c <<TXT\na\nTXT\nif [ $? -ne 0 ]; then fail sorted; fi",
        );
        // A reader whose own status is read in turn.
        step(
            "false (line 14)",
            "false\n[ $? -eq 1 ] || fail \"false fails\"\n[ $? -eq 0 ] || fail again",
        );
        // `cd` stays state for the steps after it: the reader cannot judge it, and says so.
        assert_eq!(
            imported.warnings,
            [Warning {
                line: 16,
                message:
                    "`[ $? -eq 0 ] || fail \"cd sub\"` reads the status of line 15 (`cd sub`), \
                          which the suite keeps as state for the steps after it, not as a step: \
                          this check cannot fail in the suite"
                        .to_owned(),
            }]
        );
    }

    /// What `import --check` watches for, read without translating: the script's functions and
    /// its libraries', each name as bash last defines it.
    #[test]
    fn watched_helpers_come_from_the_script_and_its_libraries() {
        let library = Library {
            text: "tap_fail() { echo \"not ok $1\"; }\ncheck() {\n  [ $? -eq 0 ] || tap_fail \"$1\"\n}\n"
                .to_owned(),
            path_for_steps: "lib.sh".to_owned(),
            included: vec!["log_failure() { echo \"FAIL $*\"; }\n".to_owned()],
        };
        let options = ImportOptions {
            libraries: vec![("lib.sh".to_owned(), library)],
            ..ImportOptions::default()
        };
        let script = "die() { exit 1; }\n. lib.sh\ntap_fail() { :; }\ntrue\ncheck it\n";
        assert_eq!(
            watched_helpers(script, &options),
            WatchedHelpers {
                reporters: vec!["die".to_owned(), "log_failure".to_owned()],
                status_checkers: vec!["check".to_owned()],
            }
        );
        let bats = "@test \"x\" {\n  true\n}\n";
        assert_eq!(watched_helpers(bats, &options), WatchedHelpers::default());
    }

    #[test]
    fn shell_steps_calling_pdxd_get_a_definition() {
        let imported = import_script(
            "count_plans() {\n    pdxd plans | wc -l\n}\nn=$(count_plans)\npdxd new -n x\n",
            "count.sh",
            &ImportOptions::default(),
        );
        let expected = "sh = '''\npdxd() { $PLANDEX_CMD \"$@\"; }\ncount_plans() {";
        assert!(imported.toml.contains(expected), "{}", imported.toml);
        assert!(
            imported.toml.contains("run = \"new -n x\""),
            "{}",
            imported.toml
        );
    }

    #[test]
    fn plain_echo_is_a_note_and_redirected_echo_a_step() {
        let imported = import_script(
            "echo \"Creating plans...\"\necho done > log.txt\n",
            "echo.sh",
            &ImportOptions::default(),
        );
        assert!(
            imported
                .toml
                .contains("# line 1: echo\n[[step]]\nnote = \"Creating plans...\""),
            "{}",
            imported.toml
        );
        assert!(
            imported.toml.contains("sh = \"echo done > log.txt\""),
            "{}",
            imported.toml
        );
        assert_eq!(imported.steps, 1);
    }

    #[test]
    fn section_headings_name_the_tested_area() {
        assert_eq!(
            section_heading("=== Testing Plan Management ==="),
            Some("Plan Management".to_owned())
        );
        assert_eq!(
            section_heading("\\n=== Testing Reject ==="),
            Some("Reject".to_owned())
        );
        assert_eq!(section_heading("=== Smoke Test Started ==="), None);
        assert_eq!(section_heading("Testing X"), None);
    }
}
