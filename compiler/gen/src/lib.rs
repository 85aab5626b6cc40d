//! `carbonc-gen`: random carbon programs for differential tests and fuzzing.
//!
//! [`generate`] writes a program of several files from a seed: regions with roles and maintenance
//! windows, parameters, lets read across files, resources of every type the prelude declares
//! (fields filled by their schema types), `for r in regions` loops (nested ones too), `if` blocks,
//! fixed placements, modules instantiated with `use` in loops, references across files through
//! imports, and outputs. References follow their field's placement (`@ same`, a fixed region),
//! except where the generator makes a mistake on purpose ([`Options::mistakes`]): a reference to
//! another region, a misspelt name, a value of the wrong type, a missing field. The same seed
//! always gives the same program. [`mutate`] damages a text the way an editor does mid-keystroke.

use carbonc_sema::{Catalog, Placement, Ty};

/// A small deterministic PRNG (xorshift64*): a seed reproduces a program on every machine.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        // Zero is xorshift's fixed point; spread small seeds over the state.
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'t, T>(&mut self, items: &'t [T]) -> &'t T {
        &items[self.below(items.len())]
    }
}

/// What the generator may produce.
#[derive(Clone, Debug)]
pub struct Options {
    /// Files besides the root (each may import the ones after it).
    pub max_files: usize,
    /// Resource declarations per file, before the ones added to satisfy references.
    pub max_decls: usize,
    /// Whether to make deliberate mistakes (a few per program).
    pub mistakes: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            max_files: 3,
            max_decls: 6,
            mistakes: true,
        }
    }
}

/// A generated program: `files[0]` is the root; paths are relative (`gen/main.carbon`, ...).
#[derive(Clone, Debug)]
pub struct Program {
    pub files: Vec<(String, String)>,
}

impl Program {
    pub fn root(&self) -> &str {
        &self.files[0].0
    }
}

const REGIONS: &[(&str, &str)] = &[
    ("use1", "us-east-1"),
    ("euw1", "eu-west-1"),
    ("apse1", "ap-southeast-1"),
    ("usw2", "us-west-2"),
    ("euc1", "eu-central-1"),
];

const DAYS: &[&str] = &["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Where a declaration's instances are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Where {
    /// One instance, no region (a global type) or `@ region` (a regional type).
    Single(Option<usize>),
    /// One instance per region: `for r in regions`.
    Loop,
    /// One instance per region and zone: `for r in regions { for az in zones }`.
    LoopZones,
}

#[derive(Clone, Debug)]
struct Decl {
    file: usize,
    name: String,
    ty: String,
    at: Where,
    /// Instances carry the loop's region (`@ r`), not only its key.
    placed: bool,
}

/// The region context a value is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ctx {
    /// Outside loops, in no region (a global resource, an output, a let).
    Top,
    /// `@ region` outside loops.
    Fixed(usize),
    /// Inside `for r in regions` (with `az` bound too for `LoopZones`).
    Loop { zones: bool },
}

/// A module some file declares, and the parameters its `use` must give.
#[derive(Clone, Debug)]
struct ModuleDecl {
    file: usize,
    name: String,
    params: Vec<(String, Ty)>,
}

struct Gen<'c> {
    rng: Rng,
    cat: &'c Catalog,
    opts: Options,
    regions: Vec<usize>,
    decls: Vec<Decl>,
    /// The file being written and the files it has used (its imports).
    file: usize,
    uses: Vec<bool>,
    /// Lets of each file: `(file, name, type)`.
    lets: Vec<(usize, String, Ty)>,
    counter: usize,
    /// Types that may be declared: the prelude's, without lookups (they must exist already).
    types: Vec<String>,
    /// Modules declared so far.
    modules: Vec<ModuleDecl>,
    /// Inside a module body: no references to the file's resources.
    in_module: bool,
    /// This program makes mistakes on purpose.
    mistakes: bool,
    /// Declarations outside loops that a resource inside a loop needs: written before the loop.
    hoisted: String,
}

