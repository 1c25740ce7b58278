//! The subcommands. Each reads the state, checks what the real command would, changes the
//! state and returns what to print.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::BufRead;
use std::path::Path;

use crate::CmdResult;
use crate::args::{Flag, parse};
use crate::state::{
    CONFIG_DEFAULTS, ContextItem, CustomModel, LogEntry, Message, ModelPack, Plan, STATE_DIR_NAME,
    State, Work,
};

pub const USAGE: &str = "\
plandex-standin: an offline stand-in for the plandex CLI (test fixture)

usage: plandex-standin COMMAND [ARGS]

plans:    new [-n NAME] [--cheap|--strong]  current  plans [--archived]  cd PLAN
          archive PLAN  unarchive PLAN  dp PLAN|GLOB|N-M|--all
context:  load PATH... [-r] [--tree] [-n NOTE]  ls  show NAME  rm NAME...  clear  update
changes:  tell PROMPT [--no-build]  chat PROMPT  build  diff [--git]  apply  reject --all
history:  log  convo  rewind N [--revert]  checkout BRANCH [-y]  branches
settings: config  set-config KEY VALUE  models [available [--custom]|custom --file F [--save]]
          model-packs  set-model PACK
";

/// Built-in model packs: name, planner, coder, builder.
const BUILTIN_PACKS: &[(&str, &str, &str, &str)] = &[
    (
        "daily-driver",
        "anthropic/claude-sonnet-4",
        "anthropic/claude-sonnet-4",
        "openai/o4-mini",
    ),
    (
        "reasoning",
        "anthropic/claude-sonnet-4-thinking",
        "anthropic/claude-sonnet-4",
        "openai/o4-mini",
    ),
    (
        "strong",
        "openai/o3-high",
        "anthropic/claude-sonnet-4",
        "openai/o4-mini-high",
    ),
    (
        "cheap",
        "openai/o4-mini",
        "openai/gpt-4.1-mini",
        "openai/o4-mini-low",
    ),
    (
        "oss",
        "deepseek/r1",
        "qwen/qwen-2.5-coder-32b",
        "deepseek/r1",
    ),
];

/// Runs one subcommand.
pub fn dispatch(command: &str, args: &[String]) -> CmdResult {
    let mut state = State::load()?;
    let output = match command {
        "new" => new(&mut state, args),
        "current" => current(&mut state, args),
        "plans" | "pl" => plans(&state, args),
        "cd" => cd(&mut state, args),
        "archive" | "arc" => archive(&mut state, args, true),
        "unarchive" | "unarc" => archive(&mut state, args, false),
        "dp" | "delete-plan" => delete_plans(&mut state, args),
        "load" | "l" => load(&mut state, args),
        "ls" => list_context(&mut state, args),
        "show" => show(&mut state, args),
        "rm" => remove_context(&mut state, args),
        "clear" => clear(&mut state, args),
        "update" | "u" => update(&mut state, args),
        "tell" | "t" => tell(&mut state, args),
        "chat" | "ch" => chat(&mut state, args),
        "build" | "b" => build(&mut state, args),
        "diff" => diff(&mut state, args),
        "apply" | "ap" => apply(&mut state, args),
        "reject" | "rj" => reject(&mut state, args),
        "log" => log(&mut state, args),
        "convo" => convo(&mut state, args),
        "rewind" | "rw" => rewind(&mut state, args),
        "checkout" | "co" => checkout(&mut state, args),
        "branches" | "br" => branches(&mut state, args),
        "config" => config(&mut state, args),
        "set-config" => set_config(&mut state, args),
        "models" => models(&mut state, args),
        "model-packs" => model_packs(&state, args),
        "set-model" => set_model(&mut state, args),
        "version" => Ok("plandex-standin 0.0.0 (offline test fixture)\n".to_owned()),
        "help" | "--help" | "-h" => Ok(USAGE.to_owned()),
        other => Err(format!("unknown command `{other}` (see `help`)")),
    }?;
    state.save()?;
    Ok(output)
}

fn no_flags(args: &[String], count: usize, usage: &str) -> Result<Vec<String>, String> {
    let parsed = parse(args, &[])?;
    if parsed.positional.len() != count {
        return Err(format!("usage: {usage}"));
    }
    Ok(parsed.positional)
}

