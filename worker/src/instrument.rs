//! Rewrites an untrusted Wasm module before it is compiled, so that what wasmtime leaves to
//! the host is decided by the module alone, and its work is metered cheaply:
//!
//! - **Stack depth.** Where a deep recursion overflows the native stack depends on native
//!   frame sizes, so on the CPU and the compiler version. Every function here adds its cost
//!   (a frame, its parameters and locals, its deepest operand stack and a share of its length)
//!   to a counter on entry and takes it off on exit; past [`STACK_LIMIT`] it traps. Every
//!   worker traps at the same call, well before the native stack (sized to
//!   [`NATIVE_STACK_BYTES`]) could run out.
//! - **NaN bits** (unless the deal keeps its replicas on one architecture,
//!   [`Determinism::SameArchitecture`]; then only the results of rounding operations, whose
//!   NaNs differ with the processor's features, see [`rounding`]). Arithmetic on floats may
//!   return a NaN whose sign and payload differ between CPUs. They only matter once they can
//!   be seen: stored to memory, reinterpreted as an integer, given as the sign of `copysign`,
//!   put in a vector lane or a global. There the value is replaced by the canonical NaN when
//!   it is one, unless it plainly came straight from memory, a constant or a local that only
//!   ever holds such values (so a NaN's payload still survives a copy). Vector float arithmetic is canonicalised at once, lane by lane.
//!   This costs a compare and a select per store of a computed float, where canonicalising
//!   every operation (wasmtime's option) costs one per operation.
//! - **Fuel.** A counter, charged on entry to a function with the number of its instructions
//!   outside loops, and at the head of each loop with the number of instructions of its body
//!   (nested loops charge their own). Between two charges control only moves forward, so every
//!   instruction run is paid for, at most once per charge: the fuel a task uses bounds the
//!   instructions it runs, and is the same on every host. Below zero, the module traps.
//!   The counter is an `i64` at address 0 of a one-page memory of its own, exported as
//!   [`FUEL_EXPORT`], so that the host can also end a task at its wall-time limit by writing
//!   a negative count there from another thread ([`crate::fuel_meter`]). One charge per loop
//!   iteration, with no call on its path, costs far less than wasmtime's fuel (a count in
//!   every basic block) and epoch checks: their calls out, even never taken, make the
//!   compiled loop keep its floats on the stack.
//!
//! The host reads the stack counter through [`STACK_HEIGHT_EXPORT`]. The module's start
//! function, if any, is exported as [`START_EXPORT`] instead of run at instantiation, so that
//! the host can give the fuel first.
//!
//! Tail calls, exceptions, threads and the other proposals the sandbox turns off are refused
//! here already, with the validator's message.

use crate::task::Determinism;
use std::collections::HashMap;
use wasm_encoder::{
	reencode::{self, Reencode},
	BlockType, ConstExpr, ExportKind, GlobalType, Ieee32, Ieee64, Instruction, ValType,
};
use wasmparser::{FuncValidatorAllocations, Operator, Parser, Payload, Validator, WasmFeatures};

/// Stack units a task may hold at once (a unit is about one Wasm value).
pub const STACK_LIMIT: u32 = 1 << 18;
/// Native stack given to Wasm code: 512 bytes a unit, many times what a compiled frame needs.
pub const NATIVE_STACK_BYTES: usize = 128 << 20;
/// The export through which the host reads the stack counter after a trap.
pub const STACK_HEIGHT_EXPORT: &str = "iexec:stack-height";
/// The memory whose first 8 bytes are the fuel left (an `i64`; below zero once it ran out).
pub const FUEL_EXPORT: &str = "iexec:fuel";
/// The module's start function, which the host calls once it has given the fuel.
pub const START_EXPORT: &str = "iexec:start";
const RESERVED: [&str; 3] = [STACK_HEIGHT_EXPORT, FUEL_EXPORT, START_EXPORT];
/// Fixed units of every frame (return address, saved registers), and instructions per unit
/// charged for a function's length (values a compiled body may keep beside its locals).
const FRAME_UNITS: u32 = 4;
const INSTRUCTIONS_PER_UNIT: u32 = 16;

const CANONICAL_F32: u32 = 0x7fc0_0000;
const CANONICAL_F64: u64 = 0x7ff8_0000_0000_0000;

/// The proposals a task may use: wasmtime's defaults less those the sandbox turns off.
pub fn features() -> WasmFeatures {
	let mut features = WasmFeatures::default();
	for off in [
		WasmFeatures::THREADS,
		WasmFeatures::SHARED_EVERYTHING_THREADS,
		WasmFeatures::RELAXED_SIMD,
		WasmFeatures::TAIL_CALL,
		WasmFeatures::EXCEPTIONS,
		WasmFeatures::LEGACY_EXCEPTIONS,
		WasmFeatures::GC,
		WasmFeatures::STACK_SWITCHING,
		WasmFeatures::COMPONENT_MODEL,
		WasmFeatures::MEMORY64,
		WasmFeatures::CUSTOM_PAGE_SIZES,
		WasmFeatures::WIDE_ARITHMETIC,
	] {
		features.remove(off);
	}
	features
}

/// Where a float on top of the stack came from, as far as the instruction before says.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Source {
	/// Memory, a constant, an integer: its bits are the same everywhere.
	Exact,
	/// A local: exact when every value the local is given is.
	Local(u32),
	/// Arithmetic, a parameter, a call, a block's result: assume any NaN bits.
	Computed,
}

