"""CloudWatch: a dashboard body checked as CloudWatch checks it.

The gap (moto 5.2.5, `moto/cloudwatch/responses.py` `put_dashboard`): PutDashboard only checks
that the body is JSON; any widget type, size, position or missing property is stored.

On AWS (CloudWatch API reference, PutDashboard and "Dashboard Body Structure and Syntax",
CloudWatch-Dashboard-Body-Structure.html; quotas, cloudwatch_limits.html): the body must have a
`widgets` array (it may be empty) of at most 500 widgets; a widget's `type` is metric, text, log,
alarm or explorer, `width` 1-24 and `height` 1-1000, `x` 0-23 and `y` at least 0, each required
if the other is given, and `properties` is required. A metric widget requires `region`, holds at
most 500 metrics, its `period` is a multiple of 60 and `view` one of timeSeries, singleValue,
gauge, bar, pie, table; a text widget requires `markdown`; an alarm widget lists 1-100 alarm
ARNs. A body that breaks these is refused with `InvalidParameterInput` (HTTP 400, the
`DashboardInvalidInputError` of the model) and the messages in `dashboardValidationMessages`.
"""

import json
from typing import Any

from moto.cloudwatch import responses
from moto.cloudwatch.exceptions import DashboardInvalidInputError

WRITTEN_FOR = "5.2.5"

TYPES = {"metric", "text", "log", "alarm", "explorer"}
VIEWS = {"timeSeries", "singleValue", "gauge", "bar", "pie", "table"}


def problems(body: Any) -> list[tuple[str, str]]:
    """(DataPath, Message) for each rule the body breaks."""
    out: list[tuple[str, str]] = []
    if not isinstance(body, dict) or not isinstance(body.get("widgets"), list):
        return [("/widgets", "Should have required property 'widgets'")]
    widgets = body["widgets"]
    if len(widgets) > 500:
        out.append(("/widgets", "Should NOT have more than 500 items"))
    for n, w in enumerate(widgets):
        at = f"/widgets/{n}"
        if not isinstance(w, dict):
            out.append((at, "Should be object"))
            continue
        if w.get("type") not in TYPES:
            out.append((f"{at}/type", f"Should be equal to one of the allowed values {sorted(TYPES)}"))
        for key, low, high in (("width", 1, 24), ("height", 1, 1000), ("x", 0, 23), ("y", 0, None)):
            v = w.get(key)
            if v is None:
                continue
            if not isinstance(v, int) or v < low or (high is not None and v > high):
                out.append((f"{at}/{key}", f"Should be an integer from {low}" + (f" to {high}" if high else "")))
        if ("x" in w) != ("y" in w):
            out.append((at, "Should have both 'x' and 'y', or neither"))
        props = w.get("properties")
        if not isinstance(props, dict):
            out.append((at, "Should have required property 'properties'"))
            continue
        if w.get("type") == "metric":
            if not props.get("region"):
                out.append((f"{at}/properties", "Should have required property 'region'"))
            metrics = props.get("metrics", [])
            if not isinstance(metrics, list) or len(metrics) > 500:
                out.append((f"{at}/properties/metrics", "Should be an array of at most 500 items"))
            period = props.get("period")
            if period is not None and (not isinstance(period, int) or period % 60 != 0):
                out.append((f"{at}/properties/period", "Should be a multiple of 60"))
            if props.get("view") is not None and props["view"] not in VIEWS:
                out.append((f"{at}/properties/view", f"Should be equal to one of the allowed values {sorted(VIEWS)}"))
        elif w.get("type") == "text":
            if not isinstance(props.get("markdown"), str):
                out.append((f"{at}/properties", "Should have required property 'markdown'"))
        elif w.get("type") == "alarm":
            alarms = props.get("alarms")
            if not isinstance(alarms, list) or not 1 <= len(alarms) <= 100:
                out.append((f"{at}/properties/alarms", "Should be an array of 1 to 100 alarm ARNs"))
    return out


def register() -> None:
    cls = responses.CloudWatchResponse
    original = cls.put_dashboard
    if getattr(original, "_carbonc_plugin", None) == __name__:
        return

    def put_dashboard(self: Any) -> Any:
        try:
            body = json.loads(self._get_param("DashboardBody") or "")
        except ValueError:
            body = None
        if body is not None:
            found = problems(body)
            if found:
                detail = "; ".join(f"{path}: {message}" for path, message in found[:10])
                raise DashboardInvalidInputError(f"The field DashboardBody is invalid: {detail}")
        return original(self)

    put_dashboard._carbonc_plugin = __name__  # type: ignore[attr-defined]
    cls.put_dashboard = put_dashboard