fn new(state: &mut State, args: &[String]) -> CmdResult {
    let parsed = parse(
        args,
        &[
            Flag("-n", "--name", true),
            Flag("", "--cheap", false),
            Flag("", "--strong", false),
            Flag("", "--daily", false),
        ],
    )?;
    if !parsed.positional.is_empty() {
        return Err("usage: new [-n NAME] [--cheap|--strong|--daily]".to_owned());
    }
    let name = match parsed.value("--name") {
        Some(name) if name.trim().is_empty() => return Err("plan name is empty".to_owned()),
        Some(name) => name.to_owned(),
        None => (1..)
            .map(|n| format!("draft-{n}"))
            .find(|n| state.plans.iter().all(|p| &p.name != n))
            .expect("a free name"),
    };
    if state.plans.iter().any(|p| p.name == name) {
        return Err(format!("a plan named `{name}` already exists"));
    }
    let pack = if parsed.has("--cheap") {
        "cheap"
    } else if parsed.has("--strong") {
        "strong"
    } else {
        "daily-driver"
    };
    state.plans.push(Plan::new(&name, pack));
    state.current = Some(name.clone());
    Ok(format!(
        "✅ Started new plan {name} and set it to current plan\n🧠 Model pack: {pack}\n"
    ))
}

fn current(state: &mut State, args: &[String]) -> CmdResult {
    no_flags(args, 0, "current")?;
    let plan = state.current_plan()?;
    Ok(format!(
        "Current plan: {}\nBranch: {}\nModel pack: {}\n",
        plan.name, plan.branch, plan.model_pack
    ))
}

fn plans(state: &State, args: &[String]) -> CmdResult {
    let parsed = parse(args, &[Flag("-a", "--archived", false)])?;
    let archived = parsed.has("--archived");
    let listed = state.listed(archived);
    if listed.is_empty() {
        return Ok(if archived {
            "No archived plans\n".to_owned()
        } else {
            "No plans yet; create one with `new`\n".to_owned()
        });
    }
    let mut out = String::from(if archived {
        "Archived plans:\n"
    } else {
        "Plans:\n"
    });
    for (i, plan) in listed.iter().enumerate() {
        let mark = if state.current.as_deref() == Some(plan.name.as_str()) {
            "  (current)"
        } else {
            ""
        };
        let _ = writeln!(out, " {:>2}  {}  [{}]{mark}", i + 1, plan.name, plan.branch);
    }
    Ok(out)
}

fn cd(state: &mut State, args: &[String]) -> CmdResult {
    let [target] = &no_flags(args, 1, "cd PLAN")?[..] else {
        unreachable!()
    };
    let name = match target.parse::<usize>() {
        Ok(n) => state
            .listed(false)
            .get(n.wrapping_sub(1))
            .map(|p| p.name.clone())
            .ok_or_else(|| format!("no plan number {n}"))?,
        Err(_) => target.clone(),
    };
    let plan = state.plan_mut(&name)?;
    if plan.archived {
        return Err(format!("plan `{name}` is archived; unarchive it first"));
    }
    state.current = Some(name.clone());
    Ok(format!("✅ Changed current plan to {name}\n"))
}

fn archive(state: &mut State, args: &[String], archive: bool) -> CmdResult {
    let verb = if archive { "archive" } else { "unarchive" };
    let [name] = &no_flags(args, 1, &format!("{verb} PLAN"))?[..] else {
        unreachable!()
    };
    let plan = state.plan_mut(name)?;
    if plan.archived == archive {
        return Err(format!("plan `{name}` is already {verb}d"));
    }
    plan.archived = archive;
    Ok(format!("✅ Plan {name} {verb}d\n"))
}

fn delete_plans(state: &mut State, args: &[String]) -> CmdResult {
    let parsed = parse(args, &[Flag("", "--all", false)])?;
    let listed: Vec<String> = state.listed(false).iter().map(|p| p.name.clone()).collect();
    let targets: Vec<String> = if parsed.has("--all") {
        if !parsed.positional.is_empty() {
            return Err("`--all` takes no plan names".to_owned());
        }
        state.plans.iter().map(|p| p.name.clone()).collect()
    } else {
        if parsed.positional.is_empty() {
            return Err("usage: dp PLAN|GLOB|N|N-M... or dp --all".to_owned());
        }
        let mut targets = Vec::new();
        for selector in &parsed.positional {
            let matched = select_plans(&listed, selector)?;
            if matched.is_empty() {
                return Err(format!("no plans match `{selector}`"));
            }
            for name in matched {
                if !targets.contains(&name) {
                    targets.push(name);
                }
            }
        }
        targets
    };
    if targets.is_empty() {
        return Err("there are no plans to delete".to_owned());
    }
    eprintln!(
        "Delete {} plan(s): {}? (y/n)",
        targets.len(),
        targets.join(", ")
    );
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    if !matches!(answer.trim(), "y" | "Y" | "yes") {
        return Err("aborted: no plans deleted (answer `y` to confirm)".to_owned());
    }
    state.plans.retain(|p| !targets.contains(&p.name));
    if state
        .current
        .as_ref()
        .is_some_and(|current| targets.contains(current))
    {
        state.current = None;
    }
    Ok(format!(
        "✅ Deleted {} plan(s): {}\n",
        targets.len(),
        targets.join(", ")
    ))
}

