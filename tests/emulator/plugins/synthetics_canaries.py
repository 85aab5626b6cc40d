"""CloudWatch Synthetics: canaries with AWS's states, checks and refusals.

The gap (moto 5.2.5, `moto/synthetics/`): only CreateCanary, GetCanary, DescribeCanaries and
ListTagsForResource exist; UpdateCanary, DeleteCanary, StartCanary, StopCanary, TagResource and
UntagResource answer 404. A new canary is `READY` at once, anything is accepted (no name, schedule,
runtime, role or code checks), GetCanary of an unknown name is an HTML 500, and tags are looked up
by name instead of ARN.

On AWS (Synthetics API reference: CreateCanary, UpdateCanary, DeleteCanary, StartCanary,
StopCanary, CanaryStatus, CanaryCodeInput, CanaryScheduleInput, CanaryRunConfigInput; the
CloudFormation resource provider for AWS::Synthetics::Canary,
aws-cloudformation/aws-cloudformation-resource-providers-synthetics, whose handlers wait through
these states and name the refusals; CloudWatch User Guide, "Runtime versions support policy" and
"Writing a Python canary script"):
- CreateCanary is asynchronous: `CREATING`, then `READY`, or `ERROR` with a `StateReason` when
  the canary's Lambda function cannot be made (its role missing or not trusting
  lambda.amazonaws.com, its code not a zip, or, for a Python runtime, without the handler's
  module under `python/`: AWS creates such a canary and fails every run; here the create fails,
  which is stricter and reports the same mistake earlier).
- Refused at once with ValidationException: a name outside `^[0-9a-z_\\-]{1,255}$` or taken, a
  runtime that is not a supported `syn-*` version (deprecated ones cannot be used for new
  canaries), a schedule that is not `rate(...)` of 0 (run once) or 1-60 minutes or 1-24 hours, or
  `cron(...)`, a timeout (3-840 s) longer than the schedule's interval, an artifact location that
  is not `s3://BUCKET[/PREFIX]` or whose bucket name has a period, and code without a handler or
  without either a zip or an S3 location; a zip over 225 KB is RequestEntityTooLargeException.
- StartCanary from `READY` or `STOPPED` goes `STARTING`, then `RUNNING`; StopCanary from
  `RUNNING` goes `STOPPING`, then `STOPPED`; anything else is ConflictException.
- UpdateCanary is refused (ConflictException) while the canary is `CREATING`, `UPDATING`,
  `STARTING`, `STOPPING` or `DELETING`; otherwise the canary is `UPDATING` and then back in its
  former state (a failed update leaves the reason in `StateReason`).
- DeleteCanary is refused (ConflictException) unless the canary is `READY`, `STOPPED` or
  `ERROR`: a running canary must be stopped first; it is `DELETING` for a moment, then gone.
- An unknown canary is ResourceNotFoundException (404); tags are addressed by the canary's ARN,
  `arn:aws:synthetics:REGION:ACCOUNT:canary:NAME`.
"""

import base64
import io
import json
import re
import urllib.parse
import zipfile
from typing import Any

import aws_delays
from moto.core.exceptions import JsonRESTError
from moto.iam import models as iam_models
from moto.synthetics import models, responses, urls

WRITTEN_FOR = "5.2.5"

NAME = re.compile(r"^[0-9a-z_\-]{1,255}$")
# Supported runtimes: Python 3.11+ Selenium runtimes from 6.0 (5.1 and older were deprecated on
# 2026-02-03), Node.js Puppeteer from 9.0, Node.js Playwright and Java.
RUNTIME = re.compile(
    r"^syn-(python-selenium-(?:[6-9]|\d\d+)\.\d+|nodejs-puppeteer-(?:9|\d\d+)\.\d+|"
    r"nodejs-playwright-\d+\.\d+|java-\d+\.\d+)$"
)
RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours)\)$")
ZIP_LIMIT = 225 * 1024


class Error(JsonRESTError):
    def __init__(self, kind: str, message: str, code: int) -> None:
        super().__init__(kind, message)
        self.code = code


def invalid(message: str) -> Error:
    return Error("ValidationException", message, 400)


def conflict(message: str) -> Error:
    return Error("ConflictException", message, 409)


