//! The printed mandate and the printed revocation, as a helper at the browser sees them, and
//! `idp attestation verify` as an operator runs it. On SQLite and PostgreSQL.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use idp::admin::demo::{DEMO_EMAIL, DEMO_PASSWORD};
use idp::pages::attestation::Language;
use mandate_store::aidants::{self, NewAidant};
use mandate_store::journal::{self, JournalAction, JournalEntry};
use mandate_store::mandates::{self, MandateWithAuthorisations, NewMandate};
use mandate_store::organisations::{self, NewOrganisation};
use mandate_store::testing::TestDb;
use mandate_store::usagers::{self, NewUsager, Usager};
use mandate_store::{now, Backend, Demarche, DurationKind, Email, Role, Siret};

use crate::helpers::{idp, stderr, stdout, TestApp};
use crate::robot::{input_value, location, seed, Demo, Robot};

crate::on_both_backends!(
    the_attestation_states_the_mandate_and_its_hash,
    translations_carry_their_language_and_say_they_have_no_legal_value,
    a_helper_of_another_organisation_gets_403_and_nothing_is_journalled,
    the_revocation_attestation_says_what_ended_when_and_by_whom,
    attestation_verify_names_each_changed_field,
);

const FRENCH_MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

/// A date as the French text writes it, spelt out here independently of the page's code.
fn in_french(at: NaiveDateTime) -> String {
    use chrono::Datelike;
    let day = if at.day() == 1 { "1er".to_owned() } else { at.day().to_string() };
    format!("{day} {} {}", FRENCH_MONTHS[at.month0() as usize], at.year())
}

fn unescape(html: &str) -> String {
    html.replace("&#39;", "'").replace("&#34;", "\"").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

/// A usager born in Algeria in March 1951, day unknown (as FranceConnect sends it: `00`).
fn usager_born_abroad(app: &TestApp) -> Usager {
    let mut conn = app.db.store.conn().unwrap();
    usagers::create(
        &mut conn,
        NewUsager {
            given_name: "Fatima Zohra".into(),
            family_name: "BENALI".into(),
            birthdate: "1951-03-00".into(),
            gender: "female".into(),
            birthplace: String::new(),
            birthcountry: "99352".into(),
            email: "fatima.benali@example.fr".into(),
            preferred_username: Some("HADDAD".into()),
            upstream_issuer: "https://upstream.example".into(),
            upstream_subject: "attestation-test-usager".into(),
            ..Default::default()
        },
        now(),
    )
    .unwrap()
}

fn organisation_id(demo: &Demo) -> String {
    demo.seed["organisation"]["id"].as_str().unwrap().to_owned()
}

fn create_mandate(
    app: &TestApp,
    organisation_id: &str,
    aidant_id: &str,
    usager_id: &str,
    demarches: &[Demarche],
) -> MandateWithAuthorisations {
    let mut conn = app.db.store.conn().unwrap();
    mandates::create(
        &mut conn,
        NewMandate {
            organisation_id: organisation_id.into(),
            usager_id: usager_id.into(),
            aidant_id: aidant_id.into(),
            demarches: demarches.to_vec(),
            duration: DurationKind::Semester,
            custom_expires_at: None,
            is_remote: false,
            consent_proof: None,
        },
        now(),
    )
    .unwrap()
}

/// Signs the demo helper in (password, then one-time code), with no authorization request.
async fn sign_in(robot: &mut Robot<'_>) {
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
    let csrf = input_value(&page, "csrf_token").expect("a CSRF token on the one-time code page");
    let code = robot.next_totp();
    let response = robot.post_form("/login/otp", &[("csrf_token", &csrf), ("request", ""), ("otp", &code)]).await;
    assert_eq!(response.status(), 303, "the one-time code is accepted");
}

/// The text of the element `id="{id}"`.
fn element_text(html: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no element {id} in {html}"));
    let open_end = html[start..].find('>').unwrap() + start + 1;
    let close = html[open_end..].find('<').unwrap() + open_end;
    html[open_end..close].to_owned()
}

/// The first inline `<svg …>…</svg>` of the page.
fn inline_svg(html: &str) -> &str {
    let start = html.find("<svg").expect("an inline SVG");
    let end = html[start..].find("</svg>").unwrap() + start + "</svg>".len();
    &html[start..end]
}

/// Reads back the QR code an SVG draws: its dark squares (`M{x} {y}h{w}v{h}H{x}V{y}` in the
/// path) painted on a bitmap, decoded by an independent QR decoder.
fn decode_qr(svg: &str) -> String {
    let attribute = |name: &str| -> usize {
        let marker = format!(" {name}=\"");
        let start = svg.find(&marker).unwrap_or_else(|| panic!("no {name} in {svg}")) + marker.len();
        svg[start..].split('"').next().unwrap().parse().unwrap()
    };
    let (width, height) = (attribute("width"), attribute("height"));
    let path_start = svg.find(" d=\"").expect("a path of dark modules") + 4;
    let path = &svg[path_start..path_start + svg[path_start..].find('"').unwrap()];
    let mut dark = vec![false; width * height];
    for square in path.split('M').filter(|s| !s.is_empty()) {
        let number = |s: &str| -> usize { s.trim().parse().unwrap_or_else(|_| panic!("bad number {s:?} in {square}")) };
        let (xy, rest) = square.split_once('h').unwrap();
        let (x, y) = xy.split_once(' ').unwrap();
        let (w, rest) = rest.split_once('v').unwrap();
        let (h, _) = rest.split_once('H').unwrap();
        let (x, y, w, h) = (number(x), number(y), number(w), number(h));
        for row in y..y + h {
            for column in x..x + w {
                dark[row * width + column] = true;
            }
        }
    }
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| if dark[y * width + x] { 0 } else { 255 });
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the SVG");
    grids[0].decode().expect("a readable QR code").1
}

