//! Sluice's blob storage: the bytes of objects, each under a unique name that is written once and
//! never changed (`{bucket}/{uuid}`). The local folder under the data directory is the default;
//! S3-compatible storage (behind the `s3` feature) is for scale-out. Both go through one
//! [`object_store::ObjectStore`], so the semantics above this crate are the same on both.
//!
//! **Architecture Invariant:** a blob name never comes from a client: object keys live in the
//! store's metadata, and blob names are made here, so no key can reach a path outside the
//! blob folder whatever it holds.
#![cfg_attr(not(test), forbid(clippy::unwrap_used))]

use std::ops::Range;
use std::path::Path as FsPath;
use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};

#[cfg(feature = "s3")]
mod s3;
#[cfg(feature = "s3")]
pub use s3::S3Options;

/// A failure of blob storage.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The blob does not exist.
    #[error("the blob {name} does not exist")]
    NotFound {
        /// Its name.
        name: String,
    },
    /// A name that this crate did not make.
    #[error("{name:?} is not a blob name")]
    InvalidName {
        /// The name.
        name: String,
    },
    /// The storage is misconfigured.
    #[error("blob storage cannot be opened: {message}")]
    Config {
        /// Why.
        message: String,
    },
    /// The storage failed.
    #[error("blob storage failed: {source}")]
    Storage {
        /// The failure.
        #[source]
        source: object_store::Error,
    },
}

/// A result of blob storage.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Bytes read from a blob, as a stream.
pub type ByteStream = BoxStream<'static, std::result::Result<Bytes, object_store::Error>>;

/// Blob storage. Cheap to clone.
#[derive(Clone)]
pub struct Blobs {
    inner: Arc<dyn ObjectStore>,
    description: String,
    /// The local folder, when the blobs are in one (its staging files need sweeping).
    folder: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for Blobs {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_tuple("Blobs").field(&self.description).finish()
    }
}

/// A blob listed by [`Blobs::list`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// Its name.
    pub name: String,
    /// When it was written.
    pub modified: DateTime<Utc>,
}

impl Blobs {
    /// Blobs in a local folder (created if missing). Writes are fsynced with their folder before
    /// they return, so a blob is on disk before the metadata that names it is committed.
    pub fn local(folder: &FsPath) -> Result<Blobs> {
        std::fs::create_dir_all(folder).map_err(|error| Error::Config {
            message: format!("cannot create {}: {error}", folder.display()),
        })?;
        let store = object_store::local::LocalFileSystem::new_with_prefix(folder)
            .map_err(|source| Error::Storage { source })?
            .with_fsync(true)
            .with_automatic_cleanup(true);
        Ok(Blobs {
            inner: Arc::new(store),
            description: format!("local folder {}", folder.display()),
            folder: Some(folder.to_owned()),
        })
    }

    /// Blobs in memory, for tests.
    pub fn memory() -> Blobs {
        Blobs {
            inner: Arc::new(object_store::memory::InMemory::new()),
            description: "memory".into(),
            folder: None,
        }
    }

    /// Blobs on any [`ObjectStore`].
    pub fn from_store(store: Arc<dyn ObjectStore>, description: impl Into<String>) -> Blobs {
        Blobs {
            inner: store,
            description: description.into(),
            folder: None,
        }
    }

    /// A fresh, unique name for a blob of `bucket` (a valid bucket name).
    pub fn new_name(bucket: &str) -> String {
        format!("{bucket}/{}", Blobs::unique_id())
    }

    /// 32 random hex digits (a blob name's own part; also a good upload id).
    pub fn unique_id() -> String {
        uuid::Uuid::new_v4().simple().to_string()
    }

    /// Writes a new blob. Names are unique, so an existing blob of that name is an error.
    pub async fn write(&self, name: &str, bytes: Bytes) -> Result<()> {
        let path = parse(name)?;
        let options = PutOptions {
            mode: PutMode::Create,
            ..PutOptions::default()
        };
        self.inner
            .put_opts(&path, PutPayload::from_bytes(bytes), options)
            .await
            .map_err(|source| Error::Storage { source })?;
        Ok(())
    }

