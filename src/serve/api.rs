//! The HTTP API: routes, the token check, request limits, and JSON in and out.
//!
//! Handlers only read the monitor's state, queue runs and cancel them; they never run a
//! command and never take a command, path or shell from a request: a run names configured
//! suites only.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use serde::Deserialize;
use serde_json::json;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};

use super::audit::AuditNote;
use super::monitor::Monitor;
use super::runs::{CancelOutcome, EnqueueRefused, RunRequest, Trigger};
use super::token::Token;

/// The largest request body accepted.
pub const MAX_BODY: usize = 64 * 1024;

/// How long a request (its body included) may take.
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(10);

/// The most runs `GET /api/runs` lists.
pub const MAX_LIST: usize = 200;

/// What the handlers share.
pub struct Api {
    /// The monitor.
    pub monitor: Arc<Monitor>,
    /// The token POST and DELETE need; without one they are refused.
    pub token: Option<Token>,
}

type Shared = State<Arc<Api>>;

/// The API's routes, with their limits.
pub fn router(api: Arc<Api>) -> Router {
    Router::new()
        .route("/", get(super::status::status_page))
        .route("/healthz", get(super::pages::healthz))
        .route("/metrics", get(super::pages::metrics))
        .route("/api/runs", get(list_runs).post(trigger))
        .route("/api/runs/{id}", get(show_run).delete(cancel_run))
        .route("/api/runs/{id}/events", get(run_events))
        .route("/api/audit", get(super::audit::audit_log))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "no such endpoint") })
        .layer(axum::middleware::from_fn_with_state(
            api.clone(),
            super::audit::record,
        ))
        .with_state(api)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(RequestBodyLimitLayer::new(MAX_BODY))
        .layer(RequestBodyTimeoutLayer::new(REQUEST_DEADLINE))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_DEADLINE,
        ))
}

/// A JSON error body: `{"error": "…"}`.
pub fn error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({ "error": message }))).into_response()
}

/// `None` when the request carries the token, else the 401 answer.
pub fn refused(api: &Api, headers: &HeaderMap) -> Option<Response> {
    let given = headers
        .get(header::AUTHORIZATION)
        .map(HeaderValue::as_bytes);
    let message = match &api.token {
        Some(token) if token.accepts(given) => return None,
        Some(_) if given.is_none() => "this needs `Authorization: Bearer <token>`",
        Some(_) => "wrong token",
        None => {
            "no token is configured (set SMOKE_SERVE_TOKEN or --token-file), so runs cannot be triggered or cancelled"
        }
    };
    let mut response = error(StatusCode::UNAUTHORIZED, message);
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    Some(response)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TriggerBody {
    #[serde(default)]
    suites: Vec<String>,
    filter: Option<String>,
    commit: Option<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

async fn trigger(State(api): Shared, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(response) = refused(&api, &headers) {
        return response;
    }
    let body: TriggerBody = if body.iter().all(u8::is_ascii_whitespace) {
        TriggerBody {
            suites: Vec::new(),
            filter: None,
            commit: None,
            labels: BTreeMap::new(),
        }
    } else {
        match serde_json::from_slice(&body) {
            Ok(body) => body,
            Err(e) => return error(StatusCode::BAD_REQUEST, &format!("invalid request: {e}")),
        }
    };
    let request = match check_trigger(&api, body) {
        Ok(request) => request,
        Err(message) => return error(StatusCode::BAD_REQUEST, &message),
    };
    let suites = request.suites.clone();
    match api.monitor.runs.enqueue(Trigger::Api, request) {
        Ok(id) => (
            StatusCode::ACCEPTED,
            [(header::LOCATION, format!("/api/runs/{id}"))],
            Extension(AuditNote {
                suites: Some(suites),
                run_id: Some(id.clone()),
            }),
            axum::Json(json!({ "id": id, "status": "queued" })),
        )
            .into_response(),
        Err(EnqueueRefused::QueueFull) => error(
            StatusCode::TOO_MANY_REQUESTS,
            "the queue is full; try again when a run has finished",
        ),
        Err(EnqueueRefused::ShuttingDown) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the monitor is shutting down",
        ),
    }
}

/// The request, checked: configured suites only, bounded text.
fn check_trigger(api: &Api, body: TriggerBody) -> Result<RunRequest, String> {
    let catalog = api.monitor.catalog();
    let mut suites = body.suites;
    if suites.is_empty() {
        suites = catalog
            .suites
            .iter()
            .map(|suite| suite.name.clone())
            .collect();
    }
    // A suite named twice runs once: two copies at once would share its log files.
    let mut seen = std::collections::HashSet::new();
    suites.retain(|name| seen.insert(name.clone()));
    if let Some(unknown) = suites.iter().find(|name| catalog.suite(name).is_none()) {
        let known: Vec<&str> = catalog.suites.iter().map(|s| s.name.as_str()).collect();
        return Err(format!(
            "no watched suite is named `{}`; watched: {}",
            unknown.chars().take(100).collect::<String>(),
            known.join(", ")
        ));
    }
    let short = |what: &str, text: &str, max: usize| {
        if text.len() > max || text.chars().any(char::is_control) {
            Err(format!(
                "`{what}` must be at most {max} bytes of text without control characters"
            ))
        } else {
            Ok(())
        }
    };
    for text in body.filter.iter() {
        short("filter", text, 256)?;
    }
    for text in body.commit.iter() {
        short("commit", text, 100)?;
    }
    if body.labels.len() > 20 {
        return Err("at most 20 `labels`".into());
    }
    for (key, value) in &body.labels {
        short("labels", key, 64)?;
        short("labels", value, 256)?;
    }
    Ok(RunRequest {
        suites,
        filter: body.filter,
        commit: body.commit,
        labels: body.labels,
    })
}

/// A run this monitor holds in memory, else as the history last recorded it (a run of an
/// earlier monitor process, or one this one no longer keeps).
async fn show_run(State(api): Shared, Path(id): Path<String>) -> Response {
    if let Some(view) = api.monitor.runs.view(&id) {
        return axum::Json(view).into_response();
    }
    let monitor = api.monitor.clone();
    let found = tokio::task::spawn_blocking(move || match monitor.runs.state() {
        Some(state) => state.find_run(&id),
        None => Ok(None),
    })
    .await
    .unwrap_or_else(|_| Err("the history read failed".into()));
    match found {
        Ok(Some(view)) => axum::Json(view).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, "no run has this id"),
        Err(message) => error(StatusCode::INTERNAL_SERVER_ERROR, &message),
    }
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    suite: Option<String>,
    limit: Option<usize>,
}

