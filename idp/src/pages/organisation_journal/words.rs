//! The journal in words: a label per action (the action filter) and a sentence per entry, with
//! the names read at display. Every action has both, in French and English: a new action does
//! not compile until it is said here.

use mandate_store::journal::names::Names;
use mandate_store::journal::{JournalAction, JournalEntry};

use crate::web::Lang;

/// The action filter's label.
pub fn label(action: JournalAction, lang: Lang) -> &'static str {
    use JournalAction::*;
    let (fr, en) = match action {
        AidantConnected => ("Connexion d'un aidant", "Helper signed in"),
        UsagerIdentityVerified => ("Identité vérifiée par FranceConnect", "Identity verified with FranceConnect"),
        AttestationCreated => ("Attestation créée", "Attestation created"),
        AuthorisationCreated => ("Démarche ajoutée à un mandat", "Démarche added to a mandate"),
        AuthorisationUsed => ("Mandat utilisé auprès d'un service", "Mandate used with a service"),
        AuthorisationRevoked => ("Démarche révoquée", "Démarche revoked"),
        MandateRevoked => ("Mandat révoqué", "Mandate revoked"),
        MandateRenewed => ("Mandat renouvelé", "Mandate renewed"),
        OrganisationSwitched => ("Changement de structure", "Organisation switched"),
        SecondFactorAdded => ("Second facteur ajouté", "Second factor added"),
        SecondFactorRemoved => ("Second facteur retiré", "Second factor removed"),
        UsagerCreated => ("Personne enregistrée", "Person registered"),
        MandateCreated => ("Mandat créé", "Mandate created"),
        AttestationPrinted => ("Attestation imprimée", "Attestation printed"),
        UpstreamLoginFailed => ("Échec de connexion FranceConnect", "FranceConnect sign-in failed"),
        OrganisationCreated => ("Structure créée", "Organisation created"),
        OrganisationUpdated => ("Structure modifiée", "Organisation updated"),
        HabilitationRecorded => ("Étape d'habilitation enregistrée", "Habilitation step recorded"),
        CharterAccepted => ("Charte acceptée", "Charter accepted"),
        AidantCreated => ("Aidant ajouté", "Helper added"),
        EnrolmentLinkIssued => ("Lien d'inscription créé", "Enrolment link issued"),
        EnrolmentCompleted => ("Inscription terminée", "Enrolment completed"),
        PasswordChanged => ("Mot de passe changé", "Password changed"),
        AidantDeactivated => ("Compte désactivé", "Account deactivated"),
        AidantReactivated => ("Compte réactivé", "Account reactivated"),
        AidantUnlocked => ("Compte débloqué", "Account unlocked"),
        SecondFactorReset => ("Seconds facteurs réinitialisés", "Second factors reset"),
        CardsImported => ("Cartes à code importées", "Code cards imported"),
        CardAssigned => ("Carte à code attribuée", "Code card assigned"),
        JournalExported => ("Journal exporté", "Journal exported"),
        UsagerSignedIn => ("Connexion d'une personne à son espace", "Person signed in to their space"),
        CheckpointSigned => ("Point de contrôle signé", "Checkpoint signed"),
        UsagerErased => ("Données d'une personne effacées", "Person's data erased"),
    };
    match lang {
        Lang::Fr => fr,
        Lang::En => en,
    }
}

/// What the sentence needs, names resolved.
struct Parts<'a> {
    /// The helper the entry is about (or who acted).
    aidant: String,
    usager: String,
    demarche: String,
    service: String,
    /// Who acted on an account: a manager by name, or the service's operator.
    by: String,
    entry: &'a JournalEntry,
}

fn detail<'a>(entry: &'a JournalEntry, key: &str) -> Option<&'a str> {
    entry.details.as_ref().and_then(|d| d.value().get(key)).and_then(|v| v.as_str())
}

