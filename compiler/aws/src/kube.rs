//! The objects carbonc applies to a cluster's Kubernetes API itself (`k8s.NetworkPolicy`), and
//! the small HTTPS client they need.
//!
//! Each call connects as `helm.rs` does (DescribeCluster's endpoint, its certificate authority as
//! the only trusted root, an EKS bearer token) and speaks HTTP/1.1 with hyper over rustls.
//!
//! - create and update: the policy's namespace is created when missing, then the policy is
//!   applied server-side (`PATCH` with `application/apply-patch+yaml`, field manager `carbonc`,
//!   `force=true`: carbonc owns every field it sets), as `kubectl apply --server-side` does
//!   (Kubernetes documentation, "Server-Side Apply");
//! - read: `GET`, read back into the policy's fields (`carbonc_k8s::fields`), so a change made
//!   with kubectl is drift; 404 = gone;
//! - delete: `DELETE`; 404 = done. A cluster that is gone took its objects with it.
//!
//! The id is `CLUSTER/NAMESPACE/NAME`, as a Helm release's.

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_config::SdkConfig;
use carbonc_apply::{
    CreateRequest, DeleteRequest, Found, ProviderError, ReadRequest, Resolved, UpdateRequest,
};
use carbonc_state::Val;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use serde_json::{Value as Json, json};

use crate::attrs::{after_update, ref_id, required};
use crate::helm::{api_server, eks_token, split_id};

/// A connection's target: the API server's base URL and how to trust and authenticate to it.
pub(crate) struct Kube {
    cluster: String,
    https: bool,
    host: String,
    port: u16,
    /// The endpoint's path, a prefix of every request's (usually empty).
    prefix: String,
    tls: Option<tokio_rustls::TlsConnector>,
    token: String,
}

fn kube_error(code: &str, message: String) -> ProviderError {
    ProviderError::Permanent {
        code: code.into(),
        message,
    }
}

