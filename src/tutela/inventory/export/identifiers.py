"""What both BOM formats need to know about an item: its purl, digest, URLs and labels.

Derived from the identity conventions of ``Finding`` (``pypi/torch``, ``hf/org/name``,
``sha256:…``, ``oci/python:3.11``, ``url/https://…``) and a few well-known property names
(``digest``, ``base_url``, ``url``, ``endpoints``, ``revision``, ``task``, ``provider``).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from packageurl import PackageURL

from tutela.inventory.interface import ItemKind
from tutela.inventory.model import Inventory, Item, is_pinned, is_sensitive_key

__all__ = [
    "EXPORTED_KINDS",
    "dataset_url",
    "endpoints",
    "export_refs",
    "is_local",
    "package_url",
    "public_properties",
    "related_services",
    "scrub",
    "secret_count",
    "sha256_of",
]

# Secrets are never components of a BOM: only their number is exported.
EXPORTED_KINDS = frozenset(ItemKind) - {ItemKind.SECRET}

_SHA256 = re.compile(r"^(?:sha256:)?([0-9a-f]{64})$")
_COMMIT = re.compile(r"^[0-9a-f]{7,40}$")
_ECOSYSTEMS = {"pypi": "pypi", "npm": "npm", "cargo": "cargo", "gem": "gem", "go": "golang"}
_URL_KEYS = ("base_url", "endpoint", "url", "endpoints", "urls")
_LOCAL_HOSTS = frozenset(
    {
        "localhost",
        "127.0.0.1",
        "::1",
        "0.0.0.0",  # noqa: S104 - a name compared, nothing bound
        "host.docker.internal",
    }
)
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]*@")
_URL_TAIL = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s?#]*)[?#]\S*")
_MAX_TEXT = 1024  # a property longer than this is cut: a BOM is not a data dump


def sha256_of(item: Item) -> str | None:
    """The hex SHA-256 of the item's content, from a ``sha256:`` identity or ``digest``."""
    for candidate in (item.identity, item.properties.get("digest"), item.properties.get("sha256")):
        if isinstance(candidate, str):
            match = _SHA256.match(candidate.strip().lower())
            if match:
                return match.group(1)
    return None


def _bare_version(version: str | None) -> str | None:
    if not is_pinned(version) or version is None:
        return None
    return version.lstrip("=")


def _hub_purl(item: Item) -> PackageURL | None:
    _, _, repo = item.identity.partition("/")
    namespace, _, name = repo.rpartition("/")
    if not name:
        return None
    revision = item.properties.get("revision")
    if not isinstance(revision, str):
        revision = item.version
    version = revision.lower() if revision and _COMMIT.match(revision.lower()) else None
    return PackageURL(type="huggingface", namespace=namespace or None, name=name, version=version)


def _ecosystem_purl(item: Item, ecosystem: str, name: str) -> PackageURL:
    namespace: str | None = None
    if ecosystem in {"npm", "golang"} and "/" in name:
        namespace, _, name = name.rpartition("/")
    if ecosystem == "pypi":
        name = re.sub(r"[-_.]+", "-", name).lower()
    return PackageURL(
        type=ecosystem, namespace=namespace, name=name, version=_bare_version(item.version)
    )


def _oci_purl(item: Item) -> PackageURL | None:
    reference = (
        item.identity.partition("/")[2]
        if item.identity.startswith(("oci/", "docker/"))
        else item.identity
    )
    reference, _, digest = reference.partition("@")
    last = reference.rsplit("/", 1)[-1]
    path, tag = reference.rsplit(":", 1) if ":" in last else (reference, None)
    if not path:
        return None
    tag = tag or (item.version if item.version and not item.version.startswith("sha256:") else None)
    digest = digest or (item.version if item.version and item.version.startswith("sha256:") else "")
    first = path.split("/", 1)[0]
    has_registry = "/" in path and ("." in first or ":" in first or first == "localhost")
    repository = path if has_registry else f"docker.io/{path if '/' in path else 'library/' + path}"
    qualifiers = {"repository_url": repository.lower()}
    if tag:
        qualifiers["tag"] = tag
    name = path.rsplit("/", 1)[-1].lower()
    return PackageURL(type="oci", name=name, version=digest or None, qualifiers=qualifiers)


