//! `idp demo seed`: a demo organisation, helper, two usagers with live mandates and a demo
//! client, created once and printed as JSON so the flow can be tried at once. Demo values are
//! fixed so that running it again prints the same thing; never use them in production.

use mandate_store::aidants::{self, Aidant, NewAidant};
use mandate_store::habilitation::{self, HabilitationStep, Requirement, CURRENT_CHARTER_VERSION};
use mandate_store::mandates::{self, NewMandate};
use mandate_store::organisations::{self, NewOrganisation};
use mandate_store::second_factors;
use mandate_store::usagers::{self, NewUsager, Usager};
use mandate_store::{
    clients, now, DbConnection, Demarche, Department, DurationKind, Email, OrganisationType, Role, Siret,
};
use serde_json::{json, Value};

use super::clients::{register, ClientRegistration};
use crate::{passwords, totp};

pub const DEMO_EMAIL: &str = "aidant.demo@example.fr";
pub const DEMO_PASSWORD: &str = "demo-password-1234";
pub const DEMO_TOTP_SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
/// The demo organisation's manager ("responsable de structure"), who may also help usagers.
pub const DEMO_MANAGER_EMAIL: &str = "responsable.demo@example.fr";
pub const DEMO_MANAGER_PASSWORD: &str = "demo-manager-1234";
pub const DEMO_MANAGER_TOTP_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
pub const DEMO_CLIENT_ID: &str = "demo-service";
pub const DEMO_CLIENT_SECRET: &str = "demo-secret-for-local-use-only-0123456789";
const DEMO_SIRET: &str = "21750001600019";
const DEMO_ORGANISATION: &str = "France Services Démo";

/// Why demo data may not be seeded with these settings, when it may not. Its password, one-time
/// code secrets and client secret are published (README), so they belong only to a server in
/// demo mode whose issuer is this machine's loopback address: nobody else can use them there.
pub fn seed_refusal(demo_enabled: bool, issuer: &str) -> Option<String> {
    if !demo_enabled {
        return Some(
            "demo data is seeded only in demo mode: its passwords and secrets are published \
             (set demo.enabled = true, or IDP__DEMO__ENABLED=true, on a server for trying it out)"
                .into(),
        );
    }
    let loopback = url::Url::parse(issuer).ok().is_some_and(|url| match url.host() {
        Some(url::Host::Domain(name)) => name == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    });
    (!loopback).then(|| {
        format!(
            "demo data is seeded only on a server whose issuer is this machine (127.0.0.1 or localhost), \
             not {issuer}: its passwords and secrets are published"
        )
    })
}

fn demo_usager(conn: &mut DbConnection, issuer: &str, subject: &str, new: NewUsager) -> anyhow::Result<Usager> {
    let upstream = format!("{issuer}/demo-upstream");
    if let Some(existing) = usagers::find_by_upstream(conn, &upstream, subject)? {
        return Ok(existing);
    }
    Ok(usagers::create(conn, NewUsager { upstream_issuer: upstream, upstream_subject: subject.into(), ..new }, now())?)
}

/// The demo helper's one-time code now, as their authenticator app shows it (the demo secret
/// is fixed and public, so this gives nothing away).
pub fn current_code() -> anyhow::Result<String> {
    let unix = u64::try_from(chrono::Utc::now().timestamp())?;
    Ok(totp::code_at(DEMO_TOTP_SECRET, 30, unix)?)
}

/// The demo manager's one-time code now (`idp demo code --manager`).
pub fn current_manager_code() -> anyhow::Result<String> {
    let unix = u64::try_from(chrono::Utc::now().timestamp())?;
    Ok(totp::code_at(DEMO_MANAGER_TOTP_SECRET, 30, unix)?)
}

/// Records what the demo helper lacks of their habilitation (training and PIX today, by the
/// operator; the charter in force), so that they may act at once, as the walkthrough expects.
fn habilitate(conn: &mut DbConnection, aidant: &Aidant) -> anyhow::Result<()> {
    let today = now().date();
    for requirement in habilitation::missing(aidant) {
        match requirement {
            Requirement::Training => {
                habilitation::record(conn, &aidant.id, HabilitationStep::Training, today, None, None, now())?
            }
            Requirement::Pix => {
                habilitation::record(conn, &aidant.id, HabilitationStep::Pix, today, None, None, now())?
            }
            Requirement::Charter => habilitation::accept_charter(conn, &aidant.id, CURRENT_CHARTER_VERSION, now())?,
        }
    }
    Ok(())
}

