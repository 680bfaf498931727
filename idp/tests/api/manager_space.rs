//! The manager's space as the demo organisation's manager uses it over HTTP: the helpers and
//! their state, adding a helper (the enrolment link shown once), each action on an account with
//! the manager's one-time code and its journal entry; other helpers refused; and nothing of
//! another organisation seen or changed. On SQLite and PostgreSQL.

use idp::admin::demo::{DEMO_MANAGER_EMAIL, DEMO_MANAGER_PASSWORD, DEMO_MANAGER_TOTP_SECRET};
use mandate_store::aidants::{self, DeactivationReason, NewPendingAidant};
use mandate_store::journal::{search, JournalAction, JournalEntry, JournalFilter, Page};
use mandate_store::organisations::{self, NewOrganisation, Organisation};
use mandate_store::sign_in_delays::{self, SignInStep};
use mandate_store::{cards, now, second_factors, Backend, Demarche, Department, Email, OrganisationType, Siret};

use crate::helpers::TestApp;
use crate::robot::{input_value, location, seed, Demo, Robot};

crate::on_both_backends!(
    the_list_says_each_helpers_state_and_is_for_managers_only,
    deactivation_reactivation_unlock_and_habilitation_with_the_managers_code,
    a_helper_is_added_and_their_link_shown_once,
    a_card_is_assigned_by_a_code_read_from_it,
    nothing_of_another_organisation_is_seen_or_changed,
);

/// The demo manager at the browser: their own credentials and one-time codes.
pub struct Manager<'a> {
    robot: Robot<'a>,
    last_step: Option<u64>,
}

impl<'a> Manager<'a> {
    /// Signed in with both factors; returns the list page.
    pub async fn sign_in(app: &'a TestApp) -> (Manager<'a>, String) {
        let mut manager = Manager { robot: Robot::new(app), last_step: None };
        let mut response = manager.robot.get("/structure").await;
        for _ in 0..10 {
            if response.status().is_redirection() {
                response = manager.robot.get(&location(&response)).await;
                continue;
            }
            let html = response.text().await.unwrap();
            if html.contains("Ma structure —") {
                return (manager, html);
            }
            let csrf = input_value(&html, "csrf_token").expect("a CSRF token");
            response = if html.contains("name=\"password\"") {
                let fields =
                    [("csrf_token", csrf.as_str()), ("email", DEMO_MANAGER_EMAIL), ("password", DEMO_MANAGER_PASSWORD)];
                manager.robot.post_form("/login", &fields).await
            } else if html.contains("name=\"otp\"") {
                let code = manager.next_code();
                manager.robot.post_form("/login/otp", &[("csrf_token", &csrf), ("otp", &code)]).await
            } else {
                // Signed in, on the helper space's home.
                manager.robot.get("/structure").await
            };
        }
        panic!("the manager could not sign in")
    }

    /// A code of a step not used yet (the server accepts one step either side of now).
    pub fn next_code(&mut self) -> String {
        loop {
            let unix = chrono::Utc::now().timestamp() as u64;
            let (current, into_step) = (unix / 30, unix % 30);
            let earliest = if into_step < 25 { current - 1 } else { current };
            let step = self.last_step.map_or(earliest, |last| (last + 1).max(earliest));
            if step <= current + 1 {
                self.last_step = Some(step);
                return idp::totp::code_at(DEMO_MANAGER_TOTP_SECRET, 30, step * 30).unwrap();
            }
            std::thread::sleep(std::time::Duration::from_secs(30 - into_step));
        }
    }

    async fn page(&self, path: &str) -> (u16, String) {
        let response = self.robot.get(path).await;
        (response.status().as_u16(), response.text().await.unwrap())
    }

    /// Sends an action's form with `fields` and the CSRF token; returns the status and where it
    /// leads (or the page's text when it is not a redirect).
    pub async fn post(&self, path: &str, csrf: &str, fields: &[(&str, &str)]) -> (u16, String) {
        let mut all = vec![("csrf_token", csrf)];
        all.extend_from_slice(fields);
        let response = self.robot.post_form(path, &all).await;
        let status = response.status().as_u16();
        if response.status().is_redirection() {
            (status, location(&response))
        } else {
            (status, response.text().await.unwrap())
        }
    }
}

