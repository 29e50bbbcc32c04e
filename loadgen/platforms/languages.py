"""Which implementation of a function a platform deploys: the image of its language.

Python is the suite's own image (`registry.image`, or `--image`); every other language has an
image of its own, built by the stack when `functionLanguages` names it and exported as
`registry.images.<language>`. A platform that runs images refuses a language whose image it
was not given, naming the key that would provide it.
"""

from __future__ import annotations

from collections.abc import Mapping

from functions._registry import LANGUAGES

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
