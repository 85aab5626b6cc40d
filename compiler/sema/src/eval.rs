//! The evaluator: expands loops, conditionals and module instantiations into resource instances,
//! evaluates their fields, and checks placement per instance. Every `for r in regions` iteration
//! and every module instantiation is evaluated, so a region mistake inside a loop or a module is
//! reported with the iteration it happens in.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use carbonc_diagnostics::{Diagnostic, Label};
use carbonc_syntax::Span;
use carbonc_syntax::ast::{self, Expr, ExprKind, Item, ItemKind};

use crate::builtins;
use crate::db::{Db, SourceFile};
use crate::items::{catalog, file_imports, import_cycle_edges, parse_file};
use crate::regions::parse_window;
use crate::ty::{Catalog, Placement, Ty, human_type_name};
use crate::value::{Origin, Value};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegionInfo {
    pub name: String,
    pub code: String,
    pub primary: bool,
    pub maintenance: Option<(String, Span)>,
    pub file: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldVal {
    pub value: Value,
    /// The assigned expression, or the resource's name when the value is the schema default.
    pub span: Span,
    pub explicit: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instance {
    pub address: String,
    pub ty: String,
    pub region: Option<usize>,
    pub file: String,
    /// The span of the resource's name in its declaration.
    pub span: Span,
    /// Loop and module bindings that produced this instance, e.g. `r = euw1`.
    pub context: String,
    pub fields: BTreeMap<String, FieldVal>,
}

impl Instance {
    pub fn get(&self, field: &str) -> Option<&Value> {
        self.fields.get(field).map(|f| &f.value)
    }

    pub fn field_span(&self, field: &str) -> Span {
        self.fields.get(field).map_or(self.span, |f| f.span)
    }
}

/// The evaluated program: what the plan will be computed from.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Program {
    pub regions: Vec<RegionInfo>,
    pub instances: Vec<Instance>,
    pub outputs: Vec<(String, Value)>,
    pub diags: Vec<Diagnostic>,
}

impl Program {
    pub fn instance(&self, addr: &str) -> Option<&Instance> {
        self.instances.iter().find(|i| i.address == addr)
    }

    pub fn region_code(&self, idx: Option<usize>) -> &str {
        idx.and_then(|i| self.regions.get(i))
            .map_or("global", |r| r.code.as_str())
    }
}

#[salsa::tracked(returns(ref))]
pub fn evaluate_program(db: &dyn Db, root: SourceFile) -> Program {
    let mut ev = Evaluator {
        db,
        cat: catalog(db),
        program: Program::default(),
        stubs: Vec::new(),
        by_addr: BTreeMap::new(),
        modules: BTreeMap::new(),
        file_frames: BTreeMap::new(),
        evaluating: RefCell::new(BTreeSet::new()),
        done: Vec::new(),
    };
    ev.run(root);
    ev.program
}

struct Frame<'a> {
    file: String,
    prefix: String,
    /// Names declared in this file or module.
    names: BTreeMap<String, Name<'a>>,
    /// The file's frame, for module frames (they see its lets, functions and imports).
    parent: Option<Rc<Frame<'a>>>,
}

#[derive(Clone)]
enum Name<'a> {
    Let(&'a Expr, Option<Ty>, Rc<Env<'a>>),
    Value(Value),
    Family {
        base: String,
        keys: usize,
        module: bool,
    },
    Fn(&'a Item),
    Import(String),
    Enum(String),
    Module(&'a Item, String),
}

struct Env<'a> {
    vars: RefCell<BTreeMap<String, Binding<'a>>>,
    parent: Option<Rc<Env<'a>>>,
    frame: Rc<Frame<'a>>,
}

#[derive(Clone)]
enum Binding<'a> {
    Val(Value),
    Thunk(&'a Expr, Option<Ty>, Rc<Env<'a>>),
    InProgress,
}

struct Stub<'a> {
    body: &'a [ast::Assign],
    env: Rc<Env<'a>>,
}

struct ModuleInst<'a> {
    outputs: BTreeMap<String, (&'a Expr, Option<Ty>, Rc<Env<'a>>)>,
}

struct Evaluator<'a> {
    db: &'a dyn Db,
    cat: &'a Catalog,
    program: Program,
    stubs: Vec<Stub<'a>>,
    by_addr: BTreeMap<String, usize>,
    modules: BTreeMap<String, ModuleInst<'a>>,
    file_frames: BTreeMap<String, Rc<Frame<'a>>>,
    evaluating: RefCell<BTreeSet<usize>>,
    done: Vec<bool>,
}

type EResult = Result<Value, (Span, String)>;

fn key_text(v: &Value) -> String {
    match v {
        Value::Region { code, .. } => code.clone(),
        Value::Record(m) => m
            .get("name")
            .or(m.get("id"))
            .and_then(|v| v.display_plain().ok())
            .unwrap_or_else(|| "?".into()),
        v => v.display_plain().unwrap_or_else(|_| "?".into()),
    }
}

impl<'a> Evaluator<'a> {
    fn run(&mut self, root: SourceFile) {
        self.collect_regions(root);
        let mut order = Vec::new();
        self.file_order(root, &mut order, &mut BTreeSet::new());
        for f in &order {
            self.file_frame(*f);
        }
        for f in order {
            let path = f.path(self.db).clone();
            let frame = self.file_frames[&path].clone();
            let env = Rc::new(Env {
                vars: RefCell::new(BTreeMap::new()),
                parent: None,
                frame,
            });
            let items = &parse_file(self.db, f).items;
            self.expand(items, &env, &[], &[]);
        }
        self.done = vec![false; self.stubs.len()];
        for i in 0..self.stubs.len() {
            self.eval_instance(i);
        }
        self.check_outputs(root);
        let mut seen = BTreeSet::new();
        self.program
            .diags
            .retain(|d| seen.insert((d.code, d.primary.file.clone(), d.primary.span)));
    }

    fn file_order(&self, f: SourceFile, out: &mut Vec<SourceFile>, seen: &mut BTreeSet<String>) {
        let path = f.path(self.db).clone();
        if !seen.insert(path.clone()) {
            return;
        }
        out.push(f);
        let cycles = import_cycle_edges(self.db);
        for imp in file_imports(self.db, f) {
            if cycles.contains(&(path.clone(), imp.path.clone())) {
                continue;
            }
            if let Some(g) = self.db.workspace().files(self.db).get(&imp.path) {
                self.file_order(*g, out, seen);
            }
        }
    }

