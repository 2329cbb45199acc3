"""Malicious pickles the open scanners missed: each must be caught, none may run."""

from __future__ import annotations

import os
import pickle
import struct
from pathlib import Path

import pytest
from picklecraft import (
    MARK,
    PROTO4,
    REDUCE,
    STOP,
    TUPLE,
    call,
    called,
    frame,
    glob,
    rules,
    s,
    scan,
    sglob,
)

from tutela.scan.interface import Severity


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "pwned"


def _cmd(marker: Path) -> str:
    return f"touch {marker}"


# (module, name, args builder) -> a direct call each denylist must catch.
DIRECT = [
    ("os", "system", lambda m: (s(_cmd(m)),)),
    ("posix", "system", lambda m: (s(_cmd(m)),)),
    ("nt", "system", lambda m: (s(_cmd(m)),)),
    ("subprocess", "check_output", lambda m: (s(_cmd(m)),)),
    ("subprocess", "Popen", lambda m: (s(_cmd(m)),)),
    ("multiprocessing.util", "spawnv_passfds", lambda m: (s("/bin/touch"),)),
    ("torch.utils.collect_env", "run", lambda m: (s(_cmd(m)),)),
    ("_xxsubinterpreters", "run_string", lambda m: (b"K\x00", s(f"open({str(m)!r},'w')"))),
    ("runpy", "run_path", lambda m: (s(str(m)),)),
    ("runpy", "run_module", lambda m: (s("evil"),)),
    ("runpy", "_run_code", lambda m: (s(f"open({str(m)!r},'w')"), b"}")),
    ("pip._internal.cli.main", "main", lambda m: (s("install"),)),
    ("pip", "main", lambda m: (s("install"),)),
    ("builtins", "eval", lambda m: (s(f"open({str(m)!r},'w')"),)),
    ("builtins", "exec", lambda m: (s(f"open({str(m)!r},'w')"),)),
    ("builtins", "compile", lambda m: (s("1"), s("x"), s("eval"))),
    ("builtins", "__import__", lambda m: (s("os"),)),
    ("builtins", "open", lambda m: (s(str(m)), s("w"))),
    ("builtins", "getattr", lambda m: (s("x"), s("y"))),
    ("builtins", "setattr", lambda m: (s("x"), s("y"), s("z"))),
    ("builtins", "globals", lambda m: ()),
    ("builtins", "vars", lambda m: (s("x"),)),
    ("__builtin__", "eval", lambda m: (s(f"open({str(m)!r},'w')"),)),
    ("importlib", "import_module", lambda m: (s("os"),)),
    ("code", "InteractiveInterpreter", lambda m: ()),
    ("pty", "spawn", lambda m: (s("/bin/sh"),)),
    ("shutil", "rmtree", lambda m: (s(str(m)),)),
    ("socket", "create_connection", lambda m: (s("x"),)),
    ("ctypes", "CDLL", lambda m: (s("libc.so.6"),)),
    ("marshal", "loads", lambda m: (s("x"),)),
    ("types", "FunctionType", lambda m: (s("x"), b"}")),
    ("types", "CodeType", lambda m: (s("x"),)),
    ("dill._dill", "_create_function", lambda m: (s("x"),)),
    ("dill._dill", "_create_code", lambda m: (s("x"),)),
    ("dill._dill", "_load_type", lambda m: (s("x"),)),
    ("cloudpickle.cloudpickle", "_make_function", lambda m: (s("x"),)),
    ("cloudpickle.cloudpickle", "_builtin_type", lambda m: (s("CodeType"),)),
    ("cloudpickle.cloudpickle", "subimport", lambda m: (s("os"),)),
    ("webbrowser", "open", lambda m: (s("http://x"),)),
    ("asyncio.subprocess", "create_subprocess_shell", lambda m: (s(_cmd(m)),)),
    ("sys", "modules", lambda m: ()),
    ("timeit", "timeit", lambda m: (s(f"open({str(m)!r},'w')"),)),
    ("pdb", "run", lambda m: (s(f"open({str(m)!r},'w')"),)),
    ("bdb", "Bdb", lambda m: ()),
    ("cProfile", "run", lambda m: (s(f"open({str(m)!r},'w')"),)),
    ("profile", "run", lambda m: (s(f"open({str(m)!r},'w')"),)),
    ("trace", "Trace", lambda m: ()),
    ("idlelib.pyshell", "ModifiedInterpreter", lambda m: ()),
    ("lib2to3.pgen2.grammar", "Grammar", lambda m: ()),
    ("distutils.spawn", "spawn", lambda m: (s("touch"),)),
    ("numpy.testing._private.utils", "runstring", lambda m: (s(f"open({str(m)!r},'w')"), b"}")),
    ("torch._inductor.codecache", "compile_file", lambda m: (s(""), s(""), s("sh"))),
    ("torch.jit", "CompilationUnit", lambda m: (s("def f(): pass"),)),
    ("torch.hub", "load", lambda m: (s("evil/repo"), s("m"))),
    ("torch", "load", lambda m: (s(str(m)),)),
    ("torch.serialization", "load", lambda m: (s(str(m)),)),
    ("keras.src.utils.python_utils", "func_load", lambda m: (s("x"),)),
    ("pickle", "loads", lambda m: (b"C\x01N",)),
    ("_pickle", "loads", lambda m: (b"C\x01N",)),
    ("operator", "attrgetter", lambda m: (s("system"),)),
    ("operator", "methodcaller", lambda m: (s("system"), s(_cmd(m)))),
    ("operator", "itemgetter", lambda m: (s("system"),)),
    ("functools", "reduce", lambda m: (s("x"), s("y"))),
]


