//! The engine's clock. Wall time is read once; after that, time advances with tokio's
//! clock, so that tests running in paused (virtual) time see rollout pauses pass in
//! milliseconds, and decisions never call the system clock themselves.

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

fn origin() -> &'static (u64, Instant) {
    static ORIGIN: OnceLock<(u64, Instant)> = OnceLock::new();
    ORIGIN.get_or_init(|| {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        (wall, Instant::now())
    })
}

/// Now, in Unix seconds.
pub fn unix_now() -> u64 {
    let (wall, start) = origin();
    wall + start.elapsed().as_secs()
}
