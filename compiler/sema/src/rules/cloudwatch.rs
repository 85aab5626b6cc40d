//! CloudWatch alarm rules: an alarm sees only the metrics of its own region (E1201) and metrics
//! that are published (E1202); dashboards CloudWatch takes (E1203); canaries on a runtime that
//! can load carbonc's script (E1204); and what an alarm watches, for the policies and
//! `carbonc simulate`.

use carbonc_diagnostics::Diagnostic;

use super::{fix_or_help, label, name_label, set_field};
use crate::eval::{Instance, Program};
use crate::value::{Origin, Value};

/// Route 53's latency metrics, published only for a health check that measures latency.
const LATENCY: &[&str] = &["ConnectionTime", "TimeToFirstByte", "SSLHandshakeTime"];

/// The runtimes carbonc's canary script is written for (Python, with Selenium's runtime).
const CANARY_RUNTIME: &str = "syn-python-selenium-";

pub(crate) fn check(p: &Program, out: &mut Vec<Diagnostic>) {
    dashboards(p, out);
    for canary in p.of_type("aws.synthetics.Canary") {
        let Some(Value::Str(runtime)) = canary.get("runtime").map(Value::reveal) else {
            continue;
        };
        if runtime.starts_with(CANARY_RUNTIME) {
            continue;
        }
        let d = Diagnostic::error(
            "E1204",
            format!("canary `{}` runs on `{runtime}`, which cannot load its script", canary.address),
            label(canary, "runtime", "not a Python runtime"),
        )
        .with_note("carbonc writes a canary's script in Python from its `check`: on this runtime Synthetics cannot load it, and every run fails");
        let help = "use a `syn-python-selenium-*` runtime, such as `syn-python-selenium-7.0`";
        let fix = set_field(
            p,
            canary,
            "runtime",
            &Value::Str("syn-python-selenium-7.0".into()),
            help,
            false,
        );
        out.push(fix_or_help(d, fix, help));
    }
    for alarm in p.of_type("aws.cloudwatch.MetricAlarm") {
        if let Some(w) = watched(p, alarm)
            && let Some(hc) = w.source
            && hc.ty == "aws.route53.HealthCheck"
            && LATENCY.contains(&w.name.as_str())
            && hc.get("measure_latency").and_then(Value::as_bool) != Some(true)
        {
            let d = Diagnostic::error(
                "E1202",
                format!("alarm `{}` watches a latency metric that is never published", alarm.address),
                label(
                    alarm,
                    "metric",
                    format!("`{}` of `{}`, which does not measure latency", w.name, hc.address),
                ),
            )
            .with_label(name_label(hc, "this health check has `measure_latency = false`"))
            .with_note("Route 53 publishes ConnectionTime, TimeToFirstByte and SSLHandshakeTime only for health checks created with MeasureLatency; without data the alarm never fires");
            let help = format!(
                "set `measure_latency = true` on `{}` (it replaces the health check)",
                hc.address
            );
            let fix = set_field(
                p,
                hc,
                "measure_latency",
                &Value::Bool(true),
                help.clone(),
                true,
            );
            out.push(fix_or_help(d, fix, help));
        }
        let Some(Value::Record(metric)) = alarm.get("metric").map(Value::reveal) else {
            continue;
        };
        let Some(Value::Str(lives)) = metric.get("region") else {
            continue;
        };
        let here = p.region_code(alarm.region);
        if lives == here || alarm.region.is_none() {
            continue;
        }
        let name = match (metric.get("namespace"), metric.get("name")) {
            (Some(Value::Str(ns)), Some(Value::Str(n))) => format!("`{n}` ({ns})"),
            _ => "the metric".to_string(),
        };
        let to = p.regions.iter().find(|r| &r.code == lives).map_or_else(
            || format!("declare a region with `code = \"{lives}\"` and place the alarm there"),
            |r| {
                if alarm.uses.is_empty() {
                    format!(
                        "place the alarm in `{}` ({lives}), where the metric is",
                        r.name
                    )
                } else {
                    format!(
                        "make the alarm in `{}` ({lives}), where the metric is: place the \
                             `use` there, or pass it a metric of its own region",
                        r.name
                    )
                }
            },
        );
        out.push(
            Diagnostic::error(
                "E1201",
                format!(
                    "alarm `{}` watches a metric published in {lives}",
                    alarm.address
                ),
                label(alarm, "metric", format!("{name} is published in {lives}")),
            )
            .with_label(name_label(alarm, format!("the alarm is in {here}")))
            .with_note(
                "a CloudWatch alarm sees only the metrics of its own region: this one would stay \
                 without data and never fire (Route 53 and CloudFront publish their metrics in \
                 us-east-1 only)",
            )
            .with_help(to),
        );
    }
}

