//! The `shopcrew` binary: logging set-up, then the library's command line.

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("SHOPCREW_LOG"))
        .with_writer(std::io::stderr)
        .init();
    shopcrew::cli::main()
}
