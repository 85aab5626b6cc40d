//! EKS: clusters and managed node groups, each waited for until ACTIVE (and until gone on delete).
//! A node group's id is `CLUSTER:NODEGROUP`, since every EKS call about it names both.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_eks::Client;
use aws_sdk_eks::types::{
    AmiTypes, AuthenticationMode, CapacityTypes, ClusterStatus, CreateAccessConfigRequest,
    EncryptionConfig, LogSetup, LogType, Logging, NodegroupScalingConfig, NodegroupStatus,
    Provider as KmsProvider, Taint, TaintEffect, UpdateAccessConfigRequest, UpdateLabelsPayload,
    UpdateTaintsPayload, VpcConfigRequest,
};
use carbonc_apply::{
    CreateRequest, DeleteRequest, FindRequest, Found, ProviderError, ReadRequest, UpdateRequest,
};
use carbonc_state::Val;

use crate::attrs::{all_tags, b, i, map, put, ref_arn, ref_ids, required, s, strings, text, with};
use crate::error::{classify, is_not_found};

/// A cluster takes 10-15 minutes to create and a node group 3-5; deletes are similar.
const CLUSTER_TIMEOUT: Duration = Duration::from_secs(40 * 60);
const NODEGROUP_TIMEOUT: Duration = Duration::from_secs(30 * 60);
pub(crate) const POLL: Duration = Duration::from_secs(10);

pub(crate) fn vanished(name: &str) -> ProviderError {
    ProviderError::Permanent {
        code: "ResourceNotFoundException".into(),
        message: format!("{name} disappeared while carbonc waited for it"),
    }
}

pub(crate) fn user_tags(tags: Option<&std::collections::HashMap<String, String>>) -> Val {
    crate::attrs::user_tags(
        tags.into_iter()
            .flatten()
            .map(|(k, v)| (k.as_str(), v.as_str())),
    )
}

pub(crate) fn has_tags(
    tags: Option<&std::collections::HashMap<String, String>>,
    address: &str,
    lineage: &str,
) -> bool {
    tags.is_some_and(|t| {
        t.get("carbon:address") == Some(&carbonc_apply::address_tag(address))
            && t.get("carbon:lineage").map(String::as_str) == Some(lineage)
    })
}

/// The VPC configuration: on create everything; on update the endpoint settings and the
/// security groups (UpdateClusterConfig takes them; the subnets cannot change in place).
fn vpc_config(r: &carbonc_apply::Resolved, create: bool) -> VpcConfigRequest {
    let a = &r.attrs;
    let cidrs = strings(a, "public_access_cidrs");
    let mut v = VpcConfigRequest::builder()
        .endpoint_public_access(b(a, "endpoint_public_access").unwrap_or(false))
        .endpoint_private_access(b(a, "endpoint_private_access").unwrap_or(true))
        .set_public_access_cidrs((!cidrs.is_empty()).then_some(cidrs))
        .set_security_group_ids(Some(ref_ids(r, "security_groups")));
    if create {
        v = v.set_subnet_ids(Some(ref_ids(r, "subnets")));
    }
    v.build()
}

/// Every log type EKS knows (model eks: LogType).
const LOG_TYPES: [&str; 5] = [
    "api",
    "audit",
    "authenticator",
    "controllerManager",
    "scheduler",
];

/// The logging setup: the listed types enabled and every other type disabled, since EKS keeps a
/// type it is not told about as it was (TF's `expandLogging` sends both sets). A set that would
/// be empty is left out.
fn logging(a: &BTreeMap<String, Val>) -> Option<Logging> {
    let on = strings(a, "enabled_log_types");
    let off: Vec<LogType> = LOG_TYPES
        .iter()
        .filter(|t| !on.iter().any(|o| o == *t))
        .map(|t| LogType::from(*t))
        .collect();
    let on: Vec<LogType> = on.iter().map(|t| LogType::from(t.as_str())).collect();
    let mut setups = Vec::new();
    if !on.is_empty() {
        setups.push(
            LogSetup::builder()
                .set_types(Some(on))
                .enabled(true)
                .build(),
        );
    }
    if !off.is_empty() {
        setups.push(
            LogSetup::builder()
                .set_types(Some(off))
                .enabled(false)
                .build(),
        );
    }
    Some(Logging::builder().set_cluster_logging(Some(setups)).build())
}

