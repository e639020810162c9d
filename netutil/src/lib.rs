//! Pod network discovery and EAL planning (in progress).
#![forbid(unsafe_code)]
