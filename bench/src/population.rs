//! The data a run needs, made through the `idp` command line as an operator would: one
//! organisation, usagers with live mandates, relying parties, and helpers. A one-time code is
//! accepted once per helper and time step, so every virtual browser that keeps a session has
//! its own helper, and the login flow draws from a pool large enough for the codes it spends.

use anyhow::{anyhow, Context};
use rand::Rng;
use serde_json::Value;

use crate::server::Idp;

/// The démarche every flow chooses (`argent` would add a confirmation page).
pub const DEMARCHE: &str = "logement";
/// Where the relying parties are sent back; nothing listens there, the code is read from the
/// `Location` header.
pub const REDIRECT_URI: &str = "http://127.0.0.1:9/callback";
/// Usagers of the organisation, each with a live mandate: the choice page lists them all.
const USAGERS: usize = 3;

pub struct Helper {
    pub email: String,
    pub password: String,
    pub totp_secret: String,
}

pub struct Client {
    pub id: String,
    pub secret: String,
}

pub struct Population {
    /// One per virtual browser that keeps a session (SSO flow, codes for the exchange).
    pub session_helpers: Vec<Helper>,
    /// Spent by the login flow, a one-time code at a time.
    pub login_helpers: Vec<Helper>,
    /// The usager the SSO flow chooses.
    pub usager_id: String,
    pub client_rs256: Client,
    pub client_es256: Client,
}

pub fn random_token(len: usize) -> String {
    use rand::distributions::{Alphanumeric, DistString};
    Alphanumeric.sample_string(&mut rand::thread_rng(), len)
}

/// A SIRET no other run used: 13 random digits and the Luhn check digit INSEE requires.
fn random_siret() -> String {
    let mut rng = rand::thread_rng();
    let mut digits: Vec<u32> = (0..13).map(|_| rng.gen_range(0..10)).collect();
    let sum_with = |check: u32, digits: &[u32]| -> u32 {
        digits
            .iter()
            .chain(std::iter::once(&check))
            .rev()
            .enumerate()
            .map(|(i, d)| if i % 2 == 1 { (d * 2) / 10 + (d * 2) % 10 } else { *d })
            .sum()
    };
    let check = (0..10).find(|c| sum_with(*c, &digits).is_multiple_of(10)).expect("one digit completes a Luhn sum");
    digits.push(check);
    digits.iter().map(|d| char::from_digit(*d, 10).expect("a digit")).collect()
}

fn text<'a>(value: &'a Value, pointer: &str) -> anyhow::Result<&'a str> {
    value.pointer(pointer).and_then(Value::as_str).ok_or_else(|| anyhow!("`{pointer}` missing in {value}"))
}