/// What an update is of: DescribeUpdate names the node group or add-on beside the cluster.
#[derive(Clone, Copy)]
pub(crate) enum Of<'a> {
    Cluster,
    NodeGroup(&'a str),
    Addon(&'a str),
}

/// Waits for an update (`UpdateClusterVersion`, `UpdateClusterConfig`, `UpdateNodegroupVersion`,
/// `UpdateNodegroupConfig`) to end, by its id: the cluster's status says nothing reliable (it
/// moves to UPDATING "eventually", and a failed update also ends ACTIVE; model eks:
/// UpdateClusterVersion). `Failed` or `Cancelled` is an error naming AWS's reasons.
pub(crate) async fn wait_update(
    c: &Client,
    cluster: &str,
    of: Of<'_>,
    update: Option<&aws_sdk_eks::types::Update>,
) -> Result<(), ProviderError> {
    let Some(id) = update.and_then(|u| u.id()) else {
        return Ok(());
    };
    let (what, nodegroup, addon) = match of {
        Of::Cluster => (format!("EKS cluster {cluster} update {id}"), None, None),
        Of::NodeGroup(ng) => (
            format!("EKS node group {cluster}/{ng} update {id}"),
            Some(ng),
            None,
        ),
        Of::Addon(a) => (
            format!("EKS add-on {cluster}/{a} update {id}"),
            None,
            Some(a),
        ),
    };
    let errors = std::sync::Mutex::new(String::new());
    let r = crate::poll::until_available(
        &what,
        false,
        &["Failed", "Cancelled"],
        (CLUSTER_TIMEOUT, POLL),
        || async {
            let u = c
                .describe_update()
                .name(cluster)
                .set_nodegroup_name(nodegroup.map(str::to_string))
                .set_addon_name(addon.map(str::to_string))
                .update_id(id)
                .send()
                .await
                .map_err(classify)?;
            let u = u.update();
            let why: Vec<String> = u
                .map(|u| u.errors())
                .unwrap_or_default()
                .iter()
                .map(|e| {
                    format!(
                        "{}: {}",
                        e.error_code().map_or("Unknown", |c| c.as_str()),
                        e.error_message().unwrap_or("")
                    )
                })
                .collect();
            *errors.lock().unwrap() = why.join("; ");
            Ok(u.and_then(|u| u.status()).map(|s| match s.as_str() {
                "Successful" => "available".to_string(),
                s => s.to_string(),
            }))
        },
    )
    .await;
    r.map_err(|e| match e {
        ProviderError::Permanent { code, message } => {
            let why = errors.lock().unwrap().clone();
            ProviderError::Permanent {
                code,
                message: if why.is_empty() {
                    message
                } else {
                    format!("{message}: {why}")
                },
            }
        }
        e => e,
    })
}

/// A cluster's authentication mode only moves towards access entries: CONFIG_MAP to
/// API_AND_CONFIG_MAP to API (model eks: UpdateAccessConfigRequest.authenticationMode, "you can't
/// change ... back"). A step back is refused here, before any call, with what to do.
fn towards_api(cluster: &str, from: &str, to: &str) -> Result<(), ProviderError> {
    let rank = |m: &str| match m {
        "CONFIG_MAP" => 0,
        "API_AND_CONFIG_MAP" => 1,
        _ => 2,
    };
    if from.is_empty() || rank(to) > rank(from) {
        return Ok(());
    }
    Err(ProviderError::Permanent {
        code: "InvalidParameterException".into(),
        message: format!(
            "EKS cluster {cluster}: the authentication mode cannot go back from {from} to {to}; \
             keep `authentication_mode = .{from}`, or replace the cluster"
        ),
    })
}

/// EKS moves one minor version per UpdateClusterVersion, and only while every managed node group
/// is at the cluster's version; a larger step is refused here, before any call, with what to do.
fn one_minor_step(cluster: &str, from: &str, to: &str) -> Result<(), ProviderError> {
    let minor = |v: &str| -> Option<(u32, u32)> {
        let (a, b) = v.split_once('.')?;
        Some((a.parse().ok()?, b.parse().ok()?))
    };
    match (minor(from), minor(to)) {
        (Some(f), Some(t)) if t == (f.0, f.1 + 1) => Ok(()),
        (Some(f), Some(t)) if t > f => Err(ProviderError::Permanent {
            code: "InvalidConfiguration".into(),
            message: format!(
                "EKS cluster {cluster} is at {from}; EKS upgrades one minor version at a time: set \
                 `version` to {}.{} (and its node groups with it), apply, then go on to {to}",
                f.0,
                f.1 + 1
            ),
        }),
        _ => Err(ProviderError::Permanent {
            code: "InvalidConfiguration".into(),
            message: format!(
                "EKS cluster {cluster} is at {from} and cannot move to {to}: EKS does not downgrade"
            ),
        }),
    }
}

// ---- clusters ----------------------------------------------------------------------------------

async fn describe_cluster(
    c: &Client,
    name: &str,
) -> Result<Option<aws_sdk_eks::types::Cluster>, ProviderError> {
    match c
        .describe_cluster()
        .name(name)
        .send()
        .await
        .map_err(classify)
    {
        Ok(o) => Ok(o.cluster().cloned()),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Waits for the cluster to be ACTIVE (`gone == false`) or deleted (`gone == true`); returns it.
async fn wait_cluster(
    c: &Client,
    name: &str,
    gone: bool,
) -> Result<Option<aws_sdk_eks::types::Cluster>, ProviderError> {
    crate::poll::until_available(
        &format!("EKS cluster {name}"),
        gone,
        &["FAILED"],
        (CLUSTER_TIMEOUT, POLL),
        || async {
            Ok(describe_cluster(c, name).await?.map(|k| match k.status() {
                Some(ClusterStatus::Active) => "available".to_string(),
                s => s.map_or("", |s| s.as_str()).to_string(),
            }))
        },
    )
    .await?;
    if gone {
        Ok(None)
    } else {
        describe_cluster(c, name).await
    }
}

fn cluster_attrs(
    a: &BTreeMap<String, Val>,
    k: &aws_sdk_eks::types::Cluster,
) -> BTreeMap<String, Val> {
    let vpc = k.resources_vpc_config();
    with(
        a,
        &[
            ("arn", k.arn().map(str::to_string)),
            ("endpoint", k.endpoint().map(str::to_string)),
            (
                "certificate_authority",
                k.certificate_authority()
                    .and_then(|c| c.data())
                    .map(str::to_string),
            ),
            (
                "oidc_issuer",
                k.identity()
                    .and_then(|i| i.oidc())
                    .and_then(|o| o.issuer())
                    .map(str::to_string),
            ),
            (
                "cluster_security_group_id",
                vpc.and_then(|v| v.cluster_security_group_id())
                    .map(str::to_string),
            ),
        ],
    )
}

/// What EKS answers while IAM has not propagated a new role or policy attachment to it (the
/// messages Terraform's provider retries: internal/service/eks/cluster.go `resourceClusterCreate`,
/// node_group.go). The client request token makes each retry safe.
const IAM_PROPAGATION: [crate::retry::Transient; 3] = [
    crate::retry::transient("InvalidParameterException", "does not exist"),
    crate::retry::transient(
        "InvalidParameterException",
        "doesn't have the Amazon EKS Managed Policies associated with it",
    ),
    crate::retry::transient(
        "InvalidParameterException",
        "Role could not be assumed because the trusted entity is not correct",
    ),
];
/// Terraform waits 2 minutes for IAM propagation (`propagationTimeout`).
pub(crate) const IAM_BUDGET: Duration = Duration::from_secs(120);

pub async fn create_cluster(cfg: &SdkConfig, req: &CreateRequest) -> Result<Found, ProviderError> {
    let c = Client::new(cfg);
    let r = &req.resource;
    let a = &r.attrs;
    let name = required(a, "name")?;
    let mut call = c
        .create_cluster()
        .name(&name)
        .version(required(a, "version")?)
        .role_arn(ref_arn(r, "role")?)
        .resources_vpc_config(vpc_config(r, true))
        .set_logging(logging(a))
        .client_request_token(&req.token)
        .set_tags(Some(all_tags(req).into_iter().collect()));
    // Always named: AWS's default for an API create is CONFIG_MAP, which refuses access entries.
    if let Some(mode) = s(a, "authentication_mode") {
        call = call.access_config(
            CreateAccessConfigRequest::builder()
                .authentication_mode(AuthenticationMode::from(mode.as_str()))
                .build(),
        );
    }
    if r.target("secrets_kms_key").is_some() {
        // `resources` is deprecated in the SDK, yet the API documents `["secrets"]` as the value
        // that turns envelope encryption on, and older endpoints require it.
        #[allow(deprecated)]
        let config = EncryptionConfig::builder()
            .resources("secrets")
            .provider(
                KmsProvider::builder()
                    .key_arn(ref_arn(r, "secrets_kms_key")?)
                    .build(),
            )
            .build();
        call = call.encryption_config(config);
    }
    crate::retry::while_settling(
        &format!("creating EKS cluster {name}"),
        &IAM_PROPAGATION,
        IAM_BUDGET,
        || async { call.clone().send().await.map_err(classify) },
    )
    .await?;
    let cluster = wait_cluster(&c, &name, false)
        .await?
        .ok_or_else(|| vanished(&name))?;
    Ok(Found {
        id: name,
        attrs: cluster_attrs(a, &cluster),
    })
}

async fn read_cluster(c: &Client, req: &ReadRequest) -> Result<Option<Found>, ProviderError> {
    let k = match c
        .describe_cluster()
        .name(&req.id)
        .send()
        .await
        .map_err(classify)
    {
        Ok(o) => match o.cluster() {
            Some(k) if k.status() != Some(&ClusterStatus::Deleting) => k.clone(),
            _ => return Ok(None),
        },
        Err(e) if is_not_found(&e) => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut attrs = cluster_attrs(&req.attrs, &k);
    if let Some(v) = k.version() {
        attrs.insert("version".into(), Val::Str(v.to_string()));
    }
    if let Some(v) = k.resources_vpc_config() {
        attrs.insert(
            "endpoint_public_access".into(),
            Val::Bool(v.endpoint_public_access()),
        );
        attrs.insert(
            "endpoint_private_access".into(),
            Val::Bool(v.endpoint_private_access()),
        );
        // AWS reports 0.0.0.0/0 for an unset allowlist: keep the program's empty list then.
        let cidrs: Vec<Val> = v
            .public_access_cidrs()
            .iter()
            .map(|c| Val::Str(c.clone()))
            .collect();
        if !(cidrs == [Val::Str("0.0.0.0/0".into())]
            && matches!(req.attrs.get("public_access_cidrs"), Some(Val::List(l)) if l.is_empty()))
        {
            attrs.insert("public_access_cidrs".into(), Val::List(cidrs));
        }
    }
    attrs.insert("tags".into(), user_tags(k.tags()));
    put(&mut attrs, "name", text(k.name()));
    put(
        &mut attrs,
        "authentication_mode",
        text(
            k.access_config()
                .and_then(|a| a.authentication_mode())
                .map(|m| m.as_str()),
        ),
    );
    let mut logs: Vec<Val> = k
        .logging()
        .map(|l| l.cluster_logging())
        .unwrap_or_default()
        .iter()
        .filter(|s| s.enabled() == Some(true))
        .flat_map(|s| s.types())
        .map(|t| Val::Str(t.as_str().to_string()))
        .collect();
    logs.sort_by_key(|v| match v {
        Val::Str(s) => s.clone(),
        _ => String::new(),
    });
    let ordered = |v: &Val| match v {
        Val::List(items) => {
            let mut items = items.clone();
            items.sort_by_key(|v| match v {
                Val::Str(s) => s.clone(),
                _ => String::new(),
            });
            items
        }
        _ => Vec::new(),
    };
    // The program's order when it names the same types.
    if req.attrs.get("enabled_log_types").map(ordered) != Some(logs.clone()) {
        attrs.insert("enabled_log_types".into(), Val::List(logs));
    }
    Ok(Some(Found {
        id: req.id.clone(),
        attrs,
    }))
}

async fn update_cluster(c: &Client, req: &UpdateRequest) -> Result<Found, ProviderError> {
    let r = &req.resource;
    let a = &r.attrs;
    let changed = |k: &str| a.get(k) != req.before.get(k);
    // One update at a time, each followed to its end by its id (AWS refuses a second update
    // while one runs, and "Only one type of update can be allowed" per call).
    if changed("version") {
        let to = required(a, "version")?;
        let from = s(&req.before, "version").unwrap_or_default();
        one_minor_step(&req.id, &from, &to)?;
        let out = c
            .update_cluster_version()
            .name(&req.id)
            .version(&to)
            .send()
            .await
            .map_err(classify)?;
        wait_update(c, &req.id, Of::Cluster, out.update()).await?;
    }
    if changed("endpoint_public_access")
        || changed("endpoint_private_access")
        || changed("public_access_cidrs")
        || changed("security_groups")
    {
        let out = c
            .update_cluster_config()
            .name(&req.id)
            .resources_vpc_config(vpc_config(r, false))
            .send()
            .await
            .map_err(classify)?;
        wait_update(c, &req.id, Of::Cluster, out.update()).await?;
    }
    if changed("authentication_mode") {
        let to = required(a, "authentication_mode")?;
        let from = s(&req.before, "authentication_mode").unwrap_or_default();
        towards_api(&req.id, &from, &to)?;
        let out = c
            .update_cluster_config()
            .name(&req.id)
            .access_config(
                UpdateAccessConfigRequest::builder()
                    .authentication_mode(AuthenticationMode::from(to.as_str()))
                    .build(),
            )
            .send()
            .await
            .map_err(classify)?;
        wait_update(c, &req.id, Of::Cluster, out.update()).await?;
    }
    if changed("enabled_log_types") {
        let out = c
            .update_cluster_config()
            .name(&req.id)
            .set_logging(logging(a))
            .send()
            .await
            .map_err(classify)?;
        wait_update(c, &req.id, Of::Cluster, out.update()).await?;
    }
    let k = wait_cluster(c, &req.id, false)
        .await?
        .ok_or_else(|| vanished(&req.id))?;
    tag(c, k.arn(), &map(&req.before, "tags"), &map(a, "tags")).await?;
    Ok(Found {
        id: req.id.clone(),
        attrs: cluster_attrs(a, &k),
    })
}

/// The user's tags after an update: changed ones set, removed ones taken off (never carbon's own).
pub(crate) async fn tag(
    c: &Client,
    arn: Option<&str>,
    before: &BTreeMap<String, String>,
    tags: &BTreeMap<String, String>,
) -> Result<(), ProviderError> {
    let Some(arn) = arn else { return Ok(()) };
    let (set, removed) = crate::attrs::tag_changes(before, tags);
    let set: HashMap<String, String> = set.into_iter().collect();
    if !set.is_empty() {
        c.tag_resource()
            .resource_arn(arn)
            .set_tags(Some(set))
            .send()
            .await
            .map_err(classify)?;
    }
    if !removed.is_empty() {
        c.untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(removed))
            .send()
            .await
            .map_err(classify)?;
    }
    Ok(())
}

// ---- node groups -------------------------------------------------------------------------------

pub(crate) fn split(id: &str) -> (&str, &str) {
    id.split_once(':').unwrap_or((id, ""))
}

async fn describe_nodegroup(
    c: &Client,
    cluster: &str,
    name: &str,
) -> Result<Option<aws_sdk_eks::types::Nodegroup>, ProviderError> {
    match c
        .describe_nodegroup()
        .cluster_name(cluster)
        .nodegroup_name(name)
        .send()
        .await
        .map_err(classify)
    {
        Ok(o) => Ok(o.nodegroup().cloned()),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Waits for the node group to be ACTIVE (`gone == false`) or deleted (`gone == true`); returns it.
async fn wait_nodegroup(
    c: &Client,
    cluster: &str,
    name: &str,
    gone: bool,
) -> Result<Option<aws_sdk_eks::types::Nodegroup>, ProviderError> {
    // A degraded group can still be deleted: only a create or update fails on it.
    let failed: &[&str] = if gone {
        &["DELETE_FAILED"]
    } else {
        &["CREATE_FAILED", "DEGRADED"]
    };
    crate::poll::until_available(
        &format!("EKS node group {cluster}/{name}"),
        gone,
        failed,
        (NODEGROUP_TIMEOUT, POLL),
        || async {
            Ok(describe_nodegroup(c, cluster, name)
                .await?
                .map(|n| match n.status() {
                    Some(NodegroupStatus::Active) => "available".to_string(),
                    s => s.map_or("", |s| s.as_str()).to_string(),
                }))
        },
    )
    .await?;
    if gone {
        Ok(None)
    } else {
        describe_nodegroup(c, cluster, name).await
    }
}

fn scaling(a: &BTreeMap<String, Val>) -> NodegroupScalingConfig {
    let m = match a.get("scaling") {
        Some(Val::Map(m)) => m.clone(),
        _ => BTreeMap::new(),
    };
    NodegroupScalingConfig::builder()
        .set_min_size(i(&m, "min_size").map(|v| v as i32))
        .set_max_size(i(&m, "max_size").map(|v| v as i32))
        .set_desired_size(i(&m, "desired_size").map(|v| v as i32))
        .build()
}

fn taints(a: &BTreeMap<String, Val>) -> Vec<Taint> {
    let Some(Val::List(items)) = a.get("taints") else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|t| match t {
            Val::Map(m) => Some(
                Taint::builder()
                    .set_key(s(m, "key"))
                    .set_value(s(m, "value"))
                    .set_effect(s(m, "effect").map(|e| TaintEffect::from(e.as_str())))
                    .build(),
            ),
            _ => None,
        })
        .collect()
}

/// The launch template of a node group's nodes, named after the group: an encrypted gp3 root
/// volume of `disk_size` GiB. EKS creates nodes with unencrypted root volumes unless the account
/// encrypts EBS by default, and `disk_encrypted` (checked by policy P0102) can only be honoured
/// through a launch template (model eks: CreateNodegroup.diskSize, "If you specify launchTemplate,
/// then don't specify diskSize"). Made again after a crash, it is found by name.
async fn launch_template(
    cfg: &SdkConfig,
    req: &CreateRequest,
    cluster: &str,
    name: &str,
) -> Result<String, ProviderError> {
    use aws_sdk_ec2::types::{
        LaunchTemplateBlockDeviceMappingRequest, LaunchTemplateEbsBlockDeviceRequest,
        RequestLaunchTemplateData, ResourceType, Tag, TagSpecification, VolumeType,
    };
    let ec2 = aws_sdk_ec2::Client::new(cfg);
    let template = launch_template_name(cluster, name);
    let size = i(&req.resource.attrs, "disk_size").unwrap_or(50) as i32;
    let data = RequestLaunchTemplateData::builder()
        .block_device_mappings(
            LaunchTemplateBlockDeviceMappingRequest::builder()
                .device_name("/dev/xvda")
                .ebs(
                    LaunchTemplateEbsBlockDeviceRequest::builder()
                        .encrypted(true)
                        .volume_size(size)
                        .volume_type(VolumeType::Gp3)
                        .delete_on_termination(true)
                        .build(),
                )
                .build(),
        )
        .build();
    let tags = all_tags(req)
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect();
    match ec2
        .create_launch_template()
        .launch_template_name(&template)
        .launch_template_data(data)
        .client_token(&req.token)
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::LaunchTemplate)
                .set_tags(Some(tags))
                .build(),
        )
        .send()
        .await
        .map_err(classify)
    {
        Ok(out) => Ok(out
            .launch_template()
            .and_then(|t| t.launch_template_id())
            .unwrap_or_default()
            .to_string()),
        Err(ProviderError::Permanent { code, .. }) if code.contains("AlreadyExists") => {
            let out = ec2
                .describe_launch_templates()
                .launch_template_names(&template)
                .send()
                .await
                .map_err(classify)?;
            Ok(out
                .launch_templates()
                .first()
                .and_then(|t| t.launch_template_id())
                .unwrap_or_default()
                .to_string())
        }
        Err(e) => Err(e),
    }
}

fn launch_template_name(cluster: &str, name: &str) -> String {
    format!("carbon-{cluster}-{name}")
}

/// Deletes the launch template of a node group that is gone, if carbon made it for `address`.
async fn orphaned_launch_template(
    cfg: &SdkConfig,
    cluster: &str,
    name: &str,
    address: &str,
) -> Result<(), ProviderError> {
    let ec2 = aws_sdk_ec2::Client::new(cfg);
    let out = match ec2
        .describe_launch_templates()
        .launch_template_names(launch_template_name(cluster, name))
        .send()
        .await
        .map_err(classify)
    {
        Ok(o) => o,
        Err(e) if is_not_found(&e) => return Ok(()),
        Err(e) => return Err(e),
    };
    let tag = carbonc_apply::address_tag(address);
    let ours = out.launch_templates().iter().any(|t| {
        t.tags()
            .iter()
            .any(|x| x.key() == Some("carbon:address") && x.value() == Some(tag.as_str()))
    });
    if ours {
        delete_launch_template(cfg, cluster, name).await?;
    }
    Ok(())
}

/// The node group's launch template, once the group is gone.
async fn delete_launch_template(
    cfg: &SdkConfig,
    cluster: &str,
    name: &str,
) -> Result<(), ProviderError> {
    let ec2 = aws_sdk_ec2::Client::new(cfg);
    let r = ec2
        .delete_launch_template()
        .launch_template_name(launch_template_name(cluster, name))
        .send()
        .await
        .map(|_| ())
        .map_err(classify);
    match r {
        Err(ProviderError::Permanent { code, .. }) if code.contains("NotFound") => Ok(()),
        r => r,
    }
}

pub async fn create_nodegroup(
    cfg: &SdkConfig,
    req: &CreateRequest,
) -> Result<Found, ProviderError> {
    let c = Client::new(cfg);
    let r = &req.resource;
    let a = &r.attrs;
    let cluster = crate::attrs::ref_id(r, "cluster")?;
    let name = required(a, "name")?;
    let labels = map(a, "labels");
    let taints = taints(a);
    let encrypted = b(a, "disk_encrypted").unwrap_or(true);
    let template = if encrypted {
        Some(launch_template(cfg, req, &cluster, &name).await?)
    } else {
        None
    };
    let call = c
        .create_nodegroup()
        .cluster_name(&cluster)
        .nodegroup_name(&name)
        .node_role(ref_arn(r, "node_role")?)
        .set_version(s(a, "version"))
        .set_subnets(Some(ref_ids(r, "subnets")))
        .set_instance_types(Some(strings(a, "instance_types")))
        .set_ami_type(s(a, "ami_type").map(|t| AmiTypes::from(t.as_str())))
        .set_capacity_type(s(a, "capacity_type").map(|t| CapacityTypes::from(t.as_str())))
        // With a launch template the disk is its block device (and diskSize is refused).
        .set_disk_size(
            i(a, "disk_size")
                .map(|v| v as i32)
                .filter(|_| template.is_none()),
        )
        .set_launch_template(template.map(|id| {
            aws_sdk_eks::types::LaunchTemplateSpecification::builder()
                .id(id)
                .build()
        }))
        .scaling_config(scaling(a))
        .set_labels((!labels.is_empty()).then(|| labels.into_iter().collect()))
        .set_taints((!taints.is_empty()).then_some(taints))
        .client_request_token(&req.token)
        .set_tags(Some(all_tags(req).into_iter().collect()));
    crate::retry::while_settling(
        &format!("creating EKS node group {name}"),
        &IAM_PROPAGATION,
        IAM_BUDGET,
        || async { call.clone().send().await.map_err(classify) },
    )
    .await?;
    let ng = wait_nodegroup(&c, &cluster, &name, false)
        .await?
        .ok_or_else(|| vanished(&name))?;
    Ok(Found {
        id: format!("{cluster}:{name}"),
        attrs: with(a, &[("arn", ng.nodegroup_arn().map(str::to_string))]),
    })
}

async fn read_nodegroup(
    cfg: &SdkConfig,
    c: &Client,
    req: &ReadRequest,
) -> Result<Option<Found>, ProviderError> {
    let (cluster, name) = split(&req.id);
    let ng = match c
        .describe_nodegroup()
        .cluster_name(cluster)
        .nodegroup_name(name)
        .send()
        .await
        .map_err(classify)
    {
        Ok(o) => match o.nodegroup() {
            Some(n) if n.status() != Some(&NodegroupStatus::Deleting) => Some(n.clone()),
            _ => None,
        },
        Err(e) if is_not_found(&e) => None,
        Err(e) => return Err(e),
    };
    let Some(ng) = ng else {
        // Gone (or going): its launch template goes with it. A destroy killed between the two
        // deletes would otherwise leave the template behind, since the next run drops a node
        // group it reads as gone without calling delete. Only a template carbon made for this
        // very address is deleted.
        orphaned_launch_template(cfg, cluster, name, &req.address).await?;
        return Ok(None);
    };
    let mut attrs = with(
        &req.attrs,
        &[("arn", ng.nodegroup_arn().map(str::to_string))],
    );
    // The version only where the program sets it: unset, it follows the cluster's.
    if req.attrs.contains_key("version")
        && let Some(v) = ng.version()
    {
        attrs.insert("version".into(), Val::Str(v.to_string()));
    }
    if let Some(sc) = ng.scaling_config() {
        let mut m = BTreeMap::new();
        for (k, v) in [
            ("min_size", sc.min_size()),
            ("max_size", sc.max_size()),
            ("desired_size", sc.desired_size()),
        ] {
            if let Some(v) = v {
                m.insert(k.to_string(), Val::Int(i64::from(v)));
            }
        }
        attrs.insert("scaling".into(), Val::Map(m));
    }
    if !ng.instance_types().is_empty() {
        attrs.insert(
            "instance_types".into(),
            Val::List(
                ng.instance_types()
                    .iter()
                    .map(|t| Val::Str(t.clone()))
                    .collect(),
            ),
        );
    }
    attrs.insert(
        "labels".into(),
        Val::Map(
            ng.labels()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), Val::Str(v.clone())))
                .collect(),
        ),
    );
    attrs.insert("tags".into(), user_tags(ng.tags()));
    put(&mut attrs, "name", text(ng.nodegroup_name()));
    put(
        &mut attrs,
        "ami_type",
        text(ng.ami_type().map(|t| t.as_str())),
    );
    put(
        &mut attrs,
        "capacity_type",
        text(ng.capacity_type().map(|t| t.as_str())),
    );
    attrs.insert(
        "taints".into(),
        Val::List(
            ng.taints()
                .iter()
                .map(|t| {
                    let mut m = BTreeMap::new();
                    put(&mut m, "key", text(t.key()));
                    put(&mut m, "value", text(t.value()));
                    put(&mut m, "effect", text(t.effect().map(|e| e.as_str())));
                    Val::Map(m)
                })
                .collect(),
        ),
    );
    // The disk: the launch template's root volume when there is one (an encrypted disk), the
    // node group's own `diskSize` otherwise.
    match ng.launch_template().and_then(|t| t.id()) {
        Some(id) => {
            let ec2 = aws_sdk_ec2::Client::new(cfg);
            let version = ng
                .launch_template()
                .and_then(|t| t.version())
                .unwrap_or("$Default");
            let out = ec2
                .describe_launch_template_versions()
                .launch_template_id(id)
                .versions(version)
                .send()
                .await
                .map_err(classify)?;
            let ebs = out
                .launch_template_versions()
                .first()
                .and_then(|v| v.launch_template_data())
                .and_then(|d| d.block_device_mappings().first())
                .and_then(|m| m.ebs());
            put(
                &mut attrs,
                "disk_encrypted",
                ebs.and_then(|e| e.encrypted()).map(Val::Bool),
            );
            put(
                &mut attrs,
                "disk_size",
                ebs.and_then(|e| e.volume_size())
                    .map(|v| Val::Int(v.into())),
            );
        }
        None => {
            attrs.insert("disk_encrypted".into(), Val::Bool(false));
            put(
                &mut attrs,
                "disk_size",
                ng.disk_size().map(|v| Val::Int(v.into())),
            );
        }
    }
    Ok(Some(Found {
        id: req.id.clone(),
        attrs,
    }))
}

