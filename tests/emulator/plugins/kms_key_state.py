"""KMS: a disabled key (or one pending deletion) still encrypted and decrypted.

The bug (moto 5.2.5): `moto/kms/models.py`, `KmsBackend.encrypt` and `decrypt` (and so
`generate_data_key`, `re_encrypt`) ignore the key's state. AWS refuses cryptographic operations
with a disabled key (DisabledException, "<key ARN> is disabled.") and with a key pending deletion
(KMSInvalidStateException, "<key ARN> is pending deletion."). carbonc's state encryption must say
clearly that KMS refused, and change nothing, when that happens.

The fix checks the key's state before `encrypt` and after `decrypt` has found the key the
ciphertext names, and raises AWS's exceptions. Everything else is moto's.
"""

from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.kms import models

WRITTEN_FOR = "5.2.5"

_encrypt = models.KmsBackend.encrypt
_decrypt = models.KmsBackend.decrypt


def _check(key: Any) -> None:
    if key.key_state == "Disabled":
        raise JsonRESTError("DisabledException", f"{key.arn} is disabled.")
    if key.key_state == "PendingDeletion":
        raise JsonRESTError("KMSInvalidStateException", f"{key.arn} is pending deletion.")


def encrypt(self: Any, key_id: str, plaintext: bytes, encryption_context: dict) -> Any:
    _check(self.keys[self.any_id_to_key_id(key_id)])
    return _encrypt(self, key_id, plaintext, encryption_context)


def decrypt(self: Any, ciphertext_blob: bytes, encryption_context: dict, key_id: Any = None) -> Any:
    plaintext, arn = _decrypt(self, ciphertext_blob, encryption_context, key_id)
    for key in self.keys.values():
        if key.arn == arn:
            _check(key)
    return plaintext, arn


def register() -> None:
    models.KmsBackend.encrypt = encrypt
    models.KmsBackend.decrypt = decrypt
