//! `/inscription/{token}`: a helper's one-time enrolment link, opened without signing in. A new
//! helper chooses a password (twice, its strength checked), then enrols an authenticator app
//! from a QR code (and the secret in groups of four, for typing) and confirms it with a first
//! code; a helper whose second factors were reset only enrols the app. An expired, used or
//! unknown link says to ask the manager for a new one (410 or 404).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use mandate_store::aidants::Aidant;
use mandate_store::enrolment::{self, Lookup};
use mandate_store::now;
use mandate_store::second_factors::{self, SecondFactor};
use serde::Deserialize;

use super::second_factor::matching_step;
use crate::blocking::with_conn;
use crate::passwords::{self, Weakness};
use crate::totp;
use crate::web::AppState;
use crate::web::{html_with_status, see_other, BrowserSession, CheckedForm, Frame, Lang, PageError};

pub struct EnrolmentTexts {
    pub title: &'static str,
    pub welcome: &'static str,
    pub password_title: &'static str,
    pub password_intro: &'static str,
    pub password_hint: &'static str,
    pub password: &'static str,
    pub confirmation: &'static str,
    pub continue_label: &'static str,
    pub step_password: &'static str,
    pub step_app: &'static str,
    pub app_title: &'static str,
    pub app_intro: &'static str,
    pub scan: &'static str,
    pub qr_label: &'static str,
    pub type_instead: &'static str,
    pub secret_label: &'static str,
    pub secret_once: &'static str,
    pub first_code: &'static str,
    pub first_code_hint: &'static str,
    pub confirm: &'static str,
    pub bad_code: &'static str,
    pub mismatch: &'static str,
    pub weak_prefix: &'static str,
    pub advice: &'static str,
    pub done_title: &'static str,
    pub done_text: &'static str,
    pub sign_in: &'static str,
    pub unknown_title: &'static str,
    pub unknown_text: &'static str,
    pub expired_title: &'static str,
    pub expired_text: &'static str,
    pub used_title: &'static str,
    pub used_text: &'static str,
    pub ask_manager: &'static str,
}

impl EnrolmentTexts {
    pub fn of(lang: Lang) -> &'static EnrolmentTexts {
        match lang {
            Lang::Fr => &FR,
            Lang::En => &EN,
        }
    }
}

static FR: EnrolmentTexts = EnrolmentTexts {
    title: "Activer votre compte",
    welcome: "Bienvenue",
    password_title: "Choisissez votre mot de passe",
    password_intro: "Vous vous connecterez avec votre adresse e-mail, ce mot de passe et un code à usage unique.",
    password_hint: "Au moins 12 caractères. Le plus simple : quatre mots sans lien entre eux, \
                    par exemple « vélo orange piano nuage ».",
    password: "Mot de passe",
    confirmation: "Le même mot de passe, une seconde fois",
    continue_label: "Continuer",
    step_password: "Étape 1 sur 2",
    step_app: "Étape 2 sur 2",
    app_title: "Installez votre code à usage unique",
    app_intro: "Ouvrez une application d'authentification sur votre téléphone (par exemple FreeOTP, \
                Google Authenticator ou Microsoft Authenticator) et ajoutez un compte.",
    scan: "Scannez ce QR code avec l'application :",
    qr_label: "QR code à scanner avec l'application d'authentification",
    type_instead: "Vous ne pouvez pas scanner ? Saisissez cette clé dans l'application :",
    secret_label: "Clé secrète",
    secret_once: "Cette clé n'est montrée qu'ici : ne la notez pas et ne la donnez à personne.",
    first_code: "Code à 6 chiffres affiché par l'application",
    first_code_hint: "Le code change toutes les 30 secondes.",
    confirm: "Valider le code",
    bad_code: "Ce code ne correspond pas. Vérifiez l'heure du téléphone et saisissez le code affiché maintenant.",
    mismatch: "Les deux mots de passe ne sont pas identiques. Saisissez-les à nouveau.",
    weak_prefix: "Ce mot de passe n'est pas assez sûr :",
    advice: "Choisissez par exemple quatre mots sans lien entre eux.",
    done_title: "Votre compte est prêt",
    done_text: "Votre mot de passe et votre application d'authentification sont enregistrés. \
                Vous pouvez maintenant vous connecter.",
    sign_in: "Se connecter",
    unknown_title: "Ce lien d'inscription n'existe pas",
    unknown_text: "Vérifiez que l'adresse est complète (elle est longue).",
    expired_title: "Ce lien d'inscription a expiré",
    expired_text: "Un lien d'inscription est valable 72 heures, et seul le dernier lien envoyé fonctionne.",
    used_title: "Ce lien d'inscription a déjà servi",
    used_text: "Un lien d'inscription ne sert qu'une fois. Si votre compte est activé, connectez-vous.",
    ask_manager: "Demandez un nouveau lien au référent de votre structure.",
};