fn journal_of(app: &TestApp, action: JournalAction) -> Vec<JournalEntry> {
    let mut conn = app.db.store.conn().unwrap();
    journal::recent(&mut conn, Some(action), 100).unwrap()
}

fn details(entry: &JournalEntry) -> serde_json::Value {
    entry.details.as_ref().map(|d| d.value().clone()).unwrap_or_default()
}

async fn the_attestation_states_the_mandate_and_its_hash(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    let usager = usager_born_abroad(&app);
    let created = create_mandate(
        &app,
        &organisation_id(&demo),
        &demo.aidant_id(),
        &usager.id,
        &[Demarche::Logement, Demarche::Famille],
    );
    let mandate = &created.mandate;
    let url = format!("/espace-aidant/mandats/{}/attestation", mandate.id);

    let mut robot = Robot::new(&app);
    let anonymous = robot.get(&url).await;
    assert_eq!(anonymous.status(), 303, "a helper not signed in is sent to log in");
    assert_eq!(location(&anonymous), "/login");
    sign_in(&mut robot).await;

    let response = robot.get(&url).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store", "personal data is not cached");
    let html = response.text().await.unwrap();
    let text = unescape(&html);
    assert!(text.contains("<h1>Attestation de mandat</h1>"), "{html}");
    for expected in [
        "Fatima Zohra",
        "BENALI",
        "HADDAD",
        "mars 1951",
        "Algérie (99352)",
        "Famille - Scolarité",
        "Logement",
        "France Services Démo",
        "217 500 016 00019",
        "1 place de la Mairie, 75013 Paris",
        "Camille Martin, Conseillère France Services",
        "articles 1984 et suivants du Code civil",
        "une durée de six mois (182 jours)",
        mandate_store::attestation::TEMPLATE_VERSION,
        "Signature de la personne accompagnée",
        "Signature de l'aidant, pour la structure",
        "id=\"imprimer\"",
        "/static/attestation.js",
    ] {
        assert!(text.contains(expected), "{expected:?} in {html}");
    }
    let end = in_french(mandate.expires_at);
    assert!(text.contains(&format!("prend fin le {end}.")), "the end date {end:?} in {html}");
    assert!(text.contains(&format!("Fait à Paris, le {}", in_french(mandate.created_at))), "{html}");
    for language in ["en", "es", "pt", "ar"] {
        assert!(text.contains(&format!("{url}?langue={language}")), "a link to the {language} translation");
    }
    assert!(!text.contains("dir=\"rtl\""), "no translation unless asked");

    // The hash: as text, equal to the stored one and to what the journal recorded at creation.
    let shown = element_text(&html, "attestation-hash");
    assert_eq!(Some(shown.as_str()), mandate.attestation_hash.as_deref());
    let recorded = journal_of(&app, JournalAction::MandateCreated)
        .into_iter()
        .find(|e| e.mandate_id.as_deref() == Some(mandate.id.as_str()))
        .expect("the mandate's creation is journalled");
    assert_eq!(details(&recorded)["attestation_sha256"], shown.as_str());
    // …and as a QR code that reads back as the same hash.
    assert_eq!(decode_qr(inline_svg(&html)), shown);

    // Printing is journalled, with the language and the hash, and no personal data.
    let printed = journal_of(&app, JournalAction::AttestationPrinted);
    assert_eq!(printed.len(), 1);
    assert_eq!(printed[0].mandate_id.as_deref(), Some(mandate.id.as_str()));
    assert_eq!(printed[0].aidant_id.as_deref(), Some(demo.aidant_id().as_str()));
    assert_eq!(details(&printed[0])["language"], "fr");
    assert_eq!(details(&printed[0])["attestation_sha256"], shown.as_str());
    // What the entry says besides ids, time and hashes (hex and digits could hold "1951" by chance).
    let entry = printed[0].details.as_ref().map(|d| d.as_str().replace(shown.as_str(), "")).unwrap_or_default();
    for personal in ["Fatima", "BENALI", "HADDAD", "1951", "fatima.benali", "Camille", "Martin", "99352"] {
        assert!(!entry.contains(personal), "{personal:?} in the journal: {entry}");
    }

    let script = robot.get("/static/attestation.js").await;
    assert!(script.headers()["content-type"].to_str().unwrap().starts_with("text/javascript"));
    assert!(script.text().await.unwrap().contains("window.print()"));
}

