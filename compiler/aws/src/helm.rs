//! Helm releases on a region's EKS cluster (`k8s.HelmRelease`), installed with the user's `helm`.
//!
//! Each call reaches the cluster the way `aws eks update-kubeconfig` does: DescribeCluster gives
//! the API server's endpoint and certificate authority, and the bearer token is the one
//! `aws eks get-token` makes (`eks_token`). A private kubeconfig with both is written for the call
//! and removed after it, so the user's own `~/.kube/config` is never read or changed.
//!
//! - create and update: `helm upgrade --install --atomic --wait` (a failed install or upgrade is
//!   rolled back by Helm, and the error names the release);
//! - read: `helm status` (a release that is gone, or whose cluster is gone, is gone);
//! - delete: `helm uninstall --wait`.
//!
//! The id is `CLUSTER/NAMESPACE/NAME` (none of the three may contain `/`). `upgrade --install` is
//! idempotent by name, so a create that a crash interrupted is finished by the next apply's
//! create: no search (`find`) is needed.
//!
//! The binary is `$CARBONC_HELM`, else `helm` on `PATH`; `carbonc apply` checks that it runs
//! before it changes anything (`helm_version`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use aws_config::SdkConfig;
use aws_credential_types::provider::ProvideCredentials;
use aws_sdk_eks::types::ClusterStatus;
use aws_sigv4::http_request::{
    SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use carbonc_apply::{
    CreateRequest, DeleteRequest, Found, ProviderError, ReadRequest, Resolved, UpdateRequest,
};
use carbonc_state::Val;

use crate::attrs::{after_update, ref_id, required, s};
use crate::error::{classify, is_not_found};

/// The longest a release's `timeout` may be, in seconds: an EKS token is valid for 15 minutes
/// (aws-iam-authenticator, `pkg/token/token.go`: `presignedURLExpiration`), so Helm's wait must end
/// before the token does.
const MAX_TIMEOUT: i64 = 840;

/// How long an uninstall may wait for the release's objects to go.
const UNINSTALL_TIMEOUT: &str = "600s";

/// The header that binds an EKS token to one cluster (aws-iam-authenticator: `clusterIDHeader`).
const CLUSTER_ID_HEADER: &str = "x-k8s-aws-id";

/// The helm binary: `$CARBONC_HELM`, else `helm` on `PATH`.
pub fn helm_binary() -> String {
    std::env::var("CARBONC_HELM")
        .ok()
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| "helm".to_string())
}

