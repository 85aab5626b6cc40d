//! The evaluator: expands loops, conditionals and module instantiations into resource instances,
//! evaluates their fields, and checks placement per instance. Every `for r in regions` iteration
//! and every module instantiation is evaluated, so a region mistake inside a loop or a module is
//! reported with the iteration it happens in.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::FxHashMap as HashMap;
use std::rc::Rc;
use std::sync::Arc;

use carbonc_diagnostics::{Diagnostic, Label};
use carbonc_syntax::Span;
use carbonc_syntax::ast::{self, Expr, ExprKind, Item, ItemKind};

use crate::builtins;
use crate::check::{Decl, Export, file_exports, type_names};
use crate::db::{Db, SourceFile};
use crate::items::{catalog, file_imports, import_cycle_edges, parse_file};
use crate::regions::parse_window;
use crate::ty::{Catalog, Placement, Ty, human_type_name};
use crate::value::{Entries, Origin, Path, Value};

mod expand;
mod expr;
mod placement;

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
    /// Written as a literal (a string without interpolation, a number, a boolean, a variant):
    /// replacing it with another literal loses nothing the user wrote.
    pub literal: bool,
    /// Inside a module, when the value is a module parameter (or an element or attribute of
    /// one): the argument the outermost `use` passed for it, as `(file, span)`. That is where the
    /// user wrote the value, and where a diagnostic about it points.
    pub written_at: Option<Box<(String, Span)>>,
}

/// An instance's fields by name, in name order. A sorted vector: an instance has a handful to a
/// few dozen fields, and a map's nodes cost several times their memory and allocations. The names
/// are shared by the instances of one evaluation (`Evaluator::shared`).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Fields(Vec<(Arc<str>, FieldVal)>);

impl Fields {
    pub(crate) fn with_capacity(n: usize) -> Fields {
        Fields(Vec::with_capacity(n))
    }

    pub(crate) fn shrink_to_fit(&mut self) {
        self.0.shrink_to_fit();
    }

