"""Built-in datasets: the seeds' data and small problems for examples and the CLI."""

from .builtin import BUILTIN_DATASETS, load_builtin
from .seeds import lecture_linear, moons, sine, truth_table

__all__ = ["BUILTIN_DATASETS", "lecture_linear", "load_builtin", "moons", "sine", "truth_table"]
