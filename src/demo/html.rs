//! HTML of the demo's listing pages (front, section, author, tag, latest, embed, 404) and
//! the layout every page shares. Article pages are in [`super::article`].
//!
//! The shared layout carries one example of most link kinds the crawler must find, so every
//! page exercises them: `<link rel=stylesheet|icon|apple-touch-icon|canonical>`,
//! `<script src>`, an image map (`<area href>`), an inline `style` attribute with `url()`,
//! and an off-site footer link that is out of scope.

use std::fmt::Write;

use super::content::{ARTICLES, AUTHORS, Article, SECTIONS, SITE_NAME, TAGLINE};

/// The out-of-scope link every page carries; a crawl of the demo must never fetch it.
pub const OFFSITE_URL: &str = "https://example.org/";

/// Escapes text for HTML content and double-quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

/// What a page puts in its `<head>` beyond the shared links.
#[derive(Default)]
pub struct Head {
    pub title: String,
    pub description: String,
    /// Absolute canonical URL, if the page has one.
    pub canonical: Option<String>,
    /// Raw extra head markup (meta tags, JSON-LD, `<base>`, `<style>`).
    pub extra: String,
}

/// Wraps `main` in the shared document: head, masthead, navigation, footer.
pub fn layout(head: &Head, body_class: &str, main: &str) -> String {
    let mut h = String::with_capacity(main.len() + 4096);
    h.push_str("<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(h, "<title>{}</title>", esc(&head.title));
    let _ = writeln!(
        h,
        "<meta name=\"description\" content=\"{}\">",
        esc(&head.description)
    );
    if let Some(canonical) = &head.canonical {
        let _ = writeln!(h, "<link rel=\"canonical\" href=\"{}\">", esc(canonical));
    }
    h.push_str(concat!(
        "<link rel=\"stylesheet\" href=\"/static/css/site.css\" media=\"all\">\n",
        "<link rel=\"icon\" href=\"/favicon.ico\" sizes=\"any\">\n",
        "<link rel=\"apple-touch-icon\" href=\"/static/img/touch-icon.png\">\n",
        "<script src=\"/static/js/site.js\" defer></script>\n",
    ));
    h.push_str(&head.extra);
    let _ = write!(h, "</head>\n<body class=\"{body_class}\">\n");
    // The masthead's background comes from a style attribute: url() outside any stylesheet.
    let _ = write!(
        h,
        concat!(
            "<header class=\"masthead\" style=\"background-image: url('/static/img/paper-texture.png')\">\n",
            "<img class=\"logo\" src=\"/static/img/logo.png\" alt=\"{name}\" width=\"320\" height=\"64\" usemap=\"#mastmap\">\n",
            "<map name=\"mastmap\">",
            "<area shape=\"rect\" coords=\"0,0,200,64\" href=\"/\" alt=\"Home\">",
            "<area shape=\"rect\" coords=\"200,0,320,64\" href=\"/section/city/\" alt=\"City news\">",
            "</map>\n<p class=\"tagline\">{tagline}</p>\n</header>\n",
            "<nav class=\"site-nav\"><ul>\n<li><a href=\"/\">Home</a></li>\n",
        ),
        name = esc(SITE_NAME),
        tagline = esc(TAGLINE),
    );
    for s in SECTIONS {
        let _ = writeln!(
            h,
            "<li><a href=\"/section/{}/\">{}</a></li>",
            s.slug,
            esc(s.name)
        );
    }
    h.push_str(concat!(
        "<li><a href=\"/latest/\">Latest</a></li>\n",
        "<li><a href=\"/old-news/\">Archive</a></li>\n</ul></nav>\n",
    ));
    h.push_str("<main id=\"content\">\n");
    h.push_str(main);
    let _ = write!(
        h,
        concat!(
            "</main>\n<footer class=\"site-footer\"><hr>\n",
            "<p>&copy; 1887&ndash;2024 {name}. Syndicated partner: ",
            "<a href=\"{offsite}\" rel=\"external\">Example.org</a>.</p>\n",
            "</footer>\n</body>\n</html>\n",
        ),
        name = esc(SITE_NAME),
        offsite = OFFSITE_URL,
    );
    h
}

fn thumb(a: &Article, size: u32) -> String {
    format!("/static/img/thumbs/{}-{size}.jpg", a.slug)
}

/// A teaser with a `<picture>`: a WebP `<source srcset>` and a JPEG `<img src srcset>`.
fn teaser_picture(a: &Article) -> String {
    format!(
        concat!(
            "<article class=\"teaser\">\n<a href=\"{path}\"><picture>",
            "<source type=\"image/webp\" srcset=\"/static/img/thumbs/{slug}-320.webp 320w, /static/img/thumbs/{slug}-640.webp 640w\" sizes=\"320px\">",
            "<img src=\"{t320}\" srcset=\"{t320} 320w, {t640} 640w\" sizes=\"320px\" alt=\"\" width=\"320\" height=\"180\" loading=\"lazy\">",
            "</picture></a>\n<h2><a href=\"{path}\">{title}</a></h2>\n<p>{standfirst}</p>\n</article>\n",
        ),
        path = a.path(),
        slug = a.slug,
        t320 = thumb(a, 320),
        t640 = thumb(a, 640),
        title = esc(a.title),
        standfirst = esc(a.standfirst),
    )
}

/// A plain teaser; `href` is passed in so the `<base>` page can use relative links.
fn teaser_plain(a: &Article, href: &str) -> String {
    format!(
        concat!(
            "<li class=\"teaser\"><img src=\"{thumb}\" alt=\"\" width=\"160\" height=\"90\"> ",
            "<a href=\"{href}\">{title}</a> <time datetime=\"{iso}\">{date}</time></li>\n",
        ),
        thumb = thumb(a, 320),
        href = href,
        title = esc(a.title),
        iso = a.published,
        date = a.display_date(),
    )
}

pub fn front_page(base: &str) -> String {
    let mut main = String::from("<section class=\"hero\">\n<h1>Today\u{2019}s paper</h1>\n");
    // Newest first, as a news front page would.
    for a in ARTICLES.iter().rev() {
        main.push_str(&teaser_picture(a));
    }
    main.push_str(concat!(
        "</section>\n<aside class=\"more\">\n<h2>More</h2>\n<ul>\n",
        "<li><a href=\"/section/world/\">All World news</a></li>\n",
        "<li><a href=\"/old-news/\">Old news: last month\u{2019}s top story</a></li>\n",
        "<li><a href=\"/missing/\">Election results (page withdrawn)</a></li>\n",
        "</ul>\n</aside>\n",
    ));
    let head = Head {
        title: format!("{SITE_NAME} \u{2014} {TAGLINE}"),
        description: TAGLINE.to_owned(),
        canonical: Some(format!("{base}/")),
        // An inline <style> block with url(): a requisite found outside any .css file.
        extra: concat!(
            "<style>\n.hero { background: #f4efe6 url(\"/static/img/hero-bg.jpg\") no-repeat top right; }\n",
            ".more { border-top: 1px solid #ccc; }\n</style>\n",
        )
        .to_owned(),
    };
    layout(&head, "home", &main)
}

/// Section page. Science uses `<base href="/news/2024/">` and links relative to it, so a
/// crawler that ignores `<base>` resolves them to paths that do not exist.
pub fn section_page(slug: &str, base: &str) -> Option<String> {
    let section_idx = SECTIONS.iter().position(|s| s.slug == slug)?;
    let section = &SECTIONS[section_idx];
    let use_base = slug == "science";
    let mut main = format!(
        "<h1 class=\"section-title\">{}</h1>\n<ul class=\"teasers\">\n",
        esc(section.name)
    );
    for a in ARTICLES.iter().filter(|a| a.section == section_idx) {
        let href = if use_base {
            format!("{:02}/{}/", a.month, a.slug)
        } else {
            a.path()
        };
        main.push_str(&teaser_plain(a, &href));
    }
    main.push_str("</ul>\n");
    let head = Head {
        title: format!("{} \u{2014} {SITE_NAME}", section.name),
        description: format!("{} news from {SITE_NAME}", section.name),
        canonical: Some(format!("{base}/section/{slug}/")),
        extra: if use_base {
            "<base href=\"/news/2024/\">\n".to_owned()
        } else {
            String::new()
        },
    };
    Some(layout(&head, "section", &main))
}

pub fn author_page(slug: &str, base: &str) -> Option<String> {
    let idx = AUTHORS.iter().position(|a| a.slug == slug)?;
    let author = &AUTHORS[idx];
    let mut main = format!(
        "<h1 class=\"author-name\">{}</h1>\n<p class=\"author-bio\">{}</p>\n<ul class=\"teasers\">\n",
        esc(author.name),
        esc(author.bio)
    );
    for a in ARTICLES.iter().filter(|a| a.author == idx) {
        main.push_str(&teaser_plain(a, &a.path()));
    }
    main.push_str("</ul>\n");
    let head = Head {
        title: format!("{} \u{2014} {SITE_NAME}", author.name),
        description: author.bio.to_owned(),
        canonical: Some(format!("{base}/author/{slug}/")),
        extra: String::new(),
    };
    Some(layout(&head, "author", &main))
}

/// Every tag used by some article, in first-use order.
pub fn all_tags() -> Vec<&'static str> {
    let mut tags: Vec<&'static str> = Vec::new();
    for t in ARTICLES.iter().flat_map(|a| a.tags.iter()) {
        if !tags.contains(t) {
            tags.push(t);
        }
    }
    tags
}

