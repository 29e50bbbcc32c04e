"""Cold-start cost by component, one panel per component, from the tidy table's group rows."""

from collections.abc import Sequence

import numpy as np
from matplotlib.patches import Patch

from loadgen.analysis.aggregate import Aggregate, group_label
from loadgen.analysis.cold_starts import BOOT_IN, COLD_START_COMPONENTS
from loadgen.analysis.table import row_key
from loadgen.report.figures.common import (
    Figure,
    as_float,
    campaign_colors,
    empty_figure,
    finish,
    subplots,
)

_PANELS: tuple[tuple[str, str], ...] = (
    ("to_ready", "deploy/scale → ready"),
    ("ready_to_send", "ready → first request sent"),
    ("first_latency", "first response's latency"),
)
"""One panel per component that is its own interval: bars in different panels never add up."""


def _cold_components(
    results: Sequence[Aggregate],
) -> list[tuple[str, str, str | None, dict[str, float]]]:
    """(campaign, group label, cold-start method, {component: mean ms, component_count: n})
    per group with cold starts, from the tidy table's `cold_start_<component>_ms` group rows."""
    found: list[tuple[str, str, str | None, dict[str, float]]] = []
    names = {name for name, _ in COLD_START_COMPONENTS}
    for result in results:
        groups: dict[tuple[str, str | None], dict[str, float]] = {}
        for row in result.rows:
            metric = str(row["metric"])
            name = metric.removeprefix("cold_start_").removesuffix("_ms")
            if (
                row["level"] != "group"
                or not metric.endswith("_ms")
                or name not in names
                or row["stat"] not in {"mean", "count"}
                or row["value"] is None
            ):
                continue
            group = row_key(row)
            key = name if row["stat"] == "mean" else f"{name}_count"
            groups.setdefault((group_label(group), group[4]), {})[key] = as_float(row["value"])
        found.extend(
            (result.tree.manifest.campaign, label, method, values)
            for (label, method), values in groups.items()
        )
    return [entry for entry in found if any(entry[3].get(f"{n}_count") for n in names)]


def cold_breakdown(results: Sequence[Aggregate]) -> Figure:
    title = "Cold-start cost by component"
    entries = _cold_components(results)
    if not entries:
        return empty_figure(
            "cold-breakdown",
            title,
            "no cold-start components recorded (no cold-start cell, or results written before "
            "the campaign loop recorded them)",
        )
    colors = campaign_colors(results)
    width = max(3.2, 0.9 * len(entries))
    figure, axes = subplots(1, len(_PANELS), figsize=(width * len(_PANELS), 4), squeeze=False)
    stacked = False
    labels = [f"{campaign}\n{label}" for campaign, label, _, _ in entries]
    x = np.arange(len(entries))
    for ax, (name, heading) in zip(axes[0], _PANELS, strict=True):
        for index, (campaign, _, method, values) in enumerate(entries):
            total = values.get(name)
            if total is None:
                ax.text(index, 0, "n/a", ha="center", va="bottom", fontsize=7, color="0.4")
                continue
            color = colors[campaign]
            init = values.get("init")
            # The init the platform reported is part of the same first responses: stacked inside
            # them, and only when it was reported for every one of them.
            nested = (
                name == "first_latency"
                and init is not None
                and values.get("init_count") == values.get("first_latency_count")
                and init <= total
            )
            if nested:
                assert init is not None
                stacked = True
                ax.bar(index, init, color=color, hatch="//", edgecolor="white", alpha=0.9)
                ax.bar(index, total - init, bottom=init, color=color, alpha=0.5)
            elif name == "first_latency" and init is not None:
                # Init of only some of the first responses: beside them, not inside.
                ax.bar(index - 0.2, total, width=0.4, color=color, alpha=0.8)
                ax.bar(index + 0.2, init, width=0.4, color=color, hatch="//", edgecolor="white")
                stacked = True
            else:
                ax.bar(index, total, color=color, alpha=0.8)
            count = int(values.get(f"{name}_count", 0))
            boot = " · boot" if BOOT_IN.get(str(method)) == name else ""
            ax.annotate(f"n={count}{boot}", (index, total), ha="center", va="bottom", fontsize=7)
        ax.set_xticks(x, labels, fontsize=7, rotation=30, ha="right")
        ax.set_title(heading, fontsize=9)
        ax.set_ylabel("mean ms per cold start")
        ax.grid(axis="y", alpha=0.3)
    if stacked:
        init_patch = Patch(facecolor="0.5", hatch="//", edgecolor="white", label="init (platform)")
        axes[0][-1].legend(handles=[init_patch], fontsize=7)
    return finish(
        "cold-breakdown",
        title,
        "Mean of each cold-start component per group, one panel each, never added up: "
        "deploy/scale → ready is the control-plane work of a forced cold start (a redeploy's "
        "contains the boot of the new instance, as a Knative pod deletion's does; "
        "scale-to-zero's is the scale-down only; an "
        "action update's is one PUT); ready → first request sent is the load generator's own "
        "start-up, in no request; the first response's latency contains the boot after "
        "scale-to-zero, an action update or an idle reap (natural), and holds the "
        "platform-reported init, hatched: inside the bar where it was reported for every first "
        "response, beside it otherwise. n: cold starts measured; boot: the part that holds the "
        "new instance's boot for the group's method; n/a: the method has no such part.",
        figure,
    )
