//! `/healthz`: the process answers. `/readyz`: it can serve (database reachable, keys loaded).

use actix_web::{get, web, HttpResponse};
use serde_json::json;

use crate::web::AppState;

#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// How long `/readyz` waits for the database: a probe that hangs is read as a failure anyway
/// (an orchestrator's probe gives up after a second or a few), and while the database is down the
/// pool would keep it waiting for a connection its whole time-out.
const READINESS_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let store = state.store.clone();
    let Ok(database) = tokio::time::timeout(READINESS_WAIT, web::block(move || store.ping())).await else {
        tracing::warn!("readiness: the database did not answer within {READINESS_WAIT:?}");
        return HttpResponse::ServiceUnavailable().json(json!({"status": "not_ready", "database": "unreachable"}));
    };
    match database {
        Ok(Ok(())) => HttpResponse::Ok().json(json!({"status": "ready", "database": "ok"})),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: database unreachable");
            HttpResponse::ServiceUnavailable().json(json!({"status": "not_ready", "database": "unreachable"}))
        }
        Err(_) => HttpResponse::ServiceUnavailable().json(json!({"status": "not_ready", "database": "unknown"})),
    }
}