    /// Writes a new blob holding the bytes of `parts` (existing blobs) one after the other,
    /// streamed in chunks so that no more than a few chunks are in memory at once. Like
    /// [`Blobs::write`], it returns once the whole blob is durable.
    pub async fn concat(&self, name: &str, parts: &[String]) -> Result<()> {
        /// Chunks written at once.
        const IN_FLIGHT: usize = 4;
        let path = parse(name)?;
        let upload = self
            .inner
            .put_multipart(&path)
            .await
            .map_err(|source| Error::Storage { source })?;
        let mut writer = object_store::WriteMultipart::new(upload);
        for part in parts {
            let mut stream = match self.read(part, None).await {
                Ok(stream) => stream,
                Err(error) => {
                    let _ = writer.abort().await;
                    return Err(error);
                }
            };
            while let Some(chunk) = stream.next().await {
                let written = match chunk {
                    Ok(chunk) => writer.wait_for_capacity(IN_FLIGHT).await.map(|()| chunk),
                    Err(source) => Err(source),
                };
                match written {
                    Ok(chunk) => writer.put(chunk),
                    Err(source) => {
                        let _ = writer.abort().await;
                        return Err(Error::Storage { source });
                    }
                }
            }
        }
        writer.finish().await.map_err(|source| Error::Storage { source })?;
        Ok(())
    }

    /// The bytes of a blob, or of `range` of them, as a stream.
    pub async fn read(&self, name: &str, range: Option<Range<u64>>) -> Result<ByteStream> {
        let path = parse(name)?;
        let options = GetOptions {
            range: range.map(GetRange::Bounded),
            ..GetOptions::default()
        };
        match self.inner.get_opts(&path, options).await {
            Ok(result) => Ok(result.into_stream()),
            Err(object_store::Error::NotFound { .. }) => Err(Error::NotFound { name: name.to_owned() }),
            Err(source) => Err(Error::Storage { source }),
        }
    }

    /// All the bytes of a blob.
    pub async fn read_all(&self, name: &str) -> Result<Bytes> {
        let mut stream = self.read(name, None).await?;
        let mut bytes = Vec::new();
        while let Some(chunk) = stream.next().await {
            bytes.extend_from_slice(&chunk.map_err(|source| Error::Storage { source })?);
        }
        Ok(Bytes::from(bytes))
    }

    /// Deletes a blob; a blob already gone is not an error.
    pub async fn delete(&self, name: &str) -> Result<()> {
        let path = parse(name)?;
        match self.inner.delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(source) => Err(Error::Storage { source }),
        }
    }

    /// Every blob (of the names made here), with when it was written.
    pub async fn list(&self) -> Result<Vec<Listed>> {
        let mut stream = self.inner.list(None);
        let mut listed = Vec::new();
        while let Some(meta) = stream.next().await {
            let meta = meta.map_err(|source| Error::Storage { source })?;
            // Only names made here (not a backend's staging files, nor anything else).
            if parse(meta.location.as_ref()).is_err() {
                continue;
            }
            listed.push(Listed {
                name: meta.location.to_string(),
                modified: meta.last_modified,
            });
        }
        Ok(listed)
    }
}

impl Blobs {
    /// Deletes the staging files a write left in the local folder when its process was killed
    /// mid-write (`NAME#N`, which listings do not show) once they are older than `older_than`;
    /// how many. Other storage keeps no such files.
    pub fn sweep_staging(&self, older_than: std::time::Duration) -> Result<usize> {
        let Some(folder) = &self.folder else {
            return Ok(0);
        };
        let failed = |error: std::io::Error| Error::Config {
            message: format!("cannot sweep {}: {error}", folder.display()),
        };
        let mut swept = 0;
        for bucket in std::fs::read_dir(folder).map_err(failed)? {
            let bucket = bucket.map_err(failed)?;
            if !bucket.file_type().map_err(failed)?.is_dir() {
                continue;
            }
            let Ok(files) = std::fs::read_dir(bucket.path()) else {
                continue;
            };
            for file in files.flatten() {
                let name = file.file_name();
                let staged = name
                    .to_str()
                    .and_then(|name| name.split_once('#'))
                    .is_some_and(|(id, suffix)| {
                        !id.is_empty()
                            && id.bytes().all(|byte| byte.is_ascii_hexdigit())
                            && !suffix.is_empty()
                            && suffix.bytes().all(|byte| byte.is_ascii_digit())
                    });
                let old = file
                    .metadata()
                    .and_then(|meta| meta.modified())
                    .ok()
                    .and_then(|modified| modified.elapsed().ok())
                    .is_some_and(|age| age > older_than);
                if staged && old && std::fs::remove_file(file.path()).is_ok() {
                    swept += 1;
                }
            }
        }
        Ok(swept)
    }
}

