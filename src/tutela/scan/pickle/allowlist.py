"""Allowlist: what the frameworks' own safe files import, each with a reason.

Two kinds of entries:

- ``ALLOW_EXACT``: one dotted path (module + qualname) that is known to only rebuild
  data (containers, arrays, tensors, estimator state).
- ``ALLOW_CLASSES``: classes (qualname components that look like class names) under a
  vetted module prefix, with explicit exclusions. Estimator, array and module classes of
  these libraries follow a convention that construction only stores parameters and
  ``__setstate__`` only restores attributes; functions are never allowed by pattern,
  because library functions can read files or run code.

``HIGHER_ORDER`` names allowed callables that themselves call or instantiate one of
their arguments; the engine judges those arguments as calls.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "ALLOW_CLASSES",
    "ALLOW_EXACT",
    "HIGHER_ORDER",
    "NEVER_CLASSES",
    "TRANSPARENT",
    "ClassPattern",
]


class ClassPattern(NamedTuple):
    prefix: str  # module prefix (matches the module itself and submodules)
    exclude: tuple[str, ...]  # module prefixes inside it that are never allowed
    reason: str


_NUMPY_CORE = ("numpy.core", "numpy._core")

ALLOW_EXACT: dict[str, str] = {
    # builtins: containers and scalars rebuilt by the standard reducers
    **{
        f"builtins.{n}": "builtin container or scalar type"
        for n in [
            "set",
            "frozenset",
            "list",
            "dict",
            "tuple",
            "bytearray",
            "bytes",
            "complex",
            "int",
            "float",
            "str",
            "bool",
            "slice",
            "range",
            "object",
            "Ellipsis",
            "NotImplemented",
        ]
    },
    "copyreg._reconstructor": "protocol 0/1 object reconstruction (judged through its arguments)",
    "copyreg.__newobj__": "protocol 2 object creation helper (judged through its arguments)",
    "copyreg.__newobj_ex__": "protocol 2 object creation helper (judged through its arguments)",
    "_codecs.encode": "protocol < 3 encodes bytes as _codecs.encode(text, 'latin1')",
    "codecs.encode": "bytes reconstruction in old protocols",
    "functools.partial": "transparent wrapper: the wrapped callable is judged when called",
    "types.SimpleNamespace": "plain attribute container",
    "array.array": "typed array of numbers",
    "array._array_reconstructor": "array.array reconstruction",
    "datetime.datetime": "date/time value",
    "datetime.date": "date/time value",
    "datetime.time": "date/time value",
    "datetime.timedelta": "date/time value",
    "datetime.timezone": "date/time value",
    "decimal.Decimal": "decimal number",
    "fractions.Fraction": "rational number",
    "uuid.UUID": "UUID value",
    "uuid.SafeUUID": "UUID enum",
    "collections.OrderedDict": "ordered dict (torch state_dict)",
    "collections.defaultdict": "dict with default factory (the factory is judged at import)",
    "collections.Counter": "counting dict",
    "collections.deque": "double-ended queue",
    "collections.ChainMap": "dict view container",
    "pathlib.Path": "path value (methods stay unreachable: dotted names are flagged)",
    "pathlib.PosixPath": "path value",
    "pathlib.WindowsPath": "path value",
    "pathlib.PurePath": "path value",
    "pathlib.PurePosixPath": "path value",
    "pathlib.PureWindowsPath": "path value",
    "enum.Enum": "enum base",
    # numpy array and scalar reconstruction (both the 1.x and the 2.x module names)
    **{f"{m}.multiarray._reconstruct": "ndarray reconstruction" for m in _NUMPY_CORE},
    **{f"{m}.multiarray.scalar": "numpy scalar reconstruction" for m in _NUMPY_CORE},
    **{f"{m}.numeric._frombuffer": "ndarray from a protocol 5 buffer" for m in _NUMPY_CORE},
    **{f"{m}.multiarray.ndarray": "ndarray type" for m in _NUMPY_CORE},
    **{f"{m}.multiarray.dtype": "dtype type" for m in _NUMPY_CORE},
    "numpy.ndarray": "ndarray type",
    "numpy.dtype": "dtype reconstruction",
    "numpy.ma.core._mareconstruct": "masked array reconstruction",
    "numpy.ma.core.MaskedArray": "masked array type",
    "numpy.matrix": "matrix type",
    "numpy.matrixlib.defmatrix.matrix": "matrix type",
    "numpy.random._pickle.__randomstate_ctor": "RandomState reconstruction",
    "numpy.random._pickle.__generator_ctor": "Generator reconstruction",
    "numpy.random._pickle.__bit_generator_ctor": "bit generator reconstruction",
    "numpy.random.mtrand.RandomState": "random state",
    "numpy.random._generator.Generator": "random generator",
    "numpy.random._mt19937.MT19937": "bit generator",
    "numpy.random._pcg64.PCG64": "bit generator",
    "numpy.random._pcg64.PCG64DXSM": "bit generator",
    "numpy.random._philox.Philox": "bit generator",
    "numpy.random._sfc64.SFC64": "bit generator",
    "numpy.random.bit_generator.SeedSequence": "seed sequence",
    "numpy.random.bit_generator.__pyx_unpickle_SeedSequence": "seed sequence (Cython)",
    **{
        f"numpy.{n}": "numpy scalar type"
        for n in [
            "bool_",
            "int8",
            "int16",
            "int32",
            "int64",
            "uint8",
            "uint16",
            "uint32",
            "uint64",
            "float16",
            "float32",
            "float64",
            "longdouble",
            "complex64",
            "complex128",
            "clongdouble",
            "str_",
            "bytes_",
            "void",
            "object_",
            "datetime64",
            "timedelta64",
            "intc",
            "uintc",
            "intp",
            "uintp",
        ]
    },
    # torch tensors, storages, parameters and dtypes as written by torch.save
    **{
        f"torch._utils.{n}": "torch tensor reconstruction"
        for n in [
            "_rebuild_tensor",
            "_rebuild_tensor_v2",
            "_rebuild_tensor_v3",
            "_rebuild_parameter",
            "_rebuild_parameter_with_state",
            "_rebuild_qtensor",
            "_rebuild_sparse_tensor",
            "_rebuild_nested_tensor",
            "_rebuild_device_tensor_from_numpy",
            "_rebuild_device_tensor_from_cpu_tensor",
            "_rebuild_meta_tensor_no_storage",
            "_rebuild_wrapper_subclass",
            "_rebuild_xla_tensor",
            "_rebuild_mps_tensor",
            "_rebuild_typed_storage",
            "_rebuild_typed_storage_child",
        ]
    },
    **{
        f"torch.{n}Storage": "legacy typed tensor storage class"
        for n in [
            "Float",
            "Double",
            "Half",
            "BFloat16",
            "Long",
            "Int",
            "Short",
            "Char",
            "Byte",
            "Bool",
            "ComplexFloat",
            "ComplexDouble",
            "QUInt8",
            "QInt8",
            "QInt32",
            "QUInt4x2",
            "QUInt2x4",
            "Untyped",
        ]
    },
    "torch._tensor._rebuild_from_type": "tensor subclass rebuild (callable argument judged)",
    "torch._tensor._rebuild_from_type_v2": "tensor subclass rebuild (callable argument judged)",
    "torch.storage._load_from_bytes": "legacy storage bytes (torch.load of an in-memory buffer)",
    "torch.serialization._get_layout": "tensor layout lookup",
    "torch.nn.parameter.Parameter": "parameter tensor",
    "torch.nn.parameter.Buffer": "buffer tensor",
    "torch.nn.parameter.UninitializedParameter": "lazy parameter",
    "torch.nn.parameter.UninitializedBuffer": "lazy buffer",
    "torch.Tensor": "tensor type",
    "torch._tensor.Tensor": "tensor type",
    "torch.Size": "shape tuple",
    "torch.device": "device value",
    "torch.dtype": "dtype type",
    "torch.storage.UntypedStorage": "tensor storage",
    "torch.storage.TypedStorage": "tensor storage",
    "torch.storage._LegacyStorage": "tensor storage",
    **{
        f"torch.{n}": "torch dtype, layout or memory format constant"
        for n in [
            "float32",
            "float",
            "float64",
            "double",
            "float16",
            "half",
            "bfloat16",
            "complex32",
            "complex64",
            "cfloat",
            "complex128",
            "cdouble",
            "uint8",
            "uint16",
            "uint32",
            "uint64",
            "int8",
            "int16",
            "short",
            "int32",
            "int",
            "int64",
            "long",
            "bool",
            "qint8",
            "quint8",
            "qint32",
            "quint4x2",
            "quint2x4",
            "float8_e4m3fn",
            "float8_e5m2",
            "float8_e4m3fnuz",
            "float8_e5m2fnuz",
            "strided",
            "sparse_coo",
            "sparse_csr",
            "sparse_csc",
            "sparse_bsr",
            "sparse_bsc",
            "_mkldnn",
            "contiguous_format",
            "channels_last",
            "channels_last_3d",
            "preserve_format",
            "per_tensor_affine",
            "per_channel_affine",
            "per_tensor_symmetric",
            "per_channel_symmetric",
            "per_channel_affine_float_qparams",
        ]
    },
    # pandas public classes (pandas >= 3 pickles them under their public names)
    **{
        f"pandas.{n}": "pandas data structure or dtype"
        for n in [
            "DataFrame",
            "Series",
            "Index",
            "RangeIndex",
            "MultiIndex",
            "CategoricalIndex",
            "DatetimeIndex",
            "TimedeltaIndex",
            "PeriodIndex",
            "IntervalIndex",
            "Categorical",
            "CategoricalDtype",
            "DatetimeTZDtype",
            "PeriodDtype",
            "IntervalDtype",
            "StringDtype",
            "BooleanDtype",
            "ArrowDtype",
            "SparseDtype",
            "Int8Dtype",
            "Int16Dtype",
            "Int32Dtype",
            "Int64Dtype",
            "UInt8Dtype",
            "UInt16Dtype",
            "UInt32Dtype",
            "UInt64Dtype",
            "Float32Dtype",
            "Float64Dtype",
            "Timestamp",
            "Timedelta",
            "Period",
            "Interval",
            "DateOffset",
            "Flags",
        ]
    },
    "pandas.core.indexes.datetimes._new_DatetimeIndex": "index reconstruction (class judged)",
    "pandas.core.indexes.period._new_PeriodIndex": "index reconstruction (class judged)",
    "pandas._libs.tslibs.nattype._nat_unpickle": "NaT reconstruction",
    # pyarrow-backed pandas columns (default string dtype in pandas 3)
    "pyarrow.lib._restore_array": "arrow array from its buffers",
    "pyarrow.lib.type_for_alias": "arrow type by name",
    "pyarrow.lib.py_buffer": "arrow buffer over bytes",
    "pyarrow.lib.chunked_array": "arrow chunked array",
    "pyarrow.lib.ChunkedArray": "arrow chunked array",
    "numpy.ma.MaskedArray": "masked array type",
    # pandas reconstruction helpers (functions, listed one by one)
    "pandas.core.indexes.base._new_Index": "pandas index reconstruction (class argument judged)",
    "pandas._libs.internals._unpickle_block": "pandas block reconstruction",
    "pandas._libs.tslibs.timestamps._unpickle_timestamp": "timestamp reconstruction",
    "pandas._libs.tslibs.timedeltas._timedelta_unpickle": "timedelta reconstruction",
    "pandas._libs.tslibs.nattype.__nat_unpickle": "NaT reconstruction",
    "pandas._libs.tslibs.offsets._offset_map": "offset reconstruction",
    "pandas.core.internals.blocks.new_block": "block reconstruction",
    "pandas.core.internals.blocks.maybe_coerce_values": "block reconstruction",
    "pandas.core.arrays.categorical._unpickle": "categorical reconstruction",
    "pandas._libs.arrays.__pyx_unpickle_NDArrayBacked": "Cython unpickle helper (type judged)",
    "pandas._libs.internals.__pyx_unpickle_BlockValuesRefs": "Cython unpickle helper",
    "pandas._libs.properties.__pyx_unpickle_CachedProperty": "Cython unpickle helper",
    # joblib's in-pickle array wrappers (the array bytes follow the pickle)
    "joblib.numpy_pickle.NumpyArrayWrapper": "joblib array wrapper",
    "joblib.numpy_pickle_compat.NDArrayWrapper": "old joblib array wrapper",
    "joblib.numpy_pickle_compat.ZNDArrayWrapper": "old joblib compressed array wrapper",
    # gradient boosting libraries: booster objects restore from their own model bytes
    "xgboost.core.Booster": "xgboost booster (state is the model buffer)",
    "lightgbm.basic.Booster": "lightgbm booster (state is the model string)",
    # scipy.sparse classes have lower-case names, so the class pattern cannot match them
    **{
        f"scipy.sparse.{mod}.{kind}_{shape}": "sparse matrix/array class"
        for mod, kind in [
            ("_csr", "csr"),
            ("_csc", "csc"),
            ("_coo", "coo"),
            ("_bsr", "bsr"),
            ("_dia", "dia"),
            ("_dok", "dok"),
            ("_lil", "lil"),
            ("csr", "csr"),
            ("csc", "csc"),
            ("coo", "coo"),
            ("bsr", "bsr"),
            ("dia", "dia"),
            ("dok", "dok"),
            ("lil", "lil"),
        ]
        for shape in ("matrix", "array")
    },
    "scipy.interpolate._bsplines.BSpline": "spline knots and coefficients",
    "scipy._lib.array_api_compat.numpy._aliases.asarray": "numpy.asarray alias",
    # pandas singletons and Cython unpickle helpers (each rebuilds its own type only)
    "pandas.NA": "missing-value singleton",
    "pandas._libs.missing.NA": "missing-value singleton",
    "pandas._libs.interval.__pyx_unpickle_IntervalMixin": "Cython unpickle helper",
    # regular expressions pickle as re._compile(pattern, flags)
    "re._compile": "compiles a regular expression (no code runs)",
    # functions stored as estimator hyper-parameters: imported, and safe if called on data
    **{
        f"numpy.{n}": "numpy reduction used as a hyper-parameter (e.g. pooling_func)"
        for n in [
            "mean",
            "median",
            "average",
            "sum",
            "max",
            "min",
            "amax",
            "amin",
            "std",
            "var",
            "nanmean",
            "nanmedian",
            "nanmax",
            "nanmin",
            "nansum",
        ]
    },
    **{
        f"sklearn.feature_selection._univariate_selection.{n}": "univariate score function"
        for n in ["f_classif", "f_regression", "r_regression", "chi2", "f_oneway"]
    },
    **{
        f"sklearn.feature_selection._mutual_info.{n}": "mutual information score function"
        for n in ["mutual_info_classif", "mutual_info_regression"]
    },
    **{
        f"sklearn.cluster._kmeans.{n}": "k-means algorithm implementation"
        for n in ["_kmeans_single_lloyd", "_kmeans_single_elkan"]
    },
    # scikit-learn helpers that appear inside fitted estimators
    "sklearn.tree._tree.Tree": "decision tree arrays",
    "sklearn.utils._bunch.Bunch": "dict with attribute access",
    # Multi-class gradient boosting keeps its loss, a Cython class with state.
    "sklearn._loss._loss.__pyx_unpickle_CyHalfMultinomialLoss": "Cython unpickle helper",
    **{
        f"sklearn.{m}.newObj": "Cython helper: cls.__new__(cls) (class judged)"
        for m in ("neighbors._kd_tree", "neighbors._ball_tree", "metrics._dist_metrics")
    },
}

ALLOW_CLASSES: tuple[ClassPattern, ...] = (
    ClassPattern(
        "sklearn",
        (
            "sklearn.utils._testing",
            "sklearn.datasets",
            "sklearn.externals",
            "sklearn.tests",
            "sklearn.conftest",
            "sklearn._build_utils",
            "sklearn.utils._show_versions",
            "sklearn.experimental",
            "sklearn.utils.parallel",
        ),
        "estimator and transformer classes: __init__ stores parameters, __setstate__ restores",
    ),
    ClassPattern("xgboost.sklearn", (), "xgboost scikit-learn wrappers"),
    ClassPattern("lightgbm.sklearn", (), "lightgbm scikit-learn wrappers"),
    ClassPattern("scipy.sparse", ("scipy.sparse.linalg",), "sparse matrix classes"),
    ClassPattern(
        "pandas.core",
        ("pandas.core.computation", "pandas.core.config_init"),
        "frames, series, indexes, arrays, dtypes, block managers",
    ),
    ClassPattern("pandas._libs", (), "Cython extension types behind pandas data structures"),
    ClassPattern("pandas.arrays", (), "extension arrays"),
    ClassPattern("pandas.tseries", (), "date offsets and frequencies"),
    ClassPattern("numpy.dtypes", (), "numpy 2 dtype classes"),
    ClassPattern("torch.nn.modules", (), "nn.Module subclasses (torch.save of whole models)"),
    ClassPattern("torch.optim", (), "optimizer and scheduler classes"),
    ClassPattern("torch.ao.quantization", (), "quantization observers and configs"),
    ClassPattern("torch.nn.utils.parametrize", (), "parametrization containers"),
)

# Class names never allowed by pattern even under a vetted prefix: re-exports of these
# would run processes, threads or open files when instantiated.
NEVER_CLASSES = frozenset(
    [
        "Popen",
        "Thread",
        "Timer",
        "Process",
        "Pool",
        "ThreadPool",
        "ThreadPoolExecutor",
        "ProcessPoolExecutor",
        "Executor",
        "HDFStore",
        "ZipFile",
        "TarFile",
        "TemporaryDirectory",
        "NamedTemporaryFile",
        "SpooledTemporaryFile",
        "Parallel",
    ]
)

# Callables (allowed or not) that call or instantiate some of their positional arguments.
HIGHER_ORDER: dict[str, tuple[int, ...]] = {
    "copyreg._reconstructor": (0, 1),
    "copyreg.__newobj__": (0,),
    "copyreg.__newobj_ex__": (0,),
    "torch._tensor._rebuild_from_type": (0, 1),
    "torch._tensor._rebuild_from_type_v2": (0, 1),
    "torch._utils._rebuild_wrapper_subclass": (0,),
    "numpy.core.multiarray._reconstruct": (0,),
    "numpy._core.multiarray._reconstruct": (0,),
    "numpy.ma.core._mareconstruct": (0, 1),
    "numpy.random._pickle.__bit_generator_ctor": (0,),
    "numpy.random._pickle.__generator_ctor": (1,),
    "numpy.random._pickle.__randomstate_ctor": (1,),
    "pandas.core.indexes.base._new_Index": (0,),
    "pandas.core.indexes.datetimes._new_DatetimeIndex": (0,),
    "pandas.core.indexes.period._new_PeriodIndex": (0,),
    "pandas._libs.arrays.__pyx_unpickle_NDArrayBacked": (0,),
    "pandas._libs.internals.__pyx_unpickle_BlockValuesRefs": (0,),
    "pandas._libs.properties.__pyx_unpickle_CachedProperty": (0,),
    "numpy.random.bit_generator.__pyx_unpickle_SeedSequence": (0,),
    "sklearn.neighbors._kd_tree.newObj": (0,),
    "sklearn.neighbors._ball_tree.newObj": (0,),
    "sklearn.metrics._dist_metrics.newObj": (0,),
    "sklearn._loss._loss.__pyx_unpickle_CyHalfMultinomialLoss": (0,),
    "functools.reduce": (0,),
    "operator.call": (0,),
    "_operator.call": (0,),
    "builtins.apply": (0,),
}

# Allowed wrappers whose call result is judged by the callable they wrap.
TRANSPARENT = frozenset({"functools.partial"})
