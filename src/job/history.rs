//! Placeholder: filled by the extraction-history work.
