//! Why a bucket operation failed, in S3's terms: each variant names the S3 error code it is
//! answered with.

/// A failed bucket operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `NoSuchBucket`.
    #[error("The specified bucket does not exist")]
    NoSuchBucket {
        /// The bucket.
        bucket: String,
    },
    /// `NoSuchKey`.
    #[error("The specified key does not exist.")]
    NoSuchKey {
        /// The key.
        key: String,
    },
    /// `PreconditionFailed`: a condition header did not hold.
    #[error("At least one of the pre-conditions you specified did not hold")]
    PreconditionFailed {
        /// The header whose condition failed: `If-None-Match`, `If-Match`.
        condition: &'static str,
    },
    /// `BucketAlreadyOwnedByYou`.
    #[error("Your previous request to create the named bucket succeeded and you already own it.")]
    BucketAlreadyOwnedByYou {
        /// The bucket.
        bucket: String,
    },
    /// `BucketNotEmpty`.
    #[error("The bucket you tried to delete is not empty")]
    BucketNotEmpty {
        /// The bucket.
        bucket: String,
    },
    /// `InvalidBucketName`.
    #[error("The specified bucket is not valid: {reason}")]
    InvalidBucketName {
        /// The name.
        bucket: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// `KeyTooLongError`.
    #[error("Your key is too long: {length} bytes; the most is 1024")]
    KeyTooLong {
        /// The key's length in bytes.
        length: usize,
    },
    /// `InvalidArgument`: a field of the request is not valid.
    #[error("{message}")]
    InvalidArgument {
        /// The field or header.
        name: String,
        /// What is wrong with it.
        message: String,
    },
    /// `InvalidRange`.
    #[error("The requested range is not satisfiable")]
    InvalidRange {
        /// The object's size.
        size: u64,
    },
    /// `InternalError`: the store or blob storage failed.
    #[error("We encountered an internal error. Please try again. ({0})")]
    Internal(String),
}

impl From<sluice_store::Error> for Error {
    fn from(error: sluice_store::Error) -> Error {
        Error::Internal(error.to_string())
    }
}

impl From<sluice_blob::Error> for Error {
    fn from(error: sluice_blob::Error) -> Error {
        Error::Internal(error.to_string())
    }
}

/// A result of a bucket operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;
