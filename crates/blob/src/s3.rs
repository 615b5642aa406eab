//! Blobs on S3-compatible storage: one backing bucket, every Sluice bucket's blobs under their
//! own prefix in it. Only unique, immutable names are written, so the service needs no
//! conditional-write support of its own.

use std::sync::Arc;

use object_store::aws::AmazonS3Builder;

use crate::{Blobs, Error, Result};

/// Where the S3-compatible storage is and how to sign for it.
#[derive(Clone)]
pub struct S3Options {
    /// The endpoint URL: `http://127.0.0.1:9000`, or `https://s3.eu-west-1.amazonaws.com`.
    pub endpoint: String,
    /// The backing bucket.
    pub bucket: String,
    /// The region to sign for.
    pub region: String,
    /// The access key.
    pub access_key: String,
    /// Its secret.
    pub secret_key: String,
}

impl std::fmt::Debug for S3Options {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secret is never printed.
        formatter
            .debug_struct("S3Options")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("access_key", &self.access_key)
            .finish_non_exhaustive()
    }
}

impl Blobs {
    /// Blobs in a bucket of S3-compatible storage, addressed path-style.
    pub fn s3(options: &S3Options) -> Result<Blobs> {
        let store = AmazonS3Builder::new()
            .with_endpoint(&options.endpoint)
            .with_bucket_name(&options.bucket)
            .with_region(&options.region)
            .with_access_key_id(&options.access_key)
            .with_secret_access_key(&options.secret_key)
            .with_allow_http(options.endpoint.starts_with("http://"))
            .with_virtual_hosted_style_request(false)
            .build()
            .map_err(|error| Error::Config {
                message: error.to_string(),
            })?;
        Ok(Blobs {
            inner: Arc::new(store),
            description: format!("s3 {}/{}", options.endpoint, options.bucket),
            folder: None,
        })
    }
}
