//! A helper account's life over HTTP and through `idp`: enrolling through a one-time link
//! (password strength, authenticator QR code, first code), signing in with an app or a card,
//! changing one's password from `/mon-compte`. On SQLite and PostgreSQL.

use chrono::Duration;
use idp::admin::demo::{DEMO_EMAIL, DEMO_PASSWORD};
use mandate_store::aidants::{self, NewPendingAidant};
use mandate_store::journal::{self, JournalAction};
use mandate_store::{cards, enrolment, now, second_factors, Backend, Email};
use serde_json::Value;

use crate::helpers::{idp, stderr, stdout, TestApp};
use crate::robot::{input_value, location, seed, Robot};

crate::on_both_backends!(
    a_new_helper_enrols_through_the_link_and_signs_in,
    an_expired_used_or_unknown_link_says_to_ask_for_a_new_one,
    a_helper_whose_codes_were_reset_only_enrols_the_app,
    a_code_from_an_assigned_card_signs_in,
    changing_ones_password_ends_the_other_sessions,
    pending_helpers_and_cards_from_the_command_line,
);

const EMAIL: &str = "sacha.bernard@france-services.example.fr";
const STRONG: &str = "velo orange piano nuage";
const CARD_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

fn unix_now() -> u64 {
    chrono::Utc::now().timestamp() as u64
}

/// A helper added by a manager of the demo organisation, and their enrolment link's token.
fn pending_helper(app: &TestApp) -> (String, String) {
    let demo = seed(app);
    let mut conn = app.db.store.conn().unwrap();
    let organisation_id = demo.seed["organisation"]["id"].as_str().unwrap().to_owned();
    let aidant = aidants::create_pending(
        &mut conn,
        NewPendingAidant {
            email: Email::parse(EMAIL).unwrap(),
            given_name: "Sacha".into(),
            family_name: "Bernard".into(),
            profession: "Agent d'accueil".into(),
            organisation_id: organisation_id.clone(),
        },
        Some(&demo.aidant_id()),
        now(),
    )
    .unwrap();
    let link = enrolment::issue(&mut conn, &aidant.id, Some(&demo.aidant_id()), Some(&organisation_id), now()).unwrap();
    (aidant.id, link.token)
}

/// The secret the authenticator page shows in groups of four.
fn shown_secret(html: &str) -> String {
    let start = html.find("<code>").expect("the secret in a <code>") + "<code>".len();
    let end = html[start..].find("</code>").unwrap() + start;
    html[start..end].split_whitespace().collect()
}

/// Signs in with the password and a code; returns the code step's response status and target.
async fn sign_in(robot: &Robot<'_>, email: &str, password: &str, code: &str) -> (u16, String) {
    let page = robot.get("/login").await.text().await.unwrap();
    let csrf = input_value(&page, "csrf_token").unwrap();
    let response = robot
        .post_form("/login", &[("csrf_token", &csrf), ("request", ""), ("email", email), ("password", password)])
        .await;
    assert_eq!(response.status(), 303, "password accepted");
    let page = robot.get(&location(&response)).await.text().await.unwrap();
    let csrf = input_value(&page, "csrf_token").unwrap();
    let response = robot.post_form("/login/otp", &[("csrf_token", &csrf), ("request", ""), ("otp", code)]).await;
    (response.status().as_u16(), location(&response))
}