/// Plans one `dp` argument selects: `N`, `N-M` (numbers as `plans` shows them), a glob, a name.
fn select_plans(listed: &[String], selector: &str) -> Result<Vec<String>, String> {
    let by_number = |n: usize| {
        listed
            .get(n.wrapping_sub(1))
            .cloned()
            .ok_or_else(|| format!("no plan number {n} (there are {})", listed.len()))
    };
    if let Ok(n) = selector.parse::<usize>() {
        return Ok(vec![by_number(n)?]);
    }
    if let Some((from, to)) = selector.split_once('-')
        && let (Ok(from), Ok(to)) = (from.parse::<usize>(), to.parse::<usize>())
    {
        if from == 0 || from > to {
            return Err(format!("bad range `{selector}`"));
        }
        return (from..=to).map(by_number).collect();
    }
    Ok(listed
        .iter()
        .filter(|name| glob_matches(selector, name))
        .cloned()
        .collect())
}

/// `*` matches any run of characters; everything else matches itself.
fn glob_matches(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, tail)) => {
            let Some(rest) = text.strip_prefix(head) else {
                return false;
            };
            (0..=rest.len())
                .filter(|i| rest.is_char_boundary(*i))
                .any(|i| glob_matches(tail, &rest[i..]))
        }
    }
}

/// Records a log entry on the current branch, with the work before the change.
fn record(
    state: &mut State,
    summary: String,
    before: Work,
    files: BTreeMap<String, Option<String>>,
) {
    let id = state.log_id();
    if let Ok(plan) = state.current_plan() {
        plan.branch_mut().log.push(LogEntry {
            id,
            summary,
            before,
            files_before: files,
        });
    }
}

fn load(state: &mut State, args: &[String]) -> CmdResult {
    let parsed = parse(
        args,
        &[
            Flag("-n", "--note", true),
            Flag("-r", "--recursive", false),
            Flag("", "--tree", false),
        ],
    )?;
    let mut items = Vec::new();
    if let Some(note) = parsed.value("--note") {
        if note.trim().is_empty() {
            return Err("the note is empty".to_owned());
        }
        items.push(ContextItem {
            kind: "note".to_owned(),
            name: format!("note: {}", note.chars().take(30).collect::<String>()),
            body: note.to_owned(),
        });
    }
    for path in &parsed.positional {
        let meta = std::fs::metadata(path).map_err(|e| format!("cannot load `{path}`: {e}"))?;
        if meta.is_dir() {
            let files = walk(Path::new(path))?;
            if parsed.has("--tree") {
                items.push(ContextItem {
                    kind: "tree".to_owned(),
                    name: format!("tree: {path}"),
                    body: files.join("\n"),
                });
            } else if parsed.has("--recursive") {
                for file in files {
                    items.push(file_item(&file)?);
                }
            } else {
                return Err(format!(
                    "`{path}` is a directory: use -r to load its files or --tree for its layout"
                ));
            }
        } else {
            items.push(file_item(path)?);
        }
    }
    if items.is_empty() {
        return Err("nothing to load: give files, a directory, or -n NOTE".to_owned());
    }
    let plan = state.current_plan()?;
    let work = &mut plan.branch_mut().work;
    let before = work.clone();
    let count = items.len();
    let names: Vec<String> = items.iter().map(|i| i.name.clone()).collect();
    for item in items {
        match work.context.iter_mut().find(|c| c.name == item.name) {
            Some(existing) => *existing = item,
            None => work.context.push(item),
        }
    }
    record(
        state,
        format!("loaded {}", names.join(", ")),
        before,
        BTreeMap::new(),
    );
    Ok(format!(
        "✅ Loaded {count} item(s) into context: {}\n",
        names.join(", ")
    ))
}

fn file_item(path: &str) -> Result<ContextItem, String> {
    let body = std::fs::read_to_string(path).map_err(|e| format!("cannot load `{path}`: {e}"))?;
    Ok(ContextItem {
        kind: "file".to_owned(),
        name: path.trim_start_matches("./").to_owned(),
        body,
    })
}

/// Files under `dir`, sorted, skipping hidden entries and the state dir.
fn walk(dir: &Path) -> Result<Vec<String>, String> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| e.to_string())?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || name == STATE_DIR_NAME {
                continue;
            }
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let shown = path.to_string_lossy().into_owned();
                files.push(shown.trim_start_matches("./").to_owned());
            }
        }
    }
    files.sort();
    Ok(files)
}

