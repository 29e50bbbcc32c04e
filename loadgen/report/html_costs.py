"""The report's cost table: per group, what a million invocations would cost on a managed FaaS
and on the stack, both estimates from the dated price table (`loadgen.analysis.costs`)."""

from contract.prices import (
    LAMBDA_PRICE_SOURCE,
    LAMBDA_USD_PER_GB_SECOND,
    LAMBDA_USD_PER_MILLION_REQUESTS,
    PRICES_DATE,
)
from loadgen.analysis.aggregate import Aggregate
from loadgen.analysis.costs import group_costs, stack_hourly
from loadgen.report.html_format import escape, html_table, number_cell, significant


def _usd(value: float | None) -> str:
    return "n/a" if value is None else f"${significant(value, 4)}"


def cost_note() -> str:
    """How both estimates are made, with the price date (shared by the table and the figure)."""
    return (
        f"Estimates, prices of {PRICES_DATE}. Managed FaaS: AWS Lambda's bill for a million "
        f"invocations: GB-s of the configured memory limit (memory_mb ÷ 1024 × the mean billed "
        f"duration) × ${LAMBDA_USD_PER_GB_SECOND} per GB-s + "
        f"${LAMBDA_USD_PER_MILLION_REQUESTS:.2f} per million requests ({LAMBDA_PRICE_SOURCE}; "
        "no free tier). The billed duration is the platform's mean run time of an activation "
        "where it reports one (OpenWhisk), else the mean request latency the client saw, an "
        "upper bound. Stack: the stack's machines per hour ÷ the group's throughput (median "
        "over runs) × one million: the cost at the load measured, not at the stack's capacity."
    )


def cost_section(result: Aggregate) -> str:
    costs = group_costs(result)
    if not costs:
        return ""
    rows = [
        [
            escape(cost.label),
            number_cell(cost.memory_mb),
            number_cell(cost.duration_ms),
            escape(cost.duration_basis),
            _usd(cost.managed_usd_per_million),
            number_cell(cost.throughput_rps),
            _usd(cost.stack_usd_per_million),
        ]
        for cost in costs
    ]
    stack = stack_hourly(result.tree.manifest)
    return (
        "<h4>Cost per million invocations (estimate)</h4>"
        f"<p>{escape(cost_note())} Stack machines: {escape(stack.note)}.</p>"
        + html_table(
            [
                "group",
                "memory MiB",
                "billed ms",
                "billed duration from",
                "managed FaaS USD / 1M (estimate)",
                "throughput /s",
                "stack USD / 1M (estimate)",
            ],
            rows,
            text_columns=1,
        )
    )
