//! The native side of `worker-bench`: the same four kernels as its WAT modules, so that a Wasm
//! run can be compared with the processor running the same loops.
//!
//! Two things keep the comparison honest:
//! - this crate is built with `opt-level = 3` in every profile (the workspace's
//!   `[profile.dev.package.iexec-bench-kernels]`), so a debug build of the bench still compares
//!   with optimised native code;
//! - each kernel is compiled twice, once for the baseline target and once with the x86-64-v3
//!   features (AVX2, FMA, BMI, LZCNT, POPCNT) that Cranelift also uses when the host has them
//!   (wasmtime detects the host's features the same way); [`features`] says which one runs.

/// Kernel sizes, shared with the bench's WAT modules.
pub const N: usize = 128;
pub const MATMUL_REPS: usize = 30;
/// 64 MiB of `u64`.
pub const WORDS: usize = 8 << 20;
pub const HASH_PASSES: usize = 4;
pub const COLLATZ_N: u64 = 300_000;
/// 16 MiB of `u32`.
pub const CHASE_ENTRIES: u32 = 1 << 22;
pub const CHASE_STEPS: u32 = 1 << 24;

/// Whether the host has the features of the second build of each kernel.
fn x86_64_v3() -> bool {
	#[cfg(target_arch = "x86_64")]
	{
		std::arch::is_x86_feature_detected!("avx2")
			&& std::arch::is_x86_feature_detected!("fma")
			&& std::arch::is_x86_feature_detected!("bmi1")
			&& std::arch::is_x86_feature_detected!("bmi2")
			&& std::arch::is_x86_feature_detected!("lzcnt")
			&& std::arch::is_x86_feature_detected!("popcnt")
	}
	#[cfg(not(target_arch = "x86_64"))]
	{
		false
	}
}

/// The features the kernels run with on this host, in words.
pub fn features() -> &'static str {
	if x86_64_v3() {
		"x86-64-v3 (AVX2, FMA, BMI1/2, LZCNT, POPCNT), as Cranelift uses them here"
	} else {
		"the target's baseline"
	}
}

/// Defines `pub fn $name() -> $out` that runs `$body` built for x86-64-v3 when the host has
/// it, for the baseline otherwise.
macro_rules! kernel {
	($(#[$doc:meta])* $name:ident -> $out:ty $body:block) => {
		$(#[$doc])*
		#[inline(never)]
		pub fn $name() -> $out {
			#[inline(always)]
			fn body() -> $out $body
			#[cfg(target_arch = "x86_64")]
			#[target_feature(enable = "avx,avx2,fma,bmi1,bmi2,lzcnt,popcnt,sse3,ssse3,sse4.1,sse4.2")]
			unsafe fn v3() -> $out {
				body()
			}
			#[cfg(target_arch = "x86_64")]
			if x86_64_v3() {
				// SAFETY: the host has every feature `v3` is built for.
				return unsafe { v3() };
			}
			body()
		}
	};
}

kernel! {
	/// `C = A × B` for 128×128 f64 matrices, `MATMUL_REPS` times; the sum of C.
	matmul -> f64 {
		let a: Vec<f64> = (0..N * N).map(|i| (i % 7) as f64 * 0.5).collect();
		let b: Vec<f64> = (0..N * N).map(|i| (i % 5) as f64 * 0.25).collect();
		let mut c = vec![0f64; N * N];
		for _ in 0..MATMUL_REPS {
			for i in 0..N {
				for j in 0..N {
					let mut sum = 0.0;
					for k in 0..N {
						sum += a[i * N + k] * b[k * N + j];
					}
					c[i * N + j] = sum;
				}
			}
		}
		c.iter().sum()
	}
}

kernel! {
	/// Fills 64 MiB with xorshift64 output, then mixes it FNV-style `HASH_PASSES` times.
	hash -> u64 {
		let mut words = vec![0u64; WORDS];
		let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
		for w in words.iter_mut() {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			*w = x;
		}
		let mut h: u64 = 0xcbf2_9ce4_8422_2325;
		for _ in 0..HASH_PASSES {
			for w in &words {
				h = (h ^ w).wrapping_mul(0x100_0000_01b3).rotate_left(13);
			}
		}
		h
	}
}

kernel! {
	/// Branchy integer code: the Collatz steps of every number up to `COLLATZ_N`, summed.
	collatz -> u64 {
		let mut total = 0u64;
		for n in 1..=COLLATZ_N {
			let mut x = n;
			while x != 1 {
				x = if x & 1 == 0 { x >> 1 } else { 3 * x + 1 };
				total += 1;
			}
		}
		total
	}
}

kernel! {
	/// Memory-bound code: a chase through a 16 MiB table of next indices (a full-period
	/// linear congruential step, so every load waits for the one before).
	chase -> u64 {
		let next: Vec<u32> = (0..CHASE_ENTRIES)
			.map(|i| i.wrapping_mul(1_664_525).wrapping_add(1_013_904_223) & (CHASE_ENTRIES - 1))
			.collect();
		let (mut p, mut sum) = (0u32, 0u64);
		for _ in 0..CHASE_STEPS {
			p = next[p as usize];
			sum += u64::from(p);
		}
		sum
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn the_kernels_give_their_known_results() {
		// Figures the WAT modules of `worker-bench` must reproduce bit for bit.
		assert_eq!(collatz(), 35_669_725);
		let sum = matmul();
		assert!(sum.is_finite() && sum > 0.0, "{sum}");
	}
}
