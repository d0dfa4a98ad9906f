package dev.swarmd.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/** Docker's `filters` query parameter: a JSON map of value sets, with the keys each list accepts. */
final class Filters {
  private final Map<String, Set<String>> values;

  private Filters(Map<String, Set<String>> values) {
    this.values = values;
  }

  static Filters parse(String raw, Set<String> accepted) {
    Map<String, Set<String>> values = new HashMap<>();
    if (raw == null || raw.isEmpty()) {
      return new Filters(values);
    }
    JsonNode root;
    try {
      root = Json.MAPPER.readTree(raw);
    } catch (java.io.IOException e) {
      throw ApiException.badRequest("invalid filter: " + raw);
    }
    if (root == null || !root.isObject()) {
      throw ApiException.badRequest("invalid filter: " + raw);
    }
    var fields = root.fields();
    while (fields.hasNext()) {
      var f = fields.next();
      if (!accepted.contains(f.getKey())) {
        throw ApiException.badRequest("Invalid filter '" + f.getKey() + "'");
      }
      Set<String> set = new LinkedHashSet<>();
      JsonNode v = f.getValue();
      if (v.isObject()) {
        v.fieldNames().forEachRemaining(set::add);
      } else if (v.isArray()) {
        // The pre-1.22 form: {"key":["value"]}.
        v.forEach(e -> set.add(e.asText()));
      } else {
        throw ApiException.badRequest("invalid filter: " + raw);
      }
      values.put(f.getKey(), set);
    }
    return new Filters(values);
  }

  boolean has(String key) {
    return values.containsKey(key);
  }

  Set<String> get(String key) {
    return values.getOrDefault(key, Set.of());
  }

  /** True when the key is absent, or when any of its values passes the test. */
  boolean any(String key, Predicate<String> test) {
    Set<String> v = values.get(key);
    return v == null || v.stream().anyMatch(test);
  }

  /** Docker's label filter: every "k" or "k=v" given must match. */
  boolean labels(String key, Map<String, String> labels) {
    Set<String> v = values.get(key);
    if (v == null) {
      return true;
    }
    Map<String, String> l = labels == null ? Map.of() : labels;
    return v.stream().allMatch(expr -> {
      int eq = expr.indexOf('=');
      return eq < 0 ? l.containsKey(expr) : expr.substring(eq + 1).equals(l.get(expr.substring(0, eq)));
    });
  }
}