def interval_seconds(expression: str) -> int | None:
    """Seconds between runs of a valid schedule (None: run once, or cron); raises if invalid."""
    m = RATE.match(expression)
    if m:
        n, unit = int(m.group(1)), m.group(2)
        if n == 0 and unit.startswith("minute"):
            return None
        if unit.startswith("minute") and 1 <= n <= 60 and (n == 1) == (unit == "minute"):
            return n * 60
        if unit.startswith("hour") and 1 <= n <= 24 and (n == 1) == (unit == "hour"):
            return n * 3600
    elif re.match(r"^cron\(\S+( \S+){5}\)$", expression):
        return None
    raise invalid(f"Invalid schedule expression: {expression}")


def code_problem(code: dict[str, Any], runtime: str) -> str | None:
    """Why the canary's Lambda function cannot be made from `code`, if it cannot."""
    if "ZipFile" not in code:
        return None  # an S3 location: the object is read by Lambda, not checked here
    try:
        archive = zipfile.ZipFile(io.BytesIO(base64.b64decode(code["ZipFile"])))
        names = set(archive.namelist())
        if archive.testzip() is not None:
            raise zipfile.BadZipFile("a member's CRC does not match")
    except (zipfile.BadZipFile, ValueError) as e:
        return f"Could not unzip uploaded file. Please check your file, then try to upload again. ({e})"
    if runtime.startswith("syn-python"):
        handler = code.get("Handler", "")
        module = handler.rsplit(".", 1)[0]
        if f"python/{module}.py" not in names:
            return f"Unable to import module '{module}': python/{module}.py is not in the zip file"
    return None


def role_problem(account: str, role_arn: str) -> str | None:
    name = role_arn.rsplit("/", 1)[-1]
    role = next((r for r in iam_models.iam_backends[account]["global"].roles.values() if r.name == name), None)
    if role is None:
        return f"The role defined for the function cannot be assumed by Lambda: {role_arn} does not exist"
    try:
        trust = json.loads(role.assume_role_policy_document)
    except (TypeError, ValueError):
        trust = {}
    statements = trust.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    for st in statements:
        svc = (st.get("Principal") or {}).get("Service", []) if st.get("Effect") == "Allow" else []
        if "lambda.amazonaws.com" in ([svc] if isinstance(svc, str) else svc):
            return None
    return "The role defined for the function cannot be assumed by Lambda: it does not trust lambda.amazonaws.com"


def check_config(params: dict[str, Any], runtime: str) -> None:
    """The checks CreateCanary and UpdateCanary make before answering."""
    if not RUNTIME.match(runtime):
        raise invalid(f"Invalid runtime version: {runtime} is not a supported runtime version")
    schedule = params.get("Schedule") or {}
    every = interval_seconds(schedule.get("Expression", ""))
    timeout = (params.get("RunConfig") or {}).get("TimeoutInSeconds")
    if timeout is not None and every is not None and timeout > every:
        raise invalid(f"TimeoutInSeconds {timeout} cannot be longer than the schedule's interval ({every} seconds)")
    location = params.get("ArtifactS3Location")
    if location is not None:
        m = re.match(r"^s3://([^/]+)(/.*)?$", location)
        if not m:
            raise invalid(f"Invalid ArtifactS3Location: {location}")
        if "." in m.group(1):
            raise invalid(f"Invalid ArtifactS3Location: the bucket name {m.group(1)} contains a period")
    code = params.get("Code")
    if code is not None:
        if not code.get("Handler"):
            raise invalid("Code.Handler is required")
        if "ZipFile" not in code and not (code.get("S3Bucket") and code.get("S3Key")):
            raise invalid("Code needs either ZipFile, or S3Bucket and S3Key")
        if len(base64.b64decode(code.get("ZipFile", ""))) > ZIP_LIMIT:
            raise Error("RequestEntityTooLargeException", "ZipFile is larger than 225 KB", 413)


def settle(canary: Any) -> None:
    """Ends the canary's phase if its time is over."""
    phase = getattr(canary, "_phase", None)
    if phase and aws_delays.over(phase["until"]):
        canary.state = phase["then"]
        canary.reason = phase.get("reason", "")
        canary._phase = None


def begin(canary: Any, state: str, then: str, delay: str, reason: str = "") -> None:
    canary.state = state
    canary._phase = {"until": aws_delays.deadline(delay), "then": then, "reason": reason}


def arn(backend: Any, name: str) -> str:
    return f"arn:aws:synthetics:{backend.region_name}:{backend.account_id}:canary:{name}"


