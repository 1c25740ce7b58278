//! Webhook alerts: a JSON POST when a suite has failed `after` runs in a row (again every
//! `remind` while it keeps failing) and when it passes again.
//!
//! Deciding is done where a run ends, in a few comparisons; sending happens on a thread of its
//! own behind a bounded channel, retried with back-off, so a slow or absent receiver never
//! delays a run. Every body goes through the masker.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::http::{HttpCall, send};
use crate::mask::Masker;

use super::config::AlertConfig;
use super::health::SuiteState;
use super::monitor::stderr_warning;
use super::runs::rfc3339;

/// Alerts waiting to be sent; beyond this, new ones are dropped with a warning.
const PENDING_ALERTS: usize = 256;

/// Attempts per alert; the waits between them double from one second.
const ATTEMPTS: u32 = 5;

/// How long one attempt may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// What each suite was last told.
#[derive(Debug, Default, Clone)]
struct Announced {
    /// When the last "failing" alert was sent, while the suite fails.
    failing_since: Option<Instant>,
}

/// Decides and queues alerts.
pub struct Alerts {
    config: AlertConfig,
    announced: Mutex<HashMap<String, Announced>>,
    outbox: SyncSender<String>,
}

impl Alerts {
    /// Alerts to `config.webhook`, masked with `masker`; starts the sending thread. After a
    /// reload, what `previous` already announced (which suites are known to be failing, since
    /// when) carries over, so a reload neither repeats a "failing" alert nor loses the
    /// "recovered" one; alerts `previous` still has waiting go out through its own thread,
    /// which ends when it is dropped.
    pub fn start(
        config: AlertConfig,
        masker: Masker,
        previous: Option<&Alerts>,
    ) -> std::io::Result<Self> {
        let announced = previous.map_or_else(HashMap::new, |previous| {
            let mut announced = previous.announced.lock().unwrap_or_else(|p| p.into_inner());
            std::mem::take(&mut *announced)
        });
        let (outbox, pending) = sync_channel(PENDING_ALERTS);
        let webhook = config.webhook.clone();
        std::thread::Builder::new()
            .name("serve-alerts".into())
            .spawn(move || deliver(&webhook, &masker, &pending))?;
        Ok(Self {
            config,
            announced: Mutex::new(announced),
            outbox,
        })
    }

    /// `suite` starts in `state`, left by an earlier monitor process (read from the history):
    /// when it had failed often enough to be announced, it counts as announced (reminders
    /// counting from now), so a restart does not repeat the "failing" alert and the recovery
    /// still sends "recovered".
    pub fn carry_over(&self, suite: &str, state: &SuiteState) {
        if state.passed || state.consecutive_failures < self.config.after {
            return;
        }
        let mut announced = self.announced.lock().unwrap_or_else(|p| p.into_inner());
        let entry = announced.entry(suite.to_owned()).or_default();
        entry.failing_since.get_or_insert_with(Instant::now);
    }

    /// A run of `suite` ended in `state`: queues a "failing", reminder or "recovered" alert
    /// when one is due.
    pub fn observe(&self, suite: &str, state: &SuiteState) {
        let mut announced = self.announced.lock().unwrap_or_else(|p| p.into_inner());
        let entry = announced.entry(suite.to_owned()).or_default();
        let kind = match (state.passed, entry.failing_since) {
            (true, Some(_)) => {
                entry.failing_since = None;
                "recovered"
            }
            (true, None) => return,
            (false, _) if state.consecutive_failures < self.config.after => return,
            (false, None) => {
                entry.failing_since = Some(Instant::now());
                "failing"
            }
            (false, Some(sent)) => match self.config.remind {
                Some(remind) if sent.elapsed() >= remind => {
                    entry.failing_since = Some(Instant::now());
                    "failing"
                }
                _ => return,
            },
        };
        drop(announced);
        let body = json!({
            "event": kind,
            "suite": suite,
            "run": state.run_id,
            "finished_at": rfc3339(state.finished_at),
            "consecutive_failures": state.consecutive_failures,
            "failing_steps": state.failing_steps,
        });
        match self.outbox.try_send(body.to_string()) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => stderr_warning(&format!(
                "alert for suite `{suite}` dropped: {PENDING_ALERTS} alerts are waiting for the webhook"
            )),
            Err(TrySendError::Disconnected(_)) => {
                stderr_warning("alert dropped: the alert thread is gone");
            }
        }
    }
}

/// Sends queued alerts one by one until the monitor drops the sender.
fn deliver(webhook: &str, masker: &Masker, pending: &Receiver<String>) {
    for body in pending {
        let call = HttpCall {
            method: "POST".into(),
            url: webhook.to_owned(),
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: Some(masker.mask(&body).into_owned()),
            timeout: ATTEMPT_TIMEOUT,
        };
        let mut wait = Duration::from_secs(1);
        for attempt in 1..=ATTEMPTS {
            let failure = match send(&call) {
                Ok(response) if (200..300).contains(&response.status) => break,
                Ok(response) => format!("the webhook answered {}", response.status),
                Err(error) => error.to_string(),
            };
            if attempt == ATTEMPTS {
                stderr_warning(&format!(
                    "alert not delivered after {ATTEMPTS} attempts: {}",
                    masker.mask(&failure)
                ));
                break;
            }
            std::thread::sleep(wait);
            wait = wait.saturating_mul(2);
        }
    }
}
