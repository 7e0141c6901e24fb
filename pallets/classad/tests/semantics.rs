//! Semantics beyond the conformance vectors: scoping, explanations, bounds, termination and
//! the stored form.

use iexec_classad::{
	decode_ad, decode_expr, evaluate, matching, parse_ad, parse_expr, Ad, Evaluation, Expr, Limits,
	ParseErrorKind, Value,
};

fn limits() -> Limits {
	Limits::default()
}

fn ad(source: &str) -> Ad {
	parse_ad(source, &limits()).unwrap_or_else(|e| panic!("{source}: {e}"))
}

fn eval_in(source: &str, my: Option<&Ad>, target: Option<&Ad>) -> Value {
	let expr = parse_expr(source, &limits()).unwrap_or_else(|e| panic!("{source}: {e}"));
	evaluate(&expr, my, target, &limits()).value
}

#[test]
fn bare_references_fall_back_to_the_target_ad() {
	let machine = ad("[ Memory = 8192 ]");
	let job = ad("[ RequestMemory = 4096; Requirements = Memory >= RequestMemory ]");
	// As in HTCondor job ads: `Memory` is the machine's, `RequestMemory` the job's own.
	assert_eq!(eval_in("Memory >= RequestMemory", Some(&job), Some(&machine)), Value::Bool(true));
	assert!(matching::requirements_met(&job, &machine, &limits()).0);
	// MY never looks at the other ad.
	assert_eq!(eval_in("MY.Memory", Some(&job), Some(&machine)), Value::Undefined);
}

#[test]
fn target_attributes_evaluate_in_their_own_ad() {
	let machine = ad("[ Cpus = 8; Slots = Cpus / 2 ]");
	let job = ad("[ Cpus = 1 ]");
	// `Slots` is evaluated with the machine as MY, so its `Cpus` is the machine's 8.
	assert_eq!(eval_in("TARGET.Slots", Some(&job), Some(&machine)), Value::Int(4));
	// And a TARGET reference inside the target ad points back at the job.
	let machine = ad("[ Fits = TARGET.Cpus <= 2 ]");
	assert_eq!(eval_in("TARGET.Fits", Some(&job), Some(&machine)), Value::Bool(true));
}

/// Cycles end as HTCondor 25.14 ends them (the oracle of the shared vectors; the vectors
/// themselves have no cycle): a reference back into an attribute being evaluated is
/// `undefined`, and the attribute evaluated first is not counted as being evaluated.
#[test]
fn cycles_end_in_undefined_as_in_htcondor() {
	let looping = ad("[ Loop = Loop + 1; A = B; B = A; Flip = isUndefined(Flip) ? 1 : 2 ]");
	for (source, expected) in [
		("Loop", Value::Undefined),
		("A", Value::Undefined),
		("isUndefined(Loop)", Value::Bool(true)),
		("isError(Loop)", Value::Bool(false)),
		("Loop || true", Value::Bool(true)),
		("false && Loop", Value::Bool(false)),
		// The reference `Flip` is being evaluated when `Flip` refers to itself: undefined → 1.
		("Flip", Value::Int(1)),
	] {
		let result =
			evaluate(&parse_expr(source, &limits()).unwrap(), Some(&looping), None, &limits());
		assert_eq!(result.value, expected, "{source}");
		assert!(!result.limit_hit, "{source}");
	}
	// Evaluated as the attribute itself (HTCondor's `EvaluateAttr`), `Flip` is not yet being
	// evaluated, so its own reference goes one level in (giving 1) and the whole gives 2.
	let flip = iexec_classad::evaluate_attribute(&looping, "Flip", None, &limits());
	assert_eq!(flip.value, Value::Int(2));
	// A cycle through the other ad is found too, and a cyclic `Requirements` matches nothing.
	let job = ad("[ X = TARGET.Y; Requirements = X ]");
	let machine = ad("[ Y = TARGET.X; Requirements = true ]");
	assert_eq!(eval_in("X", Some(&job), Some(&machine)), Value::Undefined);
	assert!(!matching::match_ads(&job, &machine, &limits()).symmetric());
}

