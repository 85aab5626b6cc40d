//! KMS keys and aliases.

use aws_config::SdkConfig;
use aws_sdk_kms::Client;
use aws_sdk_kms::types::{KeySpec, KeyState, KeyUsageType, Tag};
use carbonc_apply::{
    CreateRequest, DeleteRequest, FindRequest, Found, ProviderError, ReadRequest, UpdateRequest,
};

use crate::attrs::{all_tags, b, i, ref_id, required, s, with};
use crate::error::{classify, is_not_found};

fn tags(t: &std::collections::BTreeMap<String, String>) -> Result<Vec<Tag>, ProviderError> {
    t.iter()
        .map(|(k, v)| {
            Tag::builder()
                .tag_key(k)
                .tag_value(v)
                .build()
                .map_err(|e| ProviderError::Permanent {
                    code: "InvalidTag".into(),
                    message: e.to_string(),
                })
        })
        .collect()
}

async fn set_rotation(
    c: &Client,
    key_id: &str,
    attrs: &std::collections::BTreeMap<String, carbonc_state::Val>,
) -> Result<(), ProviderError> {
    let symmetric = s(attrs, "key_spec").is_none_or(|k| k == "SYMMETRIC_DEFAULT");
    if !symmetric {
        return Ok(());
    }
    if b(attrs, "enable_key_rotation").unwrap_or(true) {
        let mut call = c.enable_key_rotation().key_id(key_id);
        if let Some(days) = i(attrs, "rotation_period_in_days") {
            call = call.rotation_period_in_days(days as i32);
        }
        call.send().await.map_err(classify)?;
    } else {
        c.disable_key_rotation()
            .key_id(key_id)
            .send()
            .await
            .map_err(classify)?;
    }
    Ok(())
}

pub async fn create_key(cfg: &SdkConfig, req: &CreateRequest) -> Result<Found, ProviderError> {
    // CreateKey takes no client token: one attempt (see `single_attempt`).
    let c = Client::new(&crate::single_attempt(cfg));
    let a = &req.resource.attrs;
    let mut call = c
        .create_key()
        .description(s(a, "description").unwrap_or_default())
        .key_spec(KeySpec::from(
            s(a, "key_spec")
                .unwrap_or_else(|| "SYMMETRIC_DEFAULT".into())
                .as_str(),
        ))
        .key_usage(KeyUsageType::from(
            s(a, "key_usage")
                .unwrap_or_else(|| "ENCRYPT_DECRYPT".into())
                .as_str(),
        ))
        .multi_region(b(a, "multi_region").unwrap_or(false))
        .set_tags(Some(tags(&all_tags(req))?));
    if let Some(policy) = s(a, "policy") {
        call = call.policy(policy);
    }
    let out = call.send().await.map_err(classify)?;
    let meta = out.key_metadata().ok_or_else(|| ProviderError::Permanent {
        code: "EmptyResponse".into(),
        message: "CreateKey returned no key".into(),
    })?;
    let key_id = meta.key_id().to_string();
    set_rotation(&c, &key_id, a).await?;
    Ok(Found {
        id: key_id.clone(),
        attrs: with(
            a,
            &[
                ("key_id", Some(key_id)),
                ("arn", meta.arn().map(str::to_string)),
            ],
        ),
    })
}

