use std::os::unix::fs::PermissionsExt as _;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Value};
use tempfile::TempDir;

use super::*;

fn claims() -> Value {
    json!({"iss": "https://aidants.example.gouv.fr", "sub": "b3f1c2", "aud": "service-impots",
           "act": {"given_name": "Camille", "organisation": {"siret": "21750001600019"}}})
}

/// A folder holding one active RS256 key and one active ES256 key.
fn folder() -> (TempDir, KeyInfo, KeyInfo) {
    let dir = tempfile::tempdir().unwrap();
    let rsa = generate(dir.path(), SigningAlg::Rs256).unwrap();
    let ec = generate(dir.path(), SigningAlg::Es256).unwrap();
    (dir, rsa, ec)
}

fn header(jws: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(jws.split('.').next().unwrap()).unwrap()).unwrap()
}

fn kids(jwks: &Value) -> Vec<&str> {
    jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap()).collect()
}

#[test]
fn a_key_set_is_shared_between_workers() {
    fn shareable<T: Clone + Send + Sync + 'static>() {}
    shareable::<KeySet>();
}

#[test]
fn algorithm_names_are_the_jose_ones() {
    for alg in SigningAlg::ALL {
        assert_eq!(alg.as_str().parse::<SigningAlg>().unwrap(), alg);
        assert_eq!(serde_json::to_value(alg).unwrap(), json!(alg.as_str()));
    }
    assert!(matches!("rs256".parse::<SigningAlg>(), Err(KeyError::UnsupportedAlg(_))));
    assert!("HS256".parse::<SigningAlg>().is_err());
}

#[test]
fn signs_and_verifies_with_each_algorithm() {
    let (dir, rsa, ec) = folder();
    let keys = KeySet::load(dir.path()).unwrap();
    assert_eq!(keys.algorithms(), [SigningAlg::Rs256, SigningAlg::Es256]);
    for (alg, info) in [(SigningAlg::Rs256, &rsa), (SigningAlg::Es256, &ec)] {
        let jws = keys.sign(alg, "JWT", &claims()).unwrap();
        assert_eq!(header(&jws), json!({"alg": alg.as_str(), "kid": info.kid, "typ": "JWT"}));
        assert_eq!(keys.verify(&jws).unwrap(), claims());
    }
    let logout = keys.sign(SigningAlg::Rs256, "logout+jwt", &json!({"events": {}})).unwrap();
    assert_eq!(header(&logout)["typ"], "logout+jwt");
}

#[test]
fn the_jwks_publishes_public_members_only() {
    let (dir, rsa, ec) = folder();
    let jwks = KeySet::load(dir.path()).unwrap().jwks();
    let published = jwks["keys"].as_array().unwrap();
    assert_eq!(published.len(), 2);
    for key in published {
        for private in ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] {
            assert!(key.get(private).is_none(), "{private} published in {key}");
        }
        assert_eq!(key["use"], "sig");
    }
    let rsa_jwk = published.iter().find(|k| k["kid"] == rsa.kid.as_str()).unwrap();
    assert_eq!(rsa_jwk["kty"], "RSA");
    assert_eq!(rsa_jwk["alg"], "RS256");
    assert_eq!(rsa_jwk["e"], "AQAB");
    assert_eq!(URL_SAFE_NO_PAD.decode(rsa_jwk["n"].as_str().unwrap()).unwrap().len(), 256);
    let ec_jwk = published.iter().find(|k| k["kid"] == ec.kid.as_str()).unwrap();
    assert_eq!((&ec_jwk["kty"], &ec_jwk["crv"], &ec_jwk["alg"]), (&json!("EC"), &json!("P-256"), &json!("ES256")));
    assert_eq!(URL_SAFE_NO_PAD.decode(ec_jwk["x"].as_str().unwrap()).unwrap().len(), 32);
}

