"""The controllers of the Kubernetes API emulator (`kube_api.py`): what kube-controller-manager,
kube-scheduler and the kubelets of an EKS cluster's nodes do to its objects, on a clock.

Each runs on every write and a few times a second, for every cluster; times are counted in
"Kubernetes seconds" (`aws_delays.BASE["k8s_second"]` real seconds each at scale 1, times
`CARBONC_EMULATOR_DELAY_SCALE`), so that timelines keep their proportions.

- **Nodes** (read-only `v1/nodes`): `desiredSize` nodes per ACTIVE managed node group, of its
  first instance type, labelled as EKS labels them (`eks.amazonaws.com/nodegroup`,
  `node.kubernetes.io/instance-type`, topology labels, `kubernetes.io/arch`), with the node
  group's taints. Allocatable CPU and memory follow the EKS AMI's kubelet configuration
  (awslabs/amazon-eks-ami nodeadm/internal/kubelet/config.go: kube-reserved CPU 6 % of the first
  core, 1 % of the second, 0.5 % of cores 3-4, 0.25 % above; memory 11 MiB per pod + 255 MiB;
  eviction threshold 100 MiB), max pods from templates/shared/runtime/eni-max-pods.txt; vCPUs and
  memory from the EC2 instance type specifications (`INSTANCES`). A cluster without node groups
  has no nodes; Fargate profiles are not modelled.
- **Scheduler**: a pending pod goes to a node whose allocatable CPU, memory and pod count fit its
  requests (containers' sum, or the largest init container), whose labels match its
  nodeSelector and required node affinity, and whose NoSchedule/NoExecute taints it tolerates;
  else it stays Pending with `PodScheduled=False`, reason `Unschedulable` and kube-scheduler's
  message (`0/2 nodes are available: 2 Insufficient cpu. preemption: ...`), and a
  FailedScheduling event. Pods whose PersistentVolumeClaims are unbound wait likewise.
- **Kubelet**: a scheduled pod is `ContainerCreating` for `POD_START` seconds, then Running and
  Ready (readiness probes are taken to pass: nothing runs); an image reference that does not
  parse is `InvalidImageName` and never starts; a Job's pod Succeeds `JOB_RUN` seconds after it
  starts; a deleted pod terminates after `POD_TERMINATE` seconds (at most its grace period).
- **ReplicaSet, Deployment** (pkg/controller/deployment: rolling update with maxSurge and
  maxUnavailable, Recreate, revision annotations, `pod-template-hash`), with the status kstatus
  reads (observedGeneration, replicas, updatedReplicas, readyReplicas, availableReplicas,
  unavailableReplicas, the Available and Progressing conditions); a rollout that does not
  progress for `progressDeadlineSeconds` gets `Progressing=False`, reason
  `ProgressDeadlineExceeded` (pkg/controller/deployment/progress.go), which kstatus reports as
  Failed and Helm's wait as an error. A rollback to an earlier template reuses its ReplicaSet.
- **StatefulSet** (OrderedReady or Parallel, ordinal pods, rolling update from the highest
  ordinal, ControllerRevisions, currentRevision/updateRevision, PersistentVolumeClaims from
  volumeClaimTemplates), **DaemonSet** (a pod per eligible node), **Job** (parallelism,
  completions, Complete and SuccessCriteriaMet conditions, ttlSecondsAfterFinished).
- **PersistentVolumeClaims** bind after `PVC_BIND` seconds when the cluster has the
  `aws-ebs-csi-driver` add-on ACTIVE and the claim names the `gp2` StorageClass EKS creates (or
  no class on Kubernetes before 1.30, where gp2 was the default); otherwise they stay Pending, as
  on EKS without a provisioner or a default class. A claim of a StorageClass of the EBS CSI
  driver (`ebs.csi.aws.com`) is provisioned as the driver does (aws-ebs-csi-driver
  docs/parameters.md, pkg/cloud/cloud.go CreateDisk; the in-tree `kubernetes.io/aws-ebs`
  provisioner's classes too, as CSI migration hands them to it): `WaitForFirstConsumer` waits for the
  scheduler to pick the pod's node (annotation `volume.kubernetes.io/selected-node`) and creates
  the volume in that node's zone, which must be one of `allowedTopologies`; `type` must be one of
  EBS's volume types; `encrypted` with `kmsKeyId` (a key id, key ARN, alias or alias ARN) needs
  that key to exist in the cluster's account and region and to be Enabled, as EC2 CreateVolume
  does (a key of another region, or one pending deletion, fails with the driver's
  ProvisioningFailed event and the claim stays Pending); the driver's role (its Pod Identity
  association, else the add-on's serviceAccountRoleArn) must be allowed `ec2:CreateVolume` and,
  for a customer managed key, the KMS actions EBS needs (the key's own policy is taken to be the
  default one, which defers to IAM). Not modelled: the scheduler binds the pod to its node before
  the volume exists (Kubernetes waits for the volume and reschedules when provisioning fails). A class of any other provisioner waits for it, as nothing runs it. A StatefulSet's
  claims carry an owner reference to it when its `persistentVolumeClaimRetentionPolicy` says
  `whenDeleted: Delete`, so the garbage collector deletes them with it (KEP-1847).
- **Services** of type LoadBalancer get an ELB hostname after `LB_PROVISION` seconds.
- **Garbage collector**: dependents whose owners are all gone are deleted (background
  propagation); a foreground deletion waits for them; **namespace controller**: a terminating
  namespace's objects are deleted, then the namespace.
"""

from __future__ import annotations

import copy
import fnmatch
import hashlib
import json
import math
import random
import re
import time
import traceback
from typing import Any, Iterator

import aws_delays
import kube_schema as ks
from kube_schema import Resource

# Kubernetes seconds.
CONTROLLER_DELAY = 2  # a controller reacting to a change (informer latency + work queue)
POD_START = 30  # image pull, container start, first readiness probe
POD_TERMINATE = 3  # SIGTERM to exit (capped by terminationGracePeriodSeconds)
JOB_RUN = 20  # a Job's pod runs to completion
PVC_BIND = 20  # the EBS CSI driver creates and binds a volume
LB_PROVISION = 60  # the load balancer of a LoadBalancer Service is provisioned
NAMESPACE_CLEANUP = 5  # the namespace controller's last pass before removing the namespace

# EC2 instance type -> (vCPUs, memory GiB, max pods). vCPUs and memory: Amazon EC2 instance type
# specifications (docs.aws.amazon.com/ec2/latest/instancetypes); max pods: amazon-eks-ami
# eni-max-pods.txt.
INSTANCES: dict[str, tuple[int, float, int]] = {
    "t3.micro": (2, 1, 4), "t3.small": (2, 2, 11), "t3.medium": (2, 4, 17), "t3.large": (2, 8, 35),
    "t3.xlarge": (4, 16, 58), "t3.2xlarge": (8, 32, 58),
    "t3a.small": (2, 2, 8), "t3a.medium": (2, 4, 17), "t3a.large": (2, 8, 35), "t3a.xlarge": (4, 16, 58), "t3a.2xlarge": (8, 32, 58),
    "t4g.small": (2, 2, 11), "t4g.medium": (2, 4, 17), "t4g.large": (2, 8, 35), "t4g.xlarge": (4, 16, 58),
    "m5.large": (2, 8, 29), "m5.xlarge": (4, 16, 58), "m5.2xlarge": (8, 32, 58), "m5.4xlarge": (16, 64, 234),
    "m6i.large": (2, 8, 29), "m6i.xlarge": (4, 16, 58), "m6i.2xlarge": (8, 32, 58), "m6i.4xlarge": (16, 64, 234),
    "m6a.large": (2, 8, 29), "m6a.xlarge": (4, 16, 58), "m6a.2xlarge": (8, 32, 58),
    "m6g.large": (2, 8, 29), "m6g.xlarge": (4, 16, 58), "m6g.2xlarge": (8, 32, 58),
    "m7i.large": (2, 8, 29), "m7i.xlarge": (4, 16, 58), "m7i.2xlarge": (8, 32, 58),
    "m7g.large": (2, 8, 29), "m7g.xlarge": (4, 16, 58), "m7g.2xlarge": (8, 32, 58),
    "c5.large": (2, 4, 29), "c5.xlarge": (4, 8, 58), "c5.2xlarge": (8, 16, 58), "c5.4xlarge": (16, 32, 234),
    "c6i.large": (2, 4, 29), "c6i.xlarge": (4, 8, 58), "c6i.2xlarge": (8, 16, 58),
    "c6g.large": (2, 4, 29), "c6g.xlarge": (4, 8, 58), "c7g.large": (2, 4, 29), "c7g.xlarge": (4, 8, 58),
    "r5.large": (2, 16, 29), "r5.xlarge": (4, 32, 58), "r5.2xlarge": (8, 64, 58),
    "r6i.large": (2, 16, 29), "r6i.xlarge": (4, 32, 58), "r6g.large": (2, 16, 29), "r6g.xlarge": (4, 32, 58),
    "g5.xlarge": (4, 16, 58), "g5.2xlarge": (8, 32, 58), "g5.4xlarge": (16, 64, 234), "g5.8xlarge": (32, 128, 234),
}
SAFE = "bcdfghjklmnpqrstvwxz2456789"  # k8s.io/apimachinery/pkg/util/rand SafeEncodeString's alphabet


