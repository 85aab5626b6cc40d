//! CloudWatch Synthetics canaries, with the script carbonc writes for them.
//!
//! A canary's script is generated from its typed `check` ([`script`]): one HTTP request, timed,
//! compared with the expected status and latency, its figures published to CloudWatch
//! (`Carbon/Canary`), and an exception when it fails, which is how Synthetics marks a run failed.
//! Header values that are secrets are read from Secrets Manager when the canary runs; only their
//! ARNs are in the script. The script is zipped ([`zip`]) as `python/carbon_check.py` and sent
//! in `CreateCanary` / `UpdateCanary` (`Code.ZipFile`).
//!
//! Synthetics works in the background (the states below are the `CanaryState` of the API; the
//! transitions are those the CloudFormation resource provider for `AWS::Synthetics::Canary`
//! waits through): a create is `CREATING`, then `READY` or `ERROR` with a reason; `StartCanary`
//! goes `STARTING` then `RUNNING`; `StopCanary` `STOPPING` then `STOPPED`; an update is
//! `UPDATING`, then the state before it, with a `StateReason` when it failed. A canary is
//! deleted only when it is neither running nor in a transition, so a delete stops it first.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_synthetics::Client;
use aws_sdk_synthetics::types::{
    Canary, CanaryCodeInput, CanaryRunConfigInput, CanaryScheduleInput,
    ProvisionedResourceCleanupSetting,
};
use aws_smithy_types::Blob;
use carbonc_apply::{
    CreateRequest, DeleteRequest, FindRequest, Found, ProviderError, ReadRequest, Resolved,
    UpdateRequest,
};
use carbonc_state::Val;

use crate::attrs::{
    all_tags, b, found_by_tags, i, map, read_of, ref_arn, ref_id, refuse_taken, required, s,
    tag_changes, user_tags,
};
use crate::error::{classify, found, is_not_found};

/// The module and function Synthetics calls: `python/carbon_check.py`, `handler`.
const HANDLER: &str = "carbon_check.handler";
const SCRIPT_PATH: &str = "python/carbon_check.py";
const WAIT: (Duration, Duration) = (Duration::from_secs(600), Duration::from_secs(5));

/// The Python script of a canary named `name` that runs `check` (the schema's `Check` record);
/// `secret_headers` maps header names to the ARNs of the secrets holding their values.
pub fn script(
    name: &str,
    check: &BTreeMap<String, Val>,
    secret_headers: &BTreeMap<String, String>,
) -> String {
    let text = |k: &str, default: &str| match check.get(k) {
        Some(Val::Str(v)) => v.clone(),
        _ => default.to_string(),
    };
    let int = |k: &str, default: i64| match check.get(k) {
        Some(Val::Int(v)) => *v,
        _ => default,
    };
    let config = serde_json::json!({
        "canary": name,
        "url": text("url", ""),
        "method": text("method", "GET"),
        "expect_status": int("expect_status", 200),
        "latency_ms": int("latency_ms", 2000),
        "timeout_ms": int("timeout_ms", 10000),
        "headers": map(check, "headers"),
        "secret_headers": secret_headers,
    });
    // A JSON string literal is a Python string literal too.
    let literal = serde_json::to_string(&config.to_string()).unwrap_or_default();
    SCRIPT.replace("@CONFIG@", &literal)
}

const SCRIPT: &str = r#"# Written by carbonc from the canary's `check`: change the program and apply, not this file.
import json
import time
import urllib.error
import urllib.request

import boto3

CHECK = json.loads(@CONFIG@)
NAMESPACE = "Carbon/Canary"


def request_headers():
    """The plain headers, and the secret ones read from Secrets Manager (never logged)."""
    headers = dict(CHECK["headers"])
    if CHECK["secret_headers"]:
        secrets = boto3.client("secretsmanager")
        for header, arn in CHECK["secret_headers"].items():
            headers[header] = secrets.get_secret_value(SecretId=arn)["SecretString"]
    return headers


