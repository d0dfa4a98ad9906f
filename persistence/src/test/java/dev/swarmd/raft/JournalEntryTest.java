package dev.swarmd.raft;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Set;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.persistence.PersistentRepr;
import org.apache.pekko.persistence.PersistentRepr$;
import org.apache.pekko.persistence.journal.Tagged;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import scala.jdk.javaapi.CollectionConverters;

/** A journal write, as a Raft log entry and back, byte for byte the same on every manager. */
class JournalEntryTest {
  static ActorSystem system;
  static Serialization serialization;

  @BeforeAll
  static void start() {
    system = ActorSystem.create("entry");
    serialization = SerializationExtension.get(system);
  }

  @AfterAll
  static void stop() {
    system.terminate();
  }

  private static PersistentRepr repr(Object payload, long seq) {
    return PersistentRepr$.MODULE$.apply(payload, seq, "Service|web", "", false, ActorRef.noSender(), "w-1")
        .withTimestamp(1700000000000L + seq);
  }

  @Test
  void aTaggedWriteComesBackAsTheJournalTookIt() {
    List<PersistentRepr> written = List.of(repr(new Tagged("created", Set.of("swarm")), 4), repr("updated", 5));

    JournalEntry entry = JournalEntry.fromBytes(JournalEntry.of(7, written, serialization).toBytes());
    List<PersistentRepr> read = entry.reprs(serialization);

    assertEquals(7, entry.term());
    assertEquals(4, entry.firstSequenceNr());
    assertEquals(5, entry.lastSequenceNr());
    Tagged tagged = assertInstanceOf(Tagged.class, read.get(0).payload());
    assertEquals("created", tagged.payload());
    assertEquals(Set.of("swarm"), CollectionConverters.asJava(tagged.tags()));
    assertEquals("updated", read.get(1).payload());
    assertEquals("Service|web", read.get(1).persistenceId());
    assertEquals("w-1", read.get(1).writerUuid());
    assertEquals(1700000000005L, read.get(1).timestamp());
  }

  @Test
  void theSameWriteGivesTheSameBytes() {
    List<PersistentRepr> written = List.of(repr(new Tagged("x", Set.of("b", "a")), 1));
    assertArrayEquals(JournalEntry.of(1, written, serialization).toBytes(),
        JournalEntry.of(1, written, serialization).toBytes());
  }

  @Test
  void anUnknownFormatIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> JournalEntry.fromBytes(new byte[] {0, 0, 0, 9}));
  }
}
