//! State in S3, for teams: one object per footprint, written with conditional requests, beside a
//! lock object; and KMS data keys for client-side encryption ([`KmsDataKeys`]).
//!
//! - Reads remember the object's ETag. A write sends `If-Match: <that ETag>` (or `If-None-Match: *`
//!   when there was no object), so a write based on a state someone else has since replaced is
//!   refused by S3 (412) instead of overwriting their work.
//! - The lock is the object `<key>.lock`, created with `If-None-Match: *` (or, with `lock =
//!   "dynamodb"`, an item of a DynamoDB table put with `attribute_not_exists(LockID)`): exactly one
//!   of several racing processes creates it. It holds who took it, when and for what; the guard deletes it on
//!   drop (after checking it is still ours), and the CLI releases it on a second Ctrl-C too.
//! - The key of secret hashes is the object `<key>.hashkey`, created once (also conditionally), so
//!   everyone sharing the state computes the same hashes.
//!
//! The backend is synchronous (the CLI and the executor's state sink call it from sync code, the
//! latter from inside a tokio runtime): every call runs on this backend's own runtime, from a scoped
//! thread.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region};
use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use carbonc_state::{
    Codec, DataKeys, LockError, LockGuard, LockInfo, SecretKey, State, StateBackend, StateError,
    format,
};
use tokio::runtime::Runtime;

use crate::error::classify;
use carbonc_apply::ProviderError;

/// Runs `f` to completion on `rt`, from any thread (also one inside another runtime).
fn block_on<F>(rt: &Runtime, f: F) -> F::Output
where
    F: std::future::Future + Send,
    F::Output: Send,
{
    std::thread::scope(|s| {
        s.spawn(|| rt.block_on(f))
            .join()
            .expect("an S3 call does not panic")
    })
}

fn runtime() -> Result<Arc<Runtime>, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map(Arc::new)
        .map_err(|e| format!("cannot start the S3 client's runtime: {e}"))
}

async fn sdk_config(region: &str) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .load()
        .await
}

/// What an S3 call answered, as far as state cares.
enum Answer<T> {
    Ok(T),
    /// 404: no such object.
    Missing,
    /// 412: the condition (`If-Match`, `If-None-Match`) did not hold.
    Precondition,
    Failed(ProviderError),
}

fn answer<T, E>(
    r: Result<
        T,
        aws_sdk_s3::error::SdkError<E, aws_smithy_runtime_api::client::orchestrator::HttpResponse>,
    >,
) -> Answer<T>
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    match r {
        Ok(v) => Answer::Ok(v),
        Err(e) => {
            let status = e.raw_response().map(|r| r.status().as_u16());
            match status {
                Some(404) => Answer::Missing,
                Some(412) => Answer::Precondition,
                _ => Answer::Failed(classify(e)),
            }
        }
    }
}

#[derive(Clone)]
struct Objects {
    client: Client,
    rt: Arc<Runtime>,
    bucket: String,
}

impl Objects {
    /// The object's bytes and ETag.
    fn get(&self, key: &str) -> Answer<(Vec<u8>, Option<String>)> {
        block_on(&self.rt, async {
            let out = match answer(
                self.client
                    .get_object()
                    .bucket(&self.bucket)
                    .key(key)
                    .send()
                    .await,
            ) {
                Answer::Ok(o) => o,
                Answer::Missing => return Answer::Missing,
                Answer::Precondition => return Answer::Precondition,
                Answer::Failed(e) => return Answer::Failed(e),
            };
            let etag = out.e_tag().map(str::to_string);
            match out.body.collect().await {
                Ok(b) => Answer::Ok((b.into_bytes().to_vec(), etag)),
                Err(e) => Answer::Failed(ProviderError::Retryable {
                    code: "ReadError".into(),
                    message: format!("reading s3://{}/{key}: {e}", self.bucket),
                }),
            }
        })
    }

    /// Writes the object if `if_match` (an ETag) still holds, or, with `None`, if there is none;
    /// returns the new ETag.
    fn put(&self, key: &str, bytes: Vec<u8>, if_match: Option<&str>) -> Answer<Option<String>> {
        self.put_when(key, bytes, Some(if_match))
    }

