//! ElastiCache (Redis OSS / Valkey): subnet groups, replication groups and Global Datastores
//! (global replication groups), each waited for until `available` and until gone. A Global
//! Datastore is managed through its primary's region, so its id is `ID|REGION`; a secondary leaves
//! its Global Datastore before it is deleted.

use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_elasticache::Client;
use aws_sdk_elasticache::types::{AuthTokenUpdateStrategyType, Tag};
use carbonc_apply::{
    CreateRequest, DeleteRequest, FindRequest, Found, ProviderError, ReadRequest, Resolved,
    UpdateRequest,
};
use carbonc_state::Val;

use crate::attrs::{
    all_tags, b, i, put, put_if_set, ref_arn, ref_id, ref_ids, required, s, text, with,
};
use crate::error::{classify, found, is_not_found};

const TIMEOUT: Duration = Duration::from_secs(60 * 60);
const POLL: Duration = Duration::from_secs(15);

/// The region a Global Datastore is managed from: its primary's.
pub fn datastore_region(r: &Resolved) -> Option<String> {
    r.target("primary").and_then(|p| p.region.clone())
}

/// `ID|REGION` -> (id, region).
/// A replication group's own settings (a Global Datastore secondary inherits them instead).
fn read_own_settings(
    attrs: &mut std::collections::BTreeMap<String, Val>,
    g: &aws_sdk_elasticache::types::ReplicationGroup,
) {
    put(
        attrs,
        "at_rest_encryption_enabled",
        g.at_rest_encryption_enabled().map(Val::Bool),
    );
    put(
        attrs,
        "transit_encryption_enabled",
        g.transit_encryption_enabled().map(Val::Bool),
    );
    let enabled = |s: Option<&str>| s.map(|s| Val::Bool(s == "enabled" || s == "enabling"));
    put(
        attrs,
        "automatic_failover_enabled",
        enabled(g.automatic_failover().map(|s| s.as_str())),
    );
    put(
        attrs,
        "multi_az_enabled",
        enabled(g.multi_az().map(|s| s.as_str())),
    );
}

/// A replication group's shape: its shards, and the replicas of its first shard. A Global
/// Datastore member has the datastore's shards and its own replicas.
fn read_shape(
    attrs: &mut std::collections::BTreeMap<String, Val>,
    g: &aws_sdk_elasticache::types::ReplicationGroup,
) {
    let groups = g.node_groups();
    if !groups.is_empty() {
        attrs.insert("num_node_groups".into(), Val::Int(groups.len() as i64));
        let replicas = groups[0].node_group_members().len().saturating_sub(1);
        attrs.insert("replicas_per_node_group".into(), Val::Int(replicas as i64));
    }
}

/// The user's tags of an ElastiCache resource, by its ARN (`ListTagsForResource`).
async fn tags_of(c: &Client, arn: &str) -> Result<Val, ProviderError> {
    let o = c
        .list_tags_for_resource()
        .resource_name(arn)
        .send()
        .await
        .map_err(classify)?;
    Ok(crate::attrs::user_tags(
        o.tag_list()
            .iter()
            .filter_map(|t| Some((t.key()?, t.value()?))),
    ))
}

pub fn split(id: &str) -> (&str, Option<&str>) {
    match id.split_once('|') {
        Some((gid, region)) => (gid, Some(region)),
        None => (id, None),
    }
}

/// A Global Datastore's status as a wait sees it: `primary-only` (a datastore without
/// secondaries, which never reports `available`) is as settled as `available` (TF
/// internal/service/elasticache/wait.go `waitGlobalReplicationGroupAvailable` targets both).
fn settled(status: Option<&str>) -> Option<String> {
    status.map(|s| match s {
        "primary-only" => "available".to_string(),
        s => s.to_string(),
    })
}

