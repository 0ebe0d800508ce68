//! The reads that functions of one pass share, made once or in batches while each
//! function observes on its own.
//!
//! No function waits for the fleet: the account's event source mappings are listed once,
//! by the first function that needs them; a queue or an S3 object is read once, by the
//! first function that names it; alarms and image tags are read in group batches, where
//! the names that arrive while one batch is in flight go together in the next. A lone
//! function pays no wait, and a fleet pays about one call per batch, as before.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};

use shepherd_core::cloud::{Cloud, CloudError, CloudResult};
use shepherd_core::model::{CodeContent, ObservedAlarm, ObservedMapping, QueueAttributes};
use tokio::sync::{OnceCell, oneshot};

/// The shared reads of one pass. What a pass reads once it keeps for the pass only: a
/// new pass ([`Pass::next`]) reads again, so each sees AWS as it is then. The group
/// batches read afresh every time, so they are shared by every pass of a run: functions
/// on their own clocks (`apply --wait`) still read their alarms together.
#[derive(Default)]
pub struct Pass {
    mappings: OnceCell<CloudResult<Arc<Vec<ObservedMapping>>>>,
    queues: Memo<Option<QueueAttributes>>,
    objects: Memo<CodeContent>,
    batches: Arc<Batches>,
}

#[derive(Default)]
struct Batches {
    alarms: GroupRead<String, ObservedAlarm>,
    images: Mutex<BTreeMap<String, Arc<GroupRead<String, String>>>>,
}

/// `DescribeAlarms` and `DescribeImages` name at most 100 a call.
const NAMES_PER_CALL: usize = 100;

impl Pass {
    /// A new pass, sharing this one's group batches.
    pub fn next(&self) -> Pass {
        Pass {
            batches: Arc::clone(&self.batches),
            ..Pass::default()
        }
    }

    /// Every event source mapping of the account, listed once a pass. The account-wide
    /// list (one call per 100 mappings) finds a function's mappings on every qualifier; a
    /// filtered one would find only those on the name it was given.
    pub async fn mappings<C: Cloud>(&self, cloud: &C) -> CloudResult<Arc<Vec<ObservedMapping>>> {
        self.mappings
            .get_or_init(|| async { cloud.list_mappings(None).await.map(Arc::new) })
            .await
            .clone()
    }

    /// The alarms of `names` that exist.
    pub async fn alarms<C: Cloud>(
        &self,
        cloud: &C,
        names: Vec<String>,
    ) -> CloudResult<BTreeMap<String, ObservedAlarm>> {
        self.batches
            .alarms
            .read(names, |chunk| async move {
                let alarms = cloud.describe_alarms(&chunk).await?;
                Ok(alarms
                    .into_iter()
                    .map(|a| (a.definition.name.clone(), a))
                    .collect())
            })
            .await
    }

    /// A queue's attributes, or `None` when it does not exist or cannot be read (its
    /// checks are then skipped, and Lambda still refuses a mapping it cannot accept).
    pub async fn queue<C: Cloud>(&self, cloud: &C, arn: &str) -> Option<QueueAttributes> {
        let cell = self.queues.cell(arn);
        cell.get_or_init(|| async {
            match cloud.get_queue_attributes(arn).await {
                Ok(Some(attributes)) => Some(attributes),
                Ok(None) => {
                    tracing::warn!(queue = arn, "the event source's queue does not exist");
                    None
                }
                Err(error) => {
                    tracing::warn!(queue = arn, %error, "cannot read the queue's attributes");
                    None
                }
            }
        })
        .await
        .clone()
    }

    /// What an S3 code object is now.
    pub async fn object<C: Cloud>(&self, cloud: &C, bucket: &str, key: &str) -> CodeContent {
        let cell = self.objects.cell(&format!("s3://{bucket}/{key}"));
        cell.get_or_init(|| async {
            match cloud.head_object(bucket, key).await {
                Ok(Some(head)) => CodeContent::S3Object {
                    etag: head.etag,
                    version_id: head.version_id,
                },
                Ok(None) => CodeContent::Unresolved("no such object".to_owned()),
                Err(error) => {
                    tracing::warn!(bucket, key, %error, "cannot read the code's S3 object");
                    CodeContent::Unresolved(error.summary())
                }
            }
        })
        .await
        .clone()
    }