/// A random program for `seed`.
pub fn generate(seed: u64, cat: &Catalog, opts: &Options) -> Program {
    let mut rng = Rng::new(seed);
    // Two regions only now and then: their windows are drawn apart like the others'.
    let n_regions = if rng.chance(10) { 2 } else { 3 + rng.below(3) };
    let mut regions: Vec<usize> = (0..REGIONS.len()).collect();
    for i in 0..regions.len() {
        let j = i + rng.below(regions.len() - i);
        regions.swap(i, j);
    }
    regions.truncate(n_regions);
    // CloudFront, its certificate and its web ACL must be in us-east-1: most programs have it.
    if !regions.contains(&0) && rng.chance(80) {
        regions[n_regions - 1] = 0;
    }
    let files = 1 + rng.below(opts.max_files + 1);
    let types = cat
        .resources
        .values()
        .filter(|s| !s.lookup)
        .map(|s| s.name.clone())
        .collect();
    let mut g = Gen {
        rng,
        cat,
        opts: opts.clone(),
        regions,
        decls: Vec::new(),
        file: 0,
        uses: vec![false; files],
        lets: Vec::new(),
        counter: 0,
        types,
        modules: Vec::new(),
        in_module: false,
        mistakes: false,
        hoisted: String::new(),
    };
    g.mistakes = opts.mistakes && g.rng.chance(50);
    // Leaves first, so that a file can name what the files after it declare.
    let mut texts = vec![String::new(); files];
    for f in (0..files).rev() {
        texts[f] = g.file_text(f, files);
    }
    let files = texts
        .into_iter()
        .enumerate()
        .map(|(i, t)| {
            let path = if i == 0 {
                "gen/main.carbon".to_string()
            } else {
                format!("gen/lib{i}.carbon")
            };
            (path, t)
        })
        .collect();
    Program { files }
}

