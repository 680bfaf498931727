//! Where a helper stands in a login, and which page comes next: the one state machine behind
//! every page of the flow, as a plain function of the session's state.

use chrono::{Duration, NaiveDateTime};
use mandate_store::authorization_requests::PendingAuthorization;
use mandate_store::sessions::Session;
use mandate_store::Demarche;

/// A helper has this long to log in and choose.
pub const PENDING_LIFETIME_MINUTES: i64 = 30;

/// Where the helper stands in logging in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthState {
    Anonymous,
    /// Password given; the one-time code is due (`full_login`), or due again after idling.
    NeedsSecondFactor {
        full_login: bool,
    },
    Authenticated,
}

/// How long a helper may stay idle (no page of theirs served) before proving who they are again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdleLimits {
    /// Past this, the one-time code is asked again (`session.idle_minutes`).
    pub code_again: Duration,
    /// Past this, a full sign-in: password, then code (`session.sign_in_after_idle_minutes`).
    /// Never shorter than `code_again` (the settings are checked at start).
    pub sign_in_again: Duration,
}

impl IdleLimits {
    pub fn from_minutes(code_again: i64, sign_in_again: i64) -> IdleLimits {
        IdleLimits { code_again: Duration::minutes(code_again), sign_in_again: Duration::minutes(sign_in_again) }
    }
}

/// Whether a page served now should record the helper's activity in the session. Recording
/// it at every page was one write per page; at most once per this fraction of the shortest
/// idle limit (and at least every 30 s) it is one write per half-minute of a busy helper, and
/// idling out may come that much earlier than the exact limit: 30 s of 30 minutes by default.
pub fn activity_due(session: &Session, now: NaiveDateTime, idle: IdleLimits) -> bool {
    now - session.last_seen_at >= activity_granularity(idle)
}

fn activity_granularity(idle: IdleLimits) -> Duration {
    (idle.code_again / 20).min(Duration::seconds(30))
}

pub fn auth_state(session: &Session, now: NaiveDateTime, idle: IdleLimits) -> AuthState {
    if session.aidant_id.is_none() || session.password_verified_at.is_none() {
        return AuthState::Anonymous;
    }
    // Long left alone, the browser may no longer be in the helper's hands: the password too is
    // owed, as if no one had signed in (the login step starts the session's authentication
    // afresh). Measured from the last page served, or from the password when no page was.
    if now - session.last_seen_at > idle.sign_in_again {
        return AuthState::Anonymous;
    }
    if session.authenticated_at.is_none() {
        return AuthState::NeedsSecondFactor { full_login: true };
    }
    if session.is_authenticated(now, idle.code_again) {
        AuthState::Authenticated
    } else {
        AuthState::NeedsSecondFactor { full_login: false }
    }
}

/// The pages of a login, in order. The choice of usager and démarche is one click, which
/// answers the relying party at once; only `argent` asks to confirm, after its warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Login,
    SecondFactor,
    Choose,
    Confirm,
}

impl Step {
    pub fn path(self) -> &'static str {
        match self {
            Step::Login => "/login",
            Step::SecondFactor => "/login/otp",
            Step::Choose => "/delegation/choix",
            Step::Confirm => "/delegation/confirmation",
        }
    }

    /// The page of this step for the pending request `pending_id` (none: the login alone).
    pub fn url(self, pending_id: &str) -> String {
        let id: String = url::form_urlencoded::byte_serialize(pending_id.as_bytes()).collect();
        format!("{}?request={id}", self.path())
    }
}