pub fn csrf(html: &str) -> String {
    input_value(html, "csrf_token").expect("a CSRF token")
}

fn organisation_b(conn: &mut mandate_store::DbConnection) -> Organisation {
    organisations::create(
        conn,
        NewOrganisation {
            name: "CCAS de Lyon".into(),
            siret: Siret::parse("21690123100011").unwrap(),
            address: "1 place de l'Hôtel de Ville".into(),
            postcode: "69001".into(),
            city: "Lyon".into(),
            organisation_type: OrganisationType::Ccas,
            department: Department::parse("69").unwrap(),
            demarches: Demarche::ALL.to_vec(),
        },
        now(),
    )
    .unwrap()
}

fn pending(conn: &mut mandate_store::DbConnection, email: &str, given: &str, organisation_id: &str) -> String {
    aidants::create_pending(
        conn,
        NewPendingAidant {
            email: Email::parse(email).unwrap(),
            given_name: given.into(),
            family_name: "Testeur".into(),
            profession: "Agent d'accueil".into(),
            organisation_id: organisation_id.into(),
        },
        None,
        now(),
    )
    .unwrap()
    .id
}

fn journal_of(app: &TestApp, aidant_id: &str, action: JournalAction) -> Vec<JournalEntry> {
    let mut conn = app.db.store.conn().unwrap();
    let filter = JournalFilter { aidant_id: Some(aidant_id.into()), action: Some(action), ..Default::default() };
    search(&mut conn, &filter, Page::first(50)).unwrap().entries
}

fn by(entry: &JournalEntry) -> String {
    entry.details.as_ref().unwrap().value()["by"].as_str().unwrap().to_owned()
}

/// Ten wrong passwords for the helper from one address: they are held back, as after a
/// stranger's guesses.
fn hold_back(conn: &mut mandate_store::DbConnection, aidant_id: &str) {
    let email = aidants::find(conn, aidant_id).unwrap().email;
    // A wait of an hour, so that it still runs when the manager unlocks, however long the
    // manager's steps wait for their one-time codes.
    let mut settings = crate::helpers::test_settings("sqlite://unused", std::path::Path::new("keys"));
    settings.login.first_delay_seconds = 3600;
    settings.login.lockout_minutes = 120;
    let rules = settings.login.delay_rules();
    for _ in 0..10 {
        let account = sign_in_delays::account_key(&email);
        sign_in_delays::claim(conn, SignInStep::Password, &account, "192.0.2.1", &rules, now()).unwrap();
    }
}

fn manager_id(demo: &Demo) -> String {
    demo.seed["manager"]["id"].as_str().unwrap().to_owned()
}

fn organisation_id(demo: &Demo) -> String {
    demo.seed["organisation"]["id"].as_str().unwrap().to_owned()
}

