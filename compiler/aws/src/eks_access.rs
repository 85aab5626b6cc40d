//! EKS inside the cluster's door: add-ons (waited for until ACTIVE, updates followed by their
//! id), access entries and their access policy associations, and Pod Identity associations.
//!
//! Ids: an add-on is `CLUSTER:ADDON`, an access entry `CLUSTER:PRINCIPAL_ARN`, a Pod Identity
//! association `CLUSTER:ASSOCIATION_ID` (a cluster name has no `:`), and an access policy
//! association `CLUSTER#PRINCIPAL_ARN#POLICY_ARN`, as Terraform's provider records them
//! (internal/service/eks/access_policy_association.go).

use std::collections::BTreeMap;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_eks::Client;
use aws_sdk_eks::types::{AccessScope, AccessScopeType, AddonStatus, ResolveConflicts};
use carbonc_apply::{
    CreateRequest, DeleteRequest, FindRequest, Found, ProviderError, ReadRequest, UpdateRequest,
};
use carbonc_state::Val;

use crate::attrs::{
    after_update, all_tags, b, map, put, put_if_set, ref_arn, ref_id, required, s, strings, text,
    with,
};
use crate::eks::{Of, POLL, has_tags, split, tag, user_tags, wait_update};
use crate::error::{classify, is_not_found};

/// What EKS answers while IAM has not propagated a new role to it: Terraform retries these for
/// two minutes (internal/service/eks/access_entry.go: "The specified principalArn is invalid:
/// invalid principal"; pod_identity_association.go: "Role provided in the request does not
/// exist"). The client request token makes each retry safe.
const PRINCIPAL_PROPAGATION: [crate::retry::Transient; 2] = [
    crate::retry::transient("InvalidParameterException", "invalid principal"),
    crate::retry::transient("InvalidParameterException", "does not exist"),
];

/// An add-on takes a minute or two to become ACTIVE; Terraform waits up to 20 minutes
/// (internal/service/eks/addon.go, `Timeouts`).
const ADDON_TIMEOUT: Duration = Duration::from_secs(20 * 60);

fn client(cfg: &SdkConfig) -> Client {
    Client::new(cfg)
}

/// A JSON document reported by AWS, for a field the program set: kept as the program wrote it when
/// both mean the same (AWS may reformat what it stores).
fn put_json(attrs: &mut BTreeMap<String, Val>, k: &str, reported: Option<&str>) {
    match (attrs.get(k), reported) {
        (Some(Val::Str(written)), Some(r)) if crate::attrs::same_json(written, r) => {}
        (Some(Val::Null) | None, None | Some("")) => {}
        (_, r) => {
            attrs.insert(
                k.into(),
                r.filter(|r| !r.is_empty())
                    .map_or(Val::Null, |r| Val::Str(r.to_string())),
            );
        }
    }
}

// ---- add-ons -----------------------------------------------------------------------------------

