//! NVIDIA GPUs, through NVML loaded at run time: a host without the library (or without a
//! GPU) simply has none.

use std::ffi::{c_char, c_int, c_uint, c_void, CStr};

/// One GPU as NVML describes it.
#[derive(Clone, Debug, PartialEq)]
pub struct Gpu {
	pub model: String,
	pub memory_mib: u64,
}

#[repr(C)]
#[derive(Default)]
struct NvmlMemory {
	total: u64,
	free: u64,
	used: u64,
}

type Device = *mut c_void;

/// The GPUs NVML reports, or an empty list when NVML is not there or fails.
pub fn detect() -> Vec<Gpu> {
	match unsafe { query() } {
		Ok(gpus) => gpus,
		Err(why) => {
			tracing::debug!("no GPUs detected: {why}");
			Vec::new()
		}
	}
}

/// # Safety
/// Calls into NVML with the signatures of its C API (nvml.h), all of which are stable.
unsafe fn query() -> Result<Vec<Gpu>, String> {
	let library = ["libnvidia-ml.so.1", "libnvidia-ml.so"]
		.iter()
		.find_map(|name| libloading::Library::new(name).ok())
		.ok_or("NVML library not found")?;
	let symbol = |name: &[u8]| -> Result<*const c_void, String> {
		library
			.get::<*const c_void>(name)
			.map(|s| *s)
			.map_err(|e| format!("NVML lacks {}: {e}", String::from_utf8_lossy(name)))
	};
	let init: extern "C" fn() -> c_int = std::mem::transmute(symbol(b"nvmlInit_v2\0")?);
	let shutdown: extern "C" fn() -> c_int = std::mem::transmute(symbol(b"nvmlShutdown\0")?);
	let count_fn: extern "C" fn(*mut c_uint) -> c_int =
		std::mem::transmute(symbol(b"nvmlDeviceGetCount_v2\0")?);
	let handle_fn: extern "C" fn(c_uint, *mut Device) -> c_int =
		std::mem::transmute(symbol(b"nvmlDeviceGetHandleByIndex_v2\0")?);
	let name_fn: extern "C" fn(Device, *mut c_char, c_uint) -> c_int =
		std::mem::transmute(symbol(b"nvmlDeviceGetName\0")?);
	let memory_fn: extern "C" fn(Device, *mut NvmlMemory) -> c_int =
		std::mem::transmute(symbol(b"nvmlDeviceGetMemoryInfo\0")?);

	if init() != 0 {
		return Err("nvmlInit failed (no driver?)".into());
	}
	let mut count: c_uint = 0;
	let mut gpus = Vec::new();
	if count_fn(&mut count) == 0 {
		for index in 0..count {
			let mut device: Device = std::ptr::null_mut();
			if handle_fn(index, &mut device) != 0 {
				continue;
			}
			let mut name = [0 as c_char; 96];
			let model = if name_fn(device, name.as_mut_ptr(), name.len() as c_uint) == 0 {
				CStr::from_ptr(name.as_ptr()).to_string_lossy().into_owned()
			} else {
				"unknown".into()
			};
			let mut memory = NvmlMemory::default();
			let memory_mib =
				if memory_fn(device, &mut memory) == 0 { memory.total / (1024 * 1024) } else { 0 };
			gpus.push(Gpu { model, memory_mib });
		}
	}
	shutdown();
	Ok(gpus)
}