def run_check():
    """One request: its status (0 without an answer), latency and what is wrong with it."""
    request = urllib.request.Request(CHECK["url"], method=CHECK["method"], headers=request_headers())
    started = time.monotonic()
    status, failure = 0, None
    try:
        with urllib.request.urlopen(request, timeout=CHECK["timeout_ms"] / 1000) as answer:
            answer.read()
            status = answer.status
    except urllib.error.HTTPError as answer:
        answer.read()
        status = answer.code
    except Exception as e:  # refused, reset, timed out, name not found
        failure = f"no answer from {CHECK['url']}: {type(e).__name__}: {e}"
    latency_ms = (time.monotonic() - started) * 1000
    problems = [failure] if failure else []
    if not failure and status != CHECK["expect_status"]:
        problems.append(f"{CHECK['url']} answered {status}, expected {CHECK['expect_status']}")
    if not failure and latency_ms > CHECK["latency_ms"]:
        problems.append(f"{CHECK['url']} answered in {latency_ms:.0f} ms, over {CHECK['latency_ms']} ms")
    return {"status": status, "latency_ms": latency_ms, "ok": not problems, "problems": problems}


def publish(result):
    """The run's figures, in the canary's region: Latency, Success and (with an answer) Status."""
    dimensions = [{"Name": "CanaryName", "Value": CHECK["canary"]}]
    data = [
        {"MetricName": "Latency", "Dimensions": dimensions, "Value": result["latency_ms"], "Unit": "Milliseconds"},
        {"MetricName": "Success", "Dimensions": dimensions, "Value": 1 if result["ok"] else 0, "Unit": "Count"},
    ]
    if result["status"]:
        data.append({"MetricName": "Status", "Dimensions": dimensions, "Value": result["status"], "Unit": "None"})
    boto3.client("cloudwatch").put_metric_data(Namespace=NAMESPACE, MetricData=data)


def handler(event, context):
    result = run_check()
    publish(result)
    print(json.dumps(result))
    if not result["ok"]:
        # An exception is how Synthetics learns that the run failed.
        raise Exception("; ".join(result["problems"]))
    return result
"#;