async fn describe_addon(
    c: &Client,
    cluster: &str,
    name: &str,
) -> Result<Option<aws_sdk_eks::types::Addon>, ProviderError> {
    match c
        .describe_addon()
        .cluster_name(cluster)
        .addon_name(name)
        .send()
        .await
        .map_err(classify)
    {
        Ok(o) => Ok(o.addon().cloned()),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// What EKS says is wrong with an add-on (its health issues), for an error.
fn issues(a: &aws_sdk_eks::types::Addon) -> String {
    a.health()
        .map(|h| h.issues())
        .unwrap_or_default()
        .iter()
        .map(|i| {
            format!(
                "{}: {}",
                i.code().map_or("Unknown", |c| c.as_str()),
                i.message().unwrap_or("")
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Waits for the add-on to be ACTIVE (`gone == false`) or deleted; a failed create or delete is an
/// error naming EKS's health issues. DEGRADED is waited through, as Terraform does
/// (internal/service/eks/wait.go `waitAddonCreated`: pending CREATING and DEGRADED).
async fn wait_addon(
    c: &Client,
    cluster: &str,
    name: &str,
    gone: bool,
) -> Result<Option<aws_sdk_eks::types::Addon>, ProviderError> {
    let why = std::sync::Mutex::new(String::new());
    let r = crate::poll::until_available(
        &format!("EKS add-on {cluster}/{name}"),
        gone,
        &["CREATE_FAILED", "DELETE_FAILED"],
        (ADDON_TIMEOUT, POLL),
        || async {
            let a = describe_addon(c, cluster, name).await?;
            if let Some(a) = &a {
                *why.lock().unwrap() = issues(a);
            }
            Ok(a.map(|a| match a.status() {
                Some(AddonStatus::Active) => "available".to_string(),
                s => s.map_or("", |s| s.as_str()).to_string(),
            }))
        },
    )
    .await;
    if let Err(ProviderError::Permanent { code, message }) = r {
        let why = why.lock().unwrap().clone();
        return Err(ProviderError::Permanent {
            code,
            message: if why.is_empty() {
                message
            } else {
                format!("{message}: {why}")
            },
        });
    }
    r?;
    if gone {
        Ok(None)
    } else {
        describe_addon(c, cluster, name).await
    }
}

fn resolve_conflicts(a: &BTreeMap<String, Val>) -> Option<ResolveConflicts> {
    s(a, "resolve_conflicts").map(|v| ResolveConflicts::from(v.as_str()))
}

/// The service account role's ARN, when the program names one.
fn role_arn(r: &carbonc_apply::Resolved, field: &str) -> Result<Option<String>, ProviderError> {
    match r.attrs.get(field) {
        Some(Val::Ref(_)) => ref_arn(r, field).map(Some),
        _ => Ok(None),
    }
}

fn addon_attrs(
    a: &BTreeMap<String, Val>,
    addon: &aws_sdk_eks::types::Addon,
) -> BTreeMap<String, Val> {
    with(a, &[("arn", addon.addon_arn().map(str::to_string))])
}

pub async fn create_addon(cfg: &SdkConfig, req: &CreateRequest) -> Result<Found, ProviderError> {
    let c = client(cfg);
    let r = &req.resource;
    let a = &r.attrs;
    let cluster = ref_id(r, "cluster")?;
    let name = required(a, "name")?;
    // A create takes NONE or OVERWRITE (model eks: CreateAddonRequest.resolveConflicts).
    let conflicts = match resolve_conflicts(a) {
        Some(ResolveConflicts::Preserve) => Some(ResolveConflicts::None),
        other => other,
    };
    c.create_addon()
        .cluster_name(&cluster)
        .addon_name(&name)
        .set_addon_version(s(a, "version"))
        .set_configuration_values(s(a, "configuration"))
        .set_service_account_role_arn(role_arn(r, "service_account_role")?)
        .set_resolve_conflicts(conflicts)
        .client_request_token(&req.token)
        .set_tags(Some(all_tags(req).into_iter().collect()))
        .send()
        .await
        .map_err(classify)?;
    let addon = wait_addon(&c, &cluster, &name, false)
        .await?
        .ok_or_else(|| crate::eks::vanished(&name))?;
    Ok(Found {
        id: format!("{cluster}:{name}"),
        attrs: addon_attrs(a, &addon),
    })
}

async fn read_addon(c: &Client, req: &ReadRequest) -> Result<Option<Found>, ProviderError> {
    let (cluster, name) = split(&req.id);
    let Some(addon) = describe_addon(c, cluster, name).await? else {
        return Ok(None);
    };
    if addon.status() == Some(&AddonStatus::Deleting) {
        return Ok(None);
    }
    let mut attrs = addon_attrs(&req.attrs, &addon);
    put(&mut attrs, "name", text(addon.addon_name()));
    // The version EKS chose is recorded only where the program named one.
    put_if_set(&mut attrs, "version", text(addon.addon_version()));
    put_json(&mut attrs, "configuration", addon.configuration_values());
    attrs.insert("tags".into(), user_tags(addon.tags()));
    Ok(Some(Found {
        id: req.id.clone(),
        attrs,
    }))
}

async fn update_addon(c: &Client, req: &UpdateRequest) -> Result<Found, ProviderError> {
    let r = &req.resource;
    let a = &r.attrs;
    let (cluster, name) = split(&req.id);
    let changed = |k: &str| a.get(k) != req.before.get(k);
    if changed("version")
        || changed("configuration")
        || changed("service_account_role")
        || changed("resolve_conflicts")
    {
        // An unset configuration is sent as "" (no document), which resets it to the defaults.
        let out = c
            .update_addon()
            .cluster_name(cluster)
            .addon_name(name)
            .set_addon_version(s(a, "version"))
            .configuration_values(s(a, "configuration").unwrap_or_default())
            .set_service_account_role_arn(role_arn(r, "service_account_role")?)
            .set_resolve_conflicts(resolve_conflicts(a))
            .send()
            .await
            .map_err(classify)?;
        wait_update(c, cluster, Of::Addon(name), out.update()).await?;
    }
    let addon = wait_addon(c, cluster, name, false)
        .await?
        .ok_or_else(|| crate::eks::vanished(name))?;
    tag(
        c,
        addon.addon_arn(),
        &map(&req.before, "tags"),
        &map(a, "tags"),
    )
    .await?;
    Ok(Found {
        id: req.id.clone(),
        attrs: addon_attrs(&after_update(a, &req.before), &addon),
    })
}

async fn delete_addon(c: &Client, req: &DeleteRequest) -> Result<(), ProviderError> {
    let (cluster, name) = split(&req.id);
    c.delete_addon()
        .cluster_name(cluster)
        .addon_name(name)
        .set_preserve(b(&req.attrs, "preserve_on_delete"))
        .send()
        .await
        .map_err(classify)?;
    wait_addon(c, cluster, name, true).await.map(|_| ())
}

// ---- access entries and policies ----------------------------------------------------------------

async fn describe_entry(
    c: &Client,
    cluster: &str,
    principal: &str,
) -> Result<Option<aws_sdk_eks::types::AccessEntry>, ProviderError> {
    match c
        .describe_access_entry()
        .cluster_name(cluster)
        .principal_arn(principal)
        .send()
        .await
        .map_err(classify)
    {
        Ok(o) => Ok(o.access_entry().cloned()),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The Kubernetes groups as the program lists them when EKS holds the same ones (in any order).
fn groups(a: &BTreeMap<String, Val>, reported: &[String]) -> Val {
    let mut written = strings(a, "kubernetes_groups");
    let mut have = reported.to_vec();
    written.sort();
    have.sort();
    if written == have {
        return a
            .get("kubernetes_groups")
            .cloned()
            .unwrap_or(Val::List(Vec::new()));
    }
    Val::List(reported.iter().map(|g| Val::Str(g.clone())).collect())
}

pub async fn create_entry(cfg: &SdkConfig, req: &CreateRequest) -> Result<Found, ProviderError> {
    let c = client(cfg);
    let r = &req.resource;
    let a = &r.attrs;
    let cluster = ref_id(r, "cluster")?;
    let principal = ref_arn(r, "principal")?;
    let out = crate::retry::while_settling(
        &format!("creating EKS access entry for {principal} on {cluster}"),
        &PRINCIPAL_PROPAGATION,
        crate::eks::IAM_BUDGET,
        || async {
            c.create_access_entry()
                .cluster_name(&cluster)
                .principal_arn(&principal)
                .set_kubernetes_groups(Some(strings(a, "kubernetes_groups")))
                .set_username(s(a, "username"))
                .client_request_token(&req.token)
                .set_tags(Some(all_tags(req).into_iter().collect()))
                .send()
                .await
                .map_err(classify)
        },
    )
    .await?;
    Ok(Found {
        id: format!("{cluster}:{principal}"),
        attrs: with(
            a,
            &[(
                "arn",
                out.access_entry()
                    .and_then(|e| e.access_entry_arn())
                    .map(str::to_string),
            )],
        ),
    })
}

async fn read_entry(c: &Client, req: &ReadRequest) -> Result<Option<Found>, ProviderError> {
    let (cluster, principal) = split(&req.id);
    let Some(e) = describe_entry(c, cluster, principal).await? else {
        return Ok(None);
    };
    let mut attrs = with(
        &req.attrs,
        &[("arn", e.access_entry_arn().map(str::to_string))],
    );
    attrs.insert(
        "kubernetes_groups".into(),
        groups(&req.attrs, e.kubernetes_groups()),
    );
    put_if_set(&mut attrs, "username", text(e.username()));
    attrs.insert("tags".into(), user_tags(e.tags()));
    Ok(Some(Found {
        id: req.id.clone(),
        attrs,
    }))
}

async fn update_entry(c: &Client, req: &UpdateRequest) -> Result<Found, ProviderError> {
    let a = &req.resource.attrs;
    let (cluster, principal) = split(&req.id);
    let changed = |k: &str| a.get(k) != req.before.get(k);
    if changed("kubernetes_groups") || changed("username") {
        c.update_access_entry()
            .cluster_name(cluster)
            .principal_arn(principal)
            .set_kubernetes_groups(Some(strings(a, "kubernetes_groups")))
            .set_username(s(a, "username"))
            .send()
            .await
            .map_err(classify)?;
    }
    let arn = s(&req.before, "arn");
    tag(
        c,
        arn.as_deref(),
        &map(&req.before, "tags"),
        &map(a, "tags"),
    )
    .await?;
    Ok(Found {
        id: req.id.clone(),
        attrs: after_update(a, &req.before),
    })
}

/// `CLUSTER#PRINCIPAL#POLICY`.
fn association_parts(id: &str) -> Option<(&str, &str, &str)> {
    let mut parts = id.splitn(3, '#');
    Some((parts.next()?, parts.next()?, parts.next()?))
}

fn scope(a: &BTreeMap<String, Val>) -> AccessScope {
    let m = match a.get("scope") {
        Some(Val::Map(m)) => m.clone(),
        _ => BTreeMap::new(),
    };
    let namespaces = strings(&m, "namespaces");
    AccessScope::builder()
        .set_type(s(&m, "type").map(|t| AccessScopeType::from(t.as_str())))
        .set_namespaces((!namespaces.is_empty()).then_some(namespaces))
        .build()
}

pub async fn create_association(
    cfg: &SdkConfig,
    req: &CreateRequest,
) -> Result<Found, ProviderError> {
    let c = client(cfg);
    let r = &req.resource;
    let a = &r.attrs;
    let entry = ref_id(r, "entry")?;
    let (cluster, principal) = split(&entry);
    let policy = required(a, "policy_arn")?;
    c.associate_access_policy()
        .cluster_name(cluster)
        .principal_arn(principal)
        .policy_arn(&policy)
        .access_scope(scope(a))
        .send()
        .await
        .map_err(classify)?;
    Ok(Found {
        id: format!("{cluster}#{principal}#{policy}"),
        attrs: a.clone(),
    })
}

async fn read_association(c: &Client, req: &ReadRequest) -> Result<Option<Found>, ProviderError> {
    let Some((cluster, principal, policy)) = association_parts(&req.id) else {
        return Ok(None);
    };
    let mut pages = c
        .list_associated_access_policies()
        .cluster_name(cluster)
        .principal_arn(principal)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = match page.map_err(classify) {
            Ok(p) => p,
            // The access entry (and so every association of it) is gone.
            Err(e) if is_not_found(&e) => return Ok(None),
            Err(e) => return Err(e),
        };
        for p in page.associated_access_policies() {
            if p.policy_arn() != Some(policy) {
                continue;
            }
            let mut attrs = req.attrs.clone();
            put(&mut attrs, "policy_arn", text(p.policy_arn()));
            if let Some(sc) = p.access_scope() {
                let mut m = BTreeMap::new();
                m.insert(
                    "type".to_string(),
                    Val::Str(sc.r#type().map_or("", |t| t.as_str()).to_string()),
                );
                let mut written = match req.attrs.get("scope") {
                    Some(Val::Map(w)) => strings(w, "namespaces"),
                    _ => Vec::new(),
                };
                let mut have = sc.namespaces().to_vec();
                written.sort();
                have.sort();
                let namespaces = match req.attrs.get("scope") {
                    Some(Val::Map(w)) if written == have => w
                        .get("namespaces")
                        .cloned()
                        .unwrap_or(Val::List(Vec::new())),
                    _ => Val::List(
                        sc.namespaces()
                            .iter()
                            .map(|n| Val::Str(n.clone()))
                            .collect(),
                    ),
                };
                m.insert("namespaces".to_string(), namespaces);
                attrs.insert("scope".into(), Val::Map(m));
            }
            return Ok(Some(Found {
                id: req.id.clone(),
                attrs,
            }));
        }
    }
    Ok(None)
}

// ---- Pod Identity ---------------------------------------------------------------------------------

async fn describe_pod_identity(
    c: &Client,
    cluster: &str,
    id: &str,
) -> Result<Option<aws_sdk_eks::types::PodIdentityAssociation>, ProviderError> {
    match c
        .describe_pod_identity_association()
        .cluster_name(cluster)
        .association_id(id)
        .send()
        .await
        .map_err(classify)
    {
        Ok(o) => Ok(o.association().cloned()),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

fn pod_identity_attrs(
    a: &BTreeMap<String, Val>,
    p: &aws_sdk_eks::types::PodIdentityAssociation,
) -> BTreeMap<String, Val> {
    with(
        a,
        &[
            ("association_id", p.association_id().map(str::to_string)),
            ("arn", p.association_arn().map(str::to_string)),
        ],
    )
}

pub async fn create_pod_identity(
    cfg: &SdkConfig,
    req: &CreateRequest,
) -> Result<Found, ProviderError> {
    let c = client(cfg);
    let r = &req.resource;
    let a = &r.attrs;
    let cluster = ref_id(r, "cluster")?;
    let role = ref_arn(r, "role")?;
    let out = crate::retry::while_settling(
        &format!("creating EKS Pod Identity association on {cluster}"),
        &PRINCIPAL_PROPAGATION,
        crate::eks::IAM_BUDGET,
        || async {
            c.create_pod_identity_association()
                .cluster_name(&cluster)
                .namespace(required(a, "namespace")?)
                .service_account(required(a, "service_account")?)
                .role_arn(&role)
                .client_request_token(&req.token)
                .set_tags(Some(all_tags(req).into_iter().collect()))
                .send()
                .await
                .map_err(classify)
        },
    )
    .await?;
    let p = out
        .association()
        .ok_or_else(|| crate::eks::vanished("the Pod Identity association"))?;
    Ok(Found {
        id: format!("{cluster}:{}", p.association_id().unwrap_or_default()),
        attrs: pod_identity_attrs(a, p),
    })
}

async fn read_pod_identity(c: &Client, req: &ReadRequest) -> Result<Option<Found>, ProviderError> {
    let (cluster, id) = split(&req.id);
    let Some(p) = describe_pod_identity(c, cluster, id).await? else {
        return Ok(None);
    };
    let mut attrs = pod_identity_attrs(&req.attrs, &p);
    put(&mut attrs, "namespace", text(p.namespace()));
    put(&mut attrs, "service_account", text(p.service_account()));
    attrs.insert("tags".into(), user_tags(p.tags()));
    Ok(Some(Found {
        id: req.id.clone(),
        attrs,
    }))
}

async fn update_pod_identity(c: &Client, req: &UpdateRequest) -> Result<Found, ProviderError> {
    let r = &req.resource;
    let a = &r.attrs;
    let (cluster, id) = split(&req.id);
    if a.get("role") != req.before.get("role") {
        c.update_pod_identity_association()
            .cluster_name(cluster)
            .association_id(id)
            .role_arn(ref_arn(r, "role")?)
            .send()
            .await
            .map_err(classify)?;
    }
    let arn = s(&req.before, "arn");
    tag(
        c,
        arn.as_deref(),
        &map(&req.before, "tags"),
        &map(a, "tags"),
    )
    .await?;
    Ok(Found {
        id: req.id.clone(),
        attrs: after_update(a, &req.before),
    })
}

// ---- dispatch ----------------------------------------------------------------------------------

pub async fn read(cfg: &SdkConfig, req: &ReadRequest) -> Result<Option<Found>, ProviderError> {
    let c = client(cfg);
    match req.ty.as_str() {
        "aws.eks.Addon" => read_addon(&c, req).await,
        "aws.eks.AccessEntry" => read_entry(&c, req).await,
        "aws.eks.AccessPolicyAssociation" => read_association(&c, req).await,
        _ => read_pod_identity(&c, req).await,
    }
}

pub async fn update(cfg: &SdkConfig, req: &UpdateRequest) -> Result<Found, ProviderError> {
    let c = client(cfg);
    match req.resource.ty.as_str() {
        "aws.eks.Addon" => update_addon(&c, req).await,
        "aws.eks.AccessEntry" => update_entry(&c, req).await,
        _ => update_pod_identity(&c, req).await,
    }
}

pub async fn delete(cfg: &SdkConfig, req: &DeleteRequest) -> Result<(), ProviderError> {
    let c = client(cfg);
    let r = match req.ty.as_str() {
        "aws.eks.Addon" => delete_addon(&c, req).await,
        "aws.eks.AccessEntry" => {
            let (cluster, principal) = split(&req.id);
            c.delete_access_entry()
                .cluster_name(cluster)
                .principal_arn(principal)
                .send()
                .await
                .map(|_| ())
                .map_err(classify)
        }
        "aws.eks.AccessPolicyAssociation" => match association_parts(&req.id) {
            Some((cluster, principal, policy)) => c
                .disassociate_access_policy()
                .cluster_name(cluster)
                .principal_arn(principal)
                .policy_arn(policy)
                .send()
                .await
                .map(|_| ())
                .map_err(classify),
            None => Ok(()),
        },
        _ => {
            let (cluster, id) = split(&req.id);
            c.delete_pod_identity_association()
                .cluster_name(cluster)
                .association_id(id)
                .send()
                .await
                .map(|_| ())
                .map_err(classify)
        }
    };
    crate::error::deleted(r)
}

/// Add-ons, access entries and Pod Identity associations carrying this address and lineage in
/// their tags, on any cluster of the region.
pub async fn find(cfg: &SdkConfig, req: &FindRequest) -> Result<Option<Found>, ProviderError> {
    let c = client(cfg);
    for cluster in &crate::eks::cluster_names(&c).await? {
        match req.ty.as_str() {
            "aws.eks.Addon" => {
                let mut names = Vec::new();
                let mut pages = c
                    .list_addons()
                    .cluster_name(cluster)
                    .into_paginator()
                    .send();
                while let Some(page) = pages.next().await {
                    names.extend(page.map_err(classify)?.addons().iter().cloned());
                }
                for name in &names {
                    if let Some(a) = describe_addon(&c, cluster, name).await?
                        && has_tags(a.tags(), &req.address, &req.lineage)
                    {
                        return Ok(Some(Found {
                            id: format!("{cluster}:{name}"),
                            attrs: addon_attrs(&req.attrs, &a),
                        }));
                    }
                }
            }
            "aws.eks.AccessEntry" => {
                let mut principals = Vec::new();
                let mut pages = c
                    .list_access_entries()
                    .cluster_name(cluster)
                    .into_paginator()
                    .send();
                while let Some(page) = pages.next().await {
                    principals.extend(page.map_err(classify)?.access_entries().iter().cloned());
                }
                for principal in &principals {
                    if let Some(e) = describe_entry(&c, cluster, principal).await?
                        && has_tags(e.tags(), &req.address, &req.lineage)
                    {
                        return Ok(Some(Found {
                            id: format!("{cluster}:{principal}"),
                            attrs: with(
                                &req.attrs,
                                &[("arn", e.access_entry_arn().map(str::to_string))],
                            ),
                        }));
                    }
                }
            }
            _ => {
                let mut ids = Vec::new();
                let mut pages = c
                    .list_pod_identity_associations()
                    .cluster_name(cluster)
                    .into_paginator()
                    .send();
                while let Some(page) = pages.next().await {
                    ids.extend(
                        page.map_err(classify)?
                            .associations()
                            .iter()
                            .filter_map(|a| a.association_id().map(str::to_string)),
                    );
                }
                for id in &ids {
                    if let Some(p) = describe_pod_identity(&c, cluster, id).await?
                        && has_tags(p.tags(), &req.address, &req.lineage)
                    {
                        return Ok(Some(Found {
                            id: format!("{cluster}:{id}"),
                            attrs: pod_identity_attrs(&req.attrs, &p),
                        }));
                    }
                }
            }
        }
    }
    Ok(None)
}