/// The entry as a sentence: who did what for whom (and where).
pub fn sentence(entry: &JournalEntry, names: &Names, lang: Lang) -> String {
    let unknown_helper = if lang == Lang::Fr { "Un aidant" } else { "A helper" };
    let aidant = entry
        .aidant_id
        .as_ref()
        .and_then(|id| names.aidants.get(id).cloned())
        .unwrap_or_else(|| unknown_helper.to_owned());
    let usager = match entry.usager_id.as_ref().map(|id| names.usagers.get(id)) {
        Some(Some(name)) => name.clone(),
        // A usager erased at the end of retention: the entry stays, the name is gone.
        Some(None) => if lang == Lang::Fr { "une personne effacée" } else { "an erased person" }.to_owned(),
        None => if lang == Lang::Fr { "une personne" } else { "a person" }.to_owned(),
    };
    let demarche = entry.demarche.map(|d| lang.demarche_label(d).to_owned()).unwrap_or_default();
    let service = match entry.client_id.as_ref() {
        Some(id) => names.clients.get(id).cloned().unwrap_or_else(|| id.clone()),
        None => if lang == Lang::Fr { "un service" } else { "a service" }.to_owned(),
    };
    let by = match detail(entry, "by") {
        Some("operator") | None => {
            if lang == Lang::Fr { "L'opérateur du service" } else { "The service's operator" }.to_owned()
        }
        Some(id) => names
            .aidants
            .get(id)
            .cloned()
            .unwrap_or_else(|| if lang == Lang::Fr { "Un responsable" } else { "A manager" }.to_owned()),
    };
    let p = Parts { aidant, usager, demarche, service, by, entry };
    match lang {
        Lang::Fr => french(&p),
        Lang::En => english(&p),
    }
}

fn french(p: &Parts) -> String {
    use JournalAction::*;
    let Parts { aidant, usager, demarche, service, by, entry } = p;
    match entry.action {
        AidantConnected => format!("Connexion de {aidant} à son compte."),
        UsagerIdentityVerified => format!("{aidant} a vérifié l'identité de {usager} avec FranceConnect."),
        AttestationCreated => format!("{aidant} a créé l'attestation du mandat de {usager}."),
        AuthorisationCreated => format!("{aidant} a ajouté la démarche « {demarche} » au mandat de {usager}."),
        AuthorisationUsed => format!("{aidant} a utilisé le mandat de {usager} pour « {demarche} » auprès de {service}."),
        AuthorisationRevoked if detail(entry, "reason") == Some("replaced") => format!(
            "La démarche « {demarche} » d'un mandat de {usager} a pris fin : {aidant} a créé un nouveau mandat qui la couvre."
        ),
        AuthorisationRevoked if detail(entry, "by") == Some("usager") => {
            format!("{usager} a révoqué la démarche « {demarche} » de son mandat, depuis son espace.")
        }
        AuthorisationRevoked => format!("{aidant} a révoqué la démarche « {demarche} » du mandat de {usager}."),
        MandateRevoked if detail(entry, "by") == Some("usager") => {
            format!("{usager} a révoqué son mandat, depuis son espace.")
        }
        MandateRevoked => format!("{aidant} a révoqué le mandat de {usager}."),
        MandateRenewed => format!("{aidant} a renouvelé le mandat de {usager}."),
        OrganisationSwitched => format!("{aidant} travaille maintenant pour cette structure."),
        SecondFactorAdded => format!("{aidant} a ajouté un second facteur à son compte."),
        SecondFactorRemoved => format!("{aidant} a retiré un second facteur de son compte."),
        UsagerCreated => format!("{aidant} a enregistré une nouvelle personne : {usager}."),
        MandateCreated => format!("{aidant} a créé un mandat pour {usager}."),
        AttestationPrinted if detail(entry, "by") == Some("usager") => {
            format!("{usager} a consulté l'attestation de son mandat, depuis son espace.")
        }
        AttestationPrinted => format!("{aidant} a imprimé l'attestation du mandat de {usager}."),
        UpstreamLoginFailed if detail(entry, "by") == Some("usager") => {
            "Une personne n'a pas pu se connecter à son espace avec FranceConnect.".to_owned()
        }
        UpstreamLoginFailed => format!("Une connexion FranceConnect a échoué pendant que {aidant} créait un mandat."),
        OrganisationCreated => "La structure a été créée.".to_owned(),
        OrganisationUpdated => format!("{by} a modifié les informations de la structure."),
        HabilitationRecorded => match detail(entry, "step") {
            Some("pix") => format!("{by} a enregistré la certification PIX de {aidant}."),
            Some("training") => format!("{by} a enregistré la formation de {aidant}."),
            _ => format!("{by} a enregistré une étape d'habilitation de {aidant}."),
        },
        CharterAccepted => format!("{aidant} a accepté la charte de l'aidant."),
        AidantCreated => format!("{by} a ajouté l'aidant {aidant}."),
        EnrolmentLinkIssued => format!("{by} a créé un lien d'inscription pour {aidant}."),
        EnrolmentCompleted => format!("{aidant} a terminé son inscription."),
        PasswordChanged => format!("{aidant} a changé son mot de passe."),
        AidantDeactivated if detail(entry, "reason") == Some("inactivity") => {
            format!("Le compte de {aidant} a été désactivé après six mois sans connexion.")
        }
        AidantDeactivated => format!("{by} a désactivé le compte de {aidant}."),
        AidantReactivated => format!("{by} a réactivé le compte de {aidant}."),
        AidantUnlocked => format!("{by} a débloqué le compte de {aidant}."),
        SecondFactorReset => format!("{by} a réinitialisé les seconds facteurs de {aidant}."),
        CardsImported => "Des cartes à code ont été importées.".to_owned(),
        CardAssigned => format!("{by} a attribué une carte à code à {aidant}."),
        JournalExported => format!("{aidant} a exporté le journal en CSV."),
        UsagerSignedIn => format!("{usager} s'est connecté(e) à son espace personnel."),
        CheckpointSigned => "Le journal a été signé à ce point.".to_owned(),
        UsagerErased => "Les données personnelles d'une personne ont été effacées.".to_owned(),
    }
}

