"""The `datalake` command line: parse options, call one core function, render the result (cli/render.py).

Every command takes --json (machine-readable result on stdout), --lake and --target; errors
print one red line with a hint and exit non-zero (--debug, or DATALAKE_DEBUG=1, shows the traceback).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from datalake import __version__
from datalake.errors import DatalakeError
from datalake.measure.results import COST_CHART, REPORT_FILE

app = typer.Typer(
    name="datalake",
    help="Build, fill, run, measure and price a data lake: on AWS, or offline on embedded engines.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
    rich_markup_mode="rich",
)

F = TypeVar("F", bound=Callable[..., Any])
_state: dict[str, Any] = {"debug": bool(os.environ.get("DATALAKE_DEBUG"))}

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout (for scripts).")]
LakeOpt = Annotated[
    Path | None,
    typer.Option(
        "--lake", help="Lake root folder [env DATALAKE_HOME, datalake.toml; default ./lake].", show_default=False
    ),
]
WaitOpt = Annotated[
    float,
    typer.Option(
        "--wait", help="Seconds to wait for another writer holding the lake lock (default: fail at once).", min=0
    ),
]
TargetOpt = Annotated[
    str | None,
    typer.Option(
        "--target", help="local (embedded, offline) or aws [env DATALAKE_TARGET; default local].", show_default=False
    ),
]


def handle_errors(func: F) -> F:
    """Turn DatalakeError into a one-line message and exit code; keep tracebacks for --debug."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except DatalakeError as exc:
            if _state["debug"]:
                raise
            from datalake.cli.console import err

            err.print(f"[bold red]Error:[/] {exc.message}", highlight=False, soft_wrap=True)
            if exc.hint:
                err.print(f"[dim]Hint: {exc.hint}[/]", highlight=False, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            from datalake.cli.console import err

            err.print("[bold red]Interrupted.[/] The lake stays consistent; the next run finishes the work.")
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def _target(lake: Path | None, target: str | None, command: str | None = None) -> Any:
    """The configured target; with `command`, first check that its capabilities include it (one clear line if not)."""
    from datalake.config import load_settings
    from datalake.targets import create_target

    tgt = create_target(load_settings({"lake": lake, "target": target}))
    if command is not None and not getattr(tgt.capabilities, command.replace("-", "_")):
        tgt.unsupported(command)
    return tgt


def _writer(lake: Path | None, target: str | None, wait: float, command: str | None = None) -> Any:
    """The target, for a command that writes the lake: it waits up to `wait` seconds for another writer."""
    from datalake.errors import UsageError

    tgt = _target(lake, target, command)
    if wait and not tgt.capabilities.lake_lock:
        raise UsageError(
            f"--wait is not available on the {tgt.name} target: its writers take no lake lock to wait for",
            hint="run without --wait",
        )
    tgt.lock_wait = wait
    return tgt


def _progress(as_json: bool) -> Any:
    from datalake.cli.console import RichProgress

    return RichProgress(enabled=not as_json)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"datalake {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
) -> None:
    """Build, fill, run, measure and price a data lake: on AWS, or offline on embedded engines."""
    _state["debug"] = _state["debug"] or debug


# ----------------------------------------------------------------------------------- deploy


def _confirmer(yes: bool) -> Any:
    """Ask on the terminal (or refuse clearly when there is none); --yes answers for the user."""
    from datalake.errors import UsageError

    def confirm(question: str) -> bool:
        if yes:
            return True
        if not os.isatty(0):
            raise UsageError(f"{question} needs confirmation", hint="pass --yes to go ahead without a prompt")
        return typer.confirm(question, default=False)

    return confirm


