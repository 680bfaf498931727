//! Prometheus metrics at `/metrics`: requests by endpoint, method and status (with a latency
//! histogram per route), and what an operator watches in this service: authorization flows
//! started and completed, codes issued, token exchanges by outcome, login steps by outcome,
//! mandates created and revoked, the database pool's connections. One registry per
//! application. Only the scraper holding the configured bearer token reads them
//! ([`MetricsAccess`]).

use std::sync::Arc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse};
use actix_web_prom::{PrometheusMetrics, PrometheusMetricsBuilder};
use mandate_store::Store;
use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use prometheus::{IntCounter, IntCounterVec, IntGauge, Opts, Registry};
use serde_json::json;

use crate::configuration::Settings;
use crate::encoding::constant_time_eq;

const METRICS_PATH: &str = "/metrics";

#[derive(Clone)]
pub struct Metrics {
    /// Serves `/metrics` and counts requests; shares the registry of the counters below.
    pub middleware: PrometheusMetrics,
    pub codes_issued: IntCounter,
    /// Labels: grant_type, outcome (`ok` or the OAuth error code).
    pub token_exchanges: IntCounterVec,
    /// Labels: step (`password`, `otp`), outcome (`ok`, `refused`, `locked`).
    pub logins: IntCounterVec,
    /// Valid authorization requests: a relying party sent a helper here.
    pub flows_started: IntCounter,
    /// Label: outcome — `code` (sent back with a code) or `error` (sent back with an error after
    /// the request was accepted: cancelled, `login_required`…). Started minus completed is the
    /// flows abandoned or still under way.
    pub flows_completed: IntCounterVec,
    pub mandates_created: IntCounter,
    /// Label: by — `helper` or `usager`.
    pub mandates_revoked: IntCounterVec,
}

impl Metrics {
    /// A flow ended with an answer to the relying party: `code` or `error`.
    pub fn flow_completed(&self, outcome: &'static str) {
        self.flows_completed.with_label_values(&[outcome]).inc();
    }
}

/// The middleware serving `/metrics` and the counters the handlers increment; the pool's
/// gauges are read from `store` at each scrape.
pub fn build(store: &Store) -> anyhow::Result<Metrics> {
    let registry = Registry::new();
    let codes_issued = IntCounter::with_opts(
        Opts::new("authorization_codes_issued_total", "Authorization codes issued").namespace("idp"),
    )?;
    let token_exchanges = IntCounterVec::new(
        Opts::new("token_exchanges_total", "Token endpoint requests by grant type and outcome").namespace("idp"),
        &["grant_type", "outcome"],
    )?;
    let logins = IntCounterVec::new(
        Opts::new("login_steps_total", "Helper login steps by outcome").namespace("idp"),
        &["step", "outcome"],
    )?;
    let flows_started = IntCounter::with_opts(
        Opts::new("authorization_flows_started_total", "Valid authorization requests received").namespace("idp"),
    )?;
    let flows_completed = IntCounterVec::new(
        Opts::new("authorization_flows_completed_total", "Authorization flows answered, by outcome (code or error)")
            .namespace("idp"),
        &["outcome"],
    )?;
    let mandates_created = IntCounter::with_opts(
        Opts::new("mandates_created_total", "Mandates signed in the helper space, new or renewed").namespace("idp"),
    )?;
    let mandates_revoked = IntCounterVec::new(
        Opts::new("mandates_revoked_total", "Mandates revoked, by who revoked them (helper or usager)")
            .namespace("idp"),
        &["by"],
    )?;
    registry.register(Box::new(codes_issued.clone()))?;
    registry.register(Box::new(token_exchanges.clone()))?;
    registry.register(Box::new(logins.clone()))?;
    registry.register(Box::new(flows_started.clone()))?;
    registry.register(Box::new(flows_completed.clone()))?;
    registry.register(Box::new(mandates_created.clone()))?;
    registry.register(Box::new(mandates_revoked.clone()))?;
    registry.register(Box::new(PoolGauges::new(store.clone())?))?;
    let middleware = PrometheusMetricsBuilder::new("idp")
        .registry(registry)
        .endpoint(METRICS_PATH)
        .exclude(METRICS_PATH)
        .mask_unmatched_patterns("UNKNOWN")
        .build()
        .map_err(|e| anyhow::anyhow!("metrics: {e}"))?;
    Ok(Metrics {
        middleware,
        codes_issued,
        token_exchanges,
        logins,
        flows_started,
        flows_completed,
        mandates_created,
        mandates_revoked,
    })
}

