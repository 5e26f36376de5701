# Storekeep in a container (docs/install.md, "Docker"):
#
#   docker build --build-arg VERSION=1.4.0 --build-arg COMMIT=$(git rev-parse HEAD) \
#     --build-arg DATE=$(git show -s --format=%cI HEAD) -t storekeep:1.4.0 .
#
# The build stage compiles with the release build's flags
# (internal/packaging; a test compares them with the go build line below).
# The final image holds the binary, CA certificates and a user: no shell,
# no package manager, nothing to patch but Storekeep itself.

ARG GO_VERSION=1.26.10
FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
COPY sdk/go/go.mod sdk/go/
RUN go mod download
COPY . .
ARG VERSION=0.0.0-dev
ARG COMMIT=
ARG DATE=
ARG TARGETARCH=amd64
RUN CGO_ENABLED=0 GOOS=linux GOARCH=${TARGETARCH} GOAMD64=v1 GOARM64=v8.0 GOFLAGS=-mod=readonly \
    go build -trimpath -buildvcs=true \
    -ldflags "-s -w -X github.com/storekeep/storekeep/internal/buildinfo.version=${VERSION} -X github.com/storekeep/storekeep/internal/buildinfo.commit=${COMMIT} -X github.com/storekeep/storekeep/internal/buildinfo.date=${DATE}" \
    -o /out/usr/bin/storekeep ./cmd/storekeep
# The image's only user, its data directory and a /tmp.
RUN mkdir -p /out/etc /out/var/lib/storekeep /out/tmp \
    && echo 'storekeep:x:10001:10001:Storekeep:/var/lib/storekeep:/nonexistent' > /out/etc/passwd \
    && echo 'storekeep:x:10001:' > /out/etc/group \
    && chown 10001:10001 /out/var/lib/storekeep && chmod 0750 /out/var/lib/storekeep \
    && chmod 1777 /out/tmp \
    && cp /etc/ssl/certs/ca-certificates.crt /out/etc/ca-certificates.crt

FROM scratch
COPY --from=build /out/ /
ENV SSL_CERT_FILE=/etc/ca-certificates.crt \
    STOREKEEP_ADDR=:8080 \
    STOREKEEP_DATA_DIR=/var/lib/storekeep
USER 10001:10001
WORKDIR /var/lib/storekeep
VOLUME /var/lib/storekeep
EXPOSE 8080
# storekeep healthcheck asks the configured address's /healthz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 CMD ["/usr/bin/storekeep", "healthcheck"]
ENTRYPOINT ["/usr/bin/storekeep"]
CMD ["serve"]
