"""PythonDetector: frameworks, services, models, constants and bad input over a fixture tree."""

from __future__ import annotations

import random
import string
from collections import defaultdict
from pathlib import Path

import pytest

from tutela.inventory.interface import FileInput, Finding, ItemKind, Problem
from tutela.inventory.python_code import (
    MAX_SOURCE_BYTES,
    PythonDetector,
    collect_constants,
    module_name,
)

_RNG = random.Random(20240607)  # fixed: fixture keys are the same on every run


def _key(length: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(_RNG.choice(alphabet) for _ in range(length))


OPENAI_KEY = "sk-proj-" + _key(48)
COHERE_KEY = _key(40)
AZURE_KEY = _key(32, "0123456789abcdef")
MISTRAL_KEY = _key(32)
SECRET_VALUES = (OPENAI_KEY, COHERE_KEY, AZURE_KEY, MISTRAL_KEY)

FILES: dict[str, str] = {
    "openai_app.py": """\
import os
from openai import OpenAI, AzureOpenAI

MODEL = "gpt-4o-mini"
client = OpenAI()
azure = AzureOpenAI(azure_endpoint="https://contoso.openai.azure.com/", api_version="2024-06-01")
local = OpenAI(base_url="http://llm.internal:8000/v1")


def chat(prompt):
    client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": prompt}])
    client.responses.create(model=os.getenv("OPENAI_MODEL", "gpt-4.1"), input=prompt)
    azure.chat.completions.create(model="gpt4o-deployment", messages=[])
    local.chat.completions.create(model="qwen2.5-7b", messages=[])
""",
    "settings.py": """\
class Settings:
    claude_model = "claude-3-5-sonnet-20241022"
    gemini: str = "gemini-1.5-flash"


CONFIG = {"llm": {"model": "mistral-large-latest"}}
""",
    "anthropic_app.py": """\
import anthropic
from settings import Settings

client = anthropic.Anthropic()


def run():
    return client.messages.create(model=Settings.claude_model, max_tokens=10, messages=[])
""",
    "google_app.py": """\
import os
from google import genai
import google.generativeai as palm
import vertexai
from vertexai.generative_models import GenerativeModel
from settings import Settings

client = genai.Client()
client.models.generate_content(model=Settings.gemini, contents="hi")
palm.configure(api_key=os.environ["GOOGLE_API_KEY"])
legacy = palm.GenerativeModel("gemini-1.5-pro")
vertexai.init(project="p", location="us-central1")
GenerativeModel("gemini-1.0-pro")
""",
    "aws_app.py": """\
import json
import boto3

bedrock = boto3.client("bedrock-runtime", region_name="us-east-1")
sm = boto3.Session().client("sagemaker-runtime")


def go():
    bedrock.invoke_model(modelId="anthropic.claude-3-haiku-20240307-v1:0", body=json.dumps({}))
    bedrock.converse(modelId="amazon.titan-text-express-v1", messages=[])
    sm.invoke_endpoint(EndpointName="churn-xgb-prod", Body=b"")
""",
    "s3_only.py": """\
import boto3

s3 = boto3.client("s3")
s3.list_buckets()
""",
    "others_app.py": """\
import os
import cohere
import litellm
import ollama
from groq import Groq
from mistralai import Mistral
from together import Together

co = cohere.ClientV2()
co.chat(model="command-r-plus", messages=[])
mistral = Mistral(api_key=os.environ["MISTRAL_API_KEY"])
mistral.chat.complete(model="mistral-small-latest", messages=[])
ollama.chat(model="llama3", messages=[])
oc = ollama.Client(host="http://gpu-box:11434")
oc.generate(model="qwen2:7b", prompt="x")
litellm.completion(model="anthropic/claude-3-5-sonnet", messages=[])
litellm.completion(model="gpt-4o", messages=[])
Groq().chat.completions.create(model="llama-3.1-8b-instant", messages=[])
Together().chat.completions.create(model="meta-llama/Llama-3-70b-chat-hf", messages=[])
""",
    "langchain_app.py": """\
from langchain_anthropic import ChatAnthropic
from langchain_aws import ChatBedrock
from langchain_core.prompts import ChatPromptTemplate
from langchain_mistralai import ChatMistralAI
from langchain_openai import ChatOpenAI
from settings import CONFIG

llm = ChatOpenAI(model="gpt-4o", temperature=0)
claude = ChatAnthropic(model_name="claude-3-opus-20240229")
br = ChatBedrock(model_id="meta.llama3-70b-instruct-v1:0")
mis = ChatMistralAI(model=CONFIG["llm"]["model"])
prompt = ChatPromptTemplate.from_messages([("system", "You are gpt-4o")])
""",
    "llamaindex_app.py": """\
from llama_index.core import VectorStoreIndex
from llama_index.embeddings.huggingface import HuggingFaceEmbedding
from llama_index.llms.openai import OpenAI

llm = OpenAI(model="gpt-4o-mini")
emb = HuggingFaceEmbedding(model_name="BAAI/bge-small-en-v1.5")
""",
    "hf_app.py": """\
import torch
from datasets import load_dataset
from huggingface_hub import hf_hub_download
from sentence_transformers import SentenceTransformer
from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline
from vllm import LLM

BASE = "meta-llama"
NAME = f"{BASE}/Llama-3.1-8B-Instruct"
model = AutoModelForSequenceClassification.from_pretrained(
    "distilbert-base-uncased-finetuned-sst-2-english"
)
tok = AutoTokenizer.from_pretrained("./models/tokenizer")
clf = pipeline("text-classification", model="distilbert-base-uncased")
emb = SentenceTransformer("all-MiniLM-L6-v2")
engine = LLM(model=NAME)
path = hf_hub_download(repo_id="TheBloke/Mistral-7B-GGUF", filename="m.gguf")
data = hf_hub_download(repo_id="org/data", filename="x.csv", repo_type="dataset")
ds = load_dataset("imdb")
""",
    "ml_app.py": """\
import autogen
import crewai
import cv2
import dspy
import guidance
import haystack
import instructor
import jax
import keras
import lightgbm
import mlflow
import onnxruntime
import sklearn
import tensorflow as tf
import tiktoken
import xgboost as xgb
from agents import Agent, Runner
from sklearn.ensemble import RandomForestClassifier

agent = Agent(name="a", model="gpt-4.1-mini")
""",
    "env_app.py": """\
import os

os.environ["OPENAI_BASE_URL"] = "https://proxy.corp.example/v1"
os.environ.setdefault("AZURE_OPENAI_ENDPOINT", "https://team.openai.azure.com")
""",
    "pkg/__init__.py": "",
    "pkg/config.py": 'CHAT_MODEL = "gpt-4o-2024-08-06"\nEMBED = "text-embedding-3-small"\n',
    "pkg/service.py": """\
from openai import OpenAI

from . import config
from .config import CHAT_MODEL


class Helper:
    def __init__(self):
        self.client = OpenAI()
        self.model = CHAT_MODEL

    def ask(self):
        return self.client.chat.completions.create(model=self.model, messages=[])

    def embed(self):
        return self.client.embeddings.create(model=config.EMBED, input="x")
""",
    "agent_lib.py": """\
from anthropic import Anthropic


class Helper:
    def __init__(self, client: Anthropic):
        self.client = client

    def ask(self):
        return self.client.messages.create(model="claude-3-7-sonnet-latest", messages=[])


def summarize(client):
    return client.messages.create(model="claude-3-5-haiku-latest", messages=[])
""",
    "secrets_app.py": f"""\
import os
import cohere
from mistralai import Mistral
from openai import OpenAI
OPENAI_KEY = "{OPENAI_KEY}"
client = OpenAI(api_key=OPENAI_KEY)
co = cohere.Client("{COHERE_KEY}")
AZURE_OPENAI_API_KEY = "{AZURE_KEY}"
mistral = Mistral(api_key="{MISTRAL_KEY}")
safe = OpenAI(api_key=os.environ["OPENAI_API_KEY"])
""",
    "django_app/models.py": """\
from django.db import models

from . import models as sibling


class Post(models.Model):
    \"\"\"A post about gpt-4 and claude.\"\"\"

    title = models.CharField(max_length=200)
    model = models.ForeignKey("Model", on_delete=models.CASCADE)
""",
    "negatives.py": """\
# We once used gpt-4o and claude-3-opus here.
\"\"\"Docstring mentioning openai.OpenAI(model='gpt-4o').\"\"\"
import pandas as pd

from . import models

TEXT = "import openai; client = openai.OpenAI(); model='gpt-4o'"
API_KEY = "sk-test-1234567890abcdefghijklmnop"
PLACEHOLDER = "sk-..."
KEY2 = "<your key>"
model = pd.read_csv("model.csv")


def fit(model="gpt-4o"):
    return model.fit()


class Model:
    pass


m = Model()
m.predict(model="claude-3")
m.chat.completions.create(model="gpt-4o")
""",
}

F, S, M, D, K = (
    ItemKind.FRAMEWORK,
    ItemKind.SERVICE,
    ItemKind.MODEL,
    ItemKind.DATASET,
    ItemKind.SECRET,
)
EXPECTED: set[tuple[str, ItemKind, str]] = {
    ("openai_app.py", F, "pypi/openai"),
    ("openai_app.py", S, "service/openai"),
    ("openai_app.py", S, "service/url/https://contoso.openai.azure.com"),
    ("openai_app.py", S, "service/url/http://llm.internal:8000/v1"),
    ("openai_app.py", M, "openai/gpt-4o-mini"),
    ("openai_app.py", M, "openai/gpt-4.1"),
    ("openai_app.py", M, "azure-openai/gpt4o-deployment"),
    ("openai_app.py", M, "openai-compatible/qwen2.5-7b"),
    ("anthropic_app.py", F, "pypi/anthropic"),
    ("anthropic_app.py", S, "service/anthropic"),
    ("anthropic_app.py", M, "anthropic/claude-3-5-sonnet-20241022"),
    ("google_app.py", F, "pypi/google-genai"),
    ("google_app.py", F, "pypi/google-generativeai"),
    ("google_app.py", F, "pypi/google-cloud-aiplatform"),
    ("google_app.py", S, "service/google-genai"),
    ("google_app.py", S, "service/google-vertexai"),
    ("google_app.py", M, "google-genai/gemini-1.5-flash"),
    ("google_app.py", M, "google-genai/gemini-1.5-pro"),
    ("google_app.py", M, "google-vertexai/gemini-1.0-pro"),
    ("aws_app.py", F, "pypi/boto3"),
    ("aws_app.py", S, "service/aws-bedrock"),
    ("aws_app.py", S, "service/aws-sagemaker"),
    ("aws_app.py", M, "aws-bedrock/anthropic.claude-3-haiku-20240307-v1:0"),
    ("aws_app.py", M, "aws-bedrock/amazon.titan-text-express-v1"),
    ("aws_app.py", M, "aws-sagemaker/churn-xgb-prod"),
    ("others_app.py", F, "pypi/cohere"),
    ("others_app.py", F, "pypi/mistralai"),
    ("others_app.py", F, "pypi/ollama"),
    ("others_app.py", F, "pypi/litellm"),
    ("others_app.py", F, "pypi/groq"),
    ("others_app.py", F, "pypi/together"),
    ("others_app.py", S, "service/cohere"),
    ("others_app.py", S, "service/mistral"),
    ("others_app.py", S, "service/ollama"),
    ("others_app.py", S, "service/url/http://gpu-box:11434"),
    ("others_app.py", S, "service/anthropic"),
    ("others_app.py", S, "service/openai"),
    ("others_app.py", S, "service/groq"),
    ("others_app.py", S, "service/together"),
    ("others_app.py", M, "cohere/command-r-plus"),
    ("others_app.py", M, "mistral/mistral-small-latest"),
    ("others_app.py", M, "ollama/llama3"),
    ("others_app.py", M, "ollama/qwen2:7b"),
    ("others_app.py", M, "anthropic/claude-3-5-sonnet"),
    ("others_app.py", M, "openai/gpt-4o"),
    ("others_app.py", M, "groq/llama-3.1-8b-instant"),
    ("others_app.py", M, "together/meta-llama/Llama-3-70b-chat-hf"),
    ("langchain_app.py", F, "pypi/langchain-openai"),
    ("langchain_app.py", F, "pypi/langchain-anthropic"),
    ("langchain_app.py", F, "pypi/langchain-aws"),
    ("langchain_app.py", F, "pypi/langchain-core"),
    ("langchain_app.py", F, "pypi/langchain-mistralai"),
    ("langchain_app.py", S, "service/openai"),
    ("langchain_app.py", S, "service/anthropic"),
    ("langchain_app.py", S, "service/aws-bedrock"),
    ("langchain_app.py", S, "service/mistral"),
    ("langchain_app.py", M, "openai/gpt-4o"),
    ("langchain_app.py", M, "anthropic/claude-3-opus-20240229"),
    ("langchain_app.py", M, "aws-bedrock/meta.llama3-70b-instruct-v1:0"),
    ("langchain_app.py", M, "mistral/mistral-large-latest"),
    ("llamaindex_app.py", F, "pypi/llama-index-core"),
    ("llamaindex_app.py", F, "pypi/llama-index-llms-openai"),
    ("llamaindex_app.py", F, "pypi/llama-index-embeddings-huggingface"),
    ("llamaindex_app.py", S, "service/openai"),
    ("llamaindex_app.py", M, "openai/gpt-4o-mini"),
    ("llamaindex_app.py", M, "hf/BAAI/bge-small-en-v1.5"),
    ("hf_app.py", F, "pypi/torch"),
    ("hf_app.py", F, "pypi/transformers"),
    ("hf_app.py", F, "pypi/sentence-transformers"),
    ("hf_app.py", F, "pypi/vllm"),
    ("hf_app.py", F, "pypi/huggingface-hub"),
    ("hf_app.py", F, "pypi/datasets"),
    ("hf_app.py", M, "hf/distilbert-base-uncased-finetuned-sst-2-english"),
    ("hf_app.py", M, "path/./models/tokenizer"),
    ("hf_app.py", M, "hf/distilbert-base-uncased"),
    ("hf_app.py", M, "hf/all-MiniLM-L6-v2"),
    ("hf_app.py", M, "hf/meta-llama/Llama-3.1-8B-Instruct"),
    ("hf_app.py", M, "hf/TheBloke/Mistral-7B-GGUF"),
    ("hf_app.py", D, "hf/org/data"),
    ("hf_app.py", D, "hf/imdb"),
    *(
        ("ml_app.py", F, f"pypi/{dist}")
        for dist in (
            "scikit-learn",
            "xgboost",
            "lightgbm",
            "mlflow",
            "tensorflow",
            "keras",
            "opencv-python",
            "onnxruntime",
            "jax",
            "tiktoken",
            "instructor",
            "dspy",
            "crewai",
            "pyautogen",
            "haystack-ai",
            "guidance",
            "openai-agents",
        )
    ),
    ("ml_app.py", S, "service/openai"),
    ("ml_app.py", M, "openai/gpt-4.1-mini"),
    ("env_app.py", S, "service/url/https://proxy.corp.example/v1"),
    ("env_app.py", S, "service/url/https://team.openai.azure.com"),
    ("pkg/service.py", F, "pypi/openai"),
    ("pkg/service.py", S, "service/openai"),
    ("pkg/service.py", M, "openai/gpt-4o-2024-08-06"),
    ("pkg/service.py", M, "openai/text-embedding-3-small"),
    ("agent_lib.py", F, "pypi/anthropic"),
    ("agent_lib.py", S, "service/anthropic"),
    ("agent_lib.py", M, "anthropic/claude-3-7-sonnet-latest"),
    ("agent_lib.py", M, "anthropic/claude-3-5-haiku-latest"),
    ("secrets_app.py", F, "pypi/openai"),
    ("secrets_app.py", F, "pypi/cohere"),
    ("secrets_app.py", F, "pypi/mistralai"),
    ("secrets_app.py", S, "service/openai"),
    ("secrets_app.py", S, "service/cohere"),
    ("secrets_app.py", S, "service/mistral"),
    ("secrets_app.py", K, "secret/openai-api-key@secrets_app.py:5"),
    ("secrets_app.py", K, "secret/cohere-api-key@secrets_app.py:7"),
    ("secrets_app.py", K, "secret/azure-openai-api-key@secrets_app.py:8"),
    ("secrets_app.py", K, "secret/mistral-api-key@secrets_app.py:9"),
}


def _file(root: Path, rel: str) -> FileInput:
    data = (root / rel).read_bytes()
    return FileInput(root=root, rel=rel, data=data, size=len(data), truncated=False)


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _run(root: Path, files: dict[str, str]) -> tuple[list[Finding], list[Problem]]:
    _write(root, files)
    constants = dict(collect_constants(_file(root, rel)) for rel in files)
    detector = PythonDetector(project_constants=constants)
    findings: list[Finding] = []
    problems: list[Problem] = []
    for rel in files:
        assert detector.wants(rel, rel.rsplit("/", 1)[-1])
        found, trouble = detector.detect(_file(root, rel))
        findings += found
        problems += trouble
    return findings, problems


@pytest.fixture(scope="module")
def fixture_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Finding], list[Problem]]:
    return _run(tmp_path_factory.mktemp("tree"), FILES)


