//! Splits source text into tokens, each with its byte offset.

use crate::parser::{ParseError, ParseErrorKind};
use alloc::{string::String, vec::Vec};

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Token {
	Int(i64),
	Real(f64),
	Str(String),
	/// An identifier: attribute or function name, or a keyword (`true`, `is`, `MY`, ...),
	/// which the parser recognises case-insensitively.
	Ident(String),
	/// Operators and punctuation, as written.
	Sym(&'static str),
	End,
}

impl Token {
	/// How the token reads in an error message.
	pub(crate) fn describe(&self) -> String {
		use alloc::format;
		match self {
			Token::Int(i) => format!("integer `{i}`"),
			Token::Real(r) => format!("real `{r}`"),
			Token::Str(_) => "a string".into(),
			Token::Ident(name) => format!("`{name}`"),
			Token::Sym(s) => format!("`{s}`"),
			Token::End => "end of input".into(),
		}
	}
}

/// Longest symbols first, so that `=?=` is not read as `=` then `?`.
const SYMBOLS: [&str; 32] = [
	">>>", "=?=", "=!=", "==", "!=", "<=", ">=", "<<", ">>", "&&", "||", "<", ">", "&", "|", "^",
	"~", "!", "+", "-", "*", "/", "%", "?", ":", "(", ")", "{", "}", "[", "]", ",",
];
const SINGLE_SYMBOLS: [&str; 3] = [";", "=", "."];

pub(crate) fn tokenize(source: &str) -> Result<Vec<(Token, u32)>, ParseError> {
	let bytes = source.as_bytes();
	let mut tokens = Vec::new();
	let mut at = 0usize;
	let err = |offset: usize, kind| ParseError { offset: offset as u32, kind };
	while at < bytes.len() {
		let c = bytes[at];
		if c.is_ascii_whitespace() {
			at += 1;
			continue;
		}
		if source[at..].starts_with("//") {
			at = source[at..].find('\n').map_or(bytes.len(), |n| at + n);
			continue;
		}
		if source[at..].starts_with("/*") {
			let close = source[at + 2..]
				.find("*/")
				.ok_or_else(|| err(at, ParseErrorKind::UnterminatedComment))?;
			at += 2 + close + 2;
			continue;
		}
		let start = at;
		if c.is_ascii_digit() || (c == b'.' && bytes.get(at + 1).is_some_and(u8::is_ascii_digit)) {
			let (token, len) = number(&source[at..]).map_err(|kind| err(start, kind))?;
			tokens.push((token, start as u32));
			at += len;
		} else if c.is_ascii_alphabetic() || c == b'_' {
			while at < bytes.len() && (bytes[at].is_ascii_alphanumeric() || bytes[at] == b'_') {
				at += 1;
			}
			tokens.push((Token::Ident(source[start..at].into()), start as u32));
		} else if c == b'"' {
			let (text, len) = string(&source[at..], b'"').map_err(|(o, k)| err(start + o, k))?;
			tokens.push((Token::Str(text), start as u32));
			at += len;
		} else if c == b'\'' {
			// A quoted attribute name, as HTCondor allows: 'My Attribute'.
			let (text, len) = string(&source[at..], b'\'').map_err(|(o, k)| err(start + o, k))?;
			tokens.push((Token::Ident(text), start as u32));
			at += len;
		} else if let Some(sym) =
			SYMBOLS.iter().chain(SINGLE_SYMBOLS.iter()).find(|s| source[at..].starts_with(**s))
		{
			tokens.push((Token::Sym(sym), start as u32));
			at += sym.len();
		} else {
			let found = source[at..].chars().next().unwrap_or('?');
			return Err(err(at, ParseErrorKind::UnexpectedCharacter(found)));
		}
	}
	tokens.push((Token::End, bytes.len() as u32));
	Ok(tokens)
}

/// Reads an integer or a real at the start of `text`; returns it and its length.
fn number(text: &str) -> Result<(Token, usize), ParseErrorKind> {
	let bytes = text.as_bytes();
	let digits = |from: usize| bytes[from..].iter().take_while(|b| b.is_ascii_digit()).count();
	let mut len = digits(0);
	let mut is_real = false;
	if bytes.get(len) == Some(&b'.') && bytes.get(len + 1).is_some_and(u8::is_ascii_digit) {
		is_real = true;
		len += 1 + digits(len + 1);
	} else if bytes.get(len) == Some(&b'.')
		&& !bytes.get(len + 1).is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
	{
		// `3.` is a real; `3.x` is not a number followed by a selection.
		is_real = true;
		len += 1;
	}
	if matches!(bytes.get(len), Some(b'e' | b'E')) {
		let sign = usize::from(matches!(bytes.get(len + 1), Some(b'+' | b'-')));
		let exponent_digits = digits(len + 1 + sign);
		if exponent_digits > 0 {
			is_real = true;
			len += 1 + sign + exponent_digits;
		}
	}
	let literal = &text[..len];
	if is_real {
		let value: f64 = literal.parse().map_err(|_| ParseErrorKind::BadNumber)?;
		Ok((Token::Real(value), len))
	} else {
		let value: i64 = literal.parse().map_err(|_| ParseErrorKind::IntegerTooLarge)?;
		Ok((Token::Int(value), len))
	}
}

/// Reads a quoted string (quote char `quote`) at the start of `text`, with C escapes; returns
/// its content and its length in the source. Errors carry an offset within `text`.
fn string(text: &str, quote: u8) -> Result<(String, usize), (usize, ParseErrorKind)> {
	let bytes = text.as_bytes();
	let mut out: Vec<u8> = Vec::new();
	let mut at = 1;
	loop {
		match bytes.get(at) {
			None => return Err((0, ParseErrorKind::UnterminatedString)),
			Some(&b) if b == quote => {
				at += 1;
				break;
			}
			Some(b'\\') => {
				let escaped = *bytes.get(at + 1).ok_or((0, ParseErrorKind::UnterminatedString))?;
				let (byte, used) = match escaped {
					b'n' => (b'\n', 1),
					b't' => (b'\t', 1),
					b'r' => (b'\r', 1),
					b'b' => (0x08, 1),
					b'f' => (0x0c, 1),
					b'v' => (0x0b, 1),
					b'a' => (0x07, 1),
					b'\\' | b'"' | b'\'' | b'?' | b'/' => (escaped, 1),
					b'0'..=b'7' => {
						let run = bytes[at + 1..]
							.iter()
							.take(3)
							.take_while(|b| (b'0'..=b'7').contains(*b))
							.count();
						let value = bytes[at + 1..at + 1 + run]
							.iter()
							.fold(0u32, |acc, d| acc * 8 + u32::from(d - b'0'));
						// Only ASCII: a string must stay valid UTF-8, and NUL ends C strings.
						if value == 0 || value > 0x7f {
							return Err((at, ParseErrorKind::BadEscape));
						}
						(value as u8, run)
					}
					_ => return Err((at, ParseErrorKind::BadEscape)),
				};
				out.push(byte);
				at += 1 + used;
			}
			Some(&b) => {
				out.push(b);
				at += 1;
			}
		}
	}
	// The source is UTF-8 and escapes only add ASCII, so this cannot fail; map it anyway.
	let text = String::from_utf8(out).map_err(|_| (0, ParseErrorKind::BadEscape))?;
	Ok((text, at))
}