@pytest.mark.parametrize(("module", "name", "args"), DIRECT, ids=[f"{m}.{n}" for m, n, _ in DIRECT])
@pytest.mark.parametrize("opcode", ["GLOBAL", "STACK_GLOBAL"])
def test_denied_callables_are_caught(
    marker: Path, module: str, name: str, args, opcode: str
) -> None:
    """Each denied callable is reported at import (high+) and at the call (critical/high)."""
    func = glob(module, name) if opcode == "GLOBAL" else sglob(module, name)
    data = PROTO4 + call(func, *args(marker)) + STOP
    result = scan(data)
    found = rules(result)
    import_rule = found.get("pickle.denied-import") or found.get("pickle.marshalled-code")
    assert import_rule is not None and import_rule >= Severity.HIGH, result.findings
    assert found.get("pickle.denied-call", Severity.INFO) >= Severity.HIGH
    assert result.imports[0] in (f"{module}.{name}", f"builtins.{name}")
    assert not marker.exists()


def test_denied_import_never_called_is_still_flagged() -> None:
    """Importing a denied name without calling it is high/critical (import side effects)."""
    result = scan(PROTO4 + glob("os", "system") + STOP)
    finding = next(f for f in result.findings if f.rule_id == "pickle.denied-import")
    assert finding.severity is Severity.CRITICAL
    assert "top-level code" in finding.message
    assert "pickle.denied-call" not in rules(result)


def test_reduce_payload_from_pickle_dumps_never_runs(marker: Path) -> None:
    """A real __reduce__ payload (os.system) is reported with its arguments."""

    class Evil:
        def __reduce__(self):
            return (os.system, (_cmd(marker),))

    for proto in range(6):
        result = scan(pickle.dumps({"model": Evil()}, protocol=proto))
        finding = next(f for f in result.findings if f.rule_id == "pickle.denied-call")
        assert finding.severity is Severity.CRITICAL
        assert str(marker) in (finding.args_preview or "")
        assert finding.offset is not None and finding.member == "m"
    assert not marker.exists()


def test_stack_global_dotted_name_through_module_attribute(marker: Path) -> None:
    """STACK_GLOBAL('pathlib', 'os.system') is judged as os.system."""
    data = PROTO4 + call(sglob("pathlib", "os.system"), s(_cmd(marker))) + STOP
    result = scan(data)
    trav = next(f for f in result.findings if f.rule_id == "pickle.attribute-traversal")
    assert trav.severity is Severity.CRITICAL
    assert trav.details["resolves_to"] == "os.system"
    assert "os.system" in called(result)
    assert not marker.exists()


