//! The frame of every page: the State design system served from npm's folder under a versioned
//! path, the two themes (the Marianne identity in `dsfr`, none of it in `neutral`), the header
//! naming the signed-in helper with a sign-out form, and the footer's three pages. On SQLite and
//! PostgreSQL.

use std::io::{Read, Write};

use idp::configuration::Theme;
use mandate_store::Backend;

use crate::helpers::TestApp;
use crate::robot::{input_value, seed, Robot};

crate::on_both_backends!(
    a_page_in_each_theme_has_or_lacks_the_marianne_block_and_links_its_css,
    the_design_system_is_served_from_its_versioned_path_for_a_year,
    nothing_else_is_served_under_the_design_system_path,
    the_footer_pages_say_who_answers_for_the_service,
    a_signed_in_page_names_the_helper_and_organisation_with_a_sign_out_form,
);

#[test]
fn without_the_design_system_the_server_does_not_start_and_says_to_run_npm_ci() {
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_idp"))
        .arg("serve")
        .current_dir(dir.path())
        .env_remove("IDP_CONFIG")
        .env("IDP__HTTP__BIND", "127.0.0.1:0")
        .env("IDP__UI__ASSETS_DIR", dir.path().join("node_modules/@gouvfr/dsfr/dist"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(i32::from(idp::cli::exit::CONFIGURATION)));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("`ui.assets_dir`") && stderr.contains("npm ci"), "{stderr}");
    assert!(!dir.path().join("data").exists(), "stopped before creating the database");
}

async fn spawn_in(backend: Backend, theme: Theme) -> Option<TestApp> {
    TestApp::spawn_with(backend, |s| s.ui.theme = theme).await
}

async fn body(app: &TestApp, path: &str) -> (u16, String) {
    let response = app.client.get(app.url(path)).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// The path of the design system's stylesheet the page links to.
fn dsfr_stylesheet(html: &str) -> Option<String> {
    let start = html.find("href=\"/static/dsfr/")? + "href=\"".len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned()).filter(|href| href.ends_with("/dsfr.min.css"))
}

/// `GET path` as raw bytes on the wire, so that no client tidies `..` away first; the status.
fn raw_get(app: &TestApp, path: &str) -> (u16, String) {
    let address = app.address.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, response)
}

async fn a_page_in_each_theme_has_or_lacks_the_marianne_block_and_links_its_css(backend: Backend) {
    let Some(dsfr) = spawn_in(backend, Theme::Dsfr).await else { return };
    let (status, login) = body(&dsfr, "/login").await;
    assert_eq!(status, 200);
    assert!(login.contains("<p class=\"fr-logo\">République<br>Française</p>"), "{login}");
    let stylesheet = dsfr_stylesheet(&login).expect("the design system's stylesheet");
    assert!(stylesheet.starts_with("/static/dsfr/1."), "a version in the path: {stylesheet}");
    assert!(!login.contains("/static/neutral.css"), "{login}");
    assert!(login.contains("<main class=\"fr-container idp-main\" id=\"contenu\""), "{login}");
    assert!(login.contains("href=\"#contenu\""), "a skip link to the content: {login}");
    // Error pages are rendered without the request, and still in the server's theme.
    let (status, expired) = body(&dsfr, "/login?request=unknown").await;
    assert_eq!(status, 400);
    assert!(expired.contains("class=\"fr-logo\"") && dsfr_stylesheet(&expired).is_some(), "{expired}");

    let Some(neutral) = spawn_in(backend, Theme::Neutral).await else { return };
    for path in ["/login", "/accessibilite", "/login?request=unknown"] {
        let (_, page) = body(&neutral, path).await;
        assert!(!page.contains("fr-logo"), "no Marianne block on {path}: {page}");
        assert!(!page.to_lowercase().contains("république"), "no République française on {path}: {page}");
        assert!(!page.contains("favicon"), "no Marianne favicon on {path}");
        assert!(page.contains("<link rel=\"stylesheet\" href=\"/static/neutral.css\">"), "{page}");
        assert_eq!(dsfr_stylesheet(&page), Some(stylesheet.clone()), "the same components: {page}");
    }
    let css = neutral.client.get(neutral.url("/static/neutral.css")).send().await.unwrap();
    assert_eq!(css.status(), 200);
    assert!(css.headers()["content-type"].to_str().unwrap().starts_with("text/css"));
    let css = css.text().await.unwrap();
    assert!(css.contains("--blue-france-sun-113-625:") && !css.contains("font-family: Marianne"), "{css}");
}