def k8s_deadline(seconds: float) -> float:
    return time.monotonic() + seconds * aws_delays.BASE["k8s_second"] * aws_delays.scale()


def _now() -> str:
    import kube_api

    return kube_api.now_rfc3339()


def _hash(obj: Any, n: int = 10) -> str:
    digest = hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).digest()
    return "".join(SAFE[b % len(SAFE)] for b in digest[:n])


def _suffix(n: int = 5) -> str:
    return "".join(random.choices(SAFE, k=n))


def R(group: str, kind: str) -> Resource:
    return ks.BY_KIND[(group, kind)]


POD, NODE, EVENT, NS = R("", "Pod"), R("", "Node"), R("", "Event"), R("", "Namespace")
PVC, SVC, SC = R("", "PersistentVolumeClaim"), R("", "Service"), R("storage.k8s.io", "StorageClass")
DEPLOY, RS, STS, DS, CR = R("apps", "Deployment"), R("apps", "ReplicaSet"), R("apps", "StatefulSet"), R("apps", "DaemonSet"), R("apps", "ControllerRevision")
JOB = R("batch", "Job")


def run_forever(registry: Any) -> None:
    import kube_api

    while True:
        kube_api.KICK.wait(0.1)
        kube_api.KICK.clear()
        for store in registry.all():
            try:
                with store.lock:
                    reconcile(store)
            except Exception as e:
                kube_api.log("controller error: " + "".join(traceback.format_exception(e)))
        time.sleep(0.02)


def reconcile(store: Any) -> None:
    sync_nodes(store)
    namespaces(store)
    garbage_collect(store)
    for d in store.list(DEPLOY):
        deployment(store, d)
    for rs in store.list(RS):
        replicaset(store, rs)
    for s in store.list(STS):
        statefulset(store, s)
    for d in store.list(DS):
        daemonset(store, d)
    for j in store.list(JOB):
        job(store, j)
    for c in store.list(PVC):
        pvc(store, c)
    schedule(store)
    kubelet(store)
    for s in store.list(SVC):
        service(store, s)


def update(store: Any, res: Resource, obj: dict, new: dict, manager: str = "kube-controller-manager", sub: str = "") -> dict:
    """Writes a controller's change if there is one (status changes as the status subresource)."""
    if json.dumps(new, sort_keys=True) == json.dumps(obj, sort_keys=True):
        return obj
    if sub == "status":
        fields = ks.fieldset(store.schemas, store.schemas.root(res), {"status": new.get("status")})
        store.own(res, new, manager, "Update", fields, subresource="status")
    return store.write(res, new, obj)


def set_status(store: Any, res: Resource, obj: dict, status: dict, manager: str = "kube-controller-manager") -> dict:
    new = copy.deepcopy(obj)
    new["status"] = status
    return update(store, res, obj, new, manager, "status")


def create(store: Any, res: Resource, obj: dict, manager: str = "kube-controller-manager") -> dict | None:
    md = obj["metadata"]
    if store.get(res, md.get("namespace", ""), md["name"]) is not None:
        return None
    ns = store.get(NS, "", md.get("namespace", "")) if res.namespaced else None
    if res.namespaced and (ns is None or ns["metadata"].get("deletionTimestamp")):
        return None
    ks.default_object(res, obj)
    return store.create_internal(res, obj, manager)


def owner_ref(res: Resource, obj: dict) -> dict:
    return {"apiVersion": res.group_version, "kind": res.kind, "name": obj["metadata"]["name"], "uid": obj["metadata"]["uid"],
            "controller": True, "blockOwnerDeletion": True}


def owned(store: Any, res: Resource, owner: dict) -> list[dict]:
    uid = owner["metadata"]["uid"]
    return [o for o in store.list(res, owner["metadata"].get("namespace", ""))
            if any(r.get("uid") == uid and r.get("controller") for r in o["metadata"].get("ownerReferences") or [])]


def dependents(store: Any, uid: str) -> Iterator[tuple[Resource, dict]]:
    for r in ks.RESOURCES:
        for o in store.list(r):
            if any(x.get("uid") == uid for x in o["metadata"].get("ownerReferences") or []):
                yield r, o


def deleting(obj: dict) -> bool:
    return bool(obj["metadata"].get("deletionTimestamp"))


def cond(conds: list[dict], ctype: str, status: str, reason: str, message: str, update_time: bool = True) -> list[dict]:
    """Sets a condition, keeping lastTransitionTime when the status does not change."""
    now = _now()
    out = []
    found = False
    for c in conds:
        if c.get("type") == ctype:
            found = True
            n = {"type": ctype, "status": status, "reason": reason, "message": message}
            n["lastTransitionTime"] = c.get("lastTransitionTime", now) if c.get("status") == status else now
            if "lastUpdateTime" in c or update_time:
                n["lastUpdateTime"] = now if (c.get("reason"), c.get("message"), c.get("status")) != (reason, message, status) else c.get("lastUpdateTime", now)
            if not update_time:
                n.pop("lastUpdateTime", None)
            out.append(n)
        else:
            out.append(c)
    if not found:
        n = {"type": ctype, "status": status, "reason": reason, "message": message, "lastTransitionTime": now}
        if update_time:
            n["lastUpdateTime"] = now
        out.append(n)
    return out


def event(store: Any, involved: dict, res: Resource, reason: str, message: str, etype: str = "Warning", component: str = "default-scheduler") -> None:
    md = involved["metadata"]
    ns = md.get("namespace") or "default"
    for e in store.list(EVENT, ns):
        io = e.get("involvedObject") or {}
        if io.get("uid") == md.get("uid") and e.get("reason") == reason and e.get("message") == message:
            new = copy.deepcopy(e)
            new["count"] = (e.get("count") or 1) + 1
            new["lastTimestamp"] = _now()
            store.write(EVENT, new, e)
            return
    obj = {
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": f"{md['name']}.{''.join(random.choices('0123456789abcdef', k=16))}", "namespace": ns},
        "involvedObject": {"kind": res.kind, "namespace": md.get("namespace", ""), "name": md["name"], "uid": md.get("uid"),
                           "apiVersion": res.group_version, "resourceVersion": md.get("resourceVersion")},
        "reason": reason, "message": message, "type": etype, "count": 1,
        "firstTimestamp": _now(), "lastTimestamp": _now(), "source": {"component": component},
        "reportingComponent": component, "reportingInstance": "",
    }
    create(store, EVENT, obj, component)


# ---- nodes -------------------------------------------------------------------------------------


def _reserved_cpu_m(vcpus: int) -> int:
    total = vcpus * 1000
    reserve = 0.0
    for start, end, pct in ((0, 1000, 6), (1000, 2000, 1), (2000, 4000, 0.5), (4000, total, 0.25)):
        if total > start:
            reserve += (min(total, end) - start) * pct / 100
    return int(reserve)


