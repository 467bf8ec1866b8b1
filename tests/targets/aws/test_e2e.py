"""The CLI's one-line failures with --target aws against moto's server on 127.0.0.1.

(The whole run on the real infra/, applied by Terraform, is test_first_run.py.) The fixture plays
`deploy`: it creates the resources the Terraform would (in the server) and writes aws-outputs.json. Each command runs in its own process with AWS_ENDPOINT_URL pointing at
the server and fake credentials; moto's state manager (over its HTTP API) lets crawls finish,
and Athena's result rows are queued through moto's API, since moto runs no SQL.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from datalake.targets.aws.infra import save_outputs
from tests.aws_helpers import FAKE_CREDENTIALS, REGION, create_lake_resources, lake_outputs, write_jobs_dir
from tests.paths import REPO

pytestmark = pytest.mark.aws


def _post(endpoint: str, path: str, body: dict[str, Any]) -> None:
    request = urllib.request.Request(
        endpoint + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status in (200, 201)


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        yield endpoint
    finally:
        _post(endpoint, "/moto-api/state-manager/unset-transition", {"model_name": "glue::crawl"})
        server.stop()


@pytest.fixture
def deployed(moto_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    import boto3

    _post(moto_server, "/moto-api/reset", {})
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    outputs = lake_outputs()
    create_lake_resources(boto3.session.Session(), outputs, endpoint_url=moto_server)
    lake = tmp_path / "lake"
    save_outputs(lake / "aws-outputs.json", outputs)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DATALAKE_")) or k in FAKE_CREDENTIALS}
    env |= {
        **FAKE_CREDENTIALS,
        "AWS_ENDPOINT_URL": moto_server,
        "PYTHONPATH": str(REPO),
        "DATALAKE_JOBS_DIR": str(write_jobs_dir(tmp_path / "jobs")),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
    }
    s3 = boto3.client("s3", endpoint_url=moto_server, region_name=REGION)
    return {"lake": lake, "env": env, "outputs": outputs, "endpoint": moto_server, "s3": s3, "cwd": tmp_path}


def datalake(
    deployed: dict[str, Any], *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "datalake.cli.app", *args, "--target", "aws", "--lake", str(deployed["lake"])],
        env=env or deployed["env"],
        cwd=deployed["cwd"],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_commands_fail_with_one_line_messages(deployed: dict[str, Any], tmp_path: Path) -> None:
    # no deployment outputs
    missing = subprocess.run(
        [
            sys.executable,
            "-m",
            "datalake.cli.app",
            "seed",
            "--rows",
            "10",
            "--target",
            "aws",
            "--lake",
            str(tmp_path / "nowhere"),
        ],
        env=deployed["env"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert missing.returncode == 2
    assert "run `datalake deploy --target aws`" in missing.stderr
    assert "Traceback" not in missing.stderr

    # no credentials at all
    env = {k: v for k, v in deployed["env"].items() if k not in FAKE_CREDENTIALS} | {
        "AWS_EC2_METADATA_DISABLED": "true"
    }
    nocreds = datalake(deployed, "status", env=env)
    assert nocreds.returncode == 1
    assert "no AWS credentials found" in nocreds.stderr and "aws configure" in nocreds.stderr
    assert "Traceback" not in nocreds.stderr

    # an engine this deployment does not have
    failed = datalake(deployed, "query", "SELECT * FROM sales_fact", "--engine", "redshift")
    assert failed.returncode == 2
    assert "redshift_mode = none" in failed.stderr
    assert "Traceback" not in failed.stderr

    # the workgroup is gone: AWS's own reason comes through
    import boto3

    boto3.client("athena", endpoint_url=deployed["endpoint"], region_name=REGION).delete_work_group(
        WorkGroup=deployed["outputs"]["athena_workgroup"], RecursiveDeleteOption=True
    )
    gone = datalake(deployed, "query", "SELECT 1")
    assert gone.returncode == 1
    assert "Error: athena query: InvalidRequestException: WorkGroup does not exist" in gone.stderr
    assert "Traceback" not in gone.stderr