pub async fn read_key(cfg: &SdkConfig, req: &ReadRequest) -> Result<Option<Found>, ProviderError> {
    let c = Client::new(cfg);
    let out = match c
        .describe_key()
        .key_id(&req.id)
        .send()
        .await
        .map_err(classify)
    {
        Ok(o) => o,
        Err(e) if is_not_found(&e) => return Ok(None),
        Err(e) => return Err(e),
    };
    let Some(meta) = out.key_metadata() else {
        return Ok(None);
    };
    if matches!(
        meta.key_state(),
        Some(KeyState::PendingDeletion | KeyState::PendingReplicaDeletion)
    ) {
        return Ok(None);
    }
    let mut attrs = req.attrs.clone();
    attrs.insert(
        "description".into(),
        carbonc_state::Val::Str(meta.description().unwrap_or("").to_string()),
    );
    crate::attrs::put(
        &mut attrs,
        "key_id",
        crate::attrs::text(Some(meta.key_id())),
    );
    crate::attrs::put(&mut attrs, "arn", crate::attrs::text(meta.arn()));
    if let Some(spec) = meta.key_spec() {
        attrs.insert(
            "key_spec".into(),
            carbonc_state::Val::Str(spec.as_str().to_string()),
        );
    }
    if let Some(usage) = meta.key_usage() {
        attrs.insert(
            "key_usage".into(),
            carbonc_state::Val::Str(usage.as_str().to_string()),
        );
    }
    if let Some(multi) = meta.multi_region() {
        attrs.insert("multi_region".into(), carbonc_state::Val::Bool(multi));
    }
    if meta
        .key_spec()
        .is_none_or(|k| *k == KeySpec::SymmetricDefault)
        && let Ok(r) = c.get_key_rotation_status().key_id(&req.id).send().await
    {
        attrs.insert(
            "enable_key_rotation".into(),
            carbonc_state::Val::Bool(r.key_rotation_enabled()),
        );
        if let Some(days) = r.rotation_period_in_days() {
            attrs.insert(
                "rotation_period_in_days".into(),
                carbonc_state::Val::Int(days.into()),
            );
        }
    }
    // The key policy, where the program sets one (AWS gives every key a default policy).
    if s(&attrs, "policy").is_some() {
        let p = c
            .get_key_policy()
            .key_id(&req.id)
            .policy_name("default")
            .send()
            .await
            .map_err(classify)?;
        crate::attrs::put_policy(&mut attrs, "policy", p.policy());
    }
    let mut tags = Vec::new();
    let mut pages = c
        .list_resource_tags()
        .key_id(&req.id)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        tags.extend(page.map_err(classify)?.tags().iter().cloned());
    }
    attrs.insert(
        "tags".into(),
        crate::attrs::user_tags(tags.iter().map(|t| (t.tag_key(), t.tag_value()))),
    );
    Ok(Some(Found {
        id: req.id.clone(),
        attrs,
    }))
}

pub async fn update_key(cfg: &SdkConfig, req: &UpdateRequest) -> Result<Found, ProviderError> {
    let c = Client::new(cfg);
    let a = &req.resource.attrs;
    if s(a, "description") != s(&req.before, "description") {
        c.update_key_description()
            .key_id(&req.id)
            .description(s(a, "description").unwrap_or_default())
            .send()
            .await
            .map_err(classify)?;
    }
    // A key always has a policy: a new one replaces it; removing `policy` from the program
    // leaves AWS's as it is (TF's `policy` is optional and computed the same way).
    if s(a, "policy") != s(&req.before, "policy")
        && let Some(policy) = s(a, "policy")
    {
        c.put_key_policy()
            .key_id(&req.id)
            .policy_name("default")
            .policy(policy)
            .send()
            .await
            .map_err(classify)?;
    }
    set_rotation(&c, &req.id, a).await?;
    // The user's tags: changed ones set, removed ones taken off (carbon's own stay).
    let (old, new) = (
        crate::attrs::map(&req.before, "tags"),
        crate::attrs::map(a, "tags"),
    );
    let (changed, removed) = crate::attrs::tag_changes(&old, &new);
    let mut t: Vec<Tag> = tags(&changed)?;
    t.retain(|x| !crate::attrs::internal_tag(x.tag_key()));
    if !t.is_empty() {
        c.tag_resource()
            .key_id(&req.id)
            .set_tags(Some(t))
            .send()
            .await
            .map_err(classify)?;
    }
    if !removed.is_empty() {
        c.untag_resource()
            .key_id(&req.id)
            .set_tag_keys(Some(removed))
            .send()
            .await
            .map_err(classify)?;
    }
    Ok(Found {
        id: req.id.clone(),
        attrs: with(
            a,
            &[
                ("key_id", s(&req.before, "key_id")),
                ("arn", s(&req.before, "arn")),
            ],
        ),
    })
}

pub async fn delete_key(cfg: &SdkConfig, req: &DeleteRequest) -> Result<(), ProviderError> {
    let c = Client::new(cfg);
    // By key id, not ARN: KMS accepts both, the emulator only the id.
    let days = i(&req.attrs, "deletion_window_in_days")
        .unwrap_or(30)
        .clamp(7, 30) as i32;
    match c
        .schedule_key_deletion()
        .key_id(&req.id)
        .pending_window_in_days(days)
        .send()
        .await
        .map_err(classify)
    {
        Ok(_) => Ok(()),
        Err(e) if is_not_found(&e) => Ok(()),
        Err(ProviderError::Permanent { code, .. }) if code == "KMSInvalidStateException" => Ok(()),
        Err(e) => Err(e),
    }
}

