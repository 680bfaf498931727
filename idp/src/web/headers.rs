//! The headers a security review expects, set on every response in this one place (pages,
//! protocol answers, error pages, static files, `/metrics`): one middleware, the outermost.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::middleware::Next;
use actix_web::Error;

use crate::configuration::Settings;

/// Only this server's own files: no inline script or style (every page's scripts and styles
/// are files under `/static/`), no plugin, no `<base>` rewriting links, never framed.
/// `img-src data:` leaves room for images a stylesheet embeds; the attestation's QR code is
/// inline SVG markup, which needs no source at all.
///
/// No `form-action`: browsers apply it to the redirects that follow a form's submission too
/// (Chromium does), and the flow's forms end at other origins by design: the confirmation and
/// the cancel are answered by a redirect to the relying party's `redirect_uri`, a `form_post`
/// response posts to it, logout redirects to a `post_logout_redirect_uri`, and starting the
/// usager's upstream login redirects to FranceConnect. Those origins are per client and per
/// request; a policy naming them all would be wide enough to protect nothing. Injected forms
/// are kept out instead by escaping every template value and forbidding inline script.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// Two years: browsers remember that this host is https only (set only when the issuer is https;
/// over plain http the header would be ignored, and would be wrong).
pub const STRICT_TRANSPORT_SECURITY: &str = "max-age=63072000";

/// What the middleware adds; decided once, from the settings, at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecurityHeaders {
    strict_transport: bool,
}

impl SecurityHeaders {
    pub fn for_settings(settings: &Settings) -> SecurityHeaders {
        SecurityHeaders { strict_transport: settings.issuer_is_https() }
    }

    /// Sets the headers on one response. A handler's `Cache-Control` stands (static files are
    /// cached on purpose, token responses already say `no-store`); an HTML page without one is
    /// not stored, as pages show usagers' personal data and carry CSRF tokens.
    pub fn apply(self, headers: &mut HeaderMap) {
        let set = |headers: &mut HeaderMap, name, value| {
            headers.insert(name, HeaderValue::from_static(value));
        };
        set(headers, header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY);
        // Codes, states and pending request ids travel in URLs: never sent on to another site.
        set(headers, header::REFERRER_POLICY, "no-referrer");
        set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
        // `frame-ancestors 'none'` for browsers that predate it.
        set(headers, header::X_FRAME_OPTIONS, "DENY");
        if self.strict_transport {
            set(headers, header::STRICT_TRANSPORT_SECURITY, STRICT_TRANSPORT_SECURITY);
        }
        let is_html = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("text/html"));
        if is_html && !headers.contains_key(header::CACHE_CONTROL) {
            set(headers, header::CACHE_CONTROL, "no-store");
        }
    }
}

/// Middleware: [`SecurityHeaders::apply`] on every answer.
pub async fn security_headers<B: MessageBody + 'static>(
    security: SecurityHeaders,
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, Error> {
    // The layers inside (the access log, the metrics, `fallback`) pass handlers' errors on as
    // responses; none fails with an `Err` of its own.
    let mut res = next.call(req).await?;
    security.apply(res.headers_mut());
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn applied(strict_transport: bool, content_type: Option<&'static str>, cache: Option<&'static str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(c) = content_type {
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(c));
        }
        if let Some(c) = cache {
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(c));
        }
        SecurityHeaders { strict_transport }.apply(&mut headers);
        headers
    }

    #[test]
    fn pages_are_not_stored_unless_their_handler_says_otherwise() {
        let page = applied(false, Some("text/html; charset=utf-8"), None);
        assert_eq!(page.get(header::CACHE_CONTROL).unwrap(), "no-store");
        assert_eq!(page.get(header::REFERRER_POLICY).unwrap(), "no-referrer");
        assert!(!page.contains_key(header::STRICT_TRANSPORT_SECURITY));
        let css = applied(false, Some("text/css; charset=utf-8"), Some("public, max-age=3600"));
        assert_eq!(css.get(header::CACHE_CONTROL).unwrap(), "public, max-age=3600");
        assert_eq!(css.get(header::X_CONTENT_TYPE_OPTIONS).unwrap(), "nosniff");
        let json = applied(true, Some("application/json"), None);
        assert!(!json.contains_key(header::CACHE_CONTROL), "discovery and the like choose their own");
        assert_eq!(json.get(header::STRICT_TRANSPORT_SECURITY).unwrap(), STRICT_TRANSPORT_SECURITY);
    }

    #[test]
    fn the_policy_allows_no_inline_code_and_no_framing() {
        let directives: Vec<&str> = CONTENT_SECURITY_POLICY.split(';').map(str::trim).collect();
        for expected in [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "object-src 'none'",
        ] {
            assert!(directives.contains(&expected), "{expected} in {CONTENT_SECURITY_POLICY}");
        }
        assert!(!CONTENT_SECURITY_POLICY.contains("unsafe"), "{CONTENT_SECURITY_POLICY}");
    }
}
