//! WAFv2 IP sets, rule groups, web ACLs and web ACL associations, and the ACM certificate lookup. WAF calls name a resource by name,
//! scope and id, and every change carries the lock token of the last read, so an id here is
//! `NAME|ID|SCOPE` and every update or delete reads the lock token first.

use std::collections::BTreeMap;

use aws_config::SdkConfig;
use aws_sdk_wafv2::Client;
use aws_sdk_wafv2::types::{
    AllowAction, BlockAction, CountAction, DefaultAction, IpAddressVersion,
    IpSetReferenceStatement, ManagedRuleGroupStatement, NoneAction, OverrideAction, Rule,
    RuleAction, RuleGroupReferenceStatement, Scope, Statement, Tag, VisibilityConfig,
};
use carbonc_apply::{
    CreateRequest, DeleteRequest, FindRequest, Found, ProviderError, ReadRequest, Resolved,
    UpdateRequest,
};
use carbonc_state::Val;

use crate::attrs::{all_tags, i, put, required, s, strings, text, with};
use crate::error::{classify, is_not_found};

fn invalid(e: impl std::fmt::Display) -> ProviderError {
    ProviderError::Permanent {
        code: "WAFInvalidParameterException".into(),
        message: e.to_string(),
    }
}

fn visibility(name: &str) -> Result<VisibilityConfig, ProviderError> {
    VisibilityConfig::builder()
        .sampled_requests_enabled(true)
        .cloud_watch_metrics_enabled(true)
        .metric_name(
            name.chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect::<String>(),
        )
        .build()
        .map_err(invalid)
}

fn tags(t: &BTreeMap<String, String>) -> Result<Vec<Tag>, ProviderError> {
    t.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build().map_err(invalid))
        .collect()
}

/// `NAME|ID|SCOPE` -> its parts.
fn parts(id: &str) -> (String, String, Scope) {
    let mut p = id.splitn(3, '|');
    let name = p.next().unwrap_or_default().to_string();
    let wid = p.next().unwrap_or_default().to_string();
    (name, wid, Scope::from(p.next().unwrap_or("REGIONAL")))
}

fn action(a: &str) -> RuleAction {
    match a {
        "Block" => RuleAction::builder()
            .block(BlockAction::builder().build())
            .build(),
        "Count" => RuleAction::builder()
            .count(CountAction::builder().build())
            .build(),
        _ => RuleAction::builder()
            .allow(AllowAction::builder().build())
            .build(),
    }
}

fn default_action(a: &str) -> DefaultAction {
    match a {
        "Block" => DefaultAction::builder()
            .block(BlockAction::builder().build())
            .build(),
        _ => DefaultAction::builder()
            .allow(AllowAction::builder().build())
            .build(),
    }
}

/// A rule that runs a rule group: `.count` overrides the group's actions to count; any other
/// action keeps them.
fn override_action(m: &BTreeMap<String, Val>) -> OverrideAction {
    if s(m, "action").as_deref() == Some("Count") {
        OverrideAction::builder()
            .count(CountAction::builder().build())
            .build()
    } else {
        OverrideAction::builder()
            .none(NoneAction::builder().build())
            .build()
    }
}

