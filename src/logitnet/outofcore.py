"""Inputs read one batch at a time: ``np.memmap`` and other sliceable array-likes.

``fit``, ``evaluate`` and ``predict`` accept, besides in-memory arrays, any
2-D array-like that is not a plain ``np.ndarray`` but has a ``shape``, a
numeric NumPy ``dtype`` and slicing: ``np.memmap`` (also what
``np.load(path, mmap_mode="r")`` returns), h5py datasets, zarr arrays. Such an
input is wrapped in a :class:`RowSource` and never loaded whole:

- the checks (2-D, numeric, finite) and the per-feature statistics run over
  blocks of about 4 MB;
- each training step reads only its batch. With ``shuffle=True`` the epoch's
  permutation is the one an in-memory fit draws; a batch's rows are read in
  increasing file order and put back in permutation order, so the batches,
  and therefore the trained weights, are bit-identical to training on the
  same data in memory;
- ``validation_split`` takes a view of the last rows (nothing is copied).

A large in-memory input is not copied whole each epoch either:
:class:`PermutedChunks` gathers the epoch's rows a chunk at a time into one
buffer (see :mod:`logitnet.training`).

An ``np.memmap`` of a file (modes ``"r"``, ``"r+"``, ``"w+"``, rows stored
contiguously) is read through the file (``os.preadv``), not through its
mapping: pages touched through a mapping stay resident in the process (on
recent Linux kernels a single random row maps up to a couple of MB around it),
so reading a large file through its mapping makes the resident memory grow to
the file's size. File reads leave the data in the operating system's page
cache, outside the process. Other memmaps (copy-on-write mode ``"c"``, strided
views) are read by slicing the mapping. Random row access on a file that is
not in the page cache is slow (one disk read per row): use ``shuffle=False``
or a larger ``batch_size`` for data on slow disks.

Dask arrays (``__dask_graph__``) and scipy sparse matrices are not streamed:
they are converted once with ``np.asarray``, as before.
"""

from __future__ import annotations

import mmap
import os
import weakref
from typing import Any, Iterator, Optional

import numpy as np
from numpy.typing import NDArray

__all__ = ["is_streamable", "RowSource", "PermutedRows", "PermutedChunks", "BLOCK_BYTES"]

BLOCK_BYTES = 1 << 22  # about 4 MB of input per block in checks and statistics


def is_streamable(x: Any) -> bool:
    """Whether ``x`` is read batch by batch: an ``np.memmap`` or a sliceable 2-D numeric array-like.

    Plain ndarrays, lists, DataFrames (no ``dtype``), dask arrays and scipy
    sparse matrices are not: they are converted to an in-memory array.
    """
    if isinstance(x, np.memmap):
        return True
    if isinstance(x, np.ndarray) or hasattr(x, "__dask_graph__") or hasattr(x, "nnz"):
        return False
    shape, dtype = getattr(x, "shape", None), getattr(x, "dtype", None)
    if shape is None or dtype is None or not hasattr(x, "__getitem__"):
        return False
    try:
        kind = np.dtype(dtype).kind
    except TypeError:  # e.g. a torch dtype: np.asarray handles those
        return False
    return kind in "biuf" and len(shape) == 2


