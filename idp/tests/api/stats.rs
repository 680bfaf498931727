//! `/stats`: the public statistics answer without sign-in, show counts of 5 and more, write
//! "moins de 5" for smaller ones, draw each figure as SVG with its text alternative, and may be
//! cached for ten minutes (by the server too). On SQLite and PostgreSQL.

use idp::web::dates::{MONTHS_EN, MONTHS_FR};
use mandate_store::journal::{self, JournalAction, NewEntry};
use mandate_store::organisations::{self, NewOrganisation};
use mandate_store::statistics::Month;
use mandate_store::{now, Backend, Demarche, Siret};

use crate::helpers::TestApp;

crate::on_both_backends!(
    the_figures_are_public_and_small_counts_are_hidden,
    each_chart_has_its_text_alternative,
    the_page_and_its_figures_are_kept_ten_minutes,
    the_page_is_in_english_with_the_language_cookie,
);

/// An organisation in Occitanie where a helper made `argent` accesses for seven usagers and
/// `famille` accesses for three, this month.
fn seed(app: &TestApp) {
    let mut conn = app.db.store.conn().unwrap();
    let organisation = organisations::create(
        &mut conn,
        NewOrganisation {
            name: "France Services Albi".into(),
            siret: Siret::parse("21810004300007").unwrap(),
            address: "16 rue de l'Hôtel de Ville".into(),
            postcode: "81000".into(),
            city: "Albi".into(),
            organisation_type: mandate_store::OrganisationType::FranceServices,
            department: mandate_store::Department::parse("81").unwrap(),
            demarches: mandate_store::Demarche::ALL.to_vec(),
        },
        now(),
    )
    .unwrap();
    drop(conn);
    app.db
        .execute_sql(&format!("UPDATE organisations SET organisation_type = 'ccas' WHERE id = '{}'", organisation.id));
    let accesses = (0..7).map(|i| (i, Demarche::Argent)).chain((7..10).map(|i| (i, Demarche::Famille)));
    for (i, demarche) in accesses {
        access(app, &organisation.id, &format!("usager-{i}"), demarche);
    }
}

fn access(app: &TestApp, organisation_id: &str, usager_id: &str, demarche: Demarche) {
    let mut conn = app.db.store.conn().unwrap();
    let entry = NewEntry::new(JournalAction::AuthorisationUsed)
        .aidant("aidant-1")
        .organisation(organisation_id)
        .usager(usager_id)
        .demarche(demarche)
        .client("service-impots");
    journal::append(&mut conn, entry, now()).unwrap();
}

fn this_month(names: &[&str; 12]) -> String {
    let month = Month::of(now());
    format!("{} {}", names[month.month as usize - 1], month.year)
}

/// The cells of the table row headed `header` (the first row so headed after `from`).
fn row_after(html: &str, from: &str, header: &str) -> Vec<String> {
    let start = html.find(from).unwrap_or_else(|| panic!("{from} not in the page"));
    let rest = &html[start..];
    let row_start = rest.find(&format!("<th scope=\"row\">{header}</th>")).unwrap_or_else(|| panic!("no row {header}"));
    let row = &rest[row_start..rest[row_start..].find("</tr>").unwrap() + row_start];
    row.split("<td>").skip(1).map(|cell| cell.split("</td>").next().unwrap().to_owned()).collect()
}

