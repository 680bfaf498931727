//! The demo upstream provider: a real OpenID provider (Core, Discovery, PKCE, RFC 9207) under
//! `/demo-upstream`, served only in demo mode, that stands in for FranceConnect so that the
//! whole mandate flow runs offline. Its page lists fictitious citizens to pick.
//!
//! Its signing key is made once and kept in the store (`server_secrets`), so restarts and
//! replicas publish the same JWKS. Its codes and access tokens live in this process's memory:
//! it is a demonstration of one process, and nothing depends on them beyond one login.

mod authorize;
pub mod citizens;
mod error;
mod token;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use futures_util::future::{ready, Ready};
use mandate_store::{now, secret_hash, server_secrets};
use serde_json::json;

pub use authorize::{authorize_get, authorize_post, decision};
pub use error::DemoUpstreamError;
pub use token::{token, userinfo_get, userinfo_post};

use crate::blocking::with_conn;
use crate::configuration::{
    Settings, DEMO_UPSTREAM_CLIENT_ID, DEMO_UPSTREAM_PATH, UPSTREAM_CALLBACK_PATH, USAGER_SPACE_CALLBACK_PATH,
};
use crate::keys::{SigningAlg, StandaloneKey};
use crate::web::AppState;

/// Where the key is kept in the store.
const KEY_SECRET_NAME: &str = "demo-upstream-signing-key";
/// A redirect URI on this machine for relying-party libraries tried by hand, as the demo
/// client of `idp demo seed` has.
pub const LOCAL_TRY_OUT_REDIRECT_URI: &str = "http://127.0.0.1:8765/callback";
/// OIDC Core §3.1.2.1 recommends short-lived codes; ours work once, within a minute.
const CODE_LIFETIME: Duration = Duration::from_secs(60);
const ACCESS_TOKEN_LIFETIME: Duration = Duration::from_secs(300);
/// The eIDAS level the demo "authenticates" at, as FranceConnect's basic level.
pub const ACR: &str = "eidas1";

/// What a code stands for, until it is exchanged.
#[derive(Clone)]
struct IssuedCode {
    redirect_uri: String,
    citizen: &'static citizens::Citizen,
    scopes: Vec<String>,
    nonce: Option<String>,
    code_challenge: Option<String>,
    auth_time: i64,
    expires: Instant,
    /// Set once exchanged; a second exchange is refused and revokes this token (RFC 6749 §4.1.2).
    exchanged_for: Option<String>,
}

#[derive(Clone)]
struct IssuedToken {
    citizen: &'static citizens::Citizen,
    scopes: Vec<String>,
    expires: Instant,
}

/// The demo provider's state, shared by every worker of the process.
pub struct DemoUpstream {
    enabled: bool,
    issuer: String,
    redirect_uris: Vec<String>,
    key: tokio::sync::OnceCell<Arc<StandaloneKey>>,
    codes: Mutex<HashMap<String, IssuedCode>>,
    tokens: Mutex<HashMap<String, IssuedToken>>,
}

