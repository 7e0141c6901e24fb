//! `classad-vectors [FILE]`: runs a ClassAd conformance vector file, prints each failure and
//! ends with `N passed, M failed`. FILE defaults to `$CLASSAD_VECTORS`, then to the shared
//! vectors beside the repository (`../shared/classad-vectors.json`).

use std::{path::PathBuf, process::ExitCode};

fn main() -> ExitCode {
	let path = std::env::args_os()
		.nth(1)
		.map(PathBuf::from)
		.unwrap_or_else(iexec_classad::conformance::default_vectors_path);
	match iexec_classad::conformance::run_file(&path) {
		Ok(report) => {
			for failure in &report.failures {
				println!("FAIL {failure}");
			}
			println!("{}", report.summary());
			if report.failed == 0 {
				ExitCode::SUCCESS
			} else {
				ExitCode::FAILURE
			}
		}
		Err(why) => {
			eprintln!("error: {why}");
			ExitCode::from(2)
		}
	}
}
