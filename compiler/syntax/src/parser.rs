//! The chumsky grammar over lexer tokens. See `docs/grammar.md` for the grammar in one page.
//!
//! Recovery happens at three levels so that one mistake never hides the next: a broken item is
//! skipped up to the next item keyword, a broken `name = value` line up to the next `name =`, and a
//! broken parenthesised or bracketed expression up to its closing delimiter.

use chumsky::error::{Cheap, LabelError};
use chumsky::input::{Input, ValueInput};
use chumsky::prelude::*;

use crate::Span;
use crate::ast::*;
use crate::lexer::Tok;

type Extra<R> = extra::Err<R>;

/// The error type the grammar reports: [`Rich`] errors for diagnostics, or [`Cheap`] ones (a span
/// and nothing else) for the first attempt at a file. Rich errors cost the parser about as much as
/// the parse itself, because every alternative that fails records what it expected.
pub(crate) trait GrammarError<'t, I: Input<'t, Span = SimpleSpan>>:
    chumsky::error::Error<'t, I> + LabelError<'t, I, &'static str> + 't
{
    fn custom(span: SimpleSpan, message: &'static str) -> Self;
}

impl<'t, I: Input<'t, Token = Tok, Span = SimpleSpan>> GrammarError<'t, I>
    for Rich<'t, Tok, SimpleSpan>
{
    fn custom(span: SimpleSpan, message: &'static str) -> Self {
        Rich::custom(span, message)
    }
}

impl<'t, I: Input<'t, Span = SimpleSpan>> GrammarError<'t, I> for Cheap<SimpleSpan> {
    fn custom(span: SimpleSpan, _: &'static str) -> Self {
        Cheap::new(span)
    }
}

fn op<'t, I, R>(p: &'static str) -> impl Parser<'t, I, Tok, Extra<R>> + Clone
where
    I: ValueInput<'t, Token = Tok, Span = SimpleSpan>,
    R: GrammarError<'t, I>,
{
    just(Tok::Op(p))
}

fn kw<'t, I, R>(k: &'static str) -> impl Parser<'t, I, Tok, Extra<R>> + Clone
where
    I: ValueInput<'t, Token = Tok, Span = SimpleSpan>,
    R: GrammarError<'t, I>,
{
    just(Tok::Kw(k))
}

/// A contextual keyword: an identifier that means something only where the grammar expects it
/// (`global`, `lookup`, `computed`, ...), so that it stays usable as a name elsewhere.
fn ctx_kw<'t, I, R>(word: &'static str) -> impl Parser<'t, I, Tok, Extra<R>> + Clone
where
    I: ValueInput<'t, Token = Tok, Span = SimpleSpan>,
    R: GrammarError<'t, I>,
{
    just(Tok::Ident(word.into())).labelled(word)
}

fn ident<'t, I, R>() -> impl Parser<'t, I, Name, Extra<R>> + Clone
where
    I: ValueInput<'t, Token = Tok, Span = SimpleSpan>,
    R: GrammarError<'t, I>,
{
    select! { Tok::Ident(s) => s.to_string() }
        .map_with(|text, e| Name {
            text,
            span: Span::from(e.span()),
        })
        .labelled("identifier")
}

fn path<'t, I, R>() -> impl Parser<'t, I, Path, Extra<R>> + Clone
where
    I: ValueInput<'t, Token = Tok, Span = SimpleSpan>,
    R: GrammarError<'t, I>,
{
    ident()
        .separated_by(op(".").then(ident().rewind()))
        .at_least(1)
        .collect::<Vec<_>>()
        .map_with(|segments, e| Path {
            segments,
            span: Span::from(e.span()),
        })
}

/// A plain string literal without interpolation (import paths, fixed placements, wire values).
fn plain_string<'t, I, R>() -> impl Parser<'t, I, String, Extra<R>> + Clone
where
    I: ValueInput<'t, Token = Tok, Span = SimpleSpan>,
    R: GrammarError<'t, I>,
{
    select! { Tok::StrText(s) => s.to_string() }
        .or_not()
        .delimited_by(just(Tok::StrStart), just(Tok::StrEnd))
        .map(Option::unwrap_or_default)
        .labelled("string")
}