/// A blob name as a storage path: two segments, a bucket name and a hex id.
fn parse(name: &str) -> Result<Path> {
    let invalid = || Error::InvalidName { name: name.to_owned() };
    let (bucket, id) = name.split_once('/').ok_or_else(invalid)?;
    let bucket_ok = !bucket.is_empty()
        && bucket
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-' || byte == b'.')
        && !bucket.starts_with('.')
        && !bucket.contains("..");
    let id_ok = !id.is_empty() && id.bytes().all(|byte| byte.is_ascii_hexdigit());
    if !(bucket_ok && id_ok) {
        return Err(invalid());
    }
    Path::parse(name).map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn blobs_are_written_once_read_in_ranges_listed_and_deleted() {
        let folder = tempfile::tempdir().expect("a folder");
        let blobs = Blobs::local(&folder.path().join("blobs")).expect("opened");
        let name = Blobs::new_name("photos");
        blobs
            .write(&name, Bytes::from_static(b"hello world"))
            .await
            .expect("written");
        let again = blobs.write(&name, Bytes::from_static(b"other")).await;
        assert!(matches!(again, Err(Error::Storage { .. })), "{again:?}");
        assert_eq!(&blobs.read_all(&name).await.expect("read")[..], b"hello world");
        let mut part = blobs.read(&name, Some(6..11)).await.expect("read");
        assert_eq!(&part.next().await.expect("a chunk").expect("bytes")[..], b"world");
        let listed = blobs.list().await.expect("listed");
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].name, name);
        let empty = Blobs::new_name("photos");
        blobs.concat(&empty, &[]).await.expect("an empty blob");
        assert_eq!(blobs.read_all(&empty).await.expect("read").len(), 0);
        blobs.delete(&empty).await.expect("deleted");
        let joined = Blobs::new_name("photos");
        blobs
            .concat(&joined, &[name.clone(), name.clone()])
            .await
            .expect("joined");
        assert_eq!(
            &blobs.read_all(&joined).await.expect("read")[..],
            b"hello worldhello world"
        );
        let missing = blobs.concat(&Blobs::new_name("photos"), &["photos/00".into()]).await;
        assert!(matches!(missing, Err(Error::NotFound { .. })), "{missing:?}");
        blobs.delete(&joined).await.expect("deleted");
        blobs.delete(&name).await.expect("deleted");
        blobs.delete(&name).await.expect("deleting twice is fine");
        assert!(matches!(blobs.read_all(&name).await, Err(Error::NotFound { .. })));
    }

    #[tokio::test]
    async fn staging_files_left_by_a_killed_write_are_swept_and_nothing_else() {
        let folder = tempfile::tempdir().expect("a folder");
        let blobs = Blobs::local(&folder.path().join("blobs")).expect("opened");
        let name = Blobs::new_name("b");
        blobs.write(&name, Bytes::from_static(b"kept")).await.expect("written");
        let staged = folder.path().join("blobs").join(format!("{name}#1"));
        std::fs::write(&staged, b"half").expect("a staging file");
        let unrelated = folder.path().join("blobs/b/notes#1");
        std::fs::write(&unrelated, b"not ours").expect("a file");
        assert_eq!(
            blobs
                .sweep_staging(std::time::Duration::from_secs(3600))
                .expect("swept"),
            0
        );
        assert_eq!(blobs.sweep_staging(std::time::Duration::ZERO).expect("swept"), 1);
        assert!(!staged.exists() && unrelated.exists());
        assert_eq!(&blobs.read_all(&name).await.expect("read")[..], b"kept");
        assert_eq!(blobs.list().await.expect("listed").len(), 1);
    }

    #[test]
    fn only_names_made_here_are_accepted() {
        for name in [
            "../etc/passwd",
            "/abs/123",
            "b/../../x",
            "b/12\u{0}3",
            "b\\c/12",
            "B/12",
            "b/xyz",
            "b",
            "",
            "..b/12",
        ] {
            assert!(matches!(parse(name), Err(Error::InvalidName { .. })), "{name:?}");
        }
        assert!(parse(&Blobs::new_name("my.bucket-1")).is_ok());
    }
}
