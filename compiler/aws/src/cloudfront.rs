//! CloudFront distributions: origins, origin groups (failover between regions), the default cache
//! behaviour, the viewer certificate and the WAF web ACL. Created with the idempotency token as
//! `CallerReference`; waited for until `Deployed`; disabled, then deleted with the current ETag.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use aws_sdk_cloudfront::Client;
use aws_sdk_cloudfront::types::{
    Aliases, AllowedMethods, CachedMethods, CustomOriginConfig, DefaultCacheBehavior,
    DistributionConfig, DistributionConfigWithTags, HttpVersion, Method, MinimumProtocolVersion,
    Origin, OriginGroup, OriginGroupFailoverCriteria, OriginGroupMember, OriginGroupMembers,
    OriginGroups, OriginProtocolPolicy, Origins, PriceClass, SslSupportMethod, StatusCodes, Tag,
    TagKeys, Tags, ViewerCertificate, ViewerProtocolPolicy,
};
use carbonc_apply::{
    CreateRequest, DeleteRequest, FindRequest, Found, ProviderError, ReadRequest, Resolved,
    UpdateRequest,
};
use carbonc_state::Val;

use crate::attrs::{all_tags, b, i, required, s, strings, with};
use crate::error::{classify, is_not_found};

/// AWS's managed "CachingOptimized" cache policy, used when the program names none.
const CACHING_OPTIMIZED: &str = "658327ea-f89d-4fab-a63d-7e88639e58f6";
/// CloudFront's hosted zone, the same for every distribution (for Route53 alias records).
const HOSTED_ZONE_ID: &str = "Z2FDTNDATAQYW2";
const TIMEOUT: Duration = Duration::from_secs(45 * 60);

fn invalid(e: impl std::fmt::Display) -> ProviderError {
    ProviderError::Permanent {
        code: "InvalidArgument".into(),
        message: e.to_string(),
    }
}

