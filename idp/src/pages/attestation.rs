//! The printed mandate and the printed revocation:
//!
//! - `GET /espace-aidant/mandats/{id}/attestation[?langue=en|es|pt|ar]`: the attestation of a
//!   mandate, to print in two copies and sign (the mandate text, the parties, the démarches, the
//!   duration, place and date, signature boxes, and the attestation hash as text and QR code),
//!   with a translation of the text for a usager who does not read French;
//! - `GET /espace-aidant/mandats/{id}/attestation-revocation`: what ended, when and by whom.
//!
//! Only a helper of the mandate's organisation sees them. Each display of an attestation is
//! journalled (`attestation_printed`, with its language and hash: no name).

pub mod wording;

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::{Datelike, NaiveDate, NaiveDateTime};
use mandate_store::attestation::{self, AttestationData};
use mandate_store::mandates::{self, Authorisation, Mandate, MandateWithAuthorisations};
use mandate_store::{aidants, now, organisations, usagers, DbConnection, StoreError};
use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};
use serde::Deserialize;

pub use wording::Language;
use wording::{country_name, fill, MandateWording};

use crate::blocking::with_conn;
use crate::web::{html, AppState, Frame, Lang, Message, PageError, SignedInHelper, Texts};

/// The words of the pages around the mandate text (the helper reads them: French).
pub struct PageWords {
    pub title: &'static str,
    pub intro: &'static str,
    pub print: &'static str,
    pub translations_heading: &'static str,
    pub translations_intro: &'static str,
    pub no_translation: &'static str,
    pub signatures_heading: &'static str,
    pub sign_usager: &'static str,
    pub sign_aidant: &'static str,
    pub hash_heading: &'static str,
    pub hash_explained: &'static str,
    pub qr_label: &'static str,
    pub revocation_title: &'static str,
    pub revocation_intro: &'static str,
    pub mandate_heading: &'static str,
    pub mandate_number: &'static str,
    pub usager: &'static str,
    pub birthdate: &'static str,
    pub organisation: &'static str,
    pub signed_on: &'static str,
    pub planned_end: &'static str,
    pub revocation_heading: &'static str,
    pub ended_caption: &'static str,
    pub column_demarche: &'static str,
    pub column_date: &'static str,
    pub column_by: &'static str,
    pub column_reason: &'static str,
    pub still_covered: &'static str,
    pub revocation_hash_explained: &'static str,
}

pub static PAGE: PageWords = PageWords {
    title: "Attestation de mandat",
    intro: "Imprimez cette attestation en deux exemplaires. La personne accompagnée et vous les signez : \
        gardez-en un dans la structure et remettez l'autre à la personne.",
    print: "Imprimer",
    translations_heading: "Traduction pour la personne accompagnée",
    translations_intro: "Si la personne ne lit pas le français, affichez une traduction et imprimez-la avec \
        l'attestation. Seul le texte en français a une valeur juridique.",
    no_translation: "Sans traduction",
    signatures_heading: "Signatures",
    sign_usager: "Signature de la personne accompagnée",
    sign_aidant: "Signature de l'aidant, pour la structure",
    hash_heading: "Empreinte de l'attestation",
    hash_explained: "Cette empreinte a été enregistrée dans le journal à la création du mandat. Elle permet de \
        vérifier plus tard que les informations du mandat n'ont pas été modifiées.",
    qr_label: "QR code de l'empreinte de l'attestation",
    revocation_title: "Attestation de révocation",
    revocation_intro: "Imprimez cette attestation et remettez-la à la personne accompagnée : elle montre quelles \
        démarches ne sont plus couvertes par le mandat, depuis quand, et qui a fait la révocation.",
    mandate_heading: "Mandat concerné",
    mandate_number: "Numéro du mandat",
    usager: "Personne accompagnée",
    birthdate: "Date de naissance",
    organisation: "Structure",
    signed_on: "Mandat signé le",
    planned_end: "Fin prévue du mandat",
    revocation_heading: "Révocation",
    ended_caption: "Démarches qui ont pris fin",
    column_demarche: "Démarche",
    column_date: "Date de fin",
    column_by: "Par",
    column_reason: "Motif",
    still_covered: "Démarches toujours couvertes par le mandat",
    revocation_hash_explained: "Empreinte de l'attestation du mandat, telle qu'enregistrée dans le journal à sa \
        création.",
};

