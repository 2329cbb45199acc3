"""Curated denylist: imports a model pickle has no business making, each with a reason.

A pattern names a dotted path; it matches that path and everything under it
(``"os"`` matches ``os.system`` and ``os.path.join``). The most specific pattern wins.
Categories drive the rule id: ``code`` entries rebuild functions from marshalled or source
code (``pickle.marshalled-code``); all others are ``pickle.denied-import``.

Sources consulted for the facts (our own list, not a copy): picklescan's and modelscan's
unsafe globals, fickling's unsafe imports, modelaudit's suspicious symbols, and the
public write-ups of bypasses those lists missed.
"""

from __future__ import annotations

from typing import NamedTuple

from tutela.scan.interface import Severity

__all__ = ["DENYLIST", "DenyEntry"]

C = Severity.CRITICAL
H = Severity.HIGH


class DenyEntry(NamedTuple):
    pattern: str
    severity: Severity
    category: str  # exec | code | nested | reach | process | file | network | state
    reason: str


DENYLIST: tuple[DenyEntry, ...] = (
    # --- operating system and processes ------------------------------------------------
    DenyEntry(
        "os",
        C,
        "process",
        "os.system/popen/exec*/spawn*/fork run programs; os also writes files and env",
    ),
    DenyEntry(
        "posix", C, "process", "the C module behind os on POSIX: posix.system runs a shell command"
    ),
    DenyEntry(
        "nt", C, "process", "the C module behind os on Windows: nt.system runs a shell command"
    ),
    DenyEntry("subprocess", C, "process", "spawns arbitrary programs"),
    DenyEntry("_posixsubprocess", C, "process", "fork_exec spawns arbitrary programs"),
    DenyEntry(
        "commands",
        C,
        "process",
        "Python 2 precursor of subprocess (mapped to subprocess for protocols < 3)",
    ),
    DenyEntry("popen2", C, "process", "Python 2 process spawning"),
    DenyEntry("pty", C, "process", "pty.spawn runs a program on a pseudo-terminal"),
    DenyEntry(
        "multiprocessing",
        C,
        "process",
        "multiprocessing.util.spawnv_passfds execs programs; workers run callables",
    ),
    DenyEntry("_multiprocessing", C, "process", "low-level process and semaphore primitives"),
    DenyEntry("concurrent", C, "process", "executors and interpreters run submitted callables"),
    DenyEntry("_thread", C, "exec", "start_new_thread calls a callable in a new thread"),
    DenyEntry("threading", H, "exec", "Thread/Timer objects run callables"),
    DenyEntry("signal", H, "process", "installs signal handlers, sends signals"),
    DenyEntry("resource", H, "process", "changes process resource limits"),
    DenyEntry(
        "atexit", C, "exec", "atexit.register schedules a callable to run at interpreter exit"
    ),
    DenyEntry(
        "asyncio",
        C,
        "process",
        "create_subprocess_shell/exec and event loops run programs and callables",
    ),
    DenyEntry(
        "platform",
        H,
        "process",
        "some helpers shell out (platform._syscmd_ver, popen in old versions)",
    ),
    DenyEntry("uuid._get_command_stdout", C, "process", "runs an external command"),
    DenyEntry(
        "webbrowser",
        H,
        "process",
        "webbrowser.open starts a browser process (command taken from $BROWSER)",
    ),
    DenyEntry("antigravity", H, "process", "opens a web browser on import"),
    DenyEntry("tkinter", C, "exec", "Tcl interpreters evaluate Tcl code, which can exec programs"),
    DenyEntry("_tkinter", C, "exec", "Tcl interpreters evaluate Tcl code, which can exec programs"),
    # --- interpreters, code execution ----------------------------------------------------
    DenyEntry("builtins.eval", C, "exec", "evaluates a Python expression"),
    DenyEntry("builtins.exec", C, "exec", "executes Python source or a code object"),
    DenyEntry("builtins.execfile", C, "exec", "Python 2: executes a source file"),
    DenyEntry("builtins.compile", C, "code", "builds code objects from source"),
    DenyEntry("builtins.__import__", C, "exec", "imports any module (running its top-level code)"),
    DenyEntry(
        "builtins.breakpoint", C, "exec", "enters a debugger (sys.breakpointhook may run anything)"
    ),
    DenyEntry("builtins.input", H, "exec", "reads stdin, blocks the loading process"),
    DenyEntry("builtins.raw_input", H, "exec", "Python 2 input"),
    DenyEntry("builtins.open", H, "file", "opens any file for reading or writing"),
    DenyEntry("builtins.file", H, "file", "Python 2 file()"),
    DenyEntry(
        "builtins.getattr",
        C,
        "reach",
        "reaches any attribute of any object, e.g. a module's system function",
    ),
    DenyEntry("builtins.setattr", C, "reach", "overwrites attributes of modules and classes"),
    DenyEntry("builtins.delattr", C, "reach", "deletes attributes of modules and classes"),
    DenyEntry("builtins.globals", C, "reach", "exposes the caller's global namespace"),
    DenyEntry("builtins.locals", C, "reach", "exposes the caller's local namespace"),
    DenyEntry(
        "builtins.vars", C, "reach", "exposes any object's namespace, e.g. vars(os)['system']"
    ),
    DenyEntry("builtins.dir", H, "reach", "enumerates attributes to reach callables"),
    DenyEntry("builtins.apply", C, "exec", "Python 2: calls any callable"),
    DenyEntry("builtins.reload", C, "exec", "Python 2: re-executes a module"),
    DenyEntry("builtins.help", H, "exec", "starts the interactive help (pager subprocess)"),
    DenyEntry("builtins.memoryview", H, "reach", "raw views over buffers"),
    DenyEntry("runpy", C, "exec", "run_path/run_module/_run_code execute Python files and code"),
    DenyEntry("code", C, "exec", "InteractiveInterpreter/InteractiveConsole execute source"),
    DenyEntry("codeop", C, "code", "compiles source into code objects"),
    DenyEntry("_xxsubinterpreters", C, "exec", "run_string executes source in a sub-interpreter"),
    DenyEntry("_interpreters", C, "exec", "run_string executes source in a sub-interpreter"),
    DenyEntry("_xxinterpchannels", C, "exec", "sub-interpreter channels"),
    DenyEntry("interpreters", C, "exec", "sub-interpreters execute source"),
    DenyEntry("importlib", C, "exec", "import_module/reload/machinery load and execute modules"),
    DenyEntry("imp", C, "exec", "load_source/load_module execute modules"),
    DenyEntry(
        "pkgutil",
        C,
        "exec",
        "resolve_name resolves and imports any object; loaders execute modules",
    ),
    DenyEntry("zipimport", C, "exec", "imports modules from an archive"),
    DenyEntry("site", C, "exec", "addsitedir executes .pth files"),
    DenyEntry(
        "sys",
        C,
        "reach",
        "sys.modules reaches every module; settrace/setprofile/hooks run callables",
    ),
    DenyEntry("gc", H, "reach", "get_objects/get_referrers reach any live object"),
    DenyEntry("inspect", H, "reach", "reaches frames, globals and source"),
    DenyEntry("ctypes", C, "exec", "calls native functions, reads and writes raw memory"),
    DenyEntry("_ctypes", C, "exec", "calls native functions, reads and writes raw memory"),
    DenyEntry("cffi", C, "exec", "loads and calls native code"),
    DenyEntry("timeit", C, "exec", "Timer/timeit compile and execute statements"),
    DenyEntry("profile", C, "exec", "run/runctx/Profile.run execute statements"),
    DenyEntry("cProfile", C, "exec", "run/runctx execute statements"),
    DenyEntry("_lsprof", H, "exec", "profiler hooks call callables"),
    DenyEntry("trace", C, "exec", "Trace.run/runctx/runfunc execute code"),
    DenyEntry("pdb", C, "exec", "run/runeval/runcall execute code in a debugger"),
    DenyEntry("bdb", C, "exec", "Bdb.run/runeval/runcall execute code"),
    DenyEntry("doctest", C, "exec", "debug_script/run_docstring_examples execute source"),
    DenyEntry(
        "idlelib", C, "exec", "IDLE's shell, run and autocomplete helpers execute or evaluate code"
    ),
    DenyEntry("lib2to3", C, "nested", "pgen grammar loading unpickles files"),
    DenyEntry(
        "distutils",
        C,
        "process",
        "spawn runs programs; file_util writes files; core runs setup scripts",
    ),
    DenyEntry("setuptools", C, "process", "runs setup scripts and build commands"),
    DenyEntry("pkg_resources", C, "exec", "entry points import and call arbitrary objects"),
    DenyEntry(
        "pip",
        C,
        "process",
        "pip.main / pip._internal.cli.main.main install packages, running their build code",
    ),
    DenyEntry("ensurepip", C, "process", "_run_pip runs pip"),
    DenyEntry("venv", C, "process", "EnvBuilder runs pip in a subprocess"),
    DenyEntry(
        "pydoc", C, "exec", "locate imports anything; pipepager/tempfilepager run shell commands"
    ),
    DenyEntry("unittest", H, "exec", "test runners import and run code by name"),
    DenyEntry(
        "test", C, "process", "CPython's test package: script_helper runs interpreters and code"
    ),
    DenyEntry(
        "logging.config",
        C,
        "exec",
        "dictConfig instantiates any callable named in config; listen opens a socket",
    ),
    DenyEntry("IPython", C, "exec", "run_cell and magics execute code and shell commands"),
    DenyEntry("ipykernel", C, "exec", "kernels execute code"),
    DenyEntry("numexpr", C, "exec", "evaluate() parses expressions with eval"),
    DenyEntry("sympy.sympify", C, "exec", "sympify evaluates strings"),
    DenyEntry("sympy.parsing", C, "exec", "parsers evaluate strings"),
    DenyEntry("jinja2", H, "code", "templates compile to Python code"),
    DenyEntry("operator.attrgetter", C, "reach", "reaches any attribute: attrgetter('system')(os)"),
    DenyEntry("operator.methodcaller", C, "exec", "calls any method by name on any object"),
    DenyEntry("operator.itemgetter", H, "reach", "reaches any item, e.g. of a module namespace"),
    DenyEntry("operator.getitem", H, "reach", "reaches any item, e.g. of sys.modules or vars(os)"),
    DenyEntry("operator.call", C, "exec", "calls any callable"),
    DenyEntry("operator.setitem", H, "state", "writes into mappings such as sys.modules"),
    DenyEntry("operator.delitem", H, "state", "deletes from mappings such as sys.modules"),
    DenyEntry(
        "_operator", C, "reach", "C implementation of operator (attrgetter, methodcaller, call)"
    ),
    DenyEntry("functools.reduce", C, "exec", "calls a callable repeatedly"),
    DenyEntry("copyreg.add_extension", C, "state", "re-targets EXT opcodes to arbitrary globals"),
    DenyEntry("copyreg.pickle", H, "state", "registers reducers process-wide"),
    DenyEntry("copy_reg.add_extension", C, "state", "Python 2 name of copyreg.add_extension"),
    # --- functions rebuilt from code --------------------------------------------------------
    DenyEntry("types.FunctionType", C, "code", "builds a function from a code object"),
    DenyEntry("types.LambdaType", C, "code", "builds a function from a code object"),
    DenyEntry("types.CodeType", C, "code", "builds a code object from raw bytecode"),
    DenyEntry("types.MethodType", C, "code", "binds any callable as a method"),
    DenyEntry("types.new_class", C, "exec", "exec_body callback runs at class creation"),
    DenyEntry("types.ModuleType", H, "code", "builds module objects"),
    DenyEntry("marshal", C, "code", "marshal.loads rebuilds code objects from bytes"),
    DenyEntry(
        "dill",
        C,
        "code",
        "dill._dill._create_function/_create_code/_load_type/_import_module rebuild code",
    ),
    DenyEntry(
        "cloudpickle",
        C,
        "code",
        "_make_function/_builtin_type/subimport/_make_skeleton_class rebuild code",
    ),
    DenyEntry("srsly.cloudpickle", C, "code", "vendored cloudpickle"),
    DenyEntry("joblib.externals.cloudpickle", C, "code", "vendored cloudpickle"),
    DenyEntry("joblib.externals.loky", C, "process", "process pools"),
    DenyEntry("keras.utils.func_load", C, "code", "rebuilds a function from marshalled bytecode"),
    DenyEntry(
        "keras.src.utils.python_utils.func_load",
        C,
        "code",
        "rebuilds a function from marshalled bytecode",
    ),
    DenyEntry("keras.layers.Lambda", C, "code", "Lambda layers carry arbitrary Python functions"),
    DenyEntry(
        "keras.src.layers.core.lambda_layer",
        C,
        "code",
        "Lambda layers carry arbitrary Python functions",
    ),
    DenyEntry(
        "tensorflow.python.keras.layers.core.Lambda",
        C,
        "code",
        "Lambda layers carry arbitrary Python functions",
    ),
    DenyEntry("tf_keras", H, "code", "legacy Keras: Lambda layers and func_load rebuild code"),
    DenyEntry(
        "tensorflow.python.ops.script_ops",
        C,
        "exec",
        "py_func/numpy_function call Python callables",
    ),
    DenyEntry("tensorflow.io", H, "file", "reads and writes files (gfile)"),
    # --- nested deserialisation -------------------------------------------------------------
    DenyEntry(
        "pickle",
        C,
        "nested",
        "loads/load/Unpickler deserialise a nested pickle the scanner cannot see",
    ),
    DenyEntry("_pickle", C, "nested", "C pickle: nested deserialisation"),
    DenyEntry("cPickle", C, "nested", "Python 2 pickle"),
    DenyEntry("shelve", C, "nested", "opens pickle-backed databases"),
    DenyEntry("jsonpickle", C, "nested", "decode instantiates arbitrary objects"),
    DenyEntry("yaml", C, "nested", "yaml.load/unsafe_load construct arbitrary Python objects"),
    DenyEntry("joblib.load", C, "nested", "loads a nested joblib pickle"),
    DenyEntry("joblib.numpy_pickle.load", C, "nested", "loads a nested joblib pickle"),
    DenyEntry("numpy.load", C, "nested", "loads .npy/.npz, with allow_pickle a nested pickle"),
    DenyEntry("numpy.lib.npyio", H, "file", "load/loadtxt/save read and write files"),
    DenyEntry("numpy.lib._npyio_impl", H, "file", "load/loadtxt/save read and write files"),
    DenyEntry("numpy.lib.format", H, "nested", "read_array may unpickle"),
    DenyEntry("numpy.fromfile", H, "file", "reads any file"),
    DenyEntry("numpy.memmap", H, "file", "maps any file"),
    DenyEntry("numpy.loadtxt", H, "file", "reads any file"),
    DenyEntry("numpy.genfromtxt", H, "file", "reads any file"),
    DenyEntry("numpy.save", H, "file", "writes files"),
    DenyEntry("numpy.savez", H, "file", "writes files"),
    DenyEntry("numpy.testing", C, "exec", "numpy.testing._private.utils.runstring is exec"),
    DenyEntry("numpy.f2py", C, "exec", "helpers evaluate strings; builds and runs compilers"),
    DenyEntry("numpy.distutils", C, "process", "build helpers spawn compilers and exec setup code"),
    DenyEntry("numpy.ctypeslib", C, "exec", "load_library loads native libraries"),
    DenyEntry("pandas.read_pickle", C, "nested", "loads a nested pickle"),
    DenyEntry("pandas.io", H, "file", "readers and writers open files, URLs and databases"),
    DenyEntry("pandas.eval", C, "exec", "evaluates expressions"),
    DenyEntry("pandas.core.computation", C, "exec", "expression evaluation engines"),
    DenyEntry("pandas._testing", H, "exec", "test helpers"),
    DenyEntry(
        "sklearn.utils._testing", C, "process", "assert_run_python_script runs code in a subprocess"
    ),
    DenyEntry("sklearn.datasets", H, "network", "fetch_* download files and write caches"),
    DenyEntry(
        "torch.load", C, "nested", "loads a nested checkpoint (pickle) the scanner cannot see"
    ),
    DenyEntry("torch.serialization.load", C, "nested", "loads a nested checkpoint"),
    DenyEntry("torch.serialization._load", C, "nested", "loads a nested checkpoint"),
    DenyEntry("torch.serialization._legacy_load", C, "nested", "loads a nested checkpoint"),
    DenyEntry("torch.hub", C, "exec", "hub.load downloads a repository and runs its hubconf.py"),
    DenyEntry(
        "torch.jit", C, "code", "compiles and runs TorchScript; jit.load loads code archives"
    ),
    DenyEntry("torch.package", C, "exec", "PackageImporter imports code stored in the package"),
    DenyEntry(
        "torch._inductor", C, "process", "codecache.compile_file runs a compiler command line"
    ),
    DenyEntry("torch._dynamo", C, "exec", "guard builders evaluate generated code"),
    DenyEntry(
        "torch.fx.experimental.symbolic_shapes",
        C,
        "exec",
        "ShapeEnv.evaluate_guards_expression evals",
    ),
    DenyEntry(
        "torch.fx.graph_module", H, "code", "GraphModule recompiles Python code from a graph"
    ),
    DenyEntry("torch.utils.collect_env", C, "process", "run() executes a shell command"),
    DenyEntry("torch.utils.cpp_extension", C, "process", "compiles and loads native extensions"),
    DenyEntry("torch.utils.bottleneck", C, "exec", "runs scripts under profilers"),
    DenyEntry(
        "torch.utils._config_module", C, "nested", "ConfigModule.load_config unpickles bytes"
    ),
    DenyEntry(
        "torch.utils.data.datapipes.utils.decoder", C, "nested", "basichandlers unpickle bytes"
    ),
    DenyEntry("torch.testing._internal", C, "process", "test helpers run subprocesses"),
    DenyEntry(
        "torch.distributed",
        H,
        "network",
        "rpc and stores open network connections and run remote calls",
    ),
    DenyEntry("torch.ops", H, "exec", "dispatches to any registered (custom) operator"),
    DenyEntry("torch._ops", H, "exec", "dispatches to any registered operator"),
    DenyEntry("torch.classes", H, "exec", "instantiates any registered custom class"),
    DenyEntry("torch.cuda", H, "exec", "device state; memory snapshots and profilers"),
    DenyEntry(
        "tensorflow.keras.models.load_model", C, "nested", "loads a nested model with its code"
    ),
    DenyEntry("keras.models.load_model", C, "nested", "loads a nested model with its code"),
    DenyEntry(
        "keras.saving", C, "nested", "load_model deserialises nested models and custom objects"
    ),
    # --- files ----------------------------------------------------------------------------------
    DenyEntry("shutil", H, "file", "rmtree/move/copy/chown/unpack_archive change the file system"),
    DenyEntry("tempfile", H, "file", "creates files and directories"),
    DenyEntry("io.open", H, "file", "opens files"),
    DenyEntry("io.FileIO", H, "file", "opens files"),
    DenyEntry("io.open_code", H, "file", "opens files"),
    DenyEntry("_io.open", H, "file", "opens files"),
    DenyEntry("_io.FileIO", H, "file", "opens files"),
    DenyEntry("codecs.open", H, "file", "opens files"),
    DenyEntry("fileinput", H, "file", "opens files"),
    DenyEntry("zipfile", H, "file", "opens and extracts archives"),
    DenyEntry("tarfile", H, "file", "opens and extracts archives (path traversal)"),
    DenyEntry("glob", H, "file", "lists the file system"),
    DenyEntry("mmap", H, "file", "maps files into memory"),
    DenyEntry("sqlite3", H, "file", "opens databases, loads extensions"),
    DenyEntry("dbm", H, "file", "opens database files"),
    DenyEntry("py_compile", H, "file", "compiles and writes .pyc files"),
    DenyEntry("compileall", H, "file", "compiles and writes .pyc files"),
    DenyEntry("zipapp", H, "file", "writes executable archives"),
    DenyEntry("mailcap", C, "process", "findmatch builds shell commands"),
    # --- network ---------------------------------------------------------------------------------
    DenyEntry("socket", H, "network", "opens network connections"),
    DenyEntry("_socket", H, "network", "opens network connections"),
    DenyEntry(
        "ssl",
        H,
        "network",
        "get_server_certificate and sockets reach the network (DNS exfiltration)",
    ),
    DenyEntry("socketserver", H, "network", "listens on the network"),
    DenyEntry("http", H, "network", "HTTP clients and servers"),
    DenyEntry("httplib", H, "network", "Python 2 HTTP client"),
    DenyEntry("urllib", H, "network", "urlopen/urlretrieve fetch URLs"),
    DenyEntry("urllib2", H, "network", "Python 2 URL fetching"),
    DenyEntry("urllib3", H, "network", "HTTP client"),
    DenyEntry("requests", H, "network", "HTTP client"),
    DenyEntry("httpx", H, "network", "HTTP client"),
    DenyEntry("aiohttp", H, "network", "HTTP client and server"),
    DenyEntry("ftplib", H, "network", "FTP client"),
    DenyEntry("smtplib", H, "network", "sends mail"),
    DenyEntry("telnetlib", H, "network", "telnet client"),
    DenyEntry("poplib", H, "network", "mail client"),
    DenyEntry("imaplib", H, "network", "mail client"),
    DenyEntry("nntplib", H, "network", "news client"),
    DenyEntry("xmlrpc", H, "network", "remote procedure calls"),
    DenyEntry("xmlrpclib", H, "network", "Python 2 remote procedure calls"),
    DenyEntry("paramiko", H, "network", "SSH client"),
)