/// `helm version --short`, or why helm cannot be run: checked once before any change.
pub fn helm_version() -> Result<String, String> {
    let bin = helm_binary();
    let out = std::process::Command::new(&bin)
        .args(["version", "--short"])
        .output()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => format!("`{bin}` was not found"),
            _ => format!("`{bin}` cannot be run: {e}"),
        })?;
    if !out.status.success() {
        return Err(format!(
            "`{bin} version --short` failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

pub(crate) fn split_id(id: &str) -> Result<(&str, &str, &str), ProviderError> {
    let mut parts = id.splitn(3, '/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(c), Some(ns), Some(n)) if !c.is_empty() && !ns.is_empty() && !n.is_empty() => {
            Ok((c, ns, n))
        }
        _ => Err(ProviderError::Permanent {
            code: "InvalidId".into(),
            message: format!("`{id}` is not a Helm release id (CLUSTER/NAMESPACE/NAME)"),
        }),
    }
}

/// The EKS token for `cluster`, as `aws eks get-token` makes it: `k8s-aws-v1.` and the base64url
/// (unpadded) of an STS `GetCallerIdentity` URL presigned for 60 seconds with the
/// `x-k8s-aws-id: CLUSTER` header signed in (aws-iam-authenticator, `pkg/token/token.go`,
/// `GetWithSTS`). The API server's authenticator calls that URL to learn who is calling.
pub async fn eks_token(cfg: &SdkConfig, cluster: &str) -> Result<String, ProviderError> {
    let region = cfg
        .region()
        .map(|r| r.to_string())
        .unwrap_or_else(|| crate::GLOBAL_REGION.to_string());
    let provider = cfg
        .credentials_provider()
        .ok_or_else(|| ProviderError::Permanent {
            code: "NoCredentials".into(),
            message: "no AWS credentials to make an EKS token with".into(),
        })?;
    let creds = provider
        .provide_credentials()
        .await
        .map_err(|e| ProviderError::Permanent {
            code: "NoCredentials".into(),
            message: format!("no AWS credentials to make an EKS token with: {e}"),
        })?;
    let identity = creds.into();
    let base = match cfg.endpoint_url() {
        Some(url) => url.trim_end_matches('/').to_string(),
        None if region.starts_with("cn-") => format!("https://sts.{region}.amazonaws.com.cn"),
        None => format!("https://sts.{region}.amazonaws.com"),
    };
    let url = format!("{base}/?Action=GetCallerIdentity&Version=2011-06-15");
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(Duration::from_secs(60));
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(&region)
        .name("sts")
        .time(SystemTime::now())
        .settings(settings)
        .build()
        .map_err(|e| token_error(&e))?
        .into();
    let request = SignableRequest::new(
        "GET",
        url.as_str(),
        std::iter::once((CLUSTER_ID_HEADER, cluster)),
        SignableBody::Bytes(&[]),
    )
    .map_err(|e| token_error(&e))?;
    let (instructions, _) = sign(request, &params)
        .map_err(|e| token_error(&e))?
        .into_parts();
    let (_, query) = instructions.into_parts();
    let mut presigned = url;
    for (k, v) in query {
        presigned.push('&');
        presigned.push_str(k);
        presigned.push('=');
        presigned.push_str(&encode_query(&v));
    }
    Ok(format!("k8s-aws-v1.{}", base64url(presigned.as_bytes())))
}

fn token_error(e: &dyn std::fmt::Display) -> ProviderError {
    ProviderError::Permanent {
        code: "EksToken".into(),
        message: format!("cannot sign an EKS token: {e}"),
    }
}

/// Percent-encodes a query value as SigV4 does (RFC 3986 unreserved characters kept).
fn encode_query(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Base64 with the URL alphabet and no padding (RFC 4648 section 5).
fn base64url(bytes: &[u8]) -> String {
    aws_smithy_types::base64::encode(bytes)
        .trim_end_matches('=')
        .replace('+', "-")
        .replace('/', "_")
}

/// A cluster's API server: its endpoint and certificate authority (base64 PEM).
pub(crate) struct ApiServer {
    pub(crate) endpoint: String,
    pub(crate) ca: Option<String>,
}

/// The cluster's API server, `None` when the cluster does not exist (or is being deleted).
pub(crate) async fn api_server(
    cfg: &SdkConfig,
    cluster: &str,
) -> Result<Option<ApiServer>, ProviderError> {
    let c = aws_sdk_eks::Client::new(cfg);
    let out = match c
        .describe_cluster()
        .name(cluster)
        .send()
        .await
        .map_err(classify)
    {
        Ok(o) => o,
        Err(e) if is_not_found(&e) => return Ok(None),
        Err(e) => return Err(e),
    };
    let Some(cl) = out.cluster() else {
        return Ok(None);
    };
    if cl.status() == Some(&ClusterStatus::Deleting) {
        return Ok(None);
    }
    let endpoint =
        cl.endpoint()
            .filter(|e| !e.is_empty())
            .ok_or_else(|| ProviderError::Permanent {
                code: "ClusterNotReady".into(),
                message: format!(
                    "EKS cluster {cluster} has no API server endpoint yet (status {})",
                    cl.status().map_or("unknown", |s| s.as_str())
                ),
            })?;
    Ok(Some(ApiServer {
        endpoint: endpoint.to_string(),
        ca: cl
            .certificate_authority()
            .and_then(|a| a.data())
            .map(str::to_string),
    }))
}

/// A private directory for one helm call (its kubeconfig and values), removed when dropped.
pub(crate) struct Scratch(pub(crate) PathBuf);

impl Scratch {
    pub(crate) fn new() -> Result<Scratch, ProviderError> {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("carbonc-helm-{}-{n}", std::process::id()));
        let made = {
            let mut b = std::fs::DirBuilder::new();
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
            b.create(&dir)
        };
        made.map_err(|e| local_error(&dir, &e))?;
        Ok(Scratch(dir))
    }

    pub(crate) fn write(&self, name: &str, text: &str) -> Result<PathBuf, ProviderError> {
        let path = self.0.join(name);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| local_error(dir, &e))?;
        }
        std::fs::write(&path, text).map_err(|e| local_error(&path, &e))?;
        Ok(path)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn local_error(path: &Path, e: &std::io::Error) -> ProviderError {
    ProviderError::Permanent {
        code: "LocalFile".into(),
        message: format!("cannot write {}: {e}", path.display()),
    }
}

/// A kubeconfig for one cluster with a bearer token (JSON, which every kubeconfig reader takes).
fn kubeconfig(cluster: &str, server: &ApiServer, token: &str) -> String {
    let mut c = serde_json::json!({ "server": server.endpoint });
    if let Some(ca) = &server.ca {
        c["certificate-authority-data"] = ca.clone().into();
    }
    serde_json::json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{ "name": cluster, "cluster": c }],
        "users": [{ "name": "carbonc", "user": { "token": token } }],
        "contexts": [{ "name": "carbonc", "context": { "cluster": cluster, "user": "carbonc" } }],
        "current-context": "carbonc",
    })
    .to_string()
}