const MANDATE_NOT_FOUND: &str =
    "Ce mandat n'existe pas. Vérifiez le lien, ou retrouvez le mandat depuis la page de la personne accompagnée.";
const OTHER_ORGANISATION: &str =
    "Ce mandat a été signé avec une autre structure que la vôtre : vous ne pouvez pas voir son attestation.";
const NOT_REVOKED: &str = "Aucune démarche de ce mandat n'a été révoquée : il n'a pas d'attestation de révocation.";
const UNKNOWN_LANGUAGE: &str =
    "Cette traduction n'existe pas. Les traductions proposées sont en anglais, espagnol, portugais et arabe.";

fn shown(status: StatusCode, message: Message) -> PageError {
    PageError::Shown { status, message, lang: Lang::Fr }
}

fn mandate_not_found() -> PageError {
    shown(StatusCode::NOT_FOUND, |_| MANDATE_NOT_FOUND)
}

/// The mandate, if it exists and the helper belongs to its organisation (any of theirs: a
/// helper of several organisations may print the attestation of each).
fn mandate_for_helper(
    conn: &mut DbConnection,
    mandate_id: &str,
    aidant_id: &str,
) -> Result<MandateWithAuthorisations, PageError> {
    let found = match mandates::find(conn, mandate_id) {
        Err(StoreError::NotFound(_)) => return Err(mandate_not_found()),
        other => other?,
    };
    if !aidants::is_member(conn, aidant_id, &found.mandate.organisation_id)? {
        return Err(shown(StatusCode::FORBIDDEN, |_| OTHER_ORGANISATION));
    }
    Ok(found)
}

// ---------------------------------------------------------------------------------------------
// Dates and values as the mandate text writes them.

/// A date in words: `12 mars 1948` (`1er mars 1948` for the first) in French. Mandate dates are
/// the UTC day of the stored instants (the store keeps UTC): mainland France's day, except for a
/// mandate signed between midnight and 1 or 2 a.m. there; the organisation's time zone is not
/// stored yet.
pub fn date_in_words(language: Language, date: NaiveDate) -> String {
    partial_date_in_words(language.wording(), date.year(), Some(date.month()), Some(date.day()))
}

fn partial_date_in_words(w: &MandateWording, year: i32, month: Option<u32>, day: Option<u32>) -> String {
    let year = year.to_string();
    let Some(month_name) = month.and_then(|m| w.months.get(m.checked_sub(1)? as usize)) else {
        return year;
    };
    match day {
        None => fill(w.date_month, &[("mois", month_name), ("annee", &year)]),
        Some(day) => {
            let day = match (day, w.first_day) {
                (1, Some(first)) => first.to_owned(),
                _ => day.to_string(),
            };
            fill(w.date_full, &[("jour", &day), ("mois", month_name), ("annee", &year)])
        }
    }
}

/// A birth date as FranceConnect gives it (`YYYY-MM-DD`, `00` for an unknown month or day), in
/// words: `12 mars 1948`, `mars 1948` when the day is unknown, `1948` when the month is too. A
/// value in another form is shown as it is.
pub fn birthdate_in_words(birthdate: &str, language: Language) -> String {
    let parts: Vec<&str> = birthdate.split('-').collect();
    let [year, month, day] = parts[..] else { return birthdate.to_owned() };
    let (Ok(year), Ok(month), Ok(day)) = (year.parse::<i32>(), month.parse::<u32>(), day.parse::<u32>()) else {
        return birthdate.to_owned();
    };
    let month = (month != 0).then_some(month);
    let day = (day != 0 && month.is_some()).then_some(day);
    let valid = match (month, day) {
        (Some(m), Some(d)) => NaiveDate::from_ymd_opt(year, m, d).is_some(),
        (Some(m), None) => (1..=12).contains(&m),
        _ => true,
    };
    if !valid {
        return birthdate.to_owned();
    }
    partial_date_in_words(language.wording(), year, month, day)
}

