"""FunctionSpec: which implementations of a suite function may be deployed."""

import pytest
from pydantic import ValidationError

from functions._registry import FUNCTION_NAMES, LANGUAGE_FUNCTIONS, LANGUAGES
from loadgen.platforms.base import FunctionSpec


def test_python_is_the_default_and_has_every_function() -> None:
    assert FunctionSpec(function="ftp").language == "python"
    assert LANGUAGE_FUNCTIONS["python"] == FUNCTION_NAMES


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "python"])
def test_other_languages_have_the_core_functions(language: str) -> None:
    for function in ("echo", "sleep", "matrix"):
        assert FunctionSpec(function=function, language=language).language == language


def test_a_function_missing_in_a_language_is_refused_by_name() -> None:
    with pytest.raises(ValidationError, match="'ftp' has no go implementation; go has echo"):
        FunctionSpec(function="ftp", language="go")


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(ValidationError, match="language"):
        FunctionSpec(function="echo", language="rust")
