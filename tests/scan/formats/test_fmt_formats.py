"""Non-zip formats: benign files saved by the real libraries, and one attack per technique."""

from __future__ import annotations

import io
import json
import pickle
import struct
import tarfile
from pathlib import Path

import numpy as np
import pytest
from scan_corpus import Payload, is_benign, pickle_caught, rules, scan

from tutela.filetype.protobuf_wire import field_bytes, field_varint
from tutela.scan.interface import Severity, Verdict

# -- numpy ------------------------------------------------------------------------------------


def test_npy_benign(tmp_path: Path) -> None:
    """A numeric .npy and .npz are clean."""
    np.save(tmp_path / "a.npy", np.arange(12, dtype=np.float32).reshape(3, 4))
    np.savez_compressed(tmp_path / "b.npz", x=np.ones(5), y=np.zeros((2, 2)))
    assert is_benign(scan(tmp_path / "a.npy"))
    report = scan(tmp_path / "b.npz")
    assert report.format == "npz"
    assert is_benign(report), report.to_dict()


def test_npy_object_array_payload(tmp_path: Path, marker: Path) -> None:
    """An object array's pickle is analysed: object-array finding plus the payload."""
    path = tmp_path / "o.npy"
    np.save(path, np.array([Payload(marker)], dtype=object), allow_pickle=True)
    report = scan(path)
    assert "numpy.object-array" in rules(report)
    assert pickle_caught(report)


def test_npz_object_member(tmp_path: Path, marker: Path) -> None:
    """An object array inside an .npz is found through the zip scanner."""
    path = tmp_path / "o.npz"
    np.savez(path, ok=np.arange(3), bad=np.array([Payload(marker)], dtype=object))
    report = scan(path)
    assert pickle_caught(report)
    assert any(f.member == "bad.npy" for f in report.findings)


# -- legacy torch, pickles, joblib -------------------------------------------------------------


def test_legacy_torch_raw_malicious(tmp_path: Path, marker: Path) -> None:
    """A legacy torch.save stream with a payload in its main pickle is caught."""
    magic = 0x1950A86A20F9469CFC6C
    parts = [magic, 1001, {"protocol_version": 1001, "little_endian": True}]
    blob = b"".join(pickle.dumps(p, protocol=2) for p in parts)
    blob += pickle.dumps(Payload(marker), protocol=2) + pickle.dumps([], protocol=2)
    path = tmp_path / "legacy.pt"
    path.write_bytes(blob)
    report = scan(path)
    assert report.format == "pytorch-legacy"
    assert pickle_caught(report)


def test_legacy_torch_benign(tmp_path: Path) -> None:
    """torch.save with the legacy serializer is recognised and has no findings above info."""
    torch = pytest.importorskip("torch")
    path = tmp_path / "old.pt"
    torch.save({"w": torch.ones(2)}, path, _use_new_zipfile_serialization=False)
    report = scan(path)
    assert report.format == "pytorch-legacy"
    assert not rules(report), report.to_dict()


