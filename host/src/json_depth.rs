//! How deeply a JSON text nests, found by a scan that stops early.
//!
//! The JS guest parses events recursively on its native stack, about 200
//! bytes a level: an event nested deeper than the stack holds would
//! overflow it and poison the sandbox. So events are measured first and
//! refused beyond a depth the stack holds with room to spare.

/// Native stack per level of event nesting allowed: about twice what
/// parsing uses, leaving the handler the other half.
const STACK_PER_LEVEL: usize = 512;

/// The deepest event nesting a guest with `stack_size` bytes of stack
/// accepts.
pub(crate) fn max_event_depth(stack_size: usize) -> usize {
    (stack_size / STACK_PER_LEVEL).max(16)
}

/// Whether `json` nests arrays and objects more than `limit` levels deep.
/// Brackets inside strings do not count; the text need not be valid JSON.
pub(crate) fn nests_deeper_than(json: &str, limit: usize) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for byte in json.bytes() {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_nesting_of_arrays_and_objects() {
        assert!(!nests_deeper_than(r#"{"a":[1,{"b":2}]}"#, 3));
        assert!(nests_deeper_than(r#"{"a":[1,{"b":2}]}"#, 2));
        assert!(!nests_deeper_than("42", 0));
    }

    #[test]
    fn brackets_inside_strings_do_not_count() {
        assert!(!nests_deeper_than(r#"["[[[[", "{{{{"]"#, 1));
        assert!(!nests_deeper_than(r#"["\"[[[", "\\"]"#, 1));
        assert!(nests_deeper_than(r#"["\\", [[1]]]"#, 2));
    }

    #[test]
    fn stops_at_the_first_level_past_the_limit_even_in_broken_json() {
        let deep = "[".repeat(10_000);
        assert!(nests_deeper_than(&deep, 100));
        assert!(!nests_deeper_than("]]]]{", 1));
    }

    #[test]
    fn the_depth_allowed_grows_with_the_stack_and_has_a_floor() {
        assert_eq!(max_event_depth(1024 * 1024), 2048);
        assert_eq!(max_event_depth(1), 16);
    }
}