    fn at(&self, name: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| (**k).cmp(name))
    }

    pub fn get(&self, name: &str) -> Option<&FieldVal> {
        self.at(name).ok().map(|i| &self.0[i].1)
    }

    pub fn contains_key(&self, name: &str) -> bool {
        self.at(name).is_ok()
    }

    /// Sets field `name`, replacing the value it had.
    pub fn insert(&mut self, name: Arc<str>, value: FieldVal) {
        match self.at(&name) {
            Ok(i) => self.0[i].1 = value,
            Err(i) => self.0.insert(i, (name, value)),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &FieldVal)> {
        self.0.iter().map(|(k, v)| (&**k, v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| &**k)
    }

    pub fn values(&self) -> impl Iterator<Item = &FieldVal> {
        self.0.iter().map(|(_, v)| v)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'f> IntoIterator for &'f Fields {
    type Item = (&'f str, &'f FieldVal);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'f, (Arc<str>, FieldVal)>,
        fn(&'f (Arc<str>, FieldVal)) -> (&'f str, &'f FieldVal),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (&**k, v))
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instance {
    pub address: String,
    pub ty: String,
    pub region: Option<usize>,
    /// Shared by the instances of one file in one evaluation.
    pub file: Arc<str>,
    /// The span of the resource's name in its declaration.
    pub span: Span,
    /// Loop and module bindings that produced this instance, e.g. `r = euw1`: shared by the
    /// instances of one loop iteration.
    pub context: Arc<str>,
    /// The `use`s that made this instance, outermost first, each as `(file, span of its name)`:
    /// empty outside modules.
    pub uses: Vec<(String, Span)>,
    pub fields: Fields,
    /// `lifecycle = { create_before_destroy, prevent_destroy }`, with the schema's default.
    pub create_before_destroy: bool,
    pub prevent_destroy: bool,
}

impl Instance {
    pub fn get(&self, field: &str) -> Option<&Value> {
        self.fields.get(field).map(|f| &f.value)
    }

    pub fn field_span(&self, field: &str) -> Span {
        self.fields.get(field).map_or(self.span, |f| f.span)
    }

    /// Whether the module that made this instance writes `field` itself (not from an argument):
    /// the user cannot change it where they use the module.
    pub fn set_by_module(&self, field: &str) -> bool {
        !self.uses.is_empty()
            && self
                .fields
                .get(field)
                .is_some_and(|f| f.written_at.is_none())
    }
}

/// An instance as a key by its address: the index shares the instances instead of copying
/// every address.
#[derive(Clone, Debug)]
struct ByAddress(Arc<Instance>);

impl PartialEq for ByAddress {
    fn eq(&self, other: &ByAddress) -> bool {
        self.0.address == other.0.address
    }
}

impl Eq for ByAddress {}

impl std::hash::Hash for ByAddress {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.address.as_str().hash(state)
    }
}

impl std::borrow::Borrow<str> for ByAddress {
    fn borrow(&self) -> &str {
        &self.0.address
    }
}

/// The root parameter that names the IAM role carbonc assumes (see `Program::provider_role_arn`).
pub const PROVIDER_ROLE_PARAM: &str = "provider_role_arn";

/// `arn:<partition>:iam::<12-digit account>:role/<path/name>`, as STS AssumeRole wants it.
fn is_role_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    matches!(parts.as_slice(),
        ["arn", partition, "iam", "", account, resource]
            if partition.starts_with("aws")
                && account.len() == 12
                && account.bytes().all(|b| b.is_ascii_digit())
                && resource.strip_prefix("role/").is_some_and(|n| !n.is_empty() && !n.ends_with('/')))
}

/// The evaluated program: what the plan will be computed from.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Program {
    pub regions: Vec<RegionInfo>,
    /// Shared with the files' parts ([`file_program`]): joining them copies no instance.
    pub instances: Vec<Arc<Instance>>,
    pub outputs: Vec<(String, Value)>,
    /// Outputs declared `endpoint output`: user-facing entry points.
    pub endpoints: Vec<(String, String, Span)>,
    pub diags: Vec<Diagnostic>,
    /// Parameters of the root file with neither a default nor a given value, as `(name, file, span)`.
    pub missing_params: Vec<(String, String, Span)>,
    /// Given variables that name no parameter of the root file.
    pub unknown_vars: Vec<String>,
    /// The IAM role carbonc assumes for every AWS call: the root file's `provider_role_arn`
    /// parameter, when it declares one and its value is a non-empty string.
    pub provider_role_arn: Option<String>,
    /// How many regions must stay fully available (`carbon.toml`'s `[availability] regions`);
    /// `None`: all but one.
    pub regions_available: Option<u32>,
    /// Address -> index into `instances`, built once evaluation is done: rules and the simulator
    /// look instances up by address for every reference.
    by_address: HashMap<ByAddress, usize>,
    /// Type -> indices into `instances`, in program order: the rules and the simulator ask for the
    /// instances of one type many times, and must not scan the whole program each time.
    by_type: HashMap<String, Vec<usize>>,
    /// In one file's part ([`file_program`]): the outputs of the module instances the file makes,
    /// by instance address, for the files that import it to read.
    module_outputs: BTreeMap<String, BTreeMap<String, Value>>,
}

impl Program {
    fn index(&mut self) {
        for (i, inst) in self.instances.iter().enumerate() {
            // The first of two same-addressed instances is the one that counts, as in evaluation.
            self.by_address.entry(ByAddress(inst.clone())).or_insert(i);
            match self.by_type.get_mut(&inst.ty) {
                Some(at) => at.push(i),
                None => {
                    self.by_type.insert(inst.ty.clone(), vec![i]);
                }
            }
        }
    }

    /// The instances of type `ty`, in program order.
    pub fn of_type<'p>(&'p self, ty: &str) -> impl Iterator<Item = &'p Instance> + 'p {
        self.positions_of_type(ty)
            .iter()
            .map(|&i| &*self.instances[i])
    }

    /// The indices in `instances` of the instances of type `ty`, in program order.
    pub(crate) fn positions_of_type(&self, ty: &str) -> &[usize] {
        self.by_type.get(ty).map_or(&[][..], Vec::as_slice)
    }

    /// The program with only the instances at the indices `keep` holds (in order), its regions,
    /// outputs and entry points.
    pub(crate) fn view(&self, keep: impl Fn(usize) -> bool) -> Program {
        let mut v = Program {
            regions: self.regions.clone(),
            instances: (0..self.instances.len())
                .filter(|&i| keep(i))
                .map(|i| self.instances[i].clone())
                .collect(),
            outputs: self.outputs.clone(),
            endpoints: self.endpoints.clone(),
            regions_available: self.regions_available,
            ..Program::default()
        };
        v.index();
        v
    }

    /// The index in `instances` of the instance at `addr`.
    pub fn position(&self, addr: &str) -> Option<usize> {
        self.by_address.get(addr).copied()
    }

    pub fn instance(&self, addr: &str) -> Option<&Instance> {
        self.by_address.get(addr).map(|&i| &*self.instances[i])
    }

    pub fn region_code(&self, idx: Option<usize>) -> &str {
        idx.and_then(|i| self.regions.get(i))
            .map_or("global", |r| r.code.as_str())
    }
}

/// The evaluated program: each file's part ([`file_program`]) joined in file order (the root,
/// then its imports depth first), with the root's outputs and parameters.
#[salsa::tracked(returns(ref))]
pub fn evaluate_program(db: &dyn Db, root: SourceFile) -> Program {
    let mut program = Program {
        regions: program_regions(db, root).clone(),
        ..Program::default()
    };
    // Imported files' parts first: a part that reads another file's instance then finds its part
    // ready, instead of evaluating it while holding its own evaluator (a chain of imports would
    // hold one evaluator per file at once).
    for f in imports_first(db, root) {
        file_program(db, root, f);
    }
    for f in file_order(db, root) {
        let part = file_program(db, root, f);
        program.instances.extend(part.instances.iter().cloned());
        program.diags.extend(part.diags.iter().cloned());
        if f == root {
            program.outputs = part.outputs.clone();
            program.endpoints = part.endpoints.clone();
            program.missing_params = part.missing_params.clone();
            program.unknown_vars = part.unknown_vars.clone();
            program.provider_role_arn = part.provider_role_arn.clone();
        }
    }
    program.index();
    program
}

/// One file's part of the program rooted at `root`: the instances the file declares (its loops
/// and module instantiations expanded, their fields evaluated), the diagnostics of evaluating
/// them, and for the root its outputs and parameters. A reference to another file's instance
/// reads that file's part, so an edit re-evaluates the edited file and the parts that read a
/// value it changed (salsa backdates the parts that come out equal), not the whole program.
#[salsa::tracked(returns(ref))]
pub fn file_program(db: &dyn Db, root: SourceFile, file: SourceFile) -> Program {
    let mut ev = Evaluator::new(db);
    ev.scope = Some((root, file.path(db).clone()));
    ev.run(root);
    let mut program = ev.program;
    program.regions.clear();
    program.index();
    program
}

/// One file's part of the program rooted at `root` before any field is evaluated: the instances
/// it declares (address, type, region, file, loop bindings; no span, no `use`s), and the module
/// instances it makes (as keys of `module_outputs`, without outputs). What another file needs to check a reference to one of
/// them; it is equal after an edit that changes only field values, and it does not wait for the
/// file's values, so the parts of files that import each other can be evaluated side by side.
#[salsa::tracked(returns(ref))]
pub(crate) fn file_skeleton(db: &dyn Db, root: SourceFile, file: SourceFile) -> Program {
    let mut ev = Evaluator::new(db);
    ev.scope = Some((root, file.path(db).clone()));
    ev.skeleton = true;
    ev.prepare(root);
    let mut instances = std::mem::take(&mut ev.program.instances);
    // Span-free, so that an edit that only moves text leaves the skeleton equal (the readers
    // that report a diagnostic read the span from the file's part).
    for inst in &mut instances {
        let inst = Arc::make_mut(inst);
        inst.span = Span::default();
        inst.uses = Vec::new();
    }
    let mut program = Program {
        instances,
        module_outputs: ev
            .modules
            .keys()
            .map(|addr| (addr.clone(), BTreeMap::new()))
            .collect(),
        ..Program::default()
    };
    program.index();
    program
}

/// Computes `file`'s skeleton ahead of the parts that read it ([`crate::warm`]).
pub(crate) fn warm_skeleton(db: &dyn Db, root: SourceFile, file: SourceFile) {
    file_skeleton(db, root, file);
}

/// The value of `let` or parameter `name` of `file`, a file that another file of the program
/// imports, with the diagnostics of evaluating it. Every instance it reads comes from its file's
/// part; it is equal after an edit of `file` that does not change it, so the parts that read it
/// are not evaluated again.
#[salsa::tracked(returns(ref))]
pub(crate) fn imported_value(
    db: &dyn Db,
    root: SourceFile,
    file: SourceFile,
    name: String,
) -> (Result<Value, (Span, String)>, Vec<Diagnostic>) {
    let mut ev = Evaluator::new(db);
    // No file of its own: every frame is an imported one, every instance read from its part.
    ev.scope = Some((root, String::new()));
    ev.root = root.path(db).clone();
    ev.value_home = Some(file.path(db).clone());
    ev.program.regions = program_regions(db, root).clone();
    ev.reachable = file_order(db, file)
        .iter()
        .map(|f| (ev.prefix_of(f.path(db)), f.path(db).clone()))
        .collect();
    let Some(frame) = ev.frame(file.path(db)) else {
        return (Ok(Value::error()), Vec::new());
    };
    let value = match ev.realize(&name, &frame) {
        Some(n @ (Name::Let(..) | Name::Param { .. })) => ev.name_value(&name, n, &frame),
        _ => Ok(Value::error()),
    };
    (value, ev.program.diags)
}

/// The regions the program rooted at `root` declares, in declaration order (the root, then its
/// imports depth first).
#[salsa::tracked(returns(ref))]
pub fn program_regions(db: &dyn Db, root: SourceFile) -> Vec<RegionInfo> {
    let mut regions = Vec::new();
    for f in file_order(db, root) {
        let path = f.path(db).clone();
        for it in &parse_file(db, f).items {
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
            regions.push(RegionInfo {
                name: name.text.clone(),
                code: lit("code").map(|c| c.0).unwrap_or_default(),
                primary,
                maintenance: lit("maintenance").filter(|(w, _)| parse_window(w).is_ok()),
                file: path.clone(),
                span: name.span,
            });
        }
    }
    regions
}

/// The files reachable from `root`, each after every file it imports (depth-first postorder);
/// an import that closes a cycle is not followed.
fn imports_first(db: &dyn Db, root: SourceFile) -> Vec<SourceFile> {
    walk_imports(db, root).1
}

/// `from` and the files it imports, depth first, each once; an import that closes a cycle is
/// not followed.
pub(crate) fn file_order(db: &dyn Db, from: SourceFile) -> Vec<SourceFile> {
    walk_imports(db, from).0
}

/// The files reachable from `from` in depth-first preorder and postorder.
fn walk_imports(db: &dyn Db, from: SourceFile) -> (Vec<SourceFile>, Vec<SourceFile>) {
    fn walk(
        db: &dyn Db,
        f: SourceFile,
        orders: &mut (Vec<SourceFile>, Vec<SourceFile>),
        seen: &mut BTreeSet<String>,
    ) {
        let path = f.path(db).clone();
        if !seen.insert(path.clone()) {
            return;
        }
        orders.0.push(f);
        let cycles = import_cycle_edges(db);
        for imp in file_imports(db, f) {
            if cycles.contains(&(path.clone(), imp.path.clone())) {
                continue;
            }
            if let Some(g) = db.workspace().files(db).get(&imp.path) {
                walk(db, *g, orders, seen);
            }
        }
        orders.1.push(f);
    }
    let mut orders = (Vec::new(), Vec::new());
    walk(db, from, &mut orders, &mut BTreeSet::new());
    orders
}

/// One instance at a time, re-evaluated against known values that change while `apply` runs: the
/// program is expanded once (every instance's address, type and region), then each `instance`
/// call evaluates what that instance reads, and no more. Memos from before the last change of
/// known values are stale (`Evaluator::generation`), so a value is never older than the known
/// values it was computed from. `evaluate_program` over the same known values gives the same
/// instance (`tests/tests/resolver.rs` compares the two).
pub struct InstanceResolver<'db> {
    ev: Evaluator<'db>,
}

