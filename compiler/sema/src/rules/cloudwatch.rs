//! CloudWatch alarm rules (E1201): an alarm sees only the metrics of its own region.

use carbonc_diagnostics::Diagnostic;

use super::{label, name_label, of_type};
use crate::eval::Program;
use crate::value::Value;

pub(crate) fn check(p: &Program, out: &mut Vec<Diagnostic>) {
    for alarm in of_type(p, "aws.cloudwatch.MetricAlarm") {
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
