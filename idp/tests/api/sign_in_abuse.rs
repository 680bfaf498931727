//! Sign-in attacks repeated against the real server, and what now stops them: guesses sent at
//! once counted one by one, progressive delays per account and address (a stranger elsewhere
//! does not keep the helper out; the manager lets them in again), known and unknown e-mails
//! answered alike, a quota per address, and argon2 bounded. On SQLite and PostgreSQL.

use std::net::IpAddr;
use std::time::Duration;

use futures_util::future::join_all;
use idp::admin::demo::{DEMO_EMAIL, DEMO_PASSWORD};
use idp::configuration::Settings;
use idp::web::AppState;
use mandate_store::aidants::{self, NewPendingAidant};
use mandate_store::sign_in_delays::{self, account_key, SignInStep};
use mandate_store::{now, Backend, Email};

use crate::helpers::TestApp;
use crate::manager_space::{csrf, Manager};
use crate::robot::{input_value, location, seed, Robot};

crate::on_both_backends!(
    guesses_sent_at_once_are_checked_one_by_one_and_the_delay_holds,
    unknown_and_known_emails_are_answered_alike,
    many_attempts_from_one_address_are_answered_429,
    a_stranger_elsewhere_does_not_keep_the_helper_out_and_the_manager_lets_them_in,
    wrong_codes_sent_at_once_are_checked_one_by_one,
    password_hashing_runs_at_most_the_bound_at_once,
);

/// Short delays so that a test can wait them out, and no quota per address unless asked.
fn quick_delays(settings: &mut Settings) {
    settings.login.first_delay_seconds = 2;
    settings.login.lockout_minutes = 1;
    settings.login.attempts_per_address_per_minute = 10_000;
    settings.login.concurrent_password_checks = 2;
    // Under a loaded machine the burst waits its turn rather than being answered 503.
    settings.login.password_check_wait_ms = 120_000;
}

/// A browser from `address` (any of 127.0.0.0/8 reaches the server on 127.0.0.1).
fn browser_from<'a>(app: &'a TestApp, address: &str) -> Robot<'a> {
    let mut robot = Robot::new(app);
    robot.client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .pool_max_idle_per_host(0)
        .local_address(address.parse::<IpAddr>().unwrap())
        .build()
        .unwrap();
    robot
}

/// The login page's CSRF token for this browser.
async fn login_token(robot: &Robot<'_>) -> String {
    let html = robot.get("/login").await.text().await.unwrap();
    input_value(&html, "csrf_token").expect("a CSRF token")
}

async fn try_password(robot: &Robot<'_>, token: &str, email: &str, password: &str) -> reqwest::Response {
    robot.post_form("/login", &[("csrf_token", token), ("email", email), ("password", password)]).await
}

/// Sends `n` wrong passwords for `email` at once; returns their statuses.
async fn burst(robot: &Robot<'_>, token: &str, email: &str, n: usize) -> Vec<u16> {
    let attempts = (0..n).map(|i| async move {
        try_password(robot, token, email, &format!("wrong password {i}")).await.status().as_u16()
    });
    join_all(attempts).await
}

fn failures(app: &TestApp, step: SignInStep, email: &str, source: &str) -> i32 {
    let mut conn = app.db.store.conn().unwrap();
    let rows = sign_in_delays::of_account(&mut conn, step, &account_key(email)).unwrap();
    rows.iter().find(|row| row.source == source).map_or(0, |row| row.failures)
}

fn retry_after(response: &reqwest::Response) -> u64 {
    response.headers()["retry-after"].to_str().unwrap().parse().unwrap()
}

