//! Extractors that say in a handler's signature who may run it and what it works on:
//!
//! - [`BrowserSession`]: this browser's session, a new anonymous one if it has none (nothing is
//!   stored for an anonymous one: see `session`);
//! - [`PendingAuthorization`]: the validated authorization request being served (named by
//!   the `request` parameter of the query or the form), of this very browser session;
//! - [`SignedInHelper`]: a helper who gave password and one-time code and has not idled past
//!   the re-check; anyone else is sent to the login step they still owe;
//! - [`CheckedForm`]: a submitted form whose CSRF token matches this browser's session.
//!
//! A handler may ask for several: the session, the form body and the pending request are each
//! read once per request and shared between them (actix creates every extractor's future
//! before awaiting any, so the first to ask starts the work and the others wait for it). A
//! shared future is kept in the request it belongs to, so it must own no `HttpRequest` (that
//! would be a reference cycle: the request never freed): each takes what it needs out of the
//! request first. The first of these extractors takes the request's body; a handler must not
//! also ask for `web::Form` or `Bytes`, or they would find the body gone.

use std::rc::Rc;

use actix_web::dev::Payload;
use actix_web::web::{self, Bytes};
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use futures_util::future::{FutureExt as _, LocalBoxFuture, Shared};
use mandate_store::authorization_requests::{self, PendingAuthorization as StoredRequest};
use mandate_store::clients::Client;
use mandate_store::habilitation::{self, Requirement};
use mandate_store::{aidants, clients, now, sessions};
use serde::de::DeserializeOwned;

use super::body_limits::{self, BodyError};
use super::deactivated::Deactivation;
use super::i18n::Lang;
use super::session::{self, BrowserSession};
use super::PageError;
use crate::blocking::with_conn;
use crate::protocol::flow::{activity_due, auth_state, AuthState, Step};
use crate::protocol::request::AuthorizationRequest;
use crate::web::AppState;

type SharedResult<T> = Shared<LocalBoxFuture<'static, Rc<Result<T, PageError>>>>;

/// A result computed once per request, kept in the request's extensions under its type.
struct Memo<T>(SharedResult<T>);

/// The shared result of type `T` for this request, started by `make` if nobody asked yet.
fn memo<T, F>(req: &HttpRequest, make: F) -> LocalBoxFuture<'static, Result<T, PageError>>
where
    T: Clone + 'static,
    F: FnOnce() -> LocalBoxFuture<'static, Result<T, PageError>>,
{
    let shared = {
        let mut extensions = req.extensions_mut();
        match extensions.get::<Memo<T>>() {
            Some(Memo(shared)) => shared.clone(),
            None => {
                let shared = make().map(Rc::new).boxed_local().shared();
                extensions.insert(Memo(shared.clone()));
                shared
            }
        }
    };
    async move {
        match &*shared.await {
            Ok(value) => Ok(value.clone()),
            Err(e) => Err(e.share()),
        }
    }
    .boxed_local()
}

pub(super) fn app_state(req: &HttpRequest) -> web::Data<AppState> {
    req.app_data::<web::Data<AppState>>().cloned().expect("AppState is registered by startup::configure")
}

/// The live session named by the cookie, if any (read once per request).
pub(super) fn current_session(req: &HttpRequest) -> LocalBoxFuture<'static, Result<Option<BrowserSession>, PageError>> {
    let secret = session::cookie_secret(req);
    let state = app_state(req);
    memo(req, move || async move { session::current(secret, &state).await }.boxed_local())
}

/// A submitted form's body, read once per request. GET requests and other content types have
/// an empty one.
#[derive(Clone, Default)]
pub(super) struct FormBody(pub(super) Bytes);

impl FormBody {
    pub(super) fn field(&self, name: &str) -> Option<String> {
        url::form_urlencoded::parse(&self.0).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
    }
}

