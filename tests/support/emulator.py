"""Creates what shepherd's specs refer to inside the local AWS emulator: IAM roles, S3
code objects, SQS queues and existing alarms. Used by the end-to-end tests and the demo.

usage: emulator.py ENDPOINT setup-examples
       emulator.py ENDPOINT role NAME
       emulator.py ENDPOINT queue NAME
       emulator.py ENDPOINT send-alarm-event QUEUE_URL ALARM STATE
       emulator.py ENDPOINT s3-zip BUCKET KEY HANDLER_FILE=SOURCE_TEXT
       emulator.py ENDPOINT alarm NAME
       emulator.py ENDPOINT set-alarm NAME STATE
       emulator.py ENDPOINT set-memory FUNCTION MB
       emulator.py ENDPOINT push-image REPOSITORY TAG CONTENT
       emulator.py ENDPOINT code FUNCTION
       emulator.py ENDPOINT summary
       emulator.py ENDPOINT account-role ACCOUNT NAME
       emulator.py ENDPOINT account-functions ACCOUNT REGION
       emulator.py ENDPOINT account-memory ACCOUNT REGION FUNCTION
       emulator.py ENDPOINT account-queue ACCOUNT NAME
       emulator.py ENDPOINT account-send ACCOUNT QUEUE_URL BODY
       emulator.py ENDPOINT lambda-without-docker
       emulator.py ENDPOINT lambda-result RESULT...
"""

import hashlib
import json
import io
import sys
import urllib.request
import zipfile

import boto3

REGION = "us-east-1"


def client(endpoint, service):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def role(endpoint, name):
    create_role(client(endpoint, "iam"), name)


def create_role(iam, name):
    """An execution role Lambda may assume; one that exists already is left as it is."""
    try:
        iam.create_role(
            RoleName=name,
            AssumeRolePolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
            '"Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}',
        )
    except iam.exceptions.EntityAlreadyExistsException:
        pass


def in_account(endpoint, account, service, region=REGION):
    """A client acting in ACCOUNT: the emulator maps assumed-role credentials to the
    role's account."""
    sts = client(endpoint, "sts")
    credentials = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/setup", RoleSessionName="setup"
    )["Credentials"]
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def account_role(endpoint, account, name):
    create_role(in_account(endpoint, account, "iam"), name)


def account_functions(endpoint, account, region):
    names = [
        f["FunctionName"]
        for f in in_account(endpoint, account, "lambda", region).list_functions()["Functions"]
    ]
    print(json.dumps(sorted(names)))


def account_memory(endpoint, account, region, function):
    lam = in_account(endpoint, account, "lambda", region)
    print(lam.get_function_configuration(FunctionName=function)["MemorySize"])


def account_queue(endpoint, account, name):
    print(in_account(endpoint, account, "sqs").create_queue(QueueName=name)["QueueUrl"])


def account_send(endpoint, account, url, body):
    in_account(endpoint, account, "sqs").send_message(QueueUrl=url, MessageBody=body)


def moto_api(endpoint, path, document):
    request = urllib.request.Request(
        f"{endpoint}/moto-api/{path}",
        data=json.dumps(document).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    urllib.request.urlopen(request).read()


def lambda_without_docker(endpoint):
    """Switches Lambda to the backend that runs no code (before any function exists):
    Invoke echoes its payload, or answers with the results queued by lambda-result."""
    moto_api(endpoint, "config", {"lambda": {"use_docker": False}})


def lambda_result(endpoint, *results):
    moto_api(
        endpoint,
        "static/lambda-simple/response",
        {"account_id": "123456789012", "region": REGION, "results": list(results)},
    )


def queue(endpoint, name, attributes=None):
    print(client(endpoint, "sqs").create_queue(QueueName=name, Attributes=attributes or {})["QueueUrl"])


def set_queue(endpoint, name, visibility_timeout, dead_letter_queue=None):
    """Sets a queue's visibility timeout, and its redrive policy's target when given."""
    sqs = client(endpoint, "sqs")
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    attributes = {"VisibilityTimeout": str(visibility_timeout)}
    if dead_letter_queue:
        attributes["RedrivePolicy"] = (
            '{"deadLetterTargetArn": "%s", "maxReceiveCount": "5"}' % dead_letter_queue
        )
    sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)


def send_alarm_event(endpoint, queue_url, alarm, state):
    """Sends what an EventBridge rule delivers for a CloudWatch alarm state change."""

    event = {
        "version": "0",
        "id": "e2e",
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "account": "123456789012",
        "region": REGION,
        "resources": [f"arn:aws:cloudwatch:{REGION}:123456789012:alarm:{alarm}"],
        "detail": {
            "alarmName": alarm,
            "state": {"value": state, "reason": "set by a test"},
            "previousState": {"value": "OK"},
        },
    }
    client(endpoint, "sqs").send_message(QueueUrl=queue_url, MessageBody=json.dumps(event))


