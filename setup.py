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


def extension(name, sources, random=False):
    """One extension: photolink/_<name>.pyx plus its C sources from csrc/."""
    return Extension(
        f"photolink._{name}",
        [f"photolink/_{name}.pyx"] + [f"csrc/{s}" for s in sources],
        include_dirs=["csrc", str(NUMPY_INCLUDE)],
        library_dirs=NUMPY_LIBS if random else [],
        libraries=(["npyrandom", "npymath"] if random else []) + ["m"],
        extra_compile_args=["-O3", "-std=c99", "-Wall", "-Wno-unused-function"],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_25_API_VERSION")],
    )


EXTENSIONS = [
    extension("pam_stream", ["pam_stream.c"], random=True),
    extension("qam_stream", ["qam_stream.c"], random=True),
    extension("rs", ["rs.c"]),
    extension("path", ["path.c"], random=True),
]

setup(ext_modules=cythonize(EXTENSIONS, language_level=3))
