//! The practice service ("bac à sable"): a relying party of this very provider, inside the
//! binary, that lets a helper rehearse a formality end to end. It uses the `demo-service`
//! client that `idp demo seed` registers, talks to this provider over HTTP at its issuer URL
//! like any service would, verifies the ID token with the published JWKS through the
//! relying-party client, and shows in plain French what it received.

mod pending;

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use mandate_store::{clients, Demarche};
use serde_json::{Map, Value};

use crate::admin::demo::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};
use crate::blocking::with_conn;
use crate::configuration::{ClientSecret, Settings};
use crate::relying_party::{LoginSecrets, RelyingParty, RelyingPartyConfig, RpError, Verified};
use crate::web::csrf::CsrfKey;
use crate::web::{dates, places};
use crate::web::{html, html_with_status, AppState, Frame, Lang, PageError};

const CALLBACK_PATH: &str = "/sandbox/callback";
/// The identity a real service asks FranceConnect-style: the pivot identity and the e-mail.
const SCOPES: &str = "openid identite_pivot email";

/// The practice service's relying party and cookie key (shared by workers).
pub struct Sandbox {
    relying_party: RelyingParty,
    cookie_key: Vec<u8>,
    secure_cookie: bool,
    callback_url: String,
}

impl Sandbox {
    pub fn new(settings: &Settings, csrf: &CsrfKey) -> Result<Sandbox, RpError> {
        let callback_url = settings.url(CALLBACK_PATH);
        let relying_party = RelyingParty::new(RelyingPartyConfig {
            issuer: settings.issuer.clone(),
            client_id: DEMO_CLIENT_ID.to_owned(),
            client_secret: ClientSecret::new(DEMO_CLIENT_SECRET),
            redirect_uri: callback_url.clone(),
            scopes: SCOPES.to_owned(),
            acr_values: Some("eidas1".to_owned()),
            timeout: settings.outgoing.timeout(),
            connect_timeout: settings.outgoing.connect_timeout(),
        })?;
        Ok(Sandbox {
            relying_party,
            cookie_key: csrf.derive("sandbox-login-cookie"),
            secure_cookie: settings.issuer_is_https(),
            callback_url,
        })
    }
}

/// Why the practice service cannot show a result, each a page in plain words.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("the demo client is not registered")]
    NotRegistered,
    /// No login of this browser in progress, or not the one this answer is for.
    #[error("no practice login in progress for this answer")]
    NoLogin,
    #[error(transparent)]
    RelyingParty(#[from] RpError),
    #[error(transparent)]
    Page(#[from] PageError),
}

impl From<mandate_store::StoreError> for SandboxError {
    fn from(e: mandate_store::StoreError) -> Self {
        SandboxError::Page(PageError::Store(e))
    }
}

#[derive(Template)]
#[template(path = "sandbox/index.html")]
struct IndexPage {
    frame: Frame,
    registered: bool,
}

#[derive(Template)]
#[template(path = "sandbox/message.html")]
struct MessagePage<'a> {
    frame: Frame,
    title: &'a str,
    message: &'a str,
    detail: Option<&'a str>,
}