pub(super) fn form_body(
    req: &HttpRequest,
    payload: &mut Payload,
) -> LocalBoxFuture<'static, Result<FormBody, PageError>> {
    let is_form = req.content_type() == "application/x-www-form-urlencoded";
    let declared = body_limits::declared_length(req.headers());
    let taken = payload.take();
    memo(req, move || {
        async move {
            if !is_form {
                return Ok(FormBody::default());
            }
            match body_limits::read_within(declared, taken, body_limits::PAGE_FORM).await {
                Ok(body) => Ok(FormBody(body)),
                Err(BodyError::TooLarge) => Err(PageError::too_large(Lang::Fr)),
                Err(BodyError::Unreadable) => Err(PageError::bad_request(|t| t.bad_form, Lang::Fr)),
            }
        }
        .boxed_local()
    })
}

/// The `request` parameter of the query, if any.
fn request_in_query(req: &HttpRequest) -> Option<String> {
    url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "request")
        .map(|(_, v)| v.into_owned())
}

/// The `request` parameter naming the pending authorization request, from the query or the
/// submitted form; `None` when absent or empty.
async fn request_id(
    in_query: Option<String>,
    body: LocalBoxFuture<'static, Result<FormBody, PageError>>,
) -> Result<Option<String>, PageError> {
    let id = match in_query {
        Some(id) => Some(id),
        None => body.await?.field("request"),
    };
    Ok(id.filter(|id| !id.is_empty()))
}

impl FromRequest for BrowserSession {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let current = current_session(req);
        let state = app_state(req);
        async move { Ok(session::or_new(current.await?, &state)) }.boxed_local()
    }
}

/// The authorization request a helper is serving, loaded for this browser session.
#[derive(Clone)]
pub struct PendingAuthorization {
    pub stored: StoredRequest,
    pub request: AuthorizationRequest,
    pub lang: Lang,
    /// The relying party, read with the request: its name is shown on every page of the flow,
    /// and the choice offers only the démarches it receives.
    pub client: Client,
}

impl PendingAuthorization {
    pub fn id(&self) -> &str {
        &self.stored.id
    }
}

/// The pending request named by the request, if one is named; an error if it is named but
/// unknown, expired, or another browser's.
fn pending_lookup(
    req: &HttpRequest,
    payload: &mut Payload,
) -> LocalBoxFuture<'static, Result<Option<PendingAuthorization>, PageError>> {
    let body = form_body(req, payload);
    let current = current_session(req);
    let in_query = request_in_query(req);
    let state = app_state(req);
    memo(req, move || {
        async move {
            let Some(id) = request_id(in_query, body).await? else { return Ok(None) };
            let browser = current.await?.ok_or(PageError::request_expired(Lang::Fr))?;
            let sid = browser.session.sid.clone();
            let (stored, client) = with_conn(&state.store, move |conn| {
                let Some(stored) = authorization_requests::find(conn, &id, &sid, now())? else {
                    return Ok::<_, PageError>(None);
                };
                let client = clients::find(conn, &stored.client_id)?;
                Ok(Some((stored, client)))
            })
            .await?
            .ok_or(PageError::request_expired(Lang::Fr))?;
            let request: AuthorizationRequest =
                serde_json::from_str(&stored.params).map_err(|_| PageError::request_expired(Lang::Fr))?;
            let lang = Lang::of_request(&request);
            // A client removed since the request began cannot be answered.
            let client = client.ok_or(PageError::request_expired(lang))?;
            Ok(Some(PendingAuthorization { stored, request, lang, client }))
        }
        .boxed_local()
    })
}

impl FromRequest for PendingAuthorization {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let lookup = pending_lookup(req, payload);
        async move { lookup.await?.ok_or(PageError::request_expired(Lang::Fr)) }.boxed_local()
    }
}

/// A page that may or may not serve an authorization request (the login page opened alone).
pub struct MaybePendingAuthorization(pub Option<PendingAuthorization>);

impl MaybePendingAuthorization {
    pub fn lang(&self) -> Lang {
        self.0.as_ref().map_or(Lang::Fr, |p| p.lang)
    }

    /// The service being signed in to, when the page serves one.
    pub fn service(&self) -> Option<&str> {
        self.0.as_ref().map(|p| p.client.name.as_str())
    }

