//! A module run: the conditions it records, and the steps every code-flow module shares
//! (configuration, authorization request, callback checks, token request, ID token and
//! userinfo checks, error checks), each recorded under the suite's condition names.

use std::time::Duration;

use rand::distributions::Alphanumeric;
use rand::Rng;
use reqwest::blocking::{Client, RequestBuilder};
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE};
use serde_json::{json, Value};
use url::Url;

use crate::browser::{Browser, Callback, Landing, Start, Visit};
use crate::checks::{self, Check};
use crate::jose::{self, Jwt};
use crate::report::{Condition, ModuleResult, Severity};
use crate::target::{AuthMethod, ClientConfig, Target};

use Severity::{Failure as F, Info as I, Warning as W};

/// Why a module stopped early.
pub enum Abort {
    /// A condition that stops the module did not hold (already recorded).
    Stop,
    /// The module does not apply (the suite skips it).
    Skip(String),
}

pub type Step<T = ()> = Result<T, Abort>;

/// Response mode variant of a plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResponseMode {
    Default,
    FormPost,
}

/// A module: its exact suite name and what it does.
pub struct Module {
    pub name: &'static str,
    pub run: fn(&mut Test<'_>) -> Step,
    /// Modules that check discovery themselves skip the common configuration steps.
    pub configure: bool,
}

/// Runs one module and folds its conditions into a result.
pub fn run_module(
    plan: &str,
    module: &Module,
    target: &Target,
    browser: &mut Browser,
    mode: ResponseMode,
) -> ModuleResult {
    let mut test = Test::new(target, browser, mode);
    let outcome =
        if module.configure { test.configure().and_then(|_| (module.run)(&mut test)) } else { (module.run)(&mut test) };
    let skipped = match outcome {
        Err(Abort::Skip(reason)) => Some(reason),
        _ => None,
    };
    ModuleResult::from_conditions(plan, module.name, test.conditions, skipped)
}

/// An authorization request being built.
#[derive(Clone)]
pub struct AuthRequest {
    pub client: ClientConfig,
    pub params: Vec<(String, String)>,
    pub post: bool,
    pub code_verifier: Option<String>,
}

impl AuthRequest {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub fn set(&mut self, name: &str, value: impl Into<String>) -> &mut Self {
        let value = value.into();
        match self.params.iter_mut().find(|(k, _)| k == name) {
            Some(p) => p.1 = value,
            None => self.params.push((name.to_owned(), value)),
        }
        self
    }

    pub fn remove(&mut self, name: &str) -> &mut Self {
        self.params.retain(|(k, _)| k != name);
        self
    }

    pub fn state(&self) -> Option<&str> {
        self.get("state")
    }

    pub fn nonce(&self) -> Option<&str> {
        self.get("nonce")
    }

    pub fn redirect_uri(&self) -> &str {
        self.get("redirect_uri").unwrap_or(&self.client.redirect_uri)
    }

    pub fn scopes(&self) -> Vec<&str> {
        self.get("scope").map(|s| s.split(' ').collect()).unwrap_or_default()
    }
}

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

/// Everything a completed code flow produced.
pub struct Flow {
    pub visit: Visit,
    pub tokens: Tokens,
    pub id_token: Jwt,
    pub userinfo: Option<Value>,
}

/// How userinfo is called.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum UserinfoCall {
    Get,
    PostHeader,
    PostBody,
}

pub fn random(len: usize) -> String {
    rand::thread_rng().sample_iter(&Alphanumeric).take(len).map(char::from).collect()
}

pub struct Test<'a> {
    pub target: &'a Target,
    pub browser: &'a mut Browser,
    pub mode: ResponseMode,
    pub conditions: Vec<Condition>,
    pub http: Client,
    pub disc: Value,
    pub jwks: Value,
}

