//! The usager's own space, driven as the usager and the services drive it: signing in through
//! the demo upstream provider, the mandates and the accesses made under them, revoking one
//! démarche or the whole mandate (then refused at the token, userinfo and introspection
//! endpoints), another usager's mandate, forms without their CSRF token, a person with no
//! mandate, signing out; and what the journal keeps (no helper, `by: usager`). On SQLite and
//! PostgreSQL.

use diesel::prelude::*;
use idp::admin::demo::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};
use mandate_store::journal::{self, JournalAction, JournalEntry};
use mandate_store::schema::usager_sessions;
use mandate_store::usagers::{self, NewUsager};
use mandate_store::{mandates, now, Backend};
use serde_json::{json, Value};

use crate::helpers::TestApp;
use crate::robot::{location, query_params, seed, Demo, Robot, CALLBACK};
use crate::upstream::unescape;

crate::on_both_backends!(
    the_usager_signs_in_through_the_demo_upstream_and_sees_mandates_and_accesses,
    revoking_a_demarche_stops_it_at_once_and_leaves_the_others,
    revoking_the_whole_mandate_stops_every_demarche,
    another_usagers_mandate_is_not_found_and_nothing_changes,
    a_form_without_its_csrf_token_is_refused,
    someone_with_no_mandate_sees_a_plain_page_and_nothing_is_created,
    signing_out_or_idling_ends_the_session,
    an_answer_that_matches_no_sign_in_of_this_browser_is_refused,
);

/// Angela DUBOIS in the demo data: her subject at the demo upstream provider.
const ANGELA: &str = "demo-usager-1";
const JOAO: &str = "demo-usager-2";

/// A person at their own browser, in their space.
struct Usager<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
}

/// The hidden inputs of a page, unescaped (the demo upstream provider's citizen page).
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

/// The value of the CSRF field on a page.
fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker).expect("a CSRF token on the page") + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

impl<'a> Usager<'a> {
    fn new(app: &'a TestApp) -> Usager<'a> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .pool_max_idle_per_host(0)
            .build()
            .unwrap();
        Usager { app, client }
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        let url = if path.starts_with('/') { self.app.url(path) } else { path.to_owned() };
        self.client.get(url).send().await.unwrap()
    }

    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.client.post(self.app.url(path)).form(fields).send().await.unwrap()
    }

    /// Presses "S'identifier avec FranceConnect", picks `subject` at the demo upstream provider,
    /// and returns our callback's answer.
    async fn through_demo_upstream(&self, subject: &str) -> reqwest::Response {
        let start = self.post("/espace-usager/connexion", &[]).await;
        assert_eq!(start.status(), 303, "sent to the provider");
        let authorize = location(&start);
        assert!(authorize.starts_with(&self.app.url("/demo-upstream/authorize?")), "{authorize}");
        let params = query_params(&authorize);
        assert_eq!(params["redirect_uri"], self.app.url("/espace-usager/retour"), "the space's own redirect URI");
        let page = self.get(&authorize).await.text().await.unwrap();
        let mut fields = hidden_fields(&page);
        fields.push(("choice".into(), subject.into()));
        let decided =
            self.client.post(self.app.url("/demo-upstream/authorize/decision")).form(&fields).send().await.unwrap();
        assert_eq!(decided.status(), 303);
        let back = location(&decided);
        assert!(back.starts_with(&self.app.url("/espace-usager/retour?")), "{back}");
        self.get(&back).await
    }

    /// Signs in as `subject` and returns the space's page.
    async fn sign_in(&self, subject: &str) -> String {
        let back = self.through_demo_upstream(subject).await;
        assert_eq!(back.status(), 303, "signed in");
        assert_eq!(location(&back), "/espace-usager");
        let page = self.get("/espace-usager").await;
        assert_eq!(page.status(), 200);
        unescape(&page.text().await.unwrap())
    }
}

/// A helper (the demo helper) signed in, who used the demo service for `usager` and `demarche`:
/// the tokens the service received.
async fn access(robot: &mut Robot<'_>, usager: &str, demarche: &str) -> Value {
    let code = code_for(robot, usager, demarche).await;
    let response = robot.exchange_demo_code(&code).await;
    assert_eq!(response.status(), 200, "the service gets its tokens");
    response.json().await.unwrap()
}

