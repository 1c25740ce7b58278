//! The HTML report's first chart: every run of the window as a bar of its steps (passed,
//! failed, skipped) with the run's duration as a line over them, oldest on the left. Inline
//! SVG, no script; each bar says its numbers in a tooltip and the table below repeats them for
//! readers without a pointer.

use std::fmt::Write as _;

use super::queries::RunSummary;

const WIDTH: f64 = 900.0;
const HEIGHT: f64 = 180.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 56.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 22.0;

/// The run-level trend of `runs` (newest first, as `HistoryStore::runs` gives them).
pub(super) fn write_run_trend(html: &mut String, runs: &[RunSummary]) {
    let oldest_first: Vec<&RunSummary> = runs.iter().rev().collect();
    let _ = write!(
        html,
        "<h2 id=\"trend\">Runs: outcomes and duration over the last {} run(s)</h2>\n\
         <p class=\"legend\">oldest on the left; bars: <span class=\"passed\">■ passed</span>\
         <span class=\"failed\">■ failed (timeouts included)</span><span class=\"skipped\">■ skipped</span>; \
         line: <span class=\"duration\">● run duration</span></p>\n",
        runs.len()
    );
    html.push_str(&svg(&oldest_first));
    html.push('\n');
    write_table(html, &oldest_first);
}

fn svg(runs: &[&RunSummary]) -> String {
    let steps = |r: &RunSummary| {
        (r.passed + r.degraded + r.flaky + r.failed + r.timed_out + r.skipped) as f64
    };
    let max_steps = runs.iter().map(|r| steps(r)).fold(1.0_f64, f64::max);
    let max_secs = runs.iter().map(|r| r.duration_s).fold(1e-3_f64, f64::max);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let slot = plot_w / runs.len().max(1) as f64;
    let bar = (slot * 0.7).clamp(1.0, 40.0);
    let y_steps = |n: f64| TOP + plot_h - n / max_steps * plot_h;
    let mut svg = String::with_capacity(512 + runs.len() * 400);
    let _ = write!(
        svg,
        "<svg class=\"trend\" width=\"{WIDTH}\" height=\"{HEIGHT}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" \
         role=\"img\" aria-label=\"steps passed, failed and skipped, and duration, per run\">\
         <rect x=\"0\" y=\"0\" width=\"{WIDTH}\" height=\"{HEIGHT}\" fill=\"#f6f8fa\"/>\
         <text x=\"4\" y=\"{TOP}\" font-size=\"10\" fill=\"#57606a\">{max_steps} steps</text>\
         <text x=\"{}\" y=\"{TOP}\" font-size=\"10\" fill=\"#0969da\">{}</text>\
         <text x=\"4\" y=\"{}\" font-size=\"10\" fill=\"#57606a\">0</text>",
        WIDTH - RIGHT + 4.0,
        seconds(max_secs),
        TOP + plot_h,
    );
    let mut line = String::new();
    for (index, run) in runs.iter().enumerate() {
        let x = LEFT + slot * index as f64 + (slot - bar) / 2.0;
        let failed = (run.failed + run.timed_out) as f64;
        let passed = (run.passed + run.degraded + run.flaky) as f64;
        let mut base = 0.0;
        for (count, color) in [
            (passed, "#2da44e"),
            (failed, "#cf222e"),
            (run.skipped as f64, "#afb8c1"),
        ] {
            if count > 0.0 {
                let _ = write!(
                    svg,
                    "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{bar:.1}\" height=\"{:.1}\" fill=\"{color}\"/>",
                    y_steps(base + count),
                    y_steps(base) - y_steps(base + count),
                );
            }
            base += count;
        }
        let _ = write!(
            svg,
            "<rect x=\"{x:.1}\" y=\"{TOP}\" width=\"{bar:.1}\" height=\"{plot_h}\" fill-opacity=\"0\">\
             <title>{}: {passed} passed, {failed} failed ({} timed out), {} skipped, {}</title></rect>",
            escape(&run.run_id),
            run.timed_out,
            run.skipped,
            seconds(run.duration_s)
        );
        let cx = x + bar / 2.0;
        let cy = TOP + plot_h - run.duration_s / max_secs * plot_h;
        let _ = write!(line, "{cx:.1},{cy:.1} ");
    }
    if runs.len() > 1 {
        let _ = write!(
            svg,
            "<polyline fill=\"none\" stroke=\"#0969da\" stroke-width=\"2\" points=\"{}\"/>",
            line.trim_end()
        );
    }
    for point in line.split_whitespace() {
        if let Some((cx, cy)) = point.split_once(',') {
            let _ = write!(
                svg,
                "<circle cx=\"{cx}\" cy=\"{cy}\" r=\"2.5\" fill=\"#0969da\"/>"
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// The same numbers as a table, newest run first, the ten newest open.
fn write_table(html: &mut String, oldest_first: &[&RunSummary]) {
    html.push_str(
        "<details class=\"runs\"><summary>The runs in numbers</summary>\n<table>\n\
         <tr><th>run</th><th>started</th><th>branch</th><th>label</th><th>passed</th><th>degraded</th><th>failed</th><th>timeouts</th>\
         <th>skipped</th><th>duration</th><th>exit</th></tr>\n",
    );
    for run in oldest_first.iter().rev() {
        let _ = writeln!(
            html,
            "<tr><td class=\"mono\">{}</td><td>{}</td><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td class=\"num passed\">{}</td>\
             <td class=\"num degraded\">{}</td><td class=\"num failed\">{}</td><td class=\"num\">{}</td><td class=\"num skipped\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            escape(&run.run_id),
            escape(&run.started_at),
            escape(run.git_branch.as_deref().unwrap_or("-")),
            escape(run.label.as_deref().unwrap_or("-")),
            run.passed + run.degraded + run.flaky,
            run.degraded,
            run.failed + run.timed_out,
            run.timed_out,
            run.skipped,
            seconds(run.duration_s),
            run.exit_status
        );
    }
    html.push_str("</table></details>\n");
}

fn seconds(secs: f64) -> String {
    super::html::seconds(std::time::Duration::from_secs_f64(secs.max(0.0)))
}

fn escape(text: &str) -> String {
    super::html::escape(text)
}
