//! Nothing panics on any input, and printing a parsed expression gives text that parses back
//! to the same tree.

use codec::Encode;
use iexec_classad::{
	decode_expr, evaluate, parse_ad, parse_expr, Ad, BinaryOp, Expr, Function, Limits,
	ParseErrorKind, Scope, UnaryOp,
};
use proptest::prelude::*;

fn limits() -> Limits {
	Limits::default()
}

proptest! {
	#![proptest_config(ProptestConfig { cases: 2000, .. ProptestConfig::default() })]

	#[test]
	fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
		let text = String::from_utf8_lossy(&bytes);
		if let Ok(expr) = parse_expr(&text, &limits()) {
			let result = evaluate(&expr, None, None, &limits());
			prop_assert!(result.steps <= limits().max_steps + 1);
		}
		let _ = parse_ad(&text, &limits());
	}

	#[test]
	fn random_operator_soup_never_panics(
		tokens in proptest::collection::vec(prop_oneof![
			Just("1"), Just("2.5"), Just("\"s\""), Just("A"), Just("MY.A"), Just("TARGET.B"),
			Just("+"), Just("-"), Just("*"), Just("/"), Just("%"), Just("&&"), Just("||"),
			Just("!"), Just("=?="), Just("is"), Just("<"), Just("?"), Just(":"), Just("("),
			Just(")"), Just("{"), Just("}"), Just(","), Just("size("), Just("["), Just("]"),
			Just("undefined"), Just("error"), Just("<<"), Just("~"),
		], 0..40)
	) {
		let text = tokens.join(" ");
		let my = parse_ad("[ A = B + 1; B = A * 2; C = {1, 2} ]", &limits()).unwrap();
		let target = parse_ad("[ B = \"x\"; A = MY.B ]", &limits()).unwrap();
		if let Ok(expr) = parse_expr(&text, &limits()) {
			let result = evaluate(&expr, Some(&my), Some(&target), &limits());
			prop_assert!(result.steps <= limits().max_steps + 1);
		}
	}

	#[test]
	fn printed_trees_parse_back_identically(expr in arb_expr()) {
		let text = expr.to_string();
		let parsed = parse_expr(&text, &Limits { max_nodes: 10_000, max_depth: 200, ..limits() })
			.map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
		prop_assert_eq!(&parsed, &expr, "text: {}", text);
		let mut ad = Ad::new();
		ad.insert("X", expr.clone());
		let _ = evaluate(&expr, Some(&ad), Some(&ad), &limits());
	}

	/// The parser and the decoder accept exactly the same trees: whatever parses is stored and
	/// read back unchanged, and a tree the decoder refuses is refused by the parser too.
	#[test]
	fn parse_and_decode_agree(expr in arb_deep_expr(), tight in 4u32..40) {
		let limits = Limits { max_depth: tight, max_nodes: tight * 6, ..limits() };
		let text = expr.to_string();
		let parsed = parse_expr(&text, &limits);
		let decoded = decode_expr(&expr.encode(), &limits);
		prop_assert_eq!(parsed.is_ok(), decoded.is_ok(), "text: {}", text);
		if let Ok(parsed) = parsed {
			prop_assert_eq!(decode_expr(&parsed.encode(), &limits), Ok(parsed));
		}
	}
}

/// Trees with long left-deep chains of the kinds the parser builds in loops, beside the
/// recursive shapes of [`arb_expr`].
fn arb_deep_expr() -> impl Strategy<Value = Expr> {
	let chain = (arb_expr(), 0usize..80, prop_oneof![Just(BinaryOp::And), Just(BinaryOp::Add)])
		.prop_map(|(seed, len, op)| {
			(0..len).fold(seed, |left, i| {
				Expr::Binary(op, Box::new(left), Box::new(Expr::Int(i as i64)))
			})
		});
	let subscripts = (0usize..80).prop_map(|len| {
		(0..len).fold(Expr::Attr(Scope::Bare, "L".into()), |list, i| {
			Expr::Subscript(Box::new(list), Box::new(Expr::Int(i as i64)))
		})
	});
	prop_oneof![arb_expr(), chain, subscripts]
}