static EN: EnrolmentTexts = EnrolmentTexts {
    title: "Activate your account",
    welcome: "Welcome",
    password_title: "Choose your password",
    password_intro: "You will sign in with your e-mail address, this password and a one-time code.",
    password_hint: "At least 12 characters. The easiest: four unrelated words, such as \"bike orange piano cloud\".",
    password: "Password",
    confirmation: "The same password again",
    continue_label: "Continue",
    step_password: "Step 1 of 2",
    step_app: "Step 2 of 2",
    app_title: "Set up your one-time code",
    app_intro: "Open an authenticator app on your phone (for example FreeOTP, Google Authenticator or \
                Microsoft Authenticator) and add an account.",
    scan: "Scan this QR code with the app:",
    qr_label: "QR code to scan with the authenticator app",
    type_instead: "Cannot scan? Type this key into the app:",
    secret_label: "Secret key",
    secret_once: "This key is shown here only: do not write it down and do not give it to anyone.",
    first_code: "6-digit code shown by the app",
    first_code_hint: "The code changes every 30 seconds.",
    confirm: "Check the code",
    bad_code: "This code does not match. Check the phone's clock and type the code shown now.",
    mismatch: "The two passwords differ. Type them again.",
    weak_prefix: "This password is not strong enough:",
    advice: "For example, choose four unrelated words.",
    done_title: "Your account is ready",
    done_text: "Your password and your authenticator app are recorded. You can now sign in.",
    sign_in: "Sign in",
    unknown_title: "This enrolment link does not exist",
    unknown_text: "Check that the address is complete (it is long).",
    expired_title: "This enrolment link has expired",
    expired_text: "An enrolment link is valid for 72 hours, and only the latest link sent works.",
    used_title: "This enrolment link was already used",
    used_text: "An enrolment link works once. If your account is activated, sign in.",
    ask_manager: "Ask your organisation's manager for a new link.",
};

/// Why a password is refused, in words a helper reads.
pub fn weakness_reason(weakness: Weakness, lang: Lang) -> &'static str {
    match (lang, weakness) {
        (Lang::Fr, Weakness::TooShort) => "il doit compter au moins 12 caractères.",
        (Lang::Fr, Weakness::Common) => "il fait partie des mots de passe les plus utilisés, ou leur ressemble.",
        (Lang::Fr, Weakness::Pattern) => {
            "une suite de touches, une répétition ou une suite logique (azerty, aaaa, 1234) se devine facilement."
        }
        (Lang::Fr, Weakness::Word) => "un mot seul se devine facilement.",
        (Lang::Fr, Weakness::Date) => "une date ou une année se devine facilement.",
        (Lang::Fr, Weakness::Name) => "un nom ou un prénom, même le vôtre, se devine facilement.",
        (Lang::Fr, Weakness::Guessable) => "il se devine trop facilement.",
        (Lang::En, Weakness::TooShort) => "it must have at least 12 characters.",
        (Lang::En, Weakness::Common) => "it is one of the most used passwords, or close to one.",
        (Lang::En, Weakness::Pattern) => {
            "a row of keys, a repetition or a sequence (qwerty, aaaa, 1234) is easy to guess."
        }
        (Lang::En, Weakness::Word) => "a single word is easy to guess.",
        (Lang::En, Weakness::Date) => "a date or a year is easy to guess.",
        (Lang::En, Weakness::Name) => "a name, even your own, is easy to guess.",
        (Lang::En, Weakness::Guessable) => "it is too easy to guess.",
    }
}

/// The refusal of a new password, or none: the two entries must match and be strong enough.
/// The helper's own name and e-mail count as easy to guess.
pub fn refusal(password: &str, confirmation: &str, aidant: &Aidant, lang: Lang) -> Option<String> {
    let e = EnrolmentTexts::of(lang);
    if password != confirmation {
        return Some(e.mismatch.to_owned());
    }
    // zxcvbn compares the password in lower case with its inputs as given.
    let email = aidant.email.to_lowercase();
    let local_part = email.split('@').next().unwrap_or_default();
    let (given, family) = (aidant.given_name.to_lowercase(), aidant.family_name.to_lowercase());
    let inputs = [given.as_str(), family.as_str(), email.as_str(), local_part];
    passwords::weakness(password, &inputs)
        .map(|w| format!("{} {} {}", e.weak_prefix, weakness_reason(w, lang), e.advice))
}