def sync_nodes(store: Any) -> None:
    want: dict[str, dict] = {}
    cluster = store.cluster
    for ng_name, ng in list((getattr(cluster, "nodegroups", None) or {}).items()):
        if getattr(ng, "status", "ACTIVE") not in ("ACTIVE", "UPDATING"):
            continue
        itype = (getattr(ng, "instance_types", None) or ["t3.medium"])[0]
        spec = INSTANCES.get(itype)
        size = int((getattr(ng, "scaling_config", None) or {}).get("desiredSize", 2))
        arch = "arm64" if re.match(r"^[a-z]\d+g", itype) else "amd64"
        for i in range(size):
            digest = hashlib.sha1(f"{ng.arn}/{i}".encode()).digest()
            name = f"ip-10-0-{digest[0]}-{digest[1]}.{store.region}.compute.internal"
            labels = {
                "eks.amazonaws.com/nodegroup": ng_name,
                "eks.amazonaws.com/capacityType": getattr(ng, "capacity_type", "ON_DEMAND") or "ON_DEMAND",
                "node.kubernetes.io/instance-type": itype,
                "beta.kubernetes.io/instance-type": itype,
                "kubernetes.io/arch": arch, "beta.kubernetes.io/arch": arch,
                "kubernetes.io/os": "linux", "beta.kubernetes.io/os": "linux",
                "kubernetes.io/hostname": name,
                "topology.kubernetes.io/region": store.region,
                "topology.kubernetes.io/zone": f"{store.region}{'abc'[i % 3]}",
                **(getattr(ng, "labels", None) or {}),
            }
            taints = [{"key": t.get("key"), "value": t.get("value"), "effect": {"NO_SCHEDULE": "NoSchedule", "NO_EXECUTE": "NoExecute", "PREFER_NO_SCHEDULE": "PreferNoSchedule"}.get(t.get("effect"), t.get("effect"))}
                      for t in getattr(ng, "taints", None) or []]
            if spec is None:
                cpu_m, mem_mi, pods = 0, 0, 0
                capacity = {"cpu": "0", "memory": "0", "pods": "0"}
            else:
                vcpus, gib, pods = spec
                cpu_m = vcpus * 1000 - _reserved_cpu_m(vcpus)
                mem_mi = int(gib * 1024) - (11 * pods + 255) - 100
                capacity = {"cpu": str(vcpus), "memory": f"{int(gib * 1024 * 1024)}Ki", "pods": str(pods)}
            want[name] = {
                "apiVersion": "v1", "kind": "Node",
                "metadata": {"name": name, "labels": labels, "annotations": {"node.alpha.kubernetes.io/ttl": "0"}},
                "spec": {"providerID": f"aws:///{labels['topology.kubernetes.io/zone']}/i-0{digest.hex()[:16]}", **({"taints": taints} if taints else {})},
                "status": {
                    "capacity": capacity,
                    "allocatable": {"cpu": f"{cpu_m}m", "memory": f"{mem_mi}Mi", "pods": str(pods)},
                    "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status"}],
                    "nodeInfo": {"kubeletVersion": f"v{store.version}.5-eks", "architecture": arch, "operatingSystem": "linux",
                                 "containerRuntimeVersion": "containerd://1.7.27", "osImage": "Amazon Linux 2023"},
                    "addresses": [{"type": "InternalIP", "address": f"10.0.{digest[0]}.{digest[1]}"}, {"type": "Hostname", "address": name}],
                },
                "_unknown_type": spec is None and itype,
            }
    have = {n["metadata"]["name"]: n for n in store.list(NODE)}
    for name, n in want.items():
        unknown = n.pop("_unknown_type")
        if unknown and ("unknown-type", name) not in store.internal:
            store.internal[("unknown-type", name)] = True
            import kube_api

            kube_api.log(f"node {name}: instance type {unknown} is not in kube_controllers.INSTANCES: its node has no capacity")
        if name not in have:
            store.create_internal(NODE, n, "kubelet")
    for name, n in have.items():
        if name not in want:
            store.remove(NODE, n)


def node_free(store: Any) -> dict[str, dict]:
    """Per node: allocatable minus what its pods request."""
    out = {}
    for n in store.list(NODE):
        a = n["status"]["allocatable"]
        out[n["metadata"]["name"]] = {"node": n, "cpu": ks.quantity(a["cpu"]) or 0.0, "memory": ks.quantity(a["memory"]) or 0.0, "pods": int(a["pods"])}
    for p in store.list(POD):
        node = (p.get("spec") or {}).get("nodeName")
        if node in out and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed"):
            cpu, mem = pod_requests(p)
            out[node]["cpu"] -= cpu
            out[node]["memory"] -= mem
            out[node]["pods"] -= 1
    return out


def pod_requests(p: dict) -> tuple[float, float]:
    spec = p.get("spec") or {}

    def req(c: dict, name: str) -> float:
        r = (c.get("resources") or {})
        q = (r.get("requests") or {}).get(name, (r.get("limits") or {}).get(name))
        return ks.quantity(q) or 0.0 if q is not None else 0.0

    cpu = sum(req(c, "cpu") for c in spec.get("containers") or [])
    mem = sum(req(c, "memory") for c in spec.get("containers") or [])
    for c in spec.get("initContainers") or []:
        cpu, mem = max(cpu, req(c, "cpu")), max(mem, req(c, "memory"))
    return cpu, mem


def tolerates(pod: dict, taint: dict) -> bool:
    for t in (pod.get("spec") or {}).get("tolerations") or []:
        if t.get("effect") and t.get("effect") != taint.get("effect"):
            continue
        if t.get("operator") == "Exists" and (not t.get("key") or t.get("key") == taint.get("key")):
            return True
        if t.get("key") == taint.get("key") and (t.get("value") or "") == (taint.get("value") or ""):
            return True
    return False


def affinity_ok(pod: dict, labels: dict) -> bool:
    spec = pod.get("spec") or {}
    for k, v in (spec.get("nodeSelector") or {}).items():
        if labels.get(k) != v:
            return False
    terms = ((((spec.get("affinity") or {}).get("nodeAffinity") or {}).get("requiredDuringSchedulingIgnoredDuringExecution") or {}).get("nodeSelectorTerms")) or []
    if not terms:
        return True
    for term in terms:
        ok = True
        for e in term.get("matchExpressions") or []:
            k, op, vals = e.get("key"), e.get("operator"), e.get("values") or []
            have = labels.get(k)
            if (op == "In" and have not in vals) or (op == "NotIn" and have in vals) or (op == "Exists" and k not in labels) or (op == "DoesNotExist" and k in labels):
                ok = False
        if ok:
            return True
    return False


def schedule(store: Any) -> None:
    pending = [p for p in store.list(POD) if not (p.get("spec") or {}).get("nodeName") and not deleting(p)
               and (p.get("status") or {}).get("phase", "Pending") == "Pending"]
    if not pending:
        return
    free = node_free(store)
    for p in pending:
        spec = p.get("spec") or {}
        claims = [v["persistentVolumeClaim"]["claimName"] for v in spec.get("volumes") or [] if isinstance(v, dict) and v.get("persistentVolumeClaim")]
        pod_claims = {c: store.get(PVC, p["metadata"]["namespace"], c) for c in claims}
        delayed = [o for o in pod_claims.values() if o is not None and (o.get("status") or {}).get("phase") != "Bound" and _wait_for_first_consumer(store, o)]
        unbound = [c for c, o in pod_claims.items() if ((o or {}).get("status") or {}).get("phase") != "Bound" and o not in delayed]
        topology: list[str] | None = None
        for o in delayed:
            allowed = _allowed_zones(store.get(SC, "", o["spec"]["storageClassName"]) or {})
            if allowed is not None:
                topology = [z for z in allowed if topology is None or z in topology]
        cpu, mem = pod_requests(p)
        reasons: dict[str, int] = {}
        fits = []
        for name, f in free.items():
            node = f["node"]
            why = None
            untolerated = [t for t in node["spec"].get("taints") or [] if t.get("effect") in ("NoSchedule", "NoExecute") and not tolerates(p, t)]
            if unbound:
                why = None
            elif untolerated:
                t = untolerated[0]
                why = f"node(s) had untolerated taint {{{t['key']}: {t.get('value') or ''}}}"
            elif not affinity_ok(p, node["metadata"].get("labels") or {}):
                why = "node(s) didn't match Pod's node affinity/selector"
            elif topology is not None and (node["metadata"].get("labels") or {}).get("topology.kubernetes.io/zone") not in topology:
                why = "node(s) didn't find available persistent volumes to bind"
            elif f["pods"] < 1:
                why = "Too many pods"
            elif cpu > f["cpu"] + 1e-9:
                why = "Insufficient cpu"
            elif mem > f["memory"] + 1e-3:
                why = "Insufficient memory"
            if why:
                reasons[why] = reasons.get(why, 0) + 1
            elif not unbound:
                fits.append(name)
        if fits:
            best = max(fits, key=lambda n: (free[n]["cpu"], n))
            free[best]["cpu"] -= cpu
            free[best]["memory"] -= mem
            free[best]["pods"] -= 1
            new = copy.deepcopy(p)
            new["spec"]["nodeName"] = best
            node = free[best]["node"]
            st = new.setdefault("status", {})
            st["phase"] = "Pending"
            st["conditions"] = cond(st.get("conditions") or [], "PodScheduled", "True", "", "", update_time=False)
            for c in st["conditions"]:
                if c["type"] == "PodScheduled":
                    c.pop("reason", None)
                    c.pop("message", None)
            st["hostIP"] = node["status"]["addresses"][0]["address"]
            st["hostIPs"] = [{"ip": st["hostIP"]}]
            st["startTime"] = _now()
            st["containerStatuses"] = [
                {"name": c["name"], "image": c.get("image"), "imageID": "", "ready": False, "restartCount": 0, "started": False,
                 "state": {"waiting": {"reason": "ContainerCreating"}}, "lastState": {}}
                for c in spec.get("containers") or []
            ]
            store.internal[("pod-start", p["metadata"]["uid"])] = k8s_deadline(POD_START)
            store.write(POD, new, p)
            for o in delayed:
                claim = copy.deepcopy(o)
                claim["metadata"].setdefault("annotations", {})[SELECTED_NODE] = best
                store.write(PVC, claim, o)
            continue
        total = len(free)
        if unbound:
            msg = f"0/{total} nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/{total} nodes are available: {total} Preemption is not helpful for scheduling."
        elif total == 0:
            msg = "no nodes available to schedule pods"
        else:
            parts = ", ".join(f"{n} {r}" for r, n in sorted(reasons.items(), key=lambda x: x[0]))
            msg = f"0/{total} nodes are available: {parts}. preemption: 0/{total} nodes are available: {total} No preemption victims found for incoming pod."
        st = copy.deepcopy(p.get("status") or {})
        st["phase"] = "Pending"
        st["conditions"] = cond(st.get("conditions") or [], "PodScheduled", "False", "Unschedulable", msg, update_time=False)
        if st != (p.get("status") or {}):
            set_status(store, POD, p, st, "default-scheduler")
            event(store, p, POD, "FailedScheduling", msg)