/// The newest runs first: this monitor's from memory (live), then the history's.
async fn list_runs(State(api): Shared, Query(query): Query<ListQuery>) -> Response {
    let limit = query.limit.unwrap_or(20).min(MAX_LIST);
    let live = api.monitor.runs.list(query.suite.as_deref(), limit);
    let mut runs: Vec<serde_json::Value> = live
        .iter()
        .filter_map(|view| serde_json::to_value(view).ok())
        .collect();
    if runs.len() < limit {
        let monitor = api.monitor.clone();
        let suite = query.suite.clone();
        let recorded = tokio::task::spawn_blocking(move || match monitor.runs.state() {
            Some(state) => state.list_runs(suite.as_deref(), limit),
            None => Ok(Vec::new()),
        })
        .await
        .unwrap_or_else(|_| Err("the history read failed".into()));
        let recorded = match recorded {
            Ok(recorded) => recorded,
            Err(message) => return error(StatusCode::INTERNAL_SERVER_ERROR, &message),
        };
        let seen: std::collections::HashSet<String> =
            live.iter().map(|view| view.id.clone()).collect();
        for mut view in recorded {
            if runs.len() >= limit {
                break;
            }
            if view["id"].as_str().is_some_and(|id| seen.contains(id)) {
                continue;
            }
            if let Some(object) = view.as_object_mut() {
                object.insert("steps".into(), json!([]));
            }
            runs.push(view);
        }
    }
    axum::Json(json!({ "runs": runs })).into_response()
}

async fn cancel_run(State(api): Shared, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Some(response) = refused(&api, &headers) {
        return response;
    }
    let note = Extension(AuditNote {
        suites: None,
        run_id: Some(id.clone()),
    });
    match api.monitor.runs.cancel(&id) {
        CancelOutcome::Dequeued => {
            (note, axum::Json(json!({ "id": id, "status": "cancelled" }))).into_response()
        }
        CancelOutcome::Stopping => (
            StatusCode::ACCEPTED,
            note,
            axum::Json(json!({ "id": id, "status": "cancelling" })),
        )
            .into_response(),
        CancelOutcome::Unknown => error(StatusCode::NOT_FOUND, "no run has this id"),
        CancelOutcome::AlreadyOver(status) => error(
            StatusCode::CONFLICT,
            &format!("the run is over already ({})", status.as_str()),
        ),
        CancelOutcome::Starting => error(
            StatusCode::CONFLICT,
            "the run is being started; try again in a moment",
        ),
    }
}

/// The run's events as JSON lines (the `--json` schema), from its first event, following it
/// until it ends; a run this process no longer holds, from its saved events (`stored_events`).
async fn run_events(State(api): Shared, Path(id): Path<String>) -> Response {
    let runs = api.monitor.runs.clone();
    if runs.events_from(&id, 0).is_none() {
        return super::stored_events::answer(&api, id).await;
    }
    let stream = futures_util::stream::unfold(Some(0usize), move |from| {
        let runs = runs.clone();
        let id = id.clone();
        async move {
            let from = from?;
            loop {
                let mut batch = runs.events_from(&id, from)?;
                if !batch.lines.is_empty() {
                    let next = from + batch.lines.len();
                    let mut text = String::new();
                    for line in &batch.lines {
                        text.push_str(line);
                        text.push('\n');
                    }
                    let state = (!batch.over).then_some(next);
                    return Some((Ok::<_, Infallible>(Bytes::from(text)), state));
                }
                if batch.over || batch.changed.changed().await.is_err() {
                    return None;
                }
            }
        }
    });
    (
        [
            (header::CONTENT_TYPE, "application/x-ndjson"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}
