//! The flows, as a browser and a relying party make them, request by request. Each checks what
//! it is given (status, redirect, `state`) and fails with what the server said otherwise.

use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Context};
use base64::Engine;
use reqwest::Method;

use crate::browser::{field, Browser};
use crate::population::{Client, Helper, DEMARCHE, REDIRECT_URI};

/// The relying party's side: its credentials as a Basic header (RFC 6749 §2.3.1: each part
/// form-urlencoded first).
pub struct RelyingParty {
    pub client_id: String,
    pub basic: String,
}

impl RelyingParty {
    pub fn new(client: &Client) -> RelyingParty {
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let pair = format!("{}:{}", enc(&client.id), enc(&client.secret));
        RelyingParty {
            client_id: client.id.clone(),
            basic: format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair)),
        }
    }

    fn authorize_path(&self, state: &str) -> String {
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        format!(
            "/authorize?client_id={}&redirect_uri={}&response_type=code&scope=openid%20profile&state={state}&nonce=n-{state}",
            enc(&self.client_id),
            enc(REDIRECT_URI)
        )
    }
}

/// The value of `name` in a URL's query, decoded.
fn query_value(url: &str, name: &str) -> Option<String> {
    let query = &url[url.find('?')? + 1..];
    url::form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}

/// TOTP step of the helpers the bench creates (phone apps).
const STEP: u64 = 30;

/// The login pool's one-time codes. The server accepts a code of the previous, current or next
/// step, each step once per helper and in increasing order; this book remembers the last step
/// each helper spent and hands out the next one it may: the current step or the next, never
/// the previous (a step boundary passed during the password check would void it).
pub struct CodeBook {
    last_step: Mutex<(usize, Vec<u64>)>,
}

impl CodeBook {
    pub fn new(helpers: usize) -> CodeBook {
        CodeBook { last_step: Mutex::new((0, vec![0; helpers])) }
    }

    /// A helper of the pool and the step of a code it may give now, if any.
    pub fn take(&self) -> Option<(usize, u64)> {
        let current = unix_now() / STEP;
        let mut book = self.last_step.lock().expect("code book");
        let (cursor, last) = &mut *book;
        let n = last.len();
        for offset in 0..n {
            let i = (*cursor + offset) % n;
            if let Some(step) = [current, current + 1].into_iter().find(|s| *s > last[i]) {
                last[i] = step;
                *cursor = (i + 1) % n;
                return Some((i, step));
            }
        }
        None
    }

    /// How long until the next step begins (when every helper may give one more code).
    pub fn until_next_step() -> Duration {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        Duration::from_secs(STEP) - Duration::from_millis((now.as_millis() % u128::from(STEP * 1000)) as u64)
    }
}

pub fn code_of(helper: &Helper, step: u64) -> anyhow::Result<String> {
    idp::totp::code_at(&helper.totp_secret, STEP, step * STEP).map_err(|e| anyhow!("{e}"))
}

/// The login flow: the login page, the password, the code page, the code; four requests
/// ending on the redirect into the helper's space. The browser starts with no cookie.
pub async fn login(browser: &mut Browser, helper: &Helper, code: &str) -> anyhow::Result<()> {
    browser.clear_cookies();
    let page = browser.get("/login").await?;
    let page = page.ok("GET /login")?;
    let (csrf, request) = (field(page, "csrf_token")?.to_owned(), field(page, "request")?.to_owned());
    let answer = browser
        .post_form(
            "/login",
            &[("csrf_token", &csrf), ("request", &request), ("email", &helper.email), ("password", &helper.password)],
        )
        .await?;
    let otp_page = answer.redirect("POST /login")?.to_owned();
    if !otp_page.starts_with("/login/otp") {
        bail!("POST /login: sent to {otp_page} instead of the code page");
    }
    let page = browser.get(&otp_page).await?;
    let page = page.ok("GET /login/otp")?;
    let csrf = field(page, "csrf_token")?.to_owned();
    let answer =
        browser.post_form("/login/otp", &[("csrf_token", &csrf), ("request", &request), ("otp", code)]).await?;
    let next = answer.redirect("POST /login/otp")?;
    if next.starts_with("/login") {
        bail!("POST /login/otp: code {code} refused (sent back to {next})");
    }
    Ok(())
}