    /// Writes the object: with `Some(condition)` as [`Objects::put`], with `None` unconditionally.
    fn put_when(
        &self,
        key: &str,
        bytes: Vec<u8>,
        condition: Option<Option<&str>>,
    ) -> Answer<Option<String>> {
        block_on(&self.rt, async {
            let mut call = self
                .client
                .put_object()
                .bucket(&self.bucket)
                .key(key)
                .content_type("application/json")
                .body(ByteStream::from(bytes));
            call = match condition {
                Some(Some(etag)) => call.if_match(etag),
                Some(None) => call.if_none_match("*"),
                None => call,
            };
            match answer(call.send().await) {
                Answer::Ok(o) => Answer::Ok(o.e_tag().map(str::to_string)),
                Answer::Missing => Answer::Missing,
                Answer::Precondition => Answer::Precondition,
                Answer::Failed(e) => Answer::Failed(e),
            }
        })
    }

    fn delete(&self, key: &str) -> Result<(), ProviderError> {
        block_on(&self.rt, async {
            match answer(
                self.client
                    .delete_object()
                    .bucket(&self.bucket)
                    .key(key)
                    .send()
                    .await,
            ) {
                Answer::Ok(_) | Answer::Missing => Ok(()),
                Answer::Precondition => Err(ProviderError::Permanent {
                    code: "PreconditionFailed".into(),
                    message: format!("s3://{}/{key} changed", self.bucket),
                }),
                Answer::Failed(e) => Err(e),
            }
        })
    }
}

/// Where the lock lives: an S3 object beside the state (the default), or an item of a DynamoDB
/// table (`lock = "dynamodb"`), keyed `LockID` = `bucket/key` as Terraform's S3 backend does.
#[derive(Clone)]
enum LockStore {
    Object {
        objects: Objects,
        key: String,
    },
    Table {
        client: aws_sdk_dynamodb::Client,
        rt: Arc<Runtime>,
        table: String,
        lock_id: String,
    },
}

impl LockStore {
    fn location(&self) -> String {
        match self {
            LockStore::Object { objects, key } => format!("s3://{}/{key}", objects.bucket),
            LockStore::Table { table, lock_id, .. } => format!("dynamodb://{table}/{lock_id}"),
        }
    }

    /// Creates the lock if there is none: `Precondition` when someone holds it.
    fn try_create(&self, info: &LockInfo) -> Answer<()> {
        let body = serde_json::to_string_pretty(info).expect("lock info serialises");
        match self {
            LockStore::Object { objects, key } => match objects.put(key, body.into_bytes(), None) {
                Answer::Ok(_) => Answer::Ok(()),
                Answer::Missing => Answer::Missing,
                Answer::Precondition => Answer::Precondition,
                Answer::Failed(e) => Answer::Failed(e),
            },
            LockStore::Table {
                client,
                rt,
                table,
                lock_id,
            } => {
                use aws_sdk_dynamodb::types::AttributeValue;
                let r = block_on(rt, async {
                    client
                        .put_item()
                        .table_name(table)
                        .item("LockID", AttributeValue::S(lock_id.clone()))
                        .item("Info", AttributeValue::S(body))
                        .condition_expression("attribute_not_exists(LockID)")
                        .send()
                        .await
                });
                match r {
                    Ok(_) => Answer::Ok(()),
                    Err(e)
                        if e.as_service_error()
                            .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
                    {
                        Answer::Precondition
                    }
                    Err(e)
                        if e.as_service_error()
                            .is_some_and(|s| s.is_resource_not_found_exception()) =>
                    {
                        Answer::Missing
                    }
                    Err(e) => Answer::Failed(classify(e)),
                }
            }
        }
    }

    /// The lock as it is now, if any.
    fn current(&self) -> Result<Option<LockInfo>, ProviderError> {
        match self {
            LockStore::Object { objects, key } => match objects.get(key) {
                Answer::Ok((bytes, _)) => Ok(serde_json::from_slice(&bytes).ok()),
                Answer::Missing | Answer::Precondition => Ok(None),
                Answer::Failed(e) => Err(e),
            },
            LockStore::Table {
                client,
                rt,
                table,
                lock_id,
            } => {
                let out = block_on(rt, async {
                    client
                        .get_item()
                        .table_name(table)
                        .key(
                            "LockID",
                            aws_sdk_dynamodb::types::AttributeValue::S(lock_id.clone()),
                        )
                        .consistent_read(true)
                        .send()
                        .await
                })
                .map_err(classify)?;
                Ok(out
                    .item()
                    .and_then(|i| i.get("Info"))
                    .and_then(|v| v.as_s().ok())
                    .and_then(|s| serde_json::from_str(s).ok()))
            }
        }
    }

