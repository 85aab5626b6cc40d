"""CloudWatch: alarms as strict as AWS, and composite alarms.

The gaps (moto 5.2.5, `moto/cloudwatch/responses.py` `put_metric_alarm`, `describe_alarms`,
`delete_alarms`; `moto/cloudwatch/models.py` `CloudWatchBackend.put_metric_alarm`):

- PutMetricAlarm accepts any combination of parameters: an action ARN in another region, more
  datapoints to alarm than evaluated periods, any period, both or neither of `Statistic` and
  `ExtendedStatistic`, both or neither of `MetricName` and `Metrics`, any comparison operator or
  missing-data treatment (the request validator checks the model's constraints; these are the
  rules the model's documentation states and the service enforces).
- A new alarm starts `OK`; an update replaces the alarm, resetting its state, and applies the
  request's tags.
- PutCompositeAlarm does not exist (HTML 500, NotImplemented).
- DescribeAlarms ignores `AlarmTypes` and answers composite alarms with metric alarms.

On AWS (CloudWatch API reference, PutMetricAlarm, PutCompositeAlarm, DescribeAlarms; model
`cloudwatch` 2010-08-01 in botocore):

- "Cross-Region functionality is not supported for alarms" (CloudWatch User Guide,
  Cross-Account-Cross-Region.html), and an action must be in the alarm's region: PutMetricAlarm
  answers `ValidationError` "Invalid region ca-central-1 specified. Only us-west-2 is supported."
  (quoted in cds-snc/notification-terraform PR #128).
- `DatapointsToAlarm` at most `EvaluationPeriods`: `ValidationError` "DatapointsToAlarm must be
  less than or equal to EvaluationPeriods" (hashicorp/terraform #24070).
- `Period`: "Valid values are 10, 20, 30, and any multiple of 60", and `Period` times
  `EvaluationPeriods` at most one day for periods under an hour, seven days otherwise (model
  documentation of `Period` and `EvaluationPeriods`).
- "you must specify either Statistic or ExtendedStatistic, but not both", and either
  `MetricName` or a `Metrics` array (model documentation).
- `ComparisonOperator` and `TreatMissingData` take the documented values only.
- A new alarm is `INSUFFICIENT_DATA` until it has been evaluated; updating an alarm keeps its
  state, and "If you are using this operation to update an existing alarm, any tags you specify
  in this parameter are ignored" (PutMetricAlarm, `Tags`).
- PutCompositeAlarm: "all underlying alarms must be in the same AWS Region and the same account"
  (CloudWatch User Guide, Create_Composite_Alarm.html); its rule names alarms that must exist.
- DescribeAlarms answers metric alarms only unless `AlarmTypes` asks for composite ones ("If
  you omit this parameter, only metric alarms are returned").
"""

import re
from typing import Any

from moto.cloudwatch import responses
from moto.cloudwatch.exceptions import InvalidParameterCombination, ValidationError
from moto.core.responses import ActionResult, EmptyResult

WRITTEN_FOR = "5.2.5"

COMPARISONS = {
    "GreaterThanOrEqualToThreshold",
    "GreaterThanThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
    "LessThanLowerOrGreaterThanUpperThreshold",
    "LessThanLowerThreshold",
    "GreaterThanUpperThreshold",
}
MISSING_DATA = {"breaching", "notBreaching", "ignore", "missing"}
ACTION_LISTS = ("AlarmActions", "OKActions", "InsufficientDataActions")
# `ALARM("name or ARN")`, `OK(...)`, `INSUFFICIENT_DATA(...)` terms of an alarm rule.
RULE_TERM = re.compile(r'\b(?:ALARM|OK|INSUFFICIENT_DATA)\(\s*"?([^")]+?)"?\s*\)')


def check_actions(params: Any, region: str) -> None:
    for key in ACTION_LISTS:
        for arn in params(key, []) or []:
            parts = arn.split(":")
            if len(parts) > 3 and parts[3] and parts[3] != region:
                raise ValidationError(
                    f"Invalid region {parts[3]} specified. Only {region} is supported."
                )


