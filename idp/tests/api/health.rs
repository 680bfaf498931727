use mandate_store::Backend;

use crate::helpers::TestApp;

crate::on_both_backends!(ready_when_the_database_answers);

async fn ready_when_the_database_answers(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else { return };
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "ready");
}
