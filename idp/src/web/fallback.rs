//! The answer to a request that no surface answered in its own words: an unknown path (404), a
//! method the path does not take (405), and a refusal or failure that escaped every surface's
//! error type (actix's own plain-text refusals of an unreadable form or query, a bare 500).
//! A browser gets a page in plain French (or English, when it chose it) with a way back; an API
//! client gets RFC 6749 §5.2-shaped JSON. Never the error's own text: it may name Rust types,
//! SQL or the request's values.
//!
//! The surfaces' own errors (`PageError`, the OAuth JSON errors, the upstream and demo pages)
//! always answer with an HTML or JSON body and are left as they are.

use actix_web::body::{BodySize, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{Error, HttpRequest, HttpResponse};
use askama::Template;
use serde_json::json;

use super::i18n::Lang;
use super::templates::HttpErrorPage;

/// Paths read by programs rather than people: their errors are JSON whatever they accept.
/// (The protocol endpoints, discovery and keys, the demo upstream provider's, and operations'.)
const API_PATHS: [&str; 13] = [
    "/token",
    "/userinfo",
    "/introspect",
    "/revoke",
    "/jwks",
    "/.well-known",
    "/demo-upstream/token",
    "/demo-upstream/userinfo",
    "/demo-upstream/jwks",
    "/demo-upstream/.well-known",
    "/healthz",
    "/readyz",
    "/metrics",
];

/// Who reads the answer to a request: a person at a browser, in their language, or a program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    Person(Lang),
    Program,
}

impl Reader {
    pub fn of(req: &HttpRequest) -> Reader {
        let accept = req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
        if is_api_path(req.path()) || wants_json(accept) {
            Reader::Program
        } else {
            Reader::Person(Lang::of_browser(req))
        }
    }
}

fn is_api_path(path: &str) -> bool {
    API_PATHS.iter().any(|api| path.strip_prefix(api).is_some_and(|rest| rest.is_empty() || rest.starts_with('/')))
}

/// A client that asks for JSON and not for HTML (a browser's `Accept` always names text/html).
fn wants_json(accept: &str) -> bool {
    let names = |wanted: &str| {
        accept.split(',').any(|item| {
            let media = item.split(';').next().unwrap_or("").trim();
            media.eq_ignore_ascii_case(wanted)
        })
    };
    names("application/json") && !names("text/html")
}

/// What a status means, in the words shown for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    NotFound,
    MethodNotAllowed,
    BadRequest,
    /// A body over its route's limit (`body_limits`).
    TooLarge,
    /// The database cannot serve right now (`503`): nothing was done, try again shortly.
    Unavailable,
    ServerError,
}

impl Kind {
    fn of(status: StatusCode) -> Kind {
        match status {
            StatusCode::NOT_FOUND => Kind::NotFound,
            StatusCode::METHOD_NOT_ALLOWED => Kind::MethodNotAllowed,
            StatusCode::PAYLOAD_TOO_LARGE => Kind::TooLarge,
            StatusCode::SERVICE_UNAVAILABLE => Kind::Unavailable,
            s if s.is_server_error() => Kind::ServerError,
            _ => Kind::BadRequest,
        }
    }

    /// RFC 6749 §5.2's codes where one fits (`invalid_request`, `server_error`).
    fn error_code(self) -> &'static str {
        match self {
            Kind::NotFound => "not_found",
            Kind::MethodNotAllowed | Kind::BadRequest | Kind::TooLarge => "invalid_request",
            Kind::Unavailable => "temporarily_unavailable",
            Kind::ServerError => "server_error",
        }
    }

    fn error_description(self) -> &'static str {
        match self {
            Kind::NotFound => "no endpoint at this path",
            Kind::MethodNotAllowed => "this endpoint does not take this HTTP method",
            Kind::BadRequest => "the request could not be read",
            Kind::TooLarge => "the request body is larger than this endpoint accepts",
            Kind::Unavailable => "the service cannot complete the request right now; try again in a moment",
            Kind::ServerError => "the server could not complete the request; try again later",
        }
    }

    fn words(self, lang: Lang) -> &'static Words {
        let (fr, en) = match self {
            Kind::NotFound => (&FR_NOT_FOUND, &EN_NOT_FOUND),
            Kind::MethodNotAllowed => (&FR_METHOD, &EN_METHOD),
            Kind::BadRequest => (&FR_BAD_REQUEST, &EN_BAD_REQUEST),
            Kind::TooLarge => (&FR_TOO_LARGE, &EN_TOO_LARGE),
            Kind::Unavailable => (&FR_UNAVAILABLE, &EN_UNAVAILABLE),
            Kind::ServerError => (&FR_SERVER_ERROR, &EN_SERVER_ERROR),
        };
        match lang {
            Lang::Fr => fr,
            Lang::En => en,
        }
    }
}

/// The words of one error page.
pub struct Words {
    pub title: &'static str,
    pub message: &'static str,
    pub back_home: &'static str,
}

