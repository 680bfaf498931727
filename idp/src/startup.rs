//! Building the application: open the store, bind the listener, serve.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::{web, App, HttpServer};
use mandate_store::Store;

use crate::configuration::Settings;
use crate::routes::health;
use crate::state::AppState;

/// Registers every route on an actix `App` (used by [`Application`] and by tests).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(health::healthz).service(health::readyz);
}

/// Opens the store named by the settings and applies pending migrations.
pub async fn open_store(settings: &Settings) -> anyhow::Result<Store> {
    let url = settings.database.url.clone();
    let max = settings.database.max_connections;
    let store = tokio::task::spawn_blocking(move || Store::open_and_migrate(&url, max)).await??;
    Ok(store)
}

pub async fn build_state(settings: Settings) -> anyhow::Result<AppState> {
    let store = open_store(&settings).await?;
    Ok(AppState { settings: Arc::new(settings), store })
}

/// A running server and the port it listens on (port 0 in tests picks a free one).
pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let checked = settings.check()?;
        let listener = TcpListener::bind(checked.bind)
            .map_err(|e| anyhow::anyhow!("cannot listen on {} (http.bind): {e}", checked.bind))?;
        let state = build_state(settings).await?;
        Self::from_parts(listener, state)
    }

    pub fn from_parts(listener: TcpListener, state: AppState) -> anyhow::Result<Application> {
        let port = listener.local_addr()?.port();
        let data = web::Data::new(state);
        let server = HttpServer::new(move || {
            App::new()
                .wrap(tracing_actix_web::TracingLogger::default())
                .app_data(data.clone())
                .configure(configure)
        })
        .listen(listener)?
        .shutdown_timeout(10)
        .run();
        Ok(Application { port, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until a shutdown signal (SIGINT/SIGTERM: in-flight requests finish first).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
