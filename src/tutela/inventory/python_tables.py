"""Lookup tables for :mod:`tutela.inventory.python_code`: what AI use looks like in Python.

Import names mapped to distributions, the constructors that build hosted-service clients,
the API calls of each SDK (and where each takes its model), provider prefixes, public
hosts and model-name hints. Data only: the analysis that reads them is in ``python_code``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "AGENTS_NAMES",
    "API_TABLES",
    "BOTO_CLIENTS",
    "BOTO_SERVICES",
    "CONSTRUCTORS",
    "DATASET_BUILDERS",
    "DISTINCT_APIS",
    "GOOGLE",
    "HF_ID",
    "HF_LIBS",
    "HF_LOADERS",
    "HOST_SUFFIXES",
    "IMPORT_SDK",
    "LANGCHAIN",
    "LC_MODEL",
    "LLAMA_INDEX",
    "LOCAL_PROVIDERS",
    "MODEL_TEXT",
    "MODULE_URL_ATTRS",
    "NAME_HINTS",
    "OPENAI_APIS",
    "OPENAI_URL",
    "PREFIX_PROVIDERS",
    "PUBLIC_HOSTS",
    "ROUTED",
    "SDK_PROVIDER",
    "SECRET_KWS",
    "URL_ENV",
    "ApiTable",
    "Ctor",
]

# Import name -> distribution lives in tutela.inventory.catalog.AI_IMPORTS (one table
# for code and manifests).
GOOGLE: dict[str, str] = {
    "google.genai": "google-genai",
    "google.generativeai": "google-generativeai",
    "google.cloud.aiplatform": "google-cloud-aiplatform",
    "google.ai.generativelanguage": "google-ai-generativelanguage",
}
# ``agents`` is a common module name: it is the OpenAI Agents SDK only with its names.
AGENTS_NAMES = frozenset(
    {"Agent", "Runner", "function_tool", "handoff", "ModelSettings", "trace",
     "OpenAIChatCompletionsModel", "WebSearchTool", "FileSearchTool", "set_default_openai_key"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Ctor:
    """A class or function that creates a client of a hosted AI service."""

    provider: str
    sdk: str  # which API table the client's methods are looked up in
    model_kws: tuple[str, ...] = ()
    model_pos: int | None = None
    url_kws: tuple[str, ...] = ("base_url",)
    key_pos: int | None = None  # a positional API key (``cohere.Client("…")``)


OPENAI_URL = ("base_url", "api_base", "openai_api_base", "azure_endpoint", "endpoint")
CONSTRUCTORS: dict[str, Ctor] = {
    "openai.OpenAI": Ctor("openai", "openai"),
    "openai.AsyncOpenAI": Ctor("openai", "openai"),
    "openai.AzureOpenAI": Ctor(
        "azure-openai", "openai", ("azure_deployment",), None, ("azure_endpoint", "base_url")
    ),
    "openai.AsyncAzureOpenAI": Ctor(
        "azure-openai", "openai", ("azure_deployment",), None, ("azure_endpoint", "base_url")
    ),
    "anthropic.Anthropic": Ctor("anthropic", "anthropic"),
    "anthropic.AsyncAnthropic": Ctor("anthropic", "anthropic"),
    "anthropic.AnthropicBedrock": Ctor("aws-bedrock", "anthropic"),
    "anthropic.AsyncAnthropicBedrock": Ctor("aws-bedrock", "anthropic"),
    "anthropic.AnthropicVertex": Ctor("google-vertexai", "anthropic"),
    "anthropic.AsyncAnthropicVertex": Ctor("google-vertexai", "anthropic"),
    "google.genai.Client": Ctor("google-genai", "google-genai", url_kws=()),
    "cohere.Client": Ctor("cohere", "cohere", key_pos=0),
    "cohere.ClientV2": Ctor("cohere", "cohere", key_pos=0),
    "cohere.AsyncClient": Ctor("cohere", "cohere", key_pos=0),
    "cohere.AsyncClientV2": Ctor("cohere", "cohere", key_pos=0),
    "mistralai.Mistral": Ctor("mistral", "mistral", url_kws=("server_url",)),
    "mistralai.client.MistralClient": Ctor("mistral", "mistral", url_kws=("endpoint",)),
    "mistralai.async_client.MistralAsyncClient": Ctor("mistral", "mistral"),
    "groq.Groq": Ctor("groq", "openai"),
    "groq.AsyncGroq": Ctor("groq", "openai"),
    "together.Together": Ctor("together", "openai"),
    "together.AsyncTogether": Ctor("together", "openai"),
    "ollama.Client": Ctor("ollama", "ollama", url_kws=("host",)),
    "ollama.AsyncClient": Ctor("ollama", "ollama", url_kws=("host",)),
    "huggingface_hub.InferenceClient": Ctor("hf-inference", "hf-inference", ("model",), 0, ()),
    "huggingface_hub.AsyncInferenceClient": Ctor("hf-inference", "hf-inference", ("model",), 0, ()),
    "replicate.Client": Ctor("replicate", "replicate", url_kws=()),
    "google.generativeai.GenerativeModel": Ctor(
        "google-genai", "none", ("model_name", "model"), 0, ()
    ),
    "vertexai.generative_models.GenerativeModel": Ctor(
        "google-vertexai", "none", ("model_name", "model"), 0, ()
    ),
    "vertexai.preview.generative_models.GenerativeModel": Ctor(
        "google-vertexai", "none", ("model_name", "model"), 0, ()
    ),
    "google.generativeai.configure": Ctor("google-genai", "none", url_kws=()),
    "vertexai.init": Ctor("google-vertexai", "none", url_kws=("api_endpoint",)),
    "google.cloud.aiplatform.init": Ctor("google-vertexai", "none", url_kws=("api_endpoint",)),
    "vertexai.language_models.TextGenerationModel.from_pretrained": Ctor(
        "google-vertexai", "none", ("model_name",), 0, ()
    ),
    "vertexai.language_models.TextEmbeddingModel.from_pretrained": Ctor(
        "google-vertexai", "none", ("model_name",), 0, ()
    ),
}
LC_MODEL = ("model", "model_name", "model_id", "deployment_name", "azure_deployment")
# LangChain integration classes, matched by class name under any ``langchain*`` module.
LANGCHAIN: dict[str, str] = {
    "ChatOpenAI": "openai", "OpenAI": "openai", "OpenAIEmbeddings": "openai",
    "AzureChatOpenAI": "azure-openai", "AzureOpenAI": "azure-openai",
    "AzureOpenAIEmbeddings": "azure-openai", "ChatAnthropic": "anthropic",
    "AnthropicLLM": "anthropic", "ChatBedrock": "aws-bedrock",
    "ChatBedrockConverse": "aws-bedrock", "BedrockLLM": "aws-bedrock",
    "BedrockEmbeddings": "aws-bedrock", "Bedrock": "aws-bedrock",
    "ChatGoogleGenerativeAI": "google-genai", "GoogleGenerativeAI": "google-genai",
    "GoogleGenerativeAIEmbeddings": "google-genai", "ChatVertexAI": "google-vertexai",
    "VertexAI": "google-vertexai", "VertexAIEmbeddings": "google-vertexai",
    "ChatCohere": "cohere", "CohereEmbeddings": "cohere", "ChatMistralAI": "mistral",
    "MistralAIEmbeddings": "mistral", "ChatGroq": "groq", "ChatOllama": "ollama",
    "OllamaLLM": "ollama", "Ollama": "ollama", "OllamaEmbeddings": "ollama",
    "ChatTogether": "together", "HuggingFaceEndpoint": "hf-inference",
    "ChatHuggingFace": "hf-inference", "HuggingFaceEmbeddings": "hf",
}  # fmt: skip
# llama_index.llms.<x> / llama_index.embeddings.<x>: the integration names the provider.
LLAMA_INDEX: dict[str, str] = {
    "openai": "openai", "azure_openai": "azure-openai", "anthropic": "anthropic",
    "bedrock": "aws-bedrock", "bedrock_converse": "aws-bedrock", "gemini": "google-genai",
    "google_genai": "google-genai", "vertex": "google-vertexai", "ollama": "ollama",
    "mistralai": "mistral", "cohere": "cohere", "groq": "groq", "together": "together",
    "huggingface": "hf", "huggingface_api": "hf-inference", "vllm": "hf",
}  # fmt: skip
LOCAL_PROVIDERS = frozenset({"hf", "path"})  # run in-process: no hosted service

OPENAI_APIS = (
    "chat.completions.create", "chat.completions.parse", "chat.completions.stream",
    "beta.chat.completions.parse", "beta.chat.completions.stream", "responses.create",
    "responses.parse", "responses.stream", "completions.create", "embeddings.create",
    "images.generate", "images.edit", "audio.speech.create", "audio.transcriptions.create",
    "audio.translations.create", "moderations.create", "beta.assistants.create",
    "fine_tuning.jobs.create", "realtime.connect", "beta.realtime.connect",
)  # fmt: skip
ApiTable = dict[str, tuple[tuple[str, ...], int | None]]


def _apis(
    names: tuple[str, ...], kws: tuple[str, ...] = ("model",), pos: int | None = None
) -> ApiTable:
    """Each API in ``names`` takes its model through keywords ``kws`` or position ``pos``."""
    return dict.fromkeys(names, (kws, pos))


API_TABLES: dict[str, ApiTable] = {
    "openai": _apis(OPENAI_APIS),
    "anthropic": _apis((
        "messages.create", "messages.stream", "messages.count_tokens",
        "beta.messages.create", "beta.messages.stream", "completions.create",
        "messages.batches.create",
    )),
    "google-genai": _apis((
        "models.generate_content", "models.generate_content_stream",
        "models.embed_content", "models.count_tokens", "models.generate_images",
        "chats.create", "aio.models.generate_content",
        "aio.models.generate_content_stream", "aio.chats.create", "caches.create",
        "live.connect", "aio.live.connect",
    )),
    "cohere": _apis(("chat", "chat_stream", "generate", "embed", "rerank", "classify")),
    "mistral": _apis((
        "chat.complete", "chat.stream", "chat.complete_async", "chat.stream_async",
        "embeddings.create", "fim.complete", "chat", "chat_stream", "embeddings",
    )),
    "ollama": _apis(("chat", "generate", "embed", "embeddings", "pull"), pos=0),
    "bedrock": _apis(
        ("invoke_model", "invoke_model_with_response_stream", "converse", "converse_stream"),
        ("modelId",),
    ),
    "sagemaker": _apis(
        ("invoke_endpoint", "invoke_endpoint_async", "invoke_endpoint_with_response_stream"),
        ("EndpointName",),
    ),
    "hf-inference": _apis((
        "text_generation", "chat_completion", "chat.completions.create",
        "feature_extraction", "text_to_image", "text_classification", "summarization",
    )),
    "replicate": _apis(("run", "stream"), (), 0),
    "none": {},
}  # fmt: skip
SDK_PROVIDER = {
    "openai": "openai", "anthropic": "anthropic", "google-genai": "google-genai",
    "cohere": "cohere", "mistral": "mistral", "ollama": "ollama", "bedrock": "aws-bedrock",
    "sagemaker": "aws-sagemaker", "hf-inference": "hf", "replicate": "replicate",
}  # fmt: skip
# import root -> the SDK whose API a call on an unknown receiver may belong to
IMPORT_SDK = {
    "openai": "openai", "anthropic": "anthropic", "google.genai": "google-genai",
    "mistralai": "mistral", "groq": "openai", "together": "openai", "boto3": "bedrock",
    "cohere": "cohere",
}  # fmt: skip
# Single-word API names are too common to trust on an unknown receiver.
DISTINCT_APIS = frozenset(
    {"invoke_model", "invoke_model_with_response_stream", "converse", "converse_stream",
     "invoke_endpoint"}
)  # fmt: skip
BOTO_CLIENTS = frozenset(
    {"boto3.client", "boto3.Session().client", "boto3.session.Session().client",
     "aioboto3.Session().client"}
)  # fmt: skip
BOTO_SERVICES = {
    "bedrock-runtime": ("aws-bedrock", "bedrock"),
    "bedrock": ("aws-bedrock", "none"),
    "bedrock-agent-runtime": ("aws-bedrock", "none"),
    "bedrock-agent": ("aws-bedrock", "none"),
    "sagemaker-runtime": ("aws-sagemaker", "sagemaker"),
}
# litellm / crewai / dspy "provider/model" prefixes, and pydantic-ai "provider:model".
PREFIX_PROVIDERS = {
    "openai": "openai", "azure": "azure-openai", "azure_ai": "azure-openai",
    "anthropic": "anthropic", "bedrock": "aws-bedrock", "bedrock_converse": "aws-bedrock",
    "sagemaker": "aws-sagemaker", "vertex_ai": "google-vertexai",
    "google-vertex": "google-vertexai", "gemini": "google-genai",
    "google-gla": "google-genai", "google_genai": "google-genai", "cohere": "cohere",
    "cohere_chat": "cohere", "mistral": "mistral", "groq": "groq", "together_ai": "together",
    "together": "together", "ollama": "ollama", "ollama_chat": "ollama",
    "huggingface": "hf-inference", "replicate": "replicate", "openrouter": "openrouter",
    "deepseek": "deepseek", "fireworks_ai": "fireworks", "perplexity": "perplexity",
    "xai": "xai", "watsonx": "ibm-watsonx",
}  # fmt: skip
ROUTED: dict[str, tuple[str, tuple[str, ...], int | None, str]] = {
    # qualified -> (api label, model keywords, positional index, separator)
    "litellm.completion": ("litellm.completion", ("model",), 0, "/"),
    "litellm.acompletion": ("litellm.acompletion", ("model",), 0, "/"),
    "litellm.embedding": ("litellm.embedding", ("model",), 0, "/"),
    "litellm.aembedding": ("litellm.aembedding", ("model",), 0, "/"),
    "litellm.text_completion": ("litellm.text_completion", ("model",), 0, "/"),
    "litellm.image_generation": ("litellm.image_generation", ("model",), 0, "/"),
    "litellm.responses": ("litellm.responses", ("model",), 0, "/"),
    "crewai.LLM": ("crewai.LLM", ("model",), 0, "/"),
    "dspy.LM": ("dspy.LM", ("model",), 0, "/"),
    "pydantic_ai.Agent": ("pydantic_ai.Agent", ("model",), 0, ":"),
    "langchain.chat_models.init_chat_model": ("init_chat_model", ("model",), 0, ":"),
    "agents.Agent": ("agents.Agent", ("model",), None, "/"),
}
HF_LIBS = ("transformers", "diffusers", "peft", "optimum", "sentence_transformers", "trl")
HF_LOADERS: dict[str, tuple[str, tuple[str, ...], int | None]] = {
    "transformers.pipeline": ("pipeline", ("model",), 1),
    "sentence_transformers.SentenceTransformer": (
        "SentenceTransformer", ("model_name_or_path", "model_name"), 0,
    ),
    "sentence_transformers.CrossEncoder": ("CrossEncoder", ("model_name_or_path", "model_name"), 0),
    "vllm.LLM": ("vllm.LLM", ("model",), 0),
    "huggingface_hub.hf_hub_download": ("hf_hub_download", ("repo_id",), 0),
    "huggingface_hub.snapshot_download": ("snapshot_download", ("repo_id",), 0),
}  # fmt: skip
DATASET_BUILDERS = frozenset(
    {"csv", "json", "parquet", "text", "arrow", "pandas", "imagefolder", "audiofolder",
     "videofolder", "webdataset", "sql", "xml"}
)  # fmt: skip
URL_ENV = {
    "OPENAI_BASE_URL": ("openai", "openai"), "OPENAI_API_BASE": ("openai", "openai"),
    "AZURE_OPENAI_ENDPOINT": ("azure-openai", "openai"),
    "ANTHROPIC_BASE_URL": ("anthropic", "anthropic"), "OLLAMA_HOST": ("ollama", "ollama"),
}  # fmt: skip
MODULE_URL_ATTRS = {"openai.api_base", "openai.base_url", "openai.azure_endpoint"}
SECRET_KWS = frozenset(
    {"api_key", "openai_api_key", "anthropic_api_key", "cohere_api_key", "mistral_api_key",
     "google_api_key", "groq_api_key", "together_api_key", "aws_secret_access_key",
     "aws_access_key_id", "api_token", "hf_token", "token", "huggingfacehub_api_token"}
)  # fmt: skip
# Shared hosts mean the provider itself; any other host is a custom endpoint.
PUBLIC_HOSTS = {
    "api.openai.com": "openai", "api.anthropic.com": "anthropic", "api.groq.com": "groq",
    "api.together.xyz": "together", "api.together.ai": "together",
    "api.mistral.ai": "mistral", "api.cohere.com": "cohere", "api.cohere.ai": "cohere",
    "generativelanguage.googleapis.com": "google-genai", "openrouter.ai": "openrouter",
    "api.deepseek.com": "deepseek", "api.fireworks.ai": "fireworks",
    "api.perplexity.ai": "perplexity", "api.x.ai": "xai",
}  # fmt: skip
HOST_SUFFIXES = (
    (".openai.azure.com", "azure-openai"),
    (".cognitiveservices.azure.com", "azure-openai"),
    (".services.ai.azure.com", "azure-openai"),
    ("-aiplatform.googleapis.com", "google-vertexai"),
    (".amazonaws.com", "aws"),
)
NAME_HINTS = (
    (("gpt-", "o1", "o3", "o4", "chatgpt", "text-embedding", "dall-e", "whisper", "tts-",
      "davinci", "babbage"), "openai"),
    (("claude",), "anthropic"),
    (("gemini",), "google-genai"),
    (("command", "embed-english", "embed-multilingual", "rerank-"), "cohere"),
    (("mistral", "codestral", "open-mistral", "pixtral", "ministral"), "mistral"),
)  # fmt: skip
MODEL_TEXT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:/@+\-]{0,199}")
HF_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*(/[A-Za-z0-9][A-Za-z0-9_.\-]*)?")
