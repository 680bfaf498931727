//! Registering relying parties: URIs checked, secret generated, printed once, stored hashed.

use mandate_store::clients::{self, Client, NewClient};
use mandate_store::{now, secret_hash, ClientAuthMethod, DbConnection, Demarche, SigningAlg, StoreError, SubjectType};
use serde_json::{json, Value};
use url::Url;

use crate::encoding::random_secret;

pub const AUTH_METHODS: [&str; 4] = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"];

#[derive(Debug, Clone, Default)]
pub struct ClientRegistration {
    pub client_id: Option<String>,
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub auth_method: String,
    pub jwks: Option<String>,
    pub jwks_uri: Option<String>,
    pub id_token_alg: String,
    pub userinfo_alg: Option<String>,
    pub subject_type: String,
    pub sector_identifier: Option<String>,
    pub demarches: Vec<Demarche>,
    pub backchannel_logout_uri: Option<String>,
    /// A fixed secret (demo data only); otherwise one is generated.
    pub secret: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RegistrationError {
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn invalid(field: &'static str, reason: impl Into<String>) -> RegistrationError {
    RegistrationError::Invalid { field, reason: reason.into() }
}

/// An absolute URI without fragment; https, or http on a loopback host (RFC 8252 §7.3).
fn check_uri(field: &'static str, raw: &str) -> Result<Url, RegistrationError> {
    let url = Url::parse(raw).map_err(|e| invalid(field, format!("{raw:?} is not an absolute URI: {e}")))?;
    if url.fragment().is_some() {
        return Err(invalid(field, format!("{raw:?} must not have a fragment")));
    }
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
        return Err(invalid(field, format!("{raw:?} must be https (http only on a loopback host)")));
    }
    Ok(url)
}

/// Registers the client; returns it and its secret (to print once).
pub fn register(conn: &mut DbConnection, r: ClientRegistration) -> Result<(Client, Option<String>), RegistrationError> {
    let auth_method: ClientAuthMethod =
        r.auth_method.parse().map_err(|_| invalid("auth_method", format!("one of {}", AUTH_METHODS.join(", "))))?;
    if r.redirect_uris.is_empty() {
        return Err(invalid("redirect_uri", "at least one is required"));
    }
    let mut sector = None;
    for uri in &r.redirect_uris {
        let url = check_uri("redirect_uri", uri)?;
        sector.get_or_insert_with(|| url.host_str().unwrap_or("").to_owned());
    }
    for uri in r.post_logout_redirect_uris.iter().chain(r.backchannel_logout_uri.iter()) {
        check_uri("post_logout_redirect_uri/backchannel_logout_uri", uri)?;
    }
    let signing_alg = |alg: &str| alg.parse::<SigningAlg>().map_err(|_| invalid("signing algorithm", "RS256 or ES256"));
    let id_token_alg = signing_alg(&r.id_token_alg)?;
    let userinfo_alg = r.userinfo_alg.as_deref().map(signing_alg).transpose()?;
    let subject_type: SubjectType =
        r.subject_type.parse().map_err(|_| invalid("subject_type", "pairwise or public"))?;
    if auth_method == ClientAuthMethod::PrivateKeyJwt {
        match (&r.jwks, &r.jwks_uri) {
            (Some(jwks), None) => {
                let parsed: Value = serde_json::from_str(jwks).map_err(|e| invalid("jwks", e.to_string()))?;
                if !parsed.get("keys").is_some_and(Value::is_array) {
                    return Err(invalid("jwks", "expected {\"keys\": [...]}"));
                }
                if jwks.contains("\"d\"") {
                    return Err(invalid("jwks", "must hold public keys only"));
                }
            }
            (None, Some(uri)) => {
                check_uri("jwks_uri", uri)?;
            }
            _ => return Err(invalid("jwks", "private_key_jwt needs exactly one of a JWKS or a JWKS URI")),
        }
    }
    let secret = match auth_method {
        ClientAuthMethod::ClientSecretBasic | ClientAuthMethod::ClientSecretPost => {
            let secret = r.secret.clone().unwrap_or_else(random_secret);
            // FranceConnect requires client secrets of at least 32 characters.
            if secret.len() < 32 {
                return Err(invalid("secret", "at least 32 characters"));
            }
            Some(secret)
        }
        _ => None,
    };
    let demarches = if r.demarches.is_empty() { Demarche::ALL.to_vec() } else { r.demarches.clone() };
    let client = clients::create(
        conn,
        NewClient {
            id: r.client_id.clone().unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
            name: r.name.clone(),
            secret_hash: secret.as_deref().map(secret_hash),
            redirect_uris: r.redirect_uris.clone(),
            post_logout_redirect_uris: r.post_logout_redirect_uris.clone(),
            auth_method,
            jwks: r.jwks.clone(),
            jwks_uri: r.jwks_uri.clone(),
            id_token_signed_response_alg: id_token_alg,
            userinfo_signed_response_alg: userinfo_alg,
            subject_type,
            sector_identifier: r.sector_identifier.clone().or(sector).unwrap_or_default(),
            demarches,
            backchannel_logout_uri: r.backchannel_logout_uri.clone(),
        },
        now(),
    )?;
    Ok((client, secret))
}

/// The client as printed by the command line (never with its secret hash).
pub fn describe(client: &Client, secret: Option<&str>) -> Value {
    let mut out = json!({
        "client_id": client.id,
        "name": client.name,
        "token_endpoint_auth_method": client.auth_method,
        "redirect_uris": client.redirect_uris(),
        "post_logout_redirect_uris": client.post_logout_redirect_uris(),
        "id_token_signed_response_alg": client.id_token_signed_response_alg,
        "userinfo_signed_response_alg": client.userinfo_signed_response_alg,
        "subject_type": client.subject_type,
        "demarches": client.demarches().iter().map(|d| d.key()).collect::<Vec<_>>(),
        "backchannel_logout_uri": client.backchannel_logout_uri,
    });
    if let Some(secret) = secret {
        out["client_secret"] = json!(secret);
    }
    out
}
