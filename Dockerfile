# syntax=docker/dockerfile:1.7
# vaultgate: a small, non-root runtime image. Build with `docker build -t vaultgate .`
# Base images are pinned by digest, so a rebuild uses the bytes that were reviewed.

FROM rust:1.95-bookworm@sha256:6258907abe69656e41cd992e0b705cdcfabcbbe3db374f92ed2d47121282d4a1 AS build
WORKDIR /src
COPY . .
# The registry and target caches survive between builds: only changed crates recompile.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p vaultgate \
 && cp target/release/vaultgate /vaultgate

FROM gcr.io/distroless/cc-debian12:nonroot@sha256:9dac0a79194e45a7da0158a9c6da57b217585af0786db3845d1f0ec1a0dd182f
COPY --from=build /vaultgate /usr/local/bin/vaultgate
ENV PORT=8080 LOG_FORMAT=json
EXPOSE 8080
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/vaultgate"]
CMD ["serve"]
