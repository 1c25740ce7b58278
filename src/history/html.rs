//! `smoke-runner report --html`: one self-contained HTML file from the history — first the
//! run-level trend (each run's passed, failed and skipped steps and its duration), then the
//! last run (failures first, with their checks, output tail and log path; skipped steps that
//! share a reason as one line), an outcome grid of steps × runs, and duration trends drawn as
//! inline SVG.
//!
//! It must stay readable with a thousand steps: the long parts (every step, steps that passed
//! in every run, durations past the slowest [`SLOWEST_CHARTED`]) sit in closed `<details>`.
//!
//! The file must open from a CI artifact with no network: no scripts, no external styles,
//! fonts or images, no links out. Everything shown was masked before it was recorded, and
//! every string is escaped here.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use super::error::HistoryError;
use super::html_trend::write_run_trend;
use super::queries::{RunSummary, SeriesPoint, StepSeries, rfc3339};
use super::record::{Outcome, RunRecord, StepRecord};
use super::stats::{median, p95, trend};
use super::store::HistoryStore;

/// What goes into the report.
#[derive(Debug, Clone)]
pub struct HtmlOptions {
    /// How many of the newest runs the grid and the trends cover.
    pub runs: usize,
    /// When the report is made, for its footer.
    pub generated_at: SystemTime,
}

/// Renders the report from the history; `None` when no run is recorded yet.
pub fn render_html(
    store: &HistoryStore,
    options: &HtmlOptions,
) -> Result<Option<String>, HistoryError> {
    let Some(last) = store.last_run()? else {
        return Ok(None);
    };
    let (run_ids, series) = store.series(options.runs.max(1))?;
    let runs = store.runs(options.runs.max(1))?;
    Ok(Some(render(&last, &runs, &run_ids, &series, options)))
}

/// Steps with a duration chart of their own; slower ones first, the rest in a closed list.
const SLOWEST_CHARTED: usize = 25;
/// The table of every step of the last run starts open up to this many rows.
const OPEN_ROWS: usize = 100;

