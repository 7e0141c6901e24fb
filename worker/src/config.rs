//! Configuration: a TOML file, then `IEXEC_WORKER_*` environment variables, then flags, each
//! overriding the one before. A bad value is refused with the name of the field.

use crate::task::Limits;
use serde::Deserialize;
use std::{path::PathBuf, time::Duration};

/// The whole configuration.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
	/// WebSocket RPC endpoints of the nodes the worker follows, comma-separated: the first
	/// that answers is used, the next when it fails.
	pub node_url: String,
	/// File holding the worker's secret key (a secret URI); it must be readable by its owner
	/// only. `IEXEC_WORKER_SURI` or `--suri` give the key itself instead.
	pub key_file: Option<PathBuf>,
	/// Replicas held at once (claimed, not yet committed); the host's CPUs by default.
	pub slots: usize,
	/// Address of the health, metrics and result endpoints.
	pub listen: String,
	/// Public base URL of the result endpoint, for results too large to reveal on chain.
	pub result_url: Option<String>,
	/// Memory offered to tasks, MiB: the host's by default, never more.
	pub offer_memory_mib: Option<u64>,
	/// Whether Docker tasks of GPU deals get this host's GPUs: by default when NVML lists
	/// any; `true` on a host without one is refused.
	pub offer_gpus: Option<bool>,
	/// Whether apps and data sets may be read from `file://` locations: off by default, since
	/// a location comes from the chain and could name any file of this host.
	pub allow_file_uris: bool,
	/// Seconds a shutdown lets running tasks finish before handing their replicas back.
	pub shutdown_grace_s: u64,
	/// Days a certified result of this worker is kept for its beneficiary; then it is deleted.
	pub result_retention_days: u64,
	/// Where task inputs and outputs live.
	pub work_dir: PathBuf,
	/// Default limits of a task.
	pub limits: LimitsConfig,
	/// Extra attributes of the machine ad.
	pub ad: AdConfig,
}

/// Default task limits, in operator units.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
	pub fuel: u64,
	pub memory_mib: u64,
	pub timeout_s: u64,
	pub cpus: f64,
	pub pids: i64,
	pub output_cap_kib: usize,
	/// Output a task may write, in MiB: the most a deal may ask (its disk quota).
	pub output_mib: u64,
}

/// Operator-set attributes of the machine ad.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AdConfig {
	/// Power drawn under load, in watts (for energy-aware scheduling).
	pub energy_watts: Option<u32>,
	/// Where the machine is, e.g. `eu-west`.
	pub region: Option<String>,
	/// Price hints, in nRLC (10⁻⁹ RLC).
	pub price_per_cpu_hour: Option<u64>,
	pub price_per_gpu_hour: Option<u64>,
}

impl Default for Config {
	fn default() -> Self {
		Config {
			node_url: "ws://127.0.0.1:9944".into(),
			key_file: None,
			slots: std::thread::available_parallelism().map_or(1, |n| n.get()),
			listen: "127.0.0.1:9616".into(),
			result_url: None,
			offer_memory_mib: None,
			offer_gpus: None,
			allow_file_uris: false,
			shutdown_grace_s: 60,
			result_retention_days: 30,
			// Not a temporary folder: the journal must outlive a reboot.
			work_dir: std::env::var_os("HOME")
				.map(|home| PathBuf::from(home).join(".local/share/iexec-worker"))
				.unwrap_or_else(|| "/var/lib/iexec-worker".into()),
			limits: LimitsConfig::default(),
			ad: AdConfig::default(),
		}
	}
}

impl Default for LimitsConfig {
	fn default() -> Self {
		let limits = Limits::default();
		LimitsConfig {
			fuel: limits.fuel,
			memory_mib: limits.memory_bytes >> 20,
			timeout_s: limits.wall_time.as_secs(),
			cpus: limits.cpus,
			pids: limits.pids,
			output_cap_kib: limits.output_cap / 1024,
			output_mib: limits.output_bytes >> 20,
		}
	}
}