#[test]
fn references_past_the_depth_bound_fail_the_whole_evaluation() {
	let limits = limits();
	let depth = limits.max_reference_depth as usize;
	let mut source = String::from("[ R0 = 1");
	for i in 1..=depth + 1 {
		source.push_str(&format!("; R{i} = R{p} + 1", p = i - 1));
	}
	source.push_str(" ]");
	let chain = ad(&source);
	// `R{depth - 1}` follows exactly `depth` references.
	let within = format!("R{}", depth - 1);
	let within = evaluate(&parse_expr(&within, &limits).unwrap(), Some(&chain), None, &limits);
	assert_eq!(within.value, Value::Int(depth as i64));
	// One more: error for the whole, even under `isError`, which is no cycle to hide behind.
	let beyond = format!("isError(R{depth}) || true");
	let result = evaluate(&parse_expr(&beyond, &limits).unwrap(), Some(&chain), None, &limits);
	assert_eq!(result.value, Value::Error);
	assert!(result.limit_hit);
}

#[test]
fn exponential_references_stop_at_the_step_limit() {
	let mut source = String::from("[ A0 = 1");
	for i in 1..=40 {
		source.push_str(&format!("; A{i} = A{p} + A{p}", p = i - 1));
	}
	source.push_str(" ]");
	let limits = Limits { max_reference_depth: 64, ..Limits::default() };
	let blowup = parse_ad(&source, &limits).unwrap();
	let expr = parse_expr("A40", &limits).unwrap();
	let result = evaluate(&expr, Some(&blowup), None, &limits);
	assert_eq!(result.value, Value::Error);
	assert!(result.limit_hit);
	assert!(result.steps <= limits.max_steps + 1, "steps {}", result.steps);
}

#[test]
fn strings_cannot_grow_past_the_limit() {
	let mut source = String::from("[ S0 = \"0123456789abcdef\"");
	for i in 1..=12 {
		source.push_str(&format!("; S{i} = strcat(S{p}, S{p})", p = i - 1));
	}
	source.push_str(" ]");
	let doubling = ad(&source);
	let result = evaluate(&parse_expr("S12", &limits()).unwrap(), Some(&doubling), None, &limits());
	assert_eq!(result.value, Value::Error);
	assert!(result.limit_hit);
	// Below the limit the same construction works.
	let value = eval_in("size(S6)", Some(&doubling), None);
	assert_eq!(value, Value::Int(16 * 64));
}

/// Steps to evaluate `expr_source` in an ad whose `S` is a string of `len` bytes.
fn steps_with_string_of(len: usize, expr_source: &str) -> Evaluation {
	let holder = ad(&format!("[ S = \"{}\"; L = {{ S, S, S }} ]", "x".repeat(len)));
	evaluate(&parse_expr(expr_source, &limits()).unwrap(), Some(&holder), None, &limits())
}

#[test]
fn copying_a_string_costs_in_proportion_to_its_length() {
	// Every reference to `S` copies it; so do `size`'s argument, list items and `member`'s
	// comparisons. A 4,000-byte string must cost more steps than a 1-byte one, by at least a
	// step per 64 bytes per copy.
	for (source, copies) in
		[("size(S) + size(S) + size(S)", 3), ("size(L)", 3), ("member(S, L)", 7), ("S == S", 2)]
	{
		let short = steps_with_string_of(1, source);
		let long = steps_with_string_of(4000, source);
		assert!(!long.limit_hit, "{source}");
		assert!(long.steps >= short.steps + copies * (4000 / 64), "{source}: {long:?} {short:?}");
	}
	// So the step limit bounds the bytes copied: references to 12 KB of strings hit it long
	// before they could copy megabytes.
	// 64 references in a balanced sum, within the depth and node bounds.
	fn balanced(leaves: usize) -> String {
		if leaves == 1 {
			return "size(L)".into();
		}
		format!("({} + {})", balanced(leaves / 2), balanced(leaves / 2))
	}
	let result = steps_with_string_of(4000, &balanced(64));
	assert!(result.limit_hit, "{result:?}");
}