async fn update_nodegroup(c: &Client, req: &UpdateRequest) -> Result<Found, ProviderError> {
    let (cluster, name) = split(&req.id);
    let a = &req.resource.attrs;
    let changed = |k: &str| a.get(k) != req.before.get(k);
    // A version update cannot be combined with any other node group update: it goes first, on
    // its own (the cluster, which the group depends on, has been upgraded before it).
    if changed("version") {
        let out = c
            .update_nodegroup_version()
            .cluster_name(cluster)
            .nodegroup_name(name)
            .set_version(s(a, "version"))
            .send()
            .await
            .map_err(classify)?;
        wait_update(c, cluster, Of::NodeGroup(name), out.update()).await?;
    }
    if changed("scaling") || changed("labels") || changed("taints") {
        let old = map(&req.before, "labels");
        let new = map(a, "labels");
        let removed: Vec<String> = old
            .keys()
            .filter(|k| !new.contains_key(*k))
            .cloned()
            .collect();
        let labels = UpdateLabelsPayload::builder()
            .set_add_or_update_labels((!new.is_empty()).then(|| new.clone().into_iter().collect()))
            .set_remove_labels((!removed.is_empty()).then_some(removed))
            .build();
        let taints = taints(a);
        let old_taints = self::taints(&req.before);
        let gone: Vec<Taint> = old_taints
            .into_iter()
            .filter(|t| !taints.contains(t))
            .collect();
        let out = c
            .update_nodegroup_config()
            .cluster_name(cluster)
            .nodegroup_name(name)
            .scaling_config(scaling(a))
            .labels(labels)
            .taints(
                UpdateTaintsPayload::builder()
                    .set_add_or_update_taints((!taints.is_empty()).then_some(taints))
                    .set_remove_taints((!gone.is_empty()).then_some(gone))
                    .build(),
            )
            .send()
            .await
            .map_err(classify)?;
        wait_update(c, cluster, Of::NodeGroup(name), out.update()).await?;
    }
    let ng = wait_nodegroup(c, cluster, name, false)
        .await?
        .ok_or_else(|| vanished(name))?;
    tag(
        c,
        ng.nodegroup_arn(),
        &map(&req.before, "tags"),
        &map(a, "tags"),
    )
    .await?;
    Ok(Found {
        id: req.id.clone(),
        attrs: with(a, &[("arn", ng.nodegroup_arn().map(str::to_string))]),
    })
}