/// A zip archive holding `files` uncompressed (method 0, "stored"), as `CreateCanary` takes it.
pub fn zip(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in files {
        let crc = crc32fast::hash(data);
        let offset = out.len() as u32;
        let header = |sig: u32, central: bool| {
            let mut h = Vec::new();
            h.extend(sig.to_le_bytes());
            if central {
                h.extend(20u16.to_le_bytes()); // made by: version 2.0
            }
            h.extend(20u16.to_le_bytes()); // needed to extract: 2.0
            h.extend(0u16.to_le_bytes()); // flags
            h.extend(0u16.to_le_bytes()); // stored
            h.extend(0u16.to_le_bytes()); // time
            h.extend(0x21u16.to_le_bytes()); // date: 1980-01-01
            h.extend(crc.to_le_bytes());
            h.extend((data.len() as u32).to_le_bytes());
            h.extend((data.len() as u32).to_le_bytes());
            h.extend((name.len() as u16).to_le_bytes());
            h.extend(0u16.to_le_bytes()); // extra field length
            if central {
                h.extend(0u16.to_le_bytes()); // comment length
                h.extend(0u16.to_le_bytes()); // disk number
                h.extend(0u16.to_le_bytes()); // internal attributes
                h.extend((0o100644u32 << 16).to_le_bytes()); // external: a regular file
                h.extend(offset.to_le_bytes());
            }
            h.extend(name.as_bytes());
            h
        };
        out.extend(header(0x0403_4b50, false));
        out.extend(*data);
        central.extend(header(0x0201_4b50, true));
    }
    let start = out.len() as u32;
    let size = central.len() as u32;
    out.extend(central);
    out.extend(0x0605_4b50u32.to_le_bytes());
    out.extend([0u8; 4]); // this disk, disk with the directory
    out.extend((files.len() as u16).to_le_bytes());
    out.extend((files.len() as u16).to_le_bytes());
    out.extend(size.to_le_bytes());
    out.extend(start.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

/// Header name -> secret ARN, for the canary's `secret_headers`.
fn secret_arns(r: &Resolved) -> Result<BTreeMap<String, String>, ProviderError> {
    let Some(Val::Map(m)) = r.attrs.get("secret_headers") else {
        return Ok(BTreeMap::new());
    };
    m.iter()
        .map(|(header, v)| {
            let arn = match v {
                Val::Ref(addr) => r.refs.get(addr).and_then(|t| s(&t.attributes, "arn")),
                _ => None,
            };
            arn.map(|a| (header.clone(), a))
                .ok_or_else(|| ProviderError::Permanent {
                    code: "UnresolvedReference".into(),
                    message: format!(
                        "the secret of header `{header}` of `{}` has no ARN yet",
                        r.address
                    ),
                })
        })
        .collect()
}

fn code(r: &Resolved, name: &str) -> Result<CanaryCodeInput, ProviderError> {
    let check = match r.attrs.get("check") {
        Some(Val::Map(m)) => m.clone(),
        _ => BTreeMap::new(),
    };
    let source = script(name, &check, &secret_arns(r)?);
    let archive = zip(&[(SCRIPT_PATH, source.as_bytes())]);
    Ok(CanaryCodeInput::builder()
        .handler(HANDLER)
        .zip_file(Blob::new(archive))
        .build())
}

fn schedule(r: &Resolved) -> Result<CanaryScheduleInput, ProviderError> {
    CanaryScheduleInput::builder()
        .expression(s(&r.attrs, "schedule").unwrap_or_else(|| "rate(5 minutes)".into()))
        .build()
        .map_err(|e| ProviderError::Permanent {
            code: "InvalidConfiguration".into(),
            message: e.to_string(),
        })
}

fn run_config(r: &Resolved) -> CanaryRunConfigInput {
    CanaryRunConfigInput::builder()
        .set_timeout_in_seconds(i(&r.attrs, "timeout").map(|t| t as i32))
        .build()
}

fn artifact_location(r: &Resolved, name: &str) -> Result<String, ProviderError> {
    Ok(format!(
        "s3://{}/canary/{name}",
        ref_id(r, "artifact_bucket")?
    ))
}

fn days(r: &Resolved, k: &str) -> Option<i32> {
    i(&r.attrs, k).map(|d| d as i32)
}

async fn get(c: &Client, name: &str) -> Result<Option<Canary>, ProviderError> {
    Ok(
        found(c.get_canary().name(name).send().await.map_err(classify))?
            .and_then(|o| o.canary().cloned()),
    )
}

/// The canary's state and reason; `None` once it is gone.
async fn state(c: &Client, name: &str) -> Result<Option<(String, String)>, ProviderError> {
    Ok(get(c, name).await?.and_then(|k| {
        let st = k.status()?;
        Some((
            st.state()?.as_str().to_string(),
            st.state_reason().unwrap_or_default().to_string(),
        ))
    }))
}

/// Waits while the canary is in one of `passing`; returns the state it settles in and its
/// reason (`None`: the canary is gone).
async fn settle(
    c: &Client,
    name: &str,
    passing: &[&str],
) -> Result<Option<(String, String)>, ProviderError> {
    let start = std::time::Instant::now();
    let mut delay = Duration::from_secs(1);
    loop {
        let now = state(c, name).await?;
        match &now {
            Some((st, _)) if passing.contains(&st.as_str()) => {
                if start.elapsed() > WAIT.0 {
                    return Err(ProviderError::Permanent {
                        code: "Timeout".into(),
                        message: format!(
                            "canary {name} is still {st} after {} minutes",
                            WAIT.0.as_secs() / 60
                        ),
                    });
                }
                carbonc_apply::waiting(format!("canary {name} to leave {st}"));
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(WAIT.1);
            }
            _ => return Ok(now),
        }
    }
}

fn tags_of(k: &Canary) -> BTreeMap<String, String> {
    k.tags()
        .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

fn failed(name: &str, doing: &str, reason: &str) -> ProviderError {
    ProviderError::Permanent {
        code: "CanaryFailed".into(),
        message: format!("canary {name}: {doing} failed: {reason}"),
    }
}

/// Starts or stops the canary so that it runs exactly when the program says so.
async fn run_as_configured(c: &Client, name: &str, running: bool) -> Result<(), ProviderError> {
    let Some((now, _)) = settle(c, name, &["CREATING", "UPDATING", "STARTING", "STOPPING"]).await?
    else {
        return Ok(());
    };
    match (running, now.as_str()) {
        (true, "READY" | "STOPPED") => {
            c.start_canary().name(name).send().await.map_err(classify)?;
            if let Some((st, why)) = settle(c, name, &["STARTING"]).await?
                && st != "RUNNING"
            {
                return Err(failed(name, "starting", &format!("{st}: {why}")));
            }
        }
        (false, "RUNNING") => {
            c.stop_canary().name(name).send().await.map_err(classify)?;
            settle(c, name, &["STOPPING"]).await?;
        }
        _ => {}
    }
    Ok(())
}

/// The ARN of a canary, "arn:aws:synthetics:REGION:ACCOUNT:canary:NAME"; the account is the
/// execution role's (a canary's role is in its own account).
fn arn_of(region: &str, role_arn: &str, name: &str) -> String {
    let account = role_arn.split(':').nth(4).unwrap_or_default();
    format!("arn:aws:synthetics:{region}:{account}:canary:{name}")
}

fn computed(attrs: &BTreeMap<String, Val>, arn: String, id: Option<&str>) -> BTreeMap<String, Val> {
    let mut out = attrs.clone();
    out.insert("arn".into(), Val::Str(arn));
    if let Some(id) = id {
        out.insert("id".into(), Val::Str(id.to_string()));
    }
    out
}

pub async fn create(cfg: &SdkConfig, req: &CreateRequest) -> Result<Found, ProviderError> {
    let c = Client::new(cfg);
    let r = &req.resource;
    let name = required(&r.attrs, "name")?;
    let region = r.region.clone().unwrap_or_default();
    let role = ref_arn(r, "role")?;
    if let Some(have) = get(&c, &name).await? {
        // A crashed create of ours carries this address's tags; anything else is someone else's.
        refuse_taken(req, "a canary", &name, &tags_of(&have))?;
    } else {
        c.create_canary()
            .name(&name)
            .code(code(r, &name)?)
            .artifact_s3_location(artifact_location(r, &name)?)
            .execution_role_arn(&role)
            .schedule(schedule(r)?)
            .run_config(run_config(r))
            .set_success_retention_period_in_days(days(r, "success_retention_days"))
            .set_failure_retention_period_in_days(days(r, "failure_retention_days"))
            .runtime_version(s(&r.attrs, "runtime").unwrap_or_default())
            .provisioned_resource_cleanup(ProvisionedResourceCleanupSetting::Automatic)
            .set_tags(Some(all_tags(req).into_iter().collect()))
            .send()
            .await
            .map_err(classify)?;
    }
    match settle(&c, &name, &["CREATING"]).await? {
        Some((st, why)) if st == "ERROR" => return Err(failed(&name, "creating", &why)),
        None => {
            return Err(ProviderError::Permanent {
                code: "NotFound".into(),
                message: format!("canary {name} disappeared while it was being created"),
            });
        }
        _ => {}
    }
    run_as_configured(&c, &name, b(&r.attrs, "running") != Some(false)).await?;
    let id = get(&c, &name)
        .await?
        .and_then(|k| k.id().map(str::to_string));
    Ok(Found {
        id: name.clone(),
        attrs: computed(&r.attrs, arn_of(&region, &role, &name), id.as_deref()),
    })
}

pub async fn read(cfg: &SdkConfig, req: &ReadRequest) -> Result<Option<Found>, ProviderError> {
    let c = Client::new(cfg);
    let Some(k) = get(&c, &req.id).await? else {
        return Ok(None);
    };
    let mut attrs = req.attrs.clone();
    let mut put = |key: &str, v: Option<Val>| {
        if let Some(v) = v {
            attrs.insert(key.to_string(), v);
        }
    };
    put(
        "schedule",
        k.schedule()
            .and_then(|s| s.expression())
            .map(|e| Val::Str(e.to_string())),
    );
    put(
        "runtime",
        k.runtime_version().map(|v| Val::Str(v.to_string())),
    );
    put(
        "timeout",
        k.run_config()
            .and_then(|rc| rc.timeout_in_seconds())
            .map(|t| Val::Int(t.into())),
    );
    put(
        "success_retention_days",
        k.success_retention_period_in_days()
            .map(|d| Val::Int(d.into())),
    );
    put(
        "failure_retention_days",
        k.failure_retention_period_in_days()
            .map(|d| Val::Int(d.into())),
    );
    let state = k.status().and_then(|st| st.state()).map(|s| s.as_str());
    put(
        "running",
        Some(Val::Bool(matches!(state, Some("RUNNING" | "STARTING")))),
    );
    let tags = k.tags().cloned().unwrap_or_default();
    put(
        "tags",
        Some(user_tags(
            tags.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        )),
    );
    put("name", k.name().map(|n| Val::Str(n.to_string())));
    put("id", k.id().map(|n| Val::Str(n.to_string())));
    put(
        "arn",
        k.execution_role_arn().map(|role| {
            Val::Str(arn_of(
                req.region.as_deref().unwrap_or_default(),
                role,
                &req.id,
            ))
        }),
    );
    // The script cannot be read back (Synthetics keeps it in a Lambda layer): `check` stays as
    // recorded. The artifact bucket and role are references, kept while AWS names the same ones.
    Ok(Some(Found {
        id: req.id.clone(),
        attrs,
    }))
}

pub async fn update(cfg: &SdkConfig, req: &UpdateRequest) -> Result<Found, ProviderError> {
    let c = Client::new(cfg);
    let r = &req.resource;
    let name = req.id.clone();
    let region = r.region.clone().unwrap_or_default();
    let role = ref_arn(r, "role")?;
    let changed = |k: &str| req.before.get(k) != r.attrs.get(k);
    let configured = [
        "check",
        "secret_headers",
        "schedule",
        "runtime",
        "artifact_bucket",
        "role",
        "timeout",
        "success_retention_days",
        "failure_retention_days",
    ];
    if configured.iter().any(|k| changed(k)) {
        // An update is refused while the canary is being created, updated, started or stopped.
        settle(&c, &name, &["CREATING", "UPDATING", "STARTING", "STOPPING"]).await?;
        let mut call = c
            .update_canary()
            .name(&name)
            .execution_role_arn(&role)
            .schedule(schedule(r)?)
            .run_config(run_config(r))
            .artifact_s3_location(artifact_location(r, &name)?)
            .set_success_retention_period_in_days(days(r, "success_retention_days"))
            .set_failure_retention_period_in_days(days(r, "failure_retention_days"))
            .runtime_version(s(&r.attrs, "runtime").unwrap_or_default());
        if changed("check") || changed("secret_headers") || changed("runtime") {
            call = call.code(code(r, &name)?);
        }
        call.send().await.map_err(classify)?;
        // A failed update puts the canary back in its former state, with the reason.
        if let Some((_, why)) = settle(&c, &name, &["UPDATING"]).await?
            && !why.is_empty()
        {
            return Err(failed(&name, "updating", &why));
        }
    }
    let arn = arn_of(&region, &role, &name);
    let (put, gone) = tag_changes(&map(&req.before, "tags"), &map(&r.attrs, "tags"));
    if !put.is_empty() {
        c.tag_resource()
            .resource_arn(&arn)
            .set_tags(Some(put.into_iter().collect()))
            .send()
            .await
            .map_err(classify)?;
    }
    if !gone.is_empty() {
        c.untag_resource()
            .resource_arn(&arn)
            .set_tag_keys(Some(gone))
            .send()
            .await
            .map_err(classify)?;
    }
    run_as_configured(&c, &name, b(&r.attrs, "running") != Some(false)).await?;
    let id = s(&req.before, "id");
    Ok(Found {
        id: name,
        attrs: computed(&r.attrs, arn, id.as_deref()),
    })
}

pub async fn delete(cfg: &SdkConfig, req: &DeleteRequest) -> Result<(), ProviderError> {
    let c = Client::new(cfg);
    let name = &req.id;
    // Synthetics refuses to delete a canary that runs or is between states: stop it first.
    run_as_configured(&c, name, false).await?;
    match c
        .delete_canary()
        .name(name)
        .delete_lambda(true)
        .send()
        .await
        .map_err(classify)
    {
        Ok(_) => {}
        Err(e) if is_not_found(&e) => return Ok(()),
        Err(e) => return Err(e),
    }
    crate::poll::until_available(&format!("canary {name}"), true, &[], WAIT, || async {
        Ok(state(&c, name).await?.map(|(st, _)| st))
    })
    .await
}

/// The canary an interrupted create made: the program's name, with this address's tags.
pub async fn find(cfg: &SdkConfig, req: &FindRequest) -> Result<Option<Found>, ProviderError> {
    let c = Client::new(cfg);
    let Some(name) = s(&req.attrs, "name") else {
        return Ok(None);
    };
    if req.exclude.contains(&name) {
        return Ok(None);
    }
    let Some(k) = get(&c, &name).await? else {
        return Ok(None);
    };
    if !found_by_tags(&tags_of(&k), req) {
        return Ok(None);
    }
    read(cfg, &read_of(req, name)).await
}