#[test]
fn looking_up_long_names_in_big_ads_costs_in_proportion() {
	// 40 attributes with 60-byte names: each reference may compare 40 × 60 bytes.
	let name = |i: usize| format!("{}{i:02}", "n".repeat(58));
	let attributes: Vec<String> = (0..40).map(|i| format!("{} = {i}", name(i))).collect();
	let big = ad(&format!("[ {} ]", attributes.join("; ")));
	let reference = parse_expr(&name(39), &limits()).unwrap();
	let result = evaluate(&reference, Some(&big), None, &limits());
	assert_eq!(result.value, Value::Int(39));
	assert!(result.steps >= (40 * 60) / 64, "{result:?}");
	let small = ad("[ x = 39 ]");
	let short = evaluate(&parse_expr("x", &limits()).unwrap(), Some(&small), None, &limits());
	assert!(short.steps < result.steps);
}

#[test]
fn integer_overflow_is_error_not_wrapping() {
	for source in [
		"9223372036854775807 + 1",
		"-9223372036854775807 - 2",
		"4611686018427387904 * 2",
		"(-9223372036854775807 - 1) / -1",
		"-(-9223372036854775807 - 1)",
		"pow(10, 19)",
	] {
		assert_eq!(eval_in(source, None, None), Value::Error, "{source}");
	}
	assert_eq!(eval_in("9223372036854775806 + 1", None, None), Value::Int(i64::MAX));
}