impl Kube {
    /// The cluster's API server, `None` when the cluster is gone.
    pub(crate) async fn connect(
        cfg: &SdkConfig,
        cluster: &str,
    ) -> Result<Option<Kube>, ProviderError> {
        let Some(server) = api_server(cfg, cluster).await? else {
            return Ok(None);
        };
        let token = eks_token(cfg, cluster).await?;
        let uri: hyper::Uri = server.endpoint.parse().map_err(|e| {
            kube_error(
                "InvalidEndpoint",
                format!(
                    "EKS cluster {cluster}'s endpoint `{}`: {e}",
                    server.endpoint
                ),
            )
        })?;
        let https = uri.scheme_str() != Some("http");
        let host = uri.host().unwrap_or_default().to_string();
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let tls = if https {
            let mut roots = rustls::RootCertStore::empty();
            let pem = server
                .ca
                .as_deref()
                .and_then(|b64| aws_smithy_types::base64::decode(b64).ok())
                .ok_or_else(|| {
                    kube_error(
                        "NoCertificateAuthority",
                        format!("EKS cluster {cluster} reports no certificate authority"),
                    )
                })?;
            use rustls::pki_types::pem::PemObject;
            for cert in rustls::pki_types::CertificateDer::pem_slice_iter(&pem) {
                let cert = cert.map_err(|e| {
                    kube_error(
                        "NoCertificateAuthority",
                        format!("EKS cluster {cluster}'s certificate authority: {e}"),
                    )
                })?;
                roots.add(cert).map_err(|e| {
                    kube_error(
                        "NoCertificateAuthority",
                        format!("EKS cluster {cluster}'s certificate authority: {e}"),
                    )
                })?;
            }
            let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| kube_error("Tls", e.to_string()))?
                .with_root_certificates(roots)
                .with_no_client_auth();
            Some(tokio_rustls::TlsConnector::from(Arc::new(config)))
        } else {
            None
        };
        Ok(Some(Kube {
            cluster: cluster.to_string(),
            https,
            host,
            port,
            prefix: uri.path().trim_end_matches('/').to_string(),
            tls,
            token,
        }))
    }

    /// One request: the status and the answer (JSON, or `null` when there is none).
    pub(crate) async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<(&str, &Json)>,
    ) -> Result<(u16, Json), ProviderError> {
        let unreachable = |e: &dyn std::fmt::Display| ProviderError::Retryable {
            code: "KubernetesUnreachable".into(),
            message: format!(
                "the Kubernetes API of EKS cluster {} ({}:{}): {e}",
                self.cluster, self.host, self.port
            ),
        };
        let tcp = tokio::net::TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|e| unreachable(&e))?;
        let mut req = hyper::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.prefix))
            .header(hyper::header::HOST, format!("{}:{}", self.host, self.port))
            .header(
                hyper::header::AUTHORIZATION,
                format!("Bearer {}", self.token),
            )
            .header(hyper::header::ACCEPT, "application/json")
            .header(hyper::header::USER_AGENT, "carbonc");
        let payload = match body {
            Some((content_type, json)) => {
                req = req.header(hyper::header::CONTENT_TYPE, content_type);
                Bytes::from(json.to_string())
            }
            None => Bytes::new(),
        };
        let req = req
            .body(Full::new(payload))
            .map_err(|e| kube_error("InvalidRequest", e.to_string()))?;
        let (status, bytes) = match (&self.tls, self.https) {
            (Some(tls), true) => {
                let name = rustls::pki_types::ServerName::try_from(self.host.clone())
                    .map_err(|e| kube_error("InvalidEndpoint", e.to_string()))?;
                let stream = tls.connect(name, tcp).await.map_err(|e| unreachable(&e))?;
                send(hyper_util::rt::TokioIo::new(stream), req)
                    .await
                    .map_err(|e| unreachable(&e))?
            }
            _ => send(hyper_util::rt::TokioIo::new(tcp), req)
                .await
                .map_err(|e| unreachable(&e))?,
        };
        let json = if bytes.is_empty() {
            Json::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Json::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Ok((status, json))
    }

    /// An answer that is not a success, as an error: the API server's `Status` message, with
    /// 401 and 403 retried (an access entry takes seconds to take effect) and 409/429/5xx too.
    fn refused(&self, what: &str, status: u16, answer: &Json) -> ProviderError {
        let message = answer["message"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| answer.to_string());
        let reason = answer["reason"].as_str().unwrap_or("Unknown").to_string();
        let message = format!(
            "{what} on EKS cluster {}: the API server answered {status} {reason}: {message}",
            self.cluster
        );
        if matches!(status, 401 | 403 | 409 | 429) || status >= 500 {
            ProviderError::Retryable {
                code: reason,
                message,
            }
        } else {
            ProviderError::Permanent {
                code: reason,
                message,
            }
        }
    }
}

async fn send<IO>(
    io: IO,
    req: hyper::Request<Full<Bytes>>,
) -> Result<(u16, Bytes), Box<dyn std::error::Error + Send + Sync>>
where
    IO: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await?;
    let driver = tokio::spawn(conn);
    let resp = sender.send_request(req).await?;
    let status = resp.status().as_u16();
    let body = resp.into_body().collect().await?.to_bytes();
    driver.abort();
    Ok((status, body))
}

