//! TEMPORARY stand-in; replaced by the extract branch.
use url::Url;
pub fn canonicalize(url: &Url) -> Url {
    let mut u = url.clone();
    u.set_fragment(None);
    u
}
pub fn canonical_key(url: &Url) -> String {
    canonicalize(url).as_str().to_owned()
}
