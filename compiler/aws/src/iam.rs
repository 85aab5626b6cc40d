//! IAM roles and policy attachments (global: through us-east-1).

use aws_config::SdkConfig;
use aws_sdk_iam::Client;
use aws_sdk_iam::types::Tag;
use carbonc_apply::{
    CreateRequest, DeleteRequest, FindRequest, Found, ProviderError, ReadRequest, UpdateRequest,
};

use crate::attrs::{all_tags, i, map, required, s, with};
use crate::error::{classify, is_not_found};

fn role_name_of(r: &carbonc_apply::Resolved, field: &str) -> Result<String, ProviderError> {
    r.target(field)
        .and_then(|t| s(&t.attributes, "name"))
        .ok_or_else(|| ProviderError::Permanent {
            code: "UnresolvedReference".into(),
            message: format!("`{field}` of `{}` names no role", r.address),
        })
}

pub async fn create(cfg: &SdkConfig, req: &CreateRequest) -> Result<Found, ProviderError> {
    let c = Client::new(cfg);
    let r = &req.resource;
    let a = &r.attrs;
    if r.ty == "aws.iam.RolePolicyAttachment" {
        let role = role_name_of(r, "role")?;
        let policy = required(a, "policy_arn")?;
        c.attach_role_policy()
            .role_name(&role)
            .policy_arn(&policy)
            .send()
            .await
            .map_err(classify)?;
        return Ok(Found {
            id: format!("{role}|{policy}"),
            attrs: a.clone(),
        });
    }
    let tags: Result<Vec<Tag>, _> = all_tags(req)
        .iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect();
    let tags = tags.map_err(|e| ProviderError::Permanent {
        code: "InvalidTag".into(),
        message: e.to_string(),
    })?;
    let mut call = c
        .create_role()
        .role_name(required(a, "name")?)
        .assume_role_policy_document(required(a, "assume_role_policy")?)
        .path(s(a, "path").unwrap_or_else(|| "/".into()))
        .max_session_duration(i(a, "max_session_duration").unwrap_or(3600) as i32)
        .set_permissions_boundary(s(a, "permissions_boundary"))
        .set_tags(Some(tags));
    if let Some(d) = s(a, "description") {
        call = call.description(d);
    }
    let out = call.send().await.map_err(classify)?;
    let role = out.role().ok_or_else(|| ProviderError::Permanent {
        code: "EmptyResponse".into(),
        message: "CreateRole returned no role".into(),
    })?;
    let name = role.role_name().to_string();
    Ok(Found {
        id: name,
        attrs: with(
            a,
            &[
                ("arn", Some(role.arn().to_string())),
                ("id", Some(role.role_id().to_string())),
            ],
        ),
    })
}