/// An authorization code the demo service received for `usager` and `demarche`, not exchanged.
async fn code_for(robot: &mut Robot<'_>, usager: &str, demarche: &str) -> String {
    let params = [
        ("client_id", DEMO_CLIENT_ID),
        ("redirect_uri", CALLBACK),
        ("response_type", "code"),
        ("scope", "openid profile"),
        ("state", "s"),
        ("nonce", "n"),
    ];
    let first = robot.authorize(&params).await;
    let callback = robot.complete(first, usager, demarche).await;
    query_params(&callback)["code"].clone()
}

async fn userinfo_status(app: &TestApp, tokens: &Value) -> u16 {
    let client = reqwest::Client::new();
    let access = tokens["access_token"].as_str().unwrap();
    client.get(app.url("/userinfo")).bearer_auth(access).send().await.unwrap().status().as_u16()
}

async fn introspected_active(app: &TestApp, tokens: &Value) -> bool {
    let client = reqwest::Client::new();
    let answer: Value = client
        .post(app.url("/introspect"))
        .basic_auth(DEMO_CLIENT_ID, Some(DEMO_CLIENT_SECRET))
        .form(&[("token", tokens["access_token"].as_str().unwrap())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["active"] == true
}

fn entries(app: &TestApp, action: JournalAction) -> Vec<JournalEntry> {
    let mut conn = app.db.store.conn().unwrap();
    journal::recent(&mut conn, Some(action), 50).unwrap()
}

/// The authorisation id of `demarche` in the usager's live mandate.
fn authorisation_of(app: &TestApp, demo: &Demo, usager: usize, demarche: &str) -> (String, String) {
    let mut conn = app.db.store.conn().unwrap();
    let organisation = demo.seed["organisation"]["id"].as_str().unwrap();
    let live = mandates::live_authorisations(&mut conn, organisation, &demo.usager_id(usager), now()).unwrap();
    let found = live.iter().find(|l| l.demarche.key() == demarche).expect("a live authorisation");
    (found.authorisation_id.clone(), found.mandate_id.clone())
}

/// The entry is the usager's own doing: no helper, `by: usager`, ids only.
fn assert_by_usager(entry: &JournalEntry, usager_id: &str) {
    assert_eq!(entry.aidant_id, None, "no helper took part");
    assert_eq!(entry.usager_id.as_deref(), Some(usager_id));
    assert_eq!(entry.details.as_ref().unwrap().value()["by"], json!("usager"));
    let written = entry.details.as_ref().unwrap().as_str();
    for personal in ["Angela", "DUBOIS", "1962", "angela.dubois"] {
        assert!(!written.contains(personal), "personal data in the journal: {written}");
    }
}

async fn the_usager_signs_in_through_the_demo_upstream_and_sees_mandates_and_accesses(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| s.demo.enabled = true).await else { return };
    let demo = seed(&app);
    let mut robot = Robot::new(&app);
    access(&mut robot, &demo.usager_id(0), "logement").await;
    access(&mut robot, &demo.usager_id(0), "argent").await;

    // Before signing in: the page explains the space and offers the sign-in.
    let usager = Usager::new(&app);
    let anonymous = usager.get("/espace-usager").await;
    assert_eq!(anonymous.status(), 200);
    let anonymous = unescape(&anonymous.text().await.unwrap());
    assert!(anonymous.contains("S'identifier avec FranceConnect"), "{anonymous}");
    assert!(!anonymous.contains("Camille"), "nothing of anyone before signing in");

    let back = usager.through_demo_upstream(ANGELA).await;
    assert_eq!(back.status(), 303);
    let cookie = back.headers().get("set-cookie").unwrap().to_str().unwrap().to_owned();
    for attribute in ["idp_usager_session=", "HttpOnly", "SameSite=Lax", "Path=/espace-usager"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    let page = usager.get("/espace-usager").await;
    assert_eq!(page.status(), 200);
    let page = unescape(&page.text().await.unwrap());
    assert!(page.contains("Angela Claire Louise DUBOIS"), "who is signed in");
    assert!(page.contains("<h2 id=\"structure-"), "one section per organisation");
    assert!(page.contains("France Services Démo"), "the organisation's name");
    for demarche in ["Argent - Impôts - Consommation", "Logement", "Social - Santé"] {
        assert!(page.contains(demarche), "démarche {demarche}: {page}");
    }
    assert!(page.contains("en cours"), "the state of each démarche");
    // The two accesses, newest first: service, démarche, the helper's first name only.
    let accesses = page.split("Chaque fois qu'un aidant a utilisé ce mandat").nth(1).expect("an access table");
    assert_eq!(accesses.matches("Service de démonstration").count(), 2, "{accesses}");
    assert!(accesses.contains("Camille") && !accesses.contains("Martin"), "the helper's first name only");
    let argent = accesses.find("Argent").unwrap();
    let logement = accesses.find("Logement").unwrap();
    assert!(argent < logement, "the newest access first");
    assert!(page.contains("à l'heure de Paris"), "times said to be Paris time");

    let signed_in = entries(&app, JournalAction::UsagerSignedIn);
    assert_eq!(signed_in.len(), 1);
    assert_eq!(signed_in[0].usager_id.as_deref(), Some(demo.usager_id(0).as_str()));
    assert_eq!(signed_in[0].aidant_id, None);
    assert_eq!(signed_in[0].details, None, "the usager's id only");

    // The attestation of the mandate, as the helper printed it, journalled without a helper.
    let (_, mandate_id) = authorisation_of(&app, &demo, 0, "logement");
    let attestation = usager.get(&format!("/espace-usager/mandats/{mandate_id}/attestation")).await;
    assert_eq!(attestation.status(), 200);
    let attestation = attestation.text().await.unwrap();
    let hash = {
        let mut conn = app.db.store.conn().unwrap();
        mandates::find(&mut conn, &mandate_id).unwrap().mandate.attestation_hash.unwrap()
    };
    assert!(attestation.contains(&hash) && attestation.contains("<svg"), "the hash and its QR code");
    assert!(attestation.contains("Imprimer"));
    let shown = entries(&app, JournalAction::AttestationPrinted);
    assert_eq!(shown.len(), 1);
    assert_by_usager(&shown[0], &demo.usager_id(0));
    assert_eq!(shown[0].mandate_id.as_deref(), Some(mandate_id.as_str()));
}

async fn revoking_a_demarche_stops_it_at_once_and_leaves_the_others(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| s.demo.enabled = true).await else { return };
    let demo = seed(&app);
    let mut robot = Robot::new(&app);
    let logement_tokens = access(&mut robot, &demo.usager_id(0), "logement").await;
    let argent_tokens = access(&mut robot, &demo.usager_id(0), "argent").await;
    // A code the service has not exchanged yet when the usager revokes.
    let pending_code = code_for(&mut robot, &demo.usager_id(0), "logement").await;
    assert!(introspected_active(&app, &logement_tokens).await);

    let usager = Usager::new(&app);
    usager.sign_in(ANGELA).await;
    let (authorisation, mandate_id) = authorisation_of(&app, &demo, 0, "logement");
    // The confirmation step says what stops, and nothing is revoked by reading it.
    let confirm = usager.get(&format!("/espace-usager/autorisations/{authorisation}/revocation")).await;
    assert_eq!(confirm.status(), 200);
    let confirm = unescape(&confirm.text().await.unwrap());
    assert!(confirm.contains("Révoquer la démarche « Logement » ?"), "{confirm}");
    assert!(confirm.contains("Les autres démarches de ce mandat restent valables."));
    assert_eq!(userinfo_status(&app, &logement_tokens).await, 200, "still in force before confirming");
    let revoked = usager
        .post(
            &format!("/espace-usager/autorisations/{authorisation}/revocation"),
            &[("csrf_token", &csrf_of(&confirm))],
        )
        .await;
    assert_eq!(revoked.status(), 303);
    assert_eq!(location(&revoked), "/espace-usager?notice=demarche-revoquee");

    // At once: userinfo, introspection and the token endpoint refuse logement…
    assert_eq!(userinfo_status(&app, &logement_tokens).await, 401);
    assert!(!introspected_active(&app, &logement_tokens).await);
    let refused = robot.exchange_demo_code(&pending_code).await;
    assert_eq!(refused.status(), 400);
    assert_eq!(refused.json::<Value>().await.unwrap()["error"], "invalid_grant");
    // …while the mandate's other démarches still work, old tokens and new.
    assert_eq!(userinfo_status(&app, &argent_tokens).await, 200);
    assert!(introspected_active(&app, &argent_tokens).await);
    let social = access(&mut robot, &demo.usager_id(0), "social").await;
    assert_eq!(userinfo_status(&app, &social).await, 200);

    let page = unescape(&usager.get(&location(&revoked)).await.text().await.unwrap());
    assert!(page.contains("La démarche est révoquée"), "the notice");
    assert!(page.contains("révoquée par vous le"), "{page}");
    let stored = {
        let mut conn = app.db.store.conn().unwrap();
        mandates::find(&mut conn, &mandate_id).unwrap()
    };
    let row = stored.authorisations.iter().find(|a| a.id == authorisation).unwrap();
    assert!(row.revoked_at.is_some() && row.revoked_by_usager && row.revoked_by_aidant_id.is_none());
    assert!(stored.mandate.revoked_at.is_none(), "the mandate itself stays");
    let journalled = entries(&app, JournalAction::AuthorisationRevoked);
    assert_eq!(journalled.len(), 1);
    assert_by_usager(&journalled[0], &demo.usager_id(0));
    assert_eq!(journalled[0].authorisation_id.as_deref(), Some(authorisation.as_str()));
    assert_eq!(journalled[0].demarche.map(|d| d.key()), Some("logement"));

    // The organisation's helpers read, on the usager's page, that the usager revoked it.
    let helper_page = robot.get(&format!("/espace-aidant/usagers/{}", demo.usager_id(0))).await;
    assert_eq!(helper_page.status(), 200);
    let helper_page = unescape(&helper_page.text().await.unwrap());
    assert!(helper_page.contains("révoquée par la personne elle-même, depuis son espace, le"), "{helper_page}");

    // Sent again, the form changes nothing more.
    let again = usager
        .post(&format!("/espace-usager/autorisations/{authorisation}/revocation"), &[("csrf_token", &csrf_of(&page))])
        .await;
    assert_eq!(location(&again), "/espace-usager?notice=deja-revoque");
    assert_eq!(entries(&app, JournalAction::AuthorisationRevoked).len(), 1);
}

async fn revoking_the_whole_mandate_stops_every_demarche(backend: Backend) {
    let Some((app, state)) = TestApp::spawn_with_state(backend, |s| s.demo.enabled = true).await else { return };
    let demo = seed(&app);
    let mut robot = Robot::new(&app);
    let argent_tokens = access(&mut robot, &demo.usager_id(0), "argent").await;
    let usager = Usager::new(&app);
    let page = usager.sign_in(ANGELA).await;
    let (_, mandate_id) = authorisation_of(&app, &demo, 0, "social");
    assert!(page.contains(&format!("/espace-usager/mandats/{mandate_id}/revocation")), "the way to revoke it");
    let confirm =
        unescape(&usager.get(&format!("/espace-usager/mandats/{mandate_id}/revocation")).await.text().await.unwrap());
    assert!(confirm.contains("Révoquer tout le mandat donné à France Services Démo ?"), "{confirm}");
    let revoked = usager
        .post(&format!("/espace-usager/mandats/{mandate_id}/revocation"), &[("csrf_token", &csrf_of(&confirm))])
        .await;
    assert_eq!(location(&revoked), "/espace-usager?notice=mandat-revoque");
    assert_eq!(state.metrics.mandates_revoked.with_label_values(&["usager"]).get(), 1);

    assert_eq!(userinfo_status(&app, &argent_tokens).await, 401);
    assert!(!introspected_active(&app, &argent_tokens).await);
    let mut conn = app.db.store.conn().unwrap();
    let organisation = demo.seed["organisation"]["id"].as_str().unwrap();
    assert!(mandates::live_authorisations(&mut conn, organisation, &demo.usager_id(0), now()).unwrap().is_empty());
    let stored = mandates::find(&mut conn, &mandate_id).unwrap();
    assert!(stored.mandate.revoked_by_usager && stored.mandate.revoked_by_aidant_id.is_none());
    assert!(stored.authorisations.iter().all(|a| a.revoked_at.is_some() && a.revoked_by_usager));
    drop(conn);
    let journalled = entries(&app, JournalAction::MandateRevoked);
    assert_eq!(journalled.len(), 1);
    assert_by_usager(&journalled[0], &demo.usager_id(0));
    assert_eq!(journalled[0].mandate_id.as_deref(), Some(mandate_id.as_str()));

    let page = unescape(&usager.get("/espace-usager").await.text().await.unwrap());
    assert!(page.contains("révoqué par vous le"), "{page}");
    assert!(!page.contains(&format!("/espace-usager/mandats/{mandate_id}/revocation")), "nothing left to revoke");
    // The helper's delegation no longer offers Angela.
    let helper_page =
        unescape(&robot.get(&format!("/espace-aidant/usagers/{}", demo.usager_id(0))).await.text().await.unwrap());
    assert!(helper_page.contains("révoqué par la personne elle-même, depuis son espace, le"), "{helper_page}");
}

async fn another_usagers_mandate_is_not_found_and_nothing_changes(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| s.demo.enabled = true).await else { return };
    let demo = seed(&app);
    // João signs in and tries Angela's mandate and démarche.
    let joao = Usager::new(&app);
    let page = joao.sign_in(JOAO).await;
    assert!(page.contains("João SILVA") && !page.contains("Angela"), "João sees his own only");
    let csrf = csrf_of(&page);
    let (authorisation, mandate_id) = authorisation_of(&app, &demo, 0, "logement");
    for path in [
        format!("/espace-usager/mandats/{mandate_id}/revocation"),
        format!("/espace-usager/autorisations/{authorisation}/revocation"),
        format!("/espace-usager/mandats/{mandate_id}/attestation"),
        "/espace-usager/mandats/no-such-mandate/revocation".to_owned(),
    ] {
        let shown = joao.get(&path).await;
        assert_eq!(shown.status(), 404, "{path}");
        let html = unescape(&shown.text().await.unwrap());
        assert!(html.contains("Ce mandat n'existe pas, ou il n'est pas à votre nom.") && !html.contains("Angela"));
    }
    for path in [
        format!("/espace-usager/mandats/{mandate_id}/revocation"),
        format!("/espace-usager/autorisations/{authorisation}/revocation"),
    ] {
        assert_eq!(joao.post(&path, &[("csrf_token", &csrf)]).await.status(), 404, "{path}");
    }
    let mut conn = app.db.store.conn().unwrap();
    let stored = mandates::find(&mut conn, &mandate_id).unwrap();
    assert!(stored.mandate.revoked_at.is_none() && stored.authorisations.iter().all(|a| a.revoked_at.is_none()));
    assert!(entries(&app, JournalAction::MandateRevoked).is_empty());
    assert!(entries(&app, JournalAction::AuthorisationRevoked).is_empty());
    assert!(entries(&app, JournalAction::AttestationPrinted).is_empty());
}

