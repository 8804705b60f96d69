//! The subset of Python literal syntax a `.npy` header is written in: a
//! dict whose values are strings, `True`/`False`/`None`, integers, and
//! tuples or lists of those (a structured dtype's `descr` is a list of
//! tuples). Anything else is an error, never an evaluation.

/// How deep tuples and lists may nest. Real headers nest three deep (a
/// structured dtype with a sub-array field); the limit keeps a hostile
/// header from exhausting the stack.
const MAX_DEPTH: usize = 16;

/// How the header's bytes become text: latin-1 before format 3.0, UTF-8 from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Encoding {
    Latin1,
    Utf8,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Value {
    Str(String),
    Bool(bool),
    None,
    /// An integer as written, sign included: checking its range is the
    /// caller's business, so the message can quote it.
    Int(String),
    Tuple(Vec<Value>),
    List(Vec<Value>),
}

/// One `key: value` pair, with the value's source text for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Entry {
    pub key: String,
    pub value: Value,
    pub text: String,
}

/// Parses a whole header: one dict, then only whitespace.
pub(super) fn parse_dict(bytes: &[u8], encoding: Encoding) -> Result<Vec<Entry>, String> {
    let mut parser = Parser {
        bytes,
        pos: 0,
        encoding,
    };
    let entries = parser.dict()?;
    parser.skip_whitespace();
    match parser.peek() {
        None => Ok(entries),
        Some(_) => Err(parser.unexpected("the end of the header")),
    }
}

struct Parser<'a> {
    bytes: &'a [u8],
    pos: usize,
    encoding: Encoding,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    /// Skips whitespace, then consumes `byte` if it comes next.
    fn eat(&mut self, byte: u8) -> bool {
        self.skip_whitespace();
        let found = self.peek() == Some(byte);
        if found {
            self.pos += 1;
        }
        found
    }

    fn expect(&mut self, byte: u8) -> Result<(), String> {
        if self.eat(byte) {
            Ok(())
        } else {
            Err(self.unexpected(&format!("`{}`", char::from(byte))))
        }
    }

    fn unexpected(&self, wanted: &str) -> String {
        match self.peek() {
            Some(byte) if byte.is_ascii_graphic() => format!(
                "malformed header: expected {wanted} at byte {}, found `{}`",
                self.pos,
                char::from(byte)
            ),
            Some(byte) => format!(
                "malformed header: expected {wanted} at byte {}, found byte 0x{byte:02x}",
                self.pos
            ),
            None => format!("malformed header: expected {wanted}, found the end of the header"),
        }
    }

    fn dict(&mut self) -> Result<Vec<Entry>, String> {
        self.expect(b'{')?;
        let mut entries = Vec::new();
        loop {
            if self.eat(b'}') {
                return Ok(entries);
            }
            self.skip_whitespace();
            let key = match self.peek() {
                Some(b'\'' | b'"') => self.string()?,
                _ => return Err(self.unexpected("a quoted key or `}`")),
            };
            self.expect(b':')?;
            self.skip_whitespace();
            let start = self.pos;
            let value = self.value(0)?;
            let text = self.text(start);
            entries.push(Entry { key, value, text });
            if !self.eat(b',') {
                self.expect(b'}')?;
                return Ok(entries);
            }
        }
    }

    /// The source text from `start` to here, decoded leniently: it is only
    /// ever quoted in messages.
    fn text(&self, start: usize) -> String {
        let bytes = self.bytes.get(start..self.pos).unwrap_or_default();
        match self.encoding {
            Encoding::Latin1 => bytes.iter().copied().map(char::from).collect(),
            Encoding::Utf8 => String::from_utf8_lossy(bytes).into_owned(),
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, String> {
        if depth > MAX_DEPTH {
            return Err(format!(
                "malformed header: values nested more than {MAX_DEPTH} deep"
            ));
        }
        self.skip_whitespace();
        match self.peek() {
            Some(b'\'' | b'"') => self.string().map(Value::Str),
            Some(b'(') => self.tuple(depth),
            Some(b'[') => {
                self.pos += 1;
                self.sequence(b']', depth)
                    .map(|(items, _)| Value::List(items))
            }
            Some(b'-' | b'+' | b'0'..=b'9') => self.integer(),
            Some(b'A'..=b'Z' | b'a'..=b'z' | b'_') => self.name(),
            _ => Err(self.unexpected("a value")),
        }
    }

    /// `(x)` is `x` in Python; only `()`, `(x,)` and `(x, y...)` are tuples.
    fn tuple(&mut self, depth: usize) -> Result<Value, String> {
        self.pos += 1;
        let (mut items, trailing_comma) = self.sequence(b')', depth)?;
        if items.len() == 1 && !trailing_comma {
            if let Some(only) = items.pop() {
                return Ok(only);
            }
        }
        Ok(Value::Tuple(items))
    }

    /// Comma-separated values up to `close` (consumed), with whether the
    /// last value was followed by a comma.
    fn sequence(&mut self, close: u8, depth: usize) -> Result<(Vec<Value>, bool), String> {
        let mut items = Vec::new();
        loop {
            if self.eat(close) {
                let trailing_comma = !items.is_empty();
                return Ok((items, trailing_comma));
            }
            items.push(self.value(depth + 1)?);
            if !self.eat(b',') {
                self.expect(close)?;
                return Ok((items, false));
            }
        }
    }

    fn string(&mut self) -> Result<String, String> {
        let quote = self.peek();
        self.pos += 1;
        let mut content = Vec::new();
        loop {
            let byte = self
                .peek()
                .ok_or_else(|| "malformed header: unterminated string".to_string())?;
            self.pos += 1;
            match byte {
                b'\n' => return Err("malformed header: unterminated string".to_string()),
                b'\\' => {
                    // An escaped character is kept as written: no dtype name
                    // NumPy can load contains a backslash, so its exact
                    // meaning never matters.
                    let escaped = self
                        .peek()
                        .ok_or_else(|| "malformed header: unterminated string".to_string())?;
                    self.pos += 1;
                    content.extend_from_slice(&[b'\\', escaped]);
                }
                _ if Some(byte) == quote => break,
                _ => content.push(byte),
            }
        }
        match self.encoding {
            Encoding::Latin1 => Ok(content.into_iter().map(char::from).collect()),
            Encoding::Utf8 => String::from_utf8(content)
                .map_err(|_| "malformed header: a string is not valid UTF-8".to_string()),
        }
    }

    /// A decimal integer, with Python 2's `L` suffix (old NumPy wrote `(3L, 4L)`).
    fn integer(&mut self) -> Result<Value, String> {
        let start = self.pos;
        if matches!(self.peek(), Some(b'-' | b'+')) {
            self.pos += 1;
        }
        let digits_start = self.pos;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        if self.pos == digits_start {
            return Err(self.unexpected("a digit"));
        }
        let written = self.text(start);
        if matches!(self.peek(), Some(b'L' | b'l')) {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'.' | b'e' | b'E' | b'x' | b'X' | b'o' | b'O' | b'b' | b'B' | b'j' | b'J') => {
                Err(self.unexpected("an integer"))
            }
            _ => Ok(Value::Int(written)),
        }
    }

    fn name(&mut self) -> Result<Value, String> {
        let start = self.pos;
        while matches!(
            self.peek(),
            Some(b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_')
        ) {
            self.pos += 1;
        }
        match self.text(start).as_str() {
            "True" => Ok(Value::Bool(true)),
            "False" => Ok(Value::Bool(false)),
            "None" => Ok(Value::None),
            other => Err(format!(
                "malformed header: `{other}` is not a literal (expected True, False or None)"
            )),
        }
    }
}
