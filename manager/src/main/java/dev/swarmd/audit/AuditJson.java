package dev.swarmd.audit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.swarmd.protocol.Cause;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;

/**
 * An audit entry as one JSON object, the form of `swarmd audit --json` and of the daemon's
 * /swarmd/audit stream that `swarmd audit --follow` reads.
 */
public final class AuditJson {
  private static final ObjectMapper JSON = new ObjectMapper();

  private AuditJson() {}

  public static String write(AuditEntry a) {
    ObjectNode o = JSON.createObjectNode();
    o.put("time", a.at().toString());
    o.put("index", a.index());
    o.put("type", a.type());
    o.put("action", a.action());
    o.put("id", a.id());
    ObjectNode attrs = o.putObject("attributes");
    a.attributes().forEach(attrs::put);
    if (a.cause() != null) {
      ObjectNode cause = o.putObject("cause");
      cause.put("actor", a.cause().actor());
      cause.put("reason", a.cause().reason());
    }
    o.put("persistenceId", a.persistenceId());
    o.put("sequenceNr", a.sequenceNr());
    return o.toString();
  }

  /** The entry of one line written by {@link #write}; IllegalArgumentException if it is not one. */
  public static AuditEntry read(String line) {
    JsonNode o;
    try {
      o = JSON.readTree(line);
    } catch (java.io.IOException e) {
      throw new IllegalArgumentException("not an audit entry: " + e.getMessage(), e);
    }
    if (o == null || !o.isObject() || !o.path("time").isTextual() || !o.path("type").isTextual()
        || !o.path("action").isTextual() || !o.path("id").isTextual()) {
      throw new IllegalArgumentException("not an audit entry: " + line);
    }
    Map<String, String> attributes = new TreeMap<>();
    o.path("attributes").fields().forEachRemaining(e -> attributes.put(e.getKey(), e.getValue().asText()));
    JsonNode cause = o.path("cause");
    return new AuditEntry(o.path("index").asLong(), Instant.parse(o.path("time").asText()),
        cause.isObject() ? new Cause(cause.path("actor").asText(), cause.path("reason").asText()) : null,
        o.path("type").asText(), o.path("action").asText(), o.path("id").asText(), AuditEntry.attributes(attributes),
        o.path("persistenceId").asText(null), o.path("sequenceNr").asLong());
  }
}
