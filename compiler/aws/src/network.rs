//! EC2 routing: NAT gateways and route tables (with their routes and subnet associations).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{Filter, NatGatewayState, ResourceType, RouteTable, Tag};
use carbonc_apply::{
    CreateRequest, DeleteRequest, FindRequest, Found, ProviderError, ReadRequest, Resolved,
    UpdateRequest,
};
use carbonc_state::Val;

use crate::attrs::{all_tags, map, ref_id, with};
use crate::ec2::spec;
use crate::error::{classify, is_not_found};

/// How long a NAT gateway may take to become available or to go away (AWS: a few minutes).
const NAT_TIMEOUT: Duration = Duration::from_secs(15 * 60);
const POLL: Duration = Duration::from_secs(5);

/// The AWS id of the resource a `Ref` value points to.
fn target_id(r: &Resolved, v: Option<&Val>) -> Option<String> {
    match v? {
        Val::Ref(addr) => r.refs.get(addr)?.id.clone(),
        _ => None,
    }
}

/// A route as AWS takes it: destination, gateway id, NAT gateway id.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Route {
    cidr: String,
    gateway: Option<String>,
    nat: Option<String>,
}

fn routes(r: &Resolved, attrs: &BTreeMap<String, Val>) -> Result<Vec<Route>, ProviderError> {
    let Some(Val::List(items)) = attrs.get("routes") else {
        return Ok(Vec::new());
    };
    items
        .iter()
        .filter_map(|v| match v {
            Val::Map(m) => Some(m),
            _ => None,
        })
        .map(|m| {
            let cidr = crate::attrs::s(m, "cidr_block").unwrap_or_default();
            let route = Route {
                gateway: target_id(r, m.get("internet_gateway")),
                nat: target_id(r, m.get("nat_gateway")),
                cidr,
            };
            if route.gateway.is_none() && route.nat.is_none() {
                return Err(ProviderError::Permanent {
                    code: "InvalidRoute".into(),
                    message: format!(
                        "the route to {} of `{}` names neither an internet gateway nor a NAT gateway that exists",
                        route.cidr, r.address
                    ),
                });
            }
            Ok(route)
        })
        .collect()
}

fn subnet_ids(r: &Resolved, attrs: &BTreeMap<String, Val>) -> BTreeSet<String> {
    match attrs.get("subnets") {
        Some(Val::List(items)) => items.iter().filter_map(|v| target_id(r, Some(v))).collect(),
        _ => BTreeSet::new(),
    }
}

fn ours(tags: &[Tag], address: &str) -> bool {
    let value = carbonc_apply::address_tag(address);
    tags.iter()
        .any(|t| t.key() == Some("carbon:address") && t.value() == Some(value.as_str()))
}

/// The user's tags of an EC2 resource (carbon's own left out).
pub(crate) fn user_tags(tags: &[Tag]) -> Val {
    crate::attrs::user_tags(tags.iter().filter_map(|t| Some((t.key()?, t.value()?))))
}

// ---- NAT gateways ------------------------------------------------------------------------------