/// What one helm call needs: the scratch directory and the kubeconfig in it. `None` when the
/// cluster is gone.
async fn connect(
    cfg: &SdkConfig,
    cluster: &str,
) -> Result<Option<(Scratch, PathBuf)>, ProviderError> {
    let Some(server) = api_server(cfg, cluster).await? else {
        return Ok(None);
    };
    let token = eks_token(cfg, cluster).await?;
    let scratch = Scratch::new()?;
    let path = scratch.write("kubeconfig", &kubeconfig(cluster, &server, &token))?;
    Ok(Some((scratch, path)))
}

/// Runs helm; its stdout on success, its error (`Error: ...` on stderr) otherwise.
async fn helm(args: &[&str], what: &str) -> Result<String, ProviderError> {
    let bin = helm_binary();
    let out = tokio::process::Command::new(&bin)
        .args(args)
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| ProviderError::Permanent {
            code: "HelmNotRunnable".into(),
            message: format!("`{bin}` cannot be run: {e}"),
        })?;
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Another helm is still at the release (one whose carbonc was killed runs on): Helm refuses
    // until it ends (`pkg/action`: errPending), so the engine retries.
    if stderr.contains("another operation (install/upgrade/rollback) is in progress") {
        return Err(ProviderError::Retryable {
            code: "HelmReleasePending".into(),
            message: format!("{what}: another helm operation on it is in progress"),
        });
    }
    // The API server does not (yet) let the caller in: an EKS access entry or its policy
    // association takes a few seconds to take effect after it is created (EKS user guide,
    // "Create access entries"), so the engine retries before it reports the refusal.
    if [
        "Unauthorized",
        "asked for the client to provide credentials",
        " is forbidden: User ",
    ]
    .iter()
    .any(|m| stderr.contains(m))
    {
        return Err(ProviderError::Retryable {
            code: "KubernetesAccessDenied".into(),
            message: format!(
                "{what}: the cluster's API server refused the caller (check its EKS access entry and access policy): {}",
                stderr.trim().trim_start_matches("Error: ")
            ),
        });
    }
    let message = stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.strip_prefix("Error: ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n");
    Err(ProviderError::Permanent {
        code: "HelmFailed".into(),
        message: format!("{what}: {}", message.trim()),
    })
}

/// How many of the cluster's warnings a failed wait reports.
const WARNINGS: usize = 6;

/// Whether helm failed because objects were not ready within `--timeout`.
fn not_ready(message: &str) -> bool {
    [
        "not ready",
        "context deadline exceeded",
        "timed out waiting",
    ]
    .iter()
    .any(|m| message.contains(m))
}

/// Whether helm's error says the release does not exist.
fn release_missing(e: &ProviderError) -> bool {
    matches!(e, ProviderError::Permanent { message, .. } if message.contains("release: not found"))
}

/// The revision and status helm reports for a release (`-o json`).
fn release_attrs(
    attrs: &BTreeMap<String, Val>,
    json: &str,
) -> Result<BTreeMap<String, Val>, ProviderError> {
    let r: serde_json::Value =
        serde_json::from_str(json.trim()).map_err(|e| ProviderError::Permanent {
            code: "HelmOutput".into(),
            message: format!("helm printed no release as JSON: {e}"),
        })?;
    let mut out = attrs.clone();
    if let Some(n) = r["version"].as_i64() {
        out.insert("revision".into(), Val::Int(n));
    }
    if let Some(st) = r["info"]["status"].as_str() {
        out.insert("status".into(), Val::Str(st.to_string()));
    }
    Ok(out)
}