async fn a_form_without_its_csrf_token_is_refused(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| s.demo.enabled = true).await else { return };
    let demo = seed(&app);
    let usager = Usager::new(&app);
    usager.sign_in(ANGELA).await;
    let (authorisation, mandate_id) = authorisation_of(&app, &demo, 0, "logement");
    for fields in [vec![], vec![("csrf_token", "forged")]] {
        let refused = usager.post(&format!("/espace-usager/autorisations/{authorisation}/revocation"), &fields).await;
        assert_eq!(refused.status(), 403);
        let refused = usager.post(&format!("/espace-usager/mandats/{mandate_id}/revocation"), &fields).await;
        assert_eq!(refused.status(), 403);
        assert_eq!(usager.post("/espace-usager/deconnexion", &fields).await.status(), 403);
    }
    // A helper's token is not the usager's.
    let mut conn = app.db.store.conn().unwrap();
    let stored = mandates::find(&mut conn, &mandate_id).unwrap();
    assert!(stored.mandate.revoked_at.is_none() && stored.authorisations.iter().all(|a| a.revoked_at.is_none()));
    assert_eq!(usager.get("/espace-usager").await.status(), 200, "still signed in");
    // Without a session, a form is sent to sign in, and nothing changes either.
    let stranger = Usager::new(&app);
    let sent = stranger.post(&format!("/espace-usager/mandats/{mandate_id}/revocation"), &[("csrf_token", "x")]).await;
    assert_eq!(sent.status(), 303);
    assert_eq!(location(&sent), "/espace-usager");
    assert!(mandates::find(&mut conn, &mandate_id).unwrap().mandate.revoked_at.is_none());
}

