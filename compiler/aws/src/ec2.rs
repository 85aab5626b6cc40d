//! EC2 networking: VPCs, subnets, internet gateways, security groups, Elastic IPs.

use std::collections::BTreeMap;

use aws_config::SdkConfig;
use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{
    AttributeBooleanValue, DomainType, Filter, ResourceType, Tag, TagSpecification,
    VpcAttributeName,
};
use carbonc_apply::{
    CreateRequest, DeleteRequest, FindRequest, Found, ProviderError, ReadRequest, UpdateRequest,
};
use carbonc_state::Val;

use crate::attrs::{all_tags, b, map, ref_id, required, with};
use crate::error::{classify, is_not_found};
use crate::network::user_tags;

pub(crate) fn spec(kind: ResourceType, tags: &BTreeMap<String, String>) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(kind)
        .set_tags(Some(
            tags.iter()
                .map(|(k, v)| Tag::builder().key(k).value(v).build())
                .collect(),
        ))
        .build()
}

fn kind(ty: &str) -> ResourceType {
    match ty {
        "aws.ec2.Vpc" => ResourceType::Vpc,
        "aws.ec2.Subnet" => ResourceType::Subnet,
        "aws.ec2.InternetGateway" => ResourceType::InternetGateway,
        "aws.ec2.SecurityGroup" => ResourceType::SecurityGroup,
        _ => ResourceType::ElasticIp,
    }
}

async fn dns(c: &Client, vpc: &str, a: &BTreeMap<String, Val>) -> Result<(), ProviderError> {
    for (field, hostnames) in [
        ("enable_dns_support", false),
        ("enable_dns_hostnames", true),
    ] {
        let v = AttributeBooleanValue::builder()
            .value(b(a, field).unwrap_or(true))
            .build();
        let call = c.modify_vpc_attribute().vpc_id(vpc);
        let call = if hostnames {
            call.enable_dns_hostnames(v)
        } else {
            call.enable_dns_support(v)
        };
        call.send().await.map_err(classify)?;
    }
    Ok(())
}

pub async fn create(cfg: &SdkConfig, req: &CreateRequest) -> Result<Found, ProviderError> {
    // None of these creates takes a client token: one attempt each (see `single_attempt`).
    let c = Client::new(&crate::single_attempt(cfg));
    let r = &req.resource;
    let a = &r.attrs;
    let tags = spec(kind(&r.ty), &all_tags(req));
    match r.ty.as_str() {
        "aws.ec2.Vpc" => {
            let out = c
                .create_vpc()
                .cidr_block(required(a, "cidr_block")?)
                .tag_specifications(tags)
                .send()
                .await
                .map_err(classify)?;
            let id = out
                .vpc()
                .and_then(|v| v.vpc_id())
                .unwrap_or_default()
                .to_string();
            let owner = out
                .vpc()
                .and_then(|v| v.owner_id())
                .unwrap_or_default()
                .to_string();
            dns(&c, &id, a).await?;
            let arn = format!(
                "arn:aws:ec2:{}:{owner}:vpc/{id}",
                r.region.clone().unwrap_or_default()
            );
            Ok(Found {
                id: id.clone(),
                attrs: with(a, &[("id", Some(id)), ("arn", Some(arn))]),
            })
        }
        "aws.ec2.Subnet" => {
            let out = c
                .create_subnet()
                .vpc_id(ref_id(r, "vpc")?)
                .cidr_block(required(a, "cidr_block")?)
                .availability_zone(required(a, "availability_zone")?)
                .tag_specifications(tags)
                .send()
                .await
                .map_err(classify)?;
            let subnet = out.subnet();
            let id = subnet
                .and_then(|s| s.subnet_id())
                .unwrap_or_default()
                .to_string();
            if b(a, "map_public_ip_on_launch") == Some(true) {
                c.modify_subnet_attribute()
                    .subnet_id(&id)
                    .map_public_ip_on_launch(AttributeBooleanValue::builder().value(true).build())
                    .send()
                    .await
                    .map_err(classify)?;
            }
            Ok(Found {
                id: id.clone(),
                attrs: with(
                    a,
                    &[
                        ("id", Some(id)),
                        (
                            "arn",
                            subnet.and_then(|s| s.subnet_arn()).map(str::to_string),
                        ),
                    ],
                ),
            })
        }
        "aws.ec2.InternetGateway" => {
            let out = c
                .create_internet_gateway()
                .tag_specifications(tags)
                .send()
                .await
                .map_err(classify)?;
            let id = out
                .internet_gateway()
                .and_then(|g| g.internet_gateway_id())
                .unwrap_or_default()
                .to_string();
            c.attach_internet_gateway()
                .internet_gateway_id(&id)
                .vpc_id(ref_id(r, "vpc")?)
                .send()
                .await
                .map_err(classify)?;
            Ok(Found {
                id: id.clone(),
                attrs: with(a, &[("id", Some(id))]),
            })
        }
        "aws.ec2.SecurityGroup" => {
            let out = c
                .create_security_group()
                .group_name(required(a, "name")?)
                .description(required(a, "description")?)
                .vpc_id(ref_id(r, "vpc")?)
                .tag_specifications(tags)
                .send()
                .await
                .map_err(classify)?;
            let id = out.group_id().unwrap_or_default().to_string();
            // AWS's default allow-all egress goes unless the program has it (the schema's default).
            crate::security_group::sync(&c, &id, a).await?;
            Ok(Found {
                id: id.clone(),
                attrs: with(a, &[("id", Some(id))]),
            })
        }
        _ => {
            let out = c
                .allocate_address()
                .domain(DomainType::Vpc)
                .tag_specifications(tags)
                .send()
                .await
                .map_err(classify)?;
            let id = out.allocation_id().unwrap_or_default().to_string();
            Ok(Found {
                id: id.clone(),
                attrs: with(
                    a,
                    &[
                        ("id", Some(id)),
                        ("public_ip", out.public_ip().map(str::to_string)),
                    ],
                ),
            })
        }
    }
}

