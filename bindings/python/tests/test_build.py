"""Building the extension without libprofile installed fails with a message
that says what is missing and how to install it, not with a compiler
error; a build left by an earlier install is never reused (issue 9,
item 9).  Nothing is downloaded: pip runs with --no-index."""

import os
import shutil
import subprocess
import sys

import pytest

from conftest import REPO

PY_DIR = os.path.join(REPO, "bindings", "python")
BUILD_FFI = os.path.join(PY_DIR, "build_ffi.py")


def env_with(**overrides):
    """The environment with libprofile's variables replaced (None drops)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("LIBPROFILE_INCLUDE_DIR", "LIBPROFILE_LIBRARY_DIR",
                        "PKG_CONFIG_PATH", "PKG_CONFIG_LIBDIR")}
    env.update({k: v for k, v in overrides.items() if v is not None})
    return env


def run_build_ffi(tmp_path, env):
    """build_ffi.py run from a copy in tmp_path, so that nothing, not even
    a successful build, touches the source tree."""
    shutil.copy(BUILD_FFI, tmp_path / "build_ffi.py")
    return subprocess.run([sys.executable, "build_ffi.py"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)


def assert_clear_failure(r, missing, looked_in):
    assert r.returncode != 0
    err = r.stderr
    assert "No such file or directory" not in err and "Traceback" not in err, err
    assert f"libprofile: cannot build the Python binding: {missing}" in err, err
    assert looked_in in err, err
    assert "make install" in err and "make install PREFIX=" in err, err
    assert "PKG_CONFIG_PATH=" in err and "/lib/pkgconfig" in err, err
    assert "LIBPROFILE_INCLUDE_DIR" in err and "LIBPROFILE_LIBRARY_DIR" in err, err


def test_nothing_where_the_variables_point(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    r = run_build_ffi(tmp_path, env_with(LIBPROFILE_INCLUDE_DIR=str(empty),
                                         LIBPROFILE_LIBRARY_DIR=str(empty)))
    assert_clear_failure(r, "libprofile.h and libprofile.so were not found",
                         f"libprofile.h: looked in {empty} (LIBPROFILE_INCLUDE_DIR)")
    assert f"libprofile.so: looked in {empty} (LIBPROFILE_LIBRARY_DIR)" in r.stderr
    assert not list(tmp_path.glob("_libprofile*")) and not (tmp_path / "libprofile").exists()


def test_header_found_but_not_the_library(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    r = run_build_ffi(tmp_path, env_with(LIBPROFILE_INCLUDE_DIR=os.path.join(REPO, "include"),
                                         LIBPROFILE_LIBRARY_DIR=str(empty)))
    assert_clear_failure(r, "libprofile.so was not found",
                         f"libprofile.so: looked in {empty} (LIBPROFILE_LIBRARY_DIR)")
    assert "libprofile.h: looked" not in r.stderr


@pytest.mark.skipif(shutil.which("pkg-config") is None, reason="needs pkg-config")
def test_pkg_config_file_without_the_files(tmp_path):
    # A libprofile.pc left behind by an uninstall: pkg-config answers, the
    # files it names are not there.
    prefix, pc = tmp_path / "gone", tmp_path / "pc"
    pc.mkdir()
    (pc / "libprofile.pc").write_text(
        f"prefix={prefix}\nlibdir=${{prefix}}/lib\nincludedir=${{prefix}}/include\n\n"
        "Name: libprofile\nDescription: test\nVersion: 0.2.0\n"
        "Cflags: -I${includedir}\nLibs: -L${libdir} -lprofile\n")
    r = run_build_ffi(tmp_path, env_with(PKG_CONFIG_PATH=str(pc)))
    assert_clear_failure(r, "libprofile.h and libprofile.so were not found",
                         f"{prefix}/include (from pkg-config libprofile)")


@pytest.mark.skipif(shutil.which("pkg-config") is None, reason="needs pkg-config")
def test_pkg_config_finds_nothing(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    r = run_build_ffi(tmp_path, env_with(PKG_CONFIG_PATH=str(empty),
                                         PKG_CONFIG_LIBDIR=str(empty)))
    if r.returncode == 0:  # pragma: no cover - depends on the machine
        pytest.skip("a libprofile is installed in /usr/local or /usr")
    assert_clear_failure(r, "libprofile.h", "(the defaults)")
    assert f"no libprofile.pc on its search path (PKG_CONFIG_PATH={empty})" in r.stderr


def _pip_available():
    return subprocess.run([sys.executable, "-m", "pip", "--version"],
                          capture_output=True).returncode == 0


def _library_copy(dest):
    """A copy of the freshly built libprofile.so (and its soname links)."""
    dest.mkdir()
    build = os.path.join(REPO, "build")
    for name in os.listdir(build):
        if name.startswith("libprofile.so"):
            shutil.copy2(os.path.join(build, name), dest / name, follow_symlinks=False)
    return str(dest)


def _installed_extension(target):
    ext = [n for n in os.listdir(target / "libprofile") if n.startswith("_libprofile")]
    assert len(ext) == 1, ext
    with open(target / "libprofile" / ext[0], "rb") as f:
        return f.read()


@pytest.mark.skipif(not _pip_available(), reason="needs pip")
def test_pip_install_never_reuses_an_earlier_build(tmp_path):
    # A copy of the package without the in-place extension, as a user's
    # clone would be.
    src = tmp_path / "src"
    shutil.copytree(PY_DIR, src, ignore=shutil.ignore_patterns(
        "_libprofile*", "_sync*", "build", "*.egg-info", "__pycache__", ".pytest_cache"))
    include = os.path.join(REPO, "include")
    lib_a, lib_b = _library_copy(tmp_path / "lib-a"), _library_copy(tmp_path / "lib-b")
    empty = tmp_path / "empty"
    empty.mkdir()

    def pip_install(target, include, library):
        env = env_with(LIBPROFILE_INCLUDE_DIR=include, LIBPROFILE_LIBRARY_DIR=library,
                       PIP_NO_INPUT="1", PIP_DISABLE_PIP_VERSION_CHECK="1",
                       PIP_BREAK_SYSTEM_PACKAGES="1")
        return subprocess.run(
            [sys.executable, "-m", "pip", "install", "--no-build-isolation", "--no-deps",
             "--no-index", "--no-cache-dir", "--target", str(target), str(src)],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)

    first = pip_install(tmp_path / "t1", include, lib_a)
    assert first.returncode == 0, first.stdout + first.stderr
    assert lib_a.encode() in _installed_extension(tmp_path / "t1")      # its rpath
    probe = ("import sys; sys.path.insert(0, sys.argv[1]); import libprofile; "
             "print(libprofile.__file__, libprofile.version())")
    r = subprocess.run([sys.executable, "-c", probe, str(tmp_path / "t1")],
                       cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and str(tmp_path / "t1") in r.stdout, r.stderr

    # The same tree against another library: built again, not the first
    # build's extension (which would still load the library from lib-a).
    second = pip_install(tmp_path / "t2", include, lib_b)
    assert second.returncode == 0, second.stdout + second.stderr
    ext = _installed_extension(tmp_path / "t2")
    assert lib_b.encode() in ext and lib_a.encode() not in ext

    # And without a library: a clear failure, not an earlier build.
    broken = pip_install(tmp_path / "t3", str(empty), str(empty))
    out = broken.stdout + broken.stderr
    assert broken.returncode != 0, out
    assert "libprofile.h and libprofile.so were not found" in out, out
    assert "make install PREFIX=" in out and "No such file or directory" not in out, out
    assert not (tmp_path / "t3" / "libprofile").exists()