async fn someone_with_no_mandate_sees_a_plain_page_and_nothing_is_created(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| s.demo.enabled = true).await else { return };
    seed(&app);
    // Fatoumata is known here (an operator added her) but holds no mandate.
    {
        let mut conn = app.db.store.conn().unwrap();
        usagers::create(
            &mut conn,
            NewUsager {
                given_name: "Fatoumata".into(),
                family_name: "DIALLO".into(),
                birthdate: "1983-06-15".into(),
                gender: "female".into(),
                birthcountry: "99341".into(),
                email: "fatoumata.diallo@example.fr".into(),
                upstream_issuer: app.url("/demo-upstream"),
                upstream_subject: "demo-usager-4".into(),
                ..Default::default()
            },
            now(),
        )
        .unwrap();
    }
    let count = || {
        let mut conn = app.db.store.conn().unwrap();
        usagers::list(&mut conn, None).unwrap().len()
    };
    let before = count();
    // Lucie is unknown here.
    for subject in ["demo-usager-3", "demo-usager-4"] {
        let person = Usager::new(&app);
        let answer = person.through_demo_upstream(subject).await;
        assert_eq!(answer.status(), 200, "a page, not an error");
        let html = unescape(&answer.text().await.unwrap());
        assert!(html.contains("Aucun mandat n'est enregistré à votre nom"), "{html}");
        let next = person.get("/espace-usager").await.text().await.unwrap();
        assert!(next.contains("S'identifier avec FranceConnect"), "not signed in");
    }
    assert_eq!(count(), before, "nobody is created here");
    assert!(entries(&app, JournalAction::UsagerSignedIn).is_empty());
}

