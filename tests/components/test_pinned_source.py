"""Pinned upstream sources: folders verified by git tree hash, files by sha256, fetched once
into the cache and reused offline, anything else refused with a message naming it."""

from __future__ import annotations

import dataclasses
import hashlib
import subprocess
from pathlib import Path

import pytest
from support import specs
from support.openwhisk_chart import archive_path, pack_archive, serve_archives, write_chart

from components.pinned_source import (
    PinnedFetchError,
    PinnedFile,
    PinnedTree,
    fetch_file,
    fetch_tree,
    git_tree_hash,
)


def test_tree_hash_is_the_one_git_computes(tmp_path: Path) -> None:
    folder = tmp_path / "chart"
    write_chart(folder)
    (folder / "templates" / "b").mkdir()
    (folder / "templates" / "b" / "x.yaml").write_text("a: 1\n")
    (folder / "templates" / "b.yaml").write_text("b: 2\n")  # sorts before the folder b/
    subprocess.run(["git", "init", "-q", str(folder)], check=True)
    subprocess.run(["git", "-C", str(folder), "add", "-A"], check=True)
    expected = subprocess.run(
        ["git", "-C", str(folder), "write-tree"], check=True, capture_output=True, text=True
    ).stdout.strip()
    (folder / ".git").rename(tmp_path / "git-dir")
    assert git_tree_hash(folder) == expected
    (folder / "configMapFiles" / "init.sh").chmod(0o644)  # the executable bit counts
    assert git_tree_hash(folder) != expected


def tree_for(folder: Path, url: str = "") -> PinnedTree:
    return PinnedTree(
        "apache/openwhisk-deploy-kube", "a" * 40, git_tree_hash(folder), "helm/x", url
    )


def test_fetch_downloads_verifies_and_caches(tmp_path: Path) -> None:
    folder = tmp_path / "chart"
    write_chart(folder)
    source = tree_for(folder)
    with serve_archives({archive_path(source): pack_archive(folder, source)}) as url:
        served = dataclasses.replace(source, host=url)
        fetched = fetch_tree(served, cache=tmp_path / "cache")
    assert git_tree_hash(fetched) == source.tree
    assert (fetched / "configMapFiles" / "init.sh").stat().st_mode & 0o100
    assert not (fetched / "README.md").exists()  # only the pinned folder is extracted
    # The server is gone: the verified copy in the cache is used.
    assert fetch_tree(served, cache=tmp_path / "cache") == fetched
    # A cached copy that no longer matches is not trusted.
    (fetched / "values.yaml").write_text("tampered: true\n")
    with pytest.raises(PinnedFetchError, match="could not download"):
        fetch_tree(served, cache=tmp_path / "cache")


def test_fetch_refuses_an_archive_that_is_not_the_pinned_tree(tmp_path: Path) -> None:
    folder = tmp_path / "chart"
    write_chart(folder)
    source = tree_for(folder)
    (folder / "templates" / "NOTES.txt").write_text("tampered\n")
    archives = {archive_path(source): pack_archive(folder, source)}
    with serve_archives(archives) as url, pytest.raises(PinnedFetchError, match=source.tree):
        fetch_tree(dataclasses.replace(source, host=url), cache=tmp_path / "cache")
    assert not list((tmp_path / "cache" / "trees").iterdir())  # nothing half-written is kept


def test_fetch_names_the_url_when_the_download_fails(tmp_path: Path) -> None:
    folder = tmp_path / "chart"
    write_chart(folder)
    with serve_archives({}) as url:
        source = tree_for(folder, url)
        with pytest.raises(PinnedFetchError, match=r"could not download .*helm/x.*404"):
            fetch_tree(source, cache=tmp_path / "cache")


def test_fetch_refuses_links_in_the_archive(tmp_path: Path) -> None:
    folder = tmp_path / "chart"
    write_chart(folder)
    (folder / "templates" / "link.yaml").symlink_to("/etc/passwd")
    source = PinnedTree("apache/openwhisk-deploy-kube", "b" * 40, "0" * 40, "helm/x")
    archives = {archive_path(source): pack_archive(folder, source)}
    with serve_archives(archives) as url, pytest.raises(PinnedFetchError, match="not a file"):
        fetch_tree(dataclasses.replace(source, host=url), cache=tmp_path / "cache")


def test_a_file_is_fetched_by_sha256_once(tmp_path: Path) -> None:
    body = b'{"swagger": "2.0"}\n'
    source = PinnedFile(
        "apache/openwhisk", "c" * 40, "core/api.json", hashlib.sha256(body).hexdigest()
    )
    path = f"/{source.repository}/{source.commit}/{source.path}"
    with serve_archives({path: body}) as url:
        served = dataclasses.replace(source, host=url)
        fetched = fetch_file(served, cache=tmp_path / "cache")
        assert fetched.read_bytes() == body
        wrong = dataclasses.replace(served, sha256="f" * 64)
        with pytest.raises(PinnedFetchError, match=r"has sha256 .* expected f{64}"):
            fetch_file(wrong, cache=tmp_path / "cache")
    assert fetch_file(served, cache=tmp_path / "cache") == fetched  # offline now
    assert sorted(p.name for p in (tmp_path / "cache" / "files").iterdir()) == [source.sha256]


def test_a_chart_is_assembled_from_pinned_parts_without_what_it_leaves_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:

    def folder(name: str, files: dict[str, str]) -> Path:
        root = tmp_path / name
        for path, text in files.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(text)
        return root

    main = folder("main", {"Chart.yaml": "name: top\n", "unittests/t.yaml": "x\n",
                           "charts/crds/Chart.yaml": "name: crds\n"})  # fmt: skip
    sub = folder("sub", {"Chart.yaml": "name: sub\n", "ci/values.yaml": "y\n"})
    expected = folder(
        "expected",
        {"Chart.yaml": "name: top\n", "charts/crds/Chart.yaml": "name: crds\n",
         "charts/sub/Chart.yaml": "name: sub\n"},
    )  # fmt: skip
    parts = {
        "main": PinnedTree("o/charts", "1" * 40, git_tree_hash(main), "charts/top"),
        "sub": PinnedTree("o/charts", "2" * 40, git_tree_hash(sub), "charts/sub"),
    }
    archives = {
        archive_path(parts["main"]): pack_archive(main, parts["main"]),
        archive_path(parts["sub"]): pack_archive(sub, parts["sub"]),
    }
    monkeypatch.setattr(specs, "CACHE", tmp_path / "cache")
    with serve_archives(archives) as url:
        spec = specs.SpecTree(
            "charts/not-in-shared",
            git_tree_hash(expected),
            (
                specs.Part(dataclasses.replace(parts["main"], host=url), left_out=("unittests",)),
                specs.Part(
                    dataclasses.replace(parts["sub"], host=url),
                    into="charts/sub",
                    left_out=("ci",),
                ),
            ),
        )
        assembled = specs.tree_path(spec)
    assert git_tree_hash(assembled) == git_tree_hash(expected)
    # A part whose upstream tree is not the pinned one stops the assembly, naming it.
    with serve_archives({}) as url:
        broken = specs.SpecTree("charts/other", "f" * 40, (specs.Part(
            dataclasses.replace(parts["main"], host=url, tree="e" * 40)),))  # fmt: skip
        with pytest.raises(specs.SpecMissing, match=r"charts/other is missing: no \.\./shared"):
            specs.tree_path(broken)
