package dev.swarmd.audit;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Docker's /events filters over audit entries: the values of one key are alternatives, the keys
 * must all match. service, node and container match an ID or name by prefix, as Docker's fuzzy
 * match; type, event (alias action) and scope match exactly.
 */
public final class Filter implements Predicate<AuditEntry> {
  public static final Filter ALL = new Filter(Map.of());

  private static final Set<String> KEYS = Set.of("type", "service", "node", "event", "action", "scope", "container");
  /** Every entry is about the swarm: none is of a single engine ("local"). */
  private static final String SCOPE = "swarm";

  private final Map<String, Set<String>> values;

  private Filter(Map<String, Set<String>> values) {
    this.values = values;
  }

  /** Throws IllegalArgumentException, with Docker's message, for a key Docker's events do not know. */
  public static Filter of(Map<String, List<String>> filters) {
    Map<String, Set<String>> values = new HashMap<>();
    filters.forEach((key, vs) -> {
      if (!KEYS.contains(key)) {
        throw new IllegalArgumentException("invalid filter '" + key + "'");
      }
      if (!vs.isEmpty()) {
        values.computeIfAbsent(key.equals("action") ? "event" : key, k -> new HashSet<>()).addAll(vs);
      }
    });
    return new Filter(Map.copyOf(values));
  }

  @Override
  public boolean test(AuditEntry e) {
    return matches("type", v -> v.equals(e.type()))
        && matches("event", v -> v.equals(e.action()))
        && matches("scope", SCOPE::equals)
        && matches("service", v -> aboutService(e, v))
        && matches("node", v -> aboutNode(e, v))
        && matches("container", v -> aboutContainer(e, v));
  }

  /** True when the key is not filtered on, or one of its values matches. */
  private boolean matches(String key, Predicate<String> value) {
    Set<String> vs = values.get(key);
    return vs == null || vs.stream().anyMatch(value);
  }

  private static boolean aboutService(AuditEntry e, String ref) {
    return switch (e.type()) {
      case "service" -> idOrName(e.id(), e.attributes().get("name"), ref);
      case "container", "task" -> idOrName(e.attributes().get(AuditTrail.SERVICE_ID),
          e.attributes().get(AuditTrail.SERVICE_NAME), ref);
      default -> false;
    };
  }

  private static boolean aboutNode(AuditEntry e, String ref) {
    return switch (e.type()) {
      case "node" -> idOrName(e.id(), e.attributes().get("name"), ref);
      case "container", "task" -> prefixed(e.attributes().get(AuditTrail.NODE_ID), ref);
      default -> false;
    };
  }

  private static boolean aboutContainer(AuditEntry e, String ref) {
    return e.type().equals("container") && idOrName(e.id(), e.attributes().get("name"), ref);
  }

  private static boolean idOrName(String id, String name, String ref) {
    return prefixed(id, ref) || prefixed(name, ref);
  }

  private static boolean prefixed(String value, String ref) {
    return value != null && value.startsWith(ref);
  }
}