pub async fn read(cfg: &SdkConfig, req: &ReadRequest) -> Result<Option<Found>, ProviderError> {
    let c = Client::new(cfg);
    if req.ty == "aws.iam.RolePolicyAttachment" {
        let Some((role, policy)) = req.id.split_once('|') else {
            return Ok(None);
        };
        return match c
            .list_attached_role_policies()
            .role_name(role)
            .send()
            .await
            .map_err(classify)
        {
            Ok(o) => Ok(o
                .attached_policies()
                .iter()
                .any(|p| p.policy_arn() == Some(policy))
                .then(|| Found {
                    id: req.id.clone(),
                    attrs: crate::attrs::with(&req.attrs, &[("policy_arn", Some(policy.into()))]),
                })),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(e),
        };
    }
    match c
        .get_role()
        .role_name(&req.id)
        .send()
        .await
        .map_err(classify)
    {
        Ok(o) => {
            let mut attrs = req.attrs.clone();
            if let Some(role) = o.role() {
                attrs.insert(
                    "arn".into(),
                    carbonc_state::Val::Str(role.arn().to_string()),
                );
                let text = |v: &str| carbonc_state::Val::Str(v.to_string());
                attrs.insert("id".into(), text(role.role_id()));
                attrs.insert("name".into(), text(role.role_name()));
                attrs.insert("path".into(), text(role.path()));
                if let Some(d) = role.description() {
                    attrs.insert("description".into(), text(d));
                }
                if let Some(n) = role.max_session_duration() {
                    attrs.insert(
                        "max_session_duration".into(),
                        carbonc_state::Val::Int(n.into()),
                    );
                }
                if let Some(b) = role
                    .permissions_boundary()
                    .and_then(|b| b.permissions_boundary_arn())
                {
                    attrs.insert("permissions_boundary".into(), text(b));
                }
                attrs.insert(
                    "tags".into(),
                    crate::attrs::user_tags(role.tags().iter().map(|t| (t.key(), t.value()))),
                );
                if let Some(doc) = role.assume_role_policy_document() {
                    // IAM returns the policy URL-encoded.
                    let decoded = percent_decode(doc);
                    crate::attrs::put_policy(&mut attrs, "assume_role_policy", Some(&decoded));
                }
            }
            Ok(Some(Found {
                id: req.id.clone(),
                attrs,
            }))
        }
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub async fn update(cfg: &SdkConfig, req: &UpdateRequest) -> Result<Found, ProviderError> {
    let c = Client::new(cfg);
    let a = &req.resource.attrs;
    if s(a, "assume_role_policy") != s(&req.before, "assume_role_policy") {
        c.update_assume_role_policy()
            .role_name(&req.id)
            .policy_document(required(a, "assume_role_policy")?)
            .send()
            .await
            .map_err(classify)?;
    }
    let mut call = c
        .update_role()
        .role_name(&req.id)
        .max_session_duration(i(a, "max_session_duration").unwrap_or(3600) as i32);
    if let Some(d) = s(a, "description") {
        call = call.description(d);
    }
    call.send().await.map_err(classify)?;
    if s(a, "permissions_boundary") != s(&req.before, "permissions_boundary") {
        match s(a, "permissions_boundary") {
            Some(arn) => c
                .put_role_permissions_boundary()
                .role_name(&req.id)
                .permissions_boundary(arn)
                .send()
                .await
                .map(|_| ())
                .map_err(classify)?,
            None => c
                .delete_role_permissions_boundary()
                .role_name(&req.id)
                .send()
                .await
                .map(|_| ())
                .map_err(classify)?,
        }
    }
    // The user's tags: changed ones set, removed ones taken off (carbon's own stay).
    let (old, new) = (map(&req.before, "tags"), map(a, "tags"));
    let (set, removed) = crate::attrs::tag_changes(&old, &new);
    let set: Vec<Tag> = set
        .iter()
        .filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok())
        .collect();
    if !set.is_empty() {
        c.tag_role()
            .role_name(&req.id)
            .set_tags(Some(set))
            .send()
            .await
            .map_err(classify)?;
    }
    if !removed.is_empty() {
        c.untag_role()
            .role_name(&req.id)
            .set_tag_keys(Some(removed))
            .send()
            .await
            .map_err(classify)?;
    }
    Ok(Found {
        id: req.id.clone(),
        attrs: with(
            a,
            &[("arn", s(&req.before, "arn")), ("id", s(&req.before, "id"))],
        ),
    })
}

pub async fn delete(cfg: &SdkConfig, req: &DeleteRequest) -> Result<(), ProviderError> {
    let c = Client::new(cfg);
    let r = if req.ty == "aws.iam.RolePolicyAttachment" {
        let Some((role, policy)) = req.id.split_once('|') else {
            return Ok(());
        };
        c.detach_role_policy()
            .role_name(role)
            .policy_arn(policy)
            .send()
            .await
            .map(|_| ())
            .map_err(classify)
    } else {
        c.delete_role()
            .role_name(&req.id)
            .send()
            .await
            .map(|_| ())
            .map_err(classify)
    };
    crate::error::deleted(r)
}

pub async fn find(cfg: &SdkConfig, req: &FindRequest) -> Result<Option<Found>, ProviderError> {
    let c = Client::new(cfg);
    let Some(name) = s(&req.attrs, "name") else {
        return Ok(None);
    };
    let tags = match c
        .list_role_tags()
        .role_name(&name)
        .send()
        .await
        .map_err(classify)
    {
        Ok(t) => t,
        Err(e) if is_not_found(&e) => return Ok(None),
        Err(e) => return Err(e),
    };
    let has = |k: &str, v: &str| tags.tags().iter().any(|t| t.key() == k && t.value() == v);
    let address = carbonc_apply::address_tag(&req.address);
    if !(has("carbon:address", &address) && has("carbon:lineage", &req.lineage)) {
        return Ok(None);
    }
    let read = ReadRequest {
        address: req.address.clone(),
        ty: req.ty.clone(),
        region: req.region.clone(),
        id: name,
        attrs: req.attrs.clone(),
    };
    read_role_found(cfg, &read).await
}

async fn read_role_found(
    cfg: &SdkConfig,
    req: &ReadRequest,
) -> Result<Option<Found>, ProviderError> {
    read(cfg, req).await
}

// ---- inline role policies ------------------------------------------------------------------------

/// The id of an inline policy: "ROLE|NAME".
fn inline_id(role: &str, name: &str) -> String {
    format!("{role}|{name}")
}

/// The policy document AWS holds for `role`'s inline policy `name` (decoded), if there is one.
async fn inline_document(
    c: &Client,
    role: &str,
    name: &str,
) -> Result<Option<String>, ProviderError> {
    match c
        .get_role_policy()
        .role_name(role)
        .policy_name(name)
        .send()
        .await
        .map_err(classify)
    {
        // IAM answers the document URL-encoded (RFC 3986).
        Ok(out) => Ok(Some(percent_decode(out.policy_document()))),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

pub async fn create_inline(cfg: &SdkConfig, req: &CreateRequest) -> Result<Found, ProviderError> {
    let c = Client::new(cfg);
    let r = &req.resource;
    let role = role_name_of(r, "role")?;
    let name = required(&r.attrs, "name")?;
    let policy = required(&r.attrs, "policy")?;
    // PutRolePolicy overwrites a policy of the same name, and inline policies take no tags: one
    // already there is this one only if it already says the same (an interrupted create).
    if let Some(have) = inline_document(&c, &role, &name).await?
        && !crate::attrs::same_json(&have, &policy)
    {
        return Err(ProviderError::Permanent {
            code: "AlreadyExists".into(),
            message: format!(
                "role {role} already has an inline policy named `{name}` that carbonc did not \
                 write (choose another name, or `carbonc import` it)"
            ),
        });
    }
    c.put_role_policy()
        .role_name(&role)
        .policy_name(&name)
        .policy_document(&policy)
        .send()
        .await
        .map_err(classify)?;
    Ok(Found {
        id: inline_id(&role, &name),
        attrs: r.attrs.clone(),
    })
}

pub async fn read_inline(
    cfg: &SdkConfig,
    req: &ReadRequest,
) -> Result<Option<Found>, ProviderError> {
    let c = Client::new(cfg);
    let Some((role, name)) = req.id.split_once('|') else {
        return Ok(None);
    };
    let Some(doc) = inline_document(&c, role, name).await? else {
        return Ok(None);
    };
    let mut attrs = req.attrs.clone();
    attrs.insert("name".into(), carbonc_state::Val::Str(name.to_string()));
    crate::attrs::put_policy(&mut attrs, "policy", Some(&doc));
    Ok(Some(Found {
        id: req.id.clone(),
        attrs,
    }))
}

pub async fn update_inline(cfg: &SdkConfig, req: &UpdateRequest) -> Result<Found, ProviderError> {
    let c = Client::new(cfg);
    let Some((role, name)) = req.id.split_once('|') else {
        return Err(ProviderError::Permanent {
            code: "InvalidId".into(),
            message: format!("`{}` is not ROLE|NAME", req.id),
        });
    };
    c.put_role_policy()
        .role_name(role)
        .policy_name(name)
        .policy_document(required(&req.resource.attrs, "policy")?)
        .send()
        .await
        .map_err(classify)?;
    Ok(Found {
        id: req.id.clone(),
        attrs: req.resource.attrs.clone(),
    })
}

pub async fn delete_inline(cfg: &SdkConfig, req: &DeleteRequest) -> Result<(), ProviderError> {
    let c = Client::new(cfg);
    let Some((role, name)) = req.id.split_once('|') else {
        return Ok(());
    };
    crate::error::deleted(
        c.delete_role_policy()
            .role_name(role)
            .policy_name(name)
            .send()
            .await
            .map(|_| ())
            .map_err(classify),
    )
}
