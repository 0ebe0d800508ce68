# Build stage: the release binary.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p shepherd

# Runtime stage: a small image with the binary, CA certificates for AWS, and git for the
# controller's spec repository; runs as a non-root user.
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates git \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/shepherd /usr/local/bin/shepherd
USER 65532:65532
ENTRYPOINT ["shepherd"]
CMD ["--help"]
