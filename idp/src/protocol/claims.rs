//! What tokens and userinfo say: the usager's identity per granted scope, the helper who
//! acted (`act`, RFC 8693) and the mandate scope that allowed it.

use chrono::NaiveDateTime;
use hmac::{Hmac, Mac};
use mandate_store::aidants::Aidant;
use mandate_store::clients::Client;
use mandate_store::exchange::GrantContext;
use mandate_store::grants::Grant;
use mandate_store::organisations::Organisation;
use mandate_store::usagers::Usager;
use mandate_store::SubjectType;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::encoding::b64url;

/// Everything a token about one grant can say.
pub struct Subject<'a> {
    pub grant: &'a Grant,
    pub client: &'a Client,
    pub usager: &'a Usager,
    pub aidant: &'a Aidant,
    pub organisation: &'a Organisation,
    pub mandate_expires_at: NaiveDateTime,
    /// The `sub` this client sees for the usager.
    pub sub: String,
}

impl<'a> Subject<'a> {
    /// What a token about a live grant speaks of.
    pub fn of(context: &'a GrantContext, subjects: &SubjectKey) -> Subject<'a> {
        Subject {
            sub: subjects.subject_for(&context.client, &context.usager.id),
            grant: &context.grant,
            client: &context.client,
            usager: &context.usager,
            aidant: &context.aidant,
            organisation: &context.organisation,
            mandate_expires_at: context.authorisation.expires_at,
        }
    }
}

/// The secret pairwise subjects are keyed with (OIDC Core §8.1: "the Subject Identifier value
/// MUST NOT be reversible by any party other than the OpenID Provider"). Kept in the store, so
/// every replica and every restart computes the same `sub`.
#[derive(Clone)]
pub struct SubjectKey(std::sync::Arc<[u8]>);

/// The name of the key in the store's `server_secrets`.
pub const SUBJECT_KEY_NAME: &str = "pairwise-subject-hmac-key";

impl SubjectKey {
    pub fn new(key: Vec<u8>) -> SubjectKey {
        SubjectKey(key.into())
    }

    /// The `sub` a client sees for a usager: pairwise per sector unless registered public.
    /// HMAC-SHA256 of the sector and the usager's id: derived, so stable without storing it,
    /// and not computable by anyone who knows a usager's id but not the key.
    pub fn subject_for(&self, client: &Client, usager_id: &str) -> String {
        if client.subject_type == SubjectType::Public {
            return usager_id.to_owned();
        }
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        // The length first, so that no sector and id can be shifted into another pair.
        mac.update(&(client.sector_identifier.len() as u64).to_be_bytes());
        mac.update(client.sector_identifier.as_bytes());
        mac.update(usager_id.as_bytes());
        b64url(&mac.finalize().into_bytes())
    }
}

/// OIDC Core §3.1.3.6: base64url of the left half of SHA-256 of the access token.
pub fn at_hash(access_token: &str) -> String {
    let digest = Sha256::digest(access_token.as_bytes());
    b64url(&digest[..16])
}

fn unix(t: NaiveDateTime) -> i64 {
    t.and_utc().timestamp()
}

/// The helper who acted, as an RFC 8693 actor claim.
pub fn act_claim(aidant: &Aidant, organisation: &Organisation) -> Value {
    json!({
        "sub": aidant.id,
        "given_name": aidant.given_name,
        "family_name": aidant.family_name,
        "email": aidant.email,
        "organisation": {"id": organisation.id, "siret": organisation.siret, "name": organisation.name},
    })
}

pub fn mandate_claim(s: &Subject<'_>) -> Value {
    json!({
        "id": s.grant.mandate_id,
        "demarche": s.grant.demarche,
        "expires_at": unix(s.mandate_expires_at),
    })
}

/// The identity claims each scope releases (OIDC Core §5.4, FranceConnect's claim scopes).
pub fn claims_of_scope(scope: &str) -> &'static [&'static str] {
    match scope {
        "profile" => &["name", "given_name", "family_name", "birthdate", "gender", "preferred_username"],
        "email" => &["email", "email_verified"],
        "phone" => &["phone_number", "phone_number_verified"],
        "address" => &["address"],
        "birth" => &["birthplace", "birthcountry"],
        "identite_pivot" => &["given_name", "family_name", "birthdate", "gender", "birthplace", "birthcountry"],
        "given_name" => &["given_name"],
        "family_name" => &["family_name"],
        "birthdate" => &["birthdate"],
        "gender" => &["gender"],
        "birthplace" => &["birthplace"],
        "birthcountry" => &["birthcountry"],
        "preferred_username" => &["preferred_username"],
        _ => &[],
    }
}

