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
pub fn ascii_fold(s: &str) -> String {
    fold(s)
        .replace('đ', "d")
        .nfd()
        .filter(|c| c.is_ascii())
        .collect()
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
    let mut out = s.to_string();
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
