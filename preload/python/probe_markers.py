"""probe markers for Python: named points and spans on probe's timeline.

    import probe_markers as pm
    pm.mark("BEFORE_SEND", nbytes)
    with pm.span("request", req_id):
        ...

The functions live in libprobe_preload.so. When it is not preloaded every
call is a cheap no-op that never raises. Stdlib only (ctypes).
"""

import ctypes

__all__ = ["enabled", "mark", "begin", "end", "span"]

INSTANT, BEGIN, END = 0, 1, 2

_name_fn = None
_marker_fn = None
try:
    # dlopen(NULL): the process's global scope, preloaded libraries included.
    _lib = ctypes.CDLL(None)
    _n = _lib.probe_name
    _m = _lib.probe_marker
    _n.argtypes = [ctypes.c_char_p]
    _n.restype = ctypes.c_uint32
    _m.argtypes = [ctypes.c_uint32, ctypes.c_uint32, ctypes.c_int64, ctypes.c_int64]
    _m.restype = None
    _name_fn, _marker_fn = _n, _m
except (OSError, AttributeError, TypeError):
    pass

_ids = {}  # name -> id from probe_name (0 when the shim's table was full)


def enabled():
    """True when the shim is loaded and markers are recorded."""
    return _marker_fn is not None


def _intern(name):
    i = _ids.get(name)
    if i is None:
        raw = name.encode("utf-8") if isinstance(name, str) else bytes(name)
        i = _ids[name] = _name_fn(raw)
    return i


def mark(name, a0=0, a1=0):
    """An instant marker with two integer arguments."""
    if _marker_fn is not None:
        _marker_fn(INSTANT, _intern(name), a0, a1)


def begin(name, a0=0, a1=0):
    """Opens a span on this thread."""
    if _marker_fn is not None:
        _marker_fn(BEGIN, _intern(name), a0, a1)


def end(name, a0=0, a1=0):
    """Closes the span opened by begin(name) on this thread."""
    if _marker_fn is not None:
        _marker_fn(END, _intern(name), a0, a1)


class _Span:
    __slots__ = ("_id", "_a0", "_a1")

    def __init__(self, name_id, a0, a1):
        self._id, self._a0, self._a1 = name_id, a0, a1

    def __enter__(self):
        _marker_fn(BEGIN, self._id, self._a0, self._a1)
        return self

    def __exit__(self, *exc):
        _marker_fn(END, self._id, self._a0, self._a1)
        return False


class _NoSpan:
    __slots__ = ()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


_NO_SPAN = _NoSpan()


def span(name, a0=0, a1=0):
    """Context manager: begin(name, a0, a1) on entry, end(...) on exit."""
    if _marker_fn is None:
        return _NO_SPAN
    return _Span(_intern(name), a0, a1)
