//! How shepherd writes numbers for people, the same way in every command and message:
//! counts that agree in number (`1 error`, `2 errors`), percents without trailing zeros
//! (`2.5%`, `20%`), and durations as people write them (`5m`, `1m30s`).

use std::time::Duration;

use crate::spec::HumanDuration;

/// `1 change`, `3 changes`.
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// A percent to two decimals at most, without trailing zeros: `20`, `2.5`, `33.33`.
pub fn percent(value: f64) -> String {
    let text = format!("{:.2}", (value * 100.0).round() / 100.0);
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// `300s` as `5m`, `90s` as `1m30s`.
pub fn duration(value: Duration) -> String {
    HumanDuration(value).to_string()
}

/// A duration in whole seconds, as [`duration`].
pub fn seconds(secs: u64) -> String {
    duration(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_people_write_them() {
        assert_eq!(
            (count(1, "error"), count(2, "error"), count(0, "change")),
            ("1 error".into(), "2 errors".into(), "0 changes".into())
        );
        for (value, text) in [
            (20.0, "20"),
            (2.5, "2.5"),
            (0.1, "0.1"),
            (33.333, "33.33"),
            (100.0, "100"),
            (0.0, "0"),
        ] {
            assert_eq!(percent(value), text, "{value}");
        }
        assert_eq!(seconds(300), "5m");
        assert_eq!(seconds(90), "1m30s");
        assert_eq!(seconds(0), "0s");
    }
}
