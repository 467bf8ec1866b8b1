"""The `datalake` command line: parse options, call one core function, render the result.

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
from datalake.format import claim_figure, percent, size, usd, verdict

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


def _target(lake: Path | None, target: str | None) -> Any:
    from datalake.config import load_settings
    from datalake.targets import create_target

    return create_target(load_settings({"lake": lake, "target": target}))


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
    from datalake.cli import console as ui
    from datalake.errors import UsageError
    from datalake.targets.base import DeployOptions

    if var_file is not None and not var_file.is_file():
        raise UsageError(f"--var-file {var_file} does not exist", hint="pass an existing .tfvars file")
    options = DeployOptions(plan_only=plan_only, confirm=_confirmer(yes), var_file=var_file)
    outputs = _target(lake, target).deploy(options, _progress(as_json))
    if as_json:
        ui.print_json(outputs)
        return
    verb = "Created" if outputs.pop("created") else "Already deployed"
    ui.out.print(ui.key_values(f"{verb}: lake outputs", outputs))


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
    lake: LakeOpt = None,
    target: TargetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Generate fake retail sales (star schema) into the raw zone as JSON lines and CSV, by day."""
    from datalake.cli import console as ui
    from datalake.domain.seed import SeedOptions
    from datalake.errors import UsageError

    parsed_end: date | None = None
    if end_date:
        try:
            parsed_end = date.fromisoformat(end_date)
        except ValueError:
            raise UsageError(f"--end-date must be YYYY-MM-DD, got {end_date!r}") from None
    opts = SeedOptions(rows=rows, days=days, end_date=parsed_end, seed=seed_value, format=fmt, error_rate=error_rate)
    opts.validate()
    result = _target(lake, target).seed(opts, _progress(as_json))
    data = result.to_dict()
    if as_json:
        ui.print_json(data)
        return
    ui.out.print(
        f"Seeded [bold]{result.rows:,}[/] sales ({result.json_rows:,} JSON, {result.csv_rows:,} CSV) "
        f"from {result.first_date} to {result.last_date}: {result.files:,} files, {size(result.bytes)} "
        f"in {result.seconds:.1f}s ({data['rows_per_second']:,} rows/s)."
    )
    if result.defects:
        ui.out.print("Injected defects: " + ", ".join(f"{k} {v:,}" for k, v in result.defects.items()))


# ----------------------------------------------------------------------------------- run-etl


def _verdict(holds: bool | None) -> str:
    """A claim's verdict, green when it holds."""
    return f"[{'green' if holds else 'red'}]{verdict(holds)}[/]"


_usd = functools.partial(usd, exact=True)  # per-query prices: six decimals below $1


