//! Kubernetes manifests of the program's in-cluster objects (`k8s.NetworkPolicy`), as the API
//! server takes them (networking.k8s.io/v1), for `carbonc render`. Pure.

use serde_json::{Map, Value as Json, json};

use crate::eval::{Instance, Program};
use crate::value::{Value, items};

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
/// A value as JSON, for the manifest builder; a value known only after apply cannot be written.
pub(crate) fn to_json(v: &Value) -> Result<Json, String> {
    Ok(match v.reveal() {
        Value::Str(s) => Json::String(s.clone()),
        Value::Int(n) => json!(n),
        Value::Bool(b) => json!(b),
        Value::None => Json::Null,
        Value::Enum(e) => Json::String(e.variant.to_string()),
        Value::Unknown { .. } => return Err("a value known only after apply".into()),
        Value::Map(e) | Value::Record(e) => Json::Object(
            e.iter()
                .map(|(k, v)| Ok((k.clone(), to_json(v)?)))
                .collect::<Result<Map<_, _>, String>>()?,
        ),
        Value::List(_) => Json::Array(
            items(Some(v))
                .iter()
                .map(to_json)
                .collect::<Result<_, _>>()?,
        ),
        other => {
            return Err(format!(
                "a {} where a plain value was expected",
                other.kind()
            ));
        }
    })
}

/// The manifest of one policy (`carbonc_k8s::network_policy` over its fields).
fn network_policy(np: &Instance) -> Result<Json, String> {
    let mut fields = Map::new();
    for f in carbonc_k8s::POLICY_FIELDS {
        if let Some(v) = np.get(f) {
            fields.insert(f.into(), to_json(v)?);
        }
    }
    carbonc_k8s::network_policy(&Json::Object(fields))
}

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
