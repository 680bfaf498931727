//! `GET /espace-usager/mandats/{id}/attestation[?langue=en|es|pt|ar]`: the attestation of one of
//! the usager's mandates, as the helper printed it (the same text, hash and QR code, rendered by
//! `pages::attestation`), to print or save as PDF, with the same translations. Each display is
//! journalled as the helper's is (`attestation_printed`), with no helper and `by: usager`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use mandate_store::attestation;
use mandate_store::mandates::by_usager;
use mandate_store::now;

use super::{frame, or_not_yours, HOME};
use crate::blocking::with_conn;
use crate::pages::attestation::{AttestationDocument, AttestationQuery, PageWords, PAGE};
use crate::web::{html, html_with_status, AppState, Frame, PageError, SignedInUsager};

#[derive(Template)]
#[template(path = "usager_space/attestation.html")]
pub struct UsagerAttestationPage<'a> {
    pub frame: &'a Frame,
    pub p: &'static PageWords,
    pub doc: AttestationDocument,
}

pub async fn page(
    usager: SignedInUsager,
    path: web::Path<String>,
    query: web::Query<AttestationQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let frame = frame(&state).await?;
    let Ok(language) = query.language() else {
        let page = super::MessagePage {
            frame: &frame,
            title: "Traduction introuvable",
            message: "Cette traduction n'existe pas. Les traductions proposées sont en anglais, espagnol, \
                      portugais et arabe.",
            link_label: "Revenir à mes mandats",
            link_href: HOME,
        };
        return html_with_status(StatusCode::BAD_REQUEST, &page);
    };
    let (mandate_id, usager_id) = (path.into_inner(), usager.usager_id.clone());
    let id = mandate_id.clone();
    let found = with_conn(&state.store, move |conn| {
        let found = by_usager::mandate_of_usager(conn, &id, &usager_id)?;
        // Mandates are created with their attestation; one without has nothing to show.
        let Ok(hash) = attestation::stored_hash(&found.mandate).map(str::to_owned) else {
            return Err(PageError::Store(mandate_store::StoreError::NotFound("attestation")));
        };
        let data = attestation::data(conn, &found.mandate)?;
        by_usager::record_attestation_shown(conn, &found.mandate, language.tag(), now())?;
        Ok((data, hash))
    })
    .await;
    let (data, hash) = match or_not_yours(&state, found).await? {
        Ok(found) => found,
        Err(page) => return Ok(page),
    };
    let segment: String = url::form_urlencoded::byte_serialize(mandate_id.as_bytes()).collect();
    let base = format!("/espace-usager/mandats/{segment}/attestation");
    html(&UsagerAttestationPage {
        frame: &frame,
        p: &PAGE,
        doc: AttestationDocument::new(&data, hash, base, language)?,
    })
}
