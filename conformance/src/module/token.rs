//! The token endpoint: the call, a successful answer, an error answer.

use reqwest::blocking::RequestBuilder;
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE};
use serde_json::{json, Value};

use super::{random, snippet, Abort, AuthRequest, Step, Test};
use crate::checks;
use crate::report::Severity::{Failure as F, Warning as W};
use crate::target::{AuthMethod, ClientConfig};

/// A token endpoint answer.
pub struct TokenHttp {
    pub status: u16,
    pub content_type: Option<String>,
    pub cache_control: Option<String>,
    pub body: String,
    pub json: Option<Value>,
}

/// Tokens from a successful token response.
#[derive(Clone)]
pub struct Tokens {
    pub json: Value,
    pub access_token: String,
    pub id_token: Option<String>,
    pub refresh_token: Option<String>,
}

impl Test<'_> {
    /// Sends a token endpoint request with the client's authentication.
    pub fn token_call(&mut self, client: &ClientConfig, mut form: Vec<(String, String)>) -> Step<TokenHttp> {
        let endpoint = self.endpoint("token_endpoint");
        let token_endpoint = self.require("CallTokenEndpoint", endpoint)?;
        let mut request: RequestBuilder = self.http.post(token_endpoint.clone());
        match client.auth {
            AuthMethod::ClientSecretBasic => {
                // RFC 6749 §2.3.1: form-urlencode id and secret before Basic encoding.
                let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
                request = request
                    .basic_auth(enc(&client.client_id), Some(enc(client.client_secret.as_deref().unwrap_or(""))));
            }
            AuthMethod::ClientSecretPost => {
                form.push(("client_id".into(), client.client_id.clone()));
                form.push(("client_secret".into(), client.client_secret.clone().unwrap_or_default()));
            }
            AuthMethod::PrivateKeyJwt => {
                let signer = client.signer.as_ref().ok_or(Abort::Skip("no private key for private_key_jwt".into()))?;
                let now = checks::now();
                let assertion = signer.sign(
                    json!({}),
                    &json!({
                        "iss": client.client_id, "sub": client.client_id, "aud": token_endpoint.as_str(),
                        "jti": random(24), "iat": now, "exp": now + 60,
                    }),
                );
                form.push(("client_id".into(), client.client_id.clone()));
                form.push((
                    "client_assertion_type".into(),
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into(),
                ));
                form.push(("client_assertion".into(), assertion));
            }
            AuthMethod::None => form.push(("client_id".into(), client.client_id.clone())),
        }
        let response = request.form(&form).send().map_err(|e| format!("POST {token_endpoint}: {e}"));
        let response = self.require("CallTokenEndpoint", response)?;
        let header = |name| {
            response.headers().get(name).and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok()).map(str::to_owned)
        };
        let (status, content_type, cache_control) =
            (response.status().as_u16(), header(CONTENT_TYPE), header(CACHE_CONTROL));
        let body = response.text().unwrap_or_default();
        let json = serde_json::from_str(&body).ok();
        Ok(TokenHttp { status, content_type, cache_control, body, json })
    }

    /// Checks a successful token response.
    pub fn expect_tokens(&mut self, http: TokenHttp) -> Step<Tokens> {
        let error = http.json.as_ref().and_then(|j| j.get("error")).map(|e| e.to_string());
        self.require(
            "CheckTokenEndpointHttpStatus200",
            if http.status == 200 {
                Ok(())
            } else {
                Err(format!("HTTP {} {}", http.status, error.clone().unwrap_or_else(|| snippet(&http.body))))
            },
        )?;
        self.check("CheckTokenEndpointReturnedJsonContentType", F, checks::is_json(http.content_type.as_deref()));
        let json = self.require(
            "CheckIfTokenEndpointResponseError",
            match (http.json, error) {
                (_, Some(e)) => Err(format!("error {e}")),
                (Some(j), None) if j.is_object() => Ok(j),
                _ => Err(format!("not a JSON object: {}", snippet(&http.body))),
            },
        )?;
        let access_token = json.get("access_token").and_then(Value::as_str).map(str::to_owned);
        let access_token =
            self.require("CheckForAccessTokenValue", access_token.ok_or_else(|| "no access_token".to_owned()))?;
        self.check("CheckTokenTypeIsBearer", F, checks::check_token_type_bearer(json.get("token_type")));
        self.check("ValidateExpiresIn", F, checks::validate_expires_in(json.get("expires_in")));
        self.check("CheckTokenEndpointCacheHeaders", F, checks::check_cache_headers(http.cache_control.as_deref()));
        let refresh_token = json.get("refresh_token").and_then(Value::as_str).map(str::to_owned);
        self.info(
            "CheckForRefreshTokenValue",
            if refresh_token.is_some() { "refresh_token returned" } else { "no refresh_token" },
        );
        let id_token = json.get("id_token").and_then(Value::as_str).map(str::to_owned);
        Ok(Tokens { json, access_token, id_token, refresh_token })
    }

    /// `CreateTokenEndpointRequestForAuthorizationCodeGrant` + `CallTokenEndpoint`.
    pub fn redeem(&mut self, req: &AuthRequest, code: &str) -> Step<TokenHttp> {
        let mut form = vec![
            ("grant_type".to_owned(), "authorization_code".to_owned()),
            ("code".to_owned(), code.to_owned()),
            ("redirect_uri".to_owned(), req.redirect_uri().to_owned()),
        ];
        if let Some(v) = &req.code_verifier {
            form.push(("code_verifier".into(), v.clone()));
        }
        let client = req.client.clone();
        self.token_call(&client, form)
    }

    /// The token endpoint error checks (code reuse, refresh misuse).
    pub fn expect_token_error(&mut self, http: &TokenHttp, expected: &str) {
        if http.status == 200 {
            self.check("CheckTokenEndpointHttpStatus400", F, Err("HTTP 200: the request was accepted".into()));
            return;
        }
        self.check(
            "CheckTokenEndpointHttpStatus400",
            F,
            if http.status == 400 { Ok("400".into()) } else { Err(format!("HTTP {}", http.status)) },
        );
        self.check("CheckTokenEndpointReturnedJsonContentType", F, checks::is_json(http.content_type.as_deref()));
        let field = |n: &str| http.json.as_ref().and_then(|j| j.get(n)).and_then(Value::as_str).map(str::to_owned);
        let (error, description, uri) = (field("error"), field("error_description"), field("error_uri"));
        let name = format!("CheckErrorFromTokenEndpointResponseError{}", camel(expected));
        self.check(&name, F, checks::error_is_one_of(error.as_deref(), &[expected]));
        self.check("ValidateErrorFromTokenEndpointResponseError", F, checks::error_code_syntax(error.as_deref()));
        self.check(
            "ValidateErrorDescriptionFromTokenEndpointResponseError",
            F,
            checks::error_description_charset(description.as_deref()),
        );
        self.check(
            "CheckErrorDescriptionFromTokenEndpointResponseErrorContainsCRLFTAB",
            W,
            checks::error_description_no_crlftab(description.as_deref()),
        );
        self.check("ValidateErrorUriFromTokenEndpointResponseError", F, checks::error_uri_valid(uri.as_deref()));
    }
}

fn camel(snake: &str) -> String {
    snake
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect()
}
