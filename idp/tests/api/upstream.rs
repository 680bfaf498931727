//! The usager's upstream login for the new-mandate wizard: through the demo upstream provider
//! (the usager is recorded once and put into the draft), and every failure mode against a
//! misbehaving provider started by the test, each a clear page that stores nothing and is
//! journalled without personal data. On SQLite and PostgreSQL.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use base64::Engine as _;
use idp::admin::demo::{DEMO_EMAIL, DEMO_PASSWORD};
use idp::configuration::{ClientSecret, DEMO_UPSTREAM_CLIENT_ID, DEMO_UPSTREAM_CLIENT_SECRET};
use idp::keys::{SigningAlg, StandaloneKey};
use idp::web::csrf::{self, CsrfKey};
use jsonwebtoken::jwk::JwkSet;
use mandate_store::journal::{self, JournalAction, JournalEntry};
use mandate_store::{mandate_drafts, now, secret_hash, server_secrets, sessions, usagers, Backend, Demarche};
use mandate_store::{DurationKind, Store};
use reqwest::cookie::{CookieStore as _, Jar};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::TestApp;
use crate::robot::{input_value, location, query_params, seed, Robot};

crate::on_both_backends!(
    the_wizard_goes_through_the_demo_upstream_to_its_recap,
    demo_upstream_login_records_the_usager_once_and_fills_the_draft,
    demo_upstream_follows_the_protocol_for_any_relying_party,
    demo_upstream_does_not_exist_without_demo_mode,
    an_honest_upstream_gives_a_verified_usager,
    a_token_signed_by_another_key_is_refused,
    an_unknown_kid_is_fetched_again_once_then_refused,
    a_wrong_nonce_is_refused,
    a_refusal_upstream_is_a_clear_page,
    an_upstream_down_at_the_token_endpoint_is_a_clear_page,
    an_upstream_down_before_the_login_is_a_clear_page,
    a_slow_upstream_times_out,
    an_upstream_that_never_answers_times_out,
    a_malformed_identity_is_refused,
    missing_or_unknown_state_is_refused,
    without_an_upstream_the_page_says_to_configure_it,
    a_draft_of_another_session_or_without_duration_is_refused,
);

const START: &str = "/espace-aidant/franceconnect/connexion";
const CALLBACK: &str = "/espace-aidant/franceconnect/retour";

/// A helper signed in with both factors, with what their forms need.
struct Helper<'a> {
    robot: Robot<'a>,
    sid: String,
    csrf: String,
    aidant_id: String,
    organisation_id: String,
}

/// Signs the demo helper in (password, then one-time code) and reads back their session.
async fn sign_in(app: &TestApp) -> Helper<'_> {
    sign_in_after(app, None).await
}

/// The same, with a one-time code of a later step than `last_totp_step` (each works once).
async fn sign_in_after(app: &TestApp, last_totp_step: Option<u64>) -> Helper<'_> {
    let jar = Arc::new(Jar::default());
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_provider(jar.clone())
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let mut robot = Robot { app, client, last_totp_step };
    let page = robot.get("/login").await.text().await.unwrap();
    let csrf = input_value(&page, "csrf_token").expect("a CSRF token on the login page");
    let response = robot
        .post_form(
            "/login",
            &[("csrf_token", &csrf), ("request", ""), ("email", DEMO_EMAIL), ("password", DEMO_PASSWORD)],
        )
        .await;
    assert_eq!(response.status(), 303);
    let page = robot.get(&location(&response)).await.text().await.unwrap();
    let csrf = input_value(&page, "csrf_token").expect("a CSRF token on the code page");
    let code = robot.next_totp();
    let response = robot.post_form("/login/otp", &[("csrf_token", &csrf), ("request", ""), ("otp", &code)]).await;
    assert_eq!(response.status(), 303, "signed in");
    let cookies = jar.cookies(&app.url("/").parse().unwrap()).expect("a session cookie");
    let secret = cookies
        .to_str()
        .unwrap()
        .split("; ")
        .find_map(|c| c.strip_prefix("idp_session="))
        .expect("the session cookie")
        .to_owned();
    let mut conn = app.db.store.conn().unwrap();
    let session = sessions::find_live(&mut conn, &secret_hash(&secret), now()).unwrap().expect("a live session");
    // The token every form of this session carries, as the pages compute it.
    let key = server_secrets::find(&mut conn, &app.db.keys, csrf::SECRET_NAME).unwrap().expect("the CSRF key");
    let csrf = CsrfKey::new(hex::decode(key).unwrap()).token(&secret);
    Helper {
        robot,
        sid: session.sid,
        csrf,
        aidant_id: session.aidant_id.unwrap(),
        organisation_id: session.organisation_id.unwrap(),
    }
}

