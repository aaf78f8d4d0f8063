"""biomedgpt-tools: BioMedGPT-10B for LLM agents.

The core import is light: subpackages (model, resolvers, store, tools) are imported
on demand so `biomedgpt resolve` never pays for torch and the model never pulls in LangChain.
"""

__version__ = "0.1.0"
