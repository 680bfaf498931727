//! `/healthz`: the process answers. `/readyz`: it can serve (database reachable, keys loaded).

use actix_web::{get, web, HttpResponse};
use serde_json::json;

use crate::web::AppState;

#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let store = state.store.clone();
    let database = web::block(move || store.ping()).await;
    match database {
        Ok(Ok(())) => HttpResponse::Ok().json(json!({"status": "ready", "database": "ok"})),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: database unreachable");
            HttpResponse::ServiceUnavailable().json(json!({"status": "not_ready", "database": "unreachable"}))
        }
        Err(_) => HttpResponse::ServiceUnavailable().json(json!({"status": "not_ready", "database": "unknown"})),
    }
}
