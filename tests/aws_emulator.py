"""Our AWS for the tests: moto's server on 127.0.0.1, over TLS, with what moto lacks made faithful.

- **TLS.** The server speaks HTTPS with a certificate made for 127.0.0.1 (`AWS_CA_BUNDLE` lets
  Terraform and boto3 trust it), so `aws:SecureTransport` and `s3:TlsVersion` have the values a
  real request to AWS has, and a plain-HTTP request is refused by the buckets' policies as on AWS.
- **Bucket policy conditions.** moto 5.2 evaluates every bucket-policy `Condition` it does not know
  (`Bool`, `NumericLessThan`) as true, so infra/'s TLS-only Deny statements would deny every call.
  `evaluate()` keeps moto's own matching of actions and resources (`IAMPolicyStatement`) and
  evaluates the conditions against the request's real context; an operator it does not know fails
  the test instead of passing silently.
- **IAM.** moto's server does not enforce identity policies. S3 and Glue requests signed with an
  access key registered by `enforce()` are checked here against that principal's policies as
  Terraform applied them (read back from the emulator's IAM) and refused with AccessDenied as AWS
  would. Every S3 and Glue request is recorded (`requests`) with the actions and resources it needs
  (`s3_actions`, `glue_actions`: a Data Catalog call needs the catalog, the database and the table),
  for the permission test. Other services' calls are neither checked nor recorded.
- **Jobs.** moto runs no Spark. `simulate_jobs()` makes a Glue job run of the sales ETL do what
  jobs/sales_etl.py does, through the same paths and as the job's role: it picks its input files
  with the job's own code (`input_files`), transforms them with the DuckDB engine (the engine the
  Spark job is proven equal to), writes the processed zone where the job writes it (dimensions in
  run-named folders), and records the run, with the files it wrote per table (`written_outputs`),
  in the job's bookmark; run-etl then commits them to the Iceberg tables.
"""

from __future__ import annotations

import datetime as dt
import io
import ipaddress
import json
import re
import ssl
import tempfile
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

from tests.paths import REPO

ACCOUNT = "123456789012"
REGION = "us-east-1"
_CONTEXT = threading.local()


