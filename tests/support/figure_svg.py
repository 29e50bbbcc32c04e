"""What a figure's SVG says: legend entries and extents, tick labels (matplotlib writes each
text as a comment before its glyphs, inside groups named legend_N, xtick_N, ytick_N)."""

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

SVG = "{http://www.w3.org/2000/svg}"


@dataclass(frozen=True)
class Legend:
    labels: list[str]
    width: float
    """Of its frame, in the figure's points."""


@dataclass(frozen=True)
class SvgFigure:
    width: float
    legends: list[Legend]
    ticks: list[str]
    texts: list[str]


def _comments(element: ET.Element) -> list[str]:
    return [
        str(e.text).strip() for e in element.iter() if e.tag is ET.Comment and e.text is not None
    ]


def read_svg(data: bytes) -> SvgFigure:
    """Of an SVG this report just wrote (no untrusted input)."""
    parser = ET.XMLParser(target=ET.TreeBuilder(insert_comments=True))  # noqa: S314
    root = ET.fromstring(data, parser=parser)  # noqa: S314
    legends, ticks = [], []
    for group in root.iter(f"{SVG}g"):
        name = group.get("id", "")
        if re.fullmatch(r"legend_\d+", name):
            frame = group.find(f"{SVG}g/{SVG}path")
            assert frame is not None
            xs = [float(x) for x in re.findall(r"([-\d.]+) [-\d.]+", frame.get("d", ""))]
            labels = [
                c
                for child in group.iter(f"{SVG}g")
                if re.fullmatch(r"text_\d+", child.get("id", ""))
                for c in _comments(child)
            ]
            legends.append(Legend(labels, max(xs) - min(xs)))
        elif re.fullmatch(r"[xy]tick_\d+", name):
            ticks.extend(_comments(group))
    return SvgFigure(
        float(root.get("width", "0").removesuffix("pt")), legends, ticks, _comments(root)
    )
