"""A smoke test of a running emulator and of its plugins, with boto3 from the emulator's venv.

    endpoint=$(scripts/emulator start)
    ~/.cache/carbonc/venv/bin/python tests/emulator/smoke.py "$endpoint"
    scripts/emulator stop "$endpoint"

Leaves the server reset. Prints one line per check and `N passed, N failed` at the end; exits 1
when a check failed.
"""

import io
import json
import os
import pathlib
import sys
import time
import urllib.request
import uuid
import zipfile

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
sys.dont_write_bytecode = True
import aws_delays  # noqa: E402

# The emulator's phase lengths, as the server computes them (same environment variable).
DELAY = {k: v * aws_delays.scale() for k, v in aws_delays.BASE.items()}

ENDPOINT = sys.argv[1].rstrip("/") if len(sys.argv) > 1 else "http://127.0.0.1:5000"
passed = failed = 0


def check(name, condition, detail=""):
    global passed, failed
    if condition:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name} {detail}")


def client(service, region="us-east-1"):
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=ENDPOINT,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def post(path):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(urllib.request.Request(ENDPOINT + path, data=b"", method="POST")) as r:
        return r.status


def origin(origin_id, domain):
    return {
        "Id": origin_id,
        "DomainName": domain,
        "CustomOriginConfig": {
            "HTTPPort": 80,
            "HTTPSPort": 443,
            "OriginProtocolPolicy": "https-only",
        },
    }


def distribution_config(target, members=("primary", "secondary")):
    return {
        "CallerReference": str(uuid.uuid4()),
        "Comment": "carbonc emulator smoke test",
        "Enabled": True,
        "Origins": {
            "Quantity": 2,
            "Items": [
                origin("primary", "api.us-east-1.example.com"),
                origin("secondary", "api.eu-west-1.example.com"),
            ],
        },
        "OriginGroups": {
            "Quantity": 1,
            "Items": [
                {
                    "Id": "failover",
                    "FailoverCriteria": {
                        "StatusCodes": {"Quantity": 3, "Items": [500, 502, 503]}
                    },
                    "Members": {
                        "Quantity": len(members),
                        "Items": [{"OriginId": m} for m in members],
                    },
                }
            ],
        },
        "DefaultCacheBehavior": {
            "TargetOriginId": target,
            "ViewerProtocolPolicy": "redirect-to-https",
            "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
        },
    }


