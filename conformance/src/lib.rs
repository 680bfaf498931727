//! The OpenID certification test plans, run over HTTP against a running server (its own issue).
