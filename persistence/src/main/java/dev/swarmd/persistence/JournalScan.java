package dev.swarmd.persistence;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.persistence.PersistentRepr;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.fusesource.leveldbjni.JniDBFactory;
import org.iq80.leveldb.DB;
import org.iq80.leveldb.DBIterator;
import org.iq80.leveldb.Options;
import org.iq80.leveldb.ReadOptions;

/**
 * The whole history of a stopped journal (or a copy of a running one), oldest first, read straight from its
 * LevelDB files and decoded on every core, for the one-shot audit commands: the read journal's tag query
 * goes through an actor and a stream for every hundred events, and decodes on one thread.
 *
 * <p>It reads the layout of Pekko's LevelDB journal: 20-byte keys (the persistence ID's number, the sequence
 * number, a channel that is 0 for events, 4 zero bytes); the numbers of persistence IDs under keys (1, 0,
 * number); under (number, 0, 0) the highest sequence number written; each event twice, with the same
 * bytes (a serialized PersistentRepr): under its entity's persistence ID, which the entity recovers from,
 * and, in write order, under the tag's, "$$$" + tag, which the history is read from.
 */
public final class JournalScan {
  /** One event: its place in the whole history (as {@link Journal#offset}), its entity and its payload. */
  public record Event(long offset, String persistenceId, long sequenceNr, Object event) {}

  /**
   * What a checking scan found besides the events. written: the history's length as the journal counted
   * it; read: the events read; entityEvents: the events under the entities' own IDs (each should be in the
   * history once); copyDiffers: the first event of the history whose entity's copy is not the same (null
   * if none); damage: what LevelDB's checksums caught (null if nothing), after which the events read are
   * those it could still read.
   */
  public record Storage(long written, long read, long entityEvents, Event copyDiffers, String damage) {}

  private record Decoded(Event event, boolean copyDiffers) {}

  private record Raw(long offset, byte[] bytes) {}

  private static final int ID_KEYS = 1;
  private static final int BATCH = 512;
  private static final Future<List<Decoded>> END = CompletableFuture.completedFuture(List.of());

  private JournalScan() {}

  /**
   * Hands each event of the journal under dir to each, in write order, on the calling thread. The journal
   * must not be open elsewhere (LevelDB's lock): give it a copy of a running node's.
   */
  public static void forEach(ActorSystem<?> system, Path dir, Consumer<Event> each)
      throws IOException, InterruptedException {
    scan(system, dir, false, each);
  }

  /**
   * As {@link #forEach}, checking the storage too: every checksum of LevelDB's (where a plain read drops a
   * damaged write-ahead record without a word), each event's entity copy against the history's, the counts.
   */
  public static Storage check(ActorSystem<?> system, Path dir, Consumer<Event> each)
      throws IOException, InterruptedException {
    return scan(system, dir, true, each);
  }