/// The cluster's Warning events in a namespace since `since` (the newest last, at most `limit`,
/// one per object and reason): what `kubectl get events` would show about why objects are not
/// ready. Best effort: an unreachable API or a missing namespace gives none.
pub(crate) async fn warnings(
    cfg: &SdkConfig,
    cluster: &str,
    namespace: &str,
    since: std::time::SystemTime,
    limit: usize,
) -> Vec<String> {
    let Ok(Some(k)) = Kube::connect(cfg, cluster).await else {
        return Vec::new();
    };
    let path = format!("/api/v1/namespaces/{namespace}/events");
    let Ok((200, list)) = k.call("GET", &path, None).await else {
        return Vec::new();
    };
    let since = aws_smithy_types::DateTime::from(since);
    // The latest of the event's times: `series.lastObservedTime` for a recurring event of the
    // events.k8s.io API (whose `eventTime` stays at the first occurrence), else `lastTimestamp`.
    let when = |e: &Json| {
        [
            &e["series"]["lastObservedTime"],
            &e["lastTimestamp"],
            &e["eventTime"],
            &e["firstTimestamp"],
        ]
        .into_iter()
        .filter_map(Json::as_str)
        .filter_map(|t| {
            aws_smithy_types::DateTime::from_str(t, aws_smithy_types::date_time::Format::DateTime)
                .ok()
        })
        .max()
    };
    // (when, kind, name, reason, message), the newest last.
    let mut events: Vec<(aws_smithy_types::DateTime, String, String, String, String)> =
        list["items"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter(|e| e["type"] == "Warning")
            .filter_map(|e| {
                let at = when(e)?;
                let text =
                    |v: &Json, default: &str| v.as_str().unwrap_or(default).trim().to_string();
                (at >= since).then(|| {
                    (
                        at,
                        text(&e["involvedObject"]["kind"], "object"),
                        text(&e["involvedObject"]["name"], "?"),
                        text(&e["reason"], "Warning"),
                        text(&e["message"], ""),
                    )
                })
            })
            .collect();
    events.sort_by_key(|a| a.0);
    // One line per kind, reason and message (five claims failing alike are one line), with the
    // objects it was about.
    let mut lines: Vec<((String, String, String), Vec<String>)> = Vec::new();
    for (_, kind, name, reason, message) in events.into_iter().rev() {
        let key = (kind, reason, message);
        match lines.iter_mut().find(|(k, _)| *k == key) {
            Some((_, names)) if !names.contains(&name) => names.push(name),
            Some(_) => {}
            None => lines.push((key, vec![name])),
        }
    }
    let mut out: Vec<String> = lines
        .into_iter()
        .take(limit)
        .map(|((kind, reason, message), mut names)| {
            names.sort();
            let objects = match names.len() {
                1 => format!("{kind} {}", names[0]),
                n => format!("{kind} {} and {} more", names[0], n - 1),
            };
            format!("{objects}: {reason}: {message}")
        })
        .collect();
    out.reverse();
    out
}

fn policy_path(namespace: &str, name: &str) -> String {
    format!("/apis/networking.k8s.io/v1/namespaces/{namespace}/networkpolicies/{name}")
}

/// The policy's carbon fields as JSON, for `carbonc_k8s`.
fn policy_fields(attrs: &BTreeMap<String, Val>) -> Json {
    let mut f = serde_json::Map::new();
    for k in carbonc_k8s::POLICY_FIELDS {
        if let Some(v) = attrs.get(k) {
            f.insert(k.into(), v.to_json());
        }
    }
    Json::Object(f)
}

/// Creates the namespace when it is missing (a policy's namespace may not exist before the
/// release that runs there).
async fn ensure_namespace(k: &Kube, namespace: &str) -> Result<(), ProviderError> {
    let (status, answer) = k
        .call("GET", &format!("/api/v1/namespaces/{namespace}"), None)
        .await?;
    match status {
        200 => return Ok(()),
        404 => {}
        _ => return Err(k.refused(&format!("reading namespace {namespace}"), status, &answer)),
    }
    let ns = json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": { "name": namespace },
    });
    let (status, answer) = k
        .call(
            "POST",
            "/api/v1/namespaces",
            Some(("application/json", &ns)),
        )
        .await?;
    match status {
        200 | 201 | 409 => Ok(()),
        _ => Err(k.refused(&format!("creating namespace {namespace}"), status, &answer)),
    }
}

