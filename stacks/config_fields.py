"""The stack configuration's shared pieces: the sections' base model and the field types
(CIDRs, addresses) more than one section validates, with messages that never echo a huge value."""

from __future__ import annotations

import ipaddress
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict


def excerpt(value: object, limit: int = 60) -> str:
    """`repr(value)` cut to `limit` characters: messages never echo a huge value back."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _network(value: str) -> str:
    """A CIDR in canonical form; a bare address means that one host."""
    try:
        return str(ipaddress.ip_network(value, strict=True))
    except ValueError as err:
        reason = str(err).replace(repr(value), "it").replace(str(value), "it")[:100]
        raise ValueError(f"{excerpt(value)} is not a valid CIDR ({reason})") from None


def _ipv4_network(value: str) -> str:
    network = ipaddress.ip_network(_network(value))
    if network.version != 4:
        raise ValueError(f"{excerpt(value)} must be an IPv4 CIDR")
    if not network.is_private:
        raise ValueError(f"{excerpt(value)} is not a private range (RFC 1918)")
    return str(network)


def _ip_address(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ValueError(f"{excerpt(value)} is not an IP address") from None


Cidr = Annotated[str, AfterValidator(_network)]
PrivateCidr = Annotated[str, AfterValidator(_ipv4_network)]
IpAddress = Annotated[str, AfterValidator(_ip_address)]


class Section(BaseModel):
    """A section of the stack configuration: frozen, and keyed by the aliases only."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=False)
