"""Reads a Kubernetes object behind carbonc's back, for the apply tests (compiler/cli/tests/helm.rs).

    kube_get.py EMULATOR_URL REGION CLUSTER PATH [ROLE_ARN]

PATH is an API path (`/apis/apps/v1/namespaces/api/deployments/api`; `DELETE:PATH` deletes), or
`helm:NAMESPACE/NAME`
for `helm status` of a release through the test front (`tests/kube/helm`). Prints
`{"code": HTTP status or helm's exit code, "body": the answer as JSON}`.

The cluster's endpoint and certificate authority come from DescribeCluster through boto3, and
the token is made here with botocore's own presigner (as ROLE_ARN, assumed through STS, when one is
given: a program with `provider_role_arn` creates its clusters as that role) (as `aws eks get-token` makes it), not by
carbonc: the tests check carbonc's work with a client that shares none of its code.
"""

import base64
import json
import os
import pathlib
import ssl
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

import boto3

HERE = pathlib.Path(__file__).resolve().parent
# The operator's key (`scripts/emulator env`): STS, like AWS's, refuses keys IAM never issued.
KEYS = dict(
    aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
    aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"),
)


def token(endpoint: str, region: str, cluster: str, role: str | None) -> str:
    """`k8s-aws-v1.` + base64url of a GetCallerIdentity URL presigned with x-k8s-aws-id."""
    keys = KEYS
    if role:
        creds = boto3.client("sts", region_name=region, endpoint_url=endpoint, **KEYS).assume_role(RoleArn=role, RoleSessionName="kube-get")["Credentials"]
        keys = dict(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])
    sts = boto3.client("sts", region_name=region, endpoint_url=endpoint, **keys)

    def bind_to_cluster(request, **_):
        request.headers["x-k8s-aws-id"] = cluster

    sts.meta.events.register("before-sign.sts.GetCallerIdentity", bind_to_cluster)
    url = sts.generate_presigned_url("get_caller_identity", Params={}, ExpiresIn=60, HttpMethod="GET")
    return "k8s-aws-v1." + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


def main() -> None:
    endpoint, region, cluster, path = sys.argv[1:5]
    role = sys.argv[5] if len(sys.argv) > 5 else None
    eks = boto3.client("eks", region_name=region, endpoint_url=endpoint, **KEYS)
    c = eks.describe_cluster(name=cluster)["cluster"]
    server, ca = c["endpoint"], base64.b64decode(c["certificateAuthority"]["data"])
    bearer = token(endpoint, region, cluster, role)
    if path.startswith("helm:"):
        namespace, name = path[len("helm:") :].split("/", 1)
        with tempfile.TemporaryDirectory() as d:
            kubeconfig = pathlib.Path(d) / "kubeconfig"
            kubeconfig.write_text(
                json.dumps(
                    {
                        "apiVersion": "v1",
                        "kind": "Config",
                        "clusters": [{"name": cluster, "cluster": {"server": server, "certificate-authority-data": c["certificateAuthority"]["data"]}}],
                        "users": [{"name": "test", "user": {"token": bearer}}],
                        "contexts": [{"name": "test", "context": {"cluster": cluster, "user": "test"}}],
                        "current-context": "test",
                    }
                )
            )
            out = subprocess.run(
                [str(HERE / "helm"), "status", name, "--namespace", namespace, "--kubeconfig", str(kubeconfig), "--output", "json"],
                capture_output=True,
                text=True,
                env=os.environ,
            )
        body = json.loads(out.stdout) if out.returncode == 0 else out.stderr.strip()
        print(json.dumps({"code": out.returncode, "body": body}))
        return
    context = ssl.create_default_context(cadata=ca.decode())
    method = "GET"
    if path.startswith("DELETE:"):
        method, path = "DELETE", path[len("DELETE:") :]
    request = urllib.request.Request(server + path, method=method, headers={"Authorization": f"Bearer {bearer}", "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, context=context, timeout=30) as answer:
            code, text = answer.status, answer.read().decode()
    except urllib.error.HTTPError as e:
        code, text = e.code, e.read().decode()
    print(json.dumps({"code": code, "body": json.loads(text) if text.startswith("{") else text}))


if __name__ == "__main__":
    main()
