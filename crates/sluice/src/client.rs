//! A client of a Sluice server's AWS JSON API, signing each request with SigV4 as the AWS SDKs do.

use anyhow::{Context, Result, anyhow};
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::Value;
use sluice_api::sigv4::{Parts, authorization_header};

/// Where the server is and how to sign for it: the flags every client command shares.
#[derive(Debug, Clone, clap::Args)]
pub struct ConnectionArgs {
    /// The server's URL.
    #[arg(
        long,
        env = "SLUICE_ENDPOINT",
        default_value = "http://127.0.0.1:4566",
        global = true
    )]
    pub endpoint: String,
    /// The access key to sign with (the development key `test` by default).
    #[arg(long, env = "SLUICE_ACCESS_KEY_ID", default_value = "test", global = true)]
    pub access_key: String,
    /// Its secret.
    #[arg(
        long,
        env = "SLUICE_SECRET_ACCESS_KEY",
        default_value = "test",
        hide_env_values = true,
        global = true
    )]
    pub secret_key: String,
    /// The region to sign for.
    #[arg(long, env = "AWS_REGION", default_value = "us-east-1", global = true)]
    pub region: String,
}

/// An error the server answered with: AWS's error code and message.
#[derive(Debug, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ServerError {
    /// The AWS error code, such as `StateMachineDoesNotExist`.
    pub code: String,
    /// The server's message.
    pub message: String,
}

/// An S3 REST answer: its status, headers and body, whatever the status.
#[derive(Debug, Clone)]
pub struct S3Answer {
    /// The HTTP status.
    pub status: u16,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Vec<u8>,
}

impl S3Answer {
    /// A header's value, if it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// The S3 error code of an error answer (`<Code>…</Code>`), if it has one.
    pub fn code(&self) -> Option<String> {
        let text = String::from_utf8_lossy(&self.body);
        let start = text.find("<Code>")? + "<Code>".len();
        let end = text[start..].find("</Code>")? + start;
        Some(text[start..end].to_owned())
    }
}

/// A connection to one server.
#[derive(Debug, Clone)]
pub struct Client {
    args: ConnectionArgs,
    url: reqwest::Url,
    host: String,
    http: reqwest::Client,
}

impl Client {
    /// A client for the server `args` names.
    pub fn new(args: ConnectionArgs) -> Result<Client> {
        let url = reqwest::Url::parse(&args.endpoint)
            .with_context(|| format!("--endpoint {:?} is not a URL", args.endpoint))?;
        let host = match (url.host_str(), url.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_owned(),
            (None, _) => return Err(anyhow!("--endpoint {:?} names no host", args.endpoint)),
        };
        Ok(Client {
            args,
            url,
            host,
            http: reqwest::Client::new(),
        })
    }

    /// `AWSStepFunctions.<operation>`.
    pub async fn step_functions(&self, operation: &str, request: &Value) -> Result<Value> {
        self.call(
            sluice_api::stepfunctions::TARGET_PREFIX,
            sluice_api::stepfunctions::SIGNING_NAME,
            operation,
            request,
        )
        .await
    }

    /// Every item of a paged Step Functions list (`field` of each answer), following `nextToken`
    /// until there is none or `limit` items are in.
    pub async fn step_functions_all(
        &self,
        operation: &str,
        request: &Value,
        field: &str,
        limit: usize,
    ) -> Result<Vec<Value>> {
        let mut items = Vec::new();
        let mut request = request.clone();
        while items.len() < limit {
            // Step Functions pages hold at most 1,000 items.
            request["maxResults"] = Value::from((limit - items.len()).min(1000));
            let page = self.step_functions(operation, &request).await?;
            items.extend(page.get(field).and_then(Value::as_array).cloned().unwrap_or_default());
            match page.get("nextToken").and_then(Value::as_str) {
                Some(token) => request["nextToken"] = Value::from(token),
                None => break,
            }
        }
        items.truncate(limit);
        Ok(items)
    }

    /// `AmazonSQS.<operation>`.
    pub async fn sqs(&self, operation: &str, request: &Value) -> Result<Value> {
        self.call(
            sluice_api::sqs::TARGET_PREFIX,
            sluice_api::sqs::SIGNING_NAME,
            operation,
            request,
        )
        .await
    }

    /// `SluiceAdmin.<operation>`.
    pub async fn admin(&self, operation: &str, request: &Value) -> Result<Value> {
        self.call(
            sluice_api::admin::TARGET_PREFIX,
            sluice_api::admin::SIGNING_NAME,
            operation,
            request,
        )
        .await
    }

    /// `AWSEvents.<operation>` (EventBridge).
    pub async fn events(&self, operation: &str, request: &Value) -> Result<Value> {
        self.call(
            sluice_api::events::TARGET_PREFIX,
            sluice_api::events::SIGNING_NAME,
            operation,
            request,
        )
        .await
    }

