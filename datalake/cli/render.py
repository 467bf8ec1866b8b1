"""The CLI's renderers: each command's result as rich tables and lines (data on stdout, notes on stderr).

Only datalake.cli.app imports this module; a renderer prints and returns nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from datalake.cli import console as ui
from datalake.format import claim_figure, percent, size, usd, verdict

if TYPE_CHECKING:
    from datalake.cli.demo import DemoCost, DemoResult
    from datalake.measure.benchmark.result import BenchmarkReport, Claim, PairRatio, QueryBenchmark, Speedup
    from datalake.measure.cost.result import CostReport, QueryCost, StorageBill, ZoneCost
    from datalake.model import ArchiveResult, JobResult, LakeStatus, TableHistory, ValidationReport

_usd = functools.partial(usd, exact=True)  # per-query prices: six decimals below $1


def show(as_json: bool, result: Any, renderer: Callable[..., None], *args: Any) -> None:
    """--json prints the result (its to_dict() where it has one) on stdout; else the renderer shows it."""
    if as_json:
        ui.print_json(result.to_dict() if hasattr(result, "to_dict") else result)
    else:
        renderer(result, *args)


def _verdict(holds: bool | None) -> str:
    """A claim's verdict, green when it holds."""
    return f"[{'green' if holds else 'red'}]{verdict(holds)}[/]"


# ----------------------------------------------------------------------------------- deploy, seed, run-etl


def render_deploy(outputs: dict[str, Any]) -> None:
    verb = "Created" if outputs.pop("created") else "Already deployed"
    ui.out.print(ui.key_values(f"{verb}: lake outputs", outputs))


def render_seed(result: Any) -> None:
    data = result.to_dict()
    ui.out.print(
        f"Seeded [bold]{result.rows:,}[/] sales ({result.json_rows:,} JSON, {result.csv_rows:,} CSV) "
        f"from {result.first_date} to {result.last_date}: {result.files:,} files, {size(result.bytes)} "
        f"in {result.seconds:.1f}s ({data['rows_per_second']:,} rows/s)."
    )
    if result.defects:
        ui.out.print("Injected defects: " + ", ".join(f"{k} {v:,}" for k, v in result.defects.items()))


def _run_facts(s: Any) -> dict[str, Any]:
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
    return facts


def render_run(summary: Any) -> None:
    s = summary
    if s.recovered:
        for line in s.recovered:
            ui.err.print(f"[yellow]Recovered[/] {line}")
    if s.status == "nothing_to_do":
        ui.out.print("Nothing to do: every raw file has already been processed (bookmark up to date).")
        return
    ui.out.print(ui.key_values(f"run-etl {s.run_id} ({s.engine})", _run_facts(s)))
    if s.by_reason:
        ui.out.print(ui.table("Quarantined by reason", ["reason", "rows"], sorted(s.by_reason.items())))
    if s.bad_files:
        rows = [[b["file"], ", ".join(f"{k} {v}" if v else k for k, v in b["problems"].items())] for b in s.bad_files]
        ui.out.print(ui.table("Files with problems (their good rows were processed)", ["file", "problems"], rows))


# ----------------------------------------------------------------------------------- query, validate, status


def render_query(result: Any, limit: int) -> None:
    shown = result.rows[:limit]
    ui.out.print(ui.table(None, result.columns, shown, thousands=False))
    more = f" (showing {len(shown)})" if len(result.rows) > len(shown) else ""
    ui.err.print(f"[dim]{len(result.rows):,} row(s){more} from {result.engine} in {result.seconds:.3f}s[/]")


def render_validation(report: ValidationReport) -> None:
    colour = {"pass": "green", "warn": "yellow", "fail": "red"}
    rows = [[f"[{colour[c.status]}]{c.status.upper()}[/]", c.name, c.detail] for c in report.checks]
    ui.out.print(ui.table("Validation", ["status", "check", "detail"], rows, numeric=False))
    ui.out.print(ui.table("Quality rules (rows quarantined)", ["rule", "rows"], list(report.rules.items())))


def _catalog_rows(tables: list[dict[str, Any]]) -> list[list[Any]]:
    return [
        [
            f"{t['database']}.{t['table']}",
            t["format"],
            t["rows"],
            t["partitions"],
            t["files"],
            size(t["bytes"]),
            t.get("snapshots", ""),
        ]
        for t in tables
    ]


