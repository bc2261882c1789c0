"""The container of a logitnet model file: a zip of JSON and ``.npy`` members.

This module knows nothing about models. It writes files atomically, and reads
untrusted files defensively: every member is read with a size bound, JSON is
parsed without NaN or infinity, ``.npy`` headers are parsed here (with
:func:`ast.literal_eval`, never unpickling) and checked against the shape and
dtype the caller expects before any array is made. Any failure of the zip,
deflate or JSON machinery on a damaged file becomes a
:class:`~logitnet.exceptions.ModelFileError` naming the file.

See ``docs/file-format.md`` for the format itself.
"""

from __future__ import annotations

import ast
import json
import math
import os
import zipfile
from collections import Counter
from typing import IO, Any, BinaryIO, Callable, Iterable, Optional, Union

import numpy as np

from .exceptions import ModelFileError

__all__ = ["atomic_write", "ArchiveWriter", "ArchiveReader", "describe_source"]

Source = Union[str, "os.PathLike[str]", BinaryIO]

_DATE = (1980, 1, 1, 0, 0, 0)  # fixed member timestamps: the same model gives the same bytes
_NPY_MAGIC = b"\x93NUMPY"
_NPY_MAX_HEADER = 4096
_JSON_LIMIT = 16 * 1024 * 1024
_ZIP64_THRESHOLD = 1 << 30


