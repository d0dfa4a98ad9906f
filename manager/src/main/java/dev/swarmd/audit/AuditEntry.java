package dev.swarmd.audit;

import dev.swarmd.protocol.Cause;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * One change to the swarm as the audit trail and Docker's events tell it: when (the event's time and
 * Version.Index), who or what asked (cause), and what changed, as Docker's event type ("service",
 * "node", "container" for a task's container, "swarm"), action ("create", "update", "remove", "start",
 * "die", ...), the object's ID and Docker's attributes ("name", "replicas.old", "replicas.new", ...).
 * persistenceId and sequenceNr say where in the journal it comes from.
 */
public record AuditEntry(long index, Instant at, Cause cause, String type, String action, String id,
    SortedMap<String, String> attributes, String persistenceId, long sequenceNr) {

  public AuditEntry {
    Objects.requireNonNull(at, "at");
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(action, "action");
    Objects.requireNonNull(id, "id");
    attributes = attributes == null ? new TreeMap<>() : new TreeMap<>(attributes);
  }

  public static SortedMap<String, String> attributes(Map<String, String> m) {
    return new TreeMap<>(m);
  }
}
