//! JSON objects in the app's bucket, read with their ETag and written with S3's conditions
//! (`If-None-Match: *` to create, `If-Match` to compare and swap), on the server's buckets.

use bytes::Bytes;
use chrono::Utc;
use futures_util::TryStreamExt;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sluice_buckets::{Buckets, ListQuery, PutObject, WriteCondition};

use crate::Error;

/// The bucket every object of the app lives in.
pub const BUCKET: &str = "publikes";

/// The app's bucket, over the server's buckets.
#[derive(Debug, Clone)]
pub struct Objects {
    buckets: Buckets,
}

/// An object read, with the ETag a compare-and-swap names.
#[derive(Debug, Clone)]
pub struct Versioned<T> {
    /// The value.
    pub value: T,
    /// Its ETag.
    pub etag: String,
}

impl Objects {
    /// The bucket `publikes` on `buckets`.
    pub fn new(buckets: Buckets) -> Objects {
        Objects { buckets }
    }

    /// Creates the bucket if it is not there.
    pub async fn ensure_bucket(&self) -> Result<(), Error> {
        match self.buckets.create_bucket(BUCKET, Utc::now()).await {
            Ok(()) | Err(sluice_buckets::Error::BucketAlreadyOwnedByYou { .. }) => Ok(()),
            Err(error) => Err(Error::Storage(error.to_string())),
        }
    }

    /// The bytes of the object at `key`, or `None` when there is none.
    pub async fn get_bytes(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        let record = match self.buckets.object(BUCKET, key).await {
            Ok(record) => record,
            Err(sluice_buckets::Error::NoSuchKey { .. } | sluice_buckets::Error::NoSuchBucket { .. }) => {
                return Ok(None);
            }
            Err(error) => return Err(Error::Storage(error.to_string())),
        };
        let stream = self
            .buckets
            .open(&record, None)
            .await
            .map_err(|error| Error::Storage(error.to_string()))?;
        let chunks: Vec<Bytes> = stream
            .try_collect()
            .await
            .map_err(|error| Error::Storage(format!("reading {key}: {error}")))?;
        Ok(Some(chunks.concat()))
    }

    /// The JSON object at `key`, or `None` when there is none.
    pub async fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<Versioned<T>>, Error> {
        let record = match self.buckets.object(BUCKET, key).await {
            Ok(record) => record,
            Err(sluice_buckets::Error::NoSuchKey { .. } | sluice_buckets::Error::NoSuchBucket { .. }) => {
                return Ok(None);
            }
            Err(error) => return Err(Error::Storage(error.to_string())),
        };
        let stream = self
            .buckets
            .open(&record, None)
            .await
            .map_err(|error| Error::Storage(error.to_string()))?;
        let chunks: Vec<Bytes> = stream
            .try_collect()
            .await
            .map_err(|error| Error::Storage(format!("reading {key}: {error}")))?;
        let bytes = chunks.concat();
        let value = serde_json::from_slice(&bytes).map_err(|error| Error::Corrupt {
            key: key.to_owned(),
            message: error.to_string(),
        })?;
        Ok(Some(Versioned {
            value,
            etag: record.etag,
        }))
    }

    /// Writes `value` at `key` if `condition` holds; `Ok(None)` when it does not. The bucket is
    /// created by the first write.
    pub async fn put<T: Serialize>(
        &self,
        key: &str,
        value: &T,
        condition: WriteCondition,
        cache_control: &str,
    ) -> Result<Option<String>, Error> {
        let body = serde_json::to_vec(value).map_err(|error| Error::Storage(error.to_string()))?;
        let put = PutObject {
            bucket: BUCKET.to_owned(),
            key: key.to_owned(),
            body: Bytes::from(body),
            content_type: Some("application/json".to_owned()),
            user_metadata: Default::default(),
            headers: [("cache-control".to_owned(), cache_control.to_owned())].into(),
            condition,
            now: Utc::now(),
        };
        let outcome = match self.buckets.put_object(put.clone()).await {
            Err(sluice_buckets::Error::NoSuchBucket { .. }) => {
                self.ensure_bucket().await?;
                self.buckets.put_object(put).await
            }
            other => other,
        };
        match outcome {
            Ok(record) => Ok(Some(record.etag)),
            Err(sluice_buckets::Error::PreconditionFailed { .. } | sluice_buckets::Error::NoSuchKey { .. }) => Ok(None),
            Err(error) => Err(Error::Storage(error.to_string())),
        }
    }

    /// Writes a static text object (the HTML page), creating the bucket if needed.
    pub async fn put_page(&self, key: &str, html: &str) -> Result<(), Error> {
        self.ensure_bucket().await?;
        let put = PutObject {
            bucket: BUCKET.to_owned(),
            key: key.to_owned(),
            body: Bytes::from(html.to_owned()),
            content_type: Some("text/html; charset=utf-8".to_owned()),
            user_metadata: Default::default(),
            headers: [("cache-control".to_owned(), "public, max-age=300".to_owned())].into(),
            condition: WriteCondition::Always,
            now: Utc::now(),
        };
        self.buckets
            .put_object(put)
            .await
            .map(|_| ())
            .map_err(|error| Error::Storage(error.to_string()))
    }

    /// Deletes `key` if `condition` holds; `Ok(false)` when it does not.
    pub async fn delete(&self, key: &str, condition: WriteCondition) -> Result<bool, Error> {
        match self.buckets.delete_object(BUCKET, key, condition, Utc::now()).await {
            Ok(_) => Ok(true),
            Err(
                sluice_buckets::Error::PreconditionFailed { .. }
                | sluice_buckets::Error::NoSuchKey { .. }
                | sluice_buckets::Error::NoSuchBucket { .. },
            ) => Ok(false),
            Err(error) => Err(Error::Storage(error.to_string())),
        }
    }

    /// Every key under `prefix`, in key order, across as many pages as the listing takes.
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, Error> {
        let mut keys = Vec::new();
        let mut after = String::new();
        loop {
            let query = ListQuery {
                bucket: BUCKET.to_owned(),
                prefix: prefix.to_owned(),
                delimiter: String::new(),
                after: after.clone(),
                max_keys: 1000,
            };
            let listing = match self.buckets.list_objects(&query).await {
                Ok(listing) => listing,
                Err(sluice_buckets::Error::NoSuchBucket { .. }) => return Ok(keys),
                Err(error) => return Err(Error::Storage(error.to_string())),
            };
            keys.extend(listing.objects.into_iter().map(|object| object.key));
            match listing.next_after {
                Some(next) if listing.truncated => after = next,
                _ => return Ok(keys),
            }
        }
    }
}
