"""Handing memory that was freed back to the system.

glibc keeps memory a thread freed in that thread's malloc arena, where the process's RSS
still counts it. The voice workers allocate a lot while they load and warm up (Whisper,
Piper) and then idle for hours: measured, the desktop app idled ~45 MB larger than it
needed to (481 MB with the arenas kept, 439 MB trimmed).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    """The C library when it is glibc (it has malloc_trim), else None; looked up once:
    ``find_library`` runs ``ldconfig``, and trimming happens after every reply."""
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.malloc_trim  # noqa: B018  (musl, macOS, Windows: no malloc_trim)
    except (OSError, AttributeError):
        return None
    return libc


def release_freed_memory() -> None:
    """Give memory freed by the engine back to the system (glibc keeps it per thread otherwise).

    ``malloc_trim(0)`` trims every arena, whichever thread calls it. A no-op where the C
    library is not glibc.
    """
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)


#: mallopt's parameter for the free memory at the top of a heap that triggers a trim.
_M_TRIM_THRESHOLD = -1
#: Trim once this much freed memory sits at the top of a heap (glibc's default grows to 32 MB).
TRIM_THRESHOLD = 128 * 1024


def trim_freed_memory_early() -> None:
    """Make glibc give freed memory back from 128 KB on, for a process that idles long.

    glibc's threshold starts at 128 KB but rises with the large blocks freed (to tens of MB),
    so a process that once decoded audio keeps tens of MB it no longer uses. Fixing it costs
    a few more system calls when large buffers come and go. Call it before threads start.
    A no-op where the C library is not glibc.
    """
    libc = _glibc()
    if libc is not None:
        libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
