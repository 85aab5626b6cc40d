//! Parsing a file again after an edit, reusing the items of the chunks the edit did not touch.
//!
//! A file is cut into chunks before each top-level item keyword (`resource`, `let`, `for`, ...) at
//! bracket depth 0, and each chunk's items are kept by the chunk's text, with spans from the
//! chunk's start. After an edit only the chunks whose text changed are parsed again; the others'
//! items are copied and moved to where their chunk now starts. This is what keeps a keystroke in a
//! 4,000-line file from re-parsing 4,000 lines (rust-analyzer re-parses the edited block the same
//! way).
//!
//! The result is exactly [`crate::parse`]'s, or this falls back to it: a chunk with a syntax error
//! (or a cut that was not between items, such as before the `if` of an `if` expression) makes the
//! whole file parse again, so errors, recovery and messages are never those of a fragment. A chunk
//! is a sequence of whole items and the item grammar only repeats items, so chunks that each
//! parse without error parse, together, to their items side by side.

use std::collections::HashMap;

use chumsky::span::SimpleSpan;

use crate::ast::{Item, Shift as _};
use crate::lexer::Tok;
use crate::{Parse, depth, docs, lex, parse, parser};

/// The items of the last parse of one file, by chunk text.
#[derive(Default)]
pub struct ItemCache {
    chunks: HashMap<String, Vec<Item>>,
    /// How many chunks the last parse parsed (the others it reused); None if it parsed the whole.
    last_parsed: Option<usize>,
}