def send_cloudtrail_event(endpoint, queue_url, source, event_name, parameters, user_agent):
    """Sends what an EventBridge rule delivers for a CloudTrail management event."""

    event = {
        "version": "0",
        "id": "e2e",
        "detail-type": "AWS API Call via CloudTrail",
        "source": source,
        "account": "123456789012",
        "region": REGION,
        "detail": {
            "eventSource": source.replace("aws.", "") + ".amazonaws.com",
            "eventName": event_name,
            "userAgent": user_agent,
            "readOnly": False,
            "requestParameters": json.loads(parameters),
        },
    }
    client(endpoint, "sqs").send_message(QueueUrl=queue_url, MessageBody=json.dumps(event))


def delete_alarm(endpoint, name):
    client(endpoint, "cloudwatch").delete_alarms(AlarmNames=[name])


def alarm_names(endpoint):
    for alarm in client(endpoint, "cloudwatch").describe_alarms()["MetricAlarms"]:
        print(alarm["AlarmName"])


def s3_zip(endpoint, bucket, key, files):
    s3 = client(endpoint, "s3")
    try:
        s3.create_bucket(Bucket=bucket)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    s3.put_object(Bucket=bucket, Key=key, Body=buffer.getvalue())


def push_image(endpoint, repository, tag, content):
    """Pushes an image manifest (its config and layer digests made from CONTENT) under TAG,
    moving the tag if it exists, and prints the repository URI."""
    ecr = client(endpoint, "ecr")
    try:
        uri = ecr.create_repository(repositoryName=repository)["repository"]["repositoryUri"]
    except ecr.exceptions.RepositoryAlreadyExistsException:
        uri = ecr.describe_repositories(repositoryNames=[repository])["repositories"][0][
            "repositoryUri"
        ]
    config = hashlib.sha256(content.encode()).hexdigest()
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": len(content),
            "digest": f"sha256:{config}",
        },
        # The emulator derives the image digest from the layers' digests.
        "layers": [
            {
                "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                "size": len(content),
                "digest": f"sha256:{config}",
            }
        ],
    }
    ecr.put_image(repositoryName=repository, imageManifest=json.dumps(manifest), imageTag=tag)
    print(uri)


def code(endpoint, function):
    """Prints the code of $LATEST: its CodeSha256, then its image URI or S3 location."""
    got = client(endpoint, "lambda").get_function(FunctionName=function)
    location = got["Code"].get("ImageUri") or got["Code"].get("Location", "-")
    print(f"{got['Configuration']['CodeSha256']} {location}")


def alarm(endpoint, name):
    client(endpoint, "cloudwatch").put_metric_alarm(
        AlarmName=name,
        Namespace="AWS/ApiGateway",
        MetricName="5XXError",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )


def set_alarm(endpoint, name, state):
    client(endpoint, "cloudwatch").set_alarm_state(
        AlarmName=name, StateValue=state, StateReason="set by a test"
    )


def set_memory(endpoint, function, mb):
    client(endpoint, "lambda").update_function_configuration(
        FunctionName=function, MemorySize=int(mb)
    )


def summary(endpoint):
    """Prints what exists in the emulator: functions, versions, aliases, mappings, alarms."""
    lam = client(endpoint, "lambda")
    for function in lam.list_functions()["Functions"]:
        name = function["FunctionName"]
        versions = [
            v["Version"]
            for v in lam.list_versions_by_function(FunctionName=name)["Versions"]
            if v["Version"] != "$LATEST"
        ]
        aliases = [
            f"{a['Name']} -> {a['FunctionVersion']}"
            for a in lam.list_aliases(FunctionName=name)["Aliases"]
        ]
        print(
            f"function {name}: {function['Runtime'] if 'Runtime' in function else 'image'}, "
            f"{function['MemorySize']} MB, timeout {function['Timeout']}s, "
            f"versions {', '.join(versions) or '-'}; alias {', '.join(aliases) or '-'}"
        )
    for mapping in lam.list_event_source_mappings()["EventSourceMappings"]:
        print(
            f"event source {mapping['EventSourceArn'].split(':')[-1]} -> "
            f"{mapping['FunctionArn'].split(':function:')[-1]} (batch {mapping['BatchSize']})"
        )
    for alarm in client(endpoint, "cloudwatch").describe_alarms()["MetricAlarms"]:
        print(f"alarm {alarm['AlarmName']}: {alarm['StateValue']}")