/// Waits until the Global Datastore `gid` is settled: `available` or `primary-only`, not
/// `creating` or `modifying` (every membership change makes it `modifying` for a while).
async fn wait_datastore(c: &Client, gid: &str) -> Result<(), ProviderError> {
    wait(&format!("Global Datastore {gid}"), false, || async {
        Ok(settled(
            datastore(c, gid).await?.as_ref().and_then(|g| g.status()),
        ))
    })
    .await
}

/// What ElastiCache answers while a Global Datastore or a replication group is in a transition
/// (`creating`, `modifying`, a member `disassociating`); TF retries these (replication_group.go
/// `DisassociateReplicationGroup`, `deleteReplicationGroup`; global_replication_group.go).
const IN_TRANSITION: [crate::retry::Transient; 2] = [
    crate::retry::transient("InvalidGlobalReplicationGroupState", ""),
    crate::retry::transient("InvalidReplicationGroupState", ""),
];
/// Sends a fluent ElastiCache call, again while the group or its datastore is in a transition
/// (`IN_TRANSITION`, for `TRANSITION_BUDGET`).
macro_rules! send_settling {
    ($what:expr, $call:expr) => {{
        let call = $call;
        crate::retry::while_settling(&$what, &IN_TRANSITION, TRANSITION_BUDGET, || async {
            call.clone().send().await.map_err(classify)
        })
        .await
    }};
}

