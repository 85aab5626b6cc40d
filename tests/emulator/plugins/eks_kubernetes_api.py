"""EKS: every cluster gets a Kubernetes API, served by the harness's Kubernetes API emulator.

The gap (moto 5.2.5): `moto/eks/models.py` `Cluster` makes up its `endpoint`
(`https://RANDOM.RANDOM.REGION.eks.amazonaws.com/`, nothing answers there) and its
`certificateAuthority.data` (1400 random characters, not a certificate), so nothing that
talks to a cluster's Kubernetes API (Helm, kubectl, carbonc's Helm phase) can be tested. A real
Kubernetes API server cannot run on the test machines; this plugin starts the harness-owned
Kubernetes API *emulator* (`../kube_api.py` and its modules `kube_schema.py`, `kube_ops.py`,
`kube_openapi.py`, `kube_controllers.py`, `kube_auth.py`, whose docstrings say what each models
and after which reference) in the moto process, on a free loopback port, over TLS, and:
- `Cluster.endpoint` is `https://127.0.0.1:PORT/clusters/REGION/NAME` once the cluster has one
  (not while it is CREATING, as on AWS: the EKS API reference, Cluster.endpoint, "The endpoint
  for your Kubernetes API server"), and `certificateAuthority.data` is the base64 of the
  emulator's CA certificate (PEM), as EKS gives it and kubeconfig's
  `certificate-authority-data` takes it;
- each cluster's objects live as long as the cluster: DeleteCluster, a new cluster under the
  same name, and `POST /moto-api/reset` start it empty.

And, for the EKS token that authenticates to it (`aws eks get-token`: a presigned STS
GetCallerIdentity URL with the `x-k8s-aws-id` header signed; aws-iam-authenticator's verifier
GETs it), what moto's STS lacks:
- moto routes a request by its `Authorization` header, so a presigned (query-string signed)
  request to the server's address was answered by S3 (moto's default) with a bucket list: the
  service is now taken from `X-Amz-Credential`'s scope when there is no `Authorization` header
  (`moto/moto_server/werkzeug_app.py` `infer_service_region_host`);
- moto took the caller of a presigned request to be `AKIAEXAMPLE` (an unknown key, hence its
  made-up `arn:aws:sts::ACCOUNT:user/moto`): the access key is now `X-Amz-Credential`'s
  (`moto/core/responses.py` `BaseResponse.get_access_key`);
- moto checks no signature: a presigned GetCallerIdentity is now checked as STS checks it
  (AWS General Reference, "Signature Version 4 signing process", "Create a signed AWS API
  request"; AWS STS API reference, "Common Errors"): an unknown access key is 403
  `InvalidClientTokenId`; a signature that does not match the request (another
  `x-k8s-aws-id`, a changed parameter) is 403 `SignatureDoesNotMatch`; a URL older than 15
  minutes (`X-Amz-Date`) is 403 `SignatureDoesNotMatch` "Signature expired"; a session token
  that is not the key's is 403 `InvalidClientTokenId`. Requests signed in the `Authorization`
  header are unchanged (moto never checks those; the "testing" credentials keep working).

Consequence for tests: a token made with moto's default credentials (`testing`, an access key
that does not exist) cannot authenticate to a cluster, as with real AWS: the identity must be an
IAM user with an access key (CreateUser, CreateAccessKey) or an assumed role, with an access
entry (or the cluster creator's admin permissions).
"""

import argparse
import base64
import datetime
import os
import sys
import urllib.parse
import uuid
from typing import Any

WRITTEN_FOR = "5.2.5"

_SERVER: Any = None


def _moto_port() -> int:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("-p", "--port", type=int, default=int(os.environ.get("MOTO_PORT", 5000)))
    args, _ = parser.parse_known_args(sys.argv[1:])
    return args.port


# ---- STS: presigned requests --------------------------------------------------------------------


def _secret_for(access_key_id: str) -> tuple[str, str | None] | None:
    """(secret, session token) of an access key moto issued: an IAM user's, or temporary
    credentials from AssumeRole; None for a key moto never issued."""
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends

    for account in list(sts_backends.keys()):
        for partition in list(sts_backends[account].keys()):
            role = sts_backends[account][partition].get_assumed_role_from_access_key(access_key_id)
            if role is not None:
                return role.secret_access_key, role.session_token
    for account in list(iam_backends.keys()):
        for partition in list(iam_backends[account].keys()):
            iam = iam_backends[account][partition]
            key = next((k for k in list(iam.access_keys.values()) if k.access_key_id == access_key_id), None)
            if key is not None:
                return key.secret_access_key, None
            for user in list(iam.users.values()):
                for k in list(getattr(user, "access_keys", []) or []):
                    if k.access_key_id == access_key_id:
                        return k.secret_access_key, None
    return None


def _sts_error(code: str, message: str) -> tuple[str, dict]:
    body = (
        '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        f"<Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
        f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    )
    return body, {"status": 403, "Content-Type": "text/xml"}


