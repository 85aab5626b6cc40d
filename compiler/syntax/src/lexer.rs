//! A hand-written lexer. It never fails: unknown characters become [`Tok::Error`] tokens and problems
//! are reported as [`LexError`]s, so the parser always gets a token stream to recover on.
//!
//! Strings are split into parts so that interpolation (`"api-${r.code}"`) is parsed by the same
//! expression grammar: `StrStart StrText InterpStart <tokens> InterpEnd StrEnd`.

use std::fmt;
use std::sync::Arc;

use crate::Span;

/// Cheap to clone and to compare: the parser backtracks over alternatives, cloning and comparing
/// the same tokens many times (identifiers and string texts are shared, not copied; keywords and
/// operators are compared without a call to `memcmp`).
#[derive(Clone, Debug, Eq)]
pub enum Tok {
    Ident(Arc<str>),
    Int(i64),
    /// A keyword; see [`KEYWORDS`].
    Kw(&'static str),
    /// Punctuation and operators; see [`PUNCT`].
    Op(&'static str),
    StrStart,
    StrText(Arc<str>),
    InterpStart,
    InterpEnd,
    StrEnd,
    /// A character that starts no token.
    Error(char),
}

pub const KEYWORDS: &[&str] = &[
    "import",
    "as",
    "param",
    "let",
    "resource",
    "use",
    "output",
    "module",
    "for",
    "in",
    "if",
    "else",
    "fn",
    "enum",
    "record",
    "resource_type",
    "true",
    "false",
    "none",
];

/// Longest first, so that `==` wins over `=`.
const PUNCT: &[&str] = &[
    "??", "==", "!=", "<=", ">=", "&&", "||", "->", "=>", "{", "}", "[", "]", "(", ")", "<", ">",
    ",", ".", ":", "=", "!", "+", "-", "*", "/", "%", "@", "?",
];

impl PartialEq for Tok {
    fn eq(&self, other: &Tok) -> bool {
        /// Keywords and operators are one to three bytes long.
        fn short(a: &str, b: &str) -> bool {
            a.len() == b.len() && a.bytes().zip(b.bytes()).all(|(x, y)| x == y)
        }
        match (self, other) {
            (Tok::Kw(a), Tok::Kw(b)) | (Tok::Op(a), Tok::Op(b)) => short(a, b),
            (Tok::Ident(a), Tok::Ident(b)) | (Tok::StrText(a), Tok::StrText(b)) => a == b,
            (Tok::Int(a), Tok::Int(b)) => a == b,
            (Tok::Error(a), Tok::Error(b)) => a == b,
            (Tok::StrStart, Tok::StrStart)
            | (Tok::InterpStart, Tok::InterpStart)
            | (Tok::InterpEnd, Tok::InterpEnd)
            | (Tok::StrEnd, Tok::StrEnd) => true,
            _ => false,
        }
    }
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Ident(s) => write!(f, "identifier `{s}`"),
            Tok::Int(n) => write!(f, "number `{n}`"),
            Tok::Kw(k) => write!(f, "`{k}`"),
            Tok::Op(p) => write!(f, "`{p}`"),
            Tok::StrStart => write!(f, "string"),
            Tok::StrText(_) => write!(f, "string text"),
            Tok::InterpStart => write!(f, "`${{`"),
            Tok::InterpEnd => write!(f, "`}}`"),
            Tok::StrEnd => write!(f, "end of string"),
            Tok::Error(c) => write!(f, "`{}`", c.escape_debug()),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    pub span: Span,
    /// The text after `#` (or after `##` for doc comments), untrimmed.
    pub text: String,
    pub is_doc: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LexError {
    pub span: Span,
    pub message: String,
    pub help: Option<String>,
}

pub struct Lexed {
    pub tokens: Vec<(Tok, Span)>,
    pub comments: Vec<Comment>,
    pub errors: Vec<LexError>,
}

enum Mode {
    /// Inside `${ ... }`, with the count of unclosed `{` since the interpolation began.
    Interp(u32),
}

pub fn lex(src: &str) -> Lexed {
    let mut lx = Lexer {
        src,
        pos: 0,
        out: Lexed {
            tokens: Vec::new(),
            comments: Vec::new(),
            errors: Vec::new(),
        },
        modes: Vec::new(),
    };
    lx.run();
    lx.out
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    out: Lexed,
    modes: Vec<Mode>,
}

impl Lexer<'_> {
    fn peek(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    fn peek2(&self) -> Option<char> {
        let mut it = self.src[self.pos..].chars();
        it.next();
        it.next()
    }

    fn push(&mut self, tok: Tok, start: usize) {
        self.out.tokens.push((tok, Span::new(start, self.pos)));
    }

    fn error(&mut self, start: usize, end: usize, message: &str, help: Option<&str>) {
        self.out.errors.push(LexError {
            span: Span::new(start, end),
            message: message.to_string(),
            help: help.map(str::to_string),
        });
    }

    fn run(&mut self) {
        while let Some(c) = self.peek() {
            let start = self.pos;
            if c.is_whitespace() {
                self.pos += c.len_utf8();
            } else if c == '#' {
                self.comment();
            } else if c == '"' {
                self.pos += 1;
                self.push(Tok::StrStart, start);
                self.string();
            } else if c.is_ascii_digit() {
                self.number();
            } else if c.is_alphabetic() || c == '_' {
                while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    self.pos += self.peek().map_or(1, char::len_utf8);
                }
                let word = &self.src[start..self.pos];
                // Most words are not keywords: the length and first byte rule them out cheaply.
                let tok = match KEYWORDS.iter().find(|k| {
                    k.len() == word.len() && k.as_bytes()[0] == word.as_bytes()[0] && **k == word
                }) {
                    Some(k) => Tok::Kw(k),
                    None => Tok::Ident(word.into()),
                };
                self.push(tok, start);
            } else if c == '}' && matches!(self.modes.last(), Some(Mode::Interp(0))) {
                self.modes.pop();
                self.pos += 1;
                self.push(Tok::InterpEnd, start);
                self.string();
            } else if let Some(p) = PUNCT.iter().find(|p| {
                p.as_bytes()[0] == self.src.as_bytes()[self.pos]
                    && self.src[self.pos..].starts_with(**p)
            }) {
                if let Some(Mode::Interp(depth)) = self.modes.last_mut() {
                    match *p {
                        "{" => *depth += 1,
                        "}" => *depth = depth.saturating_sub(1),
                        _ => {}
                    }
                }
                self.pos += p.len();
                self.push(Tok::Op(p), start);
            } else {
                self.pos += c.len_utf8();
                self.push(Tok::Error(c), start);
                self.error(
                    start,
                    self.pos,
                    &format!("unexpected character `{}`", c.escape_debug()),
                    None,
                );
            }
        }
        if !self.modes.is_empty() {
            let end = self.src.len();
            self.error(
                end,
                end,
                "unterminated string interpolation",
                Some("close it with `}\"`"),
            );
        }
    }

    fn comment(&mut self) {
        let start = self.pos;
        let end = self.src[start..]
            .find('\n')
            .map_or(self.src.len(), |i| start + i);
        let is_doc = self.src[start..].starts_with("##");
        let text_start = start + if is_doc { 2 } else { 1 };
        self.out.comments.push(Comment {
            span: Span::new(start, end),
            text: self.src[text_start..end].trim_end_matches('\r').to_string(),
            is_doc,
        });
        self.pos = end;
    }

    fn number(&mut self) {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit() || c == '_') {
            self.pos += 1;
        }
        let text: String = self.src[start..self.pos]
            .chars()
            .filter(|c| *c != '_')
            .collect();
        let n = match text.parse::<i64>() {
            Ok(n) => n,
            Err(_) => {
                self.error(
                    start,
                    self.pos,
                    "number is too large",
                    Some("numbers are 64-bit signed integers"),
                );
                0
            }
        };
        self.push(Tok::Int(n), start);
    }

    /// Lexes string content after an opening `"` or after the `}` closing an interpolation.
    fn string(&mut self) {
        let mut text = String::new();
        let mut text_start = self.pos;
        loop {
            let Some(c) = self.peek() else {
                self.flush_text(&mut text, text_start);
                let end = self.src.len();
                self.error(
                    end,
                    end,
                    "unterminated string",
                    Some("add the closing `\"`"),
                );
                return;
            };
            let start = self.pos;
            match c {
                '"' => {
                    self.flush_text(&mut text, text_start);
                    self.pos += 1;
                    self.push(Tok::StrEnd, start);
                    return;
                }
                '\n' => {
                    // Strings are single-line: stop here so that the next lines still lex normally.
                    self.flush_text(&mut text, text_start);
                    self.error(
                        start,
                        start,
                        "unterminated string",
                        Some("add the closing `\"` before the end of the line"),
                    );
                    self.push(Tok::StrEnd, start);
                    return;
                }
                '$' if self.peek2() == Some('{') => {
                    self.flush_text(&mut text, text_start);
                    self.pos += 2;
                    self.push(Tok::InterpStart, start);
                    self.modes.push(Mode::Interp(0));
                    return;
                }
                '\\' => {
                    self.pos += 1;
                    let esc = self.peek();
                    self.pos += esc.map_or(0, char::len_utf8);
                    match esc {
                        Some('n') => text.push('\n'),
                        Some('t') => text.push('\t'),
                        Some('r') => text.push('\r'),
                        Some('"') => text.push('"'),
                        Some('\\') => text.push('\\'),
                        Some('$') => text.push('$'),
                        _ => self.error(
                            start,
                            self.pos,
                            "unknown escape sequence",
                            Some("valid escapes are \\n \\t \\r \\\" \\\\ \\$"),
                        ),
                    }
                }
                _ => {
                    text.push(c);
                    self.pos += c.len_utf8();
                }
            }
            if text.is_empty() {
                text_start = self.pos;
            }
        }
    }

    fn flush_text(&mut self, text: &mut String, text_start: usize) {
        if !text.is_empty() {
            self.out.tokens.push((
                Tok::StrText(std::mem::take(text).into()),
                Span::new(text_start, self.pos),
            ));
        }
    }
}