/// The secret in groups of four characters, as a person types it.
pub fn grouped(secret: &str) -> String {
    secret.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join(" ")
}

#[derive(Template)]
#[template(path = "account/enrolment_password.html")]
struct PasswordPage<'a> {
    frame: &'a Frame,
    e: &'static EnrolmentTexts,
    csrf_token: &'a str,
    action: String,
    given_name: &'a str,
    email: &'a str,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "account/enrolment_app.html")]
struct AppPage<'a> {
    frame: &'a Frame,
    e: &'static EnrolmentTexts,
    csrf_token: &'a str,
    action: String,
    qr: String,
    secret_grouped: String,
    error: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "account/enrolment_message.html")]
struct MessagePage<'a> {
    frame: &'a Frame,
    e: &'static EnrolmentTexts,
    title: &'static str,
    text: &'static str,
    ask_manager: bool,
    sign_in: bool,
}

#[derive(Deserialize)]
pub struct PasswordForm {
    pub password: Option<String>,
    pub confirmation: Option<String>,
}

#[derive(Deserialize)]
pub struct CodeForm {
    pub otp: Option<String>,
}

fn page_url(token: &str) -> String {
    format!("/inscription/{token}")
}

/// The page for a link that cannot be used: 404 unknown, 410 expired or used.
fn unusable(frame: &Frame, lookup: &Lookup, lang: Lang) -> Result<HttpResponse, PageError> {
    let e = EnrolmentTexts::of(lang);
    let (status, title, text) = match lookup {
        Lookup::Expired => (StatusCode::GONE, e.expired_title, e.expired_text),
        Lookup::Used => (StatusCode::GONE, e.used_title, e.used_text),
        _ => (StatusCode::NOT_FOUND, e.unknown_title, e.unknown_text),
    };
    let used = matches!(lookup, Lookup::Used);
    html_with_status(status, &MessagePage { frame, e, title, text, ask_manager: true, sign_in: used })
}

async fn look_up(state: &AppState, token: &str) -> Result<Lookup, PageError> {
    let token = token.to_owned();
    Ok(with_conn(&state.store, move |conn| enrolment::lookup(conn, &token, now())).await?)
}

/// Renders the authenticator step for `factor` (shown on this page only, never stored elsewhere).
fn app_page(
    frame: &Frame,
    browser: &BrowserSession,
    state: &AppState,
    token: &str,
    aidant: &Aidant,
    factor: &SecondFactor,
    error: Option<&'static str>,
) -> Result<HttpResponse, PageError> {
    let e = EnrolmentTexts::of(frame.lang);
    let uri = totp::enrolment_uri(&factor.secret, factor.step_seconds as u64, &aidant.email).map_err(|err| {
        tracing::error!(error = %err, factor_id = %factor.id, "cannot make the enrolment URI");
        PageError::Logged
    })?;
    let qr = super::attestation::qr_svg_classed(&uri, e.qr_label, "enrolment-qr").map_err(|err| {
        tracing::error!(error = %err, "the enrolment URI does not fit a QR code");
        PageError::Logged
    })?;
    let csrf = browser.csrf_token(state);
    let page = AppPage {
        frame,
        e,
        csrf_token: &csrf,
        action: format!("{}/code", page_url(token)),
        qr,
        secret_grouped: grouped(&factor.secret),
        error,
    };
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok(browser.with_cookie(state, html_with_status(status, &page)?))
}

pub async fn page(
    frame: Frame,
    browser: BrowserSession,
    path: web::Path<String>,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let lang = Lang::of_browser(&req);
    let frame = frame.in_lang(lang);
    let token = path.into_inner();
    let (link, aidant) = match look_up(&state, &token).await? {
        Lookup::Valid { link, aidant } => (link, aidant),
        other => return unusable(&frame, &other, lang),
    };
    if enrolment::needs_password(&aidant) {
        let csrf = browser.csrf_token(&state);
        let e = EnrolmentTexts::of(lang);
        let page = PasswordPage {
            frame: &frame,
            e,
            csrf_token: &csrf,
            action: page_url(&token),
            given_name: &aidant.given_name,
            email: &aidant.email,
            error: None,
        };
        return Ok(browser.with_cookie(&state, html_with_status(StatusCode::OK, &page)?));
    }
    // A fresh secret each time the page is shown: one left on a screen earlier stops working.
    let secret = totp::generate_secret();
    let aidant_id = link.aidant_id.clone();
    let keys = state.sealing.clone();
    let factor =
        with_conn(&state.store, move |conn| second_factors::start_app(conn, &*keys, &aidant_id, &secret, now()))
            .await?;
    app_page(&frame, &browser, &state, &token, &aidant, &factor, None)
}

