//! A streaming lexer for the text format: one token of lookahead, no
//! token buffer, so hostile input of any size costs constant memory.

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Tok<'a> {
    /// A bare word: keywords, op names, dtypes, attribute names, `true`,
    /// `false`, `inf`, `nan`.
    Ident(&'a str),
    /// `@name`.
    Global(&'a str),
    /// `%name`.
    Local(&'a str),
    /// An integer literal (may be negative).
    Int(i128),
    /// A float literal, kept as text so that it can be read in the
    /// target dtype's precision (`1.5`, `-2e-3`, `-inf`).
    Float(&'a str),
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `[`
    LBracket,
    /// `]`
    RBracket,
    /// `{`
    LBrace,
    /// `}`
    RBrace,
    /// `,`
    Comma,
    /// `:`
    Colon,
    /// `=`
    Equals,
    /// `->`
    Arrow,
    /// `+` (in extents such as `J+2`)
    Plus,
    /// `-` not starting a number (in extents such as `N - M`)
    Minus,
    /// `*` (in extents such as `2*N`)
    Star,
    /// End of input.
    Eof,
}

impl Tok<'_> {
    /// How the token reads in an error message.
    pub fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("`{s}`"),
            Tok::Global(s) => format!("`@{s}`"),
            Tok::Local(s) => format!("`%{s}`"),
            Tok::Int(i) => format!("`{i}`"),
            Tok::Float(s) => format!("`{s}`"),
            Tok::LParen => "`(`".into(),
            Tok::RParen => "`)`".into(),
            Tok::LBracket => "`[`".into(),
            Tok::RBracket => "`]`".into(),
            Tok::LBrace => "`{`".into(),
            Tok::RBrace => "`}`".into(),
            Tok::Comma => "`,`".into(),
            Tok::Colon => "`:`".into(),
            Tok::Equals => "`=`".into(),
            Tok::Arrow => "`->`".into(),
            Tok::Plus => "`+`".into(),
            Tok::Minus => "`-`".into(),
            Tok::Star => "`*`".into(),
            Tok::Eof => "end of file".into(),
        }
    }
}

/// A token with its position.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Token<'a> {
    /// The token.
    pub tok: Tok<'a>,
    /// Byte offset of its first character.
    pub start: usize,
    /// Byte offset one past its last character.
    pub end: usize,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub col: u32,
}

/// A lexing error: message and position.
#[derive(Clone, Debug)]
pub struct LexError {
    /// What is wrong.
    pub message: String,
    /// Byte offset.
    pub start: usize,
    /// Byte offset one past the offending text.
    pub end: usize,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub col: u32,
}

/// Bytes of names: 1 for letters, digits and `_` (identifiers); 2 for `.`
/// (allowed in `@` and `%` names too); 0 otherwise.
static WORD: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        if c.is_ascii_alphanumeric() || c == b'_' {
            t[b] = 1;
        } else if c == b'.' {
            t[b] = 2;
        }
        b += 1;
    }
    t
};

/// The lexer state.
pub struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    line: u32,
    col: u32,
}