async fn the_list_says_each_helpers_state_and_is_for_managers_only(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    {
        let mut conn = app.db.store.conn().unwrap();
        // The demo helper locked out by failed sign-ins; one helper deactivated by a manager;
        // one added and not enrolled nor habilitated yet.
        hold_back(&mut conn, &demo.aidant_id());
        let gone = pending(&mut conn, "parti@example.fr", "Sacha", &organisation_id(&demo));
        aidants::deactivate(&mut conn, &gone, DeactivationReason::Manager, Some(&manager_id(&demo)), None, now())
            .unwrap();
        pending(&mut conn, "nouveau@example.fr", "Lou", &organisation_id(&demo));
    }
    let (manager, list) = Manager::sign_in(&app).await;
    assert!(list.contains("Ma structure — France Services Démo"), "{list}");
    assert!(list.contains("Camille Martin") && list.contains("aidant.demo@example.fr"), "{list}");
    assert!(list.contains("Conseillère France Services"), "profession: {list}");
    assert!(list.contains(">Bloqué<") && list.contains("après des connexions échouées, jusqu&#39;au"), "{list}");
    assert!(
        list.contains("Sacha Testeur") && list.contains("Désactivé") && list.contains("par un responsable"),
        "{list}"
    );
    assert!(list.contains("Lou Testeur") && list.contains("En cours d&#39;habilitation"), "{list}");
    assert!(list.contains("formation à faire, certification PIX à passer, charte à accepter"), "{list}");
    assert!(list.contains("Pas encore configuré") && list.contains("Jamais connecté"), "{list}");
    assert!(list.contains("Dominique Bernard") && list.contains("(vous)"), "{list}");
    assert!(list.contains("href=\"/structure/aidants/nouveau\""), "{list}");
    assert!(list.contains(&format!("href=\"/structure/aidants/{}\"", demo.aidant_id())), "{list}");
    // The manager's helper space links to their organisation's space.
    let (_, home) = manager.page("/espace-aidant").await;
    assert!(home.contains("href=\"/structure\""), "{home}");
    // In English too.
    manager.robot.get("/langue/en?retour=%2Fstructure").await;
    let (_, english) = manager.page("/structure").await;
    assert!(english.contains("My organisation") && english.contains("after failed sign-ins, until"), "{english}");

    // A helper who manages nothing is refused with a page, and is not shown the link.
    {
        let mut conn = app.db.store.conn().unwrap();
        let email = aidants::find(&mut conn, &demo.aidant_id()).unwrap().email;
        sign_in_delays::lift(&mut conn, &sign_in_delays::account_key(&email)).unwrap();
    }
    let mut helper = Robot::new(&app);
    let first = helper.get("/espace-aidant").await;
    let (_, home) = helper.log_in_until(first, "Mes usagers").await;
    assert!(!home.contains("href=\"/structure\""), "{home}");
    let refused = helper.get("/structure").await;
    assert_eq!(refused.status(), 403);
    assert!(refused.text().await.unwrap().contains("réservée aux responsables"));
    let refused = helper.get(&format!("/structure/aidants/{}", demo.aidant_id())).await;
    assert_eq!(refused.status(), 403);
    let token = csrf(&home);
    let refused = helper
        .post_form(&format!("/structure/aidants/{}/desactivation", manager_id(&demo)), &[("csrf_token", &token)])
        .await;
    assert_eq!(refused.status(), 403);
    let mut conn = app.db.store.conn().unwrap();
    assert!(aidants::find(&mut conn, &manager_id(&demo)).unwrap().active);
}

