//! Random bytes for guests (`platform.random-bytes`): `crypto.getRandomValues`,
//! `randomBytes`, `randomUUID` and the seed of `Math.random`.

/// The most random bytes handed out per request (as in WebCrypto).
pub(crate) const MAX_RANDOM_BYTES: u32 = 65_536;

/// `len` bytes from the operating system's secure random source, at most
/// [`MAX_RANDOM_BYTES`].
pub(crate) fn bytes(len: u32) -> Vec<u8> {
    let mut bytes = vec![0; len.min(MAX_RANDOM_BYTES) as usize];
    getrandom::fill(&mut bytes).expect("the operating system's random source failed");
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_capped_at_64_kib() {
        assert_eq!(bytes(16).len(), 16);
        assert_eq!(bytes(u32::MAX).len(), MAX_RANDOM_BYTES as usize);
    }
}