def test_legacy_torch_tar(tmp_path: Path, evil_pickle: bytes) -> None:
    """A legacy torch tar with a malicious 'pickle' member is caught."""
    path = tmp_path / "legacy.tar"
    with tarfile.open(path, "w") as tar:
        for name, data in (
            ("sys_info", pickle.dumps({"little_endian": True}, protocol=2)),
            ("pickle", evil_pickle),
            ("storages", pickle.dumps(0, protocol=2)),
            ("tensors", pickle.dumps(0, protocol=2)),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    report = scan(path)
    assert report.format == "pytorch-legacy-tar"
    assert pickle_caught(report)


def test_misleading_extensions(tmp_path: Path, evil_pickle: bytes, marker: Path) -> None:
    """A .txt and a .safetensors that are pickles are scanned as pickles, mismatch reported."""
    for name, data in (
        ("notes.txt", pickle.dumps(Payload(marker), protocol=0)),
        ("model.safetensors", evil_pickle),
    ):
        path = tmp_path / name
        path.write_bytes(data)
        report = scan(path)
        assert report.format == "pickle"
        assert pickle_caught(report)
        assert "format.mismatch" in rules(report)


def test_text_is_clean(tmp_path: Path) -> None:
    """Plain text, including text starting with pickle opcode letters, is clean 'text'."""
    for body in ("hello world\n", "(this is prose)\n", "Such and such.\n", "cat\n"):
        path = tmp_path / "t.txt"
        path.write_text(body)
        report = scan(path)
        assert report.format == "text", body
        assert report.verdict == Verdict.CLEAN


def test_sklearn_pandas_joblib_benign(tmp_path: Path) -> None:
    """scikit-learn pipelines (pickle, joblib, compressed joblib) and pandas pickles."""
    sklearn = pytest.importorskip("sklearn")
    joblib = pytest.importorskip("joblib")
    pd = pytest.importorskip("pandas")
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    assert sklearn
    x = np.random.default_rng(0).normal(size=(20, 3))
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(x, x[:, 0] > 0)
    (tmp_path / "m.pkl").write_bytes(pickle.dumps(model))
    joblib.dump(model, tmp_path / "m.joblib")
    joblib.dump(model, tmp_path / "mz.joblib", compress=3)
    pd.DataFrame({"a": [1, 2]}).to_pickle(tmp_path / "df.pkl")
    for name in ("m.pkl", "m.joblib", "mz.joblib", "df.pkl"):
        report = scan(tmp_path / name)
        assert report.error is None, report.to_dict()
        assert not rules(report, Severity.LOW), (name, report.to_dict())


def test_joblib_compressed_payload(tmp_path: Path, marker: Path) -> None:
    """A compressed joblib file is decompressed in a stream and its payload caught."""
    joblib = pytest.importorskip("joblib")
    for compress in (3, ("gzip", 3), ("bz2", 3), ("xz", 3), ("lzma", 3)):
        path = tmp_path / "evil.joblib"
        joblib.dump({"x": Payload(marker)}, path, compress=compress)
        report = scan(path)
        assert pickle_caught(report), (compress, report.to_dict())


# -- keras / hdf5 ---------------------------------------------------------------------------------


def _keras_zip(path: Path, config: dict[str, object]) -> Path:
    import zipfile

    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("metadata.json", json.dumps({"keras_version": "3.15.1"}))
        zf.writestr("config.json", json.dumps(config))
    return path


def test_keras_custom_module_reference(tmp_path: Path) -> None:
    """A config.json naming os.system is a critical custom-object finding."""
    config = {
        "module": "keras",
        "class_name": "Sequential",
        "config": {"layers": [{"module": "os", "class_name": "system", "config": {}}]},
    }
    report = scan(_keras_zip(tmp_path / "m.keras", config))
    assert report.format == "keras"
    hits = [f for f in report.findings if f.rule_id == "keras.custom-object"]
    assert hits and hits[0].severity == Severity.CRITICAL


def test_keras_registered_custom_object(tmp_path: Path) -> None:
    """A layer from a third-party module is a keras.custom-object finding."""
    config = {
        "module": "keras",
        "class_name": "Functional",
        "config": {"layers": [{"module": "my_pkg.layers", "class_name": "Mine", "config": {},
                               "registered_name": "my_pkg>Mine"}]},
    }  # fmt: skip
    assert "keras.custom-object" in rules(scan(_keras_zip(tmp_path / "m.keras", config)))


@pytest.fixture(scope="module")
def keras_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    import os

    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    folder = tmp_path_factory.mktemp("keras")
    plain = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    with_lambda = keras.Sequential(
        [keras.Input((3,)), keras.layers.Lambda(lambda t: t * 2), keras.layers.Dense(1)]
    )
    paths = {
        "plain.keras": plain,
        "plain.h5": plain,
        "lambda.keras": with_lambda,
        "lambda.h5": with_lambda,
    }
    out = {}
    for name, model in paths.items():
        model.save(folder / name)
        out[name] = folder / name
    return out


def test_keras_benign(keras_files: dict[str, Path]) -> None:
    """Keras 3 .keras and .h5 files of a Dense model are clean."""
    for name in ("plain.keras", "plain.h5"):
        report = scan(keras_files[name])
        assert is_benign(report), report.to_dict()


def test_keras_lambda(keras_files: dict[str, Path]) -> None:
    """Lambda layers are found in .keras (keras.lambda-layer) and .h5 (hdf5.lambda-layer)."""
    assert "keras.lambda-layer" in rules(scan(keras_files["lambda.keras"]))
    report = scan(keras_files["lambda.h5"])
    assert "hdf5.lambda-layer" in rules(report)
    assert report.max_severity() == Severity.CRITICAL


# -- onnx ------------------------------------------------------------------------------------------


def _onnx_model(domain: str = "", location: str | None = None) -> bytes:
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    init = helper.make_tensor("w", TensorProto.FLOAT, [1], [1.0])
    if location is not None:
        init.ClearField("float_data")
        init.data_location = TensorProto.EXTERNAL
        entry = init.external_data.add()
        entry.key, entry.value = "location", location
    node = helper.make_node("Add", ["x", "w"], ["y"], domain=domain)
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
        [init],
    )
    opsets = [helper.make_opsetid("", 17)] + ([helper.make_opsetid(domain, 1)] if domain else [])
    model = helper.make_model(graph, opset_imports=opsets, producer_name="tutela-test")
    data: bytes = model.SerializeToString()
    assert onnx
    return data


