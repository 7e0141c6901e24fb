//! Bodies of the calls declared in `lib.rs`.

use super::*;
use crate::validation::{check_terms, TermsError};
use frame_support::{
	ensure,
	traits::{fungible::MutateHold, tokens::Precision, Get},
};
use sp_runtime::{
	traits::{Saturating, Zero},
	DispatchError, DispatchResult,
};

impl<T: Config> From<TermsError> for Error<T> {
	fn from(error: TermsError) -> Self {
		match error {
			TermsError::RatioAbove100 => Error::RatioAbove100,
			TermsError::InvalidClassAd => Error::InvalidClassAd,
			TermsError::EmptyField => Error::EmptyField,
		}
	}
}

impl<T: Config> Pallet<T> {
	/// `DepositBase + DepositPerByte × bytes` stored by the contract.
	pub fn deposit_for(stored_bytes: usize) -> BalanceOf<T> {
		let bytes: BalanceOf<T> = (stored_bytes as u32).into();
		T::DepositBase::get().saturating_add(T::DepositPerByte::get().saturating_mul(bytes))
	}

	/// `propose` at its dearest: the longest ClassAd text in the densest of the benchmarked
	/// shapes.
	pub(crate) fn propose_weight() -> frame_support::weights::Weight {
		T::WeightInfo::propose_clauses()
			.max(T::WeightInfo::propose_list())
			.max(T::WeightInfo::propose_calls())
			.max(T::WeightInfo::propose_string())
	}

	pub(crate) fn do_propose(
		who: T::AccountId,
		rfc: Rfc<T::MaxUriLen>,
		terms: TermsOf<T>,
	) -> DispatchResult {
		let kind = check_terms(&terms).map_err(Error::<T>::from)?;
		ensure!(!rfc.uri.is_empty(), Error::<T>::EmptyField);
		let id = NextContractId::<T>::get();
		let next = id.checked_add(1).ok_or(Error::<T>::IdsExhausted)?;
		let mut contract = Contract {
			owner: who.clone(),
			depositor: who.clone(),
			deposit: Zero::zero(),
			status: Status::Proposed,
			rfc,
			terms,
		};
		// What the contract takes in storage: its encoding, plus its whole key (the pallet's
		// and the map's prefixes, the hash and the id).
		let stored =
			codec::Encode::encoded_size(&contract) + Contracts::<T>::hashed_key_for(id).len();
		let deposit = Self::deposit_for(stored);
		T::Currency::hold(&HoldReason::ContractDeposit.into(), &who, deposit)
			.map_err(|_| Error::<T>::CannotHoldDeposit)?;
		contract.deposit = deposit;
		Contracts::<T>::insert(id, contract);
		NextContractId::<T>::put(next);
		Self::deposit_event(Event::ContractProposed { id, owner: who, kind, deposit });
		Ok(())
	}

	/// Withdraw (`Proposed`), retire (`Approved`) or remove (`Revoked`): delete the contract
	/// and release its deposit to whoever paid it.
	pub(crate) fn do_release(
		who: T::AccountId,
		id: ContractId,
		expected: Status,
	) -> DispatchResult {
		let contract = Contracts::<T>::get(id).ok_or(Error::<T>::UnknownContract)?;
		ensure!(contract.owner == who, Error::<T>::NotOwner);
		ensure!(contract.status == expected, Self::wrong_status(expected));
		// A usable contract may still be offered; a proposed or revoked one matches nothing.
		if expected == Status::Approved {
			ensure!(T::Users::open_offers(id) == 0, Error::<T>::ContractInUse);
		}
		let refunded = T::Currency::release(
			&HoldReason::ContractDeposit.into(),
			&contract.depositor,
			contract.deposit,
			Precision::BestEffort,
		)?;
		Contracts::<T>::remove(id);
		Self::deposit_event(match expected {
			Status::Proposed => Event::ContractWithdrawn { id, refunded },
			Status::Approved => Event::ContractRetired { id, refunded },
			Status::Revoked => Event::ContractRemoved { id, refunded },
		});
		Ok(())
	}

	pub(crate) fn do_set_status(id: ContractId, from: Status, to: Status) -> DispatchResult {
		Contracts::<T>::try_mutate(id, |contract| -> DispatchResult {
			let contract = contract.as_mut().ok_or(Error::<T>::UnknownContract)?;
			ensure!(contract.status == from, Self::wrong_status(from));
			contract.status = to;
			Ok(())
		})?;
		Self::deposit_event(match to {
			Status::Approved => Event::ContractApproved { id },
			_ => Event::ContractRevoked { id },
		});
		Ok(())
	}

	pub(crate) fn do_transfer(
		who: T::AccountId,
		id: ContractId,
		to: T::AccountId,
	) -> DispatchResult {
		Contracts::<T>::try_mutate(id, |contract| -> DispatchResult {
			let contract = contract.as_mut().ok_or(Error::<T>::UnknownContract)?;
			ensure!(contract.owner == who, Error::<T>::NotOwner);
			contract.owner = to.clone();
			Ok(())
		})?;
		Self::deposit_event(Event::OwnershipTransferred { id, from: who, to });
		Ok(())
	}

	fn wrong_status(expected: Status) -> DispatchError {
		match expected {
			Status::Proposed => Error::<T>::NotProposed,
			Status::Approved => Error::<T>::NotApproved,
			Status::Revoked => Error::<T>::NotRevoked,
		}
		.into()
	}

	/// Deposits are conserved: every account's held balance for this pallet equals the sum of
	/// the deposits of the contracts it paid for.
	#[cfg(any(feature = "try-runtime", feature = "std", test))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::btree_map::BTreeMap;
		use frame_support::traits::fungible::InspectHold;
		let mut expected: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		let mut highest = None;
		for (id, contract) in Contracts::<T>::iter() {
			let entry = expected.entry(contract.depositor.clone()).or_insert_with(Zero::zero);
			*entry = entry.saturating_add(contract.deposit);
			highest = highest.max(Some(id));
		}
		for (who, deposits) in expected {
			let held = T::Currency::balance_on_hold(&HoldReason::ContractDeposit.into(), &who);
			ensure!(held == deposits, "held deposit differs from the contracts' deposits");
		}
		ensure!(
			highest.map_or(true, |id| id < NextContractId::<T>::get()),
			"a contract id is not below NextContractId"
		);
		Ok(())
	}
}