fn list_context(state: &mut State, args: &[String]) -> CmdResult {
    no_flags(args, 0, "ls")?;
    let plan = state.current_plan()?;
    let context = &plan.branch_mut().work.context;
    if context.is_empty() {
        return Ok("No context loaded\n".to_owned());
    }
    let mut out = String::from(" #  Name  Type  Tokens\n");
    for (i, item) in context.iter().enumerate() {
        let _ = writeln!(
            out,
            " {}  {}  {}  {}",
            i + 1,
            item.name,
            item.kind,
            item.body.split_whitespace().count()
        );
    }
    Ok(out)
}

fn show(state: &mut State, args: &[String]) -> CmdResult {
    let [name] = &no_flags(args, 1, "show NAME")?[..] else {
        unreachable!()
    };
    let plan = state.current_plan()?;
    let item = plan
        .branch_mut()
        .work
        .context
        .iter()
        .find(|c| &c.name == name)
        .ok_or_else(|| format!("`{name}` is not in context"))?;
    let mut out = item.body.clone();
    if !out.ends_with('\n') {
        out.push('\n');
    }
    Ok(out)
}

fn remove_context(state: &mut State, args: &[String]) -> CmdResult {
    let parsed = parse(args, &[])?;
    if parsed.positional.is_empty() {
        return Err("usage: rm NAME...".to_owned());
    }
    let plan = state.current_plan()?;
    let work = &mut plan.branch_mut().work;
    let before = work.clone();
    for name in &parsed.positional {
        let at = work
            .context
            .iter()
            .position(|c| &c.name == name)
            .ok_or_else(|| format!("`{name}` is not in context"))?;
        work.context.remove(at);
    }
    let names = parsed.positional.join(", ");
    record(state, format!("removed {names}"), before, BTreeMap::new());
    Ok(format!("✅ Removed {names} from context\n"))
}

fn clear(state: &mut State, args: &[String]) -> CmdResult {
    no_flags(args, 0, "clear")?;
    let plan = state.current_plan()?;
    let work = &mut plan.branch_mut().work;
    let before = work.clone();
    let count = work.context.len();
    work.context.clear();
    record(state, "cleared context".to_owned(), before, BTreeMap::new());
    Ok(format!("✅ Context cleared ({count} item(s) removed)\n"))
}

fn update(state: &mut State, args: &[String]) -> CmdResult {
    no_flags(args, 0, "update")?;
    let plan = state.current_plan()?;
    let work = &mut plan.branch_mut().work;
    let before = work.clone();
    let mut updated = Vec::new();
    let mut removed = Vec::new();
    work.context.retain_mut(|item| {
        if item.kind != "file" {
            return true;
        }
        match std::fs::read_to_string(&item.name) {
            Ok(body) if body != item.body => {
                item.body = body;
                updated.push(item.name.clone());
                true
            }
            Ok(_) => true,
            Err(_) => {
                removed.push(item.name.clone());
                false
            }
        }
    });
    if updated.is_empty() && removed.is_empty() {
        return Ok("Context is up to date\n".to_owned());
    }
    let mut out = String::new();
    if !updated.is_empty() {
        let _ = writeln!(
            out,
            "✅ Updated {} file(s) in context: {}",
            updated.len(),
            updated.join(", ")
        );
    }
    if !removed.is_empty() {
        let _ = writeln!(
            out,
            "✅ Removed {} missing file(s): {}",
            removed.len(),
            removed.join(", ")
        );
    }
    record(state, "updated context".to_owned(), before, BTreeMap::new());
    Ok(out)
}

/// AI commands need a key; its value is never shown.
fn require_api_key() -> Result<(), String> {
    let set = |name: &str| std::env::var(name).is_ok_and(|v| !v.trim().is_empty());
    if set("OPENROUTER_API_KEY") || set("OPENAI_API_KEY") {
        Ok(())
    } else {
        Err("OPENROUTER_API_KEY is not set: AI commands need an API key".to_owned())
    }
}

/// The edit a prompt stands for: (file, text appended or written).
fn planned_edit(prompt: &str) -> (&'static str, String) {
    let lower = prompt.to_lowercase();
    if lower.contains("test") {
        let body = "package main\n\nimport \"testing\"\n\nfunc TestHelloWorld(t *testing.T) {\n\tif helloWorld() == \"\" {\n\t\tt.Fatal(\"empty greeting\")\n\t}\n}\n";
        ("main_test.go", body.to_owned())
    } else if lower.contains("goodbye") {
        let body = "\nfunc goodbye() string {\n\treturn \"Goodbye, world!\"\n}\n";
        ("main.go", body.to_owned())
    } else if lower.contains("hello") {
        let body = "\nfunc helloWorld() string {\n\treturn \"Hello, world!\"\n}\n";
        ("main.go", body.to_owned())
    } else {
        (
            "main.go",
            format!("\n// Requested: {}\n", prompt.replace('\n', " ")),
        )
    }
}

