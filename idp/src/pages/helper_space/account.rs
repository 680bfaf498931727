//! `/mon-compte`: the signed-in helper's own account: who they are and where they work, their
//! password (changed with the current one, the new one twice and strength-checked; every other
//! session of theirs ends), and their second factors (kind, card serial, since when).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use mandate_store::aidants::{self, Aidant};
use mandate_store::now;
use mandate_store::organisations::Organisation;
use mandate_store::second_factors::{self, FactorKind};
use serde::Deserialize;

use super::SpaceHeader;
use crate::blocking::with_conn;
use crate::pages::enrolment;
use crate::passwords;
use crate::web::dates;
use crate::web::{html_with_status, see_other, AppState, CheckedForm, Frame, Lang, PageError, SignedInHelper, Texts};

pub struct AccountTexts {
    pub title: &'static str,
    pub identity: &'static str,
    pub name: &'static str,
    pub email: &'static str,
    pub profession: &'static str,
    pub organisations: &'static str,
    pub manager: &'static str,
    pub factors_title: &'static str,
    pub factors_caption: &'static str,
    pub kind: &'static str,
    pub serial: &'static str,
    pub since: &'static str,
    pub app: &'static str,
    pub card: &'static str,
    pub waiting: &'static str,
    pub no_factor: &'static str,
    pub factors_help: &'static str,
    pub password_title: &'static str,
    pub password_intro: &'static str,
    pub current_password: &'static str,
    pub new_password: &'static str,
    pub new_password_hint: &'static str,
    pub confirmation: &'static str,
    pub change: &'static str,
    pub wrong_current: &'static str,
    pub changed: &'static str,
}

impl AccountTexts {
    pub fn of(lang: Lang) -> &'static AccountTexts {
        match lang {
            Lang::Fr => &FR,
            Lang::En => &EN,
        }
    }
}

static FR: AccountTexts = AccountTexts {
    title: "Mon compte",
    identity: "Mes informations",
    name: "Nom",
    email: "Adresse e-mail",
    profession: "Profession",
    organisations: "Structures",
    manager: "référent",
    factors_title: "Mes codes à usage unique",
    factors_caption: "Les moyens avec lesquels vous obtenez un code à usage unique",
    kind: "Moyen",
    serial: "Numéro de carte",
    since: "Depuis le",
    app: "Application sur téléphone",
    card: "Carte à code",
    waiting: "en attente du premier code",
    no_factor: "Aucun moyen enregistré.",
    factors_help: "Téléphone perdu ou carte égarée ? Demandez au référent de votre structure de \
                   réinitialiser vos codes : vous recevrez un nouveau lien d'inscription.",
    password_title: "Changer mon mot de passe",
    password_intro: "Vos autres sessions ouvertes (sur un autre ordinateur par exemple) seront fermées.",
    current_password: "Mot de passe actuel",
    new_password: "Nouveau mot de passe",
    new_password_hint: "Au moins 12 caractères. Le plus simple : quatre mots sans lien entre eux.",
    confirmation: "Le nouveau mot de passe, une seconde fois",
    change: "Changer le mot de passe",
    wrong_current: "Le mot de passe actuel n'est pas le bon.",
    changed: "Votre mot de passe est changé. Vos autres sessions sont fermées.",
};

static EN: AccountTexts = AccountTexts {
    title: "My account",
    identity: "My details",
    name: "Name",
    email: "E-mail address",
    profession: "Profession",
    organisations: "Organisations",
    manager: "manager",
    factors_title: "My one-time codes",
    factors_caption: "What gives you a one-time code",
    kind: "Kind",
    serial: "Card number",
    since: "Since",
    app: "App on a phone",
    card: "Code card",
    waiting: "waiting for its first code",
    no_factor: "None recorded.",
    factors_help: "Lost your phone or your card? Ask your organisation's manager to reset your codes: \
                   you will get a new enrolment link.",
    password_title: "Change my password",
    password_intro: "Your other open sessions (on another computer, for instance) will be closed.",
    current_password: "Current password",
    new_password: "New password",
    new_password_hint: "At least 12 characters. The easiest: four unrelated words.",
    confirmation: "The new password again",
    change: "Change the password",
    wrong_current: "The current password is not right.",
    changed: "Your password is changed. Your other sessions are closed.",
};

/// One second factor as the page lists it.
pub struct FactorLine {
    pub kind: &'static str,
    pub serial: String,
    pub since: String,
    pub waiting: bool,
}

