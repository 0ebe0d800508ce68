"""The peer of the fleet benchmark: a competent boto3 script that ships new code to a fleet
through a one-step canary, the way teams write it around the AWS SDK.

For each function, in a thread pool: UpdateFunctionCode, GetFunction until the update has
finished, PublishVersion, GetAlias, UpdateAlias to send 10% to the new version, and
UpdateAlias to promote it. No call budget, no record of the rollout, no alarm check, no
retry beyond boto3's standard mode: only the steps.

    python canary.py ENDPOINT PREFIX COUNT THREADS MARKER

Prints one JSON line: seconds, requests by operation, seconds to the first write, failures.
"""

import io
import json
import sys
import threading
import time
import zipfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config


def main():
    endpoint, prefix, count, threads, marker = sys.argv[1:6]
    count, threads = int(count), int(threads)
    names = [f"{prefix}-{i:04}" for i in range(count)]
    client = boto3.client(
        "lambda",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(
            max_pool_connections=threads, retries={"mode": "standard", "max_attempts": 8}
        ),
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "handler.py",
            f"def handler(event, context):\n    return {{'statusCode': 200}}\n# {marker}\n",
        )
    code = buffer.getvalue()

    lock = threading.Lock()
    requests = Counter()
    first_write = []
    start = time.monotonic()

    def call(operation, write=False, **kwargs):
        with lock:
            requests[operation] += 1
            if write and not first_write:
                first_write.append(time.monotonic() - start)
        return getattr(client, operation)(**kwargs)

    def release(name):
        call("update_function_code", True, FunctionName=name, ZipFile=code)
        while True:
            status = call("get_function", FunctionName=name)["Configuration"].get(
                "LastUpdateStatus", "Successful"
            )
            if status == "Successful":
                break
            if status == "Failed":
                raise RuntimeError(f"{name}: the code update failed")
            time.sleep(0.1)
        version = call("publish_version", True, FunctionName=name)["Version"]
        call("get_alias", FunctionName=name, Name="live")
        call(
            "update_alias",
            True,
            FunctionName=name,
            Name="live",
            RoutingConfig={"AdditionalVersionWeights": {version: 0.1}},
        )
        call(
            "update_alias",
            True,
            FunctionName=name,
            Name="live",
            FunctionVersion=version,
            RoutingConfig={"AdditionalVersionWeights": {}},
        )

    failures = []
    with ThreadPoolExecutor(threads) as pool:
        for name, future in [(n, pool.submit(release, n)) for n in names]:
            try:
                future.result()
            except Exception as error:  # reported, not raised: the figures still print
                failures.append(f"{name}: {error}")
    seconds = time.monotonic() - start
    print(
        json.dumps(
            {
                "seconds": seconds,
                "requests": dict(requests),
                "first_write": first_write[0] if first_write else None,
                "failures": failures[:5],
                "failed": len(failures),
            }
        )
    )


if __name__ == "__main__":
    main()