async fn deactivation_reactivation_unlock_and_habilitation_with_the_managers_code(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    let helper_id = demo.aidant_id();
    let (mut manager, list) = Manager::sign_in(&app).await;
    let token = csrf(&list);
    let page_url = format!("/structure/aidants/{helper_id}");
    let (status, page) = manager.page(&page_url).await;
    assert_eq!(status, 200);
    assert!(page.contains("Camille Martin") && page.contains("Désactiver le compte"), "{page}");

    // A wrong code changes nothing and says so.
    let (status, to) = manager.post(&format!("{page_url}/desactivation"), &token, &[("otp", "000000")]).await;
    assert_eq!((status, to.as_str()), (303, format!("{page_url}?erreur=code").as_str()));
    let (status, refused) = manager.page(&to).await;
    assert_eq!(status, 422);
    assert!(refused.contains("n&#39;a pas été accepté : rien n&#39;a été modifié"), "{refused}");
    assert!(journal_of(&app, &helper_id, JournalAction::AidantDeactivated).is_empty());

    let code = manager.next_code();
    let (_, to) = manager.post(&format!("{page_url}/desactivation"), &token, &[("otp", &code)]).await;
    assert_eq!(to, format!("{page_url}?notice=desactive"));
    let (_, after) = manager.page(&to).await;
    assert!(after.contains("Le compte a été désactivé") && after.contains("Réactiver le compte"), "{after}");
    {
        let mut conn = app.db.store.conn().unwrap();
        let aidant = aidants::find(&mut conn, &helper_id).unwrap();
        assert!(!aidant.active);
        assert_eq!(aidant.deactivation_reason.as_deref(), Some("manager"));
    }
    let entries = journal_of(&app, &helper_id, JournalAction::AidantDeactivated);
    assert_eq!(entries.len(), 1);
    assert_eq!(by(&entries[0]), manager_id(&demo));
    assert_eq!(entries[0].organisation_id.as_deref(), Some(organisation_id(&demo).as_str()));

    let code = manager.next_code();
    let (_, to) = manager.post(&format!("{page_url}/reactivation"), &token, &[("otp", &code)]).await;
    assert_eq!(to, format!("{page_url}?notice=reactive"));
    assert_eq!(journal_of(&app, &helper_id, JournalAction::AidantReactivated).len(), 1);

    // Locked by failed sign-ins, then unlocked.
    {
        let mut conn = app.db.store.conn().unwrap();
        hold_back(&mut conn, &helper_id);
    }
    let (_, locked) = manager.page(&page_url).await;
    assert!(locked.contains("Débloquer le compte"), "{locked}");
    let code = manager.next_code();
    let (_, to) = manager.post(&format!("{page_url}/deblocage"), &token, &[("otp", &code)]).await;
    assert_eq!(to, format!("{page_url}?notice=debloque"));
    {
        let mut conn = app.db.store.conn().unwrap();
        let aidant = aidants::find(&mut conn, &helper_id).unwrap();
        assert_eq!(aidant.held_back_until(&mut conn, now()).unwrap(), None);
    }
    let unlocked = journal_of(&app, &helper_id, JournalAction::AidantUnlocked);
    assert_eq!((unlocked.len(), by(&unlocked[0])), (1, manager_id(&demo)));

    // Habilitation dates: a date in the future is refused before any code is spent.
    let tomorrow = (now().date() + chrono::Duration::days(1)).format("%Y-%m-%d").to_string();
    let (_, to) = manager
        .post(&format!("{page_url}/habilitation"), &token, &[("etape", "formation"), ("date", &tomorrow), ("otp", "1")])
        .await;
    assert_eq!(to, format!("{page_url}?erreur=date"));
    let code = manager.next_code();
    let (_, to) = manager
        .post(&format!("{page_url}/habilitation"), &token, &[("etape", "pix"), ("date", "2026-03-12"), ("otp", &code)])
        .await;
    assert_eq!(to, format!("{page_url}?notice=pix"));
    let (_, page) = manager.page(&to).await;
    assert!(page.contains("Certification PIX obtenue le : 12 mars 2026"), "{page}");
    let recorded = journal_of(&app, &helper_id, JournalAction::HabilitationRecorded);
    let last = recorded.first().unwrap();
    assert_eq!(last.details.as_ref().unwrap().value()["step"], "pix");
    assert_eq!(by(last), manager_id(&demo));

    // A manager may not deactivate themselves, even with a good code.
    let own = format!("/structure/aidants/{}", manager_id(&demo));
    let (_, own_page) = manager.page(&own).await;
    assert!(own_page.contains("Vous ne pouvez pas désactiver votre propre compte"), "{own_page}");
    let code = manager.next_code();
    let (_, to) = manager.post(&format!("{own}/desactivation"), &token, &[("otp", &code)]).await;
    assert_eq!(to, format!("{own}?erreur=soi-meme"));
    let mut conn = app.db.store.conn().unwrap();
    assert!(aidants::find(&mut conn, &manager_id(&demo)).unwrap().active);
}