fn source(previous: Option<&Operator>) -> Source {
	use Operator::*;
	match previous {
		Some(F32Load { .. } | F64Load { .. } | F32Const { .. } | F64Const { .. }) => Source::Exact,
		Some(F32ReinterpretI32 | F64ReinterpretI64 | GlobalGet { .. }) => Source::Exact,
		Some(F32x4ExtractLane { .. } | F64x2ExtractLane { .. }) => Source::Exact,
		Some(
			F32ConvertI32S | F32ConvertI32U | F32ConvertI64S | F32ConvertI64U | F64ConvertI32S
			| F64ConvertI32U | F64ConvertI64S | F64ConvertI64U,
		) => Source::Exact,
		Some(LocalGet { local_index }) => Source::Local(*local_index),
		_ => Source::Computed,
	}
}

#[derive(Clone, Copy, PartialEq)]
enum Float {
	F32,
	F64,
}

/// The float an operator reveals the bits of (the value on top of the stack), if any.
fn reveals(op: &Operator) -> Option<Float> {
	use Operator::*;
	match op {
		F32Store { .. }
		| I32ReinterpretF32
		| F32Copysign
		| F32x4Splat
		| F32x4ReplaceLane { .. } => Some(Float::F32),
		F64Store { .. }
		| I64ReinterpretF64
		| F64Copysign
		| F64x2Splat
		| F64x2ReplaceLane { .. } => Some(Float::F64),
		_ => None,
	}
}

/// The lane type of a vector operation that may return NaNs of any bits.
fn vector_nan_source(op: &Operator) -> Option<Float> {
	use Operator::*;
	match op {
		F32x4Add | F32x4Sub | F32x4Mul | F32x4Div | F32x4Sqrt | F32x4Min | F32x4Max | F32x4Ceil
		| F32x4Floor | F32x4Trunc | F32x4Nearest | F32x4DemoteF64x2Zero => Some(Float::F32),
		F64x2Add | F64x2Sub | F64x2Mul | F64x2Div | F64x2Sqrt | F64x2Min | F64x2Max | F64x2Ceil
		| F64x2Floor | F64x2Trunc | F64x2Nearest | F64x2PromoteLowF32x4 => Some(Float::F64),
		_ => None,
	}
}

/// The rounding operations (scalar, then vector), whose NaN results differ between two
/// processors of one architecture: on x86, Cranelift rounds with SSE4.1's `round*`, which
/// keeps the input NaN's bits, and without SSE4.1 calls a helper that answers the canonical
/// NaN. So they are canonicalised even when a deal keeps the other NaNs as they come.
fn rounding(op: &Operator) -> (Option<Float>, Option<Float>) {
	use Operator::*;
	match op {
		F32Ceil | F32Floor | F32Trunc | F32Nearest => (Some(Float::F32), None),
		F64Ceil | F64Floor | F64Trunc | F64Nearest => (Some(Float::F64), None),
		F32x4Ceil | F32x4Floor | F32x4Trunc | F32x4Nearest => (None, Some(Float::F32)),
		F64x2Ceil | F64x2Floor | F64x2Trunc | F64x2Nearest => (None, Some(Float::F64)),
		_ => (None, None),
	}
}

/// What the rewrite needs to know of one defined function.
struct FunctionPlan {
	/// Stack units it holds while it runs.
	cost: u32,
	/// Its parameters and locals.
	locals: u32,
	/// Float locals that only ever hold exact values.
	exact_locals: Vec<bool>,
	/// The wrapping block's type: no result, one, or a new type for several.
	results: Vec<wasmparser::ValType>,
	/// Fuel charged on entry (instructions outside loops), and at the head of each loop,
	/// in the order the loops begin.
	entry_fuel: u32,
	loop_fuel: Vec<u32>,
}

/// The whole module as the rewrite needs it.
struct Plan {
	functions: Vec<FunctionPlan>,
	/// Types in the module (new ones go after), and the types of its globals (the counter
	/// goes after them).
	types: u32,
	global_types: Vec<wasmparser::ValType>,
	/// Result lists that need a type of their own, with the index each gets.
	new_types: Vec<Vec<wasmparser::ValType>>,
	/// Memories (the meter's comes after them), and the start function.
	memories: u32,
	start: Option<u32>,
}

