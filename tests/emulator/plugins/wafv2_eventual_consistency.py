"""WAFv2: a just-created IP set cannot be referenced yet.

The gap (moto 5.2.5, `moto/wafv2/models.py` `WAFV2Backend.create_web_acl` / `update_web_acl`):
a web ACL whose rules reference an IP set (`IPSetReferenceStatement`) is accepted the instant
the IP set exists. AWS WAF is eventually consistent: for a short while after CreateIPSet the set
cannot be referenced, and CreateWebACL / UpdateWebACL answer `WAFUnavailableEntityException`
("AWS WAF couldn't retrieve the resource that you need. Retry your request."; model wafv2:
WAFUnavailableEntityException, "AWS WAF couldn’t retrieve a resource that you specified for this
operation. If you've just created a resource that you're using in this operation, you might just
need to wait a few minutes."). Terraform retries both calls on this error for five minutes
(TF internal/service/wafv2/web_acl.go `resourceWebACLCreate`, `resourceWebACLUpdate`).

The window is `aws_delays.BASE["waf_propagation"]` seconds times `CARBONC_EMULATOR_DELAY_SCALE`.
"""

import inspect
import time
from typing import Any

import aws_delays
from moto.wafv2.exceptions import WAFv2ClientError
from moto.wafv2.models import WAFV2Backend

WRITTEN_FOR = "5.2.5"

# IP set ARN -> monotonic time it can be referenced
_READY: dict[str, float] = {}


class WAFUnavailableEntityException(WAFv2ClientError):
    def __init__(self, arn: str) -> None:
        super().__init__(
            "WAFUnavailableEntityException",
            "AWS WAF couldn't retrieve the resource that you need. Retry your request. "
            f"(IP set {arn} was created a moment ago)",
        )


def _references(node: Any, out: list[str]) -> list[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "IPSetReferenceStatement" and isinstance(value, dict) and "ARN" in value:
                out.append(value["ARN"])
            else:
                _references(value, out)
    elif isinstance(node, list):
        for item in node:
            _references(item, out)
    return out


def _check(rules: Any) -> None:
    now = time.monotonic()
    for arn in _references(rules, []):
        if now < _READY.get(arn, 0.0):
            raise WAFUnavailableEntityException(arn)


def register() -> None:
    create_ip_set = WAFV2Backend.create_ip_set
    create_web_acl = WAFV2Backend.create_web_acl
    update_web_acl = WAFV2Backend.update_web_acl

    def create_ip_set_(self: Any, *args: Any, **kwargs: Any) -> Any:
        ip_set = create_ip_set(self, *args, **kwargs)
        _READY[ip_set.arn] = aws_delays.deadline("waf_propagation")
        return ip_set

    def create_web_acl_(self: Any, *args: Any, **kwargs: Any) -> Any:
        _check(inspect.signature(create_web_acl).bind(self, *args, **kwargs).arguments.get("rules"))
        return create_web_acl(self, *args, **kwargs)

    def update_web_acl_(self: Any, *args: Any, **kwargs: Any) -> Any:
        _check(inspect.signature(update_web_acl).bind(self, *args, **kwargs).arguments.get("rules"))
        return update_web_acl(self, *args, **kwargs)

    WAFV2Backend.create_ip_set = create_ip_set_
    WAFV2Backend.create_web_acl = create_web_acl_
    WAFV2Backend.update_web_acl = update_web_acl_