impl DemoUpstream {
    pub fn new(settings: &Settings) -> DemoUpstream {
        // The helper's wizard and the usager's own space each have their redirect URI.
        let mut redirect_uris = vec![
            settings.url(UPSTREAM_CALLBACK_PATH),
            settings.url(USAGER_SPACE_CALLBACK_PATH),
            LOCAL_TRY_OUT_REDIRECT_URI.to_owned(),
        ];
        for configured in [&settings.upstream.redirect_uri, &settings.upstream.usager_space_redirect_uri] {
            if !configured.is_empty() {
                redirect_uris.push(configured.clone());
            }
        }
        DemoUpstream {
            enabled: settings.demo.enabled,
            issuer: settings.url(DEMO_UPSTREAM_PATH),
            redirect_uris,
            key: tokio::sync::OnceCell::new(),
            codes: Mutex::default(),
            tokens: Mutex::default(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.issuer, path)
    }

    fn knows_client(&self, client_id: &str) -> bool {
        client_id == DEMO_UPSTREAM_CLIENT_ID
    }

    /// RFC 6749 §3.1.2.3: the redirect URI is compared exactly with the registered ones.
    fn registered_redirect(&self, redirect_uri: &str) -> bool {
        self.redirect_uris.iter().any(|r| r == redirect_uri)
    }

    /// The signing key, read from the store (made there on first use).
    async fn key(&self, state: &AppState) -> Result<Arc<StandaloneKey>, DemoUpstreamError> {
        self.key
            .get_or_try_init(|| async {
                let keys = state.sealing.clone();
                let pem = with_conn(&state.store, move |conn| -> Result<String, DemoUpstreamError> {
                    if let Some(pem) = server_secrets::find(conn, &*keys, KEY_SECRET_NAME)? {
                        return Ok(pem);
                    }
                    // RS256: the algorithm every relying party accepts by default.
                    let made = StandaloneKey::generate_pem(SigningAlg::Rs256)
                        .map_err(|e| DemoUpstreamError::Internal(e.to_string()))?;
                    Ok(server_secrets::get_or_create(conn, &*keys, KEY_SECRET_NAME, || made.to_string(), now())?)
                })
                .await?;
                let key = StandaloneKey::from_pem(SigningAlg::Rs256, &pem)
                    .map_err(|e| DemoUpstreamError::Internal(format!("the stored demo upstream key: {e}")))?;
                Ok(Arc::new(key))
            })
            .await
            .cloned()
    }

    /// Keeps a new code (stored hashed, like every secret) and forgets the expired ones.
    fn keep_code(&self, code: &str, issued: IssuedCode) {
        let mut codes = self.codes.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        codes.retain(|_, c| c.expires > now);
        codes.insert(secret_hash(code), issued);
    }

    fn keep_token(&self, token: &str, issued: IssuedToken) {
        let mut tokens = self.tokens.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        tokens.retain(|_, t| t.expires > now);
        tokens.insert(secret_hash(token), issued);
    }

    fn live_token(&self, token: &str) -> Option<IssuedToken> {
        let tokens = self.tokens.lock().unwrap_or_else(PoisonError::into_inner);
        tokens.get(&secret_hash(token)).filter(|t| t.expires > Instant::now()).cloned()
    }

    fn revoke_token(&self, token_hash: &str) {
        self.tokens.lock().unwrap_or_else(PoisonError::into_inner).remove(token_hash);
    }
}

/// The demo provider, for a handler that runs only in demo mode: anywhere else its paths do
/// not exist (404).
pub struct DemoProvider(web::Data<DemoUpstream>);

impl std::ops::Deref for DemoProvider {
    type Target = DemoUpstream;

    fn deref(&self) -> &DemoUpstream {
        &self.0
    }
}

impl FromRequest for DemoProvider {
    type Error = DemoUpstreamError;
    type Future = Ready<Result<DemoProvider, DemoUpstreamError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let provider = req.app_data::<web::Data<DemoUpstream>>().filter(|d| d.enabled).cloned();
        ready(provider.map(DemoProvider).ok_or(DemoUpstreamError::NotFound))
    }
}

/// OpenID Connect Discovery §3.
pub async fn discovery(demo: DemoProvider) -> HttpResponse {
    let scopes: Vec<&str> = ["openid", "profile", "email", "birth", "identite_pivot"]
        .into_iter()
        .chain(token::IDENTITY_CLAIMS)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut claims = vec!["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "at_hash"];
    claims.extend(token::IDENTITY_CLAIMS);
    HttpResponse::Ok().insert_header(("Cache-Control", "public, max-age=300")).json(json!({
        "issuer": demo.issuer,
        "authorization_endpoint": demo.url("/authorize"),
        "token_endpoint": demo.url("/token"),
        "userinfo_endpoint": demo.url("/userinfo"),
        "jwks_uri": demo.url("/jwks"),
        "scopes_supported": scopes,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": claims,
        "acr_values_supported": [ACR],
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "authorization_response_iss_parameter_supported": true,
        "ui_locales_supported": ["fr"],
    }))
}

/// RFC 7517 §5.
pub async fn jwks(demo: DemoProvider, state: web::Data<AppState>) -> Result<HttpResponse, DemoUpstreamError> {
    let key = demo.key(&state).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/jwk-set+json")
        .insert_header(("Cache-Control", "public, max-age=300"))
        .json(key.jwks()))
}
