//! Control characters in the text a function sends to AWS. YAML can write any of them
//! (`"\0"`, `"\e"`), and none belongs in a spec: AWS rejects them in descriptions, tags and
//! alarm names, so the spec is refused here instead of failing half-way through an apply.
//! Environment values are the program's own input, where tabs and line breaks (a PEM block)
//! have a use; any other control character there is a mistake or an attempt at one.

use super::rules::Violation;
use crate::diagnostic::FieldPath;
use crate::spec::FunctionSpec;

/// Every control character in the text fields of `spec`.
pub fn check(spec: &FunctionSpec) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut report = |path: FieldPath, subject: &str, found: Option<Found>, rule: &str| {
        if let Some(found) = found {
            out.push(Violation {
                path,
                message: format!("{subject}contains a control character ({found}); {rule}"),
            });
        }
    };
    if let Some(description) = &spec.description {
        report(
            FieldPath::keys(&["spec", "description"]),
            "",
            first_control(description, |_| true),
            "AWS rejects control characters in descriptions",
        );
    }
    for (key, value) in &spec.tags {
        let path = FieldPath::keys(&["spec", "tags", key]);
        let rule = "AWS rejects control characters in tags";
        report(path.clone(), "tag key ", first_control(key, |_| true), rule);
        report(path, "", first_control(value, |_| true), rule);
    }
    if let Some(alarms) = &spec.alarms {
        for (i, name) in alarms.existing.iter().enumerate() {
            report(
                FieldPath::keys(&["spec", "alarms", "existing"]).index(i),
                "",
                first_control(name, |_| true),
                "CloudWatch rejects control characters in alarm names",
            );
        }
    }
    for (name, value) in &spec.environment {
        report(
            FieldPath::keys(&["spec", "environment", name]),
            "",
            first_control(value, |c| !matches!(c, '\t' | '\n' | '\r')),
            "environment values may hold tabs and line breaks, but no other control character",
        );
    }
    out
}

/// A control character found in a text, and where.
struct Found {
    character: char,
    /// 1-based, in characters.
    position: usize,
}

impl std::fmt::Display for Found {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "U+{:04X} at character {}",
            u32::from(self.character),
            self.position
        )
    }
}

/// The first control character of `text` that `refused` says is not allowed.
fn first_control(text: &str, refused: impl Fn(char) -> bool) -> Option<Found> {
    text.chars()
        .enumerate()
        .find(|&(_, c)| c.is_control() && refused(c))
        .map(|(i, character)| Found {
            character,
            position: i + 1,
        })
}
