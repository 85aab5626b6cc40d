//! Secrets Manager secrets. The secret value comes from the resolver in plain text (never from the
//! plan or the state, which only hold its keyed hash).

use aws_config::SdkConfig;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::types::{Filter, FilterNameStringType, ReplicaRegionType, Tag};
use carbonc_apply::{
    CreateRequest, DeleteRequest, FindRequest, Found, ProviderError, ReadRequest, UpdateRequest,
};

use crate::attrs::{all_tags, b, i, map, ref_arn, required, s, strings, with};

/// Replicas in these regions, each encrypted with its region's `aws/secretsmanager` key.
fn replicas(regions: &[String]) -> Vec<ReplicaRegionType> {
    regions
        .iter()
        .map(|r| ReplicaRegionType::builder().region(r).build())
        .collect()
}
use crate::error::{classify, is_not_found};

pub async fn create(cfg: &SdkConfig, req: &CreateRequest) -> Result<Found, ProviderError> {
    let c = Client::new(cfg);
    let r = &req.resource;
    let a = &r.attrs;
    let mut call = c
        .create_secret()
        .name(required(a, "name")?)
        .description(s(a, "description").unwrap_or_default())
        .client_request_token(&req.token)
        .set_tags(Some(
            all_tags(req)
                .iter()
                .map(|(k, v)| Tag::builder().key(k).value(v).build())
                .collect(),
        ));
    if r.target("kms_key").is_some() {
        call = call.kms_key_id(ref_arn(r, "kms_key")?);
    }
    if let Some(value) = r.secrets.get("secret_string") {
        call = call.secret_string(value.expose());
    }
    let regions = strings(a, "replica_regions");
    if !regions.is_empty() {
        call = call.set_add_replica_regions(Some(replicas(&regions)));
    }
    let arn = match call.send().await.map_err(classify) {
        Ok(out) => out.arn().unwrap_or_default().to_string(),
        Err(ProviderError::Permanent { code, message }) if code == "ResourceExistsException" => {
            restore_own(&c, req)
                .await?
                .ok_or(ProviderError::Permanent { code, message })?
        }
        Err(e) => return Err(e),
    };
    Ok(Found {
        id: arn.clone(),
        attrs: with(a, &[("arn", Some(arn.clone())), ("id", Some(arn))]),
    })
}

/// A secret of this name that carbonc itself deleted (same `carbon:address`, any lineage) is
/// still there, scheduled for deletion, for its recovery window (7-30 days), and AWS refuses a new
/// secret of that name meanwhile (ResourceExistsException): applying a destroyed footprint again
/// would fail for a month. Such a secret is restored and brought to the program's value, key,
/// description and replicas. Anyone else's secret of that name is left alone and the error stands.
async fn restore_own(c: &Client, req: &CreateRequest) -> Result<Option<String>, ProviderError> {
    let a = &req.resource.attrs;
    let name = required(a, "name")?;
    let Ok(o) = c.describe_secret().secret_id(&name).send().await else {
        return Ok(None);
    };
    let address = carbonc_apply::address_tag(&req.resource.address);
    let ours = o
        .tags()
        .iter()
        .any(|t| t.key() == Some("carbon:address") && t.value() == Some(address.as_str()));
    if o.deleted_date().is_none() || !ours {
        return Ok(None);
    }
    let arn = o.arn().unwrap_or_default().to_string();
    carbonc_apply::waiting(format!(
        "secret {name}: restoring it from its scheduled deletion (an earlier destroy)"
    ));
    c.restore_secret()
        .secret_id(&arn)
        .send()
        .await
        .map_err(classify)?;
    let mut update = c
        .update_secret()
        .secret_id(&arn)
        .description(s(a, "description").unwrap_or_default());
    if req.resource.target("kms_key").is_some() {
        update = update.kms_key_id(ref_arn(&req.resource, "kms_key")?);
    }
    if let Some(value) = req.resource.secrets.get("secret_string") {
        update = update.secret_string(value.expose());
    }
    update.send().await.map_err(classify)?;
    let tags: Vec<Tag> = all_tags(req)
        .iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect();
    c.tag_resource()
        .secret_id(&arn)
        .set_tags(Some(tags))
        .send()
        .await
        .map_err(classify)?;
    let have: Vec<String> = o
        .replication_status()
        .iter()
        .filter_map(|r| r.region().map(str::to_string))
        .collect();
    let want: Vec<String> = strings(a, "replica_regions")
        .into_iter()
        .filter(|r| !have.contains(r))
        .collect();
    if !want.is_empty() {
        c.replicate_secret_to_regions()
            .secret_id(&arn)
            .set_add_replica_regions(Some(replicas(&want)))
            .send()
            .await
            .map_err(classify)?;
    }
    Ok(Some(arn))
}