impl Gen<'_> {
    fn fresh(&mut self, stem: &str) -> String {
        self.counter += 1;
        format!("{stem}_{}", self.counter)
    }

    /// Whether to make a mistake here: about half of the programs have none (so that their
    /// rules run), the others a few.
    fn mistake(&mut self) -> bool {
        self.mistakes && self.rng.below(1000) < 15
    }

    fn region_name(&self, i: usize) -> &'static str {
        REGIONS[self.regions[i]].0
    }

    fn file_text(&mut self, f: usize, files: usize) -> String {
        self.file = f;
        self.uses = vec![false; files];
        let mut body = String::new();
        if f == 0 {
            body.push_str(&self.regions_text());
            body.push_str("param stage: String = \"prod\"\nparam replicas: Int = 3\n");
            body.push_str("param secret_value: Secret<String> = \"s3cr3t\"\n");
        }
        for _ in 0..1 + self.rng.below(3) {
            let name = self.fresh("let");
            let (text, ty) = match self.rng.below(4) {
                0 => (format!("\"{name}-value\""), Ty::String),
                1 => (format!("{}", self.rng.below(500)), Ty::Int),
                2 => (
                    "{ owner = \"platform\", team = \"gen\" }".to_string(),
                    Ty::Map(Box::new(Ty::String)),
                ),
                _ => (
                    "[\"10.1.0.0/16\", \"10.2.0.0/16\"]".to_string(),
                    Ty::List(Box::new(Ty::String)),
                ),
            };
            body.push_str(&format!("let {name} = {text}\n"));
            self.lets.push((f, name, ty));
        }
        if f != 0 && self.rng.chance(40) {
            body.push_str(&self.module_text());
        }
        for _ in 0..1 + self.rng.below(self.opts.max_decls) {
            body.push_str(&self.group());
        }
        if f == 0 {
            body.push_str(&self.uses_text());
            body.push_str(&self.outputs());
        }
        let mut head = format!("# generated, file {f}\n");
        for (g, used) in self.uses.iter().enumerate() {
            if *used || (f == 0 && g > 0) {
                head.push_str(&format!("import \"lib{g}.carbon\" as lib{g}\n"));
            }
        }
        head + &body
    }

    fn regions_text(&mut self) -> String {
        let mut s = String::new();
        let mut days: Vec<&str> = DAYS.to_vec();
        for (i, &r) in self.regions.clone().iter().enumerate() {
            let role = if i == 0 { "primary" } else { "secondary" };
            let day = if self.mistake() {
                days[0]
            } else {
                days.remove(self.rng.below(days.len()))
            };
            s.push_str(&format!(
                "region {} {{\n    code = \"{}\"\n    role = .{role}\n    maintenance = \"{day}:0{h}:00-{day}:0{h2}:00\"\n}}\n",
                REGIONS[r].0,
                REGIONS[r].1,
                h = i,
                h2 = i + 1,
            ));
        }
        s
    }

    /// One resource group: a single resource, a loop over regions (maybe with zones, maybe an
    /// `if` inside) or a fixed placement, with the resources its references need.
    fn group(&mut self) -> String {
        let ty = self.rng.pick(&self.types).clone();
        let scope_global =
            self.cat.resources[&ty].scope == carbonc_sema::syntax::ast::Scope::Global;
        let at = match self.rng.below(5) {
            0 | 1 => Where::Loop,
            2 => Where::LoopZones,
            _ if scope_global => Where::Single(None),
            _ => Where::Single(Some(self.rng.below(self.regions.len()))),
        };
        let ctx = match at {
            Where::Single(None) => Ctx::Top,
            Where::Single(Some(i)) => Ctx::Fixed(i),
            Where::Loop => Ctx::Loop { zones: false },
            Where::LoopZones => Ctx::Loop { zones: true },
        };
        let mut out = String::new();
        self.resource(&ty, at, ctx, 0, &mut out);
        match at {
            Where::Loop | Where::LoopZones => {
                let mut s = "for r in regions {\n".to_string();
                if at == Where::LoopZones {
                    s.push_str("for az in [\"a\", \"b\"] {\n");
                }
                if self.rng.chance(15) {
                    // A conditional resource that nothing else refers to.
                    let cty = self.rng.pick(&self.types).clone();
                    let mut inner = String::new();
                    let n = self.decls.len();
                    self.resource(&cty, at, ctx, 3, &mut inner);
                    // Not referable: not every region has it.
                    self.decls.truncate(n);
                    s.push_str(&format!("if r.role == .primary {{\n{inner}}}\n"));
                }
                s.push_str(&out);
                if at == Where::LoopZones {
                    s.push_str("}\n");
                }
                std::mem::take(&mut self.hoisted) + &s + "}\n"
            }
            Where::Single(_) => std::mem::take(&mut self.hoisted) + &out,
        }
    }

    /// Declares a resource of type `ty` (and, first, what its required references need).
    fn resource(&mut self, ty: &str, at: Where, ctx: Ctx, depth: usize, out: &mut String) {
        let schema = &self.cat.resources[ty];
        let global = schema.scope == carbonc_sema::syntax::ast::Scope::Global;
        let placed = !global && !matches!(at, Where::Single(None));
        let fields: Vec<(String, Ty, bool)> = schema
            .fields
            .iter()
            .filter(|f| !f.computed)
            .map(|f| (f.name.clone(), f.ty.clone(), f.required()))
            .collect();
        let name = self.fresh(ty.rsplit('.').next().unwrap_or("r").to_lowercase().as_str());
        let mut body = String::new();
        for (fname, fty, required) in fields {
            if !required && !self.rng.chance(35) {
                continue;
            }
            if required && self.mistake() {
                continue; // a missing field
            }
            let value = match self.value(&fty, ctx, depth, out, at) {
                Some(v) => v,
                None if required => "none".to_string(),
                None => continue,
            };
            let fname = if self.mistake() {
                format!("{fname}x")
            } else {
                fname
            };
            body.push_str(&format!("    {fname} = {value}\n"));
        }
        let placement = match (placed, at, ctx) {
            (false, _, _) => String::new(),
            (true, Where::Single(Some(i)), _) => format!(" @ {}", self.region_name(i)),
            (true, _, _) => " @ r".into(),
        };
        let name = if self.mistake() && !self.decls.is_empty() {
            // The same name twice.
            self.decls[self.rng.below(self.decls.len())].name.clone()
        } else {
            name
        };
        out.push_str(&format!("resource {ty} {name}{placement} {{\n{body}}}\n"));
        self.decls.push(Decl {
            file: self.file,
            name,
            ty: ty.to_string(),
            at,
            placed,
        });
    }

    /// A value of type `ty` written in `ctx`; `None` when there is nothing to refer to.
    fn value(
        &mut self,
        ty: &Ty,
        ctx: Ctx,
        depth: usize,
        out: &mut String,
        at: Where,
    ) -> Option<String> {
        if self.mistake() {
            return Some(match self.rng.below(3) {
                0 => "42".into(),
                1 => "\"wrong\"".into(),
                _ => "undefined_name".into(),
            });
        }
        Some(match ty {
            Ty::String => self.string(ctx),
            Ty::Int => match self.rng.below(4) {
                0 if self.file == 0 => "replicas".into(),
                1 if !self.lets_of(&Ty::Int).is_empty() => {
                    let lets = self.lets_of(&Ty::Int);
                    let l = self.rng.pick(&lets).clone();
                    self.let_ref(&l)
                }
                _ => format!("{}", self.rng.below(70000)),
            },
            Ty::Bool => if self.rng.chance(50) { "true" } else { "false" }.into(),
            Ty::Region => match ctx {
                Ctx::Loop { .. } => "r".into(),
                Ctx::Fixed(i) => self.region_name(i).into(),
                Ctx::Top => {
                    let i = self.rng.below(self.regions.len());
                    self.region_name(i).into()
                }
            },
            Ty::Secret(_) if self.file == 0 => "secret_value".into(),
            Ty::Secret(t) | Ty::Optional(t) => return self.value(t, ctx, depth, out, at),
            Ty::List(t) => {
                if matches!(**t, Ty::String) && self.rng.chance(30) {
                    let lets = self.lets_of(ty);
                    if !lets.is_empty() {
                        let l = self.rng.pick(&lets).clone();
                        return Some(self.let_ref(&l));
                    }
                }
                let n = self.rng.below(3);
                let mut items = Vec::new();
                for _ in 0..n {
                    if let Some(v) = self.value(t, ctx, depth, out, at) {
                        items.push(v);
                    }
                }
                format!("[{}]", items.join(", "))
            }
            Ty::Map(t) => {
                if matches!(**t, Ty::String) && self.rng.chance(40) {
                    let lets = self.lets_of(ty);
                    if !lets.is_empty() {
                        let l = self.rng.pick(&lets).clone();
                        return Some(format!("merge({}, {{ \"k\" = \"v\" }})", self.let_ref(&l)));
                    }
                }
                let v = self.value(t, ctx, depth, out, at)?;
                format!("{{ \"key\" = {v} }}")
            }
            Ty::Enum(id) => {
                let def = self.cat.enums.get(id)?;
                let (v, _, _) = self.rng.pick(&def.variants).clone();
                format!(".{v}")
            }
            Ty::Record(id) => {
                let fields = self.cat.record_fields(id)?.to_vec();
                let mut parts = Vec::new();
                for f in fields {
                    if f.computed || (!f.required() && !self.rng.chance(30)) {
                        continue;
                    }
                    match self.value(&f.ty, ctx, depth + 1, out, at) {
                        Some(v) => parts.push(format!("{} = {v}", f.name)),
                        // A record without a required field is a mistake: no record at all.
                        None if f.required() => return None,
                        None => {}
                    }
                }
                format!("{{ {} }}", parts.join(", "))
            }
            Ty::Ref { target, placement } => {
                return self.reference(target, placement.as_ref(), ctx, depth, out, at);
            }
            _ => return None,
        })
    }

    fn lets_of(&self, ty: &Ty) -> Vec<(usize, String, Ty)> {
        self.lets
            .iter()
            .filter(|(f, _, t)| t == ty && *f >= self.file)
            .cloned()
            .collect()
    }

    fn let_ref(&mut self, (f, name, _): &(usize, String, Ty)) -> String {
        self.qualified(*f, name)
    }

    fn qualified(&mut self, f: usize, name: &str) -> String {
        if f == self.file {
            name.to_string()
        } else {
            self.uses[f] = true;
            format!("lib{f}.{name}")
        }
    }

    fn string(&mut self, ctx: Ctx) -> String {
        match self.rng.below(6) {
            0 if matches!(ctx, Ctx::Loop { .. }) => "\"gen-${r.code}\"".into(),
            1 => {
                let lets = self.lets_of(&Ty::String);
                if lets.is_empty() {
                    return "\"gen-text\"".into();
                }
                let l = self.rng.pick(&lets).clone();
                format!("\"${{{}}}-x\"", self.let_ref(&l))
            }
            2 if self.file == 0 => "\"${stage}-gen\"".into(),
            3 if !self.in_module => {
                // Another instance's string attribute: a value read across instances.
                let candidates: Vec<Decl> = self
                    .decls
                    .iter()
                    .filter(|d| d.file >= self.file)
                    .cloned()
                    .collect();
                if candidates.is_empty() {
                    return "\"gen-text\"".into();
                }
                let d = self.rng.pick(&candidates).clone();
                let attrs: Vec<String> = self.cat.resources[&d.ty]
                    .fields
                    .iter()
                    .filter(|f| matches!(f.ty, Ty::String))
                    .map(|f| f.name.clone())
                    .collect();
                if attrs.is_empty() {
                    return "\"gen-text\"".into();
                }
                let attr = self.rng.pick(&attrs).clone();
                let r = self.instance_ref(&d, ctx, None);
                format!("{r}.{attr}")
            }
            _ => format!("\"gen-{}\"", self.rng.below(1000)),
        }
    }

    /// A reference to one instance of `d`, written in `ctx`: in the same region where the
    /// declaration has one, unless `other` names a region index to use instead.
    fn instance_ref(&mut self, d: &Decl, ctx: Ctx, other: Option<usize>) -> String {
        let base = self.qualified(d.file, &d.name);
        let region = |g: &Self, fallback: usize| -> String {
            match (other, ctx) {
                (Some(i), _) => g.region_name(i).into(),
                (None, Ctx::Loop { .. }) => "r".into(),
                (None, Ctx::Fixed(i)) => g.region_name(i).into(),
                (None, Ctx::Top) => g.region_name(fallback).into(),
            }
        };
        match d.at {
            Where::Single(_) => base,
            Where::Loop => format!("{base}[{}]", region(self, 0)),
            Where::LoopZones => {
                let zone = if matches!(ctx, Ctx::Loop { zones: true }) && other.is_none() {
                    "az".to_string()
                } else {
                    "\"a\"".to_string()
                };
                format!("{base}[{}, {zone}]", region(self, 0))
            }
        }
    }

    fn reference(
        &mut self,
        target: &str,
        placement: Option<&Placement>,
        ctx: Ctx,
        depth: usize,
        out: &mut String,
        at: Where,
    ) -> Option<String> {
        if self.in_module {
            return None;
        }
        let visible = |d: &Decl, g: &Self| d.ty == target && d.file >= g.file;
        // Where a target may be, for the reference to be right.
        let fits = |d: &Decl, g: &Self| -> bool {
            match placement {
                None | Some(Placement::Any) => true,
                Some(Placement::Same) => match (d.at, ctx) {
                    (Where::Loop | Where::LoopZones, Ctx::Loop { .. } | Ctx::Fixed(_)) => d.placed,
                    (Where::Single(Some(i)), Ctx::Fixed(j)) => i == j,
                    _ => false,
                },
                Some(Placement::Fixed(code)) => match d.at {
                    Where::Single(Some(i)) => REGIONS[g.regions[i]].1 == code,
                    _ => false,
                },
            }
        };
        let wrong = self.mistake();
        let mut candidates: Vec<Decl> = self
            .decls
            .iter()
            .filter(|d| visible(d, self) && (wrong || fits(d, self)))
            .cloned()
            .collect();
        if candidates.is_empty() {
            if depth >= 8 {
                return None;
            }
            // Declare a target where the reference wants it, right before.
            let (t_at, t_ctx) = match (placement, ctx) {
                (Some(Placement::Fixed(code)), _) => {
                    let i = self.regions.iter().position(|&r| REGIONS[r].1 == code)?;
                    (Where::Single(Some(i)), Ctx::Fixed(i))
                }
                (_, Ctx::Loop { zones: true }) if at != Where::Single(None) => {
                    (Where::LoopZones, ctx)
                }
                (_, Ctx::Loop { .. }) if at != Where::Single(None) => (Where::Loop, ctx),
                (_, Ctx::Fixed(i)) => (Where::Single(Some(i)), ctx),
                _ => (Where::Single(None), Ctx::Top),
            };
            let scope_global =
                self.cat.resources.get(target)?.scope == carbonc_sema::syntax::ast::Scope::Global;
            let (t_at, t_ctx) = match (scope_global, t_at) {
                (true, Where::Single(Some(_))) => (Where::Single(None), Ctx::Top),
                // A regional target needs a region even where the reference has none.
                (false, Where::Single(None)) => {
                    let i = self.rng.below(self.regions.len());
                    (Where::Single(Some(i)), Ctx::Fixed(i))
                }
                (_, a) => (a, t_ctx),
            };
            if matches!(t_at, Where::Single(_)) && matches!(ctx, Ctx::Loop { .. }) {
                let mut before = std::mem::take(&mut self.hoisted);
                self.resource(target, t_at, t_ctx, depth + 1, &mut before);
                self.hoisted = before;
            } else {
                self.resource(target, t_at, t_ctx, depth + 1, out);
            }
            candidates.push(self.decls.last()?.clone());
        }
        let d = self.rng.pick(&candidates).clone();
        let other = if wrong && self.regions.len() > 1 {
            Some(self.rng.below(self.regions.len()))
        } else {
            None
        };
        Some(self.instance_ref(&d, ctx, other))
    }

    /// A module in this file: one to three resources, its references taken as parameters.
    fn module_text(&mut self) -> String {
        let name = self.fresh("module");
        let mut params: Vec<(String, Ty)> = Vec::new();
        let mut body = String::new();
        let mut outputs = String::new();
        self.in_module = true;
        for _ in 0..1 + self.rng.below(3) {
            let ty = self.rng.pick(&self.types).clone();
            let schema = &self.cat.resources[&ty];
            let global = schema.scope == carbonc_sema::syntax::ast::Scope::Global;
            let rname = self.fresh("m");
            let mut fields = String::new();
            for f in schema.fields.clone() {
                if f.computed || (!f.required() && !self.rng.chance(25)) {
                    continue;
                }
                let v = match f.ty.core() {
                    Ty::Ref { .. } | Ty::List(_) if contains_ref(&f.ty) => {
                        let p = self.fresh("p");
                        params.push((p.clone(), f.ty.clone()));
                        p
                    }
                    Ty::Region => "region".into(),
                    _ => {
                        let mut scratch = String::new();
                        match self.value(&f.ty, Ctx::Top, 3, &mut scratch, Where::Single(None)) {
                            Some(v) if scratch.is_empty() => v,
                            _ => continue,
                        }
                    }
                };
                fields.push_str(&format!("    {} = {v}\n", f.name));
            }
            let at = if global { "" } else { " @ region" };
            body.push_str(&format!("resource {ty} {rname}{at} {{\n{fields}}}\n"));
            if let Some(f) = schema.fields.iter().find(|f| matches!(f.ty, Ty::String)) {
                outputs.push_str(&format!(
                    "output {}: String = {rname}.{}\n",
                    self.fresh("o"),
                    f.name
                ));
            }
        }
        self.in_module = false;
        let mut s = format!("module {name} @ region {{\n");
        for (p, t) in &params {
            s.push_str(&format!("    param {p}: {}\n", written(t)));
        }
        s.push_str(&body);
        s.push_str(&outputs);
        s.push_str("}\n");
        self.modules.push(ModuleDecl {
            file: self.file,
            name,
            params,
        });
        s
    }

    /// `use` of the modules the other files declared, once per region.
    fn uses_text(&mut self) -> String {
        let mut s = String::new();
        for ModuleDecl {
            file: f,
            name: module,
            params,
        } in self.modules.clone()
        {
            let inst = self.fresh("inst");
            let mut args = String::new();
            let mut scratch = String::new();
            for (p, t) in &params {
                let ctx = Ctx::Loop { zones: false };
                if let Some(v) = self.value(t, ctx, 0, &mut scratch, Where::Loop) {
                    args.push_str(&format!("    {p} = {v}\n"));
                }
            }
            let m = self.qualified(f, &module);
            let before = std::mem::take(&mut self.hoisted);
            s.push_str(&format!(
                "{before}for r in regions {{\n{scratch}use {m} as {inst} @ r {{\n{args}}}\n}}\n"
            ));
        }
        s
    }

    /// Outputs of the root: attributes of some instances.
    fn outputs(&mut self) -> String {
        let mut s = String::new();
        let decls = self.decls.clone();
        for _ in 0..self.rng.below(4) {
            if decls.is_empty() {
                break;
            }
            let d = self.rng.pick(&decls).clone();
            let Some(attr) = self.cat.resources[&d.ty]
                .fields
                .iter()
                .find(|f| matches!(f.ty, Ty::String))
                .map(|f| f.name.clone())
            else {
                continue;
            };
            let r = self.instance_ref(&d, Ctx::Top, None);
            let kw = if self.rng.chance(20) {
                "endpoint output"
            } else {
                "output"
            };
            s.push_str(&format!("{kw} {} = {r}.{attr}\n", self.fresh("out")));
        }
        s
    }
}