def functions(endpoint):
    """Prints each function: name, memory and its shepherd.dev/owner tag ("-" if none)."""
    lam = client(endpoint, "lambda")
    for function in lam.list_functions()["Functions"]:
        try:
            tags = lam.list_tags(Resource=function["FunctionArn"]).get("Tags", {})
        except lam.exceptions.ResourceNotFoundException:
            # Deleted between the listing and this read (a controller pruning meanwhile):
            # it is gone, as the next listing says.
            continue
        owner = tags.get("shepherd.dev/owner", "-")
        print(f"{function['FunctionName']} {function['MemorySize']} {owner}")


def put_version_metrics(endpoint, function, alias, version, invocations, errors):
    """Puts Invocations and Errors datapoints on one version behind an alias, as Lambda
    reports them (dimensions FunctionName, Resource, ExecutedVersion)."""
    dimensions = [
        {"Name": "FunctionName", "Value": function},
        {"Name": "Resource", "Value": f"{function}:{alias}"},
        {"Name": "ExecutedVersion", "Value": version},
    ]
    client(endpoint, "cloudwatch").put_metric_data(
        Namespace="AWS/Lambda",
        MetricData=[
            {"MetricName": "Invocations", "Dimensions": dimensions, "Value": float(invocations), "Unit": "Count"},
            {"MetricName": "Errors", "Dimensions": dimensions, "Value": float(errors), "Unit": "Count"},
        ],
    )


def mappings(endpoint):
    """Prints each SQS event source mapping: queue name, then its filter patterns."""
    lam = client(endpoint, "lambda")
    for mapping in lam.list_event_source_mappings()["EventSourceMappings"]:
        patterns = [f["Pattern"] for f in mapping.get("FilterCriteria", {}).get("Filters", [])]
        print(mapping["EventSourceArn"].split(":")[-1], " ".join(patterns))


def setup_examples(endpoint):
    """Everything examples/specs refers to."""
    for name in ["orders-api", "invoice-worker", "nightly-report"]:
        role(endpoint, name)
    for name in ["order-events-dlq", "order-events", "nightly-report-failures"]:
        queue(endpoint, name)
    # As the invoice-worker spec expects of its source: 6 times its 30s timeout, and its
    # failed records redriven to the dead-letter queue it names.
    set_queue(endpoint, "order-events", 180, "arn:aws:sqs:us-east-1:123456789012:order-events-dlq")
    s3_zip(
        endpoint,
        "shepherd-examples-artifacts",
        "orders-api/orders-api-1.4.2.zip",
        {"orders/api.py": "def handler(event, context):\n    return {'statusCode': 200}\n"},
    )
    alarm(endpoint, "orders-api-gateway-5xx")


def main(argv):
    endpoint, command, *args = argv
    if command == "setup-examples":
        setup_examples(endpoint)
    elif command == "summary":
        summary(endpoint)
    elif command == "functions":
        functions(endpoint)
    elif command == "put-version-metrics":
        put_version_metrics(endpoint, *args)
    elif command == "role":
        role(endpoint, *args)
    elif command == "account-role":
        account_role(endpoint, *args)
    elif command == "account-functions":
        account_functions(endpoint, *args)
    elif command == "lambda-without-docker":
        lambda_without_docker(endpoint)
    elif command == "lambda-result":
        lambda_result(endpoint, *args)
    elif command == "account-memory":
        account_memory(endpoint, *args)
    elif command == "account-queue":
        account_queue(endpoint, *args)
    elif command == "account-send":
        account_send(endpoint, *args)
    elif command == "send-alarm-event":
        send_alarm_event(endpoint, *args)
    elif command == "send-cloudtrail-event":
        send_cloudtrail_event(endpoint, *args)
    elif command == "delete-alarm":
        delete_alarm(endpoint, *args)
    elif command == "alarm-names":
        alarm_names(endpoint)
    elif command == "queue":
        queue(endpoint, *args)
    elif command == "mappings":
        mappings(endpoint)
    elif command == "set-queue":
        set_queue(endpoint, *args)
    elif command == "s3-zip":
        bucket, key, *files = args
        s3_zip(endpoint, bucket, key, dict(f.split("=", 1) for f in files))
    elif command == "push-image":
        push_image(endpoint, *args)
    elif command == "code":
        code(endpoint, *args)
    elif command == "alarm":
        alarm(endpoint, *args)
    elif command == "set-alarm":
        set_alarm(endpoint, *args)
    elif command == "set-memory":
        set_memory(endpoint, *args)
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main(sys.argv[1:])
