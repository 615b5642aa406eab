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
        })
    }

    /// Blobs in memory, for tests.
    pub fn memory() -> Blobs {
        Blobs {
            inner: Arc::new(object_store::memory::InMemory::new()),
            description: "memory".into(),
        }
    }

    /// Blobs on any [`ObjectStore`].
    pub fn from_store(store: Arc<dyn ObjectStore>, description: impl Into<String>) -> Blobs {
        Blobs {
            inner: store,
            description: description.into(),
        }
    }

    /// A fresh, unique name for a blob of `bucket` (a valid bucket name).
    pub fn new_name(bucket: &str) -> String {
        format!("{bucket}/{}", uuid::Uuid::new_v4().simple())
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

    /// Every blob, with when it was written.
    pub async fn list(&self) -> Result<Vec<Listed>> {
        let mut stream = self.inner.list(None);
        let mut listed = Vec::new();
        while let Some(meta) = stream.next().await {
            let meta = meta.map_err(|source| Error::Storage { source })?;
            listed.push(Listed {
                name: meta.location.to_string(),
                modified: meta.last_modified,
            });
        }
        Ok(listed)
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
        blobs.delete(&name).await.expect("deleted");
        blobs.delete(&name).await.expect("deleting twice is fine");
        assert!(matches!(blobs.read_all(&name).await, Err(Error::NotFound { .. })));
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