async fn a_helper_is_added_and_their_link_shown_once(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    let (mut manager, list) = Manager::sign_in(&app).await;
    let token = csrf(&list);
    let (status, form) = manager.page("/structure/aidants/nouveau").await;
    assert_eq!(status, 200);
    assert!(form.contains("name=\"prenom\"") && form.contains("name=\"otp\""), "{form}");

    // Missing fields and an e-mail already used: said beside each field, nothing created.
    let (status, refused) = manager
        .post(
            "/structure/aidants/nouveau",
            &token,
            &[("prenom", ""), ("nom", "Durand"), ("email", "aidant.demo@example.fr"), ("profession", "")],
        )
        .await;
    assert_eq!(status, 422);
    assert!(refused.contains("id=\"erreur-prenom\"") && refused.contains("id=\"erreur-profession\""), "{refused}");
    assert!(refused.contains("déjà celle d&#39;un compte"), "{refused}");
    assert!(refused.contains("value=\"Durand\""), "typed values are kept: {refused}");
    let (_, refused) = manager
        .post(
            "/structure/aidants/nouveau",
            &token,
            &[("prenom", "Alix"), ("nom", "Durand"), ("email", "pas-une-adresse"), ("profession", "Agent")],
        )
        .await;
    assert!(refused.contains("n&#39;est pas valide"), "{refused}");
    // A wrong code creates nothing.
    let fields = [("prenom", "Alix"), ("nom", "Durand"), ("email", "alix.durand@example.fr"), ("profession", "Agent")];
    let mut with_code = fields.to_vec();
    with_code.push(("otp", "000000"));
    let (status, refused) = manager.post("/structure/aidants/nouveau", &token, &with_code).await;
    assert_eq!(status, 422);
    assert!(refused.contains("n&#39;a pas été accepté"), "{refused}");
    {
        let mut conn = app.db.store.conn().unwrap();
        assert!(aidants::find_by_email(&mut conn, &Email::parse("alix.durand@example.fr").unwrap()).unwrap().is_none());
    }

    let code = manager.next_code();
    let mut with_code = fields.to_vec();
    with_code.push(("otp", &code));
    let (status, shown) = manager.post("/structure/aidants/nouveau", &token, &with_code).await;
    assert_eq!(status, 200, "{shown}");
    let prefix = format!("{}/inscription/", app.settings.issuer);
    let start = shown.find(&prefix).unwrap_or_else(|| panic!("the link: {shown}"));
    let link: String = shown[start..].chars().take_while(|c| *c != '"').collect();
    let token_part = link.trim_start_matches(&prefix).to_owned();
    assert!(token_part.len() >= 32, "{link}");
    assert!(shown.contains("Valable 72 heures") && shown.contains("affiché qu&#39;une fois"), "{shown}");

    let alix = {
        let mut conn = app.db.store.conn().unwrap();
        aidants::find_by_email(&mut conn, &Email::parse("alix.durand@example.fr").unwrap()).unwrap().unwrap()
    };
    let created = journal_of(&app, &alix.id, JournalAction::AidantCreated);
    assert_eq!((created.len(), by(&created[0])), (1, manager_id(&demo)));
    assert_eq!(journal_of(&app, &alix.id, JournalAction::EnrolmentLinkIssued).len(), 1);
    // Never again: neither the list nor the helper's page shows the token.
    let (_, list) = manager.page("/structure").await;
    assert!(list.contains("Alix Durand") && !list.contains(&token_part), "{list}");
    let (_, page) = manager.page(&format!("/structure/aidants/{}", alix.id)).await;
    assert!(!page.contains(&token_part) && page.contains("Pas encore configuré"), "{page}");

    // Resetting the second factors (here the demo helper's) issues a new link, shown once.
    let helper_url = format!("/structure/aidants/{}", demo.aidant_id());
    let (_, to) = manager.post(&format!("{helper_url}/second-facteur"), &token, &[("otp", "000000")]).await;
    assert_eq!(to, format!("{helper_url}?erreur=code"));
    let code = manager.next_code();
    let (status, reset) = manager.post(&format!("{helper_url}/second-facteur"), &token, &[("otp", &code)]).await;
    assert_eq!(status, 200, "{reset}");
    assert!(reset.contains(&prefix) && reset.contains("ont été supprimés"), "{reset}");
    let mut conn = app.db.store.conn().unwrap();
    assert!(!second_factors::has_confirmed(&mut conn, &demo.aidant_id()).unwrap());
    drop(conn);
    let reset_entries = journal_of(&app, &demo.aidant_id(), JournalAction::SecondFactorReset);
    assert_eq!((reset_entries.len(), by(&reset_entries[0])), (1, manager_id(&demo)));
}

