//! `*` within one name: the only wildcard names and path segments have.

/// Whether `pattern`, where `*` matches any run of characters, matches all
/// of `text`. Greedy, leftmost: linear in `text` for each literal part, so
/// at worst `O(pattern × text)`, never exponential.
pub(super) fn wildcard(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::wildcard;

    #[test]
    fn a_star_matches_any_run_and_the_rest_matches_whole() {
        assert!(wildcard("API_*", "API_KEY"));
        assert!(!wildcard("API_*", "MY_API_KEY"));
        assert!(wildcard("*", ""));
        assert!(wildcard("search", "search"));
        assert!(!wildcard("search", "searches"));
        assert!(wildcard("a*b*a", "aba"));
        assert!(!wildcard("ab*ba", "aba"));
        assert!(wildcard("*.json", "a.json"));
        assert!(!wildcard("*.json", "a.jsonx"));
    }
}
