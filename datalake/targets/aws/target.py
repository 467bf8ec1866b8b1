"""The aws target: Terraform in infra/ provisions the lake; outputs name every resource.

deploy and destroy drive Terraform (`infra`, `terraform`). seed and run-etl are orchestrated by
`pipeline` over one module per service: `s3` (uploads, listings), `jobs` (the scripts of jobs/),
`glue` (crawlers, the ETL job), `emr` (the same job as a step), `redshift` (the warehouse load).
Queries go through `engines` (Athena, Redshift Data API); status and usage through `status`.
run-job runs the deployed Glue jobs (`glue`). validate, archive and ingest are local-only for
now: the capabilities say so.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from datalake import model
from datalake.progress import NULL_PROGRESS, Progress
from datalake.targets.base import Capabilities, Confirm, DeployOptions, QueryEngine, Target, confirm_always

if TYPE_CHECKING:
    from datalake.targets.aws.lake import AwsLake


class AwsTarget(Target):
    name = "aws"
    _lake: AwsLake | None = None
    capabilities = Capabilities(
        query_engines=("athena", "athena-raw", "redshift"),
        etl_engines=("glue", "emr"),
        default_query_engine="athena",
        default_etl_engine="glue",
        # athena-raw sees the crawler's raw tables, not a sales_fact view: benchmark Parquet vs Redshift
        benchmark_engines=("athena", "redshift"),
        run_job=True,
        history=True,
        time_travel=True,
    )

    @property
    def outputs_file(self) -> Path:
        return self.settings.lake / "aws-outputs.json"

    @property
    def infra_dir(self) -> Path:
        from datalake.layout import default_infra_dir

        return default_infra_dir(self.settings.infra_dir)

    def _terraform_dir(self) -> tuple[Path, dict[str, str]]:
        """Where Terraform runs, and its extra environment: infra/ itself, or, when an endpoint
        override is set (an emulator), infra/ plus a generated provider override with its own state
        under the lake folder, with the endpoint passed to the provider."""
        from datalake.targets.aws.clients import endpoint_url
        from datalake.targets.aws.infra import endpoint_working_dir

        endpoint = endpoint_url(self.settings)
        if not endpoint:
            return self.infra_dir, {}
        module = endpoint_working_dir(self.infra_dir, self.settings.lake / "aws-endpoint", endpoint)
        return module, {"AWS_ENDPOINT_URL": endpoint}

    def deploy(self, options: DeployOptions | None = None, progress: Progress = NULL_PROGRESS) -> dict[str, Any]:
        from datalake.targets.aws import infra as aws_infra

        options = options or DeployOptions()
        module, env = self._terraform_dir()
        result = aws_infra.deploy(
            module,
            env=env,
            tfvars_file=options.var_file,
            var_overrides=self._region_override(),
            plan_only=options.plan_only,
            confirm=lambda plan: options.confirm(plan.describe()),
            outputs_file=self.outputs_file,
            session=self._session(),
            progress=progress,
        )
        iceberg: dict[str, Any] = {}
        if result.applied and result.outputs:
            iceberg = self._deploy_iceberg(result.outputs, progress)
        return {
            "created": result.applied,
            "target": self.name,
            "plan": result.plan.describe(),
            "applied": result.applied,
            "outputs_file": str(result.outputs_file) if result.outputs_file else None,
            **result.outputs,
            **iceberg,
        }

    def _deploy_iceberg(self, outputs: dict[str, str], progress: Progress) -> dict[str, Any]:
        """After the apply: the processed tables as Iceberg tables in the Glue database (idempotent)."""
        from datalake.targets.aws import iceberg
        from datalake.targets.aws.lake import open_lake

        self._lake = None
        lake = open_lake(self.settings, outputs)
        with progress.task("Creating the Iceberg tables in the Glue catalog"):
            made = iceberg.ensure_tables(lake)
        return {"iceberg_catalog": iceberg.catalog_info(lake), "iceberg_tables": made}

    def destroy(
        self, confirm: Confirm = confirm_always, progress: Progress = NULL_PROGRESS, var_file: Path | None = None
    ) -> dict[str, Any]:
        from datalake.targets.aws import infra as aws_infra

        module, env = self._terraform_dir()
        result = aws_infra.destroy(
            module,
            env=env,
            tfvars_file=var_file,
            var_overrides=self._region_override(),
            confirm=lambda plan: confirm(f"{plan.describe()} Empty every lake bucket (all versions) and destroy?"),
            outputs_file=self.outputs_file,
            session=self._session(),
            progress=progress,
        )
        return {
            "destroyed": "aws" if result.destroyed else None,
            "files": sum(result.emptied.values()),
            "bytes": None,
            "plan": result.plan.describe(),
            "emptied": result.emptied,
        }

    def _region_override(self) -> dict[str, str]:
        """Pass the region to Terraform only when the user set one: a tfvars file's region must win over our default."""
        if self.settings.describe("region") == "default":
            return {}
        return {"aws_region": self.settings.region}

    def _session(self) -> Any:
        """The boto3 session of the configured profile (credentials check, emptying buckets)."""
        from datalake.targets.aws.clients import session

        return session(self.settings)

    def lake(self) -> AwsLake:
        """The deployed lake (outputs of `deploy`), with clients; ConfigError saying to deploy if none."""
        from datalake.targets.aws.infra import load_outputs
        from datalake.targets.aws.lake import open_lake

        if self._lake is None:
            self._lake = open_lake(self.settings, load_outputs(self.outputs_file))
        return self._lake

    def seed(self, opts: model.SeedOptions, progress: Progress = NULL_PROGRESS) -> model.SeedResult:
        from datalake.targets.aws import pipeline as aws_pipeline

        return aws_pipeline.seed(self.lake(), opts, progress)

    def run_etl(self, opts: model.EtlOptions, progress: Progress = NULL_PROGRESS) -> model.RunSummary:
        """run-etl on Glue or EMR. `--wait` is refused: no lake lock serializes runs here, and waiting
        for Glue's running job would not stop two runs from reading the same bookmark.
        """
        from datalake.errors import UsageError
        from datalake.targets.aws import pipeline as aws_pipeline

        if opts.wait:
            raise UsageError(
                "`datalake run-etl --wait` is not available on the aws target: runs there take no lake lock to wait for",
                hint="run without --wait; a second run while the Glue job runs fails at once (it runs one at a time)",
            )
        return aws_pipeline.run_etl(self.lake(), opts, progress)

    def run_job(self, name: str, progress: Progress = NULL_PROGRESS) -> model.JobResult:
        """A job of jobs/ on the deployed Glue jobs: sales_etl is run-etl on Glue; customer_aggregates its own job."""
        from datalake.errors import InputError
        from datalake.targets.aws.glue import run_aggregates_job
        from datalake.targets.aws.jobs import default_jobs_dir

        if name == "sales_etl":
            summary = self.run_etl(model.EtlOptions(engine="glue"), progress)
            return model.JobResult(job=name, engine="glue", seconds=summary.seconds, etl=summary)
        if name == "customer_aggregates":
            return run_aggregates_job(self.lake(), default_jobs_dir(), progress)
        raise InputError(
            f"no Glue job runs jobs/{name}.py on the aws target", hint="choose sales_etl or customer_aggregates"
        )

    def query_engine(self, name: str | None = None) -> QueryEngine:
        from datalake.targets.aws.engines import open_aws_engine

        return open_aws_engine(self.lake(), name or self.capabilities.default_query_engine)

    def history(self, table: str) -> model.TableHistory:
        """The table's snapshots, through the Glue catalog: one per run-etl that committed to it."""
        from datalake.targets.aws.iceberg import history

        return history(self.lake(), table)

    def time_travel(self, as_of: str, name: str | None = None) -> QueryEngine:
        """Athena over the Iceberg tables as a run left them (`FOR VERSION / TIMESTAMP AS OF`)."""
        from datalake.targets.aws.engines import open_as_of_engine

        return open_as_of_engine(self.lake(), name or self.capabilities.default_query_engine, as_of)

    def status(self) -> model.LakeStatus:
        from datalake.targets.aws import status as aws_status

        return aws_status.status(self.lake())

    def services(self) -> dict[str, str]:
        return {
            "raw": "S3 raw bucket (JSON + CSV)",
            "processed": "S3 processed bucket (Iceberg tables, Parquet)",
            "archive": "S3 archive bucket (Glacier)",
            "quarantine": "S3 quarantine prefix",
            "catalog": "Glue Data Catalog (Iceberg tables; raw crawler)",
            "etl": "Glue ETL job · EMR step",
            "warehouse": "Redshift",
            "query": "Athena",
            "provisioning": "Terraform (infra/)",
        }

    def usage(self) -> dict[str, Any]:
        """Measured usage for cost-report: bytes per storage class per bucket, Athena scans, job runs."""
        from datalake.targets.aws import status as aws_status

        return aws_status.usage(self.lake())

    def run_summaries(self) -> list[model.RunSummary]:
        from datalake.targets.aws import status as aws_status

        return aws_status.etl_runs(self.lake())

    def measured_usage(self) -> model.LakeUsage:
        """cost-report's inputs, measured in S3, Glue and EMR."""
        from datalake.targets.aws import status as aws_status

        return aws_status.measured_usage(self.lake())