/// Whether the resource exists, by a describe call per type.
async fn exists(c: &Client, ty: &str, id: &str) -> Result<bool, ProviderError> {
    let r = match ty {
        "aws.ec2.Vpc" => c
            .describe_vpcs()
            .vpc_ids(id)
            .send()
            .await
            .map(|o| !o.vpcs().is_empty())
            .map_err(classify),
        "aws.ec2.Subnet" => c
            .describe_subnets()
            .subnet_ids(id)
            .send()
            .await
            .map(|o| !o.subnets().is_empty())
            .map_err(classify),
        "aws.ec2.InternetGateway" => c
            .describe_internet_gateways()
            .internet_gateway_ids(id)
            .send()
            .await
            .map(|o| !o.internet_gateways().is_empty())
            .map_err(classify),
        "aws.ec2.SecurityGroup" => c
            .describe_security_groups()
            .group_ids(id)
            .send()
            .await
            .map(|o| !o.security_groups().is_empty())
            .map_err(classify),
        _ => c
            .describe_addresses()
            .allocation_ids(id)
            .send()
            .await
            .map(|o| !o.addresses().is_empty())
            .map_err(classify),
    };
    match r {
        Err(e) if is_not_found(&e) => Ok(false),
        other => other,
    }
}

pub async fn read(cfg: &SdkConfig, req: &ReadRequest) -> Result<Option<Found>, ProviderError> {
    let c = Client::new(cfg);
    if !exists(&c, &req.ty, &req.id).await? {
        return Ok(None);
    }
    let mut attrs = req.attrs.clone();
    let mut set = |k: &str, v: Option<Val>| {
        if let Some(v) = v {
            attrs.insert(k.to_string(), v);
        }
    };
    let text = |v: Option<&str>| v.map(|v| Val::Str(v.to_string()));
    match req.ty.as_str() {
        "aws.ec2.Vpc" => {
            let o = c
                .describe_vpcs()
                .vpc_ids(&req.id)
                .send()
                .await
                .map_err(classify)?;
            let Some(v) = o.vpcs().first() else {
                return Ok(None);
            };
            set("cidr_block", text(v.cidr_block()));
            set("tags", Some(user_tags(v.tags())));
            // As made on create (also for an imported VPC, which was never created here).
            set(
                "arn",
                v.owner_id().map(|owner| {
                    Val::Str(format!(
                        "arn:aws:ec2:{}:{owner}:vpc/{}",
                        req.region.as_deref().unwrap_or_default(),
                        req.id
                    ))
                }),
            );
            for (field, name) in [
                ("enable_dns_hostnames", VpcAttributeName::EnableDnsHostnames),
                ("enable_dns_support", VpcAttributeName::EnableDnsSupport),
            ] {
                let o = c
                    .describe_vpc_attribute()
                    .vpc_id(&req.id)
                    .attribute(name)
                    .send()
                    .await
                    .map_err(classify)?;
                let value = o
                    .enable_dns_hostnames()
                    .or(o.enable_dns_support())
                    .and_then(|a| a.value());
                set(field, value.map(Val::Bool));
            }
        }
        "aws.ec2.Subnet" => {
            let o = c
                .describe_subnets()
                .subnet_ids(&req.id)
                .send()
                .await
                .map_err(classify)?;
            let Some(v) = o.subnets().first() else {
                return Ok(None);
            };
            set("cidr_block", text(v.cidr_block()));
            set("availability_zone", text(v.availability_zone()));
            set(
                "map_public_ip_on_launch",
                v.map_public_ip_on_launch().map(Val::Bool),
            );
            set("tags", Some(user_tags(v.tags())));
            set("arn", text(v.subnet_arn()));
        }
        "aws.ec2.InternetGateway" => {
            let o = c
                .describe_internet_gateways()
                .internet_gateway_ids(&req.id)
                .send()
                .await
                .map_err(classify)?;
            let Some(v) = o.internet_gateways().first() else {
                return Ok(None);
            };
            set("tags", Some(user_tags(v.tags())));
        }
        "aws.ec2.SecurityGroup" => {
            if crate::security_group::read_into(&c, &req.id, &mut attrs)
                .await?
                .is_none()
            {
                return Ok(None);
            }
        }
        _ => {
            let o = c
                .describe_addresses()
                .allocation_ids(&req.id)
                .send()
                .await
                .map_err(classify)?;
            let Some(v) = o.addresses().first() else {
                return Ok(None);
            };
            set("tags", Some(user_tags(v.tags())));
            set("public_ip", text(v.public_ip()));
        }
    }
    // Every EC2 type's `id` is its resource id (filled in here for a resource adopted from its
    // intent, which records none).
    attrs.insert("id".into(), Val::Str(req.id.clone()));
    Ok(Some(Found {
        id: req.id.clone(),
        attrs,
    }))
}

