//! Faults the provider must survive (decision 0026): its PostgreSQL database restarted,
//! stopped or absent at start, its SQLite file read-only or its disk full. While the database
//! cannot serve, requests fail cleanly (`503`: `temporarily_unavailable` in JSON, a French page
//! for people); afterwards the server serves again by itself, and nothing a client saw done is
//! lost or half-written. `cargo test --test api -- faults` runs them all.

mod postgres;
mod sqlite;

use idp::admin::demo::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};
use serde_json::Value;

use crate::robot::{input_value, location, query_params, CALLBACK};

/// The words of the page a person sees while the database cannot serve.
pub const UNAVAILABLE_PAGE: &str = "Service momentanément indisponible";

/// An answer that was not the flow's next step.
#[derive(Debug)]
pub struct Refusal {
    pub path: &'static str,
    /// 0 when no HTTP answer came at all.
    pub status: u16,
    pub body: String,
}

impl Refusal {
    /// A refusal that says "try again later" in the endpoint's own form: JSON
    /// `temporarily_unavailable` from the protocol endpoints, the French page from pages.
    pub fn is_clean(&self) -> bool {
        if self.status != 503 {
            return false;
        }
        match self.path {
            "/token" | "/userinfo" => {
                serde_json::from_str::<Value>(&self.body).is_ok_and(|json| json["error"] == "temporarily_unavailable")
            }
            _ => self.body.contains(UNAVAILABLE_PAGE),
        }
    }
}

async fn answer(
    sent: Result<reqwest::Response, reqwest::Error>,
    path: &'static str,
) -> Result<reqwest::Response, Refusal> {
    match sent {
        Err(e) => Err(Refusal { path, status: 0, body: e.to_string() }),
        Ok(r) if r.status().is_success() || r.status().is_redirection() => Ok(r),
        Ok(r) => {
            let status = r.status().as_u16();
            Err(Refusal { path, status, body: r.text().await.unwrap_or_default() })
        }
    }
}

/// One flow with the helper signed in: `/authorize`, the choice of usager and démarche (and its
/// confirmation), the code, `/token`, `/userinfo`. The access token when every step succeeded.
pub async fn sso_flow(client: &reqwest::Client, base: &str, usager: &str, state: &str) -> Result<String, Refusal> {
    let params = [
        ("client_id", DEMO_CLIENT_ID),
        ("redirect_uri", CALLBACK),
        ("response_type", "code"),
        ("scope", "openid profile"),
        ("state", state),
        ("nonce", "n-faults"),
    ];
    let url = reqwest::Url::parse_with_params(&format!("{base}/authorize"), &params).unwrap();
    let mut response = answer(client.get(url).send().await, "/authorize").await?;
    let mut code = None;
    for _ in 0..8 {
        if response.status().is_redirection() {
            let next = location(&response);
            if next.starts_with(CALLBACK) {
                code = Some(query_params(&next)["code"].clone());
                break;
            }
            let path = next.strip_prefix(base).unwrap_or(&next).to_owned();
            response = answer(client.get(format!("{base}{path}")).send().await, "page").await?;
            continue;
        }
        let html = response.text().await.map_err(|e| Refusal { path: "page", status: 0, body: e.to_string() })?;
        let csrf = input_value(&html, "csrf_token").unwrap_or_default();
        let request = input_value(&html, "request").unwrap_or_default();
        let (path, form): (&'static str, Vec<(&str, String)>) = if html.contains("name=\"choix\"") {
            ("/delegation/choix", vec![("choix", format!("{usager}:logement"))])
        } else if html.contains("action=\"/delegation/confirmation\"") {
            ("/delegation/confirmation", vec![])
        } else {
            // A sign-in page would mean the session was lost: not a clean failure either.
            return Err(Refusal { path: "page", status: 200, body: html });
        };
        let mut fields = vec![("csrf_token", csrf), ("request", request)];
        fields.extend(form);
        response = answer(client.post(format!("{base}{path}")).form(&fields).send().await, path).await?;
    }
    let Some(code) = code else { return Err(Refusal { path: "page", status: 0, body: "too many steps".into() }) };
    let sent = client
        .post(format!("{base}/token"))
        .basic_auth(DEMO_CLIENT_ID, Some(DEMO_CLIENT_SECRET))
        .form(&[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", CALLBACK)])
        .send()
        .await;
    let tokens: Value = answer(sent, "/token").await?.json().await.unwrap();
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    answer(client.get(format!("{base}/userinfo")).bearer_auth(&access).send().await, "/userinfo").await?;
    Ok(access)
}
