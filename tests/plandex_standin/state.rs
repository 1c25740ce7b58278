//! The stand-in's state: one JSON file in the state dir, read at the start of a command and
//! written back when the command changed something.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Config keys a plan has, with their defaults (all booleans).
pub const CONFIG_DEFAULTS: &[(&str, bool)] = &[
    ("auto-apply", false),
    ("auto-build", true),
    ("auto-commit", true),
    ("auto-continue", true),
    ("auto-exec", false),
    ("auto-load-context", false),
    ("skip-changes-menu", false),
];

/// Everything the stand-in remembers.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct State {
    /// Name of the current plan.
    pub current: Option<String>,
    /// Plans in creation order (the order `plans` numbers them in).
    pub plans: Vec<Plan>,
    /// Models imported with `models custom --file … --save`.
    pub custom_models: Vec<CustomModel>,
    /// Model packs imported the same way.
    pub custom_packs: Vec<ModelPack>,
    /// Counter for log entry ids.
    pub next_log_id: u64,
}

/// One plan.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    pub name: String,
    pub archived: bool,
    pub branch: String,
    pub branches: Vec<Branch>,
    pub config: BTreeMap<String, bool>,
    pub model_pack: String,
}

/// One branch of a plan: its working state and its log.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Branch {
    pub name: String,
    pub work: Work,
    pub log: Vec<LogEntry>,
}

/// What `rewind` restores.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Work {
    pub context: Vec<ContextItem>,
    pub convo: Vec<Message>,
    /// Pending changes: path → new content.
    pub pending: BTreeMap<String, String>,
    /// Prompts told with `--no-build`, waiting for `build`.
    pub unbuilt: Vec<String>,
}

/// One context item.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContextItem {
    pub kind: String,
    pub name: String,
    pub body: String,
}

/// One conversation message.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Message {
    pub role: String,
    pub text: String,
}

/// One log entry: what happened and the state before it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogEntry {
    pub id: u64,
    pub summary: String,
    pub before: Work,
    /// For applies: each written file's content before (`None`: it did not exist).
    pub files_before: BTreeMap<String, Option<String>>,
}

/// A custom model.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CustomModel {
    pub id: String,
    pub provider: String,
}

/// A model pack: a model per role.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelPack {
    pub name: String,
    pub planner: String,
    pub coder: String,
    pub builder: String,
}

impl Plan {
    /// A new plan with one `main` branch and the default config.
    pub fn new(name: &str, model_pack: &str) -> Self {
        Self {
            name: name.to_owned(),
            archived: false,
            branch: "main".to_owned(),
            branches: vec![Branch {
                name: "main".to_owned(),
                work: Work::default(),
                log: Vec::new(),
            }],
            config: CONFIG_DEFAULTS
                .iter()
                .map(|(k, v)| ((*k).to_owned(), *v))
                .collect(),
            model_pack: model_pack.to_owned(),
        }
    }

    /// The checked-out branch.
    pub fn branch_mut(&mut self) -> &mut Branch {
        let name = self.branch.clone();
        self.branches
            .iter_mut()
            .find(|b| b.name == name)
            .expect("the current branch exists")
    }
}

/// The state dir.
fn state_dir() -> PathBuf {
    std::env::var_os("PLANDEX_STANDIN_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(STATE_DIR_NAME))
}

/// The default state dir's name, in the current directory (`load -r` skips it).
pub const STATE_DIR_NAME: &str = ".plandex-standin";

impl State {
    /// Reads the state, or an empty one when there is none yet.
    pub fn load() -> Result<Self, String> {
        let path = state_dir().join("state.json");
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| format!("corrupt state file {}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(format!("cannot read {}: {e}", path.display())),
        }
    }

    /// Writes the state back (through a temp file, so a killed command leaves the old one).
    pub fn save(&self) -> Result<(), String> {
        let dir = state_dir();
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let json = serde_json::to_vec_pretty(self).map_err(|e| e.to_string())?;
        let tmp = dir.join("state.json.tmp");
        std::fs::write(&tmp, json).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
        std::fs::rename(&tmp, dir.join("state.json")).map_err(|e| e.to_string())
    }

    /// The current plan, or the error the real command gives.
    pub fn current_plan(&mut self) -> Result<&mut Plan, String> {
        let name = self
            .current
            .clone()
            .ok_or("no current plan; create one with `new` or pick one with `cd`")?;
        self.plans
            .iter_mut()
            .find(|p| p.name == name)
            .ok_or_else(|| format!("current plan `{name}` no longer exists"))
    }

    /// The plan named `name`.
    pub fn plan_mut(&mut self, name: &str) -> Result<&mut Plan, String> {
        self.plans
            .iter_mut()
            .find(|p| p.name == name)
            .ok_or_else(|| format!("no plan named `{name}`"))
    }

    /// Plans shown by `plans` (archived or not), in order.
    pub fn listed(&self, archived: bool) -> Vec<&Plan> {
        self.plans
            .iter()
            .filter(|p| p.archived == archived)
            .collect()
    }

    /// A fresh log id.
    pub fn log_id(&mut self) -> u64 {
        self.next_log_id += 1;
        self.next_log_id
    }
}