fn is_closer(t: &Tok) -> bool {
    matches!(t, Tok::Op("}" | "]" | ")") | Tok::InterpEnd | Tok::StrEnd)
}

/// A closing delimiter that closes nothing here, with the junk after it up to `until`: one
/// syntax error, and the parse goes on (inside braces, `]` and `)`; at the top level any closer).
fn stray<'t, I, R, U>(
    closes: fn(&Tok) -> bool,
    until: U,
) -> impl Parser<'t, I, Span, Extra<R>> + Clone
where
    I: ValueInput<'t, Token = Tok, Span = SimpleSpan>,
    R: GrammarError<'t, I>,
    U: Parser<'t, I, (), Extra<R>> + Clone,
{
    any()
        .filter(move |t: &Tok| closes(t))
        .then(token_tree().and_is(until.not()).repeated())
        .map_with(|_, e| Span::from(e.span()))
        .validate(|span, e, emitter| {
            emitter.emit(R::custom(e.span(), "unmatched closing delimiter"));
            span
        })
}

/// `]` and `)`: inside braces they close nothing.
fn is_inner_closer(t: &Tok) -> bool {
    matches!(t, Tok::Op("]" | ")"))
}

/// One balanced token tree: a bracketed group, or any single token that closes nothing.
fn token_tree<'t, I, R>() -> impl Parser<'t, I, (), Extra<R>> + Clone
where
    I: ValueInput<'t, Token = Tok, Span = SimpleSpan>,
    R: GrammarError<'t, I>,
{
    recursive(|tt| {
        let group = |open: &'static str, close: &'static str| {
            tt.clone()
                .repeated()
                .delimited_by(op(open), op(close))
                .ignored()
        };
        let string = tt
            .clone()
            .repeated()
            .delimited_by(just(Tok::StrStart), just(Tok::StrEnd))
            .ignored();
        let interp = tt
            .clone()
            .repeated()
            .delimited_by(just(Tok::InterpStart), just(Tok::InterpEnd))
            .ignored();
        choice((
            group("{", "}"),
            group("[", "]"),
            group("(", ")"),
            string,
            interp,
            any().filter(|t: &Tok| !is_closer(t)).ignored(),
        ))
    })
}

fn item_start<'t, I, R>() -> impl Parser<'t, I, (), Extra<R>> + Clone
where
    I: ValueInput<'t, Token = Tok, Span = SimpleSpan>,
    R: GrammarError<'t, I>,
{
    one_of([
        Tok::Kw("import"),
        Tok::Ident("region".into()),
        Tok::Kw("param"),
        Tok::Kw("let"),
        Tok::Kw("resource"),
        Tok::Kw("use"),
        Tok::Kw("output"),
        Tok::Ident("endpoint".into()),
        Tok::Kw("module"),
        Tok::Kw("for"),
        Tok::Kw("if"),
        Tok::Kw("fn"),
        Tok::Kw("enum"),
        Tok::Kw("record"),
        Tok::Kw("resource_type"),
    ])
    .ignored()
}

pub(crate) fn type_expr<'t, I, R>() -> impl Parser<'t, I, TypeExpr, Extra<R>> + Clone
where
    I: ValueInput<'t, Token = Tok, Span = SimpleSpan>,
    R: GrammarError<'t, I>,
{
    recursive(|ty| {
        let placement = choice((
            select! { Tok::Ident(s) if &*s == "same" => () }
                .map_with(|_, e| PlacementSpec::Same(Span::from(e.span()))),
            select! { Tok::Ident(s) if &*s == "any" => () }
                .map_with(|_, e| PlacementSpec::Any(Span::from(e.span()))),
            plain_string().map_with(|s, e| PlacementSpec::Fixed(s, Span::from(e.span()))),
        ))
        .labelled("placement (`same`, `any` or a region code)");
        let reference = select! { Tok::Ident(s) if &*s == "Ref" => () }
            .ignore_then(
                path()
                    .then(op("@").ignore_then(placement).or_not())
                    .delimited_by(op("<"), op(">")),
            )
            .map(|(target, placement)| TypeExprKind::Ref { target, placement });
        let generic = ident()
            .then(
                ty.clone()
                    .separated_by(op(","))
                    .at_least(1)
                    .collect::<Vec<_>>()
                    .delimited_by(op("<"), op(">")),
            )
            .map(|(name, args)| TypeExprKind::Generic { name, args });
        let base =
            choice((reference, generic, path().map(TypeExprKind::Named))).map_with(|kind, e| {
                TypeExpr {
                    kind,
                    span: Span::from(e.span()),
                }
            });
        base.then(op("?").or_not())
            .map_with(|(t, q), e| match q {
                Some(_) => TypeExpr {
                    kind: TypeExprKind::Optional(Box::new(t)),
                    span: Span::from(e.span()),
                },
                None => t,
            })
            .labelled("type")
    })
}

