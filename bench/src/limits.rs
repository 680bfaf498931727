//! The ceilings the flows are compared with, measured in the same run with the server's own
//! code: RS256 and ES256 signing with its held aws-lc-rs keys (`idp::keys`), and argon2id
//! checks with its parameters (`idp::passwords`), on as many threads as the machine has cores,
//! with nothing else running.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use idp::keys::{self, KeySet, SigningAlg};
use serde_json::json;

#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Limits {
    pub threads: usize,
    pub rs256_signatures_per_second: f64,
    pub es256_signatures_per_second: f64,
    pub argon2id_checks_per_second: f64,
}

/// How many times `work` runs per second on `threads` threads at once, for `time`.
fn rate(threads: usize, time: Duration, work: &(dyn Fn() + Sync)) -> f64 {
    let stop = AtomicBool::new(false);
    let done = AtomicU64::new(0);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let mut mine = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    work();
                    mine += 1;
                }
                done.fetch_add(mine, Ordering::Relaxed);
            });
        }
        std::thread::sleep(time);
        stop.store(true, Ordering::Relaxed);
    });
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

pub fn measure(time: Duration) -> anyhow::Result<Limits> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let dir = tempfile::tempdir()?;
    keys::generate(dir.path(), SigningAlg::Rs256)?;
    keys::generate(dir.path(), SigningAlg::Es256)?;
    let keys = KeySet::load(dir.path())?;
    // An ID token as the flows get it: actor, mandate and the usual claims.
    let claims = json!({"iss": "http://127.0.0.1:8080", "aud": "5f0c1e9a-8d3b-4c2a-9e7f-1a2b3c4d5e6f",
        "sub": "b3f1c2d4e5f60718293a4b5c6d7e8f90b3f1c2d4e5f60718293a4b5c6d7e8f90",
        "iat": 1764000000, "exp": 1764000300, "auth_time": 1763999900, "nonce": "n-bench-1",
        "acr": "eidas1", "amr": ["pwd", "otp"], "at_hash": "HK6E_P6Dh8Y93mRNtsDB1Q", "sid": "7c0e2b1a",
        "act": {"sub": "4f2d9a6e-1b2c-4d3e-8f90-a1b2c3d4e5f6", "given_name": "Camille", "family_name": "Essai1",
                "email": "bench-1@aidants.example.fr",
                "organisation": {"id": "0b7e", "siret": "21750001600019", "name": "France Services banc d'essai"}},
        "mandate": {"id": "9a1c", "demarche": "logement", "expires_at": 1795536000}});
    let (keys, claims) = (&keys, &claims);
    let sign = |alg| {
        move || {
            std::hint::black_box(keys.sign(alg, "JWT", claims).expect("signing"));
        }
    };
    let rs256 = rate(threads, time, &sign(SigningAlg::Rs256));
    let es256 = rate(threads, time, &sign(SigningAlg::Es256));
    let stored = idp::passwords::hash("bench-password-0123456789")?;
    let argon2id = rate(threads, time, &|| {
        assert!(idp::passwords::verify("bench-password-0123456789", &stored));
    });
    Ok(Limits {
        threads,
        rs256_signatures_per_second: rs256,
        es256_signatures_per_second: es256,
        argon2id_checks_per_second: argon2id,
    })
}
