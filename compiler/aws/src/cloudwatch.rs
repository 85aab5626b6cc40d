//! CloudWatch metric and composite alarms. An alarm is known by its name, unique in its account
//! and region: `PutMetricAlarm` and `PutCompositeAlarm` create it or replace it whole, so a create
//! first makes sure that no one else's alarm has the name (AWS would overwrite it without a
//! word), and tags change through `TagResource` (the put ignores tags on an existing alarm).

use std::collections::BTreeMap;

use aws_config::SdkConfig;
use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::types::{AlarmType, ComparisonOperator, Dimension, Statistic, Tag};
use carbonc_apply::{
    CreateRequest, DeleteRequest, FindRequest, Found, ProviderError, ReadRequest, UpdateRequest,
};
use carbonc_state::Val;

use crate::attrs::{
    b, found_by_tags, i, map, put, put_if_set, read_of, refuse_taken, required, s, tag_changes,
    text, user_tags,
};
use crate::error::classify;

const METRIC: &str = "aws.cloudwatch.MetricAlarm";

/// The ARNs of the resources (topics, alarms) a list of references points to, in order.
fn arns_of(r: &carbonc_apply::Resolved, field: &str) -> Result<Vec<String>, ProviderError> {
    let Some(Val::List(items)) = r.attrs.get(field) else {
        return Ok(Vec::new());
    };
    items
        .iter()
        .map(|v| match v {
            Val::Ref(addr) => r
                .refs
                .get(addr)
                .and_then(|t| s(&t.attributes, "arn"))
                .ok_or_else(|| ProviderError::Permanent {
                    code: "UnresolvedReference".into(),
                    message: format!(
                        "`{field}` of `{}` names `{addr}`, which has no ARN yet",
                        r.address
                    ),
                }),
            Val::Str(arn) => Ok(arn.clone()),
            other => Err(ProviderError::Permanent {
                code: "InvalidConfiguration".into(),
                message: format!(
                    "`{field}` of `{}` holds {other:?}, not a reference",
                    r.address
                ),
            }),
        })
        .collect()
}

/// The metric record of an alarm: namespace, name and dimensions.
fn metric(
    attrs: &BTreeMap<String, Val>,
) -> Result<(String, String, BTreeMap<String, String>), ProviderError> {
    let Some(Val::Map(m)) = attrs.get("metric") else {
        return Err(ProviderError::Permanent {
            code: "InvalidConfiguration".into(),
            message: "`metric` has no value".into(),
        });
    };
    Ok((
        required(m, "namespace")?,
        required(m, "name")?,
        map(m, "dimensions"),
    ))
}

