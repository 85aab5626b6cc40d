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
    all_tags, b, i, map, put, put_if_set, ref_arn, ref_id, ref_ids, required, s, text, with,
};
use crate::error::{classify, found, is_not_found};

/// Aurora clusters take 10-20 minutes and instances 10-15; a global secondary can take longer.
const TIMEOUT: Duration = Duration::from_secs(60 * 60);
const POLL: Duration = Duration::from_secs(15);

fn tags(t: &BTreeMap<String, String>) -> Vec<Tag> {
    t.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

fn user_tags(t: &[Tag]) -> Val {
    crate::attrs::user_tags(t.iter().filter_map(|t| Some((t.key()?, t.value()?))))
}

/// The user's tags of an RDS resource, by its ARN (`ListTagsForResource`).
async fn tags_of(c: &Client, arn: &str) -> Result<Val, ProviderError> {
    let o = c
        .list_tags_for_resource()
        .resource_name(arn)
        .send()
        .await
        .map_err(classify)?;
    Ok(user_tags(o.tag_list()))
}

fn ours(t: &[Tag], address: &str, lineage: &str) -> bool {
    let has = |k: &str, v: &str| t.iter().any(|x| x.key() == Some(k) && x.value() == Some(v));
    has("carbon:address", &carbonc_apply::address_tag(address)) && has("carbon:lineage", lineage)
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
        // AWS's states from which no wait recovers (model rds: DBCluster.Status, DBInstance
        // .DBInstanceStatus): failing at once names them instead of spinning to the timeout.
        &[
            "failed",
            "inaccessible-encryption-credentials",
            "incompatible-network",
            "incompatible-option-group",
            "incompatible-parameters",
            "incompatible-restore",
            "restore-error",
            "storage-full",
        ],
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

/// The answers of a cluster that is still settling after RemoveFromGlobalCluster.
const CLUSTER_SETTLING: [crate::retry::Transient; 3] = [
    crate::retry::transient("InvalidDBClusterStateFault", ""),
    crate::retry::transient("InvalidGlobalClusterStateFault", ""),
    crate::retry::transient(
        "InvalidParameterCombination",
        "is a part of a global cluster",
    ),
];
/// How long those answers are retried (Terraform: the delete timeout, 2 h by default; the wait
/// for the promotion itself is `wait_left_global`).
const SETTLE_BUDGET: Duration = Duration::from_secs(10 * 60);

/// RemoveFromGlobalCluster is asynchronous: the cluster is `promoting` and still listed as a
/// member for minutes. Waits until the global cluster no longer lists it and it is `available`
/// (TF `waitDBClusterAvailable` after the removal).
async fn wait_left_global(c: &Client, gid: &str, id: &str, arn: &str) -> Result<(), ProviderError> {
    wait(
        &format!("Aurora cluster {id} to leave global cluster {gid}"),
        false,
        || async {
            let member = global(c, gid).await?.is_some_and(|g| {
                g.global_cluster_members()
                    .iter()
                    .any(|m| m.db_cluster_arn() == Some(arn))
            });
            let status = cluster(c, id)
                .await?
                .and_then(|k| k.status().map(str::to_string));
            Ok(match (member, status) {
                (false, status) => status,
                (true, Some(status)) => Some(format!("{status}, still a member")),
                (true, None) => Some("still a member".into()),
            })
        },
    )
    .await
}

/// Whether a `PendingModifiedValues` structure lists anything.
fn pending<T: std::fmt::Debug>(p: Option<&T>) -> bool {
    p.is_some_and(|p| format!("{p:?}").contains("Some("))
}

/// Waits for a modification to be done: `available` with nothing left in `PendingModifiedValues`.
/// Right after ModifyDBCluster the cluster still says `available`, with the change pending; a wait
/// for `available` alone would end before the change began (TF `waitDBClusterUpdated` treats
/// pending values as not done).
async fn wait_modified(c: &Client, id: &str) -> Result<(), ProviderError> {
    wait(&format!("Aurora cluster {id}"), false, || async {
        Ok(cluster(c, id).await?.map(|k| {
            let status = k.status().unwrap_or("").to_string();
            if status == "available" && pending(k.pending_modified_values()) {
                "available, modifications pending".to_string()
            } else {
                status
            }
        }))
    })
    .await
}

async fn wait_instance_modified(c: &Client, id: &str) -> Result<(), ProviderError> {
    wait(&format!("DB instance {id}"), false, || async {
        Ok(instance(c, id).await?.map(|k| {
            let status = k.db_instance_status().unwrap_or("").to_string();
            if status == "available" && pending(k.pending_modified_values()) {
                "available, modifications pending".to_string()
            } else {
                status
            }
        }))
    })
    .await
}

/// Brings every member of a global database to `version`. A minor version: each member by
/// ModifyDBCluster in its own region, the secondaries first and the primary last, each waited for
/// (AWS refuses the primary while a secondary runs an older version). A major version: the
/// global cluster already started it; this waits until every member runs it.
async fn upgrade_members(
    cfg: &SdkConfig,
    c: &Client,
    gid: &str,
    version: &str,
    minor: bool,
) -> Result<(), ProviderError> {
    let Some(g) = global(c, gid).await? else {
        return Ok(());
    };
    let mut members: Vec<(bool, String)> = g
        .global_cluster_members()
        .iter()
        .filter_map(|m| {
            Some((
                m.is_writer().unwrap_or(false),
                m.db_cluster_arn()?.to_string(),
            ))
        })
        .collect();
    members.sort(); // secondaries (false) before the writer (true)
    for (_, arn) in members {
        // arn:aws:rds:REGION:ACCOUNT:cluster:ID
        let parts: Vec<&str> = arn.split(':').collect();
        let (Some(region), Some(id)) = (parts.get(3), parts.get(6)) else {
            continue;
        };
        let mc = Client::new(
            &cfg.to_builder()
                .region(aws_config::Region::new(region.to_string()))
                .build(),
        );
        let current = cluster(&mc, id)
            .await?
            .and_then(|k| k.engine_version().map(str::to_string));
        if minor && current.as_deref() != Some(version) {
            crate::retry::while_settling(
                &format!("upgrading Aurora cluster {id} to {version}"),
                &[crate::retry::transient("InvalidDBClusterStateFault", "")],
                SETTLE_BUDGET,
                || async {
                    mc.modify_db_cluster()
                        .db_cluster_identifier(*id)
                        .engine_version(version)
                        .apply_immediately(true)
                        .send()
                        .await
                        .map_err(classify)
                },
            )
            .await?;
        }
        wait(
            &format!("Aurora cluster {id} to run {version}"),
            false,
            || async {
                Ok(cluster(&mc, id).await?.map(|k| {
                    let status = k.status().unwrap_or("").to_string();
                    match k.engine_version() {
                        Some(v)
                            if v == version
                                && status == "available"
                                && !pending(k.pending_modified_values()) =>
                        {
                            status
                        }
                        Some(v) if status == "available" => format!("available at {v}"),
                        _ => status,
                    }
                }))
            },
        )
        .await?;
    }
    Ok(())
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
            put(
                &mut attrs,
                "identifier",
                text(g.global_cluster_identifier()),
            );
            put(&mut attrs, "engine", text(g.engine()));
            put(
                &mut attrs,
                "storage_encrypted",
                g.storage_encrypted().map(Val::Bool),
            );
            put(&mut attrs, "arn", text(g.global_cluster_arn()));
            put(&mut attrs, "endpoint", text(g.endpoint()));
            // Reported inline (`TagList`), as for no other RDS resource.
            attrs.insert(
                "tags".into(),
                crate::attrs::user_tags(
                    g.tag_list()
                        .iter()
                        .filter_map(|t| Some((t.key()?, t.value()?))),
                ),
            );
        }
        "aws.rds.SubnetGroup" => {
            let out = found(
                c.describe_db_subnet_groups()
                    .db_subnet_group_name(&req.id)
                    .send()
                    .await
                    .map_err(classify),
            )?;
            let Some(group) = out.as_ref().and_then(|o| o.db_subnet_groups().first()) else {
                return Ok(None);
            };
            put(&mut attrs, "name", text(group.db_subnet_group_name()));
            put(
                &mut attrs,
                "description",
                text(group.db_subnet_group_description()),
            );
            if let Some(arn) = group.db_subnet_group_arn() {
                attrs.insert("tags".into(), tags_of(&c, arn).await?);
            }
            put(&mut attrs, "arn", text(group.db_subnet_group_arn()));
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
            put(&mut attrs, "identifier", text(k.db_cluster_identifier()));
            put(&mut attrs, "engine", text(k.engine()));
            put(
                &mut attrs,
                "storage_encrypted",
                k.storage_encrypted().map(Val::Bool),
            );
            attrs.insert(
                "manage_master_user_password".into(),
                Val::Bool(k.master_user_secret().is_some()),
            );
            put_if_set(&mut attrs, "master_username", text(k.master_username()));
            put_if_set(&mut attrs, "database_name", text(k.database_name()));
            for (field, v) in [
                ("preferred_backup_window", k.preferred_backup_window()),
                (
                    "preferred_maintenance_window",
                    k.preferred_maintenance_window(),
                ),
            ] {
                put_if_set(&mut attrs, field, text(v));
            }
            // Writer or secondary: what the global cluster says of this member.
            if let Some(gid) = k.global_cluster_identifier()
                && let Some(g) = global(&c, gid).await?
                && let Some(m) = g
                    .global_cluster_members()
                    .iter()
                    .find(|m| m.db_cluster_arn() == k.db_cluster_arn())
            {
                let role = if m.is_writer().unwrap_or(false) {
                    "primary"
                } else {
                    "secondary"
                };
                put_if_set(&mut attrs, "global_role", Some(Val::Str(role.into())));
            }
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
            put(&mut attrs, "identifier", text(k.db_instance_identifier()));
            put(&mut attrs, "engine", text(k.engine()));
            put(
                &mut attrs,
                "publicly_accessible",
                k.publicly_accessible().map(Val::Bool),
            );
            put(
                &mut attrs,
                "performance_insights_enabled",
                k.performance_insights_enabled().map(Val::Bool),
            );
            put_if_set(&mut attrs, "availability_zone", text(k.availability_zone()));
            put_if_set(
                &mut attrs,
                "preferred_maintenance_window",
                text(k.preferred_maintenance_window()),
            );
            put(&mut attrs, "arn", text(k.db_instance_arn()));
            put(
                &mut attrs,
                "endpoint",
                text(k.endpoint().and_then(|e| e.address())),
            );
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
            let to = s(a, "engine_version").unwrap_or_default();
            let from = s(&req.before, "engine_version").unwrap_or_default();
            let major = |v: &str| v.split('.').next().unwrap_or("").to_string();
            let mut call = c
                .modify_global_cluster()
                .global_cluster_identifier(&req.id)
                .deletion_protection(b(a, "deletion_protection").unwrap_or(true));
            // A major version goes through the global cluster, which upgrades every member; a
            // minor one member by member, secondaries first (ModifyGlobalCluster "only supports
            // Major Version Upgrades"; TF internal/service/rds/global_cluster.go).
            if to != from && major(&to) != major(&from) {
                call = call.engine_version(&to).allow_major_version_upgrade(true);
            }
            call.send().await.map_err(classify)?;
            if to != from {
                upgrade_members(cfg, &c, &req.id, &to, major(&to) == major(&from)).await?;
            }
            // By its regionless ARN, as for any RDS resource (hashicorp/terraform-provider-aws#40470).
            retag(&c, &req.before, a).await?;
        }
        "aws.rds.SubnetGroup" => {
            // Only what changed (TF: `d.HasChanges("description", "subnet_ids")`).
            if ["description", "subnets"]
                .iter()
                .any(|k| a.get(*k) != req.before.get(*k))
            {
                c.modify_db_subnet_group()
                    .db_subnet_group_name(&req.id)
                    .set_db_subnet_group_description(s(a, "description"))
                    .set_subnet_ids(Some(ref_ids(r, "subnets")))
                    .send()
                    .await
                    .map_err(classify)?;
            }
            retag(&c, &req.before, a).await?;
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
            // A member of a global database is upgraded by its global cluster's update, which
            // runs before this one (the cluster depends on it); a standalone cluster here.
            if a.get("engine_version") != req.before.get("engine_version")
                && r.target("global_cluster").is_none()
            {
                call = call.set_engine_version(s(a, "engine_version"));
            }
            // RDS keeping the password in Secrets Manager, or the program's own: turning
            // management on sends no password, turning it off must send one
            // (model rds: ModifyDBCluster.ManageMasterUserPassword).
            let managed = b(a, "manage_master_user_password") == Some(true);
            let password = r.secrets.get("master_password");
            if a.get("manage_master_user_password") != req.before.get("manage_master_user_password")
            {
                call = call.manage_master_user_password(managed);
                if !managed {
                    let pw = password.ok_or_else(|| ProviderError::Permanent {
                        code: "InvalidParameterCombination".into(),
                        message: format!(
                            "Aurora cluster {}: turning off manage_master_user_password needs a \
                             master_password for RDS to use instead",
                            req.id
                        ),
                    })?;
                    call = call.master_user_password(pw.expose());
                }
            } else if !managed
                && a.get("master_password") != req.before.get("master_password")
                && let Some(pw) = password
            {
                call = call.master_user_password(pw.expose());
            }
            crate::retry::while_settling(
                &format!("modifying Aurora cluster {}", req.id),
                &[crate::retry::transient("InvalidDBClusterStateFault", "")],
                SETTLE_BUDGET,
                || async { call.clone().send().await.map_err(classify) },
            )
            .await?;
            wait_modified(&c, &req.id).await?;
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
            wait_instance_modified(&c, &req.id).await?;
            retag(&c, &req.before, a).await?;
        }
    }
    let attrs = crate::attrs::after_update(a, &req.before);
    Ok(Found {
        id: req.id.clone(),
        attrs,
    })
}