def test_precision_and_recall_per_kind(fixture_run: tuple[list[Finding], list[Problem]]) -> None:
    """Over the fixture tree, every kind has precision and recall of at least 0.95."""
    findings, problems = fixture_run
    assert problems == []
    got = {(f.location.path, f.kind, f.identity) for f in findings}
    for kind in (F, S, M, D, K):
        want = {e for e in EXPECTED if e[1] is kind}
        have = {g for g in got if g[1] is kind}
        hits = len(want & have)
        precision = hits / len(have) if have else 1.0
        recall = hits / len(want) if want else 1.0
        detail = f"{kind}: missing {sorted(want - have)}, extra {sorted(have - want)}"
        assert precision >= 0.95, detail
        assert recall >= 0.95, detail


def test_negatives_report_nothing(fixture_run: tuple[list[Finding], list[Problem]]) -> None:
    """Django models, words in comments and strings, placeholders and S3-only boto3 are silent."""
    findings, _ = fixture_run
    for rel in ("negatives.py", "django_app/models.py", "s3_only.py", "settings.py"):
        assert [f for f in findings if f.location.path == rel] == [], rel


def test_models_carry_location_provider_api_and_service(
    fixture_run: tuple[list[Finding], list[Problem]],
) -> None:
    """A model finding names its line, provider, API and the service it is served by."""
    findings, _ = fixture_run
    mini = next(f for f in findings if f.identity == "openai/gpt-4o-mini" and f.kind is M)
    assert str(mini.location) == "openai_app.py:11"
    assert mini.properties == {
        "provider": "openai",
        "api": "chat.completions.create",
        "service": "service/openai",
    }
    assert mini.confidence.value == "inferred"
    assert mini.detector == "discover.python"