impl Helper<'_> {
    /// A mandate draft of this session, as the wizard leaves it before the identity step.
    fn new_draft(&self, store: &Store) -> String {
        let mut conn = store.conn().unwrap();
        let draft = mandate_drafts::create(
            &mut conn,
            &self.sid,
            &self.aidant_id,
            &self.organisation_id,
            vec![Demarche::Argent, Demarche::Social],
            now(),
        )
        .unwrap();
        mandate_drafts::set_duration(&mut conn, &draft.id, DurationKind::Semester).unwrap();
        draft.id
    }

    async fn start(&self, draft: &str) -> reqwest::Response {
        self.robot.post_form(START, &[("csrf_token", &self.csrf), ("brouillon", draft)]).await
    }

    /// Starts the login and follows the provider back to our callback; returns its answer.
    async fn through_upstream(&self, draft: &str) -> reqwest::Response {
        let start = self.start(draft).await;
        assert_eq!(start.status(), 303, "sent to the provider");
        let at_provider = self.robot.get(&location(&start)).await;
        assert_eq!(at_provider.status(), 303, "the provider sends the browser back");
        let back = location(&at_provider);
        assert!(back.starts_with(&self.robot.app.url(CALLBACK)), "{back}");
        self.robot.get(&back).await
    }

    /// Picks `subject` on the demo upstream provider's page; returns our callback's answer.
    async fn through_demo_upstream(&self, draft: &str, subject: &str) -> reqwest::Response {
        let start = self.start(draft).await;
        assert_eq!(start.status(), 303);
        let authorize = location(&start);
        assert!(authorize.starts_with(&self.robot.app.url("/demo-upstream/authorize?")), "{authorize}");
        let page = self.robot.get(&authorize).await;
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(html.contains("Angela Claire Louise DUBOIS") && html.contains(">Refuser<"), "{html}");
        let mut fields = hidden_fields(&html);
        fields.push(("choice".into(), subject.into()));
        let decided = self
            .robot
            .client
            .post(self.robot.app.url("/demo-upstream/authorize/decision"))
            .form(&fields)
            .send()
            .await
            .unwrap();
        assert_eq!(decided.status(), 303);
        let back = location(&decided);
        assert!(back.starts_with(&self.robot.app.url(CALLBACK)), "{back}");
        self.robot.get(&back).await
    }

    fn draft_usager(&self, store: &Store, draft: &str) -> Option<String> {
        let mut conn = store.conn().unwrap();
        mandate_drafts::find(&mut conn, draft, &self.sid, now()).unwrap().expect("the draft").usager_id
    }
}

/// Text of a page with the HTML escapes of quotes and angle brackets undone.
pub fn unescape(html: &str) -> String {
    html.replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#x2f;", "/")
        .replace("&amp;", "&")
}

/// The hidden inputs of a page, unescaped.
fn hidden_fields(html: &str) -> Vec<(String, String)> {
    html.split("<input type=\"hidden\" name=\"")
        .skip(1)
        .filter_map(|rest| {
            let (name, rest) = rest.split_once('"')?;
            let value = rest.strip_prefix(" value=\"")?.split('"').next()?;
            Some((name.to_owned(), unescape(value)))
        })
        .collect()
}

fn upstream_failures(store: &Store) -> Vec<JournalEntry> {
    let mut conn = store.conn().unwrap();
    journal::recent(&mut conn, Some(JournalAction::UpstreamLoginFailed), 10).unwrap()
}

/// The failure page is clear, nothing was stored, and the journal says why with ids only.
async fn assert_failed_cleanly(
    app: &TestApp,
    helper: &Helper<'_>,
    draft: Option<&str>,
    response: reqwest::Response,
    status: StatusCode,
    reason: &str,
    journalled: usize,
) -> String {
    assert_eq!(response.status(), status);
    let html = unescape(&response.text().await.unwrap());
    assert!(html.contains("Rien n'a été enregistré."), "{html}");
    assert!(html.contains(">Réessayer</a>"), "{html}");
    match draft {
        Some(draft) => {
            let retry = format!("href=\"/espace-aidant/mandats/nouveau/identite?brouillon={draft}\"");
            assert!(html.contains(&retry), "{html}");
            assert_eq!(helper.draft_usager(&app.db.store, draft), None, "the draft is unchanged");
        }
        None => assert!(html.contains("href=\"/espace-aidant\""), "{html}"),
    }
    let mut conn = app.db.store.conn().unwrap();
    assert!(usagers::list(&mut conn, Some("TESTUSAGER")).unwrap().is_empty(), "no usager recorded");
    let failures = upstream_failures(&app.db.store);
    assert_eq!(failures.len(), journalled, "one journal entry per failure");
    let entry = &failures[0];
    assert_eq!(entry.details.as_ref().unwrap().value(), &json!({"reason": reason}));
    assert_eq!(entry.aidant_id.as_deref(), Some(helper.aidant_id.as_str()));
    assert_eq!(entry.usager_id, None);
    // What the entry says besides ids, time and hashes (hex and digits could hold "1950" by chance).
    let written = format!("{} {}", entry.action, entry.details.as_ref().map_or("", |d| d.as_str()));
    for personal in ["TESTUSAGER", "Jeanne", "1950", "jeanne.testusager"] {
        assert!(!written.contains(personal), "personal data in the journal: {written}");
    }
    html
}

