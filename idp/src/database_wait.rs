//! Opening the database when the server starts ([`open_store_now`]), and `idp serve` before its
//! PostgreSQL database answers: the process starts anyway, answers `/healthz` (alive) and
//! `/readyz` `503` (not ready), every other request `503` (`temporarily_unavailable`, or a page
//! saying to try again), and tries the database again until it answers; then the real server
//! takes the same listener over. This is what an
//! orchestrator expects of a service started before its database (decision 0026). A SQLite
//! file, a migration that fails or a database URL that names no backend are not waited for:
//! they do not fix themselves, and the process exits with the error.

use std::net::TcpListener;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use mandate_store::db::DatabaseTarget;
use mandate_store::{Backend, Store, StoreError};
use serde_json::json;

use crate::configuration::Settings;
use crate::routes::health;
use crate::web::headers::{security_headers, SecurityHeaders};
use crate::web::{fallback, render};

/// The first wait between two tries, doubled after each failure up to [`LONGEST_WAIT`].
const FIRST_WAIT: Duration = Duration::from_millis(500);
/// The longest wait between two tries: once the database answers, ready within this much.
const LONGEST_WAIT: Duration = Duration::from_secs(5);

/// The store, opened and migrated; while a PostgreSQL database cannot be reached, the process
/// answers as not ready on `listener` and tries again. `None` when the process was asked to stop
/// (SIGTERM, SIGINT) before the database answered.
pub async fn open_store(settings: &Settings, listener: &TcpListener) -> anyhow::Result<Option<Store>> {
    let error = match open_store_now(settings).await {
        Ok(store) => return Ok(Some(store)),
        Err(error) if worth_waiting_for(settings, &error) => error,
        Err(error) => return Err(error.context(format!("database.url {}", shown_url(settings)))),
    };
    let mut wait = FIRST_WAIT;
    say_not_ready(settings, &error, wait);
    let security = SecurityHeaders::for_settings(settings);
    let not_ready = HttpServer::new(move || {
        // The same headers as every answer of the real server (the page is a page like others).
        App::new()
            .wrap(from_fn(move |req, next| security_headers(security, req, next)))
            .service(health::healthz)
            .service(not_ready_probe)
            // The 503 page's own stylesheets (compiled in): people get a page they can read.
            .route("/static/idp.css", web::get().to(render::stylesheet))
            .route("/static/neutral.css", web::get().to(render::neutral_stylesheet))
            .default_service(web::to(unavailable))
    })
    .workers(1)
    .listen(listener.try_clone()?)?
    .shutdown_timeout(1)
    .run();
    let handle = not_ready.handle();
    let mut stopped = actix_web::rt::spawn(not_ready);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            // The not-ready server ends only when the process is asked to stop.
            _ = &mut stopped => return Ok(None),
        }
        match open_store_now(settings).await {
            Ok(store) => {
                // Requests in flight get their 503; the real server takes the listener over.
                handle.stop(true).await;
                tracing::info!("database.url: the database answers; starting");
                return Ok(Some(store));
            }
            Err(error) if worth_waiting_for(settings, &error) => {
                wait = (wait * 2).min(LONGEST_WAIT);
                say_not_ready(settings, &error, wait);
            }
            Err(error) => {
                handle.stop(false).await;
                return Err(error.context(format!("database.url {}", shown_url(settings))));
            }
        }
    }
}

/// Opens the store named by the settings, applies pending migrations, and checks that it takes
/// writes (a read-only SQLite file is refused here rather than at the first sign-in).
pub async fn open_store_now(settings: &Settings) -> anyhow::Result<Store> {
    let url = settings.database.url.clone();
    let max = settings.database.max_connections;
    let store = tokio::task::spawn_blocking(move || {
        let store = Store::open_and_migrate(&url, max)?;
        store.check_writable()?;
        Ok::<_, StoreError>(store)
    })
    .await??;
    Ok(store)
}

/// A PostgreSQL server that cannot be reached (down, starting, refusing connections) may answer
/// later; anything else is the operator's to fix.
fn worth_waiting_for(settings: &Settings, error: &anyhow::Error) -> bool {
    let postgres = DatabaseTarget::parse(&settings.database.url).is_ok_and(|t| t.backend() == Backend::Postgres);
    postgres && matches!(error.downcast_ref::<StoreError>(), Some(StoreError::Connection(_) | StoreError::Pool(_)))
}

/// One line per try, naming the setting and the cause (libpq's message spans several lines),
/// never the URL's password.
fn say_not_ready(settings: &Settings, error: &anyhow::Error, wait: Duration) {
    let cause = one_line(&format!("{error:#}"));
    tracing::warn!(
        "database.url {}: {cause}; not ready, trying again in {:.1} s",
        shown_url(settings),
        wait.as_secs_f64()
    );
}

fn shown_url(settings: &Settings) -> String {
    mandate_store::error::redact_credentials(&settings.database.url)
}

fn one_line(text: &str) -> String {
    text.lines().map(str::trim).filter(|line| !line.is_empty()).collect::<Vec<_>>().join("; ")
}

/// `/readyz` while the database has not answered yet: the same words as when it stops answering.
#[actix_web::get("/readyz")]
async fn not_ready_probe() -> HttpResponse {
    HttpResponse::ServiceUnavailable().json(json!({"status": "not_ready", "database": "unreachable"}))
}

/// Every other request: `503`, as JSON to programs and as a page to people.
async fn unavailable(req: HttpRequest) -> HttpResponse {
    fallback::response(&req, StatusCode::SERVICE_UNAVAILABLE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_multi_line_cause_becomes_one_line() {
        let libpq = "cannot connect to the database: connection to server at \"127.0.0.1\", port 1 failed: \
                     Connection refused\n\tIs the server running on that host and accepting TCP/IP connections?\n";
        let line = one_line(libpq);
        assert!(!line.contains('\n'), "{line}");
        assert!(
            line.ends_with("Connection refused; Is the server running on that host and accepting TCP/IP connections?")
        );
    }
}