    /// Removes the lock if it is still the one with `id`; whether it did.
    fn remove_if(&self, id: &str) -> Result<bool, ProviderError> {
        let Some(info) = self.current()? else {
            return Ok(false);
        };
        if info.id != id {
            return Ok(false);
        }
        match self {
            LockStore::Object { objects, key } => objects.delete(key).map(|_| true),
            LockStore::Table {
                client,
                rt,
                table,
                lock_id,
            } => {
                use aws_sdk_dynamodb::types::AttributeValue;
                let body = serde_json::to_string_pretty(&info).expect("lock info serialises");
                block_on(rt, async {
                    client
                        .delete_item()
                        .table_name(table)
                        .key("LockID", AttributeValue::S(lock_id.clone()))
                        // Only that lock, should it have been replaced meanwhile.
                        .condition_expression("Info = :info")
                        .expression_attribute_values(":info", AttributeValue::S(body))
                        .send()
                        .await
                })
                .map(|_| true)
                .map_err(classify)
            }
        }
    }
}

/// The S3 backend: `s3://bucket/key`.
pub struct S3Backend {
    objects: Objects,
    locks: LockStore,
    key: String,
    codec: Codec,
    /// The state object's ETag as this process last read or wrote it; `None`: there was none.
    etag: Mutex<Option<String>>,
}

impl S3Backend {
    /// Connects with the standard credential chain; endpoints follow `AWS_ENDPOINT_URL_S3` or
    /// `AWS_ENDPOINT_URL` (path-style addressing then, as emulators want).
    /// `lock_table`: lock in that DynamoDB table (in `region`) instead of an S3 object.
    pub fn new(
        bucket: &str,
        key: &str,
        region: &str,
        codec: Codec,
        lock_table: Option<&str>,
    ) -> Result<S3Backend, String> {
        let rt = runtime()?;
        let config = block_on(&rt, sdk_config(region));
        let client = crate::s3::client(&config);
        let objects = Objects {
            client,
            rt: rt.clone(),
            bucket: bucket.to_string(),
        };
        let locks = match lock_table {
            Some(table) => LockStore::Table {
                client: aws_sdk_dynamodb::Client::new(&config),
                rt,
                table: table.to_string(),
                lock_id: format!("{bucket}/{key}"),
            },
            None => LockStore::Object {
                objects: objects.clone(),
                key: format!("{key}.lock"),
            },
        };
        Ok(S3Backend {
            objects,
            locks,
            key: key.to_string(),
            codec,
            etag: Mutex::new(None),
        })
    }

    fn path(&self) -> PathBuf {
        PathBuf::from(self.location())
    }

    fn remote_error(&self, e: ProviderError) -> StateError {
        StateError::Remote {
            path: self.path(),
            message: e.to_string(),
        }
    }

    fn decode(&self, bytes: &[u8]) -> Result<String, StateError> {
        let plain = self
            .codec
            .decode(bytes)
            .map_err(|error| StateError::Crypt {
                path: self.path(),
                error,
            })?;
        String::from_utf8(plain).map_err(|_| StateError::Parse {
            path: self.path(),
            line: 1,
            column: 1,
            message: "not UTF-8".into(),
        })
    }

    fn lock_error(&self, e: ProviderError) -> LockError {
        LockError::Io {
            path: PathBuf::from(self.locks.location()),
            error: std::io::Error::other(e.to_string()),
        }
    }
}

impl S3Backend {
    /// Writes the key of secret hashes (encrypted like the state) under `condition` (see
    /// [`Objects::put_when`]).
    fn put_hash_key(
        &self,
        key: &SecretKey,
        condition: Option<Option<&str>>,
    ) -> Result<Answer<Option<String>>, StateError> {
        let bytes = self
            .codec
            .encode(format!("{}\n", key.to_hex()).as_bytes())
            .map_err(|error| StateError::Crypt {
                path: self.path(),
                error,
            })?;
        Ok(self
            .objects
            .put_when(&format!("{}.hashkey", self.key), bytes, condition))
    }

    fn no_bucket(&self) -> StateError {
        StateError::Remote {
            path: self.path(),
            message: "the bucket does not exist".into(),
        }
    }
}

impl StateBackend for S3Backend {
    fn location(&self) -> String {
        format!("s3://{}/{}", self.objects.bucket, self.key)
    }

    fn read(&self) -> Result<Option<State>, StateError> {
        match self.read_raw()? {
            Some(bytes) => format::parse(&self.path(), &self.decode(&bytes)?).map(Some),
            None => Ok(None),
        }
    }

