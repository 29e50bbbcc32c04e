"""The Knative section of the stack configuration: the cluster-wide autoscaler settings
(platform settings every campaign manifest records through the `knative` output) and optional
sha256 pins of the release manifests."""

from __future__ import annotations

from pydantic import Field

from contract.knative import WINDOW_MAX_S, WINDOW_MIN_S
from stacks.config_fields import Section

_SHA256 = r"^[0-9a-f]{64}$"


class KnativeConfig(Section):
    """Knative Serving (orchestrator k8s): config-autoscaler's cluster-wide values."""

    scale_to_zero_grace_period_s: int = Field(
        30,
        alias="knativeScaleToZeroGracePeriodS",
        ge=1,
        le=86_400,
        description="how long an idle revision keeps its last pod (natural cold starts wait it)",
    )
    stable_window_s: int = Field(
        60,
        alias="knativeStableWindowS",
        ge=WINDOW_MIN_S,
        le=WINDOW_MAX_S,
        description="the default stable window; a function's knative.stable_window_s overrides",
    )
    max_scale_limit: int = Field(
        0, alias="knativeMaxScaleLimit", ge=0, le=1000, description="per-Service cap; 0: none"
    )
    serving_crds_sha256: str | None = Field(
        None,
        alias="knativeServingCrdsSha256",
        pattern=_SHA256,
        description="default: the release's checksums.txt",
    )
    serving_core_sha256: str | None = Field(
        None,
        alias="knativeServingCoreSha256",
        pattern=_SHA256,
        description="default: the release's checksums.txt",
    )
    kourier_sha256: str | None = Field(
        None,
        alias="knativeKourierSha256",
        pattern=_SHA256,
        description="default: net-kourier's release checksums.txt",
    )

    def pins(self) -> dict[str, str]:
        """Release file name -> the sha256 configured for it."""
        return {
            name: value
            for name, value in (
                ("serving-crds.yaml", self.serving_crds_sha256),
                ("serving-core.yaml", self.serving_core_sha256),
                ("kourier.yaml", self.kourier_sha256),
            )
            if value is not None
        }
