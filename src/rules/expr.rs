//! Rule expressions: a criterion's or target's formula, written as an SQL
//! expression over the report's fields, compiled once by polars at load time
//! so that a misspelt field is an error of the rule file, with its line.

use polars::prelude::Expr;

/// A rule expression compiled by polars' SQL front end, with its source kept
/// for messages and reports.
#[derive(Debug, Clone)]
pub struct CompiledExpr {
    pub source: String,
    pub expr: Expr,
    /// The fields it reads, in order of first use.
    pub fields: Vec<String>,
}

/// Parses `source` as an SQL expression and checks every column it names is
/// one of `fields` (those of the form in force; with none, the caller has
/// already said no form is in force, and names are not checked). The error
/// is a Vietnamese sentence, to be located by the caller.
pub fn compile_expression(source: &str, fields: &[&str]) -> Result<CompiledExpr, String> {
    if source.trim().is_empty() {
        return Err("biểu thức rỗng — viết một biểu thức trên các trường, ví dụ \"ho_so_so_hoa / nhan_tong\"".into());
    }
    let expr = polars::sql::sql_expr(source).map_err(|e| {
        format!(
            "biểu thức \"{source}\" không đúng cú pháp: {}",
            first_line(&e.to_string())
        )
    })?;
    let known = fields;
    let mut fields: Vec<String> = Vec::new();
    for name in expr.clone().meta().root_names() {
        let name = name.to_string();
        if !known.is_empty() && !known.contains(&name.as_str()) {
            let hint = closest_field(&name, known)
                .map(|f| format!(" — có phải \"{f}\"?"))
                .unwrap_or_default();
            return Err(format!(
                "biểu thức \"{source}\" dùng trường không tồn tại \"{name}\"{hint}"
            ));
        }
        if !fields.contains(&name) {
            fields.push(name);
        }
    }
    Ok(CompiledExpr {
        source: source.to_string(),
        expr,
        fields,
    })
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

/// The known field nearest to a misspelt one, by edit distance.
fn closest_field<'a>(name: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|f| (levenshtein(name, f), *f))
        .filter(|(d, _)| *d <= 3)
        .min()
        .map(|(_, f)| f)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIELDS: [&str; 6] = [
        "nhan_tong",
        "truoc_han",
        "dung_han",
        "trong_han",
        "ho_so_so_hoa",
        "ho_so_tai_su_dung",
    ];

    #[test]
    fn expressions_name_their_fields() {
        let c = compile_expression("truoc_han + dung_han + trong_han", &FIELDS).unwrap();
        assert_eq!(c.fields, ["truoc_han", "dung_han", "trong_han"]);
    }

    #[test]
    fn a_misspelt_field_is_refused_with_a_suggestion() {
        let e = compile_expression("ho_so_so_hao / nhan_tong", &FIELDS).unwrap_err();
        assert!(
            e.contains("ho_so_so_hao") && e.contains("ho_so_so_hoa"),
            "{e}"
        );
    }

    #[test]
    fn bad_syntax_is_refused() {
        assert!(compile_expression("nhan_tong +", &FIELDS).is_err());
    }
}
