//! The harness is shown not to pass by accident: a small fake provider, in process, that can be
//! told to misbehave; each misbehaviour must make the matching module fail on the matching
//! condition, and the well-behaved fake must pass.
//!
//! The fake is served as the provider is: through the harness's TLS front, its issuer an https
//! URL. Served on plain http instead, it must fail the discovery's https conditions.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use conformance::browser::{Aidant, Aidants, Browser, Choices};
use conformance::jose::{self, RsaSigner};
use conformance::module::run_module;
use conformance::plans;
use conformance::report::{ModuleResult, Severity, Status};
use conformance::target::{AuthMethod, ClientConfig, Target};
use conformance::tls_front::TlsFront;
use conformance::totp::Authenticator;
use serde_json::{json, Value};
use url::Url;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Misbehaviour {
    None,
    WrongAud,
    MissingNonce,
    BadSignature,
    KidNotInJwks,
    RedirectToUnregisteredUri,
    AcceptCodeTwice,
    CodeInQueryForFormPost,
    /// `aud` names the client, `azp` another party (OIDC Core §3.1.3.7 item 5).
    WrongAzp,
    /// Discovery leaves out `subject_types_supported`, which OIDC Discovery §3 requires.
    DiscoveryWithoutSubjectTypes,
    /// Discovery gives `claims_parameter_supported` as a string instead of a boolean.
    DiscoveryWithStringForBoolean,
}

const CLIENT_ID: &str = "fake-client";
const CLIENT_SECRET: &str = "fake-secret";
const REDIRECT_URI: &str = "http://127.0.0.1:9/callback";

struct Grant {
    nonce: Option<String>,
    used: bool,
}

struct Op {
    issuer: String,
    misbehaviour: Misbehaviour,
    signer: &'static RsaSigner,
    other: &'static RsaSigner,
    sessions: HashMap<String, i64>,
    pending: HashMap<String, Vec<(String, String)>>,
    codes: HashMap<String, Grant>,
    tokens: HashMap<String, String>,
}

fn keys() -> &'static (RsaSigner, RsaSigner) {
    static KEYS: OnceLock<(RsaSigner, RsaSigner)> = OnceLock::new();
    KEYS.get_or_init(|| (RsaSigner::generate("fake-1").unwrap(), RsaSigner::generate("fake-1").unwrap()))
}