/// A SIRET as it is usually printed: SIREN in groups of three, then the establishment number.
fn siret_for_print(siret: &str) -> String {
    if siret.len() == 14 && siret.bytes().all(|b| b.is_ascii_digit()) {
        format!("{} {} {} {}", &siret[0..3], &siret[3..6], &siret[6..9], &siret[9..])
    } else {
        siret.to_owned()
    }
}

/// The attestation hash as an inline SVG QR code, named for assistive technologies.
pub fn qr_svg(content: &str, label: &str) -> Result<String, qrcode::types::QrError> {
    qr_svg_classed(content, label, "attestation-qr")
}

/// Any text as an inline SVG QR code with the given class (an enrolment's `otpauth://` URI).
pub fn qr_svg_classed(content: &str, label: &str, class: &str) -> Result<String, qrcode::types::QrError> {
    let code = QrCode::with_error_correction_level(content.as_bytes(), EcLevel::M)?;
    let image = code.render::<svg::Color>().min_dimensions(160, 160).quiet_zone(true).build();
    // Inline in HTML: the XML prolog goes, the element gets a class, a role and a name.
    let start = image.find("<svg").unwrap_or(0);
    let label = label.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;");
    Ok(image[start..].replacen("<svg ", &format!("<svg class=\"{class}\" role=\"img\" aria-label=\"{label}\" "), 1))
}

fn qr_for_page(hash: &str) -> Result<String, PageError> {
    qr_svg(hash, PAGE.qr_label).map_err(|e| {
        tracing::error!(error = %e, "the attestation hash does not fit a QR code");
        PageError::Logged
    })
}

// ---------------------------------------------------------------------------------------------
// The mandate attestation.

/// One démarche as the mandate text lists it.
pub struct DemarcheLine {
    pub title: &'static str,
    pub covers: &'static str,
}

/// The mandate text in one language, with its values filled in.
pub struct MandateText {
    pub w: &'static MandateWording,
    pub reference: String,
    pub template_version: String,
    pub family_name: String,
    pub usage_name: Option<String>,
    pub given_names: String,
    pub birthdate: String,
    pub birthplace: Option<String>,
    pub birthcountry: String,
    pub organisation_name: String,
    pub siret: String,
    pub address: String,
    pub helper: String,
    pub demarches: Vec<DemarcheLine>,
    pub duration: String,
    pub done_at: String,
}

/// A value put into a sentence of a right-to-left text, isolated (Unicode FIRST STRONG
/// ISOLATE … POP DIRECTIONAL ISOLATE) so that a Latin name or an address keeps its own order.
fn isolated(w: &MandateWording, value: &str) -> String {
    if w.dir == "rtl" {
        format!("\u{2068}{value}\u{2069}")
    } else {
        value.to_owned()
    }
}