def render_run(summary: Any) -> None:
    from datalake.cli import console as ui

    s = summary
    if s.recovered:
        for line in s.recovered:
            ui.err.print(f"[yellow]Recovered[/] {line}")
    if s.status == "nothing_to_do":
        ui.out.print("Nothing to do: every raw file has already been processed (bookmark up to date).")
        return
    counted = bool(s.rows_in or s.rows_processed or s.rows_quarantined)  # the aws job may not report rows
    facts: dict[str, Any] = {
        "raw files in": s.files_in,
        "raw bytes in": size(s.bytes_in),
    }
    if counted:
        facts.update(
            {
                "rows in": s.rows_in,
                "rows processed": s.rows_processed,
                "rows quarantined": s.rows_quarantined,
                "balanced (in = processed + quarantined)": s.balanced,
            }
        )
    facts.update(
        {
            "parquet bytes out": size(s.bytes_out),
            "size ratio raw / parquet": f"{s.bytes_in / s.bytes_out:.1f}x" if s.bytes_out else "-",
            "warehouse rows loaded": s.warehouse_rows_loaded,
            "stages (s)": ", ".join(f"{k} {v:.2f}" for k, v in s.stages.items()),
            "total (s)": s.seconds,
        }
    )
    ui.out.print(ui.key_values(f"run-etl {s.run_id} ({s.engine})", facts))
    if s.by_reason:
        ui.out.print(ui.table("Quarantined by reason", ["reason", "rows"], sorted(s.by_reason.items())))
    if s.bad_files:
        rows = [[b["file"], ", ".join(f"{k} {v}" if v else k for k, v in b["problems"].items())] for b in s.bad_files]
        ui.out.print(ui.table("Files with problems (their good rows were processed)", ["file", "problems"], rows))


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
    from datalake.cli import console as ui
    from datalake.errors import UsageError
    from datalake.targets.local.etl.run import EtlOptions

    if wait < 0:
        raise UsageError(f"--wait must be zero or more seconds, got {wait}")
    tgt = _target(lake, target)
    engine = engine or tgt.capabilities.default_etl_engine
    if engine not in tgt.capabilities.etl_engines:
        raise UsageError(
            f"unknown --engine {engine!r}", hint=f"choose one of: {', '.join(tgt.capabilities.etl_engines)}"
        )
    summary = tgt.run_etl(EtlOptions(engine=engine, wait=wait), _progress(as_json))
    if as_json:
        ui.print_json(summary.to_dict())
        return
    render_run(summary)


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
    lake: LakeOpt = None,
    target: TargetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run ad-hoc SQL (Athena dialect, translated with sqlglot) on the lake, the warehouse or raw files."""
    import csv
    import sys

    from datalake.cli import console as ui

    tgt = _target(lake, target)
    with tgt.query_engine(engine) as eng:
        result = eng.execute(sql)
    if show_sql:
        ui.err.print(f"[dim]{result.engine}: {result.sql}[/]", highlight=False)
    if as_json:
        ui.print_json(
            {
                "engine": result.engine,
                "sql": result.sql,
                "seconds": round(result.seconds, 4),
                "rows": result.to_records(),
            }
        )
    elif as_csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(result.columns)
        writer.writerows(result.rows)
    else:
        shown = result.rows[:limit]
        ui.out.print(ui.table(None, result.columns, shown, thousands=False))
        more = f" (showing {len(shown)})" if len(result.rows) > len(shown) else ""
        ui.err.print(f"[dim]{len(result.rows):,} row(s){more} from {result.engine} in {result.seconds:.3f}s[/]")


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
    from datalake.cli import console as ui
    from datalake.errors import CheckFailedError

    report = _target(lake, target).validate(max_age_days)
    if as_json:
        ui.print_json(report)
    else:
        colour = {"pass": "green", "warn": "yellow", "fail": "red"}
        rows = [[f"[{colour[c['status']]}]{c['status'].upper()}[/]", c["name"], c["detail"]] for c in report["checks"]]
        ui.out.print(ui.table("Validation", ["status", "check", "detail"], rows, numeric=False))
        ui.out.print(ui.table("Quality rules (rows quarantined)", ["rule", "rows"], list(report["rules"].items())))
    if not report["ok"]:
        failed = [c["name"] for c in report["checks"] if c["status"] == "fail"]
        raise CheckFailedError(f"validation failed: {', '.join(failed)}", hint="see the checks above for details")


# ----------------------------------------------------------------------------------- status


@app.command()
@handle_errors
def status(lake: LakeOpt = None, target: TargetOpt = None, as_json: JsonOpt = False) -> None:
    """Zones with sizes and file counts, catalog tables with rows and partitions, the last runs."""
    from datalake.cli import console as ui

    info = _target(lake, target).status()
    if as_json:
        ui.print_json(info)
        return
    ui.out.print(f"Lake [bold]{info['lake']}[/] (target {info['target']})")
    ui.out.print(
        ui.table(
            "Zones",
            ["zone", "files", "size"],
            [[z, v["files"], size(v["bytes"])] for z, v in info["zones"].items()],
        )
    )
    ui.out.print(
        ui.table(
            "Catalog",
            ["table", "format", "rows", "partitions", "files", "size"],
            [
                [
                    f"{t['database']}.{t['table']}",
                    t["format"],
                    t["rows"],
                    t["partitions"],
                    t["files"],
                    size(t["bytes"]),
                ]
                for t in info["tables"]
            ],
        )
    )
    if info["warehouse"]:
        ui.out.print(ui.table("Warehouse", ["table", "rows"], list(info["warehouse"].items())))
    if info["runs"]:
        ui.out.print(
            ui.table(
                "Last runs",
                ["run", "status", "engine", "files", "rows in", "processed", "quarantined", "seconds"],
                [
                    [
                        r["run_id"],
                        r["status"],
                        r["engine"],
                        r["files"],
                        r["rows_in"],
                        r["rows_processed"],
                        r["rows_quarantined"],
                        r["seconds"],
                    ]
                    for r in info["runs"]
                ],
            )
        )
    if info.get("storage_classes"):
        ui.out.print(
            ui.table(
                "Storage classes",
                ["zone", "class", "objects", "size"],
                [
                    [zone, cls, v["objects"], size(v["bytes"])]
                    for zone, classes in info["storage_classes"].items()
                    for cls, v in classes.items()
                ],
            )
        )
    if info.get("pending_raw_files") is not None:
        ui.out.print(f"Raw files waiting for run-etl: {info['pending_raw_files']:,}")


# ----------------------------------------------------------------------------------- archive


@app.command()
@handle_errors
def archive(
    older_than: Annotated[
        int, typer.Option("--older-than", help="Move raw partitions older than this many days.")
    ] = 90,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only report what would move.")] = False,
    lake: LakeOpt = None,
    target: TargetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Move processed raw partitions past a retention window to the archive zone."""
    from datalake.cli import console as ui

    result = _target(lake, target).archive(older_than, dry_run)
    if as_json:
        ui.print_json(result)
        return
    verb = "Would move" if dry_run else "Moved"
    ui.out.print(
        f"{verb} {result['partitions']:,} partition(s), {result['files']:,} file(s), "
        f"{size(result['bytes'])} older than {result['cutoff']} to the archive zone."
    )
    if result["skipped_unprocessed"]:
        ui.err.print(f"[yellow]Kept {len(result['skipped_unprocessed'])} partition(s) with unprocessed files.[/]")


