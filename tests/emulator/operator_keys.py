"""Makes the IAM user that carbonc's tests and the demo act as, and prints its access key.

    operator_keys.py EMULATOR_URL      prints `ACCESS_KEY_ID SECRET_ACCESS_KEY`

Run by `scripts/emulator start`; `scripts/emulator env` hands the key out. moto accepts any key
for its AWS APIs, but the Kubernetes API of each EKS cluster (plugins/eks_kubernetes_api.py)
learns who calls from STS, which refuses, as AWS does, a key that IAM never issued
(InvalidClientTokenId). With an issued key, the caller is this user everywhere: it creates the
clusters, so EKS gives it the creator's cluster-admin access entry.
"""

import sys

import boto3

USER = "carbonc-operator"


def main() -> None:
    iam = boto3.client(
        "iam",
        region_name="us-east-1",
        endpoint_url=sys.argv[1],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    iam.create_user(UserName=USER)
    iam.attach_user_policy(UserName=USER, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    key = iam.create_access_key(UserName=USER)["AccessKey"]
    print(key["AccessKeyId"], key["SecretAccessKey"])


if __name__ == "__main__":
    main()