async fn the_design_system_is_served_from_its_versioned_path_for_a_year(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (_, login) = body(&app, "/login").await;
    let stylesheet = dsfr_stylesheet(&login).unwrap();
    let css = app.client.get(app.url(&stylesheet)).send().await.unwrap();
    assert_eq!(css.status(), 200);
    assert_eq!(css.headers()["cache-control"], "public, max-age=31536000, immutable");
    assert!(css.headers()["content-type"].to_str().unwrap().starts_with("text/css"), "{:?}", css.headers());
    let etag = css.headers()["etag"].to_str().unwrap().to_owned();
    let css = css.text().await.unwrap();
    let version = stylesheet.trim_start_matches("/static/dsfr/").trim_end_matches("/dsfr.min.css");
    assert!(css.contains(&format!("DSFR v{version}")), "the installed version is the one in the path");

    // What the stylesheet and the pages load from the same folder: the Marianne font, an icon,
    // the script module.
    let base = format!("/static/dsfr/{version}");
    for (file, content_type) in [
        ("fonts/Marianne-Regular.woff2", "font/woff2"),
        ("icons/system/close-line.svg", "image/svg+xml"),
        ("dsfr.module.min.js", "text/javascript"),
    ] {
        let response = app.client.get(app.url(&format!("{base}/{file}"))).send().await.unwrap();
        assert_eq!(response.status(), 200, "{file}");
        assert_eq!(response.headers()["cache-control"], "public, max-age=31536000, immutable", "{file}");
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with(content_type), "{file}");
    }
    // A browser that has it asks again only with its ETag, and is told it is unchanged.
    let again = app.client.get(app.url(&stylesheet)).header("If-None-Match", etag.as_str()).send().await.unwrap();
    assert_eq!(again.status(), 304);
}

async fn nothing_else_is_served_under_the_design_system_path(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let (_, login) = body(&app, "/login").await;
    let stylesheet = dsfr_stylesheet(&login).unwrap();
    let base = stylesheet.trim_end_matches("/dsfr.min.css").to_owned();
    for path in [
        format!("{base}/no-such-file.css"),
        format!("{base}/fonts"),
        format!("{base}/fonts/"),
        format!("{base}/"),
        "/static/dsfr/0.0.1/dsfr.min.css".to_owned(),
    ] {
        let response = app.client.get(app.url(&path)).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
        assert!(response.headers().get("cache-control").is_none_or(|c| c != "public, max-age=31536000, immutable"));
    }
    // `..`, as it is, percent-encoded, or with an encoded slash, never leaves the folder: the
    // repository's package.json is two folders above node_modules/@gouvfr/dsfr/dist.
    for escape in [
        "../../../../package.json",
        "%2e%2e/%2e%2e/%2e%2e/%2e%2e/package.json",
        "..%2f..%2f..%2f..%2fpackage.json",
        "fonts/../../../../../package.json",
        ".%2e/.%2e/.%2e/.%2e/package.json",
    ] {
        let (status, response) = raw_get(&app, &format!("{base}/{escape}"));
        assert_eq!(status, 404, "{escape}: {response}");
        assert!(!response.contains("devDependencies"), "{escape}: {response}");
    }
}

