//! The host's machine ad: what a worker offers, in the ClassAd form the market matches.

use crate::{config::AdConfig, gpu};
use iexec_classad::{Ad, Expr};
use std::path::Path;

/// What the host has, detected.
#[derive(Clone, Debug, PartialEq)]
pub struct Host {
	pub cpus: u64,
	pub cpu_model: String,
	pub memory_mib: u64,
	pub disk_mib: u64,
	pub arch: String,
	pub op_sys: String,
	pub gpus: Vec<gpu::Gpu>,
	pub docker: bool,
}

impl Host {
	/// Detects the host; `work_dir` is where task data goes, so its free space is `Disk`.
	pub fn detect(work_dir: &Path, docker: bool) -> Host {
		Host {
			cpus: std::thread::available_parallelism().map_or(1, |n| n.get() as u64),
			cpu_model: cpu_model().unwrap_or_else(|| "unknown".into()),
			memory_mib: memory_mib().unwrap_or(0),
			disk_mib: free_disk_mib(work_dir).unwrap_or(0),
			arch: htcondor_arch(std::env::consts::ARCH),
			op_sys: std::env::consts::OS.to_ascii_uppercase(),
			gpus: gpu::detect(),
			docker,
		}
	}

	/// The host as offered: without its GPUs when the operator keeps them (`offer_gpus =
	/// false`), so that no job requiring a GPU matches a worker that would not give it one.
	pub fn offering(self, gpus: bool) -> Host {
		if gpus {
			self
		} else {
			Host { gpus: Vec::new(), ..self }
		}
	}

	/// The machine ad, with the operator's extra attributes.
	pub fn ad(&self, extra: &AdConfig) -> Ad {
		let mut ad = Ad::new();
		let int = |v: u64| Expr::Int(i64::try_from(v).unwrap_or(i64::MAX));
		ad.insert("Cpus", int(self.cpus));
		ad.insert("CpuModel", Expr::Str(self.cpu_model.clone()));
		ad.insert("Memory", int(self.memory_mib));
		ad.insert("Disk", int(self.disk_mib));
		ad.insert("Arch", Expr::Str(self.arch.clone()));
		ad.insert("OpSys", Expr::Str(self.op_sys.clone()));
		ad.insert("GPUs", int(self.gpus.len() as u64));
		if let Some(first) = self.gpus.first() {
			ad.insert("GPUModel", Expr::Str(first.model.clone()));
			// The smallest, so that a requirement holds on every GPU of the host.
			ad.insert("GPUMemory", int(self.gpus.iter().map(|g| g.memory_mib).min().unwrap_or(0)));
		}
		let mut runtimes = vec![Expr::Str("wasm".into())];
		if self.docker {
			runtimes.push(Expr::Str("docker".into()));
		}
		ad.insert("Runtimes", Expr::List(runtimes));
		// Fuel costs and the sandbox's behaviour are fixed per engine version: a job can
		// require the version its deal's replicas must all run.
		ad.insert("WasmEngineVersion", int(crate::wasm::ENGINE_VERSION.into()));
		if let Some(watts) = extra.energy_watts {
			ad.insert("EnergyWatts", int(watts.into()));
		}
		if let Some(region) = &extra.region {
			ad.insert("Region", Expr::Str(region.clone()));
		}
		if let Some(price) = extra.price_per_cpu_hour {
			ad.insert("PricePerCpuHour", int(price));
		}
		if let Some(price) = extra.price_per_gpu_hour {
			ad.insert("PricePerGpuHour", int(price));
		}
		ad
	}
}

/// HTCondor's spelling of architectures.
fn htcondor_arch(arch: &str) -> String {
	match arch {
		"x86_64" => "X86_64".into(),
		"x86" => "INTEL".into(),
		other => other.into(),
	}
}

fn cpu_model() -> Option<String> {
	let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
	info.lines()
		.find(|l| l.starts_with("model name"))
		.and_then(|l| l.split_once(':'))
		.map(|(_, v)| v.trim().to_string())
}

/// `MemTotal` of /proc/meminfo, in MiB.
pub fn memory_mib() -> Option<u64> {
	let info = std::fs::read_to_string("/proc/meminfo").ok()?;
	let kib: u64 = info
		.lines()
		.find(|l| l.starts_with("MemTotal:"))?
		.split_whitespace()
		.nth(1)?
		.parse()
		.ok()?;
	let host = kib / 1024;
	// A container or a systemd slice may allow less than the machine has (cgroup v2).
	let allowed = std::fs::read_to_string("/sys/fs/cgroup/memory.max")
		.ok()
		.and_then(|text| text.trim().parse::<u64>().ok())
		.map(|bytes| bytes >> 20);
	Some(allowed.map_or(host, |limit| limit.min(host)))
}

/// Space available to unprivileged users on the file system holding `path`, in MiB.
fn free_disk_mib(path: &Path) -> Option<u64> {
	use std::{ffi::CString, os::unix::ffi::OsStrExt};
	let c_path = CString::new(path.as_os_str().as_bytes()).ok()?;
	let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
	// SAFETY: a valid NUL-terminated path and a zeroed out-parameter of the right type.
	if unsafe { libc::statvfs(c_path.as_ptr(), &mut stat) } != 0 {
		return None;
	}
	Some((stat.f_bavail as u64).saturating_mul(stat.f_frsize as u64) / (1024 * 1024))
}