async fn apply_policy(cfg: &SdkConfig, r: &Resolved) -> Result<String, ProviderError> {
    let cluster = ref_id(r, "cluster")?;
    let namespace = required(&r.attrs, "namespace")?;
    let name = required(&r.attrs, "name")?;
    let manifest = carbonc_k8s::network_policy(&policy_fields(&r.attrs))
        .map_err(|e| kube_error("InvalidConfiguration", format!("`{}`: {e}", r.address)))?;
    let k = Kube::connect(cfg, &cluster).await?.ok_or_else(|| {
        kube_error(
            "ClusterNotFound",
            format!("EKS cluster {cluster} does not exist"),
        )
    })?;
    carbonc_apply::waiting(format!(
        "applying network policy {namespace}/{name} to EKS cluster {cluster}"
    ));
    ensure_namespace(&k, &namespace).await?;
    let path = format!(
        "{}?fieldManager=carbonc&force=true",
        policy_path(&namespace, &name)
    );
    let (status, answer) = k
        .call(
            "PATCH",
            &path,
            Some(("application/apply-patch+yaml", &manifest)),
        )
        .await?;
    if !(200..300).contains(&status) {
        return Err(k.refused(
            &format!("applying network policy {namespace}/{name}"),
            status,
            &answer,
        ));
    }
    Ok(format!("{cluster}/{namespace}/{name}"))
}

pub async fn create_policy(cfg: &SdkConfig, req: &CreateRequest) -> Result<Found, ProviderError> {
    let id = apply_policy(cfg, &req.resource).await?;
    Ok(Found {
        id,
        attrs: req.resource.attrs.clone(),
    })
}

pub async fn update_policy(cfg: &SdkConfig, req: &UpdateRequest) -> Result<Found, ProviderError> {
    apply_policy(cfg, &req.resource).await?;
    Ok(Found {
        id: req.id.clone(),
        attrs: after_update(&req.resource.attrs, &req.before),
    })
}

pub async fn read_policy(
    cfg: &SdkConfig,
    req: &ReadRequest,
) -> Result<Option<Found>, ProviderError> {
    let (cluster, namespace, name) = split_id(&req.id)?;
    let Some(k) = Kube::connect(cfg, cluster).await? else {
        return Ok(None);
    };
    let (status, answer) = k.call("GET", &policy_path(namespace, name), None).await?;
    match status {
        200 => {}
        404 => return Ok(None),
        _ => {
            return Err(k.refused(
                &format!("reading network policy {namespace}/{name}"),
                status,
                &answer,
            ));
        }
    }
    let live = carbonc_k8s::fields(&answer);
    let mut attrs = req.attrs.clone();
    for key in ["labels", "pod_selector", "ingress", "egress"] {
        match &live[key] {
            Json::Null => {
                // Unset and absent are the same; a set direction that is gone is drift.
                if attrs.get(key).is_some_and(|v| *v != Val::Null) {
                    attrs.insert(key.into(), Val::Null);
                }
            }
            v => {
                let v = Val::from_json(v).map_err(|e| kube_error("InvalidObject", e))?;
                attrs.insert(key.into(), v);
            }
        }
    }
    Ok(Some(Found {
        id: req.id.clone(),
        attrs,
    }))
}

pub async fn delete_policy(cfg: &SdkConfig, req: &DeleteRequest) -> Result<(), ProviderError> {
    let (cluster, namespace, name) = split_id(&req.id)?;
    let Some(k) = Kube::connect(cfg, cluster).await? else {
        return Ok(());
    };
    carbonc_apply::waiting(format!(
        "deleting network policy {namespace}/{name} from EKS cluster {cluster}"
    ));
    let (status, answer) = k
        .call("DELETE", &policy_path(namespace, name), None)
        .await?;
    match status {
        200 | 202 | 404 => Ok(()),
        _ => Err(k.refused(
            &format!("deleting network policy {namespace}/{name}"),
            status,
            &answer,
        )),
    }
}
