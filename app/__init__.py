"""azure-openai-gateway: an OpenAI-compatible gateway in front of Azure OpenAI's Chat Completions API."""

__version__ = "0.1.0"