/// Tags by ARN (kept in the state's `arn`): changed ones set, removed ones taken off.
async fn retag(
    c: &Client,
    before: &BTreeMap<String, Val>,
    a: &BTreeMap<String, Val>,
) -> Result<(), ProviderError> {
    let Some(arn) = s(before, "arn") else {
        return Ok(());
    };
    let (old, new) = (map(before, "tags"), map(a, "tags"));
    let (set, removed) = crate::attrs::tag_changes(&old, &new);
    if !set.is_empty() {
        c.add_tags_to_resource()
            .resource_name(&arn)
            .set_tags(Some(tags(&set)))
            .send()
            .await
            .map_err(classify)?;
    }
    if !removed.is_empty() {
        c.remove_tags_from_resource()
            .resource_name(&arn)
            .set_tag_keys(Some(removed))
            .send()
            .await
            .map_err(classify)?;
    }
    Ok(())
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
            // Members that left a moment ago are still listed while they promote: "is not
            // empty" until then (TF internal/service/rds/global_cluster.go retries it).
            crate::retry::while_settling(
                &format!("deleting global cluster {}", req.id),
                &[crate::retry::transient(
                    "InvalidGlobalClusterStateFault",
                    "",
                )],
                SETTLE_BUDGET,
                || async {
                    c.delete_global_cluster()
                        .global_cluster_identifier(&req.id)
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(classify)
                },
            )
            .await
        }
        "aws.rds.SubnetGroup" => c
            .delete_db_subnet_group()
            .db_subnet_group_name(&req.id)
            .send()
            .await
            .map(|_| ())
            .map_err(classify),
        // In a block of its own: a cluster that goes while carbonc works on it (a destroy that was
        // interrupted after its delete began) is deleted, whichever call notices.
        "aws.rds.Cluster" => {
            async {
                if let Some(k) = cluster(&c, &req.id).await? {
                    // Leave the global database first; AWS refuses to delete a member.
                    if let Some(arn) = k.db_cluster_arn() {
                        let mut globals = Vec::new();
                        let mut pages = c.describe_global_clusters().into_paginator().send();
                        while let Some(page) = pages.next().await {
                            globals
                                .extend(page.map_err(classify)?.global_clusters().iter().cloned());
                        }
                        for g in &globals {
                            let member = g
                                .global_cluster_members()
                                .iter()
                                .any(|m| m.db_cluster_arn() == Some(arn));
                            if member && let Some(gid) = g.global_cluster_identifier() {
                                let left = c
                                    .remove_from_global_cluster()
                                    .global_cluster_identifier(gid)
                                    .db_cluster_identifier(arn)
                                    .send()
                                    .await
                                    .map_err(classify);
                                match left {
                                    // Listed a moment ago, gone by now: its removal (begun by an
                                    // interrupted destroy) finished in between.
                                    Err(e) if already_left(&e) => {}
                                    Err(e) => return Err(e),
                                    Ok(_) => {}
                                }
                                wait_left_global(&c, gid, &req.id, arn).await?;
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
                    // A name of its own per destroy: a second destroy of a cluster made again under
                    // the same identifier would otherwise hit DBClusterSnapshotAlreadyExistsFault.
                    let stamp = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_secs())
                        .unwrap_or_default();
                    call = call.final_db_snapshot_identifier(
                        s(a, "final_snapshot_identifier")
                            .unwrap_or_else(|| format!("{}-final-{stamp}", req.id)),
                    );
                }
                // Right after leaving a global database AWS may still refuse the delete for a while
                // (TF internal/service/rds/cluster.go `resourceClusterDelete` retries both faults).
                match crate::retry::while_settling(
                    &format!("deleting Aurora cluster {}", req.id),
                    &CLUSTER_SETTLING,
                    SETTLE_BUDGET,
                    || async { call.clone().send().await.map_err(classify) },
                )
                .await
                {
                    Ok(_) => wait_cluster(&c, &req.id, true).await,
                    Err(e) => Err(e),
                }
            }
            .await
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

/// Whether RemoveFromGlobalCluster failed because the cluster is not a member any more: AWS answers
/// InvalidParameterValue "... is not found in global cluster" for a member already removed, and
/// the NotFound faults when the cluster or the global cluster is gone (TF
/// internal/service/rds/global_cluster.go `removeClusterFromGlobalCluster` ignores all three).
fn already_left(e: &ProviderError) -> bool {
    match e {
        ProviderError::Permanent { code, message } => {
            code == "DBClusterNotFoundFault"
                || code == "GlobalClusterNotFoundFault"
                || (code == "InvalidParameterValue"
                    && message.contains("is not found in global cluster"))
        }
        _ => false,
    }
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
            // Adopted only with this address's tags: an identifier is unique in the account,
            // and someone else's global cluster of that name is not ours.
            global(&c, &id)
                .await?
                .filter(|g| ours(g.tag_list(), &req.address, &req.lineage))
                .map(|_| id)
        }
        "aws.rds.SubnetGroup" => {
            let Some(name) = s(a, "name") else {
                return Ok(None);
            };
            let out = found(
                c.describe_db_subnet_groups()
                    .db_subnet_group_name(&name)
                    .send()
                    .await
                    .map_err(classify),
            )?;
            // Only one carbon made for this address: a same-named group of someone else's is
            // left alone (the create then fails with DBSubnetGroupAlreadyExists, naming it).
            match out
                .as_ref()
                .and_then(|o| o.db_subnet_groups().first())
                .and_then(|g| g.db_subnet_group_arn())
            {
                Some(arn) => {
                    let tags = c
                        .list_tags_for_resource()
                        .resource_name(arn)
                        .send()
                        .await
                        .map_err(classify)?;
                    ours(tags.tag_list(), &req.address, &req.lineage).then_some(name)
                }
                None => None,
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
