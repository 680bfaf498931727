//! OpenID Provider metadata (OIDC Discovery §3) and the public keys (RFC 7517).

use actix_web::{web, HttpResponse};
use mandate_store::Demarche;
use serde_json::json;

use crate::protocol::request::{ACR_VALUES_SUPPORTED, SCOPES_SUPPORTED};
use crate::web::AppState;

pub async fn configuration(state: web::Data<AppState>) -> HttpResponse {
    let s = &state.settings;
    let algs: Vec<&str> = state.keys.algorithms().iter().map(|a| a.as_str()).collect();
    let mut scopes: Vec<String> = SCOPES_SUPPORTED.iter().map(|s| s.to_string()).collect();
    scopes.extend(Demarche::ALL.iter().map(|d| format!("demarche:{}", d.key())));
    let body = json!({
        "issuer": s.issuer,
        "authorization_endpoint": s.url("/authorize"),
        "token_endpoint": s.url("/token"),
        "userinfo_endpoint": s.url("/userinfo"),
        "jwks_uri": s.url("/jwks"),
        "end_session_endpoint": s.url("/logout"),
        "revocation_endpoint": s.url("/revoke"),
        "introspection_endpoint": s.url("/introspect"),
        "scopes_supported": scopes,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "form_post"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["pairwise", "public"],
        "id_token_signing_alg_values_supported": algs,
        "userinfo_signing_alg_values_supported": algs,
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256", "ES256", "PS256"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": [
            "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "at_hash", "sid",
            "name", "given_name", "family_name", "birthdate", "gender", "birthplace", "birthcountry",
            "preferred_username", "email", "email_verified", "phone_number", "phone_number_verified",
            "address", "act", "mandate", "rep_scope"
        ],
        "claims_parameter_supported": true,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "require_request_uri_registration": false,
        "authorization_response_iss_parameter_supported": true,
        "acr_values_supported": ACR_VALUES_SUPPORTED,
        "ui_locales_supported": ["fr", "en"],
        "claims_locales_supported": ["fr"],
        "display_values_supported": ["page", "popup"],
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
        "frontchannel_logout_supported": false,
    });
    HttpResponse::Ok().insert_header(("Cache-Control", "public, max-age=300")).json(body)
}

pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/jwk-set+json")
        .insert_header(("Cache-Control", "public, max-age=300"))
        .json(state.keys.jwks())
}
