//! State shared by every request and connection.

use crate::auth::Authenticator;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::room::Rooms;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// Everything a handler needs.
pub struct AppState {
    /// Resolved configuration.
    pub cfg: Config,
    /// Loaded documents and the store.
    pub rooms: Arc<Rooms>,
    /// Token checks.
    pub auth: Authenticator,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Open connections per user and per IP, for the limits.
    pub conn_counts: Mutex<ConnCounts>,
    /// The AI endpoint: its backend, limits and counters.
    pub ai: Arc<crate::ai_proxy::AiService>,
    /// The Matrix bridge's application service endpoint, in that mode.
    pub matrix_appservice: Option<Arc<crate::matrix_appservice::Appservice>>,
    /// The Matrix bridge's links, when a homeserver is configured.
    pub matrix: Option<Arc<crate::matrix_links::MatrixBridge>>,
}

/// Open connection counters.
#[derive(Default)]
pub struct ConnCounts {
    /// By user id.
    pub per_user: HashMap<String, usize>,
    /// By client address.
    pub per_ip: HashMap<IpAddr, usize>,
}

/// A slot in the connection limits, released on drop.
pub struct ConnSlot {
    state: Arc<AppState>,
    ip: IpAddr,
    user: Option<String>,
}

impl AppState {
    /// Takes a connection slot for this IP, or says which limit is reached.
    pub fn take_ip_slot(self: &Arc<Self>, ip: IpAddr) -> Result<ConnSlot, String> {
        let mut c = self
            .conn_counts
            .lock()
            .map_err(|_| "internal error".to_owned())?;
        let n = c.per_ip.entry(ip).or_default();
        if *n >= self.cfg.max_connections_per_ip {
            return Err(format!(
                "too many connections from this address (limit {})",
                self.cfg.max_connections_per_ip
            ));
        }
        *n += 1;
        Ok(ConnSlot {
            state: self.clone(),
            ip,
            user: None,
        })
    }
}

impl ConnSlot {
    /// Counts this connection against a user, or says the limit is reached.
    pub fn claim_user(&mut self, user: &str) -> Result<(), String> {
        if self.user.as_deref() == Some(user) {
            return Ok(());
        }
        let limit = self.state.cfg.max_connections_per_user;
        let mut c = self
            .state
            .conn_counts
            .lock()
            .map_err(|_| "internal error".to_owned())?;
        let n = c.per_user.entry(user.to_owned()).or_default();
        if *n >= limit {
            return Err(format!(
                "too many connections for this user (limit {limit})"
            ));
        }
        *n += 1;
        if let Some(old) = self.user.replace(user.to_owned())
            && let Some(m) = c.per_user.get_mut(&old)
        {
            *m = m.saturating_sub(1);
        }
        Ok(())
    }
}

impl Drop for ConnSlot {
    fn drop(&mut self) {
        if let Ok(mut c) = self.state.conn_counts.lock() {
            if let Some(n) = c.per_ip.get_mut(&self.ip) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    c.per_ip.remove(&self.ip);
                }
            }
            if let Some(u) = &self.user
                && let Some(n) = c.per_user.get_mut(u)
            {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    c.per_user.remove(u);
                }
            }
        }
    }
}