impl<'a> Lexer<'a> {
    /// A lexer at the start of `src`.
    pub fn new(src: &'a str) -> Lexer<'a> {
        Lexer { src, pos: 0, line: 1, col: 1 }
    }

    /// A lexer at byte `pos` of `src`, which is at `line` and `col`.
    pub fn at(src: &'a str, pos: usize, line: u32, col: u32) -> Lexer<'a> {
        Lexer { src, pos, line, col }
    }

    fn peek_char(&self) -> Option<char> {
        let b = *self.src.as_bytes().get(self.pos)?;
        if b.is_ascii() { Some(b as char) } else { self.src[self.pos..].chars().next() }
    }

    fn peek_char2(&self) -> Option<char> {
        let mut it = self.src[self.pos..].chars();
        it.next();
        it.next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek_char()?;
        self.pos += c.len_utf8();
        if c == '\n' {
            self.line += 1;
            self.col = 1;
        } else {
            self.col += 1;
        }
        Some(c)
    }

    fn skip_trivia(&mut self) {
        let bytes = self.src.as_bytes();
        while let Some(&b) = bytes.get(self.pos) {
            match b {
                b' ' | b'\t' | b'\r' | 0x0b | 0x0c => {
                    self.pos += 1;
                    self.col += 1;
                }
                b'\n' => {
                    self.pos += 1;
                    self.line += 1;
                    self.col = 1;
                }
                b'#' => {
                    let rest = &self.src[self.pos..];
                    let len = rest.find('\n').unwrap_or(rest.len());
                    self.col += rest[..len].chars().count() as u32;
                    self.pos += len;
                }
                _ if b.is_ascii() => break,
                _ => match self.peek_char() {
                    Some(c) if c.is_whitespace() => {
                        self.bump();
                    }
                    _ => break,
                },
            }
        }
    }

    fn take_name(&mut self) -> &'a str {
        self.take_while(|b| WORD[b as usize] != 0)
    }

    /// Consumes ASCII bytes while `pred` holds (never a newline).
    fn take_while(&mut self, pred: impl Fn(u8) -> bool) -> &'a str {
        let start = self.pos;
        let bytes = self.src.as_bytes();
        while self.pos < bytes.len() && pred(bytes[self.pos]) {
            self.pos += 1;
        }
        self.col += (self.pos - start) as u32;
        &self.src[start..self.pos]
    }

