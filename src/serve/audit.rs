//! The audit log's side of the API: a layer that records who called what and what came of it,
//! and `GET /api/audit`, which reads the log back.
//!
//! Recorded: every call that changes something (any method but GET and HEAD), every call
//! refused for its token, and every read of the audit log; not the routine reads (`/healthz`,
//! `/metrics`, run status), which a scraper makes every few seconds. Who a caller is, is what
//! the request proved: `token`, `wrong token` or `anonymous`, and its address. The token itself
//! never reaches the log, and the path goes through the masker.

use std::sync::Arc;
use std::time::SystemTime;

use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::api::{Api, error};
use super::runs::rfc3339;
use super::server::RemoteAddr;
use super::state::AuditEntry;

/// The longest path kept in an entry.
const MAX_PATH: usize = 256;

/// The most entries `GET /api/audit` returns.
pub const MAX_AUDIT_LIST: usize = 1000;

/// What a handler adds to its answer for the audit log: the suites and the run concerned.
#[derive(Debug, Clone, Default)]
pub struct AuditNote {
    /// The suites a trigger named.
    pub suites: Option<Vec<String>>,
    /// The run queued or cancelled.
    pub run_id: Option<String>,
}

/// Who the request says it is.
pub fn identity(api: &Api, headers: &HeaderMap) -> &'static str {
    let given = headers.get(header::AUTHORIZATION).map(|v| v.as_bytes());
    match (&api.token, given) {
        (_, None) => "anonymous",
        (Some(token), Some(_)) if token.accepts(given) => "token",
        _ => "wrong token",
    }
}

/// The layer: runs the request, then records it when it is one the log keeps.
pub async fn record(State(api): State<Arc<Api>>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let remote =
        (request.extensions().get::<RemoteAddr>()).map(|RemoteAddr(addr)| addr.ip().to_string());
    let who = identity(&api, request.headers());
    let response = next.run(request).await;
    let status = response.status();
    let audited = !matches!(method, Method::GET | Method::HEAD)
        || path.starts_with("/api/audit")
        || status == StatusCode::UNAUTHORIZED;
    let Some(state) = api.monitor.runs.state().filter(|_| audited) else {
        return response;
    };
    let note = response.extensions().get::<AuditNote>().cloned();
    let masker = api.monitor.catalog().settings.masker.clone();
    let path: String = masker.mask(&path).chars().take(MAX_PATH).collect();
    state.audit(AuditEntry {
        at: rfc3339(SystemTime::now()),
        who: who.to_owned(),
        remote,
        method: method.as_str().chars().take(16).collect(),
        path,
        suites: note.as_ref().and_then(|note| note.suites.clone()),
        run_id: note.and_then(|note| note.run_id),
        status: status.as_u16(),
    });
    response
}

#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    limit: Option<usize>,
}

/// `GET /api/audit?limit=N`: the newest entries first (token needed).
pub async fn audit_log(
    State(api): State<Arc<Api>>,
    headers: HeaderMap,
    Query(query): Query<AuditQuery>,
) -> Response {
    if let Some(response) = super::api::refused(&api, &headers) {
        return response;
    }
    let limit = query.limit.unwrap_or(100).min(MAX_AUDIT_LIST);
    let monitor = api.monitor.clone();
    let read = tokio::task::spawn_blocking(move || match monitor.runs.state() {
        Some(state) => {
            // Every call answered before this one is in the answer.
            state.flush(std::time::Duration::from_secs(10));
            state.audit_log(limit).map(Some)
        }
        None => Ok(None),
    })
    .await;
    match read {
        Ok(Ok(Some(entries))) => axum::Json(json!({ "entries": entries })).into_response(),
        Ok(Ok(None)) => error(
            StatusCode::NOT_FOUND,
            "the audit log is kept in the history, which is off (--no-history)",
        ),
        Ok(Err(message)) => error(StatusCode::INTERNAL_SERVER_ERROR, &message),
        Err(_) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the audit log read failed",
        ),
    }
}