/// Adds the edit for `prompt` to the pending changes.
fn build_prompt(work: &mut Work, prompt: &str) -> String {
    let (file, text) = planned_edit(prompt);
    let base = match work.pending.get(file) {
        Some(pending) => Some(pending.clone()),
        None => std::fs::read_to_string(file).ok(),
    };
    let new = match (file, base) {
        ("main_test.go", _) | (_, None) => text,
        (_, Some(base)) => base + &text,
    };
    work.pending.insert(file.to_owned(), new);
    file.to_owned()
}

fn tell(state: &mut State, args: &[String]) -> CmdResult {
    let parsed = parse(
        args,
        &[
            Flag("", "--no-build", false),
            Flag("", "--bg", false),
            Flag("", "--stop", false),
        ],
    )?;
    let [prompt] = &parsed.positional[..] else {
        return Err("usage: tell PROMPT [--no-build]".to_owned());
    };
    require_api_key()?;
    let plan = state.current_plan()?;
    let pack = plan.model_pack.clone();
    let work = &mut plan.branch_mut().work;
    let before = work.clone();
    work.convo.push(Message {
        role: "user".to_owned(),
        text: prompt.clone(),
    });
    let (file, _) = planned_edit(prompt);
    work.convo.push(Message {
        role: "assistant".to_owned(),
        text: format!("I'll update {file} to do this: {prompt}"),
    });
    let mut out = format!("🤖 Planning with model pack {pack}\nI'll update {file}.\n");
    if parsed.has("--no-build") {
        work.unbuilt.push(prompt.clone());
        out.push_str("Changes not built yet: run `build`\n");
    } else {
        let built = build_prompt(work, prompt);
        let _ = writeln!(
            out,
            "🏗️  Built {built}\n✅ 1 file with pending changes: {built}"
        );
    }
    record(state, format!("tell: {prompt}"), before, BTreeMap::new());
    Ok(out)
}

fn chat(state: &mut State, args: &[String]) -> CmdResult {
    let [prompt] = &no_flags(args, 1, "chat PROMPT")?[..] else {
        unreachable!()
    };
    require_api_key()?;
    let plan = state.current_plan()?;
    let work = &mut plan.branch_mut().work;
    let before = work.clone();
    let files: Vec<&str> = work
        .context
        .iter()
        .filter(|c| c.kind == "file")
        .map(|c| c.name.as_str())
        .collect();
    let answer = format!(
        "The context holds {} file(s){}. No changes were made.",
        files.len(),
        if files.is_empty() {
            String::new()
        } else {
            format!(": {}", files.join(", "))
        }
    );
    work.convo.push(Message {
        role: "user".to_owned(),
        text: prompt.clone(),
    });
    work.convo.push(Message {
        role: "assistant".to_owned(),
        text: answer.clone(),
    });
    record(state, format!("chat: {prompt}"), before, BTreeMap::new());
    Ok(format!("{answer}\n"))
}

fn build(state: &mut State, args: &[String]) -> CmdResult {
    no_flags(args, 0, "build")?;
    require_api_key()?;
    let plan = state.current_plan()?;
    let work = &mut plan.branch_mut().work;
    if work.unbuilt.is_empty() {
        return Err("nothing to build: every reply is already built".to_owned());
    }
    let before = work.clone();
    let prompts = std::mem::take(&mut work.unbuilt);
    let mut files: Vec<String> = prompts.iter().map(|p| build_prompt(work, p)).collect();
    files.dedup();
    record(state, "build".to_owned(), before, BTreeMap::new());
    Ok(format!(
        "🏗️  Built {}\n✅ {} file(s) with pending changes\n",
        files.join(", "),
        files.len()
    ))
}

fn diff(state: &mut State, args: &[String]) -> CmdResult {
    let parsed = parse(
        args,
        &[Flag("", "--git", false), Flag("", "--plain", false)],
    )?;
    if !parsed.positional.is_empty() {
        return Err("usage: diff [--git] [--plain]".to_owned());
    }
    let plan = state.current_plan()?;
    let pending = &plan.branch_mut().work.pending;
    if pending.is_empty() {
        return Ok("No pending changes\n".to_owned());
    }
    let mut out = String::new();
    for (path, new) in pending {
        let old = std::fs::read_to_string(path).unwrap_or_default();
        let _ = writeln!(
            out,
            "diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}"
        );
        let old_lines: Vec<&str> = old.lines().collect();
        let new_lines: Vec<&str> = new.lines().collect();
        let prefix = old_lines
            .iter()
            .zip(&new_lines)
            .take_while(|(a, b)| a == b)
            .count();
        let suffix = old_lines[prefix..]
            .iter()
            .rev()
            .zip(new_lines[prefix..].iter().rev())
            .take_while(|(a, b)| a == b)
            .count();
        let removed = &old_lines[prefix..old_lines.len() - suffix];
        let added = &new_lines[prefix..new_lines.len() - suffix];
        let _ = writeln!(
            out,
            "@@ -{},{} +{},{} @@",
            prefix + 1,
            removed.len(),
            prefix + 1,
            added.len()
        );
        for line in removed {
            let _ = writeln!(out, "-{line}");
        }
        for line in added {
            let _ = writeln!(out, "+{line}");
        }
    }
    Ok(out)
}

