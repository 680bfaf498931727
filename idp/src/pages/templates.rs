//! The page templates (askama, in `idp/templates/`) and what each one shows.

use askama::Template;

use crate::web::{Frame, Texts};

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage<'a> {
    pub t: &'static Texts,
    pub frame: &'a Frame,
    pub csrf_token: &'a str,
    pub request: &'a str,
    /// The relying party being signed in to, when the login serves one.
    pub service: Option<&'a str>,
    pub email: &'a str,
    pub error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "otp.html")]
pub struct OtpPage<'a> {
    pub t: &'static Texts,
    pub frame: &'a Frame,
    pub csrf_token: &'a str,
    pub request: &'a str,
    pub service: Option<&'a str>,
    pub error: Option<&'a str>,
}

/// One usager of the choice page, with the démarches this service may receive for them.
pub struct UsagerChoice {
    pub id: String,
    pub name: String,
    pub birthdate: String,
    pub birthplace: String,
    pub demarches: Vec<DemarcheChoice>,
}

pub struct DemarcheChoice {
    pub key: &'static str,
    pub label: &'static str,
    /// `argent`: its warning is shown, and the choice is confirmed on a second page.
    pub sensitive: bool,
}

#[derive(Template)]
#[template(path = "choose.html")]
pub struct ChoosePage<'a> {
    pub t: &'static Texts,
    pub frame: &'a Frame,
    pub csrf_token: &'a str,
    pub request: &'a str,
    pub service: &'a str,
    pub query: &'a str,
    pub show_search: bool,
    pub organisation_name: &'a str,
    /// (id, name, current)
    pub organisations: Vec<(String, String, bool)>,
    pub usagers: Vec<UsagerChoice>,
}

#[derive(Template)]
#[template(path = "confirm.html")]
pub struct ConfirmPage<'a> {
    pub t: &'static Texts,
    pub frame: &'a Frame,
    pub csrf_token: &'a str,
    pub request: &'a str,
    pub service: &'a str,
    pub usager_name: &'a str,
    pub demarche_label: &'a str,
}

#[derive(Template)]
#[template(path = "refusal.html")]
pub struct RefusalPage<'a> {
    pub t: &'static Texts,
    pub frame: &'a Frame,
    pub csrf_token: &'a str,
    pub request: &'a str,
    pub service: &'a str,
    pub reason: &'static str,
    pub hint: Option<&'static str>,
    /// Another choice may work (a usager was refused, not the whole request).
    pub offer_choice: bool,
}

#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage<'a> {
    pub t: &'static Texts,
    pub frame: &'a Frame,
    pub csrf_token: &'a str,
    pub aidant_name: Option<String>,
}
