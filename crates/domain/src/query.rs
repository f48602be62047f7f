//! List queries in the Emporix style: `q` (a filter), `sort`, 1-based pages and field
//! selection, checked against the fields a list offers and handed to storage to run in the
//! database. The grammar, its escaping and its case rules are in docs/api-guide.md (Queries).
//!
//! `q` is terms separated by spaces, all of which must hold. A term is `field:predicate`:
//!
//! | predicate | meaning |
//! |---|---|
//! | `value`, `"quoted value"` | equal |
//! | `>v`, `>=v`, `<v`, `<=v`, `(>=a AND <b)` | comparisons, and both bounds of a range |
//! | `(a,b,"c d")` | any of these values |
//! | `~regex`, `~(re gex)`, `(~re gex)` | the value contains a match of the regex |
//! | `null`, `missing` | no value; `exists`: a value |
//!
//! Values are typed by their field: text, whole numbers, numbers, `true`/`false`, and times
//! (RFC 3339, best quoted: `"2026-11-30T10:00:00Z"`). A bare value ends at a space (and, in a
//! list, at a comma or `)`); quote values that hold those, with `\"` and `\\` inside quotes.
//! Field names and values are case-sensitive; keywords (`null`, `exists`, `missing`, `AND`,
//! `true`, `false`) are not.

use crate::{DomainError, Timestamp, error::DomainResult};

/// Longest `q`, `sort` or `fields` accepted.
pub const TEXT_MAX: usize = 2000;
/// Most terms in one `q`, and most values in one list.
pub const TERMS_MAX: usize = 50;
/// Longest regex.
pub const REGEX_MAX: usize = 200;
/// Largest page.
pub const PAGE_SIZE_MAX: u64 = 1000;
/// Items per page when only `pageNumber` is given (Emporix's product service default).
pub const PAGE_SIZE_DEFAULT: u64 = 60;

/// What a field holds, which decides how its values are read and compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// Text: equality, comparisons (by character), regexes.
    Text,
    /// Whole numbers.
    Integer,
    /// Numbers.
    Number,
    /// `true` or `false`.
    Bool,
    /// Instants, RFC 3339.
    Time,
}

/// A field a list can be queried and sorted by.
#[derive(Debug, PartialEq, Eq)]
pub struct Field {
    /// Its name in queries and in the list's items.
    pub name: &'static str,
    /// What it holds.
    pub kind: FieldKind,
}

impl Field {
    /// A field named so, holding `kind`.
    pub const fn new(name: &'static str, kind: FieldKind) -> Self {
        Self { name, kind }
    }
}

/// The fields of one list.
pub type Fields = &'static [Field];

/// A value of a field's kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    /// Text.
    Text(String),
    /// A whole number.
    Integer(i64),
    /// A number.
    Number(f64),
    /// A boolean.
    Bool(bool),
    /// An instant.
    Time(Timestamp),
}

impl Scalar {
    /// A text value (what a [`Queryable`] answers for a text field).
    pub fn text(value: &str) -> Option<Self> {
        Some(Self::Text(value.to_owned()))
    }
}

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    /// `<`
    Less,
    /// `<=`
    AtMost,
    /// `>`
    Greater,
    /// `>=`
    AtLeast,
}

/// What a term asks of its field.
#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    /// Equal to the value.
    Equals(Scalar),
    /// Equal to one of the values.
    AnyOf(Vec<Scalar>),
    /// Every comparison holds.
    Compare(Vec<(Comparison, Scalar)>),
    /// Contains a match of the regex (text fields).
    Matches(String),
    /// Has no value (`null`, `missing`).
    Absent,
    /// Has a value (`exists`).
    Present,
}

/// One condition of `q`.
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    /// The field it tests.
    pub field: &'static Field,
    /// The test.
    pub test: Test,
}

/// One key of `sort`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortKey {
    /// The field sorted by.
    pub field: &'static Field,
    /// Largest first.
    pub descending: bool,
}

