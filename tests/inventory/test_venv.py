"""Installed distributions from site-packages metadata, never by importing them."""

from __future__ import annotations

import importlib.metadata
import sys
from pathlib import Path

from tutela.inventory.interface import FileInput, Finding, ItemKind, Problem
from tutela.inventory.venv import DistributionDetector, is_venv_root

SITE = "venv/lib/python3.11/site-packages"


def _metadata(name: str, version: str, *, extra: str = "") -> str:
    return (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n{extra}"
        "Summary: test\n\nLong description\nName: not-this\n"
    )


def _tree(tmp_path: Path) -> Path:
    site = tmp_path / SITE
    files = {
        "torch-2.1.0.dist-info/METADATA": _metadata("torch", "2.1.0"),
        "scikit_learn-1.4.0.dist-info/METADATA": _metadata("scikit-learn", "1.4.0"),
        "requests-2.31.0.dist-info/METADATA": _metadata("requests", "2.31.0"),
        "Old_Pkg-0.9-py3.11.egg-info/PKG-INFO": _metadata("Old_Pkg", "0.9"),
        "legacy-1.0-py3.11.egg-info": _metadata("legacy", "1.0"),
        "broken-3.2.dist-info/METADATA": "this is not an email header block\n",
        "nameless.dist-info/METADATA": "Metadata-Version: 2.1\n",
        "torch/_vendor/inner-1.0.dist-info/METADATA": _metadata("inner", "1.0"),
        "openai-1.30.0.dist-info/RECORD": "openai/__init__.py,,\n",
    }
    for rel, text in files.items():
        path = site / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (tmp_path / "venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    return tmp_path


def _scan(root: Path) -> tuple[list[Finding], list[Problem]]:
    detector = DistributionDetector()
    findings: list[Finding] = []
    problems: list[Problem] = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and detector.wants(rel, path.name):
            data = path.read_bytes()
            found, bad = detector.detect(FileInput(root, rel, data, len(data), False))
            findings += found
            problems += bad
    return findings, problems


def test_fake_site_packages(tmp_path: Path) -> None:
    """Name and Version come from the header block; AI distributions are also frameworks."""
    root = _tree(tmp_path)
    findings, problems = _scan(root)
    packages = {f.identity: f for f in findings if f.kind is ItemKind.PACKAGE}
    assert {k: v.version for k, v in packages.items()} == {
        "pypi/torch": "2.1.0",
        "pypi/scikit-learn": "1.4.0",
        "pypi/requests": "2.31.0",
        "pypi/old-pkg": "0.9",
        "pypi/legacy": "1.0",
        "pypi/broken": "3.2",  # named from its folder, with a problem
    }
    torch = packages["pypi/torch"]
    assert torch.properties == {"installed": True, "environment": SITE, "source": "installed"}
    assert torch.location.path == f"{SITE}/torch-2.1.0.dist-info/METADATA"
    frameworks = {f.identity for f in findings if f.kind is ItemKind.FRAMEWORK}
    assert frameworks == {"pypi/torch", "pypi/scikit-learn"}
    assert sorted(p.path.split("/")[-2] for p in problems) == [
        "broken-3.2.dist-info",
        "nameless.dist-info",
    ]
    assert is_venv_root(root / "venv")
    assert not is_venv_root(root)


def test_wants_only_metadata_in_site_packages() -> None:
    """Metadata outside site-packages, vendored deeper, or other files are not wanted."""
    detector = DistributionDetector()
    assert detector.wants(f"{SITE}/a-1.dist-info/METADATA", "METADATA")
    assert detector.wants("usr/lib/python3/dist-packages/a-1.egg-info/PKG-INFO", "PKG-INFO")
    assert not detector.wants("src/a-1.dist-info/METADATA", "METADATA")
    assert not detector.wants(f"{SITE}/a-1.dist-info/RECORD", "RECORD")
    assert not detector.wants(f"{SITE}/pkg/_vendor/b-1.dist-info/METADATA", "METADATA")
    # discovery pointed at site-packages itself: the metadata folders sit at the root
    assert detector.wants("a-1.dist-info/METADATA", "METADATA")
    data = _metadata("a", "1").encode()
    found, _ = detector.detect(
        FileInput(Path("/x"), "a-1.dist-info/METADATA", data, len(data), False)
    )
    assert found[0].properties["environment"] == "."


def test_oversize_truncated_and_hostile_metadata() -> None:
    """Large or truncated metadata is a problem; a huge header block is cut, not parsed whole."""
    detector = DistributionDetector()
    rel = f"{SITE}/x-1.0.dist-info/METADATA"
    big = FileInput(Path("/x"), rel, b"Name: x\n", 6 * 1024 * 1024, False)
    assert detector.detect(big)[1][0].message.startswith("distribution metadata larger")
    cut = FileInput(Path("/x"), rel, b"Name: x\n", 10, True)
    assert detector.detect(cut)[0] == []
    hostile = b"Name: x\nVersion: 1.0\n" + b"X-Long: " + b"a" * 2_000_000 + b"\n\xff\xfe\n"
    findings, problems = detector.detect(FileInput(Path("/x"), rel, hostile, len(hostile), False))
    assert [(f.identity, f.version) for f in findings] == [("pypi/x", "1.0")]
    assert problems == []
    weird = b"Name: ../../etc\nVersion: $(rm -rf /)\n"
    findings, problems = detector.detect(FileInput(Path("/x"), rel, weird, len(weird), False))
    assert [(f.identity, f.version) for f in findings] == [("pypi/x", "1.0")]
    assert len(problems) == 1


def test_the_real_virtual_environment() -> None:
    """Over this project's own venv: torch, numpy, sqlalchemy at importlib.metadata's versions."""
    site = Path(sys.prefix) / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    site = site / "site-packages"
    root = Path(sys.prefix).parent
    detector = DistributionDetector()
    versions: dict[str, str | None] = {}
    problems: list[Problem] = []
    for path in sorted(site.glob("*.dist-info/METADATA")):
        rel = path.relative_to(root).as_posix()
        assert detector.wants(rel, path.name)
        data = path.read_bytes()
        found, bad = detector.detect(FileInput(root, rel, data, len(data), False))
        problems += bad
        versions.update({f.identity: f.version for f in found if f.kind is ItemKind.PACKAGE})
    assert problems == []
    for name in ("torch", "numpy", "sqlalchemy"):
        assert versions[f"pypi/{name}"] == importlib.metadata.version(name), name
    assert is_venv_root(Path(sys.prefix))


def test_precision_and_recall_over_the_fixture(tmp_path: Path) -> None:
    """PACKAGE and FRAMEWORK precision and recall over the fake environment are >= 0.95."""
    findings, _ = _scan(_tree(tmp_path))
    expected = {
        ItemKind.PACKAGE: {"torch", "scikit-learn", "requests", "old-pkg", "legacy", "broken"},
        ItemKind.FRAMEWORK: {"torch", "scikit-learn"},
    }
    for kind, names in expected.items():
        exp = {f"pypi/{n}" for n in names}
        got = {f.identity for f in findings if f.kind is kind}
        assert len(exp & got) / len(got) >= 0.95
        assert len(exp & got) / len(exp) >= 0.95