    /// The pending request's id, or "" when there is none (as the forms carry it).
    pub fn id(&self) -> &str {
        self.0.as_ref().map_or("", |p| p.id())
    }
}

impl FromRequest for MaybePendingAuthorization {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let lookup = pending_lookup(req, payload);
        async move { Ok(MaybePendingAuthorization(lookup.await?)) }.boxed_local()
    }
}

/// A helper signed in with both factors, within the idle limit, who accepted the charter in
/// force. Anyone else is sent to the step they owe (password, the one-time code again, or the
/// charter), with the pending request kept.
pub struct SignedInHelper {
    pub browser: BrowserSession,
    pub aidant_id: String,
    pub organisation_id: String,
    /// What the helper still lacks before acting for usagers (empty: habilitated).
    pub habilitation: Vec<Requirement>,
}

impl SignedInHelper {
    pub fn is_habilitated(&self) -> bool {
        self.habilitation.is_empty()
    }
}

/// Where a helper who has not accepted the charter in force is sent, the pending request kept.
pub fn charter_location(request: Option<&str>) -> String {
    match request {
        Some(id) => {
            let id: String = url::form_urlencoded::byte_serialize(id.as_bytes()).collect();
            format!("{CHARTER_PATH}?request={id}")
        }
        None => CHARTER_PATH.to_owned(),
    }
}

pub const CHARTER_PATH: &str = "/charte";

/// The work of `SignedInHelper`; `charter_required: false` for the charter page itself.
fn signed_in(
    req: &HttpRequest,
    payload: &mut Payload,
    charter_required: bool,
) -> LocalBoxFuture<'static, Result<SignedInHelper, PageError>> {
    let lang = Lang::of_browser(req);
    let current = current_session(req);
    let body = form_body(req, payload);
    let in_query = request_in_query(req);
    let state = app_state(req);
    async move {
        let request = request_id(in_query, body).await?;
        let sign_in = |step: Step| PageError::SignIn {
            location: request.as_deref().map_or_else(|| step.path().to_owned(), |id| step.url(id)),
        };
        let Some(browser) = current.await? else { return Err(sign_in(Step::Login)) };
        let idle = state.idle_limits();
        match auth_state(&browser.session, now(), idle) {
            AuthState::Authenticated => {}
            AuthState::Anonymous => return Err(sign_in(Step::Login)),
            AuthState::NeedsSecondFactor { .. } => return Err(sign_in(Step::SecondFactor)),
        }
        let (Some(aidant_id), Some(organisation_id)) =
            (browser.session.aidant_id.clone(), browser.session.organisation_id.clone())
        else {
            return Err(sign_in(Step::Login));
        };
        // A helper deactivated since signing in is stopped here, at their next request: the
        // session ends and the page says why. Otherwise, activity keeps it from idling out.
        // The helper's row was read with the session; the store is called again only to
        // record activity (when due) or to end the session.
        let known = browser.helper.as_ref().map(|rows| rows.aidant.clone());
        let due = activity_due(&browser.session, now(), idle);
        let aidant = match known {
            Some(aidant) if aidant.active && !due => Ok(aidant),
            known => {
                let (hash, id) = (browser.id_hash(), aidant_id.clone());
                with_conn(&state.store, move |conn| {
                    let aidant = match known {
                        Some(aidant) => aidant,
                        None => aidants::find(conn, &id)?,
                    };
                    if aidant.active {
                        sessions::touch(conn, &hash, now())?;
                        return Ok::<_, PageError>(Ok(aidant));
                    }
                    sessions::end(conn, &hash, now())?;
                    let organisations = aidants::organisations_of(conn, &id)?.into_iter().map(|o| o.name).collect();
                    Ok(Err(Deactivation::of(&aidant, organisations, lang)))
                })
                .await?
            }
        };
        let aidant = match aidant {
            Ok(aidant) => aidant,
            Err(deactivation) => {
                tracing::info!(aidant_id = %aidant_id, "session of a deactivated account ended");
                return Err(PageError::Deactivated(Box::new(deactivation)));
            }
        };
        let habilitation = habilitation::missing(&aidant);
        // The charter in force comes before anything else a helper does.
        if charter_required && habilitation.contains(&Requirement::Charter) {
            return Err(PageError::SignIn { location: charter_location(request.as_deref()) });
        }
        Ok(SignedInHelper { browser, aidant_id, organisation_id, habilitation })
    }
    .boxed_local()
}

