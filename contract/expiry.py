"""When a stack's resources are due to go: the `faasbench:expires-at` tag every cloud resource
carries, its value's format, and the default time to live.

`faasbench study` writes the stack config key `expiresAt` (now + `ttlHours`, ISO-8601 UTC) before
`up`; the program tags every resource with it and exports it (`expires_at`); `faasbench sweep`
reads it back. A stack deployed by a plain `pulumi up` without `expiresAt` is tagged `none`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

#: The AWS tag key; OpenStack tags are plain strings, `faasbench-expires-at=VALUE`.
EXPIRY_TAG = "faasbench:expires-at"
EXPIRY_LABEL = "faasbench-expires-at"
#: The tag's value when the stack config has no `expiresAt`.
NO_EXPIRY = "none"
DEFAULT_TTL_HOURS = 24
MAX_TTL_HOURS = 24 * 30
_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def format_expiry(moment: datetime) -> str:
    """`2026-12-04T18:00:00Z`: UTC, to the second."""
    return moment.astimezone(UTC).strftime(_FORMAT)


def expiry_after(now: datetime, hours: float) -> str:
    return format_expiry(now + timedelta(hours=hours))


def parse_expiry(text: str) -> datetime:
    """The moment an `expiresAt` value names; ValueError unless it is `YYYY-MM-DDTHH:MM:SSZ`."""
    try:
        return datetime.strptime(text, _FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise ValueError(
            f"expected an ISO-8601 UTC time such as 2026-12-04T18:00:00Z, got {text[:40]!r}"
        ) from None


def read_expiry_keys(config: dict[str, object], source: str) -> tuple[int, str | None]:
    """`faasbench:ttlHours` (default 24) and `faasbench:expiresAt` from a stack config file's
    `config` mapping; ValueError naming the key."""
    raw_ttl = config.get("faasbench:ttlHours", DEFAULT_TTL_HOURS)
    try:
        ttl = int(str(raw_ttl))
    except ValueError:
        ttl = 0
    if not 1 <= ttl <= MAX_TTL_HOURS:
        raise ValueError(
            f"{source}: faasbench:ttlHours: expected hours from 1 to {MAX_TTL_HOURS}, "
            f"got {str(raw_ttl)[:40]!r}"
        )
    expires = config.get("faasbench:expiresAt")
    if expires is None:
        return ttl, None
    try:
        parse_expiry(str(expires))
    except ValueError as exc:
        raise ValueError(f"{source}: faasbench:expiresAt: {exc}") from None
    return ttl, str(expires)
