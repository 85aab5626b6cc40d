//! What each name in a file stands for: the index behind hover, go to definition, references,
//! rename and inlay hints in the editor (`carbonc-ide`). The checker records it while it resolves
//! names, so the editor and `carbonc check` cannot disagree about what a name means.

use super::*;

/// What a name occurrence resolves to.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    /// A declaration: the file it is in and the span of its name.
    Decl { file: String, span: Span },
    /// A field of a resource type, record or module (its parameters and outputs). `file` and
    /// `span` locate the field's declaration; both are empty for builtin fields (`lifecycle`).
    Field {
        owner: String,
        name: String,
        file: String,
        span: Span,
    },
    /// A variant of an enum, by the enum's id.
    Variant { enum_id: String, name: String },
    /// A region declared with `region NAME { ... }`.
    Region { name: String },
    /// A resource type of the standard library, such as `aws.kms.Key`.
    ResourceType { name: String },
    /// A builtin function, `regions`, or a builtin field of a region.
    Builtin { name: String },
}

/// One occurrence of a name and what it stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameRef {
    pub span: Span,
    pub target: Target,
    /// The type of the value the name stands for (`Unknown` for types, modules and functions).
    pub ty: Ty,
}

impl NameRef {
    /// Whether this occurrence is the declaration itself.
    pub fn is_decl(&self, file: &str) -> bool {
        matches!(&self.target, Target::Decl { file: f, span } if f == file && *span == self.span)
    }
}

/// Every resolved name of one file, sorted by position.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct FileIndex {
    pub refs: Vec<NameRef>,
}

impl FileIndex {
    /// The innermost occurrence at `offset` (a cursor just after a name still counts).
    pub fn at(&self, offset: u32) -> Option<&NameRef> {
        self.refs
            .iter()
            .filter(|r| r.span.contains(offset))
            .min_by_key(|r| r.span.end - r.span.start)
    }
}

/// The index of `file`: the checker run once more, recording instead of reporting.
#[salsa::tracked(returns(ref))]
pub fn file_index(db: &dyn Db, file: SourceFile) -> FileIndex {
    let mut ck = Checker::new(db, file, true);
    ck.index = Some(Vec::new());
    ck.check_all();
    let mut refs = ck.index.take().unwrap_or_default();
    // Let bindings are inferred more than once (for their uses, then in order): keep one of each.
    refs.sort_by(|a, b| (a.span, &a.target).cmp(&(b.span, &b.target)));
    refs.dedup_by(|a, b| a.span == b.span && a.target == b.target);
    FileIndex { refs }
}

/// The span of the name of `path` in `file`'s top level (`path` has one element), or of a
/// parameter or output inside a module (`[module, name]`).
pub(crate) fn find_decl(db: &dyn Db, file: &str, path: &[&str]) -> Option<Span> {
    let f = db.workspace().files(db).get(file).copied()?;
    let items = &parse_file(db, f).items;
    fn walk(items: &[Item], path: &[&str]) -> Option<Span> {
        for it in items {
            match &it.kind {
                ItemKind::Module { name, items, .. } if path.len() > 1 && name.text == path[0] => {
                    return walk(items, &path[1..]);
                }
                ItemKind::For { .. } | ItemKind::If { .. } => {
                    if let Some(s) = it.kind.nested().into_iter().find_map(|l| walk(l, path)) {
                        return Some(s);
                    }
                }
                k => {
                    if let Some(n) = k.name()
                        && path.len() == 1
                        && n.text == path[0]
                    {
                        return Some(n.span);
                    }
                }
            }
        }
        None
    }
    walk(items, path)
}

impl<'a> Checker<'a> {
    pub(super) fn note(&mut self, span: Span, target: Target, ty: Ty) {
        if let Some(ix) = &mut self.index {
            ix.push(NameRef { span, target, ty });
        }
    }

    /// A declaration's own name.
    pub(super) fn note_decl(&mut self, span: Span, ty: Ty) {
        if self.index.is_some() {
            let file = self.path.clone();
            self.note(span, Target::Decl { file, span }, ty);
        }
    }

    /// A use of a name declared in this file at `at`.
    pub(super) fn note_local(&mut self, span: Span, at: Span, ty: Ty) {
        if self.index.is_some() {
            let file = self.path.clone();
            self.note(span, Target::Decl { file, span: at }, ty);
        }
    }

    /// A use of `name` declared at the top of another file (`alias.name`).
    pub(super) fn note_imported(&mut self, span: Span, alias: &str, name: &str, ty: Ty) {
        if self.index.is_none() {
            return;
        }
        let Some(Some(file)) = self.imports.get(alias).cloned() else {
            return;
        };
        if let Some(at) = find_decl(self.db, &file, &[name]) {
            self.note(span, Target::Decl { file, span: at }, ty);
        }
    }

    pub(super) fn note_field(&mut self, span: Span, owner: &str, f: &FieldSchema) {
        if self.index.is_some() {
            let target = Target::Field {
                owner: owner.to_string(),
                name: f.name.clone(),
                file: f.file.clone(),
                span: f.span,
            };
            self.note(span, target, f.ty.clone());
        }
    }

    /// The names inside a written type: enums, records and resource types.
    pub(super) fn note_type(&mut self, te: &ast::TypeExpr) {
        if self.index.is_none() {
            return;
        }
        match &te.kind {
            ast::TypeExprKind::Named(p) => match p.segments.as_slice() {
                [one] => {
                    if let Some((Decl::Enum(_) | Decl::Record(_), at)) =
                        self.lookup_decl_at(&one.text)
                    {
                        self.note_local(one.span, at, Ty::Unknown);
                    }
                }
                [alias, name] if self.imports.contains_key(&alias.text) => {
                    if let Some((_, at)) = self.lookup_decl_at(&alias.text) {
                        self.note_local(alias.span, at, Ty::Unknown);
                    }
                    self.note_imported(name.span, &alias.text, &name.text, Ty::Unknown);
                }
                _ => {}
            },
            ast::TypeExprKind::Generic { args, .. } => {
                for a in args {
                    self.note_type(a);
                }
            }
            ast::TypeExprKind::Ref { target, .. } => {
                if self.cat.resources.contains_key(&target.text()) {
                    self.note(
                        target.span,
                        Target::ResourceType {
                            name: target.text(),
                        },
                        Ty::Unknown,
                    );
                }
            }
            ast::TypeExprKind::Optional(t) => self.note_type(t),
            ast::TypeExprKind::Error => {}
        }
    }

    /// The module a `use` names: `(file, module name)`.
    pub(super) fn module_location(&self, p: &ast::Path) -> Option<(String, String)> {
        match p.segments.as_slice() {
            [one] => Some((self.path.clone(), one.text.clone())),
            [alias, name] => Some((self.imports.get(&alias.text)?.clone()?, name.text.clone())),
            _ => None,
        }
    }
}