/// A page: `size` items after the first `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Items per page, 1 to [`PAGE_SIZE_MAX`].
    pub size: u64,
    /// How many items come before the page.
    pub offset: u64,
}

impl Page {
    /// Page `number` (from 1) of `size` items.
    pub fn numbered(size: u64, number: u64) -> Self {
        Self { size, offset: size.saturating_mul(number.saturating_sub(1)) }
    }
}

/// A checked list query.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ListQuery {
    /// All must hold.
    pub terms: Vec<Term>,
    /// Applied left to right; the list's own order breaks ties.
    pub sort: Vec<SortKey>,
    /// The page, if one was asked for.
    pub page: Option<Page>,
}

/// A query as a client sends it, unchecked.
#[derive(Debug, Clone, Default)]
pub struct QueryText<'a> {
    /// The filter.
    pub q: Option<&'a str>,
    /// `field[:desc],...`
    pub sort: Option<&'a str>,
    /// Items per page.
    pub page_size: Option<u64>,
    /// 1-based page number (default 1 when a size is given).
    pub page_number: Option<u64>,
}

fn invalid(parameter: &str, message: impl Into<String>) -> DomainError {
    DomainError::InvalidQuery(format!("{parameter}: {}", message.into()))
}

impl ListQuery {
    /// Reads and checks a query against the fields of its list. Errors name the parameter and
    /// the field or text at fault.
    pub fn parse(text: &QueryText<'_>, fields: Fields) -> DomainResult<Self> {
        let terms = match text.q {
            Some(q) => parse_q(q, fields)?,
            None => Vec::new(),
        };
        let sort = match text.sort {
            Some(sort) => parse_sort(sort, fields)?,
            None => Vec::new(),
        };
        let page = match (text.page_size, text.page_number) {
            (None, None) => None,
            (size, number) => {
                let size = size.unwrap_or(PAGE_SIZE_DEFAULT);
                let number = number.unwrap_or(1);
                if !(1..=PAGE_SIZE_MAX).contains(&size) {
                    return Err(invalid("pageSize", format!("must be 1 to {PAGE_SIZE_MAX}")));
                }
                if !(1..=u32::MAX as u64).contains(&number) {
                    return Err(invalid("pageNumber", "must be 1 or more (pages count from 1)"));
                }
                Some(Page::numbered(size, number))
            }
        };
        Ok(Self { terms, sort, page })
    }
}

/// Finds a field by name, or says which fields there are.
fn field(name: &str, fields: Fields, parameter: &str) -> DomainResult<&'static Field> {
    fields.iter().find(|f| f.name == name).ok_or_else(|| {
        let known: Vec<&str> = fields.iter().map(|f| f.name).collect();
        invalid(parameter, format!("unknown field '{name}' (fields: {})", known.join(", ")))
    })
}

/// `sort`: `field[:asc|:desc],...` (descending only for `desc`, in any case).
pub fn parse_sort(text: &str, fields: Fields) -> DomainResult<Vec<SortKey>> {
    if text.len() > TEXT_MAX {
        return Err(invalid("sort", "too long"));
    }
    let mut keys = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, direction) = part.split_once(':').unwrap_or((part, "asc"));
        let descending = match direction.to_ascii_lowercase().as_str() {
            "desc" => true,
            "asc" => false,
            other => return Err(invalid("sort", format!("unknown direction '{other}' (asc or desc)"))),
        };
        keys.push(SortKey { field: field(name.trim(), fields, "sort")?, descending });
    }
    Ok(keys)
}

/// `fields`: a comma-separated list of names, each one of `known`.
pub fn parse_projection(text: &str, known: &[impl AsRef<str>]) -> DomainResult<Vec<String>> {
    if text.len() > TEXT_MAX {
        return Err(invalid("fields", "too long"));
    }
    let mut names = Vec::new();
    for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        if !known.iter().any(|k| k.as_ref() == name) {
            let known: Vec<&str> = known.iter().map(AsRef::as_ref).collect();
            return Err(invalid("fields", format!("unknown field '{name}' (fields: {})", known.join(", "))));
        }
        names.push(name.to_owned());
    }
    Ok(names)
}