fn tags(pairs: &BTreeMap<String, String>) -> Vec<Tag> {
    pairs
        .iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// The alarm of this name in the client's region, if any: `(arn, metric alarm?)`.
async fn existing(c: &Client, name: &str) -> Result<Option<String>, ProviderError> {
    let out = c
        .describe_alarms()
        .alarm_names(name)
        .alarm_types(AlarmType::MetricAlarm)
        .alarm_types(AlarmType::CompositeAlarm)
        .send()
        .await
        .map_err(classify)?;
    Ok(out
        .metric_alarms()
        .iter()
        .filter_map(|a| a.alarm_arn())
        .chain(out.composite_alarms().iter().filter_map(|a| a.alarm_arn()))
        .next()
        .map(str::to_string))
}

/// A list of references as AWS reports it (ARNs): the recorded references while AWS lists as
/// many, else the ARNs themselves, so that an action added or removed outside carbonc shows as
/// drift (a read cannot turn an ARN back into an address).
fn reported_refs(attrs: &mut BTreeMap<String, Val>, field: &str, arns: &[String]) {
    let same = matches!(attrs.get(field), Some(Val::List(l))
        if l.len() == arns.len() && l.iter().all(|v| matches!(v, Val::Ref(_))));
    if !same {
        attrs.insert(
            field.into(),
            Val::List(arns.iter().map(|a| Val::Str(a.clone())).collect()),
        );
    }
}

/// What AWS reports of either kind of alarm.
struct Reported<'a> {
    name: Option<&'a str>,
    description: Option<&'a str>,
    actions_enabled: Option<bool>,
    /// Alarm, OK and insufficient-data actions.
    actions: [&'a [String]; 3],
}

/// Records what both kinds of alarm report: name, description, whether actions run, and the
/// three action lists.
fn reported_alarm(attrs: &mut BTreeMap<String, Val>, r: Reported<'_>) {
    put(attrs, "name", text(r.name));
    attrs.insert(
        "description".into(),
        Val::Str(r.description.unwrap_or_default().to_string()),
    );
    put(attrs, "actions_enabled", r.actions_enabled.map(Val::Bool));
    for (field, arns) in ["alarm_actions", "ok_actions", "insufficient_data_actions"]
        .into_iter()
        .zip(r.actions)
    {
        reported_refs(attrs, field, arns);
    }
}

async fn tag_map(c: &Client, arn: &str) -> Result<BTreeMap<String, String>, ProviderError> {
    let out = c
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(classify)?;
    Ok(out
        .tags()
        .iter()
        .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
        .collect())
}

/// Refuses a create over an alarm of the same name that is not this address's: `Put*Alarm` would
/// replace it.
async fn claim(c: &Client, req: &CreateRequest, name: &str) -> Result<(), ProviderError> {
    match existing(c, name).await? {
        Some(arn) => refuse_taken(req, "an alarm", name, &tag_map(c, &arn).await?),
        None => Ok(()),
    }
}

/// Sends `PutMetricAlarm` or `PutCompositeAlarm` with the resource's attributes (and, on create,
/// its tags).
async fn put_alarm(
    c: &Client,
    r: &carbonc_apply::Resolved,
    tags_on_create: Option<Vec<Tag>>,
) -> Result<(), ProviderError> {
    let a = &r.attrs;
    let name = required(a, "name")?;
    let description = s(a, "description").unwrap_or_default();
    let actions_enabled = b(a, "actions_enabled").unwrap_or(true);
    let (alarm, ok, insufficient) = (
        arns_of(r, "alarm_actions")?,
        arns_of(r, "ok_actions")?,
        arns_of(r, "insufficient_data_actions")?,
    );
    if r.ty == METRIC {
        let (namespace, metric_name, dimensions) = metric(a)?;
        c.put_metric_alarm()
            .alarm_name(&name)
            .alarm_description(description)
            .namespace(namespace)
            .metric_name(metric_name)
            .set_dimensions(Some(
                dimensions
                    .iter()
                    .map(|(k, v)| Dimension::builder().name(k).value(v).build())
                    .collect(),
            ))
            .statistic(Statistic::from(
                s(a, "statistic").unwrap_or("Average".into()).as_str(),
            ))
            .period(i(a, "period").unwrap_or(60) as i32)
            .evaluation_periods(i(a, "evaluation_periods").unwrap_or(1) as i32)
            .set_datapoints_to_alarm(i(a, "datapoints_to_alarm").map(|d| d as i32))
            .threshold(i(a, "threshold").unwrap_or(0) as f64)
            .comparison_operator(ComparisonOperator::from(
                required(a, "comparison")?.as_str(),
            ))
            .treat_missing_data(s(a, "treat_missing_data").unwrap_or("missing".into()))
            .actions_enabled(actions_enabled)
            .set_alarm_actions(Some(alarm))
            .set_ok_actions(Some(ok))
            .set_insufficient_data_actions(Some(insufficient))
            .set_tags(tags_on_create)
            .send()
            .await
            .map_err(classify)?;
    } else {
        let join = if s(a, "combine").as_deref() == Some("all") {
            " AND "
        } else {
            " OR "
        };
        let rule = arns_of(r, "alarms")?
            .iter()
            .map(|arn| format!("ALARM(\"{arn}\")"))
            .collect::<Vec<_>>()
            .join(join);
        c.put_composite_alarm()
            .alarm_name(&name)
            .alarm_description(description)
            .alarm_rule(rule)
            .actions_enabled(actions_enabled)
            .set_alarm_actions(Some(alarm))
            .set_ok_actions(Some(ok))
            .set_insufficient_data_actions(Some(insufficient))
            .set_tags(tags_on_create)
            .send()
            .await
            .map_err(classify)?;
    }
    Ok(())
}

pub async fn create(cfg: &SdkConfig, req: &CreateRequest) -> Result<Found, ProviderError> {
    let c = Client::new(cfg);
    let r = &req.resource;
    let name = required(&r.attrs, "name")?;
    claim(&c, req, &name).await?;
    put_alarm(&c, r, Some(tags(&crate::attrs::all_tags(req)))).await?;
    let arn = existing(&c, &name)
        .await?
        .ok_or_else(|| ProviderError::Retryable {
            code: "NotYetVisible".into(),
            message: format!("alarm `{name}` was put but is not listed yet"),
        })?;
    let mut attrs = r.attrs.clone();
    attrs.insert("arn".into(), Val::Str(arn));
    Ok(Found { id: name, attrs })
}

pub async fn read(cfg: &SdkConfig, req: &ReadRequest) -> Result<Option<Found>, ProviderError> {
    let c = Client::new(cfg);
    let out = c
        .describe_alarms()
        .alarm_names(&req.id)
        .alarm_types(if req.ty == METRIC {
            AlarmType::MetricAlarm
        } else {
            AlarmType::CompositeAlarm
        })
        .send()
        .await
        .map_err(classify)?;
    let mut attrs = req.attrs.clone();
    let arn = if let Some(m) = out.metric_alarms().first() {
        // The metric as the program wrote it, with what AWS reports; `region` is carbon's own.
        let mut metric = match attrs.get("metric") {
            Some(Val::Map(m)) => m.clone(),
            _ => BTreeMap::new(),
        };
        put(&mut metric, "namespace", text(m.namespace()));
        put(&mut metric, "name", text(m.metric_name()));
        metric.insert(
            "dimensions".into(),
            Val::Map(
                m.dimensions()
                    .iter()
                    .filter_map(|d| Some((d.name()?.to_string(), Val::Str(d.value()?.to_string()))))
                    .collect(),
            ),
        );
        attrs.insert("metric".into(), Val::Map(metric));
        put(
            &mut attrs,
            "statistic",
            text(m.statistic().map(|x| x.as_str())),
        );
        put(
            &mut attrs,
            "period",
            m.period().map(|p| Val::Int(i64::from(p))),
        );
        put(
            &mut attrs,
            "evaluation_periods",
            m.evaluation_periods().map(|p| Val::Int(i64::from(p))),
        );
        put_if_set(
            &mut attrs,
            "datapoints_to_alarm",
            m.datapoints_to_alarm().map(|p| Val::Int(i64::from(p))),
        );
        put(
            &mut attrs,
            "threshold",
            m.threshold().map(|t| Val::Int(t.round() as i64)),
        );
        put(
            &mut attrs,
            "comparison",
            text(m.comparison_operator().map(|x| x.as_str())),
        );
        put(
            &mut attrs,
            "treat_missing_data",
            text(m.treat_missing_data()),
        );
        reported_alarm(
            &mut attrs,
            Reported {
                name: m.alarm_name(),
                description: m.alarm_description(),
                actions_enabled: m.actions_enabled(),
                actions: [
                    m.alarm_actions(),
                    m.ok_actions(),
                    m.insufficient_data_actions(),
                ],
            },
        );
        m.alarm_arn().map(str::to_string)
    } else if let Some(m) = out.composite_alarms().first() {
        let combine = match m.alarm_rule() {
            Some(rule) if rule.contains(" AND ") => "all",
            _ => "any",
        };
        attrs.insert("combine".into(), Val::Str(combine.into()));
        reported_alarm(
            &mut attrs,
            Reported {
                name: m.alarm_name(),
                description: m.alarm_description(),
                actions_enabled: m.actions_enabled(),
                actions: [
                    m.alarm_actions(),
                    m.ok_actions(),
                    m.insufficient_data_actions(),
                ],
            },
        );
        let watched: Vec<String> = m
            .alarm_rule()
            .unwrap_or_default()
            .split("ALARM(\"")
            .skip(1)
            .filter_map(|t| t.split('"').next().map(str::to_string))
            .collect();
        reported_refs(&mut attrs, "alarms", &watched);
        m.alarm_arn().map(str::to_string)
    } else {
        return Ok(None);
    };
    if let Some(arn) = arn {
        let tags = tag_map(&c, &arn).await?;
        attrs.insert(
            "tags".into(),
            user_tags(tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
        );
        attrs.insert("arn".into(), Val::Str(arn));
    }
    Ok(Some(Found {
        id: req.id.clone(),
        attrs,
    }))
}

pub async fn update(cfg: &SdkConfig, req: &UpdateRequest) -> Result<Found, ProviderError> {
    let c = Client::new(cfg);
    let r = &req.resource;
    put_alarm(&c, r, None).await?;
    let arn = s(&req.before, "arn")
        .or(existing(&c, &req.id).await?)
        .unwrap_or_default();
    let (set, gone) = tag_changes(&map(&req.before, "tags"), &map(&r.attrs, "tags"));
    if !set.is_empty() {
        c.tag_resource()
            .resource_arn(&arn)
            .set_tags(Some(tags(&set)))
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
    let mut attrs = r.attrs.clone();
    attrs.insert("arn".into(), Val::Str(arn));
    Ok(Found {
        id: req.id.clone(),
        attrs,
    })
}

pub async fn delete(cfg: &SdkConfig, req: &DeleteRequest) -> Result<(), ProviderError> {
    let c = Client::new(cfg);
    // DeleteAlarms answers success for a name that does not exist: nothing to tell apart.
    c.delete_alarms()
        .alarm_names(&req.id)
        .send()
        .await
        .map_err(classify)?;
    Ok(())
}

/// The alarm an interrupted create made: the name is the program's, and the tags say whose.
pub async fn find(cfg: &SdkConfig, req: &FindRequest) -> Result<Option<Found>, ProviderError> {
    let c = Client::new(cfg);
    let Some(name) = s(&req.attrs, "name") else {
        return Ok(None);
    };
    let Some(arn) = existing(&c, &name).await? else {
        return Ok(None);
    };
    if req.exclude.contains(&name) {
        return Ok(None);
    }
    if !found_by_tags(&tag_map(&c, &arn).await?, req) {
        return Ok(None);
    }
    read(cfg, &read_of(req, name)).await
}

// ---- dashboards ---------------------------------------------------------------------------------

/// The dashboard body CloudWatch takes (`DashboardBody`), from the typed widgets: a text widget
/// for `markdown`, an alarm-status widget for `alarms` (their ARNs), otherwise a metric widget
/// drawing each metric from the region it is published in. Without `x` and `y`, CloudWatch lays
/// the widgets out in order.
fn dashboard_body(
    widgets: &Val,
    arn_of: &dyn Fn(&str) -> Option<String>,
    home: &str,
) -> Result<serde_json::Value, ProviderError> {
    use serde_json::json;
    let Val::List(widgets) = widgets else {
        return Ok(json!({ "widgets": [] }));
    };
    let mut out = Vec::new();
    for w in widgets {
        let Val::Map(w) = w else { continue };
        let size = |k: &str, d: i64| i(w, k).unwrap_or(d);
        let title = s(w, "title").unwrap_or_default();
        let (width, height) = (size("width", 12), size("height", 6));
        let alarms = match w.get("alarms") {
            Some(Val::List(l)) => l.clone(),
            _ => Vec::new(),
        };
        if let Some(markdown) = s(w, "markdown") {
            out.push(json!({ "type": "text", "width": width, "height": height,
                "properties": { "markdown": markdown } }));
        } else if !alarms.is_empty() {
            let arns = alarms
                .iter()
                .map(|a| match a {
                    Val::Ref(addr) => arn_of(addr).ok_or_else(|| ProviderError::Permanent {
                        code: "UnresolvedReference".into(),
                        message: format!("a widget shows alarm `{addr}`, which has no ARN yet"),
                    }),
                    Val::Str(arn) => Ok(arn.clone()),
                    other => Err(ProviderError::Permanent {
                        code: "InvalidConfiguration".into(),
                        message: format!("a widget's alarms hold {other:?}"),
                    }),
                })
                .collect::<Result<Vec<_>, _>>()?;
            out.push(json!({ "type": "alarm", "width": width, "height": height,
                "properties": { "title": title, "alarms": arns } }));
        } else {
            let metrics = match w.get("metrics") {
                Some(Val::List(l)) => l.clone(),
                _ => Vec::new(),
            };
            let mut lines = Vec::new();
            let mut region = None;
            for m in &metrics {
                let Val::Map(m) = m else { continue };
                let mut line = vec![
                    json!(s(m, "namespace").unwrap_or_default()),
                    json!(s(m, "name").unwrap_or_default()),
                ];
                for (k, v) in map(m, "dimensions") {
                    line.push(json!(k));
                    line.push(json!(v));
                }
                let r = s(m, "region").unwrap_or_else(|| home.to_string());
                line.push(json!({ "region": r }));
                region.get_or_insert(r);
                lines.push(serde_json::Value::Array(line));
            }
            out.push(json!({ "type": "metric", "width": width, "height": height,
                "properties": {
                    "title": title,
                    "region": region.unwrap_or_else(|| home.to_string()),
                    "stat": s(w, "stat").unwrap_or("Average".into()),
                    "period": i(w, "period").unwrap_or(300),
                    "view": s(w, "view").unwrap_or("timeSeries".into()),
                    "metrics": lines,
                } }));
        }
    }
    Ok(json!({ "widgets": out }))
}

/// A body with each alarm widget's ARNs replaced by their count: what a read can compare
/// without the alarms' ARNs (a read has only the recorded references).
fn without_alarm_arns(mut body: serde_json::Value) -> serde_json::Value {
    if let Some(ws) = body.get_mut("widgets").and_then(|w| w.as_array_mut()) {
        for w in ws {
            if let Some(a) = w.pointer_mut("/properties/alarms") {
                let n = a.as_array().map_or(0, Vec::len);
                *a = serde_json::json!(n);
            }
        }
    }
    body
}

fn home(region: Option<&str>) -> String {
    region.unwrap_or("us-east-1").to_string()
}

/// The body of the dashboard `r` declares.
fn body_of(r: &carbonc_apply::Resolved) -> Result<serde_json::Value, ProviderError> {
    let arn_of = |addr: &str| r.refs.get(addr).and_then(|t| s(&t.attributes, "arn"));
    dashboard_body(
        r.attrs.get("widgets").unwrap_or(&Val::Null),
        &arn_of,
        &home(r.region.as_deref()),
    )
}

async fn put_dashboard(
    c: &Client,
    r: &carbonc_apply::Resolved,
    body: &serde_json::Value,
) -> Result<(), ProviderError> {
    c.put_dashboard()
        .dashboard_name(required(&r.attrs, "name")?)
        .dashboard_body(body.to_string())
        .send()
        .await
        .map_err(classify)?;
    Ok(())
}

/// The body of the dashboard of this name, if there is one.
async fn dashboard(c: &Client, name: &str) -> Result<Option<(String, String)>, ProviderError> {
    match c
        .get_dashboard()
        .dashboard_name(name)
        .send()
        .await
        .map_err(classify)
    {
        Ok(o) => Ok(Some((
            o.dashboard_arn().unwrap_or_default().to_string(),
            o.dashboard_body().unwrap_or_default().to_string(),
        ))),
        Err(e) if crate::error::is_not_found(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

pub async fn create_dashboard(
    cfg: &SdkConfig,
    req: &CreateRequest,
) -> Result<Found, ProviderError> {
    let c = Client::new(cfg);
    let r = &req.resource;
    let name = required(&r.attrs, "name")?;
    // Dashboards take no tags: a dashboard of this name is this one only if it already holds
    // what this create writes (an interrupted create made again); anyone else's would be
    // overwritten by `PutDashboard`.
    let ours = body_of(r)?;
    if let Some((_, body)) = dashboard(&c, &name).await?
        && serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .as_ref()
            != Some(&ours)
    {
        return Err(ProviderError::Permanent {
            code: "AlreadyExists".into(),
            message: format!(
                "a dashboard named `{name}` already exists and carbonc did not create it \
                 (choose another name, or `carbonc import` it)"
            ),
        });
    }
    put_dashboard(&c, r, &ours).await?;
    let (arn, _) = dashboard(&c, &name)
        .await?
        .ok_or_else(|| ProviderError::Retryable {
            code: "NotYetVisible".into(),
            message: format!("dashboard `{name}` was put but is not there yet"),
        })?;
    let mut attrs = r.attrs.clone();
    attrs.insert("arn".into(), Val::Str(arn));
    Ok(Found { id: name, attrs })
}

pub async fn read_dashboard(
    cfg: &SdkConfig,
    req: &ReadRequest,
) -> Result<Option<Found>, ProviderError> {
    let c = Client::new(cfg);
    let Some((arn, body)) = dashboard(&c, &req.id).await? else {
        return Ok(None);
    };
    let mut attrs = req.attrs.clone();
    let theirs = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .map(without_alarm_arns);
    let ours = dashboard_body(
        attrs.get("widgets").unwrap_or(&Val::Null),
        &|_| Some(String::new()),
        &home(req.region.as_deref()),
    )
    .ok()
    .map(without_alarm_arns);
    // The recorded widgets while AWS holds the body they make; otherwise the body itself, so a
    // change made in the console shows as drift.
    if theirs.is_none() || theirs != ours {
        attrs.insert("widgets".into(), Val::Str(body));
    }
    attrs.insert("name".into(), Val::Str(req.id.clone()));
    attrs.insert("arn".into(), Val::Str(arn));
    Ok(Some(Found {
        id: req.id.clone(),
        attrs,
    }))
}

pub async fn update_dashboard(
    cfg: &SdkConfig,
    req: &UpdateRequest,
) -> Result<Found, ProviderError> {
    let c = Client::new(cfg);
    put_dashboard(&c, &req.resource, &body_of(&req.resource)?).await?;
    let mut attrs = req.resource.attrs.clone();
    if let Some(arn) = req.before.get("arn") {
        attrs.insert("arn".into(), arn.clone());
    }
    Ok(Found {
        id: req.id.clone(),
        attrs,
    })
}

pub async fn delete_dashboard(cfg: &SdkConfig, req: &DeleteRequest) -> Result<(), ProviderError> {
    let c = Client::new(cfg);
    match c
        .delete_dashboards()
        .dashboard_names(&req.id)
        .send()
        .await
        .map_err(classify)
    {
        Ok(_) => Ok(()),
        Err(e) if crate::error::is_not_found(&e) => Ok(()),
        Err(e) => Err(e),
    }
}
