//! The allocator's settings for a long-running server.
//!
//! glibc gives an allocation above its mmap threshold (128 KiB to start with) a mapping of its
//! own, returned to the system when freed; but each time such a block is freed it raises the
//! threshold to that block's size (up to 32 MiB). After the first password check, argon2's
//! 19 MiB working memory therefore comes from the heap arena of the thread that ran it, and
//! stays resident there when freed: a few password checks on a few threads kept hundreds of MiB.
//! A fixed threshold keeps every large buffer in its own mapping, given back when freed.
//!
//! Small blocks freed after a busy moment stay in the arenas of the threads that freed them:
//! a trimmer gives their pages back once the server is idle.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Allocations from this size up get their own mapping, returned to the system when freed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const OWN_MAPPING_FROM_BYTES: libc::c_int = 1 << 20;

/// Fixes glibc's mmap threshold (see the module's comment). Call it first thing, before the
/// server's threads start.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn return_large_buffers_to_the_system() {
    // SAFETY: mallopt only sets a parameter of the allocator, for allocations made after it.
    let done = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, OWN_MAPPING_FROM_BYTES) };
    if done != 1 {
        tracing::warn!(
            "the allocator's mmap threshold could not be set: memory freed by password checks may stay resident"
        );
    }
}

/// Other allocators return large blocks by themselves.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn return_large_buffers_to_the_system() {}

/// Requests begun since the server started: what tells the trimmer the server is busy.
static REQUESTS_BEGUN: AtomicU64 = AtomicU64::new(0);

/// How often the trimmer looks whether requests still arrive.
const LOOK_EVERY: Duration = Duration::from_secs(2);

/// Once requests stop, the trimmer gives memory back at this many looks in a row: memory is
/// still freed after the last request (actix closes idle keep-alive connections after 5 s, and
/// their buffers go then), and a trim with nothing to give back costs about a millisecond.
const TRIMS_ONCE_IDLE: u32 = 5;

/// Counts a request (one relaxed atomic add), for [`give_back_freed_memory_when_idle`].
pub fn note_request() {
    REQUESTS_BEGUN.fetch_add(1, Ordering::Relaxed);
}

/// After a busy moment glibc keeps the small blocks freed by each thread inside that thread's
/// arena (up to 8 per core): pages with nothing live on them stay resident. After the SSO flow
/// at 32 browsers the server kept 59 MiB (SQLite) where it started with 32. `malloc_trim(0)`
/// returns the free pages of every arena to the system; since it takes each arena's lock in
/// turn, it runs only in quiet moments, never while requests arrive (decision 0028).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn give_back_freed_memory_when_idle() {
    let trimmer = std::thread::Builder::new().name("memory-trim".into()).spawn(|| {
        let mut seen = REQUESTS_BEGUN.load(Ordering::Relaxed);
        // Nothing to give back before the first request.
        let mut idle_looks = TRIMS_ONCE_IDLE;
        loop {
            std::thread::sleep(LOOK_EVERY);
            let now = REQUESTS_BEGUN.load(Ordering::Relaxed);
            if now != seen {
                seen = now;
                idle_looks = 0;
                continue;
            }
            if idle_looks < TRIMS_ONCE_IDLE {
                // SAFETY: malloc_trim only releases free memory; it is thread-safe.
                unsafe { libc::malloc_trim(0) };
                idle_looks += 1;
            }
        }
    });
    if let Err(e) = trimmer {
        tracing::warn!(error = %e, "no memory trimmer: memory freed after busy moments may stay resident");
    }
}

/// Other allocators return free pages by themselves.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn give_back_freed_memory_when_idle() {}
