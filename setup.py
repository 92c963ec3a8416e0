"""Build photolink's C kernels into Cython extensions.

numpy's random C API (bit generators and the normal sampler) is linked from the static
libraries numpy ships: libnpyrandom and libnpymath.
"""
from pathlib import Path

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup

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
]

setup(ext_modules=cythonize(EXTENSIONS, language_level=3))
