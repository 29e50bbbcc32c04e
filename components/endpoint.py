"""Where clients reach a service: one value from which both the URL a stack exports and the
configuration that announces it (OpenWhisk's API host) are made."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Endpoint:
    scheme: Literal["http", "https"]
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"