/// Terraform retries these for 10 minutes (`replicationGroupDeleteRetryTimeout`); membership
/// changes take 5-20 minutes on AWS.
const TRANSITION_BUDGET: Duration = Duration::from_secs(30 * 60);

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
                // In cluster mode the group's address is its configuration endpoint; node groups
                // have no primary endpoint then (as TF's read does).
                g.configuration_endpoint()
                    .or_else(|| ng.and_then(|n| n.primary_endpoint()))
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
            wait_datastore(&c, &gid).await?;
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
            // A secondary inherits engine, node type, shards and encryption from its Global
            // Datastore, and may not set them (InvalidParameterCombination).
            let shards = i(a, "num_node_groups").unwrap_or(1);
            if global.is_none() {
                // More than one shard is cluster mode, which the engine's default parameter group
                // does not have (model elasticache: CreateReplicationGroup.CacheParameterGroupName).
                if shards > 1 && s(a, "parameter_group_name").is_none() {
                    call = call.cluster_mode(aws_sdk_elasticache::types::ClusterMode::Enabled);
                }
                call = call
                    .engine("redis")
                    .cache_node_type(required(a, "node_type")?)
                    .engine_version(required(a, "engine_version")?)
                    .port(i(a, "port").unwrap_or(6379) as i32)
                    .set_cache_parameter_group_name(s(a, "parameter_group_name"))
                    .num_node_groups(shards as i32)
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
            if global.is_some() {
                // Its replicas per shard are a secondary's own (TF sends them for a secondary).
                call = call
                    .replicas_per_node_group(i(a, "replicas_per_node_group").unwrap_or(1) as i32);
            }
            if global.is_none() {
                // A secondary takes its failover settings from the datastore (TF does not send
                // them for a secondary either).
                call = call
                    .automatic_failover_enabled(b(a, "automatic_failover_enabled").unwrap_or(true))
                    .multi_az_enabled(b(a, "multi_az_enabled").unwrap_or(true));
            }
            // A secondary can join only while its datastore is settled; two secondaries of one
            // datastore therefore take turns.
            send_settling!(format!("creating replication group {id}"), call)?;
            wait(&format!("replication group {id}"), false, || async {
                Ok(group(&c, &id)
                    .await?
                    .and_then(|g| g.status().map(str::to_string)))
            })
            .await?;
            // "The replication group can be in the 'available' state, but the global
            // replication group can still be in the 'modifying' state" (TF replication_group.go).
            if let Some(gid) = &global {
                wait_datastore(&c, gid).await?;
            }
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
            let out = found(
                c.describe_cache_subnet_groups()
                    .cache_subnet_group_name(&req.id)
                    .send()
                    .await
                    .map_err(classify),
            )?;
            let Some(group) = out.as_ref().and_then(|o| o.cache_subnet_groups().first()) else {
                return Ok(None);
            };
            put(&mut attrs, "name", text(group.cache_subnet_group_name()));
            put(
                &mut attrs,
                "description",
                text(group.cache_subnet_group_description()),
            );
            if let Some(arn) = group.arn() {
                attrs.insert("tags".into(), tags_of(&c, arn).await?);
            }
            put(&mut attrs, "arn", text(group.arn()));
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
            // AWS names a datastore `PREFIX-SUFFIX`, the prefix its own (CreateGlobalReplicationGroup:
            // "a prefix is automatically applied").
            put(
                &mut attrs,
                "id_suffix",
                text(gid.split_once('-').map(|(_, suffix)| suffix)),
            );
            put(&mut attrs, "id", text(Some(gid)));
            put(&mut attrs, "arn", text(g.arn()));
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
            if let Some(t) = g.cache_node_type() {
                attrs.insert("node_type".into(), Val::Str(t.to_string()));
            }
            put(&mut attrs, "id", text(g.replication_group_id()));
            // A Global Datastore secondary takes its encryption, failover and shape from the
            // primary (CreateReplicationGroup with GlobalReplicationGroupId: they "are inherited
            // from the primary"); they are read, and drift shows, on the primary.
            let secondary = g
                .global_replication_group_info()
                .and_then(|i| i.global_replication_group_member_role())
                == Some("SECONDARY");
            if !secondary {
                read_own_settings(&mut attrs, &g);
            }
            read_shape(&mut attrs, &g);
            if let Some(arn) = g.arn() {
                attrs.insert("tags".into(), tags_of(&c, arn).await?);
            }
            let groups = g.node_groups();
            put(
                &mut attrs,
                "port",
                groups
                    .first()
                    .and_then(|n| n.primary_endpoint())
                    .or(g.configuration_endpoint())
                    .and_then(|e| e.port())
                    .map(|p| Val::Int(p.into())),
            );
            // Engine version, parameter group and maintenance window are each member's.
            if let Some(member) = g.member_clusters().first() {
                // None: a member being replaced, or one the emulator does not keep.
                let o = found(
                    c.describe_cache_clusters()
                        .cache_cluster_id(member)
                        .send()
                        .await
                        .map_err(classify),
                )?;
                if let Some(k) = o.as_ref().and_then(|o| o.cache_clusters().first()) {
                    // "7.1" as the program says it, when AWS reports "7.1.0".
                    if let Some(v) = k.engine_version()
                        && !s(&attrs, "engine_version").is_some_and(|p| v.starts_with(&p))
                    {
                        attrs.insert("engine_version".into(), Val::Str(v.to_string()));
                    }
                    put_if_set(
                        &mut attrs,
                        "parameter_group_name",
                        text(
                            k.cache_parameter_group()
                                .and_then(|p| p.cache_parameter_group_name()),
                        ),
                    );
                    put_if_set(
                        &mut attrs,
                        "preferred_maintenance_window",
                        text(k.preferred_maintenance_window()),
                    );
                }
            }
        }
    }
    Ok(Some(Found {
        id: req.id.clone(),
        attrs,
    }))
}

