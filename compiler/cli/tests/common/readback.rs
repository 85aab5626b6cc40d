//! Read-back: every field a program sets is read back from AWS, so a change made outside carbonc
//! shows up as drift.
//!
//! A provider's `read` is given the resource's recorded attributes (it may need them to find the
//! resource) and answers with the attributes AWS reports. A read that does not report a field
//! hands the recorded value back unchanged, and a change of that field outside carbonc is then
//! invisible. So each resource of a state is read with every settable field "poisoned" (set to a
//! value no program would set: `readback-poison`, 987654321, the other boolean, an empty or
//! one-element list or map); a field that comes back poisoned was not read from AWS. A field
//! carbonc cannot read back (AWS does not return it) is listed, with the reason, in
//! `tests/apply/field_readback.txt`. References and secrets are left as they are: a reference is
//! recorded by address, and a secret only as a keyed hash.
//!
//! The same read is given no computed attributes (ids, ARNs, endpoints), as when a crash left only
//! an intent and the next run adopts the resource: it must fill every one of them in, or the
//! resources that read them would be resolved against values the state does not hold.

use std::collections::{BTreeMap, BTreeSet};

use carbonc_apply::{Provider, ReadRequest};
use carbonc_state::{ResourceStatus, State, Val};

/// The report of a read-back run.
#[derive(Debug, Default)]
pub struct ReadBack {
    /// (type.field) whose value came back from AWS.
    pub read: BTreeSet<String>,
    /// (type.field) -> the resource whose read handed the poisoned value back.
    pub unread: BTreeMap<String, String>,
    /// Resources whose poisoned read failed or found nothing, with the error: the read uses a
    /// settable field to find the resource.
    pub errors: Vec<String>,
    /// (type.field) -> the resource whose read, given no computed attributes (as after a crash,
    /// when a resource is adopted from its intent), did not fill in that computed attribute.
    pub computed_missing: BTreeMap<String, String>,
}

fn poison(v: &Val) -> Option<Val> {
    Some(match v {
        Val::Str(_) => Val::Str("readback-poison".into()),
        Val::Int(_) => Val::Int(987_654_321),
        Val::Bool(b) => Val::Bool(!b),
        Val::List(items) if items.is_empty() => Val::List(vec![Val::Str("readback-poison".into())]),
        Val::List(_) => Val::List(Vec::new()),
        Val::Map(m) if m.is_empty() => Val::Map(BTreeMap::from([(
            "readback".to_string(),
            Val::Str("poison".into()),
        )])),
        Val::Map(_) => Val::Map(BTreeMap::new()),
        Val::Null | Val::Ref(_) | Val::Sensitive(_) | Val::Unknown => return None,
    })
}

/// Whether a value holds a reference or a secret somewhere (left unpoisoned).
fn opaque(v: &Val) -> bool {
    match v {
        Val::Ref(_) | Val::Sensitive(_) => true,
        Val::List(items) => items.iter().any(opaque),
        Val::Map(m) => m.values().any(opaque),
        _ => false,
    }
}

/// Reads every created resource of `state` through the AWS provider at `emu`, with its settable
/// fields poisoned.
pub fn check(emu: &super::Emulator, state: &serde_json::Value) -> ReadBack {
    let state: State = serde_json::from_value(state.clone()).expect("a state");
    let fields = super::coverage::settable_fields();
    let computed = super::coverage::computed_fields();
    let provider = carbonc_aws::AwsProvider::with_endpoint(
        &emu.url,
        &emu.env["AWS_ACCESS_KEY_ID"],
        &emu.env["AWS_SECRET_ACCESS_KEY"],
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut out = ReadBack::default();
    for r in &state.resources {
        // Lookups are read, never written: their settable fields are how they are found.
        let lookup = ["aws.acm.Certificate", "aws.elbv2.LoadBalancer"].contains(&r.ty.as_str());
        // Objects inside a cluster are read through its Kubernetes API as the identity that may
        // (the footprint's `provider_role_arn`), which this provider is not: the tests read them
        // with tests/kube/kube_get.py instead.
        let in_cluster = r.ty.starts_with("k8s.");
        if r.status != ResourceStatus::Created || lookup || in_cluster {
            continue;
        }
        let Some(id) = r.id.clone() else { continue };
        let mut attrs = r.attributes.clone();
        let mut poisoned: BTreeMap<&str, Val> = BTreeMap::new();
        // A read gets no computed attributes, as after adoption: it must fill them in.
        let mut removed: Vec<&str> = Vec::new();
        for f in computed.get(&r.ty).into_iter().flatten() {
            if attrs.remove(f).is_some_and(|v| v != Val::Null) {
                removed.push(f);
            }
        }
        for f in fields.get(&r.ty).into_iter().flatten() {
            let Some(v) = r.attributes.get(f) else {
                continue;
            };
            if opaque(v) {
                continue;
            }
            if let Some(p) = poison(v) {
                attrs.insert(f.clone(), p.clone());
                poisoned.insert(f, p);
            }
        }
        let req = ReadRequest {
            address: r.address.clone(),
            ty: r.ty.clone(),
            region: r.region.clone(),
            id,
            attrs,
        };
        match rt.block_on(provider.read(req)) {
            Ok(Some(found)) => {
                for f in removed {
                    if found.attrs.get(f).is_none_or(|v| *v == Val::Null) {
                        out.computed_missing
                            .insert(format!("{}.{f}", r.ty), r.address.clone());
                    }
                }
                for (f, p) in poisoned {
                    let key = format!("{}.{f}", r.ty);
                    if found.attrs.get(f) == Some(&p) {
                        out.read.remove(&key);
                        out.unread.insert(key, r.address.clone());
                    } else if !out.unread.contains_key(&key) {
                        out.read.insert(key);
                    }
                }
            }
            Ok(None) => out.errors.push(format!(
                "{} ({}): not found when read with its settable fields poisoned",
                r.address, r.ty
            )),
            Err(e) => out.errors.push(format!("{} ({}): {e}", r.address, r.ty)),
        }
    }
    out
}

/// The fields listed as not read back, with their reasons: `type.field  reason`.
pub fn not_read() -> BTreeMap<String, String> {
    super::coverage::listed("tests/apply/field_readback.txt")
}