async fn a_new_helper_enrols_through_the_link_and_signs_in(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (aidant_id, token) = pending_helper(&app);
    let robot = Robot::new(&app);
    let path = format!("/inscription/{token}");

    let page = robot.get(&path).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Choisissez votre mot de passe") && html.contains("Sacha"), "{html}");
    let csrf = input_value(&html, "csrf_token").unwrap();

    // A weak password is refused with a reason, as is a confirmation that differs.
    let weak = robot
        .post_form(&path, &[("csrf_token", &csrf), ("password", "motdepasse123"), ("confirmation", "motdepasse123")])
        .await;
    assert_eq!(weak.status(), 422);
    let html = weak.text().await.unwrap();
    assert!(html.contains("pas assez sûr"), "{html}");
    let own_name = robot
        .post_form(
            &path,
            &[("csrf_token", &csrf), ("password", "sachabernard2026"), ("confirmation", "sachabernard2026")],
        )
        .await;
    assert_eq!(own_name.status(), 422, "the helper's own name is easy to guess");
    let differ = robot
        .post_form(&path, &[("csrf_token", &csrf), ("password", STRONG), ("confirmation", "velo orange piano")])
        .await;
    assert_eq!(differ.status(), 422);
    assert!(differ.text().await.unwrap().contains("pas identiques"));
    assert!(enrolment::needs_password(&aidants::find(&mut app.db.store.conn().unwrap(), &aidant_id).unwrap()));

    let strong = robot.post_form(&path, &[("csrf_token", &csrf), ("password", STRONG), ("confirmation", STRONG)]).await;
    assert_eq!(strong.status(), 303);
    assert_eq!(location(&strong), path);

    // The authenticator step: a QR code of the otpauth URI, and the secret to type.
    let page = robot.get(&path).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("<svg class=\"enrolment-qr\" role=\"img\" aria-label="), "{html}");
    let secret = shown_secret(&html);
    assert_eq!(secret.len(), 32, "{secret}");
    assert!(!second_factors::has_confirmed(&mut app.db.store.conn().unwrap(), &aidant_id).unwrap());
    let csrf = input_value(&html, "csrf_token").unwrap();
    let code_path = format!("{path}/code");

    let wrong = robot.post_form(&code_path, &[("csrf_token", &csrf), ("otp", "000000")]).await;
    assert_eq!(wrong.status(), 422);
    let html = wrong.text().await.unwrap();
    assert!(html.contains("ne correspond pas"));
    assert_eq!(shown_secret(&html), secret, "the same secret until confirmed");

    let first = idp::totp::code_at(&secret, 30, unix_now()).unwrap();
    let done = robot.post_form(&code_path, &[("csrf_token", &csrf), ("otp", &first)]).await;
    assert_eq!(done.status(), 200);
    assert!(done.text().await.unwrap().contains("Votre compte est prêt"));
    {
        let mut conn = app.db.store.conn().unwrap();
        assert!(second_factors::has_confirmed(&mut conn, &aidant_id).unwrap());
        let entry = journal::recent(&mut conn, Some(JournalAction::EnrolmentCompleted), 1).unwrap().pop().unwrap();
        assert_eq!(entry.aidant_id.as_deref(), Some(aidant_id.as_str()));
        assert!(!entry.details.map(|d| d.as_str().to_owned()).unwrap_or_default().contains(&secret));
    }

    // The link is spent.
    let again = robot.get(&path).await;
    assert_eq!(again.status(), 410);
    assert!(again.text().await.unwrap().contains("déjà servi"));

    // The first code worked once; the next step's code signs in.
    let signer = Robot::new(&app);
    let next = idp::totp::code_at(&secret, 30, unix_now() + 30).unwrap();
    let (status, target) = sign_in(&signer, EMAIL, STRONG, &next).await;
    assert_eq!((status, target.as_str()), (303, "/"), "signed in");
    let signed_in = aidants::find(&mut app.db.store.conn().unwrap(), &aidant_id).unwrap();
    assert!(signed_in.last_sign_in_at.is_some(), "the sign-in is recorded");
}

