//! Reading engine values: attributes, references, tags.

use std::collections::BTreeMap;

use carbonc_apply::{CreateRequest, FindRequest, ProviderError, ReadRequest, Resolved};
use carbonc_state::Val;

pub fn s(attrs: &BTreeMap<String, Val>, k: &str) -> Option<String> {
    match attrs.get(k)? {
        Val::Str(s) => Some(s.clone()),
        _ => None,
    }
}

pub fn b(attrs: &BTreeMap<String, Val>, k: &str) -> Option<bool> {
    match attrs.get(k)? {
        Val::Bool(b) => Some(*b),
        _ => None,
    }
}

pub fn i(attrs: &BTreeMap<String, Val>, k: &str) -> Option<i64> {
    match attrs.get(k)? {
        Val::Int(n) => Some(*n),
        _ => None,
    }
}

pub fn strings(attrs: &BTreeMap<String, Val>, k: &str) -> Vec<String> {
    match attrs.get(k) {
        Some(Val::List(l)) => l
            .iter()
            .filter_map(|v| {
                if let Val::Str(s) = v {
                    Some(s.clone())
                } else {
                    None
                }
            })
            .collect(),
        _ => Vec::new(),
    }
}

pub fn map(attrs: &BTreeMap<String, Val>, k: &str) -> BTreeMap<String, String> {
    match attrs.get(k) {
        Some(Val::Map(m)) => m
            .iter()
            .filter_map(|(k, v)| {
                if let Val::Str(s) = v {
                    Some((k.clone(), s.clone()))
                } else {
                    None
                }
            })
            .collect(),
        _ => BTreeMap::new(),
    }
}

pub fn required(attrs: &BTreeMap<String, Val>, k: &str) -> Result<String, ProviderError> {
    s(attrs, k).ok_or_else(|| ProviderError::Permanent {
        code: "InvalidConfiguration".into(),
        message: format!("`{k}` has no value"),
    })
}

/// The provider id of the resource a reference attribute points to.
pub fn ref_id(r: &Resolved, field: &str) -> Result<String, ProviderError> {
    r.target(field)
        .and_then(|t| t.id.clone())
        .ok_or_else(|| ProviderError::Permanent {
            code: "UnresolvedReference".into(),
            message: format!(
                "`{field}` of `{}` refers to a resource that does not exist yet",
                r.address
            ),
        })
}

/// The ARN of the resource a reference attribute points to.
pub fn ref_arn(r: &Resolved, field: &str) -> Result<String, ProviderError> {
    r.target(field)
        .and_then(|t| s(&t.attributes, "arn"))
        .ok_or_else(|| ProviderError::Permanent {
            code: "UnresolvedReference".into(),
            message: format!("`{field}` of `{}` has no ARN yet", r.address),
        })
}

/// Whether a tag is one carbon puts on everything it creates (not the user's: `carbon:footprint`
/// is the user's own).
pub fn internal_tag(key: &str) -> bool {
    matches!(key, "carbon:address" | "carbon:lineage")
}

/// The user's tags of a resource, as AWS lists them (key, value), without carbon's own.
pub fn user_tags<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Val {
    Val::Map(
        pairs
            .into_iter()
            .filter(|(k, _)| !internal_tag(k))
            .map(|(k, v)| (k.to_string(), Val::Str(v.to_string())))
            .collect(),
    )
}

/// The user's tags plus carbon's own (`carbon:address`, `carbon:lineage`).
pub fn all_tags(req: &CreateRequest) -> BTreeMap<String, String> {
    let mut t = map(&req.resource.attrs, "tags");
    t.extend(req.tags.clone());
    t
}

/// The attributes as configured, plus computed ones.
pub fn with(
    attrs: &BTreeMap<String, Val>,
    computed: &[(&str, Option<String>)],
) -> BTreeMap<String, Val> {
    let mut out = attrs.clone();
    for (k, v) in computed {
        if let Some(v) = v {
            out.insert((*k).to_string(), Val::Str(v.clone()));
        }
    }
    out
}

