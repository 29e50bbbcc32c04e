"""Which implementation of a function a platform deploys: the image of its language.

Python is the suite's own image (`registry.image`, or `--image`); every other language has an
image of its own, built by the stack when `functionLanguages` names it and exported as
`registry.images.<language>`. A platform that runs images refuses a language whose image it
was not given, naming the key that would provide it.
"""

from __future__ import annotations

from collections.abc import Mapping

from contract.outputs import StackOutputs
from functions._registry import LANGUAGES, Language

from .base import FunctionSpec, PlatformError

#: What the local target's gateway is told for each language: it runs the sources directly
#: (the deployment's `faasbench.language` label picks the toolchain), so these name no image.
LOCAL_IMAGES: dict[str, str] = {
    language: f"faasbench-functions-{language}:local"
    for language in LANGUAGES
    if language != "python"
}


def image_for(platform: str, function: FunctionSpec, image: str, images: Mapping[str, str]) -> str:
    """The image that runs `function`: `image` for Python, `images[language]` otherwise."""
    if function.language == "python":
        return image
    found = images.get(function.language)
    if not found:
        raise PlatformError(
            f"{platform}: function {function.deployed_name!r} is written in "
            f"{function.language}, and the stack exports no {function.language} image "
            f"(registry.images.{function.language}): add {function.language} to the stack's "
            "functionLanguages and run pulumi up"
        )
    return found


def language_unavailable(outputs: StackOutputs, language: Language) -> str | None:
    """Why the stack cannot deploy functions written in `language` (None: it can), decided
    from its outputs before anything is deployed: the local target runs every language (its
    toolchain is checked at deploy); OpenWhisk needs a runtime kind for it; KEDA's queue mode
    runs the Python consumer; the other platforms need the language's image."""
    if language == "python" or outputs.cloud == "local":
        return None
    if outputs.framework == "openwhisk":
        from .openwhisk import LANGUAGE_KINDS

        if language in LANGUAGE_KINDS:
            return None
        return "the OpenWhisk chart's runtimes have no action kind that runs it"
    if outputs.framework == "keda" and outputs.keda is not None and outputs.keda.mode == "queue":
        return "KEDA's queue mode runs the Python consumer (functions/consumer.py) only"
    images = outputs.registry.images if outputs.registry is not None else {}
    if language in images:
        return None
    return (
        f"the stack exports no {language} image (registry.images.{language}): add {language} "
        "to the stack's functionLanguages and run pulumi up"
    )
