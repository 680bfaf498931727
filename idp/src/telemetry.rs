//! Logging: JSON lines (or pretty for a terminal), one per request with its request id,
//! filtered by `log.filter` or RUST_LOG.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::HttpMessage;
use tracing::Span;
use tracing_actix_web::{RequestId, RootSpanBuilder};
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::EnvFilter;

use crate::configuration::LogSettings;

pub fn init(settings: &LogSettings) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&settings.filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // The close of a request's span is its access-log line (with its duration).
        .with_span_events(FmtSpan::CLOSE);
    // A second init (tests start several apps in one process) is harmless: ignore it.
    let _ = if settings.format == "pretty" {
        builder.try_init()
    } else {
        builder.json().flatten_event(true).with_current_span(true).try_init()
    };
}

/// The path as logged: an enrolment link's token is a credential (it sets a password), so it is
/// left out like a query string.
pub fn logged_path(path: &str) -> std::borrow::Cow<'_, str> {
    match path.strip_prefix("/inscription/") {
        Some(rest) => {
            let after_token = rest.find('/').map_or("", |i| &rest[i..]);
            format!("/inscription/…{after_token}").into()
        }
        None => path.into(),
    }
}

/// The span of one request: method, path, status and the client's address (the one the limits
/// on sign-in attempts count: behind a trusted proxy, the client it forwarded for), never the
/// query string, which may hold an `id_token_hint`, a `login_hint` or a code.
pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let request_id = request.extensions().get::<RequestId>().map(|id| id.to_string()).unwrap_or_default();
        tracing::info_span!(
            "request",
            method = %request.method(),
            path = %logged_path(request.path()),
            request_id = %request_id,
            client_address = %crate::web::ClientAddress::of(request.request()),
            status = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, actix_web::Error>) {
        let status = match outcome {
            Ok(response) => response.status(),
            Err(error) => error.as_response_error().status_code(),
        };
        span.record("status", status.as_u16());
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use actix_web::test::TestRequest;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn an_enrolment_token_is_never_logged() {
        assert_eq!(logged_path("/inscription/abc123"), "/inscription/…");
        assert_eq!(logged_path("/inscription/abc123/code"), "/inscription/…/code");
        assert_eq!(logged_path("/login/otp"), "/login/otp");
    }

    #[test]
    fn the_access_line_names_the_path_and_never_the_query_string() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_span_events(FmtSpan::CLOSE)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let request = TestRequest::get().uri("/logout?id_token_hint=eyJsecret&state=x").to_srv_request();
            let span = RequestSpan::on_request_start(&request);
            span.record("status", 302_u16);
            drop(span);
        });
        let out = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert!(out.contains("\"path\":\"/logout\""), "{out}");
        assert!(out.contains("\"status\":302"), "{out}");
        assert!(!out.contains("id_token_hint") && !out.contains("eyJsecret"), "{out}");
    }
}