impl FromRequest for SignedInHelper {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        signed_in(req, payload, true)
    }
}

/// A signed-in helper who may not have accepted the charter in force yet: for the charter page.
pub struct SignedInForCharter(pub SignedInHelper);

impl FromRequest for SignedInForCharter {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let helper = signed_in(req, payload, false);
        async move { Ok(SignedInForCharter(helper.await?)) }.boxed_local()
    }
}

/// A signed-in helper whose habilitation is complete (training, PIX, charter): who may act for
/// usagers. Anyone else is refused with a page that says what is missing and who records it.
pub struct HabilitatedHelper(pub SignedInHelper);

impl FromRequest for HabilitatedHelper {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let helper = SignedInHelper::from_request(req, payload);
        let lang = Lang::of_browser(req);
        async move {
            let helper = helper.await?;
            if !helper.is_habilitated() {
                return Err(PageError::NotHabilitated { missing: helper.habilitation.clone(), lang });
            }
            Ok(HabilitatedHelper(helper))
        }
        .boxed_local()
    }
}

/// A signed-in helper who manages the organisation they are working in (managing is per
/// organisation). A helper who does not is refused with a page that says so; the request is
/// otherwise that of a `SignedInHelper`.
pub struct SignedInManager {
    pub helper: SignedInHelper,
}

impl SignedInManager {
    pub fn aidant_id(&self) -> &str {
        &self.helper.aidant_id
    }

    pub fn organisation_id(&self) -> &str {
        &self.helper.organisation_id
    }
}

impl FromRequest for SignedInManager {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let helper = SignedInHelper::from_request(req, payload);
        let state = app_state(req);
        let lang = Lang::of_browser(req);
        async move {
            let helper = helper.await?;
            let (aidant_id, organisation_id) = (helper.aidant_id.clone(), helper.organisation_id.clone());
            let manages =
                with_conn(&state.store, move |conn| aidants::is_manager(conn, &aidant_id, &organisation_id)).await?;
            if !manages {
                return Err(PageError::forbidden(|t| t.not_a_manager, lang));
            }
            Ok(SignedInManager { helper })
        }
        .boxed_local()
    }
}

/// A submitted form of this browser's session: its CSRF token checked, its fields read into
/// `T`. A form from elsewhere gets the "form expired" page; an incomplete one a page that
/// says so.
pub struct CheckedForm<T> {
    pub fields: T,
    pub browser: BrowserSession,
    /// The language of the pending request the form belongs to, French without one.
    pub lang: Lang,
}

impl<T: DeserializeOwned + 'static> FromRequest for CheckedForm<T> {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = form_body(req, payload);
        let lookup = pending_lookup(req, payload);
        let current = current_session(req);
        let state = app_state(req);
        async move {
            let body = body.await?;
            let browser = current.await?.ok_or(PageError::csrf_failed(Lang::Fr))?;
            let lang = lookup.await?.map_or(Lang::Fr, |p| p.lang);
            if !browser.csrf_valid(&state, body.field("csrf_token").as_deref()) {
                return Err(PageError::csrf_failed(lang));
            }
            let fields = serde_html_form::from_bytes(&body.0).map_err(|e| {
                tracing::info!(error = %e, "incomplete form");
                PageError::bad_request(|t| t.bad_form, lang)
            })?;
            Ok(CheckedForm { fields, browser, lang })
        }
        .boxed_local()
    }
}

/// This browser's session if it has one (stored, or anonymous with the cookie it already
/// holds); unlike [`BrowserSession`], never makes one (for pages that only look, and for logout).
pub struct ExistingSession(pub Option<BrowserSession>);

impl FromRequest for ExistingSession {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let current = current_session(req);
        async move { Ok(ExistingSession(current.await?)) }.boxed_local()
    }
}
