//! AWS region codes, region declarations and maintenance windows.

use carbonc_diagnostics::Diagnostic;
use carbonc_syntax::ast::{self, ExprKind, StrPart};

use crate::check::Checker;
use crate::suggest::{did_you_mean, typo_fix};

/// The id of the builtin enum of region roles.
pub const ROLE_ENUM: &str = "std::Role";

/// Commercial, GovCloud and China partitions' region codes.
pub const AWS_REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-7",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-south-1",
    "eu-south-2",
    "eu-north-1",
    "il-central-1",
    "me-south-1",
    "me-central-1",
    "mx-central-1",
    "sa-east-1",
    "us-gov-east-1",
    "us-gov-west-1",
    "cn-north-1",
    "cn-northwest-1",
];

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// A weekly window in minutes since Monday 00:00 UTC; `end` may be past a week's end (wraps).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub start: u32,
    pub end: u32,
}

pub const WEEK: u32 = 7 * 24 * 60;

/// Parses AWS's `ddd:hh24:mi-ddd:hh24:mi` (UTC).
pub fn parse_window(s: &str) -> Result<Window, String> {
    let (a, b) = s.split_once('-').ok_or("expected `ddd:hh:mm-ddd:hh:mm`")?;
    let point = |p: &str| -> Result<u32, String> {
        let parts: Vec<&str> = p.split(':').collect();
        let [d, h, m] = parts.as_slice() else {
            return Err(format!("`{p}` is not `ddd:hh:mm`"));
        };
        let day = DAYS
            .iter()
            .position(|x| x.eq_ignore_ascii_case(d))
            .ok_or(format!("`{d}` is not a day (mon..sun)"))?;
        let h: u32 = h
            .parse()
            .ok()
            .filter(|h| *h < 24)
            .ok_or(format!("`{h}` is not an hour (00-23)"))?;
        let m: u32 = m
            .parse()
            .ok()
            .filter(|m| *m < 60)
            .ok_or(format!("`{m}` is not a minute (00-59)"))?;
        Ok(day as u32 * 1440 + h * 60 + m)
    };
    let start = point(a)?;
    let mut end = point(b)?;
    if end <= start {
        end += WEEK;
    }
    if end - start < 30 {
        return Err("a maintenance window lasts at least 30 minutes".into());
    }
    Ok(Window { start, end })
}

pub fn show_minute(m: u32) -> String {
    let m = m % WEEK;
    format!(
        "{} {:02}:{:02} UTC",
        DAYS[(m / 1440) as usize],
        (m % 1440) / 60,
        m % 60
    )
}

fn literal(e: &ast::Expr) -> Option<String> {
    match &e.kind {
        ExprKind::Str(parts) => match parts.as_slice() {
            [] => Some(String::new()),
            [StrPart::Text(t)] => Some(t.clone()),
            _ => None,
        },
        _ => None,
    }
}

pub(crate) fn check_region_decl(ck: &mut Checker<'_>, name: &ast::Name, fields: &[ast::Assign]) {
    let push = |ck: &mut Checker<'_>, d: Diagnostic| ck.diags.push(d);
    let get = |f: &str| fields.iter().find(|a| a.name.text == f);
    for a in fields {
        if !["code", "role", "maintenance"].contains(&a.name.text.as_str()) {
            let d = Diagnostic::error(
                "E0306",
                format!("Region `{}` has no field `{}`", name.text, a.name.text),
                ck.label(a.name.span, "unknown field"),
            )
            .with_help("a region takes `code`, `role` and `maintenance`");
            push(ck, d);
        }
    }
    match get("code") {
        None => push(
            ck,
            Diagnostic::error(
                "E0306",
                format!("Region `{}` has no `code`", name.text),
                ck.label(name.span, "declared here"),
            )
            .with_help("add `code = \"us-east-1\"` (the AWS region code)"),
        ),
        Some(a) => match literal(&a.value) {
            Some(code) if AWS_REGIONS.contains(&code.as_str()) => {}
            Some(code) => {
                let mut d = Diagnostic::error(
                    "E0305",
                    format!("Unknown AWS region `{code}`"),
                    ck.label(a.value.span, "not an AWS region code"),
                );
                let written = &ck.path;
                match typo_fix(
                    written,
                    a.value.span,
                    &code,
                    true,
                    AWS_REGIONS.iter().copied(),
                ) {
                    Some(fix) => d = d.with_fix(fix),
                    None => {
                        d.help = Some(
                            did_you_mean(&code, AWS_REGIONS.iter().copied()).unwrap_or_else(|| {
                                "use an AWS region code such as `us-east-1` or `eu-west-1`".into()
                            }),
                        )
                    }
                }
                push(ck, d);
            }
            None => push(
                ck,
                Diagnostic::error(
                    "E0306",
                    "A region's code must be a plain string",
                    ck.label(a.value.span, "not a literal"),
                )
                .with_help("write the code literally, for example `code = \"eu-west-1\"`"),
            ),
        },
    }
    match get("role") {
        None => push(
            ck,
            Diagnostic::error(
                "E0306",
                format!("Region `{}` has no `role`", name.text),
                ck.label(name.span, "declared here"),
            )
            .with_help("add `role = .primary` or `role = .secondary`"),
        ),
        Some(a) => {
            let ok = matches!(&a.value.kind, ExprKind::Variant(v) if v.text == "primary" || v.text == "secondary");
            if !ok {
                push(
                    ck,
                    Diagnostic::error(
                        "E0306",
                        "A region's role is `.primary` or `.secondary`",
                        ck.label(a.value.span, "not a role"),
                    )
                    .with_help("write `role = .primary` or `role = .secondary`"),
                );
            }
        }
    }
    if let Some(a) = get("maintenance") {
        match literal(&a.value) {
            Some(w) => {
                if let Err(why) = parse_window(&w) {
                    push(ck, Diagnostic::error("E0306", format!("Invalid maintenance window `{w}`"), ck.label(a.value.span, why)).with_help("use AWS's format `ddd:hh:mm-ddd:hh:mm` in UTC, for example `sun:05:00-sun:06:00`"));
                }
            }
            None => push(
                ck,
                Diagnostic::error(
                    "E0306",
                    "A maintenance window must be a plain string",
                    ck.label(a.value.span, "not a literal"),
                )
                .with_help("write it literally, for example `\"sun:05:00-sun:06:00\"`"),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows() {
        let w = parse_window("sun:23:00-mon:01:00").unwrap();
        assert_eq!((w.start, w.end), (6 * 1440 + 23 * 60, WEEK + 60));
        assert!(parse_window("sun:05:00").is_err());
        assert!(parse_window("xyz:05:00-sun:06:00").is_err());
        assert!(parse_window("sun:05:00-sun:05:10").is_err());
        assert_eq!(show_minute(6 * 1440 + 5 * 60 + 30), "sun 05:30 UTC");
    }
}
