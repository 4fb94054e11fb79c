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
    let bytes = json.as_bytes();
    let (mut depth, mut at) = (0usize, 0);
    while let Some(&byte) = bytes.get(at) {
        at += 1;
        match byte {
            b'"' => at = past_string(bytes, at),
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

/// The index just past the string whose contents start at `from`: its
/// closing quote is found by jumping from backslash to backslash (memchr),
/// not byte by byte, since events are mostly string contents.
fn past_string(bytes: &[u8], mut from: usize) -> usize {
    while let Some(found) = bytes
        .get(from..)
        .and_then(|rest| memchr::memchr2(b'"', b'\\', rest))
    {
        let at = from + found;
        if bytes[at] == b'"' {
            return at + 1;
        }
        // A backslash: the byte after it is escaped, whatever it is.
        from = at + 2;
    }
    bytes.len()
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

    /// The scan that jumps through strings agrees with one that reads
    /// every byte, on texts made of the bytes that matter.
    #[test]
    fn agrees_with_a_byte_by_byte_scan() {
        fn byte_by_byte(json: &str, limit: usize) -> bool {
            let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
            for byte in json.bytes() {
                match byte {
                    _ if in_string && escaped => escaped = false,
                    b'\\' if in_string => escaped = true,
                    b'"' => in_string = !in_string,
                    _ if in_string => {}
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
        let alphabet = ['[', ']', '{', '}', '"', '\\', 'a'];
        let mut seed = 19u64;
        for _ in 0..20_000 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let len = (seed >> 59) as usize;
            let text: String = (0..len)
                .map(|i| alphabet[((seed >> (i % 20 * 3)) % 7) as usize])
                .collect();
            for limit in 0..4 {
                assert_eq!(
                    nests_deeper_than(&text, limit),
                    byte_by_byte(&text, limit),
                    "{text:?} at {limit}"
                );
            }
        }
        // A backslash as the last byte ends the scan.
        assert!(!nests_deeper_than("\"\\", 0));
    }

    #[test]
    fn the_depth_allowed_grows_with_the_stack_and_has_a_floor() {
        assert_eq!(max_event_depth(1024 * 1024), 2048);
        assert_eq!(max_event_depth(1), 16);
    }
}
