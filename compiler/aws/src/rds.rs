//! RDS and Aurora: global clusters, DB subnet groups, clusters and cluster instances, each waited for
//! until `available` (and until gone on delete). A secondary cluster of a global database waits
//! until the global cluster has a writer, since AWS refuses a secondary before the primary has
//! joined; a cluster leaves its global cluster before it is deleted.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_rds::Client;
use aws_sdk_rds::types::Tag;
use carbonc_apply::{
    CreateRequest, DeleteRequest, FindRequest, Found, ProviderError, ReadRequest, Resolved,
    UpdateRequest,
};
use carbonc_state::Val;

use crate::attrs::{
    all_tags, b, i, internal_tag, map, ref_arn, ref_id, ref_ids, required, s, with,
};
use crate::error::{classify, is_not_found};

/// Aurora clusters take 10-20 minutes and instances 10-15; a global secondary can take longer.
const TIMEOUT: Duration = Duration::from_secs(60 * 60);
const POLL: Duration = Duration::from_secs(15);

fn tags(t: &BTreeMap<String, String>) -> Vec<Tag> {
    t.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

fn user_tags(t: &[Tag]) -> Val {
    Val::Map(
        t.iter()
            .filter(|t| !internal_tag(t.key().unwrap_or("")))
            .filter_map(|t| Some((t.key()?.to_string(), Val::Str(t.value()?.to_string()))))
            .collect(),
    )
}

fn ours(t: &[Tag], address: &str, lineage: &str) -> bool {
    let has = |k: &str, v: &str| t.iter().any(|x| x.key() == Some(k) && x.value() == Some(v));
    has("carbon:address", address) && has("carbon:lineage", lineage)
}

/// Waits for `status` to say `available` (or, with `gone`, for nothing to be left).
async fn wait<F, Fut>(what: &str, gone: bool, status: F) -> Result<(), ProviderError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<String>, ProviderError>>,
{
    crate::poll::until_available(
        what,
        gone,
        &["failed", "inaccessible-encryption-credentials"],
        (TIMEOUT, POLL),
        status,
    )
    .await
}

async fn cluster(
    c: &Client,
    id: &str,
) -> Result<Option<aws_sdk_rds::types::DbCluster>, ProviderError> {
    match c
        .describe_db_clusters()
        .db_cluster_identifier(id)
        .send()
        .await
        .map_err(classify)
    {
        Ok(o) => Ok(o.db_clusters().first().cloned()),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

async fn instance(
    c: &Client,
    id: &str,
) -> Result<Option<aws_sdk_rds::types::DbInstance>, ProviderError> {
    match c
        .describe_db_instances()
        .db_instance_identifier(id)
        .send()
        .await
        .map_err(classify)
    {
        Ok(o) => Ok(o.db_instances().first().cloned()),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

async fn global(
    c: &Client,
    id: &str,
) -> Result<Option<aws_sdk_rds::types::GlobalCluster>, ProviderError> {
    match c
        .describe_global_clusters()
        .global_cluster_identifier(id)
        .send()
        .await
        .map_err(classify)
    {
        // Matched here too: the emulator ignores the identifier filter.
        Ok(o) => Ok(o
            .global_clusters()
            .iter()
            .find(|g| g.global_cluster_identifier() == Some(id))
            .cloned()),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

async fn wait_cluster(c: &Client, id: &str, gone: bool) -> Result<(), ProviderError> {
    wait(&format!("Aurora cluster {id}"), gone, || async {
        Ok(cluster(c, id)
            .await?
            .and_then(|k| k.status().map(str::to_string)))
    })
    .await
}

async fn wait_instance(c: &Client, id: &str, gone: bool) -> Result<(), ProviderError> {
    wait(&format!("DB instance {id}"), gone, || async {
        Ok(instance(c, id)
            .await?
            .and_then(|k| k.db_instance_status().map(str::to_string)))
    })
    .await
}

/// A secondary may join only once the global cluster has its writer.
async fn wait_for_writer(c: &Client, global_id: &str) -> Result<(), ProviderError> {
    wait(
        &format!("the writer of global cluster {global_id}"),
        false,
        || async {
            let g = global(c, global_id).await?;
            Ok(g.map(|g| {
                if g.global_cluster_members()
                    .iter()
                    .any(|m| m.is_writer() == Some(true))
                {
                    "available".to_string()
                } else {
                    "waiting-for-primary".to_string()
                }
            }))
        },
    )
    .await
}

fn cluster_attrs(
    a: &BTreeMap<String, Val>,
    k: &aws_sdk_rds::types::DbCluster,
) -> BTreeMap<String, Val> {
    with(
        a,
        &[
            ("arn", k.db_cluster_arn().map(str::to_string)),
            ("endpoint", k.endpoint().map(str::to_string)),
            ("reader_endpoint", k.reader_endpoint().map(str::to_string)),
        ],
    )
}

// ---- create ------------------------------------------------------------------------------------

pub async fn create(cfg: &SdkConfig, req: &CreateRequest) -> Result<Found, ProviderError> {
    let c = Client::new(cfg);
    let r = &req.resource;
    let a = &r.attrs;
    match r.ty.as_str() {
        "aws.rds.GlobalCluster" => {
            let id = required(a, "identifier")?;
            let out = c
                .create_global_cluster()
                .global_cluster_identifier(&id)
                .engine(required(a, "engine")?)
                .engine_version(required(a, "engine_version")?)
                .storage_encrypted(b(a, "storage_encrypted").unwrap_or(true))
                .deletion_protection(b(a, "deletion_protection").unwrap_or(true))
                .set_tags(Some(tags(&all_tags(req))))
                .send()
                .await
                .map_err(classify)?;
            let g = out.global_cluster();
            Ok(Found {
                id: id.clone(),
                attrs: with(
                    a,
                    &[
                        (
                            "arn",
                            g.and_then(|g| g.global_cluster_arn()).map(str::to_string),
                        ),
                        ("endpoint", g.and_then(|g| g.endpoint()).map(str::to_string)),
                    ],
                ),
            })
        }
        "aws.rds.SubnetGroup" => {
            let name = required(a, "name")?;
            let out = c
                .create_db_subnet_group()
                .db_subnet_group_name(&name)
                .db_subnet_group_description(s(a, "description").unwrap_or_default())
                .set_subnet_ids(Some(ref_ids(r, "subnets")))
                .set_tags(Some(tags(&all_tags(req))))
                .send()
                .await
                .map_err(classify)?;
            let arn = out
                .db_subnet_group()
                .and_then(|g| g.db_subnet_group_arn())
                .map(str::to_string);
            Ok(Found {
                id: name,
                attrs: with(a, &[("arn", arn)]),
            })
        }
        "aws.rds.Cluster" => create_cluster(&c, req).await,
        _ => {
            let id = required(a, "identifier")?;
            c.create_db_instance()
                .db_instance_identifier(&id)
                .db_cluster_identifier(ref_id(r, "cluster")?)
                .db_instance_class(required(a, "instance_class")?)
                .engine(required(a, "engine")?)
                .set_availability_zone(s(a, "availability_zone"))
                .publicly_accessible(b(a, "publicly_accessible").unwrap_or(false))
                .set_preferred_maintenance_window(s(a, "preferred_maintenance_window"))
                .enable_performance_insights(b(a, "performance_insights_enabled").unwrap_or(true))
                .set_tags(Some(tags(&all_tags(req))))
                .send()
                .await
                .map_err(classify)?;
            wait_instance(&c, &id, false).await?;
            let k = instance(&c, &id).await?;
            Ok(Found {
                id: id.clone(),
                attrs: with(
                    a,
                    &[
                        (
                            "arn",
                            k.as_ref()
                                .and_then(|k| k.db_instance_arn())
                                .map(str::to_string),
                        ),
                        (
                            "endpoint",
                            k.as_ref()
                                .and_then(|k| k.endpoint())
                                .and_then(|e| e.address())
                                .map(str::to_string),
                        ),
                    ],
                ),
            })
        }
    }
}

async fn create_cluster(c: &Client, req: &CreateRequest) -> Result<Found, ProviderError> {
    let r: &Resolved = &req.resource;
    let a = &r.attrs;
    let id = required(a, "identifier")?;
    let global_id = r.target("global_cluster").and_then(|g| g.id.clone());
    if let Some(g) = &global_id
        && s(a, "global_role").as_deref() == Some("secondary")
    {
        wait_for_writer(c, g).await?;
    }
    let mut call = c
        .create_db_cluster()
        .db_cluster_identifier(&id)
        .engine(required(a, "engine")?)
        .engine_version(required(a, "engine_version")?)
        .set_global_cluster_identifier(global_id)
        .set_database_name(s(a, "database_name"))
        .set_master_username(s(a, "master_username"))
        .db_subnet_group_name(ref_id(r, "db_subnet_group")?)
        .set_vpc_security_group_ids(Some(ref_ids(r, "security_groups")))
        .storage_encrypted(b(a, "storage_encrypted").unwrap_or(true))
        .backup_retention_period(i(a, "backup_retention_period").unwrap_or(7) as i32)
        .set_preferred_backup_window(s(a, "preferred_backup_window"))
        .set_preferred_maintenance_window(s(a, "preferred_maintenance_window"))
        .deletion_protection(b(a, "deletion_protection").unwrap_or(true))
        .set_tags(Some(tags(&all_tags(req))));
    if r.target("kms_key").is_some() {
        call = call.kms_key_id(ref_arn(r, "kms_key")?);
    }
    if b(a, "manage_master_user_password") == Some(true) {
        call = call.manage_master_user_password(true);
    } else if let Some(pw) = r.secrets.get("master_password") {
        call = call.master_user_password(pw.expose());
    }
    call.send().await.map_err(classify)?;
    wait_cluster(c, &id, false).await?;
    let k = cluster(c, &id)
        .await?
        .ok_or_else(|| ProviderError::Permanent {
            code: "NotFound".into(),
            message: format!("Aurora cluster {id} disappeared after it was created"),
        })?;
    Ok(Found {
        id,
        attrs: cluster_attrs(a, &k),
    })
}

// ---- read --------------------------------------------------------------------------------------

pub async fn read(cfg: &SdkConfig, req: &ReadRequest) -> Result<Option<Found>, ProviderError> {
    let c = Client::new(cfg);
    let mut attrs = req.attrs.clone();
    match req.ty.as_str() {
        "aws.rds.GlobalCluster" => {
            let Some(g) = global(&c, &req.id).await? else {
                return Ok(None);
            };
            if let Some(v) = g.engine_version() {
                attrs.insert("engine_version".into(), Val::Str(v.to_string()));
            }
            if let Some(d) = g.deletion_protection() {
                attrs.insert("deletion_protection".into(), Val::Bool(d));
            }
        }
        "aws.rds.SubnetGroup" => {
            match c
                .describe_db_subnet_groups()
                .db_subnet_group_name(&req.id)
                .send()
                .await
                .map_err(classify)
            {
                Ok(o) if !o.db_subnet_groups().is_empty() => {}
                Ok(_) => return Ok(None),
                Err(e) if is_not_found(&e) => return Ok(None),
                Err(e) => return Err(e),
            }
        }
        "aws.rds.Cluster" => {
            let Some(k) = cluster(&c, &req.id).await? else {
                return Ok(None);
            };
            if k.status() == Some("deleting") {
                return Ok(None);
            }
            attrs = cluster_attrs(&attrs, &k);
            if let Some(v) = k.engine_version() {
                attrs.insert("engine_version".into(), Val::Str(v.to_string()));
            }
            if let Some(v) = k.backup_retention_period() {
                attrs.insert("backup_retention_period".into(), Val::Int(i64::from(v)));
            }
            if let Some(d) = k.deletion_protection() {
                attrs.insert("deletion_protection".into(), Val::Bool(d));
            }
            attrs.insert("tags".into(), user_tags(k.tag_list()));
        }
        _ => {
            let Some(k) = instance(&c, &req.id).await? else {
                return Ok(None);
            };
            if k.db_instance_status() == Some("deleting") {
                return Ok(None);
            }
            if let Some(v) = k.db_instance_class() {
                attrs.insert("instance_class".into(), Val::Str(v.to_string()));
            }
            attrs.insert("tags".into(), user_tags(k.tag_list()));
        }
    }
    Ok(Some(Found {
        id: req.id.clone(),
        attrs,
    }))
}

// ---- update ------------------------------------------------------------------------------------

pub async fn update(cfg: &SdkConfig, req: &UpdateRequest) -> Result<Found, ProviderError> {
    let c = Client::new(cfg);
    let r = &req.resource;
    let a = &r.attrs;
    match r.ty.as_str() {
        "aws.rds.GlobalCluster" => {
            let mut call = c
                .modify_global_cluster()
                .global_cluster_identifier(&req.id)
                .deletion_protection(b(a, "deletion_protection").unwrap_or(true));
            // Only a change: AWS refuses an upgrade to the version the cluster already runs.
            if a.get("engine_version") != req.before.get("engine_version") {
                call = call
                    .set_engine_version(s(a, "engine_version"))
                    .allow_major_version_upgrade(true);
            }
            call.send().await.map_err(classify)?;
        }
        "aws.rds.SubnetGroup" => {
            c.modify_db_subnet_group()
                .db_subnet_group_name(&req.id)
                .set_db_subnet_group_description(s(a, "description"))
                .set_subnet_ids(Some(ref_ids(r, "subnets")))
                .send()
                .await
                .map_err(classify)?;
        }
        "aws.rds.Cluster" => {
            let mut call = c
                .modify_db_cluster()
                .db_cluster_identifier(&req.id)
                .apply_immediately(true)
                .set_vpc_security_group_ids(Some(ref_ids(r, "security_groups")))
                .backup_retention_period(i(a, "backup_retention_period").unwrap_or(7) as i32)
                .set_preferred_backup_window(s(a, "preferred_backup_window"))
                .set_preferred_maintenance_window(s(a, "preferred_maintenance_window"))
                .deletion_protection(b(a, "deletion_protection").unwrap_or(true));
            if a.get("engine_version") != req.before.get("engine_version") {
                call = call.set_engine_version(s(a, "engine_version"));
            }
            if a.get("master_password") != req.before.get("master_password")
                && let Some(pw) = r.secrets.get("master_password")
            {
                call = call.master_user_password(pw.expose());
            }
            call.send().await.map_err(classify)?;
            wait_cluster(&c, &req.id, false).await?;
            retag(&c, &req.before, a).await?;
        }
        _ => {
            c.modify_db_instance()
                .db_instance_identifier(&req.id)
                .apply_immediately(true)
                .set_db_instance_class(s(a, "instance_class"))
                .set_preferred_maintenance_window(s(a, "preferred_maintenance_window"))
                .enable_performance_insights(b(a, "performance_insights_enabled").unwrap_or(true))
                .publicly_accessible(b(a, "publicly_accessible").unwrap_or(false))
                .send()
                .await
                .map_err(classify)?;
            wait_instance(&c, &req.id, false).await?;
            retag(&c, &req.before, a).await?;
        }
    }
    let attrs = crate::attrs::after_update(a, &req.before);
    Ok(Found {
        id: req.id.clone(),
        attrs,
    })
}

/// Tags by ARN (kept in the state's `arn`).
async fn retag(
    c: &Client,
    before: &BTreeMap<String, Val>,
    a: &BTreeMap<String, Val>,
) -> Result<(), ProviderError> {
    let t = map(a, "tags");
    let Some(arn) = s(before, "arn") else {
        return Ok(());
    };
    if t.is_empty() {
        return Ok(());
    }
    c.add_tags_to_resource()
        .resource_name(arn)
        .set_tags(Some(tags(&t)))
        .send()
        .await
        .map(|_| ())
        .map_err(classify)
}

// ---- delete ------------------------------------------------------------------------------------

pub async fn delete(cfg: &SdkConfig, req: &DeleteRequest) -> Result<(), ProviderError> {
    let c = Client::new(cfg);
    let a = &req.attrs;
    let r = match req.ty.as_str() {
        "aws.rds.GlobalCluster" => {
            // Its clusters are deleted first (they depend on it); members whose cluster is gone
            // but that the global cluster still lists are removed, so that it can go.
            if let Some(g) = global(&c, &req.id).await? {
                for m in g.global_cluster_members() {
                    if let Some(arn) = m.db_cluster_arn() {
                        let _ = c
                            .remove_from_global_cluster()
                            .global_cluster_identifier(&req.id)
                            .db_cluster_identifier(arn)
                            .send()
                            .await;
                    }
                }
            }
            c.delete_global_cluster()
                .global_cluster_identifier(&req.id)
                .send()
                .await
                .map(|_| ())
                .map_err(classify)
        }
        "aws.rds.SubnetGroup" => c
            .delete_db_subnet_group()
            .db_subnet_group_name(&req.id)
            .send()
            .await
            .map(|_| ())
            .map_err(classify),
        "aws.rds.Cluster" => {
            if let Some(k) = cluster(&c, &req.id).await? {
                // Leave the global database first; AWS refuses to delete a member.
                if let Some(arn) = k.db_cluster_arn() {
                    let globals = c
                        .describe_global_clusters()
                        .send()
                        .await
                        .map_err(classify)?;
                    for g in globals.global_clusters() {
                        let member = g
                            .global_cluster_members()
                            .iter()
                            .any(|m| m.db_cluster_arn() == Some(arn));
                        if member && let Some(gid) = g.global_cluster_identifier() {
                            c.remove_from_global_cluster()
                                .global_cluster_identifier(gid)
                                .db_cluster_identifier(arn)
                                .send()
                                .await
                                .map_err(classify)?;
                        }
                    }
                }
            }
            let skip = b(a, "skip_final_snapshot").unwrap_or(false);
            let mut call = c
                .delete_db_cluster()
                .db_cluster_identifier(&req.id)
                .skip_final_snapshot(skip);
            if !skip {
                call = call.final_db_snapshot_identifier(
                    s(a, "final_snapshot_identifier")
                        .unwrap_or_else(|| format!("{}-final", req.id)),
                );
            }
            match call.send().await.map_err(classify) {
                Ok(_) => wait_cluster(&c, &req.id, true).await,
                Err(e) => Err(e),
            }
        }
        _ => match c
            .delete_db_instance()
            .db_instance_identifier(&req.id)
            .skip_final_snapshot(true)
            .send()
            .await
            .map_err(classify)
        {
            Ok(_) => wait_instance(&c, &req.id, true).await,
            Err(e) => Err(e),
        },
    };
    crate::error::deleted(r)
}

// ---- find --------------------------------------------------------------------------------------

/// By the identifier the program gives (unique per account and region) and our tags.
pub async fn find(cfg: &SdkConfig, req: &FindRequest) -> Result<Option<Found>, ProviderError> {
    let c = Client::new(cfg);
    let a = &req.attrs;
    let found = match req.ty.as_str() {
        "aws.rds.GlobalCluster" => {
            let Some(id) = s(a, "identifier") else {
                return Ok(None);
            };
            global(&c, &id).await?.map(|_| id)
        }
        "aws.rds.SubnetGroup" => {
            let Some(name) = s(a, "name") else {
                return Ok(None);
            };
            match c
                .describe_db_subnet_groups()
                .db_subnet_group_name(&name)
                .send()
                .await
                .map_err(classify)
            {
                Ok(o) if !o.db_subnet_groups().is_empty() => Some(name),
                Ok(_) => None,
                Err(e) if is_not_found(&e) => None,
                Err(e) => return Err(e),
            }
        }
        "aws.rds.Cluster" => {
            let Some(id) = s(a, "identifier") else {
                return Ok(None);
            };
            cluster(&c, &id)
                .await?
                .filter(|k| ours(k.tag_list(), &req.address, &req.lineage))
                .map(|_| id)
        }
        _ => {
            let Some(id) = s(a, "identifier") else {
                return Ok(None);
            };
            instance(&c, &id)
                .await?
                .filter(|k| ours(k.tag_list(), &req.address, &req.lineage))
                .map(|_| id)
        }
    };
    let Some(id) = found else { return Ok(None) };
    let read = ReadRequest {
        address: req.address.clone(),
        ty: req.ty.clone(),
        region: req.region.clone(),
        id,
        attrs: req.attrs.clone(),
    };
    read_with_arn(&c, cfg, &read).await
}

async fn read_with_arn(
    c: &Client,
    cfg: &SdkConfig,
    req: &ReadRequest,
) -> Result<Option<Found>, ProviderError> {
    let Some(mut f) = read(cfg, req).await? else {
        return Ok(None);
    };
    if req.ty == "aws.rds.GlobalCluster"
        && let Some(g) = global(c, &req.id).await?
    {
        f.attrs = with(
            &f.attrs,
            &[("arn", g.global_cluster_arn().map(str::to_string))],
        );
    }
    Ok(Some(f))
}