/// A refused configuration: which field, and why.
#[derive(Debug, PartialEq, thiserror::Error)]
#[error("invalid configuration: `{field}`: {reason}")]
pub struct ConfigError {
	pub field: String,
	pub reason: String,
}

fn invalid(field: &str, reason: impl Into<String>) -> ConfigError {
	ConfigError { field: field.into(), reason: reason.into() }
}

impl Config {
	/// Reads `file` (when given), then applies the environment (`vars`, usually
	/// `std::env::vars()`), then validates.
	pub fn load(
		file: Option<&std::path::Path>,
		vars: impl Iterator<Item = (String, String)>,
	) -> Result<Config, ConfigError> {
		let mut config = match file {
			Some(path) => {
				let text = std::fs::read_to_string(path)
					.map_err(|e| invalid("config file", format!("{}: {e}", path.display())))?;
				toml::from_str(&text).map_err(|e| {
					// toml's full message quotes the offending line and key; keep it whole.
					invalid("config file", format!("{}: {e}", path.display()))
				})?
			}
			None => Config::default(),
		};
		for (key, value) in vars {
			let Some(name) = key.strip_prefix("IEXEC_WORKER_") else { continue };
			config.set(&name.to_ascii_lowercase(), &value)?;
		}
		config.validate()?;
		Ok(config)
	}

	/// Sets one field from text (environment variables and flags).
	pub fn set(&mut self, field: &str, value: &str) -> Result<(), ConfigError> {
		fn parse<T: std::str::FromStr>(field: &str, value: &str) -> Result<T, ConfigError> {
			value.trim().parse().map_err(|_| invalid(field, format!("cannot read {value:?}")))
		}
		match field {
			"node_url" => self.node_url = value.into(),
			"key_file" => self.key_file = Some(value.into()),
			"slots" => self.slots = parse(field, value)?,
			"listen" => self.listen = value.into(),
			"result_url" => self.result_url = Some(value.into()),
			"offer_memory_mib" => self.offer_memory_mib = Some(parse(field, value)?),
			"offer_gpus" => self.offer_gpus = Some(parse(field, value)?),
			"allow_file_uris" => self.allow_file_uris = parse(field, value)?,
			"shutdown_grace_s" => self.shutdown_grace_s = parse(field, value)?,
			"result_retention_days" => self.result_retention_days = parse(field, value)?,
			"work_dir" => self.work_dir = value.into(),
			"fuel" => self.limits.fuel = parse(field, value)?,
			"memory_mib" => self.limits.memory_mib = parse(field, value)?,
			"timeout_s" => self.limits.timeout_s = parse(field, value)?,
			"cpus" => self.limits.cpus = parse(field, value)?,
			"output_mib" => self.limits.output_mib = parse(field, value)?,
			"energy_watts" => self.ad.energy_watts = Some(parse(field, value)?),
			"region" => self.ad.region = Some(value.into()),
			"price_per_cpu_hour" => self.ad.price_per_cpu_hour = Some(parse(field, value)?),
			"price_per_gpu_hour" => self.ad.price_per_gpu_hour = Some(parse(field, value)?),
			"log" | "config" | "suri" => {} // read by the logger and the CLI
			other => return Err(invalid(other, "no such setting")),
		}
		Ok(())
	}

