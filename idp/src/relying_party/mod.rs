//! A relying party of one OpenID provider (OpenID Connect Core, code flow): the upstream
//! identity provider the usager logs in with, and the practice service logging in here.
//!
//! The provider's discovery document is read on first use and kept; its JWKS too, read again
//! once when a token names a key it does not hold (the provider rotated its keys), then the
//! token is refused. Every call has connect and total timeouts. What a failure was is an
//! [`RpError`]; none carries a claim's value.

mod error;
pub mod jwt;

use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use url::Url;

pub use error::{RpError, Step, TokenError};
use jwt::{Expected, ProviderKeys, SignedJwt};

use crate::configuration::ClientSecret;
use crate::encoding::{b64url, random_secret};

/// The largest answer read from a provider: discovery documents and JWKS are a few KiB.
const MAX_ANSWER_BYTES: usize = 256 * 1024;

/// Who we are at the provider, and what we ask of it.
#[derive(Debug, Clone)]
pub struct RelyingPartyConfig {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: ClientSecret,
    pub redirect_uri: String,
    /// Space-separated; `openid` among them.
    pub scopes: String,
    /// The levels asked for (`acr_values`) and required of the ID token's `acr`.
    pub acr_values: Option<String>,
    /// Of each call, whole.
    pub timeout: Duration,
    /// Of each connection (at most `timeout`).
    pub connect_timeout: Duration,
}

/// The one-time values a login sends and must find again: `state` (bound to the browser),
/// `nonce` (bound to the ID token) and the PKCE verifier (bound to the code). Random, 256 bits
/// each, URL-safe.
#[derive(Clone, PartialEq, Eq)]
pub struct LoginSecrets {
    pub state: String,
    pub nonce: String,
    pub code_verifier: String,
}

impl LoginSecrets {
    pub fn generate() -> LoginSecrets {
        LoginSecrets { state: random_secret(), nonce: random_secret(), code_verifier: random_secret() }
    }

    /// RFC 7636 §4.2: `BASE64URL(SHA256(code_verifier))`.
    pub fn code_challenge(&self) -> String {
        b64url(&Sha256::digest(self.code_verifier.as_bytes()))
    }
}

impl std::fmt::Debug for LoginSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LoginSecrets(…)")
    }
}

/// The provider metadata we use (OpenID Connect Discovery §3).
#[derive(Debug, Clone, Deserialize)]
pub struct ProviderMetadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub userinfo_endpoint: Option<String>,
    pub jwks_uri: String,
    /// RFC 9207: the provider says which issuer answers, in the authorization response.
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
}

/// What the provider said about the person, once every check passed.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The ID token as received (signed).
    pub id_token: String,
    pub id_token_claims: Map<String, Value>,
    /// The userinfo response, `None` when the provider has no userinfo endpoint.
    pub userinfo: Option<Map<String, Value>>,
}

impl Verified {
    /// The subject, the same in the ID token and userinfo.
    pub fn subject(&self) -> &str {
        self.id_token_claims.get("sub").and_then(Value::as_str).unwrap_or("")
    }

    /// A claim about the person: from userinfo, else from the ID token.
    pub fn claim(&self, name: &str) -> Option<&Value> {
        self.userinfo.as_ref().and_then(|u| u.get(name)).or_else(|| self.id_token_claims.get(name))
    }
}

/// The discovery document and keys, kept once read.
struct Provider {
    metadata: ProviderMetadata,
    keys: RwLock<Arc<ProviderKeys>>,
}

