//! Password policy and hashing.
//!
//! New passwords are hashed with argon2id. Hashes imported from Dovecot
//! (`{SHA512-CRYPT}`, `{BLF-CRYPT}`, `{ARGON2ID}`) are verified as they are
//! and flagged for re-hashing, so a migrated account moves to argon2id on
//! its next successful login.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::Rng;

use crate::{CoreError, Result};

pub const MIN_LENGTH: usize = 12;

/// The policy: at least 12 characters with an upper-case letter, a
/// lower-case letter and a digit.
pub fn check_policy(password: &str) -> Result<()> {
    let mut missing = Vec::new();
    if password.chars().count() < MIN_LENGTH {
        missing.push(format!("at least {MIN_LENGTH} characters"));
    }
    if !password.chars().any(|c| c.is_uppercase()) {
        missing.push("an upper-case letter".to_string());
    }
    if !password.chars().any(|c| c.is_lowercase()) {
        missing.push("a lower-case letter".to_string());
    }
    if !password.chars().any(|c| c.is_ascii_digit()) {
        missing.push("a digit".to_string());
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(CoreError::PasswordPolicy(format!(
            "password too weak: it needs {}",
            missing.join(", ")
        )))
    }
}

fn hasher() -> Argon2<'static> {
    // OWASP's argon2id recommendation: 19 MiB, 2 passes, 1 lane.
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password with argon2id and a random salt (PHC string format).
pub fn hash(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| CoreError::Internal(format!("password hashing failed: {e}")))
}

/// The outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    pub matches: bool,
    /// The stored hash is an imported or outdated form: re-hash it now that
    /// the plain password is known.
    pub needs_rehash: bool,
}

/// Checks `password` against a stored hash in any form we accept.
pub fn verify(stored: &str, password: &str) -> Verified {
    let (scheme, hash) = split_scheme(stored);
    let matches = match scheme {
        None | Some("ARGON2ID") | Some("ARGON2I") => verify_argon2(hash, password),
        Some("SHA512-CRYPT") => sha_crypt::sha512_check(password, hash).is_ok(),
        Some("BLF-CRYPT") => bcrypt::verify(password, hash).unwrap_or(false),
        Some(_) => false,
    };
    let native = scheme.is_none() && hash.starts_with("$argon2id$") && uses_current_params(hash);
    Verified {
        matches,
        needs_rehash: matches && !native,
    }
}

/// Whether a stored hash is in a form [`verify`] understands.
pub fn is_supported_hash(stored: &str) -> bool {
    match split_scheme(stored) {
        (None, hash) => PasswordHash::new(hash).is_ok(),
        (Some("ARGON2ID" | "ARGON2I"), hash) => PasswordHash::new(hash).is_ok(),
        (Some("SHA512-CRYPT"), hash) => hash.starts_with("$6$"),
        (Some("BLF-CRYPT"), hash) => hash.starts_with("$2"),
        _ => false,
    }
}

/// Splits Dovecot's `{SCHEME}hash` form.
fn split_scheme(stored: &str) -> (Option<&str>, &str) {
    if let Some(rest) = stored.strip_prefix('{')
        && let Some((scheme, hash)) = rest.split_once('}')
    {
        return (Some(scheme), hash);
    }
    (None, stored)
}

fn verify_argon2(hash: &str, password: &str) -> bool {
    match PasswordHash::new(hash) {
        // The parameters come from the hash itself.
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

fn uses_current_params(hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let current = hasher();
    params.m_cost() == current.params().m_cost()
        && params.t_cost() == current.params().t_cost()
        && params.p_cost() == current.params().p_cost()
}

/// A random password that satisfies the policy (for generated accounts).
pub fn generate() -> String {
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
    const DIGIT: &[u8] = b"23456789";
    let mut rng = rand::rng();
    loop {
        let all: Vec<u8> = [UPPER, LOWER, DIGIT].concat();
        let candidate: String = (0..20)
            .map(|_| all[rng.random_range(0..all.len())] as char)
            .collect();
        if check_policy(&candidate).is_ok() {
            return candidate;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_names_what_is_missing() {
        let cases: &[(&str, Option<&str>)] = &[
            ("Correct1HorseBattery", None),
            ("Short1A", Some("at least 12 characters")),
            ("alllowercase123", Some("an upper-case letter")),
            ("ALLUPPERCASE123", Some("a lower-case letter")),
            ("NoDigitsAtAllHere", Some("a digit")),
        ];
        for (password, expected) in cases {
            match (check_policy(password), expected) {
                (Ok(()), None) => {}
                (Err(e), Some(part)) => assert!(e.to_string().contains(part), "{e}"),
                (got, want) => panic!("{password}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn argon2id_round_trip_and_no_rehash() {
        let stored = hash("Correct1HorseBattery").unwrap();
        assert!(stored.starts_with("$argon2id$"));
        let ok = verify(&stored, "Correct1HorseBattery");
        assert_eq!(
            ok,
            Verified {
                matches: true,
                needs_rehash: false
            }
        );
        assert!(!verify(&stored, "Correct1HorseBatterz").matches);
        // Salted: the same password hashes differently each time.
        assert_ne!(stored, hash("Correct1HorseBattery").unwrap());
    }

    #[test]
    fn dovecot_imports_verify_and_ask_for_rehash() {
        let sha = sha_crypt::sha512_simple(
            "Imported1Secret",
            &sha_crypt::Sha512Params::new(5000).unwrap(),
        )
        .unwrap();
        let blf = bcrypt::hash("Imported1Secret", 4)
            .unwrap()
            .replacen("$2b$", "$2y$", 1);
        let argon = hash("Imported1Secret").unwrap();
        for stored in [
            format!("{{SHA512-CRYPT}}{sha}"),
            format!("{{BLF-CRYPT}}{blf}"),
            format!("{{ARGON2ID}}{argon}"),
        ] {
            assert!(is_supported_hash(&stored), "{stored}");
            let good = verify(&stored, "Imported1Secret");
            assert!(good.matches && good.needs_rehash, "{stored}");
            assert!(!verify(&stored, "Wrong1Password").matches, "{stored}");
        }
        assert!(!is_supported_hash("{PLAIN}secret"));
        assert!(!verify("{PLAIN}secret", "secret").matches);
    }

    #[test]
    fn generated_passwords_pass_the_policy() {
        for _ in 0..50 {
            check_policy(&generate()).unwrap();
        }
    }
}