def _status_runs(runs: list[dict[str, Any]]) -> list[list[Any]]:
    keys = ("run_id", "status", "engine", "files", "rows_in", "rows_processed", "rows_quarantined", "seconds")
    return [[r[k] for k in keys] for r in runs]


def render_status(info: LakeStatus) -> None:
    ui.out.print(f"Lake [bold]{info.lake}[/] (target {info.target})")
    zones = [[z, v["files"], size(v["bytes"])] for z, v in info.zones.items()]
    ui.out.print(ui.table("Zones", ["zone", "files", "size"], zones))
    headers = ["table", "format", "rows", "partitions", "files", "size", "snapshots"]
    ui.out.print(ui.table("Catalog", headers, _catalog_rows(info.tables)))
    if info.warehouse:
        ui.out.print(ui.table("Warehouse", ["table", "rows"], list(info.warehouse.items())))
    if info.runs:
        headers = ["run", "status", "engine", "files", "rows in", "processed", "quarantined", "seconds"]
        ui.out.print(ui.table("Last runs", headers, _status_runs(info.runs)))
    if storage_classes := info.extra.get("storage_classes"):
        rows = [
            [zone, cls, v["objects"], size(v["bytes"])]
            for zone, classes in storage_classes.items()
            for cls, v in classes.items()
        ]
        ui.out.print(ui.table("Storage classes", ["zone", "class", "objects", "size"], rows))
    if info.pending_raw_files is not None:
        ui.out.print(f"Raw files waiting for run-etl: {info.pending_raw_files:,}")


# ----------------------------------------------------------------------------------- history


def render_history(result: TableHistory) -> None:
    if not result.snapshots:
        ui.out.print(f"{result.table}: no snapshots yet (run `datalake run-etl`).")
        return
    headers = ["snapshot", "committed at", "operation", "run", "files +/-", "rows +/-", "rows"]
    rows = [
        [
            f"{s.snapshot_id}{' *' if s.current else ''}",
            s.committed_at[:19].replace("T", " "),  # to the second: the JSON has milliseconds
            s.operation or "",
            s.run_id or ("(migrated)" if s.migrated else ""),
            f"+{s.added_files:,} / -{s.removed_files:,}",
            f"+{s.added_rows:,} / -{s.removed_rows:,}",
            s.total_rows,
        ]
        for s in result.snapshots
    ]
    ui.out.print(ui.table(f"{result.table}: {len(rows)} snapshot(s), * current", headers, rows))


# ----------------------------------------------------------------------------------- maintain


def _age(seconds: float) -> str:
    for unit, span in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= span and seconds % span == 0:
            return f"{int(seconds // span)}{unit}"
    return f"{seconds:g}s"


def _check_cell(check: Any) -> str:
    if check is None:
        return "[dim]not compacted[/]"
    colour = "green" if check.equal else "red"
    verb = "equal" if check.equal else "DIFFER"
    return f"[{colour}]{check.rows_before:,}, ..{check.checksum_before[-6:]} {verb}[/]"


def render_maintain(result: Any) -> None:
    for line in result.recovered:
        ui.err.print(f"[yellow]Recovered[/] {line}")
    would = result.dry_run
    headers = ["table", "files", "bytes", "on disk", "snapshots", "orphans", "rows + checksum"]
    rows = [
        [
            t.table,
            f"{t.files_before:,}->{t.files_after:,}",
            f"{size(t.bytes_before)}->{'?' if would and t.files_rewritten else size(t.bytes_after)}",
            f"{t.disk_files_before:,}->{t.disk_files_after:,}",
            f"{t.snapshots_before:,}->{t.snapshots_after:,}",
            f"{t.orphans_removed:,} ({size(t.orphan_bytes)})"
            + (f" +{t.orphans_too_young:,} young" if t.orphans_too_young else ""),
            "[dim]checked when run[/]" if would and t.files_rewritten else _check_cell(t.check),
        ]
        for t in result.tables
    ]
    title = (
        "maintain --dry-run: what would be done, nothing changed"
        if would
        else "maintain: data files of the current snapshot, files on disk, snapshots, orphans removed"
    )
    ui.out.print(ui.table(title, headers, rows, numeric=False))
    ui.out.print(
        f"Target file size {size(result.target_file_size)}; snapshots older than "
        f"{_age(result.expire_older_than_seconds)} expired (never the last); files younger than "
        f"{_age(result.orphan_min_age_seconds)} kept; {result.seconds:.2f}s."
    )
    if result.aws:
        total = result.aws["total"]
        ui.out.print(
            f"On AWS ({result.aws['region']}): a full scan of every table makes "
            f"{total['gets_per_full_scan_before']:,} -> {total['gets_per_full_scan_after']:,} S3 GET requests "
            f"(saves {_usd(total['saved_per_1000_full_scans_usd'])} per 1,000 full scans); "
            f"{size(total['storage_freed_bytes'])} freed ({_usd(total['storage_saved_per_month_usd'])}/month); "
            f"the maintenance itself would cost {_usd(total['maintenance_cost_usd'])} (Athena OPTIMIZE, GETs, PUTs, LISTs)."
        )


