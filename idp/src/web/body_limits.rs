//! How large a request body each route accepts, in one place. Nothing this server is sent
//! needs more than a few KiB: the limits stop a stranger from making it read, buffer and parse
//! megabytes, and a body over its limit is refused as soon as its `Content-Length` says so,
//! before it is read (or, sent in chunks, at the first byte past the limit).
//!
//! Over the limit is `413 Payload Too Large`, in the protocol's form: OAuth's JSON
//! `invalid_request` at the endpoints clients call (`oidc::client_form`), the page saying so
//! for people (`extract::form_body`), and for the routes that take actix's own extractors
//! (`/authorize` and `/logout` by POST, `/userinfo` by POST, the demo upstream provider's
//! forms) actix's limits set here, whose bare 413 `fallback` words as the reader expects.

use actix_web::dev::Payload;
use actix_web::http::header::{HeaderMap, CONTENT_LENGTH};
use actix_web::web::{self, Bytes, BytesMut};
use futures_util::StreamExt as _;

/// `/token`, `/introspect`, `/revoke`: a client's form, with at most a signed client assertion
/// (`private_key_jwt`, a few KiB) and a token or code.
pub const CLIENT_REQUEST: usize = 64 * 1024;
/// A page's form: a CSRF token, a request id and a few fields typed by a person.
pub const PAGE_FORM: usize = 16 * 1024;
/// Every other body (an authorization request by POST, a logout form, a bearer token in a
/// userinfo form, the demo upstream provider's forms, any JSON): the parameters of one request,
/// each already bounded by its own length limit.
pub const OTHER: usize = 16 * 1024;

/// actix's limits for the routes that read their body through its extractors (`web::Bytes`,
/// `web::Form`, `web::Json`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::PayloadConfig::new(OTHER))
        .app_data(web::FormConfig::default().limit(OTHER))
        .app_data(web::JsonConfig::default().limit(OTHER));
}

/// Why a body was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    /// Larger than the route accepts (declared so, or found so while reading).
    TooLarge,
    /// The connection failed or the body was malformed (a bad chunk, an early end).
    Unreadable,
}

/// A request's body, read from `payload` but never past `limit`; `declared` is its
/// [`declared_length`].
pub async fn read_within(declared: Option<u64>, mut payload: Payload, limit: usize) -> Result<Bytes, BodyError> {
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(BodyError::TooLarge);
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| BodyError::Unreadable)?;
        if body.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// The `Content-Length` the client declared, if it declared one that can be read.
pub fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers.get(CONTENT_LENGTH)?.to_str().ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::HeaderValue;

    use super::*;

    async fn read(body: &'static [u8], declared: Option<&'static str>, limit: usize) -> Result<Bytes, BodyError> {
        let mut headers = HeaderMap::new();
        if let Some(length) = declared {
            headers.insert(CONTENT_LENGTH, HeaderValue::from_static(length));
        }
        read_within(declared_length(&headers), Payload::from(Bytes::from_static(body)), limit).await
    }

    #[actix_web::test]
    async fn a_body_within_its_limit_is_read_whole() {
        assert_eq!(read(b"grant_type=x", Some("12"), 12).await.unwrap(), Bytes::from_static(b"grant_type=x"));
        assert_eq!(read(b"grant_type=x", None, 12).await.unwrap(), Bytes::from_static(b"grant_type=x"));
    }

    #[actix_web::test]
    async fn a_body_past_its_limit_is_refused_declared_or_not() {
        // Sent in chunks, without a length: refused at the first byte past the limit.
        assert_eq!(read(b"grant_type=xy", None, 12).await, Err(BodyError::TooLarge));
        // Refused on the header's word, before any byte is read.
        assert_eq!(read(b"", Some("1000000"), 12).await, Err(BodyError::TooLarge));
    }
}
