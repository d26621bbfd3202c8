//! Size caps applied while decoding and inside sessions.

/// Caps on what a peer may make us read, hold or allocate.
///
/// Every decoder checks declared lengths against the bytes actually left and
/// against these caps *before* it allocates, so a few hostile bytes cannot
/// make a session reserve more than the caps allow. The defaults suit a
/// document server; lower them for small devices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest frame (one WebSocket message) accepted, in bytes.
    pub max_message_bytes: usize,
    /// Largest full document accepted, in bytes: caps sync step 2 payloads,
    /// which carry a whole document state.
    pub max_document_bytes: usize,
    /// Largest incremental update accepted, in bytes: caps sync `Update` payloads.
    pub max_update_bytes: usize,
    /// Most entries in a state vector (clients that ever edited a document).
    pub max_state_vector_entries: usize,
    /// Most client entries in one awareness update.
    pub max_awareness_clients: usize,
    /// Largest JSON state of one awareness client, in bytes.
    pub max_awareness_state_bytes: usize,
    /// Longest document name (Hocuspocus address), in bytes.
    pub max_document_name_bytes: usize,
    /// Longest token, scope, version or close reason, in bytes.
    pub max_token_bytes: usize,
    /// Longest stateless payload, in bytes.
    pub max_stateless_bytes: usize,
    /// Deepest nesting of lib0 `Any` values inside an update.
    pub max_any_depth: usize,
    /// Deepest nesting of shared types an update may create, counting a
    /// type directly in a root as 1 (BlockNote's root `blockGroup`; its
    /// paragraph's text sits at 4, and each level of list nesting adds 2).
    pub max_nesting_depth: usize,
    /// Most documents one Hocuspocus connection may open at once.
    pub max_documents_per_connection: usize,
    /// Most documents one Hocuspocus connection may have waiting for authentication.
    pub max_pending_documents: usize,
    /// Most frames a server session holds for documents not yet authenticated.
    pub max_held_messages: usize,
    /// Most bytes a server session holds for documents not yet authenticated.
    pub max_held_bytes: usize,
    /// Most updates a server session lets wait for [`crate::ServerSession::ack_persisted`].
    pub max_pending_acks: usize,
    /// Largest offline queue a client keeps, in bytes, before it stops
    /// keeping updates and falls back to sending its whole state on the next sync.
    pub max_offline_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_bytes: 64 << 20,
            max_document_bytes: 64 << 20,
            max_update_bytes: 16 << 20,
            max_state_vector_entries: 1 << 20,
            max_awareness_clients: 10_000,
            max_awareness_state_bytes: 64 << 10,
            max_document_name_bytes: 1 << 10,
            max_token_bytes: 16 << 10,
            max_stateless_bytes: 1 << 20,
            max_any_depth: 128,
            // Room for 60 levels of nested lists, or a table in 58; far
            // below what overflows a 2 MiB thread stack in any reader.
            max_nesting_depth: 128,
            max_documents_per_connection: 256,
            // The next three mirror Hocuspocus 4's `maxPendingDocuments`,
            // `maxUnauthenticatedQueueMessages` and `maxUnauthenticatedQueueSize`.
            max_pending_documents: 100,
            max_held_messages: 1_000,
            max_held_bytes: 5 << 20,
            max_pending_acks: 4_096,
            max_offline_bytes: 16 << 20,
        }
    }
}
