//! Claims as the ID token and userinfo both carry them (OIDC Core §5.1, §5.4).

use serde_json::Value;

use super::{ok, Check};

/// The JSON type of each standard claim (OIDC Core §5.1).
fn standard_claim_type_ok(name: &str, value: &Value) -> Option<bool> {
    let string = value.is_string();
    Some(match name {
        "name" | "given_name" | "family_name" | "middle_name" | "nickname" | "preferred_username" | "profile"
        | "picture" | "website" | "email" | "gender" | "birthdate" | "zoneinfo" | "locale" | "phone_number" => string,
        "email_verified" | "phone_number_verified" => value.is_boolean(),
        "updated_at" => value.is_number(),
        "address" => value.as_object().is_some_and(|a| {
            ["formatted", "street_address", "locality", "region", "postal_code", "country"]
                .iter()
                .all(|k| a.get(*k).is_none_or(Value::is_string))
        }),
        "sub" => string,
        _ => return None,
    })
}

/// `ValidateIdTokenStandardClaims` / `ValidateUserInfoStandardClaims`.
pub fn validate_standard_claims(claims: &Value) -> Check {
    let object = claims.as_object().ok_or("the claims are not a JSON object")?;
    for (name, value) in object {
        if standard_claim_type_ok(name, value) == Some(false) {
            return Err(format!("standard claim `{name}` has the wrong JSON type: {value}"));
        }
    }
    ok("standard claims have their types")
}

/// `EnsureIdTokenUpdatedAtValid` / user info variant.
pub fn updated_at_valid(claims: &Value) -> Check {
    match claims.get("updated_at") {
        None => ok("no updated_at"),
        Some(v) if v.is_number() => ok("updated_at is a number"),
        Some(v) => Err(format!("updated_at {v} is not a number")),
    }
}

/// OIDC Core §5.4: the claims each scope asks for.
pub fn scope_claims(scope: &str) -> &'static [&'static str] {
    match scope {
        "profile" => &[
            "name",
            "family_name",
            "given_name",
            "middle_name",
            "nickname",
            "preferred_username",
            "profile",
            "picture",
            "website",
            "gender",
            "birthdate",
            "zoneinfo",
            "locale",
            "updated_at",
        ],
        "email" => &["email", "email_verified"],
        "address" => &["address"],
        "phone" => &["phone_number", "phone_number_verified"],
        _ => &[],
    }
}

/// `VerifyScopesReturnedInUserInfoClaims`: every requested scope yields at least one claim.
pub fn scopes_returned(claims: &Value, scopes: &[&str]) -> Check {
    let missing: Vec<&str> = scopes
        .iter()
        .copied()
        .filter(|s| !scope_claims(s).is_empty())
        .filter(|s| !scope_claims(s).iter().any(|c| claims.get(*c).is_some()))
        .collect();
    if missing.is_empty() {
        ok("every requested scope returned claims")
    } else {
        Err(format!("no claim returned for scope(s): {}", missing.join(", ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scopes_need_one_of_their_claims() {
        assert!(scopes_returned(&json!({"sub": "a", "email": "x@y"}), &["openid", "email"]).is_ok());
        assert!(scopes_returned(&json!({"sub": "a"}), &["openid", "phone"]).is_err());
    }
}
