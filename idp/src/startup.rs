//! Building the application: open the store, bind the listener, serve.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use mandate_store::Store;

use crate::configuration::Settings;
use crate::demo_upstream::{self, DemoUpstream};
use crate::keys::{KeySet, SigningAlg};
use crate::oidc::{authorize, discovery, introspection, logout, revocation, token, userinfo};
use crate::pages::{
    attestation, charter, delegation, enrolment, helper_space as space, home, language, legal, login, manager_space,
};
use crate::protocol::claims::{SubjectKey, SUBJECT_KEY_NAME};
use crate::routes::health;
use crate::sandbox::{self, Sandbox};
use crate::sealing_keys::SealingKeyFolder;
use crate::upstream::{self, UpstreamLogin};
use crate::web::assets::{self, DsfrAssets};
use crate::web::csrf::{self, CsrfKey};
use crate::web::fallback;
use crate::web::frame;
use crate::web::headers::{security_headers, SecurityHeaders};
use crate::web::housekeeping::{Throttle, PENDING_PURGE_EVERY_SECONDS};
use crate::web::render::{form_post_script, neutral_stylesheet, stylesheet};
use crate::web::AppState;

/// Registers every route on an actix `App` (used by [`Application`] and by tests).
pub fn configure(cfg: &mut web::ServiceConfig) {
    crate::web::body_limits::configure(cfg);
    cfg.service(health::healthz)
        .service(health::readyz)
        .route("/", web::get().to(home::home))
        .route("/static/idp.css", web::get().to(stylesheet))
        .route("/.well-known/openid-configuration", web::get().to(discovery::configuration))
        .route("/jwks", web::get().to(discovery::jwks))
        .route("/authorize", web::get().to(authorize::get))
        .route("/authorize", web::post().to(authorize::post))
        .route("/token", web::post().to(token::token))
        .route("/userinfo", web::get().to(userinfo::get))
        .route("/userinfo", web::post().to(userinfo::post))
        .route("/revoke", web::post().to(revocation::revoke))
        .route("/introspect", web::post().to(introspection::introspect))
        .route("/logout", web::get().to(logout::get))
        .route("/logout", web::post().to(logout::post))
        .route("/logout/confirm", web::post().to(logout::confirm))
        .route("/login", web::get().to(login::login_page))
        .route("/login", web::post().to(login::login_submit))
        .route("/login/otp", web::get().to(login::otp_page))
        .route("/login/otp", web::post().to(login::otp_submit))
        .route("/delegation/choix", web::get().to(delegation::choice_page))
        .route("/delegation/choix", web::post().to(delegation::choice_submit))
        .route("/delegation/organisation", web::post().to(delegation::organisation_submit))
        .route("/delegation/confirmation", web::get().to(delegation::confirm_page))
        .route("/delegation/confirmation", web::post().to(delegation::confirm_submit))
        .route("/delegation/annuler", web::post().to(delegation::cancel))
        .route("/langue/{code}", web::get().to(language::choose))
        .route(charter::PATH, web::get().to(charter::page))
        .route(charter::PATH, web::post().to(charter::accept))
        .route("/inscription/{token}", web::get().to(enrolment::page))
        .route("/inscription/{token}", web::post().to(enrolment::password_submit))
        .route("/inscription/{token}/code", web::post().to(enrolment::code_submit))
        .route("/mon-compte", web::get().to(space::account::page))
        .route("/mon-compte/mot-de-passe", web::post().to(space::account::change_password))
        // The helper's space.
        .route("/espace-aidant", web::get().to(space::home::home))
        .route("/espace-aidant/organisation", web::post().to(space::home::switch_organisation))
        .route("/espace-aidant/mandats/nouveau", web::get().to(space::new_mandate::demarches_page))
        .route("/espace-aidant/mandats/nouveau", web::post().to(space::new_mandate::demarches_submit))
        .route("/espace-aidant/mandats/nouveau/duree", web::get().to(space::new_mandate::duration_page))
        .route("/espace-aidant/mandats/nouveau/duree", web::post().to(space::new_mandate::duration_submit))
        .route("/espace-aidant/mandats/nouveau/identite", web::get().to(space::new_mandate::identity_page))
        .route("/espace-aidant/mandats/nouveau/recapitulatif", web::get().to(space::new_mandate::recap_page))
        .route("/espace-aidant/mandats/nouveau/recapitulatif", web::post().to(space::new_mandate::recap_submit))
        .route("/espace-aidant/usagers/{id}", web::get().to(space::usager::page))
        .route("/espace-aidant/autorisations/{id}/revocation", web::post().to(space::usager::revoke_authorisation))
        .route("/espace-aidant/mandats/{id}/revocation", web::post().to(space::usager::revoke_mandate))
        .route("/espace-aidant/mandats/{id}/renouvellement", web::get().to(space::usager::renew_form))
        .route("/espace-aidant/mandats/{id}/renouvellement", web::post().to(space::usager::renew_submit));
    // The manager's space: the organisation's helpers and their accounts.
    cfg.route("/structure", web::get().to(manager_space::list))
        .route("/structure/aidants/nouveau", web::get().to(manager_space::new_helper::form))
        .route("/structure/aidants/nouveau", web::post().to(manager_space::new_helper::submit))
        .route("/structure/aidants/{id}", web::get().to(manager_space::helper::page))
        .route("/structure/aidants/{id}/desactivation", web::post().to(manager_space::helper::deactivate))
        .route("/structure/aidants/{id}/reactivation", web::post().to(manager_space::helper::reactivate))
        .route("/structure/aidants/{id}/deblocage", web::post().to(manager_space::helper::unlock))
        .route("/structure/aidants/{id}/habilitation", web::post().to(manager_space::helper::record_habilitation))
        .route("/structure/aidants/{id}/second-facteur", web::post().to(manager_space::helper::reset_second_factor))
        .route("/structure/aidants/{id}/carte", web::post().to(manager_space::helper::assign_card));
    // The mandate's attestation (with its translations) and the revocation attestation.
    cfg.route("/espace-aidant/mandats/{id}/attestation", web::get().to(attestation::mandate_page))
        .route("/espace-aidant/mandats/{id}/attestation-revocation", web::get().to(attestation::revocation_page))
        .route("/static/attestation.js", web::get().to(attestation::print_script));
    // Upstream identity: the demo upstream provider (404 unless demo mode is on), the usager's
    // upstream login for the new-mandate wizard, and the practice service.
    cfg.route("/demo-upstream/.well-known/openid-configuration", web::get().to(demo_upstream::discovery))
        .route("/demo-upstream/jwks", web::get().to(demo_upstream::jwks))
        .route("/demo-upstream/authorize", web::get().to(demo_upstream::authorize_get))
        .route("/demo-upstream/authorize", web::post().to(demo_upstream::authorize_post))
        .route("/demo-upstream/authorize/decision", web::post().to(demo_upstream::decision))
        .route("/demo-upstream/token", web::post().to(demo_upstream::token))
        .route("/demo-upstream/userinfo", web::get().to(demo_upstream::userinfo_get))
        .route("/demo-upstream/userinfo", web::post().to(demo_upstream::userinfo_post))
        .route("/espace-aidant/franceconnect/connexion", web::post().to(upstream::start))
        .route("/espace-aidant/franceconnect/retour", web::get().to(upstream::callback))
        .route("/sandbox", web::get().to(sandbox::index))
        .route("/sandbox/commencer", web::get().to(sandbox::start))
        .route("/sandbox/callback", web::get().to(sandbox::callback));
    // The form_post response's auto-submit script (inline scripts are refused by the CSP).
    cfg.route("/static/form-post.js", web::get().to(form_post_script));
    // The organisation's journal, for its managers.
    cfg.route("/structure/journal", web::get().to(crate::pages::organisation_journal::page))
        .route("/structure/journal/export", web::post().to(crate::pages::organisation_journal::export));
    // Public usage statistics, without sign-in.
    cfg.route("/stats", web::get().to(crate::pages::stats::page));
    // The usager's own space: their mandates, the accesses made under them, revocation.
    {
        use crate::pages::usager_space as usager;
        cfg.route("/espace-usager", web::get().to(usager::home::page))
            .route("/espace-usager/connexion", web::post().to(usager::sign_in::start))
            .route(crate::configuration::USAGER_SPACE_CALLBACK_PATH, web::get().to(usager::sign_in::callback))
            .route("/espace-usager/deconnexion", web::post().to(usager::home::sign_out))
            .route("/espace-usager/mandats/{id}/revocation", web::get().to(usager::revocation::confirm_mandate))
            .route("/espace-usager/mandats/{id}/revocation", web::post().to(usager::revocation::revoke_mandate))
            .route("/espace-usager/autorisations/{id}/revocation", web::get().to(usager::revocation::confirm_demarche))
            .route("/espace-usager/autorisations/{id}/revocation", web::post().to(usager::revocation::revoke_demarche))
            .route("/espace-usager/mandats/{id}/attestation", web::get().to(usager::attestation::page));
    }
    // The frame of every page: the design system's files (versioned, kept a year by browsers),
    // the neutral theme's stylesheet, and the pages the footer links to.
    cfg.route(&format!("{}/{{version}}/{{file:.*}}", assets::PATH_PREFIX), web::get().to(assets::file))
        .route("/static/neutral.css", web::get().to(neutral_stylesheet))
        .route("/accessibilite", web::get().to(legal::accessibility))
        .route("/mentions-legales", web::get().to(legal::legal_notice))
        .route("/donnees-personnelles", web::get().to(legal::personal_data));
}

