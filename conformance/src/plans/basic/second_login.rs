//! The Basic modules that log in twice and compare the two ID tokens: `prompt=login`,
//! `prompt=none`, `max_age`, `id_token_hint`.

use std::time::Duration;

use crate::checks;
use crate::jose::Jwt;
use crate::module::{int_claim, random, AuthRequest, Step, Test, UserinfoCall};
use crate::report::Severity::Failure as F;

/// The first login of a two-request module.
fn first_login(t: &mut Test<'_>, edit: impl FnOnce(&mut AuthRequest)) -> Step<Jwt> {
    let client = t.target.client.clone();
    t.ensure_auth_supported(&client)?;
    let mut req = t.basic_request();
    edit(&mut req);
    let flow = t.code_flow(&req)?;
    Ok(flow.id_token)
}

/// The second request, made without submitting any form when `silent`.
fn second_login(t: &mut Test<'_>, silent: bool, edit: impl FnOnce(&mut AuthRequest)) -> Step<(Jwt, bool)> {
    let mut req = t.basic_request();
    edit(&mut req);
    let visit = t.send(&req, !silent)?;
    let asked = visit.asked_to_log_in();
    let code = t.expect_code(&req, &visit)?;
    let http = t.redeem(&req, &code)?;
    let tokens = t.expect_tokens(http)?;
    let id_token = t.check_id_token(&tokens, &req)?;
    t.userinfo(&tokens.access_token, UserinfoCall::Get, &id_token, F)?;
    Ok((id_token, asked))
}

fn same_sub(t: &mut Test<'_>, first: &Jwt, second: &Jwt) {
    t.check(
        "CheckIdTokenSubConsistentForSecondAuthorization",
        F,
        match (first.str_claim("sub"), second.str_claim("sub")) {
            (Some(a), Some(b)) if a == b => Ok("same sub in both ID tokens".into()),
            (a, b) => Err(format!("sub changed from {a:?} to {b:?}")),
        },
    );
}

/// `CheckIdTokenAuthTimeClaimsSameIfPresent`: no new login, so the same auth_time. Absent from
/// both is allowed; in one token and not the other is not.
fn same_auth_time(t: &mut Test<'_>, first: &Jwt, second: &Jwt) {
    t.check(
        "CheckIdTokenAuthTimeClaimsSameIfPresent",
        F,
        match (int_claim(first, "auth_time"), int_claim(second, "auth_time")) {
            (Some(a), Some(b)) if a == b => Ok("same auth_time".into()),
            (Some(a), Some(b)) => Err(format!("auth_time changed from {a} to {b} without a new login")),
            (None, None) => Ok("no auth_time".into()),
            (a, b) => Err(format!("auth_time must be in both ID tokens or in neither: {a:?}, {b:?}")),
        },
    );
}

/// `CheckIdTokenAuthTimeClaimPresentDueToMaxAge` (OIDC Core §3.1.2.1): max_age was sent.
fn auth_time_present_due_to_max_age(t: &mut Test<'_>, id_token: &Jwt) {
    t.check(
        "CheckIdTokenAuthTimeClaimPresentDueToMaxAge",
        F,
        int_claim(id_token, "auth_time")
            .map(|_| "auth_time present".into())
            .ok_or_else(|| "max_age was sent: auth_time is required (OIDC Core §3.1.2.1)".into()),
    );
}

pub(super) fn prompt_login(t: &mut Test<'_>) -> Step {
    let first = first_login(t, |_| {})?;
    std::thread::sleep(Duration::from_secs(1));
    let (second, asked) = second_login(t, false, |r| {
        r.set("prompt", "login");
    })?;
    t.check(
        "ExpectReauthenticationForPromptLogin",
        F,
        if asked {
            Ok("the helper was asked to log in again".into())
        } else {
            Err("prompt=login did not make the provider authenticate the user again".into())
        },
    );
    t.check(
        "CheckSecondIdTokenAuthTimeIsLaterIfPresent",
        F,
        match (int_claim(&first, "auth_time"), int_claim(&second, "auth_time")) {
            (Some(a), Some(b)) if b > a => Ok("auth_time moved forward".into()),
            (Some(a), Some(b)) => Err(format!("second auth_time {b} is not later than the first {a}")),
            _ => Ok("auth_time absent".into()),
        },
    );
    same_sub(t, &first, &second);
    Ok(())
}

