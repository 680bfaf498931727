//! The organisation's journal as its manager reads it: entries in words, filters, pages, the CSV
//! export (journalled, formula cells neutralised), readable errors for bad filters, and never an
//! entry of another organisation, on the page or in the file. On SQLite and PostgreSQL.

use chrono::NaiveDate;
use mandate_store::aidants::{self, NewAidant};
use mandate_store::journal::{self, JournalAction, JournalFilter, NewEntry, Page};
use mandate_store::mandates::{self, NewMandate};
use mandate_store::organisations::{self, NewOrganisation};
use mandate_store::usagers::{self, NewUsager};
use mandate_store::{now, Backend, Demarche, DurationKind, Email, Role, Siret};

use crate::helpers::TestApp;
use crate::robot::{input_value, seed, Robot};

crate::on_both_backends!(
    a_manager_reads_filters_pages_and_exports_their_organisations_journal_only,
    bad_filters_give_the_page_with_what_is_wrong_and_other_helpers_are_refused,
);

/// Another organisation with its helper, usager and mandate (so journal entries of its own).
struct Elsewhere {
    aidant_id: String,
    usager_id: String,
}

fn elsewhere(app: &TestApp) -> Elsewhere {
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
            email: Email::parse("dominique.secret@ccas-lyon.example.fr").unwrap(),
            given_name: "Dominique".into(),
            family_name: "AILLEURS".into(),
            profession: "Travailleur social".into(),
            phone: None,
            organisation_ids: vec![organisation.id.clone()],
            role: Role::Manager,
            password_hash: "$argon2id$not-a-real-hash".into(),
            totp_secret: "JBSWY3DPEHPK3PXP".into(),
            totp_step_seconds: 30,
            charter_signed_at: Some(now()),
        },
        now(),
    )
    .unwrap();
    let usager = usagers::create(
        &mut conn,
        NewUsager {
            given_name: "Zoé".into(),
            family_name: "CACHÉE".into(),
            birthdate: "1950-01-01".into(),
            gender: "female".into(),
            birthplace: "69123".into(),
            birthcountry: "99100".into(),
            email: "zoe@example.fr".into(),
            upstream_issuer: "https://upstream.example".into(),
            upstream_subject: "zoe".into(),
            ..Default::default()
        },
        now(),
    )
    .unwrap();
    mandates::create(
        &mut conn,
        NewMandate {
            organisation_id: organisation.id.clone(),
            usager_id: usager.id.clone(),
            aidant_id: aidant.id.clone(),
            demarches: vec![Demarche::Papiers],
            duration: DurationKind::Month,
            custom_expires_at: None,
            is_remote: false,
            consent_proof: None,
        },
        now(),
    )
    .unwrap();
    journal::append(
        &mut conn,
        NewEntry::new(JournalAction::AuthorisationUsed)
            .aidant(&aidant.id)
            .organisation(&organisation.id)
            .usager(&usager.id)
            .demarche(Demarche::Papiers)
            .client("demo-service"),
        NaiveDate::from_ymd_opt(2026, 1, 15).unwrap().and_hms_opt(10, 0, 0).unwrap(),
    )
    .unwrap();
    Elsewhere { aidant_id: aidant.id, usager_id: usager.id }
}

/// The demo helper, made manager of the demo organisation, signed in on the journal page.
async fn manager(app: &TestApp) -> (Robot<'_>, crate::robot::Demo, String) {
    let demo = seed(app);
    let organisation = demo.seed["organisation"]["id"].as_str().unwrap().to_owned();
    aidants::set_manager(&mut app.db.store.conn().unwrap(), &demo.aidant_id(), &organisation, true).unwrap();
    let mut robot = Robot::new(app);
    let first = robot.get("/structure/journal").await;
    // Signing in leads to the helper's space; the journal is one link away.
    let (status, html) = robot.log_in_until(first, "Mes usagers").await;
    assert_eq!(status, 200, "{html}");
    let journal = robot.get("/structure/journal").await;
    assert_eq!(journal.status(), 200);
    let html = journal.text().await.unwrap();
    (robot, demo, html)
}

fn rows(html: &str) -> usize {
    html.matches("<tr><td>").count()
}