class _FileRows:
    """Reads rows of a memmap straight from its file, at byte offset ``position + row * row_bytes``."""

    def __init__(self, filename: str, position: int, dtype: np.dtype, n_features: int) -> None:
        self.dtype = dtype
        self.n_features = n_features
        self.row_bytes = n_features * dtype.itemsize
        self.position = position
        self.fd = os.open(filename, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        weakref.finalize(self, os.close, self.fd)

    def _read_into(self, out: np.ndarray, first: int) -> None:
        view = memoryview(out).cast("B")
        offset, done = self.position + first * self.row_bytes, 0
        while done < len(view):
            if hasattr(os, "preadv"):
                got = os.preadv(self.fd, [view[done:]], offset + done)
            else:  # pragma: no cover - Windows
                os.lseek(self.fd, offset + done, os.SEEK_SET)
                got = os.readv(self.fd, [view[done:]])
            if got <= 0:
                raise OSError(f"Unexpected end of file while reading rows of a memmap at byte {offset + done}.")
            done += got

    def rows(self, first: int, count: int) -> np.ndarray:
        out = np.empty((count, self.n_features), dtype=self.dtype)
        if count:
            self._read_into(out, first)
        return out

    def take(self, index: NDArray[np.intp]) -> np.ndarray:
        """Rows at increasing ``index``: one read per run of consecutive rows."""
        out = np.empty((len(index), self.n_features), dtype=self.dtype)
        starts = np.flatnonzero(np.diff(index) != 1) + 1
        bounds = np.concatenate(([0], starts, [len(index)])).tolist()
        first_rows = index[bounds[:-1]].tolist() if len(index) else []
        for a, b, row in zip(bounds[:-1], bounds[1:], first_rows):
            self._read_into(out[a:b], row)
        return out


def _file_rows(x: Any) -> Optional[_FileRows]:
    """A file reader for a memmap whose rows lie contiguously in a file it shares, else None."""
    if not isinstance(x, np.memmap) or getattr(x, "mode", None) not in ("r", "r+", "w+"):
        return None
    m, filename = getattr(x, "_mmap", None), getattr(x, "filename", None)
    itemsize = x.dtype.itemsize
    if m is None or filename is None or x.strides != (x.shape[1] * itemsize, itemsize):
        return None
    try:
        mapped = np.frombuffer(m, dtype=np.uint8)
    except (TypeError, ValueError, BufferError):
        return None
    delta = x.__array_interface__["data"][0] - mapped.__array_interface__["data"][0]
    size = len(mapped)
    del mapped  # release the buffer export at once (an exported mmap cannot be closed)
    if not 0 <= delta <= size:
        return None
    start = x.offset - x.offset % mmap.ALLOCATIONGRANULARITY  # where numpy's mapping begins in the file
    try:
        return _FileRows(os.fspath(filename), start + delta, x.dtype, x.shape[1])
    except OSError:
        return None


class RowSource:
    """Rows ``start:stop`` of a 2-D array-like, read on demand and converted to ``dtype``.

    Parameters
    ----------
    data : array_like of shape (n_rows, n_features)
        Supports ``data[a:b]`` and ``data[int_array]`` (increasing indices).
    dtype : numpy dtype
        The model's dtype; every batch comes back C-contiguous in it.

    Attributes
    ----------
    shape : tuple of int
        ``(n_rows, n_features)`` of the rows covered.
    stats : FeatureStats or None
        Set by :func:`logitnet.data.check_features` while it scans the rows.
    """

    def __init__(self, data: Any, dtype: Any) -> None:
        self.data = data
        self.dtype = np.dtype(dtype)
        self.start = 0
        self.shape = (int(data.shape[0]), int(data.shape[1]))
        self.stats: Any = None
        self._file = _file_rows(data)
        self._fancy = True

    def __len__(self) -> int:
        return self.shape[0]

    def subset(self, start: int, stop: int) -> "RowSource":
        """A source over rows ``start:stop`` of this one (a view: nothing is read)."""
        sub = object.__new__(RowSource)
        sub.__dict__.update(self.__dict__)
        sub.start, sub.shape, sub.stats = self.start + start, (stop - start, self.shape[1]), None
        return sub

    def _convert(self, rows: Any) -> NDArray[np.floating]:
        if isinstance(rows, np.ndarray) and rows.dtype == self.dtype and rows.flags.c_contiguous \
                and not isinstance(rows, np.memmap):
            return rows
        with np.errstate(over="ignore"):  # overflow was reported by the checks
            return np.array(rows, dtype=self.dtype, order="C", copy=True)

    def __getitem__(self, key: slice) -> NDArray[np.floating]:
        """Rows ``key`` (a slice with step 1) as a C-contiguous array of ``dtype``."""
        a, b, _ = key.indices(self.shape[0])
        b = max(a, b)
        if self._file is not None:
            return self._convert(self._file.rows(self.start + a, b - a))
        return self._convert(self.data[self.start + a:self.start + b])

    def take(self, rows: NDArray[np.intp]) -> NDArray[np.floating]:
        """Rows at the increasing indices ``rows`` (relative to this source), in that order."""
        index = rows + self.start if self.start else rows
        if self._file is not None:
            return self._convert(self._file.take(index))
        if self._fancy:
            try:
                return self._convert(self.data[index])
            except (TypeError, IndexError, ValueError):  # no fancy indexing: read runs of rows
                self._fancy = False
        out = np.empty((len(index), self.shape[1]), dtype=self.dtype)
        breaks = np.flatnonzero(np.diff(index) != 1) + 1
        with np.errstate(over="ignore"):
            for run in np.split(np.arange(len(index)), breaks):
                if len(run):
                    first = int(index[run[0]])
                    out[run[0]:run[-1] + 1] = self.data[first:first + len(run)]
        return out

    def blocks(self, block_bytes: int = BLOCK_BYTES) -> Iterator[tuple[int, NDArray[np.floating]]]:
        """``(first_row, rows)`` over the whole source, about ``block_bytes`` of input at a time."""
        row_bytes = max(1, self.shape[1] * np.dtype(self.data.dtype).itemsize)
        step = max(1, block_bytes // row_bytes)
        for a in range(0, self.shape[0], step):
            yield a, self[a:a + step]

    def __repr__(self) -> str:
        return f"<RowSource rows {self.start}:{self.start + self.shape[0]} of {type(self.data).__name__}>"


class PermutedRows:
    """Rows of a :class:`RowSource` in the order ``order``, read batch by batch.

    ``permuted[a:b]`` equals ``source_in_memory[order[a:b]]``: the rows are
    read in increasing index order (friendly to files) and put back in
    permutation order.
    """

    def __init__(self, source: RowSource, order: NDArray[np.intp]) -> None:
        self.source = source
        self.order = order
        self.shape = source.shape

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key: slice) -> NDArray[np.floating]:
        wanted = self.order[key]
        sorter = np.argsort(wanted, kind="stable")
        rows = self.source.take(wanted[sorter])
        out = np.empty_like(rows)
        out[sorter] = rows
        return out


class PermutedChunks:
    """Rows of an in-memory array in the order ``order``, gathered a chunk at a time into one reused buffer.

    ``chunks[a:b]`` equals ``array[order][a:b]`` without the full permuted
    copy: the buffer holds rows ``order[first:first + chunk_rows]`` for a
    ``first`` that is a multiple of ``chunk_rows``, and a slice inside that
    chunk is a view of it (valid until a slice of another chunk is asked
    for). A slice that crosses a chunk boundary is gathered into a new array.
    The buffer is allocated once; :meth:`reorder` starts a new epoch.

    Parameters
    ----------
    array : ndarray of shape (n_rows, ...)
    chunk_rows : int
        Rows per chunk (a multiple of the batch size keeps every batch in one chunk).
    """

    def __init__(self, array: np.ndarray, chunk_rows: int) -> None:
        self.array = array
        self.shape = array.shape
        self.chunk_rows = chunk_rows
        self.order: NDArray[np.intp] = np.arange(0, dtype=np.intp)
        self._buffer = np.empty((min(chunk_rows, len(array)),) + array.shape[1:], dtype=array.dtype)
        self._first = -1  # the chunk the buffer holds (-1: none)

    def __len__(self) -> int:
        return self.shape[0]

    def reorder(self, order: NDArray[np.intp]) -> "PermutedChunks":
        """Read the rows in ``order`` (a permutation of ``range(n_rows)``) from now on."""
        self.order = order
        self._first = -1
        return self

    def __getitem__(self, key: slice) -> np.ndarray:
        start, stop, _ = key.indices(self.shape[0])
        if stop <= start:
            return self._buffer[:0]
        first = start - start % self.chunk_rows
        if stop > first + self.chunk_rows:  # crosses into the next chunk
            return self.array[self.order[start:stop]]
        if first != self._first:
            rows = self.order[first:first + self.chunk_rows]
            # mode="clip" writes straight into the buffer ("raise" would gather into a temporary first)
            np.take(self.array, rows, axis=0, out=self._buffer[:len(rows)], mode="clip")
            self._first = first
        return self._buffer[start - first:stop - first]