pub fn seed(
    conn: &mut DbConnection,
    keys: &dyn mandate_store::sealing::SealingKeys,
    issuer: &str,
) -> anyhow::Result<Value> {
    let siret = Siret::parse(DEMO_SIRET)?;
    // One organisation per SIRET: an organisation registered with the demo SIRET is the demo's.
    let organisation = match organisations::find_by_siret(conn, &siret)? {
        Some(o) => o,
        None => organisations::create(
            conn,
            NewOrganisation {
                name: DEMO_ORGANISATION.into(),
                siret,
                address: "1 place de la Mairie".into(),
                postcode: "75013".into(),
                city: "Paris".into(),
                organisation_type: OrganisationType::FranceServices,
                department: Department::parse("75")?,
                demarches: Demarche::ALL.to_vec(),
            },
            now(),
        )?,
    };
    let email = Email::parse(DEMO_EMAIL)?;
    let aidant = match aidants::find_by_email(conn, &email)? {
        Some(a) => a,
        None => aidants::create(
            conn,
            keys,
            NewAidant {
                email,
                given_name: "Camille".into(),
                family_name: "Martin".into(),
                profession: "Conseillère France Services".into(),
                phone: None,
                organisation_ids: vec![organisation.id.clone()],
                role: Role::Aidant,
                password_hash: passwords::hash(DEMO_PASSWORD)?,
                totp_secret: DEMO_TOTP_SECRET.into(),
                totp_step_seconds: 30,
                charter_signed_at: Some(now()),
            },
            now(),
        )?,
    };
    habilitate(conn, &aidant)?;
    let manager_email = Email::parse(DEMO_MANAGER_EMAIL)?;
    let manager = match aidants::find_by_email(conn, &manager_email)? {
        Some(a) => a,
        None => aidants::create(
            conn,
            keys,
            NewAidant {
                email: manager_email,
                given_name: "Dominique".into(),
                family_name: "Bernard".into(),
                profession: "Responsable France Services".into(),
                phone: None,
                organisation_ids: vec![organisation.id.clone()],
                role: Role::Manager,
                password_hash: passwords::hash(DEMO_MANAGER_PASSWORD)?,
                totp_secret: DEMO_MANAGER_TOTP_SECRET.into(),
                totp_step_seconds: 30,
                charter_signed_at: Some(now()),
            },
            now(),
        )?,
    };
    habilitate(conn, &manager)?;
    // The manager's authenticator, as a second factor row (what the manager's space reports).
    if !second_factors::has_confirmed(conn, &manager.id)? {
        second_factors::add_confirmed_app(conn, keys, &manager.id, DEMO_MANAGER_TOTP_SECRET, 30, now())?;
    }
    let angela = demo_usager(
        conn,
        issuer,
        "demo-usager-1",
        NewUsager {
            given_name: "Angela Claire Louise".into(),
            family_name: "DUBOIS".into(),
            birthdate: "1962-08-24".into(),
            gender: "female".into(),
            birthplace: "75107".into(),
            birthcountry: "99100".into(),
            email: "angela.dubois@example.fr".into(),
            phone: Some("0123456789".into()),
            preferred_username: Some("DUPONT".into()),
            street_address: Some("12 rue des Lilas".into()),
            postal_code: Some("75013".into()),
            locality: Some("Paris".into()),
            country: Some("France".into()),
            ..Default::default()
        },
    )?;
    let joao = demo_usager(
        conn,
        issuer,
        "demo-usager-2",
        NewUsager {
            given_name: "João".into(),
            family_name: "SILVA".into(),
            birthdate: "1948-00-00".into(),
            gender: "male".into(),
            birthplace: String::new(),
            birthcountry: "99139".into(),
            email: "joao.silva@example.fr".into(),
            ..Default::default()
        },
    )?;
    let mut usagers_out = Vec::new();
    for (usager, demarches) in
        [(&angela, vec![Demarche::Argent, Demarche::Logement, Demarche::Social]), (&joao, vec![Demarche::Papiers])]
    {
        let live = mandates::live_authorisations(conn, &organisation.id, &usager.id, now())?;
        if live.is_empty() {
            mandates::create(
                conn,
                NewMandate {
                    organisation_id: organisation.id.clone(),
                    usager_id: usager.id.clone(),
                    aidant_id: aidant.id.clone(),
                    demarches: demarches.clone(),
                    duration: DurationKind::Long,
                    custom_expires_at: None,
                    is_remote: false,
                    consent_proof: None,
                },
                now(),
            )?;
        }
        let live = mandates::live_authorisations(conn, &organisation.id, &usager.id, now())?;
        // The ids `idp mandate revoke` and `idp authorisation revoke` take.
        usagers_out.push(json!({
            "id": usager.id,
            "given_name": usager.given_name,
            "family_name": usager.family_name,
            "demarches": live.iter().map(|l| l.demarche.key()).collect::<Vec<_>>(),
            "mandate_id": live.first().map(|l| l.mandate_id.clone()),
            "authorisations": live
                .iter()
                .map(|l| json!({"id": l.authorisation_id, "demarche": l.demarche.key()}))
                .collect::<Vec<_>>(),
        }));
    }
    let redirect_uris = vec![format!("{issuer}/sandbox/callback"), "http://127.0.0.1:8765/callback".to_owned()];
    if clients::find(conn, DEMO_CLIENT_ID)?.is_none() {
        register(
            conn,
            ClientRegistration {
                client_id: Some(DEMO_CLIENT_ID.into()),
                name: "Service de démonstration".into(),
                redirect_uris: redirect_uris.clone(),
                post_logout_redirect_uris: vec![
                    format!("{issuer}/sandbox/logged-out"),
                    "http://127.0.0.1:8765/logged-out".into(),
                ],
                auth_method: "client_secret_basic".into(),
                id_token_alg: "RS256".into(),
                subject_type: "pairwise".into(),
                secret: Some(DEMO_CLIENT_SECRET.into()),
                ..Default::default()
            },
        )?;
    }
    Ok(json!({
        "issuer": issuer,
        "organisation": {"id": organisation.id, "name": organisation.name, "siret": organisation.siret},
        "aidant": {
            "id": aidant.id,
            "email": DEMO_EMAIL,
            "password": DEMO_PASSWORD,
            "totp_secret": DEMO_TOTP_SECRET,
            "totp_step": 30,
            "totp_enrolment_uri": totp::enrolment_uri(DEMO_TOTP_SECRET, 30, DEMO_EMAIL)?,
        },
        "manager": {
            "id": manager.id,
            "email": DEMO_MANAGER_EMAIL,
            "password": DEMO_MANAGER_PASSWORD,
            "totp_secret": DEMO_MANAGER_TOTP_SECRET,
            "totp_step": 30,
            "totp_enrolment_uri": totp::enrolment_uri(DEMO_MANAGER_TOTP_SECRET, 30, DEMO_MANAGER_EMAIL)?,
        },
        "usagers": usagers_out,
        "client": {
            "client_id": DEMO_CLIENT_ID,
            "client_secret": DEMO_CLIENT_SECRET,
            "token_endpoint_auth_method": "client_secret_basic",
            "redirect_uris": redirect_uris,
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::seed_refusal;

    #[test]
    fn demo_data_only_in_demo_mode_on_this_machine() {
        assert!(seed_refusal(true, "http://127.0.0.1:8080").is_none());
        assert!(seed_refusal(true, "https://localhost:8443").is_none());
        assert!(seed_refusal(true, "http://[::1]:8080").is_none());
        assert!(seed_refusal(false, "http://127.0.0.1:8080").unwrap().contains("demo mode"));
        let public = seed_refusal(true, "https://aidants.example.gouv.fr").unwrap();
        assert!(public.contains("https://aidants.example.gouv.fr"), "{public}");
        assert!(seed_refusal(true, "http://10.0.0.5:8080").is_some(), "a private address is reachable by others");
        assert!(seed_refusal(true, "http://127.0.0.1.example.fr").is_some());
    }
}
