# syntax=docker/dockerfile:1
# The TinyKV daemon as a container: built with cargo, run from a distroless image (glibc, no
# shell, no package manager) as the unprivileged `nonroot` user.
#
#   docker build -t tinykv .
#   docker run -d --name tinykv -p 6379:6379 -e TINYKV_PASSWORD=change-me -v tinykv-data:/data tinykv
#   redis-cli -a change-me PING
#
# The password comes from $TINYKV_PASSWORD, or from a secret file with
# `--requirepass-file /run/secrets/<name>` added to the command (compose.yaml does that). The
# daemon listens on every interface here, so it refuses to start without one.
# __test__/release_docker.spec.mjs runs this file's ENTRYPOINT + CMD on the host.

ARG RUST_VERSION=1.88

FROM rust:${RUST_VERSION}-bookworm AS build
WORKDIR /src
# Cargo.toml names the bench targets, so cargo wants their files to read the manifest.
COPY Cargo.toml Cargo.lock build.rs ./
COPY benches ./benches
COPY src ./src
# The registry and target dir live in BuildKit caches: a source change rebuilds the crate only.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin tinykv \
    && install -D -m 0755 target/release/tinykv /out/tinykv \
    && install -d -m 0750 /out/data

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/tinykv /usr/local/bin/tinykv
# The HEALTHCHECK's HTTP client: busybox's wget, statically linked (distroless has none).
COPY --from=busybox:1.37-musl /bin/wget /usr/local/bin/wget
# The snapshot's directory, owned by the user the daemon runs as (65532 is distroless's nonroot).
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
VOLUME ["/data"]
EXPOSE 6379
# /healthz answers on the container's own loopback: the probe runs inside the container, and
# nothing outside it can read the metrics unless the command is changed to publish them.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["/usr/local/bin/wget", "-q", "-O", "/dev/null", "http://127.0.0.1:9121/healthz"]
ENTRYPOINT ["/usr/local/bin/tinykv"]
# RESP on every interface (with a password), the Unix socket in /tmp for `docker exec`, the
# snapshot in the volume: loaded at start, saved every 60 s when anything changed and on
# `docker stop` (SIGTERM is a graceful shutdown), logs as JSON lines on stderr.
CMD ["serve", "--bind", "0.0.0.0", "--port", "6379", "--socket", "/tmp/tinykv.sock", \
     "--snapshot", "/data/dump.snap", "--save-interval", "60", "--save-on-shutdown", \
     "--metrics-addr", "127.0.0.1:9121", "--log-format", "json"]