    /// The digest `tag` names in an ECR `repository` now.
    pub async fn image<C: Cloud>(&self, cloud: &C, repository: &str, tag: &str) -> CodeContent {
        let group = Arc::clone(
            lock(&self.batches.images)
                .entry(repository.to_owned())
                .or_default(),
        );
        let read = group
            .read(vec![tag.to_owned()], |tags| async move {
                cloud.image_digests(repository, &tags).await
            })
            .await;
        match read {
            Ok(found) => match found.get(tag) {
                Some(digest) => CodeContent::Image {
                    digest: digest.clone(),
                },
                None => CodeContent::Unresolved(format!("no image tagged {tag}")),
            },
            Err(error) => {
                tracing::warn!(repository, %error, "cannot read the code's image digests");
                CodeContent::Unresolved(error.summary())
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// One read per key and pass, made by the first caller that names it.
struct Memo<V> {
    cells: Mutex<BTreeMap<String, Arc<OnceCell<V>>>>,
}

impl<V> Default for Memo<V> {
    fn default() -> Self {
        Self {
            cells: Mutex::default(),
        }
    }
}

impl<V> Memo<V> {
    fn cell(&self, key: &str) -> Arc<OnceCell<V>> {
        Arc::clone(lock(&self.cells).entry(key.to_owned()).or_default())
    }
}

/// A caller waiting for a batch: the names it asked for, and where its answer goes.
type Request<K, V> = (Vec<K>, oneshot::Sender<CloudResult<BTreeMap<K, V>>>);

/// Reads by name in group batches: one batch in flight at a time, and every name asked
/// for meanwhile goes in the next (group commit). The caller whose turn it is reads for
/// everyone waiting.
struct GroupRead<K, V> {
    waiting: Mutex<Vec<Request<K, V>>>,
    turn: tokio::sync::Mutex<()>,
}

impl<K, V> Default for GroupRead<K, V> {
    fn default() -> Self {
        Self {
            waiting: Mutex::default(),
            turn: tokio::sync::Mutex::default(),
        }
    }
}

impl<K: Ord + Clone, V: Clone> GroupRead<K, V> {
    /// What `fetch` finds of `keys`, reading at most [`NAMES_PER_CALL`] a call.
    async fn read<F, Fut>(&self, keys: Vec<K>, fetch: F) -> CloudResult<BTreeMap<K, V>>
    where
        F: Fn(Vec<K>) -> Fut,
        Fut: Future<Output = CloudResult<BTreeMap<K, V>>>,
    {
        let (answer, answered) = oneshot::channel();
        lock(&self.waiting).push((keys.clone(), answer));
        {
            let _turn = self.turn.lock().await;
            let batch = std::mem::take(&mut *lock(&self.waiting));
            if !batch.is_empty() {
                let names: BTreeSet<K> = batch.iter().flat_map(|(k, _)| k.clone()).collect();
                let names: Vec<K> = names.into_iter().collect();
                let mut found = BTreeMap::new();
                let mut failed = None;
                for chunk in names.chunks(NAMES_PER_CALL) {
                    match fetch(chunk.to_vec()).await {
                        Ok(part) => found.extend(part),
                        Err(error) => {
                            failed = Some(error);
                            break;
                        }
                    }
                }
                let found = failed.map_or(Ok(found), Err);
                for (keys, answer) in batch {
                    let _ = answer.send(pick(&found, &keys));
                }
            }
        }
        match answered.await {
            Ok(result) => result,
            // The caller reading for this one gave up (its future was dropped): read alone.
            Err(_) => fetch(keys).await,
        }
    }
}

fn pick<K: Ord + Clone, V: Clone>(
    found: &Result<BTreeMap<K, V>, CloudError>,
    keys: &[K],
) -> CloudResult<BTreeMap<K, V>> {
    let found = found.as_ref().map_err(Clone::clone)?;
    Ok(keys
        .iter()
        .filter_map(|k| Some((k.clone(), found.get(k)?.clone())))
        .collect())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn names_asked_for_while_a_batch_is_in_flight_go_together_in_the_next() {
        let group: GroupRead<u32, u32> = GroupRead::default();
        let calls = AtomicUsize::new(0);
        let fetch = |keys: Vec<u32>| {
            calls.fetch_add(1, Ordering::SeqCst);
            async move {
                tokio::time::sleep(Duration::from_millis(100)).await;
                Ok(keys.into_iter().map(|k| (k, k * 10)).collect())
            }
        };
        let reads = (0..20u32).map(|i| group.read(vec![i, 100 + i], fetch));
        let answers = futures::future::join_all(reads).await;
        for (i, answer) in (0..20u32).zip(answers) {
            let expected: BTreeMap<u32, u32> = [(i, i * 10), (100 + i, (100 + i) * 10)].into();
            assert_eq!(answer.unwrap(), expected, "each caller gets its own names");
        }
        // The first alone, the other 19 (38 names) in one batch.
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_failed_batch_fails_every_caller_in_it() {
        let group: GroupRead<u32, u32> = GroupRead::default();
        let error = CloudError::Transport {
            api: shepherd_core::cloud::Api::DescribeAlarms,
            message: "reset".to_owned(),
        };
        let read = group
            .read(vec![1], |_| async {
                Err::<BTreeMap<u32, u32>, _>(error.clone())
            })
            .await;
        assert_eq!(read, Err(error));
    }
}