	/// Checks every value, naming the first bad one.
	pub fn validate(&self) -> Result<(), ConfigError> {
		for url in self.node_urls() {
			if !(url.starts_with("ws://") || url.starts_with("wss://")) {
				return Err(invalid("node_url", format!("{url:?} is not a ws:// or wss:// URL")));
			}
		}
		if self.node_urls().is_empty() {
			return Err(invalid("node_url", "give at least one ws:// URL"));
		}
		if self.shutdown_grace_s > 24 * 3600 {
			return Err(invalid("shutdown_grace_s", "must be at most 86400"));
		}
		if !(1..=3650).contains(&self.result_retention_days) {
			return Err(invalid("result_retention_days", "must be between 1 and 3650"));
		}
		if self.slots == 0 || self.slots > 1024 {
			return Err(invalid("slots", "must be between 1 and 1024"));
		}
		if self.listen.parse::<std::net::SocketAddr>().is_err() {
			return Err(invalid("listen", "must be an address and port, like 127.0.0.1:9616"));
		}
		if let Some(url) = &self.result_url {
			if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() > 200 {
				return Err(invalid(
					"result_url",
					"must be an http:// or https:// URL of at most 200 bytes",
				));
			}
		}
		if let (Some(offered), Some(host)) = (self.offer_memory_mib, crate::machine::memory_mib()) {
			if offered == 0 || offered > host {
				return Err(invalid(
					"offer_memory_mib",
					format!("must be between 1 and the host's {host}"),
				));
			}
		}
		if self.offer_gpus == Some(true) && crate::gpu::detect().is_empty() {
			return Err(invalid("offer_gpus", "this host has no GPU that NVML lists"));
		}
		let l = &self.limits;
		if l.fuel == 0 {
			return Err(invalid("limits.fuel", "must be positive"));
		}
		if l.memory_mib == 0 || l.memory_mib > 1 << 20 {
			return Err(invalid("limits.memory_mib", "must be between 1 and 1048576"));
		}
		if l.timeout_s == 0 || l.timeout_s > 7 * 24 * 3600 {
			return Err(invalid("limits.timeout_s", "must be between 1 and 604800"));
		}
		if !(l.cpus > 0.0 && l.cpus <= 1024.0) {
			return Err(invalid("limits.cpus", "must be above 0 and at most 1024"));
		}
		if l.pids < 1 {
			return Err(invalid("limits.pids", "must be at least 1"));
		}
		if l.output_mib == 0 || l.output_mib > 1 << 30 {
			return Err(invalid("limits.output_mib", "must be between 1 and 1073741824"));
		}
		if let Some(region) = &self.ad.region {
			let ok = !region.is_empty()
				&& region.len() <= 32
				&& region.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
			if !ok {
				return Err(invalid("ad.region", "1 to 32 letters, digits, `-` or `_`"));
			}
		}
		Ok(())
	}

	/// The node URLs, in the order they are tried.
	pub fn node_urls(&self) -> Vec<String> {
		self.node_url
			.split(',')
			.map(str::trim)
			.filter(|u| !u.is_empty())
			.map(str::to_owned)
			.collect()
	}

	/// The most a deal's task may ask of this worker: the memory offered (the host's by
	/// default), any fuel and a week of wall time (the deal's category bounds them), the
	/// host's GPUs unless turned off, and the host limits of the configuration.
	pub fn offer(&self) -> Limits {
		let host = crate::machine::memory_mib().unwrap_or(self.limits.memory_mib);
		Limits {
			fuel: u64::MAX,
			memory_bytes: self.offer_memory_mib.unwrap_or(host) << 20,
			wall_time: Duration::from_secs(7 * 24 * 3600),
			gpus: self.offer_gpus.unwrap_or_else(|| !crate::gpu::detect().is_empty()),
			..self.task_limits()
		}
	}