# ----------------------------------------------------------------------------------- erase


def render_erase(result: Any) -> None:
    if not result.dry_run:
        _render_erased(result)
        return
    rows = []
    for z in result.zones:
        note = f"{z.not_evaluated:,} lines without fields" if z.not_evaluated else ""
        if z.zone == "processed":
            note = f"current snapshot: {z.current_matching:,} of {z.current_rows:,}"
        rows.append([z.zone, z.table, len(z.files), sum(f.rows for f in z.files), z.matching, note])
    title = f"erase --where {result.where!r} --dry-run: nothing changed"
    ui.out.print(ui.table(title, ["zone", "table", "files scanned", "rows", "matching", "note"], rows))
    files = [[z.zone, f.file, f.matching] for z in result.zones for f in z.files if f.matching]
    if files:
        ui.out.print(ui.table("Files that hold matching rows", ["zone", "file", "matching rows"], files))
    ui.out.print(f"{result.matching:,} matching row(s) in all (columns: {', '.join(result.columns)}).")


def _render_erased(result: Any) -> None:
    for line in result.recovered:
        ui.err.print(f"[yellow]Recovered[/] {line}")
    rows = [
        [
            z.zone,
            z.table,
            f"{z.removed:,}",
            f"{z.matching:,}",
            z.files_rewritten,
            size(z.bytes_rewritten),
            z.snapshot_id or "",
            len(z.files),
        ]
        for z in result.zones
    ]
    headers = [
        "zone",
        "table",
        "rows removed",
        "still matching",
        "files rewritten",
        "bytes",
        "snapshot",
        "files scanned",
    ]
    ui.out.print(ui.table(f"erase {result.erase_id} (columns: {', '.join(result.columns)})", headers, rows))
    expired = sum(result.snapshots_expired.values())
    ui.out.print(
        f"Removed {result.removed:,} row(s); expired {expired} older snapshot(s), removed {result.files_removed} "
        f"file(s) no snapshot needs; {result.seconds:.1f}s."
    )
    for file in result.unverified:
        ui.err.print(f"[red]Not proven clean[/] {file}")
    if result.ok:
        ui.out.print(
            f"[green]Verified:[/] no row matches in any file of any zone holding {', '.join(result.columns)}. "
            f"Audit record: {result.audit}"
        )
    else:
        ui.err.print(f"[red]Not done:[/] {result.matching:,} matching row(s) remain.")


# ----------------------------------------------------------------------------------- archive, destroy


def render_archive(result: ArchiveResult) -> None:
    verb = "Would move" if result.dry_run else "Moved"
    ui.out.print(
        f"{verb} {result.partitions:,} partition(s), {result.files:,} file(s), "
        f"{size(result.bytes)} older than {result.cutoff} to the archive zone."
    )
    if result.skipped_unprocessed:
        ui.err.print(f"[yellow]Kept {len(result.skipped_unprocessed)} partition(s) with unprocessed files.[/]")


def render_destroy(result: dict[str, Any]) -> None:
    if not result["destroyed"]:
        ui.out.print("Nothing destroyed.")
        return
    ui.out.print(f"Destroyed {result['destroyed']} ({result['files']:,} files, {size(result['bytes'])}).")


# ----------------------------------------------------------------------------------- ingest, run-job, report


def _ingest_notes(result: Any) -> None:
    for line in result.recovered:
        ui.err.print(f"[yellow]Recovered[/] {line}")
    for s in result.skipped:
        ui.err.print(f"[dim]Skipped {s['file']}: {s['reason']}[/]", highlight=False)