def package_url(item: Item) -> str | None:
    """The purl of the item when its identity names one (versions only when pinned)."""
    prefix, _, rest = item.identity.partition("/")
    purl: PackageURL | None = None
    if item.kind is ItemKind.MODEL and prefix == "hf":
        purl = _hub_purl(item)
    elif item.kind in {ItemKind.PACKAGE, ItemKind.FRAMEWORK} and prefix in _ECOSYSTEMS and rest:
        purl = _ecosystem_purl(item, _ECOSYSTEMS[prefix], rest)
    elif item.kind is ItemKind.CONTAINER:
        purl = _oci_purl(item)
    return purl.to_string() if purl else None


def _clean_url(raw: str) -> str | None:
    """An http(s)/ws(s) URL without credentials, query or fragment (they may hold keys)."""
    try:
        parts = urlsplit(raw.strip())
        host = parts.hostname
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in {"http", "https", "ws", "wss"} or not host:
        return None
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc = f"{netloc}:{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def endpoints(item: Item) -> list[str]:
    """Base URLs of a service or MCP server, cleaned of credentials, sorted, unique."""
    raw: list[Any] = []
    if item.identity.startswith("url/"):
        raw.append(item.identity[4:])
    for key in _URL_KEYS:
        value = item.properties.get(key)
        raw.extend(value if isinstance(value, list) else [value])
    found = {url for value in raw if isinstance(value, str) and (url := _clean_url(value))}
    return sorted(found)


def is_local(url: str) -> bool:
    """Whether a URL points at this machine (so calling it crosses no trust boundary)."""
    host = urlsplit(url).hostname or ""
    return host in _LOCAL_HOSTS or host.endswith(".localhost")


def dataset_url(item: Item) -> str | None:
    """Where a dataset can be fetched: a hub page or a declared URL."""
    if item.identity.startswith("hf/"):
        return f"https://huggingface.co/datasets/{item.identity[3:]}"
    urls = endpoints(item)
    return urls[0] if urls else None


def scrub(text: str) -> str:
    """Text with URL user info, queries and fragments removed (they may carry keys)."""
    return _URL_TAIL.sub(r"\1", _USERINFO.sub(r"\1", text))


def export_refs(inv: Inventory) -> dict[str, str]:
    """A unique, credential-free reference for each exported item, keyed by item key.

    Usually the key itself; scrubbed when it held a URL with credentials, and suffixed
    (``~2``…, in inventory order) when scrubbing made two keys equal.
    """
    refs: dict[str, str] = {}
    taken: set[str] = set()
    for item in inv.items:
        if item.kind not in EXPORTED_KINDS:
            continue
        base = scrub(item.key())
        ref, n = base, 1
        while ref in taken:
            n += 1
            ref = f"{base}~{n}"
        taken.add(ref)
        refs[item.key()] = ref
    return refs


def public_properties(item: Item) -> list[tuple[str, str]]:
    """Properties safe to publish: scalars (lists joined), credential-like names dropped."""
    out: list[tuple[str, str]] = []
    for key in sorted(item.properties):
        value = item.properties[key]
        if is_sensitive_key(key):
            continue
        if isinstance(value, list) and all(isinstance(v, str | int | float | bool) for v in value):
            text = ", ".join(str(v) for v in value)
        elif isinstance(value, str | int | float | bool):
            text = str(value).lower() if isinstance(value, bool) else str(value)
        else:
            continue
        if text:
            out.append((key, scrub(text)[:_MAX_TEXT]))
    return out


def related_services(model: Item, services: list[Item]) -> list[Item]:
    """Services a model is served by: named in ``service`` or sharing its ``provider``."""
    named = model.properties.get("service")
    provider = model.properties.get("provider")
    if provider is None and model.identity.count("/") == 1 and not model.identity.startswith("hf/"):
        provider = model.identity.split("/", 1)[0]  # ``openai/gpt-4o-mini``: provider/model
    return [
        s
        for s in services
        if (named is not None and named in {s.identity, s.key()})
        or (provider is not None and provider == s.properties.get("provider", s.identity))
    ]


def secret_count(inv: Inventory) -> int:
    """How many secrets were found: the only thing a BOM says about them."""
    return len(inv.by_kind(ItemKind.SECRET))