/// `q`: space-separated terms.
pub fn parse_q(text: &str, fields: Fields) -> DomainResult<Vec<Term>> {
    if text.len() > TEXT_MAX {
        return Err(invalid("q", "too long"));
    }
    if text.chars().any(char::is_control) {
        return Err(invalid("q", "holds a control character"));
    }
    let mut terms = Vec::new();
    for raw in split_top(text, ' ')? {
        let (name, predicate) =
            raw.split_once(':').ok_or_else(|| invalid("q", format!("'{raw}' is not field:value")))?;
        let field = field(name, fields, "q")?;
        terms.push(Term { field, test: parse_predicate(field, predicate)? });
        if terms.len() > TERMS_MAX {
            return Err(invalid("q", "too many terms"));
        }
    }
    Ok(terms)
}

/// Splits at `separator` outside quotes and parentheses; empty parts are dropped.
fn split_top(text: &str, separator: char) -> DomainResult<Vec<&str>> {
    let (mut parts, mut start, mut depth, mut quoted, mut escaped) = (Vec::new(), 0, 0usize, false, false);
    for (at, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => {
                depth = depth.checked_sub(1).ok_or_else(|| invalid("q", "a ')' closes nothing"))?;
            }
            c if c == separator && !quoted && depth == 0 => {
                parts.push(&text[start..at]);
                start = at + c.len_utf8();
            }
            _ => {}
        }
    }
    if quoted {
        return Err(invalid("q", "a quote is not closed"));
    }
    if depth > 0 {
        return Err(invalid("q", "a '(' is not closed"));
    }
    parts.push(&text[start..]);
    Ok(parts.into_iter().map(str::trim).filter(|p| !p.is_empty()).collect())
}

/// A value as written: quoted (unescaped) or bare.
fn unquote(text: &str) -> DomainResult<(String, bool)> {
    let Some(inner) = text.strip_prefix('"') else { return Ok((text.to_owned(), false)) };
    let inner = inner.strip_suffix('"').ok_or_else(|| invalid("q", format!("{text}: a quote is not closed")))?;
    let (mut value, mut chars) = (String::new(), inner.chars());
    while let Some(c) = chars.next() {
        value.push(if c == '\\' { chars.next().unwrap_or('\\') } else { c });
    }
    Ok((value, true))
}

fn parse_predicate(field: &'static Field, text: &str) -> DomainResult<Test> {
    let keyword = text.to_ascii_lowercase();
    match keyword.as_str() {
        "null" | "missing" => return Ok(Test::Absent),
        "exists" => return Ok(Test::Present),
        _ => {}
    }
    if let Some(pattern) = text.strip_prefix("~(").and_then(|p| p.strip_suffix(')')) {
        return regex(field, pattern);
    }
    if let Some(pattern) = text.strip_prefix('~') {
        return regex(field, pattern);
    }
    if let Some(inner) = text.strip_prefix('(').and_then(|p| p.strip_suffix(')')) {
        if let Some(pattern) = inner.strip_prefix('~') {
            return regex(field, pattern);
        }
        if inner.starts_with(['<', '>']) {
            let bounds = split_and(inner);
            let comparisons = bounds.iter().map(|b| comparison(field, b)).collect::<DomainResult<Vec<_>>>()?;
            return Ok(Test::Compare(comparisons));
        }
        let values = split_top(inner, ',')?;
        if values.is_empty() || values.len() > TERMS_MAX {
            return Err(invalid("q", format!("{}: a list holds 1 to {TERMS_MAX} values", field.name)));
        }
        let values = values.into_iter().map(|v| value(field, v)).collect::<DomainResult<Vec<_>>>()?;
        return Ok(Test::AnyOf(values));
    }
    if text.starts_with(['<', '>']) {
        return Ok(Test::Compare(vec![comparison(field, text)?]));
    }
    Ok(Test::Equals(value(field, text)?))
}