impl actix_web::ResponseError for SandboxError {
    fn status_code(&self) -> actix_web::http::StatusCode {
        use actix_web::http::StatusCode;
        match self {
            SandboxError::NotRegistered => StatusCode::SERVICE_UNAVAILABLE,
            SandboxError::NoLogin => StatusCode::BAD_REQUEST,
            SandboxError::RelyingParty(RpError::Timeout(_)) => StatusCode::GATEWAY_TIMEOUT,
            SandboxError::RelyingParty(_) => StatusCode::BAD_GATEWAY,
            SandboxError::Page(page) => page.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        let frame = Frame::anonymous(Lang::Fr);
        let (title, message) = match self {
            SandboxError::NotRegistered => {
                return html_with_status(self.status_code(), &IndexPage { frame, registered: false })
                    .unwrap_or_else(|e| e.error_response())
            }
            SandboxError::NoLogin => (
                "Démarche d'essai introuvable",
                "Cette réponse ne correspond à aucune démarche d'essai commencée dans ce navigateur (elle a déjà \
                 servi, ou elle date de plus de quinze minutes). Recommencez une démarche d'essai.",
            ),
            SandboxError::RelyingParty(e) => {
                tracing::warn!(error = %e, "practice service login failed");
                (
                    "Le service d'essai n'a pas pu terminer",
                    "La réponse d'Aidants IdP n'a pas pu être reçue ou vérifiée. Recommencez la démarche d'essai ; \
                     si cela se reproduit, prévenez votre référent.",
                )
            }
            SandboxError::Page(page) => return page.error_response(),
        };
        html_with_status(self.status_code(), &MessagePage { frame, title, message, detail: None })
            .unwrap_or_else(|e| e.error_response())
    }
}

/// Whether `idp demo seed` registered the practice service's client for this issuer.
async fn registered(state: &AppState, sandbox: &Sandbox) -> Result<bool, SandboxError> {
    let client = with_conn(&state.store, |conn| clients::find(conn, DEMO_CLIENT_ID)).await?;
    Ok(client.is_some_and(|c| c.redirect_uris.0.contains(&sandbox.callback_url)))
}

/// `GET /sandbox`: what the practice service is, and the button that starts it.
pub async fn index(
    frame: Frame,
    state: web::Data<AppState>,
    sandbox: web::Data<Sandbox>,
) -> Result<HttpResponse, SandboxError> {
    if !registered(&state, &sandbox).await? {
        return Err(SandboxError::NotRegistered);
    }
    Ok(html(&IndexPage { frame: frame.in_lang(Lang::Fr), registered: true })?)
}

/// `GET /sandbox/commencer`: sends the browser to this provider's `/authorize`, as a service
/// would, keeping what the answer must match in a signed cookie.
pub async fn start(state: web::Data<AppState>, sandbox: web::Data<Sandbox>) -> Result<HttpResponse, SandboxError> {
    if !registered(&state, &sandbox).await? {
        return Err(SandboxError::NotRegistered);
    }
    let secrets = LoginSecrets::generate();
    let url = sandbox.relying_party.authorization_url(&secrets).await?;
    let cookie = pending::cookie(&sandbox.cookie_key, &secrets, chrono::Utc::now().timestamp(), sandbox.secure_cookie);
    Ok(HttpResponse::SeeOther().insert_header(("Location", url.as_str())).cookie(cookie).finish())
}

/// What the practice service received, as the page shows it.
struct Received {
    family_name: String,
    given_name: String,
    birthdate: String,
    gender: String,
    birthplace: String,
    birthcountry: String,
    email: String,
    helper: String,
    helper_email: String,
    organisation: String,
    demarche: String,
    mandate_end: String,
    id_token_claims: String,
}

#[derive(Template)]
#[template(path = "sandbox/result.html")]
struct ResultPage {
    frame: Frame,
    received: Received,
}

const NOT_SENT: &str = "non transmis";

fn text_at<'a>(claims: &'a Map<String, Value>, path: &[&str]) -> Option<&'a str> {
    let (last, parents) = path.split_last()?;
    let mut object = claims;
    for key in parents {
        object = object.get(*key)?.as_object()?;
    }
    object.get(*last)?.as_str()
}

