//! The hashes a worker commits to and the bytes it signs: design section 5's commit-reveal,
//! with blake2-256 and SCALE encodings. The worker daemon computes the same (docs/poco.md).

use crate::types::{Attestation, TaskId, ATTESTATION_CONTEXT};
use alloc::vec::Vec;
use codec::Encode;
use sp_core::H256;
use sp_io::hashing::blake2_256;

/// `result_hash = H(task, digest)`: equal for every worker with the same result.
pub fn result_hash(task: TaskId, digest: &[u8; 32]) -> H256 {
	H256(blake2_256(&(task, digest).encode()))
}

/// `result_seal = H(worker, task, digest)`: proves the worker knew the digest when it
/// committed, so that copying another's `result_hash` earns nothing.
pub fn result_seal<AccountId: Encode>(worker: &AccountId, task: TaskId, digest: &[u8; 32]) -> H256 {
	H256(blake2_256(&(worker, task, digest).encode()))
}

/// The hash of an attestation, committed with the contribution.
pub fn attestation_hash<AccountId: Encode>(attestation: &Attestation<AccountId>) -> H256 {
	H256(blake2_256(&attestation.encode()))
}

/// The bytes a worker signs: the context, then the SCALE-encoded attestation.
pub fn signed_bytes<AccountId: Encode>(attestation: &Attestation<AccountId>) -> Vec<u8> {
	let mut bytes = ATTESTATION_CONTEXT.to_vec();
	attestation.encode_to(&mut bytes);
	bytes
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn commitments_bind_what_they_say() {
		let task = TaskId { deal: 1, index: 2 };
		let other = TaskId { deal: 1, index: 3 };
		let (a, b) = ([1u8; 32], [2u8; 32]);
		assert_ne!(result_hash(task, &a), result_hash(task, &b));
		assert_ne!(result_hash(task, &a), result_hash(other, &a));
		assert_ne!(result_seal(&7u64, task, &a), result_seal(&8u64, task, &a));
		assert_ne!(result_seal(&7u64, task, &a), result_hash(task, &a));
		// Pinned: the worker computes these bytes too.
		assert_eq!(
			(task, a).encode(),
			[&1u64.to_le_bytes()[..], &2u32.to_le_bytes()[..], &a[..]].concat()
		);
	}
}
