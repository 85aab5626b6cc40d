//! `carbonc fmt`: the canonical layout of a `.carbon` file.
//!
//! The formatter works on tokens, not on the tree, so it can only ever change whitespace: the
//! tokens, the comments and every string literal (interpolations included) come out exactly as they
//! went in, which is what makes it safe (the checked program cannot change). What it decides:
//!
//! - indentation: four spaces per level; a line that leaves brackets open (`{`, `[`, `(`) opens one
//!   level, however many it leaves open, and the line with the matching closer returns to it;
//! - spacing inside a line: one space where the source had any, none where it had none, except that
//!   `=`, `==`, `!=`, `->`, `=>`, `&&`, `||` and `??` always have one space on each side, `,` and
//!   `:` one after and none before, `?` and `.` none before (`String?`, `aws.kms.Key`), brackets
//!   none inside except `{ }` on one line, which get one; a comment after code gets one space;
//! - lines: no trailing spaces, at most one blank line in a row, none at the start or the end of the
//!   file or right inside a bracket, one newline at the end; line breaks stay where the author put
//!   them.
//!
//! A file with syntax errors is not formatted: its tokens may not mean what they will once fixed.

use crate::lexer::{Tok, lex};

/// One unit of layout: a token, a whole string literal, or a comment, with its source text.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Atom<'a> {
    text: &'a str,
    kind: Kind,
    start: usize,
    end: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Open,
    Close,
    Op(&'static str),
    Word,
    Str,
    Comment,
}

/// Why a file was not formatted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormatError {
    /// 1-based line and column of the first syntax error.
    pub line: usize,
    pub column: usize,
    pub message: String,
}

fn atoms(src: &str) -> Vec<Atom<'_>> {
    let lexed = lex(src);
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut string_start = 0usize;
    for (tok, span) in &lexed.tokens {
        let (start, end) = (span.start as usize, span.end as usize);
        match tok {
            Tok::StrStart => {
                if depth == 0 {
                    string_start = start;
                }
                depth += 1;
            }
            Tok::StrEnd => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    out.push(Atom {
                        text: &src[string_start..end],
                        kind: Kind::Str,
                        start: string_start,
                        end,
                    });
                }
            }
            _ if depth > 0 => {}
            Tok::Op(o) => out.push(Atom {
                text: &src[start..end],
                kind: match *o {
                    "{" | "[" | "(" => Kind::Open,
                    "}" | "]" | ")" => Kind::Close,
                    o => Kind::Op(o),
                },
                start,
                end,
            }),
            _ => out.push(Atom {
                text: &src[start..end],
                kind: Kind::Word,
                start,
                end,
            }),
        }
    }
    for c in &lexed.comments {
        let (start, end) = (c.span.start as usize, c.span.end as usize);
        out.push(Atom {
            text: src[start..end].trim_end(),
            kind: Kind::Comment,
            start,
            end,
        });
    }
    out.sort_by_key(|a| a.start);
    out
}

/// Whether there is a space between two atoms on one line.
fn space(prev: &Atom, next: &Atom, src: &str) -> bool {
    const WIDE: [&str; 8] = ["=", "==", "!=", "->", "=>", "&&", "||", "??"];
    if next.kind == Kind::Comment {
        return true;
    }
    match (prev.kind, next.kind) {
        (Kind::Op(o), _) | (_, Kind::Op(o)) if WIDE.contains(&o) => return true,
        (_, Kind::Op("," | ":" | "?")) => return false,
        // `a.b`, `x[r].arn`: a field; after `{`, `,` or an operator it is a variant (`{ .primary }`).
        (Kind::Word | Kind::Close, Kind::Op(".")) => return false,
        (Kind::Op("," | ":"), Kind::Close) => return false,
        (Kind::Op("," | ":"), _) => return true,
        (Kind::Open, Kind::Close) => return prev.text == "{" && had_space(prev, next, src),
        (Kind::Open, _) if prev.text == "{" => return true,
        (_, Kind::Close) if next.text == "}" => return true,
        (Kind::Open, _) | (_, Kind::Close) => return false,
        _ => {}
    }
    had_space(prev, next, src)
}

fn had_space(prev: &Atom, next: &Atom, src: &str) -> bool {
    src[prev.end..next.start].chars().any(char::is_whitespace)
}

