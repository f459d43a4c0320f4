//! SCIM filters (RFC 7644 §3.4.2.2), the subset provisioning uses: `eq`, `ne`, `co`, `sw`, `ew` and `pr`
//! on `userName`, `emails.value`, `externalId`, `displayName` and `id`, joined by `and`, `or`, `not` and
//! parentheses. The parser is total: any text gives a [`Filter`] or a message, never a panic, and
//! nesting is bounded so no text can exhaust the stack.

use bonafide_store::ScimRecord;

/// The longest filter, in bytes.
pub const MAX_FILTER: usize = 2000;
/// How deeply parentheses and `not` may nest.
const MAX_DEPTH: usize = 32;

/// An attribute a filter may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attribute {
    /// `userName` (case-insensitive).
    UserName,
    /// `emails.value` or `emails` (any of the person's emails, case-insensitive).
    Email,
    /// `externalId` (case-sensitive).
    ExternalId,
    /// `displayName` (case-insensitive).
    DisplayName,
    /// `id` (case-sensitive).
    Id,
}

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Equal.
    Eq,
    /// Not equal.
    Ne,
    /// Contains.
    Co,
    /// Starts with.
    Sw,
    /// Ends with.
    Ew,
}

/// A parsed filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// `attr op "value"`.
    Compare(Attribute, Op, String),
    /// `attr pr`.
    Present(Attribute),
    /// Both.
    And(Box<Filter>, Box<Filter>),
    /// Either.
    Or(Box<Filter>, Box<Filter>),
    /// Not.
    Not(Box<Filter>),
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Text(String),
    Open,
    Close,
}

fn tokens(text: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' => {
                chars.next();
                out.push(Token::Open);
            }
            ')' => {
                chars.next();
                out.push(Token::Close);
            }
            '"' => {
                chars.next();
                let mut s = String::new();
                loop {
                    match chars.next() {
                        None => return Err("a string is not closed".into()),
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some('n') => s.push('\n'),
                            Some('t') => s.push('\t'),
                            Some(c @ ('"' | '\\' | '/')) => s.push(c),
                            _ => return Err("a string holds an unknown escape".into()),
                        },
                        Some(c) => s.push(c),
                    }
                }
                out.push(Token::Text(s));
            }
            _ => {
                let mut w = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || c == '(' || c == ')' || c == '"' {
                        break;
                    }
                    w.push(c);
                    chars.next();
                }
                out.push(Token::Word(w));
            }
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek_word(&self) -> Option<String> {
        match self.tokens.get(self.at) {
            Some(Token::Word(w)) => Some(w.to_ascii_lowercase()),
            _ => None,
        }
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn or(&mut self, depth: usize) -> Result<Filter, String> {
        let mut left = self.and(depth)?;
        while self.peek_word().as_deref() == Some("or") {
            self.at += 1;
            left = Filter::Or(Box::new(left), Box::new(self.and(depth)?));
        }
        Ok(left)
    }

    fn and(&mut self, depth: usize) -> Result<Filter, String> {
        let mut left = self.unary(depth)?;
        while self.peek_word().as_deref() == Some("and") {
            self.at += 1;
            left = Filter::And(Box::new(left), Box::new(self.unary(depth)?));
        }
        Ok(left)
    }

    fn unary(&mut self, depth: usize) -> Result<Filter, String> {
        if depth >= MAX_DEPTH {
            return Err(format!("a filter nests at most {MAX_DEPTH} deep"));
        }
        if self.peek_word().as_deref() == Some("not") {
            self.at += 1;
            if self.next() != Some(Token::Open) {
                return Err("`not` must be followed by a parenthesis".into());
            }
            return Ok(Filter::Not(Box::new(self.group(depth + 1)?)));
        }
        if self.tokens.get(self.at) == Some(&Token::Open) {
            self.at += 1;
            return self.group(depth + 1);
        }
        self.comparison()
    }

    fn group(&mut self, depth: usize) -> Result<Filter, String> {
        let inner = self.or(depth)?;
        if self.next() != Some(Token::Close) {
            return Err("a parenthesis is not closed".into());
        }
        Ok(inner)
    }

    fn comparison(&mut self) -> Result<Filter, String> {
        let Some(Token::Word(name)) = self.next() else {
            return Err("expected an attribute name".into());
        };
        let attribute = attribute(&name)?;
        let Some(Token::Word(op)) = self.next() else {
            return Err(format!("expected an operator after `{name}`"));
        };
        let op = match op.to_ascii_lowercase().as_str() {
            "pr" => return Ok(Filter::Present(attribute)),
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "co" => Op::Co,
            "sw" => Op::Sw,
            "ew" => Op::Ew,
            "gt" | "ge" | "lt" | "le" => return Err(format!("`{op}` is not supported on `{name}`")),
            _ => return Err(format!("`{op}` is not an operator")),
        };
        match self.next() {
            Some(Token::Text(value)) => Ok(Filter::Compare(attribute, op, value)),
            _ => Err(format!("expected a quoted string after `{name} {}`", op_name(op))),
        }
    }
}

fn op_name(op: Op) -> &'static str {
    match op {
        Op::Eq => "eq",
        Op::Ne => "ne",
        Op::Co => "co",
        Op::Sw => "sw",
        Op::Ew => "ew",
    }
}

fn attribute(name: &str) -> Result<Attribute, String> {
    const CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:user:";
    let lower = name.to_ascii_lowercase();
    let short = lower.strip_prefix(CORE).unwrap_or(&lower);
    match short {
        "username" => Ok(Attribute::UserName),
        "emails" | "emails.value" => Ok(Attribute::Email),
        "externalid" => Ok(Attribute::ExternalId),
        "displayname" => Ok(Attribute::DisplayName),
        "id" => Ok(Attribute::Id),
        _ => Err(format!("`{name}` cannot be filtered on")),
    }
}