pub(crate) fn expr<'t, I, R>() -> impl Parser<'t, I, Expr, Extra<R>> + Clone
where
    I: ValueInput<'t, Token = Tok, Span = SimpleSpan>,
    R: GrammarError<'t, I>,
{
    recursive(|expr| {
        let mk = |kind, e: SimpleSpan| Expr {
            kind,
            span: e.into(),
        };

        let str_part = choice((
            select! { Tok::StrText(s) => StrPart::Text(s.to_string()) },
            expr.clone()
                .delimited_by(just(Tok::InterpStart), just(Tok::InterpEnd))
                .recover_with(via_parser(nested_delimiters(
                    Tok::InterpStart,
                    Tok::InterpEnd,
                    [(Tok::Op("("), Tok::Op(")")), (Tok::Op("["), Tok::Op("]"))],
                    |span: SimpleSpan| Expr {
                        kind: ExprKind::Error,
                        span: span.into(),
                    },
                )))
                .map(StrPart::Interp),
        ));
        let string = str_part
            .repeated()
            .collect::<Vec<_>>()
            .delimited_by(just(Tok::StrStart), just(Tok::StrEnd))
            .map(ExprKind::Str);

        let key = ident().or(plain_string().map_with(|text, e| Name {
            text,
            span: Span::from(e.span()),
        }));
        let assign = key
            .clone()
            .then_ignore(op("="))
            .then(expr.clone())
            .map_with(|(name, value), e| Assign {
                name,
                value,
                span: Span::from(e.span()),
            });
        let comp_head = kw("for")
            .ignore_then(ident())
            .then_ignore(kw("in"))
            .then(expr.clone())
            .then(kw("if").ignore_then(expr.clone()).or_not())
            .then_ignore(op(":"));

        let list_comp = comp_head
            .clone()
            .then(expr.clone())
            .map(|(((var, iter), cond), body)| ExprKind::ListComp {
                var: Box::new(var),
                iter: Box::new(iter),
                cond: cond.map(Box::new),
                body: Box::new(body),
            });
        // Each element recovers on its own, as a record's fields do: an element must end at `,`
        // or `]`, and one that does not (a junk line before it) is skipped up to the next `,` or
        // `]`, so that each junk line in a multi-line list costs one error, not the whole list.
        let element_end = op(",").or(op("]")).ignored();
        let list = expr
            .clone()
            .then_ignore(element_end.clone().rewind())
            .recover_with(via_parser(
                token_tree()
                    .then(token_tree().and_is(element_end.not()).repeated())
                    .map_with(|_, e| Expr {
                        kind: ExprKind::Error,
                        span: Span::from(e.span()),
                    }),
            ))
            .separated_by(op(","))
            .allow_trailing()
            .collect::<Vec<_>>()
            .map(|mut items| {
                items.shrink_to_fit();
                ExprKind::List(items)
            });
        let bracketed = list_comp.or(list).delimited_by(op("["), op("]"));

        let map_comp = comp_head
            .then(expr.clone())
            .then_ignore(op("=>"))
            .then(expr.clone())
            .map(|((((var, iter), cond), key), value)| ExprKind::MapComp {
                var: Box::new(var),
                iter: Box::new(iter),
                cond: cond.map(Box::new),
                key: Box::new(key),
                value: Box::new(value),
            });
        // Each field recovers on its own, as in a resource body: a junk line inside a record
        // literal costs one error, not the record (whose fields would then be read as the
        // enclosing body's).
        let field_start = key.clone().then(op("=")).ignored();
        let record = assign
            .map(Some)
            .recover_with(via_parser(
                token_tree()
                    .then(token_tree().and_is(field_start.clone().not()).repeated())
                    .to(None),
            ))
            .or(stray(is_inner_closer, field_start).to(None))
            .separated_by(op(",").or_not())
            .allow_trailing()
            .collect::<Vec<_>>()
            .map(|fields| ExprKind::Record(present(fields)));
        let braced = map_comp.or(record).delimited_by(op("{"), op("}"));

        let if_expr = kw("if")
            .ignore_then(expr.clone())
            .then(expr.clone().delimited_by(op("{"), op("}")))
            .then_ignore(kw("else"))
            .then(expr.clone().delimited_by(op("{"), op("}")))
            .map(|((c, t), f)| ExprKind::If {
                cond: Box::new(c),
                then_expr: Box::new(t),
                else_expr: Box::new(f),
            });

        let atom = choice((
            select! { Tok::Int(n) => ExprKind::Int(n) },
            kw("true").to(ExprKind::Bool(true)),
            kw("false").to(ExprKind::Bool(false)),
            kw("none").to(ExprKind::None),
            string,
            ident().map(ExprKind::Name),
            op(".").ignore_then(ident()).map(ExprKind::Variant),
            bracketed,
            braced,
            if_expr,
        ))
        .map_with(move |kind, e| mk(kind, e.span()))
        .or(expr.clone().delimited_by(op("("), op(")")))
        .recover_with(via_parser(nested_delimiters(
            Tok::Op("("),
            Tok::Op(")"),
            [(Tok::Op("["), Tok::Op("]")), (Tok::Op("{"), Tok::Op("}"))],
            |span: SimpleSpan| Expr {
                kind: ExprKind::Error,
                span: span.into(),
            },
        )))
        .recover_with(via_parser(nested_delimiters(
            Tok::Op("["),
            Tok::Op("]"),
            [(Tok::Op("("), Tok::Op(")")), (Tok::Op("{"), Tok::Op("}"))],
            |span: SimpleSpan| Expr {
                kind: ExprKind::Error,
                span: span.into(),
            },
        )))
        .labelled("expression")
        .boxed();

        enum Post {
            Field(Name),
            Index(Vec<Expr>),
            Call(Vec<Arg>),
        }
        let arg = ident()
            .then_ignore(op("="))
            .or_not()
            .then(expr.clone())
            .map(|(name, value)| Arg { name, value });
        let post = choice((
            op(".").ignore_then(ident()).map(Post::Field),
            expr.clone()
                .separated_by(op(","))
                .at_least(1)
                .allow_trailing()
                .collect::<Vec<_>>()
                .delimited_by(op("["), op("]"))
                .map(Post::Index),
            arg.separated_by(op(","))
                .allow_trailing()
                .collect::<Vec<_>>()
                .delimited_by(op("("), op(")"))
                .map(Post::Call),
        ));
        let postfix = atom.foldl_with(post.repeated(), |base, p, e| {
            let kind = match p {
                Post::Field(name) => ExprKind::Field {
                    base: Box::new(base),
                    name,
                },
                Post::Index(args) => ExprKind::Index {
                    base: Box::new(base),
                    args,
                },
                Post::Call(args) => ExprKind::Call {
                    callee: Box::new(base),
                    args,
                },
            };
            Expr {
                kind,
                span: Span::from(e.span()),
            }
        });

        let unary = choice((op("!").to(UnOp::Not), op("-").to(UnOp::Neg)))
            .map_with(|o, e| (o, e.span()))
            .repeated()
            .foldr_with(postfix, |(o, s), rhs: Expr, _| {
                let span = Span::from(s).cover(rhs.span);
                Expr {
                    kind: ExprKind::Unary {
                        op: o,
                        expr: Box::new(rhs),
                    },
                    span,
                }
            })
            .boxed();

        let binary = |prev: chumsky::Boxed<'t, 't, I, Expr, Extra<R>>,
                      ops: &'static [(&'static str, BinOp)]| {
            let choice_op = ops
                .iter()
                .map(|(sym, bop)| op(sym).to(*bop).boxed())
                .reduce(|a, b| a.or(b).boxed())
                .expect("at least one operator");
            prev.clone()
                .foldl(
                    choice_op.then(prev).repeated(),
                    |lhs: Expr, (bop, rhs): (BinOp, Expr)| {
                        let span = lhs.span.cover(rhs.span);
                        Expr {
                            kind: ExprKind::Binary {
                                op: bop,
                                lhs: Box::new(lhs),
                                rhs: Box::new(rhs),
                            },
                            span,
                        }
                    },
                )
                .boxed()
        };
        let prod = binary(
            unary,
            &[("*", BinOp::Mul), ("/", BinOp::Div), ("%", BinOp::Rem)],
        );
        let sum = binary(prod, &[("+", BinOp::Add), ("-", BinOp::Sub)]);
        let cmp = binary(
            sum,
            &[
                ("==", BinOp::Eq),
                ("!=", BinOp::Ne),
                ("<=", BinOp::Le),
                (">=", BinOp::Ge),
                ("<", BinOp::Lt),
                (">", BinOp::Gt),
            ],
        );
        let and = binary(cmp, &[("&&", BinOp::And)]);
        let or = binary(and, &[("||", BinOp::Or)]);
        binary(or, &[("??", BinOp::Coalesce)])
    })
}