/// The user's tags of an EC2 resource after an update: changed ones set (CreateTags), removed
/// ones taken off (DeleteTags); carbon's own `carbon:*` tags are never in either map.
pub async fn retag(
    c: &Client,
    id: &str,
    before: &BTreeMap<String, String>,
    after: &BTreeMap<String, String>,
) -> Result<(), ProviderError> {
    let (set, removed) = crate::attrs::tag_changes(before, after);
    let set: Vec<Tag> = set
        .iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect();
    let removed: Vec<Tag> = removed
        .iter()
        .map(|k| Tag::builder().key(k).build())
        .collect();
    if !set.is_empty() {
        c.create_tags()
            .resources(id)
            .set_tags(Some(set))
            .send()
            .await
            .map_err(classify)?;
    }
    if !removed.is_empty() {
        c.delete_tags()
            .resources(id)
            .set_tags(Some(removed))
            .send()
            .await
            .map_err(classify)?;
    }
    Ok(())
}

/// The VPCs an internet gateway is attached to.
async fn gateway_vpcs(c: &Client, id: &str) -> Result<Vec<String>, ProviderError> {
    Ok(c.describe_internet_gateways()
        .internet_gateway_ids(id)
        .send()
        .await
        .map_err(classify)?
        .internet_gateways()
        .iter()
        .flat_map(|g| g.attachments())
        .filter_map(|a| a.vpc_id().map(str::to_string))
        .collect())
}