fn apply(state: &mut State, args: &[String]) -> CmdResult {
    let parsed = parse(
        args,
        &[
            Flag("", "--auto-exec", false),
            Flag("", "--debug", true),
            Flag("", "--skip-commit", false),
            Flag("-y", "--yes", false),
            Flag("-c", "--commit", false),
            Flag("", "--auto-update-context", false),
        ],
    )?;
    if !parsed.positional.is_empty() {
        return Err("usage: apply [--auto-exec] [--debug N] [--skip-commit]".to_owned());
    }
    if let Some(level) = parsed.value("--debug") {
        level
            .parse::<u32>()
            .map_err(|_| format!("--debug needs a number, not `{level}`"))?;
    }
    let plan = state.current_plan()?;
    let work = &mut plan.branch_mut().work;
    if work.pending.is_empty() {
        return Err("no pending changes to apply".to_owned());
    }
    let before = work.clone();
    let mut files_before = BTreeMap::new();
    for (path, content) in &work.pending {
        files_before.insert(path.clone(), std::fs::read_to_string(path).ok());
        std::fs::write(path, content).map_err(|e| format!("cannot write {path}: {e}"))?;
        if let Some(item) = work.context.iter_mut().find(|c| &c.name == path) {
            item.body = content.clone();
        }
    }
    let files: Vec<String> = std::mem::take(&mut work.pending).into_keys().collect();
    record(
        state,
        format!("applied {}", files.join(", ")),
        before,
        files_before,
    );
    Ok(format!(
        "✅ Applied changes, {} file(s) updated: {}\n",
        files.len(),
        files.join(", ")
    ))
}

fn reject(state: &mut State, args: &[String]) -> CmdResult {
    let parsed = parse(args, &[Flag("-a", "--all", false)])?;
    let plan = state.current_plan()?;
    let work = &mut plan.branch_mut().work;
    if work.pending.is_empty() {
        return Err("no pending changes to reject".to_owned());
    }
    let before = work.clone();
    let rejected: Vec<String> = if parsed.has("--all") {
        std::mem::take(&mut work.pending).into_keys().collect()
    } else if parsed.positional.is_empty() {
        return Err("usage: reject --all, or reject FILE...".to_owned());
    } else {
        for path in &parsed.positional {
            work.pending
                .remove(path)
                .ok_or_else(|| format!("no pending changes for `{path}`"))?;
        }
        parsed.positional.clone()
    };
    record(
        state,
        format!("rejected {}", rejected.join(", ")),
        before,
        BTreeMap::new(),
    );
    Ok(format!(
        "✅ Rejected pending changes to {} file(s): {}\n",
        rejected.len(),
        rejected.join(", ")
    ))
}

fn log(state: &mut State, args: &[String]) -> CmdResult {
    no_flags(args, 0, "log")?;
    let plan = state.current_plan()?;
    let log = &plan.branch_mut().log;
    if log.is_empty() {
        return Ok("No history yet\n".to_owned());
    }
    let mut out = String::new();
    for entry in log.iter().rev() {
        let _ = writeln!(out, " {:>3}  {}", entry.id, entry.summary);
    }
    Ok(out)
}

fn convo(state: &mut State, args: &[String]) -> CmdResult {
    no_flags(args, 0, "convo")?;
    let plan = state.current_plan()?;
    let convo = &plan.branch_mut().work.convo;
    if convo.is_empty() {
        return Ok("No conversation yet\n".to_owned());
    }
    let mut out = String::new();
    for (i, message) in convo.iter().enumerate() {
        let who = if message.role == "user" {
            "You"
        } else {
            "Plandex"
        };
        let _ = writeln!(out, "## {} | {who}\n{}\n", i + 1, message.text);
    }
    Ok(out)
}