    /// The next token.
    pub fn next_token(&mut self) -> Result<Token<'a>, LexError> {
        self.skip_trivia();
        let (start, line, col) = (self.pos, self.line, self.col);
        let err = |lx: &Lexer, message: String| LexError {
            message,
            start,
            end: lx.pos.max(start + 1).min(lx.src.len().max(start)),
            line,
            col,
        };
        let Some(c) = self.peek_char() else {
            return Ok(Token { tok: Tok::Eof, start, end: start, line, col });
        };
        let tok = match c {
            '(' | ')' | '[' | ']' | '{' | '}' | ',' | ':' | '=' => {
                self.pos += 1;
                self.col += 1;
                match c {
                    '(' => Tok::LParen,
                    ')' => Tok::RParen,
                    '[' => Tok::LBracket,
                    ']' => Tok::RBracket,
                    '{' => Tok::LBrace,
                    '}' => Tok::RBrace,
                    ',' => Tok::Comma,
                    ':' => Tok::Colon,
                    _ => Tok::Equals,
                }
            }
            '-' if self.peek_char2() == Some('>') => {
                self.bump();
                self.bump();
                Tok::Arrow
            }
            '+' | '*' => {
                self.bump();
                if c == '+' { Tok::Plus } else { Tok::Star }
            }
            '-' if !self.peek_char2().is_some_and(|c| c.is_ascii_digit() || c == 'i' || c == '.') => {
                self.bump();
                Tok::Minus
            }
            '@' | '%' => {
                self.bump();
                let name = self.take_name();
                if name.is_empty() {
                    let what = if c == '@' { "function" } else { "value" };
                    return Err(err(self, format!("expected a {what} name after `{c}`")));
                }
                if c == '@' { Tok::Global(name) } else { Tok::Local(name) }
            }
            '-' | '0'..='9' => self.number().map_err(|m| err(self, m))?,
            c if c.is_ascii_alphabetic() || c == '_' => Tok::Ident(self.take_while(|b| WORD[b as usize] == 1)),
            other => {
                self.bump();
                let shown = if other.is_control() { format!("{:?}", other) } else { format!("`{other}`") };
                return Err(err(self, format!("unexpected character {shown}")));
            }
        };
        Ok(Token { tok, start, end: self.pos, line, col })
    }

    /// A fast path for the lists that fill shapes and axis attributes:
    /// small non-negative integers written without spaces, right after a
    /// `[` (`]`, `3]`, `2,3]`). On success it calls `each` with every
    /// integer and its token, moves past the `]` and returns the `]` token;
    /// for any other text it returns `None` and leaves the lexer as it was,
    /// and the caller lexes token by token.
    pub fn small_int_list(&mut self, mut each: impl FnMut(Token<'a>, i128)) -> Option<Token<'a>> {
        let bytes = self.src.as_bytes();
        let digits_from = |p: usize| bytes[p..].iter().position(|b| !b.is_ascii_digit()).map_or(bytes.len(), |n| p + n);
        let mut p = self.pos;
        loop {
            let end = digits_from(p);
            let n = end - p;
            if n > 18 {
                return None;
            }
            p = end;
            match bytes.get(p) {
                Some(b']') if n > 0 || p == self.pos => break,
                Some(b',') if n > 0 => p += 1,
                _ => return None,
            }
        }
        let close = p;
        let at = |lx: &Lexer<'a>, q: usize| lx.col + (q - lx.pos) as u32;
        let mut q = self.pos;
        while q < close {
            let end = digits_from(q);
            let value = small_int(&bytes[q..end]);
            let tok = Tok::Int(i128::from(value));
            each(Token { tok, start: q, end, line: self.line, col: at(self, q) }, i128::from(value));
            q = end + 1;
        }
        let tok = Token { tok: Tok::RBracket, start: close, end: close + 1, line: self.line, col: at(self, close) };
        self.col = at(self, close + 1);
        self.pos = close + 1;
        Some(tok)
    }

    fn number(&mut self) -> Result<Tok<'a>, String> {
        let start = self.pos;
        if self.peek_char() == Some('-') {
            self.bump();
            if self.src[self.pos..].starts_with("inf")
                && !self.src[self.pos + 3..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
            {
                for _ in 0..3 {
                    self.bump();
                }
                return Ok(Tok::Float("-inf"));
            }
            if !self.peek_char().is_some_and(|c| c.is_ascii_digit()) {
                return Err("expected a number after `-`".into());
            }
        }
        let mut is_float = false;
        self.take_while(|b| b.is_ascii_digit());
        if self.peek_char() == Some('.') {
            is_float = true;
            self.bump();
            self.take_while(|b| b.is_ascii_digit());
        }
        if matches!(self.peek_char(), Some('e' | 'E')) {
            is_float = true;
            self.bump();
            if matches!(self.peek_char(), Some('+' | '-')) {
                self.bump();
            }
            if !self.peek_char().is_some_and(|c| c.is_ascii_digit()) {
                return Err("expected digits in the exponent".into());
            }
            while self.peek_char().is_some_and(|c| c.is_ascii_digit()) {
                self.bump();
            }
        }
        if self.peek_char().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') {
            while self.peek_char().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.') {
                self.bump();
            }
            return Err(format!("malformed number `{}`", shorten(&self.src[start..self.pos])));
        }
        let text = &self.src[start..self.pos];
        if is_float {
            return Ok(Tok::Float(text));
        }
        let (negative, digits) = match text.strip_prefix('-') {
            Some(d) => (true, d),
            None => (false, text),
        };
        if digits.len() <= 18 {
            let magnitude = small_int(digits.as_bytes());
            let value = i128::from(magnitude);
            return Ok(Tok::Int(if negative { -value } else { value }));
        }
        text.parse::<i128>().map(Tok::Int).map_err(|_| format!("integer `{}` is too large", shorten(text)))
    }
}

/// The value of at most 18 ASCII digits (which always fit an i64, so no
/// overflow check is needed).
fn small_int(digits: &[u8]) -> i64 {
    digits.iter().fold(0i64, |acc, b| acc * 10 + i64::from(b - b'0'))
}

/// At most 24 characters of `s`, with `...` when cut.
pub fn shorten(s: &str) -> String {
    if s.chars().count() <= 24 { s.to_string() } else { format!("{}...", s.chars().take(24).collect::<String>()) }
}