/// `name = value` lines inside `{ }`, each recovered on its own.
/// The parsed ones of `v` (a recovered one is `None`), in a vector exactly as long as it needs to
/// be: a syntax tree holds thousands of bodies and records for as long as its file is open, and a
/// vector grown by doubling wastes a quarter of its room on average.
fn present<T>(v: Vec<Option<T>>) -> Vec<T> {
    let mut out = Vec::with_capacity(v.iter().flatten().count());
    out.extend(v.into_iter().flatten());
    out
}

fn assign_block<'t, I, R>() -> impl Parser<'t, I, Vec<Assign>, Extra<R>> + Clone
where
    I: ValueInput<'t, Token = Tok, Span = SimpleSpan>,
    R: GrammarError<'t, I>,
{
    let key = ident().or(plain_string().map_with(|text, e| Name {
        text,
        span: Span::from(e.span()),
    }));
    let assign_start = key.clone().then(op("=")).ignored();
    let assign = key
        .then_ignore(op("="))
        .then(expr())
        .map_with(|(name, value), e| {
            Some(Assign {
                name,
                value,
                span: Span::from(e.span()),
            })
        })
        .recover_with(via_parser(
            token_tree()
                .then(token_tree().and_is(assign_start.clone().not()).repeated())
                .to(None),
        ));
    assign
        .or(stray(is_inner_closer, assign_start).to(None))
        .then_ignore(op(",").or_not())
        .repeated()
        .collect::<Vec<_>>()
        .map(present)
        .delimited_by(op("{"), op("}"))
        .recover_with(via_parser(nested_delimiters(
            Tok::Op("{"),
            Tok::Op("}"),
            [(Tok::Op("("), Tok::Op(")")), (Tok::Op("["), Tok::Op("]"))],
            |_| Vec::new(),
        )))
}

