//! The `sluice` binary: the command line with no in-process functions of its own.

fn main() -> std::process::ExitCode {
    sluice::main(sluice_engine::Functions::default())
}