async fn an_expired_used_or_unknown_link_says_to_ask_for_a_new_one(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (aidant_id, first) = pending_helper(&app);
    let robot = Robot::new(&app);

    let unknown = robot.get("/inscription/0123456789abcdef").await;
    assert_eq!(unknown.status(), 404);
    let html = unknown.text().await.unwrap();
    assert!(html.contains("existe pas") && html.contains("Demandez un nouveau lien au référent"), "{html}");

    // A newer link supersedes the first.
    let second = enrolment::issue(&mut app.db.store.conn().unwrap(), &aidant_id, None, None, now()).unwrap();
    let superseded = robot.get(&format!("/inscription/{first}")).await;
    assert_eq!(superseded.status(), 410);
    let html = superseded.text().await.unwrap();
    assert!(html.contains("a expiré") && html.contains("Demandez un nouveau lien"), "{html}");
    assert_eq!(robot.get(&format!("/inscription/{}", second.token)).await.status(), 200);

    // Past 72 hours (the form is the valid link's, sent to the old one).
    let html = robot.get(&format!("/inscription/{}", second.token)).await.text().await.unwrap();
    let csrf = input_value(&html, "csrf_token").unwrap();
    let old = enrolment::issue(&mut app.db.store.conn().unwrap(), &aidant_id, None, None, now() - Duration::hours(73))
        .unwrap();
    assert_eq!(robot.get(&format!("/inscription/{}", old.token)).await.status(), 410);
    let fields = [("csrf_token", csrf.as_str()), ("password", STRONG), ("confirmation", STRONG)];
    let late = robot.post_form(&format!("/inscription/{}", old.token), &fields).await;
    assert_eq!(late.status(), 410);
    assert!(enrolment::needs_password(&aidants::find(&mut app.db.store.conn().unwrap(), &aidant_id).unwrap()));
}

async fn a_helper_whose_codes_were_reset_only_enrols_the_app(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    let link = {
        let mut conn = app.db.store.conn().unwrap();
        second_factors::reset(&mut conn, &demo.aidant_id(), None, None, now()).unwrap();
        enrolment::issue(&mut conn, &demo.aidant_id(), None, None, now()).unwrap()
    };
    let robot = Robot::new(&app);
    let path = format!("/inscription/{}", link.token);
    let html = robot.get(&path).await.text().await.unwrap();
    assert!(!html.contains("name=\"password\""), "no password asked");
    let secret = shown_secret(&html);
    let csrf = input_value(&html, "csrf_token").unwrap();
    let code = idp::totp::code_at(&secret, 30, unix_now()).unwrap();
    let done = robot.post_form(&format!("{path}/code"), &[("csrf_token", &csrf), ("otp", &code)]).await;
    assert_eq!(done.status(), 200);
    let next = idp::totp::code_at(&secret, 30, unix_now() + 30).unwrap();
    let (status, _) = sign_in(&Robot::new(&app), DEMO_EMAIL, DEMO_PASSWORD, &next).await;
    assert_eq!(status, 303, "the kept password and the new app sign in");
}

async fn a_code_from_an_assigned_card_signs_in(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    {
        let mut conn = app.db.store.conn().unwrap();
        cards::import(&mut conn, &app.db.keys, &[("FS-000123".into(), CARD_SECRET.into())], now()).unwrap();
        cards::assign(&mut conn, &app.db.keys, "FS-000123", &demo.aidant_id(), None, None, now()).unwrap();
    }
    let robot = Robot::new(&app);
    let card_code = idp::totp::code_at(CARD_SECRET, 60, unix_now()).unwrap();
    let (status, target) = sign_in(&robot, DEMO_EMAIL, DEMO_PASSWORD, &card_code).await;
    assert_eq!((status, target.as_str()), (303, "/"), "a 60-second card code signs in");
    // The same code again is refused: its step is spent on the card.
    let (status, _) = sign_in(&Robot::new(&app), DEMO_EMAIL, DEMO_PASSWORD, &card_code).await;
    assert_eq!(status, 401);
}