static FR_NOT_FOUND: Words = Words {
    title: "Page introuvable",
    message: "Aucune page ne se trouve à cette adresse. Elle a peut-être été mal recopiée, ou la page n'existe plus.",
    back_home: "Revenir à l'accueil",
};
static FR_METHOD: Words = Words {
    title: "Cette page ne s'ouvre pas ainsi",
    message: "Cette adresse ne peut pas être utilisée de cette façon (par exemple en renvoyant un formulaire). \
              Revenez à l'accueil et recommencez depuis le début.",
    back_home: "Revenir à l'accueil",
};
static FR_BAD_REQUEST: Words = Words {
    title: "Demande incomplète",
    message:
        "La page n'a pas reçu ce qu'il lui faut pour s'afficher. Revenez à l'accueil et recommencez depuis le début.",
    back_home: "Revenir à l'accueil",
};
static FR_TOO_LARGE: Words = Words {
    title: "Envoi trop volumineux",
    message: "Ce qui a été envoyé dépasse la taille que cette page accepte. Revenez à l'accueil et recommencez depuis le début.",
    back_home: "Revenir à l'accueil",
};
static FR_SERVER_ERROR: Words = Words {
    title: "Le service rencontre un problème",
    message: "Cette page ne peut pas s'afficher pour le moment, à cause d'un problème de notre côté. \
              Réessayez dans quelques minutes. Si cela continue, prévenez votre référent.",
    back_home: "Revenir à l'accueil",
};
static FR_UNAVAILABLE: Words = Words {
    title: "Service momentanément indisponible",
    message: "Le service ne peut pas traiter votre demande pour le moment : rien n'a été enregistré. \
              Réessayez dans quelques instants. Si cela continue, prévenez votre référent.",
    back_home: "Revenir à l'accueil",
};
static EN_NOT_FOUND: Words = Words {
    title: "Page not found",
    message: "There is no page at this address. It may have been mistyped, or the page no longer exists.",
    back_home: "Back to the home page",
};
static EN_METHOD: Words = Words {
    title: "This page does not open this way",
    message: "This address cannot be used this way (for example by sending a form again). \
              Go back to the home page and start again.",
    back_home: "Back to the home page",
};
static EN_BAD_REQUEST: Words = Words {
    title: "Incomplete request",
    message: "The page did not receive what it needs to be shown. Go back to the home page and start again.",
    back_home: "Back to the home page",
};
static EN_TOO_LARGE: Words = Words {
    title: "Too much sent",
    message: "What was sent is larger than this page accepts. Go back to the home page and start again.",
    back_home: "Back to the home page",
};
static EN_SERVER_ERROR: Words = Words {
    title: "The service has a problem",
    message: "This page cannot be shown right now because of a problem on our side. Try again in a few minutes. \
              If it goes on, tell your manager.",
    back_home: "Back to the home page",
};

static EN_UNAVAILABLE: Words = Words {
    title: "Service temporarily unavailable",
    message: "The service cannot handle your request right now: nothing was saved. Try again in a moment. \
              If it goes on, tell your manager.",
    back_home: "Back to the home page",
};

/// The answer for `status` to `req`: a page or JSON, as its reader expects.
pub fn response(req: &HttpRequest, status: StatusCode) -> HttpResponse {
    match Reader::of(req) {
        Reader::Program => json_error(status),
        Reader::Person(lang) => page(status, lang),
    }
}

/// The page for `status`: its title, what to do in plain words, and a link back to `/`.
pub fn page(status: StatusCode, lang: Lang) -> HttpResponse {
    let words = Kind::of(status).words(lang);
    let page = HttpErrorPage { t: lang.texts(), frame: super::Frame::anonymous(lang), words };
    // A template that cannot render (it has no fallible part) still leaves the words.
    let body = page.render().unwrap_or_else(|_| words.message.to_owned());
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body)
}

/// RFC 6749 §5.2's JSON for `status`.
pub fn json_error(status: StatusCode) -> HttpResponse {
    let kind = Kind::of(status);
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({"error": kind.error_code(), "error_description": kind.error_description()}))
}

/// The default service: no route took the request. Routes are registered one method at a time
/// (`ServiceConfig::route` makes the method a guard of its own resource), so a path that some
/// route has, asked with another method, lands here too: that is a 405, anything else a 404.
/// (Which methods the path takes is not kept where this service can read it: no `Allow` header.)
pub async fn unrouted(req: HttpRequest) -> HttpResponse {
    let status = if req.resource_map().has_resource(req.path()) {
        StatusCode::METHOD_NOT_ALLOWED
    } else {
        StatusCode::NOT_FOUND
    };
    response(&req, status)
}