fn rules(r: &Resolved) -> Result<Vec<Rule>, ProviderError> {
    let Some(Val::List(items)) = r.attrs.get("rules") else {
        return Ok(Vec::new());
    };
    let arn_of = |v: Option<&Val>| match v {
        Some(Val::Ref(addr)) => r.refs.get(addr).and_then(|t| s(&t.attributes, "arn")),
        _ => None,
    };
    let mut out = Vec::new();
    for item in items {
        let Val::Map(m) = item else { continue };
        let name = required(m, "name")?;
        let mut rule = Rule::builder()
            .name(&name)
            .priority(i(m, "priority").unwrap_or(0) as i32)
            .visibility_config(visibility(&name)?);
        let statement = if let Some(arn) = arn_of(m.get("ip_set")) {
            rule = rule.action(action(&s(m, "action").unwrap_or_default()));
            Statement::builder()
                .ip_set_reference_statement(
                    IpSetReferenceStatement::builder()
                        .arn(arn)
                        .build()
                        .map_err(invalid)?,
                )
                .build()
        } else if let Some(arn) = arn_of(m.get("rule_group")) {
            rule = rule.override_action(override_action(m));
            Statement::builder()
                .rule_group_reference_statement(
                    RuleGroupReferenceStatement::builder()
                        .arn(arn)
                        .build()
                        .map_err(invalid)?,
                )
                .build()
        } else if let Some(group) = s(m, "managed_rule_group") {
            rule = rule.override_action(override_action(m));
            Statement::builder()
                .managed_rule_group_statement(
                    ManagedRuleGroupStatement::builder()
                        .vendor_name("AWS")
                        .name(group)
                        .build()
                        .map_err(invalid)?,
                )
                .build()
        } else {
            return Err(invalid(format!(
                "rule `{name}` of `{}` names no IP set, rule group or managed rule group that exists",
                r.address
            )));
        };
        out.push(rule.statement(statement).build().map_err(invalid)?);
    }
    Ok(out)
}

pub async fn create(cfg: &SdkConfig, req: &CreateRequest) -> Result<Found, ProviderError> {
    let c = Client::new(cfg);
    let r = &req.resource;
    let a = &r.attrs;
    if r.ty == "aws.wafv2.WebAclAssociation" {
        return associate(&c, r).await;
    }
    let name = required(a, "name")?;
    let scope = required(a, "scope")?;
    let summary = if r.ty == "aws.wafv2.RuleGroup" {
        let call = c
            .create_rule_group()
            .name(&name)
            .scope(Scope::from(scope.as_str()))
            .capacity(i(a, "capacity").unwrap_or(0))
            .set_rules(Some(rules(r)?))
            .visibility_config(visibility(&name)?)
            .set_description(s(a, "description").filter(|d| !d.is_empty()))
            .set_tags(Some(tags(&all_tags(req))?));
        crate::retry::while_settling(
            &format!("creating rule group {name}"),
            &WAF_SETTLING,
            WAF_BUDGET,
            || async { call.clone().send().await.map_err(classify) },
        )
        .await?
        .summary()
        .map(|x| (x.id().map(str::to_string), x.arn().map(str::to_string)))
    } else if r.ty == "aws.wafv2.IpSet" {
        c.create_ip_set()
            .name(&name)
            .scope(Scope::from(scope.as_str()))
            .ip_address_version(IpAddressVersion::from(
                s(a, "ip_address_version")
                    .unwrap_or_else(|| "IPV4".into())
                    .as_str(),
            ))
            .set_addresses(Some(strings(a, "addresses")))
            .set_description(s(a, "description").filter(|d| !d.is_empty()))
            .set_tags(Some(tags(&all_tags(req))?))
            .send()
            .await
            .map_err(classify)?
            .summary()
            .map(|x| (x.id().map(str::to_string), x.arn().map(str::to_string)))
    } else {
        let call = c
            .create_web_acl()
            .name(&name)
            .scope(Scope::from(scope.as_str()))
            .default_action(default_action(&s(a, "default_action").unwrap_or_default()))
            .set_rules(Some(rules(r)?))
            .visibility_config(visibility(&name)?)
            .set_description(s(a, "description").filter(|d| !d.is_empty()))
            .set_tags(Some(tags(&all_tags(req))?));
        crate::retry::while_settling(
            &format!("creating web ACL {name}"),
            &WAF_SETTLING,
            WAF_BUDGET,
            || async { call.clone().send().await.map_err(classify) },
        )
        .await?
        .summary()
        .map(|x| (x.id().map(str::to_string), x.arn().map(str::to_string)))
    };
    let (wid, arn) = summary.unwrap_or_default();
    let wid = wid.unwrap_or_default();
    Ok(Found {
        id: format!("{name}|{wid}|{scope}"),
        attrs: with(a, &[("id", Some(wid.clone())), ("arn", arn)]),
    })
}

