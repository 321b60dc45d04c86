//! Text as compared and as shown: the one folding used wherever Vietnamese
//! words are matched, capitalisation, and the SHA-256 that names a file.

use unicode_normalization::UnicodeNormalization;

/// Folds text for comparison: NFC, lower case, both tone-mark placements
/// (hoà / hòa) made one, punctuation and runs of any white space (including
/// non-breaking) made a single space, trimmed. Diacritics are kept: "Hòa"
/// and "Hoa" are different words in Vietnamese.
pub fn fold(s: &str) -> String {
    // Plain ASCII (codes, numbers, text typed without diacritics) needs
    // neither normalisation nor tone placement.
    let nfc = if s.is_ascii() {
        s.to_ascii_lowercase()
    } else if unicode_normalization::is_nfc_quick(s.chars())
        == unicode_normalization::IsNormalized::Yes
    {
        // Text typed in NFC, as nearly all is: nothing to compose.
        modern_tone_placement(&s.to_lowercase())
    } else {
        modern_tone_placement(&s.nfc().collect::<String>().to_lowercase())
    };
    let mut out = String::with_capacity(nfc.len());
    let mut space = false;
    for c in nfc.chars() {
        if c.is_alphanumeric() || c == '(' || c == ')' || c == '/' {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push(c);
        } else {
            space = true;
        }
    }
    out
}

/// Folds further to plain ASCII letters and digits: "Biểu 06" → "bieu 06".
/// Used to find sheets and headers typed without diacritics.
///
/// Every cell a workbook's header or label could be goes through here, so
/// text made of ASCII and precomposed Latin letters (all Vietnamese typed
/// in NFC) is folded by a table in one pass; anything else (decomposed
/// marks, other scripts) takes the full way, which gives the same result.
pub fn ascii_fold(s: &str) -> String {
    fast_ascii_fold(s).unwrap_or_else(|| slow_ascii_fold(s))
}

fn slow_ascii_fold(s: &str) -> String {
    fold(s)
        .replace('đ', "d")
        .nfd()
        .filter(|c| c.is_ascii())
        .collect()
}

/// The Latin letters with marks, U+00A0 to U+024F and U+1E00 to U+1EFF:
/// what each folds to alone (a letter's base in lower case, "" for a mark
/// or a sign), and whether it is a letter (kept) or a separator.
struct LatinTable {
    low: Vec<(String, bool)>,
    extended: Vec<(String, bool)>,
}

const LOW: (u32, u32) = (0xA0, 0x250);
const EXTENDED: (u32, u32) = (0x1E00, 0x1F00);

static LATIN: std::sync::LazyLock<LatinTable> = std::sync::LazyLock::new(|| {
    let make = |(from, to): (u32, u32)| {
        (from..to)
            .map(|u| match char::from_u32(u) {
                Some(c) => (slow_ascii_fold(&c.to_string()), c.is_alphanumeric()),
                None => (String::new(), false),
            })
            .collect()
    };
    LatinTable {
        low: make(LOW),
        extended: make(EXTENDED),
    }
});