/// The chart argument and `--repo`: a repository chart by name, else a local directory (the
/// program's, resolved by the CLI through `AwsProvider::set_local_charts`).
fn chart_args(
    r: &Resolved,
    charts: &BTreeMap<String, PathBuf>,
) -> Result<Vec<String>, ProviderError> {
    let chart = required(&r.attrs, "chart")?;
    if let Some(repo) = s(&r.attrs, "repository") {
        return Ok(vec![chart, "--repo".into(), repo]);
    }
    match charts.get(&r.address) {
        Some(dir) => Ok(vec![dir.display().to_string()]),
        None => Err(ProviderError::Permanent {
            code: "ChartNotFound".into(),
            message: format!(
                "no chart at `{chart}`: a local chart's path is relative to the file that declares the release, and needs a Chart.yaml; or set `repository`"
            ),
        }),
    }
}

/// The chart's own name, as a progress line shows it: the last part of `chart`.
fn chart_name(attrs: &BTreeMap<String, Val>) -> String {
    let chart = s(attrs, "chart").unwrap_or_default();
    chart.rsplit('/').next().unwrap_or(&chart).to_string()
}

/// One `helm upgrade --install`: what to install, where, and how long to wait.
pub(crate) struct Install<'a> {
    pub cluster: String,
    pub namespace: String,
    pub name: String,
    /// The chart argument, and `--repo` with its URL for a repository chart.
    pub chart: Vec<String>,
    /// The chart's name and version, for the progress line.
    pub chart_label: String,
    pub version: String,
    pub values: String,
    /// The resource's attributes: its `timeout`, and what the state records besides the
    /// release's revision and status.
    pub attrs: &'a BTreeMap<String, Val>,
}

