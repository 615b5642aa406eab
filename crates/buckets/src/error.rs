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
    /// `NoSuchUpload`: the multipart upload does not exist (it may have been aborted or completed).
    #[error(
        "The specified multipart upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."
    )]
    NoSuchUpload {
        /// The upload id.
        upload_id: String,
    },
    /// `InvalidPart`: a completion names a part that was not uploaded, or with another ETag.
    #[error(
        "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag. (part {part_number})"
    )]
    InvalidPart {
        /// The part.
        part_number: u32,
    },
    /// `InvalidPartOrder`: a completion's parts are not in ascending order.
    #[error(
        "The list of parts was not in ascending order. The parts list must be specified in order by part number. (part {part_number} follows part {previous})"
    )]
    InvalidPartOrder {
        /// The part out of order.
        part_number: u32,
        /// The part before it.
        previous: u32,
    },
    /// `EntityTooSmall`: a part other than the last is smaller than 5 MiB.
    #[error(
        "Your proposed upload is smaller than the minimum allowed object size. (part {part_number} has {size} bytes; every part but the last needs at least 5 MiB)"
    )]
    EntityTooSmall {
        /// The part.
        part_number: u32,
        /// Its size.
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