def test_env_default_is_reported_with_its_variable(
    fixture_run: tuple[list[Finding], list[Problem]],
) -> None:
    """``os.getenv("X", "default")`` gives the default, noting the variable."""
    findings, _ = fixture_run
    model = next(f for f in findings if f.identity == "openai/gpt-4.1")
    assert model.properties["from_env"] == "OPENAI_MODEL"


def test_custom_endpoint_is_a_url_service(
    fixture_run: tuple[list[Finding], list[Problem]],
) -> None:
    """A base_url makes a ``service/url/…`` with the URL and the SDK used."""
    findings, _ = fixture_run
    svc = next(f for f in findings if f.identity == "service/url/http://llm.internal:8000/v1")
    assert svc.properties["base_url"] == "http://llm.internal:8000/v1"
    assert svc.properties["provider_sdk"] == "openai"
    model = next(f for f in findings if f.identity == "openai-compatible/qwen2.5-7b")
    assert model.properties["service"] == svc.identity


def test_local_path_model_is_marked_local(
    fixture_run: tuple[list[Finding], list[Problem]],
) -> None:
    """A path given to from_pretrained is a ``path/…`` model with ``local: true``."""
    findings, _ = fixture_run
    local = next(f for f in findings if f.identity == "path/./models/tokenizer")
    assert local.properties["local"] is True
    assert "service" not in local.properties


