"""datalake: build, fill, run, measure and price a data lake, on AWS or offline."""

__version__ = "0.1.0"
