//! Which target each function belongs to. A spec names its target (`metadata.target`) or
//! belongs to the controller's default one; a target the controller does not manage, or
//! none where there is no default, is an error at the field, and so is a name given twice
//! within one target. A controller (or `--target`) then keeps the functions of one target.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::{Report, ValidFunction};
use crate::diagnostic::{Diagnostic, FieldPath, Location};

/// The targets specs may name, and the one a spec naming none belongs to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Targets {
    /// Every target's name; `None` accepts any name (the CLI, which knows no list).
    pub names: Option<Vec<String>>,
    /// Where a spec without `metadata.target` goes; `None`: such a spec is an error when
    /// `names` is a list of several, and belongs to no target otherwise.
    pub default: Option<String>,
}

impl Targets {
    /// One target, which every spec without a target belongs to.
    pub fn single(name: impl Into<String>) -> Self {
        let name = name.into();
        Self {
            names: Some(vec![name.clone()]),
            default: Some(name),
        }
    }
}

/// The target a function belongs to, or why it has none.
fn resolve(function: &ValidFunction, targets: &Targets) -> Result<Option<String>, String> {
    match &function.document.metadata.target {
        Some(name) => match &targets.names {
            Some(names) if !names.contains(name) => Err(format!(
                "unknown target \"{name}\": this controller manages {}",
                listed(names)
            )),
            _ => Ok(Some(name.clone())),
        },
        None => match (&targets.default, &targets.names) {
            (Some(default), _) => Ok(Some(default.clone())),
            (None, Some(names)) if names.len() > 1 => Err(format!(
                "no target: this controller manages several ({}) and has no default; set metadata.target",
                listed(names)
            )),
            (None, _) => Ok(None),
        },
    }
}