def test_secret_values_never_appear(fixture_run: tuple[list[Finding], list[Problem]]) -> None:
    """No finding's repr holds a secret value or a long part of one."""
    findings, _ = fixture_run
    text = repr(findings)
    for value in SECRET_VALUES:
        assert value not in text
        assert value[-12:] not in text


def test_module_name_and_collected_constants(tmp_path: Path) -> None:
    """collect_constants gives dotted names and literal constants, classes, dicts, instances."""
    assert module_name("src/app/config.py") == "src.app.config"
    assert module_name("pkg/__init__.py") == "pkg"
    _write(
        tmp_path,
        {
            "conf.py": (
                'import os\nA = "x"\nB = A + "-y"\nE = os.getenv("E", "dflt")\n'
                'D = {"k": {"n": B}}\nclass C:\n    m: str = f"{A}!"\nc = C()\n'
            )
        },
    )
    name, consts = collect_constants(_file(tmp_path, "conf.py"))
    assert name == "conf"
    assert consts == {
        "A": "x",
        "B": "x-y",
        "E": "dflt",
        "D.k.n": "x-y",
        "C.m": "x!",
        "c.m": "x!",
    }


def test_unresolved_values_are_not_guessed(tmp_path: Path) -> None:
    """A model from a call result or parameter is not reported; the service still is."""
    findings, _ = _run(
        tmp_path,
        {
            "a.py": (
                "import openai\nc = openai.OpenAI()\n"
                "def f(name):\n    c.chat.completions.create(model=name)\n"
                "    c.chat.completions.create(model=pick())\n"
            )
        },
    )
    assert {(f.kind, f.identity) for f in findings} == {
        (F, "pypi/openai"),
        (S, "service/openai"),
    }


