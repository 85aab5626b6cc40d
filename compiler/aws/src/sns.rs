//! SNS topics. `CreateTopic` answers the existing topic of that name instead of failing, so a
//! create first makes sure no one else's topic has the name: carbonc would otherwise adopt it,
//! and destroy it later.

use std::collections::BTreeMap;

use aws_config::SdkConfig;
use aws_sdk_sns::Client;
use aws_sdk_sns::types::Tag;
use carbonc_apply::{
    CreateRequest, DeleteRequest, FindRequest, Found, ProviderError, ReadRequest, UpdateRequest,
};
use carbonc_state::Val;

use crate::attrs::{
    all_tags, b, found_by_tags, map, read_of, ref_arn, refuse_taken, required, s, tag_changes,
    user_tags,
};
use crate::error::{classify, is_not_found};

fn tags(pairs: &BTreeMap<String, String>) -> Result<Vec<Tag>, ProviderError> {
    pairs
        .iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| ProviderError::Permanent {
                    code: "InvalidConfiguration".into(),
                    message: format!("tag `{k}`: {e}"),
                })
        })
        .collect()
}

/// The ARN of the topic named `name` in the client's region, if there is one.
async fn topic_named(c: &Client, name: &str) -> Result<Option<String>, ProviderError> {
    let suffix = format!(":{name}");
    let mut pages = c.list_topics().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(classify)?;
        if let Some(arn) = page
            .topics()
            .iter()
            .filter_map(|t| t.topic_arn())
            .find(|arn| arn.ends_with(&suffix))
        {
            return Ok(Some(arn.to_string()));
        }
    }
    Ok(None)
}

async fn tag_map(c: &Client, arn: &str) -> Result<BTreeMap<String, String>, ProviderError> {
    let out = c
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(classify)?;
    Ok(out
        .tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect())
}

pub async fn create(cfg: &SdkConfig, req: &CreateRequest) -> Result<Found, ProviderError> {
    let c = Client::new(cfg);
    let r = &req.resource;
    let a = &r.attrs;
    let name = required(a, "name")?;
    if let Some(arn) = topic_named(&c, &name).await? {
        refuse_taken(req, "a topic", &name, &tag_map(&c, &arn).await?)?;
    }
    let mut call = c
        .create_topic()
        .name(&name)
        .set_tags(Some(tags(&all_tags(req))?));
    let display = s(a, "display_name").unwrap_or_default();
    if !display.is_empty() {
        call = call.attributes("DisplayName", display);
    }
    if r.target("kms_key").is_some() {
        call = call.attributes("KmsMasterKeyId", ref_arn(r, "kms_key")?);
    }
    if b(a, "fifo") == Some(true) {
        call = call.attributes("FifoTopic", "true");
    }
    let out = call.send().await.map_err(classify)?;
    let arn = out.topic_arn().unwrap_or_default().to_string();
    let mut attrs = a.clone();
    attrs.insert("arn".into(), Val::Str(arn.clone()));
    Ok(Found { id: arn, attrs })
}

