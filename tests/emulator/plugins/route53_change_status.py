"""Route 53: record changes are PENDING until they have propagated, then INSYNC.

The gap (moto 5.2.5, `moto/route53/responses.py` `change_resource_record_sets` and `get_change`):
every change answers the same id, `/change/C2682N5HXP0BZ4`, already INSYNC. On AWS a change is
PENDING until it has propagated to all Route 53 DNS servers, which GetChange reports (model
route53: ChangeInfo.Status, "PENDING indicates that the changes in this request have not
propagated to all Amazon Route 53 DNS servers managing the hosted zone"); Terraform waits for
INSYNC after every change (TF internal/service/route53/record.go `waitChangeInsync`).

Here each change gets its own id and stays PENDING for `aws_delays.BASE["route53_change"]` seconds
times `CARBONC_EMULATOR_DELAY_SCALE`; GetChange of an unknown id is NoSuchChange.
"""

import time
import uuid
from typing import Any

import aws_delays
from moto.route53.exceptions import Route53ClientError
from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.route53 import responses

WRITTEN_FOR = "5.2.5"

# change id -> (submitted at, monotonic time it is INSYNC)
_CHANGES: dict[str, tuple[Any, float]] = {}


def _info(change_id: str) -> dict:
    submitted, at = _CHANGES[change_id]
    return {
        "Id": f"/change/{change_id}",
        "Status": "INSYNC" if time.monotonic() >= at else "PENDING",
        "SubmittedAt": submitted,
    }


def register() -> None:
    original = responses.Route53.change_resource_record_sets

    def change_resource_record_sets(self: Any) -> ActionResult:
        original(self)  # validates and applies; its ChangeInfo is replaced
        change_id = "C" + uuid.uuid4().hex[:20].upper()
        _CHANGES[change_id] = (utcnow(), aws_delays.deadline("route53_change"))
        return ActionResult({"ChangeInfo": _info(change_id)})

    def get_change(self: Any) -> ActionResult:
        change_id = (self._get_param("Id") or "").rsplit("/", 1)[-1]
        if change_id not in _CHANGES:
            raise Route53ClientError("NoSuchChange", f"A change with the specified change ID does not exist: {change_id}")
        return ActionResult({"ChangeInfo": _info(change_id)})

    responses.Route53.change_resource_record_sets = change_resource_record_sets
    responses.Route53.get_change = get_change