def test_never_executes_the_code(tmp_path: Path) -> None:
    """Top-level code that would write a marker file is only parsed."""
    marker = tmp_path / "marker"
    source = f"open({str(marker)!r}, 'w').write('ran')\nimport openai\n"
    findings, problems = _run(tmp_path, {"evil.py": source})
    assert not marker.exists()
    assert problems == [] and [f.identity for f in findings] == ["pypi/openai"]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\x00\x01\x02\xff\xfebinary junk", "binary"),
        (b"def f(:\n    pass\n", "line 1"),
        (b"x = (" * 300 + b"1" + b")" * 300, "nest"),
        (b"x = 1\nif True:\nprint('no indent')\n", "line 3"),
        (b"\xff\xfe\xfa not utf8 = 1\n", "not"),
    ],
)
def test_bad_source_is_a_problem(tmp_path: Path, data: bytes, expected: str) -> None:
    """Junk, syntax errors and deep nesting become one Problem naming the file, never a crash."""
    (tmp_path / "bad.py").write_bytes(data)
    findings, problems = PythonDetector().detect(_file(tmp_path, "bad.py"))
    assert findings == []
    assert len(problems) == 1 and problems[0].path == "bad.py"
    assert expected in problems[0].message.lower()


def test_deep_expression_recursion_is_a_problem(tmp_path: Path) -> None:
    """An expression deep enough to exhaust recursion is reported, not raised."""
    source = b"import openai\nx = " + b"-" * 200_000 + b"1\n"
    (tmp_path / "deep.py").write_bytes(source)
    _, problems = PythonDetector().detect(_file(tmp_path, "deep.py"))
    assert len(problems) == 1 and "deep" in problems[0].message