// ---- dispatch ----------------------------------------------------------------------------------

pub async fn read(cfg: &SdkConfig, req: &ReadRequest) -> Result<Option<Found>, ProviderError> {
    let c = Client::new(cfg);
    if req.ty == "aws.eks.Cluster" {
        read_cluster(&c, req).await
    } else {
        read_nodegroup(cfg, &c, req).await
    }
}

pub async fn update(cfg: &SdkConfig, req: &UpdateRequest) -> Result<Found, ProviderError> {
    let c = Client::new(cfg);
    if req.resource.ty == "aws.eks.Cluster" {
        update_cluster(&c, req).await
    } else {
        update_nodegroup(&c, req).await
    }
}

pub async fn delete(cfg: &SdkConfig, req: &DeleteRequest) -> Result<(), ProviderError> {
    let c = Client::new(cfg);
    let r = if req.ty == "aws.eks.Cluster" {
        match c
            .delete_cluster()
            .name(&req.id)
            .send()
            .await
            .map_err(classify)
        {
            Ok(_) => wait_cluster(&c, &req.id, true).await.map(|_| ()),
            Err(e) => Err(e),
        }
    } else {
        let (cluster, name) = split(&req.id);
        let r = match c
            .delete_nodegroup()
            .cluster_name(cluster)
            .nodegroup_name(name)
            .send()
            .await
            .map_err(classify)
        {
            Ok(_) => wait_nodegroup(&c, cluster, name, true).await.map(|_| ()),
            Err(e) => Err(e),
        };
        match crate::error::deleted(r) {
            Ok(()) => delete_launch_template(cfg, cluster, name).await,
            Err(e) => Err(e),
        }
    };
    crate::error::deleted(r)
}