/// Everything for one backend's run: `session_helpers` signed-in browsers, `login_helpers` for
/// the login flow. Commands run two at a time (the machine's cores; the server is not up yet).
pub fn create(idp: &Idp, session_helpers: usize, login_helpers: usize) -> anyhow::Result<Population> {
    // An ES256 key beside the RS256 one, for the client that asks for ES256 ID tokens.
    idp.run(&["keys", "generate", "--alg", "RS256"])?;
    idp.run(&["keys", "generate", "--alg", "ES256"])?;
    let run = random_token(6).to_lowercase();
    let org = idp.json(
        &[
            "org",
            "add",
            "--name",
            &format!("France Services banc d'essai {run}"),
            "--siret",
            &random_siret(),
            "--address",
            "1 place d'Italie",
            "--postcode",
            "75013",
            "--city",
            "Paris",
            "--type",
            "france_services",
            "--department",
            "75",
        ],
        None,
    )?;
    let organisation = text(&org, "/id")?.to_owned();

    let new_helper = |i: usize, kind: &str| -> anyhow::Result<(String, Helper)> {
        let email = format!("bench-{run}-{kind}-{i}@aidants.example.fr");
        let out = idp.json(
            &[
                "aidant",
                "add",
                "--email",
                &email,
                "--given-name",
                "Camille",
                "--family-name",
                &format!("Essai{i}"),
                "--organisation",
                &organisation,
            ],
            None,
        )?;
        let uri = url::Url::parse(text(&out, "/totp_enrolment_uri")?)?;
        let secret = uri
            .query_pairs()
            .find(|(k, _)| k == "secret")
            .map(|(_, v)| v.into_owned())
            .ok_or_else(|| anyhow!("no secret in {uri}"))?;
        if kind == "session" {
            // Acting for usagers needs the habilitation (training and PIX); signing in does not.
            idp.run(&["aidant", "habilitation", &email, "--training", "2025-01-06", "--pix", "2025-01-20"])?;
        }
        let password = text(&out, "/password")?.to_owned();
        Ok((text(&out, "/id")?.to_owned(), Helper { email, password, totp_secret: secret }))
    };
    let kinds: Vec<(usize, &str)> =
        (0..session_helpers).map(|i| (i, "session")).chain((0..login_helpers).map(|i| (i, "login"))).collect();
    let made: Vec<anyhow::Result<(String, Helper, &str)>> = std::thread::scope(|scope| {
        let halves: Vec<_> = kinds
            .chunks(kinds.len().div_ceil(2).max(1))
            .map(|part| {
                let new_helper = &new_helper;
                scope.spawn(move || {
                    part.iter().map(|(i, kind)| new_helper(*i, kind).map(|(id, h)| (id, h, *kind))).collect::<Vec<_>>()
                })
            })
            .collect();
        halves.into_iter().flat_map(|h| h.join().expect("helper creation thread")).collect()
    });
    let mut ids = Vec::new();
    let (mut session, mut login) = (Vec::new(), Vec::new());
    for result in made {
        let (id, helper, kind) = result.context("creating helpers")?;
        if kind == "session" {
            ids.push(id);
            session.push(helper);
        } else {
            login.push(helper);
        }
    }
    let signer = ids.first().ok_or_else(|| anyhow!("no helper to sign the mandates"))?;

    let mut usager_id = String::new();
    for i in 0..USAGERS {
        let usager = idp.json(
            &[
                "usager",
                "add",
                "--given-name",
                "Angela",
                "--family-name",
                &format!("DUBOIS-ESSAI{i}"),
                "--birthdate",
                "1962-08-24",
                "--gender",
                "female",
                "--birthplace",
                "75107",
                "--email",
                &format!("usager-{run}-{i}@example.fr"),
            ],
            None,
        )?;
        let id = text(&usager, "/id")?.to_owned();
        idp.json(
            &[
                "mandate",
                "add",
                "--organisation",
                &organisation,
                "--usager",
                &id,
                "--aidant",
                signer,
                "--demarche",
                DEMARCHE,
                "--demarche",
                "papiers",
                "--demarche",
                "social",
                "--duration",
                "semester",
            ],
            None,
        )?;
        if i == 0 {
            usager_id = id;
        }
    }

    let client = |name: &str, alg: &str| -> anyhow::Result<Client> {
        let out =
            idp.json(&["client", "add", "--name", name, "--redirect-uri", REDIRECT_URI, "--id-token-alg", alg], None)?;
        Ok(Client { id: text(&out, "/client_id")?.to_owned(), secret: text(&out, "/client_secret")?.to_owned() })
    };
    Ok(Population {
        session_helpers: session,
        login_helpers: login,
        usager_id,
        client_rs256: client(&format!("Banc d'essai RS256 {run}"), "RS256")?,
        client_es256: client(&format!("Banc d'essai ES256 {run}"), "ES256")?,
    })
}

#[cfg(test)]
mod tests {
    fn luhn_ok(siret: &str) -> bool {
        let sum: u32 = siret
            .chars()
            .rev()
            .enumerate()
            .map(|(i, c)| {
                let d = c.to_digit(10).unwrap();
                if i % 2 == 1 {
                    (d * 2) / 10 + (d * 2) % 10
                } else {
                    d
                }
            })
            .sum();
        sum.is_multiple_of(10)
    }

    #[test]
    fn random_sirets_pass_the_luhn_check() {
        // The check itself, on a registered SIRET (the one the CLI tests use) and a digit off.
        assert!(luhn_ok("21750001600019"));
        assert!(!luhn_ok("21750001600018"));
        for _ in 0..100 {
            let siret = super::random_siret();
            assert_eq!(siret.len(), 14);
            assert!(luhn_ok(&siret), "{siret}");
        }
    }
}
