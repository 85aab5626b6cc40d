//! The per-file static checker: name resolution and types. Placement and the domain rules need
//! values, so they run on the evaluated program (`eval.rs`, `rules/`).

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use carbonc_diagnostics::{Diagnostic, Fix, Label};
use carbonc_syntax::Span;
use carbonc_syntax::ast::{self, Expr, ExprKind, Item, ItemKind, Scope};

use crate::builtins;
use crate::db::{Db, SourceFile};
use crate::items::{
    self, catalog, enum_def, file_imports, import_cycle_edges, parse_file, region_names,
};
use crate::suggest::{did_you_mean, typo_fix};
use crate::ty::{Catalog, EnumDef, FieldSchema, RecordDef, Ty};

mod decls;
mod expr;
mod index;

pub use index::{FileIndex, NameRef, Target, file_index};

/// A module's interface, without spans, so that editing a module's body does not invalidate the
/// files that use it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleSig {
    pub id: String,
    pub regional: bool,
    pub params: Vec<(String, Ty, bool)>,
    pub outputs: Vec<(String, Ty)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FnSig {
    pub params: Vec<(String, Ty)>,
    pub ret: Ty,
}

/// What a name at file level stands for, as seen from other files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Export {
    Value(Ty),
    Module(ModuleSig),
    Fn(FnSig),
    Enum(EnumDef),
    Record(RecordDef),
}

/// The span-free interface of a file.
#[salsa::tracked(returns(ref))]
pub fn file_exports(db: &dyn Db, file: SourceFile) -> BTreeMap<String, Export> {
    let mut ck = Checker::new(db, file, true);
    ck.exports()
}

/// The type names a file can write and what each stands for: its own enums and records, and the
/// enums and records its imports export (as `alias.Name`). Span-free, so it compares equal after
/// any edit that declares no type. The checker and the evaluator both lower written types through
/// it ([`TypeNames::resolve`]), so that they cannot resolve a name differently.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct TypeNames {
    local: BTreeMap<String, Ty>,
    /// By import alias: the imported file's enums and records, or `None` when the import is not
    /// loaded or closes a cycle (its names then resolve as if it were not there).
    imported: BTreeMap<String, Option<BTreeMap<String, Ty>>>,
}

impl TypeNames {
    /// What the written type name `p` stands for: a name of this file, then `alias.Name` through
    /// an import, then the prelude (`aws.kms.KeySpec`).
    pub fn resolve(&self, p: &ast::Path, cat: &Catalog) -> Option<Ty> {
        if let [one] = p.segments.as_slice()
            && let Some(t) = self.local.get(&one.text)
        {
            return Some(t.clone());
        }
        if let [alias, name] = p.segments.as_slice()
            && let Some(Some(exports)) = self.imported.get(&alias.text)
        {
            return exports.get(&name.text).cloned();
        }
        let text = p.text();
        if cat.enums.contains_key(&text) {
            return Some(Ty::Enum(text));
        }
        if cat.records.contains_key(&text) {
            return Some(Ty::Record(text));
        }
        None
    }
}

#[salsa::tracked(returns(ref))]
pub fn type_names(db: &dyn Db, file: SourceFile) -> TypeNames {
    let path = file.path(db);
    let mut decls = BTreeMap::new();
    collect(
        &parse_file(db, file).items,
        0,
        &mut decls,
        &mut Vec::new(),
        true,
    );
    // The first declaration of a name is the one that counts, as everywhere in the checker.
    let local = decls
        .into_iter()
        .filter_map(|(name, (d, _))| match d {
            Decl::Enum(_) => Some((name.clone(), Ty::Enum(items::type_id(path, &name)))),
            Decl::Record(_) => Some((name.clone(), Ty::Record(items::type_id(path, &name)))),
            _ => None,
        })
        .collect();
    let cycles = import_cycle_edges(db);
    let ws = db.workspace();
    let mut imported = BTreeMap::new();
    for imp in file_imports(db, file) {
        let exports = ws
            .files(db)
            .get(&imp.path)
            .filter(|_| !cycles.contains(&(path.clone(), imp.path.clone())))
            .map(|f| {
                file_exports(db, *f)
                    .iter()
                    .filter_map(|(name, e)| match e {
                        Export::Enum(e) => Some((name.clone(), Ty::Enum(e.id.clone()))),
                        Export::Record(r) => Some((name.clone(), Ty::Record(r.id.clone()))),
                        _ => None,
                    })
                    .collect()
            });
        imported.insert(imp.alias.clone(), exports);
    }
    TypeNames { local, imported }
}