/// The names of every cluster of the client's region (all pages).
pub(crate) async fn cluster_names(c: &Client) -> Result<Vec<String>, ProviderError> {
    let mut clusters = Vec::new();
    let mut pages = c.list_clusters().into_paginator().send();
    while let Some(page) = pages.next().await {
        clusters.extend(page.map_err(classify)?.clusters().iter().cloned());
    }
    Ok(clusters)
}

/// Clusters (and their node groups) carrying this address and lineage in their tags.
pub async fn find(cfg: &SdkConfig, req: &FindRequest) -> Result<Option<Found>, ProviderError> {
    let c = Client::new(cfg);
    for name in &cluster_names(&c).await? {
        let Ok(o) = c.describe_cluster().name(name).send().await else {
            continue;
        };
        let Some(k) = o.cluster() else { continue };
        if req.ty == "aws.eks.Cluster" {
            if has_tags(k.tags(), &req.address, &req.lineage) {
                return Ok(Some(Found {
                    id: name.clone(),
                    attrs: cluster_attrs(&req.attrs, k),
                }));
            }
            continue;
        }
        let mut groups = Vec::new();
        let mut pages = c
            .list_nodegroups()
            .cluster_name(name)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            groups.extend(page.map_err(classify)?.nodegroups().iter().cloned());
        }
        for ng in &groups {
            let Ok(o) = c
                .describe_nodegroup()
                .cluster_name(name)
                .nodegroup_name(ng)
                .send()
                .await
            else {
                continue;
            };
            if let Some(n) = o.nodegroup()
                && has_tags(n.tags(), &req.address, &req.lineage)
            {
                return Ok(Some(Found {
                    id: format!("{name}:{ng}"),
                    attrs: with(
                        &req.attrs,
                        &[("arn", n.nodegroup_arn().map(str::to_string))],
                    ),
                }));
            }
        }
    }
    Ok(None)
}
