//! Route 53: hosted zones, health checks and record sets. Route 53 is global: its calls go through
//! us-east-1. Zones and health checks are created with the idempotency token as their
//! `CallerReference`, so a create retried after a crash returns the first one; record sets are
//! written with UPSERT, which is idempotent by nature. A record set's id is
//! `ZONE|NAME|TYPE|SET_IDENTIFIER`.

use std::collections::BTreeMap;

use aws_config::SdkConfig;
use aws_sdk_route53::Client;
use aws_sdk_route53::types::{
    AliasTarget, Change, ChangeAction, ChangeBatch, HealthCheckConfig, HealthCheckRegion,
    HealthCheckType, HostedZoneConfig, ResettableElementName, ResourceRecord, ResourceRecordSet,
    ResourceRecordSetFailover, RrType, Tag, TagResourceType,
};
use carbonc_apply::{
    CreateRequest, DeleteRequest, FindRequest, Found, ProviderError, ReadRequest, Resolved,
    UpdateRequest,
};
use carbonc_state::Val;

use crate::attrs::{all_tags, b, i, map, put, required, s, strings, text, with};
use crate::error::{classify, is_not_found};

fn zone_id(raw: &str) -> String {
    raw.trim_start_matches("/hostedzone/").to_string()
}

fn health_check_id(raw: &str) -> String {
    raw.trim_start_matches("/healthcheck/").to_string()
}

/// The user's tags after an update: changed ones added, removed ones taken off, in one
/// ChangeTagsForResource (never carbon's own `carbon:*` tags, which are in neither map).
async fn set_tags(
    c: &Client,
    kind: TagResourceType,
    id: &str,
    before: &BTreeMap<String, String>,
    tags: &BTreeMap<String, String>,
) -> Result<(), ProviderError> {
    let (add, remove) = crate::attrs::tag_changes(before, tags);
    let add: Vec<Tag> = add
        .iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect();
    if add.is_empty() && remove.is_empty() {
        return Ok(());
    }
    c.change_tags_for_resource()
        .resource_type(kind)
        .resource_id(id)
        .set_add_tags((!add.is_empty()).then_some(add))
        .set_remove_tag_keys((!remove.is_empty()).then_some(remove))
        .send()
        .await
        .map(|_| ())
        .map_err(classify)
}

async fn tags_of(
    c: &Client,
    kind: TagResourceType,
    id: &str,
) -> Result<BTreeMap<String, String>, ProviderError> {
    let out = c
        .list_tags_for_resource()
        .resource_type(kind)
        .resource_id(id)
        .send()
        .await
        .map_err(classify)?;
    Ok(out
        .resource_tag_set()
        .map(|t| t.tags())
        .unwrap_or_default()
        .iter()
        .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
        .collect())
}