def _ingest_table(result: Any) -> dict[str, Any]:
    modes = {"append": {}, "overwrite": {"rows replaced": result.rows_replaced}}
    changes = modes.get(
        result.mode,
        {
            "merged on": ", ".join(result.key),
            "rows inserted": result.rows_inserted,
            "rows updated": result.rows_updated,
            "rows unchanged": result.rows_unchanged,
        },
    )
    rewritten = {"rows rewritten": result.rewritten_rows} if result.rewritten_rows else {}
    return {
        "columns": ", ".join(f"{c['name']} {c['type']}" for c in result.columns),
        "partitioned by": result.partition_by or "-",
        "mode": result.mode,
        "rows ingested": result.rows,
        **changes,
        **rewritten,
        "iceberg snapshot": str(result.snapshot_id) if result.snapshot_id is not None else "-",
        "rows in the table": result.table_rows,
        "partitions": result.partitions,
        "bytes in": size(result.bytes_in),
        "parquet bytes out": size(result.bytes_out),
        "warehouse rows loaded": result.warehouse_rows_loaded,
        "total (s)": result.seconds,
    }


def render_ingest(result: Any) -> None:
    _ingest_notes(result)
    if result.status == "nothing_to_do":
        ui.out.print(f"Nothing to do: every file is already in table {result.table!r}.")
        return
    files = [[f["file"], f["format"], f["rows"], f["raw"]] for f in result.files]
    title = f"Ingested into {result.table} ({result.ingest_id})"
    ui.out.print(ui.table(title, ["file", "format", "rows", "raw copy"], files))
    for f in result.files:
        for note in f.get("notes", []):
            ui.err.print(f"[yellow]Note[/] {f['file']}: {note}", highlight=False)
    if result.new_columns:
        ui.out.print(f"New columns (older rows get NULL): {', '.join(result.new_columns)}")
    for w in result.widened:
        ui.out.print(f"Column {w['column']} widened from {w['from']} to {w['to']} ({w['file']})")
    ui.out.print(ui.key_values(f"Table {result.table}", _ingest_table(result)))


def render_job(result: JobResult) -> None:
    if result.etl is not None:
        render_run(result.etl)
        return
    rows = [
        [t["table"], t["location"], t["rows"] if t["rows"] is not None else "not reported", t["files"]]
        for t in result.tables
    ]
    title = f"Job {result.job} ({result.engine}, {result.seconds:.1f}s)"
    ui.out.print(ui.table(title, ["table", "location", "rows", "files"], rows))


def render_report(result: Any, open_page: bool, opened: bool) -> None:
    for name, section in result.sections.items():
        if section["present"]:
            ui.out.print(f"[green]✓[/] {name}: {section['charts']} chart(s)")
        else:
            ui.out.print(f"[yellow]-[/] {name}: {section.get('note', 'missing')}", highlight=False, soft_wrap=True)
    ui.out.print(f"Report: {result.path}", highlight=False, soft_wrap=True)
    if open_page and not opened:
        ui.err.print("[dim]No display to open a browser on: open the file above yourself.[/]")


# ----------------------------------------------------------------------------------- demo


def _demo_claims(claims: list[Claim]) -> None:
    rows = [
        [x["claim"], claim_figure(x.get("measured"), x.get("threshold"), share=".0%"), _verdict(x["holds"])]
        for x in claims
    ]
    title = "The original demo's claims, measured on this lake (datalake benchmark)"
    ui.out.print(ui.table(title, ["claim", "measured", "verdict"], rows, numeric=False))


def _demo_savings(cost: DemoCost) -> None:
    title = f"Projected to {cost.scale} on AWS (datalake cost-report): ${cost.total_month1_usd:,.0f} in month 1"
    rows = [[x.name, f"{x.percent:.0f}%"] for x in cost.savings]
    ui.out.print(ui.table(title, ["saving the original demo claims", "measured"], rows, numeric=False))