  private static Storage scan(ActorSystem<?> system, Path dir, boolean check, Consumer<Event> each)
      throws IOException, InterruptedException {
    Serialization serialization = SerializationExtension.get(system.classicSystem());
    int threads = Runtime.getRuntime().availableProcessors();
    ExecutorService decoders = Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, "journal-decode");
      t.setDaemon(true);
      return t;
    });
    // Bounded: the reader waits for the printing rather than holding the whole history in memory.
    BlockingQueue<Future<List<Decoded>>> batches = new ArrayBlockingQueue<>(4 * threads);
    String damage = null;
    DB db;
    try {
      db = JniDBFactory.factory.open(dir.toFile(), new Options().createIfMissing(false).paranoidChecks(check));
    } catch (IOException | RuntimeException e) {
      if (!check) {
        throw new IOException("cannot open the journal under " + dir + ": " + e.getMessage(), e);
      }
      // Read what can still be read, so that the events before the damage are checked and counted.
      damage = e.getMessage();
      db = JniDBFactory.factory.open(dir.toFile(), new Options().createIfMissing(false));
    }
    try (DB opened = db) {
      ReadOptions reads = new ReadOptions().fillCache(false).verifyChecksums(check);
      Map<String, Integer> ids = ids(db, reads);
      Integer tag = ids.get("$$$" + Journal.ALL);
      Thread reader = new Thread(() -> read(opened, reads, tag, check ? ids : null, serialization, decoders, batches),
          "journal-read");
      reader.setDaemon(true);
      reader.start();
      long read = 0;
      Event differs = null;
      try {
        for (Future<List<Decoded>> batch = batches.take(); batch != END; batch = batches.take()) {
          for (Decoded d : batch.get()) {
            read++;
            if (d.copyDiffers() && differs == null) {
              differs = d.event();
            }
            each.accept(d.event());
          }
        }
      } catch (ExecutionException e) {
        if (!check) {
          throw new IOException("reading the journal under " + dir + ": " + e.getCause().getMessage(), e.getCause());
        }
        damage = damage != null ? damage : e.getCause().getMessage() + ", in the history";
      } finally {
        reader.interrupt();
        reader.join();
      }
      if (!check) {
        return new Storage(read, read, read, null, null);
      }
      long written = tag == null ? 0 : counter(opened, reads, tag);
      long entityEvents = -1;
      try {
        entityEvents = entityEvents(opened, reads, tag == null ? -1 : tag);
      } catch (RuntimeException e) {
        damage = damage != null ? damage : e.getMessage() + ", among the entities' own copies";
      }
      return new Storage(written, read, entityEvents, differs, damage);
    } catch (RuntimeException e) {
      // leveldbjni's DBException, where the damage is beyond reading around
      throw new IOException("reading the journal under " + dir + ": " + e.getMessage(), e);
    } finally {
      decoders.shutdownNow();
    }
  }

  /**
   * Reads the tag's raw events in batches, each decoded on the pool, queued in order; END last. A read that
   * fails queues the events read before it, then the failure.
   */
  private static void read(DB db, ReadOptions reads, Integer tag, Map<String, Integer> checkCopies,
      Serialization serialization, ExecutorService decoders, BlockingQueue<Future<List<Decoded>>> batches) {
    List<Raw> batch = new ArrayList<>(BATCH);
    try {
      try {
        if (tag != null) {
          try (DBIterator it = db.iterator(reads)) {
            it.seek(key(tag, 1));
            while (it.hasNext()) {
              Map.Entry<byte[], byte[]> e = it.next();
              ByteBuffer k = ByteBuffer.wrap(e.getKey());
              if (k.getInt() != tag) {
                break;
              }
              long seq = k.getLong();
              if (k.getInt() == 0) {
                batch.add(new Raw(seq, e.getValue()));
              }
              if (batch.size() == BATCH) {
                batches.put(decode(decoders, db, reads, checkCopies, serialization, batch));
                batch = new ArrayList<>(BATCH);
              }
            }
          }
        }
        if (!batch.isEmpty()) {
          batches.put(decode(decoders, db, reads, checkCopies, serialization, batch));
        }
      } catch (RuntimeException | IOException e) {
        if (!batch.isEmpty()) {
          batches.put(decode(decoders, db, reads, checkCopies, serialization, batch));
        }
        batches.put(CompletableFuture.failedFuture(e));
      }
      batches.put(END);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt(); // the consumer gave up
    }
  }

  private static Future<List<Decoded>> decode(ExecutorService decoders, DB db, ReadOptions reads,
      Map<String, Integer> checkCopies, Serialization serialization, List<Raw> raw) {
    return decoders.submit(() -> {
      List<Decoded> events = new ArrayList<>(raw.size());
      for (Raw r : raw) {
        PersistentRepr p = serialization.deserialize(r.bytes(), PersistentRepr.class).get();
        boolean differs = false;
        if (checkCopies != null) {
          Integer entity = checkCopies.get(p.persistenceId());
          try {
            differs = entity == null || !Arrays.equals(r.bytes(), db.get(key(entity, p.sequenceNr()), reads));
          } catch (RuntimeException damaged) {
            differs = true; // its block fails its checksum: not the same either
          }
        }
        events.add(new Decoded(new Event(r.offset(), p.persistenceId(), p.sequenceNr(), p.payload()), differs));
      }
      return events;
    });
  }

  /** Persistence ID to its number in the keys. */
  private static Map<String, Integer> ids(DB db, ReadOptions reads) throws IOException {
    Map<String, Integer> ids = new HashMap<>();
    try (DBIterator it = db.iterator(reads)) {
      it.seek(key(ID_KEYS, 0));
      while (it.hasNext()) {
        Map.Entry<byte[], byte[]> e = it.next();
        ByteBuffer k = ByteBuffer.wrap(e.getKey());
        if (k.getInt() != ID_KEYS || k.getLong() != 0) {
          break;
        }
        ids.put(new String(e.getValue(), StandardCharsets.UTF_8), k.getInt());
      }
    }
    return ids;
  }

  /** The highest sequence number written under the ID (0: none). */
  private static long counter(DB db, ReadOptions reads, int id) {
    byte[] v = db.get(key(id, 0), reads);
    return v == null ? 0 : ByteBuffer.wrap(v).getLong();
  }

  /** Every event under an entity's own ID: neither the ID numbers, nor the tag's, nor a counter. */
  private static long entityEvents(DB db, ReadOptions reads, int tag) throws IOException {
    long n = 0;
    try (DBIterator it = db.iterator(reads)) {
      it.seekToFirst();
      while (it.hasNext()) {
        ByteBuffer k = ByteBuffer.wrap(it.next().getKey());
        int id = k.getInt();
        long seq = k.getLong();
        if (id != ID_KEYS && id != tag && seq > 0 && k.getInt() == 0) {
          n++;
        }
      }
    }
    return n;
  }

  private static byte[] key(int id, long sequenceNr) {
    return ByteBuffer.allocate(20).putInt(id).putLong(sequenceNr).putInt(0).array();
  }
}