    fn read_raw(&self) -> Result<Option<Vec<u8>>, StateError> {
        match self.objects.get(&self.key) {
            Answer::Ok((bytes, etag)) => {
                *self.etag.lock().expect("etag lock") = etag;
                Ok(Some(bytes))
            }
            Answer::Missing => {
                *self.etag.lock().expect("etag lock") = None;
                Ok(None)
            }
            Answer::Precondition => Ok(None),
            Answer::Failed(e) => Err(self.remote_error(e)),
        }
    }

    fn write(&self, state: &State) -> Result<(), StateError> {
        let bytes = self
            .codec
            .encode(format::to_text(state).as_bytes())
            .map_err(|error| StateError::Crypt {
                path: self.path(),
                error,
            })?;
        let mut etag = self.etag.lock().expect("etag lock");
        match self.objects.put(&self.key, bytes, etag.as_deref()) {
            Answer::Ok(new) => {
                *etag = new;
                Ok(())
            }
            Answer::Precondition => Err(StateError::Conflict {
                path: self.path(),
                message: match etag.as_deref() {
                    Some(e) => format!(
                        "the state object changed since this carbonc read it (ETag {e} no longer matches): someone else \
                         wrote it. Nothing was written; run the command again to work from their state"
                    ),
                    None => "a state object appeared since this carbonc looked (someone else created it). Nothing \
                             was written; run the command again to work from their state"
                        .into(),
                },
            }),
            Answer::Missing => Err(self.no_bucket()),
            Answer::Failed(e) => Err(self.remote_error(e)),
        }
    }