async fn a_manager_reads_filters_pages_and_exports_their_organisations_journal_only(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let other = elsewhere(&app);
    let (robot, demo, page) = manager(&app).await;
    let organisation = demo.seed["organisation"]["id"].as_str().unwrap().to_owned();
    let angela = demo.usager_id(0);

    // In words, names read at display: the seed's mandates, the sign-in.
    assert!(page.contains("Camille Martin a créé un mandat pour Angela Claire Louise DUBOIS."), "{page}");
    assert!(page.contains("Connexion de Camille Martin à son compte."), "{page}");
    assert!(!page.contains("CACHÉE") && !page.contains("AILLEURS") && !page.contains(&other.usager_id), "{page}");
    // The filters offer this organisation's helpers and usagers only, and every action in words.
    assert!(page.contains(&format!("<option value=\"{angela}\">Angela Claire Louise DUBOIS</option>")), "{page}");
    assert!(!page.contains(&format!("value=\"{}\"", other.aidant_id)), "{page}");
    assert!(page.contains("<option value=\"authorisation_used\">Mandat utilisé auprès d&#39;un service</option>"));

    // A use of a mandate on a given day, and 24 more entries of one action to page through.
    let mut conn = app.db.store.conn().unwrap();
    let day = |d: u32, h: u32| NaiveDate::from_ymd_opt(2026, 1, d).unwrap().and_hms_opt(h, 0, 0).unwrap();
    journal::append(
        &mut conn,
        NewEntry::new(JournalAction::AuthorisationUsed)
            .aidant(&demo.aidant_id())
            .organisation(&organisation)
            .usager(&angela)
            .demarche(Demarche::Logement)
            .client("demo-service"),
        day(15, 9),
    )
    .unwrap();
    // A client id someone chose to be a spreadsheet formula.
    journal::append(
        &mut conn,
        NewEntry::new(JournalAction::AuthorisationUsed)
            .aidant(&demo.aidant_id())
            .organisation(&organisation)
            .usager(&angela)
            .demarche(Demarche::Social)
            .client("=HYPERLINK(\"http://evil.example\")"),
        day(16, 9),
    )
    .unwrap();
    for i in 0..24 {
        journal::append(
            &mut conn,
            NewEntry::new(JournalAction::PasswordChanged).aidant(&demo.aidant_id()).organisation(&organisation),
            day(20, 0) + chrono::Duration::minutes(i),
        )
        .unwrap();
    }

    let used = robot.get("/structure/journal?action=authorisation_used&du=15%2F01%2F2026&au=2026-01-15").await;
    assert_eq!(used.status(), 200);
    let used = used.text().await.unwrap();
    assert_eq!(rows(&used), 1, "one day, this organisation's entry only: {used}");
    assert!(
        used.contains(
            "Camille Martin a utilisé le mandat de Angela Claire Louise DUBOIS pour « Logement » auprès de Service de démonstration."
        ),
        "{used}"
    );
    assert!(used.contains("15 janvier 2026 à 9 h 00 (UTC)"), "{used}");
    assert!(used.contains("value=\"15/01/2026\""), "each day shown again as French writes it");

    // Pages of 20, cut on the entry, with the filters kept.
    let first = robot.get("/structure/journal?action=password_changed").await.text().await.unwrap();
    assert_eq!(rows(&first), 20);
    let marker = "href=\"/structure/journal?";
    let older = first
        .split(marker)
        .map(|rest| rest.split('"').next().unwrap().replace("&#38;", "&").replace("&amp;", "&"))
        .find(|link| link.contains("avant="))
        .expect("a link to older entries");
    assert!(older.contains("action=password_changed"), "{older}");
    let second = robot.get(&format!("/structure/journal?{older}")).await.text().await.unwrap();
    assert_eq!(rows(&second), 4, "{older}: {second}");
    assert!(second.contains("Revenir aux entrées les plus récentes") && !second.contains("Entrées plus anciennes"));

    // The export: every matching entry, the CLI's columns, this organisation's only.
    let token = input_value(&first, "csrf_token").unwrap();
    let refused = robot.post_form("/structure/journal/export", &[("action", "authorisation_used")]).await;
    assert_eq!(refused.status(), 403, "no CSRF token, no export");
    let export = robot.post_form("/structure/journal/export", &[("csrf_token", &token)]).await;
    assert_eq!(export.status(), 200);
    assert_eq!(export.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(export.headers()["content-disposition"].to_str().unwrap().starts_with("attachment; filename=\"journal-"));
    let body = export.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    assert_eq!(reader.headers().unwrap(), &csv::StringRecord::from(idp::journal_export::HEADER.to_vec()));
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let in_organisation = journal::search(
        &mut conn,
        &JournalFilter { organisation_id: Some(organisation.clone()), ..Default::default() },
        Page::first(1000),
    )
    .unwrap()
    .entries
    .into_iter()
    .filter(|e| e.action != JournalAction::JournalExported)
    .count();
    assert_eq!(records.len(), in_organisation, "every entry, not only a page");
    assert!(records.iter().all(|r| r[4] == organisation), "only this organisation's entries: {body}");
    assert!(!body.contains(&other.aidant_id) && !body.contains(&other.usager_id), "{body}");
    assert!(body.contains("'=HYPERLINK"), "a formula is written as text: {body}");
    assert!(!body.contains("Camille") && !body.contains("DUBOIS"), "ids, no names: {body}");

    // With filters, and journalled with them.
    let filtered = robot
        .post_form("/structure/journal/export", &[("csrf_token", &token), ("action", "authorisation_used")])
        .await
        .text()
        .await
        .unwrap();
    let filtered: Vec<_> = csv::Reader::from_reader(filtered.as_bytes()).records().map(Result::unwrap).collect();
    assert_eq!(filtered.len(), 2);
    assert!(filtered.iter().all(|r| &r[2] == "authorisation_used" && r[4] == organisation));
    let exports = journal::search(
        &mut conn,
        &JournalFilter { action: Some(JournalAction::JournalExported), ..Default::default() },
        Page::first(10),
    )
    .unwrap()
    .entries;
    assert_eq!(exports.len(), 2);
    assert_eq!(exports[0].aidant_id.as_deref(), Some(demo.aidant_id().as_str()));
    assert_eq!(exports[0].organisation_id.as_deref(), Some(organisation.as_str()));
    assert_eq!(
        exports[0].details.as_ref().unwrap().value(),
        &serde_json::json!({"format": "csv", "entries": 2, "filters": {"action": "authorisation_used"}})
    );
    let page = robot.get("/structure/journal?action=journal_exported").await.text().await.unwrap();
    assert!(page.contains("Camille Martin a exporté le journal en CSV."), "{page}");
}

async fn bad_filters_give_the_page_with_what_is_wrong_and_other_helpers_are_refused(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let other = elsewhere(&app);
    let (robot, demo, page) = manager(&app).await;
    let token = input_value(&page, "csrf_token").unwrap();

    for (query, says) in [
        (format!("aidant={}", other.aidant_id), "Cet aidant ne fait pas partie de votre structure"),
        (format!("usager={}", other.usager_id), "Cette personne n&#39;a pas de mandat avec votre structure"),
        ("action=drop_table".to_owned(), "Cette action n&#39;existe pas"),
        ("du=31%2F02%2F2026".to_owned(), "Du : « 31/02/2026 » n&#39;est pas une date. Écrivez-la jj/mm/aaaa"),
        ("du=2026-12-01&au=2026-11-01".to_owned(), "La date de début est après la date de fin."),
        ("avant=abc".to_owned(), "Cette page du journal n&#39;existe pas"),
    ] {
        let response = robot.get(&format!("/structure/journal?{query}")).await;
        assert_eq!(response.status(), 400, "{query}");
        let html = response.text().await.unwrap();
        assert!(html.contains(says), "{query}: {html}");
        assert!(html.contains("<h1>Journal de la structure</h1>") && rows(&html) == 0, "{query}: {html}");
        assert!(!html.contains("CACHÉE") && !html.contains("AILLEURS"), "{query}: {html}");
    }
    // The export refuses the same way, and journals nothing.
    let refused =
        robot.post_form("/structure/journal/export", &[("csrf_token", &token), ("aidant", &other.aidant_id)]).await;
    assert_eq!(refused.status(), 400);
    assert!(refused.text().await.unwrap().contains("Cet aidant ne fait pas partie de votre structure"));
    let mut conn = app.db.store.conn().unwrap();
    assert_eq!(journal::count(&mut conn, JournalAction::JournalExported).unwrap(), 0);

    // A helper who does not manage the organisation is refused, page and export.
    let organisation = demo.seed["organisation"]["id"].as_str().unwrap().to_owned();
    aidants::set_manager(&mut conn, &demo.aidant_id(), &organisation, false).unwrap();
    let page = robot.get("/structure/journal").await;
    assert_eq!(page.status(), 403);
    assert!(page.text().await.unwrap().contains("réservée aux responsables"));
    let export = robot.post_form("/structure/journal/export", &[("csrf_token", &token)]).await;
    assert_eq!(export.status(), 403);
    assert_eq!(journal::count(&mut conn, JournalAction::JournalExported).unwrap(), 0);
}
