"""Where the store lives and how to reach it: an embedded folder or a Chroma server.

Chroma's embedded `PersistentClient` keeps the HNSW index in process memory and is not safe
for several writer processes (Chroma's docs; users report corrupted indexes). So the embedded
mode takes an exclusive `flock` on a lock file in the store folder for as long as the store is
open, and a second process gets `StoreBusyError` telling it to use a server instead. Setting
`BIOMEDGPT_CHROMA_URL` (or passing `url=`) switches to `HttpClient`, where the server
serialises writers and any number of processes may write.
"""

from __future__ import annotations

import fcntl
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from biomedgpt_tools.environment import HOME_ENV, biomedgpt_home
from biomedgpt_tools.store.errors import StoreBusyError, StoreUnavailableError

CHROMA_URL_ENV = "BIOMEDGPT_CHROMA_URL"
STORE_DIRNAME = "annotations"
LOCK_FILENAME = "biomedgpt-writer.lock"


def default_store_path() -> Path:
    """$BIOMEDGPT_HOME/annotations, or the platform's user data folder when the variable is unset."""
    return biomedgpt_home() / STORE_DIRNAME


@dataclass(frozen=True)
class StoreLocation:
    """Exactly one of `path` (embedded) or `url` (Chroma server)."""

    path: Path | None = None
    url: str | None = None

    @property
    def is_server(self) -> bool:
        return self.url is not None

    def describe(self) -> str:
        return f"Chroma server {self.url}" if self.url else f"embedded store {self.path}"


def resolve_location(
    path: str | os.PathLike[str] | None = None, url: str | None = None
) -> StoreLocation:
    """Arguments win over the environment; the server URL wins over the default folder."""
    if path is not None and url is not None:
        raise StoreUnavailableError(
            "pass either path= (embedded store) or url= (Chroma server), not both"
        )
    if url is not None:
        return StoreLocation(url=_check_url(url))
    if path is not None:
        return StoreLocation(path=Path(path).expanduser().resolve())
    env_url = os.environ.get(CHROMA_URL_ENV, "").strip()
    if env_url:
        return StoreLocation(url=_check_url(env_url))
    return StoreLocation(path=default_store_path().resolve())


def _check_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise StoreUnavailableError(
            f"Chroma server URL {url!r} is not http(s)://HOST:PORT; "
            f"e.g. {CHROMA_URL_ENV}=http://127.0.0.1:8000 after `chroma run --path DIR --port 8000`"
        )
    try:
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError as error:
        raise StoreUnavailableError(f"Chroma server URL {url!r} has a bad port: {error}") from error
    return url.strip().rstrip("/")


def _chroma_settings():
    from chromadb.config import Settings

    return Settings(anonymized_telemetry=False, allow_reset=False)


def connect_server(url: str):
    """An HttpClient for `url`, checked with a heartbeat so a wrong URL fails here, clearly."""
    import chromadb

    parts = urlsplit(url)
    ssl = parts.scheme == "https"
    port = parts.port or (443 if ssl else 8000)
    try:
        client = chromadb.HttpClient(
            host=parts.hostname, port=port, ssl=ssl, settings=_chroma_settings()
        )
        client.heartbeat()
    except Exception as error:  # httpx/chromadb raise many types for "no server there"
        raise StoreUnavailableError(
            f"cannot reach the Chroma server at {url} ({type(error).__name__}: {error}); "
            f"start one with `chroma run --path DIR --host {parts.hostname} --port {port}` "
            f"or unset {CHROMA_URL_ENV} to use the embedded store"
        ) from error
    return client


def connect_embedded(path: Path):
    """A PersistentClient on `path` (created if missing)."""
    import chromadb

    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StoreUnavailableError(
            f"cannot create the store folder {path}: {error}; set {HOME_ENV} or pass path="
        ) from error
    return chromadb.PersistentClient(path=str(path), settings=_chroma_settings())


class WriterLock:
    """Exclusive, process-wide hold on an embedded store folder.

    flock locks belong to an open file, so two opens in one process would refuse each other;
    stores opened twice in one process share one lock (reference count). A forked child
    inherits the parent's open file but not its right to write: the owning pid is checked.
    The kernel drops the lock when the process dies, even by SIGKILL, so a crash never leaves
    a stale lock behind.
    """

    _held: dict[Path, tuple[int, int, int]] = {}  # folder -> (fd, owner pid, open count)
    _guard = threading.Lock()

    def __init__(self, folder: Path):
        self.folder = folder
        self._released = False
        with WriterLock._guard:
            held = WriterLock._held.get(folder)
            if held is not None and held[1] == os.getpid():
                WriterLock._held[folder] = (held[0], held[1], held[2] + 1)
                return
            folder.mkdir(parents=True, exist_ok=True)
            lock_path = folder / LOCK_FILENAME
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                owner = _read_owner(fd)
                os.close(fd)
                raise StoreBusyError(
                    f"another process{owner} is writing to the embedded store {folder}; "
                    f"Chroma's embedded mode allows one writer process. For several processes use a "
                    f"Chroma server: `chroma run --path {folder} --port 8000`, then set "
                    f"{CHROMA_URL_ENV}=http://127.0.0.1:8000 (or wait for the other process to finish)"
                ) from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            WriterLock._held[folder] = (fd, os.getpid(), 1)

    def release(self) -> None:
        """Drop this hold; the file lock goes when the last store on the folder closes."""
        with WriterLock._guard:
            if self._released:
                return
            self._released = True
            fd, pid, count = WriterLock._held[self.folder]
            if count > 1:
                WriterLock._held[self.folder] = (fd, pid, count - 1)
                return
            del WriterLock._held[self.folder]
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def _read_owner(fd: int) -> str:
    try:
        text = os.pread(fd, 32, 0).decode().strip()
    except OSError:
        return ""
    return f" (pid {text})" if text.isdigit() else ""
