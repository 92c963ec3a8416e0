"""Build photolink's C kernels into Cython extensions.

numpy's random C API (bit generators and the normal sampler) is linked from the static
libraries numpy ships: libnpyrandom and libnpymath.
"""
import os
import sys
import time
from pathlib import Path

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

NUMPY_INCLUDE = Path(numpy.get_include())  # .../numpy/_core/include
NUMPY_LIBS = [str(NUMPY_INCLUDE.parent.parent / "random" / "lib"), str(NUMPY_INCLUDE.parent / "lib")]


def extension(room, name, sources, random=False):
    """One bridge: photolink/<room>/_<name>.pyx, named after csrc/<name>.c it wraps."""
    return Extension(
        f"photolink.{room}._{name}",
        [f"photolink/{room}/_{name}.pyx"] + [f"csrc/{s}" for s in sources],
        include_dirs=["csrc", str(NUMPY_INCLUDE)],
        library_dirs=NUMPY_LIBS if random else [],
        libraries=(["npyrandom", "npymath"] if random else []) + ["m"],
        extra_compile_args=["-O3", "-std=c99", "-Wall", "-Wno-unused-function"],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_25_API_VERSION")],
    )


EXTENSIONS = [
    extension("symbols", "pam_stream", ["pam_stream.c"], random=True),
    extension("symbols", "qam_stream", ["qam_stream.c"], random=True),
    extension("fec", "rs", ["rs.c"]),
    extension("fec", "chase", ["chase.c"]),
    extension("net", "path", ["path.c"], random=True),
    extension("net", "fabric", ["fabric.c"], random=True),
]


def say(text):
    """Progress of the build: on stderr, and on the terminal itself when there is one, because
    ``pip install`` hides a build's output unless it is run with ``-v``."""
    print(text, file=sys.stderr, flush=True)
    try:
        with open("/dev/tty", "w") as tty:
            tty.write(text + "\n")
    except OSError:
        pass


class BuildWithProgress(build_ext):
    """build_ext that compiles the extensions in parallel and says what it is doing."""

    def finalize_options(self):
        super().finalize_options()
        if not self.parallel:
            self.parallel = os.cpu_count() or 1

    def run(self):
        self.t0 = time.monotonic()
        self.done = 0
        say(f"photolink: compiling {len(self.extensions)} C kernels with Cython "
            f"({self.parallel} at a time; about a minute per kernel on one core)")
        super().run()
        say(f"photolink: build done in {time.monotonic() - self.t0:.0f} s")

    def build_extension(self, ext):
        say(f"photolink:   building {ext.name} ...")
        super().build_extension(ext)
        self.done += 1
        say(f"photolink:   built {ext.name} ({self.done}/{len(self.extensions)}, "
            f"{time.monotonic() - self.t0:.0f} s)")


if {"build_ext", "build", "install", "develop", "bdist_wheel", "editable_wheel"} & set(sys.argv):
    say("photolink: translating the Cython bridges to C (only when a .pyx changed)")
setup(ext_modules=cythonize(EXTENSIONS, language_level=3), cmdclass={"build_ext": BuildWithProgress})