    fn collect_regions(&mut self, root: SourceFile) {
        let mut order = Vec::new();
        self.file_order(root, &mut order, &mut BTreeSet::new());
        for f in order {
            let path = f.path(self.db).clone();
            for it in &parse_file(self.db, f).items {
                let ItemKind::Region { name, fields } = &it.kind else {
                    continue;
                };
                let lit = |n: &str| {
                    fields
                        .iter()
                        .find(|a| a.name.text == n)
                        .and_then(|a| match &a.value.kind {
                            ExprKind::Str(p) => match p.as_slice() {
                                [ast::StrPart::Text(t)] => Some((t.clone(), a.value.span)),
                                _ => None,
                            },
                            _ => None,
                        })
                };
                let primary = fields.iter().any(|a| {
                    a.name.text == "role"
                        && matches!(&a.value.kind, ExprKind::Variant(v) if v.text == "primary")
                });
                self.program.regions.push(RegionInfo {
                    name: name.text.clone(),
                    code: lit("code").map(|c| c.0).unwrap_or_default(),
                    primary,
                    maintenance: lit("maintenance").filter(|(w, _)| parse_window(w).is_ok()),
                    file: path.clone(),
                    span: name.span,
                });
            }
        }
    }

    fn file_frame(&mut self, f: SourceFile) -> Rc<Frame<'a>> {
        let path = f.path(self.db).clone();
        if let Some(fr) = self.file_frames.get(&path) {
            return fr.clone();
        }
        let items = &parse_file(self.db, f).items;
        let prefix = if self.file_frames.is_empty() {
            String::new()
        } else {
            let stem = path
                .rsplit('/')
                .next()
                .unwrap_or(&path)
                .trim_end_matches(".carbon");
            format!("{stem}.")
        };
        let mut names = BTreeMap::new();
        for imp in file_imports(self.db, f) {
            names.insert(imp.alias.clone(), Name::Import(imp.path.clone()));
        }
        self.declare(items, &prefix, &path, 0, &mut names, true);
        // Lets need the finished frame as their environment: build it in two steps.
        let frame = Rc::new(Frame {
            file: path.clone(),
            prefix: prefix.clone(),
            names: names.clone(),
            parent: None,
        });
        let env = Rc::new(Env {
            vars: RefCell::new(BTreeMap::new()),
            parent: None,
            frame,
        });
        let mut final_names = names;
        for it in items {
            if let ItemKind::Let { name, value, ty } = &it.kind {
                let t = ty.as_ref().map(|te| self.lower_simple(te));
                final_names.insert(name.text.clone(), Name::Let(value, t, env.clone()));
            }
        }
        let frame = Rc::new(Frame {
            file: path.clone(),
            prefix,
            names: final_names,
            parent: None,
        });
        // Re-point the lets' environment at the final frame.
        let env = Rc::new(Env {
            vars: RefCell::new(BTreeMap::new()),
            parent: None,
            frame: frame.clone(),
        });
        let mut names = frame.names.clone();
        for v in names.values_mut() {
            if let Name::Let(_, _, e) = v {
                *e = env.clone();
            }
        }
        let frame = Rc::new(Frame {
            file: path.clone(),
            prefix: frame.prefix.clone(),
            names,
            parent: None,
        });
        // The lets' env must see the final names too; a last frame swap keeps them consistent.
        let env2 = Rc::new(Env {
            vars: RefCell::new(BTreeMap::new()),
            parent: None,
            frame: frame.clone(),
        });
        let mut names = frame.names.clone();
        for v in names.values_mut() {
            if let Name::Let(_, _, e) = v {
                *e = env2.clone();
            }
        }
        let frame = Rc::new(Frame {
            file: path.clone(),
            prefix: frame.prefix.clone(),
            names,
            parent: None,
        });
        self.file_frames.insert(path, frame.clone());
        frame
    }

    fn lower_simple(&self, te: &ast::TypeExpr) -> Ty {
        let cat = self.cat;
        let resolve = |p: &ast::Path| -> Option<Ty> {
            let t = p.text();
            if cat.enums.contains_key(&t) {
                Some(Ty::Enum(t))
            } else if cat.records.contains_key(&t) {
                Some(Ty::Record(t))
            } else {
                None
            }
        };
        crate::items::lower_type(te, &resolve, &mut |_, _| {})
    }

    fn declare(
        &self,
        items: &'a [Item],
        prefix: &str,
        file: &str,
        keys: usize,
        names: &mut BTreeMap<String, Name<'a>>,
        top: bool,
    ) {
        for it in items {
            match &it.kind {
                ItemKind::Resource { name, .. } => {
                    names.insert(
                        name.text.clone(),
                        Name::Family {
                            base: format!("{prefix}{}", name.text),
                            keys,
                            module: false,
                        },
                    );
                }
                ItemKind::Use { name, .. } => {
                    names.insert(
                        name.text.clone(),
                        Name::Family {
                            base: format!("{prefix}{}", name.text),
                            keys,
                            module: true,
                        },
                    );
                }
                ItemKind::For { items, .. } => {
                    self.declare(items, prefix, file, keys + 1, names, false)
                }
                ItemKind::If {
                    then_items,
                    else_items,
                    ..
                } => {
                    self.declare(then_items, prefix, file, keys, names, false);
                    if let Some(e) = else_items {
                        self.declare(e, prefix, file, keys, names, false);
                    }
                }
                _ if !top => {}
                ItemKind::Param { name, default, ty } => {
                    let v = match default {
                        Some(d) if is_literal(d) => {
                            literal_value(d, &self.lower_simple(ty), self.cat)
                        }
                        _ => Value::Unknown {
                            origin: Origin::Param(name.text.clone()),
                            region: None,
                        },
                    };
                    let v = if matches!(self.lower_simple(ty), Ty::Secret(_)) && !v.is_unknown() {
                        Value::Secret(Box::new(v))
                    } else {
                        v
                    };
                    names.insert(name.text.clone(), Name::Value(v));
                }
                ItemKind::Fn { name, .. } => {
                    names.insert(name.text.clone(), Name::Fn(it));
                }
                ItemKind::Enum { name, .. } => {
                    names.insert(
                        name.text.clone(),
                        Name::Enum(format!("{file}::{}", name.text)),
                    );
                }
                ItemKind::Module { name, .. } => {
                    names.insert(
                        name.text.clone(),
                        Name::Module(it, format!("{file}::{}", name.text)),
                    );
                }
                _ => {}
            }
        }
    }

    fn diag(
        &mut self,
        file: &str,
        code: &'static str,
        span: Span,
        title: String,
        label: String,
        help: Option<String>,
    ) {
        let mut d = Diagnostic::error(code, title, Label::new(file, span, label));
        if let Some(h) = help {
            d = d.with_help(h);
        }
        self.program.diags.push(d);
    }

    /// Evaluates something that must be known at check time (loop collections, conditions, placements).
    fn eval_static(&mut self, e: &'a Expr, env: &Rc<Env<'a>>, what: &str) -> Option<Value> {
        match self.eval(e, env, None) {
            Ok(Value::Unknown {
                origin: Origin::Error,
                ..
            }) => None,
            Ok(Value::Unknown { origin, .. }) => {
                let why = match origin {
                    Origin::Param(p) => format!("parameter `{p}` has no value at check time"),
                    Origin::AfterApply(a) => format!("`{a}` is known only after apply"),
                    Origin::Error => String::new(),
                };
                let file = env.frame.file.clone();
                self.diag(
                    &file,
                    "E0113",
                    e.span,
                    format!("{} must be known before apply", capitalise(what)),
                    why,
                    Some("use regions, literals, lets or parameters with defaults here".into()),
                );
                None
            }
            Ok(v) => Some(v),
            Err((s, m)) => {
                let file = env.frame.file.clone();
                self.diag(
                    &file,
                    "E0204",
                    s,
                    capitalise(&m),
                    "evaluated here".into(),
                    None,
                );
                None
            }
        }
    }

    fn expand(&mut self, items: &'a [Item], env: &Rc<Env<'a>>, keys: &[Value], ctx: &[String]) {
        // Loop-local lets first, so that resources in the loop can use them.
        for it in items {
            if let ItemKind::Let { name, value, ty } = &it.kind
                && !keys.is_empty()
            {
                let t = ty.as_ref().map(|te| self.lower_simple(te));
                env.vars
                    .borrow_mut()
                    .insert(name.text.clone(), Binding::Thunk(value, t, env.clone()));
            }
        }
        let suffix = if keys.is_empty() {
            String::new()
        } else {
            format!(
                "[{}]",
                keys.iter().map(key_text).collect::<Vec<_>>().join(", ")
            )
        };
        for it in items {
            match &it.kind {
                ItemKind::Resource {
                    ty,
                    name,
                    placement,
                    body,
                } => {
                    let region = match placement {
                        Some(p) => match self.eval_static(p, env, "a placement") {
                            Some(Value::Region { idx, .. }) => Some(idx),
                            _ => None,
                        },
                        None => None,
                    };
                    let address = format!("{}{}{}", env.frame.prefix, name.text, suffix);
                    if self.by_addr.contains_key(&address) {
                        let file = env.frame.file.clone();
                        self.diag(
                            &file,
                            "E0102",
                            name.span,
                            format!("Two instances have the address `{address}`"),
                            "declared here".into(),
                            Some("give each instance a distinct name or loop key".into()),
                        );
                        continue;
                    }
                    self.by_addr.insert(address.clone(), self.stubs.len());
                    self.stubs.push(Stub {
                        body,
                        env: env.clone(),
                    });
                    self.program.instances.push(Instance {
                        address,
                        ty: ty.text(),
                        region,
                        file: env.frame.file.clone(),
                        span: name.span,
                        context: ctx.join(", "),
                        fields: BTreeMap::new(),
                    });
                }
                ItemKind::Use {
                    module,
                    name,
                    placement,
                    args,
                } => self.expand_use(module, name, placement.as_ref(), args, env, &suffix, ctx),
                ItemKind::For { var, iter, items } => {
                    let Some(coll) = self.eval_static(iter, env, "a loop's collection") else {
                        continue;
                    };
                    let elems: Vec<Value> = match coll.reveal() {
                        Value::List(l) => l.clone(),
                        Value::Map(m) => m
                            .iter()
                            .map(|(k, v)| {
                                Value::Record(BTreeMap::from([
                                    ("key".into(), Value::Str(k.clone())),
                                    ("value".into(), v.clone()),
                                ]))
                            })
                            .collect(),
                        _ => continue,
                    };
                    for el in elems {
                        let child = Rc::new(Env {
                            vars: RefCell::new(BTreeMap::new()),
                            parent: Some(env.clone()),
                            frame: env.frame.clone(),
                        });
                        child
                            .vars
                            .borrow_mut()
                            .insert(var.text.clone(), Binding::Val(el.clone()));
                        let mut k = keys.to_vec();
                        k.push(el.clone());
                        let shown = match &el {
                            Value::Region { idx, .. } => self.program.regions[*idx].name.clone(),
                            v => key_text(v),
                        };
                        let mut c = ctx.to_vec();
                        c.push(format!("{} = {shown}", var.text));
                        self.expand(items, &child, &k, &c);
                    }
                }
                ItemKind::If {
                    cond,
                    then_items,
                    else_items,
                } => match self.eval_static(cond, env, "an `if` condition") {
                    Some(Value::Bool(true)) => self.expand(then_items, env, keys, ctx),
                    Some(Value::Bool(false)) => {
                        if let Some(e) = else_items {
                            self.expand(e, env, keys, ctx);
                        }
                    }
                    _ => {}
                },
                _ => {}
            }
        }
    }

    fn expand_use(
        &mut self,
        module: &'a ast::Path,
        name: &'a ast::Name,
        placement: Option<&'a Expr>,
        args: &'a [ast::Assign],
        env: &Rc<Env<'a>>,
        suffix: &str,
        ctx: &[String],
    ) {
        let Some((mod_item, _id, mod_file)) = self.find_module(module, env) else {
            return;
        };
        let ItemKind::Module {
            items, region_var, ..
        } = &mod_item.kind
        else {
            return;
        };
        let region = match placement {
            Some(p) => self.eval_static(p, env, "a placement"),
            None => None,
        };
        let address = format!("{}{}{}", env.frame.prefix, name.text, suffix);
        let file_frame = self.file_frames.get(&mod_file).cloned();
        let mut names = BTreeMap::new();
        let prefix = format!("{address}.");
        self.declare(items, &prefix, &mod_file, 0, &mut names, false);
        for it in items {
            match &it.kind {
                ItemKind::Fn { name, .. } => {
                    names.insert(name.text.clone(), Name::Fn(it));
                }
                ItemKind::Enum { name, .. } => {
                    names.insert(
                        name.text.clone(),
                        Name::Enum(format!("{mod_file}::{}", name.text)),
                    );
                }
                _ => {}
            }
        }
        let frame = Rc::new(Frame {
            file: mod_file.clone(),
            prefix,
            names,
            parent: file_frame,
        });
        let menv = Rc::new(Env {
            vars: RefCell::new(BTreeMap::new()),
            parent: None,
            frame,
        });
        if let (Some(rv), Some(r)) = (region_var, region) {
            menv.vars
                .borrow_mut()
                .insert(rv.text.clone(), Binding::Val(r));
        }
        for it in items {
            match &it.kind {
                ItemKind::Param {
                    name: pn,
                    ty,
                    default,
                } => {
                    let t = self.lower_simple(ty);
                    let b = match args.iter().find(|a| a.name.text == pn.text) {
                        Some(a) => Binding::Thunk(&a.value, Some(t), env.clone()),
                        None => match default {
                            Some(d) => Binding::Thunk(d, Some(t), menv.clone()),
                            None => Binding::Val(Value::error()),
                        },
                    };
                    menv.vars.borrow_mut().insert(pn.text.clone(), b);
                }
                ItemKind::Let {
                    name: ln,
                    value,
                    ty,
                } => {
                    let t = ty.as_ref().map(|te| self.lower_simple(te));
                    menv.vars
                        .borrow_mut()
                        .insert(ln.text.clone(), Binding::Thunk(value, t, menv.clone()));
                }
                _ => {}
            }
        }
        let mut outputs = BTreeMap::new();
        for it in items {
            if let ItemKind::Output {
                name: on,
                value,
                ty,
            } = &it.kind
            {
                outputs.insert(
                    on.text.clone(),
                    (
                        value,
                        ty.as_ref().map(|te| self.lower_simple(te)),
                        menv.clone(),
                    ),
                );
            }
        }
        self.modules.insert(address.clone(), ModuleInst { outputs });
        let mut c = ctx.to_vec();
        c.push(format!("in module instance `{address}`"));
        self.expand(items, &menv, &[], &c);
    }

    fn find_module(&self, p: &ast::Path, env: &Rc<Env<'a>>) -> Option<(&'a Item, String, String)> {
        let frame = &env.frame;
        let lookup = |fr: &Rc<Frame<'a>>, n: &str| {
            fr.names
                .get(n)
                .cloned()
                .or_else(|| fr.parent.as_ref().and_then(|p| p.names.get(n).cloned()))
        };
        match p.segments.as_slice() {
            [one] => match lookup(frame, &one.text)? {
                Name::Module(it, id) => Some((it, id.clone(), id.rsplit_once("::")?.0.to_string())),
                _ => None,
            },
            [alias, name] => match lookup(frame, &alias.text)? {
                Name::Import(path) => match self.file_frames.get(&path)?.names.get(&name.text)? {
                    Name::Module(it, id) => Some((it, id.clone(), path.clone())),
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        }
    }

    fn eval_instance(&mut self, idx: usize) {
        if self.done[idx] || !self.evaluating.borrow_mut().insert(idx) {
            return;
        }
        let body = self.stubs[idx].body;
        let env = self.stubs[idx].env.clone();
        let ty = self.program.instances[idx].ty.clone();
        let Some(schema) = self.cat.resources.get(&ty) else {
            self.done[idx] = true;
            return;
        };
        let mut fields = BTreeMap::new();
        for a in body {
            let Some(f) = schema.field(&a.name.text) else {
                continue;
            };
            if f.computed {
                continue;
            }
            let v = match self.eval(&a.value, &env, Some(&f.ty)) {
                Ok(v) => v,
                Err((s, m)) => {
                    let file = env.frame.file.clone();
                    let ctx = self.program.instances[idx].context.clone();
                    let label = if ctx.is_empty() {
                        "evaluated here".to_string()
                    } else {
                        format!("evaluated here ({ctx})")
                    };
                    self.diag(&file, "E0204", s, capitalise(&m), label, None);
                    Value::error()
                }
            };
            fields.insert(
                a.name.text.clone(),
                FieldVal {
                    value: v,
                    span: a.value.span,
                    explicit: true,
                },
            );
        }
        let span = self.program.instances[idx].span;
        let empty = Rc::new(Env {
            vars: RefCell::new(BTreeMap::new()),
            parent: None,
            frame: env.frame.clone(),
        });
        for f in &schema.fields {
            if fields.contains_key(&f.name) {
                continue;
            }
            if f.computed {
                let addr = self.program.instances[idx].address.clone();
                let region = self.program.instances[idx].region;
                fields.insert(
                    f.name.clone(),
                    FieldVal {
                        value: Value::Unknown {
                            origin: Origin::AfterApply(format!("{addr}.{}", f.name)),
                            region,
                        },
                        span,
                        explicit: false,
                    },
                );
            } else if let Some(d) = &f.default {
                let v = self
                    .eval(d, &empty, Some(&f.ty))
                    .unwrap_or_else(|_| Value::error());
                fields.insert(
                    f.name.clone(),
                    FieldVal {
                        value: v,
                        span,
                        explicit: false,
                    },
                );
            }
        }
        self.program.instances[idx].fields = fields;
        self.done[idx] = true;
        self.evaluating.borrow_mut().remove(&idx);
        self.check_placement(idx);
    }

    fn check_placement(&mut self, idx: usize) {
        let inst = &self.program.instances[idx];
        let Some(schema) = self.cat.resources.get(&inst.ty) else {
            return;
        };
        let mut found = Vec::new();
        for f in &schema.fields {
            if let Some(fv) = inst.fields.get(&f.name) {
                refs_in(&fv.value, &f.ty, self.cat, &mut |addr, placement| {
                    found.push((f.name.clone(), fv.span, addr.to_string(), placement.clone()))
                });
            }
        }
        for (field, span, addr, placement) in found {
            self.check_one_ref(idx, &field, span, &addr, &placement);
        }
    }

    fn check_one_ref(
        &mut self,
        idx: usize,
        field: &str,
        span: Span,
        addr: &str,
        placement: &Placement,
    ) {
        let inst = &self.program.instances[idx];
        let Some(&t) = self.by_addr.get(addr) else {
            return;
        };
        let target = &self.program.instances[t];
        let Some(treg) = target.region else { return };
        let tcode = self.program.regions[treg].code.clone();
        let owner = human_type_name(&inst.ty);
        let thuman = human_type_name(&target.ty);
        let ctx = if inst.context.is_empty() {
            String::new()
        } else {
            format!(" ({})", inst.context)
        };
        let base = target
            .address
            .split('[')
            .next()
            .unwrap_or(&target.address)
            .rsplit('.')
            .next()
            .unwrap_or("")
            .to_string();
        match placement {
            Placement::Same => {
                let Some(ireg) = inst.region else { return };
                if ireg == treg {
                    return;
                }
                let icode = self.program.regions[ireg].code.clone();
                // Suggest the same family's instance in this region, by the loop variable if there is one.
                let same_family = format!(
                    "{}[{}]",
                    target.address.split('[').next().unwrap_or(""),
                    icode
                );
                let var = inst.context.split(", ").find_map(|c| {
                    let (v, r) = c.split_once(" = ")?;
                    (self.program.regions.iter().position(|x| x.name == r) == Some(ireg))
                        .then(|| v.to_string())
                });
                let help = if self.by_addr.contains_key(&same_family) {
                    match var {
                        Some(v) => format!("use the {thuman} in {icode}: `{base}[{v}]`"),
                        None => format!(
                            "use the {thuman} in {icode}: `{base}[{}]`",
                            self.program.regions[ireg].name
                        ),
                    }
                } else {
                    format!("declare a {thuman} in {icode} and use it here")
                };
                let d = Diagnostic::error(
                    "E0301",
                    format!("{thuman} is in another region"),
                    Label::new(
                        &inst.file,
                        span,
                        format!("but this {} is in {icode}{ctx}", owner.to_lowercase_first()),
                    ),
                )
                .with_label(Label::new(
                    &target.file,
                    target.span,
                    format!("this {} lives in {tcode}", thuman.to_lowercase_first()),
                ))
                .with_note(format!(
                    "`{field}` of {} must name a {thuman} in the {} region",
                    inst.ty, "same"
                ))
                .with_help(help);
                self.program.diags.push(d);
            }
            Placement::Fixed(code) => {
                if &tcode == code {
                    return;
                }
                let decl = self
                    .program
                    .regions
                    .iter()
                    .find(|r| &r.code == code)
                    .map(|r| format!(" (region `{}`)", r.name))
                    .unwrap_or_default();
                let d = Diagnostic::error(
                    "E0302",
                    format!("{thuman} must be in {code}"),
                    Label::new(
                        &inst.file,
                        span,
                        format!(
                            "`{field}` of this {} needs a {} in {code}{ctx}",
                            owner.to_lowercase_first(),
                            thuman.to_lowercase_first()
                        ),
                    ),
                )
                .with_label(Label::new(
                    &target.file,
                    target.span,
                    format!("this {} lives in {tcode}", thuman.to_lowercase_first()),
                ))
                .with_help(format!(
                    "declare the {} in {code}{decl} and use that one",
                    thuman.to_lowercase_first()
                ));
                self.program.diags.push(d);
            }
            Placement::Any => {}
        }
    }

    fn check_outputs(&mut self, root: SourceFile) {
        let path = root.path(self.db).clone();
        let Some(frame) = self.file_frames.get(&path).cloned() else {
            return;
        };
        let env = Rc::new(Env {
            vars: RefCell::new(BTreeMap::new()),
            parent: None,
            frame,
        });
        for it in &parse_file(self.db, root).items {
            if let ItemKind::Output { name, value, ty } = &it.kind {
                let t = ty.as_ref().map(|te| self.lower_simple(te));
                let v = match self.eval(value, &env, t.as_ref()) {
                    Ok(v) => v,
                    Err((s, m)) => {
                        self.diag(
                            &path,
                            "E0204",
                            s,
                            capitalise(&m),
                            "evaluated here".into(),
                            None,
                        );
                        Value::error()
                    }
                };
                self.program.outputs.push((name.text.clone(), v));
            }
        }
    }

    // ---- expressions --------------------------------------------------------------------------

    fn lookup(&mut self, name: &str, env: &Rc<Env<'a>>, span: Span) -> EResult {
        let mut e = Some(env.clone());
        while let Some(cur) = e {
            let b = cur.vars.borrow().get(name).cloned();
            match b {
                Some(Binding::Val(v)) => return Ok(v),
                Some(Binding::InProgress) => {
                    return Err((span, format!("`{name}` depends on itself")));
                }
                Some(Binding::Thunk(x, t, tenv)) => {
                    cur.vars
                        .borrow_mut()
                        .insert(name.to_string(), Binding::InProgress);
                    let r = self.eval(x, &tenv, t.as_ref());
                    let v = r.as_ref().cloned().unwrap_or_else(|_| Value::error());
                    let v = match (&t, v) {
                        (Some(Ty::Secret(_)), v) if !v.is_secret() && !v.is_unknown() => {
                            Value::Secret(Box::new(v))
                        }
                        (_, v) => v,
                    };
                    cur.vars
                        .borrow_mut()
                        .insert(name.to_string(), Binding::Val(v.clone()));
                    return r.map(|_| v);
                }
                None => e = cur.parent.clone(),
            }
        }
        let frame = env.frame.clone();
        let n = frame.names.get(name).cloned().or_else(|| {
            frame
                .parent
                .as_ref()
                .and_then(|p| p.names.get(name).cloned())
                .filter(|n| !matches!(n, Name::Family { .. } | Name::Value(_)))
        });
        if let Some(n) = n {
            return self.name_value(name, n);
        }
        if let Some(idx) = self.program.regions.iter().position(|r| r.name == name) {
            return Ok(Value::Region {
                idx,
                code: self.program.regions[idx].code.clone(),
            });
        }
        if name == "regions" {
            return Ok(Value::List(
                self.program
                    .regions
                    .iter()
                    .enumerate()
                    .map(|(idx, r)| Value::Region {
                        idx,
                        code: r.code.clone(),
                    })
                    .collect(),
            ));
        }
        if builtins::NAMES.contains(&name) {
            return Ok(Value::Path(format!("builtin::{name}")));
        }
        Ok(Value::error())
    }

    fn name_value(&mut self, name: &str, n: Name<'a>) -> EResult {
        Ok(match n {
            Name::Value(v) => v,
            Name::Family {
                base,
                keys: 0,
                module: false,
            } => Value::Ref { addr: base },
            Name::Family {
                base,
                keys: 0,
                module: true,
            } => Value::Module { addr: base },
            Name::Family { base, keys, module } => Value::Family { base, keys, module },
            Name::Let(x, t, env) => {
                // File-level lets are memoised in their frame's environment.
                let memo = env.vars.borrow().get(&format!("let::{name}")).cloned();
                match memo {
                    Some(Binding::Val(v)) => v,
                    Some(_) => return Err((x.span, format!("`{name}` depends on itself"))),
                    None => {
                        env.vars
                            .borrow_mut()
                            .insert(format!("let::{name}"), Binding::InProgress);
                        let v = self
                            .eval(x, &env, t.as_ref())
                            .unwrap_or_else(|_| Value::error());
                        env.vars
                            .borrow_mut()
                            .insert(format!("let::{name}"), Binding::Val(v.clone()));
                        v
                    }
                }
            }
            Name::Fn(_) => Value::Path(format!("fn::{name}")),
            Name::Import(p) => Value::Path(format!("import::{p}")),
            Name::Enum(id) => Value::Path(format!("enum::{id}")),
            Name::Module(_, id) => Value::Path(format!("module::{id}")),
        })
    }

    fn attr(&mut self, base: &Value, field: &str, span: Span) -> EResult {
        Ok(match base {
            Value::Unknown { region, origin } => Value::Unknown {
                origin: origin.clone(),
                region: *region,
            },
            Value::Secret(v) => match self.attr(v, field, span)? {
                v @ Value::Unknown { .. } => v,
                v => Value::Secret(Box::new(v)),
            },
            Value::Region { idx, code } => {
                let r = &self.program.regions[*idx];
                match field {
                    "code" => Value::Str(code.clone()),
                    "name" => Value::Str(r.name.clone()),
                    "role" => {
                        let v = if r.primary { "primary" } else { "secondary" };
                        Value::Enum {
                            id: crate::regions::ROLE_ENUM.into(),
                            variant: v.into(),
                            wire: v.into(),
                        }
                    }
                    "maintenance" => r
                        .maintenance
                        .as_ref()
                        .map_or(Value::None, |(w, _)| Value::Str(w.clone())),
                    _ => Value::error(),
                }
            }
            Value::Ref { addr } => {
                let Some(&idx) = self.by_addr.get(addr) else {
                    return Err((span, format!("no resource instance `{addr}`")));
                };
                let schema_field = self
                    .cat
                    .resources
                    .get(&self.program.instances[idx].ty)
                    .and_then(|s| s.field(field))
                    .cloned();
                match schema_field {
                    Some(f) if f.computed => Value::Unknown {
                        origin: Origin::AfterApply(format!("{addr}.{field}")),
                        region: self.program.instances[idx].region,
                    },
                    Some(_) => {
                        self.eval_instance(idx);
                        self.program.instances[idx]
                            .get(field)
                            .cloned()
                            .unwrap_or(Value::None)
                    }
                    None => Value::error(),
                }
            }
            Value::Module { addr } => {
                let out = self
                    .modules
                    .get(addr)
                    .and_then(|m| m.outputs.get(field))
                    .map(|(x, t, e)| (*x, t.clone(), e.clone()));
                match out {
                    Some((x, t, e)) => self.eval(x, &e, t.as_ref())?,
                    None => Value::error(),
                }
            }
            Value::Record(m) | Value::Map(m) => match m.get(field) {
                Some(v) => v.clone(),
                None if matches!(base, Value::Map(_)) => {
                    return Err((span, format!("the map has no key `{field}`")));
                }
                None => Value::None,
            },
            Value::Path(p) => {
                if let Some(path) = p.strip_prefix("import::") {
                    let Some(fr) = self.file_frames.get(path).cloned() else {
                        return Ok(Value::error());
                    };
                    match fr.names.get(field).cloned() {
                        Some(n) => self.name_value(field, n)?,
                        None => Value::error(),
                    }
                } else if let Some(id) = p.strip_prefix("enum::") {
                    enum_value(self.db, self.cat, id, field).unwrap_or_else(Value::error)
                } else {
                    let full = format!("{}.{field}", p.trim_start_matches("ns::"));
                    if self.cat.enums.contains_key(&full) {
                        Value::Path(format!("enum::{full}"))
                    } else {
                        Value::Path(format!("ns::{full}"))
                    }
                }
            }
            _ => Value::error(),
        })
    }

    fn eval(&mut self, e: &'a Expr, env: &Rc<Env<'a>>, expected: Option<&Ty>) -> EResult {
        let core = expected.map(|t| t.core().clone());
        Ok(match &e.kind {
            ExprKind::Error => Value::error(),
            ExprKind::Int(n) => Value::Int(*n),
            ExprKind::Bool(b) => Value::Bool(*b),
            ExprKind::None => Value::None,
            ExprKind::Str(parts) => {
                let mut out = String::new();
                let mut secret = false;
                let mut unknown: Option<Value> = None;
                for p in parts {
                    match p {
                        ast::StrPart::Text(t) => out.push_str(t),
                        ast::StrPart::Interp(x) => {
                            let v = self.eval(x, env, None)?;
                            secret |= v.is_secret();
                            match v.reveal() {
                                u @ Value::Unknown { .. } => {
                                    unknown.get_or_insert(u.clone());
                                }
                                v => out.push_str(&v.display_plain().map_err(|m| (x.span, m))?),
                            }
                        }
                    }
                }
                let v = unknown.unwrap_or(Value::Str(out));
                if secret {
                    Value::Secret(Box::new(v))
                } else {
                    v
                }
            }
            ExprKind::Name(n) => {
                let v = self.lookup(&n.text, env, n.span)?;
                if n.text != "regions" && v == Value::error() && !self.known_name(&n.text, env) {
                    // An undeclared name was reported by the checker; fall back to an error value.
                    return Ok(Value::error());
                }
                v
            }
            ExprKind::Variant(v) => match &core {
                Some(Ty::Enum(id)) => {
                    enum_value(self.db, self.cat, id, &v.text).unwrap_or_else(Value::error)
                }
                _ => Value::error(),
            },
            ExprKind::List(items) => {
                let et = match &core {
                    Some(Ty::List(t)) => Some((**t).clone()),
                    _ => None,
                };
                let mut out = Vec::new();
                for it in items {
                    out.push(self.eval(it, env, et.as_ref())?);
                }
                Value::List(out)
            }
            ExprKind::Record(fields) => {
                let field_tys: BTreeMap<String, Ty> = match &core {
                    Some(Ty::Record(id)) => self
                        .cat
                        .record_fields(id)
                        .map(|fs| fs.iter().map(|f| (f.name.clone(), f.ty.clone())).collect())
                        .unwrap_or_default(),
                    Some(Ty::Map(v)) => fields
                        .iter()
                        .map(|f| (f.name.text.clone(), (**v).clone()))
                        .collect(),
                    _ => BTreeMap::new(),
                };
                let mut m = BTreeMap::new();
                for f in fields {
                    m.insert(
                        f.name.text.clone(),
                        self.eval(&f.value, env, field_tys.get(&f.name.text))?,
                    );
                }
                if let Some(Ty::Record(id)) = &core
                    && let Some(fs) = self.cat.record_fields(id)
                {
                    let empty = Rc::new(Env {
                        vars: RefCell::new(BTreeMap::new()),
                        parent: None,
                        frame: env.frame.clone(),
                    });
                    for f in fs {
                        if !m.contains_key(&f.name)
                            && let Some(d) = &f.default
                        {
                            let d: &'a Expr = unsafe_static(d, self.cat);
                            let v = self
                                .eval(d, &empty, Some(&f.ty))
                                .unwrap_or_else(|_| Value::error());
                            m.insert(f.name.clone(), v);
                        }
                    }
                }
                if matches!(core, Some(Ty::Map(_))) {
                    Value::Map(m)
                } else {
                    Value::Record(m)
                }
            }
            ExprKind::ListComp {
                var,
                iter,
                cond,
                body,
            } => {
                let elems = self.iter_values(iter, env)?;
                let et = match &core {
                    Some(Ty::List(t)) => Some((**t).clone()),
                    _ => None,
                };
                let mut out = Vec::new();
                for el in elems {
                    let child = Rc::new(Env {
                        vars: RefCell::new(BTreeMap::from([(var.text.clone(), Binding::Val(el))])),
                        parent: Some(env.clone()),
                        frame: env.frame.clone(),
                    });
                    if let Some(c) = cond
                        && self.eval(c, &child, None)?.as_bool() != Some(true)
                    {
                        continue;
                    }
                    out.push(self.eval(body, &child, et.as_ref())?);
                }
                Value::List(out)
            }
            ExprKind::MapComp {
                var,
                iter,
                cond,
                key,
                value,
            } => {
                let elems = self.iter_values(iter, env)?;
                let vt = match &core {
                    Some(Ty::Map(t)) => Some((**t).clone()),
                    _ => None,
                };
                let mut out = BTreeMap::new();
                for el in elems {
                    let child = Rc::new(Env {
                        vars: RefCell::new(BTreeMap::from([(var.text.clone(), Binding::Val(el))])),
                        parent: Some(env.clone()),
                        frame: env.frame.clone(),
                    });
                    if let Some(c) = cond
                        && self.eval(c, &child, None)?.as_bool() != Some(true)
                    {
                        continue;
                    }
                    let k = self.eval(key, &child, None)?;
                    let Some(k) = k.as_str().map(str::to_string) else {
                        return Ok(Value::error());
                    };
                    if out.contains_key(&k) {
                        return Err((key.span, format!("duplicate map key `{k}`")));
                    }
                    out.insert(k, self.eval(value, &child, vt.as_ref())?);
                }
                Value::Map(out)
            }
            ExprKind::If {
                cond,
                then_expr,
                else_expr,
            } => match self.eval(cond, env, None)?.as_bool() {
                Some(true) => self.eval(then_expr, env, expected)?,
                Some(false) => self.eval(else_expr, env, expected)?,
                None => Value::error(),
            },
            ExprKind::Unary { op, expr } => match (op, self.eval(expr, env, None)?) {
                (ast::UnOp::Not, Value::Bool(b)) => Value::Bool(!b),
                (ast::UnOp::Neg, Value::Int(n)) => Value::Int(
                    n.checked_neg()
                        .ok_or((e.span, "integer overflow".to_string()))?,
                ),
                (_, v @ Value::Unknown { .. }) => v,
                _ => Value::error(),
            },
            ExprKind::Binary { op, lhs, rhs } => {
                self.eval_binary(*op, lhs, rhs, env, expected, e.span)?
            }
            ExprKind::Field { base, name } => {
                let b = self.eval(base, env, None)?;
                self.attr(&b, &name.text, name.span)?
            }
            ExprKind::Index { base, args } => {
                let b = self.eval(base, env, None)?;
                let mut keys = Vec::new();
                for a in args {
                    keys.push(self.eval(a, env, None)?);
                }
                self.index(&b, &keys, e.span)?
            }
            ExprKind::Call { callee, args } => self.eval_call(callee, args, env, e.span)?,
        })
    }

    fn known_name(&self, name: &str, env: &Rc<Env<'a>>) -> bool {
        env.frame.names.contains_key(name) || self.program.regions.iter().any(|r| r.name == name)
    }

    fn iter_values(
        &mut self,
        iter: &'a Expr,
        env: &Rc<Env<'a>>,
    ) -> Result<Vec<Value>, (Span, String)> {
        Ok(match self.eval(iter, env, None)?.reveal() {
            Value::List(l) => l.clone(),
            Value::Map(m) => m
                .iter()
                .map(|(k, v)| {
                    Value::Record(BTreeMap::from([
                        ("key".into(), Value::Str(k.clone())),
                        ("value".into(), v.clone()),
                    ]))
                })
                .collect(),
            _ => Vec::new(),
        })
    }

    fn index(&mut self, b: &Value, keys: &[Value], span: Span) -> EResult {
        if keys.iter().any(Value::is_unknown) {
            return Ok(keys
                .iter()
                .find(|k| k.is_unknown())
                .cloned()
                .unwrap_or_else(Value::error));
        }
        Ok(match b {
            Value::Family {
                base,
                keys: n,
                module,
            } => {
                if keys.len() != *n {
                    return Ok(Value::error());
                }
                let addr = format!(
                    "{base}[{}]",
                    keys.iter().map(key_text).collect::<Vec<_>>().join(", ")
                );
                let exists = if *module {
                    self.modules.contains_key(&addr)
                } else {
                    self.by_addr.contains_key(&addr)
                };
                if !exists {
                    return Err((
                        span,
                        format!(
                            "there is no instance `{addr}`: the loop that declares it never produced these keys"
                        ),
                    ));
                }
                if *module {
                    Value::Module { addr }
                } else {
                    Value::Ref { addr }
                }
            }
            Value::List(l) => {
                let i = keys[0].as_int().unwrap_or(-1);
                l.get(usize::try_from(i).unwrap_or(usize::MAX))
                    .cloned()
                    .ok_or((
                        span,
                        format!(
                            "index {i} is out of range for a list of {} element(s)",
                            l.len()
                        ),
                    ))?
            }
            Value::Map(m) => {
                let k = keys[0].as_str().unwrap_or("");
                m.get(k)
                    .cloned()
                    .ok_or((span, format!("the map has no key `{k}`")))?
            }
            Value::Secret(v) => Value::Secret(Box::new(self.index(v, keys, span)?)),
            v @ Value::Unknown { .. } => v.clone(),
            _ => Value::error(),
        })
    }

    fn eval_binary(
        &mut self,
        op: ast::BinOp,
        lhs: &'a Expr,
        rhs: &'a Expr,
        env: &Rc<Env<'a>>,
        expected: Option<&Ty>,
        span: Span,
    ) -> EResult {
        use ast::BinOp::*;
        if op == Coalesce {
            let a = self.eval(lhs, env, expected)?;
            return if a == Value::None {
                self.eval(rhs, env, expected)
            } else {
                Ok(a)
            };
        }
        let a = self.eval(lhs, env, None)?;
        let b = match (op, &a) {
            (And, Value::Bool(false)) => return Ok(Value::Bool(false)),
            (Or, Value::Bool(true)) => return Ok(Value::Bool(true)),
            (Eq | Ne, Value::Enum { id, .. }) => {
                let t = Ty::Enum(id.clone());
                self.eval(rhs, env, Some(&t))?
            }
            _ => self.eval(rhs, env, None)?,
        };
        let secret = a.is_secret() || b.is_secret();
        let (a, b) = (a.reveal().clone(), b.reveal().clone());
        if let Some(u) = [&a, &b].into_iter().find(|v| v.is_unknown()) {
            return Ok(u.clone());
        }
        let int = |f: fn(i64, i64) -> Option<i64>, msg: &str| -> EResult {
            match (a.as_int(), b.as_int()) {
                (Some(x), Some(y)) => f(x, y).map(Value::Int).ok_or((span, msg.to_string())),
                _ => Ok(Value::error()),
            }
        };
        let v = match op {
            Eq => Value::Bool(a == b),
            Ne => Value::Bool(a != b),
            And | Or => match (a.as_bool(), b.as_bool()) {
                (Some(x), Some(y)) => Value::Bool(if op == And { x && y } else { x || y }),
                _ => Value::error(),
            },
            Lt | Le | Gt | Ge => match (a.as_int(), b.as_int()) {
                (Some(x), Some(y)) => Value::Bool(match op {
                    Lt => x < y,
                    Le => x <= y,
                    Gt => x > y,
                    _ => x >= y,
                }),
                _ => Value::error(),
            },
            Add => match (&a, &b) {
                (Value::Str(x), Value::Str(y)) => Value::Str(format!("{x}{y}")),
                _ => int(i64::checked_add, "integer overflow")?,
            },
            Sub => int(i64::checked_sub, "integer overflow")?,
            Mul => int(i64::checked_mul, "integer overflow")?,
            Div => int(i64::checked_div, "division by zero")?,
            Rem => int(i64::checked_rem, "division by zero")?,
            Coalesce => unreachable!("handled above"),
        };
        Ok(if secret {
            Value::Secret(Box::new(v))
        } else {
            v
        })
    }

    fn eval_call(
        &mut self,
        callee: &'a Expr,
        args: &'a [ast::Arg],
        env: &Rc<Env<'a>>,
        span: Span,
    ) -> EResult {
        let f = self.eval(callee, env, None)?;
        let Value::Path(p) = f else {
            return Ok(Value::error());
        };
        if let Some(name) = p.strip_prefix("builtin::") {
            let mut vals = Vec::new();
            for a in args {
                vals.push(self.eval(&a.value, env, None)?);
            }
            if let Some(u) = vals
                .iter()
                .find(|v| v.reveal().is_unknown() || matches!(v, Value::Unknown { .. }))
            {
                return Ok(u.reveal().clone());
            }
            let secret = name != "reveal" && vals.iter().any(Value::is_secret);
            let plain: Vec<Value> = if name == "reveal" {
                vals
            } else {
                vals.iter().map(|v| v.reveal().clone()).collect()
            };
            if plain.iter().any(|v| *v == Value::error()) {
                return Ok(Value::error());
            }
            let v = builtins::eval(name, &plain).map_err(|m| (span, m))?;
            return Ok(if secret {
                Value::Secret(Box::new(v))
            } else {
                v
            });
        }
        if let Some(name) = p.strip_prefix("fn::") {
            let Some(Name::Fn(it)) = env.frame.names.get(name).cloned().or_else(|| {
                env.frame
                    .parent
                    .as_ref()
                    .and_then(|f| f.names.get(name).cloned())
            }) else {
                return Ok(Value::error());
            };
            return self.call_fn(it, args, env, &env.frame.clone());
        }
        Ok(Value::error())
    }

    fn call_fn(
        &mut self,
        it: &'a Item,
        args: &'a [ast::Arg],
        env: &Rc<Env<'a>>,
        frame: &Rc<Frame<'a>>,
    ) -> EResult {
        let ItemKind::Fn {
            params, body, ret, ..
        } = &it.kind
        else {
            return Ok(Value::error());
        };
        let fenv = Rc::new(Env {
            vars: RefCell::new(BTreeMap::new()),
            parent: None,
            frame: frame.clone(),
        });
        for (p, a) in params.iter().zip(args) {
            let t = self.lower_simple(&p.ty);
            let v = self.eval(&a.value, env, Some(&t))?;
            fenv.vars
                .borrow_mut()
                .insert(p.name.text.clone(), Binding::Val(v));
        }
        let rt = self.lower_simple(ret);
        self.eval(body, &fenv, Some(&rt))
    }
}

