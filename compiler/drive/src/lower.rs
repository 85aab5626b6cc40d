//! Lowering: the evaluated program becomes the desired resources the planner compares with state.

use carbonc_plan::Desired;
use carbonc_sema::{Catalog, Instance, Program, RegionInfo, ResourceGraph, Value};
use carbonc_state::{SecretKey, Val};

/// The engine's value for a language value. Secrets become `hmac-sha256` hashes of their canonical
/// JSON; a secret that is not known yet stays an unknown secret.
pub fn to_val(v: &Value, key: &SecretKey) -> Val {
    match v {
        Value::Str(s) => Val::Str(s.clone()),
        Value::Int(n) => Val::Int(*n),
        Value::Bool(b) => Val::Bool(*b),
        Value::None => Val::Null,
        Value::List(items) => Val::List(items.iter().map(|i| to_val(i, key)).collect()),
        Value::Map(m) | Value::Record(m) => {
            Val::Map(m.iter().map(|(k, v)| (k.clone(), to_val(v, key))).collect())
        }
        Value::Enum(e) => Val::Str(e.wire.clone()),
        Value::Region { code, .. } => Val::Str(code.clone()),
        Value::Ref { addr } => Val::Ref(addr.clone()),
        Value::Secret(inner) => {
            let plain = to_val(inner, key);
            if plain.is_known() {
                Val::Sensitive(Some(key.hash(&plain.to_json().to_string())))
            } else {
                Val::Sensitive(None)
            }
        }
        Value::Unknown { .. } => Val::Unknown,
        Value::Module { .. } | Value::Family { .. } | Value::Path(_) => Val::Null,
    }
}

/// The language value of a state value, for computed attributes fed back into evaluation.
/// Secrets and references are not fed back (they stay unknown).
pub fn from_val(v: &Val) -> Option<Value> {
    Some(match v {
        Val::Null => Value::None,
        Val::Bool(b) => Value::Bool(*b),
        Val::Int(n) => Value::Int(*n),
        Val::Str(s) => Value::Str(s.clone()),
        Val::List(items) => Value::List(items.iter().map(from_val).collect::<Option<_>>()?),
        Val::Map(m) => Value::Map(
            m.iter()
                .map(|(k, v)| Some((k.clone(), from_val(v)?)))
                .collect::<Option<_>>()?,
        ),
        Val::Ref(_) | Val::Sensitive(_) | Val::Unknown => return None,
    })
}

pub fn lower(p: &Program, g: &ResourceGraph, cat: &Catalog, key: &SecretKey) -> Vec<Desired> {
    g.order
        .iter()
        .map(|&i| {
            let deps = g.deps[i]
                .iter()
                .map(|d| p.instances[*d].address.clone())
                .collect();
            lower_instance(&p.instances[i], &p.regions, deps, cat, key)
        })
        .collect()
}

/// One instance as the planner wants it; `deps` are the addresses it depends on.
pub fn lower_instance(
    inst: &Instance,
    regions: &[RegionInfo],
    deps: Vec<String>,
    cat: &Catalog,
    key: &SecretKey,
) -> Desired {
    let schema = cat.resources.get(&inst.ty);
    let computed: Vec<String> = schema
        .map(|s| {
            s.fields
                .iter()
                .filter(|f| f.computed && !f.metric)
                .map(|f| f.name.clone())
                .collect()
        })
        .unwrap_or_default();
    let forces_new: Vec<String> = schema
        .map(|s| {
            s.fields
                .iter()
                .filter(|f| f.forces_new)
                .map(|f| f.name.clone())
                .collect()
        })
        .unwrap_or_default();
    let attrs = inst
        .fields
        .iter()
        .filter(|(name, _)| !computed.iter().any(|c| c == name))
        .map(|(name, f)| (name.to_string(), to_val(&f.value, key)))
        .collect();
    let defaulted = inst
        .fields
        .iter()
        .filter(|(name, f)| !f.explicit && !computed.iter().any(|c| c == name))
        .map(|(name, _)| name.to_string())
        .collect();
    Desired {
        defaulted,
        address: inst.address.clone(),
        ty: inst.ty.clone(),
        region: inst.region.map(|r| regions[r].code.clone()),
        attrs,
        computed,
        forces_new,
        deps,
        lookup: schema.is_some_and(|s| s.lookup),
        create_before_destroy: inst.create_before_destroy,
        prevent_destroy: inst.prevent_destroy,
    }
}
