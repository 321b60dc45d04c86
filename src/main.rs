//! The `tthc` command: parses the command line, sets up logging to stderr
//! (`TTHC_LOG`), and hands over to `cli`.

use clap::Parser;
use std::process::ExitCode;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // No transparent huge pages: the allocator asks for them, and the
    // kernel then zeroes two megabytes wherever a thread first touches a
    // few bytes. A quarter's run spent a third of its time in that, and a
    // tenth more memory.
    // SAFETY: prctl with these arguments only sets a flag of the process.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
    let cli = tthc::cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TTHC_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, not in log files.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let code = tthc::cli::run(cli);
    ExitCode::from(code as u8)
}