impl MandateText {
    pub fn new(data: &AttestationData, language: Language) -> MandateText {
        let w = language.wording();
        let iso = |value: &str| isolated(w, value);
        let (m, o, a, u) = (&data.mandate, &data.organisation, &data.aidant, &data.usager);
        let start = date_in_words(language, m.created_at.date());
        let end = date_in_words(language, m.expires_at.date());
        MandateText {
            w,
            reference: m.id.clone(),
            template_version: data.template_version.clone(),
            family_name: u.family_name.clone(),
            usage_name: u
                .preferred_username
                .clone()
                .filter(|name| !name.trim().is_empty() && name.trim() != u.family_name.trim()),
            given_names: u.given_name.clone(),
            birthdate: birthdate_in_words(&u.birthdate, language),
            birthplace: Some(u.birthplace.clone()).filter(|code| !code.is_empty()),
            birthcountry: country_name(&u.birthcountry, language),
            organisation_name: o.name.clone(),
            siret: siret_for_print(&o.siret),
            address: format!("{}, {} {}", o.address, o.postcode, o.city),
            helper: fill(
                w.helper,
                &[
                    ("aidant", &iso(&format!("{} {}", a.given_name, a.family_name))),
                    ("profession", &iso(&a.profession)),
                ],
            ),
            demarches: data
                .demarches
                .iter()
                .map(|d| {
                    let (title, covers) = w.demarche(*d);
                    DemarcheLine { title, covers }
                })
                .collect(),
            duration: fill(
                w.duration_text,
                &[("duree", w.duration(m.duration_kind)), ("debut", &start), ("fin", &end)],
            ),
            done_at: fill(w.done_at, &[("lieu", &iso(&o.city)), ("date", &start)]),
        }
    }
}

/// A link to the attestation with or without a translation.
pub struct LanguageLink {
    pub href: String,
    pub tag: &'static str,
    pub name: &'static str,
    pub current: bool,
}

impl LanguageLink {
    /// A link to each translation of the attestation at `base`, the one shown marked current.
    pub fn all(base: &str, shown: Language) -> Vec<LanguageLink> {
        Language::TRANSLATIONS
            .iter()
            .map(|l| LanguageLink {
                href: format!("{base}?langue={}", l.tag()),
                tag: l.tag(),
                name: l.wording().name,
                current: *l == shown,
            })
            .collect()
    }
}

/// The attestation as `attestation_document.html` shows it, on the helper's page and on the
/// usager's: the mandate in French, the translation asked for, the hash and its QR code, and the
/// links to the translations of the page at `base`.
pub struct AttestationDocument {
    pub french: MandateText,
    pub translation: Option<MandateText>,
    pub hash: String,
    pub qr: String,
    pub no_translation_href: String,
    pub showing_translation: bool,
    pub links: Vec<LanguageLink>,
}

impl AttestationDocument {
    pub fn new(
        data: &AttestationData,
        hash: String,
        base: String,
        language: Language,
    ) -> Result<AttestationDocument, PageError> {
        Ok(AttestationDocument {
            french: MandateText::new(data, Language::Fr),
            translation: (language != Language::Fr).then(|| MandateText::new(data, language)),
            qr: qr_for_page(&hash)?,
            hash,
            links: LanguageLink::all(&base, language),
            no_translation_href: base,
            showing_translation: language != Language::Fr,
        })
    }
}

#[derive(Template)]
#[template(path = "attestation.html")]
pub struct AttestationPage<'a> {
    pub t: &'static Texts,
    pub frame: &'a Frame,
    pub p: &'static PageWords,
    pub doc: AttestationDocument,
}

#[derive(Deserialize)]
pub struct AttestationQuery {
    pub langue: Option<String>,
}

/// `?langue=` named no translation the attestation has.
pub struct UnknownLanguage;

impl AttestationQuery {
    /// The language asked for: French when none (or an empty one) is.
    pub fn language(&self) -> Result<Language, UnknownLanguage> {
        match self.langue.as_deref().filter(|l| !l.is_empty()) {
            None => Ok(Language::Fr),
            Some(tag) => Language::from_tag(tag).ok_or(UnknownLanguage),
        }
    }
}