IMAGE_REF = re.compile(
    r"^(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?/)?"
    r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
    r"(?::[\w][\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$"
)


def kubelet(store: Any) -> None:
    for p in store.list(POD):
        uid = p["metadata"]["uid"]
        st = p.get("status") or {}
        if deleting(p):
            at = store.internal.get(("pod-terminate", uid))
            grace = p["metadata"].get("deletionGracePeriodSeconds", 30)
            if at is None:
                at = store.internal[("pod-terminate", uid)] = k8s_deadline(min(POD_TERMINATE, grace or 0))
            if aws_delays.over(at) and not p["metadata"].get("finalizers"):
                store.remove(POD, p)
                store.internal.pop(("pod-terminate", uid), None)
            continue
        if not (p.get("spec") or {}).get("nodeName"):
            continue
        if store.get(NODE, "", p["spec"]["nodeName"]) is None:
            # the node is gone (its node group deleted or scaled in): the pod GC deletes the pod
            store.remove(POD, p)
            continue
        phase = st.get("phase")
        containers = (p.get("spec") or {}).get("containers") or []
        if phase == "Pending":
            bad = [c for c in containers if not IMAGE_REF.match(c.get("image") or "")]
            if bad:
                new = copy.deepcopy(st)
                new["containerStatuses"] = [
                    {"name": c["name"], "image": c.get("image"), "imageID": "", "ready": False, "restartCount": 0, "started": False,
                     "state": {"waiting": {"reason": "InvalidImageName", "message": f'Failed to apply default image tag "{c.get("image")}": couldn\'t parse image name "{c.get("image")}": invalid reference format'}} if c in bad else {"waiting": {"reason": "ContainerCreating"}},
                     "lastState": {}}
                    for c in containers
                ]
                set_status(store, POD, p, new, "kubelet")
                continue
            volumes = (p.get("spec") or {}).get("volumes") or []
            claims = [v["persistentVolumeClaim"]["claimName"] for v in volumes if isinstance(v, dict) and v.get("persistentVolumeClaim")]
            if any(((store.get(PVC, p["metadata"]["namespace"], c) or {}).get("status") or {}).get("phase") != "Bound" for c in claims):
                continue  # the volume is not provisioned yet: nothing to attach and mount
            if aws_delays.over(store.internal.get(("pod-start", uid), 0)):
                new = copy.deepcopy(st)
                new["phase"] = "Running"
                digest = hashlib.sha1(uid.encode()).digest()
                new["podIP"] = f"10.0.{digest[2]}.{digest[3]}"
                new["podIPs"] = [{"ip": new["podIP"]}]
                started = _now()
                for ctype in ("PodReadyToStartContainers", "Initialized", "ContainersReady", "Ready"):
                    new["conditions"] = cond(new.get("conditions") or [], ctype, "True", "", "", update_time=False)
                for c in new["conditions"]:
                    if c.get("reason") == "":
                        c.pop("reason", None)
                        c.pop("message", None)
                new["containerStatuses"] = [
                    {"name": c["name"], "image": c.get("image"), "imageID": f"{c.get('image')}@sha256:{hashlib.sha256((c.get('image') or '').encode()).hexdigest()}",
                     "containerID": f"containerd://{hashlib.sha256((uid + c['name']).encode()).hexdigest()}",
                     "ready": True, "restartCount": 0, "started": True, "state": {"running": {"startedAt": started}}, "lastState": {}}
                    for c in containers
                ]
                store.internal[("pod-ready-at", uid)] = time.monotonic()
                if _job_owned(p):
                    store.internal[("pod-done", uid)] = k8s_deadline(JOB_RUN)
                set_status(store, POD, p, new, "kubelet")
        elif phase == "Running" and _job_owned(p) and aws_delays.over(store.internal.get(("pod-done", uid), float("inf"))):
            new = copy.deepcopy(st)
            new["phase"] = "Succeeded"
            for ctype in ("Ready", "ContainersReady"):
                new["conditions"] = cond(new.get("conditions") or [], ctype, "False", "PodCompleted", "", update_time=False)
            for cs in new.get("containerStatuses") or []:
                cs["ready"] = False
                cs["started"] = False
                cs["state"] = {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": (cs.get("state") or {}).get("running", {}).get("startedAt"), "finishedAt": _now()}}
            set_status(store, POD, p, new, "kubelet")


def _job_owned(p: dict) -> bool:
    return any(r.get("kind") == "Job" for r in p["metadata"].get("ownerReferences") or [])


def pod_ready(p: dict) -> bool:
    return not deleting(p) and (p.get("status") or {}).get("phase") == "Running" and any(
        c.get("type") == "Ready" and c.get("status") == "True" for c in (p.get("status") or {}).get("conditions") or []
    )


def pod_available(store: Any, p: dict, min_ready: int) -> bool:
    if not pod_ready(p):
        return False
    if not min_ready:
        return True
    at = store.internal.get(("pod-ready-at", p["metadata"]["uid"]))
    return at is not None and time.monotonic() >= at + min_ready * aws_delays.BASE["k8s_second"] * aws_delays.scale()


def new_pod(store: Any, owner_res: Resource, owner: dict, template: dict, name: str, extra_labels: dict | None = None, node: str | None = None) -> dict | None:
    tmpl = copy.deepcopy(template or {})
    md = tmpl.get("metadata") or {}
    labels = {**(md.get("labels") or {}), **(extra_labels or {})}
    pod = {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": owner["metadata"]["namespace"], "labels": labels,
                     **({"annotations": md["annotations"]} if md.get("annotations") else {}),
                     "ownerReferences": [owner_ref(owner_res, owner)]},
        "spec": tmpl.get("spec") or {},
    }
    if node:
        pod["spec"]["nodeName"] = node
    ks.default_object(POD, pod)
    pod["status"] = {"phase": "Pending", "qosClass": "BestEffort"}
    if store.get(POD, pod["metadata"]["namespace"], name) is not None:
        return None
    ns = store.get(NS, "", pod["metadata"]["namespace"])
    if ns is None or deleting(ns):
        return None
    created = store.create_internal(POD, pod, "kube-controller-manager")
    if node:
        store.internal[("pod-start", created["metadata"]["uid"])] = k8s_deadline(POD_START)
    return created


# ---- ReplicaSet --------------------------------------------------------------------------------