def test_dunder_traversal_to_builtins_namespace(marker: Path) -> None:
    """GLOBAL builtins print.__self__.__dict__ is critical, and .get('eval')(...) is eval."""
    ns = glob("builtins", "print.__self__.__dict__")
    get = glob("builtins", "dict.get")
    evaluate = call(get, ns, s("eval"))
    data = b"\x80\x02" + call(evaluate, s(f"open({str(marker)!r},'w')")) + STOP
    result = scan(data)
    assert rules(result)["pickle.attribute-traversal"] is Severity.CRITICAL
    assert "builtins.eval" in called(result)
    assert not marker.exists()


def test_import_module_vars_get_chain(marker: Path) -> None:
    """import_module('os') -> vars() -> dict.get('system') -> call is judged as os.system."""
    module = call(glob("importlib", "import_module"), s("os"))
    namespace = call(glob("builtins", "vars"), module)
    system = call(sglob("builtins", "dict.get"), namespace, s("system"))
    data = PROTO4 + call(system, s(_cmd(marker))) + STOP
    result = scan(data)
    assert "os.system" in called(result)
    assert "os" in result.imports and "os.system" in result.imports
    assert not marker.exists()


def test_getattr_on_resolved_module(marker: Path) -> None:
    """getattr(__import__('os'), 'system')(cmd) is judged as os.system."""
    module = call(glob("builtins", "__import__"), s("os"))
    system = call(glob("builtins", "getattr"), module, s("system"))
    result = scan(PROTO4 + call(system, s(_cmd(marker))) + STOP)
    assert "os.system" in called(result)
    assert not marker.exists()


def test_attrgetter_and_methodcaller_chains(marker: Path) -> None:
    """attrgetter('system')(os) and methodcaller('system', cmd)(os) resolve to os.system."""
    os_mod = call(glob("importlib", "import_module"), s("os"))
    getter = call(glob("operator", "attrgetter"), s("system"))
    via_getter = call(call(getter, os_mod), s(_cmd(marker)))
    caller = call(glob("operator", "methodcaller"), s("system"), s(_cmd(marker)))
    via_caller = call(caller, os_mod)
    for body in (via_getter, via_caller):
        result = scan(PROTO4 + body + STOP)
        assert "os.system" in called(result), result.findings
    assert not marker.exists()


def test_sys_modules_lookup(marker: Path) -> None:
    """sys.modules.get('os') then getattr system is judged as os.system."""
    os_mod = call(sglob("sys", "modules.get"), s("os"))
    system = call(glob("builtins", "getattr"), os_mod, s("system"))
    result = scan(PROTO4 + call(system, s(_cmd(marker))) + STOP)
    assert "os.system" in called(result)
    assert not marker.exists()


def test_functools_partial_wrapping_a_dangerous_callable(marker: Path) -> None:
    """partial(os.system, cmd)() is reported as a call of os.system."""
    part = call(glob("functools", "partial"), glob("os", "system"), s(_cmd(marker)))
    result = scan(PROTO4 + call(part) + STOP)
    assert "os.system" in called(result)
    assert not marker.exists()


def test_map_consumed_by_list_calls_the_function(marker: Path) -> None:
    """list(map(os.system, [cmd])) is reported as a call of os.system."""
    mapped = call(glob("builtins", "map"), glob("os", "system"), b"]" + s(_cmd(marker)) + b"a")
    result = scan(PROTO4 + call(glob("builtins", "list"), mapped) + STOP)
    assert "os.system" in called(result)
    assert not marker.exists()


def test_memo_sourced_stack_global_names(marker: Path) -> None:
    """STACK_GLOBAL whose names come from the memo (BINGET) still resolves."""
    body = s("os") + b"\x94" + s("system") + b"\x94" + b"0" + b"0" + b"h\x00h\x01\x93"
    result = scan(PROTO4 + call(body, s(_cmd(marker))) + STOP)
    assert "os.system" in called(result)
    assert not marker.exists()