    /// `Logs_20140328.<operation>` (CloudWatch Logs).
    pub async fn logs(&self, operation: &str, request: &Value) -> Result<Value> {
        self.call(
            sluice_api::logs::TARGET_PREFIX,
            sluice_api::logs::SIGNING_NAME,
            operation,
            request,
        )
        .await
    }

    /// One S3 REST request, path-style: `path` is `/bucket/key` with the key already
    /// percent-encoded (each byte but `A-Za-z0-9-_.~/`), `query` likewise (or empty). Signed as
    /// the SDKs sign, with the body's SHA-256; every answer comes back, errors included.
    pub async fn s3(
        &self,
        method: &str,
        path: &str,
        query: &str,
        extra_headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<S3Answer> {
        let amz_date = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
        let payload_hash = sluice_api::sigv4::hex_sha256(&body);
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_str(&self.host)?);
        headers.insert("x-amz-content-sha256", HeaderValue::from_str(&payload_hash)?);
        headers.insert("x-amz-date", HeaderValue::from_str(&amz_date)?);
        let parts = Parts {
            method,
            path,
            query,
            headers: &headers,
            body: &body,
        };
        let authorization = authorization_header(
            &parts,
            &self.args.access_key,
            &self.args.secret_key,
            &self.args.region,
            sluice_api::s3::SIGNING_NAME,
            &amz_date,
            "host;x-amz-content-sha256;x-amz-date",
        );
        headers.insert("authorization", HeaderValue::from_str(&authorization)?);
        for (name, value) in extra_headers {
            headers.insert(
                reqwest::header::HeaderName::from_bytes(name.as_bytes())?,
                HeaderValue::from_str(value)?,
            );
        }
        let mut url = self.url.clone();
        url.set_path(path);
        url.set_query((!query.is_empty()).then_some(query));
        let method = reqwest::Method::from_bytes(method.as_bytes())?;
        let response = self
            .http
            .request(method, url)
            .headers(headers)
            .body(body)
            .send()
            .await
            .with_context(|| format!("cannot reach the server at {}", self.args.endpoint))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .context("the server's answer was cut off")?
            .to_vec();
        Ok(S3Answer { status, headers, body })
    }

    /// S3's `GetObject` on a path-style URL, signed for `s3`: the object's bytes, or `None`
    /// when there is no such key. Keys are plain (letters, digits, `/`, `-`, `_`, `.`).
    pub async fn get_object(&self, bucket: &str, key: &str) -> Result<Option<Vec<u8>>> {
        let path = format!("{}/{bucket}/{key}", self.url.path().trim_end_matches('/'));
        let answer = self.s3("GET", &path, "", &[], Vec::new()).await?;
        match answer.status {
            200 => Ok(Some(answer.body)),
            404 => Ok(None),
            status => Err(anyhow!(
                "GET /{bucket}/{key} answered {status}: {}",
                String::from_utf8_lossy(&answer.body)
            )),
        }
    }

    /// Sends one signed AWS JSON 1.0 request and reads the answer; an error answer becomes a
    /// [`ServerError`].
    async fn call(&self, prefix: &str, service: &str, operation: &str, request: &Value) -> Result<Value> {
        let body = serde_json::to_vec(request)?;
        let amz_date = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_str(&self.host)?);
        headers.insert("content-type", HeaderValue::from_static("application/x-amz-json-1.0"));
        headers.insert("x-amz-date", HeaderValue::from_str(&amz_date)?);
        headers.insert("x-amz-target", HeaderValue::from_str(&format!("{prefix}.{operation}"))?);
        let parts = Parts {
            method: "POST",
            path: self.url.path(),
            query: self.url.query().unwrap_or_default(),
            headers: &headers,
            body: &body,
        };
        let authorization = authorization_header(
            &parts,
            &self.args.access_key,
            &self.args.secret_key,
            &self.args.region,
            service,
            &amz_date,
            "content-type;host;x-amz-date;x-amz-target",
        );
        headers.insert("authorization", HeaderValue::from_str(&authorization)?);
        let response = self
            .http
            .post(self.url.clone())
            .headers(headers)
            .body(body)
            .send()
            .await
            .with_context(|| format!("cannot reach the server at {}", self.args.endpoint))?;
        let status = response.status();
        let text = response.text().await.context("the server's answer was cut off")?;
        let answer: Value = serde_json::from_str(&text)
            .with_context(|| format!("the server answered {status} with a body that is not JSON: {text:.200}"))?;
        if status.is_success() {
            return Ok(answer);
        }
        let code = answer
            .get("__type")
            .and_then(Value::as_str)
            .map(|kind| kind.rsplit('#').next().unwrap_or(kind).to_owned())
            .unwrap_or_else(|| status.to_string());
        let message = answer
            .get("message")
            .or_else(|| answer.get("Message"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        Err(ServerError { code, message }.into())
    }
}
