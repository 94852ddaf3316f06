//! Absolute claims the advertising law (广告法) bans in shop text: superlatives, "first",
//! state-level endorsements, guarantees. Matching is plain substring search, case-insensitive
//! for the Latin ones; the list is deliberately short and unambiguous.

const BANNED: &[&str] = &[
    "最佳",
    "最好",
    "最低价",
    "最便宜",
    "最优",
    "最高级",
    "最先进",
    "最强",
    "最大",
    "最新科技",
    "最受欢迎",
    "第一",
    "No.1",
    "NO.1",
    "TOP1",
    "国家级",
    "世界级",
    "全球首",
    "首个",
    "首选",
    "唯一",
    "顶级",
    "极致",
    "绝对",
    "万能",
    "史无前例",
    "全网最低",
    "100%",
    "百分之百",
    "永久",
    "best in the world",
    "number one",
    "#1",
];

/// The banned words in `text`, each once, in list order.
pub fn banned_in(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    let mut found: Vec<String> = Vec::new();
    for word in BANNED {
        let hit = if word.is_ascii() { lower.contains(&word.to_lowercase()) } else { text.contains(word) };
        // "最低价" already covers "最低"; skip a word contained in one already found.
        if hit && !found.iter().any(|f| f.contains(word) || word.contains(f.as_str())) {
            found.push((*word).to_string());
        }
    }
    found
}

/// The widest title the platforms show in full: 60 "bytes", where a Chinese character or any
/// other wide character counts two and a Latin letter, digit or space one (30 汉字, or 60
/// letters).
pub const MAX_TITLE_WIDTH: usize = 60;

/// A title's width as the platforms count it (see [`MAX_TITLE_WIDTH`]).
pub fn title_width(title: &str) -> usize {
    title.chars().map(|c| if c.is_ascii() || ('\u{00A0}'..'\u{1100}').contains(&c) { 1 } else { 2 }).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_superlatives_and_guarantees_once_each() {
        assert_eq!(banned_in("全网最低价!销量第一,100%纯棉"), vec!["最低价", "第一", "全网最低", "100%"]);
        assert_eq!(banned_in("the BEST IN THE WORLD mug, #1 seller"), vec!["best in the world", "#1"]);
        assert!(banned_in("柔软舒适的居家拖鞋,四季可穿").is_empty());
    }

    #[test]
    fn a_chinese_character_is_twice_as_wide_as_a_letter() {
        assert_eq!(title_width("WHITE HANGING HEART T-LIGHT HOLDER"), 34);
        assert_eq!(title_width("陶瓷马克杯 大容量"), 17);
        assert_eq!(title_width("Café 咖啡杯"), 11);
        assert!(title_width(&"杯".repeat(30)) <= MAX_TITLE_WIDTH && title_width(&"杯".repeat(31)) > MAX_TITLE_WIDTH);
    }
}
