/**
 * The dataset kept in this browser for the run (IndexedDB: unlike Cache Storage, it exists on
 * plain http beyond loopback, where a phone on the local network opens the link). One record,
 * keyed by the dataset fingerprint, holding the gzipped stream as downloaded; storing a new one
 * removes the others, so a browser keeps one copy (11.5 MB) at most. Every failure of the store
 * (a private window, a full disk) only means the next visit downloads again.
 */
const DB = 'mnist-lr';
const STORE = 'datasets';

export interface CachedDataset {
  fingerprint: string;
  /** The gzipped stream. */
  gzip: ArrayBuffer;
  /** Bytes of the stream once inflated. */
  bytes: number;
}

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: 'fingerprint' });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('IndexedDB refused'));
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
  });
}

/** The dataset of `fingerprint` kept here, or null. */
export async function cachedDataset(fingerprint: string): Promise<CachedDataset | null> {
  try {
    const db = await open();
    try {
      const request = db.transaction(STORE, 'readonly').objectStore(STORE).get(fingerprint);
      return await new Promise((resolve) => {
        request.onsuccess = () => resolve((request.result as CachedDataset | undefined) ?? null);
        request.onerror = () => resolve(null);
      });
    } finally {
      db.close();
    }
  } catch {
    return null;
  }
}

/** Keeps `dataset` (its fingerprint checked by the caller), in place of any other. */
export async function keepDataset(dataset: CachedDataset): Promise<void> {
  try {
    const db = await open();
    try {
      const tx = db.transaction(STORE, 'readwrite');
      const store = tx.objectStore(STORE);
      store.clear();
      store.put(dataset);
      await done(tx);
    } finally {
      db.close();
    }
  } catch {
    // Not kept: the next visit downloads it again.
  }
}

/** Forgets `fingerprint`'s dataset (it did not hash to its fingerprint). */
export async function forgetDataset(fingerprint: string): Promise<void> {
  try {
    const db = await open();
    try {
      const tx = db.transaction(STORE, 'readwrite');
      tx.objectStore(STORE).delete(fingerprint);
      await done(tx);
    } finally {
      db.close();
    }
  } catch {
    // Nothing to forget.
  }
}
