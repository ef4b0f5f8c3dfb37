//! A secret store for unit tests, built to order: what a read answers, what a list answers,
//! and whether answers wait until the test opens a gate; it counts reads (by name) and lists.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::future::LocalBoxFuture;
use tokio::sync::watch;

use super::catalog::{ListError, SecretItem};
use super::{Secret, SecretName, SecretStore, SecretVersion, StoreError};

type Read = Box<dyn Fn(&SecretName) -> Result<Secret, StoreError> + Send + Sync>;
type List = Box<dyn Fn() -> Result<Vec<SecretItem>, ListError> + Send + Sync>;

pub struct FakeStore {
    kind: &'static str,
    read: Read,
    list: Option<List>,
    gate: Option<watch::Receiver<bool>>,
    reads: Mutex<Vec<String>>,
    lists: AtomicUsize,
}

impl FakeStore {
    /// A store called `kind` that finds nothing and cannot list.
    pub fn new(kind: &'static str) -> FakeStore {
        FakeStore {
            kind,
            read: Box::new(|_| Err(StoreError::NotFound)),
            list: None,
            gate: None,
            reads: Mutex::new(Vec::new()),
            lists: AtomicUsize::new(0),
        }
    }

    /// Each read answers `read(name)`.
    pub fn reading(mut self, read: impl Fn(&SecretName) -> Result<Secret, StoreError> + Send + Sync + 'static) -> Self {
        self.read = Box::new(read);
        self
    }

    /// Reads answer `answers`, one each, in order.
    pub fn scripted(self, answers: Vec<Result<Secret, StoreError>>) -> Self {
        let script = Mutex::new(answers);
        self.reading(move |_| script.lock().unwrap().remove(0))
    }

    /// Each list answers `list()`.
    pub fn listing(mut self, list: impl Fn() -> Result<Vec<SecretItem>, ListError> + Send + Sync + 'static) -> Self {
        self.list = Some(Box::new(list));
        self
    }

    /// Every answer waits until the returned sender sends `true`.
    pub fn gated(mut self) -> (watch::Sender<bool>, Self) {
        let (open, gate) = watch::channel(false);
        self.gate = Some(gate);
        (open, self)
    }

    /// The store, shared (as the cache and the catalog take it).
    pub fn shared(self) -> Arc<FakeStore> {
        Arc::new(self)
    }

    /// Reads so far, of any name.
    pub fn reads(&self) -> usize {
        self.reads.lock().unwrap().len()
    }

    /// Reads so far of `name`.
    pub fn reads_of(&self, name: &str) -> usize {
        self.reads.lock().unwrap().iter().filter(|read| *read == name).count()
    }

    /// Lists so far.
    pub fn lists(&self) -> usize {
        self.lists.load(Ordering::SeqCst)
    }

    fn after_gate<T: 'static>(&self, answer: T) -> LocalBoxFuture<'static, T> {
        let gate = self.gate.clone();
        Box::pin(async move {
            if let Some(mut gate) = gate {
                let _ = gate.wait_for(|open| *open).await;
            }
            answer
        })
    }
}

impl SecretStore for FakeStore {
    fn get<'a>(
        &'a self,
        name: &'a SecretName,
        _: Option<&'a SecretVersion>,
    ) -> LocalBoxFuture<'a, Result<Arc<Secret>, StoreError>> {
        self.reads.lock().unwrap().push(name.as_str().to_owned());
        self.after_gate((self.read)(name).map(Arc::new))
    }

    fn list(&self) -> LocalBoxFuture<'_, Result<Vec<SecretItem>, ListError>> {
        self.lists.fetch_add(1, Ordering::SeqCst);
        let answer = self.list.as_ref().map_or(Err(ListError::Unsupported(self.kind)), |list| list());
        self.after_gate(answer)
    }

    fn probe(&self) -> LocalBoxFuture<'_, Result<(), StoreError>> {
        Box::pin(std::future::ready(Ok(())))
    }

    fn kind(&self) -> &'static str {
        self.kind
    }
}
