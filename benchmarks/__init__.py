"""The benchmark scripts: each measures one claim and renders its section of docs/benchmarks.md."""