/// Validates `bytes` with the sandbox's features and plans the rewrite.
fn plan(bytes: &[u8]) -> Result<Plan, String> {
	let mut validator = Validator::new_with_features(features());
	let mut func_types: Vec<Option<wasmparser::FuncType>> = Vec::new();
	let mut defined: Vec<u32> = Vec::new();
	let mut plan = Plan {
		functions: Vec::new(),
		types: 0,
		global_types: Vec::new(),
		new_types: Vec::new(),
		memories: 0,
		start: None,
	};
	let mut allocations = FuncValidatorAllocations::default();
	let mut seen_results = std::collections::HashSet::new();
	let error = |e: wasmparser::BinaryReaderError| e.to_string();
	for payload in Parser::new(0).parse_all(bytes) {
		let payload = payload.map_err(error)?;
		match &payload {
			Payload::TypeSection(reader) => {
				for group in reader.clone() {
					for ty in group.map_err(error)?.into_types() {
						func_types.push(match ty.composite_type.inner {
							wasmparser::CompositeInnerType::Func(f) => Some(f),
							_ => None,
						});
					}
				}
			}
			Payload::ImportSection(reader) => {
				for import in reader.clone().into_imports() {
					match import.map_err(error)?.ty {
						wasmparser::TypeRef::Global(global) => {
							plan.global_types.push(global.content_type)
						}
						wasmparser::TypeRef::Memory(_) => plan.memories += 1,
						_ => {}
					}
				}
			}
			Payload::FunctionSection(reader) => {
				for ty in reader.clone() {
					defined.push(ty.map_err(error)?);
				}
			}
			Payload::MemorySection(reader) => plan.memories += reader.count(),
			Payload::StartSection { func, .. } => plan.start = Some(*func),
			Payload::GlobalSection(reader) => {
				for global in reader.clone() {
					plan.global_types.push(global.map_err(error)?.ty.content_type);
				}
			}
			_ => {}
		}
		if let wasmparser::ValidPayload::Func(to_validate, body) =
			validator.payload(&payload).map_err(error)?
		{
			let index = plan.functions.len();
			let ty = defined
				.get(index)
				.and_then(|t| func_types.get(*t as usize).cloned().flatten())
				.ok_or("a function without a function type")?;
			let mut func = to_validate.into_validator(std::mem::take(&mut allocations));
			let mut reader = body.get_binary_reader();
			func.read_locals(&mut reader).map_err(error)?;
			let locals = func.len_locals();
			let params = ty.params().len() as u32;
			let mut ops = body.get_operators_reader().map_err(error)?;
			let (mut deepest, mut count) = (0u32, 0u32);
			let mut previous: Option<Operator> = None;
			// (local, where its value came from) for every write of a float local.
			let mut writes: Vec<(u32, Source)> = Vec::new();
			// Instructions outside loops, and in each loop's own body; the open blocks, with
			// the loop each is.
			let mut entry_fuel = 0u32;
			let mut loop_fuel: Vec<u32> = Vec::new();
			let mut open: Vec<Option<usize>> = Vec::new();
			while !ops.eof() {
				let (op, offset) = ops.read_with_offset().map_err(error)?;
				let innermost = open.iter().rev().find_map(|o| *o);
				match innermost {
					Some(l) => loop_fuel[l] = loop_fuel[l].saturating_add(1),
					None => entry_fuel = entry_fuel.saturating_add(1),
				}
				match op {
					Operator::Loop { .. } => {
						open.push(Some(loop_fuel.len()));
						loop_fuel.push(0);
					}
					Operator::Block { .. } | Operator::If { .. } => open.push(None),
					Operator::End => {
						open.pop();
					}
					_ => {}
				}
				if let Operator::LocalSet { local_index } | Operator::LocalTee { local_index } = op
				{
					if matches!(
						func.get_local_type(local_index),
						Some(wasmparser::ValType::F32 | wasmparser::ValType::F64)
					) {
						writes.push((local_index, source(previous.as_ref())));
					}
				}
				func.op(offset, &op).map_err(error)?;
				deepest = deepest.max(func.operand_stack_height());
				count = count.saturating_add(1);
				previous = Some(op);
			}
			ops.finish().map_err(error)?;
			// Parameters may hold anything; other locals start at 0.0 and stay exact while
			// every write is exact (to a fixed point: a local copied from a local).
			let exact = exact_locals(locals, params, &writes);
			let cost = FRAME_UNITS
				.saturating_add(locals)
				.saturating_add(deepest)
				.saturating_add(count / INSTRUCTIONS_PER_UNIT);
			let results = ty.results().to_vec();
			if results.len() > 1 && seen_results.insert(results.clone()) {
				plan.new_types.push(results.clone());
			}
			plan.functions.push(FunctionPlan {
				cost,
				locals,
				exact_locals: exact,
				results,
				entry_fuel,
				loop_fuel,
			});
			allocations = func.into_allocations();
		}
	}
	plan.types = func_types.len() as u32;
	Ok(plan)
}

/// Which locals only ever hold exact floats: not parameters (they may hold anything), and not
/// a local given a computed value or the value of a local that is not exact. Spread along the
/// copies with a work list, so the cost is linear in locals and writes.
fn exact_locals(locals: u32, params: u32, writes: &[(u32, Source)]) -> Vec<bool> {
	let mut exact: Vec<bool> = (0..locals).map(|l| l >= params).collect();
	let mut copies_of: HashMap<u32, Vec<u32>> = HashMap::new();
	let mut lost: Vec<u32> = (0..params.min(locals)).collect();
	for (local, from) in writes {
		match from {
			Source::Exact => {}
			Source::Local(other) => copies_of.entry(*other).or_default().push(*local),
			Source::Computed => lost.push(*local),
		}
	}
	while let Some(local) = lost.pop() {
		let Some(slot) = exact.get_mut(local as usize) else { continue };
		let was_exact = *slot || local < params;
		*slot = false;
		if was_exact {
			lost.extend(copies_of.remove(&local).unwrap_or_default());
		}
	}
	exact
}

/// The rewrite, as a re-encoder that keeps the module and changes what [`plan`] says.
struct Rewriter<'p> {
	plan: &'p Plan,
	/// Whether NaNs are canonicalised (not when the deal keeps replicas on one architecture).
	canonicalise_nans: bool,
	next_function: usize,
	added_global: bool,
	added_export: bool,
	added_memory: bool,
	types_by_results: HashMap<Vec<wasmparser::ValType>, u32>,
}

impl Rewriter<'_> {
	/// The stack counter: the global after the module's own.
	fn counter(&self) -> u32 {
		self.plan.global_types.len() as u32
	}

	fn global_section_with_counter(&mut self, globals: &mut wasm_encoder::GlobalSection) {
		globals.global(
			GlobalType { val_type: ValType::I32, mutable: true, shared: false },
			&ConstExpr::i32_const(0),
		);
		self.added_global = true;
	}

	/// The meter's memory: after the module's own.
	fn meter(&self) -> u32 {
		self.plan.memories
	}

	fn memory_section_with_meter(&mut self, memories: &mut wasm_encoder::MemorySection) {
		memories.memory(wasm_encoder::MemoryType {
			minimum: 1,
			maximum: Some(1),
			memory64: false,
			shared: false,
			page_size_log2: None,
		});
		self.added_memory = true;
	}

	fn exports_of_counters(&mut self, exports: &mut wasm_encoder::ExportSection) {
		exports.export(STACK_HEIGHT_EXPORT, ExportKind::Global, self.counter());
		exports.export(FUEL_EXPORT, ExportKind::Memory, self.meter());
		if let Some(start) = self.plan.start {
			exports.export(START_EXPORT, ExportKind::Func, start);
		}
		self.added_export = true;
	}
}