const STYLE: &str = "
body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;max-width:75rem;padding:0 1rem;color:#1b1f24;background:#fff}
h1{font-size:1.6rem;margin:0 0 .3rem}h2{font-size:1.2rem;margin:2rem 0 .6rem;border-bottom:1px solid #d0d7de;padding-bottom:.2rem}
h3{font-size:1rem;margin:0 0 .4rem}code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.85rem}
.meta{color:#57606a;margin:.2rem 0}.counts span{margin-right:1rem;font-weight:600}
.passed{color:#1a7f37}.degraded{color:#bc4c00}.flaky{color:#9a6700}.failed,.timed_out{color:#cf222e}.skipped{color:#6e7781}
.failure{border:1px solid #ffcecb;border-left:5px solid #cf222e;border-radius:6px;padding:.8rem 1rem;margin:.8rem 0;background:#fff8f7}
.failure ul{margin:.3rem 0 .5rem;padding-left:1.2rem}pre{background:#f6f8fa;border:1px solid #d0d7de;border-radius:6px;padding:.6rem;overflow-x:auto;white-space:pre-wrap;word-break:break-all;max-height:24rem}
table{border-collapse:collapse;margin:.4rem 0}th,td{border:1px solid #d0d7de;padding:.2rem .45rem;text-align:left;vertical-align:middle}
th{background:#f6f8fa;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}
.grid td.cell{text-align:center;width:1.6rem;padding:.1rem;font-weight:700}
.grid td.cell.passed{background:#dafbe1}.grid td.cell.degraded{background:#fff1e5}.grid td.cell.flaky{background:#fff8c5}.grid td.cell.failed,.grid td.cell.timed_out{background:#ffebe9}
.grid td.cell.skipped{background:#f6f8fa}.grid td.cell.absent{background:#fff;color:#d0d7de}
.legend span{margin-right:1rem}.ok{border-left-color:#1a7f37}
footer{margin-top:2.5rem;color:#6e7781;font-size:.85rem}
.duration{color:#0969da}details{margin:.4rem 0}summary{cursor:pointer;font-weight:600;color:#57606a}
svg.trend{max-width:100%;height:auto}
";

fn render(
    last: &RunRecord,
    runs: &[RunSummary],
    run_ids: &[String],
    series: &[StepSeries],
    options: &HtmlOptions,
) -> String {
    let mut html = String::with_capacity(64 * 1024);
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>smoke-runner report: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(&last.run_id)
    );
    write_header(&mut html, last);
    write_run_trend(&mut html, runs);
    write_failures(&mut html, last);
    write_steps(&mut html, last);
    write_grid(&mut html, run_ids, series);
    write_trends(&mut html, run_ids.len(), series);
    let _ = write!(
        html,
        "<footer>Made by smoke-runner {} at {} from the last {} run(s) in the history.</footer>\n\
         </body>\n</html>\n",
        env!("CARGO_PKG_VERSION"),
        rfc3339(options.generated_at),
        run_ids.len()
    );
    html
}

fn write_header(html: &mut String, run: &RunRecord) {
    let duration = run
        .finished_at
        .duration_since(run.started_at)
        .unwrap_or_default();
    let _ = write!(
        html,
        "<h1>smoke-runner report</h1>\n<p class=\"meta\">Last run <code>{}</code>, started {}, took {}, exit status {}{}",
        escape(&run.run_id),
        rfc3339(run.started_at),
        seconds(duration),
        run.exit_status,
        if run.interrupted {
            " (interrupted)"
        } else {
            ""
        },
    );
    for (label, value) in [
        ("commit", &run.git_commit),
        ("branch", &run.git_branch),
        ("label", &run.label),
        ("host", &run.host),
        ("shard", &run.shard),
    ] {
        if let Some(value) = value {
            let _ = write!(html, ", {label} <code>{}</code>", escape(value));
        }
    }
    html.push_str("</p>\n");
    write_counts(html, run, duration);
}

/// The summary line every report prints: `Failed` counts the timeouts, `Timeouts` says how many
/// of them there were (a part of `Failed`, not added to it); `Passed` and `Degraded` alike.
fn write_counts(html: &mut String, run: &RunRecord, duration: Duration) {
    let count = |outcome: Outcome| run.steps().filter(|s| s.outcome == outcome).count();
    let timed_out = count(Outcome::TimedOut);
    let degraded = count(Outcome::Degraded);
    let total = run.steps().count();
    html.push_str("<p class=\"counts\">");
    for (class, label, value) in [
        ("", "Total", total),
        ("passed", "Passed", count(Outcome::Passed) + degraded),
        ("degraded", "Degraded", degraded),
        ("flaky", "Flaky", count(Outcome::Flaky)),
        ("failed", "Failed", count(Outcome::Failed) + timed_out),
        ("timed_out", "Timeouts", timed_out),
        ("skipped", "Skipped", count(Outcome::Skipped)),
    ] {
        let _ = write!(html, "<span class=\"{class}\">{label}: {value}</span>");
    }
    let _ = writeln!(html, "<span>Duration: {}</span></p>", seconds(duration));
}

fn write_failures(html: &mut String, run: &RunRecord) {
    let failures: Vec<&StepRecord> = run.steps().filter(|s| s.outcome.is_fail()).collect();
    let _ = writeln!(
        html,
        "<h2 id=\"failures\">Failures ({})</h2>",
        failures.len()
    );
    if failures.is_empty() {
        html.push_str("<p class=\"passed\">No step failed in the last run.</p>\n");
    }
    for step in failures {
        let _ = write!(
            html,
            "<section class=\"failure\">\n<h3><span class=\"{}\">{}</span> {}</h3>\n<p class=\"meta\">",
            step.outcome.as_str(),
            symbol(step.outcome),
            escape(&step.test_name)
        );
        if let Some(location) = location(step) {
            let _ = write!(html, "<code>{}</code> · ", escape(&location));
        }
        let _ = write!(
            html,
            "{} · {} · {} attempt(s)",
            escape(&step.status),
            seconds(step.duration),
            step.attempts
        );
        if step.leftovers > 0 {
            let _ = write!(html, " · {} leftover process(es) killed", step.leftovers);
        }
        html.push_str("</p>\n");
        if !step.checks.is_empty() {
            html.push_str("<ul class=\"checks\">\n");
            for check in &step.checks {
                let _ = write!(html, "<li>{}", escape(&check.message));
                if let (Some(expected), Some(actual)) = (&check.expected, &check.actual)
                    && !check.message.contains(actual.as_str())
                {
                    let _ = write!(
                        html,
                        "<br>expected: <code>{}</code><br>actual: <code>{}</code>",
                        escape(expected),
                        escape(actual)
                    );
                }
                html.push_str("</li>\n");
            }
            html.push_str("</ul>\n");
        }
        if !step.output_tail.is_empty() {
            let _ = writeln!(
                html,
                "<p>Last lines of output:</p>\n<pre>{}</pre>",
                escape(&step.output_tail)
            );
        }
        if let Some(log) = &step.log_path {
            let _ = writeln!(html, "<p>Full log: <code>{}</code></p>", escape(log));
        }
        html.push_str("</section>\n");
    }
}

fn write_steps(html: &mut String, run: &RunRecord) {
    let mut rows = String::new();
    let mut count = 0;
    for suite in &run.suites {
        let mut steps = suite.steps.iter().peekable();
        while let Some(step) = steps.next() {
            count += 1;
            // Skipped steps that share a reason (a missing program, a failed setup) are one
            // line, not one row each.
            let mut skipped_alike = 1;
            if step.outcome == Outcome::Skipped {
                while steps
                    .next_if(|next| {
                        next.outcome == Outcome::Skipped && next.skip_reason == step.skip_reason
                    })
                    .is_some()
                {
                    skipped_alike += 1;
                }
            }
            if skipped_alike > 1 {
                let _ = writeln!(
                    rows,
                    "<tr class=\"group\"><td class=\"mono\">{} steps of {} (from {})</td>\
                     <td class=\"skipped\" colspan=\"4\">skipped ({})</td></tr>",
                    skipped_alike,
                    escape(&suite.name),
                    escape(&step.test_name),
                    escape(step.skip_reason.as_deref().unwrap_or("no reason given")),
                );
            } else {
                write_step_row(&mut rows, step);
            }
        }
    }
    let _ = write!(
        html,
        "<h2 id=\"steps\">Every step of the last run</h2>\n<details{}><summary>{count} row(s)</summary>\n<table>\n\
         <tr><th>step</th><th>outcome</th><th>duration</th><th>attempts</th><th>where</th></tr>\n{rows}</table></details>\n",
        if count <= OPEN_ROWS { " open" } else { "" },
    );
}

fn write_step_row(rows: &mut String, step: &StepRecord) {
    let outcome = match &step.skip_reason {
        Some(reason) => format!("{} ({})", outcome_words(step.outcome), escape(reason)),
        None => outcome_words(step.outcome).to_owned(),
    };
    let _ = writeln!(
        rows,
        "<tr><td class=\"mono\">{}</td><td class=\"{}\">{}</td><td class=\"num\">{}</td>\
         <td class=\"num\">{}</td><td class=\"mono\">{}</td></tr>",
        escape(&step.test_name),
        step.outcome.as_str(),
        outcome,
        seconds(step.duration),
        step.attempts,
        escape(&location(step).unwrap_or_default()),
    );
}

fn write_grid(html: &mut String, run_ids: &[String], series: &[StepSeries]) {
    let _ = write!(
        html,
        "<h2 id=\"grid\">Outcomes over the last {} run(s)</h2>\n<p class=\"legend\">oldest run on the left; \
         <span class=\"passed\">✓ passed</span><span class=\"degraded\">! passed, slow</span>\
         <span class=\"flaky\">~ passed on retry</span>\
         <span class=\"failed\">✗ failed</span><span class=\"timed_out\">T timed out</span>\
         <span class=\"skipped\">– skipped</span><span>· not in that run</span></p>\n",
        run_ids.len()
    );
    // With many steps, those that passed in every run shown are folded away.
    let (shown, folded): (Vec<&StepSeries>, Vec<&StepSeries>) = if series.len() <= OPEN_ROWS {
        (series.iter().collect(), Vec::new())
    } else {
        series.iter().partition(|step| {
            step.points.iter().any(|p| p.outcome != Outcome::Passed)
                || step.points.len() < run_ids.len()
        })
    };
    write_grid_table(html, run_ids, &shown);
    if !folded.is_empty() {
        let _ = writeln!(
            html,
            "<details><summary>{} step(s) passed in every run shown</summary>",
            folded.len()
        );
        write_grid_table(html, run_ids, &folded);
        html.push_str("</details>\n");
    }
}

fn write_grid_table(html: &mut String, run_ids: &[String], steps: &[&StepSeries]) {
    html.push_str("<table class=\"grid\">\n<tr><th>step</th>");
    for (index, run_id) in run_ids.iter().enumerate() {
        let _ = write!(html, "<th title=\"{}\">{}</th>", escape(run_id), index + 1);
    }
    html.push_str("</tr>\n");
    for step in steps {
        let _ = write!(
            html,
            "<tr><td class=\"mono\">{}</td>",
            escape(&step.test_name)
        );
        let mut points = step.points.iter().peekable();
        for (index, run_id) in run_ids.iter().enumerate() {
            // A step appears once per run; a second record in the same run (never written by
            // a live run) is shown by its last outcome.
            let mut here: Option<&SeriesPoint> = None;
            while let Some(point) = points.next_if(|p| p.run_index == index) {
                here = Some(point);
            }
            match here {
                Some(point) => {
                    let _ = write!(
                        html,
                        "<td class=\"cell {0}\" title=\"{1}: {2}, {3}\">{4}</td>",
                        point.outcome.as_str(),
                        escape(run_id),
                        outcome_words(point.outcome),
                        seconds(point.duration),
                        symbol(point.outcome)
                    );
                }
                None => html.push_str("<td class=\"cell absent\" title=\"not in this run\">·</td>"),
            }
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</table>\n");
}

fn write_trends(html: &mut String, runs: usize, series: &[StepSeries]) {
    html.push_str(
        "<h2 id=\"trends\">Durations</h2>\n<p class=\"legend\">slowest first; each chart spans the runs above, \
         oldest on the left; a red dot is a failure</p>\n",
    );
    let mut rows: Vec<(&StepSeries, Vec<&SeriesPoint>)> = series
        .iter()
        .map(|s| (s, s.points.iter().filter(|p| p.outcome.ran()).collect()))
        .filter(|(_, ran): &(&StepSeries, Vec<&SeriesPoint>)| !ran.is_empty())
        .collect();
    rows.sort_by_key(|(_, ran)| {
        std::cmp::Reverse(median(&ran.iter().map(|p| p.duration).collect::<Vec<_>>()))
    });
    let rest = rows.split_off(rows.len().min(SLOWEST_CHARTED));
    write_trend_table(html, runs, &rows, true);
    if !rest.is_empty() {
        let _ = writeln!(
            html,
            "<details><summary>{} quicker step(s)</summary>",
            rest.len()
        );
        write_trend_table(html, runs, &rest, false);
        html.push_str("</details>\n");
    }
}

/// Rows of the durations table; a chart each when `charts`.
fn write_trend_table(
    html: &mut String,
    runs: usize,
    rows: &[(&StepSeries, Vec<&SeriesPoint>)],
    charts: bool,
) {
    html.push_str("<table>\n<tr><th>step</th><th>median</th><th>p95</th><th>trend</th>");
    html.push_str(if charts {
        "<th>duration per run</th></tr>\n"
    } else {
        "</tr>\n"
    });
    for (step, ran) in rows {
        let durations: Vec<Duration> = ran.iter().map(|p| p.duration).collect();
        let (trend, change) = trend(&durations);
        let _ = write!(
            html,
            "<tr><td class=\"mono\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td>{} ({:+.0}%)</td>",
            escape(&step.test_name),
            seconds(median(&durations).unwrap_or_default()),
            seconds(p95(&durations).unwrap_or_default()),
            trend.as_str(),
            change * 100.0,
        );
        if charts {
            let _ = write!(html, "<td>{}</td>", sparkline(&step.test_name, runs, ran));
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</table>\n");
}

/// A small line chart of one step's durations; x is the run's position among `runs`.
fn sparkline(name: &str, runs: usize, points: &[&SeriesPoint]) -> String {
    const WIDTH: f64 = 260.0;
    const HEIGHT: f64 = 56.0;
    const PAD: f64 = 6.0;
    let max = points
        .iter()
        .map(|p| p.duration.as_secs_f64())
        .fold(0.0_f64, f64::max)
        .max(1e-6);
    let x = |index: usize| match runs {
        0 | 1 => WIDTH / 2.0,
        n => PAD + index as f64 * (WIDTH - 2.0 * PAD) / (n - 1) as f64,
    };
    let y = |d: Duration| HEIGHT - PAD - d.as_secs_f64() / max * (HEIGHT - 2.0 * PAD - 10.0);
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg width=\"{WIDTH}\" height=\"{HEIGHT}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" \
         aria-label=\"durations of {0}\"><title>durations of {0}, max {1}</title>\
         <rect x=\"0\" y=\"0\" width=\"{WIDTH}\" height=\"{HEIGHT}\" fill=\"#f6f8fa\"/>\
         <text x=\"{PAD}\" y=\"11\" font-size=\"9\" fill=\"#57606a\">max {1}</text>",
        escape(name),
        seconds(Duration::from_secs_f64(max)),
    );
    if points.len() > 1 {
        svg.push_str("<polyline fill=\"none\" stroke=\"#0969da\" stroke-width=\"1.5\" points=\"");
        for point in points {
            let _ = write!(svg, "{:.1},{:.1} ", x(point.run_index), y(point.duration));
        }
        svg.push_str("\"/>");
    }
    for point in points {
        let color = if point.outcome.is_fail() {
            "#cf222e"
        } else {
            "#0969da"
        };
        let _ = write!(
            svg,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.6\" fill=\"{color}\"><title>{}: {}</title></circle>",
            x(point.run_index),
            y(point.duration),
            outcome_words(point.outcome),
            seconds(point.duration)
        );
    }
    svg.push_str("</svg>");
    svg
}

fn location(step: &StepRecord) -> Option<String> {
    let file = step.file.as_ref()?;
    Some(match step.line {
        Some(line) => format!("{file}:{line}"),
        None => file.clone(),
    })
}

fn outcome_words(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Passed => "passed",
        Outcome::Degraded => "passed, over its warn_duration",
        Outcome::Flaky => "passed on retry",
        Outcome::Failed => "failed",
        Outcome::TimedOut => "timed out",
        Outcome::Skipped => "skipped",
    }
}

fn symbol(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Passed => "✓",
        Outcome::Degraded => "!",
        Outcome::Flaky => "~",
        Outcome::Failed => "✗",
        Outcome::TimedOut => "T",
        Outcome::Skipped => "–",
    }
}

pub(super) fn seconds(duration: Duration) -> String {
    let secs = duration.as_secs_f64();
    if secs < 1.0 {
        format!("{:.0}ms", secs * 1000.0)
    } else {
        format!("{secs:.2}s")
    }
}

/// Escapes text for HTML element content and quoted attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            // Control characters other than newline and tab make no sense in a page.
            c if c.is_control() && c != '\n' && c != '\t' => escaped.push('\u{FFFD}'),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape("<script>\"a\" & 'b'</script>\u{1b}[31m"),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;\u{FFFD}[31m"
        );
    }
}