def test_onnx_benign(tmp_path: Path) -> None:
    """A small standard ONNX graph is clean."""
    path = tmp_path / "m.onnx"
    path.write_bytes(_onnx_model())
    report = scan(path)
    assert report.format == "onnx"
    assert is_benign(report), report.to_dict()


def test_onnx_external_escape_and_custom_domain(tmp_path: Path) -> None:
    """External data at ../../etc/passwd and a custom operator domain are reported."""
    path = tmp_path / "m.onnx"
    path.write_bytes(_onnx_model(domain="evil.ops", location="../../etc/passwd"))
    found = rules(scan(path))
    assert {"onnx.external-data-escape", "onnx.custom-domain"} <= found


# -- savedmodel ----------------------------------------------------------------------------------


def _saved_model(*ops: tuple[str, str], function_ops: tuple[str, ...] = ()) -> bytes:
    nodes = b"".join(field_bytes(1, field_bytes(1, n) + field_bytes(2, op)) for n, op in ops)
    fn = field_bytes(1, field_bytes(1, "my_fn")) + b"".join(
        field_bytes(3, field_bytes(1, f"n{i}") + field_bytes(2, op))
        for i, op in enumerate(function_ops)
    )
    graph = nodes + field_bytes(2, field_bytes(1, fn))
    meta = field_bytes(1, field_bytes(4, "2.16.0")) + field_bytes(2, graph)
    return field_varint(1, 1) + field_bytes(2, meta)


def test_savedmodel_benign_and_dangerous(tmp_path: Path) -> None:
    """Standard ops are clean; ReadFile in the graph and PyFunc in a function are flagged."""
    benign = tmp_path / "ok" / "saved_model.pb"
    benign.parent.mkdir()
    benign.write_bytes(
        _saved_model(("x", "Placeholder"), ("save/SaveV2", "SaveV2"), function_ops=("MatMul",))
    )
    report = scan(benign)
    assert report.format == "savedmodel"
    assert is_benign(report), report.to_dict()
    bad = tmp_path / "saved_model.pb"
    bad.write_bytes(_saved_model(("r", "ReadFile"), function_ops=("PyFunc", "SaveV2")))
    ops = {f.details["op"] for f in scan(bad).findings if f.rule_id == "savedmodel.dangerous-op"}
    assert ops == {"ReadFile", "PyFunc", "SaveV2"}


