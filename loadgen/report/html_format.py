"""The HTML report's building blocks: escaping, numbers as the page shows them, tables, and
redaction of secrets from what it prints."""

import html
import math
import re
from collections.abc import Sequence

from loadgen.analysis.stats import min_runs
from loadgen.analysis.table import Row

SECRET_KEY = re.compile(
    r"secret|password|passwd|token|private|credential|kubeconfig|api[_-]?key|access[_-]?key",
    re.IGNORECASE,
)
REDACTED = "[redacted]"


def redact(value: object) -> object:
    """The value with every entry whose key looks like a secret replaced (defence in depth)."""
    if isinstance(value, dict):
        return {k: REDACTED if SECRET_KEY.search(str(k)) else redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def escape(value: object) -> str:
    return html.escape(str(value), quote=True)


def significant(value: float, digits: int = 3) -> str:
    """`value` to `digits` significant digits, trailing zeros kept (12.0, 0.450, 3.14): every
    measured number of the page reads alike. Large numbers keep every integer digit, with
    thousands separators (1,234); tiny ones (under 0.0001) go to exponent notation."""
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else str(value)
    rounded = float(f"{value:.{digits}g}")
    magnitude = math.floor(math.log10(abs(rounded)))
    if magnitude >= digits - 1:
        return f"{value:,.0f}"
    if magnitude < -4:
        return f"{rounded:.{digits - 1}e}"
    return f"{rounded:,.{digits - 1 - magnitude}f}"


def number_cell(value: object, digits: int = 3) -> str:
    """A measured number (float) to `digits` significant digits; an int as it is."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return significant(value, digits)
    if isinstance(value, int):
        return f"{value:,}"
    return escape(value)


def count_cell(value: object) -> str:
    """A count (the tidy table stores some as floats): a whole number."""
    if isinstance(value, float) and value.is_integer():
        return f"{int(value):,}"
    return number_cell(value)


def html_table(
    header: Sequence[str] | None, rows: Sequence[Sequence[str]], text_columns: int = 1
) -> str:
    """`rows` hold already-escaped HTML; no header row when `header` is None."""
    if header is None:
        head_html = ""
    else:
        head_html = "<thead><tr>" + _header_cells(header, text_columns) + "</tr></thead>"
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="text">{cell}</td>' if i < text_columns else f"<td>{cell}</td>"
            for i, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table>{head_html}<tbody>{body}</tbody></table>"


def _header_cells(header: Sequence[str], text_columns: int) -> str:
    return "".join(
        f'<th class="text">{escape(h)}</th>' if i < text_columns else f"<th>{escape(h)}</th>"
        for i, h in enumerate(header)
    )


def with_ci(row: Row | None) -> str:
    if row is None or row["value"] is None:
        return "–"
    text = number_cell(row["value"])
    if row["ci_low"] is not None and row["ci_high"] is not None:
        text += f" [{number_cell(row['ci_low'])}, {number_cell(row['ci_high'])}]"
    return text


def estimate(value: object, low: object, high: object) -> str:
    """A median and its interval; the median alone where too few runs allow no interval."""
    if low is None or high is None:
        return number_cell(value)
    return f"{number_cell(value)} [{number_cell(low)}, {number_cell(high)}]"


def no_interval_note(level: float) -> str:
    """Said under a table where some median over runs has no interval."""
    return (
        f"<p>A median over runs shown without an interval comes from fewer than "
        f"{min_runs(level)} runs: too few for a {level * 100:g}% interval.</p>"
    )
