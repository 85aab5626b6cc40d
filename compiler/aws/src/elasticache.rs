//! ElastiCache (Redis OSS / Valkey): subnet groups, replication groups and Global Datastores
//! (global replication groups), each waited for until `available` and until gone. A Global
//! Datastore is managed through its primary's region, so its id is `ID|REGION`; a secondary leaves
//! its Global Datastore before it is deleted.

use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_elasticache::Client;
use aws_sdk_elasticache::types::Tag;
use carbonc_apply::{
    CreateRequest, DeleteRequest, FindRequest, Found, ProviderError, ReadRequest, Resolved,
    UpdateRequest,
};
use carbonc_state::Val;

use crate::attrs::{all_tags, b, i, ref_arn, ref_id, ref_ids, required, s, with};
use crate::error::{classify, is_not_found};

const TIMEOUT: Duration = Duration::from_secs(60 * 60);
const POLL: Duration = Duration::from_secs(15);

/// The region a Global Datastore is managed from: its primary's.
pub fn datastore_region(r: &Resolved) -> Option<String> {
    r.target("primary").and_then(|p| p.region.clone())
}

/// `ID|REGION` -> (id, region).
pub fn split(id: &str) -> (&str, Option<&str>) {
    match id.split_once('|') {
        Some((gid, region)) => (gid, Some(region)),
        None => (id, None),
    }
}

/// Waits for `status` to say `available` (or, with `gone`, for nothing to be left).
async fn wait<F, Fut>(what: &str, gone: bool, status: F) -> Result<(), ProviderError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<String>, ProviderError>>,
{
    crate::poll::until_available(what, gone, &["create-failed"], (TIMEOUT, POLL), status).await
}

