"""Bundled real data for lpkernel's default run and benchmarks (DESIGN §9).

Both sets ship inside the package, under the BSD 3-Clause license of the
tick-datasets collection (``lpkernel/datasets/data/LICENSE.tick-datasets``),
so nothing is downloaded.
"""

from ._base import load_abalone, load_ijcnn1

__all__ = ["load_abalone", "load_ijcnn1"]