impl<'db> InstanceResolver<'db> {
    pub fn new(db: &'db dyn Db, root: SourceFile) -> InstanceResolver<'db> {
        let mut ev = Evaluator::new(db);
        ev.known = Some(HashMap::default());
        ev.prepare(root);
        InstanceResolver { ev }
    }

    /// Sets the computed attributes known for `address`; if they differ from before, every memo
    /// is stale.
    pub fn set_known(&mut self, address: &str, attrs: BTreeMap<String, Value>) {
        let known = self.ev.known.get_or_insert_default();
        if known.get(address) != Some(&attrs) {
            known.insert(address.to_string(), attrs);
            self.ev.generation += 1;
            self.ev.let_memo.clear();
        }
    }

    /// The instance at `address`, its fields evaluated with the known values as they are now.
    pub fn instance(&mut self, address: &str) -> Option<&Instance> {
        let idx = *self.ev.by_addr.get(address)?;
        self.ev.eval_instance(idx);
        self.ev.program.instances.get(idx).map(|i| &**i)
    }

    pub fn regions(&self) -> &[RegionInfo] {
        &self.ev.program.regions
    }
}

impl<'a> Evaluator<'a> {
    fn new(db: &'a dyn Db) -> Evaluator<'a> {
        Evaluator {
            db,
            cat: catalog(db),
            program: Program::default(),
            stubs: Vec::new(),
            by_addr: HashMap::default(),
            modules: BTreeMap::new(),
            file_frames: RefCell::new(BTreeMap::new()),
            reachable: Vec::new(),
            let_memo: BTreeMap::new(),
            call_depth: 0,
            root: String::new(),
            pending_params: Vec::new(),
            reported_module_refs: BTreeSet::new(),
            evaluating: RefCell::new(BTreeSet::new()),
            done: Vec::new(),
            generation: 0,
            known: None,
            scope: None,
            diag_owner: Vec::new(),
            owners: Vec::new(),
            outside: PREPARED,
            value_home: None,
            skeleton: false,
            literal_defaults: HashMap::default(),
            variants: HashMap::default(),
            module_names: HashMap::default(),
            shared: HashMap::default(),
        }
    }

    /// Attributes the diagnostics pushed since the last call to `owner`: an instance's index, or
    /// `PREPARED` and `FINISHED` for the phases before and after the instances.
    fn own_diags(&mut self, owner: usize) {
        let n = self.program.diags.len() - self.diag_owner.len();
        self.diag_owner.extend(std::iter::repeat_n(owner, n));
    }

    /// Puts the diagnostics in a canonical order: before the instances, then per instance in
    /// declaration order, then after. Lazy evaluation reaches instances in the order references
    /// lead to them; the diagnostics must not depend on that order (the first of repeated ones
    /// is the one shown).
    fn order_diags(&mut self) {
        self.own_diags(FINISHED);
        let mut tagged: Vec<(usize, Diagnostic)> = std::mem::take(&mut self.diag_owner)
            .into_iter()
            .zip(std::mem::take(&mut self.program.diags))
            .collect();
        tagged.sort_by_key(|(owner, _)| *owner);
        self.program.diags = tagged.into_iter().map(|(_, d)| d).collect();
    }

    /// A computed attribute known from the state, if it is.
    fn known_attr(&self, address: &str, field: &str) -> Option<Value> {
        match &self.known {
            Some(known) => known.get(address)?.get(field).cloned(),
            None => self
                .db
                .inputs()
                .known(self.db)
                .get(address)?
                .get(field)
                .cloned(),
        }
    }
}

struct Frame<'a> {
    file: String,
    prefix: String,
    /// Names declared in this file or module.
    names: Rc<HashMap<String, Name<'a>>>,
    /// The file's frame, for module frames (they see its lets, functions and imports).
    parent: Option<Rc<Frame<'a>>>,
    /// For module frames, the `use`s that made it, outermost first.
    uses: Vec<(String, Span)>,
}

#[derive(Clone)]
enum Name<'a> {
    /// A file-level `let`, evaluated on first use in its file's environment.
    Let(&'a Expr, Option<Ty>),
    /// A parameter: its value comes from the plan's variables (root file only), its default, or
    /// is unknown until plan time. Evaluated on first use, like a `let`.
    Param {
        default: Option<&'a Expr>,
        ty: Ty,
        span: Span,
    },
    /// A resource or module family declared in the frame; its address is the frame's prefix and
    /// the name (not stored: a module's names are shared by all its instances).
    Family {
        keys: usize,
        module: bool,
    },
    Fn(&'a Item),
    Import(String),
    Enum(String),
    Module(&'a Item, String),
    /// A `let`, parameter, function or module of an imported file, read from that file's syntax
    /// only when used (`Evaluator::realize`): a file's part then depends on an imported file's
    /// text only through what it reads of it. A `let` or parameter (`value`) is read as the
    /// [`imported_value`] query evaluates it, which backdates when the value does not change.
    Deferred {
        value: bool,
        param: bool,
    },
}

/// What a file declares, without spans or syntax ([`frame_decls`]): the names other files'
/// parts see of it, equal after any edit that declares, renames or moves nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum DeclKind {
    /// A resource (`module: false`) or module instance family inside `keys` loops.
    Family {
        keys: usize,
        module: bool,
    },
    Enum,
    Import(String),
    Let,
    Param,
    /// A function or module.
    Other,
}

#[salsa::tracked(returns(ref))]
pub(crate) fn frame_decls(db: &dyn Db, file: SourceFile) -> Vec<(String, DeclKind)> {
    let mut decls = BTreeMap::new();
    crate::check::collect(
        &parse_file(db, file).items,
        0,
        &mut decls,
        &mut Vec::new(),
        true,
    );
    let imports = file_imports(db, file);
    decls
        .into_iter()
        .filter_map(|(name, (d, _))| {
            let kind = match d {
                Decl::Resource { keys, .. } => DeclKind::Family {
                    keys,
                    module: false,
                },
                Decl::Use { keys, .. } => DeclKind::Family { keys, module: true },
                Decl::Enum(_) => DeclKind::Enum,
                Decl::Import => {
                    DeclKind::Import(imports.iter().find(|i| i.alias == name)?.path.clone())
                }
                Decl::Record(_) => return None,
                Decl::Let(_) => DeclKind::Let,
                Decl::Param(_) => DeclKind::Param,
                Decl::Fn(_) | Decl::Module(_) => DeclKind::Other,
            };
            Some((name, kind))
        })
        .collect()
}

struct Env<'a> {
    vars: RefCell<HashMap<String, Binding<'a>>>,
    parent: Option<Rc<Env<'a>>>,
    frame: Rc<Frame<'a>>,
}

#[derive(Clone)]
enum Binding<'a> {
    Val(Value),
    /// A `let` not evaluated yet. (The type is shared: a binding is kept for every module
    /// instance and loop iteration, and a type inline would double its size.)
    Thunk(&'a Expr, Option<Rc<Ty>>, Rc<Env<'a>>),
    /// A `let` being evaluated (seeing it again is a cycle).
    InProgress,
    /// A `let`'s value as of a generation of known values (see `Evaluator::generation`); in a
    /// later generation it is evaluated again.
    Memo(Value, u32, &'a Expr, Option<Rc<Ty>>, Rc<Env<'a>>),
}

