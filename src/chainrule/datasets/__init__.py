"""Built-in datasets: the seeds' data and small problems for examples and the CLI."""

from .seeds import lecture_linear, moons, sine, truth_table

__all__ = ["lecture_linear", "moons", "sine", "truth_table"]
