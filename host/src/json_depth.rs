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