async fn a_card_is_assigned_by_a_code_read_from_it(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    const CARD_SECRET: &str = "MFRGGZDFMZTWQ2LKNNWG23TQOFZHG5DV";
    {
        let mut conn = app.db.store.conn().unwrap();
        cards::import(&mut conn, &app.db.keys, &[("CARTE-0001".into(), CARD_SECRET.into())], now()).unwrap();
    }
    let (mut manager, list) = Manager::sign_in(&app).await;
    let token = csrf(&list);
    let url = format!("/structure/aidants/{}/carte", demo.aidant_id());
    let card_code =
        |offset: i64| idp::totp::code_at(CARD_SECRET, 60, (chrono::Utc::now().timestamp() + offset) as u64).unwrap();
    // Unknown serial; wrong code from the card (a code of another step window): nothing assigned.
    let code = manager.next_code();
    let (_, to) =
        manager.post(&url, &token, &[("serie", "CARTE-9999"), ("code_carte", &card_code(0)), ("otp", &code)]).await;
    assert!(to.ends_with("?erreur=carte"), "{to}");
    let code = manager.next_code();
    let (_, to) =
        manager.post(&url, &token, &[("serie", "CARTE-0001"), ("code_carte", &card_code(600)), ("otp", &code)]).await;
    assert!(to.ends_with("?erreur=code-carte"), "{to}");
    let (_, page) = manager.page(&to).await;
    assert!(page.contains("Le code de la carte n&#39;est pas le bon"), "{page}");
    assert!(journal_of(&app, &demo.aidant_id(), JournalAction::CardAssigned).is_empty());

    let code = manager.next_code();
    let (_, to) =
        manager.post(&url, &token, &[("serie", "CARTE-0001"), ("code_carte", &card_code(0)), ("otp", &code)]).await;
    assert!(to.ends_with("?notice=carte"), "{to}");
    {
        let mut conn = app.db.store.conn().unwrap();
        let factors = second_factors::list(&mut conn, &app.db.keys, &demo.aidant_id()).unwrap();
        assert!(factors.iter().any(|f| f.card_serial.as_deref() == Some("CARTE-0001") && f.confirmed_at.is_some()));
        assert!(cards::find_unassigned(&mut conn, &app.db.keys, "CARTE-0001").unwrap().is_none());
    }
    let assigned = journal_of(&app, &demo.aidant_id(), JournalAction::CardAssigned);
    assert_eq!((assigned.len(), by(&assigned[0])), (1, manager_id(&demo)));
    // The card is now held: giving it to the manager too is refused.
    let code = manager.next_code();
    let own = format!("/structure/aidants/{}/carte", manager_id(&demo));
    let (_, to) =
        manager.post(&own, &token, &[("serie", "CARTE-0001"), ("code_carte", &card_code(0)), ("otp", &code)]).await;
    assert!(to.ends_with("?erreur=carte"), "{to}");
}