pub async fn find_key(cfg: &SdkConfig, req: &FindRequest) -> Result<Option<Found>, ProviderError> {
    let c = Client::new(cfg);
    let mut keys = c.list_keys().into_paginator().send();
    while let Some(page) = keys.next().await {
        let page = page.map_err(classify)?;
        for k in page.keys() {
            let Some(id) = k.key_id() else { continue };
            if req
                .exclude
                .iter()
                .any(|x| x == id || Some(x.as_str()) == k.key_arn())
            {
                continue;
            }
            let Ok(t) = c.list_resource_tags().key_id(id).send().await else {
                continue;
            };
            let has = |key: &str, value: &str| {
                t.tags()
                    .iter()
                    .any(|x| x.tag_key() == key && x.tag_value() == value)
            };
            if has("carbon:address", &carbonc_apply::address_tag(&req.address))
                && has("carbon:lineage", &req.lineage)
            {
                let read = ReadRequest {
                    address: req.address.clone(),
                    ty: req.ty.clone(),
                    region: req.region.clone(),
                    id: id.to_string(),
                    attrs: req.attrs.clone(),
                };
                if let Some(mut f) = read_key(cfg, &read).await? {
                    f.attrs
                        .insert("key_id".into(), carbonc_state::Val::Str(id.to_string()));
                    f.attrs.insert(
                        "arn".into(),
                        carbonc_state::Val::Str(k.key_arn().unwrap_or("").to_string()),
                    );
                    return Ok(Some(f));
                }
            }
        }
    }
    Ok(None)
}

pub async fn create_alias(cfg: &SdkConfig, req: &CreateRequest) -> Result<Found, ProviderError> {
    let c = Client::new(cfg);
    let name = required(&req.resource.attrs, "name")?;
    let key = ref_id(&req.resource, "target_key")?;
    c.create_alias()
        .alias_name(&name)
        .target_key_id(&key)
        .send()
        .await
        .map_err(classify)?;
    // CreateAlias answers nothing; the ARN is listed with the key's aliases.
    let listed = c
        .list_aliases()
        .key_id(&key)
        .send()
        .await
        .map_err(classify)?;
    let arn = listed
        .aliases()
        .iter()
        .find(|a| a.alias_name() == Some(name.as_str()))
        .and_then(|a| a.alias_arn())
        .map(str::to_string);
    Ok(Found {
        id: name.clone(),
        attrs: with(&req.resource.attrs, &[("arn", arn)]),
    })
}

/// An alias moved to another key (a replaced one): `UpdateAlias`, in place.
pub async fn update_alias(cfg: &SdkConfig, req: &UpdateRequest) -> Result<Found, ProviderError> {
    let c = Client::new(cfg);
    let key = ref_id(&req.resource, "target_key")?;
    c.update_alias()
        .alias_name(&req.id)
        .target_key_id(&key)
        .send()
        .await
        .map_err(classify)?;
    Ok(Found {
        id: req.id.clone(),
        attrs: crate::attrs::after_update(&req.resource.attrs, &req.before),
    })
}

pub async fn read_alias(
    cfg: &SdkConfig,
    req: &ReadRequest,
) -> Result<Option<Found>, ProviderError> {
    let c = Client::new(cfg);
    let mut pages = c.list_aliases().into_paginator().send();
    while let Some(page) = pages.next().await {
        if let Some(alias) = page
            .map_err(classify)?
            .aliases()
            .iter()
            .find(|a| a.alias_name() == Some(req.id.as_str()))
        {
            let mut attrs = req.attrs.clone();
            attrs.insert("name".into(), carbonc_state::Val::Str(req.id.clone()));
            crate::attrs::put(&mut attrs, "arn", crate::attrs::text(alias.alias_arn()));
            return Ok(Some(Found {
                id: req.id.clone(),
                attrs,
            }));
        }
    }
    Ok(None)
}

/// An alias takes no tags, but its name is unique in a region: the alias with the requested name
/// is the one the interrupted create made (or one that would make the create fail anyway).
pub async fn find_alias(
    cfg: &SdkConfig,
    req: &FindRequest,
) -> Result<Option<Found>, ProviderError> {
    let Some(name) = s(&req.attrs, "name") else {
        return Ok(None);
    };
    let read = ReadRequest {
        address: req.address.clone(),
        ty: req.ty.clone(),
        region: req.region.clone(),
        id: name,
        attrs: req.attrs.clone(),
    };
    read_alias(cfg, &read).await
}

pub async fn delete_alias(cfg: &SdkConfig, req: &DeleteRequest) -> Result<(), ProviderError> {
    let c = Client::new(cfg);
    crate::error::deleted(
        c.delete_alias()
            .alias_name(&req.id)
            .send()
            .await
            .map_err(classify),
    )
}