	/// The default limits of a task.
	pub fn task_limits(&self) -> Limits {
		Limits {
			fuel: self.limits.fuel,
			memory_bytes: self.limits.memory_mib << 20,
			wall_time: Duration::from_secs(self.limits.timeout_s),
			output_cap: self.limits.output_cap_kib * 1024,
			output_bytes: self.limits.output_mib << 20,
			cpus: self.limits.cpus,
			pids: self.limits.pids,
			gpus: false,
			gpu_devices: Vec::new(),
			determinism: Default::default(),
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn load(toml: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("worker.toml");
		std::fs::write(&path, toml).unwrap();
		Config::load(Some(&path), env.iter().map(|(k, v)| (k.to_string(), v.to_string())))
	}

	#[test]
	fn file_then_environment() {
		let config = load(
			"node_url = \"ws://node:9944\"\n[limits]\nmemory_mib = 2048\n[ad]\nregion = \"eu-west\"\n",
			&[("IEXEC_WORKER_MEMORY_MIB", "4096"), ("PATH", "/bin")],
		)
		.unwrap();
		assert_eq!(config.node_url, "ws://node:9944");
		assert_eq!(config.limits.memory_mib, 4096);
		assert_eq!(config.ad.region.as_deref(), Some("eu-west"));
		assert_eq!(config.task_limits().memory_bytes, 4096 << 20);
	}

	#[test]
	fn bad_values_name_their_field() {
		let error = load("node_url = \"http://x\"", &[]).unwrap_err();
		assert_eq!(error.field, "node_url");
		let error = load("[limits]\ntimeout_s = 0\n", &[]).unwrap_err();
		assert_eq!(error.field, "limits.timeout_s");
		let error = load("", &[("IEXEC_WORKER_CPUS", "lots")]).unwrap_err();
		assert_eq!(error.to_string(), "invalid configuration: `cpus`: cannot read \"lots\"");
		let error = load("[ad]\nregion = \"eu west!\"\n", &[]).unwrap_err();
		assert_eq!(error.field, "ad.region");
		let error = load("[limits]\nmemroy_mib = 1\n", &[]).unwrap_err();
		assert!(error.reason.contains("memroy_mib"), "{error}");
		let error = load("", &[("IEXEC_WORKER_COLOUR", "blue")]).unwrap_err();
		assert_eq!(error.field, "colour");
	}

	#[test]
	fn daemon_settings_are_checked_the_same_from_file_and_environment() {
		let config = load(
			"node_url = \"ws://a:9944, ws://b:9944\"\nslots = 3\n",
			&[("IEXEC_WORKER_LISTEN", "0.0.0.0:9700"), ("IEXEC_WORKER_SURI", "//Dave")],
		)
		.unwrap();
		assert_eq!(config.node_urls(), vec!["ws://a:9944", "ws://b:9944"]);
		assert_eq!((config.slots, config.listen.as_str()), (3, "0.0.0.0:9700"));
		assert_eq!(load("node_url = \"ws://a:9944,http://b\"", &[]).unwrap_err().field, "node_url");
		assert_eq!(load("", &[("IEXEC_WORKER_SLOTS", "0")]).unwrap_err().field, "slots");
		assert_eq!(load("slots = 0", &[]).unwrap_err().field, "slots");
		assert_eq!(
			load("result_retention_days = 0", &[]).unwrap_err().field,
			"result_retention_days"
		);
		let kept = load("", &[("IEXEC_WORKER_RESULT_RETENTION_DAYS", "7")]).unwrap();
		assert_eq!(kept.result_retention_days, 7);
		assert_eq!(load("listen = \"nowhere\"", &[]).unwrap_err().field, "listen");
		assert_eq!(load("result_url = \"ftp://x\"", &[]).unwrap_err().field, "result_url");
		let host = crate::machine::memory_mib().unwrap();
		let too_much = format!("offer_memory_mib = {}", host + 1);
		assert_eq!(load(&too_much, &[]).unwrap_err().field, "offer_memory_mib");
		let offered = load(&format!("offer_memory_mib = {host}"), &[]).unwrap().offer();
		assert_eq!(offered.memory_bytes, host << 20);
	}

	#[test]
	fn gpus_are_offered_only_where_nvml_lists_some() {
		let has_gpus = !crate::gpu::detect().is_empty();
		assert_eq!(load("", &[]).unwrap().offer().gpus, has_gpus);
		let forced = load("", &[("IEXEC_WORKER_OFFER_GPUS", "true")]);
		if has_gpus {
			assert!(forced.unwrap().offer().gpus);
		} else {
			assert_eq!(forced.unwrap_err().field, "offer_gpus");
		}
		assert!(!load("offer_gpus = false", &[]).unwrap().offer().gpus);
		let unreadable = load("", &[("IEXEC_WORKER_OFFER_GPUS", "yes")]).unwrap_err();
		assert_eq!(unreadable.field, "offer_gpus");
	}
}
