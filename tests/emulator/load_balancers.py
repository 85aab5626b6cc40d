"""Makes the regional load balancers the footprint looks up (`aws.elbv2.LoadBalancer`), as the
AWS Load Balancer Controller in each region's EKS cluster would in a real account: in each region,
a VPC of their own with two subnets and an application load balancer named PREFIX-REGION. Prints
`{region: DNS name}` as JSON.

    python load_balancers.py ENDPOINT PREFIX REGION...
"""
import json
import sys

import boto3


def client(service, endpoint, region):
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def main():
    endpoint, prefix, *regions = sys.argv[1:]
    made = {}
    for region in regions:
        ec2 = client("ec2", endpoint, region)
        vpc = ec2.create_vpc(CidrBlock="10.250.0.0/16")["Vpc"]["VpcId"]
        # Two zones every region has (ap-northeast-1 has no `b`).
        zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]][:2]
        subnets = [
            ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.250.{i}.0/24", AvailabilityZone=zone)[
                "Subnet"
            ]["SubnetId"]
            for i, zone in enumerate(zones)
        ]
        lb = client("elbv2", endpoint, region).create_load_balancer(
            Name=f"{prefix}-{region}", Subnets=subnets, Type="application"
        )["LoadBalancers"][0]
        made[region] = lb["DNSName"]
    print(json.dumps(made))


if __name__ == "__main__":
    main()
