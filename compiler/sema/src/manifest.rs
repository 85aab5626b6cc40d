//! Kubernetes manifests of the program's in-cluster objects (`k8s.NetworkPolicy`), as the API
//! server takes them (networking.k8s.io/v1), for `carbonc render`. Pure.

use serde_json::{Map, Value as Json, json};

use crate::eval::{Instance, Program};
use crate::value::{Entries, Value, entries, items};

/// One object to write: where (region, cluster name, namespace), its file name, and the object;
/// or why it cannot be written yet.
#[derive(Clone, Debug, PartialEq)]
pub struct Manifest {
    pub address: String,
    pub region: String,
    pub cluster: String,
    pub namespace: String,
    pub file: String,
    /// The Kubernetes version of the cluster (`version`), when known.
    pub kubernetes: Option<String>,
    pub object: Result<Json, String>,
}

/// A known value as JSON, or the first unknown part's description.
fn known(v: &Value) -> Result<Json, String> {
    Ok(match v.reveal() {
        Value::Str(s) => Json::String(s.clone()),
        Value::Int(n) => json!(n),
        Value::Bool(b) => json!(b),
        Value::Unknown { .. } => return Err("a value known only after apply".into()),
        Value::Enum(e) => Json::String(e.variant.to_string()),
        other => return Err(format!("a {} where a scalar was expected", other.kind())),
    })
}

fn labels(v: Option<&Value>) -> Result<Json, String> {
    let mut m = Map::new();
    if let Some(Value::Map(e) | Value::Record(e)) = v.map(Value::reveal) {
        for (k, v) in e.iter() {
            m.insert(k.clone(), known(v)?);
        }
    }
    Ok(Json::Object(m))
}

fn set(v: Option<&Value>) -> bool {
    v.is_some_and(|v| !matches!(v.reveal(), Value::None))
}

fn selector(v: Option<&Value>) -> Result<Json, String> {
    let l = labels(v)?;
    Ok(if l.as_object().is_some_and(Map::is_empty) {
        json!({})
    } else {
        json!({ "matchLabels": l })
    })
}

fn peer(p: &Entries) -> Result<Json, String> {
    let mut out = Map::new();
    if let Some(b) = p.get("ip_block").and_then(entries) {
        let mut block = Map::new();
        block.insert("cidr".into(), known(b.get("cidr").unwrap_or(&Value::None))?);
        let except: Result<Vec<Json>, String> = items(b.get("except")).iter().map(known).collect();
        let except = except?;
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

fn port(p: &Entries) -> Result<Json, String> {
    let mut out = Map::new();
    out.insert(
        "protocol".into(),
        known(p.get("protocol").unwrap_or(&Value::Str("TCP".into())))?,
    );
    for (field, key) in [("port", "port"), ("end_port", "endPort")] {
        if set(p.get(field)) {
            out.insert(key.into(), known(p.get(field).expect("set"))?);
        }
    }
    Ok(Json::Object(out))
}

fn rules(v: Option<&Value>, peers_key: &str) -> Result<Json, String> {
    let mut out = Vec::new();
    for r in items(v).iter().filter_map(entries) {
        let mut rule = Map::new();
        let peers: Result<Vec<Json>, String> = items(r.get("peers"))
            .iter()
            .filter_map(entries)
            .map(peer)
            .collect();
        let peers = peers?;
        if !peers.is_empty() {
            rule.insert(peers_key.into(), Json::Array(peers));
        }
        let ports: Result<Vec<Json>, String> = items(r.get("ports"))
            .iter()
            .filter_map(entries)
            .map(port)
            .collect();
        let ports = ports?;
        if !ports.is_empty() {
            rule.insert("ports".into(), Json::Array(ports));
        }
        out.push(Json::Object(rule));
    }
    Ok(Json::Array(out))
}

fn network_policy(np: &Instance) -> Result<Json, String> {
    let mut meta_labels = labels(np.get("labels"))?;
    if let Some(m) = meta_labels.as_object_mut() {
        m.insert("app.kubernetes.io/managed-by".into(), json!("carbonc"));
    }
    let mut spec = Map::new();
    spec.insert("podSelector".into(), selector(np.get("pod_selector"))?);
    let mut types = Vec::new();
    if set(np.get("ingress")) {
        types.push(json!("Ingress"));
        spec.insert("ingress".into(), rules(np.get("ingress"), "from")?);
    }
    if set(np.get("egress")) {
        types.push(json!("Egress"));
        spec.insert("egress".into(), rules(np.get("egress"), "to")?);
    }
    spec.insert("policyTypes".into(), Json::Array(types));
    Ok(json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {
            "name": known(np.get("name").unwrap_or(&Value::None))?,
            "namespace": known(np.get("namespace").unwrap_or(&Value::None))?,
            "labels": meta_labels,
        },
        "spec": spec,
    }))
}

/// Every network policy of the program, in program order.
pub fn manifests(p: &Program) -> Vec<Manifest> {
    p.of_type("k8s.NetworkPolicy")
        .map(|np| {
            let cluster = match np.get("cluster").map(Value::reveal) {
                Some(Value::Ref { addr }) => p.instance(addr),
                _ => None,
            };
            let text = |i: Option<&Instance>, f: &str| {
                i.and_then(|i| i.get(f))
                    .and_then(|v| v.reveal().as_str())
                    .map(str::to_string)
            };
            let name = text(Some(np), "name").unwrap_or_default();
            Manifest {
                address: np.address.clone(),
                region: p.region_code(np.region).to_string(),
                cluster: text(cluster, "name")
                    .unwrap_or_else(|| cluster.map_or_else(String::new, |c| c.address.clone())),
                namespace: text(Some(np), "namespace").unwrap_or_default(),
                file: format!("networkpolicy-{name}.json"),
                kubernetes: text(cluster, "version"),
                object: network_policy(np),
            }
        })
        .collect()
}