/// An error answer made by actix rather than by a surface: no body (a 405, a bare status), or
/// actix's plain-text rendering of an error. A 401 without a body is RFC 6750 §3.1's answer to
/// a request without credentials (the challenge is in `WWW-Authenticate`): left alone.
fn is_bare_error(status: StatusCode, headers: &HeaderMap, body_is_empty: bool) -> bool {
    if !(status.is_client_error() || status.is_server_error()) || status == StatusCode::UNAUTHORIZED {
        return false;
    }
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    body_is_empty || content_type.is_empty() || content_type.starts_with("text/plain")
}

/// Middleware: gives a bare error answer the words of [`response`], logging once what failed
/// when it is the server's fault. Innermost, so that every handler's answer passes here.
pub async fn replace_bare_errors<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, Error> {
    // Handlers' errors arrive here as responses; only a middleware inside this one could fail
    // with an `Err`, and there is none.
    let res = next.call(req).await?.map_into_left_body();
    let body_is_empty = matches!(res.response().body().size(), BodySize::None | BodySize::Sized(0));
    let status = res.status();
    if !is_bare_error(status, res.headers(), body_is_empty) {
        return Ok(res);
    }
    if status.is_server_error() {
        match res.response().error() {
            Some(error) => tracing::error!(error = %error, status = status.as_u16(), "request failed"),
            None => tracing::error!(status = status.as_u16(), "request failed without an error"),
        }
    }
    let mut answer = response(res.request(), status);
    // Keep what the first answer said about the resource (405's `Allow`).
    if let Some(allow) = res.headers().get(header::ALLOW) {
        answer.headers_mut().insert(header::ALLOW, allow.clone());
    }
    Ok(res.into_response(answer).map_into_right_body())
}

#[cfg(test)]
mod tests {
    use actix_web::middleware::from_fn;
    use actix_web::test::{call_service, init_service, read_body, TestRequest};
    use actix_web::{web, App};

    use super::*;

    #[test]
    fn programs_are_told_apart_from_people() {
        for path in ["/token", "/userinfo", "/jwks", "/.well-known/openid-configuration", "/demo-upstream/token"] {
            assert!(is_api_path(path), "{path}");
        }
        assert!(is_api_path("/demo-upstream/.well-known/openid-configuration"));
        for path in ["/tokens", "/", "/login", "/demo-upstream/authorize", "/espace-aidant/token"] {
            assert!(!is_api_path(path), "{path}");
        }
        assert!(wants_json("application/json"));
        assert!(wants_json("application/json;q=0.9, */*;q=0.1"));
        assert!(!wants_json("text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8"));
        assert!(!wants_json("*/*"));
        assert!(!wants_json(""));
    }

    #[test]
    fn only_answers_actix_made_are_bare() {
        let headers = |content_type: &str| {
            let mut map = HeaderMap::new();
            if !content_type.is_empty() {
                map.insert(header::CONTENT_TYPE, content_type.parse().unwrap());
            }
            map
        };
        assert!(is_bare_error(StatusCode::METHOD_NOT_ALLOWED, &headers(""), true));
        assert!(is_bare_error(StatusCode::BAD_REQUEST, &headers("text/plain; charset=utf-8"), false));
        assert!(is_bare_error(StatusCode::INTERNAL_SERVER_ERROR, &headers("text/plain"), false));
        assert!(!is_bare_error(StatusCode::BAD_REQUEST, &headers("application/json"), false));
        assert!(!is_bare_error(StatusCode::NOT_FOUND, &headers("text/html; charset=utf-8"), false));
        assert!(!is_bare_error(StatusCode::UNAUTHORIZED, &headers(""), true));
        assert!(!is_bare_error(StatusCode::OK, &headers(""), true));
        assert!(!is_bare_error(StatusCode::SEE_OTHER, &headers(""), true));
    }

    /// A failure that escaped every surface (here a handler returning actix's own 500, whose
    /// text names internals) is shown in plain words, and its text never reaches the reader.
    #[actix_web::test]
    async fn an_escaped_failure_shows_no_internals() {
        async fn failing() -> Result<HttpResponse, Error> {
            Err(actix_web::error::ErrorInternalServerError("SELECT * FROM aidants: relation does not exist"))
        }
        let app = init_service(
            App::new()
                .wrap(from_fn(replace_bare_errors))
                .route("/espace-aidant/panne", web::get().to(failing))
                .route("/token", web::get().to(failing)),
        )
        .await;

        let res = call_service(&app, TestRequest::get().uri("/espace-aidant/panne").to_request()).await;
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(res.headers().get(header::CONTENT_TYPE).unwrap().to_str().unwrap().starts_with("text/html"));
        let page = String::from_utf8(read_body(res).await.to_vec()).unwrap();
        assert!(page.contains("Le service rencontre un problème") && page.contains("href=\"/\""), "{page}");
        assert!(!page.contains("SELECT") && !page.contains("relation"), "{page}");

        let res = call_service(&app, TestRequest::get().uri("/token").to_request()).await;
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body: serde_json::Value = serde_json::from_slice(&read_body(res).await).unwrap();
        assert_eq!(body["error"], "server_error");
        assert!(!body.to_string().contains("SELECT"), "{body}");
    }
}