/// The AWS ids of the resources a list of references points to (`subnets = [a, b]`), in order.
pub fn ref_ids(r: &Resolved, field: &str) -> Vec<String> {
    match r.attrs.get(field) {
        Some(Val::List(items)) => items
            .iter()
            .filter_map(|v| match v {
                Val::Ref(addr) => r.refs.get(addr)?.id.clone(),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The attributes after an update: the program's, plus whatever the state recorded that the
/// program does not set (computed ones such as ids and ARNs).
pub fn after_update(
    attrs: &BTreeMap<String, Val>,
    before: &BTreeMap<String, Val>,
) -> BTreeMap<String, Val> {
    let mut out = attrs.clone();
    for (k, v) in before {
        out.entry(k.clone()).or_insert_with(|| v.clone());
    }
    out
}

/// How the user's tags change in an update: the tags to set (new or changed values) and the keys
/// to remove. Carbon's own `carbon:*` tags are in neither map, so they are never touched.
pub fn tag_changes(
    before: &BTreeMap<String, String>,
    after: &BTreeMap<String, String>,
) -> (BTreeMap<String, String>, Vec<String>) {
    let set = after
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let removed = before
        .keys()
        .filter(|k| !after.contains_key(*k))
        .cloned()
        .collect();
    (set, removed)
}

/// Records what a read found: `v` at `k`, when AWS reported it.
pub fn put(attrs: &mut BTreeMap<String, Val>, k: &str, v: Option<Val>) {
    if let Some(v) = v {
        attrs.insert(k.to_string(), v);
    }
}

/// As [`put`], for an optional field that AWS fills in when the program leaves it unset (a
/// maintenance window, an availability zone): recorded only where the program set it, so an
/// unset field does not read as drift.
pub fn put_if_set(attrs: &mut BTreeMap<String, Val>, k: &str, v: Option<Val>) {
    if attrs.get(k).is_some_and(|x| *x != Val::Null) {
        put(attrs, k, v);
    }
}

/// A JSON policy document `reported` by AWS, for a field the program set: recorded as the program
/// wrote it when both mean the same document, since AWS reformats what it stores (KMS pretty-prints
/// key policies, IAM may reorder); TF suppresses the same differences
/// (`verify.SuppressEquivalentPolicyDiffs`).
pub fn put_policy(attrs: &mut BTreeMap<String, Val>, k: &str, reported: Option<&str>) {
    let Some(reported) = reported else { return };
    let same = match attrs.get(k) {
        Some(Val::Str(written)) => same_json(written, reported),
        _ => return,
    };
    if !same {
        attrs.insert(k.into(), Val::Str(reported.to_string()));
    }
}

/// Whether two JSON texts hold the same value (object keys in any order); texts that are not
/// JSON compare as text.
pub fn same_json(a: &str, b: &str) -> bool {
    match (
        serde_json::from_str::<serde_json::Value>(a),
        serde_json::from_str::<serde_json::Value>(b),
    ) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// Whether a resource's tags say it is the one `req` looks for: this address, this lineage.
pub fn found_by_tags(tags: &BTreeMap<String, String>, req: &FindRequest) -> bool {
    tags.get("carbon:address") == Some(&carbonc_apply::address_tag(&req.address))
        && tags.get("carbon:lineage") == Some(&req.lineage)
}

/// The read of what a find turned up under `id`.
pub fn read_of(req: &FindRequest, id: String) -> ReadRequest {
    ReadRequest {
        address: req.address.clone(),
        ty: req.ty.clone(),
        region: req.region.clone(),
        id,
        attrs: req.attrs.clone(),
    }
}

/// Refuses a create whose name is taken by a resource (with these tags) that carbonc did not make
/// for this address: APIs that answer the existing resource (SNS `CreateTopic`) or replace it
/// (CloudWatch `PutMetricAlarm`) would otherwise adopt or overwrite someone else's.
pub fn refuse_taken(
    req: &CreateRequest,
    what: &str,
    name: &str,
    have: &BTreeMap<String, String>,
) -> Result<(), ProviderError> {
    if req.tags.iter().all(|(k, v)| have.get(k) == Some(v)) {
        return Ok(());
    }
    Err(ProviderError::Permanent {
        code: "AlreadyExists".into(),
        message: format!(
            "{what} named `{name}` already exists in {} and carbonc did not create it \
             (choose another name, or `carbonc import` it)",
            req.resource.region.as_deref().unwrap_or("us-east-1")
        ),
    })
}

/// A string as a value.
pub fn text(v: Option<&str>) -> Option<Val> {
    v.map(|v| Val::Str(v.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_reformatted_by_aws_keeps_the_programs_text() {
        let written =
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*"}]}"#;
        let pretty = "{\n  \"Statement\" : [ {\n    \"Action\" : \"kms:*\",\n    \"Effect\" : \"Allow\"\n  } ],\n  \"Version\" : \"2012-10-17\"\n}";
        let mut attrs = BTreeMap::from([("policy".to_string(), Val::Str(written.into()))]);
        put_policy(&mut attrs, "policy", Some(pretty));
        assert_eq!(attrs["policy"], Val::Str(written.into()));
        let changed = pretty.replace("Allow", "Deny");
        put_policy(&mut attrs, "policy", Some(&changed));
        assert_eq!(attrs["policy"], Val::Str(changed));
        // A field the program leaves unset stays unset.
        let mut unset = BTreeMap::new();
        put_policy(&mut unset, "policy", Some(pretty));
        assert!(unset.is_empty());
    }
}