/// The next page for a pending request, given how far the helper got.
pub fn next_step(auth: AuthState, pending: &PendingAuthorization) -> Step {
    match auth {
        AuthState::Anonymous => Step::Login,
        AuthState::NeedsSecondFactor { .. } => Step::SecondFactor,
        AuthState::Authenticated if pending.usager_id.is_some() && pending.demarche == Some(Demarche::Argent) => {
            Step::Confirm
        }
        AuthState::Authenticated => Step::Choose,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activity_is_recorded_at_most_every_30_seconds_and_far_inside_the_idle_limit() {
        let default = IdleLimits::from_minutes(30, 120);
        let mut seen = session();
        seen.last_seen_at = at(0);
        let after = |seconds: i64| at(0) + Duration::seconds(seconds);
        assert!(!activity_due(&seen, after(29), default));
        assert!(activity_due(&seen, after(30), default));
        // A one-minute idle limit: recorded every 3 s, so that idling out comes at most 3 s early.
        let short = IdleLimits::from_minutes(1, 1);
        assert!(!activity_due(&seen, after(2), short));
        assert!(activity_due(&seen, after(3), short));
    }

    fn at(minutes: i64) -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_800_000_000 + minutes * 60, 0).unwrap().naive_utc()
    }

    fn session() -> Session {
        Session {
            id_hash: "h".into(),
            sid: "s".into(),
            aidant_id: None,
            organisation_id: None,
            password_verified_at: None,
            authenticated_at: None,
            second_factor_at: None,
            last_seen_at: at(0),
            created_at: at(0),
            expires_at: at(12 * 60),
            ended_at: None,
        }
    }

    fn pending(usager: Option<&str>, demarche: Option<&str>) -> PendingAuthorization {
        PendingAuthorization {
            id: "p".into(),
            session_sid: "s".into(),
            client_id: "c".into(),
            params: "{}".into(),
            usager_id: usager.map(Into::into),
            demarche: demarche.map(|d| d.parse().unwrap()),
            created_at: at(0),
            expires_at: at(30),
        }
    }

    const IDLE: IdleLimits = IdleLimits { code_again: Duration::minutes(30), sign_in_again: Duration::minutes(120) };

    #[test]
    fn the_helper_goes_through_password_code_then_one_choice_and_confirms_argent_only() {
        let idle = IDLE;
        let mut s = session();
        assert_eq!(auth_state(&s, at(1), idle), AuthState::Anonymous);
        assert_eq!(next_step(auth_state(&s, at(1), idle), &pending(None, None)), Step::Login);

        s.aidant_id = Some("a".into());
        s.password_verified_at = Some(at(1));
        assert_eq!(auth_state(&s, at(1), idle), AuthState::NeedsSecondFactor { full_login: true });
        assert_eq!(next_step(auth_state(&s, at(1), idle), &pending(None, None)), Step::SecondFactor);

        s.authenticated_at = Some(at(2));
        s.second_factor_at = Some(at(2));
        s.last_seen_at = at(2);
        let auth = auth_state(&s, at(3), idle);
        assert_eq!(auth, AuthState::Authenticated);
        assert_eq!(next_step(auth, &pending(None, None)), Step::Choose);
        assert_eq!(next_step(auth, &pending(Some("u"), Some("logement"))), Step::Choose);
        assert_eq!(next_step(auth, &pending(Some("u"), Some("argent"))), Step::Confirm);
    }

    #[test]
    fn an_idle_helper_gives_the_code_again_but_not_the_password() {
        let idle = IDLE;
        let mut s = session();
        s.aidant_id = Some("a".into());
        s.password_verified_at = Some(at(1));
        s.authenticated_at = Some(at(2));
        s.second_factor_at = Some(at(2));
        s.last_seen_at = at(2);
        assert_eq!(auth_state(&s, at(40), idle), AuthState::NeedsSecondFactor { full_login: false });
        assert_eq!(Step::SecondFactor.url("p1"), "/login/otp?request=p1");
        // The id comes from the browser before it is checked: it is encoded, never raw.
        assert_eq!(Step::Login.url("a&b c"), "/login?request=a%26b+c");
    }

    fn signed_in_at(minutes: i64) -> Session {
        let mut s = session();
        s.aidant_id = Some("a".into());
        s.password_verified_at = Some(at(minutes));
        s.authenticated_at = Some(at(minutes));
        s.second_factor_at = Some(at(minutes));
        s.last_seen_at = at(minutes);
        s
    }

    #[test]
    fn a_helper_idle_longer_than_the_sign_in_limit_signs_in_again() {
        let s = signed_in_at(0);
        // Up to the limit itself, the code is enough; one minute past it, the password is owed.
        assert_eq!(auth_state(&s, at(120), IDLE), AuthState::NeedsSecondFactor { full_login: false });
        assert_eq!(auth_state(&s, at(121), IDLE), AuthState::Anonymous);
        assert_eq!(next_step(auth_state(&s, at(121), IDLE), &pending(Some("u"), Some("argent"))), Step::Login);

        // Activity keeps both limits away: last seen at 100, it is 130 now.
        let mut active = signed_in_at(0);
        active.second_factor_at = Some(at(100));
        active.last_seen_at = at(100);
        assert_eq!(auth_state(&active, at(130), IDLE), AuthState::Authenticated);
        assert_eq!(auth_state(&active, at(221), IDLE), AuthState::Anonymous);

        // A password given and the code never entered, long ago: the password again.
        let mut half = session();
        half.aidant_id = Some("a".into());
        half.password_verified_at = Some(at(0));
        assert_eq!(auth_state(&half, at(60), IDLE), AuthState::NeedsSecondFactor { full_login: true });
        assert_eq!(auth_state(&half, at(121), IDLE), AuthState::Anonymous);
    }

    #[test]
    fn equal_limits_leave_no_code_only_window() {
        let same = IdleLimits::from_minutes(30, 30);
        let s = signed_in_at(0);
        assert_eq!(auth_state(&s, at(30), same), AuthState::Authenticated);
        assert_eq!(auth_state(&s, at(31), same), AuthState::Anonymous);
    }
}