#[test]
fn left_deep_chains_are_held_to_the_depth_bound() {
	let limits = limits();
	let over = limits.max_depth as usize + 1;
	for text in [
		vec!["a"; over].join(" && "),
		vec!["1"; over].join(" + "),
		format!("L{}", "[0]".repeat(over)),
	] {
		let error = parse_expr(&text, &limits).expect_err(&text);
		assert_eq!(error.kind, ParseErrorKind::TooDeep { max: limits.max_depth }, "{text}");
		// Each stays refused as an attribute of an ad.
		assert!(parse_ad(&format!("[ X = {text} ]"), &limits).is_err(), "{text}");
	}
	let at_bound = vec!["a"; limits.max_depth as usize / 2].join(" && ");
	let expr = parse_expr(&at_bound, &limits).unwrap();
	assert_eq!(decode_expr(&expr.encode(), &limits), Ok(expr));
}

fn arb_leaf() -> impl Strategy<Value = Expr> {
	prop_oneof![
		Just(Expr::Undefined),
		Just(Expr::Error),
		any::<bool>().prop_map(Expr::Bool),
		(0i64..1_000_000).prop_map(Expr::Int),
		prop_oneof![Just(0.5), Just(1.5), Just(2.25), Just(1e20), Just(3.0), Just(1e-7)]
			.prop_map(Expr::real),
		"[a-z \"\\\\]{0,6}".prop_map(Expr::Str),
		(
			prop_oneof![Just(Scope::Bare), Just(Scope::My), Just(Scope::Target)],
			prop_oneof![Just("Memory"), Just("Cpus"), Just("A"), Just("gpu_count")]
		)
			.prop_map(|(scope, name)| Expr::Attr(scope, name.into())),
	]
}

fn arb_expr() -> impl Strategy<Value = Expr> {
	use BinaryOp::*;
	let ops = prop_oneof![
		Just(Or),
		Just(And),
		Just(BitOr),
		Just(BitXor),
		Just(BitAnd),
		Just(Eq),
		Just(Ne),
		Just(MetaEq),
		Just(MetaNe),
		Just(Lt),
		Just(Le),
		Just(Gt),
		Just(Ge),
		Just(Shl),
		Just(Shr),
		Just(UShr),
		Just(Add),
		Just(Sub),
		Just(Mul),
		Just(Div),
		Just(Mod),
	];
	arb_leaf().prop_recursive(5, 48, 4, move |inner| {
		prop_oneof![
			(ops.clone(), inner.clone(), inner.clone()).prop_map(|(op, a, b)| Expr::Binary(
				op,
				Box::new(a),
				Box::new(b)
			)),
			(
				prop_oneof![
					Just(UnaryOp::Neg),
					Just(UnaryOp::Plus),
					Just(UnaryOp::Not),
					Just(UnaryOp::BitNot)
				],
				inner.clone()
			)
				.prop_map(|(op, a)| Expr::Unary(op, Box::new(a))),
			(inner.clone(), inner.clone(), inner.clone()).prop_map(|(a, b, c)| Expr::Cond(
				Box::new(a),
				Box::new(b),
				Box::new(c)
			)),
			(inner.clone(), inner.clone()).prop_map(|(a, b)| Expr::Elvis(Box::new(a), Box::new(b))),
			(inner.clone(), inner.clone())
				.prop_map(|(a, b)| Expr::Subscript(Box::new(a), Box::new(b))),
			proptest::collection::vec(inner.clone(), 0..4).prop_map(Expr::List),
			(
				prop_oneof![
					Just("member"),
					Just("strcat"),
					Just("size"),
					Just("ifThenElse"),
					Just("floor"),
					Just("custom")
				],
				proptest::collection::vec(inner, 0..4)
			)
				.prop_map(|(name, args)| Expr::Call(Function::from_name(name), args)),
		]
	})
}