/// A replication group's update, sending only what changed (TF does the same). Node type and
/// engine version are shared by every member of a Global Datastore and change through
/// ModifyGlobalReplicationGroup, sent once, by the primary's update; a member answers
/// ModifyReplicationGroup with them "Cluster [..] is part of a global cluster [..]. Request
/// rejected." (hashicorp/terraform-provider-aws#19929). A secondary's update, which runs after
/// the primary's and the datastore's, waits for the datastore to settle.
async fn update_group(c: &Client, req: &UpdateRequest) -> Result<(), ProviderError> {
    let r = &req.resource;
    let a = &r.attrs;
    let changed = |k: &str| a.get(k) != req.before.get(k);
    let g = group(c, &req.id).await?;
    let info = g.as_ref().and_then(|g| g.global_replication_group_info());
    let gid = info
        .and_then(|i| i.global_replication_group_id())
        .map(str::to_string);
    let primary = info.and_then(|i| i.global_replication_group_member_role()) == Some("PRIMARY");
    let shards = i(a, "num_node_groups").filter(|_| changed("num_node_groups"));
    let replicas = i(a, "replicas_per_node_group").filter(|_| changed("replicas_per_node_group"));
    let fewer_replicas = replicas
        .is_some_and(|n| i(&req.before, "replicas_per_node_group").is_some_and(|old| n < old));
    // Settings of the whole datastore: a member refuses them in ModifyReplicationGroup
    // (hashicorp/terraform-provider-aws#19929; automatic failover: #47644).
    let shared = [
        "node_type",
        "engine_version",
        "parameter_group_name",
        "automatic_failover_enabled",
    ];
    let shared_change = shared.iter().any(|k| changed(k));
    if let Some(gid) = &gid {
        if primary && shared_change {
            wait_datastore(c, gid).await?;
            let call = c
                .modify_global_replication_group()
                .global_replication_group_id(gid)
                .apply_immediately(true)
                .set_cache_node_type(s(a, "node_type").filter(|_| changed("node_type")))
                .set_engine_version(s(a, "engine_version").filter(|_| changed("engine_version")))
                .set_cache_parameter_group_name(
                    s(a, "parameter_group_name").filter(|_| changed("parameter_group_name")),
                )
                .set_automatic_failover_enabled(
                    b(a, "automatic_failover_enabled")
                        .filter(|_| changed("automatic_failover_enabled")),
                );
            send_settling!(format!("modifying Global Datastore {gid}"), call)?;
        }
        if let Some(to) = shards.filter(|_| primary) {
            wait_datastore(c, gid).await?;
            reshard_datastore(c, gid, to).await?;
        }
        wait_datastore(c, gid).await?;
    } else if let (Some(to), Some(g)) = (shards, &g) {
        reshard(c, g, to).await?;
    }
    // More replicas before the settings that may need them (automatic failover, Multi-AZ), fewer
    // after the settings that needed them are off.
    if let Some(to) = replicas.filter(|_| !fewer_replicas) {
        set_replicas(c, &req.id, to, true).await?;
    }
    let mut call = c
        .modify_replication_group()
        .replication_group_id(&req.id)
        .apply_immediately(true);
    let mut any = false;
    if changed("description") {
        call = call.set_replication_group_description(s(a, "description"));
        any = true;
    }
    if changed("security_groups") {
        call = call.set_security_group_ids(Some(ref_ids(r, "security_groups")));
        any = true;
    }
    if changed("preferred_maintenance_window") {
        call = call.set_preferred_maintenance_window(s(a, "preferred_maintenance_window"));
        any = true;
    }
    if gid.is_none() {
        if changed("node_type") {
            call = call.set_cache_node_type(s(a, "node_type"));
            any = true;
        }
        if changed("engine_version") {
            call = call.set_engine_version(s(a, "engine_version"));
            any = true;
        }
        if changed("parameter_group_name") {
            call = call.set_cache_parameter_group_name(s(a, "parameter_group_name"));
            any = true;
        }
        if changed("automatic_failover_enabled") {
            call = call.set_automatic_failover_enabled(b(a, "automatic_failover_enabled"));
            any = true;
        }
    }
    // Multi-AZ places one region's nodes: each member's own.
    if changed("multi_az_enabled") {
        call = call.set_multi_az_enabled(b(a, "multi_az_enabled"));
        any = true;
    }
    // A new AUTH token is added next to the old one, which stays valid until the clients have
    // moved (ROTATE; TF's `auth_token_update_strategy` default).
    if changed("auth_token")
        && let Some(token) = r.secrets.get("auth_token")
    {
        call = call
            .auth_token(token.expose())
            .auth_token_update_strategy(AuthTokenUpdateStrategyType::Rotate);
        any = true;
    }
    if any {
        send_settling!(format!("modifying replication group {}", req.id), call)?;
    }
    wait_group(c, &req.id).await?;
    if let Some(to) = replicas.filter(|_| fewer_replicas) {
        set_replicas(c, &req.id, to, false).await?;
    }
    retag(c, g.as_ref().and_then(|g| g.arn()), &req.before, a).await
}