/// One identity claim of the usager, if they have it. Formats are FranceConnect's.
fn usager_claim(usager: &Usager, name: &str) -> Option<Value> {
    let value = match name {
        "name" => json!(format!("{} {}", usager.given_name, usager.family_name)),
        "given_name" => json!(usager.given_name),
        "family_name" => json!(usager.family_name),
        "birthdate" => json!(usager.birthdate),
        "gender" => json!(usager.gender),
        // Empty when born abroad, as FranceConnect expects.
        "birthplace" => json!(usager.birthplace),
        "birthcountry" => json!(usager.birthcountry),
        "preferred_username" => json!(usager.preferred_username.as_deref()?),
        "email" => json!(usager.email),
        // The address came from the upstream identity provider; we did not verify it ourselves.
        "email_verified" => json!(false),
        "phone_number" => json!(usager.phone.as_deref()?),
        "phone_number_verified" => json!(false),
        "address" => {
            let mut address = Map::new();
            for (key, value) in [
                ("street_address", &usager.street_address),
                ("postal_code", &usager.postal_code),
                ("locality", &usager.locality),
                ("country", &usager.country),
            ] {
                if let Some(v) = value {
                    address.insert(key.into(), json!(v));
                }
            }
            if address.is_empty() {
                return None;
            }
            let formatted = ["street_address", "postal_code", "locality", "country"]
                .iter()
                .filter_map(|k| address.get(*k).and_then(|v| v.as_str()).map(str::to_owned))
                .collect::<Vec<_>>()
                .join(" ");
            address.insert("formatted".into(), json!(formatted));
            Value::Object(address)
        }
        _ => return None,
    };
    Some(value)
}

/// Claim names asked through the `claims` parameter for one section (`id_token`, `userinfo`).
fn requested_in(grant: &Grant, section: &str) -> Vec<String> {
    grant.claims.as_ref().map(|claims| claims.names_in(section)).unwrap_or_default()
}

/// Adds the usager's claims named in `names` (those they have, first mention wins), then
/// `act` and `mandate`.
fn add_identity_and_delegation(
    claims: &mut Map<String, Value>,
    s: &Subject<'_>,
    names: impl IntoIterator<Item = String>,
) {
    for name in names {
        if claims.contains_key(&name) {
            continue;
        }
        if let Some(value) = usager_claim(s.usager, &name) {
            claims.insert(name, value);
        }
    }
    claims.insert("act".into(), act_claim(s.aidant, s.organisation));
    claims.insert("mandate".into(), mandate_claim(s));
}

/// FranceConnect v2's `rep_scope`, when the relying party asked for it in this section: the
/// démarche the helper acts for.
fn add_rep_scope(claims: &mut Map<String, Value>, s: &Subject<'_>, section: &str) {
    if requested_in(s.grant, section).iter().any(|n| n == "rep_scope") {
        claims.insert("rep_scope".into(), json!([s.grant.demarche]));
    }
}

/// The usager's claims for userinfo: by scope, plus those asked in `claims.userinfo`.
pub fn userinfo_claims(s: &Subject<'_>) -> Map<String, Value> {
    let mut names: Vec<String> = s.grant.scopes().flat_map(claims_of_scope).map(|c| c.to_string()).collect();
    names.extend(requested_in(s.grant, "userinfo"));
    let mut claims = Map::new();
    claims.insert("sub".into(), json!(s.sub));
    add_identity_and_delegation(&mut claims, s, names);
    add_rep_scope(&mut claims, s, "userinfo");
    claims
}