pub async fn mandate_page(
    frame: Frame,
    helper: SignedInHelper,
    path: web::Path<String>,
    query: web::Query<AttestationQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let language = query.language().map_err(|UnknownLanguage| shown(StatusCode::BAD_REQUEST, |_| UNKNOWN_LANGUAGE))?;
    let mandate_id = path.into_inner();
    let (id, aidant_id) = (mandate_id.clone(), helper.aidant_id.clone());
    let (data, hash) = with_conn(&state.store, move |conn| {
        let found = mandate_for_helper(conn, &id, &aidant_id)?;
        // Mandates are created with their attestation; one without has nothing to print.
        let hash = attestation::stored_hash(&found.mandate).map_err(|_| mandate_not_found())?.to_owned();
        let data = attestation::data(conn, &found.mandate)?;
        attestation::record_printed(conn, &found.mandate, &aidant_id, language.tag(), now())?;
        Ok::<_, PageError>((data, hash))
    })
    .await?;
    let base = format!("/espace-aidant/mandats/{}/attestation", encode_segment(&mandate_id));
    html(&AttestationPage {
        t: Lang::Fr.texts(),
        frame: &frame.in_lang(Lang::Fr),
        p: &PAGE,
        doc: AttestationDocument::new(&data, hash, base, language)?,
    })
}

/// A path segment as it goes into a link (mandate ids are UUIDs, but a link never trusts that).
fn encode_segment(segment: &str) -> String {
    url::form_urlencoded::byte_serialize(segment.as_bytes()).collect()
}

// ---------------------------------------------------------------------------------------------
// The revocation attestation.

/// Why a démarche of the mandate ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndReason {
    /// The whole mandate was revoked.
    MandateRevoked,
    /// This démarche alone was revoked.
    DemarcheRevoked,
    /// A newer mandate of the same organisation and usager covers it now.
    Replaced { by_mandate: String, on: NaiveDateTime },
    /// The mandate was renewed (the démarche kept or left out of the renewal).
    Renewed { by_mandate: String },
}

impl EndReason {
    fn in_words(&self) -> String {
        match self {
            EndReason::MandateRevoked => "Révocation du mandat".to_owned(),
            EndReason::DemarcheRevoked => "Révocation de cette démarche".to_owned(),
            EndReason::Replaced { by_mandate, on } => format!(
                "Remplacée par un nouveau mandat (n° {by_mandate}) signé le {}",
                date_in_words(Language::Fr, on.date())
            ),
            EndReason::Renewed { by_mandate } => format!("Renouvellement du mandat (nouveau mandat n° {by_mandate})"),
        }
    }
}

/// Two instants written by one store transaction (its rows share one `now`, stored to the
/// microsecond on both backends).
fn same_moment(a: NaiveDateTime, b: NaiveDateTime) -> bool {
    (a - b).abs() < chrono::Duration::milliseconds(1)
}

/// Why `authorisation` (of `mandate`, ended at `at`) ended, knowing the other mandates of the
/// same organisation and usager.
pub fn end_reason(
    mandate: &Mandate,
    authorisation: &Authorisation,
    at: NaiveDateTime,
    others: &[MandateWithAuthorisations],
) -> EndReason {
    let newer = others.iter().filter(|o| o.mandate.id != mandate.id && same_moment(o.mandate.created_at, at));
    for other in newer {
        if other.mandate.renewed_from_id.as_deref() == Some(mandate.id.as_str()) {
            return EndReason::Renewed { by_mandate: other.mandate.id.clone() };
        }
        if other.authorisations.iter().any(|a| a.demarche == authorisation.demarche) {
            return EndReason::Replaced { by_mandate: other.mandate.id.clone(), on: other.mandate.created_at };
        }
    }
    match mandate.revoked_at {
        Some(revoked) if same_moment(revoked, at) => EndReason::MandateRevoked,
        _ => EndReason::DemarcheRevoked,
    }
}

pub struct EndedLine {
    pub title: &'static str,
    pub date: String,
    pub by: String,
    pub reason: String,
}

