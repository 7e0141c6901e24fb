//! The machine ad of this host: expected fields, values matching `nproc` and /proc/meminfo,
//! and text the ClassAd crate parses back.

use iexec_classad::{evaluate, parse_ad, parse_expr, Limits, Value};
use iexec_worker::{config::AdConfig, machine::Host};
use std::process::Command;

#[test]
fn machine_ad_describes_this_host() {
	let dir = tempfile::tempdir().unwrap();
	let host = Host::detect(dir.path(), true);
	let extra = AdConfig {
		energy_watts: Some(350),
		region: Some("eu-west".into()),
		price_per_cpu_hour: Some(1_000_000),
		price_per_gpu_hour: None,
	};
	let text = host.ad(&extra).to_string();
	let ad = parse_ad(&text, &Limits::default()).unwrap_or_else(|e| panic!("{text}: {e}"));
	let get = |expr: &str| {
		evaluate(
			&parse_expr(expr, &Limits::default()).unwrap(),
			Some(&ad),
			None,
			&Limits::default(),
		)
		.value
	};

	let nproc: i64 = String::from_utf8(Command::new("nproc").output().unwrap().stdout)
		.unwrap()
		.trim()
		.parse()
		.unwrap();
	assert_eq!(get("Cpus"), Value::Int(nproc));
	let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
	let kib: i64 = meminfo
		.lines()
		.find(|l| l.starts_with("MemTotal:"))
		.unwrap()
		.split_whitespace()
		.nth(1)
		.unwrap()
		.parse()
		.unwrap();
	assert_eq!(get("Memory"), Value::Int(kib / 1024));
	assert!(matches!(get("Disk"), Value::Int(d) if d > 0));
	assert_eq!(get("OpSys"), Value::Str("LINUX".into()));
	assert!(matches!(get("Arch"), Value::Str(a) if !a.is_empty()));
	assert!(matches!(get("CpuModel"), Value::Str(_)));
	assert!(matches!(get("GPUs"), Value::Int(n) if n >= 0));
	assert_eq!(get("member(\"wasm\", Runtimes)"), Value::Bool(true));
	assert_eq!(get("member(\"docker\", Runtimes)"), Value::Bool(true));
	assert_eq!(get("WasmEngineVersion"), Value::Int(i64::from(iexec_worker::wasm::ENGINE_VERSION)));
	assert_eq!(get("EnergyWatts"), Value::Int(350));
	assert_eq!(get("Region"), Value::Str("eu-west".into()));
	assert_eq!(get("PricePerCpuHour"), Value::Int(1_000_000));
	// No GPU (no NVML here) means GPUs = 0, and then no GPU model.
	if get("GPUs") == Value::Int(0) {
		assert_eq!(get("GPUModel"), Value::Undefined);
	}
	let without_docker = Host { docker: false, ..host };
	let ad = without_docker.ad(&AdConfig::default());
	assert_eq!(
		evaluate(
			&parse_expr("size(Runtimes)", &Limits::default()).unwrap(),
			Some(&ad),
			None,
			&Limits::default()
		)
		.value,
		Value::Int(1)
	);
}
