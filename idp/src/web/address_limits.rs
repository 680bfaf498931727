//! How many sign-in attempts one address may make per minute, at each step (password, one-time
//! code), whatever the accounts it tries: a first, cheap bound before any store or argon2 work.
//! And how many failed client authentications (token, introspection, revocation endpoints): a
//! relying party that authenticates is never slowed, one that keeps failing is held back.
//! Kept in memory by each replica (a sliding quota per address, GCRA from the `governor` crate):
//! an attacker spreading requests over replicas gets each replica's quota, which the per-account
//! delays kept in the store bound anyway (`mandate_store::sign_in_delays`).

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::client_address::ClientAddress;

/// The quotas of the sign-in steps.
pub struct AddressLimits {
    pub password: AddressLimit,
    pub one_time_code: AddressLimit,
    pub client_authentication: FailureLimit,
}

impl AddressLimits {
    /// `per_minute` attempts at each step for each address, all of them allowed in a burst.
    pub fn per_minute(per_minute: u32) -> AddressLimits {
        AddressLimits {
            password: AddressLimit::per_minute(per_minute),
            one_time_code: AddressLimit::per_minute(per_minute),
            client_authentication: FailureLimit::per_minute(per_minute),
        }
    }
}

/// One step's quota per address.
pub struct AddressLimit {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
}

/// Addresses remembered before the ones whose quota is whole again are forgotten.
const FORGET_ABOVE: usize = 10_000;

impl AddressLimit {
    fn per_minute(per_minute: u32) -> AddressLimit {
        let quota = Quota::per_minute(NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN));
        AddressLimit { limiter: RateLimiter::keyed(quota), clock: DefaultClock::default() }
    }

    /// Counts an attempt from `address`; `Err` with how long to wait when its quota is spent.
    pub fn check(&self, address: &ClientAddress) -> Result<(), Duration> {
        // Memory stays bounded whatever the number of addresses: those back to a whole quota
        // carry no information and go.
        if self.limiter.len() > FORGET_ABOVE {
            self.limiter.retain_recent();
        }
        self.limiter.check_key(&address.counted()).map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

/// A quota of failures per address: only failures spend it, and once it is spent every request
/// from the address is held back until the quota allows one more, right or wrong (or a right
/// guess would still get through).
pub struct FailureLimit {
    failures: AddressLimit,
    held_back: Mutex<HashMap<IpAddr, Instant>>,
}

impl FailureLimit {
    fn per_minute(per_minute: u32) -> FailureLimit {
        FailureLimit { failures: AddressLimit::per_minute(per_minute), held_back: Mutex::default() }
    }

    /// How long `address` must still wait, if it is held back.
    pub fn held_back(&self, address: &ClientAddress) -> Option<Duration> {
        let held_back = self.held_back.lock().unwrap_or_else(PoisonError::into_inner);
        let until = *held_back.get(&address.counted())?;
        until.checked_duration_since(Instant::now()).filter(|wait| !wait.is_zero())
    }

    /// Counts a failure from `address`; when it spends the quota, holds the address back and says
    /// for how long.
    pub fn failed(&self, address: &ClientAddress) -> Option<Duration> {
        let wait = self.failures.check(address).err()?;
        let mut held_back = self.held_back.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        if held_back.len() > FORGET_ABOVE {
            held_back.retain(|_, until| *until > now);
        }
        held_back.insert(address.counted(), now + wait);
        Some(wait)
    }
}
