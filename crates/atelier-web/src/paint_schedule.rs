//! Sending local changes after the browser painted them.
//!
//! Every transaction on an open document (a keystroke, or a remote update a
//! session applied) asks for one page drive ([`crate::hub`]), which sends
//! what the sessions captured, appends to IndexedDB and posts to the other
//! tabs. The drive runs once the browser has painted the change (after the
//! next animation frame), so a keystroke's text reaches the screen before
//! its WebSocket frame, IndexedDB record and tab broadcast are written
//! (measured: ~1 ms of a ~3 ms keystroke at 100 k characters). Keystrokes
//! within one frame share one drive. A hidden page paints no frames: there
//! it runs on the next microtask, a fallback timer covers a page hidden
//! before its frame came, and the hub runs a pending drive at once on
//! `pagehide` and `visibilitychange` ([`flush`]), so the last keystroke is
//! written before the page can go away. A drive run at once for a message
//! (a socket's or a tab's) leaves the IndexedDB records and tab posts to
//! the scheduled drive: opening a chat of 10,000 messages paints before
//! its 2 MB are stored and posted (about 50 ms of the open measured by
//! `cargo xtask bench chat`).
//!
//! [`AfterPaint`] is the bookkeeping, pure and tested natively; the rest
//! wires it to the browser.

use std::cell::RefCell;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

/// How long a scheduled drive waits at most for its animation frame.
const FALLBACK_MS: i32 = 100;

/// Whether a drive is pending, and which schedule may run it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct AfterPaint {
    pending: bool,
    generation: u64,
}

impl AfterPaint {
    /// Nothing pending.
    pub const fn new() -> Self {
        AfterPaint {
            pending: false,
            generation: 0,
        }
    }

    /// A change wants a drive. Returns the generation of a new schedule to
    /// set up, or `None` when one is pending already.
    pub fn request(&mut self) -> Option<u64> {
        if self.pending {
            return None;
        }
        self.pending = true;
        self.generation = self.generation.wrapping_add(1);
        Some(self.generation)
    }

    /// A callback of schedule `generation` fired (its frame, or the
    /// fallback timer): whether it should drive now. Only the first
    /// callback of the current schedule does; an older schedule's callbacks
    /// do nothing.
    pub fn fire(&mut self, generation: u64) -> bool {
        if self.pending && generation == self.generation {
            self.pending = false;
            return true;
        }
        false
    }

    /// The page is being hidden or left: whether a pending drive must run
    /// now (its schedule's callbacks then do nothing).
    pub fn flush(&mut self) -> bool {
        std::mem::take(&mut self.pending)
    }
}

thread_local! {
    static SCHEDULE: RefCell<AfterPaint> = const { RefCell::new(AfterPaint::new()) };
}

/// Asks for a page drive after the next paint. Cheap and safe to call from
/// a `yrs` observer: it only touches this schedule, never a document.
pub(crate) fn request_drive() {
    if let Some(generation) = SCHEDULE.with(|s| s.borrow_mut().request()) {
        schedule(generation);
    }
}

/// Whether a drive is scheduled after the next paint: the drive running
/// now may leave IndexedDB and the tabs to it.
pub(crate) fn pending() -> bool {
    SCHEDULE.with(|s| s.borrow().pending)
}

/// Runs a pending drive at once (the page is being hidden or left).
pub(crate) fn flush() {
    if SCHEDULE.with(|s| s.borrow_mut().flush()) {
        crate::hub::drive();
    }
}

fn run(generation: u64) {
    if SCHEDULE.with(|s| s.borrow_mut().fire(generation)) {
        crate::hub::drive();
    }
}

/// Runs schedule `generation` on the next microtask.
fn run_soon(generation: u64) {
    wasm_bindgen_futures::spawn_local(async move { run(generation) });
}

fn schedule(generation: u64) {
    let window = web_sys::window();
    let visible = window
        .as_ref()
        .and_then(|w| w.document())
        .is_some_and(|d| !d.hidden());
    let Some(window) = window.filter(|_| visible) else {
        return run_soon(generation);
    };
    let after_frame = {
        let window = window.clone();
        Closure::once_into_js(move || {
            // In the frame's callbacks; a task queued here runs after paint.
            let later = Closure::once_into_js(move || run(generation));
            let _ = window
                .set_timeout_with_callback_and_timeout_and_arguments_0(later.unchecked_ref(), 0);
        })
    };
    if window
        .request_animation_frame(after_frame.unchecked_ref())
        .is_err()
    {
        return run_soon(generation);
    }
    let fallback = Closure::once_into_js(move || run(generation));
    let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
        fallback.unchecked_ref(),
        FALLBACK_MS,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_within_one_frame_share_one_drive() {
        let mut s = AfterPaint::default();
        let g = s.request().expect("a schedule");
        assert_eq!(s.request(), None, "already pending");
        assert!(s.fire(g), "the frame drives");
        assert!(
            !s.fire(g),
            "the fallback timer of the same schedule does not"
        );
    }

    #[test]
    fn a_flush_runs_the_pending_drive_and_voids_its_schedule() {
        let mut s = AfterPaint::default();
        assert!(!s.flush(), "nothing pending");
        let g1 = s.request().expect("a schedule");
        assert!(s.flush());
        let g2 = s.request().expect("a new schedule after the flush");
        assert_ne!(g1, g2);
        assert!(!s.fire(g1), "the first schedule's late frame does nothing");
        assert!(s.fire(g2));
    }
}
