//! The allocator's settings for a long-running server.
//!
//! glibc gives an allocation above its mmap threshold (128 KiB to start with) a mapping of its
//! own, returned to the system when freed; but each time such a block is freed it raises the
//! threshold to that block's size (up to 32 MiB). After the first password check, argon2's
//! 19 MiB working memory therefore comes from the heap arena of the thread that ran it, and
//! stays resident there when freed: a few password checks on a few threads kept hundreds of MiB.
//! A fixed threshold keeps every large buffer in its own mapping, given back when freed.

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
