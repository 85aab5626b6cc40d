//! Navigation: go to definition, find references, document highlight and rename. One rule decides
//! which occurrences are the same symbol: the place it is declared.

use carbonc_sema::syntax::Span;
use carbonc_sema::syntax::ast::ItemKind;
use carbonc_sema::{Db, NameRef, SourceFile, Target, catalog, file_index, parse_file};

use crate::{Location, is_identifier, user_files};

/// Where a target is declared, when it is declared in a file.
pub(crate) fn declared_at(db: &dyn Db, target: &Target) -> Option<Location> {
    match target {
        Target::Decl { file, span } => Some(Location {
            file: file.clone(),
            span: *span,
        }),
        // A field's declaration span covers `name: Type`; the location is its name.
        Target::Field {
            file, span, name, ..
        } if !file.is_empty() => Some(Location {
            file: file.clone(),
            span: Span::new(
                span.start as usize,
                (span.start as usize + name.len()).min(span.end as usize),
            ),
        }),
        Target::Field { .. } | Target::Builtin { .. } => None,
        Target::ResourceType { name } => catalog(db).resources.get(name).map(|s| Location {
            file: s.file.clone(),
            span: s.span,
        }),
        Target::Region { name } => user_files(db).into_iter().find_map(|f| {
            parse_file(db, f)
                .items
                .iter()
                .find_map(|it| match &it.kind {
                    ItemKind::Region { name: n, .. } if &n.text == name => Some(Location {
                        file: f.path(db).clone(),
                        span: n.span,
                    }),
                    _ => None,
                })
        }),
        Target::Variant { enum_id, name } => variant_location(db, enum_id, name),
    }
}

fn variant_location(db: &dyn Db, enum_id: &str, variant: &str) -> Option<Location> {
    for (path, f) in db.workspace().files(db) {
        let ns = carbonc_stdlib::prelude_namespace(path);
        for it in &parse_file(db, *f).items {
            if let ItemKind::Enum { name, variants } = &it.kind {
                let id = match &ns {
                    Some(ns) => format!("{ns}.{}", name.text),
                    None => format!("{path}::{}", name.text),
                };
                if id == enum_id
                    && let Some(v) = variants.iter().find(|v| v.name.text == variant)
                {
                    return Some(Location {
                        file: path.clone(),
                        span: v.name.span,
                    });
                }
            }
        }
    }
    None
}

/// Whether two occurrences name the same symbol.
fn same(db: &dyn Db, a: &Target, b: &Target) -> bool {
    match (declared_at(db, a), declared_at(db, b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

fn at(db: &dyn Db, file: SourceFile, offset: u32) -> Option<&NameRef> {
    file_index(db, file).at(offset)
}

pub fn definition(db: &dyn Db, file: SourceFile, offset: u32) -> Vec<Location> {
    let Some(r) = at(db, file, offset) else {
        return Vec::new();
    };
    let Some(loc) = declared_at(db, &r.target) else {
        return Vec::new();
    };
    // An import's alias leads to the imported file.
    if let Some(f) = db.workspace().files(db).get(&loc.file)
        && let Some(it) = crate::scope::item_named(&parse_file(db, *f).items, loc.span)
        && let ItemKind::Import { .. } = it.kind
        && let Some(imp) = carbonc_sema::file_imports(db, *f)
            .iter()
            .find(|i| i.span.start >= it.span.start && i.span.end <= it.span.end)
        && db.workspace().files(db).contains_key(&imp.path)
        && r.span != loc.span
    {
        return vec![Location {
            file: imp.path.clone(),
            span: Span::default(),
        }];
    }
    vec![loc]
}

/// Every occurrence of the symbol at `offset` in the user's files (and the declaration, when
/// `include_decl`).
pub fn references(db: &dyn Db, file: SourceFile, offset: u32, include_decl: bool) -> Vec<Location> {
    let Some(r) = at(db, file, offset) else {
        return Vec::new();
    };
    let target = r.target.clone();
    let decl = declared_at(db, &target);
    let mut out = Vec::new();
    for f in user_files(db) {
        let path = f.path(db);
        for x in &file_index(db, f).refs {
            if !same(db, &x.target, &target) {
                continue;
            }
            let here = Location {
                file: path.clone(),
                span: x.span,
            };
            if !include_decl && decl.as_ref() == Some(&here) {
                continue;
            }
            out.push(here);
        }
    }
    if include_decl
        && let Some(d) = decl
        && !out.contains(&d)
        && !d.file.starts_with("std/")
    {
        out.push(d);
    }
    out.sort();
    out.dedup();
    out
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Highlight {
    pub span: Span,
    /// The declaration (or an assignment of a field), rather than a read.
    pub write: bool,
}

pub fn document_highlight(db: &dyn Db, file: SourceFile, offset: u32) -> Vec<Highlight> {
    let Some(r) = at(db, file, offset) else {
        return Vec::new();
    };
    let decl = declared_at(db, &r.target);
    let path = file.path(db);
    file_index(db, file)
        .refs
        .iter()
        .filter(|x| same(db, &x.target, &r.target))
        .map(|x| Highlight {
            span: x.span,
            write: decl
                .as_ref()
                .is_some_and(|d| &d.file == path && d.span == x.span),
        })
        .collect()
}

/// The name that would be renamed at `offset`, or why it cannot be.
pub fn prepare_rename(
    db: &dyn Db,
    file: SourceFile,
    offset: u32,
) -> Result<(Span, String), String> {
    let r = at(db, file, offset).ok_or("there is no name here to rename")?;
    renamable(db, &r.target)?;
    let text = file.text(db).get(r.span.range()).unwrap_or("").to_string();
    Ok((r.span, text))
}

fn renamable(db: &dyn Db, target: &Target) -> Result<Location, String> {
    match target {
        Target::Builtin { name } => Err(format!("`{name}` is built in and cannot be renamed")),
        Target::ResourceType { name } => Err(format!(
            "`{name}` is a resource type of the standard library and cannot be renamed"
        )),
        _ => {
            let loc = declared_at(db, target).ok_or("this name is built in")?;
            if loc.file.starts_with("std/") {
                return Err(
                    "this name is declared in the standard library, which is read-only".into(),
                );
            }
            Ok(loc)
        }
    }
}

/// The edits that rename the symbol at `offset` to `new_name` in every user file.
pub fn rename(
    db: &dyn Db,
    file: SourceFile,
    offset: u32,
    new_name: &str,
) -> Result<Vec<(String, Span, String)>, String> {
    let r = at(db, file, offset).ok_or("there is no name here to rename")?;
    let decl = renamable(db, &r.target)?;
    if !is_identifier(new_name) {
        return Err(format!(
            "`{new_name}` is not a valid name: use letters, digits and `_`, not starting with a digit, and not a keyword"
        ));
    }
    // A new top-level name must not collide with one already declared in the same file.
    if let Some(f) = db.workspace().files(db).get(&decl.file) {
        let scope = crate::scope::at(&parse_file(db, *f).items, decl.span.start);
        if let Some(v) = scope.lookup(new_name)
            && v.name.span != decl.span
        {
            return Err(format!("`{new_name}` is already declared in {}", decl.file));
        }
    }
    let old = file.text(db).get(r.span.range()).unwrap_or("").to_string();
    let edits = references(db, file, offset, true)
        .into_iter()
        .filter(|l| {
            db.workspace()
                .files(db)
                .get(&l.file)
                .and_then(|f| f.text(db).get(l.span.range()))
                == Some(old.as_str())
        })
        .map(|l| (l.file, l.span, new_name.to_string()))
        .collect();
    Ok(edits)
}