/// The database pool's connections, read when scraped: open, idle and the most allowed. Open
/// at the most with none idle means requests wait for a connection.
struct PoolGauges {
    store: Store,
    open: IntGauge,
    idle: IntGauge,
    max: IntGauge,
    descs: Vec<Desc>,
}

impl PoolGauges {
    fn new(store: Store) -> prometheus::Result<PoolGauges> {
        let gauge = |name: &str, help: &str| IntGauge::with_opts(Opts::new(name, help).namespace("idp"));
        let open = gauge("db_pool_connections", "Database connections open in the pool")?;
        let idle = gauge("db_pool_idle_connections", "Database connections open and unused")?;
        let max = gauge("db_pool_max_connections", "Most database connections the pool opens")?;
        let descs = [&open, &idle, &max].iter().flat_map(|g| g.desc()).cloned().collect();
        Ok(PoolGauges { store, open, idle, max, descs })
    }
}

impl Collector for PoolGauges {
    fn desc(&self) -> Vec<&Desc> {
        self.descs.iter().collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let usage = self.store.pool_usage();
        self.open.set(i64::from(usage.open));
        self.idle.set(i64::from(usage.idle));
        self.max.set(i64::from(usage.max));
        [&self.open, &self.idle, &self.max].iter().flat_map(|g| g.collect()).collect()
    }
}

/// Who may read `/metrics`: only a scraper presenting the bearer token of `metrics.token_file`;
/// nobody when none is configured. The counters say how many logins fail and how often codes
/// are exchanged: useful to an attacker timing a campaign, so not public.
#[derive(Clone)]
pub struct MetricsAccess {
    token: Option<Arc<str>>,
}

impl MetricsAccess {
    pub fn from_settings(settings: &Settings) -> anyhow::Result<MetricsAccess> {
        let file = settings.metrics.token_file.trim();
        if file.is_empty() {
            return Ok(MetricsAccess { token: None });
        }
        let read = std::fs::read_to_string(file)
            .map_err(|e| anyhow::anyhow!("metrics.token_file: cannot read {file}: {e}"))?;
        let token = read.trim();
        if token.len() < 16 {
            anyhow::bail!("metrics.token_file: {file} must hold a token of at least 16 characters");
        }
        Ok(MetricsAccess { token: Some(token.into()) })
    }

    fn refusal(&self, req: &ServiceRequest) -> Option<HttpResponse> {
        let Some(token) = &self.token else {
            return Some(
                HttpResponse::NotFound().json(json!({"error": "not_found", "error_description": "no such path"})),
            );
        };
        let presented = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, t)| t.trim());
        match presented {
            Some(presented) if constant_time_eq(presented.as_bytes(), token.as_bytes()) => None,
            _ => Some(
                HttpResponse::Unauthorized()
                    .insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"aidants-idp metrics\""))
                    .json(json!({"error": "invalid_token", "error_description": "a valid bearer token is required"})),
            ),
        }
    }
}

/// Stands before the middleware that serves `/metrics` and lets through only those allowed.
pub async fn guard<B: MessageBody + 'static>(
    access: MetricsAccess,
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, Error> {
    if req.path() == METRICS_PATH {
        if let Some(refusal) = access.refusal(&req) {
            return Ok(req.into_response(refusal).map_into_right_body());
        }
    }
    Ok(next.call(req).await?.map_into_left_body())
}
