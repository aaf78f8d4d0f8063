"""Protocol logic written once, run both blocking and async.

A lookup is a generator that yields `HttpRequest`s and receives `HttpResponse`s (sans-IO);
`run_sync` drives it with blocking transports (thread-safe), `run_async` with async ones, so
PubChem/UniProt rules live in one place and the two APIs cannot drift apart. A transport's
ResolverError is thrown into the generator, which may recover (an optional description that
could not be fetched) or let it propagate.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import TypeVar

from biomedgpt_tools.resolvers.outcomes import ResolverError
from biomedgpt_tools.resolvers.transport import HttpRequest, HttpResponse, ServiceTransport

T = TypeVar("T")
Exchange = Generator[HttpRequest, HttpResponse, T]


def run_sync(exchange: Exchange[T], transports: Mapping[str, ServiceTransport]) -> T:
    try:
        request = next(exchange)
        while True:
            try:
                response = transports[request.service].send(request)
            except ResolverError as error:
                request = exchange.throw(error)
            else:
                request = exchange.send(response)
    except StopIteration as done:
        return done.value


async def run_async(exchange: Exchange[T], transports: Mapping[str, ServiceTransport]) -> T:
    try:
        request = next(exchange)
        while True:
            try:
                response = await transports[request.service].send_async(request)
            except ResolverError as error:
                request = exchange.throw(error)
            else:
                request = exchange.send(response)
    except StopIteration as done:
        return done.value
