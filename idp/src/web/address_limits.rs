//! How many sign-in attempts one address may make per minute, at each step (password, one-time
//! code), whatever the accounts it tries: a first, cheap bound before any store or argon2 work.
//! Kept in memory by each replica (a sliding quota per address, GCRA from the `governor` crate):
//! an attacker spreading requests over replicas gets each replica's quota, which the per-account
//! delays kept in the store bound anyway (`mandate_store::sign_in_delays`).

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::client_address::ClientAddress;

/// The quotas of the sign-in steps.
pub struct AddressLimits {
    pub password: AddressLimit,
    pub one_time_code: AddressLimit,
}

impl AddressLimits {
    /// `per_minute` attempts at each step for each address, all of them allowed in a burst.
    pub fn per_minute(per_minute: u32) -> AddressLimits {
        AddressLimits {
            password: AddressLimit::per_minute(per_minute),
            one_time_code: AddressLimit::per_minute(per_minute),
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