fn rewind(state: &mut State, args: &[String]) -> CmdResult {
    let parsed = parse(args, &[Flag("", "--revert", false)])?;
    let [steps] = &parsed.positional[..] else {
        return Err("usage: rewind N [--revert]".to_owned());
    };
    let steps: usize = steps
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("`{steps}` is not a number of steps"))?;
    let plan = state.current_plan()?;
    let branch = plan.branch_mut();
    if steps > branch.log.len() {
        return Err(format!(
            "cannot rewind {steps} steps: the log has {}",
            branch.log.len()
        ));
    }
    let removed = branch.log.split_off(branch.log.len() - steps);
    branch.work = removed[0].before.clone();
    let mut reverted = Vec::new();
    if parsed.has("--revert") {
        for entry in removed.iter().rev() {
            for (path, content) in &entry.files_before {
                match content {
                    Some(content) => std::fs::write(path, content),
                    None => std::fs::remove_file(path),
                }
                .map_err(|e| format!("cannot revert {path}: {e}"))?;
                reverted.push(path.clone());
            }
        }
    }
    let mut out = format!("✅ Rewound {steps} step(s)\n");
    if !reverted.is_empty() {
        let _ = writeln!(out, "Reverted files: {}", reverted.join(", "));
    }
    Ok(out)
}

fn checkout(state: &mut State, args: &[String]) -> CmdResult {
    let parsed = parse(args, &[Flag("-y", "--yes", false)])?;
    let [name] = &parsed.positional[..] else {
        return Err("usage: checkout BRANCH [-y]".to_owned());
    };
    let plan = state.current_plan()?;
    if plan.branches.iter().any(|b| &b.name == name) {
        plan.branch = name.clone();
        return Ok(format!("✅ Checked out branch {name}\n"));
    }
    if !parsed.has("--yes") {
        return Err(format!(
            "branch `{name}` does not exist (add -y to create it)"
        ));
    }
    let mut copy = plan.branch_mut().clone();
    copy.name = name.clone();
    plan.branches.push(copy);
    plan.branch = name.clone();
    Ok(format!("✅ Created branch {name} and checked it out\n"))
}

fn branches(state: &mut State, args: &[String]) -> CmdResult {
    no_flags(args, 0, "branches")?;
    let plan = state.current_plan()?;
    let mut out = String::new();
    for branch in &plan.branches {
        let mark = if branch.name == plan.branch { "*" } else { " " };
        let _ = writeln!(
            out,
            "{mark} {}  ({} log entries)",
            branch.name,
            branch.log.len()
        );
    }
    Ok(out)
}

fn config(state: &mut State, args: &[String]) -> CmdResult {
    no_flags(args, 0, "config")?;
    let plan = state.current_plan()?;
    let mut out = format!("Config for plan {}:\n", plan.name);
    for (key, value) in &plan.config {
        let _ = writeln!(out, "  {key}: {value}");
    }
    Ok(out)
}

fn set_config(state: &mut State, args: &[String]) -> CmdResult {
    let [key, value] = &no_flags(args, 2, "set-config KEY VALUE")?[..] else {
        unreachable!()
    };
    if !CONFIG_DEFAULTS.iter().any(|(k, _)| k == key) {
        return Err(format!("unknown config key `{key}`"));
    }
    let value: bool = value
        .parse()
        .map_err(|_| format!("`{key}` takes true or false, not `{value}`"))?;
    let plan = state.current_plan()?;
    plan.config.insert(key.clone(), value);
    Ok(format!("✅ Set {key} to {value}\n"))
}

/// Looks a pack up among the built-in and custom ones.
fn find_pack(state: &State, name: &str) -> Option<ModelPack> {
    BUILTIN_PACKS
        .iter()
        .find(|p| p.0 == name)
        .map(|p| ModelPack {
            name: p.0.to_owned(),
            planner: p.1.to_owned(),
            coder: p.2.to_owned(),
            builder: p.3.to_owned(),
        })
        .or_else(|| state.custom_packs.iter().find(|p| p.name == name).cloned())
}

fn models(state: &mut State, args: &[String]) -> CmdResult {
    match args.first().map(String::as_str) {
        Some("available") => {
            let parsed = parse(&args[1..], &[Flag("", "--custom", false)])?;
            let mut out = String::new();
            if parsed.has("--custom") {
                if state.custom_models.is_empty() {
                    return Ok("No custom models\n".to_owned());
                }
                out.push_str("Custom models:\n");
                for model in &state.custom_models {
                    let _ = writeln!(out, "  {}  ({})", model.id, model.provider);
                }
            } else {
                out.push_str("Built-in models:\n");
                let mut ids: Vec<&str> =
                    BUILTIN_PACKS.iter().flat_map(|p| [p.1, p.2, p.3]).collect();
                ids.sort_unstable();
                ids.dedup();
                for id in ids {
                    let _ = writeln!(out, "  {id}");
                }
            }
            Ok(out)
        }
        Some("custom") => import_custom_models(state, &args[1..]),
        Some(other) => Err(format!("unknown models subcommand `{other}`")),
        None => {
            let plan = state.current_plan()?;
            let pack_name = plan.model_pack.clone();
            let pack = find_pack(state, &pack_name)
                .ok_or_else(|| format!("model pack `{pack_name}` no longer exists"))?;
            Ok(format!(
                "Model pack: {}\n  planner: {}\n  coder: {}\n  builder: {}\n",
                pack.name, pack.planner, pack.coder, pack.builder
            ))
        }
    }
}

