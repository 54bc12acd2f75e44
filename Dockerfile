# syntax=docker/dockerfile:1
# customerhub: one static binary in a distroless image, run as non-root.
#   docker build --build-arg VERSION=$(git describe --tags --always) -t customerhub .
#   docker run -e DATABASE_URL=... -p 8080:8080 customerhub            # serve
#   docker run -e MIGRATE_DATABASE_URL=... customerhub migrate

FROM golang:1.26-bookworm AS build
# Node.js builds the web console (scripts/build-console.sh), which the
# binary embeds.
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm \
	&& rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first, so this layer is cached until go.mod/go.sum change.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN bash scripts/build-console.sh
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" \
	-o /out/customerhub ./cmd/customerhub

# static-debian12 carries CA certificates and tzdata; :nonroot is uid 65532.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/customerhub /customerhub
USER nonroot:nonroot
# Metrics listen on their own port (CUSTOMERHUB_METRICS_ADDR); in a
# container loopback cannot be scraped, so listen on all interfaces and
# publish 9091 only to the monitoring network, never with the API.
ENV CUSTOMERHUB_METRICS_ADDR=:9091
EXPOSE 8080 9091
ENTRYPOINT ["/customerhub"]
CMD ["serve"]
