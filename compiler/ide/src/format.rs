//! Formatting as edits: `carbonc fmt`'s layout, expressed as the smallest whitespace changes, so the
//! editor keeps the cursor and the undo history, and a range format touches only that range.

use carbonc_sema::syntax::Span;

pub use carbonc_sema::syntax::format::FormatError;

/// The edits that turn `src` into its formatted text; with `range`, only those inside it.
///
/// The formatter changes whitespace only, so the non-whitespace characters of both texts are the
/// same sequence: each run of whitespace between two of them is compared with its counterpart.
pub fn format_edits(src: &str, range: Option<Span>) -> Result<Vec<(Span, String)>, FormatError> {
    let new = carbonc_sema::syntax::format::format(src)?;
    let mut edits = Vec::new();
    let (mut a, mut b) = (0usize, 0usize);
    let (old_b, new_b) = (src.as_bytes(), new.as_bytes());
    loop {
        let a0 = a;
        while a < old_b.len() && old_b[a].is_ascii_whitespace() {
            a += 1;
        }
        let b0 = b;
        while b < new_b.len() && new_b[b].is_ascii_whitespace() {
            b += 1;
        }
        if src[a0..a] != new[b0..b] {
            edits.push((Span::new(a0, a), new[b0..b].to_string()));
        }
        if a >= old_b.len() || b >= new_b.len() {
            break;
        }
        // The same non-whitespace run in both.
        while a < old_b.len()
            && b < new_b.len()
            && !old_b[a].is_ascii_whitespace()
            && old_b[a] == new_b[b]
        {
            a += 1;
            b += 1;
        }
        if a < old_b.len()
            && b < new_b.len()
            && !old_b[a].is_ascii_whitespace()
            && !new_b[b].is_ascii_whitespace()
        {
            // Not a whitespace-only change after all: replace the rest wholesale.
            edits.push((Span::new(a, src.len()), new[b..].to_string()));
            break;
        }
    }
    if let Some(r) = range {
        // The whitespace before each token that starts inside the range (its indentation too).
        edits.retain(|(s, _)| s.end >= r.start && s.end <= r.end);
    }
    Ok(edits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(src: &str, edits: &[(Span, String)]) -> String {
        let mut out = src.to_string();
        for (s, t) in edits.iter().rev() {
            out.replace_range(s.range(), t);
        }
        out
    }

    #[test]
    fn edits_reproduce_the_formatter() {
        let src = "region  a {\ncode=\"us-east-1\"\n  role = .primary\n\n\n\nmaintenance = \"a  b\"   }\n";
        let edits = format_edits(src, None).unwrap();
        assert_eq!(
            apply(src, &edits),
            carbonc_sema::syntax::format::format(src).unwrap()
        );
        // Whitespace inside the string is not an edit.
        assert!(edits.iter().all(|(s, _)| !src[s.range()].contains('a')));
    }

    #[test]
    fn a_range_keeps_only_its_edits() {
        let src = "param  a: Int = 1\nparam  b: Int = 2\n";
        let edits = format_edits(src, Some(Span::new(18, 36))).unwrap();
        assert_eq!(apply(src, &edits), "param  a: Int = 1\nparam b: Int = 2\n");
    }
}