async fn signing_out_or_idling_ends_the_session(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| s.demo.enabled = true).await else { return };
    let demo = seed(&app);
    let usager = Usager::new(&app);
    let page = usager.sign_in(ANGELA).await;
    let (_, mandate_id) = authorisation_of(&app, &demo, 0, "logement");
    let out = usager.post("/espace-usager/deconnexion", &[("csrf_token", &csrf_of(&page))]).await;
    assert_eq!(out.status(), 303);
    assert_eq!(location(&out), "/espace-usager?notice=deconnecte");
    let removal = out.headers().get("set-cookie").unwrap().to_str().unwrap().to_owned();
    assert!(removal.contains("idp_usager_session=;") || removal.contains("Max-Age=0"), "{removal}");
    let after = unescape(&usager.get("/espace-usager?notice=deconnecte").await.text().await.unwrap());
    assert!(after.contains("Vous êtes déconnecté(e)") && after.contains("S'identifier avec FranceConnect"));
    assert!(!after.contains("Angela"));
    let confirm = usager.get(&format!("/espace-usager/mandats/{mandate_id}/revocation")).await;
    assert_eq!((confirm.status().as_u16(), location(&confirm)), (303, "/espace-usager".to_owned()));

    // Signed in again, then 31 minutes without a request: signed out.
    let again = Usager::new(&app);
    again.sign_in(ANGELA).await;
    {
        let mut conn = app.db.store.conn().unwrap();
        let idle = now() - chrono::Duration::minutes(31);
        diesel::update(usager_sessions::table.filter(usager_sessions::usager_id.is_not_null()))
            .set(usager_sessions::last_seen_at.eq(idle))
            .execute(&mut conn)
            .unwrap();
    }
    let idled = unescape(&again.get("/espace-usager").await.text().await.unwrap());
    assert!(idled.contains("S'identifier avec FranceConnect") && !idled.contains("Angela"), "{idled}");
}