/// The bounds of a range, split at ` AND ` (any case).
fn split_and(text: &str) -> Vec<&str> {
    let upper = text.to_ascii_uppercase();
    let mut parts = Vec::new();
    let mut start = 0;
    for (at, _) in upper.match_indices(" AND ") {
        parts.push(text[start..at].trim());
        start = at + 5;
    }
    parts.push(text[start..].trim());
    parts
}

fn comparison(field: &'static Field, text: &str) -> DomainResult<(Comparison, Scalar)> {
    let (operator, rest) =
        [(">=", Comparison::AtLeast), ("<=", Comparison::AtMost), (">", Comparison::Greater), ("<", Comparison::Less)]
            .into_iter()
            .find_map(|(prefix, op)| text.strip_prefix(prefix).map(|rest| (op, rest)))
            .ok_or_else(|| invalid("q", format!("{}: '{text}' is not a comparison", field.name)))?;
    if field.kind == FieldKind::Bool {
        return Err(invalid("q", format!("{}: true or false cannot be compared", field.name)));
    }
    Ok((operator, value(field, rest.trim())?))
}

fn value(field: &'static Field, text: &str) -> DomainResult<Scalar> {
    let (text, quoted) = unquote(text)?;
    if text.is_empty() && !quoted {
        return Err(invalid("q", format!("{}: a value is missing", field.name)));
    }
    let wrong = |what: &str| invalid("q", format!("{}: '{text}' is not {what}", field.name));
    Ok(match field.kind {
        FieldKind::Text => Scalar::Text(text),
        FieldKind::Integer => Scalar::Integer(text.parse().map_err(|_| wrong("a whole number"))?),
        FieldKind::Number => {
            Scalar::Number(text.parse::<f64>().ok().filter(|n| n.is_finite()).ok_or_else(|| wrong("a number"))?)
        }
        FieldKind::Bool => match text.to_ascii_lowercase().as_str() {
            "true" => Scalar::Bool(true),
            "false" => Scalar::Bool(false),
            _ => return Err(wrong("true or false")),
        },
        FieldKind::Time => Scalar::Time(
            chrono::DateTime::parse_from_rfc3339(&text)
                .map_err(|_| wrong("an RFC 3339 time (\"2026-11-30T10:00:00Z\")"))?
                .with_timezone(&chrono::Utc),
        ),
    })
}

/// A regex that both databases read alike: Rust's syntax without flags, groups of its own
/// (`(?...)`) or Unicode classes, which PostgreSQL's regexes lack.
fn regex(field: &'static Field, pattern: &str) -> DomainResult<Test> {
    let fail = |why: &str| invalid("q", format!("{}: regex '{pattern}' {why}", field.name));
    if field.kind != FieldKind::Text {
        return Err(fail("applies to text fields only"));
    }
    if pattern.is_empty() || pattern.len() > REGEX_MAX {
        return Err(fail(&format!("must have 1 to {REGEX_MAX} characters")));
    }
    if pattern.contains("(?") || pattern.contains("\\p") || pattern.contains("\\P") || pattern.contains("\\x") {
        return Err(fail("uses a construct PostgreSQL lacks ((?...), \\p, \\x)"));
    }
    if pattern.chars().any(char::is_control) {
        return Err(fail("holds a control character"));
    }
    let (mut escaped, mut in_brackets) = (false, false);
    for c in pattern.chars() {
        if escaped && c.is_ascii_alphanumeric() && !matches!(c, 'd' | 'D' | 'w' | 'W' | 's' | 'S') {
            return Err(fail(&format!(
                "uses the escape \\{c} (allowed: \\d \\w \\s, their negations, and punctuation)"
            )));
        }
        if escaped && in_brackets && matches!(c, 'D' | 'W' | 'S') {
            return Err(fail(&format!("uses \\{c} inside brackets, which PostgreSQL refuses")));
        }
        match c {
            '[' if !escaped => in_brackets = true,
            ']' if !escaped => in_brackets = false,
            _ => {}
        }
        escaped = !escaped && c == '\\';
    }
    // PostgreSQL counts repetitions up to 255 (`a{256}` is an error there).
    let counts = pattern.split('{').skip(1).filter_map(|rest| rest.split_once('}')).map(|(inside, _)| inside);
    if counts.flat_map(|inside| inside.split(',')).any(|n| n.trim().parse::<u32>().is_ok_and(|n| n > 255)) {
        return Err(fail("repeats more than 255 times"));
    }
    compile(pattern).map_err(|e| fail(&format!("does not parse: {e}")))?;
    Ok(Test::Matches(pattern.to_owned()))
}