#[derive(Template)]
#[template(path = "attestation_revocation.html")]
pub struct RevocationPage<'a> {
    pub t: &'static Texts,
    pub frame: &'a Frame,
    pub p: &'static PageWords,
    pub mandate_id: &'a str,
    pub usager_name: String,
    pub birthdate: String,
    pub organisation: String,
    pub signed_on: String,
    pub planned_end: String,
    pub summary: String,
    pub ended: Vec<EndedLine>,
    pub still_covered: Vec<&'static str>,
    pub done_at: String,
    pub hash: Option<String>,
    pub qr: Option<String>,
}

/// What the revocation attestation states, read in one go.
struct Revocation {
    found: MandateWithAuthorisations,
    organisation: organisations::Organisation,
    usager: usagers::Usager,
    others: Vec<MandateWithAuthorisations>,
    /// By aidant id: "Given Family, profession".
    helpers: HashMap<String, String>,
}

fn load_revocation(conn: &mut DbConnection, mandate_id: &str, aidant_id: &str) -> Result<Revocation, PageError> {
    let found = mandate_for_helper(conn, mandate_id, aidant_id)?;
    let anything_revoked =
        found.mandate.revoked_at.is_some() || found.authorisations.iter().any(|a| a.revoked_at.is_some());
    if !anything_revoked {
        return Err(shown(StatusCode::NOT_FOUND, |_| NOT_REVOKED));
    }
    let m = &found.mandate;
    let organisation = organisations::find(conn, &m.organisation_id)?;
    let usager = usagers::find(conn, &m.usager_id)?;
    let others = mandates::list(conn, Some(&m.organisation_id), Some(&m.usager_id))?;
    let mut helpers = HashMap::new();
    let revokers = m
        .revoked_by_aidant_id
        .iter()
        .chain(found.authorisations.iter().filter_map(|a| a.revoked_by_aidant_id.as_ref()));
    for id in revokers {
        if !helpers.contains_key(id) {
            let a = aidants::find(conn, id)?;
            helpers.insert(id.clone(), format!("{} {}, {}", a.given_name, a.family_name, a.profession));
        }
    }
    Ok(Revocation { found, organisation, usager, others, helpers })
}

pub async fn revocation_page(
    frame: Frame,
    helper: SignedInHelper,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let mandate_id = path.into_inner();
    let (id, aidant_id) = (mandate_id.clone(), helper.aidant_id.clone());
    let r = with_conn(&state.store, move |conn| load_revocation(conn, &id, &aidant_id)).await?;
    let (m, o, u) = (&r.found.mandate, &r.organisation, &r.usager);
    let fr = |at: NaiveDateTime| date_in_words(Language::Fr, at.date());
    let by = |id: &Option<String>| id.as_ref().and_then(|id| r.helpers.get(id)).cloned().unwrap_or_else(|| "—".into());

    let mut ended: Vec<(NaiveDateTime, EndedLine)> = r
        .found
        .authorisations
        .iter()
        .filter_map(|a| {
            let at = a.revoked_at?;
            Some((
                at,
                EndedLine {
                    title: a.demarche.label_fr(),
                    date: fr(at),
                    by: by(&a.revoked_by_aidant_id),
                    reason: end_reason(m, a, at, &r.others).in_words(),
                },
            ))
        })
        .collect();
    ended.sort_by_key(|(at, _)| *at);
    let last_end = ended.last().map(|(at, _)| *at);
    let still_covered: Vec<&'static str> =
        r.found.authorisations.iter().filter(|a| a.revoked_at.is_none()).map(|a| a.demarche.label_fr()).collect();

    let renewal = r.others.iter().find(|o| o.mandate.renewed_from_id.as_deref() == Some(m.id.as_str()));
    let summary = match (m.revoked_at, renewal) {
        (Some(at), Some(renewal)) => format!(
            "Le mandat a pris fin le {} : {} l'a renouvelé (nouveau mandat n° {}).",
            fr(at),
            by(&m.revoked_by_aidant_id),
            renewal.mandate.id
        ),
        (Some(at), None) => format!(
            "Le mandat a été révoqué le {} par {}. Il ne couvre plus aucune démarche.",
            fr(at),
            by(&m.revoked_by_aidant_id)
        ),
        (None, _) if still_covered.is_empty() => {
            "Toutes les démarches de ce mandat ont été révoquées une par une : il ne couvre plus aucune démarche."
                .to_owned()
        }
        (None, _) => "Une partie des démarches de ce mandat a été révoquée ; le mandat reste valable pour les \
            autres jusqu'à sa fin prévue."
            .to_owned(),
    };
    let revoked_on = m.revoked_at.or(last_end).unwrap_or(m.created_at);
    let hash = m.attestation_hash.clone();
    let qr = hash.as_deref().map(qr_for_page).transpose()?;
    html(&RevocationPage {
        t: Lang::Fr.texts(),
        frame: &frame.in_lang(Lang::Fr),
        p: &PAGE,
        mandate_id: &mandate_id,
        usager_name: format!("{} {}", u.given_name, u.family_name),
        birthdate: birthdate_in_words(&u.birthdate, Language::Fr),
        organisation: format!(
            "{} (SIRET {}), {}, {} {}",
            o.name,
            siret_for_print(&o.siret),
            o.address,
            o.postcode,
            o.city
        ),
        signed_on: fr(m.created_at),
        planned_end: fr(m.expires_at),
        summary,
        ended: ended.into_iter().map(|(_, line)| line).collect(),
        still_covered,
        done_at: format!("Fait à {}, le {}.", o.city, fr(revoked_on)),
        hash,
        qr,
    })
}

