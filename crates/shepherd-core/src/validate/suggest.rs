//! "Did you mean" suggestions for misspelt field names and values.

/// The candidate closest to `input`, if one is close enough to be a likely typo.
pub fn closest<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let input = input.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&input, &c.to_ascii_lowercase()), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn suggests_close_names_only() {
        let fields = ["memory", "timeout", "ephemeralStorage"];
        assert_eq!(closest("memroy", fields), Some("memory"));
        assert_eq!(closest("Timeout", fields), Some("timeout"));
        assert_eq!(closest("colour", fields), None);
        assert_eq!(
            closest("nodejs20", ["nodejs18.x", "nodejs20.x", "python3.12"]),
            Some("nodejs20.x")
        );
    }
}
