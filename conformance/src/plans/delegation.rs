//! `aidants-delegation-test-plan`: what the certification suite does not know about. The ID
//! token speaks for a usager, names the helper who acted (`act`) and the mandate that allowed it
//! (`mandate`); these modules check those claims, the refusal of revoked or expired
//! authorisations, the démarches offered, and the journal.

use std::time::Duration;

use serde_json::Value;

use crate::checks::{self, Check};
use crate::jose::Jwt;
use crate::module::{Abort, Flow, Module, Step, Test, UserinfoCall};
use crate::report::Severity::{Failure as F, Info as I};
use crate::target::{Admin, ClientConfig, Delegation};

macro_rules! module {
    ($name:literal, $f:path) => {
        Module { name: $name, run: $f, configure: true }
    };
}

pub fn modules() -> Vec<Module> {
    vec![
        module!("aidants-delegation-act-and-mandate-claims", act_and_mandate),
        module!("aidants-delegation-revoked-authorisation-refused", revoked_authorisation),
        module!("aidants-delegation-revoked-mandate-refused", revoked_mandate),
        module!("aidants-delegation-expired-mandate-refused", expired_mandate),
        module!("aidants-delegation-demarche-not-covered-never-offered", not_covered_never_offered),
        module!("aidants-delegation-journal-authorisation-used", journal_authorisation_used),
    ]
}

/// `act` (RFC 8693 §4.1, with the helper's identity) in a set of claims.
pub fn check_act(claims: &Value) -> Check {
    let act = claims.get("act").and_then(Value::as_object).ok_or("no `act` object")?;
    for member in ["sub", "given_name", "family_name", "email"] {
        if act.get(member).and_then(Value::as_str).is_none_or(str::is_empty) {
            return Err(format!("act.{member} is missing or not a string"));
        }
    }
    let org = act.get("organisation").and_then(Value::as_object).ok_or("act.organisation is missing")?;
    for member in ["id", "siret", "name"] {
        if org.get(member).and_then(Value::as_str).is_none_or(str::is_empty) {
            return Err(format!("act.organisation.{member} is missing or not a string"));
        }
    }
    let siret = org["siret"].as_str().unwrap_or_default();
    if siret.len() != 14 || !siret.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("act.organisation.siret `{siret}` is not 14 digits"));
    }
    Ok(format!("act.sub {}", act["sub"]))
}

/// `mandate` = `{id, demarche, expires_at}`, live.
pub fn check_mandate(claims: &Value) -> Check {
    let mandate = claims.get("mandate").and_then(Value::as_object).ok_or("no `mandate` object")?;
    let id = mandate.get("id").and_then(Value::as_str).ok_or("mandate.id is missing")?;
    let demarche = mandate.get("demarche").and_then(Value::as_str).ok_or("mandate.demarche is missing")?;
    let expires =
        mandate.get("expires_at").and_then(Value::as_i64).ok_or("mandate.expires_at is not a number of seconds")?;
    if expires <= checks::now() {
        return Err(format!("mandate {id} expired at {expires}"));
    }
    Ok(format!("mandate {id} for {demarche}"))
}

/// The same `act` and `mandate` in two sets of claims.
pub fn same_delegation(a: &Value, b: &Value, what: &str) -> Check {
    for claim in ["act", "mandate"] {
        if a.get(claim) != b.get(claim) {
            return Err(format!(
                "{claim} differs between the ID token and {what}: {:?} / {:?}",
                a.get(claim),
                b.get(claim)
            ));
        }
    }
    Ok(format!("act and mandate are the same in {what}"))
}

fn admin<'t>(t: &Test<'t>) -> Step<&'t dyn Admin> {
    t.target.admin.as_deref().ok_or(Abort::Skip("needs the provider's administration commands".into()))
}

fn seeded(t: &Test<'_>) -> Step<Delegation> {
    t.target.delegation.clone().ok_or(Abort::Skip("no seeded delegation data".into()))
}

/// A flow that picks the given usager and démarche.
fn flow_for(t: &mut Test<'_>, client: &ClientConfig, usager: &str, demarche: &str, scope: &str) -> Step<Flow> {
    let saved = t.browser.choices.clone();
    t.browser.choices.usager = Some(usager.to_owned());
    t.browser.choices.demarche = Some(demarche.to_owned());
    let mut req = t.request(client);
    req.set("scope", scope);
    let flow = t.code_flow(&req);
    t.browser.choices = saved;
    flow
}

