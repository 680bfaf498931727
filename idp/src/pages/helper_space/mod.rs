//! The helper's space (`/espace-aidant`): the usagers of the current organisation, the
//! new-mandate wizard, a usager's mandates with revocation and renewal. Every page is for a helper
//! signed in with both factors (`SignedInHelper`), and shows only what belongs to their current
//! organisation; signing, revoking and renewing ask for a one-time code again.

pub mod account;
pub mod home;
pub mod new_mandate;
pub mod texts;
pub mod usager;

use mandate_store::mandates::MandateStatus;
use mandate_store::{aidants, now, Demarche, DurationKind};

pub use texts::SpaceTexts;

use crate::blocking::with_conn;
use crate::protocol::flow::Step;
use crate::web::dates;
use crate::web::{AppState, Frame, Lang, PageError, SignedInHelper};

/// What every page of the space shows at the top: the page's frame (who is signed in, for which
/// organisation, with the sign-out button), and the space's own links with the one to the other
/// language (back to this very page).
pub struct SpaceHeader {
    pub frame: Frame,
    /// The helper's and the organisation's names, as the consent sentences say them.
    pub aidant_name: String,
    pub organisation_name: String,
    pub csrf_token: String,
    pub lang: Lang,
    pub s: &'static SpaceTexts,
    /// `/langue/xx?retour=…` for the other language.
    pub language_link: String,
    /// The helper manages their current organisation: the space links to `/structure`.
    pub is_manager: bool,
}

impl SpaceHeader {
    pub async fn load(
        helper: &SignedInHelper,
        state: &AppState,
        req: &actix_web::HttpRequest,
    ) -> Result<SpaceHeader, PageError> {
        let lang = Lang::of_browser(req);
        let s = SpaceTexts::of(lang);
        let here = match req.query_string() {
            "" => req.path().to_owned(),
            query => format!("{}?{query}", req.path()),
        };
        let back: String = url::form_urlencoded::byte_serialize(here.as_bytes()).collect();
        let frame = Frame::of_browser(Some(&helper.browser), state, lang).await?;
        // The frame names whoever `SignedInHelper` let in; were the session to idle out between
        // the two, the helper is sent to sign in again.
        let Some(identity) = frame.helper.clone() else {
            return Err(PageError::SignIn { location: Step::SecondFactor.path().to_owned() });
        };
        let (aidant_id, organisation_id) = (helper.aidant_id.clone(), helper.organisation_id.clone());
        let is_manager =
            with_conn(&state.store, move |conn| aidants::is_manager(conn, &aidant_id, &organisation_id)).await?;
        Ok(SpaceHeader {
            frame,
            is_manager,
            aidant_name: identity.name,
            organisation_name: identity.organisation,
            csrf_token: helper.browser.csrf_token(state),
            lang,
            s,
            language_link: format!("/langue/{}?retour={back}", s.other_language_code),
        })
    }
}

/// A démarche as the pages present it.
pub struct DemarcheView {
    pub key: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub examples: &'static str,
    /// `argent` warns: the helper will see the usager's money matters.
    pub warning: Option<&'static str>,
}

impl DemarcheView {
    pub fn of(demarche: Demarche, lang: Lang) -> DemarcheView {
        if lang == Lang::En {
            return DemarcheView::in_english(demarche);
        }
        let (description, examples) = match demarche {
            Demarche::Papiers => (
                "Carte d'identité, passeport, permis de conduire, carte grise, état civil, élections.",
                "ANTS, service-public.fr (demande d'acte d'état civil), inscription sur les listes électorales",
            ),
            Demarche::Famille => (
                "Allocations familiales, garde d'enfants, scolarité, bourses, restauration scolaire.",
                "CAF (prestations familiales), ENT et inscriptions scolaires, Pajemploi",
            ),
            Demarche::Social => (
                "Santé, handicap, retraite, RSA, prime d'activité, complémentaire santé solidaire.",
                "ameli.fr, MDPH, Info Retraite, mesdroitssociaux.gouv.fr",
            ),
            Demarche::Travail => (
                "Recherche d'emploi, indemnisation chômage, formation, compte personnel de formation.",
                "France Travail, Mon Compte Formation",
            ),
            Demarche::Logement => (
                "Aides au logement, logement social, énergie, déménagement.",
                "CAF (aide au logement), demande de logement social, chèque énergie",
            ),
            Demarche::Transports => (
                "Transports en commun, carte de stationnement, amendes, code de la route.",
                "ANTAI (amendes), réseau de transport local",
            ),
            Demarche::Argent => (
                "Impôts, crédit, surendettement, consommation, banque.",
                "impots.gouv.fr, Banque de France (surendettement), SignalConso",
            ),
            Demarche::Justice => (
                "Aide juridictionnelle, casier judiciaire, plainte, litiges.",
                "justice.fr, demande d'extrait de casier judiciaire, pré-plainte en ligne",
            ),
            Demarche::Etranger => (
                "Titre de séjour, naturalisation, visa, asile.",
                "ANEF (administration numérique des étrangers en France)",
            ),
            Demarche::Loisirs => ("Sport, culture, vacances, associations.", "Pass Sport, Pass Culture, ANCV"),
        };
        DemarcheView {
            key: demarche.key(),
            title: demarche.label_fr(),
            description,
            examples,
            warning: (demarche == Demarche::Argent).then_some(
                "Attention : cette démarche donne accès aux impôts et aux finances de la personne. \
                 Ne la choisissez que si la personne en a vraiment besoin.",
            ),
        }
    }