pub async fn read(cfg: &SdkConfig, req: &ReadRequest) -> Result<Option<Found>, ProviderError> {
    let c = Client::new(cfg);
    match c
        .describe_secret()
        .secret_id(&req.id)
        .send()
        .await
        .map_err(classify)
    {
        Ok(o) if o.deleted_date().is_some() => Ok(None),
        Ok(o) => {
            let mut attrs = req.attrs.clone();
            attrs.insert(
                "description".into(),
                carbonc_state::Val::Str(o.description().unwrap_or("").to_string()),
            );
            if let Some(arn) = o.arn() {
                attrs.insert("arn".into(), carbonc_state::Val::Str(arn.to_string()));
                attrs.insert("id".into(), carbonc_state::Val::Str(arn.to_string()));
            }
            let mut regions: Vec<String> = o
                .replication_status()
                .iter()
                .filter_map(|r| r.region().map(str::to_string))
                .collect();
            // In the program's order, so that an unchanged list reads back equal.
            let configured = strings(&req.attrs, "replica_regions");
            regions.sort_by_key(|r| configured.iter().position(|c| c == r).unwrap_or(usize::MAX));
            attrs.insert(
                "replica_regions".into(),
                carbonc_state::Val::List(
                    regions.into_iter().map(carbonc_state::Val::Str).collect(),
                ),
            );
            if let Some(name) = o.name() {
                attrs.insert("name".into(), carbonc_state::Val::Str(name.to_string()));
            }
            attrs.insert(
                "tags".into(),
                crate::attrs::user_tags(
                    o.tags().iter().filter_map(|t| Some((t.key()?, t.value()?))),
                ),
            );
            Ok(Some(Found {
                id: req.id.clone(),
                attrs,
            }))
        }
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

pub async fn update(cfg: &SdkConfig, req: &UpdateRequest) -> Result<Found, ProviderError> {
    let c = Client::new(cfg);
    let r = &req.resource;
    let mut call = c
        .update_secret()
        .secret_id(&req.id)
        .description(s(&r.attrs, "description").unwrap_or_default());
    if r.target("kms_key").is_some() {
        call = call.kms_key_id(ref_arn(r, "kms_key")?);
    }
    if r.attrs.get("secret_string") != req.before.get("secret_string")
        && let Some(value) = r.secrets.get("secret_string")
    {
        call = call.secret_string(value.expose());
    }
    call.send().await.map_err(classify)?;
    let (old, new) = (
        strings(&req.before, "replica_regions"),
        strings(&r.attrs, "replica_regions"),
    );
    let added: Vec<String> = new.iter().filter(|r| !old.contains(r)).cloned().collect();
    let removed: Vec<String> = old.iter().filter(|r| !new.contains(r)).cloned().collect();
    if !added.is_empty() {
        c.replicate_secret_to_regions()
            .secret_id(&req.id)
            .set_add_replica_regions(Some(replicas(&added)))
            .send()
            .await
            .map_err(classify)?;
    }
    if !removed.is_empty() {
        c.remove_regions_from_replication()
            .secret_id(&req.id)
            .set_remove_replica_regions(Some(removed))
            .send()
            .await
            .map_err(classify)?;
    }
    let (set, gone) = crate::attrs::tag_changes(&map(&req.before, "tags"), &map(&r.attrs, "tags"));
    if !set.is_empty() {
        c.tag_resource()
            .secret_id(&req.id)
            .set_tags(Some(
                set.iter()
                    .map(|(k, v)| Tag::builder().key(k).value(v).build())
                    .collect(),
            ))
            .send()
            .await
            .map_err(classify)?;
    }
    if !gone.is_empty() {
        c.untag_resource()
            .secret_id(&req.id)
            .set_tag_keys(Some(gone))
            .send()
            .await
            .map_err(classify)?;
    }
    Ok(Found {
        id: req.id.clone(),
        attrs: with(
            &r.attrs,
            &[("arn", Some(req.id.clone())), ("id", Some(req.id.clone()))],
        ),
    })
}

pub async fn delete(cfg: &SdkConfig, req: &DeleteRequest) -> Result<(), ProviderError> {
    let c = Client::new(cfg);
    // A secret with replicas cannot be deleted ("You can't delete secret ... that still has
    // replica regions"; DeleteSecret): the replicas go first.
    if let Ok(o) = c.describe_secret().secret_id(&req.id).send().await {
        let regions: Vec<String> = o
            .replication_status()
            .iter()
            .filter_map(|r| r.region().map(str::to_string))
            .collect();
        if !regions.is_empty() {
            c.remove_regions_from_replication()
                .secret_id(&req.id)
                .set_remove_replica_regions(Some(regions))
                .send()
                .await
                .map_err(classify)?;
        }
    }
    let days = i(&req.attrs, "recovery_window_in_days").unwrap_or(30);
    let call = c.delete_secret().secret_id(&req.id);
    let call = if days == 0 {
        call.force_delete_without_recovery(true)
    } else {
        call.recovery_window_in_days(days.clamp(7, 30))
    };
    crate::error::deleted(call.send().await.map_err(classify))
}

pub async fn find(cfg: &SdkConfig, req: &FindRequest) -> Result<Option<Found>, ProviderError> {
    let c = Client::new(cfg);
    let mut secrets = Vec::new();
    let mut pages = c
        .list_secrets()
        .filters(
            Filter::builder()
                .key(FilterNameStringType::TagKey)
                .values("carbon:address")
                .build(),
        )
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        secrets.extend(page.map_err(classify)?.secret_list().iter().cloned());
    }
    for sec in &secrets {
        let has = |k: &str, v: &str| {
            sec.tags()
                .iter()
                .any(|t| t.key() == Some(k) && t.value() == Some(v))
        };
        // A secret scheduled for deletion (an earlier destroy) is not the one being created.
        if sec.deleted_date().is_none()
            && has("carbon:address", &carbonc_apply::address_tag(&req.address))
            && has("carbon:lineage", &req.lineage)
        {
            let arn = sec.arn().unwrap_or_default().to_string();
            return Ok(Some(Found {
                id: arn.clone(),
                attrs: with(&req.attrs, &[("arn", Some(arn.clone())), ("id", Some(arn))]),
            }));
        }
    }
    Ok(None)
}

// ---- rotation ----------------------------------------------------------------------------------

/// `aws.secretsmanager.Rotation`: rotation configured on a secret (`RotateSecret`); its id is the
/// secret's ARN. Removing it cancels rotation (`CancelRotateSecret`); the secret stays.
pub mod rotation {
    use super::*;
    use aws_sdk_secretsmanager::types::RotationRulesType;
    use b as bool_attr;

    async fn rotate(
        c: &Client,
        secret: &str,
        a: &std::collections::BTreeMap<String, carbonc_state::Val>,
        immediately: bool,
    ) -> Result<(), ProviderError> {
        c.rotate_secret()
            .secret_id(secret)
            .rotation_lambda_arn(required(a, "rotation_lambda_arn")?)
            .rotation_rules(
                RotationRulesType::builder()
                    .automatically_after_days(i(a, "automatically_after_days").unwrap_or(30))
                    .build(),
            )
            .rotate_immediately(immediately)
            .send()
            .await
            .map(|_| ())
            .map_err(classify)
    }

    pub async fn create(cfg: &SdkConfig, req: &CreateRequest) -> Result<Found, ProviderError> {
        let c = Client::new(cfg);
        let r = &req.resource;
        let secret = ref_arn(r, "secret")?;
        rotate(
            &c,
            &secret,
            &r.attrs,
            bool_attr(&r.attrs, "rotate_immediately").unwrap_or(true),
        )
        .await?;
        Ok(Found {
            id: secret,
            attrs: r.attrs.clone(),
        })
    }

    pub async fn read(cfg: &SdkConfig, req: &ReadRequest) -> Result<Option<Found>, ProviderError> {
        let c = Client::new(cfg);
        let out = match c
            .describe_secret()
            .secret_id(&req.id)
            .send()
            .await
            .map_err(classify)
        {
            Ok(o) => o,
            Err(e) if is_not_found(&e) => return Ok(None),
            Err(e) => return Err(e),
        };
        if out.deleted_date().is_some() || out.rotation_enabled() != Some(true) {
            return Ok(None);
        }
        let mut attrs = req.attrs.clone();
        if let Some(arn) = out.rotation_lambda_arn() {
            attrs.insert(
                "rotation_lambda_arn".into(),
                carbonc_state::Val::Str(arn.to_string()),
            );
        }
        if let Some(days) = out
            .rotation_rules()
            .and_then(|r| r.automatically_after_days())
        {
            attrs.insert(
                "automatically_after_days".into(),
                carbonc_state::Val::Int(days),
            );
        }
        Ok(Some(Found {
            id: req.id.clone(),
            attrs,
        }))
    }

    /// A new schedule or function, without rotating now.
    pub async fn update(cfg: &SdkConfig, req: &UpdateRequest) -> Result<Found, ProviderError> {
        let c = Client::new(cfg);
        rotate(&c, &req.id, &req.resource.attrs, false).await?;
        Ok(Found {
            id: req.id.clone(),
            attrs: req.resource.attrs.clone(),
        })
    }

    pub async fn delete(cfg: &SdkConfig, req: &DeleteRequest) -> Result<(), ProviderError> {
        let c = Client::new(cfg);
        crate::error::deleted(
            c.cancel_rotate_secret()
                .secret_id(&req.id)
                .send()
                .await
                .map_err(classify),
        )
    }
}
