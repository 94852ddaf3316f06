//! SVG drawing for the crew's assets: campaign banners and simple bar charts.
//!
//! Pure string building: no I/O, no clock, no randomness, so the same input always gives
//! the same bytes (the design skill names files by their digest). Every piece of text that
//! comes from outside is XML-escaped here, and the output is a well-formed XML document.

use std::fmt::Write as _;

/// A font stack that has CJK glyphs on macOS, Linux and Windows.
const FONT_FAMILY: &str = "'PingFang SC','Noto Sans CJK SC','Microsoft YaHei',sans-serif";

const BANNER_W: i64 = 1200;
const BANNER_H: i64 = 500;
/// Left edge of the banner's text column.
const TEXT_X: i64 = 80;

/// What a campaign banner says.
pub struct Banner<'a> {
    /// The campaign theme ("中秋", "国庆", "双11", "618", "春节" …); picks colours and ornament.
    pub theme: &'a str,
    pub headline: &'a str,
    pub subline: &'a str,
    /// A short call-out drawn in a rosette, e.g. "8折".
    pub badge: Option<&'a str>,
}

/// Text escaped for XML content and attribute values. Characters XML 1.0 does not allow
/// (most control characters) are dropped so the document stays well-formed.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(' '),
            c if u32::from(c) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// Is `c` drawn about one em wide (CJK, full-width forms, emoji)?
fn is_wide(c: char) -> bool {
    matches!(u32::from(c),
        0x1100..=0x115F
        | 0x2E80..=0xA4CF
        | 0xAC00..=0xD7A3
        | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6
        | 0x1F300..=0x1FAFF
        | 0x20000..=0x3FFFD)
}

/// Estimated width of `text` in hundredths of an em: wide characters are a full em, spaces
/// a third, Latin letters and digits somewhat over half (on the wide side, as bold fallback
/// fonts are wide). Good enough to size a line, not to kern it.
fn width_units(text: &str) -> i64 {
    text.chars()
        .map(|c| match c {
            ' ' => 32,
            c if is_wide(c) => 100,
            c if c.is_ascii_lowercase() => 62,
            _ => 72,
        })
        .sum()
}

