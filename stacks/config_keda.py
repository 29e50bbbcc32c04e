"""The KEDA section of the stack configuration (`framework: keda`): which of KEDA's two ways of
scaling a function from zero the stack installs."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from stacks.config_fields import Section

KedaMode = Literal["http", "queue"]


class KedaConfig(Section):
    """KEDA (Kubernetes only): HTTP scale-from-zero through the HTTP add-on's interceptor, or
    queue-driven consumers scaled on the length of a Redis list."""

    mode: KedaMode = Field(
        "http",
        alias="kedaMode",
        description="http: the HTTP add-on (beta) before each function; queue: Redis jobs",
    )
