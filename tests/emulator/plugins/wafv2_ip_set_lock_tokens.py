"""WAFv2: IP set lock tokens in AWS's format.

The bug (moto 5.2.5, `moto/wafv2/models.py` `FakeIPSet.__init__` and `FakeIPSet.update`): an IP
set's LockToken is the first six characters of a UUID (`'7dbf6b'`). AWS's lock tokens are whole
UUIDs, and its model requires that of every request that sends one back (model wafv2: LockToken,
pattern `^[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}$`, length 1-36), so the request validator
(`../validator.py`) refuses UpdateIPSet and DeleteIPSet carrying moto's short token, as AWS would
refuse a malformed one. Found by that validator: moto's web ACLs and rule groups already use
whole UUIDs. Here IP sets do too.
"""

from typing import Any

from moto.moto_api._internal import mock_random
from moto.wafv2.models import FakeIPSet

WRITTEN_FOR = "5.2.5"


def register() -> None:
    init = FakeIPSet.__init__
    update = FakeIPSet.update

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        self.lock_token = str(mock_random.uuid4())

    def update_(self: Any, *args: Any, **kwargs: Any) -> None:
        update(self, *args, **kwargs)
        self.lock_token = str(mock_random.uuid4())

    FakeIPSet.__init__ = __init__
    FakeIPSet.update = update_
