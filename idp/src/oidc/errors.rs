//! Protocol errors of the JSON endpoints, mapped to their wire form in one place:
//! RFC 6749 §5.2 for token/revocation/introspection, RFC 6750 §3 for userinfo.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use mandate_store::exchange::{CodeRefusal, RefreshRefusal};
use mandate_store::mandates::Refusal;
use mandate_store::StoreError;
use serde_json::json;

/// Errors of the token, revocation and introspection endpoints (RFC 6749 §5.2), each with the
/// description sent to the client.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("invalid_request: {0}")]
    InvalidRequest(String),
    /// `invalid_request` answered `413 Payload Too Large`: the body is over the endpoint's limit.
    #[error("invalid_request: {0}")]
    TooLarge(String),
    #[error("invalid_client: {0}")]
    InvalidClient(String),
    #[error("invalid_grant: {0}")]
    InvalidGrant(String),
    #[error("unsupported_grant_type: {0}")]
    UnsupportedGrantType(String),
    #[error("server_error: {0}")]
    ServerError(String),
    /// Too many failed client authentications from this address: wait this long (`429`).
    #[error("temporarily_unavailable: held back for {0:?}")]
    HeldBack(std::time::Duration),
    /// The database cannot serve right now (restarting, unreachable, full): `503`, and the
    /// client may try again; nothing the request asked was written.
    #[error("temporarily_unavailable: the database cannot serve now")]
    Unavailable,
}

impl TokenError {
    pub fn invalid_request(d: impl Into<String>) -> TokenError {
        TokenError::InvalidRequest(d.into())
    }
    pub fn invalid_client(d: impl Into<String>) -> TokenError {
        TokenError::InvalidClient(d.into())
    }
    pub fn invalid_grant(d: impl Into<String>) -> TokenError {
        TokenError::InvalidGrant(d.into())
    }

    /// The RFC 6749 §5.2 `error` code.
    pub fn code(&self) -> &'static str {
        match self {
            TokenError::InvalidRequest(_) | TokenError::TooLarge(_) => "invalid_request",
            TokenError::InvalidClient(_) => "invalid_client",
            TokenError::InvalidGrant(_) => "invalid_grant",
            TokenError::UnsupportedGrantType(_) => "unsupported_grant_type",
            TokenError::ServerError(_) => "server_error",
            TokenError::HeldBack(_) | TokenError::Unavailable => "temporarily_unavailable",
        }
    }

    pub fn description(&self) -> &str {
        match self {
            TokenError::InvalidRequest(d)
            | TokenError::TooLarge(d)
            | TokenError::InvalidClient(d)
            | TokenError::InvalidGrant(d)
            | TokenError::UnsupportedGrantType(d)
            | TokenError::ServerError(d) => d,
            TokenError::HeldBack(_) => "too many failed client authentications from this address; try again later",
            TokenError::Unavailable => UNAVAILABLE,
        }
    }
}

/// What a client is told when the database cannot serve: the request may be sent again.
const UNAVAILABLE: &str = "the service cannot complete the request right now; try again in a moment";

impl From<StoreError> for TokenError {
    fn from(e: StoreError) -> Self {
        if e.is_unavailable() {
            // The operator's signal is the database's own (and `/readyz`): a warning, not an error per request.
            tracing::warn!(error = %e, "token endpoint: database unavailable");
            return TokenError::Unavailable;
        }
        tracing::error!(error = %e, "token endpoint failure");
        TokenError::ServerError("internal error".into())
    }
}

impl From<CodeRefusal> for TokenError {
    fn from(refusal: CodeRefusal) -> Self {
        TokenError::InvalidGrant(match refusal {
            CodeRefusal::Unknown => "unknown code".into(),
            CodeRefusal::Expired => "the code has expired".into(),
            CodeRefusal::Reused => "the code was already used; the tokens it gave were revoked".into(),
            CodeRefusal::OtherClient => "the code was issued to another client".into(),
            CodeRefusal::RedirectUriMismatch => "redirect_uri differs from the authorization request's".into(),
            CodeRefusal::VerifierMismatch => "code_verifier does not match the code_challenge".into(),
            CodeRefusal::UnexpectedVerifier => "code_verifier sent but no code_challenge was".into(),
            CodeRefusal::Mandate(refusal) => format!("the mandate no longer allows this ({})", refusal_key(refusal)),
        })
    }
}

impl From<RefreshRefusal> for TokenError {
    fn from(refusal: RefreshRefusal) -> Self {
        TokenError::InvalidGrant(
            match refusal {
                RefreshRefusal::Invalid => "invalid or expired refresh token",
                RefreshRefusal::Reused => "refresh token already used; the grant was revoked",
                RefreshRefusal::Mandate(_) => "the mandate no longer allows this",
            }
            .into(),
        )
    }
}