#[derive(Template)]
#[template(path = "space/account.html")]
pub struct AccountPage<'a> {
    pub t: &'static Texts,
    pub frame: &'a Frame,
    pub header: &'a SpaceHeader,
    pub a: &'static AccountTexts,
    pub aidant: &'a Aidant,
    /// (name, manager here)
    pub organisations: Vec<(String, bool)>,
    pub factors: Vec<FactorLine>,
    pub error: Option<String>,
    pub notice: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct AccountQuery {
    pub notice: Option<String>,
}

#[derive(Deserialize)]
pub struct PasswordForm {
    pub current: Option<String>,
    pub password: Option<String>,
    pub confirmation: Option<String>,
}

async fn render(
    helper: &SignedInHelper,
    state: &AppState,
    req: &HttpRequest,
    status: StatusCode,
    error: Option<String>,
    notice: bool,
) -> Result<HttpResponse, PageError> {
    let header = SpaceHeader::load(helper, state, req).await?;
    let lang = header.lang;
    let a = AccountTexts::of(lang);
    let id = helper.aidant_id.clone();
    let keys = state.sealing.clone();
    let (aidant, organisations, factors) = with_conn(&state.store, move |conn| {
        let aidant = aidants::find(conn, &id)?;
        let mut organisations: Vec<(Organisation, bool)> = Vec::new();
        for organisation in aidants::organisations_of(conn, &id)? {
            let manages = aidants::is_manager(conn, &id, &organisation.id)?;
            organisations.push((organisation, manages));
        }
        Ok::<_, PageError>((aidant, organisations, second_factors::list(conn, &*keys, &id)?))
    })
    .await?;
    let factors = factors
        .into_iter()
        .map(|f| FactorLine {
            kind: match f.kind {
                FactorKind::App => a.app,
                FactorKind::Card => a.card,
            },
            serial: f.card_serial.clone().unwrap_or_default(),
            since: dates::long_day(lang, f.confirmed_at.unwrap_or(f.created_at)),
            waiting: !f.is_confirmed(),
        })
        .collect();
    let page = AccountPage {
        t: lang.texts(),
        frame: &header.frame,
        header: &header,
        a,
        aidant: &aidant,
        organisations: organisations.into_iter().map(|(o, m)| (o.name, m)).collect(),
        factors,
        error,
        notice: notice.then_some(a.changed),
    };
    html_with_status(status, &page)
}

pub async fn page(
    req: HttpRequest,
    helper: SignedInHelper,
    query: web::Query<AccountQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let changed = query.notice.as_deref() == Some("mot-de-passe");
    render(&helper, &state, &req, StatusCode::OK, None, changed).await
}

pub async fn change_password(
    req: HttpRequest,
    helper: SignedInHelper,
    form: CheckedForm<PasswordForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let CheckedForm { fields, lang, .. } = form;
    let a = AccountTexts::of(lang);
    let id = helper.aidant_id.clone();
    let aidant = with_conn(&state.store, move |conn| aidants::find(conn, &id)).await?;
    let current = fields.current.unwrap_or_default();
    let stored = aidant.password_hash.clone();
    let slot = state.password_checks.slot().await.map_err(|_| PageError::busy(lang))?;
    if !slot.run(move || passwords::verify(&current, &stored)).await? {
        let error = Some(a.wrong_current.to_owned());
        return render(&helper, &state, &req, StatusCode::UNPROCESSABLE_ENTITY, error, false).await;
    }
    let password = fields.password.unwrap_or_default();
    let confirmation = fields.confirmation.unwrap_or_default();
    if let Some(error) = enrolment::refusal(&password, &confirmation, &aidant, lang) {
        return render(&helper, &state, &req, StatusCode::UNPROCESSABLE_ENTITY, Some(error), false).await;
    }
    let slot = state.password_checks.slot().await.map_err(|_| PageError::busy(lang))?;
    let hash = slot.run(move || passwords::hash(&password)).await?.map_err(|err| {
        tracing::error!(error = %err, "cannot hash a chosen password");
        PageError::Logged
    })?;
    let (id, keep) = (helper.aidant_id.clone(), helper.browser.id_hash());
    with_conn(&state.store, move |conn| aidants::change_password(conn, &id, &hash, &keep, now())).await?;
    Ok(see_other("/mon-compte?notice=mot-de-passe"))
}
