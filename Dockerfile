# Toolhub in a container: a release build on Debian, run as an unprivileged user.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release -p toolhub --locked

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates nodejs npm python3 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/toolhub --create-home toolhub
COPY --from=build /src/target/release/toolhub /usr/local/bin/toolhub
USER toolhub
ENV TOOLHUB_DATA_DIR=/var/lib/toolhub TOOLHUB_BIND=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["toolhub"]
CMD ["serve"]
