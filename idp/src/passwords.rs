//! Password hashing with argon2id (OWASP parameters: 19 MiB, 2 passes, 1 lane).
//! Slow on purpose: the server calls it through [`PasswordChecks`], which runs it off the async
//! executor and bounds how many run at once.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::blocking::{cpu, Cancelled};

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

/// True when `password` matches `stored`. With no stored hash (an unknown e-mail) or none
/// usable (an account still waiting for its enrolment link has an empty one), `password` is
/// checked against [`dummy_hash`] and refused: the answer takes the same argon2 work whatever
/// the account, so its time tells nothing.
pub fn verify_or_dummy(password: &str, stored: Option<&str>) -> bool {
    match stored.map(PasswordHash::new) {
        Some(Ok(parsed)) => argon2().verify_password(password.as_bytes(), &parsed).is_ok(),
        _ => {
            let _ = verify(password, dummy_hash());
            false
        }
    }
}

/// A hash made with the same parameters as real ones, to compare against when there is no
/// account. Made once; [`PasswordChecks::new`] makes it at start so that the first unknown
/// e-mail does not take two hashes' time.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash("dummy password for timing").expect("hashable"))
}

/// The server's argon2 computations, at most `slots` at once (one per core by default): each
/// takes 19 MiB and a core, so hundreds of simultaneous sign-ins would otherwise take gigabytes
/// and every core. A sign-in waits for a slot without holding a thread; one that waits longer
/// than `wait` is refused ([`Busy`]) and the server answers 503.
pub struct PasswordChecks {
    slots: Arc<Semaphore>,
    wait: std::time::Duration,
    tally: Arc<Tally>,
}

/// What the computations did, for tests and operators.
#[derive(Default)]
struct Tally {
    running: AtomicUsize,
    most_at_once: AtomicUsize,
    done: AtomicU64,
}

/// No hashing slot came free in time.
#[derive(Debug, thiserror::Error)]
#[error("every password hashing slot stayed busy")]
pub struct Busy;

/// A slot taken: the computation it allows runs on the blocking pool.
pub struct Slot {
    permit: OwnedSemaphorePermit,
    tally: Arc<Tally>,
}

impl PasswordChecks {
    /// `slots` at once (0: as many as the machine has cores), waiting at most `wait` for one.
    pub fn new(slots: usize, wait: std::time::Duration) -> PasswordChecks {
        let slots = Self::slots_for(slots);
        dummy_hash();
        PasswordChecks { slots: Arc::new(Semaphore::new(slots)), wait, tally: Arc::default() }
    }

    /// How many checks run at once for `login.concurrent_password_checks` (0: one per core).
    pub fn slots_for(configured: usize) -> usize {
        if configured == 0 {
            std::thread::available_parallelism().map_or(1, usize::from)
        } else {
            configured
        }
    }

    /// Waits for a slot, at most the configured time.
    pub async fn slot(&self) -> Result<Slot, Busy> {
        match tokio::time::timeout(self.wait, self.slots.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(Slot { permit, tally: self.tally.clone() }),
            _ => Err(Busy),
        }
    }

    /// The most computations that ever ran at once: never more than the slots.
    pub fn most_at_once(&self) -> usize {
        self.tally.most_at_once.load(SeqCst)
    }

    /// How many computations ran to their end.
    pub fn done(&self) -> u64 {
        self.tally.done.load(SeqCst)
    }
}

impl Slot {
    /// Runs `work` (a hash or a check) on the blocking pool in this slot. The slot is given back
    /// when the work ends, even if the request that asked for it is gone by then.
    pub async fn run<T: Send + 'static>(self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, Cancelled> {
        let Slot { permit, tally } = self;
        cpu(move || {
            let _permit = permit;
            let running = tally.running.fetch_add(1, SeqCst) + 1;
            tally.most_at_once.fetch_max(running, SeqCst);
            let result = work();
            tally.running.fetch_sub(1, SeqCst);
            tally.done.fetch_add(1, SeqCst);
            result
        })
        .await
    }
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
