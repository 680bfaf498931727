//! Password hashing with argon2id (OWASP parameters: 19 MiB, 2 passes, 1 lane).
//! Slow on purpose: call it off the async executor.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub const MIN_PASSWORD_LENGTH: usize = 12;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("the password must have at least {MIN_PASSWORD_LENGTH} characters")]
    TooShort,
    #[error("cannot hash the password: {0}")]
    Hash(String),
}

pub fn hash(password: &str) -> Result<String, PasswordError> {
    if password.chars().count() < MIN_PASSWORD_LENGTH {
        return Err(PasswordError::TooShort);
    }
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// True when `password` matches `stored`. A malformed stored hash never matches.
pub fn verify(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => argon2().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// A hash to compare against when the account does not exist, so that an unknown email takes
/// as long as a wrong password.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash("dummy password for timing").expect("hashable"))
}

/// A random password of 20 characters for accounts created without one.
pub fn generate() -> String {
    use rand::distributions::{Alphanumeric, DistString};
    Alphanumeric.sample_string(&mut rand::thread_rng(), 20)
}

/// Why a password chosen by a helper is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weakness {
    TooShort,
    /// One of the most used passwords, or close to one.
    Common,
    /// A row of keys, a repetition or a sequence (azerty, aaaa, 1234).
    Pattern,
    /// A single word.
    Word,
    /// A date or a recent year.
    Date,
    /// A name (possibly the helper's own, from `user_inputs`).
    Name,
    /// Guessable without a named reason.
    Guessable,
}

/// Why `password` is too weak for a helper's account, if it is: shorter than
/// [`MIN_PASSWORD_LENGTH`], or guessable in fewer than 10^10 attempts by zxcvbn's estimate
/// (score below 3: dictionaries, keyboard patterns, dates, and the helper's own name and
/// e-mail given in `user_inputs`).
pub fn weakness(password: &str, user_inputs: &[&str]) -> Option<Weakness> {
    use zxcvbn::feedback::Warning;
    if password.chars().count() < MIN_PASSWORD_LENGTH {
        return Some(Weakness::TooShort);
    }
    // The helper's own name or e-mail inside the password, whatever else surrounds it: refused
    // outright (zxcvbn weighs it, but may still rate such a password as strong enough).
    let lower = password.to_lowercase();
    if user_inputs.iter().any(|input| input.chars().count() >= 3 && lower.contains(&input.to_lowercase())) {
        return Some(Weakness::Name);
    }
    let estimate = zxcvbn::zxcvbn(password, user_inputs);
    if estimate.score() >= zxcvbn::Score::Three {
        return None;
    }
    let warning = estimate.feedback().and_then(|f| f.warning());
    Some(match warning {
        Some(
            Warning::ThisIsATop10Password
            | Warning::ThisIsATop100Password
            | Warning::ThisIsACommonPassword
            | Warning::ThisIsSimilarToACommonlyUsedPassword,
        ) => Weakness::Common,
        Some(
            Warning::StraightRowsOfKeysAreEasyToGuess
            | Warning::ShortKeyboardPatternsAreEasyToGuess
            | Warning::RepeatsLikeAaaAreEasyToGuess
            | Warning::RepeatsLikeAbcAbcAreOnlySlightlyHarderToGuess
            | Warning::SequencesLikeAbcAreEasyToGuess,
        ) => Weakness::Pattern,
        Some(Warning::AWordByItselfIsEasyToGuess) => Weakness::Word,
        Some(Warning::RecentYearsAreEasyToGuess | Warning::DatesAreOftenEasyToGuess) => Weakness::Date,
        Some(Warning::NamesAndSurnamesByThemselvesAreEasyToGuess | Warning::CommonNamesAndSurnamesAreEasyToGuess) => {
            Weakness::Name
        }
        None => Weakness::Guessable,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", &h));
        assert!(!verify("correct horse batterY", &h));
        assert!(!verify("anything", "not a hash"));
        assert!(matches!(hash("short"), Err(PasswordError::TooShort)));
    }

    #[test]
    fn weak_passwords_are_refused_with_a_reason() {
        assert_eq!(weakness("motdepasse", &[]), Some(Weakness::TooShort));
        assert_eq!(weakness("password1234", &[]), Some(Weakness::Common));
        assert_eq!(weakness("abcabcabcabcabc", &[]), Some(Weakness::Pattern));
        assert_eq!(weakness("Sacha-Bernard-2026!", &["sacha", "Bernard"]), Some(Weakness::Name));
        assert_eq!(weakness("velo-orange-piano-nuage", &[]), None);
    }
}