trait LowerFirst {
    fn to_lowercase_first(&self) -> String;
}

impl LowerFirst for String {
    /// "KMS key" stays, "Subnet" becomes "subnet".
    fn to_lowercase_first(&self) -> String {
        let mut c = self.chars();
        match (c.next(), self.chars().nth(1)) {
            (Some(f), Some(s))
                if f.is_uppercase()
                    && s.is_lowercase()
                    && !self.chars().skip(1).any(char::is_uppercase) =>
            {
                f.to_lowercase().collect::<String>() + c.as_str()
            }
            _ => self.clone(),
        }
    }
}

/// Schema defaults live in the catalog, which outlives the evaluator.
fn unsafe_static<'a>(e: &'a Expr, _cat: &'a Catalog) -> &'a Expr {
    e
}

fn enum_value(db: &dyn Db, cat: &Catalog, id: &str, variant: &str) -> Option<Value> {
    if let Some(def) = cat.enums.get(id) {
        return def
            .variants
            .iter()
            .find(|(n, _, _)| n == variant)
            .map(|(n, w, _)| Value::Enum {
                id: id.into(),
                variant: n.clone(),
                wire: w.clone(),
            });
    }
    let (file, name) = id.rsplit_once("::")?;
    let f = db.workspace().files(db).get(file).copied()?;
    for it in &parse_file(db, f).items {
        if let ItemKind::Enum { name: n, variants } = &it.kind
            && n.text == name
        {
            return variants
                .iter()
                .find(|v| v.name.text == variant)
                .map(|v| Value::Enum {
                    id: id.into(),
                    variant: v.name.text.clone(),
                    wire: v.wire.clone().unwrap_or_else(|| v.name.text.clone()),
                });
        }
    }
    None
}

