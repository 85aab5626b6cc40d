//! `carbonc-k8s`: the Kubernetes manifest of a `k8s.NetworkPolicy`, and back; the configuration
//! and chart values of a `k8s.ClickHouseCluster` ([`clickhouse`]).
//!
//! The compiler writes manifests for `carbonc render` and the provider applies them, from two
//! different value models (the evaluator's values, the state's); both pass the policy's fields
//! here as JSON (the carbon field names: `name`, `namespace`, `labels`, `pod_selector`, `ingress`,
//! `egress`), so the two cannot disagree on what a policy means. [`fields`] reads a live object
//! back into the same fields, for drift.
//!
//! The mapping follows networking.k8s.io/v1 (Kubernetes API reference, "NetworkPolicy"):
//! - an empty selector is `{}` (all pods, or all namespaces), a set one `{"matchLabels": ...}`;
//! - `policyTypes` lists `Ingress` when `ingress` is set (`[]` denies all ingress) and `Egress`
//!   when `egress` is set, so an unset direction is left alone;
//! - a port's `protocol` defaults to TCP, `end_port` is `endPort`.

use serde_json::{Map, Value as Json, json};

pub mod clickhouse;

/// The carbon fields of a `k8s.NetworkPolicy` that its manifest is made from.
pub const POLICY_FIELDS: [&str; 6] = [
    "name",
    "namespace",
    "labels",
    "pod_selector",
    "ingress",
    "egress",
];

/// The label every object carbonc writes carries.
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "carbonc");

/// Whether a field is set (present and not null).
fn set(v: Option<&Json>) -> bool {
    v.is_some_and(|v| !v.is_null())
}

fn scalar(v: Option<&Json>, what: &str) -> Result<Json, String> {
    match v {
        Some(v @ (Json::String(_) | Json::Number(_) | Json::Bool(_))) => Ok(v.clone()),
        _ => Err(format!("`{what}` has no value")),
    }
}

fn labels(v: Option<&Json>) -> Result<Map<String, Json>, String> {
    let mut out = Map::new();
    if let Some(Json::Object(m)) = v {
        for (k, v) in m {
            out.insert(k.clone(), scalar(Some(v), k)?);
        }
    }
    Ok(out)
}

fn selector(v: Option<&Json>) -> Result<Json, String> {
    let l = labels(v)?;
    Ok(if l.is_empty() {
        json!({})
    } else {
        json!({ "matchLabels": l })
    })
}

fn list(v: Option<&Json>) -> &[Json] {
    match v {
        Some(Json::Array(items)) => items,
        _ => &[],
    }
}

fn peer(p: &Json) -> Result<Json, String> {
    let mut out = Map::new();
    if let Some(b) = p.get("ip_block").filter(|b| !b.is_null()) {
        let mut block = Map::new();
        block.insert("cidr".into(), scalar(b.get("cidr"), "cidr")?);
        let except: Vec<Json> = list(b.get("except")).to_vec();
        if !except.is_empty() {
            block.insert("except".into(), Json::Array(except));
        }
        out.insert("ipBlock".into(), Json::Object(block));
    }
    if set(p.get("pods")) {
        out.insert("podSelector".into(), selector(p.get("pods"))?);
    }
    if set(p.get("namespaces")) {
        out.insert("namespaceSelector".into(), selector(p.get("namespaces"))?);
    }
    Ok(Json::Object(out))
}

fn port(p: &Json) -> Result<Json, String> {
    let mut out = Map::new();
    let protocol = match p.get("protocol") {
        Some(v) if !v.is_null() => scalar(Some(v), "protocol")?,
        _ => json!("TCP"),
    };
    out.insert("protocol".into(), protocol);
    for (field, key) in [("port", "port"), ("end_port", "endPort")] {
        if set(p.get(field)) {
            out.insert(key.into(), scalar(p.get(field), field)?);
        }
    }
    Ok(Json::Object(out))
}

fn rules(v: Option<&Json>, peers_key: &str) -> Result<Json, String> {
    let mut out = Vec::new();
    for r in list(v) {
        let mut rule = Map::new();
        let peers = list(r.get("peers"))
            .iter()
            .map(peer)
            .collect::<Result<Vec<_>, _>>()?;
        if !peers.is_empty() {
            rule.insert(peers_key.into(), Json::Array(peers));
        }
        let ports = list(r.get("ports"))
            .iter()
            .map(port)
            .collect::<Result<Vec<_>, _>>()?;
        if !ports.is_empty() {
            rule.insert("ports".into(), Json::Array(ports));
        }
        out.push(Json::Object(rule));
    }
    Ok(Json::Array(out))
}

/// The networking.k8s.io/v1 manifest of a policy, from its carbon fields.
pub fn network_policy(f: &Json) -> Result<Json, String> {
    let mut meta_labels = labels(f.get("labels"))?;
    meta_labels.insert(MANAGED_BY.0.into(), json!(MANAGED_BY.1));
    let mut spec = Map::new();
    spec.insert("podSelector".into(), selector(f.get("pod_selector"))?);
    let mut types = Vec::new();
    if set(f.get("ingress")) {
        types.push(json!("Ingress"));
        spec.insert("ingress".into(), rules(f.get("ingress"), "from")?);
    }
    if set(f.get("egress")) {
        types.push(json!("Egress"));
        spec.insert("egress".into(), rules(f.get("egress"), "to")?);
    }
    spec.insert("policyTypes".into(), Json::Array(types));
    Ok(json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {
            "name": scalar(f.get("name"), "name")?,
            "namespace": scalar(f.get("namespace"), "namespace")?,
            "labels": meta_labels,
        },
        "spec": spec,
    }))
}

