//! Article pages: the story (with JSON-LD `NewsArticle`, OpenGraph and a canonical link) and
//! a WordPress-classic comment section, paginated into comment pages.
//!
//! The comment markup follows what WordPress's `wp_list_comments()` emits with a classic
//! theme (`div#comments > ol.commentlist > li.comment#comment-N`, nested `ol.children`,
//! `cite.fn`, permalinks to `#comment-N`, `?replytocom=N#respond` reply links), because that
//! is the shape comment extractors meet most often in the wild.

use std::fmt::Write;

use super::content::{ARTICLES, AUTHORS, Article, COMMENTERS, Comment, SECTIONS, SITE_NAME};
use super::html::{Head, esc, layout};

// Paths and derived facts of an article; the data itself lives in `content`.
impl Article {
    pub fn path(&self) -> String {
        format!("/news/{}/{:02}/{}/", self.year, self.month, self.slug)
    }

    /// Path of comment page `page` (1-based); page 1 is the article itself, as in WordPress
    /// with "oldest comments first".
    pub fn comment_page_path(&self, page: usize) -> String {
        if page <= 1 {
            self.path()
        } else {
            format!("{}comment-page-{page}/", self.path())
        }
    }

    pub fn comment_count(&self) -> usize {
        fn count(cs: &[Comment]) -> usize {
            cs.iter().map(|c| 1 + count(c.replies)).sum()
        }
        self.comment_pages.iter().map(|p| count(p)).sum()
    }

    /// The human date shown in bylines, e.g. "14 March 2024".
    pub fn display_date(&self) -> String {
        display_date(self.published)
    }
}

/// "2024-03-14T09:30:00+00:00" → "14 March 2024" (falls back to the input if malformed).
pub fn display_date(iso: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(iso)
        .map(|d| d.format("%-d %B %Y").to_string())
        .unwrap_or_else(|_| iso.to_owned())
}

/// Finds the article and comment page for a path like `/news/2024/03/slug/` or
/// `/news/2024/03/slug/comment-page-2/`.
pub fn lookup(path: &str) -> Option<(&'static Article, usize)> {
    ARTICLES.iter().find_map(|a| {
        let base = a.path();
        let rest = path.strip_prefix(base.as_str())?;
        if rest.is_empty() {
            return Some((a, 1));
        }
        let page: usize = rest
            .strip_prefix("comment-page-")?
            .strip_suffix('/')?
            .parse()
            .ok()?;
        // comment-page-1 exists in WordPress too (it shows the same comments as the post).
        (page >= 1 && page <= a.comment_pages.len()).then_some((a, page))
    })
}