/// The script of the "Imprimer" button, served as a file so that a Content-Security-Policy can
/// forbid inline scripts.
pub async fn print_script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(include_str!("../../static/attestation.js"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn birth_dates_are_written_in_french_words() {
        assert_eq!(birthdate_in_words("1948-03-12", Language::Fr), "12 mars 1948");
        assert_eq!(birthdate_in_words("1962-08-01", Language::Fr), "1er août 1962");
        assert_eq!(birthdate_in_words("1948-03-00", Language::Fr), "mars 1948");
        assert_eq!(birthdate_in_words("1948-00-00", Language::Fr), "1948");
        // An unknown month with a known day says only the year (a day alone means nothing).
        assert_eq!(birthdate_in_words("1948-00-12", Language::Fr), "1948");
    }

    #[test]
    fn birth_dates_in_the_translations() {
        assert_eq!(birthdate_in_words("1948-03-12", Language::En), "12 March 1948");
        assert_eq!(birthdate_in_words("1948-03-01", Language::En), "1 March 1948");
        assert_eq!(birthdate_in_words("1948-03-12", Language::Es), "12 de marzo de 1948");
        assert_eq!(birthdate_in_words("1948-03-00", Language::Pt), "março de 1948");
        assert_eq!(birthdate_in_words("1948-03-12", Language::Ar), "12 مارس 1948");
    }

    #[test]
    fn a_birth_date_in_another_form_is_shown_as_it_is() {
        assert_eq!(birthdate_in_words("12/03/1948", Language::Fr), "12/03/1948");
        assert_eq!(birthdate_in_words("1948-13-01", Language::Fr), "1948-13-01");
        assert_eq!(birthdate_in_words("1948-02-30", Language::Fr), "1948-02-30");
    }

    #[test]
    fn sirets_are_printed_in_groups() {
        assert_eq!(siret_for_print("21750001600019"), "217 500 016 00019");
        assert_eq!(siret_for_print("123"), "123");
    }

    #[test]
    fn the_qr_code_is_inline_svg_with_a_name() {
        let svg = qr_svg(&"ab".repeat(32), "QR \"code\"").unwrap();
        assert!(svg.starts_with("<svg class=\"attestation-qr\" role=\"img\" aria-label=\"QR &quot;code&quot;\" "));
        assert!(!svg.contains("<?xml"));
    }
}