async fn get_stats(app: &TestApp) -> reqwest::Response {
    let response = app.client.get(app.url("/stats")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response
}

async fn the_figures_are_public_and_small_counts_are_hidden(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    seed(&app);
    // No session cookie, no sign-in.
    let html = reqwest::get(app.url("/stats")).await.unwrap().text().await.unwrap();
    let month = this_month(&MONTHS_FR);

    // Ten accesses for ten usagers this month, all in Occitanie.
    assert_eq!(row_after(&html, "id=\"connexions-tableau\"", &month), ["10"]);
    assert_eq!(row_after(&html, "id=\"personnes-tableau\"", &month), ["10"]);
    assert_eq!(row_after(&html, "id=\"connexions-regions\"", "Occitanie").last().unwrap(), "10");
    assert_eq!(row_after(&html, "id=\"connexions-types\"", "CCAS").last().unwrap(), "10");
    // Seven for argent are shown, three for famille are not.
    let argent = row_after(&html, "id=\"connexions-demarches\"", Demarche::Argent.label_fr());
    assert_eq!(argent.last().unwrap(), "7");
    let famille = row_after(&html, "id=\"connexions-demarches\"", Demarche::Famille.label_fr());
    assert_eq!(famille.last().unwrap(), "moins de 5");
    assert!(!html.contains("<td>3</td>"), "a count below 5 never appears");
    // No mandate was created: every month says so in words.
    assert!(row_after(&html, "id=\"mandats-tableau\"", &month) == ["moins de 5"]);
    assert!(html.contains("moins de 5"));
}

async fn each_chart_has_its_text_alternative(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    seed(&app);
    let html = get_stats(&app).await.text().await.unwrap();
    for id in ["mandats", "personnes", "connexions"] {
        let svg_start = html.find(&format!("aria-labelledby=\"{id}-legende {id}-tableau\"")).unwrap();
        let svg = &html[html[..svg_start].rfind("<svg").unwrap()..];
        let svg = &svg[..svg.find("</svg>").unwrap()];
        assert!(svg.contains("role=\"img\""), "{svg}");
        assert_eq!(svg.matches("<rect").count(), 12, "one bar per month: {svg}");
        assert!(!svg.contains("style="), "the CSP refuses inline styles: {svg}");
        assert!(html.contains(&format!("<figcaption id=\"{id}-legende\">")), "{id}");
        assert!(html.contains(&format!("<table class=\"stats-table\" id=\"{id}-tableau\">")), "{id}");
    }
    // The ten accesses drawn as a filled bar labelled with its number; the hidden counts
    // outlined, labelled without a number.
    let connexions = &html[html.find("connexions-legende connexions-tableau").unwrap()..];
    let connexions = &connexions[..connexions.find("</svg>").unwrap()];
    assert!(connexions.contains(">10</text>"), "{connexions}");
    assert_eq!(connexions.matches("stats-chart__bar--hidden").count(), 11, "{connexions}");
    assert_eq!(connexions.matches("&#60; 5</text>").count(), 11, "{connexions}");

    // The helpers today: three rows drawn, each also in the table, none of them a number here.
    let helpers = &html[html.find("aidants-legende aidants-tableau").unwrap()..];
    let helpers = &helpers[..helpers.find("</svg>").unwrap()];
    assert_eq!(helpers.matches("<rect").count(), 3, "{helpers}");
    assert_eq!(helpers.matches("stats-chart__bar--hidden").count(), 3, "{helpers}");
    assert_eq!(row_after(&html, "id=\"aidants-tableau\"", "Habilités"), ["moins de 5"]);
    assert_eq!(row_after(&html, "id=\"aidants-tableau\"", "En cours d&#39;habilitation"), ["moins de 5"]);
}

async fn the_page_and_its_figures_are_kept_ten_minutes(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    seed(&app);
    let response = get_stats(&app).await;
    assert_eq!(response.headers()["cache-control"], "public, max-age=600");
    assert_eq!(response.headers()["vary"], "Cookie", "the language cookie changes the page");
    assert!(response.headers().get("set-cookie").is_none(), "a page anyone may cache sets no cookie");
    let first = response.text().await.unwrap();
    assert_eq!(row_after(&first, "id=\"connexions-tableau\"", &this_month(&MONTHS_FR)), ["10"]);

    // Five more accesses: the figures kept in memory are shown until they are ten minutes old.
    for i in 0..5 {
        access(&app, "elsewhere", &format!("later-{i}"), Demarche::Social);
    }
    let second = get_stats(&app).await.text().await.unwrap();
    assert_eq!(row_after(&second, "id=\"connexions-tableau\"", &this_month(&MONTHS_FR)), ["10"]);
}

async fn the_page_is_in_english_with_the_language_cookie(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    seed(&app);
    let french = get_stats(&app).await.text().await.unwrap();
    assert!(french.contains("<html lang=\"fr\">"));
    assert!(french.contains("href=\"/langue/en?retour=%2Fstats\""));
    let chosen = app.client.get(app.url("/langue/en?retour=%2Fstats")).send().await.unwrap();
    assert_eq!(chosen.headers()["location"], "/stats");
    let english = get_stats(&app).await.text().await.unwrap();
    assert!(english.contains("<html lang=\"en\">"));
    assert!(english.contains("<h1>Usage statistics</h1>"));
    assert_eq!(row_after(&english, "id=\"connexions-tableau\"", &this_month(&MONTHS_EN)), ["10"]);
    let famille = row_after(&english, "id=\"connexions-demarches\"", Demarche::Famille.label_en());
    assert_eq!(famille.last().unwrap(), "fewer than 5");
}
