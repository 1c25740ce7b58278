//! The read-only endpoints answered from stored results: `/healthz` and `/metrics`. None of
//! them starts a run.

use std::sync::Arc;
use std::time::SystemTime;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::api::Api;
use super::runs::rfc3339;

/// `GET /healthz`: 200 when the latest run of every scheduled suite passed, else 503; a JSON
/// body per suite (outcome, age, failing steps, and whether that run was an earlier monitor
/// process's, seeded from the history at start-up).
pub async fn healthz(State(api): State<Arc<Api>>) -> Response {
    let catalog = api.monitor.catalog();
    let (states, _) = api.monitor.health.snapshot();
    let now = SystemTime::now();
    let mut healthy = true;
    let mut suites = serde_json::Map::new();
    for suite in catalog.scheduled() {
        let entry = match states.get(&suite.name) {
            Some(state) => {
                healthy &= state.passed;
                let mut entry = json!({
                    "outcome": if state.passed { "passed" } else { "failed" },
                    "run": state.run_id,
                    "finished_at": rfc3339(state.finished_at),
                    "age_seconds": now.duration_since(state.finished_at).map_or(0, |age| age.as_secs()),
                    "failing_steps": state.failing_steps,
                    "consecutive_failures": state.consecutive_failures,
                    "from_earlier_process": state.from_earlier_process,
                });
                if state.from_earlier_process {
                    entry["note"] = json!(
                        "a run of an earlier monitor process, read from the history at start-up; it stands until this monitor runs the suite"
                    );
                }
                entry
            }
            None => {
                healthy = false;
                json!({ "outcome": "unknown", "note": "no run has finished yet" })
            }
        };
        suites.insert(suite.name.clone(), entry);
    }
    let status = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body: Value = json!({
        "status": if healthy { "healthy" } else { "unhealthy" },
        "checked_at": rfc3339(now),
        "suites": suites,
    });
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(body),
    )
        .into_response()
}

/// `GET /metrics`: the Prometheus text exposition.
pub async fn metrics(State(api): State<Arc<Api>>) -> Response {
    let catalog = api.monitor.catalog();
    let (states, totals) = api.monitor.health.snapshot();
    let text = super::metrics::render(
        &catalog.settings.masker,
        &states,
        &totals,
        api.monitor.runs.queue_len(),
        api.monitor.runs.running(),
    );
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}
