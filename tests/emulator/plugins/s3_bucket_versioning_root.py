"""S3: GetBucketVersioning answered under the wrong root element.

The bug (moto 5.2.5): `moto/s3/responses.py`, `S3Response.get_bucket_versioning` serialises its
answer with moto's generic serializer, whose root element is `<GetBucketVersioningResponse>`. AWS
answers `<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` with an optional
`<Status>` (`Enabled` or `Suspended`; absent for a bucket that never had versioning) and
`<MfaDelete>`. boto3 does not check the root element; the AWS SDK for Rust does, and fails to parse
the answer, so carbonc could not tell whether a state bucket keeps old versions.

The fix answers AWS's document. The bucket lookup (NoSuchBucket) is moto's own.
"""

from typing import Any

from moto.s3 import responses

WRITTEN_FOR = "5.2.5"


def get_bucket_versioning(self: Any) -> Any:
    status = self.backend.get_bucket_versioning(self.bucket_name)
    inner = f"<Status>{status}</Status>" if status else ""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">{inner}</VersioningConfiguration>'
    )
    return 200, {"Content-Type": "application/xml"}, body


def register() -> None:
    responses.S3Response.get_bucket_versioning = get_bucket_versioning
