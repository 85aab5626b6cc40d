"""Tests of the Kubernetes API emulator (tests/emulator/kube_api.py, started by
tests/emulator/plugins/eks_kubernetes_api.py) through the real Helm v4 engine
(tests/kube/helm, the helm-python-sdk front) and through direct requests, against an EKS cluster
made with boto3 in a fresh emulator:

    ~/.cache/carbonc/venv/bin/python -m unittest tests/kube/test_kube_api.py

It starts its own emulator (`scripts/emulator start`) and stops it; about 40 s. The identities
are IAM users with access keys (moto's default "testing" key is not an IAM principal and cannot
authenticate to a cluster, as on AWS): `admin` creates the cluster (so it gets the creator's
admin access entry), `dev` has no access entry, `viewer` has an entry without policy, then
AmazonEKSViewPolicy in one namespace. A request without a token is anonymous, as kube-apiserver's
anonymous auth (which EKS keeps) makes it: `/version` answers, everything else is 403; a token
that does not verify (malformed, or made for another cluster) is 401.
"""

import base64
import json
import os
import pathlib
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

import boto3
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
HELM = str(ROOT / "tests" / "kube" / "helm")
CHART = str(ROOT / "examples" / "charts" / "api")
REGION = "us-east-1"
CLUSTER = "kube"
ACCOUNT = "123456789012"

sys.path.insert(0, str(ROOT / "tests" / "emulator"))
sys.dont_write_bytecode = True
import aws_delays  # noqa: E402

# How long an access entry or policy association takes to reach the cluster's API.
PROPAGATION = aws_delays.BASE["eks_access_propagation"] * aws_delays.scale() + 0.3
IAM_PROPAGATION = aws_delays.BASE["iam_propagation"] * aws_delays.scale() + 0.3


def eks_token(endpoint: str, key: dict, cluster: str) -> str:
    """What `aws eks get-token` makes: `k8s-aws-v1.` + base64url (no padding) of an STS
    GetCallerIdentity URL presigned with the `x-k8s-aws-id` header, valid 60 s."""
    sts = boto3.client(
        "sts", region_name=REGION, endpoint_url=endpoint,
        aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
    )

    def add_cluster_id(request, **_):
        request.headers["x-k8s-aws-id"] = cluster

    sts.meta.events.register("before-sign.sts.GetCallerIdentity", add_cluster_id)
    url = sts.generate_presigned_url("get_caller_identity", Params={}, ExpiresIn=60, HttpMethod="GET")
    return "k8s-aws-v1." + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


class KubeApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        started = time.monotonic()
        out = subprocess.run([str(ROOT / "scripts" / "emulator"), "start"], check=True, capture_output=True, text=True)
        cls.endpoint = out.stdout.strip()
        cls.tmp = tempfile.mkdtemp(prefix="kube-api-test-")
        try:
            cls._make_cluster()
        except BaseException:
            cls.tearDownClass()
            raise
        print(f"\n[setup {time.monotonic() - started:.1f}s]", file=sys.stderr)

    @classmethod
    def tearDownClass(cls):
        subprocess.run([str(ROOT / "scripts" / "emulator"), "stop", cls.endpoint], capture_output=True)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def client(cls, service, key=None):
        key = key or {"AccessKeyId": "testing", "SecretAccessKey": "testing"}
        return boto3.client(service, region_name=REGION, endpoint_url=cls.endpoint,
                            aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])

    @classmethod
    def _make_cluster(cls):
        iam = cls.client("iam")
        cls.keys = {}
        for user in ("admin", "dev", "viewer"):
            iam.create_user(UserName=user)
            cls.keys[user] = iam.create_access_key(UserName=user)["AccessKey"]

        def trust(service):
            return json.dumps({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]})

        iam.create_role(RoleName="kube-cluster", AssumeRolePolicyDocument=trust("eks.amazonaws.com"))
        iam.attach_role_policy(RoleName="kube-cluster", PolicyArn="arn:aws:iam::aws:policy/AmazonEKSClusterPolicy")
        iam.create_role(RoleName="kube-node", AssumeRolePolicyDocument=trust("ec2.amazonaws.com"))
        for policy in ("AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryReadOnly"):
            iam.attach_role_policy(RoleName="kube-node", PolicyArn=f"arn:aws:iam::aws:policy/{policy}")
        ec2 = cls.client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnets = [
            ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{'ab'[i]}")["Subnet"]["SubnetId"]
            for i in range(2)
        ]
        time.sleep(IAM_PROPAGATION)  # the roles reach EKS (plugins/eks_role_policies.py)
        eks = cls.client("eks", cls.keys["admin"])
        eks.create_cluster(
            name=CLUSTER, version="1.33", roleArn=f"arn:aws:iam::{ACCOUNT}:role/kube-cluster",
            resourcesVpcConfig={"subnetIds": subnets},
            accessConfig={"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": True},
        )
        for _ in range(100):
            cluster = eks.describe_cluster(name=CLUSTER)["cluster"]
            if cluster["status"] == "ACTIVE":
                break
            time.sleep(0.2)
        cls.cluster = cluster
        eks.create_nodegroup(
            clusterName=CLUSTER, nodegroupName="workers", nodeRole=f"arn:aws:iam::{ACCOUNT}:role/kube-node",
            subnets=subnets, instanceTypes=["t3.medium"], scalingConfig={"minSize": 2, "maxSize": 2, "desiredSize": 2},
        )
        cls.eks = eks
        ca = base64.b64decode(cluster["certificateAuthority"]["data"]).decode()
        cls.tls = ssl.create_default_context(cadata=ca)
        cls.kubeconfig = cls.write_kubeconfig("admin")

    @classmethod
    def write_kubeconfig(cls, who, cluster_name=CLUSTER):
        """The kubeconfig carbonc writes: the cluster's endpoint and CA from DescribeCluster, a
        static EKS bearer token."""
        config = {
            "apiVersion": "v1", "kind": "Config",
            "clusters": [{"name": cluster_name, "cluster": {"server": cls.cluster["endpoint"],
                                                            "certificate-authority-data": cls.cluster["certificateAuthority"]["data"]}}],
            "users": [{"name": who, "user": {"token": eks_token(cls.endpoint, cls.keys[who], cluster_name)}}],
            "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": who}}],
            "current-context": cluster_name,
        }
        path = os.path.join(cls.tmp, f"kubeconfig-{who}-{cluster_name}")
        with open(path, "w") as f:
            yaml.safe_dump(config, f)
        return path

    # -- helpers
    def api(self, path, token=None, method="GET", body=None, content_type="application/json", who="admin"):
        """A request to the cluster's API: (status, parsed body)."""
        if token is None and who:
            token = eks_token(self.endpoint, self.keys[who], CLUSTER)
        data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
        request = urllib.request.Request(self.cluster["endpoint"] + path, data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", content_type)
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, context=self.tls, timeout=30) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                return e.code, json.loads(raw)
            except ValueError:
                return e.code, raw.decode()

    def helm(self, *args, kubeconfig=None, check=True):
        result = subprocess.run([HELM, *args, "--kubeconfig", kubeconfig or self.kubeconfig],
                                capture_output=True, text=True, timeout=180)
        if check and result.returncode != 0:
            self.fail(f"helm {' '.join(args)} failed ({result.returncode}): {result.stderr}")
        return result

    def values(self, name, **overrides):
        values = {
            "replicaCount": 2,
            "image": {"repository": "public.ecr.aws/nginx/nginx", "tag": "1.27"},
            "service": {"port": 8080},
            "config": {"REGION": REGION},
            "serviceAccount": {"name": "api"},
        }
        values.update(overrides)
        path = os.path.join(self.tmp, f"{name}.json")
        with open(path, "w") as f:
            json.dump(values, f)
        return path

    def upgrade(self, release, values, namespace="apps", chart=CHART, check=True, timeout="600s"):
        return self.helm("upgrade", "--install", release, chart, "--namespace", namespace, "--create-namespace",
                         "--values", values, "--atomic", "--wait", "--timeout", timeout, "--output", "json", check=check)

    # -- the release lifecycle
    def test_release_lifecycle(self):
        started = time.monotonic()
        version = subprocess.run([HELM, "version", "--short"], capture_output=True, text=True, check=True).stdout
        self.assertRegex(version, r"^v4\.\d+\.\d+ .*helm-python-sdk.*not the helm CLI")

        # install: revision 1, deployed, with the chart and the values
        out = self.upgrade("api", self.values("v1"))
        rel = json.loads(out.stdout)
        self.assertEqual((rel["name"], rel["namespace"], rel["version"]), ("api", "apps", 1))
        self.assertEqual(rel["info"]["status"], "deployed")
        self.assertEqual(rel["info"]["description"], "Install complete")
        self.assertEqual((rel["chart"]["metadata"]["name"], rel["chart"]["metadata"]["version"]), ("api", "1.0.0"))
        self.assertEqual(rel["config"]["config"], {"REGION": REGION})
        self.assertIn("kind: Deployment", rel["manifest"])

        # the objects, through the API: the namespace Helm created, the Deployment available (the
        # wait returned once it was), the Service with a cluster IP, two running pods
        status, ns = self.api("/api/v1/namespaces/apps")
        self.assertEqual((status, ns["status"]["phase"]), (200, "Active"))
        status, dep = self.api("/apis/apps/v1/namespaces/apps/deployments/api")
        self.assertEqual(status, 200)
        self.assertEqual(dep["metadata"]["annotations"]["meta.helm.sh/release-name"], "api")
        self.assertEqual(dep["status"]["observedGeneration"], dep["metadata"]["generation"])
        self.assertEqual(dep["status"].get("availableReplicas"), 2, dep["status"])
        conditions = {c["type"]: c for c in dep["status"]["conditions"]}
        self.assertEqual(conditions["Available"]["status"], "True")
        self.assertEqual(conditions["Progressing"]["reason"], "NewReplicaSetAvailable")
        status, svc = self.api("/api/v1/namespaces/apps/services/api")
        self.assertEqual(status, 200)
        self.assertRegex(svc["spec"]["clusterIP"], r"^172\.20\.\d+\.\d+$")
        status, pods = self.api("/api/v1/namespaces/apps/pods?labelSelector=app.kubernetes.io%2Finstance%3Dapi")
        self.assertEqual([p["status"]["phase"] for p in pods["items"]], ["Running", "Running"])
        self.assertTrue(all(p["spec"]["nodeName"].endswith(".compute.internal") for p in pods["items"]))

        # an upgrade with changed values: revision 2, a new ReplicaSet rolled out
        out = self.upgrade("api", self.values("v2", config={"REGION": "eu-west-1"}))
        rel = json.loads(out.stdout)
        self.assertEqual((rel["version"], rel["info"]["status"], rel["info"]["description"]), (2, "deployed", "Upgrade complete"))
        status, dep = self.api("/apis/apps/v1/namespaces/apps/deployments/api")
        env = dep["spec"]["template"]["spec"]["containers"][0]["env"]
        self.assertEqual(env, [{"name": "REGION", "value": "eu-west-1"}])
        self.assertEqual(dep["metadata"]["generation"], 2)
        status, sets = self.api("/apis/apps/v1/namespaces/apps/replicasets")
        self.assertEqual(sorted(r["spec"]["replicas"] for r in sets["items"]), [0, 2])

        # an upgrade whose pods cannot be scheduled (each requests 4 CPUs; a t3.medium node has
        # 1930m allocatable): the Deployment's progress deadline passes, kstatus says Failed,
        # --atomic rolls back
        out = self.upgrade("api", self.values("v3", resources={"requests": {"cpu": "4"}}, config={"REGION": "ap-south-1"}), check=False)
        self.assertEqual(out.returncode, 1, out.stdout)
        self.assertRegex(
            out.stderr,
            r"^Error: UPGRADE FAILED: release api failed, and has been rolled back due to rollback-on-failure being set: "
            r"resource Deployment/apps/api not ready\. status: Failed, message: Progress deadline exceeded",
        )
        out = self.helm("status", "api", "--namespace", "apps", "--output", "json")
        rel = json.loads(out.stdout)
        self.assertEqual((rel["version"], rel["info"]["status"]), (4, "deployed"))
        self.assertEqual(rel["info"]["description"], "Rollback to 2")
        self.assertEqual(rel["config"]["config"], {"REGION": "eu-west-1"})
        self.assertNotIn("resources", rel["config"])
        self.assertNotIn("chart", rel)  # helm status strips the chart
        status, dep = self.api("/apis/apps/v1/namespaces/apps/deployments/api")
        container = dep["spec"]["template"]["spec"]["containers"][0]
        self.assertEqual(container["env"], [{"name": "REGION", "value": "eu-west-1"}])
        self.assertEqual(container["resources"], {})
        status, events = self.api("/api/v1/namespaces/apps/events?fieldSelector=reason%3DFailedScheduling")
        self.assertIn("0/2 nodes are available: 2 Insufficient cpu.", [e["message"][:44] for e in events["items"]])
        status, secrets = self.api("/api/v1/namespaces/apps/secrets?labelSelector=owner%3Dhelm%2Cname%3Dapi")
        self.assertEqual(sorted(s["metadata"]["labels"]["status"] for s in secrets["items"]), ["deployed", "failed", "superseded", "superseded"])

        # uninstall: the objects and the release's secrets are gone
        out = self.helm("uninstall", "api", "--namespace", "apps", "--wait", "--timeout", "600s")
        self.assertIn('release "api" uninstalled', out.stdout)
        for path in ("/apis/apps/v1/namespaces/apps/deployments/api", "/api/v1/namespaces/apps/services/api",
                     "/api/v1/namespaces/apps/serviceaccounts/api"):
            status, body = self.api(path)
            self.assertEqual(status, 404, path)
            self.assertEqual(body["reason"], "NotFound")
        status, secrets = self.api("/api/v1/namespaces/apps/secrets?labelSelector=owner%3Dhelm")
        self.assertEqual(secrets["items"], [])
        for _ in range(50):  # the garbage collector removes the ReplicaSets and their pods
            status, pods = self.api("/api/v1/namespaces/apps/pods")
            if not pods["items"]:
                break
            time.sleep(0.1)
        self.assertEqual(pods["items"], [])
        out = self.helm("status", "api", "--namespace", "apps", "--output", "json", check=False)
        self.assertEqual((out.returncode, out.stderr.strip()), (1, "Error: release: not found"))
        print(f"\n[lifecycle {time.monotonic() - started:.1f}s]", file=sys.stderr)

    # -- schemas
    def bad_chart(self, name, deployment_spec):
        chart = os.path.join(self.tmp, name)
        os.makedirs(os.path.join(chart, "templates"), exist_ok=True)
        with open(os.path.join(chart, "Chart.yaml"), "w") as f:
            yaml.safe_dump({"apiVersion": "v2", "name": name, "version": "0.1.0"}, f)
        with open(os.path.join(chart, "templates", "deployment.yaml"), "w") as f:
            yaml.safe_dump({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name}, "spec": deployment_spec}, f)
        return chart

    def test_invalid_manifest(self):
        template = {"metadata": {"labels": {"app": "bad"}}, "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]}}
        # no selector: the API server's validation, 422 Invalid with its causes
        chart = self.bad_chart("noselector", {"replicas": 1, "template": template})
        out = self.upgrade("noselector", self.values("bad"), namespace="bad", chart=chart, check=False)
        self.assertEqual(out.returncode, 1)
        self.assertIn("INSTALLATION FAILED", out.stderr)
        self.assertIn('Deployment.apps "noselector" is invalid: [spec.selector: Required value, '
                      'spec.template.metadata.labels: Invalid value: map[string]string{"app":"bad"}: '
                      '`selector` does not match template `labels`]', out.stderr)
        # the same object applied directly: the status code and the causes
        status, body = self.api(
            "/apis/apps/v1/namespaces/bad/deployments/noselector?fieldManager=test&fieldValidation=Strict", method="PATCH",
            body={"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "noselector"}, "spec": {"replicas": 1, "template": template}},
            content_type="application/apply-patch+yaml",
        )
        self.assertEqual((status, body["reason"]), (422, "Invalid"))
        self.assertEqual([(c["reason"], c["field"]) for c in body["details"]["causes"]],
                         [("FieldValueRequired", "spec.selector"), ("FieldValueInvalid", "spec.template.metadata.labels")])
        # a field the schema does not declare: server-side apply's typed-patch error
        chart = self.bad_chart("unknownfield", {"replicas": 1, "replica": 2, "selector": {"matchLabels": {"app": "bad"}}, "template": template})
        out = self.upgrade("unknownfield", self.values("bad"), namespace="bad", chart=chart, check=False)
        self.assertEqual(out.returncode, 1)
        self.assertIn("failed to create typed patch object (bad/unknownfield; apps/v1, Kind=Deployment): .spec.replica: field not declared in schema", out.stderr)
        # an invalid name
        status, body = self.api("/api/v1/namespaces/bad/configmaps", method="POST",
                                body={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "Bad_Name"}})
        self.assertEqual((status, body["reason"]), (422, "Invalid"))
        self.assertTrue(body["message"].startswith('ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain'), body)
        # an undeclared field: 400 with fieldValidation=Strict (what kubectl and Helm send), dropped
        # otherwise
        odd = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "odd"}, "data": {"a": "b"}, "spec": {"x": 1}}
        status, body = self.api("/api/v1/namespaces/bad/configmaps?fieldValidation=Strict", method="POST", body=odd)
        self.assertEqual((status, body["reason"], body["message"]), (400, "BadRequest", 'strict decoding error: unknown field "spec"'))
        status, body = self.api("/api/v1/namespaces/bad/configmaps", method="POST", body=odd)
        self.assertEqual((status, "spec" in body, body["data"]), (201, False, {"a": "b"}))
        # a namespace that does not exist
        status, body = self.api("/api/v1/namespaces/nowhere/configmaps", method="POST",
                                body={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}})
        self.assertEqual((status, body["message"]), (404, 'namespaces "nowhere" not found'))

    # -- the object API itself
    def test_objects_api(self):
        ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "objs"}}
        self.assertEqual(self.api("/api/v1/namespaces", method="POST", body=ns)[0], 201)
        cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "labels": {"tier": "a"}}, "data": {"k": "1"}}
        status, created = self.api("/api/v1/namespaces/objs/configmaps", method="POST", body=cm)
        self.assertEqual(status, 201)
        self.assertEqual(self.api("/api/v1/namespaces/objs/configmaps", method="POST", body=cm)[1]["reason"], "AlreadyExists")
        rv = created["metadata"]["resourceVersion"]
        # a watch from that resourceVersion, in a thread, sees what follows
        events = []

        def watch():
            token = eks_token(self.endpoint, self.keys["admin"], CLUSTER)
            req = urllib.request.Request(
                self.cluster["endpoint"] + f"/api/v1/namespaces/objs/configmaps?watch=true&resourceVersion={rv}&timeoutSeconds=3",
                headers={"Authorization": f"Bearer {token}"})
            with urllib.request.urlopen(req, context=self.tls, timeout=10) as r:
                for line in r:
                    events.append(json.loads(line))

        import threading

        watcher = threading.Thread(target=watch)
        watcher.start()
        # PUT with a stale resourceVersion: 409 Conflict; with the current one: 200
        stale = dict(created, data={"k": "2"})
        stale["metadata"] = dict(created["metadata"], resourceVersion="1")
        status, body = self.api("/api/v1/namespaces/objs/configmaps/cfg", method="PUT", body=stale)
        self.assertEqual((status, body["reason"]), (409, "Conflict"))
        self.assertEqual(body["message"], 'Operation cannot be fulfilled on configmaps "cfg": the object has been modified; please apply your changes to the latest version and try again')
        fresh = dict(created, data={"k": "2"})
        status, updated = self.api("/api/v1/namespaces/objs/configmaps/cfg", method="PUT", body=fresh)
        self.assertEqual((status, updated["data"]), (200, {"k": "2"}))
        # merge patch, JSON patch
        status, patched = self.api("/api/v1/namespaces/objs/configmaps/cfg", method="PATCH", body={"data": {"j": "3", "k": None}},
                                   content_type="application/merge-patch+json")
        self.assertEqual(patched["data"], {"j": "3"})
        status, patched = self.api("/api/v1/namespaces/objs/configmaps/cfg", method="PATCH",
                                   body=[{"op": "add", "path": "/data/l", "value": "4"}], content_type="application/json-patch+json")
        self.assertEqual(patched["data"], {"j": "3", "l": "4"})
        # label selectors
        status, listed = self.api("/api/v1/namespaces/objs/configmaps?labelSelector=tier%20in%20(a,b)")
        self.assertEqual([i["metadata"]["name"] for i in listed["items"]], ["cfg"])
        self.assertEqual(listed["kind"], "ConfigMapList")
        self.assertEqual(self.api("/api/v1/namespaces/objs/configmaps?labelSelector=tier%3Dz")[1]["items"], [])
        watcher.join()
        self.assertEqual([e["type"] for e in events], ["MODIFIED", "MODIFIED", "MODIFIED"])
        self.assertEqual(events[-1]["object"]["data"], {"j": "3", "l": "4"})
        # a Deployment: strategic merge patch merges containers by name; generation follows the spec
        dep = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
               "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "web"}},
                        "template": {"metadata": {"labels": {"app": "web"}},
                                     "spec": {"containers": [{"name": "a", "image": "nginx:1"}, {"name": "b", "image": "busybox:1"}]}}}}
        status, created = self.api("/apis/apps/v1/namespaces/objs/deployments", method="POST", body=dep)
        self.assertEqual((status, created["metadata"]["generation"]), (201, 1))
        self.assertEqual(created["spec"]["strategy"]["rollingUpdate"], {"maxSurge": "25%", "maxUnavailable": "25%"})
        status, patched = self.api("/apis/apps/v1/namespaces/objs/deployments/web", method="PATCH",
                                   body={"spec": {"template": {"spec": {"containers": [{"name": "b", "image": "busybox:2"}]}}}},
                                   content_type="application/strategic-merge-patch+json")
        self.assertEqual([(c["name"], c["image"]) for c in patched["spec"]["template"]["spec"]["containers"]], [("a", "nginx:1"), ("b", "busybox:2")])
        self.assertEqual(patched["metadata"]["generation"], 2)
        # server-side apply: a field another manager set to another value is a conflict, unless forced
        apply = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": 3}}
        status, body = self.api("/apis/apps/v1/namespaces/objs/deployments/web?fieldManager=ci", method="PATCH", body=apply,
                                content_type="application/apply-patch+yaml")
        self.assertEqual((status, body["reason"]), (409, "Conflict"))
        self.assertIn("Apply failed with 1 conflict: conflict with", body["message"])
        self.assertIn(".spec.replicas", body["message"])
        status, body = self.api("/apis/apps/v1/namespaces/objs/deployments/web?fieldManager=ci&force=true", method="PATCH", body=apply,
                                content_type="application/apply-patch+yaml")
        self.assertEqual((status, body["spec"]["replicas"]), (200, 3))
        self.assertIn("ci", [m["manager"] for m in body["metadata"]["managedFields"]])
        # a pod requesting more CPU than a t3.medium has (1930m allocatable) is never scheduled
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "big"},
               "spec": {"containers": [{"name": "c", "image": "nginx:1.27", "resources": {"requests": {"cpu": "3"}}}]}}
        self.assertEqual(self.api("/api/v1/namespaces/objs/pods", method="POST", body=pod)[0], 201)
        for _ in range(50):
            status, pod = self.api("/api/v1/namespaces/objs/pods/big")
            scheduled = [c for c in pod["status"].get("conditions", []) if c["type"] == "PodScheduled"]
            if scheduled:
                break
            time.sleep(0.1)
        self.assertEqual((pod["status"]["phase"], scheduled[0]["status"], scheduled[0]["reason"]), ("Pending", "False", "Unschedulable"))
        self.assertEqual(scheduled[0]["message"], "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.")
        # deleting the namespace: Terminating, its objects go, then it goes
        status, body = self.api("/api/v1/namespaces/objs", method="DELETE")
        self.assertEqual((status, body["status"]["phase"]), (200, "Terminating"))
        status, body = self.api("/api/v1/namespaces/objs/configmaps", method="POST",
                                body={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "late"}})
        self.assertEqual(status, 403)
        self.assertIn("unable to create new content in namespace objs because it is being terminated", body["message"])
        for _ in range(50):
            if self.api("/api/v1/namespaces/objs")[0] == 404:
                break
            time.sleep(0.1)
        self.assertEqual(self.api("/api/v1/namespaces/objs")[0], 404)
        self.assertEqual(self.api("/apis/apps/v1/namespaces/objs/deployments/web")[0], 404)
        status, body = self.api("/api/v1/namespaces/default", method="DELETE")
        self.assertEqual((status, body["message"]), (403, 'namespaces "default" is forbidden: this namespace may not be deleted'))
        # discovery: unknown groups and kinds are not served
        self.assertEqual(self.api("/apis/cert-manager.io/v1/namespaces/default/certificates")[0], 404)
        status, groups = self.api("/apis")
        self.assertIn("apps", [g["name"] for g in groups["groups"]])

    def test_config_map_mode(self):
        # a cluster made without accessConfig is CONFIG_MAP: only its creator (as kubernetes-admin,
        # in system:masters) and what the aws-auth ConfigMap maps
        eks = self.eks
        eks.create_cluster(name="legacy", version="1.32", roleArn=f"arn:aws:iam::{ACCOUNT}:role/kube-cluster",
                           resourcesVpcConfig={"subnetIds": self.cluster["resourcesVpcConfig"]["subnetIds"]})
        endpoint = eks.describe_cluster(name="legacy")["cluster"]["endpoint"]
        self.assertTrue(endpoint.endswith("/clusters/us-east-1/legacy"), endpoint)

        def call(who, path, method="GET", body=None):
            token = eks_token(self.endpoint, self.keys[who], "legacy")
            req = urllib.request.Request(endpoint + path, method=method, data=json.dumps(body).encode() if body else None,
                                         headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, context=self.tls, timeout=10) as r:
                    return r.status
            except urllib.error.HTTPError as e:
                return e.code

        self.assertEqual(call("admin", "/api/v1/namespaces"), 200)
        self.assertEqual(call("dev", "/api/v1/namespaces"), 401)
        aws_auth = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "aws-auth", "namespace": "kube-system"},
                    "data": {"mapUsers": yaml.safe_dump([{"userarn": f"arn:aws:iam::{ACCOUNT}:user/dev", "username": "dev", "groups": ["devs"]}])}}
        self.assertEqual(call("admin", "/api/v1/namespaces/kube-system/configmaps", "POST", aws_auth), 201)
        binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "devs-view"},
                   "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
                   "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "devs"}]}
        self.assertEqual(call("admin", "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings", "POST", binding), 201)
        self.assertEqual(call("dev", "/api/v1/namespaces/default/pods"), 200)
        self.assertEqual(call("dev", "/api/v1/namespaces/kube-system/pods"), 403)
        self.assertEqual(call("dev", "/api/v1/namespaces/default/secrets"), 403)
        # access entries are refused on a CONFIG_MAP cluster
        with self.assertRaises(eks.exceptions.InvalidRequestException):
            eks.create_access_entry(clusterName="legacy", principalArn=f"arn:aws:iam::{ACCOUNT}:user/viewer")
        eks.delete_cluster(name="legacy")

    # -- authentication and authorization
    def test_anonymous(self):
        # kube-apiserver's anonymous auth, which EKS keeps: /version is public, the rest is 403
        status, body = self.api("/version", who=None)
        self.assertEqual((status, body["major"], body["minor"]), (200, "1", "33"))
        status, body = self.api("/api/v1/namespaces", who=None)
        self.assertEqual(status, 403)
        self.assertEqual(body["message"], 'namespaces is forbidden: User "system:anonymous" cannot list resource "namespaces" in API group "" at the cluster scope')

    def test_bad_tokens(self):
        for token in ("not-a-token", "k8s-aws-v1.bm90IGEgdXJs", eks_token(self.endpoint, self.keys["admin"], "another-cluster")):
            status, body = self.api("/api/v1/namespaces", token=token)
            self.assertEqual((status, body["message"], body["reason"]), (401, "Unauthorized", "Unauthorized"), token)
        # helm says what client-go says of a 401
        kubeconfig = self.write_kubeconfig("admin", cluster_name="another-cluster")
        out = self.helm("status", "api", "--namespace", "apps", "--output", "json", kubeconfig=kubeconfig, check=False)
        self.assertEqual(out.returncode, 1)
        self.assertIn("the server has asked for the client to provide credentials", out.stderr)

    def test_access_entries(self):
        # an IAM user without an access entry is not a user of the cluster
        status, body = self.api("/api/v1/namespaces", who="dev")
        self.assertEqual((status, body["reason"]), (401, "Unauthorized"))
        # with an entry and no policy: authenticated, allowed nothing
        viewer = f"arn:aws:iam::{ACCOUNT}:user/viewer"
        self.eks.create_access_entry(clusterName=CLUSTER, principalArn=viewer)
        time.sleep(PROPAGATION)
        status, body = self.api("/api/v1/namespaces/default/pods", who="viewer")
        self.assertEqual(status, 403)
        self.assertEqual(body["message"], f'pods is forbidden: User "{viewer}" cannot list resource "pods" in API group "" in the namespace "default"')
        status, body = self.api("/apis/apps/v1/namespaces/default/deployments/web", who="viewer")
        self.assertEqual(body["message"], f'deployments.apps "web" is forbidden: User "{viewer}" cannot get resource "deployments" in API group "apps" in the namespace "default"')
        # AmazonEKSViewPolicy in namespace kube-system: pods there, not its secrets, nothing elsewhere
        self.eks.associate_access_policy(
            clusterName=CLUSTER, principalArn=viewer, policyArn="arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy",
            accessScope={"type": "namespace", "namespaces": ["kube-system"]},
        )
        time.sleep(PROPAGATION)
        self.assertEqual(self.api("/api/v1/namespaces/kube-system/pods", who="viewer")[0], 200)
        self.assertEqual(self.api("/api/v1/namespaces/kube-system/secrets", who="viewer")[0], 403)
        self.assertEqual(self.api("/api/v1/namespaces/default/pods", who="viewer")[0], 403)
        status, body = self.api("/api/v1/namespaces/kube-system/configmaps", who="viewer", method="POST",
                                body={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}})
        self.assertEqual(body["message"], f'configmaps is forbidden: User "{viewer}" cannot create resource "configmaps" in API group "" in the namespace "kube-system"')
        # Helm as the viewer: its release storage (secrets) is forbidden
        kubeconfig = self.write_kubeconfig("viewer")
        out = self.helm("status", "api", "--namespace", "kube-system", "--output", "json", kubeconfig=kubeconfig, check=False)
        self.assertEqual(out.returncode, 1)
        self.assertIn(f'secrets is forbidden: User "{viewer}" cannot list resource "secrets"', out.stderr)


if __name__ == "__main__":
    unittest.main()