/// Combining marks, which NFC may compose with the character before.
fn is_combining(u: u32) -> bool {
    matches!(u, 0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

fn fast_ascii_fold(s: &str) -> Option<String> {
    let table = &*LATIN;
    let mut out = String::with_capacity(s.len());
    // As `fold` does: a space between words, none at the ends; a letter
    // with no ASCII base counts as a word that leaves nothing.
    let (mut space, mut words) = (false, false);
    let mut push = |piece: &str, letter: bool, out: &mut String| {
        if letter {
            if space && words {
                out.push(' ');
            }
            space = false;
            words = true;
            out.push_str(piece);
        } else {
            space = true;
        }
    };
    for c in s.chars() {
        if c.is_ascii() {
            let keep = c.is_ascii_alphanumeric() || c == '(' || c == ')' || c == '/';
            let mut b = [0u8; 1];
            push(c.to_ascii_lowercase().encode_utf8(&mut b), keep, &mut out);
            continue;
        }
        let u = c as u32;
        let (piece, letter) = if (LOW.0..LOW.1).contains(&u) {
            &table.low[(u - LOW.0) as usize]
        } else if (EXTENDED.0..EXTENDED.1).contains(&u) {
            &table.extended[(u - EXTENDED.0) as usize]
        } else if is_combining(u) || c.is_alphanumeric() {
            // Marks that NFC may join to the letter before, or letters of
            // other scripts: the full way.
            return None;
        } else {
            // Any other sign or space separates words.
            push("", false, &mut out);
            continue;
        };
        push(piece, *letter, &mut out);
    }
    Some(out)
}

/// The text with its first letter in upper case: a phrase that opens a sentence.
pub fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// The text with its first letter in lower case (a label inside a
/// sentence), unless its first word is an acronym such as "UBND".
pub fn decapitalise(s: &str) -> String {
    let first = s.split_whitespace().next().unwrap_or_default();
    let acronym = first.chars().filter(|c| c.is_alphabetic()).count() > 1
        && first.chars().all(|c| !c.is_lowercase());
    if acronym {
        return s.to_string();
    }
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_lowercase().chain(c).collect())
        .unwrap_or_default()
}

/// The old ("oà", "uỷ") and new ("òa", "ủy") tone placements name the same
/// syllable; this rewrites the old style into the new one.
fn modern_tone_placement(s: &str) -> String {
    const PAIRS: [(&str, &str); 15] = [
        ("oà", "òa"),
        ("oá", "óa"),
        ("oả", "ỏa"),
        ("oã", "õa"),
        ("oạ", "ọa"),
        ("oè", "òe"),
        ("oé", "óe"),
        ("oẻ", "ỏe"),
        ("oẽ", "õe"),
        ("oẹ", "ọe"),
        ("uỳ", "ùy"),
        ("uý", "úy"),
        ("uỷ", "ủy"),
        ("uỹ", "ũy"),
        ("uỵ", "ụy"),
    ];
    // Only an "o" or "u" before a marked letter can be one of the pairs.
    let mut prev = ' ';
    let maybe = s.chars().any(|c| {
        let hit = matches!(prev, 'o' | 'u') && !c.is_ascii();
        prev = c;
        hit
    });
    let mut out = s.to_string();
    if !maybe {
        return out;
    }
    for (old, new) in PAIRS {
        if out.contains(old) {
            out = out.replace(old, new);
        }
    }
    out
}

/// The SHA-256 of some bytes, in lowercase hex: how the archive names a
/// file and how a report's inputs are fingerprinted.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table's way and the full way fold alike: every Vietnamese
    /// letter in both cases, signs, spaces and digits, in random strings.
    #[test]
    fn the_fast_ascii_fold_is_the_full_one() {
        let alphabet: Vec<char> = "aàáảãạăằắẳẵặâầấẩẫậbcdđeèéẻẽẹêềếểễệghiìíỉĩịklmnoòóỏõọôồốổỗộơờớởỡợpqrstuùúủũụưừứửữựvxyỳýỷỹỵ"
            .chars()
            .flat_map(|c| [c, c.to_uppercase().next().unwrap_or(c)])
            .chain(" \u{a0}\t0123456789()/,.-–:;“”'·×ß".chars())
            .collect();
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        for _ in 0..20_000 {
            let len = (x % 24) as usize;
            let mut t = String::new();
            for _ in 0..len {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                t.push(alphabet[(x % alphabet.len() as u64) as usize]);
            }
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            assert_eq!(fast_ascii_fold(&t), Some(slow_ascii_fold(&t)), "{t:?}");
        }
        assert_eq!(
            ascii_fold("  Số hồ sơ ĐANG giải quyết "),
            "so ho so dang giai quyet"
        );
        // Decomposed marks and other scripts go the full way.
        assert_eq!(fast_ascii_fold("Hoa\u{300}"), None);
        assert_eq!(
            ascii_fold("Hoa\u{300} 北"),
            slow_ascii_fold("Hoa\u{300} 北")
        );
    }

    #[test]
    fn nfd_and_nfc_fold_alike() {
        let nfd: String = "Biểu 06".nfd().collect();
        assert_eq!(fold(&nfd), fold("Biểu 06"));
        assert_eq!(fold("  BIỂU\u{a0}06 "), "biểu 06");
    }

    #[test]
    fn both_tone_placements_fold_alike() {
        assert_eq!(fold("Thuỷ lợi"), fold("Thủy lợi"));
        assert_eq!(fold("hoà giải"), fold("hòa giải"));
        assert_ne!(fold("Hòa"), fold("Hoa"));
    }

    #[test]
    fn ascii_fold_drops_diacritics() {
        assert_eq!(
            ascii_fold("Số hồ sơ đã giải quyết"),
            "so ho so da giai quyet"
        );
        assert_eq!(ascii_fold("Đường"), "duong");
    }
}
