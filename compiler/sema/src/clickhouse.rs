//! The layout of a `k8s.ClickHouseCluster` for the checker's rules and `carbonc render`: its fields
//! as JSON, read by `carbonc_k8s::clickhouse` (which the provider installs from too, so the two
//! cannot disagree).

use serde_json::{Map, Value as Json};

use crate::eval::Instance;
pub use carbonc_k8s::clickhouse::{Layout, Table};

/// The layout of a `k8s.ClickHouseCluster`, when the fields it needs are known.
pub fn layout(inst: &Instance) -> Option<Layout> {
    let mut fields = Map::new();
    for f in carbonc_k8s::clickhouse::LAYOUT_FIELDS {
        if let Some(Ok(v)) = inst.get(f).map(crate::manifest::to_json) {
            fields.insert(f.to_string(), v);
        }
    }
    Layout::from_fields(&Json::Object(fields))
}
