//! `carbonc-syntax`: the lexer, the syntax tree and the error-recovering parser of `.carbon` files.
//!
//! Architecture invariant: this crate knows nothing about salsa, files, the language server or AWS.
//! Parsing never fails: [`parse`] returns the tree *and* every error, so one typo never hides the
//! other diagnostics of a file.

pub mod ast;
mod depth;
mod docs;
pub mod format;
pub mod lexer;
mod parser;
mod reparse;
mod span;

pub use lexer::{Comment, Tok};
pub use reparse::{ItemCache, parse_reusing};
pub use span::Span;

/// What the parser found in one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parse {
    pub items: Vec<ast::Item>,
    /// Every comment, in source order, so that a formatter can keep them without re-parsing.
    pub comments: Vec<Comment>,
    pub errors: Vec<SyntaxError>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub span: Span,
    /// Sentence-case title, e.g. "Expected `=`, found `}`".
    pub message: String,
    /// Short text for the primary label.
    pub label: String,
    pub help: Option<String>,
}

/// Lexes `src`: the tokens the parser reads, the comments, and the lexer's errors.
pub(crate) fn lex(
    src: &str,
) -> (
    Vec<(Tok, chumsky::span::SimpleSpan)>,
    Vec<Comment>,
    Vec<SyntaxError>,
) {
    let lexed = lexer::lex(src);
    let errors = lexed
        .errors
        .iter()
        .map(|e| SyntaxError {
            span: e.span,
            message: capitalise(&e.message),
            label: e.message.clone(),
            help: e.help.clone(),
        })
        .collect();
    let tokens = lexed
        .tokens
        .into_iter()
        // Unknown characters were reported by the lexer already; the parser skips them.
        .filter(|(t, _)| !matches!(t, Tok::Error(_)))
        .map(|(t, s)| (t, (s.start as usize..s.end as usize).into()))
        .collect();
    (tokens, lexed.comments, errors)
}

pub fn parse(src: &str) -> Parse {
    let (tokens, comments, mut errors) = lex(src);
    let (mut items, errs) = parser::parse_tokens(&tokens, src.len());
    // The parser's complaint about the token right after a lexer error (the line after an
    // unterminated string, say) is the lexer error again.
    let lexed: Vec<Span> = errors.iter().map(|e| e.span).collect();
    let follows_lexer_error = |at: u32| {
        lexed.iter().any(|l| {
            l.start <= at
                && !tokens
                    .iter()
                    .any(|(_, s)| s.start as u32 > l.end && (s.start as u32) < at)
        })
    };
    for e in errs {
        let e = syntax_error(&e);
        if !follows_lexer_error(e.span.start) {
            errors.push(e);
        }
    }
    depth::limit_depth(&mut items, &mut errors);
    errors.sort_by_key(|e| e.span);
    errors.dedup_by_key(|e| e.span);
    one_per_line(src, &mut errors);
    docs::attach_docs(&mut items, src, &comments);
    Parse {
        items,
        comments,
        errors,
    }
}

/// One syntax error per line, the first: what follows a mistake on the same line (a stray
/// bracket after an unexpected word) is the same mistake, and a junk line costs one error.
fn one_per_line(src: &str, errors: &mut Vec<SyntaxError>) {
    let mut last_line = None;
    let mut at = 0;
    let mut line = 0;
    errors.retain(|e| {
        let start = (e.span.start as usize).min(src.len());
        if start >= at {
            line += src.as_bytes()[at..start]
                .iter()
                .filter(|b| **b == b'\n')
                .count();
            at = start;
        }
        let keep = last_line != Some(line);
        last_line = Some(line);
        keep
    });
}