async fn spawn(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> Option<(TestApp, AppState)> {
    TestApp::spawn_with_state(backend, |s| {
        quick_delays(s);
        adjust(s);
    })
    .await
}

async fn guesses_sent_at_once_are_checked_one_by_one_and_the_delay_holds(backend: Backend) {
    let Some((app, state)) = spawn(backend, |_| {}).await else { return };
    seed(&app);
    let free = app.settings.login.max_failed_attempts;
    let robot = Robot::new(&app);
    let token = login_token(&robot).await;
    let checked_before = state.password_checks.done();

    // Forty guesses at once: only the free ones are checked, the one that used up the last
    // free failure says how long to wait, and every other is held back unchecked.
    let statuses = burst(&robot, &token, DEMO_EMAIL, 40).await;
    let checked = state.password_checks.done() - checked_before;
    assert_eq!(checked, free as u64, "argon2 ran {checked} times for 40 guesses: {statuses:?}");
    assert_eq!(failures(&app, SignInStep::Password, DEMO_EMAIL, "127.0.0.1"), free);
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), free as usize - 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 40 - (free as usize - 1), "{statuses:?}");

    // The right password while held back: refused unchecked, with the wait.
    let right = try_password(&robot, &token, DEMO_EMAIL, DEMO_PASSWORD).await;
    assert_eq!(right.status(), 429);
    assert!((1..=2).contains(&retry_after(&right)), "{:?}", right.headers());
    let page = right.text().await.unwrap();
    assert!(
        page.contains("votre compte est bloqué temporairement") && page.contains("moins d&#39;une minute"),
        "{page}"
    );
    assert_eq!(state.password_checks.done() - checked_before, free as u64);

    // The delay over, a burst gets one try, which doubles the wait.
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let checked_before = state.password_checks.done();
    let statuses = burst(&robot, &token, DEMO_EMAIL, 10).await;
    assert_eq!(state.password_checks.done() - checked_before, 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 429), "{statuses:?}");
    assert_eq!(failures(&app, SignInStep::Password, DEMO_EMAIL, "127.0.0.1"), free + 1);
    let held = try_password(&robot, &token, DEMO_EMAIL, DEMO_PASSWORD).await;
    assert!((3..=4).contains(&retry_after(&held)), "doubled: {:?}", held.headers());

    // That wait over, the right password goes through and the count starts again.
    tokio::time::sleep(Duration::from_millis(4_100)).await;
    let right = try_password(&robot, &token, DEMO_EMAIL, DEMO_PASSWORD).await;
    assert_eq!(right.status(), 303);
    assert!(location(&right).starts_with("/login/otp"), "{}", location(&right));
    assert_eq!(failures(&app, SignInStep::Password, DEMO_EMAIL, "127.0.0.1"), 0);
}

async fn unknown_and_known_emails_are_answered_alike(backend: Backend) {
    let Some((app, state)) = spawn(backend, |_| {}).await else { return };
    let demo = seed(&app);
    {
        // An account waiting for its enrolment link has no password hash at all.
        let mut conn = app.db.store.conn().unwrap();
        let organisation = demo.seed["organisation"]["id"].as_str().unwrap().to_owned();
        let new = NewPendingAidant {
            email: Email::parse("en.attente@example.fr").unwrap(),
            given_name: "Lou".into(),
            family_name: "Attente".into(),
            profession: "Agent d'accueil".into(),
            organisation_id: organisation,
        };
        aidants::create_pending(&mut conn, new, None, now()).unwrap();
    }
    let robot = Robot::new(&app);
    let token = login_token(&robot).await;
    let emails = [DEMO_EMAIL, "inconnu@example.fr", "en.attente@example.fr"];
    // Each attempt, up to and past the delay, answers the same for the three, with the same
    // argon2 work (none once held back).
    for attempt in 1..=app.settings.login.max_failed_attempts + 1 {
        let mut answers = Vec::new();
        for email in emails {
            let before = state.password_checks.done();
            let response = try_password(&robot, &token, email, "not the password at all").await;
            let status = response.status().as_u16();
            let wait = response.headers().get("retry-after").is_some();
            let body = response.text().await.unwrap().replace(email, "EMAIL");
            answers.push((status, wait, body, state.password_checks.done() - before));
        }
        assert_eq!(answers[0], answers[1], "attempt {attempt}: a known e-mail and an unknown one differ");
        assert_eq!(answers[0], answers[2], "attempt {attempt}: an account without password differs");
    }
}

