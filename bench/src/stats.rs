//! Counts and latencies, kept by each virtual browser on its own (no lock in the loop) and
//! added up when a case ends.

use std::time::Duration;

use hdrhistogram::Histogram;

/// Latencies in microseconds, from 1 µs to 60 s, 3 significant digits.
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds")
}

pub struct Tally {
    pub requests: Histogram<u64>,
    pub flows: Histogram<u64>,
    pub errors: u64,
    pub first_error: Option<String>,
    /// While false, what happens is warm-up and is not counted.
    pub counting: bool,
}

impl Default for Tally {
    fn default() -> Tally {
        Tally { requests: histogram(), flows: histogram(), errors: 0, first_error: None, counting: true }
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX).clamp(1, 60_000_000)
}

impl Tally {
    pub fn request(&mut self, took: Duration) {
        if self.counting {
            self.requests.saturating_record(micros(took));
        }
    }

    pub fn flow(&mut self, took: Duration) {
        if self.counting {
            self.flows.saturating_record(micros(took));
        }
    }

    pub fn error(&mut self, error: &anyhow::Error) {
        self.errors += 1;
        if self.first_error.is_none() {
            self.first_error = Some(format!("{error:#}"));
        }
    }

    pub fn add(&mut self, other: &Tally) {
        self.requests.add(&other.requests).expect("same bounds");
        self.flows.add(&other.flows).expect("same bounds");
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error.clone_from(&other.first_error);
        }
    }
}

/// What one case measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CaseResult {
    pub flow: &'static str,
    pub concurrency: usize,
    pub seconds: f64,
    pub flows: u64,
    pub requests: u64,
    pub flows_per_second: f64,
    pub requests_per_second: f64,
    /// Latency of a whole flow, milliseconds.
    pub flow_p50_ms: f64,
    pub flow_p99_ms: f64,
    pub flow_max_ms: f64,
    /// Latency of one request, milliseconds.
    pub request_p50_ms: f64,
    pub request_p99_ms: f64,
    pub errors: u64,
    pub first_error: Option<String>,
    /// CPU time over the case's wall time, in cores (2.0: both cores busy all along).
    pub server_cores: f64,
    pub generator_cores: f64,
    /// The server's resident memory: the case's peak and at its end, MiB.
    pub peak_mib: f64,
    pub end_mib: f64,
    /// Time virtual browsers spent waiting for a helper's next one-time code (login flow).
    pub waited_for_codes_seconds: f64,
}

impl CaseResult {
    pub fn from_tally(flow: &'static str, concurrency: usize, seconds: f64, tally: &Tally) -> CaseResult {
        let ms = |h: &Histogram<u64>, q: f64| if h.is_empty() { 0.0 } else { h.value_at_quantile(q) as f64 / 1000.0 };
        CaseResult {
            flow,
            concurrency,
            seconds,
            flows: tally.flows.len(),
            requests: tally.requests.len(),
            flows_per_second: tally.flows.len() as f64 / seconds,
            requests_per_second: tally.requests.len() as f64 / seconds,
            flow_p50_ms: ms(&tally.flows, 0.5),
            flow_p99_ms: ms(&tally.flows, 0.99),
            flow_max_ms: tally.flows.max() as f64 / 1000.0,
            request_p50_ms: ms(&tally.requests, 0.5),
            request_p99_ms: ms(&tally.requests, 0.99),
            errors: tally.errors,
            first_error: tally.first_error.clone(),
            server_cores: 0.0,
            generator_cores: 0.0,
            peak_mib: 0.0,
            end_mib: 0.0,
            waited_for_codes_seconds: 0.0,
        }
    }
}
