"""Lists what carbon created in the emulator, straight from the AWS API (not from carbon's state):
the resources tagged `carbon:lineage`, per type and region, as JSON. Used by the apply tests to
check the footprint independently of carbonc.

    python inventory.py ENDPOINT REGION...
"""
import json
import sys

import boto3


def tagged(tags, key="Key", value="Value"):
    return {t[key]: t[value] for t in tags or []}


def main():
    endpoint, regions = sys.argv[1], sys.argv[2:]
    kw = dict(endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing")
    out = {}
    for region in regions:
        ec2 = boto3.client("ec2", region_name=region, **kw)
        f = [{"Name": "tag-key", "Values": ["carbon:lineage"]}]
        out[f"vpc@{region}"] = sorted(v["CidrBlock"] for v in ec2.describe_vpcs(Filters=f)["Vpcs"])
        # Every VPC but the emulator's default one, tagged or not: a duplicate that a crash left
        # untagged would show here.
        out[f"any-vpc@{region}"] = sorted(v["CidrBlock"] for v in ec2.describe_vpcs()["Vpcs"] if not v["IsDefault"])
        out[f"subnet@{region}"] = sorted(s["CidrBlock"] for s in ec2.describe_subnets(Filters=f)["Subnets"])
        out[f"igw@{region}"] = sorted(g["InternetGatewayId"] for g in ec2.describe_internet_gateways(Filters=f)["InternetGateways"])
        out[f"eip@{region}"] = sorted(a["AllocationId"] for a in ec2.describe_addresses(Filters=f)["Addresses"])
        out[f"nat@{region}"] = sorted(
            n["NatGatewayId"] for n in ec2.describe_nat_gateways(Filters=f)["NatGateways"] if n["State"] not in ("deleted", "deleting")
        )
        out[f"routes@{region}"] = sorted(
            f'{r.get("DestinationCidrBlock")}->{r.get("GatewayId", r.get("NatGatewayId", ""))[:4]} x{len([a for a in t.get("Associations", []) if a.get("SubnetId")])}'
            for t in ec2.describe_route_tables(Filters=f)["RouteTables"]
            for r in t["Routes"]
            if r.get("GatewayId") != "local"
        )
        out[f"sg@{region}"] = sorted(g["GroupName"] for g in ec2.describe_security_groups(Filters=f)["SecurityGroups"])
        out[f"launch_template@{region}"] = sorted(
            t["LaunchTemplateName"]
            for t in ec2.describe_launch_templates()["LaunchTemplates"]
            if "carbon:lineage" in tagged(t.get("Tags", []))
        )
        eks = boto3.client("eks", region_name=region, **kw)
        groups = []
        for name in eks.list_clusters()["clusters"]:
            for ng in eks.list_nodegroups(clusterName=name)["nodegroups"]:
                g = eks.describe_nodegroup(clusterName=name, nodegroupName=ng)["nodegroup"]
                groups.append(f'{name}/{ng} {",".join(g["instanceTypes"])} x{g["scalingConfig"]["desiredSize"]}')
        out[f"eks@{region}"] = sorted(groups)
        out[f"eks_clusters@{region}"] = sorted(
            f'{name} {c["version"]} {c["status"]}'
            for name in eks.list_clusters()["clusters"]
            for c in [eks.describe_cluster(name=name)["cluster"]]
        )
        # Add-ons ("cluster/name version status configuration"), access entries with their
        # policies ("cluster principal-name groups policy:scope ..."), Pod Identity associations
        # ("cluster namespace/service-account role-name").
        addons, entries, identities = [], [], []
        for name in eks.list_clusters()["clusters"]:
            for a in eks.list_addons(clusterName=name)["addons"]:
                d = eks.describe_addon(clusterName=name, addonName=a)["addon"]
                addons.append(f'{name}/{a} {d["addonVersion"]} {d["status"]} {d.get("configurationValues", "-")}')
            if eks.describe_cluster(name=name)["cluster"].get("accessConfig", {}).get("authenticationMode") != "CONFIG_MAP":
                for p in eks.list_access_entries(clusterName=name)["accessEntries"]:
                    e = eks.describe_access_entry(clusterName=name, principalArn=p)["accessEntry"]
                    policies = eks.list_associated_access_policies(clusterName=name, principalArn=p)["associatedAccessPolicies"]
                    entries.append(
                        f'{name} {p.rsplit("/", 1)[-1]} {",".join(e["kubernetesGroups"]) or "-"} '
                        + " ".join(f'{x["policyArn"].rsplit("/", 1)[-1]}:{x["accessScope"]["type"]}' for x in policies)
                    )
            for i in eks.list_pod_identity_associations(clusterName=name)["associations"]:
                d = eks.describe_pod_identity_association(clusterName=name, associationId=i["associationId"])["association"]
                identities.append(f'{name} {d["namespace"]}/{d["serviceAccount"]} {d["roleArn"].rsplit("/", 1)[-1]}')
        out[f"eks_addons@{region}"] = sorted(addons)
        out[f"eks_access@{region}"] = sorted(entries)
        out[f"eks_pod_identity@{region}"] = sorted(identities)
        kms = boto3.client("kms", region_name=region, **kw)
        keys = []
        for k in kms.list_keys()["Keys"]:
            meta = kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"]
            tags = tagged(kms.list_resource_tags(KeyId=k["KeyId"]).get("Tags", []), "TagKey", "TagValue")
            if "carbon:lineage" in tags and meta["KeyState"] != "PendingDeletion":
                keys.append(meta["Description"])
        out[f"kms@{region}"] = sorted(keys)
        out[f"kms_alias@{region}"] = sorted(
            a["AliasName"] for a in kms.list_aliases()["Aliases"] if not a["AliasName"].startswith("alias/aws/")
        )
        sm = boto3.client("secretsmanager", region_name=region, **kw)
        out[f"secret@{region}"] = sorted(
            s["Name"] for s in sm.list_secrets()["SecretList"] if "carbon:lineage" in tagged(s.get("Tags"))
        )
        sns = boto3.client("sns", region_name=region, **kw)
        out[f"sns@{region}"] = sorted(
            t["TopicArn"].rsplit(":", 1)[1]
            for t in sns.list_topics()["Topics"]
            if "carbon:lineage" in tagged(sns.list_tags_for_resource(ResourceArn=t["TopicArn"])["Tags"])
        )
        # Each alarm with what it watches and the region of each topic it notifies.
        cw = boto3.client("cloudwatch", region_name=region, **kw)
        found = cw.describe_alarms(AlarmTypes=["MetricAlarm", "CompositeAlarm"])
        names = {a["AlarmArn"]: a["AlarmName"] for a in found["MetricAlarms"] + found["CompositeAlarms"]}

        def notifies(a):
            return ",".join(sorted({arn.split(":")[3] for arn in a.get("AlarmActions", [])}))

        out[f"alarms@{region}"] = sorted(
            [
                f'{a["AlarmName"]}: {a["Namespace"]}/{a["MetricName"]} '
                + ",".join(f'{d["Name"]}={"*" if d["Name"] in ("HealthCheckId", "DistributionId") else d["Value"]}' for d in a["Dimensions"])
                + f" -> {notifies(a)}"
                for a in found["MetricAlarms"]
            ]
            + [
                f'{a["AlarmName"]}: '
                + " ".join(names.get(w, w) if w.startswith("arn:") else w for w in a["AlarmRule"].replace('"', " ").split())
                + f" -> {notifies(a)}"
                for a in found["CompositeAlarms"]
            ]
        )
        # Each canary with its state, where its artifacts go, its role and runtime.
        syn = boto3.client("synthetics", region_name=region, **kw)
        out[f"canaries@{region}"] = sorted(
            f'{c["Name"]}: {c["Status"]["State"]} {c["Schedule"]["Expression"]} -> '
            f'{c["ArtifactS3Location"].split("/")[2]} as {c["ExecutionRoleArn"].rsplit("/", 1)[1]} on {c["RuntimeVersion"]}'
            for c in syn.describe_canaries()["Canaries"]
            if "carbon:lineage" in c.get("Tags", {})
        )
    # Buckets are listed globally; each with its region, versioning, encryption (the region of a
    # KMS key) and lifecycle rules.
    s3 = boto3.client("s3", region_name="us-east-1", **kw)
    buckets = []
    for b in s3.list_buckets()["Buckets"]:
        name = b["Name"]
        try:
            tags = tagged(s3.get_bucket_tagging(Bucket=name)["TagSet"])
        except s3.exceptions.ClientError:
            tags = {}
        if "carbon:lineage" not in tags:
            continue
        where = s3.get_bucket_location(Bucket=name).get("LocationConstraint") or "us-east-1"
        versioning = s3.get_bucket_versioning(Bucket=name).get("Status", "off")
        rule = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"][0]
        sse = rule["ApplyServerSideEncryptionByDefault"]
        key = sse.get("KMSMasterKeyID", "")
        encryption = f'{sse["SSEAlgorithm"]}' + (f' key@{key.split(":")[3]}' if key.startswith("arn:") else "")
        try:
            rules = s3.get_bucket_lifecycle_configuration(Bucket=name)["Rules"]
        except s3.exceptions.ClientError:
            rules = []
        lifecycle = ",".join(
            f'{r["Filter"].get("Prefix", "")}:{r.get("Expiration", {}).get("Days", "-")}/{r.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays", "-")}'
            for r in rules
        )
        buckets.append(f"{name}@{where}: versioning {versioning}, {encryption}, lifecycle {lifecycle or 'none'}")
    out["buckets"] = sorted(buckets)
    # Dashboards are global (the provider puts them through us-east-1): each widget's kind, and
    # the regions its metrics are drawn from.
    cw = boto3.client("cloudwatch", region_name="us-east-1", **kw)

    def widget(w):
        props = w.get("properties", {})
        if w["type"] == "metric":
            regions = [m[-1].get("region", props.get("region")) for m in props.get("metrics", []) if isinstance(m[-1], dict)]
            return "metric " + ",".join(regions)
        if w["type"] == "alarm":
            return f'alarm x{len(props.get("alarms", []))}'
        return w["type"]

    out["dashboards"] = sorted(
        f'{d["DashboardName"]}: '
        + " | ".join(widget(w) for w in json.loads(cw.get_dashboard(DashboardName=d["DashboardName"])["DashboardBody"])["widgets"])
        for d in cw.list_dashboards()["DashboardEntries"]
    )
    waf = boto3.client("wafv2", region_name="us-east-1", **kw)
    out["waf_ip_sets"] = sorted(
        f'{x["Name"]}: ' + ",".join(sorted(
            waf.get_ip_set(Name=x["Name"], Id=x["Id"], Scope="CLOUDFRONT")["IPSet"]["Addresses"]))
        for x in waf.list_ip_sets(Scope="CLOUDFRONT")["IPSets"]
    )
    out["waf_acls"] = sorted(
        f'{x["Name"]}: ' + ",".join(r["Name"] for r in
            waf.get_web_acl(Name=x["Name"], Id=x["Id"], Scope="CLOUDFRONT")["WebACL"]["Rules"])
        for x in waf.list_web_acls(Scope="CLOUDFRONT")["WebACLs"]
    )
    out["waf_rule_groups"] = sorted(
        f'{x["Name"]}: ' + ",".join(r["Name"] for r in
            waf.get_rule_group(Name=x["Name"], Id=x["Id"], Scope="CLOUDFRONT")["RuleGroup"]["Rules"])
        for x in waf.list_rule_groups(Scope="CLOUDFRONT")["RuleGroups"]
    )
    for region in regions:
        regional = boto3.client("wafv2", region_name=region, **kw)
        out[f"waf_regional_acls@{region}"] = sorted(x["Name"] for x in regional.list_web_acls(Scope="REGIONAL")["WebACLs"])
    cf = boto3.client("cloudfront", region_name="us-east-1", **kw)
    dists = []
    for d in cf.list_distributions().get("DistributionList", {}).get("Items", []):
        c = cf.get_distribution(Id=d["Id"])["Distribution"]["DistributionConfig"]
        groups = [g["Id"] for g in c.get("OriginGroups", {}).get("Items", [])]
        dists.append(
            f'{c["Comment"]}: {c["Origins"]["Quantity"]} origins, groups {",".join(groups)}, '
            f'target {c["DefaultCacheBehavior"]["TargetOriginId"]}, waf {"yes" if c.get("WebACLId") else "no"}'
        )
    out["cloudfront"] = sorted(dists)
    ec = boto3.client("elasticache", region_name="us-east-1", **kw)
    out["redis_global"] = sorted(
        f'{g["GlobalReplicationGroupId"]}: '
        + ", ".join(f'{m["ReplicationGroupId"]}@{m["ReplicationGroupRegion"]} {m["Role"]}' for m in g["Members"])
        for g in ec.describe_global_replication_groups(ShowMemberInfo=True)["GlobalReplicationGroups"]
    )
    for region in regions:
        ec = boto3.client("elasticache", region_name=region, **kw)
        out[f"redis@{region}"] = sorted(g["ReplicationGroupId"] for g in ec.describe_replication_groups()["ReplicationGroups"])
        out[f"cache_subnets@{region}"] = sorted(
            g["CacheSubnetGroupName"] for g in ec.describe_cache_subnet_groups()["CacheSubnetGroups"] if g["CacheSubnetGroupName"] != "default"
        )
    rds = boto3.client("rds", region_name="us-east-1", **kw)
    out["aurora_global"] = sorted(
        f'{g["GlobalClusterIdentifier"]}: '
        + ", ".join(sorted(f'{m["DBClusterArn"].split(":")[3]}{" writer" if m["IsWriter"] else ""}' for m in g["GlobalClusterMembers"]))
        for g in rds.describe_global_clusters()["GlobalClusters"]
    )
    for region in regions:
        rds = boto3.client("rds", region_name=region, **kw)
        out[f"aurora@{region}"] = sorted(
            f'{c["DBClusterIdentifier"]} kms={c.get("KmsKeyId", "").split(":")[3] if c.get("KmsKeyId") else "-"} '
            f'instances={len(c.get("DBClusterMembers", []))}'
            for c in rds.describe_db_clusters()["DBClusters"]
        )
        out[f"aurora_instances@{region}"] = sorted(i["DBInstanceIdentifier"] for i in rds.describe_db_instances()["DBInstances"])
        out[f"db_subnets@{region}"] = sorted(g["DBSubnetGroupName"] for g in rds.describe_db_subnet_groups()["DBSubnetGroups"])
    r53 = boto3.client("route53", region_name="us-east-1", **kw)
    records = []
    for z in r53.list_hosted_zones()["HostedZones"]:
        for rs in r53.list_resource_record_sets(HostedZoneId=z["Id"])["ResourceRecordSets"]:
            if rs["Type"] in ("NS", "SOA"):
                continue
            records.append(
                f'{rs["Name"]} {rs["Type"]} {rs.get("Region", "-")} ttl={rs.get("TTL")} '
                f'checked={"HealthCheckId" in rs}'
            )
    out["route53"] = sorted(records)
    out["zones"] = sorted(z["Name"] for z in r53.list_hosted_zones()["HostedZones"])
    out["health_checks"] = sorted(
        h["HealthCheckConfig"].get("FullyQualifiedDomainName", "") for h in r53.list_health_checks()["HealthChecks"]
    )
    iam = boto3.client("iam", region_name="us-east-1", **kw)
    roles = [r["RoleName"] for r in iam.list_roles()["Roles"] if r["RoleName"].startswith("carbon-")]
    out["role"] = sorted(roles)
    out["attached"] = sorted(
        p["PolicyArn"] for r in roles for p in iam.list_attached_role_policies(RoleName=r)["AttachedPolicies"]
    )
    print(json.dumps(out, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