/// Loads the signing keys, generating one in the embedded default set-up when there is none.
pub fn load_keys(settings: &Settings) -> anyhow::Result<KeySet> {
    let every = std::time::Duration::from_millis(settings.keys.recheck_interval_ms);
    let (keys, generated) = KeySet::load_or_generate(&settings.keys.dir, settings.keys.generate_if_missing)
        .map_err(|e| anyhow::anyhow!("signing keys (keys.dir): {e}"))?;
    if generated {
        tracing::info!(dir = %settings.keys.dir.display(), "no signing key found: generated an RS256 key");
    }
    // Clients may register ES256 (FranceConnect recommends it): have a key for it too.
    if settings.keys.generate_if_missing && !keys.supports(SigningAlg::Es256) {
        crate::keys::generate(&settings.keys.dir, SigningAlg::Es256)
            .map_err(|e| anyhow::anyhow!("generating an ES256 key (keys.dir): {e}"))?;
        tracing::info!(dir = %settings.keys.dir.display(), "no ES256 key found: generated one");
        let keys = KeySet::load(&settings.keys.dir).map_err(|e| anyhow::anyhow!("signing keys: {e}"))?;
        return Ok(keys.rechecking_every(every));
    }
    Ok(keys.rechecking_every(every))
}

/// The CSRF key every replica shares, made on first start.
async fn load_csrf_key(store: &Store, sealing: &Arc<SealingKeyFolder>) -> anyhow::Result<CsrfKey> {
    Ok(CsrfKey::new(load_shared_key(store, sealing, csrf::SECRET_NAME).await?))
}

