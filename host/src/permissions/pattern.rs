//! Matching a rule's `paths` and `patterns` against a target.

/// Whether the fs rule path `pattern` covers the normalised guest `path`:
/// the path itself or anything below it. `*` matches within one segment,
/// `**` any number of segments.
pub fn path_matches(pattern: &str, path: &str) -> bool {
    let pattern: Vec<&str> = segments(pattern).collect();
    let path: Vec<&str> = segments(path).collect();
    covers(&pattern, &path)
}

fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

/// Whether `pattern` matches `path` or a leading part of it.
fn covers(pattern: &[&str], path: &[&str]) -> bool {
    match pattern.split_first() {
        None => true,
        Some((&"**", rest)) => (0..=path.len()).any(|skip| covers(rest, &path[skip..])),
        Some((first, rest)) => match path.split_first() {
            Some((segment, below)) => wildcard(first, segment) && covers(rest, below),
            None => false,
        },
    }
}

/// Whether a network, env or tool rule pattern matches `target` whole; `*`
/// matches any run of characters.
pub fn pattern_matches(pattern: &str, target: &str) -> bool {
    wildcard(pattern, target)
}

/// Whether `pattern`, where `*` matches any run of characters, matches all
/// of `text`.
fn wildcard(pattern: &str, text: &str) -> bool {
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
    use super::*;

    #[test]
    fn a_path_covers_itself_and_what_lies_below_it() {
        assert!(path_matches("/data", "/data"));
        assert!(path_matches("/data", "/data/a/b"));
        assert!(path_matches("/data/", "/data/a"));
        assert!(!path_matches("/data", "/database"));
        assert!(!path_matches("/data/a", "/data"));
        assert!(path_matches("/", "/anything"));
    }

    #[test]
    fn stars_match_within_a_segment_and_double_stars_across() {
        assert!(path_matches("/home/*/notes", "/home/ann/notes/x"));
        assert!(!path_matches("/home/*/notes", "/home/ann/b/notes"));
        assert!(path_matches("/home/**/notes", "/home/ann/b/notes"));
        assert!(path_matches("/data/*.json", "/data/a.json"));
        assert!(!path_matches("/data/*.json", "/data/a.txt"));
        assert!(path_matches("/**", "/x/y"));
    }

    #[test]
    fn patterns_match_whole_targets() {
        assert!(pattern_matches(
            "https://*.example.com:443/*",
            "https://api.example.com:443/v1"
        ));
        assert!(!pattern_matches(
            "https://*.example.com:443/*",
            "https://example.org:443/v1"
        ));
        assert!(pattern_matches("API_*", "API_KEY"));
        assert!(!pattern_matches("API_*", "MY_API_KEY"));
        assert!(pattern_matches("*", ""));
        assert!(pattern_matches("search", "search"));
        assert!(!pattern_matches("search", "searches"));
        assert!(pattern_matches("a*b*a", "aba"));
        assert!(!pattern_matches("ab*ba", "aba"));
    }
}