def public(backend: Any, canary: Any) -> dict[str, Any]:
    settle(canary)
    out = canary.to_dict()
    out["Status"] = {"State": canary.state}
    if getattr(canary, "reason", ""):
        out["Status"]["StateReason"] = canary.reason
    code = {k: v for k, v in canary.code.items() if k != "ZipFile"}
    code["SourceLocationArn"] = (
        f"arn:aws:lambda:{backend.region_name}:{backend.account_id}:layer:cwsyn-{canary.name}-{canary.id}:"
        f"{getattr(canary, 'code_version', 1)}"
    )
    out["Code"] = code
    # The model's timestamps have no timestampFormat: rest-json sends them as epoch seconds (moto
    # sent ISO 8601 strings, which the AWS SDK for Rust cannot parse).
    out["Timeline"] = {
        k: v.timestamp() for k, v in canary.timeline.items() if v is not None
    }
    out["EngineArn"] = f"arn:aws:lambda:{backend.region_name}:{backend.account_id}:function:cwsyn-{canary.name}-{canary.id}"
    return {k: v for k, v in out.items() if v is not None}


def canary_of(backend: Any, name: str) -> Any:
    canary = backend.canaries.get(name)
    if canary is not None:
        settle(canary)
        if canary.state == "DELETED":
            del backend.canaries[name]
            canary = None
    if canary is None:
        raise Error("ResourceNotFoundException", f"Canary {name} not found", 404)
    return canary


def name_in_path(path: str, before: str = "") -> str:
    parts = urllib.parse.unquote(path.split("?")[0]).rstrip("/").split("/")
    if before:
        parts = parts[: parts.index(before)] if before in parts else parts
    return parts[-1]