struct Stub<'a> {
    body: &'a [ast::Assign],
    env: Rc<Env<'a>>,
}

/// A module argument, evaluated once all instances exist: its errors are reported even when the
/// module never reads it, and its placed references are checked at the `use` site.
struct PendingParam<'a> {
    param: &'a str,
    /// The parameter's type when it can carry a placed reference
    /// ([`placement::carries_placement`]).
    placed: Option<Ty>,
    env: Rc<Env<'a>>,
    span: Span,
    /// The `use` that passed it, shared by its arguments.
    site: Rc<UseSite>,
}

/// Where a module instance is made: its address, the file of its `use`, its region and loop
/// bindings.
struct UseSite {
    module: String,
    file: String,
    region: Option<usize>,
    context: String,
}

struct ModuleInst<'a> {
    outputs: BTreeMap<String, (&'a Expr, Option<Ty>, Rc<Env<'a>>)>,
}

struct Evaluator<'a> {
    db: &'a dyn Db,
    cat: &'a Catalog,
    program: Program,
    stubs: Vec<Stub<'a>>,
    by_addr: HashMap<String, usize>,
    modules: BTreeMap<String, ModuleInst<'a>>,
    /// Frames by file, made when first needed (a part needs few of its imports' frames).
    file_frames: RefCell<BTreeMap<String, Rc<Frame<'a>>>>,
    /// `(prefix, path)` of the files whose instances this evaluation can meet (a part: its file's
    /// imports, transitively), to find the part an address belongs to.
    reachable: Vec<(String, String)>,
    /// Module parameters with placed reference types, checked once all instances exist.
    pending_params: Vec<PendingParam<'a>>,
    /// `(module instance, target)` pairs already reported at a `use` argument.
    reported_module_refs: BTreeSet<(String, String)>,
    /// The root file's path: only its parameters take variables.
    root: String,
    /// How deep user functions are calling each other right now.
    call_depth: usize,
    /// Values of file-level lets, by `(file, name)`; `None` while one is being evaluated.
    let_memo: BTreeMap<(String, String), Option<Value>>,
    evaluating: RefCell<BTreeSet<usize>>,
    /// For each instance, `generation + 1` once its fields are evaluated in that generation.
    done: Vec<u32>,
    /// Bumped by [`InstanceResolver`] whenever known values change: every memo (instance fields,
    /// lets) of an earlier generation is stale and evaluated again when next read. Always 0 in
    /// `evaluate_program`.
    generation: u32,
    /// Known computed attributes that replace `ProgramInputs::known` ([`InstanceResolver`]).
    known: Option<HashMap<String, BTreeMap<String, Value>>>,
    /// `(root, file)` when evaluating one file's part ([`file_program`]): only that file's
    /// items are expanded, and other files' instances are read from their parts. `None`: the
    /// whole program ([`InstanceResolver`]).
    scope: Option<(SourceFile, String)>,
    /// Who each diagnostic of `program.diags` belongs to (see `own_diags`).
    diag_owner: Vec<usize>,
    /// The instances being evaluated, innermost last.
    owners: Vec<usize>,
    /// The owner of diagnostics pushed outside any instance: `PREPARED`, then `FINISHED`.
    outside: usize,
    /// In [`imported_value`]: the file whose `let` is evaluated. Its other lets are evaluated here
    /// too (with the cycle check of `let_memo`), not through the query again: two lets of one file
    /// that read each other are an error, not a query cycle.
    value_home: Option<String>,
    /// In [`file_skeleton`]: only the instances are made; the checks of parameters and module
    /// arguments, which report diagnostics, are left to the file's part.
    skeleton: bool,
    /// The values of schema field defaults that are literals, by the field's schema (the same for
    /// every instance of a type): evaluated once per evaluation, not once per instance.
    literal_defaults: HashMap<*const crate::ty::FieldSchema, Value>,
    /// Enum values met, by enum and variant: a variant written a thousand times is one value.
    variants: HashMap<String, HashMap<String, Value>>,
    /// The names each module declares, by its item: the same for all its instances.
    module_names: HashMap<*const Item, Rc<HashMap<String, Name<'a>>>>,
    /// Instances' files, contexts and field names, one copy each ([`Instance::file`],
    /// [`Instance::context`], [`Fields`]).
    shared: HashMap<String, Arc<str>>,
}

