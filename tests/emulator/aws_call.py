"""Makes one AWS API call against the emulator, straight through boto3: how the apply tests change
or delete a resource behind carbonc's back (drift). Prints the response as JSON.

    python aws_call.py ENDPOINT REGION SERVICE OPERATION '{"Param": "value"}'
"""
import json
import sys

import boto3


def main():
    endpoint, region, service, operation, params = sys.argv[1:6]
    client = boto3.client(
        service,
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    response = getattr(client, operation)(**json.loads(params))
    response.pop("ResponseMetadata", None)
    print(json.dumps(response, default=str))


if __name__ == "__main__":
    main()
