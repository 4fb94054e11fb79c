//! [`PathPattern`]: the guest paths an `fs` rule covers.
//!
//! A rule path is absolute and made of segments: a name, a name with `*`
//! (any run of characters within that one segment), or `**` (any number of
//! whole segments). It covers every path it matches and everything below
//! those. It is parsed once, when the policy is: `.` and `..` segments are
//! refused (a normalised guest path never has them, so such a rule would
//! silently never match), and so is `**` inside a name.
//!
//! # Why an automaton
//!
//! A backtracking matcher tries every way to split the path among the
//! `**`s, which is exponential in them: a rule like `/**/a/**/a/**/zz` and
//! a guest path of two thousand `a/` segments took seconds of host CPU per
//! `stat`. [`PathPattern::covers`] instead walks the path once, keeping the
//! set of pattern positions reachable so far: `O(pattern × path)` whatever
//! the rule.

use std::fmt;

use super::glob::wildcard;

/// The guest paths an `fs` rule covers: absolute, `*` within a segment,
/// `**` for any number of whole segments; a pattern covers the paths it
/// matches and everything below them.
///
/// ```
/// use polybox::permissions::PathPattern;
///
/// let home = PathPattern::parse("/home/*/notes").unwrap();
/// assert!(home.covers("/home/ann/notes/today.txt"));
/// assert!(!home.covers("/home/ann/b/notes"));
/// assert!(PathPattern::parse("/data/../etc").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PathPattern {
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Segment {
    /// Exactly this name.
    Name(String),
    /// A name with `*` in it.
    Glob(String),
    /// `**`: any number of segments, none included.
    Any,
}

impl Segment {
    fn matches(&self, name: &str) -> bool {
        match self {
            Self::Name(own) => own == name,
            Self::Glob(glob) => wildcard(glob, name),
            Self::Any => true,
        }
    }
}

