//! The built-in demo news site, served on 127.0.0.1 with no network needed.