/// `POST /introspect` (RFC 7662) with the client's credentials.
fn introspect(t: &mut Test<'_>, client: &ClientConfig, token: &str) -> Step<Option<Value>> {
    let Ok(url) = t.endpoint("introspection_endpoint") else {
        t.info("CallIntrospectionEndpoint", "no introspection_endpoint in discovery");
        return Ok(None);
    };
    let response = t
        .http
        .post(url)
        .basic_auth(&client.client_id, client.client_secret.as_deref())
        .form(&[("token", token)])
        .send()
        .and_then(|r| r.error_for_status())
        .and_then(|r| r.json::<Value>())
        .map_err(|e| e.to_string());
    Ok(Some(t.require("CallIntrospectionEndpoint", response)?))
}

fn userinfo_status(t: &mut Test<'_>, token: &str) -> Result<u16, String> {
    let url = t.endpoint("userinfo_endpoint")?;
    t.http.get(url).bearer_auth(token).send().map(|r| r.status().as_u16()).map_err(|e| e.to_string())
}

fn act_and_mandate(t: &mut Test<'_>) -> Step {
    let client = t.target.client.clone();
    let req = {
        let mut r = t.request(&client);
        r.set("scope", "openid profile");
        r
    };
    let flow = t.code_flow(&req)?;
    let id = flow.id_token.claims.clone();
    t.check("CheckActClaimInIdToken", F, check_act(&id));
    t.check("CheckMandateClaimInIdToken", F, check_mandate(&id));
    if let (Some(aidant), Some(sub)) =
        (t.browser.aidant().map(|a| a.id.clone()), id.pointer("/act/sub").and_then(Value::as_str))
    {
        if !aidant.is_empty() {
            t.check(
                "CheckActSubIsTheHelperWhoLoggedIn",
                F,
                if aidant == sub {
                    Ok("act.sub is the helper".into())
                } else {
                    Err(format!("act.sub {sub} is not the helper {aidant}"))
                },
            );
        }
    }
    if let Some(wanted) = t.browser.choices.demarche.clone() {
        t.check(
            "CheckMandateDemarcheIsTheChosenOne",
            F,
            match id.pointer("/mandate/demarche").and_then(Value::as_str) {
                Some(d) if d == wanted => Ok(format!("démarche {d}")),
                other => Err(format!("mandate.demarche {other:?}, the helper chose {wanted}")),
            },
        );
    }
    let userinfo = flow.userinfo.clone().unwrap_or(Value::Null);
    t.check("CheckActAndMandateInUserInfo", F, same_delegation(&id, &userinfo, "userinfo"));
    if let Some(intro) = introspect(t, &client, &flow.tokens.access_token)? {
        t.check(
            "CheckIntrospectionActive",
            F,
            if intro.get("active") == Some(&Value::Bool(true)) {
                Ok("active".into())
            } else {
                Err(format!("introspection says {intro}"))
            },
        );
        t.check("CheckActAndMandateInIntrospection", F, same_delegation(&id, &intro, "introspection"));
    }
    Ok(())
}

/// A fresh mandate for the second usager on `demarche`; returns (mandate id, authorisation id).
fn fresh_mandate(t: &mut Test<'_>, demarche: &str, expires_at: Option<&str>) -> Step<(String, String, String)> {
    let admin = admin(t)?;
    let seeded = seeded(t)?;
    let usager = seeded.usagers.last().map(|u| u.0.clone()).ok_or(Abort::Skip("no usager seeded".into()))?;
    let aidant = t
        .browser
        .aidant()
        .map(|a| a.id.clone())
        .or_else(|| t.target.aidants.list.first().map(|a| a.id.clone()))
        .unwrap_or_default();
    let created = admin.add_mandate(&usager, &aidant, &[demarche], expires_at);
    let (mandate, auths) = t.require("CreateMandate", created)?;
    let auth = auths.into_iter().find(|(_, d)| d == demarche).map(|(id, _)| id).unwrap_or_default();
    Ok((usager, mandate, auth))
}

