"""Secrets: each credential type by pattern or context, placeholders ignored, values never shown."""

from __future__ import annotations

import hashlib
import random
import string

import pytest

from tutela.inventory.interface import ItemKind
from tutela.inventory.secrets import find_secrets, is_placeholder, secret_from_literal

_RNG = random.Random(4242)
_B62 = string.ascii_letters + string.digits


def _r(n: int, alphabet: str = _B62) -> str:
    return "".join(_RNG.choice(alphabet) for _ in range(n))


KEYS = {
    "openai-legacy": "sk-" + _r(48),
    "openai-proj": "sk-proj-" + _r(40) + "_" + _r(40),
    "anthropic": "sk-ant-api03-" + _r(86) + "-" + _r(6) + "AA",
    "aws-id": "AKIA" + _r(16, string.ascii_uppercase + string.digits),
    "aws-secret": _r(40, _B62 + "/+"),
    "google": "AIza" + _r(35),
    "hf": "hf_" + _r(34, string.ascii_letters),
    "groq": "gsk_" + _r(52),
    "cohere": _r(40),
    "mistral": _r(32),
    "azure": _r(32, "0123456789abcdef"),
}

TEXT = f"""\
OPENAI_API_KEY = "{KEYS["openai-legacy"]}"
client = OpenAI(api_key="{KEYS["openai-proj"]}")
anthropic_key: '{KEYS["anthropic"]}'
aws_access_key_id = "{KEYS["aws-id"]}"
aws_secret_access_key = "{KEYS["aws-secret"]}"
url = "https://maps.googleapis.com/?key={KEYS["google"]}"
HF_TOKEN={KEYS["hf"]}
export GROQ_API_KEY={KEYS["groq"]}
COHERE_API_KEY = "{KEYS["cohere"]}"
  "mistral_api_key": "{KEYS["mistral"]}",
AZURE_OPENAI_API_KEY: {KEYS["azure"]}
"""

EXPECTED = {
    ("openai-api-key", 1),
    ("openai-api-key", 2),
    ("anthropic-api-key", 3),
    ("aws-access-key-id", 4),
    ("aws-secret-access-key", 5),
    ("google-api-key", 6),
    ("huggingface-token", 7),
    ("groq-api-key", 8),
    ("cohere-api-key", 9),
    ("mistral-api-key", 10),
    ("azure-openai-api-key", 11),
}


def test_every_type_is_found_with_its_line() -> None:
    """Each provider's key is found once, with its type and line."""
    findings = find_secrets(TEXT, "config/app.env")
    got = {(f.properties["type"], f.location.line) for f in findings}
    assert got == EXPECTED
    assert all(f.kind is ItemKind.SECRET for f in findings)
    one = next(f for f in findings if f.location.line == 3)
    assert one.identity == "secret/anthropic-api-key@config/app.env:3"
    assert one.name == "Anthropic API key" and one.detector == "discover.secrets"


def test_values_never_appear_in_findings() -> None:
    """Neither a value nor any 8-character piece of it is in any finding's repr."""
    text = repr(find_secrets(TEXT, "a.env"))
    for value in KEYS.values():
        assert value not in text
        pieces = {value[i : i + 8] for i in range(0, len(value) - 8, 4)}
        assert not [p for p in pieces if p in text], value


def test_fingerprint_is_sha256_of_the_value() -> None:
    """The fingerprint tracks rotation: the SHA-256 of the exact value."""
    findings = find_secrets(f'key = "{KEYS["google"]}"', "x.py")
    digest = hashlib.sha256(KEYS["google"].encode()).hexdigest()
    assert findings[0].properties == {"type": "google-api-key", "fingerprint": "sha256:" + digest}


def test_aws_secret_is_found_near_an_access_key_id() -> None:
    """A bare 40-character literal next to an AWS key id is its secret."""
    text = f'creds = ("{KEYS["aws-id"]}",\n         "{KEYS["aws-secret"]}")\n'
    got = {(f.properties["type"], f.location.line) for f in find_secrets(text, "c.py")}
    assert got == {("aws-access-key-id", 1), ("aws-secret-access-key", 2)}