/// The formatted text of `src`, or why it cannot be formatted.
pub fn format(src: &str) -> Result<String, FormatError> {
    let parsed = crate::parse(src);
    if let Some(e) = parsed.errors.first() {
        let before = &src[..(e.span.start as usize).min(src.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
        return Err(FormatError {
            line,
            column,
            message: e.message.clone(),
        });
    }
    let atoms = atoms(src);
    // Lines: atoms grouped by the source's line breaks, with whether a blank line came before.
    let mut lines: Vec<(bool, Vec<&Atom>)> = Vec::new();
    let mut prev_end: Option<usize> = None;
    for a in &atoms {
        let newlines = prev_end.map_or(0, |p| src[p..a.start].matches('\n').count());
        match lines.last_mut() {
            Some((_, line)) if newlines == 0 => line.push(a),
            _ => lines.push((newlines > 1, vec![a])),
        }
        prev_end = Some(a.end);
    }
    let mut out = String::with_capacity(src.len());
    // Open brackets per indentation level.
    let mut levels: Vec<usize> = Vec::new();
    let mut first = true;
    for (blank, line) in &lines {
        // Closers at the start of the line close levels before it is indented.
        let mut i = 0;
        while i < line.len() && line[i].kind == Kind::Close {
            close(&mut levels);
            i += 1;
        }
        let opens_line = out.trim_end().ends_with(['{', '[', '(']);
        if *blank && !first && !opens_line && line[0].kind != Kind::Close {
            out.push('\n');
        }
        first = false;
        out.push_str(&"    ".repeat(levels.len()));
        let mut open_here = 0usize;
        for (j, a) in line.iter().enumerate() {
            if j > 0 && space(line[j - 1], a, src) {
                out.push(' ');
            }
            out.push_str(a.text);
            if j < i {
                continue;
            }
            match a.kind {
                Kind::Open => open_here += 1,
                Kind::Close if open_here > 0 => open_here -= 1,
                Kind::Close => close(&mut levels),
                _ => {}
            }
        }
        if open_here > 0 {
            levels.push(open_here);
        }
        out.push('\n');
    }
    Ok(out)
}

fn close(levels: &mut Vec<usize>) {
    if let Some(n) = levels.last_mut() {
        *n -= 1;
        if *n == 0 {
            levels.pop();
        }
    }
}

/// The tokens and comments of `src` without their positions: what formatting must not change.
pub fn meaning(src: &str) -> Vec<String> {
    atoms(src).into_iter().map(|a| a.text.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(s: &str) -> String {
        format(s).unwrap()
    }

    #[test]
    fn indents_by_brackets_and_normalises_spaces() {
        let src = "region use1 {code=\"us-east-1\",role=.primary}\nresource aws.kms.Key key @ use1 {\n      description   =  \"k\"   # why\n  tags = {\n a = \"b\" ,\n  }\n}\n";
        assert_eq!(
            fmt(src),
            "region use1 { code = \"us-east-1\", role = .primary }\nresource aws.kms.Key key @ use1 {\n    description = \"k\" # why\n    tags = {\n        a = \"b\",\n    }\n}\n"
        );
    }

    #[test]
    fn strings_and_comments_are_kept_verbatim() {
        let src = "let x = \"a  ${ y  }  b\"   ##  doc  \n";
        assert_eq!(fmt(src), "let x = \"a  ${ y  }  b\" ##  doc\n");
    }

    #[test]
    fn blank_lines_collapse_and_several_openers_make_one_level() {
        let src = "\n\nlet a = f([{\n x = 1\n}])\n\n\n\nlet b = [\n\n 1,\n]\n\n";
        assert_eq!(
            fmt(src),
            "let a = f([{\n    x = 1\n}])\n\nlet b = [\n    1,\n]\n"
        );
    }

    #[test]
    fn generics_and_comparisons_keep_the_authors_spacing() {
        let src = "param m: Map<String, List<Int>> = {}\nlet c = 1 < 2\n";
        assert_eq!(fmt(src), src);
    }

    #[test]
    fn a_variant_after_a_brace_or_comma_keeps_its_space_and_a_field_has_none() {
        let src =
            "let r = if x { .primary } else { .secondary }\nlet l = [.a, .b]\nlet f = k[r].arn\n";
        assert_eq!(format(src).unwrap(), src);
    }

    #[test]
    fn a_file_with_syntax_errors_is_refused() {
        let e = format("let x = \nresource {").unwrap_err();
        assert_eq!(e.line, 2);
    }

    #[test]
    fn formatting_is_idempotent_and_keeps_the_tokens() {
        let src = "for r in regions {\nresource aws.ec2.Vpc vpc @ r { cidr_block = cidrsubnet(\"10.0.0.0/8\",8,index_of(regions,r)) }\n}\n";
        let once = fmt(src);
        assert_eq!(fmt(&once), once);
        assert_eq!(meaning(&once), meaning(src));
    }
}
