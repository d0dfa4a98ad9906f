package dev.swarmd.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.swarmd.audit.AuditEntry;
import dev.swarmd.audit.AuditJson;
import dev.swarmd.audit.AuditTrail;
import dev.swarmd.audit.Filter;
import dev.swarmd.persistence.Journal;
import dev.swarmd.swarm.SwarmRuntime;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * Docker's /events, told from the journal: the whole history is folded (an update's old values are
 * in the states before it), those at or after `since` are sent, then new ones live until `until` or
 * until the client goes. Without `since`, only new events, as dockerd does. A worker keeps no
 * journal: it sends nothing.
 */
final class EventsEndpoint {
  private static final Pattern TIMESTAMP = Pattern.compile("\\d+(\\.\\d{1,9})?");
  /** Keys the audit trail's filter takes. */
  private static final Set<String> AUDIT_KEYS = Set.of("type", "service", "node", "event", "action", "scope",
      "container");
  /** Keys of object types the swarm never reports: with one of them, nothing matches. */
  private static final Set<String> OTHER_TYPES = Set.of("network", "volume", "daemon", "config", "secret", "plugin");
  private static final Set<String> FILTERS = Stream.of(AUDIT_KEYS, OTHER_TYPES, Set.of("label", "image"))
      .flatMap(Set::stream).collect(Collectors.toSet());

  private EventsEndpoint() {}

  static Reply events(NodeControl node, Call c) {
    return stream(node, c, false, a -> Json.write(message(a)));
  }

  /**
   * swarmd's own /swarmd/audit, which `swarmd audit --follow` reads: the audit entries, causes and
   * all, one JSON object a line as `swarmd audit --json` prints them, with the same parameters as
   * /events; without `since`, from the beginning of the journal.
   */
  static Reply audit(NodeControl node, Call c) {
    return stream(node, c, true, AuditJson::write);
  }

  /** wholeHistory: the audit's stream, from the journal's start, with task entries; else Docker's events. */
  private static Reply stream(NodeControl node, Call c, boolean wholeHistory, Function<AuditEntry, String> line) {
    Instant now = Instant.now();
    Instant since = timestamp(c, "since");
    Instant until = timestamp(c, "until");
    if (since != null && until != null && since.isAfter(until)) {
      throw ApiException.badRequest("`since` time (" + c.param("since") + ") cannot be after `until` time ("
          + c.param("until") + ")");
    }
    Predicate<AuditEntry> filter = filter(c);
    boolean live = until == null || until.isAfter(now);
    Optional<SwarmRuntime> rt = node.runtime().filter(r -> node.isManager());
    Source<ByteString, ?> out;
    if (rt.isEmpty()) {
      out = Source.<ByteString>never();
    } else {
      Instant from = since != null ? since : wholeHistory ? Instant.EPOCH : now;
      AuditTrail trail = new AuditTrail(wholeHistory);
      out = Journal.events(rt.get().system(), live)
          .mapConcat(e -> trail.apply(e.persistenceId(), e.sequenceNr(), e.event()))
          .filter(a -> !a.at().isBefore(from))
          .takeWhile(a -> until == null || !a.at().isAfter(until))
          .filter(filter::test)
          .map(a -> ByteString.fromString(line.apply(a) + "\n"))
          // The read journal runs where the journal is, in the swarm's system, not the API server's.
          .preMaterialize(rt.get().system()).second();
    }
    if (live && until != null) {
      out = out.takeWithin(Duration.between(now, until));
    }
    return Reply.stream(out);
  }

  /** Docker's event message; a container's also carries the old top-level status, id and from. */
  static ObjectNode message(AuditEntry a) {
    ObjectNode m = Json.object();
    if (a.type().equals("container")) {
      m.put("status", a.action());
      m.put("id", a.id());
      String image = a.attributes().get("image");
      if (image != null) {
        m.put("from", image);
      }
    }
    m.put("Type", a.type());
    m.put("Action", a.action());
    ObjectNode actor = m.putObject("Actor");
    actor.put("ID", a.id());
    ObjectNode attrs = actor.putObject("Attributes");
    a.attributes().forEach(attrs::put);
    m.put("scope", "swarm");
    m.put("time", a.at().getEpochSecond());
    m.put("timeNano", a.at().getEpochSecond() * 1_000_000_000L + a.at().getNano());
    return m;
  }

  /** The CLI sends seconds since the epoch, with an optional fraction (it converts `10m` and RFC 3339 itself). */
  private static Instant timestamp(Call c, String key) {
    String v = c.param(key);
    if (v == null || v.isEmpty()) {
      return null;
    }
    if (!TIMESTAMP.matcher(v).matches()) {
      throw ApiException.badRequest("failed to parse value of " + key + ": \"" + v + "\" is not a timestamp");
    }
    BigDecimal seconds = new BigDecimal(v);
    return Instant.ofEpochSecond(seconds.longValue(),
        seconds.remainder(BigDecimal.ONE).movePointRight(9).longValue());
  }

  /** Docker's semantics: any value of one key, every key; label and image match the event's attributes. */
  private static Predicate<AuditEntry> filter(Call c) {
    Filters f = Filters.parse(c.param("filters"), FILTERS);
    if (OTHER_TYPES.stream().anyMatch(f::has)) {
      return a -> false;
    }
    Map<String, List<String>> m = new LinkedHashMap<>();
    for (String key : AUDIT_KEYS) {
      if (f.has(key)) {
        m.put(key, new ArrayList<>(f.get(key)));
      }
    }
    Filter audit;
    try {
      audit = Filter.of(m);
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest(e.getMessage());
    }
    return audit.and(a -> f.labels("label", a.attributes()))
        .and(a -> f.any("image", image -> image.equals(a.attributes().get("image"))));
  }
}