/// Once per session helper, before any flow: sign in and accept the ethics charter, which a
/// helper does at their first sign-in.
pub async fn open_session(browser: &mut Browser, helper: &Helper, code: &str) -> anyhow::Result<()> {
    login(browser, helper, code).await.context("signing in")?;
    let page = browser.get("/charte").await?;
    let page = page.ok("GET /charte")?;
    let (csrf, version) = (field(page, "csrf_token")?.to_owned(), field(page, "version")?.to_owned());
    let answer = browser.post_form("/charte", &[("csrf_token", &csrf), ("request", ""), ("version", &version)]).await?;
    answer.redirect("POST /charte")?;
    Ok(())
}

/// A signed-in browser's way to a code: `/authorize`, then the choice (with the choice page
/// first when `read_page`; its form token is the session's, kept in `csrf`). Returns the code.
async fn authorize_and_choose(
    browser: &mut Browser,
    rp: &RelyingParty,
    choice: &str,
    state: &str,
    csrf: &mut Option<String>,
    read_page: bool,
) -> anyhow::Result<String> {
    let answer = browser.get(&rp.authorize_path(state)).await?;
    let choose = answer.redirect("GET /authorize")?.to_owned();
    if !choose.starts_with("/delegation/choix") {
        bail!("GET /authorize: a signed-in helper was sent to {choose} instead of the choice");
    }
    let request = if read_page || csrf.is_none() {
        let page = browser.get(&choose).await?;
        let page = page.ok("GET /delegation/choix")?;
        *csrf = Some(field(page, "csrf_token")?.to_owned());
        field(page, "request")?.to_owned()
    } else {
        query_value(&choose, "request").ok_or_else(|| anyhow!("no request in {choose}"))?
    };
    let token = csrf.as_deref().unwrap_or_default();
    let answer = browser
        .post_form("/delegation/choix", &[("csrf_token", token), ("request", &request), ("choix", choice)])
        .await?;
    let callback = answer.redirect("POST /delegation/choix")?;
    if query_value(callback, "state").as_deref() != Some(state) {
        bail!("the callback {callback} does not carry the state {state}");
    }
    query_value(callback, "code").ok_or_else(|| anyhow!("no code in the callback {callback}"))
}

/// The relying party exchanges a code: returns the access token.
pub async fn exchange(browser: &mut Browser, rp: &RelyingParty, code: &str) -> anyhow::Result<String> {
    let form = [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", REDIRECT_URI)];
    let answer = browser.as_client(Method::POST, "/token", Some(&form), &rp.basic).await?;
    let body = answer.ok("POST /token")?;
    let marker = "\"access_token\":\"";
    let start = body.find(marker).ok_or_else(|| anyhow!("no access_token in {body}"))? + marker.len();
    let token = &body[start..];
    if !body.contains("\"id_token\":\"") {
        bail!("no id_token in {body}");
    }
    Ok(token[..token.find('"').ok_or_else(|| anyhow!("access_token not closed"))?].to_owned())
}

/// The SSO flow with a live session: `/authorize`, the choice page, the choice (a code), then
/// the relying party's `/token` and `/userinfo`: five requests.
pub async fn sso(
    browser: &mut Browser,
    rp: &RelyingParty,
    choice: &str,
    state: &str,
    csrf: &mut Option<String>,
) -> anyhow::Result<()> {
    let code = authorize_and_choose(browser, rp, choice, state, csrf, true).await?;
    let access_token = exchange(browser, rp, &code).await?;
    let answer = browser.as_client(Method::GET, "/userinfo", None, &format!("Bearer {access_token}")).await?;
    let body = answer.ok("GET /userinfo")?;
    if !body.contains("\"mandate\"") {
        bail!("userinfo without the mandate: {body}");
    }
    Ok(())
}

/// A code for the exchange case (made before the exchanges are timed).
pub async fn prepare_code(
    browser: &mut Browser,
    rp: &RelyingParty,
    choice: &str,
    state: &str,
    csrf: &mut Option<String>,
) -> anyhow::Result<String> {
    authorize_and_choose(browser, rp, choice, state, csrf, false).await
}

/// One GET of a public document (discovery, JWKS).
pub async fn document(browser: &mut Browser, path: &str) -> anyhow::Result<()> {
    let answer = browser.get(path).await?;
    answer.ok(path)?;
    Ok(())
}

/// The choice button the SSO flow presses.
pub fn choice(usager_id: &str) -> String {
    format!("{usager_id}:{DEMARCHE}")
}