def test_oversized_or_truncated_file_is_a_problem(tmp_path: Path) -> None:
    """Files over the size limit, or handed over truncated, are skipped with a Problem."""
    data = b"import openai\n"
    big = FileInput(tmp_path, "big.py", data, MAX_SOURCE_BYTES + 1, False)
    cut = FileInput(tmp_path, "cut.py", data, len(data), True)
    for file in (big, cut):
        findings, problems = PythonDetector().detect(file)
        assert findings == [] and len(problems) == 1 and "limit" in problems[0].message
    assert collect_constants(big) == ("big", {})


def test_wants_python_files_only() -> None:
    """The detector asks for .py and .pyi files only."""
    detector = PythonDetector()
    assert detector.wants("a/b.py", "b.py") and detector.wants("s.pyi", "s.pyi")
    assert not detector.wants("n.ipynb", "n.ipynb") and not detector.wants("x.pyc", "x.pyc")


def test_findings_are_grouped_once_per_line(
    fixture_run: tuple[list[Finding], list[Problem]],
) -> None:
    """No (kind, identity, location) triple is reported twice."""
    findings, _ = fixture_run
    counts: dict[tuple[ItemKind, str, str], int] = defaultdict(int)
    for f in findings:
        counts[(f.kind, f.identity, str(f.location))] += 1
    assert max(counts.values()) == 1
