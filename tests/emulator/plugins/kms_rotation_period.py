"""KMS: a key's automatic rotation period.

The gap (moto 5.2.5, `moto/kms/responses.py` `enable_key_rotation`, `get_key_rotation_status`):
EnableKeyRotation drops `RotationPeriodInDays`, and GetKeyRotationStatus answers only
`KeyRotationEnabled`. So a rotation period cannot be read back, and its drift is invisible.

On AWS (KMS API reference, EnableKeyRotation and GetKeyRotationStatus; model kms): the period is
90-2560 days, 365 when EnableKeyRotation does not name one, and GetKeyRotationStatus reports
`KeyId`, `KeyRotationEnabled` and, while rotation is enabled, `RotationPeriodInDays`.
"""

import json
from typing import Any

from moto.kms import responses

WRITTEN_FOR = "5.2.5"
DEFAULT_DAYS = 365


def register() -> None:
    cls = responses.KmsResponse
    original_enable = cls.enable_key_rotation
    if getattr(original_enable, "_carbonc_plugin", None) == __name__:
        return
    original_status = cls.get_key_rotation_status

    def enable_key_rotation(self: Any) -> str:
        result = original_enable(self)
        key = self.kms_backend.keys[self.kms_backend.get_key_id(self._get_param("KeyId"))]
        key.carbonc_rotation_days = self._get_param("RotationPeriodInDays") or DEFAULT_DAYS
        return result

    def get_key_rotation_status(self: Any) -> str:
        status = json.loads(original_status(self))
        key = self.kms_backend.keys[self.kms_backend.get_key_id(self._get_param("KeyId"))]
        status["KeyId"] = key.id
        if status.get("KeyRotationEnabled"):
            status["RotationPeriodInDays"] = getattr(key, "carbonc_rotation_days", DEFAULT_DAYS)
        return json.dumps(status)

    enable_key_rotation._carbonc_plugin = __name__  # type: ignore[attr-defined]
    cls.enable_key_rotation = enable_key_rotation
    cls.get_key_rotation_status = get_key_rotation_status