fn user_tags(tags: &BTreeMap<String, String>) -> Val {
    crate::attrs::user_tags(tags.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

fn ours(tags: &BTreeMap<String, String>, address: &str, lineage: &str) -> bool {
    tags.get("carbon:address") == Some(&carbonc_apply::address_tag(address))
        && tags.get("carbon:lineage").map(String::as_str) == Some(lineage)
}

// ---- zones -------------------------------------------------------------------------------------

async fn create_zone(c: &Client, req: &CreateRequest) -> Result<Found, ProviderError> {
    let a = &req.resource.attrs;
    let out = c
        .create_hosted_zone()
        .name(required(a, "name")?)
        .caller_reference(&req.token)
        .hosted_zone_config(
            HostedZoneConfig::builder()
                .set_comment(s(a, "comment"))
                .build(),
        )
        .send()
        .await
        .map_err(classify)?;
    let id = zone_id(out.hosted_zone().map(|z| z.id()).unwrap_or_default());
    set_tags(
        c,
        TagResourceType::Hostedzone,
        &id,
        &BTreeMap::new(),
        &all_tags(req),
    )
    .await?;
    let ns: Vec<Val> = out
        .delegation_set()
        .map(|d| d.name_servers())
        .unwrap_or_default()
        .iter()
        .map(|n| Val::Str(n.clone()))
        .collect();
    let mut attrs = with(a, &[("zone_id", Some(id.clone()))]);
    attrs.insert("name_servers".into(), Val::List(ns));
    Ok(Found { id, attrs })
}

// ---- health checks -----------------------------------------------------------------------------

fn check_config(a: &BTreeMap<String, Val>) -> Result<HealthCheckConfig, ProviderError> {
    HealthCheckConfig::builder()
        .set_fully_qualified_domain_name(s(a, "fqdn"))
        .set_port(i(a, "port").map(|p| p as i32))
        .set_type(s(a, "type").map(|t| HealthCheckType::from(t.as_str())))
        .set_resource_path(s(a, "resource_path"))
        .set_search_string(s(a, "search_string"))
        .set_request_interval(i(a, "request_interval").map(|p| p as i32))
        .set_failure_threshold(i(a, "failure_threshold").map(|p| p as i32))
        .set_measure_latency(b(a, "measure_latency"))
        .set_regions(checker_regions(a))
        .build()
        .map_err(build_error)
}

/// The health checkers' regions the program names; `None` (all of them) when it names none.
fn checker_regions(a: &BTreeMap<String, Val>) -> Option<Vec<HealthCheckRegion>> {
    let regions = strings(a, "regions");
    (!regions.is_empty()).then(|| {
        regions
            .iter()
            .map(|r| HealthCheckRegion::from(r.as_str()))
            .collect()
    })
}

async fn create_check(c: &Client, req: &CreateRequest) -> Result<Found, ProviderError> {
    let a = &req.resource.attrs;
    let out = c
        .create_health_check()
        .caller_reference(&req.token)
        .health_check_config(check_config(a)?)
        .send()
        .await
        .map_err(classify)?;
    let id = health_check_id(out.health_check().map(|h| h.id()).unwrap_or_default());
    set_tags(
        c,
        TagResourceType::Healthcheck,
        &id,
        &BTreeMap::new(),
        &all_tags(req),
    )
    .await?;
    Ok(Found {
        id: id.clone(),
        attrs: with(a, &[("id", Some(id))]),
    })
}

// ---- record sets -------------------------------------------------------------------------------

/// The id of the resource a reference attribute points to, from the request's references.
fn target_id(r: &Resolved, field: &str) -> Option<String> {
    r.target(field).and_then(|t| t.id.clone())
}

fn record_set(r: &Resolved) -> Result<(String, ResourceRecordSet), ProviderError> {
    let a = &r.attrs;
    let zone = target_id(r, "zone").ok_or_else(|| ProviderError::Permanent {
        code: "UnresolvedReference".into(),
        message: format!("the zone of `{}` does not exist yet", r.address),
    })?;
    let mut set = ResourceRecordSet::builder()
        .name(required(a, "name")?)
        .r#type(RrType::from(required(a, "type")?.as_str()))
        .set_set_identifier(s(a, "set_identifier"))
        .set_region(s(a, "latency_region").map(|code| code.as_str().into()))
        .set_failover(s(a, "failover").map(|f| ResourceRecordSetFailover::from(f.as_str())))
        .set_weight(i(a, "weight"))
        .set_health_check_id(target_id(r, "health_check"));
    match a.get("alias") {
        Some(Val::Map(m)) => {
            set = set.alias_target(
                AliasTarget::builder()
                    .dns_name(required(m, "dns_name")?)
                    .hosted_zone_id(required(m, "zone_id")?)
                    .evaluate_target_health(b(m, "evaluate_target_health").unwrap_or(true))
                    .build()
                    .map_err(build_error)?,
            );
        }
        _ => {
            set = set
                .ttl(i(a, "ttl").unwrap_or(60))
                .set_resource_records(Some(
                    strings(a, "records")
                        .into_iter()
                        .map(|v| {
                            ResourceRecord::builder()
                                .value(v)
                                .build()
                                .map_err(build_error)
                        })
                        .collect::<Result<Vec<_>, _>>()?,
                ));
        }
    }
    Ok((zone, set.build().map_err(build_error)?))
}

fn build_error(e: impl std::fmt::Display) -> ProviderError {
    ProviderError::Permanent {
        code: "InvalidInput".into(),
        message: e.to_string(),
    }
}

/// One record change, followed until Route 53 reports it INSYNC (propagated to its DNS servers;
/// TF `waitChangeInsync`).
async fn change(
    c: &Client,
    zone: &str,
    action: ChangeAction,
    set: ResourceRecordSet,
) -> Result<(), ProviderError> {
    let what = format!(
        "Route 53 change of {} {}",
        set.name(),
        set.r#type().as_str()
    );
    let out = c
        .change_resource_record_sets()
        .hosted_zone_id(zone)
        .change_batch(
            ChangeBatch::builder()
                .changes(
                    Change::builder()
                        .action(action)
                        .resource_record_set(set)
                        .build()
                        .map_err(build_error)?,
                )
                .build()
                .map_err(build_error)?,
        )
        .send()
        .await
        .map_err(classify)?;
    let Some(id) = out.change_info().map(|i| i.id().to_string()) else {
        return Ok(());
    };
    crate::poll::until_available(
        &what,
        false,
        &[],
        (
            std::time::Duration::from_secs(30 * 60),
            std::time::Duration::from_secs(10),
        ),
        || async {
            let info = c.get_change().id(&id).send().await.map_err(classify)?;
            Ok(info.change_info().map(|i| match i.status().as_str() {
                "INSYNC" => "available".to_string(),
                s => s.to_string(),
            }))
        },
    )
    .await
}

fn record_id(zone: &str, set: &ResourceRecordSet) -> String {
    format!(
        "{zone}|{}|{}|{}",
        set.name(),
        set.r#type().as_str(),
        set.set_identifier().unwrap_or("")
    )
}

/// On create, a record of this name, type and set identifier that is already there is left alone
/// unless it is exactly the one this create writes (what an interrupted apply made: records carry
/// no tags to adopt them by): a record carbonc does not own is never overwritten, as UPSERT
/// would. The write itself is CREATE for a new record, UPSERT for an update.
async fn write_record(
    c: &Client,
    r: &Resolved,
    action: ChangeAction,
) -> Result<Found, ProviderError> {
    let (zone, set) = record_set(r)?;
    let id = record_id(&zone, &set);
    let fqdn = set.name().trim_end_matches('.').to_string();
    let mut action = action;
    if action == ChangeAction::Create
        && let Some(existing) = find_record(c, &id).await?
    {
        let same = existing.resource_records() == set.resource_records()
            && existing.ttl() == set.ttl()
            && existing
                .alias_target()
                .map(|a| a.dns_name().trim_end_matches('.'))
                == set
                    .alias_target()
                    .map(|a| a.dns_name().trim_end_matches('.'));
        if !same {
            return Err(ProviderError::Permanent {
                code: "RecordExists".into(),
                message: format!(
                    "a {} record {} already exists in zone {zone} with other values, and carbonc did \
                     not create it; remove it, or `carbonc import` it as `{}`",
                    set.r#type().as_str(),
                    fqdn,
                    r.address
                ),
            });
        }
        action = ChangeAction::Upsert;
    }
    change(c, &zone, action, set).await?;
    Ok(Found {
        id,
        attrs: with(&r.attrs, &[("fqdn", Some(fqdn))]),
    })
}

/// The record set with this id, as Route 53 lists it.
async fn find_record(c: &Client, id: &str) -> Result<Option<ResourceRecordSet>, ProviderError> {
    let mut parts = id.splitn(4, '|');
    let (Some(zone), Some(name), Some(ty), Some(set_id)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Ok(None);
    };
    let out = match c
        .list_resource_record_sets()
        .hosted_zone_id(zone)
        .start_record_name(name)
        .start_record_type(RrType::from(ty))
        .send()
        .await
        .map_err(classify)
    {
        Ok(o) => o,
        Err(e) if is_not_found(&e) => return Ok(None),
        Err(e) => return Err(e),
    };
    let wanted = |n: &str| n.trim_end_matches('.') == name.trim_end_matches('.');
    Ok(out
        .resource_record_sets()
        .iter()
        .find(|s| {
            wanted(s.name())
                && s.r#type().as_str() == ty
                && s.set_identifier().unwrap_or("") == set_id
        })
        .cloned())
}

// ---- dispatch ----------------------------------------------------------------------------------

pub async fn create(cfg: &SdkConfig, req: &CreateRequest) -> Result<Found, ProviderError> {
    let c = Client::new(cfg);
    match req.resource.ty.as_str() {
        "aws.route53.Zone" => create_zone(&c, req).await,
        "aws.route53.HealthCheck" => create_check(&c, req).await,
        _ => write_record(&c, &req.resource, ChangeAction::Create).await,
    }
}

pub async fn read(cfg: &SdkConfig, req: &ReadRequest) -> Result<Option<Found>, ProviderError> {
    let c = Client::new(cfg);
    let mut attrs = req.attrs.clone();
    match req.ty.as_str() {
        "aws.route53.Zone" => {
            let out = match c
                .get_hosted_zone()
                .id(&req.id)
                .send()
                .await
                .map_err(classify)
            {
                Ok(o) => o,
                Err(e) if is_not_found(&e) => return Ok(None),
                Err(e) => return Err(e),
            };
            if let Some(comment) = out
                .hosted_zone()
                .and_then(|z| z.config())
                .and_then(|c| c.comment())
            {
                attrs.insert("comment".into(), Val::Str(comment.to_string()));
            }
            if let Some(z) = out.hosted_zone() {
                attrs.insert("name".into(), Val::Str(undotted(z.name())));
            }
            attrs.insert("zone_id".into(), Val::Str(req.id.clone()));
            attrs.insert(
                "name_servers".into(),
                Val::List(
                    out.delegation_set()
                        .map(|d| d.name_servers())
                        .unwrap_or_default()
                        .iter()
                        .map(|n| Val::Str(n.clone()))
                        .collect(),
                ),
            );
            let tags = tags_of(&c, TagResourceType::Hostedzone, &req.id).await?;
            attrs.insert("tags".into(), user_tags(&tags));
        }
        "aws.route53.HealthCheck" => {
            let out = match c
                .get_health_check()
                .health_check_id(&req.id)
                .send()
                .await
                .map_err(classify)
            {
                Ok(o) => o,
                Err(e) if is_not_found(&e) => return Ok(None),
                Err(e) => return Err(e),
            };
            if let Some(cfg) = out.health_check().and_then(|h| h.health_check_config()) {
                if let Some(f) = cfg.fully_qualified_domain_name() {
                    attrs.insert("fqdn".into(), Val::Str(f.to_string()));
                }
                if let Some(p) = cfg.port() {
                    attrs.insert("port".into(), Val::Int(i64::from(p)));
                }
                if let Some(p) = cfg.resource_path() {
                    attrs.insert("resource_path".into(), Val::Str(p.to_string()));
                }
                if let Some(p) = cfg.failure_threshold() {
                    attrs.insert("failure_threshold".into(), Val::Int(i64::from(p)));
                }
                attrs.insert("type".into(), Val::Str(cfg.r#type().as_str().to_string()));
                if let Some(p) = cfg.request_interval() {
                    attrs.insert("request_interval".into(), Val::Int(i64::from(p)));
                }
                if let Some(p) = cfg.search_string() {
                    attrs.insert("search_string".into(), Val::Str(p.to_string()));
                }
                attrs.insert(
                    "measure_latency".into(),
                    Val::Bool(cfg.measure_latency().unwrap_or(false)),
                );
                // AWS's whole default set (all eight checker regions) where the program names
                // none is what unnamed means, not drift.
                let reported = cfg.regions();
                let unnamed = strings(&attrs, "regions").is_empty();
                if !(unnamed && (reported.is_empty() || reported.len() == 8)) {
                    attrs.insert(
                        "regions".into(),
                        Val::List(
                            reported
                                .iter()
                                .map(|r| Val::Str(r.as_str().to_string()))
                                .collect(),
                        ),
                    );
                }
            }
            let tags = tags_of(&c, TagResourceType::Healthcheck, &req.id).await?;
            attrs.insert("tags".into(), user_tags(&tags));
            attrs.insert("id".into(), Val::Str(req.id.clone()));
        }
        _ => {
            let Some(set) = find_record(&c, &req.id).await? else {
                return Ok(None);
            };
            if let Some(ttl) = set.ttl() {
                attrs.insert("ttl".into(), Val::Int(ttl));
            }
            attrs.insert(
                "records".into(),
                Val::List(
                    set.resource_records()
                        .iter()
                        .map(|r| Val::Str(r.value().to_string()))
                        .collect(),
                ),
            );
            attrs.insert("name".into(), Val::Str(undotted(set.name())));
            attrs.insert("fqdn".into(), Val::Str(undotted(set.name())));
            attrs.insert("type".into(), Val::Str(set.r#type().as_str().to_string()));
            put(&mut attrs, "set_identifier", text(set.set_identifier()));
            put(
                &mut attrs,
                "latency_region",
                text(set.region().map(|r| r.as_str())),
            );
            put(
                &mut attrs,
                "failover",
                text(set.failover().map(|f| f.as_str())),
            );
            put(&mut attrs, "weight", set.weight().map(Val::Int));
            if let Some(alias) = set.alias_target() {
                let mut m = BTreeMap::new();
                m.insert("dns_name".into(), Val::Str(undotted(alias.dns_name())));
                m.insert(
                    "zone_id".into(),
                    Val::Str(alias.hosted_zone_id().to_string()),
                );
                m.insert(
                    "evaluate_target_health".into(),
                    Val::Bool(alias.evaluate_target_health()),
                );
                attrs.insert("alias".into(), Val::Map(m));
            }
        }
    }
    Ok(Some(Found {
        id: req.id.clone(),
        attrs,
    }))
}

/// A DNS name as programs write it: Route 53 answers with the root's dot (`example.com.`).
fn undotted(name: &str) -> String {
    name.strip_suffix('.').unwrap_or(name).to_string()
}

pub async fn update(cfg: &SdkConfig, req: &UpdateRequest) -> Result<Found, ProviderError> {
    let c = Client::new(cfg);
    let a = &req.resource.attrs;
    match req.resource.ty.as_str() {
        "aws.route53.Zone" => {
            c.update_hosted_zone_comment()
                .id(&req.id)
                .set_comment(s(a, "comment"))
                .send()
                .await
                .map_err(classify)?;
            set_tags(
                &c,
                TagResourceType::Hostedzone,
                &req.id,
                &map(&req.before, "tags"),
                &map(a, "tags"),
            )
            .await?;
        }
        "aws.route53.HealthCheck" => {
            c.update_health_check()
                .health_check_id(&req.id)
                .set_fully_qualified_domain_name(s(a, "fqdn"))
                .set_port(i(a, "port").map(|p| p as i32))
                .set_resource_path(s(a, "resource_path"))
                .set_search_string(s(a, "search_string"))
                .set_failure_threshold(i(a, "failure_threshold").map(|p| p as i32))
                .set_regions(checker_regions(a))
                // No regions named any more: back to all of them.
                .set_reset_elements(
                    (checker_regions(a).is_none() && !strings(&req.before, "regions").is_empty())
                        .then(|| vec![ResettableElementName::Regions]),
                )
                .send()
                .await
                .map_err(classify)?;
            set_tags(
                &c,
                TagResourceType::Healthcheck,
                &req.id,
                &map(&req.before, "tags"),
                &map(a, "tags"),
            )
            .await?;
        }
        _ => return write_record(&c, &req.resource, ChangeAction::Upsert).await,
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
        "aws.route53.Zone" => c
            .delete_hosted_zone()
            .id(&req.id)
            .send()
            .await
            .map(|_| ())
            .map_err(classify),
        "aws.route53.HealthCheck" => c
            .delete_health_check()
            .health_check_id(&req.id)
            .send()
            .await
            .map(|_| ())
            .map_err(classify),
        _ => match find_record(&c, &req.id).await? {
            Some(set) => {
                let zone = req.id.split('|').next().unwrap_or_default().to_string();
                change(&c, &zone, ChangeAction::Delete, set).await
            }
            None => Ok(()),
        },
    };
    crate::error::deleted(r)
}

/// Zones and health checks by their tags; a record set is simply written again (UPSERT).
pub async fn find(cfg: &SdkConfig, req: &FindRequest) -> Result<Option<Found>, ProviderError> {
    let c = Client::new(cfg);
    // (id, caller reference) of every zone or health check.
    let (kind, ids): (TagResourceType, Vec<(String, String)>) = match req.ty.as_str() {
        "aws.route53.Zone" => {
            let mut ids = Vec::new();
            let mut pages = c.list_hosted_zones().into_paginator().send();
            while let Some(page) = pages.next().await {
                ids.extend(
                    page.map_err(classify)?
                        .hosted_zones()
                        .iter()
                        .map(|z| (zone_id(z.id()), z.caller_reference().to_string())),
                );
            }
            (TagResourceType::Hostedzone, ids)
        }
        "aws.route53.HealthCheck" => {
            let mut ids = Vec::new();
            let mut pages = c.list_health_checks().into_paginator().send();
            while let Some(page) = pages.next().await {
                ids.extend(
                    page.map_err(classify)?
                        .health_checks()
                        .iter()
                        .map(|h| (health_check_id(h.id()), h.caller_reference().to_string())),
                );
            }
            (TagResourceType::Healthcheck, ids)
        }
        _ => return Ok(None),
    };
    for (id, caller_reference) in ids {
        if req.exclude.contains(&id) {
            continue;
        }
        let tagged = ours(
            &tags_of(&c, kind.clone(), &id).await?,
            &req.address,
            &req.lineage,
        );
        // Made by this create (its token is the caller reference) but not tagged yet: the create
        // was interrupted between the create call and ChangeTagsForResource. Finish it.
        let made_here = !tagged && caller_reference == req.token;
        if made_here {
            let mut tags = map(&req.attrs, "tags");
            tags.insert(
                "carbon:address".into(),
                carbonc_apply::address_tag(&req.address),
            );
            tags.insert("carbon:lineage".into(), req.lineage.clone());
            set_tags(&c, kind.clone(), &id, &BTreeMap::new(), &tags).await?;
        }
        if tagged || made_here {
            let field = if req.ty == "aws.route53.Zone" {
                "zone_id"
            } else {
                "id"
            };
            return Ok(Some(Found {
                attrs: with(&req.attrs, &[(field, Some(id.clone()))]),
                id,
            }));
        }
    }
    Ok(None)
}