# -- safetensors ----------------------------------------------------------------------------------


def _st(header: dict[str, object], data: bytes, length: int | None = None) -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw) if length is None else length) + raw + data


def test_safetensors_benign(tmp_path: Path) -> None:
    """A file written by the safetensors library is clean."""
    st = pytest.importorskip("safetensors.numpy")
    path = tmp_path / "m.safetensors"
    st.save_file({"a": np.zeros((2, 3), np.float32), "b": np.ones(4, np.int64)}, str(path),
                 metadata={"format": "np"})  # fmt: skip
    assert is_benign(scan(path))


@pytest.mark.parametrize(
    ("blob", "rule"),
    [
        (_st({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 4, 10**6),
         "safetensors.header"),
        (_st({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
              "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, b"\0" * 12),
         "safetensors.offsets"),
        (_st({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, b"\0" * 8),
         "safetensors.offsets"),
        (_st({"a": {"dtype": "X99", "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 4),
         "safetensors.header"),
        (_st({"__metadata__": {"k": 1}}, b""), "safetensors.header"),
    ],
)  # fmt: skip
def test_safetensors_malformed(tmp_path: Path, blob: bytes, rule: str) -> None:
    """Lying length, overlap, dtype/shape mismatch, unknown dtype, bad metadata."""
    path = tmp_path / "m.safetensors"
    path.write_bytes(blob)
    report = scan(path)
    assert report.format == "safetensors"
    assert rule in rules(report)


# -- gguf ------------------------------------------------------------------------------------------

_BENIGN_TEMPLATE = (
    "{% set ns = namespace(sys='') %}{% for m in messages %}{% if m['role'] == 'system' %}"
    "{% set ns.sys = m['content'] %}{% endif %}<|{{ m['role'] }}|>{{ m['content'] }}"
    "{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}"
)
_SSTI = (
    "{% for x in ().__class__.__base__.__subclasses__() %}{% if 'warning' in x.__name__ %}"
    "{{ x()._module.__builtins__['__import__']('os').popen('touch MARK') }}{% endif %}"
    "{% endfor %}"
)


def _gguf(path: Path, template: str) -> Path:
    gguf = pytest.importorskip("gguf")
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_chat_template(template)
    writer.add_tensor("w", np.zeros((4, 8), np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def test_gguf_benign(tmp_path: Path) -> None:
    """A GGUF file with a normal chat template (using namespace) is clean."""
    report = scan(_gguf(tmp_path / "m.gguf", _BENIGN_TEMPLATE))
    assert report.format == "gguf"
    assert is_benign(report), report.to_dict()


@pytest.mark.parametrize(
    "template",
    [
        _SSTI,
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
        "{{ joiner|attr('\\x5f\\x5finit\\x5f\\x5f') }}",
        "{{ namespace.__init__.__globals__['__builtins__']['eval']('1') }}",
    ],
)
def test_gguf_template_injection(tmp_path: Path, template: str) -> None:
    """Known SSTI payloads (CVE-2024-34359 style) are gguf.template-injection."""
    report = scan(_gguf(tmp_path / "m.gguf", template))
    assert "gguf.template-injection" in rules(report, Severity.HIGH)


# -- archives --------------------------------------------------------------------------------------


def test_seven_zip_with_pickle(tmp_path: Path, evil_pickle: bytes) -> None:
    """A 7z holding a malicious pickle is opened with py7zr and the pickle caught."""
    py7zr = pytest.importorskip("py7zr")
    path = tmp_path / "m.7z"
    with py7zr.SevenZipFile(path, "w") as archive:
        archive.writestr(evil_pickle, "model/model.bin")
    report = scan(path)
    assert report.format == "7z"
    assert pickle_caught(report)
