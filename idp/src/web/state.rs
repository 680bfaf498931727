//! What every request handler shares.

use std::sync::Arc;

use mandate_store::statistics::Statistics;
use mandate_store::Store;

use super::address_limits::AddressLimits;
use super::assets::DsfrAssets;
use super::cache::Cached;
use super::csrf::CsrfKey;
use super::housekeeping::Throttle;
use crate::client_keys::ClientKeyCache;
use crate::configuration::Settings;
use crate::keys::KeySet;
use crate::metrics::Metrics;
use crate::passwords::PasswordChecks;
use crate::protocol::claims::SubjectKey;
use crate::protocol::flow::IdleLimits;

#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub store: Store,
    pub keys: KeySet,
    /// For outgoing calls: clients' JWKS URIs, back-channel logout.
    pub http: reqwest::Client,
    pub metrics: Metrics,
    /// Binds CSRF tokens to their session; the same on every replica (kept in the store).
    pub csrf: CsrfKey,
    /// Seal and open the secrets kept in the store (TOTP secrets, the server's keys).
    pub sealing: Arc<crate::sealing_keys::SealingKeyFolder>,
    /// The public statistics, computed at most every ten minutes by each replica.
    pub statistics: Arc<Cached<Statistics>>,
    /// The design system's files, checked at start.
    pub dsfr: DsfrAssets,
    /// The key sets `private_key_jwt` clients publish at their `jwks_uri`, kept once fetched.
    pub client_keys: Arc<ClientKeyCache>,
    /// Keys pairwise subjects; the same on every replica (kept in the store).
    pub subjects: SubjectKey,
    /// Argon2 computations, a bounded number at once.
    pub password_checks: Arc<PasswordChecks>,
    /// Sign-in attempts per client address, in this replica's memory.
    pub address_limits: Arc<AddressLimits>,
    /// When `/authorize` last deleted expired pending requests (see `housekeeping`).
    pub pending_purge: Arc<Throttle>,
}

impl AppState {
    /// The idle times after which a helper gives the one-time code, or signs in, again.
    pub fn idle_limits(&self) -> IdleLimits {
        let session = &self.settings.session;
        IdleLimits::from_minutes(session.idle_minutes, session.sign_in_after_idle_minutes)
    }

    /// The delays after failed sign-ins, from the settings.
    pub fn sign_in_delays(&self) -> mandate_store::sign_in_delays::DelayRules {
        self.settings.login.delay_rules()
    }
}