impl Provider {
    fn keys(&self) -> Arc<ProviderKeys> {
        self.keys.read().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

/// A relying party of one provider; cheap to share (the cache is behind an `Arc`).
#[derive(Clone)]
pub struct RelyingParty {
    config: Arc<RelyingPartyConfig>,
    http: reqwest::Client,
    provider: Arc<tokio::sync::Mutex<Option<Arc<Provider>>>>,
}

impl RelyingParty {
    pub fn new(config: RelyingPartyConfig) -> Result<RelyingParty, RpError> {
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            // A provider answers; it does not send us elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("aidants-idp/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| RpError::bad_answer(Step::Discovery, format!("HTTP client: {e}")))?;
        Ok(RelyingParty { config: Arc::new(config), http, provider: Default::default() })
    }

    pub fn config(&self) -> &RelyingPartyConfig {
        &self.config
    }

    /// The provider's metadata and keys: read on first use, then kept. A failed read is not
    /// kept, so the next login tries again.
    async fn provider(&self) -> Result<Arc<Provider>, RpError> {
        let mut cached = self.provider.lock().await;
        if let Some(provider) = cached.as_ref() {
            return Ok(provider.clone());
        }
        let url = format!("{}/.well-known/openid-configuration", self.config.issuer);
        let document = self.get_json(Step::Discovery, &url).await?;
        let metadata: ProviderMetadata = serde_json::from_value(document)
            .map_err(|e| RpError::bad_answer(Step::Discovery, format!("not provider metadata: {e}")))?;
        // Discovery §4.3: the document must be the configured issuer's, exactly.
        if metadata.issuer != self.config.issuer {
            return Err(RpError::bad_answer(Step::Discovery, "its issuer is not the configured one"));
        }
        for endpoint in [&metadata.authorization_endpoint, &metadata.token_endpoint, &metadata.jwks_uri]
            .into_iter()
            .chain(metadata.userinfo_endpoint.as_ref())
        {
            Url::parse(endpoint).map_err(|_| RpError::bad_answer(Step::Discovery, "an endpoint is not a URL"))?;
        }
        let keys = self.fetch_keys(&metadata.jwks_uri).await?;
        let provider = Arc::new(Provider { metadata, keys: RwLock::new(Arc::new(keys)) });
        *cached = Some(provider.clone());
        Ok(provider)
    }

    async fn fetch_keys(&self, jwks_uri: &str) -> Result<ProviderKeys, RpError> {
        let document = self.get_json(Step::Jwks, jwks_uri).await?;
        ProviderKeys::parse(&document).map_err(|e| RpError::bad_answer(Step::Jwks, e))
    }

    /// The provider's key for `jwt`; on an unknown `kid`, the JWKS is read again once.
    async fn key_for<T>(
        &self,
        provider: &Provider,
        jwt: &SignedJwt<'_>,
        verify: impl Fn(&jsonwebtoken::jwk::Jwk) -> Result<T, TokenError>,
    ) -> Result<Result<T, TokenError>, RpError> {
        let keys = provider.keys();
        match jwt.key(&keys) {
            Ok(key) => return Ok(verify(key)),
            Err(TokenError::UnknownKid(_)) => {}
            Err(other) => return Ok(Err(other)),
        }
        let fresh = Arc::new(self.fetch_keys(&provider.metadata.jwks_uri).await?);
        *provider.keys.write().unwrap_or_else(PoisonError::into_inner) = fresh.clone();
        Ok(jwt.key(&fresh).and_then(verify))
    }

    /// Where to send the browser: the authorization request of OIDC Core §3.1.2.1, with PKCE.
    pub async fn authorization_url(&self, secrets: &LoginSecrets) -> Result<Url, RpError> {
        let provider = self.provider().await?;
        let mut url = Url::parse(&provider.metadata.authorization_endpoint)
            .map_err(|_| RpError::bad_answer(Step::Discovery, "the authorization endpoint is not a URL"))?;
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("response_type", "code")
                .append_pair("client_id", &self.config.client_id)
                .append_pair("redirect_uri", &self.config.redirect_uri)
                .append_pair("scope", &self.config.scopes)
                .append_pair("state", &secrets.state)
                .append_pair("nonce", &secrets.nonce)
                .append_pair("code_challenge", &secrets.code_challenge())
                .append_pair("code_challenge_method", "S256");
            if let Some(acr) = &self.config.acr_values {
                query.append_pair("acr_values", acr);
            }
        }
        Ok(url)
    }

    /// RFC 9207 §2.4: the `iss` of an authorization response must be the provider's; a
    /// provider that announces the parameter must send it.
    pub async fn check_response_issuer(&self, iss: Option<&str>) -> Result<(), RpError> {
        let provider = self.provider().await?;
        match iss {
            Some(iss) if iss == self.config.issuer => Ok(()),
            None if !provider.metadata.authorization_response_iss_parameter_supported => Ok(()),
            _ => Err(RpError::ResponseIssuer),
        }
    }

    /// Exchanges `code` (OIDC Core §3.1.3), verifies the ID token against this login's nonce,
    /// and reads userinfo, whose subject must be the ID token's.
    pub async fn complete(&self, code: &str, nonce: &str, code_verifier: &str) -> Result<Verified, RpError> {
        let provider = self.provider().await?;
        let (id_token, access_token) = self.exchange(&provider, code, code_verifier).await?;
        let jwt = SignedJwt::parse(&id_token).map_err(RpError::IdToken)?;
        let expected = Expected {
            issuer: &self.config.issuer,
            client_id: &self.config.client_id,
            nonce,
            acr_values: self.config.acr_values.as_deref(),
        };
        let id_token_claims = self
            .key_for(&provider, &jwt, |key| jwt::verify_id_token(&jwt, key, &expected))
            .await?
            .map_err(RpError::IdToken)?;
        let userinfo = match &provider.metadata.userinfo_endpoint {
            Some(endpoint) => Some(self.userinfo(&provider, endpoint, &access_token).await?),
            None => None,
        };
        if let Some(userinfo) = &userinfo {
            if userinfo.get("sub") != id_token_claims.get("sub") {
                return Err(RpError::SubjectMismatch);
            }
        }
        Ok(Verified { id_token, id_token_claims, userinfo })
    }

    /// The token request with `client_secret_basic` (RFC 6749 §2.3.1: id and secret
    /// form-urlencoded, then Basic). Returns the ID token and the access token.
    async fn exchange(
        &self,
        provider: &Provider,
        code: &str,
        code_verifier: &str,
    ) -> Result<(String, String), RpError> {
        let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let response = self
            .http
            .post(&provider.metadata.token_endpoint)
            .basic_auth(encode(&self.config.client_id), Some(encode(self.config.client_secret.expose())))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", &self.config.redirect_uri),
                ("code_verifier", code_verifier),
            ])
            .send()
            .await
            .map_err(|e| RpError::from_http(Step::Token, &e))?;
        let status = response.status();
        let body: Value = read_json(Step::Token, response).await?;
        if !status.is_success() {
            // RFC 6749 §5.2; the code alone is logged (a description is free text).
            let error = body.get("error").and_then(Value::as_str).filter(|e| is_error_code(e));
            return Err(match error {
                Some(error) => RpError::CodeRefused(error.to_owned()),
                None => RpError::bad_answer(Step::Token, format!("status {status}")),
            });
        }
        let text = |name: &str| body.get(name).and_then(Value::as_str).filter(|v| !v.is_empty());
        if !text("token_type").is_some_and(|t| t.eq_ignore_ascii_case("bearer")) {
            return Err(RpError::bad_answer(Step::Token, "token_type is not Bearer"));
        }
        let access_token = text("access_token").ok_or_else(|| RpError::bad_answer(Step::Token, "no access_token"))?;
        let id_token = text("id_token").ok_or_else(|| RpError::bad_answer(Step::Token, "no id_token"))?;
        Ok((id_token.to_owned(), access_token.to_owned()))
    }

    /// OIDC Core §5.3: JSON, or a JWT signed with the provider's keys (`application/jwt`).
    async fn userinfo(
        &self,
        provider: &Provider,
        endpoint: &str,
        access_token: &str,
    ) -> Result<Map<String, Value>, RpError> {
        let response = self
            .http
            .get(endpoint)
            .bearer_auth(access_token)
            .header("Accept", "application/json, application/jwt")
            .send()
            .await
            .map_err(|e| RpError::from_http(Step::Userinfo, &e))?;
        let status = response.status();
        if !status.is_success() {
            return Err(RpError::bad_answer(Step::Userinfo, format!("status {status}")));
        }
        let signed = response
            .headers()
            .get("Content-Type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().to_ascii_lowercase().starts_with("application/jwt"));
        let body = read_body(Step::Userinfo, response).await?;
        if signed {
            let text = std::str::from_utf8(&body)
                .map_err(|_| RpError::bad_answer(Step::Userinfo, "the JWT is not text"))?
                .trim();
            let jwt = SignedJwt::parse(text).map_err(RpError::SignedUserinfo)?;
            let (issuer, client_id) = (&self.config.issuer, &self.config.client_id);
            return self
                .key_for(provider, &jwt, |key| jwt::verify_userinfo(&jwt, key, issuer, client_id))
                .await?
                .map_err(RpError::SignedUserinfo);
        }
        match serde_json::from_slice(&body) {
            Ok(Value::Object(claims)) => Ok(claims),
            _ => Err(RpError::bad_answer(Step::Userinfo, "not a JSON object")),
        }
    }

    async fn get_json(&self, step: Step, url: &str) -> Result<Value, RpError> {
        let response = self.http.get(url).send().await.map_err(|e| RpError::from_http(step, &e))?;
        let status = response.status();
        if !status.is_success() {
            return Err(RpError::bad_answer(step, format!("status {status}")));
        }
        read_json(step, response).await
    }
}

