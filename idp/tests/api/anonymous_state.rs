//! A stranger's visits leave nothing behind: no session row for an anonymous `GET /login`,
//! `/authorize` or the usager space's first page (each used to store one living 12 hours). The
//! row is written when a helper's password is accepted, and a browser keeping its cookie still
//! signs in and serves the relying party.

use diesel::prelude::*;
use idp::admin::demo::DEMO_CLIENT_ID;
use mandate_store::Backend;

use crate::helpers::TestApp;
use crate::robot::{input_value, location, query_params, seed, Robot, CALLBACK};

crate::on_both_backends!(
    anonymous_visits_store_no_session_and_a_browser_still_signs_in,
    a_cookie_of_an_ended_session_is_replaced_not_revived,
);

const VISITS: usize = 200;

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Rows in the helpers' and the usagers' session tables.
fn session_rows(app: &TestApp) -> (i64, i64) {
    let mut conn = app.db.store.conn().unwrap();
    let mut rows = |table: &str| {
        diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}")).get_result::<Count>(&mut *conn).unwrap().n
    };
    (rows("sessions"), rows("usager_sessions"))
}

fn authorize_query() -> String {
    let params = [
        ("client_id", DEMO_CLIENT_ID),
        ("redirect_uri", CALLBACK),
        ("response_type", "code"),
        ("scope", "openid profile"),
        ("state", "st"),
        ("nonce", "n"),
    ];
    serde_urlencoded::to_string(params).unwrap()
}

async fn anonymous_visits_store_no_session_and_a_browser_still_signs_in(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    assert_eq!(session_rows(&app), (0, 0));
    // A client that keeps no cookie: every request is a new stranger.
    let stranger = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let authorize = app.url(&format!("/authorize?{}", authorize_query()));
    let mut secrets = std::collections::HashSet::new();
    for _ in 0..VISITS {
        let login = stranger.get(app.url("/login")).send().await.unwrap();
        assert_eq!(login.status(), 200);
        let cookie = login.headers()["set-cookie"].to_str().unwrap().to_owned();
        assert!(cookie.starts_with("idp_session=") && cookie.contains("HttpOnly"), "{cookie}");
        secrets.insert(cookie);
        assert!(input_value(&login.text().await.unwrap(), "csrf_token").is_some_and(|t| !t.is_empty()));

        let redirected = stranger.get(&authorize).send().await.unwrap();
        assert_eq!(redirected.status(), 303);
        assert!(location(&redirected).starts_with("/login?request="), "{}", location(&redirected));

        let space = stranger.get(app.url("/espace-usager")).send().await.unwrap();
        assert_eq!(space.status(), 200);
    }
    assert_eq!(secrets.len(), VISITS, "each stranger gets a secret of their own");
    assert_eq!(session_rows(&app), (0, 0), "{} anonymous visits stored no session", 3 * VISITS);

    // A browser keeps its cookie: the request it began anonymously is served once it signs in.
    let mut robot = Robot::new(&app);
    let first = robot.get(&format!("/authorize?{}", authorize_query())).await;
    assert_eq!(first.status(), 303);
    let login_page = robot.get(&location(&first)).await;
    assert_eq!(login_page.status(), 200);
    assert!(login_page.headers().get("set-cookie").is_none(), "the cookie set by /authorize is kept");
    assert_eq!(session_rows(&app).0, 0, "still nothing stored before the password");
    let callback = robot.complete(first, &demo.usager_id(0), "logement").await;
    assert!(callback.starts_with(CALLBACK), "{callback}");
    assert_eq!(query_params(&callback)["state"], "st");
    assert!(query_params(&callback).contains_key("code"));
    assert_eq!(session_rows(&app), (1, 0), "the helper's session, stored from the password on");
}

/// A browser returning with the cookie of a session that ended (signed out) is given a new
/// secret: the ended session is never taken up again, and nothing new is stored.
async fn a_cookie_of_an_ended_session_is_replaced_not_revived(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let mut robot = Robot::new(&app);
    robot.client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_provider(jar.clone())
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let first = robot.get(&format!("/authorize?{}", authorize_query())).await;
    robot.complete(first, &demo.usager_id(0), "logement").await;
    let cookies = reqwest::cookie::CookieStore::cookies(&*jar, &app.url("/").parse().unwrap()).unwrap();
    let secret = cookies
        .to_str()
        .unwrap()
        .split("; ")
        .find_map(|c| c.strip_prefix("idp_session="))
        .expect("the session cookie")
        .to_owned();
    let space = robot.get("/espace-aidant").await.text().await.unwrap();
    let csrf = input_value(&space, "csrf_token").expect("the sign-out form's token");
    let out = robot.post_form("/logout/confirm", &[("csrf_token", &csrf)]).await;
    assert!(out.status().is_success() || out.status().is_redirection(), "{}", out.status());
    let mut conn = app.db.store.conn().unwrap();
    let ended = mandate_store::sessions::find(&mut conn, &mandate_store::secret_hash(&secret)).unwrap().unwrap();
    assert!(ended.ended_at.is_some(), "signed out");
    drop(conn);

    let stranger = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let page = stranger.get(app.url("/login")).header("cookie", format!("idp_session={secret}")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let fresh = page.headers().get("set-cookie").expect("a fresh secret").to_str().unwrap().to_owned();
    assert!(fresh.starts_with("idp_session=") && !fresh.contains(&secret), "{fresh}");
    assert_eq!(session_rows(&app).0, 1, "the ended session only");
}