fn field_decl<'t, I, R>() -> impl Parser<'t, I, FieldDecl, Extra<R>> + Clone
where
    I: ValueInput<'t, Token = Tok, Span = SimpleSpan>,
    R: GrammarError<'t, I>,
{
    ident()
        .then_ignore(op(":"))
        .then(type_expr())
        .then(op("=").ignore_then(expr()).or_not())
        .then(
            choice((ctx_kw("computed"), ctx_kw("forces_new")))
                .then_ignore(op(":").not())
                .repeated()
                .collect::<Vec<_>>(),
        )
        .map_with(|(((name, ty), default), attrs), e| FieldDecl {
            name,
            ty,
            default,
            computed: attrs.contains(&Tok::Ident("computed".into())),
            forces_new: attrs.contains(&Tok::Ident("forces_new".into())),
            metric: false,
            doc: None,
            span: Span::from(e.span()),
        })
}

/// `metric name = { namespace = ..., name = ..., dimensions = { ... } }` in a `resource_type`:
/// a computed field of type `aws.cloudwatch.Metric` whose value is the expression, evaluated with
/// the resource's fields in scope.
fn metric_decl<'t, I, R>() -> impl Parser<'t, I, FieldDecl, Extra<R>> + Clone
where
    I: ValueInput<'t, Token = Tok, Span = SimpleSpan>,
    R: GrammarError<'t, I>,
{
    ctx_kw("metric")
        .map_with(|_, e| Span::from(e.span()))
        .then(ident())
        .then_ignore(op("="))
        .then(expr())
        .map_with(|((kw, name), value), e| {
            let seg = |text: &str| Name {
                text: text.into(),
                span: kw,
            };
            FieldDecl {
                name,
                ty: TypeExpr {
                    kind: TypeExprKind::Named(Path {
                        segments: vec![seg("aws"), seg("cloudwatch"), seg("Metric")],
                        span: kw,
                    }),
                    span: kw,
                },
                default: Some(value),
                computed: true,
                forces_new: false,
                metric: true,
                doc: None,
                span: Span::from(e.span()),
            }
        })
}

