"""The report rendered by headless Chromium: images decode, no console errors, not blank."""

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from matplotlib import image as mpl_image

from loadgen.report.build import figures_dir
from loadgen.report.figures import FIGURES

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")

COUNT_IMAGES = """<script>
window.addEventListener("load", () => {
  const images = [...document.images];
  document.body.dataset.decoded = images.filter(i => i.complete && i.naturalWidth > 0).length;
  document.body.dataset.images = images.length;
});
</script>"""
"""Appended to a copy of the page: records how many images decoded once everything loaded."""

CONSOLE_LINE = re.compile(r":CONSOLE[:(\]]")


def _chromium(*args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=5000",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def console_messages(stderr: str) -> list[str]:
    """Lines Chromium logs for console output: uncaught exceptions and console.* calls."""
    return [line for line in stderr.splitlines() if CONSOLE_LINE.search(line)]


def _dump(page: Path, tmp_path: Path) -> tuple[str, list[str]]:
    run = _chromium("--dump-dom", page.as_uri(), profile=tmp_path / "profile-dom")
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout, console_messages(run.stderr)


def test_console_errors_are_detected(tmp_path: Path) -> None:
    """The negative control: a page with a deliberate JS error must be caught."""
    page = tmp_path / "broken.html"
    page.write_text("<html><body><p>x</p><script>notAFunction();</script></body></html>")
    _, messages = _dump(page, tmp_path)
    assert any("notAFunction" in line for line in messages), messages


def test_undecodable_image_is_detected(tmp_path: Path) -> None:
    page = tmp_path / "broken-image.html"
    page.write_text(
        '<html><body><img src="data:image/png;base64,AAAA"><img src="missing.png">'
        + COUNT_IMAGES
        + "</body></html>"
    )
    dom, _ = _dump(page, tmp_path)
    assert 'data-images="2"' in dom
    assert 'data-decoded="0"' in dom


def test_report_renders_in_chromium(report: Path, tmp_path: Path) -> None:
    probe = tmp_path / "probe.html"
    probe.write_text(report.read_text().replace("</body>", COUNT_IMAGES + "</body>"))
    dom, messages = _dump(probe, tmp_path)
    assert messages == []
    # The replica sweep, the queue, the completions and the two memory figures have no data:
    # a line each, not an image.
    figures = len(FIGURES) - 5
    assert f'data-images="{figures}"' in dom
    assert f'data-decoded="{figures}"' in dom

    screenshot = tmp_path / "report.png"
    run = _chromium(
        f"--screenshot={screenshot}",
        "--window-size=1280,3000",
        report.as_uri(),
        profile=tmp_path / "profile-shot",
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert console_messages(run.stderr) == []
    pixels = mpl_image.imread(screenshot)[..., :3]
    colours = np.unique(pixels.reshape(-1, 3), axis=0)
    assert len(colours) > 50  # text, tables and plots, not one flat colour
    assert pixels.std() > 0.05
    # Each figure as the browser shows it: ink on 3-60% of its pixels, neither blank nor a
    # block of legend text.
    for png in sorted(figures_dir(report).glob("*.png")):
        figure = mpl_image.imread(png)[..., :3]
        ink = float((figure.min(axis=2) < 0.9).mean())
        assert 0.03 < ink < 0.6, (png.name, ink)