# ---------------------------------------------------------------------------------- policies
def _values(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _like(pattern: str, value: str) -> bool:
    return re.fullmatch(re.escape(pattern).replace(r"\*", ".*").replace(r"\?", "."), value) is not None


def _numeric_less_than(expected: str, actual: str) -> bool:
    return float(actual) < float(expected)


_OPERATORS: dict[str, Callable[[str, str], bool]] = {
    "Bool": lambda expected, actual: expected.lower() == actual.lower(),
    "StringEquals": lambda expected, actual: expected == actual,
    "StringLike": _like,
    "ArnEquals": lambda expected, actual: expected == actual,
    "ArnLike": _like,
    "NumericLessThan": _numeric_less_than,
}


def conditions_hold(conditions: dict[str, dict[str, Any]] | None, context: dict[str, str]) -> bool:
    """IAM semantics: every operator, every key must hold; a key missing from the context does not."""
    for operator, keys in (conditions or {}).items():
        check = _OPERATORS.get(operator)
        if check is None:
            raise AssertionError(f"emulator: condition operator {operator} is not evaluated; add it to _OPERATORS")
        for key, expected in keys.items():
            actual = context.get(key)
            if actual is None or not any(check(e, actual) for e in _values(expected)):
                return False
    return True


def evaluate(
    documents: list[dict[str, Any]], action: str, resource: str, context: dict[str, str], *, resource_policy: bool
) -> str:
    """ "allow", "deny" or "neutral" for `action` on `resource` under these policy documents.

    moto's `IAMPolicyStatement` matches actions and resources (wildcards, NotAction); conditions are
    ours (above). In a resource policy only statements for any principal ("*") apply to our callers.
    """
    from moto.iam.access_control import IAMPolicyStatement

    allowed = False
    for document in documents:
        statements = document["Statement"]
        for statement in statements if isinstance(statements, list) else [statements]:
            matcher = IAMPolicyStatement(statement)
            if "NotAction" in statement:
                if matcher._check_element_matches("NotAction", action):
                    continue
            elif not matcher._check_element_matches("Action", action):
                continue
            if "Resource" in statement and not matcher._check_element_matches("Resource", resource):
                continue
            if resource_policy and statement.get("Principal") not in ("*", {"AWS": "*"}):
                continue
            if not conditions_hold(statement.get("Condition"), context):
                continue
            if statement["Effect"] == "Deny":
                return "deny"
            allowed = True
    return "allow" if allowed else "neutral"


# ---------------------------------------------------------------------------------- S3 requests
@dataclass(frozen=True)
class S3Request:
    """One S3 (or Glue) call as IAM sees it: who (access key), the action, the resource ARN."""

    access_key: str
    action: str
    resource: str
    method: str
    path: str


def s3_actions(method: str, path: str, query: dict[str, list[str]], headers: dict[str, str]) -> list[tuple[str, str]]:
    """The IAM actions (and resources) a path-style S3 request needs."""
    bucket, _, key = path.lstrip("/").partition("/")
    bucket_arn = f"arn:aws:s3:::{bucket}"
    if not key:
        if method in ("GET", "HEAD") and not (
            set(query)
            - {
                "list-type",
                "prefix",
                "delimiter",
                "max-keys",
                "continuation-token",
                "encoding-type",
                "fetch-owner",
                "start-after",
                "marker",
            }
        ):
            return [("s3:ListBucket", bucket_arn)]
        if method == "GET" and "versions" in query:
            return [("s3:ListBucketVersions", bucket_arn)]
        if method == "GET" and "location" in query:
            return [("s3:GetBucketLocation", bucket_arn)]
        if method == "POST" and "delete" in query:
            return [("s3:DeleteObject", f"{bucket_arn}/*")]
        return [(f"s3:bucket-{method}-{','.join(sorted(query))}", bucket_arn)]
    object_arn = f"{bucket_arn}/{key}"
    if method in ("GET", "HEAD"):
        return [("s3:GetObjectVersion" if "versionId" in query else "s3:GetObject", object_arn)]
    if method in ("PUT", "POST"):
        needed = [("s3:PutObject", object_arn)]
        source = headers.get("x-amz-copy-source")
        if source:
            needed.append(("s3:GetObject", "arn:aws:s3:::" + unquote(source).lstrip("/").split("?")[0]))
        return needed
    if method == "DELETE":
        if "uploadId" in query:
            return [("s3:AbortMultipartUpload", object_arn)]
        return [("s3:DeleteObjectVersion" if "versionId" in query else "s3:DeleteObject", object_arn)]
    return [(f"s3:object-{method}", object_arn)]


def glue_actions(operation: str, body: dict[str, Any]) -> list[tuple[str, str]]:
    """The IAM actions (and resources) a Glue API call needs: a Data Catalog call needs the catalog, the
    database and the table (AWS's resource-level rules for Glue); a crawler or job call, that resource."""
    arn = f"arn:aws:glue:{REGION}:{ACCOUNT}"
    action = f"glue:{operation}"
    database = body.get("DatabaseName") or (body.get("Name") if operation.endswith("Database") else None)
    table = body.get("TableName") or (body.get("TableInput") or {}).get("Name")
    if operation in ("GetTable", "DeleteTable") or (table and database):
        table = table or body.get("Name")
        return [
            (action, f"{arn}:catalog"),
            (action, f"{arn}:database/{database}"),
            (action, f"{arn}:table/{database}/{table}"),
        ]
    if operation == "GetTables":
        return [
            (action, f"{arn}:catalog"),
            (action, f"{arn}:database/{database}"),
            (action, f"{arn}:table/{database}/*"),
        ]
    if database:
        return [(action, f"{arn}:catalog"), (action, f"{arn}:database/{database}")]
    if operation.endswith(("Crawler", "Crawls", "CrawlerMetrics")) and body.get("Name"):
        return [(action, f"{arn}:crawler/{body['Name']}")]
    if "JobName" in body:
        return [(action, f"{arn}:job/{body['JobName']}")]
    return [(action, f"{arn}:catalog")]


_CREDENTIAL = re.compile(r"Credential=([^/]+)/[^/]+/[^/]+/([^/]+)/aws4_request")


class _Recorder:
    """WSGI middleware: records S3 requests, sets the request context, enforces registered principals."""

    def __init__(self, app: Any, emulator: Emulator) -> None:
        self.app, self.emulator = app, emulator

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        auth = environ.get("HTTP_AUTHORIZATION", "")
        match = _CREDENTIAL.search(auth)
        tls = environ.get("datalake.tls_version")
        _CONTEXT.values = {"aws:SecureTransport": "true" if environ.get("wsgi.url_scheme") == "https" else "false"}
        if tls:
            _CONTEXT.values["s3:TlsVersion"] = tls
        if match and match.group(2) == "glue":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            raw = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(raw)
            operation = environ.get("HTTP_X_AMZ_TARGET", "").rsplit(".", 1)[-1]
            key = match.group(1)
            needed = glue_actions(operation, json.loads(raw or b"{}"))
            for action, resource in needed:
                self.emulator.requests.append(S3Request(key, action, resource, "POST", operation))
            denied = self.emulator.denied(key, needed)
            if denied:
                body = json.dumps(
                    {"__type": "AccessDeniedException", "message": f"emulated IAM: {denied} is not allowed for {key}"}
                ).encode()
                start_response(
                    "400 Bad Request",
                    [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(body)))],
                )
                return [body]
        if match and match.group(2) == "s3":
            key = match.group(1)
            headers = {k[5:].lower().replace("_", "-"): v for k, v in environ.items() if k.startswith("HTTP_")}
            query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
            path = environ.get("PATH_INFO", "")
            method = environ["REQUEST_METHOD"]
            needed = s3_actions(method, path, query, headers)
            for action, resource in needed:
                self.emulator.requests.append(S3Request(key, action, resource, method, path))
            denied = self.emulator.denied(key, needed)
            if denied:
                body = (
                    "<?xml version='1.0' encoding='UTF-8'?><Error><Code>AccessDenied</Code>"
                    f"<Message>emulated IAM: {denied} is not allowed for {key}</Message></Error>"
                ).encode()
                start_response(
                    "403 Forbidden", [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))]
                )
                return [body]
        return self.app(environ, start_response)