async fn many_attempts_from_one_address_are_answered_429(backend: Backend) {
    let Some((app, _)) = spawn(backend, |s| s.login.attempts_per_address_per_minute = 10).await else { return };
    seed(&app);
    let robot = Robot::new(&app);
    let token = login_token(&robot).await;
    // Every guess for another e-mail, so that no account's delay is what stops them.
    let mut statuses = Vec::new();
    for i in 0..14 {
        let response = try_password(&robot, &token, &format!("personne{i}@example.fr"), "wrong password").await;
        statuses.push(response.status().as_u16());
        if i == 13 {
            assert!(retry_after(&response) >= 1, "{:?}", response.headers());
            let page = response.text().await.unwrap();
            assert!(page.contains("Trop de tentatives de connexion depuis votre réseau"), "{page}");
        }
    }
    assert_eq!(statuses[..10], [401; 10], "{statuses:?}");
    assert_eq!(statuses[10..], [429; 4], "{statuses:?}");
    // Another address still has its whole quota.
    let elsewhere = browser_from(&app, "127.0.0.2");
    let token = login_token(&elsewhere).await;
    assert_eq!(try_password(&elsewhere, &token, DEMO_EMAIL, DEMO_PASSWORD).await.status(), 303);
}

async fn a_stranger_elsewhere_does_not_keep_the_helper_out_and_the_manager_lets_them_in(backend: Backend) {
    let Some((app, _)) = spawn(backend, |s| {
        s.login.max_failed_attempts_per_account = 8;
        // Long enough that only the manager lifts it within the test.
        s.login.first_delay_seconds = 600;
        s.login.lockout_minutes = 15;
    })
    .await
    else {
        return;
    };
    let demo = seed(&app);
    // A stranger guesses from 127.0.0.2 until held back there.
    let stranger = browser_from(&app, "127.0.0.2");
    let token = login_token(&stranger).await;
    for _ in 0..8 {
        try_password(&stranger, &token, DEMO_EMAIL, "a wrong guess").await;
    }
    assert_eq!(try_password(&stranger, &token, DEMO_EMAIL, DEMO_PASSWORD).await.status(), 429);
    // The helper at their office, another address, signs in.
    let helper = browser_from(&app, "127.0.0.1");
    let token = login_token(&helper).await;
    assert_eq!(try_password(&helper, &token, DEMO_EMAIL, DEMO_PASSWORD).await.status(), 303);

    // Guesses spread over more addresses reach the looser bound of the account (the helper's
    // success cleared its count): then everyone waits, the helper too.
    for address in ["127.0.0.3", "127.0.0.4", "127.0.0.5"] {
        let stranger = browser_from(&app, address);
        let token = login_token(&stranger).await;
        while failures(&app, SignInStep::Password, DEMO_EMAIL, sign_in_delays::EVERY_SOURCE) < 8 {
            if try_password(&stranger, &token, DEMO_EMAIL, "a wrong guess").await.status() != 401 {
                break;
            }
        }
    }
    assert_eq!(failures(&app, SignInStep::Password, DEMO_EMAIL, sign_in_delays::EVERY_SOURCE), 8);
    let helper = Robot::new(&app);
    let token = login_token(&helper).await;
    assert_eq!(try_password(&helper, &token, DEMO_EMAIL, DEMO_PASSWORD).await.status(), 429);

    // The manager sees the helper blocked and unlocks them; the helper signs in at once.
    let (mut manager, list) = Manager::sign_in(&app).await;
    assert!(list.contains(">Bloqué<"), "{list}");
    let code = manager.next_code();
    let unlock = format!("/structure/aidants/{}/deblocage", demo.aidant_id());
    let (status, to) = manager.post(&unlock, &csrf(&list), &[("otp", &code)]).await;
    assert_eq!(
        (status, to.as_str()),
        (303, format!("/structure/aidants/{}?notice=debloque", demo.aidant_id()).as_str())
    );
    assert_eq!(try_password(&helper, &token, DEMO_EMAIL, DEMO_PASSWORD).await.status(), 303);
    let stranger = browser_from(&app, "127.0.0.2");
    let token = login_token(&stranger).await;
    assert_eq!(try_password(&stranger, &token, DEMO_EMAIL, "a wrong guess").await.status(), 401, "counts from zero");
}

