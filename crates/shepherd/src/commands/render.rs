//! Rendering plans and apply reports for people (text, coloured on a terminal) and tools
//! (JSON).

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};

use serde::Serialize;
use shepherd_core::display::count;
use shepherd_core::plan::{Action, Change, FunctionPlan};
use shepherd_engine::execute::{FunctionReport, Outcome};
use shepherd_engine::stats::CallStats;

/// ANSI colours, off when the output is not a terminal or NO_COLOR is set.
pub struct Style {
    on: bool,
}

impl Style {
    pub fn for_stdout() -> Self {
        Self {
            on: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    pub fn green(&self, text: &str) -> String {
        self.paint("32", text)
    }
    pub fn yellow(&self, text: &str) -> String {
        self.paint("33", text)
    }
    pub fn red(&self, text: &str) -> String {
        self.paint("31", text)
    }
    pub fn dim(&self, text: &str) -> String {
        self.paint("2", text)
    }
}

fn is_create(plan: &FunctionPlan) -> bool {
    matches!(plan.actions.first(), Some(Action::CreateFunction { .. }))
}

fn is_delete(plan: &FunctionPlan) -> bool {
    matches!(plan.actions.first(), Some(Action::DeleteFunction { .. }))
}

/// The readable plan: one block per function with changes, then a summary line.
pub fn plan_text(
    plans: &[FunctionPlan],
    errors: &BTreeMap<String, String>,
    style: &Style,
    out: &mut impl Write,
) -> std::io::Result<()> {
    let (mut create, mut change, mut delete, mut unchanged) = (0, 0, 0, 0);
    for plan in plans {
        if let Some(reason) = plan.next.refusal() {
            writeln!(out, "{} {}: {reason}", style.red("!"), plan.name)?;
            continue;
        }
        if let Some(note) = plan.note() {
            writeln!(out, "{} {}: {note}", style.yellow("!"), plan.name)?;
        }
        if plan.actions.is_empty() {
            unchanged += 1;
            continue;
        }
        let (mark, note) = if is_create(plan) {
            create += 1;
            (style.green("+"), "create".to_owned())
        } else if is_delete(plan) {
            delete += 1;
            (style.red("-"), "delete".to_owned())
        } else {
            change += 1;
            (
                style.yellow("~"),
                if plan.drift {
                    "update, drift detected".to_owned()
                } else {
                    "update".to_owned()
                },
            )
        };
        writeln!(out, "{mark} {} ({note})", plan.name)?;
        for action in &plan.actions {
            writeln!(out, "    {action}")?;
            for Change { field, from, to } in action.changes() {
                writeln!(
                    out,
                    "        {field}: {} -> {}",
                    style.red(from),
                    style.green(to)
                )?;
            }
        }
    }
    for (name, error) in errors {
        writeln!(out, "{} {name}: {error}", style.red("!"))?;
    }
    writeln!(
        out,
        "Plan: {create} to create, {change} to change, {delete} to delete, {unchanged} unchanged{}.",
        if errors.is_empty() {
            String::new()
        } else {
            format!(", {} failed", errors.len())
        }
    )
}

#[derive(Serialize)]
struct JsonAction<'a> {
    action: &'static str,
    description: String,
    changes: &'a [Change],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonPlan<'a> {
    name: &'a str,
    drift: bool,
    note: Option<String>,
    refused: Option<String>,
    release_failed: Option<String>,
    actions: Vec<JsonAction<'a>>,
}

#[derive(Serialize)]
struct JsonPlanReport<'a> {
    changes: bool,
    functions: Vec<JsonPlan<'a>>,
    errors: &'a BTreeMap<String, String>,
}

pub fn plan_json(plans: &[FunctionPlan], errors: &BTreeMap<String, String>) -> String {
    let functions = plans
        .iter()
        .map(|p| JsonPlan {
            name: &p.name,
            drift: p.drift,
            note: p.note(),
            refused: p.next.refusal().map(ToString::to_string),
            release_failed: p.next.release_failure().map(|f| f.summary()),
            actions: p
                .actions
                .iter()
                .map(|a| JsonAction {
                    action: a.kind(),
                    description: a.to_string(),
                    changes: a.changes(),
                })
                .collect(),
        })
        .collect();
    let report = JsonPlanReport {
        changes: plans.iter().any(|p| !p.actions.is_empty()),
        functions,
        errors,
    };
    serde_json::to_string_pretty(&report).unwrap_or_default()
}

/// The apply summary: one line per function, then the AWS calls made. A function whose
/// release was rolled back or aborted (`release_failures`) is a failure, whatever was
/// applied to it.
pub fn apply_text(
    reports: &[FunctionReport],
    release_failures: &BTreeMap<String, String>,
    stats: &CallStats,
    seconds: f64,
    style: &Style,
    out: &mut impl Write,
) -> std::io::Result<()> {
    for report in reports {
        if let Some(failure) = release_failures.get(&report.name) {
            writeln!(out, "{} {}: {failure}", style.red("✗"), report.name)?;
            continue;
        }
        match &report.outcome {
            Outcome::Unchanged => writeln!(out, "{} {}: unchanged", style.dim("="), report.name)?,
            Outcome::Applied => {
                let drift = if report.drift_corrected {
                    ", drift corrected"
                } else {
                    ""
                };
                writeln!(
                    out,
                    "{} {}: {} applied{drift}",
                    style.green("✓"),
                    report.name,
                    count(report.done.len(), "change")
                )?;
            }
            Outcome::Refused { reason } => {
                writeln!(out, "{} {}: {reason}", style.red("!"), report.name)?
            }
            Outcome::Failed { error, .. } => {
                writeln!(out, "{} {}: failed: {error}", style.red("✗"), report.name)?
            }
        }
        for skipped in &report.skipped {
            writeln!(out, "    {} skipped: {skipped}", style.yellow("!"))?;
        }
    }
    let is_failed = |r: &FunctionReport| {
        release_failures.contains_key(&r.name)
            || matches!(r.outcome, Outcome::Failed { .. } | Outcome::Refused { .. })
    };
    let failed = reports.iter().filter(|r| is_failed(r)).count();
    let applied = reports
        .iter()
        .filter(|r| r.outcome == Outcome::Applied && !is_failed(r))
        .count();
    writeln!(
        out,
        "Apply: {applied} changed, {} unchanged, {failed} failed in {seconds:.1}s; AWS calls: {} reads, {} writes, {} throttled.",
        reports.len() - applied - failed,
        stats.reads(),
        stats.writes(),
        stats.throttles()
    )
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonApply<'a> {
    functions: &'a [FunctionReport],
    /// Functions whose release was rolled back or aborted, with why.
    release_failures: &'a BTreeMap<String, String>,
    reads: u64,
    writes: u64,
    throttled: u64,
    seconds: f64,
}

pub fn apply_json(
    reports: &[FunctionReport],
    release_failures: &BTreeMap<String, String>,
    stats: &CallStats,
    seconds: f64,
) -> String {
    serde_json::to_string_pretty(&JsonApply {
        functions: reports,
        release_failures,
        reads: stats.reads(),
        writes: stats.writes(),
        throttled: stats.throttles(),
        seconds,
    })
    .unwrap_or_default()
}