#[test]
fn explain_names_the_failing_clauses() {
	let job = ad(
		r#"[ Requirements = TARGET.Memory >= 4096 && TARGET.GPUs >= 1 && member("docker", TARGET.Runtimes) && TARGET.Arch == "x86_64" ]"#,
	);
	let machine = ad(r#"[ Memory = 2048; Runtimes = { "wasm", "docker" }; Arch = "X86_64" ]"#);
	let matching::Explanation::Failed(failed) = matching::explain(&job, &machine, &limits()) else {
		panic!("expected failed clauses");
	};
	let described: Vec<(String, Value)> = failed.into_iter().map(|c| (c.clause, c.value)).collect();
	assert_eq!(
		described,
		vec![
			("TARGET.Memory >= 4096".to_string(), Value::Bool(false)),
			("TARGET.GPUs >= 1".to_string(), Value::Undefined),
		]
	);
	let good = ad(r#"[ Memory = 8192; GPUs = 1; Runtimes = { "docker" }; Arch = "x86_64" ]"#);
	assert_eq!(matching::explain(&job, &good, &limits()), matching::Explanation::Satisfied);
	assert_eq!(matching::explain(&machine, &job, &limits()), matching::Explanation::NoRequirements);
}

#[test]
fn explain_reports_the_whole_expression_when_no_clause_fails_alone() {
	let job = ad("[ Requirements = TARGET.A == 1 || TARGET.B == 1 ]");
	let machine = ad("[ A = 2; B = 2 ]");
	let matching::Explanation::Failed(failed) = matching::explain(&job, &machine, &limits()) else {
		panic!("expected failure");
	};
	assert_eq!(failed.len(), 1);
	assert_eq!(failed[0].clause, "TARGET.A == 1 || TARGET.B == 1");
	assert_eq!(failed[0].value, Value::Bool(false));
}

#[test]
fn bounds_refuse_oversized_input_before_evaluation() {
	let small = Limits {
		max_source_len: 64,
		max_nodes: 10,
		max_depth: 5,
		max_attributes: 2,
		..Limits::default()
	};
	let long = "1 + ".repeat(20) + "1";
	assert!(matches!(
		parse_expr(&long, &small).unwrap_err().kind,
		ParseErrorKind::SourceTooLong { max: 64, .. }
	));
	assert!(matches!(
		parse_expr("1+1+1+1+1+1+1+1", &small).unwrap_err().kind,
		ParseErrorKind::TooManyNodes { max: 10 }
	));
	assert!(matches!(
		parse_expr(&format!("{}1{}", "(".repeat(20), ")".repeat(20)), &small).unwrap_err().kind,
		ParseErrorKind::TooDeep { max: 5 }
	));
	assert!(matches!(
		parse_expr("- - - - - - - 1", &small).unwrap_err().kind,
		ParseErrorKind::TooDeep { max: 5 }
	));
	assert!(matches!(
		parse_ad("[ a = 1; b = 2; c = 3 ]", &small).unwrap_err().kind,
		ParseErrorKind::TooManyAttributes { max: 2 }
	));
	// Deep nesting far beyond the bound is refused without exhausting the stack.
	let deep = "(".repeat(100_000) + "1" + &")".repeat(100_000);
	let unbounded_source = Limits { max_source_len: u32::MAX, ..Limits::default() };
	assert!(matches!(
		parse_expr(&deep, &unbounded_source).unwrap_err().kind,
		ParseErrorKind::TooDeep { .. }
	));
}

#[test]
fn parse_errors_say_what_and_where() {
	let error = parse_expr("TARGET.Memory >= ", &limits()).unwrap_err();
	assert_eq!(error.offset, 17);
	assert_eq!(
		error.to_string(),
		"expected a value, an attribute, `(`, `{` or a function call at byte 17, found end of input"
	);
	let error = parse_expr("(1 + 2", &limits()).unwrap_err();
	assert_eq!(
		error.to_string(),
		"expected `)` to close the parenthesis at byte 6, found end of input"
	);
	let error = parse_expr("1 # 2", &limits()).unwrap_err();
	assert_eq!(error.to_string(), "unexpected character '#' at byte 2");
	let error = parse_expr("\"open", &limits()).unwrap_err();
	assert_eq!(error.kind, ParseErrorKind::UnterminatedString);
	let error = parse_expr("99999999999999999999", &limits()).unwrap_err();
	assert_eq!(error.kind, ParseErrorKind::IntegerTooLarge);
	let error = parse_ad("[ a = 1 b = 2 ]", &limits()).unwrap_err();
	assert_eq!(error.to_string(), "expected `;` or `]` after the attribute at byte 8, found `b`");
}

#[test]
fn problems_flag_unknown_functions_and_wrong_arity() {
	let expr = parse_expr("frobnicate(1) && size(1, 2) && member(1, {1})", &limits()).unwrap();
	assert_eq!(
		expr.problems(),
		vec!["unknown function `frobnicate`".to_string(), "`size` takes 1 argument, not 2".into()]
	);
	// HTCondor evaluates them to error rather than refusing them.
	assert_eq!(eval_in("frobnicate(1)", None, None), Value::Error);
	assert!(parse_expr("member(1, {1})", &limits()).unwrap().problems().is_empty());
}

#[test]
fn stored_form_round_trips_and_garbage_is_refused() {
	use codec::Encode;
	let expr =
		parse_expr(r#"TARGET.Memory * 1.5 >= 4096 && member("gpu", MY.Tags) ? 1 : -1"#, &limits())
			.unwrap();
	let bytes = expr.encode();
	assert_eq!(decode_expr(&bytes, &limits()).unwrap(), expr);
	assert_eq!(
		decode_expr(&bytes[..bytes.len() - 1], &limits()).unwrap_err().kind,
		ParseErrorKind::BadEncoding
	);
	assert!(decode_expr(&[0xff; 16], &limits()).is_err());
	// A stored tree deeper than the bound is refused even though it decodes.
	let mut deep = Expr::Int(1);
	for _ in 0..40 {
		deep = Expr::Unary(iexec_classad::UnaryOp::Neg, Box::new(deep));
	}
	assert!(decode_expr(&deep.encode(), &limits()).is_err());
	let machine = ad(r#"[ Cpus = 4; Runtimes = { "wasm" }; Requirements = true ]"#);
	assert_eq!(decode_ad(&machine.encode(), &limits()).unwrap(), machine);
}

#[test]
fn ads_accept_comments_trailing_semicolons_and_redefinitions() {
	let parsed = ad("[ // a machine\n Cpus = 4; /* cores */ cpus = 8; ]");
	assert_eq!(parsed.len(), 1);
	assert_eq!(eval_in("Cpus", Some(&parsed), None), Value::Int(8));
}

#[test]
fn steps_are_counted() {
	let cheap = evaluate(&parse_expr("1", &limits()).unwrap(), None, None, &limits());
	let dearer = evaluate(&parse_expr("1 + 2 * 3", &limits()).unwrap(), None, None, &limits());
	assert_eq!(cheap.steps, 1);
	assert_eq!(dearer.steps, 5);
	assert!(!dearer.limit_hit);
}
