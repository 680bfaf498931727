//! Adding a helper: the account is made without password or second factor, and a one-time
//! enrolment link is shown to the manager, once, in the response to the form (never stored in
//! clear, never shown again: a lost link is replaced by a new one from the helper's page).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::NaiveDateTime;
use mandate_store::aidants::{self, NewPendingAidant};
use mandate_store::{enrolment, now, Email, StoreError};
use serde::Deserialize;

use super::ManagerTexts;
use crate::blocking::with_conn;
use crate::pages::helper_space::SpaceHeader;
use crate::pages::second_factor::{self, CodeCheck};
use crate::web::dates;
use crate::web::ClientAddress;
use crate::web::{html, html_with_status, AppState, CheckedForm, Frame, PageError, SignedInManager, Texts};

/// A field's value as typed, and the error shown beside it.
#[derive(Default)]
pub struct Field {
    pub value: String,
    pub error: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "structure/new_helper.html")]
pub struct NewHelperPage<'a> {
    pub t: &'static Texts,
    pub frame: &'a Frame,
    pub header: &'a SpaceHeader,
    pub m: &'static ManagerTexts,
    pub given_name: Field,
    pub family_name: Field,
    pub email: Field,
    pub profession: Field,
    /// A refused one-time code (the fields are kept).
    pub otp_error: Option<&'static str>,
}

impl NewHelperPage<'_> {
    pub fn has_errors(&self) -> bool {
        [&self.given_name, &self.family_name, &self.email, &self.profession].iter().any(|f| f.error.is_some())
            || self.otp_error.is_some()
    }
}

/// The enrolment link, shown once.
#[derive(Template)]
#[template(path = "structure/link.html")]
pub struct LinkPage<'a> {
    pub t: &'static Texts,
    pub frame: &'a Frame,
    pub header: &'a SpaceHeader,
    pub m: &'static ManagerTexts,
    pub aidant_id: &'a str,
    pub aidant_name: String,
    pub link: String,
    pub valid_until: String,
    /// The helper's second factors were just removed (a reset, not a new account).
    pub after_reset: bool,
}

/// The link page for a link just issued.
pub fn link_page(
    state: &AppState,
    header: &SpaceHeader,
    aidant_id: &str,
    aidant_name: String,
    token: &str,
    expires_at: NaiveDateTime,
    after_reset: bool,
) -> Result<HttpResponse, PageError> {
    let lang = header.lang;
    html(&LinkPage {
        t: lang.texts(),
        frame: &header.frame,
        header,
        m: ManagerTexts::of(lang),
        aidant_id,
        aidant_name,
        // The issuer is the public address, configured (never guessed from the request).
        link: format!("{}/inscription/{token}", state.settings.issuer.trim_end_matches('/')),
        valid_until: dates::long_date_time(lang, expires_at),
        after_reset,
    })
}

pub async fn form(
    req: HttpRequest,
    manager: SignedInManager,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let header = SpaceHeader::load(&manager.helper, &state, &req).await?;
    let lang = header.lang;
    html(&NewHelperPage {
        t: lang.texts(),
        frame: &header.frame,
        header: &header,
        m: ManagerTexts::of(lang),
        given_name: Field::default(),
        family_name: Field::default(),
        email: Field::default(),
        profession: Field::default(),
        otp_error: None,
    })
}

#[derive(Deserialize)]
pub struct NewHelperForm {
    pub prenom: Option<String>,
    pub nom: Option<String>,
    pub email: Option<String>,
    pub profession: Option<String>,
    pub otp: Option<String>,
}

fn required(value: Option<String>, m: &'static ManagerTexts) -> Field {
    let value = value.unwrap_or_default().trim().to_owned();
    let error = value.is_empty().then_some(m.required);
    Field { value, error }
}

pub async fn submit(
    req: HttpRequest,
    manager: SignedInManager,
    address: ClientAddress,
    form: CheckedForm<NewHelperForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let header = SpaceHeader::load(&manager.helper, &state, &req).await?;
    let lang = header.lang;
    let m = ManagerTexts::of(lang);
    let fields = form.fields;
    let mut page = NewHelperPage {
        t: lang.texts(),
        frame: &header.frame,
        header: &header,
        m,
        given_name: required(fields.prenom, m),
        family_name: required(fields.nom, m),
        email: required(fields.email, m),
        profession: required(fields.profession, m),
        otp_error: None,
    };
    let email = match Email::parse(&page.email.value) {
        Ok(email) => Some(email),
        Err(_) => {
            page.email.error = page.email.error.or(Some(m.email_invalid));
            None
        }
    };
    if let Some(email) = &email {
        let e = email.clone();
        if with_conn(&state.store, move |conn| aidants::find_by_email(conn, &e)).await?.is_some() {
            page.email.error = Some(m.email_taken);
        }
    }
    if !page.has_errors() {
        let otp = fields.otp.as_deref().unwrap_or("");
        page.otp_error = match second_factor::check_code_of(&state, manager.aidant_id(), otp, &address).await? {
            CodeCheck::Accepted => None,
            CodeCheck::Refused => Some(m.code_refused),
            CodeCheck::HeldBack { .. } => Some(m.code_held_back),
        };
    }
    let Some(email) = email.filter(|_| !page.has_errors()) else {
        return html_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };
    let new = NewPendingAidant {
        email,
        given_name: page.given_name.value.clone(),
        family_name: page.family_name.value.clone(),
        profession: page.profession.value.clone(),
        organisation_id: manager.organisation_id().to_owned(),
    };
    let (by, organisation_id) = (manager.aidant_id().to_owned(), manager.organisation_id().to_owned());
    let created = with_conn(&state.store, move |conn| {
        let aidant = aidants::create_pending(conn, new, Some(&by), now())?;
        let link = enrolment::issue(conn, &aidant.id, Some(&by), Some(&organisation_id), now())?;
        Ok::<_, StoreError>((aidant, link))
    })
    .await;
    let (aidant, link) = match created {
        Ok(created) => created,
        // Taken between the check and the insert.
        Err(StoreError::DuplicateEmail(_)) => {
            page.email.error = Some(m.email_taken);
            return html_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
        Err(e) => return Err(e.into()),
    };
    let name = format!("{} {}", aidant.given_name, aidant.family_name);
    link_page(&state, &header, &aidant.id, name, &link.token, link.expires_at, false)
}
