//! "Did you mean" suggestions by edit distance.

use carbonc_diagnostics::{Applicability, Fix, Span};

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(!ca.eq_ignore_ascii_case(cb));
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The candidate closest to `name`, within about a third of the name's length (so one- and
/// two-letter names get no guesses), and whether it is the only one at that distance.
pub fn closest<'a>(
    name: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> Option<(&'a str, bool)> {
    let limit = (name.chars().count() + 1) / 3;
    let mut near: Vec<(usize, &str)> = candidates
        .filter(|c| *c != name)
        .map(|c| (distance(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .collect();
    near.sort();
    near.dedup();
    let (d, best) = *near.first()?;
    Some((best, near.get(1).is_none_or(|(d2, _)| *d2 > d)))
}

/// "did you mean `x`?" for the closest candidate, as advice.
pub fn did_you_mean<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<String> {
    closest(name, candidates).map(|(c, _)| format!("did you mean `{c}`?"))
}

/// What to delete to remove the assignment at `span` from `src`: its whole line when it stands
/// alone on it, else the assignment and the comma and spaces after it.
pub fn removal(src: &str, span: Span) -> Span {
    let (start, end) = (span.start as usize, (span.end as usize).min(src.len()));
    let line_start = src[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = src[end..].find('\n').map_or(src.len(), |i| end + i + 1);
    let alone = src[line_start..start].trim().is_empty()
        && src[end..line_end]
            .trim()
            .trim_start_matches(',')
            .trim()
            .is_empty();
    if alone {
        Span::new(line_start, line_end)
    } else {
        let after = src[end..].len() - src[end..].trim_start_matches([',', ' ']).len();
        Span::new(start, end + after)
    }
}

/// "did you mean `x`?" as a fix that writes `x` over the misspelt `name` at `span` (`quote`: the
/// span holds a string literal, quotes included). Certain when `x` is the one closest candidate;
/// offered but never applied unasked when two are as close. `None` when nothing is close, or when
/// the span does not hold exactly the name (a name that came from elsewhere cannot be edited here).
pub fn typo_fix<'a>(
    file: &str,
    span: Span,
    name: &str,
    quote: bool,
    candidates: impl Iterator<Item = &'a str>,
) -> Option<Fix> {
    let (best, unique) = closest(name, candidates)?;
    let written = name.len() + if quote { 2 } else { 0 };
    if span.len() != written {
        return None;
    }
    let text = if quote {
        format!("\"{best}\"")
    } else {
        best.to_string()
    };
    Some(Fix::replace(
        format!("did you mean `{best}`?"),
        file,
        span,
        text,
        if unique {
            Applicability::MachineApplicable
        } else {
            Applicability::MaybeIncorrect
        },
    ))
}
