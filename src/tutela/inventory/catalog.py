"""Which Python distributions are AI/ML frameworks or AI service SDKs.

Shared by the manifest, environment, container and code detectors so that a framework
declared in ``pyproject.toml``, installed in a virtual environment and imported in code
merges into one item (``pypi/<normalised name>``). Names are kept normalised (PEP 503).
A general-purpose cloud SDK (``boto3``) is not an AI SDK by itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

__all__ = [
    "AI_DISTRIBUTIONS",
    "AI_DISTRIBUTION_PREFIXES",
    "AI_IMPORTS",
    "is_ai_distribution",
    "normalise_distribution",
]

_SEPARATORS = re.compile(r"[-_.]+")


def normalise_distribution(name: str) -> str:
    """The PEP 503 normalised form: lower case, runs of ``-``, ``_``, ``.`` become ``-``."""
    return _SEPARATORS.sub("-", name.strip()).lower()


AI_DISTRIBUTIONS: frozenset[str] = frozenset(
    {
        # Also named by the code detector's import table (AI_IMPORTS): one catalogue, so a
        # framework found in code and declared in a manifest is never "shadow AI".
        "anthropic-bedrock", "deepeval", "guardrails-ai", "keras-hub", "keras-nlp",
        "nemoguardrails", "opencv-python", "optimum", "ragas", "tensorflow-hub",
        "ultralytics", "unsloth", "xformers",
        # AI service SDKs
        "openai", "anthropic", "google-genai", "google-generativeai", "google-cloud-aiplatform",
        "vertexai", "cohere", "mistralai", "groq", "together", "replicate", "fireworks-ai",
        "voyageai", "ollama", "litellm", "azure-ai-inference", "azure-ai-ml", "ai21",
        "huggingface-hub", "openai-agents", "mcp", "fastmcp", "tiktoken",
        # orchestration and agent frameworks
        "langchain", "langchain-core", "langchain-community", "langchain-openai",
        "langchain-anthropic", "langchain-text-splitters", "langgraph", "langsmith",
        "llama-index", "llama-index-core", "haystack-ai", "farm-haystack", "semantic-kernel",
        "pyautogen", "autogen", "autogen-agentchat", "crewai", "smolagents", "pydantic-ai",
        "dspy", "dspy-ai", "instructor", "guidance", "outlines",
        # model libraries and runtimes
        "transformers", "sentence-transformers", "tokenizers", "safetensors", "accelerate",
        "peft", "trl", "diffusers", "bitsandbytes", "vllm", "llama-cpp-python",
        "ctransformers", "gpt4all", "torch", "torchvision", "torchaudio", "pytorch-lightning",
        "lightning", "deepspeed", "timm", "fastai", "tensorflow", "tensorflow-cpu",
        "tensorflow-gpu", "tf-keras", "keras", "jax", "jaxlib", "flax", "optax",
        "onnx", "onnxruntime", "onnxruntime-gpu", "openvino", "tensorrt", "mxnet",
        "paddlepaddle", "scikit-learn", "xgboost", "lightgbm", "catboost", "spacy", "gensim",
        # data, tracking and serving for ML
        "datasets", "evaluate", "mlflow", "wandb", "bentoml", "tritonclient",
        # vector stores used for retrieval-augmented generation
        "chromadb", "pinecone", "pinecone-client", "weaviate-client", "qdrant-client",
        "faiss-cpu", "faiss-gpu", "pymilvus", "lancedb",
    }
)  # fmt: skip

# Families published as many small distributions (langchain-aws, llama-index-llms-openai).
AI_DISTRIBUTION_PREFIXES: tuple[str, ...] = (
    "langchain-",
    "langgraph-",
    "llama-index-",
    "autogen-",
)


def is_ai_distribution(name: str) -> bool:
    """Whether a distribution (any spelling) is an AI/ML framework or AI SDK."""
    norm = normalise_distribution(name)
    return norm in AI_DISTRIBUTIONS or norm.startswith(AI_DISTRIBUTION_PREFIXES)


# Top-level import name -> distribution, where they differ or matter to the code detector.
AI_IMPORTS: Mapping[str, str] = MappingProxyType(
    {
         "openai": "openai", "anthropic": "anthropic", "google.genai": "google-genai",
         "google.generativeai": "google-generativeai", "vertexai": "google-cloud-aiplatform",
         "google.cloud.aiplatform": "google-cloud-aiplatform", "cohere": "cohere",
         "mistralai": "mistralai", "groq": "groq", "together": "together",
         "replicate": "replicate", "ollama": "ollama", "litellm": "litellm",
         "langchain": "langchain", "langchain_core": "langchain-core",
         "langchain_community": "langchain-community", "langchain_openai": "langchain-openai",
         "langgraph": "langgraph", "llama_index": "llama-index", "transformers": "transformers",
         "sentence_transformers": "sentence-transformers", "vllm": "vllm", "torch": "torch",
         "tensorflow": "tensorflow", "keras": "keras", "sklearn": "scikit-learn",
         "xgboost": "xgboost", "lightgbm": "lightgbm", "catboost": "catboost",
         "mlflow": "mlflow", "huggingface_hub": "huggingface-hub", "datasets": "datasets",
         "onnxruntime": "onnxruntime", "onnx": "onnx", "jax": "jax", "flax": "flax",
         "diffusers": "diffusers", "peft": "peft", "accelerate": "accelerate",
         "safetensors": "safetensors", "tiktoken": "tiktoken", "mcp": "mcp",
         "fastmcp": "fastmcp", "llama_cpp": "llama-cpp-python", "spacy": "spacy",
         "pydantic_ai": "pydantic-ai", "crewai": "crewai", "dspy": "dspy",
         "haystack": "haystack-ai", "semantic_kernel": "semantic-kernel", "autogen": "pyautogen",
         "autogen_agentchat": "autogen-agentchat", "chromadb": "chromadb",
         "pinecone": "pinecone", "qdrant_client": "qdrant-client", "faiss": "faiss-cpu",
         "lightning": "lightning", "pytorch_lightning": "pytorch-lightning",
         "langsmith": "langsmith", "torchvision": "torchvision", "torchaudio": "torchaudio",
         "tf_keras": "tf-keras", "instructor": "instructor", "guidance": "guidance",
         "trl": "trl", "bitsandbytes": "bitsandbytes", "optimum": "optimum", "timm": "timm",
         "tokenizers": "tokenizers", "fastai": "fastai", "smolagents": "smolagents",
         "weaviate": "weaviate-client", "gpt4all": "gpt4all", "ctransformers": "ctransformers",
         "cv2": "opencv-python", "gensim": "gensim", "deepspeed": "deepspeed", "wandb": "wandb",
         "evaluate": "evaluate", "outlines": "outlines", "guardrails": "guardrails-ai",
         "nemoguardrails": "nemoguardrails", "ragas": "ragas", "deepeval": "deepeval",
         "keras_nlp": "keras-nlp", "keras_hub": "keras-hub", "tensorflow_hub": "tensorflow-hub",
         "paddle": "paddlepaddle", "xformers": "xformers", "unsloth": "unsloth",
         "ultralytics": "ultralytics", "anthropic_bedrock": "anthropic-bedrock",
    }
)  # fmt: skip