/// `helm upgrade --install`: installs the release, or upgrades it to the given chart and values.
pub(crate) async fn upgrade_install(
    cfg: &SdkConfig,
    i: Install<'_>,
    verb: &str,
) -> Result<Found, ProviderError> {
    let Install {
        cluster,
        namespace,
        name,
        chart,
        chart_label,
        version,
        values,
        attrs: a,
    } = i;
    let timeout = crate::attrs::i(a, "timeout").unwrap_or(300);
    if !(1..=MAX_TIMEOUT).contains(&timeout) {
        return Err(ProviderError::Permanent {
            code: "InvalidConfiguration".into(),
            message: format!(
                "`timeout` is {timeout}: it must be 1 to {MAX_TIMEOUT} seconds (an EKS token lives 15 minutes)"
            ),
        });
    }
    let timeout = format!("{timeout}s");
    let (scratch, kube) =
        connect(cfg, &cluster)
            .await?
            .ok_or_else(|| ProviderError::Permanent {
                code: "ClusterNotFound".into(),
                message: format!("EKS cluster {cluster} does not exist"),
            })?;
    let values_file = scratch.write("values.json", &values)?;
    let mut args: Vec<String> = vec!["upgrade".into(), "--install".into(), name.clone()];
    args.extend(chart);
    for a in [
        "--namespace",
        &namespace,
        "--create-namespace",
        "--version",
        &version,
        "--values",
        &values_file.display().to_string(),
        "--atomic",
        "--wait",
        "--timeout",
        &timeout,
        "--kubeconfig",
        &kube.display().to_string(),
        "--output",
        "json",
    ] {
        args.push(a.to_string());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    carbonc_apply::waiting(format!(
        "helm: {verb} of release {namespace}/{name} (chart {chart_label}) on EKS cluster {cluster}, ready within {timeout}"
    ));
    let what = format!("helm could not {verb} release {namespace}/{name} on EKS cluster {cluster}");
    // Events since the call began, with room for the API server's clock being behind ours.
    let started = SystemTime::now() - Duration::from_secs(120);
    let out = match helm(&args, &what).await {
        Ok(out) => out,
        Err(ProviderError::Permanent { code, message }) if not_ready(&message) => {
            // Helm says only which objects were not ready in time; the cluster's warnings say
            // why (a volume that cannot be provisioned, pods that fit no node, an image that
            // cannot be pulled).
            let why = crate::kube::warnings(cfg, &cluster, &namespace, started, WARNINGS).await;
            let message = if why.is_empty() {
                message
            } else {
                format!(
                    "{message}\nthe cluster's warnings in namespace {namespace} (`kubectl get events -n {namespace}`):\n  {}",
                    why.join("\n  ")
                )
            };
            return Err(ProviderError::Permanent { code, message });
        }
        Err(e) => return Err(e),
    };
    Ok(Found {
        id: format!("{cluster}/{namespace}/{name}"),
        attrs: release_attrs(a, &out)?,
    })
}

/// Installs or upgrades a `k8s.HelmRelease`: its chart and values as the program gives them.
async fn install(
    cfg: &SdkConfig,
    r: &Resolved,
    charts: &BTreeMap<String, PathBuf>,
    verb: &str,
) -> Result<Found, ProviderError> {
    let a = &r.attrs;
    let version = required(a, "version")?;
    let install = Install {
        cluster: ref_id(r, "cluster")?,
        namespace: required(a, "namespace")?,
        name: required(a, "name")?,
        chart: chart_args(r, charts)?,
        chart_label: format!("{} {version}", chart_name(a)),
        version,
        values: s(a, "values").unwrap_or_else(|| "{}".to_string()),
        attrs: a,
    };
    upgrade_install(cfg, install, verb).await
}

pub async fn create(
    cfg: &SdkConfig,
    req: &CreateRequest,
    charts: &BTreeMap<String, PathBuf>,
) -> Result<Found, ProviderError> {
    install(cfg, &req.resource, charts, "install").await
}

/// The fields Helm installs; `pod_labels` and `ports` describe the release to carbonc's rules, and
/// `timeout` is how long one call waits: a change to those alone runs nothing.
const HELM_FIELDS: [&str; 4] = ["chart", "repository", "version", "values"];

pub async fn update(
    cfg: &SdkConfig,
    req: &UpdateRequest,
    charts: &BTreeMap<String, PathBuf>,
) -> Result<Found, ProviderError> {
    let a = &req.resource.attrs;
    if HELM_FIELDS.iter().all(|k| a.get(*k) == req.before.get(*k)) {
        return Ok(Found {
            id: req.id.clone(),
            attrs: after_update(a, &req.before),
        });
    }
    let found = install(cfg, &req.resource, charts, "upgrade").await?;
    Ok(Found {
        id: req.id.clone(),
        attrs: after_update(&found.attrs, &req.before),
    })
}

pub async fn read(cfg: &SdkConfig, req: &ReadRequest) -> Result<Option<Found>, ProviderError> {
    let (cluster, namespace, name) = split_id(&req.id)?;
    let Some((_scratch, kube)) = connect(cfg, cluster).await? else {
        return Ok(None);
    };
    let kube = kube.display().to_string();
    let what = format!("helm could not read release {namespace}/{name} on EKS cluster {cluster}");
    let args = [
        "status",
        name,
        "--namespace",
        namespace,
        "--kubeconfig",
        &kube,
        "--output",
        "json",
    ];
    match helm(&args, &what).await {
        Ok(out) => Ok(Some(Found {
            id: req.id.clone(),
            attrs: release_attrs(&req.attrs, &out)?,
        })),
        Err(e) if release_missing(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

pub async fn delete(cfg: &SdkConfig, req: &DeleteRequest) -> Result<(), ProviderError> {
    let (cluster, namespace, name) = split_id(&req.id)?;
    // A deleted cluster took its releases with it.
    let Some((_scratch, kube)) = connect(cfg, cluster).await? else {
        return Ok(());
    };
    let kube = kube.display().to_string();
    let what =
        format!("helm could not uninstall release {namespace}/{name} on EKS cluster {cluster}");
    let args = [
        "uninstall",
        name,
        "--namespace",
        namespace,
        "--wait",
        "--timeout",
        UNINSTALL_TIMEOUT,
        "--kubeconfig",
        &kube,
    ];
    carbonc_apply::waiting(format!(
        "helm: uninstall of release {namespace}/{name} from EKS cluster {cluster}"
    ));
    match helm(&args, &what).await {
        Ok(_) => Ok(()),
        Err(e) if release_missing(&e) => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_has_no_padding_or_url_unsafe_characters() {
        assert_eq!(base64url(b"\xfb\xff"), "-_8");
        assert_eq!(base64url(b"ab"), "YWI");
    }

    #[test]
    fn ids_have_three_parts() {
        assert_eq!(split_id("c/ns/api").unwrap(), ("c", "ns", "api"));
        assert!(split_id("c/ns").is_err());
        assert!(split_id("c//api").is_err());
    }

    #[test]
    fn the_release_json_gives_revision_and_status() {
        let attrs = release_attrs(
            &BTreeMap::new(),
            r#"{"name":"api","version":3,"info":{"status":"deployed"}}"#,
        )
        .unwrap();
        assert_eq!(attrs["revision"], Val::Int(3));
        assert_eq!(attrs["status"], Val::Str("deployed".into()));
        assert!(release_attrs(&BTreeMap::new(), "not json").is_err());
    }
}
