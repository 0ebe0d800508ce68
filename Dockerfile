# shepherd's container image: `shepherd run` in a cluster (deploy/kubernetes/), or any other
# subcommand in CI. Base images are pinned to a Rust release and a Debian point release;
# bump both together (same Debian suite, so the binary finds the glibc it was linked with).
#
#   docker build -t shepherd:dev .
#   docker run --rm shepherd:dev validate /specs      (with the specs mounted at /specs)

# Build stage: the release binary, built from the locked dependency graph.
FROM rust:1.95.0-trixie AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p shepherd \
    && install -D -m 0755 target/release/shepherd /out/shepherd

# Runtime stage: the binary, CA certificates for AWS and git over HTTPS, git for the
# controller's spec repository, and the OpenSSH client for git over SSH.
FROM debian:13.2-slim

# Package versions are not pinned on purpose: the base image tag pins the Debian release,
# and within it only security and point-release updates arrive, which the image should
# take; exact versions disappear from the archive when they are superseded, which would
# break the build.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates git openssh-client \
    && rm -rf /var/lib/apt/lists/*

# A named non-root user (ssh refuses to run for a UID without a passwd entry). The numeric
# UID is what Kubernetes' runAsNonRoot checks; the Deployment sets the same one.
RUN groupadd --system --gid 65532 shepherd \
    && useradd --system --uid 65532 --gid shepherd --home-dir /var/lib/shepherd \
        --create-home --shell /usr/sbin/nologin shepherd

COPY --from=build /out/shepherd /usr/local/bin/shepherd

USER 65532:65532
WORKDIR /var/lib/shepherd
# The controller's HTTP port: webhooks, API, health and metrics.
EXPOSE 8080
ENTRYPOINT ["shepherd"]
CMD ["--help"]
