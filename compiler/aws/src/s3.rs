//! S3 buckets: versioning, default encryption, lifecycle expiration and tags, each its own
//! sub-resource call after `CreateBucket`.
//!
//! S3 is eventually consistent right after `CreateBucket`: the bucket's sub-resource calls may
//! answer `NoSuchBucket` for a moment (the Terraform AWS provider retries them for the same
//! reason), so a create waits for `HeadBucket` first. A bucket that holds objects cannot be
//! deleted; `force_destroy` empties it, every object version and delete marker included.

use std::collections::BTreeMap;

use aws_config::SdkConfig;
use aws_sdk_s3::Client;
use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, BucketLocationConstraint, BucketVersioningStatus,
    CreateBucketConfiguration, Delete, ExpirationStatus, LifecycleExpiration, LifecycleRule,
    LifecycleRuleFilter, NoncurrentVersionExpiration, ObjectIdentifier, ServerSideEncryption,
    ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
    Tag, Tagging, VersioningConfiguration,
};
use carbonc_apply::{
    CreateRequest, DeleteRequest, FindRequest, Found, ProviderError, ReadRequest, Resolved,
    UpdateRequest,
};
use carbonc_state::Val;

use crate::attrs::{
    all_tags, b, found_by_tags, internal_tag, map, read_of, ref_arn, refuse_taken, required,
    user_tags,
};
use crate::error::{classify, found, is_not_found};

/// An S3 client for the config's region; path-style addressing when an endpoint is configured
/// (an emulator answers on one host, not on `BUCKET.s3.REGION.amazonaws.com`).
pub(crate) fn client(cfg: &SdkConfig) -> Client {
    let custom = std::env::var_os("AWS_ENDPOINT_URL_S3").is_some()
        || std::env::var_os("AWS_ENDPOINT_URL").is_some();
    Client::from_conf(
        aws_sdk_s3::config::Builder::from(cfg)
            .force_path_style(custom)
            .build(),
    )
}

fn invalid(message: String) -> ProviderError {
    ProviderError::Permanent {
        code: "InvalidConfiguration".into(),
        message,
    }
}