/// Brings an internet gateway to be attached to `vpc` (and nothing else): an update of its `vpc`,
/// or a gateway adopted after a create interrupted between CreateInternetGateway and
/// AttachInternetGateway.
async fn attach_gateway(c: &Client, id: &str, vpc: &str) -> Result<(), ProviderError> {
    let attached = gateway_vpcs(c, id).await?;
    for other in attached.iter().filter(|v| *v != vpc) {
        released(&format!("detaching internet gateway {id}"), || async {
            c.detach_internet_gateway()
                .internet_gateway_id(id)
                .vpc_id(other)
                .send()
                .await
                .map(|_| ())
                .map_err(classify)
        })
        .await?;
    }
    if !attached.iter().any(|v| v == vpc) {
        c.attach_internet_gateway()
            .internet_gateway_id(id)
            .vpc_id(vpc)
            .send()
            .await
            .map_err(classify)?;
    }
    Ok(())
}

pub async fn update(cfg: &SdkConfig, req: &UpdateRequest) -> Result<Found, ProviderError> {
    let c = Client::new(cfg);
    let a = &req.resource.attrs;
    if req.resource.ty == "aws.ec2.Vpc" {
        dns(&c, &req.id, a).await?;
    }
    if req.resource.ty == "aws.ec2.SecurityGroup" {
        crate::security_group::sync(&c, &req.id, a).await?;
    }
    if req.resource.ty == "aws.ec2.InternetGateway" {
        attach_gateway(&c, &req.id, &crate::attrs::ref_id(&req.resource, "vpc")?).await?;
    }
    if req.resource.ty == "aws.ec2.Subnet"
        && a.get("map_public_ip_on_launch") != req.before.get("map_public_ip_on_launch")
    {
        c.modify_subnet_attribute()
            .subnet_id(&req.id)
            .map_public_ip_on_launch(
                AttributeBooleanValue::builder()
                    .value(b(a, "map_public_ip_on_launch").unwrap_or(false))
                    .build(),
            )
            .send()
            .await
            .map_err(classify)?;
    }
    retag(&c, &req.id, &map(&req.before, "tags"), &map(a, "tags")).await?;
    let attrs = crate::attrs::after_update(a, &req.before);
    Ok(Found {
        id: req.id.clone(),
        attrs,
    })
}

/// What EC2 answers while network interfaces of deleted EKS clusters, RDS instances, ElastiCache
/// groups or NAT gateways still hold a subnet, security group or VPC, or while a NAT gateway
/// being deleted still maps its public address (TF retries these for the delete timeout:
/// internal/service/ec2/vpc_subnet.go, vpc_security_group.go, vpc.go, vpc_internet_gateway.go).
const RELEASING: [crate::retry::Transient; 1] =
    [crate::retry::transient("DependencyViolation", "")];
/// Terraform's default delete timeout for subnets, security groups and VPCs.
const RELEASE_BUDGET: std::time::Duration = std::time::Duration::from_secs(20 * 60);

async fn released<F, Fut>(what: &str, call: F) -> Result<(), ProviderError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), ProviderError>>,
{
    crate::retry::while_settling(what, &RELEASING, RELEASE_BUDGET, call).await
}

pub async fn delete(cfg: &SdkConfig, req: &DeleteRequest) -> Result<(), ProviderError> {
    let c = Client::new(cfg);
    let what = format!("deleting {} {}", req.ty, req.id);
    let r = match req.ty.as_str() {
        "aws.ec2.Vpc" => {
            released(&what, || async {
                c.delete_vpc()
                    .vpc_id(&req.id)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(classify)
            })
            .await
        }
        "aws.ec2.Subnet" => {
            released(&what, || async {
                c.delete_subnet()
                    .subnet_id(&req.id)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(classify)
            })
            .await
        }
        "aws.ec2.InternetGateway" => {
            let attached: Vec<String> = match c
                .describe_internet_gateways()
                .internet_gateway_ids(&req.id)
                .send()
                .await
                .map_err(classify)
            {
                Ok(o) => o
                    .internet_gateways()
                    .iter()
                    .flat_map(|g| g.attachments())
                    .filter_map(|a| a.vpc_id().map(str::to_string))
                    .collect(),
                Err(e) if is_not_found(&e) => Vec::new(),
                Err(e) => return Err(e),
            };
            for vpc in attached {
                let detached = released(&what, || async {
                    c.detach_internet_gateway()
                        .internet_gateway_id(&req.id)
                        .vpc_id(&vpc)
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(classify)
                })
                .await;
                match detached {
                    Err(ProviderError::Permanent { code, .. }) if code == "Gateway.NotAttached" => {
                    }
                    Err(e) if !is_not_found(&e) => return Err(e),
                    _ => {}
                }
            }
            c.delete_internet_gateway()
                .internet_gateway_id(&req.id)
                .send()
                .await
                .map(|_| ())
                .map_err(classify)
        }
        "aws.ec2.SecurityGroup" => {
            released(&what, || async {
                c.delete_security_group()
                    .group_id(&req.id)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(classify)
            })
            .await
        }
        _ => c
            .release_address()
            .allocation_id(&req.id)
            .send()
            .await
            .map(|_| ())
            .map_err(classify),
    };
    crate::error::deleted(r)
}