/// Checked by another JWS implementation, from nothing but our JWKS.
#[test]
fn jsonwebtoken_verifies_our_tokens_with_the_published_jwks() {
    use jsonwebtoken::{decode, jwk::Jwk, Algorithm, DecodingKey, Validation};

    let (dir, _, _) = folder();
    let keys = KeySet::load(dir.path()).unwrap();
    let jwks = keys.jwks();
    for (alg, theirs) in [(SigningAlg::Rs256, Algorithm::RS256), (SigningAlg::Es256, Algorithm::ES256)] {
        let jws = keys.sign(alg, "JWT", &claims()).unwrap();
        let kid = header(&jws)["kid"].clone();
        let jwk = jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid).unwrap();
        let jwk: Jwk = serde_json::from_value(jwk.clone()).unwrap();
        let mut validation = Validation::new(theirs);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        validation.validate_aud = false;
        let decoded = decode::<Value>(&jws, &DecodingKey::from_jwk(&jwk).unwrap(), &validation).unwrap();
        assert_eq!(decoded.claims, claims());
        assert_eq!(decoded.header.kid.as_deref(), kid.as_str());
    }
}

#[test]
fn altered_tokens_are_refused() {
    let (dir, _, _) = folder();
    let keys = KeySet::load(dir.path()).unwrap();
    for alg in SigningAlg::ALL {
        let jws = keys.sign(alg, "JWT", &claims()).unwrap();
        let (signing_input, signature) = jws.rsplit_once('.').unwrap();

        let mut bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
        bytes[10] ^= 1;
        let forged = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(bytes));
        assert!(matches!(keys.verify(&forged), Err(KeyError::BadSignature)), "{alg}");

        let (header, _) = signing_input.split_once('.').unwrap();
        let other = URL_SAFE_NO_PAD.encode(br#"{"sub":"someone else"}"#);
        assert!(matches!(keys.verify(&format!("{header}.{other}.{signature}")), Err(KeyError::BadSignature)));

        for malformed in
            ["", "a.b", "a.b.c.d", &format!("{signing_input}.!!"), &format!("{signing_input}.{signature}.")]
        {
            assert!(matches!(keys.verify(malformed), Err(KeyError::InvalidToken(_))), "{malformed:?}");
        }
    }
}

fn with_header(jws: &str, header: Value) -> String {
    let (_, rest) = jws.split_once('.').unwrap();
    format!("{}.{rest}", URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap()))
}

#[test]
fn the_key_decides_the_algorithm_and_a_kid_is_required() {
    let (dir, rsa, _) = folder();
    let keys = KeySet::load(dir.path()).unwrap();
    let jws = keys.sign(SigningAlg::Rs256, "JWT", &claims()).unwrap();
    for (header, expected) in [
        (json!({"alg": "ES256", "kid": rsa.kid}), "alg does not match the key"),
        (json!({"alg": "none", "kid": rsa.kid}), "alg does not match the key"),
        (json!({"alg": "HS256", "kid": rsa.kid}), "alg does not match the key"),
        (json!({"alg": "RS256"}), "no kid in header"),
        (json!({"alg": "RS256", "kid": rsa.kid, "crit": ["exp"], "exp": 1}), "unsupported critical header"),
    ] {
        match keys.verify(&with_header(&jws, header.clone())) {
            Err(KeyError::InvalidToken(reason)) => assert_eq!(reason, expected, "{header}"),
            other => panic!("{header}: {other:?}"),
        }
    }
}

#[test]
fn a_token_from_another_key_is_refused_as_unknown() {
    let (ours, _, _) = folder();
    let (theirs, _, _) = folder();
    let jws = KeySet::load(theirs.path()).unwrap().sign(SigningAlg::Rs256, "JWT", &claims()).unwrap();
    let kid = header(&jws)["kid"].as_str().unwrap().to_owned();
    match KeySet::load(ours.path()).unwrap().verify(&jws) {
        Err(KeyError::UnknownKid(unknown)) => assert_eq!(unknown, kid),
        other => panic!("{other:?}"),
    }
}

