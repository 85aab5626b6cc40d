//! The per-file static checker: name resolution and types. Placement and the domain rules need
//! values, so they run on the evaluated program (`eval.rs`, `rules/`).

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use carbonc_diagnostics::{Diagnostic, Label};
use carbonc_syntax::Span;
use carbonc_syntax::ast::{self, Expr, ExprKind, Item, ItemKind, Scope};

use crate::builtins;
use crate::db::{Db, SourceFile};
use crate::items::{
    self, catalog, enum_def, file_imports, import_cycle_edges, parse_file, region_names,
};
use crate::suggest::did_you_mean;
use crate::ty::{Catalog, EnumDef, FieldSchema, RecordDef, Ty};

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

#[derive(Clone)]
enum Decl<'a> {
    Let(&'a Item),
    Param(&'a ast::TypeExpr),
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
    locals: Vec<BTreeMap<String, Ty>>,
    let_types: RefCell<BTreeMap<(bool, String), Ty>>,
    let_visiting: RefCell<BTreeSet<(bool, String)>>,
    regions: BTreeSet<String>,
    quiet: bool,
    pub(crate) diags: Vec<Diagnostic>,
}

fn collect<'a>(
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
            ItemKind::Param { name, ty, .. } => add(name, Decl::Param(ty)),
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
        let mut d = Diagnostic::error(code, title, self.label(span, label));
        if let Some(h) = help {
            d = d.with_help(h);
        }
        self.emit(d);
    }

    fn user_type_id(&self, name: &str) -> String {
        format!("{}::{name}", self.path)
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
        let text = p.text();
        if let [one] = p.segments.as_slice() {
            match self.lookup_decl(&one.text) {
                Some(Decl::Enum(_)) => return Some(Ty::Enum(self.user_type_id(&one.text))),
                Some(Decl::Record(_)) => return Some(Ty::Record(self.user_type_id(&one.text))),
                _ => {}
            }
        }
        if let [alias, name] = p.segments.as_slice()
            && let Some(exports) = self.import_exports(&alias.text)
        {
            return match exports.get(&name.text) {
                Some(Export::Enum(e)) => Some(Ty::Enum(e.id.clone())),
                Some(Export::Record(r)) => Some(Ty::Record(r.id.clone())),
                _ => None,
            };
        }
        if self.cat.enums.contains_key(&text) {
            return Some(Ty::Enum(text));
        }
        if self.cat.records.contains_key(&text) {
            return Some(Ty::Record(text));
        }
        None
    }

    fn lower(&mut self, te: &ast::TypeExpr, quiet: bool) -> Ty {
        let mut errs = Vec::new();
        let t = {
            let resolve = |p: &ast::Path| self.resolve_type_name(p);
            items::lower_type(te, &resolve, &mut |s, m| errs.push((s, m)))
        };
        if !quiet {
            for (s, m) in errs {
                self.err(
                    "E0101",
                    s,
                    capital(&m),
                    "not declared",
                    Some("declare the type, or import the file that declares it".into()),
                );
            }
        }
        if let Ty::Ref { target, .. } = &t
            && !quiet
            && !self.cat.resources.contains_key(target)
        {
            let help = did_you_mean(target, self.cat.resources.keys().map(String::as_str));
            self.err(
                "E0103",
                te.span,
                format!("Unknown resource type `{target}`"),
                "no schema has this name",
                help,
            );
        }
        t
    }

    fn lookup_decl(&self, name: &str) -> Option<Decl<'a>> {
        if let Some(m) = &self.module_decls
            && let Some((d, _)) = m.get(name)
        {
            return Some(d.clone());
        }
        let (d, _) = self.file_decls.get(name)?;
        if self.module_decls.is_some()
            && matches!(d, Decl::Param(_) | Decl::Resource { .. } | Decl::Use { .. })
        {
            return None;
        }
        Some(d.clone())
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
            Decl::Param(te) => self.lower(te, true),
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
        self.locals.iter().rev().find_map(|s| s.get(name).cloned())
    }

    fn push_local(&mut self, name: &str, ty: Ty) {
        if self.locals.is_empty() {
            self.locals.push(BTreeMap::new());
        }
        self.locals
            .last_mut()
            .expect("a scope")
            .insert(name.to_string(), ty);
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
        if let Some(t) = self.local(&name.text) {
            return t;
        }
        if let Some(d) = self.lookup_decl(&name.text) {
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
            return Ty::Region;
        }
        if name.text == "regions" {
            return Ty::List(Box::new(Ty::Region));
        }
        let hidden = self.module_decls.is_some() && self.file_decls.contains_key(&name.text);
        let help = if hidden {
            Some(format!(
                "modules cannot see the file's resources and parameters: pass `{}` in as a module `param`",
                name.text
            ))
        } else {
            did_you_mean(&name.text, self.all_names().iter().map(String::as_str))
        };
        self.err(
            "E0101",
            name.span,
            format!("Cannot find `{}` in this scope", name.text),
            "not declared",
            help,
        );
        Ty::Unknown
    }

    // ---- items --------------------------------------------------------------------------------

    fn check_all(&mut self) {
        for imp in file_imports(self.db, self.file_handle()) {
            let ws = self.db.workspace();
            if let Some(reason) = ws.unreadable(self.db).get(&imp.path) {
                self.err(
                    "E1101",
                    imp.span,
                    format!("Cannot read imported file `{}`", imp.path),
                    reason.clone(),
                    Some("check the path; imports are relative to the importing file".into()),
                );
            } else if !ws.files(self.db).contains_key(&imp.path) {
                self.err(
                    "E1101",
                    imp.span,
                    format!("Cannot find imported file `{}`", imp.path),
                    "no such file",
                    Some("check the path; imports are relative to the importing file".into()),
                );
            } else if import_cycle_edges(self.db).contains(&(self.path.clone(), imp.path.clone())) {
                self.err(
                    "E1102",
                    imp.span,
                    "Import cycle",
                    format!("`{}` imports this file back", imp.path),
                    Some("move the shared declarations into a third file that both import".into()),
                );
            }
        }
        let items = self.items;
        self.check_items(items, 0);
    }

    fn file_handle(&self) -> SourceFile {
        self.db.workspace().files(self.db)[&self.path]
    }

    fn check_items(&mut self, items: &'a [Item], depth: usize) {
        self.locals.push(BTreeMap::new());
        // Loop-local lets are visible to the whole loop body.
        for it in items {
            if depth > 0
                && let ItemKind::Let { name, ty, value } = &it.kind
            {
                let t = match ty {
                    Some(te) => self.lower(te, true),
                    None => {
                        let q = self.quiet;
                        self.quiet = true;
                        let t = self.infer(value, None);
                        self.quiet = q;
                        t
                    }
                };
                self.push_local(&name.text, t);
            }
        }
        for it in items {
            self.check_item(it, depth);
        }
        self.locals.pop();
    }

    fn check_item(&mut self, it: &'a Item, depth: usize) {
        let top = depth == 0 && self.module_decls.is_none();
        match &it.kind {
            ItemKind::Import { .. } if !top || depth > 0 => {
                self.not_here(it.span, "`import` belongs at the top of a file")
            }
            ItemKind::Import { .. } | ItemKind::Error => {}
            ItemKind::Region { name, fields } => {
                if !top {
                    self.not_here(it.span, "regions are declared at the top level of a file");
                }
                crate::regions::check_region_decl(self, name, fields);
            }
            ItemKind::Param { ty, default, .. } => {
                if depth > 0 {
                    self.not_here(
                        it.span,
                        "parameters are declared at the top level of a file or module",
                    );
                }
                let t = self.lower(ty, false);
                if let Some(d) = default {
                    self.check_expr(d, &t, "the parameter's type");
                }
            }
            ItemKind::Let { ty, value, .. } => match ty {
                Some(te) => {
                    let t = self.lower(te, false);
                    self.check_expr(value, &t, "the declared type");
                }
                None => {
                    self.infer(value, None);
                }
            },
            ItemKind::Resource {
                ty,
                name,
                placement,
                body,
            } => self.check_resource(ty, name, placement.as_ref(), body),
            ItemKind::Use {
                module,
                name,
                placement,
                args,
            } => self.check_use(module, name, placement.as_ref(), args),
            ItemKind::Output { ty, value, .. } => {
                let declared = ty.as_ref().map(|te| self.lower(te, false));
                let t = match &declared {
                    Some(d) => {
                        self.check_expr(value, d, "the declared type");
                        d.clone()
                    }
                    None => self.infer(value, None),
                };
                if top && t.contains_secret() {
                    let d = Diagnostic::error("E1001", "Secret value in an output", self.label(value.span, "this value is secret"))
                        .with_note("outputs are printed and stored in plain text")
                        .with_help("output something that is not secret, or convert it visibly with `reveal(...)` if exposing it is intended");
                    self.emit(d);
                }
            }
            ItemKind::Module {
                items, region_var, ..
            } => {
                if !top {
                    self.not_here(it.span, "modules are declared at the top level of a file");
                    return;
                }
                let mut decls = BTreeMap::new();
                let mut dups = Vec::new();
                collect(items, 0, &mut decls, &mut dups, true);
                for (n, s, p) in dups {
                    self.duplicate(&n, s, p);
                }
                self.module_decls = Some(decls);
                self.locals.push(BTreeMap::new());
                if let Some(r) = region_var {
                    self.push_local(&r.text, Ty::Region);
                }
                self.check_items(items, 0);
                self.locals.pop();
                self.module_decls = None;
            }
            ItemKind::For { var, iter, items } => {
                let t = self.infer(iter, None);
                let elem = self.elem_ty(&t, iter.span);
                self.locals.push(BTreeMap::new());
                self.push_local(&var.text, elem);
                self.check_items(items, depth + 1);
                self.locals.pop();
            }
            ItemKind::If {
                cond,
                then_items,
                else_items,
            } => {
                self.check_expr(cond, &Ty::Bool, "a condition");
                self.check_items(then_items, depth + 1);
                if let Some(e) = else_items {
                    self.check_items(e, depth + 1);
                }
            }
            ItemKind::Fn {
                params, ret, body, ..
            } => {
                if !top {
                    self.not_here(it.span, "functions are declared at the top level of a file");
                }
                self.locals.push(BTreeMap::new());
                for p in params {
                    let t = self.lower(&p.ty, false);
                    self.push_local(&p.name.text, t);
                }
                let r = self.lower(ret, false);
                self.check_expr(body, &r, "the declared return type");
                self.locals.pop();
            }
            ItemKind::Enum { variants, .. } => {
                let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
                for v in variants {
                    if let Some(prev) = seen.insert(&v.name.text, v.name.span) {
                        self.duplicate(&v.name.text, v.name.span, prev);
                    }
                }
            }
            ItemKind::Record { fields, .. } => {
                for f in fields {
                    let t = self.lower(&f.ty, false);
                    if let Some(d) = &f.default {
                        self.check_expr(d, &t, "the field's type");
                    }
                }
            }
            ItemKind::ResourceType { .. } => {
                if carbonc_stdlib::prelude_namespace(&self.path).is_none() {
                    self.not_here(it.span, "resource types are declared in `stdlib/aws`");
                }
            }
        }
    }

    fn not_here(&mut self, span: Span, why: &str) {
        self.err(
            "E0112",
            span,
            "Declaration not allowed here",
            why.to_string(),
            Some(capital(why)),
        );
    }

    fn elem_ty(&mut self, t: &Ty, span: Span) -> Ty {
        match t.core() {
            Ty::List(e) => (**e).clone(),
            Ty::Map(v) => Ty::AnonRecord(vec![
                ("key".into(), Ty::String),
                ("value".into(), (**v).clone()),
            ]),
            Ty::Unknown => Ty::Unknown,
            other => {
                self.err(
                    "E0203",
                    span,
                    format!("Cannot iterate over `{other}`"),
                    "not a list or map",
                    Some("iterate over a list (such as `regions`) or a map".into()),
                );
                Ty::Unknown
            }
        }
    }

    fn check_resource(
        &mut self,
        ty: &ast::Path,
        name: &ast::Name,
        placement: Option<&Expr>,
        body: &[ast::Assign],
    ) {
        let Some(schema) = self.cat.resources.get(&ty.text()) else {
            let help = did_you_mean(&ty.text(), self.cat.resources.keys().map(String::as_str));
            self.err(
                "E0103",
                ty.span,
                format!("Unknown resource type `{}`", ty.text()),
                "no schema has this name",
                help.or_else(|| {
                    Some("resource types live in `stdlib/aws`, for example `aws.kms.Key`".into())
                }),
            );
            for a in body {
                self.infer(&a.value, None);
            }
            return;
        };
        let regional = schema.scope == Scope::Regional;
        match (regional, placement) {
            (true, None) => {
                let d = Diagnostic::error(
                    "E0303",
                    format!("{} `{}` has no region", schema.human_name(), name.text),
                    self.label(name.span, "needs a placement"),
                )
                .with_help(format!(
                    "place it in a region: `resource {} {} @ <region> {{ ... }}`",
                    ty.text(),
                    name.text
                ));
                self.emit(d);
            }
            (false, Some(p)) => {
                let d = Diagnostic::error(
                    "E0304",
                    format!("{} is global and takes no region", schema.human_name()),
                    self.label(p.span, "placement given here"),
                )
                .with_help("remove the `@ ...`: this resource type lives in no region");
                self.emit(d);
            }
            (_, Some(p)) => self.check_expr(p, &Ty::Region, "a placement"),
            _ => {}
        }
        let fields = schema.fields.clone();
        self.check_fields(&fields, body, name.span, &schema.human_name(), &schema.name);
    }

    /// Checks `name = value` assignments against declared fields (resource, record or module params).
    fn check_fields(
        &mut self,
        fields: &[FieldSchema],
        body: &[ast::Assign],
        owner_span: Span,
        owner: &str,
        owner_ty: &str,
    ) {
        let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
        for a in body {
            if let Some(prev) = seen.insert(&a.name.text, a.name.span) {
                self.duplicate(&a.name.text, a.name.span, prev);
            }
            match fields.iter().find(|f| f.name == a.name.text) {
                None => {
                    let help = did_you_mean(
                        &a.name.text,
                        fields
                            .iter()
                            .filter(|f| !f.computed)
                            .map(|f| f.name.as_str()),
                    )
                    .or_else(|| Some("remove this field".into()));
                    self.err(
                        "E0104",
                        a.name.span,
                        format!("{owner} has no field `{}`", a.name.text),
                        format!("unknown field of `{owner_ty}`"),
                        help,
                    );
                    self.infer(&a.value, None);
                }
                Some(f) if f.computed => {
                    self.err(
                        "E0106",
                        a.name.span,
                        format!("`{}` is computed by AWS and cannot be set", a.name.text),
                        "computed field",
                        Some("remove it: its value is known after apply".into()),
                    );
                    self.infer(&a.value, None);
                }
                Some(f) => {
                    let expected = f.ty.clone();
                    self.check_expr(&a.value, &expected, &format!("field `{}`", f.name));
                }
            }
        }
        let missing: Vec<&FieldSchema> = fields
            .iter()
            .filter(|f| f.required() && !seen.contains_key(f.name.as_str()))
            .collect();
        if !missing.is_empty() {
            let names: Vec<String> = missing.iter().map(|f| format!("`{}`", f.name)).collect();
            let example: Vec<String> = missing
                .iter()
                .map(|f| format!("{} = <{}>", f.name, f.ty))
                .collect();
            let title = if missing.len() == 1 {
                format!("{owner} is missing the required field {}", names[0])
            } else {
                format!(
                    "{owner} is missing the required fields {}",
                    names.join(", ")
                )
            };
            let d = Diagnostic::error("E0105", title, self.label(owner_span, "declared here"))
                .with_help(format!("add {}", example.join(", ")));
            self.emit(d);
        }
    }

    fn check_use(
        &mut self,
        module: &ast::Path,
        name: &ast::Name,
        placement: Option<&Expr>,
        args: &[ast::Assign],
    ) {
        let Some(sig) = self.module_by_path(module) else {
            self.err(
                "E0109",
                module.span,
                format!("Cannot find module `{}`", module.text()),
                "no module with this name",
                Some("import the file that declares it and write `alias.module`".into()),
            );
            for a in args {
                self.infer(&a.value, None);
            }
            return;
        };
        match (sig.regional, placement) {
            (true, None) => self.err(
                "E0303",
                name.span,
                format!("Module `{}` needs a region", module.text()),
                "needs a placement",
                Some(format!(
                    "place it: `use {} as {} @ <region> {{ ... }}`",
                    module.text(),
                    name.text
                )),
            ),
            (false, Some(p)) => self.err(
                "E0304",
                p.span,
                format!("Module `{}` is global and takes no region", module.text()),
                "placement given here",
                Some("remove the `@ ...`".into()),
            ),
            (_, Some(p)) => self.check_expr(p, &Ty::Region, "a placement"),
            _ => {}
        }
        let fields: Vec<FieldSchema> = sig
            .params
            .iter()
            .map(|(n, t, has_default)| FieldSchema {
                name: n.clone(),
                ty: t.clone(),
                default: has_default.then(|| Expr {
                    kind: ExprKind::None,
                    span: Span::default(),
                }),
                computed: false,
                forces_new: false,
                doc: None,
                file: String::new(),
                span: Span::default(),
            })
            .collect();
        self.check_fields(
            &fields,
            args,
            name.span,
            &format!("Module `{}`", module.text()),
            &module.text(),
        );
    }

    // ---- expressions --------------------------------------------------------------------------

    /// Checks `e` against `expected`, reporting a mismatch. `what` says where the type comes from.
    pub(crate) fn check_expr(&mut self, e: &Expr, expected: &Ty, what: &str) {
        let actual = self.infer(e, Some(expected));
        self.assignable(&actual, expected, e.span, what);
    }

    fn assignable(&mut self, actual: &Ty, expected: &Ty, span: Span, what: &str) {
        if actual.contains_secret()
            && !expected.contains_secret()
            && !matches!(expected, Ty::Unknown)
        {
            let d = Diagnostic::error("E1001", format!("Secret value flows into {what}"), self.label(span, format!("this value is `{actual}`")))
                .with_note(format!("{what} is `{expected}`, which is not secret: it would appear in plan output and state"))
                .with_help("use a `Secret<...>` field, or convert it visibly with `reveal(...)` if exposing it is intended");
            self.emit(d);
            return;
        }
        if !compatible(actual, expected) {
            self.err(
                "E0201",
                span,
                format!("Mismatched types: expected `{expected}`, found `{actual}`"),
                format!("expected `{expected}` for {what}"),
                None,
            );
        }
    }

    pub(crate) fn infer(&mut self, e: &Expr, expected: Option<&Ty>) -> Ty {
        let expected_core = expected.map(|t| t.core().clone());
        match &e.kind {
            ExprKind::Error => Ty::Unknown,
            ExprKind::Int(_) => Ty::Int,
            ExprKind::Bool(_) => Ty::Bool,
            ExprKind::None => Ty::NoneTy,
            ExprKind::Str(parts) => {
                let mut secret = false;
                for p in parts {
                    if let ast::StrPart::Interp(x) = p {
                        let t = self.infer(x, None);
                        secret |= t.is_secret();
                        match t.core() {
                            Ty::String
                            | Ty::Int
                            | Ty::Bool
                            | Ty::Enum(_)
                            | Ty::Region
                            | Ty::Unknown => {}
                            other => self.err(
                                "E0201",
                                x.span,
                                format!("Cannot interpolate a value of type `{other}`"),
                                "not a string, number, boolean, enum or region",
                                Some(
                                    "interpolate one of its fields, or use `join(...)` for lists"
                                        .into(),
                                ),
                            ),
                        }
                    }
                }
                if secret {
                    Ty::Secret(Box::new(Ty::String))
                } else {
                    Ty::String
                }
            }
            ExprKind::Name(n) => self.name_ty(n),
            ExprKind::Variant(v) => match &expected_core {
                Some(Ty::Enum(id)) => {
                    self.check_variant(id, v);
                    Ty::Enum(id.clone())
                }
                Some(Ty::Unknown) => Ty::Unknown,
                _ => {
                    let hint = expected_core
                        .as_ref()
                        .map_or(String::new(), |t| format!(" (a `{t}` is expected here)"));
                    self.err(
                        "E0201",
                        e.span,
                        format!("Cannot tell which enum `.{}` belongs to{hint}", v.text),
                        "enum variant without a known enum",
                        Some(format!("write the enum's name: `Enum.{}`", v.text)),
                    );
                    Ty::Unknown
                }
            },
            ExprKind::List(items) => {
                let elem_expected = match &expected_core {
                    Some(Ty::List(t)) => Some((**t).clone()),
                    _ => None,
                };
                let mut elem = elem_expected.clone();
                for it in items {
                    match &elem {
                        Some(t) => {
                            let t = t.clone();
                            self.check_expr(it, &t, "a list element");
                        }
                        None => elem = Some(self.infer(it, None)),
                    }
                }
                Ty::List(Box::new(elem.unwrap_or(Ty::Unknown)))
            }
            ExprKind::Record(fields) => match &expected_core {
                Some(Ty::Record(id)) => {
                    let id = id.clone();
                    match self.record_by_id(&id) {
                        Some(defs) => {
                            self.check_fields(
                                &defs,
                                fields,
                                e.span,
                                &format!("Record `{}`", crate::ty::short_name(&id)),
                                crate::ty::short_name(&id),
                            );
                        }
                        None => {
                            for f in fields {
                                self.infer(&f.value, None);
                            }
                        }
                    }
                    Ty::Record(id)
                }
                Some(Ty::Map(v)) => {
                    let v = (**v).clone();
                    for f in fields {
                        self.check_expr(&f.value, &v, "a map value");
                    }
                    Ty::Map(Box::new(v))
                }
                _ => Ty::AnonRecord(
                    fields
                        .iter()
                        .map(|f| (f.name.text.clone(), self.infer(&f.value, None)))
                        .collect(),
                ),
            },
            ExprKind::ListComp {
                var,
                iter,
                cond,
                body,
            } => {
                let t = self.infer(iter, None);
                let elem = self.elem_ty(&t, iter.span);
                self.locals.push(BTreeMap::new());
                self.push_local(&var.text, elem);
                if let Some(c) = cond {
                    self.check_expr(c, &Ty::Bool, "a condition");
                }
                let exp = match &expected_core {
                    Some(Ty::List(t)) => Some((**t).clone()),
                    _ => None,
                };
                let b = self.infer(body, exp.as_ref());
                self.locals.pop();
                Ty::List(Box::new(b))
            }
            ExprKind::MapComp {
                var,
                iter,
                cond,
                key,
                value,
            } => {
                let t = self.infer(iter, None);
                let elem = self.elem_ty(&t, iter.span);
                self.locals.push(BTreeMap::new());
                self.push_local(&var.text, elem);
                if let Some(c) = cond {
                    self.check_expr(c, &Ty::Bool, "a condition");
                }
                self.check_expr(key, &Ty::String, "a map key");
                let exp = match &expected_core {
                    Some(Ty::Map(t)) => Some((**t).clone()),
                    _ => None,
                };
                let v = self.infer(value, exp.as_ref());
                self.locals.pop();
                Ty::Map(Box::new(v))
            }
            ExprKind::If {
                cond,
                then_expr,
                else_expr,
            } => {
                self.check_expr(cond, &Ty::Bool, "a condition");
                let a = self.infer(then_expr, expected);
                let b = self.infer(else_expr, expected.or(Some(&a)));
                if a == Ty::NoneTy && b != Ty::NoneTy {
                    Ty::Optional(Box::new(b))
                } else if b == Ty::NoneTy && a != Ty::NoneTy {
                    Ty::Optional(Box::new(a))
                } else if compatible(&b, &a) {
                    a
                } else if compatible(&a, &b) {
                    b
                } else {
                    self.err(
                        "E0201",
                        else_expr.span,
                        format!("`if` branches differ: `{a}` and `{b}`"),
                        format!("this is `{b}`"),
                        Some("make both branches the same type".into()),
                    );
                    Ty::Unknown
                }
            }
            ExprKind::Unary { op, expr } => match op {
                ast::UnOp::Not => {
                    self.check_expr(expr, &Ty::Bool, "`!`");
                    Ty::Bool
                }
                ast::UnOp::Neg => {
                    self.check_expr(expr, &Ty::Int, "`-`");
                    Ty::Int
                }
            },
            ExprKind::Binary { op, lhs, rhs } => self.infer_binary(*op, lhs, rhs, expected),
            ExprKind::Field { base, name } => self.infer_field(e, base, name),
            ExprKind::Index { base, args } => self.infer_index(base, args),
            ExprKind::Call { callee, args } => self.infer_call(e, callee, args),
        }
    }

    fn check_variant(&mut self, id: &str, v: &ast::Name) {
        if let Some(def) = self.enum_by_id(id)
            && !def.has(&v.text)
        {
            let help = did_you_mean(&v.text, def.variants.iter().map(|(n, _, _)| n.as_str()))
                .or_else(|| {
                    let all: Vec<String> = def
                        .variants
                        .iter()
                        .take(8)
                        .map(|(n, _, _)| format!("`.{n}`"))
                        .collect();
                    Some(format!("use one of {}", all.join(", ")))
                });
            self.err(
                "E0111",
                v.span,
                format!(
                    "`{}` has no variant `{}`",
                    crate::ty::short_name(id),
                    v.text
                ),
                "unknown variant",
                help,
            );
        }
    }

    fn infer_binary(
        &mut self,
        op: ast::BinOp,
        lhs: &Expr,
        rhs: &Expr,
        expected: Option<&Ty>,
    ) -> Ty {
        use ast::BinOp::*;
        match op {
            Or | And => {
                self.check_expr(lhs, &Ty::Bool, &format!("`{}`", op.symbol()));
                self.check_expr(rhs, &Ty::Bool, &format!("`{}`", op.symbol()));
                Ty::Bool
            }
            Eq | Ne => {
                let a = self.infer(lhs, None);
                let a_core = a.core().clone();
                let b = self.infer(rhs, Some(&a_core));
                if !compatible(&b, &a) && !compatible(&a, &b) {
                    self.err(
                        "E0201",
                        rhs.span,
                        format!("Cannot compare `{a}` with `{b}`"),
                        format!("this is `{b}`"),
                        None,
                    );
                }
                Ty::Bool
            }
            Lt | Le | Gt | Ge => {
                self.check_expr(lhs, &Ty::Int, &format!("`{}`", op.symbol()));
                self.check_expr(rhs, &Ty::Int, &format!("`{}`", op.symbol()));
                Ty::Bool
            }
            Add => {
                let a = self.infer(lhs, None);
                if matches!(a.core(), Ty::String) {
                    let b = self.infer(rhs, None);
                    self.assignable(b.core(), &Ty::String, rhs.span, "`+` on strings");
                    if a.is_secret() || b.is_secret() {
                        Ty::Secret(Box::new(Ty::String))
                    } else {
                        Ty::String
                    }
                } else {
                    self.assignable(&a, &Ty::Int, lhs.span, "`+`");
                    self.check_expr(rhs, &Ty::Int, "`+`");
                    Ty::Int
                }
            }
            Sub | Mul | Div | Rem => {
                self.check_expr(lhs, &Ty::Int, &format!("`{}`", op.symbol()));
                self.check_expr(rhs, &Ty::Int, &format!("`{}`", op.symbol()));
                Ty::Int
            }
            Coalesce => {
                let a = self.infer(
                    lhs,
                    expected.map(|t| Ty::Optional(Box::new(t.clone()))).as_ref(),
                );
                let inner = match a {
                    Ty::Optional(t) => *t,
                    Ty::NoneTy => Ty::Unknown,
                    t => t,
                };
                let b = self.infer(rhs, Some(&inner));
                self.assignable(&b, &inner, rhs.span, "the other side of `??`");
                inner
            }
        }
    }

    /// Flattens `a.b.c` into names when the expression is a plain path.
    fn as_path(e: &Expr) -> Option<Vec<&ast::Name>> {
        match &e.kind {
            ExprKind::Name(n) => Some(vec![n]),
            ExprKind::Field { base, name } => {
                let mut p = Self::as_path(base)?;
                p.push(name);
                Some(p)
            }
            _ => None,
        }
    }

    fn infer_field(&mut self, whole: &Expr, base: &Expr, name: &ast::Name) -> Ty {
        // Paths first: `alias.item`, `Enum.Variant`, `aws.kms.KeySpec.X`.
        if let Some(path) = Self::as_path(base)
            && self.local(&path[0].text).is_none()
        {
            let first = &path[0].text;
            match (self.lookup_decl(first), path.len()) {
                (Some(Decl::Import), 1) => {
                    let Some(exports) = self.import_exports(first) else {
                        return Ty::Unknown;
                    };
                    return match exports.get(&name.text) {
                        Some(Export::Value(t)) => t.clone(),
                        Some(_) => {
                            self.err(
                                "E0201",
                                whole.span,
                                format!("`{first}.{}` is not a value", name.text),
                                "used as a value here",
                                None,
                            );
                            Ty::Unknown
                        }
                        None => {
                            let help = did_you_mean(&name.text, exports.keys().map(String::as_str));
                            self.err(
                                "E0101",
                                name.span,
                                format!("`{first}` has no item `{}`", name.text),
                                "not declared in the imported file",
                                help,
                            );
                            Ty::Unknown
                        }
                    };
                }
                (Some(Decl::Import), 2) => {
                    if let Some(Export::Enum(def)) = self
                        .import_exports(first)
                        .and_then(|x| x.get(&path[1].text))
                    {
                        let id = def.id.clone();
                        self.check_variant(&id, name);
                        return Ty::Enum(id);
                    }
                }
                (Some(Decl::Enum(_)), 1) => {
                    let id = self.user_type_id(first);
                    self.check_variant(&id, name);
                    return Ty::Enum(id);
                }
                (None, _) if !self.regions.contains(first) && first != "regions" => {
                    let text: Vec<&str> = path.iter().map(|n| n.text.as_str()).collect();
                    let id = text.join(".");
                    if self.cat.enums.contains_key(&id) {
                        self.check_variant(&id, name);
                        return Ty::Enum(id);
                    }
                }
                _ => {}
            }
        }
        let bt = self.infer(base, None);
        self.field_of(&bt, name)
    }

    fn field_of(&mut self, bt: &Ty, name: &ast::Name) -> Ty {
        let missing = |ck: &mut Self, owner: String, options: Vec<String>| {
            let help = did_you_mean(&name.text, options.iter().map(String::as_str));
            ck.err(
                "E0202",
                name.span,
                format!("`{owner}` has no field `{}`", name.text),
                "unknown field",
                help,
            );
            Ty::Unknown
        };
        match bt {
            Ty::Unknown => Ty::Unknown,
            Ty::Secret(t) => self.field_of(t, name).secret(),
            Ty::Optional(t) => match self.field_of(t, name) {
                Ty::Optional(x) => Ty::Optional(x),
                Ty::Unknown => Ty::Unknown,
                x => Ty::Optional(Box::new(x)),
            },
            Ty::Region => match name.text.as_str() {
                "name" | "code" | "maintenance" => Ty::String,
                "role" => Ty::Enum(crate::regions::ROLE_ENUM.into()),
                _ => missing(
                    self,
                    "Region".into(),
                    vec![
                        "name".into(),
                        "code".into(),
                        "role".into(),
                        "maintenance".into(),
                    ],
                ),
            },
            Ty::Ref { target, .. } => match self.cat.resources.get(target) {
                Some(s) => match s.field(&name.text) {
                    Some(f) => f.ty.clone(),
                    None => missing(
                        self,
                        target.clone(),
                        s.fields.iter().map(|f| f.name.clone()).collect(),
                    ),
                },
                None => Ty::Unknown,
            },
            Ty::Record(id) => match self.record_by_id(id) {
                Some(fs) => match fs.iter().find(|f| f.name == name.text) {
                    Some(f) => f.ty.clone(),
                    None => missing(
                        self,
                        crate::ty::short_name(id).to_string(),
                        fs.iter().map(|f| f.name.clone()).collect(),
                    ),
                },
                None => Ty::Unknown,
            },
            Ty::AnonRecord(fs) => match fs.iter().find(|(n, _)| *n == name.text) {
                Some((_, t)) => t.clone(),
                None => missing(
                    self,
                    bt.to_string(),
                    fs.iter().map(|(n, _)| n.clone()).collect(),
                ),
            },
            Ty::Map(v) => (**v).clone(),
            Ty::Module(id) => match self.module_sig_by_id(id) {
                Some(sig) => match sig.outputs.iter().find(|(n, _)| *n == name.text) {
                    Some((_, t)) => t.clone(),
                    None => missing(
                        self,
                        format!("module {}", crate::ty::short_name(id)),
                        sig.outputs.iter().map(|(n, _)| n.clone()).collect(),
                    ),
                },
                None => Ty::Unknown,
            },
            Ty::Family { .. } => {
                self.err(
                    "E0110",
                    name.span,
                    format!(
                        "`{bt}` is a family of instances: index it before reading `{}`",
                        name.text
                    ),
                    "not indexed",
                    Some("index it with the loop's keys, for example `name[r].field`".into()),
                );
                Ty::Unknown
            }
            other => {
                self.err(
                    "E0202",
                    name.span,
                    format!("`{other}` has no fields"),
                    "no field here",
                    None,
                );
                Ty::Unknown
            }
        }
    }

    fn infer_index(&mut self, base: &Expr, args: &[Expr]) -> Ty {
        let bt = self.infer(base, None);
        match bt.core() {
            Ty::Family { elem, keys } => {
                if keys.len() != args.len() {
                    self.err(
                        "E0110",
                        base.span.cover(args.last().map_or(base.span, |a| a.span)),
                        format!(
                            "Wrong number of keys: this family is declared inside {} `for` loop(s)",
                            keys.len()
                        ),
                        format!("indexed with {} key(s)", args.len()),
                        Some("give one key per enclosing loop, for example `db_key[r]`".into()),
                    );
                }
                for a in args {
                    self.infer(a, None);
                }
                (**elem).clone()
            }
            Ty::List(t) => {
                self.index_args(args, &Ty::Int);
                (**t).clone()
            }
            Ty::Map(t) => {
                self.index_args(args, &Ty::String);
                (**t).clone()
            }
            Ty::Unknown => {
                for a in args {
                    self.infer(a, None);
                }
                Ty::Unknown
            }
            other => {
                self.err(
                    "E0203",
                    base.span,
                    format!("Cannot index into `{other}`"),
                    "not a list, map or resource family",
                    Some(
                        "only lists, maps and resources declared inside `for` loops can be indexed"
                            .into(),
                    ),
                );
                Ty::Unknown
            }
        }
    }

    fn index_args(&mut self, args: &[Expr], key: &Ty) {
        if args.len() != 1 {
            self.err(
                "E0110",
                args.get(1).map_or(Span::default(), |a| a.span),
                "Lists and maps take one index",
                "extra index",
                None,
            );
        }
        for a in args {
            self.check_expr(a, key, "an index");
        }
    }

    fn infer_call(&mut self, whole: &Expr, callee: &Expr, args: &[ast::Arg]) -> Ty {
        // User functions: `f(...)` or `alias.f(...)`.
        let sig = match Self::as_path(callee).as_deref() {
            Some([n]) if self.local(&n.text).is_none() => match self.lookup_decl(&n.text) {
                Some(Decl::Fn(it)) => Some(self.fn_sig(it)),
                _ => None,
            },
            Some([a, n]) if matches!(self.lookup_decl(&a.text), Some(Decl::Import)) => {
                match self.import_exports(&a.text).and_then(|x| x.get(&n.text)) {
                    Some(Export::Fn(f)) => Some(f.clone()),
                    _ => None,
                }
            }
            _ => None,
        };
        if let Some(sig) = sig {
            if sig.params.len() != args.len() {
                self.err(
                    "E0108",
                    whole.span,
                    format!(
                        "This function takes {} argument(s) but {} were given",
                        sig.params.len(),
                        args.len()
                    ),
                    "wrong number of arguments",
                    None,
                );
            }
            for (a, (pn, pt)) in args.iter().zip(&sig.params) {
                self.check_expr(&a.value, pt, &format!("parameter `{pn}`"));
            }
            return sig.ret;
        }
        let ExprKind::Name(n) = &callee.kind else {
            self.infer(callee, None);
            self.err(
                "E0107",
                callee.span,
                "This value cannot be called",
                "not a function",
                None,
            );
            return Ty::Unknown;
        };
        if !builtins::NAMES.contains(&n.text.as_str()) {
            let help = did_you_mean(&n.text, builtins::NAMES.iter().copied());
            self.err(
                "E0107",
                n.span,
                format!("Cannot find function `{}`", n.text),
                "unknown function",
                help,
            );
            for a in args {
                self.infer(&a.value, None);
            }
            return Ty::Unknown;
        }
        let tys: Vec<Ty> = args.iter().map(|a| self.infer(&a.value, None)).collect();
        match builtins::check(&n.text, &tys) {
            Ok(t) => t,
            Err(msg) => {
                let help = builtins::signature(&n.text).map(|s| format!("the signature is `{s}`"));
                self.err("E0108", whole.span, capital(&msg), "in this call", help);
                Ty::Unknown
            }
        }
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