/// E1203: a dashboard's widgets, checked as CloudWatch checks the body it is sent as (PutDashboard;
/// "Dashboard Body Structure and Syntax"), so that a bad one is found before apply.
fn dashboards(p: &Program, out: &mut Vec<Diagnostic>) {
    for d in p.of_type("aws.cloudwatch.Dashboard") {
        let Some(Value::List(widgets)) = d.get("widgets").map(Value::reveal) else {
            continue;
        };
        let mut problems = Vec::new();
        if widgets.len() > 500 {
            problems.push(format!(
                "{} widgets: a dashboard holds at most 500",
                widgets.len()
            ));
        }
        for (n, w) in widgets.iter().enumerate() {
            let Value::Record(w) = w else { continue };
            let len = |k: &str| match w.get(k) {
                Some(Value::List(l)) => l.len(),
                _ => 0,
            };
            let int = |k: &str| match w.get(k) {
                Some(Value::Int(i)) => Some(*i),
                _ => None,
            };
            let text = matches!(w.get("markdown"), Some(Value::Str(_)));
            let kinds = usize::from(text)
                + usize::from(len("alarms") > 0)
                + usize::from(len("metrics") > 0);
            let which = format!("widget {}", n + 1);
            if kinds != 1 {
                problems.push(format!(
                    "{which} has {} of `metrics`, `markdown` and `alarms`: a widget is exactly one of a graph, a text or alarm states",
                    if kinds == 0 { "none" } else { "several" }
                ));
            }
            if let Some(v) = int("width").filter(|v| !(1..=24).contains(v)) {
                problems.push(format!(
                    "{which} is {v} wide: 1 to 24 (the dashboard's width)"
                ));
            }
            if let Some(v) = int("height").filter(|v| !(1..=1000).contains(v)) {
                problems.push(format!("{which} is {v} high: 1 to 1000"));
            }
            if let Some(v) = int("period").filter(|v| *v <= 0 || v % 60 != 0) {
                problems.push(format!("{which} has a period of {v} s: a multiple of 60"));
            }
            if len("alarms") > 100 || len("metrics") > 500 {
                problems.push(format!(
                    "{which} shows too much: at most 100 alarms or 500 metrics"
                ));
            }
        }
        if let Some(first) = problems.first() {
            let mut diag = Diagnostic::error(
                "E1203",
                format!("dashboard `{}` would be refused by CloudWatch", d.address),
                label(d, "widgets", first.clone()),
            );
            if problems.len() > 1 {
                diag = diag.with_note(format!("also: {}", problems[1..].join("; ")));
            }
            out.push(diag.with_help(
                "fix the widgets: CloudWatch refuses the whole body (InvalidParameterInput)",
            ));
        }
    }
}

/// What an alarm's metric is: its namespace and name, and the resource whose metric it is, found
/// from its dimensions (a dimension that reads an attribute of the resource: its id known after
/// apply, or the value the resource has).
pub(crate) struct Watched<'p> {
    pub name: String,
    pub source: Option<&'p Instance>,
}

/// The dimensions by which each namespace's metrics name their resource: (namespace, dimension,
/// resource type, the attribute the dimension holds).
const SOURCES: &[(&str, &str, &str, &str)] = &[
    (
        "AWS/RDS",
        "DBClusterIdentifier",
        "aws.rds.Cluster",
        "identifier",
    ),
    (
        "AWS/Route53",
        "HealthCheckId",
        "aws.route53.HealthCheck",
        "id",
    ),
    (
        "AWS/CloudFront",
        "DistributionId",
        "aws.cloudfront.Distribution",
        "id",
    ),
    (
        "CloudWatchSynthetics",
        "CanaryName",
        "aws.synthetics.Canary",
        "name",
    ),
    (
        "Carbon/Canary",
        "CanaryName",
        "aws.synthetics.Canary",
        "name",
    ),
    ("AWS/WAFV2", "WebACL", "aws.wafv2.WebAcl", "name"),
    // A node's metrics name its member cluster, "GROUP-001" (see `node_of`).
    (
        "AWS/ElastiCache",
        "CacheClusterId",
        "aws.elasticache.ReplicationGroup",
        "id",
    ),
];

/// Whether `dim`, a node metric's `CacheClusterId`, is a member cluster of the replication group
/// whose id is `group`: "GROUP-001", or "GROUP-0001-001" with cluster mode.
fn node_of(group: &Value, dim: &Value) -> bool {
    match (group, dim) {
        (Value::Str(g), Value::Str(d)) => d
            .strip_prefix(g.as_str())
            .and_then(|rest| rest.strip_prefix('-'))
            .is_some_and(|rest| {
                rest.split('-')
                    .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            }),
        _ => false,
    }
}

pub(crate) fn watched<'p>(p: &'p Program, alarm: &Instance) -> Option<Watched<'p>> {
    let Some(Value::Record(metric)) = alarm.get("metric").map(Value::reveal) else {
        return None;
    };
    let text = |k: &str| match metric.get(k) {
        Some(Value::Str(s)) => s.clone(),
        _ => String::new(),
    };
    let (namespace, name) = (text("namespace"), text("name"));
    let dims = match metric.get("dimensions") {
        Some(Value::Map(m) | Value::Record(m)) => m.clone(),
        _ => Default::default(),
    };
    let source =
        SOURCES
            .iter()
            .filter(|(ns, ..)| *ns == namespace)
            .find_map(|(_, dim, ty, field)| {
                let v = dims.get(dim)?;
                if let Value::Unknown {
                    origin: Origin::AfterApply(paths),
                    ..
                } = v
                {
                    return paths.iter().find_map(|a| {
                        let (addr, f) = a.rsplit_once('.')?;
                        p.instance(addr).filter(|i| i.ty == *ty && f == *field)
                    });
                }
                p.of_type(ty).find(|i| {
                    i.get(field)
                        .is_some_and(|x| x == v || (*dim == "CacheClusterId" && node_of(x, v)))
                })
            });
    Some(Watched { name, source })
}