fn tag_set(pairs: &BTreeMap<String, String>) -> Result<Tagging, ProviderError> {
    let tags = pairs
        .iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| invalid(format!("tag `{k}`: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Tagging::builder()
        .set_tag_set(Some(tags))
        .build()
        .map_err(|e| invalid(e.to_string()))
}

/// The bucket's tags; a bucket without any answers `NoSuchTagSet`.
async fn tags_of(c: &Client, bucket: &str) -> Result<BTreeMap<String, String>, ProviderError> {
    let got = found(
        c.get_bucket_tagging()
            .bucket(bucket)
            .send()
            .await
            .map_err(classify),
    )?;
    Ok(got
        .map(|o| {
            o.tag_set()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect()
        })
        .unwrap_or_default())
}

async fn exists(c: &Client, bucket: &str) -> Result<bool, ProviderError> {
    Ok(found(
        c.head_bucket()
            .bucket(bucket)
            .send()
            .await
            .map_err(classify),
    )?
    .is_some())
}

/// The lifecycle rules of the program, as S3 takes them (ids `carbon-1`, `carbon-2`, ...).
fn lifecycle(r: &Resolved) -> Result<Vec<LifecycleRule>, ProviderError> {
    let Some(Val::List(rules)) = r.attrs.get("lifecycle_rules") else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (n, rule) in rules.iter().enumerate() {
        let Val::Map(m) = rule else { continue };
        let days = |k: &str| match m.get(k) {
            Some(Val::Int(d)) => Some(*d as i32),
            _ => None,
        };
        let prefix = match m.get("prefix") {
            Some(Val::Str(p)) => p.clone(),
            _ => String::new(),
        };
        let mut b = LifecycleRule::builder()
            .id(format!("carbon-{}", n + 1))
            .status(ExpirationStatus::Enabled)
            .filter(LifecycleRuleFilter::builder().prefix(prefix).build());
        if let Some(d) = days("expire_days") {
            b = b.expiration(LifecycleExpiration::builder().days(d).build());
        }
        if let Some(d) = days("noncurrent_expire_days") {
            b = b.noncurrent_version_expiration(
                NoncurrentVersionExpiration::builder()
                    .noncurrent_days(d)
                    .build(),
            );
        }
        out.push(b.build().map_err(|e| invalid(e.to_string()))?);
    }
    Ok(out)
}

/// Sends each sub-resource of the bucket that differs from `before` (everything on a create).
async fn configure(
    c: &Client,
    r: &Resolved,
    bucket: &str,
    before: Option<&BTreeMap<String, Val>>,
) -> Result<(), ProviderError> {
    let changed = |k: &str| before.is_none_or(|b| b.get(k) != r.attrs.get(k));
    let versioning = b(&r.attrs, "versioning") == Some(true);
    // A bucket that never had versioning stays without it; one that had it is suspended.
    if changed("versioning") && (versioning || before.is_some()) {
        let status = if versioning {
            BucketVersioningStatus::Enabled
        } else {
            BucketVersioningStatus::Suspended
        };
        c.put_bucket_versioning()
            .bucket(bucket)
            .versioning_configuration(VersioningConfiguration::builder().status(status).build())
            .send()
            .await
            .map_err(classify)?;
    }
    if changed("kms_key") {
        let default = match r.target("kms_key") {
            Some(_) => ServerSideEncryptionByDefault::builder()
                .sse_algorithm(ServerSideEncryption::AwsKms)
                .kms_master_key_id(ref_arn(r, "kms_key")?),
            None => {
                ServerSideEncryptionByDefault::builder().sse_algorithm(ServerSideEncryption::Aes256)
            }
        };
        let rule = ServerSideEncryptionRule::builder()
            .apply_server_side_encryption_by_default(
                default.build().map_err(|e| invalid(e.to_string()))?,
            )
            .bucket_key_enabled(r.target("kms_key").is_some())
            .build();
        c.put_bucket_encryption()
            .bucket(bucket)
            .server_side_encryption_configuration(
                ServerSideEncryptionConfiguration::builder()
                    .rules(rule)
                    .build()
                    .map_err(|e| invalid(e.to_string()))?,
            )
            .send()
            .await
            .map_err(classify)?;
    }
    if changed("lifecycle_rules") {
        let rules = lifecycle(r)?;
        if rules.is_empty() {
            if before.is_some() {
                c.delete_bucket_lifecycle()
                    .bucket(bucket)
                    .send()
                    .await
                    .map_err(classify)?;
            }
        } else {
            c.put_bucket_lifecycle_configuration()
                .bucket(bucket)
                .lifecycle_configuration(
                    BucketLifecycleConfiguration::builder()
                        .set_rules(Some(rules))
                        .build()
                        .map_err(|e| invalid(e.to_string()))?,
                )
                .send()
                .await
                .map_err(classify)?;
        }
    }
    Ok(())
}

pub async fn create(cfg: &SdkConfig, req: &CreateRequest) -> Result<Found, ProviderError> {
    let c = client(cfg);
    let r = &req.resource;
    let name = required(&r.attrs, "name")?;
    let region = r.region.clone().unwrap_or_else(|| "us-east-1".into());
    if exists(&c, &name).await? {
        // Ours only if it carries this address's tags (a crashed create, retried).
        refuse_taken(req, "a bucket", &name, &tags_of(&c, &name).await?)?;
    } else {
        let mut call = c.create_bucket().bucket(&name);
        // us-east-1 is the one region CreateBucket takes without a location constraint (and
        // refuses one for).
        if region != "us-east-1" {
            call = call.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(region.as_str()))
                    .build(),
            );
        }
        match call.send().await.map_err(classify) {
            Ok(_) => {}
            Err(ProviderError::Permanent { code, .. }) if code == "BucketAlreadyExists" => {
                return Err(ProviderError::Permanent {
                    code,
                    message: format!(
                        "the bucket name `{name}` is taken by another AWS account (bucket names \
                         are global): choose another name"
                    ),
                });
            }
            Err(e) => return Err(e),
        }
        crate::poll::until_available(
            &format!("bucket {name}"),
            false,
            &[],
            (
                std::time::Duration::from_secs(120),
                std::time::Duration::from_secs(2),
            ),
            || async {
                Ok(Some(
                    if exists(&c, &name).await? {
                        "available"
                    } else {
                        "creating"
                    }
                    .to_string(),
                ))
            },
        )
        .await?;
    }
    c.put_bucket_tagging()
        .bucket(&name)
        .tagging(tag_set(&all_tags(req))?)
        .send()
        .await
        .map_err(classify)?;
    configure(&c, r, &name, None).await?;
    let mut attrs = r.attrs.clone();
    attrs.insert("arn".into(), Val::Str(format!("arn:aws:s3:::{name}")));
    Ok(Found { id: name, attrs })
}