pub async fn password_submit(
    frame: Frame,
    path: web::Path<String>,
    form: CheckedForm<PasswordForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let CheckedForm { fields, browser, lang } = form;
    let frame = frame.in_lang(lang);
    let token = path.into_inner();
    let aidant = match look_up(&state, &token).await? {
        Lookup::Valid { aidant, .. } => aidant,
        other => return unusable(&frame, &other, lang),
    };
    if !enrolment::needs_password(&aidant) {
        return Ok(see_other(&page_url(&token)));
    }
    let password = fields.password.unwrap_or_default();
    let confirmation = fields.confirmation.unwrap_or_default();
    if let Some(error) = refusal(&password, &confirmation, &aidant, lang) {
        let csrf = browser.csrf_token(&state);
        let page = PasswordPage {
            frame: &frame,
            e: EnrolmentTexts::of(lang),
            csrf_token: &csrf,
            action: page_url(&token),
            given_name: &aidant.given_name,
            email: &aidant.email,
            error: Some(error),
        };
        return Ok(browser.with_cookie(&state, html_with_status(StatusCode::UNPROCESSABLE_ENTITY, &page)?));
    }
    let slot = state.password_checks.slot().await.map_err(|_| PageError::busy(lang))?;
    let hash = slot.run(move || passwords::hash(&password)).await?.map_err(|err| {
        tracing::error!(error = %err, "cannot hash a chosen password");
        PageError::Logged
    })?;
    let t = token.clone();
    let set = with_conn(&state.store, move |conn| enrolment::set_password(conn, &t, &hash, now())).await?;
    if !set {
        // Spent or superseded meanwhile: the page says which.
        let lookup = look_up(&state, &token).await?;
        if !matches!(lookup, Lookup::Valid { .. }) {
            return unusable(&frame, &lookup, lang);
        }
    }
    Ok(browser.with_cookie(&state, see_other(&page_url(&token))))
}

pub async fn code_submit(
    frame: Frame,
    path: web::Path<String>,
    form: CheckedForm<CodeForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let CheckedForm { fields, browser, lang } = form;
    let frame = frame.in_lang(lang);
    let token = path.into_inner();
    let aidant = match look_up(&state, &token).await? {
        Lookup::Valid { aidant, .. } => aidant,
        other => return unusable(&frame, &other, lang),
    };
    let id = aidant.id.clone();
    let keys = state.sealing.clone();
    let pending = with_conn(&state.store, move |conn| second_factors::pending_app(conn, &*keys, &id)).await?;
    let Some(factor) = pending.filter(|_| !enrolment::needs_password(&aidant)) else {
        return Ok(see_other(&page_url(&token)));
    };
    let code = fields.otp.unwrap_or_default();
    let unix_now = now().and_utc().timestamp() as u64;
    let Some(step) = matching_step(&factor, &code, unix_now) else {
        let e = EnrolmentTexts::of(lang);
        return app_page(&frame, &browser, &state, &token, &aidant, &factor, Some(e.bad_code));
    };
    let (t, factor_id) = (token.clone(), factor.id.clone());
    let done = with_conn(&state.store, move |conn| enrolment::complete(conn, &t, &factor_id, step, now())).await?;
    if !done {
        let lookup = look_up(&state, &token).await?;
        return match lookup {
            Lookup::Valid { .. } => Ok(see_other(&page_url(&token))),
            other => unusable(&frame, &other, lang),
        };
    }
    let e = EnrolmentTexts::of(lang);
    let page =
        MessagePage { frame: &frame, e, title: e.done_title, text: e.done_text, ask_manager: false, sign_in: true };
    Ok(browser.with_cookie(&state, html_with_status(StatusCode::OK, &page)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_is_shown_in_groups_of_four() {
        assert_eq!(grouped("JBSWY3DPEHPK3PXPJB"), "JBSW Y3DP EHPK 3PXP JB");
    }
}
