"""Physical names and tags, so several stacks coexist in one account and region.

Every name carries `envName` and the stack name: two stacks (one per orchestrator, say) never
collide on key pairs, security groups or instance names, and every resource can be traced back
to its stack from the cloud console. Every tag set also says when the stack is due to go
(`faasbench:expires-at`, `contract/expiry.py`), so a forgotten one is found by tag as well as by
`faasbench sweep`.
"""

from __future__ import annotations

from dataclasses import dataclass

from contract.expiry import EXPIRY_LABEL, EXPIRY_TAG, NO_EXPIRY


@dataclass(frozen=True)
class Naming:
    env: str
    stack: str
    #: The `faasbench:expires-at` value (config `expiresAt`); `none` when the stack has none.
    expires_at: str | None = None

    def name(self, role: str) -> str:
        """The physical name of the resource playing `role` in this stack."""
        return f"{self.env}-{self.stack}-{role}"

    def tags(self, role: str) -> dict[str, str]:
        """AWS tags: Name for the console, the rest for filtering and cost reports."""
        return {
            "Name": self.name(role),
            "faasbench:env": self.env,
            "faasbench:stack": self.stack,
            "faasbench:role": role,
            EXPIRY_TAG: self.expires_at or NO_EXPIRY,
        }

    def labels(self, role: str) -> list[str]:
        """OpenStack tags are plain strings."""
        return [
            f"faasbench-env={self.env}",
            f"faasbench-stack={self.stack}",
            f"role={role}",
            f"{EXPIRY_LABEL}={self.expires_at or NO_EXPIRY}",
        ]
