//! The demo provider's errors, each answered in its protocol's form in one place: a page when
//! the relying party cannot be trusted with a redirect (RFC 6749 §4.1.2.1), a redirect with
//! `error=` otherwise, RFC 6749 §5.2 JSON from the token endpoint, RFC 6750 §3 from userinfo.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use askama::Template;
use mandate_store::StoreError;
use url::Url;

use crate::web::{Frame, Lang};

#[derive(Debug, thiserror::Error)]
pub enum DemoUpstreamError {
    /// Demo mode is off: the provider does not exist.
    #[error("demo mode is off")]
    NotFound,
    /// Unknown client, or a redirect URI not registered: never redirected to.
    #[error("authorization request from an unknown client or redirect URI")]
    UntrustedRequest,
    /// An authorization error sent back to the (verified) redirect URI.
    #[error("authorization refused: {error}")]
    Redirect {
        redirect_uri: String,
        issuer: String,
        state: Option<String>,
        error: &'static str,
        description: &'static str,
    },
    #[error("token request refused: {error} ({description})")]
    Token { status: StatusCode, error: &'static str, description: &'static str, challenge: bool },
    #[error("userinfo refused: {error}")]
    Bearer { status: StatusCode, error: &'static str, description: &'static str },
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Internal(String),
}

impl DemoUpstreamError {
    pub(super) fn token(error: &'static str, description: &'static str) -> DemoUpstreamError {
        DemoUpstreamError::Token { status: StatusCode::BAD_REQUEST, error, description, challenge: false }
    }

    /// RFC 6749 §5.2: `invalid_client` is 401, with a challenge when Basic was tried.
    pub(super) fn invalid_client(challenge: bool) -> DemoUpstreamError {
        DemoUpstreamError::Token {
            status: StatusCode::UNAUTHORIZED,
            error: "invalid_client",
            description: "unknown client or wrong secret",
            challenge,
        }
    }

    pub(super) fn invalid_token(description: &'static str) -> DemoUpstreamError {
        DemoUpstreamError::Bearer { status: StatusCode::UNAUTHORIZED, error: "invalid_token", description }
    }
}

#[derive(Template)]
#[template(path = "demo_upstream/error.html")]
struct ErrorPage<'a> {
    frame: Frame,
    message: &'a str,
}

impl ResponseError for DemoUpstreamError {
    fn status_code(&self) -> StatusCode {
        match self {
            DemoUpstreamError::NotFound => StatusCode::NOT_FOUND,
            DemoUpstreamError::UntrustedRequest => StatusCode::BAD_REQUEST,
            DemoUpstreamError::Redirect { .. } => StatusCode::SEE_OTHER,
            DemoUpstreamError::Token { status, .. } | DemoUpstreamError::Bearer { status, .. } => *status,
            DemoUpstreamError::Store(_) | DemoUpstreamError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let page = |message: &str| {
            let body = ErrorPage { frame: Frame::anonymous(Lang::Fr), message }
                .render()
                .unwrap_or_else(|_| message.to_owned());
            HttpResponse::build(self.status_code())
                .content_type("text/html; charset=utf-8")
                .insert_header(("Cache-Control", "no-store"))
                .body(body)
        };
        match self {
            DemoUpstreamError::NotFound => HttpResponse::NotFound().finish(),
            DemoUpstreamError::UntrustedRequest => page(
                "Cette demande de connexion vient d'un service inconnu, ou demande un retour vers une adresse non \
                 enregistrée : par sécurité, elle est refusée.",
            ),
            DemoUpstreamError::Redirect { redirect_uri, issuer, state, error, description } => {
                let Ok(mut target) = Url::parse(redirect_uri) else {
                    return page("L'adresse de retour du service n'est pas valide.");
                };
                target.query_pairs_mut().append_pair("error", error).append_pair("error_description", description);
                if let Some(state) = state {
                    target.query_pairs_mut().append_pair("state", state);
                }
                // RFC 9207: say which provider answers.
                target.query_pairs_mut().append_pair("iss", issuer);
                HttpResponse::SeeOther().insert_header(("Location", target.as_str())).finish()
            }
            DemoUpstreamError::Token { error, description, challenge, .. } => {
                let mut response = HttpResponse::build(self.status_code());
                response.insert_header(("Cache-Control", "no-store"));
                if *challenge {
                    response.insert_header(("WWW-Authenticate", "Basic realm=\"demo-upstream\""));
                }
                response.json(serde_json::json!({"error": error, "error_description": description}))
            }
            DemoUpstreamError::Bearer { error, description, .. } => HttpResponse::build(self.status_code())
                .insert_header((
                    "WWW-Authenticate",
                    format!("Bearer realm=\"demo-upstream\", error=\"{error}\", error_description=\"{description}\""),
                ))
                .insert_header(("Cache-Control", "no-store"))
                .json(serde_json::json!({"error": error, "error_description": description})),
            DemoUpstreamError::Store(_) | DemoUpstreamError::Internal(_) => {
                tracing::error!(error = %self, "demo upstream failed");
                page("Le fournisseur d'identité de démonstration rencontre un problème. Réessayez dans un instant.")
            }
        }
    }
}
