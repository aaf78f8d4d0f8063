"""A local PubChem + UniProt server for the resolver tests and benchmarks (test data only).

from biomedgpt_tools.testing.resolver_server import ResolverTestServer, Fault
"""

from .entities import EntityCatalog
from .faults import Fault
from .server import RecordedRequest, ResolverTestServer

__all__ = ["EntityCatalog", "Fault", "RecordedRequest", "ResolverTestServer"]