async fn the_footer_pages_say_who_answers_for_the_service(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |s| {
        s.ui.operator_name = "Département du Test".into();
        s.ui.publication_director = "La directrice générale des services".into();
        s.ui.hosting = "Hébergeur Exemple, 1 rue des Serveurs, 59000 Lille".into();
        s.ui.contact_email = "aidants@departement-test.example.fr".into();
    })
    .await
    else {
        return;
    };
    let (_, login) = body(&app, "/login").await;
    for link in ["href=\"/accessibilite\"", "href=\"/mentions-legales\"", "href=\"/donnees-personnelles\""] {
        assert!(login.contains(link), "the footer links {link}: {login}");
    }
    let (status, accessibility) = body(&app, "/accessibilite").await;
    assert_eq!(status, 200);
    assert!(accessibility.contains("<h1>Déclaration d'accessibilité</h1>"), "{accessibility}");
    assert!(accessibility.contains("<strong>non conforme</strong>"), "not compliant until audited");
    assert!(accessibility.contains("mailto:aidants@departement-test.example.fr"), "how to report a problem");
    assert!(accessibility.contains("Défenseur des droits"), "{accessibility}");

    let (status, notice) = body(&app, "/mentions-legales").await;
    assert_eq!(status, 200);
    for fact in ["Département du Test", "La directrice générale des services", "Hébergeur Exemple, 1 rue des Serveurs"]
    {
        assert!(notice.contains(fact), "{fact}: {notice}");
    }

    let (status, data) = body(&app, "/donnees-personnelles").await;
    assert_eq!(status, 200);
    for kept in ["comptes des aidants", "FranceConnect", "Les mandats", "Le journal", "12 heures"] {
        assert!(data.contains(kept), "{kept}: {data}");
    }
    assert!(data.contains("mailto:aidants@departement-test.example.fr") && data.contains("CNIL"), "{data}");

    // In English when the browser chose it.
    let english = app.client.get(app.url("/langue/en?retour=/mentions-legales")).send().await.unwrap();
    assert_eq!(english.status(), 303);
    let (_, notice) = body(&app, "/mentions-legales").await;
    assert!(notice.contains("<html lang=\"en\">") && notice.contains("<h1>Legal notice</h1>"), "{notice}");
    assert!(notice.contains("Accessibility: not compliant"), "the footer in English too: {notice}");

    // Unset, the operator's details say so rather than inventing any.
    let Some(unset) = TestApp::spawn(backend).await else { return };
    let (_, notice) = body(&unset, "/mentions-legales").await;
    assert!(notice.contains("nom non renseigné") && !notice.contains("mailto:"), "{notice}");
}

async fn a_signed_in_page_names_the_helper_and_organisation_with_a_sign_out_form(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    seed(&app);
    let mut robot = Robot::new(&app);
    let (_, anonymous) = body(&app, "/accessibilite").await;
    assert!(!anonymous.contains("fr-header__tools"), "nobody to name: {anonymous}");
    let first = robot.get("/espace-aidant").await;
    let (status, home) = robot.log_in_until(first, "Mes usagers").await;
    assert_eq!(status, 200, "{home}");
    let header = &home[home.find("<header").unwrap()..home.find("</header>").unwrap()];
    assert!(header.contains("<strong>Camille Martin</strong>"), "{header}");
    assert!(header.contains("France Services Démo"), "{header}");
    assert!(header.contains("<form method=\"post\" action=\"/logout/confirm\""), "{header}");
    let csrf = input_value(header, "csrf_token").expect("the sign-out form's CSRF token");
    // Every page shows it, the footer's too.
    let footer_page = robot.get("/donnees-personnelles").await.text().await.unwrap();
    assert!(footer_page.contains("<strong>Camille Martin</strong>"), "{footer_page}");
    // The header's form signs out.
    let out = robot.post_form("/logout/confirm", &[("csrf_token", &csrf)]).await;
    assert!(out.status().is_success() || out.status().is_redirection(), "{}", out.status());
    let after = robot.get("/accessibilite").await.text().await.unwrap();
    assert!(!after.contains("Camille Martin"), "signed out: {after}");
    assert_eq!(robot.get("/espace-aidant").await.status(), 303, "the space asks to sign in again");
}