/// Diagnostic owners of the phases before and after the instances.
const PREPARED: usize = 0;
const FINISHED: usize = usize::MAX;

/// Recursion limit for user functions (they are pure and single-expression: deep recursion is a bug).
const MAX_CALL_DEPTH: usize = 64;

type EResult = Result<Value, (Span, String)>;

/// How a loop key appears in an address: a region by its code, a scalar as itself, a record by its
/// `key`, `name` or `id` field (map iteration gives `{ key, value }`), anything else canonically.
fn key_text(v: &Value) -> String {
    match v {
        Value::Region { code, .. } => code.clone(),
        Value::Record(m) | Value::Map(m) => {
            for k in ["key", "name", "id"] {
                if let Some(t) = m.get(k).and_then(|v| v.display_plain().ok()) {
                    return t;
                }
            }
            let parts: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{k}={}", key_text(v)))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        Value::List(items) => format!(
            "[{}]",
            items.iter().map(key_text).collect::<Vec<_>>().join(",")
        ),
        Value::Unknown { .. } => "(unknown)".into(),
        v => v.display_plain().unwrap_or_else(|_| v.kind().to_string()),
    }
}

impl<'a> Evaluator<'a> {
    fn run(&mut self, root: SourceFile) {
        self.prepare(root);
        self.own_diags(PREPARED);
        for i in 0..self.stubs.len() {
            self.eval_instance(i);
        }
        self.outside = FINISHED;
        if self.is_root() {
            self.check_outputs(root);
        }
        if self.scope.is_some() {
            self.collect_module_outputs();
        }
        self.order_diags();
    }

    /// Whether the root's own items are evaluated here (the whole program, or the root's part).
    fn is_root(&self) -> bool {
        self.scope
            .as_ref()
            .is_none_or(|(_, file)| *file == self.root)
    }

