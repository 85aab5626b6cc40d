"""EC2: a NAT gateway needs an attached internet gateway; ENIs linger after the services that owned them.

The gaps (moto 5.2.5, `moto/ec2/models/nat_gateways.py`, `internet_gateways.py`, `subnets.py`,
`security_groups.py`):
- CreateNatGateway makes a public NAT gateway `available` in a VPC without an internet gateway.
  On AWS it ends `failed` with FailureCode `Gateway.NotAttached` and FailureMessage "Network
  vpc-... has no Internet gateway attached" (model ec2: NatGateway.FailureCode/FailureMessage;
  the Amazon VPC User Guide, "Troubleshoot NAT gateways").
- DeleteNatGateway is instant. On AWS the gateway is `deleting` for a while (then `deleted`), and
  its Elastic IP stays mapped meanwhile, so DetachInternetGateway answers DependencyViolation
  "Network vpc-... has some mapped public address(es). Please unmap those public address(es)
  before detaching the gateway." (TF internal/service/ec2/vpc_internet_gateway.go retries it).
- Deleting a subnet, security group or VPC succeeds as soon as the resources that used it are
  deleted. On AWS the network interfaces of NAT gateways, EKS clusters and node groups, RDS
  instances and ElastiCache replication groups are released minutes later, and until then
  DeleteSubnet, DeleteSecurityGroup and DeleteVpc answer DependencyViolation ("The subnet ...
  has dependencies and cannot be deleted", "resource sg-... has a dependent object"); Terraform
  retries these for its delete timeout (TF vpc_subnet.go, vpc_security_group.go, vpc.go).

Here, each of those deletions marks the VPC (in that region) as holding released ENIs for
`aws_delays.BASE["eni_release"]` seconds times `CARBONC_EMULATOR_DELAY_SCALE`; a NAT gateway stays
`deleting` for as long.
"""

import time
from typing import Any

import aws_delays
from moto.ec2.exceptions import DependencyViolationError
from moto.ec2.models import ec2_backends
from moto.ec2.models.internet_gateways import InternetGatewayBackend
from moto.ec2.models.nat_gateways import NatGatewayBackend
from moto.ec2.models.security_groups import SecurityGroupBackend
from moto.ec2.models.subnets import SubnetBackend
from moto.ec2.models.vpcs import VPCBackend

WRITTEN_FOR = "5.2.5"

# (account, region, vpc id or None for "some VPC of the region") -> monotonic end of the ENI release
_LINGER: dict[tuple[str, str, str | None], float] = {}
# (account, region, nat id) -> monotonic end of `deleting`
_NAT_DELETING: dict[tuple[str, str, str], float] = {}


def linger(account: str, region: str, vpc_id: str | None) -> None:
    """Network interfaces in `vpc_id` (None: unknown VPC, the whole region) are being released."""
    _LINGER[(account, region, vpc_id)] = aws_delays.deadline("eni_release")


def vpc_of_subnets(account: str, region: str, subnet_ids: list[str]) -> str | None:
    backend = ec2_backends[account][region]
    for sid in subnet_ids:
        try:
            return backend.get_subnet(sid).vpc_id
        except Exception:  # noqa: BLE001 - a subnet already gone
            continue
    return None


def _lingering(account: str, region: str, vpc_id: str) -> bool:
    now = time.monotonic()
    for key in ((account, region, vpc_id), (account, region, None)):
        at = _LINGER.get(key)
        if at is not None and now < at:
            return True
    return False


def _settle_nats(backend: Any) -> None:
    now = time.monotonic()
    for key, at in list(_NAT_DELETING.items()):
        if key[:2] == (backend.account_id, backend.region_name) and now >= at:
            del _NAT_DELETING[key]
            nat = backend.nat_gateways.get(key[2])
            if nat is not None:
                nat.state = "deleted"


