//! What tokens and userinfo say: the usager's identity per granted scope, the helper who
//! acted (`act`, RFC 8693) and the mandate scope that allowed it.

use chrono::NaiveDateTime;
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
}

impl<'a> Subject<'a> {
    /// What a token about a live grant speaks of.
    pub fn of(context: &'a GrantContext) -> Subject<'a> {
        Subject {
            grant: &context.grant,
            client: &context.client,
            usager: &context.usager,
            aidant: &context.aidant,
            organisation: &context.organisation,
            mandate_expires_at: context.authorisation.expires_at,
        }
    }
}

/// The `sub` a client sees for a usager: pairwise per sector unless registered public
/// (OIDC Core §8.1). Derived, so it is stable without storing it.
pub fn subject_for(client: &Client, usager_id: &str, issuer: &str) -> String {
    if client.subject_type == SubjectType::Public {
        return usager_id.to_owned();
    }
    let digest = Sha256::digest(format!("{}|{}|{}", client.sector_identifier, usager_id, issuer).as_bytes());
    b64url(&digest)
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
pub fn userinfo_claims(s: &Subject<'_>, issuer: &str) -> Map<String, Value> {
    let mut names: Vec<String> = s.grant.scopes().flat_map(claims_of_scope).map(|c| c.to_string()).collect();
    names.extend(requested_in(s.grant, "userinfo"));
    let mut claims = Map::new();
    claims.insert("sub".into(), json!(subject_for(s.client, &s.usager.id, issuer)));
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
    claims.insert("sub".into(), json!(subject_for(s.client, &s.usager.id, issuer)));
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