/// The ID token's claims (OIDC Core §2), with `act` and `mandate`. Identity claims appear
/// only when asked for the ID token through the `claims` parameter.
pub fn id_token_claims(
    s: &Subject<'_>,
    issuer: &str,
    access_token: &str,
    now: NaiveDateTime,
    lifetime_seconds: i64,
) -> Map<String, Value> {
    let mut claims = Map::new();
    claims.insert("iss".into(), json!(issuer));
    claims.insert("sub".into(), json!(s.sub));
    claims.insert("aud".into(), json!(s.client.id));
    claims.insert("iat".into(), json!(unix(now)));
    claims.insert("exp".into(), json!(unix(now) + lifetime_seconds));
    claims.insert("auth_time".into(), json!(unix(s.grant.auth_time)));
    if let Some(nonce) = &s.grant.nonce {
        claims.insert("nonce".into(), json!(nonce));
    }
    claims.insert("acr".into(), json!(s.grant.acr));
    claims.insert("amr".into(), json!(s.grant.amr()));
    claims.insert("at_hash".into(), json!(at_hash(access_token)));
    claims.insert("sid".into(), json!(s.grant.session_sid));
    add_identity_and_delegation(&mut claims, s, requested_in(s.grant, "id_token"));
    add_rep_scope(&mut claims, s, "id_token");
    claims
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairwise_subjects_depend_on_the_key_and_the_sector() {
        use mandate_store::clients::{DemarcheList, UriList};
        let client = |sector: &str, subject_type| Client {
            id: "rp".into(),
            name: "RP".into(),
            secret_hash: None,
            redirect_uris: UriList::default(),
            post_logout_redirect_uris: UriList::default(),
            auth_method: "client_secret_basic".parse().unwrap(),
            jwks: None,
            jwks_uri: None,
            id_token_signed_response_alg: mandate_store::SigningAlg::Rs256,
            userinfo_signed_response_alg: None,
            subject_type,
            sector_identifier: sector.into(),
            demarches: DemarcheList(vec![]),
            backchannel_logout_uri: None,
            created_at: NaiveDateTime::default(),
        };
        let (key, other_key) = (SubjectKey::new(vec![1; 32]), SubjectKey::new(vec![2; 32]));
        let impots = client("impots.gouv.fr", SubjectType::Pairwise);
        let sub = key.subject_for(&impots, "usager-1");
        assert_eq!(sub, key.subject_for(&impots, "usager-1"), "stable");
        assert_ne!(sub, other_key.subject_for(&impots, "usager-1"), "keyed");
        assert_ne!(sub, key.subject_for(&client("caf.fr", SubjectType::Pairwise), "usager-1"), "per sector");
        assert_ne!(sub, key.subject_for(&impots, "usager-2"));
        // No shifting of bytes between the sector and the id gives the same input.
        assert_ne!(
            key.subject_for(&client("ab", SubjectType::Pairwise), "c"),
            key.subject_for(&client("a", SubjectType::Pairwise), "bc")
        );
        assert_eq!(key.subject_for(&client("x", SubjectType::Public), "usager-1"), "usager-1");
    }

    #[test]
    fn at_hash_follows_oidc_core() {
        // Left half of SHA-256, base64url without padding (value computed with Python's hashlib).
        assert_eq!(at_hash("jHkWEdUXMU1BwAsC4vtUsZwnNFnprBbjUZZLxAFP3j8"), "wElU3fEbde0JYJ7myKy_2w");
    }

    #[test]
    fn scopes_release_their_claims() {
        assert!(claims_of_scope("identite_pivot").contains(&"birthplace"));
        assert!(claims_of_scope("profile").contains(&"name"));
        assert!(claims_of_scope("unknown").is_empty());
    }
}