async fn demo_upstream_login_records_the_usager_once_and_fills_the_draft(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| s.demo.enabled = true).await else { return };
    let demo = seed(&app);
    let helper = sign_in(&app).await;

    let draft = helper.new_draft(&app.db.store);
    let back = helper.through_demo_upstream(&draft, "demo-usager-3").await;
    assert_eq!(back.status(), 303);
    assert_eq!(location(&back), format!("/espace-aidant/mandats/nouveau/recapitulatif?brouillon={draft}"));
    let mut conn = app.db.store.conn().unwrap();
    let found = usagers::list(&mut conn, Some("MOREAU")).unwrap();
    assert_eq!(found.len(), 1, "the usager is created");
    let usager = &found[0];
    assert_eq!(usager.given_name, "Lucie");
    assert_eq!(usager.birthdate, "1975-04-00", "an unknown day stays unknown");
    assert_eq!((usager.birthplace.as_str(), usager.birthcountry.as_str()), ("69123", "99100"));
    assert_eq!(usager.upstream_issuer, app.url("/demo-upstream"));
    assert_eq!(usager.upstream_subject, "demo-usager-3");
    assert_eq!(helper.draft_usager(&app.db.store, &draft), Some(usager.id.clone()), "the draft points at them");

    // The same person again, in a new draft: found, not duplicated.
    let again = helper.new_draft(&app.db.store);
    let back = helper.through_demo_upstream(&again, "demo-usager-3").await;
    assert_eq!(back.status(), 303);
    assert_eq!(usagers::list(&mut conn, Some("MOREAU")).unwrap().len(), 1, "matched by issuer and subject");
    assert_eq!(helper.draft_usager(&app.db.store, &again), Some(usager.id.clone()));
    assert_eq!(journal::count(&mut conn, JournalAction::UsagerCreated).unwrap(), 1);
    assert_eq!(journal::count(&mut conn, JournalAction::UsagerIdentityVerified).unwrap(), 2);

    // The demo seed's Angela is the demo upstream's demo-usager-1: found again, as seeded.
    let third = helper.new_draft(&app.db.store);
    assert_eq!(helper.through_demo_upstream(&third, "demo-usager-1").await.status(), 303);
    assert_eq!(helper.draft_usager(&app.db.store, &third), Some(demo.usager_id(0)));
    assert_eq!(usagers::list(&mut conn, Some("DUBOIS")).unwrap().len(), 1);
    assert!(upstream_failures(&app.db.store).is_empty());

    // Refusing on the demo page comes back as access_denied: a clear page, nothing stored.
    let fourth = helper.new_draft(&app.db.store);
    let refused = helper.through_demo_upstream(&fourth, "refuse").await;
    let html = assert_failed_cleanly(&app, &helper, Some(&fourth), refused, StatusCode::FORBIDDEN, "refused", 1).await;
    assert!(html.contains("refusé"), "{html}");
}