def request_context() -> dict[str, str]:
    """The condition keys of the request being served (TLS from the connection itself)."""
    return dict(getattr(_CONTEXT, "values", {}))


# ---------------------------------------------------------------------------------- the server
def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost (cryptography, a moto dependency)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "datalake test emulator")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "emulator.pem", folder / "emulator.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


@dataclass
class Emulator:
    """moto's server over TLS on 127.0.0.1, with the corrections above."""

    folder: Path
    endpoint: str = ""
    ca_bundle: Path = Path()
    requests: list[S3Request] = field(default_factory=list)
    principals: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # access key -> policy documents

    def enforce(self, access_key: str, documents: list[dict[str, Any]]) -> None:
        """From now on, S3 requests signed with `access_key` are allowed only by these policies."""
        self.principals[access_key] = documents

    def denied(self, access_key: str, needed: list[tuple[str, str]]) -> str | None:
        documents = self.principals.get(access_key)
        if documents is None:
            return None
        for action, resource in needed:
            if evaluate(documents, action, resource, request_context(), resource_policy=False) != "allow":
                return f"{action} on {resource}"
        return None

    def client(self, service: str, access_key: str = "testing") -> Any:
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=access_key,
            aws_secret_access_key="testing",
            verify=str(self.ca_bundle),
        )


def _bucket_permission(self: Any, action: str, resource: str) -> Any:
    """FakeBucket.get_permission with conditions evaluated against the request (see the module doc)."""
    from moto.iam.access_control import PermissionResult

    if self.policy is None:
        return PermissionResult.NEUTRAL
    verdict = evaluate([json.loads(self.policy)], action, resource, request_context(), resource_policy=True)
    return {"allow": PermissionResult.PERMITTED, "deny": PermissionResult.DENIED}.get(verdict, PermissionResult.NEUTRAL)


def _logging_allowed(target_bucket: Any, target_prefix: str | None) -> bool:
    """FakeBucket._log_permissions_enabled_policy as S3 decides it: does the target bucket's policy let
    the logging service put objects under the prefix? (moto 5.2 fails with a 500 on a statement whose
    Principal is "*", and wants the Resource to be exactly prefix*, where S3 takes any pattern covering it.)"""
    from moto.iam.access_control import IAMPolicyStatement

    if not target_bucket.policy:
        return False
    resource = f"arn:{target_bucket.partition}:s3:::{target_bucket.name}/{target_prefix or ''}logfile"
    for statement in json.loads(target_bucket.policy)["Statement"]:
        principal = statement.get("Principal")
        services = _values(principal.get("Service", [])) if isinstance(principal, dict) else []
        matcher = IAMPolicyStatement(statement)
        if (
            statement.get("Effect") == "Allow"
            and "logging.s3.amazonaws.com" in services
            and matcher._check_element_matches("Action", "s3:PutObject")
            and matcher._check_element_matches("Resource", resource)
        ):
            return True
    return False


