//! The machine ad of this host: expected fields, values matching `nproc` and /proc/meminfo,
//! and text the ClassAd crate parses back.

use iexec_classad::{evaluate, parse_ad, parse_expr, Limits, Value};
use iexec_worker::{config::AdConfig, machine::Host};
use std::process::Command;

/// The value of `expr` evaluated in `ad`.
fn value_in(ad: &iexec_classad::Ad, expr: &str) -> Value {
	evaluate(&parse_expr(expr, &Limits::default()).unwrap(), Some(ad), None, &Limits::default())
		.value
}

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
	let get = |expr: &str| value_in(&ad, expr);

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
	// As many GPUs as the NVIDIA driver lists (none without it).
	let listed =
		Command::new("nvidia-smi").arg("-L").output().ok().filter(|o| o.status.success()).map_or(
			0,
			|o| {
				String::from_utf8_lossy(&o.stdout).lines().filter(|l| l.starts_with("GPU ")).count()
			},
		);
	assert_eq!(get("GPUs"), Value::Int(listed as i64));
	assert_eq!(get("member(\"wasm\", Runtimes)"), Value::Bool(true));
	assert_eq!(get("member(\"docker\", Runtimes)"), Value::Bool(true));
	assert_eq!(get("WasmEngineVersion"), Value::Int(i64::from(iexec_worker::wasm::ENGINE_VERSION)));
	assert_eq!(get("EnergyWatts"), Value::Int(350));
	assert_eq!(get("Region"), Value::Str("eu-west".into()));
	assert_eq!(get("PricePerCpuHour"), Value::Int(1_000_000));
	// No GPU means no GPU model; with GPUs, the first one's model and the smallest memory,
	// as the driver's own tool reports them.
	if listed == 0 {
		assert_eq!(get("GPUModel"), Value::Undefined);
		assert_eq!(get("GPUMemory"), Value::Undefined);
	} else {
		let query = Command::new("nvidia-smi")
			.args(["--query-gpu=name,memory.total", "--format=csv,noheader,nounits"])
			.output()
			.unwrap();
		let rows: Vec<(String, i64)> = String::from_utf8_lossy(&query.stdout)
			.lines()
			.map(|line| {
				let (name, mib) = line.rsplit_once(',').unwrap();
				(name.trim().to_owned(), mib.trim().parse().unwrap())
			})
			.collect();
		assert_eq!(rows.len(), listed);
		assert_eq!(get("GPUModel"), Value::Str(rows[0].0.clone()));
		let smallest = rows.iter().map(|(_, mib)| *mib).min().unwrap();
		assert_eq!(get("GPUMemory"), Value::Int(smallest));
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

#[test]
fn gpus_are_counted_and_the_smallest_memory_advertised() {
	use iexec_worker::gpu::Gpu;
	let gpu = |model: &str, memory_mib| Gpu { model: model.into(), memory_mib };
	let host = Host {
		gpus: vec![gpu("NVIDIA H100 80GB HBM3", 81_559), gpu("NVIDIA H100 80GB HBM3", 40_000)],
		..Host::detect(tempfile::tempdir().unwrap().path(), false)
	};
	let ad = parse_ad(&host.ad(&AdConfig::default()).to_string(), &Limits::default()).unwrap();
	let get = |expr: &str| {
		evaluate(
			&parse_expr(expr, &Limits::default()).unwrap(),
			Some(&ad),
			None,
			&Limits::default(),
		)
		.value
	};
	assert_eq!(get("GPUs"), Value::Int(2));
	assert_eq!(get("GPUModel"), Value::Str("NVIDIA H100 80GB HBM3".into()));
	// A task asking for memory must fit on whichever GPU it lands.
	assert_eq!(get("GPUMemory"), Value::Int(40_000));
	// GPUs the operator does not offer (`offer_gpus = false`) are not advertised.
	let kept =
		parse_ad(&host.offering(false).ad(&AdConfig::default()).to_string(), &Limits::default())
			.unwrap();
	let in_kept = |expr: &str| value_in(&kept, expr);
	assert_eq!(in_kept("GPUs"), Value::Int(0));
	assert_eq!(in_kept("GPUModel"), Value::Undefined);
}
