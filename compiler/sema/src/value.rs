//! Values of the evaluator. Values known only after apply are [`Value::Unknown`], which remembers
//! the region its data comes from so that placement rules can still be checked.

use std::collections::BTreeMap;
use std::sync::Arc;

/// A variant of the enum `id` (a type id), and its wire value (what AWS is sent).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnumValue {
    pub id: String,
    pub variant: String,
    pub wire: String,
}

impl Value {
    /// The variant `variant` of the enum `id`, whose wire value is `wire`.
    pub fn enum_variant(id: &str, variant: &str, wire: &str) -> Value {
        Value::Enum(Arc::new(EnumValue {
            id: id.to_string(),
            variant: variant.to_string(),
            wire: wire.to_string(),
        }))
    }
}

/// A map's or a record's entries, sorted by key with no key twice: a sorted vector shared by
/// every copy of the value. A binding's value is copied into each instance that reads it (the
/// `tags` of a stack in each of its resources), and a copy of a map is then a count, not a tree of
/// its own; two entries take two slots, not a tree node sized for eleven.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Entries(Arc<Vec<(String, Value)>>);

impl Entries {
    pub fn new() -> Entries {
        Entries::default()
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.find(key).ok().map(|i| &self.0[i].1)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_ok()
    }

    /// Sets `key` to `value`, returning the value it replaces (the entries are copied first when
    /// another value shares them).
    pub fn insert(&mut self, key: String, value: Value) -> Option<Value> {
        match self.find(&key) {
            Ok(i) => Some(std::mem::replace(
                &mut Arc::make_mut(&mut self.0)[i].1,
                value,
            )),
            Err(i) => {
                Arc::make_mut(&mut self.0).insert(i, (key, value));
                None
            }
        }
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The entries in key order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&String, &Value)> + ExactSizeIterator {
        self.0.iter().map(|(k, v)| (k, v))
    }

    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &String> + ExactSizeIterator {
        self.0.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl DoubleEndedIterator<Item = &Value> + ExactSizeIterator {
        self.0.iter().map(|(_, v)| v)
    }
}

impl std::fmt::Debug for Entries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// As a `BTreeMap` collects: in key order, the last of two entries with the same key counts.
impl FromIterator<(String, Value)> for Entries {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(iter: I) -> Entries {
        let mut v: Vec<(String, Value)> = iter.into_iter().collect();
        // Stable: entries with the same key keep their order, and the last one is kept.
        v.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out: Vec<(String, Value)> = Vec::with_capacity(v.len());
        for e in v {
            match out.last_mut() {
                Some(last) if last.0 == e.0 => *last = e,
                _ => out.push(e),
            }
        }
        Entries(Arc::new(out))
    }
}

impl From<BTreeMap<String, Value>> for Entries {
    fn from(m: BTreeMap<String, Value>) -> Entries {
        Entries(Arc::new(m.into_iter().collect()))
    }
}

impl<const N: usize> From<[(String, Value); N]> for Entries {
    fn from(entries: [(String, Value); N]) -> Entries {
        entries.into_iter().collect()
    }
}

impl<'a> IntoIterator for &'a Entries {
    type Item = (&'a String, &'a Value);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (String, Value)>,
        fn(&'a (String, Value)) -> (&'a String, &'a Value),
    >;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

impl IntoIterator for Entries {
    type Item = (String, Value);
    type IntoIter = std::vec::IntoIter<(String, Value)>;
    fn into_iter(self) -> Self::IntoIter {
        Arc::unwrap_or_clone(self.0).into_iter()
    }
}

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
    Map(Entries),
    Record(Entries),
    /// A variant of an enum, shared by every copy.
    Enum(Arc<EnumValue>),
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
            Value::Enum(e) => Some(format!(".{}", e.variant)),
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
            Value::Enum(e) => Some(&e.variant),
            _ => None,
        }
    }

    /// The text of a scalar as it appears in interpolation.
    pub fn display_plain(&self) -> Result<String, String> {
        Ok(match self {
            Value::Str(s) => s.clone(),
            Value::Int(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Enum(e) => e.wire.clone(),
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
            Value::Enum(_) => "an enum value",
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
/// The items of a list value (an absent value or any other kind has none).
pub(crate) fn items(v: Option<&Value>) -> &[Value] {
    match v.map(Value::reveal) {
        Some(Value::List(l)) => l,
        _ => &[],
    }
}

/// The entries of a record or map value.
pub(crate) fn entries(v: &Value) -> Option<&Entries> {
    match v.reveal() {
        Value::Record(e) | Value::Map(e) => Some(e),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    /// Every field of every instance holds a `Value`: a variant that grows it (three strings
    /// inline, as `Enum` once had) costs memory in every evaluated program.
    #[test]
    fn a_value_stays_small() {
        assert!(
            size_of::<super::Value>() <= 56,
            "{}",
            size_of::<super::Value>()
        );
        assert_eq!(size_of::<super::Entries>(), 8);
    }

    #[test]
    fn entries_collect_like_a_map() {
        use super::{Entries, Value};
        let e: Entries = [("b", 1), ("a", 2), ("b", 3)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), Value::Int(v)))
            .collect();
        // In key order, the later of two same keys kept.
        let got: Vec<_> = e.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        assert_eq!(got, [("a", Value::Int(2)), ("b", Value::Int(3))]);
        let mut shared = e.clone();
        assert_eq!(shared.insert("c".into(), Value::Int(4)), None);
        assert_eq!(
            shared.insert("a".into(), Value::Int(5)),
            Some(Value::Int(2))
        );
        // The copy changed; the value it was copied from did not.
        assert_eq!(e.len(), 2);
        assert_eq!(e.get("a"), Some(&Value::Int(2)));
        assert_eq!(shared.get("a"), Some(&Value::Int(5)));
        assert_eq!(shared.keys().collect::<Vec<_>>(), ["a", "b", "c"]);
        assert!(!shared.contains_key("d"));
    }
}