/// The helper space's wizard, with its identity step done for real on the demo upstream.
async fn the_wizard_goes_through_the_demo_upstream_to_its_recap(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| s.demo.enabled = true).await else { return };
    seed(&app);
    let helper = sign_in(&app).await;
    let csrf = helper.csrf.as_str();
    let demarches = helper
        .robot
        .post_form(
            "/espace-aidant/mandats/nouveau",
            &[("csrf_token", csrf), ("demarche", "logement"), ("demarche", "famille")],
        )
        .await;
    assert_eq!(demarches.status(), 303);
    let draft = query_params(&helper.robot.absolute(&location(&demarches)))["brouillon"].clone();
    let duration = helper
        .robot
        .post_form(
            "/espace-aidant/mandats/nouveau/duree",
            &[("csrf_token", csrf), ("brouillon", &draft), ("duree", "semester")],
        )
        .await;
    let identity_step = location(&duration);
    let identity = helper.robot.get(&identity_step).await.text().await.unwrap();
    assert!(identity.contains(&format!("action=\"{START}\"")), "{identity}");
    assert_eq!(input_value(&identity, "brouillon").as_deref(), Some(draft.as_str()));

    let back = helper.through_demo_upstream(&draft, "demo-usager-3").await;
    let recap_url = location(&back);
    assert_eq!(recap_url, format!("/espace-aidant/mandats/nouveau/recapitulatif?brouillon={draft}"));
    let recap = helper.robot.get(&recap_url).await;
    assert_eq!(recap.status(), 200);
    let html = unescape(&recap.text().await.unwrap());
    assert!(html.contains("Lucie MOREAU") && html.contains("avril 1975"), "{html}");
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// What a relying party library does against the demo provider, checked with an independent
/// JOSE library: discovery, code flow with PKCE, ID token, userinfo, and the refusals.
async fn demo_upstream_follows_the_protocol_for_any_relying_party(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| s.demo.enabled = true).await else { return };
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let issuer = app.url("/demo-upstream");
    let metadata: Value =
        http.get(format!("{issuer}/.well-known/openid-configuration")).send().await.unwrap().json().await.unwrap();
    assert_eq!(metadata["issuer"], issuer.as_str());
    assert_eq!(metadata["authorization_endpoint"], format!("{issuer}/authorize"));
    assert!(metadata["id_token_signing_alg_values_supported"].as_array().unwrap().contains(&json!("RS256")));
    assert!(metadata["subject_types_supported"].as_array().unwrap().contains(&json!("public")));
    assert_eq!(metadata["response_types_supported"], json!(["code"]));
    let jwks: JwkSet = http.get(metadata["jwks_uri"].as_str().unwrap()).send().await.unwrap().json().await.unwrap();
    assert_eq!(jwks.keys.len(), 1);

    let redirect_uri = "http://127.0.0.1:8765/callback";
    let verifier = "a-verifier-of-at-least-forty-three-characters-0123";
    let challenge = b64url(&Sha256::digest(verifier.as_bytes()));
    let authorize = |redirect: &str, client: &str| {
        reqwest::Url::parse_with_params(
            &format!("{issuer}/authorize"),
            &[
                ("response_type", "code"),
                ("client_id", client),
                ("redirect_uri", redirect),
                ("scope", "openid identite_pivot email"),
                ("state", "st-1"),
                ("nonce", "n-1"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        )
        .unwrap()
    };
    // An unregistered redirect URI or an unknown client: a page, never a redirect.
    for (redirect, client) in [("http://127.0.0.1:9999/elsewhere", DEMO_UPSTREAM_CLIENT_ID), (redirect_uri, "nobody")] {
        let refused = http.get(authorize(redirect, client)).send().await.unwrap();
        assert_eq!(refused.status(), 400);
        assert!(refused.text().await.unwrap().contains("refusée"));
    }
    let page = http.get(authorize(redirect_uri, DEMO_UPSTREAM_CLIENT_ID)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let mut fields = hidden_fields(&page.text().await.unwrap());
    fields.push(("choice".into(), "demo-usager-2".into()));
    let decided = http.post(format!("{issuer}/authorize/decision")).form(&fields).send().await.unwrap();
    let params: HashMap<String, String> =
        reqwest::Url::parse(&location(&decided)).unwrap().query_pairs().into_owned().collect();
    assert_eq!(params["state"], "st-1");
    assert_eq!(params["iss"], issuer, "RFC 9207");
    let code = params["code"].clone();

    let exchange = |verifier: &str| {
        http.post(format!("{issuer}/token"))
            .basic_auth(DEMO_UPSTREAM_CLIENT_ID, Some(DEMO_UPSTREAM_CLIENT_SECRET))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", redirect_uri),
                ("code_verifier", verifier),
            ])
            .send()
    };
    let wrong_secret = http
        .post(format!("{issuer}/token"))
        .basic_auth(DEMO_UPSTREAM_CLIENT_ID, Some("wrong"))
        .form(&[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", redirect_uri)])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_secret.status(), 401);
    let tokens: Value = exchange(verifier).await.unwrap().json().await.unwrap();
    assert_eq!(tokens["token_type"], "Bearer");
    let id_token = tokens["id_token"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(id_token).unwrap();
    let jwk = jwks.find(header.kid.as_deref().unwrap()).expect("the kid is published");
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&[DEMO_UPSTREAM_CLIENT_ID]);
    validation.set_issuer(&[issuer.as_str()]);
    let claims =
        jsonwebtoken::decode::<Value>(id_token, &jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap(), &validation)
            .expect("a valid ID token")
            .claims;
    assert_eq!(claims["sub"], "demo-usager-2");
    assert_eq!(claims["nonce"], "n-1");
    assert_eq!(claims["acr"], "eidas1");
    assert_eq!(claims["birthdate"], "1948-00-00");
    assert_eq!(claims["birthplace"], "");
    assert_eq!(claims["birthcountry"], "99139");
    let access_token = tokens["access_token"].as_str().unwrap();
    let digest = Sha256::digest(access_token.as_bytes());
    assert_eq!(claims["at_hash"], b64url(&digest[..16]));

    let userinfo: Value =
        http.get(format!("{issuer}/userinfo")).bearer_auth(access_token).send().await.unwrap().json().await.unwrap();
    assert_eq!(userinfo["sub"], "demo-usager-2");
    assert_eq!(userinfo["given_name"], "João");
    assert_eq!(userinfo["email"], "joao.silva@example.fr");
    assert!(userinfo.get("preferred_username").is_none(), "no usage name, no claim");

    // A code works once; used again, it is refused and what it gave is revoked.
    let replay = exchange(verifier).await.unwrap();
    assert_eq!(replay.status(), 400);
    assert_eq!(replay.json::<Value>().await.unwrap()["error"], "invalid_grant");
    let revoked = http.get(format!("{issuer}/userinfo")).bearer_auth(access_token).send().await.unwrap();
    assert_eq!(revoked.status(), 401);
    assert!(revoked.headers()["www-authenticate"].to_str().unwrap().contains("invalid_token"));

    // A wrong PKCE verifier is refused (on a fresh code).
    let page = http.get(authorize(redirect_uri, DEMO_UPSTREAM_CLIENT_ID)).send().await.unwrap();
    let mut fields = hidden_fields(&page.text().await.unwrap());
    fields.push(("choice".into(), "demo-usager-1".into()));
    let decided = http.post(format!("{issuer}/authorize/decision")).form(&fields).send().await.unwrap();
    let params: HashMap<String, String> =
        reqwest::Url::parse(&location(&decided)).unwrap().query_pairs().into_owned().collect();
    let wrong = http
        .post(format!("{issuer}/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", params["code"].as_str()),
            ("redirect_uri", redirect_uri),
            ("code_verifier", "another-verifier-of-at-least-forty-three-characters"),
            ("client_id", DEMO_UPSTREAM_CLIENT_ID),
            ("client_secret", DEMO_UPSTREAM_CLIENT_SECRET),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 400);
    assert_eq!(wrong.json::<Value>().await.unwrap()["error"], "invalid_grant");

    // Errors other than the client's own go back to the relying party, with its state.
    let no_openid = reqwest::Url::parse_with_params(
        &format!("{issuer}/authorize"),
        &[
            ("response_type", "code"),
            ("client_id", DEMO_UPSTREAM_CLIENT_ID),
            ("redirect_uri", redirect_uri),
            ("scope", "email"),
            ("state", "st-2"),
        ],
    )
    .unwrap();
    let refused = http.get(no_openid).send().await.unwrap();
    let params: HashMap<String, String> =
        reqwest::Url::parse(&location(&refused)).unwrap().query_pairs().into_owned().collect();
    assert_eq!((params["error"].as_str(), params["state"].as_str()), ("invalid_scope", "st-2"));
}

async fn demo_upstream_does_not_exist_without_demo_mode(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    for path in ["/demo-upstream/.well-known/openid-configuration", "/demo-upstream/jwks", "/demo-upstream/authorize"] {
        assert_eq!(app.client.get(app.url(path)).send().await.unwrap().status(), 404, "{path}");
    }
}

// ---- A misbehaving upstream provider, started by the test ----

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Conduct {
    Honest,
    SignsWithAnotherKey,
    SignsWithAnUnknownKid,
    SendsAnotherNonce,
    Refuses,
    TokenEndpointDown,
    AnswersTooSlowly,
    SendsAMalformedIdentity,
}

const MOCK_CLIENT: &str = "mock-client";
const MOCK_SECRET: &str = "mock-secret";
const MOCK_ACCESS_TOKEN: &str = "mock-access-token";

struct MockState {
    issuer: String,
    conduct: Conduct,
    published: StandaloneKey,
    published_pem: String,
    impostor_pem: String,
    impostor_kid: String,
    /// code -> (nonce, PKCE challenge)
    codes: Mutex<HashMap<String, (String, String)>>,
    jwks_fetches: AtomicUsize,
    closed_port: u16,
}

fn closed_port() -> u16 {
    // Bound then released: nothing listens there.
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn mock_discovery(s: web::Data<MockState>) -> HttpResponse {
    let token_endpoint = if s.conduct == Conduct::TokenEndpointDown {
        format!("http://127.0.0.1:{}/token", s.closed_port)
    } else {
        format!("{}/token", s.issuer)
    };
    HttpResponse::Ok().json(json!({
        "issuer": s.issuer,
        "authorization_endpoint": format!("{}/authorize", s.issuer),
        "token_endpoint": token_endpoint,
        "userinfo_endpoint": format!("{}/userinfo", s.issuer),
        "jwks_uri": format!("{}/jwks", s.issuer),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
    }))
}

async fn mock_jwks(s: web::Data<MockState>) -> HttpResponse {
    s.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    HttpResponse::Ok().json(s.published.jwks())
}

async fn mock_authorize(s: web::Data<MockState>, query: web::Query<HashMap<String, String>>) -> HttpResponse {
    let mut back = reqwest::Url::parse(&query["redirect_uri"]).unwrap();
    if s.conduct == Conduct::Refuses {
        back.query_pairs_mut().append_pair("error", "access_denied").append_pair("state", &query["state"]);
    } else {
        let code = format!("code-{}", s.codes.lock().unwrap().len());
        s.codes.lock().unwrap().insert(code.clone(), (query["nonce"].clone(), query["code_challenge"].clone()));
        back.query_pairs_mut().append_pair("code", &code).append_pair("state", &query["state"]);
    }
    HttpResponse::SeeOther().insert_header(("Location", back.as_str())).finish()
}

fn identity(conduct: Conduct) -> serde_json::Map<String, Value> {
    let birthdate = if conduct == Conduct::SendsAMalformedIdentity { "12/03/1950" } else { "1950-03-12" };
    let Value::Object(claims) = json!({
        "sub": "mock-1", "given_name": "Jeanne", "family_name": "TESTUSAGER", "birthdate": birthdate,
        "gender": "female", "birthplace": "75056", "birthcountry": "99100", "email": "jeanne.testusager@example.fr",
    }) else {
        unreachable!()
    };
    claims
}

async fn mock_token(
    s: web::Data<MockState>,
    req: HttpRequest,
    form: web::Form<HashMap<String, String>>,
) -> HttpResponse {
    if s.conduct == Conduct::AnswersTooSlowly {
        actix_web::rt::time::sleep(std::time::Duration::from_secs(3)).await;
    }
    let expected =
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{MOCK_CLIENT}:{MOCK_SECRET}")));
    if req.headers().get("Authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        return HttpResponse::Unauthorized().json(json!({"error": "invalid_client"}));
    }
    let Some((nonce, challenge)) = s.codes.lock().unwrap().remove(&form["code"]) else {
        return HttpResponse::BadRequest().json(json!({"error": "invalid_grant"}));
    };
    if b64url(&Sha256::digest(form["code_verifier"].as_bytes())) != challenge {
        return HttpResponse::BadRequest().json(json!({"error": "invalid_grant"}));
    }
    let now = chrono::Utc::now().timestamp();
    let mut claims = identity(s.conduct);
    for (name, value) in [
        ("iss", json!(s.issuer)),
        ("aud", json!(MOCK_CLIENT)),
        ("iat", json!(now)),
        ("exp", json!(now + 60)),
        ("acr", json!("eidas1")),
        ("nonce", json!(if s.conduct == Conduct::SendsAnotherNonce { "another-nonce".to_owned() } else { nonce })),
    ] {
        claims.insert(name.into(), value);
    }
    let (pem, kid) = match s.conduct {
        // The impostor's signature under the published key's name.
        Conduct::SignsWithAnotherKey => (&s.impostor_pem, s.published.kid().to_owned()),
        Conduct::SignsWithAnUnknownKid => (&s.impostor_pem, s.impostor_kid.clone()),
        _ => (&s.published_pem, s.published.kid().to_owned()),
    };
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some(kid);
    let id_token =
        jsonwebtoken::encode(&header, &claims, &jsonwebtoken::EncodingKey::from_ec_pem(pem.as_bytes()).unwrap())
            .unwrap();
    HttpResponse::Ok().json(json!({"access_token": MOCK_ACCESS_TOKEN, "token_type": "Bearer", "id_token": id_token}))
}

async fn mock_userinfo(s: web::Data<MockState>, req: HttpRequest) -> HttpResponse {
    let expected = format!("Bearer {MOCK_ACCESS_TOKEN}");
    if req.headers().get("Authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        return HttpResponse::Unauthorized().finish();
    }
    HttpResponse::Ok().json(identity(s.conduct))
}

struct MockUpstream {
    issuer: String,
    state: web::Data<MockState>,
}

async fn start_mock(conduct: Conduct) -> MockUpstream {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let issuer = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let published_pem = StandaloneKey::generate_pem(SigningAlg::Es256).unwrap().to_string();
    let impostor_pem = StandaloneKey::generate_pem(SigningAlg::Es256).unwrap().to_string();
    let impostor_kid = StandaloneKey::from_pem(SigningAlg::Es256, &impostor_pem).unwrap().kid().to_owned();
    let state = web::Data::new(MockState {
        issuer: issuer.clone(),
        conduct,
        published: StandaloneKey::from_pem(SigningAlg::Es256, &published_pem).unwrap(),
        published_pem,
        impostor_pem,
        impostor_kid,
        codes: Mutex::default(),
        jwks_fetches: AtomicUsize::new(0),
        closed_port: closed_port(),
    });
    let data = state.clone();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/.well-known/openid-configuration", web::get().to(mock_discovery))
            .route("/jwks", web::get().to(mock_jwks))
            .route("/authorize", web::get().to(mock_authorize))
            .route("/token", web::post().to(mock_token))
            .route("/userinfo", web::get().to(mock_userinfo))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    MockUpstream { issuer, state }
}

/// Our server, relying party of the provider at `issuer` (timeout 1 s).
async fn app_with_upstream(backend: Backend, issuer: &str) -> Option<TestApp> {
    let issuer = issuer.to_owned();
    TestApp::spawn_with(backend, move |s| {
        s.upstream.issuer = issuer;
        s.upstream.client_id = MOCK_CLIENT.into();
        s.upstream.client_secret = Some(ClientSecret::new(MOCK_SECRET));
        s.upstream.timeout_seconds = 1;
    })
    .await
}

/// Our server against a mock provider behaving as `conduct`, with a signed-in helper.
async fn against(backend: Backend, conduct: Conduct) -> Option<(TestApp, MockUpstream)> {
    let mock = start_mock(conduct).await;
    let app = app_with_upstream(backend, &mock.issuer).await?;
    seed(&app);
    Some((app, mock))
}

async fn an_honest_upstream_gives_a_verified_usager(backend: Backend) {
    let Some((app, mock)) = against(backend, Conduct::Honest).await else { return };
    let helper = sign_in(&app).await;
    let draft = helper.new_draft(&app.db.store);
    let back = helper.through_upstream(&draft).await;
    assert_eq!(back.status(), 303, "{}", back.text().await.unwrap());
    let mut conn = app.db.store.conn().unwrap();
    let found = usagers::list(&mut conn, Some("TESTUSAGER")).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(
        (found[0].upstream_issuer.as_str(), found[0].upstream_subject.as_str()),
        (mock.issuer.as_str(), "mock-1")
    );
    assert_eq!(found[0].birthdate, "1950-03-12");
    assert_eq!(helper.draft_usager(&app.db.store, &draft), Some(found[0].id.clone()));
    assert_eq!(mock.state.jwks_fetches.load(Ordering::SeqCst), 1, "discovery and JWKS kept once read");
}

async fn a_token_signed_by_another_key_is_refused(backend: Backend) {
    let Some((app, _mock)) = against(backend, Conduct::SignsWithAnotherKey).await else { return };
    let helper = sign_in(&app).await;
    let draft = helper.new_draft(&app.db.store);
    let back = helper.through_upstream(&draft).await;
    let html =
        assert_failed_cleanly(&app, &helper, Some(&draft), back, StatusCode::BAD_GATEWAY, "invalid_id_token", 1).await;
    assert!(html.contains("n'a pas pu être vérifiée"), "{html}");
}

async fn an_unknown_kid_is_fetched_again_once_then_refused(backend: Backend) {
    let Some((app, mock)) = against(backend, Conduct::SignsWithAnUnknownKid).await else { return };
    let helper = sign_in(&app).await;
    let draft = helper.new_draft(&app.db.store);
    let back = helper.through_upstream(&draft).await;
    assert_failed_cleanly(&app, &helper, Some(&draft), back, StatusCode::BAD_GATEWAY, "invalid_id_token", 1).await;
    assert_eq!(mock.state.jwks_fetches.load(Ordering::SeqCst), 2, "read once, then once more for the unknown kid");
}

async fn a_wrong_nonce_is_refused(backend: Backend) {
    let Some((app, _mock)) = against(backend, Conduct::SendsAnotherNonce).await else { return };
    let helper = sign_in(&app).await;
    let draft = helper.new_draft(&app.db.store);
    let back = helper.through_upstream(&draft).await;
    assert_failed_cleanly(&app, &helper, Some(&draft), back, StatusCode::BAD_GATEWAY, "nonce_mismatch", 1).await;
}

async fn a_refusal_upstream_is_a_clear_page(backend: Backend) {
    let Some((app, _mock)) = against(backend, Conduct::Refuses).await else { return };
    let helper = sign_in(&app).await;
    let draft = helper.new_draft(&app.db.store);
    let back = helper.through_upstream(&draft).await;
    let html = assert_failed_cleanly(&app, &helper, Some(&draft), back, StatusCode::FORBIDDEN, "refused", 1).await;
    assert!(html.contains("L'usager a refusé ou annulé la connexion"), "{html}");
}

async fn an_upstream_down_at_the_token_endpoint_is_a_clear_page(backend: Backend) {
    let Some((app, _mock)) = against(backend, Conduct::TokenEndpointDown).await else { return };
    let helper = sign_in(&app).await;
    let draft = helper.new_draft(&app.db.store);
    let back = helper.through_upstream(&draft).await;
    let html =
        assert_failed_cleanly(&app, &helper, Some(&draft), back, StatusCode::BAD_GATEWAY, "unavailable", 1).await;
    assert!(html.contains("FranceConnect ne répond pas"), "{html}");
}

async fn an_upstream_down_before_the_login_is_a_clear_page(backend: Backend) {
    let issuer = format!("http://127.0.0.1:{}", closed_port());
    let Some(app) = app_with_upstream(backend, &issuer).await else { return };
    seed(&app);
    let helper = sign_in(&app).await;
    let draft = helper.new_draft(&app.db.store);
    let start = helper.start(&draft).await;
    assert_failed_cleanly(&app, &helper, Some(&draft), start, StatusCode::BAD_GATEWAY, "unavailable", 1).await;
    let mut conn = app.db.store.conn().unwrap();
    let logins: i64 = journal::count(&mut conn, JournalAction::UsagerIdentityVerified).unwrap();
    assert_eq!(logins, 0);
}

async fn a_slow_upstream_times_out(backend: Backend) {
    let Some((app, _mock)) = against(backend, Conduct::AnswersTooSlowly).await else { return };
    let helper = sign_in(&app).await;
    let draft = helper.new_draft(&app.db.store);
    let started = std::time::Instant::now();
    let back = helper.through_upstream(&draft).await;
    assert!(started.elapsed() < std::time::Duration::from_millis(2900), "given up after upstream.timeout_seconds");
    let html =
        assert_failed_cleanly(&app, &helper, Some(&draft), back, StatusCode::GATEWAY_TIMEOUT, "unavailable", 1).await;
    assert!(html.contains("met trop de temps à répondre"), "{html}");
}

async fn an_upstream_that_never_answers_times_out(backend: Backend) {
    // Connections are taken (the kernel completes the handshake) and never answered: the
    // discovery document, the first call, waits only `upstream.timeout_seconds`.
    let silent = crate::outgoing_timeouts::SilentServer::start();
    let Some(app) = app_with_upstream(backend, &silent.url("")).await else { return };
    seed(&app);
    let helper = sign_in(&app).await;
    let draft = helper.new_draft(&app.db.store);
    let started = std::time::Instant::now();
    let start = tokio::time::timeout(std::time::Duration::from_secs(20), helper.start(&draft))
        .await
        .expect("an answer, not a hang");
    assert!(started.elapsed() < std::time::Duration::from_millis(2900), "given up after upstream.timeout_seconds");
    let html =
        assert_failed_cleanly(&app, &helper, Some(&draft), start, StatusCode::GATEWAY_TIMEOUT, "unavailable", 1).await;
    assert!(html.contains("met trop de temps à répondre"), "{html}");
}

async fn a_malformed_identity_is_refused(backend: Backend) {
    let Some((app, _mock)) = against(backend, Conduct::SendsAMalformedIdentity).await else { return };
    let helper = sign_in(&app).await;
    let draft = helper.new_draft(&app.db.store);
    let back = helper.through_upstream(&draft).await;
    assert_failed_cleanly(&app, &helper, Some(&draft), back, StatusCode::BAD_GATEWAY, "invalid_identity", 1).await;
}

async fn missing_or_unknown_state_is_refused(backend: Backend) {
    let Some((app, _mock)) = against(backend, Conduct::Honest).await else { return };
    let helper = sign_in(&app).await;
    let draft = helper.new_draft(&app.db.store);
    let started = helper.start(&draft).await;
    assert_eq!(started.status(), 303);

    let missing = helper.robot.get(&format!("{CALLBACK}?code=code-0")).await;
    assert_failed_cleanly(&app, &helper, None, missing, StatusCode::BAD_REQUEST, "state_mismatch", 1).await;

    let wrong = helper.robot.get(&format!("{CALLBACK}?code=code-0&state=not-the-one-sent")).await;
    let html = assert_failed_cleanly(&app, &helper, None, wrong, StatusCode::BAD_REQUEST, "state_mismatch", 2).await;
    assert!(html.contains("ne correspond à aucune vérification en cours"), "{html}");
    assert_eq!(helper.draft_usager(&app.db.store, &draft), None);

    // In English once the helper chose it.
    assert_eq!(helper.robot.get("/langue/en?retour=/espace-aidant").await.status(), 303);
    let english = helper.robot.get(&format!("{CALLBACK}?code=code-0&state=another")).await;
    assert_eq!(english.status(), 400);
    let html = unescape(&english.text().await.unwrap());
    assert!(html.contains("<html lang=\"en\">") && html.contains("The identity check did not succeed"), "{html}");
    assert!(html.contains("Nothing was recorded.") && html.contains(">Try again</a>"), "{html}");
}

async fn without_an_upstream_the_page_says_to_configure_it(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    seed(&app);
    let helper = sign_in(&app).await;
    let draft = helper.new_draft(&app.db.store);
    let start = helper.start(&draft).await;
    assert_eq!(start.status(), 503);
    let html = unescape(&start.text().await.unwrap());
    assert!(html.contains("[upstream]") && html.contains("n'est pas configurée"), "{html}");
}

async fn a_draft_of_another_session_or_without_duration_is_refused(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| s.demo.enabled = true).await else { return };
    seed(&app);
    let helper = sign_in(&app).await;
    let other = sign_in_after(&app, helper.robot.last_totp_step).await;
    let theirs = other.new_draft(&app.db.store);
    let refused = helper.start(&theirs).await;
    assert_eq!(refused.status(), 400);
    assert!(unescape(&refused.text().await.unwrap()).contains("n'existe plus"));

    let mut conn = app.db.store.conn().unwrap();
    let undecided = mandate_drafts::create(
        &mut conn,
        &helper.sid,
        &helper.aidant_id,
        &helper.organisation_id,
        vec![Demarche::Papiers],
        now(),
    )
    .unwrap();
    let refused = helper.start(&undecided.id).await;
    assert_eq!(refused.status(), 400);
    let html = refused.text().await.unwrap();
    assert!(
        html.contains(&format!("href=\"/espace-aidant/mandats/nouveau/duree?brouillon={}\"", undecided.id)),
        "{html}"
    );

    // Without its CSRF token, the form is refused before anything else.
    let forged = helper.robot.post_form(START, &[("brouillon", &undecided.id)]).await;
    assert_eq!(forged.status(), 403);
}

#[test]
fn an_unreadable_client_secret_file_stops_start_as_a_configuration_error() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}/idp.db", dir.path().display());
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_idp"));
    let output = command
        .args(["serve"])
        .env_remove("IDP_CONFIG")
        .env("IDP__DATABASE__URL", &database)
        .env("IDP__UPSTREAM__ISSUER", "https://fc.example.fr")
        .env("IDP__UPSTREAM__CLIENT_ID", "abc")
        .env("IDP__UPSTREAM__CLIENT_SECRET_FILE", dir.path().join("missing-secret"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(i32::from(idp::cli::exit::CONFIGURATION)));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("`upstream.client_secret_file`") && stderr.contains("missing-secret"), "{stderr}");
}
