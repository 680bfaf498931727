//! The shape of the documents relying parties read — discovery, JWKS, an ID token's claims —
//! as reviewed snapshots (`insta`), with times, keys and ids masked, so that any change of
//! shape shows in review. The same snapshot holds on both backends.

use mandate_store::Backend;
use serde_json::Value;

use crate::helpers::TestApp;
use crate::robot::{query_params, seed, Robot, CALLBACK};

crate::on_both_backends!(discovery_document, jwks_shape, id_token_claims);

/// The document with this run's address written `{issuer}`.
fn with_issuer_masked(app: &TestApp, document: &Value) -> Value {
    serde_json::from_str(&document.to_string().replace(&app.settings.issuer, "{issuer}")).unwrap()
}

async fn discovery_document(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let document: Value =
        app.client.get(app.url("/.well-known/openid-configuration")).send().await.unwrap().json().await.unwrap();
    insta::assert_json_snapshot!("discovery", with_issuer_masked(&app, &document));
}

async fn jwks_shape(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let mut jwks: Value = app.client.get(app.url("/jwks")).send().await.unwrap().json().await.unwrap();
    // Keys are made per run: their order follows the kid, which is random.
    jwks["keys"].as_array_mut().unwrap().sort_by_key(|k| k["alg"].as_str().unwrap_or("").to_owned());
    insta::assert_json_snapshot!("jwks", jwks, {
        ".keys[].kid" => "[kid]",
        ".keys[].n" => "[modulus]",
        ".keys[].x" => "[x]",
        ".keys[].y" => "[y]",
    });
}

async fn id_token_claims(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let demo = seed(&app);
    let mut robot = Robot::new(&app);
    let first = robot
        .authorize(&[
            ("client_id", "demo-service"),
            ("redirect_uri", CALLBACK),
            ("response_type", "code"),
            ("scope", "openid profile email birth"),
            ("state", "s"),
            ("nonce", "n-0S6_WzA2Mj"),
        ])
        .await;
    let callback = robot.complete(first, &demo.usager_id(0), "argent").await;
    let code = query_params(&callback)["code"].clone();
    let tokens: Value = robot.exchange_demo_code(&code).await.json().await.unwrap();
    let claims = robot.verify_id_token(tokens["id_token"].as_str().unwrap(), "demo-service").await;
    insta::assert_json_snapshot!("id_token_claims", with_issuer_masked(&app, &claims), {
        ".iat" => "[time]",
        ".exp" => "[time]",
        ".auth_time" => "[time]",
        ".sub" => "[pairwise subject]",
        ".sid" => "[sid]",
        ".at_hash" => "[at_hash]",
        ".act.sub" => "[aidant id]",
        ".act.organisation.id" => "[organisation id]",
        ".mandate.id" => "[mandate id]",
        ".mandate.expires_at" => "[time]",
    });
}
