//! The `rmq` binary: everything lives in the library; this only returns its exit code.

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(rmq::main())
}
