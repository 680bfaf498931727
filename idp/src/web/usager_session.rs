//! The usager's session in their own space, apart from the helpers': its own cookie, sent only
//! under `/espace-usager` (HttpOnly, SameSite=Lax so that it comes back with the provider's
//! redirect, Secure under https), holding a random secret whose hash the store keeps
//! (`usager_sessions`), and its own short lifetime. The extractors say who may run a handler:
//!
//! - [`SignedInUsager`]: a usager signed in and not idle; anyone else is sent to `/espace-usager`;
//! - [`MaybeSignedInUsager`]: the same, or nobody (the space's home shows the sign-in then);
//! - [`UsagerForm`]: a form of a signed-in usager whose CSRF token matches their session.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::{FutureExt as _, LocalBoxFuture};
use mandate_store::usager_sessions::{self, UsagerSession};
use mandate_store::{now, secret_hash};
use serde::de::DeserializeOwned;

use super::extract::{app_state, form_body};
use super::{AppState, Lang, PageError};
use crate::blocking::with_conn;

pub const COOKIE: &str = "idp_usager_session";
/// The space's path: the cookie is sent there only, never to the helpers' pages.
pub const PATH: &str = "/espace-usager";

/// The cookie for `secret`.
pub fn cookie(state: &AppState, secret: &str) -> Cookie<'static> {
    Cookie::build(COOKIE, secret.to_owned())
        .path(PATH)
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.settings.issuer_is_https())
        .finish()
}

/// The cookie that removes it from the browser.
pub fn expired_cookie(state: &AppState) -> Cookie<'static> {
    let mut c = cookie(state, "");
    c.make_removal();
    c
}

/// The secret of the request's cookie, if it has a non-empty one.
pub fn cookie_secret(req: &HttpRequest) -> Option<String> {
    req.cookie(COOKIE).map(|c| c.value().to_owned()).filter(|s| !s.is_empty())
}

/// A usager signed in to their space, within its lifetime and not idle.
#[derive(Clone)]
pub struct SignedInUsager {
    pub secret: String,
    pub session: UsagerSession,
    pub usager_id: String,
}

impl SignedInUsager {
    pub fn csrf_token(&self, state: &AppState) -> String {
        state.csrf.token(&self.secret)
    }

    pub fn id_hash(&self) -> String {
        secret_hash(&self.secret)
    }
}

/// The signed-in usager named by the cookie, if any (their session is touched: activity keeps
/// it from idling out).
fn signed_in(req: &HttpRequest) -> LocalBoxFuture<'static, Result<Option<SignedInUsager>, PageError>> {
    let secret = cookie_secret(req);
    let state = app_state(req);
    async move {
        let Some(secret) = secret else { return Ok(None) };
        let hash = secret_hash(&secret);
        let found = with_conn(&state.store, move |conn| usager_sessions::find_signed_in(conn, &hash, now())).await?;
        Ok(found.and_then(|session| {
            let usager_id = session.usager_id.clone()?;
            Some(SignedInUsager { secret, session, usager_id })
        }))
    }
    .boxed_local()
}

impl FromRequest for SignedInUsager {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let found = signed_in(req);
        async move { found.await?.ok_or(PageError::SignIn { location: PATH.to_owned() }) }.boxed_local()
    }
}

/// A signed-in usager, or nobody.
pub struct MaybeSignedInUsager(pub Option<SignedInUsager>);

impl FromRequest for MaybeSignedInUsager {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let found = signed_in(req);
        async move { Ok(MaybeSignedInUsager(found.await?)) }.boxed_local()
    }
}

/// A form sent by a signed-in usager: its CSRF token (an HMAC of their session's secret, as the
/// helpers' forms carry one of theirs) checked, its fields read into `T`.
pub struct UsagerForm<T> {
    pub fields: T,
    pub usager: SignedInUsager,
}

impl<T: DeserializeOwned + 'static> FromRequest for UsagerForm<T> {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = form_body(req, payload);
        let usager = SignedInUsager::from_request(req, payload);
        let state = app_state(req);
        async move {
            let usager = usager.await?;
            let body = body.await?;
            if !state.csrf.verify(&usager.secret, body.field("csrf_token").as_deref()) {
                return Err(PageError::csrf_failed(Lang::Fr));
            }
            let fields = serde_html_form::from_bytes(&body.0).map_err(|e| {
                tracing::info!(error = %e, "incomplete form");
                PageError::bad_request(|t| t.bad_form, Lang::Fr)
            })?;
            Ok(UsagerForm { fields, usager })
        }
        .boxed_local()
    }
}