def register() -> None:
    create_nat = NatGatewayBackend.create_nat_gateway
    delete_nat = NatGatewayBackend.delete_nat_gateway
    describe_nats = NatGatewayBackend.describe_nat_gateways

    def create_nat_gateway(self: Any, subnet_id: str, allocation_id: str, *args: Any, **kwargs: Any) -> Any:
        nat = create_nat(self, subnet_id, allocation_id, *args, **kwargs)
        if nat.connectivity_type != "private":
            attached = any(
                igw.vpc is not None and igw.vpc.id == nat.vpc_id for igw in self.internet_gateways.values()
            )
            if not attached:
                nat.state = "failed"
                nat.failure_code = "Gateway.NotAttached"
                nat.failure_message = f"Network {nat.vpc_id} has no Internet gateway attached"
                # A failed gateway holds no address: its Elastic IP is free again.
                for addr in nat.address_set:
                    if addr.get("publicIp"):
                        self.disassociate_address(address=addr["publicIp"])
        return nat

    def delete_nat_gateway(self: Any, nat_gateway_id: str) -> Any:
        nat = delete_nat(self, nat_gateway_id)
        if nat is not None:
            nat.state = "deleting"
            _NAT_DELETING[(self.account_id, self.region_name, nat.id)] = aws_delays.deadline("eni_release")
            linger(self.account_id, self.region_name, nat.vpc_id)
        return nat

    def describe_nat_gateways(self: Any, *args: Any, **kwargs: Any) -> Any:
        _settle_nats(self)
        return describe_nats(self, *args, **kwargs)

    NatGatewayBackend.create_nat_gateway = create_nat_gateway
    NatGatewayBackend.delete_nat_gateway = delete_nat_gateway
    NatGatewayBackend.describe_nat_gateways = describe_nat_gateways

    detach = InternetGatewayBackend.detach_internet_gateway

    def detach_internet_gateway(self: Any, internet_gateway_id: str, vpc_id: str) -> None:
        _settle_nats(self)
        mapped = [
            n
            for n in self.nat_gateways.values()
            if n.vpc_id == vpc_id
            and n.connectivity_type != "private"
            and n.state in ("pending", "available", "deleting")
        ]
        if mapped:
            raise DependencyViolationError(
                f"Network {vpc_id} has some mapped public address(es). Please unmap those public "
                "address(es) before detaching the gateway."
            )
        return detach(self, internet_gateway_id, vpc_id)

    InternetGatewayBackend.detach_internet_gateway = detach_internet_gateway

    delete_subnet = SubnetBackend.delete_subnet

    def delete_subnet_(self: Any, subnet_id: str) -> Any:
        try:
            vpc_id = self.get_subnet(subnet_id).vpc_id
        except Exception:  # noqa: BLE001 - moto answers the missing subnet itself
            vpc_id = None
        if vpc_id and _lingering(self.account_id, self.region_name, vpc_id):
            raise DependencyViolationError(f"The subnet '{subnet_id}' has dependencies and cannot be deleted.")
        return delete_subnet(self, subnet_id)

    SubnetBackend.delete_subnet = delete_subnet_

    delete_sg = SecurityGroupBackend.delete_security_group

    def delete_security_group(self: Any, name: str | None = None, group_id: str | None = None) -> Any:
        if group_id:
            vpc_id = next((v for v, groups in self.groups.items() if group_id in groups), None)
            if vpc_id and _lingering(self.account_id, self.region_name, vpc_id):
                raise DependencyViolationError(f"resource {group_id} has a dependent object")
        return delete_sg(self, name=name, group_id=group_id)

    SecurityGroupBackend.delete_security_group = delete_security_group

    delete_vpc = VPCBackend.delete_vpc

    def delete_vpc_(self: Any, vpc_id: str) -> Any:
        if _lingering(self.account_id, self.region_name, vpc_id):
            raise DependencyViolationError(
                f"The vpc '{vpc_id}' has dependencies and cannot be deleted."
            )
        return delete_vpc(self, vpc_id)

    VPCBackend.delete_vpc = delete_vpc_

    # The services whose network interfaces outlive them.
    from moto.eks import models as eks_models

    delete_cluster = eks_models.EKSBackend.delete_cluster
    delete_nodegroup = eks_models.EKSBackend.delete_nodegroup

    def eks_delete_cluster(self: Any, name: str) -> Any:
        cluster = delete_cluster(self, name)
        subnets = (getattr(cluster, "resources_vpc_config", None) or {}).get("subnetIds", [])
        linger(self.account_id, self.region_name, vpc_of_subnets(self.account_id, self.region_name, subnets))
        return cluster

    def eks_delete_nodegroup(self: Any, cluster_name: str, nodegroup_name: str) -> Any:
        group = delete_nodegroup(self, cluster_name, nodegroup_name)
        subnets = list(getattr(group, "subnets", None) or [])
        linger(self.account_id, self.region_name, vpc_of_subnets(self.account_id, self.region_name, subnets))
        return group

    eks_models.EKSBackend.delete_cluster = eks_delete_cluster
    eks_models.EKSBackend.delete_nodegroup = eks_delete_nodegroup

    from moto.rds import models as rds_models

    delete_instance = rds_models.RDSBackend.delete_db_instance

    def rds_delete_instance(self: Any, *args: Any, **kwargs: Any) -> Any:
        db = delete_instance(self, *args, **kwargs)
        group = getattr(db, "db_subnet_group", None)
        subnets = [getattr(s, "id", s) for s in (getattr(group, "subnets", None) or [])]
        linger(self.account_id, self.region_name, vpc_of_subnets(self.account_id, self.region_name, subnets))
        return db

    rds_models.RDSBackend.delete_db_instance = rds_delete_instance

    from moto.elasticache import models as ec_models

    delete_group = ec_models.ElastiCacheBackend.delete_replication_group

    def ec_delete_group(self: Any, replication_group_id: str, *args: Any, **kwargs: Any) -> Any:
        rg = self.replication_groups.get(replication_group_id)
        name = getattr(rg, "cache_subnet_group_name", None)
        group = self.cache_subnet_groups.get(name) if name else None
        subnets = list(getattr(group, "subnet_ids", None) or [])
        result = delete_group(self, replication_group_id, *args, **kwargs)
        linger(self.account_id, self.region_name, vpc_of_subnets(self.account_id, self.region_name, subnets))
        return result

    ec_models.ElastiCacheBackend.delete_replication_group = ec_delete_group
