//! Condition and module results, and the table the runner prints.

use std::fmt;

/// How much a condition weighs, as in the certification suite (`ConditionResult`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// Not met: the module fails certification.
    Failure,
    /// Not met: shown, but certification is not refused.
    Warning,
    /// Logged only.
    Info,
}

impl Severity {
    pub fn tag(self) -> &'static str {
        match self {
            Severity::Failure => "F",
            Severity::Warning => "W",
            Severity::Info => "I",
        }
    }
}

/// One evaluated condition: the suite's condition class name, its severity, whether it held.
#[derive(Clone, Debug)]
pub struct Condition {
    pub name: String,
    pub severity: Severity,
    pub passed: bool,
    pub message: String,
}

/// The verdict on a whole module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    Passed,
    Warning,
    Failed,
    Skipped(String),
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Status::Passed => f.write_str("PASSED"),
            Status::Warning => f.write_str("WARNING"),
            Status::Failed => f.write_str("FAILED"),
            Status::Skipped(_) => f.write_str("SKIPPED"),
        }
    }
}

/// A module's result: its conditions and the status they add up to.
#[derive(Clone, Debug)]
pub struct ModuleResult {
    pub plan: String,
    pub module: String,
    pub status: Status,
    pub conditions: Vec<Condition>,
}

impl ModuleResult {
    /// FAILED if any failure-level condition did not hold, WARNING if only warning-level ones
    /// did not, PASSED otherwise (SKIPPED is decided by the module itself).
    pub fn from_conditions(plan: &str, module: &str, conditions: Vec<Condition>, skipped: Option<String>) -> Self {
        let failed = |sev| conditions.iter().any(|c| !c.passed && c.severity == sev);
        let status = if failed(Severity::Failure) {
            Status::Failed
        } else if let Some(reason) = skipped {
            Status::Skipped(reason)
        } else if failed(Severity::Warning) {
            Status::Warning
        } else {
            Status::Passed
        };
        ModuleResult { plan: plan.to_owned(), module: module.to_owned(), status, conditions }
    }

    /// The conditions that did not hold at the given severity.
    pub fn unmet(&self, severity: Severity) -> impl Iterator<Item = &Condition> {
        self.conditions.iter().filter(move |c| !c.passed && c.severity == severity)
    }

    /// True when the named condition was evaluated and did not hold at failure level.
    pub fn failed_on(&self, condition: &str) -> bool {
        self.unmet(Severity::Failure).any(|c| c.name == condition)
    }

    /// What the table shows beside the status.
    pub fn detail(&self) -> String {
        match &self.status {
            Status::Passed => String::new(),
            Status::Skipped(reason) => reason.clone(),
            Status::Failed => self
                .unmet(Severity::Failure)
                .map(|c| format!("{}: {}", c.name, c.message))
                .collect::<Vec<_>>()
                .join("; "),
            Status::Warning => self
                .unmet(Severity::Warning)
                .map(|c| format!("{}: {}", c.name, c.message))
                .collect::<Vec<_>>()
                .join("; "),
        }
    }
}

/// One row per module, grouped under the database backend the server ran on.
pub fn render_table(rows: &[(String, ModuleResult)]) -> String {
    let headers = ["backend", "plan", "module", "result", "condition / reason"];
    let cells: Vec<[String; 5]> = rows
        .iter()
        .map(|(backend, r)| {
            [backend.clone(), r.plan.clone(), r.module.clone(), r.status.to_string(), one_line(&r.detail(), 160)]
        })
        .collect();
    let mut widths = headers.map(str::len);
    for row in &cells {
        for (w, cell) in widths.iter_mut().zip(row.iter()).take(4) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, row: [&str; 5]| {
        for (i, cell) in row.iter().enumerate() {
            if i < 4 {
                out.push_str(&format!("{:<width$}  ", cell, width = widths[i]));
            } else {
                out.push_str(cell);
            }
        }
        out.truncate(out.trim_end().len());
        out.push('\n');
    };
    line(&mut out, headers);
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    line(&mut out, [&rule[0], &rule[1], &rule[2], &rule[3], "------------------"]);
    for row in &cells {
        line(&mut out, [&row[0], &row[1], &row[2], &row[3], &row[4]]);
    }
    out
}

/// Counts per status, for the summary line.
pub fn summary(rows: &[(String, ModuleResult)]) -> String {
    let count = |f: &dyn Fn(&Status) -> bool| rows.iter().filter(|(_, r)| f(&r.status)).count();
    format!(
        "{} modules: {} passed, {} warning, {} failed, {} skipped",
        rows.len(),
        count(&|s| *s == Status::Passed),
        count(&|s| *s == Status::Warning),
        count(&|s| *s == Status::Failed),
        count(&|s| matches!(s, Status::Skipped(_))),
    )
}

fn one_line(text: &str, max: usize) -> String {
    let flat: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    if flat.chars().count() > max {
        let cut: String = flat.chars().take(max - 1).collect();
        format!("{cut}…")
    } else {
        flat
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond(sev: Severity, passed: bool) -> Condition {
        Condition { name: "X".into(), severity: sev, passed, message: "m".into() }
    }

    #[test]
    fn status_follows_the_worst_unmet_condition() {
        let r = |c| ModuleResult::from_conditions("p", "m", c, None).status;
        assert_eq!(r(vec![cond(Severity::Failure, true)]), Status::Passed);
        assert_eq!(r(vec![cond(Severity::Info, false)]), Status::Passed);
        assert_eq!(r(vec![cond(Severity::Warning, false), cond(Severity::Failure, true)]), Status::Warning);
        assert_eq!(r(vec![cond(Severity::Warning, false), cond(Severity::Failure, false)]), Status::Failed);
        let skipped = ModuleResult::from_conditions("p", "m", vec![], Some("why".into()));
        assert_eq!(skipped.status, Status::Skipped("why".into()));
    }

    #[test]
    fn table_has_one_row_per_module() {
        let rows = vec![(
            "sqlite".to_string(),
            ModuleResult::from_conditions("plan", "oidcc-server", vec![cond(Severity::Failure, false)], None),
        )];
        let table = render_table(&rows);
        assert!(table.lines().count() == 3);
        assert!(table.contains("oidcc-server") && table.contains("FAILED") && table.contains("X: m"));
    }
}