impl Received {
    fn of(verified: &Verified) -> Received {
        let claim = |name: &str| verified.claim(name).and_then(Value::as_str).map(str::to_owned);
        let id_token = &verified.id_token_claims;
        let act = |path: &[&str]| {
            let mut full = vec!["act"];
            full.extend_from_slice(path);
            text_at(id_token, &full).unwrap_or(NOT_SENT).to_owned()
        };
        let born_abroad = claim("birthcountry").is_some_and(|c| c != "99100");
        let birthplace = match claim("birthplace").filter(|p| !p.is_empty()) {
            // What was sent is a code; its name is added where it is known here.
            Some(code) => match places::birthplace(&code, "99100", Lang::Fr) {
                name if name != code => format!("{name} (code INSEE {code})"),
                _ => format!("commune {code} (code INSEE)"),
            },
            None if born_abroad => "à l'étranger (pas de commune)".to_owned(),
            None => NOT_SENT.to_owned(),
        };
        let demarche = text_at(id_token, &["mandate", "demarche"])
            .map(|key| key.parse::<Demarche>().map_or_else(|_| key.to_owned(), |d| d.label_fr().to_owned()))
            .unwrap_or_else(|| NOT_SENT.to_owned());
        let mandate_end = id_token
            .get("mandate")
            .and_then(|m| m.get("expires_at"))
            .and_then(Value::as_i64)
            .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
            .map_or_else(|| NOT_SENT.to_owned(), |t| dates::long_date(Lang::Fr, t.date_naive()));
        let organisation = match (
            text_at(id_token, &["act", "organisation", "name"]),
            text_at(id_token, &["act", "organisation", "siret"]),
        ) {
            (Some(name), Some(siret)) => format!("{name} (SIRET {siret})"),
            (Some(name), None) => name.to_owned(),
            _ => NOT_SENT.to_owned(),
        };
        Received {
            family_name: claim("family_name").unwrap_or_else(|| NOT_SENT.into()),
            given_name: claim("given_name").unwrap_or_else(|| NOT_SENT.into()),
            birthdate: claim("birthdate")
                .map_or_else(|| NOT_SENT.into(), |b| dates::birthdate_with_unknowns(Lang::Fr, &b)),
            gender: match claim("gender").as_deref() {
                Some("female") => "femme".into(),
                Some("male") => "homme".into(),
                _ => NOT_SENT.into(),
            },
            birthplace,
            birthcountry: claim("birthcountry").map_or_else(
                || NOT_SENT.into(),
                |c| match places::country_name(&c, Lang::Fr) {
                    name if name != c => format!("{name} (code INSEE {c})"),
                    _ => format!("{c} (code INSEE)"),
                },
            ),
            email: claim("email").unwrap_or_else(|| NOT_SENT.into()),
            helper: format!("{} {}", act(&["given_name"]), act(&["family_name"])),
            helper_email: act(&["email"]),
            organisation,
            demarche,
            mandate_end,
            id_token_claims: serde_json::to_string_pretty(&Value::Object(id_token.clone())).unwrap_or_default(),
        }
    }
}

/// What an `error` from the provider means for the helper rehearsing.
fn explain_refusal(error: &str) -> &'static str {
    match error {
        "access_denied" => {
            "La démarche n'a pas abouti : l'aidant a annulé (bouton « Annuler et revenir au service »), ou le \
             mandat de cette personne ne couvre plus cette démarche (il a expiré ou a été révoqué)."
        }
        "login_required" | "interaction_required" | "consent_required" => {
            "L'aidant doit se connecter et choisir la personne et la démarche : recommencez la démarche d'essai."
        }
        "temporarily_unavailable" | "server_error" => {
            "Aidants IdP n'a pas pu traiter la demande pour le moment. Réessayez dans quelques instants."
        }
        _ => "Aidants IdP a refusé la demande du service d'essai.",
    }
}

/// `GET /sandbox/callback`: the provider's answer, checked and shown.
pub async fn callback(
    frame: Frame,
    req: HttpRequest,
    sandbox: web::Data<Sandbox>,
) -> Result<HttpResponse, SandboxError> {
    let now = chrono::Utc::now().timestamp();
    let secrets = req
        .cookie(pending::COOKIE)
        .and_then(|c| pending::read(&sandbox.cookie_key, c.value(), now))
        .ok_or(SandboxError::NoLogin)?;
    let params: Vec<(String, String)> =
        url::form_urlencoded::parse(req.query_string().as_bytes()).into_owned().collect();
    let param = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    if param("state") != Some(secrets.state.as_str()) {
        return Err(SandboxError::NoLogin);
    }
    let remove = pending::removal(sandbox.secure_cookie);
    sandbox.relying_party.check_response_issuer(param("iss")).await?;
    // The practice service speaks French, as the services it stands for.
    let frame = frame.in_lang(Lang::Fr);
    if let Some(error) = param("error") {
        let page = MessagePage {
            frame,
            title: "Le service d'essai n'a rien reçu",
            message: explain_refusal(error),
            detail: param("error_description"),
        };
        let mut response = html(&page)?;
        let _ = response.add_cookie(&remove);
        return Ok(response);
    }
    let code = param("code").ok_or(SandboxError::NoLogin)?;
    let verified = sandbox.relying_party.complete(code, &secrets.nonce, &secrets.code_verifier).await?;
    let mut response = html(&ResultPage { frame, received: Received::of(&verified) })?;
    let _ = response.add_cookie(&remove);
    Ok(response)
}