# ----------------------------------------------------------------------------------- destroy


@app.command()
@handle_errors
def destroy(
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    var_file: Annotated[
        Path | None, typer.Option("--var-file", help="aws: the Terraform tfvars file used to deploy.")
    ] = None,
    lake: LakeOpt = None,
    target: TargetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Delete the lake (all zones, catalog, warehouse) after a confirmation; on aws, empty the buckets and destroy."""
    from datalake.cli import console as ui
    from datalake.errors import UsageError

    if var_file is not None and not var_file.is_file():
        raise UsageError(f"--var-file {var_file} does not exist", hint="pass the .tfvars file used to deploy")
    result = _target(lake, target).destroy(_confirmer(yes), _progress(as_json), var_file)
    if as_json:
        ui.print_json(result)
        return
    if not result["destroyed"]:
        ui.out.print("Nothing destroyed.")
        return
    ui.out.print(f"Destroyed {result['destroyed']} ({result['files']:,} files, {size(result['bytes'])}).")


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
    """The whole pipeline in one go: deploy, seed, run-etl, validate and a sample query."""
    from datalake.cli import console as ui
    from datalake.cli.demo import run_demo

    result = run_demo(_target(lake, target), rows=rows, seed=seed_value, progress=_progress(as_json))
    if as_json:
        ui.print_json(result)
    else:
        ui.out.print(
            ui.key_values("Lake", {k: v for k, v in result["deploy"].items() if k.endswith(("root", "database"))})
        )
        s = result["seed"]
        ui.out.print(f"Seeded {s['rows']:,} sales in {s['seconds']:.1f}s ({s['rows_per_second']:,} rows/s).")
        from datalake.targets.local.etl.run import RunSummary

        render_run(RunSummary(**result["run_etl"]))
        rows_ = [[c["status"].upper(), c["name"], c["detail"]] for c in result["validate"]["checks"]]
        ui.out.print(ui.table("Validation", ["status", "check", "detail"], rows_, numeric=False))
        for q in result["queries"]:
            title = f"{q['title']} ({q['engine']}, {q['seconds']:.3f}s)"
            ui.out.print(ui.table(title, q["columns"], q["rows"], thousands=False))
        claims = result["benchmark"]["claims"]
        ui.out.print(
            ui.table(
                "The original demo's claims, measured on this lake (datalake benchmark)",
                ["claim", "measured", "verdict"],
                [
                    [
                        x["claim"],
                        claim_figure(x.get("measured"), x.get("threshold"), share=".0%"),
                        _verdict(x["holds"]),
                    ]
                    for x in claims
                ],
                numeric=False,
            )
        )
        c = result["cost"]
        ui.out.print(
            ui.table(
                f"Projected to {c['scale']} on AWS (datalake cost-report): ${c['total_month1_usd']:,.0f} in month 1",
                ["saving the original demo claims", "measured"],
                [[x["name"], f"{x['percent']:.0f}%"] for x in c["savings"]],
                numeric=False,
            )
        )
        ui.out.print(f"Report: [bold]{result['report']}[/]")
        ui.out.print(
            f'Done in {result["seconds"]:.1f}s. Try: [bold]datalake query "SELECT * FROM sales_fact LIMIT 5"[/]'
        )
    if not result["validate"]["ok"]:
        from datalake.errors import CheckFailedError

        raise CheckFailedError("the demo's validation failed", hint="run `datalake validate` for details")
    if not result["benchmark"]["ok"]:
        from datalake.errors import CheckFailedError

        raise CheckFailedError("the engines disagreed in the demo's benchmark", hint="run `datalake benchmark`")


# ----------------------------------------------------------------------------------- cost-report


def render_cost_report(report: dict[str, Any]) -> None:
    from datalake.cli import console as ui

    a = report["assumptions"]
    scale = f"{a['scale']} (x{a['scale_factor']:,.0f} the measured lake)" if a["scale"] else "the measured lake"
    ui.out.print(
        f"[bold]Cost report[/] for {scale} in {report['region']}: {a['queries_per_day']:g} queries/day, "
        f"{a['months']} months, growth {a['growth_per_month']:.1%}/month. Prices: {report['prices']['date']}."
    )
    for note in report["notes"]:
        ui.err.print(f"[yellow]Note:[/] {note}", highlight=False)
    services = report["by_service"]
    rows = [[s, _usd(v), _usd(report["by_service_average"][s])] for s, v in services.items()]
    rows.append(["[bold]total[/]", _usd(report["total_month1_usd"]), _usd(report["total_horizon_usd"] / a["months"])])
    ui.out.print(
        ui.table("Monthly cost by service", ["service", "month 1", f"average of {a['months']}"], rows, numeric=False)
    )
    ui.out.print(
        ui.table(
            "Storage by zone",
            ["zone", "size", "objects", "lifecycle (from infra)", "month 1", "avg/month", "avg if all Standard"],
            [
                [
                    z,
                    size(d["bytes"]),
                    f"{d['objects']:,.0f}",
                    d["lifecycle"],
                    _usd(d["month1_usd"]),
                    _usd(d["average_month_usd"]),
                    _usd(d["standard_only_average_month_usd"]),
                ]
                for z, d in report["by_zone"].items()
            ],
            numeric=False,
        )
    )
    st = report["storage"]
    ui.out.print(
        ui.table(
            "S3 storage bill month by month",
            ["month", "lifecycle", "all Standard", "data at month end"],
            [
                [
                    str(i + 1),
                    _usd(lc),
                    _usd(sd),
                    ", ".join(f"{c} {size(b)}" for c, b in d["bytes_by_class"].items()),
                ]
                for i, (lc, sd, d) in enumerate(
                    zip(st["lifecycle_usd"], st["standard_only_usd"], st["lifecycle_detail"], strict=True)
                )
            ],
            numeric=False,
        )
    )
    ui.out.print(
        ui.table(
            "Cost per query",
            [
                "query",
                "Parquet scanned",
                "Athena",
                "raw JSON/CSV on Athena",
                "Redshift (provisioned, amortised)",
                "Serverless (min)",
            ],
            [
                [
                    q["title"],
                    size(q["bytes_scanned"]["lake"]),
                    _usd(q["athena_usd"]),
                    _usd(q["raw_athena_usd"]),
                    _usd(q["redshift_provisioned_usd"]),
                    _usd(q["redshift_serverless_min_usd"]),
                ]
                for q in report["queries"]
            ],
            numeric=False,
        )
    )
    be = report["break_even"]
    qpd = be["queries_per_day"]
    ui.out.print(
        f"Athena vs Redshift: {be['warehouse']} costs {_usd(be['redshift_monthly_usd'])}/month; at "
        f"{_usd(be['athena_usd_per_query'])} per Athena query the warehouse is cheaper above "
        f"[bold]{'-' if qpd is None else f'{qpd:,.0f}'}[/] queries/day."
    )
    ui.out.print(
        ui.table(
            "Savings, computed",
            ["claim", "saving", "baseline /month", "optimised /month"],
            [
                [s["name"], percent(s["percent"]), _usd(s["baseline_usd_month"]), _usd(s["optimised_usd_month"])]
                for s in report["savings"]
            ],
            numeric=False,
        )
    )
    if report.get("infracost"):
        ic = report["infracost"]
        ui.out.print(
            f"Infracost: merged {_usd(ic['merged_monthly_usd'])}/month of resources cost-report does not model."
        )
    if report.get("chart"):
        ui.err.print(f"[dim]Chart: {report['chart']}[/]")
    if report.get("saved"):
        ui.err.print(f"[dim]Saved: {report['saved']} (inputs of every figure are in it; --json prints it)[/]")


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
        typer.Option("--output", help="Chart PNG path [default <lake>/results/cost-latest.png].", show_default=False),
    ] = None,
    lake: LakeOpt = None,
    target: TargetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """What the lake costs on AWS: measured usage x the price table, projected to --scale; savings and break-even."""
    from datalake.cli import console as ui
    from datalake.config import load_settings
    from datalake.layout import default_infra_dir
    from datalake.measure.cost.report import CostOptions, run_cost_report
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
    report = run_cost_report(tgt.measured_usage(), opts, default_infra_dir(settings.infra_dir, required=False))
    if as_json:
        ui.print_json(report)
        return
    render_cost_report(report)


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
    wait: Annotated[float, typer.Option(help="Seconds to wait for another process holding the lake lock.")] = 0.0,
    lake: LakeOpt = None,
    target: TargetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Bring your own CSV, JSON or Parquet into the lake: raw copy, inferred schema, partitioned Parquet, warehouse.

    Re-ingesting is incremental: files whose content was ingested before are skipped.
    """
    from datalake.cli import console as ui
    from datalake.errors import UsageError
    from datalake.targets.local.ingest.run import IngestOptions

    if wait < 0:
        raise UsageError(f"--wait must be zero or more seconds, got {wait}")
    tgt = _target(lake, target)
    opts = IngestOptions(
        table=table, paths=tuple(paths), partition_by=partition_by, format=fmt, flatten=flatten, wait=wait
    )
    result = tgt.ingest(opts, _progress(as_json))
    if as_json:
        ui.print_json(result.to_dict())
        return
    for line in result.recovered:
        ui.err.print(f"[yellow]Recovered[/] {line}")
    for s in result.skipped:
        ui.err.print(f"[dim]Skipped {s['file']}: {s['reason']}[/]", highlight=False)
    if result.status == "nothing_to_do":
        ui.out.print(f"Nothing to do: every file is already in table {result.table!r}.")
        return
    ui.out.print(
        ui.table(
            f"Ingested into {result.table} ({result.ingest_id})",
            ["file", "format", "rows", "raw copy"],
            [[f["file"], f["format"], f["rows"], f["raw"]] for f in result.files],
        )
    )
    for f in result.files:
        for note in f.get("notes", []):
            ui.err.print(f"[yellow]Note[/] {f['file']}: {note}", highlight=False)
    if result.new_columns:
        ui.out.print(f"New columns (older rows get NULL): {', '.join(result.new_columns)}")
    for w in result.widened:
        ui.out.print(f"Column {w['column']} widened from {w['from']} to {w['to']} ({w['file']})")
    ui.out.print(
        ui.key_values(
            f"Table {result.table}",
            {
                "columns": ", ".join(f"{c['name']} {c['type']}" for c in result.columns),
                "partitioned by": result.partition_by or "-",
                "rows ingested": result.rows,
                "rows in the table": result.table_rows,
                "partitions": result.partitions,
                "bytes in": size(result.bytes_in),
                "parquet bytes out": size(result.bytes_out),
                "warehouse rows loaded": result.warehouse_rows_loaded,
                "total (s)": result.seconds,
            },
        )
    )


# ----------------------------------------------------------------------------------- run-job


@app.command("run-job")
@handle_errors
def run_job(
    name: Annotated[str, typer.Argument(help="A job of jobs/, e.g. sales_etl or customer_aggregates.")],
    lake: LakeOpt = None,
    target: TargetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run a Spark job of jobs/ on local Spark against the lake and register its output in the catalog."""
    from datalake.cli import console as ui
    from datalake.targets.local.jobs import run_job as run_spark_job

    tgt = _target(lake, target)
    result = run_spark_job(tgt.layout, name, _progress(as_json))
    if as_json:
        ui.print_json(result.to_dict())
        return
    if result.etl is not None:
        from datalake.targets.local.etl.run import RunSummary

        render_run(RunSummary(**result.etl))
        return
    rows = [[t["table"], t["location"], t["rows"], t["files"]] for t in result.tables]
    ui.out.print(
        ui.table(
            f"Job {result.job} ({result.engine}, {result.seconds:.1f}s)", ["table", "location", "rows", "files"], rows
        )
    )


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
            "--output", "-o", help="HTML file to write [default <lake>/results/report.html].", show_default=False
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
    from datalake.report.sections import write_report

    result = write_report(_target(lake, target), output)
    opened = False
    if open_page and _display_available():
        import webbrowser

        opened = webbrowser.open(result.path.resolve().as_uri())
    if as_json:
        ui.print_json({**result.to_dict(), "opened": opened})
        return
    for name, section in result.sections.items():
        if section["present"]:
            ui.out.print(f"[green]✓[/] {name}: {section['charts']} chart(s)")
        else:
            ui.out.print(f"[yellow]-[/] {name}: {section.get('note', 'missing')}", highlight=False, soft_wrap=True)
    ui.out.print(f"Report: {result.path}", highlight=False, soft_wrap=True)
    if open_page and not opened:
        ui.err.print("[dim]No display to open a browser on: open the file above yourself.[/]")


# ----------------------------------------------------------------------------------- benchmark


def _split(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def render_benchmark(report: Any) -> None:
    from datalake.cli import console as ui

    data = report.to_dict()
    engines = data["engines"]
    rows = []
    for q in data["queries"]:
        for engine in engines:
            r = q["results"][engine]
            if r["error"]:
                rows.append([q["name"], engine, "[red]error[/]", "-", "-", "-", "-", "-"])
                continue
            rows.append(
                [
                    q["name"],
                    engine,
                    f"{r['median_s']:.3f}",
                    f"{r['min_s']:.3f}-{r['max_s']:.3f}",
                    size(r["bytes_scanned"]),
                    r["files_read"],
                    r["rows_returned"],
                    f"${r['cost_usd']:.6f}" if r["cost_usd"] is not None else "-",
                ]
            )
    ui.out.print(
        ui.table(
            f"Benchmark as of {data['as_of']}: {data['fact_rows'] or 0:,} sales, median of {data['repeat']} run(s)",
            ["query", "engine", "median s", "min-max s", "scanned", "files", "rows", "Athena cost"],
            rows,
            numeric=False,
        )
    )
    pairs = list(data["ratios"].items())[:2]  # e.g. lake vs raw, warehouse vs lake; the JSON has every pair
    if pairs:
        head = ["query", *(f"{e} s" for e in engines)]
        head += [f"{v['engine']} vs {v['baseline']}" for _, v in pairs]
        head += [f"scan {v['engine']} vs {v['baseline']}" for _, v in pairs[:1]]
        table_rows = []
        for q in data["queries"]:
            row: list[Any] = [q["title"]]
            row += [
                f"{q['results'][e]['median_s']:.3f}" if q["results"][e]["median_s"] is not None else "-"
                for e in engines
            ]
            for _, v in pairs:
                x = v["per_query"].get(q["name"], {}).get("speedup")
                row.append(f"{x:.1f}x" if x else "-")
            for _, v in pairs[:1]:
                x = v["per_query"].get(q["name"], {}).get("scan_reduction")
                row.append(f"{-x:+.1%}" if x is not None else "-")
            table_rows.append(row)
        ui.out.print(ui.table("Speedup (median time ratio) and scan reduction", head, table_rows, numeric=False))
    if data["claims"]:
        claim_rows = [
            [
                c["claim"],
                claim_figure(c["measured"], c["threshold"]),
                claim_figure(c["threshold"], c["threshold"], share=".0%", ratio=".0f"),
                _verdict(c["holds"]),
            ]
            for c in data["claims"]
        ]
        ui.out.print(ui.table("The demo's claims, measured", ["claim", "measured", "threshold", "verdict"], claim_rows))
    st = data["storage"]
    ui.out.print(
        f"Storage: raw sales {size(st['raw_bytes'])}, Parquet sales_fact {size(st['parquet_bytes'])}"
        + (f" ({st['compression_ratio']:.1f}x smaller)." if st["compression_ratio"] else ".")
    )
    for q in data["queries"]:
        for problem in q["mismatches"]:
            ui.err.print(f"[bold red]Mismatch[/] {q['name']}: {problem}", highlight=False, soft_wrap=True)
    for what, path in data["saved"].items():
        ui.err.print(f"[dim]Saved {what}: {path}[/]", highlight=False)


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
    from datalake.cli import console as ui
    from datalake.errors import CheckFailedError, UsageError
    from datalake.measure.benchmark import BenchmarkOptions, run_benchmark

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
    if as_json:
        ui.print_json(report.to_dict())
    else:
        render_benchmark(report)
    if not report.ok:
        failed = [q.query.name for q in report.queries if not q.match]
        raise CheckFailedError(
            f"engines disagree on {', '.join(failed)}", hint="the mismatches are listed above and in the saved JSON"
        )


def main() -> None:
    app()


if __name__ == "__main__":
    main()