async fn nat_state(c: &Client, id: &str) -> Result<Option<NatGatewayState>, ProviderError> {
    match c
        .describe_nat_gateways()
        .nat_gateway_ids(id)
        .send()
        .await
        .map_err(classify)
    {
        Ok(o) => Ok(o.nat_gateways().first().and_then(|g| g.state().cloned())),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Waits until the NAT gateway is in `want` (or gone, when `want` is `None`).
async fn wait_nat(
    c: &Client,
    id: &str,
    want: Option<NatGatewayState>,
) -> Result<(), ProviderError> {
    let start = std::time::Instant::now();
    loop {
        let now = nat_state(c, id).await?;
        let done = match (&want, &now) {
            (Some(w), Some(n)) => w == n,
            (None, None | Some(NatGatewayState::Deleted)) => true,
            _ => false,
        };
        if done {
            return Ok(());
        }
        if now == Some(NatGatewayState::Failed) {
            return Err(ProviderError::Permanent {
                code: "NatGatewayFailed".into(),
                message: format!("NAT gateway {id} failed to start"),
            });
        }
        if start.elapsed() > NAT_TIMEOUT {
            return Err(ProviderError::Permanent {
                code: "Timeout".into(),
                message: format!(
                    "NAT gateway {id} is still {:?} after {} minutes",
                    now,
                    NAT_TIMEOUT.as_secs() / 60
                ),
            });
        }
        carbonc_apply::waiting(format!(
            "NAT gateway {} (now {})",
            want.as_ref().map_or("deleted", |w| w.as_str()),
            now.as_ref().map_or("gone", |n| n.as_str())
        ));
        tokio::time::sleep(POLL).await;
    }
}

pub async fn create_nat(cfg: &SdkConfig, req: &CreateRequest) -> Result<Found, ProviderError> {
    let c = Client::new(cfg);
    let r = &req.resource;
    let out = c
        .create_nat_gateway()
        .subnet_id(ref_id(r, "subnet")?)
        .allocation_id(ref_id(r, "eip")?)
        .client_token(&req.token)
        .tag_specifications(spec(ResourceType::Natgateway, &all_tags(req)))
        .send()
        .await
        .map_err(classify)?;
    let id = out
        .nat_gateway()
        .and_then(|g| g.nat_gateway_id())
        .unwrap_or_default()
        .to_string();
    wait_nat(&c, &id, Some(NatGatewayState::Available)).await?;
    Ok(Found {
        id: id.clone(),
        attrs: with(&r.attrs, &[("id", Some(id))]),
    })
}

// ---- route tables ------------------------------------------------------------------------------

async fn route_table(c: &Client, id: &str) -> Result<Option<RouteTable>, ProviderError> {
    match c
        .describe_route_tables()
        .route_table_ids(id)
        .send()
        .await
        .map_err(classify)
    {
        Ok(o) => Ok(o.route_tables().first().cloned()),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

async fn add_route(c: &Client, table: &str, route: &Route) -> Result<(), ProviderError> {
    c.create_route()
        .route_table_id(table)
        .destination_cidr_block(&route.cidr)
        .set_gateway_id(route.gateway.clone())
        .set_nat_gateway_id(route.nat.clone())
        .send()
        .await
        .map(|_| ())
        .map_err(classify)
}

async fn associate(c: &Client, table: &str, subnet: &str) -> Result<(), ProviderError> {
    c.associate_route_table()
        .route_table_id(table)
        .subnet_id(subnet)
        .send()
        .await
        .map(|_| ())
        .map_err(classify)
}

pub async fn create_route_table(
    cfg: &SdkConfig,
    req: &CreateRequest,
) -> Result<Found, ProviderError> {
    let c = Client::new(cfg);
    let r = &req.resource;
    let wanted = routes(r, &r.attrs)?;
    let out = c
        .create_route_table()
        .vpc_id(ref_id(r, "vpc")?)
        .tag_specifications(spec(ResourceType::RouteTable, &all_tags(req)))
        .send()
        .await
        .map_err(classify)?;
    let id = out
        .route_table()
        .and_then(|t| t.route_table_id())
        .unwrap_or_default()
        .to_string();
    for route in &wanted {
        add_route(&c, &id, route).await?;
    }
    for subnet in subnet_ids(r, &r.attrs) {
        associate(&c, &id, &subnet).await?;
    }
    Ok(Found {
        id: id.clone(),
        attrs: with(&r.attrs, &[("id", Some(id))]),
    })
}

/// Routes, associations and tags brought to what the program says; the VPC forces a new table.
pub async fn update_route_table(
    cfg: &SdkConfig,
    req: &UpdateRequest,
) -> Result<Found, ProviderError> {
    let c = Client::new(cfg);
    let r = &req.resource;
    let Some(table) = route_table(&c, &req.id).await? else {
        return Err(ProviderError::Permanent {
            code: "InvalidRouteTableID.NotFound".into(),
            message: format!(
                "route table {} no longer exists; refresh and plan again",
                req.id
            ),
        });
    };
    let wanted: BTreeMap<String, Route> = routes(r, &r.attrs)?
        .into_iter()
        .map(|x| (x.cidr.clone(), x))
        .collect();
    let present: BTreeMap<String, Route> = table
        .routes()
        .iter()
        .filter(|x| x.gateway_id() != Some("local"))
        .filter_map(|x| {
            Some(Route {
                cidr: x.destination_cidr_block()?.to_string(),
                gateway: x.gateway_id().map(str::to_string),
                nat: x.nat_gateway_id().map(str::to_string),
            })
        })
        .map(|x| (x.cidr.clone(), x))
        .collect();
    for (cidr, _) in present.iter().filter(|(k, _)| !wanted.contains_key(*k)) {
        c.delete_route()
            .route_table_id(&req.id)
            .destination_cidr_block(cidr)
            .send()
            .await
            .map_err(classify)?;
    }
    for (cidr, route) in &wanted {
        match present.get(cidr) {
            Some(p) if p == route => {}
            Some(_) => {
                c.replace_route()
                    .route_table_id(&req.id)
                    .destination_cidr_block(cidr)
                    .set_gateway_id(route.gateway.clone())
                    .set_nat_gateway_id(route.nat.clone())
                    .send()
                    .await
                    .map_err(classify)?;
            }
            None => add_route(&c, &req.id, route).await?,
        }
    }
    let subnets = subnet_ids(r, &r.attrs);
    let mut associated = BTreeSet::new();
    for a in table.associations() {
        let (Some(subnet), Some(assoc)) = (a.subnet_id(), a.route_table_association_id()) else {
            continue;
        };
        if subnets.contains(subnet) {
            associated.insert(subnet.to_string());
        } else {
            c.disassociate_route_table()
                .association_id(assoc)
                .send()
                .await
                .map_err(classify)?;
        }
    }
    for subnet in subnets.difference(&associated) {
        associate(&c, &req.id, subnet).await?;
    }
    crate::ec2::retag(
        &c,
        &req.id,
        &map(&req.before, "tags"),
        &map(&r.attrs, "tags"),
    )
    .await?;
    Ok(Found {
        id: req.id.clone(),
        attrs: with(&r.attrs, &[("id", Some(req.id.clone()))]),
    })
}

// ---- both --------------------------------------------------------------------------------------

pub async fn read(cfg: &SdkConfig, req: &ReadRequest) -> Result<Option<Found>, ProviderError> {
    let c = Client::new(cfg);
    let tags = if req.ty == "aws.ec2.NatGateway" {
        match c
            .describe_nat_gateways()
            .nat_gateway_ids(&req.id)
            .send()
            .await
            .map_err(classify)
        {
            Ok(o) => match o.nat_gateways().first() {
                Some(g)
                    if !matches!(
                        g.state(),
                        Some(NatGatewayState::Deleted | NatGatewayState::Deleting)
                    ) =>
                {
                    g.tags().to_vec()
                }
                _ => return Ok(None),
            },
            Err(e) if is_not_found(&e) => return Ok(None),
            Err(e) => return Err(e),
        }
    } else {
        match route_table(&c, &req.id).await? {
            Some(t) => t.tags().to_vec(),
            None => return Ok(None),
        }
    };
    let mut attrs = req.attrs.clone();
    attrs.insert("tags".into(), user_tags(&tags));
    attrs.insert("id".into(), Val::Str(req.id.clone()));
    Ok(Some(Found {
        id: req.id.clone(),
        attrs,
    }))
}

pub async fn update(cfg: &SdkConfig, req: &UpdateRequest) -> Result<Found, ProviderError> {
    if req.resource.ty == "aws.ec2.RouteTable" {
        return update_route_table(cfg, req).await;
    }
    // A NAT gateway's subnet and address force a new one: only its tags change in place.
    let c = Client::new(cfg);
    crate::ec2::retag(
        &c,
        &req.id,
        &map(&req.before, "tags"),
        &map(&req.resource.attrs, "tags"),
    )
    .await?;
    Ok(Found {
        id: req.id.clone(),
        attrs: with(&req.resource.attrs, &[("id", Some(req.id.clone()))]),
    })
}

pub async fn delete(cfg: &SdkConfig, req: &DeleteRequest) -> Result<(), ProviderError> {
    let c = Client::new(cfg);
    let r = if req.ty == "aws.ec2.NatGateway" {
        match c
            .delete_nat_gateway()
            .nat_gateway_id(&req.id)
            .send()
            .await
            .map_err(classify)
        {
            Ok(_) => wait_nat(&c, &req.id, None).await,
            Err(e) => Err(e),
        }
    } else {
        // The associations first: a table with subnets cannot be deleted.
        if let Some(t) = route_table(&c, &req.id).await? {
            for a in t.associations().iter().filter(|a| a.main() != Some(true)) {
                if let Some(assoc) = a.route_table_association_id() {
                    // Gone already is fine; anything else (a throttle) goes to the engine's retry,
                    // rather than to a DeleteRouteTable that would fail on the association.
                    match c
                        .disassociate_route_table()
                        .association_id(assoc)
                        .send()
                        .await
                        .map_err(classify)
                    {
                        Err(e) if !is_not_found(&e) => return Err(e),
                        _ => {}
                    }
                }
            }
        }
        c.delete_route_table()
            .route_table_id(&req.id)
            .send()
            .await
            .map(|_| ())
            .map_err(classify)
    };
    crate::error::deleted(r)
}

pub async fn find(cfg: &SdkConfig, req: &FindRequest) -> Result<Option<Found>, ProviderError> {
    let c = Client::new(cfg);
    let lineage = Filter::builder()
        .name("tag:carbon:lineage")
        .values(&req.lineage)
        .build();
    let excluded = |id: Option<&str>| id.is_some_and(|id| req.exclude.iter().any(|x| x == id));
    let id = if req.ty == "aws.ec2.NatGateway" {
        c.describe_nat_gateways()
            .filter(lineage)
            .send()
            .await
            .map_err(classify)?
            .nat_gateways()
            .iter()
            .filter(|g| {
                !matches!(
                    g.state(),
                    Some(NatGatewayState::Deleted | NatGatewayState::Deleting)
                )
            })
            .find(|g| ours(g.tags(), &req.address) && !excluded(g.nat_gateway_id()))
            .and_then(|g| g.nat_gateway_id())
            .map(str::to_string)
    } else {
        c.describe_route_tables()
            .filters(lineage)
            .send()
            .await
            .map_err(classify)?
            .route_tables()
            .iter()
            .find(|t| ours(t.tags(), &req.address) && !excluded(t.route_table_id()))
            .and_then(|t| t.route_table_id())
            .map(str::to_string)
    };
    Ok(id.map(|id| {
        let mut attrs = with(&req.attrs, &[("id", Some(id.clone()))]);
        // A route table is made by several calls (CreateRouteTable, then CreateRoute and
        // AssociateRouteTable for each): one found after an interrupted create may lack some. Its
        // routes and associations are left out of what is recorded, so the plan updates them,
        // and the update syncs them with what AWS has (a no-op when the create had finished).
        if req.ty == "aws.ec2.RouteTable" {
            attrs.remove("routes");
            attrs.remove("subnets");
        }
        Found { attrs, id }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_route_needs_a_gateway() {
        let r = Resolved {
            address: "rt[us-east-1]".into(),
            ty: "aws.ec2.RouteTable".into(),
            region: Some("us-east-1".into()),
            attrs: BTreeMap::from([(
                "routes".to_string(),
                Val::List(vec![Val::Map(BTreeMap::from([(
                    "cidr_block".to_string(),
                    Val::Str("0.0.0.0/0".into()),
                )]))]),
            )]),
            secrets: BTreeMap::new(),
            refs: BTreeMap::new(),
        };
        let e = routes(&r, &r.attrs).unwrap_err();
        assert!(e.to_string().contains("0.0.0.0/0"), "{e}");
    }
}
