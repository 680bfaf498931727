//! Logging set-up: JSON lines (or pretty for a terminal), filtered by `log.filter` or RUST_LOG.

use tracing_subscriber::EnvFilter;

use crate::configuration::LogSettings;

pub fn init(settings: &LogSettings) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&settings.filter));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    // A second init (tests start several apps in one process) is harmless: ignore it.
    let _ = if settings.format == "pretty" {
        builder.try_init()
    } else {
        builder.json().flatten_event(true).with_current_span(true).try_init()
    };
}