#[test]
fn rotation_signs_with_the_new_key_and_keeps_publishing_the_old_one() {
    let dir = tempfile::tempdir().unwrap();
    let old = generate(dir.path(), SigningAlg::Rs256).unwrap();
    let keys = KeySet::open(dir.path(), Duration::ZERO).unwrap();
    let old_token = keys.sign(SigningAlg::Rs256, "JWT", &claims()).unwrap();

    let new = rotate(dir.path(), SigningAlg::Rs256).unwrap();
    assert_ne!(new.kid, old.kid);
    assert_eq!(new.state, KeyState::Active);
    let states: Vec<_> = list(dir.path()).unwrap().into_iter().map(|k| (k.kid, k.state)).collect();
    assert_eq!(states, [(new.kid.clone(), KeyState::Active), (old.kid.clone(), KeyState::Retiring)]);

    assert_eq!(header(&keys.sign(SigningAlg::Rs256, "JWT", &claims()).unwrap())["kid"], new.kid.as_str());
    assert_eq!(kids(&keys.jwks()), [new.kid.as_str(), old.kid.as_str()]);
    assert_eq!(keys.verify(&old_token).unwrap(), claims());
}

#[test]
fn retiring_a_key_stops_publishing_it() {
    let dir = tempfile::tempdir().unwrap();
    let old = generate(dir.path(), SigningAlg::Rs256).unwrap();
    let keys = KeySet::open(dir.path(), Duration::ZERO).unwrap();
    let old_token = keys.sign(SigningAlg::Rs256, "JWT", &claims()).unwrap();
    let new = rotate(dir.path(), SigningAlg::Rs256).unwrap();

    retire(dir.path(), &old.kid).unwrap();
    assert_eq!(kids(&keys.jwks()), [new.kid.as_str()]);
    assert!(matches!(keys.verify(&old_token), Err(KeyError::UnknownKid(_))));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "the retired key's file is deleted");

    let refused = retire(dir.path(), &new.kid).unwrap_err();
    assert!(matches!(refused, KeyError::LastDefaultKey { .. }));
    assert!(refused.to_string().contains("only active RS256 key"), "{refused}");
    assert!(matches!(retire(dir.path(), "no-such-kid"), Err(KeyError::UnknownKid(_))));
}

#[test]
fn the_only_es256_key_may_be_retired() {
    let (dir, _, ec) = folder();
    let keys = KeySet::open(dir.path(), Duration::ZERO).unwrap();
    assert!(keys.supports(SigningAlg::Es256));
    retire(dir.path(), &ec.kid).unwrap();
    assert!(!keys.supports(SigningAlg::Es256));
    assert!(matches!(keys.sign(SigningAlg::Es256, "JWT", &claims()), Err(KeyError::NoActiveKey(SigningAlg::Es256))));
}

/// Another process (`idp keys rotate`, another replica) rotates the folder a running server uses.
#[test]
fn a_running_key_set_follows_a_rotation_made_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    let old = generate(dir.path(), SigningAlg::Rs256).unwrap();
    let keys = KeySet::load(dir.path()).unwrap();
    let new = rotate(dir.path(), SigningAlg::Rs256).unwrap();
    std::thread::sleep(RECHECK_EVERY + Duration::from_millis(100));
    assert_eq!(header(&keys.sign(SigningAlg::Rs256, "JWT", &claims()).unwrap())["kid"], new.kid.as_str());
    assert_eq!(kids(&keys.jwks()), [new.kid.as_str(), old.kid.as_str()]);
}

/// A token signed by another replica with a key we have not loaded yet verifies at once.
#[test]
fn an_unknown_kid_makes_the_folder_read_again() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), SigningAlg::Rs256).unwrap();
    let ours = KeySet::load(dir.path()).unwrap();
    assert!(!ours.supports(SigningAlg::Es256));
    generate(dir.path(), SigningAlg::Es256).unwrap();
    let theirs = KeySet::load(dir.path()).unwrap();
    let jws = theirs.sign(SigningAlg::Es256, "JWT", &claims()).unwrap();
    assert_eq!(ours.verify(&jws).unwrap(), claims());
}

