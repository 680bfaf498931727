//! The person at the browser: keeps cookies, follows redirects on the provider's origin, fills
//! the provider's forms (login, one-time code, usager, démarche, confirmation) and stops as soon
//! as the next hop leaves the provider for the relying party.

use std::sync::Arc;
use std::time::Duration;

use reqwest::blocking::{Client, Response};
use reqwest::header::{CONTENT_TYPE, LOCATION};
use scraper::{ElementRef, Html, Selector};
use url::Url;

use crate::totp::{Authenticator, CodeUsage};

/// A helper account the robot can log in with.
pub struct Aidant {
    pub id: String,
    pub email: String,
    pub password: String,
    pub authenticator: Authenticator,
}

/// The helpers available for logging in, shared by every browser of a run: a fresh login takes
/// the helper whose next one-time code is available soonest.
pub struct Aidants {
    pub list: Vec<Aidant>,
}

impl Aidants {
    fn pick(&self) -> usize {
        (0..self.list.len()).min_by_key(|i| self.list[*i].authenticator.wait_needed()).unwrap_or(0)
    }

    /// The one-time codes all helpers gave, and the time spent waiting for them.
    pub fn code_usage(&self) -> CodeUsage {
        self.list.iter().map(|a| a.authenticator.usage()).fold(CodeUsage::default(), |sum, u| sum + u)
    }
}

/// Which choices to make on the usager and démarche pages.
#[derive(Clone, Debug, Default)]
pub struct Choices {
    pub usager: Option<String>,
    pub demarche: Option<String>,
}

/// What a page asked for, in the order met.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PageKind {
    Login,
    OneTimeCode,
    /// The one-click choice: a button per usager and démarche.
    Choice,
    /// The confirmation `argent` asks for.
    Confirmation,
}

/// How the browser reached the relying party.
#[derive(Clone, Debug)]
pub struct Callback {
    /// `GET` for a redirect, the form's method for a form post.
    pub method: String,
    pub url: Url,
    /// For a form post: the form's `enctype` (absent means form-urlencoded).
    pub content_type: Option<String>,
    /// Parameters in the URL's query.
    pub query: Vec<(String, String)>,
    /// Parameters in the URL's fragment.
    pub fragment: Vec<(String, String)>,
    /// Fields of the auto-submitted form (form post only).
    pub form: Vec<(String, String)>,
    /// The HTTP status of the redirect (form post: the page's status).
    pub status: u16,
}

impl Callback {
    /// The authorization response parameters (query for a redirect, body for a form post).
    pub fn params(&self) -> &[(String, String)] {
        if self.method.eq_ignore_ascii_case("POST") {
            &self.form
        } else {
            &self.query
        }
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.params().iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The callback URL without query and fragment.
    pub fn base(&self) -> String {
        let mut url = self.url.clone();
        url.set_query(None);
        url.set_fragment(None);
        url.to_string()
    }
}

/// Where the browser ended up.
#[derive(Clone, Debug)]
pub enum Landing {
    /// The provider sent the browser to another origin (or posted a form there).
    Callback(Callback),
    /// The provider answered with a page the robot does not submit (an error page, a
    /// "logged out" page, or any page when forms are not to be submitted).
    Page { status: u16, url: Url, content_type: Option<String>, body: String },
}

impl Landing {
    pub fn callback(&self) -> Option<&Callback> {
        match self {
            Landing::Callback(c) => Some(c),
            Landing::Page { .. } => None,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Landing::Callback(c) => format!("{} {} to {}", c.status, c.method, c.url),
            Landing::Page { status, url, .. } => format!("a page with status {status} at {url}"),
        }
    }
}

/// The end of a browser visit and the pages filled on the way.
#[derive(Clone, Debug)]
pub struct Visit {
    pub landing: Landing,
    pub pages: Vec<PageKind>,
}

impl Visit {
    pub fn asked_to_log_in(&self) -> bool {
        self.pages.contains(&PageKind::Login) || self.pages.contains(&PageKind::OneTimeCode)
    }
}

/// The first request of a visit.
pub enum Start {
    Get(Url),
    Post(Url, Vec<(String, String)>),
}

pub struct Browser {
    http: Client,
    origin: String,
    tls_root: Option<reqwest::Certificate>,
    aidants: Arc<Aidants>,
    /// Index of the helper this browser logs in as, once chosen.
    aidant: Option<usize>,
    pub choices: Choices,
    /// The values offered for `usager` and `demarche`, page by page, since the last visit began.
    pub offered: Vec<(String, Vec<String>)>,
}

const MAX_HOPS: usize = 25;

impl Browser {
    pub fn new(
        issuer: &Url,
        tls_root: Option<reqwest::Certificate>,
        aidants: Arc<Aidants>,
        choices: Choices,
    ) -> Browser {
        let http = crate::tls_front::client_builder(tls_root.as_ref())
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .expect("HTTP client");
        Browser {
            http,
            origin: issuer.origin().ascii_serialization(),
            tls_root,
            aidants,
            aidant: None,
            choices,
            offered: Vec::new(),
        }
    }