/// Syntax, name and type diagnostics of one file.
#[salsa::tracked(returns(ref))]
pub fn check_file(db: &dyn Db, file: SourceFile) -> Vec<Diagnostic> {
    let mut ck = Checker::new(db, file, false);
    for e in &parse_file(db, file).errors {
        let mut d = Diagnostic::error(
            "E0001",
            e.message.clone(),
            Label::new(ck.path.clone(), e.span, e.label.clone()),
        );
        if let Some(h) = &e.help {
            d = d.with_help(h.clone());
        }
        ck.diags.push(d);
    }
    ck.check_all();
    ck.diags
}

/// What a declared name stands for, found by [`collect`]; the evaluator names its frames from
/// the same declarations.
#[derive(Clone)]
pub(crate) enum Decl<'a> {
    Let(&'a Item),
    Param(&'a Item),
    Resource { ty: String, keys: usize },
    Use { module: &'a ast::Path, keys: usize },
    Module(&'a Item),
    Fn(&'a Item),
    Enum(&'a Item),
    Record(&'a Item),
    Import,
}

pub(crate) struct Checker<'a> {
    db: &'a dyn Db,
    pub(crate) path: String,
    cat: &'a Catalog,
    items: &'a [Item],
    imports: BTreeMap<String, Option<String>>,
    file_decls: BTreeMap<String, (Decl<'a>, Span)>,
    /// Declarations of the module being checked, if any.
    module_decls: Option<BTreeMap<String, (Decl<'a>, Span)>>,
    /// Local scopes: name -> (type, span of the binding).
    locals: Vec<BTreeMap<String, (Ty, Span)>>,
    let_types: RefCell<BTreeMap<(bool, String), Ty>>,
    let_visiting: RefCell<BTreeSet<(bool, String)>>,
    regions: BTreeSet<String>,
    quiet: bool,
    pub(crate) diags: Vec<Diagnostic>,
    /// What each name stands for, when building the editor's index ([`file_index`]).
    index: Option<Vec<NameRef>>,
}

/// The names `items` declare, each with the span of its name: resources and module instances
/// at any depth of `for` and `if` (with how many loop keys they take), the rest at the top
/// level. The first of two declarations of a name counts; the others go to `dups`.
pub(crate) fn collect<'a>(
    items: &'a [Item],
    keys: usize,
    out: &mut BTreeMap<String, (Decl<'a>, Span)>,
    dups: &mut Vec<(String, Span, Span)>,
    top: bool,
) {
    for it in items {
        let mut add = |name: &ast::Name, d: Decl<'a>| {
            if let Some((_, prev)) = out.get(&name.text) {
                dups.push((name.text.clone(), name.span, *prev));
            } else {
                out.insert(name.text.clone(), (d, name.span));
            }
        };
        match &it.kind {
            ItemKind::Resource { ty, name, .. } => add(
                name,
                Decl::Resource {
                    ty: ty.text(),
                    keys,
                },
            ),
            ItemKind::Use { module, name, .. } => add(name, Decl::Use { module, keys }),
            ItemKind::For { items, .. } => collect(items, keys + 1, out, dups, false),
            ItemKind::If {
                then_items,
                else_items,
                ..
            } => {
                collect(then_items, keys, out, dups, false);
                if let Some(e) = else_items {
                    collect(e, keys, out, dups, false);
                }
            }
            _ if !top => {}
            ItemKind::Let { name, .. } => add(name, Decl::Let(it)),
            ItemKind::Param { name, .. } => add(name, Decl::Param(it)),
            ItemKind::Module { name, .. } => add(name, Decl::Module(it)),
            ItemKind::Fn { name, .. } => add(name, Decl::Fn(it)),
            ItemKind::Enum { name, .. } => add(name, Decl::Enum(it)),
            ItemKind::Record { name, .. } => add(name, Decl::Record(it)),
            ItemKind::Import { alias, .. } => add(alias, Decl::Import),
            _ => {}
        }
    }
}

impl<'a> Checker<'a> {
    pub(crate) fn new(db: &'a dyn Db, file: SourceFile, quiet: bool) -> Checker<'a> {
        let parse = parse_file(db, file);
        let path = file.path(db).clone();
        let cycles = import_cycle_edges(db);
        let ws = db.workspace();
        let mut imports = BTreeMap::new();
        for imp in file_imports(db, file) {
            let ok = ws.files(db).contains_key(&imp.path)
                && !cycles.contains(&(path.clone(), imp.path.clone()));
            imports.insert(imp.alias.clone(), ok.then(|| imp.path.clone()));
        }
        let mut file_decls = BTreeMap::new();
        let mut dups = Vec::new();
        collect(&parse.items, 0, &mut file_decls, &mut dups, true);
        let mut ck = Checker {
            db,
            path,
            cat: catalog(db),
            items: &parse.items,
            imports,
            file_decls,
            module_decls: None,
            locals: Vec::new(),
            let_types: RefCell::new(BTreeMap::new()),
            let_visiting: RefCell::new(BTreeSet::new()),
            regions: region_names(db).iter().map(|(n, _)| n.clone()).collect(),
            quiet,
            diags: Vec::new(),
            index: None,
        };
        for (name, span, prev) in dups {
            ck.duplicate(&name, span, prev);
        }
        ck
    }

    fn duplicate(&mut self, name: &str, span: Span, prev: Span) {
        let d = Diagnostic::error(
            "E0102",
            format!("`{name}` is declared twice"),
            self.label(span, "declared again here"),
        )
        .with_label(self.label(prev, "first declared here"))
        .with_help("rename one of them");
        self.emit(d);
    }

    pub(crate) fn label(&self, span: Span, msg: impl Into<String>) -> Label {
        Label::new(self.path.clone(), span, msg)
    }

    fn emit(&mut self, d: Diagnostic) {
        if !self.quiet {
            self.diags.push(d);
        }
    }

    fn err(
        &mut self,
        code: &'static str,
        span: Span,
        title: impl Into<String>,
        label: impl Into<String>,
        help: Option<String>,
    ) {
        self.err_fix(code, span, title, label, None, help);
    }

    /// An error with a fix, or with `help` as advice when there is no fix.
    fn err_fix(
        &mut self,
        code: &'static str,
        span: Span,
        title: impl Into<String>,
        label: impl Into<String>,
        fix: Option<Fix>,
        help: Option<String>,
    ) {
        let mut d = Diagnostic::error(code, title, self.label(span, label));
        match fix {
            Some(f) => d = d.with_fix(f),
            None => d.help = help,
        }
        self.emit(d);
    }

    /// `@ r` after the name at `name`, when exactly one region variable is in scope (the loop's
    /// `r`): likely, but which region is the user's call.
    fn placement_fix(&self, name: Span) -> Option<Fix> {
        let mut regions = self
            .locals
            .iter()
            .flat_map(|scope| scope.iter())
            .filter(|(_, (t, _))| *t == Ty::Region)
            .map(|(n, _)| n);
        let (Some(r), None) = (regions.next(), regions.next()) else {
            return None;
        };
        Some(Fix::replace(
            format!("place it in the loop's region: `@ {r}`"),
            self.path.clone(),
            Span::new(name.end as usize, name.end as usize),
            format!(" @ {r}"),
            carbonc_diagnostics::Applicability::MaybeIncorrect,
        ))
    }

    /// The text of the file being checked.
    fn source(&self) -> Option<&'a str> {
        let file = *self.db.workspace().files(self.db).get(&self.path)?;
        Some(file.text(self.db).as_str())
    }

    /// "did you mean" for the misspelt `name` at `span` of this file, as a fix.
    fn typo<'c>(
        &self,
        span: Span,
        name: &str,
        candidates: impl Iterator<Item = &'c str>,
    ) -> Option<Fix> {
        typo_fix(&self.path, span, name, false, candidates)
    }

    pub(super) fn in_module(&self) -> bool {
        self.module_decls.is_some()
    }

    fn user_type_id(&self, name: &str) -> String {
        items::type_id(&self.path, name)
    }

    // ---- exports ------------------------------------------------------------------------------

    fn exports(&mut self) -> BTreeMap<String, Export> {
        let mut out = BTreeMap::new();
        let decls: Vec<(String, Decl<'a>)> = self
            .file_decls
            .iter()
            .map(|(k, (d, _))| (k.clone(), d.clone()))
            .collect();
        for (name, d) in decls {
            let e = match d {
                Decl::Import => continue,
                Decl::Module(it) => Export::Module(self.module_sig(it)),
                Decl::Fn(it) => Export::Fn(self.fn_sig(it)),
                Decl::Enum(it) => match &it.kind {
                    ItemKind::Enum { variants, .. } => {
                        Export::Enum(enum_def(self.user_type_id(&name), variants, it.doc.clone()))
                    }
                    _ => continue,
                },
                Decl::Record(_) => match self.record_def(&name) {
                    Some(r) => Export::Record(r),
                    None => continue,
                },
                d => Export::Value(self.decl_ty(&name, &d, false)),
            };
            out.insert(name, e);
        }
        out
    }

    fn module_sig(&mut self, it: &'a Item) -> ModuleSig {
        let ItemKind::Module {
            name,
            region_var,
            items,
        } = &it.kind
        else {
            unreachable!("module item")
        };
        let mut params = Vec::new();
        let mut outputs = Vec::new();
        for sub in items {
            match &sub.kind {
                ItemKind::Param { name, ty, default } => {
                    params.push((name.text.clone(), self.lower(ty, true), default.is_some()))
                }
                ItemKind::Output {
                    name, ty: Some(ty), ..
                } => outputs.push((name.text.clone(), self.lower(ty, true))),
                _ => {}
            }
        }
        ModuleSig {
            id: self.user_type_id(&name.text),
            regional: region_var.is_some(),
            params,
            outputs,
        }
    }

    fn fn_sig(&mut self, it: &'a Item) -> FnSig {
        let ItemKind::Fn { params, ret, .. } = &it.kind else {
            unreachable!("fn item")
        };
        FnSig {
            params: params
                .iter()
                .map(|p| (p.name.text.clone(), self.lower(&p.ty, true)))
                .collect(),
            ret: self.lower(ret, true),
        }
    }

    fn record_def(&mut self, name: &str) -> Option<RecordDef> {
        let Some((Decl::Record(it), _)) = self.file_decls.get(name).cloned() else {
            return None;
        };
        let ItemKind::Record { fields, .. } = &it.kind else {
            return None;
        };
        let resolve = |p: &ast::Path| self.resolve_type_name(p);
        let fields = fields
            .iter()
            .map(|f| items::field_schema(f, &self.path, &resolve))
            .collect();
        Some(RecordDef {
            id: self.user_type_id(name),
            fields,
            doc: it.doc.clone(),
        })
    }

    // ---- name resolution ----------------------------------------------------------------------

    fn import_exports(&self, alias: &str) -> Option<&'a BTreeMap<String, Export>> {
        let path = self.imports.get(alias)?.as_ref()?;
        let file = self.db.workspace().files(self.db).get(path).copied()?;
        Some(file_exports(self.db, file))
    }

    fn resolve_type_name(&self, p: &ast::Path) -> Option<Ty> {
        // Inside a module, a name the module declares hides the file's type of that name.
        if let [one] = p.segments.as_slice()
            && self
                .module_decls
                .as_ref()
                .is_some_and(|m| m.contains_key(&one.text))
        {
            return None;
        }
        type_names(self.db, self.file_handle()).resolve(p, self.cat)
    }

    fn lower(&mut self, te: &ast::TypeExpr, quiet: bool) -> Ty {
        let mut errs = Vec::new();
        let t = {
            let resolve = |p: &ast::Path| self.resolve_type_name(p);
            items::lower_type(te, &resolve, &mut |s, m| errs.push((s, m)))
        };
        if !quiet {
            for (s, m) in errs {
                if m.starts_with("unknown type") {
                    self.err(
                        "E0101",
                        s,
                        capital(&m),
                        "not declared",
                        Some("declare the type, or import the file that declares it".into()),
                    );
                } else {
                    self.err("E0201", s, capital(&m), "not a valid type", None);
                }
            }
        }
        if let Ty::Ref { target, .. } = &t
            && !quiet
            && !self.cat.resources.contains_key(target)
        {
            let names = || self.cat.resources.keys().map(String::as_str);
            let fix = self.typo(te.span, target, names());
            let help = did_you_mean(target, names());
            self.err_fix(
                "E0103",
                te.span,
                format!("Unknown resource type `{target}`"),
                "no schema has this name",
                fix,
                help,
            );
        }
        t
    }

    fn lookup_decl(&self, name: &str) -> Option<Decl<'a>> {
        self.lookup_decl_at(name).map(|(d, _)| d)
    }

    /// The declaration `name` stands for here, with the span of its name.
    fn lookup_decl_at(&self, name: &str) -> Option<(Decl<'a>, Span)> {
        if let Some(m) = &self.module_decls
            && let Some(found) = m.get(name)
        {
            return Some(found.clone());
        }
        let (d, span) = self.file_decls.get(name)?;
        if self.module_decls.is_some()
            && matches!(d, Decl::Param(_) | Decl::Resource { .. } | Decl::Use { .. })
        {
            return None;
        }
        Some((d.clone(), *span))
    }

    fn decl_ty(&mut self, name: &str, d: &Decl<'a>, quiet: bool) -> Ty {
        let in_module = self
            .module_decls
            .as_ref()
            .is_some_and(|m| m.contains_key(name));
        let family = |elem: Ty, keys: usize| {
            if keys == 0 {
                elem
            } else {
                Ty::Family {
                    elem: Box::new(elem),
                    keys: vec![Ty::Unknown; keys],
                }
            }
        };
        match d {
            Decl::Param(it) => match &it.kind {
                ItemKind::Param { ty, .. } => self.lower(ty, true),
                _ => Ty::Unknown,
            },
            // A resource of an unknown type was reported where it is declared; nothing follows from it.
            Decl::Resource { ty, keys } if !self.cat.resources.contains_key(ty) => {
                family(Ty::Unknown, *keys)
            }
            Decl::Resource { ty, keys } => family(
                Ty::Ref {
                    target: ty.clone(),
                    placement: None,
                },
                *keys,
            ),
            Decl::Use { module, keys } => {
                let sig = self.module_by_path(module);
                family(sig.map_or(Ty::Unknown, |s| Ty::Module(s.id)), *keys)
            }
            Decl::Let(it) => {
                let key = (in_module, name.to_string());
                if let Some(t) = self.let_types.borrow().get(&key) {
                    return t.clone();
                }
                if !self.let_visiting.borrow_mut().insert(key.clone()) {
                    return Ty::Unknown;
                }
                let ItemKind::Let { ty, value, .. } = &it.kind else {
                    unreachable!("let item")
                };
                let saved_quiet = self.quiet;
                self.quiet = true;
                let saved_locals = std::mem::take(&mut self.locals);
                let t = match ty {
                    Some(te) => self.lower(te, true),
                    None => self.infer(value, None),
                };
                self.locals = saved_locals;
                self.quiet = saved_quiet || quiet;
                self.quiet = saved_quiet;
                self.let_visiting.borrow_mut().remove(&key);
                self.let_types.borrow_mut().insert(key, t.clone());
                t
            }
            _ => Ty::Unknown,
        }
    }

    fn module_by_path(&mut self, p: &ast::Path) -> Option<ModuleSig> {
        match p.segments.as_slice() {
            [one] => match self.lookup_decl(&one.text) {
                Some(Decl::Module(it)) => Some(self.module_sig(it)),
                _ => None,
            },
            [alias, name] => match self.import_exports(&alias.text)?.get(&name.text) {
                Some(Export::Module(m)) => Some(m.clone()),
                _ => None,
            },
            _ => None,
        }
    }

    pub(crate) fn module_sig_by_id(&mut self, id: &str) -> Option<ModuleSig> {
        let (file, name) = id.rsplit_once("::")?;
        if file == self.path {
            let Some((Decl::Module(it), _)) = self.file_decls.get(name).cloned() else {
                return None;
            };
            return Some(self.module_sig(it));
        }
        let f = self.db.workspace().files(self.db).get(file).copied()?;
        match file_exports(self.db, f).get(name) {
            Some(Export::Module(m)) => Some(m.clone()),
            _ => None,
        }
    }

    fn enum_by_id(&self, id: &str) -> Option<EnumDef> {
        if let Some(e) = self.cat.enums.get(id) {
            return Some(e.clone());
        }
        let (file, name) = id.rsplit_once("::")?;
        if file == self.path {
            let Some((Decl::Enum(it), _)) = self.file_decls.get(name) else {
                return None;
            };
            let ItemKind::Enum { variants, .. } = &it.kind else {
                return None;
            };
            return Some(enum_def(id.to_string(), variants, None));
        }
        let f = self.db.workspace().files(self.db).get(file).copied()?;
        match file_exports(self.db, f).get(name) {
            Some(Export::Enum(e)) => Some(e.clone()),
            _ => None,
        }
    }

    fn record_by_id(&mut self, id: &str) -> Option<Vec<FieldSchema>> {
        if let Some(r) = self.cat.records.get(id) {
            return Some(r.fields.clone());
        }
        let (file, name) = id.rsplit_once("::")?;
        if file == self.path {
            return self.record_def(name).map(|r| r.fields);
        }
        let f = self.db.workspace().files(self.db).get(file).copied()?;
        match file_exports(self.db, f).get(name) {
            Some(Export::Record(r)) => Some(r.fields.clone()),
            _ => None,
        }
    }

    fn local(&self, name: &str) -> Option<Ty> {
        self.local_binding(name).map(|(t, _)| t)
    }

    fn local_binding(&self, name: &str) -> Option<(Ty, Span)> {
        self.locals.iter().rev().find_map(|s| s.get(name).cloned())
    }

    fn push_local(&mut self, name: &ast::Name, ty: Ty) {
        if self.locals.is_empty() {
            self.locals.push(BTreeMap::new());
        }
        self.note_decl(name.span, ty.clone());
        self.locals
            .last_mut()
            .expect("a scope")
            .insert(name.text.clone(), (ty, name.span));
    }

    fn all_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.locals.iter().flat_map(|s| s.keys().cloned()).collect();
        v.extend(self.file_decls.keys().cloned());
        if let Some(m) = &self.module_decls {
            v.extend(m.keys().cloned());
        }
        v.extend(self.regions.iter().cloned());
        v.push("regions".into());
        v
    }

    fn name_ty(&mut self, name: &ast::Name) -> Ty {
        if let Some((t, at)) = self.local_binding(&name.text) {
            self.note_local(name.span, at, t.clone());
            return t;
        }
        if let Some((d, at)) = self.lookup_decl_at(&name.text) {
            if self.index.is_some() {
                let t = match &d {
                    Decl::Import
                    | Decl::Module(_)
                    | Decl::Fn(_)
                    | Decl::Enum(_)
                    | Decl::Record(_) => Ty::Unknown,
                    d => self.decl_ty(&name.text, d, true),
                };
                self.note_local(name.span, at, t);
            }
            return match d {
                Decl::Import | Decl::Module(_) | Decl::Fn(_) | Decl::Enum(_) | Decl::Record(_) => {
                    self.err(
                        "E0201",
                        name.span,
                        format!("`{}` is not a value", name.text),
                        "used as a value here",
                        Some(
                            "use one of its members, for example `alias.name` or `Enum.Variant`"
                                .into(),
                        ),
                    );
                    Ty::Unknown
                }
                d => self.decl_ty(&name.text, &d, false),
            };
        }
        if self.regions.contains(&name.text) {
            self.note(
                name.span,
                Target::Region {
                    name: name.text.clone(),
                },
                Ty::Region,
            );
            return Ty::Region;
        }
        if name.text == "regions" {
            let t = Ty::List(Box::new(Ty::Region));
            self.note(
                name.span,
                Target::Builtin {
                    name: "regions".into(),
                },
                t.clone(),
            );
            return t;
        }
        let hidden = self.module_decls.is_some() && self.file_decls.contains_key(&name.text);
        let (fix, help) = if hidden {
            let help = format!(
                "modules cannot see the file's resources and parameters: pass `{}` in as a module `param`",
                name.text
            );
            (None, Some(help))
        } else {
            let names = self.all_names();
            let fix = self.typo(name.span, &name.text, names.iter().map(String::as_str));
            (
                fix,
                did_you_mean(&name.text, names.iter().map(String::as_str)),
            )
        };
        self.err_fix(
            "E0101",
            name.span,
            format!("Cannot find `{}` in this scope", name.text),
            "not declared",
            fix,
            help,
        );
        Ty::Unknown
    }
}

/// Whether a value of type `actual` may be used where `expected` is wanted (placement aside).
pub fn compatible(actual: &Ty, expected: &Ty) -> bool {
    match (actual, expected) {
        (Ty::Unknown, _) | (_, Ty::Unknown) => true,
        (Ty::NoneTy, Ty::Optional(_)) => true,
        (Ty::Optional(a), Ty::Optional(b)) => compatible(a, b),
        (a, Ty::Optional(b)) => compatible(a, b),
        (Ty::Secret(a), Ty::Secret(b)) => compatible(a, b),
        (a, Ty::Secret(b)) => compatible(a, b),
        (Ty::List(a), Ty::List(b)) | (Ty::Map(a), Ty::Map(b)) => compatible(a, b),
        (Ty::AnonRecord(fs), Ty::Map(v)) => fs.iter().all(|(_, t)| compatible(t, v)),
        (Ty::Ref { target: a, .. }, Ty::Ref { target: b, .. }) => a == b,
        (a, b) => a == b,
    }
}

pub(crate) fn capital(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}
