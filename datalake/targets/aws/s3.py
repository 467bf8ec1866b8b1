"""S3 for the aws target: managed uploads, downloads and listings, one way each.

Uploads go through boto3's managed transfer (multipart above 64 MiB, several files at once);
every listing of a prefix goes through `objects`, so pagination is written once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NamedTuple

from datalake.progress import NULL_PROGRESS, Progress
from datalake.targets.aws.clients import aws_errors, error_code
from datalake.targets.aws.lake import AwsLake

MULTIPART_THRESHOLD = 64 * 1024 * 1024
UPLOAD_WORKERS = 8
CONTENT_TYPES = {
    ".json": "application/json",
    ".csv": "text/csv",
    ".py": "text/x-python",
    ".parquet": "application/octet-stream",
}


class S3Object(NamedTuple):
    key: str
    size: int
    storage_class: str


def objects(lake: AwsLake, bucket: str, prefix: str = "") -> Iterator[S3Object]:
    """Every object under `prefix`, across all pages of the listing."""
    for page in lake.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            yield S3Object(item["Key"], int(item["Size"]), item.get("StorageClass", "STANDARD"))


def download_if_exists(s3: Any, bucket: str, key: str, path: Path) -> bool:
    from botocore.exceptions import ClientError

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        s3.download_file(bucket, key, str(path))
        return True
    except ClientError as exc:
        if error_code(exc) in {"404", "NoSuchKey", "NotFound"}:
            path.unlink(missing_ok=True)
            return False
        raise


def upload_files(
    lake: AwsLake, bucket: str, files: dict[str, Path], progress: Progress = NULL_PROGRESS, what: str = "Uploading"
) -> int:
    """Upload `key -> local file` with managed transfer (multipart for large files); bytes uploaded."""
    from boto3.s3.transfer import TransferConfig

    s3 = lake.client("s3")
    config = TransferConfig(
        multipart_threshold=MULTIPART_THRESHOLD, multipart_chunksize=MULTIPART_THRESHOLD, max_concurrency=4
    )
    total = sum(p.stat().st_size for p in files.values())
    lock = threading.Lock()
    with progress.task(f"{what} to s3://{bucket}", total=total) as task:

        def advance(amount: int) -> None:
            with lock:
                task.advance(amount)

        def put(key: str, path: Path) -> None:
            extra = {"ContentType": CONTENT_TYPES.get(path.suffix, "application/octet-stream")}
            s3.upload_file(str(path), bucket, key, ExtraArgs=extra, Config=config, Callback=advance)

        with (
            aws_errors(f"uploading to s3://{bucket}"),
            ThreadPoolExecutor(UPLOAD_WORKERS, thread_name_prefix="s3-upload") as pool,
        ):
            for future in [pool.submit(put, key, path) for key, path in sorted(files.items())]:
                future.result()
    return total


def files_under(root: Path) -> dict[str, Path]:
    return {p.relative_to(root).as_posix(): p for p in sorted(root.rglob("*")) if p.is_file()}


def parquet_objects(lake: AwsLake, bucket: str, prefix: str) -> list[tuple[str, int]]:
    """The Parquet files under `prefix`: (key, size)."""
    return [(o.key, o.size) for o in objects(lake, bucket, prefix) if o.key.endswith(".parquet")]


def prefix_stats(lake: AwsLake, bucket: str, prefix: str) -> tuple[int, int]:
    """(objects, bytes) under `prefix`."""
    sizes = [o.size for o in objects(lake, bucket, prefix)]
    return len(sizes), sum(sizes)