fn val_type(ty: wasmparser::ValType) -> Result<ValType, reencode::Error<String>> {
	reencode::RoundtripReencoder.val_type(ty).map_err(|_| reencode::Error::UserError("type".into()))
}

/// Takes `amount` from the fuel counter (address 0 of memory `meter`); below zero, traps.
fn charge(f: &mut wasm_encoder::Function, meter: u32, amount: u32) {
	let at = wasm_encoder::MemArg {
		offset: 0,
		align: 3,
		target: wasm_encoder::MemArgTarget::Memory(meter),
		ordering: None,
	};
	f.instruction(&Instruction::I32Const(0));
	f.instruction(&Instruction::I32Const(0));
	f.instruction(&Instruction::I64Load(at));
	f.instruction(&Instruction::I64Const(i64::from(amount)));
	f.instruction(&Instruction::I64Sub);
	f.instruction(&Instruction::I64Store(at));
	f.instruction(&Instruction::I32Const(0));
	f.instruction(&Instruction::I64Load(at));
	f.instruction(&Instruction::I64Const(0));
	f.instruction(&Instruction::I64LtS);
	f.instruction(&Instruction::If(BlockType::Empty));
	f.instruction(&Instruction::Unreachable);
	f.instruction(&Instruction::End);
}

/// `bytes` without its start section (the start function is exported instead).
fn without_start_section(bytes: &[u8]) -> Result<Vec<u8>, String> {
	let mut out = bytes[..8].to_vec();
	for payload in Parser::new(0).parse_all(bytes) {
		let payload = payload.map_err(|e| e.to_string())?;
		if let Some((id, range)) = payload.as_section() {
			if id != wasm_encoder::SectionId::Start as u8 {
				// The section's id, its size and its contents, as they were.
				let range = range.start as usize..range.end as usize;
				out.push(id);
				leb128(&mut out, range.len() as u32);
				out.extend_from_slice(&bytes[range]);
			}
		}
	}
	Ok(out)
}

fn leb128(out: &mut Vec<u8>, mut value: u32) {
	loop {
		let byte = (value & 0x7f) as u8;
		value >>= 7;
		if value == 0 {
			out.push(byte);
			return;
		}
		out.push(byte | 0x80);
	}
}

/// Replaces the float on top of the stack by the canonical NaN when it is a NaN, through the
/// scratch local `scratch`.
fn canonicalise(f: &mut wasm_encoder::Function, float: Float, scratch: u32) {
	f.instruction(&Instruction::LocalTee(scratch));
	match float {
		Float::F32 => f.instruction(&Instruction::F32Const(Ieee32::new(CANONICAL_F32))),
		Float::F64 => f.instruction(&Instruction::F64Const(Ieee64::new(CANONICAL_F64))),
	};
	f.instruction(&Instruction::LocalGet(scratch));
	f.instruction(&Instruction::LocalGet(scratch));
	f.instruction(match float {
		Float::F32 => &Instruction::F32Eq,
		Float::F64 => &Instruction::F64Eq,
	});
	f.instruction(&Instruction::Select);
}

/// The same for each lane of the vector on top of the stack.
fn canonicalise_lanes(f: &mut wasm_encoder::Function, float: Float, scratch: u32) {
	f.instruction(&Instruction::LocalTee(scratch));
	let canonical = match float {
		Float::F32 => i128::from_le_bytes(
			[CANONICAL_F32.to_le_bytes(); 4].concat().try_into().expect("16 bytes"),
		),
		Float::F64 => i128::from_le_bytes(
			[CANONICAL_F64.to_le_bytes(); 2].concat().try_into().expect("16 bytes"),
		),
	};
	f.instruction(&Instruction::V128Const(canonical));
	f.instruction(&Instruction::LocalGet(scratch));
	f.instruction(&Instruction::LocalGet(scratch));
	f.instruction(match float {
		Float::F32 => &Instruction::F32x4Eq,
		Float::F64 => &Instruction::F64x2Eq,
	});
	f.instruction(&Instruction::V128Bitselect);
}