fn maps<'a>(a: &'a BTreeMap<String, Val>, k: &str) -> Vec<&'a BTreeMap<String, Val>> {
    match a.get(k) {
        Some(Val::List(items)) => items
            .iter()
            .filter_map(|v| match v {
                Val::Map(m) => Some(m),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn record<'a>(a: &'a BTreeMap<String, Val>, k: &str) -> Option<&'a BTreeMap<String, Val>> {
    match a.get(k) {
        Some(Val::Map(m)) => Some(m),
        _ => None,
    }
}

fn methods(items: &[String]) -> Vec<Method> {
    items.iter().map(|m| Method::from(m.as_str())).collect()
}

/// The distribution configuration the program describes.
fn config(r: &Resolved, caller_reference: &str) -> Result<DistributionConfig, ProviderError> {
    let a = &r.attrs;
    let mut origins = Vec::new();
    for o in maps(a, "origins") {
        origins.push(
            Origin::builder()
                .id(required(o, "id")?)
                .domain_name(required(o, "domain_name")?)
                .origin_path(s(o, "origin_path").unwrap_or_default())
                .custom_origin_config(
                    CustomOriginConfig::builder()
                        .http_port(80)
                        .https_port(i(o, "https_port").unwrap_or(443) as i32)
                        .origin_protocol_policy(OriginProtocolPolicy::from(
                            s(o, "protocol_policy")
                                .unwrap_or_else(|| "https-only".into())
                                .as_str(),
                        ))
                        .build()
                        .map_err(invalid)?,
                )
                .build()
                .map_err(invalid)?,
        );
    }
    let mut groups = Vec::new();
    for g in maps(a, "origin_groups") {
        let codes: Vec<i32> = match g.get("failover_status_codes") {
            Some(Val::List(l)) => l
                .iter()
                .filter_map(|v| match v {
                    Val::Int(n) => Some(*n as i32),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        let members: Vec<OriginGroupMember> = strings(g, "members")
            .into_iter()
            .map(|m| {
                OriginGroupMember::builder()
                    .origin_id(m)
                    .build()
                    .map_err(invalid)
            })
            .collect::<Result<_, _>>()?;
        groups.push(
            OriginGroup::builder()
                .id(required(g, "id")?)
                .failover_criteria(
                    OriginGroupFailoverCriteria::builder()
                        .status_codes(
                            StatusCodes::builder()
                                .quantity(codes.len() as i32)
                                .set_items(Some(codes))
                                .build()
                                .map_err(invalid)?,
                        )
                        .build(),
                )
                .members(
                    OriginGroupMembers::builder()
                        .quantity(members.len() as i32)
                        .set_items(Some(members))
                        .build()
                        .map_err(invalid)?,
                )
                .build()
                .map_err(invalid)?,
        );
    }
    let behaviour =
        record(a, "default_cache_behavior").ok_or_else(|| invalid("no default_cache_behavior"))?;
    let mut allowed = strings(behaviour, "allowed_methods");
    if allowed.is_empty() {
        allowed = vec!["GET".into(), "HEAD".into()];
    }
    let cached = vec!["GET".to_string(), "HEAD".to_string()];
    let default_behaviour = DefaultCacheBehavior::builder()
        .target_origin_id(required(behaviour, "target_origin_id")?)
        .viewer_protocol_policy(ViewerProtocolPolicy::from(
            s(behaviour, "viewer_protocol_policy")
                .unwrap_or_else(|| "redirect-to-https".into())
                .as_str(),
        ))
        .allowed_methods(
            AllowedMethods::builder()
                .quantity(allowed.len() as i32)
                .set_items(Some(methods(&allowed)))
                .cached_methods(
                    CachedMethods::builder()
                        .quantity(cached.len() as i32)
                        .set_items(Some(methods(&cached)))
                        .build()
                        .map_err(invalid)?,
                )
                .build()
                .map_err(invalid)?,
        )
        .cache_policy_id(
            s(behaviour, "cache_policy_id").unwrap_or_else(|| CACHING_OPTIMIZED.into()),
        )
        .set_origin_request_policy_id(s(behaviour, "origin_request_policy_id"))
        .build()
        .map_err(invalid)?;
    let certificate =
        record(a, "viewer_certificate").ok_or_else(|| invalid("no viewer_certificate"))?;
    let cert_arn = match certificate.get("acm_certificate") {
        Some(Val::Ref(addr)) => r
            .refs
            .get(addr)
            .and_then(|t| s(&t.attributes, "arn").or_else(|| t.id.clone())),
        _ => None,
    }
    .ok_or_else(|| invalid(format!("the certificate of `{}` was not found", r.address)))?;
    let aliases = strings(a, "aliases");
    let web_acl = match a.get("web_acl") {
        Some(Val::Ref(addr)) => Some(
            r.refs
                .get(addr)
                .and_then(|t| s(&t.attributes, "arn"))
                .ok_or_else(|| {
                    invalid(format!(
                        "`web_acl` of `{}` refers to `{addr}`, which has no ARN yet; a distribution is \
                         never created without its web ACL",
                        r.address
                    ))
                })?,
        ),
        _ => None,
    };
    DistributionConfig::builder()
        .caller_reference(caller_reference)
        .comment(s(a, "comment").unwrap_or_default())
        .enabled(b(a, "enabled").unwrap_or(true))
        .aliases(
            Aliases::builder()
                .quantity(aliases.len() as i32)
                .set_items(Some(aliases))
                .build()
                .map_err(invalid)?,
        )
        .origins(
            Origins::builder()
                .quantity(origins.len() as i32)
                .set_items(Some(origins))
                .build()
                .map_err(invalid)?,
        )
        .set_origin_groups(if groups.is_empty() {
            None
        } else {
            Some(
                OriginGroups::builder()
                    .quantity(groups.len() as i32)
                    .set_items(Some(groups))
                    .build()
                    .map_err(invalid)?,
            )
        })
        .default_cache_behavior(default_behaviour)
        .default_root_object(s(a, "default_root_object").unwrap_or_default())
        .viewer_certificate(
            ViewerCertificate::builder()
                .acm_certificate_arn(cert_arn)
                .ssl_support_method(SslSupportMethod::from(
                    s(certificate, "ssl_support_method")
                        .unwrap_or_else(|| "sni-only".into())
                        .as_str(),
                ))
                .minimum_protocol_version(MinimumProtocolVersion::from(
                    s(certificate, "minimum_protocol_version")
                        .unwrap_or_else(|| "TLSv1.2_2021".into())
                        .as_str(),
                ))
                .build(),
        )
        .set_web_acl_id(web_acl)
        .price_class(PriceClass::from(
            s(a, "price_class")
                .unwrap_or_else(|| "PriceClass_All".into())
                .as_str(),
        ))
        .http_version(HttpVersion::from(
            s(a, "http_version")
                .unwrap_or_else(|| "http2and3".into())
                .as_str(),
        ))
        .build()
        .map_err(invalid)
}

fn computed(
    a: &BTreeMap<String, Val>,
    d: &aws_sdk_cloudfront::types::Distribution,
) -> BTreeMap<String, Val> {
    with(
        a,
        &[
            ("id", Some(d.id().to_string())),
            ("arn", Some(d.arn().to_string())),
            ("domain_name", Some(d.domain_name().to_string())),
            ("hosted_zone_id", Some(HOSTED_ZONE_ID.to_string())),
        ],
    )
}

/// Waits until the distribution is `Deployed`; returns it with its ETag.
async fn deployed(
    c: &Client,
    id: &str,
) -> Result<(aws_sdk_cloudfront::types::Distribution, String), ProviderError> {
    let start = Instant::now();
    let mut delay = Duration::from_secs(1);
    loop {
        let out = c.get_distribution().id(id).send().await.map_err(classify)?;
        let etag = out.e_tag().unwrap_or_default().to_string();
        if let Some(d) = out.distribution()
            && d.status() == "Deployed"
        {
            return Ok((d.clone(), etag));
        }
        if start.elapsed() > TIMEOUT {
            return Err(ProviderError::Permanent {
                code: "Timeout".into(),
                message: format!(
                    "distribution {id} is not Deployed after {} minutes",
                    TIMEOUT.as_secs() / 60
                ),
            });
        }
        carbonc_apply::waiting(format!(
            "distribution Deployed (now {})",
            out.distribution().map_or("unknown", |d| d.status())
        ));
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(30));
    }
}

pub async fn create(cfg: &SdkConfig, req: &CreateRequest) -> Result<Found, ProviderError> {
    let c = Client::new(cfg);
    let r = &req.resource;
    let tags: Vec<Tag> = all_tags(req)
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build().map_err(invalid))
        .collect::<Result<_, _>>()?;
    let out = c
        .create_distribution_with_tags()
        .distribution_config_with_tags(
            DistributionConfigWithTags::builder()
                .distribution_config(config(r, &req.token)?)
                .tags(Tags::builder().set_items(Some(tags)).build())
                .build(),
        )
        .send()
        .await
        .map_err(classify)?;
    let id = out
        .distribution()
        .map(|d| d.id().to_string())
        .unwrap_or_default();
    let (d, _) = deployed(&c, &id).await?;
    Ok(Found {
        id,
        attrs: computed(&r.attrs, &d),
    })
}

pub async fn read(cfg: &SdkConfig, req: &ReadRequest) -> Result<Option<Found>, ProviderError> {
    let c = Client::new(cfg);
    let out = match c
        .get_distribution()
        .id(&req.id)
        .send()
        .await
        .map_err(classify)
    {
        Ok(o) => o,
        Err(e) if is_not_found(&e) => return Ok(None),
        Err(e) => return Err(e),
    };
    let Some(d) = out.distribution() else {
        return Ok(None);
    };
    let mut attrs = computed(&req.attrs, d);
    if let Some(cfg) = d.distribution_config() {
        attrs.insert("comment".into(), Val::Str(cfg.comment().to_string()));
        attrs.insert("enabled".into(), Val::Bool(cfg.enabled()));
        attrs.insert(
            "aliases".into(),
            Val::List(
                cfg.aliases()
                    .map(|a| a.items())
                    .unwrap_or_default()
                    .iter()
                    .map(|a| Val::Str(a.clone()))
                    .collect(),
            ),
        );
        attrs.insert(
            "default_root_object".into(),
            Val::Str(cfg.default_root_object().unwrap_or("").to_string()),
        );
        if let Some(v) = cfg.http_version() {
            attrs.insert("http_version".into(), Val::Str(v.as_str().to_string()));
        }
        if let Some(v) = cfg.price_class() {
            attrs.insert("price_class".into(), Val::Str(v.as_str().to_string()));
        }
        read_routing(cfg, &req.attrs, &mut attrs);
    }
    {
        let tags = c
            .list_tags_for_resource()
            .resource(d.arn())
            .send()
            .await
            .map_err(classify)?;
        attrs.insert(
            "tags".into(),
            crate::attrs::user_tags(
                tags.tags()
                    .map(|t| t.items())
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|t| Some((t.key(), t.value()?))),
            ),
        );
    }
    Ok(Some(Found {
        id: req.id.clone(),
        attrs,
    }))
}

/// Origins, origin groups and the default cache behaviour as AWS has them, in the program's
/// shape. An origin's `region` is carbon's own (the placement checks'), kept from `prior` by the
/// origin's id; a method list in another order but with the same methods keeps the program's
/// order; the optional policy ids are recorded where the program sets them.
fn read_routing(
    cfg: &DistributionConfig,
    prior: &BTreeMap<String, Val>,
    attrs: &mut BTreeMap<String, Val>,
) {
    let text = |v: &str| Val::Str(v.to_string());
    let prior_origins = maps(prior, "origins");
    let origins = cfg
        .origins()
        .map(|o| o.items())
        .unwrap_or_default()
        .iter()
        .map(|o| {
            let mut m = BTreeMap::new();
            m.insert("id".to_string(), text(o.id()));
            m.insert("domain_name".to_string(), text(o.domain_name()));
            m.insert(
                "origin_path".to_string(),
                text(o.origin_path().unwrap_or("")),
            );
            if let Some(c) = o.custom_origin_config() {
                m.insert("https_port".to_string(), Val::Int(c.https_port().into()));
                m.insert(
                    "protocol_policy".to_string(),
                    text(c.origin_protocol_policy().as_str()),
                );
            }
            if let Some(region) = prior_origins
                .iter()
                .find(|p| s(p, "id").as_deref() == Some(o.id()))
                .and_then(|p| p.get("region"))
            {
                m.insert("region".to_string(), region.clone());
            }
            Val::Map(m)
        })
        .collect();
    attrs.insert("origins".into(), Val::List(origins));
    let groups = cfg
        .origin_groups()
        .map(|g| g.items())
        .unwrap_or_default()
        .iter()
        .map(|g| {
            let mut m = BTreeMap::new();
            m.insert("id".to_string(), text(g.id()));
            let members = g.members().map(|m| m.items()).unwrap_or_default();
            m.insert(
                "members".to_string(),
                Val::List(members.iter().map(|x| text(x.origin_id())).collect()),
            );
            let codes = g
                .failover_criteria()
                .and_then(|f| f.status_codes())
                .map(|c| c.items())
                .unwrap_or_default();
            m.insert(
                "failover_status_codes".to_string(),
                Val::List(codes.iter().map(|c| Val::Int((*c).into())).collect()),
            );
            Val::Map(m)
        })
        .collect();
    attrs.insert("origin_groups".into(), Val::List(groups));
    if let Some(d) = cfg.default_cache_behavior() {
        let before = record(prior, "default_cache_behavior");
        let mut m = BTreeMap::new();
        m.insert("target_origin_id".to_string(), text(d.target_origin_id()));
        m.insert(
            "viewer_protocol_policy".to_string(),
            text(d.viewer_protocol_policy().as_str()),
        );
        let mut methods: Vec<String> = d
            .allowed_methods()
            .map(|a| a.items())
            .unwrap_or_default()
            .iter()
            .map(|x| x.as_str().to_string())
            .collect();
        if let Some(wanted) = before.map(|b| strings(b, "allowed_methods")) {
            let (mut x, mut y) = (wanted.clone(), methods.clone());
            x.sort();
            y.sort();
            if x == y {
                methods = wanted;
            }
        }
        m.insert(
            "allowed_methods".to_string(),
            Val::List(methods.into_iter().map(Val::Str).collect()),
        );
        for (k, v) in [
            ("cache_policy_id", d.cache_policy_id()),
            ("origin_request_policy_id", d.origin_request_policy_id()),
        ] {
            if before.is_some_and(|b| b.contains_key(k))
                && let Some(v) = v
            {
                m.insert(k.to_string(), text(v));
            }
        }
        attrs.insert("default_cache_behavior".into(), Val::Map(m));
    }
}

pub async fn update(cfg: &SdkConfig, req: &UpdateRequest) -> Result<Found, ProviderError> {
    let c = Client::new(cfg);
    let current = c
        .get_distribution_config()
        .id(&req.id)
        .send()
        .await
        .map_err(classify)?;
    let reference = current
        .distribution_config()
        .map(|d| d.caller_reference().to_string())
        .unwrap_or_default();
    c.update_distribution()
        .id(&req.id)
        .if_match(current.e_tag().unwrap_or_default())
        .distribution_config(config(&req.resource, &reference)?)
        .send()
        .await
        .map_err(classify)?;
    let (d, _) = deployed(&c, &req.id).await?;
    let (set, gone) = crate::attrs::tag_changes(
        &crate::attrs::map(&req.before, "tags"),
        &crate::attrs::map(&req.resource.attrs, "tags"),
    );
    if !set.is_empty() {
        let items = set
            .into_iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build().map_err(invalid))
            .collect::<Result<Vec<_>, _>>()?;
        c.tag_resource()
            .resource(d.arn())
            .tags(Tags::builder().set_items(Some(items)).build())
            .send()
            .await
            .map_err(classify)?;
    }
    if !gone.is_empty() {
        c.untag_resource()
            .resource(d.arn())
            .tag_keys(TagKeys::builder().set_items(Some(gone)).build())
            .send()
            .await
            .map_err(classify)?;
    }
    Ok(Found {
        id: req.id.clone(),
        attrs: computed(&req.resource.attrs, &d),
    })
}