/// Waits for a replication group to be `available` again after a change.
async fn wait_group(c: &Client, id: &str) -> Result<(), ProviderError> {
    wait(&format!("replication group {id}"), false, || async {
        Ok(group(c, id)
            .await?
            .and_then(|g| g.status().map(str::to_string)))
    })
    .await
}

/// The highest-numbered of `ids` beyond the first `keep`: the shards a smaller count removes
/// (TF removes from the end too, replication_group.go `modifyReplicationGroupShardConfiguration`).
fn beyond(mut ids: Vec<String>, keep: i64) -> Vec<String> {
    ids.sort();
    ids.split_off((keep.max(0) as usize).min(ids.len()))
}

/// A standalone group's shard count (ModifyReplicationGroupShardConfiguration, cluster mode only).
async fn reshard(
    c: &Client,
    g: &aws_sdk_elasticache::types::ReplicationGroup,
    to: i64,
) -> Result<(), ProviderError> {
    let id = g.replication_group_id().unwrap_or_default();
    if g.cluster_enabled() != Some(true) {
        return Err(ProviderError::Unsupported {
            what: format!(
                "changing the shard count of replication group {id}, which has cluster mode \
                 disabled: shards exist only in cluster mode (ModifyReplicationGroupShardConfiguration); \
                 replace the group with a cluster-mode parameter group, or keep one shard"
            ),
        });
    }
    let current: Vec<String> = g
        .node_groups()
        .iter()
        .filter_map(|n| n.node_group_id().map(str::to_string))
        .collect();
    let remove = beyond(current, to);
    let call = c
        .modify_replication_group_shard_configuration()
        .replication_group_id(id)
        .node_group_count(to as i32)
        .apply_immediately(true)
        .set_node_groups_to_remove(Some(remove).filter(|r| !r.is_empty()));
    send_settling!(format!("resharding replication group {id}"), call)?;
    wait_group(c, id).await
}