fn selector_back(s: Option<&Json>) -> Json {
    s.and_then(|s| s.get("matchLabels"))
        .cloned()
        .unwrap_or_else(|| json!({}))
}

/// A peer's fields; unset ones are left out, as the state leaves out a record's unset fields.
fn peer_back(p: &Json) -> Json {
    let mut out = Map::new();
    for (key, field) in [("podSelector", "pods"), ("namespaceSelector", "namespaces")] {
        if p.get(key).is_some() {
            out.insert(field.into(), selector_back(p.get(key)));
        }
    }
    if let Some(b) = p.get("ipBlock") {
        out.insert(
            "ip_block".into(),
            json!({
                "cidr": b.get("cidr").cloned().unwrap_or(Json::Null),
                "except": b.get("except").cloned().unwrap_or_else(|| json!([])),
            }),
        );
    }
    Json::Object(out)
}

fn port_back(p: &Json) -> Json {
    let mut out = Map::new();
    out.insert(
        "protocol".into(),
        p.get("protocol").cloned().unwrap_or_else(|| json!("TCP")),
    );
    for (key, field) in [("port", "port"), ("endPort", "end_port")] {
        if let Some(v) = p.get(key) {
            out.insert(field.into(), v.clone());
        }
    }
    Json::Object(out)
}

fn rules_back(v: Option<&Json>, peers_key: &str) -> Json {
    Json::Array(
        list(v)
            .iter()
            .map(|r| {
                json!({
                    "peers": list(r.get(peers_key)).iter().map(peer_back).collect::<Vec<_>>(),
                    "ports": list(r.get("ports")).iter().map(port_back).collect::<Vec<_>>(),
                })
            })
            .collect(),
    )
}

/// The carbon fields of a live NetworkPolicy (as the API server answers it): `labels` (without
/// carbonc's own), `pod_selector`, `ingress` and `egress` (null when its policy type is absent).
pub fn fields(object: &Json) -> Json {
    let spec = object.get("spec").cloned().unwrap_or_else(|| json!({}));
    let types = list(spec.get("policyTypes"));
    let has = |t: &str| types.iter().any(|x| x == t);
    let mut labels = object
        .pointer("/metadata/labels")
        .and_then(Json::as_object)
        .cloned()
        .unwrap_or_default();
    labels.remove(MANAGED_BY.0);
    json!({
        "labels": labels,
        "pod_selector": selector_back(spec.get("podSelector")),
        "ingress": if has("Ingress") { rules_back(spec.get("ingress"), "from") } else { Json::Null },
        "egress": if has("Egress") { rules_back(spec.get("egress"), "to") } else { Json::Null },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Json {
        json!({
            "name": "api-in",
            "namespace": "api",
            "labels": {},
            "pod_selector": { "app": "api" },
            "ingress": [{
                "peers": [
                    { "namespaces": { "kubernetes.io/metadata.name": "edge" } },
                    { "ip_block": { "cidr": "10.0.0.0/16", "except": ["10.0.9.0/24"] } },
                ],
                "ports": [{ "protocol": "TCP", "port": 8080, "end_port": 8090 }],
            }],
            "egress": [],
        })
    }

    #[test]
    fn a_policy_becomes_its_manifest() {
        let m = network_policy(&policy()).unwrap();
        assert_eq!(m["spec"]["policyTypes"], json!(["Ingress", "Egress"]));
        assert_eq!(m["spec"]["egress"], json!([]));
        assert_eq!(
            m["spec"]["ingress"][0]["from"][0],
            json!({ "namespaceSelector": { "matchLabels": { "kubernetes.io/metadata.name": "edge" } } })
        );
        assert_eq!(
            m["spec"]["ingress"][0]["from"][1]["ipBlock"],
            json!({ "cidr": "10.0.0.0/16", "except": ["10.0.9.0/24"] })
        );
        assert_eq!(
            m["spec"]["ingress"][0]["ports"][0],
            json!({ "protocol": "TCP", "port": 8080, "endPort": 8090 })
        );
        assert_eq!(
            m["metadata"]["labels"],
            json!({ "app.kubernetes.io/managed-by": "carbonc" })
        );
    }

    #[test]
    fn a_live_object_reads_back_as_the_fields_it_was_made_from() {
        let p = policy();
        let back = fields(&network_policy(&p).unwrap());
        for k in ["labels", "pod_selector", "ingress", "egress"] {
            assert_eq!(back[k], p[k], "{k}");
        }
        // Only ingress: egress is left alone, and reads back unset.
        let mut only_in = p.clone();
        only_in["egress"] = Json::Null;
        assert_eq!(
            fields(&network_policy(&only_in).unwrap())["egress"],
            Json::Null
        );
    }

    #[test]
    fn a_missing_name_is_an_error() {
        let mut p = policy();
        p["name"] = Json::Null;
        assert!(network_policy(&p).unwrap_err().contains("`name`"));
    }
}