    fn in_english(demarche: Demarche) -> DemarcheView {
        let (description, examples) = match demarche {
            Demarche::Papiers => (
                "Identity card, passport, driving licence, vehicle registration, civil status, elections.",
                "ANTS, service-public.fr (civil status records), electoral roll",
            ),
            Demarche::Famille => (
                "Family allowances, childcare, schooling, grants, school meals.",
                "CAF (family benefits), school enrolment, Pajemploi",
            ),
            Demarche::Social => (
                "Health, disability, retirement, RSA, activity bonus, complementary health cover.",
                "ameli.fr, MDPH, Info Retraite, mesdroitssociaux.gouv.fr",
            ),
            Demarche::Travail => (
                "Job seeking, unemployment benefits, training, personal training account.",
                "France Travail, Mon Compte Formation",
            ),
            Demarche::Logement => (
                "Housing benefits, social housing, energy, moving house.",
                "CAF (housing benefit), social housing application, energy voucher",
            ),
            Demarche::Transports => {
                ("Public transport, parking card, fines, highway code.", "ANTAI (fines), local transport network")
            }
            Demarche::Argent => (
                "Taxes, credit, over-indebtedness, consumer matters, banking.",
                "impots.gouv.fr, Banque de France (over-indebtedness), SignalConso",
            ),
            Demarche::Justice => (
                "Legal aid, criminal record, complaints, disputes.",
                "justice.fr, criminal record extract, online pre-complaint",
            ),
            Demarche::Etranger => (
                "Residence permit, naturalisation, visa, asylum.",
                "ANEF (digital administration for foreigners in France)",
            ),
            Demarche::Loisirs => ("Sport, culture, holidays, associations.", "Pass Sport, Pass Culture, ANCV"),
        };
        DemarcheView {
            key: demarche.key(),
            title: demarche.label_en(),
            description,
            examples,
            warning: (demarche == Demarche::Argent).then_some(
                "Warning: this démarche gives access to the person's taxes and finances. \
                 Choose it only if the person really needs it.",
            ),
        }
    }
}

/// A duration as the pages present it.
pub fn duration_label(kind: DurationKind, lang: Lang) -> &'static str {
    match (kind, lang) {
        (DurationKind::Short, Lang::Fr) => "1 jour",
        (DurationKind::Month, Lang::Fr) => "1 mois (31 jours)",
        (DurationKind::Semester, Lang::Fr) => "6 mois (182 jours)",
        (DurationKind::Long, Lang::Fr) => "1 an (365 jours)",
        (DurationKind::Custom, Lang::Fr) => "jusqu'à une date fixée",
        (DurationKind::Short, Lang::En) => "1 day",
        (DurationKind::Month, Lang::En) => "1 month (31 days)",
        (DurationKind::Semester, Lang::En) => "6 months (182 days)",
        (DurationKind::Long, Lang::En) => "1 year (365 days)",
        (DurationKind::Custom, Lang::En) => "until a fixed date",
    }
}

pub fn status_label(status: MandateStatus, s: &SpaceTexts) -> &'static str {
    match status {
        MandateStatus::Live => s.live,
        MandateStatus::Expired => s.expired,
        MandateStatus::Revoked => s.revoked,
    }
}

/// A date in words (`30 mai 2027`).
pub fn day(lang: Lang, at: chrono::NaiveDateTime) -> String {
    dates::long_day(lang, at)
}

/// Mandates ending within this many days are flagged on the home page.
pub const EXPIRING_SOON_DAYS: i64 = 30;

pub fn expiring_soon(expires_at: chrono::NaiveDateTime) -> bool {
    expires_at <= now() + chrono::Duration::days(EXPIRING_SOON_DAYS)
}