fn listed(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks every function's target and keeps, in `report`, those of `chosen` (`None`: the
/// functions that belong to no target). Errors are added to the report's diagnostics, so
/// a report with any is invalid as a whole and nothing of it is applied. Returns how many
/// valid functions belong to other targets.
pub fn select(report: &mut Report, targets: &Targets, chosen: Option<&str>) -> usize {
    let mut errors = Vec::new();
    let mut first: BTreeMap<(Option<String>, String), (PathBuf, Location, bool)> = BTreeMap::new();
    let mut kept = Vec::new();
    let mut others = 0;
    for function in std::mem::take(&mut report.functions) {
        let target = match resolve(&function, targets) {
            Ok(target) => target,
            Err(message) => {
                let path = FieldPath::keys(&["metadata", "target"]);
                let at = if function.document.metadata.target.is_some() {
                    function.locate(&path)
                } else {
                    function.locate(&FieldPath::keys(&["metadata"]))
                };
                errors.push(Diagnostic::error(&function.file, at, path, message));
                continue;
            }
        };
        let name_path = FieldPath::keys(&["metadata", "name"]);
        let at = function.locate(&name_path);
        let explicit = function.document.metadata.target.is_some();
        let key = (target.clone(), function.name().to_owned());
        if let Some((file, location, first_explicit)) = first.get(&key) {
            // Both without a target, or both naming it: validation reported it already.
            if *first_explicit != explicit {
                errors.push(Diagnostic::error(
                    &function.file,
                    at,
                    name_path,
                    format!(
                        "function \"{}\" is already defined for target \"{}\" at {}:{}:{}",
                        function.name(),
                        target.as_deref().unwrap_or_default(),
                        file.display(),
                        location.line,
                        location.column
                    ),
                ));
            }
            continue;
        }
        first.insert(key, (function.file.clone(), at, explicit));
        if target.as_deref() == chosen {
            kept.push(function);
        } else {
            others += 1;
        }
    }
    report.functions = kept;
    report.diagnostics.extend(errors);
    report.sort();
    others
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(specs: &[(&str, &str, Option<&str>)]) -> (tempfile::TempDir, Report) {
        let dir = tempfile::tempdir().unwrap();
        for (file, name, target) in specs {
            let target = target.map_or(String::new(), |t| format!("  target: {t}\n"));
            let text = format!(
                "apiVersion: shepherd.dev/v1alpha1\nkind: Function\nmetadata:\n  name: {name}\n{target}spec:\n  code:\n    s3: {{bucket: artifacts, key: k.zip}}\n  handler: app.handler\n  runtime: python3.12\n  role: arn:aws:iam::123456789012:role/r\n"
            );
            std::fs::write(dir.path().join(file), text).unwrap();
        }
        let report = crate::check_specs(
            &[dir.path().to_path_buf()],
            &crate::lint::LintConfig::default(),
        );
        (dir, report)
    }

    fn two() -> Targets {
        Targets {
            names: Some(vec!["prod".into(), "staging".into()]),
            default: Some("prod".into()),
        }
    }

    fn first_error(report: &Report) -> String {
        report
            .diagnostics
            .iter()
            .find(|d| d.severity == crate::diagnostic::Severity::Error)
            .expect("an error")
            .to_string()
    }

    fn names(report: &Report) -> Vec<&str> {
        report.functions.iter().map(ValidFunction::name).collect()
    }

    #[test]
    fn each_target_keeps_its_own_functions_and_one_name_may_live_in_two_targets() {
        let specs = [
            ("a.yaml", "orders", None),
            ("b.yaml", "orders", Some("staging")),
            ("c.yaml", "reports", Some("staging")),
        ];
        let (_dir, mut prod) = report(&specs);
        assert!(prod.is_valid(), "{:#?}", prod.diagnostics);
        assert_eq!(select(&mut prod, &two(), Some("prod")), 2);
        assert!(prod.is_valid(), "{:#?}", prod.diagnostics);
        assert_eq!(names(&prod), ["orders"]);
        let (_dir, mut staging) = report(&specs);
        select(&mut staging, &two(), Some("staging"));
        assert_eq!(names(&staging), ["orders", "reports"]);
    }

    #[test]
    fn an_unknown_target_is_an_error_at_the_field() {
        let (_dir, mut report) = report(&[("a.yaml", "orders", Some("prdo"))]);
        select(&mut report, &two(), Some("prod"));
        assert!(!report.is_valid());
        let error = first_error(&report);
        assert!(
            error.contains("a.yaml:5:") && error.contains("unknown target \"prdo\""),
            "{error}"
        );
        assert!(error.contains("metadata.target"), "{error}");
    }

    #[test]
    fn a_name_twice_in_one_target_is_an_error_even_when_only_one_names_it() {
        let (_dir, mut report) = report(&[
            ("a.yaml", "orders", None),
            ("b.yaml", "orders", Some("prod")),
        ]);
        assert!(
            report.is_valid(),
            "validation alone cannot tell: {:#?}",
            report.diagnostics
        );
        select(&mut report, &two(), Some("prod"));
        assert!(!report.is_valid());
        let error = first_error(&report);
        assert!(
            error.contains("already defined for target \"prod\""),
            "{error}"
        );
    }

    #[test]
    fn without_a_default_several_targets_need_each_spec_to_name_one() {
        let targets = Targets {
            names: Some(vec!["a".into(), "b".into()]),
            default: None,
        };
        let (_dir, mut report) = report(&[("x.yaml", "orders", None)]);
        select(&mut report, &targets, Some("a"));
        let error = first_error(&report);
        assert!(error.contains("no target"), "{error}");
    }

    #[test]
    fn the_cli_without_a_list_keeps_what_it_is_asked_for() {
        let specs = [("a.yaml", "orders", None), ("b.yaml", "orders", Some("eu"))];
        let (_dir, mut none) = report(&specs);
        assert_eq!(select(&mut none, &Targets::default(), None), 1);
        assert_eq!(names(&none), ["orders"]);
        assert_eq!(none.functions[0].document.metadata.target, None);
        let (_dir, mut eu) = report(&specs);
        select(&mut eu, &Targets::default(), Some("eu"));
        assert!(eu.is_valid());
        assert_eq!(
            eu.functions[0].document.metadata.target.as_deref(),
            Some("eu")
        );
    }
}