#[test]
fn an_empty_folder_gets_an_rs256_key_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let keys_dir = dir.path().join("keys");
    assert!(matches!(KeySet::load_or_generate(&keys_dir, false), Err(KeyError::Folder { .. })));
    std::fs::create_dir(&keys_dir).unwrap();
    std::fs::write(keys_dir.join("README.md"), "not a key").unwrap();
    let refused = KeySet::load_or_generate(&keys_dir, false).unwrap_err();
    assert!(matches!(refused, KeyError::NoDefaultKey { .. }));
    assert!(refused.to_string().contains("idp keys generate"), "{refused}");

    let (keys, generated) = KeySet::load_or_generate(&keys_dir, true).unwrap();
    assert!(generated);
    assert_eq!(keys.algorithms(), [SigningAlg::Rs256]);
    let (again, generated) = KeySet::load_or_generate(&keys_dir, true).unwrap();
    assert!(!generated);
    assert_eq!(again.jwks(), keys.jwks());
}

#[test]
fn private_keys_are_readable_by_their_owner_only() {
    let (dir, _, _) = folder();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let mode = entry.unwrap().metadata().unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn the_key_made_last_is_the_newest_even_within_one_second() {
    let dir = tempfile::tempdir().unwrap();
    let first = generate(dir.path(), SigningAlg::Es256).unwrap();
    let second = generate(dir.path(), SigningAlg::Es256).unwrap();
    assert!(second.created_at > first.created_at);
    let keys = KeySet::load_or_generate(dir.path(), true).unwrap().0;
    assert_eq!(header(&keys.sign(SigningAlg::Es256, "JWT", &claims()).unwrap())["kid"], second.kid.as_str());
}

#[test]
fn a_bad_key_file_is_named_in_the_error() {
    let (dir, rsa, ec) = folder();
    let rsa_file = |state: &str, kid: &str| {
        dir.path().join(format!("{}.RS256.{state}.{kid}.pem", rsa.created_at.format("%Y%m%dT%H%M%SZ")))
    };
    let expect_error = |file: &std::path::Path, words: &str| {
        let error = KeySet::load(dir.path()).unwrap_err().to_string();
        assert!(error.contains(&file.display().to_string()) && error.contains(words), "{error}");
    };

    // The thumbprint does not match the name.
    let renamed = rsa_file("active", &ec.kid);
    std::fs::rename(rsa_file("active", &rsa.kid), &renamed).unwrap();
    expect_error(&renamed, "thumbprint");
    std::fs::remove_file(&renamed).unwrap();

    let garbage = rsa_file("active", &rsa.kid);
    std::fs::write(&garbage, "-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n").unwrap();
    expect_error(&garbage, "not a PEM file");
    std::fs::remove_file(&garbage).unwrap();

    let stray = dir.path().join("server.pem");
    std::fs::write(&stray, "").unwrap();
    expect_error(&stray, "name is not");
    std::fs::remove_file(&stray).unwrap();

    // RFC 7518 §3.3.
    use rsa::pkcs8::EncodePrivateKey as _;
    let short = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 1024).unwrap();
    let short = short.to_pkcs8_pem(rsa::pkcs8::LineEnding::LF).unwrap();
    let short_file = rsa_file("retiring", "AAAA");
    std::fs::write(&short_file, short.as_bytes()).unwrap();
    expect_error(&short_file, "shorter than 2048 bits");
}

/// A folder that cannot be read any more leaves the running server with the keys it has.
#[test]
fn a_running_key_set_keeps_its_keys_when_the_folder_turns_bad() {
    let (dir, _, _) = folder();
    let keys = KeySet::open(dir.path(), Duration::ZERO).unwrap();
    let before = keys.jwks();
    std::fs::write(dir.path().join("stray.pem"), "").unwrap();
    assert_eq!(keys.jwks(), before);
    assert!(keys.sign(SigningAlg::Rs256, "JWT", &claims()).is_ok());
}