/// A regex as Toolhub runs it in memory (SQLite runs the same engine).
fn compile(pattern: &str) -> Result<regex::Regex, regex::Error> {
    regex::RegexBuilder::new(pattern).size_limit(1 << 20).build()
}

/// A record a list query can test and sort in memory (the in-memory store, and lists that
/// are not stored).
pub trait Queryable {
    /// The value of a field of its list (`None`: no value).
    fn value(&self, field: &str) -> Option<Scalar>;
}

/// Orders two values of one field; no value sorts after every value, whatever the direction
/// (as the databases are told to: `NULLS LAST`).
fn order(a: &Option<Scalar>, b: &Option<Scalar>, descending: bool) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(a), Some(b)) => {
            let ordering = a.partial_cmp(b).unwrap_or(Ordering::Equal);
            if descending { ordering.reverse() } else { ordering }
        }
    }
}

impl PartialOrd for Scalar {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        match (self, other) {
            (Self::Text(a), Self::Text(b)) => a.as_bytes().partial_cmp(b.as_bytes()),
            (Self::Integer(a), Self::Integer(b)) => a.partial_cmp(b),
            (Self::Number(a), Self::Number(b)) => a.partial_cmp(b),
            (Self::Integer(a), Self::Number(b)) => (*a as f64).partial_cmp(b),
            (Self::Number(a), Self::Integer(b)) => a.partial_cmp(&(*b as f64)),
            (Self::Bool(a), Self::Bool(b)) => a.partial_cmp(b),
            (Self::Time(a), Self::Time(b)) => a.partial_cmp(b),
            _ => None,
        }
    }
}

impl Test {
    /// Whether a value passes; `regex` is the compiled [`Test::Matches`] pattern.
    fn admits(&self, value: Option<&Scalar>, regex: Option<&regex::Regex>) -> bool {
        use std::cmp::Ordering::*;
        match (self, value) {
            (Self::Absent, value) => value.is_none(),
            (Self::Present, value) => value.is_some(),
            (_, None) => false,
            (Self::Equals(wanted), Some(value)) => value.partial_cmp(wanted) == Some(Equal),
            (Self::AnyOf(wanted), Some(value)) => wanted.iter().any(|w| value.partial_cmp(w) == Some(Equal)),
            (Self::Compare(bounds), Some(value)) => bounds.iter().all(|(op, bound)| {
                let ordering = value.partial_cmp(bound);
                match op {
                    Comparison::Less => ordering == Some(Less),
                    Comparison::AtMost => matches!(ordering, Some(Less | Equal)),
                    Comparison::Greater => ordering == Some(Greater),
                    Comparison::AtLeast => matches!(ordering, Some(Greater | Equal)),
                }
            }),
            (Self::Matches(_), Some(Scalar::Text(text))) => regex.is_some_and(|r| r.is_match(text)),
            (Self::Matches(_), Some(_)) => false,
        }
    }
}