/// Parses `text`, saying what is wrong with a bad filter.
pub fn parse(text: &str) -> Result<Filter, String> {
    if text.len() > MAX_FILTER {
        return Err(format!("a filter is at most {MAX_FILTER} bytes"));
    }
    let mut parser = Parser { tokens: tokens(text)?, at: 0 };
    if parser.tokens.is_empty() {
        return Err("the filter is empty".into());
    }
    let filter = parser.or(0)?;
    if parser.at != parser.tokens.len() {
        return Err("unexpected text after the filter".into());
    }
    Ok(filter)
}

fn compare(op: Op, actual: &str, wanted: &str, exact: bool) -> bool {
    let (a, w) =
        if exact { (actual.to_owned(), wanted.to_owned()) } else { (actual.to_lowercase(), wanted.to_lowercase()) };
    match op {
        Op::Eq => a == w,
        Op::Ne => a != w,
        Op::Co => a.contains(&w),
        Op::Sw => a.starts_with(&w),
        Op::Ew => a.ends_with(&w),
    }
}

/// The values `attribute` has for `r`, and whether they compare case-sensitively.
fn values(r: &ScimRecord, attribute: Attribute) -> (Vec<String>, bool) {
    match attribute {
        Attribute::UserName => (vec![crate::scim::user_name(r)], false),
        Attribute::Email => {
            (std::iter::once(&r.email).chain(&r.other_emails).map(ToString::to_string).collect(), false)
        }
        Attribute::ExternalId => (r.external_id.iter().cloned().collect(), true),
        Attribute::DisplayName => (vec![r.display_name.to_string()], false),
        Attribute::Id => (vec![r.id.to_string()], true),
    }
}

impl Filter {
    /// Whether `r` matches.
    pub fn matches(&self, r: &ScimRecord) -> bool {
        match self {
            Filter::Present(a) => !values(r, *a).0.is_empty(),
            // `ne` holds when no value equals; the others when any value matches.
            Filter::Compare(a, Op::Ne, w) => {
                let (vs, exact) = values(r, *a);
                vs.iter().all(|v| compare(Op::Ne, v, w, exact))
            }
            Filter::Compare(a, op, w) => {
                let (vs, exact) = values(r, *a);
                vs.iter().any(|v| compare(*op, v, w, exact))
            }
            Filter::And(x, y) => x.matches(r) && y.matches(r),
            Filter::Or(x, y) => x.matches(r) || y.matches(r),
            Filter::Not(x) => !x.matches(r),
        }
    }

    /// Whether the group with `id` and `name` matches (only `displayName` and `id` name a group's
    /// attributes; a comparison on any other matches no group).
    pub fn matches_group(&self, id: &str, name: &str) -> bool {
        let value = |a: &Attribute| match a {
            Attribute::DisplayName => Some((name, false)),
            Attribute::Id => Some((id, true)),
            _ => None,
        };
        match self {
            Filter::Present(a) => value(a).is_some(),
            Filter::Compare(a, op, w) => value(a).is_some_and(|(v, exact)| compare(*op, v, w, exact)),
            Filter::And(x, y) => x.matches_group(id, name) && y.matches_group(id, name),
            Filter::Or(x, y) => x.matches_group(id, name) || y.matches_group(id, name),
            Filter::Not(x) => !x.matches_group(id, name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparisons_joined_by_and_and_or_parse_with_and_binding_tighter() {
        let f = parse(r#"userName eq "a" or emails.value co "b" and externalId sw "c""#).unwrap();
        let expected = Filter::Or(
            Box::new(Filter::Compare(Attribute::UserName, Op::Eq, "a".into())),
            Box::new(Filter::And(
                Box::new(Filter::Compare(Attribute::Email, Op::Co, "b".into())),
                Box::new(Filter::Compare(Attribute::ExternalId, Op::Sw, "c".into())),
            )),
        );
        assert_eq!(f, expected);
    }

    #[test]
    fn parentheses_not_and_presence_parse() {
        assert!(parse(r#"not (userName eq "x") and (externalId pr)"#).is_ok());
        assert!(parse(r#"urn:ietf:params:scim:schemas:core:2.0:User:userName EQ "x""#).is_ok());
    }

    #[test]
    fn bad_filters_are_messages_not_panics() {
        for bad in [
            "",
            "userName",
            "userName eq",
            "userName eq bob",
            r#"userName eq "open"#,
            r#"title eq "x""#,
            r#"userName gt "x""#,
            r#"userName eq "x" and"#,
            r#"(userName eq "x""#,
            r#"userName eq "x")"#,
            r#"not userName eq "x""#,
            r#"userName eq "\q""#,
            "))))((((",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert!(parse(&"(".repeat(10_000)).is_err());
        assert!(parse(&format!("{}userName pr{}", "not (".repeat(40), ")".repeat(40))).is_err());
    }

    #[test]
    fn any_text_parses_or_fails_without_panicking() {
        let alphabet = ["(", ")", "\"", "\\", " ", "and", "or", "not", "eq", "pr", "userName", "x", "é"];
        let mut seed: u64 = 7;
        for _ in 0..5000 {
            let mut text = String::new();
            for _ in 0..(seed % 12) {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                text.push_str(alphabet[(seed >> 33) as usize % alphabet.len()]);
            }
            let _ = parse(&text);
        }
    }
}