def render_demo(result: DemoResult) -> None:
    lake = {k: v for k, v in result.deploy.items() if k.endswith(("root", "database"))}
    ui.out.print(ui.key_values("Lake", lake))
    s = result.seed
    rate = s.to_dict()["rows_per_second"]
    ui.out.print(f"Seeded {s.rows:,} sales in {s.seconds:.1f}s ({rate:,} rows/s).")
    render_run(result.run_etl)
    care = result.table_care
    if care is not None:
        verdict_text = "[green]rows unchanged[/]" if care.unchanged else "[red]rows changed: nothing committed[/]"
        ui.out.print(
            f"Table care: {care.rounds} more small runs ({care.rows_per_round:,} sales each) left sales_fact in "
            f"[bold]{care.fact_files_before:,}[/] files; `maintain` compacted them into [bold]{care.fact_files_after:,}[/] "
            f"({care.rows_checked:,} rows, count and checksum: {verdict_text}) in {care.seconds:.1f}s."
        )
    if result.validate is not None:
        rows = [[c.status.upper(), c.name, c.detail] for c in result.validate.checks]
        ui.out.print(ui.table("Validation", ["status", "check", "detail"], rows, numeric=False))
    for skip in result.skipped:
        ui.out.print(f"[yellow]Skipped[/] {skip.step}: {skip.reason}", highlight=False, soft_wrap=True)
    for q in result.queries:
        title = f"{q.title} ({q.engine}, {q.seconds:.3f}s)"
        ui.out.print(ui.table(title, q.columns, q.rows, thousands=False))
    if result.benchmark is not None:
        _demo_claims(result.benchmark.claims)
    if result.cost is not None:
        _demo_savings(result.cost)
    ui.out.print(f"Report: [bold]{result.report}[/]")
    ui.out.print(f'Done in {result.seconds:.1f}s. Try: [bold]datalake query "SELECT * FROM sales_fact LIMIT 5"[/]')


# ----------------------------------------------------------------------------------- benchmark


def _benchmark_runs(report: BenchmarkReport) -> None:
    rows: list[list[Any]] = []
    for q in report.queries:
        for engine in report.engines:
            r = q.results[engine]
            if r.error:
                rows.append([q.query.name, engine, "[red]error[/]", "-", "-", "-", "-", "-"])
                continue
            t = r.timing
            rows.append(
                [
                    q.query.name,
                    engine,
                    f"{t.median_s:.3f}",
                    f"{t.min_s:.3f}-{t.max_s:.3f}",
                    size(r.bytes_scanned) if r.bytes_scanned is not None else "unknown",
                    r.files_read,
                    r.rows_returned,
                    f"${r.cost_usd:.6f}" if r.cost_usd is not None else "-",
                ]
            )
    title = f"Benchmark as of {report.as_of}: {report.fact_rows or 0:,} sales, median of {report.repeat} run(s)"
    headers = ["query", "engine", "median s", "min-max s", "scanned", "files", "rows", "Athena cost"]
    ui.out.print(ui.table(title, headers, rows, numeric=False))


def _speedup_row(q: QueryBenchmark, engines: list[str], pairs: list[PairRatio]) -> list[Any]:
    row: list[Any] = [q.query.title]
    medians = [q.results[e].timing.median_s for e in engines]
    row += [f"{x:.3f}" if x is not None else "-" for x in medians]
    ratios: list[Speedup | None] = [v.per_query.get(q.query.name) for v in pairs]
    row += [f"{r.speedup:.1f}x" if r and r.speedup else "-" for r in ratios]
    row += [f"{-r.scan_reduction:+.1%}" if r and r.scan_reduction is not None else "-" for r in ratios[:1]]
    return row


def _benchmark_speedups(report: BenchmarkReport) -> None:
    pairs = list(report.ratios.values())[:2]  # e.g. lake vs raw, warehouse vs lake; the JSON has every pair
    if not pairs:
        return
    head = ["query", *(f"{e} s" for e in report.engines)]
    head += [f"{v.engine} vs {v.baseline}" for v in pairs]
    head += [f"scan {v.engine} vs {v.baseline}" for v in pairs[:1]]
    rows = [_speedup_row(q, report.engines, pairs) for q in report.queries]
    ui.out.print(ui.table("Speedup (median time ratio) and scan reduction", head, rows, numeric=False))


def _benchmark_claims(claims: list[Claim]) -> None:
    if not claims:
        return
    rows = [
        [
            c["claim"],
            claim_figure(c["measured"], c["threshold"]),
            claim_figure(c["threshold"], c["threshold"], share=".0%", ratio=".0f"),
            _verdict(c["holds"]),
        ]
        for c in claims
    ]
    ui.out.print(ui.table("The demo's claims, measured", ["claim", "measured", "threshold", "verdict"], rows))


def render_benchmark(report: BenchmarkReport) -> None:
    _benchmark_runs(report)
    _benchmark_speedups(report)
    _benchmark_claims(report.claims)
    st = report.storage
    ui.out.print(
        f"Storage: raw sales {size(st.raw_bytes)}, Parquet sales_fact {size(st.parquet_bytes)}"
        + (f" ({st.compression_ratio:.1f}x smaller)." if st.compression_ratio else ".")
    )
    for q in report.queries:
        for problem in q.mismatches:
            ui.err.print(f"[bold red]Mismatch[/] {q.query.name}: {problem}", highlight=False, soft_wrap=True)
    for what, path in report.saved.items():
        ui.err.print(f"[dim]Saved {what}: {path}[/]", highlight=False)


