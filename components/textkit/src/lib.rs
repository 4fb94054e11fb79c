//! Text utilities exported as `polybox:textkit/text`, one function per WIT
//! type kind (numbers, strings, records, enums, variants, lists, flags,
//! results, options, tuples, booleans). Loaded with
//! `JSSandbox::add_component_module("textkit", ...)`, scripts import them by
//! camelCase name: `import { wordCount } from 'user:textkit'`.

use exports::polybox::textkit::text::{CaseStyle, Guest, TextFeatures, TextStats, Token};

wit_bindgen::generate!({
    world: "textkit",
    path: "wit",
});

struct Textkit;

impl Guest for Textkit {
    fn word_count(text: String) -> u32 {
        count(text.split_whitespace())
    }

    fn slugify(text: String) -> String {
        let words: Vec<String> = text
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_ascii_lowercase)
            .collect();
        words.join("-")
    }

    fn stats(text: String) -> TextStats {
        let words: Vec<&str> = text.split_whitespace().collect();
        let letters: usize = words.iter().map(|w| w.chars().count()).sum();
        TextStats {
            words: count(words.iter()),
            lines: count(text.lines()),
            characters: count(text.chars()),
            average_word_length: if words.is_empty() {
                0.0
            } else {
                letters as f64 / words.len() as f64
            },
        }
    }

    fn change_case(text: String, style: CaseStyle) -> String {
        match style {
            CaseStyle::Upper => text.to_uppercase(),
            CaseStyle::Lower => text.to_lowercase(),
            CaseStyle::Title => text
                .split(' ')
                .map(|word| {
                    let mut chars = word.chars();
                    chars.next().map_or_else(String::new, |first| {
                        first
                            .to_uppercase()
                            .chain(chars.flat_map(char::to_lowercase))
                            .collect()
                    })
                })
                .collect::<Vec<_>>()
                .join(" "),
            CaseStyle::Kebab => Self::slugify(text),
        }
    }

    fn tokenize(text: String) -> Vec<Token> {
        let mut tokens = Vec::new();
        let mut chars = text.chars().peekable();
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() {
                chars.next();
            } else if c.is_alphanumeric() {
                let mut word = String::new();
                while let Some(&c) = chars.peek().filter(|c| c.is_alphanumeric() || **c == '.') {
                    word.push(c);
                    chars.next();
                }
                tokens.push(match word.parse::<f64>() {
                    Ok(number) => Token::Number(number),
                    Err(_) => Token::Word(word),
                });
            } else {
                tokens.push(Token::Punctuation(c));
                chars.next();
            }
        }
        tokens
    }

    fn features(text: String) -> TextFeatures {
        let mut features = TextFeatures::empty();
        for (flag, found) in [
            (
                TextFeatures::HAS_DIGITS,
                text.chars().any(|c| c.is_ascii_digit()),
            ),
            (
                TextFeatures::HAS_UPPERCASE,
                text.chars().any(char::is_uppercase),
            ),
            (
                TextFeatures::HAS_WHITESPACE,
                text.chars().any(char::is_whitespace),
            ),
            (
                TextFeatures::HAS_PUNCTUATION,
                text.chars().any(|c| c.is_ascii_punctuation()),
            ),
        ] {
            features.set(flag, found);
        }
        features
    }

    fn parse_number(text: String) -> Result<f64, String> {
        text.trim()
            .parse()
            .map_err(|e| format!("{text:?} is not a number: {e}"))
    }

    fn split_first(text: String, separator: String) -> Option<(String, String)> {
        text.split_once(separator.as_str())
            .map(|(before, after)| (before.to_owned(), after.to_owned()))
    }

    fn is_palindrome(text: String) -> bool {
        let letters: Vec<char> = text
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect();
        letters.iter().eq(letters.iter().rev())
    }

    fn clamp(value: i64, low: i64, high: i64) -> i64 {
        value.max(low).min(high)
    }

    fn ratio(part: u32, whole: u32) -> f32 {
        part as f32 / whole as f32
    }

    fn describe(stats: TextStats) -> String {
        format!(
            "{} words on {} lines, {} characters, {:.1} letters a word",
            stats.words, stats.lines, stats.characters, stats.average_word_length
        )
    }
}

fn count<T>(items: impl Iterator<Item = T>) -> u32 {
    u32::try_from(items.count()).unwrap_or(u32::MAX)
}

export!(Textkit);
