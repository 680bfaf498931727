//! Prometheus metrics at `/metrics`: requests by endpoint, method and status (with
//! latency), and what an operator watches in this service: codes issued, token exchanges by
//! outcome, login steps by outcome. One registry per application. Only the scraper holding the
//! configured bearer token reads them ([`MetricsAccess`]).

use std::sync::Arc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse};
use actix_web_prom::{PrometheusMetrics, PrometheusMetricsBuilder};
use prometheus::{IntCounter, IntCounterVec, Opts, Registry};
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
        .endpoint(METRICS_PATH)
        .exclude(METRICS_PATH)
        .mask_unmatched_patterns("UNKNOWN")
        .build()
        .map_err(|e| anyhow::anyhow!("metrics: {e}"))?;
    Ok(Metrics { middleware, codes_issued, token_exchanges, logins })
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
