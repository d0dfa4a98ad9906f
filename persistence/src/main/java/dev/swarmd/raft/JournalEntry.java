package dev.swarmd.raft;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.persistence.PersistentRepr;
import org.apache.pekko.persistence.PersistentRepr$;
import org.apache.pekko.persistence.journal.Tagged;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.Serializer;
import org.apache.pekko.serialization.Serializers;
import scala.jdk.javaapi.CollectionConverters;

/**
 * One Raft log entry: the events of one journal write (one entity's persist), with the term of the
 * leader that wrote it. Events keep their own serialized form (the serializer the journal would use),
 * so that every manager stores the same bytes.
 */
public record JournalEntry(long term, String persistenceId, List<Event> events) {
  private static final int FORMAT = 1;

  /** One event: where it goes in its entity's history, and its payload as its serializer wrote it. */
  public record Event(long sequenceNr, String manifest, String writerUuid, long timestamp, Set<String> tags,
      int serializerId, String payloadManifest, byte[] payload) {}

  public JournalEntry {
    events = List.copyOf(events);
    if (events.isEmpty()) {
      throw new IllegalArgumentException("a journal entry holds at least one event");
    }
  }

  public long firstSequenceNr() {
    return events.get(0).sequenceNr();
  }

  public long lastSequenceNr() {
    return events.get(events.size() - 1).sequenceNr();
  }

  /** The entry for a write of reprs (all of one persistence ID, in order), by the leader of term. */
  public static JournalEntry of(long term, List<PersistentRepr> reprs, Serialization serialization) {
    List<Event> events = new ArrayList<>(reprs.size());
    for (PersistentRepr r : reprs) {
      Object payload = r.payload();
      Set<String> tags = Set.of();
      if (payload instanceof Tagged t) {
        payload = t.payload();
        tags = Set.copyOf(CollectionConverters.asJava(t.tags()));
      }
      Serializer s = serialization.findSerializerFor(payload);
      events.add(new Event(r.sequenceNr(), r.manifest(), r.writerUuid(), r.timestamp(), tags, s.identifier(),
          Serializers.manifestFor(s, payload), s.toBinary(payload)));
    }
    return new JournalEntry(term, reprs.get(0).persistenceId(), events);
  }

  /** The events as the journal takes them, payloads read back with the serializers that wrote them. */
  public List<PersistentRepr> reprs(Serialization serialization) {
    List<PersistentRepr> out = new ArrayList<>(events.size());
    for (Event e : events) {
      Object payload = serialization.deserialize(e.payload(), e.serializerId(), e.payloadManifest()).get();
      Object stored = e.tags().isEmpty() ? payload : new Tagged(payload, e.tags());
      out.add(PersistentRepr$.MODULE$.apply(stored, e.sequenceNr(), persistenceId, e.manifest(), false,
          ActorRef.noSender(), e.writerUuid()).withTimestamp(e.timestamp()));
    }
    return out;
  }

  public byte[] toBytes() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeInt(FORMAT);
      out.writeLong(term);
      out.writeUTF(persistenceId);
      out.writeInt(events.size());
      for (Event e : events) {
        out.writeLong(e.sequenceNr());
        out.writeUTF(e.manifest());
        out.writeUTF(e.writerUuid());
        out.writeLong(e.timestamp());
        out.writeInt(e.tags().size());
        for (String t : new TreeSet<>(e.tags())) {
          out.writeUTF(t);
        }
        out.writeInt(e.serializerId());
        out.writeUTF(e.payloadManifest());
        out.writeInt(e.payload().length);
        out.write(e.payload());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  public static JournalEntry fromBytes(byte[] data) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(data))) {
      int format = in.readInt();
      if (format != FORMAT) {
        throw new IllegalArgumentException("unknown journal entry format " + format);
      }
      long term = in.readLong();
      String pid = in.readUTF();
      int n = in.readInt();
      List<Event> events = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        long seq = in.readLong();
        String manifest = in.readUTF();
        String writer = in.readUTF();
        long ts = in.readLong();
        int tagCount = in.readInt();
        Set<String> tags = new TreeSet<>();
        for (int t = 0; t < tagCount; t++) {
          tags.add(in.readUTF());
        }
        int serializerId = in.readInt();
        String payloadManifest = in.readUTF();
        byte[] payload = new byte[in.readInt()];
        in.readFully(payload);
        events.add(new Event(seq, manifest, writer, ts, Set.copyOf(tags), serializerId, payloadManifest, payload));
      }
      return new JournalEntry(term, pid, events);
    } catch (IOException e) {
      throw new IllegalArgumentException("corrupt journal entry: " + e.getMessage(), e);
    }
  }
}
