//! A helper at the browser: keeps cookies, fills the forms by their stable field names.

use std::collections::HashMap;

use idp::admin::clients::{register, ClientRegistration};
use idp::admin::demo::{self, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_EMAIL, DEMO_PASSWORD, DEMO_TOTP_SECRET};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, decode_header, DecodingKey, Validation};
use serde_json::Value;

use crate::helpers::TestApp;

pub const CALLBACK: &str = "http://127.0.0.1:8765/callback";

pub struct Demo {
    pub seed: Value,
}

impl Demo {
    pub fn usager_id(&self, index: usize) -> String {
        self.seed["usagers"][index]["id"].as_str().unwrap().to_owned()
    }
    pub fn aidant_id(&self) -> String {
        self.seed["aidant"]["id"].as_str().unwrap().to_owned()
    }
}

pub fn seed(app: &TestApp) -> Demo {
    let mut conn = app.db.store.conn().unwrap();
    Demo { seed: demo::seed(&mut conn, &app.db.keys, &app.settings.issuer).unwrap() }
}

pub fn add_client(app: &TestApp, registration: ClientRegistration) -> (String, Option<String>) {
    let mut conn = app.db.store.conn().unwrap();
    let (client, secret) = register(&mut conn, registration).unwrap();
    (client.id, secret)
}

/// The value of the hidden or text input `name` in `html`.
pub fn input_value(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].replace("&amp;", "&"))
}

pub fn location(response: &reqwest::Response) -> String {
    response.headers().get("Location").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
}

pub fn query_params(url: &str) -> HashMap<String, String> {
    url::Url::parse(url).unwrap().query_pairs().into_owned().collect()
}

pub struct Robot<'a> {
    pub app: &'a TestApp,
    pub client: reqwest::Client,
    /// The last TOTP step used: each works once, so the next code is of a later step.
    pub last_totp_step: Option<u64>,
}

impl<'a> Robot<'a> {
    pub fn new(app: &'a TestApp) -> Robot<'a> {
        // No idle connection is kept: after waiting for a one-time code's step, a kept one may
        // have been closed by the server (keep-alive 5 s), and a POST on it fails.
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .pool_max_idle_per_host(0)
            .build()
            .unwrap();
        Robot { app, client, last_totp_step: None }
    }

    pub fn absolute(&self, location: &str) -> String {
        if location.starts_with('/') {
            self.app.url(location)
        } else {
            location.to_owned()
        }
    }

    pub async fn get(&self, url: &str) -> reqwest::Response {
        self.client.get(self.absolute(url)).send().await.unwrap()
    }

    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.client.post(self.absolute(path)).form(fields).send().await.unwrap()
    }

    /// A one-time code of a step not used yet that the server accepts now (it accepts the step
    /// before and after the current one): three codes at once, then one per 30 s, waited for.
    pub fn next_totp(&mut self) -> String {
        loop {
            let unix = chrono::Utc::now().timestamp() as u64;
            let (current, into_step) = (unix / 30, unix % 30);
            // The previous step, unless it is about to leave the window.
            let earliest = if into_step < 25 { current - 1 } else { current };
            let step = self.last_totp_step.map_or(earliest, |last| (last + 1).max(earliest));
            if step <= current + 1 {
                self.last_totp_step = Some(step);
                return idp::totp::code_at(DEMO_TOTP_SECRET, 30, step * 30).unwrap();
            }
            std::thread::sleep(std::time::Duration::from_secs(30 - into_step));
        }
    }

    /// Starts an authorization request; returns the first response.
    pub async fn authorize(&self, params: &[(&str, &str)]) -> reqwest::Response {
        let url = reqwest::Url::parse_with_params(&self.app.url("/authorize"), params).unwrap();
        self.client.get(url).send().await.unwrap()
    }

