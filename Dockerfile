# Refugio container image: the `refugio` binary on Debian slim, running as a non-root user.
#
#   docker build -t refugio .
#   docker run -p 127.0.0.1:8080:8080 -v refugio-data:/data refugio      # SQLite in /data
#
# docker-compose.yml runs it against PostgreSQL. See docs/operations.md.

# --- build ---------------------------------------------------------------------------------
FROM rust:1-bookworm AS builder

# libpq for diesel's PostgreSQL backend; SQLite is compiled in (libsqlite3-sys "bundled").
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq-dev \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY . .

# The caches keep downloaded crates and compiled dependencies between builds (BuildKit).
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin refugio \
 && cp target/release/refugio /usr/local/bin/refugio

# --- run -----------------------------------------------------------------------------------
FROM debian:bookworm-slim

RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq5 ca-certificates \
 && rm -rf /var/lib/apt/lists/*

# A fixed, unprivileged user; /data holds the SQLite database, the generated JWT secret (when
# REFUGIO_JWT_SECRET is not set) and the .eml outbox (when REFUGIO_SMTP_URL is not set).
RUN groupadd --system --gid 10001 refugio \
 && useradd --system --uid 10001 --gid refugio --home-dir /data --shell /usr/sbin/nologin refugio \
 && mkdir -p /data \
 && chown refugio:refugio /data

COPY --from=builder /usr/local/bin/refugio /usr/local/bin/refugio

USER refugio
WORKDIR /data
VOLUME /data
# So that every subcommand (admin create, migrate), not only the CMD below, uses /data.
ENV REFUGIO_DATA_DIR=/data
EXPOSE 8080

# CMD rather than ENTRYPOINT, so `docker compose exec refugio refugio admin create …` and
# `docker compose run --rm refugio refugio migrate` work as written.
CMD ["refugio", "serve", "--bind", "0.0.0.0:8080", "--data-dir", "/data"]
