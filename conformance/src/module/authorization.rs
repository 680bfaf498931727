//! The authorization request, how the browser comes back, and what the callback carries.

use url::Url;

use super::{page_text, random, snippet, ResponseMode, Step, Test};
use crate::browser::{Callback, Landing, Start, Visit};
use crate::checks;
use crate::report::Severity::{Failure as F, Warning as W};
use crate::target::ClientConfig;

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

impl Test<'_> {
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
            Start::Post(self.require("BuildPlainRedirectToAuthorizationEndpoint", endpoint)?, req.params.clone())
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
}