/// RFC 6749 §5.2: error codes are printable ASCII without `"` and `\`; anything else is not
/// logged as one.
fn is_error_code(code: &str) -> bool {
    !code.is_empty() && code.len() <= 64 && code.bytes().all(|b| (0x20..=0x7e).contains(&b) && b != b'"' && b != b'\\')
}

async fn read_body(step: Step, mut response: reqwest::Response) -> Result<Vec<u8>, RpError> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| RpError::from_http(step, &e))? {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(RpError::bad_answer(step, "answer too large"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

async fn read_json(step: Step, response: reqwest::Response) -> Result<Value, RpError> {
    let body = read_body(step, response).await?;
    serde_json::from_slice(&body).map_err(|_| RpError::bad_answer(step, "not JSON"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_secrets_are_fresh_url_safe_and_give_the_s256_challenge() {
        let a = LoginSecrets::generate();
        let b = LoginSecrets::generate();
        assert_ne!(a.state, b.state);
        assert_ne!(a.nonce, a.state);
        for value in [&a.state, &a.nonce, &a.code_verifier] {
            assert_eq!(value.len(), 43);
            assert!(value.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        }
        // RFC 7636 appendix B.
        let rfc = LoginSecrets {
            state: String::new(),
            nonce: String::new(),
            code_verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".into(),
        };
        assert_eq!(rfc.code_challenge(), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
        assert_eq!(format!("{a:?}"), "LoginSecrets(…)");
    }

    #[test]
    fn error_codes_are_logged_only_when_they_look_like_one() {
        assert!(is_error_code("invalid_grant"));
        assert!(!is_error_code(""));
        assert!(!is_error_code("a\"b"));
        assert!(!is_error_code("é"));
    }
}
