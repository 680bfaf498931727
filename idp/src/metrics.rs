//! Prometheus metrics at `/metrics`: requests by endpoint, method and status (with
//! latency), and what an operator watches in this service: codes issued, token exchanges by
//! outcome, login steps by outcome. One registry per application.

use actix_web_prom::{PrometheusMetrics, PrometheusMetricsBuilder};
use prometheus::{IntCounter, IntCounterVec, Opts, Registry};

#[derive(Clone)]
pub struct Metrics {
    /// Serves `/metrics` and counts requests; shares the registry of the counters below.
    pub middleware: PrometheusMetrics,
    pub codes_issued: IntCounter,
    /// Labels: grant_type, outcome (`ok` or the OAuth error code).
    pub token_exchanges: IntCounterVec,
    /// Labels: step (`password`, `otp`), outcome (`ok`, `refused`, `locked`).
    pub logins: IntCounterVec,
}

/// The middleware serving `/metrics` and the counters the handlers increment.
pub fn build() -> anyhow::Result<Metrics> {
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
    registry.register(Box::new(codes_issued.clone()))?;
    registry.register(Box::new(token_exchanges.clone()))?;
    registry.register(Box::new(logins.clone()))?;
    let middleware = PrometheusMetricsBuilder::new("idp")
        .registry(registry)
        .endpoint("/metrics")
        .exclude("/metrics")
        .mask_unmatched_patterns("UNKNOWN")
        .build()
        .map_err(|e| anyhow::anyhow!("metrics: {e}"))?;
    Ok(Metrics { middleware, codes_issued, token_exchanges, logins })
}