impl Reencode for Rewriter<'_> {
	type Error = String;

	fn parse_type_section(
		&mut self,
		types: &mut wasm_encoder::TypeSection,
		section: wasmparser::TypeSectionReader<'_>,
	) -> Result<(), reencode::Error<String>> {
		reencode::utils::parse_type_section(self, types, section)?;
		for (i, results) in self.plan.new_types.iter().enumerate() {
			let results: Vec<ValType> =
				results.iter().map(|t| val_type(*t)).collect::<Result<_, _>>()?;
			types.ty().function([], results.clone());
			self.types_by_results
				.insert(self.plan.new_types[i].clone(), self.plan.types + i as u32);
		}
		Ok(())
	}

	fn parse_memory_section(
		&mut self,
		memories: &mut wasm_encoder::MemorySection,
		section: wasmparser::MemorySectionReader<'_>,
	) -> Result<(), reencode::Error<String>> {
		reencode::utils::parse_memory_section(self, memories, section)?;
		self.memory_section_with_meter(memories);
		Ok(())
	}

	fn parse_global_section(
		&mut self,
		globals: &mut wasm_encoder::GlobalSection,
		section: wasmparser::GlobalSectionReader<'_>,
	) -> Result<(), reencode::Error<String>> {
		reencode::utils::parse_global_section(self, globals, section)?;
		self.global_section_with_counter(globals);
		Ok(())
	}

	fn parse_export_section(
		&mut self,
		exports: &mut wasm_encoder::ExportSection,
		section: wasmparser::ExportSectionReader<'_>,
	) -> Result<(), reencode::Error<String>> {
		for export in section.clone() {
			let name = export?.name;
			if RESERVED.contains(&name) {
				return Err(reencode::Error::UserError(format!(
					"the export name `{name}` is reserved"
				)));
			}
		}
		reencode::utils::parse_export_section(self, exports, section)?;
		self.exports_of_counters(exports);
		Ok(())
	}

	fn intersperse_section_hook(
		&mut self,
		module: &mut wasm_encoder::Module,
		_after: Option<wasm_encoder::SectionId>,
		before: Option<wasm_encoder::SectionId>,
	) -> Result<(), reencode::Error<String>> {
		use wasm_encoder::SectionId::*;
		// A module without a memory (or global, or export) section gets one for the meter,
		// where it would be.
		let past_memories = matches!(
			before,
			None | Some(Tag | Global | Export | Start | Element | DataCount | Code | Data)
		);
		if past_memories && !self.added_memory {
			let mut memories = wasm_encoder::MemorySection::new();
			self.memory_section_with_meter(&mut memories);
			module.section(&memories);
		}
		// A module without globals gets a global section for the counter, where one would be.
		let past_globals =
			matches!(before, None | Some(Export | Start | Element | DataCount | Code | Data));
		if past_globals && !self.added_global {
			let mut globals = wasm_encoder::GlobalSection::new();
			self.global_section_with_counter(&mut globals);
			module.section(&globals);
		}
		// And an export section, where one would be.
		let past_exports = matches!(before, None | Some(Start | Element | DataCount | Code | Data));
		if past_exports && !self.added_export {
			let mut exports = wasm_encoder::ExportSection::new();
			self.exports_of_counters(&mut exports);
			module.section(&exports);
		}
		Ok(())
	}

	fn parse_function_body(
		&mut self,
		code: &mut wasm_encoder::CodeSection,
		body: wasmparser::FunctionBody<'_>,
	) -> Result<(), reencode::Error<String>> {
		let plan = &self.plan.functions[self.next_function];
		self.next_function += 1;
		let counter = self.counter();
		let mut locals = Vec::new();
		for pair in body.get_locals_reader()? {
			let (count, ty) = pair?;
			locals.push((count, self.val_type(ty)?));
		}
		// Scratch locals for canonicalisation, after the function's own.
		let (scratch_f32, scratch_f64, scratch_v128) =
			(plan.locals, plan.locals + 1, plan.locals + 2);
		locals.extend([(1, ValType::F32), (1, ValType::F64), (1, ValType::V128)]);
		let mut f = wasm_encoder::Function::new(locals);

		// Entry: take the frame's units, trap past the limit.
		let cost = plan.cost as i32;
		f.instruction(&Instruction::GlobalGet(counter));
		f.instruction(&Instruction::I32Const(cost));
		f.instruction(&Instruction::I32Add);
		f.instruction(&Instruction::GlobalSet(counter));
		f.instruction(&Instruction::GlobalGet(counter));
		f.instruction(&Instruction::I32Const(STACK_LIMIT as i32));
		f.instruction(&Instruction::I32GtU);
		f.instruction(&Instruction::If(BlockType::Empty));
		f.instruction(&Instruction::Unreachable);
		f.instruction(&Instruction::End);
		let meter = self.meter();
		charge(&mut f, meter, plan.entry_fuel);
		let mut loops = plan.loop_fuel.iter();
		// The body, in a block every way out of it leaves by (`return` becomes a branch).
		let block = match plan.results.as_slice() {
			[] => BlockType::Empty,
			[one] => BlockType::Result(self.val_type(*one)?),
			several => BlockType::FunctionType(self.types_by_results[several]),
		};
		f.instruction(&Instruction::Block(block));

		let mut depth = 0u32;
		let mut previous: Option<Operator> = None;
		let mut ops = body.get_operators_reader()?;
		while !ops.eof() {
			let op = ops.read()?;
			match &op {
				Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } => depth += 1,
				Operator::End if depth == 0 => {
					// The function's end: close the block, give the units back.
					f.instruction(&Instruction::End);
					f.instruction(&Instruction::GlobalGet(counter));
					f.instruction(&Instruction::I32Const(cost));
					f.instruction(&Instruction::I32Sub);
					f.instruction(&Instruction::GlobalSet(counter));
					f.instruction(&Instruction::End);
					previous = Some(op);
					continue;
				}
				Operator::End => depth -= 1,
				Operator::Return => {
					f.instruction(&Instruction::Br(depth));
					previous = Some(op);
					continue;
				}
				_ => {}
			}
			// A float global is read back as exact (`global.get`): keep what it holds exact.
			let global_float = match op {
				Operator::GlobalSet { global_index } => {
					match self.plan.global_types.get(global_index as usize) {
						Some(wasmparser::ValType::F32) => Some(Float::F32),
						Some(wasmparser::ValType::F64) => Some(Float::F64),
						_ => None,
					}
				}
				_ => None,
			};
			if let Some(float) = reveals(&op).or(global_float) {
				let exact = match source(previous.as_ref()) {
					Source::Exact => true,
					Source::Local(l) => plan.exact_locals.get(l as usize).copied().unwrap_or(false),
					Source::Computed => false,
				};
				if !exact && self.canonicalise_nans {
					let scratch = if float == Float::F32 { scratch_f32 } else { scratch_f64 };
					canonicalise(&mut f, float, scratch);
				}
			}
			f.instruction(&self.instruction(op.clone())?);
			if let Operator::Loop { .. } = op {
				charge(&mut f, meter, loops.next().copied().unwrap_or(0));
			}
			if let Some(float) = vector_nan_source(&op).filter(|_| self.canonicalise_nans) {
				canonicalise_lanes(&mut f, float, scratch_v128);
			}
			if !self.canonicalise_nans {
				match rounding(&op) {
					(Some(float), _) => {
						let scratch = if float == Float::F32 { scratch_f32 } else { scratch_f64 };
						canonicalise(&mut f, float, scratch);
					}
					(_, Some(float)) => canonicalise_lanes(&mut f, float, scratch_v128),
					_ => {}
				}
			}
			previous = Some(op);
		}
		code.function(&f);
		Ok(())
	}
}

