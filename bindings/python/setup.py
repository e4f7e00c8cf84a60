"""setuptools entry point: compiles build_ffi.py's extension (cffi_modules).

Metadata lives in pyproject.toml; the package list here (setuptools
still calls [tool.setuptools] in pyproject.toml beta).  Offline install against an installed
libprofile:  pip install --no-build-isolation ./bindings/python
"""

from setuptools import setup

setup(
    packages=["libprofile"],
    package_data={"libprofile": ["py.typed"]},
    cffi_modules=["build_ffi.py:ffibuilder"],
)