async fn group(
    c: &Client,
    id: &str,
) -> Result<Option<aws_sdk_elasticache::types::ReplicationGroup>, ProviderError> {
    match c
        .describe_replication_groups()
        .replication_group_id(id)
        .send()
        .await
        .map_err(classify)
    {
        Ok(o) => Ok(o.replication_groups().first().cloned()),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

async fn datastore(
    c: &Client,
    id: &str,
) -> Result<Option<aws_sdk_elasticache::types::GlobalReplicationGroup>, ProviderError> {
    match c
        .describe_global_replication_groups()
        .global_replication_group_id(id)
        .show_member_info(true)
        .send()
        .await
        .map_err(classify)
    {
        Ok(o) => Ok(o.global_replication_groups().first().cloned()),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

fn tags(req: &CreateRequest) -> Vec<Tag> {
    all_tags(req)
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

fn group_attrs(
    a: &std::collections::BTreeMap<String, Val>,
    g: &aws_sdk_elasticache::types::ReplicationGroup,
) -> std::collections::BTreeMap<String, Val> {
    let ng = g.node_groups().first();
    with(
        a,
        &[
            ("arn", g.arn().map(str::to_string)),
            (
                "primary_endpoint",
                ng.and_then(|n| n.primary_endpoint())
                    .and_then(|e| e.address())
                    .map(str::to_string),
            ),
            (
                "reader_endpoint",
                ng.and_then(|n| n.reader_endpoint())
                    .and_then(|e| e.address())
                    .map(str::to_string),
            ),
        ],
    )
}

pub async fn create(cfg: &SdkConfig, req: &CreateRequest) -> Result<Found, ProviderError> {
    let c = Client::new(cfg);
    let r = &req.resource;
    let a = &r.attrs;
    match r.ty.as_str() {
        "aws.elasticache.SubnetGroup" => {
            let name = required(a, "name")?;
            let out = c
                .create_cache_subnet_group()
                .cache_subnet_group_name(&name)
                .cache_subnet_group_description(s(a, "description").unwrap_or_default())
                .set_subnet_ids(Some(ref_ids(r, "subnets")))
                .set_tags(Some(tags(req)))
                .send()
                .await
                .map_err(classify)?;
            let arn = out
                .cache_subnet_group()
                .and_then(|g| g.arn())
                .map(str::to_string);
            Ok(Found {
                id: name,
                attrs: with(a, &[("arn", arn)]),
            })
        }
        "aws.elasticache.GlobalReplicationGroup" => {
            let out = c
                .create_global_replication_group()
                .global_replication_group_id_suffix(required(a, "id_suffix")?)
                .global_replication_group_description(s(a, "description").unwrap_or_default())
                .primary_replication_group_id(ref_id(r, "primary")?)
                .send()
                .await
                .map_err(classify)?;
            let g = out.global_replication_group();
            let gid = g
                .and_then(|g| g.global_replication_group_id())
                .unwrap_or_default()
                .to_string();
            let arn = g.and_then(|g| g.arn()).map(str::to_string);
            wait(&format!("Global Datastore {gid}"), false, || async {
                Ok(datastore(&c, &gid)
                    .await?
                    .and_then(|g| g.status().map(str::to_string)))
            })
            .await?;
            let region = datastore_region(r).unwrap_or_else(|| crate::GLOBAL_REGION.to_string());
            Ok(Found {
                id: format!("{gid}|{region}"),
                attrs: with(a, &[("id", Some(gid.clone())), ("arn", arn)]),
            })
        }
        _ => {
            let id = required(a, "id")?;
            let global = r
                .target("global_replication_group")
                .and_then(|g| s(&g.attributes, "id"));
            let mut call = c
                .create_replication_group()
                .replication_group_id(&id)
                .replication_group_description(required(a, "description")?)
                .set_global_replication_group_id(global.clone())
                .cache_subnet_group_name(ref_id(r, "subnet_group")?)
                .set_security_group_ids(Some(ref_ids(r, "security_groups")))
                .set_preferred_maintenance_window(s(a, "preferred_maintenance_window"))
                .set_tags(Some(tags(req)));
            // A secondary inherits engine, node type, shards and encryption from its Global Datastore.
            if global.is_none() {
                call = call
                    .engine("redis")
                    .cache_node_type(required(a, "node_type")?)
                    .engine_version(required(a, "engine_version")?)
                    .port(i(a, "port").unwrap_or(6379) as i32)
                    .set_cache_parameter_group_name(s(a, "parameter_group_name"))
                    .num_node_groups(i(a, "num_node_groups").unwrap_or(1) as i32)
                    .replicas_per_node_group(i(a, "replicas_per_node_group").unwrap_or(1) as i32)
                    .at_rest_encryption_enabled(b(a, "at_rest_encryption_enabled").unwrap_or(true))
                    .transit_encryption_enabled(b(a, "transit_encryption_enabled").unwrap_or(true));
                if let Some(token) = r.secrets.get("auth_token") {
                    call = call.auth_token(token.expose());
                }
            }
            if r.target("kms_key").is_some() {
                call = call.kms_key_id(ref_arn(r, "kms_key")?);
            }
            call = call
                .automatic_failover_enabled(b(a, "automatic_failover_enabled").unwrap_or(true))
                .multi_az_enabled(b(a, "multi_az_enabled").unwrap_or(true));
            call.send().await.map_err(classify)?;
            wait(&format!("replication group {id}"), false, || async {
                Ok(group(&c, &id)
                    .await?
                    .and_then(|g| g.status().map(str::to_string)))
            })
            .await?;
            let g = group(&c, &id)
                .await?
                .ok_or_else(|| ProviderError::Permanent {
                    code: "NotFound".into(),
                    message: format!("replication group {id} disappeared after it was created"),
                })?;
            Ok(Found {
                id,
                attrs: group_attrs(a, &g),
            })
        }
    }
}

pub async fn read(cfg: &SdkConfig, req: &ReadRequest) -> Result<Option<Found>, ProviderError> {
    let c = Client::new(cfg);
    let mut attrs = req.attrs.clone();
    match req.ty.as_str() {
        "aws.elasticache.SubnetGroup" => {
            match c
                .describe_cache_subnet_groups()
                .cache_subnet_group_name(&req.id)
                .send()
                .await
                .map_err(classify)
            {
                Ok(o) if !o.cache_subnet_groups().is_empty() => {}
                Ok(_) => return Ok(None),
                Err(e) if is_not_found(&e) => return Ok(None),
                Err(e) => return Err(e),
            }
        }
        "aws.elasticache.GlobalReplicationGroup" => {
            let (gid, _) = split(&req.id);
            let Some(g) = datastore(&c, gid).await? else {
                return Ok(None);
            };
            if g.status() == Some("deleting") {
                return Ok(None);
            }
            if let Some(d) = g.global_replication_group_description() {
                attrs.insert("description".into(), Val::Str(d.to_string()));
            }
        }
        _ => {
            let Some(g) = group(&c, &req.id).await? else {
                return Ok(None);
            };
            if g.status() == Some("deleting") {
                return Ok(None);
            }
            attrs = group_attrs(&attrs, &g);
            if let Some(d) = g.description() {
                attrs.insert("description".into(), Val::Str(d.to_string()));
            }
        }
    }
    Ok(Some(Found {
        id: req.id.clone(),
        attrs,
    }))
}

pub async fn update(cfg: &SdkConfig, req: &UpdateRequest) -> Result<Found, ProviderError> {
    let c = Client::new(cfg);
    let r = &req.resource;
    let a = &r.attrs;
    match r.ty.as_str() {
        "aws.elasticache.SubnetGroup" => {
            c.modify_cache_subnet_group()
                .cache_subnet_group_name(&req.id)
                .set_cache_subnet_group_description(s(a, "description"))
                .set_subnet_ids(Some(ref_ids(r, "subnets")))
                .send()
                .await
                .map_err(classify)?;
        }
        "aws.elasticache.GlobalReplicationGroup" => {
            let (gid, _) = split(&req.id);
            c.modify_global_replication_group()
                .global_replication_group_id(gid)
                .apply_immediately(true)
                .set_global_replication_group_description(s(a, "description"))
                .send()
                .await
                .map_err(classify)?;
        }
        _ => {
            c.modify_replication_group()
                .replication_group_id(&req.id)
                .apply_immediately(true)
                .set_replication_group_description(s(a, "description"))
                .set_security_group_ids(Some(ref_ids(r, "security_groups")))
                .set_preferred_maintenance_window(s(a, "preferred_maintenance_window"))
                .automatic_failover_enabled(b(a, "automatic_failover_enabled").unwrap_or(true))
                .multi_az_enabled(b(a, "multi_az_enabled").unwrap_or(true))
                .send()
                .await
                .map_err(classify)?;
            wait(&format!("replication group {}", req.id), false, || async {
                Ok(group(&c, &req.id)
                    .await?
                    .and_then(|g| g.status().map(str::to_string)))
            })
            .await?;
        }
    }
    let attrs = crate::attrs::after_update(a, &req.before);
    Ok(Found {
        id: req.id.clone(),
        attrs,
    })
}

pub async fn delete(cfg: &SdkConfig, req: &DeleteRequest) -> Result<(), ProviderError> {
    let c = Client::new(cfg);
    let r = match req.ty.as_str() {
        "aws.elasticache.SubnetGroup" => c
            .delete_cache_subnet_group()
            .cache_subnet_group_name(&req.id)
            .send()
            .await
            .map(|_| ())
            .map_err(classify),
        "aws.elasticache.GlobalReplicationGroup" => {
            let (gid, _) = split(&req.id);
            match c
                .delete_global_replication_group()
                .global_replication_group_id(gid)
                .retain_primary_replication_group(true)
                .send()
                .await
                .map_err(classify)
            {
                Ok(_) => {
                    wait(&format!("Global Datastore {gid}"), true, || async {
                        Ok(datastore(&c, gid)
                            .await?
                            .and_then(|g| g.status().map(str::to_string)))
                    })
                    .await
                }
                Err(e) => Err(e),
            }
        }
        _ => {
            // A secondary leaves its Global Datastore first; AWS refuses to delete a member.
            if let Some(g) = group(&c, &req.id).await?
                && let Some(info) = g.global_replication_group_info()
                && info.global_replication_group_member_role() == Some("SECONDARY")
                && let (Some(gid), Some(region)) =
                    (info.global_replication_group_id(), req.region.as_deref())
            {
                c.disassociate_global_replication_group()
                    .global_replication_group_id(gid)
                    .replication_group_id(&req.id)
                    .replication_group_region(region)
                    .send()
                    .await
                    .map_err(classify)?;
            }
            match c
                .delete_replication_group()
                .replication_group_id(&req.id)
                .send()
                .await
                .map_err(classify)
            {
                Ok(_) => {
                    wait(&format!("replication group {}", req.id), true, || async {
                        Ok(group(&c, &req.id)
                            .await?
                            .and_then(|g| g.status().map(str::to_string))
                            .filter(|s| s != "deleted"))
                    })
                    .await
                }
                Err(e) => Err(e),
            }
        }
    };
    crate::error::deleted(r)
}

/// By the name or id the program gives (unique per account and region).
pub async fn find(cfg: &SdkConfig, req: &FindRequest) -> Result<Option<Found>, ProviderError> {
    let id = match req.ty.as_str() {
        "aws.elasticache.SubnetGroup" => s(&req.attrs, "name"),
        "aws.elasticache.GlobalReplicationGroup" => None,
        _ => s(&req.attrs, "id"),
    };
    let Some(id) = id else { return Ok(None) };
    let request = ReadRequest {
        address: req.address.clone(),
        ty: req.ty.clone(),
        region: req.region.clone(),
        id,
        attrs: req.attrs.clone(),
    };
    read(cfg, &request).await
}
