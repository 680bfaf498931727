//! A value kept in this process's memory for a while, for figures that may be slightly stale
//! (the public statistics). Each replica keeps its own copy: two replicas may show figures a
//! few minutes apart, never wrong ones, and nothing a flow depends on lives here.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct Cached<T> {
    lifetime: Duration,
    slot: Mutex<Option<(Instant, Arc<T>)>>,
}

impl<T> Cached<T> {
    pub fn new(lifetime: Duration) -> Cached<T> {
        Cached { lifetime, slot: Mutex::new(None) }
    }

    /// The value kept, if it is younger than the lifetime.
    pub fn fresh(&self) -> Option<Arc<T>> {
        let slot = self.slot.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        slot.as_ref().filter(|(at, _)| at.elapsed() < self.lifetime).map(|(_, value)| Arc::clone(value))
    }

    /// Keeps `value` from now on. Two requests finding the value stale together both compute
    /// it and the last one is kept: harmless for figures, and no lock is held while computing.
    pub fn keep(&self, value: T) -> Arc<T> {
        let value = Arc::new(value);
        let mut slot = self.slot.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        *slot = Some((Instant::now(), Arc::clone(&value)));
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_kept_for_its_lifetime_only() {
        let cache = Cached::new(Duration::from_secs(600));
        assert!(cache.fresh().is_none());
        cache.keep(7);
        assert_eq!(cache.fresh().as_deref(), Some(&7));

        let short = Cached::new(Duration::ZERO);
        short.keep(7);
        assert!(short.fresh().is_none(), "past its lifetime the value is computed again");
    }
}
