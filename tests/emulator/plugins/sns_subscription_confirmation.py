"""SNS: email and HTTP(S) subscriptions pending until their endpoint confirms them.

The gap (moto 5.2.5, `moto/sns/models.py` `SNSBackend.subscribe`, `moto/sns/responses.py`
`confirm_subscription`): every subscription is confirmed at once (`PendingConfirmation` false),
Subscribe always answers the ARN, an HTTP(S) endpoint is sent no confirmation request,
ConfirmSubscription accepts any token and answers a made-up ARN, Unsubscribe removes anything,
and RawMessageDelivery is accepted for every protocol.

On AWS (SNS API reference: Subscribe, `ReturnSubscriptionArn`; ConfirmSubscription; Unsubscribe;
SNS Developer Guide, "Confirm the subscription" for HTTP/S endpoints, with the
`SubscriptionConfirmation` message and its `Token` and `SubscribeURL`, and "Amazon SNS raw
message delivery": SQS, HTTP/S and Firehose only; the Terraform AWS provider's
`resourceTopicSubscriptionDelete`, which accepts the refusal below):
- an email, email-json, http or https subscription is pending until confirmed; Subscribe answers
  "pending confirmation" as its ARN unless `ReturnSubscriptionArn` is true, and
  ListSubscriptions(ByTopic) list it as "PendingConfirmation";
- an HTTP(S) endpoint is POSTed a `SubscriptionConfirmation` JSON message (header
  `x-amz-sns-message-type`) holding the token; ConfirmSubscription with that token confirms it
  and answers its ARN; another token is InvalidParameter;
- Unsubscribe of a pending subscription is InvalidParameter ("Cannot unsubscribe a subscription
  that is pending confirmation");
- RawMessageDelivery on an email or SMS subscription is InvalidParameter.
"""

import json
import threading
import urllib.request
import uuid
from typing import Any

from moto.core.responses import ActionResult
from moto.sns import models, responses
from moto.sns.exceptions import SNSInvalidParameter

WRITTEN_FOR = "5.2.5"

CONFIRMED_BY_ENDPOINT = {"email", "email-json", "http", "https"}
RAW_CAPABLE = {"sqs", "http", "https", "firehose"}


def pending(sub: Any) -> bool:
    return str(sub.attributes.get("PendingConfirmation", False)).lower() == "true"


def send_confirmation(sub: Any, host: str) -> None:
    """POSTs the SubscriptionConfirmation message to an HTTP(S) endpoint (best effort, as SNS
    retries it and the test reads what arrived)."""
    body = {
        "Type": "SubscriptionConfirmation",
        "MessageId": str(uuid.uuid4()),
        "Token": sub._token,
        "TopicArn": sub.topic.arn,
        "Message": f"You have chosen to subscribe to the topic {sub.topic.arn}.",
        "SubscribeURL": f"{host}/?Action=ConfirmSubscription&TopicArn={sub.topic.arn}&Token={sub._token}",
    }
    request = urllib.request.Request(
        sub.endpoint,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"content-type": "text/plain; charset=UTF-8", "x-amz-sns-message-type": "SubscriptionConfirmation"},
    )

    def post() -> None:
        try:
            urllib.request.urlopen(request, timeout=5).read()
        except Exception:  # noqa: BLE001 - an endpoint that does not answer stays pending
            pass

    threading.Thread(target=post, daemon=True).start()


def listed(sub: Any) -> dict[str, str]:
    return {
        "SubscriptionArn": "PendingConfirmation" if pending(sub) else sub.arn,
        "Owner": sub.account_id,
        "Protocol": sub.protocol,
        "Endpoint": sub.endpoint,
        "TopicArn": sub.topic.arn,
    }