/// A line of text sized to fit `max_width`: the largest size up to `max_size` at which the
/// estimated width fits, at least `min_size`. When even that is too wide, the returned
/// `textLength` squeezes the glyphs into the space.
fn fit_text(text: &str, max_width: i64, max_size: i64, min_size: i64) -> (i64, Option<i64>) {
    let units = width_units(text).max(1);
    let size = (max_width * 100 / units).clamp(min_size, max_size);
    let squeeze = (units * size / 100 > max_width).then_some(max_width);
    (size, squeeze)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Theme {
    MidAutumn,
    NationalDay,
    Double11,
    Shopping618,
    NewYear,
    Neutral,
}

impl Theme {
    fn of(name: &str) -> Theme {
        let name = name.trim().to_lowercase();
        let has = |words: &[&str]| words.iter().any(|w| name.contains(w));
        if has(&["中秋", "月饼", "mid-autumn", "mid autumn", "midautumn", "moon"]) {
            Theme::MidAutumn
        } else if has(&["国庆", "national day"]) {
            Theme::NationalDay
        } else if has(&["双11", "双十一", "双１１", "11.11", "1111", "double 11", "double11", "singles"]) {
            Theme::Double11
        } else if has(&["618"]) {
            Theme::Shopping618
        } else if has(&["春节", "新年", "过年", "元旦", "年货", "new year", "spring festival", "lunar"]) {
            Theme::NewYear
        } else {
            Theme::Neutral
        }
    }

    fn palette(self) -> Palette {
        match self {
            Theme::MidAutumn => Palette {
                bg: ("#0B1D3A", "#1F3A6B"),
                headline: "#FFF4D6",
                subline: "#C9D6F0",
                accent: "#F5C451",
                badge_fill: "#F5C451",
                badge_text: "#0B1D3A",
            },
            Theme::NationalDay => Palette {
                bg: ("#A80F17", "#D7261E"),
                headline: "#FFE08A",
                subline: "#FFEBD6",
                accent: "#FFD34D",
                badge_fill: "#FFD34D",
                badge_text: "#A80F17",
            },
            Theme::Double11 => Palette {
                bg: ("#FF7A00", "#E5212B"),
                headline: "#FFFFFF",
                subline: "#FFE8D1",
                accent: "#FFE14D",
                badge_fill: "#FFE14D",
                badge_text: "#D91E18",
            },
            Theme::Shopping618 => Palette {
                bg: ("#C8102E", "#F0452B"),
                headline: "#FFFFFF",
                subline: "#FFE3DC",
                accent: "#FFF1B8",
                badge_fill: "#FFFFFF",
                badge_text: "#C8102E",
            },
            Theme::NewYear => Palette {
                bg: ("#9E0B0F", "#C8161D"),
                headline: "#FFD86B",
                subline: "#FDE7C4",
                accent: "#F2C14E",
                badge_fill: "#F2C14E",
                badge_text: "#9E0B0F",
            },
            Theme::Neutral => Palette {
                bg: ("#F7F5F0", "#E8E3D9"),
                headline: "#2B2B2B",
                subline: "#5C5C5C",
                accent: "#B08D57",
                badge_fill: "#2B2B2B",
                badge_text: "#F7F5F0",
            },
        }
    }
}

struct Palette {
    bg: (&'static str, &'static str),
    headline: &'static str,
    subline: &'static str,
    accent: &'static str,
    badge_fill: &'static str,
    badge_text: &'static str,
}

/// A coordinate with one decimal, the precision every drawing here needs.
fn num(v: f64) -> String {
    let rounded = (v * 10.0).round() / 10.0;
    // Avoid "-0.0".
    if rounded == 0.0 { "0".to_string() } else { format!("{rounded:.1}") }
}

/// Points of a star polygon around (cx, cy) with `tips` tips, starting straight up.
fn star_points(cx: f64, cy: f64, outer: f64, inner: f64, tips: u32) -> String {
    let n = tips * 2;
    (0..n)
        .map(|i| {
            let r = if i % 2 == 0 { outer } else { inner };
            let angle = std::f64::consts::PI * f64::from(i) / f64::from(tips) - std::f64::consts::FRAC_PI_2;
            format!("{},{}", num(cx + r * angle.cos()), num(cy + r * angle.sin()))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Draws a 1200×500 campaign banner.
pub fn banner(b: &Banner) -> String {
    let theme = Theme::of(b.theme);
    let p = theme.palette();
    let badge = b.badge.map(str::trim).filter(|t| !t.is_empty());
    // The text column stops short of the badge when there is one.
    let text_right = if badge.is_some() { 860 } else { 1120 };
    let column = text_right - TEXT_X;

    let mut s = String::with_capacity(8 * 1024);
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{BANNER_W}" height="{BANNER_H}" viewBox="0 0 {BANNER_W} {BANNER_H}" role="img" aria-label="{}">"#,
        escape(b.headline)
    );
    let _ = write!(s, "<title>{}</title>", escape(b.headline));
    let _ = write!(
        s,
        r#"<defs><linearGradient id="bg" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="{}"/><stop offset="1" stop-color="{}"/></linearGradient>"#,
        p.bg.0, p.bg.1
    );
    s.push_str(
        r##"<radialGradient id="glow" cx="0.5" cy="0.5" r="0.5"><stop offset="0" stop-color="#FFF6D5" stop-opacity="0.55"/><stop offset="1" stop-color="#FFF6D5" stop-opacity="0"/></radialGradient>"##,
    );
    s.push_str(
        r##"<radialGradient id="moon" cx="0.4" cy="0.35" r="0.7"><stop offset="0" stop-color="#FFF8DC"/><stop offset="1" stop-color="#F2C14E"/></radialGradient>"##,
    );
    s.push_str("</defs>");
    let _ = write!(s, r#"<rect width="{BANNER_W}" height="{BANNER_H}" fill="url(#bg)"/>"#);

    ornament(&mut s, theme, &p);

    let _ = write!(s, r#"<g font-family="{FONT_FAMILY}">"#);
    // The theme as a small kicker above the headline.
    let kicker = b.theme.trim();
    if !kicker.is_empty() {
        let (size, squeeze) = fit_text(kicker, column, 30, 16);
        let _ = write!(
            s,
            r#"<text x="{TEXT_X}" y="130" font-size="{size}" letter-spacing="4" fill="{}"{}>{}</text>"#,
            p.accent,
            length_attr(squeeze),
            escape(kicker)
        );
        let _ = write!(s, r#"<rect x="{TEXT_X}" y="148" width="72" height="5" rx="2.5" fill="{}"/>"#, p.accent);
    }
    let headline = b.headline.trim();
    match split_headline(headline, column) {
        None => {
            let (size, squeeze) = fit_text(headline, column, 96, HEADLINE_MIN);
            let _ = write!(
                s,
                r#"<text x="{TEXT_X}" y="{}" font-size="{size}" font-weight="700" fill="{}"{}>{}</text>"#,
                210 + size * 2 / 5,
                p.headline,
                length_attr(squeeze),
                escape(headline)
            );
        }
        Some((first, second)) => {
            // Both lines share the size the wider one allows.
            let size = fit_text(first, column, 56, HEADLINE_MIN).0.min(fit_text(second, column, 56, HEADLINE_MIN).0);
            let top = 162 + size * 4 / 5;
            for (line, y) in [(first, top), (second, top + size * 23 / 20)] {
                let squeeze = (width_units(line) * size / 100 > column).then_some(column);
                let _ = write!(
                    s,
                    r#"<text x="{TEXT_X}" y="{y}" font-size="{size}" font-weight="700" fill="{}"{}>{}</text>"#,
                    p.headline,
                    length_attr(squeeze),
                    escape(line)
                );
            }
        }
    }
    if !b.subline.trim().is_empty() {
        let (size, squeeze) = fit_text(b.subline, column, 36, 18);
        let _ = write!(
            s,
            r#"<text x="{TEXT_X}" y="340" font-size="{size}" fill="{}"{}>{}</text>"#,
            p.subline,
            length_attr(squeeze),
            escape(b.subline)
        );
    }
    let _ = write!(
        s,
        r#"<rect x="{TEXT_X}" y="392" width="{}" height="3" fill="{}" opacity="0.6"/>"#,
        column.min(360),
        p.accent
    );
    if let Some(text) = badge {
        rosette(&mut s, &p, text);
    }
    s.push_str("</g></svg>\n");
    s
}

/// The smallest headline size; below it the text is squeezed instead (see [`fit_text`]).
const HEADLINE_MIN: i64 = 28;

/// A headline too long for one line at a comfortable size, split in two where the halves
/// are most even: at a space, or next to a CJK character (which may break anywhere).
/// `None` keeps it on one line.
fn split_headline(text: &str, width: i64) -> Option<(&str, &str)> {
    if width_units(text).max(1) * 56 / 100 <= width {
        return None;
    }
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let splits: Vec<(i64, bool, &str, &str)> = chars
        .windows(2)
        .filter(|pair| {
            let (prev, next) = (pair[0].1, pair[1].1);
            prev == ' '
                || next == ' '
                || is_wide(prev)
                || is_wide(next)
                || matches!(prev, '-' | '/' | ',' | '，' | '、')
        })
        .map(|pair| {
            let (first, second) = (text[..pair[1].0].trim(), text[pair[1].0..].trim());
            let at_space = pair[0].1 == ' ' || pair[1].1 == ' ';
            (width_units(first).max(width_units(second)), at_space, first, second)
        })
        .filter(|(_, _, first, second)| !first.is_empty() && !second.is_empty())
        .collect();
    let best = splits.iter().min_by_key(|s| s.0)?;
    // Breaking between words reads better, so take the best such break unless its longer
    // line is more than a quarter wider than the most even break's.
    let at_space = splits.iter().filter(|s| s.1).min_by_key(|s| s.0).filter(|s| s.0 * 4 <= best.0 * 5);
    at_space.or(Some(best)).map(|s| (s.2, s.3))
}

fn length_attr(squeeze: Option<i64>) -> String {
    match squeeze {
        Some(len) => format!(r#" textLength="{len}" lengthAdjust="spacingAndGlyphs""#),
        None => String::new(),
    }
}

/// The badge: a 24-tip rosette at the right of the banner with the text in its middle.
fn rosette(s: &mut String, p: &Palette, text: &str) {
    let (cx, cy) = (1010.0, 318.0);
    let _ = write!(
        s,
        r#"<g><polygon points="{}" fill="{}"/><circle cx="{}" cy="{}" r="86" fill="none" stroke="{}" stroke-width="3" stroke-dasharray="6 5" opacity="0.55"/>"#,
        star_points(cx, cy, 112.0, 98.0, 24),
        p.badge_fill,
        num(cx),
        num(cy),
        p.badge_text
    );
    let (size, squeeze) = fit_text(text, 140, 68, 20);
    let _ = write!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle" font-size="{size}" font-weight="800" fill="{}"{}>{}</text></g>"#,
        num(cx),
        num(cy + size as f64 * 0.36),
        p.badge_text,
        length_attr(squeeze),
        escape(text)
    );
}

/// The theme's decoration, drawn behind the text.
fn ornament(s: &mut String, theme: Theme, p: &Palette) {
    match theme {
        Theme::MidAutumn => {
            // A starry night with a full moon at the top right and drifting clouds below it.
            for (x, y, r) in [
                (140, 50, 2),
                (320, 90, 1),
                (470, 40, 2),
                (610, 120, 1),
                (720, 60, 2),
                (850, 180, 1),
                (930, 40, 1),
                (1160, 230, 2),
                (560, 440, 1),
                (260, 420, 2),
                (760, 470, 1),
            ] {
                let _ = write!(s, r##"<circle cx="{x}" cy="{y}" r="{r}" fill="#FFF4D6" opacity="0.8"/>"##);
            }
            s.push_str(r#"<circle cx="1060" cy="120" r="135" fill="url(#glow)"/>"#);
            s.push_str(r#"<circle cx="1060" cy="120" r="74" fill="url(#moon)"/>"#);
            s.push_str(r##"<circle cx="1035" cy="105" r="12" fill="#E3B23C" opacity="0.35"/>"##);
            s.push_str(r##"<circle cx="1080" cy="140" r="8" fill="#E3B23C" opacity="0.3"/>"##);
            s.push_str(r##"<circle cx="1072" cy="95" r="5" fill="#E3B23C" opacity="0.3"/>"##);
            let _ = write!(
                s,
                r#"<path d="M930 205 q25 -22 50 0 q25 -22 50 0 q25 -22 50 0 q25 -22 50 0" fill="none" stroke="{}" stroke-width="3" opacity="0.5"/>"#,
                p.accent
            );
            let _ = write!(
                s,
                r#"<path d="M0 470 q60 -40 120 0 q60 -40 120 0 q60 -40 120 0" fill="none" stroke="{}" stroke-width="3" opacity="0.35"/>"#,
                p.accent
            );
        }
        Theme::NationalDay => {
            // Gold stars as on the flag, and a gold frame.
            let _ =
                write!(s, r#"<polygon points="{}" fill="{}"/>"#, star_points(1070.0, 105.0, 58.0, 23.0, 5), p.accent);
            for (x, y) in [(1150.0, 48.0), (1172.0, 92.0), (1168.0, 145.0), (1140.0, 188.0)] {
                let _ = write!(s, r#"<polygon points="{}" fill="{}"/>"#, star_points(x, y, 16.0, 6.5, 5), p.accent);
            }
            let _ = write!(
                s,
                r#"<rect x="18" y="18" width="1164" height="464" fill="none" stroke="{}" stroke-width="3" opacity="0.7"/>"#,
                p.accent
            );
            let _ = write!(
                s,
                r#"<rect x="28" y="28" width="1144" height="444" fill="none" stroke="{}" stroke-width="1" opacity="0.5"/>"#,
                p.accent
            );
        }
        Theme::Double11 => {
            // Soft light bubbles and a bold diagonal band.
            for (x, y, r, o) in [(1080, 90, 150, 10), (930, 460, 120, 8), (180, 470, 90, 7), (620, 20, 70, 6)] {
                let _ = write!(s, r##"<circle cx="{x}" cy="{y}" r="{r}" fill="#FFFFFF" opacity="0.{o:02}"/>"##);
            }
            let _ = write!(s, r#"<polygon points="760,0 860,0 560,500 460,500" fill="{}" opacity="0.12"/>"#, p.accent);
            s.push_str(
                r##"<text x="1180" y="230" text-anchor="end" font-family="Arial,Helvetica,sans-serif" font-size="220" font-weight="900" fill="#FFFFFF" opacity="0.12">11.11</text>"##,
            );
        }
        Theme::Shopping618 => {
            // Confetti and a large faint "618".
            for (x, y, rot, c) in [
                (120, 40, 20, "#FFF1B8"),
                (300, 450, -30, "#FFFFFF"),
                (520, 60, 45, "#FFD166"),
                (700, 440, 10, "#FFF1B8"),
                (860, 70, -20, "#FFFFFF"),
                (1150, 460, 35, "#FFD166"),
                (640, 250, -40, "#FFFFFF"),
            ] {
                let _ = write!(
                    s,
                    r#"<rect x="{x}" y="{y}" width="18" height="8" rx="2" fill="{c}" opacity="0.7" transform="rotate({rot} {x} {y})"/>"#
                );
            }
            s.push_str(
                r##"<text x="1180" y="200" text-anchor="end" font-family="Arial,Helvetica,sans-serif" font-size="200" font-weight="900" fill="#FFFFFF" opacity="0.13">618</text>"##,
            );
        }
        Theme::NewYear => {
            // Two red lanterns hanging at the top right, with gold trim and tassels.
            for (x, len, scale) in [(1120, 40, 10), (900, 10, 8)] {
                lantern(s, x, len, scale, p.accent);
            }
            let _ = write!(
                s,
                r#"<path d="M0 500 q80 -60 160 0 M40 500 q80 -60 160 0" fill="none" stroke="{}" stroke-width="2" opacity="0.4"/>"#,
                p.accent
            );
        }
        Theme::Neutral => {
            // A quiet large circle and a dotted grid, out of the text's way.
            let _ = write!(s, r#"<circle cx="1080" cy="90" r="190" fill="{}" opacity="0.10"/>"#, p.accent);
            let _ = write!(
                s,
                r#"<circle cx="1080" cy="90" r="150" fill="none" stroke="{}" stroke-width="2" opacity="0.35"/>"#,
                p.accent
            );
            for row in 0..4 {
                for col in 0..6 {
                    let _ = write!(
                        s,
                        r#"<circle cx="{}" cy="{}" r="2" fill="{}" opacity="0.35"/>"#,
                        40 + col * 18,
                        400 + row * 18,
                        p.accent
                    );
                }
            }
        }
    }
}

/// A lantern hung on a string of `string_len` px at column `x`; `scale` is tenths of full size.
fn lantern(s: &mut String, x: i64, string_len: i64, scale: i64, gold: &str) {
    let k = |v: i64| v * scale / 10;
    let top = string_len;
    let cy = top + k(16) + k(50);
    let _ = write!(s, r#"<line x1="{x}" y1="0" x2="{x}" y2="{top}" stroke="{gold}" stroke-width="2"/>"#);
    let _ =
        write!(s, r#"<rect x="{}" y="{top}" width="{}" height="{}" rx="3" fill="{gold}"/>"#, x - k(22), k(44), k(16));
    let _ = write!(
        s,
        r##"<ellipse cx="{x}" cy="{cy}" rx="{}" ry="{}" fill="#E8322B" stroke="{gold}" stroke-width="3"/>"##,
        k(62),
        k(52)
    );
    for rx in [k(38), k(14)] {
        let _ = write!(
            s,
            r#"<ellipse cx="{x}" cy="{cy}" rx="{rx}" ry="{}" fill="none" stroke="{gold}" stroke-width="2" opacity="0.8"/>"#,
            k(52)
        );
    }
    let bottom = cy + k(52);
    let _ = write!(
        s,
        r#"<rect x="{}" y="{}" width="{}" height="{}" rx="3" fill="{gold}"/>"#,
        x - k(20),
        bottom - k(4),
        k(40),
        k(14)
    );
    for dx in [-k(10), 0, k(10)] {
        let _ = write!(
            s,
            r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{gold}" stroke-width="2"/>"#,
            x + dx,
            bottom + k(10),
            x + dx,
            bottom + k(46)
        );
    }
}

/// Draws a bar chart of `bars` (label, value), with `value_label` formatting axis values.
/// Negative values are drawn as zero; an empty or all-zero series draws an empty plot.
pub fn bar_chart(
    title: &str,
    bars: &[(String, i64)],
    value_label: impl Fn(i64) -> String,
    width: u32,
    height: u32,
) -> String {
    let w = i64::from(width.clamp(240, 8000));
    let h = i64::from(height.clamp(160, 8000));
    let (left, right, top, bottom) = (96_i64, 24_i64, 60_i64, 44_i64);
    let plot_w = w - left - right;
    let plot_h = h - top - bottom;
    let base_y = top + plot_h;
    let values: Vec<i64> = bars.iter().map(|(_, v)| (*v).max(0)).collect();
    let max = values.iter().copied().max().unwrap_or(0);

    let mut s = String::with_capacity(4096 + bars.len() * 256);
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="{}">"#,
        escape(title)
    );
    let _ = write!(s, "<title>{}</title>", escape(title));
    let _ = write!(s, r##"<rect width="{w}" height="{h}" fill="#FFFFFF"/><g font-family="{FONT_FAMILY}">"##);
    let (title_size, squeeze) = fit_text(title, w - 48, 20, 12);
    let _ = write!(
        s,
        r##"<text x="24" y="36" font-size="{title_size}" font-weight="700" fill="#222222"{}>{}</text>"##,
        length_attr(squeeze),
        escape(title)
    );

    // Value axis: zero at the baseline, the maximum at the top with a light grid line.
    if max > 0 {
        let _ = write!(
            s,
            r##"<line x1="{left}" y1="{top}" x2="{}" y2="{top}" stroke="#DDDDDD" stroke-dasharray="4 4"/>"##,
            left + plot_w
        );
        let _ = write!(
            s,
            r##"<text x="{}" y="{}" text-anchor="end" font-size="13" fill="#666666">{}</text>"##,
            left - 10,
            top + 5,
            escape(&value_label(max))
        );
    }
    let _ = write!(
        s,
        r##"<text x="{}" y="{}" text-anchor="end" font-size="13" fill="#666666">{}</text>"##,
        left - 10,
        base_y + 5,
        escape(&value_label(0))
    );
    let _ = write!(s, r##"<line x1="{left}" y1="{top}" x2="{left}" y2="{base_y}" stroke="#999999"/>"##);

    if values.is_empty() {
        let _ = write!(
            s,
            r##"<text x="{}" y="{}" text-anchor="middle" font-size="16" fill="#999999">暂无数据 / no data</text>"##,
            left + plot_w / 2,
            top + plot_h / 2
        );
    } else {
        let n = values.len();
        let slot = plot_w as f64 / n as f64;
        let bar_w = (slot * 0.7).max(0.5);
        // At most one x label per 64 px; the rest are thinned out evenly.
        let max_labels = usize::try_from(plot_w / 64).unwrap_or(1).max(1);
        let step = n.div_ceil(max_labels).max(1);
        let tallest = values.iter().position(|v| *v == max && max > 0);
        for (i, ((label, _), value)) in bars.iter().zip(&values).enumerate() {
            let bar_h = if max > 0 { *value as f64 / max as f64 * plot_h as f64 } else { 0.0 };
            let x = left as f64 + slot * i as f64 + (slot - bar_w) / 2.0;
            let fill = if Some(i) == tallest { "#E8590C" } else { "#4C78A8" };
            let _ = write!(
                s,
                r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{fill}"><title>{}: {}</title></rect>"#,
                num(x),
                num(base_y as f64 - bar_h),
                num(bar_w),
                num(bar_h),
                escape(label),
                escape(&value_label(*value))
            );
            let centre = num(x + bar_w / 2.0);
            if i % step == 0 {
                let _ = write!(
                    s,
                    r##"<text x="{centre}" y="{}" text-anchor="middle" font-size="12" fill="#555555">{}</text>"##,
                    base_y + 20,
                    escape(label)
                );
            }
            if Some(i) == tallest {
                let _ = write!(
                    s,
                    r##"<text x="{centre}" y="{}" text-anchor="middle" font-size="12" font-weight="700" fill="#E8590C">{}</text>"##,
                    num(base_y as f64 - bar_h - 6.0),
                    escape(&value_label(*value))
                );
            }
        }
    }
    let _ = write!(s, r##"<line x1="{left}" y1="{base_y}" x2="{}" y2="{base_y}" stroke="#999999"/>"##, left + plot_w);
    s.push_str("</g></svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small checker for the XML this module writes: balanced tags, one root, quoted
    /// attributes, no stray `<` or `&` in text or attribute values.
    fn assert_well_formed(xml: &str) {
        fn check_text(text: &str) {
            assert!(!text.contains('<') && !text.contains('>'), "stray bracket in {text:?}");
            let mut rest = text;
            while let Some(i) = rest.find('&') {
                let tail = &rest[i + 1..];
                let end = tail.find(';').unwrap_or_else(|| panic!("unterminated entity in {text:?}"));
                let entity = &tail[..end];
                let numeric =
                    entity.strip_prefix('#').is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()));
                assert!(numeric || ["amp", "lt", "gt", "quot", "apos"].contains(&entity), "bad entity &{entity};");
                rest = &tail[end + 1..];
            }
        }
        let mut stack: Vec<String> = Vec::new();
        let mut roots = 0;
        let mut rest = xml;
        while let Some(lt) = rest.find('<') {
            let text = &rest[..lt];
            if stack.is_empty() {
                assert!(text.trim().is_empty(), "text outside the root: {text:?}");
            }
            check_text(text);
            rest = &rest[lt..];
            // Find the closing '>' outside quotes.
            let mut quote = None;
            let end = rest
                .char_indices()
                .find(|&(_, c)| match quote {
                    Some(q) if c == q => {
                        quote = None;
                        false
                    }
                    Some(_) => false,
                    None if c == '"' || c == '\'' => {
                        quote = Some(c);
                        false
                    }
                    None => c == '>',
                })
                .map(|(i, _)| i)
                .expect("unterminated tag");
            let tag = &rest[1..end];
            rest = &rest[end + 1..];
            if tag.starts_with('?') {
                continue;
            }
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(stack.pop().as_deref(), Some(name.trim()), "mismatched </{name}>");
                continue;
            }
            let self_closing = tag.ends_with('/');
            let body = tag.trim_end_matches('/');
            let name_end = body.find(char::is_whitespace).unwrap_or(body.len());
            let name = &body[..name_end];
            assert!(!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == ':' || c == '-'));
            let mut attrs = body[name_end..].trim();
            let mut seen = Vec::new();
            while !attrs.is_empty() {
                let eq = attrs.find('=').unwrap_or_else(|| panic!("attribute without value in <{tag}>"));
                let attr = attrs[..eq].trim();
                assert!(!seen.contains(&attr), "duplicate attribute {attr} in <{tag}>");
                seen.push(attr);
                let after = &attrs[eq + 1..];
                let q = after.chars().next().expect("attribute value");
                assert!(q == '"' || q == '\'', "unquoted attribute in <{tag}>");
                let close = after[1..].find(q).expect("unterminated attribute") + 1;
                check_text(&after[1..close]);
                attrs = after[close + 1..].trim_start();
            }
            if stack.is_empty() {
                roots += 1;
            }
            if !self_closing {
                stack.push(name.to_string());
            }
        }
        assert!(rest.trim().is_empty(), "trailing text {rest:?}");
        assert!(stack.is_empty(), "unclosed {stack:?}");
        assert_eq!(roots, 1);
    }

    fn sample(theme: &str) -> String {
        banner(&Banner {
            theme,
            headline: "中秋好礼 月饼礼盒 8折",
            subline: "09月20日–09月28日 · 茶铺",
            badge: Some("8折"),
        })
    }

    #[test]
    fn banners_escape_every_special_character() {
        let svg = banner(&Banner {
            theme: "<script>",
            headline: "A <&> \"B\" 'C'",
            subline: "x < y & z",
            badge: Some("<8折>"),
        });
        assert_well_formed(&svg);
        assert!(svg.contains("A &lt;&amp;&gt; &quot;B&quot; &apos;C&apos;"));
        assert!(svg.contains("x &lt; y &amp; z"));
        assert!(svg.contains("&lt;8折&gt;"));
        assert!(!svg.contains("<script>") && !svg.contains("<&>"));
        assert_eq!(escape("a\u{0}b\u{1b}c"), "abc");
    }

    #[test]
    fn banners_are_deterministic_and_well_formed_for_every_theme() {
        for theme in ["中秋", "Mid-Autumn", "国庆", "双11", "双十一", "618", "春节", "新年", "开学季", ""]
        {
            let svg = sample(theme);
            assert_eq!(svg, sample(theme), "{theme}");
            assert!(svg.starts_with("<svg"));
            assert_eq!(svg.matches("<svg").count(), 1);
            assert_eq!(svg.matches("</svg>").count(), 1);
            assert!(svg.contains(r#"width="1200" height="500""#));
            assert!(svg.contains("PingFang SC") && svg.contains("Noto Sans CJK SC") && svg.contains("Microsoft YaHei"));
            assert!(!svg.contains("NaN") && !svg.contains("inf"));
            assert_well_formed(&svg);
        }
        let without_badge = banner(&Banner { theme: "国庆", headline: "国庆", subline: "", badge: None });
        assert_well_formed(&without_badge);
        assert!(!without_badge.contains("<polygon points=\"1010"));
    }

    #[test]
    fn themes_pick_their_colours() {
        assert_eq!(Theme::of("中秋节"), Theme::MidAutumn);
        assert_eq!(Theme::of("国庆七天乐"), Theme::NationalDay);
        assert_eq!(Theme::of("双十一"), Theme::Double11);
        assert_eq!(Theme::of("Double 11"), Theme::Double11);
        assert_eq!(Theme::of("618大促"), Theme::Shopping618);
        assert_eq!(Theme::of("Chinese New Year"), Theme::NewYear);
        assert_eq!(Theme::of("spring sale"), Theme::Neutral);
        assert!(sample("中秋").contains("#0B1D3A") && sample("中秋").contains("url(#moon)"));
        assert!(sample("国庆").contains("#D7261E"));
        assert!(sample("双11").contains("#FF7A00"));
        assert_ne!(sample("618"), sample("春节"));
    }

    #[test]
    fn long_headlines_get_a_smaller_font() {
        let size_of = |headline: &str| {
            let svg = banner(&Banner { theme: "中秋", headline, subline: "", badge: Some("8折") });
            let at = svg.find("font-weight=\"700\"").unwrap();
            let start = svg[..at].rfind("font-size=\"").unwrap() + "font-size=\"".len();
            svg[start..].split('"').next().unwrap().parse::<i64>().unwrap()
        };
        let short = size_of("中秋好礼");
        let medium = size_of("中秋好礼 月饼礼盒八折");
        assert_eq!(short, 96);
        assert!(medium < short, "{medium} < {short}");
        assert!(width_units("中秋好礼 月饼礼盒八折") * medium / 100 <= 780);
        // Too long for one line at a readable size: two even lines, at a space if that is
        // nearly as even.
        let long = "中秋好礼 全场月饼礼盒与茶叶限时八折";
        let svg = banner(&Banner { theme: "中秋", headline: long, subline: "", badge: Some("8折") });
        assert!(svg.contains(">中秋好礼 全场月饼</text>") && svg.contains(">礼盒与茶叶限时八折</text>"), "{svg}");
        assert!(size_of(long) < medium && width_units("礼盒与茶叶限时八折") * size_of(long) / 100 <= 780);
        let at_space = split_headline("中秋好礼 月饼礼盒 茶叶茶具 全场八折 满三百减五十", 780);
        assert_eq!(at_space, Some(("中秋好礼 月饼礼盒 茶叶茶具", "全场八折 满三百减五十")));
        let (first, second) = split_headline("Mid-Autumn Mooncakes and Tea, all week long", 780).unwrap();
        assert_eq!(format!("{first} {second}"), "Mid-Autumn Mooncakes and Tea, all week long");
        // A headline too long for two lines at the smallest size is squeezed into the column.
        let huge = "很".repeat(80);
        let svg = banner(&Banner { theme: "中秋", headline: &huge, subline: "", badge: Some("8折") });
        assert_eq!(svg.matches(r#"textLength="780""#).count(), 2);
        assert_well_formed(&svg);
    }

    fn yuan(fen: i64) -> String {
        format!("¥{}", fen / 100)
    }

    #[test]
    fn charts_draw_bars_scaled_to_the_maximum() {
        let bars: Vec<(String, i64)> =
            vec![("11-17".into(), 20_000), ("11-18".into(), 0), ("11-19".into(), 5_000), ("<b>".into(), -300)];
        let svg = bar_chart("GMV 11-17 – 11-23 & more", &bars, yuan, 960, 360);
        assert_well_formed(&svg);
        assert!(svg.starts_with("<svg") && svg.contains(r#"width="960" height="360""#));
        assert!(svg.contains("GMV 11-17 – 11-23 &amp; more"));
        assert!(svg.contains(">¥200<"), "max label");
        assert!(svg.contains("&lt;b&gt;: ¥0"), "negative values clamp to zero");
        assert!(svg.contains(">11-17<"));
        assert_eq!(svg, bar_chart("GMV 11-17 – 11-23 & more", &bars, yuan, 960, 360));
        // The tallest bar fills the plot height (360 − 60 − 44 = 256).
        assert!(svg.contains(r##"height="256.0" fill="#E8590C""##), "{svg}");
    }

    #[test]
    fn empty_and_all_zero_charts_have_no_nan() {
        for bars in [vec![], vec![("a".to_string(), 0), ("b".to_string(), 0)], vec![("c".to_string(), -5)]] {
            for (w, h) in [(960, 360), (0, 0), (1, 1)] {
                let svg = bar_chart("空", &bars, yuan, w, h);
                assert_well_formed(&svg);
                assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
                assert!(!svg.contains("height=\"-"), "{svg}");
            }
        }
        assert!(bar_chart("空", &[], yuan, 960, 360).contains("no data"));
    }

    #[test]
    fn many_bars_get_thinned_labels() {
        let bars: Vec<(String, i64)> = (0..366).map(|i| (format!("d{i:03}"), i * 10)).collect();
        let svg = bar_chart("year", &bars, |v| v.to_string(), 960, 360);
        assert_well_formed(&svg);
        let labels = svg.matches(r##"fill="#555555">d"##).count();
        assert!((2..=(960 - 96 - 24) / 64 + 1).contains(&(labels as i64)), "{labels} labels");
        assert_eq!(svg.matches("<rect x=").count(), 366);
    }
}