    /// The values of every output of every module instance made here, for the importing files
    /// (their diagnostics belong to the reads that need them, in whichever file).
    fn collect_module_outputs(&mut self) {
        let before = self.program.diags.len();
        let addrs: Vec<String> = self.modules.keys().cloned().collect();
        for addr in addrs {
            let outputs: Vec<(String, &'a Expr, Option<Ty>, Rc<Env<'a>>)> = self.modules[&addr]
                .outputs
                .iter()
                .map(|(n, (x, t, e))| (n.clone(), *x, t.clone(), e.clone()))
                .collect();
            let mut values = BTreeMap::new();
            for (name, x, t, env) in outputs {
                let v = self
                    .eval(x, &env, t.as_ref())
                    .unwrap_or_else(|_| Value::error());
                values.insert(name, v);
            }
            self.program.module_outputs.insert(addr, values);
        }
        self.program.diags.truncate(before);
    }

    /// Where another file's instance or module instance `addr` was evaluated: that file's part.
    /// `None` for the whole program, for this file's own addresses, and for unknown ones.
    fn remote_part(&self, addr: &str) -> Option<&'a Program> {
        let (root, file) = self.remote_file(addr)?;
        Some(file_program(self.db, root, file))
    }

    /// The file that declares another file's instance or module instance `addr`, with the root.
    fn remote_file(&self, addr: &str) -> Option<(SourceFile, SourceFile)> {
        let (root, scope) = self.scope.as_ref()?;
        // The file whose prefix is the longest one `addr` starts with; the root's is empty, and no
        // other file can name the root's instances (imports have no cycles).
        let (_, owner) = self
            .reachable
            .iter()
            .filter(|(prefix, path)| path != scope && !prefix.is_empty())
            .filter(|(prefix, _)| addr.starts_with(prefix.as_str()))
            .max_by_key(|(prefix, _)| prefix.len())?;
        let file = *self.db.workspace().files(self.db).get(owner)?;
        Some((*root, file))
    }

    /// Another file's instance at `addr`, evaluated in its part.
    pub(super) fn remote_instance(&self, addr: &str) -> Option<&'a Instance> {
        self.remote_part(addr)?.instance(addr)
    }

    /// Another file's instance at `addr` as its file's skeleton has it: address, type, region and
    /// where it is declared, without fields. Enough to check a reference's placement, and it does
    /// not wait for that file's values.
    pub(super) fn remote_header(&self, addr: &str) -> Option<&'a Instance> {
        let (root, file) = self.remote_file(addr)?;
        file_skeleton(self.db, root, file).instance(addr)
    }

    /// The value of output `field` of another file's module instance `addr`.
    pub(super) fn remote_module_output(&self, addr: &str, field: &str) -> Option<Value> {
        Some(
            self.remote_part(addr)?
                .module_outputs
                .get(addr)?
                .get(field)
                .cloned()
                .unwrap_or_else(Value::error),
        )
    }

    /// Whether another file made the module instance `addr`.
    pub(super) fn remote_module_exists(&self, addr: &str) -> bool {
        self.remote_file(addr).is_some_and(|(root, file)| {
            file_skeleton(self.db, root, file)
                .module_outputs
                .contains_key(addr)
        })
    }

    /// Everything before the instances' fields: regions, parameters, each file's names, every
    /// instance's address, type and region (the loops and modules expanded), module arguments.
    fn prepare(&mut self, root: SourceFile) {
        self.root = root.path(self.db).clone();
        self.program.regions = program_regions(self.db, root).clone();
        if self.is_root() {
            self.collect_params(root);
        }
        // One file's part needs the frames of the files it can name: itself and its imports.
        let from = match &self.scope {
            Some((_, file)) => self
                .db
                .workspace()
                .files(self.db)
                .get(file)
                .copied()
                .unwrap_or(root),
            None => root,
        };
        let order = file_order(self.db, from);
        self.reachable = order
            .iter()
            .map(|f| (self.prefix_of(f.path(self.db)), f.path(self.db).clone()))
            .collect();
        // A part makes its own frame now and its imports' when it reads them; the whole program
        // makes them all.
        let framed = if self.scope.is_some() {
            &order[..1]
        } else {
            &order[..]
        };
        for f in framed {
            self.file_frame(*f);
        }
        let expanded = if self.scope.is_some() {
            &order[..1]
        } else {
            &order[..]
        };
        for f in expanded {
            let frame = self.file_frame(*f);
            let env = Rc::new(Env {
                vars: RefCell::new(HashMap::default()),
                parent: None,
                frame,
            });
            let items = &parse_file(self.db, *f).items;
            self.expand(items, &env, &[], &[]);
        }
        if self.skeleton {
            return;
        }
        if !self.is_root() {
            self.done = vec![0; self.stubs.len()];
            self.check_module_params();
            return;
        }
        // Every given variable is checked against its parameter, used or not.
        if let Some(frame) = self.frame(&self.root.clone()) {
            if let Some(n @ Name::Param { span, .. }) =
                frame.names.get(PROVIDER_ROLE_PARAM).cloned()
                && let Ok(v) = self.name_value(PROVIDER_ROLE_PARAM, n, &frame)
                && let Some(arn) = v.as_str().filter(|s| !s.is_empty())
            {
                if is_role_arn(arn) {
                    self.program.provider_role_arn = Some(arn.to_string());
                } else {
                    let shown = if v.is_secret() { "(sensitive)" } else { arn };
                    self.program.diags.push(
                        Diagnostic::error(
                            "E0119",
                            format!("`{PROVIDER_ROLE_PARAM}` is not an IAM role ARN: `{shown}`"),
                            Label::new(
                                &self.root,
                                span,
                                "carbonc assumes this role for every AWS call",
                            ),
                        )
                        .with_help(
                            "give the role's ARN, `arn:aws:iam::<12-digit account>:role/<name>`, \
                             or an empty string to use your own credentials",
                        ),
                    );
                }
            }
            let given: Vec<String> = self.db.inputs().vars(self.db).keys().cloned().collect();
            for name in given {
                if let Some(n @ Name::Param { .. }) = frame.names.get(&name).cloned() {
                    let _ = self.name_value(&name, n, &frame);
                }
            }
        }
        self.done = vec![0; self.stubs.len()];
        self.check_module_params();
    }

    fn collect_params(&mut self, root: SourceFile) {
        let vars = self.db.inputs().vars(self.db);
        let mut declared = BTreeSet::new();
        for it in &parse_file(self.db, root).items {
            if let ItemKind::Param { name, default, .. } = &it.kind {
                declared.insert(name.text.clone());
                if default.is_none() && !vars.contains_key(&name.text) {
                    self.program.missing_params.push((
                        name.text.clone(),
                        self.root.clone(),
                        name.span,
                    ));
                }
            }
        }
        // Like Terraform's `TF_VAR_`, an environment variable for a parameter this program does not
        // declare is ignored (one CI environment serves several root files); an explicit one is not.
        self.program.unknown_vars = vars
            .iter()
            .filter(|(name, v)| {
                !declared.contains(*name) && !v.origin.starts_with("the environment")
            })
            .map(|(name, _)| name.clone())
            .collect();
    }

    /// The value of a variable given for parameter `name` of type `ty`, checked against the type.
    pub(super) fn var_value(
        &mut self,
        name: &str,
        var: &crate::db::VarValue,
        ty: &Ty,
        span: Span,
    ) -> Value {
        let file = self.root.clone();
        let bad = |ev: &mut Self, why: String| {
            ev.program.diags.push(
                Diagnostic::error(
                    "E0115",
                    format!("Invalid value for parameter `{name}`"),
                    Label::new(&file, span, format!("`{name}` is `{ty}`")),
                )
                .with_note(format!("the value comes from {}: {why}", var.origin))
                .with_help(format!(
                    "give a `{}` literal, for example {}",
                    ty.core(),
                    example_literal(ty.core())
                )),
            );
            Value::error()
        };
        let v = if var.raw && matches!(ty.core(), Ty::String) {
            Value::Str(var.source.clone())
        } else {
            let expr = match carbonc_syntax::parse_expr(&var.source) {
                Ok(e) => e,
                Err(errs) => {
                    return bad(
                        self,
                        errs.first()
                            .map_or("it does not parse".into(), |e| e.message.to_lowercase()),
                    );
                }
            };
            if !is_literal(&expr) {
                // A secret's text is never repeated, not even a wrong one.
                let why = if ty.is_secret() {
                    "only literals are accepted".to_string()
                } else {
                    let t = ty.core().to_string();
                    let a = if t.starts_with(['A', 'E', 'I', 'O', 'U']) {
                        "an"
                    } else {
                        "a"
                    };
                    format!(
                        "`{}` is not {a} `{t}` literal, and only literals are accepted",
                        var.source.trim()
                    )
                };
                return bad(self, why);
            }
            literal_value(&expr, ty, self.cat)
        };
        if !conforms(&v, ty) {
            return bad(self, format!("{} is not a `{}`", v.kind(), ty.core()));
        }
        if ty.is_secret() {
            Value::Secret(Box::new(v))
        } else {
            v
        }
    }

    /// The frame of the file at `path`, made if it is not yet.
    pub(super) fn frame(&self, path: &str) -> Option<Rc<Frame<'a>>> {
        if let Some(fr) = self.file_frames.borrow().get(path) {
            return Some(fr.clone());
        }
        let f = *self.db.workspace().files(self.db).get(path)?;
        Some(self.file_frame(f))
    }

    /// Instances of imported files are prefixed with the file's path relative to the root's folder
    /// (`net.vpc[us-east-1]`, `modules.net.vpc[...]`), so that two `net.carbon` in different
    /// folders do not collide; the root's own are not.
    fn prefix_of(&self, path: &str) -> String {
        if path == self.root {
            return String::new();
        }
        let root_dir = self.root.rsplit_once('/').map_or("", |(d, _)| d);
        let rel = match path
            .strip_prefix(root_dir)
            .and_then(|r| r.strip_prefix('/'))
        {
            Some(r) if !root_dir.is_empty() => r,
            _ => path,
        };
        format!("{}.", rel.trim_end_matches(".carbon").replace('/', "."))
    }

    fn file_frame(&self, f: SourceFile) -> Rc<Frame<'a>> {
        let path = f.path(self.db).clone();
        if let Some(fr) = self.file_frames.borrow().get(&path) {
            return fr.clone();
        }
        let prefix = self.prefix_of(&path);
        // File-level lets are evaluated lazily, in an environment built from this frame when they are
        // first read (see `name_value`), and memoised per frame.
        let imported = self.scope.as_ref().is_some_and(|(_, scope)| *scope != path);
        let names = if imported {
            self.imported_names(f, &path)
        } else {
            self.frame_names(&parse_file(self.db, f).items, &path, Some(f))
        };
        let frame = Rc::new(Frame {
            file: path.clone(),
            prefix,
            names: Rc::new(names),
            parent: None,
            uses: Vec::new(),
        });
        self.file_frames.borrow_mut().insert(path, frame.clone());
        frame
    }

    /// Lowers a written type as seen from `file`, through the checker's own name resolution
    /// ([`crate::check::type_names`]).
    fn lower_in(&self, te: &ast::TypeExpr, file: &str) -> Ty {
        let names = self
            .db
            .workspace()
            .files(self.db)
            .get(file)
            .map(|f| type_names(self.db, *f));
        let resolve = |p: &ast::Path| names?.resolve(p, self.cat);
        crate::items::lower_type(te, &resolve, &mut |_, _| {})
    }

    /// The fields of a record type (prelude or user): name, type and default. A user record's
    /// fields are the checker's (`file_exports`), types lowered once.
    pub(super) fn record_fields(&self, id: &str) -> &'a [crate::ty::FieldSchema] {
        match self.cat.record_fields(id) {
            Some(fs) => fs,
            None => match user_export(self.db, id) {
                Some(Export::Record(r)) => r.fields.as_slice(),
                _ => &[],
            },
        }
    }

    /// What each name declared in `items` stands for: the checker's declarations
    /// ([`crate::check::collect`]: the first of two same-named ones counts, as in the checker),
    /// with what evaluation needs of each. In a module (`file` is `None`), parameters and lets are
    /// bindings of each instance, not names of the frame.
    fn frame_names(
        &self,
        items: &'a [Item],
        path: &str,
        file: Option<SourceFile>,
    ) -> HashMap<String, Name<'a>> {
        let mut decls = BTreeMap::new();
        crate::check::collect(items, 0, &mut decls, &mut Vec::new(), true);
        let imports = file.map_or(&[][..], |f| file_imports(self.db, f).as_slice());
        decls
            .into_iter()
            .filter_map(|(name, (d, _))| {
                let n = self.name_of(&name, d, path, imports, file.is_none())?;
                Some((name, n))
            })
            .collect()
    }

    /// The names of an imported file, from what it declares ([`frame_decls`]); its lets,
    /// parameters, functions and modules are [`Name::Deferred`].
    fn imported_names(&self, f: SourceFile, path: &str) -> HashMap<String, Name<'a>> {
        frame_decls(self.db, f)
            .iter()
            .map(|(name, kind)| {
                let n = match kind {
                    DeclKind::Family { keys, module } => Name::Family {
                        keys: *keys,
                        module: *module,
                    },
                    DeclKind::Enum => Name::Enum(crate::items::type_id(path, name)),
                    DeclKind::Import(p) => Name::Import(p.clone()),
                    DeclKind::Let => Name::Deferred {
                        value: true,
                        param: false,
                    },
                    DeclKind::Param => Name::Deferred {
                        value: true,
                        param: true,
                    },
                    DeclKind::Other => Name::Deferred {
                        value: false,
                        param: false,
                    },
                };
                (name.clone(), n)
            })
            .collect()
    }

    /// A deferred name of `frame`'s file, from its syntax.
    fn realize(&self, name: &str, frame: &Frame<'a>) -> Option<Name<'a>> {
        let f = *self.db.workspace().files(self.db).get(&frame.file)?;
        let items = &parse_file(self.db, f).items;
        let mut decls = BTreeMap::new();
        crate::check::collect(items, 0, &mut decls, &mut Vec::new(), true);
        let (d, _) = decls.remove(name)?;
        let imports = file_imports(self.db, f).as_slice();
        self.name_of(name, d, &frame.file, imports, false)
    }

    /// What the declaration `d` of `name` stands for in a frame with `prefix`.
    fn name_of(
        &self,
        name: &str,
        d: Decl<'a>,
        path: &str,
        imports: &[crate::items::Import],
        module: bool,
    ) -> Option<Name<'a>> {
        Some(match d {
            Decl::Resource { keys, .. } => Name::Family {
                keys,
                module: false,
            },
            Decl::Use { keys, .. } => Name::Family { keys, module: true },
            Decl::Fn(it) => Name::Fn(it),
            Decl::Enum(_) => Name::Enum(crate::items::type_id(path, name)),
            _ if module => return None,
            Decl::Param(it) => match &it.kind {
                ItemKind::Param {
                    name: n,
                    ty,
                    default,
                } => Name::Param {
                    default: default.as_ref(),
                    ty: self.lower_in(ty, path),
                    span: n.span,
                },
                _ => return None,
            },
            Decl::Let(it) => match &it.kind {
                ItemKind::Let { value, ty, .. } => {
                    Name::Let(value, ty.as_ref().map(|te| self.lower_in(te, path)))
                }
                _ => return None,
            },
            Decl::Module(it) => Name::Module(it, format!("{path}::{name}")),
            Decl::Import => Name::Import(imports.iter().find(|i| i.alias == name)?.path.clone()),
            Decl::Record(_) => return None,
        })
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
                    Origin::AfterApply(a) => {
                        format!("`{}` is known only after apply", a.join("`, `"))
                    }
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

/// What a user type id (`file::Name`) stands for, as its file exports it.
fn user_export<'db>(db: &'db dyn Db, id: &str) -> Option<&'db Export> {
    let (file, name) = id.rsplit_once("::")?;
    let f = db.workspace().files(db).get(file).copied()?;
    file_exports(db, f).get(name)
}

