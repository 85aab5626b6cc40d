//! Staggered maintenance windows (E0901): at least two regions available at every minute of the week.

use carbonc_diagnostics::{Diagnostic, Label};

use crate::eval::Program;
use crate::regions::{WEEK, parse_window, show_minute};

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
    if p.regions.len() < 2 {
        return;
    }
    let windows: Vec<(usize, crate::regions::Window)> = p
        .regions
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            r.maintenance
                .as_ref()
                .and_then(|(w, _)| parse_window(w).ok())
                .map(|w| (i, w))
        })
        .collect();
    let in_window = |w: &crate::regions::Window, m: u32| {
        (m >= w.start && m < w.end) || (m + WEEK >= w.start && m + WEEK < w.end)
    };
    for m in 0..WEEK {
        let down: Vec<usize> = windows
            .iter()
            .filter(|(_, w)| in_window(w, m))
            .map(|(i, _)| *i)
            .collect();
        if p.regions.len() - down.len() >= 2 {
            continue;
        }
        let last = &p.regions[*down.last().expect("some region is down")];
        let names: Vec<String> = down
            .iter()
            .map(|i| format!("{} ({})", p.regions[*i].name, p.regions[*i].code))
            .collect();
        let span = last.maintenance.as_ref().map_or(last.span, |(_, s)| *s);
        let mut d = Diagnostic::error(
            "E0901",
            "Maintenance windows leave fewer than two regions available",
            Label::new(
                &last.file,
                span,
                format!("{} is in maintenance at {}", last.name, show_minute(m)),
            ),
        );
        for i in &down[..down.len() - 1] {
            let r = &p.regions[*i];
            d = d.with_label(Label::new(
                &r.file,
                r.maintenance.as_ref().map_or(r.span, |(_, s)| *s),
                format!("and so is {}", r.name),
            ));
        }
        out.push(
            d.with_note(format!("at {}, {} are in maintenance and only {} of {} regions are available", show_minute(m), names.join(" and "), p.regions.len() - down.len(), p.regions.len()))
                .with_help("stagger the `maintenance` windows so that at most all but two regions are in maintenance at once"),
        );
        return;
    }
}