fn random() -> String {
    conformance::module::random(32)
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn json(status: u16, value: Value) -> Reply {
        Reply {
            status,
            headers: vec![
                ("Content-Type".into(), "application/json".into()),
                ("Cache-Control".into(), "no-store".into()),
            ],
            body: value.to_string(),
        }
    }
    fn html(status: u16, body: String) -> Reply {
        Reply { status, headers: vec![("Content-Type".into(), "text/html; charset=utf-8".into())], body }
    }
    fn redirect(location: String) -> Reply {
        Reply { status: 303, headers: vec![("Location".into(), location)], body: String::new() }
    }
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

impl Op {
    fn discovery(&self) -> Value {
        let i = &self.issuer;
        let mut disc = json!({
            "issuer": i, "authorization_endpoint": format!("{i}/authorize"), "token_endpoint": format!("{i}/token"),
            "userinfo_endpoint": format!("{i}/userinfo"), "jwks_uri": format!("{i}/jwks"),
            "response_types_supported": ["code"], "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"], "scopes_supported": ["openid", "profile", "email"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"], "claims_supported": ["sub", "name", "email"],
            "response_modes_supported": ["query", "form_post"], "grant_types_supported": ["authorization_code"],
            "request_parameter_supported": false, "request_uri_parameter_supported": false,
        });
        match self.misbehaviour {
            Misbehaviour::DiscoveryWithoutSubjectTypes => {
                disc.as_object_mut().unwrap().remove("subject_types_supported");
            }
            Misbehaviour::DiscoveryWithStringForBoolean => disc["claims_parameter_supported"] = json!("true"),
            _ => {}
        }
        disc
    }

    fn respond_to_client(&self, params: &[(String, String)], mut response: Vec<(String, String)>) -> Reply {
        if let Some(state) = param(params, "state") {
            response.push(("state".into(), state.into()));
        }
        response.push(("iss".into(), self.issuer.clone()));
        let redirect = param(params, "redirect_uri").unwrap_or(REDIRECT_URI);
        if param(params, "response_mode") == Some("form_post") {
            let mut action = redirect.to_owned();
            if self.misbehaviour == Misbehaviour::CodeInQueryForFormPost {
                action = format!("{redirect}?code=leaked");
            }
            let inputs: String =
                response.iter().map(|(k, v)| format!(r#"<input type="hidden" name="{k}" value="{v}">"#)).collect();
            return Reply::html(
                200,
                format!(
                    r#"<html><body onload="document.forms[0].submit()"><form method="post" action="{action}">{inputs}</form></body></html>"#
                ),
            );
        }
        let mut url = Url::parse(redirect).unwrap();
        url.query_pairs_mut().extend_pairs(response.iter());
        Reply::redirect(url.to_string())
    }

    fn authorize(&mut self, params: Vec<(String, String)>, session: Option<String>) -> Reply {
        let registered = param(&params, "redirect_uri") == Some(REDIRECT_URI);
        if param(&params, "client_id") != Some(CLIENT_ID)
            || (!registered && self.misbehaviour != Misbehaviour::RedirectToUnregisteredUri)
        {
            return Reply::html(400, "<html><body><h1>Unknown client or redirect URI</h1></body></html>".into());
        }
        if param(&params, "response_type") != Some("code") {
            return self.respond_to_client(
                &params,
                vec![
                    ("error".into(), "invalid_request".into()),
                    ("error_description".into(), "response_type is required".into()),
                ],
            );
        }
        let logged_in = session.as_ref().is_some_and(|s| self.sessions.contains_key(s));
        if param(&params, "prompt") == Some("none") && !logged_in {
            return self.respond_to_client(&params, vec![("error".into(), "login_required".into())]);
        }
        let id = random();
        self.pending.insert(id.clone(), params.clone());
        if logged_in && param(&params, "prompt") != Some("login") {
            return self.issue_code(&id);
        }
        Reply::redirect(format!("{}/login?req={id}", self.issuer))
    }

    fn issue_code(&mut self, req: &str) -> Reply {
        let params = self.pending.remove(req).unwrap_or_default();
        let code = random();
        self.codes.insert(code.clone(), Grant { nonce: param(&params, "nonce").map(str::to_owned), used: false });
        self.respond_to_client(&params, vec![("code".into(), code)])
    }

    fn token(&mut self, form: Vec<(String, String)>, authorization: Option<String>) -> Reply {
        let expected = format!("Basic {}", base64_encode(&format!("{CLIENT_ID}:{CLIENT_SECRET}")));
        if authorization.as_deref() != Some(expected.as_str()) {
            return Reply::json(401, json!({"error": "invalid_client"}));
        }
        let code = param(&form, "code").unwrap_or_default().to_owned();
        let Some(grant) = self.codes.get_mut(&code) else {
            return Reply::json(400, json!({"error": "invalid_grant"}));
        };
        if grant.used && self.misbehaviour != Misbehaviour::AcceptCodeTwice {
            return Reply::json(
                400,
                json!({"error": "invalid_grant", "error_description": "the code was already used"}),
            );
        }
        grant.used = true;
        let nonce = grant.nonce.clone();
        let access_token = random();
        self.tokens.insert(access_token.clone(), "usager-1".into());
        let now = conformance::checks::now();
        let mut claims = json!({
            "iss": self.issuer, "sub": "usager-1", "aud": CLIENT_ID, "exp": now + 300, "iat": now, "auth_time": now,
            "at_hash": jose::half_hash(&access_token, "RS256").unwrap(),
        });
        match (nonce, self.misbehaviour) {
            (Some(_), Misbehaviour::MissingNonce) | (None, _) => {}
            (Some(n), _) => claims["nonce"] = json!(n),
        }
        if self.misbehaviour == Misbehaviour::WrongAud {
            claims["aud"] = json!("someone-else");
        }
        if self.misbehaviour == Misbehaviour::WrongAzp {
            claims["azp"] = json!("someone-else");
        }
        let id_token = match self.misbehaviour {
            Misbehaviour::BadSignature => self.other.sign(json!({}), &claims),
            Misbehaviour::KidNotInJwks => self.signer.sign(json!({"kid": "not-published"}), &claims),
            _ => self.signer.sign(json!({}), &claims),
        };
        Reply::json(
            200,
            json!({"access_token": access_token, "token_type": "Bearer", "expires_in": 300, "id_token": id_token}),
        )
    }

    fn userinfo(&self, authorization: Option<String>, form: &[(String, String)]) -> Reply {
        let token = authorization
            .and_then(|a| a.strip_prefix("Bearer ").map(str::to_owned))
            .or_else(|| param(form, "access_token").map(str::to_owned));
        match token.and_then(|t| self.tokens.get(&t).cloned()) {
            Some(sub) => Reply::json(
                200,
                json!({"sub": sub, "name": "Alice Martin", "email": "alice@example.fr", "email_verified": true}),
            ),
            None => Reply::json(401, json!({"error": "invalid_token"})),
        }
    }

    fn handle(
        &mut self,
        method: &str,
        url: &Url,
        form: Vec<(String, String)>,
        headers: &HashMap<String, String>,
    ) -> Reply {
        let session = headers
            .get("cookie")
            .and_then(|c| c.split(';').find_map(|p| p.trim().strip_prefix("sid=").map(str::to_owned)));
        let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        match (method, url.path()) {
            ("GET", "/.well-known/openid-configuration") => Reply::json(200, self.discovery()),
            ("GET", "/jwks") => Reply::json(200, self.signer.jwks()),
            ("GET", "/authorize") => self.authorize(query, session),
            ("POST", "/authorize") => self.authorize(form, session),
            ("GET", "/login") => {
                let req = param(&query, "req").unwrap_or_default();
                Reply::html(
                    200,
                    format!(
                        r#"<html><body><form method="post" action="/login">
                    <input type="hidden" name="csrf_token" value="c"><input type="hidden" name="req" value="{req}">
                    <input name="email"><input type="password" name="password"><input name="otp"><button type="submit">Se connecter</button>
                    </form></body></html>"#
                    ),
                )
            }
            ("POST", "/login") => {
                let ok = param(&form, "email") == Some("aidant@example.fr")
                    && param(&form, "password") == Some("pw")
                    && param(&form, "otp").is_some_and(|o| o.len() == 6);
                if !ok {
                    return Reply::html(401, "<html><body>Identifiants incorrects</body></html>".into());
                }
                let sid = random();
                self.sessions.insert(sid.clone(), conformance::checks::now());
                let req = param(&form, "req").unwrap_or_default();
                let mut reply = Reply::redirect(format!("/choose?req={req}"));
                reply.headers.push(("Set-Cookie".into(), format!("sid={sid}; Path=/; HttpOnly")));
                reply
            }
            ("GET", "/choose") => {
                let req = param(&query, "req").unwrap_or_default();
                Reply::html(
                    200,
                    format!(
                        r#"<html><body><form method="post" action="/choose">
                    <input type="hidden" name="csrf_token" value="c"><input type="hidden" name="req" value="{req}">
                    <input type="radio" name="usager" value="usager-1"><select name="demarche"><option value="argent">Argent</option></select>
                    <button type="submit">Continuer</button></form></body></html>"#
                    ),
                )
            }
            ("POST", "/choose") => {
                let req = param(&form, "req").unwrap_or_default().to_owned();
                self.issue_code(&req)
            }
            ("POST", "/token") => self.token(form, headers.get("authorization").cloned()),
            ("GET" | "POST", "/userinfo") => self.userinfo(headers.get("authorization").cloned(), &form),
            _ => Reply::html(404, "not found".into()),
        }
    }
}

fn base64_encode(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// A running fake provider, and the TLS front it is served through (if it is).
struct Fake {
    issuer: String,
    front: Option<TlsFront>,
}

/// Starts a fake provider, behind a TLS front when `https` (its issuer the front's URL), else
/// on plain http.
fn start(misbehaviour: Misbehaviour, https: bool) -> Fake {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let addr = server.server_addr().to_ip().unwrap();
    let front = https.then(|| TlsFront::start(addr).unwrap());
    let issuer = match &front {
        Some(front) => front.url().as_str().trim_end_matches('/').to_owned(),
        None => format!("http://{addr}"),
    };
    let (signer, other) = keys();
    let op = Arc::new(Mutex::new(Op {
        issuer: issuer.clone(),
        misbehaviour,
        signer,
        other,
        sessions: HashMap::new(),
        pending: HashMap::new(),
        codes: HashMap::new(),
        tokens: HashMap::new(),
    }));
    std::thread::spawn(move || {
        for mut request in server.incoming_requests() {
            let url = Url::parse(&format!("http://127.0.0.1{}", request.url())).unwrap();
            let headers: HashMap<String, String> = request
                .headers()
                .iter()
                .map(|h| (h.field.as_str().as_str().to_ascii_lowercase(), h.value.as_str().to_owned()))
                .collect();
            let mut body = String::new();
            let _ = request.as_reader().read_to_string(&mut body);
            let form: Vec<(String, String)> = url::form_urlencoded::parse(body.as_bytes()).into_owned().collect();
            let method = request.method().as_str().to_owned();
            let reply = op.lock().unwrap().handle(&method, &url, form, &headers);
            let mut response = tiny_http::Response::from_string(reply.body).with_status_code(reply.status);
            for (k, v) in reply.headers {
                response.add_header(tiny_http::Header::from_bytes(k.as_bytes(), v.as_bytes()).unwrap());
            }
            let _ = request.respond(response);
        }
    });
    Fake { issuer, front }
}

fn target(fake: &Fake) -> Target {
    let aidant = Aidant {
        id: "aidant-1".into(),
        email: "aidant@example.fr".into(),
        password: "pw".into(),
        authenticator: Authenticator::new("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 30).unwrap(),
    };
    Target {
        issuer: Url::parse(&fake.issuer).unwrap(),
        tls_root: fake.front.as_ref().map(TlsFront::certificate),
        client: ClientConfig {
            client_id: CLIENT_ID.into(),
            client_secret: Some(CLIENT_SECRET.into()),
            auth: AuthMethod::ClientSecretBasic,
            redirect_uri: REDIRECT_URI.into(),
            post_logout_redirect_uri: None,
            signer: None,
        },
        client_post: None,
        client_private_key_jwt: None,
        client2: None,
        logout_client: None,
        backchannel: None,
        aidants: Arc::new(Aidants { list: vec![aidant] }),
        choices: Choices { usager: Some("usager-1".into()), demarche: Some("argent".into()) },
        admin: None,
        delegation: None,
    }
}

fn run(misbehaviour: Misbehaviour, plan: &str, module: &str) -> ModuleResult {
    run_on(start(misbehaviour, true), plan, module)
}

fn run_on(fake: Fake, plan: &str, module: &str) -> ModuleResult {
    let target = target(&fake);
    let plan = plans::all().into_iter().find(|p| p.name == plan).expect("plan");
    let module = plan.modules.iter().find(|m| m.name == module).expect("module");
    let mut browser =
        Browser::new(&target.issuer, target.tls_root.clone(), target.aidants.clone(), target.choices.clone());
    run_module(plan.name, module, &target, &mut browser, plan.mode)
}

const BASIC: &str = "oidcc-basic-certification-test-plan";
const FORM_POST: &str = "oidcc-formpost-basic-certification-test-plan";
const CONFIG: &str = "oidcc-config-certification-test-plan";
const DISCOVERY: &str = "oidcc-discovery-endpoint-verification";

fn assert_fails_on(result: &ModuleResult, condition: &str) {
    assert_eq!(result.status, Status::Failed, "{} should fail: {:#?}", result.module, result.conditions);
    assert!(
        result.failed_on(condition),
        "{} should fail on {condition}, failed on: {}",
        result.module,
        result.detail()
    );
}

#[test]
fn the_well_behaved_fake_passes() {
    for (plan, module) in [
        (BASIC, "oidcc-server"),
        (BASIC, "oidcc-codereuse"),
        (BASIC, "oidcc-ensure-registered-redirect-uri"),
        (BASIC, "oidcc-response-type-missing"),
        (BASIC, "oidcc-prompt-none-not-logged-in"),
        (BASIC, "oidcc-ensure-post-request-succeeds"),
        (BASIC, "oidcc-userinfo-post-body"),
        (FORM_POST, "oidcc-server"),
    ] {
        let result = run(Misbehaviour::None, plan, module);
        assert_eq!(result.status, Status::Passed, "{plan} / {module}: {}\n{:#?}", result.detail(), result.conditions);
    }
    let discovery = run(Misbehaviour::None, CONFIG, DISCOVERY);
    assert_eq!(discovery.status, Status::Passed, "{}\n{:#?}", discovery.detail(), discovery.conditions);
}

#[test]
fn a_plain_http_issuer_fails_exactly_the_https_conditions_of_discovery() {
    // On loopback too: the suite makes no exception for it, nor does the harness.
    let discovery = run_on(start(Misbehaviour::None, false), CONFIG, DISCOVERY);
    assert_eq!(discovery.status, Status::Failed, "{}", discovery.detail());
    let mut failed: Vec<&str> = discovery.unmet(Severity::Failure).map(|c| c.name.as_str()).collect();
    failed.sort_unstable();
    assert_eq!(
        failed,
        [
            "CheckDiscEndpointAllEndpointsAreHttps",
            "CheckDiscEndpointAuthorizationEndpoint",
            "CheckDiscEndpointDiscoveryUrl",
            "CheckDiscEndpointIssuerIsHttps",
            "CheckDiscEndpointTokenEndpoint",
            "CheckDiscEndpointUserinfoEndpoint",
            "CheckJwksUri",
            "EnsureServerConfigurationAuthorizationEndpointIsAnHttpsUrl",
            "EnsureServerConfigurationIssuerIsAnHttpsUrl",
            "EnsureServerConfigurationJwksUriIsAnHttpsUrl",
            "EnsureServerConfigurationTokenEndpointIsAnHttpsUrl",
            "EnsureServerConfigurationUserinfoEndpointIsAnHttpsUrl",
        ]
    );
    assert!(
        discovery.unmet(Severity::Warning).next().is_none(),
        "no https condition is lowered to a warning: {}",
        discovery.detail()
    );
}

#[test]
fn wrong_aud_fails_validate_id_token() {
    assert_fails_on(&run(Misbehaviour::WrongAud, BASIC, "oidcc-server"), "ValidateIdToken");
}

#[test]
fn an_azp_other_than_the_client_fails_validate_id_token() {
    let result = run(Misbehaviour::WrongAzp, BASIC, "oidcc-server");
    assert_fails_on(&result, "ValidateIdToken");
    let condition = result.conditions.iter().find(|c| c.name == "ValidateIdToken").unwrap();
    assert!(condition.message.contains("azp"), "{}", condition.message);
}

#[test]
fn discovery_without_a_required_member_fails_its_metadata_condition() {
    let result = run(Misbehaviour::DiscoveryWithoutSubjectTypes, CONFIG, DISCOVERY);
    assert_fails_on(&result, "EnsureServerConfigurationSubjectTypesSupportedIsAnArrayOfStrings");
}

#[test]
fn discovery_with_a_member_of_the_wrong_type_fails_its_metadata_condition() {
    let result = run(Misbehaviour::DiscoveryWithStringForBoolean, CONFIG, DISCOVERY);
    assert_fails_on(&result, "EnsureServerConfigurationClaimsParameterSupportedIsABoolean");
    let failed: Vec<&str> = result.unmet(Severity::Failure).map(|c| c.name.as_str()).collect();
    assert_eq!(failed, ["EnsureServerConfigurationClaimsParameterSupportedIsABoolean"], "only that member is wrong");
}

#[test]
fn missing_nonce_fails_validate_id_token_nonce() {
    assert_fails_on(&run(Misbehaviour::MissingNonce, BASIC, "oidcc-server"), "ValidateIdTokenNonce");
}

#[test]
fn bad_signature_fails_validate_id_token_signature() {
    assert_fails_on(&run(Misbehaviour::BadSignature, BASIC, "oidcc-idtoken-signature"), "ValidateIdTokenSignature");
}

#[test]
fn kid_absent_from_the_jwks_fails() {
    let result = run(Misbehaviour::KidNotInJwks, BASIC, "oidcc-idtoken-signature");
    assert_fails_on(&result, "ValidateIdTokenSignatureUsingKid");
    assert!(result.failed_on("ValidateIdTokenSignature"));
}

#[test]
fn redirect_to_an_unregistered_uri_fails() {
    assert_fails_on(
        &run(Misbehaviour::RedirectToUnregisteredUri, BASIC, "oidcc-ensure-registered-redirect-uri"),
        "ExpectRedirectUriErrorPage",
    );
}

#[test]
fn a_code_accepted_twice_fails() {
    assert_fails_on(&run(Misbehaviour::AcceptCodeTwice, BASIC, "oidcc-codereuse"), "CheckTokenEndpointHttpStatus400");
}

#[test]
fn a_form_post_with_the_code_in_the_query_fails() {
    assert_fails_on(&run(Misbehaviour::CodeInQueryForFormPost, FORM_POST, "oidcc-server"), "RejectAuthCodeInUrlQuery");
}

/// The official suite's plan configurations parse and name the plans the harness runs.
#[test]
fn official_configurations_parse() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("official");
    let names: Vec<&str> = plans::all().iter().map(|p| p.name).collect();
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let config: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let plan = config["_plan"].as_str().unwrap();
        assert!(names.contains(&plan), "{}: unknown plan {plan}", path.display());
        assert!(config["server"]["discoveryUrl"].as_str().unwrap().ends_with("/.well-known/openid-configuration"));
        assert!(config["client"]["client_id"].is_string() && config["alias"].is_string());
        let browser = config["browser"].as_array().unwrap();
        let commands = browser[0]["tasks"].to_string();
        for field in ["email", "password", "otp", "choix"] {
            assert!(
                commands.contains(&format!("'{field}'")) || commands.contains(&format!("\"{field}\"")),
                "{}: no step for {field}",
                path.display()
            );
        }
        seen += 1;
    }
    assert_eq!(seen, 5);
}