impl ItemCache {
    /// How many chunks the cache holds.
    pub fn len(&self) -> usize {
        self.chunks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    /// How many chunks the last [`parse_reusing`] parsed, or None if it parsed the whole file.
    pub fn last_parsed(&self) -> Option<usize> {
        self.last_parsed
    }
}

/// Like [`parse`], reusing (and then replacing) the items `cache` holds from the last parse of
/// the same file.
pub fn parse_reusing(src: &str, cache: &mut ItemCache) -> Parse {
    let (tokens, comments, lex_errors) = lex(src);
    if lex_errors.is_empty()
        && let Some(mut items) = chunked(src, &tokens, cache)
    {
        docs::attach_docs(&mut items, src, &comments);
        return Parse {
            items,
            comments,
            errors: Vec::new(),
        };
    }
    cache.chunks.clear();
    cache.last_parsed = None;
    parse(src)
}

/// The keywords that start an item wherever they stand at depth 0: every keyword but those
/// that continue an item or stand for a value (`region` and `endpoint` are identifiers elsewhere,
/// so no cut is made before them: their item stays in the chunk before).
fn starts_item(keyword: &str) -> bool {
    !matches!(keyword, "as" | "in" | "else" | "true" | "false" | "none")
}

/// Where the chunks start: the first token, and every item keyword at bracket depth 0 (not the
/// `output` of `endpoint output`). None when the brackets do not balance.
fn cuts(tokens: &[(Tok, SimpleSpan)]) -> Option<Vec<usize>> {
    let mut cuts = vec![0];
    let mut depth: i64 = 0;
    for (i, (t, _)) in tokens.iter().enumerate() {
        match t {
            Tok::Op("{" | "[" | "(") | Tok::StrStart | Tok::InterpStart => depth += 1,
            Tok::Op("}" | "]" | ")") | Tok::StrEnd | Tok::InterpEnd => depth -= 1,
            Tok::Kw(k)
                if depth == 0
                    && i > 0
                    && starts_item(k)
                    && !matches!(&tokens[i - 1].0, Tok::Ident(p) if &**p == "endpoint") =>
            {
                cuts.push(i);
            }
            _ => {}
        }
        if depth < 0 {
            return None;
        }
    }
    (depth == 0).then_some(cuts)
}

/// The file's items from its chunks, or None when a chunk does not parse cleanly on its own.
fn chunked(src: &str, tokens: &[(Tok, SimpleSpan)], cache: &mut ItemCache) -> Option<Vec<Item>> {
    let cuts = cuts(tokens)?;
    // Chunk i runs from the start of its first token to the start of the next chunk's first token
    // (the first chunk from the start of the file).
    let starts: Vec<usize> = cuts
        .iter()
        .enumerate()
        .map(|(i, &k)| if i == 0 { 0 } else { tokens[k].1.start })
        .collect();
    let mut fresh: Vec<Option<Vec<Item>>> = Vec::with_capacity(cuts.len());
    // The chunks to parse: (index, tokens with spans from the chunk's start, length).
    type Missing = (usize, Vec<(Tok, SimpleSpan)>, usize);
    let mut missing: Vec<Missing> = Vec::new();
    for (i, &k) in cuts.iter().enumerate() {
        let (start, end) = (starts[i], starts.get(i + 1).copied().unwrap_or(src.len()));
        match cache.chunks.remove(&src[start..end]) {
            Some(items) => fresh.push(Some(items)),
            None => {
                let last = cuts.get(i + 1).copied().unwrap_or(tokens.len());
                let relative = tokens[k..last]
                    .iter()
                    .map(|(t, s)| (t.clone(), SimpleSpan::from(s.start - start..s.end - start)))
                    .collect();
                missing.push((i, relative, end - start));
                fresh.push(None);
            }
        }
    }
    for (i, tokens, len) in &missing {
        let mut items = parser::parse_tokens_clean(tokens, *len)?;
        // Nesting past the limit is an error (and the deep tree is dismantled without recursion
        // before anything clones or walks it): the whole file is parsed again to report it.
        let mut errors = Vec::new();
        depth::limit_depth(&mut items, &mut errors);
        if !errors.is_empty() {
            return None;
        }
        fresh[*i] = Some(items);
    }
    let mut items = Vec::new();
    let mut next = HashMap::with_capacity(cuts.len());
    for (i, chunk) in fresh.into_iter().enumerate() {
        let chunk = chunk.unwrap_or_default();
        let (start, end) = (starts[i], starts.get(i + 1).copied().unwrap_or(src.len()));
        items.extend(chunk.iter().cloned().map(|mut it| {
            it.shift(start as u32);
            it
        }));
        next.insert(src[start..end].to_string(), chunk);
    }
    cache.chunks = next;
    cache.last_parsed = Some(missing.len());
    Some(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `.carbon` file of the repository, and each of them edited at many places (a
    /// character dropped, one inserted, a line cut short), parses with a cache warm from the
    /// unedited text to exactly what a parse from scratch gives.
    #[test]
    fn reusing_chunks_gives_the_parse_from_scratch() {
        let files = crate::tests::repository_programs();
        assert!(files.len() > 50, "found the repository's programs");
        let (mut reused, mut fell_back) = (0, 0);
        for text in &files {
            let mut cache = ItemCache::default();
            assert_eq!(parse_reusing(text, &mut cache), parse(text));
            for k in 1..7 {
                let at = text.len() * k / 7;
                let at = (0..=at)
                    .rev()
                    .find(|i| text.is_char_boundary(*i))
                    .unwrap_or(0);
                let next = text[at..].chars().next().map_or(0, char::len_utf8);
                let line_end = text[at..].find('\n').map_or(text.len(), |e| at + e);
                for edited in [
                    format!("{}{}", &text[..at], &text[at + next..]),
                    format!("{}x{}", &text[..at], &text[at..]),
                    format!("{}{}", &text[..at], &text[line_end..]),
                ] {
                    let mut warm = ItemCache::default();
                    parse_reusing(text, &mut warm);
                    assert_eq!(
                        parse_reusing(&edited, &mut warm),
                        parse(&edited),
                        "reusing the chunks of the unedited text changed the parse of:\n{edited}"
                    );
                    match warm.last_parsed() {
                        Some(_) => reused += 1,
                        None => fell_back += 1,
                    }
                    // And back: the edit undone parses as the original did.
                    assert_eq!(parse_reusing(text, &mut warm), parse(text));
                }
            }
        }
        assert!(
            reused > 100 && fell_back > 100,
            "{reused} reused, {fell_back} fell back"
        );
    }

    /// A one-character edit inside one resource of a long file parses that resource's chunk alone.
    #[test]
    fn an_edit_parses_only_its_chunk() {
        let mut text = String::from("region use1 { code = \"us-east-1\" }\n");
        for i in 0..200 {
            text.push_str(&format!(
                "## Key {i}.\nresource aws.kms.Key k{i} @ use1 {{\n    description = \"key {i}\"\n}}\n"
            ));
        }
        let mut cache = ItemCache::default();
        parse_reusing(&text, &mut cache);
        assert_eq!(cache.last_parsed(), Some(201));
        let at = text.find("key 57").expect("there") + 3;
        let mut edited = text.clone();
        edited.insert(at, 'x');
        let p = parse_reusing(&edited, &mut cache);
        assert_eq!(cache.last_parsed(), Some(1));
        assert_eq!(p, parse(&edited));
        assert_eq!(p.items[80].doc.as_deref(), Some("Key 79."));
    }
}
