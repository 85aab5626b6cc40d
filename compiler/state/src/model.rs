//! The state model.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A value as the engine sees it: JSON-like data plus references, secrets (as keyed hashes) and,
/// in plans only, values that will be known after apply.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Val {
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
    List(Vec<Val>),
    Map(BTreeMap<String, Val>),
    /// A reference to another resource, by address.
    Ref(String),
    /// A secret: `Some(keyed hash)` when known, `None` when it is known only after apply.
    Sensitive(Option<String>),
    /// Known only after apply. Never written to state.
    Unknown,
}

impl Val {
    pub fn is_known(&self) -> bool {
        match self {
            Val::Unknown | Val::Sensitive(None) => false,
            Val::List(items) => items.iter().all(Val::is_known),
            Val::Map(m) => m.values().all(Val::is_known),
            _ => true,
        }
    }

    /// JSON, with `{"$ref": ...}`, `{"$sensitive": ...}` and `{"$unknown": true}` markers; map keys
    /// that start with `$` are escaped by doubling it.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::{Value as J, json};
        match self {
            Val::Null => J::Null,
            Val::Bool(b) => J::Bool(*b),
            Val::Int(n) => json!(n),
            Val::Str(s) => J::String(s.clone()),
            Val::List(items) => J::Array(items.iter().map(Val::to_json).collect()),
            Val::Map(m) => J::Object(
                m.iter()
                    .map(|(k, v)| {
                        (
                            if k.starts_with('$') {
                                format!("${k}")
                            } else {
                                k.clone()
                            },
                            v.to_json(),
                        )
                    })
                    .collect(),
            ),
            Val::Ref(addr) => json!({ "$ref": addr }),
            Val::Sensitive(h) => json!({ "$sensitive": h }),
            Val::Unknown => json!({ "$unknown": true }),
        }
    }

    pub fn from_json(j: &serde_json::Value) -> Result<Val, String> {
        use serde_json::Value as J;
        Ok(match j {
            J::Null => Val::Null,
            J::Bool(b) => Val::Bool(*b),
            J::Number(n) => Val::Int(
                n.as_i64()
                    .ok_or_else(|| format!("{n} is not a 64-bit integer"))?,
            ),
            J::String(s) => Val::Str(s.clone()),
            J::Array(items) => {
                Val::List(items.iter().map(Val::from_json).collect::<Result<_, _>>()?)
            }
            J::Object(m) => {
                if m.len() == 1 {
                    if let Some(J::String(a)) = m.get("$ref") {
                        return Ok(Val::Ref(a.clone()));
                    }
                    if let Some(h) = m.get("$sensitive") {
                        return match h {
                            J::Null => Ok(Val::Sensitive(None)),
                            J::String(h) => Ok(Val::Sensitive(Some(h.clone()))),
                            _ => Err("`$sensitive` holds a keyed hash (a string) or null".into()),
                        };
                    }
                    if m.get("$unknown") == Some(&J::Bool(true)) {
                        return Ok(Val::Unknown);
                    }
                }
                let mut out = BTreeMap::new();
                for (k, v) in m {
                    let key = match k.strip_prefix("$$") {
                        Some(rest) => format!("${rest}"),
                        None if k.starts_with('$') => return Err(format!("unknown marker `{k}`")),
                        None => k.clone(),
                    };
                    out.insert(key, Val::from_json(v)?);
                }
                Val::Map(out)
            }
        })
    }
}

impl Serialize for Val {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Val {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Val, D::Error> {
        let j = serde_json::Value::deserialize(d)?;
        Val::from_json(&j).map_err(serde::de::Error::custom)
    }
}

/// Where a resource is in its life. `Intent` is written before a create call so that a crashed
/// apply can find and adopt what AWS created.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ResourceStatus {
    #[default]
    Created,
    Intent,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceState {
    /// The carbon address, e.g. `db_key[us-east-1]`.
    pub address: String,
    /// The resource type, e.g. `aws.kms.Key`.
    #[serde(rename = "type")]
    pub ty: String,
    /// The AWS region code, or `null` for global resources.
    pub region: Option<String>,
    /// The provider's identifier (ARN, id), once created.
    pub id: Option<String>,
    #[serde(default)]
    pub status: ResourceStatus,
    /// Last-known attributes: the configured ones and those AWS computed. Secrets are keyed hashes.
    pub attributes: BTreeMap<String, Val>,
    /// Addresses this resource depends on, so that deletions run in reverse dependency order even
    /// after the configuration that declared the dependency is gone.
    #[serde(default)]
    pub dependencies: Vec<String>,
    /// For an `intent`: the idempotency token of the create call, to find what a crash left behind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    pub format_version: u32,
    /// Identifies one state's history; a plan or a write for another lineage is refused.
    pub lineage: String,
    /// Incremented by every write.
    pub serial: u64,
    /// The carbonc version that wrote it.
    pub carbonc_version: String,
    pub resources: Vec<ResourceState>,
    #[serde(default)]
    pub outputs: BTreeMap<String, Val>,
}

impl State {
    pub fn new(lineage: String) -> State {
        State {
            format_version: crate::CURRENT_FORMAT_VERSION,
            lineage,
            serial: 0,
            carbonc_version: env!("CARGO_PKG_VERSION").to_string(),
            resources: Vec::new(),
            outputs: BTreeMap::new(),
        }
    }

    pub fn resource(&self, address: &str) -> Option<&ResourceState> {
        self.resources.iter().find(|r| r.address == address)
    }

    /// The ids of the deposed objects of `address` (see [`deposed_address`]).
    pub fn deposed_ids(&self, address: &str) -> Vec<String> {
        self.resources
            .iter()
            .filter(|r| deposed_base(&r.address) == Some(address))
            .filter_map(|r| r.id.clone())
            .collect()
    }
}

/// Where a replaced object waits for its deletion: a create-before-destroy replacement records
/// the new object at `address` and keeps the old one, still to be deleted, as
/// `ADDRESS (deposed ID)` (Terraform's "deposed object"). No program declares such an address, so
/// a deposed object left by a crash or a failed delete is planned for deletion like any resource
/// the program no longer has.
pub fn deposed_address(address: &str, id: &str) -> String {
    format!("{address} (deposed {id})")
}

/// The address a deposed object was replaced at, for an address made by [`deposed_address`].
pub fn deposed_base(address: &str) -> Option<&str> {
    let (base, rest) = address.split_once(" (deposed ")?;
    rest.ends_with(')').then_some(base)
}

/// A fresh random lineage (a version 4 UUID).
pub fn new_lineage() -> String {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).expect("the operating system provides randomness");
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_with_markers() {
        let v = Val::Map(BTreeMap::from([
            (
                "a".into(),
                Val::List(vec![Val::Int(1), Val::Null, Val::Bool(true)]),
            ),
            (
                "$ref".into(),
                Val::Str("user key that looks like a marker".into()),
            ),
            ("key".into(), Val::Ref("db_key[us-east-1]".into())),
            ("pw".into(), Val::Sensitive(Some("hmac-sha256:00".into()))),
            ("later".into(), Val::Unknown),
        ]));
        let j = v.to_json();
        assert_eq!(j["$$ref"], "user key that looks like a marker");
        assert_eq!(Val::from_json(&j).unwrap(), v);
        assert!(Val::from_json(&serde_json::json!({"$bogus": 1})).is_err());
    }

    #[test]
    fn lineages_are_uuids() {
        let a = new_lineage();
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert_ne!(a, new_lineage());
    }
}