pub async fn read(cfg: &SdkConfig, req: &ReadRequest) -> Result<Option<Found>, ProviderError> {
    let c = client(cfg);
    let bucket = &req.id;
    if !exists(&c, bucket).await? {
        return Ok(None);
    }
    let mut attrs = req.attrs.clone();
    let versioning = c
        .get_bucket_versioning()
        .bucket(bucket)
        .send()
        .await
        .map_err(classify)?;
    attrs.insert(
        "versioning".into(),
        Val::Bool(versioning.status() == Some(&BucketVersioningStatus::Enabled)),
    );
    let encryption = found(
        c.get_bucket_encryption()
            .bucket(bucket)
            .send()
            .await
            .map_err(classify),
    )?;
    let kms = encryption
        .as_ref()
        .and_then(|o| o.server_side_encryption_configuration())
        .and_then(|c| c.rules().first())
        .and_then(|r| r.apply_server_side_encryption_by_default())
        .is_some_and(|d| d.sse_algorithm() == &ServerSideEncryption::AwsKms);
    // A key set outside carbonc cannot be turned back into an address; one removed reads as none.
    if !kms {
        attrs.insert("kms_key".into(), Val::Null);
    }
    let rules = found(
        c.get_bucket_lifecycle_configuration()
            .bucket(bucket)
            .send()
            .await
            .map_err(classify),
    )?;
    let rules: Vec<Val> = rules
        .iter()
        .flat_map(|o| o.rules())
        .map(|rule| {
            let mut m = BTreeMap::new();
            let prefix = rule.filter().and_then(|f| f.prefix()).unwrap_or_default();
            m.insert("prefix".into(), Val::Str(prefix.to_string()));
            // An optional field left unset is absent from the record, as the program has it.
            if let Some(d) = rule.expiration().and_then(|e| e.days()) {
                m.insert("expire_days".into(), Val::Int(d.into()));
            }
            if let Some(d) = rule
                .noncurrent_version_expiration()
                .and_then(|e| e.noncurrent_days())
            {
                m.insert("noncurrent_expire_days".into(), Val::Int(d.into()));
            }
            Val::Map(m)
        })
        .collect();
    attrs.insert("lifecycle_rules".into(), Val::List(rules));
    let tags = tags_of(&c, bucket).await?;
    attrs.insert(
        "tags".into(),
        user_tags(tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
    );
    attrs.insert("name".into(), Val::Str(bucket.clone()));
    attrs.insert("arn".into(), Val::Str(format!("arn:aws:s3:::{bucket}")));
    Ok(Some(Found {
        id: bucket.clone(),
        attrs,
    }))
}

pub async fn update(cfg: &SdkConfig, req: &UpdateRequest) -> Result<Found, ProviderError> {
    let c = client(cfg);
    let r = &req.resource;
    configure(&c, r, &req.id, Some(&req.before)).await?;
    if map(&req.before, "tags") != map(&r.attrs, "tags") {
        // PutBucketTagging replaces the whole set: carbon's own tags are carried over.
        let mut tags: BTreeMap<String, String> = tags_of(&c, &req.id)
            .await?
            .into_iter()
            .filter(|(k, _)| internal_tag(k))
            .collect();
        tags.extend(map(&r.attrs, "tags"));
        c.put_bucket_tagging()
            .bucket(&req.id)
            .tagging(tag_set(&tags)?)
            .send()
            .await
            .map_err(classify)?;
    }
    let mut attrs = r.attrs.clone();
    attrs.insert("arn".into(), Val::Str(format!("arn:aws:s3:::{}", req.id)));
    Ok(Found {
        id: req.id.clone(),
        attrs,
    })
}

/// Deletes every object version and delete marker in the bucket, a page (up to 1,000) at a time.
async fn empty(c: &Client, bucket: &str) -> Result<(), ProviderError> {
    loop {
        let page = c
            .list_object_versions()
            .bucket(bucket)
            .send()
            .await
            .map_err(classify)?;
        let versions = page
            .versions()
            .iter()
            .map(|v| (v.key(), v.version_id()))
            .chain(
                page.delete_markers()
                    .iter()
                    .map(|m| (m.key(), m.version_id())),
            );
        let mut ids = Vec::new();
        for (key, version) in versions {
            let Some(key) = key else { continue };
            ids.push(
                ObjectIdentifier::builder()
                    .key(key)
                    .set_version_id(version.map(str::to_string))
                    .build()
                    .map_err(|e| invalid(e.to_string()))?,
            );
        }
        if ids.is_empty() {
            return Ok(());
        }
        let out = c
            .delete_objects()
            .bucket(bucket)
            .delete(
                Delete::builder()
                    .set_objects(Some(ids))
                    .quiet(true)
                    .build()
                    .map_err(|e| invalid(e.to_string()))?,
            )
            .send()
            .await
            .map_err(classify)?;
        if let Some(e) = out.errors().first() {
            return Err(ProviderError::Permanent {
                code: e.code().unwrap_or("DeleteObjectsFailed").to_string(),
                message: format!(
                    "emptying bucket {bucket}: `{}`: {}",
                    e.key().unwrap_or_default(),
                    e.message().unwrap_or_default()
                ),
            });
        }
    }
}

pub async fn delete(cfg: &SdkConfig, req: &DeleteRequest) -> Result<(), ProviderError> {
    let c = client(cfg);
    if b(&req.attrs, "force_destroy") == Some(true) {
        match empty(&c, &req.id).await {
            Err(e) if is_not_found(&e) => return Ok(()),
            other => other?,
        }
    }
    match c
        .delete_bucket()
        .bucket(&req.id)
        .send()
        .await
        .map_err(classify)
    {
        Ok(_) => Ok(()),
        Err(e) if is_not_found(&e) => Ok(()),
        Err(ProviderError::Permanent { code, message }) if code == "BucketNotEmpty" => {
            Err(ProviderError::Permanent {
                code,
                message: format!(
                    "{message}: bucket {} still holds objects; delete them, or set \
                     `force_destroy = true` on `{}` and apply before destroying",
                    req.id, req.address
                ),
            })
        }
        Err(e) => Err(e),
    }
}

/// The bucket an interrupted create made: the program's name, with this address's tags.
pub async fn find(cfg: &SdkConfig, req: &FindRequest) -> Result<Option<Found>, ProviderError> {
    let c = client(cfg);
    let Some(name) = crate::attrs::s(&req.attrs, "name") else {
        return Ok(None);
    };
    if req.exclude.contains(&name) || !exists(&c, &name).await? {
        return Ok(None);
    }
    if !found_by_tags(&tags_of(&c, &name).await?, req) {
        return Ok(None);
    }
    read(cfg, &read_of(req, name)).await
}
