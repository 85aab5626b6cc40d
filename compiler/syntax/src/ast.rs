//! The syntax tree. Every node has a span; error nodes stand where the parser recovered, so the
//! rest of the tree is still usable by later phases.

use crate::Span;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Name {
    pub text: String,
    pub span: Span,
}

/// A dotted path such as `aws.kms.Key` or `eks.cluster`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Path {
    pub segments: Vec<Name>,
    pub span: Span,
}

impl Path {
    pub fn text(&self) -> String {
        let parts: Vec<&str> = self.segments.iter().map(|s| s.text.as_str()).collect();
        parts.join(".")
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub kind: ItemKind,
    pub span: Span,
    /// The `##` doc comment directly above the item.
    pub doc: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    Global,
    Regional,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ItemKind {
    Import {
        path: String,
        path_span: Span,
        alias: Name,
    },
    Region {
        name: Name,
        fields: Vec<Assign>,
    },
    Param {
        name: Name,
        ty: TypeExpr,
        default: Option<Expr>,
    },
    Let {
        name: Name,
        ty: Option<TypeExpr>,
        value: Expr,
    },
    Resource {
        ty: Path,
        name: Name,
        placement: Option<Expr>,
        body: Vec<Assign>,
    },
    Use {
        module: Path,
        name: Name,
        placement: Option<Expr>,
        args: Vec<Assign>,
    },
    Output {
        name: Name,
        ty: Option<TypeExpr>,
        value: Expr,
        /// `endpoint output ...`: a user-facing entry point, for `carbonc simulate`.
        endpoint: bool,
    },
    Module {
        name: Name,
        region_var: Option<Name>,
        items: Vec<Item>,
    },
    For {
        var: Name,
        iter: Expr,
        items: Vec<Item>,
    },
    If {
        cond: Expr,
        then_items: Vec<Item>,
        else_items: Option<Vec<Item>>,
    },
    Fn {
        name: Name,
        params: Vec<FnParam>,
        ret: TypeExpr,
        body: Expr,
    },
    Enum {
        name: Name,
        variants: Vec<Variant>,
    },
    Record {
        name: Name,
        fields: Vec<FieldDecl>,
    },
    ResourceType {
        path: Path,
        scope: Scope,
        lookup: bool,
        /// Replacements create the new resource before destroying the old one.
        create_before_destroy: bool,
        fields: Vec<FieldDecl>,
    },
    /// Tokens the parser skipped while recovering from a syntax error.
    Error,
}

impl ItemKind {
    /// The item lists nested in this item: a module's or a loop's body, both branches of an `if`.
    pub fn nested(&self) -> Vec<&[Item]> {
        match self {
            ItemKind::Module { items, .. } | ItemKind::For { items, .. } => vec![items],
            ItemKind::If {
                then_items,
                else_items,
                ..
            } => {
                let mut v: Vec<&[Item]> = vec![then_items];
                v.extend(else_items.as_deref());
                v
            }
            _ => Vec::new(),
        }
    }

    /// The name this item declares, if any.
    pub fn name(&self) -> Option<&Name> {
        match self {
            ItemKind::Import { alias, .. } => Some(alias),
            ItemKind::Region { name, .. }
            | ItemKind::Param { name, .. }
            | ItemKind::Let { name, .. }
            | ItemKind::Resource { name, .. }
            | ItemKind::Use { name, .. }
            | ItemKind::Output { name, .. }
            | ItemKind::Module { name, .. }
            | ItemKind::Fn { name, .. }
            | ItemKind::Enum { name, .. }
            | ItemKind::Record { name, .. } => Some(name),
            ItemKind::ResourceType { path, .. } => path.segments.last(),
            ItemKind::For { .. } | ItemKind::If { .. } | ItemKind::Error => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FnParam {
    pub name: Name,
    pub ty: TypeExpr,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Variant {
    pub name: Name,
    /// AWS's wire value when it differs from the identifier (`aurora_postgresql = "aurora-postgresql"`).
    pub wire: Option<String>,
    pub doc: Option<String>,
}

/// A field of a `record` or `resource_type`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldDecl {
    pub name: Name,
    pub ty: TypeExpr,
    pub default: Option<Expr>,
    pub computed: bool,
    pub forces_new: bool,
    /// `metric name = { ... }` in a `resource_type`: a CloudWatch metric the resource publishes,
    /// its value (an `aws.cloudwatch.Metric`) computed from the resource's fields.
    pub metric: bool,
    pub doc: Option<String>,
    pub span: Span,
}

/// `name = value` in a resource body, region, `use` arguments or a record literal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assign {
    pub name: Name,
    pub value: Expr,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeExpr {
    pub kind: TypeExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TypeExprKind {
    /// `String`, `Int`, `Bool`, `Region`, or a user enum/record name.
    Named(Path),
    /// `List<T>`, `Map<K, V>`, `Secret<T>`.
    Generic {
        name: Name,
        args: Vec<TypeExpr>,
    },
    Ref {
        target: Path,
        placement: Option<PlacementSpec>,
    },
    Optional(Box<TypeExpr>),
    Error,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlacementSpec {
    Same(Span),
    Any(Span),
    Fixed(String, Span),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Coalesce,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Or => "||",
            BinOp::And => "&&",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
            BinOp::Coalesce => "??",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnOp {
    Not,
    Neg,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StrPart {
    Text(String),
    Interp(Expr),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arg {
    pub name: Option<Name>,
    pub value: Expr,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExprKind {
    Int(i64),
    Bool(bool),
    None,
    Str(Vec<StrPart>),
    Name(Name),
    /// `.Variant`: an enum variant whose enum is known from the expected type.
    Variant(Name),
    List(Vec<Expr>),
    Record(Vec<Assign>),
    /// (The comprehensions' variables are boxed: they are rare, and an inline `Name` would make
    /// every expression 16 bytes larger.)
    ListComp {
        var: Box<Name>,
        iter: Box<Expr>,
        cond: Option<Box<Expr>>,
        body: Box<Expr>,
    },
    MapComp {
        var: Box<Name>,
        iter: Box<Expr>,
        cond: Option<Box<Expr>>,
        key: Box<Expr>,
        value: Box<Expr>,
    },
    If {
        cond: Box<Expr>,
        then_expr: Box<Expr>,
        else_expr: Box<Expr>,
    },
    Binary {
        op: BinOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    Unary {
        op: UnOp,
        expr: Box<Expr>,
    },
    Field {
        base: Box<Expr>,
        name: Name,
    },
    Index {
        base: Box<Expr>,
        args: Vec<Expr>,
    },
    Call {
        callee: Box<Expr>,
        args: Vec<Arg>,
    },
    Error,
}

/// Moves every span of a tree by `by` bytes: the items of a chunk parsed on its own (spans from
/// the chunk's start) placed where the chunk is in its file.
pub(crate) trait Shift {
    fn shift(&mut self, by: u32);
}

impl Shift for Span {
    fn shift(&mut self, by: u32) {
        self.start += by;
        self.end += by;
    }
}

impl<T: Shift> Shift for Vec<T> {
    fn shift(&mut self, by: u32) {
        self.iter_mut().for_each(|x| x.shift(by));
    }
}

impl<T: Shift> Shift for Option<T> {
    fn shift(&mut self, by: u32) {
        if let Some(x) = self {
            x.shift(by);
        }
    }
}

impl<T: Shift> Shift for Box<T> {
    fn shift(&mut self, by: u32) {
        (**self).shift(by);
    }
}

impl Shift for Name {
    fn shift(&mut self, by: u32) {
        self.span.shift(by);
    }
}

impl Shift for Path {
    fn shift(&mut self, by: u32) {
        self.segments.shift(by);
        self.span.shift(by);
    }
}

impl Shift for Item {
    fn shift(&mut self, by: u32) {
        self.span.shift(by);
        match &mut self.kind {
            ItemKind::Import {
                path_span, alias, ..
            } => {
                path_span.shift(by);
                alias.shift(by);
            }
            ItemKind::Region { name, fields } => {
                name.shift(by);
                fields.shift(by);
            }
            ItemKind::Param { name, ty, default } => {
                name.shift(by);
                ty.shift(by);
                default.shift(by);
            }
            ItemKind::Let { name, ty, value }
            | ItemKind::Output {
                name, ty, value, ..
            } => {
                name.shift(by);
                ty.shift(by);
                value.shift(by);
            }
            ItemKind::Resource {
                ty,
                name,
                placement,
                body,
            } => {
                ty.shift(by);
                name.shift(by);
                placement.shift(by);
                body.shift(by);
            }
            ItemKind::Use {
                module,
                name,
                placement,
                args,
            } => {
                module.shift(by);
                name.shift(by);
                placement.shift(by);
                args.shift(by);
            }
            ItemKind::Module {
                name,
                region_var,
                items,
            } => {
                name.shift(by);
                region_var.shift(by);
                items.shift(by);
            }
            ItemKind::For { var, iter, items } => {
                var.shift(by);
                iter.shift(by);
                items.shift(by);
            }
            ItemKind::If {
                cond,
                then_items,
                else_items,
            } => {
                cond.shift(by);
                then_items.shift(by);
                else_items.shift(by);
            }
            ItemKind::Fn {
                name,
                params,
                ret,
                body,
            } => {
                name.shift(by);
                params.shift(by);
                ret.shift(by);
                body.shift(by);
            }
            ItemKind::Enum { name, variants } => {
                name.shift(by);
                variants.shift(by);
            }
            ItemKind::Record { name, fields } => {
                name.shift(by);
                fields.shift(by);
            }
            ItemKind::ResourceType { path, fields, .. } => {
                path.shift(by);
                fields.shift(by);
            }
            ItemKind::Error => {}
        }
    }
}

impl Shift for FnParam {
    fn shift(&mut self, by: u32) {
        self.name.shift(by);
        self.ty.shift(by);
    }
}

impl Shift for Variant {
    fn shift(&mut self, by: u32) {
        self.name.shift(by);
    }
}

impl Shift for FieldDecl {
    fn shift(&mut self, by: u32) {
        self.name.shift(by);
        self.ty.shift(by);
        self.default.shift(by);
        self.span.shift(by);
    }
}

impl Shift for Assign {
    fn shift(&mut self, by: u32) {
        self.name.shift(by);
        self.value.shift(by);
        self.span.shift(by);
    }
}

impl Shift for TypeExpr {
    fn shift(&mut self, by: u32) {
        self.span.shift(by);
        match &mut self.kind {
            TypeExprKind::Named(p) => p.shift(by),
            TypeExprKind::Generic { name, args } => {
                name.shift(by);
                args.shift(by);
            }
            TypeExprKind::Ref { target, placement } => {
                target.shift(by);
                placement.shift(by);
            }
            TypeExprKind::Optional(t) => t.shift(by),
            TypeExprKind::Error => {}
        }
    }
}

impl Shift for PlacementSpec {
    fn shift(&mut self, by: u32) {
        match self {
            PlacementSpec::Same(s) | PlacementSpec::Any(s) | PlacementSpec::Fixed(_, s) => {
                s.shift(by)
            }
        }
    }
}

impl Shift for StrPart {
    fn shift(&mut self, by: u32) {
        if let StrPart::Interp(e) = self {
            e.shift(by);
        }
    }
}

impl Shift for Arg {
    fn shift(&mut self, by: u32) {
        self.name.shift(by);
        self.value.shift(by);
    }
}

impl Shift for Expr {
    fn shift(&mut self, by: u32) {
        self.span.shift(by);
        match &mut self.kind {
            ExprKind::Int(_) | ExprKind::Bool(_) | ExprKind::None | ExprKind::Error => {}
            ExprKind::Str(parts) => parts.shift(by),
            ExprKind::Name(n) | ExprKind::Variant(n) => n.shift(by),
            ExprKind::List(xs) => xs.shift(by),
            ExprKind::Record(fields) => fields.shift(by),
            ExprKind::ListComp {
                var,
                iter,
                cond,
                body,
            } => {
                var.shift(by);
                iter.shift(by);
                cond.shift(by);
                body.shift(by);
            }
            ExprKind::MapComp {
                var,
                iter,
                cond,
                key,
                value,
            } => {
                var.shift(by);
                iter.shift(by);
                cond.shift(by);
                key.shift(by);
                value.shift(by);
            }
            ExprKind::If {
                cond,
                then_expr,
                else_expr,
            } => {
                cond.shift(by);
                then_expr.shift(by);
                else_expr.shift(by);
            }
            ExprKind::Binary { lhs, rhs, .. } => {
                lhs.shift(by);
                rhs.shift(by);
            }
            ExprKind::Unary { expr, .. } => expr.shift(by),
            ExprKind::Field { base, name } => {
                base.shift(by);
                name.shift(by);
            }
            ExprKind::Index { base, args } => {
                base.shift(by);
                args.shift(by);
            }
            ExprKind::Call { callee, args } => {
                callee.shift(by);
                args.shift(by);
            }
        }
    }
}
