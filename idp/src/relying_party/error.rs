//! What can go wrong when logging someone in at an OpenID provider, said precisely enough for
//! the log and the page, and never with a claim's value (they are personal data).

use std::fmt;

use mandate_store::upstream_logins::FailureReason;

/// The call to the provider that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Discovery,
    Jwks,
    Token,
    Userinfo,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Step::Discovery => "discovery document",
            Step::Jwks => "JWKS",
            Step::Token => "token endpoint",
            Step::Userinfo => "userinfo endpoint",
        })
    }
}

/// Why a signed token (the ID token, or a signed userinfo response) was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("not a signed JWT ({0})")]
    Malformed(String),
    #[error("signed with {0}, which is not accepted")]
    AlgorithmRefused(String),
    #[error("its key id {0:?} is not in the provider's JWKS, even fetched again")]
    UnknownKid(String),
    #[error("no key id, and the provider publishes more than one key")]
    NoKid,
    #[error("the signature does not verify with the provider's key")]
    BadSignature,
    #[error("issued by another issuer than the provider")]
    WrongIssuer,
    #[error("not issued to this client (aud or azp)")]
    WrongAudience,
    #[error("expired")]
    Expired,
    #[error("claim {0} is missing or malformed")]
    MissingClaim(String),
    #[error("its nonce is not the one this login sent")]
    NonceMismatch,
    #[error("its acr is not one of the levels asked for")]
    AcrRefused,
}

#[derive(Debug, thiserror::Error)]
pub enum RpError {
    /// No answer within the configured timeout.
    #[error("{0}: the provider did not answer in time")]
    Timeout(Step),
    /// Connection refused, name unknown, TLS failure…
    #[error("{0}: the provider cannot be reached")]
    Unreachable(Step),
    /// An answer that is not what the protocol says (status, content, a discovery document
    /// for another issuer…).
    #[error("{step}: unexpected answer: {detail}")]
    BadAnswer { step: Step, detail: String },
    /// The token endpoint refused the code (RFC 6749 §5.2 `error`).
    #[error("the token endpoint refused the code: {0}")]
    CodeRefused(String),
    /// The authorization response's `iss` is not the provider's (RFC 9207 §2.4: a mix-up).
    #[error("the authorization response comes from another issuer")]
    ResponseIssuer,
    #[error("ID token {0}")]
    IdToken(TokenError),
    #[error("signed userinfo response {0}")]
    SignedUserinfo(TokenError),
    /// OIDC Core §5.3.2: the userinfo `sub` must be the ID token's, or its claims are not used.
    #[error("the userinfo response speaks of another subject than the ID token")]
    SubjectMismatch,
}

impl RpError {
    /// The reason the journal records for this failure.
    pub fn failure_reason(&self) -> FailureReason {
        match self {
            RpError::Timeout(_) | RpError::Unreachable(_) | RpError::BadAnswer { .. } | RpError::CodeRefused(_) => {
                FailureReason::Unavailable
            }
            RpError::IdToken(TokenError::NonceMismatch) => FailureReason::NonceMismatch,
            RpError::ResponseIssuer | RpError::IdToken(_) | RpError::SignedUserinfo(_) => FailureReason::InvalidIdToken,
            RpError::SubjectMismatch => FailureReason::InvalidIdentity,
        }
    }

    pub(super) fn bad_answer(step: Step, detail: impl Into<String>) -> RpError {
        RpError::BadAnswer { step, detail: detail.into() }
    }

    /// A failed HTTP exchange, told apart as the person at the browser needs it: slow, or down.
    pub(super) fn from_http(step: Step, error: &reqwest::Error) -> RpError {
        if error.is_timeout() {
            RpError::Timeout(step)
        } else if error.is_decode() || error.is_body() {
            RpError::bad_answer(step, error.to_string())
        } else {
            // Refused or reset connections, unknown names, TLS failures.
            RpError::Unreachable(step)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_failure_has_its_journal_reason() {
        assert_eq!(RpError::Timeout(Step::Token).failure_reason(), FailureReason::Unavailable);
        assert_eq!(RpError::Unreachable(Step::Discovery).failure_reason(), FailureReason::Unavailable);
        assert_eq!(RpError::IdToken(TokenError::NonceMismatch).failure_reason(), FailureReason::NonceMismatch);
        assert_eq!(RpError::IdToken(TokenError::BadSignature).failure_reason(), FailureReason::InvalidIdToken);
        assert_eq!(
            RpError::IdToken(TokenError::UnknownKid("k".into())).failure_reason(),
            FailureReason::InvalidIdToken
        );
        assert_eq!(RpError::SubjectMismatch.failure_reason(), FailureReason::InvalidIdentity);
    }
}