/// Disabled first (CloudFront deletes only disabled distributions), then deleted.
pub async fn delete(cfg: &SdkConfig, req: &DeleteRequest) -> Result<(), ProviderError> {
    let c = Client::new(cfg);
    let current = match c
        .get_distribution_config()
        .id(&req.id)
        .send()
        .await
        .map_err(classify)
    {
        Ok(o) => o,
        Err(e) if is_not_found(&e) => return Ok(()),
        Err(e) => return Err(e),
    };
    let mut etag = current.e_tag().unwrap_or_default().to_string();
    if let Some(cfg) = current.distribution_config()
        && cfg.enabled()
    {
        let mut disabled = cfg.clone();
        disabled.enabled = false;
        c.update_distribution()
            .id(&req.id)
            .if_match(&etag)
            .distribution_config(disabled)
            .send()
            .await
            .map_err(classify)?;
        etag = deployed(&c, &req.id).await?.1;
    }
    crate::error::deleted(
        c.delete_distribution()
            .id(&req.id)
            .if_match(etag)
            .send()
            .await
            .map_err(classify),
    )
}

/// By caller reference: the token the interrupted create sent.
pub async fn find(cfg: &SdkConfig, req: &FindRequest) -> Result<Option<Found>, ProviderError> {
    let c = Client::new(cfg);
    let mut ids: Vec<String> = Vec::new();
    let mut pages = c.list_distributions().into_paginator().send();
    while let Some(page) = pages.next().await {
        if let Some(l) = page.map_err(classify)?.distribution_list() {
            ids.extend(l.items().iter().map(|d| d.id().to_string()));
        }
    }
    for id in ids {
        let Ok(out) = c.get_distribution().id(&id).send().await else {
            continue;
        };
        if let Some(d) = out.distribution()
            && d.distribution_config().map(|c| c.caller_reference()) == Some(req.token.as_str())
        {
            return Ok(Some(Found {
                id,
                attrs: computed(&req.attrs, d),
            }));
        }
    }
    Ok(None)
}