/// A 256-bit key every replica shares, made on first start and kept in the store.
async fn load_shared_key(
    store: &Store,
    sealing: &Arc<SealingKeyFolder>,
    name: &'static str,
) -> anyhow::Result<Vec<u8>> {
    let store = store.clone();
    let sealing = sealing.clone();
    let hex_key = tokio::task::spawn_blocking(move || {
        let mut conn = store.conn()?;
        mandate_store::server_secrets::get_or_create(
            &mut conn,
            &*sealing,
            name,
            || {
                let mut key = [0u8; 32];
                rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut key);
                hex::encode(key)
            },
            mandate_store::now(),
        )
    })
    .await??;
    hex::decode(hex_key).map_err(|_| anyhow::anyhow!("the stored key {name} is not hex"))
}

pub async fn build_state(settings: Settings) -> anyhow::Result<AppState> {
    // First, so that a server without its pages' files stops before touching anything.
    let dsfr = DsfrAssets::open(&settings.ui.assets_dir)?;
    let store = crate::database_wait::open_store_now(&settings).await?;
    build_state_on(settings, dsfr, store).await
}

/// The shared state on a store already open (and the design system's files already found).
async fn build_state_on(settings: Settings, dsfr: DsfrAssets, store: Store) -> anyhow::Result<AppState> {
    let keys_settings = settings.clone();
    let keys = tokio::task::spawn_blocking(move || load_keys(&keys_settings)).await??;
    let sealing_settings = settings.clone();
    let sealing_store = store.clone();
    let sealing = tokio::task::spawn_blocking(move || {
        crate::sealing_keys::prepare(&sealing_settings, &sealing_store)
            .map_err(|e| e.context("sealing keys (keys.dir)"))
    })
    .await??;
    // Calls to relying parties (their jwks_uri, their back-channel logout URI): a server that
    // never answers costs one bounded wait.
    let http = reqwest::Client::builder()
        .connect_timeout(settings.outgoing.connect_timeout())
        .timeout(settings.outgoing.timeout())
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let metrics = crate::metrics::build(&store)?;
    let csrf = load_csrf_key(&store, &sealing).await?;
    let statistics = Arc::new(crate::web::cache::Cached::new(crate::pages::stats::CACHE_LIFETIME));
    let client_keys = Arc::default();
    let subjects = SubjectKey::new(load_shared_key(&store, &sealing, SUBJECT_KEY_NAME).await?);
    let login = &settings.login;
    let wait = std::time::Duration::from_millis(login.password_check_wait_ms);
    let password_checks = Arc::new(crate::passwords::PasswordChecks::new(login.concurrent_password_checks, wait));
    let address_limits =
        Arc::new(crate::web::address_limits::AddressLimits::per_minute(login.attempts_per_address_per_minute));
    Ok(AppState {
        settings: Arc::new(settings),
        store,
        keys,
        http,
        metrics,
        csrf,
        sealing,
        statistics,
        dsfr,
        client_keys,
        subjects,
        password_checks,
        address_limits,
        pending_purge: Arc::new(Throttle::every_seconds(PENDING_PURGE_EVERY_SECONDS)),
    })
}

