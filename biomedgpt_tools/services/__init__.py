"""The services the tools, bulk annotation and evaluations call: model backend, resolvers, memory.

    from biomedgpt_tools.services import BioMedGPTServices
    services = BioMedGPTServices.from_env()        # BIOMEDGPT_MODEL, BIOMEDGPT_HOME, ...
    answer = services.backend.answer([question])[0]

Below the LangChain tools and free of LangChain (one concern per module: settings.py,
backend_choice.py, resolution.py, memory.py, biomedgpt_services.py, shared.py).
"""

from biomedgpt_tools.services.backend_choice import build_backend
from biomedgpt_tools.services.biomedgpt_services import BioMedGPTServices
from biomedgpt_tools.services.errors import NoStructureKeyError, ServicesError
from biomedgpt_tools.services.memory import AnnotationMemory, AnswerToRemember
from biomedgpt_tools.services.settings import ToolkitSettings
from biomedgpt_tools.services.shared import shared_services

__all__ = [
    "AnnotationMemory",
    "AnswerToRemember",
    "BioMedGPTServices",
    "NoStructureKeyError",
    "ServicesError",
    "ToolkitSettings",
    "build_backend",
    "shared_services",
]