/// A Global Datastore's shard count, changed once for every member
/// (Increase/DecreaseNodeGroupsInGlobalReplicationGroup; a member refuses its own resharding).
async fn reshard_datastore(c: &Client, gid: &str, to: i64) -> Result<(), ProviderError> {
    let current: Vec<String> = datastore(c, gid)
        .await?
        .map(|d| {
            d.global_node_groups()
                .iter()
                .filter_map(|n| n.global_node_group_id().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let what = format!("changing the shards of Global Datastore {gid}");
    if to as usize > current.len() {
        send_settling!(
            what,
            c.increase_node_groups_in_global_replication_group()
                .global_replication_group_id(gid)
                .node_group_count(to as i32)
                .apply_immediately(true)
        )?;
    } else {
        send_settling!(
            what,
            c.decrease_node_groups_in_global_replication_group()
                .global_replication_group_id(gid)
                .node_group_count(to as i32)
                .set_global_node_groups_to_remove(Some(beyond(current, to)))
                .apply_immediately(true)
        )?;
    }
    wait_datastore(c, gid).await
}

/// Replicas per shard (IncreaseReplicaCount / DecreaseReplicaCount; each member of a Global
/// Datastore has its own).
async fn set_replicas(c: &Client, id: &str, to: i64, more: bool) -> Result<(), ProviderError> {
    let what = format!("changing the replicas of replication group {id}");
    if more {
        send_settling!(
            what,
            c.increase_replica_count()
                .replication_group_id(id)
                .new_replica_count(to as i32)
                .apply_immediately(true)
        )?;
    } else {
        send_settling!(
            what,
            c.decrease_replica_count()
                .replication_group_id(id)
                .new_replica_count(to as i32)
                .apply_immediately(true)
        )?;
    }
    wait_group(c, id).await
}

/// The user's tags after an update: added or changed ones set, removed ones taken off (carbon's
/// own `carbon:*` tags are never removed).
async fn retag(
    c: &Client,
    arn: Option<&str>,
    before: &std::collections::BTreeMap<String, Val>,
    a: &std::collections::BTreeMap<String, Val>,
) -> Result<(), ProviderError> {
    let Some(arn) = arn else { return Ok(()) };
    let (old, new) = (
        crate::attrs::map(before, "tags"),
        crate::attrs::map(a, "tags"),
    );
    let (set, removed) = crate::attrs::tag_changes(&old, &new);
    let set: Vec<Tag> = set
        .iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect();
    if !set.is_empty() {
        c.add_tags_to_resource()
            .resource_name(arn)
            .set_tags(Some(set))
            .send()
            .await
            .map_err(classify)?;
    }
    if !removed.is_empty() {
        c.remove_tags_from_resource()
            .resource_name(arn)
            .set_tag_keys(Some(removed))
            .send()
            .await
            .map_err(classify)?;
    }
    Ok(())
}

pub async fn update(cfg: &SdkConfig, req: &UpdateRequest) -> Result<Found, ProviderError> {
    let c = Client::new(cfg);
    let r = &req.resource;
    let a = &r.attrs;
    match r.ty.as_str() {
        "aws.elasticache.SubnetGroup" => {
            // Only what changed (TF: `d.HasChanges("subnet_ids", "description")`).
            if ["description", "subnets"]
                .iter()
                .any(|k| a.get(*k) != req.before.get(*k))
            {
                c.modify_cache_subnet_group()
                    .cache_subnet_group_name(&req.id)
                    .set_cache_subnet_group_description(s(a, "description"))
                    .set_subnet_ids(Some(ref_ids(r, "subnets")))
                    .send()
                    .await
                    .map_err(classify)?;
            }
            retag(&c, s(&req.before, "arn").as_deref(), &req.before, a).await?;
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
        _ => update_group(&c, req).await?,
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
            match crate::retry::while_settling(
                &format!("deleting Global Datastore {gid}"),
                &IN_TRANSITION,
                TRANSITION_BUDGET,
                || async {
                    c.delete_global_replication_group()
                        .global_replication_group_id(gid)
                        .retain_primary_replication_group(true)
                        .send()
                        .await
                        .map_err(classify)
                },
            )
            .await
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
                let member = |g: Option<aws_sdk_elasticache::types::GlobalReplicationGroup>| {
                    g.is_some_and(|g| {
                        g.members()
                            .iter()
                            .any(|m| m.replication_group_id() == Some(req.id.as_str()))
                    })
                };
                let left = crate::retry::while_settling(
                    &format!("disassociating replication group {}", req.id),
                    &IN_TRANSITION,
                    TRANSITION_BUDGET,
                    || async {
                        c.disassociate_global_replication_group()
                            .global_replication_group_id(gid)
                            .replication_group_id(&req.id)
                            .replication_group_region(region)
                            .send()
                            .await
                            .map_err(classify)
                    },
                )
                .await;
                // Refused because it has already left (a destroy interrupted after the
                // disassociation began): nothing more to do here.
                if let Err(e) = left
                    && member(datastore(&c, gid).await?)
                {
                    return Err(e);
                }
                // Disassociation is asynchronous: the member is `disassociating` until it is
                // gone from the datastore (TF `WaitGlobalReplicationGroupMemberDetached`).
                wait(
                    &format!(
                        "replication group {} to leave Global Datastore {gid}",
                        req.id
                    ),
                    false,
                    || async {
                        let member = datastore(&c, gid).await?.is_some_and(|g| {
                            g.members()
                                .iter()
                                .any(|m| m.replication_group_id() == Some(req.id.as_str()))
                        });
                        Ok(Some(
                            if member {
                                "disassociating"
                            } else {
                                "available"
                            }
                            .to_string(),
                        ))
                    },
                )
                .await?;
            }
            // A group that just left a datastore (or whose datastore was just deleted) is
            // `modifying` for a while; AWS refuses to delete it until it is `available`.
            match crate::retry::while_settling(
                &format!("deleting replication group {}", req.id),
                &IN_TRANSITION,
                TRANSITION_BUDGET,
                || async {
                    c.delete_replication_group()
                        .replication_group_id(&req.id)
                        .send()
                        .await
                        .map_err(classify)
                },
            )
            .await
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

/// A Global Datastore made by a create whose answer was lost (or whose carbonc was killed): AWS
/// names it `PREFIX-SUFFIX` with a prefix of its own, and the suffix is the program's `id_suffix`,
/// unique in the account. Without this, the create would run again and fail (its primary is
/// already a member of a datastore).
async fn find_datastore(
    cfg: &SdkConfig,
    req: &FindRequest,
) -> Result<Option<Found>, ProviderError> {
    let Some(suffix) = s(&req.attrs, "id_suffix") else {
        return Ok(None);
    };
    let c = Client::new(cfg);
    let mut pages = c
        .describe_global_replication_groups()
        .show_member_info(true)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(classify)?;
        for g in page.global_replication_groups() {
            let Some(gid) = g.global_replication_group_id() else {
                continue;
            };
            if !gid.ends_with(&format!("-{suffix}")) || g.status() == Some("deleting") {
                continue;
            }
            let region = g
                .members()
                .iter()
                .find(|m| m.role() == Some("PRIMARY"))
                .and_then(|m| m.replication_group_region())
                .unwrap_or(crate::GLOBAL_REGION);
            return Ok(Some(Found {
                id: format!("{gid}|{region}"),
                attrs: with(
                    &req.attrs,
                    &[
                        ("id", Some(gid.to_string())),
                        ("arn", g.arn().map(str::to_string)),
                    ],
                ),
            }));
        }
    }
    Ok(None)
}

/// By the name or id the program gives (unique per account and region).
pub async fn find(cfg: &SdkConfig, req: &FindRequest) -> Result<Option<Found>, ProviderError> {
    if req.ty == "aws.elasticache.GlobalReplicationGroup" {
        return find_datastore(cfg, req).await;
    }
    let id = match req.ty.as_str() {
        "aws.elasticache.SubnetGroup" => s(&req.attrs, "name"),
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
    let Some(found) = read(cfg, &request).await? else {
        return Ok(None);
    };
    // Only one carbon made for this address: a same-named group of someone else's is left alone
    // (the create then fails with ...AlreadyExists, naming it).
    let c = Client::new(cfg);
    let arn = match s(&found.attrs, "arn") {
        Some(arn) => Some(arn),
        None if req.ty == "aws.elasticache.SubnetGroup" => c
            .describe_cache_subnet_groups()
            .cache_subnet_group_name(&found.id)
            .send()
            .await
            .map_err(classify)?
            .cache_subnet_groups()
            .first()
            .and_then(|g| g.arn())
            .map(str::to_string),
        None => None,
    };
    let Some(arn) = arn else { return Ok(None) };
    let tags = c
        .list_tags_for_resource()
        .resource_name(&arn)
        .send()
        .await
        .map_err(classify)?;
    let has = |k: &str, v: &str| {
        tags.tag_list()
            .iter()
            .any(|t| t.key() == Some(k) && t.value() == Some(v))
    };
    Ok(
        (has("carbon:address", &carbonc_apply::address_tag(&req.address))
            && has("carbon:lineage", &req.lineage))
        .then_some(found),
    )
}
