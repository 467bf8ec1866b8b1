"""Local Spark for the laptop target: one SparkSession per process, and the jobs in `jobs/` loaded by path.

The jobs are plain files (they ship to Glue and EMR as they are), not part of this package, so
they are loaded from the repository's `jobs/` folder; the local engine then runs the very code
the cloud runs.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from datalake.errors import MissingDependencyError, UsageError
from datalake.layout import JOBS_DIR

INSTALL_SPARK = "pip install -e '.[spark]' (pyspark 3.5)"
INSTALL_JAVA = (
    "install Java 17 (e.g. `apt-get install openjdk-17-jre-headless` or `brew install openjdk@17`) or set JAVA_HOME"
)

LOCAL_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.memory": "2g",
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.sources.parallelPartitionDiscovery.threshold": "100000",  # list files on the driver
    "spark.sql.parquet.compression.codec": "zstd",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
}

_session: Any = None


def check_dependencies() -> None:
    """Raise MissingDependencyError, saying how to install it, when pyspark or Java is missing."""
    if importlib.util.find_spec("pyspark") is None:
        raise MissingDependencyError("the spark engine needs pyspark, which is not installed", hint=INSTALL_SPARK)
    java_home = os.environ.get("JAVA_HOME")
    if not (java_home and (Path(java_home) / "bin" / "java").is_file()) and not shutil.which("java"):
        raise MissingDependencyError("the spark engine needs Java, which was not found", hint=INSTALL_JAVA)


def error_summary(exc: BaseException) -> str:
    """One line saying why a Spark call failed: the innermost Java cause, not Py4J's "error calling o61.count"."""
    cause = getattr(exc, "java_exception", None)
    message = None
    while cause is not None:
        message = str(cause.getMessage() or "") or message
        cause = cause.getCause()
    return (message or str(exc)).strip().splitlines()[0][:200]


def local_session() -> Any:
    """The process's local SparkSession (local[*], UI off, bound to loopback), created on first use."""
    global _session
    if _session is not None and _session.sparkContext._jsc is not None:
        return _session
    check_dependencies()
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # bind to loopback without a warning
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master("local[*]").appName("datalake")
    for key, value in LOCAL_CONF.items():
        builder = builder.config(key, value)
    try:
        _session = builder.getOrCreate()
    except Exception as exc:  # the JVM did not start: almost always Java
        raise MissingDependencyError(
            f"cannot start local Spark ({str(exc).splitlines()[0][:200]})", hint=INSTALL_JAVA
        ) from exc
    _session.sparkContext.setLogLevel("ERROR")
    return _session


def available_jobs() -> list[str]:
    return sorted(p.stem for p in JOBS_DIR.glob("*.py") if not p.name.startswith("_"))


def load_job(name: str) -> ModuleType:
    """jobs/<name>.py as a module (cached), so local runs execute the same file as Glue and EMR."""
    module_name = f"datalake_jobs.{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    path = JOBS_DIR / f"{name}.py"
    if not path.is_file():
        known = ", ".join(available_jobs()) or "none"
        raise UsageError(f"no job named {name!r} in {JOBS_DIR}", hint=f"choose one of: {known}")
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module
