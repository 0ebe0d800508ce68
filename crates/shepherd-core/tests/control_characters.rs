//! Control characters in spec text. YAML can write any character (`"\e"`, `"\u0000"`), and
//! diagnostics repeat keys and values: printed raw, they could forge a line of the report or
//! drive the terminal that shows a CI log. Diagnostics print them escaped; and in the fields
//! where AWS would refuse them (or, in environment values, where they have no business),
//! they are errors.

mod common;

use common::{BASE, Scratch, Spec, assert_diagnostics, check_text, render};
use shepherd_core::lint::LintConfig;

/// Whether a printed line holds a character that a terminal or a log reader acts on.
fn is_raw_control(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

#[test]
fn diagnostics_print_control_characters_from_the_spec_escaped() {
    let cases: &[(&str, String, &str)] = &[
        (
            "a key that would forge a second diagnostic",
            format!("{BASE}\"x\\r\\nspec.yaml:1:1: all good\": 1\n"),
            "18:1: x\\r\\nspec.yaml:1:1: all good: unknown field; expected one of apiVersion, kind, metadata, spec",
        ),
        (
            "a terminal escape in an enum value, repeated with a suggestion",
            Spec::base()
                .set("spec.runtime", "\"python3.12\\e[2J\"")
                .text(),
            "11:12: spec.runtime: \"python3.12\\u{1b}[2J\" is not a valid value; did you mean \"python3.12\"?",
        ),
        (
            "a bidi override and a line separator",
            Spec::base()
                .set("spec.tracing", "\"Active\\u202e\\u2028\"")
                .text(),
            "13:12: spec.tracing: \"Active\\u{202e}\\u{2028}\" is not a valid value; did you mean \"Active\"?",
        ),
        (
            "C1 controls and DEL in a value matched against a pattern",
            Spec::base().set("spec.role", "\"arn\\x9b31m\\x7f\"").text(),
            "12:9: spec.role: expected an IAM role ARN such as arn:aws:iam::123456789012:role/NAME, found \"arn\\u{9b}31m\\u{7f}\"",
        ),
    ];
    for (what, text, expected) in cases {
        let report = check_text(text);
        let shown: Vec<_> = report.diagnostics.iter().map(render).collect();
        assert_eq!(shown, [*expected], "{what}");
        for line in report.diagnostics.iter().map(ToString::to_string) {
            assert!(!line.contains(is_raw_control), "{what}: {line:?}");
        }
    }
}

#[test]
fn a_repeated_name_is_escaped_in_the_already_defined_message() {
    let name = "\"orders\\e[8m\"";
    let one = Spec::base().set("metadata.name", name).text();
    let report = check_text(&format!("{one}---\n{one}"));
    let file = report.diagnostics[0].file.display().to_string();
    let shown: Vec<_> = report.diagnostics.iter().map(render).collect();
    let pattern = "metadata.name: expected a function name of 1-64 letters, digits, hyphens or underscores, found \"orders\\u{1b}[8m\"";
    assert_eq!(
        shown,
        [
            format!("4:9: {pattern}"),
            format!(
                "22:9: metadata.name: function \"orders\\u{{1b}}[8m\" is already defined at {file}:4:9"
            ),
            format!("22:9: {pattern}"),
        ]
    );
    // Only the printed form is escaped: the message itself (and so the JSON output, which
    // escapes on its own) keeps the text as written.
    assert!(report.diagnostics[1].message.contains("orders\u{1b}[8m"));
    let json = serde_json::to_string(&report.diagnostics[1]).unwrap();
    assert!(json.contains("orders\\u001b[8m"), "{json}");
}

#[cfg(unix)]
#[test]
fn a_file_name_is_escaped_too() {
    let scratch = Scratch::new();
    let file = scratch.write("evil\n.yaml", Spec::base().set("spec.memory", "64").text());
    let report = shepherd_core::check_specs(std::slice::from_ref(&file), &LintConfig::default());
    let shown: Vec<_> = report.diagnostics.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [format!(
            "{}/evil\\n.yaml:18:11: spec.memory: 64 is below the minimum of 128 MB",
            scratch.path().display()
        )]
    );
}

#[test]
fn environment_values_may_hold_tabs_and_line_breaks_but_no_other_control_character() {
    let text = format!(
        "{BASE}  environment:
    PEM: |
      -----BEGIN CERTIFICATE-----
      MIIB\tIjAN
      -----END CERTIFICATE-----
    CRLF: \"a\\r\\nb\"
    NUL: \"ab\\0c\"
    ESC: \"\\e[0m\"
    NEL: \"x\\N\"
    DEL: \"caf\u{e9}\\x7f\"
"
    );
    let rest = "environment values may hold tabs and line breaks, but no other control character";
    assert_diagnostics(
        "control characters in environment values",
        &check_text(&text),
        &[
            &format!(
                "24:10: spec.environment.NUL: contains a control character (U+0000 at character 3); {rest}"
            ),
            &format!(
                "25:10: spec.environment.ESC: contains a control character (U+001B at character 1); {rest}"
            ),
            &format!(
                "26:10: spec.environment.NEL: contains a control character (U+0085 at character 2); {rest}"
            ),
            &format!(
                "27:10: spec.environment.DEL: contains a control character (U+007F at character 5); {rest}"
            ),
        ],
    );
}

#[test]
fn descriptions_tags_and_alarm_names_may_hold_no_control_character() {
    let cases: &[(&str, String, &[&str])] = &[
        (
            "a line break in the description",
            format!("{BASE}  description: \"Orders API\\nsecond line\"\n"),
            &[
                "18:16: spec.description: contains a control character (U+000A at character 11); AWS rejects control characters in descriptions",
            ],
        ),
        (
            "a tab in the description",
            format!("{BASE}  description: \"a\\tb\"\n"),
            &[
                "18:16: spec.description: contains a control character (U+0009 at character 2); AWS rejects control characters in descriptions",
            ],
        ),
        (
            "a control character in a tag value and in a tag key",
            format!("{BASE}  tags:\n    team: \"a\\u0007b\"\n    \"k\\u001bey\": v\n"),
            &[
                "19:11: spec.tags.team: contains a control character (U+0007 at character 2); AWS rejects control characters in tags",
                "20:18: spec.tags.k\\u{1b}ey: tag key contains a control character (U+001B at character 2); AWS rejects control characters in tags",
            ],
        ),
        (
            "a tab in the name of an existing alarm",
            format!("{BASE}    existing: [\"orders\\t5xx\"]\n"),
            &[
                "18:16: spec.alarms.existing[0]: contains a control character (U+0009 at character 7); CloudWatch rejects control characters in alarm names",
            ],
        ),
        (
            "printable text everywhere is fine",
            format!(
                "{BASE}  description: \"Orders \u{2014} caf\u{e9}\"\n  tags: {{team: \"caf\u{e9} \u{1f600}\"}}\n"
            ),
            &[],
        ),
    ];
    for (what, text, expected) in cases {
        assert_diagnostics(what, &check_text(text), expected);
    }
}
