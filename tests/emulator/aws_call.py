"""Makes one AWS API call against the emulator, straight through boto3: how the apply tests change
or delete a resource behind carbonc's back (drift). Prints the response as JSON.

    python aws_call.py ENDPOINT REGION SERVICE OPERATION '{"Param": "value"}'

A parameter `{"$zip": {"index.py": "..."}}` is sent as the bytes of that zip archive; an S3
object's `Body` comes back as text.
"""
import io
import json
import sys
import zipfile

import boto3


def blobs(value):
    """`{"$zip": {"index.py": "..."}}` anywhere in the parameters becomes the bytes of that zip
    archive (a Lambda function's code)."""
    if isinstance(value, dict):
        if set(value) == {"$zip"}:
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w") as z:
                for name, text in value["$zip"].items():
                    z.writestr(name, text)
            return buffer.getvalue()
        return {k: blobs(v) for k, v in value.items()}
    if isinstance(value, list):
        return [blobs(v) for v in value]
    return value


def main():
    endpoint, region, service, operation, params = sys.argv[1:6]
    client = boto3.client(
        service,
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    response = getattr(client, operation)(**blobs(json.loads(params)))
    response.pop("ResponseMetadata", None)
    # An S3 object's body, as text.
    if hasattr(response.get("Body"), "read"):
        response["Body"] = response["Body"].read().decode("utf-8", "replace")
    print(json.dumps(response, default=str))


if __name__ == "__main__":
    main()
