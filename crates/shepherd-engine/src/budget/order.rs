//! Order within a lane: the work that began first is served first.
//!
//! A unit of work (one function's reconcile in an apply, a controller reconcile) draws its
//! place when it begins, and every call it makes waits with that place. A function that
//! has begun therefore finishes its reads and writes before a later one takes tokens for
//! its first read: an apply over 10,000 functions writes its first function after that
//! function's own reads, not after the fleet's, and no function waits for ever behind
//! newer ones. A call made outside any unit of work takes its place when it asks.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};

static NEXT: AtomicU64 = AtomicU64::new(0);

tokio::task_local! {
    static PLACE: u64;
}

fn draw() -> u64 {
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Runs `future` as one unit of work, its calls served in the order it began. Inside
/// another unit, it keeps that unit's place: the work began then.
pub async fn first_come<F: Future>(future: F) -> F::Output {
    match PLACE.try_with(|place| *place) {
        Ok(_) => future.await,
        Err(_) => PLACE.scope(draw(), future).await,
    }
}

/// The place of a call made now.
pub(super) fn place() -> u64 {
    PLACE.try_with(|place| *place).unwrap_or_else(|_| draw())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_unit_of_work_keeps_its_place_and_loose_calls_take_theirs_when_they_ask() {
        let (outer, inner) = first_come(async {
            let outer = place();
            let inner = first_come(async { place() }).await;
            (outer, inner)
        })
        .await;
        assert_eq!(outer, inner, "a nested unit keeps the place of the work");
        let (a, b) = (place(), place());
        assert!(outer < a && a < b, "{outer} {a} {b}");
    }
}
