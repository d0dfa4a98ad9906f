package dev.swarmd.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.swarmd.protocol.Cause;
import java.util.List;
import java.util.Map;

/** One API request, with the version prefix taken off the path. */
record Call(String method, List<String> path, Map<String, String> query, byte[] body, String client,
    String userAgent) {

  String segment(int i) {
    return path.size() > i ? path.get(i) : null;
  }

  String param(String key) {
    return query.get(key);
  }

  /** Docker's boolean query values: 1/true/True, or present with no value. */
  boolean flag(String key) {
    String v = query.get(key);
    return v != null && (v.isEmpty() || v.equals("1") || v.equalsIgnoreCase("true"));
  }

  /** The ?version= of an update, worded as dockerd words a bad one. */
  long version(String objectKind) {
    String v = query.getOrDefault("version", "");
    try {
      long n = Long.parseLong(v);
      if (n >= 0) {
        return n;
      }
    } catch (NumberFormatException e) {
      // worded below
    }
    throw ApiException.badRequest("invalid " + objectKind + " version '" + v + "': strconv.ParseUint: parsing \""
        + v + "\": invalid syntax");
  }

  JsonNode json() {
    return Json.parse(body);
  }

  Cause cause() {
    return Cause.api(client + (userAgent == null ? "" : " (" + userAgent + ")"), method + " /" + String.join("/", path));
  }
}
