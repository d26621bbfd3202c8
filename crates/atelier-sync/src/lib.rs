//! Atelier's Yjs wire protocol, sans-I/O.