def test_inst_and_obj_opcodes_call(marker: Path) -> None:
    """Protocol 0 INST and protocol 1 OBJ invoke their callable."""
    inst = MARK + s(_cmd(marker)) + b"ios\nsystem\n" + STOP
    obj = MARK + glob("os", "system") + s(_cmd(marker)) + b"o" + STOP
    obj_popped = MARK + glob("os", "system") + s(_cmd(marker)) + b"o0N" + STOP
    for data in (inst, obj, obj_popped):
        assert "os.system" in called(scan(data))
    assert not marker.exists()


def test_protocol_0_text_pickle_with_compat_mapping(marker: Path) -> None:
    """Protocol < 3 maps Python 2 names: commands.getoutput is subprocess.getoutput."""
    data = b"ccommands\ngetoutput\n(S'" + _cmd(marker).encode() + b"'\ntR."
    result = scan(data)
    assert "subprocess.getoutput" in called(result)
    assert not marker.exists()


def test_newobj_and_newobj_ex_on_denied_class() -> None:
    """NEWOBJ/NEWOBJ_EX on subprocess.Popen are calls of a denied class."""
    newobj = PROTO4 + glob("subprocess", "Popen") + MARK + s("id") + TUPLE + b"\x81" + STOP
    newobj_ex = PROTO4 + glob("subprocess", "Popen") + MARK + s("id") + TUPLE + b"}\x92" + STOP
    for data in (newobj, newobj_ex):
        assert "subprocess.Popen" in called(scan(data))


def test_marshalled_code_rebuild(marker: Path) -> None:
    """types.FunctionType(marshal.loads(code), {}) is flagged as marshalled code."""
    code = compile(f"open({str(marker)!r}, 'w')", "x", "exec")
    import marshal

    blob = marshal.dumps(code)
    loads = call(
        glob("marshal", "loads"),
        b"C" + bytes([len(blob)]) + blob
        if len(blob) < 256
        else b"B" + struct.pack("<I", len(blob)) + blob,
    )
    func = call(glob("types", "FunctionType"), loads, b"}")
    result = scan(PROTO4 + call(func) + STOP)
    found = rules(result)
    assert found["pickle.marshalled-code"] is Severity.CRITICAL
    assert {"marshal.loads", "types.FunctionType"} <= called(result)
    assert not marker.exists()


def test_build_plants_setstate(marker: Path) -> None:
    """BUILD that plants __setstate__ on an object (a later BUILD would call it) is critical."""
    state = b"}" + s("__setstate__") + glob("os", "system") + b"s"
    obj = call(glob("collections", "OrderedDict"))
    data = PROTO4 + obj + state + b"b" + s(_cmd(marker)) + b"b" + STOP
    result = scan(data)
    assert rules(result)["pickle.state-injection"] is Severity.CRITICAL
    assert not marker.exists()


def test_setitem_on_imported_object() -> None:
    """SETITEM on an imported global (e.g. a module-level dict) is a state injection."""
    data = PROTO4 + sglob("os", "environ") + s("LD_PRELOAD") + s("/tmp/x.so") + b"s" + STOP
    assert rules(scan(data))["pickle.state-injection"] >= Severity.HIGH


def test_extension_codes_are_flagged() -> None:
    """EXT1/EXT2/EXT4 cannot be resolved statically and are a finding."""
    for ext in (b"\x82\x01", b"\x83\x01\x02", b"\x84\x01\x02\x03\x04"):
        result = scan(PROTO4 + call(ext, s("id")) + STOP)
        assert rules(result)["pickle.extension-code"] >= Severity.MEDIUM
        assert rules(result)["pickle.dynamic-call"] is Severity.CRITICAL


def test_call_of_a_call_result_is_dynamic() -> None:
    """Calling what an unknown callable returned is a critical dynamic call."""
    inner = call(glob("mylib", "factory"))
    result = scan(PROTO4 + call(inner, s("x")) + STOP)
    assert rules(result)["pickle.dynamic-call"] is Severity.CRITICAL
    assert rules(result)["pickle.unknown-import"] is Severity.MEDIUM


