//! `/langue/{code}`: the language link. Keeps the choice in a cookie and goes back to the page
//! it was clicked on (a path of this site only, so the link cannot send anyone elsewhere).

use actix_web::cookie::{Cookie, SameSite};
use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::web::i18n::LANG_COOKIE;
use crate::web::see_other;

#[derive(Deserialize)]
pub struct Back {
    pub retour: Option<String>,
}

/// A path on this site: `/…`, never `//host` or `/\\host`, which browsers read as another site.
fn local_path(raw: Option<&str>) -> &str {
    match raw {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.starts_with("/\\") => p,
        _ => "/",
    }
}

pub async fn choose(code: web::Path<String>, back: web::Query<Back>) -> HttpResponse {
    let lang = if code.as_str() == "en" { "en" } else { "fr" };
    let mut response = see_other(local_path(back.retour.as_deref()));
    let cookie = Cookie::build(LANG_COOKIE, lang)
        .path("/")
        .same_site(SameSite::Lax)
        .max_age(actix_web::cookie::time::Duration::days(365))
        .finish();
    let _ = response.add_cookie(&cookie);
    response
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn only_paths_of_this_site_are_gone_back_to() {
        assert_eq!(local_path(Some("/espace-aidant?q=a")), "/espace-aidant?q=a");
        for elsewhere in ["//evil.example", "/\\evil.example", "https://evil.example", "evil"] {
            assert_eq!(local_path(Some(elsewhere)), "/", "{elsewhere}");
        }
        assert_eq!(local_path(None), "/");
    }
}