pub async fn read(cfg: &SdkConfig, req: &ReadRequest) -> Result<Option<Found>, ProviderError> {
    let c = Client::new(cfg);
    let out = match c
        .get_topic_attributes()
        .topic_arn(&req.id)
        .send()
        .await
        .map_err(classify)
    {
        Ok(o) => o,
        Err(e) if is_not_found(&e) => return Ok(None),
        Err(e) => return Err(e),
    };
    let got = out.attributes().cloned().unwrap_or_default();
    let mut attrs = req.attrs.clone();
    attrs.insert(
        "display_name".into(),
        Val::Str(got.get("DisplayName").cloned().unwrap_or_default()),
    );
    attrs.insert(
        "fifo".into(),
        Val::Bool(got.get("FifoTopic").is_some_and(|v| v == "true")),
    );
    // A key removed outside carbonc reads as no key; one that is set is the program's reference
    // (AWS reports the id or ARN it was given, which a read cannot turn back into an address).
    if got.get("KmsMasterKeyId").is_none_or(String::is_empty) {
        attrs.insert("kms_key".into(), Val::Null);
    }
    let tags = tag_map(&c, &req.id).await?;
    attrs.insert(
        "tags".into(),
        user_tags(tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
    );
    attrs.insert("arn".into(), Val::Str(req.id.clone()));
    if let Some(name) = req.id.rsplit(':').next() {
        attrs.insert("name".into(), Val::Str(name.to_string()));
    }
    Ok(Some(Found {
        id: req.id.clone(),
        attrs,
    }))
}

pub async fn update(cfg: &SdkConfig, req: &UpdateRequest) -> Result<Found, ProviderError> {
    let c = Client::new(cfg);
    let r = &req.resource;
    let set = |name: &'static str, value: String| {
        c.set_topic_attributes()
            .topic_arn(&req.id)
            .attribute_name(name)
            .attribute_value(value)
            .send()
    };
    if r.attrs.get("display_name") != req.before.get("display_name") {
        set(
            "DisplayName",
            s(&r.attrs, "display_name").unwrap_or_default(),
        )
        .await
        .map_err(classify)?;
    }
    if r.attrs.get("kms_key") != req.before.get("kms_key") {
        // An empty key id turns encryption off.
        let key = match r.target("kms_key") {
            Some(_) => ref_arn(r, "kms_key")?,
            None => String::new(),
        };
        set("KmsMasterKeyId", key).await.map_err(classify)?;
    }
    let (put, gone) = tag_changes(&map(&req.before, "tags"), &map(&r.attrs, "tags"));
    if !put.is_empty() {
        c.tag_resource()
            .resource_arn(&req.id)
            .set_tags(Some(tags(&put)?))
            .send()
            .await
            .map_err(classify)?;
    }
    if !gone.is_empty() {
        c.untag_resource()
            .resource_arn(&req.id)
            .set_tag_keys(Some(gone))
            .send()
            .await
            .map_err(classify)?;
    }
    let mut attrs = r.attrs.clone();
    attrs.insert("arn".into(), Val::Str(req.id.clone()));
    Ok(Found {
        id: req.id.clone(),
        attrs,
    })
}

pub async fn delete(cfg: &SdkConfig, req: &DeleteRequest) -> Result<(), ProviderError> {
    let c = Client::new(cfg);
    match c
        .delete_topic()
        .topic_arn(&req.id)
        .send()
        .await
        .map_err(classify)
    {
        Ok(_) => Ok(()),
        Err(e) if is_not_found(&e) => Ok(()),
        Err(e) => Err(e),
    }
}

/// The topic an interrupted create made: the program's name, with this address's tags.
pub async fn find(cfg: &SdkConfig, req: &FindRequest) -> Result<Option<Found>, ProviderError> {
    let c = Client::new(cfg);
    let Some(name) = s(&req.attrs, "name") else {
        return Ok(None);
    };
    let Some(arn) = topic_named(&c, &name).await? else {
        return Ok(None);
    };
    if req.exclude.contains(&arn) {
        return Ok(None);
    }
    if !found_by_tags(&tag_map(&c, &arn).await?, req) {
        return Ok(None);
    }
    read(cfg, &read_of(req, arn)).await
}

// ---- subscriptions -----------------------------------------------------------------------------

/// Protocols that deliver the message as published when asked (`RawMessageDelivery`); SNS refuses
/// the attribute for the others.
const RAW_CAPABLE: [&str; 4] = ["sqs", "http", "https", "firehose"];

/// The attributes a subscription is made with and changed by, as SNS takes them.
fn subscription_attributes(a: &BTreeMap<String, Val>) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let protocol = s(a, "protocol").unwrap_or_default();
    if RAW_CAPABLE.contains(&protocol.as_str()) {
        out.push((
            "RawMessageDelivery",
            b(a, "raw_message_delivery").unwrap_or(false).to_string(),
        ));
    }
    if let Some(policy) = s(a, "filter_policy") {
        // The scope first: SNS reads the policy by it.
        out.push((
            "FilterPolicyScope",
            s(a, "filter_policy_scope").unwrap_or_else(|| "MessageAttributes".into()),
        ));
        out.push(("FilterPolicy", policy));
    }
    out
}

pub async fn subscribe(cfg: &SdkConfig, req: &CreateRequest) -> Result<Found, ProviderError> {
    let c = Client::new(cfg);
    let r = &req.resource;
    let a = &r.attrs;
    let mut call = c
        .subscribe()
        .topic_arn(ref_arn(r, "topic")?)
        .protocol(required(a, "protocol")?)
        .endpoint(required(a, "endpoint")?)
        // A pending subscription answers "pending confirmation" instead of its ARN otherwise.
        .return_subscription_arn(true);
    for (k, v) in subscription_attributes(a) {
        call = call.attributes(k, v);
    }
    // SNS answers the existing subscription for the same topic, protocol and endpoint: a
    // retried create finds its own.
    let out = call.send().await.map_err(classify)?;
    let arn = out.subscription_arn().unwrap_or_default().to_string();
    read_subscription(
        cfg,
        &ReadRequest {
            address: r.address.clone(),
            ty: r.ty.clone(),
            region: r.region.clone(),
            id: arn.clone(),
            attrs: a.clone(),
        },
    )
    .await?
    .ok_or_else(|| ProviderError::Permanent {
        code: "NotFound".into(),
        message: format!("subscription {arn} disappeared right after it was made"),
    })
}