def replicaset(store: Any, rs: dict) -> None:
    if deleting(rs):
        return
    spec = rs.get("spec") or {}
    want = spec.get("replicas", 1)
    pods = [p for p in owned(store, POD, rs) if (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")]
    active = [p for p in pods if not deleting(p)]
    if len(active) < want:
        for _ in range(want - len(active)):
            new_pod(store, RS, rs, spec.get("template") or {}, f"{rs['metadata']['name']}-{_suffix()}")
    elif len(active) > want:
        # delete the least useful first: unscheduled, then not ready, then the youngest
        victims = sorted(active, key=lambda p: (bool((p.get("spec") or {}).get("nodeName")), pod_ready(p), p["metadata"]["creationTimestamp"]))
        for p in victims[: len(active) - want]:
            new = copy.deepcopy(p)
            new["metadata"]["deletionTimestamp"] = _now()
            new["metadata"]["deletionGracePeriodSeconds"] = (p.get("spec") or {}).get("terminationGracePeriodSeconds", 30)
            if not (p.get("spec") or {}).get("nodeName"):
                store.remove(POD, p)
            else:
                store.write(POD, new, p)
    pods = owned(store, POD, rs)
    live = [p for p in pods if (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")]
    min_ready = spec.get("minReadySeconds") or 0
    status = {
        "replicas": len(live),
        "fullyLabeledReplicas": len([p for p in live if ks.selector_matches(spec.get("selector"), p["metadata"].get("labels"))]),
        "readyReplicas": len([p for p in live if pod_ready(p)]),
        "availableReplicas": len([p for p in live if pod_available(store, p, min_ready)]),
        "observedGeneration": rs["metadata"].get("generation", 1),
    }
    status["terminatingReplicas"] = len([p for p in live if deleting(p)])
    for k in ("readyReplicas", "availableReplicas", "fullyLabeledReplicas", "terminatingReplicas"):
        if not status[k]:
            del status[k]
    set_status(store, RS, rs, status)


# ---- Deployment --------------------------------------------------------------------------------


def _pct(v: Any, total: int, up: bool) -> int:
    if isinstance(v, int):
        return v
    if isinstance(v, str) and v.endswith("%"):
        x = total * int(v[:-1]) / 100
        return math.ceil(x) if up else math.floor(x)
    return 0


def template_hash(template: dict) -> str:
    t = copy.deepcopy(template)
    (t.get("metadata") or {}).get("labels", {}).pop("pod-template-hash", None)
    return _hash(t)


def deployment(store: Any, d: dict) -> None:
    uid = d["metadata"]["uid"]
    gen = d["metadata"].get("generation", 1)
    seen = store.internal.setdefault(("deploy-seen", uid, gen), k8s_deadline(CONTROLLER_DELAY))
    if not aws_delays.over(seen) or deleting(d):
        return
    spec = d["spec"]
    replicas = spec.get("replicas", 1)
    ns, name = d["metadata"]["namespace"], d["metadata"]["name"]
    h = template_hash(spec.get("template") or {})
    all_rs = owned(store, RS, d)
    new_rs = next((r for r in all_rs if (r["metadata"].get("labels") or {}).get("pod-template-hash") == h), None)
    old_rs = [r for r in all_rs if r is not new_rs]
    revision = max([int((r["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision", "0")) for r in all_rs] + [0])
    strategy = (spec.get("strategy") or {}).get("type", "RollingUpdate")
    ru = (spec.get("strategy") or {}).get("rollingUpdate") or {}
    surge = _pct(ru.get("maxSurge", "25%"), replicas, True) if strategy == "RollingUpdate" else 0
    unavailable = _pct(ru.get("maxUnavailable", "25%"), replicas, False) if strategy == "RollingUpdate" else replicas
    if surge == 0 and unavailable == 0:
        unavailable = 1
    progress_key = ("deploy-progress", uid)
    paused = spec.get("paused")
    created_rs = False
    if new_rs is None and not paused:
        tmpl = copy.deepcopy(spec.get("template") or {})
        tmpl.setdefault("metadata", {}).setdefault("labels", {})["pod-template-hash"] = h
        sel = copy.deepcopy(spec.get("selector") or {})
        sel.setdefault("matchLabels", {})["pod-template-hash"] = h
        rs_obj = {
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": f"{name}-{h}", "namespace": ns, "labels": tmpl["metadata"]["labels"],
                         "annotations": {"deployment.kubernetes.io/revision": str(revision + 1), "deployment.kubernetes.io/desired-replicas": str(replicas),
                                         "deployment.kubernetes.io/max-replicas": str(replicas + surge)},
                         "ownerReferences": [owner_ref(DEPLOY, d)]},
            "spec": {"replicas": 0, "minReadySeconds": spec.get("minReadySeconds", 0), "selector": sel, "template": tmpl},
        }
        new_rs = create(store, RS, rs_obj)
        created_rs = True
        if new_rs is None:
            return
    elif new_rs is not None and old_rs:
        ann = new_rs["metadata"].get("annotations") or {}
        if int(ann.get("deployment.kubernetes.io/revision", "0")) < revision:
            # a rollback to this template: it becomes the newest revision
            n = copy.deepcopy(new_rs)
            n["metadata"].setdefault("annotations", {})["deployment.kubernetes.io/revision"] = str(revision + 1)
            new_rs = update(store, RS, new_rs, n)
    if new_rs is not None and not paused:
        old_total = sum(r["spec"].get("replicas", 0) for r in old_rs)
        old_pods = [p for r in old_rs for p in owned(store, POD, r) if not deleting(p)]
        if strategy == "Recreate":
            for r in old_rs:
                _scale(store, r, 0)
            if not old_pods:
                _scale(store, new_rs, replicas)
        else:
            new_count = new_rs["spec"].get("replicas", 0)
            # scale up the new replica set within maxSurge
            room = replicas + surge - (old_total + new_count)
            if new_count < replicas and room > 0:
                new_count = min(replicas, new_count + room)
                new_rs = _scale(store, new_rs, new_count)
            elif new_count > replicas:
                new_count = replicas
                new_rs = _scale(store, new_rs, new_count)
            # scale down old replica sets within maxUnavailable: unavailable old pods may go at
            # once, available ones only while enough pods stay available
            min_ready = spec.get("minReadySeconds") or 0
            min_available = replicas - unavailable
            new_available = len([p for p in owned(store, POD, new_rs) if pod_available(store, p, min_ready)])
            old_available = len([p for p in old_pods if pod_available(store, p, min_ready)])
            can_remove = max(0, old_available + new_available - min_available)
            for r in sorted(old_rs, key=lambda r: r["metadata"]["creationTimestamp"]):
                cur = r["spec"].get("replicas", 0)
                if cur == 0:
                    continue
                healthy = len([p for p in owned(store, POD, r) if pod_available(store, p, min_ready)])
                unhealthy = max(0, cur - healthy)
                drop = min(cur, unhealthy + can_remove)
                if drop:
                    _scale(store, r, cur - drop)
                    can_remove -= max(0, drop - unhealthy)
        revision_limit = spec.get("revisionHistoryLimit", 10)
        idle = sorted([r for r in owned(store, RS, d) if r is not new_rs and r["spec"].get("replicas", 0) == 0 and r["metadata"]["name"] != new_rs["metadata"]["name"]],
                      key=lambda r: int((r["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision", "0")))
        for r in idle[: max(0, len(idle) - revision_limit)]:
            if not owned(store, POD, r):
                store.remove(RS, r)
    # status
    all_rs = owned(store, RS, d)
    new_rs = next((r for r in all_rs if (r["metadata"].get("labels") or {}).get("pod-template-hash") == h), None)
    min_ready = spec.get("minReadySeconds") or 0
    pods_of = {r["metadata"]["uid"]: [p for p in owned(store, POD, r) if (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")] for r in all_rs}
    total = sum(len([p for p in ps if not deleting(p)]) for ps in pods_of.values())
    updated = len([p for p in pods_of.get(new_rs["metadata"]["uid"], []) if not deleting(p)]) if new_rs else 0
    ready = sum(len([p for p in ps if pod_ready(p)]) for ps in pods_of.values())
    available = sum(len([p for p in ps if pod_available(store, p, min_ready)]) for ps in pods_of.values())
    terminating = sum(len([p for p in ps if deleting(p)]) for ps in pods_of.values())
    status = copy.deepcopy(d.get("status") or {})
    status.update({"observedGeneration": gen, "replicas": total, "updatedReplicas": updated, "readyReplicas": ready, "availableReplicas": available,
                   "unavailableReplicas": max(0, replicas - available)})
    if terminating:
        status["terminatingReplicas"] = terminating
    else:
        status.pop("terminatingReplicas", None)
    for k in ("readyReplicas", "availableReplicas", "unavailableReplicas", "updatedReplicas", "replicas"):
        if not status.get(k):
            status.pop(k, None)
    conds = status.get("conditions") or []
    if available >= replicas - unavailable:
        conds = cond(conds, "Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.")
    else:
        conds = cond(conds, "Available", "False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability.")
    rs_name = new_rs["metadata"]["name"] if new_rs else name
    complete = new_rs is not None and updated == replicas and available == replicas and total == replicas
    # Progress (pkg/controller/deployment/progress.go): any change of the rollout's counts, or a
    # new generation, restarts the progress deadline.
    # The deadline also needs a few passes without progress, so that at
    # CARBONC_EMULATOR_DELAY_SCALE=0 (every phase instant) only a rollout that cannot progress
    # times out.
    signature = (gen, rs_name, updated, ready, available, total)
    last = store.internal.get(progress_key)
    if last is None or last[1] != signature:
        last = (time.monotonic(), signature, 0)
    else:
        last = (last[0], signature, last[2] + 1)
    store.internal[progress_key] = last
    deadline_s = spec.get("progressDeadlineSeconds")
    if paused:
        conds = cond(conds, "Progressing", "Unknown", "DeploymentPaused", "Deployment is paused")
    elif complete:
        conds = cond(conds, "Progressing", "True", "NewReplicaSetAvailable", f'ReplicaSet "{rs_name}" has successfully progressed.')
    elif deadline_s is not None and last[2] >= 3 and time.monotonic() > last[0] + deadline_s * aws_delays.BASE["k8s_second"] * aws_delays.scale():
        conds = cond(conds, "Progressing", "False", "ProgressDeadlineExceeded", f'ReplicaSet "{rs_name}" has timed out progressing.')
    elif created_rs:
        conds = cond(conds, "Progressing", "True", "NewReplicaSetCreated", f'Created new replica set "{rs_name}"')
    else:
        conds = cond(conds, "Progressing", "True", "ReplicaSetUpdated", f'ReplicaSet "{rs_name}" is progressing.')
    status["conditions"] = sorted(conds, key=lambda c: {"Available": 0, "Progressing": 1}.get(c["type"], 2))
    set_status(store, DEPLOY, d, status)


def _scale(store: Any, rs: dict, n: int) -> dict:
    if rs["spec"].get("replicas", 0) == n:
        return rs
    new = copy.deepcopy(rs)
    new["spec"]["replicas"] = n
    new["metadata"]["generation"] = rs["metadata"].get("generation", 1) + 1
    return store.write(RS, new, rs)


# ---- StatefulSet ----------------------------------------------------------------------------------


def statefulset(store: Any, s: dict) -> None:
    if deleting(s):
        return
    uid = s["metadata"]["uid"]
    gen = s["metadata"].get("generation", 1)
    if not aws_delays.over(store.internal.setdefault(("sts-seen", uid, gen), k8s_deadline(CONTROLLER_DELAY))):
        return
    spec = s["spec"]
    ns, name = s["metadata"]["namespace"], s["metadata"]["name"]
    replicas = spec.get("replicas", 1)
    rev = f"{name}-{template_hash(spec.get('template') or {})}"
    if store.get(CR, ns, rev) is None:
        create(store, CR, {"apiVersion": "apps/v1", "kind": "ControllerRevision",
                           "metadata": {"name": rev, "namespace": ns, "labels": dict(((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}),
                                        "ownerReferences": [owner_ref(STS, s)]},
                           "data": {"spec": {"template": spec.get("template")}}, "revision": len(owned(store, CR, s)) + 1})
    parallel = spec.get("podManagementPolicy") == "Parallel"
    pods = {p["metadata"]["name"]: p for p in owned(store, POD, s)}
    # create missing ordinals (in order unless Parallel)
    for i in range(replicas):
        pname = f"{name}-{i}"
        p = pods.get(pname)
        if p is None:
            for t in spec.get("volumeClaimTemplates") or []:
                cname = f"{t['metadata']['name']}-{name}-{i}"
                if store.get(PVC, ns, cname) is None:
                    claim = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                             "metadata": {"name": cname, "namespace": ns, "labels": dict(((spec.get("selector") or {}).get("matchLabels")) or {})},
                             "spec": copy.deepcopy(t.get("spec") or {}), "status": {"phase": "Pending"}}
                    if (spec.get("persistentVolumeClaimRetentionPolicy") or {}).get("whenDeleted") == "Delete":
                        claim["metadata"]["ownerReferences"] = [owner_ref(STS, s)]
                    create(store, PVC, claim)
            tmpl = copy.deepcopy(spec.get("template") or {})
            vols = tmpl.setdefault("spec", {}).setdefault("volumes", [])
            for t in spec.get("volumeClaimTemplates") or []:
                vols.append({"name": t["metadata"]["name"], "persistentVolumeClaim": {"claimName": f"{t['metadata']['name']}-{name}-{i}"}})
            if not vols:
                tmpl["spec"].pop("volumes")
            tmpl["spec"]["hostname"] = pname
            if spec.get("serviceName"):
                tmpl["spec"]["subdomain"] = spec["serviceName"]
            new_pod(store, STS, s, tmpl, pname, {"controller-revision-hash": rev, "statefulset.kubernetes.io/pod-name": pname, "apps.kubernetes.io/pod-index": str(i)})
            if not parallel:
                break
        elif not parallel and not pod_ready(p):
            break
    # scale down from the highest ordinal; roll out from the highest ordinal
    for pname, p in sorted(pods.items(), key=lambda x: -int(x[0].rsplit("-", 1)[1]) if x[0].rsplit("-", 1)[1].isdigit() else 0):
        idx = int(pname.rsplit("-", 1)[1]) if pname.rsplit("-", 1)[1].isdigit() else -1
        if idx >= replicas and not deleting(p):
            _terminate(store, p)
            break
    if (spec.get("updateStrategy") or {}).get("type", "RollingUpdate") == "RollingUpdate":
        partition = ((spec.get("updateStrategy") or {}).get("rollingUpdate") or {}).get("partition", 0)
        current = [p for p in owned(store, POD, s)]
        if all(pod_ready(p) for p in current) and len(current) >= replicas:
            for p in sorted(current, key=lambda p: -int(p["metadata"]["name"].rsplit("-", 1)[1])):
                idx = int(p["metadata"]["name"].rsplit("-", 1)[1])
                if idx >= partition and (p["metadata"].get("labels") or {}).get("controller-revision-hash") != rev:
                    _terminate(store, p)
                    break
    pods = [p for p in owned(store, POD, s)]
    live = [p for p in pods if not deleting(p)]
    updated = len([p for p in live if (p["metadata"].get("labels") or {}).get("controller-revision-hash") == rev])
    old = s.get("status") or {}
    current_rev = old.get("currentRevision") or rev
    if updated == replicas and len(live) == replicas:
        current_rev = rev
    status = {
        "observedGeneration": gen, "replicas": len(live),
        "readyReplicas": len([p for p in live if pod_ready(p)]),
        "availableReplicas": len([p for p in live if pod_available(store, p, spec.get("minReadySeconds") or 0)]),
        "currentReplicas": len([p for p in live if (p["metadata"].get("labels") or {}).get("controller-revision-hash") == current_rev]),
        "updatedReplicas": updated, "currentRevision": current_rev, "updateRevision": rev, "collisionCount": 0,
    }
    for k in ("readyReplicas", "availableReplicas", "currentReplicas", "updatedReplicas"):
        if not status[k]:
            del status[k]
    set_status(store, STS, s, status)


def _terminate(store: Any, p: dict) -> None:
    if not (p.get("spec") or {}).get("nodeName"):
        store.remove(POD, p)
        return
    new = copy.deepcopy(p)
    new["metadata"]["deletionTimestamp"] = _now()
    new["metadata"]["deletionGracePeriodSeconds"] = (p.get("spec") or {}).get("terminationGracePeriodSeconds", 30)
    store.write(POD, new, p)


# ---- DaemonSet ------------------------------------------------------------------------------------


def daemonset(store: Any, d: dict) -> None:
    if deleting(d):
        return
    uid = d["metadata"]["uid"]
    gen = d["metadata"].get("generation", 1)
    if not aws_delays.over(store.internal.setdefault(("ds-seen", uid, gen), k8s_deadline(CONTROLLER_DELAY))):
        return
    spec = d["spec"]
    h = template_hash(spec.get("template") or {})
    tmpl = spec.get("template") or {}
    nodes = [n for n in store.list(NODE)
             if affinity_ok(tmpl, n["metadata"].get("labels") or {})
             and all(tolerates(tmpl, t) for t in n["spec"].get("taints") or [] if t.get("effect") in ("NoSchedule", "NoExecute"))]
    pods = [p for p in owned(store, POD, d)]
    by_node: dict[str, list[dict]] = {}
    for p in pods:
        by_node.setdefault((p.get("spec") or {}).get("nodeName", ""), []).append(p)
    for n in nodes:
        nn = n["metadata"]["name"]
        if not [p for p in by_node.get(nn, []) if not deleting(p)]:
            new_pod(store, DS, d, tmpl, f"{d['metadata']['name']}-{_suffix()}", {"controller-revision-hash": h, "pod-template-generation": str(gen)}, node=nn)
    # rolling update: one old pod at a time when all are ready
    live = [p for p in owned(store, POD, d) if not deleting(p)]
    if all(pod_ready(p) for p in live):
        for p in live:
            if (p["metadata"].get("labels") or {}).get("controller-revision-hash") != h:
                _terminate(store, p)
                break
    live = [p for p in owned(store, POD, d) if not deleting(p)]
    status = {
        "observedGeneration": gen, "desiredNumberScheduled": len(nodes), "currentNumberScheduled": len(live), "numberMisscheduled": 0,
        "numberReady": len([p for p in live if pod_ready(p)]),
        "numberAvailable": len([p for p in live if pod_available(store, p, spec.get("minReadySeconds") or 0)]),
        "updatedNumberScheduled": len([p for p in live if (p["metadata"].get("labels") or {}).get("controller-revision-hash") == h]),
    }
    unavailable = status["desiredNumberScheduled"] - status["numberAvailable"]
    if unavailable > 0:
        status["numberUnavailable"] = unavailable
    set_status(store, DS, d, status)


# ---- Job --------------------------------------------------------------------------------------------


def job(store: Any, j: dict) -> None:
    if deleting(j):
        return
    spec = j["spec"]
    uid = j["metadata"]["uid"]
    st = copy.deepcopy(j.get("status") or {})
    conds = st.get("conditions") or []
    finished = any(c["type"] in ("Complete", "Failed") and c["status"] == "True" for c in conds)
    if finished:
        ttl = spec.get("ttlSecondsAfterFinished")
        if ttl is not None:
            at = store.internal.setdefault(("job-ttl", uid), k8s_deadline(ttl))
            if aws_delays.over(at):
                store.remove(JOB, j)
        return
    if spec.get("suspend"):
        return
    pods = owned(store, POD, j)
    succeeded = len([p for p in pods if (p.get("status") or {}).get("phase") == "Succeeded"])
    failed = len([p for p in pods if (p.get("status") or {}).get("phase") == "Failed"])
    active = [p for p in pods if (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed") and not deleting(p)]
    completions = spec.get("completions", 1)
    parallelism = spec.get("parallelism", 1)
    want = min(parallelism, max(0, completions - succeeded - len(active)) + len(active)) if completions is not None else parallelism
    for _ in range(max(0, want - len(active))):
        new_pod(store, JOB, j, spec.get("template") or {}, f"{j['metadata']['name']}-{_suffix()}",
                {"batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": j["metadata"]["name"],
                 "controller-uid": uid, "job-name": j["metadata"]["name"]})
    st.setdefault("startTime", _now())
    st["active"] = len([p for p in owned(store, POD, j) if (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed") and not deleting(p)])
    st["succeeded"] = succeeded
    st["failed"] = failed
    st["ready"] = len([p for p in active if pod_ready(p)])
    st["terminating"] = 0
    st["uncountedTerminatedPods"] = {}
    if completions is not None and succeeded >= completions:
        st["conditions"] = cond(cond(conds, "SuccessCriteriaMet", "True", "CompletionsReached", "Reached expected number of succeeded pods", False),
                                "Complete", "True", "CompletionsReached", "Reached expected number of succeeded pods", False)
        for c in st["conditions"]:
            c["lastProbeTime"] = c.get("lastTransitionTime")
        st["completionTime"] = _now()
        st["active"] = 0
    for k in ("active", "succeeded", "failed"):
        if not st.get(k):
            st.pop(k, None)
    set_status(store, JOB, j, st)


# ---- PersistentVolumeClaims, Services --------------------------------------------------------------


EBS_VOLUME_TYPES = ("gp2", "gp3", "io1", "io2", "sc1", "st1", "standard")
SELECTED_NODE = "volume.kubernetes.io/selected-node"


def _wait_for_first_consumer(store: Any, claim: dict) -> bool:
    sc = (claim.get("spec") or {}).get("storageClassName")
    cls = store.get(SC, "", sc) if sc and sc != "gp2" else None
    return cls is not None and cls.get("volumeBindingMode") == "WaitForFirstConsumer"


def _allowed_zones(cls: dict) -> list[str] | None:
    zones: list[str] = []
    for term in cls.get("allowedTopologies") or []:
        for e in term.get("matchLabelExpressions") or []:
            if e.get("key") in ("topology.kubernetes.io/zone", "topology.ebs.csi.aws.com/zone"):
                zones.extend(e.get("values") or [])
    return zones or None


EBS_CSI_SERVICE_ACCOUNT = ("kube-system", "ebs-csi-controller-sa")
# What the caller of CreateVolume needs on a customer managed key (Amazon EBS User Guide, "How
# Amazon EBS uses AWS KMS"; aws-ebs-csi-driver docs/install.md, "Set up driver permissions":
# the managed AmazonEBSCSIDriverPolicy has no KMS permissions for customer managed keys).
EBS_KMS_ACTIONS = ("kms:CreateGrant", "kms:GenerateDataKeyWithoutPlaintext", "kms:Decrypt", "kms:DescribeKey")


def _driver_role(store: Any) -> Any:
    """The IAM role the EBS CSI controller runs as: the Pod Identity association of its service
    account, else the add-on's serviceAccountRoleArn (IRSA); None when it has neither (it then
    has no AWS credentials for EC2: the node role's managed policies do not allow CreateVolume)."""
    from moto.iam.models import iam_backends

    arn = None
    for p in (getattr(store.cluster, "carbonc_pod_identities", {}) or {}).values():
        if (p.get("namespace"), p.get("serviceAccount")) == EBS_CSI_SERVICE_ACCOUNT:
            arn = p.get("roleArn")
    if arn is None:
        addon = (getattr(store.cluster, "carbonc_addons", {}) or {}).get("aws-ebs-csi-driver")
        arn = getattr(addon, "service_account_role_arn", None)
    if not arn:
        return None
    iam = iam_backends[store.account]["global"]
    name = arn.rsplit("/", 1)[-1]
    return next((r for r in iam.roles.values() if r.name == name), None)


def _statement_applies(st: dict, action: str, resource: str, context: dict[str, str]) -> bool:
    """Whether one policy statement covers a request: its actions and resources match (IAM's
    case-insensitive `*`/`?` wildcards for actions, case-sensitive for resources), and each of its
    conditions holds on the request's context; a condition on a key the request does not carry
    does not hold (IAM JSON policy reference, "Condition" and "Policy evaluation logic")."""
    def listed(v: Any) -> list:
        return v if isinstance(v, list) else [v]

    def any_match(patterns: Any, value: str, fold: bool) -> bool:
        return any(fnmatch.fnmatchcase(value.lower() if fold else value, str(p).lower() if fold else str(p)) for p in listed(patterns))

    if "Action" in st and not any_match(st["Action"], action, True):
        return False
    if "NotAction" in st and any_match(st["NotAction"], action, True):
        return False
    if "Resource" in st and not any_match(st["Resource"], resource, False):
        return False
    if "NotResource" in st and any_match(st["NotResource"], resource, False):
        return False
    deny = st.get("Effect") == "Deny"
    ctx = {k.lower(): v for k, v in context.items()}  # condition keys are case-insensitive
    for op, tests in (st.get("Condition") or {}).items():
        base = op.split(":", 1)[-1]  # ForAnyValue:/ForAllValues: over a single value
        if_exists = base.endswith("IfExists")
        base = base.removesuffix("IfExists")
        for key, want in tests.items():
            have = ctx.get(key.lower())
            wants = [str(w) for w in listed(want)]
            if base == "Null":
                ok = (have is None) == (wants[0].lower() == "true")
            elif have is None:
                # A missing key: ...IfExists and the negated operators hold, the others do not.
                ok = if_exists or base.startswith(("StringNot", "ArnNot", "NotIp"))
            elif base in ("StringEquals", "ArnEquals"):
                ok = have in wants
            elif base == "StringEqualsIgnoreCase":
                ok = have.lower() in [w.lower() for w in wants]
            elif base in ("StringLike", "ArnLike"):
                ok = any(fnmatch.fnmatchcase(have, w) for w in wants)
            elif base in ("StringNotEquals", "ArnNotEquals"):
                ok = have not in wants
            elif base in ("StringNotLike", "ArnNotLike"):
                ok = not any(fnmatch.fnmatchcase(have, w) for w in wants)
            elif base == "Bool":
                ok = have.lower() in [w.lower() for w in wants]
            else:
                # An operator this evaluation does not know: a Deny applies (refusing more than
                # AWS might), an Allow does not (allowing no more than AWS would).
                ok = deny
            if not ok:
                return False
    return True


def _role_allows(role: Any, action: str, resource: str, context: dict[str, str] | None = None) -> bool:
    """Whether the role's identity policies (attached and inline) allow an action on a resource:
    an explicit Deny wins, and nothing allowed is an implicit deny."""
    docs = []
    for pol in role.managed_policies.values():
        version = next((v for v in pol.versions if v.is_default), None)
        docs.append(version.document if version is not None else pol.document)
    docs += list(role.policies.values())
    allowed = False
    for doc in docs:
        try:
            statements = json.loads(doc)["Statement"] if isinstance(doc, str) else doc["Statement"]
        except (ValueError, KeyError, TypeError):
            continue  # a document that cannot be read allows nothing
        for st in statements if isinstance(statements, list) else [statements]:
            if _statement_applies(st, action, resource, context or {}):
                if st.get("Effect") == "Deny":
                    return False
                allowed = allowed or st.get("Effect") == "Allow"
    return allowed


def _ebs_volume_error(store: Any, params: dict) -> str | None:
    """Why EC2 CreateVolume (through the EBS CSI driver) refuses a class's parameters, or None."""
    role = _driver_role(store)
    volume_arn = f"arn:aws:ec2:{store.region}:{store.account}:volume/*"
    request_tags = {"aws:RequestTag/ebs.csi.aws.com/cluster": "true", "aws:RequestTag/CSIVolumeName": "pvc"}
    if role is None or not _role_allows(role, "ec2:CreateVolume", volume_arn, request_tags):
        who = "no IAM role (no Pod Identity association for kube-system/ebs-csi-controller-sa and no serviceAccountRoleArn)" if role is None else f"role {role.name}"
        return ("rpc error: code = Internal desc = Could not create volume: could not create volume in EC2: operation error EC2: "
                f"CreateVolume, https response error StatusCode: 403, api error UnauthorizedOperation: You are not authorized to perform this operation. (the driver has {who})")
    vtype = params.get("type", "gp3")
    if vtype not in EBS_VOLUME_TYPES:
        return f"rpc error: code = InvalidArgument desc = Could not create volume: invalid VolumeType {vtype!r}"
    key = params.get("kmsKeyId")
    if key:
        if str(params.get("encrypted", "false")).lower() != "true":
            return "rpc error: code = InvalidArgument desc = kmsKeyId is set but encrypted is not \"true\""
        from moto.kms.models import kms_backends

        parts = key.split(":")
        region = parts[3] if key.startswith("arn:") and len(parts) > 5 else store.region
        account = parts[4] if key.startswith("arn:") and len(parts) > 5 else store.account
        kms = kms_backends[store.account][store.region]
        key_id = key.split("/")[-1]
        if ":alias/" in key or key.startswith("alias/"):
            # EC2 takes an alias name or alias ARN for KmsKeyId too.
            key_id = kms.get_key_id_from_alias("alias/" + key.split("alias/", 1)[1]) or ""
        found = None
        if region == store.region and account == store.account:
            found = kms.keys.get(key_id)
        if found is None:
            return (f"rpc error: code = Internal desc = Could not create volume: could not create volume in EC2: operation error EC2: "
                    f"CreateVolume, https response error StatusCode: 400, api error InvalidParameterValue: KMS key {key} was not found "
                    f"in {store.region}: an EBS volume can only be encrypted with a key of its own region")
        if getattr(found, "key_state", "Enabled") != "Enabled":
            return (f"rpc error: code = Internal desc = Could not create volume: could not create volume in EC2: operation error EC2: "
                    f"CreateVolume, api error IncorrectState: KMS key {key} is {found.key_state}")
        missing = [a for a in EBS_KMS_ACTIONS if not _role_allows(role, a, found.arn, {"kms:GrantIsForAWSResource": "true"})]
        if missing:
            # EC2 accepts the call, the volume fails as EBS cannot use the key, and the driver
            # reports the volume gone (aws-ebs-csi-driver FAQ, "InvalidVolume.NotFound" with a
            # customer managed key whose permissions the driver's role lacks).
            return ("rpc error: code = Internal desc = Could not create volume: failed to get an available volume in EC2: "
                    f"InvalidVolume.NotFound: The volume does not exist (EBS could not use KMS key {key}: role {role.name} "
                    f"is not allowed {', '.join(missing)} on it)")
    return None


def pvc(store: Any, c: dict) -> None:
    if deleting(c) or (c.get("status") or {}).get("phase") == "Bound":
        return
    uid = c["metadata"]["uid"]
    sc = (c.get("spec") or {}).get("storageClassName")
    addons = getattr(store.cluster, "carbonc_addons", {}) or {}
    driver = addons.get("aws-ebs-csi-driver")
    if driver is not None:
        driver.settle()
    active = driver is not None and driver.status in ("ACTIVE", "UPDATING")
    if sc and sc != "gp2":
        _pvc_of_class(store, c, sc, active)
        return
    provisionable = active and (sc == "gp2" or (sc is None and store.minor < 30))
    if not provisionable:
        if ("pvc-waiting", uid) not in store.internal:
            store.internal[("pvc-waiting", uid)] = True
            if sc is None and store.minor >= 30:
                event(store, c, PVC, "FailedBinding", "no persistent volumes available for this claim and no storage class is set", "Normal", "persistentvolume-controller")
            else:
                event(store, c, PVC, "ExternalProvisioning", f"Waiting for a volume to be created either by the external provisioner 'ebs.csi.aws.com' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.", "Normal", "persistentvolume-controller")
        return
    at = store.internal.setdefault(("pvc-bind", uid), k8s_deadline(PVC_BIND))
    if not aws_delays.over(at):
        return
    new = copy.deepcopy(c)
    new["spec"]["volumeName"] = f"pvc-{uid}"
    new["spec"].setdefault("storageClassName", "gp2")
    new["status"] = {"phase": "Bound", "accessModes": new["spec"].get("accessModes") or ["ReadWriteOnce"],
                     "capacity": {"storage": ((new["spec"].get("resources") or {}).get("requests") or {}).get("storage", "1Gi")}}
    store.write(PVC, new, c)


def _pvc_of_class(store: Any, c: dict, sc: str, active: bool) -> None:
    uid = c["metadata"]["uid"]

    def once(reason: str, message: str, etype: str = "Warning") -> None:
        if store.internal.get(("pvc-event", uid)) != (reason, message):
            store.internal[("pvc-event", uid)] = (reason, message)
            event(store, c, PVC, reason, message, etype, "persistentvolume-controller")

    cls = store.get(SC, "", sc)
    if cls is None:
        once("ProvisioningFailed", f'storageclass.storage.k8s.io "{sc}" not found')
        return
    provisioner = cls.get("provisioner")
    # The in-tree EBS provisioner's classes go to the EBS CSI driver (CSI migration, on by
    # default since Kubernetes 1.23).
    if provisioner not in ("ebs.csi.aws.com", "kubernetes.io/aws-ebs") or not active:
        once("ExternalProvisioning", f"Waiting for a volume to be created either by the external provisioner '{provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.", "Normal")
        return
    zones = _allowed_zones(cls)
    if cls.get("volumeBindingMode") == "WaitForFirstConsumer":
        node_name = (c["metadata"].get("annotations") or {}).get(SELECTED_NODE)
        if not node_name:
            once("WaitForFirstConsumer", "waiting for first consumer to be created before binding", "Normal")
            return
        node = store.get(NODE, "", node_name) or {}
        zone = ((node.get("metadata") or {}).get("labels") or {}).get("topology.kubernetes.io/zone")
    else:
        zone = (zones or [f"{store.region}a"])[0]
    if zones is not None and zone not in zones:
        once("ProvisioningFailed", f'failed to provision volume with StorageClass "{sc}": rpc error: code = InvalidArgument desc = zone {zone} is not in the allowed topologies {zones}')
        return
    why = _ebs_volume_error(store, cls.get("parameters") or {})
    if why:
        once("ProvisioningFailed", f'failed to provision volume with StorageClass "{sc}": {why}')
        return
    at = store.internal.setdefault(("pvc-bind", uid), k8s_deadline(PVC_BIND))
    if not aws_delays.over(at):
        once("Provisioning", f'External provisioner is provisioning volume for claim "{c["metadata"]["namespace"]}/{c["metadata"]["name"]}"', "Normal")
        return
    new = copy.deepcopy(c)
    new["spec"]["volumeName"] = f"pvc-{uid}"
    new["metadata"].setdefault("annotations", {})["volume.kubernetes.io/storage-provisioner"] = "ebs.csi.aws.com"
    new["status"] = {"phase": "Bound", "accessModes": new["spec"].get("accessModes") or ["ReadWriteOnce"],
                     "capacity": {"storage": ((new["spec"].get("resources") or {}).get("requests") or {}).get("storage", "1Gi")}}
    store.write(PVC, new, c)
    once("ProvisioningSucceeded", f"Successfully provisioned volume pvc-{uid} in {zone}", "Normal")


def service(store: Any, s: dict) -> None:
    if (s.get("spec") or {}).get("type") != "LoadBalancer" or deleting(s):
        return
    if ((s.get("status") or {}).get("loadBalancer") or {}).get("ingress"):
        return
    uid = s["metadata"]["uid"]
    at = store.internal.setdefault(("lb", uid), k8s_deadline(LB_PROVISION))
    if aws_delays.over(at):
        host = f"a{uid.replace('-', '')[:32]}-{random.randint(10**9, 10**10 - 1)}.{store.region}.elb.amazonaws.com"
        set_status(store, SVC, s, {"loadBalancer": {"ingress": [{"hostname": host}]}}, "service-controller")


# ---- garbage collection and namespaces -----------------------------------------------------------------


def garbage_collect(store: Any) -> None:
    uids: dict[str, tuple[Resource, dict]] = {}
    for r in ks.RESOURCES:
        for o in store.list(r):
            uids[o["metadata"]["uid"]] = (r, o)
    for uid, (r, o) in list(uids.items()):
        refs = o["metadata"].get("ownerReferences") or []
        if refs and not deleting(o) and all(ref.get("uid") not in uids for ref in refs):
            if r.kind == "Pod":
                _terminate(store, o)
            else:
                store.remove(r, o)
        # foreground deletion: the owner goes once its blocking dependents are gone
        fin = o["metadata"].get("finalizers") or []
        if deleting(o) and "foregroundDeletion" in fin:
            deps = list(dependents(store, uid))
            for dr, dep in deps:
                if not deleting(dep):
                    if dr.kind == "Pod":
                        _terminate(store, dep)
                    else:
                        new = copy.deepcopy(dep)
                        new["metadata"]["deletionTimestamp"] = _now()
                        if dr.kind in ("ReplicaSet", "ControllerRevision", "Job", "StatefulSet", "Deployment", "DaemonSet"):
                            new["metadata"]["finalizers"] = list(new["metadata"].get("finalizers") or []) + ["foregroundDeletion"]
                        store.write(dr, new, dep)
            if not deps:
                new = copy.deepcopy(o)
                new["metadata"]["finalizers"] = [f for f in fin if f != "foregroundDeletion"]
                if not new["metadata"]["finalizers"]:
                    store.remove(r, o)
                else:
                    store.write(r, new, o)


def namespaces(store: Any) -> None:
    for ns in store.list(NS):
        if not deleting(ns):
            continue
        name = ns["metadata"]["name"]
        left = 0
        for r in ks.RESOURCES:
            if not r.namespaced:
                continue
            for o in store.list(r, name):
                left += 1
                if r.kind == "Pod":
                    if not deleting(o):
                        _terminate(store, o)
                elif not o["metadata"].get("finalizers"):
                    store.remove(r, o)
                elif not deleting(o):
                    new = copy.deepcopy(o)
                    new["metadata"]["deletionTimestamp"] = _now()
                    store.write(r, new, o)
        if left:
            continue
        at = store.internal.setdefault(("ns-cleanup", ns["metadata"]["uid"]), k8s_deadline(NAMESPACE_CLEANUP))
        if aws_delays.over(at) and not ns["metadata"].get("finalizers"):
            store.remove(NS, ns)