def wait_for(condition, seconds=30):
    """Polls `condition` until it holds (an asynchronous phase of the emulator ending)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("timed out waiting for the emulator")
        time.sleep(0.2)


def error_code(call):
    try:
        call()
    except ClientError as e:
        return e.response["Error"]["Code"]
    return None


cf = client("cloudfront")

# The plugin: an origin group as the default target is accepted and comes back unchanged.
created = cf.create_distribution(DistributionConfig=distribution_config("failover"))
dist_id = created["Distribution"]["Id"]
check("create_distribution targeting an origin group", bool(dist_id))
got = cf.get_distribution(Id=dist_id)["Distribution"]["DistributionConfig"]
check(
    "get_distribution returns the group as TargetOriginId",
    got["DefaultCacheBehavior"]["TargetOriginId"] == "failover",
    got["DefaultCacheBehavior"],
)
groups = got["OriginGroups"]
check(
    "get_distribution returns the origin group",
    groups["Quantity"] == 1
    and groups["Items"][0]["Id"] == "failover"
    and [m["OriginId"] for m in groups["Items"][0]["Members"]["Items"]]
    == ["primary", "secondary"],
    json.dumps(groups, default=str),
)
config = cf.get_distribution_config(Id=dist_id)
check(
    "get_distribution_config returns the group as TargetOriginId",
    config["DistributionConfig"]["DefaultCacheBehavior"]["TargetOriginId"] == "failover",
)

# UpdateDistribution goes through the same constructor: switch to an origin and back.
new = config["DistributionConfig"]
new["DefaultCacheBehavior"]["TargetOriginId"] = "primary"
updated = cf.update_distribution(Id=dist_id, IfMatch=config["ETag"], DistributionConfig=new)
check(
    "update_distribution to an origin",
    updated["Distribution"]["DistributionConfig"]["DefaultCacheBehavior"]["TargetOriginId"]
    == "primary",
)
new["DefaultCacheBehavior"]["TargetOriginId"] = "failover"
updated = cf.update_distribution(Id=dist_id, IfMatch=updated["ETag"], DistributionConfig=new)
check(
    "update_distribution back to the origin group",
    updated["Distribution"]["DistributionConfig"]["DefaultCacheBehavior"]["TargetOriginId"]
    == "failover",
)

# AWS's validation is kept: an unknown target, or a group member that is not an origin.
code = error_code(lambda: cf.create_distribution(DistributionConfig=distribution_config("nowhere")))
check("an unknown TargetOriginId is NoSuchOrigin", code == "NoSuchOrigin", code)
code = error_code(
    lambda: cf.create_distribution(
        DistributionConfig=distribution_config("failover", members=("primary", "ghost"))
    )
)
check("a group member that is not an origin is NoSuchOrigin", code == "NoSuchOrigin", code)
# An origin as target still works (moto's own path).
plain = cf.create_distribution(DistributionConfig=distribution_config("secondary"))
check(
    "an origin as TargetOriginId still works",
    plain["Distribution"]["DistributionConfig"]["DefaultCacheBehavior"]["TargetOriginId"]
    == "secondary",
)

# plugins/eks_update_cluster_version.py: one minor version up, in place; skips and downgrades
# are refused as on AWS.
eks = client("eks")
iam_role = "arn:aws:iam::123456789012:role/eks"
# plugins/eks_role_policies.py: the role must exist, trust EKS and carry the managed policy, as
# IAM has propagated them.
code = error_code(lambda: eks.create_cluster(name="smoke", version="1.30", roleArn=iam_role, resourcesVpcConfig={"subnetIds": []}))
check("EKS refuses a role that does not exist", code == "InvalidParameterException", code)
iam = client("iam")
iam.create_role(
    RoleName="eks",
    AssumeRolePolicyDocument=json.dumps(
        {"Statement": [{"Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    ),
)
time.sleep(DELAY["iam_propagation"] + 0.2)
try:
    eks.create_cluster(name="smoke", version="1.30", roleArn=iam_role, resourcesVpcConfig={"subnetIds": []})
    message = ""
except ClientError as e:
    message = e.response["Error"]["Message"]
check("EKS refuses a role without AmazonEKSClusterPolicy", "AmazonEKSClusterPolicy" in message, message)
iam.attach_role_policy(RoleName="eks", PolicyArn="arn:aws:iam::aws:policy/AmazonEKSClusterPolicy")
if DELAY["iam_propagation"] > 0:
    code = error_code(lambda: eks.create_cluster(name="smoke", version="1.30", roleArn=iam_role, resourcesVpcConfig={"subnetIds": []}))
    check("EKS does not see a policy attached a moment ago", code == "InvalidParameterException", code)
time.sleep(DELAY["iam_propagation"] + 0.2)
eks.create_cluster(
    name="smoke",
    version="1.30",
    roleArn=iam_role,
    resourcesVpcConfig={"subnetIds": []},
)
code = error_code(lambda: eks.update_cluster_version(name="smoke", version="1.32"))
check("an EKS version skip is InvalidParameterException", code == "InvalidParameterException", code)
code = error_code(lambda: eks.update_cluster_version(name="smoke", version="1.29"))
check("an EKS downgrade is InvalidParameterException", code == "InvalidParameterException", code)
update = eks.update_cluster_version(name="smoke", version="1.31", clientRequestToken="t1")["update"]
check("UpdateClusterVersion starts a VersionUpdate", update["type"] == "VersionUpdate" and update["status"] == "InProgress", update)
again = eks.update_cluster_version(name="smoke", version="1.31", clientRequestToken="t1")["update"]
check("the same client token returns the same update", again["id"] == update["id"], again)
code = error_code(lambda: eks.update_cluster_version(name="smoke", version="1.31"))
check("an update while one is under way is ResourceInUseException", code == "ResourceInUseException", code)
if DELAY["eks_update"] > 0:
    cluster = eks.describe_cluster(name="smoke")["cluster"]
    check("while it runs the version is the old one", cluster["version"] == "1.30", cluster)
    running = eks.describe_update(name="smoke", updateId=update["id"])["update"]
    check("DescribeUpdate: InProgress", running["status"] == "InProgress", running)
time.sleep(DELAY["eks_update"] + 0.2)
cluster = eks.describe_cluster(name="smoke")["cluster"]
check("then the new version, ACTIVE", (cluster["version"], cluster["status"]) == ("1.31", "ACTIVE"), cluster)
done = eks.describe_update(name="smoke", updateId=update["id"])["update"]
check("DescribeUpdate: Successful", done["status"] == "Successful", done)
config = eks.update_cluster_config(name="smoke", logging={"clusterLogging": [{"types": ["api"], "enabled": True}]})
check("UpdateClusterConfig answers an Update", config["update"]["type"] == "LoggingUpdate", config)
time.sleep(DELAY["eks_update"] + 0.2)
check("ListUpdates lists both, oldest first", eks.list_updates(name="smoke")["updateIds"][0] == update["id"])
code = error_code(lambda: eks.update_cluster_version(name="nope", version="1.31"))
check("an unknown cluster is ResourceNotFoundException", code == "ResourceNotFoundException", code)

# plugins/eks_addons_access.py: add-ons are asynchronous and checked against the cluster's
# version and the add-on's configuration schema; access entries need an API authentication mode.
# (The cluster "smoke" is at 1.31 and was created without `accessConfig`: CONFIG_MAP.)
check("a cluster created without accessConfig is CONFIG_MAP",
      eks.describe_cluster(name="smoke")["cluster"]["accessConfig"]["authenticationMode"] == "CONFIG_MAP")
code = error_code(lambda: eks.create_addon(clusterName="smoke", addonName="no-such-addon"))
check("an add-on EKS does not publish is InvalidParameterException", code == "InvalidParameterException", code)
code = error_code(lambda: eks.create_addon(clusterName="smoke", addonName="kube-proxy", addonVersion="v1.33.0-eksbuild.1"))
check("an add-on version for another Kubernetes version is InvalidParameterException", code == "InvalidParameterException", code)
try:
    eks.create_addon(clusterName="smoke", addonName="vpc-cni", configurationValues=json.dumps({"enableNetworkPolicy": True}))
    message = ""
except ClientError as e:
    message = e.response["Error"]["Message"]
check("a configuration off the add-on's schema is refused with the validator's words",
      "Json schema validation failed" in message and "enableNetworkPolicy" in message, message)
code = error_code(lambda: eks.create_addon(clusterName="smoke", addonName="vpc-cni", configurationValues=json.dumps({"nope": 1})))
check("an unknown configuration key is InvalidParameterException", code == "InvalidParameterException", code)
addon = eks.create_addon(
    clusterName="smoke", addonName="vpc-cni", configurationValues=json.dumps({"enableNetworkPolicy": "true"}), clientRequestToken="a1"
)["addon"]
check("CreateAddon: CREATING, the default version for the cluster",
      addon["status"] == ("CREATING" if DELAY["eks_addon"] > 0 else "ACTIVE") and addon["addonVersion"] == "v1.20.4-eksbuild.2", addon)
again = eks.create_addon(clusterName="smoke", addonName="vpc-cni", clientRequestToken="a1")["addon"]
check("the same client token returns the same add-on", again["addonArn"] == addon["addonArn"], again)
code = error_code(lambda: eks.create_addon(clusterName="smoke", addonName="vpc-cni"))
check("a second vpc-cni is ResourceInUseException", code == "ResourceInUseException", code)
time.sleep(DELAY["eks_addon"] + 0.2)
addon = eks.describe_addon(clusterName="smoke", addonName="vpc-cni")["addon"]
check("then ACTIVE, with its configuration", addon["status"] == "ACTIVE" and "enableNetworkPolicy" in addon["configurationValues"], addon)
update = eks.update_addon(clusterName="smoke", addonName="vpc-cni", configurationValues="")["update"]
check("UpdateAddon answers an AddonUpdate", update["type"] == "AddonUpdate" and update["status"] == "InProgress", update)
code = error_code(lambda: eks.update_addon(clusterName="smoke", addonName="vpc-cni", configurationValues=""))
check("an add-on update while one runs is ResourceInUseException", code == "ResourceInUseException", code)
time.sleep(DELAY["eks_update"] + 0.2)
done = eks.describe_update(name="smoke", updateId=update["id"], addonName="vpc-cni")["update"]
addon = eks.describe_addon(clusterName="smoke", addonName="vpc-cni")["addon"]
check("DescribeUpdate with addonName: Successful, the configuration reset",
      done["status"] == "Successful" and "configurationValues" not in addon, (done, addon))
versions = eks.describe_addon_versions(addonName="coredns", kubernetesVersion="1.31")["addons"][0]["addonVersions"]
check("DescribeAddonVersions lists the versions for a Kubernetes version",
      [v["addonVersion"] for v in versions] == ["v1.11.4-eksbuild.14"], versions)
eks.delete_addon(clusterName="smoke", addonName="vpc-cni")
if DELAY["eks_addon"] > 0:
    status = eks.describe_addon(clusterName="smoke", addonName="vpc-cni")["addon"]["status"]
    check("DeleteAddon: DELETING for a while", status == "DELETING", status)
time.sleep(DELAY["eks_addon"] + 0.2)
code = error_code(lambda: eks.describe_addon(clusterName="smoke", addonName="vpc-cni"))
check("then gone", code == "ResourceNotFoundException", code)
code = error_code(lambda: eks.create_access_entry(clusterName="smoke", principalArn=iam_role))
check("an access entry on a CONFIG_MAP cluster is InvalidRequestException", code == "InvalidRequestException", code)
update = eks.update_cluster_config(name="smoke", accessConfig={"authenticationMode": "API_AND_CONFIG_MAP"})["update"]
check("UpdateClusterConfig accessConfig is an AccessConfigUpdate", update["type"] == "AccessConfigUpdate", update)
time.sleep(DELAY["eks_update"] + 0.2)
code = error_code(lambda: eks.update_cluster_config(name="smoke", accessConfig={"authenticationMode": "CONFIG_MAP"}))
check("the authentication mode does not go back", code == "InvalidParameterException", code)
code = error_code(lambda: eks.create_access_entry(clusterName="smoke", principalArn="arn:aws:iam::123456789012:role/nobody"))
check("an access entry for a role that does not exist is InvalidParameterException", code == "InvalidParameterException", code)
code = error_code(lambda: eks.create_access_entry(clusterName="smoke", principalArn=iam_role, kubernetesGroups=["system:masters"]))
check("a system: group is InvalidParameterException", code == "InvalidParameterException", code)
entry = eks.create_access_entry(clusterName="smoke", principalArn=iam_role, kubernetesGroups=["deployers"])["accessEntry"]
check("CreateAccessEntry: STANDARD, with an ARN", entry["type"] == "STANDARD" and entry["accessEntryArn"].startswith("arn:aws:eks:"), entry)
code = error_code(lambda: eks.create_access_entry(clusterName="smoke", principalArn=iam_role))
check("a second entry for the principal is ResourceInUseException", code == "ResourceInUseException", code)
admin = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
code = error_code(lambda: eks.associate_access_policy(
    clusterName="smoke", principalArn=iam_role, policyArn=admin, accessScope={"type": "namespace"}))
check("a namespace scope without namespaces is InvalidParameterException", code == "InvalidParameterException", code)
code = error_code(lambda: eks.associate_access_policy(
    clusterName="smoke", principalArn=iam_role, policyArn="arn:aws:eks::aws:cluster-access-policy/Nope", accessScope={"type": "cluster"}))
check("an unknown access policy is ResourceNotFoundException", code == "ResourceNotFoundException", code)
eks.associate_access_policy(clusterName="smoke", principalArn=iam_role, policyArn=admin, accessScope={"type": "cluster"})
listed = eks.list_associated_access_policies(clusterName="smoke", principalArn=iam_role)["associatedAccessPolicies"]
check("ListAssociatedAccessPolicies lists it", [p["policyArn"] for p in listed] == [admin], listed)
eks.disassociate_access_policy(clusterName="smoke", principalArn=iam_role, policyArn=admin)
listed = eks.list_associated_access_policies(clusterName="smoke", principalArn=iam_role)["associatedAccessPolicies"]
check("DisassociateAccessPolicy removes it", listed == [], listed)
code = error_code(lambda: eks.create_pod_identity_association(clusterName="smoke", namespace="api", serviceAccount="api", roleArn=iam_role))
check("a Pod Identity role that does not trust pods.eks.amazonaws.com is InvalidParameterException", code == "InvalidParameterException", code)
pods_role = iam.create_role(
    RoleName="pods",
    AssumeRolePolicyDocument=json.dumps({"Statement": [{
        "Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": ["sts:AssumeRole", "sts:TagSession"]}]}),
)["Role"]["Arn"]
if DELAY["iam_propagation"] > 0:
    code = error_code(lambda: eks.create_pod_identity_association(clusterName="smoke", namespace="api", serviceAccount="api", roleArn=pods_role))
    check("EKS does not see a role made a moment ago", code == "InvalidParameterException", code)
time.sleep(DELAY["iam_propagation"] + 0.2)
pia = eks.create_pod_identity_association(clusterName="smoke", namespace="api", serviceAccount="api", roleArn=pods_role)["association"]
check("CreatePodIdentityAssociation: an a- id", pia["associationId"].startswith("a-") and len(pia["associationId"]) == 19, pia)
code = error_code(lambda: eks.create_pod_identity_association(clusterName="smoke", namespace="api", serviceAccount="api", roleArn=pods_role))
check("a second association for the service account is ResourceInUseException", code == "ResourceInUseException", code)
eks.tag_resource(resourceArn=pia["associationArn"], tags={"team": "api"})
tags = eks.list_tags_for_resource(resourceArn=pia["associationArn"])["tags"]
check("TagResource takes an association's ARN", tags == {"team": "api"}, tags)
eks.delete_pod_identity_association(clusterName="smoke", associationId=pia["associationId"])
eks.delete_access_entry(clusterName="smoke", principalArn=iam_role)
check("DeleteAccessEntry removes it", eks.list_access_entries(clusterName="smoke")["accessEntries"] == [])

# plugins/rds_automated_backup_names.py: a cluster deleted and created again under the same
# identifier within a minute; manual snapshots keep AlreadyExists.
rds = client("rds")


def aurora(identifier):
    return rds.create_db_cluster(
        DBClusterIdentifier=identifier,
        Engine="aurora-postgresql",
        MasterUsername="admin",
        MasterUserPassword="password123",
    )["DBCluster"]


aurora("smoke-db")
rds.delete_db_cluster(DBClusterIdentifier="smoke-db", SkipFinalSnapshot=True)
again = aurora("smoke-db")
check("an RDS cluster can be created again at once under its identifier", again["DBClusterIdentifier"] == "smoke-db", again)
rds.create_db_cluster_snapshot(DBClusterIdentifier="smoke-db", DBClusterSnapshotIdentifier="manual-1")
code = error_code(
    lambda: rds.create_db_cluster_snapshot(DBClusterIdentifier="smoke-db", DBClusterSnapshotIdentifier="manual-1")
)
check("a duplicate manual snapshot is still DBClusterSnapshotAlreadyExistsFault", code == "DBClusterSnapshotAlreadyExistsFault", code)

# plugins/rds_global_cluster_members.py: ModifyGlobalCluster.
rds.create_global_cluster(
    GlobalClusterIdentifier="smoke-global", Engine="aurora-postgresql", EngineVersion="15.4", DeletionProtection=True
)
modified = rds.modify_global_cluster(GlobalClusterIdentifier="smoke-global", DeletionProtection=False)["GlobalCluster"]
check("ModifyGlobalCluster switches deletion protection off", modified["DeletionProtection"] is False, modified)
code = error_code(lambda: rds.modify_global_cluster(GlobalClusterIdentifier="smoke-global", EngineVersion="16.4"))
check("a major upgrade without AllowMajorVersionUpgrade is refused", code == "InvalidParameterCombination", code)
code = error_code(lambda: rds.modify_global_cluster(GlobalClusterIdentifier="smoke-global", EngineVersion="14.9"))
check("a downgrade is refused", code == "InvalidParameterCombination", code)
upgraded = rds.modify_global_cluster(
    GlobalClusterIdentifier="smoke-global", EngineVersion="16.4", AllowMajorVersionUpgrade=True
)["GlobalCluster"]
check("a major upgrade with the flag", upgraded["EngineVersion"] == "16.4", upgraded)
code = error_code(lambda: client("rds", "eu-west-1").modify_global_cluster(GlobalClusterIdentifier="nope"))
check("an unknown global cluster is GlobalClusterNotFoundFault", code == "GlobalClusterNotFoundFault", code)
rds.delete_global_cluster(GlobalClusterIdentifier="smoke-global")

# plugins/s3_bucket_versioning_root.py: AWS's root element, with and without a status.
s3 = client("s3")
s3.create_bucket(Bucket="smoke-versioning")
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
with opener.open(ENDPOINT + "/smoke-versioning?versioning") as r:
    xml = r.read().decode()
check("GetBucketVersioning answers <VersioningConfiguration> (never versioned)", "<VersioningConfiguration" in xml and "<Status>" not in xml, xml)
s3.put_bucket_versioning(Bucket="smoke-versioning", VersioningConfiguration={"Status": "Enabled"})
check("... and its Status once enabled", s3.get_bucket_versioning(Bucket="smoke-versioning").get("Status") == "Enabled")
code = error_code(lambda: s3.get_bucket_versioning(Bucket="no-such-bucket"))
check("an unknown bucket is NoSuchBucket", code == "NoSuchBucket", code)

# plugins/kms_key_state.py: a disabled key neither encrypts nor decrypts.
kms = client("kms")
kid = kms.create_key(Description="smoke")["KeyMetadata"]["KeyId"]
blob = kms.generate_data_key(KeyId=kid, KeySpec="AES_256")["CiphertextBlob"]
check("an enabled key decrypts", len(kms.decrypt(CiphertextBlob=blob)["Plaintext"]) == 32)
kms.disable_key(KeyId=kid)
code = error_code(lambda: kms.decrypt(CiphertextBlob=blob))
check("a disabled key does not decrypt (DisabledException)", code == "DisabledException", code)
code = error_code(lambda: kms.generate_data_key(KeyId=kid, KeySpec="AES_256"))
check("a disabled key makes no data key (DisabledException)", code == "DisabledException", code)
kms.enable_key(KeyId=kid)
check("enabled again, it decrypts", len(kms.decrypt(CiphertextBlob=blob)["Plaintext"]) == 32)

# validator.py: requests that break AWS's service model are refused before moto sees them.
strict = boto3.client(
    "iam",
    region_name="us-east-1",
    endpoint_url=ENDPOINT,
    aws_access_key_id="testing",
    aws_secret_access_key="testing",
    config=Config(parameter_validation=False, retries={"max_attempts": 1}),
)
try:
    strict.create_role(RoleName="smoke-tag", AssumeRolePolicyDocument="{}", Tags=[{"Key": "carbon:address", "Value": "role[us-east-1]"}])
    err = {}
except ClientError as e:
    err = e.response["Error"]
check("a tag value with [ is refused by IAM (ValidationError)", err.get("Code") == "ValidationError" and "tags.1.member.value" in err.get("Message", ""), err)
code = error_code(lambda: rds.add_tags_to_resource(ResourceName="arn:aws:rds:us-east-1:123456789012:cluster:x", Tags=[{"Key": "a", "Value": "x[1]"}]))
check("a tag value with [ is refused by RDS (InvalidParameterValue)", code == "InvalidParameterValue", code)
with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(ENDPOINT + "/carbonc-api/validation") as r:
    ledger = json.load(r)
check("the validator counts what it checked", ledger["validated"].get("iam", 0) > 0 and len(ledger["violations"]) >= 2, ledger["validated"])

# plugins/rds_global_cluster_members.py: removal from a global cluster is asynchronous; the
# primary's last instance and a member cluster cannot be deleted meanwhile.
rds_eu = client("rds", "eu-west-1")
rds.create_global_cluster(GlobalClusterIdentifier="smoke-async", Engine="aurora-postgresql", EngineVersion="16.4")
rds.create_db_cluster(
    DBClusterIdentifier="smoke-primary", Engine="aurora-postgresql", EngineVersion="16.4",
    MasterUsername="admin", MasterUserPassword="password123", GlobalClusterIdentifier="smoke-async",
)
secondary = dict(DBClusterIdentifier="smoke-secondary", Engine="aurora-postgresql", EngineVersion="16.4", GlobalClusterIdentifier="smoke-async")
code = error_code(lambda: rds_eu.create_db_cluster(**secondary))
check("a secondary before the primary has a writer instance is InvalidDBClusterStateFault", code == "InvalidDBClusterStateFault", code)
rds.create_db_instance(DBInstanceIdentifier="smoke-primary-1", DBClusterIdentifier="smoke-primary", Engine="aurora-postgresql", DBInstanceClass="db.r6g.large")
arn = rds_eu.create_db_cluster(**secondary)["DBCluster"]["DBClusterArn"]
code = error_code(lambda: rds.delete_db_instance(DBInstanceIdentifier="smoke-primary-1", SkipFinalSnapshot=True))
check("the last instance of the master cluster cannot go while a secondary exists", code == "InvalidDBClusterStateFault", code)
code = error_code(lambda: rds_eu.delete_db_cluster(DBClusterIdentifier="smoke-secondary", SkipFinalSnapshot=True))
check("a member cluster cannot be deleted", code == "InvalidDBClusterStateFault", code)
rds_eu.remove_from_global_cluster(GlobalClusterIdentifier="smoke-async", DbClusterIdentifier=arn)
if DELAY["aurora_promotion"] > 0:
    status = rds_eu.describe_db_clusters(DBClusterIdentifier="smoke-secondary")["DBClusters"][0]["Status"]
    check("a removed secondary is promoting", status == "promoting", status)
    members = rds.describe_global_clusters(GlobalClusterIdentifier="smoke-async")["GlobalClusters"][0]["GlobalClusterMembers"]
    check("and still listed as a member", len(members) == 2, members)
    code = error_code(lambda: rds_eu.delete_db_cluster(DBClusterIdentifier="smoke-secondary", SkipFinalSnapshot=True))
    check("a promoting cluster cannot be deleted", code == "InvalidDBClusterStateFault", code)
time.sleep(DELAY["aurora_promotion"] + 0.2)
status = rds_eu.describe_db_clusters(DBClusterIdentifier="smoke-secondary")["DBClusters"][0]["Status"]
check("after the promotion it is available", status == "available", status)
code = error_code(lambda: rds_eu.remove_from_global_cluster(GlobalClusterIdentifier="smoke-async", DbClusterIdentifier=arn))
check("removing it again is InvalidParameterValue (not found in global cluster)", code == "InvalidParameterValue", code)
code = error_code(lambda: rds_eu.remove_from_global_cluster(GlobalClusterIdentifier="smoke-async", DbClusterIdentifier=arn.replace("smoke-secondary", "smoke-nothing")))
check("removing a cluster that does not exist is DBClusterNotFoundFault", code == "DBClusterNotFoundFault", code)
rds_eu.delete_db_cluster(DBClusterIdentifier="smoke-secondary", SkipFinalSnapshot=True)
rds.delete_db_instance(DBInstanceIdentifier="smoke-primary-1", SkipFinalSnapshot=True)

# plugins/rds_modifications.py: a modification is pending, then runs, then is done.
rds.create_db_cluster(DBClusterIdentifier="smoke-modify", Engine="aurora-postgresql", EngineVersion="16.8", MasterUsername="admin", MasterUserPassword="password123")
rds.describe_db_clusters(DBClusterIdentifier="smoke-modify")
rds.modify_db_cluster(DBClusterIdentifier="smoke-modify", EngineVersion="16.9", ApplyImmediately=True)
if DELAY["rds_modify"] > 0:
    c = rds.describe_db_clusters(DBClusterIdentifier="smoke-modify")["DBClusters"][0]
    check("a modified cluster lists the change as pending", c.get("PendingModifiedValues", {}).get("EngineVersion") == "16.9" and c["EngineVersion"] == "16.8", c)
    code = error_code(lambda: rds.modify_db_cluster(DBClusterIdentifier="smoke-modify", EngineVersion="16.10", ApplyImmediately=True))
    check("a second modification meanwhile is InvalidDBClusterStateFault", code == "InvalidDBClusterStateFault", code)
time.sleep(DELAY["rds_modify"] + 0.2)
c = rds.describe_db_clusters(DBClusterIdentifier="smoke-modify")["DBClusters"][0]
check("then it runs the new version, nothing pending", (c["Status"], c["EngineVersion"], c.get("PendingModifiedValues")) == ("available", "16.9", None), c)
rds.delete_db_cluster(DBClusterIdentifier="smoke-modify", SkipFinalSnapshot=True)
code = error_code(lambda: rds.modify_global_cluster(GlobalClusterIdentifier="smoke-async", EngineVersion="16.9"))
check("a minor version through ModifyGlobalCluster is InvalidParameterValue", code == "InvalidParameterValue", code)

# plugins/elasticache_global_datastore.py: creating -> primary-only -> modifying -> available.
ec = client("elasticache")
ec_eu = client("elasticache", "eu-west-1")
ec.create_replication_group(ReplicationGroupId="smoke-p", ReplicationGroupDescription="p", Engine="redis", CacheNodeType="cache.r7g.large")
code = error_code(lambda: ec.create_replication_group(ReplicationGroupId="smoke-s", ReplicationGroupDescription="s", Engine="redis", CacheNodeType="cache.r7g.large", NumNodeGroups=2))
check("two shards without cluster mode are InvalidParameterCombination", code == "InvalidParameterCombination", code)
gid = ec.create_global_replication_group(GlobalReplicationGroupIdSuffix="smoke", PrimaryReplicationGroupId="smoke-p")["GlobalReplicationGroup"]["GlobalReplicationGroupId"]


def datastore_status():
    return ec.describe_global_replication_groups(GlobalReplicationGroupId=gid)["GlobalReplicationGroups"][0]["Status"]


if DELAY["datastore_creating"] > 0:
    check("a new Global Datastore is creating", datastore_status() == "creating", datastore_status())
    code = error_code(lambda: ec_eu.create_replication_group(ReplicationGroupId="smoke-s", ReplicationGroupDescription="s", GlobalReplicationGroupId=gid))
    check("no secondary while it is creating", code == "InvalidGlobalReplicationGroupState", code)
time.sleep(DELAY["datastore_creating"] + 0.2)
check("with only its primary it is primary-only", datastore_status() == "primary-only", datastore_status())
code = error_code(lambda: ec_eu.create_replication_group(ReplicationGroupId="smoke-s", ReplicationGroupDescription="s", GlobalReplicationGroupId=gid, CacheNodeType="cache.r7g.large"))
check("a secondary may not set its node type", code == "InvalidParameterCombination", code)
ec_eu.create_replication_group(ReplicationGroupId="smoke-s", ReplicationGroupDescription="s", GlobalReplicationGroupId=gid)
if DELAY["datastore_modifying"] > 0:
    check("adding a secondary makes it modifying", datastore_status() == "modifying", datastore_status())
time.sleep(DELAY["datastore_modifying"] + 0.2)
check("then available", datastore_status() == "available", datastore_status())
code = error_code(lambda: ec_eu.modify_replication_group(ReplicationGroupId="smoke-s", CacheNodeType="cache.r7g.xlarge", ApplyImmediately=True))
check("a member's node type cannot change by itself", code == "InvalidParameterValue", code)
code = error_code(lambda: ec_eu.modify_replication_group(ReplicationGroupId="smoke-s", AutomaticFailoverEnabled=False, ApplyImmediately=True))
check("nor its automatic failover, the datastore's", code == "InvalidParameterValue", code)
ec.modify_global_replication_group(GlobalReplicationGroupId=gid, CacheNodeType="cache.r7g.xlarge", ApplyImmediately=True)
if DELAY["datastore_modify"] > 0:
    check("ModifyGlobalReplicationGroup makes it modifying", datastore_status() == "modifying", datastore_status())
time.sleep(DELAY["datastore_modify"] + 0.2)
nodes = ec_eu.describe_replication_groups(ReplicationGroupId="smoke-s")["ReplicationGroups"][0]["CacheNodeType"]
check("then every member has the new node type", nodes == "cache.r7g.xlarge", nodes)
ec_eu.disassociate_global_replication_group(GlobalReplicationGroupId=gid, ReplicationGroupId="smoke-s", ReplicationGroupRegion="eu-west-1")
if DELAY["datastore_modifying"] > 0:
    code = error_code(lambda: ec_eu.delete_replication_group(ReplicationGroupId="smoke-s"))
    check("a disassociating secondary cannot be deleted yet", code == "InvalidReplicationGroupState", code)
    code = error_code(lambda: ec.delete_global_replication_group(GlobalReplicationGroupId=gid, RetainPrimaryReplicationGroup=True))
    check("nor the Global Datastore", code == "InvalidGlobalReplicationGroupState", code)
time.sleep(2 * DELAY["datastore_modifying"] + 0.3)
ec_eu.delete_replication_group(ReplicationGroupId="smoke-s")
ec.delete_global_replication_group(GlobalReplicationGroupId=gid, RetainPrimaryReplicationGroup=True)
time.sleep(DELAY["datastore_modifying"] + 0.2)
ec.delete_replication_group(ReplicationGroupId="smoke-p")
check("after the phases everything can be deleted", True)

# plugins/elasticache_global_datastore.py: shards, replicas and AUTH tokens change asynchronously.
code = error_code(lambda: ec.increase_node_groups_in_global_replication_group(GlobalReplicationGroupId="ldgnf-none", NodeGroupCount=2, ApplyImmediately=True))
check("shards of an unknown Global Datastore are GlobalReplicationGroupNotFoundFault", code == "GlobalReplicationGroupNotFoundFault", code)


def group(rg_id):
    return ec.describe_replication_groups(ReplicationGroupId=rg_id)["ReplicationGroups"][0]


def after_change():
    time.sleep(DELAY["elasticache_modify"] + 0.2)


ec.create_replication_group(
    ReplicationGroupId="smoke-shape", ReplicationGroupDescription="s", Engine="redis", CacheNodeType="cache.r7g.large",
    NumNodeGroups=2, ReplicasPerNodeGroup=1, ClusterMode="enabled", TransitEncryptionEnabled=True, AuthToken="a" * 16,
)
code = error_code(lambda: ec.modify_replication_group_shard_configuration(ReplicationGroupId="smoke-shape", NodeGroupCount=1, ApplyImmediately=True))
check("fewer shards without naming which is InvalidParameterValue", code == "InvalidParameterValue", code)
ec.modify_replication_group_shard_configuration(ReplicationGroupId="smoke-shape", NodeGroupCount=3, ApplyImmediately=True)
if DELAY["elasticache_modify"] > 0:
    check("resharding makes the group modifying", group("smoke-shape")["Status"] == "modifying", group("smoke-shape")["Status"])
    code = error_code(lambda: ec.increase_replica_count(ReplicationGroupId="smoke-shape", NewReplicaCount=2, ApplyImmediately=True))
    check("another change meanwhile is InvalidReplicationGroupState", code == "InvalidReplicationGroupState", code)
after_change()
shards = [g["NodeGroupId"] for g in group("smoke-shape")["NodeGroups"]]
check("then it has three shards", shards == ["0001", "0002", "0003"], shards)
ec.increase_replica_count(ReplicationGroupId="smoke-shape", NewReplicaCount=2, ApplyImmediately=True)
after_change()
sizes = [len(g["NodeGroupMembers"]) for g in group("smoke-shape")["NodeGroups"]]
check("IncreaseReplicaCount gives every shard its replicas", sizes == [3, 3, 3], sizes)
code = error_code(lambda: ec.decrease_replica_count(ReplicationGroupId="smoke-shape", NewReplicaCount=2, ApplyImmediately=True))
check("the count it already has is NoOperationFault", code == "NoOperationFault", code)
ec.modify_replication_group_shard_configuration(ReplicationGroupId="smoke-shape", NodeGroupCount=2, NodeGroupsToRemove=["0002"], ApplyImmediately=True)
after_change()
shards = [g["NodeGroupId"] for g in group("smoke-shape")["NodeGroups"]]
check("NodeGroupsToRemove takes those shards away", shards == ["0001", "0003"], shards)
code = error_code(lambda: ec.modify_replication_group(ReplicationGroupId="smoke-shape", AuthToken="b" * 16, ApplyImmediately=True))
check("a new AUTH token without its update strategy is InvalidParameterCombination", code == "InvalidParameterCombination", code)
code = error_code(lambda: ec.modify_replication_group(ReplicationGroupId="smoke-shape", AuthToken="b" * 16, AuthTokenUpdateStrategy="SET", ApplyImmediately=True))
check("SET before any ROTATE is InvalidParameterCombination", code == "InvalidParameterCombination", code)
token_date = group("smoke-shape")["AuthTokenLastModifiedDate"]
ec.modify_replication_group(ReplicationGroupId="smoke-shape", AuthToken="b" * 16, AuthTokenUpdateStrategy="ROTATE", ApplyImmediately=True)
after_change()
check("ROTATE changes the token", group("smoke-shape")["AuthTokenLastModifiedDate"] > token_date, group("smoke-shape"))
ec.delete_replication_group(ReplicationGroupId="smoke-shape")
ec.create_replication_group(
    ReplicationGroupId="smoke-plain", ReplicationGroupDescription="s", Engine="redis", CacheNodeType="cache.r7g.large",
    ReplicasPerNodeGroup=1, AutomaticFailoverEnabled=True, MultiAZEnabled=True,
)
code = error_code(lambda: ec.modify_replication_group_shard_configuration(ReplicationGroupId="smoke-plain", NodeGroupCount=2, ApplyImmediately=True))
check("shards of a cluster-mode-disabled group cannot change", code == "InvalidParameterValue", code)
code = error_code(lambda: ec.decrease_replica_count(ReplicationGroupId="smoke-plain", NewReplicaCount=0, ApplyImmediately=True))
check("Multi-AZ keeps at least one replica", code == "InvalidParameterValue", code)
code = error_code(lambda: ec.modify_replication_group(ReplicationGroupId="smoke-plain", AuthToken="b" * 16, AuthTokenUpdateStrategy="ROTATE", ApplyImmediately=True))
check("an AUTH token without transit encryption is InvalidParameterCombination", code == "InvalidParameterCombination", code)
ec.delete_replication_group(ReplicationGroupId="smoke-plain")

# plugins/duplicate_names.py: a taken name is refused, as on AWS.
rds_dup = client("rds")
ec2_dup = client("ec2")
dup_vpc = ec2_dup.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
dup_subnets = [
    ec2_dup.create_subnet(VpcId=dup_vpc, CidrBlock=f"10.8.{i}.0/24", AvailabilityZone=f"us-east-1{az}")["Subnet"]["SubnetId"]
    for i, az in enumerate("ab")
]
for name, create, expected in [
    ("a DB subnet group", lambda: rds_dup.create_db_subnet_group(DBSubnetGroupName="smoke-dup", DBSubnetGroupDescription="d", SubnetIds=dup_subnets), "DBSubnetGroupAlreadyExists"),
    ("a DB cluster", lambda: rds_dup.create_db_cluster(DBClusterIdentifier="smoke-dup", Engine="aurora-postgresql", MasterUsername="u", MasterUserPassword="password123"), "DBClusterAlreadyExistsFault"),
    ("a global cluster", lambda: rds_dup.create_global_cluster(GlobalClusterIdentifier="smoke-dup", Engine="aurora-postgresql"), "GlobalClusterAlreadyExistsFault"),
    ("a WAF IP set", lambda: client("wafv2").create_ip_set(Name="smoke-dup", Scope="REGIONAL", IPAddressVersion="IPV4", Addresses=[]), "WAFDuplicateItemException"),
    ("a WAF web ACL", lambda: client("wafv2").create_web_acl(Name="smoke-dup", Scope="REGIONAL", DefaultAction={"Allow": {}}, VisibilityConfig={"SampledRequestsEnabled": False, "CloudWatchMetricsEnabled": False, "MetricName": "m"}), "WAFDuplicateItemException"),
]:
    create()
    code = error_code(create)
    check(f"{name} under a taken name is {expected}", code == expected, code)
code = error_code(lambda: client("rds", "eu-west-1").create_global_cluster(GlobalClusterIdentifier="smoke-dup", Engine="aurora-postgresql"))
check("a global cluster's name is taken in every region", code == "GlobalClusterAlreadyExistsFault", code)
rds_dup.delete_db_cluster(DBClusterIdentifier="smoke-dup", SkipFinalSnapshot=True)
rds_dup.delete_global_cluster(GlobalClusterIdentifier="smoke-dup")
rds_dup.delete_db_subnet_group(DBSubnetGroupName="smoke-dup")

# plugins/rds_global_cluster_tags.py: global clusters keep tags; the tag APIs take their ARN.
rds_tags = client("rds", "eu-west-1")
arn = rds_tags.create_global_cluster(GlobalClusterIdentifier="smoke-tags", Engine="aurora-postgresql", Tags=[{"Key": "team", "Value": "db"}])["GlobalCluster"]["GlobalClusterArn"]
listed = [
    g.get("TagList")
    for g in client("rds").describe_global_clusters()["GlobalClusters"]
    if g["GlobalClusterIdentifier"] == "smoke-tags"
][0]
check("CreateGlobalCluster keeps its tags", listed == [{"Key": "team", "Value": "db"}], listed)
rds_tags.add_tags_to_resource(ResourceName=arn, Tags=[{"Key": "env", "Value": "test"}])
rds_tags.remove_tags_from_resource(ResourceName=arn, TagKeys=["team"])
listed = client("rds", "ap-southeast-1").list_tags_for_resource(ResourceName=arn)["TagList"]
check("the tag APIs take the regionless ARN in any region", listed == [{"Key": "env", "Value": "test"}], listed)
client("rds").delete_global_cluster(GlobalClusterIdentifier="smoke-tags")

# plugins/elasticache_member_clusters.py: a replication group's members are cache clusters.
ec.create_replication_group(
    ReplicationGroupId="smoke-members", ReplicationGroupDescription="m", Engine="redis", CacheNodeType="cache.r7g.large",
    EngineVersion="7.1", ReplicasPerNodeGroup=1, PreferredMaintenanceWindow="sun:05:00-sun:06:00",
)
first = group("smoke-members")["MemberClusters"][0]
member = ec.describe_cache_clusters(CacheClusterId=first)["CacheClusters"][0]
check(
    "DescribeCacheClusters describes a member",
    (member["ReplicationGroupId"], member["EngineVersion"], member["CacheParameterGroup"]["CacheParameterGroupName"])
    == ("smoke-members", "7.1", "default.redis7"),
    member,
)
ec.modify_replication_group(ReplicationGroupId="smoke-members", PreferredMaintenanceWindow="tue:02:00-tue:03:00", ApplyImmediately=True)
member = ec.describe_cache_clusters(CacheClusterId=first)["CacheClusters"][0]
check("ModifyReplicationGroup changes the members' window", member["PreferredMaintenanceWindow"] == "tue:02:00-tue:03:00", member)
ec.delete_replication_group(ReplicationGroupId="smoke-members")

# plugins/kms_rotation_period.py and rds_performance_insights.py: settings AWS reports back.
kms_period = client("kms")
rotated = kms_period.create_key()["KeyMetadata"]["KeyId"]
kms_period.enable_key_rotation(KeyId=rotated, RotationPeriodInDays=180)
status = kms_period.get_key_rotation_status(KeyId=rotated)
check("GetKeyRotationStatus reports the rotation period", status.get("RotationPeriodInDays") == 180, status)
rds_pi = client("rds")
rds_pi.create_db_cluster(DBClusterIdentifier="smoke-pi", Engine="aurora-postgresql", MasterUsername="u", MasterUserPassword="password123")
rds_pi.create_db_instance(DBInstanceIdentifier="smoke-pi-0", DBClusterIdentifier="smoke-pi", Engine="aurora-postgresql", DBInstanceClass="db.r7g.large", EnablePerformanceInsights=True)
pi = rds_pi.describe_db_instances(DBInstanceIdentifier="smoke-pi-0")["DBInstances"][0].get("PerformanceInsightsEnabled")
check("DescribeDBInstances reports PerformanceInsightsEnabled", pi is True, pi)
rds_pi.delete_db_instance(DBInstanceIdentifier="smoke-pi-0")
rds_pi.delete_db_cluster(DBClusterIdentifier="smoke-pi", SkipFinalSnapshot=True)

# plugins/ec2_network_dependencies.py: NAT without an internet gateway fails; ENIs linger.
ec2 = client("ec2")
vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
nat = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=eip)["NatGateway"]
check("a NAT gateway without an internet gateway fails with Gateway.NotAttached", (nat["State"], nat.get("FailureCode")) == ("failed", "Gateway.NotAttached"), nat)
igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
nat = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=eip)["NatGateway"]["NatGatewayId"]
code = error_code(lambda: ec2.detach_internet_gateway(InternetGatewayId=igw, VpcId=vpc))
check("the IGW cannot be detached while the NAT maps a public address", code == "DependencyViolation", code)
ec2.delete_nat_gateway(NatGatewayId=nat)
if DELAY["eni_release"] > 0:
    code = error_code(lambda: ec2.delete_subnet(SubnetId=subnet))
    check("a subnet whose NAT ENI is being released is DependencyViolation", code == "DependencyViolation", code)
time.sleep(DELAY["eni_release"] + 0.2)
state = ec2.describe_nat_gateways(NatGatewayIds=[nat])["NatGateways"][0]["State"]
check("the NAT gateway ends deleted", state == "deleted", state)
ec2.detach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
ec2.delete_subnet(SubnetId=subnet)
check("then the IGW detaches and the subnet goes", True)

# plugins/wafv2_eventual_consistency.py: a new IP set cannot be referenced at once.
waf = client("wafv2")
ip_set = waf.create_ip_set(Name="smoke", Scope="REGIONAL", IPAddressVersion="IPV4", Addresses=["10.0.0.0/8"])["Summary"]["ARN"]
acl = dict(
    Name="smoke-eventual", Scope="REGIONAL", DefaultAction={"Block": {}},
    VisibilityConfig={"SampledRequestsEnabled": False, "CloudWatchMetricsEnabled": False, "MetricName": "smoke"},
    Rules=[{
        "Name": "allow", "Priority": 0, "Action": {"Allow": {}},
        "Statement": {"IPSetReferenceStatement": {"ARN": ip_set}},
        "VisibilityConfig": {"SampledRequestsEnabled": False, "CloudWatchMetricsEnabled": False, "MetricName": "allow"},
    }],
)
if DELAY["waf_propagation"] > 0:
    code = error_code(lambda: waf.create_web_acl(**acl))
    check("a web ACL on a new IP set is WAFUnavailableEntityException", code == "WAFUnavailableEntityException", code)
time.sleep(DELAY["waf_propagation"] + 0.2)
check("a moment later it is accepted", "Summary" in waf.create_web_acl(**acl))

# plugins/cloudwatch_alarms.py: alarms as strict as AWS, composite alarms.
sns_e, sns_w = client("sns"), client("sns", "eu-west-1")
topic_e = sns_e.create_topic(Name="smoke-alarms")["TopicArn"]
topic_w = sns_w.create_topic(Name="smoke-alarms")["TopicArn"]
cw = client("cloudwatch")
alarm = dict(
    AlarmName="smoke-lag", Namespace="AWS/RDS", MetricName="AuroraGlobalDBReplicationLag",
    Dimensions=[{"Name": "DBClusterIdentifier", "Value": "db"}], Statistic="Average",
    Period=60, EvaluationPeriods=3, Threshold=1000.0,
    ComparisonOperator="GreaterThanOrEqualToThreshold", AlarmActions=[topic_e],
    Tags=[{"Key": "team", "Value": "data"}],
)
code = error_code(lambda: cw.put_metric_alarm(**{**alarm, "AlarmActions": [topic_w]}))
check("an alarm action in another region is ValidationError", code == "ValidationError", code)
code = error_code(lambda: cw.put_metric_alarm(**{**alarm, "DatapointsToAlarm": 4}))
check("more datapoints to alarm than periods is ValidationError", code == "ValidationError", code)
code = error_code(lambda: cw.put_metric_alarm(**{**alarm, "Period": 45}))
check("a period of 45 s is ValidationError", code == "ValidationError", code)
code = error_code(lambda: cw.put_metric_alarm(**{**alarm, "TreatMissingData": "zero"}))
check("an unknown TreatMissingData is ValidationError", code == "ValidationError", code)
cw.put_metric_alarm(**alarm)
got = cw.describe_alarms(AlarmNames=["smoke-lag"])["MetricAlarms"][0]
check("a new alarm is INSUFFICIENT_DATA", got["StateValue"] == "INSUFFICIENT_DATA", got["StateValue"])
cw.set_alarm_state(AlarmName="smoke-lag", StateValue="ALARM", StateReason="smoke")
cw.put_metric_alarm(**{**alarm, "Threshold": 2000.0, "Tags": [{"Key": "team", "Value": "other"}]})
got = cw.describe_alarms(AlarmNames=["smoke-lag"])["MetricAlarms"][0]
check("an update keeps the state", got["StateValue"] == "ALARM", got["StateValue"])
tags = cw.list_tags_for_resource(ResourceARN=got["AlarmArn"])["Tags"]
check("an update ignores the request's tags", tags == [{"Key": "team", "Value": "data"}], tags)
code = error_code(lambda: cw.put_composite_alarm(AlarmName="smoke-any", AlarmRule='ALARM("nope")'))
check("a composite alarm on a missing alarm is ValidationError", code == "ValidationError", code)
cw.put_composite_alarm(
    AlarmName="smoke-any", AlarmRule=f'ALARM("{got["AlarmArn"]}")', AlarmActions=[topic_e]
)
listed = cw.describe_alarms()
check("DescribeAlarms answers metric alarms only by default",
      [a["AlarmName"] for a in listed["MetricAlarms"]] == ["smoke-lag"] and not listed.get("CompositeAlarms"), listed)
composite = cw.describe_alarms(AlarmTypes=["CompositeAlarm"])["CompositeAlarms"]
check("a composite alarm is described with its rule",
      len(composite) == 1 and composite[0].get("AlarmRule", "").startswith("ALARM("), composite)
cw.delete_alarms(AlarmNames=["smoke-any", "smoke-lag"])
check("alarms are deleted", not cw.describe_alarms(AlarmTypes=["MetricAlarm", "CompositeAlarm"])["MetricAlarms"])

# plugins/cloudwatch_dashboards.py: a dashboard body checked as CloudWatch checks it.
good = {"widgets": [
    {"type": "metric", "width": 12, "height": 6, "properties": {
        "region": "us-east-1", "stat": "Average", "period": 300, "view": "timeSeries",
        "metrics": [["AWS/Route53", "HealthCheckStatus", "HealthCheckId", "x", {"region": "us-east-1"}]]}},
    {"type": "text", "width": 24, "height": 2, "properties": {"markdown": "# carbon"}},
]}
cw.put_dashboard(DashboardName="smoke", DashboardBody=json.dumps(good))
check("a well-formed dashboard is stored", json.loads(cw.get_dashboard(DashboardName="smoke")["DashboardBody"]) == good)
for what, bad in [
    ("a metric widget without a region", {"widgets": [{"type": "metric", "properties": {"metrics": []}}]}),
    ("a widget 30 wide", {"widgets": [{"type": "text", "width": 30, "properties": {"markdown": "x"}}]}),
    ("a text widget without markdown", {"widgets": [{"type": "text", "properties": {}}]}),
    ("an unknown widget type", {"widgets": [{"type": "chart", "properties": {}}]}),
    ("x without y", {"widgets": [{"type": "text", "x": 0, "properties": {"markdown": "x"}}]}),
]:
    code = error_code(lambda: cw.put_dashboard(DashboardName="smoke-bad", DashboardBody=json.dumps(bad)))
    check(f"{what} is InvalidParameterInput", code == "InvalidParameterInput", code)
cw.delete_dashboards(DashboardNames=["smoke"])

# plugins/synthetics_canaries.py: canaries with AWS's states, checks and refusals.
syn = client("synthetics", "eu-west-1")
trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
canary_role = client("iam").create_role(RoleName="smoke-canary", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
archive = io.BytesIO()
with zipfile.ZipFile(archive, "w") as z:
    z.writestr("python/check.py", "def handler(event, context):\n    return 1\n")


def canary(name, **over):
    params = dict(Name=name, Code={"Handler": "check.handler", "ZipFile": archive.getvalue()},
                  ArtifactS3Location="s3://smoke-artifacts/canary", ExecutionRoleArn=canary_role,
                  Schedule={"Expression": "rate(5 minutes)"}, RuntimeVersion="syn-python-selenium-7.0")
    params.update(over)
    return syn.create_canary(**params)["Canary"]


def canary_state(name):
    return syn.get_canary(Name=name)["Canary"]["Status"]["State"]


check("a new canary is CREATING", canary("smoke-canary")["Status"]["State"] == "CREATING")
for what, over in [
    ("a deprecated runtime", {"RuntimeVersion": "syn-python-selenium-5.1"}),
    ("a rate of 7 minute", {"Schedule": {"Expression": "rate(7 minute)"}}),
    ("a timeout longer than the schedule", {"RunConfig": {"TimeoutInSeconds": 600}}),
    ("an artifact bucket with a period", {"ArtifactS3Location": "s3://smoke.artifacts/x"}),
]:
    code = error_code(lambda: canary("smoke-bad", **over))
    check(f"{what} is ValidationException", code == "ValidationException", code)
code = error_code(lambda: syn.start_canary(Name="smoke-canary"))
check("starting a canary still CREATING is ConflictException", code == "ConflictException", code)
wait_for(lambda: canary_state("smoke-canary") == "READY")
syn.start_canary(Name="smoke-canary")
check("a started canary is STARTING", canary_state("smoke-canary") == "STARTING")
wait_for(lambda: canary_state("smoke-canary") == "RUNNING")
code = error_code(lambda: syn.delete_canary(Name="smoke-canary"))
check("deleting a running canary is ConflictException", code == "ConflictException", code)
syn.update_canary(Name="smoke-canary", Schedule={"Expression": "rate(10 minutes)"})
check("an update is UPDATING", canary_state("smoke-canary") == "UPDATING")
wait_for(lambda: canary_state("smoke-canary") == "RUNNING")
check("and keeps the new schedule", syn.get_canary(Name="smoke-canary")["Canary"]["Schedule"]["Expression"] == "rate(10 minutes)")
canary_arn = "arn:aws:synthetics:eu-west-1:123456789012:canary:smoke-canary"
syn.tag_resource(ResourceArn=canary_arn, Tags={"team": "platform"})
check("tags are kept by ARN", syn.list_tags_for_resource(ResourceArn=canary_arn)["Tags"] == {"team": "platform"})
syn.stop_canary(Name="smoke-canary")
wait_for(lambda: canary_state("smoke-canary") == "STOPPED")
syn.delete_canary(Name="smoke-canary", DeleteLambda=True)
wait_for(lambda: error_code(lambda: syn.get_canary(Name="smoke-canary")) == "ResourceNotFoundException")
check("a deleted canary is gone", True)
broken = io.BytesIO()
with zipfile.ZipFile(broken, "w") as z:
    z.writestr("check.py", "def handler(event, context):\n    return 1\n")
canary("smoke-broken", Code={"Handler": "check.handler", "ZipFile": broken.getvalue()})
wait_for(lambda: canary_state("smoke-broken") != "CREATING")
reason = syn.get_canary(Name="smoke-broken")["Canary"]["Status"]
check("a canary whose zip lacks python/check.py ends in ERROR", reason["State"] == "ERROR" and "python/check.py" in reason.get("StateReason", ""), reason)

# plugins/sns_subscription_confirmation.py: email and HTTP(S) subscriptions wait for their endpoint.
sns = client("sns", "eu-west-1")
topic_arn = sns.create_topic(Name="smoke-alerts")["TopicArn"]
answer = sns.subscribe(TopicArn=topic_arn, Protocol="email", Endpoint="oncall@example.com")
check("an email subscription answers 'pending confirmation'", answer["SubscriptionArn"] == "pending confirmation", answer)
email_arn = sns.subscribe(TopicArn=topic_arn, Protocol="email", Endpoint="oncall@example.com", ReturnSubscriptionArn=True)["SubscriptionArn"]
attrs = sns.get_subscription_attributes(SubscriptionArn=email_arn)["Attributes"]
check("and is pending", attrs["PendingConfirmation"] == "true", attrs)
listed = [s["SubscriptionArn"] for s in sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]]
check("it is listed as PendingConfirmation", listed == ["PendingConfirmation"], listed)
code = error_code(lambda: sns.unsubscribe(SubscriptionArn=email_arn))
check("unsubscribing a pending subscription is InvalidParameter", code == "InvalidParameter", code)
code = error_code(lambda: sns.subscribe(TopicArn=topic_arn, Protocol="email", Endpoint="b@example.com", Attributes={"RawMessageDelivery": "true"}))
check("raw delivery to email is InvalidParameter", code == "InvalidParameter", code)
code = error_code(lambda: sns.confirm_subscription(TopicArn=topic_arn, Token="not-the-token"))
check("a wrong token is InvalidParameter", code == "InvalidParameter", code)
sqs_arn = sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint="arn:aws:sqs:eu-west-1:123456789012:q", ReturnSubscriptionArn=True)["SubscriptionArn"]
check("an SQS subscription is confirmed at once", sns.get_subscription_attributes(SubscriptionArn=sqs_arn)["Attributes"]["PendingConfirmation"] == "false")
sns.delete_topic(TopicArn=topic_arn)

# Reset clears the state.
check("reset answers", post("/moto-api/reset") == 200)
code = error_code(lambda: cf.get_distribution(Id=dist_id))
check("after reset the distribution is gone", code == "NoSuchDistribution", code)
listed = cf.list_distributions()["DistributionList"]
check("after reset no distribution is listed", listed["Quantity"] == 0, listed)

# The settings of `start`: managed policies are loaded, Lambda runs without Docker.
iam = client("iam")
policy = iam.get_policy(PolicyArn="arn:aws:iam::aws:policy/AmazonEKSClusterPolicy")
check("AWS managed policies are loaded", policy["Policy"]["PolicyName"] == "AmazonEKSClusterPolicy")
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
with opener.open(ENDPOINT + "/moto-api/config") as r:
    moto_config = json.load(r)
check("Lambda runs without Docker (after reset too)", moto_config["lambda"]["use_docker"] is False)
post("/moto-api/reset")

print(f"smoke: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
