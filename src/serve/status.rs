//! `GET /`: the status page — every watched suite's state on top of the history's HTML report
//! (last failures, outcome grid, duration trends), reloading itself every 10 s. Like the
//! report, it fetches nothing: no scripts, styles, fonts or images from anywhere.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::SystemTime;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::history::{HistoryStore, HtmlOptions, escape_html as escape, render_html};

use super::api::Api;
use super::monitor::Monitor;
use super::runs::rfc3339;

/// Runs of the history the page's grid and trends cover.
const PAGE_RUNS: usize = 20;

/// How often the page reloads itself, seconds.
const REFRESH_SECS: u32 = 10;

/// `GET /`.
pub async fn status_page(State(api): State<Arc<Api>>) -> Response {
    let monitor = api.monitor.clone();
    let html = tokio::task::spawn_blocking(move || page(&monitor))
        .await
        .unwrap_or_else(|_| "<!DOCTYPE html><title>smoke-runner</title>the page failed".into());
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
            ),
        ],
        html,
    )
        .into_response()
}

/// The page: the suites' table in the history's report, or alone while the history is empty.
fn page(monitor: &Monitor) -> String {
    let table = suites_table(monitor);
    let refresh = format!("<meta http-equiv=\"refresh\" content=\"{REFRESH_SECS}\">\n");
    let report = monitor
        .history()
        .and_then(|history| HistoryStore::open_existing(history).ok())
        .and_then(|store| {
            let options = HtmlOptions {
                runs: PAGE_RUNS,
                generated_at: SystemTime::now(),
            };
            render_html(&store, &options).ok().flatten()
        });
    match report {
        Some(mut html) => {
            if let Some(at) = html.find("<head>") {
                html.insert_str(at + "<head>".len(), &format!("\n{refresh}"));
            }
            if let Some(at) = html.find("<body>") {
                html.insert_str(at + "<body>".len(), &format!("\n{table}"));
            }
            html
        }
        None => format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n{refresh}\
             <title>smoke-runner monitor</title>\n</head>\n<body>\n{table}\
             <p>No run is recorded in the history yet.</p>\n</body>\n</html>\n"
        ),
    }
}

/// Every watched suite: its state, when it last ran, what fails.
fn suites_table(monitor: &Monitor) -> String {
    let catalog = monitor.catalog();
    let (states, _) = monitor.health.snapshot();
    let masker = &catalog.settings.masker;
    let mut html = format!(
        "<section id=\"monitor\"><h1>Monitor</h1>\n<p>{} suite(s), {} run(s) queued, {} running; updated {}</p>\n\
         <table id=\"suites\"><thead><tr><th>suite</th><th>state</th><th>last run</th>\
         <th>failures in a row</th><th>failing steps</th></tr></thead><tbody>\n",
        catalog.suites.len(),
        monitor.runs.queue_len(),
        monitor.runs.running(),
        rfc3339(SystemTime::now()),
    );
    for suite in &catalog.suites {
        let (state, color, last, row_failures, failing) = match states.get(&suite.name) {
            Some(state) => (
                if state.passed { "passed" } else { "failed" },
                if state.passed { "#1a7f37" } else { "#cf222e" },
                match state.from_earlier_process {
                    true => format!(
                        "{} (before this monitor started)",
                        rfc3339(state.finished_at)
                    ),
                    false => rfc3339(state.finished_at),
                },
                state.consecutive_failures,
                state.failing_steps.join(", "),
            ),
            None => ("not run yet", "#57606a", String::new(), 0, String::new()),
        };
        let _ = writeln!(
            html,
            "<tr class=\"suite\"><td>{}</td><td style=\"color:{color};font-weight:bold\">{state}</td>\
             <td>{last}</td><td>{row_failures}</td><td>{}</td></tr>",
            escape(&masker.mask(&suite.name)),
            escape(&masker.mask(&failing)),
        );
    }
    html.push_str("</tbody></table></section>\n");
    html
}
