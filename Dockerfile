# Aidants IdP in a container. Three stages: the server built with the Rust image (SQLite, libpq
# and OpenSSL compiled from source, as on any machine: no system library is linked but the C
# library), the State design system installed by npm, and a small Debian image that runs the
# server as an unprivileged user. docs/decisions/0021-reverse-proxy-limits-container.md says why.
#
#   docker build -t aidants-idp .
#   docker run -p 8080:8080 -e IDP__ISSUER=https://idp.example.fr \
#       -v idp-data:/var/lib/aidants-idp/data -v idp-keys:/var/lib/aidants-idp/keys aidants-idp
#
# Every setting is an IDP__SECTION__KEY variable (README); the database is the embedded SQLite
# file on the data volume unless IDP__DATABASE__URL names a PostgreSQL server.

# The Rust release CI builds with; the final image's Debian must be the build image's (its C library).
ARG RUST_IMAGE=rust:1.95-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${RUST_IMAGE} AS server
WORKDIR /src
# The manifests first, with empty sources: the dependencies (most of the build time) are kept in
# their own layer, rebuilt only when Cargo.lock changes.
COPY Cargo.toml Cargo.lock ./
COPY idp/Cargo.toml idp/
COPY crates/mandate-store/Cargo.toml crates/mandate-store/
COPY conformance/Cargo.toml conformance/
RUN mkdir -p idp/src idp/benches crates/mandate-store/src conformance/src \
    && echo 'fn main() {}' > idp/src/main.rs && touch idp/src/lib.rs \
    && echo 'fn main() {}' > idp/benches/signing.rs \
    && touch crates/mandate-store/src/lib.rs \
    && echo 'fn main() {}' > conformance/src/main.rs && touch conformance/src/lib.rs \
    && cargo build --release --locked -p idp \
    && rm -rf idp/src idp/benches crates/mandate-store/src conformance/src
COPY crates crates
COPY idp idp
COPY conformance conformance
COPY migrations migrations
# The copied sources are older than the placeholders' build: make cargo see them as changed.
RUN find idp crates conformance -name '*.rs' -exec touch {} + \
    && cargo build --release --locked -p idp \
    && install -m 0755 target/release/idp /usr/local/bin/idp

FROM node:20-bookworm-slim AS design-system
WORKDIR /src
# The design system's install step reads its accepted terms of use from .dsfr.yml.
COPY package.json package-lock.json .dsfr.yml ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM ${RUNTIME_IMAGE}
# CA certificates for TLS to PostgreSQL and the upstream provider; nothing else is needed.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/aidants-idp --shell /usr/sbin/nologin idp \
    && mkdir -p /var/lib/aidants-idp/data /var/lib/aidants-idp/keys \
    && chown -R idp:idp /var/lib/aidants-idp \
    && chmod 0700 /var/lib/aidants-idp/data /var/lib/aidants-idp/keys
COPY --from=server /usr/local/bin/idp /usr/local/bin/idp
COPY --from=design-system /src/node_modules/@gouvfr/dsfr/dist /usr/share/aidants-idp/dsfr
ENV IDP__HTTP__BIND=0.0.0.0:8080 \
    IDP__DATABASE__URL=sqlite:///var/lib/aidants-idp/data/idp.db \
    IDP__KEYS__DIR=/var/lib/aidants-idp/keys \
    IDP__UI__ASSETS_DIR=/usr/share/aidants-idp/dsfr
WORKDIR /var/lib/aidants-idp
# The database and the keys (signing keys, and the sealing keys to back up with the database)
# outlive the container; several replicas share the keys.
VOLUME ["/var/lib/aidants-idp/data", "/var/lib/aidants-idp/keys"]
USER idp:idp
EXPOSE 8080
# Ready: the database answers and the keys are loaded. bash's /dev/tcp: no HTTP client to add.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /readyz HTTP/1.0\\r\\nHost: 127.0.0.1\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
# `idp serve` finishes the requests in flight on SIGTERM (docker stop) before it exits.
ENTRYPOINT ["/usr/local/bin/idp"]
CMD ["serve"]
