//! Values of the evaluator. Values known only after apply are [`Value::Unknown`], which remembers
//! the region its data comes from so that placement rules can still be checked.

use std::collections::BTreeMap;

/// What a [`Value::Path`] names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Path {
    /// A builtin function (`cidrsubnet`).
    Builtin(String),
    /// A prefix of the prelude's qualified names (`aws`, `aws.kms`).
    Namespace(String),
    /// An imported file, by its path.
    Import(String),
    /// An enum, by its id (`aws.kms.KeySpec`).
    Enum(String),
    /// A user function, by the file that declares it and its name.
    Fn { file: String, name: String },
    /// A module, by its id.
    Module(String),
}

impl std::fmt::Display for Path {
    /// As the user wrote it: the function, namespace, file, enum or module name.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Path::Builtin(n)
            | Path::Namespace(n)
            | Path::Import(n)
            | Path::Enum(n)
            | Path::Module(n)
            | Path::Fn { name: n, .. } => f.write_str(n),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Str(String),
    Int(i64),
    Bool(bool),
    None,
    List(Vec<Value>),
    Map(BTreeMap<String, Value>),
    Record(BTreeMap<String, Value>),
    Enum {
        id: String,
        variant: String,
        wire: String,
    },
    Region {
        idx: usize,
        code: String,
    },
    /// A reference to a resource instance, by address.
    Ref {
        addr: String,
    },
    /// An instance of a module, by address.
    Module {
        addr: String,
    },
    /// A resource or module family declared inside `for` loops, before indexing.
    Family {
        base: String,
        keys: usize,
        module: bool,
    },
    /// A name that stands for no value of its own: what a call or a field access starts from.
    Path(Path),
    Secret(Box<Value>),
    /// Known only after apply (a computed attribute) or at plan time (a parameter without value).
    Unknown {
        origin: Origin,
        region: Option<usize>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Computed by AWS: every `address.attribute` the value is made from.
    AfterApply(Vec<String>),
    /// A parameter whose value is given at plan time.
    Param(String),
    /// A value that could not be computed because of an error reported elsewhere.
    Error,
}

impl Value {
    /// The value as carbon source, for a fix to write: scalars only (a string, a number, a
    /// boolean, an enum variant, a region by its name in `regions`).
    pub fn source_text(&self, regions: &[crate::eval::RegionInfo]) -> Option<String> {
        match self {
            Value::Str(s) => {
                let mut out = String::from("\"");
                for c in s.chars() {
                    match c {
                        '"' => out.push_str("\\\""),
                        '\\' => out.push_str("\\\\"),
                        '\n' => out.push_str("\\n"),
                        '$' => out.push_str("\\$"),
                        c => out.push(c),
                    }
                }
                out.push('"');
                Some(out)
            }
            Value::Int(i) => Some(i.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Enum { variant, .. } => Some(format!(".{variant}")),
            Value::Region { idx, .. } => regions.get(*idx).map(|r| r.name.clone()),
            _ => None,
        }
    }

    pub fn error() -> Value {
        Value::Unknown {
            origin: Origin::Error,
            region: None,
        }
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown { .. })
    }

    pub fn is_secret(&self) -> bool {
        matches!(self, Value::Secret(_))
    }

    /// Whether a secret is anywhere in this value (in a list, map or record too).
    pub fn contains_secret(&self) -> bool {
        match self {
            Value::Secret(_) => true,
            Value::List(items) => items.iter().any(Value::contains_secret),
            Value::Map(m) | Value::Record(m) => m.values().any(Value::contains_secret),
            _ => false,
        }
    }

    /// Removes a `Secret` wrapper.
    pub fn reveal(&self) -> &Value {
        match self {
            Value::Secret(v) => v.reveal(),
            v => v,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self.reveal() {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.reveal() {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self.reveal() {
            Value::Int(n) => Some(*n),
            _ => None,
        }
    }

    pub fn variant(&self) -> Option<&str> {
        match self.reveal() {
            Value::Enum { variant, .. } => Some(variant),
            _ => None,
        }
    }

    /// The text of a scalar as it appears in interpolation.
    pub fn display_plain(&self) -> Result<String, String> {
        Ok(match self {
            Value::Str(s) => s.clone(),
            Value::Int(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Enum { wire, .. } => wire.clone(),
            Value::Region { code, .. } => code.clone(),
            Value::Secret(v) => v.display_plain()?,
            v => return Err(format!("{} cannot be turned into a string", v.kind())),
        })
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Value::Str(_) => "a string",
            Value::Int(_) => "a number",
            Value::Bool(_) => "a boolean",
            Value::None => "`none`",
            Value::List(_) => "a list",
            Value::Map(_) => "a map",
            Value::Record(_) => "a record",
            Value::Enum { .. } => "an enum value",
            Value::Region { .. } => "a region",
            Value::Ref { .. } => "a resource reference",
            Value::Module { .. } => "a module instance",
            Value::Family { .. } => "a resource family",
            Value::Path(_) => "a name",
            Value::Secret(_) => "a secret",
            Value::Unknown { .. } => "a value known after apply",
        }
    }

    /// The unknown that stands for a combination of values, if any of them is unknown: the
    /// attributes they come from are merged, so that dependencies are never lost.
    pub fn merge_unknowns<'v>(values: impl IntoIterator<Item = &'v Value>) -> Option<Value> {
        let mut out: Option<Value> = None;
        for v in values {
            let Value::Unknown { origin, region } = v.reveal() else {
                continue;
            };
            out = Some(match out {
                None => Value::Unknown {
                    origin: origin.clone(),
                    region: *region,
                },
                Some(Value::Unknown {
                    origin: o,
                    region: r,
                }) => {
                    let origin = match (o, origin) {
                        (Origin::AfterApply(mut a), Origin::AfterApply(b)) => {
                            for x in b {
                                if !a.contains(x) {
                                    a.push(x.clone());
                                }
                            }
                            Origin::AfterApply(a)
                        }
                        (Origin::AfterApply(a), _) => Origin::AfterApply(a),
                        (_, Origin::AfterApply(b)) => Origin::AfterApply(b.clone()),
                        (o, _) => o,
                    };
                    Value::Unknown {
                        origin,
                        region: if r == *region { r } else { None },
                    }
                }
                Some(other) => other,
            });
        }
        out
    }

    /// Every unknown inside this value, at any depth.
    pub fn unknowns<'v>(&'v self, out: &mut Vec<&'v Value>) {
        match self {
            Value::Unknown { .. } => out.push(self),
            Value::Secret(v) => v.unknowns(out),
            Value::List(items) => items.iter().for_each(|v| v.unknowns(out)),
            Value::Map(m) | Value::Record(m) => m.values().for_each(|v| v.unknowns(out)),
            _ => {}
        }
    }

    /// The region the data of this value comes from, if it is the same for all of its parts.
    pub fn provenance(&self, inst_region: &dyn Fn(&str) -> Option<usize>) -> Option<usize> {
        match self {
            Value::Unknown { region, .. } => *region,
            Value::Ref { addr } => inst_region(addr),
            Value::Secret(v) => v.provenance(inst_region),
            Value::List(items) => {
                let regs: Vec<Option<usize>> =
                    items.iter().map(|v| v.provenance(inst_region)).collect();
                match regs.first() {
                    Some(Some(r)) if regs.iter().all(|x| *x == Some(*r)) => Some(*r),
                    _ => None,
                }
            }
            _ => None,
        }
    }
}