async fn translations_carry_their_language_and_say_they_have_no_legal_value(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    let usager = usager_born_abroad(&app);
    let created = create_mandate(&app, &organisation_id(&demo), &demo.aidant_id(), &usager.id, &[Demarche::Argent]);
    let url = format!("/espace-aidant/mandats/{}/attestation", created.mandate.id);
    let mut robot = Robot::new(&app);
    sign_in(&mut robot).await;

    let french = Language::Fr.wording();
    for language in Language::TRANSLATIONS {
        let w = language.wording();
        let response = robot.get(&format!("{url}?langue={}", w.tag)).await;
        assert_eq!(response.status(), 200, "{}", w.tag);
        let html = response.text().await.unwrap();
        let text = unescape(&html);
        assert!(text.contains(&format!("lang=\"{}\" dir=\"{}\"", w.tag, w.dir)), "{}: {html}", w.tag);
        assert!(text.contains(w.no_legal_value), "{}: the notice in {html}", w.tag);
        assert!(text.contains(w.translation_heading), "{}", w.tag);
        assert!(text.contains(w.demarche(Demarche::Argent).0), "{}: the démarche's title", w.tag);
        // The French text stays, and stays the one with the hash.
        assert!(text.contains(french.object_text), "{}: the French text", w.tag);
        assert_eq!(html.matches("id=\"attestation-hash\"").count(), 1);
        assert!(text.contains(&format!("aria-current=\"page\">{}", w.name)), "{}: the current language", w.tag);
    }
    let arabic = unescape(&robot.get(&format!("{url}?langue=ar")).await.text().await.unwrap());
    assert!(arabic.contains("lang=\"ar\" dir=\"rtl\""), "Arabic reads right to left");
    assert!(arabic.contains("الجزائر (99352)"), "the country of birth in Arabic");
    assert!(arabic.contains("\u{2068}Paris\u{2069}"), "a Latin name in an Arabic sentence keeps its order");
    let spanish = unescape(&robot.get(&format!("{url}?langue=es")).await.text().await.unwrap());
    assert!(spanish.contains("marzo de 1951"), "the birth date in Spanish");

    let unknown = robot.get(&format!("{url}?langue=de")).await;
    assert_eq!(unknown.status(), 400);
    assert!(unescape(&unknown.text().await.unwrap()).contains("Cette traduction n'existe pas"));

    let languages: Vec<String> = journal_of(&app, JournalAction::AttestationPrinted)
        .iter()
        .map(|e| details(e)["language"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(languages, ["es", "ar", "ar", "pt", "es", "en"], "newest first, the refused language not journalled");
}

async fn a_helper_of_another_organisation_gets_403_and_nothing_is_journalled(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let _demo = seed(&app);
    let usager = usager_born_abroad(&app);
    let (other_organisation, other_aidant) = {
        let mut conn = app.db.store.conn().unwrap();
        let organisation = organisations::create(
            &mut conn,
            NewOrganisation {
                name: "CCAS de Lyon".into(),
                siret: Siret::parse("21690123100011").unwrap(),
                address: "1 place de la Comédie".into(),
                postcode: "69001".into(),
                city: "Lyon".into(),
                organisation_type: mandate_store::OrganisationType::FranceServices,
                department: mandate_store::Department::parse("69").unwrap(),
                demarches: mandate_store::Demarche::ALL.to_vec(),
            },
            now(),
        )
        .unwrap();
        let aidant = aidants::create(
            &mut conn,
            &app.db.keys,
            NewAidant {
                email: Email::parse("dominique.petit@example.fr").unwrap(),
                given_name: "Dominique".into(),
                family_name: "Petit".into(),
                profession: "Travailleur social".into(),
                phone: None,
                organisation_ids: vec![organisation.id.clone()],
                role: Role::Aidant,
                password_hash: "never used to log in".into(),
                totp_secret: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ".into(),
                totp_step_seconds: 30,
                charter_signed_at: None,
            },
            now(),
        )
        .unwrap();
        (organisation.id, aidant.id)
    };
    let theirs = create_mandate(&app, &other_organisation, &other_aidant, &usager.id, &[Demarche::Social]);
    let mut robot = Robot::new(&app);
    sign_in(&mut robot).await;

    let response = robot.get(&format!("/espace-aidant/mandats/{}/attestation", theirs.mandate.id)).await;
    assert_eq!(response.status(), 403);
    let html = unescape(&response.text().await.unwrap());
    assert!(html.contains("une autre structure que la vôtre"), "{html}");
    assert!(!html.contains("BENALI"), "nothing of the mandate is shown");
    assert!(journal_of(&app, JournalAction::AttestationPrinted).is_empty(), "a refused page is not journalled");

    {
        let mut conn = app.db.store.conn().unwrap();
        mandates::revoke(&mut conn, &theirs.mandate.id, &other_aidant, now()).unwrap();
    }
    let revocation = robot.get(&format!("/espace-aidant/mandats/{}/attestation-revocation", theirs.mandate.id)).await;
    assert_eq!(revocation.status(), 403);

    let unknown = robot.get("/espace-aidant/mandats/no-such-mandate/attestation").await;
    assert_eq!(unknown.status(), 404);
    assert!(unescape(&unknown.text().await.unwrap()).contains("Ce mandat n'existe pas"));
    let unknown = robot.get("/espace-aidant/mandats/no-such-mandate/attestation-revocation").await;
    assert_eq!(unknown.status(), 404);
    assert!(journal_of(&app, JournalAction::AttestationPrinted).is_empty());
}

async fn the_revocation_attestation_says_what_ended_when_and_by_whom(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    let usager = usager_born_abroad(&app);
    let organisation = organisation_id(&demo);
    let created = create_mandate(
        &app,
        &organisation,
        &demo.aidant_id(),
        &usager.id,
        &[Demarche::Papiers, Demarche::Famille, Demarche::Social],
    );
    let mandate_id = created.mandate.id.clone();
    let url = format!("/espace-aidant/mandats/{mandate_id}/attestation-revocation");
    let mut robot = Robot::new(&app);
    sign_in(&mut robot).await;

    let live = robot.get(&url).await;
    assert_eq!(live.status(), 404, "a mandate with nothing revoked has no revocation attestation");
    assert!(unescape(&live.text().await.unwrap()).contains("n'a pas d'attestation de révocation"));

    // One démarche revoked alone, one replaced by a newer mandate: the mandate stays for the third.
    let famille = created.authorisations.iter().find(|a| a.demarche == Demarche::Famille).unwrap().id.clone();
    {
        let mut conn = app.db.store.conn().unwrap();
        mandates::revoke_authorisation(&mut conn, &famille, &demo.aidant_id(), now()).unwrap();
    }
    let newer = create_mandate(&app, &organisation, &demo.aidant_id(), &usager.id, &[Demarche::Social]);
    let html = unescape(&robot.get(&url).await.text().await.unwrap());
    assert!(html.contains("<h1>Attestation de révocation</h1>"), "{html}");
    assert!(html.contains("le mandat reste valable pour les autres"), "{html}");
    let famille_row = html.split("<tr>").find(|row| row.contains("Famille - Scolarité")).expect("the famille row");
    assert!(famille_row.contains(&in_french(now())), "{famille_row}");
    assert!(famille_row.contains("Camille Martin, Conseillère France Services"), "{famille_row}");
    assert!(famille_row.contains("Révocation de cette démarche"), "{famille_row}");
    let social_row = html.split("<tr>").find(|row| row.contains("Social - Santé")).expect("the social row");
    assert!(social_row.contains(&format!("Remplacée par un nouveau mandat (n° {})", newer.mandate.id)), "{social_row}");
    let still = &html[html.find("Démarches toujours couvertes par le mandat").expect("what is still covered")..];
    assert!(still.contains("Papiers - Citoyenneté"), "{html}");

    // The whole mandate revoked: who, when, and the mandate's attestation hash.
    {
        let mut conn = app.db.store.conn().unwrap();
        mandates::revoke(&mut conn, &mandate_id, &demo.aidant_id(), now()).unwrap();
    }
    let response = robot.get(&url).await;
    assert_eq!(response.status(), 200);
    let raw = response.text().await.unwrap();
    let html = unescape(&raw);
    assert!(html.contains(&format!("Le mandat a été révoqué le {} par Camille Martin", in_french(now()))), "{html}");
    let papiers_row = html.split("<tr>").find(|row| row.contains("Papiers - Citoyenneté")).expect("the papiers row");
    assert!(papiers_row.contains("Révocation du mandat"), "{papiers_row}");
    assert!(!html.contains("Démarches toujours couvertes"), "nothing is covered any more");
    assert!(html.contains("Fatima Zohra BENALI") && html.contains("mars 1951"), "{html}");
    assert_eq!(Some(element_text(&raw, "attestation-hash").as_str()), created.mandate.attestation_hash.as_deref());
    assert_eq!(decode_qr(inline_svg(&raw)), element_text(&raw, "attestation-hash"));
}

async fn attestation_verify_names_each_changed_field(backend: Backend) {
    let Some(db) = TestDb::for_backend(backend) else { return };
    let demo = {
        let mut conn = db.store.conn().unwrap();
        idp::admin::demo::seed(&mut conn, &db.keys, "http://127.0.0.1:8080").unwrap()
    };
    let mandate_id = demo["usagers"][0]["mandate_id"].as_str().unwrap().to_owned();
    let usager_id = demo["usagers"][0]["id"].as_str().unwrap().to_owned();
    let stored = {
        let mut conn = db.store.conn().unwrap();
        mandates::find(&mut conn, &mandate_id).unwrap().mandate.attestation_hash.unwrap()
    };

    let intact = idp(&db.url, &["attestation", "verify", &mandate_id], None);
    assert_eq!(intact.status.code(), Some(0), "{}", stderr(&intact));
    assert!(stdout(&intact).starts_with(&format!("attestation intact: sha256 {stored}")), "{}", stdout(&intact));

    // Someone with database access changes the usager's birth date behind the code's back.
    {
        use mandate_store::schema::usagers;
        let mut conn = db.store.conn().unwrap();
        let changed = diesel::update(usagers::table.find(&usager_id))
            .set(usagers::birthdate.eq("1962-08-25"))
            .execute(&mut *conn)
            .unwrap();
        assert_eq!(changed, 1);
    }
    let altered = idp(&db.url, &["attestation", "verify", &mandate_id], None);
    assert_eq!(altered.status.code(), Some(3), "{}", stderr(&altered));
    let message = stderr(&altered);
    assert!(message.contains(&format!("attestation DIFFERS for mandate {mandate_id}")), "{message}");
    assert!(message.contains("usager.birthdate"), "{message}");
    assert!(!message.contains("usager.family_name"), "only the changed field is named: {message}");
    assert!(!message.contains("1962-08"), "no personal data in the message: {message}");

    let unknown = idp(&db.url, &["attestation", "verify", "no-such-mandate"], None);
    assert_eq!(unknown.status.code(), Some(2), "{}", stderr(&unknown));
    assert!(stderr(&unknown).contains("no mandate has the id \"no-such-mandate\""), "{}", stderr(&unknown));
}