impl PathPattern {
    /// Parses a rule path: absolute, `*` within a segment, `**` as a whole
    /// segment, no `.` or `..` segments. The error says what is wrong.
    pub fn parse(text: &str) -> Result<Self, String> {
        if !text.starts_with('/') {
            return Err(format!("{text:?} is not an absolute guest path"));
        }
        if text.contains('\0') {
            return Err(format!("{text:?} has a NUL byte"));
        }
        let segments = names(text)
            .map(|name| match name {
                "." | ".." => Err(format!(
                    "{text:?} has a {name:?} segment, which a guest path never has: write the path it means"
                )),
                "**" => Ok(Segment::Any),
                name if name.contains("**") => Err(format!(
                    "{text:?}: `**` stands for whole segments, not part of a name (write `*` within a name)"
                )),
                name if name.contains('*') => Ok(Segment::Glob(name.to_owned())),
                name => Ok(Segment::Name(name.to_owned())),
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { segments })
    }

    /// The normalised guest path `path` and everything below it, each name
    /// taken as written (a `*` in it is a character, not a wildcard): what
    /// a mount point or a seeded file grants.
    pub fn literal(path: &str) -> Self {
        Self {
            segments: names(path)
                .map(|name| Segment::Name(name.to_owned()))
                .collect(),
        }
    }

    /// This pattern followed by `tail`'s segments (`/data` joined with
    /// `/**/*.js` is `/data/**/*.js`).
    pub fn join(&self, tail: &PathPattern) -> PathPattern {
        let mut segments = self.segments.clone();
        segments.extend(tail.segments.iter().cloned());
        Self { segments }
    }

    /// Whether this covers the normalised guest path `path`: matches it, or
    /// a leading part of it.
    pub fn covers(&self, path: &str) -> bool {
        let pattern = &self.segments;
        // reachable[i]: the first i pattern segments can match the path's
        // segments read so far.
        let mut reachable = vec![false; pattern.len() + 1];
        reachable[0] = true;
        close(pattern, &mut reachable);
        let mut next = vec![false; pattern.len() + 1];
        for name in names(path) {
            if reachable[pattern.len()] {
                return true;
            }
            next.fill(false);
            for (i, segment) in pattern.iter().enumerate() {
                if reachable[i] && segment.matches(name) {
                    // `**` stays where it is, able to take more segments.
                    let to = if *segment == Segment::Any { i } else { i + 1 };
                    next[to] = true;
                }
            }
            close(pattern, &mut next);
            std::mem::swap(&mut reachable, &mut next);
            if !reachable.contains(&true) {
                return false;
            }
        }
        reachable[pattern.len()]
    }
}

/// Adds the positions reachable by letting each `**` match nothing.
fn close(pattern: &[Segment], reachable: &mut [bool]) {
    for (i, segment) in pattern.iter().enumerate() {
        if reachable[i] && *segment == Segment::Any {
            reachable[i + 1] = true;
        }
    }
}

/// The non-empty segments of a path.
fn names(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

impl fmt::Display for PathPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.segments.is_empty() {
            return f.write_str("/");
        }
        for segment in &self.segments {
            match segment {
                Segment::Name(name) | Segment::Glob(name) => write!(f, "/{name}")?,
                Segment::Any => f.write_str("/**")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn covers(pattern: &str, path: &str) -> bool {
        PathPattern::parse(pattern).unwrap().covers(path)
    }

    /// The backtracking definition the automaton must agree with.
    fn oracle(pattern: &[Segment], path: &[&str]) -> bool {
        match pattern.split_first() {
            None => true,
            Some((Segment::Any, rest)) => (0..=path.len()).any(|skip| oracle(rest, &path[skip..])),
            Some((first, rest)) => match path.split_first() {
                Some((name, below)) => first.matches(name) && oracle(rest, below),
                None => false,
            },
        }
    }

    #[test]
    fn a_path_covers_itself_and_what_lies_below_it() {
        assert!(covers("/data", "/data"));
        assert!(covers("/data", "/data/a/b"));
        assert!(covers("/data/", "/data/a"));
        assert!(!covers("/data", "/database"));
        assert!(!covers("/data/a", "/data"));
        assert!(covers("/", "/anything"));
        assert!(covers("/", "/"));
    }

    #[test]
    fn stars_match_within_a_segment_and_double_stars_across() {
        assert!(covers("/home/*/notes", "/home/ann/notes/x"));
        assert!(!covers("/home/*/notes", "/home/ann/b/notes"));
        assert!(covers("/home/**/notes", "/home/ann/b/notes"));
        assert!(covers("/home/**/notes", "/home/notes"));
        assert!(covers("/data/*.json", "/data/a.json"));
        assert!(!covers("/data/*.json", "/data/a.txt"));
        assert!(covers("/**", "/x/y"));
        assert!(covers("/**/zz", "/a/b/zz/c"));
        assert!(!covers("/**/zz", "/a/b/zzz"));
    }

    #[test]
    fn dot_segments_and_double_stars_inside_names_are_refused() {
        for bad in [
            "/data/../etc",
            "/data/./x",
            "/..",
            "data",
            "/a/x**",
            "/a/**b",
            "/a\0b",
        ] {
            assert!(PathPattern::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn literal_paths_take_stars_as_characters() {
        let mount = PathPattern::literal("/data*");
        assert!(mount.covers("/data*/x"));
        assert!(!mount.covers("/database"));
    }

    #[test]
    fn many_double_stars_against_a_deep_path_cost_no_more_than_their_product() {
        let rule = PathPattern::parse("/**/a/**/a/**/a/**/a/**/zz").unwrap();
        let path = format!("/tmp/{}q", "a/".repeat(4000));
        // The backtracking matcher took seconds on a tenth of this.
        assert!(!rule.covers(&path));
        assert!(rule.covers(&format!("/tmp/{}zz", "a/".repeat(4000))));
    }

    #[test]
    fn the_automaton_agrees_with_backtracking() {
        let parts = ["a", "b", "*", "**", "a*", "*b"];
        let names = ["a", "b", "ab", "ba", "c"];
        let mut seed = 7u64;
        let mut next = |n: usize| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize % n
        };
        for _ in 0..20_000 {
            let pattern: Vec<&str> = (0..next(6)).map(|_| parts[next(parts.len())]).collect();
            let path: Vec<&str> = (0..next(7)).map(|_| names[next(names.len())]).collect();
            let rule = PathPattern::parse(&format!("/{}", pattern.join("/"))).unwrap();
            let text = format!("/{}", path.join("/"));
            assert_eq!(
                rule.covers(&text),
                oracle(&rule.segments, &path),
                "{rule} against {text}"
            );
            assert_eq!(PathPattern::parse(&rule.to_string()).unwrap(), rule);
        }
    }
}
