//! Protocol errors of the JSON endpoints, mapped to their wire form in one place:
//! RFC 6749 §5.2 for token/revocation/introspection, RFC 6750 §3 for userinfo.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use mandate_store::StoreError;
use serde_json::json;

#[derive(Debug, thiserror::Error)]
#[error("{error}: {description}")]
pub struct TokenError {
    pub status: StatusCode,
    pub error: &'static str,
    pub description: String,
}

impl TokenError {
    pub fn new(error: &'static str, description: impl Into<String>) -> TokenError {
        let status = match error {
            "invalid_client" => StatusCode::UNAUTHORIZED,
            "server_error" => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        };
        TokenError { status, error, description: description.into() }
    }
    pub fn invalid_request(d: impl Into<String>) -> TokenError {
        TokenError::new("invalid_request", d)
    }
    pub fn invalid_client(d: impl Into<String>) -> TokenError {
        TokenError::new("invalid_client", d)
    }
    pub fn invalid_grant(d: impl Into<String>) -> TokenError {
        TokenError::new("invalid_grant", d)
    }
}

fn internal(what: &dyn std::fmt::Display) -> TokenError {
    tracing::error!(error = %what, "token endpoint failure");
    TokenError::new("server_error", "internal error")
}

impl From<StoreError> for TokenError {
    fn from(e: StoreError) -> Self {
        internal(&e)
    }
}

impl ResponseError for TokenError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        response.insert_header(("Cache-Control", "no-store")).insert_header(("Pragma", "no-cache"));
        if self.status == StatusCode::UNAUTHORIZED {
            // RFC 6749 §5.2: a client that tried HTTP authentication gets a challenge back.
            response.insert_header(("WWW-Authenticate", "Basic realm=\"aidants-idp\""));
        }
        response.json(json!({"error": self.error, "error_description": self.description}))
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
        tracing::error!(error = %e, "userinfo failure");
        BearerError { status: StatusCode::INTERNAL_SERVER_ERROR, error: None, description: "internal error".into() }
    }
}

impl ResponseError for BearerError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
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