# ----------------------------------------------------------------------------------- cost-report


def _cost_header(report: CostReport) -> None:
    a = report.assumptions
    scale = f"{a.scale} (x{a.scale_factor:,.0f} the measured lake)" if a.scale else "the measured lake"
    ui.out.print(
        f"[bold]Cost report[/] for {scale} in {report.region}: {a.queries_per_day:g} queries/day, "
        f"{a.months} months, growth {a.growth_per_month:.1%}/month. Prices: {report.prices.date}."
    )
    for note in report.notes:
        ui.err.print(f"[yellow]Note:[/] {note}", highlight=False)


def _cost_services(report: CostReport) -> None:
    months = report.assumptions.months
    rows = [[s, _usd(v), _usd(report.by_service_average[s])] for s, v in report.by_service.items()]
    rows.append(["[bold]total[/]", _usd(report.total_month1_usd), _usd(report.total_horizon_usd / months)])
    headers = ["service", "month 1", f"average of {months}"]
    ui.out.print(ui.table("Monthly cost by service", headers, rows, numeric=False))


def _cost_zones(by_zone: dict[str, ZoneCost]) -> None:
    rows = [
        [
            z,
            size(d.bytes),
            f"{d.objects:,.0f}",
            d.lifecycle,
            _usd(d.month1_usd),
            _usd(d.average_month_usd),
            _usd(d.standard_only_average_month_usd),
        ]
        for z, d in by_zone.items()
    ]
    headers = ["zone", "size", "objects", "lifecycle (from infra)", "month 1", "avg/month", "avg if all Standard"]
    ui.out.print(ui.table("Storage by zone", headers, rows, numeric=False))


def _cost_storage_months(st: StorageBill) -> None:
    months = zip(st.lifecycle_usd, st.standard_only_usd, st.lifecycle_detail, strict=True)
    rows = [
        [str(i + 1), _usd(lc), _usd(sd), ", ".join(f"{c} {size(b)}" for c, b in d.bytes_by_class.items())]
        for i, (lc, sd, d) in enumerate(months)
    ]
    headers = ["month", "lifecycle", "all Standard", "data at month end"]
    ui.out.print(ui.table("S3 storage bill month by month", headers, rows, numeric=False))


def _cost_queries(queries: list[QueryCost]) -> None:
    rows = [
        [
            q.title,
            size(q.bytes_scanned["lake"]),
            _usd(q.athena_usd),
            _usd(q.raw_athena_usd),
            _usd(q.redshift_provisioned_usd),
            _usd(q.redshift_serverless_min_usd),
        ]
        for q in queries
    ]
    headers = [
        "query",
        "Parquet scanned",
        "Athena",
        "raw JSON/CSV on Athena",
        "Redshift (provisioned, amortised)",
        "Serverless (min)",
    ]
    ui.out.print(ui.table("Cost per query", headers, rows, numeric=False))


def _cost_savings(report: CostReport) -> None:
    be = report.break_even
    qpd = be.queries_per_day
    ui.out.print(
        f"Athena vs Redshift: {be.warehouse} costs {_usd(be.redshift_monthly_usd)}/month; at "
        f"{_usd(be.athena_usd_per_query)} per Athena query the warehouse is cheaper above "
        f"[bold]{'-' if qpd is None else f'{qpd:,.0f}'}[/] queries/day."
    )
    rows = [
        [s.name, percent(s.percent), _usd(s.baseline_usd_month), _usd(s.optimised_usd_month)] for s in report.savings
    ]
    headers = ["claim", "saving", "baseline /month", "optimised /month"]
    ui.out.print(ui.table("Savings, computed", headers, rows, numeric=False))


def render_cost_report(report: CostReport) -> None:
    _cost_header(report)
    _cost_services(report)
    _cost_zones(report.by_zone)
    _cost_storage_months(report.storage)
    _cost_queries(report.queries)
    _cost_savings(report)
    if report.infracost:
        merged = _usd(report.infracost.merged_monthly_usd)
        ui.out.print(f"Infracost: merged {merged}/month of resources cost-report does not model.")
    if report.chart:
        ui.err.print(f"[dim]Chart: {report.chart}[/]")
    if report.saved:
        ui.err.print(f"[dim]Saved: {report.saved} (inputs of every figure are in it; --json prints it)[/]")
