//! Rendering pages: HTML that is never cached (pages carry CSRF tokens), redirects, the
//! stylesheet and the `form_post` response's script.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use askama::Template;

use super::PageError;

/// Renders a template as an HTML response.
pub fn html<T: Template>(template: &T) -> Result<HttpResponse, PageError> {
    html_with_status(StatusCode::OK, template)
}

/// Renders a template with another status than 200 (a refusal, a failed login).
pub fn html_with_status<T: Template>(status: StatusCode, template: &T) -> Result<HttpResponse, PageError> {
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(template.render()?))
}

/// 303 See Other to `location` (after a POST, or to the next step).
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header(("Location", location)).finish()
}

pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(include_str!("../../static/idp.css"))
}

/// The script that submits a `form_post` authorization response (a file, not inline: the
/// Content-Security-Policy forbids inline scripts).
pub async fn form_post_script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(include_str!("../../static/form-post.js"))
}

/// The neutral theme's palette and fonts, over the design system's components.
pub async fn neutral_stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(include_str!("../../static/neutral.css"))
}
