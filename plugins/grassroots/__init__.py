"""Grassroots governance evaluation pipeline: the code the DAGs call."""

__version__ = "0.1.0"
