-- Secrets the server generates for itself and every replica must share, such as the key that
-- binds CSRF tokens to their session. Made once, on first start, never rotated in place.
CREATE TABLE server_secrets (
    name TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