/// What WAF answers while a resource referenced by the call was created or detached a moment
/// ago (TF internal/service/wafv2/web_acl.go retries WAFUnavailableEntityException on create and
/// update, WAFAssociatedItemException on delete, for 5 minutes).
const WAF_SETTLING: [crate::retry::Transient; 2] = [
    crate::retry::transient("WAFUnavailableEntityException", ""),
    crate::retry::transient("WAFAssociatedItemException", ""),
];

/// What WAF answers to an update or delete sent with a lock token that another change has made
/// stale since it was read ("Get the resource again, make any changes you need to make to the new
/// copy, and retry your operation": WAFv2 API reference, WAFOptimisticLockException), and the
/// answers of `WAF_SETTLING`.
const WAF_WRITE: [crate::retry::Transient; 3] = [
    crate::retry::transient("WAFOptimisticLockException", ""),
    WAF_SETTLING[0],
    WAF_SETTLING[1],
];

/// Sends `call` with the resource's lock token as it is now, read again before every attempt, so
/// that a change made meanwhile by someone else (WAFOptimisticLockException) is retried with a
/// fresh token. `None` when the resource is gone.
async fn with_lock_token<T, F, Fut>(
    c: &Client,
    ty: &str,
    id: &str,
    what: &str,
    call: F,
) -> Result<Option<T>, ProviderError>
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Result<T, ProviderError>>,
{
    crate::retry::while_settling(what, &WAF_WRITE, WAF_BUDGET, || async {
        match lock_token(c, ty, id).await? {
            Some(token) => call(token).await.map(Some),
            None => Ok(None),
        }
    })
    .await
}
const WAF_BUDGET: std::time::Duration = std::time::Duration::from_secs(5 * 60);