async fn nothing_of_another_organisation_is_seen_or_changed(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    const CARD_SECRET: &str = "MFRGGZDFMZTWQ2LKNNWG23TQOFZHG5DV";
    let (b_helper, shared) = {
        let mut conn = app.db.store.conn().unwrap();
        let b = organisation_b(&mut conn);
        cards::import(&mut conn, &app.db.keys, &[("CARTE-0002".into(), CARD_SECRET.into())], now()).unwrap();
        // A helper of B only, locked out; a helper of both A and B.
        let b_helper = pending(&mut conn, "aidant.lyon@example.fr", "Noa", &b.id);
        hold_back(&mut conn, &b_helper);
        let shared = pending(&mut conn, "deux.structures@example.fr", "Eden", &organisation_id(&demo));
        aidants::add_to_organisation(&mut conn, &shared, &b.id).unwrap();
        hold_back(&mut conn, &shared);
        (b_helper, shared)
    };
    let (mut manager, list) = Manager::sign_in(&app).await;
    let token = csrf(&list);
    assert!(!list.contains("Noa Testeur"), "a helper of B is not listed: {list}");
    assert!(list.contains("Eden Testeur"), "a helper of both is: {list}");

    // One fresh code for every attempt: were one attempt to go through, it would spend the
    // code and the later ones would say "code refused" (a 303) instead of 403/404.
    let code = manager.next_code();
    let today = now().date().format("%Y-%m-%d").to_string();
    let card_code = idp::totp::code_at(CARD_SECRET, 60, chrono::Utc::now().timestamp() as u64).unwrap();
    for (id, expected) in [(&b_helper, 404), (&shared, 403)] {
        let base = format!("/structure/aidants/{id}");
        if expected == 404 {
            let (status, _) = manager.page(&base).await;
            assert_eq!(status, 404, "the page of a helper of B");
        } else {
            let (status, page) = manager.page(&base).await;
            assert_eq!(status, 200, "a helper of both is readable");
            assert!(page.contains("seul l&#39;opérateur peut modifier son compte"), "{page}");
            assert!(!page.contains("/desactivation\""), "no action offered: {page}");
        }
        let actions: [(&str, Vec<(&str, &str)>); 7] = [
            ("desactivation", vec![("otp", &code)]),
            ("reactivation", vec![("otp", &code)]),
            ("deblocage", vec![("otp", &code)]),
            ("habilitation", vec![("etape", "formation"), ("date", &today), ("otp", &code)]),
            ("habilitation", vec![("etape", "pix"), ("date", &today), ("otp", &code)]),
            ("second-facteur", vec![("otp", &code)]),
            ("carte", vec![("serie", "CARTE-0002"), ("code_carte", &card_code), ("otp", &code)]),
        ];
        for (action, fields) in actions {
            let (status, body) = manager.post(&format!("{base}/{action}"), &token, &fields).await;
            assert_eq!(status, expected, "{action} on {id}: {body}");
        }
    }
    // Nothing changed: still locked and active, not habilitated, no factor, no link, no card.
    let mut conn = app.db.store.conn().unwrap();
    for id in [&b_helper, &shared] {
        let aidant = aidants::find(&mut conn, id).unwrap();
        assert!(aidant.active && aidant.held_back_until(&mut conn, now()).unwrap().is_some());
        assert!(aidant.training_date.is_none() && aidant.pix_date.is_none());
        assert!(second_factors::list(&mut conn, &app.db.keys, id).unwrap().is_empty());
    }
    assert!(cards::find_unassigned(&mut conn, &app.db.keys, "CARTE-0002").unwrap().is_some());
    drop(conn);
    for id in [&b_helper, &shared] {
        for action in [
            JournalAction::AidantDeactivated,
            JournalAction::AidantReactivated,
            JournalAction::AidantUnlocked,
            JournalAction::HabilitationRecorded,
            JournalAction::SecondFactorReset,
            JournalAction::CardAssigned,
        ] {
            assert!(journal_of(&app, id, action).is_empty(), "{action:?} on {id}");
        }
        // Only the link issued when each was added (by the store call above: none here).
        assert!(journal_of(&app, id, JournalAction::EnrolmentLinkIssued).is_empty());
    }
    // The code was never spent: it still works for an action here.
    let (_, to) = manager
        .post(
            &format!("/structure/aidants/{}/habilitation", demo.aidant_id()),
            &token,
            &[("etape", "pix"), ("date", &today), ("otp", &code)],
        )
        .await;
    assert!(to.ends_with("?notice=pix"), "{to}");
    // Adding a helper always adds them to the manager's own organisation.
    let code = manager.next_code();
    let (status, _) = manager
        .post(
            "/structure/aidants/nouveau",
            &token,
            &[
                ("prenom", "Io"),
                ("nom", "Lambert"),
                ("email", "io@example.fr"),
                ("profession", "Agent"),
                ("otp", &code),
                ("organisation", "x"),
            ],
        )
        .await;
    assert_eq!(status, 200);
    let mut conn = app.db.store.conn().unwrap();
    let io = aidants::find_by_email(&mut conn, &Email::parse("io@example.fr").unwrap()).unwrap().unwrap();
    let theirs: Vec<String> = aidants::organisations_of(&mut conn, &io.id).unwrap().into_iter().map(|o| o.id).collect();
    assert_eq!(theirs, vec![organisation_id(&demo)]);
}
