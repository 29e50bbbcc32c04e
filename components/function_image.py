"""The suite's function image, built on the bastion from this checkout and pushed to a registry.

OpenFaaS runs every function from one image (`functions/Dockerfile`; `FUNCTION` picks the
function). Each other language the stack asks for (`functionLanguages`) gets an image of its
own the same way: `functions/<language>/Dockerfile`, repository `faasbench-functions-<language>`,
tagged by its own sources, pushed by its own step beside Python's.

Building it by hand was the one manual step between `pulumi up` and a benchmark, so the stack
builds it: Docker on the bastion (pinned, the same step the cluster nodes use), the
sources sent on the step's stdin as a reproducible tarball, the tag derived from their content.
A changed `functions/` is a changed tarball, so a changed tag and stdin: the step re-runs and
builds; unchanged sources leave the step alone, and a re-run of the same tag pushes nothing.

Two registries:

- `public`: the user's namespace on a public registry (Docker Hub by default), logged in with a
  token passed on stdin (never on a command line) and logged out again. OpenFaaS CE pulls
  anonymously, so the repository must be public.
- `private`: distribution's registry on the bastion, bound to its private address, plain
  HTTP; the cluster nodes trust it as an insecure registry (`components.registry_config`).
  Pulls need no credentials, as CE requires.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import tarfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

import pulumi
from pulumi_command import remote

from components.registry_config import REGISTRY_IMAGE, REGISTRY_PORT, insecure_registries
from components.remote_step import remote_step
from functions._registry import Language

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS = ROOT / "functions"
REPOSITORY = "faasbench-functions"
#: The namespace of the private registry when registryNamespace is not set.
PRIVATE_NAMESPACE = "faasbench"
READY_TIMEOUT_S = 120
#: The languages with an image of their own (`functions/<language>/Dockerfile`).
ImageLanguage = Literal["node", "go", "java"]
IMAGE_LANGUAGES: tuple[ImageLanguage, ...] = get_args(ImageLanguage)


@dataclass(frozen=True)
class Sources:
    """The build context: `functions/` as the Dockerfile uses it, packed reproducibly."""

    tar_gz: bytes
    #: sha256 of the uncompressed tar: the content, whatever gzip does on this machine.
    sha256: str

    @property
    def base64(self) -> str:
        return base64.b64encode(self.tar_gz).decode()


def source_files(root: Path = ROOT) -> list[Path]:
    """What enters the image: the Dockerfile, its ignore file and `functions/*.py` (what
    `functions/Dockerfile.dockerignore` lets through)."""
    functions = root / "functions"
    return [
        functions / "Dockerfile",
        functions / "Dockerfile.dockerignore",
        *sorted(functions.glob("*.py")),
    ]


def language_files(language: ImageLanguage, root: Path = ROOT) -> list[Path]:
    """What enters a language's image: its Dockerfile, its ignore file and what that lets
    through: every file under `functions/<language>/` (Node, Go) or its `*.java` (Java), never
    the Dockerfiles or a `node_modules`."""
    directory = root / "functions" / language
    dockerfile = directory / "Dockerfile"
    if not dockerfile.is_file():
        raise ValueError(f"functionLanguages has {language}, and {dockerfile} does not exist")
    if language == "java":
        sources = sorted(directory.glob("*.java"))
    else:
        sources = sorted(
            path
            for path in directory.rglob("*")
            if path.is_file()
            and not path.name.startswith("Dockerfile")
            and "node_modules" not in path.relative_to(directory).parts
        )
    if not sources:
        raise ValueError(f"functionLanguages has {language}, and {directory} holds no sources")
    return [dockerfile, directory / "Dockerfile.dockerignore", *sources]


def _archive_name(path: Path, root: Path, language: Language) -> str:
    """A file's path in the build context. A language's Dockerfile and ignore file travel as
    `functions/Dockerfile[.dockerignore]`, the path the build step builds from; every COPY of
    theirs names `functions/<language>/...`, the same with either path."""
    name = path.relative_to(root).as_posix()
    if (
        language != "python"
        and path.parent == root / "functions" / language
        and path.name in ("Dockerfile", "Dockerfile.dockerignore")
    ):
        return f"functions/{path.name}"
    return name


def pack_sources(root: Path = ROOT, language: Language = "python") -> Sources:
    """A tar of the build context of `language`'s image with fixed owners, modes, times and
    order, so the same sources give the same bytes (and tag) on any machine."""
    files = source_files(root) if language == "python" else language_files(language, root)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for path in files:
            data = path.read_bytes()
            info = tarfile.TarInfo(_archive_name(path, root, language))
            info.size = len(data)
            info.mode = 0o644
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            archive.addfile(info, io.BytesIO(data))
    content = raw.getvalue()
    packed = io.BytesIO()
    with gzip.GzipFile(fileobj=packed, mode="wb", mtime=0) as stream:
        stream.write(content)
    return Sources(tar_gz=packed.getvalue(), sha256=hashlib.sha256(content).hexdigest())


def suite_version(root: Path = ROOT) -> str:
    """faasbench's own version (pyproject.toml), the readable half of the tag."""
    return tomllib.loads((root / "pyproject.toml").read_text())["project"]["version"]