def _check_presigned(response: Any) -> tuple[str, dict] | None:
    """STS's checks of a presigned request; an error answer, or None when it is good."""
    import kube_auth

    query = []
    raw = urllib.parse.urlsplit(response.uri).query
    for k, v in urllib.parse.parse_qsl(raw, keep_blank_values=True):
        query.append((k, v))
    params = dict(query)
    credential = params.get("X-Amz-Credential", "")
    akid = credential.split("/", 1)[0]
    found = _secret_for(akid)
    if found is None:
        return _sts_error("InvalidClientTokenId", "The security token included in the request is invalid.")
    secret, session_token = found
    if (params.get("X-Amz-Security-Token") or None) != session_token:
        return _sts_error("InvalidClientTokenId", "The security token included in the request is invalid.")
    try:
        signed_at = datetime.datetime.strptime(params.get("X-Amz-Date", ""), "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        return _sts_error("SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.")
    now = datetime.datetime.now(datetime.timezone.utc)
    if now > signed_at + datetime.timedelta(minutes=15):
        return _sts_error(
            "SignatureDoesNotMatch",
            f"Signature expired: {params['X-Amz-Date']} is now earlier than "
            f"{(now - datetime.timedelta(minutes=15)).strftime('%Y%m%dT%H%M%SZ')} ({now.strftime('%Y%m%dT%H%M%SZ')} - 15 min.)",
        )
    signed = [h.lower() for h in params.get("X-Amz-SignedHeaders", "").split(";") if h]
    headers = {k.lower(): v for k, v in response.headers.items()}
    path = urllib.parse.urlsplit(response.uri).path or "/"
    want = params.get("X-Amz-Signature", "")
    empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    for payload in (empty, "UNSIGNED-PAYLOAD"):
        if kube_auth.presigned_signature(response.method, path, query, headers, signed, secret, payload) == want:
            return None
    return _sts_error(
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. Check your AWS "
        "Secret Access Key and signing method. Consult the service documentation for details.",
    )


def _patch_sts() -> None:
    from moto.core.responses import BaseResponse
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication
    from moto.sts.responses import TokenResponse

    infer = DomainDispatcherApplication.infer_service_region_host

    def infer_service_region_host(self: Any, environ: dict, path: str) -> Any:
        if not environ.get("HTTP_AUTHORIZATION"):
            params = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
            credential = (params.get("X-Amz-Credential") or [""])[0]
            if len(credential.split("/")) == 5:
                environ = dict(environ)
                environ["HTTP_AUTHORIZATION"] = f"AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders=host, Signature=0"
        return infer(self, environ, path)

    DomainDispatcherApplication.infer_service_region_host = infer_service_region_host

    get_access_key = BaseResponse.get_access_key

    def get_access_key_patched(self: Any) -> str:
        if "Authorization" not in self.headers:
            credential = (self.querystring.get("X-Amz-Credential") or [""])[0]
            if credential:
                return credential.split("/", 1)[0]
        return get_access_key(self)

    BaseResponse.get_access_key = get_access_key_patched

    original = TokenResponse.get_caller_identity

    def get_caller_identity(self: Any) -> Any:
        if "Authorization" not in self.headers and self.querystring.get("X-Amz-Signature"):
            refused = _check_presigned(self)
            if refused is not None:
                return refused
        return original(self)

    TokenResponse.get_caller_identity = get_caller_identity


# ---- EKS: the endpoint and the CA --------------------------------------------------------------


def _patch_eks(server: Any) -> None:
    import kube_api
    from moto.eks import models

    ca = base64.b64encode(server.ca_pem).decode()

    def endpoint(self: Any) -> str | None:
        if getattr(self, "status", "ACTIVE") in ("CREATING", "FAILED"):
            return None
        return server.endpoint(self.arn.split(":")[3], self.name)

    def certificate_authority(self: Any) -> dict:
        return {"data": ca}

    # Cluster.__init__ assigns both; the properties ignore those assignments.
    models.Cluster.endpoint = property(endpoint, lambda self, value: None)
    models.Cluster.certificate_authority = property(certificate_authority, lambda self, value: None)

    delete = models.EKSBackend.delete_cluster

    def delete_cluster(self: Any, name: str) -> Any:
        cluster = delete(self, name)
        kube_api.REGISTRY.drop(self.region_name, name)
        return cluster

    models.EKSBackend.delete_cluster = delete_cluster

    from moto.moto_api._internal.models import MotoAPIBackend

    reset = MotoAPIBackend.reset

    def reset_all(self: Any) -> None:
        reset(self)
        kube_api.REGISTRY.reset()

    MotoAPIBackend.reset = reset_all


def register() -> None:
    global _SERVER
    import kube_api

    _patch_sts()
    _SERVER = kube_api.start(f"127.0.0.1:{_moto_port()}")
    _patch_eks(_SERVER)
    print(f"carbonc emulator: Kubernetes API emulator on https://127.0.0.1:{_SERVER.port}/clusters/REGION/NAME", file=sys.stderr, flush=True)