/// Validates `bytes` for the sandbox and returns the module with the stack limit, the fuel
/// meter and, unless `determinism` keeps the replicas on one architecture, NaN
/// canonicalisation put in; an invalid or refused module gets the validator's message.
pub fn instrument(bytes: &[u8], determinism: Determinism) -> Result<Vec<u8>, String> {
	let plan = plan(bytes)?;
	let mut rewriter = Rewriter {
		plan: &plan,
		canonicalise_nans: determinism == Determinism::Portable,
		next_function: 0,
		added_global: false,
		added_export: false,
		added_memory: false,
		types_by_results: HashMap::new(),
	};
	let mut module = wasm_encoder::Module::new();
	rewriter.parse_core_module(&mut module, Parser::new(0), bytes).map_err(|e| match e {
		reencode::Error::UserError(text) => text,
		other => other.to_string(),
	})?;
	let rewritten = module.finish();
	match plan.start {
		Some(_) => without_start_section(&rewritten),
		None => Ok(rewritten),
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use wasmtime::{Config, Engine, Instance, Module, Store};

	/// An engine that leaves NaNs alone and has `native` bytes of Wasm stack.
	fn engine(native: usize) -> Engine {
		let mut config = Config::new();
		config.cranelift_nan_canonicalization(false).max_wasm_stack(native);
		Engine::new(&config).unwrap()
	}

	/// Runs `f` on a thread with room for the largest Wasm stack used here.
	fn on_big_stack<R: Send>(f: impl FnOnce() -> R + Send) -> R {
		std::thread::scope(|s| {
			std::thread::Builder::new()
				.stack_size(NATIVE_STACK_BYTES + (8 << 20))
				.spawn_scoped(s, f)
				.unwrap()
				.join()
				.unwrap()
		})
	}

	/// Instantiates a module (every import a function that does nothing) with plenty of fuel.
	fn instantiate(engine: &Engine, bytes: &[u8]) -> (Store<()>, Instance) {
		let module = Module::new(engine, bytes).unwrap();
		let mut store = Store::new(engine, ());
		let nothing = wasmtime::Func::wrap(&mut store, || {});
		let imports: Vec<wasmtime::Extern> = module.imports().map(|_| nothing.into()).collect();
		let instance = Instance::new(&mut store, &module, &imports).unwrap();
		set_fuel(&mut store, &instance, i64::MAX / 2);
		(store, instance)
	}

	/// The fuel counter of a rewritten module (a module as written has none).
	fn fuel_memory(store: &mut Store<()>, instance: &Instance) -> Option<wasmtime::Memory> {
		instance.get_memory(&mut *store, FUEL_EXPORT)
	}

	fn set_fuel(store: &mut Store<()>, instance: &Instance, fuel: i64) {
		if let Some(memory) = fuel_memory(store, instance) {
			memory.write(&mut *store, 0, &fuel.to_le_bytes()).unwrap();
		}
	}

	fn fuel_left(store: &mut Store<()>, instance: &Instance) -> i64 {
		let memory = fuel_memory(store, instance).unwrap();
		i64::from_le_bytes(memory.data(&*store)[..8].try_into().unwrap())
	}

	fn instance(engine: &Engine, wat: &str) -> (Store<()>, Instance) {
		instantiate(
			engine,
			&instrument(&wat::parse_str(wat).unwrap(), Determinism::Portable).expect("instruments"),
		)
	}

	/// `rec(n)` calls itself `n` times, with a few locals so frames are not trivial.
	const RECURSION: &str = r#"(module
	  (func $rec (export "rec") (param $n i32) (result i32)
	    (local $a i64) (local $b f64) (local $c i32)
	    (if (result i32) (i32.eqz (local.get $n))
	      (then (i32.const 0))
	      (else (i32.add (call $rec (i32.sub (local.get $n) (i32.const 1))) (i32.const 1))))))"#;

	/// The deepest `rec(n)` that returns, by bisection, with the module rewritten or as it is.
	fn deepest(engine: &Engine, rewritten: bool) -> u32 {
		let bytes = wat::parse_str(RECURSION).unwrap();
		let bytes =
			if rewritten { instrument(&bytes, Determinism::Portable).unwrap() } else { bytes };
		let (mut store, instance) = instantiate(engine, &bytes);
		let rec = instance.get_typed_func::<i32, i32>(&mut store, "rec").unwrap();
		let height = instance.get_global(&mut store, STACK_HEIGHT_EXPORT);
		let (mut ok, mut fails) = (0u32, STACK_LIMIT);
		while fails - ok > 1 {
			let n = ok + (fails - ok) / 2;
			if let Some(height) = height {
				height.set(&mut store, 0.into()).unwrap();
				set_fuel(&mut store, &instance, i64::MAX / 2);
			}
			let outcome = rec.call(&mut store, n as i32);
			let units = height.map(|h| h.get(&mut store).i32().unwrap() as u32);
			match outcome {
				Ok(depth) => {
					assert_eq!(depth as u32, n);
					// Every way out gave its units back.
					assert!(units.is_none_or(|u| u == 0));
					ok = n;
				}
				Err(error) => {
					if rewritten {
						assert!(
							units.unwrap() > STACK_LIMIT,
							"the native stack ran out first: {error:#}"
						);
					} else {
						assert_eq!(error.downcast_ref(), Some(&wasmtime::Trap::StackOverflow));
					}
					fails = n;
				}
			}
		}
		ok
	}

	#[test]
	fn recursion_stops_at_the_same_call_whatever_the_native_stack() {
		on_big_stack(|| {
			let big = deepest(&engine(NATIVE_STACK_BYTES), true);
			let smaller = deepest(&engine(NATIVE_STACK_BYTES / 2), true);
			assert_eq!(big, smaller);
			// The frame: 4 fixed units, 4 locals (one a parameter), an operand stack of 2
			// values, 13 instructions (none charged); `rec(n)` holds n + 1 frames.
			let cost = plan(&wat::parse_str(RECURSION).unwrap()).unwrap().functions[0].cost;
			assert_eq!(cost, FRAME_UNITS + 4 + 2);
			assert_eq!(big, STACK_LIMIT / cost - 1);
			// As it is, the module recurses as deep as the native stack allows: two hosts that
			// give it different stacks (or frames of other sizes) stop at different calls.
			let plain_small = deepest(&engine(128 << 10), false);
			let plain_large = deepest(&engine(256 << 10), false);
			assert!(plain_small < plain_large, "{plain_small} vs {plain_large}");
		});
	}

	#[test]
	fn returns_and_branches_out_give_the_units_back() {
		let engine = engine(1 << 20);
		let (mut store, instance) = instance(
			&engine,
			r#"(module
			  (func (export "early") (param i32) (result i32)
			    (if (local.get 0) (then (return (i32.const 7))))
			    (block (drop (br_if 1 (i32.const 8) (i32.eqz (local.get 0)))))
			    (i32.const 9))
			  (func (export "pair") (result i32 i64) (i32.const 1) (i64.const 2)))"#,
		);
		let height = instance.get_global(&mut store, STACK_HEIGHT_EXPORT).unwrap();
		let early = instance.get_typed_func::<i32, i32>(&mut store, "early").unwrap();
		assert_eq!(early.call(&mut store, 1).unwrap(), 7);
		assert_eq!(early.call(&mut store, 0).unwrap(), 8);
		assert_eq!(height.get(&mut store).i32(), Some(0));
		let pair = instance.get_typed_func::<(), (i32, i64)>(&mut store, "pair").unwrap();
		assert_eq!(pair.call(&mut store, ()).unwrap(), (1, 2));
		assert_eq!(height.get(&mut store).i32(), Some(0));
	}

	/// Writes to memory: [0] 0/0 stored, [8] copysign(1, 0/0), [16] the bits of 0/0, [24] a
	/// NaN with a payload copied from [64] through a local, [32] 0/0 through a global, [48] a
	/// vector sum with a NaN lane, [40] a computed local stored, [72] floor(0/0), [80] the
	/// lanes of f32x4.ceil(splat(0/0)).
	const NAN_BITS: &str = r#"(module
			  (memory (export "memory") 1)
			  (global $g (mut f64) (f64.const 0))
			  (data (i32.const 64) "\01\00\00\00\00\00\f8\ff")
			  (func (export "run")
			    (local $copy f64) (local $sum f64)
			    (f64.store (i32.const 0) (f64.div (f64.const 0) (f64.const 0)))
			    (f64.store (i32.const 8)
			      (f64.copysign (f64.const 1) (f64.div (f64.const 0) (f64.const 0))))
			    (i64.store (i32.const 16) (i64.reinterpret_f64 (f64.div (f64.const 0) (f64.const 0))))
			    (local.set $copy (f64.load (i32.const 64)))
			    (f64.store (i32.const 24) (local.get $copy))
			    (global.set $g (f64.div (f64.const 0) (f64.const 0)))
			    (f64.store (i32.const 32) (global.get $g))
			    (local.set $sum (f64.mul (f64.const inf) (f64.const 0)))
			    (f64.store (i32.const 40) (local.get $sum))
			    (v128.store (i32.const 48)
			      (f32x4.add (v128.const f32x4 1 2 3 4) (f32x4.splat (f32.div (f32.const 0) (f32.const 0)))))
			    (f64.store (i32.const 72) (f64.floor (f64.div (f64.const 0) (f64.const 0))))
			    (v128.store (i32.const 80) (f32x4.ceil (f32x4.splat (f32.div (f32.const 0) (f32.const 0)))))))"#;

	/// Memory after `NAN_BITS` ran, rewritten for `determinism`.
	fn nan_bits(determinism: Determinism) -> Vec<u8> {
		let engine = engine(1 << 20);
		let module = instrument(&wat::parse_str(NAN_BITS).unwrap(), determinism).unwrap();
		let (mut store, instance) = instantiate(&engine, &module);
		let run = instance.get_typed_func::<(), ()>(&mut store, "run").unwrap();
		run.call(&mut store, ()).unwrap();
		let memory = instance.get_memory(&mut store, "memory").unwrap();
		memory.data(&store)[..96].to_vec()
	}

	#[test]
	fn nans_are_canonical_where_seen_and_copies_keep_their_bits() {
		let data = nan_bits(Determinism::Portable);
		let u64_at = |at: usize| u64::from_le_bytes(data[at..at + 8].try_into().unwrap());
		// x86 makes 0/0 the negative NaN 0xfff8…; canonical is positive.
		assert_eq!(u64_at(0), CANONICAL_F64);
		assert_eq!(f64::from_bits(u64_at(8)), 1.0);
		assert_eq!(u64_at(16), CANONICAL_F64);
		assert_eq!(u64_at(24), 0xfff8_0000_0000_0001, "a copied NaN keeps its payload");
		assert_eq!(u64_at(32), CANONICAL_F64);
		assert_eq!(u64_at(40), CANONICAL_F64);
		for lane in 0..4 {
			let at = 48 + lane * 4;
			assert_eq!(u32::from_le_bytes(data[at..at + 4].try_into().unwrap()), CANONICAL_F32);
		}
	}

	#[test]
	fn a_deal_on_one_architecture_keeps_the_processors_nan_bits() {
		let data = nan_bits(Determinism::SameArchitecture);
		let u64_at = |at: usize| u64::from_le_bytes(data[at..at + 8].try_into().unwrap());
		// What this processor's own division makes (at run time, not folded by the compiler).
		let zero = std::hint::black_box(0f64);
		let host = (zero / zero).to_bits();
		assert_eq!(u64_at(0), host);
		assert_eq!(u64_at(16), host);
		assert_eq!(u64_at(32), host);
		assert_eq!(u64_at(24), 0xfff8_0000_0000_0001, "a copied NaN keeps its payload");
		// On x86 that is the negative NaN, so the rewrite really left it alone there.
		#[cfg(target_arch = "x86_64")]
		assert_ne!(u64_at(0), CANONICAL_F64);
		// Rounding is canonicalised all the same: its NaNs differ with the processor's
		// features (with SSE4.1 this is the negative NaN of 0/0 kept).
		assert_eq!(u64_at(72), CANONICAL_F64);
		for lane in 0..4 {
			let at = 80 + lane * 4;
			assert_eq!(u32::from_le_bytes(data[at..at + 4].try_into().unwrap()), CANONICAL_F32);
		}
		// Everything else the rewrite does is the same: fuel and the stack limit are in.
		let module = instrument(&wat::parse_str(NAN_BITS).unwrap(), Determinism::SameArchitecture);
		let (mut store, instance) = instantiate(&engine(1 << 20), &module.unwrap());
		assert!(fuel_memory(&mut store, &instance).is_some());
		assert!(instance.get_global(&mut store, STACK_HEIGHT_EXPORT).is_some());
	}

	#[test]
	fn fuel_pays_each_loop_iteration_and_the_start_function_waits_for_it() {
		let engine = engine(1 << 20);
		let (mut store, instance) = instance(
			&engine,
			r#"(module
			  (global $g (export "g") (mut i32) (i32.const 0))
			  (func $init (global.set $g (i32.const 5)))
			  (start $init)
			  (func (export "spin") (param $n i32)
			    (loop $l
			      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
			      (br_if $l (local.get $n)))))"#,
		);
		let g = instance.get_global(&mut store, "g").unwrap();
		assert_eq!(g.get(&mut store).i32(), Some(0), "the start function ran at instantiation");
		set_fuel(&mut store, &instance, 1_000);
		let init = instance.get_typed_func::<(), ()>(&mut store, START_EXPORT).unwrap();
		init.call(&mut store, ()).unwrap();
		assert_eq!(g.get(&mut store).i32(), Some(5));
		// `init`: its 3 instructions.
		assert_eq!(fuel_left(&mut store, &instance), 1_000 - 3);
		// `spin(10)`: `loop` and `end` outside the loop, then the loop's 7 instructions on
		// each of 10 iterations.
		let spin = instance.get_typed_func::<i32, ()>(&mut store, "spin").unwrap();
		set_fuel(&mut store, &instance, 72);
		spin.call(&mut store, 10).unwrap();
		assert_eq!(fuel_left(&mut store, &instance), 0);
		// One unit short: the tenth iteration is not paid for, and traps.
		set_fuel(&mut store, &instance, 71);
		assert!(spin.call(&mut store, 10).is_err());
		assert_eq!(fuel_left(&mut store, &instance), -1);
	}

	#[test]
	fn exactness_follows_copies_and_stops_at_parameters_and_arithmetic() {
		let copies = [
			(1, Source::Local(0)),
			(2, Source::Exact),
			(3, Source::Local(2)),
			(4, Source::Local(3)),
		];
		assert_eq!(exact_locals(5, 1, &copies), [false, false, true, true, true]);
		let mut computed = copies.to_vec();
		computed.push((2, Source::Computed));
		assert_eq!(exact_locals(5, 1, &computed), [false, false, false, false, false]);
		// A long chain written backwards is settled in one pass, not one per link.
		let chain: Vec<(u32, Source)> = (1..50_000u32)
			.map(|l| (l - 1, Source::Local(l)))
			.chain([(49_999, Source::Computed)])
			.collect();
		assert!(exact_locals(50_000, 0, &chain).iter().all(|e| !e));
	}

	#[test]
	fn refused_proposals_and_reserved_names_get_a_message() {
		let tail = wat::parse_str(r#"(module (func $f (return_call $f)))"#).unwrap();
		let instrument = |bytes: &[u8]| instrument(bytes, Determinism::Portable);
		assert!(instrument(&tail).unwrap_err().contains("tail"), "{:?}", instrument(&tail));
		let reserved = wat::parse_str(
			r#"(module (global (export "iexec:stack-height") i32 (i32.const 0)) (func (export "f")))"#,
		)
		.unwrap();
		assert!(instrument(&reserved).unwrap_err().contains("reserved"));
		assert!(instrument(b"\0asm\x01\0\0\0\x01").is_err());
		// A module with no function and no global still gets the counter.
		let empty = instrument(&wat::parse_str("(module)").unwrap()).unwrap();
		wasmparser::Validator::new().validate_all(&empty).unwrap();
	}
}