impl ListQuery {
    /// Sorts items by the query's keys; the order they came in breaks ties.
    pub fn sort_items<T: Queryable>(&self, items: &mut [T]) {
        if self.sort.is_empty() {
            return;
        }
        items.sort_by(|a, b| {
            self.sort
                .iter()
                .map(|key| order(&a.value(key.field.name), &b.value(key.field.name), key.descending))
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal)
        });
    }

    /// Filters, sorts and pages items in memory: the page, and how many items matched.
    pub fn apply<T: Queryable>(&self, items: Vec<T>) -> (Vec<T>, u64) {
        // Each regex is compiled once for the list, not once per item.
        let regexes: Vec<Option<regex::Regex>> = self
            .terms
            .iter()
            .map(|term| match &term.test {
                Test::Matches(pattern) => compile(pattern).ok(),
                _ => None,
            })
            .collect();
        let admits = |item: &T| {
            let mut tests = self.terms.iter().zip(&regexes);
            tests.all(|(term, regex)| term.test.admits(item.value(term.field.name).as_ref(), regex.as_ref()))
        };
        let mut items: Vec<T> = items.into_iter().filter(|item| admits(item)).collect();
        self.sort_items(&mut items);
        let total = items.len() as u64;
        (self.page_of(items), total)
    }

    /// The query's page of items that are filtered and sorted already (all without a page).
    pub fn page_of<T>(&self, items: Vec<T>) -> Vec<T> {
        match self.page {
            Some(page) => items.into_iter().skip(page.offset as usize).take(page.size as usize).collect(),
            None => items,
        }
    }

    /// The query with one more term, on a field of `fields` (a list's own filter parameters).
    pub fn and(mut self, fields: Fields, name: &str, test: Test) -> Self {
        let field = fields.iter().find(|f| f.name == name).expect("the list has this field");
        self.terms.push(Term { field, test });
        self
    }

    /// The same query without its page (to page after filtering what storage cannot).
    pub fn unpaged(&self) -> Self {
        Self { page: None, ..self.clone() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIELDS: Fields = &[
        Field::new("name", FieldKind::Text),
        Field::new("calls", FieldKind::Integer),
        Field::new("enabled", FieldKind::Bool),
        Field::new("created_at", FieldKind::Time),
        Field::new("ratio", FieldKind::Number),
    ];

    fn q(text: &str) -> DomainResult<Vec<Term>> {
        parse_q(text, FIELDS)
    }

    fn tests(text: &str) -> Vec<Test> {
        q(text).unwrap().into_iter().map(|t| t.test).collect()
    }

    fn text(value: &str) -> Scalar {
        Scalar::Text(value.into())
    }

    #[test]
    fn every_form_of_the_grammar_reads() {
        assert_eq!(tests("name:apple"), [Test::Equals(text("apple"))]);
        assert_eq!(tests(r#"name:"two words \"quoted\"""#), [Test::Equals(text(r#"two words "quoted""#))]);
        assert_eq!(tests("calls:>20"), [Test::Compare(vec![(Comparison::Greater, Scalar::Integer(20))])]);
        assert_eq!(
            tests("calls:(>=10 AND <=20)"),
            [Test::Compare(vec![
                (Comparison::AtLeast, Scalar::Integer(10)),
                (Comparison::AtMost, Scalar::Integer(20))
            ])]
        );
        let day = |d: u32| chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, d, 0, 0, 0).unwrap();
        assert_eq!(
            tests(r#"created_at:(>="2026-11-01T00:00:00Z" and <"2026-11-02T00:00:00Z")"#),
            [Test::Compare(vec![
                (Comparison::AtLeast, Scalar::Time(day(1))),
                (Comparison::Less, Scalar::Time(day(2)))
            ])]
        );
        assert_eq!(tests("enabled:TRUE"), [Test::Equals(Scalar::Bool(true))]);
        assert_eq!(tests("name:null name:missing name:exists"), [Test::Absent, Test::Absent, Test::Present]);
        assert_eq!(tests(r#"name:(a,"b c",d)"#), [Test::AnyOf(vec![text("a"), text("b c"), text("d")])]);
        assert_eq!(tests("name:~^ap"), [Test::Matches("^ap".into())]);
        assert_eq!(
            tests("name:(~ap le) name:~(ap le)"),
            [Test::Matches("ap le".into()), Test::Matches("ap le".into())]
        );
        assert_eq!(tests("  name:a   calls:1 ").len(), 2, "spaces between terms, several or none at the ends");
        assert_eq!(tests("ratio:<=0.5"), [Test::Compare(vec![(Comparison::AtMost, Scalar::Number(0.5))])]);
        assert_eq!(tests(r#"name:"null""#), [Test::Equals(text("null"))], "a quoted keyword is text");
    }

    #[test]
    fn errors_name_what_is_wrong() {
        let message = |text: &str| q(text).unwrap_err().client_message();
        assert!(message("colour:red").contains("unknown field 'colour'"), "{}", message("colour:red"));
        assert!(message("colour:red").contains("name, calls"));
        assert!(message("calls:many").contains("not a whole number"));
        assert!(message("enabled:>true").contains("cannot be compared"));
        assert!(message("created_at:yesterday").contains("RFC 3339"));
        assert!(message("calls:~1").contains("text fields only"));
        assert!(message("name:~(?i)a").contains("PostgreSQL"));
        assert!(message(r"name:~\p{L}").contains("PostgreSQL"));
        assert!(message(r"name:~\1").contains("escape"));
        assert!(message(r"name:~[\D]").contains("inside brackets"));
        assert!(message("name:~a{256}").contains("255"));
        assert!(q(r"name:~[\d]x{2,255}").is_ok(), "what both databases read stays allowed");
        assert!(message("name:~(a").contains("not closed"));
        assert!(message("name:~[a").contains("does not parse"));
        assert!(message(r#"name:"open"#).contains("not closed"));
        assert!(message("justaword").contains("field:value"));
        assert!(message("name:").contains("missing"));
        assert!(message("name:()").contains("1 to"));
        assert!(message(&"name:a ".repeat(TERMS_MAX + 1)).contains("too many"));
        assert!(message(&"a".repeat(TEXT_MAX + 1)).contains("too long"));
        assert!(message("name:a\u{0}b").contains("control character"));
    }

    #[test]
    fn sort_pages_and_projections() {
        let sort = parse_sort("name, calls:DESC", FIELDS).unwrap();
        assert_eq!(
            sort.iter().map(|k| (k.field.name, k.descending)).collect::<Vec<_>>(),
            [("name", false), ("calls", true)]
        );
        assert!(parse_sort("name:sideways", FIELDS).is_err());
        assert!(parse_sort("colour", FIELDS).unwrap_err().client_message().contains("unknown field"));
        let text = QueryText { page_size: Some(10), page_number: Some(3), ..Default::default() };
        assert_eq!(ListQuery::parse(&text, FIELDS).unwrap().page.unwrap().offset, 20);
        for (size, number) in [(0, 1), (PAGE_SIZE_MAX + 1, 1), (10, 0)] {
            let text = QueryText { page_size: Some(size), page_number: Some(number), ..Default::default() };
            assert!(ListQuery::parse(&text, FIELDS).is_err(), "{size} {number}");
        }
        assert_eq!(parse_projection("name, id", &["id", "name"]).unwrap(), ["name", "id"]);
        assert!(parse_projection("secret", &["id"]).unwrap_err().client_message().contains("unknown field 'secret'"));
    }

    proptest::proptest! {
        /// Whatever a client sends, the parser answers (never panics).
        #[test]
        fn any_text_parses_or_is_refused(text in ".{0,80}") {
            let _ = parse_q(&text, FIELDS);
            let _ = parse_sort(&text, FIELDS);
        }
    }
}
