//! `GET /metrics`: the engine's counters and histograms in the Prometheus text format, rendered
//! from the [`PrometheusHandle`] of the recorder the binary installed. It needs no signature, as
//! a Prometheus scraper sends none; it shows counts, never payloads.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
pub use metrics_exporter_prometheus::PrometheusHandle;
use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder};

use crate::router::Options;

/// How often the recorder's histograms are drained when nobody scrapes.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The content type of the Prometheus text format.
const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Why the recorder could not be installed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The builder refused the configuration, or another recorder is installed already.
    #[error("cannot install the Prometheus recorder: {0}")]
    Install(#[from] BuildError),
    /// The thread that drains the histograms could not start.
    #[error("cannot start the metrics upkeep thread: {0}")]
    Upkeep(#[from] std::io::Error),
}

/// Installs the process-wide Prometheus recorder (once per process), describes the engine's
/// metrics, and starts a thread that drains its histograms now and then. Pass the handle in the
/// router's [`Options`] to serve `/metrics`.
pub fn install_recorder() -> Result<PrometheusHandle, Error> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(sluice_engine::metrics::TASK_DURATION.to_owned()),
            sluice_engine::metrics::TASK_DURATION_BUCKETS,
        )?
        .install_recorder()?;
    sluice_engine::metrics::describe();
    let upkeep = handle.clone();
    std::thread::Builder::new()
        .name("sluice-metrics-upkeep".into())
        .spawn(move || {
            loop {
                std::thread::sleep(UPKEEP_EVERY);
                upkeep.run_upkeep();
            }
        })?;
    Ok(handle)
}

/// `GET /metrics`; 404 when the server runs without a recorder.
pub(crate) async fn render(State(options): State<Arc<Options>>) -> Response {
    match &options.metrics {
        Some(handle) => ([(header::CONTENT_TYPE, TEXT_FORMAT)], handle.render()).into_response(),
        None => (StatusCode::NOT_FOUND, "this server records no metrics\n").into_response(),
    }
}

#[cfg(test)]
mod tests;