async fn an_answer_that_matches_no_sign_in_of_this_browser_is_refused(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| s.demo.enabled = true).await else { return };
    let demo = seed(&app);
    // The provider's answer opened in another browser (no pending session there).
    let usager = Usager::new(&app);
    let start = usager.post("/espace-usager/connexion", &[]).await;
    let page = usager.get(&location(&start)).await.text().await.unwrap();
    let mut fields = hidden_fields(&page);
    fields.push(("choice".into(), ANGELA.into()));
    let decided = usager.client.post(app.url("/demo-upstream/authorize/decision")).form(&fields).send().await.unwrap();
    let elsewhere = Usager::new(&app);
    let answer = elsewhere.get(&location(&decided)).await;
    assert_eq!(answer.status(), 400);
    let html = unescape(&answer.text().await.unwrap());
    assert!(html.contains("La connexion n'a pas abouti") && html.contains("Rien n'a été enregistré."), "{html}");
    assert!(html.contains("href=\"/espace-usager\""), "a way to try again");
    let failures = entries(&app, JournalAction::UpstreamLoginFailed);
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].details.as_ref().unwrap().value(), &json!({"reason": "state_mismatch", "by": "usager"}));
    // In the browser that began it, the same answer still signs in (the state was not spent).
    let back = usager.get(&location(&decided)).await;
    assert_eq!((back.status().as_u16(), location(&back)), (303, "/espace-usager".to_owned()));
    // And once used, it never works again.
    let replayed = usager.get(&location(&decided)).await;
    assert_eq!(replayed.status(), 400);
    assert_eq!(entries(&app, JournalAction::UsagerSignedIn)[0].usager_id.as_deref(), Some(demo.usager_id(0).as_str()));
}