pub async fn find(cfg: &SdkConfig, req: &FindRequest) -> Result<Option<Found>, ProviderError> {
    let c = Client::new(cfg);
    // Filter on the lineage only and match the address here: filter values are patterns, and an
    // address such as `vpc[us-east-1]` must be compared literally.
    let filters = vec![
        Filter::builder()
            .name("tag:carbon:lineage")
            .values(&req.lineage)
            .build(),
    ];
    let address = carbonc_apply::address_tag(&req.address);
    let ours = |tags: &[Tag]| {
        tags.iter()
            .any(|t| t.key() == Some("carbon:address") && t.value() == Some(address.as_str()))
    };
    let excluded = |id: Option<&str>| id.is_some_and(|id| req.exclude.iter().any(|x| x == id));
    let id: Option<String> = match req.ty.as_str() {
        "aws.ec2.Vpc" => c
            .describe_vpcs()
            .set_filters(Some(filters))
            .send()
            .await
            .map_err(classify)?
            .vpcs()
            .iter()
            .find(|v| ours(v.tags()) && !excluded(v.vpc_id()))
            .and_then(|v| v.vpc_id())
            .map(str::to_string),
        "aws.ec2.Subnet" => c
            .describe_subnets()
            .set_filters(Some(filters))
            .send()
            .await
            .map_err(classify)?
            .subnets()
            .iter()
            .find(|v| ours(v.tags()) && !excluded(v.subnet_id()))
            .and_then(|v| v.subnet_id())
            .map(str::to_string),
        "aws.ec2.InternetGateway" => c
            .describe_internet_gateways()
            .set_filters(Some(filters))
            .send()
            .await
            .map_err(classify)?
            .internet_gateways()
            .iter()
            .find(|v| ours(v.tags()) && !excluded(v.internet_gateway_id()))
            .and_then(|v| v.internet_gateway_id())
            .map(str::to_string),
        "aws.ec2.SecurityGroup" => c
            .describe_security_groups()
            .set_filters(Some(filters))
            .send()
            .await
            .map_err(classify)?
            .security_groups()
            .iter()
            .find(|v| ours(v.tags()) && !excluded(v.group_id()))
            .and_then(|v| v.group_id())
            .map(str::to_string),
        _ => c
            .describe_addresses()
            .set_filters(Some(filters))
            .send()
            .await
            .map_err(classify)?
            .addresses()
            .iter()
            .find(|v| ours(v.tags()) && !excluded(v.allocation_id()))
            .and_then(|v| v.allocation_id())
            .map(str::to_string),
    };
    let Some(id) = id else { return Ok(None) };
    let mut attrs = with(&req.attrs, &[("id", Some(id.clone()))]);
    // What a half-finished create left: its rules as they are, so an update completes them.
    if req.ty == "aws.ec2.SecurityGroup" {
        crate::security_group::read_into(&c, &id, &mut attrs).await?;
    }
    // A gateway created but not attached yet (CreateInternetGateway and AttachInternetGateway are
    // two calls): without its `vpc` the plan attaches it, before anything that needs it (a NAT
    // gateway fails with Gateway.NotAttached in a VPC without one).
    if req.ty == "aws.ec2.InternetGateway" && gateway_vpcs(&c, &id).await?.is_empty() {
        attrs.remove("vpc");
    }
    // A VPC's DNS attributes are set by calls after CreateVpc: left out, the plan sets them again.
    if req.ty == "aws.ec2.Vpc" {
        attrs.remove("enable_dns_support");
        attrs.remove("enable_dns_hostnames");
    }
    Ok(Some(Found { attrs, id }))
}
