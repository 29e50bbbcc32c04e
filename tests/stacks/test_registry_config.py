"""The registry keys: which registry a stack gets, what each one needs, and what it refuses."""

from __future__ import annotations

import pytest
from support.pulumi_mocks import FAKE_KUBECONFIG

from stacks.read_config import ConfigError, load_stack_config

MINIMAL_AWS = {"cloud": "aws", "allowedSshCidrs": "203.0.113.7/32"}
PUBLIC = {
    "registryNamespace": "alice",
    "registryUsername": "alice",
    "registryToken": "dckr_pat_NOT_IN_MESSAGES",
}


def problems_of(raw: dict[str, str], secret: tuple[str, ...] = ()) -> str:
    with pytest.raises(ConfigError) as caught:
        load_stack_config(raw, secret)
    return str(caught.value)


def test_no_registry_by_default() -> None:
    config = load_stack_config(MINIMAL_AWS)
    assert config.images.mode == "none"
    assert config.images.server == "docker.io"


def test_a_namespace_means_the_public_registry() -> None:
    config = load_stack_config({**MINIMAL_AWS, **PUBLIC}, ("registryToken",))
    assert config.images.mode == "public"
    assert config.images.token is not None
    assert config.images.token.get_secret_value() == PUBLIC["registryToken"]


def test_the_private_registry_needs_nothing_else() -> None:
    config = load_stack_config({**MINIMAL_AWS, "registry": "private", "orchestrator": "swarm"})
    assert config.images.mode == "private"
    assert config.images.namespace is None


def test_the_token_must_be_secret_and_is_never_echoed() -> None:
    message = problems_of({**MINIMAL_AWS, **PUBLIC})
    assert "faasbench:registryToken is stored in plain text" in message
    assert "pulumi config set --secret registryToken" in message
    assert PUBLIC["registryToken"] not in message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            {"registry": "public", "registryNamespace": "alice"},
            "set registryUsername, registryToken",
        ),
        (
            {"registry": "private", "registryUsername": "alice"},
            "registryUsername apply to registry public only; registry is private",
        ),
        (
            {"registry": "private", "registryServer": "ghcr.io"},
            "registryServer apply to registry public only",
        ),
        ({"registry": "none", "registryNamespace": "alice"}, "registryNamespace apply to"),
        ({"registry": "dockerhub"}, "faasbench:registry = 'dockerhub'"),
        ({**PUBLIC, "registryNamespace": "Alice"}, "faasbench:registryNamespace = 'Alice'"),
        ({**PUBLIC, "registryServer": "https://docker.io"}, "faasbench:registryServer"),
        (
            {"registry": "private", "framework": "openwhisk"},
            "framework openwhisk takes the functions as zip actions",
        ),
    ],
)
def test_bad_registry_settings_name_the_key(raw: dict[str, str], expected: str) -> None:
    message = problems_of({**MINIMAL_AWS, **raw}, ("registryToken",))
    assert expected in message
    assert PUBLIC["registryToken"] not in message


def test_existing_clusters_take_an_image_built_elsewhere() -> None:
    message = problems_of(
        {"cloud": "existing", "kubeconfig": FAKE_KUBECONFIG, "registry": "private"},
        ("kubeconfig",),
    )
    assert "cloud existing has none: push the image yourself and run loadgen run --image" in (
        message
    )


@pytest.mark.parametrize(
    ("languages", "expected"),
    [
        ('["node"]', "functionLanguages must include python"),
        ('["python", "go", "go"]', "functionLanguages names a language twice"),
        ('["python", "ruby"]', "functionLanguages"),
    ],
)
def test_function_languages_must_hold_python_once_each(languages: str, expected: str) -> None:
    message = problems_of(
        {**MINIMAL_AWS, **PUBLIC, "functionLanguages": languages}, ("registryToken",)
    )
    assert expected in message


def test_function_languages_besides_python_need_a_registry() -> None:
    message = problems_of({**MINIMAL_AWS, "functionLanguages": '["python", "java"]'})
    assert "builds images, which need a registry" in message
    config = load_stack_config(
        {**MINIMAL_AWS, **PUBLIC, "functionLanguages": '["python", "java", "node"]'},
        ("registryToken",),
    )
    assert config.images.other_languages == ("node", "java")