/// A running server and the port it listens on (port 0 in tests picks a free one).
pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// The server as `idp serve` runs it; `None` when asked to stop while it still waited for its
    /// database ([`crate::database_wait`]).
    pub async fn build(settings: Settings) -> anyhow::Result<Option<Application>> {
        let checked = settings.check()?;
        let listener = TcpListener::bind(checked.bind)
            .map_err(|e| anyhow::anyhow!("cannot listen on {} (http.bind): {e}", checked.bind))?;
        if let Some(warning) = crate::configuration::issuer_port_warning(&checked.issuer, listener.local_addr()?) {
            tracing::warn!("{warning}");
        }
        for warning in settings.secret_file_warnings() {
            tracing::warn!("{warning}");
        }
        // First, so that a server without its pages' files stops before touching anything.
        let dsfr = DsfrAssets::open(&settings.ui.assets_dir)?;
        let Some(store) = crate::database_wait::open_store(&settings, &listener).await? else {
            return Ok(None);
        };
        let state = build_state_on(settings, dsfr, store).await?;
        Self::from_parts(listener, state).map(Some)
    }

    pub fn from_parts(listener: TcpListener, state: AppState) -> anyhow::Result<Application> {
        let port = listener.local_addr()?.port();
        let prometheus = state.metrics.middleware.clone();
        // Relying parties and the demo provider keep caches and codes every worker must share.
        let upstream = web::Data::new(
            UpstreamLogin::from_settings(&state.settings).map_err(|e| anyhow::anyhow!("upstream login: {e}"))?,
        );
        match state.settings.upstream_client() {
            Some(client) => {
                tracing::info!(issuer = %client.issuer, demo = client.is_demo, "upstream identity provider")
            }
            // The embedded default: nothing to warn about, but the operator should know.
            None => tracing::info!(
                "no upstream identity provider: usagers cannot prove who they are for a new mandate \
                 (set [upstream], or demo.enabled for the demo upstream provider)"
            ),
        }
        let sandbox = web::Data::new(
            Sandbox::new(&state.settings, &state.csrf).map_err(|e| anyhow::anyhow!("practice service: {e}"))?,
        );
        let demo_upstream = web::Data::new(DemoUpstream::new(&state.settings));
        let checkpoint_every = state.settings.journal.checkpoint_interval_seconds;
        if checkpoint_every > 0 {
            tokio::spawn(crate::journal_proof::checkpoint::sign_periodically(
                state.store.clone(),
                state.keys.clone(),
                state.settings.issuer.clone(),
                std::time::Duration::from_secs(checkpoint_every),
            ));
        }
        let purge_every = state.settings.maintenance.purge_interval_minutes;
        if purge_every > 0 {
            let interval = std::time::Duration::from_secs(purge_every * 60);
            tokio::spawn(crate::purge::run_periodically(
                state.store.clone(),
                state.settings.retention.usager_days,
                crate::purge::FIRST_PURGE_AFTER.min(interval),
                interval,
            ));
        }
        tokio::spawn(crate::wal_checkpoints::restart_periodically(state.store.clone()));
        let sequence_every = state.settings.journal.sequence_interval_ms;
        if sequence_every > 0 {
            tokio::spawn(crate::journal_sequencer::sequence_periodically(
                state.store.clone(),
                std::time::Duration::from_millis(sequence_every),
            ));
        }
        let security = SecurityHeaders::for_settings(&state.settings);
        let metrics_access = crate::metrics::MetricsAccess::from_settings(&state.settings)?;
        // A store call waiting for one of the pool's connections held a blocking thread of its
        // own: at 32 browsers the blocking pools grew to 160 threads, whose stacks and arenas
        // stayed resident for 10 s after a busy moment (decision 0028). No more threads than
        // can work at once, per worker: every connection, and every password check.
        let blocking_threads = state.settings.database.max_connections as usize
            + crate::passwords::PasswordChecks::slots_for(state.settings.login.concurrent_password_checks);
        let data = web::Data::new(state);
        let server = HttpServer::new(move || {
            // The last `wrap` is the outermost: the security headers go on every answer, the
            // metrics' own included; bare error answers get their words innermost, so that the
            // metrics and the access log see the status they end with.
            App::new()
                .wrap(from_fn(fallback::replace_bare_errors))
                .wrap(prometheus.clone())
                .wrap(from_fn({
                    let access = metrics_access.clone();
                    move |req, next| crate::metrics::guard(access.clone(), req, next)
                }))
                .wrap(actix_web::middleware::from_fn(frame::provide_base))
                .wrap(tracing_actix_web::TracingLogger::<crate::telemetry::RequestSpan>::new())
                .wrap(from_fn(move |req, next| security_headers(security, req, next)))
                .wrap(from_fn(note_request))
                .default_service(web::to(fallback::unrouted))
                .app_data(data.clone())
                .app_data(upstream.clone())
                .app_data(sandbox.clone())
                .app_data(demo_upstream.clone())
                .configure(configure)
        })
        .worker_max_blocking_threads(blocking_threads)
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

/// Tells the allocator's trimmer that requests are arriving: it gives freed memory back only
/// once they stop (`allocator::give_back_freed_memory_when_idle`).
async fn note_request(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    crate::allocator::note_request();
    next.call(req).await
}
