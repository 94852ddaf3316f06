//! PNG copies of the crew's SVG art, drawn with resvg where the machine has a font that draws
//! Chinese. Without one the art stays SVG only: a PNG of empty boxes helps nobody, and an SVG
//! still shows right in any browser that has such a font.

use std::sync::{Arc, OnceLock};

use resvg::usvg::fontdb::{Database, Language};
use resvg::{tiny_skia, usvg};
use skrifa::{FontRef, MetadataProvider};

use crate::error::{Error, Result};

/// Characters every piece of art may need: a festival, a discount, a price.
const NEEDED: &str = "中秋月饼八折到手价¥";

struct Fonts {
    db: Arc<Database>,
    family: String,
}

/// The system fonts, read once per process, when one of them draws Chinese.
fn fonts() -> Option<&'static Fonts> {
    static FONTS: OnceLock<Option<Fonts>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let mut db = Database::new();
            db.load_system_fonts();
            let family = chinese_family(&db)?;
            db.set_sans_serif_family(family.clone());
            Some(Fonts { db: Arc::new(db), family })
        })
        .as_ref()
}

/// The first family (faces with a Chinese, Japanese or Korean name first, then by name) that
/// has a glyph for every character of [`NEEDED`].
fn chinese_family(db: &Database) -> Option<String> {
    let cjk_named = |languages: &[(String, Language)]| {
        languages.iter().any(|(_, l)| {
            matches!(
                l,
                Language::Chinese_PeoplesRepublicOfChina
                    | Language::Chinese_Taiwan
                    | Language::Chinese_HongKongSAR
                    | Language::Japanese_Japan
                    | Language::Korean_Korea
            )
        })
    };
    let mut faces: Vec<_> = db.faces().collect();
    faces.sort_by_key(|f| (!cjk_named(&f.families), f.families.first().map(|(name, _)| name.clone())));
    faces.into_iter().find_map(|face| {
        let draws = db.with_face_data(face.id, |data, index| {
            FontRef::from_index(data, index)
                .is_ok_and(|font| NEEDED.chars().all(|c| font.charmap().map(c).is_some_and(|g| g.to_u32() != 0)))
        });
        draws.unwrap_or(false).then(|| face.families.first().map(|(name, _)| name.clone())).flatten()
    })
}

/// The font family PNGs are drawn with here, or `None` when no installed font draws Chinese
/// (install one, e.g. Debian's `fonts-noto-cjk` or `fonts-wqy-zenhei`).
pub fn chinese_font() -> Option<&'static str> {
    fonts().map(|f| f.family.as_str())
}

/// The SVG drawn as a PNG at its own size, or `None` where no font draws Chinese.
pub fn render(svg: &str) -> Result<Option<Vec<u8>>> {
    let Some(fonts) = fonts() else { return Ok(None) };
    let options = usvg::Options { fontdb: fonts.db.clone(), font_family: fonts.family.clone(), ..Default::default() };
    let tree = usvg::Tree::from_str(svg, &options).map_err(|e| Error::Invalid(format!("cannot draw the art: {e}")))?;
    let size = tree.size().to_int_size();
    let mut pixmap = tiny_skia::Pixmap::new(size.width(), size.height())
        .ok_or_else(|| Error::Invalid(format!("cannot draw art of {}×{}", size.width(), size.height())))?;
    resvg::render(&tree, tiny_skia::Transform::default(), &mut pixmap.as_mut());
    pixmap.encode_png().map(Some).map_err(|e| Error::Invalid(format!("cannot encode the PNG: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_the_art_where_a_chinese_font_is_installed() {
        let art = crate::svg::banner(&crate::svg::Banner {
            theme: "中秋",
            headline: "月饼 8折",
            subline: "到手价 ¥79",
            badge: Some("8折"),
        });
        let Some(png) = render(&art).unwrap() else {
            eprintln!("SKIPPED: no installed font draws Chinese, so no PNG is drawn (install fonts-wqy-zenhei)");
            return;
        };
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let pixmap = tiny_skia::Pixmap::decode_png(&png).unwrap();
        let tree = usvg::Tree::from_str(&art, &usvg::Options::default()).unwrap();
        assert_eq!((pixmap.width(), pixmap.height()), (tree.size().width() as u32, tree.size().height() as u32));
        // The Chinese is drawn: other words give other pixels.
        let other = crate::svg::banner(&crate::svg::Banner {
            theme: "中秋",
            headline: "饼月 8折",
            subline: "到手价 ¥79",
            badge: Some("8折"),
        });
        assert_ne!(render(&other).unwrap().unwrap(), png);
    }
}
