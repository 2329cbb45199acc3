"""AI use in Python source: frameworks, AI services, model identifiers and secrets.

The source is parsed with :mod:`ast`; nothing is imported or executed. What is reported:

* ``FRAMEWORK`` ``pypi/<distribution>`` for each AI/ML library imported (the import name
  mapped to its distribution: ``sklearn`` -> ``pypi/scikit-learn``). ``boto3`` only counts
  when the file creates a Bedrock or SageMaker runtime client.
* ``SERVICE`` ``service/<provider>`` where a client is built or a hosted API is called
  (``openai.OpenAI()``, ``boto3.client("bedrock-runtime")``, ``ChatAnthropic(...)``,
  ``litellm.completion(...)``); ``service/url/<url>`` for a custom endpoint
  (``base_url=``, ``azure_endpoint=``, ``api_base=``, ``os.environ["OPENAI_BASE_URL"] = …``).
* ``MODEL`` ``<provider>/<model id>`` named in those calls (``openai/gpt-4o-mini``,
  ``aws-bedrock/anthropic.claude-3-haiku-20240307-v1:0``, ``hf/org/name``), or
  ``path/<path>`` for a local folder given to ``from_pretrained`` and the like.
* ``DATASET`` ``hf/<id>`` for ``load_dataset("id")`` and dataset downloads from the Hub.
* ``SECRET`` through :mod:`tutela.inventory.secrets`.

Values are found by simple constant propagation: string literals assigned at module,
class or function level, ``self.x = "…"`` in methods, literal dicts (``CONFIG["model"]``),
f-strings and ``+`` of constants, ``os.getenv("X", "default")`` (the default, with
``properties["from_env"] = "X"``), and constants imported from other modules of the same
project. For the last, run :func:`collect_constants` over every ``.py`` file first and
pass the result to ``PythonDetector(project_constants=...)``: a mapping from the dotted
module name (:func:`module_name` of the file's path, ``src/app/config.py`` ->
``src.app.config``) to ``{"NAME": "value", "Settings.model": "value", "CONFIG.model":
"value"}``. An absolute import ``from config import X`` is matched to the module whose
name is ``config`` or ends with ``.config``, preferring the one nearest the importer.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from tutela.inventory.catalog import AI_IMPORTS
from tutela.inventory.interface import (
    Confidence,
    FileInput,
    Finding,
    ItemKind,
    Location,
    Problem,
)
from tutela.inventory.python_tables import (
    AGENTS_NAMES,
    API_TABLES,
    BOTO_CLIENTS,
    BOTO_SERVICES,
    CONSTRUCTORS,
    DATASET_BUILDERS,
    DISTINCT_APIS,
    GOOGLE,
    HF_ID,
    HF_LIBS,
    HF_LOADERS,
    HOST_SUFFIXES,
    IMPORT_SDK,
    LANGCHAIN,
    LC_MODEL,
    LLAMA_INDEX,
    LOCAL_PROVIDERS,
    MODEL_TEXT,
    MODULE_URL_ATTRS,
    NAME_HINTS,
    OPENAI_APIS,
    OPENAI_URL,
    PREFIX_PROVIDERS,
    PUBLIC_HOSTS,
    ROUTED,
    SDK_PROVIDER,
    SECRET_KWS,
    URL_ENV,
    Ctor,
)
from tutela.inventory.secrets import find_secrets, fingerprint_of, secret_from_literal

__all__ = [
    "DETECTOR_ID",
    "MAX_SOURCE_BYTES",
    "CodeAnalysis",
    "PythonDetector",
    "collect_constants",
    "module_name",
    "parse_python",
]

DETECTOR_ID = "discover.python"
MAX_SOURCE_BYTES = 2 * 1024 * 1024
_MAX_NODES = 500_000  # bounds analysis time on generated code
_MAX_DEPTH = 40  # expression depth followed when resolving a value


# --------------------------------------------------------------------------- values


@dataclass(frozen=True, slots=True)
class _Const:
    value: str
    from_env: str | None = None


@dataclass(frozen=True, slots=True)
class _Client:
    provider: str  # provider of the models it serves
    sdk: str  # API table key
    service: str  # service identity
    label: str  # the constructor, for messages


@dataclass(slots=True)
class _Scope:
    consts: dict[str, _Const] = field(default_factory=dict)
    objs: dict[str, _Client | str] = field(default_factory=dict)  # str: "pkg.Class()"
    parent: _Scope | None = None

    def const(self, key: str) -> _Const | None:
        scope: _Scope | None = self
        while scope is not None:
            if key in scope.consts:
                return scope.consts[key]
            scope = scope.parent
        return None

    def obj(self, key: str) -> _Client | str | None:
        scope: _Scope | None = self
        while scope is not None:
            if key in scope.objs:
                return scope.objs[key]
            scope = scope.parent
        return None


def module_name(rel: str) -> str:
    """Dotted module name of a project file: ``src/app/config.py`` -> ``src.app.config``."""
    stem = rel.rsplit(".", 1)[0] if rel.endswith((".py", ".pyi")) else rel
    parts = [p for p in stem.split("/") if p]
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def normalise_url(raw: str) -> str | None:
    """Scheme, host, port and path of an http(s) URL; credentials and query dropped."""
    try:
        parts = urlsplit(raw.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    scheme = parts.scheme.lower()
    default = (scheme == "http" and port == 80) or (scheme == "https" and port == 443)
    netloc = parts.hostname.lower() + (f":{port}" if port and not default else "")
    return f"{scheme}://{netloc}{parts.path.rstrip('/')}"


def _host_provider(url: str) -> tuple[str | None, bool]:
    """(provider, whether the host is the provider's shared public endpoint)."""
    host = urlsplit(url).hostname or ""
    if host in PUBLIC_HOSTS:
        return PUBLIC_HOSTS[host], True
    for suffix, provider in HOST_SUFFIXES:
        if host.endswith(suffix):
            return provider, False
    if urlsplit(url).port == 11434:
        return "ollama", False
    return None, False


def _provider_from_name(model: str) -> str | None:
    low = model.lower()
    for prefixes, provider in NAME_HINTS:
        if low.startswith(prefixes):
            return provider
    return None


def _dotted(node: ast.expr) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def _arg(call: ast.Call, kws: Sequence[str], pos: int | None) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg in kws:
            return keyword.value
    if pos is not None and len(call.args) > pos and not isinstance(call.args[pos], ast.Starred):
        return call.args[pos]
    return None


def _has_kw(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _distribution(module: str, names: Sequence[str]) -> str | None:
    for prefix, dist in GOOGLE.items():
        if module == prefix or module.startswith(prefix + "."):
            return dist
    parts = module.split(".")
    root = parts[0]
    if root == "llama_index":
        if len(parts) == 1:
            return "llama-index"
        if parts[1] == "core" or len(parts) == 2:
            return "llama-index-" + parts[1].replace("_", "-")
        return f"llama-index-{parts[1]}-{parts[2]}".replace("_", "-")
    if root.startswith("langchain_") or root.startswith("autogen_"):
        return root.replace("_", "-")
    if root == "agents":
        return "openai-agents" if (set(names) & AGENTS_NAMES) else None
    return AI_IMPORTS.get(root)


# --------------------------------------------------------------------------- parsing


def parse_python(source: str | bytes, rel: str) -> ast.Module | Problem:
    """Parse without executing; every failure becomes a ``Problem`` naming the line."""
    try:
        return ast.parse(source, filename=rel)
    except SyntaxError as exc:
        where = f"line {exc.lineno}: " if exc.lineno else ""
        return Problem(rel, f"{where}not valid Python ({exc.msg})")
    except (RecursionError, MemoryError):
        # CPython's parser raises MemoryError when its own stack of nested rules overflows
        return Problem(rel, "too deeply nested to parse")
    except ValueError as exc:
        return Problem(rel, f"not parseable as Python ({type(exc).__name__}: {exc})"[:200])


def _too_big(file: FileInput) -> Problem | None:
    if file.truncated or file.size > MAX_SOURCE_BYTES:
        return Problem(file.rel, f"skipped: {file.size} bytes is over the {MAX_SOURCE_BYTES} limit")
    return None


# --------------------------------------------------------------------------- analysis

Place = Callable[[int | None], tuple[int | None, dict[str, Any]]]


def _same_place(line: int | None) -> tuple[int | None, dict[str, Any]]:
    return line, {}


class CodeAnalysis:
    """The analysis of one module, possibly in several chunks (notebook cells).

    Call :meth:`prepare` on every chunk first (imports and module constants are shared,
    as a notebook's cells share a namespace), then :meth:`analyse` on each.
    """

    def __init__(
        self,
        rel: str,
        *,
        project_constants: Mapping[str, Mapping[str, str]] | None = None,
        detector: str = DETECTOR_ID,
        module: str | None = None,
        project_index: Mapping[str, list[str]] | None = None,
    ) -> None:
        self.rel = rel
        self._index = project_index
        self.module = module if module is not None else module_name(rel)
        self.detector = detector
        self._project = project_constants or {}
        self._aliases: dict[str, str] = {}  # local name -> qualified name
        self._imported_roots: list[str] = []
        self._frameworks: dict[str, tuple[str, int, dict[str, Any]]] = {}
        self._boto_import: tuple[int, dict[str, Any]] | None = None
        self._boto_ai = False
        self.globals = _Scope()
        self.findings: list[Finding] = []
        self._seen: set[tuple[str, str, int | None, str]] = set()
        self._services: set[str] = set()
        self._place: Place = _same_place
        self._nodes = 0

    # ---- pass 1: imports and module-level constants

    def prepare(self, tree: ast.Module, place: Place = _same_place) -> None:
        for stmt in self._module_statements(tree.body):
            if isinstance(stmt, ast.Import | ast.ImportFrom):
                self._import(stmt, place)
            elif isinstance(stmt, ast.Assign | ast.AnnAssign):
                self._assign(stmt, self.globals, emit=False)
            elif isinstance(stmt, ast.ClassDef):
                self._class_constants(stmt, self.globals, stmt.name)

    def _module_statements(self, body: list[ast.stmt]) -> Iterator[ast.stmt]:
        """Top-level statements, looking into module-level if/try/with blocks."""
        stack = list(reversed(body))
        while stack:
            stmt = stack.pop()
            yield stmt
            if isinstance(stmt, ast.If | ast.Try | ast.With):
                blocks: list[list[ast.stmt]] = [stmt.body]
                if isinstance(stmt, ast.If | ast.Try):
                    blocks.append(stmt.orelse)
                if isinstance(stmt, ast.Try):
                    blocks.extend(h.body for h in stmt.handlers)
                    blocks.append(stmt.finalbody)
                for block in reversed(blocks):
                    stack.extend(reversed(block))

    def _import(self, stmt: ast.Import | ast.ImportFrom, place: Place) -> None:
        line, props = place(stmt.lineno)
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.asname:
                    self._aliases[alias.asname] = alias.name
                else:
                    head = alias.name.split(".")[0]
                    self._aliases[head] = head
                self._note_framework(alias.name, (), line, props)
            return
        names = [a.name for a in stmt.names]
        if stmt.level:
            base = self._relative_base(stmt.level)
            module = ".".join(p for p in (base, stmt.module or "") if p)
        else:
            module = stmt.module or ""
            self._note_framework(module, names, line, props)
        for alias in stmt.names:
            if alias.name != "*":
                self._aliases[alias.asname or alias.name] = f"{module}.{alias.name}"

    def _relative_base(self, level: int) -> str:
        parts = self.module.split(".") if self.module else []
        is_package = self.rel.endswith(("__init__.py", "__init__.pyi"))
        keep = len(parts) - level + (1 if is_package else 0)
        return ".".join(parts[: max(keep, 0)])

    def _note_framework(
        self, module: str, names: Sequence[str], line: int | None, props: dict[str, Any]
    ) -> None:
        if not module:
            return
        dist = _distribution(module, names)
        if dist is None:
            # ``from google import genai``: the imported name completes the module
            for name in names:
                dist = _distribution(f"{module}.{name}", ())
                if dist is not None:
                    module = f"{module}.{name}"
                    break
        root = module.split(".")[0]
        for candidate in (module, ".".join(module.split(".")[:2]), root):
            if candidate in IMPORT_SDK and candidate not in self._imported_roots:
                self._imported_roots.append(candidate)
        if dist == "boto3" or (dist is None and root == "boto3"):
            if self._boto_import is None:
                self._boto_import = (line or 0, props)
            return
        if dist is not None and dist not in self._frameworks:
            self._frameworks[dist] = (module, line or 0, props)

    def _class_constants(self, cls: ast.ClassDef, scope: _Scope, prefix: str) -> None:
        """Class attributes as ``Cls.attr`` and ``self.attr`` literals set in methods."""
        for stmt in cls.body:
            if isinstance(stmt, ast.Assign | ast.AnnAssign):
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                value = stmt.value
                if value is None:
                    continue
                for target in targets:
                    if isinstance(target, ast.Name):
                        self._bind(f"{prefix}.{target.id}", value, scope, scope, emit=False)

    def _self_attributes(self, cls: ast.ClassDef, scope: _Scope) -> _Scope:
        inner = _Scope(parent=scope)
        for stmt in cls.body:
            if isinstance(stmt, ast.Assign | ast.AnnAssign) and stmt.value is not None:
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                for target in targets:
                    if isinstance(target, ast.Name):
                        self._bind(target.id, stmt.value, inner, inner, emit=False)
        for method in cls.body:
            if not isinstance(method, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(method):
                if isinstance(node, ast.Assign) and len(node.targets) == 1:
                    target = node.targets[0]
                    dotted = _dotted(target) if isinstance(target, ast.Attribute) else None
                    if dotted and dotted.startswith("self.") and dotted.count(".") == 1:
                        self._bind(dotted, node.value, inner, scope, emit=False)
        return inner

    # ---- pass 2: statements in order

    def analyse(self, tree: ast.Module, place: Place = _same_place) -> None:
        self._place = place
        self._block(tree.body, self.globals)
        self._finish_frameworks()

    def _block(self, body: list[ast.stmt], scope: _Scope) -> None:
        for stmt in body:
            self._statement(stmt, scope)

    def _statement(self, stmt: ast.stmt, scope: _Scope) -> None:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            defaults = [d for d in stmt.args.kw_defaults if d is not None]
            for expr in [*stmt.decorator_list, *stmt.args.defaults, *defaults]:
                self._expressions(expr, scope)
            inner = _Scope(parent=scope)
            self._parameters(stmt.args, inner)
            self._block(stmt.body, inner)
            return
        if isinstance(stmt, ast.ClassDef):
            for expr in [*stmt.decorator_list, *stmt.bases]:
                self._expressions(expr, scope)
            self._class_constants(stmt, scope, stmt.name)
            self._block(stmt.body, self._self_attributes(stmt, scope))
            return
        if isinstance(stmt, ast.Import | ast.ImportFrom):
            if scope is not self.globals:
                self._import(stmt, self._place)
            return
        headers: list[ast.AST] = []
        blocks: list[list[ast.stmt]] = []
        if isinstance(stmt, ast.If | ast.While):
            headers, blocks = [stmt.test], [stmt.body, stmt.orelse]
        elif isinstance(stmt, ast.For | ast.AsyncFor):
            headers, blocks = [stmt.iter], [stmt.body, stmt.orelse]
        elif isinstance(stmt, ast.With | ast.AsyncWith):
            headers = [item.context_expr for item in stmt.items]
            blocks = [stmt.body]
            for item in stmt.items:
                if isinstance(item.optional_vars, ast.Name):
                    self._bind(item.optional_vars.id, item.context_expr, scope, scope, False)
        elif isinstance(stmt, ast.Try | ast.TryStar):
            blocks = [stmt.body, *(h.body for h in stmt.handlers), stmt.orelse, stmt.finalbody]
        elif isinstance(stmt, ast.Match):
            headers, blocks = [stmt.subject], [c.body for c in stmt.cases]
        else:
            self._expressions(stmt, scope)
            if isinstance(stmt, ast.Assign | ast.AnnAssign):
                self._assign(stmt, scope, emit=True)
            return
        for header in headers:
            self._expressions(header, scope)
        for block in blocks:
            self._block(block, scope)

    def _parameters(self, args: ast.arguments, scope: _Scope) -> None:
        """Parameters annotated with a client class are clients of that provider."""
        for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
            if arg.annotation is None:
                continue
            qualified = self._qualified(arg.annotation)
            ctor = CONSTRUCTORS.get(qualified or "")
            if ctor is not None and ctor.sdk != "none":
                scope.objs[arg.arg] = _Client(
                    ctor.provider, ctor.sdk, f"service/{ctor.provider}", qualified or ""
                )

    def _expressions(self, root: ast.AST, scope: _Scope) -> None:
        for node in ast.walk(root):
            self._nodes += 1
            if self._nodes > _MAX_NODES:
                raise _TooComplex
            if isinstance(node, ast.Call):
                self._call(node, scope)

    # ---- assignments

    def _assign(self, stmt: ast.Assign | ast.AnnAssign, scope: _Scope, *, emit: bool) -> None:
        value = stmt.value
        if value is None:
            return
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        for target in targets:
            if emit:
                self._special_target(target, value, scope)
            key = _dotted(target) if isinstance(target, ast.Name | ast.Attribute) else None
            if key is not None:
                self._bind(key, value, scope, scope, emit)

    def _bind(self, key: str, value: ast.expr, into: _Scope, scope: _Scope, emit: bool) -> None:
        const = self._resolve(value, scope)
        if const is not None:
            into.consts[key] = const
            into.objs.pop(key, None)
            return
        into.consts.pop(key, None)
        if isinstance(value, ast.Dict):
            self._bind_dict(key, value, into, scope, 0)
            return
        if isinstance(value, ast.Call):
            obj = self._object_of_call(value, scope)
            if obj is not None:
                into.objs[key] = obj
                if isinstance(obj, str) and obj.endswith("()"):
                    self._copy_instance(key, obj[:-2], into, scope)
                return
        alias = self._object(value, scope)
        if alias is not None:
            into.objs[key] = alias
        else:
            into.objs.pop(key, None)

    def _bind_dict(self, key: str, node: ast.Dict, into: _Scope, scope: _Scope, depth: int) -> None:
        if depth > 5:
            return
        for k, v in zip(node.keys, node.values, strict=True):
            if isinstance(k, ast.Constant) and isinstance(k.value, str):
                if isinstance(v, ast.Dict):
                    self._bind_dict(f"{key}.{k.value}", v, into, scope, depth + 1)
                else:
                    const = self._resolve(v, scope)
                    if const is not None:
                        into.consts[f"{key}.{k.value}"] = const

    def _copy_instance(self, key: str, cls: str, into: _Scope, scope: _Scope) -> None:
        """``settings = Settings()``: the instance sees the class attributes."""
        found: dict[str, _Const] = {}
        prefix = cls + "."
        s: _Scope | None = scope
        while s is not None:
            for name, const in s.consts.items():
                if name.startswith(prefix):
                    found.setdefault(name[len(prefix) :], const)
            s = s.parent
        if not found and "." in cls:
            module, _, cls_name = cls.rpartition(".")
            for name, value in self._module_constants(module).items():
                if name.startswith(cls_name + "."):
                    found[name[len(cls_name) + 1 :]] = _Const(value)
        for attr, const in found.items():
            into.consts[f"{key}.{attr}"] = const

    def _special_target(self, target: ast.expr, value: ast.expr, scope: _Scope) -> None:
        """``os.environ["OPENAI_BASE_URL"] = …``, ``openai.api_base = …``, ``openai.api_key``."""
        line = target.lineno
        if isinstance(target, ast.Subscript) and self._qualified(target.value) == "os.environ":
            name = self._resolve(target.slice, scope)
            if name is not None and name.value in URL_ENV:
                const = self._resolve(value, scope)
                if const is not None:
                    provider, sdk = URL_ENV[name.value]
                    self._url_service(const.value, provider, sdk, line, {"env": name.value})
            return
        qualified = self._qualified(target) if isinstance(target, ast.Attribute) else None
        if qualified in MODULE_URL_ATTRS:
            const = self._resolve(value, scope)
            if const is not None:
                self._url_service(const.value, "openai", "openai", line, {})
        elif qualified is not None and qualified.endswith(".api_key"):
            root = qualified.split(".")[0]
            if root in ("openai", "anthropic", "cohere", "groq", "mistralai"):
                self._secret(value, scope, line, SDK_PROVIDER.get(root, root))

    # ---- values

    def _qualified(self, node: ast.expr) -> str | None:
        dotted = _dotted(node)
        if dotted is None:
            return None
        head, _, rest = dotted.partition(".")
        if head in self._aliases:
            base = self._aliases[head]
            return f"{base}.{rest}" if rest else base
        return None

    def _object(self, node: ast.expr, scope: _Scope) -> _Client | str | None:
        if isinstance(node, ast.Call):
            return self._object_of_call(node, scope)
        dotted = _dotted(node)
        if dotted is None:
            return None
        found = scope.obj(dotted)
        if found is not None:
            return found
        parts = dotted.split(".")
        for i in range(len(parts) - 1, 0, -1):
            base = scope.obj(".".join(parts[:i]))
            if isinstance(base, str):
                return base + "." + ".".join(parts[i:])
            if base is not None:
                return None
        return self._qualified(node)

    def _callee(self, call: ast.Call, scope: _Scope) -> tuple[_Client | None, str, str | None]:
        """(client receiver, method chain on it, fully qualified callee name)."""
        node = call.func
        attrs: list[str] = []
        while isinstance(node, ast.Attribute):
            dotted = _dotted(node)
            obj = scope.obj(dotted) if dotted else None
            if isinstance(obj, _Client):
                return obj, ".".join(reversed(attrs)), None
            if isinstance(obj, str):
                chain = ".".join(reversed(attrs))
                return None, chain, f"{obj}.{chain}" if chain else obj
            attrs.append(node.attr)
            node = node.value
        chain = ".".join(reversed(attrs))
        if isinstance(node, ast.Call):
            inner = self._object_of_call(node, scope)
            if isinstance(inner, _Client):
                return inner, chain, None
            if isinstance(inner, str):
                return None, chain, f"{inner}.{chain}" if chain else inner
            return None, chain, None
        if isinstance(node, ast.Name):
            obj = scope.obj(node.id)
            if isinstance(obj, _Client):
                return obj, chain, None
            # a name neither bound nor imported stands for itself (a local class)
            base = obj if isinstance(obj, str) else self._aliases.get(node.id, node.id)
            return None, chain, f"{base}.{chain}" if chain else base
        return None, chain, None

    def _object_of_call(self, call: ast.Call, scope: _Scope) -> _Client | str | None:
        client, _, qualified = self._callee(call, scope)
        if client is not None:
            return None
        if qualified is None:
            return None
        made = self._client_of(qualified, call, scope)
        if made is not None:
            return made[0]
        if qualified.startswith("instructor.") and call.args:
            wrapped = self._object(call.args[0], scope)
            return wrapped if isinstance(wrapped, _Client) else None
        return qualified + "()"

    def _client_of(
        self, qualified: str, call: ast.Call, scope: _Scope
    ) -> tuple[_Client, Ctor, dict[str, Any]] | None:
        """The client a constructor call makes, its table entry and service properties."""
        ctor = CONSTRUCTORS.get(qualified)
        if ctor is None:
            ctor = self._integration(qualified)
        if ctor is None and qualified in BOTO_CLIENTS:
            name = self._resolve(_arg(call, ("service_name",), 0) or ast.Constant(None), scope)
            if name is None or name.value not in BOTO_SERVICES:
                return None
            provider, sdk = BOTO_SERVICES[name.value]
            ctor = Ctor(provider, sdk, url_kws=("endpoint_url",))
        if ctor is None:
            return None
        provider = ctor.provider
        if qualified == "google.genai.Client":
            vertex = _has_kw(call, "vertexai")
            if isinstance(vertex, ast.Constant) and vertex.value is True:
                provider = "google-vertexai"
        props: dict[str, Any] = {"provider": provider, "provider_sdk": qualified.split(".")[0]}
        service = f"service/{provider}"
        url_node = _arg(call, ctor.url_kws, None) if ctor.url_kws else None
        const = self._resolve(url_node, scope) if url_node is not None else None
        url = normalise_url(const.value) if const is not None else None
        model_provider = provider
        if url is not None:
            host_provider, public = _host_provider(url)
            props["base_url"] = url
            if public and host_provider is not None:
                service, model_provider = f"service/{host_provider}", host_provider
                props["provider"] = host_provider
            else:
                service = f"service/url/{url}"
                if provider in ("openai",) and host_provider not in ("azure-openai", "ollama"):
                    model_provider = host_provider or "openai-compatible"
                elif host_provider in ("azure-openai", "ollama"):
                    model_provider = host_provider
                props["provider"] = model_provider
        client = _Client(model_provider, ctor.sdk, service, qualified.rsplit(".", 1)[-1])
        return client, ctor, props

    def _integration(self, qualified: str) -> Ctor | None:
        parts = qualified.split(".")
        if parts[0].startswith("langchain") and parts[-1] in LANGCHAIN:
            return Ctor(LANGCHAIN[parts[-1]], "none", LC_MODEL, None, OPENAI_URL)
        if parts[0] == "llama_index" and len(parts) >= 4 and parts[1] in ("llms", "embeddings"):
            provider = LLAMA_INDEX.get(parts[2])
            if provider is not None:
                return Ctor(provider, "none", ("model", "model_name"), None, OPENAI_URL)
        return None

    def _resolve(self, node: ast.expr | None, scope: _Scope, depth: int = 0) -> _Const | None:
        """The string a expression certainly evaluates to, when it is made of constants."""
        if node is None or depth > _MAX_DEPTH:
            return None
        if isinstance(node, ast.Constant):
            return _Const(node.value) if isinstance(node.value, str) else None
        if isinstance(node, ast.Name | ast.Attribute):
            dotted = _dotted(node)
            if dotted is None:
                return None
            found = scope.const(dotted)
            if found is not None:
                return found
            obj = scope.obj(dotted.split(".")[0])
            if isinstance(obj, str) and "." in dotted:
                attr = dotted.split(".", 1)[1]
                return self._project_value(obj.removesuffix("()") + "." + attr)
            qualified = self._qualified(node)
            return self._project_value(qualified) if qualified else None
        if isinstance(node, ast.Subscript):
            key = self._resolve(node.slice, scope, depth + 1)
            base = _dotted(node.value) if isinstance(node.value, ast.Name | ast.Attribute) else None
            if key is None:
                return None
            if base is None and isinstance(node.value, ast.Subscript):
                inner = self._subscript_key(node.value, scope, depth + 1)
                base = inner
            if base is None:
                return None
            return self._resolve_key(f"{base}.{key.value}", scope)
        if isinstance(node, ast.JoinedStr):
            return self._fstring(node, scope, depth)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left = self._resolve(node.left, scope, depth + 1)
            right = self._resolve(node.right, scope, depth + 1)
            if left is None or right is None:
                return None
            return _Const(left.value + right.value, left.from_env or right.from_env)
        if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
            env: str | None = None
            for value in node.values:
                env = env or self._env_name(value, scope)
                found = self._resolve(value, scope, depth + 1)
                if found is not None:
                    return _Const(found.value, found.from_env or env)
            return None
        if isinstance(node, ast.Call):
            return self._call_value(node, scope, depth)
        return None

    def _subscript_key(self, node: ast.Subscript, scope: _Scope, depth: int) -> str | None:
        if depth > _MAX_DEPTH:
            return None
        key = self._resolve(node.slice, scope, depth + 1)
        if key is None:
            return None
        if isinstance(node.value, ast.Name | ast.Attribute):
            base = _dotted(node.value)
        elif isinstance(node.value, ast.Subscript):
            base = self._subscript_key(node.value, scope, depth + 1)
        else:
            base = None
        return f"{base}.{key.value}" if base else None

    def _resolve_key(self, key: str, scope: _Scope) -> _Const | None:
        found = scope.const(key)
        if found is not None:
            return found
        head, _, rest = key.partition(".")
        if head in self._aliases:
            return self._project_value(f"{self._aliases[head]}.{rest}")
        return None

    def _fstring(self, node: ast.JoinedStr, scope: _Scope, depth: int) -> _Const | None:
        text: list[str] = []
        env: str | None = None
        for part in node.values:
            if isinstance(part, ast.Constant) and isinstance(part.value, str):
                text.append(part.value)
            elif isinstance(part, ast.FormattedValue) and part.format_spec is None:
                found = self._resolve(part.value, scope, depth + 1)
                if found is None:
                    return None
                text.append(found.value)
                env = env or found.from_env
            else:
                return None
        return _Const("".join(text), env)

    def _env_name(self, node: ast.expr, scope: _Scope) -> str | None:
        if isinstance(node, ast.Call) and self._qualified(node.func) in (
            "os.getenv",
            "os.environ.get",
        ):
            name = self._resolve(_arg(node, ("key",), 0), scope)
            return name.value if name else None
        if isinstance(node, ast.Subscript) and self._qualified(node.value) == "os.environ":
            name = self._resolve(node.slice, scope)
            return name.value if name else None
        return None

    def _call_value(self, node: ast.Call, scope: _Scope, depth: int) -> _Const | None:
        qualified = self._qualified(node.func)
        if qualified in ("os.getenv", "os.environ.get", "os.environ.setdefault"):
            name = self._resolve(_arg(node, ("key",), 0), scope, depth + 1)
            default = self._resolve(_arg(node, ("default", "value"), 1), scope, depth + 1)
            if default is None:
                return None
            return _Const(default.value, name.value if name else None)
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "get" and node.args:
            base = _dotted(func.value)
            key = self._resolve(node.args[0], scope, depth + 1)
            if base is not None and key is not None:
                found = self._resolve_key(f"{base}.{key.value}", scope)
                if found is not None:
                    return found
                if len(node.args) > 1:
                    return self._resolve(node.args[1], scope, depth + 1)
        return None

    # ---- constants of other modules

    def _project_value(self, qualified: str) -> _Const | None:
        parts = qualified.split(".")
        for i in range(len(parts) - 1, 0, -1):
            consts = self._module_constants(".".join(parts[:i]))
            value = consts.get(".".join(parts[i:]))
            if value is not None:
                return _Const(value)
        return None

    def _module_constants(self, module: str) -> Mapping[str, str]:
        if not module or not self._project:
            return {}
        if module in self._project:
            return self._project[module]
        suffix = "." + module
        package = self.module.rsplit(".", 1)[0] if "." in self.module else ""
        best: tuple[int, str] | None = None
        if self._index is not None:
            candidates = self._index.get(suffix, [])
        else:
            candidates = [k for k in self._project if k.endswith(suffix)]
        for key in candidates:
            prefix = key[: -len(suffix)]
            nearer = best is None or len(prefix) > best[0]
            if nearer and (package == prefix or package.startswith(prefix + ".")):
                best = (len(prefix), key)
        if best is not None:
            return self._project[best[1]]
        return self._project[candidates[0]] if len(candidates) == 1 else {}

    # ---- calls

    def _call(self, call: ast.Call, scope: _Scope) -> None:
        client, chain, qualified = self._callee(call, scope)
        if client is not None:
            self._api_call(client, chain, call, scope)
            return
        if qualified is not None:
            made = self._client_of(qualified, call, scope)
            if made is not None:
                self._construction(qualified, call, scope, *made)
                return
            if self._routed(qualified, call, scope) or self._module_api(qualified, call, scope):
                return
            if self._hf(qualified, call, scope):
                return
        self._unknown_receiver(chain, call, scope)

    def _construction(
        self,
        qualified: str,
        call: ast.Call,
        scope: _Scope,
        client: _Client,
        ctor: Ctor,
        props: dict[str, Any],
    ) -> None:
        if qualified in BOTO_CLIENTS:
            self._boto_ai = True
        if client.provider not in LOCAL_PROVIDERS:
            self._service(client.service, call.lineno, props)
        if ctor.model_kws or ctor.model_pos is not None:
            node = _arg(call, ctor.model_kws, ctor.model_pos)
            const = self._resolve(node, scope)
            if const is not None:
                label = qualified.rsplit(".", 1)[-1]
                self._model(client.provider, const, call.lineno, label, client.service)
        for keyword in call.keywords:
            if keyword.arg in SECRET_KWS:
                self._secret(keyword.value, scope, call.lineno, client.provider)
        if ctor.key_pos is not None and len(call.args) > ctor.key_pos:
            self._secret(call.args[ctor.key_pos], scope, call.lineno, client.provider)

    def _api_call(self, client: _Client, chain: str, call: ast.Call, scope: _Scope) -> None:
        entry = API_TABLES.get(client.sdk, {}).get(chain)
        if entry is None:
            return
        const = self._resolve(_arg(call, entry[0], entry[1]), scope)
        if const is None:
            return
        if client.sdk == "replicate":
            self._replicate(const, call.lineno)
            return
        self._model(client.provider, const, call.lineno, chain, client.service)

    def _module_api(self, qualified: str, call: ast.Call, scope: _Scope) -> bool:
        """Module-level API functions: ``openai.chat.completions.create``, ``ollama.chat``."""
        root, _, chain = qualified.partition(".")
        if root == "openai" and (
            chain in OPENAI_APIS
            or chain in ("ChatCompletion.create", "Completion.create", "Embedding.create")
        ):
            client = _Client("openai", "openai", "service/openai", "openai")
            self._service(client.service, call.lineno, {"provider": "openai"})
            node = _arg(call, ("model", "engine"), None)
            const = self._resolve(node, scope)
            if const is not None:
                self._model("openai", const, call.lineno, chain, client.service)
            return True
        if root == "ollama" and chain in API_TABLES["ollama"]:
            self._service("service/ollama", call.lineno, {"provider": "ollama"})
            const = self._resolve(_arg(call, ("model",), 0), scope)
            if const is not None:
                self._model("ollama", const, call.lineno, f"ollama.{chain}", "service/ollama")
            return True
        if qualified in ("replicate.run", "replicate.stream"):
            const = self._resolve(_arg(call, ("ref",), 0), scope)
            self._service("service/replicate", call.lineno, {"provider": "replicate"})
            if const is not None:
                self._replicate(const, call.lineno)
            return True
        if qualified in ("os.environ.setdefault", "os.putenv"):
            name = self._resolve(_arg(call, ("key",), 0), scope)
            value = self._resolve(_arg(call, ("default", "value"), 1), scope)
            if name is not None and value is not None and name.value in URL_ENV:
                provider, sdk = URL_ENV[name.value]
                self._url_service(value.value, provider, sdk, call.lineno, {"env": name.value})
            return True
        if qualified == "google.generativeai.embed_content":
            const = self._resolve(_arg(call, ("model",), None), scope)
            self._service("service/google-genai", call.lineno, {"provider": "google-genai"})
            if const is not None:
                self._model(
                    "google-genai", const, call.lineno, "embed_content", "service/google-genai"
                )
            return True
        return False

    def _routed(self, qualified: str, call: ast.Call, scope: _Scope) -> bool:
        """Routers naming the provider in the model string: litellm, dspy, pydantic-ai."""
        entry = ROUTED.get(qualified)
        if entry is None:
            return False
        api, kws, pos, sep = entry
        const = self._resolve(_arg(call, kws, pos), scope)
        if const is None:
            return True
        provider, model = self._split_routed(const.value, sep, call, scope)
        if provider is None:
            return True
        url_node = _arg(call, ("api_base", "base_url"), None)
        url_const = self._resolve(url_node, scope) if url_node is not None else None
        url = normalise_url(url_const.value) if url_const else None
        if url is not None:
            service = f"service/url/{url}"
            self._service(service, call.lineno, {"provider": provider, "base_url": url})
        else:
            service = f"service/{provider}"
            self._service(service, call.lineno, {"provider": provider})
        self._model(provider, _Const(model, const.from_env), call.lineno, api, service)
        for keyword in call.keywords:
            if keyword.arg in SECRET_KWS:
                self._secret(keyword.value, scope, call.lineno, provider)
        return True

    def _split_routed(
        self, value: str, sep: str, call: ast.Call, scope: _Scope
    ) -> tuple[str | None, str]:
        explicit = self._resolve(_has_kw(call, "model_provider"), scope)
        if explicit is not None:
            return PREFIX_PROVIDERS.get(explicit.value, explicit.value), value
        for separator in dict.fromkeys((sep, "/", ":")):
            head, found, rest = value.partition(separator)
            if found and head in PREFIX_PROVIDERS and rest:
                return PREFIX_PROVIDERS[head], rest
        return _provider_from_name(value), value

    def _hf(self, qualified: str, call: ast.Call, scope: _Scope) -> bool:
        """Models and datasets loaded from the Hugging Face Hub or a local folder."""
        kind = ItemKind.MODEL
        if qualified in HF_LOADERS:
            api, kws, pos = HF_LOADERS[qualified]
            repo_type = self._resolve(_has_kw(call, "repo_type"), scope)
            if repo_type is not None and repo_type.value == "dataset":
                kind = ItemKind.DATASET
            elif repo_type is not None and repo_type.value != "model":
                return True
        elif qualified == "datasets.load_dataset":
            api, kws, pos, kind = "load_dataset", ("path",), 0, ItemKind.DATASET
        elif qualified.endswith(".from_pretrained") and qualified.split(".")[0] in HF_LIBS:
            api = ".".join(qualified.split(".")[-2:])
            kws, pos = ("pretrained_model_name_or_path", "model_id"), 0
        else:
            return False
        const = self._resolve(_arg(call, kws, pos), scope)
        if const is None:
            return True
        value = const.value
        if kind is ItemKind.DATASET and value in DATASET_BUILDERS:
            files = self._resolve(_has_kw(call, "data_files"), scope)
            if files is None:
                return True
            value = files.value
            identity: str | None = f"path/{value}"
            local = True
        else:
            identity, local = _hf_identity(value)
        if identity is None:
            return True
        revision = self._resolve(_has_kw(call, "revision"), scope)
        props: dict[str, Any] = {"provider": "path" if local else "hf", "api": api}
        if local:
            props["local"] = True
        if const.from_env:
            props["from_env"] = const.from_env
        self._emit(
            kind, identity, value, call.lineno, props, version=revision.value if revision else None
        )
        return True

    def _unknown_receiver(self, chain: str, call: ast.Call, scope: _Scope) -> None:
        """``client.chat.completions.create(...)`` where the client came from elsewhere."""
        matches: list[tuple[str, str]] = []  # (sdk, api)
        for root in self._imported_roots:
            sdk = IMPORT_SDK[root]
            api = _api_suffix(chain, sdk)
            if api is not None and (sdk, api) not in matches:
                matches.append((sdk, api))
        if not matches:
            return
        sdks = [m[0] for m in matches]
        sdk, chain = matches[0]
        entry = API_TABLES[sdk][chain]
        const = self._resolve(_arg(call, entry[0], entry[1]), scope)
        if const is None:
            return
        provider = SDK_PROVIDER[sdk]
        if len(sdks) > 1:
            provider = _provider_from_name(const.value) or provider
        if sdk == "openai":
            roots = [r for r in self._imported_roots if IMPORT_SDK[r] == "openai"]
            if len(roots) == 1 and roots[0] in ("groq", "together"):
                provider = roots[0]
        if sdk in ("bedrock", "sagemaker"):
            self._boto_ai = True
        service = f"service/{provider}"
        self._service(service, call.lineno, {"provider": provider})
        self._model(provider, const, call.lineno, chain, service)

    # ---- emitting

    def _emit(
        self,
        kind: ItemKind,
        identity: str,
        name: str,
        line: int | None,
        props: dict[str, Any],
        version: str | None = None,
    ) -> None:
        where, extra = self._place(line)
        key = (kind.value, identity, where, str(sorted(extra.items())))
        if key in self._seen:
            return
        self._seen.add(key)
        self.findings.append(
            Finding(
                kind=kind,
                identity=identity,
                name=name,
                confidence=Confidence.INFERRED,
                location=Location(self.rel, where),
                detector=self.detector,
                version=version,
                properties={**props, **extra},
            )
        )

    def _service(self, identity: str, line: int, props: dict[str, Any]) -> None:
        self._services.add(identity)
        name = identity.removeprefix("service/url/").removeprefix("service/")
        self._emit(ItemKind.SERVICE, identity, name, line, dict(props))

    def _url_service(
        self, raw: str, provider: str, sdk: str, line: int, extra: dict[str, Any]
    ) -> None:
        url = normalise_url(raw)
        if url is None:
            return
        host_provider, public = _host_provider(url)
        props: dict[str, Any] = {"provider": host_provider or provider, "provider_sdk": sdk}
        props["base_url"] = url
        props.update(extra)
        if public and host_provider is not None:
            self._service(f"service/{host_provider}", line, props)
        else:
            self._service(f"service/url/{url}", line, props)

    def _model(self, provider: str, const: _Const, line: int, api: str, service: str) -> None:
        model = const.value.strip()
        if not MODEL_TEXT.fullmatch(model):
            return
        props: dict[str, Any] = {"provider": provider, "api": api}
        if provider in ("hf", "path") or service.startswith("service/hf"):
            identity, local = _hf_identity(model)
            if identity is None:
                return
            if local:
                props.update(provider="path", local=True)
        else:
            identity = f"{provider}/{model}"
        if provider not in LOCAL_PROVIDERS:
            props["service"] = service
            if service not in self._services:
                self._service(service, line, {"provider": provider})
        if const.from_env:
            props["from_env"] = const.from_env
        self._emit(ItemKind.MODEL, identity, model, line, props)

    def _replicate(self, const: _Const, line: int) -> None:
        ref = const.value.split(":", 1)[0]
        if HF_ID.fullmatch(ref) and "/" in ref:
            version = const.value.split(":", 1)[1] if ":" in const.value else None
            props: dict[str, Any] = {
                "provider": "replicate",
                "api": "replicate.run",
                "service": "service/replicate",
            }
            self._emit(ItemKind.MODEL, f"replicate/{ref}", ref, line, props, version=version)

    def _secret(self, node: ast.expr, scope: _Scope, line: int, hint: str) -> None:
        const = self._resolve(node, scope)
        if const is None:
            return
        where, extra = self._place(line)
        cell = extra.get("cell")
        finding = secret_from_literal(
            const.value,
            self.rel,
            where,
            hint=hint,
            detector=self.detector,
            cell=cell if isinstance(cell, int) else None,
        )
        if finding is not None:
            key = ("secret", finding.identity, where, fingerprint_of(finding) or "")
            if key not in self._seen:
                self._seen.add(key)
                self.findings.append(finding)

    def _finish_frameworks(self) -> None:
        frameworks = dict(self._frameworks)
        if self._boto_ai and self._boto_import is not None:
            frameworks["boto3"] = ("boto3", *self._boto_import)
        for dist, (module, line, props) in frameworks.items():
            identity = f"pypi/{dist}"
            key = ("framework", identity, None, "")
            if key in self._seen:
                continue
            self._seen.add(key)
            self.findings.append(
                Finding(
                    kind=ItemKind.FRAMEWORK,
                    identity=identity,
                    name=dist,
                    confidence=Confidence.INFERRED,
                    location=Location(self.rel, line or None),
                    detector=self.detector,
                    properties={"import": module, **props},
                )
            )


def _api_suffix(chain: str, sdk: str) -> str | None:
    """The longest API of ``sdk`` that ``chain`` ends with (``self.client.`` + API)."""
    best: str | None = None
    for api in API_TABLES.get(sdk, {}):
        if chain == api or chain.endswith("." + api):
            if "." not in api and api not in DISTINCT_APIS:
                continue  # one common word on an unknown receiver proves nothing
            if best is None or len(api) > len(best):
                best = api
    return best


class _TooComplex(Exception):
    """The node budget ran out: the file is reported as a problem."""


def _hf_identity(value: str) -> tuple[str | None, bool]:
    v = value.strip()
    if not v or len(v) > 300 or any(c in v for c in "\n\r\t"):
        return None, False
    local = (
        v.startswith(("./", "../", "/", "~", ".\\"))
        or v in (".", "..")
        or "\\" in v
        or re.match(r"^[A-Za-z]:[\\/]", v) is not None
        or v.count("/") > 1
        or v.endswith((".bin", ".pt", ".pth", ".safetensors", ".gguf", ".onnx", ".ckpt", ".h5"))
    )
    if local:
        return f"path/{v}", True
    if not HF_ID.fullmatch(v):
        return None, False
    return f"hf/{v}", False


def analyse_source(
    analysis: CodeAnalysis, tree: ast.Module, place: Place = _same_place
) -> Problem | None:
    """Run the analysis pass, turning resource exhaustion into a ``Problem``."""
    try:
        analysis.analyse(tree, place)
    except _TooComplex:
        return Problem(analysis.rel, "too many syntax nodes to analyse")
    except RecursionError:
        return Problem(analysis.rel, "too deeply nested to analyse")
    return None


def prepare_source(
    analysis: CodeAnalysis, tree: ast.Module, place: Place = _same_place
) -> Problem | None:
    try:
        analysis.prepare(tree, place)
    except RecursionError:
        return Problem(analysis.rel, "too deeply nested to analyse")
    return None


def _source_text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def suffix_index(project: Mapping[str, Mapping[str, str]]) -> dict[str, list[str]]:
    """``.b.c`` -> every project module ending so (``a.b.c``), in the project's order.

    Resolving ``from .b.c import X`` scanned every module name per lookup; a repository
    of a thousand modules made that the hottest loop of discovery.
    """
    index: dict[str, list[str]] = {}
    for key in project:
        parts = key.split(".")
        for i in range(1, len(parts)):
            index.setdefault("." + ".".join(parts[i:]), []).append(key)
    return index


def collect_constants(file: FileInput) -> tuple[str, dict[str, str]]:
    """First pass over a project file: its module name and its module-level constants.

    Keys are ``NAME``, ``Class.attr``, ``instance.attr`` and ``DICT.key`` (nested dicts
    as ``DICT.a.b``); values are the literal strings. A file that cannot be parsed gives
    an empty mapping (the second pass reports the problem).
    """
    name, constants, _tree = collect_constants_and_tree(file)
    return name, constants


def collect_constants_and_tree(
    file: FileInput,
) -> tuple[str, dict[str, str], ast.Module | None]:
    """As :func:`collect_constants`, also returning the parsed tree so that the second
    pass (``PythonDetector(trees=...)``) does not parse the file again."""
    name = module_name(file.rel)
    if _too_big(file) is not None or b"\x00" in file.data:
        return name, {}, None
    tree = parse_python(file.data, file.rel)
    if isinstance(tree, Problem):
        return name, {}, None
    analysis = CodeAnalysis(file.rel, module=name)
    if prepare_source(analysis, tree) is not None:
        return name, {}, tree
    return name, {k: c.value for k, c in analysis.globals.consts.items()}, tree


class PythonDetector:
    """AI frameworks, services, models and secrets in ``.py`` / ``.pyi`` files."""

    id = DETECTOR_ID

    def __init__(
        self,
        project_constants: Mapping[str, Mapping[str, str]] | None = None,
        *,
        trees: dict[str, ast.Module] | None = None,
    ) -> None:
        self._project = project_constants
        self._index = suffix_index(project_constants) if project_constants else None
        # Trees parsed by the first pass, by path: used once, then dropped.
        self._trees = trees if trees is not None else {}

    def wants(self, rel: str, name: str) -> bool:
        return name.endswith((".py", ".pyi"))

    def detect(self, file: FileInput) -> tuple[list[Finding], list[Problem]]:
        too_big = _too_big(file)
        if too_big is not None:
            return [], [too_big]
        if b"\x00" in file.data:
            return [], [Problem(file.rel, "binary content (NUL bytes), not Python source")]
        text = _source_text(file.data)
        secrets = find_secrets(text, file.rel, detector=self.id)
        cached = self._trees.pop(file.rel, None)
        tree = cached if cached is not None else parse_python(file.data, file.rel)
        if isinstance(tree, Problem):
            return secrets, [tree]
        analysis = CodeAnalysis(
            file.rel, project_constants=self._project, detector=self.id, project_index=self._index
        )
        problem = prepare_source(analysis, tree) or analyse_source(analysis, tree)
        known = {fingerprint_of(f) for f in secrets}
        findings = secrets + [
            f
            for f in analysis.findings
            if f.kind is not ItemKind.SECRET or fingerprint_of(f) not in known
        ]
        return findings, [problem] if problem else []