    fn lock(&self, operation: &str, timeout: Duration) -> Result<LockGuard, LockError> {
        let info = carbonc_state::new_info(operation);
        let start = Instant::now();
        let mut delay = Duration::from_millis(200);
        loop {
            match self.locks.try_create(&info) {
                Answer::Ok(()) => break,
                Answer::Precondition => {
                    if start.elapsed() >= timeout {
                        return Err(LockError::Held {
                            path: PathBuf::from(self.locks.location()),
                            info: self
                                .locks
                                .current()
                                .map_err(|e| self.lock_error(e))?
                                .map(Box::new),
                            waited: start.elapsed(),
                        });
                    }
                    std::thread::sleep(delay.min(timeout.saturating_sub(start.elapsed())));
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
                Answer::Missing => {
                    return Err(self.lock_error(ProviderError::Permanent {
                        code: "NotFound".into(),
                        message: format!(
                            "{} does not exist (the bucket, or the DynamoDB lock table)",
                            self.locks.location()
                        ),
                    }));
                }
                Answer::Failed(e) => return Err(self.lock_error(e)),
            }
        }
        let locks = self.locks.clone();
        let id = info.id.clone();
        // Only our own lock: it may have been force-unlocked and taken by someone else.
        let release = move || {
            let _ = locks.remove_if(&id);
        };
        Ok(LockGuard::remote(
            self.locks.location(),
            info,
            Box::new(release),
        ))
    }

    fn force_unlock(&self, id: &str) -> Result<LockInfo, LockError> {
        let path = PathBuf::from(self.locks.location());
        match self.locks.current().map_err(|e| self.lock_error(e))? {
            None => Err(LockError::NotLocked { path }),
            Some(i) if i.id == id => {
                self.locks.remove_if(id).map_err(|e| self.lock_error(e))?;
                Ok(i)
            }
            other => Err(LockError::WrongId {
                path,
                wanted: id.to_string(),
                info: other.map(Box::new),
            }),
        }
    }

    fn existing_secret_key(&self) -> Result<Option<SecretKey>, StateError> {
        match self.objects.get(&format!("{}.hashkey", self.key)) {
            Answer::Ok((bytes, _)) => {
                let text = self.decode(&bytes)?;
                SecretKey::from_hex(&text)
                    .map(Some)
                    .ok_or_else(|| StateError::Invalid {
                        path: PathBuf::from(format!("{}.hashkey", self.location())),
                        message: "the key of secret hashes does not hold 64 hex digits; restore an earlier version \
                                  of the object"
                            .into(),
                    })
            }
            Answer::Missing | Answer::Precondition => Ok(None),
            Answer::Failed(e) => Err(self.remote_error(e)),
        }
    }

    fn secret_key(&self) -> Result<SecretKey, StateError> {
        if let Some(k) = self.existing_secret_key()? {
            return Ok(k);
        }
        let key = SecretKey::generate();
        match self.put_hash_key(&key, Some(None))? {
            Answer::Ok(_) => Ok(key),
            // Someone else made it first: theirs is the one.
            Answer::Precondition => self
                .existing_secret_key()?
                .ok_or_else(|| StateError::Remote {
                    path: self.path(),
                    message: "the key of secret hashes vanished while it was being created".into(),
                }),
            Answer::Missing => Err(self.no_bucket()),
            Answer::Failed(e) => Err(self.remote_error(e)),
        }
    }

    fn replace_secret_key(&self, key: &SecretKey) -> Result<(), StateError> {
        match self.put_hash_key(key, None)? {
            Answer::Ok(_) => Ok(()),
            Answer::Missing | Answer::Precondition => Err(self.no_bucket()),
            Answer::Failed(e) => Err(self.remote_error(e)),
        }
    }

    fn import_secret_key(&self, key: &SecretKey) -> Result<(), StateError> {
        let conflict = || StateError::Conflict {
            path: PathBuf::from(format!("{}.hashkey", self.location())),
            message: "a different key of secret hashes is already here; nothing was written".into(),
        };
        match self.existing_secret_key()? {
            Some(k) if k.to_hex() == key.to_hex() => return Ok(()),
            Some(_) => return Err(conflict()),
            None => {}
        }
        match self.put_hash_key(key, Some(None))? {
            Answer::Ok(_) => Ok(()),
            Answer::Precondition => Err(conflict()),
            Answer::Missing => Err(self.no_bucket()),
            Answer::Failed(e) => Err(self.remote_error(e)),
        }
    }

    fn codec(&self) -> &Codec {
        &self.codec
    }

    fn warnings(&self) -> Vec<String> {
        let out = block_on(&self.objects.rt, async {
            self.objects
                .client
                .get_bucket_versioning()
                .bucket(&self.objects.bucket)
                .send()
                .await
        });
        match out {
            Ok(v) if v.status().map(|s| s.as_str()) == Some("Enabled") => Vec::new(),
            Ok(_) => vec![format!(
                "the S3 bucket `{}` has versioning off: an overwritten or damaged state cannot be recovered from an \
                 earlier version. Turn it on: aws s3api put-bucket-versioning --bucket {} --versioning-configuration Status=Enabled",
                self.objects.bucket, self.objects.bucket
            )],
            Err(e) => vec![format!(
                "cannot check the versioning of the S3 bucket `{}`: {}",
                self.objects.bucket,
                classify(e)
            )],
        }
    }
}

/// Data keys from AWS KMS (`GenerateDataKey` with AES_256, `Decrypt`).
pub struct KmsDataKeys {
    client: aws_sdk_kms::Client,
    rt: Arc<Runtime>,
    key_id: String,
}

impl KmsDataKeys {
    pub fn new(key_id: &str, region: &str) -> Result<KmsDataKeys, String> {
        let rt = runtime()?;
        let config = block_on(&rt, sdk_config(region));
        Ok(KmsDataKeys {
            client: aws_sdk_kms::Client::new(&config),
            rt,
            key_id: key_id.to_string(),
        })
    }
}

impl DataKeys for KmsDataKeys {
    fn key_id(&self) -> String {
        self.key_id.clone()
    }

    fn generate(&self) -> Result<(Vec<u8>, Vec<u8>, String), String> {
        let out = block_on(&self.rt, async {
            self.client
                .generate_data_key()
                .key_id(&self.key_id)
                .key_spec(aws_sdk_kms::types::DataKeySpec::Aes256)
                .send()
                .await
        })
        .map_err(|e| format!("KMS GenerateDataKey with {}: {}", self.key_id, classify(e)))?;
        let plain = out
            .plaintext()
            .map(|b| b.as_ref().to_vec())
            .unwrap_or_default();
        let wrapped = out
            .ciphertext_blob()
            .map(|b| b.as_ref().to_vec())
            .unwrap_or_default();
        let arn = out.key_id().unwrap_or(&self.key_id).to_string();
        Ok((plain, wrapped, arn))
    }

    fn decrypt(&self, wrapped: &[u8], key_id: &str) -> Result<Vec<u8>, String> {
        let out = block_on(&self.rt, async {
            self.client
                .decrypt()
                .key_id(key_id)
                .ciphertext_blob(aws_smithy_types::Blob::new(wrapped.to_vec()))
                .send()
                .await
        })
        .map_err(|e| classify(e).to_string())?;
        Ok(out
            .plaintext()
            .map(|b| b.as_ref().to_vec())
            .unwrap_or_default())
    }
}
