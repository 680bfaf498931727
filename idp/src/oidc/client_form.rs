//! The form a client posts to the token, revocation and introspection endpoints, read once and
//! checked before anything else: `application/x-www-form-urlencoded` (RFC 6749 §4.1.3, RFC 7009
//! §2.1, RFC 7662 §2.1), no parameter twice (RFC 6749 §3.1), none longer than its use needs.
//! Anything else is `invalid_request` in the OAuth JSON form, never actix's own plain-text
//! `415` or `400`, and never a guess at which of two `code`s was meant; a body over
//! `body_limits::CLIENT_REQUEST` is `invalid_request` with `413`.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use futures_util::future::LocalBoxFuture;
use futures_util::FutureExt as _;

use super::errors::TokenError;
use crate::protocol::params::{Params, ProtocolParams};
use crate::web::body_limits::{self, BodyError};

/// The checked parameters of a client's request.
pub struct ClientForm(pub Params);

impl ClientForm {
    pub fn check(content_type: &str, body: &[u8]) -> Result<ClientForm, TokenError> {
        if content_type != "application/x-www-form-urlencoded" {
            return Err(TokenError::invalid_request("the body must be application/x-www-form-urlencoded"));
        }
        let params = ProtocolParams::parse(body);
        if let Some(fault) = params.fault() {
            return Err(TokenError::invalid_request(fault.description()));
        }
        Ok(ClientForm(params.values))
    }
}

impl FromRequest for ClientForm {
    type Error = TokenError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        // `HttpMessage::content_type` is the media type alone, without `; charset=…`.
        let content_type = req.content_type().to_ascii_lowercase();
        let declared = body_limits::declared_length(req.headers());
        let payload = payload.take();
        async move {
            let body = match body_limits::read_within(declared, payload, body_limits::CLIENT_REQUEST).await {
                Ok(body) => body,
                Err(BodyError::TooLarge) => {
                    return Err(TokenError::TooLarge(format!(
                        "the request body is larger than the {} bytes this endpoint accepts",
                        body_limits::CLIENT_REQUEST
                    )))
                }
                Err(BodyError::Unreadable) => {
                    return Err(TokenError::invalid_request("the request body is unreadable"))
                }
            };
            ClientForm::check(&content_type, &body)
        }
        .boxed_local()
    }
}