pub fn tag_page(tag: &str, base: &str) -> Option<String> {
    let tag = all_tags().into_iter().find(|t| *t == tag)?;
    let mut main = format!(
        "<h1 class=\"tag-title\">Tagged: {}</h1>\n<ul class=\"teasers\">\n",
        esc(tag)
    );
    for a in ARTICLES.iter().filter(|a| a.tags.contains(&tag)) {
        main.push_str(&teaser_plain(a, &a.path()));
    }
    main.push_str("</ul>\n");
    let head = Head {
        title: format!("{tag} \u{2014} {SITE_NAME}"),
        description: format!("Articles tagged {tag}"),
        canonical: Some(format!("{base}/tag/{tag}/")),
        extra: String::new(),
    };
    Some(layout(&head, "tag", &main))
}

/// `/latest/`: a `<meta http-equiv=refresh>` to the newest article (no HTTP redirect).
pub fn latest_page() -> String {
    let target = ARTICLES
        .last()
        .map(Article::path)
        .unwrap_or_else(|| "/".into());
    let head = Head {
        title: format!("Latest \u{2014} {SITE_NAME}"),
        description: "The newest story".to_owned(),
        canonical: None,
        extra: format!("<meta http-equiv=\"refresh\" content=\"0; url={target}\">\n"),
    };
    let main = format!("<p>Taking you to <a href=\"{target}\">the latest story</a>\u{2026}</p>\n");
    layout(&head, "latest", &main)
}

/// The document inside an article's `<iframe>`: a bare page with one image of its own.
pub fn embed_map_page() -> String {
    concat!(
        "<!DOCTYPE html>\n<html lang=\"en-GB\"><head><meta charset=\"utf-8\">",
        "<title>Vell Valley survey transects</title>",
        "<style>body{margin:0} img{width:100%}</style></head>\n<body>",
        "<img src=\"/static/img/maps/vell-valley.png\" alt=\"Map of the twelve survey transects along the upper Vell\">",
        "</body></html>\n",
    )
    .to_owned()
}

pub fn not_found_page(path: &str) -> String {
    let head = Head {
        title: format!("Page not found \u{2014} {SITE_NAME}"),
        description: "Page not found".to_owned(),
        canonical: None,
        extra: "<meta name=\"robots\" content=\"noindex\">\n".to_owned(),
    };
    let main = format!(
        "<h1>Page not found</h1>\n<p>Nothing lives at <code>{}</code>. Try the <a href=\"/\">front page</a>.</p>\n",
        esc(path)
    );
    layout(&head, "error404", &main)
}
