//! `bonafide`: the command-line entry point. Parses arguments, runs one command, and decides the exit
//! code in one place.
//!
//! Exit codes: 0 success; 1 failure (database unreachable, I/O, a failed benchmark); 2 usage error;
//! 3 invalid input (a bad CSV row, a malformed setting or secret, an unknown email); 4 the audit log's
//! hash chain is broken (`audit verify`).

/// Writes a line to standard output. A closed pipe (`bonafide … | head`) is not an error worth a panic,
/// unlike `println!`'s: the write is dropped and the command goes on.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

mod backup;
mod bench;
mod bench_analyze;
mod bench_authorize;
mod bench_correlate;
mod bench_drills;
mod bench_portal;
mod bench_risk;
mod cli;
mod demo;
mod demo_drills;
mod demo_history;
mod embed;
mod import;
mod operator;
mod policy;
mod progress;
mod scan;
mod serve;
mod settings;
mod train;

use clap::Parser;
use std::process::ExitCode;

// The server allocates small buffers on every request from many threads; glibc's allocator serialises
// them on arena locks under load, mimalloc keeps per-thread heaps.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The audit log's hash chain is broken; exits with code 4.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TamperedError(pub String);

/// Input that the user must fix; exits with code 3.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InvalidInputError(pub String);

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(cli::run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            if e.downcast_ref::<InvalidInputError>().is_some() {
                ExitCode::from(3)
            } else if e.downcast_ref::<TamperedError>().is_some() {
                ExitCode::from(4)
            } else {
                ExitCode::from(1)
            }
        }
    }
}