/// The refusal's name as the store spells it (`mandate_revoked` …).
fn refusal_key(refusal: Refusal) -> String {
    serde_json::to_value(refusal).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

impl ResponseError for TokenError {
    fn status_code(&self) -> StatusCode {
        match self {
            TokenError::InvalidClient(_) => StatusCode::UNAUTHORIZED,
            TokenError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            TokenError::ServerError(_) => StatusCode::INTERNAL_SERVER_ERROR,
            TokenError::HeldBack(_) => StatusCode::TOO_MANY_REQUESTS,
            TokenError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let mut response = HttpResponse::build(status);
        response.insert_header(("Cache-Control", "no-store")).insert_header(("Pragma", "no-cache"));
        if status == StatusCode::UNAUTHORIZED {
            // RFC 6749 §5.2: a client that tried HTTP authentication gets a challenge back.
            response.insert_header(("WWW-Authenticate", "Basic realm=\"aidants-idp\""));
        }
        if let TokenError::HeldBack(wait) = self {
            // Whole seconds, rounded up: asked to come back too early, the client is refused again.
            response.insert_header(("Retry-After", wait.as_secs_f64().ceil().max(1.0).to_string()));
        }
        response.json(json!({"error": self.code(), "error_description": self.description()}))
    }
}

/// Errors of a protected resource (userinfo), RFC 6750 §3.
#[derive(Debug, thiserror::Error)]
#[error("{error:?}: {description}")]
pub struct BearerError {
    pub status: StatusCode,
    pub error: Option<&'static str>,
    pub description: String,
}

impl BearerError {
    pub fn missing() -> BearerError {
        BearerError { status: StatusCode::UNAUTHORIZED, error: None, description: "a bearer token is required".into() }
    }
    pub fn invalid_token(d: impl Into<String>) -> BearerError {
        BearerError { status: StatusCode::UNAUTHORIZED, error: Some("invalid_token"), description: d.into() }
    }
    pub fn invalid_request(d: impl Into<String>) -> BearerError {
        BearerError { status: StatusCode::BAD_REQUEST, error: Some("invalid_request"), description: d.into() }
    }
}

impl From<StoreError> for BearerError {
    fn from(e: StoreError) -> Self {
        if e.is_unavailable() {
            tracing::warn!(error = %e, "userinfo: database unavailable");
            return BearerError {
                status: StatusCode::SERVICE_UNAVAILABLE,
                error: Some("temporarily_unavailable"),
                description: UNAVAILABLE.into(),
            };
        }
        tracing::error!(error = %e, "userinfo failure");
        BearerError { status: StatusCode::INTERNAL_SERVER_ERROR, error: None, description: "internal error".into() }
    }
}

impl ResponseError for BearerError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            // Not the token's fault: no challenge (RFC 6750 §3 is about the token), the JSON alone.
            return HttpResponse::ServiceUnavailable()
                .insert_header(("Cache-Control", "no-store"))
                .json(json!({"error": self.error, "error_description": self.description}));
        }
        let challenge = match self.error {
            None => "Bearer realm=\"aidants-idp\"".to_owned(),
            Some(error) => format!(
                "Bearer realm=\"aidants-idp\", error=\"{error}\", error_description=\"{}\"",
                self.description.replace('"', "'")
            ),
        };
        let mut response = HttpResponse::build(self.status);
        response.insert_header(("WWW-Authenticate", challenge)).insert_header(("Cache-Control", "no-store"));
        match self.error {
            Some(error) => response.json(json!({"error": error, "error_description": self.description})),
            None => response.finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::body::to_bytes;

    use super::*;

    async fn body_of(response: HttpResponse) -> serde_json::Value {
        serde_json::from_slice(&to_bytes(response.into_body()).await.unwrap()).unwrap()
    }

    #[actix_web::test]
    async fn a_database_that_cannot_serve_is_temporarily_unavailable_not_a_server_error() {
        let token = TokenError::from(StoreError::Connection("connection refused".into())).error_response();
        assert_eq!(token.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body_of(token).await["error"], "temporarily_unavailable");

        let userinfo = BearerError::from(StoreError::Connection("connection refused".into())).error_response();
        assert_eq!(userinfo.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(userinfo.headers().get("WWW-Authenticate").is_none(), "the token is not at fault");
        assert_eq!(body_of(userinfo).await["error"], "temporarily_unavailable");

        // Anything else the store fails with stays the server's own error.
        let other = TokenError::from(StoreError::Migration("x".into())).error_response();
        assert_eq!(other.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body_of(other).await["error"], "server_error");
    }
}