fn contains_ref(t: &Ty) -> bool {
    match t {
        Ty::Ref { .. } => true,
        Ty::List(t) | Ty::Optional(t) | Ty::Secret(t) | Ty::Map(t) => contains_ref(t),
        _ => false,
    }
}

/// A type as it is written in source.
fn written(t: &Ty) -> String {
    match t {
        Ty::Optional(t) => format!("{}?", written(t)),
        Ty::Enum(id) | Ty::Record(id) => id.clone(),
        Ty::List(t) => format!("List<{}>", written(t)),
        Ty::Map(t) => format!("Map<String, {}>", written(t)),
        Ty::Secret(t) => format!("Secret<{}>", written(t)),
        t => t.to_string(),
    }
}

/// Fragments an editor leaves mid-keystroke, and tokens that change a program's structure.
const FRAGMENTS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    "\"",
    "${",
    "@",
    "=",
    ".",
    ",",
    "for",
    "if",
    "else",
    "resource",
    "module",
    "use",
    "region",
    "none",
    "??",
    "#",
    "\n",
    " ",
    "0",
    "-",
    "aws.kms.Key",
    "r",
    "regions",
    "é",
    "\u{0}",
    "r in regions",
    "[r]",
    "@ r",
    "import \"lib1.carbon\" as lib1\n",
    "output o = ",
];

/// One to four random edits of `src`: deletions, insertions of fragments, swapped characters,
/// duplicated lines.
pub fn mutate(rng: &mut Rng, src: &str) -> String {
    let mut chars: Vec<char> = src.chars().collect();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(chars.len());
        match rng.below(4) {
            0 if !chars.is_empty() => {
                let len = 1 + rng.below(20);
                let end = (at + len).min(chars.len());
                chars.drain(at..end);
            }
            1 => {
                let frag = FRAGMENTS[rng.below(FRAGMENTS.len())];
                for (i, c) in frag.chars().enumerate() {
                    chars.insert((at + i).min(chars.len()), c);
                }
            }
            2 if chars.len() > 2 => {
                let other = rng.below(chars.len());
                let last = chars.len() - 1;
                chars.swap(at.min(last), other);
            }
            _ => {
                let text: String = chars.iter().collect();
                let lines: Vec<&str> = text.lines().collect();
                if !lines.is_empty() {
                    let l = lines[rng.below(lines.len())];
                    chars.extend(format!("\n{l}\n").chars());
                }
            }
        }
    }
    chars.into_iter().collect()
}

pub mod differential;
