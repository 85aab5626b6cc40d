//! An in-memory provider for engine tests: resources live in a map, calls can be slowed down and
//! made to fail, and every call is recorded with its start and end time.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use carbonc_state::Val;

use crate::provider::{
    CreateRequest, DeleteRequest, FindRequest, Found, Provider, ProviderError, ReadRequest,
    UpdateRequest,
};

#[derive(Clone, Debug)]
pub struct Stored {
    pub address: String,
    pub ty: String,
    pub region: Option<String>,
    pub attrs: BTreeMap<String, Val>,
    pub tags: BTreeMap<String, String>,
    pub token: String,
}

/// One call: operation, address, start and end (since the provider was made).
#[derive(Clone, Debug)]
pub struct Call {
    pub op: &'static str,
    pub address: String,
    pub start: Duration,
    pub end: Duration,
}

#[derive(Default)]
struct Inner {
    next: u64,
    resources: BTreeMap<String, Stored>,
    calls: Vec<Call>,
    /// Address -> how many more calls fail with a retryable error.
    flaky: BTreeMap<String, u32>,
    /// Address -> how long its calls take, instead of `latency`.
    latencies: BTreeMap<String, Duration>,
    /// Address -> how many more creates act and then lose their answer.
    lost: BTreeMap<String, u32>,
    /// Client token -> the id of what a create with it made (checked against the resource, whose
    /// token may have been cleared since).
    tokens: BTreeMap<String, String>,
    /// What exists outside the program ([`MemoryProvider::plant_at`]) by type, region and name:
    /// how a lookup without an ARN (a load balancer's) finds it.
    named: std::collections::HashMap<(String, Option<String>, Val), String>,
}

pub struct MemoryProvider {
    inner: Mutex<Inner>,
    epoch: Instant,
    /// Every call takes this long.
    pub latency: Duration,
    /// Addresses whose every call fails permanently.
    pub broken: BTreeSet<String>,
}

impl Default for MemoryProvider {
    fn default() -> Self {
        MemoryProvider::new(Duration::ZERO)
    }
}

impl MemoryProvider {
    pub fn new(latency: Duration) -> MemoryProvider {
        MemoryProvider {
            inner: Mutex::new(Inner::default()),
            epoch: Instant::now(),
            latency,
            broken: BTreeSet::new(),
        }
    }

    /// The next `n` calls for `address` fail with a throttling error.
    pub fn flaky(&self, address: &str, n: u32) {
        self.inner
            .lock()
            .expect("lock")
            .flaky
            .insert(address.to_string(), n);
    }

    /// The next `n` creates of `address` make the resource, without a client token (as APIs
    /// without one do), and then fail with a connection error: AWS acted, the answer was lost.
    pub fn lose_answers(&self, address: &str, n: u32) {
        self.inner
            .lock()
            .expect("lock")
            .lost
            .insert(address.to_string(), n);
    }

    /// Calls for `address` take `d` (an EKS cluster takes longer than a subnet).
    pub fn set_latency(&self, address: &str, d: Duration) {
        self.inner
            .lock()
            .expect("lock")
            .latencies
            .insert(address.to_string(), d);
    }

    pub fn resources(&self) -> Vec<Stored> {
        self.inner
            .lock()
            .expect("lock")
            .resources
            .values()
            .cloned()
            .collect()
    }

    pub fn calls(&self) -> Vec<Call> {
        self.inner.lock().expect("lock").calls.clone()
    }

    /// Stores a resource as if an earlier (crashed) run had created it.
    pub fn plant(&self, req: &CreateRequest) -> String {
        let id = {
            let mut g = self.inner.lock().expect("lock");
            g.next += 1;
            format!("mem-{}", g.next)
        };
        self.plant_at(&id, req);
        id
    }

    /// Stores a resource under the given id: something that exists outside the program, for
    /// `lookup` resources to find (they are read by their ARN, or by their name when they have
    /// none).
    pub fn plant_at(&self, id: &str, req: &CreateRequest) {
        let mut g = self.inner.lock().expect("lock");
        g.resources.insert(
            id.to_string(),
            Stored {
                address: req.resource.address.clone(),
                ty: req.resource.ty.clone(),
                region: req.resource.region.clone(),
                attrs: req.resource.attrs.clone(),
                tags: req.tags.clone(),
                token: req.token.clone(),
            },
        );
        g.tokens.insert(req.token.clone(), id.to_string());
        if let Some(name) = req.resource.attrs.get("name") {
            let key = (
                req.resource.ty.clone(),
                req.resource.region.clone(),
                name.clone(),
            );
            g.named.insert(key, id.to_string());
        }
    }

