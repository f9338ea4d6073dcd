"""Built-in datasets: the seeds' data and small problems for examples and the CLI."""

from .builtin import BUILTIN_DATASETS, load_builtin
from .seeds import lecture_linear, moons, sine, truth_table
from .tabular import Table, load_table

__all__ = ["BUILTIN_DATASETS", "Table", "lecture_linear", "load_builtin", "load_table", "moons", "sine", "truth_table"]