pub(crate) fn items<'t, I, R>() -> impl Parser<'t, I, Vec<Item>, Extra<R>>
where
    I: ValueInput<'t, Token = Tok, Span = SimpleSpan>,
    R: GrammarError<'t, I>,
{
    let item = recursive(|item| {
        let junk = stray(is_inner_closer, item_start()).map(|span| Item {
            kind: ItemKind::Error,
            span,
            doc: None,
        });
        let block = item
            .or(junk)
            .repeated()
            .collect::<Vec<_>>()
            .delimited_by(op("{"), op("}"))
            .recover_with(via_parser(nested_delimiters(
                Tok::Op("{"),
                Tok::Op("}"),
                [(Tok::Op("("), Tok::Op(")")), (Tok::Op("["), Tok::Op("]"))],
                |_| Vec::new(),
            )))
            .boxed();
        let placement = op("@").ignore_then(expr()).or_not();

        let import = kw("import")
            .ignore_then(plain_string().map_with(|s, e| (s, Span::from(e.span()))))
            .then_ignore(kw("as"))
            .then(ident())
            .map(|((path, path_span), alias)| ItemKind::Import {
                path,
                path_span,
                alias,
            });
        // `region` is a contextual keyword: inside modules it is also the usual name of the
        // placement variable (`module m @ region { ... region.code ... }`).
        let region = select! { Tok::Ident(s) if &*s == "region" => () }
            .ignore_then(ident())
            .then(assign_block())
            .map(|(name, fields)| ItemKind::Region { name, fields });
        let param = kw("param")
            .ignore_then(ident())
            .then_ignore(op(":"))
            .then(type_expr())
            .then(op("=").ignore_then(expr()).or_not())
            .map(|((name, ty), default)| ItemKind::Param { name, ty, default });
        let let_ = kw("let")
            .ignore_then(ident())
            .then(op(":").ignore_then(type_expr()).or_not())
            .then_ignore(op("="))
            .then(expr())
            .map(|((name, ty), value)| ItemKind::Let { name, ty, value });
        let resource = kw("resource")
            .ignore_then(path())
            .then(ident())
            .then(placement.clone())
            .then(assign_block())
            .map(|(((ty, name), placement), body)| ItemKind::Resource {
                ty,
                name,
                placement,
                body,
            });
        let use_ = kw("use")
            .ignore_then(path())
            .then_ignore(kw("as"))
            .then(ident())
            .then(placement)
            .then(assign_block())
            .map(|(((module, name), placement), args)| ItemKind::Use {
                module,
                name,
                placement,
                args,
            });
        let output = ctx_kw("endpoint")
            .or_not()
            .map(|e| e.is_some())
            .then_ignore(kw("output"))
            .then(ident())
            .then(op(":").ignore_then(type_expr()).or_not())
            .then_ignore(op("="))
            .then(expr())
            .map(|(((endpoint, name), ty), value)| ItemKind::Output {
                name,
                ty,
                value,
                endpoint,
            });
        let module = kw("module")
            .ignore_then(ident())
            .then(op("@").ignore_then(ident()).or_not())
            .then(block.clone())
            .map(|((name, region_var), items)| ItemKind::Module {
                name,
                region_var,
                items,
            });
        let for_ = kw("for")
            .ignore_then(ident())
            .then_ignore(kw("in"))
            .then(expr())
            .then(block.clone())
            .map(|((var, iter), items)| ItemKind::For { var, iter, items });
        let if_ = recursive(|if_| {
            kw("if")
                .ignore_then(expr())
                .then(block.clone())
                .then(
                    kw("else")
                        .ignore_then(block.clone().or(if_.map_with(|kind, e| {
                            vec![Item {
                                kind,
                                span: Span::from(e.span()),
                                doc: None,
                            }]
                        })))
                        .or_not(),
                )
                .map(|((cond, then_items), else_items)| ItemKind::If {
                    cond,
                    then_items,
                    else_items,
                })
        });
        let fn_ = kw("fn")
            .ignore_then(ident())
            .then(
                ident()
                    .then_ignore(op(":"))
                    .then(type_expr())
                    .map(|(name, ty)| FnParam { name, ty })
                    .separated_by(op(","))
                    .allow_trailing()
                    .collect::<Vec<_>>()
                    .delimited_by(op("("), op(")")),
            )
            .then_ignore(op("->"))
            .then(type_expr())
            .then_ignore(op("="))
            .then(expr())
            .map(|(((name, params), ret), body)| ItemKind::Fn {
                name,
                params,
                ret,
                body,
            });
        let variant = ident()
            .then(op("=").ignore_then(plain_string()).or_not())
            .map(|(name, wire)| Variant {
                name,
                wire,
                doc: None,
            });
        let enum_ = kw("enum")
            .ignore_then(ident())
            .then(
                variant
                    .separated_by(op(","))
                    .allow_trailing()
                    .collect::<Vec<_>>()
                    .delimited_by(op("{"), op("}")),
            )
            .map(|(name, variants)| ItemKind::Enum { name, variants });
        let record = kw("record")
            .ignore_then(ident())
            .then(
                field_decl()
                    .separated_by(op(",").or_not())
                    .allow_trailing()
                    .collect::<Vec<_>>()
                    .delimited_by(op("{"), op("}")),
            )
            .map(|(name, fields)| ItemKind::Record { name, fields });
        let resource_type = kw("resource_type")
            .ignore_then(path())
            .then(choice((
                ctx_kw("global").to(Scope::Global),
                ctx_kw("regional").to(Scope::Regional),
            )))
            .then(ctx_kw("lookup").or_not().map(|l| l.is_some()))
            .then(
                ctx_kw("create_before_destroy")
                    .or_not()
                    .map(|l| l.is_some()),
            )
            .then(
                metric_decl()
                    .or(field_decl())
                    .then_ignore(op(",").or_not())
                    .repeated()
                    .collect::<Vec<_>>()
                    .delimited_by(op("{"), op("}")),
            )
            .map(
                |((((path, scope), lookup), create_before_destroy), fields)| {
                    ItemKind::ResourceType {
                        path,
                        scope,
                        lookup,
                        create_before_destroy,
                        fields,
                    }
                },
            );

        choice((
            import,
            region,
            param,
            let_,
            resource,
            use_,
            output,
            module,
            for_,
            if_,
            fn_,
            enum_,
            record,
            resource_type,
        ))
        .map_with(|kind, e| Item {
            kind,
            span: Span::from(e.span()),
            doc: None,
        })
        .recover_with(via_parser(
            token_tree()
                .then(token_tree().and_is(item_start().not()).repeated())
                .map_with(|_, e| Item {
                    kind: ItemKind::Error,
                    span: Span::from(e.span()),
                    doc: None,
                }),
        ))
        .boxed()
    });
    // At the top level a stray closing delimiter is junk too.
    let stray = stray(is_closer, item_start()).map(|span| Item {
        kind: ItemKind::Error,
        span,
        doc: None,
    });
    item.or(stray)
        .repeated()
        .collect::<Vec<_>>()
        .then_ignore(end())
}

