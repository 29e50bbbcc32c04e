"""AWS instance-type facts that the stack config (validation) and the instance component share."""

from __future__ import annotations

import re

_BURSTABLE = re.compile(r"^(t2|t3|t3a|t4g)\.")


def is_burstable(size: str) -> bool:
    """AWS burstable families run on CPU credits; the others have no credit setting."""
    return bool(_BURSTABLE.match(size))