    /// Follows the pages from `response` to the relying party, pressing the button of `usager`
    /// and `demarche` (and confirming `argent`); returns the final redirect's URL (or panics on an
    /// unexpected page).
    pub async fn complete(&mut self, mut response: reqwest::Response, usager: &str, demarche: &str) -> String {
        for _ in 0..12 {
            let status = response.status();
            if status.is_redirection() {
                let next = location(&response);
                if next.starts_with(CALLBACK) || !next.starts_with('/') {
                    return next;
                }
                response = self.get(&next).await;
                continue;
            }
            assert_eq!(status, 200, "unexpected page: {}", response.text().await.unwrap());
            let html = response.text().await.unwrap();
            let csrf = input_value(&html, "csrf_token").expect("a CSRF token");
            let request = input_value(&html, "request").unwrap_or_default();
            response = if html.contains("name=\"password\"") {
                self.post_form(
                    "/login",
                    &[("csrf_token", &csrf), ("request", &request), ("email", DEMO_EMAIL), ("password", DEMO_PASSWORD)],
                )
                .await
            } else if html.contains("name=\"otp\"") {
                let code = self.next_totp();
                self.post_form("/login/otp", &[("csrf_token", &csrf), ("request", &request), ("otp", &code)]).await
            } else if html.contains("name=\"choix\"") {
                let choice = format!("{usager}:{demarche}");
                self.post_form("/delegation/choix", &[("csrf_token", &csrf), ("request", &request), ("choix", &choice)])
                    .await
            } else if html.contains("action=\"/delegation/confirmation\"") {
                self.post_form("/delegation/confirmation", &[("csrf_token", &csrf), ("request", &request)]).await
            } else {
                panic!("unknown page: {html}");
            }
        }
        panic!("too many steps")
    }

    /// Follows redirects and fills the login pages (password, one-time code) until a page
    /// containing `marker`, or any page answered with an error status; returns its status and body.
    pub async fn log_in_until(
        &mut self,
        mut response: reqwest::Response,
        marker: &str,
    ) -> (reqwest::StatusCode, String) {
        for _ in 0..10 {
            if response.status().is_redirection() {
                response = self.get(&location(&response)).await;
                continue;
            }
            let status = response.status();
            let html = response.text().await.unwrap();
            if html.contains(marker) || !status.is_success() {
                return (status, html);
            }
            let csrf = input_value(&html, "csrf_token").expect("a CSRF token");
            let request = input_value(&html, "request").unwrap_or_default();
            response = if html.contains("name=\"password\"") {
                self.post_form(
                    "/login",
                    &[("csrf_token", &csrf), ("request", &request), ("email", DEMO_EMAIL), ("password", DEMO_PASSWORD)],
                )
                .await
            } else if html.contains("name=\"otp\"") {
                let code = self.next_totp();
                self.post_form("/login/otp", &[("csrf_token", &csrf), ("request", &request), ("otp", &code)]).await
            } else {
                panic!("neither a login page nor {marker:?}: {html}");
            };
        }
        panic!("too many steps before {marker:?}")
    }

    pub async fn token(&self, form: &[(&str, &str)], basic: Option<(&str, &str)>) -> reqwest::Response {
        let mut request = self.client.post(self.app.url("/token")).form(form);
        if let Some((id, secret)) = basic {
            request = request.basic_auth(id, Some(secret));
        }
        request.send().await.unwrap()
    }

    pub async fn exchange_demo_code(&self, code: &str) -> reqwest::Response {
        self.token(
            &[("grant_type", "authorization_code"), ("code", code), ("redirect_uri", CALLBACK)],
            Some((DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)),
        )
        .await
    }

    /// Verifies an ID token against the published JWKS with an independent JOSE library.
    pub async fn verify_id_token(&self, id_token: &str, audience: &str) -> Value {
        let jwks: JwkSet = self.get("/jwks").await.json().await.unwrap();
        let header = decode_header(id_token).unwrap();
        let kid = header.kid.expect("kid in the header");
        let jwk = jwks.find(&kid).expect("kid published in /jwks");
        let mut validation = Validation::new(header.alg);
        validation.set_audience(&[audience]);
        validation.set_issuer(&[self.app.settings.issuer.as_str()]);
        decode::<Value>(id_token, &DecodingKey::from_jwk(jwk).unwrap(), &validation).expect("a valid ID token").claims
    }
}
