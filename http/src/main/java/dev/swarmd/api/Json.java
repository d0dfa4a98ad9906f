package dev.swarmd.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reading and writing Docker's JSON. Reading follows Go's encoding/json: keys match without regard
 * to case, unknown keys are ignored, and a value of the wrong type is an error naming the field.
 */
public final class Json {
  public static final ObjectMapper MAPPER = new ObjectMapper();

  private Json() {}

  public static ObjectNode object() {
    return MAPPER.createObjectNode();
  }

  public static ArrayNode array() {
    return MAPPER.createArrayNode();
  }

  public static JsonNode parse(byte[] body) {
    if (body.length == 0) {
      throw ApiException.badRequest("request body is empty");
    }
    try {
      return MAPPER.readTree(body);
    } catch (java.io.IOException e) {
      throw ApiException.badRequest("invalid JSON: " + firstLine(e.getMessage()));
    }
  }

  public static String write(JsonNode node) {
    try {
      return MAPPER.writeValueAsString(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Go's time.Time in JSON: RFC 3339 with nanoseconds. */
  public static String time(Instant t) {
    return t == null ? "0001-01-01T00:00:00Z" : t.toString();
  }

  /** The member named key, matched case-insensitively as Go does; null when absent or JSON null. */
  public static JsonNode get(JsonNode obj, String key) {
    if (obj == null || !obj.isObject()) {
      return null;
    }
    JsonNode exact = obj.get(key);
    if (exact != null) {
      return exact.isNull() ? null : exact;
    }
    var it = obj.fieldNames();
    while (it.hasNext()) {
      String f = it.next();
      if (f.equalsIgnoreCase(key)) {
        JsonNode v = obj.get(f);
        return v.isNull() ? null : v;
      }
    }
    return null;
  }

  /** A typed reader over one JSON object, naming fields in errors as Go's decoder does. */
  public static final class Reader {
    private final JsonNode node;
    private final String path;

    public Reader(JsonNode node, String path) {
      if (node != null && !node.isObject()) {
        throw typeError(node, path, "object");
      }
      this.node = node;
      this.path = path;
    }

    public boolean present() {
      return node != null;
    }

    public JsonNode raw(String key) {
      return get(node, key);
    }

    public boolean has(String key) {
      return get(node, key) != null;
    }

    public Reader object(String key) {
      return new Reader(get(node, key), path + "." + key);
    }

    public String string(String key) {
      JsonNode v = get(node, key);
      if (v == null) {
        return null;
      }
      if (!v.isTextual()) {
        throw typeError(v, path + "." + key, "string");
      }
      return v.asText();
    }

    public Boolean bool(String key) {
      JsonNode v = get(node, key);
      if (v == null) {
        return null;
      }
      if (!v.isBoolean()) {
        throw typeError(v, path + "." + key, "bool");
      }
      return v.asBoolean();
    }

    /** An integer; unsigned rejects negatives as Go's uint64 does. */
    public Long integer(String key, boolean unsigned) {
      JsonNode v = get(node, key);
      if (v == null) {
        return null;
      }
      if (!v.isIntegralNumber() || !v.canConvertToLong() || (unsigned && v.asLong() < 0)) {
        throw typeError(v, path + "." + key, unsigned ? "uint64" : "int64");
      }
      return v.asLong();
    }

    public Double number(String key) {
      JsonNode v = get(node, key);
      if (v == null) {
        return null;
      }
      if (!v.isNumber()) {
        throw typeError(v, path + "." + key, "float32");
      }
      return v.asDouble();
    }

    public List<String> strings(String key) {
      JsonNode v = get(node, key);
      if (v == null) {
        return null;
      }
      if (!v.isArray()) {
        throw typeError(v, path + "." + key, "[]string");
      }
      List<String> out = new ArrayList<>();
      for (JsonNode e : v) {
        if (!e.isTextual()) {
          throw typeError(e, path + "." + key, "string");
        }
        out.add(e.asText());
      }
      return out;
    }

    public Map<String, String> stringMap(String key) {
      JsonNode v = get(node, key);
      if (v == null) {
        return null;
      }
      if (!v.isObject()) {
        throw typeError(v, path + "." + key, "map[string]string");
      }
      Map<String, String> out = new LinkedHashMap<>();
      var fields = v.fields();
      while (fields.hasNext()) {
        var e = fields.next();
        if (!e.getValue().isTextual()) {
          throw typeError(e.getValue(), path + "." + key, "string");
        }
        out.put(e.getKey(), e.getValue().asText());
      }
      return out;
    }

    public List<Reader> objects(String key) {
      JsonNode v = get(node, key);
      if (v == null) {
        return List.of();
      }
      if (!v.isArray()) {
        throw typeError(v, path + "." + key, "array");
      }
      List<Reader> out = new ArrayList<>();
      for (JsonNode e : v) {
        out.add(new Reader(e, path + "." + key));
      }
      return out;
    }
  }

  private static ApiException typeError(JsonNode v, String path, String type) {
    String kind = v.isTextual() ? "string" : v.isBoolean() ? "bool" : v.isArray() ? "array"
        : v.isObject() ? "object" : "number " + v.asText();
    int dot = path.indexOf('.');
    if (dot < 0) {
      // The body itself is of the wrong type, as a JSON array sent for a spec: Go names no field then.
      return ApiException.badRequest("json: cannot unmarshal " + kind + " into Go value of type " + path);
    }
    return ApiException.badRequest("json: cannot unmarshal " + kind + " into Go struct field " + path.substring(0, dot)
        + "." + path.substring(dot + 1) + " of type " + type);
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
