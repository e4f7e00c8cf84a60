"""The compiled CFFI module, with a helpful message when it was not built."""

__all__ = ["ffi", "lib"]

try:
    from ._libprofile import ffi, lib
except ImportError as e:  # pragma: no cover - depends on the build
    raise ImportError(
        "libprofile: the C extension libprofile._libprofile is not built or "
        "cannot load libprofile.so (" + str(e) + ").  Run `make python` at "
        "the top of the source tree, or `pip install ./bindings/python` "
        "against an installed libprofile.") from e