/// Refusals after a revocation (or expiry): at the token endpoint for a code issued before,
/// and at userinfo, introspection and refresh for tokens issued before.
fn refused_after(
    t: &mut Test<'_>,
    demarche: &str,
    end: impl FnOnce(&dyn Admin, &str, &str) -> Result<(), String>,
    expires_at: Option<&str>,
) -> Step {
    let client = t.target.client.clone();
    let (usager, mandate, authorisation) = fresh_mandate(t, demarche, expires_at)?;
    // A code obtained before, and tokens obtained before.
    let saved = t.browser.choices.clone();
    t.browser.choices.usager = Some(usager.clone());
    t.browser.choices.demarche = Some(demarche.to_owned());
    let mut req = t.request(&client);
    req.set("scope", "openid offline_access");
    let pending = (|| {
        let visit = t.send(&req, true)?;
        t.expect_code(&req, &visit)
    })();
    t.browser.choices = saved;
    let code = pending?;
    let flow = flow_for(t, &client, &usager, demarche, "openid offline_access")?;
    t.check(
        "CheckMandateDemarcheIsTheChosenOne",
        F,
        match flow.id_token.claims.pointer("/mandate/demarche").and_then(Value::as_str) {
            Some(d) if d == demarche => Ok(format!("démarche {d}")),
            other => Err(format!("mandate.demarche {other:?}, expected {demarche}")),
        },
    );
    let admin = admin(t)?;
    let aidant = flow.id_token.claims.pointer("/act/sub").and_then(Value::as_str).unwrap_or_default().to_owned();
    let ended = end(admin, &mandate, &authorisation).map(|_| format!("mandate {mandate} ended (helper {aidant})"));
    t.require("EndAuthorisation", ended)?;
    let http = t.redeem(&req, &code)?;
    t.expect_token_error(&http, "invalid_grant");
    let status = userinfo_status(t, &flow.tokens.access_token);
    t.check(
        "CheckUserInfoRefusesEndedAuthorisation",
        F,
        match status {
            Ok(s) if s == 401 || s == 403 => Ok(format!("HTTP {s}")),
            Ok(s) => Err(format!("userinfo answered HTTP {s} for a token whose authorisation ended")),
            Err(e) => Err(e),
        },
    );
    if let Some(intro) = introspect(t, &client, &flow.tokens.access_token)? {
        t.check(
            "CheckIntrospectionInactive",
            F,
            if intro.get("active") == Some(&Value::Bool(false)) {
                Ok("inactive".into())
            } else {
                Err(format!("introspection says {intro}"))
            },
        );
    }
    if let Some(refresh) = flow.tokens.refresh_token.clone() {
        let form = vec![("grant_type".to_owned(), "refresh_token".to_owned()), ("refresh_token".to_owned(), refresh)];
        let http = t.token_call(&client, form)?;
        t.expect_token_error(&http, "invalid_grant");
    } else {
        t.info("CheckForRefreshTokenValue", "no refresh token to try");
    }
    Ok(())
}

fn revoked_authorisation(t: &mut Test<'_>) -> Step {
    let aidant = t.target.aidants.list.first().map(|a| a.id.clone()).unwrap_or_default();
    refused_after(t, "travail", move |admin, _, auth| admin.revoke_authorisation(auth, &aidant), None)
}

fn revoked_mandate(t: &mut Test<'_>) -> Step {
    let aidant = t.target.aidants.list.first().map(|a| a.id.clone()).unwrap_or_default();
    refused_after(t, "transports", move |admin, mandate, _| admin.revoke_mandate(mandate, &aidant), None)
}

fn expired_mandate(t: &mut Test<'_>) -> Step {
    let expiry = checks::now() + 12;
    let rfc3339 = chrono::DateTime::from_timestamp(expiry, 0).map(|d| d.to_rfc3339()).unwrap_or_default();
    refused_after(
        t,
        "justice",
        move |_, _, _| {
            let wait = expiry + 1 - checks::now();
            if wait > 0 {
                std::thread::sleep(Duration::from_secs(wait as u64));
            }
            Ok(())
        },
        Some(&rfc3339),
    )
}