fn is_literal(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Int(_) | ExprKind::Bool(_) | ExprKind::None | ExprKind::Variant(_) => true,
        ExprKind::Str(p) => p.iter().all(|p| matches!(p, ast::StrPart::Text(_))),
        ExprKind::List(items) => items.iter().all(is_literal),
        ExprKind::Record(fs) => fs.iter().all(|f| is_literal(&f.value)),
        _ => false,
    }
}

fn literal_value(e: &Expr, ty: &Ty, cat: &Catalog) -> Value {
    match (&e.kind, ty.core()) {
        (ExprKind::Int(n), _) => Value::Int(*n),
        (ExprKind::Bool(b), _) => Value::Bool(*b),
        (ExprKind::None, _) => Value::None,
        (ExprKind::Str(p), _) => Value::Str(
            p.iter()
                .map(|p| {
                    if let ast::StrPart::Text(t) = p {
                        t.as_str()
                    } else {
                        ""
                    }
                })
                .collect(),
        ),
        (ExprKind::Variant(v), Ty::Enum(id)) => cat
            .enums
            .get(id)
            .and_then(|d| d.variants.iter().find(|(n, _, _)| *n == v.text))
            .map_or_else(Value::error, |(n, w, _)| Value::Enum {
                id: id.clone(),
                variant: n.clone(),
                wire: w.clone(),
            }),
        (ExprKind::List(items), t) => {
            let et = match t {
                Ty::List(e) => (**e).clone(),
                _ => Ty::Unknown,
            };
            Value::List(items.iter().map(|i| literal_value(i, &et, cat)).collect())
        }
        (ExprKind::Record(fs), t) => {
            let m = fs
                .iter()
                .map(|f| {
                    (
                        f.name.text.clone(),
                        literal_value(&f.value, &Ty::Unknown, cat),
                    )
                })
                .collect();
            if matches!(t, Ty::Map(_)) {
                Value::Map(m)
            } else {
                Value::Record(m)
            }
        }
        _ => Value::error(),
    }
}

/// Calls `found(addr, placement)` for every reference inside `v` whose type carries a placement.
fn refs_in(v: &Value, ty: &Ty, cat: &Catalog, found: &mut dyn FnMut(&str, &Placement)) {
    match (v.reveal(), ty) {
        (
            Value::Ref { addr },
            Ty::Ref {
                placement: Some(p), ..
            },
        ) => found(addr, p),
        (v, Ty::Optional(t) | Ty::Secret(t)) => refs_in(v, t, cat, found),
        (Value::List(items), Ty::List(t)) => {
            for it in items {
                refs_in(it, t, cat, found);
            }
        }
        (Value::Record(m), Ty::Record(id)) => {
            if let Some(fs) = cat.record_fields(id) {
                for f in fs {
                    if let Some(x) = m.get(&f.name) {
                        refs_in(x, &f.ty, cat, found);
                    }
                }
            }
        }
        _ => {}
    }
}

fn capitalise(s: &str) -> String {
    crate::check::capital(s)
}
