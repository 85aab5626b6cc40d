//! Attaches `##` doc comments to the declaration or field directly below them.

use std::collections::HashMap;

use crate::Comment;
use crate::ast::{FieldDecl, Item, ItemKind};

pub(crate) fn attach_docs(items: &mut [Item], src: &str, comments: &[Comment]) {
    let docs = doc_blocks(src, comments);
    if docs.is_empty() {
        return;
    }
    walk(items, &docs);
}

/// Maps the offset of the first token after each doc block to the block's text.
fn doc_blocks(src: &str, comments: &[Comment]) -> HashMap<u32, String> {
    let mut out = HashMap::new();
    let mut i = 0;
    while i < comments.len() {
        if !comments[i].is_doc {
            i += 1;
            continue;
        }
        let mut lines = vec![comments[i].text.trim().to_string()];
        let mut end = comments[i].span.end as usize;
        let mut j = i + 1;
        while j < comments.len()
            && comments[j].is_doc
            && src[end..comments[j].span.start as usize].trim().is_empty()
        {
            lines.push(comments[j].text.trim().to_string());
            end = comments[j].span.end as usize;
            j += 1;
        }
        let rest = &src[end..];
        let next = end + (rest.len() - rest.trim_start().len());
        out.insert(next as u32, lines.join("\n"));
        i = j;
    }
    out
}

fn walk(items: &mut [Item], docs: &HashMap<u32, String>) {
    for it in items {
        it.doc = docs.get(&it.span.start).cloned();
        match &mut it.kind {
            ItemKind::Module { items, .. } | ItemKind::For { items, .. } => walk(items, docs),
            ItemKind::If {
                then_items,
                else_items,
                ..
            } => {
                walk(then_items, docs);
                if let Some(e) = else_items {
                    walk(e, docs);
                }
            }
            ItemKind::Record { fields, .. } | ItemKind::ResourceType { fields, .. } => {
                fields_docs(fields, docs)
            }
            ItemKind::Enum { variants, .. } => {
                for v in variants {
                    v.doc = docs.get(&v.name.span.start).cloned();
                }
            }
            _ => {}
        }
    }
}

fn fields_docs(fields: &mut [FieldDecl], docs: &HashMap<u32, String>) {
    for f in fields {
        f.doc = docs.get(&f.span.start).cloned();
    }
}