fn english(p: &Parts) -> String {
    use JournalAction::*;
    let Parts { aidant, usager, demarche, service, by, entry } = p;
    match entry.action {
        AidantConnected => format!("{aidant} signed in."),
        UsagerIdentityVerified => format!("{aidant} verified the identity of {usager} with FranceConnect."),
        AttestationCreated => format!("{aidant} created the attestation of {usager}'s mandate."),
        AuthorisationCreated => format!("{aidant} added the démarche “{demarche}” to {usager}'s mandate."),
        AuthorisationUsed => format!("{aidant} used {usager}'s mandate for “{demarche}” with {service}."),
        AuthorisationRevoked if detail(entry, "reason") == Some("replaced") => format!(
            "The démarche “{demarche}” of a mandate of {usager} ended: {aidant} created a new mandate covering it."
        ),
        AuthorisationRevoked if detail(entry, "by") == Some("usager") => {
            format!("{usager} revoked the démarche “{demarche}” of their mandate, from their own space.")
        }
        AuthorisationRevoked => format!("{aidant} revoked the démarche “{demarche}” of {usager}'s mandate."),
        MandateRevoked if detail(entry, "by") == Some("usager") => {
            format!("{usager} revoked their mandate, from their own space.")
        }
        MandateRevoked => format!("{aidant} revoked {usager}'s mandate."),
        MandateRenewed => format!("{aidant} renewed {usager}'s mandate."),
        OrganisationSwitched => format!("{aidant} now works for this organisation."),
        SecondFactorAdded => format!("{aidant} added a second factor."),
        SecondFactorRemoved => format!("{aidant} removed a second factor."),
        UsagerCreated => format!("{aidant} registered a new person: {usager}."),
        MandateCreated => format!("{aidant} created a mandate for {usager}."),
        AttestationPrinted if detail(entry, "by") == Some("usager") => {
            format!("{usager} read the attestation of their mandate, in their own space.")
        }
        AttestationPrinted => format!("{aidant} printed the attestation of {usager}'s mandate."),
        UpstreamLoginFailed if detail(entry, "by") == Some("usager") => {
            "A person could not sign in to their own space with FranceConnect.".to_owned()
        }
        UpstreamLoginFailed => format!("A FranceConnect sign-in failed while {aidant} was creating a mandate."),
        OrganisationCreated => "The organisation was created.".to_owned(),
        OrganisationUpdated => format!("{by} updated the organisation's details."),
        HabilitationRecorded => match detail(entry, "step") {
            Some("pix") => format!("{by} recorded the PIX certification of {aidant}."),
            Some("training") => format!("{by} recorded the training of {aidant}."),
            _ => format!("{by} recorded a habilitation step of {aidant}."),
        },
        CharterAccepted => format!("{aidant} accepted the helper's charter."),
        AidantCreated => format!("{by} added the helper {aidant}."),
        EnrolmentLinkIssued => format!("{by} issued an enrolment link for {aidant}."),
        EnrolmentCompleted => format!("{aidant} completed their enrolment."),
        PasswordChanged => format!("{aidant} changed their password."),
        AidantDeactivated if detail(entry, "reason") == Some("inactivity") => {
            format!("{aidant}'s account was deactivated after six months without sign-in.")
        }
        AidantDeactivated => format!("{by} deactivated {aidant}'s account."),
        AidantReactivated => format!("{by} reactivated {aidant}'s account."),
        AidantUnlocked => format!("{by} unlocked {aidant}'s account."),
        SecondFactorReset => format!("{by} reset the second factors of {aidant}."),
        CardsImported => "Code cards were imported.".to_owned(),
        CardAssigned => format!("{by} assigned a code card to {aidant}."),
        JournalExported => format!("{aidant} exported the journal as CSV."),
        UsagerSignedIn => format!("{usager} signed in to their own space."),
        CheckpointSigned => "The journal was signed at this point.".to_owned(),
        UsagerErased => "A person's personal data was erased.".to_owned(),
    }
}
