//! `k8s.ClickHouseCluster`: a Helm release of carbonc's own ClickHouse chart
//! (`stdlib/charts/clickhouse`, embedded in the binary as `carbonc_k8s::clickhouse::CHART`, so the
//! chart always matches the carbonc that installs it), with the values carbonc generates from the
//! cluster's layout: the servers and Keeper nodes pinned to their zones, the configuration the
//! topology test runs, gp3 volumes under the region's key (by ARN, as the EBS CSI driver wants
//! it) and the backup bucket.
//!
//! The release is the cluster's `name` in its `namespace`; refresh and delete are a Helm release's
//! (`helm status`, `helm uninstall --wait`), as the state id has the same shape. An update runs
//! helm unless `timeout` is all that changed: every other field, and what a reference resolves
//! to, changes the generated values.

use aws_config::SdkConfig;
use carbonc_apply::{CreateRequest, Found, ProviderError, Resolved, UpdateRequest};
use carbonc_k8s::clickhouse::{CHART, CHART_NAME, CHART_VERSION, Install, Layout};
use carbonc_state::Val;

use crate::attrs::{after_update, ref_arn, ref_id, required};
use crate::helm::{Scratch, upgrade_install};

fn invalid(message: String) -> ProviderError {
    ProviderError::Permanent {
        code: "InvalidConfiguration".into(),
        message,
    }
}

/// The chart's values for the cluster as the program gives it.
fn values(r: &Resolved) -> Result<serde_json::Value, ProviderError> {
    let mut fields = serde_json::Map::new();
    for k in carbonc_k8s::clickhouse::LAYOUT_FIELDS {
        if let Some(v) = r.attrs.get(k) {
            fields.insert(k.into(), v.to_json());
        }
    }
    let layout = Layout::from_fields(&serde_json::Value::Object(fields)).ok_or_else(|| {
        invalid(format!(
            "`{}` has no complete layout (name, namespace, shards, replicas)",
            r.address
        ))
    })?;
    let backup_bucket = match r.attrs.get("backup_bucket") {
        Some(Val::Ref(_)) => Some(ref_id(r, "backup_bucket")?),
        _ => None,
    };
    let install = Install {
        region: r.region.clone().unwrap_or_default(),
        volume_key_arn: ref_arn(r, "volume_key")?,
        backup_bucket,
    };
    Ok(layout.values(&install))
}

async fn install(cfg: &SdkConfig, r: &Resolved, verb: &str) -> Result<Found, ProviderError> {
    let values = values(r)?;
    let chart = Scratch::new()?;
    for (path, text) in CHART {
        chart.write(&format!("{CHART_NAME}/{path}"), text)?;
    }
    let install = crate::helm::Install {
        cluster: ref_id(r, "cluster")?,
        namespace: required(&r.attrs, "namespace")?,
        name: required(&r.attrs, "name")?,
        chart: vec![chart.0.join(CHART_NAME).display().to_string()],
        chart_label: format!("{CHART_NAME} {CHART_VERSION}"),
        version: CHART_VERSION.into(),
        values: values.to_string(),
        attrs: &r.attrs,
    };
    upgrade_install(cfg, install, verb).await
}

pub async fn create(cfg: &SdkConfig, req: &CreateRequest) -> Result<Found, ProviderError> {
    install(cfg, &req.resource, "install").await
}

pub async fn update(cfg: &SdkConfig, req: &UpdateRequest) -> Result<Found, ProviderError> {
    let a = &req.resource.attrs;
    // Helm runs unless `timeout` is all that changed. A field set to unset is a change (its key
    // is gone from the program's attributes), and so is an update with no field changed: the
    // planner plans one when a referenced resource was replaced (same reference, new key ARN or
    // bucket), and the values carry what the reference resolves to.
    let computed = ["revision", "status"];
    let changed: Vec<&String> = a
        .keys()
        .chain(req.before.keys())
        .filter(|k| !computed.contains(&k.as_str()) && a.get(*k) != req.before.get(*k))
        .collect();
    if !changed.is_empty() && changed.iter().all(|k| *k == "timeout") {
        return Ok(Found {
            id: req.id.clone(),
            attrs: after_update(a, &req.before),
        });
    }
    let found = install(cfg, &req.resource, "upgrade").await?;
    Ok(Found {
        id: req.id.clone(),
        attrs: after_update(&found.attrs, &req.before),
    })
}