/// Runs the item grammar over a token list: first with [`Cheap`] errors, which is enough for a
/// file without syntax errors (most files, most of the time), and only when that finds an error
/// again with [`Rich`] ones to say what was expected. The error type does not steer the parse:
/// both runs take the same path and recover at the same places.
pub(crate) fn parse_tokens(
    tokens: &[(Tok, SimpleSpan)],
    src_len: usize,
) -> (Vec<Item>, Vec<Rich<'_, Tok, SimpleSpan>>) {
    let eoi = SimpleSpan::from(src_len..src_len);
    let (out, errs) = items::<_, Cheap<SimpleSpan>>()
        .parse(tokens.map(eoi, |(t, s)| (t, s)))
        .into_output_errors();
    if errs.is_empty()
        && let Some(out) = out
    {
        return (out, Vec::new());
    }
    let (out, errs) = items::<_, Rich<'_, Tok, SimpleSpan>>()
        .parse(tokens.map(eoi, |(t, s)| (t, s)))
        .into_output_errors();
    (out.unwrap_or_default(), errs)
}

/// The items of a token list that parses without any error, or None.
pub(crate) fn parse_tokens_clean(
    tokens: &[(Tok, SimpleSpan)],
    src_len: usize,
) -> Option<Vec<Item>> {
    let eoi = SimpleSpan::from(src_len..src_len);
    let (out, errs) = items::<_, Cheap<SimpleSpan>>()
        .parse(tokens.map(eoi, |(t, s)| (t, s)))
        .into_output_errors();
    if errs.is_empty() { out } else { None }
}