pub(super) fn prompt_none_not_logged_in(t: &mut Test<'_>) -> Step {
    let mut fresh = t.browser.fresh();
    std::mem::swap(t.browser, &mut fresh);
    let outcome = (|| {
        let mut req = t.basic_request();
        req.set("prompt", "none").set("state", random(128));
        let visit = t.send(&req, false)?;
        let error = t.expect_error(&req, &visit)?;
        t.check(
            "CheckErrorFromAuthorizationEndpointIsOneThatRequiredAUserInterface",
            F,
            checks::error_is_one_of(
                Some(&error),
                &["login_required", "interaction_required", "account_selection_required", "consent_required"],
            ),
        );
        Ok(())
    })();
    std::mem::swap(t.browser, &mut fresh);
    outcome
}

pub(super) fn prompt_none_logged_in(t: &mut Test<'_>) -> Step {
    let first = first_login(t, |_| {})?;
    let (second, _) = second_login(t, true, |r| {
        r.set("prompt", "none");
    })?;
    same_auth_time(t, &first, &second);
    same_sub(t, &first, &second);
    Ok(())
}

pub(super) fn max_age_1(t: &mut Test<'_>) -> Step {
    let first = first_login(t, |_| {})?;
    std::thread::sleep(Duration::from_secs(2));
    let (second, asked) = second_login(t, false, |r| {
        r.set("max_age", "1");
    })?;
    t.check(
        "ExpectReauthenticationForMaxAge",
        F,
        if asked {
            Ok("the helper was asked to log in again".into())
        } else {
            Err("max_age=1 after 2 s did not make the provider authenticate the user again".into())
        },
    );
    auth_time_present_due_to_max_age(t, &second);
    let auth_time = int_claim(&second, "auth_time");
    if let Some(b) = auth_time {
        t.check(
            "CheckSecondIdTokenAuthTimeIsLaterIfPresent",
            F,
            match int_claim(&first, "auth_time") {
                Some(a) if b <= a => Err(format!("auth_time {b} is not later than the first login's {a}")),
                _ => Ok("auth_time moved forward".into()),
            },
        );
        t.check(
            "CheckIdTokenAuthTimeIsRecentIfPresent",
            F,
            if b >= checks::now() - 60 {
                Ok("auth_time is recent".into())
            } else {
                Err(format!("auth_time {b} is not from this login"))
            },
        );
    }
    same_sub(t, &first, &second);
    Ok(())
}

pub(super) fn max_age_10000(t: &mut Test<'_>) -> Step {
    let first = first_login(t, |r| {
        r.set("max_age", "15000");
    })?;
    auth_time_present_due_to_max_age(t, &first);
    let (second, asked) = second_login(t, false, |r| {
        r.set("max_age", "10000");
    })?;
    t.check(
        "ExpectNoReauthenticationForMaxAge",
        F,
        if asked {
            Err("max_age=10000 right after a login made the provider ask for credentials again".into())
        } else {
            Ok("no new login".into())
        },
    );
    // Both requests carried max_age, so both ID tokens must carry auth_time, and the same one.
    auth_time_present_due_to_max_age(t, &second);
    same_auth_time(t, &first, &second);
    same_sub(t, &first, &second);
    Ok(())
}

pub(super) fn id_token_hint(t: &mut Test<'_>) -> Step {
    let first = first_login(t, |_| {})?;
    let (second, _) = second_login(t, true, |r| {
        r.set("prompt", "none").set("id_token_hint", first.raw.clone());
    })?;
    same_auth_time(t, &first, &second);
    same_sub(t, &first, &second);
    Ok(())
}