def image_tag(sources: Sources, version: str) -> str:
    return f"{version}-{sources.sha256[:12]}"


def repository(language: Language) -> str:
    """The repository of a language's image: Python's is the suite's `faasbench-functions`."""
    return REPOSITORY if language == "python" else f"{REPOSITORY}-{language}"


RegistryMode = Literal["public", "private"]


@dataclass(frozen=True, kw_only=True)
class FunctionImageArgs:
    """`mode` public: `server`, `namespace`, `username`, `token` (secret) are the user's.
    `mode` private: the registry runs on the bastion at `bastion_private_ip`."""

    mode: RegistryMode
    bastion: remote.ConnectionArgs
    bastion_instance_id: pulumi.Input[str]
    bastion_private_ip: pulumi.Input[str]
    mtu: pulumi.Input[int]
    docker_version: str
    containerd_version: str
    server: str = "docker.io"
    namespace: str | None = None
    username: str | None = None
    token: pulumi.Input[str] | None = None
    #: The build context; default: this checkout's `functions/`.
    sources: Sources | None = None
    #: The other languages to build an image of (`functionLanguages` less python), each from
    #: its `functions/<language>/` of `root` (default: this checkout).
    languages: tuple[ImageLanguage, ...] = ()
    root: Path | None = None


class FunctionImage(pulumi.ComponentResource):
    """`image` (the pushed reference) and `url` (the registry), known once the push is done."""

    def __init__(
        self, name: str, args: FunctionImageArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("faasbench:functions:FunctionImage", name, None, opts)
        root = args.root or ROOT
        sources = args.sources or pack_sources(root)
        private = args.mode == "private"
        if not private and (args.namespace is None or args.username is None or args.token is None):
            raise ValueError("a public registry needs a namespace, a username and a token")
        address = pulumi.Output.from_input(args.bastion_private_ip).apply(
            lambda ip: f"{ip}:{REGISTRY_PORT}"
        )
        server: pulumi.Output[str] = address if private else pulumi.Output.from_input(args.server)
        namespace = args.namespace or PRIVATE_NAMESPACE
        triggers = [args.bastion_instance_id]

        docker = remote_step(
            f"{name}-docker",
            connection=args.bastion,
            step="docker-install",
            params={
                "DOCKER_VERSION": args.docker_version,
                "CONTAINERD_VERSION": args.containerd_version,
                "MTU": args.mtu,
                # The bastion pushes to its own plain-HTTP registry by its private address.
                "INSECURE_REGISTRIES": insecure_registries(address if private else None),
            },
            triggers=triggers,
            parent=self,
        )
        before_build: list[pulumi.Resource] = [docker]
        if private:
            before_build.append(
                remote_step(
                    f"{name}-registry",
                    connection=args.bastion,
                    step="registry-server",
                    params={
                        "REGISTRY_IMAGE": REGISTRY_IMAGE,
                        "LISTEN_ADDRESS": args.bastion_private_ip,
                        "PORT": REGISTRY_PORT,
                        "READY_TIMEOUT_S": READY_TIMEOUT_S,
                    },
                    triggers=triggers,
                    parent=self,
                    depends_on=[docker],
                )
            )

        def push(
            step: str, language: Language, sources: Sources
        ) -> tuple[pulumi.Resource, pulumi.Output[str], str]:
            tag = image_tag(sources, suite_version())
            reference = server.apply(
                lambda host: f"{host}/{namespace}/{repository(language)}:{tag}"
            )
            pushed = remote_step(
                step,
                connection=args.bastion,
                step="function-image",
                params={
                    "IMAGE": reference,
                    "REGISTRY_SERVER": server,
                    "REGISTRY_USERNAME": "" if private else (args.username or ""),
                    "SOURCES": sources.base64,
                    "SOURCES_SHA256": sources.sha256,
                },
                secrets=None if private else {"REGISTRY_TOKEN": args.token or ""},
                triggers=triggers,
                parent=self,
                depends_on=before_build,
            )
            image = pulumi.Output.all(reference, pushed.id).apply(lambda v: v[0])
            return pushed, image, tag

        python_push, self.image, self.tag = push(f"{name}-push", "python", sources)
        self.steps: list[pulumi.Resource] = [*before_build, python_push]
        #: The image of each other language, by language (empty unless `languages` asks).
        self.images: dict[str, pulumi.Output[str]] = {}
        for language in args.languages:
            step, image, _ = push(f"{name}-push-{language}", language, pack_sources(root, language))
            self.steps.append(step)
            self.images[language] = image
        self.url = server.apply(lambda host: f"{'http' if private else 'https'}://{host}")
        outputs: dict[str, object] = {"url": self.url, "image": self.image}
        if self.images:
            outputs["images"] = dict(self.images)
        self.outputs = outputs
        self.register_outputs(outputs)
