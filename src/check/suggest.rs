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
    let b = b.as_bytes();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, a_byte) in a.bytes().enumerate() {
        current[0] = i + 1;
        for (j, b_byte) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(a_byte != *b_byte);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous.last().copied()
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
