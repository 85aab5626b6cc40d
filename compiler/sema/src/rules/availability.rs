//! One primary region (E0306), and staggered maintenance (E0901): as many regions as the project
//! requires (`[availability] regions` in carbon.toml, default all but one) fully
//! available at every minute of the week. A region is in maintenance while its own window is open,
//! or while the preferred maintenance window of any Aurora cluster or instance or ElastiCache
//! replication group placed in it is.

use carbonc_diagnostics::{Diagnostic, Label};
use carbonc_syntax::Span;

use crate::eval::Program;
use crate::regions::{WEEK, Window, parse_window, show_minute};
use crate::value::Value;

/// Resource types whose `preferred_maintenance_window` takes their region down for maintenance.
const WINDOWED: [&str; 3] = [
    "aws.rds.Cluster",
    "aws.rds.ClusterInstance",
    "aws.elasticache.ReplicationGroup",
];

/// A maintenance window and where it was declared.
struct Declared {
    region: usize,
    window: Window,
    text: String,
    file: String,
    span: Span,
    /// "the region" or "`db_primary[us-east-1].cluster`".
    what: String,
}

fn open_at(w: &Window, m: u32) -> bool {
    (m >= w.start && m < w.end) || (m + WEEK >= w.start && m + WEEK < w.end)
}

fn declared(p: &Program) -> Vec<Declared> {
    let mut out = Vec::new();
    for (i, r) in p.regions.iter().enumerate() {
        if let Some((text, span)) = &r.maintenance
            && let Ok(window) = parse_window(text)
        {
            out.push(Declared {
                region: i,
                window,
                text: text.clone(),
                file: r.file.clone(),
                span: *span,
                what: format!("region {}", r.name),
            });
        }
    }
    for inst in p
        .instances
        .iter()
        .filter(|i| WINDOWED.contains(&i.ty.as_str()))
    {
        let (Some(region), Some(Value::Str(text))) = (
            inst.region,
            inst.get("preferred_maintenance_window").map(Value::reveal),
        ) else {
            continue;
        };
        if let Ok(window) = parse_window(text) {
            out.push(Declared {
                region,
                window,
                text: text.clone(),
                file: inst.file.to_string(),
                span: inst.field_span("preferred_maintenance_window"),
                what: format!("`{}`", inst.address),
            });
        }
    }
    out
}

/// "one region", "two regions", ... "12 regions".
fn regions(n: usize) -> String {
    const WORDS: [&str; 10] = [
        "no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
    ];
    let count = WORDS
        .get(n)
        .map_or_else(|| n.to_string(), |w| w.to_string());
    format!("{count} region{}", if n == 1 { "" } else { "s" })
}

pub(crate) fn check(p: &Program, out: &mut Vec<Diagnostic>) {
    let primaries: Vec<&crate::eval::RegionInfo> = p.regions.iter().filter(|r| r.primary).collect();
    if let [first, second, ..] = primaries.as_slice() {
        out.push(
            Diagnostic::error(
                "E0306",
                "More than one region is `.primary`",
                Label::new(&second.file, second.span, format!("{} is declared primary", second.name)),
            )
            .with_label(Label::new(&first.file, first.span, format!("and so is {}", first.name)))
            .with_note("the primary region holds the writers (Aurora's writer, the Redis primary); there is one")
            .with_help(format!("make `{}` a `.secondary` region", second.name)),
        );
    }
    for (i, r) in p.regions.iter().enumerate() {
        if let Some(first) = p.regions[..i]
            .iter()
            .find(|x| x.code == r.code && !r.code.is_empty())
        {
            out.push(
                Diagnostic::error(
                    "E0306",
                    format!("Region `{}` is {} again", r.name, r.code),
                    Label::new(&r.file, r.span, format!("{} is also {}", r.name, r.code)),
                )
                .with_label(Label::new(
                    &first.file,
                    first.span,
                    format!("{} already is {}", first.name, r.code),
                ))
                .with_help(format!(
                    "declare each AWS region once; use `{}` wherever you meant {}",
                    first.name, r.code
                )),
            );
        }
    }
    let n = p.regions.len();
    if n < 2 {
        return;
    }
    // The user's requirement: how many regions stay up at every moment (default all but one).
    let required = p.regions_available.map_or(n - 1, |r| r as usize).max(1);
    if required > n {
        let first = &p.regions[0];
        out.push(
            Diagnostic::error(
                "E0901",
                format!(
                    "{} must stay available, but the program has {}",
                    regions(required),
                    regions(n)
                ),
                Label::new(&first.file, first.span, "the regions are declared here"),
            )
            .with_note(format!(
                "`[availability] regions = {required}` in carbon.toml"
            ))
            .with_help(format!(
                "lower `[availability] regions` to at most {n}, or declare more regions"
            )),
        );
        return;
    }
    let windows = declared(p);
    // Which regions are in maintenance at each minute, painted window by window (a scan of every
    // window at every minute is 10,080 times the program's windows).
    let mut in_maintenance = vec![vec![false; WEEK as usize]; p.regions.len()];
    for w in &windows {
        for x in w.window.start..w.window.end.min(w.window.start + WEEK) {
            in_maintenance[w.region][(x % WEEK) as usize] = true;
        }
    }
    for m in 0..WEEK {
        let down_now = in_maintenance.iter().filter(|r| r[m as usize]).count();
        if n - down_now >= required {
            continue;
        }
        let open: Vec<&Declared> = windows.iter().filter(|w| open_at(&w.window, m)).collect();
        let mut down: Vec<usize> = open.iter().map(|w| w.region).collect();
        down.sort_unstable();
        down.dedup();
        if n - down.len() >= required {
            continue;
        }
        // One window per region in maintenance, the last one as the primary label.
        let mut shown: Vec<&Declared> = Vec::new();
        for r in &down {
            if let Some(w) = open.iter().find(|w| w.region == *r) {
                shown.push(w);
            }
        }
        let last = shown.pop().expect("some region is down");
        let label = |w: &Declared| {
            format!(
                "{} ({}) is in maintenance at {}: {}",
                w.what,
                p.regions[w.region].code,
                show_minute(m),
                w.text
            )
        };
        let mut d = Diagnostic::error(
            "E0901",
            format!(
                "Maintenance windows leave fewer than {} available",
                regions(required)
            ),
            Label::new(&last.file, last.span, label(last)),
        );
        for w in &shown {
            d = d.with_label(Label::new(&w.file, w.span, label(w)));
        }
        let names: Vec<String> = down.iter().map(|i| p.regions[*i].code.clone()).collect();
        let setting = match p.regions_available {
            Some(r) => format!("`[availability] regions = {r}` in carbon.toml"),
            None => "all but one, the default; `[availability] regions` in carbon.toml sets it"
                .to_string(),
        };
        out.push(
            d.with_note(format!(
                "at {}, {} {} in maintenance: {} of {n} regions are available, and {required} must be ({setting})",
                show_minute(m),
                names.join(" and "),
                if names.len() == 1 { "is" } else { "are" },
                n - down.len(),
            ))
            .with_help(if required >= n {
                format!("no region may be in maintenance while {required} of {n} must be available: lower `[availability] regions` in carbon.toml")
            } else {
                format!(
                    "stagger the windows so that at most {} in maintenance at a time",
                    match n - required {
                        1 => "one region is".to_string(),
                        k => format!("{k} regions are"),
                    }
                )
            }),
        );
        return;
    }
}
