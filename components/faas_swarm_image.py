"""The faas-swarm provider image, built on the Swarm manager from its pinned source.

No faas-swarm image can be shown to exist any more: its releases were pushed to Docker Hub's
`openfaas/` namespace (its `.travis.yml`), which OpenFaaS deleted (openfaas/faas#1789), and the
archived repository never published to ghcr.io. So the stack builds it where it runs: the
`faas-swarm-image` step fetches the last release's commit from GitHub, refuses to build unless
`git rev-parse HEAD` is exactly that commit, and builds it with the Dockerfile rendered here
(faasbench's own, two stages on pinned official images). The control services run on the
manager only (`components.openfaas_swarm_config.ON_MANAGER`), so an image that exists only in
the manager's Docker is enough.

The reference is named under `faasbench.invalid`, a host that cannot resolve (RFC 6761 reserves
`.invalid`): Swarm tries to pull a task's image before it falls back to a local one
(moby `daemon/cluster/executor/container/controller.go`, `Prepare`), so a Docker Hub-style name
such as `faasbench/faas-swarm` would run whatever someone later pushed under that name. The tag
is the release plus a hash of the Dockerfile (which holds the commit): a changed build is a new
tag, so a changed compose file, so a redeploy.

Why GOPATH mode: faas-swarm 0.9.1's `vendor/modules.txt` does not match its `go.mod` (it vendors
docker 703a04ebc90d, go.mod asks for bd33bbf0497b), so module mode refuses `-mod=vendor`, while
GOPATH mode builds from `vendor/` offline, as upstream's own Dockerfile did (`GO111MODULE=off`).
Go keeps GOPATH mode (golang/go#60915), but `GO111MODULE=off` must be explicit.
"""

from __future__ import annotations

import hashlib

#: openfaas/faas-swarm, archived; 0.9.1 (2020-11-15, "Migrate to go modules") is its last tag.
SOURCE_URL = "https://github.com/openfaas/faas-swarm.git"
SOURCE_VERSION = "0.9.1"
SOURCE_COMMIT = "856fbbad886072cd94b1feaf0d8d480b054f1524"
GO_PACKAGE = "github.com/openfaas/faas-swarm"
#: docker-library/official-images c229d112 (2026-08-19), library/golang:
#: "Tags: 1.26.7-alpine3.23, 1.26-alpine3.23".
BUILD_IMAGE = "golang:1.26.7-alpine3.23"
#: docker-library/official-images fe29341e (2026-06-22), library/alpine: "Tags: 3.23.5, 3.23".
RUNTIME_IMAGE = "alpine:3.23.5"
#: Images faasbench builds itself live under this registry host, which never resolves.
LOCAL_REGISTRY = "faasbench.invalid"
REPOSITORY = f"{LOCAL_REGISTRY}/faas-swarm"


def dockerfile() -> str:
    """The build: test and compile in GOPATH mode from the checked-out source (the build
    context), then copy the static binary onto a plain Alpine. Only classic-builder syntax:
    the nodes install Docker without the buildx plugin."""
    flags = (
        f"-s -w -X {GO_PACKAGE}/version.Version={SOURCE_VERSION} "
        f"-X {GO_PACKAGE}/version.GitCommit={SOURCE_COMMIT}"
    )
    return "\n".join(
        [
            f"# faas-swarm {SOURCE_VERSION} ({SOURCE_COMMIT}), built by faasbench on the Swarm",
            "# manager from that commit of openfaas/faas-swarm (the build context).",
            f"FROM {BUILD_IMAGE} AS build",
            "# GOPATH mode builds from the repository's vendor/ with no download at all.",
            "ENV GO111MODULE=off CGO_ENABLED=0 GOPROXY=off GOFLAGS=",
            f"WORKDIR /go/src/{GO_PACKAGE}",
            "COPY . .",
            "RUN go vet ./... && go test ./...",
            f'RUN go build -trimpath -ldflags "{flags}" -o /out/faas-swarm .',
            "",
            f"FROM {RUNTIME_IMAGE}",
            f'LABEL org.opencontainers.image.source="{SOURCE_URL}" \\',
            f'      org.opencontainers.image.revision="{SOURCE_COMMIT}" \\',
            f'      org.opencontainers.image.version="{SOURCE_VERSION}" \\',
            '      org.opencontainers.image.licenses="MIT"',
            "COPY --from=build /out/faas-swarm /usr/local/bin/faas-swarm",
            "EXPOSE 8080",
            "# It drives Swarm through /var/run/docker.sock (root:docker 0660): it runs as root.",
            'ENTRYPOINT ["/usr/local/bin/faas-swarm"]',
            "",
        ]
    )


def image_reference() -> str:
    """`faasbench.invalid/faas-swarm:<release>-<12 hex of the Dockerfile's sha256>`."""
    digest = hashlib.sha256(dockerfile().encode()).hexdigest()[:12]
    return f"{REPOSITORY}:{SOURCE_VERSION}-{digest}"


def step_params() -> dict[str, str]:
    """The `faas-swarm-image` step's parameters."""
    return {
        "IMAGE": image_reference(),
        "SOURCE_URL": SOURCE_URL,
        "SOURCE_COMMIT": SOURCE_COMMIT,
        "DOCKERFILE": dockerfile(),
    }
