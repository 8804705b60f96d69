//! "Did you mean": the name a user most likely meant.

/// Names longer than this are never compared for a "did you mean": the edit
/// distance is quadratic in the names' lengths.
const MAX_SUGGESTED_LEN: usize = 64;

/// The candidate `name` was most likely meant to be: one equal to it but for
/// case, else the closest within a small edit distance. Single-letter names
/// only match by case, since every letter is one edit from every other.
pub fn closest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str> + Clone,
) -> Option<&'a str> {
    if let Some(same_but_case) = candidates
        .clone()
        .into_iter()
        .find(|candidate| *candidate != name && candidate.eq_ignore_ascii_case(name))
    {
        return Some(same_but_case);
    }
    let allowed = match name.len() {
        0 | 1 => return None,
        2..=5 => 1,
        _ => 2,
    };
    candidates
        .into_iter()
        .filter(|candidate| *candidate != name)
        .filter_map(|candidate| {
            edit_distance(name, candidate)
                .filter(|distance| *distance <= allowed)
                .map(|distance| (distance, candidate))
        })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// Levenshtein distance between two ASCII names, or `None` when either is
/// too long to compare cheaply.
fn edit_distance(a: &str, b: &str) -> Option<usize> {
    if a.len() > MAX_SUGGESTED_LEN || b.len() > MAX_SUGGESTED_LEN {
        return None;
    }
    // Optimal string alignment: a swap of two neighbours (`mena`) is one edit.
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    Some(rows[a.len()][b.len()])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_name_prefers_case_then_distance() {
        assert_eq!(closest("k", ["i", "K", "j"]), Some("K"));
        assert_eq!(closest("k", ["i", "j"]), None);
        assert_eq!(closest("tq", ["tk", "B"]), Some("tk"));
        assert_eq!(closest("heads", ["head", "hidden"]), Some("head"));
        assert_eq!(closest("heads", ["width"]), None);
        assert_eq!(closest("tq", ["tq"]), None);
    }

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("kitten", "sitting"), Some(3));
        assert_eq!(edit_distance("", "ab"), Some(2));
        assert_eq!(edit_distance("ab", "ab"), Some(0));
        assert_eq!(edit_distance(&"a".repeat(65), "a"), None);
    }
}