@pytest.mark.parametrize(
    "text",
    [
        'OPENAI_API_KEY = "sk-..."',
        'OPENAI_API_KEY = "sk-test-abcdefghijklmnopqrstuvwxyz123"',
        'OPENAI_API_KEY = "sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"',
        'key = "sk-proj-YOUR_KEY_HERE_0000000000000000000000"',
        'api_key = "<your key>"',
        "OPENAI_API_KEY = os.environ['OPENAI_API_KEY']",
        'OPENAI_API_KEY = os.getenv("OPENAI_API_KEY")',
        "OPENAI_API_KEY=${OPENAI_API_KEY}",
        'aws_access_key_id = "AKIAIOSFODNN7EXAMPLE"',
        'aws_secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"',
        'COHERE_API_KEY = "1234567890abcdefghij1234567890abcdefghij"',
        "MISTRAL_API_KEY = settings.mistral_api_key_from_vault_2024",
        'OPENAI_MODEL = "gpt-4o-mini-2024-07-18-preview"',
        "the risk-assessment-framework-guidelines-2024 document",
        "task-1234567890123456789012 and desk-ABCDEFGHIJKLMNOPQRSTUVWX",
    ],
)
def test_placeholders_and_lookups_are_not_secrets(text: str) -> None:
    """Documentation placeholders, env lookups and look-alike words are never reported."""
    assert find_secrets(text, "x.py") == []


def test_is_placeholder() -> None:
    """Placeholder markers and low-variety values are placeholders; random keys are not."""
    assert is_placeholder("sk-...") and is_placeholder("aaaaaaaaaaaaaaaaaaaaaaaa")
    assert not is_placeholder(KEYS["openai-legacy"])


def test_secret_from_literal_uses_the_sdk_hint() -> None:
    """A prefix-less literal given to an SDK is typed by the SDK; a prefixed one by itself."""
    cohere = secret_from_literal(KEYS["cohere"], "a.py", 4, hint="cohere")
    assert cohere is not None and cohere.identity == "secret/cohere-api-key@a.py:4"
    generic = secret_from_literal(KEYS["mistral"], "a.py", 5, hint=None)
    assert generic is not None and generic.properties["type"] == "generic-api-key"
    prefixed = secret_from_literal(KEYS["groq"], "a.py", 6, hint="openai")
    assert prefixed is not None and prefixed.properties["type"] == "groq-api-key"
    assert secret_from_literal("sk-test", "a.py", 1, hint="openai") is None
    assert secret_from_literal("not a key at all", "a.py", 1, hint="openai") is None


def test_same_value_on_one_line_is_reported_once() -> None:
    """A key matched by its prefix and by its name is one finding."""
    text = f'OPENAI_API_KEY = "{KEYS["openai-legacy"]}"  # {KEYS["openai-legacy"]}'
    assert len(find_secrets(text, "x.py")) == 1


def test_cell_and_output_identities() -> None:
    """In a notebook cell the identity names the cell; an output has no line."""
    line = f'k = "{KEYS["hf"]}"\n'
    (in_cell,) = find_secrets(line, "n.ipynb", cell=2)
    (in_output,) = find_secrets(line, "n.ipynb", cell=2, output=True)
    assert in_cell.identity == "secret/huggingface-token@n.ipynb:cell2:1"
    assert in_output.identity == "secret/huggingface-token@n.ipynb:cell2:output"
    assert in_output.location.line is None and in_output.properties["cell"] == 2


def test_large_text_is_scanned_quickly() -> None:
    """A few megabytes of key-like text is scanned without pathological slowness."""
    import time

    text = ("api_key = " + "a1" * 60 + "\n") * 20_000 + "sk-" * 100_000
    start = time.perf_counter()
    find_secrets(text, "big.txt")
    assert time.perf_counter() - start < 10
