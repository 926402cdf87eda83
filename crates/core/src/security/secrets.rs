//! Generated secrets (device passwords, recovery codes): random, shown
//! once, stored as an argon2id hash plus a short lookup key (a BLAKE3
//! prefix) that finds the row without trying every hash.

use rand::Rng;

/// Lower-case letters and digits without look-alikes (no 0/o, 1/l/i).
const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

/// `groups` groups of `size` characters joined by dashes.
pub(crate) fn generate(groups: usize, size: usize) -> String {
    let mut rng = rand::rng();
    (0..groups)
        .map(|_| {
            (0..size)
                .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// What users may type differently: case, spaces and dashes.
pub(crate) fn normalize(secret: &str) -> String {
    secret
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// The lookup key of a (normalized) secret.
pub(crate) fn lookup(normalized: &str) -> String {
    blake3::hash(normalized.as_bytes()).to_hex()[..16].to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn secrets_are_long_and_survive_retyping() {
        let secret = super::generate(6, 4);
        assert_eq!(secret.len(), 29);
        assert_eq!(super::normalize(&secret).len(), 24);
        assert_eq!(
            super::lookup(&super::normalize(&secret.to_uppercase().replace('-', " "))),
            super::lookup(&super::normalize(&secret))
        );
    }
}
