//! HTCondor conformance: every case of the vector file (default: the project's shared file;
//! `CLASSAD_VECTORS` overrides it) must pass.

#[test]
fn htcondor_conformance_vectors_all_pass() {
	let path = iexec_classad::conformance::default_vectors_path();
	let report = iexec_classad::conformance::run_file(&path).unwrap();
	for failure in &report.failures {
		println!("FAIL {failure}");
	}
	println!("{}: {}", path.display(), report.summary());
	assert!(report.passed > 0, "no vectors in {}", path.display());
	assert_eq!(report.failed, 0, "{}", report.summary());
}
