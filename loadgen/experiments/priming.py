"""Priming: a cell's function called a few times before it is measured, through every replica,
so a warm cell does not open with cold starts. These calls are not recorded."""

from __future__ import annotations

import asyncio

import httpx

from loadgen.platforms.base import InvokeTarget, PlatformError

#: Rounds of one call per replica.
PRIMING_ROUNDS = 3


async def prime(target: InvokeTarget, replicas: int, verify: bool, timeout_s: float) -> None:
    """`PRIMING_ROUNDS` rounds of `replicas` concurrent calls of `target`; a timeout or a refused
    connection is a `PlatformError` (it fails the cell, not the campaign)."""
    try:
        async with httpx.AsyncClient(verify=verify, timeout=timeout_s) as client:
            for _ in range(PRIMING_ROUNDS):
                calls = [
                    client.request(
                        target.method, target.url, headers=dict(target.headers), content=target.body
                    )
                    for _ in range(replicas)
                ]
                await asyncio.gather(*calls)
    except httpx.HTTPError as exc:
        detail = str(exc) or type(exc).__name__
        raise PlatformError(f"priming {target.url} failed: {detail}") from None
