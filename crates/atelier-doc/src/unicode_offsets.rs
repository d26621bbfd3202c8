//! Conversions between Unicode scalar offsets and UTF-16 offsets.