# --------------------------------------------------------------------------- writing
def _create_temp(directory: str, base: str) -> tuple[int, str]:
    """A new file next to the target, created exclusively with the usual permissions."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        path = os.path.join(directory, f".{base}.{os.urandom(6).hex()}.tmp")
        try:
            return os.open(path, flags, 0o666), path
        except FileExistsError:
            continue
    raise FileExistsError(f"Could not create a temporary file next to {os.path.join(directory, base)}")


def _fsync_directory(directory: str) -> None:
    """Make the rename durable (POSIX); a no-op where directories cannot be opened."""
    if os.name == "nt":  # pragma: no cover - Windows
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - unusual filesystems
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def atomic_write(path: "str | os.PathLike[str]", write: Callable[[BinaryIO], None], overwrite: bool = True) -> None:
    """Write a file so that readers see the old file or the new one, never a mix.

    ``write(f)`` fills a temporary file in the target's directory; it is
    flushed and fsynced, then renamed over ``path`` with :func:`os.replace`
    (atomic on POSIX and Windows). On any exception, KeyboardInterrupt
    included, the temporary file is removed and ``path`` is untouched. A hard
    kill (SIGKILL, power loss) can leave a ``.<name>.<random>.tmp`` file
    behind, never a damaged ``path``.

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``overwrite`` is False.
    """
    path = os.fspath(path)
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{path} already exists; pass overwrite=True to replace it.")
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = _create_temp(directory, os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_directory(directory)


def _little_endian(array: np.ndarray) -> np.ndarray:
    dtype = array.dtype.newbyteorder("<") if array.dtype.itemsize > 1 else array.dtype
    return np.asarray(array).astype(dtype, order="C", copy=False)  # (ascontiguousarray makes 0-d arrays 1-d)


class ArchiveWriter:
    """Writes members, stored uncompressed, in the order they are added.

    Parameters
    ----------
    f : binary file opened for writing
    """

    def __init__(self, f: BinaryIO) -> None:
        self._zip = zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED)

    def _info(self, name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=_DATE)
        info.compress_type = zipfile.ZIP_STORED
        info.external_attr = 0o644 << 16
        return info

    def add_json(self, name: str, obj: Any) -> None:
        """Add ``obj`` as UTF-8 JSON (NaN and infinity refused)."""
        text = json.dumps(obj, indent=1, allow_nan=False, ensure_ascii=False)
        self._zip.writestr(self._info(name), text.encode("utf-8"))

    def add_array(self, name: str, array: np.ndarray) -> None:
        """Add ``array`` as a little-endian, C-ordered ``.npy`` (format 1.0, no pickle)."""
        array = _little_endian(array)
        with self._zip.open(self._info(name), "w", force_zip64=array.nbytes > _ZIP64_THRESHOLD) as member:
            np.lib.format.write_array(member, array, version=(1, 0), allow_pickle=False)

    def close(self) -> None:
        self._zip.close()


# --------------------------------------------------------------------------- reading
def describe_source(source: Any) -> str:
    """How to name ``source`` in messages: its path, or ``<file object>``."""
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    name = getattr(source, "name", None)
    return name if isinstance(name, str) else "<file object>"


def _literal_header(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as exc:
        raise ValueError(f"unreadable .npy header ({type(exc).__name__})") from None


def _npy_header(data: bytes) -> tuple[dict, int]:
    """Parse a ``.npy`` header; returns the header dict and the data offset."""
    if data[:6] != _NPY_MAGIC or len(data) < 10:
        raise ValueError("not a .npy array")
    major = data[6]
    if major == 1:
        start, length = 10, int.from_bytes(data[8:10], "little")
    elif major in (2, 3):
        start, length = 12, int.from_bytes(data[8:12], "little")
    else:
        raise ValueError(f"unknown .npy version {major}")
    if length > _NPY_MAX_HEADER or start + length > len(data):
        raise ValueError("truncated or oversized .npy header")
    try:
        text = data[start : start + length].decode("utf-8" if major == 3 else "latin-1")
    except UnicodeDecodeError:
        raise ValueError("unreadable .npy header") from None
    header = _literal_header(text)
    if not isinstance(header, dict) or set(header) != {"descr", "fortran_order", "shape"}:
        raise ValueError("unreadable .npy header")
    return header, start + length


def parse_npy(data: bytes, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """The array in ``data`` (a ``.npy`` file), which must have exactly ``shape`` and ``dtype``.

    Raises ValueError describing the first mismatch. The returned array is a
    read-only view of ``data``.
    """
    header, offset = _npy_header(data)
    want = np.dtype(dtype).newbyteorder("<") if np.dtype(dtype).itemsize > 1 else np.dtype(dtype)
    if header["descr"] != want.str:
        raise ValueError(f"dtype {header['descr']!r}, expected {want.str!r} ({np.dtype(dtype).name})")
    if header["fortran_order"] is not False:
        raise ValueError("Fortran order; logitnet files store arrays in C order")
    got = header["shape"]
    if not isinstance(got, tuple) or tuple(got) != tuple(shape):
        raise ValueError(f"shape {got!r}, expected {tuple(shape)!r}")
    size = math.prod(shape) * want.itemsize
    if len(data) - offset != size:
        raise ValueError(f"{len(data) - offset} bytes of data, expected {size}")
    return np.frombuffer(data, dtype=want, offset=offset).reshape(shape)


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not allowed in a logitnet file")


class ArchiveReader:
    """Reads the members of a logitnet zip, each at most once and with a size bound.

    Use as a context manager. Errors of the zip machinery on a damaged file
    surface as :class:`ModelFileError` (see :meth:`guard`).

    Parameters
    ----------
    source : path or binary file object
        A path is opened here; a missing file raises FileNotFoundError (an
        OSError, not a file-format error).
    """

    def __init__(self, source: Source) -> None:
        self.name = describe_source(source)
        self._own = isinstance(source, (str, os.PathLike))
        self._file: IO[bytes] = open(source, "rb") if self._own else source  # type: ignore[arg-type]
        try:
            with self.guard("it is not a zip archive, or the archive is truncated or corrupted"):
                self._zip = zipfile.ZipFile(self._file, "r")
                infos = self._zip.infolist()
            duplicates = sorted(name for name, n in Counter(i.filename for i in infos).items() if n > 1)
            if duplicates:
                raise self.error(f"the archive holds the member {duplicates[0]!r} more than once")
            self._infos = {info.filename: info for info in infos}
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ plumbing
    def error(self, problem: str) -> ModelFileError:
        """A ModelFileError saying ``problem`` about this file."""
        return ModelFileError(f"Cannot load {self.name}: {problem}.")

    def guard(self, what: str) -> "_Guard":
        """Context manager: any exception of the zip/deflate/JSON/array stack becomes ``error(what)``."""
        return _Guard(self, what)

    def close(self) -> None:
        zf = getattr(self, "_zip", None)
        if zf is not None:
            zf.close()
        if self._own:
            self._file.close()

    def __enter__(self) -> "ArchiveReader":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ------------------------------------------------------------------ members
    @property
    def names(self) -> set[str]:
        return set(self._infos)

    def check_members(self, expected: Iterable[str]) -> None:
        """Require exactly the members ``expected``: none missing, none extra."""
        expected = set(expected)
        missing = sorted(expected - self.names)
        if missing:
            raise self.error(f"the member {missing[0]!r} is missing")
        extra = sorted(self.names - expected)
        if extra:
            raise self.error(f"unexpected member {extra[0]!r} (a logitnet format-1 file holds no other members)")

    def read_bytes(self, name: str, limit: int) -> bytes:
        """The member's bytes; refuses members larger than ``limit`` without reading them."""
        info = self._infos.get(name)
        if info is None:
            raise self.error(f"the member {name!r} is missing")
        if info.file_size > limit:
            raise self.error(f"the member {name!r} is {info.file_size} bytes, more than the {limit} expected")
        with self.guard(f"the member {name!r} is truncated or corrupted"):
            with self._zip.open(info) as member:
                data = member.read(limit + 1)
        if len(data) > limit:
            raise self.error(f"the member {name!r} is larger than the {limit} bytes expected")
        return data

    def read_json(self, name: str, limit: int = _JSON_LIMIT) -> Any:
        """The member parsed as UTF-8 JSON (NaN, Infinity and deep nesting refused)."""
        data = self.read_bytes(name, limit)
        with self.guard(f"{name} is not valid UTF-8 JSON"):
            return json.loads(data.decode("utf-8"), parse_constant=_reject_constant)

    def read_array(self, name: str, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
        """The ``.npy`` member, which must hold exactly ``shape`` and ``dtype`` (checked before reading data)."""
        dtype = np.dtype(dtype)
        size = math.prod(shape) * dtype.itemsize
        data = self.read_bytes(name, size + 16 + _NPY_MAX_HEADER)
        try:
            return parse_npy(data, shape, dtype)
        except ValueError as exc:
            raise self.error(f"the array {name!r} does not match its description: {exc}") from None


class _Guard:
    """See :meth:`ArchiveReader.guard`."""

    def __init__(self, reader: ArchiveReader, what: str) -> None:
        self._reader = reader
        self._what = what

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: Optional[BaseException], tb: Any) -> bool:
        if exc is None or isinstance(exc, ModelFileError) or not isinstance(exc, Exception):
            return False  # success, our own error, or KeyboardInterrupt/SystemExit: propagate
        # zipfile, zlib, lzma, bz2 and json raise a wide, version-dependent set of
        # exception types on damaged input (BadZipFile, zlib.error, EOFError,
        # OSError, struct.error, NotImplementedError for unknown methods,
        # RuntimeError for encrypted members, UnicodeDecodeError, RecursionError,
        # MemoryError, ...): on a damaged file, every one of them means the same.
        detail = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
        raise self._reader.error(f"{self._what} ({detail})") from exc
