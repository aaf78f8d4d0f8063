"""The process-wide services for the current environment, one per distinct settings.

Tools built on their own (`MoleculeQA()`) and the assistant use them, so separately built
tools still share one model, one store and one set of resolvers.
"""

from __future__ import annotations

import threading

from biomedgpt_tools.services.biomedgpt_services import BioMedGPTServices
from biomedgpt_tools.services.settings import ToolkitSettings

_SHARED: dict[ToolkitSettings, BioMedGPTServices] = {}
_SHARED_LOCK = threading.Lock()
_MAX_SHARED = 8


def shared_services() -> BioMedGPTServices:
    """The services for the environment's settings, built on first use and then reused."""
    settings = ToolkitSettings.from_env()
    with _SHARED_LOCK:
        services = _SHARED.get(settings)
        if services is None:
            if len(_SHARED) >= _MAX_SHARED:
                _SHARED.pop(next(iter(_SHARED)))  # oldest; its users keep it alive while used
            services = _SHARED[settings] = BioMedGPTServices.build(settings)
        return services
