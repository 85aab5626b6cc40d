//! `carbonc-syntax`: the lexer, the syntax tree and the error-recovering parser of `.carbon` files.
//!
//! Architecture invariant: this crate knows nothing about salsa, files, the language server or AWS.
//! Parsing never fails: [`parse`] returns the tree *and* every error, so one typo never hides the
//! other diagnostics of a file.

pub mod ast;
mod docs;
pub mod lexer;
mod parser;
mod span;

pub use lexer::{Comment, Tok};
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

pub fn parse(src: &str) -> Parse {
    let lexed = lexer::lex(src);
    let mut errors: Vec<SyntaxError> = lexed
        .errors
        .iter()
        .map(|e| SyntaxError {
            span: e.span,
            message: capitalise(&e.message),
            label: e.message.clone(),
            help: e.help.clone(),
        })
        .collect();
    let tokens: Vec<(Tok, chumsky::span::SimpleSpan)> = lexed
        .tokens
        .into_iter()
        // Unknown characters were reported by the lexer already; the parser skips them.
        .filter(|(t, _)| !matches!(t, Tok::Error(_)))
        .map(|(t, s)| (t, (s.start as usize..s.end as usize).into()))
        .collect();
    let (mut items, errs) = parser::parse_tokens(&tokens, src.len());
    for e in errs {
        errors.push(syntax_error(&e));
    }
    errors.sort_by_key(|e| e.span);
    errors.dedup_by_key(|e| e.span);
    docs::attach_docs(&mut items, src, &lexed.comments);
    Parse {
        items,
        comments: lexed.comments,
        errors,
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
            let mut names: Vec<String> = expected.iter().map(|p| p.to_string()).collect();
            names.sort();
            names.dedup();
            let shown = names.len().min(6);
            let mut list = names[..shown].join(", ");
            if names.len() > shown {
                list.push_str(", …");
            }
            let expected_text = match names.len() {
                0 => "something else".to_string(),
                1 => list,
                _ => format!("one of {list}"),
            };
            let found_text = match found {
                Some(t) => t.to_string(),
                None => "end of file".to_string(),
            };
            SyntaxError {
                span,
                message: format!("Expected {expected_text}, found {found_text}"),
                label: format!("unexpected {found_text}"),
                help: None,
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