async fn wrong_codes_sent_at_once_are_checked_one_by_one(backend: Backend) {
    let Some((app, _)) = spawn(backend, |_| {}).await else { return };
    seed(&app);
    let free = app.settings.login.max_failed_attempts;
    let mut robot = Robot::new(&app);
    let token = login_token(&robot).await;
    assert_eq!(try_password(&robot, &token, DEMO_EMAIL, DEMO_PASSWORD).await.status(), 303);
    let html = robot.get("/login/otp").await.text().await.unwrap();
    let token = input_value(&html, "csrf_token").unwrap();
    // Codes that are wrong: none of the three steps accepted around now.
    let unix = chrono::Utc::now().timestamp() as u64;
    let right_now: Vec<String> = [unix - 30, unix, unix + 30]
        .iter()
        .map(|t| idp::totp::code_at(idp::admin::demo::DEMO_TOTP_SECRET, 30, *t).unwrap())
        .collect();
    let wrong: Vec<String> =
        (0..40).map(|i| format!("{:06}", 100_000 + i * 7)).filter(|c| !right_now.contains(c)).collect();
    let attempts = wrong.iter().map(|code| {
        let (robot, token) = (&robot, &token);
        async move { robot.post_form("/login/otp", &[("csrf_token", token), ("otp", code)]).await.status().as_u16() }
    });
    let statuses = join_all(attempts).await;
    assert_eq!(failures(&app, SignInStep::OneTimeCode, DEMO_EMAIL, "127.0.0.1"), free, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), free as usize - 1, "{statuses:?}");
    // The right code while held back is refused, and is still good once the wait is over.
    let code = robot.next_totp();
    let held = robot.post_form("/login/otp", &[("csrf_token", &token), ("otp", &code)]).await;
    assert_eq!(held.status(), 429);
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    let signed_in = robot.post_form("/login/otp", &[("csrf_token", &token), ("otp", &code)]).await;
    assert_eq!(signed_in.status(), 303, "{}", signed_in.text().await.unwrap());
    assert_eq!(failures(&app, SignInStep::OneTimeCode, DEMO_EMAIL, "127.0.0.1"), 0);
}

async fn password_hashing_runs_at_most_the_bound_at_once(backend: Backend) {
    let Some((app, state)) = spawn(backend, |_| {}).await else { return };
    seed(&app);
    // 64 sign-ins at once, each for its own e-mail so that every one is checked.
    let robots: Vec<Robot> = (0..64).map(|_| Robot::new(&app)).collect();
    let tokens = join_all(robots.iter().map(login_token)).await;
    let attempts = robots.iter().zip(&tokens).enumerate().map(|(i, (robot, token))| async move {
        try_password(robot, token, &format!("personne{i}@example.fr"), "wrong password").await.status().as_u16()
    });
    let statuses = join_all(attempts).await;
    assert!(statuses.iter().all(|s| *s == 401), "{statuses:?}");
    assert_eq!(state.password_checks.done(), 64);
    assert_eq!(state.password_checks.most_at_once(), 2, "the bound is 2, and a burst fills it");

    // One slot and almost no patience: most of a burst is told to come back, with a page.
    let Some((app, state)) = spawn(backend, |s| {
        s.login.concurrent_password_checks = 1;
        s.login.password_check_wait_ms = 1;
    })
    .await
    else {
        return;
    };
    let robots: Vec<Robot> = (0..16).map(|_| Robot::new(&app)).collect();
    let tokens = join_all(robots.iter().map(login_token)).await;
    let attempts = robots.iter().zip(&tokens).enumerate().map(|(i, (robot, token))| async move {
        try_password(robot, token, &format!("personne{i}@example.fr"), "wrong password").await
    });
    let responses = join_all(attempts).await;
    let busy: Vec<&reqwest::Response> = responses.iter().filter(|r| r.status() == 503).collect();
    assert!(!busy.is_empty(), "{:?}", responses.iter().map(|r| r.status()).collect::<Vec<_>>());
    assert!(busy.iter().all(|r| retry_after(r) >= 1));
    assert_eq!(state.password_checks.most_at_once(), 1);
    assert_eq!(state.password_checks.done() as usize, 16 - busy.len(), "a refused sign-in computes nothing");
    let page = responses.into_iter().find(|r| r.status() == 503).unwrap().text().await.unwrap();
    assert!(page.contains("Le service reçoit beaucoup de connexions"), "{page}");
}
