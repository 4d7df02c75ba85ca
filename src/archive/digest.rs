//! Digests: `sha1:` + RFC 4648 base32, the spelling Heritrix, wget and the CDX dedup tools use.
//! One algorithm everywhere: WARC headers, the manifest, and later the CDXJ and dedup index.

use sha1::{Digest, Sha1};

/// `sha1:<BASE32>` over the concatenation of `parts` (hashed in place, no copy).
pub fn sha1_digest(parts: &[&[u8]]) -> String {
    let mut h = Sha1::new();
    for p in parts {
        h.update(p);
    }
    format!("sha1:{}", data_encoding::BASE32.encode(&h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // sha1("") and sha1("abc") in base32, as written by wget and Heritrix.
        assert_eq!(sha1_digest(&[]), "sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ");
        assert_eq!(
            sha1_digest(&[b"a", b"bc"]),
            "sha1:VGMT4NSHA2AWVOR6EVYXQUGCNSONBWE5"
        );
    }
}