/// `models custom --file F [--save]`: checks the file, and with `--save` stores it.
fn import_custom_models(state: &mut State, args: &[String]) -> CmdResult {
    let parsed = parse(
        args,
        &[Flag("-f", "--file", true), Flag("", "--save", false)],
    )?;
    let path = parsed
        .value("--file")
        .ok_or("usage: models custom --file FILE [--save]")?;
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{path} is not valid JSON: {e}"))?;
    let field = |value: &serde_json::Value, key: &str, what: &str| {
        value
            .get(key)
            .and_then(|v| v.as_str())
            .filter(|s| !s.trim().is_empty())
            .map(str::to_owned)
            .ok_or_else(|| format!("{path}: {what} needs a string `{key}`"))
    };
    let mut models = Vec::new();
    for model in json
        .get("models")
        .and_then(|m| m.as_array())
        .into_iter()
        .flatten()
    {
        // The provider is given once (`provider`) or per route (`providers[].provider`).
        let provider = model
            .get("providers")
            .and_then(|p| p.as_array())
            .and_then(|p| p.first())
            .map(|p| field(p, "provider", "each of a model's providers"))
            .unwrap_or_else(|| field(model, "provider", "each model"))?;
        models.push(CustomModel {
            id: field(model, "modelId", "each model")?,
            provider,
        });
    }
    let known = |id: &str| {
        models.iter().any(|m| m.id == id)
            || state.custom_models.iter().any(|m| m.id == id)
            || BUILTIN_PACKS.iter().any(|p| [p.1, p.2, p.3].contains(&id))
    };
    // A role is a model id, or a table naming one (`{ "modelId": … }`).
    let role = |pack: &serde_json::Value, key: &str| match pack.get(key) {
        Some(serde_json::Value::Object(_)) => {
            field(&pack[key], "modelId", &format!("model pack role `{key}`"))
        }
        _ => field(pack, key, "each model pack"),
    };
    let mut packs = Vec::new();
    for pack in json
        .get("modelPacks")
        .and_then(|m| m.as_array())
        .into_iter()
        .flatten()
    {
        let pack = ModelPack {
            name: field(pack, "name", "each model pack")?,
            planner: role(pack, "planner")?,
            coder: role(pack, "coder")?,
            builder: role(pack, "builder")?,
        };
        for id in [&pack.planner, &pack.coder, &pack.builder] {
            if !known(id) {
                return Err(format!(
                    "{path}: model pack `{}` uses unknown model `{id}`",
                    pack.name
                ));
            }
        }
        packs.push(pack);
    }
    if models.is_empty() && packs.is_empty() {
        return Err(format!("{path}: no `models` or `modelPacks` found"));
    }
    let summary = format!(
        "{} custom model(s) and {} model pack(s)",
        models.len(),
        packs.len()
    );
    if !parsed.has("--save") {
        return Ok(format!(
            "{path} is valid: {summary} (add --save to import them)\n"
        ));
    }
    for model in models {
        state.custom_models.retain(|m| m.id != model.id);
        state.custom_models.push(model);
    }
    for pack in packs {
        state.custom_packs.retain(|p| p.name != pack.name);
        state.custom_packs.push(pack);
    }
    Ok(format!("✅ Imported {summary}\n"))
}

fn model_packs(state: &State, args: &[String]) -> CmdResult {
    no_flags(args, 0, "model-packs")?;
    let mut out = String::from("Built-in model packs:\n");
    for pack in BUILTIN_PACKS {
        let _ = writeln!(out, "  {}", pack.0);
    }
    if !state.custom_packs.is_empty() {
        out.push_str("Custom model packs:\n");
        for pack in &state.custom_packs {
            let _ = writeln!(out, "  {}", pack.name);
        }
    }
    Ok(out)
}

fn set_model(state: &mut State, args: &[String]) -> CmdResult {
    let [name] = &no_flags(args, 1, "set-model PACK")?[..] else {
        unreachable!()
    };
    if find_pack(state, name).is_none() {
        return Err(format!("unknown model pack `{name}` (see `model-packs`)"));
    }
    let plan = state.current_plan()?;
    plan.model_pack = name.clone();
    Ok(format!(
        "✅ Model pack set to {name} for plan {}\n",
        plan.name
    ))
}
