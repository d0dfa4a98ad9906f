package dev.swarmd.audit;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.swarmd.protocol.Cause;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
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

  /** Written field by field rather than through a tree: a replay writes a million of these. */
  public static String write(AuditEntry a) {
    StringWriter out = new StringWriter(384);
    try (JsonGenerator g = JSON.getFactory().createGenerator(out)) {
      g.writeStartObject();
      g.writeStringField("time", a.at().toString());
      g.writeNumberField("index", a.index());
      g.writeStringField("type", a.type());
      g.writeStringField("action", a.action());
      g.writeStringField("id", a.id());
      g.writeObjectFieldStart("attributes");
      for (Map.Entry<String, String> e : a.attributes().entrySet()) {
        g.writeStringField(e.getKey(), e.getValue());
      }
      g.writeEndObject();
      if (a.cause() != null) {
        g.writeObjectFieldStart("cause");
        g.writeStringField("actor", a.cause().actor());
        g.writeStringField("reason", a.cause().reason());
        g.writeEndObject();
      }
      g.writeStringField("persistenceId", a.persistenceId());
      g.writeNumberField("sequenceNr", a.sequenceNr());
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString();
  }

  /** The entry of one line written by {@link #write}; IllegalArgumentException if it is not one. */
  public static AuditEntry read(String line) {
    JsonNode o;
    try {
      o = JSON.readTree(line);
    } catch (IOException e) {
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