/// The lock token of the IP set or web ACL, or `None` when it is gone.
async fn lock_token(c: &Client, ty: &str, id: &str) -> Result<Option<String>, ProviderError> {
    let (name, wid, scope) = parts(id);
    let r = if ty == "aws.wafv2.IpSet" {
        c.get_ip_set()
            .name(name)
            .id(wid)
            .scope(scope)
            .send()
            .await
            .map(|o| o.lock_token().map(str::to_string))
            .map_err(classify)
    } else if ty == "aws.wafv2.RuleGroup" {
        c.get_rule_group()
            .name(name)
            .id(wid)
            .scope(scope)
            .send()
            .await
            .map(|o| o.lock_token().map(str::to_string))
            .map_err(classify)
    } else {
        c.get_web_acl()
            .name(name)
            .id(wid)
            .scope(scope)
            .send()
            .await
            .map(|o| o.lock_token().map(str::to_string))
            .map_err(classify)
    };
    match r {
        Ok(t) => Ok(t),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

pub async fn read(cfg: &SdkConfig, req: &ReadRequest) -> Result<Option<Found>, ProviderError> {
    let c = Client::new(cfg);
    if req.ty == "aws.acm.Certificate" {
        return read_certificate(cfg, req).await;
    }
    if req.ty == "aws.wafv2.WebAclAssociation" {
        let (resource, acl) = association_parts(&req.id);
        return Ok(associated_acl(&c, resource).await?.and_then(|now| {
            // Attached to another web ACL now: this association is gone (and planned again).
            (now == acl).then(|| Found {
                id: req.id.clone(),
                attrs: req.attrs.clone(),
            })
        }));
    }
    let (name, wid, scope) = parts(&req.id);
    let mut attrs = req.attrs.clone();
    if req.ty == "aws.wafv2.IpSet" {
        match c
            .get_ip_set()
            .name(&name)
            .id(&wid)
            .scope(scope.clone())
            .send()
            .await
            .map_err(classify)
        {
            Ok(o) => {
                if let Some(set) = o.ip_set() {
                    attrs.insert(
                        "description".into(),
                        Val::Str(set.description().unwrap_or("").to_string()),
                    );
                    attrs.insert(
                        "ip_address_version".into(),
                        Val::Str(set.ip_address_version().as_str().to_string()),
                    );
                    attrs.insert("tags".into(), tags_of(&c, set.arn()).await?);
                    attrs.insert("arn".into(), Val::Str(set.arn().to_string()));
                    attrs.insert("id".into(), Val::Str(set.id().to_string()));
                    let mut addresses: Vec<String> = set.addresses().to_vec();
                    // AWS keeps its own order; the program's order is kept when the sets agree.
                    let mut wanted = strings(&req.attrs, "addresses");
                    wanted.sort();
                    addresses.sort();
                    if wanted != addresses {
                        attrs.insert(
                            "addresses".into(),
                            Val::List(addresses.into_iter().map(Val::Str).collect()),
                        );
                    }
                }
            }
            Err(e) if is_not_found(&e) => return Ok(None),
            Err(e) => return Err(e),
        }
    } else if req.ty == "aws.wafv2.RuleGroup" {
        match c
            .get_rule_group()
            .name(&name)
            .id(&wid)
            .scope(scope.clone())
            .send()
            .await
            .map_err(classify)
        {
            Ok(o) => {
                if let Some(g) = o.rule_group() {
                    attrs.insert(
                        "description".into(),
                        Val::Str(g.description().unwrap_or("").to_string()),
                    );
                    attrs.insert("capacity".into(), Val::Int(g.capacity()));
                    attrs.insert("tags".into(), tags_of(&c, g.arn()).await?);
                    attrs.insert("arn".into(), Val::Str(g.arn().to_string()));
                    attrs.insert("id".into(), Val::Str(g.id().to_string()));
                }
            }
            Err(e) if is_not_found(&e) => return Ok(None),
            Err(e) => return Err(e),
        }
    } else {
        match c
            .get_web_acl()
            .name(&name)
            .id(&wid)
            .scope(scope.clone())
            .send()
            .await
            .map_err(classify)
        {
            Ok(o) => {
                if let Some(acl) = o.web_acl() {
                    attrs.insert(
                        "description".into(),
                        Val::Str(acl.description().unwrap_or("").to_string()),
                    );
                    let action = acl.default_action().map(|d| {
                        if d.block().is_some() {
                            "Block"
                        } else {
                            "Allow"
                        }
                    });
                    put(&mut attrs, "default_action", text(action));
                    attrs.insert("tags".into(), tags_of(&c, acl.arn()).await?);
                    attrs.insert("arn".into(), Val::Str(acl.arn().to_string()));
                    attrs.insert("id".into(), Val::Str(acl.id().to_string()));
                }
            }
            Err(e) if is_not_found(&e) => return Ok(None),
            Err(e) => return Err(e),
        }
    }
    attrs.insert("name".into(), Val::Str(name.clone()));
    attrs.insert("scope".into(), Val::Str(scope.as_str().to_string()));
    Ok(Some(Found {
        id: req.id.clone(),
        attrs,
    }))
}

/// The user's tags of a WAF resource, by its ARN (`ListTagsForResource`).
async fn tags_of(c: &Client, arn: &str) -> Result<Val, ProviderError> {
    let tags = raw_tags(c, arn).await?;
    Ok(crate::attrs::user_tags(
        tags.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    ))
}

pub async fn update(cfg: &SdkConfig, req: &UpdateRequest) -> Result<Found, ProviderError> {
    let c = Client::new(cfg);
    let r = &req.resource;
    let a = &r.attrs;
    if r.ty == "aws.wafv2.WebAclAssociation" {
        // Both fields force a new association; nothing changes in place.
        return Ok(Found {
            id: req.id.clone(),
            attrs: crate::attrs::after_update(a, &req.before),
        });
    }
    let (name, wid, scope) = parts(&req.id);
    let what = format!("updating {} {name}", r.ty);
    let (c, name, wid, scope) = (&c, &name, &wid, &scope);
    let done = if r.ty == "aws.wafv2.IpSet" {
        with_lock_token(c, &r.ty, &req.id, &what, move |token| async move {
            c.update_ip_set()
                .name(name)
                .id(wid)
                .scope(scope.clone())
                .lock_token(token)
                .set_addresses(Some(strings(a, "addresses")))
                .set_description(s(a, "description").filter(|d| !d.is_empty()))
                .send()
                .await
                .map(|_| ())
                .map_err(classify)
        })
        .await
    } else if r.ty == "aws.wafv2.RuleGroup" {
        let (rules, visibility) = (&rules(r)?, &visibility(name)?);
        with_lock_token(c, &r.ty, &req.id, &what, move |token| async move {
            c.update_rule_group()
                .name(name)
                .id(wid)
                .scope(scope.clone())
                .lock_token(token)
                .set_rules(Some(rules.clone()))
                .visibility_config(visibility.clone())
                .set_description(s(a, "description").filter(|d| !d.is_empty()))
                .send()
                .await
                .map(|_| ())
                .map_err(classify)
        })
        .await
    } else {
        let (rules, visibility) = (&rules(r)?, &visibility(name)?);
        with_lock_token(c, &r.ty, &req.id, &what, move |token| async move {
            c.update_web_acl()
                .name(name)
                .id(wid)
                .scope(scope.clone())
                .lock_token(token)
                .default_action(default_action(&s(a, "default_action").unwrap_or_default()))
                .set_rules(Some(rules.clone()))
                .visibility_config(visibility.clone())
                .set_description(s(a, "description").filter(|d| !d.is_empty()))
                .send()
                .await
                .map(|_| ())
                .map_err(classify)
        })
        .await
    };
    if done?.is_none() {
        return Err(ProviderError::Permanent {
            code: "WAFNonexistentItemException".into(),
            message: format!("{} `{name}` no longer exists; refresh and plan again", r.ty),
        });
    }
    if let Some(arn) = s(&req.before, "arn") {
        let (set, gone) = crate::attrs::tag_changes(
            &crate::attrs::map(&req.before, "tags"),
            &crate::attrs::map(a, "tags"),
        );
        if !set.is_empty() {
            c.tag_resource()
                .resource_arn(&arn)
                .set_tags(Some(tags(&set)?))
                .send()
                .await
                .map_err(classify)?;
        }
        if !gone.is_empty() {
            c.untag_resource()
                .resource_arn(&arn)
                .set_tag_keys(Some(gone))
                .send()
                .await
                .map_err(classify)?;
        }
    }
    let attrs = crate::attrs::after_update(a, &req.before);
    Ok(Found {
        id: req.id.clone(),
        attrs,
    })
}

pub async fn delete(cfg: &SdkConfig, req: &DeleteRequest) -> Result<(), ProviderError> {
    let c = Client::new(cfg);
    if req.ty == "aws.wafv2.WebAclAssociation" {
        let (resource, acl) = association_parts(&req.id);
        // Only our association: a resource since attached to another web ACL keeps it.
        if associated_acl(&c, resource).await?.as_deref() == Some(acl) {
            let r = c
                .disassociate_web_acl()
                .resource_arn(resource)
                .send()
                .await
                .map(|_| ())
                .map_err(classify);
            return crate::error::deleted(r);
        }
        return Ok(());
    }
    let (name, wid, scope) = parts(&req.id);
    let what = format!("deleting {} {name}", req.ty);
    let (c, name, wid, scope) = (&c, &name, &wid, &scope);
    let r = with_lock_token(c, &req.ty, &req.id, &what, move |token| async move {
        if req.ty == "aws.wafv2.IpSet" {
            c.delete_ip_set()
                .name(name)
                .id(wid)
                .scope(scope.clone())
                .lock_token(token)
                .send()
                .await
                .map(|_| ())
                .map_err(classify)
        } else if req.ty == "aws.wafv2.RuleGroup" {
            c.delete_rule_group()
                .name(name)
                .id(wid)
                .scope(scope.clone())
                .lock_token(token)
                .send()
                .await
                .map(|_| ())
                .map_err(classify)
        } else {
            c.delete_web_acl()
                .name(name)
                .id(wid)
                .scope(scope.clone())
                .lock_token(token)
                .send()
                .await
                .map(|_| ())
                .map_err(classify)
        }
    })
    .await;
    crate::error::deleted(r)
}

/// By name: WAF names are unique per scope and region, so the one with the requested name is the one
/// the interrupted create made (or one that would make the create fail anyway).
pub async fn find(cfg: &SdkConfig, req: &FindRequest) -> Result<Option<Found>, ProviderError> {
    let c = Client::new(cfg);
    if req.ty == "aws.wafv2.WebAclAssociation" {
        let Some(resource) = s(&req.attrs, "resource_arn") else {
            return Ok(None);
        };
        return Ok(associated_acl(&c, &resource).await?.map(|acl| Found {
            id: format!("{resource}|{acl}"),
            attrs: req.attrs.clone(),
        }));
    }
    let (Some(name), Some(scope)) = (s(&req.attrs, "name"), s(&req.attrs, "scope")) else {
        return Ok(None);
    };
    // Every page (List* return at most 100 and a NextMarker), then only one carbon made for this
    // address: a same-named resource of someone else's is not adopted.
    let scope_of = || Scope::from(scope.as_str());
    let mut marker: Option<String> = None;
    loop {
        // (name, id, ARN) of each summary on this page, and the next page's marker.
        let (page, next): (Vec<(&str, &str, &str)>, Option<String>);
        let (groups, sets, acls);
        if req.ty == "aws.wafv2.RuleGroup" {
            groups = c
                .list_rule_groups()
                .scope(scope_of())
                .set_next_marker(marker.clone())
                .send()
                .await
                .map_err(classify)?;
            next = groups.next_marker().map(str::to_string);
            page = summaries(
                groups
                    .rule_groups()
                    .iter()
                    .map(|x| (x.name(), x.id(), x.arn())),
            );
        } else if req.ty == "aws.wafv2.IpSet" {
            sets = c
                .list_ip_sets()
                .scope(scope_of())
                .set_next_marker(marker.clone())
                .send()
                .await
                .map_err(classify)?;
            next = sets.next_marker().map(str::to_string);
            page = summaries(sets.ip_sets().iter().map(|x| (x.name(), x.id(), x.arn())));
        } else {
            acls = c
                .list_web_acls()
                .scope(scope_of())
                .set_next_marker(marker.clone())
                .send()
                .await
                .map_err(classify)?;
            next = acls.next_marker().map(str::to_string);
            page = summaries(acls.web_acls().iter().map(|x| (x.name(), x.id(), x.arn())));
        }
        for (n, wid, arn) in &page {
            if *n == name && ours(&c, arn, req).await? {
                return Ok(Some(Found {
                    id: format!("{name}|{wid}|{scope}"),
                    attrs: with(
                        &req.attrs,
                        &[
                            ("id", Some(wid.to_string())),
                            ("arn", Some(arn.to_string())),
                        ],
                    ),
                }));
            }
        }
        match next {
            Some(m) if !page.is_empty() => marker = Some(m),
            _ => return Ok(None),
        }
    }
}

/// The (name, id, ARN) of WAF list summaries that have all three.
fn summaries<'a>(
    items: impl Iterator<Item = (Option<&'a str>, Option<&'a str>, Option<&'a str>)>,
) -> Vec<(&'a str, &'a str, &'a str)> {
    items.filter_map(|(n, i, a)| Some((n?, i?, a?))).collect()
}

/// Whether the WAF resource at `arn` carries this address's and lineage's tags.
async fn ours(c: &Client, arn: &str, req: &FindRequest) -> Result<bool, ProviderError> {
    let tags = raw_tags(c, arn).await?;
    let has = |k: &str, v: &str| tags.iter().any(|(tk, tv)| tk == k && tv == v);
    Ok(
        has("carbon:address", &carbonc_apply::address_tag(&req.address))
            && has("carbon:lineage", &req.lineage),
    )
}

/// Every tag of a WAF resource, carbon's own included (`ListTagsForResource`).
async fn raw_tags(c: &Client, arn: &str) -> Result<Vec<(String, String)>, ProviderError> {
    let o = c
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(classify)?;
    Ok(o.tag_info_for_resource()
        .map(|t| t.tag_list())
        .unwrap_or_default()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect())
}

// ---- web ACL associations: id `RESOURCE_ARN|WEB_ACL_ARN` ---------------------------------------

fn association_parts(id: &str) -> (&str, &str) {
    id.split_once('|').unwrap_or((id, ""))
}

/// The ARN of the web ACL attached to `resource`, if any.
async fn associated_acl(c: &Client, resource: &str) -> Result<Option<String>, ProviderError> {
    match c
        .get_web_acl_for_resource()
        .resource_arn(resource)
        .send()
        .await
        .map_err(classify)
    {
        Ok(o) => Ok(o.web_acl().map(|w| w.arn().to_string())),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

async fn associate(c: &Client, r: &Resolved) -> Result<Found, ProviderError> {
    let resource = required(&r.attrs, "resource_arn")?;
    let acl = r
        .target("web_acl")
        .and_then(|t| s(&t.attributes, "arn"))
        .ok_or_else(|| invalid(format!("`{}`: its web ACL has no ARN yet", r.address)))?;
    crate::retry::while_settling(
        &format!("associating web ACL {acl}"),
        &WAF_SETTLING,
        WAF_BUDGET,
        || async {
            c.associate_web_acl()
                .web_acl_arn(&acl)
                .resource_arn(&resource)
                .send()
                .await
                .map_err(classify)
        },
    )
    .await?;
    Ok(Found {
        id: format!("{resource}|{acl}"),
        attrs: r.attrs.clone(),
    })
}

/// `aws.acm.Certificate` is a lookup: the certificate with the given ARN must exist.
async fn read_certificate(
    cfg: &SdkConfig,
    req: &ReadRequest,
) -> Result<Option<Found>, ProviderError> {
    let c = aws_sdk_acm::Client::new(cfg);
    let arn = s(&req.attrs, "arn").unwrap_or_else(|| req.id.clone());
    let out = match c
        .describe_certificate()
        .certificate_arn(&arn)
        .send()
        .await
        .map_err(classify)
    {
        Ok(o) => o,
        Err(e) if is_not_found(&e) => return Ok(None),
        Err(e) => return Err(e),
    };
    let Some(cert) = out.certificate() else {
        return Ok(None);
    };
    let mut attrs = with(
        &req.attrs,
        &[
            ("arn", Some(arn.clone())),
            ("domain_name", cert.domain_name().map(str::to_string)),
            ("status", cert.status().map(|s| s.as_str().to_string())),
            ("not_after", cert.not_after().map(|t| t.to_string())),
        ],
    );
    attrs.insert(
        "subject_alternative_names".into(),
        Val::List(
            cert.subject_alternative_names()
                .iter()
                .map(|n| Val::Str(n.clone()))
                .collect(),
        ),
    );
    Ok(Some(Found { id: arn, attrs }))
}
