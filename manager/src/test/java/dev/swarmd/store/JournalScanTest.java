package dev.swarmd.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.typesafe.config.ConfigFactory;
import dev.swarmd.persistence.Journal;
import dev.swarmd.persistence.JournalScan;
import dev.swarmd.protocol.Cause;
import dev.swarmd.service.ServiceEntity;
import dev.swarmd.testsupport.Fixtures;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.fusesource.leveldbjni.JniDBFactory;
import org.iq80.leveldb.DB;
import org.iq80.leveldb.DBIterator;
import org.iq80.leveldb.Options;
import org.junit.jupiter.api.Test;

/** The direct scan of the LevelDB files gives what the read journal's tag query gives, in the same order. */
class JournalScanTest {
  private static final Cause CAUSE = Cause.api("127.0.0.1", "POST /services/create");

  @Test
  void theScanReadsTheTagStreamAsTheReadJournalDoes() throws Exception {
    Path root = Files.createTempDirectory("journal-scan");
    ActorSystem<Void> writer = system(root);
    List<JournalScan.Event> expected = new ArrayList<>();
    try {
      VersionClock clock = new VersionClock();
      // More services than a decode batch holds events, interleaved, so that batches and order both matter.
      List<ActorRef<ServiceEntity.Command>> services = new ArrayList<>();
      long[] versions = new long[40];
      for (int i = 0; i < 40; i++) {
        services.add(writer.systemActorOf(ServiceEntity.create("s" + i, clock), "s" + i, Props.empty()));
      }
      for (int round = 0; round < 30; round++) {
        for (int i = 0; i < services.size(); i++) {
          int n = i;
          int r = round;
          ServiceEntity.Reply reply = AskPattern.<ServiceEntity.Command, ServiceEntity.Reply>ask(services.get(i),
              to -> r == 0
                  ? new ServiceEntity.Create(Fixtures.replicated("svc" + n, 1), List.of(), null, CAUSE, to)
                  : new ServiceEntity.Update(Fixtures.replicated("svc" + n, r + 1), List.of(), null, versions[n], CAUSE,
                      to),
              Duration.ofSeconds(10), writer.scheduler()).toCompletableFuture().get(10, TimeUnit.SECONDS);
          assertEquals(null, reply.failure());
          versions[i] = reply.state().version();
        }
      }
      Journal.history(writer).toCompletableFuture().get(60, TimeUnit.SECONDS).forEach(e -> expected.add(
          new JournalScan.Event(Journal.offset(e), e.persistenceId(), e.sequenceNr(), e.event())));
    } finally {
      writer.terminate();
      writer.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
    assertEquals(1200, expected.size());

    ActorSystem<Void> reader = system(Files.createTempDirectory("journal-scan-reader"));
    try {
      List<JournalScan.Event> scanned = new ArrayList<>();
      JournalScan.forEach(reader, root.resolve("journal"), scanned::add);
      assertEquals(expected, scanned);

      List<JournalScan.Event> checked = new ArrayList<>();
      assertEquals(new JournalScan.Storage(1200, 1200, 1200, null, null),
          JournalScan.check(reader, root.resolve("journal"), checked::add));
      assertEquals(expected, checked);

      // An entity's own copy changed (what it would recover from), the history's left as it was.
      JournalScan.Event victim = expected.get(700);
      rewrite(root.resolve("journal"), db -> {
        byte[] key = entityKey(db, victim.persistenceId(), victim.sequenceNr());
        byte[] value = db.get(key);
        value[value.length - 1] ^= 1;
        db.put(key, value);
      });
      JournalScan.Storage altered = JournalScan.check(reader, root.resolve("journal"), e -> {});
      assertEquals(victim, altered.copyDiffers());
      assertNull(altered.damage());
    } finally {
      reader.terminate();
    }
  }

  /** Changes the LevelDB under dir directly, as someone with the files could. */
  private static void rewrite(Path dir, Consumer<DB> change) throws Exception {
    try (DB db = JniDBFactory.factory.open(dir.toFile(), new Options().createIfMissing(false))) {
      change.accept(db);
    }
  }

  /** The key of an entity's own copy of an event: its ID's number (from the ID keys), sequence number, 0. */
  private static byte[] entityKey(DB db, String persistenceId, long sequenceNr) {
    try (DBIterator it = db.iterator()) {
      it.seek(ByteBuffer.allocate(20).putInt(1).putLong(0).putInt(0).array());
      while (it.hasNext()) {
        Map.Entry<byte[], byte[]> e = it.next();
        ByteBuffer k = ByteBuffer.wrap(e.getKey());
        if (k.getInt() == 1 && k.getLong() == 0 && new String(e.getValue(), StandardCharsets.UTF_8).equals(persistenceId)) {
          return ByteBuffer.allocate(20).putInt(k.getInt()).putLong(sequenceNr).putInt(0).array();
        }
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    throw new AssertionError("no ID number for " + persistenceId);
  }

  private static ActorSystem<Void> system(Path root) {
    return ActorSystem.create(Behaviors.empty(), "scan", ConfigFactory.parseString("pekko.loglevel = WARNING\n"
        // Written straight to the local journal: what is scanned is its files, not the Raft log.
        + "pekko.persistence.journal.plugin = pekko.persistence.journal.leveldb")
        .withFallback(Journal.config(root)).withFallback(ConfigFactory.load()));
  }
}