@contextmanager
def emulator() -> Iterator[Emulator]:
    """Start the emulator (a fresh moto state) and stop it afterwards."""
    from unittest import mock

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from moto.s3.models import FakeBucket
    from werkzeug.serving import make_server

    class TlsAwareHandler(MotoRequestHandler):  # type: ignore[misc]
        def make_environ(self) -> dict[str, Any]:
            environ: dict[str, Any] = super().make_environ()
            if isinstance(self.connection, ssl.SSLSocket):
                version = self.connection.version() or ""
                environ["datalake.tls_version"] = version.removeprefix("TLSv")
            return environ

    with tempfile.TemporaryDirectory(prefix="datalake-emulator-") as tmp:
        folder = Path(tmp)
        cert, key = _certificate(folder)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(cert, key)
        state = Emulator(folder=folder, ca_bundle=cert)
        app = _Recorder(DomainDispatcherApplication(create_backend_app), state)
        server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=TlsAwareHandler, ssl_context=context)
        state.endpoint = f"https://127.0.0.1:{server.server_address[1]}"
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        with (
            mock.patch.object(FakeBucket, "get_permission", _bucket_permission),
            mock.patch.object(FakeBucket, "_log_permissions_enabled_policy", staticmethod(_logging_allowed)),
        ):
            thread.start()
            try:
                yield state
            finally:
                server.shutdown()
                thread.join(timeout=10)