@app.command()
@handle_errors
def deploy(
    yes: Annotated[bool, typer.Option("--yes", "-y", help="aws: apply the plan without asking.")] = False,
    plan_only: Annotated[
        bool, typer.Option("--plan-only", help="aws: show the Terraform plan, change nothing.")
    ] = False,
    var_file: Annotated[
        Path | None, typer.Option("--var-file", help="aws: Terraform tfvars file (region, account, names).")
    ] = None,
    lake: LakeOpt = None,
    target: TargetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Lay out the lake: zones (raw, processed, archive, quarantine), catalog and warehouse. Idempotent.

    With --target aws: terraform init/plan/apply in infra/, then the outputs are saved for the other commands.
    """
    from datalake.cli import render
    from datalake.errors import UsageError
    from datalake.targets.base import DeployOptions

    if var_file is not None and not var_file.is_file():
        raise UsageError(f"--var-file {var_file} does not exist", hint="pass an existing .tfvars file")
    options = DeployOptions(plan_only=plan_only, confirm=_confirmer(yes), var_file=var_file)
    outputs = _target(lake, target).deploy(options, _progress(as_json))
    render.show(as_json, outputs, render.render_deploy)


# ----------------------------------------------------------------------------------- seed


@app.command()
@handle_errors
def seed(
    rows: Annotated[int, typer.Option("--rows", "-n", help="Number of sales to generate.")] = 1_000_000,
    days: Annotated[int, typer.Option(help="Spread the sales over this many days, ending at --end-date.")] = 365,
    end_date: Annotated[
        str | None, typer.Option("--end-date", help="Last sale date, YYYY-MM-DD [default: today].", show_default=False)
    ] = None,
    seed_value: Annotated[
        int, typer.Option("--seed", help="Random seed: the same seed gives byte-identical files.")
    ] = 42,
    fmt: Annotated[
        str, typer.Option("--format", help="json, csv, or mixed (online orders as JSON lines, store sales as CSV).")
    ] = "mixed",
    error_rate: Annotated[
        float, typer.Option("--error-rate", help="Share of records with a realistic defect, for the quality rules.")
    ] = 0.002,
    wait: WaitOpt = 0.0,
    lake: LakeOpt = None,
    target: TargetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Generate fake retail sales (star schema) into the raw zone as JSON lines and CSV, by day."""
    from datalake.cli import render
    from datalake.errors import UsageError
    from datalake.model import SeedOptions

    parsed_end: date | None = None
    if end_date:
        try:
            parsed_end = date.fromisoformat(end_date)
        except ValueError:
            raise UsageError(f"--end-date must be YYYY-MM-DD, got {end_date!r}") from None
    opts = SeedOptions(rows=rows, days=days, end_date=parsed_end, seed=seed_value, format=fmt, error_rate=error_rate)
    opts.validate()
    result = _writer(lake, target, wait).seed(opts, _progress(as_json))
    render.show(as_json, result, render.render_seed)


# ----------------------------------------------------------------------------------- run-etl


@app.command("run-etl")
@handle_errors
def run_etl(
    engine: Annotated[
        str | None, typer.Option(help="Transform engine: local duckdb (default) or spark; aws glue (default) or emr.")
    ] = None,
    wait: Annotated[
        float, typer.Option(help="Seconds to wait for another run holding the lake lock (default: fail at once).")
    ] = 0.0,
    lake: LakeOpt = None,
    target: TargetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Crawl raw files, check quality, quarantine bad rows, write partitioned Parquet, load the warehouse."""
    from datalake.cli import render
    from datalake.errors import UsageError
    from datalake.model import EtlOptions

    if wait < 0:
        raise UsageError(f"--wait must be zero or more seconds, got {wait}")
    tgt = _target(lake, target)
    engine = engine or tgt.capabilities.default_etl_engine
    if engine not in tgt.capabilities.etl_engines:
        raise UsageError(
            f"unknown --engine {engine!r}", hint=f"choose one of: {', '.join(tgt.capabilities.etl_engines)}"
        )
    summary = tgt.run_etl(EtlOptions(engine=engine, wait=wait), _progress(as_json))
    render.show(as_json, summary, render.render_run)


# ----------------------------------------------------------------------------------- query


@app.command()
@handle_errors
def query(
    sql: Annotated[
        str, typer.Argument(help='SQL in the Athena (Trino) dialect, e.g. "SELECT count(*) FROM sales_fact".')
    ],
    engine: Annotated[
        str | None, typer.Option(help="lake (Parquet, Athena's role), warehouse (Redshift's role) or raw.")
    ] = None,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print the result as CSV on stdout.")] = False,
    limit: Annotated[int, typer.Option(help="Show at most this many rows in the table view.")] = 50,
    show_sql: Annotated[
        bool, typer.Option("--show-sql", help="Also print the SQL as translated for the engine.")
    ] = False,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Time travel (lake engine): a sales_fact snapshot id from `datalake history sales_fact`, or an "
            "ISO timestamp; the run-etl tables as that run left them.",
        ),
    ] = None,
    lake: LakeOpt = None,
    target: TargetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run ad-hoc SQL (Athena dialect, translated with sqlglot) on the lake, the warehouse or raw files."""
    import csv
    import sys

    from datalake.cli import console as ui
    from datalake.cli import render

    tgt = _target(lake, target)
    if as_of is not None and not tgt.capabilities.time_travel:
        tgt.unsupported("query --as-of")
    opened = tgt.query_engine(engine) if as_of is None else tgt.time_travel(as_of, engine)
    with opened as eng:
        result = eng.execute(sql)
    if show_sql:
        ui.err.print(f"[dim]{result.engine}: {result.sql}[/]", highlight=False)
    if as_csv and not as_json:
        writer = csv.writer(sys.stdout)
        writer.writerow(result.columns)
        writer.writerows(result.rows)
    else:
        render.show(as_json, result, render.render_query, limit)


# ----------------------------------------------------------------------------------- validate


@app.command()
@handle_errors
def validate(
    max_age_days: Annotated[
        int | None,
        typer.Option(
            "--max-age-days", help="Fail when the newest sale is older than this (default: warn only).", min=0
        ),
    ] = None,
    lake: LakeOpt = None,
    target: TargetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Data-quality report: reconciliation, rule-by-rule counts, duplicates, schema, freshness."""
    from datalake.cli import render
    from datalake.errors import CheckFailedError

    report = _target(lake, target, "validate").validate(max_age_days)
    render.show(as_json, report, render.render_validation)
    if not report.ok:
        failed = [c.name for c in report.checks if c.status == "fail"]
        raise CheckFailedError(f"validation failed: {', '.join(failed)}", hint="see the checks above for details")


# ----------------------------------------------------------------------------------- status


@app.command()
@handle_errors
def status(lake: LakeOpt = None, target: TargetOpt = None, as_json: JsonOpt = False) -> None:
    """Zones with sizes and file counts, catalog tables with rows and partitions, the last runs."""
    from datalake.cli import render

    info = _target(lake, target).status()
    render.show(as_json, info, render.render_status)


# ----------------------------------------------------------------------------------- history


@app.command()
@handle_errors
def history(
    table: Annotated[str, typer.Argument(help="A processed table: sales_fact, sales_quarantine, customers, ...")],
    lake: LakeOpt = None,
    target: TargetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The table's snapshots, oldest first: id, time, operation, the run that committed it, files and rows."""
    from datalake.cli import render

    result = _target(lake, target, "history").history(table)
    render.show(as_json, result, render.render_history)


# ----------------------------------------------------------------------------------- maintain


@app.command()
@handle_errors
def maintain(
    table: Annotated[
        str | None, typer.Option("--table", "-t", help="Only this table (default: every run-etl table).")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would be done; change nothing.")] = False,
    target_file_size: Annotated[
        str, typer.Option("--target-file-size", help="Compact a partition's small files into files near this size.")
    ] = "128MB",
    expire_older_than: Annotated[
        str,
        typer.Option(
            "--expire-older-than", help="Expire snapshots older than this (e.g. 7d, 12h, 0s); never the last."
        ),
    ] = "7d",
    orphan_min_age: Annotated[
        str,
        typer.Option(
            "--orphan-min-age", help="Never remove an unreferenced file younger than this (a writer's fresh file)."
        ),
    ] = "1h",
    wait: WaitOpt = 0.0,
    lake: LakeOpt = None,
    target: TargetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Table care: compact small files (count and checksum checked), expire old snapshots, remove orphan files.

    Also prices the same maintenance on AWS (GET requests per full scan saved, storage freed) from the cost model.
    """
    from datalake.cli import render
    from datalake.domain.table_care import MaintainOptions, parse_age, parse_size
    from datalake.errors import CheckFailedError
    from datalake.measure.cost.maintenance import maintenance_cost
    from datalake.measure.cost.pricing import load_prices

    opts = MaintainOptions(
        table=table,
        dry_run=dry_run,
        target_file_size=parse_size(target_file_size, "--target-file-size"),
        expire_older_than=parse_age(expire_older_than, "--expire-older-than"),
        orphan_min_age=parse_age(orphan_min_age, "--orphan-min-age"),
    )
    tgt = _writer(lake, target, wait, "maintain")
    result = tgt.maintain(opts, _progress(as_json))
    result.aws = maintenance_cost(result, load_prices(tgt.settings.region))
    render.show(as_json, result, render.render_maintain)
    if not result.ok:
        raise CheckFailedError("compaction changed a table's rows", hint="nothing was committed for that table")


# ----------------------------------------------------------------------------------- erase


@app.command()
@handle_errors
def erase(
    where: Annotated[str, typer.Option("--where", help='The rows to erase, a predicate: "customer_id = 42".')],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the matching rows per zone and file; change nothing.")
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Go ahead even when the predicate matches every row.")
    ] = False,
    wait: WaitOpt = 0.0,
    lake: LakeOpt = None,
    target: TargetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The right to erasure: remove every row matching --where from every zone, verify none is left, audit it."""
    from datalake.cli import render
    from datalake.errors import CheckFailedError

    tgt = _target(lake, target, "erase") if dry_run else _writer(lake, target, wait, "erase")
    result = tgt.erase(where, dry_run=dry_run, yes=yes)
    render.show(as_json, result, render.render_erase)
    if not result.ok:
        raise CheckFailedError(
            f"erase {result.erase_id}: {result.matching:,} matching row(s) remain"
            + (f", {len(result.unverified)} file(s) or table(s) not erased or scanned" if result.unverified else ""),
            hint="rerun `datalake erase` with the same --where; the erase is not done until this is 0",
        )


# ----------------------------------------------------------------------------------- archive


@app.command()
@handle_errors
def archive(
    older_than: Annotated[
        int, typer.Option("--older-than", help="Move raw partitions older than this many days.")
    ] = 90,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only report what would move.")] = False,
    wait: WaitOpt = 0.0,
    lake: LakeOpt = None,
    target: TargetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Move processed raw partitions past a retention window to the archive zone."""
    from datalake.cli import render

    result = _writer(lake, target, wait, "archive").archive(older_than, dry_run)
    render.show(as_json, result, render.render_archive)


# ----------------------------------------------------------------------------------- destroy


@app.command()
@handle_errors
def destroy(
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    var_file: Annotated[
        Path | None, typer.Option("--var-file", help="aws: the Terraform tfvars file used to deploy.")
    ] = None,
    wait: WaitOpt = 0.0,
    lake: LakeOpt = None,
    target: TargetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Delete the lake (all zones, catalog, warehouse) after a confirmation; on aws, empty the buckets and destroy."""
    from datalake.cli import render
    from datalake.errors import UsageError

    if var_file is not None and not var_file.is_file():
        raise UsageError(f"--var-file {var_file} does not exist", hint="pass the .tfvars file used to deploy")
    result = _writer(lake, target, wait).destroy(_confirmer(yes), _progress(as_json), var_file)
    render.show(as_json, result, render.render_destroy)


# ----------------------------------------------------------------------------------- demo


@app.command()
@handle_errors
def demo(
    rows: Annotated[int, typer.Option("--rows", "-n", help="Number of sales to generate.")] = 1_000_000,
    seed_value: Annotated[int, typer.Option("--seed", help="Random seed.")] = 42,
    lake: LakeOpt = None,
    target: TargetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The whole pipeline in one go: deploy, seed, run-etl, validate, queries, benchmark, cost-report and report.

    A step the target cannot do (validate on aws) is skipped, and the demo says so.
    """
    from datalake.cli import render
    from datalake.cli.demo import run_demo

    result = run_demo(_target(lake, target), rows=rows, seed=seed_value, progress=_progress(as_json))
    render.show(as_json, result, render.render_demo)
    if result.validate is not None and not result.validate.ok:
        from datalake.errors import CheckFailedError

        raise CheckFailedError("the demo's validation failed", hint="run `datalake validate` for details")
    if result.benchmark is not None and not result.benchmark.ok:
        from datalake.errors import CheckFailedError

        raise CheckFailedError("the engines disagreed in the demo's benchmark", hint="run `datalake benchmark`")


# ----------------------------------------------------------------------------------- cost-report


@app.command("cost-report")
@handle_errors
def cost_report(
    region: Annotated[
        str | None,
        typer.Option(
            help="AWS region of the price table [env DATALAKE_REGION; default us-east-1].", show_default=False
        ),
    ] = None,
    prices: Annotated[
        Path | None,
        typer.Option(
            "--prices", help="JSON price file merged over the shipped table (same schema).", show_default=False
        ),
    ] = None,
    queries_per_day: Annotated[
        float, typer.Option("--queries-per-day", help="Queries per day (the benchmark's mix).")
    ] = 100.0,
    scale: Annotated[
        str | None,
        typer.Option(
            help="Project the measured lake to this raw size, e.g. 50TB (B/KB/MB/GB/TB/PB).", show_default=False
        ),
    ] = None,
    months: Annotated[int, typer.Option(help="Months to project.")] = 12,
    growth: Annotated[str, typer.Option(help="Monthly growth of the daily data volume, e.g. 5% or 0.05.")] = "0",
    infracost_json: Annotated[
        Path | None,
        typer.Option(
            "--infracost-json",
            help="Merge an `infracost breakdown --format json` file (resources not modelled here).",
            show_default=False,
        ),
    ] = None,
    object_size: Annotated[
        str,
        typer.Option("--object-size", help="Average S3 object size assumed at --scale (the local files are small)."),
    ] = "128MB",
    output: Annotated[
        Path | None,
        typer.Option("--output", help=f"Chart PNG path [default <lake>/results/{COST_CHART}].", show_default=False),
    ] = None,
    lake: LakeOpt = None,
    target: TargetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """What the lake costs on AWS: measured usage x the price table, projected to --scale; savings and break-even."""
    from datalake.cli import render
    from datalake.config import load_settings
    from datalake.layout import default_infra_dir
    from datalake.measure.cost.report import CostOptions, measure_target, run_costs
    from datalake.targets import create_target

    settings = load_settings({"lake": lake, "target": target, "region": region})
    opts = CostOptions(
        region=settings.region,
        prices_file=prices,
        queries_per_day=queries_per_day,
        scale=scale,
        months=months,
        growth=growth,
        infracost_json=infracost_json,
        chart=output,
        object_size=object_size,
    )
    opts.validate()
    tgt = create_target(settings)
    report = run_costs(measure_target(tgt), opts, default_infra_dir(settings.infra_dir, required=False))
    render.show(as_json, report, render.render_cost_report)


# ----------------------------------------------------------------------------------- ingest


@app.command()
@handle_errors
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files (or folders of files) to ingest.", show_default=False)],
    table: Annotated[str, typer.Option("--table", "-t", help="Table name in the lake, catalog and warehouse.")],
    partition_by: Annotated[
        str | None,
        typer.Option(
            "--partition-by", help="COLUMN, or COLUMN:year|month|day for a date/timestamp column.", show_default=False
        ),
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="auto (from the suffix or content), csv, json or parquet.")
    ] = "auto",
    flatten: Annotated[
        bool, typer.Option("--flatten", help="JSON: nested objects become parent_child columns instead of structs.")
    ] = False,
    mode: Annotated[
        str,
        typer.Option(
            "--mode", help="append (add the rows), overwrite (replace the table's rows) or merge (upsert on --key)."
        ),
    ] = "append",
    key: Annotated[
        str | None,
        typer.Option("--key", help="merge: the column(s) that identify a row, COL[,COL].", show_default=False),
    ] = None,
    wait: Annotated[float, typer.Option(help="Seconds to wait for another process holding the lake lock.")] = 0.0,
    lake: LakeOpt = None,
    target: TargetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Bring your own CSV, JSON or Parquet into the lake: raw copy, inferred schema, partitioned Parquet, warehouse.

    Re-ingesting is incremental: files whose content was ingested before are skipped. Each ingest is one
    Iceberg snapshot of the table; --mode overwrite replaces its rows, --mode merge --key COL upserts them.
    """
    from datalake.cli import render
    from datalake.errors import UsageError
    from datalake.model import IngestOptions

    if wait < 0:
        raise UsageError(f"--wait must be zero or more seconds, got {wait}")
    tgt = _target(lake, target, "ingest")
    opts = IngestOptions(
        table=table,
        paths=tuple(paths),
        partition_by=partition_by,
        format=fmt,
        flatten=flatten,
        wait=wait,
        mode=mode,
        key=(key,) if key else (),
    )
    result = tgt.ingest(opts, _progress(as_json))
    render.show(as_json, result, render.render_ingest)


# ----------------------------------------------------------------------------------- run-job


@app.command("run-job")
@handle_errors
def run_job(
    name: Annotated[str, typer.Argument(help="A job of jobs/, e.g. sales_etl or customer_aggregates.")],
    wait: WaitOpt = 0.0,
    lake: LakeOpt = None,
    target: TargetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run a Spark job of jobs/ against the lake (local Spark, or the deployed Glue job) and register its output in the catalog."""
    from datalake.cli import render

    result = _writer(lake, target, wait, "run-job").run_job(name, _progress(as_json))
    render.show(as_json, result, render.render_job)


# ----------------------------------------------------------------------------------- report


def _display_available() -> bool:
    """A browser can open a window here (a desktop session, or macOS/Windows)."""
    import sys

    return sys.platform in ("darwin", "win32") or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


@app.command()
@handle_errors
def report(
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help=f"HTML file to write [default <lake>/results/{REPORT_FILE}].", show_default=False
        ),
    ] = None,
    open_page: Annotated[
        bool, typer.Option("--open", help="Open the page in the browser (when a display is available).")
    ] = False,
    lake: LakeOpt = None,
    target: TargetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One self-contained HTML page: the pipeline, the benchmark, the costs and the architecture, with charts.

    Reads the lake's status and journals and the saved results of `datalake benchmark` and `datalake cost-report`.
    """
    from datalake.cli import console as ui
    from datalake.cli import render
    from datalake.report.html import write_report

    result = write_report(_target(lake, target), output)
    opened = False
    if open_page and _display_available():
        import webbrowser

        opened = webbrowser.open(result.path.resolve().as_uri())
    if as_json:
        ui.print_json({**result.to_dict(), "opened": opened})
        return
    render.render_report(result, open_page, opened)


# ----------------------------------------------------------------------------------- benchmark


def _split(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


@app.command()
@handle_errors
def benchmark(
    engines: Annotated[
        str | None,
        typer.Option(
            "--engines", help="Comma-separated engines (default: all of the target's, e.g. raw,lake,warehouse)."
        ),
    ] = None,
    queries: Annotated[
        str | None,
        typer.Option(
            "--queries", help="Comma-separated query names, the files of datalake/domain/queries (default: all)."
        ),
    ] = None,
    repeat: Annotated[
        int, typer.Option("--repeat", "-r", help="Timed runs per query and engine, after one warm-up.")
    ] = 3,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Date that CURRENT_DATE means in the queries, YYYY-MM-DD or 'today' (default: the lake's last sale date).",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Also write the JSON report to this file.", show_default=False)
    ] = None,
    no_chart: Annotated[bool, typer.Option("--no-chart", help="Do not draw the PNG timing chart.")] = False,
    lake: LakeOpt = None,
    target: TargetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run the same queries on raw files, the Parquet lake and the warehouse: time, bytes scanned, cross-checks, verdicts."""
    from datalake.cli import render
    from datalake.errors import CheckFailedError, UsageError
    from datalake.measure.benchmark.run import BenchmarkOptions, run_benchmark

    anchor: date | None = None
    if as_of == "today":
        anchor = date.today()
    elif as_of:
        try:
            anchor = date.fromisoformat(as_of)
        except ValueError:
            raise UsageError(f"--as-of must be YYYY-MM-DD or 'today', got {as_of!r}") from None
    opts = BenchmarkOptions(
        engines=_split(engines),
        queries=_split(queries),
        repeat=repeat,
        as_of=anchor,
        chart=not no_chart,
        output=output,
    )
    report = run_benchmark(_target(lake, target), opts, _progress(as_json))
    render.show(as_json, report, render.render_benchmark)
    if not report.ok:
        failed = [q.query.name for q in report.queries if not q.match]
        raise CheckFailedError(
            f"engines disagree on {', '.join(failed)}", hint="the mismatches are listed above and in the saved JSON"
        )


def main() -> None:
    app()


if __name__ == "__main__":
    main()