fn enum_value(db: &dyn Db, cat: &Catalog, id: &str, variant: &str) -> Option<Value> {
    let def = match cat.enums.get(id) {
        Some(def) => def,
        None => match user_export(db, id)? {
            Export::Enum(def) => def,
            _ => return None,
        },
    };
    def.variants
        .iter()
        .find(|(n, _, _)| n == variant)
        .map(|(n, w, _)| Value::enum_variant(id, n, w))
}

/// Whether a literal value fits a type (for variables given from outside).
fn conforms(v: &Value, ty: &Ty) -> bool {
    match (v, ty) {
        (_, Ty::Unknown) => true,
        (Value::None, Ty::Optional(_)) => true,
        (v, Ty::Optional(t) | Ty::Secret(t)) => conforms(v, t),
        (Value::Str(_), Ty::String) | (Value::Int(_), Ty::Int) | (Value::Bool(_), Ty::Bool) => true,
        (Value::List(items), Ty::List(t)) => items.iter().all(|i| conforms(i, t)),
        (Value::Map(m) | Value::Record(m), Ty::Map(t)) => m.values().all(|i| conforms(i, t)),
        (Value::Record(_), Ty::Record(_)) => true,
        (Value::Enum(e), Ty::Enum(want)) => e.id == *want,
        _ => false,
    }
}

fn example_literal(ty: &Ty) -> String {
    match ty {
        Ty::String => "`\"text\"`".into(),
        Ty::Int => "`42`".into(),
        Ty::Bool => "`true`".into(),
        Ty::List(t) => format!("`[{}]`", example_literal(t).trim_matches('`')),
        Ty::Map(t) => format!("`{{ key = {} }}`", example_literal(t).trim_matches('`')),
        Ty::Enum(_) => "`.VARIANT`".into(),
        _ => "a literal".into(),
    }
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
            .map_or_else(Value::error, |(n, w, _)| Value::enum_variant(id, n, w)),
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

fn capitalise(s: &str) -> String {
    crate::check::capital(s)
}