    async fn call<T>(
        &self,
        op: &'static str,
        address: &str,
        f: impl FnOnce(&mut Inner) -> Result<T, ProviderError>,
    ) -> Result<T, ProviderError> {
        let start = self.epoch.elapsed();
        let latency = self
            .inner
            .lock()
            .expect("lock")
            .latencies
            .get(address)
            .copied()
            .unwrap_or(self.latency);
        if !latency.is_zero() {
            crate::waiting(format!("{op} to finish ({} ms)", latency.as_millis()));
            tokio::time::sleep(latency).await;
        }
        let mut g = self.inner.lock().expect("lock");
        g.calls.push(Call {
            op,
            address: address.to_string(),
            start,
            end: self.epoch.elapsed(),
        });
        if self.broken.contains(address) {
            return Err(ProviderError::Permanent {
                code: "AccessDenied".into(),
                message: format!("not allowed to touch {address}"),
            });
        }
        if let Some(n) = g.flaky.get_mut(address)
            && *n > 0
        {
            *n -= 1;
            return Err(ProviderError::Retryable {
                code: "ThrottlingException".into(),
                message: "Rate exceeded".into(),
            });
        }
        f(&mut g)
    }

    fn found(id: &str, s: &Stored) -> Found {
        let mut attrs = s.attrs.clone();
        attrs.insert("id".into(), Val::Str(id.to_string()));
        attrs.insert(
            "arn".into(),
            Val::Str(format!(
                "arn:mem:{}:{id}",
                s.region.clone().unwrap_or_default()
            )),
        );
        Found {
            id: id.to_string(),
            attrs,
        }
    }
}

impl Provider for MemoryProvider {
    async fn create(&self, req: CreateRequest) -> Result<Found, ProviderError> {
        let address = req.resource.address.clone();
        self.call("create", &address, |g| {
            // Idempotent by token, like AWS's client request tokens.
            if let Some(id) = g.tokens.get(&req.token)
                && let Some(s) = g.resources.get(id).filter(|s| s.token == req.token)
            {
                return Ok(MemoryProvider::found(id, s));
            }
            g.next += 1;
            let id = format!("mem-{}", g.next);
            let s = Stored {
                address: address.clone(),
                ty: req.resource.ty.clone(),
                region: req.resource.region.clone(),
                attrs: req.resource.attrs.clone(),
                tags: req.tags.clone(),
                token: req.token.clone(),
            };
            let f = MemoryProvider::found(&id, &s);
            g.tokens.insert(req.token.clone(), id.clone());
            g.resources.insert(id.clone(), s);
            if let Some(n) = g.lost.get_mut(&address)
                && *n > 0
            {
                *n -= 1;
                if let Some(s) = g.resources.get_mut(&id) {
                    s.token.clear();
                }
                return Err(ProviderError::Retryable {
                    code: "ConnectionReset".into(),
                    message: "the connection closed before the answer".into(),
                });
            }
            Ok(f)
        })
        .await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Found>, ProviderError> {
        self.call("read", &req.address, |g| {
            if !req.id.is_empty() {
                return Ok(g
                    .resources
                    .get(&req.id)
                    .map(|s| MemoryProvider::found(&req.id, s)));
            }
            // A lookup by its name (a load balancer's): what was planted under it.
            let Some(name) = req.attrs.get("name") else {
                return Ok(None);
            };
            let key = (req.ty.clone(), req.region.clone(), name.clone());
            Ok(g.named
                .get(&key)
                .and_then(|id| Some((id, g.resources.get(id)?)))
                .map(|(id, s)| MemoryProvider::found(id, s)))
        })
        .await
    }

    async fn update(&self, req: UpdateRequest) -> Result<Found, ProviderError> {
        let address = req.resource.address.clone();
        self.call("update", &address, |g| match g.resources.get_mut(&req.id) {
            Some(s) => {
                s.attrs = req.resource.attrs.clone();
                Ok(MemoryProvider::found(&req.id, s))
            }
            None => Err(ProviderError::Permanent {
                code: "NotFound".into(),
                message: format!("{} does not exist", req.id),
            }),
        })
        .await
    }

    async fn delete(&self, req: DeleteRequest) -> Result<(), ProviderError> {
        self.call("delete", &req.address, |g| {
            g.resources.remove(&req.id);
            Ok(())
        })
        .await
    }

    async fn find(&self, req: FindRequest) -> Result<Option<Found>, ProviderError> {
        self.call("find", &req.address, |g| {
            Ok(g.resources
                .iter()
                .find(|(id, s)| {
                    !req.exclude.contains(id)
                        && s.tags.get("carbon:address")
                            == Some(&crate::provider::address_tag(&req.address))
                        && s.tags.get("carbon:lineage") == Some(&req.lineage)
                })
                .map(|(id, s)| MemoryProvider::found(id, s)))
        })
        .await
    }
}