/// Parses one expression, such as a `--var` value. Returns it unless there were errors.
pub fn parse_expr(src: &str) -> Result<ast::Expr, Vec<SyntaxError>> {
    let (tokens, _, mut errors) = lex(src);
    let (expr, errs) = parser::parse_expr_tokens(&tokens, src.len());
    errors.extend(errs.iter().map(syntax_error));
    match expr {
        Some(e) if errors.is_empty() => {
            // The same nesting limit as in files.
            let mut items = vec![ast::Item {
                kind: ast::ItemKind::Let {
                    name: ast::Name {
                        text: String::new(),
                        span: Span::default(),
                    },
                    ty: None,
                    value: e,
                },
                span: Span::default(),
                doc: None,
            }];
            depth::limit_depth(&mut items, &mut errors);
            match items.pop().map(|i| i.kind) {
                Some(ast::ItemKind::Let { value, .. }) if errors.is_empty() => Ok(value),
                _ => Err(errors),
            }
        }
        _ => Err(errors),
    }
}

fn syntax_error(e: &chumsky::error::Rich<'_, Tok, chumsky::span::SimpleSpan>) -> SyntaxError {
    use chumsky::error::RichReason;
    let span = Span::from(*e.span());
    match e.reason() {
        RichReason::Custom(msg) => SyntaxError {
            span,
            message: capitalise(msg),
            label: msg.to_string(),
            help: None,
        },
        RichReason::ExpectedFound { expected, found } => {
            use chumsky::error::RichPattern;
            const OPERATORS: &[&str] = &[
                "??", "==", "!=", "<=", ">=", "&&", "||", "<", ">", "+", "-", "*", "/", "%", ".",
                "[", "(",
            ];
            let mut names: Vec<String> = Vec::new();
            let mut operator = false;
            for p in expected {
                match p {
                    RichPattern::Token(t) => match &**t {
                        Tok::Op(o) if OPERATORS.contains(o) => operator = true,
                        t => names.push(t.to_string()),
                    },
                    RichPattern::Label(l) => names.push(l.to_string()),
                    RichPattern::Identifier(i) => names.push(format!("`{i}`")),
                    RichPattern::EndOfInput => names.push("end of file".into()),
                    _ => {}
                }
            }
            names.sort();
            names.dedup();
            if names.iter().any(|n| n == "expression") {
                // Unary operators start an expression; "expression" says it all.
                names.retain(|n| n != "`!`");
                operator = false;
            }
            if operator && names.is_empty() {
                // Only operators fit: the expression itself is what is incomplete.
                names.push("an operator".into());
            } else if operator {
                names.push("an operator".into());
            }
            let expected_text = match names.as_slice() {
                [] => "something else".to_string(),
                [one] => one.clone(),
                [init @ .., last] if init.len() < 6 => format!("{} or {last}", init.join(", ")),
                many => format!("one of {}, …", many[..6].join(", ")),
            };
            let found_text = match found {
                Some(t) => t.to_string(),
                None => "end of file".to_string(),
            };
            let value_found = matches!(
                found.as_deref(),
                Some(Tok::Ident(_) | Tok::Int(_) | Tok::StrStart | Tok::Op("{" | "[" | "("))
            );
            let help = if names.iter().any(|n| n == "`,`") && value_found {
                Some("add a `,` between the elements".to_string())
            } else if names.iter().any(|n| n == "`:`") {
                Some("write the type after a `:`, as in `param name: String`".to_string())
            } else {
                None
            };
            SyntaxError {
                span,
                message: format!("Expected {expected_text}, found {found_text}"),
                label: format!("unexpected {found_text}"),
                help,
            }
        }
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    /// The text of every `.carbon` file of the repository (examples, the standard library, the
    /// test corpora): inputs for the parser's equivalence tests.
    pub(crate) fn repository_programs() -> Vec<String> {
        // The directory `cargo test` runs in, not the one this binary was built in.
        let root = std::env::var("CARGO_MANIFEST_DIR")
            .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").into());
        let root = std::path::Path::new(&root).join("../..");
        let mut files = Vec::new();
        let mut dirs = vec![
            root.join("examples"),
            root.join("stdlib"),
            root.join("tests"),
        ];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "carbon") {
                    files.push(std::fs::read_to_string(&path).expect("readable"));
                }
            }
        }
        files
    }
}
