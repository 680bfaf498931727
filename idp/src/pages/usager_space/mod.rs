//! The usager's own space (`/espace-usager`): the person helped signs in through the same
//! upstream provider as the new-mandate wizard (FranceConnect, or the demo upstream) and sees
//! every mandate they gave, with every organisation, each delegated access made under it, and
//! may revoke a mandate or one démarche (at once, everywhere a token is checked) and read each
//! attestation. Their session is not a helper's (`web::usager_session`); they are matched by
//! upstream issuer and subject, never created here. Pages in plain French.

pub mod attestation;
pub mod home;
pub mod revocation;
pub mod sign_in;

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use askama::Template;
use mandate_store::{usagers, StoreError};

use crate::blocking::with_conn;
use crate::web::{html_with_status, AppState, Frame, Lang, PageError, SignedInUsager};

/// The space's home: the sign-in, or the usager's mandates.
pub const HOME: &str = "/espace-usager";

/// The frame of the space's pages: never a helper's header, even in a browser where a helper is
/// signed in too (the usager's space speaks to the usager only).
pub async fn frame(state: &AppState) -> Result<Frame, PageError> {
    Frame::of_browser(None, state, Lang::Fr).await
}

/// What the top of every page of the signed-in space shows: who is signed in, and the sign-out
/// button (its form's CSRF token).
pub struct UsagerHeader {
    pub name: String,
    pub csrf_token: String,
}

impl UsagerHeader {
    pub async fn load(usager: &SignedInUsager, state: &AppState) -> Result<UsagerHeader, PageError> {
        let id = usager.usager_id.clone();
        let found = with_conn(&state.store, move |conn| usagers::find(conn, &id)).await?;
        Ok(UsagerHeader {
            name: format!("{} {}", found.given_name, found.family_name),
            csrf_token: usager.csrf_token(state),
        })
    }
}

/// A page of the space with a title, a message and the way back to the usager's mandates.
#[derive(Template)]
#[template(path = "usager_space/message.html")]
pub struct MessagePage<'a> {
    pub frame: &'a Frame,
    pub title: &'a str,
    pub message: &'a str,
    pub link_label: &'a str,
    pub link_href: &'a str,
}

/// A mandate or démarche that is not the usager's, or does not exist: said plainly (404), the
/// same either way, so that nobody learns another person's mandate exists.
pub async fn not_yours(state: &AppState) -> Result<HttpResponse, PageError> {
    let frame = frame(state).await?;
    html_with_status(
        StatusCode::NOT_FOUND,
        &MessagePage {
            frame: &frame,
            title: "Mandat introuvable",
            message: "Ce mandat n'existe pas, ou il n'est pas à votre nom.",
            link_label: "Revenir à mes mandats",
            link_href: HOME,
        },
    )
}

/// `result`, or the "not yours" page when what it looked for is not the usager's.
pub async fn or_not_yours<T>(
    state: &AppState,
    result: Result<T, PageError>,
) -> Result<Result<T, HttpResponse>, PageError> {
    match result {
        Ok(found) => Ok(Ok(found)),
        Err(PageError::Store(StoreError::NotFound(_))) => Ok(Err(not_yours(state).await?)),
        Err(other) => Err(other),
    }
}