# ---------------------------------------------------------------------------------- the Spark job's stand-in
def _job_module() -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location("sales_etl_job", REPO / "jobs" / "sales_etl.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_sales_job(arguments: dict[str, str], s3: Any) -> dict[str, Any]:
    """What jobs/sales_etl.py does on Glue, with `s3` as the job's role, the transform by DuckDB."""
    from datalake.domain.schema import DIMENSIONS
    from datalake.progress import NULL_PROGRESS
    from datalake.targets.local.etl.duckdb_engine import DuckDBTransformEngine
    from datalake.targets.local.etl.engine import TransformJob

    job = _job_module()
    args = {k.removeprefix("--"): v for k, v in arguments.items()}

    def read_lines(uri: str) -> list[str]:
        bucket, key = job.split_s3(uri)
        return str(s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()).splitlines()

    spec = json.loads("".join(read_lines(args["spec_path"])))  # the job starts by loading its transform spec
    assert spec["partition_keys"], "the uploaded transform spec is not the job's"
    files, sizes = job.input_files(args, s3, read_lines)
    raw_bucket, _ = job.split_s3(args["raw_path"])
    processed_bucket, processed_prefix = job.split_s3(args["processed_path"])
    quarantine_bucket, quarantine_prefix = job.split_s3(args["quarantine_path"])
    run_id = args.get("run_id") or args.get("JOB_RUN_ID") or dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    run_ts = args.get("run_ts") or dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    summary: dict[str, Any] = {"run_id": run_id, "files_in": len(files), "bytes_in": sum((sizes or {}).values())}
    if not files:
        return summary
    with tempfile.TemporaryDirectory(prefix="datalake-glue-job-") as tmp:
        root = Path(tmp)
        raw = root / "raw"

        def fetch(bucket: str, key: str, base: Path) -> Path:
            target = base / key
            target.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(bucket, key, str(target))
            return target

        local = [fetch(raw_bucket, job.split_s3(f)[1], raw) for f in files]
        dimensions = {}
        for name in DIMENSIONS:
            listed = s3.list_objects_v2(Bucket=raw_bucket, Prefix=f"{name}/").get("Contents", [])
            dimensions[name] = [fetch(raw_bucket, o["Key"], raw) for o in listed]
        existing = [
            fetch(processed_bucket, o["Key"], root / "existing")
            for page in s3.get_paginator("list_objects_v2").paginate(
                Bucket=processed_bucket, Prefix=processed_prefix + "sales_fact/"
            )
            for o in page.get("Contents", [])
            if o["Key"].endswith(".parquet")
        ]
        facts_before = job.parquet_listing(s3, f"{args['processed_path'].rstrip('/')}/sales_fact/")
        staging = root / "staging"
        output = DuckDBTransformEngine().run(
            TransformJob(
                run_id=run_id,
                run_ts=run_ts,
                json_files=[p for p in local if job.is_json(p.name)],
                csv_files=[p for p in local if job.is_csv(p.name)],
                dimension_files=dimensions,
                zone_roots=[raw],
                existing_facts=existing,
                staging=staging,
                scratch=root / "scratch",
            ),
            NULL_PROGRESS,
        )
        for path in sorted(p for p in staging.rglob("*") if p.is_file()):
            relative = path.relative_to(staging)
            zone, rest = relative.parts[0], Path(*relative.parts[1:]).as_posix()
            if zone == "processed" and relative.parts[1] in DIMENSIONS:  # the job's run-named version folder
                where = job.dimension_path(args["processed_path"].rstrip("/"), relative.parts[1], run_id)
                s3.upload_file(str(path), *job.split_s3(f"{where}/{path.name}"))
            elif zone == "processed":
                s3.upload_file(str(path), processed_bucket, processed_prefix + rest)
            else:
                s3.upload_file(str(path), quarantine_bucket, quarantine_prefix + rest)
    summary |= {
        "rows_in": output.rows_in,
        "rows_processed": output.rows_processed,
        "rows_quarantined": output.rows_quarantined,
        "by_reason": dict(sorted(output.by_reason.items())),
    }
    if sizes is not None:
        outputs = job.written_outputs(
            s3,
            args["processed_path"].rstrip("/"),
            args["quarantine_path"].rstrip("/"),
            run_id,
            list(DIMENSIONS),
            facts_before,
        )
        record = {**summary, job.OUTPUTS: outputs, "finished": dt.datetime.now(dt.UTC).isoformat()}
        job.commit_bookmark(s3, args["bookmark_path"], args["raw_path"], sizes, record)
    return summary


@contextmanager
def simulate_jobs(make_s3: Callable[[], Any]) -> Iterator[list[dict[str, Any]]]:
    """Glue runs of a `*-sales-etl` job, and EMR steps that submit jobs/sales_etl.py, run `run_sales_job`
    when started (an EMR step then ends COMPLETED, or FAILED); yields each run's summary."""
    from unittest import mock

    from moto.emr.models import Cluster
    from moto.glue.models import FakeJob, FakeJobRun

    original = FakeJob.start_job_run
    summaries: list[dict[str, Any]] = []

    def start_job_run(self: Any, **kwargs: Any) -> str:
        run_id: str = original(self, **kwargs)
        if self.name.endswith("-sales-etl"):
            run = next(r for r in self.job_runs if r.job_run_id == run_id)
            try:  # Glue hands the script its own run id, as --JOB_RUN_ID
                summaries.append(run_sales_job({**(run.arguments or {}), "--JOB_RUN_ID": run_id}, make_s3()))
            except Exception as exc:  # the job failed: so does its run, with its error message, as on Glue
                run.status = "FAILED"
                run.error_message = f"{type(exc).__name__}: {exc}"
                summaries.append({"error": run.error_message, "trace": traceback.format_exc()})
        return run_id

    original_dict = FakeJobRun.as_dict

    def as_dict(self: Any) -> dict[str, Any]:
        described: dict[str, Any] = original_dict(self)
        if getattr(self, "error_message", None):
            described["ErrorMessage"] = self.error_message
        return described

    original_steps = Cluster.add_steps

    def add_steps(self: Any, steps: list[dict[str, Any]]) -> list[Any]:
        added: list[Any] = original_steps(self, steps)
        for step in added:  # spark-submit ... s3://scripts/jobs/sales_etl.py --name value ...
            args = list(step.args)
            scripts = [i for i, a in enumerate(args) if a.endswith("/sales_etl.py")]
            if not scripts:
                continue
            pairs = args[scripts[0] + 1 :]
            try:
                summaries.append(run_sales_job(dict(zip(pairs[::2], pairs[1::2], strict=True)), make_s3()))
                step.state = "COMPLETED"
            except Exception as exc:
                step.state = "FAILED"
                summaries.append({"error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()})
        return added

    with (
        mock.patch.object(FakeJob, "start_job_run", start_job_run),
        mock.patch.object(FakeJobRun, "as_dict", as_dict),
        mock.patch.object(Cluster, "add_steps", add_steps),
    ):
        yield summaries