    /// The same helpers and choices, with an empty cookie jar.
    pub fn fresh(&self) -> Browser {
        let issuer = Url::parse(&self.origin).expect("origin is a URL");
        Browser::new(&issuer, self.tls_root.clone(), self.aidants.clone(), self.choices.clone())
    }

    /// The helper this browser logged in as, if it did.
    pub fn aidant(&self) -> Option<&Aidant> {
        self.aidant.map(|i| &self.aidants.list[i])
    }

    fn on_provider(&self, url: &Url) -> bool {
        url.origin().ascii_serialization() == self.origin
    }

    /// Browses from `start`, filling the provider's forms when `submit_forms`, until the
    /// browser is sent off the provider's origin or gets a page it does not submit.
    pub fn visit(&mut self, start: Start, submit_forms: bool) -> Result<Visit, String> {
        let mut pages = Vec::new();
        self.offered.clear();
        let (mut url, mut response) = match start {
            Start::Get(url) => {
                let r = self.http.get(url.clone()).send().map_err(|e| format!("GET {url}: {e}"))?;
                (url, r)
            }
            Start::Post(url, form) => {
                let r = self.http.post(url.clone()).form(&form).send().map_err(|e| format!("POST {url}: {e}"))?;
                (url, r)
            }
        };
        for _ in 0..MAX_HOPS {
            let status = response.status().as_u16();
            if response.status().is_redirection() {
                let location = response
                    .headers()
                    .get(LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .ok_or_else(|| format!("{status} from {url} without a Location"))?;
                let next = url.join(location).map_err(|e| format!("bad Location `{location}`: {e}"))?;
                if !self.on_provider(&next) {
                    return Ok(Visit { landing: Landing::Callback(redirect_callback(status, next)), pages });
                }
                response = self.http.get(next.clone()).send().map_err(|e| format!("GET {next}: {e}"))?;
                url = next;
                continue;
            }
            let content_type = header(&response, CONTENT_TYPE);
            let body = response.text().map_err(|e| format!("reading {url}: {e}"))?;
            let page =
                || Landing::Page { status, url: url.clone(), content_type: content_type.clone(), body: body.clone() };
            if !(200..300).contains(&status) || !content_type.as_deref().unwrap_or("").contains("html") {
                return Ok(Visit { landing: page(), pages });
            }
            let Some(form) = find_post_form(&body, &url) else {
                return Ok(Visit { landing: page(), pages });
            };
            if !self.on_provider(&form.action) {
                // OAuth 2.0 Form Post Response Mode: the page posts the response to the client.
                let callback = Callback {
                    method: form.method.to_ascii_uppercase(),
                    query: pairs(form.action.query()),
                    fragment: pairs(form.action.fragment()),
                    url: form.action.clone(),
                    content_type: form.enctype.clone(),
                    form: form.hidden_and_values(),
                    status,
                };
                return Ok(Visit { landing: Landing::Callback(callback), pages });
            }
            if !submit_forms {
                return Ok(Visit { landing: page(), pages });
            }
            let (fields, kind) = self.fill(&form)?;
            pages.push(kind);
            let target = form.action.clone();
            response =
                self.http.post(target.clone()).form(&fields).send().map_err(|e| format!("POST {target}: {e}"))?;
            url = target;
        }
        Err(format!("more than {MAX_HOPS} hops without reaching the relying party"))
    }

    fn fill(&mut self, form: &Form) -> Result<(Vec<(String, String)>, PageKind), String> {
        let names: Vec<&str> = form.fields.iter().map(|f| f.name.as_str()).collect();
        let kind = if names.contains(&"password") || names.contains(&"email") {
            PageKind::Login
        } else if names.contains(&"otp") {
            PageKind::OneTimeCode
        } else if names.contains(&"choix") {
            PageKind::Choice
        } else {
            PageKind::Confirmation
        };
        if kind == PageKind::Login {
            // Each login takes the helper whose next one-time code is available soonest.
            self.aidant = Some(self.aidants.pick());
        }
        for field in form.fields.iter().filter(|f| f.name == "usager" || f.name == "demarche") {
            self.offered.push((field.name.clone(), field.options.clone()));
        }
        // The choice page's buttons are `usager:demarche`: offered are the usagers, and the
        // démarches of the usager that will be chosen.
        if let Some(buttons) = form.fields.iter().find(|f| f.name == "choix") {
            let pressed = self.choose_button(&buttons.options);
            let pairs: Vec<(&str, &str)> = buttons.options.iter().filter_map(|o| o.split_once(':')).collect();
            let mut usagers: Vec<String> = pairs.iter().map(|(u, _)| (*u).to_owned()).collect();
            usagers.dedup();
            let chosen_usager = pressed.split_once(':').map(|(u, _)| u).unwrap_or_default();
            let demarches = pairs.iter().filter(|(u, _)| *u == chosen_usager).map(|(_, d)| (*d).to_owned()).collect();
            self.offered.push(("usager".into(), usagers));
            self.offered.push(("demarche".into(), demarches));
        }
        let mut out = Vec::new();
        let mut radios_done: Vec<String> = Vec::new();
        for field in &form.fields {
            let chosen = |wanted: &Option<String>| -> String {
                wanted
                    .as_ref()
                    .filter(|w| field.options.contains(w))
                    .cloned()
                    .or_else(|| field.checked.clone())
                    .or_else(|| field.options.first().cloned())
                    .unwrap_or_default()
            };
            let value = match (field.kind.as_str(), field.name.as_str()) {
                ("radio", name) | ("select", name) => {
                    if radios_done.iter().any(|n| n == name) {
                        continue;
                    }
                    radios_done.push(name.to_owned());
                    match name {
                        "usager" => chosen(&self.choices.usager),
                        "demarche" => chosen(&self.choices.demarche),
                        _ => chosen(&None),
                    }
                }
                ("checkbox", _) => match &field.checked {
                    Some(v) => v.clone(),
                    None => continue,
                },
                ("submit", "choix") => self.choose_button(&field.options),
                ("submit", _) => field.value.clone(),
                (_, "email") => self.current_aidant()?.email.clone(),
                (_, "password") => self.current_aidant()?.password.clone(),
                (_, "otp") => self.current_aidant()?.authenticator.next_code(),
                _ => field.value.clone(),
            };
            out.push((field.name.clone(), value));
        }
        Ok((out, kind))
    }

    /// The choice button to press: the wanted usager and démarche, else the wanted usager's
    /// first, else the wanted démarche's first, else the first button.
    fn choose_button(&self, buttons: &[String]) -> String {
        let (usager, demarche) = (self.choices.usager.as_deref(), self.choices.demarche.as_deref());
        let split = |b: &String| b.split_once(':').map(|(u, d)| (u.to_owned(), d.to_owned())).unwrap_or_default();
        buttons
            .iter()
            .find(|b| {
                usager.is_some() && demarche.is_some() && split(b) == (usager.unwrap().into(), demarche.unwrap().into())
            })
            .or_else(|| buttons.iter().find(|b| usager.is_some_and(|u| split(b).0 == u)))
            .or_else(|| buttons.iter().find(|b| demarche.is_some_and(|d| split(b).1 == d)))
            .or_else(|| buttons.first())
            .cloned()
            .unwrap_or_default()
    }

    fn current_aidant(&mut self) -> Result<&Aidant, String> {
        if self.aidant.is_none() {
            self.aidant = Some(self.aidants.pick());
        }
        self.aidant.map(|i| &self.aidants.list[i]).ok_or_else(|| "no helper account to log in with".to_owned())
    }

    /// A plain GET in this browser (cookies sent), not following redirects.
    pub fn get(&self, url: &Url) -> Result<Response, String> {
        self.http.get(url.clone()).send().map_err(|e| format!("GET {url}: {e}"))
    }
}

fn header(response: &Response, name: reqwest::header::HeaderName) -> Option<String> {
    response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

fn pairs(text: Option<&str>) -> Vec<(String, String)> {
    text.map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default()
}

fn redirect_callback(status: u16, url: Url) -> Callback {
    Callback {
        method: "GET".into(),
        query: pairs(url.query()),
        fragment: pairs(url.fragment()),
        url,
        content_type: None,
        form: Vec::new(),
        status,
    }
}

/// One named form control.
#[derive(Clone, Debug)]
struct Field {
    kind: String,
    name: String,
    value: String,
    /// Values offered by a radio group or a select.
    options: Vec<String>,
    /// The value already selected, if any.
    checked: Option<String>,
}

#[derive(Clone, Debug)]
struct Form {
    method: String,
    action: Url,
    enctype: Option<String>,
    fields: Vec<Field>,
}

impl Form {
    fn hidden_and_values(&self) -> Vec<(String, String)> {
        self.fields.iter().filter(|f| f.kind != "submit").map(|f| (f.name.clone(), f.value.clone())).collect()
    }
}

fn selector(text: &str) -> Selector {
    Selector::parse(text).expect("static selector")
}

/// The page's form with method POST (the provider's pages have one); form post responses
/// (OAuth 2.0 Form Post §2) are recognised the same way.
fn find_post_form(body: &str, page: &Url) -> Option<Form> {
    let html = Html::parse_document(body);
    // Forms beside the flow (cancel, switch organisation) are never the one to fill, and the
    // sign-out button of a page's header only when it is the page's one form (the logout page).
    let path_of =
        |f: &scraper::ElementRef<'_>| f.value().attr("action").unwrap_or("").split('?').next().unwrap_or("").to_owned();
    let candidates: Vec<scraper::ElementRef<'_>> = html
        .select(&selector("form"))
        .filter(|f| f.value().attr("method").is_some_and(|m| m.eq_ignore_ascii_case("post")))
        .filter(|f| !["/delegation/annuler", "/delegation/organisation"].iter().any(|p| path_of(f).ends_with(p)))
        .collect();
    let form =
        candidates.iter().find(|f| !path_of(f).ends_with("/logout/confirm")).or_else(|| candidates.first()).copied()?;
    let action = match form.value().attr("action") {
        Some(a) if !a.is_empty() => page.join(a).ok()?,
        _ => page.clone(),
    };
    let mut fields: Vec<Field> = Vec::new();
    for control in form.select(&selector("input, select, textarea, button")) {
        let el = control.value();
        let Some(name) = el.attr("name").filter(|n| !n.is_empty()) else {
            continue;
        };
        if el.attr("disabled").is_some() {
            continue;
        }
        let tag = el.name();
        let kind = match tag {
            "select" => "select".to_owned(),
            "textarea" => "text".to_owned(),
            "button" => el.attr("type").unwrap_or("submit").to_ascii_lowercase(),
            _ => el.attr("type").unwrap_or("text").to_ascii_lowercase(),
        };
        if kind == "button" || kind == "reset" {
            continue;
        }
        let value = if tag == "textarea" { text_of(control) } else { el.attr("value").unwrap_or_default().to_owned() };
        match kind.as_str() {
            "radio" => {
                let checked = el.attr("checked").map(|_| value.clone());
                if let Some(group) = fields.iter_mut().find(|f| f.kind == "radio" && f.name == name) {
                    group.options.push(value);
                    if checked.is_some() {
                        group.checked = checked;
                    }
                } else {
                    fields.push(Field { kind, name: name.into(), value: String::new(), options: vec![value], checked });
                }
            }
            "checkbox" => {
                let checked =
                    el.attr("checked").map(|_| if value.is_empty() { "on".to_owned() } else { value.clone() });
                fields.push(Field { kind, name: name.into(), value, options: vec![], checked });
            }
            "select" => {
                let mut options = Vec::new();
                let mut checked = None;
                for option in control.select(&selector("option")) {
                    let v = option.value().attr("value").map(str::to_owned).unwrap_or_else(|| text_of(option));
                    if option.value().attr("disabled").is_some() || v.is_empty() {
                        continue;
                    }
                    if option.value().attr("selected").is_some() {
                        checked = Some(v.clone());
                    }
                    options.push(v);
                }
                fields.push(Field { kind, name: name.into(), value: String::new(), options, checked });
            }
            "submit" | "image" => {
                // Buttons sharing a name are one choice (the choice page's `choix`); otherwise
                // only the first submit button is "clicked".
                if let Some(group) = fields.iter_mut().find(|f| f.kind == "submit" && f.name == name) {
                    group.options.push(value);
                } else if !fields.iter().any(|f| f.kind == "submit") {
                    fields.push(Field {
                        kind: "submit".into(),
                        name: name.into(),
                        value: value.clone(),
                        options: vec![value],
                        checked: None,
                    });
                }
            }
            _ => fields.push(Field { kind, name: name.into(), value, options: vec![], checked: None }),
        }
    }
    Some(Form {
        method: form.value().attr("method").unwrap_or("post").to_owned(),
        action,
        enctype: form.value().attr("enctype").map(str::to_owned),
        fields,
    })
}

fn text_of(el: ElementRef<'_>) -> String {
    el.text().collect::<String>().trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_are_read_with_their_groups_and_hidden_inputs() {
        let page = Url::parse("http://127.0.0.1:1/login").unwrap();
        let html = r#"<html><body>
            <form method="get" action="/search"><input name="q"></form>
            <form method="POST" action="/choose">
              <input type="hidden" name="csrf_token" value="t0k">
              <input type="radio" name="usager" value="u1"> <input type="radio" name="usager" value="u2">
              <select name="demarche"><option value="">--</option><option value="argent">A</option><option value="social" selected>S</option></select>
              <button type="submit" name="action" value="go">Go</button><button type="submit" name="action" value="no">No</button>
            </form></body></html>"#;
        let form = find_post_form(html, &page).unwrap();
        assert_eq!(form.action.as_str(), "http://127.0.0.1:1/choose");
        let usager = form.fields.iter().find(|f| f.name == "usager").unwrap();
        assert_eq!(usager.options, vec!["u1", "u2"]);
        let demarche = form.fields.iter().find(|f| f.name == "demarche").unwrap();
        assert_eq!(demarche.options, vec!["argent", "social"]);
        assert_eq!(demarche.checked.as_deref(), Some("social"));
        assert_eq!(form.fields.iter().filter(|f| f.kind == "submit").count(), 1);
    }

    #[test]
    fn the_choice_page_presses_the_wanted_button_and_never_a_side_form() {
        let page = Url::parse("http://127.0.0.1:1/delegation/choix?request=r").unwrap();
        let html = r#"<html><body>
            <form method="post" action="/logout/confirm"><input type="hidden" name="csrf_token" value="t"><button>Out</button></form>
            <form method="post" action="/delegation/organisation"><select name="organisation"><option value="o1">O</option></select><button>Switch</button></form>
            <form method="post" action="/delegation/choix">
              <input type="hidden" name="csrf_token" value="t"><input type="hidden" name="request" value="r">
              <button type="submit" name="choix" value="u1:logement">L</button>
              <button type="submit" name="choix" value="u1:social">S</button>
              <button type="submit" name="choix" value="u2:papiers">P</button>
            </form>
            <form method="post" action="/delegation/annuler"><button>Cancel</button></form></body></html>"#;
        let form = find_post_form(html, &page).unwrap();
        assert_eq!(form.action.as_str(), "http://127.0.0.1:1/delegation/choix");
        let mut browser = Browser::new(
            &Url::parse("http://127.0.0.1:1").unwrap(),
            None,
            Arc::new(Aidants { list: Vec::new() }),
            Choices { usager: Some("u1".into()), demarche: Some("social".into()) },
        );
        let (fields, kind) = browser.fill(&form).unwrap();
        assert_eq!(kind, PageKind::Choice);
        let pressed: Vec<&str> = fields.iter().filter(|(n, _)| n == "choix").map(|(_, v)| v.as_str()).collect();
        assert_eq!(pressed, ["u1:social"], "one button pressed, the wanted one");
        assert_eq!(
            browser.offered,
            vec![
                ("usager".to_owned(), vec!["u1".to_owned(), "u2".to_owned()]),
                ("demarche".to_owned(), vec!["logement".to_owned(), "social".to_owned()]),
            ]
        );
        // The logout page's one form is the confirmation: that one is filled.
        let logout = r#"<form method="post" action="/logout/confirm"><input type="hidden" name="state" value="s"><button>Out</button></form>"#;
        assert_eq!(find_post_form(logout, &page).unwrap().action.path(), "/logout/confirm");
        browser.choices = Choices { usager: Some("u2".into()), demarche: None };
        assert_eq!(browser.choose_button(&["u1:logement".into(), "u2:papiers".into()]), "u2:papiers");
    }
}
