//! The page templates (askama, in `idp/templates/`) and what each one shows.

use askama::Template;
use mandate_store::usagers::Usager;

use crate::web::{Frame, Texts};

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage<'a> {
    pub t: &'static Texts,
    pub frame: &'a Frame,
    pub csrf_token: &'a str,
    pub request: &'a str,
    pub email: &'a str,
    pub error: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "otp.html")]
pub struct OtpPage<'a> {
    pub t: &'static Texts,
    pub frame: &'a Frame,
    pub csrf_token: &'a str,
    pub request: &'a str,
    pub error: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "choose_usager.html")]
pub struct ChooseUsagerPage<'a> {
    pub t: &'static Texts,
    pub frame: &'a Frame,
    pub csrf_token: &'a str,
    pub request: &'a str,
    pub query: &'a str,
    pub organisation_name: &'a str,
    /// (id, name, current)
    pub organisations: Vec<(String, String, bool)>,
    pub usagers: Vec<Usager>,
}

#[derive(Template)]
#[template(path = "choose_demarche.html")]
pub struct ChooseDemarchePage<'a> {
    pub t: &'static Texts,
    pub frame: &'a Frame,
    pub csrf_token: &'a str,
    pub request: &'a str,
    pub usager_name: &'a str,
    /// (key, label, mandate expiry date)
    pub demarches: Vec<(String, String, String)>,
}

#[derive(Template)]
#[template(path = "confirm.html")]
pub struct ConfirmPage<'a> {
    pub t: &'static Texts,
    pub frame: &'a Frame,
    pub csrf_token: &'a str,
    pub request: &'a str,
    pub usager_name: &'a str,
    pub demarche_label: &'a str,
    pub client_name: &'a str,
}

#[derive(Template)]
#[template(path = "refusal.html")]
pub struct RefusalPage<'a> {
    pub t: &'static Texts,
    pub frame: &'a Frame,
    pub request: &'a str,
    pub reason: &'static str,
}

#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage<'a> {
    pub t: &'static Texts,
    pub frame: &'a Frame,
    pub csrf_token: &'a str,
    pub aidant_name: Option<String>,
}