def test_unknown_import_is_reviewed_not_silent() -> None:
    """A name on neither list is a medium 'unknown import — review' finding."""
    result = scan(PROTO4 + call(glob("somepkg.models", "Thing"), s("x")) + STOP)
    finding = next(f for f in result.findings if f.rule_id == "pickle.unknown-import")
    assert finding.severity is Severity.MEDIUM
    assert finding.callable == "somepkg.models.Thing"
    assert "review" in finding.message


def test_benign_then_malicious_concatenated(marker: Path) -> None:
    """A benign pickle followed by a malicious one: the second is read and flagged."""
    data = (
        pickle.dumps([1, 2, 3], protocol=4)
        + b"cos\nsystem\n(S'"
        + _cmd(marker).encode()
        + b"'\ntR."
    )
    result = scan(data)
    assert result.pickles == 2
    assert "os.system" in called(result)
    assert not marker.exists()


def test_payload_before_truncation_is_reported(marker: Path) -> None:
    """REDUCE that runs before a truncation is found; malformed is high because code ran."""
    data = PROTO4 + call(glob("os", "system"), s(_cmd(marker))) + b"X\xff\xff\x00\x00abc"
    result = scan(data)
    found = rules(result)
    assert found["pickle.denied-call"] is Severity.CRITICAL
    assert found["pickle.malformed"] is Severity.HIGH
    assert not marker.exists()


def test_payload_before_garbage_is_reported(marker: Path) -> None:
    """REDUCE followed by an invalid opcode: both the call and the malformation are reported."""
    data = PROTO4 + call(glob("os", "system"), s(_cmd(marker))) + b"\xff\xfe"
    found = rules(scan(data))
    assert found["pickle.denied-call"] is Severity.CRITICAL
    assert found["pickle.malformed"] is Severity.HIGH


def test_frame_shorter_than_its_opcodes(marker: Path) -> None:
    """A FRAME that ends mid-opcode: the C unpickler runs on, so must we (and flag it)."""
    body = call(glob("os", "system"), s(_cmd(marker)))
    data = PROTO4 + frame(body, declared=5) + STOP
    result = scan(data)
    assert "os.system" in called(result)
    assert "pickle.frame-mismatch" in rules(result)
    assert not marker.exists()


def test_frame_longer_than_the_stream(marker: Path) -> None:
    """A FRAME declaring more bytes than exist: malformed, and the payload is still analysed."""
    body = call(glob("os", "system"), s(_cmd(marker))) + STOP
    data = PROTO4 + frame(body, declared=1 << 40)
    result = scan(data)
    found = rules(result)
    assert "pickle.malformed" in found
    assert "os.system" in called(result)


def test_payload_hidden_after_bytes_inside_frame(marker: Path) -> None:
    """Opcodes after a BINBYTES that crosses a frame boundary are still interpreted."""
    payload = call(glob("os", "system"), s(_cmd(marker)))
    blob = b"B" + struct.pack("<I", 4) + b"abcd" + b"0"
    data = PROTO4 + frame(blob[:3], declared=3) + blob[3:] + payload + STOP
    result = scan(data)
    assert "os.system" in called(result)
    assert not marker.exists()


def test_new_frame_inside_frame_is_a_mismatch() -> None:
    """A FRAME that starts before the previous one ends is flagged (Python raises, C runs)."""
    inner = frame(b"N0", declared=2)
    data = PROTO4 + frame(inner + b"N", declared=len(inner) + 8) + STOP
    assert "pickle.frame-mismatch" in rules(scan(data))


def test_reduce_on_non_callable_stops_like_cpython() -> None:
    """REDUCE on an int raises in CPython: malformed, later opcodes are not judged as run."""
    data = PROTO4 + b"K\x01" + MARK + TUPLE + REDUCE + glob("os", "system") + STOP
    result = scan(data)
    assert "pickle.malformed" in rules(result)
    assert "os.system" not in result.imports