def register() -> None:
    backend = models.SNSBackend
    cls = responses.SNSResponse
    if getattr(cls.subscribe, "_carbonc_plugin", None) == __name__:
        return
    original_subscribe = backend.subscribe
    original_set = backend.set_subscription_attributes
    original_list = cls.list_subscriptions
    original_list_by_topic = cls.list_subscriptions_by_topic
    original_unsubscribe = cls.unsubscribe
    original_subscribe_response = cls.subscribe

    def subscribe(self: Any, topic_arn: str, endpoint: str, protocol: str) -> Any:
        known = self._find_subscription(topic_arn, endpoint, protocol)
        sub = original_subscribe(self, topic_arn, endpoint, protocol)
        if known is None and protocol in CONFIRMED_BY_ENDPOINT:
            sub.attributes["PendingConfirmation"] = "true"
            sub.attributes["ConfirmationWasAuthenticated"] = "false"
            sub._token = uuid.uuid4().hex * 4
            sub._new = True
        return sub

    def set_subscription_attributes(self: Any, arn: str, name: str, value: Any) -> None:
        sub = self.subscriptions.get(arn)
        if sub is not None and name == "RawMessageDelivery" and sub.protocol not in RAW_CAPABLE:
            raise SNSInvalidParameter(
                f"Invalid parameter: Attributes Reason: Delivery protocol [{sub.protocol}] does not support raw message delivery."
            )
        original_set(self, arn, name, value)

    def subscribe_response(self: Any) -> Any:
        protocol = self._get_param("Protocol")
        if "RawMessageDelivery" in (self._get_attributes() or {}) and protocol not in RAW_CAPABLE:
            raise SNSInvalidParameter(
                f"Invalid parameter: Attributes Reason: Delivery protocol [{protocol}] does not support raw message delivery."
            )
        result = original_subscribe_response(self)
        arn = result.result["SubscriptionArn"] if isinstance(result, ActionResult) else None
        sub = self.backend.subscriptions.get(arn) if arn else None
        if sub is not None and pending(sub):
            if getattr(sub, "_new", False) and sub.protocol in ("http", "https"):
                send_confirmation(sub, f"http://{self.headers.get('Host', 'localhost')}")
            sub._new = False
            if str(self._get_param("ReturnSubscriptionArn")).lower() != "true":
                return ActionResult({"SubscriptionArn": "pending confirmation"})
        return result

    def confirm_subscription(self: Any) -> Any:
        topic_arn = self._get_param("TopicArn")
        token = self._get_param("Token")
        for sub in self.backend.subscriptions.values():
            if sub.topic.arn == topic_arn and getattr(sub, "_token", None) == token:
                sub.attributes["PendingConfirmation"] = "false"
                sub.attributes["ConfirmationWasAuthenticated"] = str(
                    str(self._get_param("AuthenticateOnUnsubscribe")).lower() == "true"
                ).lower()
                sub.confirmed = True
                return ActionResult({"SubscriptionArn": sub.arn})
        raise SNSInvalidParameter("Invalid parameter: Token")

    def unsubscribe(self: Any) -> Any:
        sub = self.backend.subscriptions.get(self._get_param("SubscriptionArn"))
        if sub is not None and pending(sub):
            raise SNSInvalidParameter(
                "Invalid parameter: SubscriptionArn Reason: Cannot unsubscribe a subscription that is pending confirmation"
            )
        return original_unsubscribe(self)

    def list_subscriptions(self: Any) -> Any:
        result = original_list(self)
        result.result["Subscriptions"] = [listed(s) for s in result.result["Subscriptions"]]
        return result

    def list_subscriptions_by_topic(self: Any) -> Any:
        result = original_list_by_topic(self)
        result.result["Subscriptions"] = [listed(s) for s in result.result["Subscriptions"]]
        return result

    backend.subscribe = subscribe
    backend.set_subscription_attributes = set_subscription_attributes
    for name, f in (
        ("subscribe", subscribe_response),
        ("confirm_subscription", confirm_subscription),
        ("unsubscribe", unsubscribe),
        ("list_subscriptions", list_subscriptions),
        ("list_subscriptions_by_topic", list_subscriptions_by_topic),
    ):
        f._carbonc_plugin = __name__  # type: ignore[attr-defined]
        setattr(cls, name, f)