def register() -> None:
    cls = responses.SyntheticsResponse
    if getattr(cls.create_canary, "_carbonc_plugin", None) == __name__:
        return
    urls.url_paths.update(
        {
            "{0}/canary/(?P<name>[^/]+)/start$": cls.dispatch,
            "{0}/canary/(?P<name>[^/]+)/stop$": cls.dispatch,
            "{0}/tags/(?P<resourceArn>.+)$": cls.dispatch,
        }
    )

    def create_canary(self: Any) -> str:
        params = json.loads(self.body or "{}")
        backend = self.synthetics_backend
        name = params.get("Name", "")
        if not NAME.match(name):
            raise invalid(f"Invalid canary name: {name} (1-255 lowercase letters, digits, hyphens, underscores)")
        if name in backend.canaries:
            try:
                canary_of(backend, name)
                raise invalid(f"Canary {name} already exists")
            except Error as e:
                if e.error_type != "ResourceNotFoundException":
                    raise
        runtime = params.get("RuntimeVersion", "")
        check_config(params, runtime)
        canary = backend.create_canary(
            name=name,
            code=params["Code"],
            artifact_s3_location=params["ArtifactS3Location"],
            execution_role_arn=params["ExecutionRoleArn"],
            schedule=params["Schedule"],
            run_config=params.get("RunConfig", {"TimeoutInSeconds": 60}),
            success_retention_period_in_days=params.get("SuccessRetentionPeriodInDays", 31),
            failure_retention_period_in_days=params.get("FailureRetentionPeriodInDays", 31),
            runtime_version=runtime,
            vpc_config=params.get("VpcConfig"),
            resources_to_replicate_tags=params.get("ResourcesToReplicateTags"),
            provisioned_resource_cleanup=params.get("ProvisionedResourceCleanup"),
            browser_configs=params.get("BrowserConfigs"),
            tags=params.get("Tags", {}),
            artifact_config=params.get("ArtifactConfig"),
        )
        problem = role_problem(backend.account_id, canary.execution_role_arn) or code_problem(canary.code, runtime)
        begin(canary, "CREATING", "ERROR" if problem else "READY", "canary_creating", problem or "")
        return json.dumps({"Canary": public(backend, canary)})

    def get_canary(self: Any) -> str:
        backend = self.synthetics_backend
        return json.dumps({"Canary": public(backend, canary_of(backend, name_in_path(self.path)))})

    def describe_canaries(self: Any) -> str:
        backend = self.synthetics_backend
        params = json.loads(self.body or "{}")
        names = params.get("Names")
        out = []
        for name in list(backend.canaries):
            try:
                canary = canary_of(backend, name)
            except Error:
                continue
            if not names or name in names:
                out.append(public(backend, canary))
        return json.dumps({"Canaries": out})

    def update_canary(self: Any) -> str:
        backend = self.synthetics_backend
        canary = canary_of(backend, name_in_path(self.path))
        if canary.state not in ("READY", "STOPPED", "RUNNING", "ERROR"):
            raise conflict(f"Canary {canary.name} is in state {canary.state} and cannot be updated.")
        params = json.loads(self.body or "{}")
        runtime = params.get("RuntimeVersion", canary.runtime_version)
        check_config(params, runtime)
        before = "READY" if canary.state == "ERROR" else canary.state
        problem = None
        if "ExecutionRoleArn" in params:
            problem = role_problem(backend.account_id, params["ExecutionRoleArn"])
        if "Code" in params:
            problem = problem or code_problem(params["Code"], runtime)
        if not problem:
            for key, attr in (
                ("Code", "code"),
                ("ExecutionRoleArn", "execution_role_arn"),
                ("Schedule", "schedule"),
                ("RunConfig", "run_config"),
                ("ArtifactS3Location", "artifact_s3_location"),
                ("SuccessRetentionPeriodInDays", "success_retention_period_in_days"),
                ("FailureRetentionPeriodInDays", "failure_retention_period_in_days"),
                ("VpcConfig", "vpc_config"),
                ("ProvisionedResourceCleanup", "provisioned_resource_cleanup"),
            ):
                if key in params:
                    setattr(canary, attr, params[key])
            canary.runtime_version = runtime
            if "Code" in params:
                canary.code_version = getattr(canary, "code_version", 1) + 1
        begin(canary, "UPDATING", before, "canary_transition", problem or "")
        return "{}"

    def start_canary(self: Any) -> str:
        backend = self.synthetics_backend
        canary = canary_of(backend, name_in_path(self.path, "start"))
        if canary.state not in ("READY", "STOPPED"):
            raise conflict(f"Canary {canary.name} is in state {canary.state} and cannot be started.")
        begin(canary, "STARTING", "RUNNING", "canary_transition")
        return "{}"

    def stop_canary(self: Any) -> str:
        backend = self.synthetics_backend
        canary = canary_of(backend, name_in_path(self.path, "stop"))
        if canary.state != "RUNNING":
            raise conflict(f"Canary {canary.name} is in state {canary.state} and cannot be stopped.")
        begin(canary, "STOPPING", "STOPPED", "canary_transition")
        return "{}"

    def delete_canary(self: Any) -> str:
        backend = self.synthetics_backend
        canary = canary_of(backend, name_in_path(self.path))
        if canary.state not in ("READY", "STOPPED", "ERROR"):
            raise conflict(
                f"Canary {canary.name} is in state {canary.state}. It must be stopped before it can be deleted."
                if canary.state == "RUNNING"
                else f"Canary {canary.name} is in state {canary.state} and cannot be deleted."
            )
        begin(canary, "DELETING", "DELETED", "canary_transition")
        return "{}"

    def by_arn(self: Any) -> Any:
        backend = self.synthetics_backend
        resource = urllib.parse.unquote(self.path.split("/tags/", 1)[1].split("?")[0])
        prefix = arn(backend, "")
        if not resource.startswith(prefix):
            raise Error("NotFoundException", f"Resource {resource} not found", 404)
        try:
            return canary_of(backend, resource[len(prefix) :])
        except Error:
            raise Error("NotFoundException", f"Resource {resource} not found", 404) from None

    def list_tags_for_resource(self: Any) -> str:
        return json.dumps({"Tags": by_arn(self).tags})

    def tag_resource(self: Any) -> str:
        canary = by_arn(self)
        canary.tags.update(json.loads(self.body or "{}").get("Tags", {}))
        return "{}"

    def untag_resource(self: Any) -> str:
        canary = by_arn(self)
        keys = self.querystring.get("tagKeys", [])
        for k in keys:
            canary.tags.pop(k, None)
        return "{}"

    for f in (
        create_canary,
        get_canary,
        describe_canaries,
        update_canary,
        start_canary,
        stop_canary,
        delete_canary,
        list_tags_for_resource,
        tag_resource,
        untag_resource,
    ):
        f._carbonc_plugin = __name__  # type: ignore[attr-defined]
        setattr(cls, f.__name__, f)
    models.Canary.reason = ""