/// Runs the expression grammar over a token list that must hold exactly one expression.
pub(crate) fn parse_expr_tokens(
    tokens: &[(Tok, SimpleSpan)],
    src_len: usize,
) -> (Option<Expr>, Vec<Rich<'_, Tok, SimpleSpan>>) {
    let eoi = SimpleSpan::from(src_len..src_len);
    expr::<_, Rich<'_, Tok, SimpleSpan>>()
        .then_ignore(end())
        .parse(tokens.map(eoi, |(t, s)| (t, s)))
        .into_output_errors()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both(src: &str) -> [(Option<Vec<Item>>, bool); 2] {
        let (tokens, _, _) = crate::lex(src);
        let eoi = SimpleSpan::from(src.len()..src.len());
        let (cheap, cheap_errs) = items::<_, Cheap<SimpleSpan>>()
            .parse(tokens.map(eoi, |(t, s)| (t, s)))
            .into_output_errors();
        let (rich, rich_errs) = items::<_, Rich<'_, Tok, SimpleSpan>>()
            .parse(tokens.map(eoi, |(t, s)| (t, s)))
            .into_output_errors();
        [(cheap, cheap_errs.is_empty()), (rich, rich_errs.is_empty())]
    }

    /// `parse_tokens` keeps the cheap run's tree when it found no error; that is right only if
    /// the error type never steers the parse. Every `.carbon` file of the repository, and each of
    /// them cut short and with a token dropped at many places, parses to the same tree with
    /// either error type, with errors in both runs or in neither.
    #[test]
    fn the_error_type_does_not_steer_the_parse() {
        let files = crate::tests::repository_programs();
        assert!(files.len() > 50, "found the repository's programs");
        let mut inputs = 0;
        let mut broken = 0;
        for text in &files {
            let cuts: Vec<usize> = (1..8).map(|k| text.len() * k / 8).collect();
            let mut variants = vec![text.clone()];
            for &at in &cuts {
                let at = (0..=at)
                    .rev()
                    .find(|i| text.is_char_boundary(*i))
                    .unwrap_or(0);
                variants.push(text[..at].to_string());
                let next = text[at..].chars().next().map_or(0, char::len_utf8);
                variants.push(format!("{}{}", &text[..at], &text[at + next..]));
            }
            for v in variants {
                let [cheap, rich] = both(&v);
                assert_eq!(cheap, rich, "the two runs disagree on:\n{v}");
                inputs += 1;
                broken += usize::from(!rich.1);
            }
        }
        assert!(
            broken > inputs / 4,
            "many inputs have syntax errors ({broken} of {inputs})"
        );
    }
}