async fn changing_ones_password_ends_the_other_sessions(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    let mut here = Robot::new(&app);
    let (status, _) = here.log_in_until(here.get("/mon-compte").await, "space-nav").await;
    assert_eq!(status, 200);
    let mut elsewhere = Robot::new(&app);
    elsewhere.last_totp_step = here.last_totp_step;
    let (status, _) = elsewhere.log_in_until(elsewhere.get("/espace-aidant").await, "space-nav").await;
    assert_eq!(status, 200);

    let html = here.get("/mon-compte").await.text().await.unwrap();
    for expected in ["Camille Martin", DEMO_EMAIL, "France Services Démo", "Application sur téléphone"] {
        assert!(html.contains(expected), "{expected} in {html}");
    }
    assert!(here.get("/espace-aidant").await.text().await.unwrap().contains("href=\"/mon-compte\""), "linked");
    let csrf = input_value(&html, "csrf_token").unwrap();
    let form = |current: &'static str, new: &'static str| {
        [
            ("csrf_token", csrf.clone()),
            ("current", current.into()),
            ("password", new.into()),
            ("confirmation", new.into()),
        ]
    };
    let post = |fields: [(&'static str, String); 4]| {
        let robot = &here;
        async move {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            robot.post_form("/mon-compte/mot-de-passe", &fields).await
        }
    };
    let wrong = post(form("not my password", STRONG)).await;
    assert_eq!(wrong.status(), 422);
    assert!(wrong.text().await.unwrap().contains("pas le bon"));
    let weak = post(form(DEMO_PASSWORD, "azertyuiop12")).await;
    assert_eq!(weak.status(), 422);
    assert!(weak.text().await.unwrap().contains("pas assez sûr"));
    let changed = post(form(DEMO_PASSWORD, STRONG)).await;
    assert_eq!(changed.status(), 303);
    assert_eq!(location(&changed), "/mon-compte?notice=mot-de-passe");
    let html = here.get("/mon-compte?notice=mot-de-passe").await.text().await.unwrap();
    assert!(html.contains("Votre mot de passe est changé"), "still signed in here");

    let other = elsewhere.get("/espace-aidant").await;
    assert_eq!(other.status(), 303, "the other session ended");
    let stored = aidants::find(&mut app.db.store.conn().unwrap(), &demo.aidant_id()).unwrap();
    assert!(idp::passwords::verify(STRONG, &stored.password_hash));
    let mut conn = app.db.store.conn().unwrap();
    assert_eq!(journal::count(&mut conn, JournalAction::PasswordChanged).unwrap(), 1);
}

async fn pending_helpers_and_cards_from_the_command_line(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    let organisation_id = demo.seed["organisation"]["id"].as_str().unwrap().to_owned();
    let url = &app.db.url;
    let out = idp(
        url,
        &[
            "aidant",
            "add",
            "--pending",
            "--email",
            EMAIL,
            "--given-name",
            "Sacha",
            "--family-name",
            "Bernard",
            "--organisation",
            &organisation_id,
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let created: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let link = created["enrolment_link"].as_str().unwrap();
    let token = link.rsplit('/').next().unwrap();
    assert!(link.contains("/inscription/"), "{link}");
    assert!(created.get("totp_enrolment_uri").is_none() && created.get("password").is_none());
    assert_eq!(Robot::new(&app).get(&format!("/inscription/{token}")).await.status(), 200);

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, format!("serial,secret\nFS-1,{CARD_SECRET}\nFS-2,pas-du-base32!\nFS-1,{CARD_SECRET}\n"))
        .unwrap();
    let out = idp(url, &["card", "import", bad.to_str().unwrap()], None);
    assert!(!out.status.success());
    let message = stderr(&out);
    assert!(
        message.contains("line 3") && message.contains("line 4") && message.contains("nothing imported"),
        "{message}"
    );
    assert!(!cards::exists(&mut app.db.store.conn().unwrap(), "FS-1").unwrap());

    let good = dir.path().join("good.csv");
    std::fs::write(&good, format!("FS-1,{CARD_SECRET}\nFS-2,{CARD_SECRET}\n")).unwrap();
    let out = idp(url, &["card", "import", good.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(serde_json::from_str::<Value>(&stdout(&out)).unwrap()["imported"], 2);
    assert!(!stdout(&out).contains(CARD_SECRET) && !stderr(&out).contains(CARD_SECRET), "secrets are never printed");
    let again = idp(url, &["card", "import", good.to_str().unwrap()], None);
    assert!(stderr(&again).contains("already imported"), "{}", stderr(&again));
}