def check_metric_alarm(params: Any) -> None:
    evaluation = params("EvaluationPeriods")
    datapoints = params("DatapointsToAlarm")
    period = params("Period")
    if evaluation is not None and datapoints is not None and int(datapoints) > int(evaluation):
        raise ValidationError("DatapointsToAlarm must be less than or equal to EvaluationPeriods")
    if period is not None:
        period = int(period)
        if period not in (10, 20, 30) and period % 60 != 0:
            raise ValidationError(
                f"Invalid value {period} for Period: valid values are 10, 20, 30 and any "
                "multiple of 60"
            )
        if evaluation is not None:
            limit = 86400 if period < 3600 else 604800
            if period * int(evaluation) > limit:
                raise ValidationError(
                    f"Period * EvaluationPeriods must be at most {limit} seconds"
                )
    statistic, extended = params("Statistic"), params("ExtendedStatistic")
    metric_name, metrics = params("MetricName"), params("Metrics", [])
    if metric_name and statistic and extended:
        raise InvalidParameterCombination(
            "Exactly one of Statistic and ExtendedStatistic must be present."
        )
    if metric_name and not (statistic or extended):
        raise ValidationError("Exactly one of Statistic and ExtendedStatistic must be present.")
    if bool(metric_name) == bool(metrics):
        raise ValidationError("Exactly one of MetricName and Metrics must be present.")
    comparison = params("ComparisonOperator")
    if comparison is not None and comparison not in COMPARISONS:
        raise ValidationError(
            f"Value '{comparison}' at 'comparisonOperator' failed to satisfy constraint: "
            f"Member must satisfy enum value set: [{', '.join(sorted(COMPARISONS))}]"
        )
    missing = params("TreatMissingData")
    if missing is not None and missing not in MISSING_DATA:
        raise ValidationError(
            f"Option {missing} is not supported. Supported options for parameter "
            "TreatMissingData are breaching, notBreaching, ignore and missing."
        )


def register() -> None:
    cls = responses.CloudWatchResponse
    original_put = cls.put_metric_alarm
    if getattr(original_put, "_carbonc_plugin", None) == __name__:
        return
    original_describe = cls.describe_alarms

    def keeping_state(self: Any, put: Any) -> Any:
        """Runs `put` (moto's put) so that a new alarm starts INSUFFICIENT_DATA and an updated
        one keeps its state and tags."""
        backend = self.cloudwatch_backend
        name = self._get_param("AlarmName")
        before = backend.alarms.get(name)
        tags = backend.list_tags_for_resource(before.alarm_arn) if before else None
        result = put(self)
        alarm = backend.alarms[name]
        if before is None:
            alarm.state_value = "INSUFFICIENT_DATA"
            alarm.state_reason = "Unchecked: Initial alarm creation"
        else:
            alarm.state_value = before.state_value
            alarm.state_reason = before.state_reason
            alarm.state_reason_data = before.state_reason_data
            alarm.state_updated_timestamp = before.state_updated_timestamp
            alarm.history = before.history
            backend.tagger.delete_all_tags_for_resource(alarm.alarm_arn)
            if tags:
                backend.tagger.tag_resource(
                    alarm.alarm_arn, backend.tagger.convert_dict_to_tags_input(tags)
                )
        return result

    def put_metric_alarm(self: Any) -> Any:
        check_actions(self._get_param, self.region)
        check_metric_alarm(self._get_param)
        return keeping_state(self, original_put)

    def put_composite_alarm(self: Any) -> Any:
        check_actions(self._get_param, self.region)
        backend = self.cloudwatch_backend
        rule = self._get_param("AlarmRule") or ""
        missing = []
        for ref in RULE_TERM.findall(rule):
            name = ref
            if ref.startswith("arn:"):
                parts = ref.split(":")
                if len(parts) > 3 and parts[3] != self.region:
                    raise ValidationError(
                        f"Invalid region {parts[3]} specified. Only {self.region} is supported."
                    )
                name = ref.split(":alarm:", 1)[-1]
            if name not in backend.alarms:
                missing.append(ref)
        if not RULE_TERM.search(rule):
            raise ValidationError("AlarmRule must name at least one alarm")
        if missing:
            raise ValidationError(
                "Could not save the composite alarm as alarms "
                f"[{', '.join(missing)}] in the alarm rule do not exist"
            )

        def put(response: Any) -> Any:
            alarm = backend.put_metric_alarm(
                name=response._get_param("AlarmName"),
                namespace=None,
                metric_name=None,
                comparison_operator=None,
                evaluation_periods=None,
                period=None,
                threshold=None,
                statistic=None,
                description=response._get_param("AlarmDescription"),
                dimensions=[],
                alarm_actions=response._get_param("AlarmActions", []),
                ok_actions=response._get_param("OKActions", []),
                insufficient_data_actions=response._get_param("InsufficientDataActions", []),
                actions_enabled=response._get_bool_param("ActionsEnabled"),
                rule=rule,
                tags=response._get_param("Tags", []),
            )
            alarm.alarm_rule = rule
            return EmptyResult()

        return keeping_state(self, put)

    def describe_alarms(self: Any) -> Any:
        result = original_describe(self)
        types = self._get_param("AlarmTypes", []) or ["MetricAlarm"]
        body = result.result if hasattr(result, "result") else None
        if isinstance(body, dict):
            if "MetricAlarm" not in types:
                body["MetricAlarms"] = []
            if "CompositeAlarm" not in types:
                body["CompositeAlarms"] = []
            return ActionResult(body)
        return result

    put_metric_alarm._carbonc_plugin = __name__  # type: ignore[attr-defined]
    cls.put_metric_alarm = put_metric_alarm
    cls.put_composite_alarm = put_composite_alarm
    cls.describe_alarms = describe_alarms