fn find_comment(cs: &'static [Comment], id: u32) -> Option<&'static Comment> {
    cs.iter().find_map(|c| {
        if c.id == id {
            Some(c)
        } else {
            find_comment(c.replies, id)
        }
    })
}

/// Renders comment page `page` of `a`; `reply_to` is the `replytocom` query parameter.
pub fn article_page(a: &Article, page: usize, reply_to: Option<u32>, base: &str) -> String {
    let author = &AUTHORS[a.author];
    let section = &SECTIONS[a.section];
    let path = a.comment_page_path(page);
    let url = format!("{base}{}", a.path());
    let image = format!("{base}/static/img/photos/{}-1600.jpg", a.slug);
    let threads: &'static [Comment] = a
        .comment_pages
        .get(page.saturating_sub(1))
        .copied()
        .unwrap_or(&[]);
    let replying = reply_to.and_then(|id| find_comment(threads, id));

    let mut main = String::with_capacity(16 * 1024);
    let _ = write!(
        main,
        concat!(
            "<article id=\"post-{id}\" class=\"post hentry category-{section_slug}\">\n<header class=\"entry-header\">\n",
            "<p class=\"kicker\"><a href=\"/section/{section_slug}/\" rel=\"category tag\">{section}</a></p>\n",
            "<h1 class=\"entry-title\">{title}</h1>\n<p class=\"standfirst\">{standfirst}</p>\n",
            "<p class=\"byline\">By <span class=\"author vcard\"><a class=\"url fn n\" rel=\"author\" href=\"/author/{author_slug}/\">{author}</a></span>",
            " &middot; <time class=\"entry-date published\" datetime=\"{iso}\">{date}</time></p>\n</header>\n",
            "<figure class=\"lead-image\"><img src=\"/static/img/photos/{slug}-800.jpg\" ",
            "srcset=\"/static/img/photos/{slug}-800.jpg 800w, /static/img/photos/{slug}-1600.jpg 1600w\" ",
            "sizes=\"(max-width: 800px) 100vw, 800px\" alt=\"{caption}\" width=\"800\" height=\"450\">",
            "<figcaption>{caption} <span class=\"credit\">Photo: {site}</span></figcaption></figure>\n",
            "<div class=\"entry-content\">\n",
        ),
        id = post_id(a),
        section_slug = section.slug,
        section = esc(section.name),
        title = esc(a.title),
        standfirst = esc(a.standfirst),
        author_slug = author.slug,
        author = esc(author.name),
        iso = a.published,
        date = a.display_date(),
        slug = a.slug,
        caption = esc(a.caption),
        site = esc(SITE_NAME),
    );
    for (i, p) in a.paragraphs.iter().enumerate() {
        let _ = writeln!(main, "<p>{}</p>", esc(p));
        if a.media && i == 1 {
            main.push_str(MEDIA);
        }
    }
    main.push_str("</div>\n<footer class=\"entry-footer\"><ul class=\"tags\">");
    for t in a.tags {
        let _ = write!(main, "<li><a href=\"/tag/{t}/\" rel=\"tag\">{t}</a></li>");
    }
    main.push_str("</ul></footer>\n</article>\n");
    comments(&mut main, a, page, threads, replying);

    let mut extra = format!(
        concat!(
            "<meta property=\"og:type\" content=\"article\">\n",
            "<meta property=\"og:site_name\" content=\"{site}\">\n",
            "<meta property=\"og:title\" content=\"{title}\">\n",
            "<meta property=\"og:description\" content=\"{standfirst}\">\n",
            "<meta property=\"og:url\" content=\"{url}\">\n",
            "<meta property=\"og:image\" content=\"{image}\">\n",
            "<meta property=\"article:published_time\" content=\"{iso}\">\n",
            "<meta property=\"article:section\" content=\"{section}\">\n",
            "<meta name=\"author\" content=\"{author}\">\n",
        ),
        site = esc(SITE_NAME),
        title = esc(a.title),
        standfirst = esc(a.standfirst),
        url = esc(&url),
        image = esc(&image),
        iso = a.published,
        section = esc(section.name),
        author = esc(author.name),
    );
    if reply_to.is_some() {
        // WordPress marks reply-form variants noindex; they duplicate the page.
        extra.push_str("<meta name=\"robots\" content=\"noindex, follow\">\n");
    }
    let ld = serde_json::json!({
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": a.title,
        "description": a.standfirst,
        "datePublished": a.published,
        "dateModified": a.published,
        "mainEntityOfPage": url,
        "image": [image],
        "articleSection": section.name,
        "keywords": a.tags,
        "commentCount": a.comment_count(),
        "author": {
            "@type": "Person",
            "name": author.name,
            "url": format!("{base}/author/{}/", author.slug),
        },
        "publisher": {
            "@type": "Organization",
            "name": SITE_NAME,
            "logo": {"@type": "ImageObject", "url": format!("{base}/static/img/logo.png")},
        },
    });
    // "</" inside a script element would end it early; JSON allows "\/" instead.
    let ld = ld.to_string().replace("</", "<\\/");
    let _ = writeln!(extra, "<script type=\"application/ld+json\">{ld}</script>");
    let head = Head {
        title: format!("{} \u{2014} {SITE_NAME}", a.title),
        description: a.standfirst.to_owned(),
        // Like WordPress: comment pages are canonical to themselves, reply variants are not.
        canonical: Some(format!("{base}{path}")),
        extra,
    };
    layout(&head, "single single-post", &main)
}

/// WordPress-style post id, stable per article.
fn post_id(a: &Article) -> usize {
    ARTICLES
        .iter()
        .position(|x| std::ptr::eq(x, a))
        .map_or(0, |i| 1000 + i * 7)
}

/// An iframe (a requisite HTML document), a video with poster and source, and an audio clip.
const MEDIA: &str = concat!(
    "<figure class=\"embed\"><iframe src=\"/embed/map/vell-valley/\" title=\"Survey map\" width=\"600\" height=\"400\" loading=\"lazy\"></iframe>",
    "<figcaption>The survey transects.</figcaption></figure>\n",
    "<figure class=\"video\"><video controls preload=\"none\" poster=\"/static/img/video/glassfrog-poster.jpg\" width=\"640\" height=\"360\">",
    "<source src=\"/static/media/glassfrog-chorus.mp4\" type=\"video/mp4\">",
    "<p>Your browser cannot play this video.</p></video><figcaption>The chorus at night.</figcaption></figure>\n",
    "<figure class=\"audio\"><audio controls preload=\"none\" src=\"/static/media/glassfrog-call.mp3\"></audio>",
    "<figcaption>A single male\u{2019}s call.</figcaption></figure>\n",
);

fn comments(
    out: &mut String,
    a: &Article,
    page: usize,
    threads: &[Comment],
    replying: Option<&Comment>,
) {
    if !a.comments_open {
        out.push_str("<div id=\"comments\" class=\"comments-area\">\n<p class=\"no-comments\">Comments are closed.</p>\n</div>\n");
        return;
    }
    let _ = write!(
        out,
        "<div id=\"comments\" class=\"comments-area\">\n<h2 class=\"comments-title\">{} thoughts on \u{201c}{}\u{201d}</h2>\n",
        a.comment_count(),
        esc(a.title)
    );
    let nav = comment_nav(a, page);
    out.push_str(&nav);
    out.push_str("<ol class=\"commentlist\">\n");
    for (i, c) in threads.iter().enumerate() {
        comment(out, c, 1, i);
    }
    out.push_str("</ol>\n");
    out.push_str(&nav);
    let title = match replying {
        Some(c) => format!(
            "Leave a Reply to {} <small><a rel=\"nofollow\" id=\"cancel-comment-reply-link\" href=\"{}#respond\">Cancel reply</a></small>",
            esc(COMMENTERS[c.by].name),
            a.comment_page_path(page)
        ),
        None => "Leave a Reply".to_owned(),
    };
    let parent = replying.map_or(0, |c| c.id);
    let _ = write!(
        out,
        concat!(
            "<div id=\"respond\" class=\"comment-respond\">\n<h3 id=\"reply-title\" class=\"comment-reply-title\">{title}</h3>\n",
            "<form action=\"/wp-comments-post.php\" method=\"post\" id=\"commentform\" class=\"comment-form\">\n",
            "<p class=\"comment-form-comment\"><label for=\"comment\">Comment</label> <textarea id=\"comment\" name=\"comment\" rows=\"6\" required></textarea></p>\n",
            "<p class=\"comment-form-author\"><label for=\"author\">Name</label> <input id=\"author\" name=\"author\" type=\"text\" required></p>\n",
            "<p class=\"form-submit\"><input name=\"submit\" type=\"submit\" id=\"submit\" class=\"submit\" value=\"Post Comment\">",
            "<input type=\"hidden\" name=\"comment_post_ID\" value=\"{post}\"><input type=\"hidden\" name=\"comment_parent\" id=\"comment_parent\" value=\"{parent}\"></p>\n",
            "</form>\n</div>\n</div>\n",
        ),
        title = title,
        post = post_id(a),
        parent = parent,
    );
}

/// "« Older Comments" / "Newer Comments »", empty when there is a single page.
fn comment_nav(a: &Article, page: usize) -> String {
    let pages = a.comment_pages.len();
    if pages <= 1 {
        return String::new();
    }
    let mut nav =
        String::from("<nav class=\"navigation comment-navigation\" aria-label=\"Comments\">");
    if page > 1 {
        let _ = write!(
            nav,
            "<div class=\"nav-previous\"><a href=\"{}#comments\" rel=\"prev\">&laquo; Older Comments</a></div>",
            a.comment_page_path(page - 1)
        );
    }
    if page < pages {
        let _ = write!(
            nav,
            "<div class=\"nav-next\"><a href=\"{}#comments\" rel=\"next\">Newer Comments &raquo;</a></div>",
            a.comment_page_path(page + 1)
        );
    }
    nav.push_str("</nav>\n");
    nav
}

fn comment(out: &mut String, c: &Comment, depth: usize, index: usize) {
    let who = &COMMENTERS[c.by];
    let parity = if index.is_multiple_of(2) {
        "even"
    } else {
        "odd"
    };
    let parent = if c.replies.is_empty() { "" } else { " parent" };
    let when = chrono::DateTime::parse_from_rfc3339(c.date)
        .map(|d| d.format("%-d %B %Y at %H:%M").to_string())
        .unwrap_or_else(|_| c.date.to_owned());
    let _ = write!(
        out,
        concat!(
            "<li class=\"comment {parity} depth-{depth}{parent}\" id=\"comment-{id}\">\n",
            "<div id=\"div-comment-{id}\" class=\"comment-body\">\n",
            "<div class=\"comment-author vcard\"><img alt=\"\" src=\"/static/img/avatars/{slug}-48.png\" ",
            "srcset=\"/static/img/avatars/{slug}-96.png 2x\" class=\"avatar avatar-48 photo\" height=\"48\" width=\"48\" loading=\"lazy\"> ",
            "<cite class=\"fn\">{name}</cite> <span class=\"says\">says:</span></div>\n",
            "<div class=\"comment-meta commentmetadata\"><a href=\"#comment-{id}\"><time datetime=\"{iso}\">{when}</time></a></div>\n",
        ),
        parity = parity,
        depth = depth,
        parent = parent,
        id = c.id,
        slug = who.slug,
        name = esc(who.name),
        iso = c.date,
        when = when,
    );
    for p in c.paragraphs {
        let _ = writeln!(out, "<p>{}</p>", esc(p));
    }
    let _ = write!(
        out,
        concat!(
            "<div class=\"reply\"><a rel=\"nofollow\" class=\"comment-reply-link\" href=\"?replytocom={id}#respond\" ",
            "data-commentid=\"{id}\" aria-label=\"Reply to {name}\">Reply</a></div>\n</div>\n",
        ),
        id = c.id,
        name = esc(who.name),
    );
    if !c.replies.is_empty() {
        out.push_str("<ol class=\"children\">\n");
        for (i, r) in c.replies.iter().enumerate() {
            comment(out, r, depth + 1, i);
        }
        out.push_str("</ol>\n");
    }
    out.push_str("</li>\n");
}

/// Every comment id on comment page `page` (1-based) of `a`, in document order.
pub fn comment_ids(a: &Article, page: usize) -> Vec<u32> {
    fn walk(cs: &[Comment], out: &mut Vec<u32>) {
        for c in cs {
            out.push(c.id);
            walk(c.replies, out);
        }
    }
    let mut ids = Vec::new();
    if let Some(threads) = a.comment_pages.get(page.wrapping_sub(1)) {
        walk(threads, &mut ids);
    }
    ids
}
