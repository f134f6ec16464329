# matlens: a multi-stage build. DuckDB is linked in through cgo, so the
# build stage needs gcc (the golang image has it) and the runtime stage the
# C library the binary was linked against (same Debian release).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=1 go build -trimpath -ldflags="-s -w" -o /out/matlens ./cmd/matlens

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data matlens \
 && mkdir -p /data && chown matlens /data
COPY --from=build /out/matlens /usr/local/bin/matlens
USER matlens
WORKDIR /data
ENTRYPOINT ["matlens"]
CMD ["--help"]