pub async fn read_subscription(
    cfg: &SdkConfig,
    req: &ReadRequest,
) -> Result<Option<Found>, ProviderError> {
    let c = Client::new(cfg);
    let out = match c
        .get_subscription_attributes()
        .subscription_arn(&req.id)
        .send()
        .await
        .map_err(classify)
    {
        Ok(o) => o,
        Err(e) if is_not_found(&e) => return Ok(None),
        Err(e) => return Err(e),
    };
    let got = out.attributes().cloned().unwrap_or_default();
    let mut attrs = req.attrs.clone();
    let flag = |k: &str| got.get(k).is_some_and(|v| v == "true");
    attrs.insert(
        "raw_message_delivery".into(),
        Val::Bool(flag("RawMessageDelivery")),
    );
    match got.get("FilterPolicy").filter(|p| !p.is_empty()) {
        Some(p) => {
            // Kept as written while it says the same (SNS may reformat the JSON).
            let same = s(&req.attrs, "filter_policy")
                .is_some_and(|mine| crate::attrs::same_json(&mine, p));
            if !same {
                attrs.insert("filter_policy".into(), Val::Str(p.clone()));
            }
            if let Some(scope) = got.get("FilterPolicyScope") {
                attrs.insert("filter_policy_scope".into(), Val::Str(scope.clone()));
            }
        }
        None => {
            attrs.insert("filter_policy".into(), Val::Null);
        }
    }
    attrs.insert("confirmed".into(), Val::Bool(!flag("PendingConfirmation")));
    attrs.insert("arn".into(), Val::Str(req.id.clone()));
    if let Some(p) = got.get("Protocol") {
        attrs.insert("protocol".into(), Val::Str(p.clone()));
    }
    if let Some(e) = got.get("Endpoint") {
        attrs.insert("endpoint".into(), Val::Str(e.clone()));
    }
    Ok(Some(Found {
        id: req.id.clone(),
        attrs,
    }))
}

pub async fn update_subscription(
    cfg: &SdkConfig,
    req: &UpdateRequest,
) -> Result<Found, ProviderError> {
    let c = Client::new(cfg);
    let r = &req.resource;
    let before: BTreeMap<&str, String> = subscription_attributes(&req.before).into_iter().collect();
    let after = subscription_attributes(&r.attrs);
    for (k, v) in &after {
        if before.get(k) != Some(v) {
            c.set_subscription_attributes()
                .subscription_arn(&req.id)
                .attribute_name(*k)
                .attribute_value(v)
                .send()
                .await
                .map_err(classify)?;
        }
    }
    // A filter policy removed: an empty policy turns filtering off.
    if before.contains_key("FilterPolicy") && !after.iter().any(|(k, _)| *k == "FilterPolicy") {
        c.set_subscription_attributes()
            .subscription_arn(&req.id)
            .attribute_name("FilterPolicy")
            .attribute_value("")
            .send()
            .await
            .map_err(classify)?;
    }
    let mut attrs = r.attrs.clone();
    attrs.insert("arn".into(), Val::Str(req.id.clone()));
    if let Some(v) = req.before.get("confirmed") {
        attrs.insert("confirmed".into(), v.clone());
    }
    Ok(Found {
        id: req.id.clone(),
        attrs,
    })
}

pub async fn unsubscribe(cfg: &SdkConfig, req: &DeleteRequest) -> Result<(), ProviderError> {
    let c = Client::new(cfg);
    match c
        .unsubscribe()
        .subscription_arn(&req.id)
        .send()
        .await
        .map_err(classify)
    {
        Ok(_) => Ok(()),
        Err(e) if is_not_found(&e) => Ok(()),
        // SNS refuses to unsubscribe a subscription still pending confirmation; it deletes it
        // after three days, or with its topic. As CloudFormation and Terraform do, the
        // subscription leaves the state.
        Err(ProviderError::Permanent { message, .. })
            if message.contains("pending confirmation") =>
        {
            Ok(())
        }
        Err(e) => Err(e),
    }
}
