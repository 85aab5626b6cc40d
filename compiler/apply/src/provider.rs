//! The provider trait and its request and response types.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;

use carbonc_state::{ResourceState, Val};

/// What a provider needs to act on one resource: its attributes with every value known, and the
/// state of each resource it refers to (a `Val::Ref(address)` is resolved by the provider to the
/// identifier or ARN its API wants).
/// A secret's plain value, on its way to the provider. It never prints.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(String);

impl SecretString {
    pub fn new(s: impl Into<String>) -> SecretString {
        SecretString(s.into())
    }

    /// The value, for the one API call that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(sensitive)")
    }
}

/// The final attributes of a resource (engine values, secrets as hashes) and the plain values of
/// its secret attributes.
pub type ResolvedAttrs = (BTreeMap<String, Val>, BTreeMap<String, SecretString>);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    pub address: String,
    pub ty: String,
    /// AWS region code; `None` for global resources.
    pub region: Option<String>,
    pub attrs: BTreeMap<String, Val>,
    /// Plain values of the secret attributes (in `attrs` they are keyed hashes).
    pub secrets: BTreeMap<String, SecretString>,
    /// The recorded state of each resource a [`Val::Ref`] in `attrs` names, by address.
    pub refs: BTreeMap<String, ResourceState>,
}

impl Resolved {
    /// The state of the resource a reference attribute points to.
    pub fn target(&self, field: &str) -> Option<&ResourceState> {
        match self.attrs.get(field)? {
            Val::Ref(addr) => self.refs.get(addr),
            _ => None,
        }
    }
}

/// The value of the `carbon:address` tag for an address.
///
/// Addresses contain `[`, `]` and `,` (`db[us-east-1].cluster`), which RDS, ElastiCache, Route 53,
/// IAM, WAFv2 and CloudFront refuse in tag values: they allow only letters, digits, whitespace
/// and `_ . : / = + - @` (botocore's models: iam `tagValueType`, wafv2 `TagValue`; the RDS,
/// ElastiCache and Route 53 documentation). So every other character, and `=` itself, is
/// written as `=XX` per UTF-8 byte (quoted-printable style): injective, readable
/// (`db=5Bus-east-1=5D.cluster`), and within every service's pattern.
pub fn address_tag(address: &str) -> String {
    let mut out = String::with_capacity(address.len() + 8);
    for ch in address.chars() {
        if ch.is_ascii_alphanumeric() || matches!(ch, ' ' | '_' | '.' | ':' | '/' | '+' | '-' | '@')
        {
            out.push(ch);
        } else {
            let mut buf = [0u8; 4];
            for byte in ch.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("={byte:02X}"));
            }
        }
    }
    out
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateRequest {
    pub resource: Resolved,
    /// Tags every created resource carries where the API takes tags: `carbon:address` (encoded
    /// by [`address_tag`]), `carbon:lineage`.
    pub tags: BTreeMap<String, String>,
    /// Idempotency token (stable for one lineage and address), for APIs that take one.
    pub token: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadRequest {
    pub address: String,
    pub ty: String,
    pub region: Option<String>,
    pub id: String,
    /// The last-known attributes, for APIs that need more than the id to find the resource.
    pub attrs: BTreeMap<String, Val>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdateRequest {
    pub id: String,
    pub before: BTreeMap<String, Val>,
    pub resource: Resolved,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeleteRequest {
    pub address: String,
    pub ty: String,
    pub region: Option<String>,
    pub id: String,
    pub attrs: BTreeMap<String, Val>,
}

/// Looking for a resource a crashed apply created but did not record (by tag or token).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FindRequest {
    pub address: String,
    pub ty: String,
    pub region: Option<String>,
    pub lineage: String,
    pub token: String,
    pub attrs: BTreeMap<String, Val>,
    /// Ids that are not the object sought although they carry its address tags: the deposed
    /// predecessors of a create-before-destroy replacement (`carbonc_state::deposed_address`).
    pub exclude: Vec<String>,
}

/// A resource as the provider sees it: its id and every attribute (configured and computed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub id: String,
    pub attrs: BTreeMap<String, Val>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProviderError {
    /// Worth retrying: throttling, 5xx, connection errors.
    Retryable { code: String, message: String },
    /// Not worth retrying: the request is wrong, or the world disagrees.
    Permanent { code: String, message: String },
    /// This provider does not implement the operation for this resource type.
    Unsupported { what: String },
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProviderError::Retryable { code, message }
            | ProviderError::Permanent { code, message } => write!(f, "{code}: {message}"),
            ProviderError::Unsupported { what } => {
                write!(f, "not supported by this provider: {what}")
            }
        }
    }
}

impl std::error::Error for ProviderError {}

/// A cloud provider. Every call is for one resource; the executor handles order, parallelism and
/// state. Implementations wait for a created resource to be usable before returning.
pub trait Provider: Send + Sync + 'static {
    fn create(
        &self,
        req: CreateRequest,
    ) -> impl Future<Output = Result<Found, ProviderError>> + Send;
    /// `Ok(None)` when the resource no longer exists.
    fn read(
        &self,
        req: ReadRequest,
    ) -> impl Future<Output = Result<Option<Found>, ProviderError>> + Send;
    fn update(
        &self,
        req: UpdateRequest,
    ) -> impl Future<Output = Result<Found, ProviderError>> + Send;
    /// Succeeds when the resource is gone (also when it was gone already).
    fn delete(&self, req: DeleteRequest) -> impl Future<Output = Result<(), ProviderError>> + Send;
    /// `Ok(None)` when nothing carries this address and lineage.
    fn find(
        &self,
        req: FindRequest,
    ) -> impl Future<Output = Result<Option<Found>, ProviderError>> + Send;
    /// Whether a create failed because the name it asked for is taken (AWS's "already exists"):
    /// by what an earlier attempt of the same create made (its answer lost, the call sent again),
    /// or by a resource that is not this program's. The executor then looks for the resource by
    /// its tags, and adopts it only if they are this address's. A provider answers `false` for a
    /// type whose `find` cannot tell its own resource from another of the same name.
    fn name_taken(&self, _ty: &str, _error: &ProviderError) -> bool {
        false
    }
}