impl<'a> Test<'a> {
    pub fn new(target: &'a Target, browser: &'a mut Browser, mode: ResponseMode) -> Test<'a> {
        let http = crate::tls_front::client_builder(target.tls_root.as_ref())
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .expect("HTTP client");
        Test { target, browser, mode, conditions: Vec::new(), http, disc: Value::Null, jwks: Value::Null }
    }

    // ------------------------------------------------------------ recording

    /// Records a condition; returns whether it held.
    pub fn check(&mut self, name: &str, severity: Severity, result: Check) -> bool {
        let (passed, message) = match result {
            Ok(m) => (true, m),
            Err(m) => (false, m),
        };
        self.conditions.push(Condition { name: name.to_owned(), severity, passed, message });
        passed
    }

    /// Records a failure-level condition and stops the module when it does not hold.
    pub fn require<T>(&mut self, name: &str, result: Result<T, String>) -> Step<T> {
        match result {
            Ok(v) => {
                self.check(name, F, Ok("ok".into()));
                Ok(v)
            }
            Err(m) => {
                self.check(name, F, Err(m));
                Err(Abort::Stop)
            }
        }
    }

    pub fn info(&mut self, name: &str, message: impl Into<String>) {
        self.check(name, I, Ok(message.into()));
    }

    pub fn issuer(&self) -> &str {
        self.disc.get("issuer").and_then(Value::as_str).unwrap_or(self.target.issuer.as_str())
    }

    pub fn endpoint(&self, member: &str) -> Result<Url, String> {
        checks::endpoint(&self.disc, member)
    }

    // ------------------------------------------------------------ configuration

    pub fn fetch_json(&mut self, url: &Url) -> Result<(u16, Option<String>, Value), String> {
        let response = self.http.get(url.clone()).send().map_err(|e| format!("GET {url}: {e}"))?;
        let status = response.status().as_u16();
        let content_type = response.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let body = response.text().map_err(|e| e.to_string())?;
        let json =
            serde_json::from_str(&body).map_err(|e| format!("{url} did not return JSON ({e}): {}", snippet(&body)))?;
        Ok((status, content_type, json))
    }

    /// `GetDynamicServerConfiguration` and its HTTP checks.
    pub fn fetch_discovery(&mut self) -> Step {
        let url = self.target.discovery_url();
        let (status, content_type, disc) = match self.fetch_json(&url) {
            Ok(r) => r,
            Err(e) => return self.require("GetDynamicServerConfiguration", Err(e)),
        };
        self.require(
            "GetDynamicServerConfiguration",
            if disc.is_object() { Ok(()) } else { Err("not a JSON object".into()) },
        )?;
        self.check(
            "EnsureDiscoveryEndpointResponseStatusCodeIs200",
            F,
            if status == 200 { Ok("200".into()) } else { Err(format!("HTTP {status}")) },
        );
        self.check("CheckDiscoveryEndpointReturnedJsonContentType", F, checks::is_json(content_type.as_deref()));
        self.disc = disc;
        Ok(())
    }

    /// `FetchServerKeys` and the JWKS checks.
    pub fn fetch_keys(&mut self) -> Step {
        let jwks_uri = match checks::endpoint(&self.disc, "jwks_uri") {
            Ok(u) => u,
            Err(e) => return self.require("FetchServerKeys", Err(e)),
        };
        let fetched = self.fetch_json(&jwks_uri).and_then(|(status, _, jwks)| {
            if status == 200 {
                Ok(jwks)
            } else {
                Err(format!("{jwks_uri} answered HTTP {status}"))
            }
        });
        self.jwks = self.require("FetchServerKeys", fetched)?;
        let jwks = self.jwks.clone();
        self.require("ValidateServerJWKs", checks::validate_server_jwks(&jwks))?;
        self.check("CheckForKeyIdInServerJWKs", F, checks::check_kid_in_server_jwks(&jwks));
        self.check("CheckDistinctKeyIdValueInServerJWKs", F, checks::check_distinct_kids(&jwks));
        self.check("EnsureServerJwksDoesNotContainPrivateOrSymmetricKeys", F, checks::ensure_no_private_keys(&jwks));
        Ok(())
    }

    /// The configuration phase of every code-flow module.
    pub fn configure(&mut self) -> Step {
        self.fetch_discovery()?;
        let disc = self.disc.clone();
        self.require("CheckServerConfiguration", checks::check_server_configuration(&disc))?;
        self.fetch_keys()?;
        Ok(())
    }

    /// `EnsureServerConfigurationSupports<Method>` for a client.
    pub fn ensure_auth_supported(&mut self, client: &ClientConfig) -> Step {
        let name = match client.auth {
            AuthMethod::ClientSecretBasic => "EnsureServerConfigurationSupportsClientSecretBasic",
            AuthMethod::ClientSecretPost => "EnsureServerConfigurationSupportsClientSecretPost",
            AuthMethod::PrivateKeyJwt => "EnsureServerConfigurationSupportsPrivateKeyJwt",
            AuthMethod::None => "EnsureServerConfigurationSupportsClientAuthNone",
        };
        let disc = self.disc.clone();
        self.require(name, checks::ensure_auth_method_supported(&disc, client.auth.as_str()).map(|_| ()))
    }

    // ------------------------------------------------------------ authorization request

    /// `CreateAuthorizationEndpointRequestFromClientInformation` with a random state and nonce.
    pub fn request(&self, client: &ClientConfig) -> AuthRequest {
        let mut params = vec![
            ("client_id".to_owned(), client.client_id.clone()),
            ("redirect_uri".to_owned(), client.redirect_uri.clone()),
            ("scope".to_owned(), "openid".to_owned()),
            ("state".to_owned(), random(20)),
            ("nonce".to_owned(), random(20)),
            ("response_type".to_owned(), "code".to_owned()),
        ];
        if self.mode == ResponseMode::FormPost {
            params.push(("response_mode".to_owned(), "form_post".to_owned()));
        }
        AuthRequest { client: client.clone(), params, post: false, code_verifier: None }
    }

    /// The Basic plan's client.
    pub fn basic_request(&self) -> AuthRequest {
        self.request(&self.target.client)
    }

    pub fn authorization_url(&mut self, req: &AuthRequest) -> Step<Url> {
        let endpoint = self.endpoint("authorization_endpoint");
        let mut url = self.require("BuildPlainRedirectToAuthorizationEndpoint", endpoint)?;
        url.query_pairs_mut().extend_pairs(req.params.iter());
        Ok(url)
    }

    /// Sends the browser to the authorization endpoint.
    pub fn send(&mut self, req: &AuthRequest, submit_forms: bool) -> Step<Visit> {
        let start = if req.post {
            let endpoint = self.endpoint("authorization_endpoint");
            Start::Post(self.require("BuildRequestObjectPostToAuthorizationEndpoint", endpoint)?, req.params.clone())
        } else {
            Start::Get(self.authorization_url(req)?)
        };
        let visit = self.browser.visit(start, submit_forms);
        self.require("BrowserFollowsAuthorizationRequest", visit)
    }

    /// The checks on how the callback arrived, for success and error responses alike.
    pub fn callback<'v>(&mut self, req: &AuthRequest, visit: &'v Visit) -> Step<&'v Callback> {
        let callback = match &visit.landing {
            Landing::Callback(c) => c,
            Landing::Page { status, url, body, .. } => {
                let message = format!(
                    "the provider did not send the browser back to the client: status {status} at {url}: {}",
                    snippet(&page_text(body))
                );
                return self.require("CheckMatchingCallbackParameters", Err(message));
            }
        };
        if self.mode == ResponseMode::FormPost {
            self.check(
                "CheckCallbackHttpMethodIsPost",
                F,
                if callback.method == "POST" {
                    Ok("the response was posted".into())
                } else {
                    Err(format!("the response came by {} {} instead of a form post", callback.status, callback.method))
                },
            );
            self.check(
                "CheckCallbackContentTypeIsFormUrlEncoded",
                F,
                match callback.content_type.as_deref() {
                    None => Ok("form-urlencoded (no enctype)".into()),
                    Some(c) if c.eq_ignore_ascii_case("application/x-www-form-urlencoded") => Ok(c.to_owned()),
                    Some(c) => Err(format!("the form's enctype is {c}")),
                },
            );
            let in_query = |name: &str| callback.query.iter().any(|(k, _)| k == name);
            self.check(
                "RejectAuthCodeInUrlQuery",
                F,
                if in_query("code") { Err("code in the URL query".into()) } else { Ok("no code in the query".into()) },
            );
            self.check(
                "RejectErrorInUrlQuery",
                F,
                if in_query("error") {
                    Err("error in the URL query".into())
                } else {
                    Ok("no error in the query".into())
                },
            );
        }
        self.require(
            "CheckMatchingCallbackParameters",
            checks::check_matching_callback(&callback.base(), req.redirect_uri()),
        )?;
        let issuer = self.issuer().to_owned();
        self.check(
            "ValidateIssIfPresentInAuthorizationResponse",
            F,
            checks::validate_iss_if_present(callback.param("iss"), &issuer),
        );
        Ok(callback)
    }

    /// A successful authorization response: returns the code.
    pub fn expect_code(&mut self, req: &AuthRequest, visit: &Visit) -> Step<String> {
        let callback = self.callback(req, visit)?;
        let error =
            callback.param("error").map(|e| format!("{e}: {}", callback.param("error_description").unwrap_or("")));
        self.require(
            "CheckIfAuthorizationEndpointError",
            error.map_or(Ok(()), |e| Err(format!("the provider returned an error: {e}"))),
        )?;
        self.require("CheckMatchingStateParameter", checks::check_state(callback.param("state"), req.state()))?;
        let code = callback.param("code").map(str::to_owned);
        self.require("ExtractAuthorizationCodeFromAuthorizationResponse", code.ok_or_else(|| "no code".to_owned()))
    }

    /// `performGenericAuthorizationEndpointErrorResponseValidation`; returns the error code.
    pub fn expect_error(&mut self, req: &AuthRequest, visit: &Visit) -> Step<String> {
        let callback = self.callback(req, visit)?;
        let issuer = self.issuer().to_owned();
        let params = callback.params().to_vec();
        let param = |n: &str| params.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
        self.check("CheckStateInAuthorizationResponse", F, checks::check_state(param("state"), req.state()));
        self.check(
            "ValidateIssIfPresentInAuthorizationResponse",
            F,
            checks::validate_iss_if_present(param("iss"), &issuer),
        );
        let error = param("error").map(str::to_owned);
        self.require(
            "EnsureErrorFromAuthorizationEndpointResponse",
            error.clone().ok_or_else(|| {
                if param("code").is_some() {
                    "the provider returned a code where an error was expected".to_owned()
                } else {
                    "no error".to_owned()
                }
            }),
        )?;
        self.check(
            "RejectAuthCodeInAuthorizationEndpointResponse",
            F,
            if param("code").is_some() {
                Err("a code is present in an error response".into())
            } else {
                Ok("no code".into())
            },
        );
        self.check(
            "CheckForUnexpectedParametersInErrorResponseFromAuthorizationEndpoint",
            W,
            checks::only_error_parameters(&params),
        );
        self.check(
            "CheckErrorDescriptionFromAuthorizationEndpointResponseErrorContainsCRLFTAB",
            W,
            checks::error_description_no_crlftab(param("error_description")),
        );
        self.check(
            "ValidateErrorDescriptionFromAuthorizationEndpointResponseError",
            F,
            checks::error_description_charset(param("error_description")),
        );
        self.check(
            "ValidateErrorUriFromAuthorizationEndpointResponseError",
            F,
            checks::error_uri_valid(param("error_uri")),
        );
        Ok(error.unwrap_or_default())
    }

    /// The suite's screenshot placeholders, judged from the response: the provider must show an
    /// error page and must not send the browser to the client.
    pub fn expect_error_page(&mut self, condition: &str, visit: &Visit, not_to: &str) -> Step {
        match &visit.landing {
            Landing::Callback(c) => {
                let message = format!("the provider redirected to {} (must not redirect to {not_to})", c.url);
                self.require(condition, Err(message))
            }
            Landing::Page { status, content_type, .. } => {
                let result = if (400..500).contains(status) {
                    Ok(format!("error page with status {status}"))
                } else {
                    Err(format!("the provider answered status {status}; an error page (4xx) is expected"))
                };
                self.check(condition, F, result);
                let html = content_type.as_deref().unwrap_or("").contains("html");
                self.check(
                    "CheckErrorPageIsHtml",
                    W,
                    if html { Ok("HTML error page".into()) } else { Err(format!("Content-Type {content_type:?}")) },
                );
                Ok(())
            }
        }
    }

    // ------------------------------------------------------------ token endpoint

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

    // ------------------------------------------------------------ ID token

    /// `ExtractIdTokenFromTokenResponse` and `PerformStandardIdTokenChecks`.
    pub fn check_id_token(&mut self, tokens: &Tokens, req: &AuthRequest) -> Step<Jwt> {
        let raw = self.require(
            "ExtractIdTokenFromTokenResponse",
            tokens.id_token.clone().ok_or_else(|| "no id_token in the token response (OIDC Core §3.1.3.3)".to_owned()),
        )?;
        let jwt = self.require("ExtractIdTokenFromTokenResponse", Jwt::parse(&raw))?;
        let issuer = self.issuer().to_owned();
        let want =
            checks::IdTokenExpectations { issuer: &issuer, client_id: &req.client.client_id, nonce: req.nonce() };
        self.check("ValidateIdToken", F, checks::validate_id_token(&jwt, &want));
        self.check("ValidateIdTokenStandardClaims", F, checks::validate_standard_claims(&jwt.claims));
        self.check("ValidateIdTokenNonce", F, checks::validate_nonce(&jwt, req.nonce()));
        let claims_request = req.get("claims").and_then(|c| serde_json::from_str::<Value>(c).ok());
        self.check(
            "ValidateIdTokenACRClaimAgainstRequest",
            F,
            checks::validate_acr_against_request(&jwt, claims_request.as_ref()),
        );
        let jwks = self.jwks.clone();
        self.check("ValidateIdTokenSignature", F, checks::validate_signature(&jwt, &jwks));
        self.check("ValidateIdTokenSignatureUsingKid", F, checks::validate_kid_found(&jwt, &jwks));
        self.check(
            "CheckForSubjectInIdToken",
            F,
            match jwt.str_claim("sub") {
                Some(s) if !s.is_empty() => Ok("sub present".into()),
                _ => Err("sub missing".into()),
            },
        );
        self.check("EnsureIdTokenUpdatedAtValid", F, checks::updated_at_valid(&jwt.claims));
        self.check("ValidateAtHash", F, checks::validate_half_hash(&jwt, "at_hash", &tokens.access_token, false));
        Ok(jwt)
    }

    // ------------------------------------------------------------ userinfo

    /// Calls userinfo and checks the answer; returns the claims.
    pub fn userinfo(
        &mut self,
        access_token: &str,
        how: UserinfoCall,
        id_token: &Jwt,
        severity: Severity,
    ) -> Step<Option<Value>> {
        let endpoint = self.endpoint("userinfo_endpoint");
        let url = match endpoint {
            Ok(u) => u,
            Err(_) => return Err(Abort::Skip("no userinfo_endpoint in discovery".into())),
        };
        let request = match how {
            UserinfoCall::Get => self.http.get(url.clone()).bearer_auth(access_token),
            UserinfoCall::PostHeader => self.http.post(url.clone()).bearer_auth(access_token).form(&[("", ""); 0]),
            UserinfoCall::PostBody => self.http.post(url.clone()).form(&[("access_token", access_token)]),
        };
        let response = request.send().map_err(|e| format!("{url}: {e}"));
        let response = self.require("CallProtectedResource", response)?;
        let status = response.status().as_u16();
        let content_type = response.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let body = response.text().unwrap_or_default();
        let ok = self.check(
            "EnsureHttpStatusCodeIs200",
            severity,
            if status == 200 { Ok("200".into()) } else { Err(format!("HTTP {status}: {}", snippet(&body))) },
        );
        if !ok {
            return if severity == F { Err(Abort::Stop) } else { Ok(None) };
        }
        self.check("CheckUserInfoEndpointReturnedJsonContentType", F, checks::is_json(content_type.as_deref()));
        let claims: Value = match serde_json::from_str(&body) {
            Ok(v @ Value::Object(_)) => v,
            _ => {
                return self.require(
                    "ExtractUserInfoFromUserInfoEndpointResponse",
                    Err(format!("not a JSON object: {}", snippet(&body))),
                )
            }
        };
        self.check("ValidateUserInfoStandardClaims", F, checks::validate_standard_claims(&claims));
        self.check(
            "EnsureUserInfoContainsSub",
            F,
            match claims.get("sub").and_then(Value::as_str) {
                Some(s) if !s.is_empty() => Ok("sub present".into()),
                _ => Err("sub missing".into()),
            },
        );
        self.check("EnsureUserInfoUpdatedAtValid", F, checks::updated_at_valid(&claims));
        self.check(
            "VerifyUserInfoAndIdTokenInTokenEndpointSameSub",
            F,
            match (claims.get("sub").and_then(Value::as_str), id_token.str_claim("sub")) {
                (Some(a), Some(b)) if a == b => Ok("same sub".into()),
                (a, b) => Err(format!("userinfo sub {a:?} differs from the ID token's {b:?}")),
            },
        );
        Ok(Some(claims))
    }

    // ------------------------------------------------------------ whole flows

    /// A complete code flow: authorize, redeem, check the ID token, call userinfo (GET).
    pub fn code_flow(&mut self, req: &AuthRequest) -> Step<Flow> {
        let visit = self.send(req, true)?;
        let code = self.expect_code(req, &visit)?;
        let http = self.redeem(req, &code)?;
        let tokens = self.expect_tokens(http)?;
        let id_token = self.check_id_token(&tokens, req)?;
        let userinfo = self.userinfo(&tokens.access_token, UserinfoCall::Get, &id_token, F)?;
        Ok(Flow { visit, tokens, id_token, userinfo })
    }

    /// Like [`Test::code_flow`] and also returns the code.
    pub fn code_flow_keep_code(&mut self, req: &AuthRequest) -> Step<(Flow, String)> {
        let visit = self.send(req, true)?;
        let code = self.expect_code(req, &visit)?;
        let http = self.redeem(req, &code)?;
        let tokens = self.expect_tokens(http)?;
        let id_token = self.check_id_token(&tokens, req)?;
        Ok((Flow { visit, tokens, id_token, userinfo: None }, code))
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

/// The first characters of a body, for messages.
pub fn snippet(body: &str) -> String {
    let flat: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > 200 {
        flat.chars().take(200).collect::<String>() + "…"
    } else {
        flat
    }
}

/// The visible text of an HTML page.
pub fn page_text(body: &str) -> String {
    let html = scraper::Html::parse_document(body);
    let selector = scraper::Selector::parse("body").expect("static selector");
    html.select(&selector).next().map(|b| b.text().collect::<Vec<_>>().join(" ")).unwrap_or_else(|| body.to_owned())
}

/// Integer claim.
pub fn int_claim(jwt: &Jwt, name: &str) -> Option<i64> {
    jwt.claim(name).and_then(|v| v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)))
}

/// Claims of a JWT, for checks that compare two tokens.
pub fn jose_unsigned_copy(jwt: &Jwt) -> String {
    jose::unsigned(json!({"typ": "JWT"}), &jwt.claims)
}