fn not_covered_never_offered(t: &mut Test<'_>) -> Step {
    let seeded = seeded(t)?;
    let client = t.target.client.clone();
    for (usager, covered) in seeded.usagers.clone() {
        let first = covered.first().cloned().unwrap_or_default();
        let flow = flow_for(t, &client, &usager, &first, "openid")?;
        let offered: Vec<String> =
            t.browser.offered.iter().filter(|(f, _)| f == "demarche").flat_map(|(_, v)| v.clone()).collect();
        t.check(
            "CheckOfferedDemarchesAreCoveredByAMandate",
            F,
            match offered.iter().find(|d| !covered.contains(d)) {
                Some(d) => {
                    Err(format!("démarche `{d}` offered for usager {usager}, whose mandates cover only {covered:?}"))
                }
                None if offered.is_empty() => Ok("no démarche page (a single covered démarche)".into()),
                None => Ok(format!("offered {offered:?} ⊆ {covered:?}")),
            },
        );
        t.check(
            "CheckMandateDemarcheIsCovered",
            F,
            match flow.id_token.claims.pointer("/mandate/demarche").and_then(Value::as_str) {
                Some(d) if covered.iter().any(|c| c == d) => Ok(format!("mandate.demarche {d}")),
                other => Err(format!("mandate.demarche {other:?} is not covered ({covered:?})")),
            },
        );
    }
    // A client limited to one démarche never gets another.
    if let (Ok(admin), Some((usager, covered))) = (admin(t), seeded.usagers.iter().find(|u| u.1.len() > 1).cloned()) {
        let limited = admin.add_client("conformance-limited", &client.redirect_uri, &[covered[1].as_str()]);
        let limited = t.require("RegisterClientLimitedToOneDemarche", limited)?;
        let flow = flow_for(t, &limited, &usager, &covered[0], "openid")?;
        let offered: Vec<String> =
            t.browser.offered.iter().filter(|(f, _)| f == "demarche").flat_map(|(_, v)| v.clone()).collect();
        t.check(
            "CheckClientDemarchesRestrictOffer",
            F,
            match offered.iter().find(|d| **d != covered[1]) {
                Some(d) => Err(format!("démarche `{d}` offered to a client limited to {}", covered[1])),
                None => Ok(format!("only {} offered", covered[1])),
            },
        );
        t.check(
            "CheckMandateDemarcheIsCovered",
            F,
            match flow.id_token.claims.pointer("/mandate/demarche").and_then(Value::as_str) {
                Some(d) if d == covered[1] => Ok(format!("mandate.demarche {d}")),
                other => Err(format!("mandate.demarche {other:?} for a client limited to {}", covered[1])),
            },
        );
    }
    Ok(())
}

fn journal_authorisation_used(t: &mut Test<'_>) -> Step {
    let admin = admin(t)?;
    let before = admin.journal(Some("authorisation_used"));
    let before = t.require("ReadJournal", before)?;
    let client = t.target.client.clone();
    let mut flows: Vec<Jwt> = Vec::new();
    for _ in 0..2 {
        let req = t.request(&client);
        flows.push(t.code_flow(&req)?.id_token);
    }
    let after = admin.journal(Some("authorisation_used"));
    let after = t.require("ReadJournal", after)?;
    let max_seq =
        |entries: &[Value]| entries.iter().filter_map(|e| e.get("seq").and_then(Value::as_i64)).max().unwrap_or(0);
    let last_before = max_seq(&before);
    let new: Vec<&Value> =
        after.iter().filter(|e| e.get("seq").and_then(Value::as_i64).unwrap_or(0) > last_before).collect();
    t.check(
        "CheckOneAuthorisationUsedEntryPerExchange",
        F,
        if new.len() == flows.len() {
            Ok(format!("{} new entries for {} exchanges", new.len(), flows.len()))
        } else {
            Err(format!("{} new authorisation_used entries for {} code exchanges", new.len(), flows.len()))
        },
    );
    for (entry, id_token) in new.iter().zip(flows.iter()) {
        let field = |e: &Value, n: &str| e.get(n).and_then(Value::as_str).map(str::to_owned);
        let expected = [
            ("mandate_id", id_token.claims.pointer("/mandate/id").and_then(Value::as_str)),
            ("demarche", id_token.claims.pointer("/mandate/demarche").and_then(Value::as_str)),
            ("aidant_id", id_token.claims.pointer("/act/sub").and_then(Value::as_str)),
            ("client_id", Some(client.client_id.as_str())),
        ];
        let mismatch: Vec<String> = expected
            .iter()
            .filter(|(name, want)| field(entry, name).as_deref() != *want)
            .map(|(name, want)| format!("{name}: {:?} ≠ {want:?}", field(entry, name)))
            .collect();
        t.check(
            "CheckAuthorisationUsedEntryMatchesIdToken",
            F,
            if mismatch.is_empty() { Ok("entry matches the ID token".into()) } else { Err(mismatch.join("; ")) },
        );
        let personal: Vec<&str> = ["given_name", "family_name", "email", "birthdate"]
            .into_iter()
            .filter(|k| entry.get(*k).is_some())
            .collect();
        t.check(
            "CheckJournalEntryHoldsNoPersonalData",
            F,
            if personal.is_empty() {
                Ok("ids only".into())
            } else {
                Err(format!("personal data in the journal: {}", personal.join(", ")))
            },
        );
    }
    t.info("JournalEntriesSeen", format!("{} authorisation_used entries in total", after.len()));
    let _ = UserinfoCall::Get;
    let _ = I;
    Ok(())
}
